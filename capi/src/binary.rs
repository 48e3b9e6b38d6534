//! Binary cross-entropy (probabilities and logits) and sigmoid focal:
//! options and the three verbs of each.
//!
//! Every function here: `input`, `target` (and `grad.data` / `out`, and a
//! `weight` map) hold `n` floats; `options` may be NULL (the defaults);
//! `detail` may be NULL. Errors: those of the regression losses
//! (`SIMDLOSS_ERROR_NULL_POINTER`, `_MISALIGNED_POINTER`, `_OVERLAP`,
//! `_EMPTY`, `_INVALID_PARAMETER`, `_ISA_UNAVAILABLE`) and each loss's
//! own. Nothing is written on error.

use simdloss::{BinaryCrossEntropy, BinaryCrossEntropyWithLogits, SigmoidFocal};

use crate::buffers::Reads;
use crate::call::Verb;
use crate::call::{simdloss_grad, simdloss_reduction};
use crate::isa::{simdloss_isa, SIMDLOSS_ISA_AUTO};
use crate::pointwise::{run, PointwiseOptions};
use crate::status::{simdloss_error_detail, simdloss_status, Failure};

/// A per-element weight map (`n` floats) or none.
///
/// # Safety
/// `weight` is NULL or points to `n` floats.
unsafe fn weight_map<'a>(
    weight: *const f32,
    n: usize,
    reads: &mut Reads,
) -> Result<Option<&'a [f32]>, Failure> {
    if weight.is_null() {
        Ok(None)
    } else {
        // SAFETY: the caller's promise.
        unsafe { reads.read(cstr!("weight"), weight, n) }.map(Some)
    }
}

/// Options of binary cross-entropy on probabilities.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct simdloss_bce_options {
    /// A per-element weight map of `n` floats multiplying value and
    /// derivative, or NULL (none). Not validated (NaN gives NaN).
    pub weight: *const f32,
    /// The instruction set (`SIMDLOSS_ISA_AUTO`: the best detected).
    pub isa: simdloss_isa,
}

impl Default for simdloss_bce_options {
    fn default() -> Self {
        Self {
            weight: core::ptr::null(),
            isa: SIMDLOSS_ISA_AUTO,
        }
    }
}

/// `{ .weight = NULL, .isa = SIMDLOSS_ISA_AUTO }`.
#[no_mangle]
pub extern "C" fn simdloss_bce_options_default() -> simdloss_bce_options {
    simdloss_bce_options::default()
}

impl PointwiseOptions for simdloss_bce_options {
    type Loss<'a> = BinaryCrossEntropy<'a>;
    unsafe fn build<'a>(
        &self,
        n: usize,
        reads: &mut Reads,
    ) -> Result<BinaryCrossEntropy<'a>, Failure> {
        let loss = BinaryCrossEntropy::new();
        // SAFETY: the options' contract: NULL or `n` floats.
        Ok(match unsafe { weight_map(self.weight, n, reads) }? {
            Some(weight) => loss.with_weight(weight),
            None => loss,
        })
    }
    fn isa(&self) -> simdloss_isa {
        self.isa
    }
}

/// Options of binary cross-entropy on logits.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct simdloss_bce_with_logits_options {
    /// A per-element weight map of `n` floats, or NULL (none).
    pub weight: *const f32,
    /// One positive-class weight for every element: finite and ≥ 0
    /// (default 1). Ignored when `pos_weight_per_class` is not NULL.
    pub pos_weight: f32,
    /// One positive-class weight per class (`num_classes` floats, each
    /// finite and ≥ 0), broadcast over the last axis: element `i` uses
    /// `pos_weight_per_class[i % num_classes]`, so `num_classes` must
    /// divide `n`. NULL: the scalar `pos_weight`.
    pub pos_weight_per_class: *const f32,
    /// The length of `pos_weight_per_class` (≥ 1 when it is not NULL).
    pub num_classes: usize,
    /// The instruction set (`SIMDLOSS_ISA_AUTO`: the best detected).
    pub isa: simdloss_isa,
}

