//! Softmax cross-entropy (index and probability targets) and softmax focal
//! loss over `[N, C, S]` logits, on every ISA this CPU has, selected
//! explicitly, in one run:
//!
//! 1. the f64 reference (`tests/reference/softmax.rs`) against central
//!    finite differences of its own value, and against the definitions;
//! 2. accuracy of the kernels against the reference, with the bounds below;
//! 3. bit-identity of value, gradient (overwrite, accumulate, scaled) and
//!    per_element with `Isa::Scalar` for every shape family, both kernels,
//!    every slice offset 0..16, exhaustively and by proptest;
//! 4. semantics: the seven label types, `ignore_index`, class weights, label
//!    smoothing, probability targets, γ, the reductions and their
//!    denominators, accumulation;
//! 5. totality: ±1e30, ±inf and huge logit differences give the limits, a
//!    NaN stays in its sample;
//! 6. every error path, with the output buffers left untouched.
//!
//! # Accuracy bounds (measured worst case in brackets)
//!
//! Per sample, with `u = 2⁻²⁴`, `v` the reference value and `g_c` its
//! gradient, `d_c = m − x_c` the gaps to the maximum logit, `A = Σ_c |a_c|`
//! (cross-entropy) or `|G|` (focal), `q = 1 − p_y` and `κ_q` its condition
//! under the gap roundings (see the reference), and `n` the number of f32
//! additions in a row that a class sum of the sample goes through (taken
//! as `C` in the tile kernel, which adds the classes one by one — with a
//! compensated sum, so this is conservative there; `min(⌈C/64⌉, 4) + 6`
//! in the row kernel, whose lanes are folded pairwise):
//!
//! | loss | value: `|v̂ − v| ≤ 4u·V` | gradient: `|ĝ_c − g_c| ≤ 4u·Γ` |
//! |---|---|---|
//! | CE, index (± weights, smoothing, ignore) | `V = (1 + n)·|v| + Σ_c |g_c|·d_c` [1.15] | `Γ = (1 + n)·A` [0.85] |
//! | CE, probabilities (± weights, smoothing) | the same `V` [1.29] | the same `Γ` [1.03] |
//! | focal, γ ∈ {0, ½, 2, 5} (± weights) | `V = (1 + n + F)·|v| + Σ_c |g_c|·d_c` [0.90] | `Γ = (1 + n + F)·A` [0.87] |
//!
//! with `F = γ·(1 + n + κ_q + |ln q|)` (0 for γ = 0), plus an absolute
//! `2⁻¹²⁰·C·(A + 1)` for probabilities the kernel flushes below the
//! smallest normal f32. Where the bounds come from:
//! - `Σ_c |g_c|·d_c` is the first-order change of the value when each gap
//!   moves by its own relative amount: every f32 kernel rounds each gap
//!   `m − x_c` once (and `e^−d` amplifies that rounding by `d`), so none
//!   can do better than `u` times it;
//! - `n·|v|` and `n·A`: a sum of `n` non-negative f32 terms errs by at most
//!   `(n − 1)·u` relative (σ, the target mass, the smoothing sum); this
//!   term is reached when the terms are equal (many equal logits), see
//!   `reduced_value_within_2_pow_minus_20_with_many_classes`;
//! - the gradient's unit is the size of its two terms `A·p_c` and `a_c`;
//! - focal: `q^γ = e^(γ ln q)` turns a relative error `δ` of `q` into `γ·δ`,
//!   and the rounding of `ln q` into `γ·|ln q|·u`.
//!
//! The measured worst cases (all configurations, every shape family, edge
//! logits, the proptest included: ≤ 1.07 there) are at C = 2; 4 is about 3×
//! the largest. The reduced value errs by at most the sum of the
//! per-sample bounds plus `16u·Σ|v|` (the canonical sum) and two roundings
//! (the division, the conversion).
//! Run `cargo test --test softmax -- --nocapture` to see the measured
//! worst cases.

mod common;

/// The f64 reference (one copy, in `tests/reference/softmax.rs`; not every
/// item is used here).
#[allow(dead_code)]
#[path = "reference/softmax.rs"]
mod reference;

use common::{
    Outputs, SENTINEL, SplitMix64, U32, assert_sentinels_outside, first_bit_mismatch, isas,
    neumaier, outputs_mismatch, same_bits, sentinel_buffer,
};
use proptest::prelude::*;
use reference::{Loss as RefLoss, Problem as RefProblem, Sample, SampleTarget, Softmax};
use simdloss::loss::softmax::ROW_KERNEL_MIN_CLASSES;
use simdloss::{
    ClassAxisLoss, ClassShape, Grad, Isa, LossError, Probabilities, Reduction, SoftmaxCrossEntropy,
    SoftmaxFocal,
};

/// qemu-aarch64 runs these tests 10–50× slower: the sweeps are thinned
/// there (never skipped).
const SLOW_TARGET: bool = !cfg!(target_arch = "x86_64");

/// The γ values every focal sweep runs.
const GAMMAS: [f32; 4] = [0.0, 0.5, 2.0, 5.0];

// ---------------------------------------------------------------------------
// Labels of every type
// ---------------------------------------------------------------------------

/// The seven label types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LabelType {
    U8,
    U16,
    U32,
    U64,
    I32,
    I64,
    Usize,
}

const LABEL_TYPES: [LabelType; 7] = [
    LabelType::U8,
    LabelType::U16,
    LabelType::U32,
    LabelType::U64,
    LabelType::I32,
    LabelType::I64,
    LabelType::Usize,
];

impl LabelType {
    /// The usual "ignored" value of the type: 255 for `u8` masks, −100
    /// (PyTorch's default) for the signed types, something large (never a
    /// class here) for the other unsigned ones.
    fn ignore(self) -> i64 {
        match self {
            LabelType::U8 => 255,
            LabelType::U16 => 65_535,
            LabelType::Usize => 1_000_000,
            LabelType::U32 => 4_000_000_000,
            LabelType::U64 => i64::MAX,
            LabelType::I32 | LabelType::I64 => -100,
        }
    }

    /// The largest class count whose labels (and the ignore value, not a
    /// class) this type holds.
    fn max_classes(self) -> usize {
        match self {
            LabelType::U8 => 255,
            _ => usize::MAX,
        }
    }
}

/// Index labels of one of the seven types, as the losses receive them.
#[derive(Clone, Debug, PartialEq)]
enum Labels {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    Usize(Vec<usize>),
}

impl Labels {
    /// `classes` as labels of type `ty`, `None` written as `ignore`.
    fn new(ty: LabelType, classes: &[Option<usize>], ignore: i64) -> Self {
        let wide: Vec<i128> = classes
            .iter()
            .map(|c| c.map_or(i128::from(ignore), |c| c as i128))
            .collect();
        Self::from_wide(ty, &wide)
    }

    /// Labels of type `ty` with the values `wide` (each must fit).
    fn from_wide(ty: LabelType, wide: &[i128]) -> Self {
        fn cast<T: TryFrom<i128>>(wide: &[i128]) -> Vec<T>
        where
            T::Error: std::fmt::Debug,
        {
            wide.iter()
                .map(|&l| T::try_from(l).expect("fits"))
                .collect()
        }
        match ty {
            LabelType::U8 => Labels::U8(cast(wide)),
            LabelType::U16 => Labels::U16(cast(wide)),
            LabelType::U32 => Labels::U32(cast(wide)),
            LabelType::U64 => Labels::U64(cast(wide)),
            LabelType::I32 => Labels::I32(cast(wide)),
            LabelType::I64 => Labels::I64(cast(wide)),
            LabelType::Usize => Labels::Usize(cast(wide)),
        }
    }

    /// The labels as wide integers.
    fn wide(&self) -> Vec<i128> {
        match self {
            Labels::U8(v) => v.iter().map(|&l| i128::from(l)).collect(),
            Labels::U16(v) => v.iter().map(|&l| i128::from(l)).collect(),
            Labels::U32(v) => v.iter().map(|&l| i128::from(l)).collect(),
            Labels::U64(v) => v.iter().map(|&l| i128::from(l)).collect(),
            Labels::I32(v) => v.iter().map(|&l| i128::from(l)).collect(),
            Labels::I64(v) => v.iter().map(|&l| i128::from(l)).collect(),
            Labels::Usize(v) => v.iter().map(|&l| l as i128).collect(),
        }
    }

    /// The class of each sample (`None`: equal to `ignore`). Panics on a
    /// label that is neither a class below `c` nor `ignore`.
    fn classes(&self, ignore: i64, c: usize) -> Vec<Option<usize>> {
        self.wide()
            .into_iter()
            .map(|l| {
                if l == i128::from(ignore) {
                    None
                } else {
                    let class = usize::try_from(l).expect("a class");
                    assert!(class < c, "label {l} >= C = {c}");
                    Some(class)
                }
            })
            .collect()
    }
}

/// Runs `$body` with `$t` bound to the label slice inside `$labels`.
macro_rules! with_labels {
    ($labels:expr, |$t:ident| $body:expr) => {
        match $labels {
            Labels::U8(v) => {
                let $t = v.as_slice();
                $body
            }
            Labels::U16(v) => {
                let $t = v.as_slice();
                $body
            }
            Labels::U32(v) => {
                let $t = v.as_slice();
                $body
            }
            Labels::U64(v) => {
                let $t = v.as_slice();
                $body
            }
            Labels::I32(v) => {
                let $t = v.as_slice();
                $body
            }
            Labels::I64(v) => {
                let $t = v.as_slice();
                $body
            }
            Labels::Usize(v) => {
                let $t = v.as_slice();
                $body
            }
        }
    };
}

// ---------------------------------------------------------------------------
// The losses under test, behind one type
// ---------------------------------------------------------------------------

/// A configured loss.
#[derive(Clone, Copy, Debug)]
enum Loss<'a> {
    Ce(SoftmaxCrossEntropy<'a>),
    Focal(SoftmaxFocal<'a>),
}

/// A target.
#[derive(Clone, Copy, Debug)]
enum Target<'a> {
    Index(&'a Labels),
    Probabilities(&'a [f32]),
}

/// One loss with its target, runnable through the public API on any ISA.
#[derive(Clone, Copy, Debug)]
struct Case<'a> {
    loss: Loss<'a>,
    target: Target<'a>,
}

/// Runs `$body` with `$loss` the loss and `$t` the target of `$case`
/// (focal with probability targets is refused by the loss itself).
macro_rules! with_case {
    ($case:expr, |$loss:ident, $t:ident| $body:expr) => {
        match ($case.loss, $case.target) {
            (Loss::Ce($loss), Target::Index(labels)) => with_labels!(labels, |$t| $body),
            (Loss::Ce($loss), Target::Probabilities(p)) => {
                let $t = Probabilities(p);
                $body
            }
            (Loss::Focal($loss), Target::Index(labels)) => with_labels!(labels, |$t| $body),
            (Loss::Focal($loss), Target::Probabilities(p)) => {
                let $t = Probabilities(p);
                $body
            }
        }
    };
}

impl<'a> Case<'a> {
    fn ce(loss: SoftmaxCrossEntropy<'a>, target: Target<'a>) -> Self {
        Self {
            loss: Loss::Ce(loss),
            target,
        }
    }

    fn focal(loss: SoftmaxFocal<'a>, labels: &'a Labels) -> Self {
        Self {
            loss: Loss::Focal(loss),
            target: Target::Index(labels),
        }
    }

    fn with_isa(self, isa: Isa) -> Self {
        let loss = match self.loss {
            Loss::Ce(l) => Loss::Ce(l.with_isa(isa).expect("available")),
            Loss::Focal(l) => Loss::Focal(l.with_isa(isa).expect("available")),
        };
        Self { loss, ..self }
    }

    fn value(self, x: &[f32], shape: ClassShape, r: Reduction) -> Result<f32, LossError> {
        with_case!(self, |loss, t| loss.value(x, shape, t, r))
    }

    fn value_and_grad(
        self,
        x: &[f32],
        shape: ClassShape,
        r: Reduction,
        g: Grad<'_>,
    ) -> Result<f32, LossError> {
        with_case!(self, |loss, t| loss.value_and_grad(x, shape, t, r, g))
    }

    fn per_element(self, x: &[f32], shape: ClassShape, out: &mut [f32]) -> Result<(), LossError> {
        with_case!(self, |loss, t| loss.per_element(x, shape, t, out))
    }

    fn ignore_index(self) -> i64 {
        match self.loss {
            Loss::Ce(l) => l.ignore_index(),
            Loss::Focal(l) => l.ignore_index(),
        }
    }

    fn weight(self) -> Option<&'a [f32]> {
        match self.loss {
            Loss::Ce(l) => l.weight(),
            Loss::Focal(l) => l.weight(),
        }
    }

    fn gamma(self) -> f64 {
        match self.loss {
            Loss::Ce(_) => 0.0,
            Loss::Focal(l) => f64::from(l.gamma()),
        }
    }

    /// The classes of an index target (for the reference).
    fn classes(self, shape: ClassShape) -> Option<Vec<Option<usize>>> {
        match self.target {
            Target::Index(labels) => Some(labels.classes(self.ignore_index(), shape.classes())),
            Target::Probabilities(_) => None,
        }
    }

    /// The reference problem of this case on `x` (`classes` from
    /// [`Case::classes`]).
    fn reference<'b>(
        self,
        x: &'b [f32],
        shape: ClassShape,
        classes: Option<&'b [Option<usize>]>,
    ) -> RefProblem<'b>
    where
        'a: 'b,
    {
        let loss = match self.loss {
            Loss::Ce(l) => RefLoss::CrossEntropy {
                smoothing: f64::from(l.label_smoothing()),
            },
            Loss::Focal(l) => RefLoss::Focal {
                gamma: f64::from(l.gamma()),
            },
        };
        let target = match self.target {
            Target::Index(_) => reference::Target::Index(classes.expect("classes")),
            Target::Probabilities(p) => reference::Target::Probabilities(p),
        };
        RefProblem {
            loss,
            logits: x,
            n: shape.batch(),
            c: shape.classes(),
            s: shape.spatial(),
            target,
            weight: self.weight(),
        }
    }
}

