//! The range check of BCE's probability input (`0 ≤ p ≤ 1`, NaN passes),
//! vectorized on the loss's instruction set: a scalar scan before the
//! kernel had cost 12% of a `BinaryCrossEntropy` call at 2¹⁸ elements
//! (AVX-512; `perf record -e cpu-clock`), since it runs on its own, before
//! anything is written, so that nothing is written on error.

use crate::dispatch::{Isa, LanesFn, dispatch_quads};
use crate::simd::{F32s, Lanes};

/// Elements per block: a block's lanes are tested once, and only a block
/// with a bad lane is searched element by element.
const BLOCK: usize = 256;

/// The first element of `input` below 0 or above 1 (NaN is neither), as
/// `(index, value)`, or `None`. Runs on `isa` where this CPU can, else on the
/// scalar path (the answer is the same).
pub(crate) fn first_outside_unit_interval(isa: Isa, input: &[f32]) -> Option<(usize, f32)> {
    #[cfg(feature = "rayon")]
    {
        // Split like the binary losses' pointwise passes: the lowest
        // piece's outlier first.
        let piece = Piece { input, start: 0 };
        super::parallel::split_merge(
            piece,
            BLOCK,
            super::pointwise::PARALLEL_MIN_COMPUTE_BOUND,
            &|p: Piece<'_>| Some(scan(isa, p.input).map(|(i, v)| (p.start + i, v))),
            &|low: Option<(usize, f32)>, high| low.or(high),
        )
        .flatten()
    }
    #[cfg(not(feature = "rayon"))]
    scan(isa, input)
}

/// [`first_outside_unit_interval`] on the calling thread.
fn scan(isa: Isa, input: &[f32]) -> Option<(usize, f32)> {
    if input.len() <= BLOCK {
        // One block: a plain scan costs less than entering the ISA's
        // context (a small call's fixed cost). Branch-free, so that the
        // compiler vectorizes it; the element is searched on failure only.
        #[allow(clippy::manual_range_contains)] // NaN must pass
        let bad = input
            .iter()
            .fold(false, |acc, &p| acc | (p < 0.0) | (p > 1.0));
        return if bad { first_outlier(input, 0) } else { None };
    }
    dispatch_quads(isa, Scan { input })
        .or_else(|| dispatch_quads(Isa::Scalar, Scan { input }))
        .flatten()
}

/// A piece of the input and where it starts, for the split over threads.
#[cfg(feature = "rayon")]
struct Piece<'a> {
    input: &'a [f32],
    start: usize,
}

#[cfg(feature = "rayon")]
impl super::parallel::Split for Piece<'_> {
    fn len(&self) -> usize {
        self.input.len()
    }
    fn split_at(self, mid: usize) -> (Self, Self) {
        let (low, high) = self.input.split_at(mid.min(self.input.len()));
        let start = self.start + low.len();
        (
            Piece {
                input: low,
                start: self.start,
            },
            Piece { input: high, start },
        )
    }
}

/// [`first_outside_unit_interval`] on one backend.
struct Scan<'a> {
    input: &'a [f32],
}

impl LanesFn for Scan<'_> {
    type Output = Option<(usize, f32)>;
    #[inline(always)]
    fn call<L: Lanes>(self, l: L) -> Option<(usize, f32)> {
        for (b, block) in self.input.chunks(BLOCK).enumerate() {
            // Rare: decide element by element.
            if block_is_suspect(l, block)
                && let Some(found) = first_outlier(block, b * BLOCK)
            {
                return Some(found);
            }
        }
        None
    }
}

/// The first element of `block` below 0 or above 1, as `(start + index,
/// value)`, by scalar compares.
#[allow(clippy::manual_range_contains)] // NaN must pass: not `!contains`
fn first_outlier(block: &[f32], start: usize) -> Option<(usize, f32)> {
    let (i, &p) = block
        .iter()
        .enumerate()
        .find(|&(_, &p)| p < 0.0 || p > 1.0)?;
    Some((start + i, p))
}

