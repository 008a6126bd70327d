//! The decoder against serde_json: hand-picked tricky cases, then seeded
//! in-process fuzzing (mutated defend-gen events, grammar-generated JSON)
//! where every input must get exactly the old serde_json decoder's answer:
//! the same values, or the same error with the same message.
//! `scripts/fuzz.sh` runs the same comparison under libFuzzer (`decode_json`).

extern crate std;

mod serde_oracle;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::scan::{find_string_stop, find_string_stop_swar};
use super::{decode, Decoded};
use crate::error::PushError;
use crate::plan::{FieldType, ValueRef};
use crate::time::parse_rfc3339_ms;
use crate::{Engine, Limits, Rule};
use serde_oracle::{Ty, Val};

/// Fields of every type, paths sharing prefixes at several depths.
const QUERY: &str = r#"sequence by host.id with maxspan=5s
  [network where cidrmatch(destination.ip, "10.0.0.0/8") and source.port > 1000
     and process.name == "a" and event.type == "start"]
  [file where file.path : "/tmp/*" and file.size >= 0 and process.parent.pid > 1
     and process.executable != "b"]"#;

fn engine() -> Engine {
    Engine::new(Rule::from_eql(QUERY, None), Limits::default()).expect("the test rule compiles")
}

fn ty(t: FieldType) -> Ty {
    match t {
        FieldType::Keyword => Ty::Keyword,
        FieldType::Ip => Ty::Ip,
        FieldType::Number => Ty::Number,
        FieldType::Date => Ty::Date,
    }
}

/// Decodes with the new reader into the oracle's shape.
fn ours(
    engine: &Engine,
    input: &str,
    out: &mut Decoded,
) -> Result<serde_oracle::Decoded, PushError> {
    let fields = &engine.fields;
    decode(fields, &engine.trie, input, out)?;
    let values = (0..fields.len())
        .map(|f| {
            out.values(input, f as u16)
                .map(|v| match v {
                    ValueRef::Str(s) => Val::Str(s.to_string()),
                    ValueRef::Ip(ip) => Val::Ip(ip),
                    ValueRef::Number(n) => Val::Num(n),
                })
                .collect()
        })
        .collect();
    Ok(serde_oracle::Decoded {
        values,
        timestamp: out.timestamp,
    })
}

struct Checker {
    engine: Engine,
    fields: Vec<(String, Ty)>,
    out: Decoded,
    taken: usize,
    refused: usize,
}

impl Checker {
    fn new() -> Checker {
        let engine = engine();
        let fields = engine
            .fields
            .iter()
            .map(|f| (f.path.clone(), ty(f.ty)))
            .collect();
        Checker {
            engine,
            fields,
            out: Decoded::default(),
            taken: 0,
            refused: 0,
        }
    }

    /// Both decoders give the same answer on `input`.
    fn check(&mut self, input: &str) {
        let fields: Vec<(&str, Ty)> = self.fields.iter().map(|(p, t)| (p.as_str(), *t)).collect();
        let expected = serde_oracle::decode(&fields, input);
        let got = ours(&self.engine, input, &mut self.out);
        assert_eq!(got, expected, "input: {input:?}");
        match got {
            Ok(_) => self.taken += 1,
            Err(_) => self.refused += 1,
        }
    }
}

fn check_all(inputs: &[&str]) {
    let mut c = Checker::new();
    for input in inputs {
        c.check(input);
    }
}

/// The plan's fields for [`QUERY`], `@timestamp` first;
/// `fuzz/fuzz_targets/decode_json.rs` lists the same (keep them together).
#[test]
fn the_test_rule_has_every_type() {
    let c = Checker::new();
    let expected = [
        ("@timestamp", Ty::Date),
        ("host.id", Ty::Keyword),
        ("event.category", Ty::Keyword),
        ("destination.ip", Ty::Ip),
        ("source.port", Ty::Number),
        ("process.name", Ty::Keyword),
        ("event.type", Ty::Keyword),
        ("file.path", Ty::Keyword),
        ("file.size", Ty::Number),
        ("process.parent.pid", Ty::Number),
        ("process.executable", Ty::Keyword),
    ];
    let mut fields: Vec<(&str, Ty)> = c.fields.iter().map(|(p, t)| (p.as_str(), *t)).collect();
    assert_eq!(
        fields[0],
        ("@timestamp", Ty::Date),
        "the timestamp is field 0"
    );
    fields.sort_by_key(|&(p, _)| p);
    let mut expected = expected.to_vec();
    expected.sort_by_key(|&(p, _)| p);
    assert_eq!(fields, expected);
}

