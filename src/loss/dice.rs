//! The Dice family over a class axis (MONAI 1.6 `DiceLoss`,
//! `TverskyLoss`, `GeneralizedDiceLoss`) on `[N, C, S]` inputs (see
//! [`ClassShape`]), with the activation fused in.
//!
//! With `p` the activated input ([`Activation`]: sigmoid, softmax over the
//! classes, or none) and `g` the target (probabilities, or index labels
//! one-hot encoded), per image `n` and class `c`:
//! `I = Σ_s p·g`, `P = Σ_s p` (`Σ p²` with `squared_pred`),
//! `G = Σ_s g` (`Σ g²`), and
//!
//! | loss | term |
//! |---|---|
//! | [`Dice`] | `1 − (2I + s_nr)/(P + G + s_dr)` |
//! | [`Dice`] with `jaccard` | `1 − (2I + s_nr)/(2(P + G − I) + s_dr)` |
//! | [`Tversky`] | `1 − (I + s_nr)/(I + α(P − I) + β(G − I) + s_dr)` |
//! | [`GeneralizedDice`] | one per image: `1 − (2Σ_c w_c I_c + s_nr)/(Σ_c w_c (P_c + G_c) + s_dr)`, `w_c = 1/G_c²` (an empty class takes the image's largest finite `w`) |
//!
//! Options, as MONAI: `include_background = false` drops class 0 (after the
//! softmax); `batch` sums over the images before the ratio (one term per
//! class); class weights (one per kept class) multiply the terms; `Mean`
//! averages the terms, `Sum` adds them; `per_element` writes them
//! (`[N, C_kept]`, `[C_kept]` with `batch`; generalized: `[N]` or `[1]`).
//! `s_nr = s_dr = 1e-5` by default.
//!
//! Index targets: `ignore_index` pixels count in neither `I`, `P` nor `G`
//! and get a zero gradient (MONAI's mask). With one channel (`C = 1`, the
//! binary case) the labels are the foreground mask, 0 or 1.
//!
//! The gradient is analytic through the ratio and the activation (softmax:
//! `p_c·(v_c − Σ_k p_k v_k)` with `v = ∂loss/∂p`). Differences from MONAI:
//! softmax or `include_background = false` with one channel is an error
//! (MONAI warns and skips them); class weights apply also when one class is
//! kept; at most [`DICE_MAX_CLASSES`] classes (the per-class sums live on
//! the stack). With `s_dr = 0`, an empty class gives NaN, as in MONAI.

use super::class_axis::{ClassShape, IndexLabels, TargetKind};
use super::class_loss::{Call, Verb, sealed};
use super::{ClassAxisLoss, Reduction};
use crate::dispatch::Isa;
use crate::error::LossError;
use crate::kernel::dice::{self, CrossEntropy, Output, Problem, Ratio, Target};

pub use super::class_axis::DEFAULT_IGNORE_INDEX;
pub use crate::kernel::dice::Activation;
/// The most classes (`C`) a Dice-family call takes.
pub use crate::kernel::dice::MAX_CLASSES as DICE_MAX_CLASSES;

/// MONAI's default `smooth_nr` and `smooth_dr`.
pub const DEFAULT_SMOOTH: f32 = 1e-5;

/// The options every loss of the family has.
#[derive(Clone, Copy, Debug)]
struct Options<'a> {
    activation: Activation,
    squared_pred: bool,
    include_background: bool,
    batch: bool,
    smooth_nr: f32,
    smooth_dr: f32,
    weight: Option<&'a [f32]>,
    ignore_index: i64,
}

impl Options<'_> {
    const fn new(activation: Activation) -> Self {
        Self {
            activation,
            squared_pred: false,
            include_background: true,
            batch: false,
            smooth_nr: DEFAULT_SMOOTH,
            smooth_dr: DEFAULT_SMOOTH,
            weight: None,
            ignore_index: DEFAULT_IGNORE_INDEX,
        }
    }
}

