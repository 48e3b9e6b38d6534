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

use super::class_axis::{ClassShape, ClassTarget, IndexLabels, Label, TargetKind};
use super::{Grad, Reduction};
use crate::dispatch::Isa;
use crate::error::LossError;
use crate::kernel::softmax::{self, Output, Problem, Target};

pub use crate::kernel::softmax::ROW_KERNEL_MIN_CLASSES;

/// The default `ignore_index`, as in PyTorch.
pub const DEFAULT_IGNORE_INDEX: i64 = -100;

/// Softmax cross-entropy (PyTorch `torch.nn.functional.cross_entropy`)
/// over `[N, C, S]` logits, with index or probability targets, class
/// weights, `ignore_index` and label smoothing. Formulas and reductions:
/// see the [module docs](self).
///
/// ```
/// use simdloss::{ClassShape, Grad, Reduction, SoftmaxCrossEntropy};
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

    /// Class weights `w` (`C` of them; every call checks the length).
    /// Not validated (NaN gives NaN).
    #[must_use]
    pub const fn with_weight(self, weight: &'a [f32]) -> Self {
        Self {
            weight: Some(weight),
            ..self
        }
    }

    /// Samples whose label equals `ignore_index` add nothing (index
    /// targets only). Any value works: −100 (PyTorch's default), 255 (the
    /// usual "void" of `u8` masks), a value no label takes.
    #[must_use]
    pub const fn with_ignore_index(self, ignore_index: i64) -> Self {
        Self {
            ignore_index,
            ..self
        }
    }

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

    /// Runs every later call on `isa` instead of the best one detected.
    ///
    /// # Errors
    /// [`LossError::IsaUnavailable`] if this CPU or build cannot run `isa`.
    pub fn with_isa(self, isa: Isa) -> Result<Self, LossError> {
        check_isa(isa)?;
        Ok(Self {
            isa: Some(isa),
            ..self
        })
    }

    /// The instruction set calls will run on.
    #[must_use]
    pub fn isa(&self) -> Isa {
        self.isa.unwrap_or_else(Isa::best)
    }

    /// The class weights, if any.
    #[must_use]
    pub const fn weight(&self) -> Option<&'a [f32]> {
        self.weight
    }

    /// The ignore index.
    #[must_use]
    pub const fn ignore_index(&self) -> i64 {
        self.ignore_index
    }

    /// The label smoothing ε.
    #[must_use]
    pub const fn label_smoothing(&self) -> f32 {
        self.label_smoothing
    }

    /// The reduced loss.
    ///
    /// # Errors
    /// - [`LossError::LengthMismatch`] if `input` does not have
    ///   `shape.len()` elements, index targets `shape.samples()`,
    ///   probability targets `shape.len()`, or the weights `C`.
    /// - [`LossError::InvalidLabel`] naming the first label that is
    ///   neither in `0..C` nor `ignore_index`.
    ///
    /// Nothing is written on error.
    pub fn value<'t>(
        &self,
        input: &[f32],
        shape: ClassShape,
        target: impl ClassTarget<'t>,
        reduction: Reduction,
    ) -> Result<f32, LossError> {
        self.call(input, shape, target.kind(), reduction, Call::Value)
    }

    /// The reduced loss and, in the same two passes over the logits, its
    /// gradient with respect to `input` written through `grad`
    /// (`shape.len()` elements).
    ///
    /// # Errors
    /// As [`value`](Self::value), and `grad`'s length.
    pub fn value_and_grad<'t>(
        &self,
        input: &[f32],
        shape: ClassShape,
        target: impl ClassTarget<'t>,
        reduction: Reduction,
        grad: Grad<'_>,
    ) -> Result<f32, LossError> {
        self.call(input, shape, target.kind(), reduction, Call::Grad(grad))
    }

    /// `out[j]` = the loss of sample `j = n·S + s` (no reduction; 0 for an
    /// ignored sample); `out` has `shape.samples()` elements.
    ///
    /// # Errors
    /// As [`value`](Self::value), and `out`'s length.
    pub fn per_element<'t>(
        &self,
        input: &[f32],
        shape: ClassShape,
        target: impl ClassTarget<'t>,
        out: &mut [f32],
    ) -> Result<(), LossError> {
        self.call(
            input,
            shape,
            target.kind(),
            Reduction::Sum,
            Call::PerSample(out),
        )
        .map(|_| ())
    }

    fn call(
        &self,
        input: &[f32],
        shape: ClassShape,
        target: TargetKind<'_>,
        reduction: Reduction,
        call: Call<'_, '_>,
    ) -> Result<f32, LossError> {
        let common = Common::check(input, shape, self.weight, &call)?;
        match target {
            TargetKind::Index(labels) => {
                let (labels, weight_sum, _) =
                    IndexLabels::validate(labels, shape, self.ignore_index, self.weight)?;
                let classes = |j: usize| labels.class(j);
                let problem = common.problem(Target::Index(&classes), self.label_smoothing, None);
                run(self.isa, problem, call, reduction, weight_sum)
            }
            TargetKind::Probabilities(t) => {
                shape.check_len("target", shape.len(), t.len())?;
                let problem = common.problem(Target::Probabilities(t), self.label_smoothing, None);
                #[allow(clippy::cast_precision_loss)]
                let samples = shape.samples() as f64;
                run(self.isa, problem, call, reduction, samples)
            }
        }
    }
}

