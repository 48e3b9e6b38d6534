//! The f64 reference of the Dice family (Dice, Jaccard, Tversky,
//! generalized Dice, and Dice + cross-entropy) over `[N, C, S]` logits
//! (`x[(n·C + c)·S + s]`): value, analytic gradient `∂value/∂x`, the
//! unreduced terms, and the sums they come from.
//!
//! # Semantics (MONAI, DESIGN.md §3)
//!
//! 1. `p` = the activation of `x` over ALL classes: `Sigmoid` elementwise,
//!    `Softmax` over `C` per pixel, `None` (`x` already holds
//!    probabilities).
//! 2. `g` = the target: probabilities `[N, C, S]` as given, or index labels
//!    `[N, S]` one-hot encoded. A pixel whose label is `ignore_index` is
//!    masked: `p` and `g` are 0 there in every class, so it counts in no
//!    sum and gets a zero gradient.
//! 3. `include_background = false` drops class 0 of `p` and `g` (after the
//!    softmax); `C_kept` classes remain.
//! 4. Per term `t` — one per `(n, c)`, or per `c` with `batch` (the sums
//!    then run over `N` too) — `I = Σ p·g`, `P = Σ p`, `G = Σ g`
//!    (`squared_pred`: `P = Σ p²`, `G = Σ g²`; `I` unchanged), and, with
//!    `a = smooth_nr`, `b = smooth_dr`, `Nr` the numerator and `D` the
//!    denominator of the ratio:
//!
//! | ratio | term `f` | `∂f/∂I` | `∂f/∂P` |
//! |---|---|---|---|
//! | `Dice` | `1 − (2I + a)/(P + G + b)` | `−2/D` | `Nr/D²` |
//! | `Jaccard` | `1 − (2I + a)/(2(P + G − I) + b)` | `−2(D + Nr)/D²` | `2·Nr/D²` |
//! | `Tversky { α, β }` | `1 − (I + a)/(I + α(P − I) + β(G − I) + b)` | `−(D − (1 − α − β)·Nr)/D²` | `α·Nr/D²` |
//! | `Generalized` | per image (one term for the batch with `batch`): `1 − (2 Σ_c w_c I_c + a)/(Σ_c w_c (P_c + G_c) + b)` | `−2w_c/D` | `w_c·Nr/D²` |
//!
//!    with `w_c = 1/G_c²` (`G_c = Σ g`, never squared), an infinite weight
//!    (`G_c = 0`) replaced by the largest finite weight of the same image
//!    (of the batch's `[C_kept]` vector with `batch`), and 0 if there is
//!    none. `w` depends on the target only: a constant for the gradient.
//! 5. Class weights `ω_c` (one per KEPT class) multiply the terms of the
//!    non-generalized ratios; the terms returned (MONAI's
//!    `reduction = "none"`) are the weighted ones.
//! 6. `value = Σ_t f_t` (`Sum`) or `Σ_t f_t / T` (`Mean`, `T` = the number
//!    of terms: a plain mean, not divided by `Σ ω`).
//! 7. Gradient: `v = ∂value/∂p = r·ω·(∂f/∂I·g + ∂f/∂P·(1, or 2p))` per
//!    kept class at a counted pixel (`r` = 1 or `1/T`), 0 elsewhere; then
//!    through the activation: `None`: `v`; `Sigmoid`: `v·σ(x)σ(−x)`;
//!    `Softmax`: `p_c (v_c − Σ_k p_k v_k)` over all `C` classes.
//!
//! `D = 0` (possible only with `smooth_dr = 0`: an empty class, an
//! all-ignored map) gives NaN or ±∞, as in MONAI. Logits are assumed
//! finite (the reference does not model the kernels' limits at ±∞).
//!
//! # API
//!
//! [`dice`]`(x, n, c, s, Target, &Options) -> Output` (`value`, `grad`,
//! `grad_p`, `terms`, `sums`, `generalized_weights`, `term_cond`,
//! `grad_cancel`, `first_class`, `kept`); the kernels' documented bounds
//! from these, [`value_bound`] and [`grad_bound`] (shared by
//! `tests/dice.rs` and the fuzz target); [`dice_ce`]`(x, n, c, s, Target,
//! &Options, &DiceCe) -> DiceCeOutput`; [`cross_entropy`]; the steps [`probabilities`],
//! [`ground_truth`], [`backprop`]. MONAI's `jaccard` flag is the
//! [`Ratio::Jaccard`] variant; `ignore_index` is an `Option<i64>`. Bad
//! input panics (a reference, not a kernel: the kernels return `Err`).
//!
//! # Dice + cross-entropy
//!
//! [`dice_ce`] is `λ_dice·dice(x) + λ_ce·CE(x)`, CE being PyTorch's
//! `cross_entropy` on the same logits (class weights, label smoothing,
//! `ignore_index`; `Mean` divides by `Σ w_y` over the non-ignored pixels
//! for index targets, by `N·S` for probability targets; all ignored → 0,
//! DESIGN.md §3, where PyTorch gives NaN). The CE value and gradient come
//! from the existing `tests/reference/softmax.rs` ([`softmax::sample`] per
//! pixel), which this file includes itself with a nested `#[path]`
//! (resolved relative to this file), so one
//! `#[path = "reference/dice.rs"] mod …;` brings everything.
//!
//! # What was checked in MONAI, and where
//!
//! Read in `Project-MONAI/MONAI` at commit
//! `018e8a8020be7cfdd7d606f4702c79b1204387c2` (the `dev` branch after
//! PR #8757, "implement ignore_index support", merged 2026-05-21; whether
//! MONAI 1.6 has that PR was not verified):
//! - `monai/losses/dice.py`, `DiceLoss.forward`: sigmoid; softmax over
//!   dim 1 (skipped, with a warning, for one channel); one-hot of the
//!   labels (skipped for one channel); class 0 dropped (skipped for one
//!   channel); the ignore mask multiplied into input and target
//!   (`mask_loss_inputs`); `compute_tp_fp_fn(ord = 2 if squared_pred else
//!   1)`; `fp, fn *= 0.5` unless `jaccard`; `f = 1 − (2tp + smooth_nr) /
//!   (2(tp + fp + fn) + smooth_dr)` — that is `(P + G)` for Dice and
//!   `2(P + G − I)` for Jaccard; then `f *= class_weight` only
//!   `if num_of_classes != 1` (the kept classes; a scalar weight is
//!   broadcast, a sequence must have one entry per kept class, values ≥ 0
//!   checked in `__init__`); then `torch.mean(f)` / `torch.sum(f)` /
//!   the `[N, C_kept]` matrix.
//! - `monai/losses/utils.py`, `compute_tp_fp_fn` (stored commit
//!   `13868c6edfeedde41e2011de9d4d72b658327f99`): `ord = 1`, no soft label:
//!   `tp = Σpg`, `fp = Σp − tp`, `fn = Σg − tp`; `ord = 2`:
//!   `tp = (Σp² + Σg² − Σ(p − g)²)/2 = Σpg`, `fp = Σp² − tp`,
//!   `fn = Σg² − tp`: so `squared_pred` squares `P` and `G`, not `I`.
//!   (`soft_label = True`, which changes `tp` for soft targets, is not
//!   modelled: the default `False` is.)
//! - `monai/losses/tversky.py` (same commit): `compute_tp_fp_fn(ord = 1,
//!   decoupled = False)`, i.e. `fp = Σp(1 − g)`, `fn = Σ(1 − p)g` — equal to
//!   `P − I`, `G − I`; `1 − (tp + smooth_nr)/(tp + α·fp + β·fn +
//!   smooth_dr)`; `ignore_index` as in `DiceLoss`; no `weight`, no
//!   `squared_pred`.
//! - `GeneralizedDiceLoss` (dice.py): `w = 1/ground_o²` with `ground_o =
//!   Σ target`; `batch`: `w[infs] = 0; w = w + infs·max(w)` over the `[C]`
//!   vector; otherwise the max is taken per image (`torch.max(w, dim=1)`);
//!   `f = 1 − (2 Σ_c w·tp + smooth_nr)/(Σ_c w·(2tp + fp + fn) + smooth_dr)`
//!   (`2tp + fp + fn = P + G`), one term per image (one with `batch`); no
//!   `weight`, no `squared_pred`, no `ignore_index`.
//! - `DiceCELoss` (dice.py): one `weight` of length `C` goes to
//!   `CrossEntropyLoss(weight, reduction, label_smoothing)` and, as
//!   `weight[1:]` when `include_background = False`, to the `DiceLoss`;
//!   the one `reduction` (`mean` or `sum`, no `none`) applies to both;
//!   `ignore_index` is "not supported"; a one-channel input switches the CE
//!   to `BCEWithLogitsLoss(pos_weight = weight)`; the Dice part applies
//!   only the activation it is given (none by default).
//!
//! # Where this reference extends MONAI (options MONAI lacks)
//!
//! - `squared_pred` for `Tversky` and `Generalized`: `P`, `G` squared as
//!   `compute_tp_fp_fn(ord = 2)` would give; the generalized weights still
//!   use `Σ g`.
//! - Class weights for `Tversky` (terms multiplied, as for Dice); none for
//!   `Generalized` (panics).
//! - `ignore_index` for `Generalized` and [`dice_ce`] (the same mask; the
//!   CE skips the pixel as PyTorch's `ignore_index` does).
//!
//! # One channel (`C = 1`), as MONAI does it
//!
//! `Softmax` is skipped (`p = x`), `include_background = false` is ignored
//! (class 0 is kept), index labels are the mask itself (`g = label`, labels
//! 0 or 1: MONAI skips the one-hot). MONAI also ignores a class weight (one
//! kept class, or `C = 2` without background); simdloss and this reference
//! apply it.
//!
//! Keep it dependency-free: core/std f64 math only, no `simdloss` types,
//! no crates (the CE part is `tests/reference/softmax.rs`, equally free).

