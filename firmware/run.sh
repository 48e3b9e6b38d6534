#!/usr/bin/env bash
# Builds the golden-check firmware (src/main.rs: every case of
# tests/golden/cases.rs on every ISA of the target, then each loss's stack
# high-water mark against its budget) for Cortex-M4F and Cortex-M0 and runs
# it under qemu-system-arm with semihosting. Prints one line per target:
#   TARGET (MACHINE): N golden checks passed, every loss's stack within its budget
# and exits non-zero if a hash differs, a stack budget is exceeded, the
# firmware panics or qemu does not finish in time.
#
#   bash firmware/run.sh            # both targets
#   bash firmware/run.sh -v         # also every line the firmware prints
#
# - thumbv7em-none-eabihf on mps2-an386 (Cortex-M4F, hardware float);
# - thumbv6m-none-eabi (Cortex-M0, soft float) on mps2-an385, a Cortex-M3:
#   qemu's one Cortex-M0 board (microbit) has 16 KiB of RAM, too little for
#   the golden inputs, and ARMv6-M code runs unchanged on ARMv7-M.
set -euo pipefail
cd "$(dirname "$0")"
verbose=0
[ "${1:-}" = "-v" ] && verbose=1

rustup target add thumbv7em-none-eabihf thumbv6m-none-eabi >/dev/null 2>&1
if ! command -v qemu-system-arm >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq qemu-system-arm >/dev/null
fi

status=0
for pair in thumbv7em-none-eabihf:mps2-an386 thumbv6m-none-eabi:mps2-an385; do
    target=${pair%%:*} machine=${pair##*:}
    cargo build --release --quiet --target "$target"
    log=$(mktemp)
    rc=0
    timeout 600 qemu-system-arm -M "$machine" -nographic -monitor none \
        -semihosting-config enable=on,target=native \
        -kernel "target/$target/release/simdloss-firmware" >"$log" 2>&1 || rc=$?
    if [ "$verbose" = 1 ] || [ "$rc" != 0 ]; then
        cat "$log"
    fi
    summary=$(grep -E "^$target: " "$log" | tail -1 || true)
    if [ "$rc" != 0 ] || ! grep -q "golden checks passed, every loss" <<<"$summary"; then
        echo "$target ($machine): FAILED (qemu exit $rc)"
        status=1
    else
        echo "${summary/$target:/$target ($machine):}"
    fi
    rm -f "$log"
done
exit $status
