//! Dispatch: which ISAs are available, which one is picked, and that the
//! crate's own CPUID/XGETBV detection agrees with std's.
//!
//! Run in both builds: `cargo test` (detection through
//! `is_x86_feature_detected!`) and `cargo test --no-default-features`
//! (detection through `simdloss::dispatch::cpuid`). The test harness has std
//! either way, so std's macro is the independent witness in both: on a CPU
//! and OS with AVX-512 (this machine) both builds must pick `Isa::Avx512`.

mod common;

use common::isas;
use simdloss::{Grad, Isa, Mse, PointwiseLoss, Reduction};

/// Which detection path this build of the crate uses. Cargo passes the
/// package's features to its integration tests too, so this is the crate's
/// own `std` feature.
const DETECTION: &str = if !cfg!(target_arch = "x86_64") {
    "compile time (NEON is the aarch64 baseline; wide and scalar everywhere)"
} else if cfg!(feature = "std") {
    "std::is_x86_feature_detected!"
} else {
    "CPUID + XGETBV (simdloss::dispatch::cpuid)"
};

#[test]
fn best_is_the_first_available() {
    assert_eq!(Isa::available().next(), Some(Isa::best()));
    // Cached: the same answer every time.
    for _ in 0..3 {
        assert_eq!(Isa::best(), Isa::available().next().unwrap());
    }
    eprintln!(
        "detection: {DETECTION}; best = {}; available = {:?}",
        Isa::best(),
        isas().iter().map(|i| i.name()).collect::<Vec<_>>()
    );
}

#[test]
fn scalar_and_wide_are_always_available() {
    assert!(Isa::Scalar.is_available());
    assert!(Isa::Wide.is_available());
    let all = isas();
    assert!(all.contains(&Isa::Scalar) && all.contains(&Isa::Wide));
    // Scalar is always last (the fallback), Wide just before it.
    assert_eq!(all[all.len() - 1], Isa::Scalar);
    assert_eq!(all[all.len() - 2], Isa::Wide);
}

#[test]
fn available_agrees_with_is_available_in_best_first_order() {
    let listed = isas();
    let expected: Vec<Isa> = Isa::ALL.into_iter().filter(|i| i.is_available()).collect();
    assert_eq!(listed, expected);
    // ALL is ordered best first and holds every variant once.
    assert_eq!(
        Isa::ALL,
        [Isa::Avx512, Isa::Avx2, Isa::Neon, Isa::Wide, Isa::Scalar]
    );
    // AVX-512 (x86-64-v4) implies AVX2 (x86-64-v3).
    if Isa::Avx512.is_available() {
        assert!(Isa::Avx2.is_available());
    }
    // Never an ISA of the other architecture.
    if cfg!(target_arch = "x86_64") {
        assert!(!Isa::Neon.is_available());
    } else {
        assert!(!Isa::Avx2.is_available() && !Isa::Avx512.is_available());
    }
    if cfg!(target_arch = "aarch64") {
        assert!(Isa::Neon.is_available());
    }
}

#[test]
fn names_and_display() {
    let names = ["avx512", "avx2", "neon", "wide", "scalar"];
    for (isa, name) in Isa::ALL.into_iter().zip(names) {
        assert_eq!(isa.name(), name);
        assert_eq!(isa.to_string(), name);
    }
}

/// Every available ISA runs a real computation and gives the known answer;
/// a loss built without `with_isa` runs on the best one.
#[test]
fn every_available_isa_runs() {
    // 70 elements: one full 64-chunk and a tail. r = 2 everywhere except
    // r = -1 at index 5: Sum = 69·4 + 1 = 277, grad = 2r.
    let input: Vec<f32> = (0..70).map(|i| i as f32 + 2.0).collect();
    let mut target: Vec<f32> = (0..70).map(|i| i as f32).collect();
    target[5] = input[5] + 1.0;
    for isa in isas() {
        let loss = Mse::new().with_isa(isa).unwrap();
        assert_eq!(loss.isa(), isa);
        let mut grad = vec![0.0f32; 70];
        let v = loss
            .value_and_grad(&input, &target, Reduction::Sum, Grad::overwrite(&mut grad))
            .unwrap();
        assert_eq!(v, 277.0, "{isa}");
        for (i, g) in grad.iter().enumerate() {
            assert_eq!(*g, if i == 5 { -2.0 } else { 4.0 }, "{isa} grad[{i}]");
        }
        eprintln!("{isa}: ran");
    }
    assert_eq!(Mse::new().isa(), Isa::best());
}

