//! Differential: rule-core's own JSON reader against serde_json. Any bytes
//! as an event, explained by an engine whose rule reads fields of every type
//! (keyword, ip, number, date) at shared and nested paths: the engine and
//! the serde_json decoder it replaced (rule-core's test oracle,
//! `rule-core/src/decode/tests/serde_oracle.rs`, included here) must both
//! take the event with the same values for every field, or both refuse it
//! with the same error, message included.
#![no_main]
extern crate alloc;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rule_core::time::parse_rfc3339_ms;
use rule_core::{Engine, Limits, Node, PushError, Rule};

#[path = "../../rule-core/src/decode/tests/serde_oracle.rs"]
mod serde_oracle;

use serde_oracle::{Ty, Val};

/// The same rule as rule-core's `decode::tests`.
const QUERY: &str = r#"sequence by host.id with maxspan=5s
  [network where cidrmatch(destination.ip, "10.0.0.0/8") and source.port > 1000
     and process.name == "a" and event.type == "start"]
  [file where file.path : "/tmp/*" and file.size >= 0 and process.parent.pid > 1
     and process.executable != "b"]"#;

/// Its fields as the compiler types them; `@timestamp` first, as in the plan.
const FIELDS: &[(&str, Ty)] = &[
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

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(Rule::from_eql(QUERY, None), Limits::default()).unwrap())
}

/// A value as `Engine::explain` shows it.
fn shown(v: &Val) -> serde_json::Value {
    match v {
        Val::Str(s) => serde_json::Value::String(s.clone()),
        Val::Ip(ip) => serde_json::Value::String(ip.to_string()),
        Val::Num(n) => serde_json::Number::from_f64(*n).map_or(serde_json::Value::Null, Into::into),
    }
}

fn expected(decoded: &serde_oracle::Decoded, field: &str) -> Vec<serde_json::Value> {
    let i = FIELDS
        .iter()
        .position(|(path, _)| *path == field)
        .unwrap_or_else(|| panic!("the plan reads {field}, which FIELDS lacks"));
    decoded.values[i].iter().map(shown).collect()
}

/// The leaves under `node` with their fields' values (other kinds of node
/// are looked through or passed over).
fn leaves<'a>(node: &'a Node, out: &mut Vec<(&'a str, &'a [serde_json::Value])>) {
    if let Node::And { children, .. } | Node::Or { children, .. } = node {
        children.iter().for_each(|c| leaves(c, out));
    }
    if let Node::Not { child, .. } = node {
        leaves(child, out);
    }
    if let Node::Leaf { field, values, .. } = node {
        out.push((field, values));
    }
}

fuzz_target!(|data: &[u8]| {
    // What `Engine::explain` hands the decoder: trimmed, non-empty UTF-8.
    let Ok(text) = std::str::from_utf8(data.trim_ascii()) else {
        return;
    };
    if text.is_empty() {
        return;
    }
    let ours = engine().explain(data);
    let theirs: Result<_, PushError> = serde_oracle::decode(FIELDS, text);
    match (&ours, &theirs) {
        (Err(a), Err(b)) => assert_eq!(a, b, "{text:?}"),
        (Ok(explanation), Ok(decoded)) => {
            assert_eq!(explanation.timestamp, decoded.timestamp, "{text:?}");
            for stage in &explanation.stages {
                let mut seen = Vec::new();
                leaves(&stage.filter, &mut seen);
                for key in &stage.join_keys {
                    seen.push((&key.field, &key.values));
                }
                for (field, values) in seen {
                    assert_eq!(values, expected(decoded, field), "{field} in {text:?}");
                }
            }
        }
        _ => panic!("{text:?}: rule-core {ours:?}, serde_json {theirs:?}"),
    }
});
