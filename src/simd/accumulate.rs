//! The canonical reduction (DESIGN.md §2.3): the summation order that makes
//! every backend produce the same bits.
//!
//! Element `i` of a stream is added into virtual lane `i % 64`, in f32.
//! Every [`CHUNKS_PER_BLOCK`] chunks (256 elements) the 64 lanes are folded
//! by a fixed pairwise tree (lane `l` with lane `l + 32`, then `l + 16`, …,
//! then `l + 1`) and the block's f32 partial is added to an f64 total. A
//! backend with `WIDTH`-lane registers keeps `64 / WIDTH` registers; folding
//! register `r` with register `r + REGS / 2` is exactly the first tree levels,
//! and the last `log2(WIDTH)` levels run on the one remaining register, so
//! the adds, their order and therefore the bits are the same on every path.
//!
//! The [`Total`] of the block partials is exact: an f64 running sum whose
//! rare inexact adds hand their rounding error to an [`ExactSum`], rounded
//! once at the end. So the result is the exact sum of the partials rounded
//! to f64, whatever their order or grouping: a pass split at block
//! boundaries (over threads) and [`Total::merge`]d gives the same bits as
//! one pass.
//!
//! Error: a block of 256 non-negative terms passes each term through at most
//! 3 serial adds and 6 tree adds, so a sum of non-negative terms carries a
//! relative error of at most about `9·2⁻²⁴` plus what each term carries;
//! the total of the blocks adds one rounding (`2⁻⁵³`), at any length.

use super::exact_sum::ExactSum;
use super::lanes::{Lanes, VIRTUAL_LANES};
use super::vector::F32s;

/// 64-element chunks per block; a block's lanes are folded into f64.
pub const CHUNKS_PER_BLOCK: usize = 4;

/// Elements per block (`CHUNKS_PER_BLOCK * 64`).
pub const BLOCK_ELEMENTS: usize = CHUNKS_PER_BLOCK * VIRTUAL_LANES;

/// The exact sum of `f32` block partials, rounded once to f64.
///
/// The hot path is an f64 add and Knuth's TwoSum of it (6 flops per block
/// of 256 elements). An add that rounds sends its error (an f64 multiple of
/// `2⁻¹⁴⁹`) to an [`ExactSum`], created on first use and only touched on
/// that cold path; for sums of like-signed f32 values that happens only
/// when the total outgrows a partial by about `2²⁹`. [`Total::value`]
/// rounds `sum + errors` once. Non-finite partials make `sum` non-finite,
/// and that is the value (NaN, or the infinity), in any order.
#[derive(Clone, Copy)]
pub struct Total {
    sum: f64,
    errors: Option<ExactSum>,
}

impl Default for Total {
    fn default() -> Self {
        Self::new()
    }
}

impl Total {
    /// The empty sum (+0).
    #[inline(always)]
    #[must_use]
    pub const fn new() -> Self {
        Self {
            sum: 0.0,
            errors: None,
        }
    }

    /// A total from an f64 running sum and the errors [`two_sum`] kept.
    #[inline(always)]
    #[must_use]
    pub const fn from_parts(sum: f64, errors: Errors) -> Self {
        Self { sum, errors }
    }

    /// Adds `x` (an `f32` partial, or a [`Total`]'s running sum), exactly.
    #[inline(always)]
    pub fn add(&mut self, x: f64) {
        self.sum = two_sum(self.sum, x, &mut self.errors);
    }

    /// Adds everything `other` holds: the same value as if its adds had
    /// been made here.
    pub fn merge(&mut self, other: &Self) {
        self.add(other.sum);
        if let Some(e) = &other.errors {
            self.errors.get_or_insert_with(ExactSum::new).merge(e);
        }
    }

    /// The exact sum rounded to the nearest f64 (ties to even); NaN or an
    /// infinity if a partial was one.
    #[must_use]
    pub fn value(&self) -> f64 {
        match self.errors {
            Some(errors) if self.sum.is_finite() => {
                let mut exact = errors;
                exact.add_f64(self.sum);
                exact.to_f64()
            }
            _ => self.sum,
        }
    }
}

