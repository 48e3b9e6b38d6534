//! Prints a markdown table of the regression losses' fused value + gradient
//! speed on every ISA this CPU has, against the two yardsticks of
//! DESIGN.md §4 measured in the same run: the streaming triad
//! `c[i] = a[i] + k·b[i]` (bar: ≤ 1.15× its time at 2^18 and 2^24 elements)
//! and the plain scalar loop a user would write (bar: ≥ 6× faster at 4096
//! elements). The bars are judged on the ISA `Isa::best()` picks.
//!
//! ```text
//! cargo run --release --example bench_report [--softmax-only] [--dice-only] [--no-softmax] [--no-dice]
//! ```
//!
//! `--softmax-only` and `--dice-only` run only their table (both: both);
//! `--no-softmax` and `--no-dice` skip theirs.
//!
//! A second table (skipped by `--no-softmax`; `--softmax-only` runs only
//! it) times softmax cross-entropy (`Reduction::Mean`, index labels,
//! gradient overwritten) on `[N, C, S]` shapes: ImageNet `[4096, 1000,
//! 1]`, a 32k vocabulary `[64, 32000, 1]` (row kernel), VOC `[4, 21,
//! 512²]` NCHW and `[65536, 21, 1]` channels-last (tile kernel), in ns per
//! logit against a streaming triad over the same bytes (one read of every
//! logit, one write of every gradient element), the plain scalar loop
//! (bar: ≥ 8× on AVX-512, ≥ 4× on AVX2), and, for the NCHW map,
//! transposing to channels-last and running the `[N·H·W, 21, 1]` call
//! (bar: the NCHW call is faster per logit).
//!
//! A third table (skipped by `--no-dice`; `--dice-only` runs only it)
//! times the Dice family (`Reduction::Mean`, `u8` index labels, gradient
//! overwritten, MONAI's defaults): `Dice(softmax)`, `DiceCrossEntropy` and
//! `GeneralizedDice(softmax)` on VOC `[4, 21, 512²]`, binary
//! `Dice(sigmoid)` on `[8, 1, 512²]`, in ns per logit against the triad
//! over the same bytes (every logit and label read, every gradient element
//! written), the plain scalar loop (activation and sums, then the
//! gradient; bar: ≥ 8× on AVX-512, ≥ 4× on AVX2), for Dice + CE our Dice
//! followed by our CE (bar: fused ≥ 1.3× faster), and the MONAI numbers
//! quoted in issue 9 (quoted, not measured here). Issue 9's triad bars:
//! sigmoid Dice ≤ 2.5×, Dice + CE ≤ 3×.
//!
//! No criterion: every variant of a group (each ISA, the triad, the plain
//! loop) is timed in interleaved rounds over the same buffers, allocated
//! once; each round times a batch of calls long enough for the clock; the
//! table shows the median over rounds. A FAIL is reported, never turned
//! into an exit code: timings on a shared machine are noisy.

#[path = "../benches/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::dice::{self, PlainDiceFn};
use common::plain::{self, PlainFn};
use common::softmax::{SHAPES, SoftmaxShape, label, nchw_to_nhwc, nhwc_to_nchw, plain_ce};
use common::{AlignedBuf, SIZES, Streams, TRIAD_K, TriadFn};
use simdloss::{
    Activation, ClassAxisLoss, ClassShape, Dice, DiceCrossEntropy, GeneralizedDice, Grad, Huber,
    Isa, L1, Label, Mse, PointwiseLoss, Reduction, SmoothL1, SoftmaxCrossEntropy,
};

/// Fused at 2^18 and 2^24 must take at most this many times the triad.
const TRIAD_BAR: f64 = 1.15;
/// Fused at 4096 must be at least this many times faster than the plain loop.
const PLAIN_BAR: f64 = 6.0;
/// A median this many times its round's minimum marks the row noisy (`~`).
const NOISY: f64 = 1.2;

/// One timed thing in a group.
#[derive(Clone, Copy, PartialEq)]
enum Variant {
    Fused(Isa),
    Triad,
    Plain,
}

/// `n` elements, each buffer `offset` elements past 64-byte alignment.
#[derive(Clone, Copy)]
struct Case {
    n: usize,
    offset: usize,
}

impl Case {
    fn label(self) -> String {
        let n = match self.n.trailing_zeros() {
            k if self.n.is_power_of_two() && k >= 14 => format!("2^{k}"),
            _ => self.n.to_string(),
        };
        if self.offset == 0 {
            n
        } else {
            format!("{n} (+{} elem)", self.offset)
        }
    }

    /// Rounds per variant, and the wall time one batch should take. Short
    /// batches (well under a scheduler time slice) keep most rounds clear
    /// of preemption on a shared machine, so the median stays honest; at
    /// 2^24 one call (~5 ms) is the batch.
    fn schedule(self) -> (usize, Duration) {
        if self.n >= 1 << 24 {
            (25, Duration::from_millis(4))
        } else {
            (201, Duration::from_micros(500))
        }
    }
}

/// Median and minimum seconds per call of one variant.
#[derive(Clone, Copy)]
struct Timing {
    median: f64,
    min: f64,
}

/// Runs `f` `iters` times and returns the elapsed time.
#[inline(never)]
fn batch<F: FnMut()>(iters: u64, mut f: F) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed()
}

