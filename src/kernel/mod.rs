//! Kernels: the drivers, written once against [`crate::simd::Lanes`], and
//! the per-lane math each loss family plugs into them. No ISA names here.

pub mod binary;
pub mod dice;
pub(crate) mod labels;
pub mod map;
#[cfg(feature = "rayon")]
pub(crate) mod parallel;
pub mod pointwise;
pub(crate) mod probability;
pub mod regression;
pub mod softmax;
