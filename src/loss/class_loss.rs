//! The verbs every loss over a class axis shares ([`ClassAxisLoss`]), as
//! [`super::PointwiseLoss`] is for the pointwise losses: the length checks
//! done once here, the loss-specific work behind a sealed trait.

use super::class_axis::{ClassShape, ClassTarget, TargetKind};
use super::{Grad, Reduction};
use crate::dispatch::Isa;
use crate::error::LossError;

/// What a verb writes.
pub enum Verb<'o> {
    /// Nothing: the reduced value only.
    Value,
    /// The gradient, through a [`Grad`].
    Grad(Grad<'o>),
    /// The unreduced loss (`per_element`).
    PerElement(&'o mut [f32]),
}

/// One call of a verb whose `input` and output lengths already match
/// `shape`. The loss checks the rest (target, weights) before it writes.
pub struct Call<'c> {
    pub(crate) input: &'c [f32],
    pub(crate) shape: ClassShape,
    pub(crate) target: TargetKind<'c>,
    pub(crate) reduction: Reduction,
    pub(crate) verb: Verb<'c>,
}

pub mod sealed {
    use super::Call;
    use crate::dispatch::Isa;
    use crate::error::LossError;
    use crate::loss::class_axis::ClassShape;

    /// The crate-private half of [`super::ClassAxisLoss`].
    pub trait Sealed {
        /// The instruction set chosen with `with_isa`, if any.
        fn chosen_isa(&self) -> Option<Isa>;
        /// Records the instruction set chosen with `with_isa`.
        fn choose_isa(&mut self, isa: Isa);
        /// How many values `per_element` writes for `shape`.
        fn per_element_len(&self, shape: ClassShape) -> usize;
        /// Checks what the trait did not (target, weights), then runs the
        /// kernel on `isa`. Writes nothing when it returns `Err`.
        fn run(&self, isa: Isa, call: Call<'_>) -> Result<f32, LossError>;
    }
}

/// The verbs shared by every loss over a class axis (logits
/// `[N, C, S]`, see [`ClassShape`]): [`value`](Self::value), the fused
/// [`value_and_grad`](Self::value_and_grad) and
/// [`per_element`](Self::per_element) (PyTorch's reduction `"none"`).
/// Targets are index labels `[N, S]` or
/// [`Probabilities`](super::class_axis::Probabilities) `[N, C, S]` (see
/// [`ClassTarget`]).
///
/// # Errors (every verb)
/// - [`LossError::LengthMismatch`] if `input` does not have `shape.len()`
///   elements, `grad` `shape.len()`, `out` the loss's `per_element`
///   length; index targets `shape.samples()`, probability targets
///   `shape.len()`; the class weights one per class.
/// - [`LossError::InvalidLabel`] naming the first label that is neither in
///   `0..C` nor the ignore index.
/// - [`LossError::UnsupportedTarget`] if the loss does not take that kind
///   of target.
///
/// Nothing is written on error. A NaN logit gives NaN in its sample's
/// value and gradient.
pub trait ClassAxisLoss: sealed::Sealed + Sized {
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
    /// See the [trait docs](ClassAxisLoss).
    fn value<'t>(
        &self,
        input: &[f32],
        shape: ClassShape,
        target: impl ClassTarget<'t>,
        reduction: Reduction,
    ) -> Result<f32, LossError> {
        run(self, input, shape, target.kind(), reduction, Verb::Value)
    }

    /// The reduced loss and, in the same passes over the logits, its
    /// gradient with respect to `input`, written through `grad`
    /// (`shape.len()` elements).
    ///
    /// # Errors
    /// See the [trait docs](ClassAxisLoss).
    fn value_and_grad<'t>(
        &self,
        input: &[f32],
        shape: ClassShape,
        target: impl ClassTarget<'t>,
        reduction: Reduction,
        grad: Grad<'_>,
    ) -> Result<f32, LossError> {
        run(
            self,
            input,
            shape,
            target.kind(),
            reduction,
            Verb::Grad(grad),
        )
    }

    /// The unreduced loss, written to `out` (the loss's docs say its
    /// layout and length: `[N, S]` per sample for cross-entropy).
    ///
    /// # Errors
    /// See the [trait docs](ClassAxisLoss).
    fn per_element<'t>(
        &self,
        input: &[f32],
        shape: ClassShape,
        target: impl ClassTarget<'t>,
        out: &mut [f32],
    ) -> Result<(), LossError> {
        run(
            self,
            input,
            shape,
            target.kind(),
            Reduction::Sum,
            Verb::PerElement(out),
        )
        .map(|_| ())
    }
}

/// Checks the lengths of `input` and of what `verb` writes, then hands the
/// call to the loss.
fn run<L: ClassAxisLoss>(
    loss: &L,
    input: &[f32],
    shape: ClassShape,
    target: TargetKind<'_>,
    reduction: Reduction,
    verb: Verb<'_>,
) -> Result<f32, LossError> {
    shape.check_len("input", shape.len(), input.len())?;
    match &verb {
        Verb::Value => {}
        Verb::Grad(grad) => shape.check_len("grad", shape.len(), grad.len())?,
        Verb::PerElement(out) => {
            shape.check_len("out", loss.per_element_len(shape), out.len())?;
        }
    }
    let call = Call {
        input,
        shape,
        target,
        reduction,
        verb,
    };
    loss.run(loss.isa(), call)
}