/// Softmax focal loss `−w_y·(1 − p_y)^γ·ln p_y` (Lin et al., the
/// multi-class form) over `[N, C, S]` logits with index targets, class
/// weights and `ignore_index`. `Mean` divides by the number of non-ignored
/// samples. The gradient is analytic and finite for every finite logit and
/// every γ ≥ 0 (γ < 1 at `p_y → 1` included); `(1 − p_y)^γ` is
/// `exp(γ·ln(1 − p_y))` with `1 − p_y` computed without cancellation.
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

    /// Class weights `w` (`C` of them; every call checks the length).
    #[must_use]
    pub const fn with_weight(self, weight: &'a [f32]) -> Self {
        Self {
            weight: Some(weight),
            ..self
        }
    }

    /// Samples whose label equals `ignore_index` add nothing.
    #[must_use]
    pub const fn with_ignore_index(self, ignore_index: i64) -> Self {
        Self {
            ignore_index,
            ..self
        }
    }

    /// Runs every later call on `isa` instead of the best one detected.
    ///
    /// # Errors
    /// [`LossError::IsaUnavailable`] if this CPU or build cannot run `isa`.
    pub fn with_isa(self, isa: Isa) -> Result<Self, LossError> {
        check_isa(isa)?;
        Ok(Self {
            isa: Some(isa),
            ..self
        })
    }

    /// The instruction set calls will run on.
    #[must_use]
    pub fn isa(&self) -> Isa {
        self.isa.unwrap_or_else(Isa::best)
    }

    /// The focusing parameter γ.
    #[must_use]
    pub const fn gamma(&self) -> f32 {
        self.gamma
    }

    /// The class weights, if any.
    #[must_use]
    pub const fn weight(&self) -> Option<&'a [f32]> {
        self.weight
    }

    /// The ignore index.
    #[must_use]
    pub const fn ignore_index(&self) -> i64 {
        self.ignore_index
    }

    /// The reduced loss.
    ///
    /// # Errors
    /// As [`SoftmaxCrossEntropy::value`] with index targets.
    pub fn value<T: Label>(
        &self,
        input: &[f32],
        shape: ClassShape,
        target: &[T],
        reduction: Reduction,
    ) -> Result<f32, LossError> {
        self.call(input, shape, target, reduction, Call::Value)
    }

    /// The reduced loss and its gradient, written through `grad`.
    ///
    /// # Errors
    /// As [`SoftmaxCrossEntropy::value_and_grad`] with index targets.
    pub fn value_and_grad<T: Label>(
        &self,
        input: &[f32],
        shape: ClassShape,
        target: &[T],
        reduction: Reduction,
        grad: Grad<'_>,
    ) -> Result<f32, LossError> {
        self.call(input, shape, target, reduction, Call::Grad(grad))
    }

    /// `out[j]` = the loss of sample `j` (0 for an ignored sample).
    ///
    /// # Errors
    /// As [`SoftmaxCrossEntropy::per_element`] with index targets.
    pub fn per_element<T: Label>(
        &self,
        input: &[f32],
        shape: ClassShape,
        target: &[T],
        out: &mut [f32],
    ) -> Result<(), LossError> {
        self.call(input, shape, target, Reduction::Sum, Call::PerSample(out))
            .map(|_| ())
    }

    fn call<T: Label>(
        &self,
        input: &[f32],
        shape: ClassShape,
        target: &[T],
        reduction: Reduction,
        call: Call<'_, '_>,
    ) -> Result<f32, LossError> {
        let common = Common::check(input, shape, self.weight, &call)?;
        let (labels, _, count) =
            IndexLabels::validate(T::labels(target), shape, self.ignore_index, self.weight)?;
        let classes = |j: usize| labels.class(j);
        let problem = common.problem(Target::Index(&classes), 0.0, Some(self.gamma));
        #[allow(clippy::cast_precision_loss)]
        let count = count as f64;
        run(self.isa, problem, call, reduction, count)
    }
}