#[allow(dead_code)]
#[path = "softmax.rs"]
pub mod softmax;

/// The activation applied to the input before the sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `p = σ(x)`, elementwise (multi-label; the binary `C = 1` case).
    Sigmoid,
    /// `p = softmax(x)` over the `C` classes of each pixel (skipped for
    /// `C = 1`, as MONAI does).
    Softmax,
    /// `p = x`: the input already holds probabilities.
    None,
}

/// The overlap ratio.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ratio {
    /// `1 − (2I + a)/(P + G + b)`.
    Dice,
    /// MONAI's `jaccard = True`: `1 − (2I + a)/(2(P + G − I) + b)`.
    Jaccard,
    /// `1 − (I + a)/(I + α(P − I) + β(G − I) + b)`; `α = β = ½` is Dice
    /// with the smooth terms doubled.
    Tversky {
        /// α, the weight of the false positives `P − I`.
        alpha: f64,
        /// β, the weight of the false negatives `G − I`.
        beta: f64,
    },
    /// MONAI `GeneralizedDiceLoss`, `w_type = "square"`.
    Generalized,
}

/// The options of a Dice-family loss (MONAI's constructor arguments).
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// The input activation.
    pub activation: Activation,
    /// Which ratio.
    pub ratio: Ratio,
    /// `P = Σ p²`, `G = Σ g²` instead of `Σ p`, `Σ g`.
    pub squared_pred: bool,
    /// Keep class 0 (ignored for `C = 1`).
    pub include_background: bool,
    /// Sum `I`, `P`, `G` over the batch too: one term per kept class
    /// (per batch for `Generalized`).
    pub batch: bool,
    /// `a`, added to the numerator.
    pub smooth_nr: f64,
    /// `b`, added to the denominator.
    pub smooth_dr: f64,
    /// Class weights, one per KEPT class (`C − 1` entries without the
    /// background), ≥ 0, multiplying the terms (also when one class is
    /// kept, where MONAI ignores it). Not for `Generalized`.
    pub weight: Option<Vec<f64>>,
    /// `Mean` (true) or `Sum` (false) over the terms.
    pub mean: bool,
}

