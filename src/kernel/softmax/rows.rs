//! The row kernel: `S = 1` and many classes, vectorized along a row's
//! classes. Class `c` goes to virtual lane `c % 64`; the row is walked in
//! 64-class chunks (the last one padded); lanes merge by the canonical
//! pairwise tree (pass A's maximum) or the canonical [`Accumulator`]
//! (pass B's sums), so the bits do not depend on the register width. A
//! 1000-class row (4 KB) stays in L1 across the three passes.

use super::chunk::{lane_index, lane_valid, load_at, store_at};
use super::{
    Mode, Out, Peak, Problem, SampleSum, Setup, Stats, Target, coefficients, exp_gap, f64_to_f32,
    gradient, mul_or_zero,
};
use crate::arch::scalar::Scalar;
use crate::simd::accumulate::{Accumulator, Total};
use crate::simd::{F32s, Lanes, VIRTUAL_LANES};

/// A row's classes in 64-class chunks: full chunks are read in place,
/// the tail (if `C % 64 != 0`) from padded stack copies made once per row
/// (logits padded with NaN for pass A and −∞ for B and C, targets and
/// weights with 0). No closures on the hot path: each pass is a plain
/// loop over `0..chunks()` (closures are not always inlined into the
/// target-feature context, and a call per register costs 5×).
struct Row<'a> {
    x: &'a [f32],
    t: Option<&'a [f32]>,
    w: Option<&'a [f32]>,
    full: usize,
    rem: usize,
    tail: Option<Tail>,
}

/// The padded copies of a row's last, partial chunk.
struct Tail {
    x_nan: [f32; VIRTUAL_LANES],
    x_neg_inf: [f32; VIRTUAL_LANES],
    t: [f32; VIRTUAL_LANES],
    w: [f32; VIRTUAL_LANES],
}

/// `src[start..]` (at most 64 elements) padded to 64 with `pad`.
#[inline(always)]
fn padded(src: &[f32], start: usize, pad: f32) -> [f32; VIRTUAL_LANES] {
    let mut buf = [pad; VIRTUAL_LANES];
    for (d, s) in buf.iter_mut().zip(src.get(start..).unwrap_or(&[])) {
        *d = *s;
    }
    buf
}

impl<'a> Row<'a> {
    #[inline(always)]
    fn new(x: &'a [f32], t: Option<&'a [f32]>, w: Option<&'a [f32]>) -> Self {
        let full = x.len() / VIRTUAL_LANES;
        let rem = x.len() % VIRTUAL_LANES;
        let start = full * VIRTUAL_LANES;
        let tail = if rem > 0 {
            Some(Tail {
                x_nan: padded(x, start, f32::NAN),
                x_neg_inf: padded(x, start, f32::NEG_INFINITY),
                t: padded(t.unwrap_or(&[]), start, 0.0),
                w: padded(w.unwrap_or(&[]), start, 0.0),
            })
        } else {
            None
        };
        Self {
            x,
            t,
            w,
            full,
            rem,
            tail,
        }
    }

    /// The number of chunks.
    #[inline(always)]
    fn chunks(&self) -> usize {
        self.full + usize::from(self.rem > 0)
    }

    /// `(first class, real classes)` of chunk `i`.
    #[inline(always)]
    fn span(&self, i: usize) -> (usize, usize) {
        let n_valid = if i < self.full {
            VIRTUAL_LANES
        } else {
            self.rem
        };
        (i * VIRTUAL_LANES, n_valid)
    }

    /// The 64 elements of chunk `i` of `src` (the row's own slice), or of
    /// the tail copy `tail`.
    #[inline(always)]
    fn pick<'s>(
        &'s self,
        src: &'s [f32],
        i: usize,
        tail: impl Fn(&'s Tail) -> &'s [f32],
    ) -> &'s [f32] {
        if i < self.full {
            let start = i * VIRTUAL_LANES;
            src.get(start..start + VIRTUAL_LANES).unwrap_or(&[])
        } else {
            self.tail.as_ref().map_or(&[], tail)
        }
    }

    /// Chunk `i`'s logits, the tail padded with NaN (pass A).
    #[inline(always)]
    fn x_nan(&self, i: usize) -> &[f32] {
        self.pick(self.x, i, |t| &t.x_nan)
    }

    /// Chunk `i`'s logits, the tail padded with −∞ (passes B and C).
    #[inline(always)]
    fn x_neg_inf(&self, i: usize) -> &[f32] {
        self.pick(self.x, i, |t| &t.x_neg_inf)
    }

    /// Register `reg` of chunk `i`'s weights (1 without weights).
    #[inline(always)]
    fn weight<L: Lanes>(&self, l: L, i: usize, reg: usize) -> F32s<L> {
        match self.w {
            Some(w) => load_at(l, self.pick(w, i, |t| &t.w), reg * L::WIDTH),
            None => l.splat(1.0),
        }
    }

    /// Register `reg` of chunk `i`'s targets (probability targets only).
    #[inline(always)]
    fn target<L: Lanes>(&self, l: L, i: usize, reg: usize) -> Option<F32s<L>> {
        self.t
            .map(|t| load_at(l, self.pick(t, i, |t| &t.t), reg * L::WIDTH))
    }
}

