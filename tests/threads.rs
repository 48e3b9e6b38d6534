//! The `rayon` feature: every verb of every pointwise loss, of the softmax
//! losses and of the Dice family gives the same bits under thread pools of 1, 2, 3, 8 and
//! 64 threads, on every ISA.
//!
//! A pool of one thread runs each pass unsplit (the code path of the build
//! without the feature); larger pools cut passes above the parallel
//! thresholds at block boundaries and merge exact totals. The inputs mix
//! magnitudes from 2^-60 to 2^40 so that the f64 sum of the block partials
//! rounds many times: a merge that were not exact would change bits.
//! `tests/golden.rs::golden_large_inputs_split_over_threads` pins the same
//! kind of large pass to one constant in both builds.
#![cfg(feature = "rayon")]

mod common;

use common::{SplitMix64, first_bit_mismatch, isas, same_bits};
use simdloss::{
    Activation, BinaryCrossEntropy, BinaryCrossEntropyWithLogits, ClassAxisLoss, ClassShape, Dice,
    DiceCrossEntropy, GeneralizedDice, Grad, Huber, Isa, L1, Mse, PointwiseLoss, Probabilities,
    Reduction, SigmoidFocal, SmoothL1, SoftmaxCrossEntropy, SoftmaxFocal, Tversky,
};

const POOLS: [usize; 5] = [1, 2, 3, 8, 64];

/// Well above both parallel thresholds (2^13 compute-bound, 2^15 memory-bound),
/// not a multiple of 64, a multiple of 80 (the `pos_weight` classes).
const N: usize = (1 << 18) + (1 << 16) + 80;

/// Everything the verbs produce for one loss: the two reduced values, the
/// overwritten gradient, a scaled gradient accumulated onto prior
/// contents, the per-element values.
struct Outputs {
    values: [f32; 3],
    grad: Vec<f32>,
    accumulated: Vec<f32>,
    per_element: Vec<f32>,
}

fn outputs<T: PointwiseLoss>(loss: &T, x: &[f32], y: &[f32], prior: &[f32]) -> Outputs {
    let mean = loss.value(x, y, Reduction::Mean).expect("value");
    let mut grad = vec![0.0; x.len()];
    let sum = loss
        .value_and_grad(x, y, Reduction::Sum, Grad::overwrite(&mut grad))
        .expect("value_and_grad");
    let mut accumulated = prior.to_vec();
    let acc = loss
        .value_and_grad(
            x,
            y,
            Reduction::Mean,
            Grad::accumulate(&mut accumulated).scaled(0.75),
        )
        .expect("accumulate");
    let mut per_element = vec![0.0; x.len()];
    loss.per_element(x, y, &mut per_element)
        .expect("per_element");
    Outputs {
        values: [mean, sum, acc],
        grad,
        accumulated,
        per_element,
    }
}

/// Every output of `got` has the bits of `want` (NaN matches any NaN).
fn assert_same(what: &str, got: &Outputs, want: &Outputs) {
    for (k, (&g, &w)) in got.values.iter().zip(&want.values).enumerate() {
        assert!(same_bits(g, w), "{what}: value {k}: {g:e} vs {w:e}");
    }
    for (part, g, w) in [
        ("grad", &got.grad, &want.grad),
        ("accumulated grad", &got.accumulated, &want.accumulated),
        ("per-element", &got.per_element, &want.per_element),
    ] {
        assert_eq!(first_bit_mismatch(g, w), None, "{what}: {part}");
    }
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
}

/// Runs `make(isa)`'s loss under every pool and checks every output
/// against the one-thread run.
fn check_every_pool<T: PointwiseLoss + Sync>(
    name: &str,
    make: impl Fn(Isa) -> T,
    x: &[f32],
    y: &[f32],
    prior: &[f32],
) {
    for isa in isas() {
        let loss = make(isa);
        let want = pool(1).install(|| outputs(&loss, x, y, prior));
        assert!(
            want.values.iter().all(|v| v.is_finite()),
            "{name} {isa:?}: {:?}",
            want.values
        );
        for threads in POOLS.into_iter().skip(1) {
            let got = pool(threads).install(|| outputs(&loss, x, y, prior));
            assert_same(&format!("{name} {isa:?} {threads} threads"), &got, &want);
        }
    }
}

