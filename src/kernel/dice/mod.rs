//! The Dice-family driver over a class axis, `[N, C, S]` logits, written
//! once against [`Lanes`].
//!
//! A *group* is one image (or, with `batch`, the whole batch): its terms
//! come from per-class sums over its pixels. Two passes per group:
//!
//! - **sums** (read; sigmoid and no activation: [`planes`], one class
//!   plane at a time): per tile of 64 pixels of one image (pixel `s` in
//!   virtual lane `s % 64`), the activation `p` of every class (softmax:
//!   the maximum, the sum of `e^−(m − x)`, then `p`), the target `g` and
//!   the mask (an ignored label, a padding lane); per class the tile's
//!   `p·g`, `p` (or `p²`), `g` (or `g²`) folded by the canonical tree and
//!   added to the class's f64 sums, tile after tile. With an overwritten
//!   gradient and softmax, `p` is stored in the gradient buffer.
//! - the **terms** and, per class, the derivative of the reduced loss with
//!   respect to `p`: `α_c·g + β_c·∂P/∂p` ([`ratio`], in f64), rounded to
//!   f32 with a power-of-two shift where it would overflow
//!   ([`coefficient`]);
//! - **gradient** (gradient modes only): that derivative through the
//!   activation (softmax: `p_c·(v_c − Σ_k p_k v_k)` per pixel, `p` read
//!   back or recomputed; sigmoid: `v·σ(x)·σ(−x)`).
//!
//! Every operation is the same on every backend and the sums are folded in
//! one fixed order, so every ISA gives the same bits.

mod coefficient;
mod planes;
mod ratio;

use coefficient::Coefficient;

pub(crate) use ratio::Ratio;
use ratio::{Sums, generalized, generalized_weights, term};

use super::labels::LabelRun;
use crate::arch::{SMALL_CODE, prefetch};
use crate::dispatch::{Isa, LanesFn};
use crate::simd::accumulate::{Total, fold, on_f32_grid, two_sum};
use crate::simd::math::{exp_nonpos, log1p};
use crate::simd::{F32s, Lanes, M32s, VIRTUAL_LANES};

/// The most classes a Dice-family call takes: the per-class sums and
/// coefficients live on the stack (`MAX_CLASSES · 84` bytes, 10.5 KB: per
/// class four f64 sums, three f64 derivatives, an f64 weight and a
/// `Coefficient` of 20 bytes), since the crate never allocates.
pub const MAX_CLASSES: usize = 128;

/// The activation applied to the input before the ratio.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `p = σ(x)` element by element (multi-label, binary segmentation).
    Sigmoid,
    /// `p = softmax(x)` over the classes of each pixel.
    Softmax,
    /// `p = x`: the input already holds probabilities.
    None,
}

/// The target of a [`Problem`].
#[derive(Clone, Copy)]
pub(crate) enum Target<'a> {
    /// Class indices `[N, S]` (validated: each `< C`, or `< 2` for one
    /// channel, where they are the foreground mask).
    Index(LabelRun<'a>),
    /// Probabilities `[N, C, S]`.
    Probabilities(&'a [f32]),
}

/// One call: logits, shape, target and options (validated by the loss
/// layer).
#[derive(Clone, Copy)]
pub(crate) struct Problem<'a> {
    pub(crate) logits: &'a [f32],
    pub(crate) n: usize,
    pub(crate) c: usize,
    pub(crate) s: usize,
    pub(crate) target: Target<'a>,
    pub(crate) activation: Activation,
    pub(crate) ratio: Ratio,
    pub(crate) squared_pred: bool,
    /// 0 with the background class, 1 without (class 0 dropped).
    pub(crate) first_class: usize,
    pub(crate) batch: bool,
    pub(crate) smooth_nr: f64,
    pub(crate) smooth_dr: f64,
    /// One weight per kept class (`C − first_class`), multiplying its term.
    pub(crate) weight: Option<&'a [f32]>,
    /// Softmax cross-entropy on the same logits (Dice + CE), if any.
    pub(crate) cross_entropy: Option<CrossEntropy<'a>>,
}

/// The cross-entropy half of Dice + CE: PyTorch's `cross_entropy` per
/// pixel, `Σ_c a_c·(−ln p_c)` with `a = (1−ε)·w_y·onehot(y) + (ε/C)·w`
/// (index targets) or `a = w ⊙ (t(1−ε) + ε/C)` (probabilities); its
/// gradient `A·p_c − a_c`, `A = Σ_c a_c`. Softmax activation only.
#[derive(Clone, Copy)]
pub(crate) struct CrossEntropy<'a> {
    /// Class weights, `C` of them.
    pub(crate) weight: Option<&'a [f32]>,
    /// Label smoothing ε.
    pub(crate) smoothing: f32,
    /// What the CE gradient is multiplied by (`scale·λ_ce/denominator`).
    pub(crate) grad_scale: f32,
}

