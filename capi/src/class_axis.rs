//! The shape and target of the losses over a class axis, and their three
//! verbs, written once over an options type.

use core::ffi::c_void;

use simdloss::{ClassAxisLoss, ClassShape, ClassTarget, LossError, Probabilities};

use crate::buffers::Reads;
use crate::call::{finish, run_verb, with_options, RustVerb, Verb};
use crate::isa::{chosen, simdloss_isa};
use crate::status::{simdloss_error_detail, simdloss_status, Failure};

/// The extents of `[N, C, S]` row-major logits: `n` samples (images), `c`
/// classes, `s` positions per sample (1 for a classifier's `[N, C]`, `H·W`
/// for an NCHW segmentation map). Each must be ≥ 1, and `n·c·s` must fit
/// `size_t`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct simdloss_shape {
    /// N, the batch.
    pub n: usize,
    /// C, the classes.
    pub c: usize,
    /// S, the positions per sample (H·W).
    pub s: usize,
}

/// The element type of a `simdloss_target`: one of the
/// `SIMDLOSS_TARGET_*` values.
#[allow(non_camel_case_types)]
pub type simdloss_target_kind = u32;

/// Class indices `[N, S]` as `uint8_t` (e.g. segmentation masks, 255 the
/// usual ignore index).
pub const SIMDLOSS_TARGET_U8: simdloss_target_kind = 1;
/// Class indices as `uint16_t`.
pub const SIMDLOSS_TARGET_U16: simdloss_target_kind = 2;
/// Class indices as `uint32_t`.
pub const SIMDLOSS_TARGET_U32: simdloss_target_kind = 3;
/// Class indices as `uint64_t`.
pub const SIMDLOSS_TARGET_U64: simdloss_target_kind = 4;
/// Class indices as `int32_t`.
pub const SIMDLOSS_TARGET_I32: simdloss_target_kind = 5;
/// Class indices as `int64_t` (PyTorch's; −100 the usual ignore index).
pub const SIMDLOSS_TARGET_I64: simdloss_target_kind = 6;
/// Class indices as `size_t`.
pub const SIMDLOSS_TARGET_SIZE: simdloss_target_kind = 7;
/// Class probabilities `[N, C, S]` as `float`, in the logits' layout
/// (soft labels; not validated).
pub const SIMDLOSS_TARGET_PROBABILITIES: simdloss_target_kind = 8;

/// The target of a class-axis loss: `len` elements of `kind` at `data`
/// (`N·S` labels, or `N·C·S` probabilities).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct simdloss_target {
    /// The element type: a `SIMDLOSS_TARGET_*` value.
    pub kind: simdloss_target_kind,
    /// The elements, aligned for their type.
    pub data: *const c_void,
    /// How many elements.
    pub len: usize,
}

