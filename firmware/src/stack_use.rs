//! The stack each loss's verbs use on this target, measured with nothing
//! but the call itself on the stack (`stack::high_water` around one call
//! at a time), against a budget per loss family: the library's own
//! number, which the README's Targets table states.

use crate::stack::high_water;
use alloc::vec;
use alloc::vec::Vec;
use cortex_m_semihosting::hprintln;
use simdloss::{
    Activation, BinaryCrossEntropy, BinaryCrossEntropyWithLogits, ClassAxisLoss, ClassShape, Dice,
    DiceCrossEntropy, GeneralizedDice, Grad, Huber, Isa, L1, LossError, Mse, PointwiseLoss,
    Reduction, SigmoidFocal, SmoothL1, SoftmaxCrossEntropy, SoftmaxFocal, Tversky,
};

/// Elements of the pointwise calls: full 256-element blocks and a tail.
const N: usize = 1037;

/// The most stack, in bytes, one call of a family may use on this target:
/// the worst measured on either target (thumbv7em at opt-level "s", the
/// figures in the README) plus about 10%, so that a change that grows a
/// kernel's frames fails CI. Issue 12's goal is 1 KiB for every loss; the
/// README says where each family stands and why.
const BUDGETS: [(&str, usize); 4] = [
    ("regression", 1_500),
    ("binary", 2_800),
    ("softmax", 7_500),
    ("dice", 18_400),
];

/// The budget of `family`.
fn budget(family: &str) -> usize {
    BUDGETS
        .iter()
        .find(|(f, _)| *f == family)
        .map_or(0, |&(_, b)| b)
}

/// A deterministic value in `[-4, 4)` for index `i` (exact arithmetic).
fn logit(i: usize) -> f32 {
    ((i * 7919) % 8192) as f32 / 1024.0 - 4.0
}

/// The stack `call` used; panics (failing the run) if it returned an
/// error, which would make the number meaningless.
fn used<T, E: core::fmt::Debug>(call: impl FnOnce() -> Result<T, E>) -> usize {
    let (result, bytes) = high_water(call);
    result.expect("the measured call failed");
    bytes
}

/// `value`, `value_and_grad` (overwrite) and `per_element` of a pointwise
/// loss; the deepest of the three.
fn pointwise<T: PointwiseLoss>(loss: &T, x: &[f32], y: &[f32]) -> usize {
    let mut g = vec![0.0f32; x.len()];
    let a = used(|| loss.value(x, y, Reduction::Mean));
    let b = used(|| loss.value_and_grad(x, y, Reduction::Mean, Grad::overwrite(&mut g)));
    let c = used(|| loss.per_element(x, y, &mut g));
    a.max(b).max(c)
}

/// The same for a class-axis loss with `u8` labels; `per_element` writes
/// `terms` values (0: the loss has no `per_element`).
fn class_axis<T: ClassAxisLoss>(
    loss: &T,
    x: &[f32],
    shape: ClassShape,
    labels: &[u8],
    terms: usize,
) -> usize {
    let mut g = vec![0.0f32; x.len()];
    let mut out = vec![0.0f32; terms];
    let a = used(|| loss.value(x, shape, labels, Reduction::Mean));
    let b =
        used(|| loss.value_and_grad(x, shape, labels, Reduction::Mean, Grad::overwrite(&mut g)));
    let c = if terms > 0 {
        used(|| loss.per_element(x, shape, labels, &mut out))
    } else {
        0
    };
    a.max(b).max(c)
}

/// A loss built for the ISA (`with_isa` on an available one cannot fail).
fn isa_of<T>(loss: Result<T, LossError>) -> T {
    loss.expect("the ISA is available")
}

