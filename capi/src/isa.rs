//! Which instruction set runs: the query functions and the `isa` field of
//! every options struct (Rust's `with_isa`).

use core::ffi::{c_char, CStr};

use simdloss::Isa;

use crate::status::{simdloss_status, Failure};

/// An instruction set: one of the `SIMDLOSS_ISA_*` values.
#[allow(non_camel_case_types)]
pub type simdloss_isa = u32;

/// The best instruction set detected on this CPU (the default).
pub const SIMDLOSS_ISA_AUTO: simdloss_isa = 0;
/// Plain `float` code: every target.
pub const SIMDLOSS_ISA_SCALAR: simdloss_isa = 1;
/// The compile-time baseline vectors (SSE2, NEON, simd128): every target.
pub const SIMDLOSS_ISA_WIDE: simdloss_isa = 2;
/// AVX2 + FMA (x86-64-v3).
pub const SIMDLOSS_ISA_AVX2: simdloss_isa = 3;
/// AVX-512 F/BW/CD/DQ/VL (x86-64-v4).
pub const SIMDLOSS_ISA_AVX512: simdloss_isa = 4;
/// NEON on aarch64.
pub const SIMDLOSS_ISA_NEON: simdloss_isa = 5;

/// The Rust `Isa` of a C value; `None` for `SIMDLOSS_ISA_AUTO`.
///
/// # Errors
/// `SIMDLOSS_ERROR_INVALID_PARAMETER` naming `isa` for an unknown value,
/// `SIMDLOSS_ERROR_ISA_UNAVAILABLE` for one this CPU or build cannot run.
pub(crate) fn chosen(isa: simdloss_isa) -> Result<Option<Isa>, Failure> {
    let isa = match isa {
        SIMDLOSS_ISA_AUTO => return Ok(None),
        SIMDLOSS_ISA_SCALAR => Isa::Scalar,
        SIMDLOSS_ISA_WIDE => Isa::Wide,
        SIMDLOSS_ISA_AVX2 => Isa::Avx2,
        SIMDLOSS_ISA_AVX512 => Isa::Avx512,
        SIMDLOSS_ISA_NEON => Isa::Neon,
        _ => {
            return Err(Failure::new(
                simdloss_status::SIMDLOSS_ERROR_INVALID_PARAMETER,
                cstr!("isa"),
            ));
        }
    };
    if isa.is_available() {
        Ok(Some(isa))
    } else {
        Err(Failure::new(
            simdloss_status::SIMDLOSS_ERROR_ISA_UNAVAILABLE,
            cstr!("isa"),
        ))
    }
}

fn to_c(isa: Isa) -> simdloss_isa {
    match isa {
        Isa::Scalar => SIMDLOSS_ISA_SCALAR,
        Isa::Wide => SIMDLOSS_ISA_WIDE,
        Isa::Avx2 => SIMDLOSS_ISA_AVX2,
        Isa::Avx512 => SIMDLOSS_ISA_AVX512,
        Isa::Neon => SIMDLOSS_ISA_NEON,
    }
}

/// The instruction set `SIMDLOSS_ISA_AUTO` runs: the best this CPU and
/// build support, detected on the first call and cached. Never
/// `SIMDLOSS_ISA_AUTO`.
#[no_mangle]
pub extern "C" fn simdloss_isa_best() -> simdloss_isa {
    to_c(Isa::best())
}

/// Whether `isa` can run here (`SIMDLOSS_ISA_AUTO` always can; an unknown
/// value cannot).
#[no_mangle]
pub extern "C" fn simdloss_isa_available(isa: simdloss_isa) -> bool {
    chosen(isa).is_ok()
}

/// `isa`'s name (`"auto"`, `"scalar"`, `"wide"`, `"avx2"`, `"avx512"`,
/// `"neon"`, or `"unknown"`): a static string, never NULL.
#[no_mangle]
pub extern "C" fn simdloss_isa_name(isa: simdloss_isa) -> *const c_char {
    let name: &'static CStr = match isa {
        SIMDLOSS_ISA_AUTO => cstr!("auto"),
        SIMDLOSS_ISA_SCALAR => cstr!("scalar"),
        SIMDLOSS_ISA_WIDE => cstr!("wide"),
        SIMDLOSS_ISA_AVX2 => cstr!("avx2"),
        SIMDLOSS_ISA_AVX512 => cstr!("avx512"),
        SIMDLOSS_ISA_NEON => cstr!("neon"),
        _ => cstr!("unknown"),
    };
    name.as_ptr()
}
