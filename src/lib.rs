//! Fused loss-value + gradient kernels for training vision models, with
//! explicit SIMD chosen at run time. `no_std`, no allocation, no panics.
//!
//! ```
//! use simdloss::{Grad, Mse, PointwiseLoss, Reduction};
//!
//! let input = [0.5f32, 1.5, -2.0, 4.0];
//! let target = [0.0f32, 1.0, -2.0, 3.0];
//! let mut grad = [0.0f32; 4];
//! let loss = Mse::new().value_and_grad(&input, &target, Reduction::Mean, Grad::overwrite(&mut grad))?;
//! assert_eq!(loss, (0.25 + 0.25 + 0.0 + 1.0) / 4.0);
//! assert_eq!(grad, [0.25, 0.25, 0.0, 0.5]); // 2r / n
//! # Ok::<(), simdloss::LossError>(())
//! ```
//!
//! # Which path runs where
//!
//! [`Isa::best`] picks, once per process: AVX-512 or AVX2 (through `pulp`)
//! on x86-64, NEON on aarch64, the `wide` compile-time baseline elsewhere
//! (SSE2 x86-64 without AVX2, 32-bit ARM, wasm32, Cortex-M), and a scalar
//! path on every target. `with_isa` on any loss forces one. The
//! transcendental kernels run AVX2 / AVX-512 registers in pairs
//! ([`arch::pair::Pair`]: two dependency chains interleaved, same bits).
//!
//! # Same bits everywhere
//!
//! Every path computes the same operations per element (multiply, then add:
//! never a fused multiply-add) and sums in one canonical order (see
//! [`simd::accumulate`]), so value and gradient are bit-identical on every
//! ISA and target, for any length and alignment. NaN payloads are the one
//! exception: NaN in gives NaN out, but which NaN is unspecified.
//!
//! # Threads
//!
//! With the `rayon` feature (which implies `std`), long calls of every
//! loss (Dice with `batch` excepted) split over rayon's current pool.
//! Totals are exact sums rounded once, and pieces start where one pass
//! starts a summand, so the bits do not depend on the thread count either
//! (README, "Threads").
//!
//! # Layers
//!
//! [`loss`] (public types) → `kernel` (drivers, written once) →
//! [`simd`] (the [`simd::Lanes`] trait, the canonical sum) → [`arch`]
//! (backends) ← [`dispatch`] (detection). See ARCHITECTURE.md.

#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

// Unit tests (`cfg(test)`) may allocate, in either build.
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod arch;
pub mod dispatch;
pub mod error;
mod kernel;
pub mod loss;
pub mod simd;

/// The vector-math functions over slices: `out[i] = f(input[i])` on a
/// chosen [`Isa`], the same code (and bits) the loss kernels inline.
pub mod elementwise {
    pub use crate::kernel::map::{Function, map};
}

pub use dispatch::Isa;
pub use error::LossError;
pub use loss::ClassAxisLoss;
pub use loss::binary::{BinaryCrossEntropy, BinaryCrossEntropyWithLogits, SigmoidFocal};
pub use loss::class_axis::{ClassShape, ClassTarget, Label, Probabilities};
pub use loss::dice::{Activation, Dice, DiceCrossEntropy, GeneralizedDice, Tversky};
pub use loss::regression::{Huber, L1, Mse, SmoothL1};
pub use loss::softmax::{SoftmaxCrossEntropy, SoftmaxFocal};
pub use loss::{Grad, PointwiseLoss, Reduction};

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
