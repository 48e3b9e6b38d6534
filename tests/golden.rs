//! Golden hashes: the output bits of fixed inputs, pinned.
//!
//! For each regression loss, one FNV-1a 64 hash over the bit patterns of
//! everything the verbs produce (values with both reductions, the
//! overwritten gradient, a scaled gradient accumulated onto prior contents,
//! the per-element values) for deterministic inputs of several lengths and
//! offsets. Every available ISA must produce the constant written here,
//! on every target: `cargo test` runs it on scalar, wide, AVX2, AVX-512;
//! under qemu-aarch64 on NEON, wide, scalar — the same constants.
//!
//! The inputs come from an integer PRNG turned into f32 by exact
//! arithmetic only (integers below 2^24 times powers of two), so they do
//! not depend on any platform's libm or float formatting. No NaN is used
//! (NaN payloads are unspecified); ±inf, ±1e30, ±1.6e38, subnormals and ±0
//! are.
//!
//! If a change to the kernels changes these constants, the bits users get
//! changed: that needs a reason in the commit, not just new constants.

mod common;

use common::{Fnv1a, Spec, SplitMix64, isas, pow2};
use simdloss::{Grad, Isa, Reduction};

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

fn check(spec: Spec, expected: u64) {
    let hashes: Vec<(Isa, u64)> = isas()
        .into_iter()
        .map(|isa| (isa, golden_hash(spec, isa)))
        .collect();
    let report: Vec<String> = hashes
        .iter()
        .map(|(isa, h)| format!("{isa}: {h:#018x}"))
        .collect();
    eprintln!("{spec:?}: {}", report.join(", "));
    for (isa, got) in hashes {
        assert_eq!(
            got, expected,
            "{spec:?}: golden hash on {isa} is {got:#018x}, pinned {expected:#018x} \
             (all: {report:?})"
        );
    }
}

/// The inputs themselves are pinned too: if this fails, the generator (not
/// a kernel) changed and the constants below mean nothing.
#[test]
fn golden_inputs_are_stable() {
    let mut h = Fnv1a::new();
    for n in LENGTHS {
        let (x, y, p) = inputs(n);
        h.f32s(&x);
        h.f32s(&y);
        h.f32s(&p);
    }
    assert_eq!(h.finish(), INPUTS, "inputs hash {:#018x}", h.finish());
}

const INPUTS: u64 = 0xf507_fd31_c408_6947;

#[test]
fn golden_mse() {
    check(Spec::Mse, 0x94b8_ba65_fa99_9cfc);
}

#[test]
fn golden_l1() {
    check(Spec::L1, 0x28c1_42c0_5c89_3685);
}

#[test]
fn golden_huber() {
    check(Spec::Huber(1.5), 0x34d9_9fda_8dd0_7de0);
}

#[test]
fn golden_smooth_l1() {
    check(Spec::SmoothL1(0.75), 0x15c4_4bc2_a5c5_b9ce);
}
