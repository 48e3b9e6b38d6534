//! From C pointers and counts to Rust slices: every check that makes
//! `slice::from_raw_parts` sound (not NULL, aligned, a size that fits
//! `isize` and does not wrap) and the overlap check between the buffers a
//! call reads and the one it writes.

use core::ffi::CStr;
use core::mem::{align_of, size_of};

use crate::status::{simdloss_status, Failure};

/// A byte range `[start, end)` of memory a call reads.
#[derive(Clone, Copy, Debug)]
struct Range {
    start: usize,
    end: usize,
}

impl Range {
    const fn overlaps(self, other: Range) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// The buffers a call reads (input, target, weights), so that the buffer
/// it writes can be checked against each. At most this many are read.
const MAX_READS: usize = 4;

/// The buffers of one call: those it reads, and the one it writes.
#[derive(Debug)]
pub(crate) struct Reads {
    ranges: [Range; MAX_READS],
    count: usize,
    written: Option<Range>,
}

impl Reads {
    pub(crate) const fn new() -> Self {
        Self {
            ranges: [Range { start: 0, end: 0 }; MAX_READS],
            count: 0,
            written: None,
        }
    }

    /// Whether `range` shares a byte with a buffer read or written.
    fn overlaps(&self, range: Range) -> bool {
        let reads = self.ranges.get(..self.count).unwrap_or(&[]);
        reads
            .iter()
            .chain(self.written.as_ref())
            .any(|other| other.overlaps(range))
    }

    /// `len` elements of `T` at `ptr`, checked and recorded, as a slice.
    ///
    /// # Errors
    /// `SIMDLOSS_ERROR_NULL_POINTER`, `_MISALIGNED_POINTER`, or
    /// `_INVALID_SHAPE` (a byte size over `isize::MAX`, or wrapping), each
    /// naming `argument`.
    ///
    /// # Safety
    /// If `ptr` is not NULL and the checks pass, it must point to `len`
    /// initialized elements that stay unchanged for `'a`.
    pub(crate) unsafe fn read<'a, T>(
        &mut self,
        argument: &'static CStr,
        ptr: *const T,
        len: usize,
    ) -> Result<&'a [T], Failure> {
        let range = check::<T>(argument, ptr, len)?;
        // A call reads at most MAX_READS buffers. One more would be a bug
        // in this crate: it is refused (every valid call in
        // tests/errors.c would fail), never left out of the overlap check.
        let Some(slot) = self.ranges.get_mut(self.count) else {
            return Err(Failure::new(
                simdloss_status::SIMDLOSS_ERROR_INVALID_PARAMETER,
                argument,
            ));
        };
        *slot = range;
        self.count += 1;
        // SAFETY: `check` found `ptr` not NULL, aligned for `T`, and
        // `len · size_of::<T>()` bytes within `isize::MAX` without wrapping;
        // the caller promises they hold `len` initialized `T`s.
        Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
    }

    /// `len` elements of `f32` at `ptr`, the buffer the call writes: checked
    /// like [`Reads::read`] and against every buffer read so far.
    ///
    /// # Errors
    /// As [`Reads::read`], and `SIMDLOSS_ERROR_OVERLAP` naming `argument`
    /// if it shares a byte with a buffer read.
    ///
    /// # Safety
    /// If `ptr` is not NULL and the checks pass, it must point to `len`
    /// initialized `f32`s that nothing else accesses for `'a`.
    pub(crate) unsafe fn write<'a>(
        &mut self,
        argument: &'static CStr,
        ptr: *mut f32,
        len: usize,
    ) -> Result<&'a mut [f32], Failure> {
        let range = check::<f32>(argument, ptr, len)?;
        if self.overlaps(range) {
            return Err(Failure::new(
                simdloss_status::SIMDLOSS_ERROR_OVERLAP,
                argument,
            ));
        }
        self.written = Some(range);
        // SAFETY: as in `read`, and no buffer this call reads shares a byte
        // with it; the caller promises nothing else accesses it.
        Ok(unsafe { core::slice::from_raw_parts_mut(ptr, len) })
    }
}

