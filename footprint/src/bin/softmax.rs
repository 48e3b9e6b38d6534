//! Footprint image: `SoftmaxCrossEntropy` and `SoftmaxFocal` (u8 labels).
#![no_std]
#![no_main]

use simdloss::{ClassAxisLoss, ClassShape, Grad, Reduction, SoftmaxCrossEntropy, SoftmaxFocal};
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
    halt()
}
