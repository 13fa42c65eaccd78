//! The experiment doc: which file it is, and the results section inside it.
//!
//! The section lives between markers that carry the track id,
//! `<!-- trackit:results:start track=ID -->` … `<!-- trackit:results:end track=ID -->`, and is
//! replaced in place: re-running never duplicates a table, several tracks can share one doc,
//! and every byte outside the markers (the user's text, the Discussion) stays as it was. A
//! bare pair without an id, placed by hand, is claimed by the first track that writes.
//!
//! The Discussion works the same way, with `<!-- trackit:discussion:start track=ID -->` markers
//! under a `## Discussion` heading (added at the end of a doc that has none): trackit rewrites
//! its own sentences there, and the people's text around them stays theirs.

use super::model::ReportCtx;
use crate::prelude::*;
use std::path::{Component, Path, PathBuf};

const START: &str = "<!-- trackit:results:start";
const END: &str = "<!-- trackit:results:end";
const DISCUSSION_START: &str = "<!-- trackit:discussion:start";
const DISCUSSION_END: &str = "<!-- trackit:discussion:end";

/// A kind of marked section.
#[derive(Clone, Copy)]
struct Kind {
    start: &'static str,
    end: &'static str,
    /// The heading it goes under (any level, any case).
    heading: &'static str,
}

const RESULTS: Kind = Kind {
    start: START,
    end: END,
    heading: "Results",
};
const DISCUSSION: Kind = Kind {
    start: DISCUSSION_START,
    end: DISCUSSION_END,
    heading: "Discussion",
};

/// The start marker line for a track.
pub fn start_marker(track_id: &str) -> String {
    format!("{START} track={} -->", marker_id(track_id))
}

/// The end marker line for a track.
pub fn end_marker(track_id: &str) -> String {
    format!("{END} track={} -->", marker_id(track_id))
}

fn kind_marker(prefix: &str, track_id: &str) -> String {
    format!("{prefix} track={} -->", marker_id(track_id))
}

/// A track id safe inside an HTML comment and a marker (no spaces, no `--`).
fn marker_id(track_id: &str) -> String {
    let id: String = track_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._:-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    id.replace("--", "-_")
}

/// How the doc was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocSource {
    /// `--doc PATH`.
    Explicit,
    /// The policy's `find_doc` hook.
    Hook,
    /// The first `docs/**/<experiment>*.md`.
    Found,
    /// None existed: `docs/experiments/<experiment>.md`, made from the template.
    Created,
}

/// The doc a track writes to.
#[derive(Debug, Clone, PartialEq)]
pub struct DocChoice {
    /// Relative to the repository root, `/`-separated.
    pub path: PathBuf,
    pub source: DocSource,
    /// Why a hook's answer was not used, when it was not.
    pub note: Option<String>,
}

