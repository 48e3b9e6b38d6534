//! The part of the test helpers that needs no `std` (`core` and the crate
//! only): the integer PRNG, `pow2`, the FNV-1a hash and the regression
//! [`Spec`]. `tests/common/mod.rs` re-exports it for the host tests;
//! `firmware/` includes this file (`#[path]`) so that the golden cases of
//! `tests/golden/cases.rs` run bare-metal on Cortex-M with the very same
//! generators.

use simdloss::{Grad, Huber, Isa, L1, LossError, Mse, PointwiseLoss, Reduction, SmoothL1};

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and fully specified by
/// integer arithmetic, so it gives the same stream on every target.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The next 32 random bits (the high half, the better-mixed one).
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// A uniform integer in `0..n` (`n > 0`; the tiny modulo bias is
    /// irrelevant for test data).
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "below(0)");
        self.next_u64() % n
    }

    /// `true` with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// Uniform in `[0, 1)` with 24 random bits: `k · 2⁻²⁴`, exact.
    pub fn unit(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// Uniform in `[-2^e, 2^e)` on a grid of `2^(e-23)`: exact.
    pub fn symmetric(&mut self, e: i32) -> f32 {
        let k = (self.next_u32() >> 8) as i32 - (1 << 23); // in [-2^23, 2^23)
        k as f32 * pow2(e - 23)
    }

    /// Roughly normal (Irwin–Hall of four 22-bit uniforms), mean 0, standard
    /// deviation ≈ 1.15, range `[-4, 4)`. The sum of the four integers fits
    /// in 24 bits, so the conversion and the power-of-two scale are exact.
    pub fn normalish(&mut self) -> f32 {
        let mut k: i32 = 0;
        for _ in 0..4 {
            k += (self.next_u32() >> 10) as i32; // 22 bits
        }
        (k - (1 << 23)) as f32 * pow2(-21)
    }

    /// A random finite normal f32 with exponent in `emin..=emax` (unbiased
    /// powers of two, `-126 <= emin <= emax <= 127`) and a random sign,
    /// built from its bits.
    pub fn log_uniform(&mut self, emin: i32, emax: i32) -> f32 {
        assert!((-126..=127).contains(&emin) && emin <= emax && emax <= 127);
        let span = (emax - emin + 1) as u64;
        let e = emin + self.below(span) as i32;
        let mantissa = self.next_u32() & 0x007F_FFFF;
        let sign = self.next_u32() & 0x8000_0000;
        f32::from_bits(sign | (((e + 127) as u32) << 23) | mantissa)
    }

    /// Any finite f32, uniform over bit patterns (so mostly huge or tiny).
    pub fn any_finite(&mut self) -> f32 {
        loop {
            let v = f32::from_bits(self.next_u32());
            if v.is_finite() {
                return v;
            }
        }
    }
}

/// `2^e` for `-149 <= e <= 127`, built from its bits (exact, no libm).
pub fn pow2(e: i32) -> f32 {
    assert!((-149..=127).contains(&e), "pow2({e})");
    if e >= -126 {
        f32::from_bits(((e + 127) as u32) << 23)
    } else {
        f32::from_bits(1u32 << (e + 149))
    }
}

/// FNV-1a, 64-bit, over the bytes of the values fed to it.
#[derive(Clone, Debug)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self::new()
    }
}

impl Fnv1a {
    const OFFSET: u64 = 0xCBF2_9CE4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01B3;

    /// The empty hash.
    pub const fn new() -> Self {
        Self(Self::OFFSET)
    }

    /// Feeds bytes.
    pub fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// Feeds a u64 (little-endian bytes, whatever the host).
    pub fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }

    /// Feeds the bit pattern of an f32 (little-endian bytes).
    pub fn f32(&mut self, v: f32) {
        self.bytes(&v.to_bits().to_le_bytes());
    }

    /// Feeds the bit patterns of a slice, preceded by its length.
    pub fn f32s(&mut self, vs: &[f32]) {
        self.u64(vs.len() as u64);
        for &v in vs {
            self.f32(v);
        }
    }

    /// The hash.
    pub const fn finish(&self) -> u64 {
        self.0
    }
}

/// One regression loss with its parameter, run through the public API.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Spec {
    /// [`Mse`].
    Mse,
    /// [`L1`].
    L1,
    /// [`Huber`] with this δ.
    Huber(f32),
    /// [`SmoothL1`] with this β.
    SmoothL1(f32),
}

/// Runs `$body` with `$loss` bound to the public loss type of `$spec`,
/// built with validation and set to `$isa`.
macro_rules! with_loss {
    ($spec:expr, $isa:expr, |$loss:ident| $body:expr) => {
        match $spec {
            Spec::Mse => {
                let $loss = Mse::new().with_isa($isa)?;
                $body
            }
            Spec::L1 => {
                let $loss = L1::new().with_isa($isa)?;
                $body
            }
            Spec::Huber(delta) => {
                let $loss = Huber::new(delta)?.with_isa($isa)?;
                $body
            }
            Spec::SmoothL1(beta) => {
                let $loss = SmoothL1::new(beta)?.with_isa($isa)?;
                $body
            }
        }
    };
}

impl Spec {
    /// `value` on `isa`.
    pub fn value(
        self,
        isa: Isa,
        input: &[f32],
        target: &[f32],
        reduction: Reduction,
    ) -> Result<f32, LossError> {
        with_loss!(self, isa, |loss| loss.value(input, target, reduction))
    }

    /// `value_and_grad` on `isa`.
    pub fn value_and_grad(
        self,
        isa: Isa,
        input: &[f32],
        target: &[f32],
        reduction: Reduction,
        grad: Grad<'_>,
    ) -> Result<f32, LossError> {
        with_loss!(self, isa, |loss| loss
            .value_and_grad(input, target, reduction, grad))
    }

    /// `per_element` on `isa`.
    pub fn per_element(
        self,
        isa: Isa,
        input: &[f32],
        target: &[f32],
        out: &mut [f32],
    ) -> Result<(), LossError> {
        with_loss!(self, isa, |loss| loss.per_element(input, target, out))
    }
}
