//! A small, dependency-free SVG line chart (hand-written SVG text), for the
//! plots `examples/bench_report.rs` writes for the README.
//!
//! [`line_chart`] draws one polyline with markers per [`Series`] (distinct
//! colours and marker shapes, dashed if asked), a legend to the right of
//! the plot (never over the data), a title and a subtitle, and axes with
//! ticks, a grid and labels. An axis is linear, or logarithmic with a tick
//! at every power of two ([`Scale::Log2`]) or every decade
//! ([`Scale::Log10`], with minor ticks at 2…9 times a decade). The axis
//! ranges are taken from the data: a logarithmic axis spans whole powers.
//! Points that the scale cannot show (not finite, or ≤ 0 on a logarithmic
//! axis) are left out, and break their line.
//!
//! The SVG is self-contained (no scripts, styles or external fonts) with a
//! white background, so it reads in a browser, on GitHub (light or dark
//! theme) and through `rsvg-convert`.

use std::fmt::Write;

/// Width of every chart, px.
pub const WIDTH: f64 = 720.0;
/// Height of every chart, px.
pub const HEIGHT: f64 = 420.0;

/// Body font size, px (ticks, legend, axis labels).
const FONT: f64 = 12.0;
/// Estimated advance of `c` at [`FONT`] in a sans-serif face, px: about
/// DejaVu Sans (the widest common one), so that estimated label widths
/// are upper bounds in Helvetica or Arial.
fn char_width(c: char) -> f64 {
    match c {
        ' ' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | 'i' | 'j' | 'l' => 4.0,
        '(' | ')' | '[' | ']' | 'f' | 'r' | 't' | '-' | '·' => 5.0,
        'm' | 'M' | 'W' => 11.8,
        'w' => 9.8,
        c if c.is_uppercase() => 8.6,
        _ => 7.6,
    }
}

/// Estimated width of `s` at [`FONT`], px.
fn text_width(s: &str) -> f64 {
    s.chars().map(char_width).sum()
}
/// Colour-blind-safe palette (Okabe & Ito), then greys; series `i` takes
/// colour `i % len`.
const COLOURS: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000", "#E69F00", "#56B4E9", "#999999",
];
/// Marker shapes, by series index (`% 6`).
const MARKERS: usize = 6;
/// Space between the plot frame and the first/last possible data position,
/// px, so markers at the ends of the range are not cut by the frame.
const INSET: f64 = 10.0;
/// Font stack: whatever sans-serif the viewer has.
const FONT_FAMILY: &str = "'DejaVu Sans', Helvetica, Arial, sans-serif";

/// How an axis maps values to positions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Scale {
    /// Linear, ticks at 1, 2 or 5 times a power of ten.
    Linear,
    /// Logarithmic, ticks (labelled `2^k`) at powers of two.
    Log2,
    /// Logarithmic, labelled ticks at powers of ten, minor ticks between.
    Log10,
}

/// One axis: its label and scale.
#[derive(Clone, Copy, Debug)]
pub struct Axis<'a> {
    /// Text under the x axis / beside the y axis (the unit included).
    pub label: &'a str,
    /// The scale.
    pub scale: Scale,
}

/// One line of a chart.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// `(x, y)` points, joined in this order.
    pub points: Vec<(f64, f64)>,
    /// Draw the line dashed (for yardsticks beside measured paths).
    pub dashed: bool,
}

impl Series {
    /// A solid line.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
            dashed: false,
        }
    }

    /// The same line, dashed.
    #[must_use]
    pub fn dashed(self) -> Self {
        Self {
            dashed: true,
            ..self
        }
    }
}

/// What a chart shows besides its series.
#[derive(Clone, Copy, Debug)]
pub struct Chart<'a> {
    /// Bold first line.
    pub title: &'a str,
    /// Grey second line (empty: none).
    pub subtitle: &'a str,
    /// Horizontal axis.
    pub x: Axis<'a>,
    /// Vertical axis.
    pub y: Axis<'a>,
}

/// The text of a tick label.
enum TickText {
    Plain(String),
    /// `base^exp`, the exponent set as a superscript.
    Power(u32, i32),
}

impl TickText {
    /// Estimated width, px.
    fn width(&self) -> f64 {
        match self {
            Self::Plain(s) => text_width(s),
            Self::Power(b, e) => text_width(&b.to_string()) + 0.75 * text_width(&e.to_string()),
        }
    }

    /// As SVG text content.
    fn svg(&self) -> String {
        match self {
            Self::Plain(s) => escape(s),
            Self::Power(b, e) => {
                format!(
                    "{b}<tspan dy=\"-5\" font-size=\"{:.0}\">{e}</tspan>",
                    FONT * 0.75
                )
            }
        }
    }
}