impl Default for Options {
    /// MONAI's defaults: no activation, Dice, background kept, per image,
    /// `smooth_nr = smooth_dr = 1e-5`, no weights, mean.
    fn default() -> Self {
        Self {
            activation: Activation::None,
            ratio: Ratio::Dice,
            squared_pred: false,
            include_background: true,
            batch: false,
            smooth_nr: 1e-5,
            smooth_dr: 1e-5,
            weight: None,
            mean: true,
        }
    }
}

/// The target of a whole `[N, C, S]` problem.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// Probabilities (or one-hot) `[N, C, S]`, in the logits' layout.
    Probabilities(&'a [f64]),
    /// Class indices `[N, S]` (`labels[n·S + s]`), one-hot encoded (for
    /// `C = 1`: the mask itself, 0 or 1). A label equal to `ignore_index`
    /// masks its pixel; any other label outside `0..C` (`{0, 1}` for
    /// `C = 1`) panics.
    Index {
        /// The labels.
        labels: &'a [i64],
        /// The ignored label, if any (it may also be a class, e.g. 0).
        ignore_index: Option<i64>,
    },
}

/// The sums behind one term (one kept class of one image, or of the batch).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sums {
    /// `I = Σ p·g`.
    pub intersection: f64,
    /// `P = Σ p` (`Σ p²` with `squared_pred`).
    pub pred: f64,
    /// `G = Σ g` (`Σ g²` with `squared_pred`).
    pub ground: f64,
    /// `Σ g`, never squared (the generalized weights use it).
    pub ground_mass: f64,
}

/// The reference of a whole call.
#[derive(Clone, Debug)]
pub struct Output {
    /// The reduced loss.
    pub value: f64,
    /// `∂value/∂x`, `[N, C, S]`.
    pub grad: Vec<f64>,
    /// `∂value/∂p`, `[N, C, S]` (0 for a dropped background class and at
    /// ignored pixels): the gradient before the activation.
    pub grad_p: Vec<f64>,
    /// The unreduced, weighted terms: `[N, C_kept]` (`[C_kept]` with
    /// `batch`); `[N]` (`[1]` with `batch`) for `Generalized`.
    pub terms: Vec<f64>,
    /// The sums per kept class: `[N, C_kept]`, or `[C_kept]` with `batch`
    /// (for every ratio, `Generalized` included).
    pub sums: Vec<Sums>,
    /// The generalized Dice weights `w_c` after the replacement of the
    /// infinite ones, shaped like `sums`; empty for the other ratios.
    pub generalized_weights: Vec<f64>,
    /// The conditioning of each term, shaped like `terms`: `ω·cond`, with
    /// `cond = (|Nr|_abs + |Nr/D|·|D|_abs)/|D|`, where `|·|_abs` sums the
    /// absolute values of the terms of `Nr` and `D` (`I`, `P`, `G`, the
    /// smooth terms; `α(P − I)` taken as `|α|·P + |α|·I`, and so on; the
    /// generalized ratio termwise over its classes). A relative error `ε`
    /// of every sum moves the ratio by about `ε·cond`: the value bound's
    /// second term ([`value_bound`]).
    pub term_cond: Vec<f64>,
    /// Per element, `[N, C, S]`: the scale of the rounding error of the
    /// gradient's cancellations, `ṽ = κ·(|∂value/∂I|_abs·|g| +
    /// |∂value/∂P|_abs·|∂P/∂p|)` (the terms of `grad_p` and of its
    /// coefficients added in absolute value; `κ = 1 + |Nr|_abs/|Nr| +
    /// 2|D|_abs/|D|` carries the sums' relative error into the
    /// coefficients, which matters where `D` cancels) taken through
    /// the activation in absolute value: `None`: `ṽ`; `Sigmoid`:
    /// `ṽ·σ(x)σ(−x)`; `Softmax`: `p_c·(ṽ_c + Σ_k p_k ṽ_k)` (the chain
    /// `p_c·(v_c − Σ_k p_k v_k)` cancels when `v` is nearly the same in
    /// every class). Scaled like `grad` (the `1/T` of `Mean` included).
    pub grad_cancel: Vec<f64>,
    /// The first kept class: 0, or 1 without the background.
    pub first_class: usize,
    /// `C_kept`.
    pub kept: usize,
}

