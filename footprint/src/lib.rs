//! The parts every footprint image shares: the panic handler, opaque
//! buffers, and one function per loss group that calls its verbs, so that
//! each image (`src/bin/*.rs`) is its entry point and a list of groups, and
//! holds only what those pull in from `simdloss` (fat LTO drops the rest).
//!
//! Each group calls `value_and_grad` and `value` of its losses on the
//! default instruction set (`Isa::best()`, as a firmware would), on slices
//! the optimizer cannot see through (`black_box`). `check.sh` builds the
//! images for `thumbv7em-none-eabihf` at `opt-level = "s"` and compares
//! the flash each one takes (`.text` + `.rodata` + `.data`) with its
//! budget.

#![no_std]

use core::hint::black_box;

use simdloss::{
    Activation, BinaryCrossEntropy, BinaryCrossEntropyWithLogits, ClassAxisLoss, ClassShape, Dice,
    DiceCrossEntropy, GeneralizedDice, Grad, Huber, L1, Mse, PointwiseLoss, Reduction,
    SigmoidFocal, SmoothL1, SoftmaxCrossEntropy, SoftmaxFocal, Tversky,
};

/// Opaque input, target and gradient slices of 64 elements.
fn buffers() -> (&'static [f32], &'static [f32], &'static mut [f32]) {
    static INPUT: [f32; 64] = [0.25; 64];
    static TARGET: [f32; 64] = [0.5; 64];
    static mut GRAD: [f32; 64] = [0.0; 64];
    // SAFETY: the images are single-threaded and no two groups run at
    // once, so this is the only live reference to GRAD.
    let grad = unsafe { &mut *core::ptr::addr_of_mut!(GRAD) };
    (
        black_box(&INPUT[..]),
        black_box(&TARGET[..]),
        black_box(&mut grad[..]),
    )
}

/// The two verbs of a pointwise loss.
#[inline(never)]
fn pointwise_verbs<L: PointwiseLoss>(loss: L) {
    let (input, target, grad) = buffers();
    let _ = black_box(loss.value_and_grad(input, target, Reduction::Mean, Grad::overwrite(grad)));
    let _ = black_box(loss.value(input, target, Reduction::Mean));
}

/// The two verbs of a class-axis loss on an opaque `[2, 4, 8]` shape with
/// `u8` labels.
#[inline(never)]
fn class_axis_verbs<L: ClassAxisLoss>(loss: L) {
    static LABELS: [u8; 16] = [1; 16];
    let (input, _, grad) = buffers();
    let labels = black_box(&LABELS[..]);
    let Ok(shape) = ClassShape::new(black_box(2), black_box(4), black_box(8)) else {
        return;
    };
    let input = &input[..shape.len()];
    let grad = &mut grad[..shape.len()];
    let _ = black_box(loss.value_and_grad(
        input,
        shape,
        labels,
        Reduction::Mean,
        Grad::overwrite(grad),
    ));
    let _ = black_box(loss.value(input, shape, labels, Reduction::Mean));
}

/// `Mse`.
pub fn mse() {
    pointwise_verbs(Mse::new());
}

/// `BinaryCrossEntropyWithLogits`.
pub fn bce_with_logits() {
    pointwise_verbs(BinaryCrossEntropyWithLogits::new());
}

/// Every pointwise loss (regression and binary).
pub fn pointwise() {
    mse();
    pointwise_verbs(L1::new());
    if let Ok(loss) = Huber::new(1.0) {
        pointwise_verbs(loss);
    }
    if let Ok(loss) = SmoothL1::new(1.0) {
        pointwise_verbs(loss);
    }
    pointwise_verbs(BinaryCrossEntropy::new());
    bce_with_logits();
    if let Ok(loss) = SigmoidFocal::new(0.25, 2.0) {
        pointwise_verbs(loss);
    }
}

/// `SoftmaxCrossEntropy` and `SoftmaxFocal`.
pub fn softmax() {
    class_axis_verbs(SoftmaxCrossEntropy::new());
    if let Ok(loss) = SoftmaxFocal::new(2.0) {
        class_axis_verbs(loss);
    }
}

/// The Dice family and Dice + CE.
pub fn dice() {
    class_axis_verbs(Dice::new(Activation::Softmax));
    class_axis_verbs(Dice::new(Activation::Sigmoid));
    class_axis_verbs(DiceCrossEntropy::new());
    if let Ok(loss) = Tversky::new(Activation::Softmax, 0.3, 0.7) {
        class_axis_verbs(loss);
    }
    class_axis_verbs(GeneralizedDice::new(Activation::Softmax));
}

/// Where an image's entry point ends.
pub fn halt() -> ! {
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    halt()
}
