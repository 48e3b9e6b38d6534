//! MSE, L1, Huber and Smooth L1: options and the three verbs of each.
//!
//! Every function here: `input`, `target` (and `grad.data` / `out`) hold
//! `n` floats; `options` may be NULL (the defaults); `detail` may be NULL.
//! Errors: `SIMDLOSS_ERROR_NULL_POINTER`, `_MISALIGNED_POINTER`,
//! `_OVERLAP` (an output over an input), `_EMPTY` (`n == 0`),
//! `_INVALID_PARAMETER` (a parameter, `reduction`, `grad.scale`, `isa`),
//! `_ISA_UNAVAILABLE`. Nothing is written on error.

use simdloss::{Huber, Mse, SmoothL1, L1};

use crate::buffers::Reads;
use crate::call::Verb;
use crate::call::{simdloss_grad, simdloss_reduction};
use crate::isa::{simdloss_isa, SIMDLOSS_ISA_AUTO};
use crate::pointwise::{run, PointwiseOptions};
use crate::status::{simdloss_error_detail, simdloss_status, Failure};

/// Options of MSE and L1 (which have no parameters).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct simdloss_plain_options {
    /// The instruction set (`SIMDLOSS_ISA_AUTO`: the best detected).
    pub isa: simdloss_isa,
}

impl Default for simdloss_plain_options {
    fn default() -> Self {
        Self {
            isa: SIMDLOSS_ISA_AUTO,
        }
    }
}

/// `{ .isa = SIMDLOSS_ISA_AUTO }`.
#[no_mangle]
pub extern "C" fn simdloss_plain_options_default() -> simdloss_plain_options {
    simdloss_plain_options::default()
}

/// Options of Huber.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct simdloss_huber_options {
    /// The threshold δ: finite and > 0 (PyTorch's default 1).
    pub delta: f32,
    /// The instruction set (`SIMDLOSS_ISA_AUTO`: the best detected).
    pub isa: simdloss_isa,
}

impl Default for simdloss_huber_options {
    fn default() -> Self {
        Self {
            delta: 1.0,
            isa: SIMDLOSS_ISA_AUTO,
        }
    }
}

/// `{ .delta = 1.0f, .isa = SIMDLOSS_ISA_AUTO }`.
#[no_mangle]
pub extern "C" fn simdloss_huber_options_default() -> simdloss_huber_options {
    simdloss_huber_options::default()
}

/// Options of Smooth L1.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct simdloss_smooth_l1_options {
    /// The threshold β: finite and ≥ 0 (PyTorch's default 1; 0 is L1).
    pub beta: f32,
    /// The instruction set (`SIMDLOSS_ISA_AUTO`: the best detected).
    pub isa: simdloss_isa,
}

impl Default for simdloss_smooth_l1_options {
    fn default() -> Self {
        Self {
            beta: 1.0,
            isa: SIMDLOSS_ISA_AUTO,
        }
    }
}

/// `{ .beta = 1.0f, .isa = SIMDLOSS_ISA_AUTO }`.
#[no_mangle]
pub extern "C" fn simdloss_smooth_l1_options_default() -> simdloss_smooth_l1_options {
    simdloss_smooth_l1_options::default()
}

/// `simdloss_plain_options` builds MSE or L1; a marker picks which.
#[derive(Default)]
pub(crate) struct MseOptions(simdloss_plain_options);
#[derive(Default)]
pub(crate) struct L1Options(simdloss_plain_options);

impl PointwiseOptions for MseOptions {
    type Loss<'a> = Mse;
    unsafe fn build<'a>(&self, _: usize, _: &mut Reads) -> Result<Self::Loss<'a>, Failure> {
        Ok(Mse::new())
    }
    fn isa(&self) -> simdloss_isa {
        self.0.isa
    }
}

impl PointwiseOptions for L1Options {
    type Loss<'a> = L1;
    unsafe fn build<'a>(&self, _: usize, _: &mut Reads) -> Result<Self::Loss<'a>, Failure> {
        Ok(L1::new())
    }
    fn isa(&self) -> simdloss_isa {
        self.0.isa
    }
}

