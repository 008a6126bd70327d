//! `configure`: rule and limits from JSON; a bad one is refused with code
//! -12 and a message saying where (rule line and column, or JSON position),
//! and the engine in place is kept.

use host_harness::{Detector, HostError};
use tests::{alert_event_ids, all_backends, drain_lines, file_event, network_event};

const T0: &str = "2024-05-01T10:00:00.000Z";
const T1: &str = "2024-05-01T10:00:01.000Z";

fn config_eql(eql: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"rule": {"eql": eql}})).unwrap()
}

fn refused(d: &mut dyn Detector, config: &[u8]) -> String {
    match d.configure(config) {
        Err(e @ HostError::Config { .. }) => {
            assert_eq!(e.code(), Some(-12));
            let HostError::Config { message } = e else {
                unreachable!()
            };
            message
        }
        other => panic!(
            "{}: expected -12 for {}, got {other:?}",
            d.backend(),
            String::from_utf8_lossy(config)
        ),
    }
}

#[test]
fn a_bad_rule_names_line_and_column_and_the_old_engine_stays() {
    // Line 2, column 20: `==` with nothing after it.
    let eql = "sequence by host.id with maxspan=5s\n  [network where x == ]\n  [file where true]";
    let mut messages = Vec::new();
    for mut d in all_backends() {
        let backend = d.backend();
        assert_eq!(
            d.push_event(network_event("n1", "e1", T0).as_bytes())
                .unwrap(),
            0
        );
        let message = refused(&mut *d, &config_eql(eql));
        assert!(message.contains("line 2"), "{backend}: {message}");
        assert!(message.contains("column"), "{backend}: {message}");
        // The embedded rule and its pending sequence are still there.
        assert_eq!(
            d.push_event(file_event("f1", "e1", T1).as_bytes()).unwrap(),
            1
        );
        let alerts = drain_lines(&mut *d);
        assert_eq!(alert_event_ids(&alerts[0]), ["n1", "f1"], "{backend}");
        messages.push(message);
    }
    assert_eq!(messages[0], messages[1], "wasm and native say the same");
    assert_eq!(
        messages[0], messages[2],
        "the module and the component say the same"
    );
}

#[test]
fn bad_configuration_documents_are_refused() {
    let cases: &[(&[u8], &str)] = &[
        (b"{\"rule\": ", "invalid JSON"),
        (b"[]", "must be a JSON object"),
        (br#"{"rulez": {}}"#, "unknown field `rulez`"),
        (br#"{"rules": {}}"#, "expected a sequence"),
        (br#"{"rule": {"eql": "a"}, "rules": []}"#, "not both"),
        (
            br#"{"rules": [{"eql": "process where"}]}"#,
            "no rule of the pack compiles",
        ),
        (br#"{"rule": {}}"#, "needs `eql`"),
        (br#"{"rule": {"eql": "a", "toml": "b"}}"#, "not both"),
        (
            br#"{"limits": {"max_alerts": 3}}"#,
            "unknown limit `max_alerts`",
        ),
        (br#"{"limits": {"max_event_bytes": -1}}"#, "limits"),
        (
            br#"{"rule": {"toml": "[rule]\nname = \"x\""}}"#,
            "rule TOML",
        ),
        (
            br#"{"params": {"result_position": "middle"}}"#,
            "unknown variant `middle`",
        ),
        (br#"{"params": {"size": -1}}"#, "expected u64"),
    ];
    for mut d in all_backends() {
        for (config, says) in cases {
            let message = refused(&mut *d, config);
            assert!(message.starts_with("configure: "), "{message}");
            assert!(message.contains(says), "{}: {message}", d.backend());
        }
    }
}

#[test]
fn a_rule_from_eql_or_toml_replaces_the_engine_and_its_state() {
    // Same rule as embedded, but only stage 2's shape matters here: a
    // one-stage-like sequence over our own event ids.
    let eql = r#"sequence by host.id, process.entity_id with maxspan=5s
  [network where event.action == "connection_attempted"]
  [file where event.type == "creation"]"#;
    for mut d in all_backends() {
        let backend = d.backend();
        assert_eq!(
            d.push_event(network_event("n1", "e1", T0).as_bytes())
                .unwrap(),
            0
        );
        d.configure(&config_eql(eql)).unwrap();
        // The pending sequence went with the old engine.
        assert_eq!(
            d.push_event(file_event("f1", "e1", T1).as_bytes()).unwrap(),
            0,
            "{backend}"
        );
        assert_eq!(
            d.push_event(network_event("n2", "e2", T0).as_bytes())
                .unwrap(),
            0
        );
        assert_eq!(
            d.push_event(file_event("f2", "e2", T1).as_bytes()).unwrap(),
            1
        );
        let alerts = drain_lines(&mut *d);
        assert_eq!(alert_event_ids(&alerts[0]), ["n2", "f2"], "{backend}");

        let toml = serde_json::json!({"rule": {"toml": rule_core::EMBEDDED_RULE_TOML}});
        d.configure(serde_json::to_string(&toml).unwrap().as_bytes())
            .unwrap();
        d.configure(b"").unwrap();
        d.configure(b"{}").unwrap();
    }
}

#[test]
fn rule_meta_goes_into_the_alert() {
    let config = serde_json::json!({"rule": {
        "eql": rule_core::Rule::embedded().query,
        "meta": {"id": "my-rule-1", "name": "My copy", "severity": "high", "risk_score": 73}
    }});
    let config = serde_json::to_vec(&config).unwrap();
    let mut alerts = Vec::new();
    for mut d in all_backends() {
        d.configure(&config).unwrap();
        d.push_event(network_event("n1", "e1", T0).as_bytes())
            .unwrap();
        d.push_event(file_event("f1", "e1", T1).as_bytes()).unwrap();
        let a = drain_lines(&mut *d);
        assert_eq!(a.len(), 1);
        assert!(a[0].contains("my-rule-1"), "{}: {}", d.backend(), a[0]);
        assert!(a[0].contains("My copy"), "{}: {}", d.backend(), a[0]);
        alerts.push(a);
    }
    assert_eq!(alerts[0], alerts[1]);
    assert_eq!(alerts[0], alerts[2]);
}

#[test]
fn size_and_result_position_are_request_parameters() {
    let events: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            format!(
                r#"{{"@timestamp":"2024-05-01T10:00:0{i}.000Z","event":{{"category":"process"}},"id":{i}}}"#
            )
            .into_bytes()
        })
        .collect();
    for mut d in all_backends() {
        for (position, now, at_flush) in [("head", 2, 0), ("tail", 0, 2)] {
            let config = serde_json::json!({
                "rule": {"eql": "process where true"},
                "params": {"size": 2, "result_position": position},
            });
            d.configure(config.to_string().as_bytes()).unwrap();
            for e in &events {
                d.push_event(e).unwrap();
            }
            let before = drain_lines(&mut *d).len();
            d.flush().unwrap();
            let after = drain_lines(&mut *d).len();
            assert_eq!(
                (before, after),
                (now, at_flush),
                "{}: {position}",
                d.backend()
            );
        }
    }
}
