//! The binary-losses target: BCE on probabilities, BCE with logits (weight,
//! scalar or per-class `pos_weight`) and sigmoid focal (α, γ, weight) on
//! one decoded case each run.
//!
//! Byte layout after the [`Shape`] header: a flags byte (bit 0: BCE
//! weighted, bit 1: logits weighted, bit 2: logits per-class `pos_weight`,
//! bit 3: focal weighted), the weight-length selector (see
//! [`crate::input::mismatch`]), the scalar `pos_weight` (float), the class
//! count byte (`% 9`, 0 gives an empty per-class `pos_weight`) and that
//! many floats, α and γ (floats, any bits), a reductions byte, the two
//! gradient scales, then streams: logits (`n`), probabilities (`n`),
//! target (`max(n, target_len)`), initial gradient (`max(n, out_len)`) and
//! weight (its selected length).
//!
//! The f64 references are `tests/reference/binary.rs`, the one copy
//! `tests/binary.rs` uses too, and the bounds are that suite's (the same
//! formulas evaluated on the same f32 inputs), applied where that suite
//! establishes them: targets 0 or in `[2^-20, 1]`, weights 0 or within
//! `2^±8`, `pos_weight` and α 0 or within `2^±20`, focal γ <= 8 and
//! |x| <= 100.

use simdloss::{
    BinaryCrossEntropy, BinaryCrossEntropyWithLogits, LossError, Reduction, SigmoidFocal,
};

use crate::input::{Input, Shape, mismatch};
use crate::pointwise::{Case, Expect, LIMIT, Reference, check_loss};

/// Absolute slack for results the f32 kernels flush to zero (as in
/// `tests/binary.rs`): the exact value is below 2^-126, times the weights
/// involved (see [`flush`]).
const FLUSH: f64 = 1e-37;

/// [`FLUSH`] times the weights that multiply a flushed intermediate.
fn flush(weights: &[f64]) -> f64 {
    weights.iter().fold(FLUSH, |f, w| f * w.abs().max(1.0))
}

/// The f64 references, shared with `tests/binary.rs`: one copy, in
/// `tests/reference/binary.rs`.
#[path = "../../tests/reference/binary.rs"]
mod reference;

use reference::{bce_logits_ref, bce_ref, focal_ref, ulp_at};

/// Targets and parameters in the domain `tests/binary.rs` establishes the
/// bounds for: `y` 0 or in `[2^-20, 1]`, a coefficient (`pos_weight`) 0
/// or within `2^±20`. Outside it, products of tiny coefficients underflow
/// in f32 before they meet a huge `softplus`: y = 7.1e-38, pos_weight =
/// 1.2e-12, x = -3.4e38 gives 0 for a reference of 2.95e-11.
fn in_domain(y: f64, coefficient: f64) -> bool {
    let moderate = |v: f64| v == 0.0 || (v.abs() >= 2f64.powi(-20) && v.abs() <= 2f64.powi(20));
    (0.0..=1.0).contains(&y) && moderate(y) && moderate(coefficient)
}

/// A weight in the domain the bounds are established for (1 if none).
fn weight_at(weight: Option<&[f32]>, i: usize) -> Option<f64> {
    let w = weight.map_or(1.0, |w| f64::from(w[i]));
    let ok = w == 0.0 || (w.abs() >= 2f64.powi(-8) && w.abs() <= 2f64.powi(8));
    ok.then_some(w)
}

fn nan_weight(weight: Option<&[f32]>, i: usize) -> bool {
    weight.is_some_and(|w| w[i].is_nan())
}

fn expect(value: f64, deriv: f64, value_tol: f64, deriv_tol: f64) -> Option<Expect> {
    (value.abs() <= LIMIT && deriv.abs() <= LIMIT && value.is_finite() && deriv.is_finite())
        .then_some(Expect {
            value,
            deriv,
            value_tol,
            deriv_tol,
        })
}

/// BCE on probabilities: 4 ulp of the value and of the derivative.
pub struct BceRef<'a> {
    /// The per-element weight, if any.
    pub weight: Option<&'a [f32]>,
}

impl Reference for BceRef<'_> {
    fn eval(&self, i: usize, p: f64, y: f64) -> Option<Expect> {
        if !in_domain(y, 1.0) || !(0.0..=1.0).contains(&p) {
            return None;
        }
        let w = weight_at(self.weight, i)?;
        let (value, deriv) = bce_ref(p, y, w);
        expect(
            value,
            deriv,
            4.0 * ulp_at(value) + flush(&[w]),
            4.0 * ulp_at(deriv) + flush(&[w]),
        )
    }
    fn nan_in(&self, i: usize, x: f32, y: f32) -> bool {
        x.is_nan() || y.is_nan() || nan_weight(self.weight, i)
    }
}

