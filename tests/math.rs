//! The vector math layer (`simdloss::simd::math`) against an f64 reference:
//! the precision table of the module docs, enforced over a dense sweep of
//! f32 bit patterns plus every special value, and bit-identity of every
//! instruction set this CPU has with the scalar path.
//!
//! The sweep takes every `DEFAULT_STEP`-th bit pattern of the whole u32 range
//! (both signs, NaN and infinity included). On x86-64 `DEFAULT_STEP` is 61 (about
//! 70 million inputs per function); elsewhere (qemu-aarch64 in CI, which is
//! ~20× slower) it is 1021, which still visits every binade.

use simdloss::Isa;
use simdloss::elementwise::{Function, map};

#[cfg(target_arch = "x86_64")]
const DEFAULT_STEP: u32 = 61;
#[cfg(not(target_arch = "x86_64"))]
const DEFAULT_STEP: u32 = 1021;

/// The sweep's stride: `DEFAULT_STEP`, or `SIMDLOSS_MATH_STEP` from the
/// environment (`SIMDLOSS_MATH_STEP=1` is the one-off run over all 2³²
/// inputs behind the precision table's last column, a few minutes).
fn step() -> u32 {
    std::env::var("SIMDLOSS_MATH_STEP")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&s| s > 0)
        .unwrap_or(DEFAULT_STEP)
}

/// Elements per `map` call of the sweep.
const CHUNK: usize = 1 << 18;

/// The smallest f32 whose `exp` is normal (module docs: `−87.33654`).
const EXP_LO: f32 = f32::from_bits(0xc2ae_ac4f);
/// The largest f32 whose `exp` is finite (`88.72283`).
const EXP_HI: f32 = f32::from_bits(0x42b1_7217);

/// Special values every function is checked on, besides the sweep.
fn specials() -> Vec<f32> {
    let mut v = vec![
        0.0,
        f32::INFINITY,
        f32::NAN,
        f32::MIN_POSITIVE,
        f32::from_bits(1),
        f32::from_bits(0x007f_ffff),
        f32::MAX,
        1.0,
        0.5,
        2.0,
        core::f32::consts::LN_2,
        core::f32::consts::SQRT_2,
        core::f32::consts::FRAC_1_SQRT_2,
        1e-30,
        1e30,
        20.0,
        88.0,
        87.33654,
        88.72283,
        f32::from_bits(0x3080_0000), // 2^-30, the tiny-argument threshold
        5.960_464_5e-8,              // 2^-24
        1.0 - 5.960_464_5e-8,
        1.0 + 1.192_092_9e-7,
    ];
    for b in [
        EXP_LO.to_bits(),
        EXP_HI.to_bits(),
        0x3f35_04f3, // sqrt(1/2)
        0x3fb5_04f3, // sqrt(2)
        0x3080_0000, // 2^-30
        0x4b80_0000, // 2^24
    ] {
        for d in 0..3u32 {
            v.push(f32::from_bits(b + d));
            v.push(f32::from_bits(b - d));
        }
    }
    let negatives: Vec<f32> = v.iter().map(|x| -x).collect();
    v.extend(negatives);
    v.push(-1.0 + 5.960_464_5e-8);
    v.push(-1.0 - 1.192_092_9e-7);
    v
}

/// The unit in the last place of an f32 at the binade of the exact value
/// `r` (2⁻¹⁴⁹ below the normal range).
fn ulp_at(r: f64) -> f64 {
    let a = r.abs();
    if a < f64::from(f32::MIN_POSITIVE) {
        return 2f64.powi(-149);
    }
    let exponent = i32::try_from((a.to_bits() >> 52) & 0x7ff).expect("11 bits") - 1023;
    2f64.powi(exponent - 23)
}

/// One function under test: its f64 reference, the domain where the
/// precision table applies, and the bound asserted there.
struct Spec {
    function: Function,
    name: &'static str,
    reference: fn(f64) -> f64,
    in_domain: fn(f32) -> bool,
    bound_ulp: f64,
}

