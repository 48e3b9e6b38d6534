//! The tile kernel: 64 consecutive samples `j = n·S + s` in the lanes,
//! each lane running its sample's classes in order `c = 0, 1, …`, so a
//! lane's bits do not depend on the register width. Serves segmentation
//! maps (`S > 1`) and classifiers with few classes.
//!
//! A tile inside one image reads class `c` of its pixels as contiguous
//! registers (`x[n, c, s0..s0 + 64]`); other tiles (across images, the
//! last one, `S = 1` rows) gather each register through a stack buffer.
//! All three passes run on one register of the tile at a time, so its `C`
//! cache lines stay in L1 (`[4, 21, 512²]`: 21 lines per register).

use super::chunk::{load_at, load_unchecked, store_at, store_unchecked};
use super::{
    Kahan, Mode, Out, Peak, Problem, Setup, Stats, Target, coefficients, exp_gap_if, gradient,
    mul_or_zero,
};
use crate::arch::prefetch;
use crate::simd::accumulate::{Accumulator, Total};
use crate::simd::{F32s, Lanes, VIRTUAL_LANES};

/// Runs every tile; returns the canonical sum of the per-sample values.
#[inline(always)]
pub(super) fn run<L: Lanes>(l: L, p: &Problem<'_>, setup: &Setup, out: &mut Out<'_>) -> Total {
    let (c, s) = (p.c, p.s);
    let samples = p.n * s;
    let mode = out.mode;
    let scale = out.scale;
    let targets = match p.target {
        Target::Probabilities(t) => Some(t),
        Target::Index(_) => None,
    };
    let mut errors = None;
    let mut acc = Accumulator::new(l, &mut errors);
    // Staging buffers (see `STAGE_CLASSES`), zeroed once per call and
    // overwritten by each gather before use.
    let mut stage = Stage::new();
    let mut stage_g = [0.0f32; STAGE];
    let mut j0 = 0;
    while j0 < samples {
        let tile = Tile::new(j0, samples, c, s);
        let count = tile.count;
        // Per lane: the target class as f32 (−1: none), its weight, and
        // whether the sample counts.
        let mut y_f = [-1.0f32; VIRTUAL_LANES];
        let mut w_y = [0.0f32; VIRTUAL_LANES];
        let mut active = [0.0f32; VIRTUAL_LANES];
        match p.target {
            Target::Index(labels) => {
                labels.classes_f32(j0, y_f.get_mut(..count).unwrap_or(&mut []));
                let lanes = y_f.iter().zip(w_y.iter_mut()).zip(active.iter_mut());
                for ((&y_k, w_k), act_k) in lanes.take(count) {
                    if y_k >= 0.0 {
                        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                        let y = y_k as usize; // an exact class index < 2^24
                        *w_k = p.class_weight(y);
                        *act_k = 1.0;
                    }
                }
            }
            Target::Probabilities(_) => active.get_mut(..count).unwrap_or(&mut []).fill(1.0),
        }
        // A tile that is not contiguous but has few classes is staged:
        // each register's logits (and targets) gathered once into stack
        // buffers, class-major, and its gradient scattered once at the end.
        let staged = !tile.direct && c <= STAGE_CLASSES && L::WIDTH <= MAX_WIDTH;
        // Pass B stores e where pass C can read it back: in the gradient
        // of a contiguous tile being overwritten, or in the staging buffer.
        let store_e = staged || (mode == Mode::Overwrite && tile.direct);
        let mut values = [0.0f32; VIRTUAL_LANES];
        for reg in 0..L::REGS {
            let lane0 = reg * L::WIDTH;
            if lane0 >= count {
                break;
            }
            let y = load_at(l, &y_f, lane0);
            let act = load_at(l, &active, lane0);
            if staged {
                stage.gather(&tile, p.logits, targets, c, reg, L::WIDTH);
            }
            // (No closures here: they are not always inlined into the
            // target-feature context, and a call per register is slow.)
            let src = Source {
                tile: &tile,
                stage: staged.then_some(&stage),
                logits: p.logits,
                targets,
                x_win: tile.window(p.logits, c, lane0),
                t_win: targets.and_then(|t| tile.window(t, c, lane0)),
                reg,
            };

            // Pass A: maximum and ties, the target's logit, the mass.
            let mut peak = Peak::empty(l);
            let mut x_y = l.splat(0.0);
            let mut mass = Kahan::new(l);
            // The next tile's lines of this register in every class
            // plane, logits and gradient (`[4, 21, 512²]` on AVX-512, AMD
            // EPYC: 1.62 → 1.34 ns per logit in a probe's alternating
            // runs; `bench_report`'s medians moved less than the noise).
            if tile.direct {
                let next = tile.offset[0] + lane0 + VIRTUAL_LANES;
                prefetch::planes(p.logits, next, s, c, L::WIDTH);
                prefetch::planes(out.buf, next, s, c, L::WIDTH);
            }
            for class in 0..c {
                let x = src.x(l, class);
                peak = peak.push(x);
                x_y = is_class(y, class).select(x, x_y);
                if targets.is_some() {
                    mass.add(setup.class_coef(
                        act,
                        l.splat(p.class_weight(class)),
                        src.t(l, class),
                    ));
                }
            }
            // Pass B: σ and the value's class sum. (Every lane's maximum
            // finite, the usual case: the shorter gap, the same bits.)
            let finite = !peak.m.abs().eq(f32::INFINITY).any();
            let mut sigma = Kahan::new(l);
            let mut class_sum = Kahan::new(l);
            for class in 0..c {
                let (d, e, term) = exp_gap_if(finite, peak.m, src.x(l, class));
                sigma.add_bounded(term);
                if setup.second_sum {
                    let b = setup.class_coef(act, l.splat(p.class_weight(class)), src.t(l, class));
                    class_sum.add(mul_or_zero(b, d));
                }
                if staged {
                    store_at(l, &mut stage_g, class * L::WIDTH, e, false);
                } else if store_e {
                    tile.write(l, out.buf, c, class, reg, e, false);
                }
            }
            let k = coefficients(
                setup,
                Stats {
                    m: peak.m,
                    sigma: sigma.value() + (peak.ties - 1.0),
                    act,
                    x_y,
                    w_y: load_at(l, &w_y, lane0),
                    mass: mass.value(),
                },
            );
            let value = k.value(setup, act, class_sum.value());
            // Pass C: the gradient.
            if out.writes_grad() {
                for class in 0..c {
                    let e = if staged {
                        load_at(l, &stage_g, class * L::WIDTH)
                    } else if store_e {
                        tile.read(l, out.buf, c, class, reg)
                    } else {
                        exp_gap_if(finite, peak.m, src.x(l, class)).1
                    };
                    let b = setup.class_coef(act, l.splat(p.class_weight(class)), src.t(l, class));
                    let g = gradient(&k, e, is_class(y, class), b) * scale;
                    if staged {
                        store_at(l, &mut stage_g, class * L::WIDTH, g, false);
                    } else {
                        tile.write(l, out.buf, c, class, reg, g, mode == Mode::Accumulate);
                    }
                }
                if staged {
                    scatter(
                        &stage_g,
                        &tile,
                        out.buf,
                        c,
                        reg,
                        L::WIDTH,
                        mode == Mode::Accumulate,
                    );
                }
            }
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
            // Every tile is its own block (folded, then summed exactly),
            // so a call may be split at any tile.
            acc.end_block(l);
        }
        j0 += count;
    }
    acc.finish_total(l)
}

