//! `out[i] = f(input[i])` for the vector-math functions of
//! [`crate::simd::math`], over a slice on a chosen ISA: the very code the
//! loss kernels inline, exposed so that its precision and bit-identity can
//! be measured (`tests/math.rs`) and used on its own.

use super::pointwise::{self, PointwiseKernel, mode};
use crate::dispatch::Isa;
use crate::error::LossError;
use crate::simd::math::{exp, ln, log1p, pow, sigmoid, softplus};
use crate::simd::{F32s, Lanes};

/// One of [`crate::simd::math`]'s functions, for [`map`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Function {
    /// [`crate::simd::math::exp`].
    Exp,
    /// [`crate::simd::math::ln`].
    Ln,
    /// [`crate::simd::math::log1p`].
    Log1p,
    /// [`crate::simd::math::sigmoid`].
    Sigmoid,
    /// [`crate::simd::math::softplus`].
    Softplus,
    /// [`crate::simd::math::pow`] with the given exponent γ.
    Pow(f32),
}

/// [`map`]'s per-lane kernel, run by the pointwise driver.
#[derive(Clone, Copy)]
struct MapKernel(Function);

impl PointwiseKernel for MapKernel {
    #[inline(always)]
    fn eval<L: Lanes>(self, input: F32s<L>, _target: F32s<L>) -> (F32s<L>, F32s<L>) {
        let y = match self.0 {
            Function::Exp => exp(input),
            Function::Ln => ln(input),
            Function::Log1p => log1p(input),
            Function::Sigmoid => sigmoid(input),
            Function::Softplus => softplus(input),
            Function::Pow(gamma) => pow(input, input.splat(gamma)),
        };
        (y, y)
    }
}

/// `out[i] = function(input[i])` on `isa`: the very code the loss kernels
/// inline, over a slice. The result does not depend on `isa`.
///
/// # Errors
/// - [`LossError::LengthMismatch`] naming `out` if the lengths differ.
/// - [`LossError::IsaUnavailable`] if this CPU cannot run `isa`.
///
/// An empty `input` is fine (nothing to do).
pub fn map(isa: Isa, function: Function, input: &[f32], out: &mut [f32]) -> Result<(), LossError> {
    if out.len() != input.len() {
        return Err(LossError::LengthMismatch {
            argument: "out",
            expected: input.len(),
            actual: out.len(),
        });
    }
    crate::dispatch::dispatch(
        isa,
        MapJob {
            function,
            input,
            out,
        },
    )
    .flatten()
    .map(|_| ())
    .ok_or(LossError::IsaUnavailable { isa })
}

/// [`map`] on one backend: the pointwise driver in per-element mode only.
struct MapJob<'a> {
    function: Function,
    input: &'a [f32],
    out: &'a mut [f32],
}

impl crate::dispatch::LanesFn for MapJob<'_> {
    type Output = Option<f64>;
    #[inline(always)]
    fn call<L: Lanes>(self, l: L) -> Option<f64> {
        let kernel = MapKernel(self.function);
        pointwise::run::<L, MapKernel, { mode::PER_ELEMENT }, false, false>(
            l,
            kernel,
            self.input,
            self.input,
            &[],
            &[],
            self.out,
            0.0,
            mode::PER_ELEMENT,
        )
    }
}
