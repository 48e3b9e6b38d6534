//! Softmax cross-entropy and softmax focal over a class axis: options and
//! the three verbs of each.
//!
//! Every function here: `input` (and `grad.data`) hold `n·c·s` floats
//! (`simdloss_shape`), `target` `n·s` labels or `n·c·s` probabilities;
//! `options` may be NULL (the defaults); `detail` may be NULL. Errors:
//! `SIMDLOSS_ERROR_NULL_POINTER`, `_MISALIGNED_POINTER`, `_OVERLAP`,
//! `_INVALID_PARAMETER` (a parameter, `reduction`, `grad.scale`, `isa`,
//! `target.kind`), `_ISA_UNAVAILABLE`, and each loss's own. Nothing is
//! written on error.

use simdloss::{SoftmaxCrossEntropy, SoftmaxFocal};

use crate::buffers::Reads;
use crate::call::{simdloss_grad, simdloss_reduction, Verb};
use crate::class_axis::{run, simdloss_shape, simdloss_target, ClassOptions};
use crate::isa::{simdloss_isa, SIMDLOSS_ISA_AUTO};
use crate::status::{simdloss_error_detail, simdloss_status, Failure};

/// PyTorch's default `ignore_index`.
pub const SIMDLOSS_DEFAULT_IGNORE_INDEX: i64 = -100;

/// Class weights (`len` floats) or none.
///
/// # Safety
/// `weight` is NULL or points to `len` floats.
pub(crate) unsafe fn class_weight<'a>(
    weight: *const f32,
    len: usize,
    reads: &mut Reads,
) -> Result<Option<&'a [f32]>, Failure> {
    if weight.is_null() {
        Ok(None)
    } else {
        // SAFETY: the caller's promise.
        unsafe { reads.read(cstr!("weight"), weight, len) }.map(Some)
    }
}

/// Options of softmax cross-entropy.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct simdloss_softmax_cross_entropy_options {
    /// Class weights (`weight_len = c` floats), or NULL (none). Not
    /// validated, as in PyTorch (NaN gives NaN).
    pub weight: *const f32,
    /// The length of `weight`.
    pub weight_len: usize,
    /// Samples whose label equals it add nothing (index targets; default
    /// −100; 255 is usual for `uint8_t` masks).
    pub ignore_index: i64,
    /// Label smoothing ε in [0, 1] (default 0).
    pub label_smoothing: f32,
    /// The instruction set (`SIMDLOSS_ISA_AUTO`: the best detected).
    pub isa: simdloss_isa,
}

impl Default for simdloss_softmax_cross_entropy_options {
    fn default() -> Self {
        Self {
            weight: core::ptr::null(),
            weight_len: 0,
            ignore_index: SIMDLOSS_DEFAULT_IGNORE_INDEX,
            label_smoothing: 0.0,
            isa: SIMDLOSS_ISA_AUTO,
        }
    }
}

/// `{ .weight = NULL, .weight_len = 0, .ignore_index = -100,
/// .label_smoothing = 0.0f, .isa = SIMDLOSS_ISA_AUTO }` (PyTorch's).
#[no_mangle]
pub extern "C" fn simdloss_softmax_cross_entropy_options_default(
) -> simdloss_softmax_cross_entropy_options {
    simdloss_softmax_cross_entropy_options::default()
}

impl ClassOptions for simdloss_softmax_cross_entropy_options {
    type Loss<'a> = SoftmaxCrossEntropy<'a>;
    unsafe fn build<'a>(&self, reads: &mut Reads) -> Result<Self::Loss<'a>, Failure> {
        let mut loss = SoftmaxCrossEntropy::new()
            .with_ignore_index(self.ignore_index)
            .with_label_smoothing(self.label_smoothing)?;
        // SAFETY: the options' contract: NULL or `weight_len` floats.
        if let Some(weight) = unsafe { class_weight(self.weight, self.weight_len, reads) }? {
            loss = loss.with_weight(weight);
        }
        Ok(loss)
    }
    fn isa(&self) -> simdloss_isa {
        self.isa
    }
}

/// Options of softmax focal loss.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct simdloss_softmax_focal_options {
    /// The focusing parameter γ: finite and ≥ 0 (default 2; 0 is
    /// cross-entropy).
    pub gamma: f32,
    /// Class weights (`weight_len = c` floats), or NULL (none). Not
    /// validated, as in PyTorch (NaN gives NaN).
    pub weight: *const f32,
    /// The length of `weight`.
    pub weight_len: usize,
    /// Samples whose label equals it add nothing (default −100).
    pub ignore_index: i64,
    /// The instruction set (`SIMDLOSS_ISA_AUTO`: the best detected).
    pub isa: simdloss_isa,
}

impl Default for simdloss_softmax_focal_options {
    fn default() -> Self {
        Self {
            gamma: 2.0,
            weight: core::ptr::null(),
            weight_len: 0,
            ignore_index: SIMDLOSS_DEFAULT_IGNORE_INDEX,
            isa: SIMDLOSS_ISA_AUTO,
        }
    }
}

/// `{ .gamma = 2.0f, .weight = NULL, .weight_len = 0, .ignore_index =
/// -100, .isa = SIMDLOSS_ISA_AUTO }`.
#[no_mangle]
pub extern "C" fn simdloss_softmax_focal_options_default() -> simdloss_softmax_focal_options {
    simdloss_softmax_focal_options::default()
}

