//! Prints markdown tables of simdloss's fused value + gradient speed on
//! every ISA this CPU has, against yardsticks measured in the same run: the
//! streaming triad `c[i] = a[i] + k·b[i]` (the memory traffic of a fused
//! pass) and the plain scalar loop a user would write.
//!
//! ```text
//! cargo run --release --example bench_report [FLAGS]
//! ```
//!
//! Sections, in the order they print, and the flags that select them:
//!
//! | section | flag: only it | flag: skip it |
//! |---|---|---|
//! | regression losses | (runs unless an `--X-only` flag is given) | — |
//! | transcendental pointwise losses, then small calls | `--binary-only` | `--no-binary` |
//! | softmax cross-entropy | `--softmax-only` | `--no-softmax` |
//! | Dice family | `--dice-only` | `--no-dice` |
//!
//! `--small-calls-only` prints only the small-calls table (issue 10's fixed
//! cost per call), `--threads-only` only the thread-scaling table (issue
//! 11; needs the `rayon` feature).
//!
//! Without flags every section runs. `--binary-only`, `--softmax-only` and
//! `--dice-only` run only their sections (several: all of those); a
//! `--no-X` flag skips its section even if `--X-only` selected it. An
//! unknown flag is reported on stderr and ignored.
//!
//! Plots (the transcendental section only; nothing is plotted when it does
//! not run):
//!
//! | flag | effect |
//! |---|---|
//! | `--plot-dir <dir>` (or `--plot-dir=<dir>`) | write the SVG plots into `<dir>` (created if missing; relative to the current directory). Default: `docs` |
//! | `--no-plot` | write no plot |
//!
//! After the transcendental table the section writes four self-contained
//! SVG charts (`benches/common/svg.rs`, hand-written SVG, no plotting
//! crate), ns per element (log scale) against n (4096, 2^18, 2^24; log2
//! scale), and lists their paths under the table:
//! `bench_transcendental.svg` (every loss of the table on `Isa::best()`
//! and the triad), and one chart per loss with a line per available ISA
//! beside the triad and the plain loop: `bench_bce_with_logits.svg`,
//! `bench_sigmoid_focal.svg`, `bench_exp.svg`. A file that cannot be
//! written is reported (stderr and the list), not fatal.
//!
//! **Regression losses** (MSE, L1, Huber δ = 1, `SmoothL1` β = 1) against
//! the two yardsticks of DESIGN.md §4: the triad (bar: ≤ 1.15× its time at
//! 2^18 and 2^24 elements) and the plain scalar loop (bar: ≥ 6× faster at
//! 4096 elements), judged on the ISA `Isa::best()` picks; 4096 also with
//! every buffer one element past alignment.
//!
//! **Transcendental pointwise losses** (`--binary-only`; skipped by
//! `--no-binary`): BCE on probabilities uniform in [0, 1), BCE with
//! logits and sigmoid focal (α = 0.25, γ = 2) on logits uniform in
//! [−8, 8), hard targets (0 or 1, half each), and `exp` over a slice
//! (`simdloss::elementwise::map(isa, Function::Exp, logits, out)`), at
//! 4096, 2^18 and 2^24 elements, beside the triad and the plain `libm`
//! loop (`benches/common`'s `binary` module, shared with
//! `benches/binary.rs`; for `exp`, `libm::expf` per element). Issue 10's
//! bars, at 2^18: on AVX-512 BCE with logits ≤ 5× the triad, BCE ≤ 4×,
//! focal ≤ 9×, exp ≤ 1.5×; the AVX2 row (when AVX-512 exists too) ≤ 2×
//! the AVX-512 time of the same loss; and DESIGN.md §4's ≥ 8× the plain
//! loop on AVX-512, ≥ 4× on AVX2. The triad bars are judged when
//! `Isa::best()` is AVX-512 (issue 10 states them for AVX-512 only).
//!
//! **Small calls** (printed after the transcendental table, same flags):
//! ns per call at n = 16, 64 and 256 on `Isa::best()` for every pointwise
//! loss (the regression ones, BCE, BCE with logits, focal, and BCE with
//! logits with a per-element `weight`, a scalar `pos_weight` and a
//! per-class `pos_weight`), and the fixed cost `t(64) − 64·t(4096)/4096`,
//! with `t(4096)` timed in the same interleaved rounds. Bar (issue 10):
//! fixed cost ≤ 40 ns for every loss.
//!
//! **Softmax cross-entropy** (`Reduction::Mean`, index labels, gradient
//! overwritten) on `[N, C, S]` shapes: ImageNet `[4096, 1000, 1]`, a 32k
//! vocabulary `[64, 32000, 1]` (row kernel), VOC `[4, 21, 512²]` NCHW and
//! `[65536, 21, 1]` channels-last (tile kernel), in ns per logit against a
//! streaming triad over the same bytes (one read of every logit, one write
//! of every gradient element), the plain scalar loop (bar: ≥ 8× on
//! AVX-512, ≥ 4× on AVX2), and, for the NCHW map, transposing to
//! channels-last and running the `[N·H·W, 21, 1]` call (bar: the NCHW call
//! is faster per logit).
//!
//! **The Dice family** (`Reduction::Mean`, `u8` index labels, gradient
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
//! Every section also checks, outside the timing, that the fused call and
//! its plain loop compute the same thing (value and gradient or output).
//!
//! No criterion: every variant of a group (each ISA, the triad, the plain
//! loop; for small calls, each size) is timed in interleaved rounds over
//! the same buffers, allocated once; each round times a batch of calls
//! long enough for the clock; the table shows the median over rounds. A
//! FAIL is reported, never turned into an exit code: timings on a shared
//! machine are noisy.

#[path = "../benches/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::binary::{self, ALPHA, Buffers, GAMMA};
use common::dice::{self, PlainDiceFn};
use common::plain::{self, PlainFn};
use common::softmax::{SHAPES, SoftmaxShape, label, nchw_to_nhwc, nhwc_to_nchw, plain_ce};
use common::svg::{self, Axis, Chart, Scale, Series};
use common::{AlignedBuf, SIZES, Streams, TRIAD_K, TriadFn};
use simdloss::elementwise::{Function, map};
use simdloss::{
    Activation, BinaryCrossEntropy, BinaryCrossEntropyWithLogits, ClassAxisLoss, ClassShape, Dice,
    DiceCrossEntropy, GeneralizedDice, Grad, Huber, Isa, L1, Label, LossError, Mse, PointwiseLoss,
    Reduction, SigmoidFocal, SmoothL1, SoftmaxCrossEntropy,
};

/// Fused at 2^18 and 2^24 must take at most this many times the triad.
const TRIAD_BAR: f64 = 1.15;
/// Fused at 4096 must be at least this many times faster than the plain loop.
const PLAIN_BAR: f64 = 6.0;
/// A median this many times its round's minimum marks the row noisy (`~`).
const NOISY: f64 = 1.2;