/// Whether some element of `block` may be outside `[0, 1]`: above 1, or
/// below the smallest normal float (so negative, zero or subnormal), which
/// [`Scan`] then decides element by element. The compare against
/// `f32::MIN_POSITIVE` rather than 0 is what keeps the answer the same on
/// 32-bit ARM's NEON, which compares a subnormal as zero: a negative
/// subnormal is never passed by the vector test alone. `bad` is set to 1
/// in such a lane by compares and selects (no branch per register).
#[inline(always)]
fn block_is_suspect<L: Lanes>(l: L, block: &[f32]) -> bool {
    let mut bad = l.splat(0.0);
    let mut registers = block.chunks_exact(L::WIDTH);
    for register in registers.by_ref() {
        // SAFETY: `register` holds exactly `L::WIDTH` f32 (chunks_exact).
        bad = flag(bad, unsafe { l.load(register.as_ptr()) });
    }
    if !registers.remainder().is_empty() {
        let Some(last) = block.len().checked_sub(L::WIDTH) else {
            // Fewer than `L::WIDTH` elements: let the scan decide.
            return true;
        };
        // The last `L::WIDTH` elements again, overlapping the registers
        // before (a masked load would pad with +0, a suspect lane).
        // SAFETY: `last + L::WIDTH == block.len()`, so the load reads
        // inside `block`.
        bad = flag(bad, unsafe { l.load(block.as_ptr().add(last)) });
    }
    bad.gt(0.0).any()
}

/// `bad`, set to 1 in the lanes where `p` is suspect (see
/// [`block_is_suspect`]). A function, not a closure, so that it is
/// inlined into the target-feature context (DESIGN.md §1).
#[inline(always)]
fn flag<L: Lanes>(bad: F32s<L>, p: F32s<L>) -> F32s<L> {
    p.lt(f32::MIN_POSITIVE)
        .select(1.0, p.gt(1.0).select(1.0, bad))
}

#[cfg(test)]
mod tests {
    use super::first_outside_unit_interval;
    use crate::dispatch::Isa;
    use std::vec::Vec;

    #[test]
    fn finds_the_first_outlier_on_every_isa() {
        for isa in Isa::available() {
            for n in [0usize, 1, 15, 16, 17, 255, 256, 257, 700] {
                let ok: Vec<f32> = (0..n).map(|i| (i % 11) as f32 / 10.0).collect();
                assert_eq!(first_outside_unit_interval(isa, &ok), None, "{isa} n={n}");
                let mut with_nan = ok.clone();
                if n > 0 {
                    with_nan[n / 2] = f32::NAN;
                    with_nan[n - 1] = -0.0;
                    assert_eq!(first_outside_unit_interval(isa, &with_nan), None);
                }
                for bad_at in [0, n / 3, n.saturating_sub(1)] {
                    for bad in [-1e-30f32, 1.000_000_1, f32::INFINITY, f32::NEG_INFINITY] {
                        if n == 0 {
                            continue;
                        }
                        let mut v = ok.clone();
                        v[bad_at] = bad;
                        if bad_at + 1 < n {
                            v[n - 1] = 2.0;
                        }
                        assert_eq!(
                            first_outside_unit_interval(isa, &v).map(|(i, _)| i),
                            Some(bad_at),
                            "{isa} n={n} at {bad_at} {bad}"
                        );
                    }
                }
            }
        }
    }

    /// Split over pools of 1, 2, 3 and 8 threads: the first outlier of
    /// the whole input, wherever the pieces fall.
    #[cfg(feature = "rayon")]
    #[test]
    fn finds_the_first_outlier_split_over_threads() {
        let n = 5 * super::super::pointwise::PARALLEL_MIN_COMPUTE_BOUND + 77;
        let ok: Vec<f32> = (0..n).map(|i| (i % 7) as f32 / 6.0).collect();
        for threads in [1, 2, 3, 8] {
            let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
                Ok(pool) => pool,
                Err(e) => panic!("a pool of {threads} threads: {e}"),
            };
            pool.install(|| {
                assert_eq!(first_outside_unit_interval(Isa::best(), &ok), None);
                for at in [0, n / 3, n / 2 + 1, n - 1] {
                    let mut v = ok.clone();
                    v[at] = -2.0;
                    v[n - 1] = 3.0;
                    if at == n - 1 {
                        v[at] = -2.0;
                    }
                    let want = Some((at, v[at]));
                    assert_eq!(first_outside_unit_interval(Isa::best(), &v), want);
                }
            });
        }
    }
}
