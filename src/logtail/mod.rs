//! Reading job logs: a bounded tail window, cleaned into lines.
//!
//! A 10 GB log costs what a 10 KB one does: only the last `window` bytes are read. Progress bars
//! written with carriage returns collapse to their last state, ANSI escapes are stripped, invalid
//! UTF-8 and NUL bytes are tolerated, and very long lines are cut.

pub mod follow;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Default tail window: enough for the last few thousand lines of any training log.
pub const DEFAULT_WINDOW: u64 = 256 * 1024;
/// Default cap on one cleaned line, in bytes.
pub const DEFAULT_MAX_LINE: usize = 4096;

/// How much of a log to read and how to cut it.
#[derive(Debug, Clone, Copy)]
pub struct TailOptions {
    pub window: u64,
    pub max_line: usize,
}

impl Default for TailOptions {
    fn default() -> Self {
        TailOptions {
            window: DEFAULT_WINDOW,
            max_line: DEFAULT_MAX_LINE,
        }
    }
}

/// The cleaned tail of one log file.
#[derive(Debug, Clone, PartialEq)]
pub struct LogTail {
    pub path: PathBuf,
    /// Size of the file when it was read.
    pub file_size: u64,
    /// Byte offset in the file where the first kept line starts.
    pub start_offset: u64,
    /// True when the window reached the start of the file, so line numbers are the file's own.
    pub complete: bool,
    /// Cleaned lines, in order. Line `i` is line number `i + 1` of the window.
    pub lines: Vec<String>,
}

impl LogTail {
    /// The line number to show for `lines[index]`: the file's own when the whole file was read.
    pub fn line_number(&self, index: usize) -> usize {
        index + 1
    }

    /// The cleaned text joined with newlines, e.g. for a Lua policy to search.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

/// Why a log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error("cannot read log {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read log {path}: it is a directory")]
    IsDir { path: PathBuf },
    #[error("cannot read log {path}: it is {kind}, not a regular file")]
    NotRegular { path: PathBuf, kind: &'static str },
}

/// What a non-regular file is, for messages.
pub fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading only if it is a regular file. The open itself is non-blocking, so a
/// FIFO with no writer (or a tty, a device) cannot hang the tracker; the type is checked on the
/// open handle, so a swap after a check cannot slip one in.
pub fn open_regular(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{} is {}, not a regular file",
                path.display(),
                file_kind(&meta)
            ),
        ));
    }
    Ok(file)
}

/// Reads the last `opts.window` bytes of `path` and cleans them into lines.
pub fn read_tail(path: &Path, opts: TailOptions) -> Result<LogTail, TailError> {
    let io_err = |source| TailError::Io {
        path: path.to_path_buf(),
        source,
    };
    // Refuse FIFOs, devices and directories before opening: opening a FIFO blocks.
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if meta.is_dir() {
        return Err(TailError::IsDir {
            path: path.to_path_buf(),
        });
    }
    if !meta.is_file() {
        return Err(TailError::NotRegular {
            path: path.to_path_buf(),
            kind: file_kind(&meta),
        });
    }
    let mut file = open_regular(path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    let size = meta.len();
    let window = opts.window.max(1);
    let start = size.saturating_sub(window);
    file.seek(SeekFrom::Start(start)).map_err(io_err)?;
    let mut buf = Vec::with_capacity((size - start) as usize);
    file.take(window).read_to_end(&mut buf).map_err(io_err)?;

    // A window that starts mid-file starts mid-line: drop that partial line.
    let mut skip = 0;
    if start > 0 {
        skip = match memchr_newline(&buf) {
            Some(i) => i + 1,
            None => 0, // one giant line: keep its tail, clean_lines cuts it
        };
    }
    let lines = clean_lines(&buf[skip..], opts.max_line);
    Ok(LogTail {
        path: path.to_path_buf(),
        file_size: size,
        start_offset: start + skip as u64,
        complete: start == 0,
        lines,
    })
}

fn memchr_newline(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&b| b == b'\n')
}

