//! Vector math: `exp`, `ln`, `log1p`, `sigmoid`, `softplus` and `pow`,
//! written once against [`Lanes`], so every backend computes the same
//! operations in the same order and returns the same bits.
//!
//! How (DESIGN.md §2.3):
//! - multiply, then add, as two roundings: never a fused multiply-add, no
//!   reciprocal/rsqrt estimates, no min/max (clamps are compare + select,
//!   which keep a NaN a NaN);
//! - `exp` by a 16-entry table: `x = (16n + j)·ln2/16 + r`, `|r| ≤ ln2/32`
//!   (Cody–Waite: `ln2/16` split in two, the first part short enough that
//!   `(16n + j)·hi` is exact), `e^x = 2ⁿ·2^(j/16)·e^r` with `2^(j/16)` and
//!   its rounding error looked up (`Lanes::lookup16_u`) and `e^r − 1`
//!   a degree-3 polynomial; `ln` by Cody–Waite with `ln 2` split in two
//!   (`0.693359375 − 2.12194440·10⁻⁴`); minimax polynomials of the lowest
//!   degree that keeps the bound, fitted offline with f32 coefficients
//!   (Sollya's `fpminimax`; the command is beside each table,
//!   `tools/polynomials.sollya` holds them all), evaluated by Estrin's
//!   scheme or pairs (independent products, not one chain of multiply-adds);
//! - exponents built and taken apart with integer bit operations
//!   (`t = x·16/ln2 + 1.5·2²³` leaves `round(x·16/ln2)` in the low bits of
//!   `t`, and `2ⁿ` is an add of `n << 23` to the bits);
//! - inputs clamped by compare + select so that no intermediate value is
//!   subnormal (subnormal inputs of `ln` are rescaled with integer
//!   operations first; tiny arguments take an exact shortcut); no clamp
//!   where the domain makes it unnecessary (`ln` of an exact split has no
//!   tiny `f`, `ln(1 + e)` for `e ∈ [0, 1]` needs no range reduction);
//! - one kind of data-dependent branch, and it cannot change a bit: `exp`
//!   skips its clamps and rescaling for a register whose lanes all lie in
//!   `[−69, 69]`, because the full path gives such lanes the same bits
//!   (`tests/math.rs` checks lanes of every kind side by side); callers
//!   that test their own domain a register at a time call the variants
//!   without the special cases directly (`exp_in_range`,
//!   `log1p_unit_normal`, `ln_prob_or_complement_inside`), with the same
//!   bits there.
//!
//! # Precision
//!
//! Worst error in ulp of the result (ulp at the exact result's binade,
//! normal range) against an f64 reference. `tests/math.rs` asserts the
//! bound over every 61st f32 bit pattern of the whole range plus every
//! special value, on every instruction set this CPU has (which agree bit
//! for bit); the last column is a one-off run over all 2³² inputs
//! (`SIMDLOSS_MATH_STEP=1 cargo test --release --test math --
//! precision_table`, about 8 minutes here). Issue 10 (minimax polynomials,
//! Estrin) moved `ln` from 0.83 to 0.88 and `log1p` from 1.39 to 1.44 ulp,
//! and `softplus` from 1.67 to 2.46 (bound 2 → 3: its `ln(1 + e)` is one
//! polynomial on `[0, 1]` now, at half the operations); the table-driven
//! `exp` moved `exp` from 0.99 to 0.57 ulp (bound 1 → 0.6) and left the
//! others where they were.
//!
//! | function | domain (useful range) | bound, ulp | measured: sweep / all 2³² | outside the domain, special values |
//! |---|---|---|---|---|
//! | [`exp`] | `−87.33654 ≤ x ≤ 88.72283` (result normal) | 0.6 | 0.566 / 0.569 | `x < −87.33654` (true result subnormal) → `+0`; `x > 88.72283` → `+∞`; `±0 → 1` |
//! | [`ln`] | `x > 0`, subnormals included | 1 | 0.812 / 0.884 | `±0 → −∞`; `x < 0 → NaN`; `+∞ → +∞` |
//! | [`log1p`] | `x > −1` | 1.5 | 1.417 / 1.438 | `−1 → −∞`; `x < −1 → NaN`; `+∞ → +∞`; returns `x` itself for `\|x\| < 2⁻³⁰` |
//! | [`sigmoid`] | `x ≥ −87.33654` | 2 | 1.862 / 1.967 | below: `+0` (true result < 2⁻¹²⁶); `+∞ → 1`, `−∞ → +0` |
//! | [`softplus`] | `x ≥ −87.33654` | 3 | 2.419 / 2.462 | below: `+0`; `+∞ → +∞`, `−∞ → +0` |
//! | [`pow`] | `x ≥ 0`, result normal | `1 + 3·\|γ ln x\|` (see below) | ≤ 0.6 of the bound / — | `pow(x, 0) = 1` for every `x` (NaN too); `pow(0, γ > 0) = +0` |
//!
//! [`pow`] is `exp(γ·ln x)`: `ln x` (≤ 0.9 ulp, so a relative error up to
//! 1.8·2⁻²⁴) times γ (rounded once more: 2⁻²⁴) gives `w = γ·ln x` with a
//! relative error up to 2.8·2⁻²⁴, i.e. an absolute error `2.8·2⁻²⁴·|w|` that
//! `exp` turns into the same relative error of the result: at most
//! `1 + 3·|w|` ulp, which `tests/math.rs` asserts for `x ∈ (0, 1]` (focal
//! loss's use) and `x` slightly above 1, γ ∈ {0.25, 0.5, 1, 1.5, 2, 5}
//! (measured: at most 0.6 of that bound). Sigmoid focal loss computes its
//! `(1 − p_t)^γ` the same way, `exp(γ·ln(1 − p_t))`, with `ln(1 − p_t)`
//! taken in the log domain rather than from a rounded `1 − p_t`, except
//! for γ = 2, where `(1 − p_t)²` is a product.
//!
//! NaN in gives NaN out for every function (except `pow(NaN, 0) = 1`, as in
//! C's `pow`); which NaN is unspecified.