/// `1/(1 + e^−z)`, without overflow.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// The activated probabilities `p` of `x`, `[N, C, S]`.
///
/// # Panics
/// If `x` is not `N·C·S` long.
pub fn probabilities(x: &[f64], n: usize, c: usize, s: usize, activation: Activation) -> Vec<f64> {
    assert_eq!(x.len(), n * c * s, "logits");
    match activation {
        Activation::None => x.to_vec(),
        Activation::Softmax if c == 1 => x.to_vec(),
        Activation::Sigmoid => x.iter().map(|&v| sigmoid(v)).collect(),
        Activation::Softmax => {
            let mut p = vec![0.0; x.len()];
            for ni in 0..n {
                for si in 0..s {
                    let at = |k: usize| (ni * c + k) * s + si;
                    let m = (0..c).map(|k| x[at(k)]).fold(f64::NEG_INFINITY, f64::max);
                    let total: f64 = (0..c).map(|k| (x[at(k)] - m).exp()).sum();
                    for k in 0..c {
                        p[at(k)] = (x[at(k)] - m).exp() / total;
                    }
                }
            }
            p
        }
    }
}

/// The target as probabilities `g` (`[N, C, S]`, 0 in every class of an
/// ignored pixel) and which pixels count (`[N, S]`).
///
/// # Panics
/// On lengths that disagree with the shape, or a label that is neither a
/// class nor ignored.
pub fn ground_truth(target: Target<'_>, n: usize, c: usize, s: usize) -> (Vec<f64>, Vec<bool>) {
    match target {
        Target::Probabilities(t) => {
            assert_eq!(t.len(), n * c * s, "probability targets");
            (t.to_vec(), vec![true; n * s])
        }
        Target::Index {
            labels,
            ignore_index,
        } => {
            assert_eq!(labels.len(), n * s, "labels");
            let mut g = vec![0.0; n * c * s];
            let mut counts = vec![true; n * s];
            for (j, &label) in labels.iter().enumerate() {
                if Some(label) == ignore_index {
                    counts[j] = false;
                    continue;
                }
                let (ni, si) = (j / s, j % s);
                if c == 1 {
                    assert!(
                        label == 0 || label == 1,
                        "label {label} at {j}: a one-channel mask takes 0 or 1"
                    );
                    g[ni * s + si] = if label == 1 { 1.0 } else { 0.0 };
                } else {
                    let k = usize::try_from(label)
                        .ok()
                        .filter(|&k| k < c)
                        .unwrap_or_else(|| panic!("label {label} at {j} is not in 0..{c}"));
                    g[(ni * c + k) * s + si] = 1.0;
                }
            }
            (g, counts)
        }
    }
}

/// `(f, ∂f/∂I, ∂f/∂P)` of one term of a non-generalized ratio.
fn ratio_term(ratio: Ratio, sums: Sums, a: f64, b: f64) -> (f64, f64, f64) {
    let (i, pp, gg) = (sums.intersection, sums.pred, sums.ground);
    match ratio {
        Ratio::Dice => {
            let nr = 2.0 * i + a;
            let d = pp + gg + b;
            (1.0 - nr / d, -2.0 / d, nr / (d * d))
        }
        Ratio::Jaccard => {
            let nr = 2.0 * i + a;
            let d = 2.0 * (pp + gg - i) + b;
            (1.0 - nr / d, -2.0 * (d + nr) / (d * d), 2.0 * nr / (d * d))
        }
        Ratio::Tversky { alpha, beta } => {
            let nr = i + a;
            let d = i + alpha * (pp - i) + beta * (gg - i) + b;
            (
                1.0 - nr / d,
                -(d - (1.0 - alpha - beta) * nr) / (d * d),
                alpha * nr / (d * d),
            )
        }
        Ratio::Generalized => unreachable!("the generalized ratio has no per-class term"),
    }
}

