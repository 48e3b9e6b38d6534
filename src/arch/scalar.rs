//! The scalar backend: one plain `f32` per register, 64 registers a chunk.
//! Always compiled; the reference every other path must match bit for bit.

use crate::simd::{Lanes, VIRTUAL_LANES};

/// Plain `f32` lanes. Available on every target.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scalar;

impl Lanes for Scalar {
    type V = f32;
    type M = bool;
    type U = u32;
    type Chunk = [f32; VIRTUAL_LANES];

    const WIDTH: usize = 1;
    const REGS: usize = VIRTUAL_LANES;

    #[inline(always)]
    fn splat_raw(self, x: f32) -> f32 {
        x
    }
    #[inline(always)]
    fn zero_chunk(self) -> Self::Chunk {
        [0.0; VIRTUAL_LANES]
    }
    #[inline(always)]
    unsafe fn load_raw(self, ptr: *const f32) -> f32 {
        // SAFETY: the caller guarantees one readable f32 at ptr.
        unsafe { ptr.read_unaligned() }
    }
    #[inline(always)]
    unsafe fn store_raw(self, ptr: *mut f32, v: f32) {
        // SAFETY: the caller guarantees one writable f32 at ptr.
        unsafe { ptr.write_unaligned(v) }
    }
    #[inline(always)]
    fn add(self, a: f32, b: f32) -> f32 {
        a + b
    }
    #[inline(always)]
    fn sub(self, a: f32, b: f32) -> f32 {
        a - b
    }
    #[inline(always)]
    fn mul(self, a: f32, b: f32) -> f32 {
        a * b
    }
    #[inline(always)]
    fn div(self, a: f32, b: f32) -> f32 {
        a / b
    }
    #[inline(always)]
    fn abs(self, a: f32) -> f32 {
        f32::from_bits(a.to_bits() & 0x7fff_ffff)
    }
    #[inline(always)]
    fn neg(self, a: f32) -> f32 {
        f32::from_bits(a.to_bits() ^ 0x8000_0000)
    }
    #[inline(always)]
    fn lt(self, a: f32, b: f32) -> bool {
        a < b
    }
    #[inline(always)]
    fn le(self, a: f32, b: f32) -> bool {
        a <= b
    }
    #[inline(always)]
    fn gt(self, a: f32, b: f32) -> bool {
        a > b
    }
    #[inline(always)]
    fn ge(self, a: f32, b: f32) -> bool {
        a >= b
    }
    #[inline(always)]
    fn eq(self, a: f32, b: f32) -> bool {
        a == b
    }
    #[inline(always)]
    fn select(self, m: bool, a: f32, b: f32) -> f32 {
        if m { a } else { b }
    }
    #[inline(always)]
    fn any(self, m: bool) -> bool {
        m
    }
    #[inline(always)]
    fn to_bits(self, a: f32) -> u32 {
        a.to_bits()
    }
    #[inline(always)]
    fn from_bits(self, a: u32) -> f32 {
        f32::from_bits(a)
    }
    #[inline(always)]
    fn splat_u_raw(self, x: u32) -> u32 {
        x
    }
    #[inline(always)]
    fn add_u(self, a: u32, b: u32) -> u32 {
        a.wrapping_add(b)
    }
    #[inline(always)]
    fn sub_u(self, a: u32, b: u32) -> u32 {
        a.wrapping_sub(b)
    }
    #[inline(always)]
    fn and_u(self, a: u32, b: u32) -> u32 {
        a & b
    }
    #[inline(always)]
    fn or_u(self, a: u32, b: u32) -> u32 {
        a | b
    }
    #[inline(always)]
    fn shl_u<const SHIFT: u32>(self, a: u32) -> u32 {
        a.wrapping_shl(SHIFT)
    }
    #[inline(always)]
    fn load_partial(self, src: &[f32]) -> f32 {
        src.first().copied().unwrap_or(0.0)
    }
    #[inline(always)]
    fn store_partial(self, dst: &mut [f32], v: f32) {
        if let Some(d) = dst.first_mut() {
            *d = v;
        }
    }
    #[inline(always)]
    fn lookup16_u(self, table: &[u32; 16], index: u32) -> u32 {
        table[(index & 15) as usize]
    }
    #[inline(always)]
    fn shr_u<const SHIFT: u32>(self, a: u32) -> u32 {
        a.wrapping_shr(SHIFT)
    }
}
