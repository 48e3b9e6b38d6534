//! The f64 reference of the softmax losses over a class axis (softmax
//! cross-entropy with index or probability targets, softmax focal), per
//! sample: value, gradient, and the scales the error bounds of
//! `tests/softmax.rs` are expressed in.
//!
//! Semantics (PyTorch `cross_entropy`, DESIGN.md §3): with `p = softmax(x)`
//! over the `C` classes of one sample and `ℓ_c = −ln p_c`,
//!
//! | loss | value | ∂/∂x_c |
//! |---|---|---|
//! | CE, index `y`, smoothing ε | `Σ_c a_c ℓ_c`, `a = (1−ε)·w_y·onehot(y) + (ε/C)·w` | `A·p_c − a_c`, `A = Σ_c a_c` |
//! | CE, probabilities `t` | `Σ_c a_c ℓ_c`, `a = w ⊙ (t(1−ε) + ε/C)` | `A·p_c − a_c` |
//! | focal, index `y`, γ | `w_y (1−p_y)^γ ℓ_y` | `G·(p_c − [c = y])`, `G = w_y (1−p_y)^γ (1 + γ p_y ℓ_y/(1−p_y))` |
//!
//! Limits, as the kernels promise them: a term whose coefficient is 0
//! counts 0 even where its factor is infinite; `k` logits at `+∞` share
//! `p = 1/k` and every finite logit then has `p = 0`; a `−∞` logit has
//! `p = 0` (`ℓ = +∞`); `(1−p_y)^0 = 1` and `ℓ_y/(1−p_y) → 1` as `p_y → 1`;
//! `p_y·ℓ_y → 0` as `p_y → 0`. A NaN logit, or a row that is `−∞`
//! everywhere (no softmax), makes the sample NaN. An ignored sample has
//! value 0 and a zero gradient.
//!
//! Keep it dependency-free: core/std f64 math only, no `simdloss` types,
//! no crates (like `tests/reference/binary.rs`).

/// `a·b`, 0 where `a == 0` (a zero coefficient switches a term off, even
/// against an infinite factor).
pub fn mul_or_zero(a: f64, b: f64) -> f64 {
    if a == 0.0 { 0.0 } else { a * b }
}

/// The softmax of one sample, in the max-shifted form.
#[derive(Clone, Debug)]
pub struct Softmax {
    /// `d_c = m − x_c ≥ 0` (0 for every logit equal to the maximum `m`,
    /// `+∞` for a logit infinitely below it).
    pub gap: Vec<f64>,
    /// `σ = Σ_c e^−d_c − 1`, summed without one maximum's own 1 (so
    /// `ln Σ = ln_1p(σ)` keeps its digits when one class dominates).
    pub sigma: f64,
    /// `ln Σ_c e^−d_c = ln_1p(σ)`.
    pub ln_sum: f64,
    /// `p_c = e^−d_c / (1 + σ)`.
    pub p: Vec<f64>,
}

impl Softmax {
    /// The softmax of `x`; `None` if a logit is NaN or every logit is `−∞`.
    pub fn new(x: &[f64]) -> Option<Self> {
        if x.is_empty() || x.iter().any(|v| v.is_nan()) {
            return None;
        }
        let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if m == f64::NEG_INFINITY {
            return None;
        }
        // m = +∞: the +∞ logits tie (gap 0), every other has gap +∞.
        let gap: Vec<f64> = x
            .iter()
            .map(|&v| if v == m { 0.0 } else { m - v })
            .collect();
        let e: Vec<f64> = gap.iter().map(|&d| (-d).exp()).collect();
        let first = gap.iter().position(|&d| d == 0.0).expect("the maximum");
        let sigma: f64 = e
            .iter()
            .enumerate()
            .filter(|&(c, _)| c != first)
            .map(|(_, &v)| v)
            .sum();
        let p = e.iter().map(|&v| v / (1.0 + sigma)).collect();
        Some(Self {
            gap,
            sigma,
            ln_sum: sigma.ln_1p(),
            p,
        })
    }

    /// `ℓ_c = −ln p_c = d_c + ln Σ`.
    pub fn nll(&self, c: usize) -> f64 {
        self.gap[c] + self.ln_sum
    }

    /// `1 − p_y`, without cancellation: `Σ_{c≠y} e^−d_c / (1 + σ)`.
    pub fn complement(&self, y: usize) -> f64 {
        let others: f64 = self
            .p
            .iter()
            .enumerate()
            .filter(|&(c, _)| c != y)
            .map(|(_, &v)| v)
            .sum();
        others.min(1.0)
    }
}