/// Tiles that are not contiguous are staged when they have at most this
/// many classes (every `S = 1` tile kernel shape): three buffers of
/// `STAGE_CLASSES × MAX_WIDTH` f32 on the stack, 36 KB on x86-64 (the
/// four AVX-512 registers of a chunk as one, 64 lanes), 2.3 KB on targets
/// whose widest vectors are 4 lanes (Cortex-M, wasm32, 32-bit ARM).
const STAGE_CLASSES: usize = super::ROW_KERNEL_MIN_CLASSES;

use crate::arch::MAX_WIDTH;

/// Elements of one staging buffer.
const STAGE: usize = STAGE_CLASSES * MAX_WIDTH;

/// One register's logits and targets of a staged tile, class-major: class
/// `c`'s lanes are `[c·W, (c + 1)·W)`. (Its gradient is a separate
/// buffer, written while these are read.)
struct Stage {
    x: [f32; STAGE],
    t: [f32; STAGE],
}

impl Stage {
    #[inline(always)]
    fn new() -> Self {
        Self {
            x: [0.0; STAGE],
            t: [0.0; STAGE],
        }
    }

    /// Gathers register `reg`'s `c` classes of logits (and targets).
    #[inline(always)]
    fn gather(
        &mut self,
        tile: &Tile,
        logits: &[f32],
        targets: Option<&[f32]>,
        c: usize,
        reg: usize,
        width: usize,
    ) {
        if let Some(rows) = tile.rows(reg, width, c) {
            // S = 1: the register's samples are consecutive rows of `c`
            // logits, read in order and written transposed.
            transpose_in(
                &mut self.x,
                logits.get(rows.clone()).unwrap_or(&[]),
                c,
                width,
            );
            if let Some(t) = targets {
                transpose_in(&mut self.t, t.get(rows).unwrap_or(&[]), c, width);
            }
            return;
        }
        for class in 0..c {
            for k in 0..width {
                let lane = reg * width + k;
                let (Some(slot), Some(&offset)) =
                    (self.x.get_mut(class * width + k), tile.offset.get(lane))
                else {
                    continue;
                };
                if lane >= tile.count {
                    continue;
                }
                let at = offset + class * tile.s;
                *slot = logits.get(at).copied().unwrap_or(0.0);
                if let (Some(t), Some(tslot)) = (targets, self.t.get_mut(class * width + k)) {
                    *tslot = t.get(at).copied().unwrap_or(0.0);
                }
            }
        }
    }
}

