#!/usr/bin/env bash
# What a bare machine needs before the Rust parts build: the wasm targets.
# Idempotent and quick when everything is there. (The browser tests install
# their own extras in scripts/test-browser.sh; the differential test makes
# its own Python venv through tests/reference/setup.sh.)
set -euo pipefail
need=()
installed=$(rustup target list --installed)
for t in wasm32-unknown-unknown wasm32-wasip1 wasm32-wasip2; do
  grep -qx "$t" <<<"$installed" || need+=("$t")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: rustup target add ${need[*]}" >&2
  rustup target add "${need[@]}" >&2
fi
