#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| trackit::fuzzing::diagnose_patterns(data));