/// The builders and getters of [`Options`], for a type with an
/// `options: Options<'a>` field.
macro_rules! dice_options {
    ($a:lifetime) => {
        /// `P = Σ p²` and `G = Σ g²` instead of `Σ p`, `Σ g`.
        #[must_use]
        pub const fn with_squared_pred(mut self, squared_pred: bool) -> Self {
            self.options.squared_pred = squared_pred;
            self
        }

        /// `false` drops class 0 from the terms (after the activation; it
        /// still takes part in a softmax). Needs `C ≥ 2`.
        #[must_use]
        pub const fn with_include_background(mut self, include_background: bool) -> Self {
            self.options.include_background = include_background;
            self
        }

        /// Sums over the images before the ratio (one term per class, not
        /// per image and class).
        #[must_use]
        pub const fn with_batch(mut self, batch: bool) -> Self {
            self.options.batch = batch;
            self
        }

        /// The smoothing terms of numerator and denominator (MONAI's
        /// `smooth_nr`, `smooth_dr`; both 1e-5 by default).
        ///
        /// # Errors
        /// [`LossError::InvalidParameter`] naming `smooth_nr` or
        /// `smooth_dr` unless it is finite and ≥ 0.
        pub fn with_smooth(mut self, smooth_nr: f32, smooth_dr: f32) -> Result<Self, LossError> {
            check_nonnegative("smooth_nr", smooth_nr)?;
            check_nonnegative("smooth_dr", smooth_dr)?;
            self.options.smooth_nr = smooth_nr;
            self.options.smooth_dr = smooth_dr;
            Ok(self)
        }

        /// Pixels whose label equals `ignore_index` count nowhere (index
        /// targets only; −100 by default).
        #[must_use]
        pub const fn with_ignore_index(mut self, ignore_index: i64) -> Self {
            self.options.ignore_index = ignore_index;
            self
        }

        /// The activation.
        #[must_use]
        pub const fn activation(&self) -> Activation {
            self.options.activation
        }

        /// Whether `P` and `G` are sums of squares.
        #[must_use]
        pub const fn squared_pred(&self) -> bool {
            self.options.squared_pred
        }

        /// Whether class 0 has terms.
        #[must_use]
        pub const fn include_background(&self) -> bool {
            self.options.include_background
        }

        /// Whether the sums run over the batch.
        #[must_use]
        pub const fn batch(&self) -> bool {
            self.options.batch
        }

        /// `(smooth_nr, smooth_dr)`.
        #[must_use]
        pub const fn smooth(&self) -> (f32, f32) {
            (self.options.smooth_nr, self.options.smooth_dr)
        }

        /// The ignore index.
        #[must_use]
        pub const fn ignore_index(&self) -> i64 {
            self.options.ignore_index
        }
    };
}

/// Class weights for a type with an `options: Options<'a>` field.
macro_rules! dice_weight {
    ($a:lifetime) => {
        /// Class weights, one per kept class (`C`, or `C − 1` without the
        /// background), multiplying the terms; every call checks the
        /// length and that none is negative.
        #[must_use]
        pub const fn with_weight(mut self, weight: &$a [f32]) -> Self {
            self.options.weight = Some(weight);
            self
        }

        /// The class weights, if any.
        #[must_use]
        pub const fn weight(&self) -> Option<&$a [f32]> {
            self.options.weight
        }
    };
}

/// MONAI's `DiceLoss` (and its Jaccard form) over `[N, C, S]`, the
/// activation fused in. Verbs: [`ClassAxisLoss`]; `per_element` writes the
/// terms. Formulas and options: see the [module docs](self).
///
/// ```
/// use simdloss::{Activation, ClassAxisLoss, ClassShape, Dice, Grad, Reduction};
///
/// // Binary segmentation: one image, one channel, four pixels.
/// let logits = [3.0f32, -2.0, 1.0, -4.0];
/// let mask = [1u8, 0, 1, 0];
/// let shape = ClassShape::new(1, 1, 4)?;
/// let mut grad = [0.0f32; 4];
/// let dice = Dice::new(Activation::Sigmoid);
/// let loss = dice.value_and_grad(&logits, shape, &mask, Reduction::Mean, Grad::overwrite(&mut grad))?;
/// assert!(loss > 0.0 && loss < 0.2);
/// assert!(grad[0] < 0.0 && grad[1] > 0.0);
/// # Ok::<(), simdloss::LossError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Dice<'a> {
    options: Options<'a>,
    jaccard: bool,
    isa: Option<Isa>,
}

