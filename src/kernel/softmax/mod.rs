//! The softmax drivers over a class axis, `[N, C, S]` logits, written once
//! against [`Lanes`], and the per-lane math they share.
//!
//! Per sample, three short passes over its `C` logits:
//!
//! - **A** (read): the maximum `m` and how many logits tie with it (NaN
//!   logits are skipped here and poison the sum in B).
//! - **B** (read): `e_c = e^−(m − x_c)` and `σ = Σ_{x_c ≠ m} e_c + ties − 1`
//!   (the sum *without* the maximum's own 1, so that `ln Σ = log1p(σ)`
//!   keeps its digits when one class dominates), plus the value's class sum
//!   `Σ b_c·(m − x_c)` where smoothing or soft targets need it. With an
//!   overwritten gradient, `e_c` is stored in the gradient buffer.
//! - From `m`, `σ` (and the target's logit, or the weighted target mass)
//!   come the sample's [`Coefficients`]: every loss here has the gradient
//!   `A·p_c − a_c` with `p_c = e_c/(1 + σ)`.
//! - **C** (gradient modes only): the gradient, from the stored `e_c` (read
//!   back while it is in L1) or, when accumulating, `e_c` recomputed from
//!   the logit (the same bits).
//!
//! So each logit costs one `exp` and is read twice (three times when
//! accumulating into a gradient), and the value alone takes A and B.
//!
//! Two kernels, chosen by the shape alone (so every ISA gives the same
//! bits), in [`rows`] (`S = 1`, `C ≥` [`ROW_KERNEL_MIN_CLASSES`]: along the
//! classes) and [`tiles`] (everything else: 64 samples in the lanes).
//! Per-sample values are summed exactly: the row kernel adds each row's
//! value to an exact total, the tile kernel folds each tile's 64 values
//! by the canonical tree and adds that, so the reduced value is the same
//! on every ISA and for any split of the samples at a row (row kernel) or
//! a 64-sample boundary (tile kernel).

mod chunk;
mod rows;
mod tiles;

use super::labels::LabelRun;
use crate::dispatch::{Isa, LanesFn};
use crate::simd::accumulate::Total;
use crate::simd::math::{exp, exp_nonpos, ln, ln_one_minus_prob, log1p};
use crate::simd::{F32s, Lanes};

/// Classifier rows (`S = 1`) with at least this many classes run the row
/// kernel (vectorized along the classes); fewer run the tile kernel
/// (samples in the lanes; a row of few classes fills too little of a
/// 64-lane chunk). Measured on AVX2 by instruction counts (callgrind) of
/// `[1024, C, 1]` value + gradient, tile / row kernel: 0.56 at C = 21,
/// 0.79 at 32, 0.89 at 40, 1.0 at 48, 1.14 at 63.
pub const ROW_KERNEL_MIN_CLASSES: usize = 48;

/// The target of a [`Problem`].
#[derive(Clone, Copy)]
pub(crate) enum Target<'a> {
    /// The labels `[N, S]` and the ignore index, validated by the loss
    /// layer: every label is a class `< C` or the ignore index.
    Index(LabelRun<'a>),
    /// Probabilities `[N, C, S]`.
    Probabilities(&'a [f32]),
}

/// One call: logits, shape, target and options.
#[derive(Clone, Copy)]
pub(crate) struct Problem<'a> {
    pub logits: &'a [f32],
    pub n: usize,
    pub c: usize,
    pub s: usize,
    pub target: Target<'a>,
    /// Class weights, `C` of them.
    pub weight: Option<&'a [f32]>,
    /// Label smoothing ε (cross-entropy only).
    pub smoothing: f32,
    /// `Some(γ)`: softmax focal loss (index targets only).
    pub focal_gamma: Option<f32>,
}

impl Problem<'_> {
    /// The weight of class `c` (1 without weights).
    #[inline(always)]
    fn class_weight(&self, c: usize) -> f32 {
        self.weight
            .map_or(1.0, |w| w.get(c).copied().unwrap_or(0.0))
    }
}

/// What a pass writes besides the sum of the per-sample values.
pub(crate) enum Output<'a> {
    Value,
    Grad {
        buf: &'a mut [f32],
        scale: f32,
        accumulate: bool,
    },
    /// One value per sample (`N·S`).
    PerSample(&'a mut [f32]),
}

