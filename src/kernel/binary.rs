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
use crate::simd::Lanes;
use crate::simd::math::{exp_nonpos, ln, ln_one_minus_prob, ln_prob, log1p_unit};

/// `a·b`, except `0` where `a == 0` (so that `0·∞ = 0`: a zero coefficient
/// switches a term off even at an infinite logit).
#[inline(always)]
fn mul_or_zero<L: Lanes>(l: L, a: L::V, b: L::V) -> L::V {
    let zero = l.splat(0.0);
    l.select(l.eq(a, zero), zero, l.mul(a, b))
}

/// `v`, or `x` itself where `x` is NaN.
#[inline(always)]
fn nan_from<L: Lanes>(l: L, x: L::V, v: L::V) -> L::V {
    l.select(l.eq(x, x), v, x)
}

/// The shared expansion of a logit `x`.
#[derive(Clone, Copy)]
struct Logit<L: Lanes> {
    /// `|x|`.
    abs: L::V,
    /// `x ≥ 0`.
    nonneg: L::M,
    /// `e^−|x|` (`+0` below `e^−87.34`).
    e: L::V,
    /// `1 + e`, rounded.
    u: L::V,
    /// `log1p(e)`.
    log1p_e: L::V,
    /// `softplus(x) = max(x, 0) + log1p(e)`.
    softplus_pos: L::V,
    /// `softplus(−x) = max(−x, 0) + log1p(e)`.
    softplus_neg: L::V,
    /// `σ(x)·u`: `1` for `x ≥ 0`, else `e`.
    sig_pos_num: L::V,
    /// `σ(−x)·u`: `e` for `x ≥ 0`, else `1`.
    sig_neg_num: L::V,
}