impl CrossEntropy<'_> {
    #[inline(always)]
    fn class_weight(&self, c: usize) -> f32 {
        self.weight
            .map_or(1.0, |w| w.get(c).copied().unwrap_or(0.0))
    }
}

/// What a call returns: the sum of the (weighted) Dice terms and the sum of
/// the per-pixel cross-entropy values (0 without CE).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Totals {
    pub(crate) dice: f64,
    pub(crate) cross_entropy: f64,
}

impl Problem<'_> {
    /// How many groups (images, or 1 with `batch`).
    pub(crate) fn groups(&self) -> usize {
        if self.batch { 1 } else { self.n }
    }

    /// How many terms the loss has: per group one per kept class, or one
    /// for the generalized ratio.
    pub(crate) fn terms(&self) -> usize {
        let per_group = if self.ratio == Ratio::Generalized {
            1
        } else {
            self.c - self.first_class
        };
        self.groups() * per_group
    }
}

/// What a call writes.
pub(crate) enum Output<'a> {
    /// Nothing but the value.
    Value,
    /// `scale · ∂(Σ terms)/∂x`, overwriting `buf` or added to it.
    Grad {
        buf: &'a mut [f32],
        scale: f32,
        accumulate: bool,
    },
    /// Every term, group by group (`Problem::terms` of them).
    Terms(&'a mut [f32]),
}

/// Runs `problem` on `isa`; returns the sums of the terms, or `None` if
/// the ISA is unavailable or the problem is inconsistent (never after the
/// loss layer's checks).
pub(crate) fn execute(isa: Isa, problem: Problem<'_>, output: Output<'_>) -> Option<Totals> {
    let Problem {
        logits, n, c, s, ..
    } = problem;
    let len = n.checked_mul(c)?.checked_mul(s)?;
    let kept = c.checked_sub(problem.first_class)?;
    let ok = kept >= 1
        && c <= MAX_CLASSES
        && logits.len() == len
        && problem.weight.is_none_or(|w| w.len() == kept)
        && problem.cross_entropy.is_none_or(|ce| {
            problem.activation == Activation::Softmax && ce.weight.is_none_or(|w| w.len() == c)
        })
        && match problem.target {
            Target::Probabilities(t) => t.len() == len,
            Target::Index(_) => true,
        }
        && match &output {
            Output::Value => true,
            Output::Grad { buf, .. } => buf.len() == len,
            Output::Terms(out) => out.len() == problem.terms(),
        };
    if !ok {
        return None;
    }
    let job = Job { problem, output };
    #[cfg(feature = "rayon")]
    if len >= PARALLEL_MIN_LOGITS && !problem.batch {
        // Pieces of whole images (groups): each group's sums, terms and
        // gradient are its own; the pieces' exact totals merge.
        let min_images = (PARALLEL_MIN_LOGITS / 2).div_ceil(c * s).max(1);
        let run = |piece: Job<'_>| dispatch(isa, piece);
        let merge = |a: Partial, b: Partial| a.merge(&b);
        return super::parallel::split_merge(job, 1, min_images, &run, &merge).map(|t| t.totals());
    }
    dispatch(isa, job).map(|t| t.totals())
}

/// Runs a job on `isa`: the element-wise activations stream planes as the
/// pointwise losses do, four AVX-512 registers as one (`dispatch_quads`:
/// their sums then stay in registers); softmax's tiles run on pairs,
/// which measured faster for them.
/// Each path is compiled apart (`Passes::<TILES>` / `Passes::<PLANES>`):
/// one `run` holding both made Dice + CE `[4, 21, 512²]` 2.46–2.84 ns per
/// logit, apart 2.13–2.17 (the build before the planes: 2.33–2.39;
/// alternating probe runs, AVX-512). Where flash counts (`SMALL_CODE`)
/// one `run` serves both, choosing by the activation.
#[inline]
fn dispatch(isa: Isa, job: Job<'_>) -> Option<Partial> {
    if SMALL_CODE {
        crate::dispatch::dispatch_paired(isa, Passes::<BY_ACTIVATION>(job))
    } else if job.problem.activation == Activation::Softmax {
        crate::dispatch::dispatch_paired(isa, Passes::<TILES>(job))
    } else {
        crate::dispatch::dispatch_quads(isa, Passes::<PLANES>(job))
    }
}

/// Which passes a [`Passes`] runs: chosen by the activation at run time,
/// the softmax tiles, or the element-wise planes.
const BY_ACTIVATION: u8 = 0;
const TILES: u8 = 1;
const PLANES: u8 = 2;

/// A job on one path (`KIND`: [`BY_ACTIVATION`], [`TILES`], [`PLANES`]).
struct Passes<'a, const KIND: u8>(Job<'a>);

impl<const KIND: u8> LanesFn for Passes<'_, KIND> {
    type Output = Partial;
    #[inline(always)]
    fn call<L: Lanes>(self, l: L) -> Partial {
        let tiles = match KIND {
            TILES => true,
            PLANES => false,
            _ => self.0.problem.activation == Activation::Softmax,
        };
        run(l, &self.0.problem, self.0.output, tiles)
    }
}

