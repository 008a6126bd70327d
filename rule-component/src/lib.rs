//! rule-core as a WebAssembly component: the WIT package
//! `rule:detector@1.0.0` (`wit/detector.wit`), world `rule-engine`, which
//! exports the interface `detection` and its `detector` resource.
//!
//! Hosts built on the component model (wasmtime's component API, jco,
//! Spin, wasmCloud) get typed calls: strings in, `result<u32, error>` out,
//! where `error` is a variant that names what went wrong (rule-core's
//! [`PushError`], [`RuleError`] and [`SnapshotError`] one to one, plus
//! `bad-config` for a configuration the core module's `configure` would
//! refuse). The core module of `docs/ABI.md` is the same engine behind
//! pointers and codes; both read the same configuration JSON
//! ([`rule_wasm::parse_config`]) and answer the same alerts, stats and
//! snapshot bytes.
//!
//! # Building
//!
//! ```text
//! cargo build -p rule-component --target wasm32-wasip2 --release
//! # target/wasm32-wasip2/release/rule_component.wasm, a component
//! ```
//!
//! rustc links wasm32-wasip2 output into a component itself (through
//! `wasm-component-ld`); no cargo-component is needed. The component
//! imports the few WASI interfaces the Rust standard library links in,
//! listed in `docs/ABI.md` ("The component") and pinned by a test; the
//! engine calls none of them.
//!
//! # Example (a host, with wasmtime)
//!
//! ```ignore
//! wasmtime::component::bindgen!({ path: "../rule-component/wit", world: "rule-engine" });
//! let rule = RuleEngine::instantiate(&mut store, &component, &linker)?;
//! let api = rule.rule_detector_detection().detector();
//! let detector = api.call_create(&mut store, None)??; // the embedded rule
//! let pending = api.call_push_event(&mut store, detector, event_json)?;
//! let alerts: Vec<String> = api.call_drain_alerts(&mut store, detector)?;
//! ```
//!
//! `host-harness`'s `ComponentDetector` is such a host, with the component
//! treated as untrusted.
//!
//! # Invariants
//!
//! - Every refusal is a typed `error` built from rule-core's own error
//!   values; a refused event, batch or snapshot changes nothing.
//! - Counts are rule-core's, saturated to `u32`.
//! - A batch lists at most [`rule_wasm::MAX_LISTED_LINES`] refused lines
//!   (the rest are counted in `unlisted`), and a message is at most
//!   [`rule_wasm::MAX_MESSAGE_BYTES`] bytes plus `…`, as in the core module:
//!   an answer stays small whatever the input.
//! - A panic is a trap (`panic = "abort"`); the host drops the instance.

use std::cell::RefCell;

use rule_core::{Engine, PushError, RuleError, SnapshotError};

wit_bindgen::generate!({
    path: "wit",
    world: "rule-engine",
});

use exports::rule::detector::detection::{
    BatchReport, Error, Guest, GuestDetector, MalformedIp, Position, RefusedLine, RuleShape,
    SnapshotError as WitSnapshotError, TooLarge, WrongType,
};

/// The component's root: the `detection` interface.
pub struct Component;

impl Guest for Component {
    type Detector = Detector;
}

/// One `detector` resource: an engine, behind a `RefCell` because resource
/// methods take `&self` (a component instance runs on one thread and calls
/// do not nest).
pub struct Detector {
    engine: RefCell<Engine>,
}

impl Detector {
    /// The engine for a configuration as `create` takes it: `None` is the
    /// embedded rule with default limits.
    pub fn from_config(config: Option<&str>) -> Result<Detector, Error> {
        let (rule, limits) =
            rule_wasm::parse_config(config.unwrap_or("").as_bytes()).map_err(Error::BadConfig)?;
        let engine = rule.compile(limits).map_err(rule_error)?;
        Ok(Detector {
            engine: RefCell::new(engine),
        })
    }
}

impl GuestDetector for Detector {
    fn create(
        config: Option<String>,
    ) -> Result<exports::rule::detector::detection::Detector, Error> {
        Detector::from_config(config.as_deref())
            .map(exports::rule::detector::detection::Detector::new)
    }

    fn push_event(&self, json: String) -> Result<u32, Error> {
        let result = self.engine.borrow_mut().push(json.as_bytes());
        result.map(count).map_err(push_error)
    }

    fn push_event_with_time(&self, json: String, ms: i64) -> Result<u32, Error> {
        let result = self
            .engine
            .borrow_mut()
            .push_with_fallback_time(json.as_bytes(), ms);
        result.map(count).map_err(push_error)
    }

    fn push_events(&self, ndjson: String) -> Result<BatchReport, Error> {
        let report = self
            .engine
            .borrow_mut()
            .push_ndjson(ndjson.as_bytes())
            .map_err(push_error)?;
        Ok(batch_report(report))
    }

    fn drain_alerts(&self) -> Vec<String> {
        let alerts = self.engine.borrow_mut().drain();
        alerts.into_iter().map(|a| a.into_string()).collect()
    }

    fn flush(&self) -> u32 {
        count(self.engine.borrow_mut().flush())
    }