/// Runs `problem` on `isa`; returns the plain (canonical) sum of the
/// per-sample values. `None` if the ISA is unavailable or a length
/// disagrees with the shape (nothing is written then).
pub(crate) fn execute(isa: Isa, problem: Problem<'_>, output: Output<'_>) -> Option<f64> {
    let Problem {
        logits, n, c, s, ..
    } = problem;
    let len = n.checked_mul(c)?.checked_mul(s)?;
    let samples = n * s;
    let ok = c >= 1
        && logits.len() == len
        && problem.weight.is_none_or(|w| w.len() == c)
        && match problem.target {
            Target::Probabilities(t) => t.len() == len && problem.focal_gamma.is_none(),
            Target::Index(_) => true,
        }
        && match &output {
            Output::Value => true,
            Output::Grad { buf, .. } => buf.len() == len,
            Output::PerSample(out) => out.len() == samples,
        };
    if !ok {
        return None;
    }
    let job = Job { problem, output };
    #[cfg(feature = "rayon")]
    if len >= PARALLEL_MIN_LOGITS {
        // Pieces of whole samples `n`. The row kernel sums every row's
        // value exactly: any row may start a piece. The tile kernel folds
        // each 64-sample tile and sums the tiles exactly: a piece starts
        // where `n·S` is a multiple of 64, so its tiles are those of one
        // pass.
        let grain = if s == 1 && c >= ROW_KERNEL_MIN_CLASSES {
            1
        } else {
            crate::simd::VIRTUAL_LANES / gcd(s, crate::simd::VIRTUAL_LANES)
        };
        let min_images = (PARALLEL_MIN_LOGITS / 2).div_ceil(c * s).max(1);
        let run = |piece: Job<'_>| crate::dispatch::dispatch_quads(isa, piece);
        return super::parallel::split_reduce(job, grain, min_images, &run).map(|t| t.value());
    }
    crate::dispatch::dispatch_quads(isa, job).map(|t| t.value())
}

/// With the `rayon` feature, a call of at least this many logits is split
/// over rayon's current pool, by whole samples `n`, in pieces of at least
/// half of it (compute-bound, as the binary losses).
#[cfg(feature = "rayon")]
pub const PARALLEL_MIN_LOGITS: usize = 1 << 15;

/// The greatest common divisor (`gcd(0, b) = b`).
#[cfg(feature = "rayon")]
fn gcd(a: usize, b: usize) -> usize {
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    x
}

#[cfg(feature = "rayon")]
impl super::parallel::Split for Job<'_> {
    fn len(&self) -> usize {
        self.problem.n
    }

    /// Samples `..mid` and `mid..`: every buffer cut at its sample stride.
    fn split_at(self, mid: usize) -> (Self, Self) {
        let Problem { n, c, s, .. } = self.problem;
        let mid = mid.min(n);
        let (per_sample, per_logit) = (mid * s, mid * c * s);
        let (logits_a, logits_b) = self.problem.logits.split_at(per_logit);
        let (target_a, target_b) = match self.problem.target {
            Target::Index(run) => {
                let (a, b) = run.split_at(per_sample);
                (Target::Index(a), Target::Index(b))
            }
            Target::Probabilities(t) => {
                let (a, b) = t.split_at(per_logit.min(t.len()));
                (Target::Probabilities(a), Target::Probabilities(b))
            }
        };
        let (out_a, out_b) = match self.output {
            Output::Value => (Output::Value, Output::Value),
            Output::Grad {
                buf,
                scale,
                accumulate,
            } => {
                let (a, b) = buf.split_at_mut(per_logit.min(buf.len()));
                let grad = |buf| Output::Grad {
                    buf,
                    scale,
                    accumulate,
                };
                (grad(a), grad(b))
            }
            Output::PerSample(out) => {
                let (a, b) = out.split_at_mut(per_sample.min(out.len()));
                (Output::PerSample(a), Output::PerSample(b))
            }
        };
        let piece = |logits, target, n, output| Job {
            problem: Problem {
                logits,
                n,
                target,
                ..self.problem
            },
            output,
        };
        (
            piece(logits_a, target_a, mid, out_a),
            piece(logits_b, target_b, n - mid, out_b),
        )
    }
}

struct Job<'a> {
    problem: Problem<'a>,
    output: Output<'a>,
}

