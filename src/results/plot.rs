//! A line chart of result series as SVG, written by hand: no C library, no font files, and the
//! same input gives the same bytes.
//!
//! The x axis is the step when every point has one, else the epoch when every point has one,
//! else the point's position. Each series is one `<path class="series">`, with dot markers
//! when it has few points; non-finite values are skipped. The legend is at the right.

use super::Series;
use std::fmt::Write;

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 480.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 230.0; // room for the legend
const TOP: f64 = 44.0;
const BOTTOM: f64 = 56.0;
const MAX_MARKERS: usize = 60;
/// Colour-blind-safe (Okabe–Ito), then repeated.
const PALETTE: [&str; 8] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#f0e442",
];

#[derive(Clone, Copy, PartialEq)]
enum XAxis {
    Step,
    Epoch,
    Index,
}

/// An SVG line chart of `series` titled `title` (module docs).
pub fn plot_svg(series: &[Series], title: &str) -> String {
    let x_axis = if series
        .iter()
        .all(|s| s.points.iter().all(|p| p.step.is_some()))
    {
        XAxis::Step
    } else if series
        .iter()
        .all(|s| s.points.iter().all(|p| p.epoch.is_some()))
    {
        XAxis::Epoch
    } else {
        XAxis::Index
    };
    let lines: Vec<Vec<(f64, f64)>> = series
        .iter()
        .map(|s| {
            s.points
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let x = match x_axis {
                        XAxis::Step => p.step.unwrap_or(0) as f64,
                        XAxis::Epoch => p.epoch.unwrap_or(0.0),
                        XAxis::Index => i as f64,
                    };
                    (x, p.value)
                })
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect()
        })
        .collect();

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r##"<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="16">{}</text>"#,
        num(LEFT + (WIDTH - LEFT - RIGHT) / 2.0),
        escape(title)
    );

    let all: Vec<(f64, f64)> = lines.iter().flatten().copied().collect();
    if all.is_empty() {
        let _ = writeln!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#666666">no data</text>"##,
            num(WIDTH / 2.0),
            num(HEIGHT / 2.0)
        );
        svg.push_str("</svg>\n");
        return svg;
    }
    let (x_ticks, x_lo, x_hi) = nice_ticks(
        all.iter().map(|p| p.0).fold(f64::INFINITY, f64::min),
        all.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max),
    );
    let (y_ticks, y_lo, y_hi) = nice_ticks(
        all.iter().map(|p| p.1).fold(f64::INFINITY, f64::min),
        all.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max),
    );
    let (x0, x1, y0, y1) = (LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, TOP);
    let sx = |x: f64| x0 + (x - x_lo) / (x_hi - x_lo) * (x1 - x0);
    let sy = |y: f64| y0 - (y - y_lo) / (y_hi - y_lo) * (y0 - y1);

    // Grid, ticks and tick labels.
    let _ = writeln!(
        svg,
        r##"<g class="grid" stroke="#e5e5e5" stroke-width="1">"##
    );
    for &t in &x_ticks {
        let _ = writeln!(
            svg,
            r#"<line x1="{x}" y1="{}" x2="{x}" y2="{}"/>"#,
            num(y0),
            num(y1),
            x = num(sx(t))
        );
    }
    for &t in &y_ticks {
        let _ = writeln!(
            svg,
            r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}"/>"#,
            num(x0),
            num(x1),
            y = num(sy(t))
        );
    }
    svg.push_str("</g>\n");
    let _ = writeln!(
        svg,
        r##"<g class="axes" stroke="#333333" stroke-width="1"><line x1="{a}" y1="{b}" x2="{c}" y2="{b}"/><line x1="{a}" y1="{b}" x2="{a}" y2="{d}"/></g>"##,
        a = num(x0),
        b = num(y0),
        c = num(x1),
        d = num(y1)
    );
    let x_step = x_ticks.get(1).map_or(1.0, |t| t - x_ticks[0]);
    let y_step = y_ticks.get(1).map_or(1.0, |t| t - y_ticks[0]);
    let _ = writeln!(svg, r##"<g class="ticks" fill="#333333">"##);
    for &t in &x_ticks {
        let _ = writeln!(
            svg,
            r##"<line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke="#333333"/><text x="{x}" y="{}" text-anchor="middle">{}</text>"##,
            num(y0),
            num(y0 + 5.0),
            num(y0 + 19.0),
            tick_label(t, x_step),
            x = num(sx(t))
        );
    }
    for &t in &y_ticks {
        let _ = writeln!(
            svg,
            r##"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#333333"/><text x="{}" y="{}" text-anchor="end">{}</text>"##,
            num(x0 - 5.0),
            num(x0),
            num(x0 - 8.0),
            num(sy(t) + 4.0),
            tick_label(t, y_step),
            y = num(sy(t))
        );
    }
    svg.push_str("</g>\n");
    let x_name = match x_axis {
        XAxis::Step => "step",
        XAxis::Epoch => "epoch",
        XAxis::Index => "index",
    };
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">{x_name}</text>"#,
        num((x0 + x1) / 2.0),
        num(HEIGHT - 14.0)
    );
    let _ = writeln!(
        svg,
        r#"<text x="16" y="{y}" text-anchor="middle" transform="rotate(-90 16 {y})">value</text>"#,
        y = num((y0 + y1) / 2.0)
    );

    // Series, then the legend.
    for (i, (s, pts)) in series.iter().zip(&lines).enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mut d = String::new();
        for (j, (x, y)) in pts.iter().enumerate() {
            let _ = write!(
                d,
                "{}{},{}",
                if j == 0 { "M" } else { " L" },
                num(sx(*x)),
                num(sy(*y))
            );
        }
        let _ = writeln!(
            svg,
            r#"<path class="series" data-name="{}" d="{d}" fill="none" stroke="{color}" stroke-width="2" stroke-linejoin="round"/>"#,
            escape(&s.name)
        );
        if pts.len() <= MAX_MARKERS {
            let _ = write!(svg, r#"<g class="markers" fill="{color}">"#);
            for (x, y) in pts {
                let _ = write!(
                    svg,
                    r#"<circle cx="{}" cy="{}" r="2.5"/>"#,
                    num(sx(*x)),
                    num(sy(*y))
                );
            }
            svg.push_str("</g>\n");
        }
    }
    let _ = writeln!(svg, r#"<g class="legend">"#);
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let y = TOP + 10.0 + i as f64 * 20.0;
        let lx = x1 + 16.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{color}" stroke-width="2"/><text x="{}" y="{}">{}</text>"#,
            num(lx),
            num(lx + 22.0),
            num(lx + 28.0),
            num(y + 4.0),
            escape(&shorten(&s.name, 28)),
            y = num(y)
        );
    }
    svg.push_str("</g>\n</svg>\n");
    svg
}

