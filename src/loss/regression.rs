//! Regression losses: MSE, L1, Huber and Smooth L1 (PyTorch semantics).
//!
//! With `r = input − target`, per element:
//!
//! | loss | value | ∂/∂input |
//! |---|---|---|
//! | [`Mse`] | `r²` | `2r` |
//! | [`L1`] | `\|r\|` | `sign(r)`, `sign(0) = 0` |
//! | [`Huber`] (δ > 0) | `½r²` if `\|r\| ≤ δ`, else `δ(\|r\| − ½δ)` | `clamp(r, −δ, δ)` |
//! | [`SmoothL1`] (β ≥ 0) | `½r²/β` if `\|r\| < β`, else `\|r\| − ½β` | `clamp(r/β, −1, 1)` |
//!
//! `SmoothL1` with β = 0 is exactly [`L1`] (same kernel, same bits).
//! All four use the verbs of [`PointwiseLoss`].

use super::{PointwiseLoss, run_kernel, sealed::Sealed};
use crate::dispatch::Isa;
use crate::error::LossError;
use crate::kernel::pointwise::Pass;
use crate::kernel::regression::{
    HuberKernel, L1Kernel, MseHalfGradKernel, MseKernel, SmoothL1Kernel,
};

/// Mean squared error: `r²` per element, derivative `2r`
/// (`torch.nn.MSELoss`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Mse {
    isa: Option<Isa>,
}

impl Mse {
    /// The loss (no parameters).
    #[must_use]
    pub const fn new() -> Self {
        Self { isa: None }
    }
}

/// Mean absolute error: `|r|` per element, derivative `sign(r)` with
/// `sign(0) = 0` (`torch.nn.L1Loss`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct L1 {
    isa: Option<Isa>,
}

impl L1 {
    /// The loss (no parameters).
    #[must_use]
    pub const fn new() -> Self {
        Self { isa: None }
    }
}

/// Huber loss (`torch.nn.HuberLoss`): `½r²` if `|r| ≤ δ`, else
/// `δ(|r| − ½δ)`; derivative `clamp(r, −δ, δ)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Huber {
    delta: f32,
    isa: Option<Isa>,
}

impl Huber {
    /// Huber loss with threshold `delta` (PyTorch's default is 1.0).
    ///
    /// # Errors
    /// [`LossError::InvalidParameter`] naming `delta` unless it is finite
    /// and > 0.
    pub fn new(delta: f32) -> Result<Self, LossError> {
        if delta.is_finite() && delta > 0.0 {
            Ok(Self { delta, isa: None })
        } else {
            Err(LossError::InvalidParameter {
                argument: "delta",
                value: delta,
                requirement: "finite and > 0",
            })
        }
    }

    /// The threshold δ.
    #[must_use]
    pub const fn delta(&self) -> f32 {
        self.delta
    }
}

/// Smooth L1 loss (`torch.nn.SmoothL1Loss`): `½r²/β` if `|r| < β`, else
/// `|r| − ½β`; derivative `clamp(r/β, −1, 1)`. β = 0 is exactly [`L1`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SmoothL1 {
    beta: f32,
    isa: Option<Isa>,
}

impl SmoothL1 {
    /// Smooth L1 loss with threshold `beta` (PyTorch's default is 1.0).
    ///
    /// # Errors
    /// [`LossError::InvalidParameter`] naming `beta` unless it is finite
    /// and ≥ 0.
    pub fn new(beta: f32) -> Result<Self, LossError> {
        if beta.is_finite() && beta >= 0.0 {
            Ok(Self { beta, isa: None })
        } else {
            Err(LossError::InvalidParameter {
                argument: "beta",
                value: beta,
                requirement: "finite and >= 0",
            })
        }
    }

    /// The threshold β.
    #[must_use]
    pub const fn beta(&self) -> f32 {
        self.beta
    }
}

impl Sealed for Mse {
    fn run(&self, isa: Isa, pass: Pass<'_>) -> Option<f64> {
        // 2·scale is exact unless it overflows (|scale| > MAX/2): then keep
        // the (r + r)·scale kernel.
        let doubled = pass.scale * 2.0;
        if doubled.is_finite() {
            run_kernel(
                isa,
                MseHalfGradKernel,
                Pass {
                    scale: doubled,
                    ..pass
                },
            )
        } else {
            run_kernel(isa, MseKernel, pass)
        }
    }
    sealed_isa!();
}

impl Sealed for L1 {
    fn run(&self, isa: Isa, pass: Pass<'_>) -> Option<f64> {
        run_kernel(isa, L1Kernel, pass)
    }
    sealed_isa!();
}

impl Sealed for Huber {
    fn run(&self, isa: Isa, pass: Pass<'_>) -> Option<f64> {
        run_kernel(isa, HuberKernel { delta: self.delta }, pass)
    }
    sealed_isa!();
}

impl Sealed for SmoothL1 {
    fn run(&self, isa: Isa, pass: Pass<'_>) -> Option<f64> {
        // -0.0 == 0.0 as well: both are exactly L1.
        if self.beta == 0.0 {
            run_kernel(isa, L1Kernel, pass)
        } else {
            let beta = self.beta;
            if SmoothL1Kernel::reciprocal_is_exact(beta) {
                run_kernel(isa, SmoothL1Kernel::<true> { beta }, pass)
            } else {
                run_kernel(isa, SmoothL1Kernel::<false> { beta }, pass)
            }
        }
    }
    sealed_isa!();
}

impl PointwiseLoss for Mse {}
impl PointwiseLoss for L1 {}
impl PointwiseLoss for Huber {}
impl PointwiseLoss for SmoothL1 {}
