#!/usr/bin/env bash
# The JavaScript face of the engine, tested for real: builds rule-js
# (scripts/build-js.sh), then runs under Node's test runner
#
#   rule-js/tests/      the JS API (node build)
#   playground/tests/   the playground end to end in headless Chromium
#
# Installs what is missing first: the wasm32 target and wasm-bindgen-cli (via
# build-js.sh), Node and npm and Debian's chromium (apt-get), playwright-core
# (npm ci; it never downloads a browser). Exits non-zero on any failure.
#
#   scripts/test-browser.sh [--screenshot]
#
# --screenshot (or PLAYGROUND_SCREENSHOT=path) saves the playground with its
# alerts and an explanation to docs/playground.png (or path).
set -euo pipefail
cd "$(dirname "$0")/.."

for arg in "$@"; do
    case "$arg" in
        --screenshot) export PLAYGROUND_SCREENSHOT="${PLAYGROUND_SCREENSHOT:-docs/playground.png}" ;;
        *) echo "usage: $0 [--screenshot]" >&2; exit 2 ;;
    esac
done

say() { echo "test-browser: $*"; }
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else say "need root for: $*"; return 1
    fi
}
apt_updated=
apt_install() {
    if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"
}

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    say "installing nodejs and npm"
    apt_install nodejs npm
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
    say "Node $(node --version) is too old: playwright-core and these tests need Node >= 20"
    exit 1
fi
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
    say "installing chromium (Debian's package)"
    apt_install chromium
fi
export CHROMIUM="$chromium"

scripts/build-js.sh

# playwright-core only: the browser is Debian's, never a download.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
lock=playground/tests/package-lock.json
stamp=playground/tests/node_modules/.package-lock.json
if [ ! -d playground/tests/node_modules/playwright-core ] || [ "$lock" -nt "$stamp" ]; then
    say "npm ci in playground/tests"
    (cd playground/tests && npm ci --no-audit --no-fund --loglevel=error)
fi

say "node --test rule-js/tests/ playground/tests/"
node --test --test-reporter=spec rule-js/tests/ playground/tests/
