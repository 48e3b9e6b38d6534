//! Golden hashes: the output bits of fixed inputs, pinned.
//!
//! The cases (inputs, hashes and constants) are in `tests/golden/cases.rs`,
//! shared with the Cortex-M firmware (`firmware/`), so every target checks
//! the same constants. Here each case is one test, run on every ISA this
//! CPU has: `cargo test` on scalar, wide, AVX2, AVX-512; under qemu-aarch64
//! on NEON, wide, scalar; under qemu-arm and Node's WASI on their paths.

extern crate alloc;

#[path = "golden/cases.rs"]
mod cases;
mod common;

use cases::Case;
use common::isas;

/// Asserts that `case` hashes to its constant on every ISA this CPU has
/// (all hashes printed, so a changed constant can be read off the log).
fn check(case: &Case) {
    let hashes: Vec<_> = isas()
        .into_iter()
        .map(|isa| (isa, case.hash(isa)))
        .collect();
    let report: Vec<String> = hashes
        .iter()
        .map(|(isa, h)| format!("{isa}: {h:#018x}"))
        .collect();
    eprintln!("{}: {}", case.name, report.join(", "));
    for (isa, got) in hashes {
        assert_eq!(
            got, case.expected,
            "{}: golden hash on {isa} is {got:#018x}, pinned {:#018x} (all: {report:?})",
            case.name, case.expected
        );
    }
}

/// Every case of `cases::ALL` has its test below (a case added there
/// without one would run on the firmware only).
#[test]
fn every_case_has_a_test() {
    let source = include_str!("golden.rs");
    for case in cases::ALL {
        let test = format!(
            "fn golden_{}() {{\n    check(&cases::{});",
            case.name,
            case.name.to_uppercase()
        );
        assert!(source.contains(&test), "no test for case {}", case.name);
    }
}

#[test]
fn golden_inputs_are_stable() {
    check(&cases::INPUTS_ARE_STABLE);
}

#[test]
fn golden_mse() {
    check(&cases::MSE);
}

#[test]
fn golden_l1() {
    check(&cases::L1);
}

#[test]
fn golden_huber() {
    check(&cases::HUBER);
}

#[test]
fn golden_smooth_l1() {
    check(&cases::SMOOTH_L1);
}

#[test]
fn golden_binary_inputs_are_stable() {
    check(&cases::BINARY_INPUTS_ARE_STABLE);
}

#[test]
fn golden_bce() {
    check(&cases::BCE);
}

#[test]
fn golden_bce_with_logits() {
    check(&cases::BCE_WITH_LOGITS);
}

#[test]
fn golden_bce_with_logits_weighted() {
    check(&cases::BCE_WITH_LOGITS_WEIGHTED);
}

#[test]
fn golden_sigmoid_focal() {
    check(&cases::SIGMOID_FOCAL);
}

#[test]
fn golden_sigmoid_focal_gamma_half() {
    check(&cases::SIGMOID_FOCAL_GAMMA_HALF);
}

#[test]
fn golden_softmax_inputs_are_stable() {
    check(&cases::SOFTMAX_INPUTS_ARE_STABLE);
}

#[test]
fn golden_softmax_cross_entropy() {
    check(&cases::SOFTMAX_CROSS_ENTROPY);
}

#[test]
fn golden_softmax_cross_entropy_weighted_smoothed() {
    check(&cases::SOFTMAX_CROSS_ENTROPY_WEIGHTED_SMOOTHED);
}

#[test]
fn golden_softmax_cross_entropy_probabilities() {
    check(&cases::SOFTMAX_CROSS_ENTROPY_PROBABILITIES);
}

#[test]
fn golden_softmax_focal_gamma_2_weighted() {
    check(&cases::SOFTMAX_FOCAL_GAMMA_2_WEIGHTED);
}

#[test]
fn golden_softmax_focal_gamma_half() {
    check(&cases::SOFTMAX_FOCAL_GAMMA_HALF);
}

#[test]
fn golden_dice() {
    check(&cases::DICE);
}

#[test]
fn golden_dice_jaccard_sigmoid_soft() {
    check(&cases::DICE_JACCARD_SIGMOID_SOFT);
}

#[test]
fn golden_tversky_none() {
    check(&cases::TVERSKY_NONE);
}

#[test]
fn golden_generalized_dice_batch() {
    check(&cases::GENERALIZED_DICE_BATCH);
}

#[test]
fn golden_dice_cross_entropy() {
    check(&cases::DICE_CROSS_ENTROPY);
}

#[test]
fn golden_large_mse() {
    check(&cases::LARGE_MSE);
}

#[test]
fn golden_large_bce_with_logits_pos_weight() {
    check(&cases::LARGE_BCE_WITH_LOGITS_POS_WEIGHT);
}

#[test]
fn golden_large_bce_with_logits_cancelling() {
    check(&cases::LARGE_BCE_WITH_LOGITS_CANCELLING);
}
