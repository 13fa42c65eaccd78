//! Unpacks a zip archive (a workflow run's artifact) into a folder, safely: entries that would
//! land outside it (`../`, absolute paths) are refused, and the total size is capped.

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::Path;

/// Most bytes unpacked from one archive.
pub const MAX_UNPACKED: u64 = 1 << 30;

/// Extracts `zip` into `dest` (created). Returns the files written, relative to `dest`.
pub fn extract(zip: &[u8], dest: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip)).context("not a zip archive")?;
    std::fs::create_dir_all(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    let mut total = 0u64;
    let mut written = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).context("unreadable zip entry")?;
        let Some(rel) = entry.enclosed_name() else {
            bail!("zip entry {:?} points outside the folder", entry.name());
        };
        let out = dest.join(&rel);
        if entry.is_dir() {
            std::fs::create_dir_all(&out)?;
            continue;
        }
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut data = Vec::new();
        let budget = MAX_UNPACKED.saturating_sub(total);
        (&mut entry).take(budget + 1).read_to_end(&mut data)?;
        total += data.len() as u64;
        if total > MAX_UNPACKED {
            bail!(
                "the archive unpacks to more than {} MiB",
                MAX_UNPACKED >> 20
            );
        }
        std::fs::write(&out, &data).with_context(|| format!("cannot write {}", out.display()))?;
        written.push(rel);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn make(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            for (name, data) in entries {
                w.start_file(*name, opts).unwrap();
                w.write_all(data).unwrap();
            }
            w.finish().unwrap();
        }
        buf.into_inner()
    }

    #[test]
    fn extracts_and_refuses_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let z = make(&[
            ("metrics.json", b"{\"loss\": 0.5}"),
            ("sub/a.csv", b"x\n1\n"),
        ]);
        let files = extract(&z, dir.path()).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("sub/a.csv")).unwrap(),
            "x\n1\n"
        );
        let evil = make(&[("../evil.txt", b"x")]);
        assert!(extract(&evil, &dir.path().join("in")).is_err());
        assert!(!dir.path().join("evil.txt").exists());
        assert!(extract(b"not a zip", dir.path()).is_err());
    }
}