impl<'a> Dice<'a> {
    /// MONAI's defaults: Dice, background included, `s_nr = s_dr = 1e-5`,
    /// per image, no weights, `ignore_index = −100`.
    #[must_use]
    pub const fn new(activation: Activation) -> Self {
        Self {
            options: Options::new(activation),
            jaccard: false,
            isa: None,
        }
    }

    /// The Jaccard (IoU) form `1 − (2I + s_nr)/(2(P + G − I) + s_dr)`.
    #[must_use]
    pub const fn with_jaccard(mut self, jaccard: bool) -> Self {
        self.jaccard = jaccard;
        self
    }

    /// Whether this is the Jaccard form.
    #[must_use]
    pub const fn jaccard(&self) -> bool {
        self.jaccard
    }

    dice_options!('a);
    dice_weight!('a);
}

/// MONAI's `TverskyLoss`: `1 − (I + s_nr)/(I + α·FP + β·FN + s_dr)` with
/// `FP = P − I`, `FN = G − I` (α = β = ½ is Dice with halved smoothing).
/// Verbs: [`ClassAxisLoss`]; options: see the [module docs](self).
#[derive(Clone, Copy, Debug)]
pub struct Tversky<'a> {
    options: Options<'a>,
    alpha: f32,
    beta: f32,
    isa: Option<Isa>,
}

impl<'a> Tversky<'a> {
    /// Tversky with false-positive weight α and false-negative weight β
    /// (MONAI's defaults are 0.5 and 0.5).
    ///
    /// # Errors
    /// [`LossError::InvalidParameter`] naming `alpha` or `beta` unless it is
    /// finite and ≥ 0.
    pub fn new(activation: Activation, alpha: f32, beta: f32) -> Result<Self, LossError> {
        check_nonnegative("alpha", alpha)?;
        check_nonnegative("beta", beta)?;
        Ok(Self {
            options: Options::new(activation),
            alpha,
            beta,
            isa: None,
        })
    }

    /// `(α, β)`.
    #[must_use]
    pub const fn alpha_beta(&self) -> (f32, f32) {
        (self.alpha, self.beta)
    }

    dice_options!('a);
    dice_weight!('a);
}

/// MONAI's `GeneralizedDiceLoss` (`w_type = "square"`): one term per image
/// (or one for the batch) over its classes weighted by `w_c = 1/G_c²`; an
/// empty class (`G_c = 0`) takes the largest finite weight of the image (of
/// the batch with `batch`), all weights 0 if every class is empty. The
/// weights are constants for the gradient. Verbs: [`ClassAxisLoss`];
/// `per_element` writes `[N]` (or `[1]`).
///
/// Accuracy: the bounds of the precision table hold for probability
/// targets that are 0 or at least `2⁻⁴⁰`. The sums round `p·g`, `g²` and
/// `p²` in f32, whose underflow below `2⁻¹²⁶` the weight `1/G²` of a
/// class of tiny mass `G` amplifies: a class whose non-zero targets are
/// all below about `2⁻⁶³` gets a term that is wrong by O(1) (still
/// finite). Gradients stay finite where the exact ones are: a class whose
/// f64 derivative exceeds f32 is carried with a power-of-two shift.
#[derive(Clone, Copy, Debug)]
pub struct GeneralizedDice<'a> {
    options: Options<'a>,
    isa: Option<Isa>,
}

impl GeneralizedDice<'_> {
    /// MONAI's defaults (background included, `s_nr = s_dr = 1e-5`, per
    /// image).
    #[must_use]
    pub const fn new(activation: Activation) -> Self {
        Self {
            options: Options::new(activation),
            isa: None,
        }
    }

