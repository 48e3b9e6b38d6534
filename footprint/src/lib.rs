//! The parts every footprint image shares: the panic handler, the entry
//! point's tail and opaque buffers, so that each image (`src/bin/*.rs`)
//! holds only what its loss pulls in from `simdloss`.
//!
//! Each image calls `value_and_grad` (and `value`) of its losses on the
//! default instruction set (`Isa::best()`, as a firmware would), on slices
//! the optimizer cannot see through (`black_box`). `check.sh` builds them
//! for `thumbv7em-none-eabihf` at `opt-level = "s"` and compares the
//! flash each one takes (`.text` + `.rodata` + `.data`) with its budget.

#![no_std]

use core::hint::black_box;

/// Opaque input, target and gradient slices of `n` elements (at most 64).
#[must_use]
pub fn buffers(n: usize) -> (&'static [f32], &'static [f32], &'static mut [f32]) {
    static INPUT: [f32; 64] = [0.25; 64];
    static TARGET: [f32; 64] = [0.5; 64];
    static mut GRAD: [f32; 64] = [0.0; 64];
    let n = black_box(n).min(64);
    // SAFETY: each image calls `buffers` once, from its single-threaded
    // entry point, so this is the only reference to GRAD.
    let grad = unsafe { &mut *core::ptr::addr_of_mut!(GRAD) };
    (
        black_box(&INPUT[..n]),
        black_box(&TARGET[..n]),
        black_box(&mut grad[..n]),
    )
}

/// Opaque `u8` labels (`n` of them, at most 64).
#[must_use]
pub fn labels(n: usize) -> &'static [u8] {
    static LABELS: [u8; 64] = [1; 64];
    black_box(&LABELS[..black_box(n).min(64)])
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