/// Calls per batch so that one batch takes about `target`; `run(iters)`
/// times a batch and returns seconds per call.
fn calibrate<F: FnMut(u64) -> f64>(target: Duration, mut run: F) -> u64 {
    let floor = target.as_secs_f64() / 4.0;
    let mut iters = 1u64;
    loop {
        let per_call = run(iters);
        #[allow(clippy::cast_precision_loss)]
        let total = per_call * iters as f64;
        if total >= floor || iters >= 1 << 30 {
            let want = (target.as_secs_f64() / per_call.max(1e-12)).ceil();
            // `want` is finite and positive; clamped into u64 range.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            return want.clamp(1.0, 1e9) as u64;
        }
        iters *= 2;
    }
}

/// The group of one loss at one case: every variant timed in interleaved
/// rounds over the same buffers.
struct Group<'a, L> {
    loss: L,
    plain_fn: PlainFn,
    triad_fn: TriadFn,
    streams: &'a mut Streams,
}

impl<L: PointwiseLoss + Copy> Group<'_, L> {
    /// One batch of `iters` calls of `v`; seconds per call.
    fn run(&mut self, v: Variant, iters: u64) -> f64 {
        let Streams { input, target, out } = &mut *self.streams;
        let (x, y) = (input.as_slice(), target.as_slice());
        let g = out.as_mut_slice();
        let elapsed = match v {
            Variant::Fused(isa) => {
                let Ok(loss) = self.loss.with_isa(isa) else {
                    return f64::NAN;
                };
                batch(iters, || {
                    let r = loss.value_and_grad(
                        black_box(x),
                        black_box(y),
                        Reduction::Mean,
                        Grad::overwrite(black_box(&mut *g)),
                    );
                    black_box(r).ok();
                })
            }
            Variant::Triad => {
                let triad = self.triad_fn;
                batch(iters, || {
                    triad(black_box(x), black_box(y), black_box(&mut *g), TRIAD_K);
                    black_box(&mut *g);
                })
            }
            Variant::Plain => {
                let plain_fn = self.plain_fn;
                batch(iters, || {
                    black_box(plain_fn(black_box(x), black_box(y), black_box(&mut *g)));
                })
            }
        };
        elapsed.as_secs_f64() / iters as f64
    }

    /// Calibrates, then times every variant `rounds` times, interleaved.
    fn measure(&mut self, variants: &[Variant], rounds: usize, target: Duration) -> Vec<Timing> {
        let iters: Vec<u64> = variants
            .iter()
            .map(|&v| calibrate(target, |iters| self.run(v, iters)))
            .collect();
        let mut samples = vec![Vec::with_capacity(rounds); variants.len()];
        for _ in 0..rounds {
            for ((&v, &it), s) in variants.iter().zip(&iters).zip(&mut samples) {
                s.push(self.run(v, it));
            }
        }
        samples
            .into_iter()
            .map(|mut s| {
                s.sort_by(f64::total_cmp);
                Timing {
                    median: s[s.len() / 2],
                    min: s[0],
                }
            })
            .collect()
    }

    /// The fused value on `isa` and the plain loop's value and gradient
    /// agree? Guards against a baseline that does different work.
    fn check(&mut self, isa: Isa) -> Option<String> {
        let Streams { input, target, out } = &mut *self.streams;
        let (x, y) = (input.as_slice(), target.as_slice());
        let mut plain_grad = out.as_slice().to_vec();
        let plain_value = (self.plain_fn)(x, y, &mut plain_grad);
        let loss = self.loss.with_isa(isa).ok()?;
        let g = out.as_mut_slice();
        let fused_value = match loss.value_and_grad(x, y, Reduction::Mean, Grad::overwrite(g)) {
            Ok(v) => v,
            Err(e) => return Some(format!("fused call failed: {e}")),
        };
        let value_rel = f64::from((fused_value - plain_value).abs()) / f64::from(plain_value.abs());
        let grad_abs = out
            .as_slice()
            .iter()
            .zip(&plain_grad)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        let grad_scale = plain_grad.iter().map(|g| g.abs()).fold(0.0f32, f32::max);
        (value_rel > 1e-5 || grad_abs > 1e-5 * grad_scale).then(|| {
            format!(
                "{isa}: value {fused_value} vs plain {plain_value} (rel {value_rel:.1e}), \
                 max |Δgrad| {grad_abs:.1e}"
            )
        })
    }
}

/// Human time: ns, µs or ms with 3 significant digits.
fn fmt_time(secs: f64) -> String {
    let ns = secs * 1e9;
    let (v, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else {
        (ns / 1e6, "ms")
    };
    if v < 10.0 {
        format!("{v:.2} {unit}")
    } else if v < 100.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.0} {unit}")
    }
}

/// One table row's worth of results (fused on one ISA).
struct Row {
    loss: &'static str,
    case: Case,
    isa: Isa,
    fused: Timing,
    triad: Timing,
    plain: Timing,
}

