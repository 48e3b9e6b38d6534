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
//!
//! Two optional streams ride along (through [`execute_weighted`]), both
//! periodic: element `i` reads `stream[i % stream.len()]`. A `weight`
//! multiplies value and derivative of each element after the kernel (a
//! per-element weight map has `input.len()` elements; "no weight" is the
//! one-element stream `[1.0]`, which changes no bit); a `param` is handed
//! to the kernel's [`PointwiseKernel::eval_param`] (a per-class
//! `pos_weight` broadcast over the last axis has `C` elements, a scalar
//! one is a one-element stream). Whether each is read is a compile-time
//! parameter of [`run`]: a pass without them ([`execute`]) is exactly the
//! code it was before they existed, and a weighted loss compiles one
//! driver per mode, whatever its options.

use crate::simd::accumulate::{Accumulator, Total};
use crate::simd::{F32s, Lanes, VIRTUAL_LANES};

/// Per-lane math of a pointwise loss: `(value, d value / d input)`.
pub trait PointwiseKernel: Copy + Send + Sync {
    /// Input value used in the padding lanes of the tail chunk.
    const PAD_INPUT: f32 = 0.0;
    /// Target value used in the padding lanes of the tail chunk.
    const PAD_TARGET: f32 = 0.0;

    /// Value and derivative with respect to `input`, lane by lane.
    fn eval<L: Lanes>(self, input: F32s<L>, target: F32s<L>) -> (F32s<L>, F32s<L>);

    /// Value and derivative when the pass carries a periodic parameter
    /// stream (see [`execute_weighted`]): `param` holds each lane's
    /// parameter. The default ignores it.
    #[inline(always)]
    fn eval_param<L: Lanes>(
        self,
        input: F32s<L>,
        target: F32s<L>,
        param: F32s<L>,
    ) -> (F32s<L>, F32s<L>) {
        let _ = param;
        self.eval(input, target)
    }
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
    /// One of the four above, read at run time ([`super::run`]'s `dynamic_mode`):
    /// one compiled driver serves every mode, at the cost of a predictable
    /// branch per register. For kernels whose per-lane math dwarfs that
    /// branch (the transcendental ones), it divides their code size and
    /// compile time by four.
    pub const DYNAMIC: u8 = 4;
}

