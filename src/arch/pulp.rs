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
    fn any(self, m: S::m32s) -> bool {
        // The index of the first set lane, WIDTH (or more) when none is.
        self.0.first_true_m32s(m) < S::F32_LANES
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
    #[inline(always)]
    fn load_partial(self, src: &[f32]) -> S::f32s {
        let src = src.get(..S::F32_LANES).unwrap_or(src);
        if cfg!(miri) {
            // Miri cannot run pulp's partial loads (inline asm on AVX2):
            // the same lanes through a copy.
            let mut buf = [0.0f32; VIRTUAL_LANES];
            for (d, s) in buf.iter_mut().zip(src) {
                *d = *s;
            }
            // SAFETY: `buf` holds 64 >= WIDTH readable f32.
            return unsafe { self.load_raw(buf.as_ptr()) };
        }
        // At most WIDTH elements: pulp's mask counts lanes in a u32.
        self.0.partial_load_f32s(src)
    }
    #[inline(always)]
    fn store_partial(self, dst: &mut [f32], v: S::f32s) {
        let n = dst.len().min(S::F32_LANES);
        let Some(dst) = dst.get_mut(..n) else {
            return;
        };
        if cfg!(miri) {
            let mut buf = [0.0f32; VIRTUAL_LANES];
            // SAFETY: `buf` holds 64 >= WIDTH writable f32.
            unsafe { self.store_raw(buf.as_mut_ptr(), v) };
            for (d, s) in dst.iter_mut().zip(buf) {
                *d = s;
            }
            return;
        }
        self.0.partial_store_f32s(dst, v);
    }
    #[inline(always)]
    fn lookup16_u(self, table: &[u32; 16], index: S::u32s) -> S::u32s {
        lookup16::<S>(table, index)
    }
}

/// `table[index_i & 15]` per lane. pulp has no table lookup, so the three
/// tokens the crate builds are recognised by type and given their ISA's
/// permute; any other token (none today) gets a loop over the lanes. The
/// intrinsics are sound to call because a `PulpLanes<S, _>` exists only
/// once `S`'s features were detected (see [`PulpLanes`]); they are
/// inlined into pulp's `vectorize`, which enables those features.
#[inline(always)]
fn lookup16<S: Simd>(table: &[u32; 16], index: S::u32s) -> S::u32s {
    use core::any::TypeId;
    use core::mem::transmute_copy;
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{
            __m256i, __m512i, _mm256_blendv_ps, _mm256_castps_si256, _mm256_castsi256_ps,
            _mm256_loadu_si256, _mm256_permutevar8x32_epi32, _mm256_slli_epi32, _mm512_loadu_si512,
            _mm512_permutexvar_epi32,
        };
        if TypeId::of::<S>() == TypeId::of::<pulp::x86::V4>()
            && size_of::<S::u32s>() == size_of::<__m512i>()
        {
            // SAFETY: S is V4, whose u32s is 64 bytes of u32 lanes (any bit
            // pattern valid, sizes checked above), and holding a V4 token proves
            // AVX-512F; `table` is 64 readable bytes.
            unsafe {
                let idx: __m512i = transmute_copy(&index);
                let tab = _mm512_loadu_si512(table.as_ptr().cast());
                return transmute_copy(&_mm512_permutexvar_epi32(idx, tab));
            }
        }
        if TypeId::of::<S>() == TypeId::of::<pulp::x86::V3>()
            && size_of::<S::u32s>() == size_of::<__m256i>()
        {
            // SAFETY: S is V3, whose u32s is 32 bytes of u32 lanes (sizes
            // checked above), and holding a V3 token proves AVX2; `table` is two
            // 32-byte halves. The permutes use the low 3 index bits; bit 3,
            // shifted to the sign, picks the half.
            unsafe {
                let idx: __m256i = transmute_copy(&index);
                let low = _mm256_loadu_si256(table.as_ptr().cast());
                let high = _mm256_loadu_si256(table.as_ptr().add(8).cast());
                let a = _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(low, idx));
                let b = _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(high, idx));
                let pick_high = _mm256_castsi256_ps(_mm256_slli_epi32::<28>(idx));
                return transmute_copy(&_mm256_castps_si256(_mm256_blendv_ps(a, b, pick_high)));
            }
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        use core::arch::aarch64::{
            uint8x16x4_t, uint32x4_t, vaddq_u32, vandq_u32, vdupq_n_u32, vld1q_u8_x4, vmulq_u32,
            vqtbl4q_u8, vreinterpretq_u8_u32, vreinterpretq_u32_u8, vshlq_n_u32,
        };
        if TypeId::of::<S>() == TypeId::of::<pulp::aarch64::Neon>()
            && size_of::<S::u32s>() == size_of::<uint32x4_t>()
        {
            // SAFETY: S is Neon, whose u32s is 16 bytes of u32 lanes (sizes
            // checked above), and holding a Neon token proves NEON; `table` is
            // 64 readable bytes. Lane i reads bytes 4j..4j+3 of the table,
            // j = index_i & 15 (little-endian lanes).
            unsafe {
                let idx: uint32x4_t = transmute_copy(&index);
                let j4 = vshlq_n_u32::<2>(vandq_u32(idx, vdupq_n_u32(15)));
                let bytes = vaddq_u32(
                    vmulq_u32(j4, vdupq_n_u32(0x0101_0101)),
                    vdupq_n_u32(0x0302_0100),
                );
                let tab: uint8x16x4_t = vld1q_u8_x4(table.as_ptr().cast());
                let r = vreinterpretq_u32_u8(vqtbl4q_u8(tab, vreinterpretq_u8_u32(bytes)));
                return transmute_copy(&r);
            }
        }
    }
    let mut out = index;
    // SAFETY: pulp's u32s is Pod: S::U32_LANES u32 lanes, no padding.
    let lanes = unsafe {
        core::slice::from_raw_parts_mut((&raw mut out).cast::<u32>(), size_of::<S::u32s>() / 4)
    };
    for lane in lanes {
        *lane = table[(*lane & 15) as usize];
    }
    out
}