/// With the `rayon` feature, a call of at least this many logits without
/// `batch` is split over rayon's current pool by whole images, in pieces
/// of at least half of it.
#[cfg(feature = "rayon")]
pub const PARALLEL_MIN_LOGITS: usize = 1 << 15;

struct Job<'a> {
    problem: Problem<'a>,
    output: Output<'a>,
}

/// Runs a job: the softmax tile passes (`tiles`) or the planes.
#[inline(always)]
fn run<L: Lanes>(l: L, p: &Problem<'_>, output: Output<'_>, tiles: bool) -> Partial {
    let (mut grad, scale, accumulate, mut terms_out) = match output {
        Output::Value => (None, 0.0, false, None),
        Output::Grad {
            buf,
            scale,
            accumulate,
        } => (Some(buf), scale, accumulate, None),
        Output::Terms(out) => (None, 0.0, false, Some(out)),
    };
    // Between the passes the overwritten gradient keeps what would cost an
    // exp to recompute: p (softmax) or e^−|x| (sigmoid).
    let keep_p = !accumulate && p.activation != Activation::None;
    let images_per_group = if p.batch { p.n } else { 1 };
    // execute() checked c <= MAX_CLASSES and first_class < c; the clamps
    // say so to the optimizer (no panic path survives in the slicing).
    let classes = p.c.min(MAX_CLASSES);
    let first = p.first_class.min(classes);
    let mut sums = [Sums::default(); MAX_CLASSES];
    let mut coefficients = [Coefficient::ZERO; MAX_CLASSES];
    let mut weights = [0.0f64; MAX_CLASSES];
    // Exact sums (so that images split over threads merge to the same
    // bits): the terms cut to the f32 grid, the per-image CE totals.
    let mut total = Total::new();
    let mut ce_total = Total::new();
    let mut term_index = 0usize;
    for group in 0..p.groups() {
        let images = group * images_per_group..(group + 1) * images_per_group;
        let sums = &mut sums[..classes];
        sums.fill(Sums::default());
        for image in images.clone() {
            let scratch = if keep_p { grad.as_deref_mut() } else { None };
            if tiles {
                ce_total.merge(&pass_sums(l, p, image, sums, scratch));
            } else {
                planes::pass_sums(l, p, image, sums, scratch);
            }
        }
        let mut write_term = |v: f64| {
            if let Some(out) = terms_out.as_deref_mut()
                && let Some(slot) = out.get_mut(term_index)
            {
                #[allow(clippy::cast_possible_truncation)]
                let v32 = v as f32;
                *slot = v32;
            }
            term_index += 1;
        };
        let kept = &sums[first..];
        let mut derivatives = [ratio::Term::default(); MAX_CLASSES];
        let derivatives = &mut derivatives[..kept.len()];
        if p.ratio == Ratio::Generalized {
            let w = &mut weights[..kept.len()];
            generalized_weights(kept, w);
            let v = generalized(kept, w, derivatives, p.smooth_nr, p.smooth_dr);
            total.add(on_f32_grid(v));
            write_term(v);
        } else {
            for (k, (d, s)) in derivatives.iter_mut().zip(kept).enumerate() {
                let t = term(p.ratio, *s, p.smooth_nr, p.smooth_dr);
                let w = p
                    .weight
                    .and_then(|w| w.get(k))
                    .map_or(1.0, |&w| f64::from(w));
                let v = if w == 1.0 { t.value } else { w * t.value };
                total.add(on_f32_grid(v));
                write_term(v);
                *d = ratio::Term {
                    value: v,
                    d_intersection: w * t.d_intersection,
                    d_pred: w * t.d_pred,
                };
            }
        }
        let Some(buf) = grad.as_deref_mut() else {
            continue;
        };
        let scale = f64::from(scale);
        let kept_coefficients = derivatives
            .iter()
            .map(|d| (scale * d.d_intersection, scale * d.d_pred));
        // Softmax mixes the classes of a pixel (`Σ_k p_k v_k`): one shift
        // for the whole group; otherwise each class has its own.
        let group_shift = if p.activation == Activation::Softmax {
            kept_coefficients
                .clone()
                .map(|(a, b)| Coefficient::shift(a, b))
                .max()
        } else {
            None
        };
        coefficients[..first].fill(Coefficient::ZERO);
        for (coefficient, (a, b)) in coefficients[first..classes]
            .iter_mut()
            .zip(kept_coefficients)
        {
            let k = group_shift.unwrap_or_else(|| Coefficient::shift(a, b));
            *coefficient = Coefficient::new(a, b, k);
        }
        let coefficients = &coefficients[..classes];
        for image in images {
            if tiles {
                pass_gradient(l, p, image, coefficients, buf, accumulate, keep_p);
            } else {
                planes::pass_gradient(l, p, image, coefficients, buf, accumulate, keep_p);
            }
        }
    }
    Partial {
        dice: total,
        cross_entropy: ce_total,
    }
}

