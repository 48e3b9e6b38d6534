#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| simdloss_fuzz::softmax::fuzz_one(data));
