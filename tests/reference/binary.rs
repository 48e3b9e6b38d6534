//! The single f64 reference of the binary losses (BCE, BCE with logits,
//! sigmoid focal), shared by `tests/binary.rs` and the fuzz crate
//! (`fuzz/src/binary.rs`), each of which includes this file with
//! `#[path = ...] mod`.
//!
//! Keep it dependency-free: core/std f64 math only, no `simdloss` types,
//! no crates, so both users can include it as it is.

/// Unit in the last place of an f32 at the binade of `r` (2⁻¹⁴⁹ below the
/// normal range).
pub fn ulp_at(r: f64) -> f64 {
    let a = r.abs();
    if a < f64::from(f32::MIN_POSITIVE) {
        return 2f64.powi(-149);
    }
    let exponent = i32::try_from((a.to_bits() >> 52) & 0x7ff).expect("11 bits") - 1023;
    2f64.powi(exponent - 23)
}

/// `ln(1 + e^z)`, without overflow.
pub fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// `1 / (1 + e^−z)`, without overflow.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// BCE on a probability `p` with weight `w`: (value, derivative).
pub fn bce_ref(p: f64, y: f64, w: f64) -> (f64, f64) {
    let lp = p.ln().max(-100.0);
    let lq = (-p).ln_1p().max(-100.0);
    let value = -w * (y * lp + (1.0 - y) * lq);
    let den = (p * (1.0 - p)).max(1e-12);
    (value, w * (p - y) / den)
}

/// BCE with logits, weight `w`, `pos_weight` `pw`: value, derivative, and
/// the larger magnitude of the derivative's two terms (the error bound
/// scales with it).
pub fn bce_logits_ref(x: f64, y: f64, w: f64, pw: f64) -> (f64, f64, f64) {
    let a = (1.0 - y) * softplus(x);
    let b = pw * y * softplus(-x);
    // Zero coefficients switch a term off, even at x = ±∞.
    let value = w * (if 1.0 - y == 0.0 { 0.0 } else { a } + if pw * y == 0.0 { 0.0 } else { b });
    let g1 = (1.0 - y) * sigmoid(x);
    let g2 = pw * y * sigmoid(-x);
    (value, w * (g1 - g2), w.abs() * g1.abs().max(g2.abs()))
}

/// Sigmoid focal in f64, in the log domain (same parametrization as the
/// docs: `q = c/u`, `c = y' + (1−y')e`), α negative for no α, weight `w`
/// (1 for none: multiplying by 1 is exact). Returns value, derivative, the
/// larger magnitude of the derivative's two terms (times `|w·α_t|`), and
/// `γ·ln q`.
pub fn focal_ref(x: f64, y: f64, alpha: f64, gamma: f64, w: f64) -> (f64, f64, f64, f64) {
    let e = (-x.abs()).exp();
    let u = 1.0 + e;
    let l = e.ln_1p();
    let y_big = if x >= 0.0 { 1.0 - y } else { y };
    let c = y_big + (1.0 - y_big) * e;
    let ln_c = if y_big == 0.0 { -x.abs() } else { c.ln() };
    let ln_q = ln_c - l;
    let q_gamma = if gamma == 0.0 {
        1.0
    } else {
        (gamma * ln_q).exp()
    };
    let bce = {
        let a = if y == 1.0 {
            0.0
        } else {
            (1.0 - y) * softplus(x)
        };
        let b = if y == 0.0 { 0.0 } else { y * softplus(-x) };
        a + b
    };
    let p_minus_y = (1.0 - y) * sigmoid(x) - y * sigmoid(-x);
    let rho = if y_big == 0.0 {
        (1.0 - 2.0 * y) / u
    } else {
        (1.0 - 2.0 * y) * e / (u * c)
    };
    let alpha_t = if alpha >= 0.0 {
        alpha * y + (1.0 - alpha) * (1.0 - y)
    } else {
        1.0
    };
    let t1 = if gamma * rho == 0.0 {
        0.0
    } else {
        gamma * rho * q_gamma * bce
    };
    let t2 = q_gamma * p_minus_y;
    (
        w * alpha_t * q_gamma * bce,
        w * alpha_t * (t1 + t2),
        (w * alpha_t).abs() * t1.abs().max(t2.abs()),
        if gamma == 0.0 { 0.0 } else { gamma * ln_q },
    )
}
