#!/usr/bin/env python3
"""Writes rule-core/src/ecs.rs: the ECS field table, from ECS's own definitions.

Usage:
    scripts/gen-ecs.py ECS_FLAT_YML ECS_VERSION [-o rule-core/src/ecs.rs]

ECS_FLAT_YML is `generated/ecs/ecs_flat.yml` of the elastic/ecs repository
at the release tag `vECS_VERSION`, for example:

    git -C ecs show v9.4.0:generated/ecs/ecs_flat.yml > /tmp/ecs_flat.yml
    scripts/gen-ecs.py /tmp/ecs_flat.yml 9.4.0

Python 3.11, standard library only. The flat file is read line by line (it
is YAML as ECS's generator writes it: one unindented key per field, its
`type:` and `multi_fields:` indented by two spaces), not as general YAML.

The table is front coded to keep the wasm module small: paths sorted, each
stored as the length it shares with the previous path and the rest, in
blocks of BLOCK paths whose first path is whole (binary search over the
blocks' first paths, then a scan within one block).
"""

import argparse
import hashlib
import re
import sys

BLOCK = 16

# ECS type to `crate::mapping::EsType`, as the engine reads a field.
TYPES = {
    "keyword": "Keyword",
    "constant_keyword": "Keyword",
    "wildcard": "Keyword",
    "version": "Keyword",
    "long": "Long",
    "integer": "Long",
    "short": "Long",
    "byte": "Long",
    "unsigned_long": "Long",
    "float": "Double",
    "double": "Double",
    "scaled_float": "Double",
    "half_float": "Double",
    "boolean": "Boolean",
    "ip": "Ip",
    "date": "Date",
    "date_nanos": "Date",
    # text: Keyword when a keyword multi-field exists (see `es_type`).
    "text": "Text",
    "match_only_text": "Text",
    # Not a value EQL reads.
    "object": "Other",
    "nested": "Other",
    "flattened": "Other",
    "geo_point": "Other",
}

SHORT = {
    "Keyword": "K",
    "Text": "T",
    "Long": "L",
    "Double": "D",
    "Boolean": "B",
    "Ip": "I",
    "Date": "A",
    "Other": "O",
}

PATH = re.compile(r"^[A-Za-z0-9_@.]+$")


def es_type(ecs_type, multi_types):
    """The EsType name of an ECS type (with its multi-fields' types)."""
    if ecs_type not in TYPES:
        print(f"warning: unknown ECS type {ecs_type!r}, read as Other", file=sys.stderr)
        return "Other"
    ty = TYPES[ecs_type]
    if ty == "Text" and any(TYPES.get(t) == "Keyword" for t in multi_types):
        return "Keyword"
    return ty


def read_flat(text):
    """Field path to (ECS type, [(multi-field path, ECS type)])."""
    fields = {}
    current = None  # the field being read
    key = None  # its two-space key being read
    multi = None  # the multi-field being read
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if not line[0].isspace():
            if not line.endswith(":"):
                sys.exit(f"line {number}: expected a field name, got {line!r}")
            name = line[:-1].strip("'\"")
            if name in fields:
                sys.exit(f"line {number}: field {name!r} twice")
            current = fields[name] = {"type": None, "multi": []}
            key, multi = None, None
            continue
        if current is None:
            sys.exit(f"line {number}: indented line before any field")
        m = re.match(r"^  ([A-Za-z_]+):(.*)$", line)
        if m:
            key = m.group(1)
            if key == "type":
                current["type"] = m.group(2).strip()
            continue
        if key != "multi_fields":
            continue
        m = re.match(r"^  (- |  )([A-Za-z_]+):(.*)$", line)
        if not m:
            continue
        if m.group(1) == "- ":
            multi = {"flat_name": None, "type": None}
            current["multi"].append(multi)
        if multi is not None and m.group(2) in multi:
            multi[m.group(2)] = m.group(3).strip()
    table = {}
    for name, spec in fields.items():
        if spec["type"] is None:
            sys.exit(f"field {name!r} has no type")
        multi_types = [m["type"] for m in spec["multi"]]
        table[name] = es_type(spec["type"], multi_types)
        for m in spec["multi"]:
            if m["flat_name"] is None or m["type"] is None:
                sys.exit(f"field {name!r} has a multi-field without flat_name or type")
            table.setdefault(m["flat_name"], es_type(m["type"], []))
    for name in table:
        if not PATH.match(name) or len(name) > 255:
            sys.exit(f"unexpected field path {name!r}")
    return table


