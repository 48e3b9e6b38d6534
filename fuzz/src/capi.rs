//! The C ABI (`simdloss-capi`): its pointer and overlap checks, and that
//! it gives the Rust API's bits.
//!
//! Every buffer of a pointwise call (input, target, weight map, gradient
//! or per-element output, and `*loss`) is placed at a fuzzed offset inside
//! one arena of floats, so buffers overlap exactly when the fuzzer makes
//! them. After the call:
//! - a refused call changed no byte of the arena (nor the local `*loss`);
//! - `SIMDLOSS_ERROR_OVERLAP` only when an output really shares an element
//!   with another buffer, and never `SIMDLOSS_OK` when one does;
//! - a successful call changed nothing outside its output and `*loss`, and
//!   gave the bits the Rust API gives on copies of the same buffers;
//! - when the C-only arguments are valid (no overlap, a known reduction,
//!   an available ISA, a finite scale), C succeeds exactly when Rust does.

use simdloss::{
    BinaryCrossEntropy, BinaryCrossEntropyWithLogits, Grad, Huber, Isa, L1, LossError, Mse,
    PointwiseLoss, Reduction, SigmoidFocal, SmoothL1,
};
use simdloss_capi as c;

use crate::input::Input;

const ARENA: usize = 768;
const MAX_N: usize = 200;

/// What the fuzzer chose for one call.
#[derive(Debug)]
struct Call {
    loss: u8,
    verb: u8,
    n: usize,
    input: usize,
    target: usize,
    weight: Option<usize>,
    output: usize,
    /// `*loss` inside the arena at this index, or in a local.
    loss_at: Option<usize>,
    reduction: u32,
    isa: u32,
    scale: f32,
    accumulate: bool,
    p1: f32,
    p2: f32,
}

const VALUE: u8 = 0;
const VALUE_AND_GRAD: u8 = 1;
const PER_ELEMENT: u8 = 2;

fn place(input: &mut Input<'_>, n: usize) -> usize {
    usize::from(input.u16()) % (ARENA - n + 1)
}

fn read_call(input: &mut Input<'_>) -> Call {
    let n = usize::from(input.u16()) % (MAX_N + 1);
    let loss = input.u8() % 7;
    let verb = input.u8() % 3;
    let flags = input.u8();
    let call_input = place(input, n);
    let target = place(input, n);
    // Only BCE, BCE with logits and focal (losses 4..=6) take a weight map.
    let weight = (flags & 1 != 0 && loss >= 4).then(|| place(input, n));
    let output = place(input, n);
    let loss_at = (flags & 2 != 0).then(|| place(input, 1));
    // Mostly valid C-only arguments, sometimes not.
    let reduction = if flags & 4 != 0 {
        u32::from(input.u8())
    } else {
        u32::from(input.u8() % 2)
    };
    let isa = if flags & 8 != 0 {
        u32::from(input.u8()) % 8
    } else {
        0
    };
    let scale = match input.u8() % 6 {
        0 => 0.5,
        1 => -2.0,
        2 => 0.0,
        3 => input.float(),
        _ => 1.0,
    };
    Call {
        loss,
        verb,
        n,
        input: call_input,
        target,
        weight,
        output,
        loss_at,
        reduction,
        isa,
        scale,
        accumulate: flags & 16 != 0,
        p1: input.float(),
        p2: input.float(),
    }
}