impl<L: Lanes> Logit<L> {
    #[inline(always)]
    fn new(l: L, x: L::V) -> Self {
        let zero = l.splat(0.0);
        let one = l.splat(1.0);
        let abs = l.abs(x);
        let nonneg = l.ge(x, zero);
        let e = exp_nonpos(l, l.neg(abs));
        let (log1p_e, u) = log1p_unit(l, e);
        let softplus_pos = l.add(l.select(l.gt(x, zero), x, zero), log1p_e);
        let softplus_neg = l.add(l.select(l.lt(x, zero), l.neg(x), zero), log1p_e);
        Self {
            abs,
            nonneg,
            e,
            u,
            log1p_e,
            softplus_pos,
            softplus_neg,
            sig_pos_num: l.select(nonneg, one, e),
            sig_neg_num: l.select(nonneg, e, one),
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
    fn eval<L: Lanes>(self, l: L, p: L::V, y: L::V) -> (L::V, L::V) {
        let one = l.splat(1.0);
        let floor = l.splat(-100.0);
        let ln_p = ln_prob(l, p);
        let ln_p = l.select(l.lt(ln_p, floor), floor, ln_p);
        let ln_q = ln_one_minus_prob(l, p);
        let ln_q = l.select(l.lt(ln_q, floor), floor, ln_q);
        let one_minus_y = l.sub(one, y);
        let value = l.neg(l.add(l.mul(y, ln_p), l.mul(one_minus_y, ln_q)));
        let eps = l.splat(1e-12);
        let den = l.mul(l.sub(one, p), p);
        let den = l.select(l.lt(den, eps), eps, den);
        (value, l.div(l.sub(p, y), den))
    }
}

/// BCE with logits (PyTorch `binary_cross_entropy_with_logits`):
/// `(1−y)·softplus(x) + pw·y·softplus(−x)`, derivative
/// `(1−y)·σ(x) − pw·y·σ(−x)`, with `pw` (`pos_weight`, finite and ≥ 0)
/// from the parameter stream of [`eval_param`](Self::eval_param); `eval`
/// is `pw = 1`.
#[derive(Clone, Copy, Debug)]
pub struct BceLogitsKernel;

impl PointwiseKernel for BceLogitsKernel {
    #[inline(always)]
    fn eval<L: Lanes>(self, l: L, x: L::V, y: L::V) -> (L::V, L::V) {
        self.eval_param(l, x, y, l.splat(1.0))
    }

    #[inline(always)]
    fn eval_param<L: Lanes>(self, l: L, x: L::V, y: L::V, pos_weight: L::V) -> (L::V, L::V) {
        let t = Logit::new(l, x);
        let one_minus_y = l.sub(l.splat(1.0), y);
        let pw_y = l.mul(pos_weight, y);
        let value = l.add(
            mul_or_zero(l, one_minus_y, t.softplus_pos),
            mul_or_zero(l, pw_y, t.softplus_neg),
        );
        let num = l.sub(
            l.mul(one_minus_y, t.sig_pos_num),
            l.mul(pw_y, t.sig_neg_num),
        );
        // NaN propagates through num (0·NaN is NaN); the value needs the
        // guard where both coefficients are 0 (y = 1, pw = 0).
        let deriv = l.div(num, t.u);
        (nan_from(l, x, value), deriv)
    }
}

/// Sigmoid focal loss (torchvision `sigmoid_focal_loss`):
/// `α_t·(1−p_t)^γ·ℓ` with `ℓ` = BCE with logits, and its analytic
/// derivative `α_t·q^γ·[γ·ρ·ℓ + (p − y)]`, `q = 1 − p_t`,
/// `ρ = (dq/dx)/q = (1−2y)·e/(u·c)` (see the module docs for `c`).
#[derive(Clone, Copy, Debug)]
pub struct FocalKernel {
    /// α ∈ [0, 1], or negative: no α weighting (`α_t = 1`).
    pub alpha: f32,
    /// γ ≥ 0, finite.
    pub gamma: f32,
}

impl PointwiseKernel for FocalKernel {
    #[inline(always)]
    fn eval<L: Lanes>(self, l: L, x: L::V, y: L::V) -> (L::V, L::V) {
        let zero = l.splat(0.0);
        let one = l.splat(1.0);
        let gamma = l.splat(self.gamma);
        let t = Logit::new(l, x);
        let one_minus_y = l.sub(one, y);
        // ℓ = BCE with logits, and p − y = ((1−y)·σ(x) − y·σ(−x)).
        let bce = l.add(
            mul_or_zero(l, one_minus_y, t.softplus_pos),
            mul_or_zero(l, y, t.softplus_neg),
        );
        let p_minus_y = l.div(
            l.sub(l.mul(one_minus_y, t.sig_pos_num), l.mul(y, t.sig_neg_num)),
            t.u,
        );
        // q = 1 − p_t = c/u, c = y' + (1 − y')·e.
        let y_big = l.select(t.nonneg, one_minus_y, y);
        let y_small = l.select(t.nonneg, y, one_minus_y);
        let c = l.add(y_big, l.mul(y_small, t.e));
        let hard = l.eq(y_big, zero);
        let ln_c = l.select(hard, l.neg(t.abs), ln(l, c));
        let ln_q = l.sub(ln_c, t.log1p_e);
        // q^γ = exp(γ·ln q), with q^0 = 1 even where ln q = −∞.
        let g_ln_q = l.select(l.eq(gamma, zero), zero, l.mul(gamma, ln_q));
        let q_gamma = exp_nonpos(l, g_ln_q);
        // ρ = (1 − 2y)·e/(u·c); e/c = 1 when y' = 0 (c = e, possibly 0).
        let e1 = l.select(hard, one, t.e);
        let c1 = l.select(hard, one, c);
        let rho = l.div(l.mul(l.sub(one, l.add(y, y)), e1), l.mul(t.u, c1));
        let q_gamma_bce = l.mul(q_gamma, bce);
        let modulated = l.add(
            mul_or_zero(l, l.mul(gamma, rho), q_gamma_bce),
            l.mul(q_gamma, p_minus_y),
        );
        let (value, deriv) = if self.alpha >= 0.0 {
            let alpha = l.splat(self.alpha);
            let alpha_t = l.add(
                l.mul(alpha, y),
                l.mul(l.splat(1.0 - self.alpha), one_minus_y),
            );
            (l.mul(alpha_t, q_gamma_bce), l.mul(alpha_t, modulated))
        } else {
            (q_gamma_bce, modulated)
        };
        // NaN in x or y propagates without a guard: at most one of the
        // coefficients 1 − y, y of ℓ is 0, and p − y is a plain product.
        (value, deriv)
    }
}
