//! Focused tests of the pointwise driver's slicing, tail and accumulate
//! code and of the dispatch logic, small enough to run under miri
//! (`cargo +nightly miri test --test miri`, see `.ci/run`).
//!
//! Every available ISA is compared bit for bit against a plain
//! loop that repeats each kernel's f32 operations and the canonical
//! summation order (DESIGN.md §2.3), for every length `0..=130` (empty,
//! sub-register, one chunk ± 1, two chunks + tail) and at several element
//! offsets, with sentinels around every output slice.
//!
//! Under miri, `Isa::available()` reports what the build's target features
//! say: `Scalar` and `Wide` in a default build. `.ci/run` runs a second
//! miri pass built with `-C target-cpu=x86-64-v3`, where it also reports
//! `Avx2` and [`isas`] keeps only that one (the pulp AVX2 path: miri
//! implements its intrinsics). AVX-512 is not run under miri: miri does not
//! implement `llvm.x86.avx512.mask.cmp.ps.512` (the compare into a mask
//! register). NEON is covered natively under qemu, not under miri.

use simdloss::{
    BinaryCrossEntropy, BinaryCrossEntropyWithLogits, Grad, Huber, Isa, L1, LossError, Mse,
    PointwiseLoss, Reduction, SigmoidFocal, SmoothL1,
};

/// One loss with the plain-loop copy of its per-element f32 math.
trait Case: PointwiseLoss + Copy {
    /// `(value, derivative)` by the kernel's own operation sequence.
    fn plain(&self, x: f32, y: f32) -> (f32, f32);
}

impl Case for Mse {
    fn plain(&self, x: f32, y: f32) -> (f32, f32) {
        let r = x - y;
        (r * r, r + r)
    }
}

impl Case for L1 {
    fn plain(&self, x: f32, y: f32) -> (f32, f32) {
        let r = x - y;
        let sign = if r > 0.0 {
            1.0
        } else if r < 0.0 {
            -1.0
        } else {
            r
        };
        (r.abs(), sign)
    }
}

impl Case for Huber {
    fn plain(&self, x: f32, y: f32) -> (f32, f32) {
        let d = self.delta();
        let r = x - y;
        let a = r.abs();
        let value = if a <= d {
            0.5 * r * r
        } else {
            d * (a - 0.5 * d)
        };
        let deriv = if r > d {
            d
        } else if r < -d {
            -d
        } else {
            r
        };
        (value, deriv)
    }
}

impl Case for SmoothL1 {
    // The kernel's compare-and-select chain, spelled out (same result as
    // f32::clamp, NaN included).
    #[allow(clippy::manual_clamp)]
    fn plain(&self, x: f32, y: f32) -> (f32, f32) {
        let b = self.beta();
        if b == 0.0 {
            return L1::new().plain(x, y);
        }
        let r = x - y;
        let a = r.abs();
        let q = r / b;
        let value = if a < b { 0.5 * q * r } else { a - 0.5 * b };
        let deriv = if q > 1.0 {
            1.0
        } else if q < -1.0 {
            -1.0
        } else {
            q
        };
        (value, deriv)
    }
}

/// The canonical sum: lane `i % 64` in f32, each 256-element block folded
/// by the pairwise tree (32, 16, …, 1), block partials summed exactly and
/// rounded once to f64.
fn canonical_sum(values: &[f32]) -> f64 {
    let mut total = simdloss::simd::exact_sum::ExactSum::new();
    for block in values.chunks(256) {
        let mut lanes = [0.0f32; 64];
        for (i, v) in block.iter().enumerate() {
            lanes[i % 64] += *v;
        }
        let mut half = 32;
        while half > 0 {
            for k in 0..half {
                lanes[k] += lanes[k + half];
            }
            half /= 2;
        }
        total.add(lanes[0]);
    }
    total.to_f64()
}

