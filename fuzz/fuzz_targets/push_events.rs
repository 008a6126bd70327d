//! Any bytes as events, with a sequence started first: decoding and pushing
//! must refuse or take each one, never panic, and the started sequence must
//! still complete afterwards (state intact).
#![no_main]
use libfuzzer_sys::fuzz_target;
use rule_core::Engine;

const NET: &[u8] = br#"{"@timestamp":"2026-11-22T07:33:00Z","event":{"category":["network"],"type":["start"],"action":"connection_attempted"},"host":{"id":"h","os":{"type":"linux"}},"process":{"entity_id":"p","executable":"/tmp/a","name":"a"},"destination":{"ip":"8.8.8.8"}}"#;
const FILE: &[u8] = br#"{"@timestamp":"2026-11-22T07:33:01Z","event":{"category":["file"],"type":["creation"],"action":"creation"},"host":{"id":"h","os":{"type":"linux"}},"process":{"entity_id":"p","executable":"/tmp/a","name":"a"},"file":{"path":"/tmp/x.sh","name":"x.sh"}}"#;

fuzz_target!(|data: &[u8]| {
    let mut engine = Engine::with_embedded_rule();
    engine.push(NET).expect("valid event");
    // Fuzz input cannot move event time past the sequence's window: it is
    // pushed with timestamps it chooses, so keep the check to "no panic"
    // for those, and to "the sequence survives" when nothing was taken.
    let mut taken = 0;
    for chunk in data.split(|&b| b == b'\n') {
        if engine.push(chunk).is_ok() {
            taken += 1;
        }
    }
    let _ = engine.push_ndjson(data);
    let _ = engine.explain(data);
    if taken == 0 && engine.stats().events == 1 {
        assert_eq!(engine.push(FILE), Ok(1));
    }
    let snapshot = engine.snapshot();
    let mut restored = Engine::with_embedded_rule();
    restored.restore(&snapshot).expect("own snapshot restores");
    let _ = restored.restore(data);
});