def shared_prefix(a, b):
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def render(table, version, digest):
    paths = sorted(table, key=lambda p: p.encode())
    entries = []  # (shared, suffix, type)
    blocks = []  # (offset of the block's first suffix, suffixes of the block)
    offset = 0
    previous = ""
    for i, path in enumerate(paths):
        shared = 0 if i % BLOCK == 0 else shared_prefix(previous, path)
        suffix = path[shared:]
        if i % BLOCK == 0:
            blocks.append((offset, []))
        blocks[-1][1].append(suffix)
        entries.append((shared, len(suffix), SHORT[table[path]]))
        offset += len(suffix)
        previous = path
    if offset > 0xFFFF:
        sys.exit("suffixes exceed u16 offsets")
    max_len = max(len(p) for p in paths)

    out = []
    w = out.append
    w("//! ECS field types: every field of the Elastic Common Schema and its")
    w("//! type as the engine reads it, for queries compiled without a mapping.")
    w("//!")
    w("//! GENERATED by `scripts/gen-ecs.py`; do not edit by hand. Regenerate with")
    w(f"//! `scripts/gen-ecs.py ecs_flat.yml {version}` from `generated/ecs/ecs_flat.yml`")
    w(f"//! of <https://github.com/elastic/ecs> at tag `v{version}`")
    w(f"//! (sha256 `{digest}`).")
    w("//!")
    w("//! ECS types map to [`EsType`] as an Elasticsearch mapping would:")
    w("//! `keyword`, `constant_keyword`, `wildcard`, `version` are keywords;")
    w("//! integer types long, floating ones double; `date`, `date_nanos` dates;")
    w("//! `text` and `match_only_text` text unless a multi-field is a keyword;")
    w("//! `object`, `nested`, `flattened`, `geo_point` other. Multi-fields")
    w("//! (`process.command_line.text`) are entries of their own.")
    w("//!")
    w(f"//! Front coded: paths sorted, in blocks of {BLOCK}; each entry is the length")
    w("//! it shares with the previous path, the length of the rest, and its type;")
    w("//! the rests follow one another in [`SUFFIXES`], and a block's first path")
    w("//! is whole, so a lookup binary-searches the blocks' first paths and scans")
    w("//! one block.")
    w("")
    w("use crate::mapping::EsType;")
    w("")
    w("/// The ECS release the table comes from.")
    w(f'pub const ECS_VERSION: &str = "{version}";')
    w("")
    w("/// Number of field paths in the table.")
    w(f"pub const ECS_FIELDS: usize = {len(paths)};")
    w("")
    w(f"const BLOCK: usize = {BLOCK};")
    w("")
    w("/// The longest path.")
    w(f"const MAX_PATH: usize = {max_len};")
    w("")
    for short, name in sorted((s, n) for n, s in SHORT.items()):
        w(f"const {short}: EsType = EsType::{name};")
    w("")
    w("/// Per path: (bytes shared with the previous path, bytes in `SUFFIXES`, type).")
    w("#[rustfmt::skip]")
    w("static ENTRIES: [(u8, u8, EsType); ECS_FIELDS] = [")
    for b in range(0, len(entries), BLOCK):
        chunk = entries[b : b + BLOCK]
        w("    " + " ".join(f"({s}, {n}, {t})," for s, n, t in chunk))
    w("];")
    w("")
    w("/// Per block: where its first path starts in `SUFFIXES`.")
    w("#[rustfmt::skip]")
    w(f"static BLOCKS: [u16; {len(blocks)}] = [")
    for b in range(0, len(blocks), 12):
        w("    " + " ".join(f"{o}," for o, _ in blocks[b : b + 12]))
    w("];")
    w("")
    w("/// The paths' unshared parts, one line per block.")
    w("#[rustfmt::skip]")
    w("static SUFFIXES: &str = concat!(")
    for _, suffixes in blocks:
        w('    "' + "".join(suffixes) + '",')
    w(");")
    w("")
    w(RUST_CODE.strip("\n"))
    return "\n".join(out) + "\n"


