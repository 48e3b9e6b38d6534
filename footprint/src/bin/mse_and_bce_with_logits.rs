//! Footprint image: `Mse` and `BinaryCrossEntropyWithLogits`.
#![no_std]
#![no_main]

use simdloss::{BinaryCrossEntropyWithLogits, Grad, Mse, PointwiseLoss, Reduction};
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
    halt()
}