/// What std's run-time detection says about the x86-64-v3 feature set
/// (everything pulp's `V3` token enables), and about x86-64-v4 on top.
#[cfg(target_arch = "x86_64")]
fn std_detects() -> (bool, bool) {
    let avx2 = std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("fma")
        && std::is_x86_feature_detected!("bmi1")
        && std::is_x86_feature_detected!("bmi2")
        && std::is_x86_feature_detected!("lzcnt")
        && std::is_x86_feature_detected!("popcnt")
        && std::is_x86_feature_detected!("sse4.2")
        && std::is_x86_feature_detected!("fxsr");
    let avx512 = avx2
        && std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512cd")
        && std::is_x86_feature_detected!("avx512dq")
        && std::is_x86_feature_detected!("avx512vl");
    (avx2, avx512)
}

#[cfg(target_arch = "x86_64")]
#[test]
fn cpuid_detection_agrees_with_std() {
    use simdloss::dispatch::cpuid;
    let (avx2, avx512) = std_detects();
    let d = cpuid::detect_uncached();
    assert_eq!(
        (d.avx2, d.avx512),
        (avx2, avx512),
        "CPUID/XGETBV says {d:?}, std says avx2={avx2} avx512={avx512}"
    );
    // The cached answer is the uncached one, every time.
    for _ in 0..3 {
        assert_eq!(cpuid::detect(), d);
    }
}

/// The ISA `Isa::best()` must pick here, by std's independent detection,
/// in either build of the crate.
#[test]
fn best_is_what_std_detection_says() {
    #[cfg(target_arch = "x86_64")]
    let expected = match std_detects() {
        (_, true) => Isa::Avx512,
        (true, false) => Isa::Avx2,
        (false, false) => Isa::Wide,
    };
    #[cfg(target_arch = "aarch64")]
    let expected = Isa::Neon;
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    let expected = Isa::Wide;
    assert_eq!(Isa::best(), expected, "detection: {DETECTION}");
    #[cfg(target_arch = "x86_64")]
    {
        assert_eq!(Isa::Avx2.is_available(), std_detects().0, "{DETECTION}");
        assert_eq!(Isa::Avx512.is_available(), std_detects().1, "{DETECTION}");
    }
}

/// `with_isa` on an ISA that is not available is an error, never UB, and
/// names the ISA; on an available one it sticks.
#[test]
fn with_isa_checks_availability() {
    for isa in Isa::ALL {
        match Mse::new().with_isa(isa) {
            Ok(loss) => {
                assert!(isa.is_available());
                assert_eq!(loss.isa(), isa);
            }
            Err(e) => {
                assert!(!isa.is_available());
                assert_eq!(e, simdloss::LossError::IsaUnavailable { isa });
                assert!(e.to_string().contains(isa.name()), "{e}");
            }
        }
    }
}

/// In the build without std (`cargo test --no-default-features`), x86-64
/// availability is exactly what the crate's own CPUID/XGETBV detection
/// says (and `cpuid_detection_agrees_with_std` ties that to std's view).
#[cfg(all(target_arch = "x86_64", not(feature = "std")))]
#[test]
fn without_std_availability_comes_from_cpuid() {
    let d = simdloss::dispatch::cpuid::detect();
    assert_eq!(Isa::Avx2.is_available(), d.avx2);
    assert_eq!(Isa::Avx512.is_available(), d.avx512);
    let expected = if d.avx512 {
        Isa::Avx512
    } else if d.avx2 {
        Isa::Avx2
    } else {
        Isa::Wide
    };
    assert_eq!(Isa::best(), expected);
}
