//! The status every function returns, its message, and the optional
//! detail of a failure (which argument, which element).

use core::ffi::{c_char, c_int, CStr};

use simdloss::LossError;

/// What a call did. `SIMDLOSS_OK` (0) is success; every other code is a
/// refusal, and then nothing was written (no output buffer, no `*loss`),
/// except the optional `simdloss_error_detail`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum simdloss_status {
    /// Success.
    SIMDLOSS_OK = 0,
    /// A pointer the call needs is NULL (only `options` and `detail` may
    /// be NULL).
    SIMDLOSS_ERROR_NULL_POINTER = 1,
    /// A pointer is not aligned for its element type.
    SIMDLOSS_ERROR_MISALIGNED_POINTER = 2,
    /// An output buffer (`grad.data`, `out`) overlaps an input buffer.
    SIMDLOSS_ERROR_OVERLAP = 3,
    /// A buffer has the wrong number of elements.
    SIMDLOSS_ERROR_LENGTH_MISMATCH = 4,
    /// `n == 0` (or an empty `pos_weight`): a mean over nothing.
    SIMDLOSS_ERROR_EMPTY = 5,
    /// A parameter is outside its domain: non-finite, negative where it
    /// must not be, an unknown enum value (`reduction`, `isa`,
    /// `activation`, `target.kind`), a non-finite `grad.scale`.
    SIMDLOSS_ERROR_INVALID_PARAMETER = 6,
    /// The instruction set asked for is not available on this CPU or build.
    SIMDLOSS_ERROR_ISA_UNAVAILABLE = 7,
    /// An input element is outside the values the loss accepts (e.g. a
    /// probability outside `[0, 1]`); its index is in the detail.
    SIMDLOSS_ERROR_OUT_OF_RANGE = 8,
    /// A shape extent is zero, or a product of extents (or `n` times the
    /// element size) overflows.
    SIMDLOSS_ERROR_INVALID_SHAPE = 9,
    /// A label is neither a class in `0..c` nor the ignore index; its flat
    /// position is in the detail.
    SIMDLOSS_ERROR_INVALID_LABEL = 10,
    /// The loss does not take this kind of target (e.g. probabilities for
    /// softmax focal).
    SIMDLOSS_ERROR_UNSUPPORTED_TARGET = 11,
    /// A per-class `pos_weight`'s length does not divide `n`.
    SIMDLOSS_ERROR_NOT_BROADCASTABLE = 12,
}

use simdloss_status as S;

/// Where a refused call's fault lies, written through the optional last
/// parameter of every loss function (on failure only).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct simdloss_error_detail {
    /// The argument at fault, as the header spells it (`"input"`,
    /// `"target"`, `"grad.data"`, `"delta"`, …): a static string, never
    /// NULL.
    pub argument: *const c_char,
    /// The offending element's index in `argument` (a probability outside
    /// `[0, 1]`, a bad label's flat position `n·S + s`), or `SIZE_MAX`
    /// when the fault is not one element.
    pub index: usize,
}

/// A refusal: the status and its detail.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Failure {
    pub(crate) status: simdloss_status,
    pub(crate) argument: &'static CStr,
    pub(crate) index: usize,
}

impl Failure {
    /// A failure that is not about one element.
    pub(crate) const fn new(status: simdloss_status, argument: &'static CStr) -> Self {
        Self {
            status,
            argument,
            index: usize::MAX,
        }
    }

    /// Writes the detail through `detail` (if not NULL) and returns the
    /// status.
    ///
    /// # Safety
    /// `detail` is NULL or valid for a write of one `simdloss_error_detail`.
    pub(crate) unsafe fn report(self, detail: *mut simdloss_error_detail) -> simdloss_status {
        if !detail.is_null() {
            // SAFETY: not NULL, and the caller promises it is writable.
            unsafe {
                detail.write(simdloss_error_detail {
                    argument: self.argument.as_ptr(),
                    index: self.index,
                });
            }
        }
        self.status
    }
}

impl From<LossError> for Failure {
    fn from(error: LossError) -> Self {
        let (status, argument, index) = match error {
            LossError::LengthMismatch { argument, .. } => {
                (S::SIMDLOSS_ERROR_LENGTH_MISMATCH, argument, None)
            }
            LossError::Empty { argument } => (S::SIMDLOSS_ERROR_EMPTY, argument, None),
            LossError::InvalidParameter { argument, .. } => {
                (S::SIMDLOSS_ERROR_INVALID_PARAMETER, argument, None)
            }
            LossError::IsaUnavailable { .. } => (S::SIMDLOSS_ERROR_ISA_UNAVAILABLE, "isa", None),
            LossError::OutOfRange {
                argument, index, ..
            } => (S::SIMDLOSS_ERROR_OUT_OF_RANGE, argument, Some(index)),
            LossError::InvalidShape { argument, .. } => {
                (S::SIMDLOSS_ERROR_INVALID_SHAPE, argument, None)
            }
            LossError::InvalidLabel {
                argument, index, ..
            } => (S::SIMDLOSS_ERROR_INVALID_LABEL, argument, Some(index)),
            LossError::UnsupportedTarget { argument, .. } => {
                (S::SIMDLOSS_ERROR_UNSUPPORTED_TARGET, argument, None)
            }
            LossError::NotBroadcastable { argument, .. } => {
                (S::SIMDLOSS_ERROR_NOT_BROADCASTABLE, argument, None)
            }
            // `LossError` is `non_exhaustive`: a kind added later without
            // its own code yet reads as a bad parameter, never as success.
            _ => (S::SIMDLOSS_ERROR_INVALID_PARAMETER, "?", None),
        };
        Self {
            status,
            argument: argument_name(argument),
            index: index.unwrap_or(usize::MAX),
        }
    }
}