#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
fn reduce(sum: f64, n: usize, reduction: Reduction) -> f32 {
    match reduction {
        Reduction::Sum => sum as f32,
        Reduction::Mean => (sum / n as f64) as f32,
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
fn grad_scale(scale: f32, n: usize, reduction: Reduction) -> f32 {
    match reduction {
        Reduction::Sum => scale,
        Reduction::Mean => (f64::from(scale) / n as f64) as f32,
    }
}

/// The ISAs to check: every available one, except in the miri pass built
/// for x86-64-v3, which checks only AVX2 (the default miri pass already
/// covered scalar and wide).
fn isas() -> Vec<Isa> {
    let avx2_pass = cfg!(all(miri, target_feature = "avx2"));
    Isa::available()
        .filter(|&i| !avx2_pass || i == Isa::Avx2)
        .collect()
}

fn same(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn assert_same(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(same(*g, *w), "{what}: element {i}: got {g:e}, want {w:e}");
    }
}

/// Deterministic test data: mostly small values, with ±0, a subnormal,
/// ±inf, NaN and large values sprinkled in.
fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            match s % 23 {
                0 => 0.0,
                1 => -0.0,
                2 => 1.0e-40,
                3 if seed.is_multiple_of(3) => f32::INFINITY,
                4 if seed.is_multiple_of(5) => f32::NAN,
                5 => -3.0e30,
                #[allow(clippy::cast_precision_loss)]
                _ => ((s >> 40) as f32 / (1u64 << 22) as f32) - 2.0,
            }
        })
        .collect()
}

const SENTINEL: u32 = 0x7fa5_a5a5;
const GUARD: usize = 5;

/// `len` values placed `off` elements into a buffer with `GUARD`
/// sentinels on both sides.
fn guarded(init: &[f32], off: usize) -> Vec<f32> {
    let mut v = vec![f32::from_bits(SENTINEL); GUARD + off];
    v.extend_from_slice(init);
    v.extend(std::iter::repeat_n(f32::from_bits(SENTINEL), GUARD));
    v
}

fn assert_guards(buf: &[f32], off: usize, len: usize, what: &str) {
    for (i, x) in buf.iter().enumerate() {
        let inside = i >= GUARD + off && i < GUARD + off + len;
        if !inside {
            assert_eq!(
                x.to_bits(),
                SENTINEL,
                "{what}: wrote outside the slice at {i}"
            );
        }
    }
}

/// Every verb of `loss` on `isa` for one length and offset triple,
/// against the plain loop.
fn check_case<C: Case>(loss: C, isa: Isa, n: usize, offs: [usize; 3], seed: u64, what: &str) {
    let loss = loss.with_isa(isa).expect("available ISA");
    let what = format!("{what} on {isa}, n = {n}, offsets {offs:?}");
    let xs_buf = [vec![0.0; offs[0]], data(n, seed)].concat();
    let ys_buf = [vec![0.0; offs[1]], data(n, seed + 1)].concat();
    let x = &xs_buf[offs[0]..];
    let y = &ys_buf[offs[1]..];
    let g0 = data(n, seed + 2);

    let (values, derivs): (Vec<f32>, Vec<f32>) =
        x.iter().zip(y).map(|(a, b)| loss.plain(*a, *b)).unzip();
    let sum = canonical_sum(&values);

    if n == 0 {
        assert_eq!(
            loss.value(x, y, Reduction::Mean),
            Err(LossError::Empty { argument: "input" })
        );
        return;
    }
    for red in [Reduction::Mean, Reduction::Sum] {
        let got = loss.value(x, y, red).expect("value");
        assert!(
            same(got, reduce(sum, n, red)),
            "{what}: value({red:?}) = {got:e}"
        );
    }

    // Overwrite, Mean, scale 1.
    let mut buf = guarded(&g0, offs[2]);
    let out = &mut buf[GUARD + offs[2]..GUARD + offs[2] + n];
    let v = loss
        .value_and_grad(x, y, Reduction::Mean, Grad::overwrite(out))
        .expect("value_and_grad");
    assert!(
        same(v, reduce(sum, n, Reduction::Mean)),
        "{what}: fused value"
    );
    let s = grad_scale(1.0, n, Reduction::Mean);
    let want: Vec<f32> = derivs.iter().map(|d| d * s).collect();
    assert_same(
        &buf[GUARD + offs[2]..GUARD + offs[2] + n],
        &want,
        &format!("{what}: grad overwrite"),
    );
    assert_guards(&buf, offs[2], n, &what);

    // Accumulate, Sum, scale -0.75.
    let mut buf = guarded(&g0, offs[2]);
    let out = &mut buf[GUARD + offs[2]..GUARD + offs[2] + n];
    let v = loss
        .value_and_grad(x, y, Reduction::Sum, Grad::accumulate(out).scaled(-0.75))
        .expect("value_and_grad");
    assert!(
        same(v, reduce(sum, n, Reduction::Sum)),
        "{what}: fused value (accumulate)"
    );
    let want: Vec<f32> = derivs.iter().zip(&g0).map(|(d, g)| g + d * -0.75).collect();
    assert_same(
        &buf[GUARD + offs[2]..GUARD + offs[2] + n],
        &want,
        &format!("{what}: grad accumulate"),
    );
    assert_guards(&buf, offs[2], n, &what);

    // Per element.
    let mut buf = guarded(&g0, offs[2]);
    loss.per_element(x, y, &mut buf[GUARD + offs[2]..GUARD + offs[2] + n])
        .expect("per_element");
    assert_same(
        &buf[GUARD + offs[2]..GUARD + offs[2] + n],
        &values,
        &format!("{what}: per_element"),
    );
    assert_guards(&buf, offs[2], n, &what);
}

