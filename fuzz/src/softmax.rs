//! The softmax target: [`SoftmaxCrossEntropy`] (index labels of every
//! [`Label`] type, and [`Probabilities`]) and [`SoftmaxFocal`] over one
//! decoded `[N, C, S]` case each run, with class weights, `ignore_index`,
//! label smoothing and γ.
//!
//! Checked, for each loss:
//! - every available ISA (and the default one) bit-identical to
//!   [`Isa::Scalar`] in `value` (Mean, Sum), `value_and_grad` (overwrite,
//!   accumulate) and `per_element`; the fused value equal to `value`;
//! - no write outside an output slice (sentinels around each, and an
//!   allocation ending exactly at the slice for AddressSanitizer);
//! - the canonical order: `value(Sum)` is the canonical sum of
//!   `per_element` (sample `j` in virtual lane `j % 64`), `Mean` that sum
//!   over the documented denominator (0 if it is 0), and accumulating is
//!   exactly `g0 + ` the overwritten gradient of the same scale;
//! - an ignored sample has value 0 and a zero gradient (whatever its
//!   logits); a NaN logit (or NaN probability target) makes its sample's
//!   value and every one of its gradient entries NaN, and the reduced
//!   value NaN, and so does a row that is `−∞` everywhere (no softmax);
//! - the scalar outputs against the f64 reference below (limits included:
//!   `+∞` logits tie, `−∞` logits get `p = 0`), within the bounds derived
//!   in [`bounds`];
//! - the error paths: wrong lengths of input, target, weight, grad and
//!   out; the first invalid label (`InvalidLabel` with its flat index);
//!   invalid label smoothing and γ; invalid shapes: each verb on each ISA
//!   returns an error naming a wrong argument and writes nothing.
//!
//! Byte layout (after which [`Input`] continues pseudo-randomly):
//! - shape: `N`, `C`, `S` (u16 each) and a mode byte (`% 4`): 0 classifier
//!   `S = 1`, `N ≤ 300`, `C ≤ 320` (`C ≥ 64` runs the row kernel); 1
//!   segmentation `N ≤ 4`, `C ≤ 32`, `S ≤ 1100`; 2 mixed `N ≤ 12`,
//!   `C ≤ 80`, `S ≤ 140` (tiles across images); 3 tiny, every extent
//!   `≤ 5`. Then `N`, `S`, `C` are halved (in that order of preference)
//!   until `N·C·S ≤` [`MAX_LOGITS`].
//! - three offset bytes (`% 16`: input, target, output), four length
//!   selectors (input, target, weight, output: see [`mismatch`]), a flags
//!   byte (bit 0 weighted, bit 1 tail guard, `(flags >> 2) % 7` the label
//!   type: u8, u16, u32, u64, i32, i64, usize), the ignore-index selector
//!   (`% 8`: −100, 255, 0, C−1, C, −1, 8 more bytes as an i64, 65535).
//! - smoothing: a selector (`% 3`: 0, a u16 / 65535, any float), γ: a
//!   selector (`% 3`: 2, a u16 / 4096, any float).
//! - a reductions byte (bit 0 overwrite, bit 1 accumulate: Sum if set),
//!   the two gradient scales (floats).
//! - labels: an 8-byte seed, an ignore rate byte (`/256`), an invalid rate
//!   byte (`saturating_sub(224)/256`), a patch count (`% 5`) and patches
//!   (u16 position, a value selector byte `% 17` into [`odd_label`]).
//! - streams: logits, probabilities, weight, initial gradient.
//! - a shape probe: three selector bytes for [`ClassShape::new`].

use simdloss::{
    ClassAxisLoss, ClassShape, Grad, Isa, Label, LossError, Probabilities, Reduction,
    SoftmaxCrossEntropy, SoftmaxFocal,
};

use crate::input::{Input, Rng, mismatch};
use crate::pointwise::{
    ABS, GRAD_ROUNDINGS, Guarded, LIMIT, Placed, SUM_ROUNDINGS, U, same, same_error,
};

/// The largest `N·C·S` a case has.
pub const MAX_LOGITS: usize = 6000;

/// The default `ignore_index` of both losses.
const DEFAULT_IGNORE: i64 = -100;

// ---------------------------------------------------------------------------
// Label types.

/// A label type with the conversions the fuzzer needs.
pub trait FuzzLabel: Label + Copy + Default + core::fmt::Debug {
    /// `v` converted by `as` (wrapping).
    fn wrap(v: i128) -> Self;
    /// The exact value.
    fn wide(self) -> i128;
}

macro_rules! fuzz_label {
    ($($t:ty),*) => {$(
        impl FuzzLabel for $t {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            fn wrap(v: i128) -> Self {
                v as $t
            }
            #[allow(clippy::cast_lossless)]
            fn wide(self) -> i128 {
                self as i128
            }
        }
    )*};
}
fuzz_label!(u8, u16, u32, u64, i32, i64, usize);

/// The label types, by the flags byte.
#[derive(Clone, Copy, Debug)]
enum LabelType {
    U8,
    U16,
    U32,
    U64,
    I32,
    I64,
    Usize,
}

impl LabelType {
    fn from_byte(b: u8) -> Self {
        match b % 7 {
            0 => Self::U8,
            1 => Self::U16,
            2 => Self::U32,
            3 => Self::U64,
            4 => Self::I32,
            5 => Self::I64,
            _ => Self::Usize,
        }
    }

    /// `v` as this type would hold it (wrapping), widened back.
    fn wrap(self, v: i128) -> i128 {
        match self {
            Self::U8 => u8::wrap(v).wide(),
            Self::U16 => u16::wrap(v).wide(),
            Self::U32 => u32::wrap(v).wide(),
            Self::U64 => u64::wrap(v).wide(),
            Self::I32 => i32::wrap(v).wide(),
            Self::I64 => i64::wrap(v).wide(),
            Self::Usize => usize::wrap(v).wide(),
        }
    }
}

/// The odd label values a patch can write (selector `% 17`).
fn odd_label(sel: u8, c: usize, ignore: i64, inp: &mut Input<'_>) -> i128 {
    let c = i128::try_from(c).unwrap_or(i128::MAX);
    match sel % 17 {
        0 => c,
        1 => c + 1,
        2 => -1,
        3 => -100,
        4 => 255,
        5 => 256,
        6 => 65535,
        7 => 65536,
        8 => i128::from(i32::MIN),
        9 => i128::from(i64::MIN),
        10 => i128::from(i64::MAX),
        11 => i128::from(u64::MAX),
        12 => i128::from(u32::MAX) + 1,
        13 => 0,
        14 => c - 1,
        15 => i128::from(ignore),
        _ => i128::from(i64::from_le_bytes(inp.bytes())),
    }
}

// ---------------------------------------------------------------------------
// The decoded case.

/// One decoded case: the valid call's data and the error-path lengths.
pub struct Case {
    /// `N`, `C`, `S`.
    pub n: usize,
    /// Classes.
    pub c: usize,
    /// Pixels per image.
    pub s: usize,
    /// Logits (at least `N·C·S`).
    pub logits: Vec<f32>,
    /// Probability targets (at least `N·C·S`).
    pub probs: Vec<f32>,
    /// Index labels as the label type holds them (at least `N·S`).
    pub labels: Vec<i128>,
    label_type: LabelType,
    /// Class weights (at least `C`), used if `weighted`.
    pub weight: Vec<f32>,
    /// Whether the losses get class weights.
    pub weighted: bool,
    /// The ignore index.
    pub ignore: i64,
    /// Label smoothing as decoded (may be invalid).
    pub smoothing: f32,
    /// γ as decoded (may be invalid).
    pub gamma: f32,
    /// Reduction and scale of the overwrite call.
    pub overwrite: (Reduction, f32),
    /// Reduction and scale of the accumulate call.
    pub accumulate: (Reduction, f32),
    /// Initial gradient / output contents.
    pub grad0: Vec<f32>,
    /// Offsets of input, target and output.
    pub offsets: [usize; 3],
    /// Whether output slices have a sentinel guard after them.
    pub tail_guard: bool,
    /// Length selectors of input, target, weight and output.
    pub selectors: [u8; 4],
}

