//! Command line (placeholder until the CLI lands).
use std::process::ExitCode;

pub fn run() -> ExitCode {
    ExitCode::SUCCESS
}