/// One fuzz case: see the module docs.
pub fn fuzz_one(data: &[u8]) {
    let mut input = Input::new(data);
    let arena_before = input.stream(ARENA, None);
    let call = read_call(&mut input);
    let mut arena = arena_before.clone();
    let mut local_loss = f32::from_bits(0x7fc0_1234);
    let status = call_c(&call, &mut arena, &mut local_loss);
    let ok = status == c::simdloss_status::SIMDLOSS_OK;

    let writes = call.verb != VALUE;
    let range = |start: usize, len: usize| start..start + len;
    let reads = [Some(call.input), Some(call.target), call.weight];
    let output_overlaps = writes
        && reads
            .iter()
            .flatten()
            .any(|&r| overlaps(range(r, call.n), range(call.output, call.n)));
    let loss_overlaps = call.verb != PER_ELEMENT
        && call.loss_at.is_some_and(|l| {
            reads
                .iter()
                .flatten()
                .any(|&r| overlaps(range(r, call.n), range(l, 1)))
                || (writes && overlaps(range(call.output, call.n), range(l, 1)))
        });
    let overlap = output_overlaps || loss_overlaps;

    if status == c::simdloss_status::SIMDLOSS_ERROR_OVERLAP {
        assert!(overlap, "OVERLAP without an overlap");
    }
    if !ok {
        assert!(
            same_bits(&arena, &arena_before),
            "a refused call ({status:?}) wrote into the arena"
        );
        assert_eq!(
            local_loss.to_bits(),
            0x7fc0_1234,
            "a refused call wrote *loss"
        );
        if overlap || !c_only_arguments_valid(&call) {
            return;
        }
    }
    assert!(
        !(ok && overlap),
        "OK although an output overlaps another buffer: {call:?}"
    );
    if overlap {
        return;
    }

    // The Rust API on copies of the same buffers.
    let rust_input = arena_before[range(call.input, call.n)].to_vec();
    let rust_target = arena_before[range(call.target, call.n)].to_vec();
    let rust_weight = call.weight.map(|w| arena_before[range(w, call.n)].to_vec());
    let mut rust_out = arena_before[range(call.output, call.n)].to_vec();
    let rust = call_rust(
        &call,
        &rust_input,
        &rust_target,
        rust_weight.as_deref(),
        &mut rust_out,
    );
    match rust {
        Err(error) => {
            assert!(
                !ok || !c_only_arguments_valid(&call),
                "C succeeded where Rust refused: {error}"
            );
        }
        Ok(value) => {
            assert!(
                ok || !c_only_arguments_valid(&call),
                "C refused ({status:?}) a call Rust accepts"
            );
            if !ok {
                return;
            }
            let c_value = call.loss_at.map_or(local_loss, |l| arena[l]);
            if call.verb != PER_ELEMENT {
                assert!(same(c_value, value), "loss: C {c_value:e}, Rust {value:e}");
            }
            let mut expected = arena_before.clone();
            if writes {
                expected[range(call.output, call.n)].copy_from_slice(&rust_out);
            }
            if let (Some(l), true) = (call.loss_at, call.verb != PER_ELEMENT) {
                expected[l] = value;
            }
            assert!(
                same_bits(&arena, &expected),
                "the arena differs from the Rust API's result"
            );
        }
    }
}

pub(crate) fn overlaps(a: core::ops::Range<usize>, b: core::ops::Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Equal bits, or both NaN (payloads are unspecified).
pub(crate) fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

pub(crate) fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(*x, *y))
}

/// The arguments only C has are valid (the rest is the Rust API's to
/// judge): a known reduction, a known and available ISA, a finite scale.
fn c_only_arguments_valid(call: &Call) -> bool {
    call.reduction <= 1
        && rust_isa(call.isa).is_some_and(|isa| isa.is_none_or(Isa::is_available))
        && (call.verb != VALUE_AND_GRAD || call.scale.is_finite())
}

/// `None`: unknown; `Some(None)`: auto.
pub(crate) fn rust_isa(isa: u32) -> Option<Option<Isa>> {
    match isa {
        c::SIMDLOSS_ISA_AUTO => Some(None),
        c::SIMDLOSS_ISA_SCALAR => Some(Some(Isa::Scalar)),
        c::SIMDLOSS_ISA_WIDE => Some(Some(Isa::Wide)),
        c::SIMDLOSS_ISA_AVX2 => Some(Some(Isa::Avx2)),
        c::SIMDLOSS_ISA_AVX512 => Some(Some(Isa::Avx512)),
        c::SIMDLOSS_ISA_NEON => Some(Some(Isa::Neon)),
        _ => None,
    }
}

