//! The EQL language beyond the seed rule, each construct on small streams:
//! what Elasticsearch answers is what the engine must answer.

mod common;

use rule_core::{Engine, ErrorKind, EsType, Limits, Mapping, QueryParams, ResultPosition, Rule};
use serde_json::{json, Value};

fn engine(eql: &str, mapping: Option<Mapping>) -> Engine {
    let mut rule = Rule::from_eql(eql, None);
    rule.params = QueryParams {
        mapping,
        ..QueryParams::default()
    };
    Engine::new(rule, Limits::default()).unwrap_or_else(|e| panic!("{eql}: {e}"))
}

fn ids(eql: &str, events: &[Value]) -> Vec<Vec<i64>> {
    common::run_indexed(&mut engine(eql, None), events)
}

#[test]
fn runs_repeat_a_stage() {
    let a = json!({"event": {"category": "auth"}, "user": "u", "outcome": "failure"});
    let ok = json!({"event": {"category": "auth"}, "user": "u", "outcome": "success"});
    let eql = r#"sequence by user [auth where outcome == "failure"] with runs=3 [auth where outcome == "success"]"#;
    assert_eq!(
        ids(eql, &[a.clone(), a.clone(), ok.clone()]),
        Vec::<Vec<i64>>::new()
    );
    assert_eq!(
        ids(eql, &[a.clone(), a.clone(), a.clone(), ok]),
        [[0, 1, 2, 3]]
    );
}

#[test]
fn until_ends_pending_sequences_of_its_key() {
    let start = |pid: i64| json!({"event": {"category": "process"}, "pid": pid, "type": "start"});
    let file = |pid: i64| json!({"event": {"category": "file"}, "pid": pid});
    let end = |pid: i64| json!({"event": {"category": "process"}, "pid": pid, "type": "end"});
    let eql = r#"sequence by pid [process where type == "start"] [file where true] until [process where type == "end"]"#;
    // pid 1 ends before its file event; pid 2 does not.
    let events = [start(1), start(2), end(1), file(1), file(2)];
    assert_eq!(ids(eql, &events), [[1, 4]]);
}

#[test]
fn head_and_tail() {
    let events: Vec<Value> = (0..5)
        .map(|_| json!({"event": {"category": "process"}}))
        .collect();
    assert_eq!(ids("process where true | head 2", &events), [[0], [1]]);
    assert_eq!(ids("process where true | tail 2", &events), [[3], [4]]);
    assert_eq!(ids("process where true | tail 3 | head 1", &events), [[2]]);
}

#[test]
fn size_and_result_position() {
    let events: Vec<Value> = (0..5)
        .map(|_| json!({"event": {"category": "process"}}))
        .collect();
    let sized = |eql: &str, size: Option<u64>, position: ResultPosition| {
        let mut rule = Rule::from_eql(eql, None);
        rule.params.size = size;
        rule.params.result_position = position;
        let mut e = Engine::new(rule, Limits::default()).unwrap();
        // What comes out before the end of the stream, then at flush.
        let mut before = Vec::new();
        for (i, event) in events.iter().enumerate() {
            let mut event = event.clone();
            event["@timestamp"] = json!(format!("2026-01-01T00:00:{i:02}Z"));
            event["id"] = json!(i);
            e.push(event.to_string().as_bytes()).unwrap();
            before.extend(e.drain().iter().map(|a| first_id(a.as_str())));
        }
        e.flush();
        let at_flush: Vec<i64> = e.drain().iter().map(|a| first_id(a.as_str())).collect();
        (before, at_flush)
    };
    let all = "process where true";
    // Unset: every result, as it forms.
    assert_eq!(
        sized(all, None, ResultPosition::Tail),
        (vec![0, 1, 2, 3, 4], vec![])
    );
    // `head`: the first two as they form, then nothing more.
    assert_eq!(
        sized(all, Some(2), ResultPosition::Head),
        (vec![0, 1], vec![])
    );
    // `tail` (Elasticsearch's default): the last two, at flush.
    assert_eq!(
        sized(all, Some(2), ResultPosition::Tail),
        (vec![], vec![3, 4])
    );
    // With a pipe, `size` caps it and the pipe says which end.
    assert_eq!(
        sized("process where true | head 3", Some(2), ResultPosition::Tail),
        (vec![0, 1], vec![])
    );
    assert_eq!(
        sized("process where true | tail 1", Some(2), ResultPosition::Head),
        (vec![], vec![4])
    );
}

