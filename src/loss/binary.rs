//! Binary classification losses: BCE on probabilities, BCE with logits and
//! sigmoid focal loss (PyTorch / torchvision semantics), for binary or
//! multi-label classifiers and segmentation maps (`input[i]` against
//! `target[i]`, any layout; a per-class `pos_weight` is broadcast over the
//! last axis).
//!
//! | loss | value per element | ∂/∂input |
//! |---|---|---|
//! | [`BinaryCrossEntropy`] (p ∈ [0, 1]) | `−w[y·max(ln p, −100) + (1−y)·max(ln(1−p), −100)]` | `w(p−y) / max(p(1−p), 10⁻¹²)` |
//! | [`BinaryCrossEntropyWithLogits`] | `w[(1−y)x + (1+(pw−1)y)·softplus(−x)]` | `w[(1+(pw−1)y)σ(x) − pw·y]` |
//! | [`SigmoidFocal`] | `w·α_t(1−p_t)^γ · BCEwithLogits(x, y)` | analytic (see the type) |
//!
//! All three use the verbs of [`PointwiseLoss`] and the transcendental
//! functions of [`crate::simd::math`], so value and gradient are
//! bit-identical on every instruction set, for any length and alignment.
//! Targets are not validated (PyTorch does not either): soft targets in
//! `[0, 1]` are fine; outside it the formulas are evaluated as written.
//! [`Reduction::Mean`](super::Reduction::Mean) divides by the element
//! count, weighted or not, as PyTorch does.
//!
//! Accuracy, per element, against an f64 evaluation of the same formula on
//! the same f32 inputs (bounds enforced by `tests/binary.rs` over 10⁵–10⁶
//! random inputs covering logits of magnitude 2⁻³⁰…2¹⁰⁰, probabilities
//! down to subnormals, hard and soft targets, weights; measured worst case
//! in parentheses; plus 10⁻³⁷ absolute where an exact result below 2⁻¹²⁶
//! is flushed to 0):
//!
//! | loss | value | gradient |
//! |---|---|---|
//! | BCE | 4 ulp (2.6) | 4 ulp (2.4) |
//! | BCE with logits | 5 ulp (3.8) | 4 ulp (3.4) of the larger of `(1−y)σ(x)`, `pw·y·σ(−x)` |
//! | sigmoid focal | `4 + 2γ + 2\|γ ln q\|` ulp, `+ 2` for γ = 2 (0.7 of it) | the same, of the larger of its two terms (0.91 of it) |
//!
//! (Soft targets make the gradient of BCE with logits and focal a
//! difference of two terms: the bound is relative to the larger one; for
//! focal with soft targets both bounds are relative to
//! `|value| + max|term|`.)

use super::{PointwiseLoss, run_kernel_weighted, sealed::Sealed};
use crate::arch::SMALL_CODE;
use crate::dispatch::Isa;
use crate::error::LossError;
use crate::kernel::binary::{BceKernel, BceLogitsKernel, FocalKernel};
use crate::kernel::pointwise::Pass;

/// `Err(LengthMismatch)` naming `weight` unless it has `input.len()`
/// elements.
fn check_weight(weight: Option<&[f32]>, input: &[f32]) -> Result<(), LossError> {
    match weight {
        Some(w) if w.len() != input.len() => Err(LossError::LengthMismatch {
            argument: "weight",
            expected: input.len(),
            actual: w.len(),
        }),
        _ => Ok(()),
    }
}