impl LanesFn for Job<'_> {
    type Output = Total;
    #[inline(always)]
    fn call<L: Lanes>(self, l: L) -> Total {
        let setup = Setup::new(&self.problem);
        let mut out = Out::new(self.output);
        if self.problem.s == 1 && self.problem.c >= ROW_KERNEL_MIN_CLASSES {
            rows::run(l, &self.problem, &setup, &mut out)
        } else {
            tiles::run(l, &self.problem, &setup, &mut out)
        }
    }
}

/// Which loss, and the per-call constants of its coefficients.
#[derive(Clone, Copy)]
struct Setup {
    kind: Kind,
    /// `ε/C`: the smoothing mass per class.
    eps_per_class: f32,
    /// `1 − ε`.
    keep: f32,
    /// `(ε/C)·Σ_c w_c` (`Σ w` summed in f64 in class order).
    smoothing_total: f32,
    /// Whether pass B sums `b_c·(m − x_c)` for the value.
    second_sum: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Cross-entropy with index targets.
    Index,
    /// Cross-entropy with probability targets.
    Probabilities,
    /// Focal loss with index targets, γ.
    Focal(f32),
}

impl Setup {
    fn new(p: &Problem<'_>) -> Self {
        let kind = match (p.target, p.focal_gamma) {
            (Target::Probabilities(_), _) => Kind::Probabilities,
            (Target::Index(_), Some(gamma)) => Kind::Focal(gamma),
            (Target::Index(_), None) => Kind::Index,
        };
        let weight_total = p
            .weight
            .map_or(usize_to_f64(p.c), |w| w.iter().map(|&v| f64::from(v)).sum());
        let eps = p.smoothing;
        let eps_per_class = f64_to_f32(f64::from(eps) / usize_to_f64(p.c));
        Self {
            kind,
            eps_per_class,
            keep: 1.0 - eps,
            // Only with smoothing: 0·Σw is NaN when Σw overflows f32.
            smoothing_total: if eps > 0.0 {
                eps_per_class * f64_to_f32(weight_total)
            } else {
                0.0
            },
            second_sum: kind == Kind::Probabilities || (kind == Kind::Index && eps > 0.0),
        }
    }

    /// `b_c`, the coefficient of class `c` in the value's class sum and
    /// in `a_c` besides the target's own: `act·w_c·(t_c(1−ε) + ε/C)` with
    /// probability targets (`t = Some`), `act·(ε/C)·w_c` with smoothing,
    /// else 0.
    #[inline(always)]
    fn class_coef<L: Lanes>(&self, act: F32s<L>, w: F32s<L>, t: Option<F32s<L>>) -> F32s<L> {
        match t {
            Some(t) => act * (w * (t * self.keep + self.eps_per_class)),
            None if self.second_sum => act * (self.eps_per_class * w),
            None => act.splat(0.0),
        }
    }
}

#[allow(clippy::cast_precision_loss)]
fn usize_to_f64(v: usize) -> f64 {
    v as f64
}

#[allow(clippy::cast_possible_truncation)]
fn f64_to_f32(v: f64) -> f32 {
    v as f32
}

/// Where the gradient and per-sample values go, with the mode unpacked.
struct Out<'a> {
    buf: &'a mut [f32],
    mode: Mode,
    scale: f32,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Value,
    Overwrite,
    Accumulate,
    PerSample,
}

impl<'a> Out<'a> {
    fn new(output: Output<'a>) -> Self {
        match output {
            Output::Value => Self {
                buf: &mut [],
                mode: Mode::Value,
                scale: 0.0,
            },
            Output::Grad {
                buf,
                scale,
                accumulate,
            } => Self {
                buf,
                mode: if accumulate {
                    Mode::Accumulate
                } else {
                    Mode::Overwrite
                },
                scale,
            },
            Output::PerSample(buf) => Self {
                buf,
                mode: Mode::PerSample,
                scale: 0.0,
            },
        }
    }

    fn writes_grad(&self) -> bool {
        matches!(self.mode, Mode::Overwrite | Mode::Accumulate)
    }
}

/// `a·b`, except `0` where `a == 0` (a zero coefficient switches a term
/// off even against an infinite factor).
#[inline(always)]
fn mul_or_zero<L: Lanes>(a: F32s<L>, b: F32s<L>) -> F32s<L> {
    a.eq(0.0).select(0.0, a * b)
}