/// The five losses on one length and offset triple: all of them natively;
/// under miri (which interprets, ~10^4× slower) one per call, rotating with
/// `pick`, so every length still runs every driver mode on every ISA.
fn losses_on(isa: Isa, n: usize, offs: [usize; 3], pick: usize) {
    let seed = (n as u64) << 8 | (offs[0] * 16 + offs[1] * 4 + offs[2]) as u64;
    let all = !cfg!(miri);
    if all || pick.is_multiple_of(5) {
        check_case(Mse::new(), isa, n, offs, seed, "mse");
    }
    if all || pick % 5 == 1 {
        check_case(L1::new(), isa, n, offs, seed + 10, "l1");
    }
    if all || pick % 5 == 2 {
        check_case(Huber::new(0.75).unwrap(), isa, n, offs, seed + 20, "huber");
    }
    if all || pick % 5 == 3 {
        check_case(
            SmoothL1::new(0.5).unwrap(),
            isa,
            n,
            offs,
            seed + 30,
            "smooth_l1",
        );
    }
    if all || pick % 5 == 4 {
        check_case(
            SmoothL1::new(0.0).unwrap(),
            isa,
            n,
            offs,
            seed + 40,
            "smooth_l1(0)",
        );
    }
}

#[test]
fn every_length_to_130_aligned() {
    // Under miri (slow: about a second per length and ISA) the lengths
    // around every register and chunk edge; natively all of them.
    let edges = [
        0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 130,
    ];
    for isa in isas() {
        for n in 0..=130 {
            if cfg!(miri) && !edges.contains(&n) {
                continue;
            }
            losses_on(isa, n, [0, 0, 0], n);
        }
    }
}

#[test]
fn chunk_edges_at_offsets() {
    let lengths = [1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 127, 128, 129, 130];
    let offsets = [[1, 2, 3], [3, 0, 1], [0, 5, 7], [7, 7, 2]];
    for isa in isas() {
        for (i, n) in lengths.into_iter().enumerate() {
            for (j, offs) in offsets.into_iter().enumerate() {
                losses_on(isa, n, offs, i + j);
            }
        }
    }
}

#[test]
fn several_blocks() {
    // Two full blocks and a tail: the f64 total of block partials.
    for isa in isas() {
        for n in [255, 256, 257, 575] {
            check_case(Mse::new(), isa, n, [1, 0, 2], n as u64, "mse");
            check_case(
                Huber::new(1.0).unwrap(),
                isa,
                n,
                [0, 3, 0],
                n as u64,
                "huber",
            );
        }
    }
}

fn assert_refused<T: std::fmt::Debug>(res: Result<T, LossError>, want: LossError) {
    assert_eq!(res.err(), Some(want));
}

