//! What every verb shares: the reduction, the gradient's destination, and
//! the options pointer that may be NULL.

use simdloss::{Grad, LossError, Reduction};

use crate::buffers::Reads;

use crate::status::{simdloss_error_detail, simdloss_status, Failure};

/// How per-element values are reduced: `SIMDLOSS_REDUCTION_MEAN` or
/// `SIMDLOSS_REDUCTION_SUM`. (PyTorch's `"none"` is the `*_per_element`
/// functions.)
#[allow(non_camel_case_types)]
pub type simdloss_reduction = u32;

/// The mean (PyTorch's default; for index-target cross-entropy the sum
/// divided by the summed class weights of the samples not ignored).
pub const SIMDLOSS_REDUCTION_MEAN: simdloss_reduction = 0;
/// The plain sum.
pub const SIMDLOSS_REDUCTION_SUM: simdloss_reduction = 1;

pub(crate) fn reduction(reduction: simdloss_reduction) -> Result<Reduction, Failure> {
    match reduction {
        SIMDLOSS_REDUCTION_MEAN => Ok(Reduction::Mean),
        SIMDLOSS_REDUCTION_SUM => Ok(Reduction::Sum),
        _ => Err(Failure::new(
            simdloss_status::SIMDLOSS_ERROR_INVALID_PARAMETER,
            cstr!("reduction"),
        )),
    }
}

/// Where a `*_value_and_grad` call writes the gradient: `data[i]` receives
/// `scale · ∂loss/∂input[i]` (the derivative of the reduced loss, `1/n`
/// included for a mean), overwriting `data` or added to it. `data` has as
/// many elements as `input` and must not overlap any input.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct simdloss_grad {
    /// The gradient buffer.
    pub data: *mut f32,
    /// Multiplies every derivative (the upstream gradient, or this loss's
    /// weight in a sum of losses); must be finite.
    pub scale: f32,
    /// `false`: `data[i] = …`; `true`: `data[i] += …`.
    pub accumulate: bool,
}

/// `{ data, 1.0f, false }`: the gradient overwrites `data`.
#[no_mangle]
pub extern "C" fn simdloss_grad_overwrite(data: *mut f32) -> simdloss_grad {
    simdloss_grad {
        data,
        scale: 1.0,
        accumulate: false,
    }
}

/// `{ data, 1.0f, true }`: the gradient is added to `data`.
#[no_mangle]
pub extern "C" fn simdloss_grad_accumulate(data: *mut f32) -> simdloss_grad {
    simdloss_grad {
        data,
        scale: 1.0,
        accumulate: true,
    }
}

/// The Rust `Grad` over `buf` with `grad`'s scale and mode.
pub(crate) fn rust_grad(grad: simdloss_grad, buf: &mut [f32]) -> Result<Grad<'_>, Failure> {
    if !grad.scale.is_finite() {
        return Err(Failure::new(
            simdloss_status::SIMDLOSS_ERROR_INVALID_PARAMETER,
            cstr!("grad.scale"),
        ));
    }
    let rust = if grad.accumulate {
        Grad::accumulate(buf)
    } else {
        Grad::overwrite(buf)
    };
    Ok(rust.scaled(grad.scale))
}

/// `*options`, or the defaults if `options` is NULL, handed to `f`.
///
/// # Safety
/// `options` is NULL or points to a valid `O`.
pub(crate) unsafe fn with_options<O: Default, R>(options: *const O, f: impl FnOnce(&O) -> R) -> R {
    if options.is_null() {
        f(&O::default())
    } else {
        // SAFETY: not NULL, and the caller promises it points to a valid `O`.
        f(unsafe { &*options })
    }
}

/// What a call computes and where it goes.
#[derive(Clone, Copy)]
pub(crate) enum Verb {
    /// The reduced loss, written to `*loss`.
    Value {
        reduction: simdloss_reduction,
        loss: *mut f32,
    },
    /// The reduced loss and its gradient.
    ValueAndGrad {
        reduction: simdloss_reduction,
        grad: simdloss_grad,
        loss: *mut f32,
    },
    /// The unreduced loss, `len` floats at `out`.
    PerElement { out: *mut f32, len: usize },
}

/// What the Rust verb gets.
pub(crate) enum RustVerb<'g> {
    Value(Reduction),
    ValueAndGrad(Reduction, Grad<'g>),
    PerElement(&'g mut [f32]),
}

/// The part of a call both families share once every buffer it reads is
/// in `reads`: checks the outputs `verb` names (`grad_len` gradient
/// elements), hands the Rust verb to `compute`, writes `*loss`.
///
/// # Errors
/// A bad reduction, scale or output pointer; `compute`'s error.
///
/// # Safety
/// `verb`'s pointers are NULL or valid for what the function's docs say.
pub(crate) unsafe fn run_verb(
    verb: Verb,
    reads: &mut Reads,
    grad_len: usize,
    compute: impl FnOnce(RustVerb<'_>) -> Result<f32, LossError>,
) -> Result<(), Failure> {
    let (value, out) = match verb {
        Verb::Value { reduction: r, loss } => {
            let r = reduction(r)?;
            reads.scalar_out(cstr!("loss"), loss)?;
            (compute(RustVerb::Value(r))?, loss)
        }
        Verb::ValueAndGrad {
            reduction: r,
            grad,
            loss,
        } => {
            let r = reduction(r)?;
            // SAFETY: the caller promises `grad_len` writable floats that
            // nothing else accesses during the call.
            let buf = unsafe { reads.write(cstr!("grad.data"), grad.data, grad_len) }?;
            reads.scalar_out(cstr!("loss"), loss)?;
            (
                compute(RustVerb::ValueAndGrad(r, rust_grad(grad, buf)?))?,
                loss,
            )
        }
        Verb::PerElement { out, len } => {
            // SAFETY: the caller promises `len` writable floats.
            let out = unsafe { reads.write(cstr!("out"), out, len) }?;
            compute(RustVerb::PerElement(out))?;
            return Ok(());
        }
    };
    // SAFETY: `scalar_out` passed (not NULL, aligned, apart from every
    // buffer); the caller promises one writable float.
    unsafe { out.write(value) };
    Ok(())
}

/// The status of a call's `result`, its detail written on failure.
///
/// # Safety
/// `detail` is NULL or valid for one write.
pub(crate) unsafe fn finish(
    result: Result<(), Failure>,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    match result {
        Ok(()) => simdloss_status::SIMDLOSS_OK,
        // SAFETY: the caller's promise.
        Err(failure) => unsafe { failure.report(detail) },
    }
}
