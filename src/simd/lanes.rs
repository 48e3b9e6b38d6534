//! The `Lanes` trait: the one vector abstraction every kernel is written against.
//!
//! A `Lanes` value is a zero-sized token that proves its instruction set is
//! usable; its associated types are the vector registers. Kernels get their
//! vectors from the token (`l.splat(x)`, `l.load(ptr)`) as [`F32s`], whose
//! operators call the methods below, so one kernel source compiles to
//! scalar code, the `wide` baseline, AVX2, AVX-512 and NEON. The required
//! methods are the backend interface: a backend implements them on its raw
//! registers; kernels use the operators of [`F32s`],
//! [`M32s`](super::M32s) and [`U32s`] instead.
//!
//! Every operation here is exact IEEE-754 single precision with the same
//! result on every backend: there is deliberately no fused multiply-add, no
//! reciprocal estimate and no min/max (whose NaN handling differs per ISA).
//! Clamps and branches are written with comparisons and [`Lanes::select`],
//! which keep a NaN input a NaN.

use super::vector::{F32s, U32s};

/// Number of virtual lanes in the canonical accumulation (DESIGN.md §2.3):
/// element `i` of a stream is summed into virtual lane `i % VIRTUAL_LANES`.
pub const VIRTUAL_LANES: usize = 64;

/// A backend's f32 vector type and the operations the kernels need.
///
/// `WIDTH * REGS == VIRTUAL_LANES` for every implementation, so a "chunk" of
/// 64 consecutive elements is always `REGS` registers, whatever the ISA.
pub trait Lanes: Copy {
    /// A register of `WIDTH` f32 lanes.
    type V: Copy;
    /// A lane mask produced by comparisons.
    type M: Copy;
    /// A register of `WIDTH` u32 lanes (bit patterns of `V`).
    type U: Copy;
    /// `REGS` registers: one 64-element chunk (an accumulator, say).
    type Chunk: Copy + AsRef<[Self::V]> + AsMut<[Self::V]>;

    /// f32 lanes per register.
    const WIDTH: usize;
    /// Registers per 64-element chunk.
    const REGS: usize;

    /// All lanes set to `x`.
    #[inline(always)]
    fn splat(self, x: f32) -> F32s<Self> {
        F32s::from_raw(self, self.splat_raw(x))
    }
    /// All u32 lanes set to `x`.
    #[inline(always)]
    fn splat_u(self, x: u32) -> U32s<Self> {
        U32s::from_raw(self, self.splat_u_raw(x))
    }
    /// Reads `WIDTH` consecutive f32 from `ptr` (any alignment).
    ///
    /// # Safety
    /// `ptr .. ptr + WIDTH` must be readable f32.
    #[inline(always)]
    unsafe fn load(self, ptr: *const f32) -> F32s<Self> {
        // SAFETY: forwarded: the caller guarantees WIDTH readable f32.
        F32s::from_raw(self, unsafe { self.load_raw(ptr) })
    }
    /// Writes `WIDTH` consecutive f32 to `ptr` (any alignment).
    ///
    /// # Safety
    /// `ptr .. ptr + WIDTH` must be writable f32.
    #[inline(always)]
    unsafe fn store(self, ptr: *mut f32, v: F32s<Self>) {
        // SAFETY: forwarded: the caller guarantees WIDTH writable f32.
        unsafe { self.store_raw(ptr, v.raw()) }
    }

    /// A chunk of `REGS` registers, every lane `+0.0`.
    fn zero_chunk(self) -> Self::Chunk;

    /// All lanes set to `x` (raw register; kernels use [`Lanes::splat`]).
    fn splat_raw(self, x: f32) -> Self::V;
    /// [`Lanes::load`] on the raw register.
    ///
    /// # Safety
    /// `ptr .. ptr + WIDTH` must be readable f32.
    unsafe fn load_raw(self, ptr: *const f32) -> Self::V;
    /// [`Lanes::store`] of a raw register.
    ///
    /// # Safety
    /// `ptr .. ptr + WIDTH` must be writable f32.
    unsafe fn store_raw(self, ptr: *mut f32, v: Self::V);

    /// `a + b`, rounded once.
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a - b`, rounded once.
    fn sub(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a * b`, rounded once (never fused with a following add).
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a / b`, correctly rounded.
    fn div(self, a: Self::V, b: Self::V) -> Self::V;
    /// `|a|` (clears the sign bit; NaN stays NaN).
    fn abs(self, a: Self::V) -> Self::V;
    /// `-a` (flips the sign bit).
    fn neg(self, a: Self::V) -> Self::V;

    /// Lanes where `a < b` (false where either is NaN).
    fn lt(self, a: Self::V, b: Self::V) -> Self::M;
    /// Lanes where `a <= b` (false where either is NaN).
    fn le(self, a: Self::V, b: Self::V) -> Self::M;
    /// Lanes where `a > b` (false where either is NaN).
    fn gt(self, a: Self::V, b: Self::V) -> Self::M;
    /// Lanes where `a >= b` (false where either is NaN).
    fn ge(self, a: Self::V, b: Self::V) -> Self::M;
    /// Lanes where `a == b` (false where either is NaN).
    fn eq(self, a: Self::V, b: Self::V) -> Self::M;
    /// Lane-wise `if m { a } else { b }`.
    fn select(self, m: Self::M, a: Self::V, b: Self::V) -> Self::V;
    /// Whether any lane of `m` is set: for a branch around work that only
    /// rare lanes need, where both sides give every lane the same bits.
    fn any(self, m: Self::M) -> bool;

    /// The bit patterns of `a`.
    fn to_bits(self, a: Self::V) -> Self::U;
    /// The f32 whose bit patterns are `a`.
    #[allow(clippy::wrong_self_convention)] // `self` is the backend token
    fn from_bits(self, a: Self::U) -> Self::V;
    /// All u32 lanes set to `x` (raw register; kernels use [`Lanes::splat_u`]).
    fn splat_u_raw(self, x: u32) -> Self::U;
    /// Wrapping `a + b` on u32 lanes.
    fn add_u(self, a: Self::U, b: Self::U) -> Self::U;
    /// Wrapping `a - b` on u32 lanes.
    fn sub_u(self, a: Self::U, b: Self::U) -> Self::U;
    /// Bitwise `a & b`.
    fn and_u(self, a: Self::U, b: Self::U) -> Self::U;
    /// Bitwise `a | b`.
    fn or_u(self, a: Self::U, b: Self::U) -> Self::U;
    /// Logical shift left of every lane by `SHIFT` (< 32) bits.
    fn shl_u<const SHIFT: u32>(self, a: Self::U) -> Self::U;
    /// Logical shift right of every lane by `SHIFT` (< 32) bits.
    fn shr_u<const SHIFT: u32>(self, a: Self::U) -> Self::U;
    /// Lane `i` is `table[index_i & 15]`: a 16-entry table lookup (one
    /// permute on AVX-512, two and a blend on AVX2, a byte shuffle on NEON).
    fn lookup16_u(self, table: &[u32; 16], index: Self::U) -> Self::U;

    /// The first `min(src.len(), WIDTH)` f32 of `src` in the low lanes,
    /// `+0.0` in the others, without reading past `src` (a masked load on
    /// AVX2 and AVX-512): a chunk's partial last register without a
    /// padded copy.
    fn load_partial(self, src: &[f32]) -> Self::V;
    /// Writes the low `min(dst.len(), WIDTH)` lanes of `v` to `dst`, and
    /// nothing past it (a masked store on AVX2 and AVX-512).
    fn store_partial(self, dst: &mut [f32], v: Self::V);
}
