//! Losses: the public types, their parameters, validation and docs. No SIMD
//! and no `unsafe` here: each loss picks a kernel and hands it to a driver.

/// The `chosen_isa` / `choose_isa` half of `Sealed` for a loss type with an
/// `isa: Option<Isa>` field (every loss has one).
macro_rules! sealed_isa {
    () => {
        fn chosen_isa(&self) -> Option<Isa> {
            self.isa
        }
        fn choose_isa(&mut self, isa: Isa) {
            self.isa = Some(isa);
        }
    };
}

/// `with_weight`, `with_ignore_index` and their getters, for a class-axis
/// loss with fields `weight: Option<&'a [f32]>` and `ignore_index: i64`.
/// `$weight_doc` says how many weights a call needs.
macro_rules! class_weight_and_ignore_index {
    ($a:lifetime, $weight_doc:literal) => {
        #[doc = $weight_doc]
        /// Not validated (NaN gives NaN).
        #[must_use]
        pub const fn with_weight(self, weight: &$a [f32]) -> Self {
            Self {
                weight: Some(weight),
                ..self
            }
        }

        /// Samples whose label equals `ignore_index` add nothing (index
        /// targets only). Any value works: −100 (PyTorch's default,
        /// [`DEFAULT_IGNORE_INDEX`](crate::loss::class_axis::DEFAULT_IGNORE_INDEX)),
        /// 255 (the usual "void" of `u8` masks), a value no label takes.
        #[must_use]
        pub const fn with_ignore_index(self, ignore_index: i64) -> Self {
            Self {
                ignore_index,
                ..self
            }
        }

        /// The class weights, if any.
        #[must_use]
        pub const fn weight(&self) -> Option<&$a [f32]> {
            self.weight
        }

        /// The ignore index.
        #[must_use]
        pub const fn ignore_index(&self) -> i64 {
            self.ignore_index
        }
    };
}

pub mod binary;
pub mod class_axis;
mod class_loss;
pub mod dice;
pub mod regression;
pub mod softmax;

use crate::dispatch::Isa;
use crate::error::LossError;
use crate::kernel::pointwise::{self, Pass, mode};
pub use class_loss::ClassAxisLoss;

/// How per-element values are reduced to one loss value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Reduction {
    /// The sum divided by the element count (PyTorch's default).
    #[default]
    Mean,
    /// The plain sum.
    Sum,
}

/// Where and how a fused call writes the gradient.
///
/// `grad[i]` receives `scale · ∂loss/∂input[i]` (the derivative of the
/// *reduced* loss, so `Mean` includes the `1/n`), either overwriting the
/// buffer or added to what is there, so losses can be combined:
/// `loss_a.value_and_grad(.., Grad::overwrite(g))` then
/// `loss_b.value_and_grad(.., Grad::accumulate(g).scaled(0.5))`.
#[derive(Debug)]
pub struct Grad<'a> {
    buf: &'a mut [f32],
    scale: f32,
    accumulate: bool,
}

impl<'a> Grad<'a> {
    /// `grad[i] = ∂loss/∂input[i]`.
    #[must_use]
    pub fn overwrite(buf: &'a mut [f32]) -> Self {
        Self {
            buf,
            scale: 1.0,
            accumulate: false,
        }
    }

    /// `grad[i] += ∂loss/∂input[i]`.
    #[must_use]
    pub fn accumulate(buf: &'a mut [f32]) -> Self {
        Self {
            buf,
            scale: 1.0,
            accumulate: true,
        }
    }

    /// Multiplies every derivative by `scale` (the upstream gradient, or
    /// this loss's weight in a sum of losses) before it is written.
    #[must_use]
    pub fn scaled(self, scale: f32) -> Self {
        Self { scale, ..self }
    }

    /// The buffer's length.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// `(buffer, scale, accumulate)`.
    pub(crate) fn into_parts(self) -> (&'a mut [f32], f32, bool) {
        (self.buf, self.scale, self.accumulate)
    }
}

pub(crate) mod sealed {
    use crate::dispatch::Isa;
    use crate::kernel::pointwise::Pass;

    /// The crate-private half of [`super::PointwiseLoss`].
    pub trait Sealed {
        /// Runs this loss's kernel over `pass` on `isa`.
        fn run(&self, isa: Isa, pass: Pass<'_>) -> Option<f64>;
        /// The loss's own checks of a call whose `input`, `target` and
        /// output lengths already passed (optional streams held by the
        /// loss, input values). Nothing has been written yet.
        fn check(&self, input: &[f32]) -> Result<(), crate::error::LossError> {
            let _ = input;
            Ok(())
        }
        /// The instruction set chosen with `with_isa`, if any.
        fn chosen_isa(&self) -> Option<Isa>;
        /// Records the instruction set chosen with `with_isa`.
        fn choose_isa(&mut self, isa: Isa);
    }
}

/// The verbs shared by every pointwise loss (`input[i]` against
/// `target[i]`): [`value`](Self::value), the fused
/// [`value_and_grad`](Self::value_and_grad) and
/// [`per_element`](Self::per_element) (PyTorch's reduction `"none"`).
///
/// # Errors (every verb)
/// - [`LossError::Empty`] if `input` is empty.
/// - [`LossError::LengthMismatch`] if `target`, `grad` or `out` differ in
///   length from `input`.
///
/// - Loss-specific checks, listed in each loss's docs (e.g. the length of a
///   `weight` it holds, the range of probabilities), run after these.
///
/// Nothing is written on error. NaN in an element gives NaN in its value
/// and derivative (and so in the reduced value).
pub trait PointwiseLoss: sealed::Sealed + Sized {
    /// Runs every later call on `isa` instead of the best one detected.
    ///
    /// # Errors
    /// [`LossError::IsaUnavailable`] if this CPU or build cannot run `isa`.
    fn with_isa(mut self, isa: Isa) -> Result<Self, LossError> {
        if !isa.is_available() {
            return Err(LossError::IsaUnavailable { isa });
        }
        self.choose_isa(isa);
        Ok(self)
    }

