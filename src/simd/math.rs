//! Vector math: `exp`, `ln`, `log1p`, `sigmoid`, `softplus` and `pow`,
//! written once against [`Lanes`], so every backend computes the same
//! operations in the same order and returns the same bits.
//!
//! How (DESIGN.md §2.3):
//! - multiply, then add, as two roundings: never a fused multiply-add, no
//!   reciprocal/rsqrt estimates, no min/max (clamps are compare + select,
//!   which keep a NaN a NaN);
//! - Cody–Waite range reduction with `ln 2` split in two
//!   (`0.693359375 − 2.12194440·10⁻⁴`, the first part short enough that
//!   `n·ln2_hi` is exact), Cephes polynomials evaluated by Horner's rule;
//! - exponents built and taken apart with integer bit operations
//!   (`t = x·log₂e + 1.5·2²³` leaves `round(x·log₂e)` in the low bits of
//!   `t`, and `2ⁿ` is `(n + 127) << 23`);
//! - inputs clamped by compare + select so that no intermediate value is
//!   subnormal (subnormal inputs of `ln` are rescaled with integer
//!   operations first; tiny arguments take an exact shortcut), and no
//!   data-dependent branch: every lane runs every operation.
//!
//! # Precision
//!
//! Worst error in ulp of the result (ulp at the exact result's binade,
//! normal range) against an f64 reference. `tests/math.rs` asserts the
//! bound over every 61st f32 bit pattern of the whole range plus every
//! special value, on every instruction set this CPU has (which agree bit
//! for bit); the last column is a one-off run over all 2³² inputs.
//!
//! | function | domain (useful range) | bound, ulp | measured: sweep / all 2³² | outside the domain, special values |
//! |---|---|---|---|---|
//! | [`exp`] | `−87.33654 ≤ x ≤ 88.72283` (result normal) | 1 | 0.972 / 0.990 | `x < −87.33654` (true result subnormal) → `+0`; `x > 88.72283` → `+∞`; `±0 → 1` |
//! | [`ln`] | `x > 0`, subnormals included | 1 | 0.800 / 0.829 | `±0 → −∞`; `x < 0 → NaN`; `+∞ → +∞` |
//! | [`log1p`] | `x > −1` | 1.5 | 1.368 / 1.394 | `−1 → −∞`; `x < −1 → NaN`; `+∞ → +∞`; returns `x` itself for `\|x\| < 2⁻³⁰` |
//! | [`sigmoid`] | `x ≥ −87.33654` | 2 | 1.862 / 1.967 | below: `+0` (true result < 2⁻¹²⁶); `+∞ → 1`, `−∞ → +0` |
//! | [`softplus`] | `x ≥ −87.33654` | 2 | 1.622 / 1.668 | below: `+0`; `+∞ → +∞`, `−∞ → +0` |
//! | [`pow`] | `x ≥ 0`, result normal | `1 + 3·\|γ ln x\|` (see below) | ≤ 0.6 of the bound / — | `pow(x, 0) = 1` for every `x` (NaN too); `pow(0, γ > 0) = +0` |
//!
//! [`pow`] is `exp(γ·ln x)`: `ln x` (≤ 0.8 ulp, so a relative error up to
//! 1.6·2⁻²⁴) times γ (rounded once more: 2⁻²⁴) gives `w = γ·ln x` with a
//! relative error up to 2.6·2⁻²⁴, i.e. an absolute error `2.6·2⁻²⁴·|w|` that
//! `exp` turns into the same relative error of the result: at most
//! `1 + 3·|w|` ulp, which `tests/math.rs` asserts for `x ∈ (0, 1]` (focal
//! loss's use) and `x` slightly above 1, γ ∈ {0.25, 0.5, 1, 1.5, 2, 5}
//! (measured: at most 0.6 of that bound). Sigmoid focal loss computes its
//! `(1 − p_t)^γ` the same way, `exp(γ·ln(1 − p_t))`, with `ln(1 − p_t)`
//! taken in the log domain rather than from a rounded `1 − p_t`.
//!
//! NaN in gives NaN out for every function (except `pow(NaN, 0) = 1`, as in
//! C's `pow`); which NaN is unspecified.

