//! The generic checker for any [`PointwiseLoss`]: one call of
//! [`check_loss`] runs every verb on every ISA and checks the properties
//! listed in the crate docs. A new loss family needs only an f64
//! [`Reference`] (with its error bounds) and a target that builds cases.

use simdloss::{Grad, Isa, LossError, PointwiseLoss, Reduction};

use crate::input::Shape;

/// The f64 reference of one element and the documented error bounds of
/// the f32 kernel there (absolute, before any gradient scale).
#[derive(Clone, Copy, Debug)]
pub struct Expect {
    /// The element's loss value.
    pub value: f64,
    /// d value / d input.
    pub deriv: f64,
    /// `|per_element - value|` may be at most this.
    pub value_tol: f64,
    /// `|derivative - deriv|` may be at most this (the gradient check adds
    /// the roundings of the scale, the product and the accumulate add).
    pub deriv_tol: f64,
}

/// The exact f64 math of a loss, per element.
pub trait Reference {
    /// The expectation at element `i` = `(x, y)`, or `None` where the f32
    /// kernel is not expected to be accurate: a NaN or infinite argument,
    /// inputs outside the domain the bounds are documented for, or any
    /// intermediate of the kernel's f32 computation (including branches it
    /// evaluates and then discards) within a few binades of f32 overflow.
    /// Values and derivatives returned must be at most [`LIMIT`] in
    /// magnitude.
    fn eval(&self, i: usize, x: f64, y: f64) -> Option<Expect>;

    /// Whether element `i` has a NaN argument (so its value and derivative
    /// must be NaN). Losses with extra per-element streams (weights)
    /// extend this.
    fn nan_in(&self, _i: usize, x: f32, y: f32) -> bool {
        x.is_nan() || y.is_nan()
    }
}

/// Magnitude below which a reference value counts as "not near overflow":
/// 2^120, eight binades below `f32::MAX`, which leaves room for the
/// kernels' intermediates (e.g. `2r`) and for sums of up to 256 terms.
pub const LIMIT: f64 = 1.329_227_995_784_916e36; // 2^120

/// f32 unit roundoff.
pub const U: f64 = 5.960_464_477_539_063e-8; // 2^-24
/// Absolute slack per element for gradual underflow: every rounding into
/// the subnormal range loses at most 2^-150, a few such roundings per
/// element give well under 2^-148.
pub const ABS: f64 = 2.802_596_928_649_634e-45; // 2^-148

/// Roundings the driver adds to a derivative: the Mean scale `s/n`, the
/// product `d·s` and the accumulate add, relative to `|g0| + |s·d|`.
pub const GRAD_ROUNDINGS: f64 = 3.0 * U;
/// Roundings of the canonical sum relative to `Σ|v_i|`: at most 3 serial
/// and 6 tree f32 adds per element plus the final rounding to f32.
pub const SUM_ROUNDINGS: f64 = 10.0 * U;

/// Bits equal, or both NaN (NaN payloads are unspecified).
#[must_use]
pub fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// A slice placed `off` elements into a boxed allocation that ends exactly
/// where the slice ends, so AddressSanitizer flags any read past its end.
pub struct Placed {
    buf: Box<[f32]>,
    off: usize,
}

impl Placed {
    /// Places `data` after `off` sentinel elements.
    #[must_use]
    pub fn new(data: &[f32], off: usize) -> Self {
        let mut v = vec![f32::from_bits(SENTINEL); off];
        v.extend_from_slice(data);
        Self {
            buf: v.into_boxed_slice(),
            off,
        }
    }

    /// The placed slice.
    #[must_use]
    pub fn get(&self) -> &[f32] {
        &self.buf[self.off..]
    }
}

/// Bit pattern of the sentinel elements around output slices.
pub const SENTINEL: u32 = 0x7fa5_a5a5;
/// Sentinel elements before every output slice (and after it when the
/// shape asks for a tail guard).
pub const GUARD: usize = 19;

/// An output slice with sentinels before it and, optionally, after it.
pub struct Guarded {
    buf: Box<[f32]>,
    start: usize,
    len: usize,
}

impl Guarded {
    /// `init` placed after `GUARD + off` sentinels, followed by `GUARD`
    /// sentinels if `tail_guard`.
    #[must_use]
    pub fn new(init: &[f32], off: usize, tail_guard: bool) -> Self {
        let start = GUARD + off;
        let mut v = vec![f32::from_bits(SENTINEL); start];
        v.extend_from_slice(init);
        if tail_guard {
            v.extend(core::iter::repeat_n(f32::from_bits(SENTINEL), GUARD));
        }
        Self {
            buf: v.into_boxed_slice(),
            start,
            len: init.len(),
        }
    }

