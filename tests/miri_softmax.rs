//! The softmax kernels' slicing, tail, staging and scatter code, small
//! enough to run under miri (`cargo +nightly miri test --test
//! miri_softmax`, see `.ci/run`).
//!
//! Shapes cover both kernels and every way a tile reads and writes: the row
//! kernel (`S = 1`, `C ≥ ROW_KERNEL_MIN_CLASSES`, with and without a
//! padded tail chunk), contiguous tiles of one image with a gathered last
//! tile, tiles across images with few classes (staged through the stack)
//! and with many (gathered per class), and `S = 1` classifiers with few
//! classes over more than 64 samples. Each runs every verb (value Mean and
//! Sum, gradient overwrite and accumulate, per element) of cross-entropy
//! with `u8` and `i64` labels and with probabilities, and of focal, with
//! and without weights, ignore index and smoothing, on every ISA miri can
//! run, bit for bit against `Isa::Scalar`, with sentinels around every
//! output slice and the input placed one element past its allocation's
//! start. The scalar results are checked against a plain f64 loop.
//!
//! Under miri, `Isa::available()` reports what the build's target features
//! say (`Scalar`, `Wide`); `.ci/run` runs a second pass built with `-C
//! target-cpu=x86-64-v3` that checks the AVX2 path only (see
//! `tests/miri.rs` for why AVX-512 cannot run under miri).

use simdloss::loss::softmax::ROW_KERNEL_MIN_CLASSES;
use simdloss::{
    ClassAxisLoss, ClassShape, Grad, Isa, Label, LossError, Probabilities, Reduction,
    SoftmaxCrossEntropy, SoftmaxFocal,
};

/// The ISAs to check against scalar: every available one, except in the
/// miri pass built for x86-64-v3, which checks only AVX2.
fn isas() -> Vec<Isa> {
    let avx2_pass = cfg!(all(miri, target_feature = "avx2"));
    Isa::available()
        .filter(|&i| i != Isa::Scalar && (!avx2_pass || i == Isa::Avx2))
        .collect()
}

const SENTINEL: u32 = 0x7fa5_a5a5;
const GUARD: usize = 5;

fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn assert_same(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(same(*a, *b), "{what}: element {i}: {a:e} vs scalar {b:e}");
    }
}

/// Deterministic values in `[lo, hi)` (SplitMix64).
fn data(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            #[allow(clippy::cast_precision_loss)]
            let unit = (z >> 40) as f32 / (1u64 << 24) as f32;
            lo + (hi - lo) * unit
        })
        .collect()
}

/// `init` after `GUARD` sentinels, followed by `GUARD` more.
fn guarded(init: &[f32]) -> Vec<f32> {
    let s = f32::from_bits(SENTINEL);
    let mut v = vec![s; GUARD];
    v.extend_from_slice(init);
    v.extend(std::iter::repeat_n(s, GUARD));
    v
}

fn assert_guards(buf: &[f32], len: usize, what: &str) {
    for (i, x) in buf.iter().enumerate() {
        if i < GUARD || i >= GUARD + len {
            assert_eq!(
                x.to_bits(),
                SENTINEL,
                "{what}: wrote element {i} outside the slice"
            );
        }
    }
}

/// The input one element past its allocation's start (misaligned).
fn placed(x: &[f32]) -> Vec<f32> {
    let mut v = vec![f32::NAN];
    v.extend_from_slice(x);
    v
}

/// Everything one ISA computed.
#[derive(Debug)]
struct Outputs {
    value: [f32; 2],
    over: Vec<f32>,
    acc: Vec<f32>,
    per_sample: Vec<f32>,
}

impl Outputs {
    fn assert_same(&self, scalar: &Outputs, what: &str) {
        assert_same(&self.value, &scalar.value, &format!("{what}: value"));
        assert_same(
            &self.over,
            &scalar.over,
            &format!("{what}: grad (overwrite)"),
        );
        assert_same(
            &self.acc,
            &scalar.acc,
            &format!("{what}: grad (accumulate)"),
        );
        assert_same(
            &self.per_sample,
            &scalar.per_sample,
            &format!("{what}: per_element"),
        );
    }
}

