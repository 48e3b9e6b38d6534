//! Footprint image: `SoftmaxCrossEntropy` and `SoftmaxFocal` (u8 labels).
#![no_std]
#![no_main]

/// The entry point (keeps everything reachable from it).
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    simdloss_footprint::softmax();
    simdloss_footprint::halt()
}