/// One tick, at a position in the axis's transformed space (the value for
/// a linear axis, its logarithm for a logarithmic one).
struct Tick {
    at: f64,
    /// Labelled ticks get a full grid line, the others a faint one.
    text: Option<TickText>,
}

/// An axis resolved against the data: transformed range and ticks.
struct Resolved {
    scale: Scale,
    lo: f64,
    hi: f64,
    ticks: Vec<Tick>,
}

impl Resolved {
    /// The range and ticks of `scale` over `values` (those the scale can
    /// show).
    fn new(scale: Scale, values: impl Iterator<Item = f64>) -> Self {
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.filter_map(|v| transform(scale, v)) {
            min = min.min(v);
            max = max.max(v);
        }
        if min > max {
            // No data: an empty unit range.
            (min, max) = (0.0, 1.0);
        }
        match scale {
            Scale::Linear => linear_axis(min, max),
            Scale::Log2 | Scale::Log10 => log_axis(scale, min, max),
        }
    }

    /// Pixel position of transformed value `t` on `[from, to]` (`from` is
    /// where `lo` goes; reversed for y).
    fn pixel(&self, t: f64, from: f64, to: f64) -> f64 {
        let (a, b) = if from < to {
            (from + INSET, to - INSET)
        } else {
            (from - INSET, to + INSET)
        };
        a + (t - self.lo) / (self.hi - self.lo) * (b - a)
    }
}

/// `v` in `scale`'s transformed space, `None` if the scale cannot show it.
fn transform(scale: Scale, v: f64) -> Option<f64> {
    let t = match scale {
        Scale::Linear => v,
        Scale::Log2 if v > 0.0 => v.log2(),
        Scale::Log10 if v > 0.0 => v.log10(),
        Scale::Log2 | Scale::Log10 => return None,
    };
    t.is_finite().then_some(t)
}

/// `n` as f64 (chart sizes are small).
fn count(n: usize) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let n = n as f64;
    n
}

/// A linear axis over `[min, max]`: about five steps of 1, 2 or 5 times a
/// power of ten, the range rounded out to whole steps.
fn linear_axis(min: f64, max: f64) -> Resolved {
    let (min, max) = if max > min {
        (min, max)
    } else {
        let pad = if min == 0.0 { 1.0 } else { min.abs() * 0.1 };
        (min - pad, max + pad)
    };
    let raw = (max - min) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * mag);
    let lo = (min / step).floor() * step;
    let hi = (max / step).ceil() * step;
    let mut ticks = Vec::new();
    let mut i = 0.0;
    while lo + i * step <= hi + step * 1e-9 {
        let at = lo + i * step;
        // Snap -0 and rounding noise at zero.
        let at = if at.abs() < step * 1e-9 { 0.0 } else { at };
        ticks.push(Tick {
            at,
            text: Some(TickText::Plain(fmt_number(at))),
        });
        i += 1.0;
    }
    Resolved {
        scale: Scale::Linear,
        lo,
        hi,
        ticks,
    }
}

/// A logarithmic axis over transformed `[min, max]`: whole powers, a
/// labelled tick every `step` powers (at most about eight), the others
/// minor; base 10 also has minor ticks at 2…9 times each decade when the
/// axis spans at most six decades, labelled at 2 and 5 when it spans at
/// most two.
fn log_axis(scale: Scale, min: f64, max: f64) -> Resolved {
    let (mut lo, mut hi) = (min.floor(), max.ceil());
    if hi <= lo {
        if scale == Scale::Log2 {
            lo -= 1.0;
        }
        hi = lo + if scale == Scale::Log2 { 2.0 } else { 1.0 };
    }
    let span = hi - lo;
    let step = (span / 8.0).ceil().max(1.0);
    let base: u32 = if scale == Scale::Log2 { 2 } else { 10 };
    let mut ticks = Vec::new();
    // Exponents are small integers (an f64 spans ±1075 powers of two).
    #[allow(clippy::cast_possible_truncation)]
    let (k_lo, k_hi, step_k) = (lo as i32, hi as i32, step as i32);
    for k in k_lo..=k_hi {
        let labelled = (k - k_lo) % step_k == 0;
        let text = labelled.then(|| match (scale, k) {
            (Scale::Log10, -3..=5) => TickText::Plain(fmt_number(10f64.powi(k))),
            _ => TickText::Power(base, k),
        });
        ticks.push(Tick {
            at: f64::from(k),
            text,
        });
        if scale == Scale::Log10 && k < k_hi && span <= 6.0 {
            for m in 2..=9 {
                let v = f64::from(m) * 10f64.powi(k);
                let text = (span <= 2.0 && (m == 2 || m == 5)).then(|| match k {
                    -3..=5 => TickText::Plain(fmt_number(v)),
                    _ => TickText::Plain(format!("{v:e}")),
                });
                ticks.push(Tick {
                    at: v.log10(),
                    text,
                });
            }
        }
    }
    Resolved {
        scale,
        lo,
        hi,
        ticks,
    }
}