/// One loss configuration with its target, behind the three verbs.
trait Verbs {
    fn with_isa(&self, isa: Isa) -> Self;
    fn value(&self, x: &[f32], sh: ClassShape, r: Reduction) -> Result<f32, LossError>;
    fn grad(&self, x: &[f32], sh: ClassShape, r: Reduction, g: Grad<'_>) -> Result<f32, LossError>;
    fn per_element(&self, x: &[f32], sh: ClassShape, out: &mut [f32]) -> Result<(), LossError>;
}

struct CeIndex<'a, T> {
    loss: SoftmaxCrossEntropy<'a>,
    labels: &'a [T],
}

impl<T: Label> Verbs for CeIndex<'_, T> {
    fn with_isa(&self, isa: Isa) -> Self {
        Self {
            loss: self.loss.with_isa(isa).expect("available ISA"),
            labels: self.labels,
        }
    }
    fn value(&self, x: &[f32], sh: ClassShape, r: Reduction) -> Result<f32, LossError> {
        self.loss.value(x, sh, self.labels, r)
    }
    fn grad(&self, x: &[f32], sh: ClassShape, r: Reduction, g: Grad<'_>) -> Result<f32, LossError> {
        self.loss.value_and_grad(x, sh, self.labels, r, g)
    }
    fn per_element(&self, x: &[f32], sh: ClassShape, out: &mut [f32]) -> Result<(), LossError> {
        self.loss.per_element(x, sh, self.labels, out)
    }
}

struct CeProbs<'a> {
    loss: SoftmaxCrossEntropy<'a>,
    probs: &'a [f32],
}

impl Verbs for CeProbs<'_> {
    fn with_isa(&self, isa: Isa) -> Self {
        Self {
            loss: self.loss.with_isa(isa).expect("available ISA"),
            probs: self.probs,
        }
    }
    fn value(&self, x: &[f32], sh: ClassShape, r: Reduction) -> Result<f32, LossError> {
        self.loss.value(x, sh, Probabilities(self.probs), r)
    }
    fn grad(&self, x: &[f32], sh: ClassShape, r: Reduction, g: Grad<'_>) -> Result<f32, LossError> {
        self.loss
            .value_and_grad(x, sh, Probabilities(self.probs), r, g)
    }
    fn per_element(&self, x: &[f32], sh: ClassShape, out: &mut [f32]) -> Result<(), LossError> {
        self.loss.per_element(x, sh, Probabilities(self.probs), out)
    }
}

struct Focal<'a, T> {
    loss: SoftmaxFocal<'a>,
    labels: &'a [T],
}

impl<T: Label> Verbs for Focal<'_, T> {
    fn with_isa(&self, isa: Isa) -> Self {
        Self {
            loss: self.loss.with_isa(isa).expect("available ISA"),
            labels: self.labels,
        }
    }
    fn value(&self, x: &[f32], sh: ClassShape, r: Reduction) -> Result<f32, LossError> {
        self.loss.value(x, sh, self.labels, r)
    }
    fn grad(&self, x: &[f32], sh: ClassShape, r: Reduction, g: Grad<'_>) -> Result<f32, LossError> {
        self.loss.value_and_grad(x, sh, self.labels, r, g)
    }
    fn per_element(&self, x: &[f32], sh: ClassShape, out: &mut [f32]) -> Result<(), LossError> {
        self.loss.per_element(x, sh, self.labels, out)
    }
}