/// A target as a Rust slice.
#[derive(Clone, Copy)]
enum Target<'a> {
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    Size(&'a [usize]),
    Probabilities(&'a [f32]),
}

impl<'a> Target<'a> {
    /// The target's elements, checked and recorded in `reads`.
    ///
    /// # Safety
    /// `target.data` is NULL or points to `target.len` elements of
    /// `target.kind`'s type.
    unsafe fn read(target: simdloss_target, reads: &mut Reads) -> Result<Self, Failure> {
        let (name, data, len) = (cstr!("target.data"), target.data, target.len);
        // SAFETY: every arm reads the type `kind` names, as the caller promises.
        unsafe {
            Ok(match target.kind {
                SIMDLOSS_TARGET_U8 => Target::U8(reads.read(name, data.cast(), len)?),
                SIMDLOSS_TARGET_U16 => Target::U16(reads.read(name, data.cast(), len)?),
                SIMDLOSS_TARGET_U32 => Target::U32(reads.read(name, data.cast(), len)?),
                SIMDLOSS_TARGET_U64 => Target::U64(reads.read(name, data.cast(), len)?),
                SIMDLOSS_TARGET_I32 => Target::I32(reads.read(name, data.cast(), len)?),
                SIMDLOSS_TARGET_I64 => Target::I64(reads.read(name, data.cast(), len)?),
                SIMDLOSS_TARGET_SIZE => Target::Size(reads.read(name, data.cast(), len)?),
                SIMDLOSS_TARGET_PROBABILITIES => {
                    Target::Probabilities(reads.read(name, data.cast(), len)?)
                }
                _ => {
                    return Err(Failure::new(
                        simdloss_status::SIMDLOSS_ERROR_INVALID_PARAMETER,
                        cstr!("target.kind"),
                    ));
                }
            })
        }
    }
}

/// An options struct of a class-axis loss: how to build the Rust loss.
pub(crate) trait ClassOptions: Default {
    /// The Rust loss, borrowing the options' buffers.
    type Loss<'a>: ClassAxisLoss;

    /// The loss, its optional buffers checked and recorded in `reads`.
    ///
    /// # Errors
    /// A parameter outside its domain, a bad buffer pointer.
    ///
    /// # Safety
    /// The options' pointers are NULL or point to what their docs say.
    unsafe fn build<'a>(&self, reads: &mut Reads) -> Result<Self::Loss<'a>, Failure>;

    /// The `isa` field.
    fn isa(&self) -> simdloss_isa;
}

/// Runs `verb` of the loss `options` describes; the status, with the
/// detail written on failure.
///
/// # Safety
/// Every pointer is NULL or valid for what the function's docs say
/// (`input`, `grad.data`: `n·c·s` floats; `target.data`: `target.len`
/// elements of its kind; `out`: `len` floats; the options' buffers: their
/// documented lengths; `detail`: one write).
pub(crate) unsafe fn run<O: ClassOptions>(
    options: *const O,
    input: *const f32,
    shape: simdloss_shape,
    target: simdloss_target,
    verb: Verb,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    // SAFETY: the caller's promises, passed on.
    let result = unsafe { with_options(options, |o| run_checked(o, input, shape, target, verb)) };
    // SAFETY: `detail` is NULL or writable (the caller's promise).
    unsafe { finish(result, detail) }
}

/// [`run`] after the options pointer.
///
/// # Safety
/// As [`run`].
unsafe fn run_checked<O: ClassOptions>(
    options: &O,
    input: *const f32,
    shape: simdloss_shape,
    target: simdloss_target,
    verb: Verb,
) -> Result<(), Failure> {
    let isa = chosen(options.isa())?;
    let shape = ClassShape::new(shape.n, shape.c, shape.s)?;
    let mut reads = Reads::new();
    // SAFETY: the caller promises `n·c·s` floats.
    let input = unsafe { reads.read(cstr!("input"), input, shape.len()) }?;
    // SAFETY: the caller's promise for the target.
    let target = unsafe { Target::read(target, &mut reads) }?;
    // SAFETY: the caller promises the options' buffers.
    let loss = unsafe { options.build(&mut reads) }?;
    let loss = match isa {
        Some(isa) => loss.with_isa(isa)?,
        None => loss,
    };
    // SAFETY: the caller's promises for the outputs (`n·c·s` gradient
    // elements).
    unsafe {
        run_verb(verb, &mut reads, shape.len(), |verb| {
            dispatch(&loss, input, shape, target, verb)
        })
    }
}

/// The Rust verb with the target's type.
fn dispatch<L: ClassAxisLoss>(
    loss: &L,
    input: &[f32],
    shape: ClassShape,
    target: Target<'_>,
    verb: RustVerb<'_>,
) -> Result<f32, LossError> {
    match target {
        Target::U8(t) => call(loss, input, shape, t, verb),
        Target::U16(t) => call(loss, input, shape, t, verb),
        Target::U32(t) => call(loss, input, shape, t, verb),
        Target::U64(t) => call(loss, input, shape, t, verb),
        Target::I32(t) => call(loss, input, shape, t, verb),
        Target::I64(t) => call(loss, input, shape, t, verb),
        Target::Size(t) => call(loss, input, shape, t, verb),
        Target::Probabilities(t) => call(loss, input, shape, Probabilities(t), verb),
    }
}

fn call<'t, L: ClassAxisLoss>(
    loss: &L,
    input: &[f32],
    shape: ClassShape,
    target: impl ClassTarget<'t>,
    verb: RustVerb<'_>,
) -> Result<f32, LossError> {
    match verb {
        RustVerb::Value(r) => loss.value(input, shape, target, r),
        RustVerb::ValueAndGrad(r, grad) => loss.value_and_grad(input, shape, target, r, grad),
        RustVerb::PerElement(out) => loss.per_element(input, shape, target, out).map(|()| 0.0),
    }
}
