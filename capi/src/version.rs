//! The library's version: macros for the header, a function for the
//! library actually linked.

use core::ffi::{c_char, CStr};

/// The major version of the header (the crate's; 0.x: a minor version may
/// change the API).
pub const SIMDLOSS_VERSION_MAJOR: u32 = 0;
/// The minor version of the header.
pub const SIMDLOSS_VERSION_MINOR: u32 = 1;
/// The patch version of the header.
pub const SIMDLOSS_VERSION_PATCH: u32 = 0;

const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(version) => version,
        Err(_) => panic!("a NUL in the crate version"),
    };

/// The linked library's version, `"MAJOR.MINOR.PATCH"`: a static string.
/// Compare it with the `SIMDLOSS_VERSION_*` macros to check that the
/// header and the library match.
#[no_mangle]
pub extern "C" fn simdloss_version() -> *const c_char {
    VERSION.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn the_header_macros_are_the_crate_version() {
        let parts = [
            env!("CARGO_PKG_VERSION_MAJOR"),
            env!("CARGO_PKG_VERSION_MINOR"),
            env!("CARGO_PKG_VERSION_PATCH"),
        ];
        let macros = [
            SIMDLOSS_VERSION_MAJOR,
            SIMDLOSS_VERSION_MINOR,
            SIMDLOSS_VERSION_PATCH,
        ];
        for (part, value) in parts.iter().zip(macros) {
            assert_eq!(part.parse::<u32>().unwrap(), value);
        }
        let text =
            format!("{SIMDLOSS_VERSION_MAJOR}.{SIMDLOSS_VERSION_MINOR}.{SIMDLOSS_VERSION_PATCH}");
        // SAFETY: `simdloss_version` returns a static NUL-terminated string.
        let linked = unsafe { CStr::from_ptr(simdloss_version()) };
        assert_eq!(linked.to_str().unwrap(), text);
    }
}