/// Runs every verb of `case` on `isa`: `value(reduction)`;
/// `value_and_grad(reduction)` overwriting, scaled by `scale`; the same
/// accumulating onto `prior`; `per_element`. Every output slice sits at
/// `out_offset` inside a sentinel-filled buffer, and the test panics if
/// anything outside it was written.
#[allow(clippy::too_many_arguments)]
fn run_all(
    case: Case<'_>,
    isa: Isa,
    x: &[f32],
    shape: ClassShape,
    reduction: Reduction,
    prior: &[f32],
    scale: f32,
    out_offset: usize,
) -> Outputs {
    const SLACK: usize = 7;
    let case = case.with_isa(isa);
    let len = x.len();
    let samples = shape.samples();
    assert_eq!(prior.len(), len);
    let range = out_offset..out_offset + len;
    let value = case.value(x, shape, reduction);

    let mut grad = sentinel_buffer(out_offset, len, SLACK);
    let fused_value = case.value_and_grad(
        x,
        shape,
        reduction,
        Grad::overwrite(&mut grad[range.clone()]).scaled(scale),
    );
    assert_sentinels_outside(&grad, range.clone(), "grad (overwrite)");

    let mut acc_grad = sentinel_buffer(out_offset, len, SLACK);
    acc_grad[range.clone()].copy_from_slice(prior);
    let acc_value = case.value_and_grad(
        x,
        shape,
        reduction,
        Grad::accumulate(&mut acc_grad[range.clone()]).scaled(scale),
    );
    assert_sentinels_outside(&acc_grad, range.clone(), "grad (accumulate)");

    let out_range = out_offset..out_offset + samples;
    let mut per_element = sentinel_buffer(out_offset, samples, SLACK);
    let per_element_result = case.per_element(x, shape, &mut per_element[out_range.clone()]);
    assert_sentinels_outside(&per_element, out_range.clone(), "per_element");

    Outputs {
        value,
        fused_value,
        grad: grad[range.clone()].to_vec(),
        acc_value,
        acc_grad: acc_grad[range].to_vec(),
        per_element_result,
        per_element: per_element[out_range].to_vec(),
    }
}

/// Runs `case` on every ISA and panics unless each one's outputs have
/// the bits of `Isa::Scalar`'s; returns the scalar outputs.
#[allow(clippy::too_many_arguments)]
fn assert_same_bits_on_every_isa(
    case: Case<'_>,
    x: &[f32],
    shape: ClassShape,
    reduction: Reduction,
    prior: &[f32],
    scale: f32,
    out_offset: usize,
    what: &dyn Fn() -> String,
) -> Outputs {
    let want = run_all(
        case,
        Isa::Scalar,
        x,
        shape,
        reduction,
        prior,
        scale,
        out_offset,
    );
    for isa in isas() {
        let got = run_all(case, isa, x, shape, reduction, prior, scale, out_offset);
        if let Some(why) = outputs_mismatch(&want, &got) {
            panic!("{} on {isa} differs from scalar: {why}", what());
        }
    }
    want
}

/// Per-sample values and the unscaled `Sum` gradient on `isa`.
fn values_and_grad(case: Case<'_>, isa: Isa, x: &[f32], shape: ClassShape) -> (Vec<f32>, Vec<f32>) {
    let case = case.with_isa(isa);
    let mut v = vec![SENTINEL; shape.samples()];
    let mut g = vec![SENTINEL; shape.len()];
    case.per_element(x, shape, &mut v).expect("valid");
    case.value_and_grad(x, shape, Reduction::Sum, Grad::overwrite(&mut g))
        .expect("valid");
    (v, g)
}

// ---------------------------------------------------------------------------
// Deterministic test data
// ---------------------------------------------------------------------------

/// The flat position of class `k` of sample `j` in `[N, C, S]`.
fn at(shape: ClassShape, j: usize, k: usize) -> usize {
    let (c, s) = (shape.classes(), shape.spatial());
    ((j / s) * c + k) * s + j % s
}

/// The special logits: huge, infinite, tiny.
const SPECIAL_LOGITS: [f32; 8] = [
    1e30,
    -1e30,
    f32::INFINITY,
    f32::NEG_INFINITY,
    1e-30,
    0.0,
    -0.0,
    88.0,
];

/// One sample's logits and label in one of several regimes: typical (±4),
/// wide (±32), huge differences (±128: most probabilities underflow), a
/// dominant target (`p_y → 1`), ties at the maximum, special values
/// (±1e30, ±inf), a large common offset, a near-uniform row, and (8) a NaN.
fn sample_logits(rng: &mut SplitMix64, c: usize, regime: u64) -> (Vec<f32>, usize) {
    let mut x: Vec<f32> = (0..c).map(|_| rng.normalish()).collect();
    let mut y = rng.below(c as u64) as usize;
    match regime {
        0 => {}
        1 => x.iter_mut().for_each(|v| *v *= 8.0),
        2 => x.iter_mut().for_each(|v| *v = rng.symmetric(7)),
        3 => {
            // The target dominates by 8 to 48: q = 1 − p_y down to ~e^-48.
            let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            x[y] = m + 8.0 + 40.0 * rng.unit();
        }
        4 => {
            // Several classes tie at the maximum, the target often among them.
            let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max) + 1.0;
            for _ in 0..=rng.below(3) {
                let k = rng.below(c as u64) as usize;
                x[k] = m;
            }
            if rng.chance(1, 2) {
                x[y] = m;
            }
        }
        5 => {
            for _ in 0..=rng.below(3) {
                let k = rng.below(c as u64) as usize;
                x[k] = SPECIAL_LOGITS[rng.below(SPECIAL_LOGITS.len() as u64) as usize];
            }
        }
        6 => {
            let offset = [1e3f32, -1e4, 3e5, 1e6][rng.below(4) as usize];
            x.iter_mut().for_each(|v| *v += offset);
        }
        7 => x.iter_mut().for_each(|v| *v *= 1e-3),
        _ => {
            let k = rng.below(c as u64) as usize;
            x[k] = f32::NAN;
        }
    }
    if regime == 2 && rng.chance(1, 2) {
        // The target at the maximum half the time: p_y near 1 with
        // everything else underflowing.
        y = (0..c)
            .max_by(|&a, &b| x[a].total_cmp(&x[b]))
            .expect("c >= 1");
    }
    (x, y)
}

/// The inputs of one shape: logits (in every regime), classes (1 in 8
/// ignored), soft targets, class weights (1 in 16 exactly 0).
struct Data {
    shape: ClassShape,
    logits: Vec<f32>,
    classes: Vec<Option<usize>>,
    probs: Vec<f32>,
    weight: Vec<f32>,
    prior: Vec<f32>,
}

impl Data {
    /// `regimes`: the regimes to draw samples from (one each, cycled at
    /// random).
    fn new(seed: u64, shape: ClassShape, regimes: &[u64]) -> Self {
        let mut rng = SplitMix64::new(seed);
        let (c, samples) = (shape.classes(), shape.samples());
        let mut logits = vec![0.0f32; shape.len()];
        let mut probs = vec![0.0f32; shape.len()];
        let mut classes = Vec::with_capacity(samples);
        for j in 0..samples {
            let regime = regimes[rng.below(regimes.len() as u64) as usize];
            let (x, y) = sample_logits(&mut rng, c, regime);
            let t = soft_target(&mut rng, c, y);
            for k in 0..c {
                logits[at(shape, j, k)] = x[k];
                probs[at(shape, j, k)] = t[k];
            }
            classes.push(if rng.chance(1, 8) { None } else { Some(y) });
        }
        let weight = (0..c)
            .map(|_| {
                if rng.chance(1, 16) {
                    0.0
                } else {
                    0.25 + 2.0 * rng.unit()
                }
            })
            .collect();
        let prior = (0..shape.len()).map(|_| rng.symmetric(0)).collect();
        Self {
            shape,
            logits,
            classes,
            probs,
            weight,
            prior,
        }
    }
}

/// Soft targets for one sample: one-hot, normalized random, unnormalized,
/// all zero, or a sparse mix.
fn soft_target(rng: &mut SplitMix64, c: usize, y: usize) -> Vec<f32> {
    let mut t = vec![0.0f32; c];
    match rng.below(5) {
        0 => t[y] = 1.0,
        1 => {
            let raw: Vec<f32> = (0..c).map(|_| rng.unit()).collect();
            let sum: f32 = raw.iter().sum();
            for k in 0..c {
                t[k] = if sum > 0.0 { raw[k] / sum } else { 0.0 };
            }
        }
        2 => t.iter_mut().for_each(|v| *v = 2.0 * rng.unit()),
        3 => {}
        _ => {
            t[y] = 0.75;
            let k = rng.below(c as u64) as usize;
            t[k] += 0.25;
        }
    }
    t
}

// ---------------------------------------------------------------------------
// 1. The reference itself
// ---------------------------------------------------------------------------

/// Central difference of `f` at `x[k]`.
fn central_difference(f: impl Fn(&[f64]) -> f64, x: &[f64], k: usize) -> f64 {
    let h = 1e-6 * x[k].abs().max(1.0);
    let mut up = x.to_vec();
    let mut down = x.to_vec();
    up[k] += h;
    down[k] -= h;
    (f(&up) - f(&down)) / (2.0 * h)
}

#[test]
fn reference_gradient_matches_finite_differences() {
    let mut rng = SplitMix64::new(1);
    let mut checked = 0usize;
    let mut worst = 0.0f64;
    for c in [1usize, 2, 3, 5, 10, 64] {
        for row in 0..12 {
            // Moderate logits (the finite differences need a smooth
            // neighbourhood), with a dominant class in some rows.
            let mut x: Vec<f64> = (0..c).map(|_| 3.0 * f64::from(rng.normalish())).collect();
            let y = rng.below(c as u64) as usize;
            if row % 3 == 0 {
                x[y] += 9.0;
            }
            let w: Vec<f64> = (0..c).map(|_| 0.25 + 2.0 * f64::from(rng.unit())).collect();
            let t: Vec<f64> = (0..c).map(|_| f64::from(rng.unit())).collect();
            let mut losses: Vec<(String, RefLoss, SampleTarget<'_>, Option<&[f64]>)> = Vec::new();
            for eps in [0.0, 0.1, 1.0] {
                for weight in [None, Some(w.as_slice())] {
                    let ce = RefLoss::CrossEntropy { smoothing: eps };
                    losses.push((
                        format!("ce ε {eps}"),
                        ce,
                        SampleTarget::Index(Some(y)),
                        weight,
                    ));
                    losses.push((
                        format!("probs ε {eps}"),
                        ce,
                        SampleTarget::Probabilities(&t),
                        weight,
                    ));
                }
            }
            for gamma in [0.0, 0.5, 2.0, 5.0] {
                for weight in [None, Some(w.as_slice())] {
                    let focal = RefLoss::Focal { gamma };
                    losses.push((
                        format!("focal γ {gamma}"),
                        focal,
                        SampleTarget::Index(Some(y)),
                        weight,
                    ));
                }
            }
            for (name, loss, target, weight) in losses {
                let s = reference::sample(loss, &x, target, weight);
                let f = |x: &[f64]| reference::sample(loss, x, target, weight).value;
                for k in 0..c {
                    let fd = central_difference(f, &x, k);
                    let err = (s.grad[k] - fd).abs();
                    // h = 1e-6: truncation ~h²·f''' and cancellation
                    // ~1e-16·|f|/h, both well below 1e-7 here.
                    let tol = 1e-7 * (1.0 + s.value.abs() + s.grad[k].abs());
                    assert!(
                        err <= tol,
                        "{name}, C {c}, x {x:?}, y {y}: ∂/∂x_{k} = {}, finite difference {fd}",
                        s.grad[k]
                    );
                    worst = worst.max(err / tol);
                    checked += 1;
                }
            }
        }
    }
    println!("{checked} partial derivatives checked, worst {worst:.3} of the tolerance");
}

/// The reference against the definitions written naively (moderate
/// logits), PyTorch's composition of label smoothing, and a value from the
/// crate's docs.
#[test]
fn reference_matches_the_definitions() {
    let mut rng = SplitMix64::new(2);
    for c in [1usize, 2, 7, 100] {
        for _ in 0..20 {
            let x: Vec<f64> = (0..c).map(|_| 2.0 * f64::from(rng.normalish())).collect();
            let w: Vec<f64> = (0..c).map(|_| 0.5 + f64::from(rng.unit())).collect();
            let t: Vec<f64> = (0..c).map(|_| f64::from(rng.unit())).collect();
            let y = rng.below(c as u64) as usize;
            let z: f64 = x.iter().map(|v| v.exp()).sum();
            let log_p: Vec<f64> = x.iter().map(|v| v - z.ln()).collect();
            let p: Vec<f64> = x.iter().map(|v| v.exp() / z).collect();
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + b.abs());
            for eps in [0.0, 0.2, 1.0] {
                // PyTorch: (1−ε)·nll(w) + (ε/C)·Σ_c −w_c log p_c.
                let cf = c as f64;
                let want = (1.0 - eps) * -w[y] * log_p[y]
                    + eps / cf * (0..c).map(|k| -w[k] * log_p[k]).sum::<f64>();
                let got = reference::sample(
                    RefLoss::CrossEntropy { smoothing: eps },
                    &x,
                    SampleTarget::Index(Some(y)),
                    Some(&w),
                );
                assert!(
                    close(got.value, want),
                    "ce C {c} ε {eps}: {} vs {want}",
                    got.value
                );
                // Probability targets: −Σ w_c t'_c log p_c.
                let want: f64 = (0..c)
                    .map(|k| -w[k] * (t[k] * (1.0 - eps) + eps / cf) * log_p[k])
                    .sum();
                let got = reference::sample(
                    RefLoss::CrossEntropy { smoothing: eps },
                    &x,
                    SampleTarget::Probabilities(&t),
                    Some(&w),
                );
                assert!(
                    close(got.value, want),
                    "probs C {c} ε {eps}: {} vs {want}",
                    got.value
                );
            }
            for gamma in [0.0, 0.5, 2.0, 5.0] {
                let want = -w[y] * (1.0 - p[y]).powf(gamma) * log_p[y];
                let got = reference::sample(
                    RefLoss::Focal { gamma },
                    &x,
                    SampleTarget::Index(Some(y)),
                    Some(&w),
                );
                // 1 − p_y cancels in the naive form.
                let tol = 1e-9 * want.abs().max(1e-300);
                assert!(
                    (got.value - want).abs() <= tol || c == 1,
                    "focal C {c} γ {gamma}: {} vs {want}",
                    got.value
                );
            }
        }
    }
    // The doc example of `SoftmaxCrossEntropy`: mean of two samples.
    let a = reference::sample(
        RefLoss::CrossEntropy { smoothing: 0.0 },
        &[2.0, 0.0, -1.0],
        SampleTarget::Index(Some(0)),
        None,
    );
    let b = reference::sample(
        RefLoss::CrossEntropy { smoothing: 0.0 },
        &[0.5, 0.5, 3.0],
        SampleTarget::Index(Some(2)),
        None,
    );
    assert!((0.5 * (a.value + b.value) - 0.160_927).abs() < 1e-6);
    // Limits: +∞ on the target; two +∞; −∞ on the target; all −∞; NaN.
    let inf = f64::INFINITY;
    let ce = RefLoss::CrossEntropy { smoothing: 0.0 };
    let s = reference::sample(ce, &[inf, 0.0, -3.0], SampleTarget::Index(Some(0)), None);
    assert_eq!((s.value, s.grad.clone()), (0.0, vec![0.0, 0.0, 0.0]));
    let s = reference::sample(ce, &[inf, inf, 1.0], SampleTarget::Index(Some(1)), None);
    assert_eq!(s.value, 2f64.ln());
    assert_eq!(s.grad, vec![0.5, -0.5, 0.0]);
    let s = reference::sample(ce, &[-inf, 1.0, 1.0], SampleTarget::Index(Some(0)), None);
    assert_eq!((s.value, s.grad.clone()), (inf, vec![-1.0, 0.5, 0.5]));
    assert!(Softmax::new(&[-inf, -inf]).is_none());
    assert!(Softmax::new(&[0.0, f64::NAN]).is_none());
    let s = reference::sample(
        RefLoss::Focal { gamma: 0.5 },
        &[inf, 0.0],
        SampleTarget::Index(Some(0)),
        None,
    );
    assert_eq!((s.value, s.grad.clone()), (0.0, vec![0.0, 0.0]));
    let s = reference::sample(
        RefLoss::Focal { gamma: 0.0 },
        &[30.0, 0.0],
        SampleTarget::Index(Some(0)),
        None,
    );
    // γ = 0 is cross-entropy: G = 1.
    assert!((s.total - 1.0).abs() < 1e-15);
}

