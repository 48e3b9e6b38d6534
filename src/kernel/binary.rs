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
use crate::simd::math::{exp_nonpos, ln, ln_one_minus_prob, ln_prob, log1p_unit};
use crate::simd::{F32s, Lanes, M32s};

/// `a·b`, except `0` where `a == 0` (so that `0·∞ = 0`: a zero coefficient
/// switches a term off even at an infinite logit).
#[inline(always)]
fn mul_or_zero<L: Lanes>(a: F32s<L>, b: F32s<L>) -> F32s<L> {
    a.eq(0.0).select(0.0, a * b)
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
    #[inline(always)]
    fn new(x: F32s<L>) -> Self {
        let abs = x.abs();
        let nonneg = x.ge(0.0);
        let e = exp_nonpos(-abs);
        let (log1p_e, u) = log1p_unit(e);
        Self {
            abs,
            nonneg,
            e,
            u,
            log1p_e,
            softplus_pos: x.gt(0.0).select(x, 0.0) + log1p_e,
            softplus_neg: x.lt(0.0).select(-x, 0.0) + log1p_e,
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
        let ln_p = ln_prob(p).at_least(-100.0);
        let ln_q = ln_one_minus_prob(p).at_least(-100.0);
        let value = -(y * ln_p + (1.0 - y) * ln_q);
        let den = ((1.0 - p) * p).at_least(1e-12);
        (value, (p - y) / den)
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
    fn eval<L: Lanes>(self, x: F32s<L>, y: F32s<L>) -> (F32s<L>, F32s<L>) {
        self.eval_param(x, y, x.splat(1.0))
    }

    #[inline(always)]
    fn eval_param<L: Lanes>(
        self,
        x: F32s<L>,
        y: F32s<L>,
        pos_weight: F32s<L>,
    ) -> (F32s<L>, F32s<L>) {
        let t = Logit::new(x);
        let one_minus_y = 1.0 - y;
        let pw_y = pos_weight * y;
        let value = mul_or_zero(one_minus_y, t.softplus_pos) + mul_or_zero(pw_y, t.softplus_neg);
        // NaN propagates through the derivative (0·NaN is NaN); the value
        // needs the guard where both coefficients are 0 (y = 1, pw = 0).
        let deriv = (one_minus_y * t.sig_pos_num - pw_y * t.sig_neg_num) / t.u;
        (nan_from(x, value), deriv)
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
    fn eval<L: Lanes>(self, x: F32s<L>, y: F32s<L>) -> (F32s<L>, F32s<L>) {
        let gamma = self.gamma;
        let t = Logit::new(x);
        let one_minus_y = 1.0 - y;
        // ℓ = BCE with logits, and p − y = ((1−y)·σ(x) − y·σ(−x)).
        let bce = mul_or_zero(one_minus_y, t.softplus_pos) + mul_or_zero(y, t.softplus_neg);
        let p_minus_y = (one_minus_y * t.sig_pos_num - y * t.sig_neg_num) / t.u;
        // q = 1 − p_t = c/u, c = y' + (1 − y')·e.
        let y_big = t.nonneg.select(one_minus_y, y);
        let y_small = t.nonneg.select(y, one_minus_y);
        let c = y_big + y_small * t.e;
        let hard = y_big.eq(0.0);
        let ln_q = hard.select(-t.abs, ln(c)) - t.log1p_e;
        // q^γ = exp(γ·ln q), with q^0 = 1 even where ln q = −∞.
        let q_gamma = exp_nonpos(x.splat(gamma).eq(0.0).select(0.0, gamma * ln_q));
        // ρ = (1 − 2y)·e/(u·c); e/c = 1 when y' = 0 (c = e, possibly 0).
        let rho = (1.0 - (y + y)) * hard.select(1.0, t.e) / (t.u * hard.select(1.0, c));
        let q_gamma_bce = q_gamma * bce;
        let modulated = mul_or_zero(gamma * rho, q_gamma_bce) + q_gamma * p_minus_y;
        // NaN in x or y propagates without a guard: at most one of the
        // coefficients 1 − y, y of ℓ is 0, and p − y is a plain product.
        if self.alpha >= 0.0 {
            let alpha_t = self.alpha * y + (1.0 - self.alpha) * one_minus_y;
            (alpha_t * q_gamma_bce, alpha_t * modulated)
        } else {
            (q_gamma_bce, modulated)
        }
    }
}