/// `docs/**/<experiment>*.md` under `root`, matched without regard to case: a file named
/// exactly after the experiment first, then the others, each group sorted. Hidden folders are
/// not searched. Paths are relative to `root`.
pub fn doc_candidates(root: &Path, experiment: &str) -> Vec<PathBuf> {
    let pattern = format!(
        "{}/docs/**/{}*.md",
        glob::Pattern::escape(&root.display().to_string()),
        glob::Pattern::escape(experiment)
    );
    let options = glob::MatchOptions {
        case_sensitive: false,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let Ok(paths) = glob::glob_with(&pattern, options) else {
        return Vec::new();
    };
    let want = experiment.to_lowercase();
    let mut found: Vec<PathBuf> = paths
        .flatten()
        .filter(|p| p.is_file())
        .filter_map(|p| p.strip_prefix(root).ok().map(Path::to_path_buf))
        .collect();
    let exact = |p: &PathBuf| {
        p.file_stem()
            .is_some_and(|s| s.to_string_lossy().to_lowercase() == want)
    };
    found.sort_by(|a, b| (!exact(a), a).cmp(&(!exact(b), b)));
    found
}

/// Where a new doc goes: `docs/experiments/<experiment>.md`, the name made file-safe.
pub fn default_doc_path(experiment: &str) -> PathBuf {
    Path::new("docs/experiments").join(format!("{}.md", file_slug(experiment)))
}

fn file_slug(name: &str) -> String {
    let slug: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug.trim_matches(|c| c == '-' || c == '.').to_string();
    if slug.is_empty() {
        "experiment".to_string()
    } else {
        slug
    }
}

/// A repository-relative path from user or policy input; None when it leaves the repository.
pub fn repo_relative(root: &Path, path: &Path) -> Option<PathBuf> {
    let rel = if path.is_absolute() {
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let parent = path.parent().and_then(|p| std::fs::canonicalize(p).ok());
        let full = match (parent, path.file_name()) {
            (Some(p), Some(f)) => p.join(f),
            _ => path.to_path_buf(),
        };
        full.strip_prefix(&root).ok()?.to_path_buf()
    } else {
        path.to_path_buf()
    };
    let mut out = PathBuf::new();
    for c in rel.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Chooses the doc: `--doc PATH`, else the policy's `find_doc` hook (given the candidates),
/// else the first candidate, else a new `docs/experiments/<experiment>.md`.
///
/// An explicit path outside the repository is an error; a hook's is ignored with a note.
pub fn choose_doc(
    root: &Path,
    experiment: &str,
    explicit: Option<&Path>,
    hook: impl FnOnce(&[PathBuf]) -> Option<String>,
) -> Result<DocChoice> {
    if let Some(p) = explicit {
        let path = repo_relative(root, p).ok_or_else(|| {
            anyhow!(
                "--doc {}: the experiment doc must be inside the repository ({})",
                p.display(),
                root.display()
            )
        })?;
        return Ok(DocChoice {
            path,
            source: DocSource::Explicit,
            note: None,
        });
    }
    let candidates = doc_candidates(root, experiment);
    let mut note = None;
    if let Some(answer) = hook(&candidates) {
        match repo_relative(root, Path::new(answer.trim())) {
            Some(path) if path.extension().is_some_and(|e| e == "md") => {
                return Ok(DocChoice {
                    path,
                    source: DocSource::Hook,
                    note: None,
                })
            }
            _ => {
                note = Some(format!(
                    "find_doc returned '{answer}', which is not a .md file inside the repository; ignored"
                ))
            }
        }
    }
    Ok(match candidates.into_iter().next() {
        Some(path) => DocChoice {
            path,
            source: DocSource::Found,
            note,
        },
        None => DocChoice {
            path: default_doc_path(experiment),
            source: DocSource::Created,
            note,
        },
    })
}

/// A new experiment doc: title, what was run, the results section (empty markers), a
/// Discussion section left for people.
pub fn new_doc(ctx: &ReportCtx) -> String {
    let mut out = format!("# {}\n\n", ctx.experiment.trim());
    out.push_str("## What was run\n\n");
    match &ctx.command {
        Some(cmd) => out.push_str(&format!("```\n{}\n```\n\n", cmd.trim())),
        None => out.push_str("_The command is recorded in the results pull request._\n\n"),
    }
    let mut facts = Vec::new();
    if let Some(b) = &ctx.backend {
        facts.push(format!("backend: {b}"));
    }
    if let Some(t) = ctx.started_at {
        facts.push(format!("started {}", t.format("%Y-%m-%d %H:%M UTC")));
    }
    facts.push(format!("track `{}`", ctx.track_id));
    out.push_str(&format!("{}.\n\n", capitalize(&facts.join(", "))));
    out.push_str("## Results\n\n");
    out.push_str(&start_marker(&ctx.track_id));
    out.push('\n');
    out.push_str(&end_marker(&ctx.track_id));
    out.push_str("\n\n## Discussion\n\n");
    out.push_str(&kind_marker(DISCUSSION_START, &ctx.track_id));
    out.push('\n');
    out.push_str(&kind_marker(DISCUSSION_END, &ctx.track_id));
    out.push_str("\n\n_What the results mean and what to try next. trackit only rewrites the text between its markers; the rest is yours._\n\n");
    out.push_str("---\n_Generated by trackit._\n");
    ctx.secrets.scrub(&out)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// A doc whose markers cannot be trusted: nothing is written.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DocError {
    #[error("line {line}: a trackit results start marker without its end marker; the doc was left as it is")]
    Unclosed { line: usize },
    #[error("line {line}: a trackit results end marker without a start marker; the doc was left as it is")]
    Unopened { line: usize },
    #[error("line {line}: the results section of track {track} appears twice; the doc was left as it is")]
    Duplicate { line: usize, track: String },
}

/// One marker pair found in a doc: byte ranges of the two marker lines.
struct Section {
    id: Option<String>,
    /// Byte offset just past the start marker line (its newline included).
    body_start: usize,
    /// Byte offset of the end marker line.
    body_end: usize,
}

fn marker_track(line: &str, prefix: &str) -> Option<Option<String>> {
    let rest = line.trim().strip_prefix(prefix)?;
    let rest = rest.strip_suffix("-->")?.trim();
    if rest.is_empty() {
        return Some(None);
    }
    rest.strip_prefix("track=")
        .map(|id| Some(id.trim().to_string()))
}

fn sections(text: &str) -> std::result::Result<Vec<Section>, DocError> {
    sections_of(text, RESULTS)
}

fn sections_of(text: &str, kind: Kind) -> std::result::Result<Vec<Section>, DocError> {
    let mut out = Vec::new();
    let mut open: Option<(Option<String>, usize, usize)> = None;
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let line_no = i + 1;
        if let Some(id) = marker_track(line, kind.start) {
            if open.is_some() {
                return Err(DocError::Unclosed {
                    line: open.map(|o| o.2).unwrap_or(line_no),
                });
            }
            open = Some((id, offset + line.len(), line_no));
        } else if let Some(id) = marker_track(line, kind.end) {
            match open.take() {
                Some((start_id, body_start, start_line)) => {
                    if id.is_some() && id != start_id {
                        return Err(DocError::Unclosed { line: start_line });
                    }
                    out.push(Section {
                        id: start_id,
                        body_start,
                        body_end: offset,
                    });
                }
                None => return Err(DocError::Unopened { line: line_no }),
            }
        }
        offset += line.len();
    }
    if let Some((_, _, line)) = open {
        return Err(DocError::Unclosed { line });
    }
    Ok(out)
}

/// `text` with the results section of `track_id` set to `body`. The section is found by its
/// markers (else a bare pair is claimed, else one is added under a `Results` heading, else
/// at the end). Everything outside the markers is kept byte for byte.
pub fn replace_section(
    text: &str,
    track_id: &str,
    body: &str,
) -> std::result::Result<String, DocError> {
    replace_marked(text, RESULTS, track_id, body)
}

/// `text` with trackit's Discussion of `track_id` set to `body`: between its markers, else a
/// bare pair, else under a `Discussion` heading (after the people's text there), else in a new
/// `## Discussion` at the end. Everything outside the markers is kept byte for byte.
pub fn replace_discussion(
    text: &str,
    track_id: &str,
    body: &str,
) -> std::result::Result<String, DocError> {
    replace_marked(text, DISCUSSION, track_id, body)
}

fn replace_marked(
    text: &str,
    kind: Kind,
    track_id: &str,
    body: &str,
) -> std::result::Result<String, DocError> {
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let body = body.trim_matches('\n').replace("\r\n", "\n");
    let body = if nl == "\n" {
        body
    } else {
        body.replace('\n', nl)
    };
    let found = sections_of(text, kind)?;
    let id = marker_id(track_id);
    let mine: Vec<&Section> = found
        .iter()
        .filter(|s| s.id.as_deref() == Some(id.as_str()))
        .collect();
    if mine.len() > 1 {
        let line = text[..mine[1].body_start].lines().count();
        return Err(DocError::Duplicate {
            line,
            track: id.clone(),
        });
    }
    if let Some(s) = mine.first() {
        return Ok(format!(
            "{}{body}{nl}{}",
            &text[..s.body_start],
            &text[s.body_end..]
        ));
    }
    if let Some(s) = found.iter().find(|s| s.id.is_none()) {
        // Claim a hand-placed bare pair: its marker lines get the track id.
        let start_line_begin = text[..s.body_start - 1].rfind('\n').map_or(0, |i| i + 1);
        let mut end_line_end = text[s.body_end..]
            .find('\n')
            .map_or(text.len(), |i| s.body_end + i);
        if text[..end_line_end].ends_with('\r') {
            end_line_end -= 1;
        }
        return Ok(format!(
            "{}{}{nl}{body}{nl}{}{}",
            &text[..start_line_begin],
            kind_marker(kind.start, track_id),
            kind_marker(kind.end, track_id),
            &text[end_line_end..]
        ));
    }
    let block = format!(
        "{}{nl}{body}{nl}{}{nl}",
        kind_marker(kind.start, track_id),
        kind_marker(kind.end, track_id)
    );
    // Under the heading, after any sections already there; else at the end.
    if let Some(at) = heading_end(text, kind.heading) {
        let rest = &text[at..];
        let insert_at = at + next_heading(rest).unwrap_or(rest.len());
        let before = &text[..insert_at];
        let sep = if before.ends_with(&format!("{nl}{nl}")) {
            ""
        } else if before.ends_with(nl) {
            nl
        } else {
            "\n\n"
        };
        let after = &text[insert_at..];
        let tail = if after.is_empty() { "" } else { nl };
        return Ok(format!("{before}{sep}{block}{tail}{after}"));
    }
    let sep = if text.is_empty() || text.ends_with(&format!("{nl}{nl}")) {
        String::new()
    } else if text.ends_with(nl) {
        nl.to_string()
    } else {
        format!("{nl}{nl}")
    };
    Ok(format!("{text}{sep}## {}{nl}{nl}{block}", kind.heading))
}

/// Byte offset just past a `## <word>` heading line (any level, any case).
fn heading_end(text: &str, word: &str) -> Option<usize> {
    let word = word.to_lowercase();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        let words = t.trim_start_matches('#');
        if t.starts_with('#') && words.trim().to_lowercase().starts_with(&word) {
            return Some(offset + line.len());
        }
        offset += line.len();
    }
    None
}

