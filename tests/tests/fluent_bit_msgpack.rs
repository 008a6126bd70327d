//! `event_format msgpack` in real Fluent Bit 5.1.1 (the build of
//! `tests/src/fluent_bit.rs`, shared with `fluent_bit_real.rs`): the YAML
//! example config as shipped with `function_name alerts_only_msgpack` and
//! `event_format msgpack`, tailing the bundled sample and a few thousand
//! generated Defend events. Every alert Fluent Bit prints must be one the
//! native engine gives for the same lines, in the same order (the event
//! text written from MessagePack, so compared as JSON values); every other
//! record comes out as an empty map (Fluent Bit 5.1.1 cannot drop a record
//! in this format), and nothing in the log says a reply was broken.

use std::time::Duration;

use rule_core::Engine;
use serde_json::Value;
use tests::fluent_bit::{run_dir, switch_function, ConfigFormat, FluentBit};
use tests::workspace;

fn to_msgpack_mode(config: &str) -> String {
    let config = switch_function(config, "alerts_only_msgpack");
    assert_eq!(config.matches("event_format: json").count(), 1, "{config}");
    config.replace("event_format: json", "event_format: msgpack")
}

#[test]
fn msgpack_alerts_only_in_real_fluent_bit_gives_the_native_alerts() {
    let sample = std::fs::read_to_string(workspace().join("examples/sample.ndjson"))
        .expect("examples/sample.ndjson");
    let mut lines: Vec<String> = sample
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let mut generated = Vec::new();
    defend_gen::write_ndjson(
        &defend_gen::GenConfig {
            events: 3000,
            seed: 9,
            profile: defend_gen::Profile::ReferenceDomain,
        },
        &mut generated,
    )
    .expect("generate");
    lines.extend(
        String::from_utf8(generated)
            .expect("UTF-8")
            .lines()
            .map(str::to_string),
    );
    let mut events = lines.join("\n");
    events.push('\n');

    let mut native = Engine::with_embedded_rule();
    let mut expected = Vec::new();
    for line in &lines {
        native
            .push(line.as_bytes())
            .expect("the native engine takes it");
        for alert in native.drain() {
            expected.push(serde_json::from_str::<Value>(alert.as_str()).expect("JSON"));
        }
    }
    assert!(expected.len() > 10, "the file completes sequences");

    let dir = run_dir(
        "msgpack-alerts-only",
        ConfigFormat::Yaml,
        to_msgpack_mode,
        events.as_bytes(),
    );
    let mut fb = FluentBit::start(&dir, ConfigFormat::Yaml);
    fb.wait_for_records(lines.len(), Duration::from_secs(300));
    let out = fb.stop();
    let mut got = Vec::new();
    let mut empty = 0;
    for record in &out.records {
        let v: Value = serde_json::from_str(record).expect("a JSON record");
        let Some(alerts) = v.get("alerts") else {
            let members: Vec<&String> = v
                .as_object()
                .expect("an object")
                .keys()
                .filter(|k| *k != "date")
                .collect();
            assert!(members.is_empty(), "neither alerts nor empty: {record}");
            empty += 1;
            continue;
        };
        assert!(v.get("rule_error").is_none(), "{record}");
        for alert in alerts.as_array().expect("an array") {
            let text = alert.as_str().expect("each alert is a JSON string");
            got.push(serde_json::from_str::<Value>(text).expect("the alert is JSON"));
        }
    }
    assert_eq!(got.len(), expected.len(), "log:\n{}", out.log);
    assert!(
        got == expected,
        "the alerts differ from the native engine's"
    );
    assert_eq!(
        out.records.len(),
        lines.len(),
        "one record out per record in"
    );
    assert!(empty > lines.len() / 2, "most records complete nothing");
    for bad in ["exception", "returned value is invalid"] {
        assert!(
            !out.log.to_ascii_lowercase().contains(bad),
            "Fluent Bit's log says {bad}:\n{}",
            out.log
        );
    }
}
