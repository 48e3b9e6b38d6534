//! The golden cases: fixed inputs, the hash of everything each loss's verbs
//! produce from them, and the pinned constants. One source of truth for
//! every target that runs them:
//! - `tests/golden.rs` (`mod cases;`): the host on every ISA it has,
//!   qemu-aarch64 (NEON), armv7 + NEON under qemu-arm, wasm32 under Node's
//!   WASI (`.ci/cross-targets`);
//! - `firmware/` (`#[path]`-included): bare-metal Cortex-M4F and Cortex-M0
//!   under qemu-system-arm (`firmware/run.sh`).
//!
//! So this file needs no `std`: `core`, `alloc` and the crate only, and
//! the generators of `tests/common/portable.rs`.
//!
//! Each regression case hashes, with FNV-1a 64 over the bit patterns,
//! everything the verbs produce (values with both reductions, the
//! overwritten gradient, a scaled gradient accumulated onto prior
//! contents, the per-element values) for deterministic inputs of several
//! lengths and offsets; the class-axis and binary cases do the same over
//! their shapes. Every available ISA must produce the constant written
//! here, on every target.
//!
//! The inputs come from an integer PRNG turned into f32 by exact
//! arithmetic only (integers below 2^24 times powers of two), so they do
//! not depend on any platform's libm or float formatting; two cases pin
//! the inputs themselves. No NaN is used (NaN payloads are unspecified);
//! ±inf, ±1e30, ±1.6e38, subnormals and ±0 are.
//!
//! If a change to the kernels changes these constants, the bits users get
//! changed: that needs a reason in the commit, not just new constants.

use crate::common::{Fnv1a, Spec, SplitMix64, pow2};
use alloc::vec;
use alloc::vec::Vec;
use simdloss::{
    Activation, BinaryCrossEntropy, BinaryCrossEntropyWithLogits, ClassAxisLoss, ClassShape, Dice,
    DiceCrossEntropy, GeneralizedDice, Grad, Isa, PointwiseLoss, Probabilities, Reduction,
    SigmoidFocal, SoftmaxCrossEntropy, SoftmaxFocal, Tversky,
};

/// One golden case: what it hashes and the constant every ISA on every
/// target must produce.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// A short name (the test is `golden_<name>`).
    pub name: &'static str,
    /// What is hashed.
    pub which: Which,
    /// The pinned hash.
    pub expected: u64,
}

/// What a [`Case`] hashes.
#[derive(Clone, Copy, Debug)]
pub enum Which {
    /// A hash that does not depend on the ISA (the inputs themselves).
    Plain(fn(Isa) -> u64),
    /// A regression loss over [`LENGTHS`].
    Regression(Spec),
    /// A binary loss over [`LENGTHS`].
    Binary(BinarySpec),
    /// A softmax loss over [`SOFTMAX_SHAPES`].
    Softmax(SoftmaxSpec),
    /// A Dice-family loss over [`DICE_SHAPES`].
    Dice(DiceSpec),
    /// A pass above the parallel thresholds.
    Large(LargeSpec),
}

impl Case {
    /// The hash on `isa` (which must be available).
    pub fn hash(&self, isa: Isa) -> u64 {
        match self.which {
            Which::Plain(f) => f(isa),
            Which::Regression(spec) => golden_hash(spec, isa),
            Which::Binary(spec) => golden_binary_hash(spec, isa),
            Which::Softmax(spec) => golden_softmax_hash(spec, isa),
            Which::Dice(spec) => golden_dice_hash(spec, isa),
            Which::Large(spec) => golden_large_hash(spec, isa),
        }
    }
}

/// Lengths: tiny, around one 64-lane chunk, around a 256-element block,
/// non-multiples of 64 above 256, and a few blocks.
const LENGTHS: [usize; 12] = [1, 7, 63, 64, 65, 200, 256, 257, 300, 333, 1000, 4099];

/// Value on a grid of 2^-20: `k · 2^-20` for an integer `|k| < 2^24`
/// (so |v| < 16), exact.
fn grid(k: i64) -> f32 {
    assert!(k.abs() < 1 << 24);
    k as f32 * pow2(-20)
}

