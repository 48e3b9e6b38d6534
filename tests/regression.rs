//! The regression losses (MSE, L1, Huber, Smooth L1) on every ISA this CPU
//! has, selected explicitly, in one run:
//!
//! 1. bit-exact agreement of value, gradient (overwrite, accumulate onto
//!    nonzero prior contents, both scaled) and per_element with `Isa::Scalar`,
//!    for every length 0..300 and every offset 0..16, exhaustively and by
//!    proptest (with edge values);
//! 2. accuracy against the f64 reference, with the bounds derived below
//!    (the README's precision table quotes them);
//! 3. the f64 reference against central finite differences;
//! 4. edge values (±0, subnormals, ±1e30, ±3.4e38, ±inf, NaN);
//! 5. semantics (β = 0 is L1, the branch boundaries, Mean = Sum / n,
//!    accumulate = old + overwrite);
//! 6. every error path, with the output buffers left untouched.
//!
//! Run `cargo test --test regression -- --nocapture` to see the measured
//! worst cases.

mod common;

use common::*;
use proptest::prelude::*;
use simdloss::{Grad, Huber, Isa, L1, LossError, Mse, PointwiseLoss, Reduction, SmoothL1};

/// qemu-aarch64 runs these tests 10–50× slower: the sweeps that would take
/// minutes there are thinned (never skipped).
const SLOW_TARGET: bool = cfg!(target_arch = "aarch64");

const MAX_LEN: usize = 300;
const OFFSETS: usize = 16;

// ---------------------------------------------------------------------------
// 1. Bit-exact agreement among all paths
// ---------------------------------------------------------------------------

/// The gradient scale for a given case (mostly ≠ 1; 1 is the unscaled
/// `Grad::overwrite` / `Grad::accumulate`).
fn scale_for(case: usize) -> f32 {
    [0.75, -3.0, 1.0, 1e-3, 6.5][case % 5]
}

/// Compares every available ISA with `Isa::Scalar` on one case; panics
/// with the case on a mismatch. Checks `Err(Empty)` at length 0.
#[allow(clippy::too_many_arguments)]
fn check_case(
    isas: &[Isa],
    spec: Spec,
    reduction: Reduction,
    input: &[f32],
    target: &[f32],
    prior: &[f32],
    scale: f32,
    out_offset: usize,
    what: &str,
) {
    let want = run_all(
        spec,
        Isa::Scalar,
        input,
        target,
        reduction,
        prior,
        scale,
        out_offset,
    );
    if input.is_empty() {
        let empty = Err(LossError::Empty { argument: "input" });
        assert_eq!(want.value, empty, "{what}");
        assert_eq!(want.fused_value, empty, "{what}");
        assert_eq!(want.acc_value, empty, "{what}");
        assert_eq!(
            want.per_element_result,
            Err(LossError::Empty { argument: "input" }),
            "{what}"
        );
    } else {
        assert!(want.value.is_ok(), "{what}: {:?}", want.value);
        assert!(want.per_element_result.is_ok(), "{what}");
        // Accumulating is `prior + (overwrite result)`, rounded once.
        for (i, (&acc, (&old, &g))) in want
            .acc_grad
            .iter()
            .zip(prior.iter().zip(&want.grad))
            .enumerate()
        {
            assert!(
                same_bits(acc, old + g),
                "{what}: {spec:?} {reduction:?} element {i}: accumulate {acc:e} != {old:e} + {g:e}"
            );
        }
    }
    for &isa in isas.iter().filter(|&&isa| isa != Isa::Scalar) {
        let got = run_all(
            spec, isa, input, target, reduction, prior, scale, out_offset,
        );
        if let Some(why) = outputs_mismatch(&want, &got) {
            panic!(
                "{what}: {isa} differs from scalar for {spec:?} {reduction:?} n={} scale={scale}: {why}",
                input.len()
            );
        }
    }
}

/// Data for the sweeps: `len` inputs, targets, prior gradient contents.
/// With `edges`, about one element in eight is an edge value (NaN and inf
/// included) in the input, the target or both.
fn sweep_data(seed: u64, len: usize, edges: bool) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut rng = SplitMix64::new(seed);
    let mut input: Vec<f32> = (0..len).map(|_| 2.0 * rng.normalish()).collect();
    let mut target = target_for(&mut rng, &input);
    if edges {
        for i in 0..len {
            match rng.below(24) {
                0 => input[i] = rng.edge(),
                1 => target[i] = rng.edge(),
                2 => {
                    input[i] = rng.edge();
                    target[i] = rng.edge();
                }
                _ => {}
            }
        }
    }
    let prior = (0..len).map(|_| rng.normalish()).collect();
    (input, target, prior)
}

/// Every loss, both reductions, every length 0..300, every input offset
/// 0..16 (and a different output offset), on every ISA, against scalar.
fn exhaustive_sweep(edges: bool) {
    let isas = isas();
    assert!(isas.contains(&Isa::Scalar) && isas.contains(&Isa::Wide));
    let (input, target, prior) = sweep_data(
        if edges { 0xED6E } else { 0x5EED },
        MAX_LEN + OFFSETS,
        edges,
    );
    // On the slow target every length is still run, at 4 of the 16 offsets
    // (rotating with the length, so all 16 are covered across lengths).
    let offset_step = if SLOW_TARGET { 4 } else { 1 };
    let mut cases = 0usize;
    for spec in SPECS {
        for reduction in REDUCTIONS {
            for n in 0..MAX_LEN {
                for off in (n % offset_step..OFFSETS).step_by(offset_step) {
                    let out_offset = (off * 5 + 3) % OFFSETS;
                    check_case(
                        &isas,
                        spec,
                        reduction,
                        &input[off..off + n],
                        &target[off..off + n],
                        &prior[off..off + n],
                        scale_for(n + off),
                        out_offset,
                        &format!("exhaustive(edges={edges}) offset {off}"),
                    );
                    cases += 1;
                }
            }
        }
    }
    eprintln!(
        "exhaustive(edges={edges}): {cases} cases on {:?}",
        isas.iter().map(|i| i.name()).collect::<Vec<_>>()
    );
}

#[test]
fn bit_exact_every_length_and_offset() {
    exhaustive_sweep(false);
}

#[test]
fn bit_exact_every_length_and_offset_with_edge_values() {
    exhaustive_sweep(true);
}

