//! The golden checks on bare metal: every case of `tests/golden/cases.rs`
//! (the very file, the very constants the host tests use) on every ISA
//! this target has, then the stack each loss's verbs use
//! (`stack_use.rs`), reported through semihosting; the exit status says
//! whether every hash matched and every loss stayed within its stack
//! budget.
//!
//! Built for `thumbv7em-none-eabihf` (Cortex-M4F, run on qemu's
//! `mps2-an386`) and `thumbv6m-none-eabi` (Cortex-M0, soft float, run on
//! `mps2-an385`: qemu's only Cortex-M0 board, the micro:bit, has 16 KiB of
//! RAM, too little for the inputs; ARMv6-M code runs unchanged on the
//! Cortex-M3). `run.sh` builds and runs both.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;

mod heap;
mod stack;
mod stack_use;

#[allow(dead_code)] // the host tests use the rest
#[path = "../../tests/common/portable.rs"]
mod portable;

/// What `cases.rs` expects at `crate::common` (in the host tests, the
/// whole `tests/common` module).
mod common {
    pub use crate::portable::*;
}

#[path = "../../tests/golden/cases.rs"]
mod cases;

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprintln};
use simdloss::Isa;

/// The target this image was built for, for the summary line.
const TARGET: &str = if cfg!(target_abi = "eabihf") {
    "thumbv7em-none-eabihf"
} else {
    "thumbv6m-none-eabi"
};

#[entry]
fn main() -> ! {
    let mut checks = 0usize;
    let mut failures = 0usize;
    for case in &cases::ALL {
        for isa in Isa::available() {
            let got = case.hash(isa);
            checks += 1;
            if got != case.expected {
                failures += 1;
                hprintln!(
                    "FAIL {} on {}: {:#018x}, pinned {:#018x}",
                    case.name,
                    isa.name(),
                    got,
                    case.expected
                );
            }
        }
    }
    hprintln!(
        "{}: {} of {} golden checks passed",
        TARGET,
        checks - failures,
        checks
    );
    let mut over = 0;
    for isa in Isa::available() {
        over += stack_use::report(isa);
    }
    failures += over;
    if failures == 0 {
        hprintln!(
            "{}: {} golden checks passed, every loss's stack within its budget",
            TARGET,
            checks
        );
        debug::exit(debug::EXIT_SUCCESS);
    } else {
        hprintln!("{}: {} of {} checks FAILED", TARGET, failures, checks);
        debug::exit(debug::EXIT_FAILURE);
    }
    loop {}
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("{}: panic: {}", TARGET, info);
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}
