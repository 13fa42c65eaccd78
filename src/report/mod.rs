//! Reports: the results table in the experiment doc, the pull request text, commit messages
//! and comments. Plain Rust; the policy's report hooks (`format_table`, `render_pr`,
//! `commit_message`, `find_doc`, run by `crate::lua`) decide how tables and texts look, and
//! everything here makes sure what they produce lands in the right place, carries its markers
//! and holds no token.
//!
//! - [`model`]: [`ReportCtx`], what every report is rendered from.
//! - [`doc`]: finding the experiment doc and replacing its marked results section in place.
//! - [`text`]: status and milestone comments, markers, plain fallbacks.
//! - [`record`]: the commit a job ran from, the baseline and the hidden record a later run
//!   compares with.
//! - [`format`]: numbers, durations, sizes and table cells for people.
//! - [`scrub`]: tokens out of everything rendered.

pub mod doc;
pub mod format;
pub mod model;
pub mod record;
pub mod scrub;
pub mod text;

pub use doc::{
    choose_doc, doc_candidates, replace_section, write_doc, DocChoice, DocError, DocSource,
    DocUpdate,
};
pub use model::{
    Attempt, AttemptDiagnosis, JobRow, Links, PlotRef, ReportCtx, SkippedFile, SourcesReport,
    TrackStatus,
};
pub use record::{compare, parse_records, Baseline, CodeVersion, Comparison, Record};
pub use scrub::{scrub, Secrets};
pub use text::{
    final_comment, relaunch_comment, status_comment, FindDocCtx, PrText, STATUS_MARKER,
};
