//! Bad input gets its documented code and a message naming what was wrong
//! and where, in both backends alike, and leaves the engine's state as it
//! was: a sequence opened before the bad input still completes after it.

use host_harness::{Detector, HostError};
use tests::{alert_event_ids, all_backends, drain_lines, file_event, network_event, wasm};

const T0: &str = "2024-05-01T10:00:00.000Z";
const T1: &str = "2024-05-01T10:00:01.000Z";

struct Bad {
    what: &'static str,
    input: Vec<u8>,
    code: i32,
    /// Each must appear in the message.
    says: Vec<&'static str>,
}

fn bad_inputs() -> Vec<Bad> {
    let mut wrong_type: serde_json::Value =
        serde_json::from_str(&file_event("w1", "e1", T1)).unwrap();
    wrong_type["process"]["executable"] = serde_json::json!({"path": "/tmp/implant"});
    let mut bad_ip: serde_json::Value =
        serde_json::from_str(&network_event("i1", "e1", T1)).unwrap();
    bad_ip["destination"]["ip"] = serde_json::json!("93.184.216.999");
    let mut no_ts: serde_json::Value =
        serde_json::from_str(&network_event("t1", "e1", T1)).unwrap();
    no_ts.as_object_mut().unwrap().remove("@timestamp");
    let mut bad_ts: serde_json::Value =
        serde_json::from_str(&network_event("t2", "e1", T1)).unwrap();
    bad_ts["@timestamp"] = serde_json::json!("yesterday");
    let mut huge = br#"{"@timestamp": "2024-05-01T10:00:01.000Z", "pad": ""#.to_vec();
    huge.resize(10 << 20, b'a');
    huge.extend_from_slice(b"\"}");
    vec![
        Bad {
            what: "not JSON",
            input: br#"{"event": {"id": "x"#.to_vec(),
            code: -4,
            says: vec!["invalid JSON", "line 1", "column"],
        },
        Bad {
            what: "not an object",
            input: br#"["network", "file"]"#.to_vec(),
            code: -5,
            says: vec!["not an object"],
        },
        Bad {
            what: "invalid UTF-8",
            input: b"{\"event\": {\"id\": \"\xff\xfe\"}}".to_vec(),
            code: -3,
            says: vec!["invalid UTF-8", "byte 18"],
        },
        Bad {
            what: "a 10 MB event",
            input: huge,
            code: -2,
            says: vec!["larger than the limit", "1048576"],
        },
        Bad {
            what: "an object where process.executable is a keyword",
            input: wrong_type.to_string().into_bytes(),
            code: -6,
            says: vec!["process.executable"],
        },
        Bad {
            what: "a malformed destination.ip",
            input: bad_ip.to_string().into_bytes(),
            code: -7,
            says: vec!["destination.ip", "93.184.216.999"],
        },
        Bad {
            what: "an empty line",
            input: Vec::new(),
            code: -1,
            says: vec!["empty"],
        },
        Bad {
            what: "white space only",
            input: b" \t\r\n".to_vec(),
            code: -1,
            says: vec!["empty"],
        },
        Bad {
            what: "no @timestamp",
            input: no_ts.to_string().into_bytes(),
            code: -8,
            says: vec!["@timestamp"],
        },
        Bad {
            what: "a bad @timestamp",
            input: bad_ts.to_string().into_bytes(),
            code: -9,
            says: vec!["@timestamp", "yesterday"],
        },
    ]
}

#[test]
fn each_bad_input_gets_its_code_and_message_and_the_state_survives() {
    for bad in bad_inputs() {
        let mut messages = Vec::new();
        for mut d in all_backends() {
            let backend = d.backend();
            assert_eq!(
                d.push_event(network_event("n1", "e1", T0).as_bytes())
                    .unwrap(),
                0
            );
            match d.push_event(&bad.input) {
                Err(HostError::Refused { code, message }) => {
                    assert_eq!(code, bad.code, "{backend}, {}: {message}", bad.what);
                    for s in &bad.says {
                        assert!(
                            message.contains(s),
                            "{backend}, {}: message lacks {s:?}: {message}",
                            bad.what
                        );
                    }
                    assert!(
                        message.len() <= 1100,
                        "{backend}, {}: message too long",
                        bad.what
                    );
                    messages.push(message);
                }
                other => panic!(
                    "{backend}, {}: expected code {}, got {other:?}",
                    bad.what, bad.code
                ),
            }
            let pending = d.push_event(file_event("f1", "e1", T1).as_bytes()).unwrap();
            assert_eq!(
                pending, 1,
                "{backend}, after {}: the pending sequence completes",
                bad.what
            );
            let alerts = drain_lines(&mut *d);
            assert_eq!(alerts.len(), 1);
            assert_eq!(
                alert_event_ids(&alerts[0]),
                ["n1", "f1"],
                "{backend}, after {}",
                bad.what
            );
            let stats: serde_json::Value = serde_json::from_str(&d.stats().unwrap()).unwrap();
            assert_eq!(
                stats["events"], 2,
                "{backend}, {}: only the good events count",
                bad.what
            );
        }
        assert_eq!(
            messages[0], messages[1],
            "{}: wasm and native say the same",
            bad.what
        );
        assert_eq!(
            messages[0], messages[2],
            "{}: the module and the component say the same",
            bad.what
        );
    }
}