/// The conditioning of a ratio `Nr/D` from its value and the absolute
/// sums of its terms: `cond` (see [`Output::term_cond`]) and `κ`, the
/// factor by which relative errors of the sums grow in the derivative
/// coefficients `∂f/∂I`, `∂f/∂P` (`1 + |Nr|_abs/|Nr| + 2|D|_abs/|D|`:
/// `Nr/D²`, once for the rounding of the coefficient itself).
fn conditioning(nr: f64, nr_abs: f64, d: f64, d_abs: f64) -> (f64, f64) {
    let cond = (nr_abs + (nr / d).abs() * d_abs) / d.abs();
    let c_nr = if nr_abs == 0.0 {
        1.0
    } else {
        nr_abs / nr.abs()
    };
    (cond, 1.0 + c_nr + 2.0 * d_abs / d.abs())
}

/// Of one term of a non-generalized ratio: `(cond, |∂f/∂I|_abs,
/// |∂f/∂P|_abs)`, the derivatives (`−(∂Nr/∂I − r·∂D/∂I)/D`, `r·∂D/∂P/D`,
/// `r = Nr/D`) with their two parts added in absolute value and times `κ`
/// (see [`conditioning`]): the scale of their rounding error.
fn ratio_cond(ratio: Ratio, sums: Sums, a: f64, b: f64) -> (f64, f64, f64) {
    let (i, pp, gg) = (sums.intersection, sums.pred, sums.ground);
    let (nr, nr_abs, d, d_abs, dnum_di, dden_di, dden_dp) = match ratio {
        Ratio::Dice => (
            2.0 * i + a,
            2.0 * i.abs() + a.abs(),
            pp + gg + b,
            pp.abs() + gg.abs() + b.abs(),
            2.0,
            0.0,
            1.0,
        ),
        Ratio::Jaccard => (
            2.0 * i + a,
            2.0 * i.abs() + a.abs(),
            2.0 * (pp + gg - i) + b,
            2.0 * (pp.abs() + gg.abs() + i.abs()) + b.abs(),
            2.0,
            -2.0,
            2.0,
        ),
        Ratio::Tversky { alpha, beta } => (
            i + a,
            i.abs() + a.abs(),
            i + alpha * (pp - i) + beta * (gg - i) + b,
            i.abs()
                + alpha.abs() * (pp.abs() + i.abs())
                + beta.abs() * (gg.abs() + i.abs())
                + b.abs(),
            1.0,
            1.0 - alpha - beta,
            alpha,
        ),
        Ratio::Generalized => unreachable!("the generalized ratio has no per-class term"),
    };
    let (cond, kappa) = conditioning(nr, nr_abs, d, d_abs);
    let r = (nr / d).abs();
    (
        cond,
        kappa * (f64::abs(dnum_di) + r * f64::abs(dden_di)) / d.abs(),
        kappa * r * f64::abs(dden_dp) / d.abs(),
    )
}

/// `u = 2⁻²⁴`, the unit roundoff of f32.
pub const U: f64 = 1.0 / 16_777_216.0;

/// `K` of the value bound's conditioning term ([`value_bound`]). The sums
/// are f32 per 64-pixel tile (the canonical tree, 6 levels, plus the
/// rounding of `p` itself) and f64 across tiles, so their relative error
/// is below about 8u; 32 is 4 times that. Measured (2026-12-02): the
/// fuzz target's worst case needed `K` = 0.38 (Tversky, α + β > 1,
/// `squared_pred`); `tests/dice.rs` never needs the term.
pub const VALUE_COND_K: f64 = 32.0;

/// `K` of the gradient bound's cancellation term ([`grad_bound`]): a few
/// roundings of `p`, of the f32 coefficients and of `v = α·g + β·∂P/∂p`,
/// and the softmax dot product. Measured (2026-12-02): the fuzz target's
/// worst case needed `K` = 1.2; `tests/dice.rs` never needs the term.
pub const GRAD_CANCEL_K: f64 = 16.0;

/// The value bound (README "Accuracy"): `2⁻²¹·(1 + |v|) + K·u·cond`, with
/// `cond` the conditioning of `v`: a term's [`Output::term_cond`], or
/// their sum (`Sum`) or mean (`Mean`) for a reduced value.
pub fn value_bound(v: f64, cond: f64) -> f64 {
    2f64.powi(-21) * (1.0 + v.abs()) + VALUE_COND_K * U * cond
}

/// The gradient bound of one element: `2⁻¹⁸·max_j |g_j| + K·u·cancel`,
/// `cancel` being the element's [`Output::grad_cancel`] times the
/// gradient's scale (in absolute value). A tiny absolute slack for the
/// f32 range is the caller's.
pub fn grad_bound(gmax: f64, cancel: f64) -> f64 {
    2f64.powi(-18) * gmax + GRAD_CANCEL_K * U * cancel
}

