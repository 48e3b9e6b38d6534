//! The pointwise driver: one fused pass of map + reduce + gradient over two
//! equal-length streams, written once against [`Lanes`].
//!
//! A loss contributes a [`PointwiseKernel`]: the per-lane value and
//! derivative. The driver walks the streams in 64-element chunks, register
//! by register, feeding values to the canonical [`Accumulator`] and writing
//! `derivative * scale` into the gradient (overwriting or accumulating) or
//! the value itself into a per-element output. The last `n % 64` elements
//! are copied into zero-padded stack chunks and run through the very same
//! code, with the padding lanes masked out of the sum, so the tail costs no
//! second implementation and gives the same bits as any other chunk.

use crate::simd::accumulate::Accumulator;
use crate::simd::{Lanes, VIRTUAL_LANES};

/// Per-lane math of a pointwise loss: `(value, d value / d input)`.
pub trait PointwiseKernel: Copy {
    /// Input value used in the padding lanes of the tail chunk.
    const PAD_INPUT: f32 = 0.0;
    /// Target value used in the padding lanes of the tail chunk.
    const PAD_TARGET: f32 = 0.0;

    /// Value and derivative with respect to `input`, lane by lane.
    fn eval<L: Lanes>(self, l: L, input: L::V, target: L::V) -> (L::V, L::V);
}

/// What the pass writes besides the reduced value.
pub mod mode {
    /// Only the reduced value.
    pub const VALUE: u8 = 0;
    /// Value, and `grad[i] = scale * d_i`.
    pub const GRAD_OVERWRITE: u8 = 1;
    /// Value, and `grad[i] = grad[i] + scale * d_i`.
    pub const GRAD_ACCUMULATE: u8 = 2;
    /// `out[i] = value_i`; the returned sum is 0.
    pub const PER_ELEMENT: u8 = 3;
}

/// Lane index `0..64` as f32, to mask the padding lanes of the tail chunk.
static LANE_INDEX: [f32; VIRTUAL_LANES] = {
    let mut idx = [0.0f32; VIRTUAL_LANES];
    let mut i = 0;
    while i < VIRTUAL_LANES {
        #[allow(clippy::cast_precision_loss)] // i < 64 is exact in f32
        {
            idx[i] = i as f32;
        }
        i += 1;
    }
    idx
};

/// Runs one fused pass; returns the canonical sum of the per-element values
/// (0 in [`mode::PER_ELEMENT`]).
///
/// `out` is the gradient (grad modes) or the per-element output; it is not
/// touched in [`mode::VALUE`]. Returns `None`, touching nothing, if the
/// lengths disagree (`target.len() != input.len()`, or `out.len() !=
/// input.len()` in a mode that writes `out`): the loss layer reports those
/// as errors before calling, this check keeps the driver sound on its own.
#[inline(always)]
pub fn run<L: Lanes, K: PointwiseKernel, const MODE: u8>(
    l: L,
    kernel: K,
    input: &[f32],
    target: &[f32],
    out: &mut [f32],
    scale: f32,
) -> Option<f64> {
    let n = input.len();
    if target.len() != n || (MODE != mode::VALUE && out.len() != n) {
        return None;
    }
    let width = L::WIDTH;
    if width * L::REGS != VIRTUAL_LANES {
        return None;
    }
    let scale_v = l.splat(scale);
    let mut acc = Accumulator::new(l);
    let full_chunks = n / VIRTUAL_LANES;

    for chunk in 0..full_chunks {
        let base = chunk * VIRTUAL_LANES;
        // SAFETY: base + 64 <= full_chunks * 64 <= n, and input, target and
        // (in writing modes) out all have length n, checked above.
        unsafe {
            chunk_body::<L, K, MODE>(
                l,
                kernel,
                &mut acc,
                input.as_ptr().add(base),
                target.as_ptr().add(base),
                // wrapping: in VALUE mode `out` may be empty and is never read.
                out.as_mut_ptr().wrapping_add(base),
                scale_v,
                None,
            );
        }
        acc.end_chunk(l);
    }

    let done = full_chunks * VIRTUAL_LANES;
    let rem = n - done;
    if rem > 0 {
        let mut x = [K::PAD_INPUT; VIRTUAL_LANES];
        let mut y = [K::PAD_TARGET; VIRTUAL_LANES];
        let mut o = [0.0f32; VIRTUAL_LANES];
        copy_prefix(&mut x, &input[done..]);
        copy_prefix(&mut y, &target[done..]);
        if MODE == mode::GRAD_ACCUMULATE {
            copy_prefix(&mut o, &out[done..]);
        }
        #[allow(clippy::cast_precision_loss)] // rem < 64 is exact in f32
        let valid = l.splat(rem as f32);
        // SAFETY: x, y and o are 64-element stack arrays: every register of
        // the chunk is in bounds.
        unsafe {
            chunk_body::<L, K, MODE>(
                l,
                kernel,
                &mut acc,
                x.as_ptr(),
                y.as_ptr(),
                o.as_mut_ptr(),
                scale_v,
                Some(valid),
            );
        }
        acc.end_chunk(l);
        if MODE != mode::VALUE {
            copy_prefix(&mut out[done..], &o);
        }
    }
    if MODE == mode::PER_ELEMENT {
        Some(0.0)
    } else {
        Some(acc.finish(l))
    }
}

