//! Replays `fuzz/regressions/`: inputs the fuzzers (scripts/fuzz.sh) found or
//! that stand for known-hostile shapes, with the fuzz targets' own checks.

use std::path::Path;

use rule_core::{Engine, Limits, Regexp, Rule};

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(out.len() >= 5, "the regression corpus of {target} is there");
    out
}

const NET: &[u8] = br#"{"@timestamp":"2026-11-22T07:33:00Z","event":{"category":["network"],"type":["start"],"action":"connection_attempted"},"host":{"id":"h","os":{"type":"linux"}},"process":{"entity_id":"p","executable":"/tmp/a","name":"a"},"destination":{"ip":"8.8.8.8"}}"#;
const FILE: &[u8] = br#"{"@timestamp":"2026-11-22T07:33:01Z","event":{"category":["file"],"type":["creation"],"action":"creation"},"host":{"id":"h","os":{"type":"linux"}},"process":{"entity_id":"p","executable":"/tmp/a","name":"a"},"file":{"path":"/tmp/x.sh","name":"x.sh"}}"#;

#[test]
fn hostile_rules_are_answered_not_crashed_on() {
    for (name, bytes) in inputs("eql_front_end") {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        // Run on a 1 MiB stack, a wasm module's default: depth must be bounded by the parser.
        let result = std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || Engine::new(Rule::from_eql(text, None), Limits::default()).err())
            .unwrap()
            .join();
        let error = result.unwrap_or_else(|_| panic!("{name}: the front end panicked"));
        if let Some(e) = error {
            assert!(
                e.position.is_some_and(|p| p.line >= 1 && p.column >= 1) || e.position.is_none(),
                "{name}: {e}"
            );
        }
    }
}

#[test]
fn hostile_events_are_refused_or_taken_and_state_survives() {
    for (name, bytes) in inputs("push_events") {
        let outcome = std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || {
                let mut engine = Engine::with_embedded_rule();
                engine.push(NET).unwrap();
                let before = engine.stats().errors.total();
                let mut refused = 0;
                for line in bytes.split(|&b| b == b'\n') {
                    if engine.push(line).is_err() {
                        refused += 1;
                    }
                }
                let _ = engine.explain(&bytes);
                let _ = engine.restore(&bytes);
                assert_eq!(
                    engine.stats().errors.total() - before,
                    refused,
                    "every refusal is counted"
                );
                engine.push(FILE)
            })
            .unwrap()
            .join();
        let completed = outcome.unwrap_or_else(|_| panic!("{name}: pushing panicked"));
        // Hostile lines may carry their own times; the sequence must still be there
        // unless one of them moved event time past its window.
        assert!(completed.is_ok(), "{name}: {completed:?}");
    }
}

#[test]
fn hostile_regular_expressions_are_refused_or_run_in_bounded_time() {
    for (name, bytes) in inputs("regexp") {
        let started = std::time::Instant::now();
        let outcome = std::thread::Builder::new()
            .stack_size(1024 * 1024)
            .spawn(move || {
                let (flags, rest) = bytes.split_first().expect("a flag byte");
                let (pattern, haystack) = match rest.iter().position(|&b| b == 0) {
                    Some(nul) => (&rest[..nul], &rest[nul + 1..]),
                    None => (rest, &[][..]),
                };
                let pattern = std::str::from_utf8(pattern).expect("a UTF-8 pattern");
                let haystack = std::str::from_utf8(haystack).expect("a UTF-8 haystack");
                match Regexp::new(pattern, flags & 1 == 1) {
                    Ok(re) => Ok(re.is_match(haystack)),
                    Err(e) => {
                        assert!(e.offset <= pattern.len(), "{e}");
                        Err(e)
                    }
                }
            })
            .unwrap()
            .join();
        assert!(outcome.is_ok(), "{name}: the regexp module panicked");
        // Generous for a loaded debug build; a blow-up takes minutes or more.
        let elapsed = started.elapsed();
        assert!(elapsed.as_secs() < 10, "{name}: {elapsed:?}");
    }
}
