//! Registers in and out of slices without panics, and lane masks of a
//! 64-element chunk.

use crate::kernel::pointwise::LANE_INDEX;
use crate::simd::{F32s, Lanes, VIRTUAL_LANES};

/// `1.0` in the lanes of register `reg` below `n_valid`, else `0.0`.
#[inline(always)]
pub(super) fn lane_valid<L: Lanes>(l: L, reg: usize, n_valid: usize) -> F32s<L> {
    #[allow(clippy::cast_precision_loss)] // n_valid <= 64
    let limit = n_valid as f32;
    lane_index(l, reg).lt(limit).select(1.0, 0.0)
}

/// The index of each lane of register `reg` within its chunk, as f32.
#[inline(always)]
pub(super) fn lane_index<L: Lanes>(l: L, reg: usize) -> F32s<L> {
    let off = (reg * L::WIDTH).min(VIRTUAL_LANES - L::WIDTH);
    // SAFETY: off + WIDTH <= 64 (clamped just above) and LANE_INDEX holds
    // 64 f32.
    unsafe { l.load(LANE_INDEX.as_ptr().add(off)) }
}

/// `WIDTH` lanes of `src` from `off` (zeros if that would overrun: never
/// at the call sites, which stay inside their 64-element chunks).
#[inline(always)]
pub(super) fn load_at<L: Lanes>(l: L, src: &[f32], off: usize) -> F32s<L> {
    match src.get(off..off + L::WIDTH) {
        // SAFETY: the slice has WIDTH readable f32.
        Some(s) => unsafe { l.load(s.as_ptr()) },
        None => l.splat(0.0),
    }
}

/// `WIDTH` lanes of `v` into `dst` from `off` (nothing if that would
/// overrun), overwriting or adding to what is there.
#[inline(always)]
pub(super) fn store_at<L: Lanes>(l: L, dst: &mut [f32], off: usize, v: F32s<L>, accumulate: bool) {
    if let Some(d) = dst.get_mut(off..off + L::WIDTH) {
        let ptr = d.as_mut_ptr();
        // SAFETY: the slice has WIDTH readable and writable f32.
        unsafe {
            let v = if accumulate { l.load(ptr) + v } else { v };
            l.store(ptr, v);
        }
    }
}

/// `WIDTH` lanes of `src` from `off`, without a bounds check.
///
/// # Safety
/// `off + L::WIDTH <= src.len()`.
#[inline(always)]
pub(super) unsafe fn load_unchecked<L: Lanes>(l: L, src: &[f32], off: usize) -> F32s<L> {
    // SAFETY: the caller guarantees WIDTH readable f32 at src[off..].
    unsafe { l.load(src.as_ptr().add(off)) }
}

/// Writes (or adds) `WIDTH` lanes of `v` into `dst` from `off`, without a
/// bounds check.
///
/// # Safety
/// `off + L::WIDTH <= dst.len()`.
#[inline(always)]
pub(super) unsafe fn store_unchecked<L: Lanes>(
    l: L,
    dst: &mut [f32],
    off: usize,
    v: F32s<L>,
    accumulate: bool,
) {
    // SAFETY: the caller guarantees WIDTH readable and writable f32 at
    // dst[off..].
    unsafe {
        let ptr = dst.as_mut_ptr().add(off);
        let v = if accumulate { l.load(ptr) + v } else { v };
        l.store(ptr, v);
    }
}
