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
