//! Backends: the implementations of [`crate::simd::Lanes`]. No loss logic.
//!
//! - [`scalar::Scalar`]: plain `f32`, every target.
//! - [`wide::Wide`]: `wide::f32x4`, the compile-time baseline, every target.
//! - `pulp::PulpLanes`: AVX2 / AVX-512 on x86-64 (with SSE registers) and
//!   NEON on aarch64, run-time dispatched through `crate::dispatch`.
//! - [`pair::Pair`]: two registers of any backend as one (two dependency
//!   chains interleaved, the same bits), for the pointwise kernels.

pub mod pair;
pub(crate) mod prefetch;
pub mod scalar;
pub mod wide;

#[cfg(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    all(target_arch = "aarch64", target_feature = "neon")
))]
pub mod pulp;

/// The widest register, in f32 lanes, of any backend compiled for this
/// target (AVX-512's four registers as one, a pair of pairs: 64; NEON
/// and `wide`: 4), for stack buffers that hold one register per row.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
pub const MAX_WIDTH: usize = 64;

/// The widest register, in f32 lanes, of any backend compiled for this
/// target (NEON and `wide`: 4), for stack buffers that hold one register
/// per row.
#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
pub const MAX_WIDTH: usize = 4;

/// The widest register, in f32 lanes, of any backend compiled for this
/// target (`wide`: 4), for stack buffers that hold one register per row.
#[cfg(not(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    all(target_arch = "aarch64", target_feature = "neon")
)))]
pub const MAX_WIDTH: usize = 4;

/// Whether flash counts more than speed on this target: bare-metal ARM
/// (Cortex-M), or any target built with `--cfg simdloss_small_code` (CI
/// runs host test suites that way, so these choices are tested there
/// too). Then each pointwise loss compiles one driver
/// (`kernel::pointwise::execute`) and the exact totals' f64 TwoSum is one
/// shared function (`simd::accumulate::two_sum`): the same bits, less code.
pub(crate) const SMALL_CODE: bool = cfg!(any(
    simdloss_small_code,
    all(target_arch = "arm", target_os = "none")
));

#[cfg(test)]
mod tests {
    use crate::dispatch::{Isa, LanesFn, dispatch, dispatch_paired, dispatch_quads};
    use crate::simd::{Lanes, VIRTUAL_LANES};

    /// `load_partial` / `store_partial` of every length from 0 to past a
    /// register: the first `min(len, WIDTH)` lanes are the slice's, the
    /// rest `+0.0`; a store writes exactly those lanes and nothing after.
    /// Returns the number of lengths that broke a rule (0 expected).
    struct PartialRules;

    impl LanesFn for PartialRules {
        type Output = usize;
        fn call<L: Lanes>(self, l: L) -> usize {
            let mut broken = 0;
            for len in 0..=L::WIDTH + 2 {
                #[allow(clippy::cast_precision_loss)] // small integers
                let src: [f32; VIRTUAL_LANES + 2] = core::array::from_fn(|i| i as f32 + 1.5);
                let v = crate::simd::F32s::from_raw(l, l.load_partial(&src[..len]));
                let lanes = v.to_array();
                let n = len.min(L::WIDTH);
                let loaded =
                    lanes[..n] == src[..n] && lanes[n..L::WIDTH].iter().all(|x| x.to_bits() == 0);
                let mut dst = [-7.0f32; VIRTUAL_LANES + 2];
                l.store_partial(&mut dst[..len], v.raw());
                let stored = dst[..n] == src[..n] && dst[n..].iter().all(|&x| x == -7.0);
                broken += usize::from(!(loaded && stored));
            }
            broken
        }
    }

    #[test]
    fn partial_loads_and_stores_keep_to_the_slice_on_every_backend() {
        for isa in Isa::available() {
            for (layout, broken) in [
                ("single", dispatch(isa, PartialRules)),
                ("pairs", dispatch_paired(isa, PartialRules)),
                ("quads", dispatch_quads(isa, PartialRules)),
            ] {
                assert_eq!(broken, Some(0), "{isa} {layout}");
            }
        }
    }
}