/// Every verb of `loss` on `shape`, with guards around every output.
fn outputs<V: Verbs>(loss: &V, shape: ClassShape, x: &[f32], g0: &[f32], what: &str) -> Outputs {
    let (len, samples) = (shape.len(), shape.samples());
    let xp = placed(x);
    let x = &xp[1..];
    let mut value = [0.0f32; 2];
    for (i, r) in [Reduction::Mean, Reduction::Sum].into_iter().enumerate() {
        value[i] = loss.value(x, shape, r).expect("valid call");
    }
    let mut over = guarded(g0);
    let v = loss
        .grad(
            x,
            shape,
            Reduction::Mean,
            Grad::overwrite(&mut over[GUARD..GUARD + len]),
        )
        .expect("valid call");
    assert!(
        same(v, value[0]),
        "{what}: fused value (Mean) {v:e} vs value {:e}",
        value[0]
    );
    assert_guards(&over, len, &format!("{what}: overwrite"));
    let mut acc = guarded(g0);
    let grad = Grad::accumulate(&mut acc[GUARD..GUARD + len]).scaled(-0.75);
    let v = loss
        .grad(x, shape, Reduction::Sum, grad)
        .expect("valid call");
    assert!(
        same(v, value[1]),
        "{what}: fused value (Sum) {v:e} vs value {:e}",
        value[1]
    );
    assert_guards(&acc, len, &format!("{what}: accumulate"));
    let mut pe = guarded(&g0[..samples]);
    loss.per_element(x, shape, &mut pe[GUARD..GUARD + samples])
        .expect("valid call");
    assert_guards(&pe, samples, &format!("{what}: per_element"));
    Outputs {
        value,
        over: over[GUARD..GUARD + len].to_vec(),
        acc: acc[GUARD..GUARD + len].to_vec(),
        per_sample: pe[GUARD..GUARD + samples].to_vec(),
    }
}

/// Runs `loss` on scalar and every other ISA; returns the scalar outputs.
fn check_isas<V: Verbs>(loss: &V, shape: ClassShape, x: &[f32], g0: &[f32], what: &str) -> Outputs {
    let scalar = outputs(
        &loss.with_isa(Isa::Scalar),
        shape,
        x,
        g0,
        &format!("{what} on scalar"),
    );
    for isa in isas() {
        let w = format!("{what} on {isa}");
        outputs(&loss.with_isa(isa), shape, x, g0, &w).assert_same(&scalar, &w);
    }
    scalar
}

/// Plain f64 cross-entropy of sample `j` with label `y`: value and
/// gradient (unscaled).
fn plain_ce(x: &[f32], shape: ClassShape, j: usize, y: usize) -> (f64, Vec<f64>) {
    let (c, s) = (shape.classes(), shape.spatial());
    let (n, p) = (j / s, j % s);
    let xs: Vec<f64> = (0..c).map(|k| f64::from(x[(n * c + k) * s + p])).collect();
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = xs.iter().map(|v| (v - m).exp()).sum();
    let value = sum.ln() + m - xs[y];
    let grad = (0..c)
        .map(|k| (xs[k] - m).exp() / sum - if k == y { 1.0 } else { 0.0 })
        .collect();
    (value, grad)
}

/// All loss configurations on one shape.
fn run_shape(n: usize, c: usize, s: usize, seed: u64) {
    let shape = ClassShape::new(n, c, s).expect("valid shape");
    let (len, samples) = (shape.len(), shape.samples());
    let x = data(len, seed, -6.0, 6.0);
    let g0 = data(len, seed + 1, -1.0, 1.0);
    let probs = data(len, seed + 2, 0.0, 1.0);
    let weight = data(c, seed + 3, 0.25, 2.0);
    let c_u8 = u8::try_from(c.min(255)).expect("fits");
    // Labels: classes, with every 5th sample set to the ignore index.
    let labels: Vec<usize> = data(samples, seed + 4, 0.0, 1.0)
        .iter()
        .map(|&u| {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let k = (u * c as f32) as usize;
            k.min(c - 1)
        })
        .collect();
    let u8s: Vec<u8> = labels
        .iter()
        .map(|&k| u8::try_from(k).unwrap_or(c_u8 - 1))
        .collect();
    let i64s: Vec<i64> = labels
        .iter()
        .enumerate()
        .map(|(j, &k)| {
            if j % 5 == 3 {
                -100
            } else {
                i64::try_from(k).expect("fits")
            }
        })
        .collect();
    let what = format!("[{n}, {c}, {s}]");
    for config in configs(seed) {
        match config {
            0 => {
                // Plain cross-entropy, u8 labels: also against the f64 loop.
                let ce = SoftmaxCrossEntropy::new();
                let loss = CeIndex {
                    loss: ce,
                    labels: &u8s,
                };
                let out = check_isas(&loss, shape, &x, &g0, &format!("ce u8 {what}"));
                check_plain(&out, shape, &x, &u8s, &what);
            }
            1 | 2 => {
                let ce_w = SoftmaxCrossEntropy::new()
                    .with_weight(&weight)
                    .with_label_smoothing(0.1)
                    .expect("valid smoothing");
                if config == 1 {
                    // Weighted, ignore index, smoothing; i64 labels.
                    let loss = CeIndex {
                        loss: ce_w,
                        labels: &i64s,
                    };
                    check_isas(&loss, shape, &x, &g0, &format!("ce i64 weighted {what}"));
                } else {
                    // Probability targets, weighted and smoothed.
                    let loss = CeProbs {
                        loss: ce_w,
                        probs: &probs,
                    };
                    check_isas(&loss, shape, &x, &g0, &format!("ce probabilities {what}"));
                }
            }
            3 => {
                // Focal γ = 2, weighted, with ignored samples.
                let focal = SoftmaxFocal::new(2.0)
                    .expect("valid γ")
                    .with_weight(&weight);
                let loss = Focal {
                    loss: focal,
                    labels: &i64s,
                };
                check_isas(&loss, shape, &x, &g0, &format!("focal γ 2 {what}"));
            }
            _ => {
                let focal = SoftmaxFocal::new(0.5).expect("valid γ");
                let loss = Focal {
                    loss: focal,
                    labels: &u8s,
                };
                check_isas(&loss, shape, &x, &g0, &format!("focal γ 0.5 {what}"));
            }
        }
    }
}