RUST_CODE = r'''
/// The ECS type of the field at `path`, if ECS defines it.
pub fn ecs_type(path: &str) -> Option<EsType> {
    let want = path.as_bytes();
    // Blocks whose first path is at most `want`: the last one may hold it.
    let (mut lo, mut hi) = (0, BLOCKS.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if first_path(mid) <= want {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let block = lo.checked_sub(1)?;
    let mut found = None;
    scan(block, |p, ty| match p.cmp(want) {
        core::cmp::Ordering::Less => true,
        core::cmp::Ordering::Equal => {
            found = Some(ty);
            false
        }
        core::cmp::Ordering::Greater => false,
    });
    found
}

/// Calls `f` with every path and its type, in order.
pub fn for_each(mut f: impl FnMut(&str, EsType)) {
    for block in 0..BLOCKS.len() {
        scan(block, |p, ty| {
            f(core::str::from_utf8(p).unwrap_or_default(), ty);
            true
        });
    }
}

fn first_path(block: usize) -> &'static [u8] {
    let start = usize::from(BLOCKS[block]);
    let len = usize::from(ENTRIES[block * BLOCK].1);
    &SUFFIXES.as_bytes()[start..start + len]
}

/// Decodes one block's paths in order while `f` returns true.
fn scan(block: usize, mut f: impl FnMut(&[u8], EsType) -> bool) {
    let suffixes = SUFFIXES.as_bytes();
    let mut path = [0u8; MAX_PATH];
    let mut at = usize::from(BLOCKS[block]);
    for &(shared, len, ty) in ENTRIES.iter().skip(block * BLOCK).take(BLOCK) {
        let (shared, len) = (usize::from(shared), usize::from(len));
        path[shared..shared + len].copy_from_slice(&suffixes[at..at + len]);
        at += len;
        if !f(&path[..shared + len], ty) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;

    #[test]
    fn every_entry_sorted_and_found() {
        let mut all: Vec<(String, EsType)> = Vec::new();
        for_each(|p, ty| all.push((p.to_string(), ty)));
        assert_eq!(all.len(), ECS_FIELDS);
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
        for (path, ty) in &all {
            assert_eq!(ecs_type(path), Some(*ty), "{path}");
        }
    }

    #[test]
    fn known_fields() {
        assert_eq!(ecs_type("@timestamp"), Some(EsType::Date));
        assert_eq!(ecs_type("process.pid"), Some(EsType::Long));
        assert_eq!(ecs_type("process.args_count"), Some(EsType::Long));
        assert_eq!(ecs_type("destination.ip"), Some(EsType::Ip));
        assert_eq!(ecs_type("destination.port"), Some(EsType::Long));
        assert_eq!(ecs_type("event.category"), Some(EsType::Keyword));
        assert_eq!(ecs_type("event.code"), Some(EsType::Keyword));
        // `wildcard`, with a `match_only_text` multi-field.
        assert_eq!(ecs_type("process.command_line"), Some(EsType::Keyword));
        assert_eq!(ecs_type("process.command_line.text"), Some(EsType::Text));
        // `match_only_text` without a keyword multi-field.
        assert_eq!(ecs_type("message"), Some(EsType::Text));
        assert_eq!(
            ecs_type("dll.code_signature.trusted"),
            Some(EsType::Boolean)
        );
        assert_eq!(ecs_type("host.cpu.usage"), Some(EsType::Double));
        assert_eq!(ecs_type("labels"), Some(EsType::Other));
    }

    #[test]
    fn unknown_paths() {
        for path in [
            "",
            "@",
            "a",
            "process",
            "process.pi",
            "process.pid.x",
            "zzzz",
            "\u{ff}",
        ] {
            assert_eq!(ecs_type(path), None, "{path}");
        }
        let long = "process.".repeat(100);
        assert_eq!(ecs_type(&long), None);
    }
}
'''


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("flat_yml", help="generated/ecs/ecs_flat.yml of elastic/ecs")
    parser.add_argument("version", help="the ECS release, e.g. 9.4.0")
    parser.add_argument("-o", "--output", default="rule-core/src/ecs.rs")
    args = parser.parse_args()
    if not re.match(r"^\d+\.\d+\.\d+(-[A-Za-z0-9.]+)?$", args.version):
        sys.exit(f"not a version: {args.version!r}")
    with open(args.flat_yml, "rb") as f:
        raw = f.read()
    table = read_flat(raw.decode("utf-8"))
    text = render(table, args.version, hashlib.sha256(raw).hexdigest())
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"{args.output}: {len(table)} ECS {args.version} fields", file=sys.stderr)


if __name__ == "__main__":
    main()
