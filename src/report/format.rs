//! Numbers, durations and sizes for people, the same way the Lua `trackit.report` module
//! writes them (a test keeps the two in step).

use crate::job::format_duration;
use crate::results::{human_mem, Best, MetricSummary};

/// Significant digits of a metric value.
pub const SIGNIFICANT: usize = 4;

/// A metric value for a table: integers as integers, 4 significant digits otherwise,
/// large values rounded to whole numbers, tiny ones in scientific notation
/// (`0.019542083144187927` → `0.01954`, `168364081152` → `168364081152`, `3.0` → `3`,
/// `12345.678` → `12346`, `0.0000123456` → `1.235e-05`, NaN → `NaN`).
pub fn format_number(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let a = v.abs();
    if a >= 10f64.powi(SIGNIFICANT as i32) {
        return format!("{}", v.round() as i64);
    }
    if a < 1e-4 {
        return format_sci(v);
    }
    let exp = a.log10().floor() as i32;
    let decimals = (SIGNIFICANT as i32 - 1 - exp).max(0) as usize;
    let text = format!("{v:.decimals$}");
    // Rounding can carry into a new digit (9.9996 → 10.000): trim zeros either way.
    trim_zeros(&text)
}

fn trim_zeros(text: &str) -> String {
    if text.contains('.') {
        let t = text.trim_end_matches('0').trim_end_matches('.');
        if t == "-0" {
            "0".to_string()
        } else {
            t.to_string()
        }
    } else {
        text.to_string()
    }
}

/// C's `%.4g` for small values: `1.235e-05`.
fn format_sci(v: f64) -> String {
    let s = format!("{:.*e}", SIGNIFICANT - 1, v);
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{}e{sign}{:02}", trim_zeros(mantissa), exp.abs())
}

/// An epoch: `3`, `2.5`.
pub fn format_epoch(e: f64) -> String {
    format_number(e)
}

/// `HH:MM:SS` (with `D-` past a day), or `—` when unknown.
pub fn format_elapsed(secs: Option<u64>) -> String {
    secs.map(format_duration)
        .unwrap_or_else(|| DASH.to_string())
}

/// `3.1G`, or `—` when unknown.
pub fn format_memory(bytes: Option<u64>) -> String {
    bytes.map(human_mem).unwrap_or_else(|| DASH.to_string())
}

/// What an empty cell shows.
pub const DASH: &str = "—";

/// Where a best value was reached: `epoch 3, step 192`, `step 180`, `epoch 2`.
pub fn format_at(step: Option<u64>, epoch: Option<f64>) -> String {
    match (epoch, step) {
        (Some(e), Some(s)) => format!("epoch {}, step {s}", format_epoch(e)),
        (Some(e), None) => format!("epoch {}", format_epoch(e)),
        (None, Some(s)) => format!("step {s}"),
        (None, None) => String::new(),
    }
}

/// `0.01954 (epoch 3, step 192)`.
pub fn format_best(best: &Best) -> String {
    let at = format_at(best.step, best.epoch);
    if at.is_empty() {
        format_number(best.value)
    } else {
        format!("{} ({at})", format_number(best.value))
    }
}

/// `eval_loss 0.01954 (best 0.01954 at epoch 3, step 192)`, for comments.
pub fn metric_line(m: &MetricSummary) -> String {
    let value = m
        .final_value
        .map(format_number)
        .unwrap_or_else(|| DASH.to_string());
    match &m.best {
        Some(b) => {
            let at = format_at(b.step, b.epoch);
            let at = if at.is_empty() {
                String::new()
            } else {
                format!(" at {at}")
            };
            format!("{} {value} (best {}{at})", m.name, format_number(b.value))
        }
        None => format!("{} {value}", m.name),
    }
}

/// Text made safe for one markdown table cell: pipes and emphasis escaped, `<` not taken for
/// HTML, line breaks as `<br>`.
pub fn cell(text: &str) -> String {
    let t = text.trim();
    if t.is_empty() {
        return DASH.to_string();
    }
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('|', "\\|")
        .replace('*', "\\*")
        .replace("\r\n", "\n")
        .replace('\n', "<br>")
}

/// Text as inline code in a table cell (log lines), with pipes escaped.
pub fn code_cell(text: &str) -> String {
    let t = text.trim().replace('|', "\\|").replace(['\r', '\n'], " ");
    if t.contains('`') {
        format!("`` {t} ``")
    } else {
        format!("`{t}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(format_number(0.019542083144187927), "0.01954");
        assert_eq!(format_number(0.998046875), "0.998");
        assert_eq!(format_number(0.22797345307966074), "0.228");
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(168364081152.0), "168364081152");
        assert_eq!(format_number(12345.678), "12346");
        assert_eq!(format_number(9.99996), "10");
        assert_eq!(format_number(1.5), "1.5");
        assert_eq!(format_number(-0.000012345678), "-1.235e-05");
        assert_eq!(format_number(f64::NAN), "NaN");
        assert_eq!(format_number(-0.00001), "-1e-05");
        assert_eq!(format_number(123.456), "123.5");
    }

    #[test]
    fn cells() {
        assert_eq!(cell("a|b\nc"), "a\\|b<br>c");
        assert_eq!(cell("*** STEP <1> &"), "\\*\\*\\* STEP &lt;1> &amp;");
        assert_eq!(cell("  "), "—");
        assert_eq!(code_cell("x `y` | z"), "`` x `y` \\| z ``");
        assert_eq!(format_at(Some(192), Some(3.0)), "epoch 3, step 192");
    }
}