use super::{F32s, Lanes, M32s, U32s};
use crate::arch::SMALL_CODE;

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

/// `16/ln 2`, rounded to f32: `x·EXP_INV_STEP` counts steps of `ln2/16`.
const EXP_INV_STEP: f32 = 23.083_12; // 23.0831203460693359375
/// High part of `ln2/16`: `2839·2⁻¹⁶` (12 significant bits, so `n·EXP_STEP_HI`
/// is exact for the `|n| ≤ 2¹¹` steps of a finite result).
const EXP_STEP_HI: f32 = 2839.0 / 65536.0;
/// Low part: `ln2/16 − EXP_STEP_HI`, rounded to f32.
const EXP_STEP_LO: f32 = 1.996_636_5e-6; // 1.9966364561696536839008331299e-6
/// `e^r ≈ 1 + r + r²·(EXP_C2 + EXP_C3·r)` on `|r| ≤ ln2/32`: the minimax
/// polynomial of degree 3 with f32 coefficients and `1 + r` fixed, for the
/// relative error (Sollya 8.0: `fpminimax(exp(x), [|2,3|], [|single...|],
/// [-log(2)/32; log(2)/32], relative, floating, 1+x)`; its own error is
/// 1.6·10⁻⁹ = 2⁻²⁹·²; `tools/polynomials.sollya`).
const EXP_C2: f32 = 0.500_016_15; // 8388879·2⁻²⁴
const EXP_C3: f32 = 0.166_667_18; // 11184845·2⁻²⁶
/// `2^(j/16)` for `j = 0..16`, rounded to f32 (exponent field 127), as bits
/// minus `j << 19`: adding `n16 << 19` for `n16 = 16·n + j` (the low 4 bits
/// of `n16` land in bits 19..23 and cancel the `j << 19`) leaves the bits of
/// `2^(j/16)·2ⁿ` wherever that is normal.
const EXP_TABLE: [u32; 16] = [
    0x3f80_0000,
    0x3f7d_aac3,
    0x3f7b_95c2,
    0x3f79_c3d3,
    0x3f78_37f0,
    0x3f76_f532,
    0x3f75_fed7,
    0x3f75_583f,
    0x3f75_04f3,
    0x3f75_08a4,
    0x3f75_672a,
    0x3f76_248c,
    0x3f77_44fd,
    0x3f78_ccdf,
    0x3f7a_c0c7,
    0x3f7d_257d,
];
/// The bits of `(2^(j/16) − s_j)/s_j` rounded to f32, `s_j` the rounded
/// `2^(j/16)` of [`EXP_TABLE`]: the relative error of each entry (at most
/// 2⁻²⁴·³), which [`exp_reduced`] adds to `q`; computed with mpmath at 100
/// bits (`tools/polynomials.sollya` says how).
const EXP_TABLE_CORRECTION: [u32; 16] = [
    0x0000_0000,
    0x3346_cb6a,
    0xb24e_0611,
    0x334b_2482,
    0x3309_2801,
    0x331b_85f2,
    0xb305_1aa8,
    0xb200_6c56,
    0x3293_02ae,
    0xb302_e5a2,
    0x31b3_d0e5,
    0x31d1_daf2,
    0xb27c_e182,
    0xb1b4_b0da,
    0xb1d2_90be,
    0x31b0_a147,
];
/// Below this `s·q` in [`exp_reduced`]'s `s + s·q` could be subnormal and
/// still matter for the rounding (hardware that flushes it to zero, such
/// as 32-bit ARM's NEON, would change the result), so [`exp_clamped`]
/// computes those lanes 2³² higher and scales back. Above it, a subnormal
/// `s·q` is below a quarter of an ulp of `s` and cannot change a bit.
const EXP_RESCALE_BELOW: f32 = -69.0;

/// `ln(1+f) ≈ f − f²/2 + f³·P(f)` on `sqrt(1/2) − 1 ≤ f < sqrt(2) − 1`,
/// `P = LOG_P[0] + LOG_P[1]·f + … + LOG_P[7]·f⁷`: the minimax polynomial of
/// degree 10 with f32 coefficients and `f − f²/2` fixed, for the relative
/// error of `ln(1+f)` (Sollya 8.0: `fpminimax(log1p(x), [|3,...,10|],
/// [|single...|], [sqrt(1/2)-1; sqrt(2)-1], relative, floating, x-x^2/2)`;
/// its own error is 2⁻²⁶·⁹; Cephes' degree 11 is 2⁻³⁰·³, degree 9 2⁻²⁴·⁹).
const LOG_P: [f32; 8] = [
    0.333_333_73,  // 0.3333337306976318359375
    -0.250_008_4,  // -0.250008404254913330078125
    0.199_989_9,   // 0.19998989999294281005859375
    -0.166_212_07, // -0.16621206700801849365234375
    0.142_389_07,  // 0.14238907396793365478515625
    -0.132_123_56, // -0.1321235597133636474609375
    0.125_658_9,   // 0.1256588995456695556640625
    -7.286_021e-2, // -7.28602111339569091796875e-2
];

