#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| simdloss_fuzz::capi_class::fuzz_one(data));
