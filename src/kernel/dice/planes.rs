//! The element-wise activations (sigmoid, none): both passes stream one
//! class plane `x[n, c, ..]` at a time, a register at a time, with the
//! canonical accumulation of the pointwise losses (pixel `s` in virtual
//! lane `s % 64`, a block of 256 pixels folded by the fixed tree, block
//! partials summed exactly), so a plane's sums are one fold per 256
//! pixels and no 64-lane copies of the tile.
//!
//! Softmax mixes the classes of a pixel and keeps the tile loop of
//! [`super::pass_sums`].

use super::coefficient::Coefficient;
use super::ratio::{Ratio, Sums};
use super::{Activation, Problem, Target, pixel_derivative, plane};
use crate::arch::SMALL_CODE;
use crate::simd::accumulate::{Accumulator, Errors};
use crate::simd::math::{sigmoid_and_slope, sigmoid_exp, sigmoid_pair_from};
use crate::simd::{F32s, Lanes, M32s, VIRTUAL_LANES};

/// Writes one tile's labels into `labels`: per lane the class as f32,
/// `−1` for an ignored label and past the plane's end; `0` for every pixel
/// with probability targets. (Filled in place: a copy of the array
/// returned by value stalled the first register's load on the stores.)
#[inline(always)]
fn fill_labels(
    p: &Problem<'_>,
    image: usize,
    pixel: usize,
    len: usize,
    labels: &mut [f32; VIRTUAL_LANES],
) {
    let (run, rest) = labels.split_at_mut(len.min(VIRTUAL_LANES));
    match p.target {
        Target::Index(classes) => classes.classes_f32(image * p.s + pixel, run),
        Target::Probabilities(_) => run.fill(0.0),
    }
    rest.fill(-1.0);
}

/// Register `r` of the tile `src[pixel..pixel + len]`: unmasked when the
/// tile is full (`FULL`), else `+0.0` past `len`.
#[inline(always)]
fn load<L: Lanes, const FULL: bool>(
    l: L,
    src: &[f32],
    pixel: usize,
    len: usize,
    r: usize,
) -> F32s<L> {
    let lane0 = pixel + r * L::WIDTH;
    let end = if FULL { lane0 + L::WIDTH } else { pixel + len };
    match src.get(lane0..end.max(lane0)) {
        // SAFETY: a full tile's register slice holds WIDTH readable f32.
        Some(s) if FULL => unsafe { l.load(s.as_ptr()) },
        Some(s) => F32s::from_raw(l, l.load_partial(s)),
        None => l.splat(0.0),
    }
}

/// Writes (or adds) register `r` of the tile `dst[pixel..pixel + len]`,
/// nothing past `len`.
#[inline(always)]
fn store<L: Lanes, const FULL: bool>(
    l: L,
    dst: &mut [f32],
    pixel: usize,
    len: usize,
    r: usize,
    v: F32s<L>,
    accumulate: bool,
) {
    let lane0 = pixel + r * L::WIDTH;
    let end = if FULL { lane0 + L::WIDTH } else { pixel + len };
    let Some(d) = dst.get_mut(lane0..end.max(lane0)) else {
        return;
    };
    let v = if accumulate {
        load::<L, FULL>(l, d, 0, d.len(), 0) + v
    } else {
        v
    };
    if FULL {
        // SAFETY: a full tile's register slice holds WIDTH writable f32.
        unsafe { l.store(d.as_mut_ptr(), v) }
    } else {
        l.store_partial(d, v.raw());
    }
}

/// The target `g` of class `c` in a register and the mask of lanes that
/// count, from the tile's labels (index targets; one channel: the
/// foreground mask, label 1) or the target plane.
#[inline(always)]
fn target<L: Lanes>(
    p: &Problem<'_>,
    c: usize,
    label: F32s<L>,
    given: Option<F32s<L>>,
) -> (F32s<L>, M32s<L>) {
    let valid = label.ge(0.0);
    let g = match given {
        Some(g) => valid.select(g, 0.0),
        None if p.c == 1 => label.eq(1.0).select(1.0, 0.0),
        #[allow(clippy::cast_precision_loss)] // classes <= 2^24
        None => label.eq(c as f32).select(1.0, 0.0),
    };
    (g, valid)
}

/// The four canonical sums of one plane.
struct PlaneSums<'e, L: Lanes> {
    intersection: Accumulator<'e, L>,
    pred: Accumulator<'e, L>,
    ground: Accumulator<'e, L>,
    /// `Σ g` apart from `Σ g²`, needed only by the generalized weights
    /// with `squared_pred` (else `ground` serves and this stays empty).
    mass: Accumulator<'e, L>,
    mass_differs: bool,
}

