//! The CLI reference, completions and man page come from the clap definitions.

use crate::helper::{stdout, trackit};

#[test]
fn cli_reference_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli.md");
    let generated = trackit::cli::markdown_reference();
    if std::env::var_os("TRACKIT_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/cli.md is stale: run TRACKIT_UPDATE_DOCS=1 cargo test --test tests cli_docs"
    );
    for sub in [
        "sbatch",
        "run",
        "attach",
        "status",
        "list",
        "logs",
        "resume",
        "cancel",
        "diagnose",
        "policy check",
        "policy test",
        "init",
    ] {
        assert!(
            generated.contains(&format!("## trackit {sub}\n")),
            "no section for {sub}"
        );
    }
}

#[test]
fn completions_and_man_page() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = trackit(&["completions", shell], dir.path());
        assert_eq!(out.status.code(), Some(0));
        let text = stdout(&out);
        assert!(
            text.contains("sbatch") && text.contains("resume"),
            "{shell}: {text}"
        );
    }
    let out = trackit(&["man"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let man = stdout(&out);
    assert!(
        man.starts_with(".ie") || man.contains(".TH trackit"),
        "{}",
        &man[..200.min(man.len())]
    );
    assert_eq!(
        trackit(&["completions", "tcsh"], dir.path()).status.code(),
        Some(2)
    );
}
