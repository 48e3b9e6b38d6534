//! The run-time-dispatched backends, one generic impl over `S: pulp::Simd`:
//! AVX2+FMA (`pulp::x86::V3`, 8 lanes, 8 registers a chunk), AVX-512
//! (`pulp::x86::V4`, 16 lanes, 4 registers) and NEON (`pulp::aarch64::Neon`,
//! 4 lanes, 16 registers).
//!
//! Only pulp's exact lane-wise operations are used: no `mul_add_f32s`
//! (fused, so bits would differ from the scalar path), no `reduce_sum_f32s`
//! (its order differs per backend), no min/max.

use crate::simd::{Lanes, VIRTUAL_LANES};
use pulp::Simd;

/// `S::f32s` lanes, `R` registers a chunk (`R * S::F32_LANES == 64`).
///
/// Holding one proves the CPU has `S`'s features (pulp tokens are only
/// built after detection, in `dispatch`).
#[derive(Clone, Copy, Debug)]
pub struct PulpLanes<S: Simd, const R: usize>(S);

impl<S: Simd, const R: usize> PulpLanes<S, R> {
    /// Wraps a pulp token. `R` must make one 64-lane chunk (checked at
    /// compile time).
    #[inline(always)]
    pub fn new(simd: S) -> Self {
        const { assert!(R * S::F32_LANES == VIRTUAL_LANES) };
        // `load` / `store` move size_of::<S::f32s>() bytes for WIDTH lanes.
        const { assert!(core::mem::size_of::<S::f32s>() == S::F32_LANES * 4) };
        Self(simd)
    }
}

impl<S: Simd, const R: usize> Lanes for PulpLanes<S, R> {
    type V = S::f32s;
    type M = S::m32s;
    type U = S::u32s;
    type Chunk = [S::f32s; R];

    const WIDTH: usize = S::F32_LANES;
    const REGS: usize = R;

    #[inline(always)]
    fn splat_raw(self, x: f32) -> S::f32s {
        self.0.splat_f32s(x)
    }
    #[inline(always)]
    fn zero_chunk(self) -> Self::Chunk {
        [self.0.splat_f32s(0.0); R]
    }
    #[inline(always)]
    unsafe fn load_raw(self, ptr: *const f32) -> S::f32s {
        // SAFETY: the caller guarantees WIDTH readable f32 at ptr, which is
        // size_of::<S::f32s>() bytes (asserted in `new`, the only way to get
        // a PulpLanes); S::f32s is Pod, so any bits are valid.
        unsafe { ptr.cast::<S::f32s>().read_unaligned() }
    }
    #[inline(always)]
    unsafe fn store_raw(self, ptr: *mut f32, v: S::f32s) {
        // SAFETY: the caller guarantees WIDTH writable f32 at ptr, which is
        // size_of::<S::f32s>() bytes (asserted in `new`).
        unsafe { ptr.cast::<S::f32s>().write_unaligned(v) }
    }
    #[inline(always)]
    fn add(self, a: S::f32s, b: S::f32s) -> S::f32s {
        self.0.add_f32s(a, b)
    }
    #[inline(always)]
    fn sub(self, a: S::f32s, b: S::f32s) -> S::f32s {
        self.0.sub_f32s(a, b)
    }
    #[inline(always)]
    fn mul(self, a: S::f32s, b: S::f32s) -> S::f32s {
        self.0.mul_f32s(a, b)
    }
    #[inline(always)]
    fn div(self, a: S::f32s, b: S::f32s) -> S::f32s {
        self.0.div_f32s(a, b)
    }
    #[inline(always)]
    fn abs(self, a: S::f32s) -> S::f32s {
        let bits = self.0.and_u32s(
            self.0.transmute_u32s_f32s(a),
            self.0.splat_u32s(0x7fff_ffff),
        );
        self.0.transmute_f32s_u32s(bits)
    }
    #[inline(always)]
    fn neg(self, a: S::f32s) -> S::f32s {
        let bits = self.0.xor_u32s(
            self.0.transmute_u32s_f32s(a),
            self.0.splat_u32s(0x8000_0000),
        );
        self.0.transmute_f32s_u32s(bits)
    }
    #[inline(always)]
    fn lt(self, a: S::f32s, b: S::f32s) -> S::m32s {
        self.0.less_than_f32s(a, b)
    }
    #[inline(always)]
    fn le(self, a: S::f32s, b: S::f32s) -> S::m32s {
        self.0.less_than_or_equal_f32s(a, b)
    }
    #[inline(always)]
    fn gt(self, a: S::f32s, b: S::f32s) -> S::m32s {
        self.0.greater_than_f32s(a, b)
    }
    #[inline(always)]
    fn ge(self, a: S::f32s, b: S::f32s) -> S::m32s {
        self.0.greater_than_or_equal_f32s(a, b)
    }
    #[inline(always)]
    fn eq(self, a: S::f32s, b: S::f32s) -> S::m32s {
        self.0.equal_f32s(a, b)
    }
    #[inline(always)]
    fn select(self, m: S::m32s, a: S::f32s, b: S::f32s) -> S::f32s {
        self.0.select_f32s(m, a, b)
    }
    #[inline(always)]
    fn to_bits(self, a: S::f32s) -> S::u32s {
        self.0.transmute_u32s_f32s(a)
    }
    #[inline(always)]
    fn from_bits(self, a: S::u32s) -> S::f32s {
        self.0.transmute_f32s_u32s(a)
    }
    #[inline(always)]
    fn splat_u_raw(self, x: u32) -> S::u32s {
        self.0.splat_u32s(x)
    }
    #[inline(always)]
    fn add_u(self, a: S::u32s, b: S::u32s) -> S::u32s {
        self.0.add_u32s(a, b)
    }
    #[inline(always)]
    fn sub_u(self, a: S::u32s, b: S::u32s) -> S::u32s {
        self.0.sub_u32s(a, b)
    }
    #[inline(always)]
    fn and_u(self, a: S::u32s, b: S::u32s) -> S::u32s {
        self.0.and_u32s(a, b)
    }
    #[inline(always)]
    fn or_u(self, a: S::u32s, b: S::u32s) -> S::u32s {
        self.0.or_u32s(a, b)
    }
    #[inline(always)]
    fn shl_u<const SHIFT: u32>(self, a: S::u32s) -> S::u32s {
        self.0.wrapping_dyn_shl_u32s(a, self.0.splat_u32s(SHIFT))
    }
    #[inline(always)]
    fn shr_u<const SHIFT: u32>(self, a: S::u32s) -> S::u32s {
        self.0.wrapping_dyn_shr_u32s(a, self.0.splat_u32s(SHIFT))
    }
}