/// Lane index `0..64` as f32, to mask the padding lanes of the tail chunk.
pub(crate) static LANE_INDEX: [f32; VIRTUAL_LANES] = {
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
/// The mode is `MODE`, or `dynamic_mode` if `MODE` is [`mode::DYNAMIC`]
/// (then an unknown `dynamic_mode` returns `None`).
/// `out` is the gradient (grad modes) or the per-element output; it is not
/// touched in [`mode::VALUE`]. `weight` is read only if `WEIGHT`, `param`
/// only if `PARAM`; both are periodic (element `i` reads
/// `weight[i % weight.len()]`). Returns `None`, touching nothing, if the
/// lengths disagree (`target.len() != input.len()`, `out.len() !=
/// input.len()` in a mode that writes `out`, an empty `weight` with
/// `WEIGHT` or `param` with `PARAM`): the loss layer reports those as
/// errors before calling, this check keeps the driver sound on its own.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub fn run<L: Lanes, K: PointwiseKernel, const MODE: u8, const WEIGHT: bool, const PARAM: bool>(
    l: L,
    kernel: K,
    input: &[f32],
    target: &[f32],
    weight: &[f32],
    param: &[f32],
    out: &mut [f32],
    scale: f32,
    dynamic_mode: u8,
) -> Option<Total> {
    // A constant unless MODE is DYNAMIC: every test on it then folds away.
    let m = if MODE == mode::DYNAMIC {
        dynamic_mode
    } else {
        MODE
    };
    let n = input.len();
    if m > mode::PER_ELEMENT
        || target.len() != n
        || (m != mode::VALUE && out.len() != n)
        || (WEIGHT && weight.is_empty())
        || (PARAM && param.is_empty())
    {
        return None;
    }
    let width = L::WIDTH;
    if width * L::REGS != VIRTUAL_LANES {
        return None;
    }
    let scale_v = l.splat(scale);
    let mut errors = None;
    let mut acc = Accumulator::new(l, &mut errors);
    let full_chunks = n / VIRTUAL_LANES;
    // Only built when read: a pass without them pays nothing.
    // The streams' buffers live here, so that a stream is a few words
    // to move around (a 512-byte buffer inside it was copied with it).
    let mut weight_tile = [0.0f32; 2 * VIRTUAL_LANES];
    let mut param_tile = [0.0f32; 2 * VIRTUAL_LANES];
    let mut weights = if WEIGHT {
        Some(Periodic::new(weight, n, &mut weight_tile))
    } else {
        None
    };
    let mut params = if PARAM {
        Some(Periodic::new(param, n, &mut param_tile))
    } else {
        None
    };

    for chunk in 0..full_chunks {
        let s = streams_at(
            input,
            target,
            out,
            chunk * VIRTUAL_LANES,
            weights.as_mut(),
            params.as_mut(),
        );
        // SAFETY: chunk·64 + 64 <= full_chunks·64 <= n, and input, target and
        // (in writing modes) out all have length n, checked above; with
        // WEIGHT / PARAM, `window` points at 64 readable f32.
        unsafe { chunk_body::<L, K, WEIGHT, PARAM>(l, kernel, m, &mut acc, s, scale_v, None) };
        acc.end_chunk(l);
        if let Some(w) = weights.as_mut() {
            w.advance();
        }
        if let Some(p) = params.as_mut() {
            p.advance();
        }
    }

    let done = full_chunks * VIRTUAL_LANES;
    let rem = n - done;
    if rem > 0 && rem.is_multiple_of(width) {
        // The tail fills whole registers (always so on the scalar path,
        // where a register is one element): they are read and written in
        // place, no padded copy (which on a microcontroller was most of a
        // call's stack). The same registers run as through the copies.
        let s = streams_at(input, target, out, done, weights.as_mut(), params.as_mut());
        #[allow(clippy::cast_precision_loss)] // rem < 64 is exact in f32
        let tail = Some((l.splat(rem as f32), rem / width));
        // SAFETY: the tail chunk computes rem / width registers, i.e. the
        // rem elements done..n of input, target and (in writing modes)
        // out, all of length n (checked above); with WEIGHT / PARAM,
        // `window` points at 64 readable f32.
        unsafe { chunk_body::<L, K, WEIGHT, PARAM>(l, kernel, m, &mut acc, s, scale_v, tail) };
        acc.end_chunk(l);
    } else if rem > 0 {
        let mut x = [K::PAD_INPUT; VIRTUAL_LANES];
        let mut y = [K::PAD_TARGET; VIRTUAL_LANES];
        let mut w = [0.0f32; VIRTUAL_LANES];
        let mut c = [0.0f32; VIRTUAL_LANES];
        let mut o = [0.0f32; VIRTUAL_LANES];
        copy_prefix(&mut x, input.get(done..).unwrap_or(&[]));
        copy_prefix(&mut y, target.get(done..).unwrap_or(&[]));
        if let Some(stream) = weights.as_mut() {
            copy_window(&mut w, stream, rem);
        }
        if let Some(stream) = params.as_mut() {
            copy_window(&mut c, stream, rem);
        }
        if m == mode::GRAD_ACCUMULATE {
            copy_prefix(&mut o, out.get(done..).unwrap_or(&[]));
        }
        #[allow(clippy::cast_precision_loss)] // rem < 64 is exact in f32
        let valid = l.splat(rem as f32);
        // SAFETY: x, y, w, c and o are 64-element stack arrays: every
        // register of the chunk is in bounds.
        unsafe {
            chunk_body::<L, K, WEIGHT, PARAM>(
                l,
                kernel,
                m,
                &mut acc,
                Streams {
                    input: x.as_ptr(),
                    target: y.as_ptr(),
                    weight: w.as_ptr(),
                    param: c.as_ptr(),
                    out: o.as_mut_ptr(),
                },
                scale_v,
                // Only the registers holding real elements: a skipped
                // register would add +0 to every lane of the sum, which
                // changes no bit (a lane is never −0: it starts at +0, and
                // +0 + −0 = +0), and would write only padding.
                Some((valid, rem.div_ceil(width))),
            );
        }
        acc.end_chunk(l);
        if m != mode::VALUE {
            copy_prefix(out.get_mut(done..).unwrap_or(&mut []), &o);
        }
    }
    if m == mode::PER_ELEMENT {
        Some(Total::new())
    } else {
        Some(acc.finish_total(l))
    }
}