impl Row {
    fn triad_ratio(&self) -> f64 {
        self.fused.median / self.triad.median
    }
    fn plain_speedup(&self) -> f64 {
        self.plain.median / self.fused.median
    }
    /// `Some(pass)` if a bar applies to this row.
    fn bar(&self, best: Isa) -> Option<(bool, String)> {
        if self.isa != best || self.case.offset != 0 {
            return None;
        }
        if self.case.n >= 1 << 18 {
            let r = self.triad_ratio();
            Some((r <= TRIAD_BAR, format!("×triad {r:.2} ≤ {TRIAD_BAR}")))
        } else {
            let s = self.plain_speedup();
            Some((s >= PLAIN_BAR, format!("×plain {s:.1} ≥ {PLAIN_BAR}")))
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run_loss<L: PointwiseLoss + Copy>(
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
    name: &'static str,
    loss: L,
    plain_fn: PlainFn,
    triad_fn: TriadFn,
    case: Case,
    streams: &mut Streams,
) {
    let isas: Vec<Isa> = Isa::available().collect();
    let mut variants: Vec<Variant> = isas.iter().map(|&i| Variant::Fused(i)).collect();
    variants.extend([Variant::Triad, Variant::Plain]);
    let mut group = Group {
        loss,
        plain_fn,
        triad_fn,
        streams,
    };
    for &isa in &isas {
        if let Some(msg) = group.check(isa) {
            notes.push(format!("{name} {}: {msg}", case.label()));
        }
    }
    let (rounds, target) = case.schedule();
    let t = group.measure(&variants, rounds, target);
    let (triad, plain) = (t[isas.len()], t[isas.len() + 1]);
    for (&isa, &fused) in isas.iter().zip(&t) {
        rows.push(Row {
            loss: name,
            case,
            isa,
            fused,
            triad,
            plain,
        });
    }
}

/// The regression losses' table (DESIGN.md §4's pointwise bars).
fn regression_report() {
    let best = Isa::best();
    let (triad_fn, triad_isa) = common::best_triad();
    let huber = Huber::new(plain::HUBER_DELTA).expect("δ = 1 is valid");
    let smooth_l1 = SmoothL1::new(plain::SMOOTH_L1_BETA).expect("β = 1 is valid");

    let mut cases = vec![
        Case {
            n: SIZES[0],
            offset: 0,
        },
        Case {
            n: SIZES[0],
            offset: 1,
        },
    ];
    cases.extend(SIZES[1..].iter().map(|&n| Case { n, offset: 0 }));

    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for &case in &cases {
        eprintln!("measuring n = {} ...", case.label());
        let mut streams = Streams::new(case.n, case.offset);
        let s = &mut streams;
        let (r, n) = (&mut rows, &mut notes);
        run_loss(r, n, "MSE", Mse::new(), plain::mse, triad_fn, case, s);
        run_loss(r, n, "L1", L1::new(), plain::l1, triad_fn, case, s);
        run_loss(r, n, "Huber δ=1", huber, plain::huber, triad_fn, case, s);
        run_loss(
            r,
            n,
            "SmoothL1 β=1",
            smooth_l1,
            plain::smooth_l1,
            triad_fn,
            case,
            s,
        );
    }

    println!("## simdloss: fused value + gradient, regression losses\n");
    println!("- command: `cargo run --release --example bench_report`");
    println!(
        "- CPU: {} ({} threads)",
        common::cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "- `Isa::best()`: **{best}**; available: {}",
        Isa::available()
            .map(Isa::name)
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "- triad `c[i] = a[i] + k·b[i]` compiled for: {triad_isa}; plain loop: baseline target, f64 sum"
    );
    println!(
        "- `value_and_grad(.., Reduction::Mean, Grad::overwrite(..))`, buffers 64-byte aligned unless `+1 elem`; median of interleaved rounds (min in brackets; `~`: median > {NOISY}× min, the machine was busy)"
    );
    if cfg!(debug_assertions) {
        println!("- **WARNING: debug build, numbers are meaningless: use --release**");
    }
    println!();
    println!(
        "| loss | n | ISA | fused / call | triad / call | × triad | plain / call | speed-up vs plain | bar |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut passed = 0;
    let mut failed = 0;
    for row in &rows {
        let bar = match row.bar(best) {
            Some((true, what)) => {
                passed += 1;
                format!("PASS ({what})")
            }
            Some((false, what)) => {
                failed += 1;
                format!("**FAIL** ({what})")
            }
            None => String::from("—"),
        };
        let noisy = if row.fused.median > NOISY * row.fused.min {
            " ~"
        } else {
            ""
        };
        println!(
            "| {} | {} | {} | {} [{}]{noisy} | {} | {:.2} | {} | {:.1}× | {} |",
            row.loss,
            row.case.label(),
            row.isa,
            fmt_time(row.fused.median),
            fmt_time(row.fused.min),
            fmt_time(row.triad.median),
            row.triad_ratio(),
            fmt_time(row.plain.median),
            row.plain_speedup(),
            bar,
        );
    }
    println!();
    println!(
        "Bars (on {best}): at 2^18 and 2^24 fused ≤ {TRIAD_BAR}× the triad; at 4096 ≥ {PLAIN_BAR}× the plain loop. {passed} PASS, {failed} FAIL."
    );
    let offset_cost: Vec<String> = rows
        .iter()
        .filter(|r| r.isa == best && r.case.offset != 0)
        .filter_map(|r| {
            rows.iter()
                .find(|a| {
                    a.isa == best && a.loss == r.loss && a.case.n == r.case.n && a.case.offset == 0
                })
                .map(|a| format!("{} {:.2}×", r.loss, r.fused.median / a.fused.median))
        })
        .collect();
    if !offset_cost.is_empty() {
        println!(
            "Misalignment cost at 4096 on {best} (+1 elem / aligned): {}.",
            offset_cost.join(", ")
        );
    }
    if notes.is_empty() {
        println!("Check: every fused value and gradient matched the plain loop's (rel 1e-5).");
    } else {
        println!("Check failures (fused vs plain loop):");
        for note in &notes {
            println!("- {note}");
        }
    }
}

/// The AVX-512 and AVX2 bars of DESIGN.md §4 for transcendental kernels:
/// fused at least this many times faster than the plain loop.
fn softmax_plain_bar(isa: Isa) -> Option<f64> {
    match isa {
        Isa::Avx512 => Some(8.0),
        Isa::Avx2 => Some(4.0),
        _ => None,
    }
}

/// One timed thing in a softmax group.
#[derive(Clone, Copy, PartialEq)]
enum SoftmaxVariant {
    Fused(Isa),
    /// `c = a + k·b` with `a = b = logits`, `c = grad`: the same bytes.
    Triad,
    Plain,
    /// NCHW → NHWC, then the `[N·S, C, 1]` call on the best ISA.
    TransposeFused,
    /// The same, and the gradient transposed back to NCHW.
    TransposeFusedBack,
}

/// The results of one shape.
struct SoftmaxRows {
    shape: SoftmaxShape,
    isas: Vec<Isa>,
    fused: Vec<Timing>,
    triad: Timing,
    plain: Timing,
    /// (transpose + fused, transpose + fused + back), NCHW maps only.
    transposed: Option<(Timing, Timing)>,
    note: Option<String>,
}

/// Rounds (at least 3, at most the first number, while the shape's time
/// budget lasts) and batch length for a shape: a VOC NCHW round calls
/// every variant once, ~2 s on a 2-core machine (the scalar path and the
/// plain loop take ~0.5 s each).
fn softmax_schedule(len: usize) -> (usize, Duration, Duration) {
    if len >= 1 << 24 {
        (7, Duration::from_millis(30), Duration::from_secs(8))
    } else {
        (15, Duration::from_millis(15), Duration::from_secs(3))
    }
}

/// Calibrates a batch for every variant, then times them in interleaved
/// rounds (at least 3, at most `rounds`, while `budget` lasts);
/// `run(v, iters)` times a batch and returns seconds per call.
fn interleaved<V: Copy>(
    variants: &[V],
    (rounds, target, budget): (usize, Duration, Duration),
    mut run: impl FnMut(V, u64) -> f64,
) -> Vec<Timing> {
    let started = Instant::now();
    let iters: Vec<u64> = variants
        .iter()
        .map(|&v| calibrate(target, |i| run(v, i)))
        .collect();
    let mut samples = vec![Vec::with_capacity(rounds); variants.len()];
    for round in 0..rounds {
        if round >= 3 && started.elapsed() > budget {
            break;
        }
        for ((&v, &it), s) in variants.iter().zip(&iters).zip(&mut samples) {
            s.push(run(v, it));
        }
    }
    samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(f64::total_cmp);
            Timing {
                median: s[s.len() / 2],
                min: s[0],
            }
        })
        .collect()
}

/// Times every variant of one shape in interleaved rounds.
fn softmax_shape<T: Label + Copy + Into<i64>>(
    sh: SoftmaxShape,
    labels: &[T],
    triad_fn: TriadFn,
) -> SoftmaxRows {
    let dims = (sh.n, sh.c, sh.s);
    let shape = ClassShape::new(sh.n, sh.c, sh.s).expect("valid shape");
    let nhwc = ClassShape::classifier(sh.samples(), sh.c).expect("valid shape");
    let logits = AlignedBuf::uniform(sh.len(), 0, 0x50f7_0001, -4.0, 4.0);
    let mut grad = AlignedBuf::new(sh.len(), 0);
    let transposing = sh.s > 1;
    let t_len = if transposing { sh.len() } else { 0 };
    let mut x_t = AlignedBuf::new(t_len, 0);
    let mut g_t = AlignedBuf::new(t_len, 0);
    let x = logits.as_slice();
    let best = SoftmaxCrossEntropy::new();

    let isas: Vec<Isa> = Isa::available().collect();
    let mut variants: Vec<SoftmaxVariant> =
        isas.iter().map(|&i| SoftmaxVariant::Fused(i)).collect();
    variants.extend([SoftmaxVariant::Triad, SoftmaxVariant::Plain]);
    if transposing {
        variants.extend([
            SoftmaxVariant::TransposeFused,
            SoftmaxVariant::TransposeFusedBack,
        ]);
    }

    // The fused value and gradient against the plain loop's, on every ISA.
    let mut plain_grad = vec![0.0f32; sh.len()];
    let plain_value = plain_ce(x, dims, labels, &mut plain_grad);
    let grad_scale = plain_grad.iter().fold(0.0f32, |m, g| m.max(g.abs()));
    let mut note = None;
    for &isa in &isas {
        let ce = best.with_isa(isa).expect("available ISA");
        let g = grad.as_mut_slice();
        let v = ce
            .value_and_grad(x, shape, labels, Reduction::Mean, Grad::overwrite(g))
            .expect("valid inputs");
        let rel = f64::from((v - plain_value).abs()) / f64::from(plain_value.abs());
        let diff = grad
            .as_slice()
            .iter()
            .zip(&plain_grad)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        if rel > 1e-5 || diff > 1e-5 * grad_scale {
            note = Some(format!(
                "{isa}: value {v} vs plain {plain_value} (rel {rel:.1e}), max |Δgrad| {diff:.1e}"
            ));
        }
    }

    let run = |v: SoftmaxVariant, iters: u64| -> f64 {
        let g = grad.as_mut_slice();
        let elapsed = match v {
            SoftmaxVariant::Fused(isa) => {
                let ce = best.with_isa(isa).expect("available ISA");
                batch(iters, || {
                    let r = ce.value_and_grad(
                        black_box(x),
                        shape,
                        black_box(labels),
                        Reduction::Mean,
                        Grad::overwrite(black_box(&mut *g)),
                    );
                    black_box(r).ok();
                })
            }
            SoftmaxVariant::Triad => batch(iters, || {
                triad_fn(black_box(x), black_box(x), black_box(&mut *g), TRIAD_K);
                black_box(&mut *g);
            }),
            SoftmaxVariant::Plain => batch(iters, || {
                black_box(plain_ce(
                    black_box(x),
                    dims,
                    black_box(labels),
                    black_box(&mut *g),
                ));
            }),
            SoftmaxVariant::TransposeFused | SoftmaxVariant::TransposeFusedBack => {
                let back = v == SoftmaxVariant::TransposeFusedBack;
                batch(iters, || {
                    nchw_to_nhwc(black_box(x), x_t.as_mut_slice(), dims);
                    let r = best.value_and_grad(
                        x_t.as_slice(),
                        nhwc,
                        black_box(labels),
                        Reduction::Mean,
                        Grad::overwrite(g_t.as_mut_slice()),
                    );
                    black_box(r).ok();
                    if back {
                        nhwc_to_nchw(g_t.as_slice(), black_box(&mut *g), dims);
                    }
                })
            }
        };
        #[allow(clippy::cast_precision_loss)]
        let per_call = elapsed.as_secs_f64() / iters as f64;
        per_call
    };
    let t = interleaved(&variants, softmax_schedule(sh.len()), run);
    let k = isas.len();
    SoftmaxRows {
        shape: sh,
        fused: t[..k].to_vec(),
        triad: t[k],
        plain: t[k + 1],
        transposed: transposing.then(|| (t[k + 2], t[k + 3])),
        isas,
        note,
    }
}

/// ns per logit of a per-call time.
fn ns_per_logit(secs: f64, sh: SoftmaxShape) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let logits = sh.len() as f64;
    secs * 1e9 / logits
}

/// The softmax table.
fn softmax_report() {
    let best = Isa::best();
    let (triad_fn, triad_isa) = common::best_triad();
    let mut results = Vec::new();
    for sh in SHAPES {
        eprintln!("measuring softmax {} {} ...", sh.name, sh.label());
        let rows = if sh.c > 255 {
            let labels: Vec<i64> = (0..sh.samples())
                .map(|j| i64::try_from(label(j, sh.c)).expect("fits"))
                .collect();
            softmax_shape(sh, &labels, triad_fn)
        } else {
            let labels: Vec<u8> = (0..sh.samples())
                .map(|j| u8::try_from(label(j, sh.c)).expect("fits"))
                .collect();
            softmax_shape(sh, &labels, triad_fn)
        };
        results.push(rows);
    }

    println!("\n## simdloss: fused value + gradient, softmax cross-entropy\n");
    println!(
        "- `SoftmaxCrossEntropy::value_and_grad(.., Reduction::Mean, Grad::overwrite(..))`, index labels (`i64` for C > 255, else `u8`), logits uniform in [−4, 4); median of interleaved rounds (min in brackets; `~`: median > {NOISY}× min)"
    );
    println!(
        "- triad: `c[i] = a[i] + k·b[i]` with a = b = logits, c = grad ({triad_isa}): one read of every logit, one write of every gradient element"
    );
    println!(
        "- plain: per sample max, `libm::expf` sum (kept in the gradient), `logf`, then p − onehot; baseline target, f64 sum"
    );
    println!(
        "- kernel: rows for S = 1 and C ≥ {}, tiles otherwise",
        simdloss::loss::softmax::ROW_KERNEL_MIN_CLASSES
    );
    println!();
    println!(
        "| shape | ISA | fused / call | ns / logit | triad ns / logit | × triad | plain ns / logit | speed-up vs plain | bar |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let (mut passed, mut failed) = (0, 0);
    let mut verdict = |ok: bool, what: String| {
        if ok {
            passed += 1;
            format!("PASS ({what})")
        } else {
            failed += 1;
            format!("**FAIL** ({what})")
        }
    };
    let mut extra = Vec::new();
    for r in &results {
        let sh = r.shape;
        let kernel = if sh.s == 1 && sh.c >= simdloss::loss::softmax::ROW_KERNEL_MIN_CLASSES {
            "rows"
        } else {
            "tiles"
        };
        for (&isa, &fused) in r.isas.iter().zip(&r.fused) {
            let speedup = r.plain.median / fused.median;
            let bar = match softmax_plain_bar(isa) {
                Some(b) if isa == best => {
                    verdict(speedup >= b, format!("×plain {speedup:.1} ≥ {b}"))
                }
                _ => String::from("—"),
            };
            let noisy = if fused.median > NOISY * fused.min {
                " ~"
            } else {
                ""
            };
            println!(
                "| {} {} ({kernel}) | {isa} | {} [{}]{noisy} | {:.3} | {:.3} | {:.2} | {:.2} | {:.1}× | {bar} |",
                sh.name,
                sh.label(),
                fmt_time(fused.median),
                fmt_time(fused.min),
                ns_per_logit(fused.median, sh),
                ns_per_logit(r.triad.median, sh),
                fused.median / r.triad.median,
                ns_per_logit(r.plain.median, sh),
                speedup,
            );
        }
        if let Some((tf, tfb)) = r.transposed {
            let fused_best = r
                .isas
                .iter()
                .zip(&r.fused)
                .find(|(i, _)| **i == best)
                .map_or(f64::NAN, |(_, t)| t.median);
            let ratio = tf.median / fused_best;
            let bar = verdict(
                ratio > 1.0,
                format!(
                    "NCHW {:.3} < transposed {:.3} ns/logit",
                    ns_per_logit(fused_best, sh),
                    ns_per_logit(tf.median, sh)
                ),
            );
            println!(
                "| {} {} → NHWC [{}, {}, 1] + fused | {best} | {} | {:.3} | — | {:.2} | — | NCHW {ratio:.2}× faster | {bar} |",
                sh.name,
                sh.label(),
                sh.samples(),
                sh.c,
                fmt_time(tf.median),
                ns_per_logit(tf.median, sh),
                tf.median / r.triad.median,
            );
            extra.push(format!(
                "{} {}: transposing the gradient back as well costs {} a call ({:.3} ns/logit, NCHW {:.2}× faster).",
                sh.name,
                sh.label(),
                fmt_time(tfb.median),
                ns_per_logit(tfb.median, sh),
                tfb.median / fused_best
            ));
        }
        if let Some(n) = &r.note {
            extra.push(format!("Check failure, {} {}: {n}", sh.name, sh.label()));
        }
    }
    println!();
    println!(
        "Bars (on {best}): fused ≥ 8× the plain loop on AVX-512, ≥ 4× on AVX2; the NCHW map faster per logit than transposing to channels-last and running that kernel. {passed} PASS, {failed} FAIL."
    );
    for line in &extra {
        println!("{line}");
    }
    if results.iter().all(|r| r.note.is_none()) {
        println!("Check: every fused value and gradient matched the plain loop's (rel 1e-5).");
    }
}

/// MONAI 1.6 on PyTorch, one thread, ns per logit, as quoted in issue 9
/// (`issues show 9`, "Dice, Jaccard, Tversky and generalized Dice
/// losses"): quoted, not measured here. `DiceLoss(softmax)` on
/// `[4, 21, 512, 512]`.
const MONAI_DICE_SOFTMAX_NS: f64 = 12.1;
/// `DiceCELoss` on `[4, 21, 512, 512]` (issue 9; quoted, not measured here).
const MONAI_DICE_CE_NS: f64 = 18.8;
/// Binary `DiceLoss(sigmoid)` on `[8, 1, 512, 512]` (issue 9; quoted, not
/// measured here).
const MONAI_DICE_SIGMOID_NS: f64 = 1.49;

/// Issue 9: binary sigmoid Dice at most this many times the triad.
const DICE_SIGMOID_TRIAD_BAR: f64 = 2.5;
/// Issue 9: softmax Dice + CE at most this many times the triad.
const DICE_CE_TRIAD_BAR: f64 = 3.0;
/// Issue 9: fused Dice + CE at least this many times faster than our Dice
/// followed by our CE.
const DICE_CE_SPLIT_BAR: f64 = 1.3;

/// The loss of a Dice row.
#[derive(Clone, Copy, PartialEq)]
enum DiceKind {
    /// `Dice::new(Activation::Softmax)`.
    Softmax,
    /// `DiceCrossEntropy::new()`.
    DiceCe,
    /// `Dice::new(Activation::Sigmoid)`, one channel.
    Sigmoid,
    /// `GeneralizedDice::new(Activation::Softmax)`.
    Generalized,
}

/// One benchmarked Dice call.
#[derive(Clone, Copy)]
struct DiceCase {
    kind: DiceKind,
    name: &'static str,
    shape: SoftmaxShape,
    plain: PlainDiceFn,
    /// MONAI's ns per logit quoted in issue 9, if it quotes one.
    monai: Option<f64>,
    /// The issue's bar on × triad, if any.
    triad_bar: Option<f64>,
}

/// The four Dice calls.
const DICE_CASES: [DiceCase; 4] = [
    DiceCase {
        kind: DiceKind::Softmax,
        name: "Dice(softmax)",
        shape: dice::VOC,
        plain: dice::plain_dice_softmax,
        monai: Some(MONAI_DICE_SOFTMAX_NS),
        triad_bar: None,
    },
    DiceCase {
        kind: DiceKind::DiceCe,
        name: "DiceCE",
        shape: dice::VOC,
        plain: dice::plain_dice_ce,
        monai: Some(MONAI_DICE_CE_NS),
        triad_bar: Some(DICE_CE_TRIAD_BAR),
    },
    DiceCase {
        kind: DiceKind::Sigmoid,
        name: "Dice(sigmoid)",
        shape: dice::BINARY,
        plain: dice::plain_dice_sigmoid,
        monai: Some(MONAI_DICE_SIGMOID_NS),
        triad_bar: Some(DICE_SIGMOID_TRIAD_BAR),
    },
    DiceCase {
        kind: DiceKind::Generalized,
        name: "GeneralizedDice(softmax)",
        shape: dice::VOC,
        plain: dice::plain_generalized_dice,
        monai: None,
        triad_bar: None,
    },
];

/// One timed thing in a Dice group.
#[derive(Clone, Copy, PartialEq)]
enum DiceVariant {
    Fused(Isa),
    /// [`dice::triad_with_labels`]: the bytes of the call.
    Triad,
    Plain,
    /// Dice + CE only: our `Dice(softmax)`, then our `SoftmaxCrossEntropy`
    /// accumulating into the same gradient, on the best ISA.
    DiceThenCe,
}

/// The results of one Dice case.
struct DiceRows {
    case: DiceCase,
    isas: Vec<Isa>,
    fused: Vec<Timing>,
    triad: Timing,
    plain: Timing,
    dice_then_ce: Option<Timing>,
    notes: Vec<String>,
}

/// Times every variant of one Dice case in interleaved rounds.
fn dice_case<L: ClassAxisLoss + Copy>(case: DiceCase, loss: L, triad_fn: TriadFn) -> DiceRows {
    let sh = case.shape;
    let dims = (sh.n, sh.c, sh.s);
    let shape = ClassShape::new(sh.n, sh.c, sh.s).expect("valid shape");
    let labels = dice::labels(sh);
    let labels = labels.as_slice();
    let logits = AlignedBuf::uniform(sh.len(), 0, 0x50f7_0001, -4.0, 4.0);
    let mut grad = AlignedBuf::new(sh.len(), 0);
    let x = logits.as_slice();
    let split = case.kind == DiceKind::DiceCe;

    let isas: Vec<Isa> = Isa::available().collect();
    let mut variants: Vec<DiceVariant> = isas.iter().map(|&i| DiceVariant::Fused(i)).collect();
    variants.extend([DiceVariant::Triad, DiceVariant::Plain]);
    if split {
        variants.push(DiceVariant::DiceThenCe);
    }

    // The fused value and gradient against the plain loop's, on every ISA
    // (and the split calls against the fused one).
    let mut plain_grad = vec![0.0f32; sh.len()];
    let plain_value = (case.plain)(x, dims, labels, &mut plain_grad);
    let grad_scale = plain_grad.iter().fold(0.0f32, |m, g| m.max(g.abs()));
    let mut notes = Vec::new();
    let mut compare = |what: String, v: f32, g: &[f32]| {
        let rel = f64::from((v - plain_value).abs()) / f64::from(plain_value.abs());
        let diff = g
            .iter()
            .zip(&plain_grad)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        if !(rel <= 1e-4 && diff <= 1e-4 * grad_scale) {
            notes.push(format!(
                "{what}: value {v} vs plain {plain_value} (rel {rel:.1e}), max |Δgrad| {diff:.1e} (max |grad| {grad_scale:.1e})"
            ));
        }
    };
    for &isa in &isas {
        let l = loss.with_isa(isa).expect("available ISA");
        let v = l
            .value_and_grad(
                x,
                shape,
                labels,
                Reduction::Mean,
                Grad::overwrite(grad.as_mut_slice()),
            )
            .expect("valid inputs");
        compare(isa.name().to_string(), v, grad.as_slice());
    }
    let dice_softmax = Dice::new(Activation::Softmax);
    let ce = SoftmaxCrossEntropy::new();
    let run_split = |g: &mut [f32]| -> f32 {
        let d = dice_softmax.value_and_grad(
            x,
            shape,
            labels,
            Reduction::Mean,
            Grad::overwrite(&mut *g),
        );
        let c = ce.value_and_grad(x, shape, labels, Reduction::Mean, Grad::accumulate(g));
        d.and_then(|d| c.map(|c| d + c)).unwrap_or(f32::NAN)
    };
    if split {
        let v = run_split(grad.as_mut_slice());
        compare(String::from("Dice → CE"), v, grad.as_slice());
    }

    let run = |v: DiceVariant, iters: u64| -> f64 {
        let g = grad.as_mut_slice();
        let elapsed = match v {
            DiceVariant::Fused(isa) => {
                let l = loss.with_isa(isa).expect("available ISA");
                batch(iters, || {
                    let r = l.value_and_grad(
                        black_box(x),
                        shape,
                        black_box(labels),
                        Reduction::Mean,
                        Grad::overwrite(black_box(&mut *g)),
                    );
                    black_box(r).ok();
                })
            }
            DiceVariant::Triad => batch(iters, || {
                black_box(dice::triad_with_labels(
                    triad_fn,
                    black_box(x),
                    black_box(labels),
                    black_box(&mut *g),
                ));
            }),
            DiceVariant::Plain => batch(iters, || {
                black_box((case.plain)(
                    black_box(x),
                    dims,
                    black_box(labels),
                    black_box(&mut *g),
                ));
            }),
            DiceVariant::DiceThenCe => batch(iters, || {
                black_box(run_split(black_box(&mut *g)));
            }),
        };
        #[allow(clippy::cast_precision_loss)]
        let per_call = elapsed.as_secs_f64() / iters as f64;
        per_call
    };
    let t = interleaved(&variants, softmax_schedule(sh.len()), run);
    let k = isas.len();
    DiceRows {
        case,
        fused: t[..k].to_vec(),
        triad: t[k],
        plain: t[k + 1],
        dice_then_ce: split.then(|| t[k + 2]),
        isas,
        notes,
    }
}

/// The Dice table.
fn dice_report() {
    let best = Isa::best();
    let (triad_fn, triad_isa) = common::best_triad();
    let mut results = Vec::new();
    for case in DICE_CASES {
        eprintln!("measuring {} {} ...", case.name, case.shape.label());
        let rows = match case.kind {
            DiceKind::Softmax => dice_case(case, Dice::new(Activation::Softmax), triad_fn),
            DiceKind::DiceCe => dice_case(case, DiceCrossEntropy::new(), triad_fn),
            DiceKind::Sigmoid => dice_case(case, Dice::new(Activation::Sigmoid), triad_fn),
            DiceKind::Generalized => {
                dice_case(case, GeneralizedDice::new(Activation::Softmax), triad_fn)
            }
        };
        results.push(rows);
    }

    println!("\n## simdloss: fused value + gradient, Dice family\n");
    println!(
        "- `value_and_grad(.., Reduction::Mean, Grad::overwrite(..))`, MONAI defaults (smooth 1e-5, background included, per image), `u8` index labels (`[8, 1, 512²]`: the 0/1 mask), logits uniform in [−4, 4); median of interleaved rounds (min in brackets; `~`: median > {NOISY}× min)"
    );
    println!(
        "- triad: `c[i] = a[i] + k·b[i]` with a = b = logits, c = grad ({triad_isa}), then a read of every label: one read of every logit and label, one write of every gradient element"
    );
    println!(
        "- plain: per pixel max, `libm::expf` softmax (sigmoid: `1/(1+expf(−x))`) kept in the gradient buffer, f64 per-(n, c) sums; the ratio; then a second loop for the gradient through the ratio and the activation (DiceCE: one softmax for both halves, `logf` per pixel); baseline target"
    );
    println!(
        "- MONAI: MONAI 1.6 on PyTorch, one thread, as quoted in issue 9 — **quoted, not measured here** (the issue quotes no GeneralizedDice number)"
    );
    println!();
    println!(
        "| loss | shape | ISA | fused / call | ns / logit | triad ns / logit | × triad | plain ns / logit | speed-up vs plain | MONAI ns / logit (quoted, not measured here) | speed-up vs MONAI | bar |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let (mut passed, mut failed) = (0, 0);
    let mut verdict = |ok: bool, what: String| {
        if ok {
            passed += 1;
            format!("PASS ({what})")
        } else {
            failed += 1;
            format!("**FAIL** ({what})")
        }
    };
    let mut extra = Vec::new();
    for r in &results {
        let sh = r.case.shape;
        for (&isa, &fused) in r.isas.iter().zip(&r.fused) {
            let speedup = r.plain.median / fused.median;
            let ratio = fused.median / r.triad.median;
            let ns = ns_per_logit(fused.median, sh);
            let mut bars = Vec::new();
            if isa == best {
                if let Some(b) = softmax_plain_bar(isa) {
                    bars.push(verdict(speedup >= b, format!("×plain {speedup:.1} ≥ {b}")));
                }
                if let Some(b) = r.case.triad_bar {
                    bars.push(verdict(ratio <= b, format!("×triad {ratio:.2} ≤ {b}")));
                }
            }
            let bar = if bars.is_empty() {
                String::from("—")
            } else {
                bars.join("; ")
            };
            let (monai, vs_monai) = match r.case.monai {
                Some(m) => (format!("{m:.2}"), format!("{:.1}×", m / ns)),
                None => (String::from("—"), String::from("—")),
            };
            let noisy = if fused.median > NOISY * fused.min {
                " ~"
            } else {
                ""
            };
            println!(
                "| {} | {} | {isa} | {} [{}]{noisy} | {ns:.3} | {:.3} | {ratio:.2} | {:.2} | {speedup:.1}× | {monai} | {vs_monai} | {bar} |",
                r.case.name,
                sh.label(),
                fmt_time(fused.median),
                fmt_time(fused.min),
                ns_per_logit(r.triad.median, sh),
                ns_per_logit(r.plain.median, sh),
            );
        }
        if let Some(split) = r.dice_then_ce {
            let fused_best = r
                .isas
                .iter()
                .zip(&r.fused)
                .find(|(i, _)| **i == best)
                .map_or(f64::NAN, |(_, t)| t.median);
            let faster = split.median / fused_best;
            let bar = verdict(
                faster >= DICE_CE_SPLIT_BAR,
                format!("fused {faster:.2}× faster ≥ {DICE_CE_SPLIT_BAR}"),
            );
            let noisy = if split.median > NOISY * split.min {
                " ~"
            } else {
                ""
            };
            println!(
                "| Dice(softmax) → CE, two calls | {} | {best} | {} [{}]{noisy} | {:.3} | {:.3} | {:.2} | — | — | — | — | {bar} |",
                sh.label(),
                fmt_time(split.median),
                fmt_time(split.min),
                ns_per_logit(split.median, sh),
                ns_per_logit(r.triad.median, sh),
                split.median / r.triad.median,
            );
        }
        for n in &r.notes {
            extra.push(format!(
                "Check failure, {} {}: {n}",
                r.case.name,
                sh.label()
            ));
        }
    }
    println!();
    println!(
        "Bars (on {best}): fused ≥ 8× the plain loop on AVX-512, ≥ 4× on AVX2 (DESIGN.md §4); issue 9: Dice(sigmoid) ≤ {DICE_SIGMOID_TRIAD_BAR}× the triad, DiceCE ≤ {DICE_CE_TRIAD_BAR}× the triad and ≥ {DICE_CE_SPLIT_BAR}× faster than our Dice followed by our CE. {passed} PASS, {failed} FAIL."
    );
    for line in &extra {
        println!("{line}");
    }
    if results.iter().all(|r| r.notes.is_empty()) {
        println!(
            "Check: every fused value and gradient matched the plain loop's (value rel 1e-4, gradient 1e-4 of its largest element)."
        );
    }
}

fn main() {
    let started = Instant::now();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let (softmax_only, dice_only) = (flag("--softmax-only"), flag("--dice-only"));
    // `--X-only` flags select their sections (several may be given);
    // without one, every section runs but those a `--no-X` skips.
    let some_only = softmax_only || dice_only;
    if !some_only {
        regression_report();
    }
    if (!some_only || softmax_only) && !flag("--no-softmax") {
        softmax_report();
    }
    if (!some_only || dice_only) && !flag("--no-dice") {
        dice_report();
    }
    println!("Took {:.0} s.", started.elapsed().as_secs_f64());
}
