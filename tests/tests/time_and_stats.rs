//! `push_event_with_time`, `advance_time`, `flush` and `stats` answer alike
//! in both backends.

use host_harness::Detector;
use tests::{alert_event_ids, all_backends, drain_lines, file_event, network_event};

/// The counters, all of them: `state_bytes` too is charged the same on a
/// 32-bit module as natively, so eviction by it agrees.
fn portable(stats: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(stats).unwrap();
    assert!(
        v.get("state_bytes").is_some(),
        "stats has state_bytes: {stats}"
    );
    v
}

const T0: &str = "2024-05-01T10:00:00.000Z";
const T0_MS: i64 = 1_714_557_600_000;

fn without_timestamp(event: &str) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_str(event).unwrap();
    v.as_object_mut().unwrap().remove("@timestamp");
    v.to_string().into_bytes()
}

#[test]
fn the_host_time_stands_in_for_a_missing_timestamp() {
    let mut stats = Vec::new();
    for mut d in all_backends() {
        let backend = d.backend();
        let network = without_timestamp(&network_event("n1", "e1", T0));
        let file = without_timestamp(&file_event("f1", "e1", T0));
        assert_eq!(d.push_event_with_time(&network, T0_MS).unwrap(), 0);
        assert_eq!(d.push_event_with_time(&file, T0_MS + 2_000).unwrap(), 1);
        let alerts = drain_lines(&mut *d);
        assert_eq!(alert_event_ids(&alerts[0]), ["n1", "f1"], "{backend}");
        // Without the host's time the same event is refused.
        let e = d.push_event(&network).unwrap_err();
        assert_eq!(e.code(), Some(-8), "{backend}");
        stats.push(portable(&d.stats().unwrap()));
    }
    assert_eq!(stats[0], stats[1], "the same counters");
    assert_eq!(stats[0], stats[2], "the same counters in the component");
}

#[test]
fn a_clock_tick_closes_windows_and_flush_ends_the_stream() {
    let mut stats = Vec::new();
    for mut d in all_backends() {
        let backend = d.backend();
        d.push_event(network_event("n1", "e1", T0).as_bytes())
            .unwrap();
        d.push_event(network_event("n2", "e2", T0).as_bytes())
            .unwrap();
        let s: serde_json::Value = serde_json::from_str(&d.stats().unwrap()).unwrap();
        assert_eq!(s["pending_sequences"], 2, "{backend}: {s}");
        // Past maxspan (5 s): the windows close, nothing to alert.
        assert_eq!(d.advance_time(T0_MS + 10_000).unwrap(), 0);
        let s: serde_json::Value = serde_json::from_str(&d.stats().unwrap()).unwrap();
        assert_eq!(s["pending_sequences"], 0, "{backend}: {s}");
        assert_eq!(s["expired"], 2, "{backend}: {s}");
        d.push_event(network_event("n3", "e3", "2024-05-01T10:00:20.000Z").as_bytes())
            .unwrap();
        // A flush matches what the reorder window holds; a pending sequence
        // stays (it expires with event time).
        assert_eq!(d.flush().unwrap(), 0);
        let s: serde_json::Value = serde_json::from_str(&d.stats().unwrap()).unwrap();
        assert_eq!(s["pending_sequences"], 1, "{backend}: {s}");
        assert_eq!(s["events"], 3, "{backend}: {s}");
        assert!(drain_lines(&mut *d).is_empty());
        stats.push(portable(&d.stats().unwrap()));
    }
    assert_eq!(stats[0], stats[1], "the same counters");
    assert_eq!(stats[0], stats[2], "the same counters in the component");
}

#[test]
fn a_drained_buffer_is_empty() {
    for mut d in all_backends() {
        assert!(d.drain_alerts().unwrap().is_empty(), "{}", d.backend());
        d.push_event(network_event("n1", "e1", T0).as_bytes())
            .unwrap();
        d.push_event(file_event("f1", "e1", "2024-05-01T10:00:01.000Z").as_bytes())
            .unwrap();
        assert_eq!(drain_lines(&mut *d).len(), 1);
        assert!(d.drain_alerts().unwrap().is_empty(), "{}", d.backend());
    }
}