/// `dst[..rem]` = the first `rem` (< 64) elements of `stream`'s current
/// window.
#[inline(always)]
fn copy_window(dst: &mut [f32; VIRTUAL_LANES], stream: &mut Periodic<'_, '_>, rem: usize) {
    let window = stream.window();
    // SAFETY: `window` points at 64 readable f32 (Periodic's contract) and
    // rem < 64.
    let window = unsafe { core::slice::from_raw_parts(window, rem.min(VIRTUAL_LANES)) };
    copy_prefix(dst, window);
}

/// Windows of 64 consecutive elements of the periodic sequence
/// `param[i % C]` (`C = param.len()`), one per chunk, starting at element 0.
///
/// `C ≤ 64` and shorter than the pass: the sequence is tiled once into 128
/// stack elements and each window is a slice of the tile starting at phase
/// `s < C`. Otherwise (`C > 64`, or a stream that covers the pass): a
/// window is a slice of `param` itself, or, for a chunk that straddles the
/// wrap (at most one in `C / 64`; only the tail chunk when `C` is the
/// stream length), copied into a 64-element buffer. No division in the
/// loop: the phase advances by `64 % C`.
struct Periodic<'a, 't> {
    param: &'a [f32],
    /// Windows come from `tile` (`param.len() ≤ 64` and shorter than the
    /// pass).
    tiled: bool,
    /// The tile (`tiled`), else the scratch of a window that wraps (its
    /// first 64 elements): one buffer, as the two uses exclude each other,
    /// so the struct a pass moves around is 256 bytes smaller.
    tile: &'t mut [f32; 2 * VIRTUAL_LANES],
    phase: usize,
    step: usize,
}

impl<'a, 't> Periodic<'a, 't> {
    /// The windows of `param` over a pass of `n` elements. An empty
    /// `param` gives windows of zeros (never read by the driver: it refuses
    /// an empty `param` when it needs one). The tile is only built when the
    /// stream really repeats (`len < n`): a per-element stream (`len ≥ n`)
    /// is read in place, so a small call pays no tiling.
    #[inline(always)]
    fn new(param: &'a [f32], n: usize, tile: &'t mut [f32; 2 * VIRTUAL_LANES]) -> Self {
        let len = param.len();
        let tiled = (1..=VIRTUAL_LANES).contains(&len) && len < n;
        if tiled {
            // tile[i] = param[i % len] for the i a window reads: a fill
            // for one element, else one copy of `param`, then the filled
            // prefix doubled (a multiple of len each time) by block
            // copies. Windows start at the phases `k·64 mod len`, the
            // multiples of `gcd(64, len)` below `len`, so the last one
            // ends at `len − gcd + 64` (64 when `len` divides 64). Each
            // doubling reloads what the one before just stored and waits
            // for it: the copies a window never reads are not made.
            if let [v] = param {
                tile.fill(*v);
            } else {
                copy_prefix(tile, param);
                let gcd = 1usize << len.trailing_zeros().min(VIRTUAL_LANES.trailing_zeros());
                let needed = (len - gcd + VIRTUAL_LANES).min(tile.len());
                let mut filled = len;
                while filled < needed {
                    let (done, rest) = tile.split_at_mut(filled);
                    copy_blocks(rest, done);
                    filled *= 2;
                }
            }
        }
        Self {
            param,
            tiled,
            tile,
            phase: 0,
            step: VIRTUAL_LANES.checked_rem(len).unwrap_or(0),
        }
    }