/// The C call, every buffer inside `arena`.
fn call_c(call: &Call, arena: &mut [f32], local_loss: &mut f32) -> c::simdloss_status {
    let base = arena.as_mut_ptr();
    let at = |i: usize| base.wrapping_add(i);
    let input = at(call.input).cast_const();
    let target = at(call.target).cast_const();
    let weight = call
        .weight
        .map_or(core::ptr::null(), |w| at(w).cast_const());
    let output = at(call.output);
    let loss = call.loss_at.map_or(core::ptr::from_mut(local_loss), at);
    let grad = c::simdloss_grad {
        data: output,
        scale: call.scale,
        accumulate: call.accumulate,
    };
    let (n, r, d) = (call.n, call.reduction, core::ptr::null_mut());
    let plain = c::simdloss_plain_options { isa: call.isa };
    let huber = c::simdloss_huber_options {
        delta: call.p1,
        isa: call.isa,
    };
    let smooth = c::simdloss_smooth_l1_options {
        beta: call.p1,
        isa: call.isa,
    };
    let bce = c::simdloss_bce_options {
        weight,
        isa: call.isa,
    };
    let bcel = c::simdloss_bce_with_logits_options {
        weight,
        pos_weight: call.p1,
        pos_weight_per_class: core::ptr::null(),
        num_classes: 0,
        isa: call.isa,
    };
    let focal = c::simdloss_sigmoid_focal_options {
        alpha: call.p1,
        gamma: call.p2,
        weight,
        isa: call.isa,
    };
    // SAFETY: every pointer is inside `arena` with its `n` elements in
    // bounds (or the local `*loss`, or NULL for no weight); overlaps are
    // what the call must detect.
    unsafe {
        macro_rules! verbs {
            ($value:ident, $grad:ident, $per:ident, $o:expr) => {
                match call.verb {
                    VALUE => c::$value($o, input, target, n, r, loss, d),
                    VALUE_AND_GRAD => c::$grad($o, input, target, n, r, grad, loss, d),
                    _ => c::$per($o, input, target, n, output, d),
                }
            };
        }
        match call.loss {
            0 => verbs!(
                simdloss_mse_value,
                simdloss_mse_value_and_grad,
                simdloss_mse_per_element,
                &plain
            ),
            1 => verbs!(
                simdloss_l1_value,
                simdloss_l1_value_and_grad,
                simdloss_l1_per_element,
                &plain
            ),
            2 => verbs!(
                simdloss_huber_value,
                simdloss_huber_value_and_grad,
                simdloss_huber_per_element,
                &huber
            ),
            3 => verbs!(
                simdloss_smooth_l1_value,
                simdloss_smooth_l1_value_and_grad,
                simdloss_smooth_l1_per_element,
                &smooth
            ),
            4 => verbs!(
                simdloss_bce_value,
                simdloss_bce_value_and_grad,
                simdloss_bce_per_element,
                &bce
            ),
            5 => verbs!(
                simdloss_bce_with_logits_value,
                simdloss_bce_with_logits_value_and_grad,
                simdloss_bce_with_logits_per_element,
                &bcel
            ),
            _ => verbs!(
                simdloss_sigmoid_focal_value,
                simdloss_sigmoid_focal_value_and_grad,
                simdloss_sigmoid_focal_per_element,
                &focal
            ),
        }
    }
}

/// The same call through the Rust API (its verb's value; 0 for
/// `per_element`).
fn call_rust(
    call: &Call,
    input: &[f32],
    target: &[f32],
    weight: Option<&[f32]>,
    out: &mut [f32],
) -> Result<f32, LossError> {
    fn run<L: PointwiseLoss>(
        loss: L,
        call: &Call,
        input: &[f32],
        target: &[f32],
        out: &mut [f32],
    ) -> Result<f32, LossError> {
        let loss = match rust_isa(call.isa).flatten() {
            Some(isa) => loss.with_isa(isa)?,
            None => loss,
        };
        let reduction = if call.reduction == 1 {
            Reduction::Sum
        } else {
            Reduction::Mean
        };
        match call.verb {
            VALUE => loss.value(input, target, reduction),
            VALUE_AND_GRAD => {
                let grad = if call.accumulate {
                    Grad::accumulate(out)
                } else {
                    Grad::overwrite(out)
                };
                loss.value_and_grad(input, target, reduction, grad.scaled(call.scale))
            }
            _ => loss.per_element(input, target, out).map(|()| 0.0),
        }
    }
    let (p1, p2) = (call.p1, call.p2);
    match call.loss {
        0 => run(Mse::new(), call, input, target, out),
        1 => run(L1::new(), call, input, target, out),
        2 => run(Huber::new(p1)?, call, input, target, out),
        3 => run(SmoothL1::new(p1)?, call, input, target, out),
        4 => {
            let loss = BinaryCrossEntropy::new();
            let loss = weight.map_or(loss, |w| loss.with_weight(w));
            run(loss, call, input, target, out)
        }
        5 => {
            let loss = BinaryCrossEntropyWithLogits::new();
            let loss = weight
                .map_or(loss, |w| loss.with_weight(w))
                .with_pos_weight(p1)?;
            run(loss, call, input, target, out)
        }
        _ => {
            let loss = SigmoidFocal::new(p1, p2)?;
            let loss = weight.map_or(loss, |w| loss.with_weight(w));
            run(loss, call, input, target, out)
        }
    }
}
