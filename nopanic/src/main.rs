//! No-panic link test for `simdloss`.
//!
//! A freestanding binary (its own `_start`, no std, no runtime) that calls
//! every verb of every loss on every ISA with inputs the optimizer cannot
//! see (`black_box`). Its panic handler calls a function that exists
//! nowhere: if any panic path (a bounds check, an `unwrap`, an overflow
//! check, …) survives optimization, the binary references that symbol and
//! the link fails with "undefined symbol:
//! simdloss_nopanic_a_panic_path_survived_optimization".
//!
//! Built in release (`panic = "abort"`, fat LTO) by `.ci/run` for
//! `thumbv7em-none-eabihf`, `x86_64-unknown-none` and, with
//! `-C link-arg=-nostartfiles`, `x86_64-unknown-linux-gnu` (the target
//! where the AVX2 / AVX-512 paths and the CPUID detection are compiled).
//!
//! The class-axis losses ([`SoftmaxCrossEntropy`], [`SoftmaxFocal`]) run
//! on two opaque shapes, one for each kernel (a classifier with at least
//! `ROW_KERNEL_MIN_CLASSES` classes: the row kernel; a segmentation map:
//! the tile kernel), with `u8` and `i64` labels and probability targets.
//! The Dice family ([`Dice`] and its Jaccard form, [`Tversky`],
//! [`GeneralizedDice`]) runs every activation with and without its options
//! on a one-channel (binary) and a multi-class opaque shape, with the same
//! label types and probability targets.

#![no_std]
#![no_main]

use core::hint::black_box;

use simdloss::loss::softmax::ROW_KERNEL_MIN_CLASSES;
use simdloss::{
    Activation, BinaryCrossEntropy, BinaryCrossEntropyWithLogits, ClassAxisLoss, ClassShape, Dice,
    GeneralizedDice, Grad, Huber, Isa, L1, Label, Mse, PointwiseLoss, Probabilities, Reduction,
    SigmoidFocal, SmoothL1, SoftmaxCrossEntropy, SoftmaxFocal, Tversky,
};

/// Every verb of `loss`, on every ISA and on the default one, with opaque
/// slices, reductions and scales.
#[inline(never)]
fn exercise<L: PointwiseLoss + Copy>(loss: L, input: &[f32], target: &[f32], grad: &mut [f32]) {
    for isa in Isa::ALL {
        let Ok(on) = loss.with_isa(black_box(isa)) else {
            continue;
        };
        verbs(on, input, target, grad);
    }
    verbs(loss, input, target, grad);
    black_box(loss.isa());
}

#[inline(never)]
fn verbs<L: PointwiseLoss>(loss: L, input: &[f32], target: &[f32], grad: &mut [f32]) {
    let input = black_box(input);
    let target = black_box(target);
    let reduction = black_box(Reduction::Mean);
    let _ = black_box(loss.value(input, target, reduction));
    let _ = black_box(loss.value(input, target, black_box(Reduction::Sum)));
    let g = black_box(&mut *grad);
    let _ = black_box(loss.value_and_grad(input, target, reduction, Grad::overwrite(g)));
    let g = black_box(&mut *grad);
    let scale = black_box(0.5f32);
    let _ =
        black_box(loss.value_and_grad(input, target, reduction, Grad::accumulate(g).scaled(scale)));
    let g = black_box(&mut *grad);
    let _ = black_box(loss.per_element(input, target, g));
}

/// The opaque buffers of the class-axis losses.
struct ClassBuffers<'a> {
    logits: &'a [f32],
    probs: &'a [f32],
    weight: &'a [f32],
    grad: &'a mut [f32],
    out: &'a mut [f32],
}

