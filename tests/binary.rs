//! The binary losses (BCE, BCE with logits, sigmoid focal) against f64
//! references, finite differences, edge values, every error path, and
//! bit-identity across every instruction set this CPU has.
//!
//! The f64 references are `tests/reference/binary.rs` (shared with the
//! fuzz crate); the PRNG and the hash are here.

use proptest::prelude::*;
use simdloss::{
    BinaryCrossEntropy, BinaryCrossEntropyWithLogits, Grad, Isa, LossError, PointwiseLoss,
    Reduction, SigmoidFocal,
};

// ---------------------------------------------------------------------------
// Deterministic inputs
// ---------------------------------------------------------------------------

/// SplitMix64: fully specified by integer arithmetic.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in [0, 1) with 24 random bits: exact in f32.
    fn unit(&mut self) -> f32 {
        #[allow(clippy::cast_precision_loss)] // < 2^24: exact
        let k = (self.next_u64() >> 40) as f32;
        k / 16_777_216.0
    }

    /// A logit: half uniform in [−12, 12), half sign · 2^[−30, 100) with a
    /// random mantissa (built from bits, exact), so every regime is hit.
    fn logit(&mut self) -> f32 {
        if self.below(2) == 0 {
            self.unit() * 24.0 - 12.0
        } else {
            let exponent = u32::try_from(self.below(130)).expect("< 130") + 127 - 30;
            let mantissa = u32::try_from(self.next_u64() >> 41).expect("23 bits");
            let sign = u32::try_from(self.below(2)).expect("0 or 1") << 31;
            f32::from_bits(sign | (exponent << 23) | mantissa)
        }
    }

    /// A target: 0 or 1 (hard) or uniform in [0, 1] (soft).
    fn target(&mut self, soft: bool) -> f32 {
        if soft {
            self.unit()
        } else {
            #[allow(clippy::cast_precision_loss)] // 0 or 1
            let t = self.below(2) as f32;
            t
        }
    }

    /// A probability: uniform, or very close to 0 or 1, or exactly 0 / 1.
    fn probability(&mut self) -> f32 {
        match self.below(6) {
            0 => 0.0,
            1 => 1.0,
            2 => {
                // 2^[−149, 0): subnormals included.
                let e = u32::try_from(self.below(127)).expect("< 127");
                let m = u32::try_from(self.next_u64() >> 41).expect("23 bits");
                f32::from_bits((e << 23) | m)
            }
            3 => 1.0 - self.unit() * 1e-6,
            _ => self.unit(),
        }
    }
}