impl PointwiseOptions for simdloss_huber_options {
    type Loss<'a> = Huber;
    unsafe fn build<'a>(&self, _: usize, _: &mut Reads) -> Result<Self::Loss<'a>, Failure> {
        Ok(Huber::new(self.delta)?)
    }
    fn isa(&self) -> simdloss_isa {
        self.isa
    }
}

impl PointwiseOptions for simdloss_smooth_l1_options {
    type Loss<'a> = SmoothL1;
    unsafe fn build<'a>(&self, _: usize, _: &mut Reads) -> Result<Self::Loss<'a>, Failure> {
        Ok(SmoothL1::new(self.beta)?)
    }
    fn isa(&self) -> simdloss_isa {
        self.isa
    }
}

// `MseOptions` / `L1Options` are `#[repr(Rust)]` newtypes over the C
// struct; the exported functions take the C struct and wrap a copy.
fn plain<T>(
    options: *const simdloss_plain_options,
    wrap: fn(simdloss_plain_options) -> T,
) -> Option<T> {
    if options.is_null() {
        None
    } else {
        // SAFETY: not NULL; every exported function's contract says it
        // points to a valid `simdloss_plain_options`.
        Some(wrap(unsafe { *options }))
    }
}

/// Runs `verb` of MSE or L1 with `options` (NULL: defaults).
///
/// # Safety
/// As `pointwise::run`.
unsafe fn run_plain<T: PointwiseOptions>(
    options: *const simdloss_plain_options,
    wrap: fn(simdloss_plain_options) -> T,
    input: *const f32,
    target: *const f32,
    n: usize,
    verb: Verb,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let options = plain(options, wrap);
    let options = options
        .as_ref()
        .map_or(core::ptr::null(), core::ptr::from_ref);
    // SAFETY: `options` is NULL or a local; the rest is the caller's promise.
    unsafe { run(options, input, target, n, verb, detail) }
}

/// Mean squared error: `loss = Σ (input[i] − target[i])²` (÷ n for a
/// mean), `∂/∂input[i] = 2(input[i] − target[i])`. Writes `*loss`.
///
/// # Safety
/// `n` floats at `input` and `target`, `loss` one
/// writable float.
#[no_mangle]
pub unsafe extern "C" fn simdloss_mse_value(
    options: *const simdloss_plain_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    reduction: simdloss_reduction,
    loss: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::Value { reduction, loss };
    // SAFETY: the caller's promises, as documented.
    unsafe { run_plain(options, MseOptions, input, target, n, verb, detail) }
}

/// MSE's value (`*loss`) and gradient (`grad`) in one pass.
///
/// # Safety
/// As `simdloss_mse_value`; `grad.data` holds `n` writable floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_mse_value_and_grad(
    options: *const simdloss_plain_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    reduction: simdloss_reduction,
    grad: simdloss_grad,
    loss: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::ValueAndGrad {
        reduction,
        grad,
        loss,
    };
    // SAFETY: the caller's promises, as documented.
    unsafe { run_plain(options, MseOptions, input, target, n, verb, detail) }
}

/// MSE per element: `out[i] = (input[i] − target[i])²`.
///
/// # Safety
/// As `simdloss_mse_value`; `out` holds `n` writable floats.
#[no_mangle]
pub unsafe extern "C" fn simdloss_mse_per_element(
    options: *const simdloss_plain_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    out: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::PerElement { out, len: n };
    // SAFETY: the caller's promises, as documented.
    unsafe { run_plain(options, MseOptions, input, target, n, verb, detail) }
}

/// Mean absolute error: `loss = Σ |input[i] − target[i]|` (÷ n for a
/// mean), `∂/∂input[i] = sign(r)` with `sign(0) = 0`. Writes `*loss`.
///
/// # Safety
/// As `simdloss_mse_value`.
#[no_mangle]
pub unsafe extern "C" fn simdloss_l1_value(
    options: *const simdloss_plain_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    reduction: simdloss_reduction,
    loss: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::Value { reduction, loss };
    // SAFETY: the caller's promises, as documented.
    unsafe { run_plain(options, L1Options, input, target, n, verb, detail) }
}