/// How a group is timed: at most this many rounds, a batch of about this
/// wall time per variant and round, and a budget after which no new round
/// starts (at least 3 rounds always run).
type Schedule = (usize, Duration, Duration);

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

    /// The regression groups' schedule. Short batches (well under a
    /// scheduler time slice) keep most rounds clear of preemption on a
    /// shared machine, so the median stays honest; at 2^24 one call
    /// (~5 ms) is the batch. No budget: every round runs.
    fn schedule(self) -> Schedule {
        if self.n >= 1 << 24 {
            (25, Duration::from_millis(4), Duration::MAX)
        } else {
            (201, Duration::from_micros(500), Duration::MAX)
        }
    }

    /// The transcendental groups' schedule: as [`Case::schedule`], but a
    /// round at 2^24 takes 0.6–1.3 s (the plain loops and the scalar path
    /// take 0.1–0.6 s a call there), so fewer rounds, within a budget.
    fn binary_schedule(self) -> Schedule {
        if self.n >= 1 << 24 {
            (15, Duration::from_millis(4), Duration::from_secs(12))
        } else {
            (201, Duration::from_micros(500), Duration::from_secs(4))
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

/// Seconds per call of a batch of `iters` calls that took `elapsed`.
fn per_call(elapsed: Duration, iters: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let iters = iters as f64;
    elapsed.as_secs_f64() / iters
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

/// Calibrates a batch for every variant, then times them in interleaved
/// rounds (at least 3, at most `rounds`, while `budget` lasts);
/// `run(v, iters)` times a batch and returns seconds per call. The one
/// timing loop of every section.
fn interleaved<V: Copy>(
    variants: &[V],
    (rounds, target, budget): Schedule,
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

/// The call a pointwise group times on each ISA: a loss's fused value +
/// gradient, or a vector-math function over a slice.
trait Fused: Copy {
    /// This call on `isa`; `None` if this CPU cannot run it.
    fn on(self, isa: Isa) -> Option<Self>;
    /// One call over `input` and `target`, writing `out` (the gradient, or
    /// the function's values); the loss value, `None` if there is none.
    fn call(self, input: &[f32], target: &[f32], out: &mut [f32])
    -> Result<Option<f32>, LossError>;
}

/// A loss: `value_and_grad(.., Reduction::Mean, Grad::overwrite(out))`.
impl<L: PointwiseLoss + Copy> Fused for L {
    fn on(self, isa: Isa) -> Option<Self> {
        self.with_isa(isa).ok()
    }
    #[inline]
    fn call(
        self,
        input: &[f32],
        target: &[f32],
        out: &mut [f32],
    ) -> Result<Option<f32>, LossError> {
        self.value_and_grad(input, target, Reduction::Mean, Grad::overwrite(out))
            .map(Some)
    }
}

/// `simdloss::elementwise::map(isa, function, input, out)`: no target, no
/// value.
#[derive(Clone, Copy)]
struct Map {
    isa: Isa,
    function: Function,
}

impl Fused for Map {
    fn on(self, isa: Isa) -> Option<Self> {
        isa.is_available().then_some(Self { isa, ..self })
    }
    #[inline]
    fn call(
        self,
        input: &[f32],
        _target: &[f32],
        out: &mut [f32],
    ) -> Result<Option<f32>, LossError> {
        map(self.isa, self.function, input, out).map(|()| None)
    }
}

/// Times a batch of `iters` calls of `fused`, every operand through
/// `black_box`; seconds per call.
fn time_fused<F: Fused>(fused: F, iters: u64, x: &[f32], y: &[f32], out: &mut [f32]) -> f64 {
    let elapsed = batch(iters, || {
        let r = fused.call(black_box(x), black_box(y), black_box(&mut *out));
        black_box(r).ok();
    });
    per_call(elapsed, iters)
}

/// The group of one pointwise call at one case: every variant timed in
/// interleaved rounds over the same buffers.
struct Group<'a, F> {
    fused: F,
    plain_fn: PlainFn,
    triad_fn: TriadFn,
    input: &'a [f32],
    target: &'a [f32],
    /// The gradient (or map output), also the triad's and the plain loop's.
    out: &'a mut [f32],
    /// [`Group::check`]'s relative tolerance.
    tolerance: f32,
}

impl<'a, F: Fused> Group<'a, F> {
    /// The group of `fused` and its plain loop over `(input, target, out)`,
    /// checked to a relative 1e-5.
    fn new(
        fused: F,
        plain_fn: PlainFn,
        triad_fn: TriadFn,
        (input, target, out): (&'a [f32], &'a [f32], &'a mut [f32]),
    ) -> Self {
        Self {
            fused,
            plain_fn,
            triad_fn,
            input,
            target,
            out,
            tolerance: 1e-5,
        }
    }

    /// The same group, checked to a relative `tolerance` instead.
    fn tolerance(self, tolerance: f32) -> Self {
        Self { tolerance, ..self }
    }

    /// One batch of `iters` calls of `v`; seconds per call.
    fn run(&mut self, v: Variant, iters: u64) -> f64 {
        let (x, y) = (self.input, self.target);
        let g = &mut *self.out;
        match v {
            Variant::Fused(isa) => match self.fused.on(isa) {
                Some(fused) => time_fused(fused, iters, x, y, g),
                None => f64::NAN,
            },
            Variant::Triad => {
                let triad = self.triad_fn;
                let elapsed = batch(iters, || {
                    triad(black_box(x), black_box(y), black_box(&mut *g), TRIAD_K);
                    black_box(&mut *g);
                });
                per_call(elapsed, iters)
            }
            Variant::Plain => {
                let plain_fn = self.plain_fn;
                let elapsed = batch(iters, || {
                    black_box(plain_fn(black_box(x), black_box(y), black_box(&mut *g)));
                });
                per_call(elapsed, iters)
            }
        }
    }

    /// Calibrates, then times every variant in interleaved rounds.
    fn measure(&mut self, variants: &[Variant], schedule: Schedule) -> Vec<Timing> {
        interleaved(variants, schedule, |v, iters| self.run(v, iters))
    }

    /// The fused value (if it has one) and output on `isa` and the plain
    /// loop's agree, to [`Group::tolerance`] relative (the output: of its
    /// largest element)? Guards against a baseline that does different
    /// work.
    fn check(&mut self, isa: Isa) -> Option<String> {
        let (x, y) = (self.input, self.target);
        let mut plain_out = self.out.to_vec();
        let plain_value = (self.plain_fn)(x, y, &mut plain_out);
        let fused = self.fused.on(isa)?;
        let fused_value = match fused.call(x, y, self.out) {
            Ok(v) => v,
            Err(e) => return Some(format!("{isa}: fused call failed: {e}")),
        };
        let value_rel =
            fused_value.map(|v| f64::from((v - plain_value).abs()) / f64::from(plain_value.abs()));
        let out_abs = self
            .out
            .iter()
            .zip(&plain_out)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        let out_scale = plain_out.iter().map(|g| g.abs()).fold(0.0f32, f32::max);
        let tol = self.tolerance;
        // Written so that NaN fails.
        let value_ok = value_rel.is_none_or(|r| r <= f64::from(tol));
        let out_ok = out_abs <= tol * out_scale;
        (!value_ok || !out_ok).then(|| {
            let value = match (fused_value, value_rel) {
                (Some(v), Some(r)) => format!("value {v} vs plain {plain_value} (rel {r:.1e}), "),
                _ => String::new(),
            };
            format!("{isa}: {value}max |Δout| {out_abs:.1e} (max |out| {out_scale:.1e})")
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

/// `" ~"` if `t`'s median is more than [`NOISY`] times its minimum.
fn noisy(t: Timing) -> &'static str {
    if t.median > NOISY * t.min { " ~" } else { "" }
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
    /// The regression bar of this row, if one applies.
    fn regression_bar(&self, best: Isa) -> Option<(bool, String)> {
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

/// Times `group` on every available ISA beside the triad and the plain
/// loop (after checking that they agree; a disagreement goes to `notes`)
/// and appends one row per ISA.
fn run_loss<F: Fused>(
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
    name: &'static str,
    mut group: Group<'_, F>,
    case: Case,
    schedule: Schedule,
) {
    let isas: Vec<Isa> = Isa::available().collect();
    let mut variants: Vec<Variant> = isas.iter().map(|&i| Variant::Fused(i)).collect();
    variants.extend([Variant::Triad, Variant::Plain]);
    for &isa in &isas {
        if let Some(msg) = group.check(isa) {
            notes.push(format!("{name} {}: {msg}", case.label()));
        }
    }
    let t = group.measure(&variants, schedule);
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

/// `PASS (what)` or `**FAIL** (what)`, counted.
fn verdict(counts: &mut (usize, usize), (ok, what): (bool, String)) -> String {
    if ok {
        counts.0 += 1;
        format!("PASS ({what})")
    } else {
        counts.1 += 1;
        format!("**FAIL** ({what})")
    }
}

/// Prints `rows` as a markdown table (with a ns-per-element column if
/// `per_element`), `bars(row)` giving each row's bars (none: `—`);
/// returns the (PASS, FAIL) counts.
fn print_rows(
    rows: &[Row],
    per_element: bool,
    mut bars: impl FnMut(&Row) -> Vec<(bool, String)>,
) -> (usize, usize) {
    let per_element_head = if per_element { " ns / elem |" } else { "" };
    let per_element_rule = if per_element { "---|" } else { "" };
    println!(
        "| loss | n | ISA | fused / call |{per_element_head} triad / call | × triad | plain / call | speed-up vs plain | bar |"
    );
    println!("|---|---|---|---|{per_element_rule}---|---|---|---|---|");
    let mut counts = (0, 0);
    for row in rows {
        let verdicts: Vec<String> = bars(row)
            .into_iter()
            .map(|b| verdict(&mut counts, b))
            .collect();
        let bar = if verdicts.is_empty() {
            String::from("—")
        } else {
            verdicts.join("; ")
        };
        let ns_per_elem = if per_element {
            #[allow(clippy::cast_precision_loss)]
            let n = row.case.n as f64;
            format!(" {:.3} |", row.fused.median * 1e9 / n)
        } else {
            String::new()
        };
        println!(
            "| {} | {} | {} | {} [{}]{} |{ns_per_elem} {} | {:.2} | {} | {:.1}× | {bar} |",
            row.loss,
            row.case.label(),
            row.isa,
            fmt_time(row.fused.median),
            fmt_time(row.fused.min),
            noisy(row.fused),
            fmt_time(row.triad.median),
            row.triad_ratio(),
            fmt_time(row.plain.median),
            row.plain_speedup(),
        );
    }
    counts
}

/// The CPU and ISA lines of a section's header (and a warning in a debug
/// build).
fn print_machine() {
    println!(
        "- CPU: {} ({} threads)",
        common::cpu_model(),
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get)
    );
    println!(
        "- `Isa::best()`: **{}**; available: {}",
        Isa::best(),
        Isa::available()
            .map(Isa::name)
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// The debug-build warning, if this is one.
fn print_debug_warning() {
    if cfg!(debug_assertions) {
        println!("- **WARNING: debug build, numbers are meaningless: use --release**");
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
        let sched = case.schedule();
        let mse = Group::new(Mse::new(), plain::mse, triad_fn, s.parts());
        run_loss(r, n, "MSE", mse, case, sched);
        let l1 = Group::new(L1::new(), plain::l1, triad_fn, s.parts());
        run_loss(r, n, "L1", l1, case, sched);
        let huber = Group::new(huber, plain::huber, triad_fn, s.parts());
        run_loss(r, n, "Huber δ=1", huber, case, sched);
        let smooth_l1 = Group::new(smooth_l1, plain::smooth_l1, triad_fn, s.parts());
        run_loss(r, n, "SmoothL1 β=1", smooth_l1, case, sched);
    }

    println!("## simdloss: fused value + gradient, regression losses\n");
    println!("- command: `cargo run --release --example bench_report`");
    print_machine();
    println!(
        "- triad `c[i] = a[i] + k·b[i]` compiled for: {triad_isa}; plain loop: baseline target, f64 sum"
    );
    println!(
        "- `value_and_grad(.., Reduction::Mean, Grad::overwrite(..))`, buffers 64-byte aligned unless `+1 elem`; median of interleaved rounds (min in brackets; `~`: median > {NOISY}× min, the machine was busy)"
    );
    print_debug_warning();
    println!();
    let (passed, failed) = print_rows(&rows, false, |row| {
        row.regression_bar(best).into_iter().collect()
    });
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

/// Issue 10, at 2^18 on AVX-512: BCE at most this many times the triad.
const BCE_TRIAD_BAR: f64 = 4.0;
/// Issue 10, at 2^18 on AVX-512: BCE with logits at most this many times
/// the triad.
const BCE_LOGITS_TRIAD_BAR: f64 = 5.0;
/// Issue 10, at 2^18 on AVX-512: sigmoid focal (α = 0.25, γ = 2) at most
/// this many times the triad.
const FOCAL_TRIAD_BAR: f64 = 9.0;
/// Issue 10, at 2^18 on AVX-512: `exp` over a slice at most this many
/// times the triad.
const EXP_TRIAD_BAR: f64 = 1.5;
/// Issue 10, at 2^18: each AVX2 row at most this many times the AVX-512
/// time of the same loss.
const AVX2_VS_AVX512_BAR: f64 = 2.0;

/// The rows of the transcendental table.
const BCE: &str = "BCE";
const BCE_LOGITS: &str = "BCE with logits";
const FOCAL: &str = "sigmoid focal α=0.25 γ=2";
const EXP: &str = "exp over a slice";

/// Issue 10's triad bar of a transcendental row (AVX-512, 2^18).
fn binary_triad_bar(loss: &str) -> Option<f64> {
    match loss {
        BCE => Some(BCE_TRIAD_BAR),
        BCE_LOGITS => Some(BCE_LOGITS_TRIAD_BAR),
        FOCAL => Some(FOCAL_TRIAD_BAR),
        EXP => Some(EXP_TRIAD_BAR),
        _ => None,
    }
}

/// The bars of one transcendental row (see the module docs): at 2^18, on
/// AVX-512 (when it is `best`) the triad bar; on AVX2 (when AVX-512 is
/// `best`) ≤ 2× the AVX-512 time; on both, DESIGN.md's plain-loop bar.
fn binary_bars(row: &Row, rows: &[Row], best: Isa) -> Vec<(bool, String)> {
    let mut bars = Vec::new();
    if row.case.n != 1 << 18 {
        return bars;
    }
    let judged = row.isa == best || (row.isa == Isa::Avx2 && best == Isa::Avx512);
    if !judged {
        return bars;
    }
    if row.isa == Isa::Avx512
        && let Some(b) = binary_triad_bar(row.loss)
    {
        let r = row.triad_ratio();
        bars.push((r <= b, format!("×triad {r:.2} ≤ {b}")));
    }
    if row.isa == Isa::Avx2
        && let Some(avx512) = rows
            .iter()
            .find(|a| a.isa == Isa::Avx512 && a.loss == row.loss && a.case.n == row.case.n)
    {
        let r = row.fused.median / avx512.fused.median;
        bars.push((
            r <= AVX2_VS_AVX512_BAR,
            format!("×AVX-512 {r:.2} ≤ {AVX2_VS_AVX512_BAR}"),
        ));
    }
    if let Some(b) = transcendental_plain_bar(row.isa) {
        let s = row.plain_speedup();
        bars.push((s >= b, format!("×plain {s:.1} ≥ {b}")));
    }
    bars
}

/// The per-loss plots of the transcendental table, as (file name, loss,
/// chart title, legend of the plain loop): a line per ISA beside the triad
/// and the plain loop.
const PLOTS: [(&str, &str, &str, &str); 3] = [
    (
        "bench_bce_with_logits.svg",
        BCE_LOGITS,
        "BCE with logits, value + gradient",
        "plain loop (expf + log1pf)",
    ),
    (
        "bench_sigmoid_focal.svg",
        FOCAL,
        "sigmoid focal (α=0.25, γ=2), value + gradient",
        "plain loop (expf + log1pf + powf)",
    ),
    (
        "bench_exp.svg",
        EXP,
        "exp over a slice (elementwise::map)",
        "plain loop (libm::expf)",
    ),
];
/// The overview plot: every loss of the table on `Isa::best()`, and the
/// triad.
const OVERVIEW_PLOT: &str = "bench_transcendental.svg";

/// `t`'s median in ns per element of an `n`-element call.
fn ns_per_element(t: Timing, n: usize) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let n_f = n as f64;
    t.median * 1e9 / n_f
}

/// `(n, ns per element)` of `loss`'s rows that `keep` selects, timing
/// `time` of each (the fused call, the triad or the plain loop).
fn plot_points(
    rows: &[Row],
    loss: &str,
    keep: impl Fn(&Row) -> bool,
    time: impl Fn(&Row) -> Timing,
) -> Vec<(f64, f64)> {
    rows.iter()
        .filter(|r| r.loss == loss && keep(r))
        .map(|r| {
            #[allow(clippy::cast_precision_loss)]
            let n = r.case.n as f64;
            (n, ns_per_element(time(r), r.case.n))
        })
        .collect()
}

/// Writes the transcendental table's plots into `dir` (created if
/// missing): [`OVERVIEW_PLOT`], then one per [`PLOTS`] entry. Returns
/// each file's path, or why it could not be written.
fn binary_plots(rows: &[Row], best: Isa, dir: &Path) -> Vec<Result<PathBuf, String>> {
    let isas: Vec<Isa> = Isa::available().collect();
    let debug = if cfg!(debug_assertions) {
        " · DEBUG BUILD, numbers meaningless"
    } else {
        ""
    };
    let subtitle = format!(
        "{}, one thread · median of interleaved rounds, lower is better{debug}",
        common::cpu_model()
    );
    let x = Axis {
        label: "n, elements (log scale)",
        scale: Scale::Log2,
    };
    let y = Axis {
        label: "ns per element (log scale)",
        scale: Scale::Log10,
    };
    let triad = |loss: &str| {
        // Every ISA's row of a group carries the same triad and plain
        // timings: take the first ISA's.
        let first = isas[0];
        Series::new(
            "triad (c = a + k·b)",
            plot_points(rows, loss, |r| r.isa == first, |r| r.triad),
        )
        .dashed()
    };
    let mut charts = Vec::new();
    let overview_title = format!("simdloss: value + gradient on {best}, against the triad");
    let mut overview: Vec<Series> = [
        (BCE, "BCE"),
        (BCE_LOGITS, "BCE with logits"),
        (FOCAL, "focal (α=0.25, γ=2)"),
        (EXP, "exp over a slice"),
    ]
    .into_iter()
    .map(|(loss, name)| {
        Series::new(
            name,
            plot_points(rows, loss, |r| r.isa == best, |r| r.fused),
        )
    })
    .collect();
    overview.push(triad(BCE_LOGITS));
    charts.push((OVERVIEW_PLOT, overview_title, overview));
    for (file, loss, title, plain_name) in PLOTS {
        let mut series: Vec<Series> = isas
            .iter()
            .map(|&isa| {
                Series::new(
                    isa.name(),
                    plot_points(rows, loss, |r| r.isa == isa, |r| r.fused),
                )
            })
            .collect();
        series.push(triad(loss));
        let first = isas[0];
        series.push(
            Series::new(
                plain_name,
                plot_points(rows, loss, |r| r.isa == first, |r| r.plain),
            )
            .dashed(),
        );
        charts.push((file, format!("simdloss: {title}, per ISA"), series));
    }
    if let Err(e) = std::fs::create_dir_all(dir) {
        return vec![Err(format!("could not create `{}`: {e}", dir.display()))];
    }
    charts
        .into_iter()
        .map(|(file, title, series)| {
            let chart = Chart {
                title: &title,
                subtitle: &subtitle,
                x,
                y,
            };
            let path = dir.join(file);
            std::fs::write(&path, svg::line_chart(&chart, &series))
                .map(|()| path.clone())
                .map_err(|e| format!("could not write `{}`: {e}", path.display()))
        })
        .collect()
}

/// The transcendental pointwise losses' table (issue 10's bars), then the
/// small-calls table.
fn binary_report(plot_dir: Option<&Path>) {
    let best = Isa::best();
    let (triad_fn, triad_isa) = common::best_triad();
    let focal = SigmoidFocal::new(ALPHA, GAMMA).expect("α = 0.25, γ = 2 are valid");
    let exp = Map {
        isa: best,
        function: Function::Exp,
    };
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut heavy_rounds = None;
    for n in SIZES {
        let case = Case { n, offset: 0 };
        eprintln!("measuring transcendental losses, n = {} ...", case.label());
        let mut bufs = Buffers::new(n);
        let x = bufs.logits.as_slice();
        let p = bufs.probabilities.as_slice();
        let y = bufs.targets.as_slice();
        let g = bufs.grad.as_mut_slice();
        let sched = case.binary_schedule();
        if n >= 1 << 24 {
            heavy_rounds = Some(sched);
        }
        let bce = BinaryCrossEntropy::new();
        let group = Group::new(bce, binary::bce, triad_fn, (p, y, &mut *g));
        run_loss(&mut rows, &mut notes, BCE, group, case, sched);
        let logits = BinaryCrossEntropyWithLogits::new();
        let group = Group::new(logits, binary::bce_with_logits, triad_fn, (x, y, &mut *g));
        run_loss(&mut rows, &mut notes, BCE_LOGITS, group, case, sched);
        // Focal is checked to 1e-4, not 1e-5: its plain loop takes
        // `q^(γ−1)` by `powf` of `q = 1 − p_t` formed from σ, the fused
        // kernel `exp(γ·ln q)` with `ln q` in the log domain, and its
        // gradient is a sum of two terms of either sign, so it is the
        // least exact of the four (today 1.2e-6 of the largest gradient
        // element, every ISA, every size; its documented bound grows
        // with |γ·ln q| and may widen with issue 10's faster `pow`). A
        // baseline doing different work is off by far more than 1e-4.
        let group = Group::new(focal, binary::focal, triad_fn, (x, y, &mut *g)).tolerance(1e-4);
        run_loss(&mut rows, &mut notes, FOCAL, group, case, sched);
        let group = Group::new(exp, binary::exp, triad_fn, (x, y, &mut *g));
        run_loss(&mut rows, &mut notes, EXP, group, case, sched);
    }

    println!("\n## simdloss: fused value + gradient, transcendental pointwise losses\n");
    println!("- command: `cargo run --release --example bench_report -- --binary-only`");
    print_machine();
    println!(
        "- losses: `value_and_grad(.., Reduction::Mean, Grad::overwrite(..))`; exp: `simdloss::elementwise::map(isa, Function::Exp, logits, out)`; logits uniform in [−8, 8), probabilities uniform in [0, 1), hard targets (0 or 1, half each); buffers 64-byte aligned"
    );
    println!(
        "- triad `c[i] = a[i] + k·b[i]` over (input, target, gradient), compiled for: {triad_isa} (exp reads one stream, not two, and writes one)"
    );
    println!(
        "- plain (`benches/common` `binary`, as `benches/binary.rs`): BCE two `logf`; BCE with logits one `expf` + one `log1pf` (σ from the same `e^−|x|`); focal the same plus one `powf`; exp `libm::expf` per element; baseline target, f64 sum"
    );
    if let Some((rounds, batch, budget)) = heavy_rounds {
        println!(
            "- median of interleaved rounds (min in brackets; `~`: median > {NOISY}× min, the machine was busy); at 2^24 at most {rounds} rounds (batches of ≥ {batch:?}, no new round after {budget:?})"
        );
    }
    print_debug_warning();
    println!();
    let (passed, failed) = print_rows(&rows, true, |row| binary_bars(row, &rows, best));
    println!();
    let avx512_note = if best == Isa::Avx512 {
        ""
    } else {
        " (no AVX-512 on this CPU: the triad and AVX2-vs-AVX-512 bars are not judged)"
    };
    println!(
        "Bars (issue 10, at 2^18, on {best}{avx512_note}): on AVX-512 BCE ≤ {BCE_TRIAD_BAR}×, BCE with logits ≤ {BCE_LOGITS_TRIAD_BAR}×, focal ≤ {FOCAL_TRIAD_BAR}×, exp ≤ {EXP_TRIAD_BAR}× the triad; on AVX2 ≤ {AVX2_VS_AVX512_BAR}× the AVX-512 time; ≥ 8× the plain loop on AVX-512, ≥ 4× on AVX2 (DESIGN.md §4). {passed} PASS, {failed} FAIL."
    );
    if notes.is_empty() {
        println!(
            "Check: every fused value and gradient (exp: output) matched the plain loop's on every ISA (value rel 1e-5, gradient within 1e-5 of its largest element; focal 1e-4)."
        );
    } else {
        println!("Check failures (fused vs plain loop):");
        for note in &notes {
            println!("- {note}");
        }
    }
    if let Some(dir) = plot_dir {
        println!();
        println!("Plots (ns per element against n, log scales):");
        for written in binary_plots(&rows, best, dir) {
            match written {
                Ok(path) => println!("- `{}`", path.display()),
                Err(e) => {
                    eprintln!("bench_report: {e}");
                    println!("- {e}");
                }
            }
        }
    }

    small_calls_report(best);
}

/// The sizes of the small-calls table.
const SMALL_SIZES: [usize; 3] = [16, 64, 256];
/// The size whose per-element time the fixed cost subtracts.
const PER_ELEMENT_N: usize = 4096;
/// The size the fixed cost is taken at.
const FIXED_COST_N: usize = 64;
/// Issue 10: the fixed cost of one call at most this many ns.
const FIXED_COST_BAR_NS: f64 = 40.0;
/// Classes of the per-class `pos_weight` (divides every size).
const POS_WEIGHT_CLASSES: usize = 16;
/// The small calls' schedule: short calls, many rounds.
const SMALL_SCHEDULE: Schedule = (201, Duration::from_micros(500), Duration::from_millis(1500));

/// The inputs of one small-calls size.
struct SmallInputs {
    /// Regression input and target (`out` unused).
    regression: Streams,
    /// Binary inputs (`grad` unused).
    binary: Buffers,
    /// A per-element weight map, uniform in [0.5, 1.5).
    weight: AlignedBuf,
}

impl SmallInputs {
    /// The regression `(input, target)`.
    fn regression(&self) -> (&[f32], &[f32]) {
        (
            self.regression.input.as_slice(),
            self.regression.target.as_slice(),
        )
    }

    /// The probabilities and hard targets.
    fn probabilities(&self) -> (&[f32], &[f32]) {
        (
            self.binary.probabilities.as_slice(),
            self.binary.targets.as_slice(),
        )
    }

    /// The logits and hard targets.
    fn logits(&self) -> (&[f32], &[f32]) {
        (
            self.binary.logits.as_slice(),
            self.binary.targets.as_slice(),
        )
    }
}

/// Times one call (`make`) on `best` at every size of `sets`, over the
/// `(input, target)` that `inputs` picks, the sizes interleaved in the same
/// rounds; the output of size `i` goes to `outs[i]`.
fn small_row<'a, F: Fused>(
    best: Isa,
    sets: &'a [SmallInputs],
    outs: &mut [AlignedBuf],
    inputs: fn(&SmallInputs) -> (&[f32], &[f32]),
    make: impl Fn(&'a SmallInputs) -> F,
) -> Vec<Timing> {
    let calls: Vec<(F, &[f32], &[f32])> = sets
        .iter()
        .map(|s| {
            let (x, y) = inputs(s);
            (make(s).on(best).expect("Isa::best() is available"), x, y)
        })
        .collect();
    // One checked call outside the timing: a failing call would time its
    // error path.
    for (&(fused, x, y), out) in calls.iter().zip(outs.iter_mut()) {
        fused.call(x, y, out.as_mut_slice()).expect("valid inputs");
    }
    let sizes: Vec<usize> = (0..calls.len()).collect();
    interleaved(&sizes, SMALL_SCHEDULE, |i, iters| {
        let (fused, x, y) = calls[i];
        time_fused(fused, iters, x, y, outs[i].as_mut_slice())
    })
}

/// Times every loss of the small-calls table on `best` at each of
/// `sizes`, each loss's sizes interleaved in the same rounds.
fn small_calls_measure(best: Isa, sizes: &[usize]) -> Vec<(&'static str, Vec<Timing>)> {
    let sets: Vec<SmallInputs> = sizes
        .iter()
        .map(|&n| SmallInputs {
            regression: Streams::new(n, 0),
            binary: Buffers::new(n),
            weight: AlignedBuf::uniform(n, 0, 0xb1_0005, 0.5, 1.5),
        })
        .collect();
    let mut outs: Vec<AlignedBuf> = sizes.iter().map(|&n| AlignedBuf::new(n, 0)).collect();
    #[allow(clippy::cast_precision_loss)]
    let pos_weight: Vec<f32> = (0..POS_WEIGHT_CLASSES)
        .map(|c| 0.5 + c as f32 / 8.0)
        .collect();
    let huber = Huber::new(plain::HUBER_DELTA).expect("δ = 1 is valid");
    let smooth_l1 = SmoothL1::new(plain::SMOOTH_L1_BETA).expect("β = 1 is valid");
    let focal = SigmoidFocal::new(ALPHA, GAMMA).expect("α = 0.25, γ = 2 are valid");
    let logits = BinaryCrossEntropyWithLogits::new();
    let pw = logits
        .with_pos_weight(2.0)
        .expect("2 is a valid pos_weight");
    let pw_per_class = logits
        .with_pos_weight_per_class(&pos_weight)
        .expect("valid pos_weight");
    eprintln!("measuring small calls ...");
    let o = &mut outs;
    let reg = SmallInputs::regression;
    let lgt = SmallInputs::logits;
    vec![
        ("MSE", small_row(best, &sets, o, reg, |_| Mse::new())),
        ("L1", small_row(best, &sets, o, reg, |_| L1::new())),
        ("Huber δ=1", small_row(best, &sets, o, reg, |_| huber)),
        (
            "SmoothL1 β=1",
            small_row(best, &sets, o, reg, |_| smooth_l1),
        ),
        (
            BCE,
            small_row(best, &sets, o, SmallInputs::probabilities, |_| {
                BinaryCrossEntropy::new()
            }),
        ),
        (BCE_LOGITS, small_row(best, &sets, o, lgt, |_| logits)),
        (FOCAL, small_row(best, &sets, o, lgt, |_| focal)),
        (
            "BCE with logits, weight map",
            small_row(best, &sets, o, lgt, |s| {
                logits.with_weight(s.weight.as_slice())
            }),
        ),
        (
            "BCE with logits, pos_weight 2",
            small_row(best, &sets, o, lgt, |_| pw),
        ),
        (
            "BCE with logits, pos_weight per class (C = 16)",
            small_row(best, &sets, o, lgt, |_| pw_per_class),
        ),
    ]
}

/// Issue 10's small-calls table: ns per call at 16, 64 and 256 elements
/// on `best` for every pointwise loss, and the fixed cost of a call.
fn small_calls_report(best: Isa) {
    let sizes: Vec<usize> = SMALL_SIZES.iter().copied().chain([PER_ELEMENT_N]).collect();
    let results = small_calls_measure(best, &sizes);

    println!("\n## simdloss: small calls\n");
    println!(
        "- `value_and_grad(.., Reduction::Mean, Grad::overwrite(..))` on {best}, the inputs of the tables above (weight map uniform in [0.5, 1.5), per-class pos_weight 0.5…2.375); the sizes timed in the same interleaved rounds, median (`~`: median > {NOISY}× min)"
    );
    println!(
        "- fixed cost: ns per call at {FIXED_COST_N} minus {FIXED_COST_N} × ns per element at {PER_ELEMENT_N}"
    );
    println!();
    let size_heads = SMALL_SIZES
        .map(|n| format!(" ns / call, n = {n} |"))
        .concat();
    let size_rules: String = SMALL_SIZES.iter().map(|_| "---|").collect();
    println!("| loss |{size_heads} ns / elem, n = {PER_ELEMENT_N} | fixed cost, ns | bar |");
    println!("|---|{size_rules}---|---|---|");
    let mut counts = (0, 0);
    let at = |n: usize| sizes.iter().position(|&s| s == n).expect("a timed size");
    #[allow(clippy::cast_precision_loss)]
    let (per_n, fixed_n) = (PER_ELEMENT_N as f64, FIXED_COST_N as f64);
    for (name, t) in &results {
        let cells = SMALL_SIZES
            .map(|n| {
                let t = t[at(n)];
                format!(" {:.1}{} |", t.median * 1e9, noisy(t))
            })
            .concat();
        let per_elem = t[at(PER_ELEMENT_N)].median * 1e9 / per_n;
        let fixed = t[at(FIXED_COST_N)].median * 1e9 - fixed_n * per_elem;
        let bar = verdict(
            &mut counts,
            (
                fixed <= FIXED_COST_BAR_NS,
                format!("{fixed:.1} ≤ {FIXED_COST_BAR_NS}"),
            ),
        );
        println!("| {name} |{cells} {per_elem:.3} | {fixed:.1} | {bar} |");
    }
    println!();
    println!(
        "Bars (issue 10, on {best}): fixed cost of a call ≤ {FIXED_COST_BAR_NS} ns for every loss. {} PASS, {} FAIL.",
        counts.0, counts.1
    );
}

/// The AVX-512 and AVX2 bars of DESIGN.md §4 for transcendental kernels:
/// fused at least this many times faster than the plain loop.
fn transcendental_plain_bar(isa: Isa) -> Option<f64> {
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
fn softmax_schedule(len: usize) -> Schedule {
    if len >= 1 << 24 {
        (7, Duration::from_millis(30), Duration::from_secs(8))
    } else {
        (15, Duration::from_millis(15), Duration::from_secs(3))
    }
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
        per_call(elapsed, iters)
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
            let bar = match transcendental_plain_bar(isa) {
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
        per_call(elapsed, iters)
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
                if let Some(b) = transcendental_plain_bar(isa) {
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

/// Bars of issue 11 on this 2-core machine: a compute-bound loss on 2
/// threads at least this many times faster than on 1 ...
#[cfg(feature = "rayon")]
const THREADS_COMPUTE_BAR: f64 = 1.8;
/// ... and a memory-bound one no slower (speed-up at least 1).
#[cfg(feature = "rayon")]
const THREADS_MEMORY_BAR: f64 = 1.0;

/// `value_and_grad` of MSE at 2^24 and of the transcendental losses at
/// 2^22, on `Isa::best()`, in rayon pools of 1 .. `max_threads` threads
/// (powers of two and `max_threads`), interleaved. Needs the `rayon`
/// feature: `cargo run --release --features rayon --example bench_report
/// -- --threads-only [--threads N]`.
#[cfg(feature = "rayon")]
fn threads_report(max_threads: usize) {
    let mut counts: Vec<usize> = std::iter::successors(Some(1usize), |&t| Some(t * 2))
        .take_while(|&t| t < max_threads)
        .collect();
    counts.push(max_threads.max(1));
    counts.dedup();
    let pools: Vec<rayon::ThreadPool> = counts
        .iter()
        .map(|&t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .expect("thread pool")
        })
        .collect();
    println!("## simdloss: one pass split over threads (feature `rayon`)");
    println!();
    println!(
        "- command: `cargo run --release --features rayon --example bench_report -- --threads-only --threads {max_threads}`"
    );
    print_machine();
    println!(
        "- `value_and_grad(.., Reduction::Mean, Grad::overwrite(..))` on `Isa::best()` inside `ThreadPool::install`; median of interleaved rounds (min in brackets); the bits are the same for every pool (tests/threads.rs)"
    );
    println!();
    print!("| loss | n | kind |");
    for t in &counts {
        print!(" {t} thread{} |", if *t == 1 { "" } else { "s" });
    }
    println!(
        " speed-up {} vs 1 | bar |",
        counts.last().copied().unwrap_or(1)
    );
    print!("|---|---|---|");
    for _ in &counts {
        print!("---|");
    }
    println!("---|---|");
    let focal = SigmoidFocal::new(ALPHA, GAMMA).expect("focal");
    const CE: &str = "softmax CE";
    const DICE_CE: &str = "Dice + CE";
    let ce = SoftmaxCrossEntropy::new().with_ignore_index(255);
    let dice_ce = DiceCrossEntropy::new().with_ignore_index(255);
    // (name, elements, compute-bound, class shape or zeros, a bar applies):
    // the issue's sizes, then each family at its split threshold
    // (PARALLEL_MIN_*: 2^15 memory-bound, 2^13 compute-bound pointwise,
    // 2^15 logits for softmax and Dice), where the
    // speed-up shows whether the threshold could be lower.
    type ThreadCase = (&'static str, usize, bool, (usize, usize, usize), bool);
    let cases: [ThreadCase; 11] = [
        ("MSE", 1 << 24, false, (0, 0, 0), true),
        (BCE_LOGITS, 1 << 22, true, (0, 0, 0), true),
        (FOCAL, 1 << 22, true, (0, 0, 0), true),
        (BCE, 1 << 22, true, (0, 0, 0), true),
        (CE, 1 << 22, true, (4096, 1024, 1), true),
        (CE, 1 << 22, true, (4, 16, 1 << 16), true),
        (DICE_CE, 1 << 22, true, (4, 16, 1 << 16), true),
        ("MSE", 1 << 15, false, (0, 0, 0), false),
        (BCE_LOGITS, 1 << 13, true, (0, 0, 0), false),
        (CE, 1 << 15, true, (32, 1024, 1), false),
        (DICE_CE, 1 << 15, true, (2, 4, 4096), false),
    ];
    let mut failed = 0;
    for (name, n, compute, (sn, sc, ss), has_bar) in cases {
        let shape = ClassShape::new(sn.max(1), sc.max(1), ss.max(1)).expect("shape");
        let labels: Vec<u8> = (0..sn * ss).map(|j| label(j, sc) as u8).collect();
        // The inputs of the single-thread sections (binary::Buffers).
        let b = Buffers::new(n);
        let x = if name == BCE {
            b.probabilities.as_slice()
        } else {
            b.logits.as_slice()
        };
        let y = b.targets.as_slice();
        let mut g = vec![0.0f32; n];
        let variants: Vec<usize> = (0..pools.len()).collect();
        let schedule: Schedule = (15, Duration::from_millis(200), Duration::from_secs(20));
        let timings = interleaved(&variants, schedule, |v, iters| {
            let pool = &pools[v];
            let elapsed = pool.install(|| {
                batch(iters, || {
                    let r = match name {
                        "MSE" => Mse::new().call(x, y, &mut g),
                        BCE_LOGITS => BinaryCrossEntropyWithLogits::new().call(x, y, &mut g),
                        BCE => BinaryCrossEntropy::new().call(x, y, &mut g),
                        CE => ce
                            .value_and_grad(
                                x,
                                shape,
                                &labels,
                                Reduction::Mean,
                                Grad::overwrite(&mut g),
                            )
                            .map(Some),
                        DICE_CE => dice_ce
                            .value_and_grad(
                                x,
                                shape,
                                &labels,
                                Reduction::Mean,
                                Grad::overwrite(&mut g),
                            )
                            .map(Some),
                        _ => focal.call(x, y, &mut g),
                    };
                    black_box(r.ok());
                })
            });
            per_call(elapsed, iters)
        });
        let shown = if sc > 0 {
            format!("{name} [{sn}, {sc}, {ss}]")
        } else {
            name.to_string()
        };
        print!(
            "| {shown} | 2^{} | {} |",
            n.trailing_zeros(),
            if compute {
                "compute-bound"
            } else {
                "memory-bound"
            }
        );
        for t in &timings {
            print!(
                " {} [{}]{} |",
                fmt_time(t.median),
                fmt_time(t.min),
                noisy(*t)
            );
        }
        let speedup = timings[0].median / timings[timings.len() - 1].median;
        let bar = if compute {
            THREADS_COMPUTE_BAR
        } else {
            THREADS_MEMORY_BAR
        };
        let verdict = if counts.last() != Some(&2) || !has_bar {
            "—".to_string()
        } else if speedup >= bar {
            format!("PASS (≥ {bar})")
        } else {
            failed += 1;
            format!("**FAIL** (≥ {bar})")
        };
        println!(" {speedup:.2}× | {verdict} |");
    }
    println!();
    println!(
        "Bars (issue 11, 2 threads vs 1): compute-bound ≥ {THREADS_COMPUTE_BAR}×, memory-bound ≥ {THREADS_MEMORY_BAR}× ({failed} failed)."
    );
    println!();
    if let Some(two) = counts.iter().position(|&t| t == 2) {
        threshold_sweep(&pools[0], &pools[two]);
    }
}

/// Where splitting starts to pay: one call over `n` elements on one
/// thread against two calls over the halves under `rayon::join` on two
/// (what the library does above its thresholds), for sizes around and
/// below them. Below a threshold the library never splits, so the sweep
/// emulates the split from outside.
#[cfg(feature = "rayon")]
fn threshold_sweep(one: &rayon::ThreadPool, two: &rayon::ThreadPool) {
    println!("### Where a split pays: one call vs `rayon::join` over the two halves");
    println!();
    println!("| loss | n | 1 thread, one call | 2 threads, two half calls | speed-up |");
    println!("|---|---|---|---|---|");
    let sizes = [
        1usize << 12,
        1 << 13,
        1 << 14,
        1 << 15,
        1 << 16,
        1 << 17,
        1 << 18,
    ];
    for (name, memory_bound) in [("MSE", true), (BCE_LOGITS, false)] {
        for n in sizes {
            let b = Buffers::new(n);
            let (x, y) = (b.logits.as_slice(), b.targets.as_slice());
            let mut g = vec![0.0f32; n];
            let call = |x: &[f32], y: &[f32], g: &mut [f32]| {
                let r = if memory_bound {
                    Mse::new().call(x, y, g)
                } else {
                    BinaryCrossEntropyWithLogits::new().call(x, y, g)
                };
                black_box(r.ok());
            };
            let half = n / 2;
            let schedule: Schedule = (15, Duration::from_millis(50), Duration::from_secs(4));
            let timings = interleaved(&[false, true], schedule, |split, iters| {
                let elapsed = if split {
                    two.install(|| {
                        batch(iters, || {
                            let (ga, gb) = g.split_at_mut(half);
                            rayon::join(
                                || call(&x[..half], &y[..half], ga),
                                || call(&x[half..], &y[half..], gb),
                            );
                        })
                    })
                } else {
                    one.install(|| batch(iters, || call(x, y, &mut g)))
                };
                per_call(elapsed, iters)
            });
            println!(
                "| {name} | 2^{} | {}{} | {}{} | {:.2}× |",
                n.trailing_zeros(),
                fmt_time(timings[0].median),
                noisy(timings[0]),
                fmt_time(timings[1].median),
                noisy(timings[1]),
                timings[0].median / timings[1].median
            );
        }
    }
    println!();
}

/// The flags `main` knows (besides `--plot-dir <dir>` and `--threads N`).
const FLAGS: [&str; 9] = [
    "--threads-only",
    "--small-calls-only",
    "--binary-only",
    "--softmax-only",
    "--dice-only",
    "--no-binary",
    "--no-softmax",
    "--no-dice",
    "--no-plot",
];

/// Where the plots go without `--plot-dir`.
const DEFAULT_PLOT_DIR: &str = "docs";

fn main() {
    let started = Instant::now();
    let mut args: Vec<String> = Vec::new();
    let mut plot_dir = PathBuf::from(DEFAULT_PLOT_DIR);
    let mut max_threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut rest = std::env::args().skip(1);
    while let Some(a) = rest.next() {
        if a == "--threads" {
            match rest.next().and_then(|t| t.parse::<usize>().ok()) {
                Some(t) if t >= 1 => max_threads = t,
                _ => eprintln!("bench_report: --threads needs a count ≥ 1 (using {max_threads})"),
            }
        } else if a == "--plot-dir" {
            match rest.next() {
                Some(dir) => plot_dir = PathBuf::from(dir),
                None => eprintln!(
                    "bench_report: --plot-dir needs a directory (ignored: plots go to {})",
                    plot_dir.display()
                ),
            }
        } else if let Some(dir) = a.strip_prefix("--plot-dir=") {
            plot_dir = PathBuf::from(dir);
        } else if FLAGS.contains(&a.as_str()) {
            args.push(a);
        } else {
            eprintln!(
                "bench_report: unknown flag {a} ignored (known: {} --plot-dir <dir>)",
                FLAGS.join(" ")
            );
        }
    }
    let flag = |f: &str| args.iter().any(|a| a == f);
    let (binary_only, softmax_only, dice_only) = (
        flag("--binary-only"),
        flag("--softmax-only"),
        flag("--dice-only"),
    );
    // `--X-only` flags select their sections (several may be given);
    // without one, every section runs but those a `--no-X` skips.
    if flag("--threads-only") {
        #[cfg(feature = "rayon")]
        threads_report(max_threads);
        #[cfg(not(feature = "rayon"))]
        eprintln!(
            "bench_report: --threads-only needs the rayon feature (cargo run --release --features rayon --example bench_report -- --threads-only; {max_threads} threads here)"
        );
        println!("Took {:.0} s.", started.elapsed().as_secs_f64());
        return;
    }
    if flag("--small-calls-only") {
        small_calls_report(Isa::best());
        println!("Took {:.0} s.", started.elapsed().as_secs_f64());
        return;
    }
    let some_only = binary_only || softmax_only || dice_only;
    if !some_only {
        regression_report();
    }
    if (!some_only || binary_only) && !flag("--no-binary") {
        let plot_dir = (!flag("--no-plot")).then_some(plot_dir.as_path());
        binary_report(plot_dir);
    }
    if (!some_only || softmax_only) && !flag("--no-softmax") {
        softmax_report();
    }
    if (!some_only || dice_only) && !flag("--no-dice") {
        dice_report();
    }
    println!("Took {:.0} s.", started.elapsed().as_secs_f64());
}