impl Default for simdloss_bce_with_logits_options {
    fn default() -> Self {
        Self {
            weight: core::ptr::null(),
            pos_weight: 1.0,
            pos_weight_per_class: core::ptr::null(),
            num_classes: 0,
            isa: SIMDLOSS_ISA_AUTO,
        }
    }
}

/// `{ .weight = NULL, .pos_weight = 1.0f, .pos_weight_per_class = NULL,
/// .num_classes = 0, .isa = SIMDLOSS_ISA_AUTO }`.
#[no_mangle]
pub extern "C" fn simdloss_bce_with_logits_options_default() -> simdloss_bce_with_logits_options {
    simdloss_bce_with_logits_options::default()
}

impl PointwiseOptions for simdloss_bce_with_logits_options {
    type Loss<'a> = BinaryCrossEntropyWithLogits<'a>;
    unsafe fn build<'a>(
        &self,
        n: usize,
        reads: &mut Reads,
    ) -> Result<BinaryCrossEntropyWithLogits<'a>, Failure> {
        let mut loss = BinaryCrossEntropyWithLogits::new();
        // SAFETY: the options' contract: NULL or `n` floats.
        if let Some(weight) = unsafe { weight_map(self.weight, n, reads) }? {
            loss = loss.with_weight(weight);
        }
        if self.pos_weight_per_class.is_null() {
            Ok(loss.with_pos_weight(self.pos_weight)?)
        } else {
            // SAFETY: the options' contract: `num_classes` floats.
            let per_class = unsafe {
                reads.read(
                    cstr!("pos_weight"),
                    self.pos_weight_per_class,
                    self.num_classes,
                )
            }?;
            Ok(loss.with_pos_weight_per_class(per_class)?)
        }
    }
    fn isa(&self) -> simdloss_isa {
        self.isa
    }
}

/// Options of sigmoid focal loss (torchvision's).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct simdloss_sigmoid_focal_options {
    /// The weighting factor α: finite and ≤ 1; negative disables it
    /// (default 0.25).
    pub alpha: f32,
    /// The focusing parameter γ: finite and ≥ 0 (default 2).
    pub gamma: f32,
    /// A per-element weight map of `n` floats, or NULL (none).
    pub weight: *const f32,
    /// The instruction set (`SIMDLOSS_ISA_AUTO`: the best detected).
    pub isa: simdloss_isa,
}

impl Default for simdloss_sigmoid_focal_options {
    fn default() -> Self {
        Self {
            alpha: 0.25,
            gamma: 2.0,
            weight: core::ptr::null(),
            isa: SIMDLOSS_ISA_AUTO,
        }
    }
}

/// `{ .alpha = 0.25f, .gamma = 2.0f, .weight = NULL, .isa =
/// SIMDLOSS_ISA_AUTO }` (torchvision's defaults).
#[no_mangle]
pub extern "C" fn simdloss_sigmoid_focal_options_default() -> simdloss_sigmoid_focal_options {
    simdloss_sigmoid_focal_options::default()
}

impl PointwiseOptions for simdloss_sigmoid_focal_options {
    type Loss<'a> = SigmoidFocal<'a>;
    unsafe fn build<'a>(&self, n: usize, reads: &mut Reads) -> Result<SigmoidFocal<'a>, Failure> {
        let loss = SigmoidFocal::new(self.alpha, self.gamma)?;
        // SAFETY: the options' contract: NULL or `n` floats.
        Ok(match unsafe { weight_map(self.weight, n, reads) }? {
            Some(weight) => loss.with_weight(weight),
            None => loss,
        })
    }
    fn isa(&self) -> simdloss_isa {
        self.isa
    }
}

/// Binary cross-entropy on probabilities `p = input[i] ∈ [0, 1]`, targets
/// `y = target[i]`: `−w[y·max(ln p, −100) + (1−y)·max(ln(1−p), −100)]`;
/// `∂/∂p = w(p − y) / max(p(1−p), 1e−12)`. Writes `*loss`. Errors: also
/// `SIMDLOSS_ERROR_OUT_OF_RANGE` naming `input` with the index of the
/// first probability outside `[0, 1]` (NaN passes and gives NaN).
///
/// # Safety
/// `n` floats at `input`, `target` (and `options->weight` if not NULL),
/// `loss` one writable float.
#[no_mangle]
pub unsafe extern "C" fn simdloss_bce_value(
    options: *const simdloss_bce_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    reduction: simdloss_reduction,
    loss: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::Value { reduction, loss };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, target, n, verb, detail) }
}