fn first_id(alert: &str) -> i64 {
    let doc: Value = serde_json::from_str(alert).unwrap();
    doc["Events"][0]["id"].as_i64().unwrap_or(-1)
}

#[test]
fn scripts_see_every_value_of_an_array() {
    // `length()` runs as a script over each value: any may pass.
    let e = json!({"event": {"category": "process"}, "args": ["a", "long-one"]});
    assert_eq!(
        ids("process where length(args) > 5", std::slice::from_ref(&e)),
        [[0]]
    );
    assert_eq!(
        ids("process where length(args) < 2", std::slice::from_ref(&e)),
        [[0]]
    );
    assert!(ids("process where length(args) > 10", &[e]).is_empty());
}

#[test]
fn missing_fields_in_scripts_and_queries() {
    let e = json!({"event": {"category": "process"}});
    // A query's `!=` is a must_not: a missing field passes it.
    assert_eq!(
        ids(r#"process where name != "x""#, std::slice::from_ref(&e)),
        [[0]]
    );
    // `not (x > 1)` is rewritten to `x <= 1`, which a missing field fails.
    assert!(ids("process where not (pid > 1)", std::slice::from_ref(&e)).is_empty());
    // A script's null is false, and `not` around it is hoisted: true.
    assert!(ids("process where length(name) > 0", std::slice::from_ref(&e)).is_empty());
    assert!(ids(
        "process where not (length(name) > 0)",
        std::slice::from_ref(&e)
    )
    .is_empty());
    let hoisted = r#"process where not stringContains(concat(name, "x"), "y")"#;
    assert_eq!(ids(hoisted, std::slice::from_ref(&e)), [[0]]);
    assert_eq!(ids("process where length(name) == null", &[e]), [[0]]);
}

#[test]
fn functions_and_arithmetic_as_values() {
    let e = json!({"event": {"category": "process"}, "name": "regsvr32.exe", "path": "C:\\Windows\\System32\\regsvr32.exe", "n": 7});
    for eql in [
        r#"process where substring(name, -4) == ".exe""#,
        r#"process where between~(path, "system32\\", ".EXE") == "regsvr32""#,
        r#"process where startsWith~(path, "c:") and endsWith(path, name)"#,
        r#"process where indexOf(name, "32") == 6 and length(name) == 12"#,
        r#"process where n * 2 + 1 == 15 and n % 4 == 3 and divide(n, 2) == 3 and -n < 0"#,
        r#"process where concat(name, "-", n) : "REGSVR32.EXE-7""#,
        r#"process where number("0x10") == 16 and string(n) == "7""#,
        r#"process where name regex~ "REG[a-z]+32\\.exe" and name in ("x", concat("regsvr", "32.exe"))"#,
        r#"process where ?nosuch == null and `name` like "reg*""#,
    ] {
        assert_eq!(ids(eql, std::slice::from_ref(&e)), [[0]], "{eql}");
    }
    assert!(ids("process where n / 0 == 1", &[e]).is_empty());
}

#[test]
fn a_mapping_gives_types_and_aliases() {
    let mut mapping = Mapping::from_json(
        r#"{"properties": {"kind": {"type": "keyword"}, "pid": {"type": "long"},
            "event": {"properties": {"category": {"type": "alias", "path": "kind"}}},
            "@timestamp": {"type": "date"}, "id": {"type": "long"}}}"#,
    )
    .unwrap();
    mapping.insert("ratio", EsType::Double);
    let mut e = engine(
        "process where pid / 2 == 1 and ratio / 2 == 0.75",
        Some(mapping.clone()),
    );
    let event = json!({"kind": "process", "pid": 3, "ratio": 1.5});
    assert_eq!(common::run_indexed(&mut e, &[event]), [[0]]);
    // Unknown to the mapping: refused, unless optional.
    let refused = Engine::new(
        Rule {
            params: QueryParams {
                mapping: Some(mapping.clone()),
                ..QueryParams::default()
            },
            ..Rule::from_eql("process where nosuch == 1", None)
        },
        Limits::default(),
    );
    assert!(refused.err().unwrap().message.contains("unknown field"));
    let mut e = engine("process where ?nosuch == null", Some(mapping));
    assert_eq!(
        common::run_indexed(&mut e, &[json!({"kind": "process"})]),
        [[0]]
    );
}

