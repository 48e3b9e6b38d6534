//! Per-lane math of the binary losses: BCE on probabilities, BCE with
//! logits and sigmoid focal loss. Formulas, gradients and edge cases are
//! documented on the public types in `crate::loss::binary`; this file says
//! how they are evaluated.
//!
//! The logit losses share one expansion of `x` ([`Logit`]): `e = e^−|x|`
//! (never overflows), `u = 1 + e`, `L = log1p(e)`, and from those
//! `softplus(±x) = max(±x, 0) + L` and `σ(±x) = {1 or e}/u`. Every quantity
//! is then a sum of non-negative terms or a quotient, so no tail cancels:
//! - BCE with logits: `(1−y)·softplus(x) + pw·y·softplus(−x)` (equal to
//!   PyTorch's `(1−y)x + (1+(pw−1)y)·softplus(−x)`, without its
//!   cancellation for `x < 0`), gradient `((1−y)·σ(x)·u − pw·y·σ(−x)·u)/u`.
//! - Focal: `1 − p_t = σ(x)(1−y) + σ(−x)y = c/u` with
//!   `c = y' + (1−y')·e` and `y' = 1−y` (x ≥ 0) or `y` (x < 0), so
//!   `ln(1 − p_t) = ln c − L` is finite for every finite `x`, and is
//!   exactly `−|x| − L` when `y' = 0` (the saturated, correctly classified
//!   case where `c = e` may underflow).
//!
//! NaN in `x` or `y` gives NaN in value and derivative (where a `0·∞ = 0`
//! convention below could hide it, a final compare + select restores it).

use super::pointwise::PointwiseKernel;
use crate::arch::SMALL_CODE;
use crate::simd::math::{
    PROB_INSIDE, exp_in_range, exp_nonpos, ln, ln_one_minus_prob, ln_prob, ln_prob_or_complement,
    ln_prob_or_complement_inside, log1p_unit, log1p_unit_normal,
};
use crate::simd::{F32s, Lanes, M32s};

/// `a·b`, except `0` where `a == 0` (so that `0·∞ = 0`: a zero coefficient
/// switches a term off even at an infinite logit).
#[inline(always)]
fn mul_or_zero<L: Lanes>(a: F32s<L>, b: F32s<L>) -> F32s<L> {
    a.eq(0.0).select(0.0, a * b)
}

/// Logits with `|x| ≤ LOGIT_INSIDE` in every lane of a register (or NaN:
/// NaN in, NaN out either way) take [`Logit::new`]`::<true>` and plain
/// products: `e = e^−|x| ≥ e^−20 > 2⁻³⁰`, so `exp` needs no clamp and
/// `log1p(e)` no tiny-`e` guard, and every `softplus` is finite and
/// positive, so [`mul_or_zero`]'s `0·∞` case cannot arise and a term that
/// is `±0` instead of `+0` changes no sum. The same bits as the general
/// path (`tests/binary.rs` puts logits on both sides of the edge in one
/// register); the choice is per register, so it never shows in a result.
const LOGIT_INSIDE: f32 = 20.0;

/// Whether every lane of `x` is inside [`LOGIT_INSIDE`] or NaN (never on
/// small-code targets, which compile the general path only).
#[inline(always)]
fn logits_inside<L: Lanes>(x: F32s<L>) -> bool {
    !SMALL_CODE && !x.abs().gt(LOGIT_INSIDE).any()
}

/// `a·b`: [`mul_or_zero`] unless `INSIDE` (see [`LOGIT_INSIDE`]).
#[inline(always)]
fn product<L: Lanes, const INSIDE: bool>(a: F32s<L>, b: F32s<L>) -> F32s<L> {
    if INSIDE { a * b } else { mul_or_zero(a, b) }
}

/// `v`, or `x` itself where `x` is NaN.
#[inline(always)]
fn nan_from<L: Lanes>(x: F32s<L>, v: F32s<L>) -> F32s<L> {
    x.is_number().select(v, x)
}