/// Chunk `start..start + n_valid` of a gradient row: in place when full,
/// else a padded copy that [`write_back`] copies out.
#[inline(always)]
fn grad_chunk<'g>(
    g: &'g mut [f32],
    start: usize,
    n_valid: usize,
    tail: &'g mut [f32; VIRTUAL_LANES],
) -> &'g mut [f32] {
    if n_valid == VIRTUAL_LANES {
        return g.get_mut(start..start + VIRTUAL_LANES).unwrap_or(&mut []);
    }
    *tail = padded(g, start, 0.0);
    tail
}

/// Copies a tail chunk's padded copy back into the gradient row.
#[inline(always)]
fn write_back(g: &mut [f32], start: usize, n_valid: usize, tail: &[f32; VIRTUAL_LANES]) {
    if n_valid < VIRTUAL_LANES {
        for (d, s) in g.get_mut(start..).unwrap_or(&mut []).iter_mut().zip(tail) {
            *d = *s;
        }
    }
}

/// Runs every row; returns the canonical sum of the per-row values.
#[inline(always)]
pub(super) fn run<L: Lanes>(l: L, p: &Problem<'_>, setup: &Setup, out: &mut Out<'_>) -> Total {
    let c = p.c;
    let mode = out.mode;
    let scale = out.scale;
    let store_e = mode == Mode::Overwrite;
    let mut sample_errors = None;
    let mut samples = SampleSum::new(&mut sample_errors);
    let mut g_tail = [0.0f32; VIRTUAL_LANES];
    for row_index in 0..p.n {
        let base = row_index * c;
        let Some(x_row) = p.logits.get(base..base + c) else {
            break;
        };
        let t_row = match p.target {
            Target::Probabilities(t) => t.get(base..base + c),
            Target::Index(_) => None,
        };
        let label = match p.target {
            Target::Index(labels) => labels.class(row_index),
            Target::Probabilities(_) => None,
        };
        let active = if t_row.is_some() || label.is_some() {
            1.0f32
        } else {
            0.0
        };
        let act = l.splat(active);
        let row = Row::new(x_row, t_row, p.weight);
        let chunks = row.chunks();

        // Pass A: the maximum and its ties; the weighted target mass.
        let mut peaks = Peaks::new(l);
        let mut mass_errors = None;
        let mut mass = Accumulator::new(l, &mut mass_errors);
        for i in 0..chunks {
            let x = row.x_nan(i);
            for reg in 0..L::REGS {
                peaks.push(l, reg, load_at(l, x, reg * L::WIDTH));
            }
            if t_row.is_some() {
                let (_, n_valid) = row.span(i);
                for reg in 0..L::REGS {
                    let valid = lane_valid(l, reg, n_valid) * act;
                    let b = setup.class_coef(valid, row.weight(l, i, reg), row.target(l, i, reg));
                    mass.add(reg, b);
                }
                mass.end_chunk(l);
            }
        }
        let (m, ties) = peaks.fold(l);
        let m_l = l.splat(m);

        // Pass B: σ, the value's class sum, e stored when overwriting.
        // (Padding: e^−∞ = 0, or, in a row of −∞, a tie whose term is 0.)
        let mut grad_row = if out.writes_grad() {
            out.buf.get_mut(base..base + c)
        } else {
            None
        };
        let (mut sigma_errors, mut class_errors) = (None, None);
        let mut sigma = Accumulator::new(l, &mut sigma_errors);
        let mut class_sum = Accumulator::new(l, &mut class_errors);
        for i in 0..chunks {
            let (start, n_valid) = row.span(i);
            let x = row.x_neg_inf(i);
            let mut e_dst = match grad_row.as_deref_mut() {
                Some(g) if store_e => Some(grad_chunk(g, start, n_valid, &mut g_tail)),
                _ => None,
            };
            for reg in 0..L::REGS {
                let off = reg * L::WIDTH;
                let (d, e, term) = exp_gap(m_l, load_at(l, x, off));
                sigma.add(reg, term);
                if setup.second_sum {
                    let valid = lane_valid(l, reg, n_valid) * act;
                    let b = setup.class_coef(valid, row.weight(l, i, reg), row.target(l, i, reg));
                    class_sum.add(reg, mul_or_zero(b, d));
                }
                if let Some(g) = e_dst.as_deref_mut() {
                    store_at(l, g, off, e, false);
                }
            }
            sigma.end_chunk(l);
            if setup.second_sum {
                class_sum.end_chunk(l);
            }
            if let (Some(g), true) = (grad_row.as_deref_mut(), store_e) {
                write_back(g, start, n_valid, &g_tail);
            }
        }
        let sigma = f64_to_f32(sigma.finish(l)) + (ties - 1.0);
        let (x_y, w_y) = match label {
            Some(y) => (x_row.get(y).copied().unwrap_or(0.0), p.class_weight(y)),
            None => (0.0, 0.0),
        };
        let k = coefficients(
            setup,
            Stats {
                m: Scalar.splat(m),
                sigma: Scalar.splat(sigma),
                act: Scalar.splat(active),
                x_y: Scalar.splat(x_y),
                w_y: Scalar.splat(w_y),
                mass: Scalar.splat(f64_to_f32(mass.finish(l))),
            },
        );
        let class_sum = Scalar.splat(f64_to_f32(class_sum.finish(l)));
        let value = k.value(setup, Scalar.splat(active), class_sum).raw();

        // Pass C: the gradient, from the stored e or a recomputed one.
        if let Some(g_row) = grad_row {
            let kl = k.splat_to(l);
            #[allow(clippy::cast_precision_loss)] // y < 2^24
            let y_f = label.map_or(-1.0, |y| y as f32);
            for i in 0..chunks {
                let (start, n_valid) = row.span(i);
                let x = row.x_neg_inf(i);
                #[allow(clippy::cast_precision_loss)] // start < 2^24
                let class_base = start as f32;
                let g = grad_chunk(&mut *g_row, start, n_valid, &mut g_tail);
                for reg in 0..L::REGS {
                    let off = reg * L::WIDTH;
                    let e = if store_e {
                        load_at(l, g, off)
                    } else {
                        exp_gap(m_l, load_at(l, x, off)).1
                    };
                    let b = setup.class_coef(act, row.weight(l, i, reg), row.target(l, i, reg));
                    let is_y = (class_base + lane_index(l, reg)).eq(y_f);
                    store_at(l, g, off, gradient(&kl, e, is_y, b) * scale, !store_e);
                }
                write_back(g_row, start, n_valid, &g_tail);
            }
        }
        if mode == Mode::PerSample {
            if let Some(o) = out.buf.get_mut(row_index) {
                *o = value;
            }
        } else {
            samples.push(value);
        }
    }
    samples.finish()
}

