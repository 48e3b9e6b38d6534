//! Fused value + gradient of the Dice family (`Reduction::Mean`, `u8`
//! index labels, gradient overwritten, MONAI's defaults) on the best ISA
//! and on scalar, beside the yardsticks in the same criterion groups:
//!
//! - `triad/<isa>`: the streaming triad `c[i] = a[i] + k·b[i]` with
//!   `a = b = logits` and `c = grad`, then a read of every label: the
//!   bytes of one fused pass (issue 9's bars: binary sigmoid Dice ≤ 2.5×,
//!   Dice + CE ≤ 3×).
//! - `plain`: the scalar loop a user would write (per pixel max,
//!   `libm::expf` softmax or `1/(1 + expf(−x))` kept in the gradient
//!   buffer, f64 per-(n, c) sums; the ratio; then a second loop for the
//!   gradient through the ratio and the activation). Bar (DESIGN.md §4):
//!   ≥ 8× on AVX-512, ≥ 4× on AVX2.
//! - Dice + CE only, `dice+ce/<isa>`: our `Dice(softmax)` followed by our
//!   `SoftmaxCrossEntropy` accumulating into the same gradient (issue 9:
//!   the fused kernel ≥ 1.3× faster).
//!
//! Cases (`benches/common`): `Dice(softmax)`, `DiceCE` and
//! `GeneralizedDice(softmax)` on VOC `[4, 21, 512²]`; binary
//! `Dice(sigmoid)` on `[8, 1, 512²]` (labels: the 0/1 mask). Logits
//! uniform in `[−4, 4)`. Throughput is in logits.
//!
//! `cargo bench --bench dice` (a few minutes); a filter such as
//! `cargo bench --bench dice -- 'dice_sigmoid'` runs a subset.

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use common::dice::{self, PlainDiceFn};
use common::softmax::SoftmaxShape;
use common::{AlignedBuf, TriadFn};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use simdloss::{
    Activation, ClassAxisLoss, ClassShape, Dice, DiceCrossEntropy, GeneralizedDice, Grad, Isa,
    Reduction, SoftmaxCrossEntropy,
};

/// The ISAs timed: the best this CPU has, and scalar.
fn isas() -> Vec<Isa> {
    let mut isas = vec![Isa::best()];
    if Isa::best() != Isa::Scalar {
        isas.push(Isa::Scalar);
    }
    isas
}

/// One case's group: `loss` on `sh` against its plain loop.
fn bench_case<L: ClassAxisLoss + Copy>(
    c: &mut Criterion,
    name: &str,
    sh: SoftmaxShape,
    loss: L,
    plain: PlainDiceFn,
    (triad, triad_isa): (TriadFn, &str),
) {
    let dims = (sh.n, sh.c, sh.s);
    let shape = ClassShape::new(sh.n, sh.c, sh.s).expect("valid shape");
    let labels = dice::labels(sh);
    let labels = labels.as_slice();
    let logits = AlignedBuf::uniform(sh.len(), 0, 0x50f7_0001, -4.0, 4.0);
    let mut grad = AlignedBuf::new(sh.len(), 0);
    let x = logits.as_slice();
    let g = grad.as_mut_slice();

    let mut group = c.benchmark_group(format!("{name}/{}", sh.label()));
    group.throughput(Throughput::Elements(sh.len() as u64));
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));

    for isa in isas() {
        let l = loss
            .with_isa(isa)
            .expect("Isa::best() and Isa::Scalar run on this CPU");
        l.value_and_grad(x, shape, labels, Reduction::Mean, Grad::overwrite(g))
            .expect("valid inputs");
        group.bench_function(BenchmarkId::new("fused", isa.name()), |b| {
            b.iter(|| {
                l.value_and_grad(
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
        b.iter(|| {
            dice::triad_with_labels(triad, black_box(x), black_box(labels), black_box(&mut *g))
        });
    });
    group.bench_function("plain", |b| {
        b.iter(|| plain(black_box(x), dims, black_box(labels), black_box(&mut *g)));
    });
    group.finish();
}

/// Dice + CE's group also times our Dice followed by our CE.
fn bench_dice_ce(c: &mut Criterion, triad: (TriadFn, &str)) {
    let sh = dice::VOC;
    bench_case(
        c,
        "dice_ce",
        sh,
        DiceCrossEntropy::new(),
        dice::plain_dice_ce,
        triad,
    );

    let shape = ClassShape::new(sh.n, sh.c, sh.s).expect("valid shape");
    let labels = dice::labels(sh);
    let labels = labels.as_slice();
    let logits = AlignedBuf::uniform(sh.len(), 0, 0x50f7_0001, -4.0, 4.0);
    let mut grad = AlignedBuf::new(sh.len(), 0);
    let x = logits.as_slice();
    let g = grad.as_mut_slice();
    let dice = Dice::new(Activation::Softmax);
    let ce = SoftmaxCrossEntropy::new();

    let mut group = c.benchmark_group(format!("dice_ce/{}", sh.label()));
    group.throughput(Throughput::Elements(sh.len() as u64));
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function(BenchmarkId::new("dice+ce", dice.isa().name()), |b| {
        b.iter(|| {
            let d = dice.value_and_grad(
                black_box(x),
                shape,
                black_box(labels),
                Reduction::Mean,
                Grad::overwrite(black_box(&mut *g)),
            );
            let e = ce.value_and_grad(
                black_box(x),
                shape,
                black_box(labels),
                Reduction::Mean,
                Grad::accumulate(black_box(&mut *g)),
            );
            (d, e)
        });
    });
    group.finish();
}

fn dice(c: &mut Criterion) {
    let triad = common::best_triad();
    let softmax = Activation::Softmax;
    bench_case(
        c,
        "dice_softmax",
        dice::VOC,
        Dice::new(softmax),
        dice::plain_dice_softmax,
        triad,
    );
    bench_dice_ce(c, triad);
    let sigmoid = Dice::new(Activation::Sigmoid);
    bench_case(
        c,
        "dice_sigmoid",
        dice::BINARY,
        sigmoid,
        dice::plain_dice_sigmoid,
        triad,
    );
    let generalized = GeneralizedDice::new(softmax);
    bench_case(
        c,
        "generalized_dice",
        dice::VOC,
        generalized,
        dice::plain_generalized_dice,
        triad,
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().nresamples(20_000);
    targets = dice
}

criterion_main!(benches);