/// The shared expansion of a logit `x`.
#[derive(Clone, Copy)]
struct Logit<L: Lanes> {
    /// `|x|`.
    abs: F32s<L>,
    /// `x ≥ 0`.
    nonneg: M32s<L>,
    /// `e^−|x|` (`+0` below `e^−87.34`).
    e: F32s<L>,
    /// `1 + e`, rounded.
    u: F32s<L>,
    /// `log1p(e)`.
    log1p_e: F32s<L>,
    /// `softplus(x) = max(x, 0) + log1p(e)`.
    softplus_pos: F32s<L>,
    /// `softplus(−x) = max(−x, 0) + log1p(e)`.
    softplus_neg: F32s<L>,
    /// `σ(x)·u`: `1` for `x ≥ 0`, else `e`.
    sig_pos_num: F32s<L>,
    /// `σ(−x)·u`: `e` for `x ≥ 0`, else `1`.
    sig_neg_num: F32s<L>,
}

impl<L: Lanes> Logit<L> {
    /// The expansion of `x`; `INSIDE`: every lane has `|x| ≤`
    /// [`LOGIT_INSIDE`] or is NaN (the same bits, fewer operations).
    #[inline(always)]
    fn new<const INSIDE: bool>(x: F32s<L>) -> Self {
        let abs = x.abs();
        let nonneg = x.ge(0.0);
        let (e, (log1p_e, u)) = if INSIDE {
            let e = exp_in_range(-abs);
            (e, log1p_unit_normal(e))
        } else {
            let e = exp_nonpos(-abs);
            (e, log1p_unit(e))
        };
        Self {
            abs,
            nonneg,
            e,
            u,
            log1p_e,
            // max(±x, 0) from the one sign mask (at x = ±0 both are
            // ±0, and ±0 + log1p(e) is log1p(e) > 0 either way).
            softplus_pos: nonneg.select(x, 0.0) + log1p_e,
            softplus_neg: nonneg.select(0.0, -x) + log1p_e,
            sig_pos_num: nonneg.select(1.0, e),
            sig_neg_num: nonneg.select(e, 1.0),
        }
    }
}

/// BCE on probabilities (PyTorch `binary_cross_entropy`):
/// `−[y·max(ln p, −100) + (1−y)·max(log1p(−p), −100)]`, derivative
/// `(p − y)/max(p(1−p), 10⁻¹²)`.
#[derive(Clone, Copy, Debug)]
pub struct BceKernel;

impl PointwiseKernel for BceKernel {
    #[inline(always)]
    fn eval<L: Lanes>(self, p: F32s<L>, y: F32s<L>) -> (F32s<L>, F32s<L>) {
        // Hard targets (every lane's y is 0 or 1, the usual case) need one
        // of the two logs: `1·ln p + 0·ln q` is `ln p` and `0·ln p + 1·ln q`
        // is `ln q` to the bit (the logs are ≤ 0 and clamped finite, and
        // neither is −0). And where also every `p(1 − p) ≥ 2⁻³⁰` (no `p`
        // at or near 0 or 1, no NaN), that log needs none of its special
        // cases and neither clamp can bind. Both branches give the bits of
        // the general path (`ln_prob_or_complement_inside` says why), so
        // they never show in a result. Where flash counts more than speed,
        // only the general path is compiled.
        let den = (1.0 - p) * p;
        let inside = den.ge(PROB_INSIDE).select(0.0, 1.0);
        // 0 where y is 0 or 1 and p is inside, else 1 (NaN y: 1).
        let unusual = y.eq(0.0).select(inside, y.eq(1.0).select(inside, 1.0));
        if !SMALL_CODE && !unusual.gt(0.0).any() {
            let value = -ln_prob_or_complement_inside(p, y.eq(0.0));
            return (value, (p - y) / den);
        }
        let soft = y.eq(0.0).select(0.0, y.eq(1.0).select(0.0, 1.0));
        let value = if SMALL_CODE || soft.gt(0.0).any() {
            let ln_p = ln_prob(p).at_least(-100.0);
            let ln_q = ln_one_minus_prob(p).at_least(-100.0);
            -(y * ln_p + (1.0 - y) * ln_q)
        } else {
            -ln_prob_or_complement(p, y.eq(0.0)).at_least(-100.0)
        };
        (value, (p - y) / den.at_least(1e-12))
    }
}

