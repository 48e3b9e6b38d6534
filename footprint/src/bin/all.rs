//! Footprint image: every loss.
#![no_std]
#![no_main]

/// The entry point (keeps everything reachable from it).
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    simdloss_footprint::pointwise();
    simdloss_footprint::softmax();
    simdloss_footprint::dice();
    simdloss_footprint::halt()
}
