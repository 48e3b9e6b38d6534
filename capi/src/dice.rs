//! The Dice family (MONAI 1.6 `DiceLoss`, `TverskyLoss`,
//! `GeneralizedDiceLoss`, `DiceCELoss`): options and the verbs of each.
//!
//! Every function here: `input` (and `grad.data`) hold `n·c·s` floats,
//! `target` `n·s` labels or `n·c·s` probabilities; `options` may be NULL
//! (the defaults: MONAI's); `detail` may be NULL. Errors as the softmax
//! losses', and each loss's own. Nothing is written on error.

use simdloss::{Activation, Dice, DiceCrossEntropy, GeneralizedDice, Tversky};

use crate::buffers::Reads;
use crate::call::{simdloss_grad, simdloss_reduction, Verb};
use crate::class_axis::{run, simdloss_shape, simdloss_target, ClassOptions};
use crate::isa::{simdloss_isa, SIMDLOSS_ISA_AUTO};
use crate::softmax::{class_weight, SIMDLOSS_DEFAULT_IGNORE_INDEX};
use crate::status::{simdloss_error_detail, simdloss_status, Failure};

/// The activation a Dice-family loss applies to its input: one of the
/// `SIMDLOSS_ACTIVATION_*` values.
#[allow(non_camel_case_types)]
pub type simdloss_activation = u32;

/// `p = x`: the input already holds probabilities.
pub const SIMDLOSS_ACTIVATION_NONE: simdloss_activation = 0;
/// `p = σ(x)` element by element (multi-label, binary segmentation).
pub const SIMDLOSS_ACTIVATION_SIGMOID: simdloss_activation = 1;
/// `p = softmax(x)` over the classes of each pixel.
pub const SIMDLOSS_ACTIVATION_SOFTMAX: simdloss_activation = 2;

/// MONAI's default `smooth_nr` and `smooth_dr`.
pub const SIMDLOSS_DEFAULT_SMOOTH: f32 = 1e-5;

fn activation(activation: simdloss_activation) -> Result<Activation, Failure> {
    match activation {
        SIMDLOSS_ACTIVATION_NONE => Ok(Activation::None),
        SIMDLOSS_ACTIVATION_SIGMOID => Ok(Activation::Sigmoid),
        SIMDLOSS_ACTIVATION_SOFTMAX => Ok(Activation::Softmax),
        _ => Err(Failure::new(
            simdloss_status::SIMDLOSS_ERROR_INVALID_PARAMETER,
            cstr!("activation"),
        )),
    }
}

/// The options every loss of the family shares, from the C struct's
/// fields of the same names, applied to a Rust loss.
macro_rules! family_options {
    ($loss:expr, $o:expr) => {
        $loss
            .with_squared_pred($o.squared_pred)
            .with_include_background($o.include_background)
            .with_batch($o.batch)
            .with_ignore_index($o.ignore_index)
            .with_smooth($o.smooth_nr, $o.smooth_dr)?
    };
}

/// Options of Dice (and Jaccard).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct simdloss_dice_options {
    /// A `SIMDLOSS_ACTIVATION_*` value (default none, as MONAI).
    pub activation: simdloss_activation,
    /// The Jaccard ratio instead of Dice's (default false).
    pub jaccard: bool,
    /// `P = Σ p²`, `G = Σ g²` (default false).
    pub squared_pred: bool,
    /// `false` drops class 0 from the terms (default true; needs c ≥ 2).
    pub include_background: bool,
    /// Sums over the images before the ratio (default false).
    pub batch: bool,
    /// Numerator smoothing, finite and ≥ 0 (default 1e-5).
    pub smooth_nr: f32,
    /// Denominator smoothing, finite and ≥ 0 (default 1e-5).
    pub smooth_dr: f32,
    /// Pixels whose label equals it count nowhere (default −100).
    pub ignore_index: i64,
    /// Class weights, one per kept class (`c`, or `c − 1` without the
    /// background), or NULL (none). A negative one is refused
    /// (`SIMDLOSS_ERROR_OUT_OF_RANGE` with its index); NaN gives NaN.
    pub weight: *const f32,
    /// The length of `weight`.
    pub weight_len: usize,
    /// The instruction set (`SIMDLOSS_ISA_AUTO`: the best detected).
    pub isa: simdloss_isa,
}