/// BCE with logits (PyTorch `binary_cross_entropy_with_logits`):
/// `(1−y)·softplus(x) + pw·y·softplus(−x)`, derivative
/// `(1−y)·σ(x) − pw·y·σ(−x)`, with `pw` (`pos_weight`, finite and ≥ 0)
/// from the parameter stream of [`eval_param`](Self::eval_param), or
/// `self.pos_weight` in [`eval`](Self::eval) (a pass without streams).
#[derive(Clone, Copy, Debug)]
pub struct BceLogitsKernel {
    /// `pos_weight` of a pass without a parameter stream.
    pub pos_weight: f32,
}

impl PointwiseKernel for BceLogitsKernel {
    #[inline(always)]
    fn eval<L: Lanes>(self, x: F32s<L>, y: F32s<L>) -> (F32s<L>, F32s<L>) {
        self.eval_param(x, y, x.splat(self.pos_weight))
    }

    #[inline(always)]
    fn eval_param<L: Lanes>(
        self,
        x: F32s<L>,
        y: F32s<L>,
        pos_weight: F32s<L>,
    ) -> (F32s<L>, F32s<L>) {
        if logits_inside(x) {
            bce_with_logits::<L, true>(x, y, pos_weight)
        } else {
            bce_with_logits::<L, false>(x, y, pos_weight)
        }
    }
}

/// [`BceLogitsKernel`]'s value and derivative (`INSIDE`: see
/// [`LOGIT_INSIDE`]).
#[inline(always)]
fn bce_with_logits<L: Lanes, const INSIDE: bool>(
    x: F32s<L>,
    y: F32s<L>,
    pos_weight: F32s<L>,
) -> (F32s<L>, F32s<L>) {
    let t = Logit::new::<INSIDE>(x);
    let one_minus_y = 1.0 - y;
    let pw_y = pos_weight * y;
    let value = product::<L, INSIDE>(one_minus_y, t.softplus_pos)
        + product::<L, INSIDE>(pw_y, t.softplus_neg);
    // NaN propagates through the derivative (0·NaN is NaN); the value
    // needs the guard where both coefficients are 0 (y = 1, pw = 0) and
    // the products are not plain.
    let deriv = (one_minus_y * t.sig_pos_num - pw_y * t.sig_neg_num) / t.u;
    (if INSIDE { value } else { nan_from(x, value) }, deriv)
}

/// Sigmoid focal loss (torchvision `sigmoid_focal_loss`):
/// `α_t·(1−p_t)^γ·ℓ` with `ℓ` = BCE with logits, and its analytic
/// derivative `α_t·q^γ·[γ·ρ·ℓ + (p − y)]`, `q = 1 − p_t`,
/// `ρ = (dq/dx)/q = (1−2y)·e/(u·c)` (see the module docs for `c`).
///
/// `GAMMA_TWO`: γ is 2 (torchvision's default) and `q²` is a product
/// ([`focal_gamma_two`]); the loss picks the kernel, so the choice is not
/// a branch in the loop.
#[derive(Clone, Copy, Debug)]
pub struct FocalKernel<const GAMMA_TWO: bool> {
    /// α ∈ [0, 1], or negative: no α weighting (`α_t = 1`).
    pub alpha: f32,
    /// γ ≥ 0, finite.
    pub gamma: f32,
}

impl<const GAMMA_TWO: bool> PointwiseKernel for FocalKernel<GAMMA_TWO> {
    #[inline(always)]
    fn eval<L: Lanes>(self, x: F32s<L>, y: F32s<L>) -> (F32s<L>, F32s<L>) {
        if logits_inside(x) {
            self.focal::<L, true>(x, y)
        } else {
            self.focal::<L, false>(x, y)
        }
    }
}

