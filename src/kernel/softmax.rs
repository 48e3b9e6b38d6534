//! The softmax drivers over a class axis, `[N, C, S]` logits, written once
//! against [`Lanes`]: two passes over each sample's `C` logits.
//!
//! **Pass 1** finds, per sample, the running maximum `m` and
//! `σ = Σ_c e^(x_c − m) − 1` (the sum *without* the maximum's own 1, so
//! that `ln Σ = log1p(σ)` keeps its digits when one class dominates), in
//! one read: a new maximum rescales, `σ ← (σ + 1)·e^(m − x)` as
//! `σ·e + e`, otherwise `σ ← σ + e^(x − m)`; both with the one
//! `e = e^−|x − m|`. From `m`, `σ` (and the target's logit, or the
//! weighted target mass) come each sample's coefficients ([`Coefficients`]).
//!
//! **Pass 2** reads the logits again, `p_c = e^−(m − x_c)/(1 + σ)`, and
//! writes the gradient `A·p_c − a_c` (every loss here has that form) while
//! summing what the value still needs, `Σ_c b_c·(m − x_c)`.
//!
//! Two kernels, chosen by the shape alone (so every ISA gives the same
//! bits):
//! - **rows** (`S = 1`, `C ≥` [`ROW_KERNEL_MIN_CLASSES`]): a sample's
//!   classes are contiguous; class `c` goes to virtual lane `c % 64`, a
//!   padded tail chunk ends the row, the 64 lanes' `(m, σ)` merge by the
//!   canonical pairwise tree, and class sums use the canonical
//!   [`Accumulator`]. The row stays in L1 between the two passes.
//! - **tiles** (everything else): 64 consecutive samples `j = n·S + s` in
//!   the lanes, each lane running its sample's classes in order
//!   `c = 0, 1, …`, so a lane's bits do not depend on the register width.
//!   A tile inside one image reads each class as contiguous registers;
//!   others (tiles across images, the last tile, `S = 1` classifiers with
//!   few classes) gather into a stack buffer. Both passes run on one
//!   register of the tile while its `C` cache lines are in L1.
//!
//! Per-sample values are summed in the canonical order over samples
//! (sample `j` in virtual lane `j % 64`), so the reduced value is the
//! same on every ISA too.

use super::pointwise::LANE_INDEX;
use crate::arch::scalar::Scalar;
use crate::dispatch::{Isa, LanesFn};
use crate::simd::accumulate::Accumulator;
use crate::simd::math::{exp, exp_nonpos, ln, log1p};
use crate::simd::{F32s, Lanes, M32s, VIRTUAL_LANES};

/// Classifier rows (`S = 1`) with at least this many classes run the row
/// kernel (vectorized along the classes); fewer run the tile kernel.
pub const ROW_KERNEL_MIN_CLASSES: usize = 64;

/// The target of a [`Problem`].
#[derive(Clone, Copy)]
pub(crate) enum Target<'a> {
    /// The class of sample `j`, or `None` if it is ignored. Every `Some`
    /// is `< C` (the loss layer validated the labels).
    Index(&'a dyn Fn(usize) -> Option<usize>),
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
    crate::dispatch::dispatch(isa, Job { problem, output })
}

struct Job<'a> {
    problem: Problem<'a>,
    output: Output<'a>,
}