/// BCE with logits: 5 ulp of the value, 4 ulp of the larger derivative
/// term.
pub struct LogitsRef<'a> {
    /// The per-element weight, if any.
    pub weight: Option<&'a [f32]>,
    /// `pos_weight`, one per class (the last axis), or one for all.
    pub pos_weight: &'a [f32],
}

impl Reference for LogitsRef<'_> {
    fn eval(&self, i: usize, x: f64, y: f64) -> Option<Expect> {
        let pw = f64::from(self.pos_weight[i % self.pos_weight.len()]);
        // softplus(±x) and the unweighted terms are f32 intermediates: a
        // weight of 0 does not rescue an overflowed one (0·inf = NaN).
        if !in_domain(y, pw) || !x.is_finite() || x.abs() > LIMIT / 2f64.powi(20) {
            return None;
        }
        let w = weight_at(self.weight, i)?;
        let (value, deriv, g_scale) = bce_logits_ref(x, y, w, pw);
        expect(
            value,
            deriv,
            5.0 * ulp_at(value) + flush(&[w, pw]),
            4.0 * ulp_at(g_scale) + flush(&[w, pw]),
        )
    }
    fn nan_in(&self, i: usize, x: f32, y: f32) -> bool {
        x.is_nan() || y.is_nan() || nan_weight(self.weight, i)
    }
}

/// Sigmoid focal: `(4 + 2γ + 2|γ ln q|)` ulp (2 more for γ = 2) of the value and of the
/// larger derivative term (hard targets), of `|value| + max term` (soft
/// targets); one more ulp for a weight.
pub struct FocalRef<'a> {
    /// The per-element weight, if any.
    pub weight: Option<&'a [f32]>,
    /// α (negative: no α).
    pub alpha: f64,
    /// γ >= 0.
    pub gamma: f64,
}

impl Reference for FocalRef<'_> {
    fn eval(&self, i: usize, x: f64, y: f64) -> Option<Expect> {
        // γ <= 8 and |x| <= 100: the range where tests/binary.rs
        // establishes the bound (γ up to 5, logits in ±100 in its
        // proptests). Beyond it q^γ underflows f32 while q^γ·ℓ does not:
        // γ = 207, x = -16543, y = 0.64 gives 0 for a reference of
        // 1.5e-36; γ = 8, x = -1e30, y = 1.27e-6 gives 0 for 1.1e-29.
        if !in_domain(y, self.alpha) || x.abs() > 100.0 || self.gamma > 8.0 {
            return None;
        }
        let w = weight_at(self.weight, i)?;
        let (alpha, gamma) = (self.alpha, self.gamma);
        let (value, deriv, g_scale, g_ln_q) = focal_ref(x, y, alpha, gamma, w);
        let weighted = if self.weight.is_some() { 1.0 } else { 0.0 };
        // γ = 2 runs the multiplication path (q·q): 2 ulp more.
        let two = if gamma == 2.0 { 2.0 } else { 0.0 };
        let k = 4.0 + 2.0 * gamma + 2.0 * g_ln_q.abs() + weighted + two;
        let hard = y == 0.0 || y == 1.0;
        let (v_scale, d_scale) = if hard {
            (value.abs(), g_scale)
        } else {
            let s = value.abs() + g_scale;
            (s, s)
        };
        expect(
            value,
            deriv,
            k * ulp_at(v_scale) + flush(&[w, 1.0 + gamma]),
            k * ulp_at(d_scale) + flush(&[w, 1.0 + gamma]),
        )
    }
    fn nan_in(&self, i: usize, x: f32, y: f32) -> bool {
        x.is_nan() || y.is_nan() || nan_weight(self.weight, i)
    }
}

fn weight_error(weight: Option<&[f32]>, n: usize) -> Option<LossError> {
    weight.and_then(|w| {
        (w.len() != n).then_some(LossError::LengthMismatch {
            argument: "weight",
            expected: n,
            actual: w.len(),
        })
    })
}

#[allow(clippy::manual_range_contains)]
fn range_error(p: &[f32]) -> Option<LossError> {
    p.iter()
        .position(|&v| v < 0.0 || v > 1.0)
        .map(|index| LossError::OutOfRange {
            argument: "input",
            index,
            value: p[index],
            requirement: "",
        })
}

fn param_error(argument: &'static str, value: f32) -> LossError {
    LossError::InvalidParameter {
        argument,
        value,
        requirement: "",
    }
}

fn with_input(case: &Case, input: &[f32]) -> Case {
    let mut v = input.to_vec();
    v.resize(case.input.len().max(input.len()), 0.0);
    Case {
        shape: case.shape,
        input: v,
        target: case.target.clone(),
        grad0: case.grad0.clone(),
        overwrite: case.overwrite,
        accumulate: case.accumulate,
    }
}

