//! Footprint image: the Dice family and Dice + CE (u8 labels).
#![no_std]
#![no_main]

use simdloss::{
    Activation, ClassAxisLoss, ClassShape, Dice, DiceCrossEntropy, GeneralizedDice, Grad,
    Reduction, Tversky,
};
use simdloss_footprint::{buffers, halt, labels};

/// The entry point (keeps everything reachable from it).
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let (input, _, grad) = buffers(64);
    let Ok(shape) = ClassShape::new(
        core::hint::black_box(2),
        core::hint::black_box(4),
        core::hint::black_box(8),
    ) else {
        halt()
    };
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
