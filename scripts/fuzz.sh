#!/usr/bin/env bash
# Fuzz rule-core for a while (not part of CI).
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   default 300, every target
#   scripts/fuzz.sh 3600 decode_json     the JSON reader against serde_json, an hour
# Seeds come from the semantics table and fuzz/regressions/; crashes land in
# fuzz/artifacts/<target>/. Copy each one into fuzz/regressions/<target>/ once
# fixed: rule-core's `fuzz_regressions` test replays that folder on every run.
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable toolchain,
# the only one this machine has, accept them.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-300}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(eql_front_end push_events regexp decode_json)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
export RUSTC_BOOTSTRAP=1
python3 - <<'PY'
import json, os, tomllib
os.makedirs("fuzz/corpus/push_events", exist_ok=True)
os.makedirs("fuzz/corpus/eql_front_end", exist_ok=True)
os.makedirs("fuzz/corpus/regexp", exist_ok=True)
os.makedirs("fuzz/corpus/decode_json", exist_ok=True)
cases = json.load(open("tests/fixtures/semantics.json"))["cases"]
for i, c in enumerate(cases):
    open(f"fuzz/corpus/push_events/case{i}", "w").write("\n".join(json.dumps(e) for e in c["events"]))
    # decode_json: one event per input, compact and pretty-printed.
    for j, e in enumerate(c["events"][:4]):
        open(f"fuzz/corpus/decode_json/case{i}-{j}", "w").write(json.dumps(e, separators=(",", ":")))
        if j == 0:
            open(f"fuzz/corpus/decode_json/case{i}-pretty", "w").write(json.dumps(e, indent=1))
    if c["rule"]:
        open(f"fuzz/corpus/eql_front_end/case{i}", "w").write(c["rule"])
# regexp: flag byte, pattern, NUL, haystack; the specs' regex queries as seeds.
import re, glob
for path in glob.glob("../shared/conformance/es-eql/specs/*.toml"):
    for i, q in enumerate(tomllib.load(open(path, "rb")).get("queries", [])):
        for m in re.finditer(r'regex(~?)\s*\(?\s*(?:"""(.*?)"""|"((?:[^"\\]|\\.)*)")', q.get("query", "")):
            pattern = m.group(2) if m.group(2) is not None else m.group(3)
            seed = bytes([1 if m.group(1) else 0]) + pattern.encode() + b"\0cmd /c net1 localgroup"
            open(f"fuzz/corpus/regexp/{os.path.basename(path)}-{i}-{m.start()}", "wb").write(seed)
rule = tomllib.load(open("rule-core/rule.toml", "rb"))["rule"]["query"]
open("fuzz/corpus/eql_front_end/embedded", "w").write(rule)
PY
cd fuzz
for target in "${targets[@]}"; do
  echo "== $target for ${secs}s"
  cargo fuzz run -O "$target" "corpus/$target" "regressions/$target" -- \
    -max_total_time="$secs" -max_len=16384
done
