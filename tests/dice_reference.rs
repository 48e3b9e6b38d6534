//! Checks of the f64 reference of the Dice family
//! (`tests/reference/dice.rs`) itself, before any kernel is tested
//! against it:
//!
//! 1. its gradient against central finite differences of its own value,
//!    for every activation × ratio × option × target kind (soft and
//!    one-hot probabilities, index labels with and without ignored
//!    pixels, an empty class, an all-ignored map) on small random shapes,
//!    for Dice + CE too, and on sampled coordinates of `[4, 8, 300]`;
//! 2. values and gradients worked out by hand (in the comments), and
//!    identities: Tversky(½, ½) is Dice with doubled smooth terms, the
//!    Jaccard score is `D/(2 − D)` of the Dice score, a perfect prediction
//!    costs 0, `batch` is one image of the concatenated pixels, an ignored
//!    pixel is a dropped pixel, index labels are one-hot targets, the
//!    one-channel rules, the generalized weights (max per image or over
//!    the batch);
//! 3. MONAI's own unit-test cases with their expected numbers.
//!
//! Finite differences: step `h = 1e-6·max(1, |x_i|)`, and each component
//! must satisfy `|fd_i − g_i| ≤ 1e-6·(|g_i| + max_j |g_j|) + 1e-9·max(1,
//! |value|)` (the round-off of a central difference is about
//! `1e-16·|value|/h`, its truncation `h²·|f'''|/6`). Run with `--nocapture` to
//! see the worst ratio error/tolerance of each sweep.

/// The f64 reference (one copy, in `tests/reference/dice.rs`, which
/// brings the softmax cross-entropy reference with it).
#[allow(dead_code)]
#[path = "reference/dice.rs"]
mod reference;

use reference::{
    Activation, DiceCe, Options, Output, Ratio, Target, cross_entropy, dice, dice_ce, sigmoid,
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A tiny deterministic generator (Knuth's MMIX LCG, top 53 bits).
struct Lcg(u64);

impl Lcg {
    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }

    /// Uniform in `[0, 1)`.
    #[allow(clippy::cast_precision_loss)] // 53-bit integers: exact
    fn unit(&mut self) -> f64 {
        self.next_u64() as f64 / (1u64 << 53) as f64
    }

    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform in `0..k`.
    #[allow(clippy::cast_possible_truncation)] // < k
    fn below(&mut self, k: usize) -> usize {
        (self.next_u64() % k as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// The relative step of the central differences.
const STEP: f64 = 1e-6;
/// Relative tolerance of a finite-difference component.
const FD_REL: f64 = 1e-6;
/// Absolute tolerance of a finite-difference component, per unit of
/// `max(1, |value|)` (the round-off of a central difference is about
/// `1e-16·|value|/h`).
const FD_ABS: f64 = 1e-9;

/// Checks `grad` against central differences of `f` at `x`, for the
/// coordinates `which` (all if `None`); returns the worst error/tolerance.
fn check_gradient(
    x: &[f64],
    grad: &[f64],
    which: Option<&[usize]>,
    f: impl Fn(&[f64]) -> f64,
    what: &str,
) -> f64 {
    assert_eq!(grad.len(), x.len(), "{what}: gradient length");
    let value_scale = f(x).abs().max(1.0);
    assert!(
        grad.iter().all(|g| g.is_finite()),
        "{what}: gradient not finite"
    );
    let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    let all: Vec<usize> = (0..x.len()).collect();
    let mut xs = x.to_vec();
    let mut worst = 0.0f64;
    for &i in which.unwrap_or(&all) {
        let h = STEP * x[i].abs().max(1.0);
        let (up, down) = (x[i] + h, x[i] - h);
        xs[i] = up;
        let f_up = f(&xs);
        xs[i] = down;
        let f_down = f(&xs);
        xs[i] = x[i];
        let fd = (f_up - f_down) / (up - down);
        let tol = FD_REL * (grad[i].abs() + scale) + FD_ABS * value_scale;
        let err = (fd - grad[i]).abs();
        assert!(
            err <= tol,
            "{what}: component {i}: analytic {} vs finite difference {fd} (err {err:e}, tol {tol:e})",
            grad[i]
        );
        worst = worst.max(err / tol);
    }
    worst
}

fn assert_close(actual: f64, expected: f64, tol: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tol,
        "{what}: {actual} vs expected {expected} (tol {tol:e})"
    );
}

fn assert_all_close(actual: &[f64], expected: &[f64], tol: f64, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        assert_close(a, e, tol, &format!("{what} [{i}]"));
    }
}

/// Options from MONAI's defaults with the given changes.
fn opts(activation: Activation, ratio: Ratio) -> Options {
    Options {
        activation,
        ratio,
        ..Options::default()
    }
}

const ACTIVATIONS: [Activation; 3] = [Activation::Sigmoid, Activation::Softmax, Activation::None];

const RATIOS: [Ratio; 5] = [
    Ratio::Dice,
    Ratio::Jaccard,
    Ratio::Tversky {
        alpha: 0.3,
        beta: 0.7,
    },
    Ratio::Tversky {
        alpha: 1.5,
        beta: 0.25,
    },
    Ratio::Generalized,
];

/// `(smooth_nr, smooth_dr)` pairs of the sweeps: `a ≤ b`, so that an
/// empty term `1 − a/b` stays of order 1 (a term of −49999, from
/// `a = 0.5`, `b = 1e-5`, would swamp the differences in round-off).
const SMOOTH: [(f64, f64); 4] = [(0.0, 1e-5), (1e-5, 1e-5), (0.5, 0.8), (0.0, 0.8)];

/// The kinds of target the sweeps cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Soft probabilities in [0, 1].
    Soft,
    /// One-hot probabilities.
    OneHot,
    /// Index labels, none ignored.
    Index,
    /// Index labels, about a third ignored (`ignore_index = −100`).
    Ignored,
    /// Index labels that never use class 1 (class 0 for `C = 1`): G = 0.
    EmptyClass,
    /// Every label ignored (`ignore_index = 255`).
    AllIgnored,
}

const KINDS: [Kind; 6] = [
    Kind::Soft,
    Kind::OneHot,
    Kind::Index,
    Kind::Ignored,
    Kind::EmptyClass,
    Kind::AllIgnored,
];

/// A random problem: logits (probabilities for `Activation::None`) and a
/// target of the given kind.
struct Problem {
    n: usize,
    c: usize,
    s: usize,
    x: Vec<f64>,
    probabilities: Vec<f64>,
    labels: Vec<i64>,
    ignore_index: Option<i64>,
    index: bool,
}

impl Problem {
    fn random(
        rng: &mut Lcg,
        shape: (usize, usize, usize),
        activation: Activation,
        kind: Kind,
    ) -> Self {
        let (n, c, s) = shape;
        let x: Vec<f64> = (0..n * c * s)
            .map(|_| {
                if activation == Activation::None {
                    rng.range(0.02, 0.98)
                } else {
                    rng.range(-3.0, 3.0)
                }
            })
            .collect();
        // A class label (a mask value for C = 1).
        let classes = if c == 1 { 2 } else { c };
        let mut labels: Vec<i64> = (0..n * s)
            .map(|_| i64::try_from(rng.below(classes)).expect("small"))
            .collect();
        let mut ignore_index = None;
        match kind {
            Kind::Ignored => {
                ignore_index = Some(-100);
                for l in &mut labels {
                    if rng.below(3) == 0 {
                        *l = -100;
                    }
                }
            }
            Kind::EmptyClass => {
                let empty = i64::from(c > 1);
                for l in &mut labels {
                    if *l == empty {
                        *l = if c > 2 { 2 } else { 1 - empty };
                    }
                }
            }
            Kind::AllIgnored => {
                ignore_index = Some(255);
                labels.fill(255);
            }
            _ => {}
        }
        let mut probabilities = vec![0.0; n * c * s];
        match kind {
            Kind::Soft => {
                for v in &mut probabilities {
                    *v = rng.unit();
                }
            }
            Kind::OneHot => {
                for (j, &l) in labels.iter().enumerate() {
                    let (ni, si) = (j / s, j % s);
                    let k = usize::try_from(l).expect("a class");
                    if c == 1 {
                        probabilities[ni * s + si] = if l == 1 { 1.0 } else { 0.0 };
                    } else {
                        probabilities[(ni * c + k) * s + si] = 1.0;
                    }
                }
            }
            _ => {}
        }
        Self {
            n,
            c,
            s,
            x,
            probabilities,
            labels,
            ignore_index,
            index: !matches!(kind, Kind::Soft | Kind::OneHot),
        }
    }

    fn target(&self) -> Target<'_> {
        if self.index {
            Target::Index {
                labels: &self.labels,
                ignore_index: self.ignore_index,
            }
        } else {
            Target::Probabilities(&self.probabilities)
        }
    }

    fn run(&self, x: &[f64], o: &Options) -> Output {
        dice(x, self.n, self.c, self.s, self.target(), o)
    }
}