    /// A pointer to the current window: 64 readable f32, valid until the
    /// next call on `self`.
    #[inline(always)]
    fn window(&mut self) -> *const f32 {
        let s = self.phase;
        if self.tiled {
            // s < len <= 64: tile[s..s + 64] is inside the 128-element tile.
            return self.tile.get(s..).unwrap_or(&[]).as_ptr();
        }
        if let Some(direct) = self.param.get(s..s + VIRTUAL_LANES) {
            return direct.as_ptr();
        }
        // The window wraps: param[s..] then param[..64 − (len − s)].
        let head = self.param.get(s..).unwrap_or(&[]);
        let wrap = self.tile.get_mut(..VIRTUAL_LANES).unwrap_or(&mut []);
        let (first, second) = wrap.split_at_mut(head.len().min(VIRTUAL_LANES));
        copy_prefix(first, head);
        copy_prefix(second, self.param);
        self.tile.as_ptr()
    }

    /// Moves to the next chunk's window.
    #[inline(always)]
    fn advance(&mut self) {
        self.phase += self.step;
        if self.phase >= self.param.len() {
            self.phase -= self.param.len();
        }
    }
}

/// Pointers to one chunk of every stream (see [`chunk_body`]).
#[derive(Clone, Copy)]
struct Streams {
    input: *const f32,
    target: *const f32,
    weight: *const f32,
    param: *const f32,
    out: *mut f32,
}

/// The chunk starting at element `base`, read (and written) in place, with
/// the current windows of the periodic streams. Only pointers: whether
/// they may be dereferenced is [`chunk_body`]'s contract (wrapping, since in
/// [`mode::VALUE`] `out` may be empty and is never read).
#[inline(always)]
fn streams_at(
    input: &[f32],
    target: &[f32],
    out: &mut [f32],
    base: usize,
    weights: Option<&mut Periodic<'_, '_>>,
    params: Option<&mut Periodic<'_, '_>>,
) -> Streams {
    Streams {
        input: input.as_ptr().wrapping_add(base),
        target: target.as_ptr().wrapping_add(base),
        weight: weights.map_or(core::ptr::null(), Periodic::window),
        param: params.map_or(core::ptr::null(), Periodic::window),
        out: out.as_mut_ptr().wrapping_add(base),
    }
}

