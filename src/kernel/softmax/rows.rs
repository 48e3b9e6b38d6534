//! The row kernel: `S = 1` and many classes, vectorized along a row's
//! classes. Class `c` goes to virtual lane `c % 64`; the row is walked in
//! 64-class chunks (the last one padded); lanes merge by the canonical
//! pairwise tree (pass A's maximum) or the canonical [`Accumulator`]
//! (pass B's sums), so the bits do not depend on the register width. A
//! 1000-class row (4 KB) stays in L1 across the three passes.

use super::chunk::{lane_index, lane_valid, load_at, store_at};
use super::{
    Mode, Out, Peak, Problem, SampleSum, Setup, Stats, Target, coefficients, exp_gap, exp_gap_if,
    f64_to_f32, gradient, mul_or_zero,
};
use crate::arch::SMALL_CODE;
use crate::arch::scalar::Scalar;
use crate::simd::accumulate::{Accumulator, Total};
use crate::simd::{F32s, Lanes, VIRTUAL_LANES};

/// A row's classes in 64-class chunks: full chunks are read in place, the
/// last, partial one (if `C % 64 != 0`) by masked loads of its partial
/// register (logits padded with NaN for pass A and −∞ for B and C, targets
/// and weights with 0), and written by masked stores: no copies, nothing
/// read or written past the row. No closures on the hot path: each pass is
/// a plain loop ([`for_each_chunk`]; closures are not always inlined into
/// the target-feature context, and a call per register costs 5×).
struct Row<'a> {
    x: &'a [f32],
    t: Option<&'a [f32]>,
    w: Option<&'a [f32]>,
    full: usize,
    rem: usize,
}

/// Runs `$body` for every chunk of `$row` with `$i` the chunk and `$tail`
/// a `const bool`: `false` for the full chunks (plain loads and stores, no
/// per-register test: a test there made a 32k-class row 25% slower),
/// `true` for the partial last one (masked). Where flash counts more
/// than speed (`SMALL_CODE`), every chunk takes the masked path, which is
/// right for any chunk: one copy of each pass.
macro_rules! for_each_chunk {
    ($row:expr, |$i:ident, $tail:ident| $body:block) => {{
        if SMALL_CODE {
            for $i in 0..$row.chunks() {
                const $tail: bool = true;
                $body
            }
        } else {
            for $i in 0..$row.full {
                const $tail: bool = false;
                $body
            }
            if $row.rem > 0 {
                let $i = $row.full;
                const $tail: bool = true;
                $body
            }
        }
    }};
}

/// Register `reg` of chunk `i` of a row-long slice: in place in a full
/// chunk (`!TAIL`), else by a masked load (`+0.0` past the end).
#[inline(always)]
fn load_reg<L: Lanes, const TAIL: bool>(l: L, src: &[f32], i: usize, reg: usize) -> F32s<L> {
    let off = i * VIRTUAL_LANES + reg * L::WIDTH;
    if !TAIL {
        load_at(l, src, off)
    } else {
        F32s::from_raw(l, l.load_partial(src.get(off..).unwrap_or(&[])))
    }
}

/// Writes (or adds) register `reg` of chunk `i` of a row-long slice: in
/// place in a full chunk (`!TAIL`), else the lanes before the end by a
/// masked store.
#[inline(always)]
fn store_reg<L: Lanes, const TAIL: bool>(
    l: L,
    dst: &mut [f32],
    (i, reg): (usize, usize),
    v: F32s<L>,
    accumulate: bool,
) {
    let off = i * VIRTUAL_LANES + reg * L::WIDTH;
    if !TAIL {
        store_at(l, dst, off, v, accumulate);
    } else if let Some(d) = dst.get_mut(off..) {
        let v = if accumulate {
            F32s::from_raw(l, l.load_partial(d)) + v
        } else {
            v
        };
        l.store_partial(d, v.raw());
    }
}