/// Residual-like inputs whose magnitudes span 2^-60 .. 2^40 in runs, so
/// that block partials differ by far more than 2^29 and the f64 total of
/// the blocks rounds.
fn spread(rng: &mut SplitMix64, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let e = ((i / 512) % 101) as i32 - 60;
            rng.symmetric(0) * 2f32.powi(e)
        })
        .collect()
}

#[test]
fn regression_losses_same_bits_for_every_thread_count() {
    let mut rng = SplitMix64::new(0x7EAD_0001);
    let x = spread(&mut rng, N);
    let y: Vec<f32> = x.iter().map(|&v| v * 0.5 + rng.symmetric(-4)).collect();
    let prior = rng.normalish_vec(N);
    check_every_pool(
        "mse",
        |isa| Mse::new().with_isa(isa).expect("isa"),
        &x,
        &y,
        &prior,
    );
    check_every_pool(
        "l1",
        |isa| L1::new().with_isa(isa).expect("isa"),
        &x,
        &y,
        &prior,
    );
    check_every_pool(
        "huber",
        |isa| Huber::new(1.0).expect("delta").with_isa(isa).expect("isa"),
        &x,
        &y,
        &prior,
    );
    check_every_pool(
        "smooth_l1",
        |isa| {
            SmoothL1::new(0.5)
                .expect("beta")
                .with_isa(isa)
                .expect("isa")
        },
        &x,
        &y,
        &prior,
    );
}

#[test]
fn binary_losses_same_bits_for_every_thread_count() {
    let mut rng = SplitMix64::new(0x7EAD_0002);
    let logits = spread(&mut rng, N);
    let targets: Vec<f32> = (0..N)
        .map(|i| {
            if i % 3 == 0 {
                rng.unit()
            } else {
                (i % 2) as f32
            }
        })
        .collect();
    let probs: Vec<f32> = (0..N).map(|_| rng.unit()).collect();
    let weight: Vec<f32> = (0..N).map(|_| 0.25 + 2.0 * rng.unit()).collect();
    // 80 classes: the pieces must start at multiples of lcm(256, 80).
    let pos_weight: Vec<f32> = (0..80).map(|c| 0.5 + c as f32 / 16.0).collect();
    let prior = rng.normalish_vec(N);
    check_every_pool(
        "bce",
        |isa| BinaryCrossEntropy::new().with_isa(isa).expect("isa"),
        &probs,
        &targets,
        &prior,
    );
    check_every_pool(
        "bce weighted",
        |isa| {
            BinaryCrossEntropy::new()
                .with_weight(&weight)
                .with_isa(isa)
                .expect("isa")
        },
        &probs,
        &targets,
        &prior,
    );
    check_every_pool(
        "bce with logits, weight, pos_weight[80]",
        |isa| {
            BinaryCrossEntropyWithLogits::new()
                .with_weight(&weight)
                .with_pos_weight_per_class(&pos_weight)
                .expect("pos_weight")
                .with_isa(isa)
                .expect("isa")
        },
        &logits,
        &targets,
        &prior,
    );
    check_every_pool(
        "bce with logits",
        |isa| {
            BinaryCrossEntropyWithLogits::new()
                .with_isa(isa)
                .expect("isa")
        },
        &logits,
        &targets,
        &prior,
    );
    // A signed weight map whose halves cancel: the second half repeats the
    // first with weight −1, except near its end. The exact total is small
    // against the f64 roundings of either half's, so a grouping of the
    // block partials that were not summed exactly would show in the f32
    // value (this case fails with a plain f64 merge).
    let half = N / 2;
    let mirrored: Vec<f32> = (0..N).map(|i| logits[i % half]).collect();
    let mirrored_targets: Vec<f32> = (0..N).map(|i| targets[i % half]).collect();
    let signed: Vec<f32> = (0..N)
        .map(|i| match i {
            i if i < half => 1.0,
            i if i >= N - 1000 => -0.5,
            _ => -1.0,
        })
        .collect();
    check_every_pool(
        "bce with logits, cancelling signed weights",
        |isa| {
            BinaryCrossEntropyWithLogits::new()
                .with_weight(&signed)
                .with_isa(isa)
                .expect("isa")
        },
        &mirrored,
        &mirrored_targets,
        &prior,
    );
    check_every_pool(
        "sigmoid focal",
        |isa| {
            SigmoidFocal::new(0.25, 2.0)
                .expect("focal")
                .with_isa(isa)
                .expect("isa")
        },
        &logits,
        &targets,
        &prior,
    );
}