/// Binary cross-entropy on probabilities (`torch.nn.BCELoss`,
/// `F.binary_cross_entropy`).
///
/// For a probability `p ∈ [0, 1]` (`input`), a target `y` (`target`,
/// usually in `[0, 1]`) and an optional per-element weight `w` (1 if none):
///
/// - value: `−w[y·max(ln p, −100) + (1−y)·max(ln(1−p), −100)]`, the logs
///   clamped at −100 as PyTorch does, so `p = 0` or `1` gives a finite
///   value (at most `100·w`);
/// - derivative: `w(p − y) / max(p(1−p), 10⁻¹²)` (PyTorch's clamp), finite
///   for every `p ∈ [0, 1]`.
///
/// `ln(1−p)` is evaluated as `log1p(−p)`, accurate for small `p`.
///
/// # Options
/// [`with_weight`](Self::with_weight): a per-element weight map (PyTorch's
/// `weight`, here with exactly `input.len()` elements).
///
/// # Errors
/// Besides those of [`PointwiseLoss`]:
/// - [`LossError::LengthMismatch`] naming `weight` if it does not have
///   `input.len()` elements;
/// - [`LossError::OutOfRange`] naming `input` and the index of the first
///   element outside `[0, 1]` (PyTorch raises too). NaN is not an error:
///   it gives NaN in its value and derivative.
///
/// The range check is a separate read of `input` before the fused pass, so
/// that nothing is written when it fails.
///
/// # Differences from PyTorch
/// `weight` has exactly one value per element (PyTorch broadcasts a
/// smaller tensor); the range check reports the first offending index.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BinaryCrossEntropy<'a> {
    weight: Option<&'a [f32]>,
    isa: Option<Isa>,
}

/// `with_weight` and `weight` of a binary loss: the per-element weight
/// map, one copy for all three losses.
macro_rules! element_weight {
    ($a:lifetime) => {
        /// Multiplies element `i`'s value and derivative by `weight[i]`;
        /// every call must then pass `input.len() == weight.len()`
        /// elements. Weights are not validated (NaN gives NaN).
        #[must_use]
        pub const fn with_weight(self, weight: &$a [f32]) -> Self {
            Self {
                weight: Some(weight),
                ..self
            }
        }

        /// The per-element weight, if any.
        #[must_use]
        pub const fn weight(&self) -> Option<&$a [f32]> {
            self.weight
        }
    };
}

impl<'a> BinaryCrossEntropy<'a> {
    /// The loss, unweighted.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            weight: None,
            isa: None,
        }
    }

    element_weight!('a);
}

/// The first element of `input` outside `[0, 1]`, as an error (NaN
/// passes), found on `isa`.
fn check_probabilities(isa: Isa, input: &[f32]) -> Result<(), LossError> {
    match crate::kernel::probability::first_outside_unit_interval(isa, input) {
        None => Ok(()),
        Some((index, value)) => Err(LossError::OutOfRange {
            argument: "input",
            index,
            value,
            requirement: "a probability in [0, 1]",
        }),
    }
}

impl Sealed for BinaryCrossEntropy<'_> {
    fn run(&self, isa: Isa, pass: Pass<'_>) -> Option<f64> {
        run_kernel_weighted::<_, false>(isa, BceKernel, pass, self.weight, &[])
    }
    fn check(&self, input: &[f32]) -> Result<(), LossError> {
        check_weight(self.weight, input)?;
        check_probabilities(self.isa(), input)
    }
    sealed_isa!();
}

impl PointwiseLoss for BinaryCrossEntropy<'_> {}

/// How `pos_weight` applies in [`BinaryCrossEntropyWithLogits`].
#[derive(Clone, Copy, Debug, PartialEq)]
enum PosWeight<'a> {
    /// The same value for every element (1.0: PyTorch's `None`).
    Scalar(f32),
    /// One value per class, broadcast over the last axis.
    PerClass(&'a [f32]),
}