/// Measures every loss on `isa`, prints one line per loss, and returns
/// how many exceeded their family's budget.
pub fn report(isa: Isa) -> usize {
    let x: Vec<f32> = (0..N).map(logit).collect();
    let y: Vec<f32> = (0..N).map(|i| logit(i + 5)).collect();
    let p: Vec<f32> = (0..N).map(|i| (i % 1024) as f32 / 1024.0).collect();
    let t: Vec<f32> = (0..N).map(|i| (i % 2) as f32).collect();
    let w: Vec<f32> = (0..N).map(|i| (i % 4) as f32 * 0.5).collect();
    let pw: Vec<f32> = (0..17).map(|c| 0.5 + c as f32 * 0.25).collect(); // 1037 = 61 · 17
    let rows = ClassShape::new(4, 1000, 1).unwrap();
    let rows_x: Vec<f32> = (0..rows.len()).map(logit).collect();
    let rows_y: Vec<u8> = (0..4).map(|i| (i * 37) as u8).collect();
    let map = ClassShape::new(2, 21, 100).unwrap();
    let map_x: Vec<f32> = (0..map.len()).map(logit).collect();
    let map_y: Vec<u8> = (0..map.samples())
        .map(|i| (i % 22) as u8 * 12 % 21)
        .collect();
    let binary = ClassShape::new(2, 1, 300).unwrap();
    let binary_y: Vec<u8> = (0..binary.samples()).map(|i| (i / 7 % 2) as u8).collect();

    let measured: [(&str, &str, usize); 17] = [
        (
            "regression",
            "Mse",
            pointwise(&isa_of(Mse::new().with_isa(isa)), &x, &y),
        ),
        (
            "regression",
            "L1",
            pointwise(&isa_of(L1::new().with_isa(isa)), &x, &y),
        ),
        (
            "regression",
            "Huber",
            pointwise(&isa_of(Huber::new(1.0).unwrap().with_isa(isa)), &x, &y),
        ),
        (
            "regression",
            "SmoothL1",
            pointwise(&isa_of(SmoothL1::new(1.0).unwrap().with_isa(isa)), &x, &y),
        ),
        (
            "binary",
            "BinaryCrossEntropy (weight)",
            pointwise(
                &isa_of(BinaryCrossEntropy::new().with_weight(&w).with_isa(isa)),
                &p,
                &t,
            ),
        ),
        (
            "binary",
            "BinaryCrossEntropyWithLogits",
            pointwise(
                &isa_of(BinaryCrossEntropyWithLogits::new().with_isa(isa)),
                &x,
                &t,
            ),
        ),
        (
            "binary",
            "BinaryCrossEntropyWithLogits (pos_weight[17], weight)",
            pointwise(
                &isa_of(
                    BinaryCrossEntropyWithLogits::new()
                        .with_pos_weight_per_class(&pw)
                        .unwrap()
                        .with_weight(&w)
                        .with_isa(isa),
                ),
                &x,
                &t,
            ),
        ),
        (
            "binary",
            "SigmoidFocal (γ = 2)",
            pointwise(&isa_of(SigmoidFocal::default().with_isa(isa)), &x, &t),
        ),
        (
            "binary",
            "SigmoidFocal (γ = 0.5)",
            pointwise(
                &isa_of(SigmoidFocal::new(0.25, 0.5).unwrap().with_isa(isa)),
                &x,
                &t,
            ),
        ),
        (
            "softmax",
            "SoftmaxCrossEntropy [4, 1000, 1]",
            class_axis(
                &isa_of(SoftmaxCrossEntropy::new().with_isa(isa)),
                &rows_x,
                rows,
                &rows_y,
                4,
            ),
        ),
        (
            "softmax",
            "SoftmaxCrossEntropy [2, 21, 100]",
            class_axis(
                &isa_of(SoftmaxCrossEntropy::new().with_isa(isa)),
                &map_x,
                map,
                &map_y,
                200,
            ),
        ),
        (
            "softmax",
            "SoftmaxFocal [2, 21, 100]",
            class_axis(
                &isa_of(SoftmaxFocal::new(2.0).unwrap().with_isa(isa)),
                &map_x,
                map,
                &map_y,
                200,
            ),
        ),
        (
            "dice",
            "Dice sigmoid [2, 1, 300]",
            class_axis(
                &isa_of(Dice::new(Activation::Sigmoid).with_isa(isa)),
                &x[..600],
                binary,
                &binary_y,
                2,
            ),
        ),
        (
            "dice",
            "Dice softmax [2, 21, 100]",
            class_axis(
                &isa_of(Dice::new(Activation::Softmax).with_isa(isa)),
                &map_x,
                map,
                &map_y,
                42,
            ),
        ),
        (
            "dice",
            "Tversky softmax [2, 21, 100]",
            class_axis(
                &isa_of(
                    Tversky::new(Activation::Softmax, 0.3, 0.7)
                        .unwrap()
                        .with_isa(isa),
                ),
                &map_x,
                map,
                &map_y,
                42,
            ),
        ),
        (
            "dice",
            "GeneralizedDice softmax [2, 21, 100]",
            class_axis(
                &isa_of(GeneralizedDice::new(Activation::Softmax).with_isa(isa)),
                &map_x,
                map,
                &map_y,
                2,
            ),
        ),
        (
            "dice",
            "DiceCrossEntropy [2, 21, 100]",
            class_axis(
                &isa_of(DiceCrossEntropy::new().with_isa(isa)),
                &map_x,
                map,
                &map_y,
                0,
            ),
        ),
    ];
    let mut over = 0;
    for (family, name, used) in measured {
        let limit = budget(family);
        let verdict = if used <= limit {
            "ok"
        } else {
            over += 1;
            "OVER BUDGET"
        };
        hprintln!(
            "stack on {}: {} {} bytes (budget {}) {}",
            isa.name(),
            name,
            used,
            limit,
            verdict
        );
    }
    over
}
