#!/usr/bin/env bash
# Builds the C API's static library and the example, then runs it.
#   bash capi/examples/run.sh            # this machine (x86-64 or aarch64)
#   bash capi/examples/run.sh aarch64    # cross-built, run under qemu-aarch64
# Needs gcc (and aarch64-linux-gnu-gcc + qemu-user for the second form).
set -euo pipefail
cd "$(dirname "$0")/../.."

cflags=(-std=c11 -O2 -Wall -Wextra -Werror -pedantic -ffp-contract=off -Icapi/include)
out=target/capi-examples
mkdir -p "$out"

case "${1:-host}" in
host)
    cargo build -p simdloss-capi --release
    gcc "${cflags[@]}" capi/examples/logistic_regression.c \
        target/release/libsimdloss_capi.a -lpthread -ldl -lm -o "$out/logistic_regression"
    "$out/logistic_regression" capi/examples/logistic_regression.expected
    ;;
aarch64)
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
        cargo build -p simdloss-capi --release --target aarch64-unknown-linux-gnu
    aarch64-linux-gnu-gcc "${cflags[@]}" capi/examples/logistic_regression.c \
        target/aarch64-unknown-linux-gnu/release/libsimdloss_capi.a -lpthread -ldl -lm \
        -o "$out/logistic_regression-aarch64"
    qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/logistic_regression-aarch64" \
        capi/examples/logistic_regression.expected
    ;;
*)
    echo "usage: $0 [host|aarch64]" >&2
    exit 2
    ;;
esac
