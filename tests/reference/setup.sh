#!/usr/bin/env bash
# Creates (once) a virtualenv with the Python reference engine, eql 1.0.1,
# and prints the venv's python on the last line of stdout.
#
#   venv:  ${CARGO_TARGET_DIR:-<workspace>/target}/eql-venv
#   env:   EQL_REF_PYTHON  interpreter used to create the venv (default python3)
#
# Idempotent: when the venv exists, was built from the current
# requirements.txt and imports eql, it only prints the path. All other
# output goes to stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
workspace="$(cd "$here/../.." && pwd)"
req="$here/requirements.txt"

target="${CARGO_TARGET_DIR:-$workspace/target}"
case "$target" in
  /*) ;;
  *) target="$PWD/$target" ;;   # relative, as cargo reads it: from the current directory
esac
venv="$target/eql-venv"
py="$venv/bin/python"
stamp="$venv/.requirements.sha256"

die() { echo "eql reference setup: $*" >&2; exit 1; }

want="$(sha256sum "$req" | cut -d' ' -f1)"

ready() {
  [ -x "$py" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
    "$py" -c 'import eql, lark, sys; assert eql.__version__ == "1.0.1", eql.__version__' >/dev/null 2>&1
}

if ready; then
  echo "$py"
  exit 0
fi

mkdir -p "$target"
# Several test processes may call this at once: one installs, the others wait.
exec 9>"$target/eql-venv.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi
if ready; then
  echo "$py"
  exit 0
fi

base="${EQL_REF_PYTHON:-python3}"
command -v "$base" >/dev/null 2>&1 || die "no '$base' on PATH (set EQL_REF_PYTHON to a Python 3 interpreter)"

echo "eql reference setup: creating $venv with $("$base" --version 2>&1)" >&2
rm -rf "$venv"
"$base" -m venv "$venv" >&2 ||
  die "'$base -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
"$py" -m pip install --disable-pip-version-check --no-input -q -r "$req" >&2 ||
  die "pip install -r $req failed (PyPI must be reachable)"
"$py" -c 'import eql; assert eql.__version__ == "1.0.1", eql.__version__' >&2 ||
  die "eql 1.0.1 does not import from $venv"
echo "$want" >"$stamp"
echo "eql reference setup: ready" >&2
echo "$py"
