//! The `wide` backend: compile-time baseline vectors (`wide::f32x4`), 16
//! registers a chunk. SSE2 on x86-64, NEON on aarch64, simd128 on wasm32,
//! plain arrays elsewhere (32-bit ARM included); chosen when `wide` itself
//! is compiled, so it is never a run-time-dispatched path (DESIGN.md §1).
//! Where it is plain arrays, `Isa::Wide` runs the scalar backend instead
//! (`dispatch::run_wide`): the same bits, one copy of each kernel.

use crate::simd::{Lanes, VIRTUAL_LANES};
use wide::{f32x4, u32x4};

/// `wide::f32x4` lanes. Available on every target.
#[derive(Clone, Copy, Debug, Default)]
pub struct Wide;

const REGS: usize = VIRTUAL_LANES / 4;

impl Lanes for Wide {
    type V = f32x4;
    type M = f32x4;
    type U = u32x4;
    type Chunk = [f32x4; REGS];

    const WIDTH: usize = 4;
    const REGS: usize = REGS;

    #[inline(always)]
    fn splat_raw(self, x: f32) -> f32x4 {
        f32x4::splat(x)
    }
    #[inline(always)]
    fn zero_chunk(self) -> Self::Chunk {
        [f32x4::splat(0.0); REGS]
    }
    #[inline(always)]
    unsafe fn load_raw(self, ptr: *const f32) -> f32x4 {
        // SAFETY: the caller guarantees 4 readable f32 at ptr; f32x4 is
        // plain data (Pod) and read_unaligned needs no alignment.
        unsafe { ptr.cast::<f32x4>().read_unaligned() }
    }
    #[inline(always)]
    unsafe fn store_raw(self, ptr: *mut f32, v: f32x4) {
        // SAFETY: the caller guarantees 4 writable f32 at ptr.
        unsafe { ptr.cast::<f32x4>().write_unaligned(v) }
    }
    #[inline(always)]
    fn add(self, a: f32x4, b: f32x4) -> f32x4 {
        a + b
    }
    #[inline(always)]
    fn sub(self, a: f32x4, b: f32x4) -> f32x4 {
        a - b
    }
    #[inline(always)]
    fn mul(self, a: f32x4, b: f32x4) -> f32x4 {
        a * b
    }
    #[inline(always)]
    fn div(self, a: f32x4, b: f32x4) -> f32x4 {
        a / b
    }
    #[inline(always)]
    fn abs(self, a: f32x4) -> f32x4 {
        f32x4::from_bits(a.to_bits() & u32x4::splat(0x7fff_ffff))
    }
    #[inline(always)]
    fn neg(self, a: f32x4) -> f32x4 {
        f32x4::from_bits(a.to_bits() ^ u32x4::splat(0x8000_0000))
    }
    #[inline(always)]
    fn lt(self, a: f32x4, b: f32x4) -> f32x4 {
        a.simd_lt(b)
    }
    #[inline(always)]
    fn le(self, a: f32x4, b: f32x4) -> f32x4 {
        a.simd_le(b)
    }
    #[inline(always)]
    fn gt(self, a: f32x4, b: f32x4) -> f32x4 {
        a.simd_gt(b)
    }
    #[inline(always)]
    fn ge(self, a: f32x4, b: f32x4) -> f32x4 {
        a.simd_ge(b)
    }
    #[inline(always)]
    fn eq(self, a: f32x4, b: f32x4) -> f32x4 {
        a.simd_eq(b)
    }
    #[inline(always)]
    fn select(self, m: f32x4, a: f32x4, b: f32x4) -> f32x4 {
        m.select(a, b)
    }
    #[inline(always)]
    fn any(self, m: f32x4) -> bool {
        m.any()
    }
    #[inline(always)]
    fn to_bits(self, a: f32x4) -> u32x4 {
        a.to_bits()
    }
    #[inline(always)]
    fn from_bits(self, a: u32x4) -> f32x4 {
        f32x4::from_bits(a)
    }
    #[inline(always)]
    fn splat_u_raw(self, x: u32) -> u32x4 {
        u32x4::splat(x)
    }
    #[inline(always)]
    fn add_u(self, a: u32x4, b: u32x4) -> u32x4 {
        a + b
    }
    #[inline(always)]
    fn sub_u(self, a: u32x4, b: u32x4) -> u32x4 {
        a - b
    }
    #[inline(always)]
    fn and_u(self, a: u32x4, b: u32x4) -> u32x4 {
        a & b
    }
    #[inline(always)]
    fn or_u(self, a: u32x4, b: u32x4) -> u32x4 {
        a | b
    }
    #[inline(always)]
    fn shl_u<const SHIFT: u32>(self, a: u32x4) -> u32x4 {
        a << SHIFT
    }
    #[inline(always)]
    fn shr_u<const SHIFT: u32>(self, a: u32x4) -> u32x4 {
        a >> SHIFT
    }
    #[inline(always)]
    fn load_partial(self, src: &[f32]) -> f32x4 {
        let mut lanes = [0.0f32; 4];
        for (d, s) in lanes.iter_mut().zip(src) {
            *d = *s;
        }
        f32x4::from(lanes)
    }
    #[inline(always)]
    fn store_partial(self, dst: &mut [f32], v: f32x4) {
        for (d, s) in dst.iter_mut().zip(v.to_array()) {
            *d = s;
        }
    }
    #[inline(always)]
    fn lookup16_u(self, table: &[u32; 16], index: u32x4) -> u32x4 {
        u32x4::from(index.to_array().map(|i| table[(i & 15) as usize]))
    }
}
