//! An exact sum of `f32` values (a fixed-point superaccumulator), rounded
//! once at the end.
//!
//! Every finite `f32` is an integer number of units `2⁻¹⁴⁹`: `M·2^p` units
//! with the integer significand `M < 2²⁴` and `p = max(e, 1) − 1 ∈ [0, 253]`
//! (`e` the biased exponent). [`ExactSum`] keeps the running total of those
//! units in [`DIGITS`] signed 64-bit digits of 32 bits each (digit `k`
//! weighs `2^(32k)` units), in carry-save form: one add puts less than
//! `2³²` into each of at most three digits, so [`PROPAGATE_EVERY`] adds
//! fit before the carries must move. No add rounds, so the total does not
//! depend on the order or the grouping of the adds: sums of blocks
//! computed apart (other threads, other shards) and [`ExactSum::merge`]d
//! give the same bits as one pass over all of them. [`ExactSum::to_f64`]
//! rounds once, to nearest (ties to even).
//!
//! [`ExactSum::add_f64`] takes the `f64` values a sum of `f32` values
//! produces (an `f64` running total and the rounding errors of its adds:
//! multiples of `2⁻¹⁴⁹`), which is how the canonical accumulator
//! ([`super::accumulate::Total`]) uses it: only for the rare add of an
//! `f64` total that rounds.
//!
//! Range: 384 bits hold `2¹⁹¹·2¹⁴⁹` (the largest `f64` [`ExactSum::add_f64`]
//! takes, in units) times `2⁴²` with a sign bit to spare, so up to `2⁴²`
//! adds of any finite `f32`, or of `f64` values below `2¹⁹¹`, are exact.
//! Infinities and NaN are kept as flags: any NaN, or `+∞` and `−∞`
//! together, give NaN; otherwise an infinity gives that infinity.
//!
//! Plain integer code, no `unsafe`, no panic path (every digit index is
//! bounded by construction and read through `get`).

/// 32-bit digits kept: 8 cover one `f32` (bits 0..277 of the units), 11
/// one `f64` below `2¹⁹¹` (bits 0..340), the last is headroom for `2⁴²`
/// adds and the sign.
pub const DIGITS: usize = 12;

/// Units exponents `p` from which [`ExactSum::add_f64`]'s three digits
/// `p / 32 ..= p / 32 + 2` would reach the headroom digit.
#[allow(clippy::cast_possible_wrap, clippy::cast_possible_truncation)]
const F64_UNITS_LIMIT: i32 = 32 * (DIGITS as i32 - 3);

/// Adds between two carry propagations: each add brings less than `2³²`
/// to a digit, and a digit holds `|d| < 2⁶²` safely.
pub const PROPAGATE_EVERY: u32 = 1 << 30;

/// `2³² − 1`: the low 32 bits.
const LOW: i64 = 0xffff_ffff;

/// The exact running sum of `f32` values. See the [module docs](self).
#[derive(Clone, Copy, Debug)]
pub struct ExactSum {
    digits: [i64; DIGITS],
    /// Adds since the carries last moved.
    pending: u32,
    pos_inf: bool,
    neg_inf: bool,
    nan: bool,
}

impl Default for ExactSum {
    fn default() -> Self {
        Self::new()
    }
}

impl ExactSum {
    /// The empty sum (0).
    #[inline(always)]
    #[must_use]
    pub const fn new() -> Self {
        Self {
            digits: [0; DIGITS],
            pending: 0,
            pos_inf: false,
            neg_inf: false,
            nan: false,
        }
    }

    /// Adds `x` exactly.
    #[inline(always)]
    pub fn add(&mut self, x: f32) {
        let bits = x.to_bits();
        let negative = bits >> 31 != 0;
        let e = (bits >> 23) & 0xff;
        if e == 0xff {
            self.add_special(bits & 0x007f_ffff != 0, negative);
            return;
        }
        let implicit = if e == 0 { 0 } else { 1 << 23 };
        let m = u64::from((bits & 0x007f_ffff) | implicit);
        let p = e.max(1) - 1; // 0..=253
        let v = m << (p % 32); // < 2⁵⁵
        #[allow(clippy::cast_possible_wrap)] // both halves are below 2³²
        let (lo, hi) = ((v & 0xffff_ffff) as i64, (v >> 32) as i64);
        let (lo, hi) = if negative { (-lo, -hi) } else { (lo, hi) };
        let k = (p / 32) as usize; // 0..=7, so k + 1 < DIGITS
        if let Some(d) = self.digits.get_mut(k) {
            *d += lo;
        }
        if let Some(d) = self.digits.get_mut(k + 1) {
            *d += hi;
        }
        self.added();
    }