    /// The instruction set calls will run on.
    fn isa(&self) -> Isa {
        self.chosen_isa().unwrap_or_else(Isa::best)
    }

    /// The reduced loss.
    ///
    /// # Errors
    /// See the [trait docs](PointwiseLoss).
    fn value(&self, input: &[f32], target: &[f32], reduction: Reduction) -> Result<f32, LossError> {
        check_lengths(input, target)?;
        self.check(input)?;
        let pass = Pass {
            input,
            target,
            out: &mut [],
            scale: 0.0,
            mode: mode::VALUE,
        };
        let sum = execute(self, pass)?;
        Ok(reduce(sum, input.len(), reduction))
    }

    /// The reduced loss and, in one pass, its gradient with respect to
    /// `input` written through `grad`.
    ///
    /// # Errors
    /// See the [trait docs](PointwiseLoss); `grad` must have `input.len()`
    /// elements.
    fn value_and_grad(
        &self,
        input: &[f32],
        target: &[f32],
        reduction: Reduction,
        grad: Grad<'_>,
    ) -> Result<f32, LossError> {
        check_lengths(input, target)?;
        check_out("grad", input, grad.buf)?;
        self.check(input)?;
        let n = input.len();
        let scale = match reduction {
            Reduction::Sum => grad.scale,
            #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
            Reduction::Mean => (f64::from(grad.scale) / n as f64) as f32,
        };
        let pass = Pass {
            input,
            target,
            out: grad.buf,
            scale,
            mode: if grad.accumulate {
                mode::GRAD_ACCUMULATE
            } else {
                mode::GRAD_OVERWRITE
            },
        };
        let sum = execute(self, pass)?;
        Ok(reduce(sum, n, reduction))
    }

    /// `out[i]` = the loss of element `i` (no reduction).
    ///
    /// # Errors
    /// See the [trait docs](PointwiseLoss); `out` must have `input.len()`
    /// elements.
    fn per_element(&self, input: &[f32], target: &[f32], out: &mut [f32]) -> Result<(), LossError> {
        check_lengths(input, target)?;
        check_out("out", input, out)?;
        self.check(input)?;
        let pass = Pass {
            input,
            target,
            out,
            scale: 0.0,
            mode: mode::PER_ELEMENT,
        };
        execute(self, pass).map(|_| ())
    }
}

fn check_lengths(input: &[f32], target: &[f32]) -> Result<(), LossError> {
    if input.is_empty() {
        return Err(LossError::Empty { argument: "input" });
    }
    check_out("target", input, target)
}

fn check_out(argument: &'static str, input: &[f32], other: &[f32]) -> Result<(), LossError> {
    if other.len() == input.len() {
        Ok(())
    } else {
        Err(LossError::LengthMismatch {
            argument,
            expected: input.len(),
            actual: other.len(),
        })
    }
}

fn execute<T: sealed::Sealed>(loss: &T, pass: Pass<'_>) -> Result<f64, LossError> {
    let isa = loss.chosen_isa().unwrap_or_else(Isa::best);
    loss.run(isa, pass).ok_or(LossError::IsaUnavailable { isa })
}

#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
fn reduce(sum: f64, n: usize, reduction: Reduction) -> f32 {
    match reduction {
        Reduction::Sum => sum as f32,
        Reduction::Mean => (sum / n as f64) as f32,
    }
}

/// Runs a pointwise kernel for a loss's [`sealed::Sealed::run`].
pub(crate) fn run_kernel<K: pointwise::PointwiseKernel>(
    isa: Isa,
    kernel: K,
    pass: Pass<'_>,
) -> Option<f64> {
    pointwise::execute(isa, kernel, pass)
}

/// [`run_kernel`] with a periodic `weight` stream if there is one and, if
/// `PARAM`, a periodic `param` stream (see [`pointwise::execute_weighted`]).
pub(crate) fn run_kernel_weighted<K: pointwise::PointwiseKernel, const PARAM: bool>(
    isa: Isa,
    kernel: K,
    pass: Pass<'_>,
    weight: Option<&[f32]>,
    param: &[f32],
) -> Option<f64> {
    pointwise::execute_weighted::<K, PARAM>(isa, kernel, pass, weight, param)
}
