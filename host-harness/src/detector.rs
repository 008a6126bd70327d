//! One interface over the backends: the wasm module and the component
//! under wasmtime, and rule-core in process.

use crate::error::HostError;

/// What `push_events` did with a batch that was not refused whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Alerts waiting to be drained; known only when every line was taken
    /// (the ABI returns it then, and `-11` otherwise).
    pub alerts_pending: Option<usize>,
    /// Refused lines (1-based, counted in the batch, blank lines included)
    /// and why, as far as the module lists them.
    pub refused: Vec<RefusedLine>,
    /// Refused lines beyond those listed.
    pub unlisted: usize,
}

impl BatchOutcome {
    /// How many lines were refused in all.
    pub fn refused_count(&self) -> usize {
        self.refused.len() + self.unlisted
    }
}

/// One refused line of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedLine {
    pub line: usize,
    pub message: String,
}

/// Which engine answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// rule-core compiled to wasm, run by wasmtime as untrusted code.
    Wasm,
    /// rule-core in this process.
    Native,
    /// rule-core as a WebAssembly component (`rule-component`), run by
    /// wasmtime's component API as untrusted code.
    Component,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Wasm => "wasm",
            Backend::Native => "native",
            Backend::Component => "component",
        })
    }
}

/// The module's ABI, as methods. Every backend answers alike, byte for byte
/// (alerts, messages, stats), so a caller can swap one for another.
pub trait Detector {
    fn backend(&self) -> Backend;

    /// Replaces the rule, limits and all state (see `configure` in
    /// `docs/ABI.md`). On error the previous rule and state are kept.
    fn configure(&mut self, config_json: &[u8]) -> Result<(), HostError>;

    /// One JSON event. `Ok(n)`: alerts now pending.
    fn push_event(&mut self, event: &[u8]) -> Result<usize, HostError>;

    /// One JSON event, with the host's time for one without `@timestamp`.
    fn push_event_with_time(&mut self, event: &[u8], fallback_ms: i64) -> Result<usize, HostError>;

    /// An NDJSON batch. Refused lines are in the outcome; a batch refused
    /// whole (back-pressure) is an error.
    fn push_events(&mut self, batch: &[u8]) -> Result<BatchOutcome, HostError>;

    /// The pending alerts as NDJSON (one alert and a `\n` each).
    fn drain_alerts(&mut self) -> Result<Vec<u8>, HostError>;

    /// End of stream. `Ok(n)`: alerts now pending.
    fn flush(&mut self) -> Result<usize, HostError>;

    /// A clock tick (event time, ms). `Ok(n)`: alerts now pending.
    fn advance_time(&mut self, now_ms: i64) -> Result<usize, HostError>;

    /// The engine's counters as JSON (`Stats::to_json`).
    fn stats(&mut self) -> Result<String, HostError>;

    /// The engine's whole state, in rule-core's snapshot format: the same
    /// bytes from either backend, so a snapshot taken by one restores into
    /// the other.
    fn snapshot(&mut self) -> Result<Vec<u8>, HostError>;

    /// Replaces the state with a snapshot's. A corrupt or foreign snapshot is
    /// refused (code -14) and changes nothing.
    fn restore(&mut self, snapshot: &[u8]) -> Result<(), HostError>;
}

impl<D: Detector + ?Sized> Detector for Box<D> {
    fn backend(&self) -> Backend {
        (**self).backend()
    }
    fn configure(&mut self, config_json: &[u8]) -> Result<(), HostError> {
        (**self).configure(config_json)
    }
    fn push_event(&mut self, event: &[u8]) -> Result<usize, HostError> {
        (**self).push_event(event)
    }
    fn push_event_with_time(&mut self, event: &[u8], fallback_ms: i64) -> Result<usize, HostError> {
        (**self).push_event_with_time(event, fallback_ms)
    }
    fn push_events(&mut self, batch: &[u8]) -> Result<BatchOutcome, HostError> {
        (**self).push_events(batch)
    }
    fn drain_alerts(&mut self) -> Result<Vec<u8>, HostError> {
        (**self).drain_alerts()
    }
    fn flush(&mut self) -> Result<usize, HostError> {
        (**self).flush()
    }
    fn advance_time(&mut self, now_ms: i64) -> Result<usize, HostError> {
        (**self).advance_time(now_ms)
    }
    fn stats(&mut self) -> Result<String, HostError> {
        (**self).stats()
    }
    fn snapshot(&mut self) -> Result<Vec<u8>, HostError> {
        (**self).snapshot()
    }
    fn restore(&mut self, snapshot: &[u8]) -> Result<(), HostError> {
        (**self).restore(snapshot)
    }
}

