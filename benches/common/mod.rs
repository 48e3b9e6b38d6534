//! Shared helpers of the benchmarks (`benches/*.rs`) and of
//! `examples/bench_report.rs`: aligned buffers, deterministic inputs, the
//! streaming-triad yardstick and the plain scalar loops a user would write
//! (regression in [`plain`], binary in [`binary`], softmax in [`softmax`],
//! Dice in [`dice`]).
//!
//! Included with `#[path = "common/mod.rs"] mod common;` (benches) or
//! `#[path = "../benches/common/mod.rs"] mod common;` (examples), so not
//! every item is used by every includer.
#![allow(dead_code)]
pub mod svg;

/// Sizes every pointwise benchmark runs at.
pub const SIZES: [usize; 3] = [4096, 1 << 18, 1 << 24];

/// Alignment (bytes) of the start of every [`AlignedBuf`] with offset 0:
/// one cache line, one AVX-512 register.
pub const ALIGN_BYTES: usize = 64;

/// A `len`-element f32 buffer whose first element sits `offset` elements
/// after a 64-byte boundary (offset 0: aligned; offset 1: the worst case for
/// 16-lane loads, every register straddles a cache line once per 4).
pub struct AlignedBuf {
    storage: Vec<f32>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    /// A zeroed buffer of `len` elements, `offset` elements past alignment.
    pub fn new(len: usize, offset: usize) -> Self {
        let align_elems = ALIGN_BYTES / core::mem::size_of::<f32>();
        let storage = vec![0.0f32; len + offset + align_elems];
        // align_offset may return usize::MAX only if alignment is impossible,
        // which it is not for a 64-byte boundary of an f32 pointer: fall back
        // to 0 (unaligned, but still in bounds) if it ever did.
        let to_align = storage.as_ptr().align_offset(ALIGN_BYTES);
        let to_align = if to_align < align_elems { to_align } else { 0 };
        Self {
            storage,
            start: to_align + offset,
            len,
        }
    }

    /// A buffer filled by [`fill_uniform`] with `seed` in `[lo, hi)`.
    pub fn uniform(len: usize, offset: usize, seed: u64, lo: f32, hi: f32) -> Self {
        let mut buf = Self::new(len, offset);
        fill_uniform(buf.as_mut_slice(), seed, lo, hi);
        buf
    }

    /// The elements.
    pub fn as_slice(&self) -> &[f32] {
        &self.storage[self.start..self.start + self.len]
    }

    /// The elements, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        &mut self.storage[self.start..self.start + self.len]
    }
}

/// Fills `buf` with deterministic pseudo-random values in `[lo, hi)`
/// (SplitMix64; 24 random bits per value, so no subnormals).
pub fn fill_uniform(buf: &mut [f32], seed: u64, lo: f32, hi: f32) {
    let mut state = seed;
    for x in buf.iter_mut() {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        #[allow(clippy::cast_precision_loss)] // 24 bits: exact in f32
        let unit = (z >> 40) as f32 / (1u64 << 24) as f32;
        *x = lo + (hi - lo) * unit;
    }
}

/// Input and target of a regression benchmark: both uniform in `[-2, 2)`,
/// so `r = x − y` falls on both sides of `|r| = 1` (Huber δ = 1 and
/// SmoothL1 β = 1 take each branch about half the time).
pub struct Streams {
    /// Model output.
    pub input: AlignedBuf,
    /// Target.
    pub target: AlignedBuf,
    /// Gradient / triad output.
    pub out: AlignedBuf,
}

impl Streams {
    /// Three `len`-element buffers, each `offset` elements past alignment.
    pub fn new(len: usize, offset: usize) -> Self {
        Self {
            input: AlignedBuf::uniform(len, offset, 0x5eed_0001, -2.0, 2.0),
            target: AlignedBuf::uniform(len, offset, 0x5eed_0002, -2.0, 2.0),
            out: AlignedBuf::uniform(len, offset, 0x5eed_0003, -1.0, 1.0),
        }
    }

    /// `(input, target, out)` as slices, `out` mutable.
    pub fn parts(&mut self) -> (&[f32], &[f32], &mut [f32]) {
        (
            self.input.as_slice(),
            self.target.as_slice(),
            self.out.as_mut_slice(),
        )
    }
}