/// `v` with the fewest decimals (at most 6) that show it exactly enough;
/// exponent notation outside `[1e-4, 1e6)`.
fn fmt_number(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return String::from("0");
    }
    if !(1e-4..1e6).contains(&a) {
        return format!("{v:e}");
    }
    let decimals = (0..6)
        .find(|&d| {
            let scale = 10f64.powi(d);
            ((v * scale).round() / scale - v).abs() <= 1e-9 * a
        })
        .unwrap_or(6);
    #[allow(clippy::cast_sign_loss)]
    let decimals = decimals as usize;
    format!("{v:.decimals$}")
}

/// `s` with the five XML specials escaped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// Marker `shape` (`0..MARKERS`) of colour `fill` centred at `(x, y)`.
fn marker(out: &mut String, shape: usize, x: f64, y: f64, fill: &str) {
    let r = 4.0;
    let attrs = format!("fill=\"{fill}\" stroke=\"#ffffff\" stroke-width=\"0.8\"");
    // Writing to a String cannot fail.
    let _ = match shape {
        0 => writeln!(
            out,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r}\" {attrs}/>"
        ),
        1 => writeln!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" {attrs}/>",
            x - r * 0.9,
            y - r * 0.9,
            r * 1.8,
            r * 1.8
        ),
        2 => writeln!(
            out,
            "<path d=\"M{x:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z\" {attrs}/>",
            y - r * 1.2,
            x + r * 1.1,
            y + r * 0.8,
            x - r * 1.1,
            y + r * 0.8
        ),
        3 => writeln!(
            out,
            "<path d=\"M{x:.1},{:.1} L{:.1},{y:.1} L{x:.1},{:.1} L{:.1},{y:.1} Z\" {attrs}/>",
            y - r * 1.25,
            x + r * 1.25,
            y + r * 1.25,
            x - r * 1.25
        ),
        4 => writeln!(
            out,
            "<path d=\"M{x:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z\" {attrs}/>",
            y + r * 1.2,
            x + r * 1.1,
            y - r * 0.8,
            x - r * 1.1,
            y - r * 0.8
        ),
        _ => writeln!(
            out,
            "<path d=\"M{:.1},{:.1} L{:.1},{:.1} M{:.1},{:.1} L{:.1},{:.1}\" stroke=\"{fill}\" stroke-width=\"2.2\" fill=\"none\"/>",
            x - r,
            y - r,
            x + r,
            y + r,
            x - r,
            y + r,
            x + r,
            y - r
        ),
    };
}