/// [`copy_prefix`] by 16-element blocks (one vector move each; a plain
/// element loop here was not vectorized, and a small call with a
/// per-class parameter spent a third of its time tiling it).
#[inline(always)]
fn copy_blocks(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.chunks_exact_mut(16).zip(src.chunks_exact(16)) {
        // Fixed-size blocks: a 64-byte move each, where a slice copy of a
        // length the optimizer did not see as constant became a call
        // (which small code keeps: inlined moves cost 1.6 KiB of flash).
        if SMALL_CODE {
            copy_prefix(d, s);
        } else if let (Ok(d), Ok(s)) = (<&mut [f32; 16]>::try_from(d), <&[f32; 16]>::try_from(s)) {
            *d = *s;
        }
    }
    let done = dst.len().min(src.len()) / 16 * 16;
    copy_prefix(
        dst.get_mut(done..).unwrap_or(&mut []),
        src.get(done..).unwrap_or(&[]),
    );
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
/// `tail = Some((k, regs))` (the tail chunk) masks lanes `>= k` out of
/// the sum and computes only the first `regs` (≤ `REGS`) registers.
///
/// # Safety
/// `s.input`, `s.target` (and `s.weight` with `WEIGHT`, `s.param` with
/// `PARAM`) must be readable for 64 f32; `s.out` writable (and, in
/// [`mode::GRAD_ACCUMULATE`], readable) for 64 f32 unless `m` is
/// [`mode::VALUE`]. With `tail = Some((_, regs))`, `regs·WIDTH` f32
/// suffice for `s.input`, `s.target` and `s.out`. `m` is one of
/// [`mode`]'s first four constants.
/// `L::WIDTH * L::REGS == 64` (checked by [`run`] before any call), so the
/// `REGS` registers of a chunk cover exactly those 64 elements.
#[inline(always)]
unsafe fn chunk_body<L: Lanes, K: PointwiseKernel, const WEIGHT: bool, const PARAM: bool>(
    l: L,
    kernel: K,
    m: u8,
    acc: &mut Accumulator<'_, L>,
    s: Streams,
    scale: F32s<L>,
    tail: Option<(F32s<L>, usize)>,
) {
    let out = s.out;
    let (valid, regs) = match tail {
        Some((valid, regs)) => (Some(valid), regs.min(L::REGS)),
        None => (None, L::REGS),
    };
    for reg in 0..regs {
        let off = reg * L::WIDTH;
        // SAFETY: off + WIDTH <= REGS * WIDTH = 64 and the caller guarantees
        // 64 readable f32 behind input and target.
        let (x, y) = unsafe { (l.load(s.input.add(off)), l.load(s.target.add(off))) };
        let (value, deriv) = if PARAM {
            // SAFETY: as above; with PARAM the caller guarantees 64
            // readable f32 behind `param`.
            let c = unsafe { l.load(s.param.add(off)) };
            kernel.eval_param(x, y, c)
        } else {
            kernel.eval(x, y)
        };
        let (value, deriv) = if WEIGHT {
            // SAFETY: as above; with WEIGHT the caller guarantees 64
            // readable f32 behind `weight`.
            let w = unsafe { l.load(s.weight.add(off)) };
            (value * w, deriv * w)
        } else {
            (value, deriv)
        };
        let value = match valid {
            None => value,
            Some(valid) => {
                // SAFETY: LANE_INDEX has 64 f32 and off + WIDTH <= 64.
                let index = unsafe { l.load(LANE_INDEX.as_ptr().add(off)) };
                index.lt(valid).select(value, 0.0)
            }
        };
        match m {
            // SAFETY: off + WIDTH <= 64 and the caller guarantees 64
            // writable f32 behind `out` in this mode.
            mode::GRAD_OVERWRITE => unsafe { l.store(out.add(off), deriv * scale) },
            // SAFETY: as above, and `out` is also readable in this mode.
            mode::GRAD_ACCUMULATE => unsafe {
                let g = l.load(out.add(off));
                l.store(out.add(off), g + deriv * scale);
            },
            // SAFETY: off + WIDTH <= 64 and the caller guarantees 64
            // writable f32 behind `out` in this mode.
            mode::PER_ELEMENT => unsafe { l.store(out.add(off), value) },
            _ => {}
        }
        if m != mode::PER_ELEMENT {
            acc.add(reg, value);
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
    weight: &'a [f32],
    param: &'a [f32],
}

impl<K: PointwiseKernel> Job<'_, K> {
    /// The pass in `self.pass.mode`, reading the streams selected by
    /// `WEIGHT` and `PARAM`: one driver for every mode ([`mode::DYNAMIC`])
    /// with streams or with `DYNAMIC`, else one driver per mode (the
    /// regression losses' code).
    #[inline(always)]
    fn run<L: Lanes, const WEIGHT: bool, const PARAM: bool, const DYNAMIC: bool>(
        self,
        l: L,
    ) -> Option<Total> {
        let Self {
            kernel: k,
            pass:
                Pass {
                    input,
                    target,
                    out,
                    scale,
                    mode,
                },
            weight: w,
            param: c,
        } = self;
        if WEIGHT || PARAM || DYNAMIC {
            return run::<L, K, { mode::DYNAMIC }, WEIGHT, PARAM>(
                l, k, input, target, w, c, out, scale, mode,
            );
        }
        match mode {
            mode::VALUE => {
                run::<L, K, { mode::VALUE }, false, false>(l, k, input, target, w, c, out, scale, 0)
            }
            mode::GRAD_OVERWRITE => run::<L, K, { mode::GRAD_OVERWRITE }, false, false>(
                l, k, input, target, w, c, out, scale, 0,
            ),
            mode::GRAD_ACCUMULATE => run::<L, K, { mode::GRAD_ACCUMULATE }, false, false>(
                l, k, input, target, w, c, out, scale, 0,
            ),
            mode::PER_ELEMENT => run::<L, K, { mode::PER_ELEMENT }, false, false>(
                l, k, input, target, w, c, out, scale, 0,
            ),
            _ => None,
        }
    }
}

/// A [`Job`] whose stream selection (and, without streams, whether the
/// mode is read at run time) is fixed at compile time, with what to make
/// of its [`Total`]: the f64 value for a whole pass, rounded inside the
/// ISA's function (so that a call returns 8 bytes, not the 120 of a
/// `Total` copied through every level: a 64-element MSE call went from
/// 41 to 36.5 ns), or the `Total` itself for a piece of a split pass.
struct Selected<'a, K, R, const WEIGHT: bool, const PARAM: bool, const DYNAMIC: bool>(
    Job<'a, K>,
    R,
);

/// What a [`Selected`] job returns, made from its [`Total`] inside the
/// ISA's function.
trait Finish: Copy {
    type Output;
    fn finish(self, total: Total) -> Self::Output;
}

/// A whole pass: the total's f64 value.
#[derive(Clone, Copy)]
struct Rounded;

impl Finish for Rounded {
    type Output = f64;
    #[inline(always)]
    fn finish(self, total: Total) -> f64 {
        total.value()
    }
}

/// A piece of a split pass: the total itself, to merge.
#[cfg(feature = "rayon")]
#[derive(Clone, Copy)]
struct Whole;

#[cfg(feature = "rayon")]
impl Finish for Whole {
    type Output = Total;
    #[inline(always)]
    fn finish(self, total: Total) -> Total {
        total
    }
}

impl<K: PointwiseKernel, R: Finish, const WEIGHT: bool, const PARAM: bool, const DYNAMIC: bool>
    crate::dispatch::LanesFn for Selected<'_, K, R, WEIGHT, PARAM, DYNAMIC>
{
    type Output = Option<R::Output>;
    #[inline(always)]
    fn call<L: Lanes>(self, l: L) -> Option<R::Output> {
        let finish = self.1;
        self.0
            .run::<L, WEIGHT, PARAM, DYNAMIC>(l)
            .map(|total| finish.finish(total))
    }
}

/// Dispatches `job` with its stream selection: the per-mode drivers (the
/// regression losses: memory-bound, short chains) on single registers,
/// the [`mode::DYNAMIC`] ones (the transcendental kernels) on AVX-512
/// quads ([`crate::dispatch::dispatch_quads`]), and a call shorter than
/// one chunk on single registers too: a quad or a pair would compute 64
/// or 32 lanes for a few, and pad a 16-element call that single AVX-512
/// registers read in place (BCE on 16 elements: 105 → 58 ns a call,
/// `bench_report --small-calls-only`). `finish` turns
/// the pass's [`Total`] into what the caller keeps, inside the ISA's
/// function.
fn dispatch_one<K, R, const WEIGHT: bool, const PARAM: bool, const DYNAMIC: bool>(
    isa: crate::dispatch::Isa,
    job: Job<'_, K>,
    finish: R,
) -> Option<R::Output>
where
    K: PointwiseKernel,
    R: Finish,
{
    let small = job.pass.input.len() < VIRTUAL_LANES;
    let selected = Selected::<K, R, WEIGHT, PARAM, DYNAMIC>(job, finish);
    if !(WEIGHT || PARAM || DYNAMIC) || small {
        crate::dispatch::dispatch(isa, selected).flatten()
    } else {
        crate::dispatch::dispatch_quads(isa, selected).flatten()
    }
}

/// With the `rayon` feature, a pass of at least this many elements is split
/// over rayon's current pool when its kernel is memory-bound (the
/// regression losses: [`execute`]), in pieces of at least half of it.
/// Measured on 2 cores (AVX2, `bench_report --threads-only`, one call
/// against two half calls under `rayon::join`): MSE 0.75× at 2^14, 1.32×
/// at 2^15, 1.52× at 2^16.
#[cfg(feature = "rayon")]
pub const PARALLEL_MIN_MEMORY_BOUND: usize = 1 << 15;

/// The same for the compute-bound kernels ([`execute_weighted`]: the
/// transcendental losses). Measured as above:
/// BCE with logits 1.48× at 2^12, 1.67× at 2^13 (the threshold keeps a
/// margin for machines whose threads wake more slowly).
#[cfg(feature = "rayon")]
pub const PARALLEL_MIN_COMPUTE_BOUND: usize = 1 << 13;

/// Runs `job` on `isa`, split over rayon's pool if the feature is on and
/// the pass is long enough; the exact total of its values.
fn dispatch_job<K: PointwiseKernel, const WEIGHT: bool, const PARAM: bool, const DYNAMIC: bool>(
    isa: crate::dispatch::Isa,
    job: Job<'_, K>,
) -> Option<f64> {
    #[cfg(feature = "rayon")]
    {
        let min = if WEIGHT || PARAM || DYNAMIC {
            PARALLEL_MIN_COMPUTE_BOUND
        } else {
            PARALLEL_MIN_MEMORY_BOUND
        };
        let n = job.pass.input.len();
        if n >= min {
            // Pieces start at multiples of the block and of every stream
            // that repeats within the pass, so each reads its streams from
            // phase 0 (a stream of `n` or more elements is cut instead).
            let grain = [job.weight.len(), job.param.len()]
                .into_iter()
                .filter(|&len| len > 0 && len < n)
                .try_fold(
                    crate::simd::accumulate::BLOCK_ELEMENTS,
                    super::parallel::lcm,
                );
            if let Some(grain) = grain {
                let run = |piece: Job<'_, K>| {
                    dispatch_one::<K, Whole, WEIGHT, PARAM, DYNAMIC>(isa, piece, Whole)
                };
                return super::parallel::split_reduce(job, grain, min / 2, &run).map(|t| t.value());
            }
        }
    }
    dispatch_one::<K, Rounded, WEIGHT, PARAM, DYNAMIC>(isa, job, Rounded)
}