/// [`Totals`] before rounding: exact, to merge the parts of a call split
/// over threads.
#[derive(Clone, Copy)]
struct Partial {
    dice: Total,
    cross_entropy: Total,
}

impl Partial {
    #[cfg(feature = "rayon")]
    fn merge(mut self, other: &Self) -> Self {
        self.dice.merge(&other.dice);
        self.cross_entropy.merge(&other.cross_entropy);
        self
    }

    fn totals(&self) -> Totals {
        Totals {
            dice: self.dice.value(),
            cross_entropy: self.cross_entropy.value(),
        }
    }
}

#[cfg(feature = "rayon")]
impl super::parallel::Split for Job<'_> {
    /// Groups, i.e. images (only calls without `batch` are split).
    fn len(&self) -> usize {
        self.problem.n
    }

    /// Images `..mid` and `mid..`: every buffer cut at its image stride
    /// (the terms at the group's count of them).
    fn split_at(self, mid: usize) -> (Self, Self) {
        let p = self.problem;
        let mid = mid.min(p.n);
        let (per_image, per_logit) = (mid * p.s, mid * p.c * p.s);
        let per_term = mid * (p.terms() / p.n.max(1));
        let (logits_a, logits_b) = p.logits.split_at(per_logit.min(p.logits.len()));
        let (target_a, target_b) = match p.target {
            Target::Index(run) => {
                let (a, b) = run.split_at(per_image);
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
            Output::Terms(out) => {
                let (a, b) = out.split_at_mut(per_term.min(out.len()));
                (Output::Terms(a), Output::Terms(b))
            }
        };
        let piece = |logits, target, n, output| Job {
            problem: Problem {
                logits,
                n,
                target,
                ..p
            },
            output,
        };
        (
            piece(logits_a, target_a, mid, out_a),
            piece(logits_b, target_b, p.n - mid, out_b),
        )
    }
}

/// The per-tile facts every class of a tile shares.
#[derive(Clone, Copy)]
struct Tile<L: Lanes> {
    /// The class of each lane as f32 (index targets), `−1` for an ignored
    /// label or a padding lane; `0` for every valid lane with probability
    /// targets.
    labels: L::Chunk,
    /// Softmax: the maximum logit, `1/Σ e^−(m − x)` and (with CE)
    /// `ln Σ e^−(m − x)` of each lane.
    max: L::Chunk,
    inv_sum: L::Chunk,
    ln_sum: L::Chunk,
    /// With CE and index targets: `(1−ε)·w_y` per lane (0 where masked).
    target_coef: L::Chunk,
    /// Valid pixels of the tile (64 except in an image's last tile).
    len: usize,
    /// `s0`, the tile's first pixel in the image.
    pixel: usize,
}

impl<L: Lanes> Tile<L> {
    /// A tile to be filled by [`tile`].
    #[inline(always)]
    fn new(l: L) -> Self {
        Self {
            labels: l.zero_chunk(),
            max: l.zero_chunk(),
            inv_sum: l.zero_chunk(),
            ln_sum: l.zero_chunk(),
            target_coef: l.zero_chunk(),
            len: 0,
            pixel: 0,
        }
    }
}

#[inline(always)]
fn reg<L: Lanes>(l: L, chunk: &L::Chunk, r: usize) -> F32s<L> {
    match chunk.as_ref().get(r) {
        Some(&v) => F32s::from_raw(l, v),
        None => l.splat(0.0),
    }
}

#[inline(always)]
fn set_reg<L: Lanes>(chunk: &mut L::Chunk, r: usize, v: F32s<L>) {
    if let Some(slot) = chunk.as_mut().get_mut(r) {
        *slot = v.raw();
    }
}

/// The `len ≤ 64` values `src[base..base + len]` as a chunk, zeros after.
#[inline(always)]
fn load_chunk<L: Lanes>(l: L, src: &[f32], base: usize, len: usize) -> L::Chunk {
    let mut chunk = l.zero_chunk();
    if len == VIRTUAL_LANES
        && let Some(s) = src.get(base..base + VIRTUAL_LANES)
    {
        for (r, slot) in chunk.as_mut().iter_mut().enumerate() {
            if let Some(part) = s.get(r * L::WIDTH..(r + 1) * L::WIDTH) {
                // SAFETY: `part` holds WIDTH readable f32.
                *slot = unsafe { l.load(part.as_ptr()) }.raw();
            }
        }
        return chunk;
    }
    let mut staged = [0.0f32; VIRTUAL_LANES];
    if let (Some(dst), Some(s)) = (staged.get_mut(..len), src.get(base..base + len)) {
        dst.copy_from_slice(s);
    }
    for (r, slot) in chunk.as_mut().iter_mut().enumerate() {
        if let Some(part) = staged.get(r * L::WIDTH..(r + 1) * L::WIDTH) {
            // SAFETY: `part` holds WIDTH readable f32.
            *slot = unsafe { l.load(part.as_ptr()) }.raw();
        }
    }
    chunk
}

