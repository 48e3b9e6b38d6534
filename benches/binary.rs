//! Fused value + gradient of the binary losses (BCE, BCE with logits,
//! sigmoid focal) on every available ISA, beside two yardsticks in the
//! same run and the same criterion groups:
//!
//! - `triad/<isa>`: the streaming triad `c[i] = a[i] + k·b[i]` for the
//!   widest vectors this CPU has (the memory traffic of a fused pass).
//! - `plain`: the scalar loop a user would write with `libm`, already
//!   economical: one `expf` + one `log1pf` per logit (σ reuses `e^−|x|`),
//!   `powf` once per element for focal, `logf` twice for BCE. Bar
//!   (DESIGN.md §4): fused BCE-with-logits and focal ≥ 8× faster on
//!   AVX-512 and ≥ 4× on AVX2 at 2^18 elements.
//!
//! Groups are `<loss>/<n>` for n = 4096, 2^18, 2^24 (buffers aligned to 64
//! bytes). Throughput is in elements. Inputs: logits uniform in [−8, 8),
//! probabilities uniform in [0, 1), hard targets (0 or 1, half each).
//!
//! `cargo bench --bench binary` (about 5 minutes on 2 cores); a filter
//! such as `cargo bench --bench binary -- 'focal/262144'` runs a subset.

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{AlignedBuf, SIZES, TRIAD_K, TriadFn, fill_uniform};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use simdloss::{
    BinaryCrossEntropy, BinaryCrossEntropyWithLogits, Grad, Isa, PointwiseLoss, Reduction,
    SigmoidFocal,
};

/// Focal loss parameters (torchvision's defaults).
const ALPHA: f32 = 0.25;
const GAMMA: f32 = 2.0;

/// The plain scalar loops: one pass over zipped slices, the value summed
/// in f64, the gradient of the mean written in place, `libm` for the
/// transcendental functions. Each returns the mean loss.
mod plain {
    use super::{ALPHA, GAMMA};
    use crate::common::plain::{inv_len, mean};

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
    /// with σ from the same `e^−|x|`.
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

    /// torchvision's sigmoid focal loss and its derivative:
    /// `α_t·q^γ·ce` with `q = 1 − p_t`, derivative
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
}

/// The signature shared by the plain loops.
type PlainFn = fn(&[f32], &[f32], &mut [f32]) -> f32;

/// Inputs of one size: logits, probabilities, hard targets, gradient.
struct Buffers {
    logits: AlignedBuf,
    probabilities: AlignedBuf,
    targets: AlignedBuf,
    grad: AlignedBuf,
}

impl Buffers {
    fn new(n: usize) -> Self {
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

/// One `<name>/<n>` group: the fused call on every available ISA, the
/// triad and the plain loop, over the same buffers.
#[allow(clippy::too_many_arguments)]
fn bench_group<L: PointwiseLoss + Copy>(
    c: &mut Criterion,
    name: &str,
    loss: L,
    plain_fn: PlainFn,
    triad: (TriadFn, &str),
    input: &[f32],
    target: &[f32],
    grad: &mut [f32],
) {
    let n = input.len();
    let mut group = c.benchmark_group(format!("{name}/{n}"));
    group.throughput(Throughput::Elements(n as u64));
    if n >= 1 << 24 {
        // Tens of ms a call on the fast paths, ~0.5 s for the plain loop.
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
    } else if n >= 1 << 18 {
        group
            .sample_size(20)
            .warm_up_time(Duration::from_millis(400))
            .measurement_time(Duration::from_secs(2));
    } else {
        group
            .sample_size(40)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
    }

    for isa in Isa::available() {
        let loss = loss
            .with_isa(isa)
            .expect("Isa::available() only lists ISAs this CPU runs");
        // One checked call outside the timing: the loop below cannot fail.
        loss.value_and_grad(input, target, Reduction::Mean, Grad::overwrite(grad))
            .expect("valid inputs");
        group.bench_function(BenchmarkId::new("fused", isa.name()), |b| {
            b.iter(|| {
                loss.value_and_grad(
                    black_box(input),
                    black_box(target),
                    Reduction::Mean,
                    Grad::overwrite(black_box(&mut *grad)),
                )
            });
        });
    }

    let (triad_fn, triad_isa) = triad;
    group.bench_function(BenchmarkId::new("triad", triad_isa), |b| {
        b.iter(|| {
            triad_fn(
                black_box(input),
                black_box(target),
                black_box(&mut *grad),
                black_box(TRIAD_K),
            );
        });
    });

    group.bench_function("plain", |b| {
        b.iter(|| plain_fn(black_box(input), black_box(target), black_box(&mut *grad)));
    });

    group.finish();
}

fn binary(c: &mut Criterion) {
    let triad = common::best_triad();
    let focal = SigmoidFocal::new(ALPHA, GAMMA).expect("α = 0.25, γ = 2 are valid");
    for n in SIZES {
        let mut bufs = Buffers::new(n);
        let x = bufs.logits.as_slice();
        let p = bufs.probabilities.as_slice();
        let y = bufs.targets.as_slice();
        let g = bufs.grad.as_mut_slice();
        let bce = BinaryCrossEntropy::new();
        let logits = BinaryCrossEntropyWithLogits::new();
        bench_group(c, "bce", bce, plain::bce, triad, p, y, g);
        bench_group(
            c,
            "bce_with_logits",
            logits,
            plain::bce_with_logits,
            triad,
            x,
            y,
            g,
        );
        bench_group(c, "focal", focal, plain::focal, triad, x, y, g);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().nresamples(20_000);
    targets = binary
}

criterion_main!(benches);
