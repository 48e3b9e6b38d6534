//! Softmax cross-entropy and softmax focal loss over a class axis
//! (PyTorch `cross_entropy` / the usual multi-class focal loss), for
//! classifiers `[N, C]` and segmentation maps `[N, C, H·W]` (see
//! [`ClassShape`]).
//!
//! With `p = softmax(x)` over the classes of one sample, `ℓ_c = −ln p_c`:
//!
//! | loss | value per sample | ∂/∂x_c |
//! |---|---|---|
//! | [`SoftmaxCrossEntropy`], index `y` | `(1−ε)·w_y·ℓ_y + (ε/C)·Σ_k w_k ℓ_k` | `A·p_c − a_c`, `a = (1−ε)w_y·onehot(y) + (ε/C)·w`, `A = Σ a` |
//! | [`SoftmaxCrossEntropy`], probabilities `t` | `Σ_k w_k t'_k ℓ_k`, `t' = (1−ε)t + ε/C` | `A·p_c − a_c`, `a = w ⊙ t'` |
//! | [`SoftmaxFocal`], index `y` | `w_y·(1−p_y)^γ·ℓ_y` | `G·(p_c − [c = y])`, `G = w_y(1−p_y)^γ·(1 + γ·p_y·ℓ_y/(1−p_y))` |
//!
//! `w` are the class weights (1 without), ε the label smoothing. An ignored
//! sample (its label equals `ignore_index`) adds nothing to the value and
//! gets a zero gradient.
//!
//! Reductions: `Sum` is the plain sum over samples. `Mean` divides, as
//! PyTorch does, by `Σ w_y` over the non-ignored samples (cross-entropy
//! with index targets), by their count (focal), or by `N·S` (probability
//! targets). **Difference from PyTorch**: when every sample is ignored,
//! `Mean` gives 0 and a zero gradient (PyTorch gives NaN).
//!
//! Totality: logits may be huge (±1e30) or infinite; the result is the
//! mathematical limit where it exists (a `+∞` logit on the target class:
//! loss 0; `k` logits at `+∞`: each has `p = 1/k`; a `−∞` logit: `p = 0`,
//! and an infinite loss if it is the target). A NaN logit makes its
//! sample's value and gradient NaN and leaves the others alone. A sample
//! whose logits are all `−∞` has no softmax: its value and gradient are
//! NaN (as in PyTorch).
//!
//! Which kernel runs depends only on the shape (never on the ISA, so the
//! bits are the same on every path): `S = 1` with at least
//! [`ROW_KERNEL_MIN_CLASSES`] classes is vectorized along the classes of a
//! row; everything else along the samples, a tile of 64 samples at a time.
//! Either way each sample takes three short passes while its logits are in
//! L1 (the maximum; one `exp` per logit and the sum; the gradient), so a
//! logit is read from memory once and each gradient element written once.

use super::class_axis::{ClassShape, IndexLabels, TargetKind};
use super::class_loss::{Call, Verb, sealed};
use super::{ClassAxisLoss, Reduction};
use crate::dispatch::Isa;
use crate::error::LossError;
use crate::kernel::softmax::{self, Output, Problem, Target};

pub use super::class_axis::DEFAULT_IGNORE_INDEX;
pub use crate::kernel::softmax::ROW_KERNEL_MIN_CLASSES;

/// Softmax cross-entropy (PyTorch `torch.nn.functional.cross_entropy`)
/// over `[N, C, S]` logits, with index or probability targets, class
/// weights, `ignore_index` and label smoothing. The verbs are those of
/// [`ClassAxisLoss`]; `per_element` writes the loss of each sample
/// `j = n·S + s` (`[N, S]`, 0 for an ignored sample). Formulas and
/// reductions: see the [module docs](self).
///
/// ```
/// use simdloss::{ClassAxisLoss, ClassShape, Grad, Reduction, SoftmaxCrossEntropy};
///
/// // Two samples, three classes.
/// let logits = [2.0f32, 0.0, -1.0, 0.5, 0.5, 3.0];
/// let labels = [0u8, 2];
/// let shape = ClassShape::classifier(2, 3)?;
/// let mut grad = [0.0f32; 6];
/// let ce = SoftmaxCrossEntropy::new();
/// let loss = ce.value_and_grad(&logits, shape, &labels, Reduction::Mean, Grad::overwrite(&mut grad))?;
/// assert!((loss - 0.160_927).abs() < 1e-5);
/// # Ok::<(), simdloss::LossError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct SoftmaxCrossEntropy<'a> {
    weight: Option<&'a [f32]>,
    ignore_index: i64,
    label_smoothing: f32,
    isa: Option<Isa>,
}