/// The fixed inputs for one length: `(input, target, prior)`, with `n + 3`
/// elements each (the golden call reads `[3..]`, a misaligned slice).
///
/// Targets are on the grid in [-4, 4); residuals are mostly of order 1
/// (crossing every threshold used below), 1 in 16 are exact ties, 1 in 16
/// sit exactly on ±δ / ±β of the losses below, and every 97th element is a
/// special value (subnormal, ±0, and, for lengths ≥ 300, ±1e30, ±1.6e38,
/// ±inf). Residuals stay below MAX/2 in magnitude when finite, where MSE's
/// `(r + r)` would overflow before the scale (see tests/regression.rs,
/// `mse_gradient_of_huge_residual_does_not_overflow_early`): these pins
/// must not move when that is fixed.
fn inputs(n: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let len = n + 3;
    let mut rng = SplitMix64::new(0x601D_0000 + n as u64);
    let specials_small = [0.0f32, -0.0, pow2(-149), -pow2(-149), 1e-40, -1e-40];
    let specials_big = [
        1e30f32,
        -1e30,
        1.6e38,
        -1.6e38,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ];
    let mut input = Vec::with_capacity(len);
    let mut target = Vec::with_capacity(len);
    for i in 0..len {
        let t = rng.below(1 << 23) as i64 - (1 << 22); // [-4, 4)
        let residual = match rng.below(16) {
            0 => 0,                                     // tie
            1 => [1, -1][i % 2] * (3 << 19),            // ±1.5 = ±δ
            2 => [1, -1][i % 2] * (3 << 18),            // ±0.75 = ±β
            _ => rng.below(1 << 23) as i64 - (1 << 22), // [-4, 4)
        };
        let (mut x, mut y) = (grid(t + residual), grid(t));
        if i % 97 == 50 {
            let pick = rng.below(12) as usize;
            let v = if n >= 300 && pick >= 6 {
                specials_big[pick - 6]
            } else {
                specials_small[pick % 6]
            };
            if rng.below(2) == 0 { x = v } else { y = v }
        }
        input.push(x);
        target.push(y);
    }
    let prior = (0..len)
        .map(|_| grid(rng.below(1 << 22) as i64 - (1 << 21)))
        .collect();
    (input, target, prior)
}

/// Hashes everything `spec` produces on `isa` over all [`LENGTHS`].
fn golden_hash(spec: Spec, isa: Isa) -> u64 {
    let mut h = Fnv1a::new();
    for n in LENGTHS {
        let (input, target, prior) = inputs(n);
        let (x, y) = (&input[3..], &target[3..]);
        for reduction in [Reduction::Mean, Reduction::Sum] {
            h.f32(spec.value(isa, x, y, reduction).unwrap());
            let mut g = vec![0.0f32; n];
            h.f32(
                spec.value_and_grad(isa, x, y, reduction, Grad::overwrite(&mut g))
                    .unwrap(),
            );
            h.f32s(&g);
            let mut acc = prior[3..].to_vec();
            h.f32(
                spec.value_and_grad(isa, x, y, reduction, Grad::accumulate(&mut acc).scaled(0.3))
                    .unwrap(),
            );
            h.f32s(&acc);
        }
        let mut pe = vec![0.0f32; n];
        spec.per_element(isa, x, y, &mut pe).unwrap();
        h.f32s(&pe);
    }
    h.finish()
}

/// The hash of the regression and binary inputs themselves (no ISA
/// involved): if it changes, the generator (not a kernel) changed and the
/// other constants mean nothing.
fn inputs_hash(_: Isa) -> u64 {
    let mut h = Fnv1a::new();
    for n in LENGTHS {
        let (x, y, p) = inputs(n);
        h.f32s(&x);
        h.f32s(&y);
        h.f32s(&p);
    }
    h.finish()
}

// ---------------------------------------------------------------------------
// The binary losses: BCE, BCE with logits, sigmoid focal
// ---------------------------------------------------------------------------

/// The fixed binary inputs for one length, `n + 3` elements each (the
/// golden calls read `[3..]`): logits on the grid of 2^-20 in [-16, 16),
/// every 97th one special (±0, a subnormal, ±87.5, ±100, ±1e30; no
/// infinity: focal's gradient there is NaN); probabilities `k·2^-24` in
/// [0, 1), every 61st exactly 0 or 1; targets 0 or 1 (half of them) or
/// `k·2^-8` in [0, 1]; a weight map on the grid in [0, 2).
fn binary_inputs(n: usize) -> [Vec<f32>; 4] {
    let len = n + 3;
    let mut rng = SplitMix64::new(0xB1A7_0000 + n as u64);
    let specials = [
        0.0f32,
        -0.0,
        pow2(-140),
        87.5,
        -87.5,
        100.0,
        -100.0,
        1e30,
        -1e30,
    ];
    let mut logits = Vec::with_capacity(len);
    let mut probs = Vec::with_capacity(len);
    let mut targets = Vec::with_capacity(len);
    let mut weight = Vec::with_capacity(len);
    for i in 0..len {
        logits.push(if i % 97 == 50 {
            specials[rng.below(specials.len() as u64) as usize]
        } else {
            grid(rng.below(1 << 25) as i64 - (1 << 24))
        });
        probs.push(if i % 61 == 30 {
            rng.below(2) as f32
        } else {
            rng.unit()
        });
        targets.push(if rng.chance(1, 2) {
            rng.below(2) as f32
        } else {
            rng.below(257) as f32 * pow2(-8)
        });
        weight.push(grid(rng.below(1 << 21) as i64));
    }
    [logits, probs, targets, weight]
}

/// One binary-loss configuration of the golden tests.
#[derive(Clone, Copy, Debug)]
pub enum BinarySpec {
    /// BCE on probabilities with a weight map.
    Bce,
    /// BCE with logits, no options.
    BceWithLogits,
    /// BCE with logits, `pos_weight` 2.5 and a weight map.
    BceWithLogitsWeighted,
    /// Sigmoid focal loss, torchvision's defaults (α = 0.25, γ = 2).
    Focal,
    /// Sigmoid focal loss without α, γ = 0.5, with a weight map.
    FocalGammaHalf,
}