// ---------------------------------------------------------------------------
// 1. Gradients against finite differences
// ---------------------------------------------------------------------------

#[test]
fn gradient_matches_central_differences_for_every_combination() {
    let mut rng = Lcg(0x00d1_ce00_5eed);
    let mut worst = 0.0f64;
    let mut cases = 0;
    for activation in ACTIVATIONS {
        for ratio in RATIOS {
            for squared_pred in [false, true] {
                for include_background in [true, false] {
                    for batch in [false, true] {
                        for weighted in [false, true] {
                            if weighted && ratio == Ratio::Generalized {
                                continue;
                            }
                            for mean in [true, false] {
                                for kind in KINDS {
                                    let shape =
                                        (1 + rng.below(3), 1 + rng.below(4), 1 + rng.below(6));
                                    let pb = Problem::random(&mut rng, shape, activation, kind);
                                    let kept =
                                        shape.1 - usize::from(!include_background && shape.1 > 1);
                                    let (smooth_nr, smooth_dr) = rng.pick(&SMOOTH);
                                    let o = Options {
                                        activation,
                                        ratio,
                                        squared_pred,
                                        include_background,
                                        batch,
                                        smooth_nr,
                                        smooth_dr,
                                        weight: weighted.then(|| {
                                            (0..kept).map(|_| rng.range(0.0, 2.0)).collect()
                                        }),
                                        mean,
                                    };
                                    let out = pb.run(&pb.x, &o);
                                    assert!(out.value.is_finite(), "{o:?} {kind:?}: value");
                                    let what = format!("{o:?} {kind:?} {shape:?}");
                                    worst = worst.max(check_gradient(
                                        &pb.x,
                                        &out.grad,
                                        None,
                                        |x| pb.run(x, &o).value,
                                        &what,
                                    ));
                                    if kind == Kind::AllIgnored {
                                        assert!(out.grad.iter().all(|&g| g == 0.0), "{what}");
                                    }
                                    cases += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    println!("dice: {cases} cases, worst finite-difference error/tolerance {worst:.3e}");
}

#[test]
fn dice_ce_gradient_matches_central_differences() {
    let mut rng = Lcg(0xce_ce_ce);
    let mut worst = 0.0f64;
    let mut cases = 0;
    for activation in ACTIVATIONS {
        for ratio in [Ratio::Dice, Ratio::Jaccard] {
            for include_background in [true, false] {
                for batch in [false, true] {
                    for weighted in [false, true] {
                        for mean in [true, false] {
                            for label_smoothing in [0.0, 0.1] {
                                for kind in [
                                    Kind::Soft,
                                    Kind::OneHot,
                                    Kind::Index,
                                    Kind::Ignored,
                                    Kind::AllIgnored,
                                ] {
                                    let shape =
                                        (1 + rng.below(3), 2 + rng.below(3), 1 + rng.below(6));
                                    let pb = Problem::random(&mut rng, shape, activation, kind);
                                    let o = Options {
                                        activation,
                                        ratio,
                                        include_background,
                                        batch,
                                        mean,
                                        ..Options::default()
                                    };
                                    let dce = DiceCe {
                                        lambda_dice: 0.7,
                                        lambda_ce: 1.3,
                                        label_smoothing,
                                        weight: weighted.then(|| {
                                            (0..shape.1).map(|_| rng.range(0.1, 2.0)).collect()
                                        }),
                                    };
                                    let run = |x: &[f64]| {
                                        dice_ce(x, pb.n, pb.c, pb.s, pb.target(), &o, &dce)
                                    };
                                    let out = run(&pb.x);
                                    assert_close(
                                        out.value,
                                        0.7 * out.dice.value + 1.3 * out.ce_value,
                                        1e-12,
                                        "λ combination",
                                    );
                                    let what = format!("{o:?} {dce:?} {kind:?} {shape:?}");
                                    worst = worst.max(check_gradient(
                                        &pb.x,
                                        &out.grad,
                                        None,
                                        |x| run(x).value,
                                        &what,
                                    ));
                                    if kind == Kind::AllIgnored {
                                        assert_eq!(
                                            out.value,
                                            0.7 * (1.0 - 1.0) + 1.3 * 0.0,
                                            "{what}"
                                        );
                                        assert!(out.grad.iter().all(|&g| g == 0.0), "{what}");
                                    }
                                    cases += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    println!("dice + CE: {cases} cases, worst finite-difference error/tolerance {worst:.3e}");
}

/// `[4, 8, 300]`, every activation and ratio, with ignored pixels: the
/// reference stays O(N·C·S), and its gradient matches on 40 sampled
/// coordinates.
#[test]
fn large_shape_gradient_matches_on_sampled_coordinates() {
    let mut rng = Lcg(42);
    let shape = (4, 8, 300);
    let mut worst = 0.0f64;
    for activation in ACTIVATIONS {
        for ratio in RATIOS {
            for batch in [false, true] {
                let pb = Problem::random(&mut rng, shape, activation, Kind::Ignored);
                let o = Options {
                    activation,
                    ratio,
                    batch,
                    include_background: false,
                    ..Options::default()
                };
                let out = pb.run(&pb.x, &o);
                let which: Vec<usize> = (0..40).map(|_| rng.below(pb.x.len())).collect();
                worst = worst.max(check_gradient(
                    &pb.x,
                    &out.grad,
                    Some(&which),
                    |x| pb.run(x, &o).value,
                    &format!("{o:?} [4, 8, 300]"),
                ));
            }
        }
    }
    println!("[4, 8, 300]: worst finite-difference error/tolerance {worst:.3e}");
}

// ---------------------------------------------------------------------------
// 2. By hand, and identities
// ---------------------------------------------------------------------------

/// `[1, 1, 2]`, sigmoid, `x = [0, 0]`, `g = [1, 0]`, no smoothing:
/// `p = [½, ½]`, `I = ½`, `P = 1`, `G = 1`.
#[test]
fn sigmoid_1x1x2_by_hand() {
    let x = [0.0, 0.0];
    let t = [1.0, 0.0];
    let base = Options {
        smooth_nr: 0.0,
        smooth_dr: 0.0,
        ..opts(Activation::Sigmoid, Ratio::Dice)
    };
    // Dice: f = 1 − 2I/(P + G) = 1 − 1/2 = ½; ∂f/∂I = −2/D = −1,
    // ∂f/∂P = Nr/D² = ¼: v = −g + ¼ = [−¾, ¼]; σ' = ¼: ∇ = [−3/16, 1/16].
    let out = dice(&x, 1, 1, 2, Target::Probabilities(&t), &base);
    assert_close(out.value, 0.5, 1e-15, "dice");
    assert_all_close(&out.grad, &[-3.0 / 16.0, 1.0 / 16.0], 1e-15, "dice grad");
    assert_eq!(out.terms, vec![out.value]);

    // Jaccard: D = 2(P + G − I) = 3, f = 1 − 1/3 = ⅔; ∂f/∂I = −2(D + Nr)/D²
    // = −8/9, ∂f/∂P = 2Nr/D² = 2/9: v = [−6/9, 2/9], ∇ = [−1/6, 1/18].
    let j = Options {
        ratio: Ratio::Jaccard,
        ..base.clone()
    };
    let out = dice(&x, 1, 1, 2, Target::Probabilities(&t), &j);
    assert_close(out.value, 2.0 / 3.0, 1e-15, "jaccard");
    assert_all_close(&out.grad, &[-1.0 / 6.0, 1.0 / 18.0], 1e-15, "jaccard grad");

    // squared_pred: P = ¼ + ¼ = ½, G = 1, f = 1 − 1/1.5 = ⅓; ∂f/∂I = −4/3,
    // ∂f/∂P = 1/1.5² = 4/9, ∂P/∂p = 2p = 1: v = [−4/3 + 4/9, 4/9],
    // ∇ = ¼v = [−2/9, 1/9].
    let sq = Options {
        squared_pred: true,
        ..base.clone()
    };
    let out = dice(&x, 1, 1, 2, Target::Probabilities(&t), &sq);
    assert_close(out.value, 1.0 / 3.0, 1e-15, "squared");
    assert_all_close(&out.grad, &[-2.0 / 9.0, 1.0 / 9.0], 1e-15, "squared grad");

    // Tversky α = 0.2, β = 0.6: D = I + 0.2(P − I) + 0.6(G − I) = ½ + 0.1
    // + 0.3 = 0.9, f = 1 − ½/0.9 = 4/9; ∂f/∂I = −(D − 0.2·Nr)/D² =
    // −0.8/0.81, ∂f/∂P = 0.2·Nr/D² = 0.1/0.81: v = [−0.7, 0.1]/0.81.
    let tv = Options {
        ratio: Ratio::Tversky {
            alpha: 0.2,
            beta: 0.6,
        },
        ..base
    };
    let out = dice(&x, 1, 1, 2, Target::Probabilities(&t), &tv);
    assert_close(out.value, 4.0 / 9.0, 1e-15, "tversky");
    assert_all_close(
        &out.grad,
        &[-0.25 * 0.7 / 0.81, 0.25 * 0.1 / 0.81],
        1e-15,
        "tversky grad",
    );
}

/// `[1, 2, 1]`, softmax, `x = [0, 0]`, label 1, background dropped, no
/// smoothing: `p = [½, ½]`; class 1: `I = ½`, `P = ½`, `G = 1`,
/// `f = 1 − 1/1.5 = ⅓`; `∂f/∂I = −4/3`, `∂f/∂P = 4/9`: `v = [0, −8/9]`,
/// `Σ p v = −4/9`, `∇ = p ⊙ (v + 4/9) = [2/9, −2/9]`.
#[test]
fn softmax_without_background_by_hand() {
    let o = Options {
        include_background: false,
        smooth_nr: 0.0,
        smooth_dr: 0.0,
        ..opts(Activation::Softmax, Ratio::Dice)
    };
    let target = Target::Index {
        labels: &[1],
        ignore_index: None,
    };
    let out = dice(&[0.0, 0.0], 1, 2, 1, target, &o);
    assert_close(out.value, 1.0 / 3.0, 1e-15, "value");
    assert_all_close(&out.grad, &[2.0 / 9.0, -2.0 / 9.0], 1e-15, "grad");
    assert_all_close(&out.grad_p, &[0.0, -8.0 / 9.0], 1e-15, "grad_p");
    assert_eq!((out.first_class, out.kept), (1, 1));
}

/// One image, `C = 2`, `S = 2`, probabilities in, no smoothing:
/// `g₀ = [1, 1]`, `g₁ = [0, 0]`, `p₀ = [½, ¼]`, `p₁ = [½, ¾]`. `G₀ = 2`:
/// `w₀ = ¼`; `G₁ = 0`: `w₁ = ∞`, replaced by the largest finite, ¼.
/// `I₀ = ¾`, `I₁ = 0`, `P₀ = ¾`, `P₁ = 5/4`: `Nr = 2·¼·¾ = 3/8`,
/// `D = ¼(¾ + 2) + ¼(5/4) = 1`, `f = 5/8`; `∂f/∂I_c = −2w_c = −½`,
/// `∂f/∂P_c = w_c·Nr = 3/32`: `∇₀ = −½g₀ + 3/32`, `∇₁ = 3/32`.
#[test]
fn generalized_replaces_an_infinite_weight_by_hand() {
    let x = [0.5, 0.25, 0.5, 0.75];
    let t = [1.0, 1.0, 0.0, 0.0];
    let o = Options {
        smooth_nr: 0.0,
        smooth_dr: 0.0,
        ..opts(Activation::None, Ratio::Generalized)
    };
    let out = dice(&x, 1, 2, 2, Target::Probabilities(&t), &o);
    assert_eq!(out.generalized_weights, vec![0.25, 0.25]);
    assert_close(out.value, 5.0 / 8.0, 1e-15, "value");
    let (a, b) = (-0.5 + 3.0 / 32.0, 3.0 / 32.0);
    assert_all_close(&out.grad, &[a, a, b, b], 1e-15, "grad");
}

/// `N = 2`, `C = 2`, `S = 2`, `p = ½` everywhere, no smoothing; class 1
/// empty in both images, image 0 `g₀ = [1, 1]`, image 1 `g₀ = [1, 0]`.
/// Per image (MONAI takes the max per image): image 0 `G = [2, 0]`,
/// `w = [¼, ¼]`, `I₀ = 1`, `P = [1, 1]`: `Nr = ½`, `D = ¼·3 + ¼·1 = 1`,
/// `f₀ = ½`; image 1 `G = [1, 0]`, `w = [1, 1]`, `I₀ = ½`: `Nr = 1`,
/// `D = 2 + 1 = 3`, `f₁ = ⅔`; mean 7/12. With `batch` (max over the
/// `[C]` vector): `G = [3, 0]`, `w = [1/9, 1/9]`, `I₀ = 3/2`, `P = [2, 2]`:
/// `Nr = 1/3`, `D = 5/9 + 2/9 = 7/9`, `f = 4/7`.
#[test]
fn generalized_takes_the_max_per_image_or_over_the_batch() {
    let x = [0.5; 8];
    let t = [1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];
    let o = Options {
        smooth_nr: 0.0,
        smooth_dr: 0.0,
        ..opts(Activation::None, Ratio::Generalized)
    };
    let out = dice(&x, 2, 2, 2, Target::Probabilities(&t), &o);
    assert_eq!(out.generalized_weights, vec![0.25, 0.25, 1.0, 1.0]);
    assert_all_close(&out.terms, &[0.5, 2.0 / 3.0], 1e-15, "terms");
    assert_close(out.value, 7.0 / 12.0, 1e-15, "mean");
    let batch = Options {
        batch: true,
        ..o.clone()
    };
    let out = dice(&x, 2, 2, 2, Target::Probabilities(&t), &batch);
    assert_all_close(
        &out.generalized_weights,
        &[1.0 / 9.0, 1.0 / 9.0],
        1e-16,
        "w",
    );
    assert_all_close(&out.terms, &[4.0 / 7.0], 1e-15, "batch term");
    // Every class empty: every weight 0 (MONAI: w[infs] = 0, max 0), so
    // f = 1 − a/b.
    let empty = Options {
        smooth_nr: 1e-8,
        smooth_dr: 1e-8,
        ..o
    };
    let out = dice(&x, 2, 2, 2, Target::Probabilities(&[0.0; 8]), &empty);
    assert_eq!(out.generalized_weights, vec![0.0; 4]);
    assert_eq!(out.value, 0.0);
    assert!(out.grad.iter().all(|&g| g == 0.0));
}

/// Tversky(½, ½) with smooth terms `a`, `b` is Dice with `2a`, `2b`:
/// `(I + a)/(½(P + G) + b) = (2I + 2a)/(P + G + 2b)`.
#[test]
fn tversky_half_half_is_dice_with_doubled_smoothing() {
    let mut rng = Lcg(7);
    for activation in ACTIVATIONS {
        for kind in KINDS {
            for (batch, squared_pred) in [(false, false), (true, false), (false, true)] {
                let pb = Problem::random(&mut rng, (2, 3, 5), activation, kind);
                let tv = Options {
                    activation,
                    ratio: Ratio::Tversky {
                        alpha: 0.5,
                        beta: 0.5,
                    },
                    batch,
                    squared_pred,
                    smooth_nr: 0.01,
                    smooth_dr: 0.02,
                    weight: Some(vec![0.5, 1.0, 2.0]),
                    ..Options::default()
                };
                let d = Options {
                    ratio: Ratio::Dice,
                    smooth_nr: 0.02,
                    smooth_dr: 0.04,
                    ..tv.clone()
                };
                let (a, b) = (pb.run(&pb.x, &tv), pb.run(&pb.x, &d));
                assert_close(a.value, b.value, 1e-14, "value");
                assert_all_close(&a.terms, &b.terms, 1e-14, "terms");
                assert_all_close(&a.grad, &b.grad, 1e-14, "grad");
            }
        }
    }
}

/// Without smoothing the Jaccard score `I/(P + G − I)` is `q/(2 − q)` of
/// the Dice score `q = 2I/(P + G)`: per term, `1 − j = (1 − d)/(1 + d)`.
#[test]
fn jaccard_score_is_dice_score_over_two_minus_it() {
    let mut rng = Lcg(8);
    for activation in ACTIVATIONS {
        for kind in [Kind::Soft, Kind::OneHot, Kind::Index, Kind::Ignored] {
            for squared_pred in [false, true] {
                let pb = Problem::random(&mut rng, (3, 4, 6), activation, kind);
                let d = Options {
                    activation,
                    squared_pred,
                    smooth_nr: 0.0,
                    smooth_dr: 0.0,
                    ..Options::default()
                };
                let j = Options {
                    ratio: Ratio::Jaccard,
                    ..d.clone()
                };
                let (dd, jj) = (pb.run(&pb.x, &d), pb.run(&pb.x, &j));
                for (td, tj) in dd.terms.iter().zip(&jj.terms) {
                    let q = 1.0 - td;
                    assert_close(1.0 - tj, q / (2.0 - q), 1e-14, "jaccard score");
                }
            }
        }
    }
}

/// `p = g` one-hot, probabilities in: every term is 0 — with `a = b = 0`
/// where every kept class is present, and with `a = b > 0` even for empty
/// classes (`1 − b/b`).
#[test]
fn perfect_prediction_costs_nothing() {
    for ratio in RATIOS {
        for include_background in [true, false] {
            for batch in [false, true] {
                for squared_pred in [false, true] {
                    // Labels 0, 1, 2, 0, 1, 2, ... in each image: no class empty.
                    let (n, c, s) = (2, 3, 7);
                    let labels: Vec<i64> = (0..n * s)
                        .map(|j| i64::try_from(j % s % c).expect("small"))
                        .collect();
                    let g = reference::ground_truth(
                        Target::Index {
                            labels: &labels,
                            ignore_index: None,
                        },
                        n,
                        c,
                        s,
                    )
                    .0;
                    let mut o = Options {
                        ratio,
                        include_background,
                        batch,
                        squared_pred,
                        smooth_nr: 0.0,
                        smooth_dr: 0.0,
                        ..Options::default()
                    };
                    let out = dice(&g, n, c, s, Target::Probabilities(&g), &o);
                    assert!(
                        out.terms.iter().all(|&t| t == 0.0),
                        "{o:?}: {:?}",
                        out.terms
                    );
                    // An empty class (class 2 never present), smooth a = b.
                    let mut t = g.clone();
                    for ni in 0..n {
                        for si in 0..s {
                            let i = (ni * c + 2) * s + si;
                            t[i] = 0.0;
                            t[(ni * c) * s + si] += g[i];
                        }
                    }
                    o.smooth_nr = 1e-5;
                    o.smooth_dr = 1e-5;
                    let out = dice(&t, n, c, s, Target::Probabilities(&t), &o);
                    assert!(
                        out.terms.iter().all(|&v| v.abs() < 1e-15),
                        "{o:?}: {:?}",
                        out.terms
                    );
                }
            }
        }
    }
}

/// `batch` sums over the images: the same as one image whose pixels are
/// the images' pixels one after another (`[1, C, N·S]`).
#[test]
fn batch_is_one_image_of_the_concatenated_pixels() {
    let mut rng = Lcg(10);
    for activation in ACTIVATIONS {
        for ratio in RATIOS {
            for kind in KINDS {
                let (n, c, s) = (3, 3, 4);
                let pb = Problem::random(&mut rng, (n, c, s), activation, kind);
                let o = Options {
                    activation,
                    ratio,
                    batch: true,
                    include_background: false,
                    smooth_nr: 0.1,
                    smooth_dr: 0.2,
                    ..Options::default()
                };
                let at = |ni: usize, k: usize, si: usize| (ni * c + k) * s + si;
                let flat = |ni: usize, k: usize, si: usize| k * n * s + ni * s + si;
                let mut x = vec![0.0; n * c * s];
                let mut t = vec![0.0; n * c * s];
                for ni in 0..n {
                    for k in 0..c {
                        for si in 0..s {
                            x[flat(ni, k, si)] = pb.x[at(ni, k, si)];
                            t[flat(ni, k, si)] = pb.probabilities[at(ni, k, si)];
                        }
                    }
                }
                let target = if pb.index {
                    Target::Index {
                        labels: &pb.labels,
                        ignore_index: pb.ignore_index,
                    }
                } else {
                    Target::Probabilities(&t)
                };
                let one = dice(
                    &x,
                    1,
                    c,
                    n * s,
                    target,
                    &Options {
                        batch: false,
                        ..o.clone()
                    },
                );
                let many = pb.run(&pb.x, &o);
                assert_close(many.value, one.value, 1e-14, "value");
                assert_all_close(&many.terms, &one.terms, 1e-14, "terms");
                for ni in 0..n {
                    for k in 0..c {
                        for si in 0..s {
                            assert_close(
                                many.grad[at(ni, k, si)],
                                one.grad[flat(ni, k, si)],
                                1e-14,
                                "grad",
                            );
                        }
                    }
                }
            }
        }
    }
}

/// An ignored pixel is a pixel that is not there (MONAI's
/// `test_ignore_index_index_target`, generalized): same value and terms as
/// the map without it, the same gradient on the other pixels, 0 on it.
/// `ignore_index` may be a class (here 0, with `C = 3`).
#[test]
fn an_ignored_pixel_is_a_dropped_pixel() {
    let mut rng = Lcg(11);
    for activation in ACTIVATIONS {
        for ratio in RATIOS {
            for ignore in [-100, 0] {
                for squared_pred in [false, true] {
                    let (c, s) = (3, 9);
                    let mut pb = Problem::random(&mut rng, (1, c, s), activation, Kind::Index);
                    pb.ignore_index = Some(ignore);
                    for si in [1, 4, 5] {
                        pb.labels[si] = ignore;
                    }
                    let kept: Vec<usize> = (0..s).filter(|&si| pb.labels[si] != ignore).collect();
                    let o = Options {
                        activation,
                        ratio,
                        squared_pred,
                        ..Options::default()
                    };
                    let out = pb.run(&pb.x, &o);
                    let x: Vec<f64> = (0..c)
                        .flat_map(|k| kept.iter().map(move |&si| (k, si)))
                        .map(|(k, si)| pb.x[k * s + si])
                        .collect();
                    let labels: Vec<i64> = kept.iter().map(|&si| pb.labels[si]).collect();
                    let target = Target::Index {
                        labels: &labels,
                        ignore_index: None,
                    };
                    let dropped = dice(&x, 1, c, kept.len(), target, &o);
                    assert_close(out.value, dropped.value, 1e-14, "value");
                    assert_all_close(&out.terms, &dropped.terms, 1e-14, "terms");
                    for k in 0..c {
                        for si in 0..s {
                            let g = out.grad[k * s + si];
                            match kept.iter().position(|&v| v == si) {
                                Some(j) => {
                                    assert_close(g, dropped.grad[k * kept.len() + j], 1e-14, "grad")
                                }
                                None => assert_eq!(g, 0.0, "ignored pixel"),
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Index labels are their one-hot probabilities (and for `C = 1` the
/// mask itself).
#[test]
fn index_labels_are_one_hot_targets() {
    let mut rng = Lcg(12);
    for activation in ACTIVATIONS {
        for ratio in RATIOS {
            for c in [1, 2, 4] {
                let pb = Problem::random(&mut rng, (2, c, 5), activation, Kind::OneHot);
                let o = Options {
                    activation,
                    ratio,
                    include_background: false,
                    ..Options::default()
                };
                let index = Target::Index {
                    labels: &pb.labels,
                    ignore_index: Some(-1),
                };
                let a = dice(&pb.x, 2, c, 5, index, &o);
                let b = dice(&pb.x, 2, c, 5, Target::Probabilities(&pb.probabilities), &o);
                assert_eq!(a.value.to_bits(), b.value.to_bits());
                assert_eq!(a.grad, b.grad);
            }
        }
    }
}

/// Every pixel ignored: every sum is 0, so each term is `ω·(1 − a/b)`
/// (generalized: every weight 0, the same), and the gradient is 0.
#[test]
fn an_all_ignored_map_gives_one_minus_a_over_b() {
    let mut rng = Lcg(13);
    for activation in ACTIVATIONS {
        for ratio in RATIOS {
            for batch in [false, true] {
                let pb = Problem::random(&mut rng, (2, 3, 4), activation, Kind::AllIgnored);
                let weight = (ratio != Ratio::Generalized).then(|| vec![2.0, 3.0]);
                let o = Options {
                    activation,
                    ratio,
                    batch,
                    include_background: false,
                    smooth_nr: 0.25,
                    smooth_dr: 1.0,
                    weight: weight.clone(),
                    ..Options::default()
                };
                let out = pb.run(&pb.x, &o);
                let expected: Vec<f64> = match (ratio, batch) {
                    (Ratio::Generalized, false) => vec![0.75; 2],
                    (Ratio::Generalized, true) => vec![0.75],
                    (_, false) => vec![1.5, 2.25, 1.5, 2.25],
                    (_, true) => vec![1.5, 2.25],
                };
                assert_all_close(&out.terms, &expected, 1e-15, &format!("{o:?}"));
                assert!(out.grad.iter().all(|&g| g == 0.0));
                assert!(out.sums.iter().all(|s| *s == reference::Sums::default()));
            }
        }
    }
}

/// Weights multiply the terms; `Mean` divides by the number of terms, not
/// by `Σ ω`; `Sum` adds them.
#[test]
fn weights_multiply_the_terms_and_mean_counts_them() {
    let mut rng = Lcg(14);
    for ratio in &RATIOS[..4] {
        let pb = Problem::random(&mut rng, (2, 3, 5), Activation::Softmax, Kind::Index);
        let plain = Options {
            activation: Activation::Softmax,
            ratio: *ratio,
            ..Options::default()
        };
        let w = vec![0.0, 0.5, 3.0];
        let weighted = Options {
            weight: Some(w.clone()),
            ..plain.clone()
        };
        let (a, b) = (pb.run(&pb.x, &plain), pb.run(&pb.x, &weighted));
        for (e, (ta, tb)) in a.terms.iter().zip(&b.terms).enumerate() {
            assert_close(*tb, w[e % 3] * ta, 1e-15, "weighted term");
        }
        assert_close(b.value, b.terms.iter().sum::<f64>() / 6.0, 1e-15, "mean");
        let sum = pb.run(
            &pb.x,
            &Options {
                mean: false,
                ..weighted
            },
        );
        assert_close(sum.value, b.terms.iter().sum::<f64>(), 1e-14, "sum");
        assert_all_close(
            &sum.grad,
            &b.grad.iter().map(|g| 6.0 * g).collect::<Vec<_>>(),
            1e-14,
            "sum grad",
        );
    }
}

/// MONAI's one-channel rules: softmax skipped, `include_background =
/// false` ignored, index labels are the mask. The weight of a single kept
/// class (also `C = 2` without background) applies, unlike MONAI (which
/// ignores it): simdloss's documented choice.
#[test]
fn one_channel_rules() {
    let mut rng = Lcg(15);
    for ratio in RATIOS {
        let pb = Problem::random(&mut rng, (2, 1, 6), Activation::None, Kind::Index);
        let none = Options {
            ratio,
            ..Options::default()
        };
        let base = pb.run(&pb.x, &none);
        let softmax = pb.run(
            &pb.x,
            &Options {
                activation: Activation::Softmax,
                ..none.clone()
            },
        );
        assert_eq!(softmax.grad, base.grad);
        assert_eq!(softmax.value.to_bits(), base.value.to_bits());
        let no_bg = pb.run(
            &pb.x,
            &Options {
                include_background: false,
                ..none.clone()
            },
        );
        assert_eq!(no_bg.value.to_bits(), base.value.to_bits());
        assert_eq!((no_bg.first_class, no_bg.kept), (0, 1));
        let mask: Vec<f64> = pb
            .labels
            .iter()
            .map(|&l| if l == 1 { 1.0 } else { 0.0 })
            .collect();
        let probs = dice(&pb.x, 2, 1, 6, Target::Probabilities(&mask), &none);
        assert_eq!(probs.value.to_bits(), base.value.to_bits());
        if ratio != Ratio::Generalized {
            let weighted = pb.run(
                &pb.x,
                &Options {
                    weight: Some(vec![3.0]),
                    ..none.clone()
                },
            );
            assert_close(
                weighted.value,
                3.0 * base.value,
                1e-15,
                "one class weighted",
            );
            // C = 2 without background: one kept class, its weight applied.
            let pb2 = Problem::random(&mut rng, (2, 2, 6), Activation::Softmax, Kind::Index);
            let o2 = Options {
                activation: Activation::Softmax,
                ratio,
                include_background: false,
                ..Options::default()
            };
            let w2 = Options {
                weight: Some(vec![5.0]),
                ..o2.clone()
            };
            assert_close(
                pb2.run(&pb2.x, &w2).value,
                5.0 * pb2.run(&pb2.x, &o2).value,
                1e-15,
                "one kept class weighted",
            );
        }
    }
}

/// With one class and no smoothing the generalized weight cancels: the
/// generalized Dice is the Dice.
#[test]
fn generalized_with_one_class_and_no_smoothing_is_dice() {
    let mut rng = Lcg(16);
    for activation in ACTIVATIONS {
        for batch in [false, true] {
            let pb = Problem::random(&mut rng, (3, 1, 7), activation, Kind::Soft);
            let d = Options {
                activation,
                batch,
                smooth_nr: 0.0,
                smooth_dr: 0.0,
                ..Options::default()
            };
            let g = Options {
                ratio: Ratio::Generalized,
                ..d.clone()
            };
            let (a, b) = (pb.run(&pb.x, &d), pb.run(&pb.x, &g));
            assert_close(a.value, b.value, 1e-14, "value");
            assert_all_close(&a.grad, &b.grad, 1e-14, "grad");
        }
    }
}

/// The softmax gradient sums to 0 over the classes of each pixel.
#[test]
fn softmax_gradient_sums_to_zero_per_pixel() {
    let mut rng = Lcg(17);
    for ratio in RATIOS {
        let (n, c, s) = (2, 4, 5);
        let pb = Problem::random(&mut rng, (n, c, s), Activation::Softmax, Kind::Ignored);
        let out = pb.run(
            &pb.x,
            &Options {
                activation: Activation::Softmax,
                ratio,
                include_background: false,
                ..Options::default()
            },
        );
        for ni in 0..n {
            for si in 0..s {
                let total: f64 = (0..c).map(|k| out.grad[(ni * c + k) * s + si]).sum();
                assert!(total.abs() < 1e-16, "pixel ({ni}, {si}): {total:e}");
            }
        }
    }
}

/// PyTorch `cross_entropy` by hand: `x = [1, 0]`, label 0: `ℓ = ln(1 +
/// e^−1)`; ε = 0.2: `0.8·ℓ₀ + 0.1·(ℓ₀ + ℓ₁)` with `ℓ₁ = 1 + ℓ₀`; weights:
/// `Mean` divides by `Σ w_y` of the non-ignored pixels; all ignored → 0.
#[test]
fn cross_entropy_by_hand() {
    let l0 = (-1.0f64).exp().ln_1p();
    let index = |labels: &'static [i64]| Target::Index {
        labels,
        ignore_index: Some(-100),
    };
    let (v, g) = cross_entropy(&[1.0, 0.0], (1, 2, 1), index(&[0]), None, 0.0, true);
    assert_close(v, l0, 1e-15, "plain");
    let p0 = sigmoid(1.0);
    assert_all_close(&g, &[p0 - 1.0, 1.0 - p0], 1e-15, "plain grad");
    let (v, _) = cross_entropy(&[1.0, 0.0], (1, 2, 1), index(&[0]), None, 0.2, true);
    assert_close(v, 0.8 * l0 + 0.1 * (2.0 * l0 + 1.0), 1e-15, "smoothing");
    // Two pixels (S = 2), labels 0 and 1, weights [2, 3]: (2ℓ₀ + 3ℓ₀)/5.
    let x = [1.0, 0.0, 0.0, 1.0];
    let (v, _) = cross_entropy(&x, (1, 2, 2), index(&[0, 1]), Some(&[2.0, 3.0]), 0.0, true);
    assert_close(v, l0, 1e-15, "weighted mean");
    let (v, _) = cross_entropy(
        &x,
        (1, 2, 2),
        index(&[0, -100]),
        Some(&[2.0, 3.0]),
        0.0,
        false,
    );
    assert_close(v, 2.0 * l0, 1e-15, "weighted sum, one ignored");
    let (v, g) = cross_entropy(&x, (1, 2, 2), index(&[-100, -100]), None, 0.0, true);
    assert_eq!(v, 0.0);
    assert!(g.iter().all(|&v| v == 0.0));
}

// ---------------------------------------------------------------------------
// 3. MONAI's unit tests
// ---------------------------------------------------------------------------

/// The MONAI inputs that recur: `[2, 2, 3]` logits and `[2, 3]` labels
/// (`torch.tensor([[[-1., 0., 1.], [1., 0., -1.]], [[0., 0., 0.], [0., 0.,
/// 0.]]])`, target `[[[1., 0., 0.]], [[1., 1., 0.]]]`, `to_onehot_y`).
const X_223: [f64; 12] = [-1.0, 0.0, 1.0, 1.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
const Y_23: [i64; 6] = [1, 0, 0, 1, 1, 0];
/// `[[[1., 1., 0.], [0., 0., 1.]], [[1., 0., 1.], [0., 1., 0.]]]`
/// (already one-hot), and its labels `[[[0., 0., 1.]], [[0., 1., 0.]]]`.
const P_223: [f64; 12] = [1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
const L_23: [i64; 6] = [0, 0, 1, 0, 1, 0];
/// `[1, 1, 2, 2]` logits `[[1., -1.], [-1., 1.]]`, target `[[1., 0.],
/// [1., 1.]]`.
const X_4: [f64; 4] = [1.0, -1.0, -1.0, 1.0];
const T_4: [f64; 4] = [1.0, 0.0, 1.0, 1.0];
/// `[2, 1, 2, 2]`: the same logits twice, targets all 1 and `[[1, 0], [1,
/// 0]]`.
const X_8: [f64; 8] = [1.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0];
const T_8: [f64; 8] = [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0];
/// `[2, 1, 2, 2]` probabilities, input and target alike.
const SOFT_8: [f64; 8] = [0.3, 0.4, 0.7, 0.9, 1.0, 0.1, 0.5, 0.3];

/// A MONAI case: what runs, and the expected reduced value (or the
/// `reduction = "none"` terms).
struct Case {
    name: &'static str,
    x: &'static [f64],
    shape: (usize, usize, usize),
    probabilities: Option<&'static [f64]>,
    labels: Option<&'static [i64]>,
    opts: Options,
    expected: &'static [f64],
    tol: f64,
}

fn run_cases(cases: &[Case]) {
    for case in cases {
        let (n, c, s) = case.shape;
        let target = match (case.probabilities, case.labels) {
            (Some(p), None) => Target::Probabilities(p),
            (None, Some(labels)) => Target::Index {
                labels,
                ignore_index: None,
            },
            _ => unreachable!("one target"),
        };
        let out = dice(case.x, n, c, s, target, &case.opts);
        if case.expected.len() == 1 {
            assert_close(out.value, case.expected[0], case.tol, case.name);
        } else {
            assert_all_close(&out.terms, case.expected, case.tol, case.name);
        }
    }
}

fn monai(activation: Activation, ratio: Ratio, smooth: f64) -> Options {
    Options {
        activation,
        ratio,
        smooth_nr: smooth,
        smooth_dr: smooth,
        ..Options::default()
    }
}

/// `tests/losses/test_dice_loss.py` (MONAI commit
/// `01c9ad1ad0e814355fe0f338e3160eb22d17d728`), `TEST_CASES` without the
/// `other_act` and `soft_label = True` ones; MONAI checks `rtol = 1e-5`
/// on values printed to 6 decimals (float32).
#[test]
fn monai_dice_loss_cases() {
    use Activation::{None as Id, Sigmoid, Softmax};
    let tol = 2e-6;
    run_cases(&[
        Case {
            name: "sigmoid [1,1,2,2], smooth 1e-6",
            x: &X_4,
            shape: (1, 1, 4),
            probabilities: Some(&T_4),
            labels: None,
            opts: monai(Sigmoid, Ratio::Dice, 1e-6),
            expected: &[0.307_576],
            tol,
        },
        Case {
            name: "sigmoid [2,1,2,2], smooth 1e-4",
            x: &X_8,
            shape: (2, 1, 4),
            probabilities: Some(&T_8),
            labels: None,
            opts: monai(Sigmoid, Ratio::Dice, 1e-4),
            expected: &[0.416_657],
            tol,
        },
        Case {
            name: "probabilities in, soft target = input, soft_label False",
            x: &SOFT_8,
            shape: (2, 1, 4),
            probabilities: Some(&SOFT_8),
            labels: None,
            opts: monai(Id, Ratio::Dice, 1e-4),
            expected: &[0.307_773],
            tol,
        },
        Case {
            name: "no background, one-hot, smooth 0",
            x: &P_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&L_23),
            opts: Options {
                include_background: false,
                ..monai(Id, Ratio::Dice, 0.0)
            },
            expected: &[0.0],
            tol,
        },
        Case {
            name: "sigmoid, to_onehot_y",
            x: &X_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&Y_23),
            opts: monai(Sigmoid, Ratio::Dice, 1e-4),
            expected: &[0.435_050],
            tol,
        },
        Case {
            name: "sigmoid, to_onehot_y, reduction none",
            x: &X_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&Y_23),
            opts: monai(Sigmoid, Ratio::Dice, 1e-4),
            expected: &[0.296_529, 0.415_136, 0.599_976, 0.428_559],
            tol,
        },
        Case {
            name: "softmax, to_onehot_y",
            x: &X_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&Y_23),
            opts: monai(Softmax, Ratio::Dice, 1e-4),
            expected: &[0.383_713],
            tol,
        },
        Case {
            name: "softmax, to_onehot_y, reduction sum",
            x: &X_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&Y_23),
            opts: Options {
                mean: false,
                ..monai(Softmax, Ratio::Dice, 1e-4)
            },
            expected: &[1.534_853],
            tol: 1e-5,
        },
        Case {
            name: "sigmoid, squared_pred",
            x: &X_4,
            shape: (1, 1, 4),
            probabilities: Some(&T_4),
            labels: None,
            opts: Options {
                squared_pred: true,
                ..monai(Sigmoid, Ratio::Dice, 1e-5)
            },
            expected: &[0.178_337],
            tol,
        },
        Case {
            name: "sigmoid, jaccard",
            x: &X_4,
            shape: (1, 1, 4),
            probabilities: Some(&T_4),
            labels: None,
            opts: monai(Sigmoid, Ratio::Jaccard, 1e-5),
            expected: &[0.470_451],
            tol,
        },
    ]);
    // The first case by hand: p = σ(±1) = 0.731059 / 0.268941, I = 2σ(1) +
    // σ(−1) = 1.731059, P = 2, G = 3: 1 − (3.462117 + 1e-6)/(5 + 1e-6).
    let expected = 1.0 - (2.0 * (2.0 * sigmoid(1.0) + sigmoid(-1.0)) + 1e-6) / (5.0 + 1e-6);
    let out = dice(
        &X_4,
        1,
        1,
        4,
        Target::Probabilities(&T_4),
        &monai(Sigmoid, Ratio::Dice, 1e-6),
    );
    assert_close(out.value, expected, 1e-15, "first case by hand");
}

/// `tests/losses/test_tversky_loss.py` (MONAI commit
/// `021094ff2b36776b2a32a97612a2fe11ad5f4cdf`), without `other_act` and
/// `soft_label = True`. MONAI checks `rtol = 1e-4`, and so do we: some
/// of its expected numbers are the Dice ones (the second case, 0.416657,
/// is `test_dice_loss.py`'s; Tversky(½, ½) differs from Dice through the
/// smooth terms: 0.416649 here).
#[test]
fn monai_tversky_loss_cases() {
    use Activation::{None as Id, Sigmoid, Softmax};
    let tv = Ratio::Tversky {
        alpha: 0.5,
        beta: 0.5,
    };
    let tol = 5e-5;
    run_cases(&[
        Case {
            name: "sigmoid [1,1,2,2], smooth 1e-6",
            x: &X_4,
            shape: (1, 1, 4),
            probabilities: Some(&T_4),
            labels: None,
            opts: monai(Sigmoid, tv, 1e-6),
            expected: &[0.307_576],
            tol,
        },
        Case {
            name: "sigmoid [2,1,2,2], smooth 1e-4",
            x: &X_8,
            shape: (2, 1, 4),
            probabilities: Some(&T_8),
            labels: None,
            opts: monai(Sigmoid, tv, 1e-4),
            expected: &[0.416_657],
            tol,
        },
        Case {
            name: "probabilities in, soft target, soft_label False",
            x: &SOFT_8,
            shape: (2, 1, 4),
            probabilities: Some(&SOFT_8),
            labels: None,
            opts: monai(Id, tv, 1e-4),
            expected: &[0.307_773],
            tol,
        },
        Case {
            name: "no background, one-hot, smooth 0",
            x: &P_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&L_23),
            opts: Options {
                include_background: false,
                ..monai(Id, tv, 0.0)
            },
            expected: &[0.0],
            tol,
        },
        Case {
            name: "no background, one-hot, smooth_nr 0, smooth_dr 1e-3",
            x: &P_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&L_23),
            opts: Options {
                include_background: false,
                smooth_nr: 0.0,
                smooth_dr: 1e-3,
                ..monai(Id, tv, 0.0)
            },
            expected: &[0.000_999],
            tol,
        },
        Case {
            name: "sigmoid, to_onehot_y",
            x: &X_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&Y_23),
            opts: monai(Sigmoid, tv, 1e-4),
            expected: &[0.435_050],
            tol,
        },
        Case {
            name: "sigmoid, to_onehot_y, batch",
            x: &X_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&Y_23),
            opts: Options {
                batch: true,
                ..monai(Sigmoid, tv, 1e-5)
            },
            expected: &[0.422_979],
            tol,
        },
        Case {
            name: "sigmoid, to_onehot_y, reduction sum",
            x: &X_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&Y_23),
            opts: Options {
                mean: false,
                ..monai(Sigmoid, tv, 1e-4)
            },
            expected: &[1.740_13],
            tol: 2e-4,
        },
        Case {
            name: "softmax, to_onehot_y",
            x: &X_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&Y_23),
            opts: monai(Softmax, tv, 1e-4),
            expected: &[0.383_713],
            tol,
        },
        Case {
            name: "softmax, to_onehot_y, reduction none",
            x: &X_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&Y_23),
            opts: monai(Softmax, tv, 1e-4),
            expected: &[0.210_961, 0.295_339, 0.599_952, 0.428_547],
            tol,
        },
        Case {
            name: "sigmoid, α 0.3, β 0.7",
            x: &X_4,
            shape: (1, 1, 4),
            probabilities: Some(&T_4),
            labels: None,
            opts: monai(
                Sigmoid,
                Ratio::Tversky {
                    alpha: 0.3,
                    beta: 0.7,
                },
                1e-6,
            ),
            expected: &[0.3589],
            tol: 5e-5,
        },
        Case {
            name: "sigmoid, α 0.7, β 0.3",
            x: &X_4,
            shape: (1, 1, 4),
            probabilities: Some(&T_4),
            labels: None,
            opts: monai(
                Sigmoid,
                Ratio::Tversky {
                    alpha: 0.7,
                    beta: 0.3,
                },
                1e-6,
            ),
            expected: &[0.247_366],
            tol,
        },
    ]);
}

/// `tests/losses/test_generalized_dice_loss.py` (MONAI commit
/// `070fb8808e6c2434abd9436d51eec92d97219a29`), the `w_type = "square"`
/// cases without `other_act` and `soft_label = True`; `rtol = 1e-5`.
#[test]
fn monai_generalized_dice_loss_cases() {
    use Activation::{None as Id, Sigmoid, Softmax};
    let gd = Ratio::Generalized;
    let tol = 2e-6;
    run_cases(&[
        Case {
            name: "sigmoid [1,1,2,2], smooth 1e-6",
            x: &X_4,
            shape: (1, 1, 4),
            probabilities: Some(&T_4),
            labels: None,
            opts: monai(Sigmoid, gd, 1e-6),
            expected: &[0.307_576],
            tol,
        },
        Case {
            name: "sigmoid [2,1,2,2], smooth 1e-4",
            x: &X_8,
            shape: (2, 1, 4),
            probabilities: Some(&T_8),
            labels: None,
            opts: monai(Sigmoid, gd, 1e-4),
            expected: &[0.416_597],
            tol,
        },
        Case {
            name: "probabilities in, soft target, soft_label False",
            x: &SOFT_8,
            shape: (2, 1, 4),
            probabilities: Some(&SOFT_8),
            labels: None,
            opts: monai(Id, gd, 1e-4),
            expected: &[0.307_748],
            tol,
        },
        Case {
            name: "no background, one-hot, smooth 0",
            x: &P_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&L_23),
            opts: Options {
                include_background: false,
                ..monai(Id, gd, 0.0)
            },
            expected: &[0.0],
            tol,
        },
        Case {
            name: "sigmoid, to_onehot_y",
            x: &X_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&Y_23),
            opts: monai(Sigmoid, gd, 1e-4),
            expected: &[0.469_964],
            tol,
        },
        Case {
            name: "softmax, to_onehot_y",
            x: &X_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&Y_23),
            opts: monai(Softmax, gd, 1e-4),
            expected: &[0.414_507],
            tol,
        },
        Case {
            name: "softmax, to_onehot_y, reduction sum",
            x: &X_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&Y_23),
            opts: Options {
                mean: false,
                ..monai(Softmax, gd, 1e-4)
            },
            expected: &[0.829_015],
            tol,
        },
        Case {
            name: "softmax, to_onehot_y, reduction none",
            x: &X_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&Y_23),
            opts: monai(Softmax, gd, 1e-4),
            expected: &[0.273_476, 0.555_539],
            tol,
        },
        Case {
            name: "no background, every target 0, smooth 1e-8",
            x: &P_223,
            shape: (2, 2, 3),
            probabilities: None,
            labels: Some(&[0; 6]),
            opts: Options {
                include_background: false,
                ..monai(Id, gd, 1e-8)
            },
            expected: &[0.0],
            tol,
        },
    ]);
}

/// `tests/losses/test_dice_ce_loss.py` (MONAI commit
/// `dd3ca76e2cf2b05e2af2ca98256634bfe2ba99ea`), the `C = 2` cases (the
/// `C = 1` one is BCE); MONAI checks `atol = rtol = 1e-4`. No activation
/// for the Dice part (MONAI's default), the CE on the same numbers as
/// logits; the first result "equals -1 + np.log(1 + np.exp(1))".
#[test]
fn monai_dice_ce_loss_cases() {
    const X_BIG: [f64; 12] = [
        100.0, 100.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0,
    ];
    let labels = Target::Index {
        labels: &L_23,
        ignore_index: None,
    };
    let ce = |lambda_ce: f64, weight: Option<Vec<f64>>| DiceCe {
        lambda_dice: 1.0,
        lambda_ce,
        label_smoothing: 0.0,
        weight,
    };
    let plain = Options::default();
    let no_bg = Options {
        include_background: false,
        ..Options::default()
    };
    let l0 = (-1.0f64).exp().ln_1p();
    for (name, x, target, o, dce, expected) in [
        ("to_onehot_y", &P_223, labels, &plain, ce(1.0, None), 0.3133),
        (
            "one-hot target",
            &P_223,
            Target::Probabilities(&P_223),
            &plain,
            ce(1.0, None),
            0.3133,
        ),
        (
            "no background, weight [1, 1]",
            &X_BIG,
            labels,
            &no_bg,
            ce(1.0, Some(vec![1.0, 1.0])),
            0.2088,
        ),
        (
            "λ_ce 2",
            &X_BIG,
            labels,
            &no_bg,
            ce(2.0, Some(vec![1.0, 1.0])),
            0.4176,
        ),
        (
            "weight [0, 1]",
            &X_BIG,
            labels,
            &no_bg,
            ce(1.0, Some(vec![0.0, 1.0])),
            0.3133,
        ),
    ] {
        let out = dice_ce(x, 2, 2, 3, target, o, &dce);
        assert_close(out.value, expected, 1e-4 + 1e-4 * expected, name);
    }
    let out = dice_ce(&P_223, 2, 2, 3, labels, &plain, &ce(1.0, None));
    assert_close(out.ce_value, l0, 1e-15, "ln(1 + e^−1)");
    assert!(out.dice.value.abs() < 1e-15, "perfect Dice part");
}