    /// Adds `x` exactly if it is a multiple of `2⁻¹⁴⁹` below `2¹⁹¹` in
    /// magnitude, as every `f32`, every `f64` rounding of a sum of `f32`
    /// values and every rounding error of such a sum is. Outside that
    /// domain it does not round to nearest: bits below `2⁻¹⁴⁹` are dropped
    /// (toward zero), and a magnitude of `2¹⁹¹` or more counts as an
    /// infinity of its sign.
    pub fn add_f64(&mut self, x: f64) {
        let bits = x.to_bits();
        let negative = bits >> 63 != 0;
        #[allow(clippy::cast_possible_truncation)] // 11 bits
        let e = ((bits >> 52) & 0x7ff) as i32;
        let fraction = bits & ((1 << 52) - 1);
        if e == 0x7ff {
            self.add_special(fraction != 0, negative);
            return;
        }
        if e == 0 {
            // Zero, or an f64 subnormal: below 2⁻¹⁰²², far below the unit.
            return;
        }
        // x = m·2^(e − 1075) = m·2^(e − 926) units.
        let (m, p) = match e - 926 {
            p if p < 0 => ((fraction | 1 << 52) >> p.unsigned_abs().min(63), 0),
            p => (fraction | 1 << 52, p),
        };
        if m == 0 {
            return;
        }
        if p >= F64_UNITS_LIMIT {
            self.add_special(false, negative);
            return;
        }
        #[allow(clippy::cast_sign_loss)] // 0 <= p < F64_UNITS_LIMIT
        let (k, shift) = ((p / 32) as usize, (p % 32) as u32);
        let v = u128::from(m) << shift; // < 2⁸⁴
        let mut digit = k;
        let mut rest = v;
        while rest != 0 {
            #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
            let part = (rest & 0xffff_ffff) as i64; // < 2³²
            if let Some(d) = self.digits.get_mut(digit) {
                *d += if negative { -part } else { part };
            }
            rest >>= 32;
            digit += 1;
        }
        self.added();
    }

    /// Counts one add; moves the carries when the digits could overflow.
    #[inline(always)]
    fn added(&mut self) {
        self.pending += 1;
        if self.pending >= PROPAGATE_EVERY {
            self.propagate();
        }
    }

    /// An infinity or NaN (`nan`: a nonzero significand).
    #[cold]
    fn add_special(&mut self, nan: bool, negative: bool) {
        if nan {
            self.nan = true;
        } else if negative {
            self.neg_inf = true;
        } else {
            self.pos_inf = true;
        }
    }

    /// Adds every value `other` holds: the same state as if its adds had
    /// been made here.
    pub fn merge(&mut self, other: &Self) {
        let mut other = *other;
        other.propagate();
        self.propagate();
        for (d, o) in self.digits.iter_mut().zip(other.digits) {
            *d += o;
        }
        // Each digit now holds less than 2³³ in magnitude: one pending add.
        self.pending = 1;
        self.pos_inf |= other.pos_inf;
        self.neg_inf |= other.neg_inf;
        self.nan |= other.nan;
    }

    /// Moves the carries: digits `0..DIGITS−1` into `[0, 2³²)`, the sign and
    /// the excess into the top digit. The value is unchanged.
    fn propagate(&mut self) {
        let mut carry = 0i64;
        for d in self.digits.iter_mut().take(DIGITS - 1) {
            let t = *d + carry;
            // t = carry'·2³² + (t mod 2³²): an arithmetic shift floors.
            carry = t >> 32;
            *d = t & LOW;
        }
        if let Some(top) = self.digits.last_mut() {
            *top += carry;
        }
        self.pending = 0;
    }