/// The triad's multiplier.
pub const TRIAD_K: f32 = 0.75;

/// The body of the streaming triad `c[i] = a[i] + k·b[i]`: zip iterators,
/// no bounds checks, no reduction, so the compiler vectorizes it fully.
/// 2 reads + 1 write per element: the memory traffic of a fused
/// value + gradient pass.
#[inline(always)]
fn triad_body(a: &[f32], b: &[f32], c: &mut [f32], k: f32) {
    for ((c, &a), &b) in c.iter_mut().zip(a).zip(b) {
        *c = a + k * b;
    }
}

/// The triad compiled for the crate's compile-time baseline (SSE2 on
/// x86-64).
#[inline(never)]
pub fn triad_baseline(a: &[f32], b: &[f32], c: &mut [f32], k: f32) {
    triad_body(a, b, c, k);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline(never)]
fn triad_avx2(a: &[f32], b: &[f32], c: &mut [f32], k: f32) {
    triad_body(a, b, c, k);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq")]
#[inline(never)]
fn triad_avx512(a: &[f32], b: &[f32], c: &mut [f32], k: f32) {
    triad_body(a, b, c, k);
}

/// A triad function: `c[i] = a[i] + k·b[i]`.
pub type TriadFn = fn(&[f32], &[f32], &mut [f32], f32);

/// The triad compiled for the widest vectors this CPU has (AVX-512, else
/// AVX2, else the baseline), and the name of that ISA. This is the fair
/// yardstick: the memory system, not the vector width, should bound it.
pub fn best_triad() -> (TriadFn, &'static str) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512dq")
        {
            // SAFETY: the four AVX-512 features triad_avx512 enables were
            // detected on this CPU just above.
            return (|a, b, c, k| unsafe { triad_avx512(a, b, c, k) }, "avx512");
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: AVX2 and FMA, the features triad_avx2 enables, were
            // detected on this CPU just above.
            return (|a, b, c, k| unsafe { triad_avx2(a, b, c, k) }, "avx2");
        }
    }
    (triad_baseline, "baseline")
}

/// The plain scalar loops a user would write for each loss: one loop over
/// zipped slices, the value summed in f64, the gradient of the mean
/// (`∂/∂x · 1/n`) written in place. Compiled for the baseline target like
/// any user code. Each returns the mean loss.
pub mod plain {
    /// Signature shared by the plain loops: `(input, target, grad) -> mean`.
    pub type PlainFn = fn(&[f32], &[f32], &mut [f32]) -> f32;

    /// `1/n` in f32: the gradient scale of a mean.
    #[allow(clippy::cast_precision_loss)]
    pub fn inv_len(n: usize) -> f32 {
        1.0 / n as f32
    }

    /// `sum / n` rounded to f32: the mean of an f64 sum.
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    pub fn mean(sum: f64, n: usize) -> f32 {
        (sum / n as f64) as f32
    }

    /// MSE: `r²`, gradient `2r/n`.
    #[inline(never)]
    pub fn mse(input: &[f32], target: &[f32], grad: &mut [f32]) -> f32 {
        let scale = 2.0 * inv_len(input.len());
        let mut sum = 0.0f64;
        for ((g, &x), &y) in grad.iter_mut().zip(input).zip(target) {
            let r = x - y;
            sum += f64::from(r * r);
            *g = r * scale;
        }
        mean(sum, input.len())
    }

    /// L1: `|r|`, gradient `sign(r)/n` with `sign(0) = 0`.
    #[inline(never)]
    pub fn l1(input: &[f32], target: &[f32], grad: &mut [f32]) -> f32 {
        let scale = inv_len(input.len());
        let mut sum = 0.0f64;
        for ((g, &x), &y) in grad.iter_mut().zip(input).zip(target) {
            let r = x - y;
            sum += f64::from(r.abs());
            *g = if r > 0.0 {
                scale
            } else if r < 0.0 {
                -scale
            } else {
                0.0
            };
        }
        mean(sum, input.len())
    }