/// `ln(1 + e) ≈ e + e²·Q(e)` on `0 ≤ e ≤ 1`, `Q = LOG1P_UNIT_Q[0] + … +
/// LOG1P_UNIT_Q[8]·e⁸`: the minimax polynomial of degree 10 with f32
/// coefficients and `e` fixed, for the relative error (Sollya 8.0:
/// `fpminimax(log1p(x)/x, [|1,...,9|], [|single...|], [2^-20; 1],
/// relative, floating, 1)`, i.e. `log1p(x)/x ≈ 1 + x·Q(x)`; its own error
/// is 2⁻²⁷·⁵; degree 9 would be 2⁻²⁴·⁸).
const LOG1P_UNIT_Q: [f32; 9] = [
    -0.499_999_3,    // -0.4999993145465850830078125
    0.333_304_8,     // 0.3333047926425933837890625
    -0.249_582_93,   // -0.24958293139934539794921875
    0.196_940_24,    // 0.196940243244171142578125
    -0.153_517_17,   // -0.15351717174053192138671875
    0.106_746_94,    // 0.1067469418048858642578125
    -5.760_939_4e-2, // -5.760939419269561767578125e-2
    2.017_644_6e-2,  // 2.017644606530666351318359375e-2
    -3.312_434_8e-3, // -3.31243476830422878265380859375e-3
];

/// `c[0] + c[1]·x + … + c[7]·x⁷` by Estrin's scheme, given `x2 = x²`.
#[inline(always)]
fn estrin8<L: Lanes>(x: F32s<L>, x2: F32s<L>, c: &[f32; 8]) -> F32s<L> {
    let x4 = x2 * x2;
    let p01 = x * c[1] + c[0];
    let p23 = x * c[3] + c[2];
    let p45 = x * c[5] + c[4];
    let p67 = x * c[7] + c[6];
    (p01 + x2 * p23) + x4 * (p45 + x2 * p67)
}

/// A small non-negative integer held in the low mantissa bits of `bits`
/// (`0 ≤ bits < 2²³`), as an exact f32.
#[inline(always)]
fn small_int_to_f32<L: Lanes>(bits: U32s<L>) -> F32s<L> {
    (bits | TWO23.to_bits()).to_f32s() - TWO23
}

/// `e^x`. Domain, error and special values: see the [module docs](self).
///
/// Results that would be subnormal (`x < −87.33654`) are `+0`.
#[inline(always)]
pub fn exp<L: Lanes>(x: F32s<L>) -> F32s<L> {
    // A register whose lanes are all NaN or in [−69, 69] needs no clamp, no
    // rescaling and no overflow split; the other path gives those lanes
    // the same bits, so the choice never shows in a result. Where flash
    // counts more than speed, only the path for every input is compiled.
    if SMALL_CODE || x.abs().gt(-EXP_RESCALE_BELOW).any() {
        exp_clamped::<L, true>(x)
    } else {
        exp_in_range(x)
    }
}

/// `e^x` for `x ≤ 0` (or NaN): the same bits as [`exp`] there, without the
/// overflow handling that only positive arguments need. For `0 < x ≤ 87.3`
/// it still agrees with [`exp`]; above that it is wrong.
#[inline(always)]
pub(crate) fn exp_nonpos<L: Lanes>(x: F32s<L>) -> F32s<L> {
    if SMALL_CODE || x.lt(EXP_RESCALE_BELOW).any() {
        exp_clamped::<L, false>(x)
    } else {
        exp_in_range(x)
    }
}

/// The reduction shared by both paths: `n16 = round(x·16/ln2)` (held in the
/// low bits of `t`), `r = x − n16·ln2/16` (Cody–Waite: `x − n16·EXP_STEP_HI`
/// is exact), `q ≈ e^r − 1`, and the bits of `s = 2^(n16/16)` from the
/// table (the bits of a normal float for `−2016 ≤ n16 ≤ 2031`). `e^x =
/// s·(1 + q)`.
#[inline(always)]
fn exp_reduced<L: Lanes>(x: F32s<L>) -> (U32s<L>, F32s<L>) {
    let t = x * EXP_INV_STEP + MAGIC;
    let n16 = t - MAGIC;
    let r = (x - n16 * EXP_STEP_HI) - n16 * EXP_STEP_LO;
    let t_bits = t.to_bits();
    // `s` is `2^(j/16)` rounded; adding its relative rounding error to `q`
    // (beside `r`, off the polynomial's dependency chain) makes
    // `s·(1 + q)` as accurate as if `s` were exact.
    let correction = F32s::from_bits(t_bits.lookup16(&EXP_TABLE_CORRECTION));
    let q = r * r * (r * EXP_C3 + EXP_C2) + (r + correction);
    (t_bits.lookup16(&EXP_TABLE) + t_bits.shl::<19>(), q)
}

/// [`exp`] where every lane is a NaN or `−69 ≤ x ≤ 87.3`: `s + s·q`,
/// nothing else. [`exp_clamped`] gives those lanes the same bits, which is
/// what lets `exp` choose between them per register (and a caller that
/// knows its domain call this directly).
#[inline(always)]
pub(crate) fn exp_in_range<L: Lanes>(x: F32s<L>) -> F32s<L> {
    let (s_bits, q) = exp_reduced(x);
    let s = F32s::from_bits(s_bits);
    s + s * q
}