/// The class weights `ω` in effect: all 1 without weights. (MONAI applies
/// them only `if num_of_classes != 1`; simdloss applies them also when one
/// class is kept, a documented difference, and so does this reference.)
fn class_weights(opts: &Options, kept: usize) -> Vec<f64> {
    match &opts.weight {
        None => vec![1.0; kept],
        Some(w) => {
            assert!(
                opts.ratio != Ratio::Generalized,
                "GeneralizedDice takes no class weights"
            );
            assert_eq!(w.len(), kept, "weight: one per kept class");
            assert!(w.iter().all(|&v| v >= 0.0), "weights must be ≥ 0");
            w.clone()
        }
    }
}

/// `∂value/∂x` from `v = ∂value/∂p`, through the activation.
///
/// # Panics
/// On lengths that disagree with the shape.
pub fn backprop(
    x: &[f64],
    p: &[f64],
    v: &[f64],
    shape: (usize, usize, usize),
    activation: Activation,
) -> Vec<f64> {
    let (n, c, s) = shape;
    assert_eq!(x.len(), n * c * s, "logits");
    assert_eq!(p.len(), x.len(), "probabilities");
    assert_eq!(v.len(), x.len(), "upstream gradient");
    match activation {
        Activation::None => v.to_vec(),
        Activation::Softmax if c == 1 => v.to_vec(),
        Activation::Sigmoid => x
            .iter()
            .zip(v)
            .map(|(&xv, &vv)| vv * sigmoid(xv) * sigmoid(-xv))
            .collect(),
        Activation::Softmax => {
            let mut grad = vec![0.0; x.len()];
            for ni in 0..n {
                for si in 0..s {
                    let at = |k: usize| (ni * c + k) * s + si;
                    let dot: f64 = (0..c).map(|k| p[at(k)] * v[at(k)]).sum();
                    for k in 0..c {
                        grad[at(k)] = p[at(k)] * (v[at(k)] - dot);
                    }
                }
            }
            grad
        }
    }
}

/// [`backprop`] in absolute value (for [`Output::grad_cancel`]): `v_abs`
/// (≥ 0) through the activation with every product and sum taken in
/// absolute value, so no cancellation: softmax gives
/// `p_c·(v_abs_c + Σ_k p_k v_abs_k)`.
fn backprop_abs(
    x: &[f64],
    p: &[f64],
    v_abs: &[f64],
    shape: (usize, usize, usize),
    activation: Activation,
) -> Vec<f64> {
    let (n, c, s) = shape;
    match activation {
        Activation::None => v_abs.to_vec(),
        Activation::Softmax if c == 1 => v_abs.to_vec(),
        Activation::Sigmoid => x
            .iter()
            .zip(v_abs)
            .map(|(&xv, &vv)| vv * sigmoid(xv) * sigmoid(-xv))
            .collect(),
        Activation::Softmax => {
            let mut out = vec![0.0; x.len()];
            for ni in 0..n {
                for si in 0..s {
                    let at = |k: usize| (ni * c + k) * s + si;
                    let dot: f64 = (0..c).map(|k| p[at(k)] * v_abs[at(k)]).sum();
                    for k in 0..c {
                        out[at(k)] = p[at(k)] * (v_abs[at(k)] + dot);
                    }
                }
            }
            out
        }
    }
}