impl Case {
    fn len(&self) -> usize {
        self.n * self.c * self.s
    }

    fn samples(&self) -> usize {
        self.n * self.s
    }

    fn shape(&self) -> ClassShape {
        ClassShape::new(self.n, self.c, self.s)
            .unwrap_or_else(|e| panic!("ClassShape::new({}, {}, {}): {e}", self.n, self.c, self.s))
    }

    fn weight(&self) -> Option<&[f32]> {
        self.weighted.then(|| &self.weight[..self.c])
    }

    /// Logit / target index of class `k` of sample `j`.
    fn at(&self, j: usize, k: usize) -> usize {
        let (n, s) = (j / self.s, j % self.s);
        (n * self.c + k) * self.s + s
    }

    fn mismatched(&self) -> bool {
        self.selectors.iter().any(|&s| s >= 160)
    }
}

fn read_shape(inp: &mut Input<'_>) -> (usize, usize, usize) {
    let (rn, rc, rs) = (
        usize::from(inp.u16()),
        usize::from(inp.u16()),
        usize::from(inp.u16()),
    );
    let (mut n, mut c, mut s) = match inp.u8() % 4 {
        0 => (1 + rn % 300, 1 + rc % 320, 1),
        1 => (1 + rn % 4, 1 + rc % 32, 1 + rs % 1100),
        2 => (1 + rn % 12, 1 + rc % 80, 1 + rs % 140),
        _ => (1 + rn % 5, 1 + rc % 5, 1 + rs % 5),
    };
    while n * c * s > MAX_LOGITS {
        if n > 1 {
            n = n.div_ceil(2);
        } else if s > 1 {
            s = s.div_ceil(2);
        } else {
            c = c.div_ceil(2);
        }
    }
    (n, c, s)
}

fn read_unit_or(inp: &mut Input<'_>, default: f32, divisor: f32) -> f32 {
    match inp.u8() % 3 {
        0 => default,
        1 => f32::from(inp.u16()) / divisor,
        _ => inp.float(),
    }
}

/// Decodes a case (see the module docs for the layout).
pub fn decode(inp: &mut Input<'_>) -> Case {
    let (n, c, s) = read_shape(inp);
    let len = n * c * s;
    let samples = n * s;
    let offsets = [
        usize::from(inp.u8() % 16),
        usize::from(inp.u8() % 16),
        usize::from(inp.u8() % 16),
    ];
    let selectors = [inp.u8(), inp.u8(), inp.u8(), inp.u8()];
    let flags = inp.u8();
    let label_type = LabelType::from_byte(flags >> 2);
    let ci = i64::try_from(c).unwrap_or(i64::MAX);
    let ignore = match inp.u8() % 8 {
        0 => DEFAULT_IGNORE,
        1 => 255,
        2 => 0,
        3 => ci - 1,
        4 => ci,
        5 => -1,
        6 => i64::from_le_bytes(inp.bytes()),
        _ => 65535,
    };
    let smoothing = read_unit_or(inp, 0.0, 65535.0);
    let gamma = read_unit_or(inp, 2.0, 4096.0);
    let reds = inp.u8();
    let red = |bit: u8| {
        if reds & bit != 0 {
            Reduction::Sum
        } else {
            Reduction::Mean
        }
    };
    let overwrite = (red(1), inp.float());
    let accumulate = (red(2), inp.float());

    // Labels: mostly classes, some ignored, some invalid, a few patches.
    let target_len = samples.max(mismatch(samples, selectors[1]));
    let mut rng = Rng::new(inp.u64());
    let ignore_rate = u64::from(inp.u8());
    let invalid_rate = u64::from(inp.u8().saturating_sub(224));
    let ignore_fits = label_type.wrap(i128::from(ignore)) == i128::from(ignore);
    let c_wide = i128::try_from(c).unwrap_or(i128::MAX);
    let mut labels: Vec<i128> = (0..target_len)
        .map(|_| {
            let r = rng.next_u64() & 0xff;
            let class = i128::from(rng.next_u64() % c as u64);
            if r < ignore_rate && ignore_fits {
                i128::from(ignore)
            } else if r < ignore_rate + invalid_rate {
                match rng.next_u64() % 4 {
                    0 => c_wide,
                    1 => -1,
                    2 => c_wide + i128::from(rng.next_u64() % 1000),
                    _ => i128::from(rng.next_u64() as i64),
                }
            } else {
                class
            }
        })
        .collect();
    for _ in 0..inp.u8() % 5 {
        let pos = usize::from(inp.u16());
        let sel = inp.u8();
        let v = odd_label(sel, c, ignore, inp);
        if let Some(slot) = labels.get_mut(pos % target_len.max(1)) {
            *slot = v;
        }
    }
    for l in &mut labels {
        *l = label_type.wrap(*l);
    }

    let logits = inp.stream(len.max(mismatch(len, selectors[0])), None);
    let probs = inp.stream(len.max(mismatch(len, selectors[1])), None);
    let weight = inp.stream(c.max(mismatch(c, selectors[2])), None);
    let out_len = len.max(mismatch(len, selectors[3]));
    let grad0 = inp.stream(out_len, None);
    Case {
        n,
        c,
        s,
        logits,
        probs,
        labels,
        label_type,
        weight,
        weighted: flags & 1 != 0,
        ignore,
        smoothing,
        gamma,
        overwrite,
        accumulate,
        grad0,
        offsets,
        tail_guard: flags & 2 != 0,
        selectors,
    }
}

// ---------------------------------------------------------------------------
// The losses behind one interface.

/// One loss with its target element type (a label type, or f32 for
/// probabilities).
trait Loss: Copy {
    type Elem: Copy + Default + core::fmt::Debug;
    fn with_isa(self, isa: Isa) -> Result<Self, LossError>;
    fn value(
        &self,
        x: &[f32],
        sh: ClassShape,
        t: &[Self::Elem],
        r: Reduction,
    ) -> Result<f32, LossError>;
    fn value_and_grad(
        &self,
        x: &[f32],
        sh: ClassShape,
        t: &[Self::Elem],
        r: Reduction,
        g: Grad<'_>,
    ) -> Result<f32, LossError>;
    fn per_element(
        &self,
        x: &[f32],
        sh: ClassShape,
        t: &[Self::Elem],
        out: &mut [f32],
    ) -> Result<(), LossError>;
}

#[derive(Clone, Copy)]
struct CeIndex<'a, T>(SoftmaxCrossEntropy<'a>, core::marker::PhantomData<T>);

impl<T: FuzzLabel> Loss for CeIndex<'_, T> {
    type Elem = T;
    fn with_isa(self, isa: Isa) -> Result<Self, LossError> {
        Ok(Self(self.0.with_isa(isa)?, self.1))
    }
    fn value(&self, x: &[f32], sh: ClassShape, t: &[T], r: Reduction) -> Result<f32, LossError> {
        self.0.value(x, sh, t, r)
    }
    fn value_and_grad(
        &self,
        x: &[f32],
        sh: ClassShape,
        t: &[T],
        r: Reduction,
        g: Grad<'_>,
    ) -> Result<f32, LossError> {
        self.0.value_and_grad(x, sh, t, r, g)
    }
    fn per_element(
        &self,
        x: &[f32],
        sh: ClassShape,
        t: &[T],
        out: &mut [f32],
    ) -> Result<(), LossError> {
        self.0.per_element(x, sh, t, out)
    }
}

#[derive(Clone, Copy)]
struct CeProbs<'a>(SoftmaxCrossEntropy<'a>);