    /// Huber with δ = [`HUBER_DELTA`]: `½r²` if `|r| ≤ δ` else
    /// `δ(|r| − ½δ)`, gradient `clamp(r, −δ, δ)/n`.
    #[inline(never)]
    pub fn huber(input: &[f32], target: &[f32], grad: &mut [f32]) -> f32 {
        let delta = HUBER_DELTA;
        let scale = inv_len(input.len());
        let mut sum = 0.0f64;
        for ((g, &x), &y) in grad.iter_mut().zip(input).zip(target) {
            let r = x - y;
            let a = r.abs();
            let v = if a <= delta {
                0.5 * r * r
            } else {
                delta * (a - 0.5 * delta)
            };
            sum += f64::from(v);
            *g = r.clamp(-delta, delta) * scale;
        }
        mean(sum, input.len())
    }

    /// Smooth L1 with β = [`SMOOTH_L1_BETA`]: `½r²/β` if `|r| < β` else
    /// `|r| − ½β`, gradient `clamp(r/β, −1, 1)/n`.
    #[inline(never)]
    pub fn smooth_l1(input: &[f32], target: &[f32], grad: &mut [f32]) -> f32 {
        let beta = SMOOTH_L1_BETA;
        let scale = inv_len(input.len());
        let mut sum = 0.0f64;
        for ((g, &x), &y) in grad.iter_mut().zip(input).zip(target) {
            let r = x - y;
            let a = r.abs();
            let v = if a < beta {
                0.5 * r * r / beta
            } else {
                a - 0.5 * beta
            };
            sum += f64::from(v);
            *g = (r / beta).clamp(-1.0, 1.0) * scale;
        }
        mean(sum, input.len())
    }

    /// Huber's δ in every benchmark.
    pub const HUBER_DELTA: f32 = 1.0;
    /// Smooth L1's β in every benchmark.
    pub const SMOOTH_L1_BETA: f32 = 1.0;
}

/// The binary-loss helpers of `benches/binary.rs` and the transcendental
/// rows of `examples/bench_report.rs`: their inputs and the plain scalar
/// loops a user would write with `libm` (one pass over zipped slices, the
/// value summed in f64, the gradient of the mean written in place; each
/// returns the mean loss). Compiled for the baseline target like any user
/// code.
pub mod binary {
    use super::plain::{inv_len, mean};
    use super::{AlignedBuf, fill_uniform};

    /// Focal loss α in every benchmark (torchvision's default).
    pub const ALPHA: f32 = 0.25;
    /// Focal loss γ in every benchmark (torchvision's default).
    pub const GAMMA: f32 = 2.0;

    /// Inputs of one size: logits uniform in `[−8, 8)`, probabilities
    /// uniform in `[0, 1)`, hard targets (0 or 1, half each), and a
    /// gradient buffer (uniform in `[−1, 1)`), all 64-byte aligned.
    pub struct Buffers {
        /// Input of BCE with logits and focal (and of `exp`).
        pub logits: AlignedBuf,
        /// Input of BCE.
        pub probabilities: AlignedBuf,
        /// Targets of every binary loss.
        pub targets: AlignedBuf,
        /// Gradient / triad / map output.
        pub grad: AlignedBuf,
    }

    impl Buffers {
        /// The four buffers of `n` elements.
        pub fn new(n: usize) -> Self {
            let mut targets = AlignedBuf::uniform(n, 0, 0xb1_0003, 0.0, 1.0);
            for t in targets.as_mut_slice() {
                *t = if *t < 0.5 { 0.0 } else { 1.0 };
            }
            let mut grad = AlignedBuf::new(n, 0);
            fill_uniform(grad.as_mut_slice(), 0xb1_0004, -1.0, 1.0);
            Self {
                logits: AlignedBuf::uniform(n, 0, 0xb1_0001, -8.0, 8.0),
                probabilities: AlignedBuf::uniform(n, 0, 0xb1_0002, 0.0, 1.0),
                targets,
                grad,
            }
        }
    }

    /// BCE: `−[y·max(ln p, −100) + (1−y)·max(ln(1−p), −100)]`, gradient
    /// `(p − y)/max(p(1−p), 1e−12)/n`.
    #[inline(never)]
    pub fn bce(p: &[f32], y: &[f32], grad: &mut [f32]) -> f32 {
        let scale = inv_len(p.len());
        let mut sum = 0.0f64;
        for ((g, &p), &y) in grad.iter_mut().zip(p).zip(y) {
            let lp = libm::logf(p).max(-100.0);
            let lq = libm::logf(1.0 - p).max(-100.0);
            sum += f64::from(-(y * lp + (1.0 - y) * lq));
            *g = (p - y) / (p * (1.0 - p)).max(1e-12) * scale;
        }
        mean(sum, p.len())
    }