/// Which loss, with its scalar parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Loss {
    /// Softmax cross-entropy with label smoothing ε (0: none).
    CrossEntropy {
        /// ε.
        smoothing: f64,
    },
    /// Softmax focal loss with focusing parameter γ.
    Focal {
        /// γ.
        gamma: f64,
    },
}

/// The target of one sample.
#[derive(Clone, Copy, Debug)]
pub enum SampleTarget<'a> {
    /// A class index, or `None` for an ignored sample.
    Index(Option<usize>),
    /// Class probabilities (cross-entropy only), `C` of them.
    Probabilities(&'a [f64]),
}

/// The reference of one sample.
#[derive(Clone, Debug)]
pub struct Sample {
    /// The sample's loss.
    pub value: f64,
    /// `∂value/∂x_c` (unreduced, unscaled).
    pub grad: Vec<f64>,
    /// The gradient's natural scale: `Σ_c |a_c|` (cross-entropy), `|G|`
    /// (focal); 0 for an ignored sample.
    pub total: f64,
    /// `Σ_c |∂value/∂x_c|·d_c`: the first-order change of the value when
    /// every gap `d_c = m − x_c` moves by its own relative amount 1 (an f32
    /// kernel rounds each gap once, so it errs by up to `u` times this).
    pub gap_sensitivity: f64,
    /// `q = 1 − p_y` (focal; 1 for cross-entropy).
    pub q: f64,
    /// The condition of `q` under the gap roundings (focal; 0 for
    /// cross-entropy): `Σ_c |∂q/∂d_c|·d_c / q = p_y·(Σ_{c≠y} p_c d_c +
    /// q·d_y)/q` (`p_y` if `q = 0`).
    pub q_condition: f64,
    /// Whether the sample counts (not ignored).
    pub active: bool,
}

impl Sample {
    fn ignored(c: usize) -> Self {
        Self {
            value: 0.0,
            grad: vec![0.0; c],
            total: 0.0,
            gap_sensitivity: 0.0,
            q: 1.0,
            q_condition: 0.0,
            active: false,
        }
    }

    fn nan(c: usize) -> Self {
        Self {
            value: f64::NAN,
            grad: vec![f64::NAN; c],
            total: f64::NAN,
            gap_sensitivity: f64::NAN,
            q: f64::NAN,
            q_condition: f64::NAN,
            active: true,
        }
    }
}

/// The reference of one sample with logits `x` (`C` of them), class
/// weights `w` (`None`: all 1).
///
/// # Panics
/// On a focal loss with probability targets, a label `≥ C`, or lengths
/// that disagree.
pub fn sample(loss: Loss, x: &[f64], target: SampleTarget<'_>, w: Option<&[f64]>) -> Sample {
    let c = x.len();
    let weight = |k: usize| w.map_or(1.0, |w| w[k]);
    if let Some(w) = w {
        assert_eq!(w.len(), c, "weights");
    }
    if matches!(target, SampleTarget::Index(None)) {
        return Sample::ignored(c);
    }
    let Some(sm) = Softmax::new(x) else {
        return Sample::nan(c);
    };
    let sensitivity = |grad: &[f64]| -> f64 {
        grad.iter()
            .zip(&sm.gap)
            .map(|(&g, &d)| mul_or_zero(g.abs(), d))
            .sum()
    };
    match loss {
        Loss::CrossEntropy { smoothing: eps } => {
            #[allow(clippy::cast_precision_loss)]
            let per_class = eps / c as f64;
            let a: Vec<f64> = match target {
                SampleTarget::Index(Some(y)) => {
                    assert!(y < c, "label {y} >= C = {c}");
                    (0..c)
                        .map(|k| {
                            let own = if k == y { (1.0 - eps) * weight(k) } else { 0.0 };
                            own + per_class * weight(k)
                        })
                        .collect()
                }
                SampleTarget::Probabilities(t) => {
                    assert_eq!(t.len(), c, "targets");
                    (0..c)
                        .map(|k| weight(k) * (t[k] * (1.0 - eps) + per_class))
                        .collect()
                }
                SampleTarget::Index(None) => unreachable!(),
            };
            let total: f64 = a.iter().sum();
            let value = (0..c).map(|k| mul_or_zero(a[k], sm.nll(k))).sum();
            let grad: Vec<f64> = (0..c).map(|k| total * sm.p[k] - a[k]).collect();
            Sample {
                value,
                gap_sensitivity: sensitivity(&grad),
                grad,
                total: a.iter().map(|v| v.abs()).sum(),
                q: 1.0,
                q_condition: 0.0,
                active: true,
            }
        }
        Loss::Focal { gamma } => {
            let SampleTarget::Index(Some(y)) = target else {
                panic!("focal takes index targets")
            };
            assert!(y < c, "label {y} >= C = {c}");
            let wy = weight(y);
            let p_y = sm.p[y];
            let l_y = sm.nll(y);
            let q = sm.complement(y);
            let q_gamma = if gamma == 0.0 { 1.0 } else { q.powf(gamma) };
            // p_y·ℓ_y/q: → 1 as q → 0 (ℓ_y ~ q), → 0 as p_y → 0.
            let r = if q == 0.0 {
                1.0
            } else if p_y == 0.0 {
                0.0
            } else {
                p_y * l_y / q
            };
            let g = wy * q_gamma * (1.0 + gamma * r);
            let spread: f64 = (0..c)
                .filter(|&k| k != y)
                .map(|k| mul_or_zero(sm.p[k], sm.gap[k]))
                .sum::<f64>()
                + mul_or_zero(q, sm.gap[y]);
            let q_condition = if q == 0.0 {
                p_y
            } else {
                mul_or_zero(p_y, spread) / q
            };
            let grad: Vec<f64> = (0..c)
                .map(|k| g * (sm.p[k] - if k == y { 1.0 } else { 0.0 }))
                .collect();
            Sample {
                value: mul_or_zero(wy * q_gamma, l_y),
                gap_sensitivity: sensitivity(&grad),
                grad,
                total: g.abs(),
                q,
                q_condition,
                active: true,
            }
        }
    }
}