#[test]
fn a_refused_event_is_counted_by_kind() {
    let mut d = wasm();
    let _ = d.push_event(b"nope");
    let _ = d.push_event(b"[]");
    let _ = d.push_event(b"");
    let stats: serde_json::Value = serde_json::from_str(&d.stats().unwrap()).unwrap();
    assert_eq!(stats["errors"]["invalid_json"], 1, "{stats}");
    assert_eq!(stats["errors"]["not_an_object"], 1, "{stats}");
    assert_eq!(stats["errors"]["empty"], 1, "{stats}");
    assert_eq!(stats["events"], 0, "{stats}");
}

#[test]
fn a_batch_with_bad_lines_takes_the_good_ones() {
    let mut wrong_type: serde_json::Value =
        serde_json::from_str(&file_event("w1", "e1", T1)).unwrap();
    wrong_type["process"]["executable"] = serde_json::json!(["/tmp/a", {"x": 1}]);
    let batch = [
        network_event("n1", "e1", T0),
        "{not json".to_string(),
        String::new(),
        wrong_type.to_string(),
        "42".to_string(),
        file_event("f1", "e1", T1),
    ]
    .join("\n");
    let mut outputs = Vec::new();
    for mut d in all_backends() {
        let backend = d.backend();
        let outcome = d.push_events(batch.as_bytes()).unwrap();
        let lines: Vec<usize> = outcome.refused.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4, 5], "{backend}: {outcome:?}");
        assert!(
            outcome.refused[0].message.contains("invalid JSON"),
            "{backend}: {outcome:?}"
        );
        assert!(
            outcome.refused[1].message.contains("process.executable"),
            "{backend}: {outcome:?}"
        );
        assert!(
            outcome.refused[2].message.contains("not an object"),
            "{backend}: {outcome:?}"
        );
        assert_eq!(outcome.unlisted, 0);
        assert_eq!(outcome.alerts_pending, None);
        let alerts = drain_lines(&mut *d);
        assert_eq!(alerts.len(), 1, "{backend}");
        assert_eq!(alert_event_ids(&alerts[0]), ["n1", "f1"], "{backend}");
        outputs.push((outcome, alerts));
    }
    assert_eq!(outputs[0], outputs[1], "wasm and native answer alike");
    assert_eq!(
        outputs[0], outputs[2],
        "the module and the component answer alike"
    );
}

#[test]
fn a_good_batch_returns_the_alerts_pending() {
    for mut d in all_backends() {
        let batch = format!(
            "{}\n{}\n",
            network_event("n1", "e1", T0),
            file_event("f1", "e1", T1)
        );
        let outcome = d.push_events(batch.as_bytes()).unwrap();
        assert_eq!(outcome.alerts_pending, Some(1), "{}", d.backend());
        assert!(outcome.refused.is_empty());
    }
}

#[test]
fn a_batch_lists_at_most_a_hundred_refused_lines() {
    let batch = vec!["{bad"; 150].join("\n");
    for mut d in all_backends() {
        let outcome = d.push_events(batch.as_bytes()).unwrap();
        assert_eq!(outcome.refused.len(), 100, "{}", d.backend());
        assert_eq!(outcome.unlisted, 50, "{}", d.backend());
        assert_eq!(outcome.refused[99].line, 100);
    }
}

#[test]
fn a_full_alert_buffer_refuses_the_whole_batch() {
    for mut d in all_backends() {
        let backend = d.backend();
        d.configure(br#"{"limits": {"max_buffered_alerts": 1}}"#)
            .unwrap();
        let first = format!(
            "{}\n{}",
            network_event("n1", "e1", T0),
            file_event("f1", "e1", T1)
        );
        assert_eq!(
            d.push_events(first.as_bytes()).unwrap().alerts_pending,
            Some(1)
        );
        let second = format!(
            "{}\n{}",
            network_event("n2", "e2", T0),
            file_event("f2", "e2", T1)
        );
        let e = d.push_events(second.as_bytes()).unwrap_err();
        assert!(e.is_back_pressure(), "{backend}: {e}");
        assert_eq!(e.code(), Some(-10));
        // The same for a single event.
        let e = d
            .push_event(network_event("n3", "e3", T0).as_bytes())
            .unwrap_err();
        assert!(e.is_back_pressure(), "{backend}: {e}");
        // Drain, then the refused batch goes through.
        assert_eq!(drain_lines(&mut *d).len(), 1);
        assert_eq!(
            d.push_events(second.as_bytes()).unwrap().alerts_pending,
            Some(1)
        );
        let alerts = drain_lines(&mut *d);
        assert_eq!(alert_event_ids(&alerts[0]), ["n2", "f2"], "{backend}");
    }
}