fn softplus_ref(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn sigmoid_ref(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn specs() -> [Spec; 5] {
    [
        Spec {
            function: Function::Exp,
            name: "exp",
            reference: f64::exp,
            in_domain: |x| (EXP_LO..=EXP_HI).contains(&x),
            bound_ulp: 0.6,
        },
        Spec {
            function: Function::Ln,
            name: "ln",
            reference: f64::ln,
            in_domain: |x| x > 0.0 && x.is_finite(),
            bound_ulp: 1.0,
        },
        Spec {
            function: Function::Log1p,
            name: "log1p",
            reference: f64::ln_1p,
            in_domain: |x| x > -1.0 && x.is_finite(),
            bound_ulp: 1.5,
        },
        Spec {
            function: Function::Sigmoid,
            name: "sigmoid",
            reference: sigmoid_ref,
            in_domain: |x| x >= EXP_LO && x.is_finite(),
            bound_ulp: 2.0,
        },
        Spec {
            function: Function::Softplus,
            name: "softplus",
            reference: softplus_ref,
            in_domain: |x| x >= EXP_LO && x.is_finite(),
            bound_ulp: 3.0,
        },
    ]
}

/// Runs `function` over `input` on every available ISA, asserts they all
/// match the scalar path bit for bit (NaN: both NaN), returns the output.
fn eval_all_isas(function: Function, input: &[f32]) -> Vec<f32> {
    let mut scalar = vec![0.0f32; input.len()];
    map(Isa::Scalar, function, input, &mut scalar).expect("scalar always runs");
    let mut out = vec![0.0f32; input.len()];
    for isa in Isa::available().filter(|&isa| isa != Isa::Scalar) {
        map(isa, function, input, &mut out).expect("available ISA");
        for ((x, a), b) in input.iter().zip(&scalar).zip(&out) {
            assert!(
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                "{function:?}({x:e} = {:#010x}): scalar {a:e} ({:#010x}) but {isa} {b:e} ({:#010x})",
                x.to_bits(),
                a.to_bits(),
                b.to_bits()
            );
        }
    }
    scalar
}

/// Worst ulp error of `spec` over the sweep and the specials (inputs in
/// its domain whose exact result is a normal f32), with where it occurs.
/// Also checks every ISA agrees and that outputs are never subnormal
/// unless the input is (log1p returns tiny inputs unchanged).
fn worst_error(spec: &Spec) -> (f64, f32) {
    let mut worst = (0.0f64, 0.0f32);
    let mut check = |input: &[f32]| {
        let out = eval_all_isas(spec.function, input);
        for (&x, &y) in input.iter().zip(&out) {
            assert!(
                !y.is_subnormal() || x.is_subnormal(),
                "{}({x:e}) = {y:e} is subnormal",
                spec.name
            );
            if !(spec.in_domain)(x) {
                continue;
            }
            let r = (spec.reference)(f64::from(x));
            if r != 0.0 && (r.abs() < f64::from(f32::MIN_POSITIVE) || r.abs() > f64::from(f32::MAX))
            {
                continue;
            }
            let err = (f64::from(y) - r).abs() / ulp_at(r);
            assert!(
                err.is_finite(),
                "{}({x:e}) = {y:e}, reference {r:e}",
                spec.name
            );
            if err > worst.0 {
                worst = (err, x);
            }
        }
    };
    check(&specials());
    let step = step();
    // Indices 0..total, the last one's pattern ≤ u32::MAX.
    let total = u64::from(u32::MAX) / u64::from(step) + 1;
    let mut start = 0u64;
    let mut input = Vec::with_capacity(CHUNK);
    while start < total {
        let end = (start + CHUNK as u64).min(total);
        input.clear();
        input.extend((start..end).map(|i| {
            f32::from_bits(
                u32::try_from(i * u64::from(step)).expect("i < total keeps i·step < 2^32"),
            )
        }));
        check(&input);
        start = end;
    }
    worst
}

#[test]
fn precision_table_holds_and_all_isas_agree() {
    for spec in specs() {
        let (err, at) = worst_error(&spec);
        println!(
            "{:<9} worst {err:.3} ulp at x = {at:e} ({:#010x}); bound {}",
            spec.name,
            at.to_bits(),
            spec.bound_ulp
        );
        assert!(
            err <= spec.bound_ulp,
            "{}: {err} ulp at x = {at:e} exceeds the documented {} ulp",
            spec.name,
            spec.bound_ulp
        );
    }
}

/// `pow(x, γ) = exp(γ·ln x)`: the rounding of `γ·ln x` turns into a
/// relative error proportional to `|γ·ln x|`; the module docs state
/// `ulp ≤ 1 + 3·|γ ln x|`, checked for `x ∈ (0, 1]` (focal loss's
/// use) and a few `x > 1`, where the exact result is normal (within 10⁻⁴
/// of either end of the normal range the rounded `γ·ln x` may cross `exp`'s
/// thresholds: +0 or +∞ there).
#[test]
fn pow_error_grows_with_the_exponent_only() {
    let mut input: Vec<f32> = (0..=0x3f80_0000u32 / DEFAULT_STEP)
        .map(|i| f32::from_bits(i * DEFAULT_STEP))
        .collect();
    input.extend((0..20_000u32).map(|i| 1.0 + f32::from_bits(0x3800_0000 + i * 4099)));
    input.extend(specials().into_iter().filter(|x| *x >= 0.0));
    for gamma in [0.25f32, 0.5, 1.0, 1.5, 2.0, 5.0] {
        let out = eval_all_isas(Function::Pow(gamma), &input);
        let mut worst = 0.0f64;
        for (&x, &y) in input.iter().zip(&out) {
            if !(x >= 0.0 && x.is_finite()) {
                continue;
            }
            let w = f64::from(gamma) * f64::from(x).ln();
            let r = f64::from(x).powf(f64::from(gamma));
            if x == 0.0 {
                assert_eq!(y, 0.0, "pow(0, {gamma})");
                continue;
            }
            if !(f64::from(f32::MIN_POSITIVE)..=f64::from(f32::MAX)).contains(&r) {
                continue;
            }
            if (y == 0.0 && r < 1.0001 * f64::from(f32::MIN_POSITIVE))
                || (y.is_infinite() && r > f64::from(f32::MAX) / 1.0001)
            {
                // γ·ln x rounded past exp's thresholds: +0 or +∞ for a
                // result at the very end of the normal range.
                continue;
            }
            let err = (f64::from(y) - r).abs() / ulp_at(r);
            let bound = 1.0 + 3.0 * w.abs();
            assert!(
                err <= bound,
                "pow({x:e}, {gamma}) = {y:e}, reference {r:e}: {err} ulp > {bound}"
            );
            worst = worst.max(err / bound);
        }
        println!("pow γ = {gamma}: worst error / bound = {worst:.3}");
    }
}

fn eval1(function: Function, x: f32) -> f32 {
    let mut out = [0.0f32];
    map(Isa::Scalar, function, &[x], &mut out).expect("scalar always runs");
    out[0]
}

#[test]
fn special_values() {
    use Function::*;
    let inf = f32::INFINITY;
    // exp
    assert_eq!(eval1(Exp, 0.0), 1.0);
    assert_eq!(eval1(Exp, -0.0), 1.0);
    assert_eq!(eval1(Exp, 1e-30), 1.0);
    assert_eq!(eval1(Exp, -inf).to_bits(), 0);
    assert_eq!(eval1(Exp, inf), inf);
    assert_eq!(eval1(Exp, f32::from_bits(EXP_HI.to_bits() + 1)), inf);
    assert!(eval1(Exp, EXP_HI).is_finite());
    assert!(eval1(Exp, EXP_LO) >= f32::MIN_POSITIVE);
    assert_eq!(
        eval1(Exp, f32::from_bits(EXP_LO.to_bits() + 1)).to_bits(),
        0
    );
    assert_eq!(eval1(Exp, -100.0).to_bits(), 0);
    // ln
    assert_eq!(eval1(Ln, 1.0).to_bits(), 0);
    assert_eq!(eval1(Ln, 0.0), -inf);
    assert_eq!(eval1(Ln, -0.0), -inf);
    assert!(eval1(Ln, -1.0).is_nan());
    assert!(eval1(Ln, -f32::from_bits(1)).is_nan());
    assert!(eval1(Ln, -inf).is_nan());
    assert_eq!(eval1(Ln, inf), inf);
    let smallest = eval1(Ln, f32::from_bits(1));
    assert!((f64::from(smallest) - (-149.0 * core::f64::consts::LN_2)).abs() < 1e-5);
    // log1p
    assert_eq!(eval1(Log1p, 0.0).to_bits(), 0);
    assert_eq!(eval1(Log1p, -0.0).to_bits(), (-0.0f32).to_bits());
    for x in [1e-30f32, -1e-30, f32::from_bits(1), -f32::from_bits(5)] {
        assert_eq!(eval1(Log1p, x).to_bits(), x.to_bits(), "log1p({x:e})");
    }
    assert_eq!(eval1(Log1p, -1.0), -inf);
    assert!(eval1(Log1p, -1.000_000_1).is_nan());
    assert!(eval1(Log1p, -inf).is_nan());
    assert_eq!(eval1(Log1p, inf), inf);
    assert!(eval1(Log1p, f32::MAX).is_finite());
    // sigmoid
    assert_eq!(eval1(Sigmoid, 0.0), 0.5);
    assert_eq!(eval1(Sigmoid, inf), 1.0);
    assert_eq!(eval1(Sigmoid, -inf).to_bits(), 0);
    assert_eq!(eval1(Sigmoid, 1e30), 1.0);
    assert_eq!(eval1(Sigmoid, -1e30).to_bits(), 0);
    assert_eq!(eval1(Sigmoid, -100.0).to_bits(), 0);
    // softplus
    assert_eq!(eval1(Softplus, 0.0), core::f32::consts::LN_2);
    assert_eq!(eval1(Softplus, inf), inf);
    assert_eq!(eval1(Softplus, -inf).to_bits(), 0);
    assert_eq!(eval1(Softplus, 1e30), 1e30);
    assert_eq!(eval1(Softplus, -1e30).to_bits(), 0);
    // pow
    assert_eq!(eval1(Pow(0.0), 0.0), 1.0);
    assert_eq!(eval1(Pow(0.0), f32::NAN), 1.0);
    assert_eq!(eval1(Pow(0.0), inf), 1.0);
    assert_eq!(eval1(Pow(0.5), 0.0).to_bits(), 0);
    assert_eq!(eval1(Pow(2.0), 1.0), 1.0);
    assert_eq!(eval1(Pow(0.3), inf), inf);
    assert!(eval1(Pow(2.0), -1.0).is_nan());
    // NaN in, NaN out
    for f in [Exp, Ln, Log1p, Sigmoid, Softplus, Pow(2.0)] {
        assert!(eval1(f, f32::NAN).is_nan(), "{f:?}(NaN)");
        assert!(eval1(f, -f32::NAN).is_nan(), "{f:?}(-NaN)");
    }
}

/// `map` runs through the pointwise driver: any length and alignment gives
/// the same bits as element-by-element calls.
#[test]
fn map_any_length_and_offset() {
    let data: Vec<f32> = (0..400u32)
        .map(|i| f32::from_bits(0x3c00_0000 + i.wrapping_mul(0x9e37_79b9) % 0x0600_0000) - 3.0)
        .collect();
    for f in [
        Function::Exp,
        Function::Ln,
        Function::Log1p,
        Function::Sigmoid,
        Function::Softplus,
        Function::Pow(1.5),
    ] {
        let one_by_one: Vec<u32> = data.iter().map(|&x| eval1(f, x).to_bits()).collect();
        for isa in Isa::available() {
            for offset in 0..5 {
                for len in [0, 1, 63, 64, 65, 200, 300] {
                    let input = &data[offset..offset + len];
                    let mut out = vec![0.0f32; len + 3];
                    map(isa, f, input, &mut out[offset % 3..offset % 3 + len]).expect("available");
                    for (i, y) in out[offset % 3..offset % 3 + len].iter().enumerate() {
                        let want = one_by_one[offset + i];
                        assert!(
                            y.to_bits() == want || (y.is_nan() && f32::from_bits(want).is_nan()),
                            "{f:?} on {isa}, offset {offset}, len {len}, i {i}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn map_rejects_bad_lengths_and_isas() {
    let mut out = [0.0f32; 3];
    let err = map(Isa::Scalar, Function::Exp, &[1.0, 2.0], &mut out).unwrap_err();
    assert_eq!(
        err,
        simdloss::LossError::LengthMismatch {
            argument: "out",
            expected: 2,
            actual: 3
        }
    );
    for isa in Isa::ALL.into_iter().filter(|isa| !isa.is_available()) {
        assert_eq!(
            map(isa, Function::Exp, &[1.0], &mut out[..1]),
            Err(simdloss::LossError::IsaUnavailable { isa })
        );
    }
    map(Isa::Scalar, Function::Ln, &[], &mut []).expect("empty is fine");
}

/// `exp` (and everything built on it) takes a shorter path for a register
/// whose lanes all lie in `[−69, 69]`: a register that mixes such lanes
/// with lanes that need the clamps, the rescaling below −69 or the overflow
/// split (or are ±∞, NaN, subnormal) gives every lane the bits it has
/// alone, on every ISA.
#[test]
fn mixed_registers_give_each_lane_its_own_bits() {
    let rare = [
        -69.000_01f32,
        -69.5,
        -80.0,
        -87.0,
        -87.4,
        -100.0,
        69.000_01,
        70.0,
        87.9,
        88.0,
        88.7,
        89.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::from_bits(1),
        -f32::from_bits(0x0040_0000),
        1e30,
        -1e30,
    ];
    let common = [
        -69.0f32, -50.0, -3.5, -0.4, 0.0, 1e-20, 0.7, 12.0, 60.0, 69.0,
    ];
    // A fixed pseudo-random mix: about one rare lane in eight.
    let mut state = 0x2545_f491_u32;
    let input: Vec<f32> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let pick = (state >> 8) as usize;
            if state.is_multiple_of(8) {
                rare[pick % rare.len()]
            } else {
                common[pick % common.len()]
            }
        })
        .collect();
    let mut out = vec![0.0f32; input.len()];
    for f in [
        Function::Exp,
        Function::Sigmoid,
        Function::Softplus,
        Function::Pow(1.5),
    ] {
        // pow's domain is x ≥ 0.
        let input: Vec<f32> = if f == Function::Pow(1.5) {
            input.iter().map(|x| x.abs()).collect()
        } else {
            input.clone()
        };
        let alone: Vec<f32> = input.iter().map(|&x| eval1(f, x)).collect();
        for isa in Isa::available() {
            map(isa, f, &input, &mut out).expect("available");
            for ((x, a), b) in input.iter().zip(&alone).zip(&out) {
                assert!(
                    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                    "{f:?}({x:e}) on {isa}: alone {a:e}, in a mixed register {b:e}"
                );
            }
        }
    }
}
