//! Decoding fuzz bytes into floats, streams and shapes.
//!
//! The byte format is fixed and simple so that seeds can be written by hand
//! (`fuzz/seeds.py` writes the committed corpus). Bytes are read from the
//! front; once the data runs out, reads continue from a pseudo-random
//! stream seeded by a hash of the data, so any byte string decodes to a
//! case and even a short one fills long slices with varied values (the
//! fuzzer mutates the leading structure, the tail stays deterministic).
//!
//! A float is a tag byte, then:
//! - `tag % 4 == 0`: one byte, an index into [`SPECIALS`];
//! - `tag % 4 == 1`: four bytes, the raw bit pattern (little endian);
//! - `tag % 4 == 2`: two bytes, an `i16` divided by 64 (a "nice" value);
//! - `tag % 4 == 3`: three bytes: a sign bit and a biased exponent in
//!   `-149..=127` (anything from subnormal to huge), then mantissa bits.
//!
//! A stream (`len` floats) is a tag byte, then:
//! - `tag % 6 == 0`: `len` floats, each as above;
//! - `1`: one float repeated;
//! - `2`: a pseudo-random stream: an 8-byte seed and a [`Dist`] byte (and
//!   the distribution's parameters, see [`Dist`]);
//! - `3`: a ramp `start + i * step` (two floats);
//! - `4`: the *reference* stream (the input, when decoding the target) plus
//!   a pseudo-random perturbation from a [`Dist`] (residuals near zero, near
//!   a loss's threshold, exactly zero);
//! - `5`: the reference stream itself.
//!
//! followed by a patch count byte (`% 9`) and that many patches: a 2-byte
//! index (`% len`) and a float that overwrites that element.

use arbitrary::Unstructured;

/// Edge values every float decoder can pick by index.
pub const SPECIALS: [f32; 36] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    2.0,
    f32::MIN_POSITIVE,
    -f32::MIN_POSITIVE,
    f32::from_bits(1),           // smallest subnormal
    f32::from_bits(0x8000_0001), // its negative
    f32::from_bits(0x007f_ffff), // largest subnormal
    f32::from_bits(0x0040_0000), // a mid subnormal
    f32::MAX,
    f32::MIN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NAN,
    f32::from_bits(0xffc0_0000), // negative quiet NaN
    f32::from_bits(0x7f80_0001), // signalling NaN, payload 1
    f32::from_bits(0x7fc0_dead), // quiet NaN with a payload
    1e30,
    -1e30,
    1e-30,
    -1e-30,
    1.844_674_4e19, // ~sqrt(f32::MAX): squares overflow
    -1.844_674_4e19,
    1.7e38, // ~MAX/2: differences overflow
    -1.7e38,
    16_777_216.0, // 2^24
    16_777_217.0, // rounds to 2^24
    1e-20,
    0.1,
    -0.1,
    3.0e-39, // subnormal
    1.0e-6,
];

/// A never-failing byte reader over [`Unstructured`]: past the end of the
/// data, bytes come from a generator seeded by the data's hash.
pub struct Input<'a> {
    u: Unstructured<'a>,
    tail: Rng,
}

impl<'a> Input<'a> {
    /// Reads `data` from the front.
    #[must_use]
    pub fn new(data: &'a [u8]) -> Self {
        // FNV-1a of the data seeds the bytes read past its end.
        let hash = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        Self {
            u: Unstructured::new(data),
            tail: Rng::new(hash),
        }
    }