/// `sum + x` in f64; its rounding error, if any, into `errors`: with
/// [`Total::from_parts`], an exact sum for a hot loop that must not hold
/// the errors itself (see [`Errors`]). Exact for values that are
/// multiples of `2⁻¹⁴⁹` below `2¹⁹¹` ([`ExactSum::add_f64`]'s domain):
/// every `f32`, and every f64 cut by [`on_f32_grid`].
///
/// Inlined, except where flash counts more than speed
/// (`arch::SMALL_CODE`: on Cortex-M f64 is software, and each
/// inlined copy was a dozen library calls, 30 copies in one loss's
/// drivers): there one shared copy is called, once per block.
#[inline(always)]
pub fn two_sum(sum: f64, x: f64, errors: &mut Option<ExactSum>) -> f64 {
    if crate::arch::SMALL_CODE {
        two_sum_shared(sum, x, errors)
    } else {
        two_sum_inline(sum, x, errors)
    }
}

/// [`two_sum`]'s one shared copy on small-code targets.
#[inline(never)]
fn two_sum_shared(sum: f64, x: f64, errors: &mut Option<ExactSum>) -> f64 {
    two_sum_inline(sum, x, errors)
}

/// [`two_sum`] itself, inlined where it is called.
#[inline(always)]
fn two_sum_inline(sum: f64, x: f64, errors: &mut Option<ExactSum>) -> f64 {
    let s = sum + x;
    // TwoSum (Knuth): s + err = sum + x exactly, in any order of magnitude.
    let b = s - sum;
    let err = (sum - (s - b)) + (x - b);
    // (NaN != 0: a non-finite sum also comes here, and is left alone.)
    if err != 0.0 {
        spill(errors, err, s);
    }
    s
}

/// `x` cut to a multiple of `2⁻¹⁴⁹` (toward zero): itself unless
/// `|x| < 2⁻⁹⁷`, where an f64 has bits below that. A function of `x` alone,
/// so f64 terms cut by it (Dice's ratios) and summed by [`Total`] give the
/// same bits in any grouping.
#[inline(always)]
#[must_use]
pub fn on_f32_grid(x: f64) -> f64 {
    const BELOW: f64 = 1.0 / (1u128 << 97) as f64; // 2⁻⁹⁷, exact
    if x.abs() < BELOW {
        // |x · 2¹⁴⁹| < 2⁵²: the product, the cast and the way back are exact.
        const UP: f64 = (1u128 << 100) as f64 * (1u64 << 49) as f64;
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        let units = (x * UP) as i64 as f64;
        units / UP
    } else {
        x
    }
}

/// The rare inexact add: `err` into the exact errors (not for a non-finite
/// `sum`, whose `err` is NaN and whose value is `sum` itself). Kept out of
/// line so that the kernels' hot loops carry none of it.
#[cold]
#[inline(never)]
fn spill(errors: &mut Option<ExactSum>, err: f64, sum: f64) {
    if sum.is_finite() {
        errors.get_or_insert_with(ExactSum::new).add_f64(err);
    }
}

/// Where an [`Accumulator`] keeps the rounding errors of its f64 total:
/// a local of the driver, apart from the accumulator itself. (Inside it,
/// the cold path's access made LLVM keep the whole accumulator, its 64
/// lanes included, in memory: MSE at 4096 elements ran 1.6× slower.)
pub type Errors = Option<ExactSum>;

/// A running canonical sum: 64 f32 virtual lanes plus the exact total of
/// the folded blocks (an f64 sum in the accumulator, its rare rounding
/// errors in the caller's [`Errors`]).
pub struct Accumulator<'e, L: Lanes> {
    lanes: L::Chunk,
    chunks: usize,
    sum: f64,
    errors: &'e mut Errors,
}

impl<'e, L: Lanes> Accumulator<'e, L> {
    /// An empty sum, keeping its rounding errors in `errors` (which must
    /// be empty: `None`).
    #[inline(always)]
    pub fn new(l: L, errors: &'e mut Errors) -> Self {
        Self {
            lanes: l.zero_chunk(),
            chunks: 0,
            sum: 0.0,
            errors,
        }
    }

    /// Adds register `reg` of the current chunk (virtual lanes
    /// `reg * WIDTH .. (reg + 1) * WIDTH`).
    #[inline(always)]
    pub fn add(&mut self, reg: usize, v: F32s<L>) {
        if let Some(slot) = self.lanes.as_mut().get_mut(reg) {
            *slot = (F32s::from_raw(v.lanes(), *slot) + v).raw();
        }
    }