/// `dst[i] = src[i]` for `i < min(dst.len(), src.len())`. At every call
/// site both lengths are the tail length `rem`; unlike `copy_from_slice`
/// this has no length-mismatch panic path when the optimizer cannot prove
/// that (the no-panic link test in `nopanic/` checks it).
#[inline(always)]
fn copy_prefix(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// One 64-element chunk: `REGS` registers through the kernel.
///
/// `valid = Some(k)` masks lanes `>= k` out of the sum (the tail chunk).
///
/// # Safety
/// `input`, `target` must be readable for 64 f32; `out` writable (and, in
/// [`mode::GRAD_ACCUMULATE`], readable) for 64 f32 unless `MODE` is
/// [`mode::VALUE`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn chunk_body<L: Lanes, K: PointwiseKernel, const MODE: u8>(
    l: L,
    kernel: K,
    acc: &mut Accumulator<L>,
    input: *const f32,
    target: *const f32,
    out: *mut f32,
    scale: L::V,
    valid: Option<L::V>,
) {
    for reg in 0..L::REGS {
        let off = reg * L::WIDTH;
        // SAFETY: off + WIDTH <= REGS * WIDTH = 64 and the caller guarantees
        // 64 readable f32 behind input and target.
        let (x, y) = unsafe { (l.load(input.add(off)), l.load(target.add(off))) };
        let (value, deriv) = kernel.eval(l, x, y);
        let value = match valid {
            None => value,
            Some(valid) => {
                // SAFETY: LANE_INDEX has 64 f32 and off + WIDTH <= 64.
                let index = unsafe { l.load(LANE_INDEX.as_ptr().add(off)) };
                l.select(l.lt(index, valid), value, l.splat(0.0))
            }
        };
        match MODE {
            // SAFETY: off + WIDTH <= 64 and the caller guarantees 64
            // writable f32 behind `out` in this mode.
            mode::GRAD_OVERWRITE => unsafe { l.store(out.add(off), l.mul(deriv, scale)) },
            // SAFETY: as above, and `out` is also readable in this mode.
            mode::GRAD_ACCUMULATE => unsafe {
                let g = l.load(out.add(off));
                l.store(out.add(off), l.add(g, l.mul(deriv, scale)));
            },
            // SAFETY: off + WIDTH <= 64 and the caller guarantees 64
            // writable f32 behind `out` in this mode.
            mode::PER_ELEMENT => unsafe { l.store(out.add(off), value) },
            _ => {}
        }
        if MODE != mode::PER_ELEMENT {
            acc.add(l, reg, value);
        }
    }
}

/// The arguments of one pass, bundled so a loss can hand them to
/// [`execute`] with its kernel.
pub struct Pass<'a> {
    /// The model output `x`.
    pub input: &'a [f32],
    /// The target `y`, same length as `input`.
    pub target: &'a [f32],
    /// Gradient or per-element output (empty in [`mode::VALUE`]).
    pub out: &'a mut [f32],
    /// Factor applied to each derivative before it is written.
    pub scale: f32,
    /// One of [`mode`]'s constants.
    pub mode: u8,
}

struct Job<'a, K> {
    kernel: K,
    pass: Pass<'a>,
}

impl<K: PointwiseKernel> crate::dispatch::LanesFn for Job<'_, K> {
    type Output = Option<f64>;
    #[inline(always)]
    fn call<L: Lanes>(self, l: L) -> Option<f64> {
        let Pass {
            input,
            target,
            out,
            scale,
            mode,
        } = self.pass;
        let k = self.kernel;
        match mode {
            mode::VALUE => run::<L, K, { mode::VALUE }>(l, k, input, target, out, scale),
            mode::GRAD_OVERWRITE => {
                run::<L, K, { mode::GRAD_OVERWRITE }>(l, k, input, target, out, scale)
            }
            mode::GRAD_ACCUMULATE => {
                run::<L, K, { mode::GRAD_ACCUMULATE }>(l, k, input, target, out, scale)
            }
            mode::PER_ELEMENT => {
                run::<L, K, { mode::PER_ELEMENT }>(l, k, input, target, out, scale)
            }
            _ => None,
        }
    }
}

/// Runs `kernel` over `pass` on `isa`. `None` if the ISA is unavailable or
/// the lengths disagree (nothing is written then).
pub fn execute<K: PointwiseKernel>(
    isa: crate::dispatch::Isa,
    kernel: K,
    pass: Pass<'_>,
) -> Option<f64> {
    crate::dispatch::dispatch(isa, Job { kernel, pass }).flatten()
}