impl Default for SoftmaxCrossEntropy<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> SoftmaxCrossEntropy<'a> {
    /// No class weights, `ignore_index = −100`, no label smoothing.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            weight: None,
            ignore_index: DEFAULT_IGNORE_INDEX,
            label_smoothing: 0.0,
            isa: None,
        }
    }

    class_weight_and_ignore_index!('a, "Class weights `w` (`C` of them; every call checks the length).");

    /// Label smoothing ε (PyTorch's `label_smoothing`).
    ///
    /// # Errors
    /// [`LossError::InvalidParameter`] naming `label_smoothing` unless
    /// `0 ≤ ε ≤ 1`.
    pub fn with_label_smoothing(self, label_smoothing: f32) -> Result<Self, LossError> {
        if !(0.0..=1.0).contains(&label_smoothing) {
            return Err(LossError::InvalidParameter {
                argument: "label_smoothing",
                value: label_smoothing,
                requirement: "in [0, 1]",
            });
        }
        Ok(Self {
            label_smoothing,
            ..self
        })
    }

    /// The label smoothing ε.
    #[must_use]
    pub const fn label_smoothing(&self) -> f32 {
        self.label_smoothing
    }
}

impl sealed::Sealed for SoftmaxCrossEntropy<'_> {
    sealed_isa!();

    fn per_element_len(&self, shape: ClassShape) -> usize {
        shape.samples()
    }

    fn run(&self, isa: Isa, call: Call<'_>) -> Result<f32, LossError> {
        let shape = call.shape;
        check_weight(shape, self.weight)?;
        match call.target {
            TargetKind::Index(labels) => {
                let (labels, weight_sum, _) =
                    IndexLabels::validate(labels, shape, self.ignore_index, self.weight)?;
                let target = Target::Index(labels.run());
                let problem = problem(&call, target, self.weight, self.label_smoothing, None);
                execute(isa, problem, call.verb, call.reduction, weight_sum)
            }
            TargetKind::Probabilities(t) => {
                shape.check_len("target", shape.len(), t.len())?;
                let target = Target::Probabilities(t);
                let problem = problem(&call, target, self.weight, self.label_smoothing, None);
                #[allow(clippy::cast_precision_loss)]
                let samples = shape.samples() as f64;
                execute(isa, problem, call.verb, call.reduction, samples)
            }
        }
    }
}

impl ClassAxisLoss for SoftmaxCrossEntropy<'_> {}

/// Softmax focal loss `−w_y·(1 − p_y)^γ·ln p_y` (Lin et al., the
/// multi-class form) over `[N, C, S]` logits with index targets, class
/// weights and `ignore_index`. `Mean` divides by the number of non-ignored
/// samples. The gradient is analytic and finite for every finite logit and
/// every γ ≥ 0 (γ < 1 at `p_y → 1` included); `(1 − p_y)^γ` is
/// `exp(γ·ln(1 − p_y))` with `1 − p_y` computed without cancellation.
/// The verbs are those of [`ClassAxisLoss`] with index targets
/// ([`Probabilities`](super::class_axis::Probabilities) give
/// [`LossError::UnsupportedTarget`]); `per_element` writes `[N, S]`.
/// Formulas: see the [module docs](self).
#[derive(Clone, Copy, Debug)]
pub struct SoftmaxFocal<'a> {
    gamma: f32,
    weight: Option<&'a [f32]>,
    ignore_index: i64,
    isa: Option<Isa>,
}