/// [`exp`] for any input. Lanes below [`EXP_RESCALE_BELOW`] are computed
/// as `(s' + s'·q)·2⁻³²` with `s' = s·2³²` (no subnormal on the way; the
/// result is normal down to `EXP_LO`, so the scaling back is exact), and
/// with `POSITIVE`, lanes above 0 as `(s/2 + s/2·q)·2`, since `s` itself
/// overflows for `n16 ≥ 2032` (`x ≥ 87.98`). Every other lane computes
/// `s + s·q` exactly as [`exp_in_range`] (scaled by an exact 1, or by a
/// power of two that makes no subnormal): the same bits. Below `EXP_LO`
/// the result is `+0`, above `EXP_HI` `+∞`; the reduction of such lanes
/// (even of ±∞) is garbage that the final selects replace.
#[inline(always)]
fn exp_clamped<L: Lanes, const POSITIVE: bool>(x: F32s<L>) -> F32s<L> {
    let (s_bits, q) = exp_reduced(x);
    let low = x.lt(EXP_RESCALE_BELOW);
    // Exponent offsets as bit patterns (+32, −1, 0) and the matching
    // exact factors (2⁻³², 2, 1).
    let (offset, factor) = if POSITIVE {
        let pos = x.gt(0.0);
        (
            low.select(
                f32::from_bits(32 << 23),
                pos.select(f32::from_bits(0xff80_0000), 0.0),
            ),
            low.select(1.0 / 4_294_967_296.0, pos.select(2.0, 1.0)),
        )
    } else {
        (
            low.select(f32::from_bits(32 << 23), 0.0),
            low.select(1.0 / 4_294_967_296.0, 1.0),
        )
    };
    let s = F32s::from_bits(s_bits + offset.to_bits());
    let y = (s + s * q) * factor;
    let y = x.lt(EXP_LO).select(0.0, y);
    if POSITIVE {
        x.gt(EXP_HI).select(f32::INFINITY, y)
    } else {
        y
    }
}

/// `k·ln 2 + ln(1 + f)` for a reduced `f ∈ [sqrt(1/2) − 1, sqrt(2) − 1)`
/// and an integer `k` (Cephes `logf`'s evaluation order).
///
/// `TINY_F`: `f` may be nonzero and below 2⁻³⁰ (a rounding correction was
/// folded into it), so it is zeroed in the polynomial, where `f⁴` would be
/// subnormal (`ln(1 + f)` rounds to `f` there). Without it, `f` must be 0
/// or at least 2⁻²⁴ in magnitude, as `m − 1` of an exact split is.
#[inline(always)]
fn log_reduced<L: Lanes, const TINY_F: bool>(f: F32s<L>, k: F32s<L>) -> F32s<L> {
    let fp = if TINY_F {
        f.abs().lt(TINY).select(0.0, f)
    } else {
        f
    };
    let z = fp * fp;
    let y = estrin8(fp, z, &LOG_P) * fp * z;
    let y = y + k * LN2_LO;
    let y = y - 0.5 * z;
    (f + y) + k * LN2_HI
}

/// Splits a positive normal `x` (given by its bits) into `m·2ᵏ` with
/// `m ∈ [sqrt(1/2), sqrt(2))`; returns `(m − 1, k, biased k)`. `m − 1` is
/// exact (Sterbenz).
#[inline(always)]
fn split_normal<L: Lanes>(bits: U32s<L>) -> (F32s<L>, F32s<L>, U32s<L>) {
    // Moving the mantissa of sqrt(1/2) to 1.0 makes the exponent field
    // count binades starting at sqrt(1/2)·2ᵏ.
    let shifted = bits + (0x3f80_0000 - SQRT_HALF_BITS);
    let kb = shifted.shr::<23>();
    let m = ((shifted & 0x007f_ffff) + SQRT_HALF_BITS).to_f32s();
    let k = small_int_to_f32(kb) - 127.0;
    (m - 1.0, k, kb)
}

/// `2⁻ᵏ` from the biased exponent `kb = k + 127` of [`split_normal`]: the
/// float with bits `(254 − kb) << 23` (normal for `−126 ≤ k ≤ 127`).
#[inline(always)]
fn inverse_scale<L: Lanes>(kb: U32s<L>) -> F32s<L> {
    (254u32 - kb).shl::<23>().to_f32s()
}

/// `ln x` (natural logarithm). Domain, error and special values: see the
/// [module docs](self). Subnormal inputs are exact (rescaled with integer
/// operations, never multiplied).
#[inline(always)]
pub fn ln<L: Lanes>(x: F32s<L>) -> F32s<L> {
    let r = ln_core(x);
    // Zero and the sign from the bits, not from float compares of `x`:
    // 32-bit ARM's NEON compares a subnormal as zero (flush-to-zero), and
    // a subnormal must take `ln_core`'s exact path there too. Each float
    // made here is 0 or normal.
    let bits = x.to_bits();
    let exponent_zero = (bits & 0x7f80_0000).to_f32s().eq(0.0);
    let mantissa = small_int_to_f32(bits & 0x007f_ffff);
    let zero = exponent_zero.select(mantissa, 1.0).eq(0.0);
    let negative = small_int_to_f32(bits.shr::<31>()).eq(1.0);
    // Negative → NaN, then ±0 → −∞ (so −0 is −∞, not NaN).
    let r = negative.select(f32::NAN, r);
    let r = zero.select(f32::NEG_INFINITY, r);
    let r = x.eq(f32::INFINITY).select(x, r);
    x.is_number().select(r, x)
}