/// The C spelling of each argument the Rust crate names (shape extents
/// are fields of `shape` in C). A table, not a `match` on strings: the
/// parser of cbindgen 0.24 rejects string-literal patterns.
const ARGUMENT_NAMES: [(&str, &CStr); 20] = [
    ("input", cstr!("input")),
    ("target", cstr!("target")),
    ("grad", cstr!("grad.data")),
    ("out", cstr!("out")),
    ("weight", cstr!("weight")),
    ("pos_weight", cstr!("pos_weight")),
    ("delta", cstr!("delta")),
    ("beta", cstr!("beta")),
    ("alpha", cstr!("alpha")),
    ("gamma", cstr!("gamma")),
    ("label_smoothing", cstr!("label_smoothing")),
    ("smooth_nr", cstr!("smooth_nr")),
    ("smooth_dr", cstr!("smooth_dr")),
    ("lambda_dice", cstr!("lambda_dice")),
    ("lambda_ce", cstr!("lambda_ce")),
    ("isa", cstr!("isa")),
    ("n", cstr!("shape.n")),
    ("c", cstr!("shape.c")),
    ("s", cstr!("shape.s")),
    ("shape", cstr!("shape")),
];

/// The C spelling of an argument named by the Rust crate (`"?"` for one
/// the table lacks).
fn argument_name(argument: &str) -> &'static CStr {
    ARGUMENT_NAMES
        .iter()
        .find(|(rust, _)| *rust == argument)
        .map_or(cstr!("?"), |(_, c)| c)
}

/// A static, NUL-terminated English sentence for `status` (any value: an
/// unknown one gives `"unknown simdloss status"`). Never NULL.
#[no_mangle]
pub extern "C" fn simdloss_status_message(status: c_int) -> *const c_char {
    let message: &'static CStr = match status {
        0 => cstr!("success"),
        1 => cstr!("a required pointer is NULL"),
        2 => cstr!("a pointer is not aligned for its element type"),
        3 => cstr!("an output buffer overlaps an input buffer"),
        4 => cstr!("a buffer has the wrong number of elements"),
        5 => cstr!("an input is empty"),
        6 => cstr!("a parameter is outside its domain"),
        7 => cstr!("the instruction set asked for is not available on this CPU or build"),
        8 => cstr!("an input element is outside the values the loss accepts"),
        9 => cstr!("a shape extent is zero or a size overflows"),
        10 => cstr!("a label is neither a class in 0..c nor the ignore index"),
        11 => cstr!("the loss does not take this kind of target"),
        12 => cstr!("pos_weight's length does not divide n"),
        _ => cstr!("unknown simdloss status"),
    };
    message.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_own_message() {
        let codes = [
            S::SIMDLOSS_OK,
            S::SIMDLOSS_ERROR_NULL_POINTER,
            S::SIMDLOSS_ERROR_MISALIGNED_POINTER,
            S::SIMDLOSS_ERROR_OVERLAP,
            S::SIMDLOSS_ERROR_LENGTH_MISMATCH,
            S::SIMDLOSS_ERROR_EMPTY,
            S::SIMDLOSS_ERROR_INVALID_PARAMETER,
            S::SIMDLOSS_ERROR_ISA_UNAVAILABLE,
            S::SIMDLOSS_ERROR_OUT_OF_RANGE,
            S::SIMDLOSS_ERROR_INVALID_SHAPE,
            S::SIMDLOSS_ERROR_INVALID_LABEL,
            S::SIMDLOSS_ERROR_UNSUPPORTED_TARGET,
            S::SIMDLOSS_ERROR_NOT_BROADCASTABLE,
        ];
        let unknown = simdloss_status_message(-1);
        for (i, a) in codes.iter().enumerate() {
            assert_eq!(*a as c_int, c_int::try_from(i).unwrap());
            let message = simdloss_status_message(*a as c_int);
            assert_ne!(message, unknown, "{a:?}");
            for b in &codes[..i] {
                assert_ne!(message, simdloss_status_message(*b as c_int));
            }
        }
    }
}