/// Writes (or adds) the first `len ≤ 64` lanes of `chunk` to
/// `dst[base..base + len]`.
#[inline(always)]
fn store_chunk<L: Lanes>(
    l: L,
    dst: &mut [f32],
    base: usize,
    len: usize,
    chunk: &L::Chunk,
    accumulate: bool,
) {
    let mut staged = [0.0f32; VIRTUAL_LANES];
    let full = len == VIRTUAL_LANES;
    let Some(d) = dst.get_mut(base..base + len) else {
        return;
    };
    for (r, &v) in chunk.as_ref().iter().enumerate() {
        let v = F32s::from_raw(l, v);
        let target = if full {
            d.get_mut(r * L::WIDTH..(r + 1) * L::WIDTH)
        } else {
            staged.get_mut(r * L::WIDTH..(r + 1) * L::WIDTH)
        };
        if let Some(part) = target {
            let ptr = part.as_mut_ptr();
            // SAFETY: `part` holds WIDTH readable and writable f32.
            unsafe {
                let v = if accumulate && full {
                    l.load(ptr) + v
                } else {
                    v
                };
                l.store(ptr, v);
            }
        }
    }
    if !full {
        for (d, &v) in d.iter_mut().zip(staged.iter()) {
            *d = if accumulate { *d + v } else { v };
        }
    }
}

/// The labels (or validity) and, for softmax, the maximum and inverse sum
/// of one tile.
#[inline(always)]
fn tile<L: Lanes>(
    l: L,
    p: &Problem<'_>,
    image: usize,
    pixel: usize,
    mut scratch: Option<&mut [f32]>,
    t: &mut Tile<L>,
) {
    let len = (p.s - pixel).min(VIRTUAL_LANES);
    let sample = image * p.s + pixel;
    let mut labels = [-1.0f32; VIRTUAL_LANES];
    let mut target_coef = [0.0f32; VIRTUAL_LANES];
    match p.target {
        Target::Index(classes) => {
            if let Some(run) = labels.get_mut(..len) {
                classes.classes_f32(sample, run);
            }
            if let Some(ce) = p.cross_entropy {
                for (coef, &label) in target_coef.iter_mut().zip(&labels) {
                    if label >= 0.0 {
                        // An exact class index below 2^24.
                        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                        let class = label as usize;
                        *coef = (1.0 - ce.smoothing) * ce.class_weight(class);
                    }
                }
            }
        }
        Target::Probabilities(_) => {
            if let Some(run) = labels.get_mut(..len) {
                run.fill(0.0);
            }
        }
    }
    t.labels = load_chunk(l, &labels, 0, VIRTUAL_LANES);
    if p.cross_entropy.is_some() {
        t.target_coef = load_chunk(l, &target_coef, 0, VIRTUAL_LANES);
    }
    t.len = len;
    t.pixel = pixel;
    if p.activation == Activation::Softmax {
        for r in 0..L::REGS {
            set_reg(&mut t.max, r, l.splat(f32::NEG_INFINITY));
        }
        for c in 0..p.c {
            let x = load_chunk(l, p.logits, plane(p, image, c) + pixel, len);
            for r in 0..L::REGS {
                let (x, m) = (reg(l, &x, r), reg(l, &t.max, r));
                set_reg(&mut t.max, r, x.gt(m).select(x, m));
            }
        }
        // σ = Σ_{x ≠ m} e + ties − 1, so Σ = 1 + σ and ln Σ = log1p(σ)
        // keeps its digits when one class dominates.
        let (mut rest, mut ties) = (l.zero_chunk(), l.zero_chunk());
        for c in 0..p.c {
            let base = plane(p, image, c) + pixel;
            let x = load_chunk(l, p.logits, base, len);
            let mut e_chunk = l.zero_chunk();
            for r in 0..L::REGS {
                let (x, m) = (reg(l, &x, r), reg(l, &t.max, r));
                let at_max = x.eq(m);
                let e = softmax_numerator(x, m);
                let rest_r = reg(l, &rest, r) + at_max.select(0.0, e);
                let ties_r = reg(l, &ties, r) + at_max.select(1.0, 0.0);
                set_reg(&mut rest, r, rest_r);
                set_reg(&mut ties, r, ties_r);
                set_reg(&mut e_chunk, r, e);
            }
            // Kept for the class loop, which then needs no second exp.
            if let Some(scratch) = scratch.as_deref_mut() {
                store_chunk(l, scratch, base, len, &e_chunk, false);
            }
        }
        for r in 0..L::REGS {
            let m = reg(l, &t.max, r);
            let sigma = reg(l, &rest, r) + (reg(l, &ties, r) - 1.0);
            let no_softmax = m.eq(f32::NEG_INFINITY);
            set_reg(
                &mut t.inv_sum,
                r,
                no_softmax.select(f32::NAN, 1.0 / (1.0 + sigma)),
            );
            if p.cross_entropy.is_some() {
                set_reg(&mut t.ln_sum, r, no_softmax.select(f32::NAN, log1p(sigma)));
            }
        }
    }
}