/// The target of a whole `[N, C, S]` problem.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    /// One class (or `None`: ignored) per sample `j = n·S + s`.
    Index(&'a [Option<usize>]),
    /// Probabilities `[N, C, S]`, in the logits' layout.
    Probabilities(&'a [f32]),
}

/// A whole call: `[N, C, S]` row-major logits (`x[(n·C + c)·S + s]`).
#[derive(Clone, Copy, Debug)]
pub struct Problem<'a> {
    /// The loss and its parameter.
    pub loss: Loss,
    /// `N·C·S` logits.
    pub logits: &'a [f32],
    /// N.
    pub n: usize,
    /// C.
    pub c: usize,
    /// S.
    pub s: usize,
    /// The target.
    pub target: Target<'a>,
    /// Class weights (`C`), or `None`.
    pub weight: Option<&'a [f32]>,
}

impl Problem<'_> {
    /// The flat position of class `k` of sample `j`.
    pub fn at(&self, j: usize, k: usize) -> usize {
        let (n, s) = (j / self.s, j % self.s);
        (n * self.c + k) * self.s + s
    }

    /// The reference of every sample, in the order `j = n·S + s`.
    pub fn samples(&self) -> Vec<Sample> {
        assert_eq!(self.logits.len(), self.n * self.c * self.s, "logits");
        let w: Option<Vec<f64>> = self
            .weight
            .map(|w| w.iter().map(|&v| f64::from(v)).collect());
        (0..self.n * self.s)
            .map(|j| {
                let x: Vec<f64> = (0..self.c)
                    .map(|k| f64::from(self.logits[self.at(j, k)]))
                    .collect();
                let t: Vec<f64>;
                let target = match self.target {
                    Target::Index(labels) => SampleTarget::Index(labels[j]),
                    Target::Probabilities(p) => {
                        t = (0..self.c).map(|k| f64::from(p[self.at(j, k)])).collect();
                        SampleTarget::Probabilities(&t)
                    }
                };
                sample(self.loss, &x, target, w.as_deref())
            })
            .collect()
    }

    /// The `Mean` denominator: `Σ w_y` over the non-ignored samples
    /// (cross-entropy, index targets), their count (focal), `N·S`
    /// (probability targets).
    pub fn denominator(&self) -> f64 {
        match self.target {
            #[allow(clippy::cast_precision_loss)]
            Target::Probabilities(_) => (self.n * self.s) as f64,
            Target::Index(labels) => labels
                .iter()
                .flatten()
                .map(|&y| match self.loss {
                    Loss::CrossEntropy { .. } => self.weight.map_or(1.0, |w| f64::from(w[y])),
                    Loss::Focal { .. } => 1.0,
                })
                .sum(),
        }
    }

    /// The gradient factor of a reduction: 1 (`Sum`), `1/denominator`
    /// (`Mean`; 0 if the denominator is 0: every sample ignored).
    pub fn reduction_factor(&self, mean: bool) -> f64 {
        let den = self.denominator();
        if !mean {
            1.0
        } else if den == 0.0 {
            0.0
        } else {
            1.0 / den
        }
    }
}