    dice_options!('static);
}

/// MONAI's `DiceCELoss`: `λ_dice·Dice(softmax) + λ_ce·CE` on the same
/// logits, one softmax per pixel serving both (two passes: the sums and
/// the CE value, then the combined gradient). The CE is PyTorch's
/// `cross_entropy` with the class weights, label smoothing and
/// `ignore_index` (its `Mean` divides by `Σ w_y` over the counted pixels,
/// or by `N·S` for probability targets; 0 when every pixel is ignored); the
/// Dice part is [`Dice`] with softmax, the same options, and the weights of
/// the kept classes (`weight[1..]` without the background, as MONAI). One
/// reduction applies to both halves. `per_element` is not defined (MONAI
/// refuses `reduction = "none"` too): it returns
/// [`LossError::UnsupportedTarget`] naming `out`.
///
/// ```
/// use simdloss::{ClassAxisLoss, ClassShape, DiceCrossEntropy, Grad, Reduction};
///
/// let shape = ClassShape::new(1, 3, 4)?;
/// let logits = [2.0f32, 0.0, -1.0, 1.0, 0.0, 1.0, 3.0, 1.0, -1.0, 0.5, 0.0, 1.0];
/// let labels = [0u8, 1, 255, 2];
/// let loss = DiceCrossEntropy::new().with_ignore_index(255).with_include_background(false);
/// let mut grad = [0.0f32; 12];
/// let v = loss.value_and_grad(&logits, shape, &labels, Reduction::Mean, Grad::overwrite(&mut grad))?;
/// assert!(v > 0.0);
/// # Ok::<(), simdloss::LossError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DiceCrossEntropy<'a> {
    options: Options<'a>,
    jaccard: bool,
    lambda_dice: f32,
    lambda_ce: f32,
    label_smoothing: f32,
    isa: Option<Isa>,
}

impl Default for DiceCrossEntropy<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> DiceCrossEntropy<'a> {
    /// MONAI's defaults: `λ_dice = λ_ce = 1`, Dice, background included,
    /// `s_nr = s_dr = 1e-5`, no weights, no smoothing, `ignore_index = −100`.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            options: Options::new(Activation::Softmax),
            jaccard: false,
            lambda_dice: 1.0,
            lambda_ce: 1.0,
            label_smoothing: 0.0,
            isa: None,
        }
    }

    /// The weights of the two halves.
    ///
    /// # Errors
    /// [`LossError::InvalidParameter`] naming `lambda_dice` or `lambda_ce`
    /// unless it is finite and ≥ 0.
    pub fn with_lambdas(mut self, lambda_dice: f32, lambda_ce: f32) -> Result<Self, LossError> {
        check_nonnegative("lambda_dice", lambda_dice)?;
        check_nonnegative("lambda_ce", lambda_ce)?;
        self.lambda_dice = lambda_dice;
        self.lambda_ce = lambda_ce;
        Ok(self)
    }

    /// Label smoothing ε of the cross-entropy.
    ///
    /// # Errors
    /// [`LossError::InvalidParameter`] naming `label_smoothing` unless
    /// `0 ≤ ε ≤ 1`.
    pub fn with_label_smoothing(mut self, label_smoothing: f32) -> Result<Self, LossError> {
        if !(0.0..=1.0).contains(&label_smoothing) {
            return Err(LossError::InvalidParameter {
                argument: "label_smoothing",
                value: label_smoothing,
                requirement: "in [0, 1]",
            });
        }
        self.label_smoothing = label_smoothing;
        Ok(self)
    }

    /// The Jaccard form of the Dice half.
    #[must_use]
    pub const fn with_jaccard(mut self, jaccard: bool) -> Self {
        self.jaccard = jaccard;
        self
    }

    /// Class weights, `C` of them (every call checks the length and that
    /// none is negative): the CE's weights, and those of the kept classes
    /// for the Dice half.
    #[must_use]
    pub const fn with_weight(mut self, weight: &'a [f32]) -> Self {
        self.options.weight = Some(weight);
        self
    }

    /// The class weights, if any.
    #[must_use]
    pub const fn weight(&self) -> Option<&'a [f32]> {
        self.options.weight
    }

    /// `(λ_dice, λ_ce)`.
    #[must_use]
    pub const fn lambdas(&self) -> (f32, f32) {
        (self.lambda_dice, self.lambda_ce)
    }

    /// The label smoothing ε.
    #[must_use]
    pub const fn label_smoothing(&self) -> f32 {
        self.label_smoothing
    }

    /// Whether the Dice half is the Jaccard form.
    #[must_use]
    pub const fn jaccard(&self) -> bool {
        self.jaccard
    }

    dice_options!('a);
}