impl Default for simdloss_dice_options {
    fn default() -> Self {
        Self {
            activation: SIMDLOSS_ACTIVATION_NONE,
            jaccard: false,
            squared_pred: false,
            include_background: true,
            batch: false,
            smooth_nr: SIMDLOSS_DEFAULT_SMOOTH,
            smooth_dr: SIMDLOSS_DEFAULT_SMOOTH,
            ignore_index: SIMDLOSS_DEFAULT_IGNORE_INDEX,
            weight: core::ptr::null(),
            weight_len: 0,
            isa: SIMDLOSS_ISA_AUTO,
        }
    }
}

/// MONAI's defaults: `{ .activation = SIMDLOSS_ACTIVATION_NONE, .jaccard
/// = false, .squared_pred = false, .include_background = true, .batch =
/// false, .smooth_nr = 1e-5f, .smooth_dr = 1e-5f, .ignore_index = -100,
/// .weight = NULL, .weight_len = 0, .isa = SIMDLOSS_ISA_AUTO }`.
#[no_mangle]
pub extern "C" fn simdloss_dice_options_default() -> simdloss_dice_options {
    simdloss_dice_options::default()
}

impl ClassOptions for simdloss_dice_options {
    type Loss<'a> = Dice<'a>;
    unsafe fn build<'a>(&self, reads: &mut Reads) -> Result<Self::Loss<'a>, Failure> {
        let mut loss = family_options!(Dice::new(activation(self.activation)?), self)
            .with_jaccard(self.jaccard);
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

/// Options of Tversky.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct simdloss_tversky_options {
    /// A `SIMDLOSS_ACTIVATION_*` value (default none).
    pub activation: simdloss_activation,
    /// The false-positive weight α, finite and ≥ 0 (default 0.5).
    pub alpha: f32,
    /// The false-negative weight β, finite and ≥ 0 (default 0.5).
    pub beta: f32,
    /// As in `simdloss_dice_options`.
    pub squared_pred: bool,
    /// As in `simdloss_dice_options`.
    pub include_background: bool,
    /// As in `simdloss_dice_options`.
    pub batch: bool,
    /// As in `simdloss_dice_options`.
    pub smooth_nr: f32,
    /// As in `simdloss_dice_options`.
    pub smooth_dr: f32,
    /// As in `simdloss_dice_options`.
    pub ignore_index: i64,
    /// As in `simdloss_dice_options`.
    pub weight: *const f32,
    /// The length of `weight`.
    pub weight_len: usize,
    /// The instruction set (`SIMDLOSS_ISA_AUTO`: the best detected).
    pub isa: simdloss_isa,
}

impl Default for simdloss_tversky_options {
    fn default() -> Self {
        Self {
            activation: SIMDLOSS_ACTIVATION_NONE,
            alpha: 0.5,
            beta: 0.5,
            squared_pred: false,
            include_background: true,
            batch: false,
            smooth_nr: SIMDLOSS_DEFAULT_SMOOTH,
            smooth_dr: SIMDLOSS_DEFAULT_SMOOTH,
            ignore_index: SIMDLOSS_DEFAULT_IGNORE_INDEX,
            weight: core::ptr::null(),
            weight_len: 0,
            isa: SIMDLOSS_ISA_AUTO,
        }
    }
}

/// MONAI's defaults: as `simdloss_dice_options_default()`, with `.alpha
/// = 0.5f, .beta = 0.5f`.
#[no_mangle]
pub extern "C" fn simdloss_tversky_options_default() -> simdloss_tversky_options {
    simdloss_tversky_options::default()
}

impl ClassOptions for simdloss_tversky_options {
    type Loss<'a> = Tversky<'a>;
    unsafe fn build<'a>(&self, reads: &mut Reads) -> Result<Self::Loss<'a>, Failure> {
        let loss = Tversky::new(activation(self.activation)?, self.alpha, self.beta)?;
        let mut loss = family_options!(loss, self);
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

/// Options of generalized Dice (no class weights: they are `1/G_c²`).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct simdloss_generalized_dice_options {
    /// A `SIMDLOSS_ACTIVATION_*` value (default none).
    pub activation: simdloss_activation,
    /// As in `simdloss_dice_options`.
    pub squared_pred: bool,
    /// As in `simdloss_dice_options`.
    pub include_background: bool,
    /// As in `simdloss_dice_options`.
    pub batch: bool,
    /// As in `simdloss_dice_options`.
    pub smooth_nr: f32,
    /// As in `simdloss_dice_options`.
    pub smooth_dr: f32,
    /// As in `simdloss_dice_options`.
    pub ignore_index: i64,
    /// The instruction set (`SIMDLOSS_ISA_AUTO`: the best detected).
    pub isa: simdloss_isa,
}

impl Default for simdloss_generalized_dice_options {
    fn default() -> Self {
        Self {
            activation: SIMDLOSS_ACTIVATION_NONE,
            squared_pred: false,
            include_background: true,
            batch: false,
            smooth_nr: SIMDLOSS_DEFAULT_SMOOTH,
            smooth_dr: SIMDLOSS_DEFAULT_SMOOTH,
            ignore_index: SIMDLOSS_DEFAULT_IGNORE_INDEX,
            isa: SIMDLOSS_ISA_AUTO,
        }
    }
}

/// MONAI's defaults, as `simdloss_dice_options_default()`'s.
#[no_mangle]
pub extern "C" fn simdloss_generalized_dice_options_default() -> simdloss_generalized_dice_options {
    simdloss_generalized_dice_options::default()
}

impl ClassOptions for simdloss_generalized_dice_options {
    type Loss<'a> = GeneralizedDice<'a>;
    unsafe fn build<'a>(&self, _: &mut Reads) -> Result<Self::Loss<'a>, Failure> {
        Ok(family_options!(
            GeneralizedDice::new(activation(self.activation)?),
            self
        ))
    }
    fn isa(&self) -> simdloss_isa {
        self.isa
    }
}

/// Options of Dice + cross-entropy (softmax activation, always).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct simdloss_dice_cross_entropy_options {
    /// The Dice part's weight λ_dice, finite and ≥ 0 (default 1).
    pub lambda_dice: f32,
    /// The cross-entropy part's weight λ_ce, finite and ≥ 0 (default 1).
    pub lambda_ce: f32,
    /// The cross-entropy part's label smoothing, in [0, 1] (default 0).
    pub label_smoothing: f32,
    /// The Jaccard ratio in the Dice part (default false).
    pub jaccard: bool,
    /// As in `simdloss_dice_options`.
    pub squared_pred: bool,
    /// As in `simdloss_dice_options`.
    pub include_background: bool,
    /// As in `simdloss_dice_options`.
    pub batch: bool,
    /// As in `simdloss_dice_options`.
    pub smooth_nr: f32,
    /// As in `simdloss_dice_options`.
    pub smooth_dr: f32,
    /// As in `simdloss_dice_options` (both parts).
    pub ignore_index: i64,
    /// Class weights of the cross-entropy part (`c` floats), or NULL.
    pub weight: *const f32,
    /// The length of `weight`.
    pub weight_len: usize,
    /// The instruction set (`SIMDLOSS_ISA_AUTO`: the best detected).
    pub isa: simdloss_isa,
}

impl Default for simdloss_dice_cross_entropy_options {
    fn default() -> Self {
        Self {
            lambda_dice: 1.0,
            lambda_ce: 1.0,
            label_smoothing: 0.0,
            jaccard: false,
            squared_pred: false,
            include_background: true,
            batch: false,
            smooth_nr: SIMDLOSS_DEFAULT_SMOOTH,
            smooth_dr: SIMDLOSS_DEFAULT_SMOOTH,
            ignore_index: SIMDLOSS_DEFAULT_IGNORE_INDEX,
            weight: core::ptr::null(),
            weight_len: 0,
            isa: SIMDLOSS_ISA_AUTO,
        }
    }
}

/// MONAI's defaults: `{ .lambda_dice = 1.0f, .lambda_ce = 1.0f,
/// .label_smoothing = 0.0f, .jaccard = false }` and the rest as
/// `simdloss_dice_options_default()`'s.
#[no_mangle]
pub extern "C" fn simdloss_dice_cross_entropy_options_default(
) -> simdloss_dice_cross_entropy_options {
    simdloss_dice_cross_entropy_options::default()
}

impl ClassOptions for simdloss_dice_cross_entropy_options {
    type Loss<'a> = DiceCrossEntropy<'a>;
    unsafe fn build<'a>(&self, reads: &mut Reads) -> Result<Self::Loss<'a>, Failure> {
        let loss = DiceCrossEntropy::new()
            .with_lambdas(self.lambda_dice, self.lambda_ce)?
            .with_label_smoothing(self.label_smoothing)?
            .with_jaccard(self.jaccard);
        let mut loss = family_options!(loss, self);
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

/// MONAI's `DiceLoss` over `[N, C, S]` with the activation fused in: per
/// image and class, `1 − (2I + s_nr)/(P + G + s_dr)` (`jaccard`:
/// `1 − (2I + s_nr)/(2(P + G − I) + s_dr)`), `I = Σ p·g`, `P = Σ p`,
/// `G = Σ g` (squares with `squared_pred`); the gradient is analytic
/// through the ratio and the activation. Mean averages the terms.
/// Writes `*loss`.
/// Errors: also `SIMDLOSS_ERROR_INVALID_SHAPE` (an extent 0, `n·c·s`
/// overflowing, more classes than the family takes, softmax or no
/// background with `c = 1`), `_LENGTH_MISMATCH`, `_INVALID_LABEL`,
/// `_INVALID_PARAMETER` (`smooth_nr`, `smooth_dr`), `_OUT_OF_RANGE` (a
/// negative class weight, with its index).
///
/// # Safety
/// `input` holds `n·c·s` floats, `target.data` `target.len` elements of
/// its kind, `loss` one writable float; the options' buffers their
/// documented lengths.
#[no_mangle]
pub unsafe extern "C" fn simdloss_dice_value(
    options: *const simdloss_dice_options,
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

/// Dice: value and gradient (two passes: sums, then gradient).
///
/// # Safety
/// As `simdloss_dice_value`; `grad.data` holds `n·c·s` writable floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_dice_value_and_grad(
    options: *const simdloss_dice_options,
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

/// Dice's terms: `[N, C_kept]` (`[C_kept]` with `batch`), where
/// `C_kept` is `c`, or `c − 1` without the background.
///
/// # Safety
/// As `simdloss_dice_value`; `out` holds `out_len` writable floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_dice_per_element(
    options: *const simdloss_dice_options,
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

/// MONAI's `TverskyLoss`: per image and class,
/// `1 − (I + s_nr)/(I + α(P − I) + β(G − I) + s_dr)`. Writes `*loss`.
/// Errors: also `SIMDLOSS_ERROR_INVALID_SHAPE` (an extent 0, `n·c·s`
/// overflowing, more classes than the family takes, softmax or no
/// background with `c = 1`), `_LENGTH_MISMATCH`, `_INVALID_LABEL`,
/// `_INVALID_PARAMETER` (`smooth_nr`, `smooth_dr`), `_OUT_OF_RANGE` (a
/// negative class weight, with its index).
/// `alpha`, `beta`: finite and ≥ 0.
///
/// # Safety
/// `input` holds `n·c·s` floats, `target.data` `target.len` elements of
/// its kind, `loss` one writable float; the options' buffers their
/// documented lengths.
#[no_mangle]
pub unsafe extern "C" fn simdloss_tversky_value(
    options: *const simdloss_tversky_options,
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

/// Tversky: value and gradient.
///
/// # Safety
/// As `simdloss_tversky_value`; `grad.data` holds `n·c·s` writable floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_tversky_value_and_grad(
    options: *const simdloss_tversky_options,
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

/// Tversky's terms, laid out as Dice's.
///
/// # Safety
/// As `simdloss_tversky_value`; `out` holds `out_len` writable floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_tversky_per_element(
    options: *const simdloss_tversky_options,
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

/// MONAI's `GeneralizedDiceLoss` (square weights): per image,
/// `1 − (2Σ_c w_c I_c + s_nr)/(Σ_c w_c(P_c + G_c) + s_dr)`,
/// `w_c = 1/G_c²` (an empty class takes the image's largest finite `w`).
/// Writes `*loss`.
/// Errors: also `SIMDLOSS_ERROR_INVALID_SHAPE` (an extent 0, `n·c·s`
/// overflowing, more classes than the family takes, softmax or no
/// background with `c = 1`), `_LENGTH_MISMATCH`, `_INVALID_LABEL`,
/// `_INVALID_PARAMETER` (`smooth_nr`, `smooth_dr`).
///
/// # Safety
/// `input` holds `n·c·s` floats, `target.data` `target.len` elements of
/// its kind, `loss` one writable float; the options' buffers their
/// documented lengths.
#[no_mangle]
pub unsafe extern "C" fn simdloss_generalized_dice_value(
    options: *const simdloss_generalized_dice_options,
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

/// Generalized Dice: value and gradient.
///
/// # Safety
/// As `simdloss_generalized_dice_value`; `grad.data` holds `n·c·s` writable floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_generalized_dice_value_and_grad(
    options: *const simdloss_generalized_dice_options,
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

/// Generalized Dice's terms: `[N]` (`[1]` with `batch`).
///
/// # Safety
/// As `simdloss_generalized_dice_value`; `out` holds `out_len` writable floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_generalized_dice_per_element(
    options: *const simdloss_generalized_dice_options,
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

/// MONAI's `DiceCELoss`: `λ_dice·Dice(softmax(x)) + λ_ce·CE(x)` on the
/// same logits with one softmax per pixel (index or probability targets;
/// the class weights weight the CE part). Writes `*loss`. There is no
/// per-element form.
/// Errors: also `SIMDLOSS_ERROR_INVALID_SHAPE` (an extent 0, `n·c·s`
/// overflowing, more classes than the family takes, softmax or no
/// background with `c = 1`), `_LENGTH_MISMATCH`, `_INVALID_LABEL`,
/// `_INVALID_PARAMETER` (`smooth_nr`, `smooth_dr`), `_OUT_OF_RANGE` (a
/// negative class weight, with its index).
/// `lambda_dice`, `lambda_ce`: finite and ≥ 0; `label_smoothing` in [0, 1].
///
/// # Safety
/// `input` holds `n·c·s` floats, `target.data` `target.len` elements of
/// its kind, `loss` one writable float; the options' buffers their
/// documented lengths.
#[no_mangle]
pub unsafe extern "C" fn simdloss_dice_cross_entropy_value(
    options: *const simdloss_dice_cross_entropy_options,
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

/// Dice + CE: value and gradient.
///
/// # Safety
/// As `simdloss_dice_cross_entropy_value`; `grad.data` holds `n·c·s` writable floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_dice_cross_entropy_value_and_grad(
    options: *const simdloss_dice_cross_entropy_options,
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
