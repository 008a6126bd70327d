//! Helpers the rule-core test files share.

use rule_core::Engine;
use serde_json::{json, Value};

/// Pushes `events`, giving each an `@timestamp` (its index, in seconds) and
/// an `id` (its index), flushes, and returns each result's ids; a
/// missing-event placeholder reads as -1.
pub fn run_indexed(engine: &mut Engine, events: &[Value]) -> Vec<Vec<i64>> {
    for (i, e) in events.iter().enumerate() {
        let mut e = e.clone();
        e["@timestamp"] = json!(format!("2026-01-01T00:00:{:02}Z", i));
        e["id"] = json!(i);
        engine.push(e.to_string().as_bytes()).expect("event taken");
    }
    engine.flush();
    engine
        .drain()
        .iter()
        .map(|a| {
            let doc: Value = serde_json::from_str(a.as_str()).expect("alerts are JSON");
            doc["Events"]
                .as_array()
                .map(|events| {
                    events
                        .iter()
                        .map(|e| match e["missing"].as_bool() {
                            Some(true) => -1,
                            _ => e["id"].as_i64().unwrap_or(-2),
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}