// ---------------------------------------------------------------------------
// 2. Accuracy against the reference
// ---------------------------------------------------------------------------

/// The bound constants of the table in the module docs.
const K_VALUE: f64 = 4.0;
const K_GRAD: f64 = 4.0;

/// The absolute slack for probabilities below the smallest normal f32.
fn flush(c: usize, total: f64) -> f64 {
    2f64.powi(-120) * c as f64 * (total + 1.0)
}

/// `n`: how many f32 additions in a row a class sum (`σ`, the target
/// mass, the smoothing sum) of one sample goes through. The tile kernel
/// adds the classes one by one (`C`); the row kernel puts class `c` in
/// lane `c % 64`, adds at most 4 chunks per lane before a block is folded
/// (6 pairwise levels) into f64.
fn summation_terms(shape: ClassShape) -> f64 {
    let c = shape.classes();
    if shape.spatial() == 1 && c >= ROW_KERNEL_MIN_CLASSES {
        (c.div_ceil(64).min(4) + 6) as f64
    } else {
        c as f64
    }
}

/// The relative error factor of `q^γ = e^(γ ln q)` beyond the sums
/// (focal, see the module docs): `γ·(1 + n + κ_q + |ln q|)`; 0 for
/// cross-entropy, γ = 0 and `q = 0` (where `q^γ` is exactly 0 or 1).
fn focal_factor(s: &Sample, gamma: f64, n: f64) -> f64 {
    if gamma > 0.0 && s.q > 0.0 {
        gamma * (1.0 + n + s.q_condition + s.q.ln().abs())
    } else {
        0.0
    }
}

/// The value's error unit `V` (see the module docs).
fn value_unit(s: &Sample, gamma: f64, n: f64) -> f64 {
    s.value.abs() * (1.0 + n + focal_factor(s, gamma, n)) + s.gap_sensitivity
}

/// The gradient's error unit `Γ` (see the module docs).
fn grad_unit(s: &Sample, gamma: f64, n: f64) -> f64 {
    s.total * (1.0 + n + focal_factor(s, gamma, n))
}

/// The worst `error / bound` seen, and where.
#[derive(Default)]
struct Worst {
    ratio: f64,
    at: String,
}

impl Worst {
    fn note(&mut self, ratio: f64, at: impl FnOnce() -> String) {
        if ratio > self.ratio {
            self.ratio = ratio;
            self.at = at();
        }
    }
}

/// `got` against `want` within `bound`: infinities and NaN must match
/// exactly. Returns `error / bound` (0 for exact matches).
fn ratio_within(got: f32, want: f64, bound: f64, what: &dyn Fn() -> String) -> f64 {
    if want.is_nan() {
        assert!(got.is_nan(), "{}: got {got:e}, reference NaN", what());
        return 0.0;
    }
    #[allow(clippy::cast_possible_truncation)]
    let rounded = want as f32;
    if rounded.is_infinite() {
        assert_eq!(got, rounded, "{}: reference {want:e}", what());
        return 0.0;
    }
    let err = (f64::from(got) - want).abs();
    assert!(
        err <= bound,
        "{}: got {got:e}, reference {want:e}, error {err:e} > bound {bound:e} ({:.2} units)",
        what(),
        err / bound
    );
    if bound > 0.0 { err / bound } else { 0.0 }
}

/// Checks the per-sample values and the `Sum` gradient of `case` (on
/// `Isa::Scalar`: the other ISAs have the same bits, checked elsewhere)
/// against the reference, and the reduced values (`Sum`, `Mean`); notes
/// the worst value and gradient errors in `worst`, in units of `u·V` and
/// `u·Γ` (the bounds with K = 1).
fn check_accuracy(
    case: Case<'_>,
    x: &[f32],
    shape: ClassShape,
    what: &str,
    worst: &mut (Worst, Worst),
) {
    let classes = case.classes(shape);
    let problem = case.reference(x, shape, classes.as_deref());
    let reference = problem.samples();
    let (v, g) = values_and_grad(case, Isa::Scalar, x, shape);
    let gamma = case.gamma();
    let c = shape.classes();
    let n_sum = summation_terms(shape);
    for (j, s) in reference.iter().enumerate() {
        let row = || (0..c).map(|k| x[at(shape, j, k)]);
        // Finite logits beyond the promised ±1e30 may overflow the gap
        // m − x (MAX − (−MAX) = ∞) where the exact value is still finite:
        // no accuracy is promised there.
        if row().any(|v| v.is_finite() && v.abs() > 1e30) {
            continue;
        }
        if !s.active || row().all(|v| v == f32::NEG_INFINITY) || row().any(f32::is_nan) {
            // Checked elsewhere: ignored samples by
            // `ignored_samples_add_nothing` (and, failing, by
            // `focal_ignored_sample_has_zero_gradient`), NaN by
            // `nan_stays_in_its_sample`, the all −∞ row by (failing)
            // `a_row_of_negative_infinities_has_a_nan_value`.
            continue;
        }
        let at_j = || {
            let row: Vec<f32> = (0..c.min(8)).map(|k| x[at(shape, j, k)]).collect();
            format!("{what}, sample {j}, logits {row:?}…, q {:e}", s.q)
        };
        let fl = flush(c, s.total);
        let unit = U32 * value_unit(s, gamma, n_sum) + fl;
        let r = ratio_within(v[j], s.value, K_VALUE * unit, &|| {
            format!("value of {}", at_j())
        });
        worst.0.note(r * K_VALUE, at_j);
        let unit = U32 * grad_unit(s, gamma, n_sum) + fl;
        for k in 0..c {
            let i = at(shape, j, k);
            let r = ratio_within(g[i], s.grad[k], K_GRAD * unit, &|| {
                format!("grad[{k}] of {}", at_j())
            });
            worst
                .1
                .note(r * K_GRAD, || format!("grad[{k}] of {}", at_j()));
        }
    }
    // The reduced values: the sum of the per-sample bounds and the
    // canonical sum's roundings.
    let scalar = case.with_isa(Isa::Scalar);
    let sum_ref = neumaier(reference.iter().map(|s| s.value));
    if sum_ref.is_finite() {
        let slack: f64 = reference
            .iter()
            .map(|s| K_VALUE * (U32 * value_unit(s, gamma, n_sum) + flush(c, s.total)))
            .sum::<f64>()
            + 16.0 * U32 * reference.iter().map(|s| s.value.abs()).sum::<f64>();
        for (reduction, factor) in [
            (Reduction::Sum, problem.reduction_factor(false)),
            (Reduction::Mean, problem.reduction_factor(true)),
        ] {
            let got = scalar.value(x, shape, reduction).expect("valid");
            let want = sum_ref * factor;
            let bound = slack * factor + 2.0 * U32 * want.abs();
            ratio_within(got, want, bound, &|| format!("{what}: {reduction:?}"));
        }
    }
}

/// The shapes the accuracy tests run: both kernels, tiles inside and
/// across images, C = 1.
fn accuracy_shapes() -> Vec<ClassShape> {
    let scale = if SLOW_TARGET { 4 } else { 1 };
    [
        (3000 / scale, 1, 1),
        (2000 / scale, 2, 1),
        (1500 / scale, 3, 1),
        (600 / scale, 10, 1),
        (300 / scale, ROW_KERNEL_MIN_CLASSES - 1, 1),
        (300 / scale, ROW_KERNEL_MIN_CLASSES, 1),
        (300 / scale, 63, 1),
        (300 / scale, 64, 1),
        (200 / scale, 65, 1),
        (40 / scale, 1000, 1),
        (3, 5, 700 / scale),
        (5, 21, 67),
        (2, 150, 33),
        (1, 500, 70),
        (1, 1000, 65),
    ]
    .into_iter()
    .map(|(n, c, s)| ClassShape::new(n, c, s).expect("valid"))
    .collect()
}

const ALL_REGIMES: [u64; 8] = [0, 1, 2, 3, 4, 5, 6, 7];

#[test]
fn cross_entropy_index_matches_reference() {
    let mut worst = (Worst::default(), Worst::default());
    for (i, shape) in accuracy_shapes().into_iter().enumerate() {
        let data = Data::new(100 + i as u64, shape, &ALL_REGIMES);
        let labels = Labels::new(LabelType::I64, &data.classes, -100);
        let ce = SoftmaxCrossEntropy::new();
        for (name, loss) in [
            ("plain", ce),
            ("weighted", ce.with_weight(&data.weight)),
            ("smoothed 0.1", ce.with_label_smoothing(0.1).expect("valid")),
            (
                "weighted, smoothed 0.3",
                ce.with_weight(&data.weight)
                    .with_label_smoothing(0.3)
                    .expect("valid"),
            ),
            ("smoothed 1", ce.with_label_smoothing(1.0).expect("valid")),
        ] {
            let case = Case::ce(loss, Target::Index(&labels));
            check_accuracy(
                case,
                &data.logits,
                shape,
                &format!("ce {name} {shape:?}"),
                &mut worst,
            );
        }
    }
    println!(
        "ce index: value {:.3} u·V ({}), grad {:.3} u·Γ ({})",
        worst.0.ratio, worst.0.at, worst.1.ratio, worst.1.at
    );
}

#[test]
fn cross_entropy_probabilities_matches_reference() {
    let mut worst = (Worst::default(), Worst::default());
    for (i, shape) in accuracy_shapes().into_iter().enumerate() {
        let data = Data::new(200 + i as u64, shape, &ALL_REGIMES);
        let ce = SoftmaxCrossEntropy::new();
        for (name, loss) in [
            ("plain", ce),
            ("weighted", ce.with_weight(&data.weight)),
            (
                "weighted, smoothed 0.2",
                ce.with_weight(&data.weight)
                    .with_label_smoothing(0.2)
                    .expect("valid"),
            ),
        ] {
            let case = Case::ce(loss, Target::Probabilities(&data.probs));
            check_accuracy(
                case,
                &data.logits,
                shape,
                &format!("probs {name} {shape:?}"),
                &mut worst,
            );
        }
    }
    println!(
        "ce probabilities: value {:.3} u·V ({}), grad {:.3} u·Γ ({})",
        worst.0.ratio, worst.0.at, worst.1.ratio, worst.1.at
    );
}

#[test]
fn focal_matches_reference() {
    for gamma in GAMMAS {
        let mut worst = (Worst::default(), Worst::default());
        for (i, shape) in accuracy_shapes().into_iter().enumerate() {
            let data = Data::new(300 + i as u64, shape, &ALL_REGIMES);
            let labels = Labels::new(LabelType::U32, &data.classes, 255);
            let focal = SoftmaxFocal::new(gamma)
                .expect("valid")
                .with_ignore_index(255);
            for (name, loss) in [
                ("plain", focal),
                ("weighted", focal.with_weight(&data.weight)),
            ] {
                let case = Case::focal(loss, &labels);
                check_accuracy(
                    case,
                    &data.logits,
                    shape,
                    &format!("focal γ {gamma} {name} {shape:?}"),
                    &mut worst,
                );
            }
        }
        println!(
            "focal γ {gamma}: value {:.3} u·V ({}), grad {:.3} u·Γ ({})",
            worst.0.ratio, worst.0.at, worst.1.ratio, worst.1.at
        );
    }
}