/// The CE coefficient `a_c` of class `c` in register `r` (0 in masked
/// lanes): `(1−ε)w_y·[c = y] + (ε/C)w_c`, or `w_c(t_c(1−ε) + ε/C)`.
#[inline(always)]
fn ce_coef<L: Lanes>(
    l: L,
    p: &Problem<'_>,
    ce: &CrossEntropy<'_>,
    t: &Tile<L>,
    g_chunk: Option<&L::Chunk>,
    c: usize,
    r: usize,
) -> F32s<L> {
    #[allow(clippy::cast_precision_loss)] // classes <= 2^24
    let classes = p.c as f32;
    let w_c = ce.class_weight(c);
    let smooth = ce.smoothing / classes * w_c;
    let label = reg(l, &t.labels, r);
    let valid = label.ge(0.0);
    let a = match g_chunk {
        Some(g) => w_c * (reg(l, g, r) * (1.0 - ce.smoothing) + ce.smoothing / classes),
        #[allow(clippy::cast_precision_loss)] // classes <= 2^24
        None => label.eq(c as f32).select(reg(l, &t.target_coef, r), 0.0) + smooth,
    };
    valid.select(a, 0.0)
}

/// Where class `c` of `image` starts in the logits.
#[inline(always)]
fn plane(p: &Problem<'_>, image: usize, c: usize) -> usize {
    (image * p.c + c) * p.s
}

/// Hints the next tile of every class plane of `data` (logits, or the
/// gradient buffer) of a large map into the cache ([`prefetch::planes`]).
/// Changes no result.
#[inline(always)]
fn prefetch_next_tile(p: &Problem<'_>, image: usize, pixel: usize, data: &[f32]) {
    let next = pixel + VIRTUAL_LANES;
    if next < p.s {
        let len = VIRTUAL_LANES.min(p.s - next);
        prefetch::planes(data, plane(p, image, 0) + next, p.s, p.c, len);
    }
}

/// `e^−(m − x)`, with `m − x` taken as 0 where `x == m` (so `+∞` logits
/// tie instead of making NaN).
#[inline(always)]
fn softmax_numerator<L: Lanes>(x: F32s<L>, m: F32s<L>) -> F32s<L> {
    let gap = x.eq(m).select(0.0, m - x);
    exp_nonpos(-gap)
}

/// Softmax's `p` of class `c` in register `r` of a tile, from its logits
/// `x` (the tile passes serve softmax only; [`planes`] the rest).
#[inline(always)]
fn activate<L: Lanes>(l: L, t: &Tile<L>, x: F32s<L>, r: usize) -> F32s<L> {
    softmax_numerator(x, reg(l, &t.max, r)) * reg(l, &t.inv_sum, r)
}

/// The target `g` of class `c` in register `r` (0 in masked lanes) and the
/// mask of lanes that count. With one channel (`C = 1`) index labels are
/// the foreground mask: label 1 is `g = 1`, label 0 is `g = 0`.
#[inline(always)]
fn target<L: Lanes>(
    l: L,
    p: &Problem<'_>,
    t: &Tile<L>,
    g_chunk: Option<&L::Chunk>,
    c: usize,
    r: usize,
) -> (F32s<L>, M32s<L>) {
    let label = reg(l, &t.labels, r);
    let valid = label.ge(0.0);
    let g = match g_chunk {
        Some(g) => valid.select(reg(l, g, r), 0.0),
        // One channel: the labels are the binary mask (0 or 1), as in MONAI.
        None if p.c == 1 => label.eq(1.0).select(1.0, 0.0),
        #[allow(clippy::cast_precision_loss)] // classes <= 2^24
        None => label.eq(c as f32).select(1.0, 0.0),
    };
    (g, valid)
}

/// The probability target of class `c` in a tile, if targets are
/// probabilities.
#[inline(always)]
fn target_chunk<L: Lanes>(
    l: L,
    p: &Problem<'_>,
    image: usize,
    c: usize,
    t: &Tile<L>,
) -> Option<L::Chunk> {
    match p.target {
        Target::Probabilities(g) => Some(load_chunk(l, g, plane(p, image, c) + t.pixel, t.len)),
        Target::Index(_) => None,
    }
}