/// `ln p` for a probability `p ∈ [0, 1]` (or NaN, which propagates): the
/// same bits as [`ln`] for `p > 0`; `ln(±0)` is a finite `≈ −191.3`
/// instead of `−∞` (callers clamp at −100 anyway).
#[inline(always)]
pub(crate) fn ln_prob<L: Lanes>(p: F32s<L>) -> F32s<L> {
    let r = ln_core(p);
    p.is_number().select(r, p)
}

/// `ln(1 − p)` for a probability `p ∈ [0, 1]` (or NaN, which propagates):
/// the same bits as [`log1p`]`(−p)` for `p > 0` (at `p = 0` it is `+0`
/// rather than `−0`), without the general case's range handling.
#[inline(always)]
pub(crate) fn ln_one_minus_prob<L: Lanes>(p: F32s<L>) -> F32s<L> {
    let u = 1.0 - p;
    // Fast2Sum (1 ≥ p): u + err == 1 − p exactly.
    let err = (1.0 - u) - p;
    let (f, k, kb) = split_normal(u.to_bits());
    // u ∈ {0} ∪ [2⁻²⁴, 1]: 2⁻ᵏ is a normal float (2¹²⁷ for u = 0, where
    // err = 0).
    let r = log_reduced::<L, true>(f + err * inverse_scale(kb), k);
    u.eq(0.0).select(f32::NEG_INFINITY, r)
}

/// `ln(1 − p)` where `complement` is set, `ln p` elsewhere, for a
/// probability `p ∈ [0, 1]` (or NaN, which propagates): the bits of
/// [`ln_one_minus_prob`] and [`ln_prob`] lane by lane, for one polynomial
/// instead of two (BCE with hard targets needs one of the two logs per
/// element). Both reductions are formed and the one each lane needs is
/// selected before [`log_reduced`], whose tiny-`f` guard changes nothing for
/// `ln_prob`'s exact split (`f` is 0 or at least 2⁻²⁴ there).
#[inline(always)]
pub(crate) fn ln_prob_or_complement<L: Lanes>(p: F32s<L>, complement: M32s<L>) -> F32s<L> {
    // ln_one_minus_prob's reduction: u + err == 1 − p exactly.
    let u = 1.0 - p;
    let err = (1.0 - u) - p;
    // ln_core's: a subnormal p is its integer mantissa times 2⁻¹⁴⁹.
    let bits = p.to_bits();
    let subnormal = (bits & 0x7f80_0000).to_f32s().eq(0.0);
    let xs = subnormal.select(small_int_to_f32(bits & 0x007f_ffff), p);
    let (f, k, kb) = split_normal(complement.select(u, xs).to_bits());
    let f = complement.select(f + err * inverse_scale(kb), f);
    let k = k + complement.select(0.0, subnormal.select(-149.0, 0.0));
    let r = log_reduced::<L, true>(f, k);
    let r = complement.select(u.eq(0.0).select(f32::NEG_INFINITY, r), r);
    p.is_number().select(r, p)
}

/// The smallest `p(1 − p)` for which [`ln_prob_or_complement_inside`]
/// may be used: `2⁻³⁰`, so both `p` and `1 − p` are at least `2⁻³⁰`.
pub(crate) const PROB_INSIDE: f32 = TINY;

/// [`ln_prob_or_complement`] for `p` with `p·(1 − p) ≥` [`PROB_INSIDE`]
/// (rounded product; then `2⁻³⁰ ≤ p < 1`): the same bits there, for
/// a fifth of the operations. Such a `p` is normal (no subnormal
/// rescaling), neither log is `−∞` (no special values), and the reduced
/// argument is `0` or at least `2⁻³⁰` in magnitude, so the polynomial needs
/// no guard against a tiny one: for `ln p`, `m − 1` of an exact split is
/// `0` or at least `2⁻²⁴`; for `ln(1 − p)`, `f + err·2⁻ᵏ` is `−p` itself
/// where `u = 1 − p` rounds to `1` or to `1 − 2⁻²⁴`, and at least
/// `2⁻²⁵` in magnitude below that. Outside that domain the result is
/// garbage: callers test the domain (a register at a time) first.
#[inline(always)]
pub(crate) fn ln_prob_or_complement_inside<L: Lanes>(p: F32s<L>, complement: M32s<L>) -> F32s<L> {
    // ln_one_minus_prob's reduction: u + err == 1 − p exactly.
    let u = 1.0 - p;
    let err = (1.0 - u) - p;
    let (f, k, kb) = split_normal(complement.select(u, p).to_bits());
    let f = complement.select(f + err * inverse_scale(kb), f);
    log_reduced::<L, false>(f, k)
}

/// [`ln`] without its special values: correct for positive finite `x`
/// (subnormals included); `±0` gives `≈ −191.3`; negative, infinite and
/// NaN inputs give garbage.
#[inline(always)]
fn ln_core<L: Lanes>(x: F32s<L>) -> F32s<L> {
    let bits = x.to_bits();
    // Exponent field 0 (zero or subnormal): x = m·2⁻¹⁴⁹ with the integer m
    // in the mantissa bits; take ln(m) − 149·ln 2 instead.
    let subnormal = (bits & 0x7f80_0000).to_f32s().eq(0.0);
    let m_int = small_int_to_f32(bits & 0x007f_ffff);
    let xs = subnormal.select(m_int, x);
    let (f, k, _) = split_normal(xs.to_bits());
    let k = k + subnormal.select(-149.0, 0.0);
    // f = m − 1 of an exact split: 0 or |f| ≥ 2⁻²⁴.
    log_reduced::<L, false>(f, k)
}