/// Hashes everything `spec` produces on `isa` over all [`LENGTHS`] (the
/// verbs of [`golden_hash`]); asserts that no output is NaN.
fn golden_binary_hash(spec: BinarySpec, isa: Isa) -> u64 {
    fn run<T: PointwiseLoss>(h: &mut Fnv1a, loss: &T, x: &[f32], y: &[f32], prior: &[f32]) {
        let mut hash = |v: &[f32]| {
            assert!(!v.iter().any(|v| v.is_nan()), "NaN (n = {})", x.len());
            h.f32s(v);
        };
        let n = x.len();
        for reduction in [Reduction::Mean, Reduction::Sum] {
            hash(&[loss.value(x, y, reduction).unwrap()]);
            let mut g = vec![0.0f32; n];
            hash(&[loss
                .value_and_grad(x, y, reduction, Grad::overwrite(&mut g))
                .unwrap()]);
            hash(&g);
            let mut acc = prior.to_vec();
            hash(&[loss
                .value_and_grad(x, y, reduction, Grad::accumulate(&mut acc).scaled(0.3))
                .unwrap()]);
            hash(&acc);
        }
        let mut pe = vec![0.0f32; n];
        loss.per_element(x, y, &mut pe).unwrap();
        hash(&pe);
    }
    let mut h = Fnv1a::new();
    for n in LENGTHS {
        let [logits, probs, targets, weight] = binary_inputs(n);
        let (x, p, y, w) = (&logits[3..], &probs[3..], &targets[3..], &weight[3..]);
        let prior = &inputs(n).2[3..];
        let logit_loss = BinaryCrossEntropyWithLogits::new();
        match spec {
            BinarySpec::Bce => {
                let loss = BinaryCrossEntropy::new().with_weight(w);
                run(&mut h, &loss.with_isa(isa).unwrap(), p, y, prior);
            }
            BinarySpec::BceWithLogits => {
                run(&mut h, &logit_loss.with_isa(isa).unwrap(), x, y, prior);
            }
            BinarySpec::BceWithLogitsWeighted => {
                let loss = logit_loss.with_pos_weight(2.5).unwrap().with_weight(w);
                run(&mut h, &loss.with_isa(isa).unwrap(), x, y, prior);
            }
            BinarySpec::Focal => {
                let loss = SigmoidFocal::default();
                run(&mut h, &loss.with_isa(isa).unwrap(), x, y, prior);
            }
            BinarySpec::FocalGammaHalf => {
                let loss = SigmoidFocal::new(-1.0, 0.5).unwrap().with_weight(w);
                run(&mut h, &loss.with_isa(isa).unwrap(), x, y, prior);
            }
        }
    }
    h.finish()
}

/// The hash of the binary inputs themselves (see [`inputs_hash`]).
fn binary_inputs_hash(_: Isa) -> u64 {
    let mut h = Fnv1a::new();
    for n in LENGTHS {
        for v in binary_inputs(n) {
            h.f32s(&v);
        }
    }
    h.finish()
}

// ---------------------------------------------------------------------------
// Softmax cross-entropy and softmax focal over [N, C, S]
// ---------------------------------------------------------------------------

/// `[N, C, S]` shapes: classifier rows with C = 1, 2, 3, 10, on both sides
/// of the row kernel's threshold (47, 48) and of its 64-class chunk (63,
/// 64, 65), 1000 classes (a tail chunk of 40); maps whose tiles lie inside
/// an image (S ≥ 64), straddle images (S = 100, 37) or are partial.
const SOFTMAX_SHAPES: [(usize, usize, usize); 14] = [
    (37, 1, 1),
    (130, 2, 1),
    (70, 3, 1),
    (9, 10, 1),
    (5, 47, 1),
    (5, 48, 1),
    (4, 63, 1),
    (3, 64, 1),
    (3, 65, 1),
    (2, 1000, 1),
    (2, 5, 300),
    (3, 4, 100),
    (1, 21, 64),
    (4, 3, 37),
];

/// The fixed inputs of one shape, each with 3 leading elements (the
/// golden calls read `[3..]`, a misaligned slice): logits on the grid of
/// 2^-20 in [-16, 16), every 97th one special (±inf, ±1e30, ±0, a
/// subnormal; never a row of −∞ only: its value is NaN, whose payload is
/// unspecified); class labels (1 in 8 set to `None`: ignored where the
/// loss ignores); soft targets `k·2^-24` in [0, 1) (unnormalized, as
/// PyTorch allows); class weights on the grid in [0.25, 2.25); a prior
/// gradient.
struct SoftmaxInputs {
    shape: ClassShape,
    logits: Vec<f32>,
    labels: Vec<Option<usize>>,
    probs: Vec<f32>,
    weight: Vec<f32>,
    prior: Vec<f32>,
}