/// Pass 1 over one image: adds its tiles' sums to `sums` (one per class);
/// stores `p` in `scratch` if given. Returns the image's cross-entropy sum
/// (per tile: the 64 lanes folded by the canonical tree, tiles summed
/// exactly), 0 without CE.
#[inline(always)]
fn pass_sums<L: Lanes>(
    l: L,
    p: &Problem<'_>,
    image: usize,
    sums: &mut [Sums],
    mut scratch: Option<&mut [f32]>,
) -> Total {
    let mut ce_total = 0.0f64;
    let mut ce_errors = None;
    // The generalized weights need `Σ g` apart from `Σ g²`.
    let mass_differs = p.squared_pred && p.ratio == Ratio::Generalized;
    let mut pixel = 0;
    let mut t = Tile::new(l);
    while pixel < p.s {
        prefetch_next_tile(p, image, pixel, p.logits);
        if let Some(buf) = scratch.as_deref() {
            prefetch_next_tile(p, image, pixel, buf);
        }
        // With a scratch buffer, the tile pass leaves e^−(m − x) there.
        tile(l, p, image, pixel, scratch.as_deref_mut(), &mut t);
        let mut ce_lanes = l.zero_chunk();
        for (c, sum) in sums.iter_mut().enumerate() {
            let base = plane(p, image, c) + pixel;
            let x = load_chunk(l, p.logits, base, t.len);
            let mut prob = l.zero_chunk();
            match scratch.as_deref_mut() {
                Some(e) if p.activation == Activation::Softmax => {
                    let e = load_chunk(l, e, base, t.len);
                    for r in 0..L::REGS {
                        set_reg(&mut prob, r, reg(l, &e, r) * reg(l, &t.inv_sum, r));
                    }
                }
                _ => {
                    for r in 0..L::REGS {
                        set_reg(&mut prob, r, activate(l, &t, reg(l, &x, r), r));
                    }
                }
            }
            if let (Some(scratch), Activation::Softmax) = (scratch.as_deref_mut(), p.activation) {
                store_chunk(l, scratch, base, t.len, &prob, false);
            }
            let g_chunk = target_chunk(l, p, image, c, &t);
            if let Some(ce) = p.cross_entropy.as_ref() {
                for r in 0..L::REGS {
                    // −ln p_c = (m − x_c) + ln Σ; a zero coefficient
                    // switches the term off even against an infinite one.
                    let x_r = reg(l, &x, r);
                    let m = reg(l, &t.max, r);
                    let nll = x_r.eq(m).select(0.0, m - x_r) + reg(l, &t.ln_sum, r);
                    let a = ce_coef(l, p, ce, &t, g_chunk.as_ref(), c, r);
                    let term = a.eq(0.0).select(0.0, a * nll);
                    let acc = reg(l, &ce_lanes, r) + term;
                    set_reg(&mut ce_lanes, r, acc);
                }
            }
            if c < p.first_class {
                continue;
            }
            let (mut inter, mut pred) = (l.zero_chunk(), l.zero_chunk());
            let (mut ground, mut mass) = (l.zero_chunk(), l.zero_chunk());
            for r in 0..L::REGS {
                let (g, valid) = target(l, p, &t, g_chunk.as_ref(), c, r);
                let pm = valid.select(reg(l, &prob, r), 0.0);
                set_reg(&mut inter, r, pm * g);
                set_reg(&mut pred, r, if p.squared_pred { pm * pm } else { pm });
                set_reg(&mut ground, r, if p.squared_pred { g * g } else { g });
                set_reg(&mut mass, r, g);
            }
            sum.intersection += f64::from(fold(l, inter));
            sum.pred += f64::from(fold(l, pred));
            let ground = f64::from(fold(l, ground));
            sum.ground += ground;
            sum.mass += if mass_differs {
                f64::from(fold(l, mass))
            } else {
                ground
            };
        }
        if p.cross_entropy.is_some() {
            ce_total = two_sum(ce_total, f64::from(fold(l, ce_lanes)), &mut ce_errors);
        }
        pixel += VIRTUAL_LANES;
    }
    Total::from_parts(ce_total, ce_errors)
}

/// `p` of class `c` in tile `t`: read back from `buf` (`stored`) or
/// computed from the logits.
#[inline(always)]
fn probability<L: Lanes>(
    l: L,
    p: &Problem<'_>,
    t: &Tile<L>,
    image: usize,
    c: usize,
    buf: &[f32],
    stored: bool,
) -> L::Chunk {
    let base = plane(p, image, c) + t.pixel;
    if stored {
        return load_chunk(l, buf, base, t.len);
    }
    let x = load_chunk(l, p.logits, base, t.len);
    let mut prob = l.zero_chunk();
    for r in 0..L::REGS {
        set_reg(&mut prob, r, activate(l, t, reg(l, &x, r), r));
    }
    prob
}