impl Loss for CeProbs<'_> {
    type Elem = f32;
    fn with_isa(self, isa: Isa) -> Result<Self, LossError> {
        Ok(Self(self.0.with_isa(isa)?))
    }
    fn value(&self, x: &[f32], sh: ClassShape, t: &[f32], r: Reduction) -> Result<f32, LossError> {
        self.0.value(x, sh, Probabilities(t), r)
    }
    fn value_and_grad(
        &self,
        x: &[f32],
        sh: ClassShape,
        t: &[f32],
        r: Reduction,
        g: Grad<'_>,
    ) -> Result<f32, LossError> {
        self.0.value_and_grad(x, sh, Probabilities(t), r, g)
    }
    fn per_element(
        &self,
        x: &[f32],
        sh: ClassShape,
        t: &[f32],
        out: &mut [f32],
    ) -> Result<(), LossError> {
        self.0.per_element(x, sh, Probabilities(t), out)
    }
}

#[derive(Clone, Copy)]
struct FocalIndex<'a, T>(SoftmaxFocal<'a>, core::marker::PhantomData<T>);

impl<T: FuzzLabel> Loss for FocalIndex<'_, T> {
    type Elem = T;
    fn with_isa(self, isa: Isa) -> Result<Self, LossError> {
        Ok(Self(self.0.with_isa(isa)?, self.1))
    }
    fn value(&self, x: &[f32], sh: ClassShape, t: &[T], r: Reduction) -> Result<f32, LossError> {
        self.0.value(x, sh, t, r)
    }
    fn value_and_grad(
        &self,
        x: &[f32],
        sh: ClassShape,
        t: &[T],
        r: Reduction,
        g: Grad<'_>,
    ) -> Result<f32, LossError> {
        self.0.value_and_grad(x, sh, t, r, g)
    }
    fn per_element(
        &self,
        x: &[f32],
        sh: ClassShape,
        t: &[T],
        out: &mut [f32],
    ) -> Result<(), LossError> {
        self.0.per_element(x, sh, t, out)
    }
}

/// A target slice placed `off` elements into an allocation that ends where
/// it ends (AddressSanitizer sees any read past it).
struct PlacedT<E> {
    buf: Box<[E]>,
    off: usize,
}

impl<E: Copy + Default> PlacedT<E> {
    fn new(data: &[E], off: usize) -> Self {
        let mut v = vec![E::default(); off];
        v.extend_from_slice(data);
        Self {
            buf: v.into_boxed_slice(),
            off,
        }
    }
    fn get(&self) -> &[E] {
        &self.buf[self.off..]
    }
}

// ---------------------------------------------------------------------------
// Running every verb on one ISA.

/// Everything one ISA computed.
struct Outputs {
    value: [f32; 2],
    over: Vec<f32>,
    acc: Vec<f32>,
    /// Accumulate with the overwrite call's reduction and scale.
    acc_same: Vec<f32>,
    per_sample: Vec<f32>,
}

const REDUCTIONS: [Reduction; 2] = [Reduction::Mean, Reduction::Sum];

fn ri(r: Reduction) -> usize {
    usize::from(r == Reduction::Sum)
}

fn compute<L: Loss>(loss: &L, case: &Case, target: &[L::Elem], what: &str) -> Outputs {
    let (len, samples) = (case.len(), case.samples());
    let shape = case.shape();
    let [oi, ot, oo] = case.offsets;
    let tg = case.tail_guard;
    let input = Placed::new(&case.logits[..len], oi);
    let target = PlacedT::new(target, ot);
    let (x, t) = (input.get(), target.get());

    let mut value = [0.0f32; 2];
    for r in REDUCTIONS {
        value[ri(r)] = loss
            .value(x, shape, t, r)
            .unwrap_or_else(|e| panic!("{what}: value({r:?}) failed: {e}"));
    }
    let run = |mode: &str, accumulate: bool, (red, scale): (Reduction, f32), guard: bool| {
        let mut g = Guarded::new(&case.grad0[..len], oo, guard);
        let grad = if accumulate {
            Grad::accumulate(g.slice())
        } else {
            Grad::overwrite(g.slice())
        };
        let v = loss
            .value_and_grad(x, shape, t, red, grad.scaled(scale))
            .unwrap_or_else(|e| panic!("{what}: value_and_grad({mode}) failed: {e}"));
        g.assert_guards(&format!("{what}: value_and_grad({mode})"));
        assert!(
            same(v, value[ri(red)]),
            "{what}: value_and_grad({mode}, {red:?}) = {v:e} but value = {:e}",
            value[ri(red)]
        );
        g.contents()
    };
    let over = run("overwrite", false, case.overwrite, tg);
    let acc = run("accumulate", true, case.accumulate, !tg);
    let acc_same = run("accumulate, overwrite's scale", true, case.overwrite, tg);
    let mut pe = Guarded::new(&case.grad0[..samples], oo, !tg);
    loss.per_element(x, shape, t, pe.slice())
        .unwrap_or_else(|e| panic!("{what}: per_element failed: {e}"));
    pe.assert_guards(&format!("{what}: per_element"));
    Outputs {
        value,
        over,
        acc,
        acc_same,
        per_sample: pe.contents(),
    }
}

fn assert_same_slice(a: &[f32], b: &[f32], what: &str) {
    for (i, (p, q)) in a.iter().zip(b).enumerate() {
        assert!(
            same(*p, *q),
            "{what}: element {i} is {p:e} ({:#010x}) here, {q:e} ({:#010x}) on scalar",
            p.to_bits(),
            q.to_bits()
        );
    }
}

fn assert_same_outputs(got: &Outputs, scalar: &Outputs, what: &str) {
    for r in REDUCTIONS {
        let (p, q) = (got.value[ri(r)], scalar.value[ri(r)]);
        assert!(
            same(p, q),
            "{what}: value({r:?}) = {p:e} ({:#010x}), scalar {q:e} ({:#010x})",
            p.to_bits(),
            q.to_bits()
        );
    }
    assert_same_slice(
        &got.over,
        &scalar.over,
        &format!("{what}: grad (overwrite)"),
    );
    assert_same_slice(&got.acc, &scalar.acc, &format!("{what}: grad (accumulate)"));
    assert_same_slice(
        &got.acc_same,
        &scalar.acc_same,
        &format!("{what}: grad (accumulate, overwrite's scale)"),
    );
    assert_same_slice(
        &got.per_sample,
        &scalar.per_sample,
        &format!("{what}: per_element"),
    );
}

/// The canonical sum over samples of `[N, C, S]` with `C` classes and `S`
/// pixels: the row kernel (`S = 1`, `C ≥ ROW_KERNEL_MIN_CLASSES`) sums
/// every value exactly; the tile kernel folds each tile of 64 consecutive
/// values by the pairwise tree and sums the tile partials exactly; either
/// rounds once to f64.
#[must_use]
pub fn canonical_sum(values: &[f32], c: usize, s: usize) -> f64 {
    use simdloss::loss::softmax::ROW_KERNEL_MIN_CLASSES;
    use simdloss::simd::exact_sum::ExactSum;
    let mut exact = ExactSum::new();
    if s == 1 && c >= ROW_KERNEL_MIN_CLASSES {
        values.iter().for_each(|&v| exact.add(v));
        return exact.to_f64();
    }
    for tile in values.chunks(64) {
        let mut lanes = [0.0f32; 64];
        lanes[..tile.len()].copy_from_slice(tile);
        let mut half = 32;
        while half > 0 {
            for k in 0..half {
                lanes[k] += lanes[k + half];
            }
            half /= 2;
        }
        exact.add(lanes[0]);
    }
    exact.to_f64()
}

/// `x ± ulps` ulp of f32 (NaN: equal only to NaN).
fn within_ulps(got: f32, want: f64, ulps: f64) -> bool {
    #[allow(clippy::cast_possible_truncation)]
    let w = want as f32;
    if w.is_nan() || got.is_nan() {
        return w.is_nan() && got.is_nan();
    }
    if w.is_infinite() || got.is_infinite() {
        return got == w;
    }
    (f64::from(got) - want).abs() <= ulps * ulp_f32(want) + f64::from(f32::from_bits(1))
}