/// DESIGN.md §4: the reduced value within 2⁻²⁰ relative of the f64
/// reference (well-conditioned data: typical logits).
#[test]
fn reduced_value_within_2_pow_minus_20() {
    let mut worst = 0.0f64;
    for (i, shape) in accuracy_shapes().into_iter().enumerate() {
        let data = Data::new(400 + i as u64, shape, &[0, 1, 7]);
        let labels = Labels::new(LabelType::I64, &data.classes, -100);
        let ce = SoftmaxCrossEntropy::new().with_weight(&data.weight);
        let cases = [
            Case::ce(ce, Target::Index(&labels)),
            Case::ce(
                ce.with_label_smoothing(0.1).expect("valid"),
                Target::Index(&labels),
            ),
            Case::ce(ce, Target::Probabilities(&data.probs)),
            Case::focal(SoftmaxFocal::new(2.0).expect("valid"), &labels),
        ];
        for case in cases {
            let classes = case.classes(shape);
            let problem = case.reference(&data.logits, shape, classes.as_deref());
            let sum = neumaier(problem.samples().iter().map(|s| s.value));
            for isa in isas() {
                let case = case.with_isa(isa);
                for (reduction, mean) in [(Reduction::Sum, false), (Reduction::Mean, true)] {
                    let want = sum * problem.reduction_factor(mean);
                    let got = case.value(&data.logits, shape, reduction).expect("valid");
                    let rel = common::rel_err(f64::from(got), want);
                    assert!(
                        rel <= 2f64.powi(-20),
                        "{case:?} {shape:?} on {isa} {reduction:?}: {got:e} vs {want:e}, relative {rel:e}"
                    );
                    worst = worst.max(rel);
                }
            }
        }
    }
    println!(
        "reduced value: worst relative error {:.3} · 2^-24",
        worst / U32
    );
}