/// Byte offset of the next heading line in `text`.
fn next_heading(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with('#') {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// The results section of `track_id` in `text`, markers excluded.
pub fn read_section<'a>(text: &'a str, track_id: &str) -> Option<&'a str> {
    let id = marker_id(track_id);
    let found = sections(text).ok()?;
    let s = found
        .iter()
        .find(|s| s.id.as_deref() == Some(id.as_str()))?;
    Some(&text[s.body_start..s.body_end])
}

/// The section body: the table as the policy rendered it, then each plot as an image linked
/// relative to the doc.
pub fn section_body(table: &str, ctx: &ReportCtx, doc_path: &Path) -> String {
    let mut out = table.trim_end().to_string();
    for plot in &ctx.plots {
        let target = relative_link(doc_path, Path::new(&plot.path));
        let alt = plot
            .title
            .clone()
            .unwrap_or_else(|| format!("{} results", ctx.experiment));
        out.push_str(&format!(
            "\n\n![{}]({})",
            alt.replace(['[', ']'], ""),
            target
        ));
    }
    if let Some(record) = ctx.record() {
        out.push_str("\n\n");
        out.push_str(&record.to_comment());
    }
    ctx.secrets.scrub(&out)
}

/// `target` (repository-relative) as a link from the doc at `doc` (repository-relative).
pub fn relative_link(doc: &Path, target: &Path) -> String {
    let from: Vec<_> = doc
        .parent()
        .map(|p| p.components().collect())
        .unwrap_or_default();
    let to: Vec<_> = target.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/").replace(' ', "%20")
}