    /// BCE with logits: `(1−y)x + softplus(−x)` with
    /// `softplus(−x) = max(−x, 0) + log1p(e^−|x|)`, gradient `(σ(x) − y)/n`
    /// with σ from the same `e^−|x|` (one `expf` + one `log1pf` per logit).
    #[inline(never)]
    pub fn bce_with_logits(x: &[f32], y: &[f32], grad: &mut [f32]) -> f32 {
        let scale = inv_len(x.len());
        let mut sum = 0.0f64;
        for ((g, &x), &y) in grad.iter_mut().zip(x).zip(y) {
            let e = libm::expf(-x.abs());
            let softplus_neg = (-x).max(0.0) + libm::log1pf(e);
            sum += f64::from((1.0 - y) * x + softplus_neg);
            let p = if x >= 0.0 {
                1.0 / (1.0 + e)
            } else {
                e / (1.0 + e)
            };
            *g = (p - y) * scale;
        }
        mean(sum, x.len())
    }

    /// torchvision's sigmoid focal loss (α = [`ALPHA`], γ = [`GAMMA`]) and
    /// its derivative: `α_t·q^γ·ce` with `q = 1 − p_t`, derivative
    /// `α_t·[γ·q^(γ−1)·p(1−p)(1−2y)·ce + q^γ·(p − y)]` (one `powf`).
    #[inline(never)]
    pub fn focal(x: &[f32], y: &[f32], grad: &mut [f32]) -> f32 {
        let scale = inv_len(x.len());
        let mut sum = 0.0f64;
        for ((g, &x), &y) in grad.iter_mut().zip(x).zip(y) {
            let e = libm::expf(-x.abs());
            let ce = (1.0 - y) * x + (-x).max(0.0) + libm::log1pf(e);
            let p = if x >= 0.0 {
                1.0 / (1.0 + e)
            } else {
                e / (1.0 + e)
            };
            let q = p * (1.0 - y) + (1.0 - p) * y;
            let q_gm1 = libm::powf(q, GAMMA - 1.0);
            let q_g = q_gm1 * q;
            let alpha_t = ALPHA * y + (1.0 - ALPHA) * (1.0 - y);
            sum += f64::from(alpha_t * q_g * ce);
            let dq = p * (1.0 - p) * (1.0 - 2.0 * y);
            *g = alpha_t * (GAMMA * q_gm1 * dq * ce + q_g * (p - y)) * scale;
        }
        mean(sum, x.len())
    }

    /// `out[i] = libm::expf(x[i])`, the plain loop of
    /// `simdloss::elementwise::map(.., Function::Exp, ..)`. The target is
    /// unused and there is no loss value: returns 0 (the signature is
    /// [`super::plain::PlainFn`]'s, so it fits the same benchmark groups).
    #[inline(never)]
    pub fn exp(x: &[f32], _target: &[f32], out: &mut [f32]) -> f32 {
        for (o, &x) in out.iter_mut().zip(x) {
            *o = libm::expf(x);
        }
        0.0
    }
}

/// The class-axis helpers of `benches/softmax.rs` and the softmax rows of
/// `examples/bench_report.rs`: the shapes, the plain scalar loop a user
/// would write, and the NCHW ↔ NHWC transposes of the "transpose, then
/// run the channels-last kernel" alternative.
pub mod softmax {
    use super::plain::mean;

    /// One benchmarked `[N, C, S]` shape.
    #[derive(Clone, Copy, Debug)]
    pub struct SoftmaxShape {
        /// What it models.
        pub name: &'static str,
        /// Images (rows).
        pub n: usize,
        /// Classes.
        pub c: usize,
        /// Pixels per image (1 for a classifier).
        pub s: usize,
    }

    impl SoftmaxShape {
        /// `N·C·S` logits.
        pub fn len(&self) -> usize {
            self.n * self.c * self.s
        }
        /// `N·S` samples.
        pub fn samples(&self) -> usize {
            self.n * self.s
        }
        /// `[N, C, S]` as text.
        pub fn label(&self) -> String {
            let s = match self.s {
                262_144 => String::from("512²"),
                s => s.to_string(),
            };
            format!("[{}, {}, {s}]", self.n, self.c)
        }
    }