/// L1's value and gradient in one pass.
///
/// # Safety
/// As `simdloss_mse_value_and_grad`.
#[no_mangle]
pub unsafe extern "C" fn simdloss_l1_value_and_grad(
    options: *const simdloss_plain_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    reduction: simdloss_reduction,
    grad: simdloss_grad,
    loss: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::ValueAndGrad {
        reduction,
        grad,
        loss,
    };
    // SAFETY: the caller's promises, as documented.
    unsafe { run_plain(options, L1Options, input, target, n, verb, detail) }
}

/// L1 per element: `out[i] = |input[i] − target[i]|`.
///
/// # Safety
/// As `simdloss_mse_per_element`.
#[no_mangle]
pub unsafe extern "C" fn simdloss_l1_per_element(
    options: *const simdloss_plain_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    out: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::PerElement { out, len: n };
    // SAFETY: the caller's promises, as documented.
    unsafe { run_plain(options, L1Options, input, target, n, verb, detail) }
}

/// Huber: `½r²` if `|r| ≤ δ`, else `δ(|r| − ½δ)`, `r = input[i] −
/// target[i]`; `∂/∂input[i] = clamp(r, −δ, δ)`. Writes `*loss`. Errors:
/// also `SIMDLOSS_ERROR_INVALID_PARAMETER` naming `delta` unless it is
/// finite and > 0.
///
/// # Safety
/// As `simdloss_mse_value`.
#[no_mangle]
pub unsafe extern "C" fn simdloss_huber_value(
    options: *const simdloss_huber_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    reduction: simdloss_reduction,
    loss: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::Value { reduction, loss };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, target, n, verb, detail) }
}

/// Huber's value and gradient in one pass.
///
/// # Safety
/// As `simdloss_mse_value_and_grad`.
#[no_mangle]
pub unsafe extern "C" fn simdloss_huber_value_and_grad(
    options: *const simdloss_huber_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    reduction: simdloss_reduction,
    grad: simdloss_grad,
    loss: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::ValueAndGrad {
        reduction,
        grad,
        loss,
    };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, target, n, verb, detail) }
}

/// Huber per element.
///
/// # Safety
/// As `simdloss_mse_per_element`.
#[no_mangle]
pub unsafe extern "C" fn simdloss_huber_per_element(
    options: *const simdloss_huber_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    out: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::PerElement { out, len: n };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, target, n, verb, detail) }
}

/// Smooth L1: `½r²/β` if `|r| < β`, else `|r| − ½β` (β = 0 is L1);
/// `∂/∂input[i] = clamp(r/β, −1, 1)`. Writes `*loss`. Errors: also
/// `SIMDLOSS_ERROR_INVALID_PARAMETER` naming `beta` unless it is finite
/// and ≥ 0.
///
/// # Safety
/// As `simdloss_mse_value`.
#[no_mangle]
pub unsafe extern "C" fn simdloss_smooth_l1_value(
    options: *const simdloss_smooth_l1_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    reduction: simdloss_reduction,
    loss: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::Value { reduction, loss };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, target, n, verb, detail) }
}

/// Smooth L1's value and gradient in one pass.
///
/// # Safety
/// As `simdloss_mse_value_and_grad`.
#[no_mangle]
pub unsafe extern "C" fn simdloss_smooth_l1_value_and_grad(
    options: *const simdloss_smooth_l1_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    reduction: simdloss_reduction,
    grad: simdloss_grad,
    loss: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::ValueAndGrad {
        reduction,
        grad,
        loss,
    };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, target, n, verb, detail) }
}

/// Smooth L1 per element.
///
/// # Safety
/// As `simdloss_mse_per_element`.
#[no_mangle]
pub unsafe extern "C" fn simdloss_smooth_l1_per_element(
    options: *const simdloss_smooth_l1_options,
    input: *const f32,
    target: *const f32,
    n: usize,
    out: *mut f32,
    detail: *mut simdloss_error_detail,
) -> simdloss_status {
    let verb = Verb::PerElement { out, len: n };
    // SAFETY: the caller's promises, as documented.
    unsafe { run(options, input, target, n, verb, detail) }
}