/// `m − x`, with `0` where `x == m` (two `+∞` logits are tied, not NaN).
#[inline(always)]
fn gap<L: Lanes>(m: F32s<L>, x: F32s<L>) -> F32s<L> {
    x.eq(m).select(0.0, m - x)
}

/// Pass A's state of a lane: the maximum so far and how many logits equal
/// it. Empty: `m = −∞`, no ties (a NaN logit changes nothing: both
/// comparisons are false).
#[derive(Clone, Copy)]
struct Peak<L: Lanes> {
    m: F32s<L>,
    ties: F32s<L>,
}

impl<L: Lanes> Peak<L> {
    #[inline(always)]
    fn empty(l: L) -> Self {
        Self {
            m: l.splat(f32::NEG_INFINITY),
            ties: l.splat(0.0),
        }
    }

    /// Takes one logit per lane.
    #[inline(always)]
    fn push(self, x: F32s<L>) -> Self {
        let bigger = x.gt(self.m);
        let ties = x.eq(self.m).select(self.ties + 1.0, self.ties);
        Self {
            m: bigger.select(x, self.m),
            ties: bigger.select(1.0, ties),
        }
    }

    /// Merges two lanes' states (exact: a max and a small integer count).
    #[inline(always)]
    fn merge(self, other: Self) -> Self {
        let other_bigger = other.m.gt(self.m);
        let ties = other.m.eq(self.m).select(self.ties + other.ties, self.ties);
        Self {
            m: other_bigger.select(other.m, self.m),
            ties: other_bigger.select(other.ties, ties),
        }
    }
}

/// Pass B's work on one register of one class: `(m − x, e^−(m − x),
/// the term of σ)` (the term is 0 for a logit equal to the maximum, whose
/// 1 is counted by the ties).
#[inline(always)]
fn exp_gap<L: Lanes>(m: F32s<L>, x: F32s<L>) -> (F32s<L>, F32s<L>, F32s<L>) {
    let d = gap(m, x);
    let e = exp_nonpos(-d);
    (d, e, x.eq(m).select(0.0, e))
}

/// [`exp_gap`] where the maximum `m` is finite, with its bits and `e` in
/// two fewer operations: `x − m` is `−(m − x)` exactly, and for a tie
/// both are zeros (`e^−0` and `e^+0` are both 1). The gap itself keeps
/// its select (`m − x` is `−0` for `m = −0`, `x = +0`); only the class
/// sums use it, so a pass without them computes none of it.
#[inline(always)]
fn exp_gap_finite<L: Lanes>(m: F32s<L>, x: F32s<L>) -> (F32s<L>, F32s<L>, F32s<L>) {
    let e = exp_nonpos(x - m);
    (gap(m, x), e, x.eq(m).select(0.0, e))
}

/// [`exp_gap`], or [`exp_gap_finite`] when the caller knows `m` is finite
/// (`finite` is the same for a whole row or tile, so the branch is taken
/// the same way every time).
#[inline(always)]
fn exp_gap_if<L: Lanes>(finite: bool, m: F32s<L>, x: F32s<L>) -> (F32s<L>, F32s<L>, F32s<L>) {
    if finite {
        exp_gap_finite(m, x)
    } else {
        exp_gap(m, x)
    }
}

/// A sample's coefficients after pass B: `p_c = e_c·inv_sum`, gradient
/// `total·p_c − a_c` with `a_c = target_coef·[c = y] + b_c`, and the value
/// without its class sum (added by the caller).
#[derive(Clone, Copy)]
struct Coefficients<L: Lanes> {
    inv_sum: F32s<L>,
    total: F32s<L>,
    target_coef: F32s<L>,
    value: F32s<L>,
}

impl<L: Lanes> Coefficients<L> {
    /// The same coefficients, splatted onto the lanes of `l` (the row
    /// kernel computes them on scalars).
    #[inline(always)]
    fn splat_to<M: Lanes>(self, l: M) -> Coefficients<M>
    where
        L: Lanes<V = f32>,
    {
        Coefficients {
            inv_sum: l.splat(self.inv_sum.raw()),
            total: l.splat(self.total.raw()),
            target_coef: l.splat(self.target_coef.raw()),
            value: l.splat(self.value.raw()),
        }
    }