    /// ImageNet classifier batch: the row kernel.
    pub const IMAGENET: SoftmaxShape = SoftmaxShape {
        name: "ImageNet",
        n: 4096,
        c: 1000,
        s: 1,
    };
    /// A language model's vocabulary: the row kernel on long rows.
    pub const VOCAB: SoftmaxShape = SoftmaxShape {
        name: "vocab 32k",
        n: 64,
        c: 32_000,
        s: 1,
    };
    /// Pascal VOC segmentation, NCHW: the tile kernel.
    pub const VOC_NCHW: SoftmaxShape = SoftmaxShape {
        name: "VOC NCHW",
        n: 4,
        c: 21,
        s: 512 * 512,
    };
    /// 21 classes channels-last, one row per pixel (`S = 1`).
    pub const VOC_NHWC: SoftmaxShape = SoftmaxShape {
        name: "VOC NHWC",
        n: 65_536,
        c: 21,
        s: 1,
    };
    /// The shapes every softmax benchmark runs.
    pub const SHAPES: [SoftmaxShape; 4] = [IMAGENET, VOCAB, VOC_NCHW, VOC_NHWC];

    /// A label of sample `j` (deterministic, every class reached).
    pub fn label(j: usize, c: usize) -> usize {
        (j.wrapping_mul(2_654_435_761) >> 7) % c
    }

    /// The plain scalar loop a user would write for mean softmax
    /// cross-entropy with index labels over `[N, C, S]`: per sample, the
    /// maximum, `Σ expf(x − max)` with `expf(x − max)` kept in the
    /// gradient buffer, `logf`, then the gradient `(p − onehot)/(N·S)`.
    /// One `libm::expf` and one pass of writes per logit; value summed in
    /// f64. Returns the mean loss.
    #[inline(never)]
    pub fn plain_ce<T: Copy + Into<i64>>(
        x: &[f32],
        (n, c, s): (usize, usize, usize),
        labels: &[T],
        grad: &mut [f32],
    ) -> f32 {
        let samples = n * s;
        let scale = super::plain::inv_len(samples);
        let mut sum = 0.0f64;
        for img in 0..n {
            for px in 0..s {
                let at = |k: usize| (img * c + k) * s + px;
                let y = usize::try_from(labels[img * s + px].into()).unwrap_or(0);
                let mut m = f32::NEG_INFINITY;
                for k in 0..c {
                    m = m.max(x[at(k)]);
                }
                let mut z = 0.0f32;
                for k in 0..c {
                    let e = libm::expf(x[at(k)] - m);
                    grad[at(k)] = e;
                    z += e;
                }
                sum += f64::from(libm::logf(z) + m - x[at(y)]);
                let inv = scale / z;
                for k in 0..c {
                    grad[at(k)] *= inv;
                }
                grad[at(y)] -= scale;
            }
        }
        mean(sum, samples)
    }

    /// Pixels per block of the transposes (one 64-byte line of f32 per
    /// class and block: `C` read streams, one write stream).
    const BLOCK: usize = 16;

    /// `dst[(n·S + s)·C + c] = src[(n·C + c)·S + s]`: NCHW to NHWC,
    /// blocked so that each class row is read a cache line at a time.
    #[inline(never)]
    pub fn nchw_to_nhwc(src: &[f32], dst: &mut [f32], (n, c, s): (usize, usize, usize)) {
        for img in 0..n {
            let src = &src[img * c * s..(img + 1) * c * s];
            let dst = &mut dst[img * c * s..(img + 1) * c * s];
            for s0 in (0..s).step_by(BLOCK) {
                let s1 = (s0 + BLOCK).min(s);
                for k in 0..c {
                    let row = &src[k * s + s0..k * s + s1];
                    for (i, &v) in row.iter().enumerate() {
                        dst[(s0 + i) * c + k] = v;
                    }
                }
            }
        }
    }

