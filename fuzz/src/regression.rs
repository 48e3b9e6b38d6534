//! The regression target: MSE, L1, Huber (δ) and Smooth L1 (β) on one
//! decoded case each run.
//!
//! Byte layout after the [`Shape`] header: δ and β (floats, any bits, so
//! invalid ones too), a reductions byte (bit 0: overwrite call uses `Sum`,
//! bit 1: accumulate call uses `Sum`), the two gradient scales (floats),
//! then three streams: input (`n`), target (`max(n, target_len)`, derived
//! from the input by stream tags 4/5) and the initial gradient
//! (`max(n, out_len)`).

use simdloss::{Huber, L1, LossError, Mse, Reduction, SmoothL1};

use crate::input::{Input, Shape};
use crate::pointwise::{Case, Expect, LIMIT, Reference, U, check_loss};

/// Per-element value error of the worst regression kernel, relative:
/// 4 roundings on the way to the value (Smooth L1's quadratic branch:
/// `r = x - y`, `q = r/β`, `½q·r`; Huber's linear branch: `r`,
/// `|r| - ½δ`, `δ·(…)`, where `|r| - ½δ >= |r|/2` doubles the effect of
/// `r`'s rounding) = 4u, checked at 5u. With the canonical sum's 10u the
/// reduced value is checked at 15u, inside the documented 2^-20 = 16u.
const VALUE_REL: f64 = 5.0 * U;
/// Per-element derivative error, relative: at most 2 roundings (`r`,
/// `r/β`), checked at 3u; the driver's scale, product and accumulate
/// roundings come on top (6u in all).
const DERIV_REL: f64 = 3.0 * U;

fn expect(value: f64, deriv: f64) -> Option<Expect> {
    (value.abs() <= LIMIT && deriv.abs() <= LIMIT).then_some(Expect {
        value,
        deriv,
        value_tol: VALUE_REL * value.abs(),
        deriv_tol: DERIV_REL * deriv.abs(),
    })
}

fn residual(x: f64, y: f64) -> Option<f64> {
    let r = x - y;
    // |r| <= LIMIT keeps the f32 residual, 2r and every branch's
    // intermediates far from overflow.
    (r.is_finite() && r.abs() <= LIMIT).then_some(r)
}

/// The f64 per-element reference, shared with `tests/common/mod.rs`: one
/// copy, in `tests/reference/regression.rs`.
#[path = "../../tests/reference/regression.rs"]
mod reference;

use reference::RefLoss;

/// One regression loss's f64 reference ([`RefLoss::elem`]) at the f64
/// residual, where [`residual`] keeps it far from overflow.
struct LossRef(RefLoss);
impl Reference for LossRef {
    fn eval(&self, _i: usize, x: f64, y: f64) -> Option<Expect> {
        let r = residual(x, y)?;
        let (value, deriv) = self.0.elem(r);
        expect(value, deriv)
    }
}

fn check_param<T>(
    res: Result<T, LossError>,
    argument: &str,
    value: f32,
    valid: bool,
    stored: impl Fn(&T) -> f32,
) -> Option<T> {
    match res {
        Ok(loss) => {
            assert!(
                valid,
                "{argument} = {value:e} ({:#010x}) accepted",
                value.to_bits()
            );
            assert_eq!(
                stored(&loss).to_bits(),
                value.to_bits(),
                "{argument} stored changed"
            );
            Some(loss)
        }
        Err(LossError::InvalidParameter {
            argument: a,
            value: v,
            ..
        }) => {
            assert!(!valid, "{argument} = {value:e} refused");
            assert_eq!(a, argument, "InvalidParameter names the wrong argument");
            assert_eq!(
                v.to_bits(),
                value.to_bits(),
                "InvalidParameter reports another value"
            );
            None
        }
        Err(e) => panic!("{argument} = {value:e}: unexpected error {e:?}"),
    }
}

/// Decodes one case from `data` and checks all four losses on it.
pub fn fuzz_one(data: &[u8]) {
    let mut inp = Input::new(data);
    let shape = Shape::read(&mut inp);
    let delta = inp.float();
    let beta = inp.float();
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
    let n = shape.n;
    let input = inp.stream(n, None);
    let target = inp.stream(n.max(shape.target_len), Some(&input));
    let grad0 = inp.stream(n.max(shape.out_len), None);
    let case = Case {
        shape,
        input,
        target,
        grad0,
        overwrite,
        accumulate,
    };

    check_loss("mse", Mse::new(), &LossRef(RefLoss::Mse), &case, None);
    check_loss("l1", L1::new(), &LossRef(RefLoss::L1), &case, None);
    let huber = check_param(
        Huber::new(delta),
        "delta",
        delta,
        delta.is_finite() && delta > 0.0,
        Huber::delta,
    );
    if let Some(h) = huber {
        check_loss(
            "huber",
            h,
            &LossRef(RefLoss::Huber(f64::from(delta))),
            &case,
            None,
        );
    }
    let smooth = check_param(
        SmoothL1::new(beta),
        "beta",
        beta,
        beta.is_finite() && beta >= 0.0,
        SmoothL1::beta,
    );
    if let Some(s) = smooth {
        check_loss(
            "smooth_l1",
            s,
            &LossRef(RefLoss::SmoothL1(f64::from(beta))),
            &case,
            None,
        );
    }
}
