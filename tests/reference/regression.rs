//! The single f64 reference of the regression losses (MSE, L1, Huber,
//! Smooth L1), shared by `tests/common/mod.rs` and the fuzz crate
//! (`fuzz/src/regression.rs`), each of which includes this file with
//! `#[path = ...] mod`.
//!
//! Keep it dependency-free: core/std f64 math only, no `simdloss` types,
//! no crates, so both users can include it as it is.

/// The regression losses in f64, as functions of the residual `r = x − y`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RefLoss {
    /// `r²`, `2r`.
    Mse,
    /// `|r|`, `sign(r)` with `sign(0) = 0`.
    L1,
    /// δ > 0: `½r²` if `|r| ≤ δ` else `δ(|r| − ½δ)`; `clamp(r, −δ, δ)`.
    Huber(f64),
    /// β ≥ 0: `½r²/β` if `|r| < β` else `|r| − ½β`; `clamp(r/β, −1, 1)`;
    /// β = 0 is exactly L1.
    SmoothL1(f64),
}

impl RefLoss {
    /// `(value, d value / d r)` of one element with residual `r`.
    /// NaN in, NaN out (both).
    pub fn elem(self, r: f64) -> (f64, f64) {
        if r.is_nan() {
            return (f64::NAN, f64::NAN);
        }
        let sign = if r > 0.0 {
            1.0
        } else if r < 0.0 {
            -1.0
        } else {
            0.0
        };
        let a = r.abs();
        match self {
            RefLoss::Mse => (r * r, 2.0 * r),
            RefLoss::L1 => (a, sign),
            RefLoss::Huber(d) => {
                let value = if a <= d {
                    0.5 * r * r
                } else {
                    d * (a - 0.5 * d)
                };
                (value, r.clamp(-d, d))
            }
            RefLoss::SmoothL1(0.0) => RefLoss::L1.elem(r), // matches -0.0 too
            RefLoss::SmoothL1(b) => {
                let value = if a < b { 0.5 * r * r / b } else { a - 0.5 * b };
                let deriv = if a < b { r / b } else { sign };
                (value, deriv)
            }
        }
    }
}