/// Ordinary values (residuals around the thresholds), any finite f32, or
/// an edge value (NaN and ±inf included).
fn value_strategy() -> impl Strategy<Value = f32> {
    prop_oneof![
        6 => -8.0f32..8.0,
        3 => any::<f32>(), // every finite class: normal, subnormal, ±0
        2 => proptest::sample::select(EDGE.to_vec()),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    spec: Spec,
    reduction: Reduction,
    n: usize,
    offset: usize,
    out_offset: usize,
    scale: f32,
    input: Vec<f32>,
    target: Vec<f32>,
    prior: Vec<f32>,
}

fn case_strategy() -> impl Strategy<Value = Case> {
    let len = MAX_LEN + OFFSETS;
    (
        (
            proptest::sample::select(SPECS.to_vec()),
            any::<bool>(),
            0..MAX_LEN,
            0..OFFSETS,
            0..OFFSETS,
            proptest::sample::select(vec![1.0f32, 0.5, -2.0, 0.3, 1e-20, 1e20]),
        ),
        proptest::collection::vec(value_strategy(), len),
        proptest::collection::vec(value_strategy(), len),
        proptest::collection::vec(proptest::bool::weighted(0.1), len),
        proptest::collection::vec(-4.0f32..4.0, len),
    )
        .prop_map(
            |((spec, sum, n, offset, out_offset, scale), input, mut target, tie, prior)| {
                // Some exact ties (residual ±0).
                for i in 0..input.len() {
                    if tie[i] {
                        target[i] = input[i];
                    }
                }
                Case {
                    spec,
                    reduction: if sum { Reduction::Sum } else { Reduction::Mean },
                    n,
                    offset,
                    out_offset,
                    scale,
                    input,
                    target,
                    prior,
                }
            },
        )
}

const PROPTEST_CASES: u32 = if SLOW_TARGET { 256 } else { 4096 };

proptest! {
    #![proptest_config(ProptestConfig {
        cases: PROPTEST_CASES,
        // Failing cases are saved next to this file
        // (tests/regression.proptest-regressions) and replayed first.
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..ProptestConfig::default()
    })]

    /// Lengths 0..300, offsets 0..16, arbitrary finite and edge values:
    /// every ISA gives scalar's bits (NaN: any NaN), nothing is written
    /// outside the output slices, length 0 is `Err(Empty)`, nothing panics.
    #[test]
    fn bit_exact_proptest(case in case_strategy()) {
        let r = case.offset..case.offset + case.n;
        check_case(
            &isas(),
            case.spec,
            case.reduction,
            &case.input[r.clone()],
            &case.target[r.clone()],
            &case.prior[r],
            case.scale,
            case.out_offset,
            "proptest",
        );
    }
}

// ---------------------------------------------------------------------------
// 2. Accuracy against the f64 reference
// ---------------------------------------------------------------------------

/// The bound on the reduced value: 2^-20 relative (DESIGN.md §4).
///
/// Derivation, for the non-negative per-element values of these losses:
/// each value carries at most 4 roundings (r = x − y, then at most three
/// ops: e.g. SmoothL1 `(0.5·(r/β))·r`, Huber `δ·(|r| − δ/2)` where
/// `|r| − δ/2 ≥ |r|/2` so the error of `r` counts twice), the canonical
/// sum adds at most 3 serial adds per virtual lane and 6 tree levels per
/// 256-element block (9 roundings), the f64 total of blocks adds nothing
/// visible, and the final f32 conversion (after the f64 division for
/// Mean) one more: 14 roundings, `(1 + 2^-24)^14 − 1 < 0.88 · 2^-20`.
const VALUE_BOUND: f64 = 1.0 / 1_048_576.0;

#[test]
fn value_bound_derivation_holds() {
    assert!(roundings(14) < VALUE_BOUND);
}

/// Checks `value` and the value of `value_and_grad` against the reference
/// on `isas`; returns the worst relative error seen.
fn value_error(
    isas: &[Isa],
    spec: Spec,
    reduction: Reduction,
    input: &[f32],
    target: &[f32],
    what: &str,
) -> f64 {
    let want = spec.reference().reduced(input, target, reduction);
    assert!(want.is_finite() && want > 0.0, "{what}: bad test data");
    let mut grad = vec![0.0f32; input.len()];
    let mut worst = 0.0f64;
    for &isa in isas {
        let got = spec.value(isa, input, target, reduction).unwrap();
        let fused = spec
            .value_and_grad(isa, input, target, reduction, Grad::overwrite(&mut grad))
            .unwrap();
        assert_eq!(got.to_bits(), fused.to_bits(), "{what} {isa}");
        let err = rel_err(f64::from(got), want);
        assert!(
            err <= VALUE_BOUND,
            "{what}: {spec:?} {reduction:?} n={} on {isa}: got {got:e}, want {want:e}, \
             relative error {err:e} > 2^-20",
            input.len()
        );
        worst = worst.max(err);
    }
    worst
}

#[test]
fn reduced_value_within_2_pow_minus_20() {
    // Every ISA at the sizes that cover the tail / block structure; the
    // largest size on every ISA too except on the slow target (best + scalar
    // there: the bits are the same anyway, see above).
    let all = isas();
    let big_isas: Vec<Isa> = if SLOW_TARGET {
        vec![Isa::best(), Isa::Scalar]
    } else {
        all.clone()
    };
    let max = (1usize << 20) + 123;
    let mut rng = SplitMix64::new(0xACC);
    // Residuals of order 1 (crossing every threshold) ...
    let x1: Vec<f32> = (0..max).map(|_| 4.0 * rng.normalish()).collect();
    let y1 = target_for(&mut rng, &x1);
    // ... and spanning 2^-20 .. 2^20 (values from 2^-40 to 2^40 for MSE).
    let x2: Vec<f32> = (0..max).map(|_| rng.log_uniform(-20, 20)).collect();
    let y2: Vec<f32> = x2.iter().map(|&x| x - rng.log_uniform(-20, 20)).collect();
    let sizes = [
        1usize,
        2,
        63,
        64,
        65,
        255,
        256,
        257,
        1000,
        4096 + 7,
        65_536,
        1 << 20,
        max,
    ];
    let mut worst = vec![0.0f64; SPECS.len()];
    for (s, spec) in SPECS.into_iter().enumerate() {
        for reduction in REDUCTIONS {
            for (name, x, y) in [("order 1", &x1, &y1), ("wide range", &x2, &y2)] {
                for n in sizes {
                    let isas = if n >= 1 << 20 { &big_isas } else { &all };
                    let e = value_error(isas, spec, reduction, &x[..n], &y[..n], name);
                    worst[s] = worst[s].max(e);
                }
            }
        }
    }
    for (spec, w) in SPECS.iter().zip(&worst) {
        eprintln!(
            "reduced value, random data, n <= 2^20+123: {spec:?} worst relative error {w:.3e} \
             ({:.4} of 2^-20)",
            w / VALUE_BOUND
        );
    }
}

