//! The Dice-family kernel's slicing, tile tails, staging and scatter code,
//! small enough to run under miri (`cargo +nightly miri test --test
//! miri_dice`, see `.ci/run`).
//!
//! Shapes cover every way the two-pass tile driver reads and writes: one
//! full 64-pixel tile, a full tile followed by a partial one, a partial
//! tile only, several images per group (`batch`), one channel (the binary
//! mask), two and three classes, with and without the background class.
//! Each configuration runs every verb (value Mean and Sum, gradient
//! overwrite and accumulate with a scale, per element; under miri the
//! fused value stands for `value(Mean)`, the same kernel as `value(Sum)`)
//! of [`Dice`] (and its Jaccard form), [`Tversky`] and [`GeneralizedDice`]
//! with every activation, with `u8` and `i64` labels (some ignored) and
//! with probability targets, on every ISA miri can run, bit for bit against `Isa::Scalar`, with
//! sentinels around every output slice and the input placed one element
//! past its allocation's start. Accumulating must add exactly the
//! overwritten gradient; the scalar results are checked against the f64
//! reference `tests/reference/dice.rs`. The error paths must return the
//! documented error and write nothing.
//!
//! Under miri, `Isa::available()` reports what the build's target features
//! say (`Scalar`, `Wide`); `.ci/run` runs a second pass built with `-C
//! target-cpu=x86-64-v3` that checks the AVX2 path only (see
//! `tests/miri.rs` for why AVX-512 cannot run under miri).

#[allow(dead_code)]
#[path = "reference/dice.rs"]
mod reference;