    /// The output slice.
    pub fn slice(&mut self) -> &mut [f32] {
        &mut self.buf[self.start..self.start + self.len]
    }

    /// The output slice's current contents.
    #[must_use]
    pub fn contents(&self) -> Vec<f32> {
        self.buf[self.start..self.start + self.len].to_vec()
    }

    /// Panics unless every sentinel still has its bits.
    pub fn assert_guards(&self, what: &str) {
        for (i, x) in self.buf.iter().enumerate() {
            if i >= self.start && i < self.start + self.len {
                continue;
            }
            assert_eq!(
                x.to_bits(),
                SENTINEL,
                "{what}: wrote element {i} outside the output slice [{}, {})",
                self.start,
                self.start + self.len
            );
        }
    }

    /// Panics unless the whole buffer, slice included, is bit-identical to
    /// `before` (nothing written on error).
    pub fn assert_untouched(&self, before: &[f32], what: &str) {
        self.assert_guards(what);
        let now = &self.buf[self.start..self.start + self.len];
        for (i, (a, b)) in now.iter().zip(before).enumerate() {
            assert_eq!(
                a.to_bits(),
                b.to_bits(),
                "{what}: returned Err but changed output element {i}"
            );
        }
    }
}

/// The data of one valid case (every slice `n` long) and the arguments
/// of the error-path calls.
pub struct Case {
    /// Lengths and placement.
    pub shape: Shape,
    /// `max(n, …)` input values: the valid calls use the first `n`.
    pub input: Vec<f32>,
    /// `max(n, target_len)` target values.
    pub target: Vec<f32>,
    /// `max(n, out_len)` initial gradient values (accumulate mode).
    pub grad0: Vec<f32>,
    /// Reduction and scale of the overwrite-mode call.
    pub overwrite: (Reduction, f32),
    /// Reduction and scale of the accumulate-mode call.
    pub accumulate: (Reduction, f32),
}

/// Everything one ISA computed for a case.
struct Outputs {
    value: [f32; 2],
    over_value: f32,
    over: Vec<f32>,
    acc_value: f32,
    acc: Vec<f32>,
    per_element: Vec<f32>,
}

const REDUCTIONS: [Reduction; 2] = [Reduction::Mean, Reduction::Sum];

fn red_index(r: Reduction) -> usize {
    usize::from(r == Reduction::Sum)
}

/// Runs every verb of `loss` (built by `make`) on `isa`, checking that no
/// output buffer is written outside its slice.
fn compute<L: PointwiseLoss>(loss: &L, case: &Case, what: &str) -> Outputs {
    let n = case.shape.n;
    let [oi, ot, oo] = case.shape.offsets;
    let tg = case.shape.tail_guard;
    let input = Placed::new(&case.input[..n], oi);
    let target = Placed::new(&case.target[..n], ot);
    let (x, y) = (input.get(), target.get());

    let mut value = [0.0f32; 2];
    for r in REDUCTIONS {
        value[red_index(r)] = loss
            .value(x, y, r)
            .unwrap_or_else(|e| panic!("{what}: value({r:?}) failed: {e}"));
    }

    let mut over = Guarded::new(&case.grad0[..n], oo, tg);
    let (red, scale) = case.overwrite;
    let over_value = loss
        .value_and_grad(x, y, red, Grad::overwrite(over.slice()).scaled(scale))
        .unwrap_or_else(|e| panic!("{what}: value_and_grad(overwrite) failed: {e}"));
    over.assert_guards(&format!("{what}: value_and_grad(overwrite)"));

    let mut acc = Guarded::new(&case.grad0[..n], oo, !tg);
    let (red_a, scale_a) = case.accumulate;
    let acc_value = loss
        .value_and_grad(x, y, red_a, Grad::accumulate(acc.slice()).scaled(scale_a))
        .unwrap_or_else(|e| panic!("{what}: value_and_grad(accumulate) failed: {e}"));
    acc.assert_guards(&format!("{what}: value_and_grad(accumulate)"));

    let mut pe = Guarded::new(&case.grad0[..n], oo, tg);
    loss.per_element(x, y, pe.slice())
        .unwrap_or_else(|e| panic!("{what}: per_element failed: {e}"));
    pe.assert_guards(&format!("{what}: per_element"));

    // The fused call's value is the plain value, bit for bit.
    assert!(
        same(over_value, value[red_index(red)]),
        "{what}: value_and_grad(overwrite, {red:?}) = {over_value:e} but value = {:e}",
        value[red_index(red)]
    );
    assert!(
        same(acc_value, value[red_index(red_a)]),
        "{what}: value_and_grad(accumulate, {red_a:?}) = {acc_value:e} but value = {:e}",
        value[red_index(red_a)]
    );

    Outputs {
        value,
        over_value,
        over: over.contents(),
        acc_value,
        acc: acc.contents(),
        per_element: pe.contents(),
    }
}