#[test]
fn reduced_value_adversarial() {
    let isas: Vec<Isa> = if SLOW_TARGET {
        vec![Isa::best(), Isa::Scalar]
    } else {
        isas()
    };
    let n = 1usize << 20;
    let mut rng = SplitMix64::new(0xAD7);
    let mut worst = 0.0f64;
    // Many small terms with full mantissas plus one big one, the big one
    // first, in the middle and last: it swamps its lane and its block, and
    // the small ones still make up ~1/3 of the total.
    for big_at in [0, n / 2 + 17, n - 1] {
        let mut x: Vec<f32> = (0..n).map(|_| 1.0 + rng.unit()).collect();
        x[big_at] = 724.0 + rng.unit(); // MSE term ~5e5 vs 2^20 terms of ~2
        let y = vec![0.0f32; n];
        for spec in SPECS {
            for reduction in REDUCTIONS {
                let e = value_error(&isas, spec, reduction, &x, &y, "one big term");
                worst = worst.max(e);
            }
        }
    }
    // Tiny terms only (MSE values near 2^-60), a geometric spread over 60
    // binades, and values that all sit just above a power of two (every
    // lane add rounds).
    let tiny: Vec<f32> = (0..n).map(|_| (1.0 + rng.unit()) * pow2(-30)).collect();
    let spread: Vec<f32> = (0..n).map(|_| rng.log_uniform(-30, 30)).collect();
    let above_pow2: Vec<f32> = (0..n)
        .map(|i| pow2((i % 7) as i32) * (1.0 + pow2(-23) * (1 + i % 5) as f32))
        .collect();
    let zeros = vec![0.0f32; n];
    for (name, x) in [
        ("tiny", &tiny),
        ("spread", &spread),
        ("above 2^k", &above_pow2),
    ] {
        for spec in SPECS {
            for reduction in REDUCTIONS {
                let e = value_error(&isas, spec, reduction, x, &zeros, name);
                worst = worst.max(e);
            }
        }
    }
    eprintln!(
        "reduced value, adversarial data, n = 2^20: worst relative error {worst:.3e} ({:.4} of 2^-20)",
        worst / VALUE_BOUND
    );
}

/// Per-element error bounds, derived from the op sequence in
/// src/kernel/regression.rs and the driver (`grad = d · scale`, with
/// `scale = fl32(s / n)` for Mean, `s` for Sum). `k` roundings bound the
/// relative error by `(1 + 2^-24)^k − 1`; and then the result is at most
/// `k` f32 steps (ulp) from the correctly rounded `rn(v)`: `|got − v| ≤
/// k·u|v| + …` and `u|v| < ulp(v)`, so `|got − rn(v)| < (k + ½)·ulp(v)`;
/// if `got` falls into the binade below, its steps are half as big but it
/// is also at most `k·u·2^e` below `2^e`, which is again `k` steps.
///
/// | loss | value: roundings / ulp | gradient: roundings / ulp |
/// |---|---|---|
/// | MSE | `r·r`: r counts twice, + mul: 3 / 3 | `(r + r)·scale`: r, scale, mul: 3 / 3 |
/// | L1 | `\|fl(x − y)\|` = rn(\|x − y\|): 1 / 0 | `±1·scale` = rn(±s/n): 1 / 0 |
/// | Huber | `(½r)·r`: 3; `δ·(\|r\| − ½δ)` (`\|r\| − ½δ ≥ \|r\|/2`, so r counts twice), sub, mul: 4 / 4 | `clamp(r)·scale`: 3 / 3 |
/// | SmoothL1 | `(½·(r/β))·r`: r twice, div, mul; `\|r\| − ½β`: 3: 4 / 4 | `(r/β)·scale`: r, div, scale, mul: 4 / 4 |
#[derive(Clone, Copy, Debug)]
struct Bounds {
    value_roundings: u32,
    value_ulp: u64,
    grad_roundings: u32,
    grad_ulp: u64,
}

fn bounds(spec: Spec) -> Bounds {
    let (value_roundings, value_ulp, grad_roundings, grad_ulp) = match spec {
        Spec::Mse => (3, 3, 3, 3),
        Spec::L1 => (1, 0, 1, 0),
        Spec::SmoothL1(0.0) => (1, 0, 1, 0), // exactly L1 (matches -0.0 too)
        Spec::Huber(_) => (4, 4, 3, 3),
        Spec::SmoothL1(_) => (4, 4, 4, 4),
    };
    Bounds {
        value_roundings,
        value_ulp,
        grad_roundings,
        grad_ulp,
    }
}

#[test]
fn per_element_and_gradient_ulp_bounds() {
    let isas = isas();
    let mut rng = SplitMix64::new(0x6AD);
    let n = 10_007;
    // Residuals of order 1 and 2^-8..2^8, all exact in f64, results normal.
    let mut x: Vec<f32> = (0..n).map(|_| 4.0 * rng.normalish()).collect();
    for v in x.iter_mut().step_by(3) {
        *v = rng.log_uniform(-8, 8);
    }
    let y = target_for(&mut rng, &x);
    for spec in SPECS {
        let b = bounds(spec);
        let (kv, kg, uv, ug) = (b.value_roundings, b.grad_roundings, b.value_ulp, b.grad_ulp);
        let reference = spec.reference();
        let mut worst_value = (0u64, 0.0f64);
        let mut worst_grad = (0u64, 0.0f64);
        for &isa in &isas {
            let mut out = vec![0.0f32; n];
            spec.per_element(isa, &x, &y, &mut out).unwrap();
            for i in 0..n {
                let want = reference.elem_xy(x[i], y[i]).0;
                let (d, e) = (
                    ulp_distance(out[i], want as f32),
                    rel_err(f64::from(out[i]), want),
                );
                assert!(
                    d <= uv && e <= roundings(kv),
                    "{spec:?} per_element on {isa}: x={:e} y={:e}: got {:e}, want {want:e} \
                     ({d} ulp, relative {e:e})",
                    x[i],
                    y[i],
                    out[i]
                );
                worst_value = (worst_value.0.max(d), worst_value.1.max(e));
            }
            for reduction in REDUCTIONS {
                for scale in [1.0f32, 0.37, -2.5] {
                    let mut g = vec![0.0f32; n];
                    spec.value_and_grad(
                        isa,
                        &x,
                        &y,
                        reduction,
                        Grad::overwrite(&mut g).scaled(scale),
                    )
                    .unwrap();
                    for i in 0..n {
                        let want = reference.grad(x[i], y[i], reduction, n, scale);
                        let (d, e) = (
                            ulp_distance(g[i], want as f32),
                            rel_err(f64::from(g[i]), want),
                        );
                        assert!(
                            d <= ug && e <= roundings(kg),
                            "{spec:?} grad {reduction:?} scale {scale} on {isa}: x={:e} y={:e}: \
                             got {:e}, want {want:e} ({d} ulp, relative {e:e})",
                            x[i],
                            y[i],
                            g[i]
                        );
                        worst_grad = (worst_grad.0.max(d), worst_grad.1.max(e));
                    }
                }
            }
        }
        eprintln!(
            "{spec:?}: per_element worst {} ulp (rel {:.2e}, bound {uv} ulp); \
             gradient worst {} ulp (rel {:.2e}, bound {ug} ulp)",
            worst_value.0, worst_value.1, worst_grad.0, worst_grad.1
        );
    }
}

