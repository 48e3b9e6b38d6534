//! The C ABI's class-axis functions (softmax cross-entropy, softmax focal,
//! Dice + CE): the same properties as [`crate::capi`] checks for the
//! pointwise ones. The logits, the target (`int32_t` labels stored as bit
//! patterns in the arena, or probabilities), the class weights, the
//! gradient or per-sample output and `*loss` all sit at fuzzed offsets in
//! one arena of floats, so they overlap exactly when the fuzzer makes them.

use simdloss::{
    ClassAxisLoss, ClassShape, DiceCrossEntropy, Grad, LossError, Probabilities, Reduction,
    SoftmaxCrossEntropy, SoftmaxFocal,
};
use simdloss_capi as c;

use crate::capi::{overlaps, rust_isa, same, same_bits};
use crate::input::Input;

const ARENA: usize = 1200;
const IGNORE: i32 = -100;

const VALUE: u8 = 0;
const VALUE_AND_GRAD: u8 = 1;
const PER_ELEMENT: u8 = 2;

/// What the fuzzer chose for one call.
#[derive(Debug)]
struct Call {
    /// 0: softmax cross-entropy, 1: softmax focal, 2: Dice + CE.
    loss: u8,
    verb: u8,
    shape: (usize, usize, usize),
    input: usize,
    labels: bool,
    target: usize,
    target_len: usize,
    weight: Option<(usize, usize)>,
    output: usize,
    output_len: usize,
    loss_at: Option<usize>,
    reduction: u32,
    isa: u32,
    scale: f32,
    accumulate: bool,
    param: f32,
}

impl Call {
    fn len(&self) -> usize {
        let (n, c, s) = self.shape;
        n * c * s
    }
}

fn read_call(input: &mut Input<'_>, arena: &mut [f32]) -> Call {
    let (n, c, s) = (
        1 + usize::from(input.u8() % 4),
        1 + usize::from(input.u8() % 8),
        1 + usize::from(input.u8() % 16),
    );
    let len = n * c * s;
    let loss = input.u8() % 3;
    // Dice + CE has no per-element form.
    let verb = input.u8() % if loss == 2 { 2 } else { 3 };
    let flags = input.u16();
    let mut place = |len: usize| usize::from(input.u16()) % (ARENA - len + 1);
    let call_input = place(len);
    let labels = flags & 1 == 0 || loss == 1; // focal takes labels only
    let bad_len = usize::from(flags & 2 != 0);
    let target_len = if labels { n * s } else { len } + bad_len;
    let target = place(target_len);
    let weight = (flags & 4 != 0).then(|| {
        let weight_len = c + usize::from(flags & 8 != 0);
        (place(weight_len), weight_len)
    });
    let output_len = if verb == PER_ELEMENT {
        n * s + usize::from(flags & 16 != 0)
    } else {
        len
    };
    let output = place(output_len);
    let loss_at = (flags & 32 != 0).then(|| place(1));
    let reduction = if flags & 64 != 0 {
        u32::from(input.u8())
    } else {
        u32::from(input.u8() % 2)
    };
    let isa = if flags & 128 != 0 {
        u32::from(input.u8()) % 8
    } else {
        0
    };
    let scale = if flags & 256 != 0 { input.float() } else { 0.5 };
    let param = match input.u8() % 5 {
        0 => 0.1,
        1 => 2.0,
        2 => 0.5,
        3 => input.float(),
        _ => 0.0,
    };
    if labels {
        for k in 0..target_len {
            let label = match input.u8() {
                0..=7 => IGNORE,
                b => i32::from(b) % (c as i32 + 1 + i32::from(flags & 512 != 0)),
            };
            arena[target + k] = f32::from_bits(label.cast_unsigned());
        }
    }
    Call {
        loss,
        verb,
        shape: (n, c, s),
        input: call_input,
        labels,
        target,
        target_len,
        weight,
        output,
        output_len,
        loss_at,
        reduction,
        isa,
        scale,
        accumulate: flags & 1024 != 0,
        param,
    }
}