#[test]
fn errors_write_nothing() {
    for isa in isas() {
        let loss = Huber::new(2.0).unwrap().with_isa(isa).unwrap();
        for n in [1usize, 64, 65] {
            let x = data(n, 7);
            let y_long = data(n + 1, 8);
            let y = &y_long[..n];
            let init = data(n + 1, 9);
            let short = LossError::LengthMismatch {
                argument: "target",
                expected: n,
                actual: n + 1,
            };
            assert_refused(loss.value(&x, &y_long, Reduction::Mean), short);

            let mut g = guarded(&init[..n], 1);
            assert_refused(
                loss.value_and_grad(
                    &x,
                    &y_long,
                    Reduction::Sum,
                    Grad::overwrite(&mut g[GUARD + 1..GUARD + 1 + n]),
                ),
                short,
            );
            assert_same(&g, &guarded(&init[..n], 1), "target mismatch, overwrite");

            let mut g = guarded(&init, 0);
            assert_refused(
                loss.value_and_grad(
                    &x,
                    y,
                    Reduction::Mean,
                    Grad::accumulate(&mut g[GUARD..GUARD + n + 1]),
                ),
                LossError::LengthMismatch {
                    argument: "grad",
                    expected: n,
                    actual: n + 1,
                },
            );
            assert_same(&g, &guarded(&init, 0), "grad mismatch, accumulate");

            let mut g = guarded(&init[..n - 1], 2);
            assert_refused(
                loss.per_element(&x, y, &mut g[GUARD + 2..GUARD + 2 + n - 1]),
                LossError::LengthMismatch {
                    argument: "out",
                    expected: n,
                    actual: n - 1,
                },
            );
            assert_same(&g, &guarded(&init[..n - 1], 2), "out mismatch");
        }
        let mut empty: [f32; 0] = [];
        assert_refused(
            loss.value_and_grad(&[], &[], Reduction::Mean, Grad::overwrite(&mut empty)),
            LossError::Empty { argument: "input" },
        );
        assert_refused(
            loss.per_element(&[], &[], &mut empty),
            LossError::Empty { argument: "input" },
        );
    }
}

#[test]
fn dispatch_logic() {
    let available: Vec<Isa> = Isa::available().collect();
    eprintln!("ISAs under test: {available:?}");
    assert!(available.contains(&Isa::Scalar) && available.contains(&Isa::Wide));
    let best = Isa::best();
    assert_eq!(best, Isa::best(), "cached");
    assert_eq!(
        Some(&best),
        available.first(),
        "best is the first available"
    );
    assert_eq!(Mse::new().isa(), best);
    for isa in Isa::ALL {
        assert_eq!(isa.is_available(), available.contains(&isa));
        assert_eq!(isa.to_string(), isa.name());
        let chosen = L1::new().with_isa(isa);
        if isa.is_available() {
            assert_eq!(chosen.unwrap().isa(), isa);
        } else {
            assert_eq!(chosen.err(), Some(LossError::IsaUnavailable { isa }));
        }
    }
    #[cfg(target_arch = "x86_64")]
    if !cfg!(miri) {
        // CPUID/XGETBV detection (inline asm: not under miri) agrees with
        // the ISAs reported (which use it when `std` is off).
        let d = simdloss::dispatch::cpuid::detect();
        assert_eq!(d, simdloss::dispatch::cpuid::detect_uncached());
        assert_eq!(d.avx2, Isa::Avx2.is_available());
        assert_eq!(d.avx512, Isa::Avx512.is_available());
    }
}

#[test]
fn invalid_parameters() {
    for bad in [0.0, -0.0, -1.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        assert!(matches!(
            Huber::new(bad),
            Err(LossError::InvalidParameter {
                argument: "delta",
                ..
            })
        ));
    }
    for bad in [-1.0, -1e-45, f32::NAN, f32::INFINITY] {
        assert!(matches!(
            SmoothL1::new(bad),
            Err(LossError::InvalidParameter {
                argument: "beta",
                ..
            })
        ));
    }
    assert!(SmoothL1::new(-0.0).is_ok(), "-0 is >= 0: exactly L1");
}

