//! Vectors with operators: [`F32s`], [`M32s`] and [`U32s`], thin wrappers
//! over a backend's registers that carry its zero-sized [`Lanes`] token, so
//! per-lane math reads like the formula it implements:
//!
//! ```
//! use simdloss::arch::scalar::Scalar;
//! use simdloss::simd::{F32s, Lanes};
//!
//! /// Huber: `½r²` if `|r| ≤ δ` else `δ(|r| − ½δ)`; derivative `clamp(r, −δ, δ)`.
//! fn huber<L: Lanes>(r: F32s<L>, delta: f32) -> (F32s<L>, F32s<L>) {
//!     let a = r.abs();
//!     let value = a.le(delta).select(0.5 * r * r, delta * (a - 0.5 * delta));
//!     (value, r.clamp(-delta, delta))
//! }
//!
//! let (value, deriv) = huber(Scalar.splat(3.0), 1.0);
//! assert_eq!((value.to_array()[0], deriv.to_array()[0]), (2.5, 1.0));
//! ```
//!
//! Every operator is one operation of the backend, rounded once, in the
//! order written: `a * b + c` is a multiply, then an add — two roundings,
//! never a fused multiply-add (Rust never contracts floating-point
//! expressions on its own). An `f32` operand is splatted to every lane
//! first, which is exact. So a kernel written with these operators computes
//! exactly the operations its formula spells out, on every backend, and the
//! generated code is what the backend's methods would give (every function
//! here is `#[inline(always)]` and the token is zero-sized).
//!
//! Comparisons return masks ([`M32s`]) and branches are
//! [`M32s::select`]: a comparison with a NaN is false, so a NaN input stays
//! NaN through the branch that keeps it. There is deliberately no `min` /
//! `max` (their NaN rules differ per ISA): [`F32s::clamp`] is written with
//! comparisons and selects.

use core::ops::{
    Add, AddAssign, BitAnd, BitOr, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign,
};

use super::Lanes;

/// A register of `L::WIDTH` f32 lanes with its backend token.
pub struct F32s<L: Lanes> {
    v: L::V,
    l: L,
}

/// A lane mask, the result of comparing two [`F32s`].
pub struct M32s<L: Lanes> {
    m: L::M,
    l: L,
}

/// A register of `L::WIDTH` u32 lanes (bit patterns of [`F32s`]).
pub struct U32s<L: Lanes> {
    u: L::U,
    l: L,
}

// Manual impls: a derive would demand `L::V: Clone` through `L` only.
impl<L: Lanes> Clone for F32s<L> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<L: Lanes> Copy for F32s<L> {}
impl<L: Lanes> Clone for M32s<L> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<L: Lanes> Copy for M32s<L> {}
impl<L: Lanes> Clone for U32s<L> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<L: Lanes> Copy for U32s<L> {}

/// A value usable where an [`F32s`] is expected: an [`F32s`] itself, or an
/// `f32` that is splatted to every lane (exact).
pub trait Operand<L: Lanes>: Copy {
    /// This value as lanes of `l`'s backend.
    fn to_lanes(self, l: L) -> F32s<L>;
}

impl<L: Lanes> Operand<L> for F32s<L> {
    #[inline(always)]
    fn to_lanes(self, _: L) -> F32s<L> {
        self
    }
}

impl<L: Lanes> Operand<L> for f32 {
    #[inline(always)]
    fn to_lanes(self, l: L) -> F32s<L> {
        l.splat(self)
    }
}

impl<L: Lanes> F32s<L> {
    /// Wraps a backend register.
    #[inline(always)]
    pub fn from_raw(l: L, v: L::V) -> Self {
        Self { v, l }
    }

    /// The backend register.
    #[inline(always)]
    pub fn raw(self) -> L::V {
        self.v
    }

    /// The backend token.
    #[inline(always)]
    pub fn lanes(self) -> L {
        self.l
    }

    /// `x` in every lane, on the same backend as `self`.
    #[inline(always)]
    #[must_use]
    pub fn splat(self, x: f32) -> Self {
        self.l.splat(x)
    }

    /// `|self|` (clears the sign bit; NaN stays NaN).
    #[inline(always)]
    #[must_use]
    pub fn abs(self) -> Self {
        Self::from_raw(self.l, self.l.abs(self.v))
    }

    /// Lanes where `self < rhs` (false where either is NaN).
    #[inline(always)]
    pub fn lt(self, rhs: impl Operand<L>) -> M32s<L> {
        M32s::from_raw(self.l, self.l.lt(self.v, rhs.to_lanes(self.l).v))
    }

