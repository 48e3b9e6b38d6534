#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| simdloss_fuzz::binary::fuzz_one(data));
