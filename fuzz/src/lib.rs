//! Fuzzing harness for `simdloss`: byte decoding ([`input`]), the generic
//! checker of any pointwise loss ([`pointwise`]) and one module per loss
//! family ([`regression`], [`binary`], [`softmax`] and [`dice`]: the
//! class-axis losses, each with its own case layout and checker), and
//! [`capi`] / [`capi_class`] (the C ABI's pointer and overlap checks
//! against the Rust API). Each
//! target in `fuzz_targets/` is one line calling a family's `fuzz_one`.
//!
//! Adding a loss family: write its f64 [`pointwise::Reference`] and
//! [`pointwise::Bounds`], a `fuzz_one` that decodes parameters and a
//! [`pointwise::Case`] (reuse [`input::Shape`] and [`input::Input::stream`])
//! and calls [`pointwise::check_loss`], then a three-line target and a
//! `[[bin]]` entry in `fuzz/Cargo.toml`, seeds in `fuzz/corpus/<target>/`
//! (`fuzz/seeds.py`); `.ci/run` fuzzes every target `cargo fuzz list` names.

pub mod binary;
pub mod capi;
pub mod capi_class;
pub mod dice;
pub mod input;
pub mod pointwise;
pub mod regression;
pub mod softmax;