/// The spacing of f32 at `v` (as f64).
fn ulp_f32(v: f64) -> f64 {
    let a = v.abs().max(f64::from(f32::MIN_POSITIVE));
    2f64.powi(a.log2().floor() as i32 - 23)
}

// ---------------------------------------------------------------------------
// The f64 reference.

/// Which loss the reference computes.
#[derive(Clone, Copy)]
enum Kind {
    /// Cross-entropy, index target (class, or `None` if ignored).
    Index,
    /// Cross-entropy, probabilities.
    Probs,
    /// Focal, γ.
    Focal(f64),
}

/// The reference of one sample.
struct SampleRef {
    value: f64,
    value_tol: f64,
    grad: Vec<f64>,
    grad_tol: Vec<f64>,
}

/// What a sample must satisfy.
enum Truth {
    /// Value 0, zero gradient.
    Ignored,
    /// Value and every gradient entry NaN.
    Nan,
    /// Within the bounds.
    Ref(SampleRef),
    /// Outside the domain the bounds are derived for.
    Unchecked,
}

/// `a·b`, 0 where `a == 0` (the kernels' convention: a zero coefficient
/// switches a term off, even against an infinite factor).
fn mul_or_zero(a: f64, b: f64) -> f64 {
    if a == 0.0 { 0.0 } else { a * b }
}

/// The parameters one reference evaluation needs.
struct Params<'a> {
    kind: Kind,
    weight: Option<&'a [f32]>,
    eps: f64,
}

/// 0, or a magnitude in `[2^lo, 2^hi]`.
fn moderate(v: f64, lo: i32, hi: i32) -> bool {
    v == 0.0 || (v.abs() >= 2f64.powi(lo) && v.abs() <= 2f64.powi(hi))
}

/// The reference of sample `j`, or what it must satisfy.
///
/// The bounds, per sample. With `u = 2^-24`, `σ = Σ_c e^(x_c−m) − 1`,
/// `L = ln(1+σ)`, `d_c = m − x_c`, `p_c = e^−d_c/(1+σ)`:
/// - `σ` (and `1+σ`) carries a relative error of at most
///   `(3C + 24)·u`: every logit passes one `exp` (≤ 2 ulp) and at most
///   two roundings into the running sum, a new maximum one more multiply
///   (and the row kernel's 64-lane merge 6 more levels);
/// - `L` then errs by `4u·L + (3C+24)u·σ/(1+σ)`, `p_c` relatively by
///   `u(|d_c| + 5) + (3C+24)u·σ/(1+σ)` (`d_c`'s rounding is amplified by
///   the exponential);
/// - cross-entropy: value `Σ a_k(d_k + L)` with `a` the target
///   coefficients (`A = Σ a`); a serial or canonical f32 sum over C terms
///   adds `(C + 4)u` of `Σ|a_k|(|d_k| + L)`; gradient `A·p_c − a_c`, with
///   `A` summed in f32 (`(C+4)u·Σ|a|`);
/// - focal: the relative error of `q = 1 − p_y` (through `σ` when `y`
///   holds the maximum, else through `p_y ≤ ½`), of `q^γ = exp(γ ln q)`
///   (`γ·err(ln q) + u(4 + 4|γ ln q|)`, `err(ln q)` ≤ `2·p_y·rel(p_y)`
///   where `ln q` comes from `p_y ≤ ½`, else `rel(q)`), of the ratio `ℓ_y/q` and of
///   `G = w_y·q^γ·(1 + γ p_y ℓ_y/q)` combine as written in [`reference`];
/// - everything doubled, plus an absolute `2^-120·Σ|a|·C` (focal:
///   `2^-110·|w_y|(1+γ)`) for terms the f32 kernel flushes below the
///   smallest normal.
fn reference(case: &Case, p: &Params<'_>, j: usize, label: Option<usize>, ignored: bool) -> Truth {
    let c = case.c;
    let x: Vec<f32> = (0..c).map(|k| case.logits[case.at(j, k)]).collect();
    if ignored {
        // With a NaN or infinite class weight, 0·w is NaN: unchecked.
        // KNOWN ISSUE (reported): finite weights whose sum overflows f32
        // make (ε/C)·Σw = 0·∞ = NaN, and so every gradient NaN, even at
        // ε = 0.
        let finite = p.weight.is_none_or(|w| {
            w.iter().all(|v| v.is_finite())
                && w.iter().map(|&v| f64::from(v)).sum::<f64>().abs() <= f64::from(f32::MAX)
        });
        return if finite {
            Truth::Ignored
        } else {
            Truth::Unchecked
        };
    }
    let t: Vec<f32> = (0..c).map(|k| case.probs[case.at(j, k)]).collect();
    let w = |k: usize| p.weight.map_or(1.0, |w| f64::from(w[k]));
    let weights_ok = p
        .weight
        .is_none_or(|w| w.iter().all(|&v| moderate(f64::from(v), -8, 8)));
    let weights_positive = p.weight.is_none_or(|w| w.iter().all(|&v| v > 0.0));
    let probs = matches!(p.kind, Kind::Probs);
    let targets_signed_ok = !probs || t.iter().all(|&v| moderate(f64::from(v), -20, 4));
    let eps_ok = moderate(p.eps, -20, 0);
    let nan_in = x.iter().any(|v| v.is_nan()) || (probs && t.iter().any(|v| v.is_nan()));
    // A zero coefficient switches the sample off, NaN or not: the NaN rule
    // is checked where every coefficient is positive.
    let coefficients_positive = weights_ok
        && weights_positive
        && eps_ok
        && match p.kind {
            Kind::Probs => {
                t.iter()
                    .all(|&v| v.is_nan() || (moderate(f64::from(v), -20, 4) && v >= 0.0))
                    && (p.eps > 0.0 || t.iter().any(|&v| v.is_nan() || v > 0.0))
            }
            Kind::Index | Kind::Focal(_) => true,
        };
    // A sample whose logits are all −∞ has no softmax: value and gradient
    // NaN (documented, as in PyTorch).
    let all_neg_inf = x.iter().all(|&v| v == f32::NEG_INFINITY);
    if nan_in || all_neg_inf {
        return if coefficients_positive {
            Truth::Nan
        } else {
            Truth::Unchecked
        };
    }
    let logit_limit = match p.kind {
        Kind::Focal(_) => 100.0,
        _ => 2f64.powi(100),
    };
    let logits_ok = x
        .iter()
        .all(|&v| v.is_infinite() || f64::from(v).abs() <= logit_limit);
    if !(weights_ok && targets_signed_ok && eps_ok && logits_ok) {
        return Truth::Unchecked;
    }

    // Softmax with the kernels' limit conventions.
    let xd: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let m = xd.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let gap: Vec<f64> = xd
        .iter()
        .map(|&v| if v == m { 0.0 } else { m - v })
        .collect();
    let e: Vec<f64> = gap.iter().map(|&d| (-d).exp()).collect();
    let first_max = gap.iter().position(|&d| d == 0.0).unwrap_or(0);
    let sigma: f64 = e
        .iter()
        .enumerate()
        .filter(|&(k, _)| k != first_max)
        .map(|(_, &v)| v)
        .sum();
    let lsum = sigma.ln_1p();
    let prob: Vec<f64> = e.iter().map(|&v| v / (1.0 + sigma)).collect();
    let cf = c as f64;
    let sig_rel = (3.0 * cf + 24.0) * U;
    let sig_part = sig_rel * sigma / (1.0 + sigma);
    let l_err = 4.0 * U * lsum + sig_part;
    let p_rel: Vec<f64> = gap
        .iter()
        .map(|&d| {
            if d.is_finite() {
                U * (d + 5.0) + sig_part
            } else {
                0.0
            }
        })
        .collect();

    match p.kind {
        Kind::Index | Kind::Probs => {
            let keep = 1.0 - p.eps;
            let a: Vec<f64> = (0..c)
                .map(|k| match p.kind {
                    Kind::Probs => w(k) * (f64::from(t[k]) * keep + p.eps / cf),
                    _ => {
                        let onehot = if Some(k) == label { keep * w(k) } else { 0.0 };
                        onehot + p.eps / cf * w(k)
                    }
                })
                .collect();
            // |a_k| before cancellation: the f32 coefficient errs by a few
            // ulp of this (t·(1−ε) + ε/C cancels for negative targets).
            let a_mag: Vec<f64> = (0..c)
                .map(|k| match p.kind {
                    Kind::Probs => w(k).abs() * (f64::from(t[k]).abs() * keep + p.eps / cf),
                    _ => a[k].abs(),
                })
                .collect();
            let total: f64 = a.iter().sum();
            let abs_total: f64 = a_mag.iter().sum();
            let value =
                mul_or_zero(total, lsum) + (0..c).map(|k| mul_or_zero(a[k], gap[k])).sum::<f64>();
            let spread: f64 = (0..c).map(|k| mul_or_zero(a_mag[k], gap[k] + lsum)).sum();
            let per_term: f64 = (0..c)
                .map(|k| mul_or_zero(a_mag[k], 3.0 * U * gap[k] + l_err))
                .sum();
            let flush = abs_total * cf * 2f64.powi(-120);
            let value_tol =
                2.0 * (per_term + (cf + 4.0) * U * spread + 4.0 * U * value.abs()) + flush;
            let grad: Vec<f64> = (0..c).map(|k| mul_or_zero(total, prob[k]) - a[k]).collect();
            let grad_tol = (0..c)
                .map(|k| {
                    2.0 * (abs_total * prob[k] * (p_rel[k] + (cf + 4.0) * U)
                        + a_mag[k] * 3.0 * U
                        + U * grad[k].abs())
                        + abs_total * 2f64.powi(-120)
                })
                .collect();
            Truth::Ref(SampleRef {
                value,
                value_tol,
                grad,
                grad_tol,
            })
        }
        Kind::Focal(gamma) => {
            let y = label.unwrap_or(0);
            let wy = w(y);
            let d_y = gap[y];
            let ce = d_y + lsum;
            let p_y = prob[y];
            let q = if d_y == 0.0 {
                sigma / (1.0 + sigma)
            } else {
                1.0 - p_y
            };
            let q_rel = if d_y == 0.0 {
                sig_rel + 2.0 * U
            } else {
                2.0 * (p_y * p_rel[y] + U)
            };
            // The kernel's ln q: `ln(1 − p_y)` from p_y while p_y ≤ ½
            // (absolute error p_y·rel(p_y)/q ≤ 2·p_y·rel(p_y)), else ln of
            // q (absolute error rel(q)); near ½ the f32 p_y may fall on
            // either side, so both.
            let lnq_from_p = 2.0 * p_y * p_rel[y];
            let lnq_abs = if p_y < 0.499 {
                lnq_from_p
            } else if p_y > 0.501 {
                q_rel
            } else {
                lnq_from_p.max(q_rel)
            };
            // ln q in f64 without cancellation either: 1 − p_y rounds to 1
            // in f64 too once p_y < 2^-53, where γ·p_y may still matter.
            let ln_q = if d_y == 0.0 { q.ln() } else { (-p_y).ln_1p() };
            let qg = if gamma == 0.0 {
                1.0
            } else {
                (gamma * ln_q).exp()
            };
            let qg_rel = if gamma == 0.0 {
                0.0
            } else {
                gamma * lnq_abs + U * (4.0 + 4.0 * (gamma * ln_q).abs())
            };
            let ce_err = 3.0 * U * d_y + l_err + U * ce;
            let value = mul_or_zero(wy * qg, ce);
            let flush = wy.abs() * (1.0 + gamma) * 2f64.powi(-110);
            let value_tol =
                2.0 * (wy.abs() * qg * ce_err + value.abs() * (qg_rel + 3.0 * U)) + flush;
            let ratio = if q == 0.0 { 1.0 } else { ce / q };
            let ratio_rel = if ce > 0.0 { ce_err / ce } else { 0.0 } + q_rel + U;
            let bracket = 1.0 + gamma * mul_or_zero(p_y, ratio);
            let bracket_rel = p_rel[y] + ratio_rel + 3.0 * U;
            let g = wy * qg * bracket;
            let g_rel = qg_rel + bracket_rel + 2.0 * U;
            let grad: Vec<f64> = (0..c)
                .map(|k| {
                    let delta = if k == y { g } else { 0.0 };
                    mul_or_zero(g, prob[k]) - delta
                })
                .collect();
            let grad_tol = (0..c)
                .map(|k| {
                    let delta = if k == y { 1.0 } else { 0.0 };
                    2.0 * (g.abs() * prob[k] * (p_rel[k] + g_rel)
                        + delta * g.abs() * (g_rel + U)
                        + U * grad[k].abs())
                        + flush
                })
                .collect();
            Truth::Ref(SampleRef {
                value,
                value_tol,
                grad,
                grad_tol,
            })
        }
    }
}

