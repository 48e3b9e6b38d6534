//! Helpers shared by the integration tests (`mod common;` in each file).
//!
//! - [`SplitMix64`]: a deterministic integer PRNG, and generators that turn
//!   its output into `f32` by exact arithmetic only (no libm, no rounding),
//!   so the same seed gives the same bits on every platform.
//! - [`EDGE`]: the edge values every kernel must survive.
//! - [`isas`], [`ulp_distance`], [`rel_err`], [`Fnv1a`].
//! - [`RefLoss`]: f64 reference implementations of the regression losses
//!   (DESIGN.md §3 semantics), per element (`tests/reference/regression.rs`,
//!   shared with the fuzz crate) and reduced (here).
//! - [`Spec`]: one regression loss with its parameter, runnable on any ISA
//!   through the public API, so a test can loop over losses.
//!
//! `SplitMix64`, `pow2`, `Fnv1a` and `Spec` live in `portable.rs` (no `std`), which the
//! Cortex-M firmware (`firmware/`) includes too, for the golden cases of
//! `tests/golden/cases.rs`. Not every test file uses every helper.
#![allow(dead_code)]

use simdloss::{Grad, Isa, LossError, Reduction};

mod portable;
#[allow(unused_imports)] // each test file uses a different part
pub use portable::{Fnv1a, Spec, SplitMix64, pow2};

// ---------------------------------------------------------------------------
// Deterministic random numbers
// ---------------------------------------------------------------------------

impl SplitMix64 {
    /// One of [`EDGE`].
    pub fn edge(&mut self) -> f32 {
        EDGE[self.below(EDGE.len() as u64) as usize]
    }

    /// `n` values from [`Self::normalish`].
    pub fn normalish_vec(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.normalish()).collect()
    }
}

