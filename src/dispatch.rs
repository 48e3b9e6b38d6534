//! Choosing the instruction set: CPU detection, cached once in an atomic,
//! and the explicit choice tests and benchmarks use.
//!
//! | target | paths, best first |
//! |---|---|
//! | x86-64 (with SSE) | AVX-512 (F+BW+CD+DQ+VL), AVX2+FMA, `wide` (SSE2), scalar |
//! | aarch64 | NEON, `wide`, scalar |
//! | anything else (Cortex-M, x86_64-unknown-none, wasm32, …) | `wide`, scalar |
//!
//! On x86-64 with the `std` feature detection uses `is_x86_feature_detected!`.
//! Without it, it reads CPUID and XGETBV itself: the OS must have enabled
//! the AVX (XCR0 bits 1–2) or AVX-512 (bits 1–2 and 5–7) register state, a
//! check pulp's own no-std detection skips. pulp tokens are only built after
//! this detection says yes.

use core::sync::atomic::{AtomicU8, Ordering};

#[cfg(target_arch = "x86_64")]
pub mod cpuid;

use crate::simd::Lanes;

/// An instruction set a kernel can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// Plain `f32` code. Every target.
    Scalar,
    /// `wide::f32x4`, the compile-time baseline (SSE2, NEON on aarch64,
    /// simd128). Every target; where `wide` has no vectors (Cortex-M,
    /// 32-bit ARM, soft-float x86-64, wasm32 without simd128) it runs the
    /// scalar code, which gives the same bits.
    Wide,
    /// AVX2 + FMA (x86-64-v3), through pulp. FMA is never used for math.
    Avx2,
    /// AVX-512 F/BW/CD/DQ/VL (x86-64-v4), through pulp.
    Avx512,
    /// NEON on aarch64, through pulp.
    Neon,
}

impl Isa {
    /// Every variant, best first.
    pub const ALL: [Isa; 5] = [Isa::Avx512, Isa::Avx2, Isa::Neon, Isa::Wide, Isa::Scalar];

    /// The best instruction set this CPU supports, detected once and cached.
    #[must_use]
    pub fn best() -> Isa {
        static BEST: AtomicU8 = AtomicU8::new(u8::MAX);
        let cached = BEST.load(Ordering::Relaxed);
        if let Some(isa) = Isa::from_u8(cached) {
            return isa;
        }
        let isa = Isa::ALL
            .into_iter()
            .find(|isa| isa.is_available())
            .unwrap_or(Isa::Scalar);
        BEST.store(isa as u8, Ordering::Relaxed);
        isa
    }

    /// Whether this CPU (and this build) can run `self`. Detected once and
    /// cached (every kernel call checks its ISA: a small call should not
    /// pay a dozen feature lookups).
    #[must_use]
    pub fn is_available(self) -> bool {
        match self {
            Isa::Scalar | Isa::Wide => true,
            Isa::Avx2 => x86_detected() & X86_AVX2 != 0,
            Isa::Avx512 => x86_detected() & X86_AVX512 != 0,
            Isa::Neon => cfg!(all(target_arch = "aarch64", target_feature = "neon")),
        }
    }

    /// The instruction sets this CPU can run, best first.
    pub fn available() -> impl Iterator<Item = Isa> {
        Isa::ALL.into_iter().filter(|isa| isa.is_available())
    }

    /// A short lower-case name (`"avx512"`, `"scalar"`, …).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Wide => "wide",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Neon => "neon",
        }
    }

    fn from_u8(v: u8) -> Option<Isa> {
        Isa::ALL.into_iter().find(|isa| *isa as u8 == v)
    }
}

/// [`x86_detected`]'s bits: AVX2 usable, AVX-512 usable, detection done.
const X86_AVX2: u8 = 1;
const X86_AVX512: u8 = 2;
const X86_DETECTED: u8 = 0x80;

/// The x86 detection (`x86::avx2_available`, `x86::avx512_available`),
/// run once and cached in an atomic (a race runs it twice, with the same
/// answer).
fn x86_detected() -> u8 {
    static DETECTED: AtomicU8 = AtomicU8::new(0);
    let cached = DETECTED.load(Ordering::Relaxed);
    if cached & X86_DETECTED != 0 {
        return cached;
    }
    let mut bits = X86_DETECTED;
    if x86::avx2_available() {
        bits |= X86_AVX2;
    }
    if x86::avx512_available() {
        bits |= X86_AVX512;
    }
    DETECTED.store(bits, Ordering::Relaxed);
    bits
}

impl core::fmt::Display for Isa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A computation generic over the backend: `dispatch` calls it with the
/// [`Lanes`] token of the chosen instruction set.
pub(crate) trait LanesFn {
    type Output;
    fn call<L: Lanes>(self, l: L) -> Self::Output;
}

