//! Fused value + gradient of softmax cross-entropy (`Reduction::Mean`,
//! index labels, gradient overwritten) on every available ISA, beside the
//! yardsticks of DESIGN.md §4 in the same criterion groups:
//!
//! - `triad/<isa>`: the streaming triad `c[i] = a[i] + k·b[i]` with
//!   `a = b = logits` and `c = grad`: one read of every logit and one
//!   write of every gradient element, the traffic a fused pass cannot go
//!   below (labels add 1–8 bytes per sample on top).
//! - `plain`: the scalar loop a user would write (per sample: max,
//!   `libm::expf` sum kept in the gradient buffer, `logf`, then
//!   `p − onehot`). Bar: ≥ 8× on AVX-512, ≥ 4× on AVX2.
//! - VOC NCHW only, `transpose+fused/<isa>`: transposing the logits to
//!   channels-last, then the fused call on `[N·H·W, 21, 1]`; and
//!   `transpose+fused+back/<isa>`, the gradient transposed back too (what
//!   a user needs). Bar: the NCHW call is faster per logit.
//!
//! Shapes (`benches/common`): ImageNet `[4096, 1000, 1]` and a 32k
//! vocabulary `[64, 32000, 1]` (row kernel, `i64` labels), VOC
//! `[4, 21, 512²]` NCHW and `[65536, 21, 1]` channels-last (tile kernel,
//! `u8` labels). Logits uniform in `[−4, 4)`. Throughput is in logits.
//!
//! `cargo bench --bench softmax` (a few minutes); a filter such as
//! `cargo bench --bench softmax -- 'VOC NCHW'` runs a subset.

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use common::softmax::{SHAPES, SoftmaxShape, label, nchw_to_nhwc, nhwc_to_nchw, plain_ce};
use common::{AlignedBuf, TRIAD_K};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use simdloss::{ClassAxisLoss, ClassShape, Grad, Isa, Label, Reduction, SoftmaxCrossEntropy};

/// One shape's group, with labels of type `T`.
fn bench_shape<T: Label + Copy + Into<i64>>(
    c: &mut Criterion,
    sh: SoftmaxShape,
    labels: &[T],
    triad: common::TriadFn,
    triad_isa: &str,
) {
    let dims = (sh.n, sh.c, sh.s);
    let shape = ClassShape::new(sh.n, sh.c, sh.s).expect("valid shape");
    let logits = AlignedBuf::uniform(sh.len(), 0, 0x50f7_0001, -4.0, 4.0);
    let mut grad = AlignedBuf::new(sh.len(), 0);
    let x = logits.as_slice();
    let g = grad.as_mut_slice();

    let mut group = c.benchmark_group(format!("softmax_ce/{} {}", sh.name, sh.label()));
    group.throughput(Throughput::Elements(sh.len() as u64));
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));

    for isa in Isa::available() {
        let ce = SoftmaxCrossEntropy::new()
            .with_isa(isa)
            .expect("Isa::available() only lists ISAs this CPU runs");
        ce.value_and_grad(x, shape, labels, Reduction::Mean, Grad::overwrite(g))
            .expect("valid inputs");
        group.bench_function(BenchmarkId::new("fused", isa.name()), |b| {
            b.iter(|| {
                ce.value_and_grad(
                    black_box(x),
                    shape,
                    black_box(labels),
                    Reduction::Mean,
                    Grad::overwrite(black_box(&mut *g)),
                )
            });
        });
    }
    group.bench_function(BenchmarkId::new("triad", triad_isa), |b| {
        b.iter(|| triad(black_box(x), black_box(x), black_box(&mut *g), TRIAD_K));
    });
    group.bench_function("plain", |b| {
        b.iter(|| plain_ce(black_box(x), dims, black_box(labels), black_box(&mut *g)));
    });

    if sh.s > 1 {
        // The alternative: channels-last, then the [N·S, C, 1] call.
        let nhwc_shape = ClassShape::classifier(sh.samples(), sh.c).expect("valid shape");
        let mut x_t = AlignedBuf::new(sh.len(), 0);
        let mut g_t = AlignedBuf::new(sh.len(), 0);
        let ce = SoftmaxCrossEntropy::new();
        let isa = ce.isa();
        group.bench_function(BenchmarkId::new("transpose+fused", isa.name()), |b| {
            b.iter(|| {
                nchw_to_nhwc(black_box(x), x_t.as_mut_slice(), dims);
                ce.value_and_grad(
                    x_t.as_slice(),
                    nhwc_shape,
                    black_box(labels),
                    Reduction::Mean,
                    Grad::overwrite(g_t.as_mut_slice()),
                )
            });
        });
        group.bench_function(BenchmarkId::new("transpose+fused+back", isa.name()), |b| {
            b.iter(|| {
                nchw_to_nhwc(black_box(x), x_t.as_mut_slice(), dims);
                let v = ce.value_and_grad(
                    x_t.as_slice(),
                    nhwc_shape,
                    black_box(labels),
                    Reduction::Mean,
                    Grad::overwrite(g_t.as_mut_slice()),
                );
                nhwc_to_nchw(g_t.as_slice(), black_box(&mut *g), dims);
                v
            });
        });
    }
    group.finish();
}

fn softmax(c: &mut Criterion) {
    let (triad, triad_isa) = common::best_triad();
    for sh in SHAPES {
        if sh.s == 1 && sh.c > 255 {
            let labels: Vec<i64> = (0..sh.samples())
                .map(|j| i64::try_from(label(j, sh.c)).expect("fits"))
                .collect();
            bench_shape(c, sh, &labels, triad, triad_isa);
        } else {
            let labels: Vec<u8> = (0..sh.samples())
                .map(|j| u8::try_from(label(j, sh.c)).expect("fits"))
                .collect();
            bench_shape(c, sh, &labels, triad, triad_isa);
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().nresamples(20_000);
    targets = softmax
}

criterion_main!(benches);