/// DESIGN.md §4's 2⁻²⁰ bar for the reduced value must also hold for maps
/// with many classes.
///
/// Regression test (was a bug, fixed by a compensated sum in the tile
/// kernel): the tile kernel (every `S > 1` shape) summed each sample's
/// classes one by one in plain f32 (`σ`, the smoothing and target sums), so a
/// sum of `C` similar terms errs by up to about `C·u/2` relative instead
/// of the canonical order's few `u` (the row kernel, `S = 1`, is fine).
/// Minimal case: `[1, 1000, 2]`, logits 0 except class 0 = 5 in both
/// pixels, labels `[0u8, 0]`, `Mean`: 2.0452528 against the exact
/// 2.0452652607 (6.4·2⁻²⁰ relative, ~100 ulp); the same logits as
/// `[2, 1000, 1]` (row kernel) give 0.03·2⁻²⁰. C = 300 already gives
/// 1.4·2⁻²⁰, C = 2000 9.1·2⁻²⁰.
#[test]
fn reduced_value_within_2_pow_minus_20_with_many_classes() {
    let mut failures = Vec::new();
    for (c, s) in [(1000usize, 2usize), (1000, 1), (300, 64), (2000, 3)] {
        let shape = ClassShape::new(1, c, s).expect("valid");
        for top in [3.0f32, 5.0, 8.0] {
            let mut x = vec![0.0f32; shape.len()];
            for j in 0..s {
                x[at(shape, j, 0)] = top;
            }
            let labels = vec![0u8; s];
            // ln(e^top + C − 1) − top, per sample.
            let want = (f64::from(top).exp() + (c - 1) as f64).ln() - f64::from(top);
            for isa in isas() {
                let ce = SoftmaxCrossEntropy::new().with_isa(isa).expect("ok");
                let got = ce
                    .value(&x, shape, &labels, Reduction::Mean)
                    .expect("valid");
                let rel = common::rel_err(f64::from(got), want);
                if rel > 2f64.powi(-20) {
                    failures.push(format!(
                        "{shape:?} top {top} on {isa}: {got:e} vs {want:e}, {:.2}·2^-20",
                        rel / 2f64.powi(-20)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

// ---------------------------------------------------------------------------
// 3. Bit-identity across ISAs, shapes and offsets
// ---------------------------------------------------------------------------

/// The gradient scale of a case (mostly ≠ 1).
fn scale_for(case: usize) -> f32 {
    [0.75, -3.0, 1.0, 1e-3, 6.5][case % 5]
}

/// `v` placed `offset` elements into a sentinel-filled buffer: the call
/// reads `&buf[offset..]`.
fn at_offset(v: &[f32], offset: usize) -> Vec<f32> {
    let mut buf = vec![SENTINEL; offset];
    buf.extend_from_slice(v);
    buf
}

/// The label type and ignore value a sweep uses for `c` classes, cycling
/// through all seven types.
fn label_type_for(c: usize, i: usize) -> LabelType {
    let ty = LABEL_TYPES[i % LABEL_TYPES.len()];
    if c > ty.max_classes() {
        LabelType::U16
    } else {
        ty
    }
}

/// The configurations of the sweeps, `k` selecting one: cross-entropy
/// plain / weighted and smoothed / with probabilities (weighted and
/// smoothed) / plain probabilities, focal with each γ (weighted on odd
/// `k`).
fn sweep_case<'a>(
    k: usize,
    data: &'a Data,
    labels: &'a Labels,
    probs: &'a [f32],
    ignore: i64,
) -> Case<'a> {
    let ce = SoftmaxCrossEntropy::new().with_ignore_index(ignore);
    match k % 8 {
        0 => Case::ce(ce, Target::Index(labels)),
        1 => Case::ce(
            ce.with_weight(&data.weight)
                .with_label_smoothing(0.1)
                .expect("valid"),
            Target::Index(labels),
        ),
        2 => Case::ce(
            ce.with_weight(&data.weight)
                .with_label_smoothing(0.05)
                .expect("valid"),
            Target::Probabilities(probs),
        ),
        3 => Case::ce(ce, Target::Probabilities(probs)),
        k => {
            let focal = SoftmaxFocal::new(GAMMAS[k - 4])
                .expect("valid")
                .with_ignore_index(ignore);
            let focal = if k % 2 == 1 {
                focal.with_weight(&data.weight)
            } else {
                focal
            };
            Case::focal(focal, labels)
        }
    }
}

/// Shapes around every boundary: C = 1, 2, 3 and the row kernel's
/// threshold (63 / 64 / 65, 127, 128, 1000) with S = 1; maps whose tiles
/// are inside an image (S ≥ 64), straddle images or are partial.
fn sweep_shapes() -> Vec<ClassShape> {
    let mut shapes = vec![
        (1, 1, 1),
        (70, 1, 1),
        (130, 2, 1),
        (65, 3, 1),
        (9, 5, 1),
        (5, ROW_KERNEL_MIN_CLASSES - 1, 1),
        (5, ROW_KERNEL_MIN_CLASSES, 1),
        (5, ROW_KERNEL_MIN_CLASSES + 1, 1),
        (4, 63, 1),
        (3, 64, 1),
        (3, 65, 1),
        (2, 127, 1),
        (2, 128, 1),
        (2, 1000, 1),
        (1, 3, 63),
        (2, 3, 64),
        (2, 4, 65),
        (3, 2, 130),
        (1, 5, 300),
        (4, 21, 17),
        (2, 64, 2),
        (1, 70, 3),
    ];
    if SLOW_TARGET {
        shapes.retain(|&(n, c, s)| n * c * s <= 1000);
    }
    shapes
        .into_iter()
        .map(|(n, c, s)| ClassShape::new(n, c, s).expect("valid"))
        .collect()
}

#[test]
fn bit_identical_on_every_isa_for_every_shape_and_offset() {
    let offsets = if SLOW_TARGET { 3 } else { 16 };
    let mut compared = 0usize;
    for (i, shape) in sweep_shapes().into_iter().enumerate() {
        let data = Data::new(500 + i as u64, shape, &PROPTEST_REGIMES);
        for offset in 0..offsets {
            let ty = label_type_for(shape.classes(), offset + i);
            let labels = Labels::new(ty, &data.classes, ty.ignore());
            let logits = at_offset(&data.logits, offset);
            let probs = at_offset(&data.probs, (offset * 5) % 16);
            let probs = &probs[(offset * 5) % 16..];
            let prior = &data.prior;
            // Every configuration at offset 0; then two per offset.
            let ks: Vec<usize> = if offset == 0 {
                (0..8).collect()
            } else {
                vec![offset % 8, (offset + 3) % 8]
            };
            for k in ks {
                let case = sweep_case(k, &data, &labels, probs, ty.ignore());
                let reduction = [Reduction::Mean, Reduction::Sum][(k + offset) % 2];
                let out_offset = (offset * 7) % 16;
                let what =
                    || format!("{shape:?}, config {k}, offset {offset}, {ty:?}, {reduction:?}");
                let out = assert_same_bits_on_every_isa(
                    case,
                    &logits[offset..],
                    shape,
                    reduction,
                    prior,
                    scale_for(k + offset),
                    out_offset,
                    &what,
                );
                compared += out.grad.len() + out.acc_grad.len() + out.per_element.len();
            }
        }
    }
    println!(
        "{compared} output words compared with scalar on {:?}",
        isas()
    );
}

// ---------------------------------------------------------------------------
// Property tests: any shape, offset, label type and configuration
// ---------------------------------------------------------------------------

/// Every regime, NaN included.
const PROPTEST_REGIMES: [u64; 9] = [0, 1, 2, 3, 4, 5, 6, 7, 8];

/// One property case.
#[derive(Clone, Debug)]
struct PropCase {
    n: usize,
    c: usize,
    s: usize,
    seed: u64,
    in_offset: usize,
    out_offset: usize,
    label_type: LabelType,
    config: usize,
    mean: bool,
    scale: f32,
}

fn shape_strategy() -> impl Strategy<Value = (usize, usize, usize)> {
    prop_oneof![
        // Classifiers with 1, 2, 3 classes (tile kernel, many tiles).
        (1usize..=200, prop::sample::select(vec![1usize, 2, 3])).prop_map(|(n, c)| (n, c, 1)),
        // 1000 classes (row kernel, a tail chunk of 40).
        (1usize..=4).prop_map(|n| (n, 1000, 1)),
        // Maps: any S up to 300, small C.
        (1usize..=3, 1usize..=6, 1usize..=300),
        // Around the row kernel's threshold and its 64-class chunk.
        (
            1usize..=8,
            prop_oneof![
                ROW_KERNEL_MIN_CLASSES - 3..=ROW_KERNEL_MIN_CLASSES + 3,
                60usize..=68
            ]
        )
            .prop_map(|(n, c)| (n, c, 1)),
    ]
}

fn prop_case_strategy() -> impl Strategy<Value = PropCase> {
    (
        shape_strategy(),
        any::<u64>(),
        0usize..16,
        0usize..16,
        prop::sample::select(LABEL_TYPES.to_vec()),
        0usize..8,
        any::<bool>(),
        prop_oneof![Just(1.0f32), -4.0f32..4.0],
    )
        .prop_map(
            |((n, c, s), seed, in_offset, out_offset, label_type, config, mean, scale)| PropCase {
                n,
                c,
                s,
                seed,
                in_offset,
                out_offset,
                label_type: if c > label_type.max_classes() {
                    LabelType::I32
                } else {
                    label_type
                },
                config,
                mean,
                scale,
            },
        )
}

const PROPTEST_CASES: u32 = if SLOW_TARGET { 64 } else { 1024 };

proptest! {
    #![proptest_config(ProptestConfig::with_cases(PROPTEST_CASES))]

    /// Every verb gives the same bits on every ISA for any shape, offset,
    /// label type and configuration (edge logits and NaN included),
    /// writes nothing outside its output, and the scalar results are
    /// within the accuracy bounds of the reference.
    #[test]
    fn any_case_same_bits_and_accurate(p in prop_case_strategy()) {
        let shape = ClassShape::new(p.n, p.c, p.s).expect("valid");
        let data = Data::new(p.seed, shape, &PROPTEST_REGIMES);
        let ignore = p.label_type.ignore();
        let labels = Labels::new(p.label_type, &data.classes, ignore);
        let logits = at_offset(&data.logits, p.in_offset);
        let probs = at_offset(&data.probs, p.in_offset);
        let (x, probs) = (&logits[p.in_offset..], &probs[p.in_offset..]);
        let case = sweep_case(p.config, &data, &labels, probs, ignore);
        let reduction = if p.mean { Reduction::Mean } else { Reduction::Sum };
        let what = || format!("{p:?}");
        assert_same_bits_on_every_isa(case, x, shape, reduction, &data.prior, p.scale, p.out_offset, &what);
        let mut worst = (Worst::default(), Worst::default());
        check_accuracy(case, x, shape, &what(), &mut worst);
    }
}

// ---------------------------------------------------------------------------
// 4. Semantics
// ---------------------------------------------------------------------------

/// The canonical sum over samples of a class-axis loss: the row kernel
/// (`S = 1`, `C ≥ ROW_KERNEL_MIN_CLASSES`) sums every sample's value
/// exactly; the tile kernel folds each tile of 64 consecutive samples by
/// the pairwise tree (one value per lane: lane `l` with `l + 32`, …,
/// `l + 1`) and sums the tile partials exactly; either rounds once to f64.
/// (The exact sums use `ExactSum`, which its own unit tests check against
/// Shewchuk's correctly rounded sum.)
fn canonical_sum(values: &[f32], shape: ClassShape) -> f64 {
    use simdloss::loss::softmax::ROW_KERNEL_MIN_CLASSES;
    use simdloss::simd::exact_sum::ExactSum;
    let mut exact = ExactSum::new();
    if shape.spatial() == 1 && shape.classes() >= ROW_KERNEL_MIN_CLASSES {
        values.iter().for_each(|&v| exact.add(v));
        return exact.to_f64();
    }
    for tile in values.chunks(64) {
        let mut lanes = [0.0f32; 64];
        lanes[..tile.len()].copy_from_slice(tile);
        let mut half = 32;
        while half > 0 {
            for k in 0..half {
                lanes[k] += lanes[k + half];
            }
            half /= 2;
        }
        exact.add(lanes[0]);
    }
    exact.to_f64()
}

/// Everything the verbs of `case` produce on `isa`, as bits: value (Mean,
/// Sum), overwritten gradients (Mean, Sum), per-element values.
fn verb_bits(case: Case<'_>, isa: Isa, x: &[f32], shape: ClassShape) -> Vec<u32> {
    let case = case.with_isa(isa);
    let bits = |v: f32| if v.is_nan() { 0x7fc0_0000 } else { v.to_bits() };
    let mut out = Vec::new();
    for r in [Reduction::Mean, Reduction::Sum] {
        out.push(bits(case.value(x, shape, r).expect("valid")));
        let mut g = vec![SENTINEL; shape.len()];
        out.push(bits(
            case.value_and_grad(x, shape, r, Grad::overwrite(&mut g))
                .expect("valid"),
        ));
        out.extend(g.iter().map(|&v| bits(v)));
    }
    let mut pe = vec![SENTINEL; shape.samples()];
    case.per_element(x, shape, &mut pe).expect("valid");
    out.extend(pe.iter().map(|&v| bits(v)));
    out
}

/// The same labels as `&[T]`, `&[T; 4]` and `&Vec<T>` give the same bits.
fn label_forms_agree<T>(ty: LabelType)
where
    T: simdloss::Label + TryFrom<i128> + std::fmt::Debug,
    <T as TryFrom<i128>>::Error: std::fmt::Debug,
{
    let shape = ClassShape::new(2, 3, 2).expect("valid");
    let x = [
        0.5f32, -1.0, 2.0, 0.25, 3.0, -0.5, 1.0, 1.5, -2.0, 0.0, 0.75, 4.0,
    ];
    let ignore = ty.ignore();
    let wide = [2i128, i128::from(ignore), 0, 1];
    let array: [T; 4] = wide.map(|l| T::try_from(l).expect("fits"));
    let vec: Vec<T> = wide
        .iter()
        .map(|&l| T::try_from(l).expect("fits"))
        .collect();
    let ce = SoftmaxCrossEntropy::new()
        .with_ignore_index(ignore)
        .with_label_smoothing(0.2)
        .expect("valid");
    let focal = SoftmaxFocal::new(2.0)
        .expect("valid")
        .with_ignore_index(ignore);
    for isa in isas() {
        let (ce, focal) = (
            ce.with_isa(isa).expect("ok"),
            focal.with_isa(isa).expect("ok"),
        );
        for r in [Reduction::Mean, Reduction::Sum] {
            let a = ce.value(&x, shape, array.as_slice(), r).expect("ok");
            let b = ce.value(&x, shape, &array, r).expect("ok");
            let c = ce.value(&x, shape, &vec, r).expect("ok");
            assert!(
                same_bits(a, b) && same_bits(a, c),
                "{ty:?} {r:?}: {a} {b} {c}"
            );
            let a = focal.value(&x, shape, array.as_slice(), r).expect("ok");
            let b = focal.value(&x, shape, vec.as_slice(), r).expect("ok");
            assert!(same_bits(a, b), "{ty:?} {r:?}: {a} {b}");
        }
        let mut g1 = [0.0f32; 12];
        let mut g2 = [1.0f32; 12];
        ce.value_and_grad(&x, shape, &array, Reduction::Mean, Grad::overwrite(&mut g1))
            .expect("ok");
        ce.value_and_grad(&x, shape, &vec, Reduction::Mean, Grad::overwrite(&mut g2))
            .expect("ok");
        assert_eq!(g1.map(f32::to_bits), g2.map(f32::to_bits), "{ty:?}");
        // The ignored sample (j = 1: n 0, s 1) has a zero gradient.
        for k in 0..3 {
            assert_eq!(g1[k * 2 + 1], 0.0, "{ty:?}");
        }
    }
}

/// All seven label types (each with its usual ignore value: 255 on `u8`,
/// −100 on `i32` / `i64`, …) give the same bits, on both kernels, and so
/// do slices, arrays and `Vec`s of them.
#[test]
fn every_label_type_gives_the_same_bits() {
    label_forms_agree::<u8>(LabelType::U8);
    label_forms_agree::<u16>(LabelType::U16);
    label_forms_agree::<u32>(LabelType::U32);
    label_forms_agree::<u64>(LabelType::U64);
    label_forms_agree::<i32>(LabelType::I32);
    label_forms_agree::<i64>(LabelType::I64);
    label_forms_agree::<usize>(LabelType::Usize);
    for (i, (n, c, s)) in [(9usize, 70usize, 1usize), (3, 5, 77), (100, 4, 1)]
        .into_iter()
        .enumerate()
    {
        let shape = ClassShape::new(n, c, s).expect("valid");
        let data = Data::new(600 + i as u64, shape, &ALL_REGIMES);
        let reference_labels = Labels::new(LabelType::I64, &data.classes, -100);
        for k in [0usize, 1, 6, 7] {
            let want = verb_bits(
                sweep_case(k, &data, &reference_labels, &data.probs, -100),
                Isa::Scalar,
                &data.logits,
                shape,
            );
            for ty in LABEL_TYPES {
                let labels = Labels::new(ty, &data.classes, ty.ignore());
                let case = sweep_case(k, &data, &labels, &data.probs, ty.ignore());
                for isa in isas() {
                    let got = verb_bits(case, isa, &data.logits, shape);
                    assert!(got == want, "{ty:?} on {isa}, {shape:?}, config {k}");
                }
            }
        }
    }
}

/// Runs `case` (Sum, unscaled) and returns per-sample values and gradient
/// on every ISA after checking they agree.
fn outputs_on_every_isa(case: Case<'_>, x: &[f32], shape: ClassShape) -> (Vec<f32>, Vec<f32>) {
    let want = values_and_grad(case, Isa::Scalar, x, shape);
    for isa in isas() {
        let got = values_and_grad(case, isa, x, shape);
        assert!(
            first_bit_mismatch(&got.0, &want.0).is_none()
                && first_bit_mismatch(&got.1, &want.1).is_none(),
            "{shape:?} on {isa} differs from scalar"
        );
    }
    want
}

/// Panics unless every ignored sample has value 0 and a zero gradient.
fn assert_ignored_add_nothing(case: Case<'_>, data: &Data, what: &str) {
    let shape = data.shape;
    let (v, g) = outputs_on_every_isa(case, &data.logits, shape);
    for (j, class) in data.classes.iter().enumerate() {
        if class.is_none() {
            assert_eq!(v[j], 0.0, "{what}: value of ignored sample {j}");
            for k in 0..shape.classes() {
                let i = at(shape, j, k);
                assert_eq!(
                    g[i],
                    0.0,
                    "{what}: grad[{k}] of ignored sample {j} (logits {:?}…)",
                    (0..shape.classes().min(6))
                        .map(|k| data.logits[at(shape, j, k)])
                        .collect::<Vec<_>>()
                );
            }
        }
    }
}

/// The shapes the semantic tests run (both kernels, tiles in and across
/// images).
fn semantic_shapes() -> [ClassShape; 5] {
    [
        (200, 3, 1),
        (20, 70, 1),
        (2, 5, 100),
        (3, 64, 1),
        (70, ROW_KERNEL_MIN_CLASSES - 1, 1),
    ]
    .map(|(n, c, s)| ClassShape::new(n, c, s).expect("valid"))
}

/// Ignored samples add 0 to the value and get a zero gradient, whatever
/// their logits (every regime, NaN included); cross-entropy with index
/// targets, weights and smoothing.
#[test]
fn ignored_samples_add_nothing() {
    for (i, shape) in semantic_shapes().into_iter().enumerate() {
        let data = Data::new(700 + i as u64, shape, &PROPTEST_REGIMES);
        let labels = Labels::new(LabelType::U8, &data.classes, 255);
        let ce = SoftmaxCrossEntropy::new().with_ignore_index(255);
        for loss in [
            ce,
            ce.with_weight(&data.weight),
            ce.with_weight(&data.weight)
                .with_label_smoothing(0.4)
                .expect("valid"),
        ] {
            let case = Case::ce(loss, Target::Index(&labels));
            assert_ignored_add_nothing(case, &data, &format!("{loss:?} {shape:?}"));
        }
    }
}

/// The focal loss must give an ignored sample a zero gradient too.
///
/// Regression test (was a bug, fixed by masking the coefficient): for an
/// ignored sample the kernels use the logit 0 as "the target's" (`x_y = 0`), so with every logit below 0 the gap `d_y = m − 0`
/// is negative, `p_y = e^(−d_y)/(1+σ)` exceeds 1, `q = 1 − p_y < 0`,
/// `ln q` is NaN, and the coefficient `G = act·w_y·q^γ·(…)` is `0·NaN`:
/// the whole gradient of the ignored sample is NaN (for γ = 0 the same
/// happens once `m < −88`, where `e^(−d_y)` overflows). The value is
/// masked and stays 0. Minimal case: `SoftmaxFocal::new(2.0)`, shape
/// `[1, 2, 1]`, logits `[-1.0, -2.0]`, label `[-100i64]`: gradient
/// `[NaN, NaN]` instead of `[0, 0]` (γ = 0: logits `[-1e30]`, C = 1).
#[test]
fn focal_ignored_sample_has_zero_gradient() {
    // The minimal cases first, on both kernels.
    for isa in isas() {
        for (gamma, logits) in [(2.0f32, vec![-1.0f32, -2.0]), (0.0, vec![-1e30])] {
            let c = logits.len();
            let shape = ClassShape::classifier(1, c).expect("valid");
            let focal = SoftmaxFocal::new(gamma)
                .expect("valid")
                .with_isa(isa)
                .expect("ok");
            let mut g = vec![SENTINEL; c];
            let v = focal
                .value_and_grad(
                    &logits,
                    shape,
                    &[-100i64],
                    Reduction::Sum,
                    Grad::overwrite(&mut g),
                )
                .expect("valid");
            assert_eq!(v, 0.0, "γ {gamma} on {isa}");
            assert!(
                g.iter().all(|&g| g == 0.0),
                "γ {gamma} on {isa}: logits {logits:?}, ignored label: gradient {g:?}, expected 0"
            );
        }
        let mut row = vec![-3.0f32; 70];
        row[5] = -1.0;
        let shape = ClassShape::classifier(1, 70).expect("valid");
        let focal = SoftmaxFocal::new(0.5)
            .expect("valid")
            .with_isa(isa)
            .expect("ok");
        let mut g = vec![SENTINEL; 70];
        focal
            .value_and_grad(
                &row,
                shape,
                &[-100i64],
                Reduction::Sum,
                Grad::overwrite(&mut g),
            )
            .expect("valid");
        assert!(
            g.iter().all(|&g| g == 0.0),
            "row kernel on {isa}: {:?}",
            &g[..4]
        );
    }
    for (i, shape) in semantic_shapes().into_iter().enumerate() {
        let data = Data::new(710 + i as u64, shape, &PROPTEST_REGIMES);
        let labels = Labels::new(LabelType::I64, &data.classes, -100);
        for gamma in GAMMAS {
            let focal = SoftmaxFocal::new(gamma).expect("valid");
            for loss in [focal, focal.with_weight(&data.weight)] {
                let case = Case::focal(loss, &labels);
                assert_ignored_add_nothing(case, &data, &format!("{loss:?} {shape:?}"));
            }
        }
    }
}

/// Every sample ignored: value 0 for both reductions (PyTorch gives NaN),
/// a zero gradient overwritten, the prior left as it was when
/// accumulating; `ignore_index` may also be a class (0), −100 on `i64`,
/// 255 on `u8`.
#[test]
fn all_ignored_gives_zero() {
    for shape in semantic_shapes() {
        let data = Data::new(720, shape, &[0, 1]);
        let none = vec![None; shape.samples()];
        for (ty, ignore) in [(LabelType::U8, 255i64), (LabelType::I64, -100)] {
            let labels = Labels::new(ty, &none, ignore);
            let ce = SoftmaxCrossEntropy::new().with_ignore_index(ignore);
            let cases = [
                Case::ce(ce, Target::Index(&labels)),
                Case::ce(
                    ce.with_weight(&data.weight)
                        .with_label_smoothing(0.3)
                        .expect("valid"),
                    Target::Index(&labels),
                ),
                Case::focal(
                    SoftmaxFocal::new(0.0)
                        .expect("valid")
                        .with_ignore_index(ignore),
                    &labels,
                ),
            ];
            for case in cases {
                for isa in isas() {
                    let case = case.with_isa(isa);
                    for r in [Reduction::Mean, Reduction::Sum] {
                        assert_eq!(
                            case.value(&data.logits, shape, r),
                            Ok(0.0),
                            "{shape:?} {isa} {r:?}"
                        );
                        let mut g = vec![SENTINEL; shape.len()];
                        let v = case.value_and_grad(
                            &data.logits,
                            shape,
                            r,
                            Grad::overwrite(&mut g).scaled(-2.0),
                        );
                        assert_eq!(v, Ok(0.0));
                        assert!(g.iter().all(|&g| g == 0.0), "{shape:?} {isa} {r:?}");
                        let mut acc = data.prior.clone();
                        case.value_and_grad(&data.logits, shape, r, Grad::accumulate(&mut acc))
                            .expect("valid");
                        assert_eq!(acc, data.prior, "{shape:?} {isa} {r:?}");
                    }
                }
            }
        }
    }
    // ignore_index = 0 ignores class 0: the same as dropping those samples.
    let shape = ClassShape::classifier(4, 3).expect("valid");
    let x = [
        1.0f32, 2.0, 3.0, -1.0, 0.5, 0.25, 2.0, 2.0, -4.0, 0.0, 1.0, 0.0,
    ];
    let labels = [0u16, 2, 1, 0];
    let kept = ClassShape::classifier(2, 3).expect("valid");
    let ce = SoftmaxCrossEntropy::new().with_ignore_index(0);
    let plain = SoftmaxCrossEntropy::new();
    for r in [Reduction::Mean, Reduction::Sum] {
        let a = ce.value(&x, shape, &labels, r).expect("valid");
        let b = plain.value(&x[3..9], kept, &[2u16, 1], r).expect("valid");
        assert_eq!(a.to_bits(), b.to_bits(), "{r:?}");
    }
}

/// Mean = Sum / denominator: `Σ w_y` over the non-ignored samples (CE
/// with index targets, smoothing included, as PyTorch), their count
/// (focal), `N·S` (probability targets); `value(Sum)` is the canonical sum
/// of `per_element`; the fused and accumulating verbs return the same
/// value; the `Mean` gradient is the `Sum` gradient over the
/// denominator, and `scaled(s)` multiplies it.
#[test]
fn reductions_and_denominators() {
    for (i, shape) in semantic_shapes().into_iter().enumerate() {
        let data = Data::new(730 + i as u64, shape, &ALL_REGIMES);
        let labels = Labels::new(LabelType::I32, &data.classes, -100);
        for k in 0..8 {
            let case = sweep_case(k, &data, &labels, &data.probs, -100);
            let classes = case.classes(shape);
            let problem = case.reference(&data.logits, shape, classes.as_deref());
            // The denominator, summed in f64 in sample order.
            let den = problem.denominator();
            for isa in isas() {
                let case = case.with_isa(isa);
                let x = &data.logits;
                let mut pe = vec![SENTINEL; shape.samples()];
                case.per_element(x, shape, &mut pe).expect("valid");
                let sum = case.value(x, shape, Reduction::Sum).expect("valid");
                let mean = case.value(x, shape, Reduction::Mean).expect("valid");
                let what = || format!("{shape:?} config {k} on {isa}");
                #[allow(clippy::cast_possible_truncation)]
                let canonical = canonical_sum(&pe, shape) as f32;
                assert_eq!(
                    sum.to_bits(),
                    canonical.to_bits(),
                    "{}: Sum {sum} vs canonical {canonical}",
                    what()
                );
                #[allow(clippy::cast_possible_truncation)]
                let want_mean = (canonical_sum(&pe, shape) / den) as f32;
                assert!(
                    common::ulp_distance(mean, want_mean) <= 1,
                    "{}: Mean {mean} vs {want_mean} (denominator {den})",
                    what()
                );
                let mut g_sum = vec![SENTINEL; shape.len()];
                let mut g_mean = vec![SENTINEL; shape.len()];
                let mut g_scaled = vec![SENTINEL; shape.len()];
                let v1 = case.value_and_grad(x, shape, Reduction::Sum, Grad::overwrite(&mut g_sum));
                let v2 =
                    case.value_and_grad(x, shape, Reduction::Mean, Grad::overwrite(&mut g_mean));
                let v3 = case.value_and_grad(
                    x,
                    shape,
                    Reduction::Mean,
                    Grad::overwrite(&mut g_scaled).scaled(-0.3),
                );
                assert_eq!(v1.map(f32::to_bits), Ok(sum.to_bits()), "{}", what());
                assert_eq!(v2.map(f32::to_bits), Ok(mean.to_bits()), "{}", what());
                assert_eq!(v3.map(f32::to_bits), Ok(mean.to_bits()), "{}", what());
                for (idx, &g) in g_sum.iter().enumerate() {
                    // Two roundings: the scale (1/den, −0.3/den) and the product.
                    let check = |got: f32, want: f64, name: &str| {
                        if want.is_nan() {
                            assert!(got.is_nan(), "{}: {name}[{idx}] = {got:e}, not NaN", what());
                            return;
                        }
                        let err = (f64::from(got) - want).abs();
                        assert!(
                            err <= 2.0 * U32 * want.abs() + 1e-44,
                            "{}: {name}[{idx}] = {got:e}, Sum gradient {g:e} gives {want:e}",
                            what()
                        );
                    };
                    check(g_mean[idx], f64::from(g) / den, "Mean gradient");
                    check(
                        g_scaled[idx],
                        -0.3f32 as f64 * f64::from(g) / den,
                        "scaled Mean gradient",
                    );
                }
                // Accumulating adds exactly the overwritten (scaled) gradient.
                let mut acc = data.prior.clone();
                let v4 = case.value_and_grad(
                    x,
                    shape,
                    Reduction::Mean,
                    Grad::accumulate(&mut acc).scaled(-0.3),
                );
                assert_eq!(v4.map(f32::to_bits), Ok(mean.to_bits()), "{}", what());
                for idx in 0..shape.len() {
                    let want = data.prior[idx] + g_scaled[idx];
                    assert!(
                        same_bits(acc[idx], want),
                        "{}: accumulated [{idx}] {} vs {want}",
                        what(),
                        acc[idx]
                    );
                }
            }
        }
    }
}

/// Unit class weights change no bit; weights multiply the per-sample
/// value of cross-entropy without smoothing; a zero weight on the
/// target's class switches the sample off (value 0, zero gradient) but
/// keeps it in no denominator; focal's `Mean` divides by the count, not by
/// the weights.
#[test]
fn class_weights() {
    for (i, shape) in semantic_shapes().into_iter().enumerate() {
        let data = Data::new(740 + i as u64, shape, &[0, 1, 3]);
        let c = shape.classes();
        let ones = vec![1.0f32; c];
        let labels = Labels::new(LabelType::U32, &data.classes, 255);
        let ce = SoftmaxCrossEntropy::new().with_ignore_index(255);
        let focal = SoftmaxFocal::new(2.0)
            .expect("valid")
            .with_ignore_index(255);
        let smoothed = ce.with_label_smoothing(0.25).expect("valid");
        for (a, b) in [
            (
                Case::ce(ce, Target::Index(&labels)),
                Case::ce(ce.with_weight(&ones), Target::Index(&labels)),
            ),
            (
                Case::ce(smoothed, Target::Index(&labels)),
                Case::ce(smoothed.with_weight(&ones), Target::Index(&labels)),
            ),
            (
                Case::ce(smoothed, Target::Probabilities(&data.probs)),
                Case::ce(
                    smoothed.with_weight(&ones),
                    Target::Probabilities(&data.probs),
                ),
            ),
            (
                Case::focal(focal, &labels),
                Case::focal(focal.with_weight(&ones), &labels),
            ),
        ] {
            assert!(
                verb_bits(a, Isa::Scalar, &data.logits, shape)
                    == verb_bits(b, Isa::Scalar, &data.logits, shape),
                "unit weights changed bits: {shape:?}"
            );
        }
        // w_y·ℓ_y: the weight multiplies the unweighted value (one rounding).
        let (plain, _) = values_and_grad(
            Case::ce(ce, Target::Index(&labels)),
            Isa::Scalar,
            &data.logits,
            shape,
        );
        let (weighted, g) = values_and_grad(
            Case::ce(ce.with_weight(&data.weight), Target::Index(&labels)),
            Isa::Scalar,
            &data.logits,
            shape,
        );
        for (j, class) in data.classes.iter().enumerate() {
            let Some(y) = *class else { continue };
            let want = f64::from(data.weight[y]) * f64::from(plain[j]);
            assert!(
                (f64::from(weighted[j]) - want).abs() <= 2.0 * U32 * want.abs(),
                "{shape:?} sample {j}: {} vs w_y·{}",
                weighted[j],
                plain[j]
            );
            if data.weight[y] == 0.0 {
                assert_eq!(weighted[j], 0.0);
                assert!(
                    (0..c).all(|k| g[at(shape, j, k)] == 0.0),
                    "{shape:?} sample {j}"
                );
            }
        }
        // Focal: Mean = Sum / count even with weights.
        let count = data.classes.iter().flatten().count() as f64;
        let f = focal.with_weight(&data.weight);
        let sum = f
            .value(
                &data.logits,
                shape,
                match &labels {
                    Labels::U32(v) => v.as_slice(),
                    _ => unreachable!(),
                },
                Reduction::Sum,
            )
            .expect("valid");
        let mean = f
            .value(
                &data.logits,
                shape,
                match &labels {
                    Labels::U32(v) => v.as_slice(),
                    _ => unreachable!(),
                },
                Reduction::Mean,
            )
            .expect("valid");
        let want = f64::from(sum) / count;
        assert!(
            (f64::from(mean) - want).abs() <= 2.0 * U32 * want.abs(),
            "{shape:?}: {mean} vs {want}"
        );
    }
}

/// ε = 0 is no smoothing, bit for bit; ε = 1 makes the target uniform, so
/// the labels no longer matter (only which samples are ignored).
#[test]
fn label_smoothing_limits() {
    for (i, shape) in semantic_shapes().into_iter().enumerate() {
        let data = Data::new(750 + i as u64, shape, &ALL_REGIMES);
        let labels = Labels::new(LabelType::I64, &data.classes, -100);
        let ce = SoftmaxCrossEntropy::new();
        for target in [Target::Index(&labels), Target::Probabilities(&data.probs)] {
            let a = verb_bits(Case::ce(ce, target), Isa::Scalar, &data.logits, shape);
            let b = verb_bits(
                Case::ce(ce.with_label_smoothing(0.0).expect("valid"), target),
                Isa::Scalar,
                &data.logits,
                shape,
            );
            assert!(a == b, "ε = 0 changed bits: {shape:?}");
        }
        // Shift every kept label by one class: same bits at ε = 1.
        let c = shape.classes();
        let shifted: Vec<Option<usize>> = data
            .classes
            .iter()
            .map(|y| y.map(|y| (y + 1) % c))
            .collect();
        let shifted = Labels::new(LabelType::I64, &shifted, -100);
        let uniform = ce.with_label_smoothing(1.0).expect("valid");
        let a = verb_bits(
            Case::ce(uniform, Target::Index(&labels)),
            Isa::Scalar,
            &data.logits,
            shape,
        );
        let b = verb_bits(
            Case::ce(uniform, Target::Index(&shifted)),
            Isa::Scalar,
            &data.logits,
            shape,
        );
        assert!(a == b, "ε = 1 depends on the labels: {shape:?}");
    }
}

/// One-hot probability targets are index targets (value and gradient
/// within the accuracy bounds of each other; `Mean` over `N·S`), smoothing
/// and weights included; an all-zero target row adds nothing.
#[test]
fn one_hot_probabilities_are_index_targets() {
    for (i, shape) in semantic_shapes().into_iter().enumerate() {
        let data = Data::new(760 + i as u64, shape, &ALL_REGIMES);
        let c = shape.classes();
        // No ignored samples here: probabilities cannot ignore.
        let classes: Vec<Option<usize>> = data
            .classes
            .iter()
            .enumerate()
            .map(|(j, y)| y.or(Some(j % c)))
            .collect();
        let mut one_hot = vec![0.0f32; shape.len()];
        for (j, y) in classes.iter().enumerate() {
            one_hot[at(shape, j, y.expect("kept"))] = 1.0;
        }
        let labels = Labels::new(LabelType::Usize, &classes, 255);
        let ce = SoftmaxCrossEntropy::new().with_ignore_index(255);
        for loss in [
            ce,
            ce.with_weight(&data.weight)
                .with_label_smoothing(0.2)
                .expect("valid"),
        ] {
            let index = Case::ce(loss, Target::Index(&labels));
            let probs = Case::ce(loss, Target::Probabilities(&one_hot));
            let (vi, gi) = values_and_grad(index, Isa::Scalar, &data.logits, shape);
            let (vp, gp) = values_and_grad(probs, Isa::Scalar, &data.logits, shape);
            let reference = index
                .reference(&data.logits, shape, Some(&classes))
                .samples();
            let n_sum = summation_terms(shape);
            for (j, s) in reference.iter().enumerate() {
                let mut row = (0..c).map(|k| data.logits[at(shape, j, k)]);
                if row.clone().any(f32::is_nan) || row.all(|v| v == f32::NEG_INFINITY) {
                    continue;
                }
                let what = || format!("{shape:?} sample {j}");
                if s.value.is_finite() {
                    let bound = 2.0 * K_VALUE * U32 * value_unit(s, 0.0, n_sum) + flush(c, s.total);
                    ratio_within(vp[j], f64::from(vi[j]), bound, &what);
                } else {
                    assert_eq!(vp[j], vi[j], "{}", what());
                }
                for k in 0..c {
                    let idx = at(shape, j, k);
                    let bound = 2.0 * K_GRAD * U32 * grad_unit(s, 0.0, n_sum) + flush(c, s.total);
                    ratio_within(gp[idx], f64::from(gi[idx]), bound, &what);
                }
            }
            let sum = probs
                .value(&data.logits, shape, Reduction::Sum)
                .expect("valid");
            let mean = probs
                .value(&data.logits, shape, Reduction::Mean)
                .expect("valid");
            if sum.is_finite() {
                let want = f64::from(sum) / shape.samples() as f64;
                assert!(
                    (f64::from(mean) - want).abs() <= 2.0 * U32 * want.abs(),
                    "{shape:?}: {mean} vs {want}"
                );
            }
        }
        // All-zero targets: nothing, even against infinite logits.
        let zeros = vec![0.0f32; shape.len()];
        let mut x = data.logits.clone();
        x.iter_mut().step_by(7).for_each(|v| *v = f32::INFINITY);
        x.iter_mut()
            .step_by(11)
            .for_each(|v| *v = f32::NEG_INFINITY);
        let x: Vec<f32> = x
            .into_iter()
            .map(|v| if v.is_nan() { 0.0 } else { v })
            .collect();
        let (v, g) = outputs_on_every_isa(
            Case::ce(ce.with_weight(&data.weight), Target::Probabilities(&zeros)),
            &x,
            shape,
        );
        assert!(v.iter().chain(&g).all(|&v| v == 0.0), "{shape:?}");
    }
}

/// γ = 0 is cross-entropy bit for bit (without weights for `Mean`, whose
/// denominators then agree; with weights for `Sum` and per_element).
#[test]
fn focal_with_gamma_zero_is_cross_entropy() {
    for (i, shape) in semantic_shapes().into_iter().enumerate() {
        // Logits above −88: see `focal_ignored_sample_has_zero_gradient`.
        let data = Data::new(770 + i as u64, shape, &[0, 1, 3, 4, 7]);
        let labels = Labels::new(LabelType::I64, &data.classes, -100);
        let focal = SoftmaxFocal::new(0.0).expect("valid");
        let ce = SoftmaxCrossEntropy::new();
        for isa in isas() {
            let a = verb_bits(Case::focal(focal, &labels), isa, &data.logits, shape);
            let b = verb_bits(
                Case::ce(ce, Target::Index(&labels)),
                isa,
                &data.logits,
                shape,
            );
            assert!(a == b, "{shape:?} on {isa}");
            let (va, ga) = values_and_grad(
                Case::focal(focal.with_weight(&data.weight), &labels),
                isa,
                &data.logits,
                shape,
            );
            let (vb, gb) = values_and_grad(
                Case::ce(ce.with_weight(&data.weight), Target::Index(&labels)),
                isa,
                &data.logits,
                shape,
            );
            assert!(
                first_bit_mismatch(&va, &vb).is_none() && first_bit_mismatch(&ga, &gb).is_none(),
                "weighted {shape:?} on {isa}"
            );
        }
    }
}

/// A large γ with a tiny `p_y`: `1 − p_y` rounds to 1 in f32, yet
/// `(1 − p_y)^γ = e^(γ·ln(1 − p_y)) ≈ e^(−γ·p_y)` is far from 1, so `ln q`
/// must come from `p_y` itself (fuzz crash 0cd0e5e7: γ = 1e30 gave the
/// cross-entropy instead of 0). Tile kernel (C = 3, S = 1 and 64) and row
/// kernel (C = 64, S = 1), every ISA, value and gradient against the f64
/// formula.
#[test]
fn focal_large_gamma_small_target_probability() {
    let d = 40.0f32;
    for (c, s) in [(3usize, 1usize), (3, 64), (ROW_KERNEL_MIN_CLASSES + 16, 1)] {
        let shape = ClassShape::new(1, c, s).expect("valid");
        // Each sample: class 1 at 40, every other class at 0; label 0.
        let mut x = vec![0.0f32; c * s];
        x[s..2 * s].fill(d);
        let labels = vec![0u8; s];
        let e = (-f64::from(d)).exp();
        #[allow(clippy::cast_precision_loss)]
        let sum = 1.0 + (c - 1) as f64 * e;
        let p_y = e / sum;
        let ce = -p_y.ln();
        let q = 1.0 - p_y;
        for gamma in [1.0 / p_y, 1e30, f64::from(f32::MAX)] {
            #[allow(clippy::cast_possible_truncation)]
            let gamma32 = gamma as f32;
            let gamma = f64::from(gamma32);
            // (1 − p_y)^γ: e^−1 for γ = 1/p_y, 0 beyond.
            let qg = (gamma * (-p_y).ln_1p()).exp();
            let want_value = qg * ce;
            // d/dx_k = G·p_k − G·[k = y], G = q^γ·(1 + γ·p_y·ce/q).
            let g = qg * (1.0 + gamma * p_y * ce / q);
            let prob = |k: usize| if k == 1 { 1.0 / sum } else { p_y };
            for isa in isas() {
                let focal = SoftmaxFocal::new(gamma32)
                    .expect("valid")
                    .with_isa(isa)
                    .expect("ok");
                let mut per = vec![f32::NAN; s];
                focal.per_element(&x, shape, &labels, &mut per).expect("ok");
                let mut grad = vec![f32::NAN; c * s];
                focal
                    .value_and_grad(
                        &x,
                        shape,
                        &labels,
                        Reduction::Sum,
                        Grad::overwrite(&mut grad),
                    )
                    .expect("ok");
                let at = format!("γ {gamma:e} [1, {c}, {s}] on {isa}");
                for j in 0..s {
                    let err = (f64::from(per[j]) - want_value).abs();
                    assert!(
                        err <= 1e-5 * want_value.max(1.0),
                        "{at}: per_element[{j}] = {}, want {want_value}",
                        per[j]
                    );
                    for k in 0..c {
                        let want = g * prob(k) - if k == 0 { g } else { 0.0 };
                        let got = f64::from(grad[k * s + j]);
                        assert!(
                            (got - want).abs() <= 1e-5 * g + 1e-30,
                            "{at}: grad[{k}, {j}] = {got}, want {want}"
                        );
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// 5. Totality: extreme logits, NaN
// ---------------------------------------------------------------------------

/// Rows of special logits, each with its label, padded to `c` classes
/// with `fill` logits: the limits the module docs promise.
fn special_rows(c: usize) -> Vec<(Vec<f32>, usize)> {
    let inf = f32::INFINITY;
    let mut rows = Vec::new();
    let mut row = |entries: &[(usize, f32)], y: usize, fill: f32| {
        let mut x = vec![fill; c];
        for &(k, v) in entries {
            x[k % c] = v;
        }
        rows.push((x, y % c));
    };
    row(&[(0, inf)], 0, 0.5); // +∞ on the target: loss 0, grad 0
    row(&[(1, inf)], 0, -2.0); // +∞ elsewhere: loss ∞, grad ±1
    row(&[(0, inf), (1, inf), (2, inf)], 1, 3.0); // three +∞: p = 1/3
    row(&[(0, -inf)], 0, 1.0); // −∞ on the target: loss ∞
    row(&[(1, 0.0)], 1, -inf); // −∞ everywhere else: loss 0
    row(&[(2, 1e30)], 2, -1e30); // ±1e30, target up: loss 0
    row(&[(2, 1e30)], 0, -1e30); // target down: loss 2e30
    row(&[(0, 0.0), (1, -200.0)], 1, -300.0); // huge differences
    row(&[(0, 1e30), (1, 1e30)], 0, 0.0); // tie at 1e30: ln 2
    row(&[(0, 1e30), (1, 1e30 * (1.0 - f32::EPSILON))], 1, -1e30); // one ulp of 1e30 apart
    row(&[(0, f32::MAX), (1, -f32::MAX)], 1, 0.0); // m − x overflows: ∞
    row(&[(0, 3e38), (1, 3e38)], 1, 3e38); // all tied at a huge value: ln C
    row(&[(0, 1e-30), (1, -1e-30)], 0, 0.0); // tiny differences
    rows
}

/// The special rows in three layouts (tile kernel classifier, row
/// kernel, a map): `(shape, logits, classes)`.
fn special_problems() -> Vec<(ClassShape, Vec<f32>, Vec<Option<usize>>)> {
    let mut out = Vec::new();
    for (c, s) in [(5usize, 1usize), (70, 1), (4, 0)] {
        let rows = special_rows(c);
        let samples = rows.len();
        // s = 0: one image whose pixels are the rows (S = samples).
        let shape = if s == 0 {
            ClassShape::new(1, c, samples).expect("valid")
        } else {
            ClassShape::classifier(samples, c).expect("valid")
        };
        let mut x = vec![0.0f32; shape.len()];
        for (j, (row, _)) in rows.iter().enumerate() {
            for k in 0..c {
                x[at(shape, j, k)] = row[k];
            }
        }
        out.push((shape, x, rows.iter().map(|r| Some(r.1)).collect()));
    }
    out
}

/// Extreme logits (±1e30, ±inf, ±MAX, huge and tiny differences) give the
/// mathematical limits, the same on every ISA, within the accuracy bounds
/// of the reference (which computes the limits), for every loss.
#[test]
fn extreme_logits_give_the_limits() {
    for (shape, x, classes) in special_problems() {
        let c = shape.classes();
        let labels = Labels::new(LabelType::I64, &classes, -100);
        let weight: Vec<f32> = (0..c).map(|k| 0.5 + k as f32 * 0.25).collect();
        let ce = SoftmaxCrossEntropy::new();
        let probs: Vec<f32> = (0..shape.len())
            .map(|i| [0.0, 0.5, 1.0, 0.25][i % 4])
            .collect();
        let mut cases = vec![
            Case::ce(ce, Target::Index(&labels)),
            Case::ce(ce.with_weight(&weight), Target::Index(&labels)),
            Case::ce(
                ce.with_label_smoothing(0.1).expect("valid"),
                Target::Index(&labels),
            ),
            Case::ce(ce.with_weight(&weight), Target::Probabilities(&probs)),
        ];
        for gamma in GAMMAS {
            cases.push(Case::focal(
                SoftmaxFocal::new(gamma).expect("valid"),
                &labels,
            ));
        }
        for (k, case) in cases.into_iter().enumerate() {
            let what = || format!("{shape:?}, case {k}");
            let prior = vec![0.5f32; shape.len()];
            assert_same_bits_on_every_isa(case, &x, shape, Reduction::Mean, &prior, -1.5, 3, &what);
            let mut worst = (Worst::default(), Worst::default());
            check_accuracy(case, &x, shape, &what(), &mut worst);
            // Gradients are finite everywhere (p is in [0, 1]).
            let (_, g) = values_and_grad(case, Isa::Scalar, &x, shape);
            assert!(g.iter().all(|g| g.is_finite()), "{}: {g:?}", what());
        }
        // Exact limits of plain cross-entropy and focal.
        for case in [
            Case::ce(ce, Target::Index(&labels)),
            Case::focal(SoftmaxFocal::new(2.0).expect("valid"), &labels),
            Case::focal(SoftmaxFocal::new(0.0).expect("valid"), &labels),
        ] {
            let (v, g) = outputs_on_every_isa(case, &x, shape);
            let grad = |j: usize| (0..c).map(|k| g[at(shape, j, k)]).collect::<Vec<_>>();
            let zeros = vec![0.0f32; c];
            let what = format!("{shape:?} {case:?}");
            assert_eq!(
                (v[0], grad(0)),
                (0.0, zeros.clone()),
                "+∞ on the target: {what}"
            );
            assert_eq!(v[1], f32::INFINITY, "+∞ elsewhere: {what}");
            assert_eq!((grad(1)[0], grad(1)[1]), (-1.0, 1.0), "{what}");
            assert!(grad(1)[2..].iter().all(|&g| g == 0.0), "{what}");
            if case.gamma() == 0.0 {
                // (γ > 0 scales this gradient by G: the reference checks it.)
                let third = 1.0f32 / 3.0;
                assert_eq!(
                    &grad(2)[..3],
                    &[third, third - 1.0, third][..],
                    "three +∞: {what}"
                );
            }
            assert_eq!(v[3], f32::INFINITY, "−∞ on the target: {what}");
            assert_eq!(
                (v[4], grad(4)),
                (0.0, zeros.clone()),
                "−∞ elsewhere: {what}"
            );
            assert_eq!(
                (v[5], grad(5)),
                (0.0, zeros.clone()),
                "1e30 on the target: {what}"
            );
            assert_eq!(v[6], 2e30, "1e30 elsewhere: {what}");
            assert_eq!(v[7], 200.0, "a gap of 200: {what}");
            assert_eq!(v[10], f32::INFINITY, "MAX − (−MAX): {what}");
            if case.gamma() == 0.0 {
                assert!(
                    (v[2] - 3f32.ln()).abs() <= 2.0 * f32::EPSILON,
                    "{what}: {}",
                    v[2]
                );
                assert!(
                    (v[8] - 2f32.ln()).abs() <= 2.0 * f32::EPSILON,
                    "{what}: {}",
                    v[8]
                );
            }
        }
    }
}

/// A row that is `−∞` everywhere has no softmax: its value is NaN (module
/// docs of `simdloss::loss::softmax`, and the brief).
///
/// Regression test (was a bug, fixed: `m = −∞` now makes σ NaN): pass A
/// counts every `−∞` as a tie with the running maximum
/// `m = −∞`, and `gap(m, x)` is 0 where `x == m`, so each class gets
/// `e = 1`, `σ = C − 1` and `p = 1/C`: the value is the finite `ln C`
/// (0 for C = 1) instead of NaN. Minimal case:
/// `SoftmaxCrossEntropy::new().value(&[f32::NEG_INFINITY; 2],
/// ClassShape::classifier(1, 2)?, &[0u8], Reduction::Sum)` is
/// `Ok(0.6931472)` (`ln 2`), expected NaN; same for `[−∞]` with C = 1
/// (gives 0), on both kernels and for focal and probability targets.
#[test]
fn a_row_of_negative_infinities_has_a_nan_value() {
    let ninf = f32::NEG_INFINITY;
    let mut failures = Vec::new();
    for (n, c, s) in [(1usize, 1usize, 1usize), (1, 2, 1), (2, 70, 1), (1, 3, 65)] {
        let shape = ClassShape::new(n, c, s).expect("valid");
        let x = vec![ninf; shape.len()];
        let labels = vec![0u8; shape.samples()];
        let probs = vec![1.0f32; shape.len()];
        for isa in isas() {
            let ce = SoftmaxCrossEntropy::new().with_isa(isa).expect("ok");
            let focal = SoftmaxFocal::new(2.0)
                .expect("valid")
                .with_isa(isa)
                .expect("ok");
            let mut pe = vec![SENTINEL; shape.samples()];
            let results = [
                ("ce", ce.value(&x, shape, &labels, Reduction::Sum)),
                (
                    "ce per_element",
                    ce.per_element(&x, shape, &labels, &mut pe).map(|()| pe[0]),
                ),
                (
                    "probabilities",
                    ce.value(&x, shape, Probabilities(&probs), Reduction::Sum),
                ),
                ("focal", focal.value(&x, shape, &labels, Reduction::Sum)),
            ];
            for (name, got) in results {
                if !got.is_ok_and(f32::is_nan) {
                    failures.push(format!("{name} {shape:?} on {isa}: {got:?}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "all −∞ rows without a NaN value: {failures:#?}"
    );
}

/// A NaN logit makes its sample's value and whole gradient NaN and the
/// reduced value NaN; every other sample keeps its bits (compared with
/// the same call where the NaN is replaced by a finite logit). An
/// ignored sample stays 0 whatever its logits.
#[test]
fn nan_stays_in_its_sample() {
    for (i, shape) in semantic_shapes().into_iter().enumerate() {
        // Typical logits: no −∞ rows, no ignored sample below −88.
        let data = Data::new(780 + i as u64, shape, &[0, 1, 3, 4]);
        let c = shape.classes();
        let kept: Vec<Option<usize>> = data
            .classes
            .iter()
            .enumerate()
            .map(|(j, y)| y.or(Some(j % c)))
            .collect();
        let labels = Labels::new(LabelType::I64, &kept, -100);
        let positive: Vec<f32> = data.weight.iter().map(|w| w + 0.5).collect();
        let soft: Vec<f32> = data.probs.iter().map(|t| t + 0.125).collect();
        let ce = SoftmaxCrossEntropy::new();
        let cases = [
            Case::ce(ce, Target::Index(&labels)),
            Case::ce(
                ce.with_weight(&positive)
                    .with_label_smoothing(0.2)
                    .expect("valid"),
                Target::Index(&labels),
            ),
            Case::ce(ce.with_weight(&positive), Target::Probabilities(&soft)),
            Case::focal(SoftmaxFocal::new(0.5).expect("valid"), &labels),
            Case::focal(
                SoftmaxFocal::new(5.0)
                    .expect("valid")
                    .with_weight(&positive),
                &labels,
            ),
        ];
        let samples = shape.samples();
        for (k, case) in cases.into_iter().enumerate() {
            for j0 in [0, samples / 2, samples - 1] {
                let mut x = data.logits.clone();
                x[at(shape, j0, (j0 + k) % c)] = f32::NAN;
                let (v0, g0) = outputs_on_every_isa(case, &data.logits, shape);
                let (v, g) = outputs_on_every_isa(case, &x, shape);
                let what = format!("{shape:?} case {k}, NaN in sample {j0}");
                for j in 0..samples {
                    if j == j0 {
                        assert!(v[j].is_nan(), "{what}: value {}", v[j]);
                        assert!(
                            (0..c).all(|k| g[at(shape, j, k)].is_nan()),
                            "{what}: gradient"
                        );
                    } else {
                        assert!(same_bits(v[j], v0[j]), "{what}: value of sample {j}");
                        assert!(
                            (0..c).all(|k| same_bits(g[at(shape, j, k)], g0[at(shape, j, k)])),
                            "{what}: gradient of sample {j}"
                        );
                    }
                }
                for r in [Reduction::Mean, Reduction::Sum] {
                    assert!(
                        case.value(&x, shape, r).expect("valid").is_nan(),
                        "{what} {r:?}"
                    );
                }
            }
        }
        // Ignored samples: a NaN there changes nothing (cross-entropy).
        let labels = Labels::new(LabelType::I64, &data.classes, -100);
        let case = Case::ce(
            ce.with_label_smoothing(0.1).expect("valid"),
            Target::Index(&labels),
        );
        let mut x = data.logits.clone();
        for (j, y) in data.classes.iter().enumerate() {
            if y.is_none() {
                x[at(shape, j, 0)] = f32::NAN;
            }
        }
        assert!(
            verb_bits(case, Isa::Scalar, &x, shape)
                == verb_bits(case, Isa::Scalar, &data.logits, shape),
            "{shape:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// 6. Errors
// ---------------------------------------------------------------------------

/// Runs every verb of `case` on every ISA with sentinel-filled output
/// buffers of the given lengths; each must return `want` and write nothing.
fn assert_refused(
    case: Case<'_>,
    x: &[f32],
    shape: ClassShape,
    grad_len: usize,
    out_len: usize,
    want: &LossError,
) {
    for isa in isas() {
        let case = case.with_isa(isa);
        for r in [Reduction::Mean, Reduction::Sum] {
            assert_eq!(
                case.value(x, shape, r).as_ref(),
                Err(want),
                "value on {isa}"
            );
            let mut g = vec![SENTINEL; grad_len];
            assert_eq!(
                case.value_and_grad(x, shape, r, Grad::overwrite(&mut g))
                    .as_ref(),
                Err(want),
                "overwrite on {isa}"
            );
            assert!(
                g.iter().all(|v| v.to_bits() == SENTINEL.to_bits()),
                "overwrite wrote on {isa}: {want:?}"
            );
            assert_eq!(
                case.value_and_grad(x, shape, r, Grad::accumulate(&mut g).scaled(2.0))
                    .as_ref(),
                Err(want),
                "accumulate on {isa}"
            );
            assert!(
                g.iter().all(|v| v.to_bits() == SENTINEL.to_bits()),
                "accumulate wrote on {isa}: {want:?}"
            );
        }
        let mut out = vec![SENTINEL; out_len];
        assert_eq!(
            case.per_element(x, shape, &mut out).as_ref(),
            Err(want),
            "per_element on {isa}"
        );
        assert!(
            out.iter().all(|v| v.to_bits() == SENTINEL.to_bits()),
            "per_element wrote on {isa}: {want:?}"
        );
    }
    assert!(!want.to_string().is_empty());
}

#[test]
fn shapes_are_validated() {
    let shape_err = |argument: &'static str| move |e: LossError| matches!(e, LossError::InvalidShape { argument: a, .. } if a == argument);
    assert!(ClassShape::new(0, 3, 1).is_err_and(shape_err("n")));
    assert!(ClassShape::new(2, 0, 1).is_err_and(shape_err("c")));
    assert!(ClassShape::new(2, 3, 0).is_err_and(shape_err("s")));
    assert!(ClassShape::new(1, (1 << 24) + 1, 1).is_err_and(shape_err("c")));
    assert!(ClassShape::new(usize::MAX / 2, 3, 1).is_err_and(shape_err("shape")));
    // n·c fits, n·c·s does not (on 32- and 64-bit targets alike).
    let n_big = 1usize << (usize::BITS - 12);
    assert!(ClassShape::new(n_big, 1 << 10, 1 << 10).is_err_and(shape_err("shape")));
    assert!(ClassShape::classifier(0, 3).is_err_and(shape_err("n")));
    let err = ClassShape::new(2, 0, 1).unwrap_err();
    assert!(err.to_string().contains('c'), "{err}");
    let big = ClassShape::new(1, 1 << 24, 1).expect("2^24 classes are allowed");
    assert_eq!((big.batch(), big.classes(), big.spatial()), (1, 1 << 24, 1));
    let shape = ClassShape::new(2, 3, 5).expect("valid");
    assert_eq!(
        (shape.samples(), shape.len(), shape.is_empty()),
        (10, 30, false)
    );
    assert_eq!(ClassShape::classifier(4, 7), ClassShape::new(4, 7, 1));
}

#[test]
fn parameters_are_validated() {
    for bad in [
        -0.1f32,
        1.0 + f32::EPSILON,
        f32::NAN,
        f32::INFINITY,
        -f32::INFINITY,
    ] {
        let err = SoftmaxCrossEntropy::new()
            .with_label_smoothing(bad)
            .unwrap_err();
        assert!(
            matches!(
                err,
                LossError::InvalidParameter {
                    argument: "label_smoothing",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("label_smoothing"), "{err}");
    }
    for ok in [0.0f32, 1e-30, 0.5, 1.0] {
        let l = SoftmaxCrossEntropy::new()
            .with_label_smoothing(ok)
            .expect("in [0, 1]");
        assert_eq!(l.label_smoothing(), ok);
    }
    for bad in [-1e-30f32, -1.0, f32::NAN, f32::INFINITY] {
        let err = SoftmaxFocal::new(bad).unwrap_err();
        assert!(
            matches!(
                err,
                LossError::InvalidParameter {
                    argument: "gamma",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("gamma"), "{err}");
    }
    for ok in [0.0f32, 0.5, 2.0, 5.0, 1e6] {
        assert_eq!(SoftmaxFocal::new(ok).expect("valid").gamma(), ok);
    }
    assert_eq!(SoftmaxCrossEntropy::new().ignore_index(), -100);
    assert_eq!(SoftmaxFocal::new(2.0).expect("valid").ignore_index(), -100);
    assert_eq!(SoftmaxCrossEntropy::default().ignore_index(), -100);
    for isa in Isa::ALL {
        if isa.is_available() {
            assert_eq!(
                SoftmaxCrossEntropy::new().with_isa(isa).expect("ok").isa(),
                isa
            );
            assert_eq!(
                SoftmaxFocal::new(1.0)
                    .expect("ok")
                    .with_isa(isa)
                    .expect("ok")
                    .isa(),
                isa
            );
        } else {
            assert_eq!(
                SoftmaxCrossEntropy::new().with_isa(isa).unwrap_err(),
                LossError::IsaUnavailable { isa }
            );
            assert_eq!(
                SoftmaxFocal::new(1.0)
                    .expect("ok")
                    .with_isa(isa)
                    .unwrap_err(),
                LossError::IsaUnavailable { isa }
            );
        }
    }
}

/// Every length and label error names its argument, on every verb and
/// ISA, and writes nothing.
#[test]
fn errors_name_the_argument_and_write_nothing() {
    let len_err =
        |argument: &'static str, expected: usize, actual: usize| LossError::LengthMismatch {
            argument,
            expected,
            actual,
        };
    for (n, c, s) in [(3usize, 4usize, 5usize), (4, 70, 1), (2, 3, 1)] {
        let shape = ClassShape::new(n, c, s).expect("valid");
        let (len, samples) = (shape.len(), shape.samples());
        let data = Data::new(800, shape, &[0]);
        let x = &data.logits;
        let classes: Vec<Option<usize>> = (0..samples).map(|j| Some(j % c)).collect();
        let labels = Labels::new(LabelType::I64, &classes, -100);
        let ce = SoftmaxCrossEntropy::new();
        let focal = SoftmaxFocal::new(2.0).expect("valid");
        let index = Case::ce(ce, Target::Index(&labels));
        let probs = Case::ce(ce, Target::Probabilities(&data.probs));
        let foc = Case::focal(focal, &labels);
        for case in [index, probs, foc] {
            // input
            assert_refused(
                case,
                &x[1..],
                shape,
                len,
                samples,
                &len_err("input", len, len - 1),
            );
            let mut longer = x.clone();
            longer.push(0.0);
            assert_refused(
                case,
                &longer,
                shape,
                len,
                samples,
                &len_err("input", len, len + 1),
            );
            // grad, out
            for bad in [0, len - 1, len + 1] {
                let case = case.with_isa(Isa::Scalar);
                let mut g = vec![SENTINEL; bad];
                assert_eq!(
                    case.value_and_grad(x, shape, Reduction::Mean, Grad::overwrite(&mut g)),
                    Err(len_err("grad", len, bad))
                );
                assert_eq!(
                    case.value_and_grad(x, shape, Reduction::Sum, Grad::accumulate(&mut g)),
                    Err(len_err("grad", len, bad))
                );
                assert!(g.iter().all(|v| v.to_bits() == SENTINEL.to_bits()));
            }
            for bad in [0, samples - 1, samples + 1, len] {
                if bad == samples {
                    continue;
                }
                let mut out = vec![SENTINEL; bad];
                assert_eq!(
                    case.per_element(x, shape, &mut out),
                    Err(len_err("out", samples, bad))
                );
                assert!(out.iter().all(|v| v.to_bits() == SENTINEL.to_bits()));
            }
        }
        // weight: C entries.
        for bad in [0, c - 1, c + 1] {
            let w = vec![1.0f32; bad];
            for case in [
                Case::ce(ce.with_weight(&w), Target::Index(&labels)),
                Case::ce(ce.with_weight(&w), Target::Probabilities(&data.probs)),
                Case::focal(focal.with_weight(&w), &labels),
            ] {
                assert_refused(case, x, shape, len, samples, &len_err("weight", c, bad));
            }
        }
        // target: N·S labels, N·C·S probabilities.
        let short = Labels::new(LabelType::I64, &classes[1..], -100);
        let mut more = classes.clone();
        more.push(Some(0));
        let long = Labels::new(LabelType::I64, &more, -100);
        for (l, actual) in [(&short, samples - 1), (&long, samples + 1)] {
            assert_refused(
                Case::ce(ce, Target::Index(l)),
                x,
                shape,
                len,
                samples,
                &len_err("target", samples, actual),
            );
            assert_refused(
                Case::focal(focal, l),
                x,
                shape,
                len,
                samples,
                &len_err("target", samples, actual),
            );
        }
        assert_refused(
            Case::ce(ce, Target::Probabilities(&data.probs[1..])),
            x,
            shape,
            len,
            samples,
            &len_err("target", len, len - 1),
        );
        // Focal is defined on class indices only.
        assert_refused(
            Case {
                loss: Loss::Focal(focal),
                target: Target::Probabilities(&data.probs),
            },
            x,
            shape,
            len,
            samples,
            &LossError::UnsupportedTarget {
                argument: "target",
                requirement: "class indices (SoftmaxFocal takes no probability targets)",
            },
        );
        // Index labels where probabilities belong (and vice versa) are a
        // length error when the lengths differ.
        assert_refused(
            Case::ce(ce, Target::Probabilities(&data.probs[..samples])),
            x,
            shape,
            len,
            samples,
            &len_err("target", len, samples),
        );
        // Invalid labels: the first one, by flat position.
        let invalid: [(i128, LabelType); 9] = [
            (c as i128, LabelType::I64),
            (-1, LabelType::I64),
            (-1, LabelType::I32),
            (-101, LabelType::I32),
            (255, LabelType::U8),
            (u64::MAX as i128, LabelType::U64),
            (i64::MIN as i128, LabelType::I64),
            (usize::MAX as i128, LabelType::Usize),
            ((c + 1000) as i128, LabelType::U16),
        ];
        for (bad, ty) in invalid {
            if ty == LabelType::U8 && c >= 255 {
                continue;
            }
            for pos in [0, samples / 2, samples - 1] {
                let mut wide: Vec<i128> =
                    classes.iter().map(|y| y.expect("kept") as i128).collect();
                wide[pos] = bad;
                if pos + 1 < samples {
                    // A second invalid label later: the first is reported.
                    wide[samples - 1] = bad;
                }
                let labels = Labels::from_wide(ty, &wide);
                let want = LossError::InvalidLabel {
                    argument: "target",
                    index: pos,
                    label: bad,
                    classes: c,
                };
                assert_refused(
                    Case::ce(ce, Target::Index(&labels)),
                    x,
                    shape,
                    len,
                    samples,
                    &want,
                );
                assert_refused(
                    Case::ce(
                        ce.with_label_smoothing(0.5).expect("valid"),
                        Target::Index(&labels),
                    ),
                    x,
                    shape,
                    len,
                    samples,
                    &want,
                );
                assert_refused(Case::focal(focal, &labels), x, shape, len, samples, &want);
                let err = ce.value(
                    x,
                    shape,
                    match &labels {
                        Labels::I64(v) => v.as_slice(),
                        _ => &[0i64][..0],
                    },
                    Reduction::Mean,
                );
                if ty == LabelType::I64 {
                    assert!(err.unwrap_err().to_string().contains("target"));
                }
            }
        }
        // The ignore index is not an error; −100 on unsigned labels is
        // just never matched (255 is a label: invalid when C ≤ 255).
        let mut wide: Vec<i128> = classes.iter().map(|y| y.expect("kept") as i128).collect();
        wide[0] = 255;
        let labels = Labels::from_wide(LabelType::U8, &wide);
        let ok = Case::ce(ce.with_ignore_index(255), Target::Index(&labels));
        assert!(ok.value(x, shape, Reduction::Mean).is_ok());
        if c < 255 {
            let want = LossError::InvalidLabel {
                argument: "target",
                index: 0,
                label: 255,
                classes: c,
            };
            assert_refused(
                Case::ce(ce, Target::Index(&labels)),
                x,
                shape,
                len,
                samples,
                &want,
            );
        }
    }
}