impl sealed::Sealed for DiceCrossEntropy<'_> {
    sealed_isa!();

    fn per_element_len(&self, _shape: ClassShape) -> usize {
        0
    }

    fn run(&self, isa: Isa, call: Call<'_>) -> Result<f32, LossError> {
        if matches!(call.verb, Verb::PerElement(_)) {
            return Err(LossError::UnsupportedTarget {
                argument: "out",
                requirement: "a reduced call (DiceCrossEntropy has no per-element form)",
            });
        }
        let shape = call.shape;
        let weight = self.options.weight;
        // The weights have C entries here; the Dice half takes the kept ones.
        let mut dice_options = self.options;
        dice_options.weight = None;
        dice_options.check(shape)?;
        if let Some(w) = weight {
            shape.check_len("weight", shape.classes(), w.len())?;
            if let Some(index) = w.iter().position(|&v| v < 0.0) {
                return Err(LossError::OutOfRange {
                    argument: "weight",
                    index,
                    value: w.get(index).copied().unwrap_or(0.0),
                    requirement: ">= 0",
                });
            }
        }
        let ratio = if self.jaccard {
            Ratio::Jaccard
        } else {
            Ratio::Dice
        };
        let ce = WithCrossEntropy {
            weight,
            smoothing: self.label_smoothing,
            lambda_dice: self.lambda_dice,
            lambda_ce: self.lambda_ce,
        };
        let dice_weight = weight.and_then(|w| w.get(self.options.first_class()..));
        self.options
            .execute(ratio, isa, call, dice_weight, Some(&ce))
    }
}

impl ClassAxisLoss for DiceCrossEntropy<'_> {}

#[allow(clippy::cast_possible_truncation)]
fn f64_to_f32(v: f64) -> f32 {
    v as f32
}

/// The cross-entropy half of a Dice + CE call.
struct WithCrossEntropy<'a> {
    weight: Option<&'a [f32]>,
    smoothing: f32,
    lambda_dice: f32,
    lambda_ce: f32,
}

fn check_nonnegative(argument: &'static str, value: f32) -> Result<(), LossError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(LossError::InvalidParameter {
            argument,
            value,
            requirement: "finite and >= 0",
        })
    }
}