/// Every verb of `ce` with index labels `labels`, probability targets, and
/// of `focal` with `labels`, on `shape`.
#[inline(never)]
fn class_verbs<T: Label>(
    ce: SoftmaxCrossEntropy<'_>,
    focal: SoftmaxFocal<'_>,
    shape: ClassShape,
    labels: &[T],
    b: &mut ClassBuffers<'_>,
) {
    let x = black_box(b.logits);
    let labels = black_box(labels);
    let probs = Probabilities(black_box(b.probs));
    let mean = black_box(Reduction::Mean);
    let sum = black_box(Reduction::Sum);
    let scale = black_box(0.5f32);
    let _ = black_box(ce.value(x, shape, labels, mean));
    let _ = black_box(ce.value(x, shape, labels, sum));
    let _ = black_box(ce.value(x, shape, probs, mean));
    let g = black_box(&mut *b.grad);
    let _ = black_box(ce.value_and_grad(x, shape, labels, mean, Grad::overwrite(g)));
    let g = black_box(&mut *b.grad);
    let _ = black_box(ce.value_and_grad(x, shape, labels, sum, Grad::accumulate(g).scaled(scale)));
    let g = black_box(&mut *b.grad);
    let _ = black_box(ce.value_and_grad(x, shape, probs, mean, Grad::overwrite(g)));
    let g = black_box(&mut *b.grad);
    let _ = black_box(ce.value_and_grad(x, shape, probs, sum, Grad::accumulate(g).scaled(scale)));
    let _ = black_box(ce.per_element(x, shape, labels, black_box(&mut *b.out)));
    let _ = black_box(ce.per_element(x, shape, probs, black_box(&mut *b.out)));
    let _ = black_box(focal.value(x, shape, labels, mean));
    let _ = black_box(focal.value(x, shape, labels, sum));
    let g = black_box(&mut *b.grad);
    let _ = black_box(focal.value_and_grad(x, shape, labels, mean, Grad::overwrite(g)));
    let g = black_box(&mut *b.grad);
    let _ =
        black_box(focal.value_and_grad(x, shape, labels, sum, Grad::accumulate(g).scaled(scale)));
    let _ = black_box(focal.per_element(x, shape, labels, black_box(&mut *b.out)));
}

/// The class-axis losses with and without options, on every ISA and the
/// default one, on `shape`.
#[inline(never)]
fn class_losses(shape: ClassShape, labels8: &[u8], labels64: &[i64], b: &mut ClassBuffers<'_>) {
    black_box((
        shape.batch(),
        shape.classes(),
        shape.spatial(),
        shape.samples(),
        shape.len(),
        shape.is_empty(),
    ));
    let weight = black_box(b.weight);
    let plain = SoftmaxCrossEntropy::new();
    let Ok(smoothed) = plain
        .with_weight(weight)
        .with_ignore_index(black_box(255))
        .with_label_smoothing(black_box(0.1))
    else {
        return;
    };
    black_box((
        smoothed.weight(),
        smoothed.ignore_index(),
        smoothed.label_smoothing(),
        smoothed.isa(),
    ));
    let Ok(focal) = SoftmaxFocal::new(black_box(2.0)) else {
        return;
    };
    let focal_w = focal.with_weight(weight).with_ignore_index(black_box(255));
    black_box((
        focal_w.gamma(),
        focal_w.weight(),
        focal_w.ignore_index(),
        focal_w.isa(),
    ));
    for isa in Isa::ALL {
        let isa = black_box(isa);
        if let (Ok(ce), Ok(f)) = (smoothed.with_isa(isa), focal_w.with_isa(isa)) {
            class_verbs(ce, f, shape, labels8, b);
            class_verbs(ce, f, shape, labels64, b);
        }
        if let (Ok(ce), Ok(f)) = (plain.with_isa(isa), focal.with_isa(isa)) {
            class_verbs(ce, f, shape, labels8, b);
        }
    }
    class_verbs(SoftmaxCrossEntropy::default(), focal, shape, labels64, b);
}

/// Every verb of a Dice-family `loss` with index labels `labels` and with
/// probability targets, on `shape`.
#[inline(never)]
fn dice_verbs<L: ClassAxisLoss, T: Label>(
    loss: L,
    shape: ClassShape,
    labels: &[T],
    b: &mut ClassBuffers<'_>,
) {
    let x = black_box(b.logits);
    let labels = black_box(labels);
    let probs = Probabilities(black_box(b.probs));
    let mean = black_box(Reduction::Mean);
    let sum = black_box(Reduction::Sum);
    let scale = black_box(0.5f32);
    let _ = black_box(loss.value(x, shape, labels, mean));
    let _ = black_box(loss.value(x, shape, labels, sum));
    let _ = black_box(loss.value(x, shape, probs, mean));
    let g = black_box(&mut *b.grad);
    let _ = black_box(loss.value_and_grad(x, shape, labels, mean, Grad::overwrite(g)));
    let g = black_box(&mut *b.grad);
    let _ =
        black_box(loss.value_and_grad(x, shape, labels, sum, Grad::accumulate(g).scaled(scale)));
    let g = black_box(&mut *b.grad);
    let _ = black_box(loss.value_and_grad(x, shape, probs, mean, Grad::overwrite(g)));
    let g = black_box(&mut *b.grad);
    let _ = black_box(loss.value_and_grad(x, shape, probs, sum, Grad::accumulate(g).scaled(scale)));
    let _ = black_box(loss.per_element(x, shape, labels, black_box(&mut *b.out)));
    let _ = black_box(loss.per_element(x, shape, probs, black_box(&mut *b.out)));
    black_box(loss.isa());
}

