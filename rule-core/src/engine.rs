//! The engine a host drives: push events, drain alerts.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{PushError, RuleError};
use crate::rule::Rule;
use crate::stats::Stats;

/// Bounds on what the engine holds. Every limit is enforced, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Limits {
    /// A larger event is refused with [`PushError::TooLarge`].
    pub max_event_bytes: usize,
    /// At this many pending sequences the oldest is evicted (and counted).
    pub max_pending_sequences: usize,
    /// At this many bytes of pending state the oldest sequence is evicted.
    pub max_state_bytes: usize,
    /// With this many alerts undrained, `push` answers [`PushError::BackPressure`].
    pub max_buffered_alerts: usize,
    /// How late (in event time) an event may arrive and still be put in order.
    pub reorder_window_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_event_bytes: 1 << 20,
            max_pending_sequences: 1_000_000,
            max_state_bytes: 512 << 20,
            max_buffered_alerts: 10_000,
            reorder_window_ms: 0,
        }
    }
}

/// One alert: a JSON document (see the crate docs for its fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    json: String,
}

impl Alert {
    pub fn as_str(&self) -> &str {
        &self.json
    }
    pub fn into_string(self) -> String {
        self.json
    }
}

/// What [`Engine::push_ndjson`] did with a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Lines taken.
    pub taken: usize,
    /// Lines refused: 1-based line number and why. Blank lines are skipped, not refused.
    pub refused: Vec<(usize, PushError)>,
    /// Alerts waiting to be drained after the batch.
    pub alerts_pending: usize,
}

/// A compiled rule and its sequence state.
pub struct Engine {
    rule: Rule,
    limits: Limits,
    stats: Stats,
}

impl Engine {
    /// Compiles `rule`; an EQL error names its line and column.
    pub fn new(rule: Rule, limits: Limits) -> Result<Engine, RuleError> {
        let _ = (&rule, &limits);
        todo!()
    }

    /// The embedded default rule with default limits.
    pub fn with_embedded_rule() -> Engine {
        todo!()
    }

    pub fn rule(&self) -> &Rule {
        &self.rule
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Takes one JSON event; returns the number of alerts waiting to be drained.
    /// On error the engine's state is as it was.
    pub fn push(&mut self, event: &[u8]) -> Result<usize, PushError> {
        let _ = event;
        todo!()
    }

    /// As [`Engine::push`], with the host's time for an event that has no `@timestamp`.
    pub fn push_with_fallback_time(
        &mut self,
        event: &[u8],
        fallback_ms: i64,
    ) -> Result<usize, PushError> {
        let _ = (event, fallback_ms);
        todo!()
    }

    /// Takes a batch of newline-delimited events. A bad line is refused and
    /// reported; the others are processed. The alert buffer is checked once,
    /// before the batch: a full buffer refuses the whole batch with
    /// `Err(BackPressure)`; once started, a batch runs to its end.
    pub fn push_ndjson(&mut self, batch: &[u8]) -> Result<BatchReport, PushError> {
        let _ = batch;
        todo!()
    }

    /// Alerts completed so far, oldest first; the buffer is emptied.
    pub fn drain(&mut self) -> Vec<Alert> {
        todo!()
    }

    /// As [`Engine::drain`], appending each alert and a `\n` to `out`; returns how many.
    pub fn drain_ndjson(&mut self, out: &mut Vec<u8>) -> usize {
        let _ = out;
        todo!()
    }

    pub fn pending_alerts(&self) -> usize {
        todo!()
    }

    /// End of stream: releases what the reorder window holds and drops all
    /// pending sequences. Returns alerts waiting to be drained.
    pub fn flush(&mut self) -> usize {
        todo!()
    }

    /// A clock tick from the host (event-time milliseconds): windows that end
    /// before it close. Returns alerts waiting to be drained.
    pub fn advance_time(&mut self, now_ms: i64) -> usize {
        let _ = now_ms;
        todo!()
    }

    pub fn stats(&self) -> Stats {
        self.stats.clone()
    }
}