impl Options<'_> {
    fn first_class(&self) -> usize {
        usize::from(!self.include_background)
    }

    /// The checks of a call that depend on the shape.
    fn check(&self, shape: ClassShape) -> Result<(), LossError> {
        let c = shape.classes();
        if c > DICE_MAX_CLASSES {
            return Err(LossError::InvalidShape {
                argument: "c",
                value: c,
                requirement: "<= DICE_MAX_CLASSES (128) for the Dice family",
            });
        }
        if c == 1 && self.activation == Activation::Softmax {
            return Err(LossError::InvalidShape {
                argument: "c",
                value: c,
                requirement: ">= 2 with Activation::Softmax",
            });
        }
        if c == 1 && !self.include_background {
            return Err(LossError::InvalidShape {
                argument: "c",
                value: c,
                requirement: ">= 2 without the background class",
            });
        }
        if let Some(w) = self.weight {
            shape.check_len("weight", c - self.first_class(), w.len())?;
            if let Some(index) = w.iter().position(|&v| v < 0.0) {
                return Err(LossError::OutOfRange {
                    argument: "weight",
                    index,
                    value: w.get(index).copied().unwrap_or(0.0),
                    requirement: ">= 0",
                });
            }
        }
        Ok(())
    }

    fn run(&self, ratio: Ratio, isa: Isa, call: Call<'_>) -> Result<f32, LossError> {
        self.check(call.shape)?;
        self.execute(ratio, isa, call, self.weight, None)
    }

    /// Runs a checked call: `dice_weight` one per kept class, `with_ce` the
    /// cross-entropy half of Dice + CE.
    fn execute(
        &self,
        ratio: Ratio,
        isa: Isa,
        call: Call<'_>,
        dice_weight: Option<&[f32]>,
        with_ce: Option<&WithCrossEntropy<'_>>,
    ) -> Result<f32, LossError> {
        let shape = call.shape;
        let labels;
        let ce_weight = with_ce.and_then(|ce| ce.weight);
        let (target, ce_denominator) = match call.target {
            TargetKind::Index(l) => {
                // One channel: the labels are the 0/1 foreground mask.
                let check_shape = if shape.classes() == 1 {
                    ClassShape::new(shape.batch(), 2, shape.spatial())?
                } else {
                    shape
                };
                let (checked, weight_sum, _) =
                    IndexLabels::validate(l, check_shape, self.ignore_index, ce_weight)?;
                labels = checked;
                (Target::Index(labels.run()), weight_sum)
            }
            TargetKind::Probabilities(t) => {
                shape.check_len("target", shape.len(), t.len())?;
                #[allow(clippy::cast_precision_loss)]
                let samples = shape.samples() as f64;
                (Target::Probabilities(t), samples)
            }
        };
        let mut problem = Problem {
            logits: call.input,
            n: shape.batch(),
            c: shape.classes(),
            s: shape.spatial(),
            target,
            activation: self.activation,
            ratio,
            squared_pred: self.squared_pred,
            first_class: self.first_class(),
            batch: self.batch,
            smooth_nr: f64::from(self.smooth_nr),
            smooth_dr: f64::from(self.smooth_dr),
            weight: dice_weight,
            cross_entropy: None,
        };
        let mean = call.reduction == Reduction::Mean;
        #[allow(clippy::cast_precision_loss)]
        let dice_inv = if mean {
            1.0 / problem.terms() as f64
        } else {
            1.0
        };
        let ce_inv = match with_ce {
            Some(_) if mean && ce_denominator == 0.0 => 0.0,
            Some(_) if mean => 1.0 / ce_denominator,
            _ => 1.0,
        };
        let (lambda_dice, lambda_ce) = with_ce.map_or((1.0, 0.0), |ce| {
            (f64::from(ce.lambda_dice), f64::from(ce.lambda_ce))
        });
        let output = match call.verb {
            Verb::Value => Output::Value,
            Verb::Grad(g) => {
                let (buf, scale, accumulate) = g.into_parts();
                let scale = f64::from(scale);
                if let Some(ce) = with_ce {
                    problem.cross_entropy = Some(CrossEntropy {
                        weight: ce.weight,
                        smoothing: ce.smoothing,
                        grad_scale: f64_to_f32(scale * lambda_ce * ce_inv),
                    });
                }
                Output::Grad {
                    buf,
                    scale: f64_to_f32(scale * lambda_dice * dice_inv),
                    accumulate,
                }
            }
            Verb::PerElement(out) => Output::Terms(out),
        };
        if let (Some(ce), None) = (with_ce, problem.cross_entropy) {
            problem.cross_entropy = Some(CrossEntropy {
                weight: ce.weight,
                smoothing: ce.smoothing,
                grad_scale: 0.0,
            });
        }
        let totals =
            dice::execute(isa, problem, output).ok_or(LossError::IsaUnavailable { isa })?;
        let value =
            lambda_dice * totals.dice * dice_inv + lambda_ce * totals.cross_entropy * ce_inv;
        Ok(f64_to_f32(value))
    }

    /// How many terms a call over `shape` has.
    fn terms(&self, shape: ClassShape, generalized: bool) -> usize {
        let groups = if self.batch { 1 } else { shape.batch() };
        let per_group = if generalized {
            1
        } else {
            shape.classes().saturating_sub(self.first_class())
        };
        groups * per_group
    }
}

impl sealed::Sealed for Dice<'_> {
    sealed_isa!();

    fn per_element_len(&self, shape: ClassShape) -> usize {
        self.options.terms(shape, false)
    }

    fn run(&self, isa: Isa, call: Call<'_>) -> Result<f32, LossError> {
        let ratio = if self.jaccard {
            Ratio::Jaccard
        } else {
            Ratio::Dice
        };
        self.options.run(ratio, isa, call)
    }
}

impl ClassAxisLoss for Dice<'_> {}

impl sealed::Sealed for Tversky<'_> {
    sealed_isa!();

    fn per_element_len(&self, shape: ClassShape) -> usize {
        self.options.terms(shape, false)
    }

    fn run(&self, isa: Isa, call: Call<'_>) -> Result<f32, LossError> {
        let ratio = Ratio::Tversky {
            alpha: f64::from(self.alpha),
            beta: f64::from(self.beta),
        };
        self.options.run(ratio, isa, call)
    }
}

impl ClassAxisLoss for Tversky<'_> {}

impl sealed::Sealed for GeneralizedDice<'_> {
    sealed_isa!();

    fn per_element_len(&self, shape: ClassShape) -> usize {
        self.options.terms(shape, true)
    }

    fn run(&self, isa: Isa, call: Call<'_>) -> Result<f32, LossError> {
        self.options.run(Ratio::Generalized, isa, call)
    }
}

impl ClassAxisLoss for GeneralizedDice<'_> {}