#[cfg(feature = "rayon")]
impl<K: PointwiseKernel> super::parallel::Split for Job<'_, K> {
    fn len(&self) -> usize {
        self.pass.input.len()
    }

    fn split_at(self, mid: usize) -> (Self, Self) {
        let n = self.len();
        let Self {
            kernel,
            pass,
            weight,
            param,
        } = self;
        let (input_a, input_b) = pass.input.split_at(mid.min(n));
        let (target_a, target_b) = pass.target.split_at(mid.min(pass.target.len()));
        // `out` is empty in VALUE mode, else n long (checked in `run`,
        // again per piece).
        let (out_a, out_b) = pass.out.split_at_mut(mid.min(pass.out.len()));
        // A stream shorter than the pass repeats: both pieces read it
        // whole, from phase 0 (the grain is a multiple of its length).
        fn cut(stream: &[f32], n: usize, mid: usize) -> (&[f32], &[f32]) {
            if stream.len() >= n {
                stream.split_at(mid.min(n))
            } else {
                (stream, stream)
            }
        }
        let ((weight_a, weight_b), (param_a, param_b)) = (cut(weight, n, mid), cut(param, n, mid));
        let piece = |input, target, out, weight, param| Job {
            kernel,
            pass: Pass {
                input,
                target,
                out,
                scale: pass.scale,
                mode: pass.mode,
            },
            weight,
            param,
        };
        (
            piece(input_a, target_a, out_a, weight_a, param_a),
            piece(input_b, target_b, out_b, weight_b, param_b),
        )
    }
}