fn assert_same_slice(a: &[f32], b: &[f32], what: &str, case: &Case) {
    for (i, (p, q)) in a.iter().zip(b).enumerate() {
        assert!(
            same(*p, *q),
            "{what}: element {i} is {p:e} ({:#010x}) on this ISA, {q:e} ({:#010x}) on scalar \
             (input {:e}, target {:e})",
            p.to_bits(),
            q.to_bits(),
            case.input[i],
            case.target[i],
        );
    }
}

fn assert_same_outputs(got: &Outputs, scalar: &Outputs, what: &str, case: &Case) {
    for r in REDUCTIONS {
        let (p, q) = (got.value[red_index(r)], scalar.value[red_index(r)]);
        assert!(
            same(p, q),
            "{what}: value({r:?}) = {p:e} ({:#010x}), scalar {q:e} ({:#010x})",
            p.to_bits(),
            q.to_bits()
        );
    }
    assert!(
        same(got.over_value, scalar.over_value),
        "{what}: fused value (overwrite)"
    );
    assert!(
        same(got.acc_value, scalar.acc_value),
        "{what}: fused value (accumulate)"
    );
    assert_same_slice(
        &got.over,
        &scalar.over,
        &format!("{what}: grad (overwrite)"),
        case,
    );
    assert_same_slice(
        &got.acc,
        &scalar.acc,
        &format!("{what}: grad (accumulate)"),
        case,
    );
    assert_same_slice(
        &got.per_element,
        &scalar.per_element,
        &format!("{what}: per_element"),
        case,
    );
}

/// The factor `s` the derivative is multiplied by, in exact arithmetic.
fn exact_scale(red: Reduction, scale: f32, n: usize) -> f64 {
    match red {
        Reduction::Sum => f64::from(scale),
        #[allow(clippy::cast_precision_loss)]
        Reduction::Mean => f64::from(scale) / n as f64,
    }
}

fn check_grad(got: f32, g0: f64, e: &Expect, s: f64, what: &str, i: usize, (x, y): (f32, f32)) {
    let d = e.deriv;
    let sd = s * d;
    if !(g0.is_finite() && s.is_finite() && sd.abs() <= LIMIT && g0.abs() <= LIMIT) {
        return;
    }
    let want = g0 + sd;
    // The derivative's own error times |s|, the driver's roundings, and
    // underflow: `d` and `s` are each rounded to f32 before their product
    // and either can underflow (2^-150, then multiplied by the other).
    let tol = s.abs() * e.deriv_tol
        + GRAD_ROUNDINGS * (g0.abs() + sd.abs())
        + (d.abs() + s.abs() + 1.0) * ABS;
    let err = (f64::from(got) - want).abs();
    assert!(
        err <= tol,
        "{what}: grad[{i}] = {got:e}, reference {want:e} (g0 {g0:e}, s {s:e}, d {d:e}); \
         error {err:e} > bound {tol:e} (input {x:e}, target {y:e})"
    );
}