/// `dst[class·width + k] = rows[k·c + class]`: consecutive rows of `c`
/// values into class-major lanes.
#[inline(always)]
fn transpose_in(dst: &mut [f32; STAGE], rows: &[f32], c: usize, width: usize) {
    // Row by row; a row's classes go `width` apart (a strided iterator:
    // no bounds checks, and not turned into scatters, slow on AMD).
    // (c, width ≥ 1 always; the test removes chunks_exact's and step_by's
    // panic paths.)
    if c == 0 || width == 0 {
        return;
    }
    for (k, row) in rows.chunks_exact(c).enumerate() {
        let column = dst
            .get_mut(k..)
            .unwrap_or(&mut [])
            .iter_mut()
            .step_by(width);
        for (slot, &v) in column.zip(row) {
            *slot = v;
        }
    }
}

/// Lanes whose target class (`y`, as f32; −1 for none) is `class`.
#[inline(always)]
fn is_class<L: Lanes>(y: F32s<L>, class: usize) -> crate::simd::M32s<L> {
    #[allow(clippy::cast_precision_loss)] // class < 2^24
    y.eq(class as f32)
}

/// Where register `reg` of a tile reads its logits and targets: the
/// staging buffers, or the tile itself.
struct Source<'a> {
    tile: &'a Tile,
    stage: Option<&'a Stage>,
    logits: &'a [f32],
    targets: Option<&'a [f32]>,
    /// [`Tile::window`]s of a contiguous tile: read without bounds checks.
    x_win: Option<&'a [f32]>,
    t_win: Option<&'a [f32]>,
    reg: usize,
}

impl Source<'_> {
    /// Class `class`'s logits (`class < C`).
    #[inline(always)]
    fn x<L: Lanes>(&self, l: L, class: usize) -> F32s<L> {
        if let Some(win) = self.x_win {
            // SAFETY: the window has (C − 1)·S + 64 − lane0 elements
            // (`Tile::window`), class ≤ C − 1 and lane0 + WIDTH ≤ 64, so
            // class·S + WIDTH fits.
            return unsafe { load_unchecked(l, win, class * self.tile.s) };
        }
        match self.stage {
            Some(stage) => load_at(l, &stage.x, class * L::WIDTH),
            None => self.tile.read(l, self.logits, 0, class, self.reg),
        }
    }

    /// Class `class`'s targets (probability targets only; `class < C`).
    #[inline(always)]
    fn t<L: Lanes>(&self, l: L, class: usize) -> Option<F32s<L>> {
        let t = self.targets?;
        if let Some(win) = self.t_win {
            // SAFETY: as in `x`.
            return Some(unsafe { load_unchecked(l, win, class * self.tile.s) });
        }
        Some(match self.stage {
            Some(stage) => load_at(l, &stage.t, class * L::WIDTH),
            None => self.tile.read(l, t, 0, class, self.reg),
        })
    }
}

/// Scatters a staged gradient `g` of register `reg` to the tile's lanes,
/// overwriting or adding (the same add as a vector one).
#[inline(always)]
fn scatter(
    g: &[f32; STAGE],
    tile: &Tile,
    grad: &mut [f32],
    c: usize,
    reg: usize,
    width: usize,
    accumulate: bool,
) {
    if let Some(rows) = tile.rows(reg, width, c) {
        if c == 0 || width == 0 {
            return; // never (as in `transpose_in`)
        }
        let block = grad.get_mut(rows).unwrap_or(&mut []);
        for (k, row) in block.chunks_exact_mut(c).enumerate() {
            let column = g.get(k..).unwrap_or(&[]).iter().step_by(width);
            for (d, &v) in row.iter_mut().zip(column) {
                *d = if accumulate { *d + v } else { v };
            }
        }
        return;
    }
    for class in 0..c {
        for k in 0..width {
            let lane = reg * width + k;
            if lane >= tile.count {
                continue;
            }
            let (Some(&v), Some(&offset)) = (g.get(class * width + k), tile.offset.get(lane))
            else {
                continue;
            };
            if let Some(d) = grad.get_mut(offset + class * tile.s) {
                *d = if accumulate { *d + v } else { v };
            }
        }
    }
}

