//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through every target of
//! `trackit::fuzzing`, so an input the fuzzer once found stays a regression test in every
//! `cargo test`, with or without cargo-fuzz. The bounded fuzzing run itself is scripts/fuzz.sh.

use std::path::Path;

#[test]
fn every_fuzz_target_has_a_corpus_and_survives_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (name, target) in trackit::fuzzing::TARGETS {
        let dir = root.join("corpus").join(name);
        let inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(!inputs.is_empty(), "{name}: empty corpus");
        assert!(
            root.join("fuzz_targets")
                .join(format!("{name}.rs"))
                .is_file(),
            "{name}: no fuzz/fuzz_targets/{name}.rs"
        );
        for input in inputs {
            let data = std::fs::read(&input).unwrap();
            target(&data);
            // Cut in half and with the bytes reversed: cheap variants of real input.
            target(&data[..data.len() / 2]);
            let reversed: Vec<u8> = data.iter().rev().copied().collect();
            target(&reversed);
        }
    }
}