/// The Dice family with every activation, with and without options, on
/// every ISA and the default one, on `shape`.
#[inline(never)]
fn dice_losses(shape: ClassShape, labels8: &[u8], labels64: &[i64], b: &mut ClassBuffers<'_>) {
    let weight = black_box(b.weight);
    for activation in [Activation::Sigmoid, Activation::Softmax, Activation::None] {
        let activation = black_box(activation);
        let dice = Dice::new(activation);
        let Ok(jaccard) = dice
            .with_jaccard(black_box(true))
            .with_squared_pred(black_box(true))
            .with_include_background(black_box(false))
            .with_batch(black_box(true))
            .with_ignore_index(black_box(255))
            .with_weight(weight)
            .with_smooth(black_box(0.5), black_box(1.0))
        else {
            return;
        };
        black_box((
            jaccard.jaccard(),
            jaccard.activation(),
            jaccard.squared_pred(),
            jaccard.include_background(),
            jaccard.batch(),
            jaccard.smooth(),
            jaccard.ignore_index(),
            jaccard.weight(),
            jaccard.isa(),
        ));
        let Ok(tversky) = Tversky::new(activation, black_box(0.3), black_box(0.7)) else {
            return;
        };
        let tversky_w = tversky
            .with_weight(weight)
            .with_ignore_index(black_box(255));
        black_box((tversky_w.alpha_beta(), tversky_w.weight()));
        let generalized = GeneralizedDice::new(activation);
        let Ok(generalized_o) = generalized
            .with_batch(black_box(true))
            .with_squared_pred(black_box(true))
            .with_include_background(black_box(false))
            .with_ignore_index(black_box(255))
            .with_smooth(black_box(0.0), black_box(1e-5))
        else {
            return;
        };
        black_box((generalized_o.batch(), generalized_o.smooth()));
        for isa in Isa::ALL {
            let isa = black_box(isa);
            if let (Ok(d), Ok(j)) = (dice.with_isa(isa), jaccard.with_isa(isa)) {
                dice_verbs(d, shape, labels8, b);
                dice_verbs(j, shape, labels64, b);
            }
            if let (Ok(t), Ok(tw)) = (tversky.with_isa(isa), tversky_w.with_isa(isa)) {
                dice_verbs(t, shape, labels64, b);
                dice_verbs(tw, shape, labels8, b);
            }
            if let (Ok(g), Ok(go)) = (generalized.with_isa(isa), generalized_o.with_isa(isa)) {
                dice_verbs(g, shape, labels8, b);
                dice_verbs(go, shape, labels64, b);
            }
        }
        dice_verbs(dice, shape, labels64, b);
        dice_verbs(tversky, shape, labels8, b);
        dice_verbs(generalized, shape, labels64, b);
    }
}

