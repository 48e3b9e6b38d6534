//! The per-(n, c) ratios of the Dice family and their derivatives, in f64,
//! from the sums `I = Σ p·g`, `P = Σ p` (or `Σ p²`), `G = Σ g` (or `Σ g²`).

/// Which ratio a term is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Ratio {
    /// `1 − (2I + s_nr)/(P + G + s_dr)`.
    Dice,
    /// MONAI's Jaccard form: `1 − (2I + s_nr)/(2(P + G − I) + s_dr)`.
    Jaccard,
    /// `1 − (I + s_nr)/(I + α(P − I) + β(G − I) + s_dr)`.
    Tversky {
        /// Weight of the false positives `P − I`.
        alpha: f64,
        /// Weight of the false negatives `G − I`.
        beta: f64,
    },
    /// One term per group over its classes, `w_c = 1/G_c²`:
    /// `1 − (2Σ w_c I_c + s_nr)/(Σ w_c (P_c + G_c) + s_dr)`.
    Generalized,
}

/// The sums of one `(n, c)` (or one class over the batch).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Sums {
    /// `Σ p·g`.
    pub(crate) intersection: f64,
    /// `Σ p` (`Σ p²` with `squared_pred`).
    pub(crate) pred: f64,
    /// `Σ g` (`Σ g²` with `squared_pred`).
    pub(crate) ground: f64,
    /// `Σ g` also with `squared_pred` (the generalized weights' mass).
    pub(crate) mass: f64,
}

/// A term and its partial derivatives with respect to `I` and `P`
/// (`G` comes from the target: it has no gradient).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Term {
    pub(crate) value: f64,
    pub(crate) d_intersection: f64,
    pub(crate) d_pred: f64,
}

/// The term of one `(n, c)` for the per-class ratios (not
/// [`Ratio::Generalized`], see [`generalized`]).
pub(crate) fn term(ratio: Ratio, s: Sums, smooth_nr: f64, smooth_dr: f64) -> Term {
    let Sums {
        intersection: i,
        pred: p,
        ground: g,
        ..
    } = s;
    // term = 1 − num/den: d term = −(d num·den − num·d den)/den².
    let (num, dnum_di, den, dden_di, dden_dp) = match ratio {
        Ratio::Dice | Ratio::Generalized => (2.0 * i + smooth_nr, 2.0, p + g + smooth_dr, 0.0, 1.0),
        Ratio::Jaccard => (
            2.0 * i + smooth_nr,
            2.0,
            2.0 * (p + g - i) + smooth_dr,
            -2.0,
            2.0,
        ),
        Ratio::Tversky { alpha, beta } => (
            i + smooth_nr,
            1.0,
            i + alpha * (p - i) + beta * (g - i) + smooth_dr,
            1.0 - alpha - beta,
            alpha,
        ),
    };
    let ratio = num / den;
    Term {
        value: 1.0 - ratio,
        d_intersection: -(dnum_di - ratio * dden_di) / den,
        d_pred: ratio * dden_dp / den,
    }
}

/// MONAI's generalized-Dice weights `w_c = 1/(Σ g)²` of one group (never
/// squared), written
/// into `weights`; an infinite weight (`G_c = 0`) becomes the largest
/// finite one of the group (0 if there is none).
pub(crate) fn generalized_weights(sums: &[Sums], weights: &mut [f64]) {
    let mut largest = 0.0f64;
    for (w, s) in weights.iter_mut().zip(sums) {
        *w = 1.0 / (s.mass * s.mass);
        if w.is_finite() && *w > largest {
            largest = *w;
        }
    }
    for w in weights.iter_mut() {
        if w.is_infinite() {
            *w = largest;
        }
    }
}

/// The one generalized-Dice term of a group and, per class, the
/// derivatives with respect to `I_c` and `P_c` (written into `terms`,
/// whose `value` is left 0).
pub(crate) fn generalized(
    sums: &[Sums],
    weights: &[f64],
    terms: &mut [Term],
    smooth_nr: f64,
    smooth_dr: f64,
) -> f64 {
    let mut num = smooth_nr;
    let mut den = smooth_dr;
    let mut weighted_i = 0.0f64;
    let mut weighted_pg = 0.0f64;
    for (s, &w) in sums.iter().zip(weights) {
        weighted_i += w * s.intersection;
        weighted_pg += w * (s.pred + s.ground);
    }
    num += 2.0 * weighted_i;
    den += weighted_pg;
    let ratio = num / den;
    for (t, &w) in terms.iter_mut().zip(weights) {
        *t = Term {
            value: 0.0,
            d_intersection: -2.0 * w / den,
            d_pred: ratio * w / den,
        };
    }
    1.0 - ratio
}