fn softmax_inputs((n, c, s): (usize, usize, usize)) -> SoftmaxInputs {
    let shape = ClassShape::new(n, c, s).unwrap();
    let len = shape.len();
    let mut rng = SplitMix64::new(0x50F7_0000 + (n * 1_000_003 + c * 1009 + s) as u64);
    let specials = [
        f32::INFINITY,
        f32::NEG_INFINITY,
        1e30f32,
        -1e30,
        0.0,
        -0.0,
        pow2(-140),
    ];
    let mut logits: Vec<f32> = (0..len + 3)
        .map(|i| {
            if i % 97 == 50 {
                specials[rng.below(specials.len() as u64) as usize]
            } else {
                grid(rng.below(1 << 25) as i64 - (1 << 24) + 1)
            }
        })
        .collect();
    // No row of −∞ only.
    for j in 0..shape.samples() {
        let at = |k: usize| 3 + ((j / s) * c + k) * s + j % s;
        if (0..c).all(|k| logits[at(k)] == f32::NEG_INFINITY) {
            logits[at(0)] = 0.0;
        }
    }
    let labels = (0..shape.samples())
        .map(|_| {
            let y = rng.below(c as u64) as usize;
            (!rng.chance(1, 8)).then_some(y)
        })
        .collect();
    let probs = (0..len + 3).map(|_| rng.unit()).collect();
    let weight = (0..c)
        .map(|_| 0.25 + grid(rng.below(1 << 21) as i64))
        .collect();
    let prior = (0..len + 3)
        .map(|_| grid(rng.below(1 << 22) as i64 - (1 << 21)))
        .collect();
    SoftmaxInputs {
        shape,
        logits,
        labels,
        probs,
        weight,
        prior,
    }
}

/// The hash of the softmax inputs themselves (see [`inputs_hash`]).
fn softmax_inputs_hash(_: Isa) -> u64 {
    let mut h = Fnv1a::new();
    for dims in SOFTMAX_SHAPES {
        let inp = softmax_inputs(dims);
        h.f32s(&inp.logits);
        h.f32s(&inp.probs);
        h.f32s(&inp.weight);
        h.f32s(&inp.prior);
        for y in &inp.labels {
            h.u64(y.map_or(u64::MAX, |y| y as u64));
        }
    }
    h.finish()
}

/// One softmax configuration of the golden tests.
#[derive(Clone, Copy, Debug)]
pub enum SoftmaxSpec {
    /// Cross-entropy, `i64` labels, the default ignore index −100.
    Ce,
    /// Cross-entropy with class weights, label smoothing 0.1, labels of
    /// `u8` (`u16` above 255 classes) with ignore index 255.
    CeWeightedSmoothed,
    /// Cross-entropy with probability targets, class weights, smoothing
    /// 0.05.
    CeProbabilities,
    /// Focal with this γ, `u32` labels, class weights if `true`; no
    /// ignored samples.
    Focal(f32, bool),
}

/// Runs `$body` with `$loss` the configured loss (on `$isa`) and `$t` its
/// target.
macro_rules! with_softmax {
    ($spec:expr, $isa:expr, $inp:expr, |$loss:ident, $t:ident| $body:expr) => {{
        let inp: &SoftmaxInputs = $inp;
        let classes = inp.shape.classes();
        match $spec {
            SoftmaxSpec::Ce => {
                let $loss = SoftmaxCrossEntropy::new().with_isa($isa).unwrap();
                let labels: Vec<i64> = inp
                    .labels
                    .iter()
                    .map(|y| y.map_or(-100, |y| y as i64))
                    .collect();
                let $t = labels.as_slice();
                $body
            }
            SoftmaxSpec::CeWeightedSmoothed => {
                let $loss = SoftmaxCrossEntropy::new()
                    .with_weight(&inp.weight)
                    .with_label_smoothing(0.1)
                    .unwrap()
                    .with_ignore_index(255)
                    .with_isa($isa)
                    .unwrap();
                if classes <= 255 {
                    let labels: Vec<u8> = inp
                        .labels
                        .iter()
                        .map(|y| y.map_or(255, |y| y as u8))
                        .collect();
                    let $t = labels.as_slice();
                    $body
                } else {
                    let labels: Vec<u16> = inp
                        .labels
                        .iter()
                        .map(|y| y.map_or(255, |y| y as u16))
                        .collect();
                    let $t = labels.as_slice();
                    $body
                }
            }
            SoftmaxSpec::CeProbabilities => {
                let $loss = SoftmaxCrossEntropy::new()
                    .with_weight(&inp.weight)
                    .with_label_smoothing(0.05)
                    .unwrap()
                    .with_isa($isa)
                    .unwrap();
                let $t = Probabilities(&inp.probs[3..]);
                $body
            }
            SoftmaxSpec::Focal(gamma, weighted) => {
                let focal = SoftmaxFocal::new(gamma).unwrap().with_isa($isa).unwrap();
                let $loss = if weighted {
                    focal.with_weight(&inp.weight)
                } else {
                    focal
                };
                // Every sample kept: an ignored sample's focal gradient is
                // NaN today (tests/softmax.rs,
                // `focal_ignored_sample_has_zero_gradient`), and NaN
                // payloads are unspecified.
                let labels: Vec<u32> = inp
                    .labels
                    .iter()
                    .enumerate()
                    .map(|(j, y)| y.unwrap_or(j % classes) as u32)
                    .collect();
                let $t = labels.as_slice();
                $body
            }
        }
    }};
}