/// `v = α·g + β·∂P/∂p` of one register (`∂P/∂p = 2p` with
/// `squared_pred`, else 1) in the lanes that count (`valid`), 0 elsewhere.
#[inline(always)]
fn pixel_derivative<L: Lanes>(
    p: &Problem<'_>,
    alpha: f32,
    beta: f32,
    prob: F32s<L>,
    g: F32s<L>,
    valid: M32s<L>,
) -> F32s<L> {
    let dp = if p.squared_pred {
        2.0 * prob
    } else {
        prob.lanes().splat(1.0)
    };
    // A coefficient is ±∞ in f32 only where its f64 value was ±∞ or
    // beyond a shift's reach (`coefficient.rs`): its product with a
    // zero factor is 0, not NaN.
    let ag = g.eq(0.0).select(0.0, alpha * g);
    let bd = dp.eq(0.0).select(0.0, beta * dp);
    valid.select(ag + bd, 0.0)
}

/// `v = ∂loss/∂p` of class `c` in tile `t`: `α_c·g + β_c·∂P/∂p` in the
/// lanes that count, 0 elsewhere and for a dropped class.
#[inline(always)]
fn derivative<L: Lanes>(
    l: L,
    p: &Problem<'_>,
    t: &Tile<L>,
    image: usize,
    c: usize,
    coefficients: &[Coefficient],
    prob: &L::Chunk,
) -> L::Chunk {
    let mut v = l.zero_chunk();
    let Some(&Coefficient { alpha, beta, .. }) = coefficients.get(c) else {
        return v;
    };
    if c < p.first_class {
        return v;
    }
    let g_chunk = target_chunk(l, p, image, c, t);
    for r in 0..L::REGS {
        let (g, valid) = target(l, p, t, g_chunk.as_ref(), c, r);
        let d = pixel_derivative(p, alpha, beta, reg(l, prob, r), g, valid);
        set_reg(&mut v, r, d);
    }
    v
}

/// Pass 2 over one image: the gradient from the per-class coefficients
/// `(α_c, β_c)`: `v = α_c·g + β_c·∂P/∂p`, through the activation.
#[inline(always)]
fn pass_gradient<L: Lanes>(
    l: L,
    p: &Problem<'_>,
    image: usize,
    coefficients: &[Coefficient],
    buf: &mut [f32],
    accumulate: bool,
    p_stored: bool,
) {
    let mut pixel = 0;
    let mut t = Tile::new(l);
    while pixel < p.s {
        prefetch_next_tile(p, image, pixel, buf);
        if !p_stored {
            prefetch_next_tile(p, image, pixel, p.logits);
        }
        if p.activation == Activation::Softmax && p_stored {
            // p is in `buf`: only the labels are needed.
            let labels_only = Problem {
                activation: Activation::None,
                ..*p
            };
            tile(l, &labels_only, image, pixel, None, &mut t);
        } else {
            tile(l, p, image, pixel, None, &mut t);
        }
        // dot = Σ_k p_k v_k; with CE and probabilities also
        // A = Σ_k a_k (index targets: (1−ε)w_y + (ε/C)Σw).
        let mut dot = l.zero_chunk();
        let mut ce_total = l.zero_chunk();
        // Every class of a softmax group shares its kept classes'
        // shift (the dropped background's `v = 0` too).
        let group_up = coefficients.get(p.first_class).and_then(|k| k.up);
        for c in 0..p.c {
            let prob = probability(l, p, &t, image, c, buf, p_stored);
            let v = derivative(l, p, &t, image, c, coefficients, &prob);
            let g_chunk = target_chunk(l, p, image, c, &t);
            for r in 0..L::REGS {
                let pv = reg(l, &prob, r) * reg(l, &v, r);
                let total = reg(l, &dot, r) + pv;
                set_reg(&mut dot, r, total);
                if let Some(ce) = p.cross_entropy.as_ref() {
                    let a = ce_coef(l, p, ce, &t, g_chunk.as_ref(), c, r);
                    let total = reg(l, &ce_total, r) + a;
                    set_reg(&mut ce_total, r, total);
                }
            }
        }
        for c in 0..p.c {
            let prob = probability(l, p, &t, image, c, buf, p_stored);
            let v = derivative(l, p, &t, image, c, coefficients, &prob);
            let g_chunk = target_chunk(l, p, image, c, &t);
            let mut g = l.zero_chunk();
            for r in 0..L::REGS {
                let pr = reg(l, &prob, r);
                let mut d = pr * (reg(l, &v, r) - reg(l, &dot, r));
                if let Some((a, b)) = group_up {
                    d = d * a * b;
                }
                if let Some(ce) = p.cross_entropy.as_ref() {
                    let a = ce_coef(l, p, ce, &t, g_chunk.as_ref(), c, r);
                    let total = reg(l, &ce_total, r);
                    let ce_grad = total.eq(0.0).select(0.0, total * pr) - a;
                    d += ce_grad * ce.grad_scale;
                }
                // An ignored pixel gets 0, even where its logits
                // are NaN or make no softmax.
                set_reg(&mut g, r, reg(l, &t.labels, r).ge(0.0).select(d, 0.0));
            }
            store_chunk(l, buf, plane(p, image, c) + pixel, t.len, &g, accumulate);
        }
        pixel += VIRTUAL_LANES;
    }
}