/// The geometry of one tile: lane `k`'s class `c` is element
/// `offset[k] + c·S` of an `[N, C, S]` array.
struct Tile {
    offset: [usize; VIRTUAL_LANES],
    /// Lanes holding a sample (64 but in the last tile).
    count: usize,
    /// All 64 lanes are consecutive pixels of one image.
    direct: bool,
    s: usize,
}

impl Tile {
    /// The tile of samples `j0..min(j0 + 64, samples)`.
    #[inline(always)]
    fn new(j0: usize, samples: usize, c: usize, s: usize) -> Self {
        let count = (samples - j0).min(VIRTUAL_LANES);
        // (s ≥ 1; checked so that no division-by-zero panic path exists.)
        let (n0, s0) = (
            j0.checked_div(s).unwrap_or(0),
            j0.checked_rem(s).unwrap_or(0),
        );
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
        Self {
            offset,
            count,
            direct: count == VIRTUAL_LANES && s0 + VIRTUAL_LANES <= s,
            s,
        }
    }

    /// With `S = 1`, the elements of an `[N, C, 1]` array that register
    /// `reg` (of `width` lanes) holds: its samples' rows of `c`, which are
    /// consecutive (`None` for `S > 1` or a register past the samples).
    #[inline(always)]
    fn rows(&self, reg: usize, width: usize, c: usize) -> Option<core::ops::Range<usize>> {
        let first = reg * width;
        if self.s != 1 || first >= self.count {
            return None;
        }
        let start = *self.offset.get(first)?;
        let len = (self.count - first).min(width) * c;
        Some(start..start + len)
    }

    /// For a contiguous tile, the part of an `[N, C, S]` array that the
    /// register starting at lane `lane0` reads: `(C − 1)·S + 64 − lane0`
    /// elements from its class 0 (`None` for other tiles, or if `data`
    /// is too short, which the length checks rule out).
    #[inline(always)]
    fn window<'d>(&self, data: &'d [f32], c: usize, lane0: usize) -> Option<&'d [f32]> {
        if !self.direct || lane0 >= VIRTUAL_LANES {
            return None;
        }
        let start = self.offset[0] + lane0;
        let len = (c - 1) * self.s + VIRTUAL_LANES - lane0;
        data.get(start..start + len)
    }

    /// Register `reg` of class `class` (0 in lanes past `count`); `c` is
    /// the class count for the contiguous fast path (0: not known, checked
    /// loads).
    #[inline(always)]
    fn read<L: Lanes>(&self, l: L, data: &[f32], c: usize, class: usize, reg: usize) -> F32s<L> {
        let lane0 = reg * L::WIDTH;
        if self.direct {
            if class < c
                && let Some(win) = self.window(data, c, lane0)
            {
                // SAFETY: class ≤ C − 1 and lane0 + WIDTH ≤ 64, so
                // class·S + WIDTH ≤ (C − 1)·S + 64 − lane0 = win.len().
                return unsafe { load_unchecked(l, win, class * self.s) };
            }
            return load_at(l, data, self.offset[0] + class * self.s + lane0);
        }
        let mut buf = [0.0f32; VIRTUAL_LANES];
        for (k, b) in buf.iter_mut().enumerate().take(L::WIDTH) {
            let lane = lane0 + k;
            if lane < self.count {
                *b = data
                    .get(
                        self.offset
                            .get(lane)
                            .copied()
                            .unwrap_or(usize::MAX)
                            .wrapping_add(class * self.s),
                    )
                    .copied()
                    .unwrap_or(0.0);
            }
        }
        load_at(l, &buf, 0)
    }

    /// Writes (or adds) register `reg` of class `class`, lanes below
    /// `count` only.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn write<L: Lanes>(
        &self,
        l: L,
        data: &mut [f32],
        c: usize,
        class: usize,
        reg: usize,
        v: F32s<L>,
        accumulate: bool,
    ) {
        let lane0 = reg * L::WIDTH;
        if self.direct {
            let start = self.offset[0] + lane0;
            let len = (c - 1) * self.s + VIRTUAL_LANES - lane0;
            if class < c
                && lane0 < VIRTUAL_LANES
                && let Some(win) = data.get_mut(start..start + len)
            {
                // SAFETY: as in `read`: class·S + WIDTH ≤ win.len().
                unsafe { store_unchecked(l, win, class * self.s, v, accumulate) };
                return;
            }
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
                && let Some(&offset) = self.offset.get(lane)
                && let Some(d) = data.get_mut(offset + class * self.s)
            {
                *d = if accumulate { *d + val } else { val };
            }
        }
    }
}