/// Runs `f` on `isa`. Returns `None` if this CPU cannot run `isa`.
#[inline]
pub(crate) fn dispatch<F: LanesFn>(isa: Isa, f: F) -> Option<F::Output> {
    match isa {
        // Where `Isa::Wide` is the scalar backend, one call site for both,
        // so that each kernel is inlined once (flash on a microcontroller).
        Isa::Scalar | Isa::Wide if !WIDE_VECTORS => Some(f.call(crate::arch::scalar::Scalar)),
        Isa::Scalar => Some(f.call(crate::arch::scalar::Scalar)),
        Isa::Wide => Some(run_wide(f)),
        Isa::Avx2 => x86::run_avx2::<F, false>(f),
        Isa::Avx512 => x86::run_avx512::<F, 1>(f),
        Isa::Neon => neon::run(f),
    }
}

/// Whether `wide` has real vectors on this target (else `Isa::Wide` runs
/// the scalar backend: [`run_wide`]).
const WIDE_VECTORS: bool = cfg!(any(
    target_feature = "sse",
    target_feature = "simd128",
    all(target_arch = "aarch64", target_feature = "neon")
));

/// `Isa::Wide` where `wide` has real vectors (SSE on x86, simd128 on
/// wasm32, NEON on aarch64: its own choice when it is compiled).
#[cfg(any(
    target_feature = "sse",
    target_feature = "simd128",
    all(target_arch = "aarch64", target_feature = "neon")
))]
#[inline(always)]
fn run_wide<F: LanesFn>(f: F) -> F::Output {
    f.call(crate::arch::wide::Wide)
}

/// `Isa::Wide` where `wide::f32x4` is a plain `[f32; 4]` (Cortex-M, 32-bit
/// ARM, soft-float x86-64, wasm32 without simd128): the scalar backend,
/// the same plain-array code and the same bits, so that every kernel is
/// compiled once instead of twice (flash on a microcontroller).
#[cfg(not(any(
    target_feature = "sse",
    target_feature = "simd128",
    all(target_arch = "aarch64", target_feature = "neon")
)))]
#[inline(always)]
fn run_wide<F: LanesFn>(f: F) -> F::Output {
    f.call(crate::arch::scalar::Scalar)
}

/// [`dispatch`], with the AVX2 and AVX-512 registers taken two at a time
/// ([`crate::arch::pair::Pair`]: two independent dependency chains
/// interleaved, the same bits) for the pointwise kernels, whose per-lane
/// math is one long chain per register. The other backends run as in
/// [`dispatch`].
#[inline]
pub(crate) fn dispatch_paired<F: LanesFn>(isa: Isa, f: F) -> Option<F::Output> {
    match isa {
        Isa::Avx2 => x86::run_avx2::<F, true>(f),
        Isa::Avx512 => x86::run_avx512::<F, 2>(f),
        _ => dispatch(isa, f),
    }
}

