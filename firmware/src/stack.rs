//! Stack high-water marks: paint the unused stack below the caller's
//! frame with a pattern, run a closure, and find the deepest word it
//! overwrote.

/// What the unused stack is painted with.
const PAINT: u32 = 0xC0DE_5AFE;
/// Bytes painted below the stack pointer (more than any case uses: the
/// result is capped at this and would show as a budget failure).
const DEPTH: usize = 96 * 1024;
/// Bytes left unpainted just below the stack pointer (this function's own
/// calls before `f` runs).
const MARGIN: usize = 64;

/// Runs `f` and returns its result and the bytes of stack it used (from
/// this function's stack pointer down to the deepest word written).
#[inline(never)]
pub fn high_water<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let sp = cortex_m::register::msp::read() as usize;
    let top = (sp - MARGIN) & !3;
    let bottom = top - DEPTH;
    for addr in (bottom..top).step_by(4) {
        // SAFETY: [bottom, top) lies below the stack pointer, inside the
        // 4 MiB of RAM whose top the stack starts at (memory.x): memory no
        // live frame, static or heap block uses (the heap is in PSRAM).
        unsafe { (addr as *mut u32).write_volatile(PAINT) };
    }
    let out = core::hint::black_box(f());
    let mut lowest = top;
    for addr in (bottom..top).step_by(4) {
        // SAFETY: as above; the frames that used it have returned.
        if unsafe { (addr as *const u32).read_volatile() } != PAINT {
            lowest = addr;
            break;
        }
    }
    (out, sp - lowest)
}
