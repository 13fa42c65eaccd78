#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| trackit::fuzzing::workflow_yaml(data));
