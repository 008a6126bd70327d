//! Without a mapping, ECS fields have ECS's types (`rule_core::ecs`), as an
//! index with ECS's templates maps them; other fields get the type their
//! use implies, as before.

mod common;

use rule_core::{ecs, Engine, EsType, Limits, QueryParams, Rule};
use serde_json::{json, Value};

fn engine(eql: &str) -> Result<Engine, String> {
    let mut rule = Rule::from_eql(eql, None);
    rule.params = QueryParams::default();
    Engine::new(rule, Limits::default()).map_err(|e| e.to_string())
}

/// Each result's ids (see `common::run_indexed`).
fn ids(eql: &str, events: &[Value]) -> Vec<Vec<i64>> {
    let mut engine = engine(eql).unwrap_or_else(|e| panic!("{eql}: {e}"));
    common::run_indexed(&mut engine, events)
}

fn process(fields: Value) -> Value {
    let mut e = json!({"event": {"category": "process"}});
    if let (Some(e), Some(fields)) = (e.as_object_mut(), fields.as_object()) {
        e.extend(fields.clone());
    }
    e
}

#[test]
fn the_table_names_its_version() {
    assert!(ecs::ECS_VERSION.split('.').count() == 3);
    let mut fields = 0;
    ecs::for_each(|_, _| fields += 1);
    assert_eq!(fields, ecs::ECS_FIELDS);
    assert_eq!(ecs::ecs_type("process.pid"), Some(EsType::Long));
}

#[test]
fn a_long_field_compares_as_a_number() {
    let pid = |v: Value| process(json!({"process": {"pid": v}}));
    // A string constant against a long is a number, whatever the event holds.
    let events = [
        pid(json!(42)),
        pid(json!("42")),
        pid(json!(42.0)),
        pid(json!(7)),
    ];
    assert_eq!(
        ids(r#"process where process.pid == "42""#, &events),
        [[0], [1], [2]]
    );
    // Ordered as numbers: 42 < 100, where as text "42" > "100".
    assert_eq!(
        ids(r#"process where process.pid < "100""#, &events),
        [[0], [1], [2], [3]]
    );
    // A field ECS does not define is still a keyword here: text order.
    let custom = |v: Value| process(json!({"custom": {"pid": v}}));
    assert!(ids(
        r#"process where custom.pid < "100""#,
        &[custom(json!("42")), custom(json!(42))]
    )
    .is_empty());
}

#[test]
fn a_port_list_is_numbers() {
    let port = |v: Value| json!({"event": {"category": "network"}, "destination": {"port": v}});
    let events = [
        port(json!(22)),
        port(json!(80.0)),
        port(json!("80")),
        port(json!(443)),
    ];
    assert_eq!(
        ids("network where destination.port in (22, 80)", &events),
        [[0], [1], [2]]
    );
    // A value a long cannot hold refuses the event, as indexing it would.
    let mut e = engine("network where destination.port in (22, 80)").unwrap();
    let bad = json!({"@timestamp": "2026-01-01T00:00:00Z", "event": {"category": "network"}, "destination": {"port": "http"}});
    assert!(e.push(bad.to_string().as_bytes()).is_err());
}

#[test]
fn arithmetic_on_a_long_field() {
    let args = |v: Value| process(json!({"process": {"args_count": v}}));
    let events = [args(json!(4)), args(json!("4")), args(json!(2))];
    assert_eq!(
        ids("process where process.args_count * 2 > 6", &events),
        [[0], [1]]
    );
    assert_eq!(
        ids(
            r#"process where add(process.args_count, 1) == 5 and process.args_count : "4""#,
            &events
        ),
        [[0], [1]]
    );
}

#[test]
fn a_join_key_of_a_long_field_is_a_number() {
    // 42, "42" and 42.0 are the same process id to an index mapping it as long.
    let start = json!({"event": {"category": "process"}, "process": {"pid": 42}});
    let file = json!({"event": {"category": "file"}, "process": {"pid": 42.0}});
    assert_eq!(
        ids(
            "sequence by process.pid [process where true] [file where true]",
            &[start, file]
        ),
        [[0, 1]]
    );
}

#[test]
fn ip_fields_need_no_cidrmatch_to_be_addresses() {
    let ip = |v: &str| json!({"event": {"category": "network"}, "destination": {"ip": v}});
    let events = [ip("::ffff:10.0.0.1"), ip("10.0.0.1"), ip("10.0.0.2")];
    // IPv4-mapped IPv6 is the same address, as an `ip` field stores it.
    assert_eq!(
        ids(r#"network where destination.ip == "10.0.0.1""#, &events),
        [[0], [1]]
    );
}

#[test]
fn text_and_unknown_fields_keep_their_inferred_type() {
    // `message` is match_only_text in ECS: no exact value, so its use decides
    // (a keyword here) instead of refusing the rule.
    let e = process(json!({"message": "hello world"}));
    assert_eq!(
        ids(
            r#"process where message : "hello*""#,
            std::slice::from_ref(&e)
        ),
        [[0]]
    );
    // An ECS field used as text and as a number is one long field.
    assert_eq!(
        ids(
            r#"process where process.pid : "42" and process.pid + 1 == 43"#,
            &[process(json!({"process": {"pid": 42}}))]
        ),
        [[0]]
    );
}