    /// The sum rounded to the nearest `f64` (ties to even); `+0` for an
    /// exact zero; NaN or an infinity as the [module docs](self) say.
    #[must_use]
    pub fn to_f64(&self) -> f64 {
        if self.nan || (self.pos_inf && self.neg_inf) {
            return f64::NAN;
        }
        if self.pos_inf {
            return f64::INFINITY;
        }
        if self.neg_inf {
            return f64::NEG_INFINITY;
        }
        let mut s = *self;
        s.propagate();
        let negative = s.digits.last().is_some_and(|&top| top < 0);
        if negative {
            for d in &mut s.digits {
                *d = -*d;
            }
            s.propagate();
        }
        // Every digit is now in [0, 2³²) (the top one too: |sum| < 2³⁸³).
        let digit = |i: usize| s.digits.get(i).map_or(0, |&d| d.unsigned_abs());
        let Some(h) = (0..DIGITS).rev().find(|&i| digit(i) != 0) else {
            return 0.0;
        };
        // The three digits from h down, as one 96-bit window; what lies
        // below it only matters as a sticky bit.
        let window = (u128::from(digit(h)) << 64)
            | (u128::from(h.checked_sub(1).map_or(0, digit)) << 32)
            | u128::from(h.checked_sub(2).map_or(0, digit));
        let below = (0..h.saturating_sub(2)).any(|i| digit(i) != 0);
        let lz = window.leading_zeros(); // 32..=63: digit(h) ≠ 0
        let w = window << lz;
        #[allow(clippy::cast_possible_truncation)]
        let (top, rest) = ((w >> 64) as u64, w as u64);
        // Bit 63 of `top` is set, so the conversion keeps bits 63..11 and
        // rounds on bit 10 and below; a sticky bit 0 makes it see exactly
        // whether anything nonzero lies below.
        let sticky = u64::from(rest != 0 || below);
        #[allow(clippy::cast_precision_loss)]
        let magnitude = (top | sticky) as f64;
        // Bit 0 of `top` weighs 2^(32·(h − 2) + 64 − lz) units of 2⁻¹⁴⁹.
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
        let exponent = 32 * (h as i32 - 2) + 64 - lz as i32 - 149;
        // −212 ≤ exponent ≤ 171 (h ≤ 11, 32 ≤ lz ≤ 63): 2^exponent is a
        // normal f64 and the product is exact.
        #[allow(clippy::cast_sign_loss)]
        let scale = f64::from_bits(((exponent + 1023) as u64) << 52);
        let r = magnitude * scale;
        if negative { -r } else { r }
    }
}

#[cfg(test)]
mod tests {
    use super::{ExactSum, PROPAGATE_EVERY};
    use std::vec;
    use std::vec::Vec;

    /// The correctly rounded f64 sum of `xs` (Shewchuk's algorithm, as
    /// Python's `math.fsum`): an independent exact reference.
    fn fsum(xs: &[f32]) -> f64 {
        fsum64(&xs.iter().map(|&x| f64::from(x)).collect::<Vec<_>>())
    }

    fn fsum64(xs: &[f64]) -> f64 {
        let mut partials: Vec<f64> = Vec::new();
        for &x0 in xs {
            let mut x = x0;
            let mut i = 0;
            for j in 0..partials.len() {
                let mut y = partials[j];
                if x.abs() < y.abs() {
                    core::mem::swap(&mut x, &mut y);
                }
                let hi = x + y;
                let lo = y - (hi - x);
                if lo != 0.0 {
                    partials[i] = lo;
                    i += 1;
                }
                x = hi;
            }
            partials.truncate(i);
            partials.push(x);
        }
        let mut n = partials.len();
        if n == 0 {
            return 0.0;
        }
        n -= 1;
        let mut hi = partials[n];
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = partials[n];
            hi = x + y;
            lo = y - (hi - x);
            if lo != 0.0 {
                break;
            }
        }
        if n > 0 && ((lo < 0.0 && partials[n - 1] < 0.0) || (lo > 0.0 && partials[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
        hi
    }

    fn exact(xs: &[f32]) -> f64 {
        let mut s = ExactSum::new();
        for &x in xs {
            s.add(x);
        }
        s.to_f64()
    }

    /// A small deterministic generator (xorshift64*).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        /// Any finite f32, every binade equally likely.
        fn finite(&mut self) -> f32 {
            loop {
                #[allow(clippy::cast_possible_truncation)]
                let x = f32::from_bits(self.next() as u32);
                if x.is_finite() {
                    return x;
                }
            }
        }
        /// A value near `scale` in magnitude, either sign.
        #[allow(clippy::cast_precision_loss)]
        fn near(&mut self, scale: f32) -> f32 {
            let u = (self.next() >> 40) as f32 / (1u64 << 24) as f32;
            let s = if self.next() & 1 == 0 { 1.0 } else { -1.0 };
            s * scale * (0.5 + u)
        }
    }

    /// `2^e` exactly, for `−1022 ≤ e ≤ 1023` (not `powi`: miri perturbs
    /// it, as a library call may be inexact).
    fn pow2(e: i32) -> f64 {
        #[allow(clippy::cast_sign_loss)]
        f64::from_bits(((e + 1023) as u64) << 52)
    }

    /// `2^e` as f32 (exact, subnormals included, for `−149 ≤ e ≤ 127`).
    #[allow(clippy::cast_possible_truncation)]
    fn pow2f(e: i32) -> f32 {
        pow2(e) as f32
    }

    /// Cases per sweep: a tenth under miri (which interprets every add).
    const fn scaled(n: usize) -> usize {
        if cfg!(miri) { n / 10 } else { n }
    }

    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
    }