/// Every verb of `loss` on `isa` into guarded buffers; outputs for a
/// bit-for-bit comparison with the scalar path.
fn weighted_outputs<L: PointwiseLoss + Copy>(loss: L, isa: Isa, x: &[f32], y: &[f32]) -> Vec<f32> {
    let loss = loss.with_isa(isa).expect("available ISA");
    let n = x.len();
    let g0 = data(n, 99);
    let mut all = Vec::new();
    for red in [Reduction::Mean, Reduction::Sum] {
        all.push(loss.value(x, y, red).expect("value"));
    }
    let mut buf = guarded(&g0, 1);
    let v = loss
        .value_and_grad(
            x,
            y,
            Reduction::Mean,
            Grad::overwrite(&mut buf[GUARD + 1..GUARD + 1 + n]),
        )
        .expect("value_and_grad");
    assert_guards(&buf, 1, n, "overwrite");
    all.push(v);
    all.extend_from_slice(&buf[GUARD + 1..GUARD + 1 + n]);
    let mut buf = guarded(&g0, 2);
    let v = loss
        .value_and_grad(
            x,
            y,
            Reduction::Sum,
            Grad::accumulate(&mut buf[GUARD + 2..GUARD + 2 + n]).scaled(0.5),
        )
        .expect("value_and_grad");
    assert_guards(&buf, 2, n, "accumulate");
    all.push(v);
    all.extend_from_slice(&buf[GUARD + 2..GUARD + 2 + n]);
    let mut buf = guarded(&g0, 0);
    loss.per_element(x, y, &mut buf[GUARD..GUARD + n])
        .expect("per_element");
    assert_guards(&buf, 0, n, "per_element");
    all.extend_from_slice(&buf[GUARD..GUARD + n]);
    all
}

fn assert_weighted_same<L: PointwiseLoss + Copy>(loss: L, x: &[f32], y: &[f32], what: &str) {
    let scalar = weighted_outputs(loss, Isa::Scalar, x, y);
    for isa in isas() {
        let got = weighted_outputs(loss, isa, x, y);
        assert_same(&got, &scalar, &format!("{what} on {isa}, n = {}", x.len()));
    }
}

#[test]
fn weighted_and_periodic_streams() {
    // The binary losses' extra streams: a per-element weight and a
    // per-class pos_weight tiled over the last axis (C <= 64 from a stack
    // tile, C > 64 from the slice itself with a wrapping window), at chunk
    // edges and with a tail. Compared bit for bit with the scalar path
    // (which miri checks for UB itself).
    let cases: &[(usize, usize)] = &[(1, 1), (3, 66), (64, 128), (65, 130), (7, 63)];
    for &(classes, n) in cases {
        let logits: Vec<f32> = data(n, 5).iter().map(|v| v * 4.0).collect();
        let probs: Vec<f32> = data(n, 6)
            .iter()
            .map(|v| (v.abs() / 4.0).min(1.0))
            .map(|p| if p.is_nan() { 0.5 } else { p })
            .collect();
        let labels: Vec<f32> = (0..n).map(|i| f32::from(u8::from(i % 3 == 0))).collect();
        let weight: Vec<f32> = (0..n).map(|i| 0.25 + (i % 7) as f32 / 4.0).collect();
        let pos_weight: Vec<f32> = (0..classes).map(|c| 0.5 + c as f32 / 8.0).collect();
        let what = format!("C = {classes}");
        let logits_loss = BinaryCrossEntropyWithLogits::new()
            .with_weight(&weight)
            .with_pos_weight_per_class(&pos_weight)
            .unwrap();
        assert_weighted_same(
            logits_loss,
            &logits,
            &labels,
            &format!("bce_with_logits {what}"),
        );
        if classes == 1 {
            let bce = BinaryCrossEntropy::new().with_weight(&weight);
            assert_weighted_same(bce, &probs, &labels, "bce");
            let focal = SigmoidFocal::default().with_weight(&weight);
            assert_weighted_same(focal, &logits, &labels, "sigmoid_focal");
        }
    }
}