use simdloss::{
    Activation, ClassAxisLoss, ClassShape, Dice, GeneralizedDice, Grad, Isa, LossError,
    Probabilities, Reduction, Tversky,
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

/// One loss of the family.
#[derive(Clone, Copy, Debug)]
enum Loss<'a> {
    Dice(Dice<'a>),
    Tversky(Tversky<'a>),
    Generalized(GeneralizedDice<'a>),
}

/// A target: labels of two types, or probabilities.
#[derive(Clone, Copy)]
enum Target<'a> {
    U8(&'a [u8]),
    I64(&'a [i64]),
    Probs(&'a [f32]),
}

/// Runs `$body` with `$l` bound to the concrete loss and `$t` to the
/// concrete target.
macro_rules! dispatch {
    ($loss:expr, $target:expr, |$l:ident, $t:ident| $body:expr) => {
        match $loss {
            Loss::Dice($l) => dispatch!(@target $target, $t, $body),
            Loss::Tversky($l) => dispatch!(@target $target, $t, $body),
            Loss::Generalized($l) => dispatch!(@target $target, $t, $body),
        }
    };
    (@target $target:expr, $t:ident, $body:expr) => {
        match $target {
            Target::U8($t) => $body,
            Target::I64($t) => $body,
            Target::Probs(p) => {
                let $t = Probabilities(p);
                $body
            }
        }
    };
}

impl Loss<'_> {
    fn with_isa(self, isa: Isa) -> Self {
        match self {
            Loss::Dice(l) => Loss::Dice(l.with_isa(isa).expect("available ISA")),
            Loss::Tversky(l) => Loss::Tversky(l.with_isa(isa).expect("available ISA")),
            Loss::Generalized(l) => Loss::Generalized(l.with_isa(isa).expect("available ISA")),
        }
    }

    fn value(
        self,
        x: &[f32],
        sh: ClassShape,
        t: Target<'_>,
        r: Reduction,
    ) -> Result<f32, LossError> {
        dispatch!(self, t, |l, t| l.value(x, sh, t, r))
    }

    fn grad(
        self,
        x: &[f32],
        sh: ClassShape,
        t: Target<'_>,
        r: Reduction,
        g: Grad<'_>,
    ) -> Result<f32, LossError> {
        dispatch!(self, t, |l, t| l.value_and_grad(x, sh, t, r, g))
    }

    fn per_element(
        self,
        x: &[f32],
        sh: ClassShape,
        t: Target<'_>,
        out: &mut [f32],
    ) -> Result<(), LossError> {
        dispatch!(self, t, |l, t| l.per_element(x, sh, t, out))
    }

    /// The documented `per_element` length.
    fn terms(self, shape: ClassShape) -> usize {
        let (batch, background, generalized) = match self {
            Loss::Dice(l) => (l.batch(), l.include_background(), false),
            Loss::Tversky(l) => (l.batch(), l.include_background(), false),
            Loss::Generalized(l) => (l.batch(), l.include_background(), true),
        };
        let groups = if batch { 1 } else { shape.batch() };
        let kept = shape.classes() - usize::from(!background);
        groups * if generalized { 1 } else { kept }
    }
}

/// Everything one ISA computed.
#[derive(Debug)]
struct Outputs {
    value: [f32; 2],
    over: Vec<f32>,
    acc: Vec<f32>,
    terms: Vec<f32>,
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
        assert_same(&self.terms, &scalar.terms, &format!("{what}: per_element"));
    }
}

/// The gradient scale of both gradient calls.
const SCALE: f32 = -0.75;

/// Every verb of `loss` on `shape`, with guards around every output:
/// value (Mean, Sum), the gradient overwritten (Mean) and accumulated onto
/// `g0` (Mean, the same scale: exactly `g0 + ` the overwritten one), the
/// terms.
fn outputs(
    loss: Loss<'_>,
    shape: ClassShape,
    x: &[f32],
    t: Target<'_>,
    g0: &[f32],
    what: &str,
) -> Outputs {
    let (len, terms) = (shape.len(), loss.terms(shape));
    let xp = placed(x);
    let x = &xp[1..];
    let mut value = [0.0f32; 2];
    value[1] = loss.value(x, shape, t, Reduction::Sum).expect("valid call");
    let mut over = guarded(g0);
    let grad = Grad::overwrite(&mut over[GUARD..GUARD + len]).scaled(SCALE);
    let v = loss
        .grad(x, shape, t, Reduction::Mean, grad)
        .expect("valid call");
    // `value(Mean)` runs the same kernel as `value(Sum)`: under miri the
    // fused Mean value stands for it.
    value[0] = if cfg!(miri) {
        v
    } else {
        loss.value(x, shape, t, Reduction::Mean)
            .expect("valid call")
    };
    assert!(
        same(v, value[0]),
        "{what}: fused value (Mean) {v:e} vs value {:e}",
        value[0]
    );
    assert_guards(&over, len, &format!("{what}: overwrite"));
    let mut acc = guarded(g0);
    let grad = Grad::accumulate(&mut acc[GUARD..GUARD + len]).scaled(SCALE);
    let v = loss
        .grad(x, shape, t, Reduction::Mean, grad)
        .expect("valid call");
    assert!(
        same(v, value[0]),
        "{what}: fused value (accumulate) {v:e} vs value {:e}",
        value[0]
    );
    assert_guards(&acc, len, &format!("{what}: accumulate"));
    let over = over[GUARD..GUARD + len].to_vec();
    let acc = acc[GUARD..GUARD + len].to_vec();
    for (i, ((&a, &o), &g)) in acc.iter().zip(&over).zip(g0).enumerate() {
        assert!(
            same(a, g + o),
            "{what}: accumulate[{i}] = {a:e}, g0 {g:e} + overwrite {o:e}"
        );
    }
    let mut pe = guarded(&g0[..terms]);
    loss.per_element(x, shape, t, &mut pe[GUARD..GUARD + terms])
        .expect("valid call");
    assert_guards(&pe, terms, &format!("{what}: per_element"));
    Outputs {
        value,
        over,
        acc,
        terms: pe[GUARD..GUARD + terms].to_vec(),
    }
}

/// Runs `loss` on scalar and every other ISA; returns the scalar outputs.
fn check_isas(
    loss: Loss<'_>,
    shape: ClassShape,
    x: &[f32],
    t: Target<'_>,
    g0: &[f32],
    what: &str,
) -> Outputs {
    let scalar = outputs(
        loss.with_isa(Isa::Scalar),
        shape,
        x,
        t,
        g0,
        &format!("{what} on scalar"),
    );
    for isa in isas() {
        let w = format!("{what} on {isa}");
        outputs(loss.with_isa(isa), shape, x, t, g0, &w).assert_same(&scalar, &w);
    }
    scalar
}

/// The scalar outputs against the f64 reference: value and terms within
/// the documented `2⁻²¹·(1 + |v|)` (README, `tests/dice.rs`); the gradient
/// within a sanity bound of `2⁻¹⁴·max|g|`, 16 times the documented
/// `2⁻¹⁸·max|g|`. The documented gradient bound does not hold where every
/// pixel is a confident softmax one (`p_c → 1`: `p_c·(v_c − Σ_k p_k v_k)`
/// cancels in f32); `[4, 2, 1]` without the background here is 8.3 times
/// over it (generalized, squared) and 1.2 times (Dice, weighted). Reported;
/// the `dice` fuzz target checks the documented bound.
fn check_reference(
    out: &Outputs,
    shape: ClassShape,
    x: &[f32],
    target: reference::Target<'_>,
    opts: &reference::Options,
    what: &str,
) {
    let xs: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let (n, c, s) = (shape.batch(), shape.classes(), shape.spatial());
    let want = reference::dice(&xs, n, c, s, target, opts);
    let bound = |v: f64| 2f64.powi(-21) * (1.0 + v.abs());
    let got = f64::from(out.value[0]);
    assert!(
        (got - want.value).abs() <= bound(want.value),
        "{what}: value(Mean) {got:e}, reference {:e}",
        want.value
    );
    for (i, (&t, &w)) in out.terms.iter().zip(&want.terms).enumerate() {
        let t = f64::from(t);
        assert!(
            (t - w).abs() <= bound(w),
            "{what}: term {i} {t:e}, reference {w:e}"
        );
    }
    let scale = f64::from(SCALE);
    let gmax = want
        .grad
        .iter()
        .fold(0.0f64, |m, g| m.max((g * scale).abs()));
    let tol = 2f64.powi(-14) * gmax + f64::from(f32::MIN_POSITIVE);
    for (i, (&g, &w)) in out.over.iter().zip(&want.grad).enumerate() {
        let g = f64::from(g);
        assert!(
            (g - w * scale).abs() <= tol,
            "{what}: grad[{i}] {g:e}, reference {:e}",
            w * scale
        );
    }
}

/// One configuration: which loss, activation, options and target.
#[derive(Clone, Copy, Debug)]
struct Config {
    ratio: u8,
    activation: Activation,
    target: u8,
    squared: bool,
    background: bool,
    batch: bool,
    weighted: bool,
}

/// The configurations a shape with `c` classes runs: every ratio,
/// activation, target kind and option at least once.
fn all_configs(c: usize) -> Vec<Config> {
    let many = c > 1;
    let softmax_or_sigmoid = if many {
        Activation::Softmax
    } else {
        Activation::Sigmoid
    };
    let cfg = |ratio, activation, target, squared, background, batch, weighted| Config {
        ratio,
        activation,
        target,
        squared,
        background,
        batch,
        weighted,
    };
    vec![
        // Dice, sigmoid, u8 labels (255 ignored).
        cfg(0, Activation::Sigmoid, 0, false, true, false, false),
        // Dice, softmax, i64 labels (−100 ignored), no background, weighted.
        cfg(0, softmax_or_sigmoid, 1, false, !many, false, true),
        // Jaccard, no activation, probabilities, squared, batch.
        cfg(1, Activation::None, 2, true, true, true, false),
        // Tversky (0.3, 0.7), softmax, probabilities, batch, weighted.
        cfg(2, softmax_or_sigmoid, 2, false, true, true, true),
        // Generalized, softmax, u8 labels, squared, no background.
        cfg(3, softmax_or_sigmoid, 0, true, !many, false, false),
        // Generalized, sigmoid, i64 labels, batch.
        cfg(3, Activation::Sigmoid, 1, false, true, true, false),
    ]
}

/// The configurations of one shape: all of them natively; under miri
/// (which interprets, ~10^5× slower) the one `seed` picks, so that the
/// shapes together still run each of them.
fn configs(c: usize, seed: usize) -> Vec<Config> {
    let all = all_configs(c);
    if cfg!(miri) {
        vec![all[seed % all.len()]]
    } else {
        all
    }
}

/// Every configuration `configs` picks, on one shape.
fn run_shape(n: usize, c: usize, s: usize, seed: usize) {
    let shape = ClassShape::new(n, c, s).expect("valid shape");
    let (len, samples) = (shape.len(), shape.samples());
    let seed64 = seed as u64 * 16;
    let logits = data(len, seed64, -4.0, 4.0);
    let unit = data(len, seed64 + 1, 0.0, 1.0);
    let g0 = data(len, seed64 + 2, -1.0, 1.0);
    let probs = data(len, seed64 + 3, 0.0, 1.0);
    let classes = if c == 1 { 2 } else { c };
    // Labels: classes (class 1 absent from image 0 when c > 2: an empty
    // class), every 7th pixel ignored.
    let raw: Vec<usize> = data(samples, seed64 + 4, 0.0, 1.0)
        .iter()
        .enumerate()
        .map(|(j, &u)| {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let k = ((u * classes as f32) as usize).min(classes - 1);
            if c > 2 && j < s && k == 1 { 0 } else { k }
        })
        .collect();
    let u8s: Vec<u8> = raw
        .iter()
        .enumerate()
        .map(|(j, &k)| {
            if j % 7 == 3 {
                255
            } else {
                u8::try_from(k).expect("fits")
            }
        })
        .collect();
    let i64s: Vec<i64> = raw
        .iter()
        .enumerate()
        .map(|(j, &k)| {
            if j % 7 == 5 {
                -100
            } else {
                i64::try_from(k).expect("fits")
            }
        })
        .collect();
    for config in configs(c, seed) {
        let Config {
            ratio,
            activation,
            target,
            squared,
            background,
            batch,
            weighted,
        } = config;
        let kept = c - usize::from(!background);
        let weight = data(kept, seed64 + 5, 0.25, 2.0);
        let x = if activation == Activation::None {
            &unit
        } else {
            &logits
        };
        let ignore = if target == 0 { 255 } else { -100 };
        macro_rules! options {
            ($l:expr) => {
                $l.with_squared_pred(squared)
                    .with_include_background(background)
                    .with_batch(batch)
                    .with_ignore_index(ignore)
            };
        }
        let (loss, ref_ratio) = match ratio {
            0 | 1 => {
                let d = options!(Dice::new(activation).with_jaccard(ratio == 1));
                let d = if weighted { d.with_weight(&weight) } else { d };
                let r = if ratio == 1 {
                    reference::Ratio::Jaccard
                } else {
                    reference::Ratio::Dice
                };
                (Loss::Dice(d), r)
            }
            2 => {
                let t = options!(Tversky::new(activation, 0.3, 0.7).expect("valid α, β"));
                let t = if weighted { t.with_weight(&weight) } else { t };
                let r = reference::Ratio::Tversky {
                    alpha: f64::from(0.3f32),
                    beta: f64::from(0.7f32),
                };
                (Loss::Tversky(t), r)
            }
            _ => (
                Loss::Generalized(options!(GeneralizedDice::new(activation))),
                reference::Ratio::Generalized,
            ),
        };
        let t = match target {
            0 => Target::U8(&u8s),
            1 => Target::I64(&i64s),
            _ => Target::Probs(&probs),
        };
        let what = format!("[{n}, {c}, {s}] {config:?}");
        let out = check_isas(loss, shape, x, t, &g0, &what);

        let probs64: Vec<f64> = probs.iter().map(|&v| f64::from(v)).collect();
        let labels64: Vec<i64> = match target {
            0 => u8s.iter().map(|&l| i64::from(l)).collect(),
            _ => i64s.clone(),
        };
        let ref_target = if target == 2 {
            reference::Target::Probabilities(&probs64)
        } else {
            reference::Target::Index {
                labels: &labels64,
                ignore_index: Some(ignore),
            }
        };
        let opts = reference::Options {
            activation: match activation {
                Activation::Sigmoid => reference::Activation::Sigmoid,
                Activation::Softmax => reference::Activation::Softmax,
                Activation::None => reference::Activation::None,
            },
            ratio: ref_ratio,
            squared_pred: squared,
            include_background: background,
            batch,
            smooth_nr: f64::from(1e-5f32),
            smooth_dr: f64::from(1e-5f32),
            weight: weighted
                .then(|| weight.iter().map(|&w| f64::from(w)).collect())
                .filter(|_| ratio != 3),
            mean: true,
        };
        check_reference(&out, shape, x, ref_target, &opts, &what);
    }
}

#[test]
fn dice_isas_compared() {
    // The miri pass built for x86-64-v3 must compare AVX2 with scalar (not
    // scalar alone); every other run at least the `wide` baseline.
    let compared = isas();
    if cfg!(all(miri, target_feature = "avx2")) {
        assert_eq!(compared, [Isa::Avx2]);
    } else {
        assert!(compared.contains(&Isa::Wide), "{compared:?}");
    }
}

// Under miri each shape runs the one configuration its seed picks (all
// six once over the shapes below); natively every shape runs all six.

#[test]
fn dice_full_tile() {
    // Exactly one 64-pixel tile per image, three classes with the
    // background: Tversky, softmax, probabilities, weighted.
    run_shape(1, 3, 64, 3);
    if !cfg!(miri) {
        run_shape(2, 3, 128, 1);
    }
}

#[test]
fn dice_full_and_partial_tile() {
    // A full tile, then a partial one (staged): generalized, softmax, u8
    // labels, squared, without the background.
    run_shape(1, 2, 70, 4);
    if !cfg!(miri) {
        run_shape(2, 3, 70, 1);
        run_shape(1, 3, 130, 2);
    }
}

#[test]
fn dice_partial_tile_only() {
    // Fewer pixels than a tile, two images: Dice, softmax, i64 labels,
    // without the background, weighted.
    run_shape(2, 2, 5, 1);
    if !cfg!(miri) {
        run_shape(3, 3, 5, 2);
        run_shape(4, 2, 1, 3);
    }
}

#[test]
fn dice_binary() {
    // One channel: the labels are the 0/1 mask. A full and a partial tile
    // (Dice, sigmoid, u8 labels); a batch of partial tiles (generalized,
    // sigmoid, i64 labels); Jaccard without activation on probabilities,
    // squared, over the batch.
    run_shape(1, 1, 70, 0);
    run_shape(2, 1, 9, 5);
    run_shape(2, 1, 20, 2);
    if !cfg!(miri) {
        run_shape(2, 1, 70, 4);
        run_shape(3, 1, 64, 0);
    }
}

#[test]
fn dice_all_ignored() {
    // Every pixel ignored: I = P = G = 0, term 1 − s_nr/s_dr = 0, and a zero
    // gradient.
    let shape = ClassShape::new(2, 2, 5).expect("valid shape");
    let x = data(shape.len(), 9, -3.0, 3.0);
    let labels = [255u8; 10];
    let activations: &[Activation] = if cfg!(miri) {
        &[Activation::Softmax]
    } else {
        &[Activation::Softmax, Activation::Sigmoid, Activation::None]
    };
    for isa in std::iter::once(Isa::Scalar).chain(isas()) {
        for &activation in activations {
            let dice = Dice::new(activation)
                .with_ignore_index(255)
                .with_isa(isa)
                .expect("available");
            let mut g = vec![1.0f32; shape.len()];
            let v = dice
                .value_and_grad(
                    &x,
                    shape,
                    &labels[..],
                    Reduction::Mean,
                    Grad::overwrite(&mut g),
                )
                .expect("valid call");
            assert_eq!(
                v, 0.0,
                "{isa} {activation:?}: value with every pixel ignored"
            );
            assert!(
                g.iter().all(|&v| v == 0.0),
                "{isa} {activation:?}: gradient of ignored pixels {g:?}"
            );
        }
    }
}

fn assert_refused<T: std::fmt::Debug>(res: Result<T, LossError>, want: LossError, what: &str) {
    assert_eq!(res.err(), Some(want), "{what}");
}

#[test]
fn dice_errors_write_nothing() {
    let shape = ClassShape::new(2, 3, 4).expect("valid shape");
    let (len, samples) = (shape.len(), shape.samples());
    let x = data(len, 10, -2.0, 2.0);
    let init = data(len + 1, 11, -1.0, 1.0);
    let labels = [0u8, 1, 2, 0, 1, 2, 0, 1];
    let bad_labels = [0u8, 1, 2, 3, 1, 2, 0, 9];
    let weight = [1.0f32, 2.0, 0.5];
    let negative = [1.0f32, -2.0, 0.5];
    let mismatch = |argument, expected, actual| LossError::LengthMismatch {
        argument,
        expected,
        actual,
    };
    let invalid = LossError::InvalidLabel {
        argument: "target",
        index: 3,
        label: 3,
        classes: 3,
    };
    for isa in std::iter::once(Isa::Scalar).chain(isas()) {
        let dice = Dice::new(Activation::Softmax)
            .with_isa(isa)
            .expect("available");
        let tversky = Tversky::new(Activation::Sigmoid, 0.3, 0.7)
            .expect("valid α, β")
            .with_isa(isa)
            .expect("available");
        let generalized = GeneralizedDice::new(Activation::None)
            .with_isa(isa)
            .expect("available");
        let what = format!("{isa}");
        // Each refused call must leave its output untouched.
        let check = |res: Result<f32, LossError>, g: &[f32], want: LossError, verb: &str| {
            assert_refused(res, want, &format!("{what}: {verb}"));
            assert_same(
                g,
                &init[..g.len()],
                &format!("{what}: {verb} wrote on error"),
            );
        };
        let mut g = init[..len].to_vec();
        let res = dice.value_and_grad(
            &x[..len - 1],
            shape,
            &labels[..],
            Reduction::Mean,
            Grad::overwrite(&mut g),
        );
        check(res, &g, mismatch("input", len, len - 1), "short input");
        let res = tversky.value_and_grad(
            &x,
            shape,
            &labels[..7],
            Reduction::Mean,
            Grad::overwrite(&mut g),
        );
        check(res, &g, mismatch("target", samples, 7), "short target");
        let res = generalized.value_and_grad(
            &x,
            shape,
            Probabilities(&x[..len - 2]),
            Reduction::Sum,
            Grad::accumulate(&mut g),
        );
        check(
            res,
            &g,
            mismatch("target", len, len - 2),
            "short probabilities",
        );
        let mut g_long = init.clone();
        let res = dice.value_and_grad(
            &x,
            shape,
            &labels[..],
            Reduction::Sum,
            Grad::accumulate(&mut g_long),
        );
        check(res, &g_long, mismatch("grad", len, len + 1), "long grad");
        // One weight per kept class: C, or C − 1 without the background.
        let res = dice
            .with_include_background(false)
            .with_weight(&weight)
            .value_and_grad(
                &x,
                shape,
                &labels[..],
                Reduction::Mean,
                Grad::overwrite(&mut g),
            );
        check(res, &g, mismatch("weight", 2, 3), "weight of length C");
        let res = tversky.with_weight(&negative).value_and_grad(
            &x,
            shape,
            &labels[..],
            Reduction::Mean,
            Grad::overwrite(&mut g),
        );
        let out_of_range = LossError::OutOfRange {
            argument: "weight",
            index: 1,
            value: -2.0,
            requirement: ">= 0",
        };
        check(res, &g, out_of_range, "negative weight");
        let res = generalized.value_and_grad(
            &x,
            shape,
            &bad_labels[..],
            Reduction::Mean,
            Grad::overwrite(&mut g),
        );
        check(res, &g, invalid, "invalid label");
        let mut out = init[..samples].to_vec();
        let res = dice
            .per_element(&x, shape, &bad_labels[..], &mut out[..6])
            .map(|()| 0.0);
        check(res, &out, invalid, "invalid label (per_element)");
        let res = generalized
            .per_element(&x, shape, &labels[..], &mut out[..3])
            .map(|()| 0.0);
        check(res, &out, mismatch("out", 2, 3), "long out");
        assert_refused(
            tversky.value(&x, shape, &bad_labels[..], Reduction::Sum),
            invalid,
            &format!("{what}: value, invalid label"),
        );
        // Shapes the family refuses: one channel with softmax or without
        // the background, more than 128 classes.
        let one = ClassShape::new(2, 1, 4).expect("valid shape");
        let mut g1 = init[..8].to_vec();
        let res = dice.value_and_grad(
            &x[..8],
            one,
            &labels[..],
            Reduction::Mean,
            Grad::overwrite(&mut g1),
        );
        let c1 = |requirement| LossError::InvalidShape {
            argument: "c",
            value: 1,
            requirement,
        };
        check(
            res,
            &g1,
            c1(">= 2 with Activation::Softmax"),
            "C = 1, softmax",
        );
        let res = tversky.with_include_background(false).value_and_grad(
            &x[..8],
            one,
            Probabilities(&x[..8]),
            Reduction::Mean,
            Grad::overwrite(&mut g1),
        );
        check(
            res,
            &g1,
            c1(">= 2 without the background class"),
            "C = 1, no background",
        );
        let wide = ClassShape::new(1, 129, 1).expect("valid shape");
        let xw = vec![0.0f32; 129];
        let mut gw = init[..1].to_vec();
        let res = generalized
            .per_element(&xw, wide, &[0u8][..], &mut gw)
            .map(|()| 0.0);
        let too_many = LossError::InvalidShape {
            argument: "c",
            value: 129,
            requirement: "<= DICE_MAX_CLASSES (128) for the Dice family",
        };
        check(res, &gw, too_many, "129 classes");
    }
    for (res, argument) in [
        (
            Dice::new(Activation::Sigmoid)
                .with_smooth(-1.0, 0.0)
                .map(|_| ()),
            "smooth_nr",
        ),
        (
            Dice::new(Activation::Sigmoid)
                .with_smooth(0.0, f32::NAN)
                .map(|_| ()),
            "smooth_dr",
        ),
        (
            Tversky::new(Activation::Sigmoid, f32::INFINITY, 0.5).map(|_| ()),
            "alpha",
        ),
        (
            Tversky::new(Activation::Sigmoid, 0.5, -0.5).map(|_| ()),
            "beta",
        ),
    ] {
        assert!(
            matches!(res, Err(LossError::InvalidParameter { argument: a, .. }) if a == argument),
            "{argument}: {res:?}"
        );
    }
}