/// Checks the scalar outputs against the f64 reference and the NaN rules.
fn check_reference<R: Reference>(out: &Outputs, case: &Case, reference: &R, what: &str) {
    let n = case.shape.n;
    let (red_o, scale_o) = case.overwrite;
    let (red_a, scale_a) = case.accumulate;
    let s_over = exact_scale(red_o, scale_o, n);
    let s_acc = exact_scale(red_a, scale_a, n);
    let (mut total, mut total_abs, mut total_tol) = (0.0f64, 0.0f64, 0.0f64);
    let mut all_in_range = true;
    let mut any_nan = false;
    for i in 0..n {
        let (x, y) = (case.input[i], case.target[i]);
        if reference.nan_in(i, x, y) {
            // NaN in gives NaN out: value, derivative, and so the gradient.
            any_nan = true;
            all_in_range = false;
            assert!(
                out.per_element[i].is_nan(),
                "{what}: per_element[{i}] not NaN for NaN input"
            );
            assert!(
                out.over[i].is_nan(),
                "{what}: grad[{i}] (overwrite) not NaN for NaN input"
            );
            assert!(
                out.acc[i].is_nan(),
                "{what}: grad[{i}] (accumulate) not NaN for NaN input"
            );
            continue;
        }
        let Some(e) = reference.eval(i, f64::from(x), f64::from(y)) else {
            all_in_range = false;
            continue;
        };
        total += e.value;
        total_abs += e.value.abs();
        total_tol += e.value_tol + ABS;
        let got = f64::from(out.per_element[i]);
        let tol = e.value_tol + ABS;
        let err = (got - e.value).abs();
        assert!(
            err <= tol,
            "{what}: per_element[{i}] = {got:e}, reference {:e}; error {err:e} > bound {tol:e} \
             (input {x:e}, target {y:e})",
            e.value
        );
        check_grad(
            out.over[i],
            0.0,
            &e,
            s_over,
            &format!("{what}: overwrite"),
            i,
            (x, y),
        );
        check_grad(
            out.acc[i],
            f64::from(case.grad0[i]),
            &e,
            s_acc,
            &format!("{what}: accumulate"),
            i,
            (x, y),
        );
    }
    if n > 0 && any_nan {
        for r in REDUCTIONS {
            assert!(
                out.value[red_index(r)].is_nan(),
                "{what}: value({r:?}) not NaN with a NaN input"
            );
        }
    }
    if n > 0 && all_in_range && total_abs <= LIMIT {
        for r in REDUCTIONS {
            #[allow(clippy::cast_precision_loss)]
            let div = match r {
                Reduction::Sum => 1.0,
                Reduction::Mean => n as f64,
            };
            let want = total / div;
            let got = f64::from(out.value[red_index(r)]);
            let tol = (total_tol + SUM_ROUNDINGS * total_abs) / div + ABS;
            let err = (got - want).abs();
            assert!(
                err <= tol,
                "{what}: value({r:?}) = {got:e}, reference {want:e}; error {err:e} > bound {tol:e} (n = {n})"
            );
        }
    }
}

/// Equal errors, comparing `f32` fields by bits and ignoring the
/// human-readable `requirement` texts.
#[must_use]
pub fn same_error(a: &LossError, b: &LossError) -> bool {
    match (a, b) {
        (
            LossError::InvalidParameter {
                argument: a1,
                value: v1,
                ..
            },
            LossError::InvalidParameter {
                argument: a2,
                value: v2,
                ..
            },
        ) => a1 == a2 && v1.to_bits() == v2.to_bits(),
        (
            LossError::OutOfRange {
                argument: a1,
                index: i1,
                value: v1,
                ..
            },
            LossError::OutOfRange {
                argument: a2,
                index: i2,
                value: v2,
                ..
            },
        ) => a1 == a2 && i1 == i2 && v1.to_bits() == v2.to_bits(),
        _ => a == b,
    }
}