/// One fuzz case: see the module docs and [`crate::capi`].
pub fn fuzz_one(data: &[u8]) {
    let mut input = Input::new(data);
    let mut arena_before = input.stream(ARENA, None);
    let call = read_call(&mut input, &mut arena_before);
    let mut arena = arena_before.clone();
    let mut local_loss = f32::from_bits(0x7fc0_1234);
    let status = call_c(&call, &mut arena, &mut local_loss);
    let ok = status == c::simdloss_status::SIMDLOSS_OK;

    let range = |start: usize, len: usize| start..start + len;
    let writes = call.verb != VALUE;
    let reads = [
        Some(range(call.input, call.len())),
        Some(range(call.target, call.target_len)),
        call.weight.map(|(w, len)| range(w, len)),
    ];
    let out = range(call.output, call.output_len);
    let output_overlaps = writes
        && reads
            .iter()
            .flatten()
            .any(|r| overlaps(r.clone(), out.clone()));
    let loss_overlaps = call.verb != PER_ELEMENT
        && call.loss_at.is_some_and(|l| {
            reads
                .iter()
                .flatten()
                .any(|r| overlaps(r.clone(), range(l, 1)))
                || (writes && overlaps(out.clone(), range(l, 1)))
        });
    let overlap = output_overlaps || loss_overlaps;
    let c_only_valid = call.reduction <= 1
        && rust_isa(call.isa).is_some_and(|isa| isa.is_none_or(simdloss::Isa::is_available))
        && (call.verb != VALUE_AND_GRAD || call.scale.is_finite());

    if status == c::simdloss_status::SIMDLOSS_ERROR_OVERLAP {
        assert!(overlap, "OVERLAP without an overlap: {call:?}");
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
        if overlap || !c_only_valid {
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

    let rust_input = arena_before[range(call.input, call.len())].to_vec();
    let rust_target = arena_before[range(call.target, call.target_len)].to_vec();
    let rust_weight = call
        .weight
        .map(|(w, len)| arena_before[range(w, len)].to_vec());
    let mut rust_out = arena_before[out.clone()].to_vec();
    let rust = call_rust(
        &call,
        &rust_input,
        &rust_target,
        rust_weight.as_deref(),
        &mut rust_out,
    );
    match rust {
        Err(error) => assert!(
            !ok || !c_only_valid,
            "C succeeded where Rust refused: {error}"
        ),
        Ok(value) => {
            assert!(
                ok || !c_only_valid,
                "C refused ({status:?}) a call Rust accepts: {call:?}"
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
                expected[out].copy_from_slice(&rust_out);
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

/// The C call, every buffer inside `arena`.
fn call_c(call: &Call, arena: &mut [f32], local_loss: &mut f32) -> c::simdloss_status {
    let base = arena.as_mut_ptr();
    let at = |i: usize| base.wrapping_add(i);
    let input = at(call.input).cast_const();
    let (n, cl, s) = call.shape;
    let shape = c::simdloss_shape { n, c: cl, s };
    let target = c::simdloss_target {
        kind: if call.labels {
            c::SIMDLOSS_TARGET_I32
        } else {
            c::SIMDLOSS_TARGET_PROBABILITIES
        },
        data: at(call.target).cast_const().cast(),
        len: call.target_len,
    };
    let (weight, weight_len) = call
        .weight
        .map_or((core::ptr::null(), 0), |(w, len)| (at(w).cast_const(), len));
    let output = at(call.output);
    let loss = call.loss_at.map_or(core::ptr::from_mut(local_loss), at);
    let grad = c::simdloss_grad {
        data: output,
        scale: call.scale,
        accumulate: call.accumulate,
    };
    let (r, d) = (call.reduction, core::ptr::null_mut());
    let mut ce = c::simdloss_softmax_cross_entropy_options_default();
    (ce.weight, ce.weight_len, ce.label_smoothing, ce.isa) =
        (weight, weight_len, call.param, call.isa);
    let mut focal = c::simdloss_softmax_focal_options_default();
    (focal.weight, focal.weight_len, focal.gamma, focal.isa) =
        (weight, weight_len, call.param, call.isa);
    let mut dce = c::simdloss_dice_cross_entropy_options_default();
    (dce.weight, dce.weight_len, dce.label_smoothing, dce.isa) =
        (weight, weight_len, call.param, call.isa);
    // SAFETY: every pointer is inside `arena` with its elements in bounds
    // (or the local `*loss`, or NULL for no weight); overlaps are what the
    // call must detect.
    unsafe {
        match (call.loss, call.verb) {
            (0, VALUE) => {
                c::simdloss_softmax_cross_entropy_value(&ce, input, shape, target, r, loss, d)
            }
            (0, VALUE_AND_GRAD) => c::simdloss_softmax_cross_entropy_value_and_grad(
                &ce, input, shape, target, r, grad, loss, d,
            ),
            (0, _) => c::simdloss_softmax_cross_entropy_per_element(
                &ce,
                input,
                shape,
                target,
                output,
                call.output_len,
                d,
            ),
            (1, VALUE) => c::simdloss_softmax_focal_value(&focal, input, shape, target, r, loss, d),
            (1, VALUE_AND_GRAD) => c::simdloss_softmax_focal_value_and_grad(
                &focal, input, shape, target, r, grad, loss, d,
            ),
            (1, _) => c::simdloss_softmax_focal_per_element(
                &focal,
                input,
                shape,
                target,
                output,
                call.output_len,
                d,
            ),
            (_, VALUE) => {
                c::simdloss_dice_cross_entropy_value(&dce, input, shape, target, r, loss, d)
            }
            _ => c::simdloss_dice_cross_entropy_value_and_grad(
                &dce, input, shape, target, r, grad, loss, d,
            ),
        }
    }
}

/// The same call through the Rust API (its value; 0 for `per_element`).
fn call_rust(
    call: &Call,
    input: &[f32],
    target: &[f32],
    weight: Option<&[f32]>,
    out: &mut [f32],
) -> Result<f32, LossError> {
    fn run<L: ClassAxisLoss>(
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
        let (n, c, s) = call.shape;
        let shape = ClassShape::new(n, c, s)?;
        let reduction = if call.reduction == 1 {
            Reduction::Sum
        } else {
            Reduction::Mean
        };
        let labels: Vec<i32> = target.iter().map(|t| t.to_bits().cast_signed()).collect();
        macro_rules! verb {
            ($target:expr) => {
                match call.verb {
                    VALUE => loss.value(input, shape, $target, reduction),
                    VALUE_AND_GRAD => {
                        let grad = if call.accumulate {
                            Grad::accumulate(out)
                        } else {
                            Grad::overwrite(out)
                        };
                        loss.value_and_grad(
                            input,
                            shape,
                            $target,
                            reduction,
                            grad.scaled(call.scale),
                        )
                    }
                    _ => loss.per_element(input, shape, $target, out).map(|()| 0.0),
                }
            };
        }
        if call.labels {
            verb!(labels.as_slice())
        } else {
            verb!(Probabilities(target))
        }
    }
    match call.loss {
        0 => {
            let loss = SoftmaxCrossEntropy::new().with_label_smoothing(call.param)?;
            run(
                weight.map_or(loss, |w| loss.with_weight(w)),
                call,
                input,
                target,
                out,
            )
        }
        1 => {
            let loss = SoftmaxFocal::new(call.param)?;
            run(
                weight.map_or(loss, |w| loss.with_weight(w)),
                call,
                input,
                target,
                out,
            )
        }
        _ => {
            let loss = DiceCrossEntropy::new().with_label_smoothing(call.param)?;
            run(
                weight.map_or(loss, |w| loss.with_weight(w)),
                call,
                input,
                target,
                out,
            )
        }
    }
}