    #[test]
    fn matches_correctly_rounded_reference() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..scaled(400) {
            let n = 1 + case % 97;
            let xs: Vec<f32> = (0..n)
                .map(|i| match case % 4 {
                    0 => rng.finite(),
                    1 => rng.near(1.0),
                    // Wide spread: values of 2^-140 .. 2^120 together.
                    2 => {
                        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
                        let e = (rng.next() % 261) as i32 - 140;
                        rng.near(pow2f(e))
                    }
                    // Heavy cancellation: x, −x pairs plus a tiny rest.
                    _ => {
                        if i % 2 == 0 {
                            rng.near(1e30)
                        } else {
                            rng.near(1e-40)
                        }
                    }
                })
                .collect();
            let mut xs = xs;
            if case % 4 == 3 {
                let mirrored: Vec<f32> = xs.iter().step_by(2).map(|&x| -x).collect();
                xs.extend(mirrored);
            }
            let want = fsum(&xs);
            let got = exact(&xs);
            assert!(same(got, want), "case {case}: {got:e} vs {want:e} ({xs:?})");
        }
    }

    /// The bits do not depend on order, grouping or carry timing.
    #[test]
    fn order_and_grouping_do_not_matter() {
        let mut rng = Rng(7);
        let xs: Vec<f32> = (0..scaled(2000)).map(|_| rng.finite()).collect();
        let want = exact(&xs);
        let mut reversed = ExactSum::new();
        for &x in xs.iter().rev() {
            reversed.add(x);
        }
        assert!(same(reversed.to_f64(), want));
        let n = xs.len();
        for split in [0usize, 1, 255, 256, n - 1, n].map(|k| k.min(n)) {
            let (a, b) = xs.split_at(split);
            let mut sa = ExactSum::new();
            a.iter().for_each(|&x| sa.add(x));
            let mut sb = ExactSum::new();
            b.iter().for_each(|&x| sb.add(x));
            let mut ba = sb;
            sa.merge(&sb);
            ba.merge(&{
                let mut t = ExactSum::new();
                a.iter().for_each(|&x| t.add(x));
                t
            });
            assert!(same(sa.to_f64(), want), "split {split}");
            assert!(same(ba.to_f64(), want), "split {split}, swapped");
        }
        let mut early = ExactSum::new();
        for (i, &x) in xs.iter().enumerate() {
            early.add(x);
            if i % 3 == 0 {
                early.propagate();
            }
        }
        assert!(same(early.to_f64(), want));
    }

    #[test]
    fn extremes_are_exact() {
        let tiny = f32::from_bits(1); // 2^-149
        assert!(same(exact(&[tiny; 3]), 3.0 * f64::from(tiny)));
        assert!(same(exact(&[tiny, -tiny]), 0.0));
        assert!(same(exact(&[-0.0, -0.0]), 0.0));
        assert!(same(exact(&[]), 0.0));
        // 1 + 2^-149 − 1: an f64 total would lose the 2^-149.
        assert!(same(exact(&[1.0, tiny, -1.0]), f64::from(tiny)));
        let big = vec![f32::MAX; 4096];
        assert!(same(exact(&big), 4096.0 * f64::from(f32::MAX)));
        let neg: Vec<f32> = big.iter().map(|&x| -x).chain([tiny]).collect();
        assert!(same(exact(&neg), -4096.0 * f64::from(f32::MAX)));
        // Ties to even: 2^53 + 1 (units of 2^0) rounds down, 2^53 + 3 up.
        let t = pow2f(53);
        assert!(same(exact(&[t, 1.0]), pow2(53)));
        assert!(same(exact(&[t, 1.0, 2.0]), pow2(53) + 4.0));
        // Just above the tie: the sticky bit rounds up.
        assert!(same(exact(&[t, 1.0, tiny]), pow2(53) + 2.0));
    }

    /// One value comes back as itself.
    #[test]
    fn single_value_is_itself() {
        let mut rng = Rng(11);
        for _ in 0..scaled(2000) {
            let x = rng.finite();
            let mut one = ExactSum::new();
            one.add(x);
            let mut two = one;
            two.add(0.0);
            assert!(same(one.to_f64(), f64::from(x) + 0.0), "{x:e}");
            assert!(same(two.to_f64(), f64::from(x) + 0.0), "{x:e}");
        }
        let mut merged = ExactSum::new();
        let mut one = ExactSum::new();
        one.add(-3.5);
        merged.merge(&one);
        assert!(same(merged.to_f64(), -3.5));
    }

    /// `add_f64` of the values an f64 sum of f32 values produces (its
    /// running totals and the rounding errors of its adds), mixed with
    /// f32 adds, against the correctly rounded reference.
    #[test]
    fn f64_adds_match_correctly_rounded_reference() {
        let mut rng = Rng(0x5eed);
        for case in 0..scaled(300) {
            let mut xs: Vec<f64> = Vec::new();
            let mut total = 0.0f64;
            for i in 0..(1 + case % 61) {
                let x = match case % 3 {
                    0 => f64::from(rng.finite()),
                    1 => f64::from(rng.near(1.0)),
                    _ => {
                        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
                        let e = (rng.next() % 261) as i32 - 140;
                        f64::from(rng.near(pow2f(e)))
                    }
                };
                // TwoSum: t + err = total + x exactly.
                let t = total + x;
                let bb = t - total;
                let err = (total - (t - bb)) + (x - bb);
                total = t;
                xs.push(if i % 2 == 0 { err } else { x });
                if i % 7 == 0 {
                    xs.push(-total);
                }
            }
            let mut s = ExactSum::new();
            for (i, &x) in xs.iter().enumerate() {
                // Values that are f32 go either way: the same digits.
                #[allow(clippy::cast_possible_truncation)]
                let narrow = x as f32;
                if i % 3 == 0 && f64::from(narrow) == x {
                    s.add(narrow);
                } else {
                    s.add_f64(x);
                }
            }
            let want = fsum64(&xs);
            assert!(
                same(s.to_f64(), want),
                "case {case}: {:e} vs {want:e} ({xs:?})",
                s.to_f64()
            );
        }
        // The ends of the domain: 2^-149 and just below 2^191, each sign.
        let tiny = f64::from(f32::from_bits(1));
        let big = pow2(191) * (1.0 - f64::EPSILON / 2.0);
        let mut s = ExactSum::new();
        for x in [big, tiny, big, -big, tiny] {
            s.add_f64(x);
        }
        assert!(same(s.to_f64(), fsum64(&[big, tiny, big, -big, tiny])));
        let mut s = ExactSum::new();
        s.add_f64(-big);
        s.add_f64(-big);
        assert!(same(s.to_f64(), -2.0 * big));
        // Outside it: 2^191 counts as infinite, bits below 2^-149 drop.
        let mut s = ExactSum::new();
        s.add_f64(-pow2(191));
        assert!(same(s.to_f64(), f64::NEG_INFINITY));
        let mut s = ExactSum::new();
        s.add_f64(tiny * 1.5);
        s.add_f64(1e-300);
        s.add_f64(f64::from_bits(1));
        assert!(same(s.to_f64(), tiny));
        let mut s = ExactSum::new();
        s.add_f64(f64::NAN);
        s.add(1.0);
        assert!(s.to_f64().is_nan());
    }

    #[test]
    fn special_values() {
        assert!(exact(&[1.0, f32::NAN]).is_nan());
        assert!(exact(&[f32::INFINITY, f32::NEG_INFINITY]).is_nan());
        assert!(same(exact(&[f32::INFINITY, -1e30]), f64::INFINITY));
        assert!(same(exact(&[f32::NEG_INFINITY, 1e30]), f64::NEG_INFINITY));
        let mut a = ExactSum::new();
        a.add(f32::INFINITY);
        let mut b = ExactSum::new();
        b.add(f32::NEG_INFINITY);
        a.merge(&b);
        assert!(a.to_f64().is_nan());
    }

    /// The carry-save digits survive the adds between propagations: the
    /// largest magnitudes, `PROPAGATE_EVERY` of them, then one more.
    #[test]
    fn carries_at_the_propagation_bound() {
        let mut s = ExactSum::new();
        let x = f32::from_bits(0x7f7f_ffff); // f32::MAX: both digits near 2³²
        // Simulate PROPAGATE_EVERY − 1 adds to the two digits at once.
        let mut one = ExactSum::new();
        one.add(x);
        for (d, o) in s.digits.iter_mut().zip(one.digits) {
            *d = o * i64::from(PROPAGATE_EVERY - 1);
        }
        s.pending = PROPAGATE_EVERY - 1;
        s.add(x); // propagates
        assert_eq!(s.pending, 0);
        let want = f64::from(PROPAGATE_EVERY) * f64::from(x);
        assert!(same(s.to_f64(), want), "{:e} vs {want:e}", s.to_f64());
    }
}