/// Pass 1 over one image: adds each kept class plane's sums to `sums`;
/// with `keep` (an overwritten gradient, sigmoid), stores `e^−|x|` there
/// for pass 2.
#[inline(always)]
pub(super) fn pass_sums<L: Lanes>(
    l: L,
    p: &Problem<'_>,
    image: usize,
    sums: &mut [Sums],
    mut keep: Option<&mut [f32]>,
) {
    // The generalized weights need `Σ g` apart from `Σ g²`.
    let mass_differs = p.squared_pred && p.ratio == Ratio::Generalized;
    for (c, sum) in sums.iter_mut().enumerate().skip(p.first_class) {
        let base = plane(p, image, c);
        let x = p.logits.get(base..base + p.s).unwrap_or(&[]);
        let given = match p.target {
            Target::Probabilities(t) => t.get(base..base + p.s),
            Target::Index(_) => None,
        };
        let kept = keep
            .as_deref_mut()
            .and_then(|k| k.get_mut(base..base + p.s));
        let mut errors: [Errors; 4] = [None, None, None, None];
        let [e0, e1, e2, e3] = &mut errors;
        let mut acc = PlaneSums {
            intersection: Accumulator::new(l, e0),
            pred: Accumulator::new(l, e1),
            ground: Accumulator::new(l, e2),
            mass: Accumulator::new(l, e3),
            mass_differs,
        };
        let mut pass = SumsPass {
            x,
            given,
            kept,
            acc: &mut acc,
        };
        each_tile(l, p, image, c, &mut pass);
        let ground = acc.ground.finish(l);
        sum.intersection += acc.intersection.finish(l);
        sum.pred += acc.pred.finish(l);
        sum.ground += ground;
        sum.mass += if acc.mass_differs {
            acc.mass.finish(l)
        } else {
            ground
        };
    }
}

/// Where a tile is and what its labels are.
struct Tile<'a> {
    pixel: usize,
    len: usize,
    c: usize,
    labels: &'a [f32; VIRTUAL_LANES],
}

impl Tile<'_> {
    #[inline(always)]
    fn label<L: Lanes>(&self, l: L, r: usize) -> F32s<L> {
        load::<L, true>(l, self.labels, 0, VIRTUAL_LANES, r)
    }
}

/// What a pass does with each tile of a class plane.
trait TilePass<L: Lanes> {
    /// One tile (`FULL`: 64 pixels, unmasked loads and stores).
    fn tile<const FULL: bool>(&mut self, l: L, p: &Problem<'_>, t: &Tile<'_>);
}

/// Walks the tiles of class `c`'s plane of `image`, 64 pixels each (the
/// last one masked), with their labels filled in place. (Where flash
/// counts more than speed, `SMALL_CODE`, every tile takes the masked
/// path: one copy of each pass.)
#[inline(always)]
fn each_tile<L: Lanes, P: TilePass<L>>(
    l: L,
    p: &Problem<'_>,
    image: usize,
    c: usize,
    pass: &mut P,
) {
    let mut labels = [-1.0f32; VIRTUAL_LANES];
    let mut pixel = 0;
    while pixel < p.s {
        let len = (p.s - pixel).min(VIRTUAL_LANES);
        fill_labels(p, image, pixel, len, &mut labels);
        let tile = Tile {
            pixel,
            len,
            c,
            labels: &labels,
        };
        if len == VIRTUAL_LANES && !SMALL_CODE {
            pass.tile::<true>(l, p, &tile);
        } else {
            pass.tile::<false>(l, p, &tile);
        }
        pixel += VIRTUAL_LANES;
    }
}

/// Pass 1 on a plane: its logits, probability targets, where `e^−|x|` is
/// kept, and the sums.
struct SumsPass<'a, 'e, L: Lanes> {
    x: &'a [f32],
    given: Option<&'a [f32]>,
    kept: Option<&'a mut [f32]>,
    acc: &'a mut PlaneSums<'e, L>,
}

impl<L: Lanes> TilePass<L> for SumsPass<'_, '_, L> {
    #[inline(always)]
    fn tile<const FULL: bool>(&mut self, l: L, p: &Problem<'_>, t: &Tile<'_>) {
        sums_tile::<L, FULL>(
            l,
            p,
            t,
            self.x,
            self.given,
            self.kept.as_deref_mut(),
            self.acc,
        );
    }
}

/// Pass 2 on a plane: the class's coefficients, its logits and targets,
/// and its gradient.
struct GradientPass<'a> {
    class: &'a Class,
    x: &'a [f32],
    given: Option<&'a [f32]>,
    out: &'a mut [f32],
}

impl<L: Lanes> TilePass<L> for GradientPass<'_> {
    #[inline(always)]
    fn tile<const FULL: bool>(&mut self, l: L, p: &Problem<'_>, t: &Tile<'_>) {
        gradient_tile::<L, FULL>(l, p, t, self.class, self.x, self.given, self.out);
    }
}