/// Binary cross-entropy on logits (`torch.nn.BCEWithLogitsLoss`,
/// `F.binary_cross_entropy_with_logits`), the numerically stable form.
///
/// For a logit `x` (`input`), a target `y` (`target`, usually in `[0, 1]`),
/// a per-element weight `w` (1 if none) and a positive-class weight `pw`
/// (1 if none):
///
/// - value: `w[(1−y)x + (1+(pw−1)y)·softplus(−x)]`, evaluated as
///   `w[(1−y)·softplus(x) + pw·y·softplus(−x)]` (the same function, but a
///   sum of non-negative terms, so it does not cancel for `x < 0`);
/// - derivative: `w[(1+(pw−1)y)σ(x) − pw·y]`, evaluated as
///   `w[(1−y)σ(x) − pw·y·σ(−x)]` (no cancellation for hard targets).
///
/// Value and derivative are finite for every finite `x` (including ±10³⁰)
/// and finite parameters, as long as the exact unweighted value fits in an
/// f32 (`pw·|x| < 3.4·10³⁸`; the weight multiplies it afterwards). At
/// `x = ±∞` they are the limits: a term whose
/// coefficient is 0 is 0 (PyTorch gives NaN for `x = +∞, y = 1`), the
/// other is `+∞`; the derivative tends to `w(1−y)` resp. `−w·pw·y`.
///
/// # Options
/// - [`with_weight`](Self::with_weight): a per-element weight map (a pixel
///   weight map), `input.len()` elements.
/// - [`with_pos_weight`](Self::with_pos_weight): one `pw` for every
///   element; [`with_pos_weight_per_class`](Self::with_pos_weight_per_class):
///   `C` values broadcast over the last axis (element `i` uses
///   `pos_weight[i % C]`, PyTorch's broadcasting of a `[C]` tensor against
///   `[…, C]`).
///
/// # Errors
/// Besides those of [`PointwiseLoss`]:
/// - [`LossError::LengthMismatch`] naming `weight` if it does not have
///   `input.len()` elements;
/// - [`LossError::NotBroadcastable`] naming `pos_weight` if `input.len()`
///   is not a multiple of the number of classes.
///
/// # Differences from PyTorch
/// `pos_weight` must be finite and ≥ 0 (checked when set); `weight` has
/// exactly one value per element (PyTorch broadcasts a smaller tensor; a
/// per-class `pos_weight` is broadcast here as there); the limits at
/// `x = ±∞` are finite where PyTorch gives NaN; results are more accurate
/// for `x < 0` (no cancellation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BinaryCrossEntropyWithLogits<'a> {
    weight: Option<&'a [f32]>,
    pos_weight: PosWeight<'a>,
    isa: Option<Isa>,
}

impl Default for BinaryCrossEntropyWithLogits<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> BinaryCrossEntropyWithLogits<'a> {
    /// The loss, unweighted, `pos_weight = 1`.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            weight: None,
            pos_weight: PosWeight::Scalar(1.0),
            isa: None,
        }
    }

    element_weight!('a);

    /// One positive-class weight for every element.
    ///
    /// # Errors
    /// [`LossError::InvalidParameter`] naming `pos_weight` unless it is
    /// finite and ≥ 0.
    pub fn with_pos_weight(self, pos_weight: f32) -> Result<Self, LossError> {
        check_pos_weight(pos_weight)?;
        Ok(Self {
            pos_weight: PosWeight::Scalar(pos_weight),
            ..self
        })
    }

    /// One positive-class weight per class, broadcast over the last axis:
    /// element `i` uses `pos_weight[i % pos_weight.len()]`, and every call
    /// must pass an `input` whose length is a multiple of
    /// `pos_weight.len()` (`[N, C]` logits, or `[…, C]`).
    ///
    /// # Errors
    /// - [`LossError::Empty`] naming `pos_weight` if it is empty;
    /// - [`LossError::InvalidParameter`] naming `pos_weight` (with the
    ///   first offending value) unless every element is finite and ≥ 0.
    pub fn with_pos_weight_per_class(self, pos_weight: &'a [f32]) -> Result<Self, LossError> {
        if pos_weight.is_empty() {
            return Err(LossError::Empty {
                argument: "pos_weight",
            });
        }
        for &pw in pos_weight {
            check_pos_weight(pw)?;
        }
        Ok(Self {
            pos_weight: PosWeight::PerClass(pos_weight),
            ..self
        })
    }

    /// The scalar `pos_weight` (1 if none was set), or `None` if it is per
    /// class.
    #[must_use]
    pub const fn pos_weight(&self) -> Option<f32> {
        match self.pos_weight {
            PosWeight::Scalar(pw) => Some(pw),
            PosWeight::PerClass(_) => None,
        }
    }

    /// The per-class `pos_weight`, if one was set.
    #[must_use]
    pub const fn pos_weight_per_class(&self) -> Option<&'a [f32]> {
        match self.pos_weight {
            PosWeight::Scalar(_) => None,
            PosWeight::PerClass(pw) => Some(pw),
        }
    }
}