/// What [`write_doc`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct DocUpdate {
    /// Repository-relative.
    pub path: PathBuf,
    pub created: bool,
    /// False when the doc already said exactly this.
    pub changed: bool,
}

/// Writes the results section into the doc under `root` (creating it from the template if
/// needed), atomically. `table` is what the policy's `format_table` returned.
pub fn write_doc(root: &Path, doc: &Path, ctx: &ReportCtx, table: &str) -> Result<DocUpdate> {
    let full = root.join(doc);
    let (old, created) = match std::fs::read(&full) {
        Ok(bytes) => (
            String::from_utf8(bytes).map_err(|_| {
                anyhow!(
                    "{}: not UTF-8 text; the doc was left as it is",
                    doc.display()
                )
            })?,
            false,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (new_doc(ctx), true),
        Err(e) => return Err(anyhow!("{}: {e}", full.display())),
    };
    let body = section_body(table, ctx, doc);
    let mut new = replace_section(&old, &ctx.track_id, &body)
        .map_err(|e| anyhow!("{}: {e}", doc.display()))?;
    if let Some(d) = ctx.discussion.as_deref().filter(|d| !d.trim().is_empty()) {
        new = replace_discussion(&new, &ctx.track_id, &ctx.secrets.scrub(d))
            .map_err(|e| anyhow!("{}: {e}", doc.display()))?;
    }
    let changed = created || new != old;
    if changed {
        if let Some(dir) = full.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        crate::atomic_file::write(&full, new.as_bytes())
            .with_context(|| format!("writing {}", full.display()))?;
    }
    Ok(DocUpdate {
        path: doc.to_path_buf(),
        created,
        changed,
    })
}
