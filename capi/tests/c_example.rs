//! The Rust side of `examples/logistic_regression.c`: the same data, model
//! and steps through the Rust API, whose first losses must be the ones in
//! `examples/logistic_regression.expected`, bit for bit. The C program
//! checks its own losses against the same file, so C and Rust agree.
//!
//! `SIMDLOSS_BLESS=1 cargo test -p simdloss-capi --test c_example`
//! rewrites the file (only ever needed if the example changes).

use simdloss::{BinaryCrossEntropyWithLogits, Grad, PointwiseLoss, Reduction};

const SAMPLES: usize = 512;
const FEATURES: usize = 5;
const CHECKED_STEPS: usize = 20;
const LEARNING_RATE: f32 = 2.0;

/// The C program's LCG and data, operation for operation.
fn make_data() -> (Vec<[f32; FEATURES]>, Vec<f32>) {
    let mut state: u32 = 12345;
    let mut uniform = || {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        #[allow(clippy::cast_precision_loss)]
        let k = ((state >> 8) & 0xFFFF) as f32;
        k / 32768.0 - 1.0
    };
    let mut features = Vec::with_capacity(SAMPLES);
    let mut labels = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let x = uniform();
        let y = uniform();
        features.push([x, y, x * x, y * y, x * y]);
        labels.push(if x * x + y * y < 0.5 { 1.0 } else { 0.0 });
    }
    (features, labels)
}

/// The first `steps` losses of the C program's training loop.
fn train(steps: usize) -> Vec<f32> {
    let (features, labels) = make_data();
    let loss_fn = BinaryCrossEntropyWithLogits::new();
    let mut weights = [0.0f32; FEATURES];
    let mut bias = 0.0f32;
    let mut logits = vec![0.0f32; SAMPLES];
    let mut grad = vec![0.0f32; SAMPLES];
    let mut losses = Vec::with_capacity(steps);
    for _ in 0..steps {
        for (z, f) in logits.iter_mut().zip(&features) {
            *z = bias;
            for (w, x) in weights.iter().zip(f) {
                let product = w * x;
                *z += product;
            }
        }
        let loss = loss_fn
            .value_and_grad(
                &logits,
                &labels,
                Reduction::Mean,
                Grad::overwrite(&mut grad),
            )
            .expect("a valid call");
        losses.push(loss);
        for (j, w) in weights.iter_mut().enumerate() {
            let mut sum = 0.0f32;
            for (g, f) in grad.iter().zip(&features) {
                let product = g * f[j];
                sum += product;
            }
            let update = LEARNING_RATE * sum;
            *w -= update;
        }
        let mut bias_sum = 0.0f32;
        for g in &grad {
            bias_sum += g;
        }
        let bias_update = LEARNING_RATE * bias_sum;
        bias -= bias_update;
    }
    losses
}

#[test]
fn rust_api_gives_the_c_examples_expected_losses() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/logistic_regression.expected"
    );
    let text: String = train(CHECKED_STEPS)
        .iter()
        .enumerate()
        .map(|(step, loss)| {
            format!(
                "step {step:3} loss {loss:.9} bits 0x{:08x}\n",
                loss.to_bits()
            )
        })
        .collect();
    if std::env::var_os("SIMDLOSS_BLESS").is_some() {
        std::fs::write(path, &text).expect("write the expected file");
    }
    let expected = std::fs::read_to_string(path).expect("read the expected file");
    assert_eq!(text, expected, "the Rust API's losses differ from {path}");
}

#[test]
fn the_example_converges() {
    let losses = train(300);
    assert!(
        losses[299] < 0.25 * losses[0],
        "{} -> {}",
        losses[0],
        losses[299]
    );
}
