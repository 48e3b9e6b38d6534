#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| simdloss_fuzz::capi::fuzz_one(data));
