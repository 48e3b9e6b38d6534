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

/// [`map`]'s per-lane kernel for one function (a type per function, so
/// the driver's loop holds that function only, with no per-register
/// `match`), run by the pointwise driver.
#[derive(Clone, Copy)]
struct MapKernel<const F: u8> {
    /// The exponent of `Pow`; unused otherwise.
    gamma: f32,
}

/// [`MapKernel`]'s function tags.
mod tag {
    pub const EXP: u8 = 0;
    pub const LN: u8 = 1;
    pub const LOG1P: u8 = 2;
    pub const SIGMOID: u8 = 3;
    pub const SOFTPLUS: u8 = 4;
    pub const POW: u8 = 5;
}

impl<const F: u8> PointwiseKernel for MapKernel<F> {
    #[inline(always)]
    fn eval<L: Lanes>(self, input: F32s<L>, _target: F32s<L>) -> (F32s<L>, F32s<L>) {
        let y = match F {
            tag::EXP => exp(input),
            tag::LN => ln(input),
            tag::LOG1P => log1p(input),
            tag::SIGMOID => sigmoid(input),
            tag::SOFTPLUS => softplus(input),
            _ => pow(input, input.splat(self.gamma)),
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
    crate::dispatch::dispatch_quads(
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
        let Self {
            function,
            input,
            out,
        } = self;
        match function {
            Function::Exp => run_map::<L, { tag::EXP }>(l, 0.0, input, out),
            Function::Ln => run_map::<L, { tag::LN }>(l, 0.0, input, out),
            Function::Log1p => run_map::<L, { tag::LOG1P }>(l, 0.0, input, out),
            Function::Sigmoid => run_map::<L, { tag::SIGMOID }>(l, 0.0, input, out),
            Function::Softplus => run_map::<L, { tag::SOFTPLUS }>(l, 0.0, input, out),
            Function::Pow(gamma) => run_map::<L, { tag::POW }>(l, gamma, input, out),
        }
    }
}

/// The pointwise driver in per-element mode over one function's kernel.
#[inline(always)]
fn run_map<L: Lanes, const F: u8>(l: L, gamma: f32, input: &[f32], out: &mut [f32]) -> Option<f64> {
    pointwise::run::<L, MapKernel<F>, { mode::PER_ELEMENT }, false, false>(
        l,
        MapKernel { gamma },
        input,
        input,
        &[],
        &[],
        out,
        0.0,
        mode::PER_ELEMENT,
    )
    .map(|t| t.value())
}