    /// The full value: the first part plus `act·Σ b_c (m − x_c)` where a
    /// class sum was taken; 0 for a sample that does not count.
    #[inline(always)]
    fn value(self, setup: &Setup, act: F32s<L>, class_sum: F32s<L>) -> F32s<L> {
        if setup.second_sum {
            act.eq(0.0).select(0.0, self.value + act * class_sum)
        } else {
            self.value
        }
    }
}

/// The per-sample statistics pass A and B produce.
#[derive(Clone, Copy)]
struct Stats<L: Lanes> {
    /// The maximum logit.
    m: F32s<L>,
    /// `Σ_c e^(x_c − m) − 1`.
    sigma: F32s<L>,
    /// 1 for a sample that counts, 0 for an ignored or padding one.
    act: F32s<L>,
    /// The target class's logit and weight (index targets).
    x_y: F32s<L>,
    w_y: F32s<L>,
    /// `Σ_c b_c`, the weighted target mass (probability targets).
    mass: F32s<L>,
}

/// The coefficients of a sample from its statistics.
#[inline(always)]
fn coefficients<L: Lanes>(setup: &Setup, st: Stats<L>) -> Coefficients<L> {
    let act = st.act;
    // Every logit −∞ (or NaN): no softmax exists, the sample is NaN.
    let sigma = st.m.eq(f32::NEG_INFINITY).select(f32::NAN, st.sigma);
    let st = Stats { sigma, ..st };
    let inv_sum = 1.0 / (st.sigma + 1.0);
    let ln_sum = log1p(st.sigma);
    let ignored = act.eq(0.0);
    match setup.kind {
        Kind::Index => {
            let d_y = gap(st.m, st.x_y);
            let target_coef = act * (setup.keep * st.w_y);
            let smoothing = act * setup.smoothing_total;
            let value = mul_or_zero(target_coef, d_y + ln_sum);
            let value = if setup.second_sum {
                value + mul_or_zero(smoothing, ln_sum)
            } else {
                value
            };
            Coefficients {
                inv_sum,
                total: target_coef + smoothing,
                target_coef,
                value: ignored.select(0.0, value),
            }
        }
        Kind::Probabilities => Coefficients {
            inv_sum,
            total: st.mass,
            target_coef: act.splat(0.0),
            value: ignored.select(0.0, mul_or_zero(st.mass, ln_sum)),
        },
        Kind::Focal(gamma) => {
            let d_y = gap(st.m, st.x_y);
            let ce = d_y + ln_sum;
            let p_y = exp_nonpos(-d_y) * inv_sum;
            // 1 − p_y without cancellation: σ/(1 + σ) when y holds the
            // maximum, else p_y ≤ 1/2.
            let q = d_y.eq(0.0).select(st.sigma * inv_sum, 1.0 - p_y);
            // ln q: while p_y ≤ ½, from p_y itself (`ln(1 − p_y)` with the
            // rounding of 1 − p_y recovered), so a large γ does not amplify
            // an ulp of 1 (q rounded to 1 would make q^γ = 1 instead of
            // e^(−γ·p_y)); above ½, y holds the maximum and q is σ/(1 + σ).
            let q_gamma = if gamma == 0.0 {
                act.splat(1.0)
            } else {
                let ln_q = p_y.le(0.5).select(ln_one_minus_prob(p_y), ln(q));
                exp(gamma * ln_q)
            };
            // ce/q → 1 as q → 0.
            let ratio = q.eq(0.0).select(1.0, ce / q);
            let w = act * st.w_y;
            // An ignored sample's x_y is a placeholder (0), which can make
            // q negative and the coefficient NaN: mask it.
            // q^γ = 0 with γ·p_y·ratio = ∞ (γ near f32::MAX): the limit is 0.
            let coef = ignored.select(
                0.0,
                mul_or_zero(w * q_gamma, 1.0 + gamma * mul_or_zero(p_y, ratio)),
            );
            Coefficients {
                inv_sum,
                total: coef,
                target_coef: coef,
                value: ignored.select(0.0, mul_or_zero(w * q_gamma, ce)),
            }
        }
    }
}

/// The (unscaled) gradient of one register of one class:
/// `total·e·inv_sum − a`, `a = [target]·target_coef + b`.
#[inline(always)]
fn gradient<L: Lanes>(
    k: &Coefficients<L>,
    e: F32s<L>,
    is_target: crate::simd::M32s<L>,
    b: F32s<L>,
) -> F32s<L> {
    let a = is_target.select(k.target_coef, 0.0) + b;
    mul_or_zero(k.total, e * k.inv_sum) - a
}

