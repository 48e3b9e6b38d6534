//! The three verbs of every pointwise loss (`input[i]` against
//! `target[i]`, `n` of each), written once over an options type.

use simdloss::PointwiseLoss;

use crate::buffers::Reads;
use crate::call::{finish, run_verb, with_options, RustVerb, Verb};
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
    // SAFETY: `detail` is NULL or writable (the caller's promise).
    unsafe { finish(result, detail) }
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
        Some(isa) => loss.with_isa(isa)?,
        None => loss,
    };
    // SAFETY: the caller's promises for the outputs (`n` gradient elements).
    unsafe {
        run_verb(verb, &mut reads, n, |verb| match verb {
            RustVerb::Value(r) => loss.value(input, target, r),
            RustVerb::ValueAndGrad(r, grad) => loss.value_and_grad(input, target, r, grad),
            RustVerb::PerElement(out) => loss.per_element(input, target, out).map(|()| 0.0),
        })
    }
}