fn run() {
    let mut x = [0.0f32; 300];
    let mut y = [0.0f32; 300];
    let mut g = [0.0f32; 300];
    black_box(&mut x);
    black_box(&mut y);
    black_box(&mut g);
    // Opaque slices: the optimizer knows neither their lengths nor their
    // contents, so every length check and tail path must stay panic-free
    // on its own.
    let input: &[f32] = black_box(&x[..]);
    let target: &[f32] = black_box(&y[..]);
    let grad: &mut [f32] = black_box(&mut g[..]);

    exercise(Mse::new(), input, target, grad);
    exercise(L1::new(), input, target, grad);
    if let Ok(h) = Huber::new(black_box(1.0)) {
        black_box(h.delta());
        exercise(h, input, target, grad);
    }
    if let Ok(s) = SmoothL1::new(black_box(0.5)) {
        black_box(s.beta());
        exercise(s, input, target, grad);
    }
    if let Ok(s) = SmoothL1::new(black_box(0.0)) {
        exercise(s, input, target, grad);
    }

    // Binary losses: unweighted, with a weight map, scalar and per-class
    // pos_weight (periodic stream), focal with opaque α and γ.
    let mut w = [0.0f32; 300];
    let mut pw = [0.0f32; 7];
    black_box(&mut w);
    black_box(&mut pw);
    let weight: &[f32] = black_box(&w[..]);
    let pos_weight: &[f32] = black_box(&pw[..]);
    exercise(BinaryCrossEntropy::new(), input, target, grad);
    let bce = BinaryCrossEntropy::new().with_weight(weight);
    black_box(bce.weight());
    exercise(bce, input, target, grad);
    exercise(BinaryCrossEntropyWithLogits::new(), input, target, grad);
    exercise(
        BinaryCrossEntropyWithLogits::new().with_weight(weight),
        input,
        target,
        grad,
    );
    if let Ok(l) = BinaryCrossEntropyWithLogits::new().with_pos_weight(black_box(3.0)) {
        black_box((l.pos_weight(), l.pos_weight_per_class()));
        exercise(l, input, target, grad);
    }
    if let Ok(l) = BinaryCrossEntropyWithLogits::new()
        .with_weight(weight)
        .with_pos_weight_per_class(pos_weight)
    {
        exercise(l, input, target, grad);
    }
    if let Ok(f) = SigmoidFocal::new(black_box(0.25), black_box(2.0)) {
        black_box((f.alpha(), f.gamma(), f.weight()));
        exercise(f, input, target, grad);
        exercise(f.with_weight(weight), input, target, grad);
    }
    exercise(SigmoidFocal::default(), input, target, grad);

    // Class-axis losses: a row-kernel shape and a tile-kernel shape, both
    // opaque, over opaque buffers.
    let mut logits = [0.0f32; 320];
    let mut probs = [0.0f32; 320];
    let mut class_w = [0.0f32; 64];
    let mut class_g = [0.0f32; 320];
    let mut out = [0.0f32; 64];
    let mut labels8 = [0u8; 64];
    let mut labels64 = [0i64; 64];
    black_box(&mut logits);
    black_box(&mut probs);
    black_box(&mut class_w);
    black_box(&mut class_g);
    black_box(&mut out);
    black_box(&mut labels8);
    black_box(&mut labels64);
    let labels8: &[u8] = black_box(&labels8[..]);
    let labels64: &[i64] = black_box(&labels64[..]);
    let mut b = ClassBuffers {
        logits: black_box(&logits[..]),
        probs: black_box(&probs[..]),
        weight: black_box(&class_w[..]),
        grad: black_box(&mut class_g[..]),
        out: black_box(&mut out[..]),
    };
    let row = ClassShape::classifier(black_box(4), black_box(ROW_KERNEL_MIN_CLASSES + 16));
    let tile = ClassShape::new(black_box(2), black_box(5), black_box(30));
    for shape in [row, tile].into_iter().flatten() {
        class_losses(shape, labels8, labels64, &mut b);
    }
    // The Dice family: a binary map (one channel, labels the 0/1 mask) and
    // a multi-class one, both opaque.
    let binary = ClassShape::new(black_box(2), black_box(1), black_box(30));
    let multi = ClassShape::new(black_box(2), black_box(5), black_box(30));
    for shape in [binary, multi].into_iter().flatten() {
        dice_losses(shape, labels8, labels64, &mut b);
    }

    black_box(Isa::best());
    for isa in Isa::available() {
        black_box(isa.name());
    }
    #[cfg(target_arch = "x86_64")]
    {
        black_box(simdloss::dispatch::cpuid::detect());
        black_box(simdloss::dispatch::cpuid::detect_uncached());
    }
}

/// The entry point the linker starts from (and keeps everything reachable
/// from it).
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    run();
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    unsafe extern "C" {
        // Defined nowhere: referencing it fails the link.
        fn simdloss_nopanic_a_panic_path_survived_optimization() -> !;
    }
    // SAFETY: never executed in a binary that links; the call exists only
    // to make a surviving panic path visible to the linker.
    unsafe { simdloss_nopanic_a_panic_path_survived_optimization() }
}
