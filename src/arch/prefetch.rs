//! A cache hint: fetch the lines of a slice before they are needed. It
//! changes no result, only when memory is read; a no-op (compiled to
//! nothing) where the target has no such hint, and under miri.

/// Arrays of at least this many f32 (4 MiB, more than an L2 cache) are
/// worth hints; smaller ones are in cache and the hints only cost (a
/// probe's alternating runs: `[1, 21, 4096]` softmax 0.87 → 0.93 ns per
/// logit with them, within this machine's noise).
const WORTH_FROM: usize = 1 << 20;

/// Hints `len` elements at `start + k·stride` for each of `planes` planes
/// of a large class-major array (`[N, C, S]`: the next tile of each class
/// plane, `stride = S`). A map's `C` planes are `C` streams, more than
/// the hardware prefetcher follows; one plane, or an array that fits in
/// cache, gets no hint.
#[inline(always)]
pub(crate) fn planes(data: &[f32], start: usize, stride: usize, planes: usize, len: usize) {
    if planes < 2 || data.len() < WORTH_FROM {
        return;
    }
    for k in 0..planes {
        prefetch(data, start + k * stride, len);
    }
}

/// Asks the CPU to bring `data[at..at + len]` (clipped to the slice) into
/// the cache, one hint per 64-byte line: for kernels that walk many
/// streams at once (a class-major map's class planes), more than the
/// hardware prefetcher follows.
#[cfg(all(target_arch = "x86_64", target_feature = "sse", not(miri)))]
#[inline(always)]
pub(crate) fn prefetch(data: &[f32], at: usize, len: usize) {
    /// f32 per 64-byte cache line.
    const LINE: usize = 16;
    let Some(lines) = data.get(at..at.saturating_add(len).min(data.len())) else {
        return;
    };
    for x in lines.iter().step_by(LINE) {
        hint(x);
    }
}

/// No hint on this target.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse", not(miri))))]
#[inline(always)]
pub(crate) fn prefetch(_: &[f32], _: usize, _: usize) {}

/// One line, for reading (kept in every cache level).
#[cfg(all(target_arch = "x86_64", target_feature = "sse", not(miri)))]
#[inline(always)]
#[allow(unused_unsafe)] // a safe intrinsic in newer Rust
fn hint(x: &f32) {
    // SAFETY: `x` is a valid reference, and a prefetch neither faults nor
    // changes memory or registers the program can see.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
            core::ptr::from_ref(x).cast::<i8>(),
        );
    }
}
