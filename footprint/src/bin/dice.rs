//! Footprint image: the Dice family and Dice + CE (u8 labels).
#![no_std]
#![no_main]

/// The entry point (keeps everything reachable from it).
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    simdloss_footprint::dice();
    simdloss_footprint::halt()
}