impl<'a> Row<'a> {
    #[inline(always)]
    fn new(x: &'a [f32], t: Option<&'a [f32]>, w: Option<&'a [f32]>) -> Self {
        Self {
            x,
            t,
            w,
            full: x.len() / VIRTUAL_LANES,
            rem: x.len() % VIRTUAL_LANES,
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

    /// Register `reg` of chunk `i`'s logits, `pad` past the row's end.
    #[inline(always)]
    fn x<L: Lanes, const TAIL: bool>(&self, l: L, i: usize, reg: usize, pad: f32) -> F32s<L> {
        let x = load_reg::<L, TAIL>(l, self.x, i, reg);
        if TAIL {
            #[allow(clippy::cast_precision_loss)] // n_valid <= 64
            let n_valid = self.span(i).1 as f32;
            lane_index(l, reg).lt(n_valid).select(x, pad)
        } else {
            x
        }
    }

    /// Pass C's `e^−(m − x)` of register `reg` of chunk `i`: pass B's,
    /// stored in the gradient row `g` (`stored`), or recomputed from the
    /// logit with the same bits (`finite`: whether the maximum `m` is).
    #[inline(always)]
    fn e<L: Lanes, const TAIL: bool>(
        &self,
        l: L,
        g: &[f32],
        (i, reg): (usize, usize),
        stored: bool,
        (finite, m): (bool, F32s<L>),
    ) -> F32s<L> {
        if stored {
            load_reg::<L, TAIL>(l, g, i, reg)
        } else {
            exp_gap_if(finite, m, self.x::<L, TAIL>(l, i, reg, f32::NEG_INFINITY)).1
        }
    }

    /// Register `reg` of chunk `i`'s weights (1 without weights).
    #[inline(always)]
    fn weight<L: Lanes, const TAIL: bool>(&self, l: L, i: usize, reg: usize) -> F32s<L> {
        match self.w {
            Some(w) => load_reg::<L, TAIL>(l, w, i, reg),
            None => l.splat(1.0),
        }
    }

    /// Register `reg` of chunk `i`'s targets (probability targets only).
    #[inline(always)]
    fn target<L: Lanes, const TAIL: bool>(&self, l: L, i: usize, reg: usize) -> Option<F32s<L>> {
        self.t.map(|t| load_reg::<L, TAIL>(l, t, i, reg))
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

        // Pass A: the maximum and its ties; the weighted target mass.
        let mut peaks = Peaks::new(l);
        let mut mass_errors = None;
        let mut mass = Accumulator::new(l, &mut mass_errors);
        for_each_chunk!(row, |i, TAIL| {
            for reg in 0..L::REGS {
                peaks.push(l, reg, row.x::<L, TAIL>(l, i, reg, f32::NAN));
            }
            if t_row.is_some() {
                let (_, n_valid) = row.span(i);
                for reg in 0..L::REGS {
                    let valid = lane_valid(l, reg, n_valid) * act;
                    let b = setup.class_coef(
                        valid,
                        row.weight::<L, TAIL>(l, i, reg),
                        row.target::<L, TAIL>(l, i, reg),
                    );
                    mass.add(reg, b);
                }
                mass.end_chunk(l);
            }
        });
        let (m, ties) = peaks.fold(l);
        let m_l = l.splat(m);
        let finite = m.is_finite();

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
        for_each_chunk!(row, |i, TAIL| {
            let (_, n_valid) = row.span(i);
            let mut e_dst = match grad_row.as_deref_mut() {
                Some(g) if store_e => Some(g),
                _ => None,
            };
            for reg in 0..L::REGS {
                let (d, e, term) =
                    exp_gap_if(finite, m_l, row.x::<L, TAIL>(l, i, reg, f32::NEG_INFINITY));
                sigma.add(reg, term);
                if setup.second_sum {
                    let valid = lane_valid(l, reg, n_valid) * act;
                    let b = setup.class_coef(
                        valid,
                        row.weight::<L, TAIL>(l, i, reg),
                        row.target::<L, TAIL>(l, i, reg),
                    );
                    class_sum.add(reg, mul_or_zero(b, d));
                }
                if let Some(g) = e_dst.as_deref_mut() {
                    store_reg::<L, TAIL>(l, g, (i, reg), e, false);
                }
            }
            sigma.end_chunk(l);
            if setup.second_sum {
                class_sum.end_chunk(l);
            }
        });
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
            if !setup.second_sum && k.total.raw() != 0.0 {
                // Only the target class has an `a_c` (b_c = 0): every
                // other class gets `total·(e·inv_sum)`, which is what
                // `gradient` gives it (`− 0` changes no bit, and with
                // total ≠ 0 `mul_or_zero` is the plain product); the
                // target's own element is written after the loop.
                let y_old = label.and_then(|y| g_row.get(y).copied());
                for_each_chunk!(row, |i, TAIL| {
                    for reg in 0..L::REGS {
                        let e = row.e::<L, TAIL>(l, g_row, (i, reg), store_e, (finite, m_l));
                        let g = kl.total * (e * kl.inv_sum) * scale;
                        store_reg::<L, TAIL>(l, g_row, (i, reg), g, !store_e);
                    }
                });
                if let (Some(y), Some(y_old)) = (label, y_old) {
                    // e_y as pass B computed it (the same bits on every
                    // backend), and the target's `a_c`.
                    let e_y = exp_gap(Scalar.splat(m), Scalar.splat(x_y)).1;
                    let b = Scalar.splat(0.0);
                    let is_target = b.eq(0.0); // true: this is the target
                    let g_y = (gradient(&k, e_y, is_target, b) * scale).raw();
                    if let Some(slot) = g_row.get_mut(y) {
                        *slot = if store_e { g_y } else { y_old + g_y };
                    }
                }
            } else {
                #[allow(clippy::cast_precision_loss)] // y < 2^24
                let y_f = label.map_or(-1.0, |y| y as f32);
                for_each_chunk!(row, |i, TAIL| {
                    let (start, _) = row.span(i);
                    #[allow(clippy::cast_precision_loss)] // start < 2^24
                    let class_base = start as f32;
                    for reg in 0..L::REGS {
                        let e = row.e::<L, TAIL>(l, g_row, (i, reg), store_e, (finite, m_l));
                        let b = setup.class_coef(
                            act,
                            row.weight::<L, TAIL>(l, i, reg),
                            row.target::<L, TAIL>(l, i, reg),
                        );
                        let is_y = (class_base + lane_index(l, reg)).eq(y_f);
                        let g = gradient(&kl, e, is_y, b) * scale;
                        store_reg::<L, TAIL>(l, g_row, (i, reg), g, !store_e);
                    }
                });
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