/// The verbs of a class-axis loss, as [`outputs`] does for pointwise ones.
fn class_outputs<T: ClassAxisLoss>(
    loss: &T,
    x: &[f32],
    shape: ClassShape,
    labels: Option<&[u8]>,
    probs: &[f32],
    prior: &[f32],
    per_element_len: usize,
) -> Outputs {
    macro_rules! call {
        ($verb:ident, $($arg:expr),*) => {
            match labels {
                Some(l) => loss.$verb(x, shape, l, $($arg),*),
                None => loss.$verb(x, shape, Probabilities(probs), $($arg),*),
            }
        };
    }
    let mean = call!(value, Reduction::Mean).expect("value");
    let mut grad = vec![0.0; x.len()];
    let sum = call!(value_and_grad, Reduction::Sum, Grad::overwrite(&mut grad)).expect("grad");
    let mut accumulated = prior.to_vec();
    let acc = call!(
        value_and_grad,
        Reduction::Mean,
        Grad::accumulate(&mut accumulated).scaled(0.75)
    )
    .expect("accumulate");
    let mut per_element = vec![0.0; per_element_len];
    // (Dice + CE has no per-element form: 0 values.)
    if per_element_len > 0 {
        call!(per_element, &mut per_element).expect("per_element");
    }
    Outputs {
        values: [mean, sum, acc],
        grad,
        accumulated,
        per_element,
    }
}

fn check_class_pools<T: ClassAxisLoss + Sync>(
    name: &str,
    make: impl Fn(Isa) -> T,
    (n, c, s): (usize, usize, usize),
    soft: bool,
) {
    check_class_pools_terms(name, make, (n, c, s), soft, n * s);
}

/// [`check_class_pools`] for a loss whose `per_element` writes
/// `per_element_len` values (Dice: one term per image and kept class).
fn check_class_pools_terms<T: ClassAxisLoss + Sync>(
    name: &str,
    make: impl Fn(Isa) -> T,
    (n, c, s): (usize, usize, usize),
    soft: bool,
    per_element_len: usize,
) {
    let shape = ClassShape::new(n, c, s).expect("shape");
    let mut rng = SplitMix64::new(0x7EAD_0100 + (n * c * s) as u64);
    let len = n * c * s;
    // Logits of both signs and a wide range, some samples ignored (255).
    let x: Vec<f32> = (0..len)
        .map(|i| rng.symmetric(((i / 997) % 7) as i32))
        .collect();
    let labels: Vec<u8> = (0..n * s)
        .map(|j| {
            if j % 17 == 0 {
                255
            } else {
                rng.below(c as u64) as u8
            }
        })
        .collect();
    let probs: Vec<f32> = (0..len).map(|_| rng.unit()).collect();
    let prior = rng.normalish_vec(len);
    let labels = (!soft).then_some(labels.as_slice());
    for isa in isas() {
        let loss = make(isa);
        let run = || class_outputs(&loss, &x, shape, labels, &probs, &prior, per_element_len);
        let want = pool(1).install(run);
        assert!(want.values.iter().all(|v| v.is_finite()), "{name} {isa:?}");
        for threads in POOLS.into_iter().skip(1) {
            let got = pool(threads).install(run);
            assert_same(
                &format!("{name} [{n}, {c}, {s}] {isa:?} {threads} threads"),
                &got,
                &want,
            );
        }
    }
}