use super::Lanes;

/// log₂(e), rounded to f32.
const LOG2E: f32 = core::f32::consts::LOG2_E;
/// 1.5·2²³: adding it rounds to an integer, which lands in the low mantissa
/// bits (valid for |v| < 2²²).
const MAGIC: f32 = 12_582_912.0;
/// 2²³, to turn a small integer held in the mantissa bits back into a float.
const TWO23: f32 = 8_388_608.0;
/// High part of ln 2 (9 significant bits: `n·LN2_HI` is exact for |n| ≤ 2⁹).
const LN2_HI: f32 = 355.0 / 512.0;
/// Low part: `ln 2 − LN2_HI`, rounded to f32.
const LN2_LO: f32 = -2.121_944_4e-4;
/// The smallest f32 `x` with `exp(x) ≥ 2⁻¹²⁶` (just above `−126·ln 2`).
const EXP_LO: f32 = f32::from_bits(0xc2ae_ac4f);
/// The largest f32 `x` with `exp(x)` finite after rounding.
const EXP_HI: f32 = f32::from_bits(0x42b1_7217);
/// 2⁻³⁰: below this `exp(x)` rounds to 1 and `log1p(x)` to `x`; keeping
/// such arguments out of the polynomials keeps every power of them normal.
const TINY: f32 = 1.0 / 1_073_741_824.0;
/// `sqrt(1/2)` rounded to f32: the lower end of the reduced `ln` argument.
const SQRT_HALF_BITS: u32 = 0x3f35_04f3;
/// `sqrt(2)` rounded to f32 (`SQRT_HALF_BITS` + one binade).
const SQRT2: f32 = f32::from_bits(0x3fb5_04f3);

/// Cephes `expf` polynomial: `e^r ≈ 1 + r + r²·P(r)` on |r| ≤ ln2/2.
const EXP_P: [f32; 6] = [
    1.987_569_2e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    0.5, // Cephes' 5.0000001201e-1, rounded to f32
];

/// Cephes `logf` polynomial: `ln(1+f) ≈ f − f²/2 + f³·P(f)` on
/// `sqrt(1/2) − 1 ≤ f < sqrt(2) − 1`.
const LOG_P: [f32; 9] = [
    7.037_683_6e-2,
    -1.151_461e-1,
    1.167_699_9e-1,
    -1.242_014_1e-1,
    1.424_932_3e-1,
    -1.666_805_8e-1,
    2.000_071_4e-1,
    -2.499_999_4e-1,
    0.333_333_3, // Cephes' 3.3333331174e-1, rounded to f32
];

/// Horner's rule, multiply then add: `c[0]·xⁿ⁻¹ + … + c[n−1]`.
#[inline(always)]
fn horner<L: Lanes, const N: usize>(l: L, x: L::V, c: &[f32; N]) -> L::V {
    let mut acc = l.splat(c[0]);
    for &ci in &c[1..] {
        acc = l.add(l.mul(acc, x), l.splat(ci));
    }
    acc
}

/// A small non-negative integer held in the low mantissa bits of `bits`
/// (`0 ≤ bits < 2²³`), as an exact f32.
#[inline(always)]
fn small_int_to_f32<L: Lanes>(l: L, bits: L::U) -> L::V {
    l.sub(
        l.from_bits(l.or_u(bits, l.splat_u(TWO23.to_bits()))),
        l.splat(TWO23),
    )
}

/// `e^x`. Domain, error and special values: see the [module docs](self).
///
/// Results that would be subnormal (`x < −87.33654`) are `+0`.
#[inline(always)]
pub fn exp<L: Lanes>(l: L, x: L::V) -> L::V {
    exp_impl::<L, true>(l, x)
}