/// Round tick values covering [lo, hi]: the ticks, and the axis range they span.
fn nice_ticks(lo: f64, hi: f64) -> (Vec<f64>, f64, f64) {
    let (lo, hi) = if hi - lo > f64::EPSILON * hi.abs().max(1.0) {
        (lo, hi)
    } else {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo - pad, hi + pad)
    };
    let rough = (hi - lo) / 5.0;
    let mag = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).floor() as i64;
    let last = (hi / step).ceil() as i64;
    let ticks: Vec<f64> = (first..=last).map(|k| k as f64 * step).collect();
    (ticks, first as f64 * step, last as f64 * step)
}

fn tick_label(v: f64, step: f64) -> String {
    let decimals = (-step.abs().log10().floor()).clamp(0.0, 8.0) as usize;
    let decimals = if (step * 10f64.powi(decimals as i32)).fract().abs() > 1e-9 {
        decimals + 1
    } else {
        decimals
    };
    let text = format!("{v:.decimals$}");
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        "0".to_string() // no "-0.00"
    } else {
        text
    }
}

/// Coordinates with two decimals at most, trailing zeros trimmed: short and deterministic.
fn num(v: f64) -> String {
    let text = format!("{v:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let head: String = s.chars().take(max - 1).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        let (t, lo, hi) = nice_ticks(0.013, 0.69);
        assert_eq!((lo, hi), (0.0, 0.8));
        assert_eq!(t.len(), 5);
        assert_eq!(tick_label(t[1], t[1] - t[0]), "0.2");
        let (t, _, _) = nice_ticks(20.0, 192.0);
        assert_eq!(tick_label(t[1], t[1] - t[0]), "50");
        assert_eq!(tick_label(2.5, 2.5), "2.5");
        assert_eq!(num(-0.001), "0");
    }
}