impl ClassOptions for simdloss_softmax_focal_options {
    type Loss<'a> = SoftmaxFocal<'a>;
    unsafe fn build<'a>(&self, reads: &mut Reads) -> Result<Self::Loss<'a>, Failure> {
        let mut loss = SoftmaxFocal::new(self.gamma)?.with_ignore_index(self.ignore_index);
        // SAFETY: the options' contract: NULL or `weight_len` floats.
        if let Some(weight) = unsafe { class_weight(self.weight, self.weight_len, reads) }? {
            loss = loss.with_weight(weight);
        }
        Ok(loss)
    }
    fn isa(&self) -> simdloss_isa {
        self.isa
    }
}

/// Softmax cross-entropy (PyTorch `cross_entropy`) over `[N, C, S]`
/// logits, `p = softmax(x)` over the classes of each sample, `ℓ_c = −ln p_c`:
/// index `y`: `(1−ε)·w_y·ℓ_y + (ε/C)·Σ_k w_k ℓ_k`; probabilities `t`:
/// `Σ_k w_k t'_k ℓ_k`, `t' = (1−ε)t + ε/C`. `∂/∂x_c = A·p_c − a_c` with
/// `a = (1−ε)w_y·onehot(y) + (ε/C)·w` (index) or `a = w ⊙ t'`
/// (probabilities), `A = Σ_c a_c`.
/// Mean divides by `Σ w_y` over the samples not ignored (index targets) or
/// by `N·S` (probabilities); all ignored gives 0. Writes `*loss`.
/// Errors: also `SIMDLOSS_ERROR_INVALID_SHAPE` (an extent 0, or `n·c·s`
/// overflowing), `_LENGTH_MISMATCH` (`target.len`, `weight_len`),
/// `_INVALID_LABEL` with the first bad label's flat position (neither in
/// `0..c` nor `ignore_index`), `_UNSUPPORTED_TARGET`.
///
/// # Safety
/// `input` holds `n·c·s` floats, `target.data` `target.len` elements of
/// its kind, `loss` one writable float; the options' buffers their
/// documented lengths.
#[no_mangle]
pub unsafe extern "C" fn simdloss_softmax_cross_entropy_value(
    options: *const simdloss_softmax_cross_entropy_options,
    input: *const f32,
    shape: simdloss_shape,
    target: simdloss_target,
    reduction: simdloss_reduction,
    loss: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::Value { reduction, loss };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, shape, target, verb, detail) }
}

/// Softmax cross-entropy: value and gradient in one pass over the logits.
///
/// # Safety
/// As `simdloss_softmax_cross_entropy_value`; `grad.data` holds `n·c·s` writable floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_softmax_cross_entropy_value_and_grad(
    options: *const simdloss_softmax_cross_entropy_options,
    input: *const f32,
    shape: simdloss_shape,
    target: simdloss_target,
    reduction: simdloss_reduction,
    grad: simdloss_grad,
    loss: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::ValueAndGrad {
        reduction,
        grad,
        loss,
    };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, shape, target, verb, detail) }
}

/// Softmax cross-entropy per sample: `out` is `[N, S]` (`out_len = n·s`),
/// 0 for an ignored sample.
///
/// # Safety
/// As `simdloss_softmax_cross_entropy_value`; `out` holds `out_len` writable floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_softmax_cross_entropy_per_element(
    options: *const simdloss_softmax_cross_entropy_options,
    input: *const f32,
    shape: simdloss_shape,
    target: simdloss_target,
    out: *mut f32,
    out_len: usize,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::PerElement { out, len: out_len };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, shape, target, verb, detail) }
}

/// Softmax focal loss `−w_y·(1 − p_y)^γ·ln p_y` over `[N, C, S]` logits
/// with index targets (probabilities: `SIMDLOSS_ERROR_UNSUPPORTED_TARGET`);
/// the gradient is analytic and finite for every γ ≥ 0. Mean divides by
/// the number of samples not ignored. Writes `*loss`.
/// Errors: also `SIMDLOSS_ERROR_INVALID_SHAPE` (an extent 0, or `n·c·s`
/// overflowing), `_LENGTH_MISMATCH` (`target.len`, `weight_len`),
/// `_INVALID_LABEL` with the first bad label's flat position (neither in
/// `0..c` nor `ignore_index`), `_UNSUPPORTED_TARGET`.
///
/// # Safety
/// `input` holds `n·c·s` floats, `target.data` `target.len` elements of
/// its kind, `loss` one writable float; the options' buffers their
/// documented lengths.
#[no_mangle]
pub unsafe extern "C" fn simdloss_softmax_focal_value(
    options: *const simdloss_softmax_focal_options,
    input: *const f32,
    shape: simdloss_shape,
    target: simdloss_target,
    reduction: simdloss_reduction,
    loss: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::Value { reduction, loss };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, shape, target, verb, detail) }
}

/// Softmax focal: value and gradient in one pass over the logits.
///
/// # Safety
/// As `simdloss_softmax_focal_value`; `grad.data` holds `n·c·s` writable floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_softmax_focal_value_and_grad(
    options: *const simdloss_softmax_focal_options,
    input: *const f32,
    shape: simdloss_shape,
    target: simdloss_target,
    reduction: simdloss_reduction,
    grad: simdloss_grad,
    loss: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::ValueAndGrad {
        reduction,
        grad,
        loss,
    };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, shape, target, verb, detail) }
}

/// Softmax focal per sample: `out` is `[N, S]` (`out_len = n·s`).
///
/// # Safety
/// As `simdloss_softmax_focal_value`; `out` holds `out_len` writable floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_softmax_focal_per_element(
    options: *const simdloss_softmax_focal_options,
    input: *const f32,
    shape: simdloss_shape,
    target: simdloss_target,
    out: *mut f32,
    out_len: usize,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::PerElement { out, len: out_len };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, shape, target, verb, detail) }
}