/// The exact gradient factor of a call: `scale` (Sum) or `scale/den`
/// (Mean; 0 if `den` is 0).
fn exact_scale(red: Reduction, scale: f32, den: f64) -> f64 {
    match red {
        Reduction::Sum => f64::from(scale),
        // 0·scale: NaN for a NaN or infinite upstream scale.
        Reduction::Mean if den == 0.0 => f64::from(scale) * 0.0,
        Reduction::Mean => f64::from(scale) / den,
    }
}

fn check_grad(got: f32, g0: f64, d: f64, d_tol: f64, s: f64, what: &str) {
    let sd = s * d;
    // The kernel rounds s to f32 first: beyond 2^127 it may be infinite.
    let s_fits = s.is_finite() && s.abs() < 2f64.powi(127);
    if !(g0.is_finite() && s_fits && sd.abs() <= LIMIT && g0.abs() <= LIMIT) {
        return;
    }
    let want = g0 + sd;
    let tol =
        s.abs() * d_tol + GRAD_ROUNDINGS * (g0.abs() + sd.abs()) + (d.abs() + s.abs() + 1.0) * ABS;
    let err = (f64::from(got) - want).abs();
    assert!(
        err <= tol,
        "{what} = {got:e}, reference {want:e} (g0 {g0:e}, s {s:e}, d {d:e}); error {err:e} > bound {tol:e}"
    );
}

