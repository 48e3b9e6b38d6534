//! Per-lane math of the regression losses (MSE, L1, Huber, Smooth L1).
//!
//! With `r = input - target`, every branch is a comparison + select, so a
//! NaN residual stays NaN in value and derivative, on every backend.

use super::pointwise::PointwiseKernel;
use crate::simd::Lanes;

/// `r²`, derivative `2r`.
#[derive(Clone, Copy, Debug)]
pub struct MseKernel;

impl PointwiseKernel for MseKernel {
    #[inline(always)]
    fn eval<L: Lanes>(self, l: L, input: L::V, target: L::V) -> (L::V, L::V) {
        let r = l.sub(input, target);
        (l.mul(r, r), l.add(r, r))
    }
}

/// `r²` and HALF the derivative, `r`: the loss doubles the scale instead
/// (exact), so the gradient `r · (2·scale)` is the same rounding of the same
/// product as `(r + r) · scale`, without `r + r` overflowing for
/// `|r| > f32::MAX / 2`.
#[derive(Clone, Copy, Debug)]
pub struct MseHalfGradKernel;

impl PointwiseKernel for MseHalfGradKernel {
    #[inline(always)]
    fn eval<L: Lanes>(self, l: L, input: L::V, target: L::V) -> (L::V, L::V) {
        let r = l.sub(input, target);
        (l.mul(r, r), r)
    }
}

/// `|r|`, derivative `sign(r)` with `sign(±0) = ±0`.
#[derive(Clone, Copy, Debug)]
pub struct L1Kernel;

impl PointwiseKernel for L1Kernel {
    #[inline(always)]
    fn eval<L: Lanes>(self, l: L, input: L::V, target: L::V) -> (L::V, L::V) {
        let r = l.sub(input, target);
        let zero = l.splat(0.0);
        let sign = l.select(
            l.gt(r, zero),
            l.splat(1.0),
            l.select(l.lt(r, zero), l.splat(-1.0), r),
        );
        (l.abs(r), sign)
    }
}

/// `½r²` if `|r| ≤ δ` else `δ(|r| − ½δ)`; derivative `clamp(r, −δ, δ)`.
#[derive(Clone, Copy, Debug)]
pub struct HuberKernel {
    /// δ > 0, finite.
    pub delta: f32,
}

impl PointwiseKernel for HuberKernel {
    #[inline(always)]
    fn eval<L: Lanes>(self, l: L, input: L::V, target: L::V) -> (L::V, L::V) {
        let delta = l.splat(self.delta);
        let neg_delta = l.splat(-self.delta);
        let half = l.splat(0.5);
        let r = l.sub(input, target);
        let a = l.abs(r);
        let quadratic = l.mul(l.mul(half, r), r);
        let linear = l.mul(delta, l.sub(a, l.splat(0.5 * self.delta)));
        let value = l.select(l.le(a, delta), quadratic, linear);
        let deriv = l.select(
            l.gt(r, delta),
            delta,
            l.select(l.lt(r, neg_delta), neg_delta, r),
        );
        (value, deriv)
    }
}

/// `½r²/β` if `|r| < β` else `|r| − ½β`; derivative `clamp(r/β, −1, 1)`.
/// β must be > 0 here: β = 0 is served by [`L1Kernel`].
#[derive(Clone, Copy, Debug)]
pub struct SmoothL1Kernel {
    /// β > 0, finite.
    pub beta: f32,
}

impl PointwiseKernel for SmoothL1Kernel {
    #[inline(always)]
    fn eval<L: Lanes>(self, l: L, input: L::V, target: L::V) -> (L::V, L::V) {
        let beta = l.splat(self.beta);
        let one = l.splat(1.0);
        let neg_one = l.splat(-1.0);
        let r = l.sub(input, target);
        let a = l.abs(r);
        // One division serves both branches; q may overflow to ±inf only
        // where |r| >= β, where the linear branch and the clamp take over.
        let q = l.div(r, beta);
        let quadratic = l.mul(l.mul(l.splat(0.5), q), r);
        let linear = l.sub(a, l.splat(0.5 * self.beta));
        let value = l.select(l.lt(a, beta), quadratic, linear);
        let deriv = l.select(l.gt(q, one), one, l.select(l.lt(q, neg_one), neg_one, q));
        (value, deriv)
    }
}