/// Checks that a call with the given lengths is refused with an error that
/// names a wrong argument correctly; with right lengths, that it returns
/// `loss_err` (the loss's own check of the valid-length call) or `Ok`.
fn check_refusal<T: core::fmt::Debug>(
    res: Result<T, LossError>,
    n: usize,
    target_len: usize,
    out: Option<(&'static str, usize)>,
    loss_err: Option<&LossError>,
    what: &str,
) -> bool {
    let mut allowed: Vec<LossError> = Vec::new();
    if n == 0 {
        allowed.push(LossError::Empty { argument: "input" });
    }
    if target_len != n {
        allowed.push(LossError::LengthMismatch {
            argument: "target",
            expected: n,
            actual: target_len,
        });
    }
    if let Some((argument, len)) = out
        && len != n
    {
        allowed.push(LossError::LengthMismatch {
            argument,
            expected: n,
            actual: len,
        });
    }
    if allowed.is_empty()
        && let Some(e) = loss_err
    {
        allowed.push(*e);
    }
    match res {
        Ok(_) => {
            assert!(
                allowed.is_empty(),
                "{what}: accepted; expected one of {allowed:?}"
            );
            false
        }
        Err(e) => {
            assert!(
                allowed.iter().any(|a| same_error(a, &e)),
                "{what}: returned {e:?}; expected one of {allowed:?}"
            );
            true
        }
    }
}

/// The error paths: mismatched / empty lengths give the right `Err` on
/// every verb, and the output buffer (slice and guards) is untouched.
/// With `loss_err`, the same holds for the valid-length calls.
fn check_errors<L: PointwiseLoss>(loss: &L, case: &Case, loss_err: Option<&LossError>, what: &str) {
    let s = &case.shape;
    let (n, tl, ol) = if s.mismatched() {
        (s.n, s.target_len, s.out_len)
    } else if loss_err.is_some() {
        (s.n, s.n, s.n)
    } else {
        (0, 0, 0)
    };
    let [oi, ot, oo] = s.offsets;
    let input = Placed::new(&case.input[..n], oi);
    let target = Placed::new(&case.target[..tl], ot);
    let (x, y) = (input.get(), target.get());
    for r in REDUCTIONS {
        check_refusal(
            loss.value(x, y, r),
            n,
            tl,
            None,
            loss_err,
            &format!("{what}: value"),
        );
    }
    let init = &case.grad0[..ol];
    let mut g = Guarded::new(init, oo, s.tail_guard);
    let refused = check_refusal(
        loss.value_and_grad(
            x,
            y,
            case.overwrite.0,
            Grad::overwrite(g.slice()).scaled(case.overwrite.1),
        ),
        n,
        tl,
        Some(("grad", ol)),
        loss_err,
        &format!("{what}: value_and_grad(overwrite)"),
    );
    if refused {
        g.assert_untouched(init, &format!("{what}: value_and_grad(overwrite)"));
    }
    let mut g = Guarded::new(init, oo, !s.tail_guard);
    let refused = check_refusal(
        loss.value_and_grad(
            x,
            y,
            case.accumulate.0,
            Grad::accumulate(g.slice()).scaled(case.accumulate.1),
        ),
        n,
        tl,
        Some(("grad", ol)),
        loss_err,
        &format!("{what}: value_and_grad(accumulate)"),
    );
    if refused {
        g.assert_untouched(init, &format!("{what}: value_and_grad(accumulate)"));
    }
    let mut g = Guarded::new(init, oo, s.tail_guard);
    let refused = check_refusal(
        loss.per_element(x, y, g.slice()),
        n,
        tl,
        Some(("out", ol)),
        loss_err,
        &format!("{what}: per_element"),
    );
    if refused {
        g.assert_untouched(init, &format!("{what}: per_element"));
    }
}

/// Runs `loss` on every ISA this CPU has and checks:
/// - no panic, and no write outside the output slices (sentinels; ASan for
///   reads and writes past an allocation);
/// - every ISA bit-identical to [`Isa::Scalar`] (NaN == NaN) in every verb
///   and mode, and the fused value equal to the plain value;
/// - the scalar outputs against `reference` within its bounds where it is
///   defined, NaN out wherever NaN went in;
/// - the error paths (wrong lengths, empty input) on every ISA, and, if
///   `loss_err` is given (the loss's own refusal of this case: a weight of
///   the wrong length, an out-of-range input, …), that every verb returns
///   exactly it and writes nothing;
/// - `with_isa` refusing ISAs this CPU lacks.
pub fn check_loss<L: PointwiseLoss + Copy, R: Reference>(
    name: &str,
    loss: L,
    reference: &R,
    case: &Case,
    loss_err: Option<LossError>,
) {
    for isa in Isa::ALL {
        if !isa.is_available() {
            assert_eq!(
                loss.with_isa(isa).err(),
                Some(LossError::IsaUnavailable { isa }),
                "{name}: with_isa({isa}) on a CPU without it"
            );
        }
    }
    let scalar_loss = loss
        .with_isa(Isa::Scalar)
        .unwrap_or_else(|e| panic!("{name}: with_isa(scalar): {e}"));
    if case.shape.n > 0 && loss_err.is_none() {
        let scalar = compute(&scalar_loss, case, &format!("{name} on scalar"));
        for isa in Isa::available().filter(|&i| i != Isa::Scalar) {
            let on = loss
                .with_isa(isa)
                .unwrap_or_else(|e| panic!("{name}: with_isa({isa}): {e}"));
            let what = format!("{name} on {isa}");
            let got = compute(&on, case, &what);
            assert_same_outputs(&got, &scalar, &what, case);
        }
        // The ISA picked by default is one of those above.
        let got = compute(&loss, case, &format!("{name} on the default ISA"));
        assert_same_outputs(&got, &scalar, &format!("{name} on the default ISA"), case);
        check_reference(&scalar, case, reference, &format!("{name} on scalar"));
    }
    for isa in Isa::available() {
        let on = loss
            .with_isa(isa)
            .unwrap_or_else(|e| panic!("{name}: with_isa({isa}): {e}"));
        check_errors(&on, case, loss_err.as_ref(), &format!("{name} on {isa}"));
    }
}
