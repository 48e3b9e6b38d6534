//! Footprint image: every pointwise loss (regression and binary).
#![no_std]
#![no_main]

use simdloss::{
    BinaryCrossEntropy, BinaryCrossEntropyWithLogits, Grad, Huber, L1, Mse, PointwiseLoss,
    Reduction, SigmoidFocal, SmoothL1,
};
use simdloss_footprint::{buffers, halt};

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
    halt()
}