#[test]
fn version_fields_compare_as_versions() {
    let mapping = Mapping::from_json(
        r#"{"properties": {"version": {"type": "version"}, "text": {"type": "keyword"},
            "event": {"properties": {"category": {"type": "keyword"}}},
            "@timestamp": {"type": "date"}, "id": {"type": "long"}}}"#,
    )
    .unwrap();
    let versions = [
        "1.0.0",
        "1.2.0",
        "2.0.0",
        "10.0.0",
        "20.1.0",
        "20.10.0",
        "20.2.0",
        "1.0.0-rc.1",
        "1.2.alpha.4",
    ];
    let events: Vec<_> = versions
        .iter()
        .map(|v| json!({"event": {"category": "process"}, "version": v, "text": v}))
        .collect();
    let run = |eql: &str| -> Vec<i64> {
        let mut e = engine(eql, Some(mapping.clone()));
        common::run_indexed(&mut e, &events)
            .into_iter()
            .flatten()
            .collect()
    };
    // Semver order on the `version` field: numbers numerically, a
    // pre-release before its release, an invalid version after all valid.
    assert_eq!(run(r#"process where version > "2.0.0""#), [3, 4, 5, 6, 8]);
    assert_eq!(run(r#"process where version <= "1.0.0""#), [0, 7]);
    assert_eq!(run(r#"process where version < "1.0.0""#), [7]);
    assert_eq!(
        run(r#"process where version >= "20.2.0" and version < "20.10""#),
        [6]
    );
    assert_eq!(run(r#"process where not (version >= "1.2")"#), [0, 7]);
    // Equality and lists are the text's.
    assert_eq!(run(r#"process where version == "20.1.0""#), [4]);
    assert_eq!(
        run(r#"process where version != "1.0.0""#),
        [1, 2, 3, 4, 5, 6, 7, 8]
    );
    assert_eq!(
        run(r#"process where version in ("2.0.0", "10.0.0")"#),
        [2, 3]
    );
    // The same values in a keyword field order as text.
    assert_eq!(run(r#"process where text > "2.0.0""#), [4, 5, 6]);
}

#[test]
fn ignore_malformed_leaves_the_value_out_not_the_event() {
    let mapping = |ignore: &str| {
        Mapping::from_json(&format!(
            r#"{{"settings": {{"index.mapping.ignore_malformed": {ignore}}},
                "properties": {{"n": {{"type": "long"}}, "addr": {{"type": "ip"}},
                "when": {{"type": "date"}}, "kind": {{"type": "keyword"}},
                "event": {{"properties": {{"category": {{"type": "keyword"}}}}}},
                "@timestamp": {{"type": "date"}}, "id": {{"type": "long"}}}}}}"#
        ))
        .unwrap()
    };
    let eql = r#"process where n == null and addr == null and when == null and kind == "k""#;
    let bad = [
        json!({"n": "abc"}),
        json!({"addr": "not-an-ip"}),
        json!({"when": "yesterday"}),
        json!({"n": true}),
        json!({"addr": 7}),
    ];
    // Without it, each event is refused, as Elasticsearch refuses the document.
    let mut strict = engine(eql, Some(mapping("false")));
    for fields in &bad {
        let mut event = json!({"@timestamp": "2026-01-01T00:00:00Z", "event": {"category": "process"}, "kind": "k"});
        event
            .as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        assert!(
            strict.push(event.to_string().as_bytes()).is_err(),
            "{event}"
        );
    }
    assert_eq!(strict.stats().errors.total(), 5);
    // With it, the event is taken and the field reads as missing.
    let mut lenient = engine(eql, Some(mapping("true")));
    let events: Vec<_> = bad
        .iter()
        .map(|fields| {
            let mut event = json!({"event": {"category": "process"}, "kind": "k"});
            event
                .as_object_mut()
                .unwrap()
                .extend(fields.as_object().unwrap().clone());
            event
        })
        .collect();
    assert_eq!(
        common::run_indexed(&mut lenient, &events),
        [[0], [1], [2], [3], [4]]
    );
    let stats = lenient.stats();
    assert_eq!(stats.errors.total(), 0);
    assert_eq!(stats.ignored_malformed.get(ErrorKind::WrongType), 2);
    assert_eq!(stats.ignored_malformed.get(ErrorKind::MalformedIp), 2);
    assert_eq!(stats.ignored_malformed.get(ErrorKind::BadTimestamp), 1);
    // Only the malformed value goes: the others of an array stay.
    let mut lenient = engine("process where n == 5", Some(mapping("true")));
    let event = json!({"event": {"category": "process"}, "n": ["x", 5, "y"]});
    assert_eq!(common::run_indexed(&mut lenient, &[event]), [[0]]);
    // An event refused for another reason counts nothing as ignored.
    let mut lenient = engine(eql, Some(mapping("true")));
    assert!(lenient.push(br#"{"n": "abc", "addr": "#).is_err());
    assert_eq!(lenient.stats().ignored_malformed.total(), 0);
}

#[test]
fn missing_event_stages() {
    let ev = |kind: &str| json!({"event": {"category": "process"}, "kind": kind, "host": "h"});
    let eql = r#"sequence by host with maxspan=10s [process where kind == "a"] ![process where kind == "m"] [process where kind == "b"]"#;
    // `m` between `a` and `b` discards the sequence; without it, the gap
    // shows as `{"missing":true}` (-1 here).
    assert!(ids(eql, &[ev("a"), ev("m"), ev("b")]).is_empty());
    assert_eq!(ids(eql, &[ev("a"), ev("b")]), [[0, -1, 1]]);
    // Trailing: the sequence waits for its window (or the end of the stream).
    let trailing = r#"sequence by host with maxspan=10s [process where kind == "a"] ![process where kind == "m"]"#;
    assert!(ids(trailing, &[ev("a"), ev("m")]).is_empty());
    let mut e = engine(trailing, None);
    e.push(json!({"@timestamp": "2026-01-01T00:00:00Z", "event": {"category": "process"}, "kind": "a", "host": "h", "id": 0}).to_string().as_bytes()).unwrap();
    assert_eq!(e.pending_alerts(), 0, "held until its window passes");
    e.advance_time(1_767_225_600_000 + 10_001);
    assert_eq!(e.pending_alerts(), 1);
}

#[test]
fn samples_take_one_event_per_stage_in_any_order() {
    let ev = |cat: &str, host: &str| json!({"event": {"category": cat}, "host": host});
    let eql = "sample by host [network where true] [process where true]";
    // Any order; one sample per key by default; a key without both, none.
    let events = [
        ev("process", "a"),
        ev("network", "b"),
        ev("network", "a"),
        ev("process", "a"),
    ];
    assert_eq!(ids(eql, &events), [[2, 0]]);
    // One event does not fill two stages of a sample.
    let both = r#"sample by host [any where true] [any where true]"#;
    assert!(ids(both, &[ev("x", "a")]).is_empty());
    assert_eq!(ids(both, &[ev("x", "a"), ev("y", "a")]), [[0, 1]]);
    // `max_samples_per_key`: more samples of a key, events reused across them.
    let mut rule = Rule::from_eql(eql, None);
    rule.params.max_samples_per_key = Some(2);
    let mut e = Engine::new(rule, Limits::default()).unwrap();
    let three = [ev("network", "a"), ev("network", "a"), ev("process", "a")];
    assert_eq!(common::run_indexed(&mut e, &three), [[0, 2], [1, 2]]);
    // An optional key takes part when null; a plain one does not.
    let events = [
        json!({"event": {"category": "network"}}),
        json!({"event": {"category": "process"}}),
    ];
    assert!(ids(eql, &events).is_empty());
    assert_eq!(
        ids(
            "sample by ?host [network where true] [process where true]",
            &events
        ),
        [[0, 1]]
    );
}

#[test]
fn a_tiebreaker_orders_events_of_the_same_time() {
    let mut rule = Rule::from_eql(
        r#"sequence [process where kind == "a"] [process where kind == "b"]"#,
        None,
    );
    rule.params.tiebreaker_field = Some("serial".into());
    let ev = |kind: &str, serial: Option<i64>| {
        let mut e = json!({"@timestamp": "2026-01-01T00:00:00Z", "event": {"category": "process"}, "kind": kind});
        if let Some(s) = serial {
            e["serial"] = json!(s);
        }
        e.to_string()
    };
    let run = |events: &[String]| {
        let mut e = Engine::new(rule.clone(), Limits::default()).unwrap();
        for ev in events {
            e.push(ev.as_bytes()).unwrap();
        }
        e.flush();
        e.drain().len()
    };
    // Same time: `b` comes after `a` only if its tiebreaker is larger.
    assert_eq!(run(&[ev("a", Some(1)), ev("b", Some(2))]), 1);
    assert_eq!(run(&[ev("a", Some(2)), ev("b", Some(1))]), 0);
    // A missing tiebreaker sorts after any value.
    assert_eq!(run(&[ev("a", Some(5)), ev("b", None)]), 1);
    assert_eq!(run(&[ev("a", None), ev("b", Some(5))]), 0);
}