/// Pass A's state of the 64 virtual lanes: one chunk of registers each
/// for the maximum and its ties.
struct Peaks<L: Lanes> {
    m: L::Chunk,
    ties: L::Chunk,
}

impl<L: Lanes> Peaks<L> {
    #[inline(always)]
    fn new(l: L) -> Self {
        let empty = Peak::empty(l);
        let mut m = l.zero_chunk();
        let mut ties = l.zero_chunk();
        for v in m.as_mut() {
            *v = empty.m.raw();
        }
        for v in ties.as_mut() {
            *v = empty.ties.raw();
        }
        Self { m, ties }
    }

    #[inline(always)]
    fn get(&self, l: L, reg: usize) -> Peak<L> {
        match (self.m.as_ref().get(reg), self.ties.as_ref().get(reg)) {
            (Some(&m), Some(&ties)) => Peak {
                m: F32s::from_raw(l, m),
                ties: F32s::from_raw(l, ties),
            },
            _ => Peak::empty(l),
        }
    }

    #[inline(always)]
    fn set(&mut self, reg: usize, peak: Peak<L>) {
        if let (Some(m), Some(ties)) = (
            self.m.as_mut().get_mut(reg),
            self.ties.as_mut().get_mut(reg),
        ) {
            *m = peak.m.raw();
            *ties = peak.ties.raw();
        }
    }

    #[inline(always)]
    fn push(&mut self, l: L, reg: usize, x: F32s<L>) {
        let peak = self.get(l, reg).push(x);
        self.set(reg, peak);
    }

    /// Merges the 64 lanes by the canonical pairwise tree (lane `i` with
    /// `i + 32`, then `+ 16`, …, `+ 1`): registers first, then the lanes
    /// of the last register. Returns the row's maximum and its ties.
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
        let ties = first.ties.to_array();
        let mut lanes = [Peak::empty(Scalar); VIRTUAL_LANES];
        for ((lane, &m), &ties) in lanes.iter_mut().zip(&m).zip(&ties).take(L::WIDTH) {
            *lane = Peak {
                m: Scalar.splat(m),
                ties: Scalar.splat(ties),
            };
        }
        let mut width = L::WIDTH.min(VIRTUAL_LANES);
        while width > 1 {
            width /= 2;
            let (low, high) = lanes.split_at_mut(width);
            for (a, b) in low.iter_mut().zip(high.iter()) {
                *a = a.merge(*b);
            }
        }
        (lanes[0].m.raw(), lanes[0].ties.raw())
    }
}