    /// Lanes where `self <= rhs` (false where either is NaN).
    #[inline(always)]
    pub fn le(self, rhs: impl Operand<L>) -> M32s<L> {
        M32s::from_raw(self.l, self.l.le(self.v, rhs.to_lanes(self.l).v))
    }

    /// Lanes where `self > rhs` (false where either is NaN).
    #[inline(always)]
    pub fn gt(self, rhs: impl Operand<L>) -> M32s<L> {
        M32s::from_raw(self.l, self.l.gt(self.v, rhs.to_lanes(self.l).v))
    }

    /// Lanes where `self >= rhs` (false where either is NaN).
    #[inline(always)]
    pub fn ge(self, rhs: impl Operand<L>) -> M32s<L> {
        M32s::from_raw(self.l, self.l.ge(self.v, rhs.to_lanes(self.l).v))
    }

    /// Lanes where `self == rhs` (false where either is NaN).
    #[inline(always)]
    pub fn eq(self, rhs: impl Operand<L>) -> M32s<L> {
        M32s::from_raw(self.l, self.l.eq(self.v, rhs.to_lanes(self.l).v))
    }

    /// Lanes that are not NaN (`self == self`).
    #[inline(always)]
    pub fn is_number(self) -> M32s<L> {
        self.eq(self)
    }

    /// `hi` where `self > hi`, else `lo` where `self < lo`, else `self`:
    /// two compares and two selects, so a NaN stays NaN.
    #[inline(always)]
    #[must_use]
    pub fn clamp(self, lo: impl Operand<L>, hi: impl Operand<L>) -> Self {
        let (lo, hi) = (lo.to_lanes(self.l), hi.to_lanes(self.l));
        self.gt(hi).select(hi, self.lt(lo).select(lo, self))
    }

    /// `floor` where `self < floor`, else `self` (a NaN stays NaN): the
    /// clamp from below of PyTorch's `max(ln p, −100)`.
    #[inline(always)]
    #[must_use]
    pub fn at_least(self, floor: impl Operand<L>) -> Self {
        let floor = floor.to_lanes(self.l);
        self.lt(floor).select(floor, self)
    }

    /// The bit patterns of the lanes.
    #[inline(always)]
    pub fn to_bits(self) -> U32s<L> {
        U32s::from_raw(self.l, self.l.to_bits(self.v))
    }

    /// The lanes whose bit patterns are `bits`.
    #[inline(always)]
    pub fn from_bits(bits: U32s<L>) -> Self {
        Self::from_raw(bits.l, bits.l.from_bits(bits.u))
    }

    /// The lanes as an array (first `L::WIDTH` entries; the rest `0.0`).
    /// For tests, examples and once-per-row folds.
    #[inline(always)]
    #[must_use]
    pub fn to_array(self) -> [f32; super::VIRTUAL_LANES] {
        let mut out = [0.0f32; super::VIRTUAL_LANES];
        if L::WIDTH <= super::VIRTUAL_LANES {
            // SAFETY: `out` holds VIRTUAL_LANES f32 and WIDTH <= VIRTUAL_LANES
            // was just checked, so the WIDTH-lane store stays inside it.
            unsafe { self.l.store(out.as_mut_ptr(), self) };
        }
        out
    }
}

impl<L: Lanes> M32s<L> {
    /// Wraps a backend mask.
    #[inline(always)]
    pub fn from_raw(l: L, m: L::M) -> Self {
        Self { m, l }
    }

    /// The backend mask.
    #[inline(always)]
    pub fn raw(self) -> L::M {
        self.m
    }

    /// Whether any lane is set.
    #[inline(always)]
    pub fn any(self) -> bool {
        self.l.any(self.m)
    }

    /// Lane-wise `if self { a } else { b }`.
    #[inline(always)]
    pub fn select(self, a: impl Operand<L>, b: impl Operand<L>) -> F32s<L> {
        let (a, b) = (a.to_lanes(self.l), b.to_lanes(self.l));
        F32s::from_raw(self.l, self.l.select(self.m, a.v, b.v))
    }
}

impl<L: Lanes> U32s<L> {
    /// Wraps a backend register.
    #[inline(always)]
    pub fn from_raw(l: L, u: L::U) -> Self {
        Self { u, l }
    }

    /// The backend register.
    #[inline(always)]
    pub fn raw(self) -> L::U {
        self.u
    }