/// The checks `from_raw_parts` needs, and the byte range.
fn check<T>(argument: &'static CStr, ptr: *const T, len: usize) -> Result<Range, Failure> {
    if ptr.is_null() {
        return Err(Failure::new(
            simdloss_status::SIMDLOSS_ERROR_NULL_POINTER,
            argument,
        ));
    }
    let start = ptr as usize;
    if !start.is_multiple_of(align_of::<T>()) {
        return Err(Failure::new(
            simdloss_status::SIMDLOSS_ERROR_MISALIGNED_POINTER,
            argument,
        ));
    }
    let end = len
        .checked_mul(size_of::<T>())
        .filter(|&bytes| isize::try_from(bytes).is_ok())
        .and_then(|bytes| start.checked_add(bytes))
        .ok_or(Failure::new(
            simdloss_status::SIMDLOSS_ERROR_INVALID_SHAPE,
            argument,
        ))?;
    Ok(Range { start, end })
}

impl Reads {
    /// A required output scalar (`*loss`), written after the call: checked
    /// for NULL and alignment, and refused if it shares a byte with a
    /// buffer read or written (it would overwrite an input or an output
    /// element, which can only be a mistake).
    ///
    /// # Errors
    /// `SIMDLOSS_ERROR_NULL_POINTER`, `_MISALIGNED_POINTER` or `_OVERLAP`
    /// naming `argument`.
    pub(crate) fn scalar_out(&self, argument: &'static CStr, ptr: *mut f32) -> Result<(), Failure> {
        let range = check::<f32>(argument, ptr, 1)?;
        if self.overlaps(range) {
            return Err(Failure::new(
                simdloss_status::SIMDLOSS_ERROR_OVERLAP,
                argument,
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_is_any_shared_byte() {
        let data = [0.0f32; 8];
        let mut out = [0.0f32; 8];
        let mut reads = Reads::new();
        // SAFETY: `data` holds 8 floats.
        let _ = unsafe { reads.read(cstr!("input"), data.as_ptr(), 8) }.unwrap();
        // SAFETY: `out` holds 8 floats; nothing else touches it.
        assert!(unsafe { reads.write(cstr!("out"), out.as_mut_ptr(), 8) }.is_ok());
        let mut loss = 0.0f32;
        assert!(reads.scalar_out(cstr!("loss"), &raw mut loss).is_ok());
        let inside = out.as_mut_ptr().wrapping_add(3);
        let err = reads.scalar_out(cstr!("loss"), inside).unwrap_err();
        assert_eq!(err.status, simdloss_status::SIMDLOSS_ERROR_OVERLAP);
        let alias = data.as_ptr().cast_mut();
        // SAFETY: the call must refuse before making a slice.
        let err = unsafe { reads.write(cstr!("out"), alias.wrapping_add(7), 1) }.unwrap_err();
        assert_eq!(err.status, simdloss_status::SIMDLOSS_ERROR_OVERLAP);
        // One past the end touches nothing.
        // SAFETY: refused or a 0-element slice, never read.
        let adjacent = unsafe { reads.write(cstr!("out"), alias.wrapping_add(8), 0) };
        assert!(adjacent.is_ok());
    }

    #[test]
    fn sizes_that_overflow_are_refused() {
        let data = [0.0f32; 1];
        let mut reads = Reads::new();
        // SAFETY: refused before any slice is made.
        let err = unsafe { reads.read(cstr!("input"), data.as_ptr(), usize::MAX / 2) }.unwrap_err();
        assert_eq!(err.status, simdloss_status::SIMDLOSS_ERROR_INVALID_SHAPE);
        let misaligned = data.as_ptr().cast::<u8>().wrapping_add(1).cast::<f32>();
        // SAFETY: refused before any slice is made.
        let err = unsafe { reads.read(cstr!("input"), misaligned, 1) }.unwrap_err();
        assert_eq!(
            err.status,
            simdloss_status::SIMDLOSS_ERROR_MISALIGNED_POINTER
        );
    }
}