    /// `N` bytes: from the data while it lasts, then pseudo-random.
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut b = [0u8; N];
        let from_data = self.u.len().min(N);
        // fill_buffer never fails when the data holds enough bytes.
        let _ = self.u.fill_buffer(&mut b[..from_data]);
        for byte in &mut b[from_data..] {
            #[allow(clippy::cast_possible_truncation)]
            {
                *byte = self.tail.next_u64() as u8;
            }
        }
        b
    }

    /// One byte.
    pub fn u8(&mut self) -> u8 {
        self.bytes::<1>()[0]
    }

    /// Two bytes, little endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.bytes())
    }

    /// Four bytes, little endian.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.bytes())
    }

    /// Eight bytes, little endian.
    pub fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.bytes())
    }

    /// A float in the format of the module docs.
    pub fn float(&mut self) -> f32 {
        let tag = self.u8();
        match tag % 4 {
            0 => SPECIALS[usize::from(self.u8()) % SPECIALS.len()],
            1 => f32::from_bits(self.u32()),
            2 => f32::from(i16::from_le_bytes(self.bytes())) / 64.0,
            _ => {
                let [a, b, c] = self.bytes::<3>();
                wide_float(a, u32::from(b) << 8 | u32::from(c))
            }
        }
    }

    /// `len` floats in the stream format of the module docs; `reference`
    /// is the stream tags 4 and 5 derive from (the input, for a target).
    pub fn stream(&mut self, len: usize, reference: Option<&[f32]>) -> Vec<f32> {
        let tag = self.u8() % 6;
        let mut v: Vec<f32> = match tag {
            0 => (0..len).map(|_| self.float()).collect(),
            1 => vec![self.float(); len],
            2 => {
                let mut rng = Rng::new(self.u64());
                let dist = Dist::read(self);
                (0..len).map(|_| dist.sample(&mut rng)).collect()
            }
            3 => {
                let start = self.float();
                let step = self.float();
                (0..len)
                    .map(|i| {
                        #[allow(clippy::cast_precision_loss)]
                        let i = i as f32;
                        start + i * step
                    })
                    .collect()
            }
            _ => {
                let perturb = tag == 4;
                let (mut rng, dist) = if perturb {
                    (Rng::new(self.u64()), Some(Dist::read(self)))
                } else {
                    (Rng::new(0), None)
                };
                (0..len)
                    .map(|i| {
                        let base = reference.and_then(|r| r.get(i).copied()).unwrap_or(0.0);
                        match &dist {
                            Some(d) => base + d.sample(&mut rng),
                            None => base,
                        }
                    })
                    .collect()
            }
        };
        let patches = self.u8() % 9;
        for _ in 0..patches {
            let idx = usize::from(self.u16());
            let value = self.float();
            if len > 0 {
                v[idx % len] = value;
            }
        }
        v
    }
}

/// `±(1.mantissa) · 2^e` with `e` picked from the whole f32 range by `a`
/// (sign in the low bit), so every binade, subnormals included, is reached.
fn wide_float(a: u8, mantissa16: u32) -> f32 {
    let sign = u32::from(a & 1) << 31;
    // 0..=254 biased exponents; 0 is the subnormal binade.
    let exp = u32::from(a >> 1) * 2 + (mantissa16 & 1);
    let exp = exp.min(254);
    f32::from_bits(sign | exp << 23 | (mantissa16 << 7 & 0x007f_ffff))
}

/// splitmix64: a small deterministic generator for pseudo-random streams.
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let x = (self.next_u64() >> 11) as f64;
        x * (1.0 / (1u64 << 53) as f64)
    }
}

/// A distribution of pseudo-random floats (a [`Dist`] byte, then its
/// parameters).
#[derive(Clone, Copy, Debug)]
pub enum Dist {
    /// `dist % 6 == 0`: uniform in `[-scale, scale]`; one float `scale`.
    Uniform(f32),
    /// `1`: uniformly random bit patterns (NaN, inf, subnormals included).
    Bits,
    /// `2`: log-uniform magnitude with random sign, exponent in
    /// `[lo, lo + span]` (two bytes: `lo = byte - 150`, `span = byte % 64`).
    LogUniform(i32, i32),
    /// `3`: one of [`SPECIALS`] with probability `p/256` (one byte `p`),
    /// else uniform in `[-4, 4]`.
    Mixed(u8),
    /// `4`: 0 or 1 (binary labels).
    Labels,
    /// `5`: uniform in `[0, 1]` (probabilities, soft labels).
    UnitInterval,
}

