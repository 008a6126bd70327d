//! State survives a restart or a rule reload: snapshot half way, restore into
//! a fresh engine, and the alerts are those of the uninterrupted run.

use defend_gen::{generate, GenConfig, Profile};
use rule_core::{Engine, Limits, Rule, SnapshotError};
use serde_json::json;

fn stream() -> Vec<String> {
    generate(&GenConfig {
        events: 20_000,
        seed: 11,
        profile: Profile::ReferenceDomain,
    })
    .collect()
}

fn run(engine: &mut Engine, events: &[String], alerts: &mut Vec<String>) {
    for e in events {
        engine
            .push(e.as_bytes())
            .expect("generated events are valid");
        alerts.extend(engine.drain().into_iter().map(|a| a.into_string()));
    }
}

fn finish(engine: &mut Engine, alerts: &mut Vec<String>) {
    engine.flush();
    alerts.extend(engine.drain().into_iter().map(|a| a.into_string()));
}

fn uninterrupted(events: &[String], limits: &Limits) -> Vec<String> {
    let mut engine = Engine::new(Rule::embedded(), limits.clone()).unwrap();
    let mut alerts = Vec::new();
    run(&mut engine, events, &mut alerts);
    finish(&mut engine, &mut alerts);
    alerts
}

#[test]
fn a_restored_engine_goes_on_as_if_never_stopped() {
    let events = stream();
    for limits in [
        Limits::default(),
        Limits {
            reorder_window_ms: 1500,
            ..Limits::default()
        },
    ] {
        let expected = uninterrupted(&events, &limits);
        assert!(
            expected.len() > 50,
            "the stream has alerts to lose: {}",
            expected.len()
        );
        for cut in [1, events.len() / 3, events.len() / 2, events.len() - 1] {
            let mut first = Engine::new(Rule::embedded(), limits.clone()).unwrap();
            let mut alerts = Vec::new();
            run(&mut first, &events[..cut], &mut alerts);
            let snapshot = first.snapshot();
            let before = first.stats();
            drop(first);

            let mut second = Engine::new(Rule::embedded(), limits.clone()).unwrap();
            second.restore(&snapshot).expect("own snapshot restores");
            assert_eq!(second.stats(), before, "counters survive");
            run(&mut second, &events[cut..], &mut alerts);
            finish(&mut second, &mut alerts);
            assert_eq!(
                alerts, expected,
                "cut at {cut}, window {}",
                limits.reorder_window_ms
            );
        }
    }
}

#[test]
fn undrained_alerts_and_held_events_travel_in_the_snapshot() {
    let events = stream();
    let limits = Limits {
        reorder_window_ms: 3000,
        ..Limits::default()
    };
    let expected = uninterrupted(&events, &limits);
    let mut first = Engine::new(Rule::embedded(), limits.clone()).unwrap();
    let mut cut = 0;
    for (i, e) in events.iter().enumerate() {
        first.push(e.as_bytes()).unwrap();
        if first.pending_alerts() > 0 && first.stats().reorder_held > 0 && i > 100 {
            cut = i + 1;
            break;
        }
    }
    assert!(
        cut > 0,
        "found a moment with undrained alerts and held events"
    );
    let mut second = Engine::new(Rule::embedded(), limits).unwrap();
    second.restore(&first.snapshot()).unwrap();
    let mut alerts = Vec::new();
    run(&mut second, &events[cut..], &mut alerts);
    finish(&mut second, &mut alerts);
    assert_eq!(alerts, expected);
}

#[test]
fn a_rule_reload_of_the_same_shape_keeps_pending_sequences() {
    let events = stream();
    let mut first = Engine::with_embedded_rule();
    let mut alerts = Vec::new();
    run(&mut first, &events[..events.len() / 2], &mut alerts);
    let pending = first.stats().pending_sequences;
    assert!(pending > 0);
    // A tuned rule: one more exclusion, same stages and join keys.
    let mut rule = Rule::embedded();
    rule.query = rule
        .query
        .replace("\"postman\"", "\"postman\", \"my-agent\"");
    let mut reloaded = Engine::new(rule, Limits::default()).unwrap();
    reloaded.restore(&first.snapshot()).unwrap();
    assert_eq!(reloaded.stats().pending_sequences, pending);
}

