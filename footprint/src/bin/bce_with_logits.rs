//! Footprint image: `BinaryCrossEntropyWithLogits`.
#![no_std]
#![no_main]

/// The entry point (keeps everything reachable from it).
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    simdloss_footprint::bce_with_logits();
    simdloss_footprint::halt()
}