    /// `x` in every lane, on the same backend as `self`.
    #[inline(always)]
    #[must_use]
    pub fn splat(self, x: u32) -> Self {
        self.l.splat_u(x)
    }

    /// Lane `i` is `table[self_i & 15]` (see [`Lanes::lookup16_u`]).
    #[inline(always)]
    #[must_use]
    pub fn lookup16(self, table: &[u32; 16]) -> Self {
        Self::from_raw(self.l, self.l.lookup16_u(table, self.u))
    }

    /// Logical shift left of every lane by `SHIFT` (< 32) bits.
    #[inline(always)]
    #[must_use]
    pub fn shl<const SHIFT: u32>(self) -> Self {
        Self::from_raw(self.l, self.l.shl_u::<SHIFT>(self.u))
    }

    /// Logical shift right of every lane by `SHIFT` (< 32) bits.
    #[inline(always)]
    #[must_use]
    pub fn shr<const SHIFT: u32>(self) -> Self {
        Self::from_raw(self.l, self.l.shr_u::<SHIFT>(self.u))
    }

    /// The f32 lanes with these bit patterns.
    #[inline(always)]
    pub fn to_f32s(self) -> F32s<L> {
        F32s::from_bits(self)
    }
}

/// `F32s ∘ F32s`, `F32s ∘ f32` and `f32 ∘ F32s` for one binary operator,
/// with its `*Assign` form; each is the backend's one rounded operation.
macro_rules! float_op {
    ($Op:ident, $op:ident, $OpAssign:ident, $op_assign:ident, $raw:ident) => {
        impl<L: Lanes> $Op for F32s<L> {
            type Output = F32s<L>;
            #[inline(always)]
            fn $op(self, rhs: F32s<L>) -> F32s<L> {
                F32s::from_raw(self.l, self.l.$raw(self.v, rhs.v))
            }
        }
        impl<L: Lanes> $Op<f32> for F32s<L> {
            type Output = F32s<L>;
            #[inline(always)]
            fn $op(self, rhs: f32) -> F32s<L> {
                self.$op(self.l.splat(rhs))
            }
        }
        impl<L: Lanes> $Op<F32s<L>> for f32 {
            type Output = F32s<L>;
            #[inline(always)]
            fn $op(self, rhs: F32s<L>) -> F32s<L> {
                rhs.l.splat(self).$op(rhs)
            }
        }
        impl<L: Lanes, R: Operand<L>> $OpAssign<R> for F32s<L> {
            #[inline(always)]
            fn $op_assign(&mut self, rhs: R) {
                *self = self.$op(rhs.to_lanes(self.l));
            }
        }
    };
}

float_op!(Add, add, AddAssign, add_assign, add);
float_op!(Sub, sub, SubAssign, sub_assign, sub);
float_op!(Mul, mul, MulAssign, mul_assign, mul);
float_op!(Div, div, DivAssign, div_assign, div);

impl<L: Lanes> Neg for F32s<L> {
    type Output = F32s<L>;
    /// Flips the sign bit (exact; NaN stays NaN).
    #[inline(always)]
    fn neg(self) -> F32s<L> {
        F32s::from_raw(self.l, self.l.neg(self.v))
    }
}

/// `U32s ∘ U32s`, `U32s ∘ u32` and `u32 ∘ U32s` for one operator: `+` and
/// `-` wrap, `&` and `|` are bitwise.
macro_rules! bits_op {
    ($Op:ident, $op:ident, $raw:ident) => {
        impl<L: Lanes> $Op for U32s<L> {
            type Output = U32s<L>;
            #[inline(always)]
            fn $op(self, rhs: U32s<L>) -> U32s<L> {
                U32s::from_raw(self.l, self.l.$raw(self.u, rhs.u))
            }
        }
        impl<L: Lanes> $Op<u32> for U32s<L> {
            type Output = U32s<L>;
            #[inline(always)]
            fn $op(self, rhs: u32) -> U32s<L> {
                self.$op(self.l.splat_u(rhs))
            }
        }
        impl<L: Lanes> $Op<U32s<L>> for u32 {
            type Output = U32s<L>;
            #[inline(always)]
            fn $op(self, rhs: U32s<L>) -> U32s<L> {
                rhs.l.splat_u(self).$op(rhs)
            }
        }
    };
}

bits_op!(Add, add, add_u);
bits_op!(Sub, sub, sub_u);
bits_op!(BitAnd, bitand, and_u);
bits_op!(BitOr, bitor, or_u);