    /// The inverse of [`nchw_to_nhwc`] (the gradient back to NCHW).
    #[inline(never)]
    pub fn nhwc_to_nchw(src: &[f32], dst: &mut [f32], (n, c, s): (usize, usize, usize)) {
        for img in 0..n {
            let src = &src[img * c * s..(img + 1) * c * s];
            let dst = &mut dst[img * c * s..(img + 1) * c * s];
            for s0 in (0..s).step_by(BLOCK) {
                let s1 = (s0 + BLOCK).min(s);
                for k in 0..c {
                    let row = &mut dst[k * s + s0..k * s + s1];
                    for (i, v) in row.iter_mut().enumerate() {
                        *v = src[(s0 + i) * c + k];
                    }
                }
            }
        }
    }
}

/// The Dice-family helpers of `benches/dice.rs` and the Dice rows of
/// `examples/bench_report.rs`: the shapes, the labels, the "same bytes"
/// triad and the plain scalar loops a user would write (MONAI's defaults:
/// `smooth_nr = smooth_dr = 1e-5`, background included, one term per
/// (image, class), `Reduction::Mean` over the terms).
pub mod dice {
    use super::TRIAD_K;
    use super::softmax::{self, SoftmaxShape};

    /// `(N, C, S)`.
    pub type Dims = (usize, usize, usize);

    /// A plain loop: `(logits, dims, labels, grad) -> mean loss`.
    pub type PlainDiceFn = fn(&[f32], Dims, &[u8], &mut [f32]) -> f32;

    /// MONAI's default `smooth_nr` and `smooth_dr`.
    pub const SMOOTH: f32 = 1e-5;

    /// Pascal VOC segmentation, NCHW (softmax Dice, Dice + CE,
    /// generalized Dice).
    pub const VOC: SoftmaxShape = softmax::VOC_NCHW;

    /// Binary segmentation: one channel, sigmoid (`[8, 1, 512²]`).
    pub const BINARY: SoftmaxShape = SoftmaxShape {
        name: "binary",
        n: 8,
        c: 1,
        s: 512 * 512,
    };

    /// Index labels `[N, S]` of a shape: classes `0..C`, every one
    /// reached; for one channel the foreground mask (0 or 1, about half
    /// each).
    pub fn labels(sh: SoftmaxShape) -> Vec<u8> {
        let classes = if sh.c == 1 { 2 } else { sh.c };
        (0..sh.samples())
            .map(|j| u8::try_from(softmax::label(j, classes)).expect("C ≤ 255"))
            .collect()
    }

    /// The triad over the bytes of a Dice call: `c = a + k·b` with
    /// `a = b = logits` and `c = grad` (one read of every logit, one write
    /// of every gradient element), then one read of every label (summed,
    /// so it cannot be skipped). Returns the label sum.
    #[inline(never)]
    pub fn triad_with_labels(
        triad: super::TriadFn,
        x: &[f32],
        labels: &[u8],
        grad: &mut [f32],
    ) -> u64 {
        triad(x, x, grad, TRIAD_K);
        let mut words = labels.chunks_exact(8);
        let mut sum = 0u64;
        for w in &mut words {
            let w: [u8; 8] = w.try_into().expect("chunks of 8");
            sum = sum.wrapping_add(u64::from_ne_bytes(w));
        }
        words
            .remainder()
            .iter()
            .fold(sum, |acc, &b| acc.wrapping_add(u64::from(b)))
    }

    /// `∂term/∂I` and `∂term/∂P` of every (image, class) term, already
    /// scaled by the reduction, in f32: what the gradient loop needs.
    struct Slopes {
        d_i: Vec<f32>,
        d_p: Vec<f32>,
    }

    /// `f64` sums `[I, P, G]` per (image, class).
    type Sums = [f64; 3];

