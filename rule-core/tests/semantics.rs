//! The semantics table: every row of SEMANTICS.md (S1-S9, P1-P12), the rule's
//! quirks and event shapes, as event streams with the sequences Elasticsearch
//! reports. The table is `tests/fixtures/semantics.json` (written by
//! `make_semantics.py` beside it); the wasm end-to-end tests run it too.

use rule_core::{Engine, Limits, Rule};
use serde_json::Value;

fn table() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/semantics.json"
    );
    let text = std::fs::read_to_string(path).expect("semantics.json is readable");
    let doc: Value = serde_json::from_str(&text).expect("semantics.json is JSON");
    doc["cases"].as_array().expect("cases").clone()
}

/// The `event.id`s of each alert's `Events`, in order.
fn sequences(alerts: &[rule_core::Alert]) -> Vec<Vec<String>> {
    alerts
        .iter()
        .map(|a| {
            let doc: Value = serde_json::from_str(a.as_str()).expect("alert is JSON");
            doc["Events"]
                .as_array()
                .expect("Events")
                .iter()
                .map(|e| {
                    let id = e.pointer("/event/id").or_else(|| e.get("event.id"));
                    id.and_then(Value::as_str).expect("event.id").to_string()
                })
                .collect()
        })
        .collect()
}

#[test]
fn semantics_table() {
    let cases = table();
    assert!(cases.len() >= 40, "the table has every row");
    let mut rows = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for case in &cases {
        let row = case["row"].as_str().unwrap_or("?");
        let name = case["name"].as_str().unwrap_or("?");
        rows.insert(row.to_string());
        let rule = match case["rule"].as_str() {
            Some(eql) => Rule::from_eql(eql, None),
            None => Rule::embedded(),
        };
        let mut engine = Engine::new(rule, Limits::default()).expect("rule compiles");
        let mut alerts = Vec::new();
        let mut errors = Vec::new();
        for (i, event) in case["events"]
            .as_array()
            .expect("events")
            .iter()
            .enumerate()
        {
            let line = serde_json::to_string(event).expect("serialise");
            if let Err(e) = engine.push(line.as_bytes()) {
                errors.push(serde_json::json!({"index": i, "code": e.code()}));
            }
            alerts.extend(engine.drain());
        }
        engine.flush();
        alerts.extend(engine.drain());
        let got = sequences(&alerts);
        let expect: Vec<Vec<String>> =
            serde_json::from_value(case["expect"].clone()).expect("expect");
        if got != expect {
            failures.push(format!("{row} {name}: expected {expect:?}, got {got:?}"));
        }
        let absent: Vec<Vec<String>> =
            serde_json::from_value(case["absent"].clone()).expect("absent");
        if let Some(wrong) = absent.iter().find(|a| got.contains(a)) {
            failures.push(format!(
                "{row} {name}: reported {wrong:?}, which Elasticsearch does not"
            ));
        }
        if Value::Array(errors.clone()) != case["errors"] {
            failures.push(format!(
                "{row} {name}: expected errors {}, got {errors:?}",
                case["errors"]
            ));
        }
        let stats = engine.stats();
        assert_eq!(
            stats.errors.total() as usize,
            errors.len(),
            "{row} {name}: errors are counted"
        );
    }
    for row in ["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9"]
        .iter()
        .chain(&[
            "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9", "P10", "P11", "P12",
        ])
    {
        assert!(rows.contains(*row), "row {row} has cases");
        let has_negative = cases.iter().any(|c| {
            c["row"] == *row
                && (c["expect"].as_array().is_some_and(|e| e.is_empty())
                    || c["absent"].as_array().is_some_and(|a| !a.is_empty()))
        });
        let has_positive = cases
            .iter()
            .any(|c| c["row"] == *row && c["expect"].as_array().is_some_and(|e| !e.is_empty()));
        assert!(
            has_negative && has_positive,
            "row {row} has a stream that matches and one that must not"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
