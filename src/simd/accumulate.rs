//! The canonical reduction (DESIGN.md §2.3): the summation order that makes
//! every backend produce the same bits.
//!
//! Element `i` of a stream is added into virtual lane `i % 64`, in f32.
//! Every [`CHUNKS_PER_BLOCK`] chunks (256 elements) the 64 lanes are folded
//! by a fixed pairwise tree (lane `l` with lane `l + 32`, then `l + 16`, …,
//! then `l + 1`) and the block's f32 partial is added to an f64 total. A
//! backend with `WIDTH`-lane registers keeps `64 / WIDTH` registers; folding
//! register `r` with register `r + REGS / 2` is exactly the first tree levels,
//! and the last `log2(WIDTH)` levels run on the one remaining register, so
//! the adds, their order and therefore the bits are the same on every path.
//!
//! Error: a block of 256 non-negative terms passes each term through at most
//! 3 serial adds and 6 tree adds, so a sum of non-negative terms carries a
//! relative error of at most about `9·2⁻²⁴` plus what each term carries;
//! the f64 total adds nothing visible below 2^26 elements.

use super::lanes::{Lanes, VIRTUAL_LANES};
use super::vector::F32s;

/// 64-element chunks per block; a block's lanes are folded into f64.
pub const CHUNKS_PER_BLOCK: usize = 4;

/// Elements per block (`CHUNKS_PER_BLOCK * 64`).
pub const BLOCK_ELEMENTS: usize = CHUNKS_PER_BLOCK * VIRTUAL_LANES;

/// A running canonical sum: 64 f32 virtual lanes plus an f64 total of the
/// folded blocks.
#[derive(Clone, Copy)]
pub struct Accumulator<L: Lanes> {
    lanes: L::Chunk,
    chunks: usize,
    total: f64,
}

impl<L: Lanes> Accumulator<L> {
    /// An empty sum.
    #[inline(always)]
    pub fn new(l: L) -> Self {
        Self {
            lanes: l.zero_chunk(),
            chunks: 0,
            total: 0.0,
        }
    }

    /// Adds register `reg` of the current chunk (virtual lanes
    /// `reg * WIDTH .. (reg + 1) * WIDTH`).
    #[inline(always)]
    pub fn add(&mut self, reg: usize, v: F32s<L>) {
        if let Some(slot) = self.lanes.as_mut().get_mut(reg) {
            *slot = (F32s::from_raw(v.lanes(), *slot) + v).raw();
        }
    }

    /// Marks the end of a 64-element chunk; folds the block when it is full.
    #[inline(always)]
    pub fn end_chunk(&mut self, l: L) {
        self.chunks += 1;
        if self.chunks == CHUNKS_PER_BLOCK {
            self.flush(l);
        }
    }

    /// The total: the f64 sum of all block partials.
    #[inline(always)]
    pub fn finish(mut self, l: L) -> f64 {
        if self.chunks > 0 {
            self.flush(l);
        }
        self.total
    }

    #[inline(always)]
    fn flush(&mut self, l: L) {
        self.total += f64::from(fold(l, self.lanes));
        self.lanes = l.zero_chunk();
        self.chunks = 0;
    }
}

/// Folds 64 virtual lanes into one f32 by the canonical pairwise tree.
#[inline(always)]
pub fn fold<L: Lanes>(l: L, chunk: L::Chunk) -> f32 {
    let mut chunk = chunk;
    let regs = chunk.as_mut();
    let mut half = regs.len() / 2;
    while half > 0 {
        let (low, high) = regs.split_at_mut(half);
        for (a, b) in low.iter_mut().zip(high.iter()) {
            *a = (F32s::from_raw(l, *a) + F32s::from_raw(l, *b)).raw();
        }
        half /= 2;
    }
    let mut lanes = [0.0f32; VIRTUAL_LANES];
    if let Some(&first) = regs.first() {
        const { assert!(VIRTUAL_LANES >= 1) };
        if L::WIDTH <= VIRTUAL_LANES {
            // SAFETY: `lanes` holds VIRTUAL_LANES f32 and WIDTH <= VIRTUAL_LANES
            // was just checked, so the WIDTH-lane store stays inside it.
            unsafe { l.store(lanes.as_mut_ptr(), F32s::from_raw(l, first)) };
        }
    }
    let mut width = L::WIDTH.min(VIRTUAL_LANES);
    while width > 1 {
        width /= 2;
        let (low, high) = lanes.split_at_mut(width);
        for (a, b) in low.iter_mut().zip(high.iter()) {
            *a += *b;
        }
    }
    lanes[0]
}
