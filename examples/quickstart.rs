//! The main job: run every loss on a synthetic batch on the best instruction
//! set this CPU has, and show that the scalar path gives the same bits.
//!
//! `cargo run --release --example quickstart`

use simdloss::{
    Activation, BinaryCrossEntropy, BinaryCrossEntropyWithLogits, ClassAxisLoss, ClassShape, Dice,
    DiceCrossEntropy, Grad, Huber, Isa, L1, LossError, Mse, PointwiseLoss, Reduction, SigmoidFocal,
    SmoothL1, SoftmaxCrossEntropy, SoftmaxFocal,
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

/// Runs a class-axis loss (`run(isa, grad)`) on the best ISA and on the
/// scalar path; prints both and checks they agree bit for bit.
fn show_class(
    name: &str,
    shape: ClassShape,
    logits: &[f32],
    run: impl Fn(Isa, &mut [f32]) -> Result<f32, LossError>,
) -> Result<(), LossError> {
    let mut grad = vec![0.0f32; logits.len()];
    let value = run(Isa::best(), &mut grad)?;
    let mut grad_scalar = vec![0.0f32; logits.len()];
    let value_scalar = run(Isa::Scalar, &mut grad_scalar)?;
    let same = value.to_bits() == value_scalar.to_bits()
        && grad
            .iter()
            .zip(&grad_scalar)
            .all(|(a, b)| a.to_bits() == b.to_bits());
    println!(
        "{name:<12} [{} x {} x {}] loss {value:<12} scalar path: loss {value_scalar:<12} bit-identical: {same}",
        shape.batch(),
        shape.classes(),
        shape.spatial()
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

    // A classifier batch, [N = 256, C = 1000] logits with class indices
    // (the row kernel), and a segmentation map [N = 2, C = 21, 96 x 96]
    // in NCHW with u8 masks where 255 is "void" (the tile kernel).
    let classifier = ClassShape::classifier(256, 1000)?;
    let (logits, _) = batch(classifier.len());
    let labels: Vec<u16> = (0..256u16).map(|i| (i * 37) % 1000).collect();
    let ce = SoftmaxCrossEntropy::new().with_label_smoothing(0.1)?;
    show_class("softmax_ce", classifier, &logits, |isa, g| {
        ce.with_isa(isa)?.value_and_grad(
            &logits,
            classifier,
            labels.as_slice(),
            Reduction::Mean,
            Grad::overwrite(g),
        )
    })?;
    let map = ClassShape::new(2, 21, 96 * 96)?;
    let (logits, _) = batch(map.len());
    let mask: Vec<u8> = (0..map.samples())
        .map(|j| {
            if j % 97 == 0 {
                255
            } else {
                u8::try_from(j % 21).unwrap_or(0)
            }
        })
        .collect();
    let class_weight: Vec<f32> = (0..21u8).map(|c| 0.5 + f32::from(c) / 21.0).collect();
    let seg = SoftmaxCrossEntropy::new()
        .with_ignore_index(255)
        .with_weight(&class_weight);
    show_class("seg_ce", map, &logits, |isa, g| {
        seg.with_isa(isa)?.value_and_grad(
            &logits,
            map,
            mask.as_slice(),
            Reduction::Mean,
            Grad::overwrite(g),
        )
    })?;
    let focal = SoftmaxFocal::new(2.0)?.with_ignore_index(255);
    show_class("seg_focal", map, &logits, |isa, g| {
        focal.with_isa(isa)?.value_and_grad(
            &logits,
            map,
            mask.as_slice(),
            Reduction::Mean,
            Grad::overwrite(g),
        )
    })?;

    // Dice + CE on the same map (MONAI's DiceCELoss: one softmax per pixel
    // for both halves), and a binary map with the sigmoid Dice.
    let dice_ce = DiceCrossEntropy::new()
        .with_ignore_index(255)
        .with_include_background(false);
    show_class("seg_dice_ce", map, &logits, |isa, g| {
        dice_ce.with_isa(isa)?.value_and_grad(
            &logits,
            map,
            mask.as_slice(),
            Reduction::Mean,
            Grad::overwrite(g),
        )
    })?;
    let binary = ClassShape::new(2, 1, 96 * 96)?;
    let (logits, _) = batch(binary.len());
    let foreground: Vec<u8> = (0..binary.samples())
        .map(|j| u8::from(j % 3 == 0))
        .collect();
    let dice = Dice::new(Activation::Sigmoid);
    show_class("binary_dice", binary, &logits, |isa, g| {
        dice.with_isa(isa)?.value_and_grad(
            &logits,
            binary,
            foreground.as_slice(),
            Reduction::Mean,
            Grad::overwrite(g),
        )
    })?;

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