fn check_pos_weight(pos_weight: f32) -> Result<(), LossError> {
    if pos_weight.is_finite() && pos_weight >= 0.0 {
        Ok(())
    } else {
        Err(LossError::InvalidParameter {
            argument: "pos_weight",
            value: pos_weight,
            requirement: "finite and >= 0",
        })
    }
}

impl Sealed for BinaryCrossEntropyWithLogits<'_> {
    fn run(&self, isa: Isa, pass: Pass<'_>) -> Option<f64> {
        // A scalar pos_weight rides in the kernel; a per-class one is a
        // periodic parameter stream (the same bits: a broadcast scalar
        // changes nothing).
        // Where flash counts more than speed, a scalar one is a stream of
        // one too: one driver instead of three.
        let stream = |pass: Pass<'_>, weight: Option<&[f32]>, pos_weight: &[f32]| {
            let kernel = BceLogitsKernel { pos_weight: 1.0 };
            run_kernel_weighted::<_, true>(isa, kernel, pass, weight, pos_weight)
        };
        match (self.weight, &self.pos_weight) {
            (weight, PosWeight::PerClass(pos_weight)) => stream(pass, weight, pos_weight),
            (weight, PosWeight::Scalar(pos_weight)) if SMALL_CODE => {
                stream(pass, weight, core::slice::from_ref(pos_weight))
            }
            (weight, &PosWeight::Scalar(pos_weight)) => run_kernel_weighted::<_, false>(
                isa,
                BceLogitsKernel { pos_weight },
                pass,
                weight,
                &[],
            ),
        }
    }
    fn check(&self, input: &[f32]) -> Result<(), LossError> {
        check_weight(self.weight, input)?;
        if let PosWeight::PerClass(pw) = self.pos_weight
            && input.len().checked_rem(pw.len()) != Some(0)
        {
            return Err(LossError::NotBroadcastable {
                argument: "pos_weight",
                len: pw.len(),
                input_len: input.len(),
            });
        }
        Ok(())
    }
    sealed_isa!();
}

impl PointwiseLoss for BinaryCrossEntropyWithLogits<'_> {}

/// Sigmoid focal loss (torchvision `ops.sigmoid_focal_loss`, Lin et al.
/// 2017) on logits.
///
/// With `p = σ(x)`, `p_t = p·y + (1−p)(1−y)`, `α_t = α·y + (1−α)(1−y)`
/// (`α_t = 1` if α < 0), `ℓ = BCEwithLogits(x, y)` and a per-element
/// weight `w` (1 if none):
///
/// - value: `w·α_t·(1 − p_t)^γ·ℓ`;
/// - derivative: `w·α_t·q^γ·[γ·ρ·ℓ + (p − y)]` with `q = 1 − p_t` and
///   `ρ = (dq/dx)/q = p(1−p)(1−2y)/q`, `|ρ| ≤ 1`.
///
/// Both are finite for every finite logit, every γ ≥ 0 (including
/// 0 < γ < 1, where `γ·q^(γ−1)` alone would blow up at saturation) and
/// every target in `[0, 1]`: `q^γ` is computed as `exp(γ·ln q)` with
/// `ln q` taken in the log domain (`ln q = −|x| − log1p(e^−|x|)` in the
/// saturated, correctly classified case), never as `1 − p_t`. γ = 0 gives
/// exactly `α_t·ℓ` (`q^0 = 1` even where `q = 0`).
///
/// # Options
/// `alpha` and `gamma` ([`new`](Self::new); torchvision's defaults 0.25
/// and 2 are [`Default`]); [`with_weight`](Self::with_weight): a
/// per-element weight map (an extension: torchvision has none).
///
/// # Errors
/// Besides those of [`PointwiseLoss`]: [`LossError::LengthMismatch`]
/// naming `weight` if it does not have `input.len()` elements.
///
/// # Accuracy
/// Against an f64 evaluation on the same inputs (`tests/binary.rs`), with
/// `q = 1 − p_t`: the value within `(4 + 2γ + 2|γ·ln q|)` ulp, the
/// derivative within as many ulp of the larger of its two terms
/// `α_t·q^γ·γ·|ρ|·ℓ` and `α_t·q^γ·|p − y|`, for hard targets; for soft
/// targets both bounds are relative to `|value| + max|term|`. The
/// `|γ·ln q|` part is `pow`'s (see [`crate::simd::math`]): a very strong
/// focusing of a confident prediction amplifies the rounding of `ln q`.
/// γ = 2 (the default) takes `q²` by multiplication instead (no `exp`, no
/// `ln`, one division: about twice as fast), within 2 ulp more.
///
/// # Differences from torchvision
/// `alpha` must be finite and ≤ 1 (negative disables it, as in
/// torchvision); `gamma` finite and ≥ 0; the derivative is analytic, and
/// finite where autograd through `(1 − p_t)**γ` gives NaN.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SigmoidFocal<'a> {
    alpha: f32,
    gamma: f32,
    weight: Option<&'a [f32]>,
    isa: Option<Isa>,
}