// Where flash counts more than speed (`crate::arch::SMALL_CODE`),
// `execute` (the regression losses, which have no weighted form) runs
// `execute_dynamic_driver`'s one driver for every mode instead of four,
// and `execute_weighted` without a weight (the binary losses, whose
// weighted drivers are compiled anyway) reads a weight of `[1.0]` (and
// BCE with logits, in `loss::binary`, passes a scalar `pos_weight` as a
// one-element stream): the same bits, one driver per loss.
use crate::arch::SMALL_CODE;

/// Runs `kernel` over `pass` on `isa`. `None` if the ISA is unavailable or
/// the lengths disagree (nothing is written then).
pub fn execute<K: PointwiseKernel>(
    isa: crate::dispatch::Isa,
    kernel: K,
    pass: Pass<'_>,
) -> Option<f64> {
    if SMALL_CODE {
        return execute_dynamic_driver(isa, kernel, pass);
    }
    let (weight, param) = (&[][..], &[][..]);
    dispatch_job::<K, false, false, false>(
        isa,
        Job {
            kernel,
            pass,
            weight,
            param,
        },
    )
}

/// One driver for every mode ([`mode::DYNAMIC`]) and no streams: for the
/// transcendental kernels, whose per-lane math dwarfs the mode branch, a
/// quarter of the code of [`execute`]'s four drivers (no per-call tile
/// building either: a small call costs the kernel only).
fn execute_dynamic_driver<K: PointwiseKernel>(
    isa: crate::dispatch::Isa,
    kernel: K,
    pass: Pass<'_>,
) -> Option<f64> {
    let (weight, param) = (&[][..], &[][..]);
    dispatch_job::<K, false, false, true>(
        isa,
        Job {
            kernel,
            pass,
            weight,
            param,
        },
    )
}

