#!/usr/bin/env bash
# CI for the C API (capi/), run from anywhere: `bash capi/check.sh`.
#  1. clippy and the Rust tests of simdloss-capi (unit tests, and
#     tests/c_example.rs: the Rust API gives the example's expected losses);
#  2. the committed header is what cbindgen generates from capi/src;
#  3. the header compiles as C11 (-pedantic) and C++17 with -Werror, and
#     the README's C quickstart compiles and runs;
#  4. the example trains and matches the Rust API bit for bit, on x86-64
#     and under qemu-aarch64;
#  5. tests/errors.c reaches every status code (x86-64 as C11 and C++17,
#     qemu-aarch64);
#  6. the static library builds for thumbv7em-none-eabihf (Cortex-M4F) and
#     holds the flash that linking one loss / every function takes to a
#     budget;
#  7. no panic path is reachable from any exported function (thumbv7em).
# Needs cbindgen (apt), gcc, g++, aarch64-linux-gnu-gcc and qemu-user.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/capi-check
mkdir -p "$out"

echo "-- clippy, tests"
cargo clippy -p simdloss-capi --all-targets -- -D warnings
cargo clippy -p simdloss-capi --release --no-default-features -- -D warnings
cargo clippy -p simdloss-capi --features rayon -- -D warnings
cargo test -p simdloss-capi

echo "-- the header is cbindgen's (cbindgen $(cbindgen --version | cut -d' ' -f2))"
cbindgen --quiet --config capi/cbindgen.toml --crate simdloss-capi --output "$out/simdloss.h"
if ! diff -u capi/include/simdloss.h "$out/simdloss.h"; then
    echo "capi/include/simdloss.h differs from what cbindgen generates: regenerate it with"
    echo "  cbindgen --config capi/cbindgen.toml --crate simdloss-capi --output capi/include/simdloss.h"
    exit 1
fi

echo "-- the header as C11 and C++17"
printf '#include "simdloss.h"\nint main(void) { return simdloss_isa_best() == SIMDLOSS_ISA_AUTO; }\n' >"$out/header.c"
gcc -std=c11 -Wall -Wextra -Werror -pedantic -Icapi/include -c "$out/header.c" -o "$out/header-c.o"
g++ -std=c++17 -Wall -Wextra -Werror -pedantic -x c++ -Icapi/include -c "$out/header.c" -o "$out/header-cpp.o"

echo "-- the README's C quickstart, wrapped in a main(), compiles and runs"
{
    printf '#include <stdio.h>\n#include "simdloss.h"\nint main(void) {\n'
    awk '/^## C API/ {api = 1} api && /^```c/ {code = 1; next} code && /^```/ {exit} code' README.md |
        grep -v '^#include'
    printf 'printf("README quickstart: loss %%f\\n", (double)loss);\nreturn status != SIMDLOSS_OK;\n}\n'
} >"$out/readme.c"
cargo build --quiet -p simdloss-capi --release
gcc -std=c11 -Wall -Wextra -Werror -pedantic -Icapi/include "$out/readme.c" \
    target/release/libsimdloss_capi.a -lpthread -ldl -lm -o "$out/readme"
"$out/readme"

echo "-- the example, x86-64 and qemu-aarch64"
bash capi/examples/run.sh host
bash capi/examples/run.sh aarch64

echo "-- every status code from C (tests/errors.c), x86-64 and qemu-aarch64"
cflags=(-std=c11 -O1 -Wall -Wextra -Werror -pedantic -Icapi/include)
gcc "${cflags[@]}" capi/tests/errors.c target/release/libsimdloss_capi.a -lpthread -ldl -lm -o "$out/errors"
# The same program as C++17: the header's structs and calls from C++.
g++ -std=c++17 -O1 -Wall -Wextra -Werror -pedantic -Icapi/include -x c++ capi/tests/errors.c -x none \
    target/release/libsimdloss_capi.a -lpthread -ldl -lm -o "$out/errors-cpp"
"$out/errors-cpp"
"$out/errors"
aarch64-linux-gnu-gcc "${cflags[@]}" capi/tests/errors.c \
    target/aarch64-unknown-linux-gnu/release/libsimdloss_capi.a -lpthread -ldl -lm -o "$out/errors-aarch64"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/errors-aarch64"

echo "-- the static library for thumbv7em-none-eabihf (no std; opt-level s, fat LTO)"
# Its own target directory: the profile overrides change every artifact.
CARGO_PROFILE_RELEASE_OPT_LEVEL=s CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
    cargo build --quiet -p simdloss-capi --release --no-default-features \
    --target thumbv7em-none-eabihf --target-dir target/capi-firmware
lib=target/capi-firmware/thumbv7em-none-eabihf/release/libsimdloss_capi.a
# The flash a firmware pays: link the archive with rust-lld, keeping what
# one entry point (or every exported function) reaches (--gc-sections).
lld=$(find "$(rustc --print sysroot)/lib/rustlib" -name rust-lld -type f | head -1)
every=$(grep -o 'simdloss_[a-z0-9_]*(' capi/include/simdloss.h | tr -d '(' | sort -u | sed 's/^/--undefined=/')
# Budgets: the sizes in the README (2026-12-07, rustc 1.95) plus about 5%.
printf '%-48s %s\n' "linked from $(basename "$lib")" "flash (text + data), budget"
over=0
flash_of() { # entry budget-in-bytes [extra linker args]
    local entry=$1 budget=$2
    shift 2
    "$lld" -flavor gnu --gc-sections -e "$entry" "$@" -o "$out/firmware.elf" "$lib"
    read -r text data _ < <(size "$out/firmware.elf" | tail -1)
    local status=ok
    if [ "$((text + data))" -gt "$budget" ]; then status="OVER BUDGET"; over=1; fi
    printf '%-48s %6d B  %6d B  %s\n' "${label:-$entry}" "$((text + data))" "$budget" "$status"
}
flash_of simdloss_mse_value_and_grad 12700
flash_of simdloss_bce_with_logits_value_and_grad 16300
flash_of simdloss_softmax_cross_entropy_value_and_grad 32800
flash_of simdloss_dice_cross_entropy_value_and_grad 46200
# shellcheck disable=SC2086
label="every function in simdloss.h" flash_of simdloss_mse_value 124000 $every
if [ "$over" = 1 ]; then
    echo "a C API image grew past its budget (README, C API: Firmware)"
    exit 1
fi
echo "-- no panic path behind any exported function (thumbv7em, opt-level 3, fat LTO)"
# The C layer's own no-panic link test: every function in the header kept,
# and core's panic machinery must not be reachable from any of them. (At
# opt-level "s" the archive keeps one: core's Zip::new, left out of line,
# divides by a chunk length it cannot see is a nonzero constant.)
CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
    cargo build --quiet -p simdloss-capi --release --no-default-features \
    --target thumbv7em-none-eabihf --target-dir target/capi-nopanic
# shellcheck disable=SC2086
"$lld" -flavor gnu --gc-sections -e simdloss_mse_value $every -o "$out/nopanic.elf" \
    target/capi-nopanic/thumbv7em-none-eabihf/release/libsimdloss_capi.a
if nm "$out/nopanic.elf" | grep -i panicking; then
    echo "a panic path is reachable from the C API (symbols above)"
    exit 1
fi
echo "capi/check.sh: OK"