/// Shapes above the softmax threshold (2^15 logits) for each kernel: the
/// row kernel (S = 1, C ≥ 48; every row's value summed exactly, so pieces
/// of any rows: a batch of 32 splits), the tile kernel on classifier rows
/// (pieces of 64 rows), NCHW maps with S a multiple of 64 (pieces of
/// single images) and with S = 200 and 300 (pieces of 8 and 16 images, so
/// that `n·S` is a multiple of 64).
const SOFTMAX_SHAPES: [(usize, usize, usize); 6] = [
    (1100, 100, 1),
    (32, 1024, 1),
    (5000, 10, 1),
    (4, 21, 4096),
    (80, 5, 200),
    (40, 3, 300),
];

#[test]
fn softmax_losses_same_bits_for_every_thread_count() {
    let weights: Vec<f32> = (0..1024).map(|c| 0.25 + (c % 7) as f32 * 0.5).collect();
    for shape in SOFTMAX_SHAPES {
        let w = &weights[..shape.1];
        check_class_pools(
            "softmax ce",
            |isa| {
                SoftmaxCrossEntropy::new()
                    .with_ignore_index(255)
                    .with_isa(isa)
                    .expect("isa")
            },
            shape,
            false,
        );
        check_class_pools(
            "softmax ce weighted smoothed",
            |isa| {
                SoftmaxCrossEntropy::new()
                    .with_weight(w)
                    .with_ignore_index(255)
                    .with_label_smoothing(0.1)
                    .expect("smoothing")
                    .with_isa(isa)
                    .expect("isa")
            },
            shape,
            false,
        );
        check_class_pools(
            "softmax ce probabilities",
            |isa| SoftmaxCrossEntropy::new().with_isa(isa).expect("isa"),
            shape,
            true,
        );
        check_class_pools(
            "softmax focal",
            |isa| {
                SoftmaxFocal::new(2.0)
                    .expect("gamma")
                    .with_weight(w)
                    .with_ignore_index(255)
                    .with_isa(isa)
                    .expect("isa")
            },
            shape,
            false,
        );
    }
}

/// The Dice family splits by whole images (calls without `batch`): a
/// softmax map, a binary sigmoid map, with index and probability targets.
#[test]
fn dice_losses_same_bits_for_every_thread_count() {
    let weights = [0.5f32, 1.0, 2.0, 0.25];
    let (n, c, s) = (6, 4, 4096);
    check_class_pools_terms(
        "dice softmax",
        |isa| {
            Dice::new(Activation::Softmax)
                .with_ignore_index(255)
                .with_isa(isa)
                .expect("isa")
        },
        (n, c, s),
        false,
        n * c,
    );
    check_class_pools_terms(
        "dice softmax, probabilities, weighted, no background",
        |isa| {
            Dice::new(Activation::Softmax)
                .with_weight(&weights[1..])
                .with_include_background(false)
                .with_isa(isa)
                .expect("isa")
        },
        (n, c, s),
        true,
        n * (c - 1),
    );
    check_class_pools_terms(
        "tversky sigmoid",
        |isa| {
            Tversky::new(Activation::Sigmoid, 0.3, 0.7)
                .expect("tversky")
                .with_ignore_index(255)
                .with_isa(isa)
                .expect("isa")
        },
        (n, c, s),
        false,
        n * c,
    );
    check_class_pools_terms(
        "generalized dice softmax",
        |isa| {
            GeneralizedDice::new(Activation::Softmax)
                .with_ignore_index(255)
                .with_isa(isa)
                .expect("isa")
        },
        (n, c, s),
        false,
        n,
    );
    check_class_pools_terms(
        "dice + ce",
        |isa| {
            DiceCrossEntropy::new()
                .with_weight(&weights)
                .with_label_smoothing(0.1)
                .expect("smoothing")
                .with_ignore_index(255)
                .with_isa(isa)
                .expect("isa")
        },
        (n, c, s),
        false,
        0,
    );
    check_class_pools_terms(
        "binary dice sigmoid",
        |isa| Dice::new(Activation::Sigmoid).with_isa(isa).expect("isa"),
        (8, 1, 8192),
        true,
        8,
    );
}