impl LanesFn for Job<'_> {
    type Output = f64;
    #[inline(always)]
    fn call<L: Lanes>(self, l: L) -> f64 {
        let setup = Setup::new(&self.problem);
        let mut out = Out::new(self.output);
        if self.problem.s == 1 && self.problem.c >= ROW_KERNEL_MIN_CLASSES {
            rows(l, &self.problem, &setup, &mut out)
        } else {
            tiles(l, &self.problem, &setup, &mut out)
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
    /// `Σ_c w_c` (C without weights), summed in f64 in class order.
    weight_total: f32,
    /// Whether pass 2 sums `b_c·(m − x_c)` for the value.
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
        Self {
            kind,
            eps_per_class: f64_to_f32(f64::from(eps) / usize_to_f64(p.c)),
            keep: 1.0 - eps,
            weight_total: f64_to_f32(weight_total),
            second_sum: kind == Kind::Probabilities || (kind == Kind::Index && eps > 0.0),
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

/// The pass-1 state of a lane: the running maximum and `σ` (see the
/// module docs). Empty: `m = −f32::MAX`, `σ = −1` (a `−∞` logit then
/// adds `e^−∞ = 0` and changes nothing).
#[derive(Clone, Copy)]
struct MaxSum<L: Lanes> {
    m: F32s<L>,
    sigma: F32s<L>,
}

impl<L: Lanes> MaxSum<L> {
    #[inline(always)]
    fn empty(l: L) -> Self {
        Self {
            m: l.splat(-f32::MAX),
            sigma: l.splat(-1.0),
        }
    }

    /// Takes one logit per lane.
    #[inline(always)]
    fn push(self, x: F32s<L>) -> Self {
        let e = x.eq(self.m).select(1.0, exp_nonpos(-(x - self.m).abs()));
        let bigger = x.gt(self.m);
        Self {
            m: bigger.select(x, self.m),
            sigma: bigger.select(self.sigma * e + e, self.sigma + e),
        }
    }

    /// Merges two states: `Σ = Σ_hi + Σ_lo·e^(m_lo − m_hi)`.
    #[inline(always)]
    fn merge(self, other: Self) -> Self {
        let other_bigger = other.m.gt(self.m);
        let (a, b) = (self.m, other.m);
        let f = a.eq(b).select(1.0, exp_nonpos(-(a - b).abs()));
        let hi = other_bigger.select(other.sigma, self.sigma);
        let lo = other_bigger.select(self.sigma, other.sigma);
        Self {
            m: other_bigger.select(b, a),
            sigma: hi + (lo + 1.0) * f,
        }
    }
}

/// A sample's coefficients after pass 1: `p_c = e^−(m − x_c)·inv_sum`,
/// gradient `A·p_c − a_c` with `a_c = target_coef·[c = y] + b_c`, value
/// `value + (b-part of pass 2)`.
#[derive(Clone, Copy)]
struct Coefficients<L: Lanes> {
    inv_sum: F32s<L>,
    ln_sum: F32s<L>,
    total: F32s<L>,
    target_coef: F32s<L>,
    value: F32s<L>,
}

/// The coefficients of a sample from its pass-1 state.
///
/// `active` is 1 for a sample that counts, 0 for an ignored or padding
/// one; `x_y`, `w_y` are the target class's logit and weight (index
/// targets), `mass` the weighted target mass `Σ_c w_c t'_c` (probability
/// targets).
#[inline(always)]
fn coefficients<L: Lanes>(
    setup: &Setup,
    st: MaxSum<L>,
    active: F32s<L>,
    x_y: F32s<L>,
    w_y: F32s<L>,
    mass: F32s<L>,
) -> Coefficients<L> {
    let inv_sum = 1.0 / (st.sigma + 1.0);
    let ln_sum = log1p(st.sigma);
    let ignored = active.eq(0.0);
    match setup.kind {
        Kind::Index => {
            let d_y = gap(st.m, x_y);
            let target_coef = active * (setup.keep * w_y);
            let total = target_coef + active * (setup.eps_per_class * setup.weight_total);
            let value = mul_or_zero(target_coef, d_y + ln_sum);
            let value = if setup.second_sum {
                value + mul_or_zero(active * (setup.eps_per_class * setup.weight_total), ln_sum)
            } else {
                value
            };
            Coefficients {
                inv_sum,
                ln_sum,
                total,
                target_coef,
                value: ignored.select(0.0, value),
            }
        }
        Kind::Probabilities => Coefficients {
            inv_sum,
            ln_sum,
            total: mass,
            target_coef: active.splat(0.0),
            value: ignored.select(0.0, mul_or_zero(mass, ln_sum)),
        },
        Kind::Focal(gamma) => {
            let d_y = gap(st.m, x_y);
            let ce = d_y + ln_sum;
            let p_y = exp_nonpos(-d_y) * inv_sum;
            // 1 − p_y without cancellation: σ/(1 + σ) when y holds the
            // maximum, else p_y ≤ 1/2.
            let q = d_y.eq(0.0).select(st.sigma * inv_sum, 1.0 - p_y);
            let q_gamma = if gamma == 0.0 {
                active.splat(1.0)
            } else {
                exp(gamma * ln(q))
            };
            // ce/q → 1 as q → 0.
            let ratio = q.eq(0.0).select(1.0, ce / q);
            let w = active * w_y;
            let coef = w * q_gamma * (1.0 + gamma * mul_or_zero(p_y, ratio));
            let value = mul_or_zero(w * q_gamma, ce);
            Coefficients {
                inv_sum,
                ln_sum,
                total: coef,
                target_coef: coef,
                value: ignored.select(0.0, value),
            }
        }
    }
}

/// The pass-2 work on one register of one class: the gradient
/// `A·p − a` (unscaled) and the value's term `b·(m − x)`.
///
/// `is_target` marks lanes whose target class this is; `b` is the
/// class's smoothing or target coefficient (0 where not summed).
#[inline(always)]
fn pass2_lane<L: Lanes>(
    st: MaxSum<L>,
    k: &Coefficients<L>,
    x: F32s<L>,
    is_target: M32s<L>,
    b: F32s<L>,
) -> (F32s<L>, F32s<L>) {
    let d = gap(st.m, x);
    let p = exp_nonpos(-d) * k.inv_sum;
    let a = is_target.select(k.target_coef, 0.0) + b;
    (mul_or_zero(k.total, p) - a, mul_or_zero(b, d))
}

/// The row kernel (`S = 1`, many classes). See the module docs.
#[inline(always)]
fn rows<L: Lanes>(l: L, p: &Problem<'_>, setup: &Setup, out: &mut Out<'_>) -> f64 {
    let c = p.c;
    let mut samples = SampleSum::new();
    let full = c / VIRTUAL_LANES;
    let rem = c % VIRTUAL_LANES;
    let scale = out.scale;
    let mode = out.mode;
    for row in 0..p.n {
        let base = row * c;
        let Some(x_row) = p.logits.get(base..base + c) else {
            break;
        };
        let t_row = match p.target {
            Target::Probabilities(t) => t.get(base..base + c),
            Target::Index(_) => None,
        };
        let label = match p.target {
            Target::Index(classes) => classes(row),
            Target::Probabilities(_) => None,
        };
        let active_s = match (p.target, label) {
            (Target::Probabilities(_), _) | (_, Some(_)) => 1.0f32,
            _ => 0.0,
        };
        // Pass 1: (m, σ) per virtual lane, weighted target mass.
        let mut state = LaneStates::new(l);
        let mut mass = Accumulator::new(l);
        for chunk in 0..=full {
            let start = chunk * VIRTUAL_LANES;
            let n_valid = if chunk < full { VIRTUAL_LANES } else { rem };
            if n_valid == 0 {
                break;
            }
            let xs = ChunkIn::new(x_row, start, n_valid, f32::NEG_INFINITY);
            let ts = t_row.map(|t| ChunkIn::new(t, start, n_valid, 0.0));
            let ws = p.weight.map(|w| ChunkIn::new(w, start, n_valid, 0.0));
            for reg in 0..L::REGS {
                let x = xs.reg(l, reg);
                state.set(reg, state.get(l, reg).push(x));
                if let Some(ts) = &ts {
                    let valid = lane_valid(l, reg, n_valid);
                    let t = ts.reg(l, reg);
                    let w = ws.as_ref().map_or(l.splat(1.0), |w| w.reg(l, reg));
                    let tp = t * setup.keep + setup.eps_per_class;
                    mass.add(reg, valid * (w * tp));
                }
            }
            mass.end_chunk(l);
        }
        let st = state.fold(l);
        let st = MaxSum {
            m: Scalar.splat(st.0),
            sigma: Scalar.splat(st.1),
        };
        let (x_y, w_y) = match label {
            Some(y) => (
                x_row.get(y).copied().unwrap_or(0.0),
                p.weight.map_or(1.0, |w| w.get(y).copied().unwrap_or(0.0)),
            ),
            None => (0.0, 0.0),
        };
        let k = coefficients(
            setup,
            st,
            Scalar.splat(active_s),
            Scalar.splat(x_y),
            Scalar.splat(w_y),
            Scalar.splat(f64_to_f32(mass.finish(l))),
        );
        let kl = Coefficients {
            inv_sum: l.splat(k.inv_sum.raw()),
            ln_sum: l.splat(k.ln_sum.raw()),
            total: l.splat(k.total.raw()),
            target_coef: l.splat(k.target_coef.raw()),
            value: l.splat(k.value.raw()),
        };
        let stl = MaxSum {
            m: l.splat(st.m.raw()),
            sigma: l.splat(st.sigma.raw()),
        };
        #[allow(clippy::cast_precision_loss)] // y < 2^24
        let y_f = label.map_or(-1.0, |y| y as f32);
        // Pass 2: gradient, and the value's second sum.
        let mut second = Accumulator::new(l);
        let grad_row = if out.writes_grad() {
            out.buf.get_mut(base..base + c)
        } else {
            None
        };
        let mut grad_row = grad_row;
        let needs_pass2 = grad_row.is_some() || setup.second_sum;
        if needs_pass2 {
            for chunk in 0..=full {
                let start = chunk * VIRTUAL_LANES;
                let n_valid = if chunk < full { VIRTUAL_LANES } else { rem };
                if n_valid == 0 {
                    break;
                }
                let xs = ChunkIn::new(x_row, start, n_valid, f32::NEG_INFINITY);
                let ts = t_row.map(|t| ChunkIn::new(t, start, n_valid, 0.0));
                let ws = p.weight.map(|w| ChunkIn::new(w, start, n_valid, 0.0));
                let mut g_chunk = grad_row
                    .as_deref_mut()
                    .map(|g| ChunkOut::new(g, start, n_valid, mode == Mode::Accumulate));
                #[allow(clippy::cast_precision_loss)] // start < 2^24
                let class_base = start as f32;
                for reg in 0..L::REGS {
                    let x = xs.reg(l, reg);
                    let valid = lane_valid(l, reg, n_valid);
                    let w = ws.as_ref().map_or(l.splat(1.0), |w| w.reg(l, reg));
                    let b = match &ts {
                        Some(ts) => {
                            valid * (w * (ts.reg(l, reg) * setup.keep + setup.eps_per_class))
                        }
                        None if setup.second_sum => valid * (active_s * (setup.eps_per_class * w)),
                        None => l.splat(0.0),
                    };
                    let class = class_base + lane_index(l, reg);
                    let (g, v) = pass2_lane(stl, &kl, x, class.eq(y_f), b);
                    if setup.second_sum {
                        second.add(reg, v);
                    }
                    if let Some(gc) = g_chunk.as_mut() {
                        gc.put(l, reg, g * scale);
                    }
                }
                second.end_chunk(l);
                if let Some(gc) = g_chunk {
                    gc.finish();
                }
            }
        }
        let value = if setup.second_sum {
            let v2 = f64_to_f32(second.finish(l));
            let v = k.value.raw() + active_s * v2;
            if active_s == 0.0 { 0.0 } else { v }
        } else {
            k.value.raw()
        };
        if mode == Mode::PerSample {
            if let Some(o) = out.buf.get_mut(row) {
                *o = value;
            }
        } else {
            samples.push(value);
        }
    }
    samples.finish()
}

/// The `(m, σ)` of 64 virtual lanes: one chunk of registers each.
struct LaneStates<L: Lanes> {
    m: L::Chunk,
    sigma: L::Chunk,
}

impl<L: Lanes> LaneStates<L> {
    #[inline(always)]
    fn new(l: L) -> Self {
        let empty = MaxSum::empty(l);
        let mut m = l.zero_chunk();
        let mut sigma = l.zero_chunk();
        for v in m.as_mut() {
            *v = empty.m.raw();
        }
        for v in sigma.as_mut() {
            *v = empty.sigma.raw();
        }
        Self { m, sigma }
    }

    #[inline(always)]
    fn get(&self, l: L, reg: usize) -> MaxSum<L> {
        match (self.m.as_ref().get(reg), self.sigma.as_ref().get(reg)) {
            (Some(&m), Some(&sigma)) => MaxSum {
                m: F32s::from_raw(l, m),
                sigma: F32s::from_raw(l, sigma),
            },
            _ => MaxSum::empty(l),
        }
    }

    #[inline(always)]
    fn set(&mut self, reg: usize, st: MaxSum<L>) {
        if let (Some(m), Some(sigma)) = (
            self.m.as_mut().get_mut(reg),
            self.sigma.as_mut().get_mut(reg),
        ) {
            *m = st.m.raw();
            *sigma = st.sigma.raw();
        }
    }

    /// Merges the 64 lanes by the canonical pairwise tree (lane `i` with
    /// `i + 32`, then `+ 16`, …, `+ 1`): registers first, then the lanes
    /// of the last register. Returns the row's `(m, σ)`.
    #[inline(always)]
    fn fold(mut self, l: L) -> (f32, f32) {
        let mut half = L::REGS / 2;
        while half > 0 {
            for r in 0..half {
                let merged = self.get(l, r).merge(self.get(l, r + half));
                self.set(r, merged);
            }
            half /= 2;
        }
        let first = self.get(l, 0);
        let m = first.m.to_array();
        let s = first.sigma.to_array();
        let mut lanes = [MaxSum::empty(Scalar); VIRTUAL_LANES];
        for (i, lane) in lanes.iter_mut().enumerate().take(L::WIDTH) {
            *lane = MaxSum {
                m: Scalar.splat(m[i]),
                sigma: Scalar.splat(s[i]),
            };
        }
        let mut width = L::WIDTH.min(VIRTUAL_LANES);
        while width > 1 {
            width /= 2;
            for i in 0..width {
                lanes[i] = lanes[i].merge(lanes[i + width]);
            }
        }
        (lanes[0].m.raw(), lanes[0].sigma.raw())
    }
}

/// `1.0` in the lanes of register `reg` below `n_valid`, else `0.0`.
#[inline(always)]
fn lane_valid<L: Lanes>(l: L, reg: usize, n_valid: usize) -> F32s<L> {
    #[allow(clippy::cast_precision_loss)] // n_valid <= 64
    let limit = n_valid as f32;
    lane_index(l, reg).lt(limit).select(1.0, 0.0)
}

/// The index of each lane of register `reg` within its chunk, as f32.
#[inline(always)]
fn lane_index<L: Lanes>(l: L, reg: usize) -> F32s<L> {
    let off = (reg * L::WIDTH).min(VIRTUAL_LANES - L::WIDTH);
    // SAFETY: off + WIDTH <= 64 (clamped just above) and LANE_INDEX holds
    // 64 f32.
    unsafe { l.load(LANE_INDEX.as_ptr().add(off)) }
}

/// 64 consecutive elements `data[start..start + n_valid]` of a row, read
/// in place when all 64 are there, else from a copy padded with `pad`.
struct ChunkIn<'a> {
    direct: Option<&'a [f32]>,
    padded: [f32; VIRTUAL_LANES],
}

impl<'a> ChunkIn<'a> {
    #[inline(always)]
    fn new(data: &'a [f32], start: usize, n_valid: usize, pad: f32) -> Self {
        if n_valid == VIRTUAL_LANES
            && let Some(direct) = data.get(start..start + VIRTUAL_LANES)
        {
            return Self {
                direct: Some(direct),
                padded: [0.0; VIRTUAL_LANES],
            };
        }
        let mut padded = [pad; VIRTUAL_LANES];
        let src = data.get(start..).unwrap_or(&[]);
        for (d, s) in padded.iter_mut().zip(src).take(n_valid) {
            *d = *s;
        }
        Self {
            direct: None,
            padded,
        }
    }

    /// Register `reg` of the chunk.
    #[inline(always)]
    fn reg<L: Lanes>(&self, l: L, reg: usize) -> F32s<L> {
        let src: &[f32] = self.direct.unwrap_or(&self.padded);
        load_at(l, src, reg * L::WIDTH)
    }
}

/// `WIDTH` lanes of `src` from `off` (zeros if that would overrun: never
/// at the call sites, which stay inside their 64-element chunks).
#[inline(always)]
fn load_at<L: Lanes>(l: L, src: &[f32], off: usize) -> F32s<L> {
    match src.get(off..off + L::WIDTH) {
        // SAFETY: the slice has WIDTH readable f32.
        Some(s) => unsafe { l.load(s.as_ptr()) },
        None => l.splat(0.0),
    }
}

/// `WIDTH` lanes of `v` into `dst` from `off` (nothing if that would
/// overrun), overwriting or adding to what is there.
#[inline(always)]
fn store_at<L: Lanes>(l: L, dst: &mut [f32], off: usize, v: F32s<L>, accumulate: bool) {
    if let Some(d) = dst.get_mut(off..off + L::WIDTH) {
        let ptr = d.as_mut_ptr();
        // SAFETY: the slice has WIDTH readable and writable f32.
        unsafe {
            let v = if accumulate { l.load(ptr) + v } else { v };
            l.store(ptr, v);
        }
    }
}

/// The gradient of one 64-element chunk of a row: written in place when
/// all 64 are there, else through a padded copy written back on
/// [`finish`](Self::finish).
struct ChunkOut<'a> {
    dst: &'a mut [f32],
    padded: Option<[f32; VIRTUAL_LANES]>,
    accumulate: bool,
}

impl<'a> ChunkOut<'a> {
    #[inline(always)]
    fn new(grad: &'a mut [f32], start: usize, n_valid: usize, accumulate: bool) -> Self {
        let end = (start + n_valid).min(grad.len());
        let dst = grad.get_mut(start.min(end)..end).unwrap_or(&mut []);
        if dst.len() == VIRTUAL_LANES {
            return Self {
                dst,
                padded: None,
                accumulate,
            };
        }
        let mut padded = [0.0f32; VIRTUAL_LANES];
        for (p, g) in padded.iter_mut().zip(dst.iter()) {
            *p = *g;
        }
        Self {
            dst,
            padded: Some(padded),
            accumulate,
        }
    }

    #[inline(always)]
    fn put<L: Lanes>(&mut self, l: L, reg: usize, g: F32s<L>) {
        let off = reg * L::WIDTH;
        match self.padded.as_mut() {
            Some(p) => store_at(l, p, off, g, self.accumulate),
            None => store_at(l, self.dst, off, g, self.accumulate),
        }
    }

    #[inline(always)]
    fn finish(self) {
        if let Some(p) = self.padded {
            for (g, v) in self.dst.iter_mut().zip(p.iter()) {
                *g = *v;
            }
        }
    }
}

/// The canonical sum over samples, one scalar value at a time: sample `j`
/// into virtual lane `j % 64`, blocks of 256 folded into f64, as
/// [`Accumulator`] does for registers.
struct SampleSum {
    acc: Accumulator<Scalar>,
    lane: usize,
}

impl SampleSum {
    fn new() -> Self {
        Self {
            acc: Accumulator::new(Scalar),
            lane: 0,
        }
    }

    #[inline(always)]
    fn push(&mut self, v: f32) {
        self.acc.add(self.lane, Scalar.splat(v));
        self.lane += 1;
        if self.lane == VIRTUAL_LANES {
            self.lane = 0;
            self.acc.end_chunk(Scalar);
        }
    }

    fn finish(mut self) -> f64 {
        // A partial last chunk: its unused lanes hold +0.0, like the
        // padding of a tail chunk.
        if self.lane > 0 {
            self.acc.end_chunk(Scalar);
        }
        self.acc.finish(Scalar)
    }
}

/// The tile kernel: 64 consecutive samples in the lanes. See the module
/// docs.
#[inline(always)]
fn tiles<L: Lanes>(l: L, p: &Problem<'_>, setup: &Setup, out: &mut Out<'_>) -> f64 {
    let (c, s) = (p.c, p.s);
    let samples = p.n * s;
    let mut acc = Accumulator::new(l);
    let mode = out.mode;
    let scale = out.scale;
    let mut j0 = 0;
    while j0 < samples {
        let count = (samples - j0).min(VIRTUAL_LANES);
        let (n0, s0) = (j0 / s, j0 % s);
        // Offsets of each lane's class 0 (class c is + c·S).
        let mut offset = [0usize; VIRTUAL_LANES];
        let (mut n_k, mut s_k) = (n0, s0);
        for o in offset.iter_mut().take(count) {
            *o = n_k * c * s + s_k;
            s_k += 1;
            if s_k == s {
                s_k = 0;
                n_k += 1;
            }
        }
        let direct = count == VIRTUAL_LANES && s0 + VIRTUAL_LANES <= s;
        // Per-lane target class (−1: none), its weight, and whether the
        // sample counts.
        let mut y_f = [-1.0f32; VIRTUAL_LANES];
        let mut w_y = [0.0f32; VIRTUAL_LANES];
        let mut active = [0.0f32; VIRTUAL_LANES];
        for k in 0..count {
            match p.target {
                Target::Index(classes) => {
                    if let Some(y) = classes(j0 + k) {
                        #[allow(clippy::cast_precision_loss)] // y < 2^24
                        {
                            y_f[k] = y as f32;
                        }
                        w_y[k] = p.weight.map_or(1.0, |w| w.get(y).copied().unwrap_or(0.0));
                        active[k] = 1.0;
                    }
                }
                Target::Probabilities(_) => active[k] = 1.0,
            }
        }
        let tile = Tile {
            offset: &offset,
            count,
            direct,
            s,
        };
        let targets = match p.target {
            Target::Probabilities(t) => Some(t),
            Target::Index(_) => None,
        };
        let mut values = [0.0f32; VIRTUAL_LANES];
        for reg in 0..L::REGS {
            let lane0 = reg * L::WIDTH;
            if lane0 >= count {
                break;
            }
            let y = load_at(l, &y_f, lane0);
            let act = load_at(l, &active, lane0);
            // Pass 1.
            let mut st = MaxSum::empty(l);
            let mut x_y = l.splat(0.0);
            let mut mass = l.splat(0.0);
            for class in 0..c {
                let x = tile.read(l, p.logits, class, reg);
                st = st.push(x);
                #[allow(clippy::cast_precision_loss)]
                let is_y = y.eq(class as f32);
                x_y = is_y.select(x, x_y);
                if let Some(t) = targets {
                    let w = p
                        .weight
                        .map_or(1.0, |w| w.get(class).copied().unwrap_or(0.0));
                    let tp = tile.read(l, t, class, reg) * setup.keep + setup.eps_per_class;
                    mass += act * (w * tp);
                }
            }
            let k = coefficients(setup, st, act, x_y, load_at(l, &w_y, lane0), mass);
            // Pass 2.
            let mut second = l.splat(0.0);
            if out.writes_grad() || setup.second_sum {
                for class in 0..c {
                    let x = tile.read(l, p.logits, class, reg);
                    let w = p
                        .weight
                        .map_or(1.0, |w| w.get(class).copied().unwrap_or(0.0));
                    let b = match targets {
                        Some(t) => {
                            act * (w
                                * (tile.read(l, t, class, reg) * setup.keep + setup.eps_per_class))
                        }
                        None if setup.second_sum => act * (setup.eps_per_class * w),
                        None => l.splat(0.0),
                    };
                    #[allow(clippy::cast_precision_loss)]
                    let is_y = y.eq(class as f32);
                    let (g, v) = pass2_lane(st, &k, x, is_y, b);
                    if setup.second_sum {
                        second += v;
                    }
                    if out.writes_grad() {
                        tile.write(l, out.buf, class, reg, g * scale, mode == Mode::Accumulate);
                    }
                }
            }
            let value = if setup.second_sum {
                act.eq(0.0).select(0.0, k.value + act * second)
            } else {
                k.value
            };
            if mode == Mode::PerSample {
                store_at(l, &mut values, lane0, value, false);
            } else {
                acc.add(reg, value);
            }
        }
        if mode == Mode::PerSample {
            let dst = out.buf.get_mut(j0..j0 + count).unwrap_or(&mut []);
            for (d, v) in dst.iter_mut().zip(values.iter()) {
                *d = *v;
            }
        } else {
            acc.end_chunk(l);
        }
        j0 += count;
    }
    acc.finish(l)
}

/// The geometry of one tile: lane `k`'s class `c` is element
/// `offset[k] + c·S` of an `[N, C, S]` array.
struct Tile<'a> {
    offset: &'a [usize; VIRTUAL_LANES],
    count: usize,
    /// All 64 lanes are consecutive pixels of one image.
    direct: bool,
    s: usize,
}

