//! Vector math layer: the [`Lanes`] trait every backend implements and the
//! canonical reduction built on it. No ISA names live here.

pub mod accumulate;
pub mod lanes;
pub mod math;

pub use lanes::{Lanes, VIRTUAL_LANES};