impl Dist {
    /// Reads the distribution byte and its parameters.
    pub fn read(input: &mut Input<'_>) -> Self {
        match input.u8() % 6 {
            0 => Dist::Uniform(input.float()),
            1 => Dist::Bits,
            2 => {
                let lo = i32::from(input.u8()) - 150;
                let span = i32::from(input.u8() % 64);
                Dist::LogUniform(lo, span)
            }
            3 => Dist::Mixed(input.u8()),
            4 => Dist::Labels,
            _ => Dist::UnitInterval,
        }
    }

    /// One sample.
    #[allow(clippy::cast_possible_truncation)]
    pub fn sample(&self, rng: &mut Rng) -> f32 {
        match *self {
            Dist::Uniform(scale) => ((rng.unit() * 2.0 - 1.0) * f64::from(scale)) as f32,
            Dist::Bits => f32::from_bits(rng.next_u64() as u32),
            Dist::LogUniform(lo, span) => {
                let e = f64::from(lo) + rng.unit() * f64::from(span);
                let sign = if rng.next_u64() & 1 == 0 { 1.0 } else { -1.0 };
                (sign * e.exp2()) as f32
            }
            Dist::Mixed(p) => {
                if (rng.next_u64() & 0xff) < u64::from(p) {
                    SPECIALS[(rng.next_u64() % SPECIALS.len() as u64) as usize]
                } else {
                    (rng.unit() * 8.0 - 4.0) as f32
                }
            }
            Dist::Labels => f32::from(u8::from(rng.next_u64() & 1 == 1)),
            Dist::UnitInterval => rng.unit() as f32,
        }
    }
}

/// Lengths and placement of one call's slices.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// `input.len()`, `0..=MAX_LEN`.
    pub n: usize,
    /// `target.len()` in the error-path calls (usually `n`).
    pub target_len: usize,
    /// `grad.len()` / `out.len()` in the error-path calls (usually `n`).
    pub out_len: usize,
    /// Element offsets `0..16` of input, target and output inside their
    /// allocations (varies alignment).
    pub offsets: [usize; 3],
    /// Whether the output sub-slice has a sentinel guard after it (true) or
    /// ends exactly at its allocation so AddressSanitizer sees any access
    /// past it (false).
    pub tail_guard: bool,
}

/// Longest input the fuzzers build: four 256-element blocks plus a tail.
pub const MAX_LEN: usize = 1100;

impl Shape {
    /// Header: `n` (2 bytes, `% (MAX_LEN + 1)`), three offset bytes
    /// (`% 16`), the target and output length selectors (see
    /// [`mismatch`]) and a flags byte (bit 0: tail guard).
    pub fn read(input: &mut Input<'_>) -> Self {
        let n = usize::from(input.u16()) % (MAX_LEN + 1);
        let offsets = [
            usize::from(input.u8() % 16),
            usize::from(input.u8() % 16),
            usize::from(input.u8() % 16),
        ];
        let target_len = mismatch(n, input.u8());
        let out_len = mismatch(n, input.u8());
        let flags = input.u8();
        Self {
            n,
            target_len,
            out_len,
            offsets,
            tail_guard: flags & 1 == 1,
        }
    }

    /// Whether the error-path lengths differ from the valid ones.
    #[must_use]
    pub fn mismatched(&self) -> bool {
        self.target_len != self.n || self.out_len != self.n
    }
}

/// A length for an argument that should have `n` elements: `n` for
/// selectors below 160, otherwise `n` shifted by one of a few deltas
/// (±1, ±3, ±64, 0 elements, +1000).
#[must_use]
pub fn mismatch(n: usize, sel: u8) -> usize {
    if sel < 160 {
        return n;
    }
    match sel % 8 {
        0 => n + 1,
        1 => n.saturating_sub(1),
        2 => n + 64,
        3 => n.saturating_sub(64),
        4 => 0,
        5 => n + 3,
        6 => n.saturating_sub(3),
        _ => n + 1000,
    }
}