/// Splits raw log bytes into display lines: `\r` progress updates collapse to their last
/// non-empty state, ANSI escapes and NULs go, invalid UTF-8 becomes U+FFFD, long lines are cut.
pub fn clean_lines(raw: &[u8], max_line: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = raw;
    // A trailing newline does not start another line.
    if rest.last() == Some(&b'\n') {
        rest = &rest[..rest.len() - 1];
    }
    if rest.is_empty() {
        return out;
    }
    for line in rest.split(|&b| b == b'\n') {
        out.push(clean_line(line, max_line));
    }
    out
}

/// Cleans one physical line (no `\n` inside).
pub fn clean_line(line: &[u8], max_line: usize) -> String {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    // tqdm and friends redraw with `\r`: what a terminal would show is the last non-empty state.
    let shown = line
        .rsplit(|&b| b == b'\r')
        .find(|seg| seg.iter().any(|b| !b.is_ascii_whitespace()))
        .unwrap_or(b"");
    let stripped = strip_escapes(shown);
    let mut text = String::from_utf8_lossy(&stripped).into_owned();
    if text.len() > max_line {
        let mut cut = max_line;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(" …[cut]");
    }
    text
}

/// Removes ANSI/VT escape sequences (CSI, OSC, two-byte ESC) and NUL/backspace bytes.
fn strip_escapes(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        match b {
            0x1b => {
                i += 1;
                match input.get(i) {
                    Some(b'[') => {
                        // CSI: parameters and intermediates, then one final byte in 0x40..=0x7e.
                        i += 1;
                        while i < input.len() && !(0x40..=0x7e).contains(&input[i]) {
                            i += 1;
                        }
                        i += 1;
                    }
                    Some(b']') => {
                        // OSC: ends with BEL or ESC \.
                        i += 1;
                        while i < input.len() {
                            if input[i] == 0x07 {
                                i += 1;
                                break;
                            }
                            if input[i] == 0x1b && input.get(i + 1) == Some(&b'\\') {
                                i += 2;
                                break;
                            }
                            i += 1;
                        }
                    }
                    Some(_) => i += 1,
                    None => {}
                }
            }
            0x00 | 0x08 => i += 1,
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn carriage_returns_collapse_to_last_state() {
        let raw = b"start\n 10%|#    |\r 50%|##   |\r100%|#####|\r\nnext\n";
        assert_eq!(clean_lines(raw, 100), vec!["start", "100%|#####|", "next"]);
    }

    #[test]
    fn trailing_cr_keeps_last_nonempty_state() {
        assert_eq!(clean_line(b"a\rb\r   \r", 100), "b");
        assert_eq!(clean_line(b"windows line\r", 100), "windows line");
    }

    #[test]
    fn ansi_and_nul_are_stripped() {
        let raw = b"\x1b[31mred\x1b[0m \x1b[Aup\x00 \x1b]0;title\x07done";
        assert_eq!(clean_line(raw, 100), "red up done");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let line = clean_line(b"ok \xff\xfe bytes", 100);
        assert!(line.starts_with("ok ") && line.ends_with(" bytes"));
    }

    #[test]
    fn long_lines_are_cut_on_char_boundary() {
        let long = "é".repeat(5000);
        let cut = clean_line(long.as_bytes(), 101);
        assert!(cut.len() <= 101 + " …[cut]".len());
        assert!(cut.ends_with("[cut]"));
    }

    #[test]
    fn window_drops_partial_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let mut f = File::create(&path).unwrap();
        for i in 0..1000 {
            writeln!(f, "line {i:04}").unwrap();
        }
        drop(f);
        let tail = read_tail(
            &path,
            TailOptions {
                window: 25,
                max_line: 100,
            },
        )
        .unwrap();
        assert!(!tail.complete);
        assert_eq!(tail.lines, vec!["line 0998", "line 0999"]);
        let whole = read_tail(&path, TailOptions::default()).unwrap();
        assert!(whole.complete);
        assert_eq!(whole.lines.len(), 1000);
    }

    #[test]
    fn missing_file_is_a_clear_error() {
        let err = read_tail(
            Path::new("/nonexistent/trackit.log"),
            TailOptions::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/trackit.log"),
            "{err}"
        );
    }
}