/// One tile of pass 1 (`FULL`: 64 pixels, unmasked loads).
#[inline(always)]
fn sums_tile<L: Lanes, const FULL: bool>(
    l: L,
    p: &Problem<'_>,
    t: &Tile,
    x: &[f32],
    given: Option<&[f32]>,
    mut kept: Option<&mut [f32]>,
    acc: &mut PlaneSums<'_, L>,
) {
    for r in 0..L::REGS {
        let x_r = load::<L, FULL>(l, x, t.pixel, t.len, r);
        let prob = if p.activation == Activation::Sigmoid {
            let e = sigmoid_exp(x_r);
            if let Some(k) = kept.as_deref_mut() {
                store::<L, FULL>(l, k, t.pixel, t.len, r, e, false);
            }
            sigmoid_pair_from(x_r, e).0
        } else {
            x_r
        };
        let g_r = given.map(|g| load::<L, FULL>(l, g, t.pixel, t.len, r));
        let (g, valid) = target(p, t.c, t.label(l, r), g_r);
        let pm = valid.select(prob, 0.0);
        acc.intersection.add(r, pm * g);
        acc.pred.add(r, if p.squared_pred { pm * pm } else { pm });
        acc.ground.add(r, if p.squared_pred { g * g } else { g });
        if acc.mass_differs {
            acc.mass.add(r, g);
        }
    }
    acc.intersection.end_chunk(l);
    acc.pred.end_chunk(l);
    acc.ground.end_chunk(l);
    if acc.mass_differs {
        acc.mass.end_chunk(l);
    }
}

/// Pass 2 over one image: `scale·∂loss/∂x = v·σ(x)·σ(−x)` (sigmoid) or
/// `v` (none), `v = α_c·g + β_c·∂P/∂p` in the lanes that count, 0
/// elsewhere and for a dropped class; `e^−|x|` read back from `buf` where
/// pass 1 kept it (`p_stored`).
#[inline(always)]
pub(super) fn pass_gradient<L: Lanes>(
    l: L,
    p: &Problem<'_>,
    image: usize,
    coefficients: &[Coefficient],
    buf: &mut [f32],
    accumulate: bool,
    p_stored: bool,
) {
    for (c, coefficient) in coefficients.iter().enumerate().take(p.c) {
        let base = plane(p, image, c);
        let x = p.logits.get(base..base + p.s).unwrap_or(&[]);
        let given = match p.target {
            Target::Probabilities(t) => t.get(base..base + p.s),
            Target::Index(_) => None,
        };
        let Some(out) = buf.get_mut(base..base + p.s) else {
            return;
        };
        let class = Class {
            coefficient: if c < p.first_class {
                Coefficient::ZERO
            } else {
                *coefficient
            },
            // A dropped class's e was not kept by pass 1.
            stored: p_stored && c >= p.first_class,
            accumulate,
        };
        let mut pass = GradientPass {
            class: &class,
            x,
            given,
            out,
        };
        each_tile(l, p, image, c, &mut pass);
    }
}

/// What pass 2 needs of a class.
struct Class {
    coefficient: Coefficient,
    stored: bool,
    accumulate: bool,
}

/// One tile of pass 2 (`FULL`: 64 pixels, unmasked loads and stores).
#[inline(always)]
fn gradient_tile<L: Lanes, const FULL: bool>(
    l: L,
    p: &Problem<'_>,
    t: &Tile,
    class: &Class,
    x: &[f32],
    given: Option<&[f32]>,
    out: &mut [f32],
) {
    let Coefficient { alpha, beta, up } = class.coefficient;
    let sigmoid = p.activation == Activation::Sigmoid;
    for r in 0..L::REGS {
        let x_r = load::<L, FULL>(l, x, t.pixel, t.len, r);
        // p, and σ(−x) for the sigmoid's derivative p·σ(−x).
        // p, and the sigmoid's slope σ(x)·σ(−x) = ∂p/∂x.
        let (prob, slope) = if sigmoid {
            // e^−|x| kept by pass 1, or recomputed (the same bits).
            let e = if class.stored {
                load::<L, FULL>(l, out, t.pixel, t.len, r)
            } else {
                sigmoid_exp(x_r)
            };
            sigmoid_and_slope(x_r, e)
        } else {
            (x_r, l.splat(1.0))
        };
        let label = t.label(l, r);
        let g_r = given.map(|g| load::<L, FULL>(l, g, t.pixel, t.len, r));
        let (g, valid) = target(p, t.c, label, g_r);
        let v = pixel_derivative(p, alpha, beta, prob, g, valid);
        let mut d = if sigmoid { v * slope } else { v };
        if let Some((a, b)) = up {
            d = d * a * b;
        }
        // An ignored pixel gets 0, even where its logits are NaN.
        let d = valid.select(d, 0.0);
        store::<L, FULL>(l, out, t.pixel, t.len, r, d, class.accumulate);
    }
}