/// `ln(1 + x)`, accurate near 0. Domain, error and special values: see the
/// [module docs](self).
///
/// `1 + x` is rounded to `u`, its rounding error recovered exactly (2Sum)
/// and folded into the reduced argument, so the result is as accurate as
/// [`ln`] of the exact `1 + x`.
#[inline(always)]
pub fn log1p<L: Lanes>(x: F32s<L>) -> F32s<L> {
    let tiny = x.abs().lt(TINY);
    let xs = tiny.select(0.0, x);
    // 2Sum: u + err == 1 + xs exactly.
    let u = 1.0 + xs;
    let a = u - xs;
    let b = u - a;
    let err = (1.0 - a) + (xs - b);
    let (f, k, kb) = split_normal(u.to_bits());
    // err·2⁻ᵏ: a normal 2⁻ᵏ while u < 2²⁴; above that the correction is
    // below half an ulp of the result and is dropped.
    let corr = u.lt(16_777_216.0).select(err * inverse_scale(kb), 0.0);
    let r = log_reduced::<L, true>(f + corr, k);
    let r = tiny.select(x, r);
    let r = x.eq(-1.0).select(f32::NEG_INFINITY, r);
    let r = x.lt(-1.0).select(f32::NAN, r);
    let r = x.eq(f32::INFINITY).select(x, r);
    x.is_number().select(r, x)
}

/// `ln(1 + e)` for `e ∈ [0, 1]` (or NaN, which propagates), by one
/// polynomial on the whole interval: no exponent split, no range
/// reduction, no special values. Within 2 ulp (1.53 measured over every
/// f32 in [0, 1]; [`log1p`]'s general path, with its split at √2, is
/// within 1.5 but costs twice the operations). Returns `(ln(1 + e), 1 + e)` so callers can reuse the
/// rounded sum.
///
/// `e + e²·Q(e)` with [`LOG1P_UNIT_Q`], evaluated as pairs in `e` and
/// Horner's rule in `e²`, so no power beyond `e²` is formed and every
/// product is normal once `e ≥ 2⁻³⁰`; below, the result is `e` itself (the
/// exact `e − e²/2 + …` rounds to it), taken by zeroing `e` in the
/// polynomial.
#[inline(always)]
pub(crate) fn log1p_unit<L: Lanes>(e: F32s<L>) -> (F32s<L>, F32s<L>) {
    log1p_unit_guarded::<L, true>(e)
}

/// [`log1p_unit`] for `e ≥ 2⁻³⁰` (or NaN) in every lane, where its guard
/// against a tiny `e` changes nothing: the same bits, two operations fewer.
#[inline(always)]
pub(crate) fn log1p_unit_normal<L: Lanes>(e: F32s<L>) -> (F32s<L>, F32s<L>) {
    log1p_unit_guarded::<L, false>(e)
}

/// [`log1p_unit`], with `GUARD` the zeroing of `e < 2⁻³⁰` in the
/// polynomial.
#[inline(always)]
fn log1p_unit_guarded<L: Lanes, const GUARD: bool>(e: F32s<L>) -> (F32s<L>, F32s<L>) {
    let c = &LOG1P_UNIT_Q;
    let es = if GUARD { e.lt(TINY).select(0.0, e) } else { e };
    let e2 = es * es;
    let p01 = es * c[1] + c[0];
    let p23 = es * c[3] + c[2];
    let p45 = es * c[5] + c[4];
    let p67 = es * c[7] + c[6];
    let q = p01 + e2 * (p23 + e2 * (p45 + e2 * (p67 + e2 * c[8])));
    (e2 * q + e, 1.0 + e)
}

/// The logistic function `1 / (1 + e^−x)`. Domain, error and special
/// values: see the [module docs](self).
///
/// Computed from `e = e^−|x| ≤ 1` as `1/(1+e)` for `x ≥ 0` and `e/(1+e)`
/// otherwise, so neither tail cancels; the rounding error `δ` of `u = 1+e`
/// is recovered exactly and corrected for (`n/(u+δ) ≈ q − q·δ/u`, with
/// `1/u` = `q` or `1 − q`).
#[inline(always)]
pub fn sigmoid<L: Lanes>(x: F32s<L>) -> F32s<L> {
    let e = exp_nonpos(-x.abs());
    let nonneg = x.ge(0.0);
    let u = 1.0 + e;
    // Fast2Sum (1 ≥ e): u + delta == 1 + e exactly.
    let delta = e - (u - 1.0);
    let q = nonneg.select(1.0, e) / u;
    let inv_u = nonneg.select(q, 1.0 - q);
    q - q * delta * inv_u
}

/// `e^−|x|`, the one `exp` of [`sigmoid`] and [`sigmoid_pair_from`].
#[inline(always)]
pub(crate) fn sigmoid_exp<L: Lanes>(x: F32s<L>) -> F32s<L> {
    exp_nonpos(-x.abs())
}

/// `(σ(x), σ(−x))` from `e = sigmoid_exp(x)`: the same bits as
/// `(sigmoid(x), sigmoid(-x))` for a third fewer operations (the
/// derivative `σ(x)·σ(−x)` without the cancellation of `1 − σ(x)`), so
/// that a kernel can keep `e` between passes.
#[inline(always)]
pub(crate) fn sigmoid_pair_from<L: Lanes>(x: F32s<L>, e: F32s<L>) -> (F32s<L>, F32s<L>) {
    let u = 1.0 + e;
    let delta = e - (u - 1.0);
    (
        sigmoid_corrected(x.ge(0.0), e, u, delta),
        sigmoid_corrected((-x).ge(0.0), e, u, delta),
    )
}