impl<'a> SoftmaxFocal<'a> {
    /// Focusing parameter γ (2 is the usual choice; 0 is cross-entropy).
    ///
    /// # Errors
    /// [`LossError::InvalidParameter`] naming `gamma` unless it is finite
    /// and ≥ 0.
    pub fn new(gamma: f32) -> Result<Self, LossError> {
        if !(gamma.is_finite() && gamma >= 0.0) {
            return Err(LossError::InvalidParameter {
                argument: "gamma",
                value: gamma,
                requirement: "finite and >= 0",
            });
        }
        Ok(Self {
            gamma,
            weight: None,
            ignore_index: DEFAULT_IGNORE_INDEX,
            isa: None,
        })
    }

    class_weight_and_ignore_index!('a, "Class weights `w` (`C` of them; every call checks the length).");

    /// The focusing parameter γ.
    #[must_use]
    pub const fn gamma(&self) -> f32 {
        self.gamma
    }
}

impl sealed::Sealed for SoftmaxFocal<'_> {
    sealed_isa!();

    fn per_element_len(&self, shape: ClassShape) -> usize {
        shape.samples()
    }

    fn run(&self, isa: Isa, call: Call<'_>) -> Result<f32, LossError> {
        let shape = call.shape;
        check_weight(shape, self.weight)?;
        let TargetKind::Index(labels) = call.target else {
            return Err(LossError::UnsupportedTarget {
                argument: "target",
                requirement: "class indices (SoftmaxFocal takes no probability targets)",
            });
        };
        let (labels, _, count) =
            IndexLabels::validate(labels, shape, self.ignore_index, self.weight)?;
        let target = Target::Index(labels.run());
        let problem = problem(&call, target, self.weight, 0.0, Some(self.gamma));
        #[allow(clippy::cast_precision_loss)]
        let count = count as f64;
        execute(isa, problem, call.verb, call.reduction, count)
    }
}

impl ClassAxisLoss for SoftmaxFocal<'_> {}

/// `Err(LengthMismatch)` naming `weight` unless it has one value per class.
fn check_weight(shape: ClassShape, weight: Option<&[f32]>) -> Result<(), LossError> {
    match weight {
        Some(w) => shape.check_len("weight", shape.classes(), w.len()),
        None => Ok(()),
    }
}

/// The kernel's view of a checked call.
fn problem<'p>(
    call: &Call<'p>,
    target: Target<'p>,
    weight: Option<&'p [f32]>,
    smoothing: f32,
    focal_gamma: Option<f32>,
) -> Problem<'p> {
    Problem {
        logits: call.input,
        n: call.shape.batch(),
        c: call.shape.classes(),
        s: call.shape.spatial(),
        target,
        weight,
        smoothing,
        focal_gamma,
    }
}

/// Runs the kernel and reduces: `Mean` divides by `denominator` (a sum of
/// weights, a count of samples), 0 if that is 0 (every sample ignored).
fn execute(
    isa: Isa,
    problem: Problem<'_>,
    verb: Verb<'_>,
    reduction: Reduction,
    denominator: f64,
) -> Result<f32, LossError> {
    let inv = match reduction {
        Reduction::Sum => 1.0,
        Reduction::Mean if denominator == 0.0 => 0.0,
        Reduction::Mean => 1.0 / denominator,
    };
    let output = match verb {
        Verb::Value => Output::Value,
        Verb::Grad(g) => {
            let (buf, scale, accumulate) = g.into_parts();
            #[allow(clippy::cast_possible_truncation)]
            let scale = (f64::from(scale) * inv) as f32;
            Output::Grad {
                buf,
                scale,
                accumulate,
            }
        }
        Verb::PerElement(out) => Output::PerSample(out),
    };
    let sum = softmax::execute(isa, problem, output).ok_or(LossError::IsaUnavailable { isa })?;
    #[allow(clippy::cast_possible_truncation)]
    Ok((sum * inv) as f32)
}
