#!/usr/bin/env bash
# The no-panic link test: builds nopanic/ (release, panic = "abort", fat LTO)
# for each target. Its panic handler calls an undefined symbol, so the link
# fails if any panic path in simdloss survives optimization.
#   thumbv7em-none-eabihf   Cortex-M4F: the scalar code (wide is plain arrays)
#   thumbv6m-none-eabi      Cortex-M0 (no FPU: soft float): the scalar code
#   x86_64-unknown-none     soft-float x86-64: scalar + wide, CPUID detection
#   x86_64-unknown-linux-gnu  (no_std, own _start) AVX2 + AVX-512 through pulp,
#                           CPUID/XGETBV detection, wide on SSE2
#   aarch64-unknown-linux-gnu (no_std, own _start) NEON through pulp
# The linux targets link libc only for memcpy/memset (-lc) and skip its start
# files (-nostartfiles); nothing is run.
set -euo pipefail
cd "$(dirname "$0")"
gnu_flags="-C link-arg=-nostartfiles -C link-arg=-lc"
for target in thumbv7em-none-eabihf thumbv6m-none-eabi x86_64-unknown-none x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu; do
    echo "-- nopanic link test: $target"
    CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="$gnu_flags" \
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="$gnu_flags" \
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
        cargo build --quiet --release --target "$target"
done
echo "-- nopanic link test: no panic path on any target"
