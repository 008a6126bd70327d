#!/usr/bin/env bash
# Every test of the project: formatting, lints, the Rust suites (rule-core's
# semantics table and differential test against Python eql, the wasm module
# end to end under wasmtime, Fluent Bit's calling convention and real Fluent
# Bit, snapshots, sandboxing), then the JavaScript API and the playground in
# headless Chromium. The README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*" >&2; }

step setup
scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (host and wasm targets)"
cargo clippy --workspace --all-targets --quiet -- -D warnings
wasm_crates=()
for c in rule-wasm rule-fluentbit rule-js; do
  [ -d "$c" ] && wasm_crates+=(-p "$c")
done
cargo clippy "${wasm_crates[@]}" --target wasm32-unknown-unknown --quiet -- -D warnings
if [ -d rule-component ]; then
  cargo clippy -p rule-component --target wasm32-wasip2 --quiet -- -D warnings
fi

step "rule-core builds no_std for wasm32-unknown-unknown"
cargo build -p rule-core --target wasm32-unknown-unknown --quiet

# The real-Fluent-Bit tests (tests/tests/fluent_bit_real.rs) need Fluent Bit
# 5.1.1 with its wasm filter. Built here, once per machine (build.sh keeps
# an existing build; a few minutes from a bare machine, apt-getting its
# Debian packages), so that the minutes show as their own step rather than
# inside a test; the test calls build.sh too, which then finds the build.
step "Fluent Bit 5.1.1 for the real-Fluent-Bit tests"
../shared/fluent-bit/build.sh "${CARGO_TARGET_DIR:-target}/fluent-bit"

step "cargo test --workspace"
cargo test --workspace

if [ -x scripts/test-browser.sh ]; then
  step "JavaScript API (node --test) and the playground in headless Chromium"
  scripts/test-browser.sh
fi
step "all tests passed"