    /// Pass 1 of the softmax losses: per pixel the maximum, `libm::expf`,
    /// the normalisation (`p` left in `p_out`), and the per-(n, c) sums
    /// `I = Σ p·[y = c]`, `P = Σ p`, `G = Σ [y = c]`; with `CE`, also
    /// `Σ −log p_y = Σ (log z + m − x_y)` (returned).
    #[inline(always)]
    fn softmax_sums<const CE: bool>(
        x: &[f32],
        (n, c, s): Dims,
        labels: &[u8],
        p_out: &mut [f32],
        sums: &mut [Sums],
    ) -> f64 {
        let mut ce = 0.0f64;
        for img in 0..n {
            for px in 0..s {
                let at = |k: usize| (img * c + k) * s + px;
                let y = usize::from(labels[img * s + px]);
                let mut m = f32::NEG_INFINITY;
                for k in 0..c {
                    m = m.max(x[at(k)]);
                }
                let mut z = 0.0f32;
                for k in 0..c {
                    let e = libm::expf(x[at(k)] - m);
                    p_out[at(k)] = e;
                    z += e;
                }
                if CE {
                    ce += f64::from(libm::logf(z) + m - x[at(y)]);
                }
                let inv = 1.0 / z;
                for k in 0..c {
                    let p = p_out[at(k)] * inv;
                    p_out[at(k)] = p;
                    let acc = &mut sums[img * c + k];
                    acc[1] += f64::from(p);
                    if k == y {
                        acc[0] += f64::from(p);
                        acc[2] += 1.0;
                    }
                }
            }
        }
        ce
    }

    /// The Dice terms `1 − (2I + s)/(P + G + s)` and their slopes for a
    /// mean over `sums.len()` terms; returns `(mean, slopes)`.
    fn dice_ratio(sums: &[Sums]) -> (f64, Slopes) {
        let a = f64::from(SMOOTH);
        #[allow(clippy::cast_precision_loss)]
        let r = 1.0 / sums.len() as f64;
        let mut total = 0.0;
        let mut d_i = Vec::with_capacity(sums.len());
        let mut d_p = Vec::with_capacity(sums.len());
        for &[i, p, g] in sums {
            let nr = 2.0 * i + a;
            let d = p + g + a;
            total += 1.0 - nr / d;
            #[allow(clippy::cast_possible_truncation)]
            {
                d_i.push((-2.0 * r / d) as f32);
                d_p.push((r * nr / (d * d)) as f32);
            }
        }
        (total * r, Slopes { d_i, d_p })
    }

    /// Pass 2 of the softmax losses, `p` read from `grad` and overwritten:
    /// `v_c = ∂/∂p_c = d_p + d_i·[y = c]`, then through the softmax
    /// `λ_dice·p_c (v_c − Σ_k p_k v_k)`, plus `ce_scale·(p_c − [y = c])`
    /// (0 for Dice alone).
    #[inline(always)]
    fn softmax_grad(
        (n, c, s): Dims,
        labels: &[u8],
        slopes: &Slopes,
        ce_scale: f32,
        grad: &mut [f32],
    ) {
        for img in 0..n {
            let d_i = &slopes.d_i[img * c..(img + 1) * c];
            let d_p = &slopes.d_p[img * c..(img + 1) * c];
            for px in 0..s {
                let at = |k: usize| (img * c + k) * s + px;
                let y = usize::from(labels[img * s + px]);
                let mut dot = 0.0f32;
                for k in 0..c {
                    dot += grad[at(k)] * d_p[k];
                }
                dot += grad[at(y)] * d_i[y];
                for k in 0..c {
                    let p = grad[at(k)];
                    let hot = if k == y { 1.0 } else { 0.0 };
                    let v = d_p[k] + hot * d_i[k];
                    grad[at(k)] = p * (v - dot) + ce_scale * (p - hot);
                }
            }
        }
    }

    /// `Dice::new(Activation::Softmax)`, `Mean`: softmax and sums, the
    /// ratio, then the gradient through the ratio and the softmax.
    #[inline(never)]
    pub fn plain_dice_softmax(x: &[f32], dims: Dims, labels: &[u8], grad: &mut [f32]) -> f32 {
        let mut sums = vec![[0.0f64; 3]; dims.0 * dims.1];
        softmax_sums::<false>(x, dims, labels, grad, &mut sums);
        let (value, slopes) = dice_ratio(&sums);
        softmax_grad(dims, labels, &slopes, 0.0, grad);
        #[allow(clippy::cast_possible_truncation)]
        let value = value as f32;
        value
    }

    /// `DiceCrossEntropy::new()`, `Mean`: one softmax per pixel serving
    /// the Dice sums and the CE value (`Σ (log z + m − x_y)/(N·S)`), then
    /// one gradient loop writing Dice's chain plus `(p − onehot)/(N·S)`.
    #[inline(never)]
    pub fn plain_dice_ce(x: &[f32], dims: Dims, labels: &[u8], grad: &mut [f32]) -> f32 {
        let mut sums = vec![[0.0f64; 3]; dims.0 * dims.1];
        let ce = softmax_sums::<true>(x, dims, labels, grad, &mut sums);
        let (dice, slopes) = dice_ratio(&sums);
        let samples = dims.0 * dims.2;
        softmax_grad(dims, labels, &slopes, super::plain::inv_len(samples), grad);
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
        let value = (dice + ce / samples as f64) as f32;
        value
    }

