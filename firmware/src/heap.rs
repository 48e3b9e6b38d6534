//! The firmware's allocator (the golden cases build their inputs in
//! `Vec`s; `simdloss` itself never allocates): a bump allocator over the
//! 16 MiB of PSRAM that qemu's MPS2 boards map at `0x2100_0000`, which
//! starts over whenever no allocation is live (every case frees what it
//! built before the next one starts, so the space never runs out).

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;

/// The PSRAM of qemu's MPS2 boards (mps2-an385, mps2-an386).
const HEAP_START: usize = 0x2100_0000;
const HEAP_END: usize = HEAP_START + 16 * 1024 * 1024;

struct Bump {
    /// The first free byte.
    next: Cell<usize>,
    /// Allocations not yet freed.
    live: Cell<usize>,
}

// SAFETY: the firmware runs on one core with no interrupt handler that
// allocates, so the cells are never accessed concurrently.
unsafe impl Sync for Bump {}

// SAFETY: every block handed out lies in [HEAP_START, HEAP_END), is
// aligned as asked, and does not overlap a live block (the pointer only
// moves back to the start when no block is live).
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let start = self.next.get().next_multiple_of(layout.align());
        match start.checked_add(layout.size()) {
            Some(end) if end <= HEAP_END => {
                self.next.set(end);
                self.live.set(self.live.get() + 1);
                start as *mut u8
            }
            _ => core::ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {
        let live = self.live.get() - 1;
        self.live.set(live);
        if live == 0 {
            self.next.set(HEAP_START);
        }
    }
}

#[global_allocator]
static HEAP: Bump = Bump {
    next: Cell::new(HEAP_START),
    live: Cell::new(0),
};