    /// Marks the end of a 64-element chunk; folds the block when it is full.
    #[inline(always)]
    pub fn end_chunk(&mut self, l: L) {
        self.chunks += 1;
        if self.chunks == CHUNKS_PER_BLOCK {
            self.flush(l);
        }
    }

    /// Ends the block now, after any number of chunks: its lanes are
    /// folded and added to the total (a kernel whose blocks are single
    /// chunks, so that it can be split at any chunk).
    #[inline(always)]
    pub fn end_block(&mut self, l: L) {
        self.flush(l);
    }

    /// The total: the exact sum of all block partials, rounded to f64.
    #[inline(always)]
    pub fn finish(self, l: L) -> f64 {
        self.finish_total(l).value()
    }

    /// The [`Total`] of all block partials, to [`Total::merge`] with the
    /// totals of other blocks (a pass split at block boundaries).
    #[inline(always)]
    pub fn finish_total(mut self, l: L) -> Total {
        if self.chunks > 0 {
            self.flush(l);
        }
        Total {
            sum: self.sum,
            errors: *self.errors,
        }
    }

    #[inline(always)]
    fn flush(&mut self, l: L) {
        self.sum = two_sum(self.sum, f64::from(fold(l, self.lanes)), self.errors);
        self.lanes = l.zero_chunk();
        self.chunks = 0;
    }
}

/// Folds 64 virtual lanes into one f32 by the canonical pairwise tree.
#[inline(always)]
pub fn fold<L: Lanes>(l: L, chunk: L::Chunk) -> f32 {
    let mut chunk = chunk;
    let regs = chunk.as_mut();
    let mut half = regs.len() / 2;
    while half > 0 {
        let (low, high) = regs.split_at_mut(half);
        for (a, b) in low.iter_mut().zip(high.iter()) {
            *a = (F32s::from_raw(l, *a) + F32s::from_raw(l, *b)).raw();
        }
        half /= 2;
    }
    let mut lanes = [0.0f32; VIRTUAL_LANES];
    if let Some(&first) = regs.first() {
        const { assert!(VIRTUAL_LANES >= 1) };
        if L::WIDTH <= VIRTUAL_LANES {
            // SAFETY: `lanes` holds VIRTUAL_LANES f32 and WIDTH <= VIRTUAL_LANES
            // was just checked, so the WIDTH-lane store stays inside it.
            unsafe { l.store(lanes.as_mut_ptr(), F32s::from_raw(l, first)) };
        }
    }
    let mut width = L::WIDTH.min(VIRTUAL_LANES);
    while width > 1 {
        width /= 2;
        let (low, high) = lanes.split_at_mut(width);
        for (a, b) in low.iter_mut().zip(high.iter()) {
            *a += *b;
        }
    }
    lanes[0]
}

