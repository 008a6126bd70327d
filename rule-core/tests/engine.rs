//! The engine as a host drives it: bad input, limits, time.

use rule_core::{Engine, ErrorKind, Limits, PushError, Rule};
use serde_json::{json, Value};

fn net(id: &str, ms: i64, entity: &str) -> String {
    json!({
        "@timestamp": ms, "event": {"id": id, "category": ["network"], "type": ["start"], "action": "connection_attempted"},
        "host": {"id": "h", "os": {"type": "linux"}}, "process": {"entity_id": entity, "executable": "/tmp/a", "name": "a"},
        "destination": {"ip": "8.8.8.8"}
    })
    .to_string()
}

fn file(id: &str, ms: i64, entity: &str) -> String {
    json!({
        "@timestamp": ms, "event": {"id": id, "category": ["file"], "type": ["creation"], "action": "creation"},
        "host": {"id": "h", "os": {"type": "linux"}}, "process": {"entity_id": entity, "executable": "/tmp/a", "name": "a"},
        "file": {"path": "/tmp/x.sh", "name": "x.sh", "extension": "sh"}
    })
    .to_string()
}

fn ids(engine: &mut Engine) -> Vec<Vec<String>> {
    engine
        .drain()
        .iter()
        .map(|a| {
            let doc: Value = serde_json::from_str(a.as_str()).unwrap();
            doc["Events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["event"]["id"].as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

fn engine(limits: Limits) -> Engine {
    Engine::new(Rule::embedded(), limits).unwrap()
}

const T: i64 = 1_795_332_781_000;

#[test]
fn bad_input_is_refused_counted_and_leaves_state_intact() {
    let mut e = engine(Limits {
        max_event_bytes: 4096,
        ..Limits::default()
    });
    e.push(net("a", T, "p").as_bytes()).unwrap();
    let huge = format!("{{\"x\":\"{}\"}}", "y".repeat(5000));
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bad: Vec<(Vec<u8>, ErrorKind)> = vec![
        (b"".to_vec(), ErrorKind::Empty),
        (b"   \n".to_vec(), ErrorKind::Empty),
        (b"{not json".to_vec(), ErrorKind::InvalidJson),
        (deep.into_bytes(), ErrorKind::TooLarge),
        // Deep nesting under a field the rule reads meets serde_json's recursion limit;
        // under any other key it is skipped without recursion, and is valid JSON.
        (
            format!(
                "{{\"process\":{{\"name\":{}1{}}}}}",
                "[".repeat(1000),
                "]".repeat(1000)
            )
            .into_bytes(),
            ErrorKind::InvalidJson,
        ),
        (
            format!("{{\"other\":{}1{}}}", "[".repeat(1000), "]".repeat(1000)).into_bytes(),
            ErrorKind::MissingTimestamp,
        ),
        (b"[1,2]".to_vec(), ErrorKind::NotAnObject),
        (b"\"str\"".to_vec(), ErrorKind::NotAnObject),
        (b"{\"a\":\"\xff\"}".to_vec(), ErrorKind::InvalidUtf8),
        (huge.into_bytes(), ErrorKind::TooLarge),
        (
            br#"{"@timestamp": 1, "process": {"executable": {"nested": 1}}}"#.to_vec(),
            ErrorKind::WrongType,
        ),
        (
            br#"{"@timestamp": 1, "process": "flat"}"#.to_vec(),
            ErrorKind::WrongType,
        ),
        (
            br#"{"@timestamp": 1, "destination": {"ip": "1.2.3.999"}}"#.to_vec(),
            ErrorKind::MalformedIp,
        ),
        (
            br#"{"@timestamp": 1, "destination": {"ip": 17}}"#.to_vec(),
            ErrorKind::MalformedIp,
        ),
        (
            br#"{"event": {"id": "x"}}"#.to_vec(),
            ErrorKind::MissingTimestamp,
        ),
        (
            br#"{"@timestamp": "yesterday"}"#.to_vec(),
            ErrorKind::BadTimestamp,
        ),
        (
            br#"{"@timestamp": 1} trailing"#.to_vec(),
            ErrorKind::InvalidJson,
        ),
    ];
    for (input, kind) in &bad {
        let err = e.push(input).expect_err("refused");
        assert_eq!(
            err.kind(),
            *kind,
            "{:?}: {err}",
            String::from_utf8_lossy(&input[..input.len().min(60)])
        );
        assert!(err.code() < 0);
        assert!(!err.to_string().is_empty());
    }
    let stats = e.stats();
    assert_eq!(stats.errors.total(), bad.len() as u64);
    assert_eq!(stats.errors.get(ErrorKind::InvalidJson), 3);
    assert_eq!(stats.errors.get(ErrorKind::MissingTimestamp), 2);
    assert_eq!(stats.events, 1, "refused events are not taken");
    assert_eq!(stats.pending_sequences, 1, "the pending sequence survives");
    e.push(file("b", T + 1000, "p").as_bytes()).unwrap();
    assert_eq!(ids(&mut e), vec![vec!["a", "b"]]);
}

#[test]
fn error_messages_say_what_and_where() {
    let mut e = engine(Limits::default());
    let err = e
        .push(br#"{"@timestamp": 1, "destination": {"ip": "10.0.0.999"}}"#)
        .unwrap_err();
    assert_eq!(
        err,
        PushError::MalformedIp {
            field: "destination.ip".into(),
            value: "10.0.0.999".into()
        }
    );
    let err = e.push(b"{\"a\": }").unwrap_err();
    assert!(err.to_string().contains("line 1 column 7"), "{err}");
    let err = e
        .push(br#"{"@timestamp": 1, "process": {"executable": [1, {"a": 1}]}}"#)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "field `process.executable` must be a keyword (string)"
    );
}

#[test]
fn fallback_time_stands_in_for_a_missing_timestamp() {
    let mut e = engine(Limits::default());
    let mut n: Value = serde_json::from_str(&net("a", T, "p")).unwrap();
    n.as_object_mut().unwrap().remove("@timestamp");
    e.push_with_fallback_time(n.to_string().as_bytes(), T)
        .unwrap();
    e.push(file("b", T + 10, "p").as_bytes()).unwrap();
    assert_eq!(ids(&mut e), vec![vec!["a", "b"]]);
}

#[test]
fn a_full_alert_buffer_pushes_back_without_consuming() {
    let mut e = engine(Limits {
        max_buffered_alerts: 1,
        ..Limits::default()
    });
    e.push(net("a", T, "p").as_bytes()).unwrap();
    assert_eq!(e.push(file("b", T + 1, "p").as_bytes()), Ok(1));
    e.push(net("c", T + 2, "q").as_bytes())
        .expect_err("buffer is full");
    assert_eq!(
        e.push(net("c", T + 2, "q").as_bytes()),
        Err(PushError::BackPressure)
    );
    assert_eq!(e.stats().events, 2);
    assert_eq!(e.stats().errors.get(ErrorKind::BackPressure), 2);
    assert_eq!(
        e.push_ndjson(net("c", T + 2, "q").as_bytes()),
        Err(PushError::BackPressure)
    );
    assert_eq!(ids(&mut e), vec![vec!["a", "b"]]);
    e.push(net("c", T + 2, "q").as_bytes()).unwrap();
    e.push(file("d", T + 3, "q").as_bytes()).unwrap();
    assert_eq!(ids(&mut e), vec![vec!["c", "d"]]);
}

#[test]
fn the_oldest_pending_sequence_is_evicted_at_the_limit() {
    let mut e = engine(Limits {
        max_pending_sequences: 2,
        ..Limits::default()
    });
    for (i, p) in ["p1", "p2", "p3"].iter().enumerate() {
        e.push(net(&format!("n{i}"), T + i as i64, p).as_bytes())
            .unwrap();
    }
    let s = e.stats();
    assert_eq!((s.pending_sequences, s.evictions), (2, 1));
    e.push(file("f1", T + 10, "p1").as_bytes()).unwrap();
    e.push(file("f3", T + 11, "p3").as_bytes()).unwrap();
    assert_eq!(ids(&mut e), vec![vec!["n2", "f3"]]);
}

#[test]
fn state_bytes_are_bounded_too() {
    let one = net("n0", T, "p0").len() as u64;
    let mut e = engine(Limits {
        max_state_bytes: 3 * 1024,
        ..Limits::default()
    });
    for i in 0..50 {
        e.push(net(&format!("n{i}"), T + i, &format!("p{i}")).as_bytes())
            .unwrap();
    }
    let s = e.stats();
    assert!(s.state_bytes <= 3 * 1024, "{s:?}");
    assert!(s.state_bytes >= one, "{s:?}");
    assert_eq!(s.pending_sequences + s.evictions, 50);
}

#[test]
fn sequences_expire_with_event_time_and_host_ticks() {
    let mut e = engine(Limits::default());
    e.push(net("a", T, "p").as_bytes()).unwrap();
    e.push(net("b", T + 5000, "q").as_bytes()).unwrap();
    assert_eq!(
        e.stats().pending_sequences,
        2,
        "exactly maxspan later, `a` can still complete"
    );
    e.push(net("c", T + 5001, "r").as_bytes()).unwrap();
    assert_eq!((e.stats().pending_sequences, e.stats().expired), (2, 1));
    e.advance_time(T + 20_000);
    assert_eq!((e.stats().pending_sequences, e.stats().expired), (0, 3));
    e.push(file("f", T + 20_001, "r").as_bytes()).unwrap();
    assert!(ids(&mut e).is_empty());
}

#[test]
fn the_reorder_window_puts_late_events_in_order() {
    // The file event arrives before the network event it follows.
    let mut e = engine(Limits {
        reorder_window_ms: 2000,
        ..Limits::default()
    });
    e.push(file("b", T + 1500, "p").as_bytes()).unwrap();
    e.push(net("a", T + 1000, "p").as_bytes()).unwrap();
    assert!(ids(&mut e).is_empty(), "held by the window");
    assert_eq!(e.stats().reorder_held, 2);
    assert_eq!(e.flush(), 1);
    assert_eq!(ids(&mut e), vec![vec!["a", "b"]]);
    assert_eq!(e.stats().late_events, 0);

    // Released by event time: a later event moves the window on.
    let mut e = engine(Limits {
        reorder_window_ms: 2000,
        ..Limits::default()
    });
    e.push(file("b", T + 1500, "p").as_bytes()).unwrap();
    e.push(net("a", T + 1000, "p").as_bytes()).unwrap();
    e.push(net("z", T + 3500, "other").as_bytes()).unwrap();
    assert_eq!(ids(&mut e), vec![vec!["a", "b"]]);
    e.advance_time(T + 6000);
    assert_eq!(e.stats().reorder_held, 0);

    // Without a window the same stream is out of order: the late network
    // event is counted and matched on arrival, and cannot precede `b`.
    let mut e = engine(Limits::default());
    e.push(file("b", T + 1500, "p").as_bytes()).unwrap();
    e.push(net("a", T + 1000, "p").as_bytes()).unwrap();
    e.flush();
    assert!(ids(&mut e).is_empty());
    assert_eq!(e.stats().late_events, 1);
}

#[test]
fn batches_report_bad_lines_and_take_the_rest() {
    let mut e = engine(Limits::default());
    let batch = format!(
        "{}\n\nnot json\n{{\"@timestamp\":1,\"destination\":{{\"ip\":\"x\"}}}}\n{}\n",
        net("a", T, "p"),
        file("b", T + 1, "p")
    );
    let report = e.push_ndjson(batch.as_bytes()).unwrap();
    assert_eq!(report.taken, 2);
    assert_eq!(report.alerts_pending, 1);
    let lines: Vec<(usize, ErrorKind)> = report
        .refused
        .iter()
        .map(|(n, err)| (*n, err.kind()))
        .collect();
    assert_eq!(
        lines,
        vec![(3, ErrorKind::InvalidJson), (4, ErrorKind::MalformedIp)]
    );
    assert_eq!(ids(&mut e), vec![vec!["a", "b"]]);
}

/// `push_ndjson` finds its lines with memchr: the same lines, numbers and
/// events as pushing each piece of `split(b'\n')` in turn, whatever the
/// line ends (CRLF, none at the end, blank and whitespace-only lines).
#[test]
fn batches_split_lines_as_split_on_newline_does() {
    let (a, b) = (net("a", T, "p"), file("b", T + 1, "p"));
    let batches = [
        String::new(),
        "\n".into(),
        "\n\n \t\r\n".into(),
        a.clone(),
        format!("{a}\n{b}"),
        format!("{a}\r\n{b}\r\n"),
        format!("\n\n{a}\n  \nnot json\r\n{b}"),
        format!("{a}\n\n\n{b}\n\n"),
    ];
    for batch in &batches {
        let mut batched = engine(Limits::default());
        let report = batched.push_ndjson(batch.as_bytes()).unwrap();
        let mut one_by_one = engine(Limits::default());
        let (mut taken, mut refused) = (0, Vec::new());
        for (n, line) in batch.as_bytes().split(|&b| b == b'\n').enumerate() {
            if line.trim_ascii().is_empty() {
                continue;
            }
            match one_by_one.push(line) {
                Ok(_) => taken += 1,
                Err(e) => refused.push((n + 1, e.kind())),
            }
        }
        let kinds: Vec<(usize, ErrorKind)> =
            report.refused.iter().map(|(n, e)| (*n, e.kind())).collect();
        assert_eq!((report.taken, kinds), (taken, refused), "{batch:?}");
        assert_eq!(
            batched.stats().events,
            one_by_one.stats().events,
            "{batch:?}"
        );
        batched.flush();
        one_by_one.flush();
        assert_eq!(ids(&mut batched), ids(&mut one_by_one), "{batch:?}");
    }
    // The CRLF batch and the one without a final newline alert.
    let mut e = engine(Limits::default());
    let report = e.push_ndjson(format!("{a}\r\n{b}").as_bytes()).unwrap();
    assert_eq!((report.taken, report.refused.len()), (2, 0));
    assert_eq!(ids(&mut e), vec![vec!["a", "b"]]);
}

#[test]
fn events_are_kept_exactly_as_pushed() {
    let mut e = engine(Limits::default());
    let a = format!(
        "  {}\r\n",
        net("a", T, "p").replace(",\"host\"", ",  \"zz\":[1, 2.50, {\"k\":null}],\"host\"")
    );
    e.push(a.as_bytes()).unwrap();
    let b = file("b", T + 1, "p");
    e.push(b.as_bytes()).unwrap();
    let alert = e.drain().remove(0).into_string();
    let expected = format!(",\"Events\":[{},{}]}}", a.trim(), b);
    assert!(alert.ends_with(&expected), "{alert}");
    let doc: Value = serde_json::from_str(&alert).unwrap();
    assert_eq!(doc["host"]["id"], "h");
    assert_eq!(doc["process"]["entity_id"], "p");
    assert_eq!(doc["@timestamp"], "2026-11-22T07:33:01.001Z");
    assert_eq!(doc["rule"]["id"], "01c1e353-9d86-4344-abdf-523ab80c6f08");
    assert_eq!(doc["threat"][0]["tactic"]["id"], "TA0011");
    assert_eq!(doc["event"]["kind"], "alert");
}

#[test]
fn explain_says_which_predicate_decided_and_why() {
    let e = engine(Limits::default());
    let mut f: Value = serde_json::from_str(&file("b", T, "p")).unwrap();
    f["file"] = json!({"path": "/tmp/x.tmp", "extension": "tmp"});
    let x = e.explain(f.to_string().as_bytes()).unwrap();
    assert_eq!(x.timestamp, Some(T));
    assert!(!x.stages[0].passes, "a file event is not a network event");
    assert!(!x.stages[1].passes, "excluded by its extension");
    let doc = serde_json::to_value(&x).unwrap();
    let leaves = |v: &Value| -> Vec<Value> {
        fn walk(v: &Value, out: &mut Vec<Value>) {
            match v.get("node").and_then(Value::as_str) {
                Some("leaf") => out.push(v.clone()),
                _ => {
                    for child in v
                        .get("children")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        walk(child, out);
                    }
                    if let Some(c) = v.get("child") {
                        walk(c, out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(v, &mut out);
        out
    };
    let file_stage = leaves(&doc["stages"][1]["filter"]);
    let ext = file_stage
        .iter()
        .find(|l| l["field"] == "file.extension")
        .unwrap();
    assert_eq!(ext["outcome"], "true");
    assert_eq!(ext["values"], json!(["tmp"]));
    assert_eq!(
        ext["test"],
        r#"file.extension in ("sqlite-journal", "db-journal", "lockfile", "tmp")"#
    );
    let name = file_stage
        .iter()
        .find(|l| l["field"] == "file.name")
        .unwrap();
    assert_eq!(name["outcome"], "missing");
    assert_eq!(name["test"], r#"file.name like "tmp*""#);
    let category = leaves(&doc["stages"][0]["filter"])
        .into_iter()
        .find(|l| l["field"] == "event.category")
        .unwrap();
    assert_eq!(
        (category["outcome"].clone(), category["values"].clone()),
        (json!("false"), json!(["file"]))
    );
    assert_eq!(
        doc["stages"][1]["join_keys"][0],
        json!({"field": "host.id", "values": ["h"]})
    );
    assert_eq!(e.stats().events, 0, "explaining takes nothing");
    assert!(matches!(e.explain(b"[]"), Err(PushError::NotAnObject)));
}

/// A later stage is judged only while a sequence waits for it: a file
/// event before any network event neither counts nor alerts, one after
/// does both; with a reorder window every stage is judged, since a
/// later-ordered event may still start the sequence it would extend.
#[test]
fn a_later_stage_is_judged_only_while_a_sequence_waits_for_it() {
    let mut e = engine(Limits::default());
    e.push(file("f0", T, "p").as_bytes()).unwrap();
    assert_eq!(e.stats().stage_matches, vec![0, 0]);
    e.push(net("n1", T + 1000, "p").as_bytes()).unwrap();
    e.push(file("f1", T + 2000, "p").as_bytes()).unwrap();
    assert_eq!(e.stats().stage_matches, vec![1, 1]);
    assert_eq!(ids(&mut e), vec![vec!["n1", "f1"]]);
    // The sequence is done: nothing waits, the next file event is not judged.
    e.push(file("f2", T + 3000, "p").as_bytes()).unwrap();
    assert_eq!(e.stats().stage_matches, vec![1, 1]);

    let mut held = engine(Limits {
        reorder_window_ms: 5000,
        ..Limits::default()
    });
    held.push(file("f1", T + 2000, "p").as_bytes()).unwrap();
    held.push(net("n1", T + 1000, "p").as_bytes()).unwrap();
    assert_eq!(held.stats().stage_matches, vec![1, 1]);
    held.flush();
    assert_eq!(ids(&mut held), vec![vec!["n1", "f1"]]);
}