/// `e^x` for `x ≤ 0` (or NaN): the same bits as [`exp`] there, without the
/// overflow handling that only positive arguments need. For `0 < x ≤ 88.3`
/// it still agrees with [`exp`]; above that it is wrong.
#[inline(always)]
pub(crate) fn exp_nonpos<L: Lanes>(l: L, x: L::V) -> L::V {
    exp_impl::<L, false>(l, x)
}

#[inline(always)]
fn exp_impl<L: Lanes, const POSITIVE: bool>(l: L, x: L::V) -> L::V {
    let zero = l.splat(0.0);
    let one = l.splat(1.0);
    let lo = l.splat(EXP_LO);
    // Clamp (compare + select: a NaN stays NaN): below EXP_LO the result
    // is replaced by +0 at the end; tiny arguments give exactly 1.
    let under = l.lt(x, lo);
    let tiny = l.lt(l.abs(x), l.splat(TINY));
    let mut xc = l.select(under, lo, l.select(tiny, zero, x));
    let hi = l.splat(EXP_HI);
    let over = l.gt(x, hi);
    if POSITIVE {
        xc = l.select(over, hi, xc);
    }
    // n = round(x·log2e), in the low bits of t.
    let t = l.add(l.mul(xc, l.splat(LOG2E)), l.splat(MAGIC));
    let n = l.sub(t, l.splat(MAGIC));
    // r = x − n·ln2 in two steps (x − n·LN2_HI is exact).
    let r = l.sub(
        l.sub(xc, l.mul(n, l.splat(LN2_HI))),
        l.mul(n, l.splat(LN2_LO)),
    );
    let z = l.mul(r, r);
    let p = horner(l, r, &EXP_P);
    let mut p = l.add(l.add(l.mul(p, z), r), one);
    let mut t = t;
    if POSITIVE {
        // n can reach 128, whose 2ⁿ is not an f32: use 2·2ⁿ⁻¹ for x > 0
        // (p + p is exact, so the result is the same where both exist).
        let pos = l.gt(xc, zero);
        t = l.select(pos, l.sub(t, one), t);
        p = l.select(pos, l.add(p, p), p);
    }
    // 2ⁿ: the bits of t are 0x4b40_0000 + n; (n + 127) << 23.
    let biased = l.add_u(
        l.to_bits(t),
        l.splat_u(127u32.wrapping_sub(MAGIC.to_bits())),
    );
    let scale = l.from_bits(l.shl_u::<23>(biased));
    let y = l.select(under, zero, l.mul(p, scale));
    if POSITIVE {
        l.select(over, l.splat(f32::INFINITY), y)
    } else {
        y
    }
}

/// `k·ln 2 + ln(1 + f)` for a reduced `f ∈ [sqrt(1/2) − 1, sqrt(2) − 1)`
/// and an integer `k` (Cephes `logf`'s evaluation order).
#[inline(always)]
fn log_reduced<L: Lanes>(l: L, f: L::V, k: L::V) -> L::V {
    let zero = l.splat(0.0);
    // |f| < 2⁻³⁰: ln(1+f) rounds to f; zeroing f in the polynomial keeps
    // f³ normal and changes nothing.
    let fp = l.select(l.lt(l.abs(f), l.splat(TINY)), zero, f);
    let z = l.mul(fp, fp);
    let p = horner(l, fp, &LOG_P);
    let y = l.mul(l.mul(p, fp), z);
    let y = l.add(y, l.mul(k, l.splat(LN2_LO)));
    let y = l.sub(y, l.mul(l.splat(0.5), z));
    let r = l.add(f, y);
    l.add(r, l.mul(k, l.splat(LN2_HI)))
}

