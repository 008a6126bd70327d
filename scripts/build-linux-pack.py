#!/usr/bin/env python3
"""The playground's bundled rule pack: Elastic's Linux + Elastic Defend rules.

    scripts/build-linux-pack.py [LIST] [OUT]

LIST (default ../shared/detection-rules/linux-defend.txt) names the rule
files, one a line, relative to the list's directory; OUT (default
playground/pkg/linux-pack.json) receives

    {"source": ..., "license": ..., "count": N,
     "rules": [{"path", "rule_id", "name", "text"}, ...]}

where each `text` is the rule file reduced to what the engine reads: its
`[rule]` table with only the keys `Rule::from_toml` uses (the same list as
rule-fluentbit/build.rs), written back as TOML (a `[rule]` table, one
`key = value` line each: strings as basic strings, arrays and tables
inline). Each text is read back with tomllib and must equal the reduced
table, so the bundle says exactly what the files say. The rules are
Elastic License 2.0 (their own `license` field).
"""
import json
import math
import sys
import tomllib
from pathlib import Path

# The `[rule]` keys rule-core reads, as rule-fluentbit/build.rs keeps them.
RULE_KEYS = [
    line.strip()
    for line in (Path(__file__).resolve().parent.parent / "rule-core" / "rule-keys.txt")
    .read_text()
    .splitlines()
    if line.strip() and not line.startswith("#")
]

BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def key(k: str) -> str:
    return k if k and set(k) <= BARE else string(k)


def string(s: str) -> str:
    # JSON's escapes (\" \\ \n \t \r \b \f \uXXXX) are all TOML basic-string escapes.
    return json.dumps(s, ensure_ascii=False)


def value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            raise ValueError(f"float {v} not supported")
        return repr(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, list):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + "}"
    raise ValueError(f"{type(v).__name__} not supported")


def reduce(text: str) -> tuple[dict, str]:
    rule = tomllib.loads(text).get("rule", {})
    kept = {k: rule[k] for k in RULE_KEYS if k in rule}
    out = "[rule]\n" + "".join(f"{k} = {value(v)}\n" for k, v in kept.items())
    if tomllib.loads(out) != {"rule": kept}:
        raise ValueError("the reduced TOML does not read back the same")
    return kept, out


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    listing = Path(sys.argv[1]) if len(sys.argv) > 1 else root.parent / "shared/detection-rules/linux-defend.txt"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else root / "playground/pkg/linux-pack.json"
    if not listing.is_file():
        print(f"build-linux-pack: {listing} not found; no pack bundled", file=sys.stderr)
        return 1
    base = listing.parent
    rules = []
    whole = 0
    for rel in listing.read_text().split():
        text = (base / rel).read_text(encoding="utf-8")
        whole += len(text.encode())
        try:
            kept, reduced = reduce(text)
        except (tomllib.TOMLDecodeError, ValueError) as e:
            # Kept whole: the engine then reports it as the file says.
            print(f"build-linux-pack: {rel}: {e}; kept whole", file=sys.stderr)
            kept, reduced = {}, text
        rules.append({
            "path": rel,
            "rule_id": kept.get("rule_id", ""),
            "name": kept.get("name", rel),
            "text": reduced,
        })
    bundle = {
        "source": "elastic/detection-rules: " + listing.name
        + " (OS: Linux rules over Elastic Defend data), [rule] keys the engine reads",
        "license": "Elastic License 2.0",
        "count": len(rules),
        "rules": rules,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(bundle, ensure_ascii=False, separators=(",", ":")) + "\n"
    out.write_text(data, encoding="utf-8")
    print(f"build-linux-pack: {len(rules)} rules, {len(data.encode())} bytes "
          f"(the files: {whole} bytes) in {out.relative_to(root) if out.is_relative_to(root) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
