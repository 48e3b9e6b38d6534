//! The three verbs of every pointwise loss (`input[i]` against
//! `target[i]`, `n` of each), written once over an options type.

use simdloss::{Isa, PointwiseLoss};

use crate::buffers::Reads;
use crate::call::{reduction, rust_grad, with_options, write_loss, Verb};
use crate::isa::{chosen, simdloss_isa};
use crate::status::{simdloss_error_detail, simdloss_status, Failure};

/// An options struct of a pointwise loss: how to build the Rust loss.
pub(crate) trait PointwiseOptions: Default {
    /// The Rust loss, borrowing the options' buffers.
    type Loss<'a>: PointwiseLoss;

    /// The loss, its optional buffers (`n` elements for a weight map)
    /// checked and recorded in `reads`.
    ///
    /// # Errors
    /// A parameter outside its domain, a bad buffer pointer.
    ///
    /// # Safety
    /// The options' pointers are NULL or point to what their docs say.
    unsafe fn build<'a>(&self, n: usize, reads: &mut Reads) -> Result<Self::Loss<'a>, Failure>;

    /// The `isa` field.
    fn isa(&self) -> simdloss_isa;
}

/// Runs `verb` of the loss `options` describes; the status, with the
/// detail written on failure.
///
/// # Safety
/// Every pointer is NULL or valid for what the function's docs say
/// (`input`, `target`, the output buffer: `n` elements; the options'
/// buffers: their documented lengths; `detail`: one write).
pub(crate) unsafe fn run<O: PointwiseOptions>(
    options: *const O,
    input: *const f32,
    target: *const f32,
    n: usize,
    verb: Verb,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    // SAFETY: the caller's promises, passed on.
    let result = unsafe { with_options(options, |o| run_checked(o, input, target, n, verb)) };
    match result {
        Ok(()) => simdloss_status::SIMDLOSS_OK,
        // SAFETY: `detail` is NULL or writable (the caller's promise).
        Err(failure) => unsafe { failure.report(detail) },
    }
}

/// [`run`] after the options pointer.
///
/// # Safety
/// As [`run`].
unsafe fn run_checked<O: PointwiseOptions>(
    options: &O,
    input: *const f32,
    target: *const f32,
    n: usize,
    verb: Verb,
) -> Result<(), Failure> {
    let isa = chosen(options.isa())?;
    let mut reads = Reads::new();
    // SAFETY: the caller promises `n` elements at `input`.
    let input = unsafe { reads.read(cstr!("input"), input, n) }?;
    // SAFETY: and at `target`.
    let target = unsafe { reads.read(cstr!("target"), target, n) }?;
    // SAFETY: the caller promises the options' buffers.
    let loss = unsafe { options.build(n, &mut reads) }?;
    let loss = match isa {
        Some(isa) => with_isa(loss, isa)?,
        None => loss,
    };
    match verb {
        Verb::Value {
            reduction: r,
            loss: out,
        } => {
            let r = reduction(r)?;
            reads.scalar_out(cstr!("loss"), out)?;
            let value = loss.value(input, target, r)?;
            // SAFETY: `scalar_out` passed; the caller promises one
            // writable `float`.
            unsafe { write_loss(out, value) };
        }
        Verb::ValueAndGrad {
            reduction: r,
            grad,
            loss: out,
        } => {
            let r = reduction(r)?;
            // SAFETY: the caller promises `n` writable elements that
            // nothing else accesses during the call.
            let buf = unsafe { reads.write(cstr!("grad.data"), grad.data, n) }?;
            reads.scalar_out(cstr!("loss"), out)?;
            let value = loss.value_and_grad(input, target, r, rust_grad(grad, buf)?)?;
            // SAFETY: as above.
            unsafe { write_loss(out, value) };
        }
        Verb::PerElement { out, len } => {
            // SAFETY: as for `grad.data` (`len` is `n` for a pointwise loss).
            let out = unsafe { reads.write(cstr!("out"), out, len) }?;
            loss.per_element(input, target, out)?;
        }
    }
    Ok(())
}

fn with_isa<L: PointwiseLoss>(loss: L, isa: Isa) -> Result<L, Failure> {
    Ok(loss.with_isa(isa)?)
}
