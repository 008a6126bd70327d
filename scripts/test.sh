#!/usr/bin/env bash
# Every test of the project: formatting, lints, the Rust suites (rule-core's
# semantics table and differential test against Python eql, the wasm module
# end to end under wasmtime, Fluent Bit's calling convention, snapshots,
# sandboxing), then the JavaScript API and the playground in headless
# Chromium. The README's test command; .ci/run calls it.
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

step "cargo test --workspace"
cargo test --workspace

if [ -x scripts/test-browser.sh ]; then
  step "JavaScript API (node --test) and the playground in headless Chromium"
  scripts/test-browser.sh
fi
step "all tests passed"