/// Hashes everything `spec` produces on `isa` over all [`SOFTMAX_SHAPES`]:
/// per reduction the value, the fused value and overwritten gradient, the
/// value and a gradient accumulated with scale 0.3 onto the prior; then
/// the per-sample values (each as a length-prefixed slice).
fn golden_softmax_hash(spec: SoftmaxSpec, isa: Isa) -> u64 {
    let mut h = Fnv1a::new();
    for dims in SOFTMAX_SHAPES {
        let inp = softmax_inputs(dims);
        let shape = inp.shape;
        let x = &inp.logits[3..];
        // NaN payloads are unspecified: no output may be NaN.
        let mut hash = |v: &[f32]| {
            assert!(!v.iter().any(|v| v.is_nan()), "{spec:?} {dims:?}: NaN");
            h.f32s(v);
        };
        with_softmax!(spec, isa, &inp, |loss, t| {
            for reduction in [Reduction::Mean, Reduction::Sum] {
                hash(&[loss.value(x, shape, t, reduction).unwrap()]);
                let mut g = vec![0.0f32; shape.len()];
                hash(&[loss
                    .value_and_grad(x, shape, t, reduction, Grad::overwrite(&mut g))
                    .unwrap()]);
                hash(&g);
                let mut acc = inp.prior[3..].to_vec();
                hash(&[loss
                    .value_and_grad(
                        x,
                        shape,
                        t,
                        reduction,
                        Grad::accumulate(&mut acc).scaled(0.3),
                    )
                    .unwrap()]);
                hash(&acc);
            }
            let mut pe = vec![0.0f32; shape.samples()];
            loss.per_element(x, shape, t, &mut pe).unwrap();
            hash(&pe);
        });
    }
    h.finish()
}

// ---------------------------------------------------------------------------
// The Dice family over [N, C, S]
// ---------------------------------------------------------------------------

/// `[N, C, S]` shapes: one channel (binary) with full and partial 64-pixel
/// tiles, a few classes, a map smaller than a tile, 21 classes (VOC).
const DICE_SHAPES: [(usize, usize, usize); 6] = [
    (2, 1, 300),
    (3, 3, 64),
    (2, 4, 130),
    (4, 2, 5),
    (1, 21, 200),
    (2, 8, 65),
];

/// The fixed inputs of one Dice shape, each with 3 leading elements (the
/// golden calls read `[3..]`): logits on the grid of 2^-20 in [-16, 16)
/// (finite: an infinite logit can make a term NaN, whose payload is
/// unspecified); labels (1 in 8 set to 255, the ignore index; 0/1 for one
/// channel); soft targets `k·2^-24` in [0, 1); probabilities in [0, 1)
/// for `Activation::None`; class weights on the grid in [0.25, 2.25); a
/// prior gradient.
struct DiceInputs {
    shape: ClassShape,
    logits: Vec<f32>,
    labels: Vec<u8>,
    soft: Vec<f32>,
    weight: Vec<f32>,
    prior: Vec<f32>,
}

fn dice_inputs((n, c, s): (usize, usize, usize)) -> DiceInputs {
    let shape = ClassShape::new(n, c, s).unwrap();
    let len = shape.len();
    let mut rng = SplitMix64::new(0xD1CE_0000 + (n * 1_000_003 + c * 1009 + s) as u64);
    let logits = (0..len + 3)
        .map(|_| grid(rng.below(1 << 25) as i64 - (1 << 24) + 1))
        .collect();
    let classes = if c == 1 { 2 } else { c as u64 };
    let labels = (0..shape.samples())
        .map(|_| {
            let y = rng.below(classes) as u8;
            if rng.chance(1, 8) { 255 } else { y }
        })
        .collect();
    let soft = (0..len + 3).map(|_| rng.unit()).collect();
    let weight = (0..c)
        .map(|_| 0.25 + grid(rng.below(1 << 21) as i64))
        .collect();
    let prior = (0..len + 3)
        .map(|_| grid(rng.below(1 << 22) as i64 - (1 << 21)))
        .collect();
    DiceInputs {
        shape,
        logits,
        labels,
        soft,
        weight,
        prior,
    }
}

/// One Dice-family configuration of the golden tests.
#[derive(Clone, Copy, Debug)]
pub enum DiceSpec {
    /// `Dice` with softmax (sigmoid for one channel), u8 labels, ignore 255.
    Dice,
    /// The Jaccard form on sigmoid, soft targets, `squared_pred`, weights.
    JaccardSigmoidSoft,
    /// `Tversky(0.3, 0.7)` on probabilities (`Activation::None`), labels,
    /// background dropped where there are several classes.
    TverskyNone,
    /// `GeneralizedDice` with softmax (sigmoid for one channel) over the
    /// batch, labels.
    GeneralizedBatch,
    /// `DiceCrossEntropy` with weights and label smoothing 0.1, labels
    /// (several classes only).
    DiceCe,
}