impl<const GAMMA_TWO: bool> FocalKernel<GAMMA_TWO> {
    /// The value and derivative (`INSIDE`: see [`LOGIT_INSIDE`]).
    #[inline(always)]
    fn focal<L: Lanes, const INSIDE: bool>(self, x: F32s<L>, y: F32s<L>) -> (F32s<L>, F32s<L>) {
        let t = Logit::new::<INSIDE>(x);
        let one_minus_y = 1.0 - y;
        // ℓ = BCE with logits.
        let bce = product::<L, INSIDE>(one_minus_y, t.softplus_pos)
            + product::<L, INSIDE>(y, t.softplus_neg);
        // c = u·q = y' + (1 − y')·e (see the module docs).
        let y_big = t.nonneg.select(one_minus_y, y);
        let y_small = t.nonneg.select(y, one_minus_y);
        let c = y_big + y_small * t.e;
        let (value, modulated) = if GAMMA_TWO {
            focal_gamma_two::<L, INSIDE>(&t, y, one_minus_y, bce, c)
        } else {
            self.focal_general(&t, x, y, one_minus_y, bce, c, y_big)
        };
        // NaN in x or y propagates without a guard: at most one of the
        // coefficients 1 − y, y of ℓ is 0, and p − y is a plain product.
        if self.alpha >= 0.0 {
            let alpha_t = self.alpha * y + (1.0 - self.alpha) * one_minus_y;
            (alpha_t * value, alpha_t * modulated)
        } else {
            (value, modulated)
        }
    }

    /// `(q^γ·ℓ, q^γ·[γ·ρ·ℓ + (p − y)])` for any γ: `q^γ = exp(γ·ln q)`,
    /// `ln q = ln c − log1p(e)` in the log domain.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn focal_general<L: Lanes>(
        self,
        t: &Logit<L>,
        x: F32s<L>,
        y: F32s<L>,
        one_minus_y: F32s<L>,
        bce: F32s<L>,
        c: F32s<L>,
        y_big: F32s<L>,
    ) -> (F32s<L>, F32s<L>) {
        let gamma = self.gamma;
        // p − y = ((1−y)·σ(x) − y·σ(−x)).
        let p_minus_y = (one_minus_y * t.sig_pos_num - y * t.sig_neg_num) / t.u;
        let hard = y_big.eq(0.0);
        let ln_q = hard.select(-t.abs, ln(c)) - t.log1p_e;
        // q^γ = exp(γ·ln q), with q^0 = 1 even where ln q = −∞.
        let q_gamma = exp_nonpos(x.splat(gamma).eq(0.0).select(0.0, gamma * ln_q));
        // ρ = (1 − 2y)·e/(u·c); e/c = 1 when y' = 0 (c = e, possibly 0).
        let rho = (1.0 - (y + y)) * hard.select(1.0, t.e) / (t.u * hard.select(1.0, c));
        let q_gamma_bce = q_gamma * bce;
        let modulated = mul_or_zero(gamma * rho, q_gamma_bce) + q_gamma * p_minus_y;
        (q_gamma_bce, modulated)
    }
}

/// `(q²·ℓ, 2q·q′·ℓ + q²·(p − y))` for γ = 2 (torchvision's default), by
/// multiplication: `q = c/u`, `q′ = dq/dx = (1 − 2y)·e/u²`, with one
/// division, `1/u`, corrected for the rounding `δ` of `u = 1 + e`
/// (`1/(u + δ) ≈ (1/u)(1 − δ/u)`). No `exp`, no `ln`; more accurate than
/// `exp(2·ln q)` where `q` is small. `q² < 2⁻¹²⁶` is flushed to `+0`, as
/// `exp` flushes it in the general path.
#[inline(always)]
fn focal_gamma_two<L: Lanes, const INSIDE: bool>(
    t: &Logit<L>,
    y: F32s<L>,
    one_minus_y: F32s<L>,
    bce: F32s<L>,
    c: F32s<L>,
) -> (F32s<L>, F32s<L>) {
    let delta = t.e - (t.u - 1.0);
    let inv_rounded = 1.0 / t.u;
    let inv_u = inv_rounded - (inv_rounded * delta) * inv_rounded;
    let p_minus_y = (one_minus_y * t.sig_pos_num - y * t.sig_neg_num) * inv_u;
    let q = c * inv_u;
    // q′·u² = (1 − 2y)·e; q = 0 where q² would be subnormal.
    let q = q.lt(TWO_POW_M63).select(0.0, q);
    let dq = ((1.0 - (y + y)) * t.e) * (inv_u * inv_u);
    // Inside, `bce` is finite and `dq + dq` is `+0` where it is zero.
    let modulated = q * (product::<L, INSIDE>(dq + dq, bce) + q * p_minus_y);
    (q * (q * bce), modulated)
}

/// 2⁻⁶³: below it, `q²` would be subnormal.
const TWO_POW_M63: f32 = 1.084_202_2e-19;
