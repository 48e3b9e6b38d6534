//! Vector math layer: the [`Lanes`] trait every backend implements, the
//! [`F32s`] vectors with operators that kernels are written in, the vector
//! math functions and the canonical reduction. No ISA names live here.

pub mod accumulate;
pub mod exact_sum;
pub mod lanes;
pub mod math;
pub mod vector;

pub use lanes::{Lanes, VIRTUAL_LANES};
pub use vector::{F32s, M32s, Operand, U32s};