/// A target for `input`: mostly `input + normalish` (residuals of order 1,
/// crossing the Huber/SmoothL1 thresholds), sometimes exactly `input`
/// (residual ±0) so that `sign(0)` and the zero branches are exercised.
pub fn target_for(rng: &mut SplitMix64, input: &[f32]) -> Vec<f32> {
    input
        .iter()
        .map(|&x| {
            if rng.chance(1, 16) {
                x
            } else {
                x - rng.normalish()
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Edge values
// ---------------------------------------------------------------------------

/// ±0, the smallest subnormal, a mid subnormal, a large finite value, a
/// value near `f32::MAX`, ±inf and NaN.
pub const EDGE: [f32; 13] = [
    0.0,
    -0.0,
    1e-45,
    -1e-45,
    1e-40,
    -1e-40,
    1e30,
    -1e30,
    3.4e38,
    -3.4e38,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NAN,
];

/// [`EDGE`] without NaN.
pub fn edge_non_nan() -> impl Iterator<Item = f32> {
    EDGE.into_iter().filter(|v| !v.is_nan())
}

// ---------------------------------------------------------------------------
// ISAs, bit comparisons, error measures, hashing
// ---------------------------------------------------------------------------

/// Every ISA this CPU and build can run, best first.
pub fn isas() -> Vec<Isa> {
    Isa::available().collect()
}

/// Same bits, or both NaN (NaN payloads are unspecified, DESIGN.md §2.3).
pub fn same_bits(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Index of the first element whose bits differ (NaN matches any NaN).
pub fn first_bit_mismatch(a: &[f32], b: &[f32]) -> Option<usize> {
    assert_eq!(a.len(), b.len(), "compared slices differ in length");
    a.iter().zip(b).position(|(&x, &y)| !same_bits(x, y))
}

/// Position on the number line in units of the spacing of f32 values:
/// consecutive finite f32 (and ±inf next to ±MAX) map to consecutive
/// integers, and ±0 both map to 0.
fn ordinal(x: f32) -> i64 {
    let bits = x.to_bits();
    let magnitude = i64::from(bits & 0x7FFF_FFFF);
    if bits & 0x8000_0000 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// The number of f32 steps between `a` and `b` (±0 equal, inf one step past
/// MAX). Both NaN: 0. Exactly one NaN: `u64::MAX`.
pub fn ulp_distance(a: f32, b: f32) -> u64 {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => 0,
        (false, false) => ordinal(a).abs_diff(ordinal(b)),
        _ => u64::MAX,
    }
}

/// `|got - want| / |want|`; 0 if they are equal (including both zero or the
/// same infinity), inf if `want` is 0 and `got` is not, NaN-safe (any NaN
/// gives inf).
pub fn rel_err(got: f64, want: f64) -> f64 {
    if got == want {
        0.0
    } else if got.is_nan() || want.is_nan() {
        f64::INFINITY
    } else {
        ((got - want) / want).abs()
    }
}

/// The unit roundoff of f32, `2⁻²⁴`.
pub const U32: f64 = 1.0 / 16_777_216.0;

/// The relative error bound of `k` chained f32 roundings: `(1 + u)^k - 1`.
pub fn roundings(k: u32) -> f64 {
    (1.0 + U32).powi(k as i32) - 1.0
}

// ---------------------------------------------------------------------------
// f64 reference (DESIGN.md §3)
// ---------------------------------------------------------------------------

/// The f64 per-element reference (shared with the fuzz crate): one copy,
/// in `tests/reference/regression.rs`.
#[path = "../reference/regression.rs"]
mod reference;

pub use reference::RefLoss;

/// The f32-input and reduced forms of [`RefLoss::elem`].
impl RefLoss {
    /// `elem` at `r = x − y`, the residual computed in f64 (exact for the
    /// test data: see [`SplitMix64`]'s generators).
    pub fn elem_xy(self, x: f32, y: f32) -> (f64, f64) {
        self.elem(f64::from(x) - f64::from(y))
    }

    /// `elem` at the residual rounded to f32 first (`r = fl32(x − y)`), the
    /// "as f32 math does" semantics for edge values (where `x − y` itself
    /// may overflow).
    pub fn elem_xy_f32(self, x: f32, y: f32) -> (f64, f64) {
        self.elem(f64::from(x - y))
    }

    /// The reduced value: a compensated (Neumaier) f64 sum of the
    /// per-element values, divided by `n` for `Mean`.
    pub fn reduced(self, input: &[f32], target: &[f32], reduction: Reduction) -> f64 {
        assert_eq!(input.len(), target.len());
        let sum = neumaier(
            input
                .iter()
                .zip(target)
                .map(|(&x, &y)| self.elem_xy(x, y).0),
        );
        match reduction {
            Reduction::Sum => sum,
            Reduction::Mean => sum / input.len() as f64,
        }
    }

    /// `grad[i]` for the reduced loss with upstream `scale`.
    pub fn grad(self, x: f32, y: f32, reduction: Reduction, n: usize, scale: f32) -> f64 {
        let d = self.elem_xy(x, y).1 * f64::from(scale);
        match reduction {
            Reduction::Sum => d,
            Reduction::Mean => d / n as f64,
        }
    }
}

/// Neumaier's compensated sum (accurate to a few f64 ulp of the total for
/// the sizes used here).
pub fn neumaier(values: impl Iterator<Item = f64>) -> f64 {
    let mut sum = 0.0f64;
    let mut comp = 0.0f64;
    for v in values {
        let t = sum + v;
        if sum.abs() >= v.abs() {
            comp += (sum - t) + v;
        } else {
            comp += (v - t) + sum;
        }
        sum = t;
    }
    sum + comp
}

// ---------------------------------------------------------------------------
// The losses under test, behind one type
// ---------------------------------------------------------------------------

/// Every loss and parameter the sweeps cover: Huber with several δ,
/// SmoothL1 with β = 0 (exactly L1), a small β, the default 1 and a large β.
pub const SPECS: [Spec; 9] = [
    Spec::Mse,
    Spec::L1,
    Spec::Huber(1.0),
    Spec::Huber(0.125),
    Spec::Huber(2.75),
    Spec::SmoothL1(0.0),
    Spec::SmoothL1(0.01),
    Spec::SmoothL1(1.0),
    Spec::SmoothL1(100.0),
];

/// Both reductions.
pub const REDUCTIONS: [Reduction; 2] = [Reduction::Mean, Reduction::Sum];

impl Spec {
    /// The f64 reference of this loss.
    pub fn reference(self) -> RefLoss {
        match self {
            Spec::Mse => RefLoss::Mse,
            Spec::L1 => RefLoss::L1,
            Spec::Huber(d) => RefLoss::Huber(f64::from(d)),
            Spec::SmoothL1(b) => RefLoss::SmoothL1(f64::from(b)),
        }
    }
}

/// Everything one set of calls produces, for bit comparisons across ISAs.
#[derive(Clone, Debug, PartialEq)]
pub struct Outputs {
    /// `value(.., reduction)`.
    pub value: Result<f32, LossError>,
    /// The value returned by `value_and_grad` (overwrite mode).
    pub fused_value: Result<f32, LossError>,
    /// The gradient buffer after `Grad::overwrite(..).scaled(scale)`.
    pub grad: Vec<f32>,
    /// The value returned by `value_and_grad` (accumulate mode).
    pub acc_value: Result<f32, LossError>,
    /// The gradient buffer after `Grad::accumulate(prior).scaled(scale)`.
    pub acc_grad: Vec<f32>,
    /// What `per_element` returned.
    pub per_element_result: Result<(), LossError>,
    /// `per_element`'s output buffer.
    pub per_element: Vec<f32>,
}

/// Bits no kernel writes by accident: fills the unused part of output
/// buffers, and whole buffers in error tests.
pub const SENTINEL: f32 = f32::from_bits(0xDEAD_BEEF);

/// `n` elements at `offset` inside a sentinel-filled buffer with `slack`
/// sentinels after them: returns the buffer (the caller slices it).
pub fn sentinel_buffer(offset: usize, n: usize, slack: usize) -> Vec<f32> {
    vec![SENTINEL; offset + n + slack]
}

/// Panics unless every element of `buf` outside `range` still holds
/// [`SENTINEL`].
pub fn assert_sentinels_outside(buf: &[f32], range: std::ops::Range<usize>, what: &str) {
    for (i, v) in buf.iter().enumerate() {
        if !range.contains(&i) {
            assert_eq!(
                v.to_bits(),
                SENTINEL.to_bits(),
                "{what}: element {i} outside the output range {range:?} was written"
            );
        }
    }
}

/// Runs all four verbs of `spec` on `isa`: value; value_and_grad
/// overwriting, scaled by `scale`; value_and_grad accumulating onto `prior`,
/// scaled by `scale`; per_element. Every output slice sits at `out_offset` inside a larger
/// sentinel-filled buffer (misaligned outputs), and the test panics if
/// anything outside the slice was written.
#[allow(clippy::too_many_arguments)]
pub fn run_all(
    spec: Spec,
    isa: Isa,
    input: &[f32],
    target: &[f32],
    reduction: Reduction,
    prior: &[f32],
    scale: f32,
    out_offset: usize,
) -> Outputs {
    const SLACK: usize = 7;
    let n = input.len();
    assert_eq!(prior.len(), n);
    let range = out_offset..out_offset + n;
    let value = spec.value(isa, input, target, reduction);

    let mut grad = sentinel_buffer(out_offset, n, SLACK);
    let fused_value = spec.value_and_grad(
        isa,
        input,
        target,
        reduction,
        Grad::overwrite(&mut grad[range.clone()]).scaled(scale),
    );
    assert_sentinels_outside(&grad, range.clone(), "grad (overwrite)");

    let mut acc_grad = sentinel_buffer(out_offset, n, SLACK);
    acc_grad[range.clone()].copy_from_slice(prior);
    let acc_value = spec.value_and_grad(
        isa,
        input,
        target,
        reduction,
        Grad::accumulate(&mut acc_grad[range.clone()]).scaled(scale),
    );
    assert_sentinels_outside(&acc_grad, range.clone(), "grad (accumulate)");

    let mut per_element = sentinel_buffer(out_offset, n, SLACK);
    let per_element_result = spec.per_element(isa, input, target, &mut per_element[range.clone()]);
    assert_sentinels_outside(&per_element, range.clone(), "per_element");

    Outputs {
        value,
        fused_value,
        grad: grad[range.clone()].to_vec(),
        acc_value,
        acc_grad: acc_grad[range.clone()].to_vec(),
        per_element_result,
        per_element: per_element[range].to_vec(),
    }
}

/// Bit equality of two `Result<f32, _>` (NaN matches any NaN).
pub fn same_result(a: &Result<f32, LossError>, b: &Result<f32, LossError>) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => same_bits(*x, *y),
        (Err(x), Err(y)) => x == y,
        _ => false,
    }
}

/// Why two [`Outputs`] differ in bits, if they do.
pub fn outputs_mismatch(a: &Outputs, b: &Outputs) -> Option<String> {
    if !same_result(&a.value, &b.value) {
        return Some(format!("value: {:?} vs {:?}", a.value, b.value));
    }
    if !same_result(&a.fused_value, &b.fused_value) {
        return Some(format!(
            "fused value: {:?} vs {:?}",
            a.fused_value, b.fused_value
        ));
    }
    if a.per_element_result != b.per_element_result {
        return Some(format!(
            "per_element: {:?} vs {:?}",
            a.per_element_result, b.per_element_result
        ));
    }
    if !same_result(&a.acc_value, &b.acc_value) {
        return Some(format!(
            "accumulate value: {:?} vs {:?}",
            a.acc_value, b.acc_value
        ));
    }
    for (name, x, y) in [
        ("grad", &a.grad, &b.grad),
        ("accumulated grad", &a.acc_grad, &b.acc_grad),
        ("per_element", &a.per_element, &b.per_element),
    ] {
        if let Some(i) = first_bit_mismatch(x, y) {
            return Some(format!("{name}[{i}]: {:e} vs {:e}", x[i], y[i]));
        }
    }
    None
}