/// Hashes everything `spec` produces on `isa` over all [`DICE_SHAPES`]:
/// per reduction the value, the fused value and overwritten gradient, the
/// value and a gradient accumulated with scale 0.3 onto the prior; then
/// the terms (`per_element`, where the loss has it).
fn golden_dice_hash(spec: DiceSpec, isa: Isa) -> u64 {
    let mut h = Fnv1a::new();
    for dims in DICE_SHAPES {
        let inp = dice_inputs(dims);
        let shape = inp.shape;
        let c = shape.classes();
        let softmax = if c == 1 {
            Activation::Sigmoid
        } else {
            Activation::Softmax
        };
        let x = &inp.logits[3..];
        let probs: Vec<f32> = x.iter().map(|v| (v.abs() / 16.0).min(1.0)).collect();
        let labels = inp.labels.as_slice();
        let soft = Probabilities(&inp.soft[3..]);
        let mut hash = |v: &[f32]| {
            assert!(!v.iter().any(|v| v.is_nan()), "{spec:?} {dims:?}: NaN");
            h.f32s(v);
        };
        macro_rules! run {
            ($loss:expr, $x:expr, $t:expr, $terms:expr) => {{
                let loss = $loss.with_isa(isa).unwrap();
                let (x, t) = ($x, $t);
                for reduction in [Reduction::Mean, Reduction::Sum] {
                    hash(&[loss.value(x, shape, t, reduction).unwrap()]);
                    let mut g = vec![0.0f32; shape.len()];
                    hash(&[loss
                        .value_and_grad(x, shape, t, reduction, Grad::overwrite(&mut g))
                        .unwrap()]);
                    hash(&g);
                    let mut acc = inp.prior[3..].to_vec();
                    hash(&[loss
                        .value_and_grad(
                            x,
                            shape,
                            t,
                            reduction,
                            Grad::accumulate(&mut acc).scaled(0.3),
                        )
                        .unwrap()]);
                    hash(&acc);
                }
                if let Some(len) = $terms {
                    let mut out = vec![0.0f32; len];
                    loss.per_element(x, shape, t, &mut out).unwrap();
                    hash(&out);
                }
            }};
        }
        match spec {
            DiceSpec::Dice => run!(
                Dice::new(softmax).with_ignore_index(255),
                x,
                labels,
                Some(shape.batch() * c)
            ),
            DiceSpec::JaccardSigmoidSoft => {
                let kept = &inp.weight[..];
                run!(
                    Dice::new(Activation::Sigmoid)
                        .with_jaccard(true)
                        .with_squared_pred(true)
                        .with_weight(kept),
                    x,
                    soft,
                    Some(shape.batch() * c)
                )
            }
            DiceSpec::TverskyNone => run!(
                Tversky::new(Activation::None, 0.3, 0.7)
                    .unwrap()
                    .with_include_background(c == 1)
                    .with_ignore_index(255),
                probs.as_slice(),
                labels,
                Some(shape.batch() * (c - usize::from(c > 1)))
            ),
            DiceSpec::GeneralizedBatch => run!(
                GeneralizedDice::new(softmax)
                    .with_batch(true)
                    .with_ignore_index(255),
                x,
                labels,
                Some(1)
            ),
            DiceSpec::DiceCe => {
                if c > 1 {
                    run!(
                        DiceCrossEntropy::new()
                            .with_weight(&inp.weight)
                            .with_label_smoothing(0.1)
                            .unwrap()
                            .with_ignore_index(255),
                        x,
                        labels,
                        None
                    )
                }
            }
        }
    }
    h.finish()
}

/// Large passes, above the `rayon` feature's parallel thresholds, whose
/// block partials span about 2^-110 .. 2^90, so that the f64 total of the
/// blocks rounds many times: the same constant in the build without the
/// feature (one pass) and with it (split over the pool, exact totals
/// merged), on every ISA.
#[derive(Clone, Copy, Debug)]
pub enum LargeSpec {
    Mse,
    BceWithLogitsPosWeight,
    /// A signed weight map whose halves cancel (the second half repeats
    /// the first with weight −1, −½ over its last 1000 elements): the f32
    /// value sees how the block partials are summed.
    BceWithLogitsCancelling,
}