// ---------------------------------------------------------------------------
// 3. The f64 reference against finite differences
// ---------------------------------------------------------------------------

#[test]
fn reference_gradient_matches_finite_differences() {
    let mut rng = SplitMix64::new(0xFD);
    let mut checked = 0;
    for spec in SPECS {
        let f = spec.reference();
        let kinks: Vec<f64> = match f {
            RefLoss::Mse => vec![],
            RefLoss::L1 => vec![0.0],
            RefLoss::Huber(d) => vec![-d, d],
            RefLoss::SmoothL1(b) => vec![-b, 0.0, b],
        };
        let residuals: Vec<f64> = (0..2500)
            .map(|i| {
                f64::from(if i < 2000 {
                    4.0 * rng.normalish()
                } else {
                    rng.log_uniform(-12, 12)
                })
            })
            .collect();
        for r in residuals {
            let h = 1e-6 * r.abs().max(1e-3);
            if kinks.iter().any(|k| (r - k).abs() < 10.0 * h) {
                continue;
            }
            let (v, d) = f.elem(r);
            let fd = (f.elem(r + h).0 - f.elem(r - h).0) / (2.0 * h);
            // Central differences of these piecewise quadratics are exact up
            // to cancellation: ~1e-16·|v|/h.
            let tol = 1e-7 * d.abs().max(1.0) + 1e-15 * v.abs() / h;
            assert!(
                (fd - d).abs() <= tol,
                "{spec:?} at r={r:e}: finite difference {fd:e}, reference derivative {d:e}"
            );
            checked += 1;
        }
    }
    // The reduced reference and its gradient: d/dx_i of Mean / Sum.
    let x: Vec<f32> = (0..37).map(|_| 2.0 * rng.normalish()).collect();
    let y = target_for(&mut rng, &x);
    for spec in SPECS {
        let f = spec.reference();
        for reduction in REDUCTIONS {
            for i in 0..x.len() {
                let r = f64::from(x[i]) - f64::from(y[i]);
                let h = 1e-6 * r.abs().max(1e-3);
                let kinks = match f {
                    RefLoss::Mse => vec![],
                    RefLoss::L1 => vec![0.0],
                    RefLoss::Huber(d) => vec![-d, d],
                    RefLoss::SmoothL1(b) => vec![-b, 0.0, b],
                };
                if kinks.iter().any(|k| (r - k).abs() < 10.0 * h) {
                    continue;
                }
                // Perturb element i in f64 (the reference's own sum).
                let total = |dr: f64| {
                    let s: f64 = (0..x.len())
                        .map(|j| {
                            let rj = f64::from(x[j]) - f64::from(y[j]);
                            f.elem(if j == i { rj + dr } else { rj }).0
                        })
                        .sum();
                    match reduction {
                        Reduction::Sum => s,
                        Reduction::Mean => s / x.len() as f64,
                    }
                };
                let fd = (total(h) - total(-h)) / (2.0 * h);
                let d = f.grad(x[i], y[i], reduction, x.len(), 1.0);
                let tol = 1e-7 * d.abs().max(1.0) + 1e-14 * total(0.0).abs() / h;
                assert!(
                    (fd - d).abs() <= tol,
                    "{spec:?} {reduction:?} element {i}: finite difference {fd:e}, reference {d:e}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 20_000, "too few points checked: {checked}");
}

// ---------------------------------------------------------------------------
// 4. Edge values
// ---------------------------------------------------------------------------

/// `got` against the f64 reference `want` (for the residual rounded to
/// f32, as f32 math does): NaN ↔ NaN, ±inf ↔ the same infinity, otherwise
/// within `k` f32 steps of `want` rounded to f32 (subnormal results: steps
/// of 2^-149, the same count).
fn check_against(got: f32, want: f64, k: u64, what: &dyn Fn() -> String) {
    let want32 = want as f32;
    if want.is_nan() {
        assert!(got.is_nan(), "{}: got {got:e}, want NaN", what());
    } else if want32.is_infinite() {
        assert_eq!(
            got.to_bits(),
            want32.to_bits(),
            "{}: got {got:e}, want {want32}",
            what()
        );
    } else {
        assert!(
            ulp_distance(got, want32) <= k,
            "{}: got {got:e}, want {want:e} ({} ulp > {k})",
            what(),
            ulp_distance(got, want32)
        );
    }
}

/// Every (input, target) pair of edge values, placed among ordinary
/// values, on every ISA, every loss, both reductions, two scales: each
/// element's value and derivative as f32 math gives them, NaN where the
/// math says NaN, the reduced value NaN / inf / accurate accordingly, and
/// the same bits on every ISA (NaN: any NaN).
///
/// The MSE gradient of a residual with `|r| > f32::MAX / 2` is checked
/// separately in `mse_gradient_of_huge_residual_does_not_overflow_early`.
#[test]
fn edge_values_every_pair() {
    let isas = isas();
    let mut rng = SplitMix64::new(0xED);
    // Each pair at its own position in a 300-element batch (tail included).
    let mut x: Vec<f32> = (0..MAX_LEN).map(|_| rng.normalish()).collect();
    let mut y = target_for(&mut rng, &x);
    let mut slots = Vec::new();
    for (i, &a) in EDGE.iter().enumerate() {
        for (j, &b) in EDGE.iter().enumerate() {
            let at = (i * EDGE.len() + j) * 17 % MAX_LEN;
            slots.push(at);
            x[at] = a;
            y[at] = b;
        }
    }
    slots.sort_unstable();
    slots.dedup();
    assert_eq!(slots.len(), EDGE.len() * EDGE.len(), "edge slots collide");
    let n = x.len();
    let any_nan = |f: RefLoss| (0..n).any(|i| f.elem_xy_f32(x[i], y[i]).0.is_nan());

    for spec in SPECS {
        let f = spec.reference();
        let b = bounds(spec);
        let (kv, kg) = (b.value_ulp, b.grad_ulp);
        // SmoothL1 with tiny residuals: r/β is subnormal and loses relative
        // precision; its absolute error stays below one step of 2^-149 per
        // rounding, which the same count bounds.
        for reduction in REDUCTIONS {
            for scale in [1.0f32, 0.37] {
                let mut first: Option<(f32, Vec<f32>, Vec<f32>)> = None;
                for &isa in &isas {
                    let mut g = vec![0.0f32; n];
                    let value = spec
                        .value_and_grad(
                            isa,
                            &x,
                            &y,
                            reduction,
                            Grad::overwrite(&mut g).scaled(scale),
                        )
                        .unwrap();
                    let mut pe = vec![0.0f32; n];
                    spec.per_element(isa, &x, &y, &mut pe).unwrap();
                    for i in 0..n {
                        let (v, d) = f.elem_xy_f32(x[i], y[i]);
                        let what = || {
                            format!(
                                "{spec:?} {reduction:?} scale {scale} on {isa}: x={:e} y={:e}",
                                x[i], y[i]
                            )
                        };
                        check_against(pe[i], v, kv, &|| format!("{} value", what()));
                        let want_g = match reduction {
                            Reduction::Sum => d * f64::from(scale),
                            Reduction::Mean => d * f64::from(scale) / n as f64,
                        };
                        check_against(g[i], want_g, kg, &|| format!("{} gradient", what()));
                    }
                    // The reduced value.
                    if any_nan(f) {
                        assert!(
                            value.is_nan(),
                            "{spec:?} on {isa}: NaN element, value {value}"
                        );
                    } else {
                        let vals: Vec<f64> = (0..n).map(|i| f.elem_xy_f32(x[i], y[i]).0).collect();
                        if vals.iter().any(|v| v.is_infinite()) {
                            assert_eq!(value, f32::INFINITY, "{spec:?} on {isa}");
                        } else {
                            check_reduced_finite(
                                &vals,
                                reduction,
                                value,
                                &format!("{spec:?} on {isa}"),
                            );
                        }
                    }
                    // Same bits on every ISA.
                    match &first {
                        None => first = Some((value, g, pe)),
                        Some((v0, g0, pe0)) => {
                            assert!(same_bits(value, *v0), "{spec:?} value on {isa}");
                            assert_eq!(first_bit_mismatch(&g, g0), None, "{spec:?} grad on {isa}");
                            assert_eq!(
                                first_bit_mismatch(&pe, pe0),
                                None,
                                "{spec:?} per_element on {isa}"
                            );
                        }
                    }
                }
            }
        }
    }
}

/// A reduced value whose per-element values are all finite (as f64 of the
/// f32 math): within 2^-20 relative of the f64 sum (or a few subnormal
/// steps of it). The canonical sum adds a 256-element block in f32 lanes,
/// so a block whose values add up past `f32::MAX` overflows to +inf even
/// when the Mean is finite: that is the one case where +inf is accepted.
fn check_reduced_finite(vals: &[f64], reduction: Reduction, got: f32, what: &str) {
    let sum = neumaier(vals.iter().copied());
    let want = match reduction {
        Reduction::Sum => sum,
        Reduction::Mean => sum / vals.len() as f64,
    };
    let block_overflow = vals
        .chunks(256)
        .any(|b| b.iter().sum::<f64>() >= f64::from(f32::MAX));
    if got == f32::INFINITY && (block_overflow || want as f32 == f32::INFINITY) {
        return;
    }
    let err = (f64::from(got) - want).abs();
    assert!(
        err <= VALUE_BOUND * want.abs() || err <= 8.0 * f64::from(pow2(-149)),
        "{what} {reduction:?}: reduced value {got:e}, want {want:e}"
    );
}

/// MSE's gradient `2r · scale` for a finite residual with `|r| > MAX/2`:
/// the exact result `2r·s/n` is finite for `s/n < 1/2`, and PyTorch
/// (which computes `r · (2/n) · grad_out`) returns it.
///
/// KNOWN FAILURE (reported, not hidden): the kernel computes `(r + r)`
/// first, which overflows to ±inf before the scale is applied.
#[test]
fn mse_gradient_of_huge_residual_does_not_overflow_early() {
    let x = [3.0e38f32, -3.0e38, 1.0, 2.0e38];
    let y = [0.0f32, 0.0, 0.5, -1.0];
    for isa in isas() {
        for (reduction, scale) in [
            (Reduction::Mean, 1.0f32),
            (Reduction::Sum, 0.25),
            (Reduction::Sum, 1e-10),
        ] {
            let mut g = [0.0f32; 4];
            Spec::Mse
                .value_and_grad(
                    isa,
                    &x,
                    &y,
                    reduction,
                    Grad::overwrite(&mut g).scaled(scale),
                )
                .unwrap();
            for i in 0..4 {
                let want = RefLoss::Mse.grad(x[i], y[i], reduction, 4, scale);
                check_against(g[i], want, 3, &|| {
                    format!(
                        "MSE gradient {reduction:?} scale {scale} on {isa}, x={:e} y={:e}",
                        x[i], y[i]
                    )
                });
            }
        }
    }
}

/// The infinities and overflows spelled out.
#[test]
fn infinities_behave_as_the_math_says() {
    let inf = f32::INFINITY;
    for isa in isas() {
        let grad = |spec: Spec, x: f32, y: f32| {
            let mut g = [0.0f32; 1];
            let v = spec
                .value_and_grad(isa, &[x], &[y], Reduction::Sum, Grad::overwrite(&mut g))
                .unwrap();
            (v, g[0])
        };
        // MSE: r² and 2r.
        assert_eq!(grad(Spec::Mse, inf, 0.0), (inf, inf), "{isa}");
        assert_eq!(grad(Spec::Mse, 0.0, inf), (inf, -inf), "{isa}");
        let big = 1e30f32;
        assert_eq!(
            grad(Spec::Mse, big, 0.0),
            (inf, 2.0 * big),
            "{isa}: 1e30² overflows"
        );
        assert_eq!(grad(Spec::Mse, -big, big), (inf, -4.0 * big), "{isa}");
        let sub = 1e-40f32; // subnormal: r + r is exact, r² underflows to 0
        assert_eq!(
            grad(Spec::Mse, sub, 0.0),
            (0.0, 2.0 * sub),
            "{isa}: underflow"
        );
        // L1: |r| and sign(r).
        assert_eq!(grad(Spec::L1, inf, 0.0), (inf, 1.0), "{isa}");
        assert_eq!(grad(Spec::L1, -inf, 5.0), (inf, -1.0), "{isa}");
        assert_eq!(grad(Spec::L1, 3.0, inf), (inf, -1.0), "{isa}");
        assert_eq!(grad(Spec::L1, 1e30, 0.0), (1e30, 1.0), "{isa}");
        assert_eq!(grad(Spec::L1, 1e-45, 0.0), (1e-45, 1.0), "{isa}");
        // Huber: linear branch, gradient clamped to ±δ.
        assert_eq!(grad(Spec::Huber(2.75), inf, 0.0), (inf, 2.75), "{isa}");
        assert_eq!(grad(Spec::Huber(2.75), -inf, 0.0), (inf, -2.75), "{isa}");
        assert_eq!(grad(Spec::Huber(1.0), 1e30, 0.0), (1e30, 1.0), "{isa}");
        // SmoothL1: linear branch, gradient clamped to ±1 (r/β = ±inf).
        assert_eq!(grad(Spec::SmoothL1(0.01), inf, 0.0), (inf, 1.0), "{isa}");
        assert_eq!(grad(Spec::SmoothL1(100.0), -inf, 0.0), (inf, -1.0), "{isa}");
        assert_eq!(
            grad(Spec::SmoothL1(1e-3), 3.4e38, 0.0),
            (3.4e38, 1.0),
            "{isa}: r/β overflows, clamped"
        );
        // inf − inf and NaN: NaN value and derivative, for every loss.
        for spec in SPECS {
            for (x, y) in [(inf, inf), (f32::NAN, 0.0), (1.0, f32::NAN), (-inf, -inf)] {
                let (v, g) = grad(spec, x, y);
                assert!(
                    v.is_nan() && g.is_nan(),
                    "{spec:?} on {isa}: ({x}, {y}) gave ({v}, {g})"
                );
            }
            // One NaN element makes the reduced value NaN; the others keep
            // their finite gradients.
            let xs = [1.0f32, f32::NAN, 2.0];
            let ys = [0.0f32, 0.0, 0.0];
            let mut g = [0.0f32; 3];
            for reduction in REDUCTIONS {
                let v = spec
                    .value_and_grad(isa, &xs, &ys, reduction, Grad::overwrite(&mut g))
                    .unwrap();
                assert!(v.is_nan() && g[1].is_nan(), "{spec:?} on {isa}");
                assert!(g[0].is_finite() && g[2].is_finite(), "{spec:?} on {isa}");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// 5. Semantics
// ---------------------------------------------------------------------------

#[test]
fn smooth_l1_with_beta_zero_is_l1() {
    let isas = isas();
    for (seed, edges) in [(1u64, false), (2, true)] {
        let (input, target, prior) = sweep_data(seed, 1000, edges);
        for n in [1usize, 5, 64, 100, 257, 1000] {
            for isa in &isas {
                for reduction in REDUCTIONS {
                    let (x, y, p) = (&input[..n], &target[..n], &prior[..n]);
                    let l1 = run_all(Spec::L1, *isa, x, y, reduction, p, 0.75, 3);
                    for beta in [0.0f32, -0.0] {
                        let s = run_all(Spec::SmoothL1(beta), *isa, x, y, reduction, p, 0.75, 3);
                        assert_eq!(
                            outputs_mismatch(&l1, &s),
                            None,
                            "SmoothL1({beta}) vs L1 on {isa}, n={n}, edges={edges}"
                        );
                    }
                }
            }
        }
    }
}

/// Huber: quadratic for `|r| ≤ δ`, gradient `clamp(r, −δ, δ)`. SmoothL1:
/// quadratic for `|r| < β`, gradient `clamp(r/β, −1, 1)` (PyTorch's branch
/// conditions). At the boundary both branches give the same number (½δ²,
/// ½β) so the value is checked exactly there; one f32 step either side the
/// gradient shows which side clamps.
#[test]
fn huber_and_smooth_l1_boundaries() {
    let up = |v: f32| f32::from_bits(v.to_bits() + 1);
    let down = |v: f32| f32::from_bits(v.to_bits() - 1);
    for isa in isas() {
        let run = |spec: Spec, x: f32, y: f32| {
            let mut g = [0.0f32; 1];
            let v = spec
                .value_and_grad(isa, &[x], &[y], Reduction::Sum, Grad::overwrite(&mut g))
                .unwrap();
            let mut pe = [0.0f32; 1];
            spec.per_element(isa, &[x], &[y], &mut pe).unwrap();
            assert_eq!(v.to_bits(), pe[0].to_bits());
            (v, g[0])
        };
        for delta in [1.0f32, 0.125, 2.75, 1e-3, 1e3] {
            let h = Spec::Huber(delta);
            for y in [0.0f32, 0.5, -3.0] {
                for sign in [1.0f32, -1.0] {
                    let x = y + sign * delta;
                    if x - y != sign * delta {
                        continue; // residual not exact for this y
                    }
                    let (v, g) = run(h, x, y);
                    assert_eq!(v, 0.5 * delta * delta, "Huber({delta}) at |r| = δ on {isa}");
                    assert_eq!(
                        g,
                        sign * delta,
                        "Huber({delta}) at r = {} on {isa}",
                        sign * delta
                    );
                }
            }
            // One step inside: unclamped r; one step outside: ±δ.
            let (_, g_in) = run(h, down(delta), 0.0);
            assert_eq!(g_in, down(delta), "Huber({delta}) just inside on {isa}");
            let (_, g_out) = run(h, up(delta), 0.0);
            assert_eq!(g_out, delta, "Huber({delta}) just outside on {isa}");
            let (_, g_out) = run(h, -up(delta), 0.0);
            assert_eq!(g_out, -delta, "Huber({delta}) just outside (−) on {isa}");
            let (v_out, _) = run(h, up(delta), 0.0);
            let want = RefLoss::Huber(f64::from(delta))
                .elem(f64::from(up(delta)))
                .0;
            assert!(ulp_distance(v_out, want as f32) <= 4, "{isa}");
        }
        for beta in [1.0f32, 0.01, 100.0, 0.125] {
            let s = Spec::SmoothL1(beta);
            for sign in [1.0f32, -1.0] {
                let (v, g) = run(s, sign * beta, 0.0);
                assert_eq!(v, beta - 0.5 * beta, "SmoothL1({beta}) at |r| = β on {isa}");
                assert_eq!(v, 0.5 * beta, "SmoothL1({beta}) at |r| = β on {isa}");
                assert_eq!(g, sign, "SmoothL1({beta}) at r = ±β on {isa}");
            }
            let (_, g_in) = run(s, down(beta), 0.0);
            assert_eq!(
                g_in,
                down(beta) / beta,
                "SmoothL1({beta}) just inside on {isa}"
            );
            assert!(g_in < 1.0);
            let (_, g_out) = run(s, up(beta), 0.0);
            assert_eq!(g_out, 1.0, "SmoothL1({beta}) just outside on {isa}");
            let (_, g_out) = run(s, -up(beta), 0.0);
            assert_eq!(g_out, -1.0, "SmoothL1({beta}) just outside (−) on {isa}");
        }
        // sign(±0) = 0 for L1 (and SmoothL1 at β = 0): no gradient at a tie.
        for spec in [
            Spec::L1,
            Spec::SmoothL1(0.0),
            Spec::SmoothL1(1.0),
            Spec::Huber(1.0),
            Spec::Mse,
        ] {
            for (x, y) in [(0.0f32, 0.0), (-0.0, 0.0), (2.5, 2.5), (1e-45, 1e-45)] {
                let (v, g) = run(spec, x, y);
                assert_eq!((v, g), (0.0, 0.0), "{spec:?} at a tie on {isa}");
            }
        }
    }
}

#[test]
fn mean_is_sum_over_n() {
    let mut rng = SplitMix64::new(0x3EA);
    let isas = isas();
    for n in [1usize, 3, 64, 100, 256, 1000, 4096, 12_345] {
        let x: Vec<f32> = (0..n).map(|_| 3.0 * rng.normalish()).collect();
        let y = target_for(&mut rng, &x);
        for spec in SPECS {
            for &isa in &isas {
                let mut gm = vec![0.0f32; n];
                let mut gs = vec![0.0f32; n];
                let mean = spec
                    .value_and_grad(isa, &x, &y, Reduction::Mean, Grad::overwrite(&mut gm))
                    .unwrap();
                let sum = spec
                    .value_and_grad(isa, &x, &y, Reduction::Sum, Grad::overwrite(&mut gs))
                    .unwrap();
                // Both come from one f64 total S: Mean = rn(S/n), Sum = rn(S).
                let via_sum = (f64::from(sum) / n as f64) as f32;
                let what = format!("{spec:?} n={n} on {isa}");
                if n.is_power_of_two() {
                    // Dividing by 2^k commutes with rounding: exact.
                    assert_eq!(mean, via_sum, "{what}");
                    for i in 0..n {
                        assert_eq!(gm[i], gs[i] / n as f32, "{what} grad[{i}]");
                    }
                } else {
                    assert!(
                        ulp_distance(mean, via_sum) <= 1,
                        "{what}: {mean} vs {via_sum}"
                    );
                    for i in 0..n {
                        // gm = rn(d · rn(1/n)), gs = d exactly (r is exact
                        // here): two roundings apart at most.
                        let want = (f64::from(gs[i]) / n as f64) as f32;
                        assert!(
                            ulp_distance(gm[i], want) <= 2,
                            "{what} grad[{i}]: {} vs {want}",
                            gm[i]
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn accumulate_is_old_plus_overwrite() {
    let isas = isas();
    for (seed, edges) in [(7u64, false), (8, true)] {
        let (x, y, prior) = sweep_data(seed, 777, edges);
        for spec in SPECS {
            for &isa in &isas {
                for reduction in REDUCTIONS {
                    for scale in [1.0f32, 0.5, -1.75, 3e-5] {
                        let mut over = vec![0.0f32; x.len()];
                        let v_over = spec
                            .value_and_grad(
                                isa,
                                &x,
                                &y,
                                reduction,
                                Grad::overwrite(&mut over).scaled(scale),
                            )
                            .unwrap();
                        let mut acc = prior.clone();
                        let v_acc = spec
                            .value_and_grad(
                                isa,
                                &x,
                                &y,
                                reduction,
                                Grad::accumulate(&mut acc).scaled(scale),
                            )
                            .unwrap();
                        assert!(same_bits(v_over, v_acc), "{spec:?} on {isa}: values differ");
                        for i in 0..x.len() {
                            // g_old + fl(d·s): the one rounding of the add.
                            let want = prior[i] + over[i];
                            assert!(
                                same_bits(acc[i], want),
                                "{spec:?} {reduction:?} scale {scale} on {isa}, element {i}: \
                                 accumulate gave {:e}, old + overwrite = {want:e}",
                                acc[i]
                            );
                        }
                        // Accumulating onto zeros is overwriting (+0 + v = v,
                        // except −0 + +0 = +0: compare as numbers).
                        let mut from_zero = vec![0.0f32; x.len()];
                        spec.value_and_grad(
                            isa,
                            &x,
                            &y,
                            reduction,
                            Grad::accumulate(&mut from_zero).scaled(scale),
                        )
                        .unwrap();
                        for i in 0..x.len() {
                            assert!(
                                from_zero[i] == over[i]
                                    || (from_zero[i].is_nan() && over[i].is_nan()),
                                "{spec:?} on {isa}, element {i}"
                            );
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// 6. Error paths
// ---------------------------------------------------------------------------

fn assert_untouched(buf: &[f32], what: &str) {
    for (i, v) in buf.iter().enumerate() {
        assert_eq!(
            v.to_bits(),
            SENTINEL.to_bits(),
            "{what}: element {i} was written"
        );
    }
}

fn assert_display_names(e: &LossError, name: &str) {
    let text = e.to_string();
    assert!(text.contains(name), "`{text}` does not name `{name}`");
    let as_error: &dyn std::error::Error = e;
    assert!(as_error.source().is_none());
}

#[test]
fn empty_input_is_an_error() {
    for isa in isas() {
        for spec in SPECS {
            for target_len in [0usize, 3] {
                let target = vec![1.0f32; target_len];
                for reduction in REDUCTIONS {
                    let e = spec.value(isa, &[], &target, reduction).unwrap_err();
                    assert_eq!(e, LossError::Empty { argument: "input" });
                    assert_display_names(&e, "input");
                    for grad_len in [0usize, 3] {
                        let mut g = vec![SENTINEL; grad_len];
                        let e = spec
                            .value_and_grad(isa, &[], &target, reduction, Grad::overwrite(&mut g))
                            .unwrap_err();
                        assert_eq!(e, LossError::Empty { argument: "input" });
                        assert_untouched(&g, "grad (overwrite) after Empty");
                        let e = spec
                            .value_and_grad(
                                isa,
                                &[],
                                &target,
                                reduction,
                                Grad::accumulate(&mut g).scaled(2.0),
                            )
                            .unwrap_err();
                        assert_eq!(e, LossError::Empty { argument: "input" });
                        assert_untouched(&g, "grad (accumulate) after Empty");
                    }
                }
                let mut out = vec![SENTINEL; 3];
                let e = spec.per_element(isa, &[], &target, &mut out).unwrap_err();
                assert_eq!(e, LossError::Empty { argument: "input" });
                assert_untouched(&out, "out after Empty");
                let e = spec.per_element(isa, &[], &target, &mut []).unwrap_err();
                assert_eq!(e, LossError::Empty { argument: "input" });
            }
        }
    }
}

#[test]
fn length_mismatches_name_the_argument() {
    let n = 70; // a full chunk and a tail
    let x = vec![1.5f32; n];
    let y = vec![0.5f32; n];
    for isa in isas() {
        for spec in SPECS {
            for bad in [0usize, 1, n - 1, n + 1, 2 * n] {
                let mismatch = |argument| LossError::LengthMismatch {
                    argument,
                    expected: n,
                    actual: bad,
                };
                let short_y = vec![0.5f32; bad];
                for reduction in REDUCTIONS {
                    // target
                    let e = spec.value(isa, &x, &short_y, reduction).unwrap_err();
                    assert_eq!(e, mismatch("target"), "{spec:?} on {isa}");
                    assert_display_names(&e, "target");
                    let mut g = vec![SENTINEL; n];
                    let e = spec
                        .value_and_grad(isa, &x, &short_y, reduction, Grad::overwrite(&mut g))
                        .unwrap_err();
                    assert_eq!(e, mismatch("target"));
                    assert_untouched(&g, "grad after a target mismatch");
                    let e = spec
                        .value_and_grad(isa, &x, &short_y, reduction, Grad::accumulate(&mut g))
                        .unwrap_err();
                    assert_eq!(e, mismatch("target"));
                    assert_untouched(&g, "grad (accumulate) after a target mismatch");
                    // grad
                    let mut g = vec![SENTINEL; bad];
                    let e = spec
                        .value_and_grad(isa, &x, &y, reduction, Grad::overwrite(&mut g))
                        .unwrap_err();
                    assert_eq!(e, mismatch("grad"), "{spec:?} on {isa}");
                    assert_display_names(&e, "grad");
                    assert_untouched(&g, "grad after a grad mismatch");
                    let e = spec
                        .value_and_grad(
                            isa,
                            &x,
                            &y,
                            reduction,
                            Grad::accumulate(&mut g).scaled(0.5),
                        )
                        .unwrap_err();
                    assert_eq!(e, mismatch("grad"));
                    assert_untouched(&g, "grad (accumulate) after a grad mismatch");
                }
                // out
                let mut out = vec![SENTINEL; n];
                let e = spec.per_element(isa, &x, &short_y, &mut out).unwrap_err();
                assert_eq!(e, mismatch("target"));
                assert_untouched(&out, "out after a target mismatch");
                let mut out = vec![SENTINEL; bad];
                let e = spec.per_element(isa, &x, &y, &mut out).unwrap_err();
                assert_eq!(e, mismatch("out"), "{spec:?} on {isa}");
                assert_display_names(&e, "out");
                assert_untouched(&out, "out after an out mismatch");
            }
        }
    }
}

#[test]
fn invalid_parameters_are_rejected() {
    for delta in [
        0.0f32,
        -0.0,
        -1.0,
        -1e-45,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ] {
        let e = Huber::new(delta).unwrap_err();
        match e {
            LossError::InvalidParameter {
                argument, value, ..
            } => {
                assert_eq!(argument, "delta");
                assert_eq!(value.to_bits(), delta.to_bits());
            }
            other => panic!("Huber::new({delta}): {other:?}"),
        }
        assert_display_names(&e, "delta");
    }
    for delta in [1e-45f32, f32::MIN_POSITIVE, 1.0, f32::MAX] {
        assert_eq!(Huber::new(delta).unwrap().delta(), delta);
    }
    for beta in [-1.0f32, -1e-45, f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let e = SmoothL1::new(beta).unwrap_err();
        match e {
            LossError::InvalidParameter {
                argument, value, ..
            } => {
                assert_eq!(argument, "beta");
                assert_eq!(value.to_bits(), beta.to_bits());
            }
            other => panic!("SmoothL1::new({beta}): {other:?}"),
        }
        assert_display_names(&e, "beta");
    }
    for beta in [0.0f32, -0.0, 1e-45, 1.0, f32::MAX] {
        assert_eq!(
            SmoothL1::new(beta).unwrap().beta().to_bits(),
            beta.to_bits()
        );
    }
}

#[test]
fn unavailable_isa_is_an_error() {
    // The ISA this architecture can never have.
    let foreign = if cfg!(target_arch = "aarch64") {
        Isa::Avx512
    } else {
        Isa::Neon
    };
    assert!(!foreign.is_available());
    for isa in Isa::ALL {
        let want = if isa.is_available() {
            Ok(isa)
        } else {
            Err(LossError::IsaUnavailable { isa })
        };
        assert_eq!(Mse::new().with_isa(isa).map(|l| l.isa()), want);
        assert_eq!(L1::new().with_isa(isa).map(|l| l.isa()), want);
        assert_eq!(
            Huber::new(1.0).unwrap().with_isa(isa).map(|l| l.isa()),
            want
        );
        assert_eq!(
            SmoothL1::new(0.5).unwrap().with_isa(isa).map(|l| l.isa()),
            want
        );
        if let Err(e) = want {
            assert_display_names(&e, isa.name());
        }
    }
    assert_eq!(
        Mse::new().with_isa(foreign),
        Err(LossError::IsaUnavailable { isa: foreign })
    );
    // Without with_isa, calls run on the best ISA.
    assert_eq!(Mse::new().isa(), Isa::best());
}
