//! The C ABI of `simdloss`: every loss and verb as an `extern "C"`
//! function, the header `include/simdloss.h` generated from this crate by
//! cbindgen (`cbindgen.toml`).
//!
//! Conventions (the header says the same): a `simdloss_` prefix; one
//! function per loss and verb (`*_value`, `*_value_and_grad`,
//! `*_per_element`); an options struct per loss with a `*_default()`
//! initializer (`options` may be NULL: the defaults); sizes as `size_t`;
//! every function returns a `simdloss_status` and writes nothing on error
//! but the optional `simdloss_error_detail`. Enum-like inputs
//! (`simdloss_isa`, `simdloss_reduction`, …) are integer typedefs, so an
//! out-of-range value from C is an error, never undefined behaviour.
//!
//! `no_std` without the `std` feature (firmware): a panic handler that
//! loops is linked, and never reached: `capi/check.sh` links every
//! exported function for Cortex-M4F and fails if any `core::panicking`
//! symbol is reachable.

#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

#[cfg(any(feature = "std", test))]
extern crate std;

/// A `&'static CStr` from a string literal, checked at compile time.
/// (Not a `c"…"` literal: cbindgen 0.24's parser does not read those.)
macro_rules! cstr {
    ($s:literal) => {
        const {
            match core::ffi::CStr::from_bytes_with_nul(concat!($s, "\0").as_bytes()) {
                Ok(c) => c,
                Err(_) => panic!("a NUL inside a C string literal"),
            }
        }
    };
}

mod binary;
mod buffers;
mod call;
mod class_axis;
mod dice;
mod isa;
mod pointwise;
mod regression;
mod softmax;
mod status;
mod version;

pub use binary::*;
pub use call::{
    simdloss_grad, simdloss_grad_accumulate, simdloss_grad_overwrite, simdloss_reduction,
    SIMDLOSS_REDUCTION_MEAN, SIMDLOSS_REDUCTION_SUM,
};
pub use class_axis::*;
pub use dice::*;
pub use isa::*;
pub use regression::*;
pub use softmax::*;
pub use status::{simdloss_error_detail, simdloss_status, simdloss_status_message};
pub use version::*;

#[cfg(not(any(feature = "std", test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
