//! Footprint image: every loss.
#![no_std]
#![no_main]

use simdloss::{
    Activation, BinaryCrossEntropy, BinaryCrossEntropyWithLogits, ClassAxisLoss, ClassShape, Dice,
    DiceCrossEntropy, GeneralizedDice, Grad, Huber, L1, Mse, PointwiseLoss, Reduction,
    SigmoidFocal, SmoothL1, SoftmaxCrossEntropy, SoftmaxFocal, Tversky,
};
use simdloss_footprint::{buffers, halt, labels};

/// The entry point (keeps everything reachable from it).
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let (input, target, grad) = buffers(64);
    let _ = core::hint::black_box(Mse::new().value_and_grad(
        input,
        target,
        Reduction::Mean,
        Grad::overwrite(&mut *grad),
    ));
    let _ = core::hint::black_box(Mse::new().value(input, target, Reduction::Mean));
    let _ = core::hint::black_box(L1::new().value_and_grad(
        input,
        target,
        Reduction::Mean,
        Grad::overwrite(&mut *grad),
    ));
    let _ = core::hint::black_box(L1::new().value(input, target, Reduction::Mean));
    if let Ok(l) = Huber::new(1.0) {
        let _ = core::hint::black_box(l.value_and_grad(
            input,
            target,
            Reduction::Mean,
            Grad::overwrite(&mut *grad),
        ));
        let _ = core::hint::black_box(l.value(input, target, Reduction::Mean));
    }
    if let Ok(l) = SmoothL1::new(1.0) {
        let _ = core::hint::black_box(l.value_and_grad(
            input,
            target,
            Reduction::Mean,
            Grad::overwrite(&mut *grad),
        ));
        let _ = core::hint::black_box(l.value(input, target, Reduction::Mean));
    }
    let _ = core::hint::black_box(BinaryCrossEntropy::new().value_and_grad(
        input,
        target,
        Reduction::Mean,
        Grad::overwrite(&mut *grad),
    ));
    let _ = core::hint::black_box(BinaryCrossEntropy::new().value(input, target, Reduction::Mean));
    let _ = core::hint::black_box(BinaryCrossEntropyWithLogits::new().value_and_grad(
        input,
        target,
        Reduction::Mean,
        Grad::overwrite(&mut *grad),
    ));
    let _ = core::hint::black_box(BinaryCrossEntropyWithLogits::new().value(
        input,
        target,
        Reduction::Mean,
    ));
    if let Ok(l) = SigmoidFocal::new(0.25, 2.0) {
        let _ = core::hint::black_box(l.value_and_grad(
            input,
            target,
            Reduction::Mean,
            Grad::overwrite(&mut *grad),
        ));
        let _ = core::hint::black_box(l.value(input, target, Reduction::Mean));
    }
    let Ok(shape) = ClassShape::new(
        core::hint::black_box(2),
        core::hint::black_box(4),
        core::hint::black_box(8),
    ) else {
        halt()
    };
    let _ = core::hint::black_box(SoftmaxCrossEntropy::new().value_and_grad(
        input,
        shape,
        labels(16),
        Reduction::Mean,
        Grad::overwrite(&mut *grad),
    ));
    let _ = core::hint::black_box(SoftmaxCrossEntropy::new().value(
        input,
        shape,
        labels(16),
        Reduction::Mean,
    ));
    if let Ok(l) = SoftmaxFocal::new(2.0) {
        let _ = core::hint::black_box(l.value_and_grad(
            input,
            shape,
            labels(16),
            Reduction::Mean,
            Grad::overwrite(&mut *grad),
        ));
        let _ = core::hint::black_box(l.value(input, shape, labels(16), Reduction::Mean));
    }
    let _ = core::hint::black_box(Dice::new(Activation::Softmax).value_and_grad(
        input,
        shape,
        labels(16),
        Reduction::Mean,
        Grad::overwrite(&mut *grad),
    ));
    let _ = core::hint::black_box(Dice::new(Activation::Softmax).value(
        input,
        shape,
        labels(16),
        Reduction::Mean,
    ));
    let _ = core::hint::black_box(Dice::new(Activation::Sigmoid).value_and_grad(
        input,
        shape,
        labels(16),
        Reduction::Mean,
        Grad::overwrite(&mut *grad),
    ));
    let _ = core::hint::black_box(Dice::new(Activation::Sigmoid).value(
        input,
        shape,
        labels(16),
        Reduction::Mean,
    ));
    let _ = core::hint::black_box(DiceCrossEntropy::new().value_and_grad(
        input,
        shape,
        labels(16),
        Reduction::Mean,
        Grad::overwrite(&mut *grad),
    ));
    let _ = core::hint::black_box(DiceCrossEntropy::new().value(
        input,
        shape,
        labels(16),
        Reduction::Mean,
    ));
    if let Ok(l) = Tversky::new(Activation::Softmax, 0.3, 0.7) {
        let _ = core::hint::black_box(l.value_and_grad(
            input,
            shape,
            labels(16),
            Reduction::Mean,
            Grad::overwrite(&mut *grad),
        ));
        let _ = core::hint::black_box(l.value(input, shape, labels(16), Reduction::Mean));
    }
    let _ = core::hint::black_box(GeneralizedDice::new(Activation::Softmax).value_and_grad(
        input,
        shape,
        labels(16),
        Reduction::Mean,
        Grad::overwrite(&mut *grad),
    ));
    let _ = core::hint::black_box(GeneralizedDice::new(Activation::Softmax).value(
        input,
        shape,
        labels(16),
        Reduction::Mean,
    ));
    halt()
}