/// A count (>= 0) or an error code with its message, as the ABI answers.
pub(crate) fn count_or_refused(
    code: i32,
    message: impl FnOnce() -> String,
) -> Result<usize, HostError> {
    if code >= 0 {
        Ok(code as usize)
    } else if code == rule_wasm::CONFIG_ERROR {
        Err(HostError::Config { message: message() })
    } else {
        Err(HostError::Refused {
            code,
            message: message(),
        })
    }
}

/// What `push_events` answered, with `last_error` read when it matters.
pub(crate) fn batch_outcome(
    code: i32,
    message: impl FnOnce() -> String,
) -> Result<BatchOutcome, HostError> {
    if code == rule_wasm::BATCH_PARTIAL {
        Ok(parse_refused(&message()))
    } else {
        count_or_refused(code, message).map(|n| BatchOutcome {
            alerts_pending: Some(n),
            ..BatchOutcome::default()
        })
    }
}

/// Reads `last_error` after `-11`: `line N: <message>` per line, then maybe
/// `… and K more refused lines`.
pub fn parse_refused(text: &str) -> BatchOutcome {
    let mut out = BatchOutcome::default();
    for l in text.lines() {
        if let Some(rest) = l.strip_prefix("line ") {
            if let Some((n, message)) = rest.split_once(": ") {
                if let Ok(line) = n.parse() {
                    out.refused.push(RefusedLine {
                        line,
                        message: message.to_string(),
                    });
                    continue;
                }
            }
        }
        if let Some(rest) = l.strip_prefix("… and ") {
            if let Some(n) = rest.strip_suffix(" more refused lines") {
                if let Ok(n) = n.parse::<usize>() {
                    out.unlisted += n;
                    continue;
                }
            }
        }
        // A line of its own that is none of the above: keep it with the
        // line before, it is part of that message.
        if let Some(last) = out.refused.last_mut() {
            last.message.push('\n');
            last.message.push_str(l);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_lines_parse() {
        let o = parse_refused(
            "line 2: invalid JSON: expected value at line 1 column 1\nline 7: empty event\n… and 3 more refused lines",
        );
        assert_eq!(o.refused.len(), 2);
        assert_eq!(o.refused[0].line, 2);
        assert_eq!(
            o.refused[0].message,
            "invalid JSON: expected value at line 1 column 1"
        );
        assert_eq!(o.refused[1].line, 7);
        assert_eq!(o.unlisted, 3);
        assert_eq!(o.refused_count(), 5);
        assert_eq!(o.alerts_pending, None);
    }

    #[test]
    fn codes_map_to_errors() {
        assert_eq!(count_or_refused(3, || unreachable!()).unwrap(), 3);
        let e = count_or_refused(-4, || "bad".into()).unwrap_err();
        assert_eq!(e.code(), Some(-4));
        assert!(!e.is_back_pressure());
        let e = count_or_refused(-10, || "full".into()).unwrap_err();
        assert!(e.is_back_pressure());
        let e = count_or_refused(-12, || "rule".into()).unwrap_err();
        assert!(matches!(e, HostError::Config { .. }));
        let o = batch_outcome(0, || unreachable!()).unwrap();
        assert_eq!(o.alerts_pending, Some(0));
        let o = batch_outcome(-11, || "line 1: empty event".into()).unwrap();
        assert_eq!(o.refused_count(), 1);
        assert!(batch_outcome(-10, || "full".into())
            .unwrap_err()
            .is_back_pressure());
    }

    #[test]
    fn back_pressure_code_is_rule_cores() {
        assert_eq!(
            rule_core::PushError::BackPressure.code(),
            crate::error::BACK_PRESSURE
        );
    }
}
