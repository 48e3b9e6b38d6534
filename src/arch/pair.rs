//! Two registers of any backend as one: `Pair<L, R>` runs every operation
//! of `L` on two registers side by side, so a kernel's per-lane math
//! (dozens of dependent operations for `exp` or `ln`) becomes two
//! independent chains, interleaved instruction by instruction. An
//! out-of-order core whose scheduler holds a few dozen operations then
//! always finds one ready: the transcendental kernels were bound by the
//! latency of a single chain, not by the number of operations
//! (`llvm-mca-19 -mcpu=znver4`: 1.3 instructions per cycle on one chain).
//!
//! The bits are those of `L`: lane `j` of the pair is lane `j` of the first
//! register for `j < L::WIDTH` and lane `j − L::WIDTH` of the second, the
//! two registers are consecutive in memory, and `R` pairs make the same
//! 64-lane chunk as `2R` registers of `L`. The canonical fold (pair lane
//! `v` with `v + 32`, then `v + 16`, …) is the same tree either way.

use crate::simd::{Lanes, VIRTUAL_LANES};

/// Two registers of `L` as one; `R` pairs a chunk (`2·R·L::WIDTH == 64`).
#[derive(Clone, Copy, Debug)]
pub struct Pair<L: Lanes, const R: usize>(L);

impl<L: Lanes, const R: usize> Pair<L, R> {
    /// Pairs the registers of `l`. `R` must make one 64-lane chunk
    /// (checked at compile time).
    #[inline(always)]
    pub fn new(l: L) -> Self {
        const { assert!(2 * R * L::WIDTH == VIRTUAL_LANES) };
        Self(l)
    }
}

/// A lane-wise operation of `L` on both registers.
macro_rules! both {
    ($self:ident . $op:ident ($($arg:ident),*)) => {
        [
            $self.0.$op($($arg[0]),*),
            $self.0.$op($($arg[1]),*),
        ]
    };
}

impl<L: Lanes, const R: usize> Lanes for Pair<L, R> {
    type V = [L::V; 2];
    type M = [L::M; 2];
    type U = [L::U; 2];
    type Chunk = [[L::V; 2]; R];

    const WIDTH: usize = 2 * L::WIDTH;
    const REGS: usize = R;

    #[inline(always)]
    fn splat_raw(self, x: f32) -> Self::V {
        let v = self.0.splat_raw(x);
        [v, v]
    }
    #[inline(always)]
    fn zero_chunk(self) -> Self::Chunk {
        [self.splat_raw(0.0); R]
    }
    #[inline(always)]
    unsafe fn load_raw(self, ptr: *const f32) -> Self::V {
        // SAFETY: the caller guarantees WIDTH = 2·L::WIDTH readable f32 at
        // ptr: L::WIDTH at ptr and L::WIDTH more right after.
        unsafe { [self.0.load_raw(ptr), self.0.load_raw(ptr.add(L::WIDTH))] }
    }
    #[inline(always)]
    unsafe fn store_raw(self, ptr: *mut f32, v: Self::V) {
        // SAFETY: the caller guarantees WIDTH = 2·L::WIDTH writable f32 at
        // ptr: L::WIDTH at ptr and L::WIDTH more right after.
        unsafe {
            self.0.store_raw(ptr, v[0]);
            self.0.store_raw(ptr.add(L::WIDTH), v[1]);
        }
    }
    #[inline(always)]
    fn add(self, a: Self::V, b: Self::V) -> Self::V {
        both!(self.add(a, b))
    }
    #[inline(always)]
    fn sub(self, a: Self::V, b: Self::V) -> Self::V {
        both!(self.sub(a, b))
    }
    #[inline(always)]
    fn mul(self, a: Self::V, b: Self::V) -> Self::V {
        both!(self.mul(a, b))
    }
    #[inline(always)]
    fn div(self, a: Self::V, b: Self::V) -> Self::V {
        both!(self.div(a, b))
    }
    #[inline(always)]
    fn abs(self, a: Self::V) -> Self::V {
        both!(self.abs(a))
    }
    #[inline(always)]
    fn neg(self, a: Self::V) -> Self::V {
        both!(self.neg(a))
    }
    #[inline(always)]
    fn lt(self, a: Self::V, b: Self::V) -> Self::M {
        both!(self.lt(a, b))
    }
    #[inline(always)]
    fn le(self, a: Self::V, b: Self::V) -> Self::M {
        both!(self.le(a, b))
    }
    #[inline(always)]
    fn gt(self, a: Self::V, b: Self::V) -> Self::M {
        both!(self.gt(a, b))
    }
    #[inline(always)]
    fn ge(self, a: Self::V, b: Self::V) -> Self::M {
        both!(self.ge(a, b))
    }
    #[inline(always)]
    fn eq(self, a: Self::V, b: Self::V) -> Self::M {
        both!(self.eq(a, b))
    }
    #[inline(always)]
    fn select(self, m: Self::M, a: Self::V, b: Self::V) -> Self::V {
        both!(self.select(m, a, b))
    }
    #[inline(always)]
    fn any(self, m: Self::M) -> bool {
        self.0.any(m[0]) | self.0.any(m[1])
    }
    #[inline(always)]
    fn to_bits(self, a: Self::V) -> Self::U {
        both!(self.to_bits(a))
    }
    #[inline(always)]
    fn from_bits(self, a: Self::U) -> Self::V {
        both!(self.from_bits(a))
    }
    #[inline(always)]
    fn splat_u_raw(self, x: u32) -> Self::U {
        let v = self.0.splat_u_raw(x);
        [v, v]
    }
    #[inline(always)]
    fn add_u(self, a: Self::U, b: Self::U) -> Self::U {
        both!(self.add_u(a, b))
    }
    #[inline(always)]
    fn sub_u(self, a: Self::U, b: Self::U) -> Self::U {
        both!(self.sub_u(a, b))
    }
    #[inline(always)]
    fn and_u(self, a: Self::U, b: Self::U) -> Self::U {
        both!(self.and_u(a, b))
    }
    #[inline(always)]
    fn or_u(self, a: Self::U, b: Self::U) -> Self::U {
        both!(self.or_u(a, b))
    }
    #[inline(always)]
    fn load_partial(self, src: &[f32]) -> Self::V {
        let (low, high) = src.split_at(src.len().min(L::WIDTH));
        [self.0.load_partial(low), self.0.load_partial(high)]
    }
    #[inline(always)]
    fn store_partial(self, dst: &mut [f32], v: Self::V) {
        let (low, high) = dst.split_at_mut(dst.len().min(L::WIDTH));
        self.0.store_partial(low, v[0]);
        self.0.store_partial(high, v[1]);
    }
    #[inline(always)]
    fn lookup16_u(self, table: &[u32; 16], index: Self::U) -> Self::U {
        [
            self.0.lookup16_u(table, index[0]),
            self.0.lookup16_u(table, index[1]),
        ]
    }
    #[inline(always)]
    fn shl_u<const SHIFT: u32>(self, a: Self::U) -> Self::U {
        [self.0.shl_u::<SHIFT>(a[0]), self.0.shl_u::<SHIFT>(a[1])]
    }
    #[inline(always)]
    fn shr_u<const SHIFT: u32>(self, a: Self::U) -> Self::U {
        [self.0.shr_u::<SHIFT>(a[0]), self.0.shr_u::<SHIFT>(a[1])]
    }
}