#[cfg(test)]
mod tests {
    use super::{Total, on_f32_grid};
    use crate::simd::exact_sum::ExactSum;
    use std::vec::Vec;

    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    /// Partials of every magnitude and sign (so that many f64 adds round),
    /// and plain ones of like sign (so that none does).
    fn partials(seed: u64, n: usize, spread: bool) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
                let u = (state >> 40) as f32 / (1u64 << 24) as f32;
                if spread {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
                    let e = (state % 200) as i32 - 100;
                    let sign = if state & (1 << 30) == 0 { 1.0 } else { -1.0 };
                    // 2^e from its bits (miri perturbs `powi`).
                    #[allow(clippy::cast_sign_loss)]
                    let scale = f32::from_bits(((e + 127) as u32) << 23);
                    sign * (0.5 + u) * scale
                } else {
                    u
                }
            })
            .collect()
    }

    /// The total is the exact sum rounded once: the same bits as the
    /// superaccumulator, for every split of the partials into groups and
    /// every order of merging them.
    #[test]
    fn total_is_exact_for_every_grouping() {
        for (seed, spread) in [(1, true), (2, true), (3, false), (4, true)] {
            // (A tenth under miri, which interprets every add.)
            let xs = partials(seed, if cfg!(miri) { 300 } else { 3000 }, spread);
            let mut exact = ExactSum::new();
            xs.iter().for_each(|&x| exact.add(x));
            let want = exact.to_f64();
            let mut one = Total::new();
            xs.iter().for_each(|&x| one.add(f64::from(x)));
            assert!(same(one.value(), want), "seed {seed}: one pass");
            for groups in [2usize, 3, 7, 64] {
                let size = xs.len().div_ceil(groups);
                let totals: Vec<Total> = xs
                    .chunks(size)
                    .map(|part| {
                        let mut t = Total::new();
                        part.iter().for_each(|&x| t.add(f64::from(x)));
                        t
                    })
                    .collect();
                let mut forward = Total::new();
                totals.iter().for_each(|t| forward.merge(t));
                let mut backward = Total::new();
                totals.iter().rev().for_each(|t| backward.merge(t));
                assert!(same(forward.value(), want), "seed {seed}, {groups} groups");
                assert!(
                    same(backward.value(), want),
                    "seed {seed}, {groups} reversed"
                );
            }
        }
    }

    /// Like-signed partials of one scale never round in f64: the total is
    /// the plain f64 sum, and the error store is never created.
    #[test]
    fn plain_sums_never_spill() {
        let xs = partials(5, if cfg!(miri) { 1000 } else { 10_000 }, false);
        let mut t = Total::new();
        let mut plain = 0.0f64;
        for &x in &xs {
            t.add(f64::from(x));
            plain += f64::from(x);
        }
        assert!(t.errors.is_none());
        assert!(same(t.value(), plain));
    }

    /// `on_f32_grid` keeps every value from 2⁻⁹⁷ up (already on the grid),
    /// cuts smaller ones toward zero to a multiple of 2⁻¹⁴⁹, and the cut
    /// values sum exactly in any grouping.
    #[test]
    fn f32_grid_cut() {
        let unit = f64::from(f32::from_bits(1)); // 2^-149
        let from = f64::from_bits(((1023 - 97) as u64) << 52); // 2^-97
        for x in [from, -from, 1.0 / 3.0, -1e300, 1e-20, f64::MAX] {
            assert_eq!(on_f32_grid(x).to_bits(), x.to_bits(), "{x:e}");
        }
        let below = f64::from_bits(from.to_bits() - 1);
        for (x, want) in [
            // below = (2^53 − 1)·2^-150: cut to (2^52 − 1)·2^-149.
            (below, below - unit / 2.0),
            (unit * 1.75, unit),
            (-unit * 1.75, -unit),
            (unit * 0.5, 0.0),
            (1e-300, 0.0),
            (3.0 * unit, 3.0 * unit),
        ] {
            let got = on_f32_grid(x);
            assert_eq!(
                got.abs().to_bits(),
                want.abs().to_bits(),
                "{x:e}: {got:e} vs {want:e}"
            );
            #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
            let whole = ((got / unit) as i64) as f64;
            assert_eq!(got / unit, whole, "{x:e}");
        }
        assert!(on_f32_grid(f64::NAN).is_nan());
        // Cut terms are multiples of 2^-149: grouping changes no bit.
        let terms: std::vec::Vec<f64> = (1..200)
            .map(|k| on_f32_grid(f64::from(k) * 1.37e-35 + 1.0 / f64::from(k)))
            .collect();
        let mut one = Total::new();
        terms.iter().for_each(|&t| one.add(t));
        let (a, b) = terms.split_at(77);
        let (mut ta, mut tb) = (Total::new(), Total::new());
        a.iter().for_each(|&t| ta.add(t));
        b.iter().rev().for_each(|&t| tb.add(t));
        tb.merge(&ta);
        assert_eq!(one.value().to_bits(), tb.value().to_bits());
    }

    #[test]
    fn non_finite_partials() {
        let mut t = Total::new();
        t.add(1e30);
        t.add(f64::from(f32::MIN_POSITIVE));
        t.add(f64::INFINITY);
        assert!(same(t.value(), f64::INFINITY));
        let mut u = Total::new();
        u.add(f64::NEG_INFINITY);
        t.merge(&u);
        assert!(t.value().is_nan());
        let mut v = Total::new();
        v.add(f64::NAN);
        v.add(2.0);
        assert!(v.value().is_nan());
    }
}
