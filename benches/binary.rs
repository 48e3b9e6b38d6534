//! Fused value + gradient of the binary losses (BCE, BCE with logits,
//! sigmoid focal) on every available ISA, beside two yardsticks in the
//! same run and the same criterion groups:
//!
//! - `triad/<isa>`: the streaming triad `c[i] = a[i] + k·b[i]` for the
//!   widest vectors this CPU has (the memory traffic of a fused pass).
//! - `plain`: the scalar loop a user would write with `libm`
//!   (`common::binary`, shared with `examples/bench_report.rs`), already
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

// The plain loops are `plain::*` here, as the regression ones are in
// `benches/pointwise.rs`.
use common::binary::{self as plain, ALPHA, Buffers, GAMMA};
use common::plain::PlainFn;
use common::{SIZES, TRIAD_K, TriadFn};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use simdloss::{
    BinaryCrossEntropy, BinaryCrossEntropyWithLogits, Grad, Isa, PointwiseLoss, Reduction,
    SigmoidFocal,
};

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
