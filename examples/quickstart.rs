//! The main job: run every loss on a synthetic batch on the best instruction
//! set this CPU has, and show that the scalar path gives the same bits.
//!
//! `cargo run --release --example quickstart`

use simdloss::{
    BinaryCrossEntropy, BinaryCrossEntropyWithLogits, Grad, Huber, Isa, L1, LossError, Mse,
    PointwiseLoss, Reduction, SigmoidFocal, SmoothL1,
};

/// A reproducible batch: a regression head's outputs and their targets.
fn batch(n: usize) -> (Vec<f32>, Vec<f32>) {
    let mut state = 0x2545_f491_u32;
    let mut next = move || {
        // xorshift32 → [-2, 2): exact integer-to-float arithmetic.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        f32::from(u16::try_from(state >> 16).unwrap_or(0)) / 16384.0 - 2.0
    };
    let target: Vec<f32> = (0..n).map(|_| next()).collect();
    let input: Vec<f32> = target.iter().map(|t| t + 0.75 * next()).collect();
    (input, target)
}

/// Logits and 0/1 labels for `n` samples of `classes` classes, the logits
/// leaning towards the right answer.
fn labels_batch(n: usize, classes: usize) -> (Vec<f32>, Vec<f32>) {
    let (noise, _) = batch(n * classes);
    let labels: Vec<f32> = (0..n * classes)
        .map(|i| {
            if (i * 7 + i / classes).is_multiple_of(3) {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let logits = labels
        .iter()
        .zip(&noise)
        .map(|(y, e)| 2.0 * (y - 0.5) + 2.0 * e)
        .collect();
    (logits, labels)
}

/// Runs `loss` on `isa` and on the scalar path; prints both and checks they
/// agree bit for bit.
fn show<T: PointwiseLoss + Copy>(
    name: &str,
    loss: T,
    input: &[f32],
    target: &[f32],
) -> Result<(), LossError> {
    let mut grad = vec![0.0f32; input.len()];
    let value = loss.value_and_grad(input, target, Reduction::Mean, Grad::overwrite(&mut grad))?;

    let mut grad_scalar = vec![0.0f32; input.len()];
    let value_scalar = loss.with_isa(Isa::Scalar)?.value_and_grad(
        input,
        target,
        Reduction::Mean,
        Grad::overwrite(&mut grad_scalar),
    )?;
    let same = value.to_bits() == value_scalar.to_bits()
        && grad
            .iter()
            .zip(&grad_scalar)
            .all(|(a, b)| a.to_bits() == b.to_bits());
    println!(
        "{name:<12} loss {value:<12} grad[0..3] {:?}   scalar path: loss {value_scalar:<12} bit-identical: {same}",
        &grad[..3]
    );
    Ok(())
}

fn main() -> Result<(), LossError> {
    println!(
        "simdloss picked: {} (available: {:?})",
        Isa::best(),
        Isa::available().collect::<Vec<_>>()
    );

    let (input, target) = batch(64 * 1024 + 7);
    println!(
        "regression batch: {} elements, Reduction::Mean",
        input.len()
    );
    show("mse", Mse::new(), &input, &target)?;
    show("l1", L1::new(), &input, &target)?;
    show("huber(1)", Huber::new(1.0)?, &input, &target)?;
    show("smoothl1(.5)", SmoothL1::new(0.5)?, &input, &target)?;

    // A multi-label classifier: [N, C] logits, 0/1 labels, a per-class
    // positive weight broadcast over the last axis.
    let (logits, labels) = labels_batch(4096, 3);
    let pos_weight = [1.0f32, 2.5, 0.5];
    println!(
        "binary batch: [{} x 3] logits, Reduction::Mean",
        logits.len() / 3
    );
    let bce_logits = BinaryCrossEntropyWithLogits::new().with_pos_weight_per_class(&pos_weight)?;
    show("bce_logits", bce_logits, &logits, &labels)?;
    show("focal", SigmoidFocal::new(0.25, 2.0)?, &logits, &labels)?;
    let probabilities: Vec<f32> = logits.iter().map(|x| 1.0 / (1.0 + (-x).exp())).collect();
    show("bce", BinaryCrossEntropy::new(), &probabilities, &labels)?;

    // Losses combine: accumulate a second loss's gradient, weighted, into
    // the same buffer.
    let mut grad = vec![0.0f32; input.len()];
    let a =
        Mse::new().value_and_grad(&input, &target, Reduction::Mean, Grad::overwrite(&mut grad))?;
    let b = L1::new().value_and_grad(
        &input,
        &target,
        Reduction::Mean,
        Grad::accumulate(&mut grad).scaled(0.1),
    )?;
    println!(
        "mse + 0.1·l1 = {} (one gradient buffer, grad[0] = {})",
        a + 0.1 * b,
        grad[0]
    );

    // Bad input is an error naming the argument, never a panic.
    let err = Mse::new()
        .value(&input, &target[1..], Reduction::Mean)
        .unwrap_err();
    println!("length mismatch → Err: {err}");
    Ok(())
}