/// `(1 << 18) + (1 << 16) + 80` (80 · 4097) elements of `k · 2^e` (integer `|k| < 2^23`,
/// `e` stepping through -80 .. 20 every 512 elements); targets in [0, 1] on
/// a grid of 2^-8.
fn golden_large_hash(spec: LargeSpec, isa: Isa) -> u64 {
    use simdloss::Mse;
    let n = (1 << 18) + (1 << 16) + 80;
    let mut rng = SplitMix64::new(0x1A46_E000);
    let x: Vec<f32> = (0..n)
        .map(|i| {
            let k = rng.below(1 << 24) as i64 - (1 << 23);
            let e = ((i / 512) % 101) as i32 - 80;
            k as f32 * pow2(e)
        })
        .collect();
    let y: Vec<f32> = (0..n).map(|_| rng.below(257) as f32 * pow2(-8)).collect();
    let pos_weight: Vec<f32> = (0..80).map(|c| 0.5 + c as f32 * pow2(-4)).collect();
    // Mean value, Sum value and the Sum gradient of one loss, hashed.
    fn hash_pass<T: PointwiseLoss>(loss: &T, x: &[f32], y: &[f32]) -> u64 {
        let mut h = Fnv1a::new();
        let mut grad = vec![0.0f32; x.len()];
        h.f32(loss.value(x, y, Reduction::Mean).expect("value"));
        h.f32(
            loss.value_and_grad(x, y, Reduction::Sum, Grad::overwrite(&mut grad))
                .expect("grad"),
        );
        h.f32s(&grad);
        h.finish()
    }
    match spec {
        LargeSpec::Mse => hash_pass(&Mse::new().with_isa(isa).expect("isa"), &x, &y),
        LargeSpec::BceWithLogitsCancelling => {
            let half = n / 2;
            let x: Vec<f32> = (0..n).map(|i| x[i % half]).collect();
            let y: Vec<f32> = (0..n).map(|i| y[i % half]).collect();
            let w: Vec<f32> = (0..n)
                .map(|i| match i {
                    i if i < half => 1.0,
                    i if i >= n - 1000 => -0.5,
                    _ => -1.0,
                })
                .collect();
            let loss = BinaryCrossEntropyWithLogits::new()
                .with_weight(&w)
                .with_isa(isa)
                .expect("isa");
            hash_pass(&loss, &x, &y)
        }
        LargeSpec::BceWithLogitsPosWeight => {
            let loss = BinaryCrossEntropyWithLogits::new()
                .with_pos_weight_per_class(&pos_weight)
                .expect("pos_weight")
                .with_isa(isa)
                .expect("isa");
            hash_pass(&loss, &x, &y)
        }
    }
}

// ---------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------

/// `inputs_are_stable`.
pub const INPUTS_ARE_STABLE: Case = Case {
    name: "inputs_are_stable",
    which: Which::Plain(inputs_hash),
    expected: 0xf507_fd31_c408_6947,
};

/// `mse`.
pub const MSE: Case = Case {
    name: "mse",
    which: Which::Regression(Spec::Mse),
    expected: 0x94b8_ba65_fa99_9cfc,
};

/// `l1`.
pub const L1: Case = Case {
    name: "l1",
    which: Which::Regression(Spec::L1),
    expected: 0x28c1_42c0_5c89_3685,
};

/// `huber`.
pub const HUBER: Case = Case {
    name: "huber",
    which: Which::Regression(Spec::Huber(1.5)),
    expected: 0x34d9_9fda_8dd0_7de0,
};

/// `smooth_l1`.
pub const SMOOTH_L1: Case = Case {
    name: "smooth_l1",
    which: Which::Regression(Spec::SmoothL1(0.75)),
    expected: 0x15c4_4bc2_a5c5_b9ce,
};

/// `binary_inputs_are_stable`.
pub const BINARY_INPUTS_ARE_STABLE: Case = Case {
    name: "binary_inputs_are_stable",
    which: Which::Plain(binary_inputs_hash),
    expected: 0x8af4_ac38_811a_c136,
};

/// `bce`.
pub const BCE: Case = Case {
    name: "bce",
    which: Which::Binary(BinarySpec::Bce),
    expected: 0x09e9_b346_cc80_e7ed,
};

/// `bce_with_logits`.
pub const BCE_WITH_LOGITS: Case = Case {
    name: "bce_with_logits",
    which: Which::Binary(BinarySpec::BceWithLogits),
    expected: 0x316c_91cf_f517_e47c,
};

/// `bce_with_logits_weighted`.
pub const BCE_WITH_LOGITS_WEIGHTED: Case = Case {
    name: "bce_with_logits_weighted",
    which: Which::Binary(BinarySpec::BceWithLogitsWeighted),
    expected: 0x00c4_7cab_cf55_d95a,
};

/// `sigmoid_focal`.
pub const SIGMOID_FOCAL: Case = Case {
    name: "sigmoid_focal",
    which: Which::Binary(BinarySpec::Focal),
    expected: 0x65cc_2cb4_7649_82bb,
};

/// `sigmoid_focal_gamma_half`.
pub const SIGMOID_FOCAL_GAMMA_HALF: Case = Case {
    name: "sigmoid_focal_gamma_half",
    which: Which::Binary(BinarySpec::FocalGammaHalf),
    expected: 0xcbf1_5739_0b61_2883,
};

/// `softmax_inputs_are_stable`.
pub const SOFTMAX_INPUTS_ARE_STABLE: Case = Case {
    name: "softmax_inputs_are_stable",
    which: Which::Plain(softmax_inputs_hash),
    expected: 0x3092_fdcb_31ff_517d,
};