/// `(σ(x), σ(x)·σ(−x))` from `e = sigmoid_exp(x)` with one division: the
/// logistic's value and slope, `e/(1+e)²` for either sign of `x`. The
/// rounding `δ` of `u = 1 + e` is recovered exactly and `r = 1/(1+e)`
/// corrected for it (`r ≈ 1/u − δ/u²`); then `σ = r` (`x ≥ 0`) or `e·r`
/// and the slope `e·r·r`: σ within 2 ulp (not [`sigmoid`]'s bits) and
/// the slope within 4 ulp (the unit test below), for half of
/// [`sigmoid_pair_from`]'s divisions.
#[inline(always)]
pub(crate) fn sigmoid_and_slope<L: Lanes>(x: F32s<L>, e: F32s<L>) -> (F32s<L>, F32s<L>) {
    let u = 1.0 + e;
    // Fast2Sum (1 ≥ e): u + delta == 1 + e exactly.
    let delta = e - (u - 1.0);
    let q = 1.0 / u;
    let r = q - q * delta * q;
    let er = e * r;
    (x.ge(0.0).select(r, er), er * r)
}

/// [`sigmoid`]'s last steps: `n/u` with `n = 1` where `nonneg` else `e`,
/// corrected for the rounding `delta` of `u = 1 + e`.
#[inline(always)]
fn sigmoid_corrected<L: Lanes>(
    nonneg: super::M32s<L>,
    e: F32s<L>,
    u: F32s<L>,
    delta: F32s<L>,
) -> F32s<L> {
    let q = nonneg.select(1.0, e) / u;
    let inv_u = nonneg.select(q, 1.0 - q);
    q - q * delta * inv_u
}

/// `ln(1 + e^x)`, computed as `max(x, 0) + log1p(e^−|x|)` (stable for every
/// `x`). Domain, error and special values: see the [module docs](self).
#[inline(always)]
pub fn softplus<L: Lanes>(x: F32s<L>) -> F32s<L> {
    let (log1p_e, _) = log1p_unit(exp_nonpos(-x.abs()));
    x.gt(0.0).select(x, 0.0) + log1p_e
}