/// Splits a positive normal `x` (given by its bits) into `m·2ᵏ` with
/// `m ∈ [sqrt(1/2), sqrt(2))`; returns `(m − 1, k, biased k)`. `m − 1` is
/// exact (Sterbenz).
#[inline(always)]
fn split_normal<L: Lanes>(l: L, bits: L::U) -> (L::V, L::V, L::U) {
    // Moving the mantissa of sqrt(1/2) to 1.0 makes the exponent field
    // count binades starting at sqrt(1/2)·2ᵏ.
    let shifted = l.add_u(bits, l.splat_u(0x3f80_0000 - SQRT_HALF_BITS));
    let kb = l.shr_u::<23>(shifted);
    let m = l.from_bits(l.add_u(
        l.and_u(shifted, l.splat_u(0x007f_ffff)),
        l.splat_u(SQRT_HALF_BITS),
    ));
    let k = l.sub(small_int_to_f32(l, kb), l.splat(127.0));
    (l.sub(m, l.splat(1.0)), k, kb)
}

/// `ln x` (natural logarithm). Domain, error and special values: see the
/// [module docs](self). Subnormal inputs are exact (rescaled with integer
/// operations, never multiplied).
#[inline(always)]
pub fn ln<L: Lanes>(l: L, x: L::V) -> L::V {
    let zero = l.splat(0.0);
    let r = ln_core(l, x);
    let r = l.select(l.eq(x, zero), l.splat(f32::NEG_INFINITY), r);
    let r = l.select(l.lt(x, zero), l.splat(f32::NAN), r);
    let r = l.select(l.eq(x, l.splat(f32::INFINITY)), x, r);
    l.select(l.eq(x, x), r, x)
}

/// `ln p` for a probability `p ∈ [0, 1]` (or NaN, which propagates): the
/// same bits as [`ln`] for `p > 0`; `ln(±0)` is a finite `≈ −191.3`
/// instead of `−∞` (callers clamp at −100 anyway).
#[inline(always)]
pub(crate) fn ln_prob<L: Lanes>(l: L, p: L::V) -> L::V {
    let r = ln_core(l, p);
    l.select(l.eq(p, p), r, p)
}

/// `ln(1 − p)` for a probability `p ∈ [0, 1]` (or NaN, which propagates):
/// the same bits as [`log1p`]`(−p)` for `p > 0` (at `p = 0` it is `+0`
/// rather than `−0`), without the general case's range handling.
#[inline(always)]
pub(crate) fn ln_one_minus_prob<L: Lanes>(l: L, p: L::V) -> L::V {
    let one = l.splat(1.0);
    let u = l.sub(one, p);
    // Fast2Sum (1 ≥ p): u + err == 1 − p exactly.
    let err = l.sub(l.sub(one, u), p);
    let (f, k, kb) = split_normal(l, l.to_bits(u));
    // u ∈ {0} ∪ [2⁻²⁴, 1]: 2⁻ᵏ is a normal float (2¹²⁷ for u = 0, where
    // err = 0).
    let inv_scale = l.from_bits(l.shl_u::<23>(l.sub_u(l.splat_u(254), kb)));
    let r = log_reduced(l, l.add(f, l.mul(err, inv_scale)), k);
    l.select(l.eq(u, l.splat(0.0)), l.splat(f32::NEG_INFINITY), r)
}

/// [`ln`] without its special values: correct for positive finite `x`
/// (subnormals included); `±0` gives `≈ −191.3`; negative, infinite and
/// NaN inputs give garbage.
#[inline(always)]
fn ln_core<L: Lanes>(l: L, x: L::V) -> L::V {
    let zero = l.splat(0.0);
    let bits = l.to_bits(x);
    // Exponent field 0 (zero or subnormal): x = m·2⁻¹⁴⁹ with the integer m
    // in the mantissa bits; take ln(m) − 149·ln 2 instead.
    let exponent = l.from_bits(l.and_u(bits, l.splat_u(0x7f80_0000)));
    let subnormal = l.eq(exponent, zero);
    let m_int = small_int_to_f32(l, l.and_u(bits, l.splat_u(0x007f_ffff)));
    let xs = l.select(subnormal, m_int, x);
    let (f, k, _) = split_normal(l, l.to_bits(xs));
    let k = l.add(k, l.select(subnormal, l.splat(-149.0), zero));
    log_reduced(l, f, k)
}