    /// `GeneralizedDice::new(Activation::Softmax)`, `Mean` over the
    /// images: softmax and sums, per image `w_c = 1/G_c²` (an infinite
    /// one replaced by the largest finite, as MONAI), the ratio
    /// `1 − (2Σ w I + s)/(Σ w (P + G) + s)`, then the gradient.
    #[inline(never)]
    pub fn plain_generalized_dice(x: &[f32], dims: Dims, labels: &[u8], grad: &mut [f32]) -> f32 {
        let (n, c, _) = dims;
        let mut sums = vec![[0.0f64; 3]; n * c];
        softmax_sums::<false>(x, dims, labels, grad, &mut sums);
        let a = f64::from(SMOOTH);
        #[allow(clippy::cast_precision_loss)]
        let r = 1.0 / n as f64;
        let mut total = 0.0;
        let mut slopes = Slopes {
            d_i: vec![0.0; n * c],
            d_p: vec![0.0; n * c],
        };
        for img in 0..n {
            let row = &sums[img * c..(img + 1) * c];
            let mut w: Vec<f64> = row.iter().map(|e| 1.0 / (e[2] * e[2])).collect();
            let largest = w
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max);
            for v in &mut w {
                if v.is_infinite() {
                    *v = largest;
                }
            }
            let nr = 2.0 * row.iter().zip(&w).map(|(e, wc)| wc * e[0]).sum::<f64>() + a;
            let d = row
                .iter()
                .zip(&w)
                .map(|(e, wc)| wc * (e[1] + e[2]))
                .sum::<f64>()
                + a;
            total += 1.0 - nr / d;
            for (k, wc) in w.iter().enumerate() {
                #[allow(clippy::cast_possible_truncation)]
                {
                    slopes.d_i[img * c + k] = (r * (-2.0 * wc / d)) as f32;
                    slopes.d_p[img * c + k] = (r * wc * nr / (d * d)) as f32;
                }
            }
        }
        softmax_grad(dims, labels, &slopes, 0.0, grad);
        #[allow(clippy::cast_possible_truncation)]
        let value = (total * r) as f32;
        value
    }

    /// `Dice::new(Activation::Sigmoid)` with one channel (labels: the
    /// foreground mask), `Mean` over the images: `p = 1/(1 + expf(−x))`
    /// kept in `grad` and the sums, the ratio, then
    /// `(d_p + d_i·g)·p(1 − p)`.
    #[inline(never)]
    pub fn plain_dice_sigmoid(x: &[f32], (n, c, s): Dims, labels: &[u8], grad: &mut [f32]) -> f32 {
        assert_eq!(c, 1, "the binary case: one channel");
        let mut sums = vec![[0.0f64; 3]; n];
        for img in 0..n {
            let acc = &mut sums[img];
            let range = img * s..(img + 1) * s;
            for ((p_out, &x), &y) in grad[range.clone()]
                .iter_mut()
                .zip(&x[range])
                .zip(&labels[img * s..(img + 1) * s])
            {
                let p = 1.0 / (1.0 + libm::expf(-x));
                *p_out = p;
                let g = f64::from(y);
                acc[0] += f64::from(p) * g;
                acc[1] += f64::from(p);
                acc[2] += g;
            }
        }
        let (value, slopes) = dice_ratio(&sums);
        for img in 0..n {
            let (d_i, d_p) = (slopes.d_i[img], slopes.d_p[img]);
            for (g, &y) in grad[img * s..(img + 1) * s]
                .iter_mut()
                .zip(&labels[img * s..(img + 1) * s])
            {
                let p = *g;
                let v = d_p + f32::from(y) * d_i;
                *g = v * p * (1.0 - p);
            }
        }
        #[allow(clippy::cast_possible_truncation)]
        let value = value as f32;
        value
    }
}

/// The CPU's model name from `/proc/cpuinfo`, if there is one.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| String::from("unknown CPU"))
}
