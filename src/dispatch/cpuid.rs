//! x86-64 feature detection without std: CPUID plus XGETBV, cached.
//!
//! Used by dispatch when the `std` feature is off; always compiled on
//! x86-64 so that tests can compare it with `is_x86_feature_detected!`.

use core::arch::x86_64::{__cpuid, __cpuid_count, _xgetbv};
use core::sync::atomic::{AtomicU8, Ordering};

/// What CPUID and XCR0 say this CPU and OS support.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detected {
    /// Every feature of x86-64-v3 (pulp `V3`), with the AVX state enabled.
    pub avx2: bool,
    /// Every feature of x86-64-v4 (pulp `V4`), with the AVX-512 state enabled.
    pub avx512: bool,
}

const AVX2: u8 = 1;
const AVX512: u8 = 2;
const KNOWN: u8 = 4;

/// Detects once, then answers from an atomic cache.
#[must_use]
pub fn detect() -> Detected {
    static CACHE: AtomicU8 = AtomicU8::new(0);
    let mut bits = CACHE.load(Ordering::Relaxed);
    if bits & KNOWN == 0 {
        let d = detect_uncached();
        bits = KNOWN | if d.avx2 { AVX2 } else { 0 } | if d.avx512 { AVX512 } else { 0 };
        CACHE.store(bits, Ordering::Relaxed);
    }
    Detected {
        avx2: bits & AVX2 != 0,
        avx512: bits & AVX512 != 0,
    }
}

const fn bit(reg: u32, n: u32) -> bool {
    reg & (1 << n) != 0
}

/// Reads CPUID leaves 1, 7 and 0x8000_0001 and, if the OS uses XSAVE,
/// XCR0.
#[must_use]
pub fn detect_uncached() -> Detected {
    let none = Detected {
        avx2: false,
        avx512: false,
    };
    // CPUID is always available on x86-64.
    let max_leaf = __cpuid(0).eax;
    if max_leaf < 7 {
        return none;
    }
    let leaf1 = __cpuid(1);
    let leaf7 = __cpuid_count(7, 0);
    let ext = if __cpuid(0x8000_0000).eax >= 0x8000_0001 {
        __cpuid(0x8000_0001).ecx
    } else {
        0
    };
    let (ecx1, edx1, ebx7) = (leaf1.ecx, leaf1.edx, leaf7.ebx);

    let osxsave = bit(ecx1, 27);
    if !osxsave {
        return none;
    }
    // SAFETY: CPUID.1:ECX.OSXSAVE (bit 27), checked above, means the OS has
    // set CR4.OSXSAVE, so XGETBV is enabled and XCR0 (index 0) is readable.
    let xcr0 = unsafe { xgetbv0() };
    let avx_state = xcr0 & 0b110 == 0b110;
    let avx512_state = xcr0 & 0b1110_0110 == 0b1110_0110;

    let v3_cpu = bit(edx1, 24) // fxsr
        && bit(edx1, 25) // sse
        && bit(edx1, 26) // sse2
        && bit(ecx1, 0) // sse3
        && bit(ecx1, 9) // ssse3
        && bit(ecx1, 12) // fma
        && bit(ecx1, 19) // sse4.1
        && bit(ecx1, 20) // sse4.2
        && bit(ecx1, 23) // popcnt
        && bit(ecx1, 28) // avx
        && bit(ebx7, 3) // bmi1
        && bit(ebx7, 5) // avx2
        && bit(ebx7, 8) // bmi2
        && bit(ext, 5); // lzcnt (abm)
    let v4_cpu = bit(ebx7, 16) // avx512f
        && bit(ebx7, 17) // avx512dq
        && bit(ebx7, 28) // avx512cd
        && bit(ebx7, 30) // avx512bw
        && bit(ebx7, 31); // avx512vl

    let avx2 = v3_cpu && avx_state;
    Detected {
        avx2,
        avx512: avx2 && v4_cpu && avx512_state,
    }
}

/// # Safety
/// The CPU must support XGETBV and the OS must have enabled it
/// (CPUID.1:ECX.OSXSAVE).
#[target_feature(enable = "xsave")]
unsafe fn xgetbv0() -> u64 {
    // SAFETY: the caller guarantees XGETBV is enabled; XCR0 always exists.
    unsafe { _xgetbv(0) }
}
