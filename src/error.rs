//! The one error type every loss returns.

use crate::dispatch::Isa;

/// Why a loss call was refused. Nothing was written when one is returned.
///
/// Every variant names the offending argument as it is spelled in the
/// signature (`"input"`, `"target"`, `"grad"`, `"delta"`, …).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum LossError {
    /// `argument` has `actual` elements where `expected` were needed.
    LengthMismatch {
        /// The argument whose length is wrong.
        argument: &'static str,
        /// The length it must have.
        expected: usize,
        /// The length it has.
        actual: usize,
    },
    /// `argument` has no elements; a mean over nothing is undefined.
    Empty {
        /// The empty argument.
        argument: &'static str,
    },
    /// A parameter is outside its domain.
    InvalidParameter {
        /// The parameter's name.
        argument: &'static str,
        /// The value given.
        value: f32,
        /// What it must satisfy, e.g. `"finite and > 0"`.
        requirement: &'static str,
    },
    /// The instruction set asked for is not available on this CPU or build.
    IsaUnavailable {
        /// The instruction set asked for.
        isa: Isa,
    },
    /// Element `index` of `argument` is outside the values the loss
    /// accepts (e.g. a probability outside `[0, 1]`).
    OutOfRange {
        /// The argument holding the element.
        argument: &'static str,
        /// The element's index in `argument`.
        index: usize,
        /// The element's value.
        value: f32,
        /// What every element must satisfy, e.g. `"in [0, 1]"`.
        requirement: &'static str,
    },
    /// A shape argument is invalid (a zero extent, a product that overflows
    /// `usize`, more classes than an f32 counts exactly).
    InvalidShape {
        /// The extent or argument at fault (`"n"`, `"c"`, `"s"`, `"shape"`).
        argument: &'static str,
        /// The value given (for `"shape"`: the extent that overflowed).
        value: usize,
        /// What it must satisfy.
        requirement: &'static str,
    },
    /// Label `index` of `argument` is neither a class in `0..classes` nor
    /// the ignore index.
    InvalidLabel {
        /// The argument holding the labels (`"target"`).
        argument: &'static str,
        /// The label's flat position in `argument` (`n·S + s`).
        index: usize,
        /// The label's value.
        label: i128,
        /// The number of classes C.
        classes: usize,
    },
    /// The loss does not take this kind of target (e.g. probabilities for
    /// a loss defined on class indices only).
    UnsupportedTarget {
        /// The target argument (`"target"`).
        argument: &'static str,
        /// What the loss takes.
        requirement: &'static str,
    },
    /// `argument`, broadcast over the last axis of `input` (one value per
    /// class), has a length `len` that does not divide `input`'s length.
    NotBroadcastable {
        /// The broadcast argument (e.g. `"pos_weight"`).
        argument: &'static str,
        /// Its length (the number of classes).
        len: usize,
        /// The length of `input`.
        input_len: usize,
    },
}

impl core::fmt::Display for LossError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            LossError::LengthMismatch {
                argument,
                expected,
                actual,
            } => write!(f, "`{argument}` has {actual} elements, expected {expected}"),
            LossError::Empty { argument } => write!(f, "`{argument}` is empty"),
            LossError::InvalidParameter {
                argument,
                value,
                requirement,
            } => write!(
                f,
                "`{argument}` = {value} is invalid: must be {requirement}"
            ),
            LossError::IsaUnavailable { isa } => {
                write!(f, "instruction set `{isa}` is not available on this CPU")
            }
            LossError::OutOfRange {
                argument,
                index,
                value,
                requirement,
            } => write!(
                f,
                "`{argument}[{index}]` = {value} is invalid: must be {requirement}"
            ),
            LossError::InvalidShape {
                argument,
                value,
                requirement,
            } => write!(
                f,
                "shape `{argument}` = {value} is invalid: must be {requirement}"
            ),
            LossError::InvalidLabel {
                argument,
                index,
                label,
                classes,
            } => write!(
                f,
                "`{argument}[{index}]` = {label} is not a class in 0..{classes} nor the ignore index"
            ),
            LossError::UnsupportedTarget {
                argument,
                requirement,
            } => write!(f, "`{argument}` is not supported: must be {requirement}"),
            LossError::NotBroadcastable {
                argument,
                len,
                input_len,
            } => write!(
                f,
                "`{argument}` has {len} elements, which does not divide the {input_len} elements of `input` (it is broadcast over the last axis)"
            ),
        }
    }
}

impl core::error::Error for LossError {}
