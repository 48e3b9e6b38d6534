//! Per-lane math of the regression losses (MSE, L1, Huber, Smooth L1).
//!
//! With `r = input - target`, every branch is a comparison + select, so a
//! NaN residual stays NaN in value and derivative, on every backend.

use super::pointwise::PointwiseKernel;
use crate::simd::{F32s, Lanes};

/// `r²`, derivative `2r`.
#[derive(Clone, Copy, Debug)]
pub struct MseKernel;

impl PointwiseKernel for MseKernel {
    #[inline(always)]
    fn eval<L: Lanes>(self, input: F32s<L>, target: F32s<L>) -> (F32s<L>, F32s<L>) {
        let r = input - target;
        (r * r, r + r)
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
    fn eval<L: Lanes>(self, input: F32s<L>, target: F32s<L>) -> (F32s<L>, F32s<L>) {
        let r = input - target;
        (r * r, r)
    }
}

/// `|r|`, derivative `sign(r)` with `sign(±0) = ±0`.
#[derive(Clone, Copy, Debug)]
pub struct L1Kernel;

impl PointwiseKernel for L1Kernel {
    #[inline(always)]
    fn eval<L: Lanes>(self, input: F32s<L>, target: F32s<L>) -> (F32s<L>, F32s<L>) {
        let r = input - target;
        let sign = r.gt(0.0).select(1.0, r.lt(0.0).select(-1.0, r));
        (r.abs(), sign)
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
    fn eval<L: Lanes>(self, input: F32s<L>, target: F32s<L>) -> (F32s<L>, F32s<L>) {
        let delta = self.delta;
        let r = input - target;
        let a = r.abs();
        let value = a.le(delta).select(0.5 * r * r, delta * (a - 0.5 * delta));
        (value, r.clamp(-delta, delta))
    }
}

/// `½r²/β` if `|r| < β` else `|r| − ½β`; derivative `clamp(r/β, −1, 1)`.
/// β must be > 0 here: β = 0 is served by [`L1Kernel`].
///
/// `RECIPROCAL`: compute `r/β` as `r·(1/β)`. Only for β a power of two
/// whose reciprocal is a normal f32 ([`SmoothL1Kernel::reciprocal_is_exact`]):
/// then `1/β` is exact and `r·(1/β)` is the same correctly rounded real
/// number as `r/β` — same bits, without the divider (PyTorch's default
/// β = 1 is such a β).
#[derive(Clone, Copy, Debug)]
pub struct SmoothL1Kernel<const RECIPROCAL: bool> {
    /// β > 0, finite.
    pub beta: f32,
}

impl SmoothL1Kernel<true> {
    /// Whether `1/beta` is exact and normal (β = 2^k, −126 ≤ k ≤ 126), so
    /// that `r·(1/β)` rounds to the same f32 as `r/β` for every `r`.
    #[must_use]
    pub const fn reciprocal_is_exact(beta: f32) -> bool {
        let bits = beta.to_bits();
        let exponent = (bits >> 23) & 0xff;
        bits & 0x007f_ffff == 0 && bits >> 31 == 0 && exponent >= 1 && exponent <= 253
    }
}

impl<const RECIPROCAL: bool> PointwiseKernel for SmoothL1Kernel<RECIPROCAL> {
    #[inline(always)]
    fn eval<L: Lanes>(self, input: F32s<L>, target: F32s<L>) -> (F32s<L>, F32s<L>) {
        let beta = self.beta;
        let r = input - target;
        let a = r.abs();
        // One quotient serves both branches; q may overflow to ±inf only
        // where |r| >= β, where the linear branch and the clamp take over.
        let q = if RECIPROCAL {
            r * (1.0 / beta)
        } else {
            r / beta
        };
        let value = a.lt(beta).select(0.5 * q * r, a - 0.5 * beta);
        (value, q.clamp(-1.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::{PointwiseKernel, SmoothL1Kernel};
    use crate::arch::scalar::Scalar;
    use crate::simd::Lanes;

    /// The reciprocal kernel is taken only where it gives the division
    /// kernel's bits: compare both on residuals across the whole f32 range
    /// (every 4099th bit pattern, both signs, plus the specials).
    #[test]
    fn smooth_l1_reciprocal_matches_division_bit_for_bit() {
        let betas = [
            1.0f32,
            0.5,
            2.0,
            0.25,
            1024.0,
            f32::from_bits(1 << 23),   // 2^-126: reciprocal 2^126
            f32::from_bits(253 << 23), // 2^126: reciprocal 2^-126
        ];
        let specials = [
            0.0f32,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            1e-45,
            -1e-45,
        ];
        for beta in betas {
            assert!(SmoothL1Kernel::reciprocal_is_exact(beta), "{beta}");
            let fast = SmoothL1Kernel::<true> { beta };
            let slow = SmoothL1Kernel::<false> { beta };
            let residuals = (0..=u32::MAX / 4099)
                .map(|k| f32::from_bits(k * 4099))
                .chain(specials);
            for r in residuals {
                let (vf, df) = fast.eval(Scalar.splat(r), Scalar.splat(0.0));
                let (vs, ds) = slow.eval(Scalar.splat(r), Scalar.splat(0.0));
                let [vf, df, vs, ds] = [vf, df, vs, ds].map(|v| v.raw());
                let same =
                    |a: f32, b: f32| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
                assert!(
                    same(vf, vs) && same(df, ds),
                    "beta {beta} r {r:e}: ({vf:e}, {df:e}) vs ({vs:e}, {ds:e})"
                );
            }
        }
        for beta in [
            0.75f32,
            3.0,
            0.1,
            f32::from_bits(254 << 23),
            1e-40,
            -1.0,
            f32::NAN,
        ] {
            assert!(!SmoothL1Kernel::reciprocal_is_exact(beta), "{beta}");
        }
    }
}