/// A compensated (Kahan) running sum in f32 lanes: the tile kernel sums a
/// sample's classes one after another, and a plain f32 sum of `C` terms
/// errs by up to `C·2⁻²⁴` relative. Four roundings per term, no FMA, so
/// the bits are the same on every backend.
#[derive(Clone, Copy)]
struct Kahan<L: Lanes> {
    sum: F32s<L>,
    carry: F32s<L>,
}

impl<L: Lanes> Kahan<L> {
    #[inline(always)]
    fn new(l: L) -> Self {
        Self {
            sum: l.splat(0.0),
            carry: l.splat(0.0),
        }
    }

    /// Adds `x`. An infinite or NaN sum keeps its value (the carry, NaN
    /// there, is reset to 0 instead of poisoning later terms).
    #[inline(always)]
    fn add(&mut self, x: F32s<L>) {
        self.add_bounded(x);
        self.carry = self.carry.is_number().select(self.carry, 0.0);
    }

    /// Adds `x` without [`Kahan::add`]'s reset, where every term is NaN or
    /// finite and the sum cannot overflow (σ: terms in `[0, 1]`): the
    /// carry then stays finite, or NaN with a sum that is NaN already, so
    /// the sum has the bits `add` gives.
    #[inline(always)]
    fn add_bounded(&mut self, x: F32s<L>) {
        let y = x - self.carry;
        let t = self.sum + y;
        self.carry = (t - self.sum) - y;
        self.sum = t;
    }

    /// The sum (the carry is below half an ulp of it).
    #[inline(always)]
    fn value(self) -> F32s<L> {
        self.sum
    }
}

/// The row kernel's sum over samples: every sample's value added
/// exactly (the f64 sum and its rare rounding errors, see
/// [`crate::simd::accumulate::two_sum`]), one at a time. Exact, so a call
/// split over threads at any row merges to the same bits; a TwoSum per row
/// of at least `ROW_KERNEL_MIN_CLASSES` logits costs nothing visible.
struct SampleSum<'e> {
    sum: f64,
    errors: &'e mut crate::simd::accumulate::Errors,
}

impl<'e> SampleSum<'e> {
    fn new(errors: &'e mut crate::simd::accumulate::Errors) -> Self {
        Self { sum: 0.0, errors }
    }

    #[inline(always)]
    fn push(&mut self, v: f32) {
        self.sum = crate::simd::accumulate::two_sum(self.sum, f64::from(v), self.errors);
    }

    fn finish(self) -> Total {
        Total::from_parts(self.sum, *self.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::{exp_gap, exp_gap_finite};
    use crate::arch::scalar::Scalar;
    use crate::simd::Lanes;
    use std::vec;

    /// `exp_gap_finite` gives `exp_gap`'s bits (gap, `e`, term) for every
    /// finite maximum and every logit at or below it, ties, `−∞` and NaN
    /// included: the driver picks it whenever the maximum is finite.
    #[test]
    fn finite_gap_has_the_bits_of_the_general_one() {
        let maxima = [
            0.0f32,
            -0.0,
            1.0,
            -3.5,
            87.0,
            -1e30,
            1e30,
            f32::MAX,
            -f32::MAX,
        ];
        let mut compared = 0;
        for &m in &maxima {
            let mut xs = vec![m, f32::NEG_INFINITY, f32::NAN, -0.0, 0.0];
            // Gaps from 0 to past exp's range, and every 997th f32 below m.
            for k in 0..200u32 {
                #[allow(clippy::cast_precision_loss)]
                xs.push(m - k as f32 * 0.53);
            }
            xs.extend((0..u32::MAX / 997).map(|i| f32::from_bits(i * 997)));
            for &x in xs.iter().filter(|x| x.is_nan() || **x <= m) {
                let (m_l, x_l) = (Scalar.splat(m), Scalar.splat(x));
                let (d0, e0, t0) = exp_gap(m_l, x_l);
                let (d1, e1, t1) = exp_gap_finite(m_l, x_l);
                for (a, b) in [(d0, d1), (e0, e1), (t0, t1)] {
                    let (a, b) = (a.raw(), b.raw());
                    assert!(
                        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                        "m = {m}, x = {x}: {a} vs {b}"
                    );
                }
                compared += 1;
            }
        }
        assert!(compared > 1_000_000);
    }
}