    fn advance_time(&self, ms: i64) -> u32 {
        count(self.engine.borrow_mut().advance_time(ms))
    }

    fn stats(&self) -> String {
        self.engine.borrow().stats().to_json()
    }

    fn snapshot(&self) -> Vec<u8> {
        self.engine.borrow().snapshot()
    }

    fn restore(&self, snapshot: Vec<u8>) -> Result<(), Error> {
        let result = self.engine.borrow_mut().restore(&snapshot);
        result.map_err(|e| Error::BadSnapshot(snapshot_error(e)))
    }
}

// The canonical-ABI exports exist on wasm only: their names (`rule:detector/
// detection@1.0.0#...`) are not symbols a native linker takes, and natively
// this crate is the mapping and its tests.
#[cfg(target_arch = "wasm32")]
export!(Component);

/// A count as the interface answers it.
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A `usize` from rule-core as a `u64` (wasm32 and 64-bit hosts alike).
fn wide(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// rule-core's refusal of an event, as the interface's `error`.
pub fn push_error(e: PushError) -> Error {
    match e {
        PushError::Empty => Error::Empty,
        PushError::TooLarge { len, max } => Error::TooLarge(TooLarge {
            len: wide(len),
            max: wide(max),
        }),
        PushError::InvalidUtf8 { offset } => Error::InvalidUtf8(wide(offset)),
        PushError::InvalidJson { message } => Error::InvalidJson(message),
        PushError::NotAnObject => Error::NotAnObject,
        PushError::WrongType { field, expected } => Error::WrongType(WrongType {
            field,
            expected: expected.into(),
        }),
        PushError::MalformedIp { field, value } => Error::MalformedIp(MalformedIp { field, value }),
        PushError::MissingTimestamp => Error::MissingTimestamp,
        PushError::BadTimestamp { value } => Error::BadTimestamp(value),
        PushError::BackPressure => Error::BackPressure,
    }
}

/// A rule that does not compile, as the interface's `error`.
pub fn rule_error(e: RuleError) -> Error {
    Error::BadRule(exports::rule::detector::detection::RuleError {
        message: e.message,
        position: e.position.map(|p| Position {
            line: p.line,
            column: p.column,
        }),
    })
}

/// A refused snapshot, as the interface's `snapshot-error`.
pub fn snapshot_error(e: SnapshotError) -> WitSnapshotError {
    match e {
        SnapshotError::NotASnapshot => WitSnapshotError::NotASnapshot,
        SnapshotError::UnsupportedVersion(v) => WitSnapshotError::UnsupportedVersion(v),
        SnapshotError::Corrupt(what) => WitSnapshotError::Corrupt(what.into()),
        SnapshotError::IncompatibleRule { stages, keys } => {
            WitSnapshotError::IncompatibleRule(RuleShape { stages, keys })
        }
    }
}

/// rule-core's batch report, with the refused lines listed as the core
/// module lists them: the first [`rule_wasm::MAX_LISTED_LINES`], each
/// message cut to [`rule_wasm::MAX_MESSAGE_BYTES`].
pub fn batch_report(report: rule_core::BatchReport) -> BatchReport {
    let total = report.refused.len();
    let refused: Vec<RefusedLine> = report
        .refused
        .into_iter()
        .take(rule_wasm::MAX_LISTED_LINES)
        .map(|(line, e)| {
            let mut message = e.to_string();
            rule_wasm::clip_message(&mut message, 0);
            RefusedLine {
                line: count(line),
                error: push_error(e),
                message,
            }
        })
        .collect();
    BatchReport {
        taken: count(report.taken),
        unlisted: count(total - refused.len()),
        refused,
        alerts_pending: count(report.alerts_pending),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NETWORK: &str = r#"{"@timestamp":"2026-11-22T07:33:01Z","host":{"id":"h1","os":{"type":"linux"}},"process":{"entity_id":"p1","executable":"/tmp/agent","name":"agent"},"event":{"category":["network"],"type":["start"],"action":"connection_attempted"},"destination":{"ip":"203.0.114.7"}}"#;
    const FILE: &str = r#"{"@timestamp":"2026-11-22T07:33:03Z","host":{"id":"h1","os":{"type":"linux"}},"process":{"entity_id":"p1","executable":"/tmp/agent","name":"agent"},"event":{"category":["file"],"type":["creation"],"action":"creation"},"file":{"path":"/tmp/task.sh","name":"task.sh","extension":"sh"}}"#;

    #[test]
    fn every_push_error_has_its_case() {
        let cases = [
            (PushError::Empty, "Empty"),
            (PushError::TooLarge { len: 9, max: 8 }, "TooLarge"),
            (PushError::InvalidUtf8 { offset: 3 }, "InvalidUtf8"),
            (
                PushError::InvalidJson {
                    message: "eof".into(),
                },
                "InvalidJson",
            ),
            (PushError::NotAnObject, "NotAnObject"),
            (
                PushError::WrongType {
                    field: "a.b".into(),
                    expected: "a number",
                },
                "WrongType",
            ),
            (
                PushError::MalformedIp {
                    field: "destination.ip".into(),
                    value: "x".into(),
                },
                "MalformedIp",
            ),
            (PushError::MissingTimestamp, "MissingTimestamp"),
            (
                PushError::BadTimestamp {
                    value: "then".into(),
                },
                "BadTimestamp",
            ),
            (PushError::BackPressure, "BackPressure"),
        ];
        assert_eq!(cases.len(), rule_core::ErrorKind::ALL.len());
        for (e, case) in cases {
            let mapped = format!("{:?}", push_error(e.clone()));
            assert!(
                mapped.starts_with(&format!("Error::{case}")),
                "{e:?} became {mapped}"
            );
        }
        match push_error(PushError::WrongType {
            field: "a.b".into(),
            expected: "a number",
        }) {
            Error::WrongType(w) => {
                assert_eq!((w.field.as_str(), w.expected.as_str()), ("a.b", "a number"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn snapshot_errors_map_one_to_one() {
        assert!(matches!(
            snapshot_error(SnapshotError::NotASnapshot),
            WitSnapshotError::NotASnapshot
        ));
        assert!(matches!(
            snapshot_error(SnapshotError::UnsupportedVersion(9)),
            WitSnapshotError::UnsupportedVersion(9)
        ));
        assert!(
            matches!(snapshot_error(SnapshotError::Corrupt("length")), WitSnapshotError::Corrupt(w) if w == "length")
        );
        assert!(matches!(
            snapshot_error(SnapshotError::IncompatibleRule { stages: 3, keys: 1 }),
            WitSnapshotError::IncompatibleRule(RuleShape { stages: 3, keys: 1 })
        ));
    }

    #[test]
    fn config_errors_are_bad_config_or_bad_rule() {
        assert!(matches!(
            Detector::from_config(Some(r#"{"rulez": {}}"#)),
            Err(Error::BadConfig(m)) if m.contains("unknown field `rulez`")
        ));
        // A pack: the rules that compile run; none compiling is a bad rule.
        let pack = r#"{"rules": [{"eql": "process where true"}, {"eql": "process where"}]}"#;
        assert!(Detector::from_config(Some(pack)).is_ok());
        assert!(matches!(
            Detector::from_config(Some(r#"{"rules": [{"eql": "process where"}]}"#)),
            Err(Error::BadRule(r)) if r.message.contains("no rule of the pack compiles")
        ));
        let bad_eql = r#"{"rule": {"eql": "sequence\n  [network where ]"}}"#;
        match Detector::from_config(Some(bad_eql)) {
            Err(Error::BadRule(r)) => {
                let p = r.position.expect("an EQL error has a position");
                assert_eq!(p.line, 2, "{r:?}");
            }
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("bad EQL compiled"),
        }
        assert!(Detector::from_config(None).is_ok());
        assert!(Detector::from_config(Some("{}")).is_ok());
    }

    #[test]
    fn a_sequence_alerts_and_a_batch_reports_its_bad_lines() {
        let d = Detector::from_config(None).unwrap();
        assert_eq!(d.push_event(NETWORK.into()).unwrap(), 0);
        assert_eq!(d.push_event(FILE.into()).unwrap(), 1);
        assert_eq!(d.drain_alerts().len(), 1);
        assert!(matches!(d.push_event("[]".into()), Err(Error::NotAnObject)));

        let batch = format!("{NETWORK}\n{{oops\n\n42\n{FILE}\n");
        let report = d.push_events(batch).unwrap();
        assert_eq!(report.taken, 2);
        assert_eq!(report.alerts_pending, 1);
        let lines: Vec<u32> = report.refused.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4]);
        assert!(matches!(report.refused[0].error, Error::InvalidJson(_)));
        assert!(report.refused[0].message.starts_with("invalid JSON"));
        assert_eq!(report.refused[1].message, "event is JSON but not an object");
        assert_eq!(report.unlisted, 0);
    }

    #[test]
    fn a_batch_lists_at_most_a_hundred_lines() {
        let d = Detector::from_config(None).unwrap();
        let report = d.push_events(vec!["{bad"; 150].join("\n")).unwrap();
        assert_eq!(report.refused.len(), rule_wasm::MAX_LISTED_LINES);
        assert_eq!(report.unlisted, 50);
    }

    #[test]
    fn snapshots_restore_and_bad_ones_are_refused() {
        let d = Detector::from_config(None).unwrap();
        d.push_event(NETWORK.into()).unwrap();
        let snapshot = d.snapshot();
        let e = Detector::from_config(None).unwrap();
        e.restore(snapshot).unwrap();
        assert_eq!(e.push_event(FILE.into()).unwrap(), 1);
        assert!(matches!(
            e.restore(b"nope".to_vec()),
            Err(Error::BadSnapshot(WitSnapshotError::NotASnapshot))
        ));
    }

    #[test]
    fn clip_cuts_long_messages_at_a_char_boundary() {
        let mut s = "é".repeat(rule_wasm::MAX_MESSAGE_BYTES);
        rule_wasm::clip_message(&mut s, 0);
        assert!(s.ends_with('…'));
        assert!(s.len() <= rule_wasm::MAX_MESSAGE_BYTES + '…'.len_utf8());
    }
}