impl Default for SigmoidFocal<'_> {
    /// torchvision's defaults: α = 0.25, γ = 2.
    fn default() -> Self {
        Self {
            alpha: 0.25,
            gamma: 2.0,
            weight: None,
            isa: None,
        }
    }
}

impl<'a> SigmoidFocal<'a> {
    /// Focal loss with weighting factor `alpha` (negative: none) and
    /// focusing parameter `gamma`.
    ///
    /// # Errors
    /// [`LossError::InvalidParameter`] naming `alpha` unless it is finite
    /// and ≤ 1, or naming `gamma` unless it is finite and ≥ 0.
    pub fn new(alpha: f32, gamma: f32) -> Result<Self, LossError> {
        if !(alpha.is_finite() && alpha <= 1.0) {
            return Err(LossError::InvalidParameter {
                argument: "alpha",
                value: alpha,
                requirement: "finite and <= 1 (negative disables it)",
            });
        }
        if !(gamma.is_finite() && gamma >= 0.0) {
            return Err(LossError::InvalidParameter {
                argument: "gamma",
                value: gamma,
                requirement: "finite and >= 0",
            });
        }
        Ok(Self {
            alpha,
            gamma,
            weight: None,
            isa: None,
        })
    }

    element_weight!('a);

    /// The weighting factor α (negative: none).
    #[must_use]
    pub const fn alpha(&self) -> f32 {
        self.alpha
    }

    /// The focusing parameter γ.
    #[must_use]
    pub const fn gamma(&self) -> f32 {
        self.gamma
    }
}

impl Sealed for SigmoidFocal<'_> {
    fn run(&self, isa: Isa, pass: Pass<'_>) -> Option<f64> {
        let (alpha, gamma) = (self.alpha, self.gamma);
        #[allow(clippy::float_cmp)] // exactly 2: the multiplication path
        if gamma == 2.0 {
            run_focal(isa, FocalKernel::<true> { alpha, gamma }, self.weight, pass)
        } else {
            run_focal(
                isa,
                FocalKernel::<false> { alpha, gamma },
                self.weight,
                pass,
            )
        }
    }
    fn check(&self, input: &[f32]) -> Result<(), LossError> {
        check_weight(self.weight, input)
    }
    sealed_isa!();
}

impl PointwiseLoss for SigmoidFocal<'_> {}

/// One focal kernel over `pass`, with the weight map if any.
fn run_focal<const GAMMA_TWO: bool>(
    isa: Isa,
    kernel: FocalKernel<GAMMA_TWO>,
    weight: Option<&[f32]>,
    pass: Pass<'_>,
) -> Option<f64> {
    run_kernel_weighted::<_, false>(isa, kernel, pass, weight, &[])
}