/// The Dice-family loss of `x` (`[N, C, S]`, `x[(n·C + c)·S + s]`) against
/// `target`, with its gradient, terms and sums (see the module doc).
///
/// # Panics
/// On an empty shape, lengths that disagree with it, a bad label, or
/// weights that do not fit (`Generalized`, wrong length, negative).
pub fn dice(x: &[f64], n: usize, c: usize, s: usize, target: Target<'_>, opts: &Options) -> Output {
    assert!(n > 0 && c > 0 && s > 0, "empty shape [{n}, {c}, {s}]");
    let p = probabilities(x, n, c, s, opts.activation);
    let (g, counts) = ground_truth(target, n, c, s);
    let first = usize::from(!opts.include_background && c > 1);
    let kept = c - first;
    let rows = if opts.batch { 1 } else { n };
    let row_of = |ni: usize| if opts.batch { 0 } else { ni };
    let sq = opts.squared_pred;

    // Pass 1: the sums.
    let mut sums = vec![Sums::default(); rows * kept];
    for ni in 0..n {
        for k in 0..kept {
            let acc = &mut sums[row_of(ni) * kept + k];
            let base = (ni * c + first + k) * s;
            for si in (0..s).filter(|&si| counts[ni * s + si]) {
                let (pv, gv) = (p[base + si], g[base + si]);
                acc.intersection += pv * gv;
                acc.pred += if sq { pv * pv } else { pv };
                acc.ground += if sq { gv * gv } else { gv };
                acc.ground_mass += gv;
            }
        }
    }

    // The terms, and ∂value/∂I, ∂value/∂P per sum.
    let (a, b) = (opts.smooth_nr, opts.smooth_dr);
    let mut d_i = vec![0.0; rows * kept];
    let mut d_p = vec![0.0; rows * kept];
    let mut d_i_abs = vec![0.0; rows * kept];
    let mut d_p_abs = vec![0.0; rows * kept];
    let mut terms = Vec::new();
    let mut term_cond = Vec::new();
    let mut generalized_weights = Vec::new();
    let omega = class_weights(opts, kept);
    if opts.ratio == Ratio::Generalized {
        #[allow(clippy::cast_precision_loss)] // a count of terms
        let r = if opts.mean { 1.0 / rows as f64 } else { 1.0 };
        for row in 0..rows {
            let entries = &sums[row * kept..(row + 1) * kept];
            let mut w: Vec<f64> = entries
                .iter()
                .map(|e| 1.0 / (e.ground_mass * e.ground_mass))
                .collect();
            // MONAI: w[infs] = 0, then the row's max (0 if all were inf).
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
            let nr = 2.0
                * entries
                    .iter()
                    .zip(&w)
                    .map(|(e, &wc)| wc * e.intersection)
                    .sum::<f64>()
                + a;
            let d = entries
                .iter()
                .zip(&w)
                .map(|(e, &wc)| wc * (e.pred + e.ground))
                .sum::<f64>()
                + b;
            let nr_abs = 2.0
                * entries
                    .iter()
                    .zip(&w)
                    .map(|(e, &wc)| (wc * e.intersection).abs())
                    .sum::<f64>()
                + a.abs();
            let d_abs = entries
                .iter()
                .zip(&w)
                .map(|(e, &wc)| wc.abs() * (e.pred.abs() + e.ground.abs()))
                .sum::<f64>()
                + b.abs();
            terms.push(1.0 - nr / d);
            let (cond, kappa) = conditioning(nr, nr_abs, d, d_abs);
            term_cond.push(cond);
            for (k, &wc) in w.iter().enumerate() {
                d_i[row * kept + k] = r * (-2.0 * wc / d);
                d_p[row * kept + k] = r * (wc * nr / (d * d));
                d_i_abs[row * kept + k] = kappa * (r * 2.0 * wc / d).abs();
                d_p_abs[row * kept + k] = kappa * (r * wc * nr / (d * d)).abs();
            }
            generalized_weights.extend_from_slice(&w);
        }
    } else {
        #[allow(clippy::cast_precision_loss)] // a count of terms
        let r = if opts.mean {
            1.0 / (rows * kept) as f64
        } else {
            1.0
        };
        for (e, sum) in sums.iter().enumerate() {
            let wk = omega[e % kept];
            let (f, df_di, df_dp) = ratio_term(opts.ratio, *sum, a, b);
            terms.push(wk * f);
            let (cond, di_abs, dp_abs) = ratio_cond(opts.ratio, *sum, a, b);
            term_cond.push(wk.abs() * cond);
            d_i[e] = r * wk * df_di;
            d_p[e] = r * wk * df_dp;
            d_i_abs[e] = (r * wk).abs() * di_abs;
            d_p_abs[e] = (r * wk).abs() * dp_abs;
        }
    }
    let total: f64 = terms.iter().sum();
    #[allow(clippy::cast_precision_loss)] // a count of terms
    let value = if opts.mean {
        total / terms.len() as f64
    } else {
        total
    };

    // Pass 2: ∂value/∂p, then through the activation.
    let mut grad_p = vec![0.0; n * c * s];
    let mut grad_p_abs = vec![0.0; n * c * s];
    for ni in 0..n {
        for k in 0..kept {
            let e = row_of(ni) * kept + k;
            let base = (ni * c + first + k) * s;
            for si in (0..s).filter(|&si| counts[ni * s + si]) {
                let i = base + si;
                let dp_dpred = if sq { 2.0 * p[i] } else { 1.0 };
                grad_p[i] = d_i[e] * g[i] + d_p[e] * dp_dpred;
                grad_p_abs[i] = d_i_abs[e] * g[i].abs() + d_p_abs[e] * dp_dpred.abs();
            }
        }
    }
    let grad = backprop(x, &p, &grad_p, (n, c, s), opts.activation);
    let grad_cancel = backprop_abs(x, &p, &grad_p_abs, (n, c, s), opts.activation);
    Output {
        value,
        grad,
        grad_p,
        terms,
        sums,
        generalized_weights,
        term_cond,
        grad_cancel,
        first_class: first,
        kept,
    }
}