/// The loss configurations a shape runs: all five natively; under miri
/// (which interprets, ~10^5× slower) one, picked by `seed`, so that the
/// shapes together still run each of them.
fn configs(seed: u64) -> Vec<u64> {
    if cfg!(miri) {
        vec![seed % 5]
    } else {
        (0..5).collect()
    }
}

/// The scalar outputs of plain cross-entropy against an f64 loop.
fn check_plain(out: &Outputs, shape: ClassShape, x: &[f32], labels: &[u8], what: &str) {
    let (c, s, samples) = (shape.classes(), shape.spatial(), shape.samples());
    let mut total = 0.0;
    #[allow(clippy::cast_precision_loss)]
    let inv = 1.0 / samples as f64;
    for (j, &y) in labels.iter().enumerate().take(samples) {
        let (v, g) = plain_ce(x, shape, j, usize::from(y));
        total += v;
        let got = f64::from(out.per_sample[j]);
        assert!(
            (got - v).abs() <= 1e-5 * (1.0 + v),
            "{what}: per_element[{j}] = {got:e}, plain {v:e}"
        );
        let (nn, p) = (j / s, j % s);
        for (k, gk) in g.iter().enumerate() {
            let i = (nn * c + k) * s + p;
            let got = f64::from(out.over[i]);
            assert!(
                (got - gk * inv).abs() <= 1e-6 * inv,
                "{what}: grad[{i}] = {got:e}, plain {:e}",
                gk * inv
            );
        }
    }
    let sum = f64::from(out.value[1]);
    assert!(
        (sum - total).abs() <= 1e-5 * total,
        "{what}: value(Sum) = {sum:e}, plain {total:e}"
    );
}

#[test]
fn softmax_row_kernel() {
    let r = ROW_KERNEL_MIN_CLASSES;
    // Only a padded tail chunk; a full chunk and a tail.
    run_shape(2, r + 3, 1, 0);
    run_shape(1, 64 + 17, 1, 1);
    if !cfg!(miri) {
        run_shape(1, 64, 1, 2);
        run_shape(3, 200, 1, 3);
    }
}

#[test]
fn softmax_tile_contiguous() {
    // One contiguous tile of 64 pixels, then a gathered tail tile.
    run_shape(1, 2, 66, 2);
    if !cfg!(miri) {
        run_shape(2, 5, 130, 3);
    }
}

#[test]
fn softmax_tile_across_images() {
    // Few classes: staged through the stack.
    run_shape(3, 2, 30, 3);
    if !cfg!(miri) {
        run_shape(3, 4, 30, 4);
        run_shape(2, ROW_KERNEL_MIN_CLASSES + 2, 3, 5);
    }
}