#[test]
fn values_arrive_typed_as_before() {
    check_all(&[
        r#"{"@timestamp":"2026-11-22T07:33:01.5Z","process":{"name":"a","parent":{"pid":7}}}"#,
        r#"{"@timestamp":1795332781000,"process.name":"a","process":{"parent.pid":"8"}}"#,
        r#"{"@timestamp":1.5e12,"destination":{"ip":["10.0.0.1","::ffff:10.0.0.2"]}}"#,
        r#"{"host":{"id":[["h1",["h2"]],null,"h3"]},"@timestamp":"1"}"#,
        r#"{"process":{"name":true},"event":{"type":false}}"#,
        // Numbers as keywords: integers as written, floats by Display.
        r#"{"process":{"name":[0,-0,1.0,1e3,-1.5E-3,18446744073709551615,18446744073709551616,-9223372036854775808,-9223372036854775809,1e308,123456789012345678901234567890]}}"#,
        r#"{"source":{"port":[0.1,2.2250738585072014e-308,4.9e-324,1e-400,-1e-400,1e400000000000,0e999999999999,17976931348623157e292,1.7976931348623158e308]}}"#,
        r#"{"source":{"port":"1e3"},"file":{"size":" 12 "}}"#,
        // Escapes, in values and in keys (an escaped dot is still a dot).
        r#"{"process":{"n\u0061me":"\u00e9\ud83d\ude00\n\"\\\/\b\f\r\t"}}"#,
        r#"{"process\u002ename":"x","process.parent\u002epid":3}"#,
        // Duplicate keys: every occurrence counts; the first timestamp wins.
        r#"{"@timestamp":1,"@timestamp":2,"process":{"name":"a"},"process":{"name":"b"}}"#,
        // Keywords longer than 1024 UTF-16 units are not indexed.
        &format!(r#"{{"process":{{"name":"{}"}}}}"#, "é".repeat(1025)),
        &format!(r#"{{"process":{{"name":"{}"}}}}"#, "é".repeat(1024)),
        &format!(r#"{{"process":{{"name":"{}"}}}}"#, "\\u00e9".repeat(1025)),
        // White space anywhere JSON allows it.
        " \t\r\n{ \"process\" : { \"name\" : [ \"a\" , 1 ] } , \"x\" : [ 1 , { } ] } \n",
        r#"{}"#,
        r#"{"x":{"y":[{"z":[1,2,{"w":null}]},"s",-0.5e+7,true,false,null]}}"#,
    ]);
}

/// serde_json (without `float_roundtrip`) multiplies a `u64` significand by
/// a power of ten, which is one ulp off the correctly rounded value for
/// about one number in ten; decoding keeps its bits, as before.
#[test]
fn numbers_keep_serde_jsons_bits_even_where_they_are_not_correctly_rounded() {
    let c = Checker::new();
    let port = c
        .fields
        .iter()
        .position(|(p, _)| p == "source.port")
        .expect("source.port");
    let input = r#"{"source":{"port":636517889e23}}"#;
    let mut out = Decoded::default();
    let ours = ours(&c.engine, input, &mut out).expect("taken");
    let serde: f64 = serde_json::from_str("636517889e23").expect("a number");
    let rounded: f64 = "636517889e23".parse().expect("a number");
    assert_eq!(ours.values[port], [Val::Num(serde)]);
    assert_ne!(
        serde.to_bits(),
        rounded.to_bits(),
        "the example still shows the difference"
    );
}

#[test]
fn bad_json_is_refused_with_serde_jsons_message() {
    check_all(&[
        "",
        " ",
        "{",
        "}",
        "[",
        "]",
        "{\"a\"",
        "{\"a\":",
        "{\"a\":1",
        "{\"a\":1,",
        "{\"a\":1,}",
        "{,}",
        "{\"a\" 1}",
        "{\"a\":1 \"b\":2}",
        "{1:2}",
        "{\"a\":}",
        "{\"a\":[1,]}",
        "{\"a\":[1 2]}",
        "{\"a\":[,1]}",
        "{\"a\":{\"b\":1,}}",
        "{\"a\":{,}}",
        "{\"a\":[}",
        "{\"a\":{]}",
        "{\"a\":1}}",
        "{\"a\":1} x",
        "{\"a\":1}\n\n  x",
        "{\"a\":1}{}",
        "nul",
        "nulx",
        "tru",
        "fals",
        "{\"a\":nul}",
        "{\"a\":tx}",
        "{\"a\":-}",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":1.e3}",
        "{\"a\":.5}",
        "{\"a\":1e}",
        "{\"a\":1e+}",
        "{\"a\":+1}",
        "{\"a\":0x1}",
        "{\"a\":1.5e}",
        "{\"a\":-01}",
        "{\"a\":-a}",
        "{\"a\":1.",
        "{\"a\":1e",
        "{\"a\":-",
        "{\"a\":Infinity}",
        "{\"a\":NaN}",
        // The same in fields the rule reads.
        "{\"source\":{\"port\":01}}",
        "{\"source\":{\"port\":1.}}",
        "{\"source\":{\"port\":1.",
        "{\"source\":{\"port\":-}}",
        "{\"source\":{\"port\":-",
        "{\"source\":{\"port\":1e}}",
        "{\"source\":{\"port\":1e400}}",
        "{\"source\":{\"port\":-1e400}}",
        "{\"source\":{\"port\":1e99999999999}}",
        "{\"source\":{\"port\":[1,]}}",
        "{\"source\":{\"port\":[1 2]}}",
        "{\"source\":{\"port\":[1,",
        "{\"source\":{\"port\":[",
        "{\"source\":{\"port\":[1}",
        "{\"source\":{\"port\":1}",
        "{\"source\":{,}}",
        "{\"source\":{\"port\":1,}}",
        "{\"source\":{\"port\" 1}}",
        "{\"source\":{\"port\":tru}}",
        "{\"source\":{\"port\":x}}",
        "{\"source\":{\"port\":1} x}",
        // Strings: escapes, control bytes, surrogates, the end of input.
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\u12G4\"}",
        "{\"a\":\"\\u12",
        "{\"a\":\"\\",
        "{\"a\":\"abc",
        "{\"a\":\"a\u{1}b\"}",
        "{\"a\":\"\t\"}",
        "{\"a\":\"\n\"}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":\"\\udc00\"}",
        "{\"a\":\"\\ud800\\u0041\"}",
        "{\"process\":{\"name\":\"\\ud800\"}}",
        "{\"process\":{\"name\":\"\\udc00\"}}",
        "{\"process\":{\"name\":\"\\ud800x\"}}",
        "{\"process\":{\"name\":\"\\ud800\\x\"}}",
        "{\"process\":{\"name\":\"\\ud800\\u0041\"}}",
        "{\"process\":{\"name\":\"\\ud800",
        "{\"process\":{\"name\":\"\\ud800\\",
        "{\"process\":{\"name\":\"\\ud800\\u",
        "{\"process\":{\"name\":\"\\ud800\\udbff\"}}",
        "{\"process\":{\"name\":\"a\u{1f}\"}}",
        "{\"process\":{\"name\":\"\\u00",
        "{\"process\":{\"name\":\"\\q\"}}",
        "{\"\\ud800\":1}",
        "{\"x\\u\":1}",
        "{\"x\u{7}\":1}",
        "{\"process\":{\"\\udfff\":1}}",
        // Not objects.
        "[1,2]",
        "[",
        "[1,",
        "\"str\"",
        "\"str",
        "\"\\ud800\"",
        "1",
        "-1",
        "1e400",
        "-",
        "01",
        "null",
        "true",
        "false",
        "x",
        "\u{e9}",
        // Multi-line positions.
        "{\n\"a\":\n[1,\n2,\n]\n}",
        "{\r\n  \"a\": 1,\r\n  \"b\": x\r\n}",
    ]);
}

#[test]
fn type_errors_come_where_serde_json_met_them() {
    check_all(&[
        r#"{"process":{"name":{"x":1}}}"#,
        r#"{"process":{"name":{"x":1"#,
        r#"{"process":{"name":{"#,
        r#"{"process":"flat"}"#,
        r#"{"process":1}"#,
        r#"{"process":true}"#,
        r#"{"process":null}"#,
        r#"{"process":["flat"]}"#,
        r#"{"destination":{"ip":"1.2.3.999"}}"#,
        r#"{"destination":{"ip":17}}"#,
        r#"{"destination":{"ip":true}}"#,
        r#"{"destination":{"ip":"1.2.3.4"x}}"#,
        r#"{"source":{"port":"x"}}"#,
        r#"{"source":{"port":false}}"#,
        r#"{"@timestamp":"yesterday"}"#,
        r#"{"@timestamp":1e300}"#,
        r#"{"@timestamp":18446744073709551615}"#,
        r#"{"@timestamp":true}"#,
        r#"{"@timestamp":{"a":1}}"#,
        r#"{"destination":{"ip":"bad"},"x":}"#,
        r#"{"x":},"destination":{"ip":"bad"}}"#,
        r#"{"destination":{"ip":"\ud800"}}"#,
    ]);
}

#[test]
fn depth_counts_only_where_the_walk_goes() {
    let mut c = Checker::new();
    for depth in [1, 2, 100, 124, 125, 126, 127, 128, 200] {
        let arrays = format!(
            r#"{{"process":{{"name":{}"x"{}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        c.check(&arrays);
        let skipped_deep = format!(r#"{{"x":{}1{}}}"#, "[".repeat(depth), "]".repeat(depth));
        c.check(&skipped_deep);
        let objects = format!(
            r#"{{"y":{}1{}}}"#,
            r#"{"y":"#.repeat(depth),
            "}".repeat(depth)
        );
        c.check(&objects);
    }
    let deep = 100_000;
    c.check(&format!(
        r#"{{"x":{}1{}}}"#,
        "[".repeat(deep),
        "]".repeat(deep)
    ));
    c.check(&format!(
        r#"{{"x":{}1{}}}"#,
        "[{\"a\":".repeat(deep),
        "}]".repeat(deep)
    ));
    c.check(&format!(r#"{{"x":{}"#, "[".repeat(deep)));
    c.check(&format!(r#"{{"process":{{"name":{}1"#, "[".repeat(deep)));
    c.check(&"[".repeat(deep));
    // 127 open containers is serde_json's most: the root, `source` and 125 arrays.
    let nested = |n: usize| {
        format!(
            r#"{{"source":{{"port":{}1{}}}}}"#,
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    let fields = &c.engine.fields;
    assert_eq!(
        decode(fields, &c.engine.trie, &nested(125), &mut c.out),
        Ok(())
    );
    let refused = decode(fields, &c.engine.trie, &nested(126), &mut c.out);
    assert!(
        matches!(&refused, Err(PushError::InvalidJson { message }) if message.starts_with("recursion limit exceeded")),
        "{refused:?}"
    );
}

#[test]
fn string_stops_are_found_like_a_byte_loop() {
    let mut seed = 0x1234_5678_9abc_def1u64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let alphabet = [
        b'a',
        b'"',
        b'\\',
        0x00,
        0x1f,
        0x20,
        0x7f,
        0x80,
        0xff,
        b'!',
        b'#',
        b'[',
        b'\\' + 1,
    ];
    for _ in 0..20_000 {
        let len = next(72) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                if next(4) == 0 {
                    alphabet[next(alphabet.len() as u64) as usize]
                } else {
                    b'a' + next(26) as u8
                }
            })
            .collect();
        let from = next(len as u64 + 1) as usize;
        let naive = (from..len)
            .find(|&i| matches!(bytes[i], b'"' | b'\\' | 0..=0x1f))
            .unwrap_or(len);
        assert_eq!(
            find_string_stop(&bytes, from),
            naive,
            "{bytes:?} from {from}"
        );
        // The portable path, which a vector build runs only on short input.
        assert_eq!(
            find_string_stop_swar(&bytes, from),
            naive,
            "{bytes:?} from {from}, SWAR"
        );
    }
}

/// A small xorshift generator: the same inputs on every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

const KEYS: &[&str] = &[
    "process",
    "name",
    "parent",
    "pid",
    "executable",
    "host",
    "id",
    "destination",
    "ip",
    "source",
    "port",
    "file",
    "path",
    "size",
    "event",
    "type",
    "category",
    "@timestamp",
    "process.name",
    "process.parent.pid",
    "source.port",
    "destination.ip",
    "file.size",
    "host.id",
    "event.type",
    "x",
    "",
    ".",
    "process.",
    "pro\\u0063ess",
    "n\\u0061me",
    "process\\u002eparent",
    "\\ud800",
    "\\ud83d\\ude00",
    "a\\\"b",
];

const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "7",
    "1.0",
    "1e3",
    "1E+3",
    "1e-3",
    "-0.0",
    "0.1",
    "1.5",
    "123.456e7",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999999",
    "1e308",
    "1.7976931348623157e308",
    "1.7976931348623159e308",
    "1e309",
    "4.9e-324",
    "2e-324",
    "1e-400",
    "0e400",
    "1e2147483647",
    "1e2147483648",
    "1e-2147483649",
    "0.000000000000000000000000000001",
    "12345678901234567890.12345678901234567890",
    "1844674407370955161.5",
    "18446744073709551615.5e3",
    "3.141592653589793238462643383279",
    "1795332781000",
    "1795332781000.9",
    "9e15",
    "-9e15",
    "8999999999999999",
    "636517889e23",
    "0.636517889e32",
];

const STRINGS: &[&str] = &[
    "",
    "a",
    "start",
    "10.0.0.1",
    "10.1.2.3",
    "::ffff:10.0.0.9",
    "::1",
    "1.2.3.999",
    "/tmp/x.sh",
    "2026-11-22T07:33:01.1234567Z",
    "2026-11-22T07:33:01Z",
    "1795332781000",
    "12",
    " 12 ",
    "1e3",
    "NaN",
    "inf",
    "\\u00e9t\\u00e9",
    "\\ud83d\\ude00",
    "\\ud800",
    "\\udc00",
    "\\ud800\\u0041",
    "tab\\there",
    "q\\\"uote",
    "back\\\\slash",
    "\\/",
    "caf\u{e9}",
    "\u{1f600}",
    "\\b\\f\\n\\r\\t",
];

fn gen_value(g: &mut Gen, depth: usize, out: &mut String) {
    let choice = if depth > 6 {
        4 + g.below(4)
    } else {
        g.below(9)
    };
    match choice {
        0 | 1 => {
            out.push('{');
            for i in 0..g.below(5) {
                if i > 0 {
                    out.push(',');
                }
                out.push('"');
                out.push_str(g.pick(KEYS));
                out.push_str("\":");
                gen_value(g, depth + 1, out);
            }
            out.push('}');
        }
        2 | 3 => {
            out.push('[');
            for i in 0..g.below(4) {
                if i > 0 {
                    out.push(',');
                }
                gen_value(g, depth + 1, out);
            }
            out.push(']');
        }
        4 | 5 => {
            out.push('"');
            out.push_str(g.pick(STRINGS));
            out.push('"');
        }
        6 => out.push_str(g.pick(NUMBERS)),
        7 => out.push_str(g.pick(&["null", "true", "false"])),
        _ => {
            let digits = 1 + g.below(30);
            if g.below(2) == 0 {
                out.push('-');
            }
            for _ in 0..digits {
                out.push(char::from(b'0' + g.below(10) as u8));
            }
            if g.below(2) == 0 {
                out.push('.');
                out.push(char::from(b'0' + g.below(10) as u8));
            }
        }
    }
    if g.below(8) == 0 {
        out.push_str(g.pick(&[" ", "\n", "\t", "\r\n  "]));
    }
}

/// Byte-wise mutations that keep the text UTF-8 (what decode is given).
fn mutate(g: &mut Gen, text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    const INSERTS: &[&[u8]] = &[
        b"\"",
        b"\\",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"0",
        b"-",
        b".",
        b"e",
        b"E",
        b"+",
        b" ",
        b"\n",
        b"\x01",
        b"\x1f",
        b"u",
        b"\\u",
        b"\\ud800",
        b"\\udc00",
        b"n",
        b"t",
        b"f",
        b"null",
        b"1e999",
        "\u{e9}".as_bytes(),
        b"x",
        b"9",
    ];
    for _ in 0..1 + g.below(3) {
        if bytes.is_empty() {
            break;
        }
        let at = g.below(bytes.len() + 1);
        match g.below(6) {
            0 => {
                if at < bytes.len() {
                    bytes.remove(at);
                }
            }
            1 | 2 => {
                let ins = g.pick(INSERTS);
                bytes.splice(at..at, ins.iter().copied());
            }
            3 => {
                if at < bytes.len() {
                    bytes[at] = g.pick(INSERTS).first().copied().unwrap_or(b'x');
                }
            }
            4 => bytes.truncate(at),
            _ => {
                let end = (at + g.below(16)).min(bytes.len());
                let span = bytes[at..end].to_vec();
                bytes.splice(at..at, span);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Seeded in-process fuzzing: defend-gen events, whole and mutated, and
/// grammar-generated JSON, whole and mutated; each must get serde_json's answer.
#[test]
fn differential_against_serde_json() {
    let mut c = Checker::new();
    let mut g = Gen(0x2545_f491_4f6c_dd1d);
    let mut events: Vec<String> = Vec::new();
    for (profile, seed) in [
        (defend_gen::Profile::Realistic, 1),
        (defend_gen::Profile::ReferenceDomain, 2),
    ] {
        events.extend(defend_gen::generate(&defend_gen::GenConfig {
            events: 300,
            seed,
            profile,
        }));
    }
    for event in &events {
        c.check(event);
        for _ in 0..10 {
            c.check(&mutate(&mut g, event));
        }
    }
    let mut text = String::new();
    for _ in 0..20_000 {
        text.clear();
        if g.below(2) == 0 {
            // An event-shaped object: the rule's fields among others.
            text.push('{');
            for i in 0..1 + g.below(6) {
                if i > 0 {
                    text.push(',');
                }
                text.push('"');
                text.push_str(g.pick(KEYS));
                text.push_str("\":");
                gen_value(&mut g, 1, &mut text);
            }
            text.push('}');
        } else {
            gen_value(&mut g, 0, &mut text);
        }
        c.check(&text);
        let mutated = mutate(&mut g, &text);
        c.check(&mutated);
    }
    // Enough of both answers for the comparison to mean something.
    assert!(
        c.taken > 5_000 && c.refused > 5_000,
        "{} taken, {} refused",
        c.taken,
        c.refused
    );
}

/// Replays `fuzz/regressions/decode_json` (and the events of
/// `push_events`): whatever the fuzzers found must keep serde_json's answer.
#[test]
fn fuzz_regressions_agree() {
    let mut c = Checker::new();
    let mut replayed = 0;
    for target in ["decode_json", "push_events"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz/regressions")
            .join(target);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            let bytes = std::fs::read(&path).expect("a regression file");
            let lines: Vec<&[u8]> = if target == "push_events" {
                bytes.split(|&b| b == b'\n').collect()
            } else {
                vec![&bytes[..]]
            };
            for line in lines {
                if let Ok(text) = core::str::from_utf8(line.trim_ascii()) {
                    c.check(text);
                    replayed += 1;
                }
            }
        }
    }
    assert!(replayed >= 10, "{replayed} inputs replayed");
}