/// FNV-1a, 64 bits, over the bit patterns of f32 values.
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, values: &[f32]) {
        for v in values {
            for byte in v.to_bits().to_le_bytes() {
                self.0 ^= u64::from(byte);
                self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// f64 references
// ---------------------------------------------------------------------------

/// The f64 references (shared with the fuzz crate): one copy, in
/// `tests/reference/binary.rs`.
#[path = "reference/binary.rs"]
mod reference;

use reference::{bce_logits_ref, bce_ref, focal_ref, sigmoid, ulp_at};

/// The focal loss straight from its definition (moderate `x` only).
fn focal_naive(x: f64, y: f64, alpha: f64, gamma: f64) -> f64 {
    let p = sigmoid(x);
    let p_t = p * y + (1.0 - p) * (1.0 - y);
    let ce = -(y * p.ln() + (1.0 - y) * (1.0 - p).ln());
    let alpha_t = if alpha >= 0.0 {
        alpha * y + (1.0 - alpha) * (1.0 - y)
    } else {
        1.0
    };
    alpha_t * (1.0 - p_t).powf(gamma) * ce
}

// ---------------------------------------------------------------------------
// The references themselves
// ---------------------------------------------------------------------------

/// Central difference of `f` at `x`, with a step relative to `x`.
fn central_difference(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-5 * x.abs().max(1.0);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

#[test]
fn reference_derivatives_match_finite_differences() {
    let xs = [
        -30.0, -8.0, -2.5, -0.7, -0.01, 0.0, 0.01, 0.3, 1.0, 4.0, 15.0,
    ];
    let ys = [0.0, 1.0, 0.5, 0.1, 0.85];
    let mut checked = 0;
    for &x in &xs {
        for &y in &ys {
            for pw in [1.0, 0.3, 4.0] {
                for w in [1.0, 2.5] {
                    let (_, g, _) = bce_logits_ref(x, y, w, pw);
                    let fd = central_difference(|x| bce_logits_ref(x, y, w, pw).0, x);
                    assert!(
                        (g - fd).abs() <= 1e-6 * (1.0 + g.abs()),
                        "logits x {x} y {y}: {g} vs {fd}"
                    );
                    checked += 1;
                }
            }
            for gamma in [0.0, 0.25, 0.5, 1.0, 2.0, 5.0] {
                for alpha in [0.25, -1.0, 1.0] {
                    let (_, g, _, _) = focal_ref(x, y, alpha, gamma, 1.0);
                    let fd = central_difference(|x| focal_ref(x, y, alpha, gamma, 1.0).0, x);
                    assert!(
                        (g - fd).abs() <= 1e-6 * (1.0 + g.abs()),
                        "focal x {x} y {y} α {alpha} γ {gamma}: {g} vs {fd}"
                    );
                    checked += 1;
                }
            }
        }
    }
    for p in [1e-3, 0.01, 0.2, 0.5, 0.77, 0.99, 0.999] {
        for &y in &ys {
            let (_, g) = bce_ref(p, y, 1.5);
            let h = 1e-7;
            let fd = (bce_ref(p + h, y, 1.5).0 - bce_ref(p - h, y, 1.5).0) / (2.0 * h);
            assert!(
                (g - fd).abs() <= 1e-5 * (1.0 + g.abs()),
                "bce p {p} y {y}: {g} vs {fd}"
            );
            checked += 1;
        }
    }
    assert!(checked > 1000);
}

#[test]
fn focal_reference_matches_its_definition() {
    for x in [-20.0, -5.0, -1.0, -0.1, 0.0, 0.2, 1.5, 6.0, 20.0] {
        for y in [0.0, 1.0, 0.3, 0.5, 0.9] {
            for gamma in [0.0, 0.5, 1.0, 2.0, 3.7] {
                for alpha in [0.25, -1.0] {
                    let a = focal_ref(x, y, alpha, gamma, 1.0).0;
                    let b = focal_naive(x, y, alpha, gamma);
                    // The naive form loses ~e^|x|·2⁻⁵³ relative in ln(1 − p).
                    let tol = if x.abs() > 10.0 { 1e-6 } else { 1e-9 };
                    assert!(
                        (a - b).abs() <= tol * b.abs().max(1e-300),
                        "x {x} y {y} γ {gamma} α {alpha}: {a} vs {b}"
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The losses under test, as a list
// ---------------------------------------------------------------------------

/// One configured binary loss, runnable through the public API.
#[derive(Clone, Copy, Debug)]
enum Case<'a> {
    Bce(BinaryCrossEntropy<'a>),
    Logits(BinaryCrossEntropyWithLogits<'a>),
    Focal(SigmoidFocal<'a>),
}

impl Case<'_> {
    fn with_isa(self, isa: Isa) -> Self {
        match self {
            Case::Bce(l) => Case::Bce(l.with_isa(isa).expect("available")),
            Case::Logits(l) => Case::Logits(l.with_isa(isa).expect("available")),
            Case::Focal(l) => Case::Focal(l.with_isa(isa).expect("available")),
        }
    }

    fn value(self, x: &[f32], y: &[f32], r: Reduction) -> Result<f32, LossError> {
        match self {
            Case::Bce(l) => l.value(x, y, r),
            Case::Logits(l) => l.value(x, y, r),
            Case::Focal(l) => l.value(x, y, r),
        }
    }

    fn value_and_grad(
        self,
        x: &[f32],
        y: &[f32],
        r: Reduction,
        g: Grad<'_>,
    ) -> Result<f32, LossError> {
        match self {
            Case::Bce(l) => l.value_and_grad(x, y, r, g),
            Case::Logits(l) => l.value_and_grad(x, y, r, g),
            Case::Focal(l) => l.value_and_grad(x, y, r, g),
        }
    }

    fn per_element(self, x: &[f32], y: &[f32], out: &mut [f32]) -> Result<(), LossError> {
        match self {
            Case::Bce(l) => l.per_element(x, y, out),
            Case::Logits(l) => l.per_element(x, y, out),
            Case::Focal(l) => l.per_element(x, y, out),
        }
    }

    fn takes_probabilities(self) -> bool {
        matches!(self, Case::Bce(_))
    }
}

/// NaN payloads are unspecified: compare NaN as one pattern.
fn canonical(v: f32) -> u32 {
    if v.is_nan() { 0x7fc0_0000 } else { v.to_bits() }
}

/// Every verb of `case` on `(x, y)`: the bits of value (mean and sum), the
/// fused value and overwritten gradient, the value and a gradient
/// accumulated with a scale into a non-zero buffer, and the per-element
/// values.
fn all_verbs(case: Case<'_>, x: &[f32], y: &[f32]) -> Vec<u32> {
    let n = x.len();
    let mut bits = Vec::with_capacity(4 * n + 4);
    bits.push(canonical(case.value(x, y, Reduction::Mean).expect("valid")));
    bits.push(canonical(case.value(x, y, Reduction::Sum).expect("valid")));
    let mut g = vec![0.0f32; n];
    let v = case
        .value_and_grad(x, y, Reduction::Mean, Grad::overwrite(&mut g))
        .expect("valid");
    bits.push(canonical(v));
    bits.extend(g.iter().map(|&v| canonical(v)));
    #[allow(clippy::cast_precision_loss)]
    let mut g: Vec<f32> = (0..n).map(|i| (i % 7) as f32 * 0.125 - 0.25).collect();
    let v = case
        .value_and_grad(x, y, Reduction::Sum, Grad::accumulate(&mut g).scaled(0.37))
        .expect("valid");
    bits.push(canonical(v));
    bits.extend(g.iter().map(|&v| canonical(v)));
    let mut out = vec![0.0f32; n];
    case.per_element(x, y, &mut out).expect("valid");
    bits.extend(out.iter().map(|&v| canonical(v)));
    bits
}

/// Per-element values and derivatives (Sum, scale 1) on the default ISA.
fn values_and_grads(case: Case<'_>, x: &[f32], y: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let mut v = vec![0.0f32; x.len()];
    let mut g = vec![0.0f32; x.len()];
    case.per_element(x, y, &mut v).expect("valid");
    case.value_and_grad(x, y, Reduction::Sum, Grad::overwrite(&mut g))
        .expect("valid");
    (v, g)
}

// ---------------------------------------------------------------------------
// Accuracy against the f64 references
// ---------------------------------------------------------------------------

/// Absolute slack for results the f32 kernels flush to zero: the exact
/// value is below 2⁻¹²⁶ (times the weights involved).
const FLUSH: f64 = 1e-37;

/// Tracks the worst `error / bound` ratio and where it happened.
#[derive(Default)]
struct Worst {
    ratio: f64,
    at: String,
}

impl Worst {
    fn check(&mut self, what: &str, got: f32, want: f64, bound: f64, at: impl FnOnce() -> String) {
        let err = (f64::from(got) - want).abs();
        let ratio = err / bound;
        assert!(
            ratio <= 1.0 && got.is_finite() == want.is_finite(),
            "{what}: got {got:e}, reference {want:e}, error {err:e} > bound {bound:e} at {}",
            at()
        );
        if ratio > self.ratio {
            self.ratio = ratio;
            self.at = at();
        }
    }
}

#[test]
fn bce_matches_f64_reference() {
    let mut rng = Rng(11);
    let n = 200_000;
    let p: Vec<f32> = (0..n).map(|_| rng.probability()).collect();
    let y: Vec<f32> = (0..n).map(|i| rng.target(i % 2 == 0)).collect();
    let w: Vec<f32> = (0..n).map(|_| 0.25 + 2.0 * rng.unit()).collect();
    for weighted in [false, true] {
        let loss = if weighted {
            BinaryCrossEntropy::new().with_weight(&w)
        } else {
            BinaryCrossEntropy::new()
        };
        let (v, g) = values_and_grads(Case::Bce(loss), &p, &y);
        let (mut wv, mut wg) = (Worst::default(), Worst::default());
        for i in 0..n {
            let wi = if weighted { f64::from(w[i]) } else { 1.0 };
            let (rv, rg) = bce_ref(f64::from(p[i]), f64::from(y[i]), wi);
            let at = || format!("p {:e} y {:e} w {wi}", p[i], y[i]);
            // Two logs (≤ 1.5 ulp), products, a sum, the weight.
            wv.check("value", v[i], rv, 4.0 * ulp_at(rv) + FLUSH, at);
            // p − y, 1 − p, a product, a division, the weight.
            wg.check("grad", g[i], rg, 4.0 * ulp_at(rg) + FLUSH, at);
        }
        println!(
            "bce (weighted: {weighted}): value {:.3} of bound ({}), grad {:.3} of bound ({})",
            wv.ratio, wv.at, wg.ratio, wg.at
        );
    }
}

#[test]
fn bce_with_logits_matches_f64_reference() {
    let mut rng = Rng(12);
    let n = 200_000;
    let x: Vec<f32> = (0..n).map(|_| rng.logit()).collect();
    let y: Vec<f32> = (0..n).map(|i| rng.target(i % 2 == 0)).collect();
    let w: Vec<f32> = (0..n).map(|_| 0.25 + 2.0 * rng.unit()).collect();
    let pw_classes = [0.5f32, 1.0, 3.0, 0.0, 7.25];
    for (weighted, per_class) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut loss = BinaryCrossEntropyWithLogits::new();
        if weighted {
            loss = loss.with_weight(&w);
        }
        loss = if per_class {
            loss.with_pos_weight_per_class(&pw_classes).expect("valid")
        } else {
            loss.with_pos_weight(2.5).expect("valid")
        };
        let (v, g) = values_and_grads(Case::Logits(loss), &x, &y);
        let (mut wv, mut wg) = (Worst::default(), Worst::default());
        for i in 0..n {
            let wi = if weighted { f64::from(w[i]) } else { 1.0 };
            let pw = if per_class {
                f64::from(pw_classes[i % 5])
            } else {
                2.5
            };
            let (rv, rg, g_scale) = bce_logits_ref(f64::from(x[i]), f64::from(y[i]), wi, pw);
            let at = || format!("x {:e} y {:e} w {wi} pw {pw}", x[i], y[i]);
            // Value: a sum of non-negative terms, each softplus (≤ 2 ulp)
            // times a rounded coefficient; the sum; the weight.
            wv.check("value", v[i], rv, 5.0 * ulp_at(rv) + FLUSH, at);
            // Gradient: relative to the larger of its two terms (soft
            // targets cancel them).
            wg.check("grad", g[i], rg, 4.0 * ulp_at(g_scale) + FLUSH, at);
        }
        println!(
            "bce_with_logits (weighted: {weighted}, per-class pw: {per_class}): value {:.3} of bound ({}), grad {:.3} of bound ({})",
            wv.ratio, wv.at, wg.ratio, wg.at
        );
    }
}

#[test]
fn sigmoid_focal_matches_f64_reference() {
    let mut rng = Rng(13);
    let n = 100_000;
    let x: Vec<f32> = (0..n).map(|_| rng.logit()).collect();
    for soft in [false, true] {
        let y: Vec<f32> = (0..n).map(|_| rng.target(soft)).collect();
        for (alpha, gamma) in [
            (0.25f32, 2.0f32),
            (-1.0, 0.0),
            (0.25, 0.5),
            (0.75, 1.0),
            (-1.0, 5.0),
            (0.5, 0.25),
        ] {
            let loss = SigmoidFocal::new(alpha, gamma).expect("valid");
            let (v, g) = values_and_grads(Case::Focal(loss), &x, &y);
            let (mut wv, mut wg) = (Worst::default(), Worst::default());
            for i in 0..n {
                let (rv, rg, g_scale, g_ln_q) = focal_ref(
                    f64::from(x[i]),
                    f64::from(y[i]),
                    f64::from(alpha),
                    f64::from(gamma),
                    1.0,
                );
                let at = || format!("x {:e} y {:e} α {alpha} γ {gamma}", x[i], y[i]);
                // γ = 2 runs the multiplication path (q·q, no exp/ln):
                // 2 ulp more than the general path's bound.
                let two = if gamma == 2.0 { 2.0 } else { 0.0 };
                let k = 4.0 + 2.0 * f64::from(gamma) + 2.0 * g_ln_q.abs() + two;
                let (v_scale, g_scale) = if soft {
                    // Soft targets: absolute, against α_t·q^γ·(ℓ + 1).
                    let s = rv.abs() + g_scale;
                    (s.max(rv.abs()), s.max(g_scale))
                } else {
                    (rv.abs(), g_scale)
                };
                wv.check("value", v[i], rv, k * ulp_at(v_scale) + FLUSH, at);
                wg.check("grad", g[i], rg, k * ulp_at(g_scale) + FLUSH, at);
            }
            println!(
                "focal (soft: {soft}, α {alpha}, γ {gamma}): value {:.3} of bound ({}), grad {:.3} of bound ({})",
                wv.ratio, wv.at, wg.ratio, wg.at
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Bit-identity across instruction sets, lengths and alignments
// ---------------------------------------------------------------------------

/// Offsets (elements past the start of a buffer) and lengths swept; fewer
/// under emulation (qemu-aarch64 in CI).
#[cfg(target_arch = "x86_64")]
const OFFSETS: usize = 16;
#[cfg(not(target_arch = "x86_64"))]
const OFFSETS: usize = 3;

/// Logits, probabilities, targets and weights long enough for every
/// (offset, length) sub-slice.
struct Data {
    x: Vec<f32>,
    p: Vec<f32>,
    y: Vec<f32>,
    w: Vec<f32>,
}

impl Data {
    fn new(seed: u64, n: usize) -> Self {
        let mut rng = Rng(seed);
        Self {
            x: (0..n).map(|_| rng.logit()).collect(),
            p: (0..n).map(|_| rng.probability()).collect(),
            y: (0..n).map(|i| rng.target(i % 3 == 0)).collect(),
            w: (0..n).map(|_| rng.unit() * 2.0).collect(),
        }
    }
}

/// The configurations every length is run with (weights sliced to `w`).
fn configs<'a>(w: &'a [f32], pw: &'a [f32]) -> Vec<Case<'a>> {
    let logits = BinaryCrossEntropyWithLogits::new();
    vec![
        Case::Bce(BinaryCrossEntropy::new()),
        Case::Bce(BinaryCrossEntropy::new().with_weight(w)),
        Case::Logits(logits),
        Case::Logits(logits.with_pos_weight(2.5).expect("valid").with_weight(w)),
        Case::Logits(logits.with_pos_weight_per_class(pw).expect("valid")),
        Case::Logits(
            logits
                .with_pos_weight_per_class(pw)
                .expect("valid")
                .with_weight(w),
        ),
        Case::Focal(SigmoidFocal::default()),
        Case::Focal(SigmoidFocal::new(-1.0, 0.5).expect("valid").with_weight(w)),
        Case::Focal(SigmoidFocal::new(0.75, 0.0).expect("valid")),
    ]
}

/// A per-class pos_weight whose length divides `len`: 1, 3, 7 or 100
/// classes (100 > 64 exercises the wrap-around windows).
fn pos_weight_for(len: usize) -> &'static [f32] {
    static PW: [f32; 100] = {
        let mut pw = [0.0f32; 100];
        let mut i = 0;
        while i < 100 {
            pw[i] = 0.5 + (i % 9) as f32 * 0.375;
            i += 1;
        }
        pw
    };
    if len.is_multiple_of(100) {
        &PW
    } else if len.is_multiple_of(7) {
        &PW[..7]
    } else if len.is_multiple_of(3) {
        &PW[..3]
    } else {
        &PW[..1]
    }
}

#[test]
fn bit_identical_on_every_isa_for_every_length_and_offset() {
    let data = Data::new(21, 300 + OFFSETS);
    let isas: Vec<Isa> = Isa::available().collect();
    let mut compared = 0usize;
    for len in 1..=300 {
        for offset in 0..OFFSETS {
            let range = offset..offset + len;
            let y = &data.y[range.clone()];
            let w = &data.w[range.clone()];
            for case in configs(w, pos_weight_for(len)) {
                let x = if case.takes_probabilities() {
                    &data.p[range.clone()]
                } else {
                    &data.x[range.clone()]
                };
                let reference = all_verbs(case.with_isa(Isa::Scalar), x, y);
                for &isa in &isas {
                    let got = all_verbs(case.with_isa(isa), x, y);
                    assert!(
                        got == reference,
                        "{case:?} differs on {isa} from scalar at len {len}, offset {offset}"
                    );
                    compared += got.len();
                }
            }
        }
    }
    println!("{compared} output words compared across {isas:?}");
}

/// BCE on probabilities takes one logarithm instead of two for a register
/// whose targets are all 0 or 1: with every target hard (so every register
/// of every ISA takes that path, while scalar decides element by element)
/// and with one soft target somewhere (so one register takes the general
/// path), every ISA gives the scalar bits, and hard targets give the bits
/// of the same elements inside a soft call.
#[test]
fn bce_with_hard_targets_is_bit_identical_on_every_isa() {
    let data = Data::new(23, 300 + OFFSETS);
    let mut rng = Rng(5);
    let hard: Vec<f32> = (0..data.y.len()).map(|_| rng.target(false)).collect();
    let isas: Vec<Isa> = Isa::available().collect();
    for len in 1..=300 {
        for offset in 0..OFFSETS {
            let range = offset..offset + len;
            let p = &data.p[range.clone()];
            let w = &data.w[range.clone()];
            let mut one_soft = hard[range.clone()].to_vec();
            one_soft[len / 2] = 0.375;
            for y in [&hard[range.clone()], &one_soft[..]] {
                for case in [
                    Case::Bce(BinaryCrossEntropy::new()),
                    Case::Bce(BinaryCrossEntropy::new().with_weight(w)),
                ] {
                    let reference = all_verbs(case.with_isa(Isa::Scalar), p, y);
                    for &isa in &isas {
                        assert!(
                            all_verbs(case.with_isa(isa), p, y) == reference,
                            "{case:?} with hard targets differs on {isa} at len {len}, offset {offset}"
                        );
                    }
                }
            }
        }
    }
}

/// Each of `edges` with each of `targets`, computed alone on the scalar
/// path and in a 64-element register group beside `inside` (the fast path
/// where the edge is inside too) or `outside` (the general path): the same
/// value and derivative bits on every ISA.
fn fast_path_agrees_at_edges(
    case: Case<'_>,
    edges: &[f32],
    targets: &[f32],
    inside: f32,
    outside: f32,
) {
    for isa in Isa::available() {
        for &x0 in edges {
            for &y0 in targets {
                let alone = values_and_grads(case.with_isa(Isa::Scalar), &[x0], &[y0]);
                for mate in [inside, outside] {
                    let mut x = vec![inside; 64];
                    let mut y = vec![1.0f32; 64];
                    x[0] = x0;
                    y[0] = y0;
                    x[1] = mate;
                    let (v, g) = values_and_grads(case.with_isa(isa), &x, &y);
                    assert_eq!(
                        (canonical(v[0]), canonical(g[0])),
                        (canonical(alone.0[0]), canonical(alone.1[0])),
                        "{case:?}: x = {x0:e}, y = {y0}, beside {mate} on {isa}"
                    );
                }
            }
        }
    }
}

/// BCE's fast path (hard targets with every `p(1 − p) ≥ 2⁻³⁰` in a
/// register: one log without its special cases) gives the general path's
/// bits at each edge of that domain: around `2⁻³⁰`, where `1 − p` rounds
/// to 1, the split's binade edges, next to 1.
#[test]
fn bce_fast_path_gives_the_general_bits_at_its_edges() {
    let t = 2f32.powi(-30);
    let up = |v: f32| f32::from_bits(v.to_bits() + 1);
    let down = |v: f32| f32::from_bits(v.to_bits() - 1);
    let mut edges = vec![
        t,
        up(t),
        down(t),
        2f32.powi(-25),
        2f32.powi(-24),
        up(2f32.powi(-24)),
    ];
    edges.extend([
        down(1.0),
        down(down(1.0)),
        1.0 - 2f32.powi(-23),
        0.5,
        down(0.5),
        0.25,
    ]);
    edges.extend([0.292_893_2, 0.707_106_77, up(0.707_106_77), 1e-7, 3e-9]);
    edges.extend([1.0 - t, f32::MIN_POSITIVE, 1e-40, 0.0, 1.0]);
    let case = Case::Bce(BinaryCrossEntropy::new());
    fast_path_agrees_at_edges(case, &edges, &[0.0, 1.0], 0.375, 0.0);
}

/// The logit losses' fast path (every `|x| ≤ 20` in a register: no clamp,
/// no tiny-`e` guard, plain products) gives the general path's bits at
/// and around its edge, for hard and soft targets, with `pos_weight` 0 (a
/// term switched off) and the default, and focal with γ = 2 and not.
#[test]
fn logit_fast_path_gives_the_general_bits_at_its_edges() {
    let up = |v: f32| f32::from_bits(v.to_bits() + 1);
    let mut edges = vec![20.0f32, up(20.0), 19.999_998, 0.0, -0.0, 1e-30, 5.0, 14.5];
    edges.extend([-20.0, -up(20.0), -19.999_998, -5.0, 69.0, -87.0, 1e30]);
    edges.extend([f32::INFINITY, f32::NEG_INFINITY, f32::NAN]);
    let targets = [0.0f32, 1.0, 0.5, 0.25, 1.0 - 5.960_464_5e-8];
    let cases = [
        Case::Logits(BinaryCrossEntropyWithLogits::new()),
        Case::Logits(
            BinaryCrossEntropyWithLogits::new()
                .with_pos_weight(0.0)
                .expect("valid"),
        ),
        Case::Logits(
            BinaryCrossEntropyWithLogits::new()
                .with_pos_weight(3.0)
                .expect("valid"),
        ),
        Case::Focal(SigmoidFocal::new(0.25, 2.0).expect("valid")),
        Case::Focal(SigmoidFocal::new(-1.0, 1.5).expect("valid")),
    ];
    for case in cases {
        fast_path_agrees_at_edges(case, &edges, &targets, 0.75, 30.0);
    }
}

/// The per-class broadcast is exactly a per-element pos_weight: compared
/// with `pw[i % C]` on a single-element call, for C around the 64-lane
/// chunk (1, 5, 63, 64, 65, 100, 200) and lengths with tails; and for C
/// below 64 over enough rows (70) that a chunk starts at every phase the
/// periodic tile serves (the multiples of `gcd(64, C)` below C, the last
/// of which reads the tile's far end).
#[test]
fn per_class_pos_weight_broadcasts_over_the_last_axis() {
    let mut rng = Rng(5);
    let short = [1usize, 5, 63, 64, 65, 100, 200].map(|c| (c, &[1usize, 2, 3, 7][..]));
    let every_phase = [3usize, 12, 24, 40, 48, 63].map(|c| (c, &[70usize][..]));
    for (classes, row_counts) in short.into_iter().chain(every_phase) {
        let pw: Vec<f32> = (0..classes).map(|_| rng.unit() * 4.0).collect();
        for &rows in row_counts {
            let n = rows * classes;
            let x: Vec<f32> = (0..n).map(|_| rng.logit()).collect();
            let y: Vec<f32> = (0..n).map(|_| rng.target(true)).collect();
            let loss = BinaryCrossEntropyWithLogits::new()
                .with_pos_weight_per_class(&pw)
                .expect("valid");
            for isa in Isa::available() {
                let (v, g) =
                    values_and_grads(Case::Logits(loss.with_isa(isa).expect("ok")), &x, &y);
                for i in 0..n {
                    let single = BinaryCrossEntropyWithLogits::new()
                        .with_pos_weight(pw[i % classes])
                        .expect("valid");
                    let (sv, sg) = values_and_grads(Case::Logits(single), &x[i..=i], &y[i..=i]);
                    assert_eq!(
                        v[i].to_bits(),
                        sv[0].to_bits(),
                        "value C {classes} i {i} {isa}"
                    );
                    assert_eq!(
                        g[i].to_bits(),
                        sg[0].to_bits(),
                        "grad C {classes} i {i} {isa}"
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Edge values
// ---------------------------------------------------------------------------

const EDGE_LOGITS: [f32; 19] = [
    0.0,
    -0.0,
    1e-30,
    -1e-30,
    20.0,
    -20.0,
    88.0,
    -88.0,
    1e30,
    -1e30,
    f32::MAX,
    f32::MIN,
    f32::MIN_POSITIVE,
    1.5e-45,
    87.5,
    -103.0,
    0.5,
    f32::INFINITY,
    f32::NEG_INFINITY,
];

const EDGE_PROBABILITIES: [f32; 8] = [
    0.0,
    1.0,
    1e-45,
    1.0 - 5.960_464_5e-8,
    0.5,
    1e-30,
    1e-7,
    -0.0,
];

const EDGE_TARGETS: [f32; 8] = [
    0.0,
    1.0,
    0.5,
    0.25,
    1e-45,
    1.0 - 5.960_464_5e-8,
    1e-7,
    0.999,
];

const GAMMAS: [f32; 7] = [0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0];

/// Every (input, target) pair of the edge lists, as two slices.
fn edge_pairs(inputs: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for &xi in inputs {
        for &yi in &EDGE_TARGETS {
            x.push(xi);
            y.push(yi);
        }
    }
    (x, y)
}

/// Value and derivative are finite wherever the input is finite and the
/// exact value (`reference`, f64) is representable as a finite f32 (a
/// weight or `pos_weight` times a logit near `f32::MAX` overflows
/// legitimately).
fn assert_finite_where_input_is(
    case: Case<'_>,
    x: &[f32],
    y: &[f32],
    reference: impl Fn(f64, f64) -> f64,
) {
    for isa in Isa::available() {
        let (v, g) = values_and_grads(case.with_isa(isa), x, y);
        for i in 0..x.len() {
            #[allow(clippy::cast_possible_truncation)]
            let representable = (reference(f64::from(x[i]), f64::from(y[i])) as f32).is_finite();
            if x[i].is_finite() && representable {
                assert!(
                    v[i].is_finite() && g[i].is_finite(),
                    "{case:?} on {isa}: x {:e} y {:e} gives value {:e}, grad {:e}",
                    x[i],
                    y[i],
                    v[i],
                    g[i]
                );
            }
        }
    }
}

#[test]
fn finite_for_every_finite_edge_input() {
    let (x, y) = edge_pairs(&EDGE_LOGITS);
    let (p, yp) = edge_pairs(&EDGE_PROBABILITIES);
    let w = vec![1.5f32; x.len()];
    assert_finite_where_input_is(Case::Bce(BinaryCrossEntropy::new()), &p, &yp, |p, y| {
        bce_ref(p, y, 1.0).0
    });
    let logits = BinaryCrossEntropyWithLogits::new();
    for pw in [0.0f32, 1.0, 3.0, 1e6] {
        let l = logits.with_pos_weight(pw).expect("valid");
        let pw = f64::from(pw);
        assert_finite_where_input_is(Case::Logits(l), &x, &y, |x, y| {
            bce_logits_ref(x, y, 1.0, pw).0
        });
        assert_finite_where_input_is(Case::Logits(l.with_weight(&w)), &x, &y, |x, y| {
            bce_logits_ref(x, y, 1.5, pw).0
        });
    }
    for gamma in GAMMAS {
        for alpha in [0.25f32, -1.0, 0.0, 1.0] {
            let l = SigmoidFocal::new(alpha, gamma).expect("valid");
            let (a, g) = (f64::from(alpha), f64::from(gamma));
            assert_finite_where_input_is(Case::Focal(l), &x, &y, |x, y| {
                focal_ref(x, y, a, g, 1.0).0
            });
        }
    }
}

#[test]
fn nan_in_gives_nan_out() {
    let x = [f32::NAN, 0.5, f32::NAN];
    let y = [0.0f32, f32::NAN, 1.0];
    for case in [
        Case::Bce(BinaryCrossEntropy::new()),
        Case::Logits(BinaryCrossEntropyWithLogits::new()),
        Case::Logits(
            BinaryCrossEntropyWithLogits::new()
                .with_pos_weight(0.0)
                .expect("valid"),
        ),
        Case::Focal(SigmoidFocal::default()),
        Case::Focal(SigmoidFocal::new(-1.0, 0.0).expect("valid")),
    ] {
        for isa in Isa::available() {
            let (v, g) = values_and_grads(case.with_isa(isa), &x, &y);
            assert!(
                v.iter().chain(&g).all(|v| v.is_nan()),
                "{case:?} on {isa}: {v:?} {g:?}"
            );
            assert!(
                case.with_isa(isa)
                    .value(&x, &y, Reduction::Mean)
                    .expect("ok")
                    .is_nan()
            );
        }
    }
}

/// At x = ±∞ the logit losses give their limits, not NaN.
#[test]
fn limits_at_infinite_logits() {
    let inf = f32::INFINITY;
    let x = [inf, inf, -inf, -inf, inf, -inf];
    let y = [1.0f32, 0.0, 0.0, 1.0, 0.5, 0.5];
    let loss = BinaryCrossEntropyWithLogits::new()
        .with_pos_weight(3.0)
        .expect("valid");
    let (v, g) = values_and_grads(Case::Logits(loss), &x, &y);
    assert_eq!(v, [0.0, inf, 0.0, inf, inf, inf]);
    // (1−y)σ(x) − pw·y·σ(−x)
    assert_eq!(g, [0.0, 1.0, 0.0, -3.0, 0.5, -1.5]);
    for gamma in GAMMAS {
        let loss = SigmoidFocal::new(0.25, gamma).expect("valid");
        let (v, g) = values_and_grads(Case::Focal(loss), &x, &y);
        let q_gamma_half = f64::from(0.5f32).powf(f64::from(gamma));
        assert_eq!(&v[..4], &[0.0, inf, 0.0, inf], "γ {gamma}");
        assert_eq!(&v[4..], &[inf, inf], "γ {gamma}");
        // y = 1 at +∞ and y = 0 at −∞ are saturated and correct: q = 0 and
        // p − y = 0, so 0 for every γ (q⁰ = 1 included).
        assert_eq!(g[0], 0.0, "γ {gamma}");
        assert_eq!(g[2], 0.0, "γ {gamma}");
        assert_eq!(g[1], 0.75, "γ {gamma}"); // α_t = 0.75, q = 1
        assert_eq!(g[3], -0.25, "γ {gamma}"); // α_t = 0.25, q = 1
        #[allow(clippy::cast_possible_truncation)]
        let half = (0.5 * 0.5 * q_gamma_half) as f32;
        assert!(
            (g[4] - half).abs() <= 1e-6 && (g[5] + half).abs() <= 1e-6,
            "γ {gamma}: {g:?}"
        );
    }
}

/// PyTorch's clamps: ln at −100, p(1−p) at 10⁻¹².
#[test]
fn bce_clamps_like_pytorch() {
    let p = [0.0f32, 0.0, 1.0, 1.0, 1e-45, 0.5];
    let y = [0.0f32, 1.0, 1.0, 0.0, 1.0, 1.0];
    let (v, g) = values_and_grads(Case::Bce(BinaryCrossEntropy::new()), &p, &y);
    assert_eq!(v[..5], [0.0, 100.0, 0.0, 100.0, 100.0]);
    assert_eq!(v[5], core::f32::consts::LN_2);
    assert_eq!(g[0], 0.0);
    assert_eq!(g[1], -1.0e12);
    assert_eq!(g[2], 0.0);
    assert_eq!(g[3], 1.0e12);
    assert_eq!(g[5], -2.0);
    assert!(g[4] <= -1e12 * 0.999 && g[4].is_finite());
}

/// γ = 0 without α is exactly BCE with logits (q⁰ = 1), bit for bit.
#[test]
fn focal_with_gamma_zero_is_bce_with_logits() {
    let data = Data::new(9, 1000);
    let a = values_and_grads(
        Case::Focal(SigmoidFocal::new(-1.0, 0.0).expect("ok")),
        &data.x,
        &data.y,
    );
    let b = values_and_grads(
        Case::Logits(BinaryCrossEntropyWithLogits::new()),
        &data.x,
        &data.y,
    );
    let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.0), bits(&b.0));
    assert_eq!(bits(&a.1), bits(&b.1));
}

/// A weight of 1 everywhere changes no bit; weights scale value and grad.
#[test]
fn weights_multiply_value_and_derivative() {
    let data = Data::new(10, 777);
    let ones = vec![1.0f32; 777];
    let plain = BinaryCrossEntropyWithLogits::new();
    let a = values_and_grads(Case::Logits(plain), &data.x, &data.y);
    let b = values_and_grads(Case::Logits(plain.with_weight(&ones)), &data.x, &data.y);
    assert_eq!(a, b);
    let c = values_and_grads(Case::Logits(plain.with_weight(&data.w)), &data.x, &data.y);
    for i in 0..777 {
        assert_eq!(c.0[i], a.0[i] * data.w[i]);
        assert_eq!(c.1[i], a.1[i] * data.w[i]);
    }
}

/// Mean divides by n; accumulate adds scale·∂ to what is there.
#[test]
fn reductions_and_accumulation() {
    let data = Data::new(3, 500);
    for case in configs(&data.w, &[2.0]) {
        let x = if case.takes_probabilities() {
            &data.p
        } else {
            &data.x
        };
        let sum = case.value(x, &data.y, Reduction::Sum).expect("ok");
        let mean = case.value(x, &data.y, Reduction::Mean).expect("ok");
        assert!((f64::from(mean) - f64::from(sum) / 500.0).abs() <= 1e-6 * f64::from(sum.abs()));
        let mut g_sum = vec![0.0f32; 500];
        case.value_and_grad(x, &data.y, Reduction::Sum, Grad::overwrite(&mut g_sum))
            .expect("ok");
        let mut g = vec![1.0f32; 500];
        case.value_and_grad(
            x,
            &data.y,
            Reduction::Sum,
            Grad::accumulate(&mut g).scaled(-2.0),
        )
        .expect("ok");
        for i in 0..500 {
            assert_eq!(g[i], 1.0 + g_sum[i] * -2.0, "{case:?} i {i}");
        }
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

#[test]
fn errors_name_the_argument_and_write_nothing() {
    let x = [0.5f32, 0.2, 0.9, 0.1];
    let y = [1.0f32, 0.0, 1.0, 0.0];
    let mut g = [7.0f32; 4];
    let w3 = [1.0f32; 3];

    // Probability out of range: the first offending index.
    for (bad, index) in [
        ([0.5f32, -0.1, 2.0, 0.1], 1),
        ([0.5f32, 0.2, 0.9, 1.000_000_1], 3),
    ] {
        let err = BinaryCrossEntropy::new()
            .value_and_grad(&bad, &y, Reduction::Mean, Grad::overwrite(&mut g))
            .unwrap_err();
        assert!(
            matches!(err, LossError::OutOfRange { argument: "input", index: i, .. } if i == index),
            "{err:?}"
        );
        assert!(err.to_string().contains("input"), "{err}");
        assert_eq!(g, [7.0; 4]);
    }
    // Out of range deep in a long input.
    let mut long = vec![0.5f32; 10_000];
    long[9_321] = f32::NEG_INFINITY;
    let err = BinaryCrossEntropy::new()
        .value(&long, &vec![0.0; 10_000], Reduction::Mean)
        .unwrap_err();
    assert!(
        matches!(err, LossError::OutOfRange { index: 9_321, .. }),
        "{err:?}"
    );
    // -0.0, 0, 1 and NaN are accepted.
    BinaryCrossEntropy::new()
        .value(&[-0.0, 0.0, 1.0, f32::NAN], &y, Reduction::Sum)
        .expect("in range or NaN");

    // Weight length, for all three.
    let cases = [
        Case::Bce(BinaryCrossEntropy::new().with_weight(&w3)),
        Case::Logits(BinaryCrossEntropyWithLogits::new().with_weight(&w3)),
        Case::Focal(SigmoidFocal::default().with_weight(&w3)),
    ];
    for case in cases {
        let err = case
            .value_and_grad(&x, &y, Reduction::Mean, Grad::overwrite(&mut g))
            .unwrap_err();
        assert_eq!(
            err,
            LossError::LengthMismatch {
                argument: "weight",
                expected: 4,
                actual: 3
            }
        );
        assert_eq!(g, [7.0; 4]);
        let mut out = [7.0f32; 4];
        assert!(case.per_element(&x, &y, &mut out).is_err());
        assert_eq!(out, [7.0; 4]);
        // The shared checks first: empty input, target, grad lengths.
        assert_eq!(
            case.value(&[], &[], Reduction::Mean),
            Err(LossError::Empty { argument: "input" })
        );
        assert!(matches!(
            case.value(&x, &y[..3], Reduction::Mean),
            Err(LossError::LengthMismatch {
                argument: "target",
                ..
            })
        ));
        assert!(matches!(
            case.value_and_grad(&x, &y, Reduction::Mean, Grad::overwrite(&mut g[..2])),
            Err(LossError::LengthMismatch {
                argument: "grad",
                ..
            })
        ));
    }

    // pos_weight: classes must divide the length; values finite and ≥ 0.
    let pw3 = [1.0f32, 2.0, 3.0];
    let loss = BinaryCrossEntropyWithLogits::new()
        .with_pos_weight_per_class(&pw3)
        .expect("valid");
    let err = loss
        .value_and_grad(&x, &y, Reduction::Mean, Grad::overwrite(&mut g))
        .unwrap_err();
    assert_eq!(
        err,
        LossError::NotBroadcastable {
            argument: "pos_weight",
            len: 3,
            input_len: 4
        }
    );
    assert!(err.to_string().contains("pos_weight"), "{err}");
    assert_eq!(g, [7.0; 4]);
    for bad in [-1.0f32, f32::NAN, f32::INFINITY] {
        let err = BinaryCrossEntropyWithLogits::new()
            .with_pos_weight(bad)
            .unwrap_err();
        assert!(matches!(
            err,
            LossError::InvalidParameter {
                argument: "pos_weight",
                ..
            }
        ));
        let err = BinaryCrossEntropyWithLogits::new()
            .with_pos_weight_per_class(&[1.0, bad])
            .unwrap_err();
        assert!(matches!(
            err,
            LossError::InvalidParameter {
                argument: "pos_weight",
                ..
            }
        ));
    }
    assert_eq!(
        BinaryCrossEntropyWithLogits::new().with_pos_weight_per_class(&[]),
        Err(LossError::Empty {
            argument: "pos_weight"
        })
    );

    // alpha and gamma.
    for bad in [1.5f32, f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        assert!(matches!(
            SigmoidFocal::new(bad, 2.0),
            Err(LossError::InvalidParameter {
                argument: "alpha",
                ..
            })
        ));
    }
    for bad in [-0.5f32, f32::NAN, f32::INFINITY] {
        let err = SigmoidFocal::new(0.25, bad).unwrap_err();
        assert!(matches!(
            err,
            LossError::InvalidParameter {
                argument: "gamma",
                ..
            }
        ));
        assert!(err.to_string().contains("gamma"), "{err}");
    }
    SigmoidFocal::new(-3.0, 0.0).expect("negative alpha disables it");
    SigmoidFocal::new(1.0, 0.0).expect("alpha = 1 is valid");

    // Unavailable ISA.
    for isa in Isa::ALL.into_iter().filter(|isa| !isa.is_available()) {
        assert_eq!(
            SigmoidFocal::default().with_isa(isa),
            Err(LossError::IsaUnavailable { isa })
        );
    }
}

// ---------------------------------------------------------------------------
// Golden hashes: the exact output bits, the same on every path and target
// ---------------------------------------------------------------------------

/// FNV-1a of the bits of (mean value, per-element values, mean gradient)
/// of each loss on fixed inputs (1000 + 37 elements, integer PRNG), for
/// each ISA. The constants were produced by the scalar path; they must
/// hold on every ISA here and under qemu-aarch64 (NEON).
#[test]
fn golden_hashes() {
    const N: usize = 1037;
    let data = Data::new(2024, N);
    let pw = [0.5f32, 1.0, 2.0, 4.0, 0.25, 3.0, 1.5, 0.75, 1.25, 2.5, 0.0];
    let pw_per_class = &pw[..1]; // one class: the scalar broadcast
    let pw61 = {
        // 1037 = 17 · 61: 61 classes.
        let mut v = [0.0f32; 61];
        for (i, p) in v.iter_mut().enumerate() {
            *p = pw[i % pw.len()];
        }
        v
    };
    let cases: [(&str, Case<'_>, u64); 5] = [
        (
            "bce",
            Case::Bce(BinaryCrossEntropy::new().with_weight(&data.w)),
            0xb4fd_383a_0c76_4deb,
        ),
        (
            "bce_with_logits",
            Case::Logits(
                BinaryCrossEntropyWithLogits::new()
                    .with_pos_weight_per_class(pw_per_class)
                    .expect("ok"),
            ),
            0xc71c_0673_23d6_782b,
        ),
        (
            "bce_with_logits_61_classes_weighted",
            Case::Logits(
                BinaryCrossEntropyWithLogits::new()
                    .with_pos_weight_per_class(&pw61)
                    .expect("ok")
                    .with_weight(&data.w),
            ),
            0x9ae7_2798_796c_0081,
        ),
        (
            "sigmoid_focal",
            Case::Focal(SigmoidFocal::default()),
            0x09e4_97f8_481d_6e82,
        ),
        (
            "sigmoid_focal_gamma_0.5",
            Case::Focal(SigmoidFocal::new(-1.0, 0.5).expect("ok")),
            0x5cd5_6f4c_f2fd_d821,
        ),
    ];
    let mut failures = Vec::new();
    for (name, case, expected) in cases {
        let x = if case.takes_probabilities() {
            &data.p
        } else {
            &data.x
        };
        for isa in Isa::available() {
            let case = case.with_isa(isa);
            let mut h = Fnv1a::new();
            let mut out = vec![0.0f32; N];
            let mut g = vec![0.0f32; N];
            h.write(&[case.value(x, &data.y, Reduction::Mean).expect("ok")]);
            case.per_element(x, &data.y, &mut out).expect("ok");
            h.write(&out);
            let v = case
                .value_and_grad(x, &data.y, Reduction::Mean, Grad::overwrite(&mut g))
                .expect("ok");
            h.write(&[v]);
            h.write(&g);
            println!("{name} on {isa}: {:#018x}", h.0);
            if h.0 != expected {
                failures.push(format!(
                    "{name} on {isa}: {:#018x} != {expected:#018x}",
                    h.0
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

// ---------------------------------------------------------------------------
// Property tests: any length, offset and mix of edge and random values
// ---------------------------------------------------------------------------

fn logit_strategy() -> impl Strategy<Value = f32> {
    prop_oneof![
        prop::sample::select(EDGE_LOGITS.to_vec()),
        -100.0f32..100.0,
        any::<f32>(),
    ]
}

fn probability_strategy() -> impl Strategy<Value = f32> {
    prop_oneof![
        prop::sample::select(EDGE_PROBABILITIES.to_vec()),
        0.0f32..=1.0,
        Just(f32::NAN),
    ]
}

fn target_strategy() -> impl Strategy<Value = f32> {
    prop_oneof![prop::sample::select(EDGE_TARGETS.to_vec()), 0.0f32..=1.0]
}

/// Inputs for one property case: `len` elements starting `offset` into
/// buffers of `len + offset`.
#[derive(Debug, Clone)]
struct Batch {
    offset: usize,
    x: Vec<f32>,
    p: Vec<f32>,
    y: Vec<f32>,
    w: Vec<f32>,
}

fn batch_strategy() -> impl Strategy<Value = Batch> {
    (0usize..300, 0usize..16).prop_flat_map(|(len, offset)| {
        let total = len + offset;
        (
            prop::collection::vec(logit_strategy(), total),
            prop::collection::vec(probability_strategy(), total),
            prop::collection::vec(target_strategy(), total),
            prop::collection::vec(0.0f32..2.0, total),
        )
            .prop_map(move |(x, p, y, w)| Batch { offset, x, p, y, w })
    })
}

#[cfg(target_arch = "x86_64")]
const PROPTEST_CASES: u32 = 256;
#[cfg(not(target_arch = "x86_64"))]
const PROPTEST_CASES: u32 = 24;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(PROPTEST_CASES))]

    /// Every verb gives the same bits on every ISA, for any length and
    /// offset; finite inputs give finite outputs (where the exact value is
    /// representable); an empty input is an error.
    #[test]
    fn any_batch_same_bits_and_finite(
        batch in batch_strategy(),
        gamma in prop_oneof![prop::sample::select(GAMMAS.to_vec()), 0.0f32..8.0],
        alpha in prop_oneof![Just(-1.0f32), 0.0f32..=1.0],
        pw in prop_oneof![Just(1.0f32), 0.0f32..10.0],
    ) {
        let o = batch.offset;
        let (x, p, y, w) = (&batch.x[o..], &batch.p[o..], &batch.y[o..], &batch.w[o..]);
        let cases = [
            Case::Bce(BinaryCrossEntropy::new().with_weight(w)),
            Case::Logits(BinaryCrossEntropyWithLogits::new().with_pos_weight(pw).expect("valid").with_weight(w)),
            Case::Focal(SigmoidFocal::new(alpha, gamma).expect("valid")),
        ];
        for case in cases {
            let input = if case.takes_probabilities() { p } else { x };
            if input.is_empty() {
                prop_assert_eq!(case.value(input, y, Reduction::Mean), Err(LossError::Empty { argument: "input" }));
                continue;
            }
            let reference = all_verbs(case.with_isa(Isa::Scalar), input, y);
            for isa in Isa::available() {
                prop_assert!(all_verbs(case.with_isa(isa), input, y) == reference, "{:?} on {}", case, isa);
            }
            let (v, g) = values_and_grads(case, input, y);
            for i in 0..input.len() {
                let (xi, yi, wi) = (f64::from(input[i]), f64::from(y[i]), f64::from(w[i]));
                // The weight multiplies the kernel's value afterwards: both
                // the unweighted and the weighted exact value must fit.
                let exact = |wi: f64| match case {
                    Case::Bce(_) => bce_ref(xi, yi, wi).0,
                    Case::Logits(_) => bce_logits_ref(xi, yi, wi, f64::from(pw)).0,
                    Case::Focal(_) => focal_ref(xi, yi, f64::from(alpha), f64::from(gamma), 1.0).0,
                };
                #[allow(clippy::cast_possible_truncation)]
                let representable = (exact(wi) as f32).is_finite() && (exact(1.0) as f32).is_finite();
                if input[i].is_finite() && representable {
                    prop_assert!(v[i].is_finite() && g[i].is_finite(),
                        "{:?}: input {:e} target {:e} weight {:e}: value {:e} grad {:e}", case, input[i], y[i], w[i], v[i], g[i]);
                }
            }
        }
    }
}