#[test]
fn softmax_tile_many_classes_gathered() {
    // A tile across images with more classes than are staged: each class
    // gathered and scattered lane by lane. Under miri, one gradient call
    // per ISA against the f64 loop (the scalar reference would double
    // the cost of the most expensive shape here).
    let shape = ClassShape::new(2, ROW_KERNEL_MIN_CLASSES + 2, 3).expect("valid shape");
    let x = data(shape.len(), 12, -6.0, 6.0);
    let labels: Vec<u8> = (0..shape.samples())
        .map(|j| u8::try_from(j * 7 % 50).expect("fits"))
        .collect();
    let g0 = data(shape.len(), 13, -1.0, 1.0);
    for isa in isas() {
        let ce = SoftmaxCrossEntropy::new().with_isa(isa).expect("available");
        let mut g = guarded(&g0);
        let len = shape.len();
        ce.value_and_grad(
            &x,
            shape,
            &labels[..],
            Reduction::Mean,
            Grad::overwrite(&mut g[GUARD..GUARD + len]),
        )
        .expect("valid call");
        assert_guards(&g, len, &format!("{isa}: gathered tile"));
        let out = Outputs {
            value: [0.0; 2],
            over: g[GUARD..GUARD + len].to_vec(),
            acc: Vec::new(),
            per_sample: Vec::new(),
        };
        let (c, s) = (shape.classes(), shape.spatial());
        #[allow(clippy::cast_precision_loss)]
        let inv = 1.0 / shape.samples() as f64;
        for (j, &y) in labels.iter().enumerate() {
            let (_, grad) = plain_ce(&x, shape, j, usize::from(y));
            for (k, gk) in grad.iter().enumerate() {
                let i = (j / s * c + k) * s + j % s;
                let got = f64::from(out.over[i]);
                assert!(
                    (got - gk * inv).abs() <= 1e-6 * inv,
                    "{isa}: grad[{i}] = {got:e}, plain {:e}",
                    gk * inv
                );
            }
        }
    }
}

#[test]
fn softmax_tile_classifier() {
    // S = 1, few classes, more than one tile of samples; one class.
    run_shape(65, 2, 1, 4);
    run_shape(5, 1, 1, 0);
    if !cfg!(miri) {
        run_shape(70, 3, 1, 7);
    }
}

#[test]
fn softmax_all_ignored() {
    let shape = ClassShape::new(2, 3, 5).expect("valid shape");
    let x = data(shape.len(), 9, -3.0, 3.0);
    let labels = [255u8; 10];
    for isa in std::iter::once(Isa::Scalar).chain(isas()) {
        let ce = SoftmaxCrossEntropy::new()
            .with_ignore_index(255)
            .with_isa(isa)
            .expect("available");
        let mut g = vec![1.0f32; shape.len()];
        let v = ce
            .value_and_grad(
                &x,
                shape,
                &labels[..],
                Reduction::Mean,
                Grad::overwrite(&mut g),
            )
            .expect("valid call");
        assert_eq!(v, 0.0, "{isa}: Mean over no sample");
        assert!(
            g.iter().all(|&v| v == 0.0),
            "{isa}: gradient of ignored samples {g:?}"
        );
    }
}

fn assert_refused<T: std::fmt::Debug>(res: Result<T, LossError>, want: LossError, what: &str) {
    assert_eq!(res.err(), Some(want), "{what}");
}

