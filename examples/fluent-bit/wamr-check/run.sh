#!/usr/bin/env bash
# Runs the Fluent Bit module in WAMR's fast interpreter (SIMD off) the way
# Fluent Bit calls it, to size `wasm_stack_size` (README.md). Needs cmake, a
# C compiler and binaryen's wasm-opt (Debian: cmake gcc binaryen).
#
#   examples/fluent-bit/wamr-check/run.sh [RECORDS.ndjson]
#
# The WAMR is the one the `wamr-sys` 0.1.1 crate vendors (about 2020, not
# Fluent Bit's 2.4.1). Its loader refuses encodings Rust 1.95 emits, so
# the module is re-encoded by wasm-opt without any pass first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
work=${TMPDIR:-/tmp}/rule-fluentbit-wamr-check
mkdir -p "$work"

cargo info wamr-sys@0.1.1 >/dev/null 2>&1 || true
wamr=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/wamr-sys-0.1.1/wasm-micro-runtime 2>/dev/null | head -1)
[ -n "$wamr" ] || { echo "wamr-sys 0.1.1 source not found (cargo info wamr-sys@0.1.1)" >&2; exit 1; }

cmake -S "$here" -B "$work/build" -DWAMR_ROOT_DIR="$wamr" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" -j 2 >/dev/null
(cd "$root" && cargo build -q -p rule-fluentbit --target wasm32-unknown-unknown --release)
wasm-opt --all-features "$root/target/wasm32-unknown-unknown/release/rule_fluentbit.wasm" -o "$work/module.wasm" 2>/dev/null

records=${1:-$root/examples/fluent-bit/events.ndjson}
total=$(grep -c . "$records")
for function in pass_through alerts_only; do
    lo=1024 hi=1048576
    "$work/build/flbsim" "$work/module.wasm" "$function" "$hi" "$records" | grep -q "^$total records, $total replies" \
        || { echo "$function: fails even with a 1 MiB stack" >&2; exit 1; }
    while [ $((hi - lo)) -gt 256 ]; do
        mid=$(((lo + hi) / 2))
        if "$work/build/flbsim" "$work/module.wasm" "$function" "$mid" "$records" | grep -q "^$total records, $total replies"; then
            hi=$mid
        else
            lo=$mid
        fi
    done
    echo "$function: $total records need a wasm_stack_size of about $hi bytes"
done