#[test]
fn corrupt_or_foreign_snapshots_are_refused_and_change_nothing() {
    let events = stream();
    let mut source = Engine::with_embedded_rule();
    let mut alerts = Vec::new();
    run(&mut source, &events[..5000], &mut alerts);
    let good = source.snapshot();

    let mut target = Engine::with_embedded_rule();
    run(&mut target, &events[..10], &mut alerts);
    let before = (target.stats(), target.snapshot());

    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    let mut version = good.clone();
    version[8] = 5;
    let mut lying_length = good.clone();
    lying_length[12] ^= 1;
    let cases: Vec<(Vec<u8>, SnapshotError)> = vec![
        (Vec::new(), SnapshotError::NotASnapshot),
        (b"{\"json\": true}".to_vec(), SnapshotError::NotASnapshot),
        (flipped, SnapshotError::Corrupt("checksum does not match")),
        (
            good[..good.len() - 3].to_vec(),
            SnapshotError::Corrupt("length does not match"),
        ),
        (
            lying_length,
            SnapshotError::Corrupt("length does not match"),
        ),
        (version, SnapshotError::UnsupportedVersion(5)),
    ];
    for (bytes, error) in cases {
        assert_eq!(target.restore(&bytes), Err(error.clone()));
        assert!(!error.to_string().is_empty());
        assert_eq!(
            (target.stats(), target.snapshot()),
            before,
            "{error} changed nothing"
        );
    }

    let three_stages = Rule::from_eql(
        "sequence by host.id, process.entity_id [network where true] [file where true] [process where true]",
        None,
    );
    let mut foreign = Engine::new(three_stages, Limits::default()).unwrap();
    assert_eq!(
        foreign.restore(&good),
        Err(SnapshotError::IncompatibleRule { stages: 2, keys: 2 })
    );
}

/// Missing-event stages and samples keep state beside pending sequences
/// (leading events, completed sequences waiting for their trailing window,
/// a sequence marked by a missing event between its stages, the events a
/// sample key has kept, the samples it gave): a snapshot taken anywhere in
/// the stream must carry it, or the restored engine answers otherwise.
#[test]
fn missing_event_and_sample_state_travel_in_the_snapshot() {
    let queries = [
        // Leading: an `m` before `a` within maxspan discards the sequence.
        r#"sequence by host with maxspan=10s ![process where kind == "m"] [process where kind == "a"] [process where kind == "b"]"#,
        // Between: an `m` after `a` marks it; `b` consumes it, no alert.
        r#"sequence by host with maxspan=10s [process where kind == "a"] ![process where kind == "m"] [process where kind == "b"]"#,
        // Trailing: `a`, `b` wait for their window; an `m` in it discards.
        r#"sequence by host with maxspan=10s [process where kind == "a"] [process where kind == "b"] ![process where kind == "m"]"#,
        // Samples: each key's first events per stage, one sample per key.
        r#"sample by host [process where kind == "a"] [process where kind == "b"]"#,
    ];
    // Several hosts, in an order that exercises every path above.
    let kinds = [
        ("h1", "m"),
        ("h1", "a"),
        ("h2", "a"),
        ("h3", "b"),
        ("h2", "m"),
        ("h1", "b"),
        ("h2", "b"),
        ("h3", "a"),
        ("h4", "a"),
        ("h4", "b"),
        ("h3", "m"),
        ("h5", "a"),
        ("h5", "b"),
        ("h4", "m"),
        ("h1", "a"),
        ("h1", "b"),
        ("h6", "b"),
        ("h6", "a"),
    ];
    let events: Vec<String> = kinds
        .iter()
        .enumerate()
        .map(|(i, (host, kind))| {
            json!({"@timestamp": format!("2026-01-01T00:00:{:02}Z", i), "id": i,
                   "event": {"category": "process"}, "host": host, "kind": kind})
            .to_string()
        })
        .collect();
    for query in queries {
        let engine = || Engine::new(Rule::from_eql(query, None), Limits::default()).unwrap();
        let mut whole = Vec::new();
        let mut once = engine();
        run(&mut once, &events, &mut whole);
        finish(&mut once, &mut whole);
        assert!(!whole.is_empty(), "{query}: the stream alerts");
        for cut in 1..events.len() {
            let mut alerts = Vec::new();
            let mut before = engine();
            run(&mut before, &events[..cut], &mut alerts);
            let mut after = engine();
            after.restore(&before.snapshot()).unwrap();
            run(&mut after, &events[cut..], &mut alerts);
            finish(&mut after, &mut alerts);
            assert_eq!(alerts, whole, "{query}, snapshot after event {cut}");
            let (a, b) = (after.stats(), once.stats());
            assert_eq!(
                (a.pending_sequences, a.state_bytes),
                (b.pending_sequences, b.state_bytes),
                "{query}, cut {cut}"
            );
        }
    }
}
