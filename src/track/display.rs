//! What the tracker shows while it works: a redrawn status line per job on a terminal, plain
//! timestamped lines elsewhere, or one JSON event per line with `--json`.

use serde_json::Value;
use std::io::{IsTerminal, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Status lines redrawn in place.
    Tty,
    /// Timestamped lines, one per event (pipes, files, CI logs).
    Plain,
    /// One JSON object per line.
    Json,
    /// Errors only.
    Quiet,
}

impl Mode {
    pub fn choose(json: bool, quiet: bool) -> Mode {
        if json {
            Mode::Json
        } else if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Tty
        } else {
            Mode::Plain
        }
    }
}

/// Writes events to stdout (JSON) or stderr (people), keeping the live lines at the bottom.
pub struct Display {
    mode: Mode,
    /// How many status lines are currently drawn (TTY, without indicatif).
    drawn: usize,
    /// One indicatif line per track (TTY): a tracing span that tracing-indicatif draws.
    bars: std::collections::BTreeMap<String, tracing::Span>,
}

/// Writes a line above the live bars when tracing-indicatif draws them; false when it does
/// not (no such subscriber: the plain redraw is used).
fn print_above_bars(line: &str) -> bool {
    match tracing_indicatif::writer::get_indicatif_stderr_writer() {
        Some(mut w) => {
            let _ = writeln!(w, "{line}");
            true
        }
        None => false,
    }
}

impl Display {
    pub fn new(mode: Mode) -> Display {
        Display {
            mode,
            drawn: 0,
            bars: std::collections::BTreeMap::new(),
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// An event: something happened that deserves a line of its own.
    pub fn event(&mut self, track: &str, event: &str, message: &str, data: Value) {
        match self.mode {
            Mode::Json => {
                let mut obj = serde_json::json!({
                    "at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "track": track,
                    "event": event,
                    "message": message,
                });
                if let (Some(o), Value::Object(extra)) = (obj.as_object_mut(), data) {
                    for (k, v) in extra {
                        o.insert(k, v);
                    }
                }
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{obj}");
                let _ = out.flush();
            }
            Mode::Quiet => {
                if event == "error" {
                    eprintln!("trackit: {message}");
                }
            }
            Mode::Plain => {
                let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
                eprintln!("{now} [{track}] {message}");
            }
            Mode::Tty => {
                if !print_above_bars(message) {
                    self.clear();
                    eprintln!("{message}");
                }
            }
        }
    }

    /// The live status: one line per track, `(track id, line)` (terminal only). Tracks not in
    /// `lines` lose their line.
    pub fn status(&mut self, lines: &[(String, String)]) {
        if self.mode != Mode::Tty {
            return;
        }
        if tracing_indicatif::writer::get_indicatif_stderr_writer().is_some() {
            use tracing_indicatif::span_ext::IndicatifSpanExt;
            self.bars.retain(|id, _| lines.iter().any(|(l, _)| l == id));
            for (id, line) in lines {
                let span = self.bars.entry(id.clone()).or_insert_with(|| {
                    let span = tracing::info_span!("track", indicatif.pb_show = tracing::field::Empty, id = %id);
                    span.pb_start();
                    span
                });
                span.pb_set_message(line);
            }
            return;
        }
        self.clear();
        let width = terminal_width();
        let mut err = std::io::stderr().lock();
        for (_, line) in lines {
            let shown: String = line.chars().take(width.saturating_sub(1)).collect();
            let _ = writeln!(err, "{shown}");
        }
        let _ = err.flush();
        self.drawn = lines.len();
    }

    /// Removes the live lines, e.g. before printing the final report.
    pub fn clear(&mut self) {
        self.bars.clear();
        if self.mode == Mode::Tty && self.drawn > 0 {
            let mut err = std::io::stderr().lock();
            // Cursor up and erase, once per drawn line.
            for _ in 0..self.drawn {
                let _ = write!(err, "\x1b[1A\x1b[2K");
            }
            let _ = err.flush();
            self.drawn = 0;
        }
    }
}

fn terminal_width() -> usize {
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ fills a winsize struct for a terminal fd; on error we keep the default.
    let ok = unsafe { libc::ioctl(2, libc::TIOCGWINSZ, &mut ws) } == 0;
    if ok && ws.ws_col > 20 {
        ws.ws_col as usize
    } else {
        100
    }
}