impl Tile<'_> {
    /// Register `reg` of class `class` (0 in lanes past `count`).
    #[inline(always)]
    fn read<L: Lanes>(&self, l: L, data: &[f32], class: usize, reg: usize) -> F32s<L> {
        let lane0 = reg * L::WIDTH;
        if self.direct {
            return load_at(l, data, self.offset[0] + class * self.s + lane0);
        }
        let mut buf = [0.0f32; VIRTUAL_LANES];
        for (k, b) in buf.iter_mut().enumerate().take(L::WIDTH) {
            let lane = lane0 + k;
            if lane < self.count {
                *b = data
                    .get(self.offset[lane] + class * self.s)
                    .copied()
                    .unwrap_or(0.0);
            }
        }
        load_at(l, &buf, 0)
    }

    /// Writes register `reg` of class `class` (lanes below `count` only).
    #[inline(always)]
    fn write<L: Lanes>(
        &self,
        l: L,
        data: &mut [f32],
        class: usize,
        reg: usize,
        v: F32s<L>,
        accumulate: bool,
    ) {
        let lane0 = reg * L::WIDTH;
        if self.direct {
            store_at(
                l,
                data,
                self.offset[0] + class * self.s + lane0,
                v,
                accumulate,
            );
            return;
        }
        let vals = v.to_array();
        for (k, &val) in vals.iter().enumerate().take(L::WIDTH) {
            let lane = lane0 + k;
            if lane < self.count
                && let Some(d) = data.get_mut(self.offset[lane] + class * self.s)
            {
                *d = if accumulate { *d + val } else { val };
            }
        }
    }
}