/// [`dispatch_paired`], but AVX-512 takes all four registers of a chunk as
/// one (a pair of pairs): four chains interleaved, which the
/// transcendental kernels need to keep Zen 5's four FP pipes busy
/// (BCE with logits at 4096 elements: 22% faster than pairs; the softmax
/// tile kernel on a VOC map: about 25%; the Dice kernels were slower, and
/// stay on pairs). The same bits. A chunk is then one
/// register, so a tail chunk costs as much as a full one: a call on fewer
/// than 64 elements runs faster on pairs ([`dispatch_paired`]).
#[inline]
pub(crate) fn dispatch_quads<F: LanesFn>(isa: Isa, f: F) -> Option<F::Output> {
    match isa {
        Isa::Avx512 => x86::run_avx512::<F, 4>(f),
        _ => dispatch_paired(isa, f),
    }
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod x86 {
    use super::LanesFn;
    #[cfg(not(feature = "std"))]
    use super::cpuid;
    use crate::arch::pair::Pair;
    use crate::arch::pulp::PulpLanes;
    use pulp::x86::{V3, V4};

    /// Adapts a [`LanesFn`] to pulp's `WithSimd`, so that pulp compiles it
    /// with the token's target features enabled: `R` registers a chunk, or
    /// with `PAIRED` the same registers as `H = R/2` pairs.
    struct WithLanes<F, const R: usize, const H: usize, const PAIRED: bool>(F);

    impl<F: LanesFn, const R: usize, const H: usize, const PAIRED: bool> pulp::WithSimd
        for WithLanes<F, R, H, PAIRED>
    {
        type Output = F::Output;
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, simd: S) -> F::Output {
            let lanes = PulpLanes::<S, R>::new(simd);
            if PAIRED {
                self.0.call(Pair::<_, H>::new(lanes))
            } else {
                self.0.call(lanes)
            }
        }
    }

    /// AVX-512's four registers of a chunk as one register of 64 lanes: a
    /// pair of pairs.
    struct WithQuads<F>(F);

    impl<F: LanesFn> pulp::WithSimd for WithQuads<F> {
        type Output = F::Output;
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, simd: S) -> F::Output {
            let lanes = PulpLanes::<S, 4>::new(simd);
            self.0.call(Pair::<_, 1>::new(Pair::<_, 2>::new(lanes)))
        }
    }

    pub(super) fn run_avx2<F: LanesFn, const PAIRED: bool>(f: F) -> Option<F::Output> {
        if !super::Isa::Avx2.is_available() {
            return None;
        }
        // SAFETY: is_available() is the cached avx2_available(), which
        // checked every feature V3 enables (and, through XCR0, that the OS
        // saves the AVX state).
        let simd = unsafe { V3::new_unchecked() };
        Some(pulp::Simd::vectorize(simd, WithLanes::<F, 8, 4, PAIRED>(f)))
    }

    /// `GROUP` registers as one: 1, 2 (pairs) or 4 (quads).
    pub(super) fn run_avx512<F: LanesFn, const GROUP: u8>(f: F) -> Option<F::Output> {
        if !super::Isa::Avx512.is_available() {
            return None;
        }
        // SAFETY: is_available() is the cached avx512_available(), which
        // checked every feature V4 enables (and, through XCR0, that the OS
        // saves the AVX-512 state).
        let simd = unsafe { V4::new_unchecked() };
        Some(match GROUP {
            1 => pulp::Simd::vectorize(simd, WithLanes::<F, 4, 2, false>(f)),
            2 => pulp::Simd::vectorize(simd, WithLanes::<F, 4, 2, true>(f)),
            _ => pulp::Simd::vectorize(simd, WithQuads(f)),
        })
    }

    /// Every feature of pulp's `V3` token (sse and sse2 are baseline here).
    #[cfg(feature = "std")]
    pub(super) fn avx2_available() -> bool {
        std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("avx")
            && std::is_x86_feature_detected!("fma")
            && std::is_x86_feature_detected!("sse3")
            && std::is_x86_feature_detected!("ssse3")
            && std::is_x86_feature_detected!("sse4.1")
            && std::is_x86_feature_detected!("bmi1")
            && std::is_x86_feature_detected!("bmi2")
            && std::is_x86_feature_detected!("lzcnt")
            && std::is_x86_feature_detected!("popcnt")
            && std::is_x86_feature_detected!("sse4.2")
            && std::is_x86_feature_detected!("fxsr")
    }

    #[cfg(feature = "std")]
    pub(super) fn avx512_available() -> bool {
        avx2_available()
            && std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512cd")
            && std::is_x86_feature_detected!("avx512dq")
            && std::is_x86_feature_detected!("avx512vl")
    }

    #[cfg(not(feature = "std"))]
    pub(super) fn avx2_available() -> bool {
        cpuid::detect().avx2
    }

    #[cfg(not(feature = "std"))]
    pub(super) fn avx512_available() -> bool {
        cpuid::detect().avx512
    }
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
mod x86 {
    use super::LanesFn;
    pub(super) fn avx2_available() -> bool {
        false
    }
    pub(super) fn avx512_available() -> bool {
        false
    }
    pub(super) fn run_avx2<F: LanesFn, const PAIRED: bool>(_: F) -> Option<F::Output> {
        None
    }
    pub(super) fn run_avx512<F: LanesFn, const GROUP: u8>(_: F) -> Option<F::Output> {
        None
    }
}

#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
mod neon {
    use super::LanesFn;
    use crate::arch::pulp::PulpLanes;
    use pulp::aarch64::Neon;

    struct WithLanes<F>(F);

    impl<F: LanesFn> pulp::WithSimd for WithLanes<F> {
        type Output = F::Output;
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, simd: S) -> F::Output {
            self.0.call(PulpLanes::<S, 16>::new(simd))
        }
    }

    pub(super) fn run<F: LanesFn>(f: F) -> Option<F::Output> {
        // SAFETY: this module is only compiled for aarch64 targets with the
        // `neon` target feature enabled at compile time.
        let simd = unsafe { Neon::new_unchecked() };
        Some(pulp::Simd::vectorize(simd, WithLanes(f)))
    }
}

#[cfg(not(all(target_arch = "aarch64", target_feature = "neon")))]
mod neon {
    use super::LanesFn;
    pub(super) fn run<F: LanesFn>(_: F) -> Option<F::Output> {
        None
    }
}