/// A self-contained `WIDTH`×`HEIGHT` SVG line chart of `series`.
#[must_use]
pub fn line_chart(chart: &Chart<'_>, series: &[Series]) -> String {
    let xs = Resolved::new(
        chart.x.scale,
        series.iter().flat_map(|s| s.points.iter().map(|p| p.0)),
    );
    let ys = Resolved::new(
        chart.y.scale,
        series.iter().flat_map(|s| s.points.iter().map(|p| p.1)),
    );

    // Layout: title (and subtitle) on top, y label and tick labels on the
    // left, x tick labels and label below, the legend in a column right
    // of the plot.
    let top = if chart.subtitle.is_empty() {
        44.0
    } else {
        62.0
    };
    let y_tick_w = ys
        .ticks
        .iter()
        .filter_map(|t| t.text.as_ref().map(TickText::width))
        .fold(0.0, f64::max);
    let left = (30.0 + y_tick_w + 8.0).round();
    let bottom = HEIGHT - 50.0;
    let name_w = series
        .iter()
        .map(|s| text_width(&s.name))
        .fold(0.0, f64::max);
    let legend_w = (10.0 + 28.0 + name_w + 10.0).round();
    let legend_x = WIDTH - 12.0 - legend_w;
    let right = legend_x - 14.0;
    let px = |t: f64| xs.pixel(t, left, right);
    let py = |t: f64| ys.pixel(t, bottom, top);

    let mut out = String::new();
    // Writing to a String cannot fail: the results below are ignored.
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"{FONT_FAMILY}\" font-size=\"{FONT}\">"
    );
    let _ = writeln!(out, "<title>{}</title>", escape(chart.title));
    let _ = writeln!(
        out,
        "<rect width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#ffffff\"/>"
    );
    let _ = writeln!(
        out,
        "<text x=\"{:.1}\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\" fill=\"#222222\">{}</text>",
        WIDTH / 2.0,
        escape(chart.title)
    );
    if !chart.subtitle.is_empty() {
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"44\" text-anchor=\"middle\" fill=\"#555555\">{}</text>",
            WIDTH / 2.0,
            escape(chart.subtitle)
        );
    }

    // Grid, ticks and tick labels.
    out.push_str("<g stroke-width=\"1\">\n");
    for t in &xs.ticks {
        let x = px(t.at);
        let (grid, tick) = if t.text.is_some() {
            ("#dddddd", 5.0)
        } else {
            ("#f0f0f0", 3.0)
        };
        let _ = writeln!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{top:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\" stroke=\"{grid}\"/>"
        );
        let _ = writeln!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{bottom:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#333333\"/>",
            bottom + tick
        );
    }
    for t in &ys.ticks {
        let y = py(t.at);
        let (grid, tick) = if t.text.is_some() {
            ("#dddddd", 5.0)
        } else {
            ("#f0f0f0", 3.0)
        };
        let _ = writeln!(
            out,
            "<line x1=\"{left:.1}\" y1=\"{y:.1}\" x2=\"{right:.1}\" y2=\"{y:.1}\" stroke=\"{grid}\"/>"
        );
        let _ = writeln!(
            out,
            "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{left:.1}\" y2=\"{y:.1}\" stroke=\"#333333\"/>",
            left - tick
        );
    }
    out.push_str("</g>\n");
    let _ = writeln!(
        out,
        "<rect x=\"{left:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#333333\"/>",
        right - left,
        bottom - top
    );
    out.push_str("<g fill=\"#333333\">\n");
    for t in &xs.ticks {
        if let Some(text) = &t.text {
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                px(t.at),
                bottom + 20.0,
                text.svg()
            );
        }
    }
    for t in &ys.ticks {
        if let Some(text) = &t.text {
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                left - 8.0,
                py(t.at) + 4.0,
                text.svg()
            );
        }
    }
    out.push_str("</g>\n");
    let _ = writeln!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#222222\">{}</text>",
        f64::midpoint(left, right),
        HEIGHT - 12.0,
        escape(chart.x.label)
    );
    let (ly_x, ly_y) = (18.0, f64::midpoint(top, bottom));
    let _ = writeln!(
        out,
        "<text x=\"{ly_x:.1}\" y=\"{ly_y:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 {ly_x:.1} {ly_y:.1})\" fill=\"#222222\">{}</text>",
        escape(chart.y.label)
    );

    // Series: lines (split where a point cannot be shown), then markers.
    let dash = |s: &Series| {
        if s.dashed {
            " stroke-dasharray=\"7 4\""
        } else {
            ""
        }
    };
    for (i, s) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for &(x, y) in &s.points {
            match (transform(xs.scale, x), transform(ys.scale, y)) {
                (Some(tx), Some(ty)) => runs
                    .last_mut()
                    .expect("runs is never empty")
                    .push((px(tx), py(ty))),
                _ => runs.push(Vec::new()),
            }
        }
        let _ = writeln!(out, "<g><title>{}</title>", escape(&s.name));
        for run in runs.iter().filter(|r| r.len() > 1) {
            let pts: Vec<String> = run.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            let _ = writeln!(
                out,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" stroke-linejoin=\"round\"{}/>",
                pts.join(" "),
                dash(s)
            );
        }
        for &(x, y) in runs.iter().flatten() {
            marker(&mut out, i % MARKERS, x, y, colour);
        }
        out.push_str("</g>\n");
    }

    // Legend.
    if !series.is_empty() {
        let row_h = 20.0;
        let legend_h = 8.0 + row_h * count(series.len());
        let _ = writeln!(
            out,
            "<rect x=\"{legend_x:.1}\" y=\"{top:.1}\" width=\"{legend_w:.1}\" height=\"{legend_h:.1}\" fill=\"#ffffff\" stroke=\"#cccccc\" rx=\"3\"/>"
        );
        for (i, s) in series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let y = top + 4.0 + row_h * (count(i) + 0.5);
            let (x0, x1) = (legend_x + 10.0, legend_x + 34.0);
            let _ = writeln!(
                out,
                "<line x1=\"{x0:.1}\" y1=\"{y:.1}\" x2=\"{x1:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"2\"{}/>",
                dash(s)
            );
            marker(&mut out, i % MARKERS, f64::midpoint(x0, x1), y, colour);
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#222222\">{}</text>",
                x1 + 8.0,
                y + 4.0,
                escape(&s.name)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}
