#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| simdloss_fuzz::dice::fuzz_one(data));