/// PyTorch `cross_entropy` over `[N, C, S]` logits, with class weights
/// (`C`), label smoothing ε and `ignore_index` (index targets): value and
/// `∂value/∂x`, from [`softmax::sample`] per pixel. `mean`: divided by
/// `Σ w_y` over the non-ignored pixels (index targets) or by `N·S`
/// (probability targets); a zero denominator (all ignored) gives 0 and a
/// zero gradient.
///
/// # Panics
/// For `C < 2`, lengths that disagree with the shape, or a bad label.
pub fn cross_entropy(
    x: &[f64],
    shape: (usize, usize, usize),
    target: Target<'_>,
    weight: Option<&[f64]>,
    label_smoothing: f64,
    mean: bool,
) -> (f64, Vec<f64>) {
    let (n, c, s) = shape;
    assert!(c >= 2, "softmax cross-entropy needs C ≥ 2");
    assert_eq!(x.len(), n * c * s, "logits");
    if let Some(w) = weight {
        assert_eq!(w.len(), c, "CE weight: one per class");
    }
    let loss = softmax::Loss::CrossEntropy {
        smoothing: label_smoothing,
    };
    let mut grad = vec![0.0; x.len()];
    let mut total = 0.0;
    let mut denominator = 0.0;
    for ni in 0..n {
        for si in 0..s {
            let at = |k: usize| (ni * c + k) * s + si;
            let logits: Vec<f64> = (0..c).map(|k| x[at(k)]).collect();
            let probabilities: Vec<f64>;
            let sample_target = match target {
                Target::Index {
                    labels,
                    ignore_index,
                } => {
                    assert_eq!(labels.len(), n * s, "labels");
                    let label = labels[ni * s + si];
                    if Some(label) == ignore_index {
                        softmax::SampleTarget::Index(None)
                    } else {
                        let k = usize::try_from(label)
                            .ok()
                            .filter(|&k| k < c)
                            .unwrap_or_else(|| panic!("label {label} is not in 0..{c}"));
                        denominator += weight.map_or(1.0, |w| w[k]);
                        softmax::SampleTarget::Index(Some(k))
                    }
                }
                Target::Probabilities(t) => {
                    assert_eq!(t.len(), x.len(), "probability targets");
                    probabilities = (0..c).map(|k| t[at(k)]).collect();
                    denominator += 1.0;
                    softmax::SampleTarget::Probabilities(&probabilities)
                }
            };
            let sample = softmax::sample(loss, &logits, sample_target, weight);
            total += sample.value;
            for k in 0..c {
                grad[at(k)] = sample.grad[k];
            }
        }
    }
    let factor = if !mean {
        1.0
    } else if denominator == 0.0 {
        0.0
    } else {
        1.0 / denominator
    };
    for v in &mut grad {
        *v *= factor;
    }
    (total * factor, grad)
}

/// The cross-entropy side of MONAI's `DiceCELoss`.
#[derive(Clone, Debug, PartialEq)]
pub struct DiceCe {
    /// λ_dice ≥ 0.
    pub lambda_dice: f64,
    /// λ_ce ≥ 0.
    pub lambda_ce: f64,
    /// The CE's label smoothing ε ∈ [0, 1].
    pub label_smoothing: f64,
    /// MONAI's one `weight`, of length `C`: the CE's class weights, and
    /// the Dice's (`weight[1..]` without the background).
    pub weight: Option<Vec<f64>>,
}

/// The reference of a Dice + CE call.
#[derive(Clone, Debug)]
pub struct DiceCeOutput {
    /// `λ_dice·dice.value + λ_ce·ce_value`.
    pub value: f64,
    /// `λ_dice·dice.grad + λ_ce·ce_grad`.
    pub grad: Vec<f64>,
    /// The Dice part (unscaled by λ).
    pub dice: Output,
    /// The CE value (unscaled by λ).
    pub ce_value: f64,
    /// The CE gradient (unscaled by λ).
    pub ce_grad: Vec<f64>,
}

/// MONAI `DiceCELoss`: `λ_dice·dice(x) + λ_ce·CE(x)`, the Dice part with
/// `opts` (its activation, ratio, background, batch, smooth terms), the CE
/// by [`cross_entropy`] on the same logits with `dce.weight`, `dce`'s label
/// smoothing, `opts.mean` for both (MONAI's one `reduction`), and the same
/// `ignore_index` (an extension: MONAI's `DiceCELoss` has none).
///
/// # Panics
/// For `C < 2` (MONAI uses BCE with logits there), `opts.weight` set (the
/// weight goes in `dce.weight`), or anything [`dice`] or
/// [`cross_entropy`] panics on.
pub fn dice_ce(
    x: &[f64],
    n: usize,
    c: usize,
    s: usize,
    target: Target<'_>,
    opts: &Options,
    dce: &DiceCe,
) -> DiceCeOutput {
    assert!(
        c >= 2,
        "Dice + CE needs C ≥ 2 (MONAI switches to BCE at C = 1)"
    );
    assert!(
        opts.weight.is_none(),
        "Dice + CE takes its one weight vector in DiceCe::weight"
    );
    let mut dice_opts = opts.clone();
    dice_opts.weight = dce.weight.as_ref().map(|w| {
        assert_eq!(w.len(), c, "Dice + CE weight: one per class");
        if opts.include_background {
            w.clone()
        } else {
            w[1..].to_vec()
        }
    });
    let dice = dice(x, n, c, s, target, &dice_opts);
    let (ce_value, ce_grad) = cross_entropy(
        x,
        (n, c, s),
        target,
        dce.weight.as_deref(),
        dce.label_smoothing,
        opts.mean,
    );
    let value = dce.lambda_dice * dice.value + dce.lambda_ce * ce_value;
    let grad = dice
        .grad
        .iter()
        .zip(&ce_grad)
        .map(|(&gd, &gc)| dce.lambda_dice * gd + dce.lambda_ce * gc)
        .collect();
    DiceCeOutput {
        value,
        grad,
        dice,
        ce_value,
        ce_grad,
    }
}