/// The checks on the scalar outputs: canonical order, ignore / NaN rules,
/// the f64 reference.
fn check_scalar(
    out: &Outputs,
    case: &Case,
    p: &Params<'_>,
    classes: &[Option<usize>],
    ignored: &[bool],
    den: f64,
    what: &str,
) {
    let (c, samples) = (case.c, case.samples());
    // Canonical order of the reduced value.
    let canon = canonical_sum(&out.per_sample, case.c, case.s);
    #[allow(clippy::cast_possible_truncation)]
    let canon32 = canon as f32;
    assert!(
        same(out.value[ri(Reduction::Sum)], canon32),
        "{what}: value(Sum) = {:e} is not the canonical sum of per_element {canon32:e}",
        out.value[ri(Reduction::Sum)]
    );
    let mean = out.value[ri(Reduction::Mean)];
    if den == 0.0 {
        if canon.is_finite() {
            assert!(
                mean == 0.0,
                "{what}: value(Mean) = {mean:e} with a zero denominator"
            );
        }
    } else {
        assert!(
            within_ulps(mean, canon / den, 1.0),
            "{what}: value(Mean) = {mean:e}, canonical sum / denominator = {:e}",
            canon / den
        );
    }
    // Accumulating adds exactly the overwritten gradient.
    for (i, ((&a, &o), &g0)) in out
        .acc_same
        .iter()
        .zip(&out.over)
        .zip(&case.grad0)
        .enumerate()
    {
        assert!(
            same(a, g0 + o),
            "{what}: accumulate[{i}] = {a:e} but g0 {g0:e} + overwrite {o:e} = {:e}",
            g0 + o
        );
    }
    let s_over = exact_scale(case.overwrite.0, case.overwrite.1, den);
    let s_acc = exact_scale(case.accumulate.0, case.accumulate.1, den);
    let small = |s: f64| s.is_finite() && s.abs() < 2f64.powi(120);
    let (mut total, mut total_abs, mut total_tol) = (0.0f64, 0.0f64, 0.0f64);
    let mut all_checked = true;
    let mut any_nan = false;
    for j in 0..samples {
        let v = out.per_sample[j];
        match reference(case, p, j, classes[j], ignored[j]) {
            Truth::Ignored => {
                assert!(
                    v == 0.0,
                    "{what}: per_element[{j}] = {v:e} for an ignored sample"
                );
                for k in 0..c {
                    let i = case.at(j, k);
                    if small(s_over) {
                        assert!(
                            out.over[i] == 0.0,
                            "{what}: grad[{i}] = {:e} (overwrite) for an ignored sample",
                            out.over[i]
                        );
                    }
                    if small(s_acc) {
                        let g0 = case.grad0[i];
                        assert!(
                            out.acc[i] == g0 || (g0.is_nan() && out.acc[i].is_nan()),
                            "{what}: grad[{i}] = {:e} (accumulate onto {g0:e}) for an ignored sample",
                            out.acc[i]
                        );
                    }
                }
            }
            Truth::Nan => {
                any_nan = true;
                all_checked = false;
                assert!(
                    v.is_nan(),
                    "{what}: per_element[{j}] = {v:e} for a sample with a NaN (or all −∞)"
                );
                for k in 0..c {
                    let i = case.at(j, k);
                    for (g, mode) in [(&out.over, "overwrite"), (&out.acc, "accumulate")] {
                        assert!(
                            g[i].is_nan(),
                            "{what}: grad[{i}] = {:e} ({mode}) for a sample with a NaN (or all −∞)",
                            g[i]
                        );
                    }
                }
            }
            Truth::Unchecked => all_checked = false,
            Truth::Ref(r) => {
                if r.value.is_infinite() {
                    all_checked = false;
                    assert!(
                        f64::from(v) == r.value,
                        "{what}: per_element[{j}] = {v:e}, reference {:e}",
                        r.value
                    );
                } else if r.value.abs() <= LIMIT && r.value_tol.is_finite() {
                    let err = (f64::from(v) - r.value).abs();
                    assert!(
                        err <= r.value_tol,
                        "{what}: per_element[{j}] = {v:e}, reference {:e}; error {err:e} > bound {:e}",
                        r.value,
                        r.value_tol
                    );
                    total += r.value;
                    total_abs += r.value.abs();
                    total_tol += r.value_tol;
                } else {
                    all_checked = false;
                }
                for k in 0..c {
                    let i = case.at(j, k);
                    let (d, tol) = (r.grad[k], r.grad_tol[k]);
                    if !(d.is_finite() && tol.is_finite()) {
                        continue;
                    }
                    check_grad(
                        out.over[i],
                        0.0,
                        d,
                        tol,
                        s_over,
                        &format!("{what}: grad[{i}] (overwrite, sample {j}, class {k})"),
                    );
                    check_grad(
                        out.acc[i],
                        f64::from(case.grad0[i]),
                        d,
                        tol,
                        s_acc,
                        &format!("{what}: grad[{i}] (accumulate, sample {j}, class {k})"),
                    );
                }
            }
        }
    }
    if any_nan {
        for r in REDUCTIONS {
            assert!(
                out.value[ri(r)].is_nan(),
                "{what}: value({r:?}) = {:e} with a NaN sample",
                out.value[ri(r)]
            );
        }
    }
    if all_checked && total_abs <= LIMIT {
        let sum_tol = total_tol + SUM_ROUNDINGS * total_abs + ABS;
        let got = f64::from(out.value[ri(Reduction::Sum)]);
        let err = (got - total).abs();
        assert!(
            err <= sum_tol,
            "{what}: value(Sum) = {got:e}, reference {total:e}; error {err:e} > bound {sum_tol:e}"
        );
        if den != 0.0 && den.is_finite() {
            let want = total / den;
            let tol = sum_tol / den.abs() + 2.0 * U * want.abs() + ABS;
            let got = f64::from(mean);
            let err = (got - want).abs();
            assert!(
                err <= tol,
                "{what}: value(Mean) = {got:e}, reference {want:e}; error {err:e} > bound {tol:e}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Error paths.

/// Runs every verb with the given slices; each must return one of
/// `allowed` (or succeed if it is empty) and, on error, write nothing.
#[allow(clippy::too_many_arguments)]
fn check_refusals<L: Loss>(
    loss: &L,
    case: &Case,
    x: &[f32],
    t: &[L::Elem],
    grad_len: usize,
    out_len: usize,
    allowed: &[LossError],
    what: &str,
) {
    let shape = case.shape();
    let [_, _, oo] = case.offsets;
    let judge = |res: Result<f32, LossError>, verb: &str| -> bool {
        match res {
            Ok(v) => {
                assert!(
                    allowed.is_empty(),
                    "{what}: {verb} accepted (returned {v:e}); expected one of {allowed:?}"
                );
                false
            }
            Err(e) => {
                assert!(
                    allowed.iter().any(|a| same_error(a, &e)),
                    "{what}: {verb} returned {e:?}; expected one of {allowed:?}"
                );
                true
            }
        }
    };
    for r in REDUCTIONS {
        judge(loss.value(x, shape, t, r), &format!("value({r:?})"));
    }
    for (accumulate, (red, scale), guard) in [
        (false, case.overwrite, case.tail_guard),
        (true, case.accumulate, !case.tail_guard),
    ] {
        let init = &case.grad0[..grad_len];
        let mut g = Guarded::new(init, oo, guard);
        let grad = if accumulate {
            Grad::accumulate(g.slice())
        } else {
            Grad::overwrite(g.slice())
        };
        let verb = format!("value_and_grad(accumulate {accumulate})");
        if judge(
            loss.value_and_grad(x, shape, t, red, grad.scaled(scale)),
            &verb,
        ) {
            g.assert_untouched(init, &format!("{what}: {verb}"));
        }
    }
    let init = &case.grad0[..out_len];
    let mut g = Guarded::new(init, oo, case.tail_guard);
    if judge(
        loss.per_element(x, shape, t, g.slice()).map(|()| 0.0),
        "per_element",
    ) {
        g.assert_untouched(init, &format!("{what}: per_element"));
    }
}

fn length_error(argument: &'static str, expected: usize, actual: usize) -> Option<LossError> {
    (expected != actual).then_some(LossError::LengthMismatch {
        argument,
        expected,
        actual,
    })
}

/// The first label that is neither a class nor ignored.
fn label_error(labels: &[i128], c: usize, ignore: i64) -> Option<LossError> {
    let classes = i128::try_from(c).unwrap_or(i128::MAX);
    labels
        .iter()
        .position(|&l| l != i128::from(ignore) && !(0..classes).contains(&l))
        .map(|index| LossError::InvalidLabel {
            argument: "target",
            index,
            label: labels[index],
            classes: c,
        })
}

// ---------------------------------------------------------------------------
// One loss, all checks.

/// Builds the loss with weights of `weight` (if weighted): `make(None)` /
/// `make(Some(w))`.
struct Checked<'a, L: Loss> {
    name: String,
    /// The loss with the valid weight.
    loss: L,
    /// The loss with the error-path weight (its own length selector).
    loss_err_weight: L,
    /// The valid target.
    target: Vec<L::Elem>,
    /// The error-path target (`max(valid, mismatched)` elements).
    target_long: Vec<L::Elem>,
    /// The target length a valid call needs.
    target_len: usize,
    params: Params<'a>,
    /// Per sample: the class, and whether ignored.
    classes: Vec<Option<usize>>,
    ignored: Vec<bool>,
    /// The Mean denominator.
    den: f64,
    /// The loss's own refusal of the valid-length call (an invalid label).
    loss_err: Option<LossError>,
}

fn check<L: Loss>(case: &Case, k: &Checked<'_, L>) {
    let name = &k.name;
    for isa in Isa::ALL {
        if !isa.is_available() {
            assert_eq!(
                k.loss.with_isa(isa).err(),
                Some(LossError::IsaUnavailable { isa }),
                "{name}: with_isa({isa}) on a CPU without it"
            );
        }
    }
    let on = |isa: Isa| {
        k.loss
            .with_isa(isa)
            .unwrap_or_else(|e| panic!("{name}: with_isa({isa}): {e}"))
    };
    let (len, samples) = (case.len(), case.samples());
    let [oi, ot, _] = case.offsets;
    if let Some(err) = k.loss_err {
        // Every verb refuses the valid-length call with exactly this error.
        let input = Placed::new(&case.logits[..len], oi);
        let target = PlacedT::new(&k.target, ot);
        for isa in Isa::available() {
            check_refusals(
                &on(isa),
                case,
                input.get(),
                target.get(),
                len,
                samples,
                &[err],
                &format!("{name} on {isa}"),
            );
        }
    } else {
        let scalar = compute(
            &on(Isa::Scalar),
            case,
            &k.target,
            &format!("{name} on scalar"),
        );
        for isa in Isa::available().filter(|&i| i != Isa::Scalar) {
            let what = format!("{name} on {isa}");
            let got = compute(&on(isa), case, &k.target, &what);
            assert_same_outputs(&got, &scalar, &what);
        }
        let what = format!("{name} on the default ISA");
        let got = compute(&k.loss, case, &k.target, &what);
        assert_same_outputs(&got, &scalar, &what);
        check_scalar(
            &scalar,
            case,
            &k.params,
            &k.classes,
            &k.ignored,
            k.den,
            &format!("{name} on scalar"),
        );
    }
    if case.mismatched() {
        let [si, st, sw, so] = case.selectors;
        let x_len = mismatch(len, si);
        let t_len = mismatch(k.target_len, st);
        let g_len = mismatch(len, so);
        let o_len = mismatch(samples, so);
        let input = Placed::new(&case.logits[..x_len], oi);
        let target = PlacedT::new(&k.target_long[..t_len], ot);
        let mut allowed: Vec<LossError> = Vec::new();
        allowed.extend(length_error("input", len, x_len));
        allowed.extend(length_error("target", k.target_len, t_len));
        if case.weighted {
            allowed.extend(length_error("weight", case.c, mismatch(case.c, sw)));
        }
        if t_len == k.target_len {
            allowed.extend(k.loss_err);
        }
        let grad_errors: Vec<LossError> = length_error("grad", len, g_len).into_iter().collect();
        let out_errors: Vec<LossError> = length_error("out", samples, o_len).into_iter().collect();
        for isa in Isa::available() {
            let l = k
                .loss_err_weight
                .with_isa(isa)
                .unwrap_or_else(|e| panic!("{name}: with_isa({isa}): {e}"));
            let what = format!(
                "{name} on {isa}, lengths input {x_len} target {t_len} grad {g_len} out {o_len}"
            );
            // value: only the input/target/weight/label errors apply.
            let shape = case.shape();
            for r in REDUCTIONS {
                let res = l.value(input.get(), shape, target.get(), r);
                judge_plain(res, &allowed, &format!("{what}: value({r:?})"));
            }
            let mut with_grad = allowed.clone();
            with_grad.extend(grad_errors.iter().copied());
            let mut with_out = allowed.clone();
            with_out.extend(out_errors.iter().copied());
            check_refusals_split(
                &l,
                case,
                input.get(),
                target.get(),
                g_len,
                o_len,
                &with_grad,
                &with_out,
                &what,
            );
        }
    }
}

fn judge_plain(res: Result<f32, LossError>, allowed: &[LossError], what: &str) {
    match res {
        Ok(v) => assert!(
            allowed.is_empty(),
            "{what}: accepted ({v:e}); expected one of {allowed:?}"
        ),
        Err(e) => assert!(
            allowed.iter().any(|a| same_error(a, &e)),
            "{what}: returned {e:?}; expected one of {allowed:?}"
        ),
    }
}

/// [`check_refusals`] for the gradient verbs and `per_element`, each with
/// its own allowed errors.
#[allow(clippy::too_many_arguments)]
fn check_refusals_split<L: Loss>(
    loss: &L,
    case: &Case,
    x: &[f32],
    t: &[L::Elem],
    grad_len: usize,
    out_len: usize,
    grad_allowed: &[LossError],
    out_allowed: &[LossError],
    what: &str,
) {
    let shape = case.shape();
    let [_, _, oo] = case.offsets;
    for (accumulate, (red, scale), guard) in [
        (false, case.overwrite, case.tail_guard),
        (true, case.accumulate, !case.tail_guard),
    ] {
        let init = &case.grad0[..grad_len];
        let mut g = Guarded::new(init, oo, guard);
        let grad = if accumulate {
            Grad::accumulate(g.slice())
        } else {
            Grad::overwrite(g.slice())
        };
        let verb = format!("{what}: value_and_grad(accumulate {accumulate})");
        let res = loss.value_and_grad(x, shape, t, red, grad.scaled(scale));
        let refused = res.is_err();
        judge_plain(res, grad_allowed, &verb);
        if refused {
            g.assert_untouched(init, &verb);
        }
    }
    let init = &case.grad0[..out_len];
    let mut g = Guarded::new(init, oo, case.tail_guard);
    let res = loss.per_element(x, shape, t, g.slice()).map(|()| 0.0);
    let refused = res.is_err();
    let verb = format!("{what}: per_element");
    judge_plain(res, out_allowed, &verb);
    if refused {
        g.assert_untouched(init, &verb);
    }
}

// ---------------------------------------------------------------------------
// Building the three losses of a case.

fn smoothing_ok(eps: f32) -> bool {
    (0.0..=1.0).contains(&eps)
}

fn gamma_ok(gamma: f32) -> bool {
    gamma.is_finite() && gamma >= 0.0
}

/// The losses with label type `T`.
fn run_index<T: FuzzLabel>(case: &Case) {
    let samples = case.samples();
    let weight = case.weight();
    let weight_err: Option<&[f32]> = case
        .weighted
        .then(|| &case.weight[..mismatch(case.c, case.selectors[2])]);
    let labels_t: Vec<T> = case.labels.iter().map(|&l| T::wrap(l)).collect();
    let classes_i: Vec<Option<usize>> = case.labels[..samples]
        .iter()
        .map(|&l| {
            if l == i128::from(case.ignore) {
                None
            } else {
                usize::try_from(l).ok().filter(|&c| c < case.c)
            }
        })
        .collect();
    let ignored: Vec<bool> = case.labels[..samples]
        .iter()
        .map(|&l| l == i128::from(case.ignore))
        .collect();
    let loss_err = label_error(&case.labels[..samples], case.c, case.ignore);
    let w_of = |k: usize| weight.map_or(1.0, |w| f64::from(w[k]));

    // Cross-entropy: smoothing as decoded if valid, else 0 after checking
    // the refusal.
    let ce = SoftmaxCrossEntropy::new().with_ignore_index(case.ignore);
    assert_eq!(ce.ignore_index(), case.ignore);
    let eps = match ce.with_label_smoothing(case.smoothing) {
        Ok(l) => {
            assert!(
                smoothing_ok(case.smoothing),
                "label_smoothing {:e} accepted",
                case.smoothing
            );
            assert_eq!(l.label_smoothing().to_bits(), case.smoothing.to_bits());
            case.smoothing
        }
        Err(e) => {
            assert!(
                !smoothing_ok(case.smoothing),
                "label_smoothing {:e} refused: {e}",
                case.smoothing
            );
            assert!(
                same_error(
                    &e,
                    &LossError::InvalidParameter {
                        argument: "label_smoothing",
                        value: case.smoothing,
                        requirement: ""
                    }
                ),
                "label_smoothing {:e}: {e:?}",
                case.smoothing
            );
            0.0
        }
    };
    let ce = ce
        .with_label_smoothing(eps)
        .unwrap_or_else(|e| panic!("label_smoothing {eps:e}: {e}"));
    fn with_w<'w>(l: SoftmaxCrossEntropy<'w>, w: Option<&'w [f32]>) -> SoftmaxCrossEntropy<'w> {
        match w {
            Some(w) => l.with_weight(w),
            None => l,
        }
    }
    let ce_valid = with_w(ce, weight);
    let ce_err_w = with_w(ce, weight_err);
    assert_eq!(
        ce_valid.weight().map(<[f32]>::len),
        weight.map(<[f32]>::len)
    );
    let den_ce: f64 = classes_i.iter().flatten().map(|&k| w_of(k)).sum();
    let k = Checked {
        name: format!(
            "softmax_ce(index {:?}, [{}, {}, {}], ε {eps:e}, ignore {}, weighted {})",
            case.label_type, case.n, case.c, case.s, case.ignore, case.weighted
        ),
        loss: CeIndex::<T>(ce_valid, core::marker::PhantomData),
        loss_err_weight: CeIndex::<T>(ce_err_w, core::marker::PhantomData),
        target: labels_t[..samples].to_vec(),
        target_long: labels_t.clone(),
        target_len: samples,
        params: Params {
            kind: Kind::Index,
            weight,
            eps: f64::from(eps),
        },
        classes: classes_i.clone(),
        ignored: ignored.clone(),
        den: den_ce,
        loss_err,
    };
    check(case, &k);

    // Focal.
    let gamma = match SoftmaxFocal::new(case.gamma) {
        Ok(f) => {
            assert!(gamma_ok(case.gamma), "gamma {:e} accepted", case.gamma);
            assert_eq!(f.gamma().to_bits(), case.gamma.to_bits());
            case.gamma
        }
        Err(e) => {
            assert!(!gamma_ok(case.gamma), "gamma {:e} refused: {e}", case.gamma);
            assert!(
                same_error(
                    &e,
                    &LossError::InvalidParameter {
                        argument: "gamma",
                        value: case.gamma,
                        requirement: ""
                    }
                ),
                "gamma {:e}: {e:?}",
                case.gamma
            );
            2.0
        }
    };
    let focal = SoftmaxFocal::new(gamma)
        .unwrap_or_else(|e| panic!("gamma {gamma:e}: {e}"))
        .with_ignore_index(case.ignore);
    assert_eq!(focal.ignore_index(), case.ignore);
    fn fw<'w>(l: SoftmaxFocal<'w>, w: Option<&'w [f32]>) -> SoftmaxFocal<'w> {
        match w {
            Some(w) => l.with_weight(w),
            None => l,
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let count = classes_i.iter().flatten().count() as f64;
    let k = Checked {
        name: format!(
            "softmax_focal(index {:?}, [{}, {}, {}], γ {gamma:e}, ignore {}, weighted {})",
            case.label_type, case.n, case.c, case.s, case.ignore, case.weighted
        ),
        loss: FocalIndex::<T>(fw(focal, weight), core::marker::PhantomData),
        loss_err_weight: FocalIndex::<T>(fw(focal, weight_err), core::marker::PhantomData),
        target: labels_t[..samples].to_vec(),
        target_long: labels_t,
        target_len: samples,
        params: Params {
            kind: Kind::Focal(f64::from(gamma)),
            weight,
            eps: 0.0,
        },
        classes: classes_i,
        ignored,
        den: count,
        loss_err,
    };
    check(case, &k);

    // Probability targets (the same smoothing and weights).
    let len = case.len();
    #[allow(clippy::cast_precision_loss)]
    let samples_f = samples as f64;
    let k = Checked {
        name: format!(
            "softmax_ce(probabilities, [{}, {}, {}], ε {eps:e}, weighted {})",
            case.n, case.c, case.s, case.weighted
        ),
        loss: CeProbs(ce_valid),
        loss_err_weight: CeProbs(ce_err_w),
        target: case.probs[..len].to_vec(),
        target_long: case.probs.clone(),
        target_len: len,
        params: Params {
            kind: Kind::Probs,
            weight,
            eps: f64::from(eps),
        },
        classes: vec![None; samples],
        ignored: vec![false; samples],
        den: samples_f,
        loss_err: None,
    };
    check(case, &k);
}

/// [`ClassShape::new`] on three probed extents: `Ok` with the right
/// getters exactly when every extent is valid and the product fits.
fn probe_shape(inp: &mut Input<'_>) {
    let pick = |inp: &mut Input<'_>| -> usize {
        match inp.u8() % 12 {
            0 => 0,
            1 => 1,
            2 => 2,
            3 => 64,
            4 => 1 << 24,
            5 => (1 << 24) + 1,
            6 => usize::MAX,
            7 => usize::MAX / 2,
            8 => 1 << 32,
            9 => 3 << 20,
            10 => usize::from(inp.u16()),
            _ => usize::try_from(inp.u64()).unwrap_or(usize::MAX),
        }
    };
    let (n, c, s) = (pick(inp), pick(inp), pick(inp));
    let mut allowed = Vec::new();
    let bad = |argument: &'static str, value: usize| LossError::InvalidShape {
        argument,
        value,
        requirement: "",
    };
    if n == 0 {
        allowed.push(bad("n", n));
    }
    if c == 0 || c > 1 << 24 {
        allowed.push(bad("c", c));
    }
    if s == 0 {
        allowed.push(bad("s", s));
    }
    let product = n.checked_mul(c).and_then(|nc| nc.checked_mul(s));
    if product.is_none() && n != 0 && c != 0 && s != 0 {
        allowed.push(bad("shape", s));
    }
    let same_shape_error = |a: &LossError, b: &LossError| match (a, b) {
        (
            LossError::InvalidShape {
                argument: a1,
                value: v1,
                ..
            },
            LossError::InvalidShape {
                argument: a2,
                value: v2,
                ..
            },
        ) => a1 == a2 && v1 == v2,
        _ => false,
    };
    match ClassShape::new(n, c, s) {
        Ok(sh) => {
            assert!(
                allowed.is_empty(),
                "ClassShape::new({n}, {c}, {s}) accepted; expected {allowed:?}"
            );
            assert_eq!(
                (
                    sh.batch(),
                    sh.classes(),
                    sh.spatial(),
                    sh.samples(),
                    sh.len(),
                    sh.is_empty()
                ),
                (n, c, s, n * s, n * c * s, false)
            );
            if s == 1 {
                assert_eq!(ClassShape::classifier(n, c), Ok(sh));
            }
        }
        Err(e) => assert!(
            allowed.iter().any(|a| same_shape_error(a, &e)),
            "ClassShape::new({n}, {c}, {s}) returned {e:?}; expected one of {allowed:?}"
        ),
    }
}

/// Decodes one case from `data` and checks both softmax losses on it.
pub fn fuzz_one(data: &[u8]) {
    let mut inp = Input::new(data);
    let case = decode(&mut inp);
    match case.label_type {
        LabelType::U8 => run_index::<u8>(&case),
        LabelType::U16 => run_index::<u16>(&case),
        LabelType::U32 => run_index::<u32>(&case),
        LabelType::U64 => run_index::<u64>(&case),
        LabelType::I32 => run_index::<i32>(&case),
        LabelType::I64 => run_index::<i64>(&case),
        LabelType::Usize => run_index::<usize>(&case),
    }
    probe_shape(&mut inp);
}
