//! The filter logic in process; the module itself, under a host that calls
//! it as Fluent Bit does, is tested in `tests/tests/fluent_bit.rs`.

use super::*;

const COMMON: &str = r#""host":{"id":"h1","os":{"type":"linux"}},"process":{"entity_id":"p1","executable":"/tmp/agent","name":"agent"}"#;

fn network(ts: Option<&str>) -> String {
    let ts = ts
        .map(|t| format!(r#""@timestamp":"{t}","#))
        .unwrap_or_default();
    format!(
        r#"{{{ts}{COMMON},"event":{{"category":["network"],"type":["start"],"action":"connection_attempted"}},"destination":{{"ip":"203.0.114.7"}}}}"#
    )
}

fn file(ts: Option<&str>) -> String {
    let ts = ts
        .map(|t| format!(r#""@timestamp":"{t}","#))
        .unwrap_or_default();
    format!(
        r#"{{{ts}{COMMON},"event":{{"category":["file"],"type":["creation"],"action":"creation"}},"file":{{"path":"/tmp/task.sh","name":"task.sh","extension":"sh"}}}}"#
    )
}

/// The reply without its NUL, as text.
fn text(reply: &[u8]) -> String {
    let (last, body) = reply.split_last().expect("a reply has its NUL");
    assert_eq!(*last, 0, "a reply ends with NUL");
    assert!(!body.contains(&0), "no NUL inside a reply");
    String::from_utf8(body.to_vec()).expect("UTF-8")
}

fn call(f: &mut Filter, mode: Mode, record: &str) -> String {
    text(f.call(mode, 1_700_000_000, 0, Record::Bytes(record.as_bytes())))
}

/// The alerts the native engine gives for the same records.
fn native(records: &[&str]) -> Vec<String> {
    let mut e = Engine::with_embedded_rule();
    records
        .iter()
        .flat_map(|r| {
            e.push_with_fallback_time(r.as_bytes(), record_time_ms(1_700_000_000, 0))
                .expect("taken");
            e.drain().into_iter().map(Alert::into_string)
        })
        .collect()
}

#[test]
fn pass_through_adds_alerts_to_the_completing_record_only() {
    let (n, fl) = (
        network(Some("2026-11-22T07:33:01Z")),
        file(Some("2026-11-22T07:33:02Z")),
    );
    let mut f = Filter::new();
    assert_eq!(call(&mut f, Mode::PassThrough, &n), n);
    let out = call(&mut f, Mode::PassThrough, &fl);
    let alerts = native(&[&n, &fl]);
    assert_eq!(alerts.len(), 1);
    let expected = format!(
        "{},\"alerts\":[{}]}}",
        &fl[..fl.len() - 1],
        alerts.join(",")
    );
    assert_eq!(out, expected);
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(v["alerts"].as_array().map(Vec::len), Some(1));
    assert_eq!(f.counters().alerts, 1);
}

#[test]
fn alerts_only_drops_other_records_and_carries_every_alert() {
    let n = network(Some("2026-11-22T07:33:01Z"));
    // Two file events, each completing: the first consumes the network
    // event, so only one alert; a second network event opens another.
    let fl = file(Some("2026-11-22T07:33:02Z"));
    let mut f = Filter::new();
    assert_eq!(call(&mut f, Mode::AlertsOnly, &n), "");
    let out = call(&mut f, Mode::AlertsOnly, &fl);
    assert_eq!(
        out,
        format!("{{\"alerts\":[{}]}}", native(&[&n, &fl]).join(","))
    );
    assert_eq!(call(&mut f, Mode::AlertsOnly, &fl), "");
}

#[test]
fn record_time_stands_in_for_a_missing_timestamp() {
    let (n, fl) = (network(None), file(None));
    let mut f = Filter::new();
    assert_eq!(
        text(f.call(Mode::AlertsOnly, 100, 0, Record::Bytes(n.as_bytes()))),
        ""
    );
    // 6 s later: past maxspan (5 s), no alert.
    assert_eq!(
        text(f.call(Mode::AlertsOnly, 106, 0, Record::Bytes(fl.as_bytes()))),
        ""
    );
    let mut f = Filter::new();
    f.call(Mode::AlertsOnly, 100, 0, Record::Bytes(n.as_bytes()));
    let out = text(f.call(
        Mode::AlertsOnly,
        104,
        999_999_999,
        Record::Bytes(fl.as_bytes()),
    ));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["alerts"][0]["@timestamp"], "1970-01-01T00:01:44.999Z");
    assert_eq!(f.counters().refused, 0);
}

#[test]
fn records_nested_past_fluent_bits_depth_are_refused_before_the_engine() {
    // `destination.ip` in `arrays` arrays: the record nests arrays + 2.
    let nested = |arrays: usize, ts: &str| {
        let ip = format!(
            "{}\"203.0.114.7\"{}",
            "[".repeat(arrays),
            "]".repeat(arrays)
        );
        network(Some(ts)).replace("\"203.0.114.7\"", &ip)
    };
    assert!(!nests_deeper_than(
        nested(57, "x").as_bytes(),
        MAX_RECORD_DEPTH
    ));
    assert!(nests_deeper_than(
        nested(58, "x").as_bytes(),
        MAX_RECORD_DEPTH
    ));
    // Brackets inside strings are text.
    assert!(!nests_deeper_than(br#"{"a":"[[[[\"{{{{"}"#, 2));
    assert!(nests_deeper_than(br#"{"a":"\\",[[1]]}"#, 2));

    let mut f = Filter::new();
    let (deepest, deeper) = (
        nested(57, "2026-11-22T07:33:01Z"),
        nested(58, "2026-11-22T07:33:01Z"),
    );
    assert_eq!(call(&mut f, Mode::PassThrough, &deeper), deeper);
    assert_eq!(f.counters().too_deep, 1);
    assert_eq!(f.engine().stats().events, 0, "the engine never saw it");
    // The deepest record taken completes a sequence whose reply nests
    // exactly FLUENT_BIT_MAX_DEPTH levels.
    call(&mut f, Mode::AlertsOnly, &deepest);
    let out = call(
        &mut f,
        Mode::AlertsOnly,
        &file(Some("2026-11-22T07:33:02Z")),
    );
    assert!(!nests_deeper_than(out.as_bytes(), FLUENT_BIT_MAX_DEPTH));
    assert!(nests_deeper_than(out.as_bytes(), FLUENT_BIT_MAX_DEPTH - 1));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["alerts"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["rule_refused"]["total"], 1);
    assert_eq!(v["rule_refused"]["too_deep"], 1);
    assert!(v["rule_refused"]["last"]
        .as_str()
        .unwrap()
        .contains("59 levels"));
}

#[test]
fn refused_records_pass_unchanged_and_are_counted_on_the_next_reply() {
    let bad = r#"{"@timestamp":"2026-11-22T07:33:00Z","destination":{"ip":"10.0.0.999"},"event":{"category":"network"}}"#;
    let mut f = Filter::new();
    assert_eq!(call(&mut f, Mode::PassThrough, bad), bad);
    assert_eq!(call(&mut f, Mode::AlertsOnly, bad), "");
    assert_eq!(f.counters().refused, 2);
    let n = network(Some("2026-11-22T07:33:01Z"));
    let fl = file(Some("2026-11-22T07:33:02Z"));
    call(&mut f, Mode::AlertsOnly, &n);
    let out = call(&mut f, Mode::AlertsOnly, &fl);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["rule_refused"]["total"], 2);
    assert_eq!(v["rule_refused"]["malformed_ip"], 2);
    assert!(v["rule_refused"]["last"]
        .as_str()
        .unwrap()
        .contains("10.0.0.999"));
    let stats: serde_json::Value = serde_json::from_str(&text(f.stats_json())).expect("stats JSON");
    assert_eq!(stats["filter"]["refused"], 2);
    assert_eq!(stats["engine"]["errors"]["malformed_ip"], 2);
}

#[test]
fn a_null_record_is_answered_with_a_kept_error_marker() {
    let mut f = Filter::new();
    for mode in [Mode::PassThrough, Mode::AlertsOnly] {
        let out = text(f.call(mode, 0, 0, Record::Null { len: 9000 }));
        let v: serde_json::Value = serde_json::from_str(&out).expect("JSON object");
        assert_eq!(v["rule_error"], "null_record");
        assert!(v["message"].as_str().unwrap().contains("9000 bytes"));
    }
    let out = text(f.call(
        Mode::PassThrough,
        0,
        0,
        Record::OutOfBounds {
            ptr: 70_000,
            len: 10,
            memory_bytes: 65_536,
        },
    ));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON object");
    assert_eq!(v["rule_error"], "bad_pointer");
    assert_eq!(v["rule_refused"]["total"], 3);
    assert_eq!(v["rule_refused"]["null_record"], 2);
    assert_eq!(f.counters().records, 3);
}

#[test]
fn nul_terminators_are_stripped_and_white_space_kept() {
    assert_eq!(strip_nul(b"{}\0"), b"{}");
    assert_eq!(strip_nul(b"{}\0\0"), b"{}");
    assert_eq!(strip_nul(b""), b"");
    let n = network(Some("2026-11-22T07:33:01Z"));
    let fl = format!(" {} \n", file(Some("2026-11-22T07:33:02Z")));
    let mut f = Filter::new();
    let with_nul = format!("{n}\0");
    assert_eq!(call(&mut f, Mode::PassThrough, &with_nul), n);
    let out = call(&mut f, Mode::PassThrough, &fl);
    assert!(out.starts_with(' ') && out.ends_with("]} \n"), "{out:?}");
    serde_json::from_str::<serde_json::Value>(&out).expect("JSON");
}

#[test]
fn garbage_never_panics() {
    let mut f = Filter::new();
    for input in [
        &b""[..],
        b"\0",
        b"{",
        b"}",
        b"[1,2]",
        b"\xff\xfe",
        b"{\"@timestamp\":{}}",
        b"null",
    ] {
        for mode in [Mode::PassThrough, Mode::AlertsOnly] {
            let reply = f
                .call(mode, u32::MAX, u32::MAX, Record::Bytes(input))
                .to_vec();
            assert_eq!(reply.last(), Some(&0));
            if mode == Mode::PassThrough {
                assert_eq!(&reply[..reply.len() - 1], strip_nul(input));
            } else {
                assert_eq!(reply, b"\0");
            }
        }
    }
}

#[test]
fn record_time_is_unsigned_and_in_milliseconds() {
    assert_eq!(record_time_ms(0, 0), 0);
    assert_eq!(record_time_ms(1, 999_999_999), 1999);
    assert_eq!(record_time_ms(u32::MAX, 0), i64::from(u32::MAX) * 1000);
}

#[test]
fn long_messages_are_cut() {
    let mut f = Filter::new();
    f.set_last(format_args!("{}", "é".repeat(1000)));
    f.counters.refused = 1;
    let summary = f.refused_summary();
    let v: serde_json::Value = serde_json::from_str(&summary).expect("JSON");
    let last = v["last"].as_str().unwrap();
    assert!(
        last.ends_with('…') && last.len() <= MAX_MESSAGE_BYTES + '…'.len_utf8(),
        "{last}"
    );
}

#[test]
fn alerts_of_a_reply_that_could_not_be_allocated_go_out_with_the_next() {
    let n = network(Some("2026-11-22T07:33:01Z"));
    let fl = file(Some("2026-11-22T07:33:02Z"));
    let other = network(Some("2026-11-22T07:33:03Z")).replace("\"p1\"", "\"p2\"");
    let alert = native(&[&n, &fl]).remove(0);

    // alerts_only: the next record's reply carries the alert.
    let mut f = Filter::new();
    call(&mut f, Mode::AlertsOnly, &n);
    f.fail_next_reply = true;
    let out = call(&mut f, Mode::AlertsOnly, &fl);
    assert!(
        out.starts_with("{\"rule_error\":\"out_of_memory\""),
        "{out}"
    );
    let out = call(&mut f, Mode::AlertsOnly, &other);
    assert_eq!(
        out,
        format!("{{\"alerts\":[{alert}],\"rule_refused\":{{\"total\":0,\"out_of_memory\":1}}}}")
    );
    assert_eq!(f.counters().alerts, 1);

    // pass_through: not on a refused record (it goes on unchanged), on the
    // next record the engine takes.
    let bad = r#"{"@timestamp":"2026-11-22T07:33:03Z","destination":{"ip":"x"},"event":{"category":"network"}}"#;
    let mut f = Filter::new();
    call(&mut f, Mode::PassThrough, &n);
    f.fail_next_reply = true;
    call(&mut f, Mode::PassThrough, &fl);
    assert_eq!(call(&mut f, Mode::PassThrough, bad), bad);
    let out = call(&mut f, Mode::PassThrough, &other);
    assert!(
        out.starts_with(&format!(
            "{},\"alerts\":[{alert}]",
            &other[..other.len() - 1]
        )),
        "{out}"
    );

    // A lost record's marker carries them too.
    let mut f = Filter::new();
    call(&mut f, Mode::AlertsOnly, &n);
    f.fail_next_reply = true;
    call(&mut f, Mode::AlertsOnly, &fl);
    let out = text(f.call(Mode::AlertsOnly, 0, 0, Record::Null { len: 1 }));
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["rule_error"], "null_record");
    assert_eq!(v["alerts"].as_array().map(Vec::len), Some(1));
    assert_eq!(f.counters().alerts, 1);
}