/// `ln(1 + x)`, accurate near 0. Domain, error and special values: see the
/// [module docs](self).
///
/// `1 + x` is rounded to `u`, its rounding error recovered exactly (2Sum)
/// and folded into the reduced argument, so the result is as accurate as
/// [`ln`] of the exact `1 + x`.
#[inline(always)]
pub fn log1p<L: Lanes>(l: L, x: L::V) -> L::V {
    let zero = l.splat(0.0);
    let one = l.splat(1.0);
    let tiny = l.lt(l.abs(x), l.splat(TINY));
    let xs = l.select(tiny, zero, x);
    // 2Sum: u + err == 1 + xs exactly.
    let u = l.add(one, xs);
    let a = l.sub(u, xs);
    let b = l.sub(u, a);
    let err = l.add(l.sub(one, a), l.sub(xs, b));
    let (f, k, kb) = split_normal(l, l.to_bits(u));
    // err·2⁻ᵏ: 2⁻ᵏ = 2^(127 − kb) has bits (254 − kb) << 23, a normal
    // float while u < 2²⁴; above that the correction is below half an ulp
    // of the result and is dropped.
    let inv_scale = l.from_bits(l.shl_u::<23>(l.sub_u(l.splat_u(254), kb)));
    let corr = l.select(l.lt(u, l.splat(16_777_216.0)), l.mul(err, inv_scale), zero);
    let r = log_reduced(l, l.add(f, corr), k);
    let minus_one = l.splat(-1.0);
    let r = l.select(tiny, x, r);
    let r = l.select(l.eq(x, minus_one), l.splat(f32::NEG_INFINITY), r);
    let r = l.select(l.lt(x, minus_one), l.splat(f32::NAN), r);
    let r = l.select(l.eq(x, l.splat(f32::INFINITY)), x, r);
    l.select(l.eq(x, x), r, x)
}

/// `ln(1 + e)` for `e ∈ [0, 1]` (or NaN, which propagates): the same bits
/// as [`log1p`] there, with the reduction done by comparisons (`1 + e` lies
/// in `[1, 2]`) and no special-value handling. Returns `(ln(1 + e), 1 + e)`
/// so callers can reuse the rounded sum.
#[inline(always)]
pub(crate) fn log1p_unit<L: Lanes>(l: L, e: L::V) -> (L::V, L::V) {
    let zero = l.splat(0.0);
    let one = l.splat(1.0);
    let half = l.splat(0.5);
    let tiny = l.lt(e, l.splat(TINY));
    let es = l.select(tiny, zero, e);
    let u = l.add(one, es);
    // Fast2Sum (1 ≥ es): the exact rounding error of 1 + es.
    let err = l.sub(es, l.sub(u, one));
    let upper = l.ge(u, l.splat(SQRT2));
    let m = l.select(upper, l.mul(u, half), u);
    let k = l.select(upper, one, zero);
    let corr = l.select(upper, l.mul(err, half), err);
    let f = l.add(l.sub(m, one), corr);
    let r = log_reduced(l, f, k);
    (l.select(tiny, e, r), u)
}

/// The logistic function `1 / (1 + e^−x)`. Domain, error and special
/// values: see the [module docs](self).
///
/// Computed from `e = e^−|x| ≤ 1` as `1/(1+e)` for `x ≥ 0` and `e/(1+e)`
/// otherwise, so neither tail cancels; the rounding error `δ` of `u = 1+e`
/// is recovered exactly and corrected for (`n/(u+δ) ≈ q − q·δ/u`, with
/// `1/u` = `q` or `1 − q`).
#[inline(always)]
pub fn sigmoid<L: Lanes>(l: L, x: L::V) -> L::V {
    let one = l.splat(1.0);
    let e = exp_nonpos(l, l.neg(l.abs(x)));
    let nonneg = l.ge(x, l.splat(0.0));
    let num = l.select(nonneg, one, e);
    let u = l.add(one, e);
    // Fast2Sum (1 ≥ e): u + delta == 1 + e exactly.
    let delta = l.sub(e, l.sub(u, one));
    let q = l.div(num, u);
    let inv_u = l.select(nonneg, q, l.sub(one, q));
    l.sub(q, l.mul(l.mul(q, delta), inv_u))
}

