//! Fused value + gradient of the regression losses on every available ISA,
//! beside the two yardsticks of DESIGN.md §4, in the same run and the same
//! criterion groups:
//!
//! - `triad/<isa>`: the streaming triad `c[i] = a[i] + k·b[i]` (2 reads +
//!   1 write per element, the traffic of a fused pass), compiled for the
//!   widest vectors this CPU has. Bar: fused ≤ 1.15× its time at 2^18 and
//!   2^24 elements.
//! - `plain`: the scalar loop a user would write. Bar: fused (AVX-512) ≥ 6×
//!   faster at 4096 elements.
//!
//! Groups are `<loss>/<n>` (buffers aligned to 64 bytes) and
//! `<loss>/<n>+1` (input, target and gradient each one element past
//! alignment). Throughput is in elements.
//!
//! `cargo bench --bench pointwise` (about 5 minutes on 2 cores); a filter
//! such as `cargo bench --bench pointwise -- 'mse/4096'` runs a subset.
//! `cargo run --release --example bench_report` prints the same comparison
//! as a markdown table with PASS/FAIL per bar.

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use common::plain::{self, PlainFn};
use common::{SIZES, Streams, TRIAD_K, TriadFn};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use simdloss::{Grad, Huber, Isa, L1, Mse, PointwiseLoss, Reduction, SmoothL1};

/// One benchmark group's shape: `n` elements, `offset` elements past
/// 64-byte alignment.
#[derive(Clone, Copy)]
struct Case {
    n: usize,
    offset: usize,
}

impl Case {
    fn label(self) -> String {
        if self.offset == 0 {
            format!("{}", self.n)
        } else {
            format!("{}+{}", self.n, self.offset)
        }
    }
}

/// 4096 aligned and offset by one, then 2^18 and 2^24 aligned.
fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case {
            n: SIZES[0],
            offset: 0,
        },
        Case {
            n: SIZES[0],
            offset: 1,
        },
    ];
    cases.extend(SIZES[1..].iter().map(|&n| Case { n, offset: 0 }));
    cases
}

/// Runs one `<loss>/<case>` group: the fused call on every available ISA,
/// the triad and the plain loop, over the same buffers.
fn bench_group<L: PointwiseLoss + Copy>(
    c: &mut Criterion,
    name: &str,
    loss: L,
    plain_fn: PlainFn,
    triad: (TriadFn, &str),
    case: Case,
    streams: &mut Streams,
) {
    let mut group = c.benchmark_group(format!("{name}/{}", case.label()));
    group.throughput(Throughput::Elements(case.n as u64));
    if case.n >= 1 << 24 {
        // ~5 ms a call on the fast paths, ~30+ ms on the slow ones.
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_millis(800))
            .measurement_time(Duration::from_secs(3));
    } else if case.n >= 1 << 18 {
        group
            .sample_size(30)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
    } else {
        group
            .sample_size(50)
            .warm_up_time(Duration::from_millis(400))
            .measurement_time(Duration::from_millis(1500));
    }

    let Streams { input, target, out } = streams;
    let x = input.as_slice();
    let y = target.as_slice();

    for isa in Isa::available() {
        let loss = loss
            .with_isa(isa)
            .expect("Isa::available() only lists ISAs this CPU runs");
        // One checked call outside the timing: the loop below cannot fail.
        loss.value_and_grad(x, y, Reduction::Mean, Grad::overwrite(out.as_mut_slice()))
            .expect("equal, non-empty lengths");
        group.bench_function(BenchmarkId::new("fused", isa.name()), |b| {
            b.iter(|| {
                loss.value_and_grad(
                    black_box(x),
                    black_box(y),
                    Reduction::Mean,
                    Grad::overwrite(black_box(out.as_mut_slice())),
                )
            });
        });
    }

    let (triad_fn, triad_isa) = triad;
    group.bench_function(BenchmarkId::new("triad", triad_isa), |b| {
        b.iter(|| {
            triad_fn(
                black_box(x),
                black_box(y),
                black_box(out.as_mut_slice()),
                black_box(TRIAD_K),
            );
        });
    });

    group.bench_function("plain", |b| {
        b.iter(|| plain_fn(black_box(x), black_box(y), black_box(out.as_mut_slice())));
    });

    group.finish();
}

fn regression(c: &mut Criterion) {
    let triad = common::best_triad();
    let huber = Huber::new(plain::HUBER_DELTA).expect("δ = 1 is valid");
    let smooth_l1 = SmoothL1::new(plain::SMOOTH_L1_BETA).expect("β = 1 is valid");
    for case in cases() {
        // One set of buffers per case, shared by the four losses.
        let mut streams = Streams::new(case.n, case.offset);
        let s = &mut streams;
        bench_group(c, "mse", Mse::new(), plain::mse, triad, case, s);
        bench_group(c, "l1", L1::new(), plain::l1, triad, case, s);
        bench_group(c, "huber", huber, plain::huber, triad, case, s);
        bench_group(c, "smooth_l1", smooth_l1, plain::smooth_l1, triad, case, s);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().nresamples(20_000);
    targets = regression
}

criterion_main!(benches);
