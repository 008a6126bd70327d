//! State survives a restart through the ABI: `snapshot` from one instance,
//! `restore` into a fresh one (any backend: module, native, component), and
//! the alerts are those of the uninterrupted run. A corrupt snapshot is
//! refused and changes nothing.

use defend_gen::{generate, GenConfig, Profile};
use host_harness::{Detector, SNAPSHOT_ERROR};
use tests::{component, native, wasm};

fn events() -> Vec<String> {
    generate(&GenConfig {
        events: 4_000,
        seed: 23,
        profile: Profile::ReferenceDomain,
    })
    .collect()
}

fn feed(d: &mut dyn Detector, events: &[String], out: &mut Vec<u8>) {
    for chunk in events.chunks(250) {
        let batch = chunk.join("\n");
        let outcome = d.push_events(batch.as_bytes()).expect("batch taken");
        assert_eq!(outcome.refused_count(), 0);
        out.extend(d.drain_alerts().unwrap());
    }
}

#[test]
fn a_snapshot_moves_between_instances_and_backends() {
    let events = events();
    let mut expected = Vec::new();
    let mut whole = native();
    feed(&mut whole, &events, &mut expected);
    whole.flush().unwrap();
    expected.extend(whole.drain_alerts().unwrap());
    assert!(
        expected.iter().filter(|&&b| b == b'\n').count() > 20,
        "the stream has alerts to lose"
    );

    let half = events.len() / 2;
    let pairs: [(Box<dyn Detector>, Box<dyn Detector>); 6] = [
        (Box::new(wasm()), Box::new(wasm())),
        (Box::new(wasm()), Box::new(native())),
        (Box::new(native()), Box::new(wasm())),
        (Box::new(component()), Box::new(native())),
        (Box::new(native()), Box::new(component())),
        (Box::new(wasm()), Box::new(component())),
    ];
    for (mut first, mut second) in pairs {
        let route = format!("{} -> {}", first.backend(), second.backend());
        let mut got = Vec::new();
        feed(&mut *first, &events[..half], &mut got);
        let snapshot = first.snapshot().unwrap();
        let stats = first.stats().unwrap();
        second
            .restore(&snapshot)
            .unwrap_or_else(|e| panic!("{route}: {e}"));
        assert_eq!(second.stats().unwrap(), stats, "{route}: counters travel");
        feed(&mut *second, &events[half..], &mut got);
        second.flush().unwrap();
        got.extend(second.drain_alerts().unwrap());
        assert!(
            got == expected,
            "{route}: alerts differ from the uninterrupted run"
        );
    }
}

#[test]
fn a_corrupt_snapshot_is_refused_and_changes_nothing() {
    for mut d in [
        Box::new(wasm()) as Box<dyn Detector>,
        Box::new(native()),
        Box::new(component()),
    ] {
        let events = events();
        let mut sink = Vec::new();
        feed(&mut *d, &events[..500], &mut sink);
        let mut snapshot = d.snapshot().unwrap();
        let before = (d.stats().unwrap(), snapshot.clone());
        let mid = snapshot.len() / 2;
        snapshot[mid] ^= 1;
        let err = d.restore(&snapshot).unwrap_err();
        assert_eq!(err.code(), Some(SNAPSHOT_ERROR), "{}: {err}", d.backend());
        assert!(err.to_string().contains("checksum"), "{err}");
        assert_eq!((d.stats().unwrap(), d.snapshot().unwrap()), before);
        let err = d.restore(b"not a snapshot").unwrap_err();
        assert!(err.to_string().contains("not an engine snapshot"), "{err}");
    }
}
