#!/usr/bin/env bash
# Builds the JavaScript package of the rule engine (rule-js) and copies the
# browser build into the playground:
#
#   rule-js/pkg/web    ES module for browsers (`--target web`)
#   rule-js/pkg/node   CommonJS for Node (`--target nodejs`)
#   playground/pkg     a copy of pkg/web, so the playground is servable alone,
#                      and linux-pack.json: Elastic's Linux + Defend rules
#                      (scripts/build-linux-pack.py, from ../shared), the
#                      playground's bundled pack
#
# Installs what is missing: the wasm32-unknown-unknown target and
# wasm-bindgen-cli at exactly the version rule-js/Cargo.toml pins for the
# wasm-bindgen crate (the generated glue and the crate must match). No
# wasm-pack: its npm installer downloads from the internet.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' rule-js/Cargo.toml)
if [ -z "$version" ]; then
    echo "build-js: no exact wasm-bindgen version (=X.Y.Z) in rule-js/Cargo.toml" >&2
    exit 1
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    echo "build-js: adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi

have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$version" ]; then
    echo "build-js: installing wasm-bindgen-cli $version (found: ${have:-none}); this takes a while once"
    # --debug: half the build time of a release install (5.5 against 11
    # minutes on two busy cores), and the same output; it runs in under a
    # second on this module either way.
    cargo install wasm-bindgen-cli --version "$version" --debug
fi

# Its own target dir: the workspace's release profile strips symbols
# (strip = true), which also drops the `target_features` section
# wasm-bindgen reads; stripping only debug info here keeps it, without
# changing the profile the other wasm builds share (no rebuild ping-pong).
target_dir=target/rule-js
CARGO_PROFILE_RELEASE_STRIP=debuginfo \
    cargo build -p rule-js --target wasm32-unknown-unknown --release --target-dir "$target_dir"
wasm="$target_dir/wasm32-unknown-unknown/release/rule_js.wasm"

bindgen() { # target out-dir
    rm -rf "$2"
    wasm-bindgen "$wasm" --target "$1" --out-dir "$2" --out-name rule_js \
        --remove-name-section --remove-producers-section
}
bindgen web rule-js/pkg/web
bindgen nodejs rule-js/pkg/node
# Module kinds for Node and bundlers, whatever the parent package says.
echo '{ "type": "module" }' > rule-js/pkg/web/package.json
echo '{ "type": "commonjs" }' > rule-js/pkg/node/package.json

rm -rf playground/pkg
cp -r rule-js/pkg/web playground/pkg
# The bundled pack, when the rules are there (the page says so when not).
pack_list=../shared/detection-rules/linux-defend.txt
if [ -f "$pack_list" ]; then
    python3 scripts/build-linux-pack.py "$pack_list" playground/pkg/linux-pack.json
else
    echo "build-js: $pack_list not found: no bundled pack in playground/pkg" >&2
fi

size=$(wc -c < rule-js/pkg/web/rule_js_bg.wasm)
echo "build-js: wasm-bindgen $version; rule_js_bg.wasm is $size bytes; rule-js/pkg/{web,node}, playground/pkg"
