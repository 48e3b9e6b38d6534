//! Splitting one pass over rayon's current thread pool (feature `rayon`).
//!
//! A pass is cut in two at a multiple of its *grain*, recursively, until
//! there is one piece per thread or a piece would fall below the pass's
//! minimum length; the halves run under [`rayon::join`] and their exact
//! totals are merged. The driver picks the grain so that every piece
//! starts where a single pass starts a summand: pointwise, a multiple of
//! the 256-element block (and of every periodic stream's length); softmax,
//! a row (row kernel) or a sample `n` with `n·S` a multiple of 64 (tile
//! kernel); Dice, an image. So the summands (block, row or tile partials,
//! Dice terms) are the ones a single pass makes, and because their totals
//! are exact sums, the merged value has the same bits for any thread count
//! and any split.

use crate::simd::accumulate::Total;

/// A pass that can be cut at an element index.
pub(crate) trait Split: Sized + Send {
    /// Elements in the pass.
    fn len(&self) -> usize;
    /// The passes over `..mid` and `mid..`.
    fn split_at(self, mid: usize) -> (Self, Self);
}

/// Runs `job` over rayon's current pool, in pieces that start at multiples
/// of `grain` and hold at least `min_len` elements (a job shorter than
/// `2 · min_len`, or a pool of one thread, runs `run(job)` right here);
/// merges the pieces' exact totals. `None` if a piece returns `None`.
pub(crate) fn split_reduce<J, F>(job: J, grain: usize, min_len: usize, run: &F) -> Option<Total>
where
    J: Split,
    F: Fn(J) -> Option<Total> + Sync,
{
    split_merge(job, grain, min_len, run, &|mut a: Total, b: Total| {
        a.merge(&b);
        a
    })
}

/// [`split_reduce`] for any result `T` that `merge` combines (in order:
/// the lower piece first).
pub(crate) fn split_merge<J, T, F, M>(
    job: J,
    grain: usize,
    min_len: usize,
    run: &F,
    merge: &M,
) -> Option<T>
where
    J: Split,
    T: Send,
    F: Fn(J) -> Option<T> + Sync,
    M: Fn(T, T) -> T + Sync,
{
    recurse(
        job,
        grain.max(1),
        min_len,
        rayon::current_num_threads(),
        run,
        merge,
    )
}

fn recurse<J, T, F, M>(
    job: J,
    grain: usize,
    min_len: usize,
    pieces: usize,
    run: &F,
    merge: &M,
) -> Option<T>
where
    J: Split,
    T: Send,
    F: Fn(J) -> Option<T> + Sync,
    M: Fn(T, T) -> T + Sync,
{
    let n = job.len();
    let low_pieces = pieces / 2;
    // The low part's share of the grains, for `low_pieces` of `pieces`.
    let grains = (n / grain) as u128 * low_pieces as u128 / pieces.max(1) as u128;
    let mid = usize::try_from(grains).unwrap_or(0).saturating_mul(grain);
    if pieces < 2 || mid < min_len.max(1) || n - mid < min_len {
        return run(job);
    }
    let (low, high) = job.split_at(mid);
    let (a, b) = rayon::join(
        || recurse(low, grain, min_len, low_pieces, run, merge),
        || recurse(high, grain, min_len, pieces - low_pieces, run, merge),
    );
    Some(merge(a?, b?))
}

/// The least common multiple of `a` and `b` (both ≥ 1), or `None` on
/// overflow.
pub(crate) fn lcm(a: usize, b: usize) -> Option<usize> {
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    (a / x.max(1)).checked_mul(b)
}

#[cfg(test)]
mod tests {
    use super::{Split, lcm, split_reduce};
    use crate::simd::accumulate::Total;
    use std::sync::Mutex;
    use std::vec::Vec;

    /// A pass over `start..end` that records the pieces it ran as.
    struct Range<'a> {
        start: usize,
        end: usize,
        seen: &'a Mutex<Vec<(usize, usize)>>,
    }

    impl Split for Range<'_> {
        fn len(&self) -> usize {
            self.end - self.start
        }
        fn split_at(self, mid: usize) -> (Self, Self) {
            let cut = self.start + mid;
            (
                Range {
                    start: self.start,
                    end: cut,
                    seen: self.seen,
                },
                Range {
                    start: cut,
                    end: self.end,
                    seen: self.seen,
                },
            )
        }
    }

    /// Pieces tile the pass in order, start on multiples of the grain,
    /// hold at least the minimum, and number one per thread when the pass
    /// is long enough; the merged total is the sum over the pieces.
    #[test]
    fn pieces_start_on_the_grain_and_cover_the_pass() {
        for threads in [1usize, 2, 3, 8, 64] {
            let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
                Ok(pool) => pool,
                Err(e) => panic!("a pool of {threads} threads: {e}"),
            };
            for (n, grain, min_len) in [
                (1_000_000, 256, 1 << 14),
                (5000, 1280, 1000),
                (300, 256, 100),
            ] {
                let seen = Mutex::new(Vec::new());
                let run = |r: Range<'_>| {
                    r.seen
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((r.start, r.end));
                    let mut t = Total::new();
                    #[allow(clippy::cast_precision_loss)]
                    t.add(r.len() as f64);
                    Some(t)
                };
                let total = pool.install(|| {
                    split_reduce(
                        Range {
                            start: 0,
                            end: n,
                            seen: &seen,
                        },
                        grain,
                        min_len,
                        &run,
                    )
                });
                #[allow(clippy::cast_precision_loss)]
                let want = n as f64;
                assert_eq!(total.map(|t| t.value()), Some(want));
                let mut pieces = seen
                    .into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                pieces.sort_unstable();
                let mut next = 0;
                for &(start, end) in &pieces {
                    assert_eq!(start, next, "{threads} threads, n {n}: {pieces:?}");
                    assert_eq!(start % grain, 0, "{threads} threads, n {n}: {pieces:?}");
                    assert!(
                        end - start >= min_len.min(n),
                        "{threads} threads: {pieces:?}"
                    );
                    next = end;
                }
                assert_eq!(next, n);
                let most = (n / min_len).min(threads).max(1);
                assert!(pieces.len() <= most, "{threads} threads, n {n}: {pieces:?}");
                if n >= 2 * min_len * threads && n / grain >= 4 * threads {
                    assert_eq!(pieces.len(), threads, "n {n}: {pieces:?}");
                }
            }
        }
    }

    #[test]
    fn lcm_of_block_and_stream() {
        assert_eq!(lcm(256, 1), Some(256));
        assert_eq!(lcm(256, 80), Some(1280));
        assert_eq!(lcm(256, 1000), Some(32_000));
        assert_eq!(lcm(usize::MAX, usize::MAX - 1), None);
    }
}
