//! The per-class gradient coefficients of pass 2 in f32, scaled by a power
//! of two where the f64 derivative would overflow f32.
//!
//! A class of tiny sums (`P + G` near f32's subnormal range, or the
//! generalized weight `1/G²` of a tiny target mass) has a derivative far
//! above `f32::MAX` although its product with the tiny `g`, `p` or
//! `σ'(x)` of its pixels is an ordinary number. Such a class carries its
//! coefficients divided by `2^k` and multiplies each finished gradient
//! element by `2^k` (two exact factors of at most `2^127`). `k` is 0 for
//! every coefficient below `2^100`: the ordinary case does no extra
//! operation and gives the same bits as without scaling.

/// Scaled coefficients stay below `2^SCALED_EXPONENT`: headroom of `2^27`
/// for the pixel factors (`g`, `2p`) and the softmax's `Σ_k p_k v_k`.
const SCALED_EXPONENT: i32 = 100;

/// The largest `k`: `2^k` is applied as two f32 factors of at most `2^127`.
const MAX_SHIFT: i32 = 254;

/// The coefficients `(α_c, β_c)` of one class, `v = α_c·g + β_c·∂P/∂p`,
/// held as `α_c/2^k`, `β_c/2^k`, with `2^k` as two f32 factors.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Coefficient {
    pub(crate) alpha: f32,
    pub(crate) beta: f32,
    /// `2^k = up.0 · up.1`; `None` for `k = 0`.
    pub(crate) up: Option<(f32, f32)>,
}

impl Coefficient {
    /// A class without gradient (dropped background, padding).
    pub(crate) const ZERO: Self = Self {
        alpha: 0.0,
        beta: 0.0,
        up: None,
    };

    /// The shift `k ≥ 0` that brings `max(|alpha|, |beta|)` below
    /// `2^SCALED_EXPONENT` (at most [`MAX_SHIFT`]; 0 for non-finite
    /// coefficients, which stay as they are).
    pub(crate) fn shift(alpha: f64, beta: f64) -> i32 {
        let largest = alpha.abs().max(beta.abs());
        if !(alpha.is_finite() && beta.is_finite()) || largest < pow2_f64(SCALED_EXPONENT) {
            return 0;
        }
        // The biased exponent of a finite f64 ≥ 2^100 (no subnormals here).
        #[allow(clippy::cast_possible_wrap, clippy::cast_possible_truncation)]
        let exponent = ((largest.to_bits() >> 52) & 0x7ff) as i32 - 1023;
        (exponent + 1 - SCALED_EXPONENT).min(MAX_SHIFT)
    }

    /// The coefficients `alpha`, `beta` carried with the shift `k` (from
    /// [`Coefficient::shift`], or a group's largest shift).
    pub(crate) fn new(alpha: f64, beta: f64, k: i32) -> Self {
        let k = k.clamp(0, MAX_SHIFT);
        let down = pow2_f64(-k);
        let first = k.min(127);
        #[allow(clippy::cast_possible_truncation)]
        Self {
            alpha: (alpha * down) as f32,
            beta: (beta * down) as f32,
            up: (k > 0).then(|| (pow2_f32(first), pow2_f32(k - first))),
        }
    }
}

/// `2^e` for `−1022 ≤ e ≤ 1023`, built from its bits (`core` has no
/// `powi` without std).
fn pow2_f64(e: i32) -> f64 {
    #[allow(clippy::cast_sign_loss)]
    let biased = (e.clamp(-1022, 1023) + 1023) as u64;
    f64::from_bits(biased << 52)
}

/// `2^e` for `0 ≤ e ≤ 127`, built from its bits.
fn pow2_f32(e: i32) -> f32 {
    #[allow(clippy::cast_sign_loss)]
    let biased = (e.clamp(0, 127) + 127) as u32;
    f32::from_bits(biased << 23)
}

#[cfg(test)]
mod tests {
    use super::{Coefficient, pow2_f32, pow2_f64};

    #[test]
    fn powers_of_two_are_exact() {
        for e in -1022..=1023 {
            assert_eq!(pow2_f64(e), 2f64.powi(e), "f64 2^{e}");
        }
        for e in 0..=127 {
            assert_eq!(pow2_f32(e), 2f32.powi(e), "f32 2^{e}");
        }
    }

    #[test]
    fn ordinary_coefficients_are_not_scaled() {
        assert_eq!(Coefficient::shift(-3.0, 1e29), 0);
        let c = Coefficient::new(-3.0, 0.25, 0);
        assert_eq!((c.alpha, c.beta, c.up), (-3.0, 0.25, None));
        // The stack budget `MAX_CLASSES · 84` bytes in `dice/mod.rs` counts
        // 20 bytes per coefficient.
        assert_eq!(core::mem::size_of::<Coefficient>(), 20);
    }

    #[test]
    fn large_coefficients_are_carried_below_the_limit() {
        for e in [100, 101, 128, 200, 353] {
            let alpha = -1.5 * 2f64.powi(e);
            let k = Coefficient::shift(alpha, 1.0);
            let c = Coefficient::new(alpha, 1.0, k);
            assert!(f64::from(c.alpha.abs()) < 2f64.powi(100), "e {e}");
            assert!(f64::from(c.alpha.abs()) >= 2f64.powi(99), "e {e}");
            assert!(c.up.is_some(), "e {e}: scaled");
            let (a, b) = c.up.unwrap_or((f32::NAN, f32::NAN));
            assert_eq!(
                f64::from(c.alpha) * f64::from(a) * f64::from(b),
                alpha,
                "e {e}"
            );
        }
    }

    #[test]
    fn the_shift_saturates_and_ignores_non_finite() {
        assert_eq!(Coefficient::shift(1e300, 0.0), 254);
        assert_eq!(Coefficient::shift(f64::INFINITY, 0.0), 0);
        assert_eq!(Coefficient::shift(f64::NAN, 1e200), 0);
    }
}