/// `ln(1 + e^x)`, computed as `max(x, 0) + log1p(e^−|x|)` (stable for every
/// `x`). Domain, error and special values: see the [module docs](self).
#[inline(always)]
pub fn softplus<L: Lanes>(l: L, x: L::V) -> L::V {
    let zero = l.splat(0.0);
    let e = exp_nonpos(l, l.neg(l.abs(x)));
    let (lp, _) = log1p_unit(l, e);
    l.add(l.select(l.gt(x, zero), x, zero), lp)
}

/// `x^γ` as `exp(γ·ln x)`, for `x ≥ 0` (negative `x` gives NaN).
/// `pow(x, 0) = 1` for every `x`. Error: see the [module docs](self).
#[inline(always)]
pub fn pow<L: Lanes>(l: L, x: L::V, gamma: L::V) -> L::V {
    let zero = l.splat(0.0);
    let g_ln = l.select(l.eq(gamma, zero), zero, l.mul(gamma, ln(l, x)));
    exp(l, g_ln)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::scalar::Scalar;

    /// The kernels' shortcuts agree bit for bit with the public functions
    /// on their domains.
    /// Bit-pattern stride of the sweeps below (larger under emulation).
    const STEP: u32 = if cfg!(target_arch = "x86_64") { 7 } else { 997 };

    #[test]
    fn shortcuts_match_public_functions() {
        let l = Scalar;
        // Every STEP-th bit pattern of [0, 1] for log1p_unit.
        let mut b = 0u32;
        while b <= 0x3f80_0000 {
            let e = f32::from_bits(b);
            assert_eq!(
                log1p_unit(l, e).0.to_bits(),
                log1p(l, e).to_bits(),
                "log1p_unit({e:e})"
            );
            b += STEP;
        }
        // Every STEP-th bit pattern of (−∞, 0] for exp_nonpos, and (0, 88] too.
        let mut b = 0x8000_0000u32;
        while b <= 0xff80_0000 {
            let x = f32::from_bits(b);
            assert_eq!(
                exp_nonpos(l, x).to_bits(),
                exp(l, x).to_bits(),
                "exp({x:e})"
            );
            b += STEP;
        }
        // Every STEP-th bit pattern of (0, 1] for the probability logs.
        let mut b = 1u32;
        while b <= 0x3f80_0000 {
            let p = f32::from_bits(b);
            assert_eq!(ln_prob(l, p).to_bits(), ln(l, p).to_bits(), "ln({p:e})");
            assert_eq!(
                ln_one_minus_prob(l, p).to_bits(),
                log1p(l, -p).to_bits(),
                "ln(1 − {p:e})"
            );
            b += STEP;
        }
        assert_eq!(ln_one_minus_prob(l, 1.0), f32::NEG_INFINITY);
        assert_eq!(ln_one_minus_prob(l, 0.0).to_bits(), 0);
        assert!(ln_prob(l, 0.0) < -100.0 && ln_prob(l, -0.0) < -100.0);
        assert!(ln_prob(l, f32::NAN).is_nan() && ln_one_minus_prob(l, f32::NAN).is_nan());
        let mut b = 0u32;
        while b <= 88.0f32.to_bits() {
            let x = f32::from_bits(b);
            assert_eq!(
                exp_nonpos(l, x).to_bits(),
                exp(l, x).to_bits(),
                "exp({x:e})"
            );
            b += STEP;
        }
    }
}