/// BCE's value and gradient in one pass.
///
/// # Safety
/// As `simdloss_bce_value`; `grad.data` holds `n` writable floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_bce_value_and_grad(
    options: *const simdloss_bce_options,
    input: *const f32,
    target: *const f32,
    n: usize,
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
    unsafe { run(options, input, target, n, verb, detail) }
}

/// BCE per element.
///
/// # Safety
/// As `simdloss_bce_value`; `out` holds `n` writable floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_bce_per_element(
    options: *const simdloss_bce_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    out: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::PerElement { out, len: n };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, target, n, verb, detail) }
}

/// Binary cross-entropy on logits `x = input[i]`:
/// `w[(1−y)x + (1 + (pw−1)y)·softplus(−x)]`;
/// `∂/∂x = w[(1 + (pw−1)y)σ(x) − pw·y]`. Writes `*loss`. Errors: also
/// `SIMDLOSS_ERROR_INVALID_PARAMETER` naming `pos_weight` (a value not
/// finite or negative), `SIMDLOSS_ERROR_EMPTY` naming `pos_weight`
/// (`num_classes == 0` with a per-class array),
/// `SIMDLOSS_ERROR_NOT_BROADCASTABLE` (`num_classes` does not divide `n`).
///
/// # Safety
/// As `simdloss_bce_value`, and `options->pos_weight_per_class` (if not
/// NULL) holds `options->num_classes` floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_bce_with_logits_value(
    options: *const simdloss_bce_with_logits_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    reduction: simdloss_reduction,
    loss: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::Value { reduction, loss };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, target, n, verb, detail) }
}

/// BCE with logits: value and gradient in one pass.
///
/// # Safety
/// As `simdloss_bce_with_logits_value`; `grad.data` holds `n` writable
/// floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_bce_with_logits_value_and_grad(
    options: *const simdloss_bce_with_logits_options,
    input: *const f32,
    target: *const f32,
    n: usize,
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
    unsafe { run(options, input, target, n, verb, detail) }
}

/// BCE with logits per element.
///
/// # Safety
/// As `simdloss_bce_with_logits_value`; `out` holds `n` writable floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_bce_with_logits_per_element(
    options: *const simdloss_bce_with_logits_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    out: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::PerElement { out, len: n };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, target, n, verb, detail) }
}

/// Sigmoid focal loss (torchvision): `α_t(1 − p_t)^γ · BCE-with-logits`,
/// `p_t = σ(x)y + (1 − σ(x))(1 − y)`, `α_t = αy + (1−α)(1−y)` (α < 0: no
/// α); the analytic gradient, finite for every finite `x`. Writes
/// `*loss`. Errors: also `SIMDLOSS_ERROR_INVALID_PARAMETER` naming `alpha`
/// (not finite or > 1) or `gamma` (not finite or < 0).
///
/// # Safety
/// As `simdloss_bce_value`.
#[no_mangle]
pub unsafe extern "C" fn simdloss_sigmoid_focal_value(
    options: *const simdloss_sigmoid_focal_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    reduction: simdloss_reduction,
    loss: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::Value { reduction, loss };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, target, n, verb, detail) }
}

/// Sigmoid focal: value and gradient in one pass.
///
/// # Safety
/// As `simdloss_bce_value_and_grad`.
#[no_mangle]
pub unsafe extern "C" fn simdloss_sigmoid_focal_value_and_grad(
    options: *const simdloss_sigmoid_focal_options,
    input: *const f32,
    target: *const f32,
    n: usize,
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
    unsafe { run(options, input, target, n, verb, detail) }
}

/// Sigmoid focal per element.
///
/// # Safety
/// As `simdloss_bce_per_element`.
#[no_mangle]
pub unsafe extern "C" fn simdloss_sigmoid_focal_per_element(
    options: *const simdloss_sigmoid_focal_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    out: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::PerElement { out, len: n };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, target, n, verb, detail) }
}