/// `softmax_cross_entropy`.
pub const SOFTMAX_CROSS_ENTROPY: Case = Case {
    name: "softmax_cross_entropy",
    which: Which::Softmax(SoftmaxSpec::Ce),
    expected: 0x6eac_1fbd_95cc_61b0,
};

/// `softmax_cross_entropy_weighted_smoothed`.
pub const SOFTMAX_CROSS_ENTROPY_WEIGHTED_SMOOTHED: Case = Case {
    name: "softmax_cross_entropy_weighted_smoothed",
    which: Which::Softmax(SoftmaxSpec::CeWeightedSmoothed),
    expected: 0x06a8_1611_3721_fa95,
};

/// `softmax_cross_entropy_probabilities`.
pub const SOFTMAX_CROSS_ENTROPY_PROBABILITIES: Case = Case {
    name: "softmax_cross_entropy_probabilities",
    which: Which::Softmax(SoftmaxSpec::CeProbabilities),
    expected: 0x8b76_d6db_83de_9bab,
};

/// `softmax_focal_gamma_2_weighted`.
pub const SOFTMAX_FOCAL_GAMMA_2_WEIGHTED: Case = Case {
    name: "softmax_focal_gamma_2_weighted",
    which: Which::Softmax(SoftmaxSpec::Focal(2.0, true)),
    expected: 0x3af2_871c_3131_946f,
};

/// `softmax_focal_gamma_half`.
pub const SOFTMAX_FOCAL_GAMMA_HALF: Case = Case {
    name: "softmax_focal_gamma_half",
    which: Which::Softmax(SoftmaxSpec::Focal(0.5, false)),
    expected: 0x3dd2_7f00_00d4_7f35,
};

/// `dice`.
pub const DICE: Case = Case {
    name: "dice",
    which: Which::Dice(DiceSpec::Dice),
    expected: 0x2feb_2277_1fa7_ddbb,
};

/// `dice_jaccard_sigmoid_soft`.
pub const DICE_JACCARD_SIGMOID_SOFT: Case = Case {
    name: "dice_jaccard_sigmoid_soft",
    which: Which::Dice(DiceSpec::JaccardSigmoidSoft),
    expected: 0xcc3d_fe30_93c8_c46a,
};

/// `tversky_none`.
pub const TVERSKY_NONE: Case = Case {
    name: "tversky_none",
    which: Which::Dice(DiceSpec::TverskyNone),
    expected: 0x75f0_50f2_897e_2309,
};

/// `generalized_dice_batch`.
pub const GENERALIZED_DICE_BATCH: Case = Case {
    name: "generalized_dice_batch",
    which: Which::Dice(DiceSpec::GeneralizedBatch),
    expected: 0x3d44_0e44_f0a6_9547,
};

/// `dice_cross_entropy`.
pub const DICE_CROSS_ENTROPY: Case = Case {
    name: "dice_cross_entropy",
    which: Which::Dice(DiceSpec::DiceCe),
    expected: 0xd7a5_7476_7560_f198,
};

/// `large_mse`.
pub const LARGE_MSE: Case = Case {
    name: "large_mse",
    which: Which::Large(LargeSpec::Mse),
    expected: 0x0b96_3da4_48d4_6c3f,
};

/// `large_bce_with_logits_pos_weight`.
pub const LARGE_BCE_WITH_LOGITS_POS_WEIGHT: Case = Case {
    name: "large_bce_with_logits_pos_weight",
    which: Which::Large(LargeSpec::BceWithLogitsPosWeight),
    expected: 0x92eb_fe91_3b6f_71a3,
};

/// `large_bce_with_logits_cancelling`.
pub const LARGE_BCE_WITH_LOGITS_CANCELLING: Case = Case {
    name: "large_bce_with_logits_cancelling",
    which: Which::Large(LargeSpec::BceWithLogitsCancelling),
    expected: 0x8101_62bc_dc0a_3153,
};

/// Every case, in the order the firmware runs them.
pub const ALL: [Case; 25] = [
    INPUTS_ARE_STABLE,
    MSE,
    L1,
    HUBER,
    SMOOTH_L1,
    BINARY_INPUTS_ARE_STABLE,
    BCE,
    BCE_WITH_LOGITS,
    BCE_WITH_LOGITS_WEIGHTED,
    SIGMOID_FOCAL,
    SIGMOID_FOCAL_GAMMA_HALF,
    SOFTMAX_INPUTS_ARE_STABLE,
    SOFTMAX_CROSS_ENTROPY,
    SOFTMAX_CROSS_ENTROPY_WEIGHTED_SMOOTHED,
    SOFTMAX_CROSS_ENTROPY_PROBABILITIES,
    SOFTMAX_FOCAL_GAMMA_2_WEIGHTED,
    SOFTMAX_FOCAL_GAMMA_HALF,
    DICE,
    DICE_JACCARD_SIGMOID_SOFT,
    TVERSKY_NONE,
    GENERALIZED_DICE_BATCH,
    DICE_CROSS_ENTROPY,
    LARGE_MSE,
    LARGE_BCE_WITH_LOGITS_POS_WEIGHT,
    LARGE_BCE_WITH_LOGITS_CANCELLING,
];