fn check_isa(isa: Isa) -> Result<(), LossError> {
    if isa.is_available() {
        Ok(())
    } else {
        Err(LossError::IsaUnavailable { isa })
    }
}

/// What a verb writes.
enum Call<'g, 'o> {
    Value,
    Grad(Grad<'g>),
    PerSample(&'o mut [f32]),
}

/// The checks every verb shares, done before anything is written.
struct Common<'a> {
    input: &'a [f32],
    shape: ClassShape,
    weight: Option<&'a [f32]>,
}

impl<'a> Common<'a> {
    fn check(
        input: &'a [f32],
        shape: ClassShape,
        weight: Option<&'a [f32]>,
        call: &Call<'_, '_>,
    ) -> Result<Self, LossError> {
        shape.check_len("input", shape.len(), input.len())?;
        if let Some(w) = weight {
            shape.check_len("weight", shape.classes(), w.len())?;
        }
        match call {
            Call::Value => {}
            Call::Grad(g) => shape.check_len("grad", shape.len(), g.len())?,
            Call::PerSample(out) => shape.check_len("out", shape.samples(), out.len())?,
        }
        Ok(Self {
            input,
            shape,
            weight,
        })
    }

    fn problem<'p>(
        &self,
        target: Target<'p>,
        smoothing: f32,
        focal_gamma: Option<f32>,
    ) -> Problem<'p>
    where
        'a: 'p,
    {
        Problem {
            logits: self.input,
            n: self.shape.batch(),
            c: self.shape.classes(),
            s: self.shape.spatial(),
            target,
            weight: self.weight,
            smoothing,
            focal_gamma,
        }
    }
}

/// Runs the kernel and reduces: `Mean` divides by `denominator` (a sum of
/// weights, a count of samples), 0 if that is 0 (every sample ignored).
fn run(
    isa: Option<Isa>,
    problem: Problem<'_>,
    call: Call<'_, '_>,
    reduction: Reduction,
    denominator: f64,
) -> Result<f32, LossError> {
    let isa = isa.unwrap_or_else(Isa::best);
    let inv = match reduction {
        Reduction::Sum => 1.0,
        Reduction::Mean if denominator == 0.0 => 0.0,
        Reduction::Mean => 1.0 / denominator,
    };
    let output = match call {
        Call::Value => Output::Value,
        Call::Grad(g) => {
            let (buf, scale, accumulate) = g.into_parts();
            #[allow(clippy::cast_possible_truncation)]
            let scale = (f64::from(scale) * inv) as f32;
            Output::Grad {
                buf,
                scale,
                accumulate,
            }
        }
        Call::PerSample(out) => Output::PerSample(out),
    };
    let sum = softmax::execute(isa, problem, output).ok_or(LossError::IsaUnavailable { isa })?;
    #[allow(clippy::cast_possible_truncation)]
    Ok((sum * inv) as f32)
}