/// [`execute`] with a periodic `weight` stream (`input.len()` elements for
/// a per-element weight; `None` for none) and, if `PARAM`, a periodic
/// `param` stream for [`PointwiseKernel::eval_param`] (ignored otherwise).
/// Without a weight the pass reads no weight stream at all (a weight of 1
/// would change no bit, but cost a tile and a product per element; a
/// small call with a per-class parameter paid a third of its fixed cost
/// for it), and without either stream it is one driver for every mode
/// with no streams, as [`execute`] is on small-code targets. Where
/// flash counts more than speed, a missing weight is a stream of `[1.0]`:
/// one driver instead of two. `None` if the ISA is unavailable or the
/// lengths disagree (see [`run`]; nothing is written then).
pub fn execute_weighted<K: PointwiseKernel, const PARAM: bool>(
    isa: crate::dispatch::Isa,
    kernel: K,
    pass: Pass<'_>,
    weight: Option<&[f32]>,
    param: &[f32],
) -> Option<f64> {
    let job = |weight| Job {
        kernel,
        pass,
        weight,
        param,
    };
    match weight {
        Some(weight) => dispatch_job::<K, true, PARAM, true>(isa, job(weight)),
        None if SMALL_CODE => dispatch_job::<K, true, PARAM, true>(isa, job(&[1.0])),
        None => dispatch_job::<K, false, PARAM, true>(isa, job(&[])),
    }
}