/// `x^γ` as `exp(γ·ln x)`, for `x ≥ 0` (negative `x` gives NaN).
/// `pow(x, 0) = 1` for every `x`. Error: see the [module docs](self).
#[inline(always)]
pub fn pow<L: Lanes>(x: F32s<L>, gamma: F32s<L>) -> F32s<L> {
    exp(gamma.eq(0.0).select(0.0, gamma * ln(x)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::scalar::Scalar;

    /// The kernels' shortcuts agree bit for bit with the public functions
    /// on their domains.
    /// Bit-pattern stride of the sweeps below (larger under emulation).
    const STEP: u32 = if cfg!(target_arch = "x86_64") { 7 } else { 997 };

    /// The ulp of an f32 at the binade of the exact value `r > 0`
    /// (normal range).
    fn ulp_of(r: f64) -> f64 {
        // The biased exponent has 11 bits: the cast is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
        let exponent = ((r.to_bits() >> 52) & 0x7ff) as i32 - 1023;
        2f64.powi(exponent.max(-126) - 23)
    }

    #[test]
    fn shortcuts_match_public_functions() {
        let l = Scalar;
        // Every STEP-th bit pattern of [0, 1] for log1p_unit: within 2 ulp
        // of ln(1 + e) (measured: 1.53 over all of them), and the rounded
        // 1 + e.
        let mut b = 0u32;
        let mut worst = 0.0f64;
        while b <= 0x3f80_0000 {
            let e = f32::from_bits(b);
            let (got, u) = log1p_unit(l.splat(e));
            assert_eq!(u.raw(), 1.0 + e);
            let want = f64::from(e).ln_1p();
            let err = (f64::from(got.raw()) - want).abs() / ulp_of(want);
            assert!(
                err <= 2.0,
                "log1p_unit({e:e}): {} vs {want:e}, {err} ulp",
                got.raw()
            );
            worst = worst.max(err);
            b += STEP;
        }
        assert!(worst > 0.0);
        // Every STEP-th bit pattern of (−∞, 0] for exp_nonpos, and (0, 88] too.
        let mut b = 0x8000_0000u32;
        while b <= 0xff80_0000 {
            let x = f32::from_bits(b);
            assert_eq!(
                exp_nonpos(l.splat(x)).raw().to_bits(),
                exp(l.splat(x)).raw().to_bits(),
                "exp({x:e})"
            );
            b += STEP;
        }
        // Every STEP-th bit pattern of (0, 1] for the probability logs.
        let mut b = 1u32;
        while b <= 0x3f80_0000 {
            let p = f32::from_bits(b);
            assert_eq!(
                ln_prob(l.splat(p)).raw().to_bits(),
                ln(l.splat(p)).raw().to_bits(),
                "ln({p:e})"
            );
            assert_eq!(
                ln_one_minus_prob(l.splat(p)).raw().to_bits(),
                log1p(l.splat(-p)).raw().to_bits(),
                "ln(1 − {p:e})"
            );
            b += STEP;
        }
        // The merged probability log gives each of them, at every STEP-th
        // pattern of [0, 1] and at the ends.
        let (yes, no) = (l.splat(0.0).eq(0.0), l.splat(0.0).eq(1.0));
        let mut b = 0u32;
        let mut ends = [0.0f32, -0.0, 1.0, f32::from_bits(1)].into_iter();
        loop {
            let p = if b <= 0x3f80_0000 {
                f32::from_bits(b)
            } else if let Some(p) = ends.next() {
                p
            } else {
                break;
            };
            let v = l.splat(p);
            assert_eq!(
                ln_prob_or_complement(v, no).raw().to_bits(),
                ln_prob(v).raw().to_bits(),
                "ln({p:e}), merged"
            );
            assert_eq!(
                ln_prob_or_complement(v, yes).raw().to_bits(),
                ln_one_minus_prob(v).raw().to_bits(),
                "ln(1 − {p:e}), merged"
            );
            b = b.saturating_add(STEP);
        }
        assert!(ln_prob_or_complement(l.splat(f32::NAN), yes).raw().is_nan());
        assert!(ln_prob_or_complement(l.splat(f32::NAN), no).raw().is_nan());
        assert_eq!(ln_one_minus_prob(l.splat(1.0)).raw(), f32::NEG_INFINITY);
        assert_eq!(ln_one_minus_prob(l.splat(0.0)).raw().to_bits(), 0);
        assert!(ln_prob(l.splat(0.0)).raw() < -100.0 && ln_prob(l.splat(-0.0)).raw() < -100.0);
        assert!(
            ln_prob(l.splat(f32::NAN)).raw().is_nan()
                && ln_one_minus_prob(l.splat(f32::NAN)).raw().is_nan()
        );
        let mut b = 0u32;
        while b <= 88.0f32.to_bits() {
            let x = f32::from_bits(b);
            assert_eq!(
                exp_nonpos(l.splat(x)).raw().to_bits(),
                exp(l.splat(x)).raw().to_bits(),
                "exp({x:e})"
            );
            b += STEP;
        }
    }
}

#[cfg(test)]
mod sigmoid_pair_tests {
    use super::{sigmoid, sigmoid_and_slope, sigmoid_exp, sigmoid_pair_from};
    use crate::arch::scalar::Scalar;
    use crate::simd::Lanes;

    /// `sigmoid_pair_from` is `(sigmoid(x), sigmoid(−x))` bit for bit.
    #[test]
    fn sigmoid_pair_is_two_sigmoids() {
        let mut bits = 0u32;
        loop {
            let x = Scalar.splat(f32::from_bits(bits));
            let (s, q) = sigmoid_pair_from(x, sigmoid_exp(x));
            for (got, want) in [(s, sigmoid(x)), (q, sigmoid(-x))] {
                let (got, want) = (got.raw(), want.raw());
                assert!(
                    got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                    "x = {:e}",
                    f32::from_bits(bits)
                );
            }
            bits = match bits.checked_add(0x0000_1357) {
                Some(b) => b,
                None => break,
            };
        }
    }

    /// Distance in ulp of `got` from the exact `want` (in units of the
    /// spacing of f32 at `want`, the smallest normal's below it).
    fn ulps(got: f32, want: f64) -> f64 {
        let spacing = f64::from(f32::MIN_POSITIVE).max(want.abs()) * f64::from(f32::EPSILON);
        let exponent = spacing.log2().floor();
        (f64::from(got) - want).abs() / exponent.exp2()
    }

    /// `sigmoid_and_slope` against f64 for every 0x1357th bit pattern with
    /// `|x| ≤ 80` (about 460 000, both signs, every binade; beyond, the
    /// values leave the normal range): σ within 2 ulp (measured 1.99;
    /// `sigmoid` 1.45) and the slope `σ(x)·σ(−x)` within 4 ulp (measured
    /// 3.57; the product of `sigmoid_pair_from`'s two sigmoids, which the
    /// Dice gradient used before, 2.86). NaN in, NaN out.
    #[test]
    fn sigmoid_and_slope_keep_their_bounds() {
        let (mut worst_sigma, mut worst_slope) = (0.0f64, 0.0f64);
        let (mut worst_old, mut worst_pair) = (0.0f64, 0.0f64);
        let mut bits = 0u32;
        loop {
            let x32 = f32::from_bits(bits);
            let x = Scalar.splat(x32);
            let (s, slope) = sigmoid_and_slope(x, sigmoid_exp(x));
            let (s, slope) = (s.raw(), slope.raw());
            if x32.is_nan() {
                assert!(s.is_nan() && slope.is_nan(), "NaN in, NaN out");
            } else if x32.abs() <= 80.0 {
                let e = (-f64::from(x32).abs()).exp();
                let exact_slope = e / ((1.0 + e) * (1.0 + e));
                let exact_sigma = 1.0 / (1.0 + (-f64::from(x32)).exp());
                worst_sigma = worst_sigma.max(ulps(s, exact_sigma));
                worst_old = worst_old.max(ulps(sigmoid(x).raw(), exact_sigma));
                let (a, b) = sigmoid_pair_from(x, sigmoid_exp(x));
                worst_pair = worst_pair.max(ulps((a * b).raw(), exact_slope));
                worst_slope = worst_slope.max(ulps(slope, exact_slope));
            }
            bits = match bits.checked_add(0x0000_1357) {
                Some(b) => b,
                None => break,
            };
        }
        std::println!(
            "σ {worst_sigma} ulp (sigmoid {worst_old}), slope {worst_slope} ulp (pair {worst_pair})"
        );
        assert!(worst_sigma <= 2.0, "σ off by {worst_sigma} ulp");
        assert!(worst_slope <= 4.0, "slope off by {worst_slope} ulp");
    }
}