#[test]
fn softmax_errors_write_nothing() {
    let shape = ClassShape::new(2, 3, 4).expect("valid shape");
    let (len, samples) = (shape.len(), shape.samples());
    let x = data(len, 10, -2.0, 2.0);
    let init = data(len + 1, 11, -1.0, 1.0);
    let labels = [0u8, 1, 2, 0, 1, 2, 0, 1];
    let bad_labels = [0u8, 1, 2, 3, 1, 2, 0, 9];
    let weight = [1.0f32, 2.0, 0.5];
    let mismatch = |argument, expected, actual| LossError::LengthMismatch {
        argument,
        expected,
        actual,
    };
    for isa in std::iter::once(Isa::Scalar).chain(isas()) {
        let ce = SoftmaxCrossEntropy::new().with_isa(isa).expect("available");
        let focal = SoftmaxFocal::new(2.0)
            .expect("valid γ")
            .with_isa(isa)
            .expect("available");
        let what = format!("{isa}");
        // Each refused call must leave its output untouched.
        let check_grad = |res: Result<f32, LossError>, g: &[f32], want: LossError, verb: &str| {
            assert_refused(res, want, &format!("{what}: {verb}"));
            assert_same(
                g,
                &init[..g.len()],
                &format!("{what}: {verb} wrote on error"),
            );
        };
        let mut g = init[..len].to_vec();
        let res = ce.value_and_grad(
            &x[..len - 1],
            shape,
            &labels[..],
            Reduction::Mean,
            Grad::overwrite(&mut g),
        );
        check_grad(res, &g, mismatch("input", len, len - 1), "short input");
        let res = ce.value_and_grad(
            &x,
            shape,
            &labels[..7],
            Reduction::Mean,
            Grad::overwrite(&mut g),
        );
        check_grad(res, &g, mismatch("target", samples, 7), "short target");
        let res = ce.value_and_grad(
            &x,
            shape,
            Probabilities(&x[..len - 2]),
            Reduction::Sum,
            Grad::overwrite(&mut g),
        );
        check_grad(
            res,
            &g,
            mismatch("target", len, len - 2),
            "short probabilities",
        );
        let mut g_long = init.clone();
        let res = ce.value_and_grad(
            &x,
            shape,
            &labels[..],
            Reduction::Sum,
            Grad::accumulate(&mut g_long),
        );
        check_grad(res, &g_long, mismatch("grad", len, len + 1), "long grad");
        let res = ce.with_weight(&weight[..2]).value_and_grad(
            &x,
            shape,
            &labels[..],
            Reduction::Mean,
            Grad::overwrite(&mut g),
        );
        check_grad(res, &g, mismatch("weight", 3, 2), "short weight");
        let res = focal.value_and_grad(
            &x,
            shape,
            &bad_labels[..],
            Reduction::Mean,
            Grad::overwrite(&mut g),
        );
        let invalid = LossError::InvalidLabel {
            argument: "target",
            index: 3,
            label: 3,
            classes: 3,
        };
        check_grad(res, &g, invalid, "invalid label (focal)");
        let res = ce.value_and_grad(
            &x,
            shape,
            &bad_labels[..],
            Reduction::Sum,
            Grad::accumulate(&mut g),
        );
        check_grad(res, &g, invalid, "invalid label (accumulate)");
        let mut out = init[..samples].to_vec();
        let res = ce
            .per_element(&x, shape, &bad_labels[..], &mut out)
            .map(|()| 0.0);
        check_grad(res, &out, invalid, "invalid label (per_element)");
        let mut out = init[..samples + 1].to_vec();
        let res = focal
            .per_element(&x, shape, &labels[..], &mut out)
            .map(|()| 0.0);
        check_grad(res, &out, mismatch("out", samples, samples + 1), "long out");
        assert_refused(
            ce.value(&x, shape, &bad_labels[..], Reduction::Mean),
            invalid,
            "value, invalid label",
        );
    }
    assert!(matches!(
        ClassShape::new(0, 3, 4),
        Err(LossError::InvalidShape { argument: "n", .. })
    ));
    assert!(matches!(
        ClassShape::new(2, 0, 4),
        Err(LossError::InvalidShape { argument: "c", .. })
    ));
    assert!(matches!(
        ClassShape::new(2, 3, 0),
        Err(LossError::InvalidShape { argument: "s", .. })
    ));
    assert!(matches!(
        ClassShape::new(usize::MAX, 3, 4),
        Err(LossError::InvalidShape {
            argument: "shape",
            ..
        })
    ));
    assert!(matches!(
        SoftmaxCrossEntropy::new().with_label_smoothing(1.5),
        Err(LossError::InvalidParameter {
            argument: "label_smoothing",
            ..
        })
    ));
    assert!(matches!(
        SoftmaxFocal::new(-1.0),
        Err(LossError::InvalidParameter {
            argument: "gamma",
            ..
        })
    ));
}