/// Decodes one case from `data` and checks the three binary losses on it.
pub fn fuzz_one(data: &[u8]) {
    let mut inp = Input::new(data);
    let shape = Shape::read(&mut inp);
    let n = shape.n;
    let flags = inp.u8();
    let weight_len = mismatch(n, inp.u8());
    let pw_scalar = inp.float();
    let classes = usize::from(inp.u8() % 9);
    let pw_class: Vec<f32> = (0..classes).map(|_| inp.float()).collect();
    let alpha = inp.float();
    let gamma = inp.float();
    let reds = inp.u8();
    let red = |bit: u8| {
        if reds & bit != 0 {
            Reduction::Sum
        } else {
            Reduction::Mean
        }
    };
    let overwrite = (red(1), inp.float());
    let accumulate = (red(2), inp.float());
    let logits = inp.stream(n, None);
    let probs = inp.stream(n, None);
    let target = inp.stream(n.max(shape.target_len), None);
    let grad0 = inp.stream(n.max(shape.out_len), None);
    let weight = inp.stream(weight_len, None);
    let case = Case {
        shape,
        input: logits,
        target,
        grad0,
        overwrite,
        accumulate,
    };
    let w = |bit: u8| (flags & bit != 0).then_some(&weight[..]);

    // BCE on probabilities.
    let bce_case = with_input(&case, &probs);
    let bw = w(1);
    let bce = match bw {
        Some(wt) => BinaryCrossEntropy::new().with_weight(wt),
        None => BinaryCrossEntropy::new(),
    };
    let err = weight_error(bw, n).or_else(|| range_error(&probs));
    let name = format!("bce(weighted {})", bw.is_some());
    check_loss(&name, bce, &BceRef { weight: bw }, &bce_case, err);

    // BCE with logits, scalar or per-class pos_weight.
    let lw = w(2);
    let mut logits_loss = BinaryCrossEntropyWithLogits::new();
    if let Some(wt) = lw {
        logits_loss = logits_loss.with_weight(wt);
    }
    let per_class = flags & 4 != 0;
    let built = if per_class {
        logits_loss.with_pos_weight_per_class(&pw_class)
    } else {
        logits_loss.with_pos_weight(pw_scalar)
    };
    let pw_values: &[f32] = if per_class {
        &pw_class
    } else {
        core::slice::from_ref(&pw_scalar)
    };
    let valid_pw = |v: f32| v.is_finite() && v >= 0.0;
    let want_build_err = if per_class && pw_class.is_empty() {
        Some(LossError::Empty {
            argument: "pos_weight",
        })
    } else {
        pw_values
            .iter()
            .find(|&&v| !valid_pw(v))
            .map(|&v| param_error("pos_weight", v))
    };
    match (built, want_build_err) {
        (Ok(l), None) => {
            let err = weight_error(lw, n).or_else(|| {
                (per_class && !n.is_multiple_of(pw_class.len())).then_some(
                    LossError::NotBroadcastable {
                        argument: "pos_weight",
                        len: pw_class.len(),
                        input_len: n,
                    },
                )
            });
            let reference = LogitsRef {
                weight: lw,
                pos_weight: pw_values,
            };
            let name = format!(
                "bce_with_logits(pos_weight {pw_values:?}, weighted {})",
                lw.is_some()
            );
            check_loss(&name, l, &reference, &case, err);
        }
        (Err(got), Some(want)) => assert!(
            crate::pointwise::same_error(&got, &want),
            "pos_weight: got {got:?}, want {want:?}"
        ),
        (got, want) => panic!("pos_weight {pw_values:?}: got {got:?}, want {want:?}"),
    }

    // Sigmoid focal.
    let want_build_err = if !(alpha.is_finite() && alpha <= 1.0) {
        Some(param_error("alpha", alpha))
    } else if !(gamma.is_finite() && gamma >= 0.0) {
        Some(param_error("gamma", gamma))
    } else {
        None
    };
    match (SigmoidFocal::new(alpha, gamma), want_build_err) {
        (Ok(f), None) => {
            assert_eq!(
                (f.alpha().to_bits(), f.gamma().to_bits()),
                (alpha.to_bits(), gamma.to_bits())
            );
            let fw = w(8);
            let f = match fw {
                Some(wt) => f.with_weight(wt),
                None => f,
            };
            let reference = FocalRef {
                weight: fw,
                alpha: f64::from(alpha),
                gamma: f64::from(gamma),
            };
            let name = format!(
                "sigmoid_focal(α {alpha:e}, γ {gamma:e}, weighted {})",
                fw.is_some()
            );
            check_loss(&name, f, &reference, &case, weight_error(fw, n));
        }
        (Err(got), Some(want)) => assert!(
            crate::pointwise::same_error(&got, &want),
            "focal(α {alpha:e}, γ {gamma:e}): got {got:?}, want {want:?}"
        ),
        (got, want) => panic!("focal(α {alpha:e}, γ {gamma:e}): got {got:?}, want {want:?}"),
    }
}
