//! Counters a host reads to see what the engine did and what it refused.

use alloc::string::String;
use alloc::vec::Vec;
use serde::Serialize;

use crate::error::ErrorKind;

/// What the engine has seen and done since it was created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Events taken (errors excluded).
    pub events: u64,
    /// Bytes of the events taken.
    pub bytes: u64,
    /// For each stage, the events that passed its filter (join keys
    /// aside). A later stage of a sequence judges events only while a
    /// sequence waits for it (without a reorder window), so it counts the
    /// matches that could extend one.
    pub stage_matches: Vec<u64>,
    /// Alerts produced.
    pub alerts: u64,
    /// Events refused, by kind, in the order of [`ErrorKind::ALL`].
    pub errors: ErrorCounts,
    /// Values left out of events taken, by the kind of refusal they would
    /// have caused, because their field's mapping says `ignore_malformed`.
    pub ignored_malformed: ErrorCounts,
    /// Pending sequences now held.
    pub pending_sequences: u64,
    /// Bytes of state those sequences hold (events kept for alerts included).
    pub state_bytes: u64,
    /// Pending sequences dropped to respect a limit.
    pub evictions: u64,
    /// Pending sequences that outlived maxspan.
    pub expired: u64,
    /// Events older than the reorder window allows, matched on arrival.
    pub late_events: u64,
    /// Events held by the reorder window now.
    pub reorder_held: u64,
    /// Join-key combinations dropped past [`crate::engine::MAX_KEYS_PER_EVENT`].
    pub truncated_keys: u64,
    /// Script conditions that failed on an event's values (integer
    /// overflow, division by zero, `number("x")`): false for that event.
    /// Elasticsearch fails the whole search instead.
    pub script_errors: u64,
    /// Script conditions cut at 4096 combinations of field values (false then).
    pub script_truncated: u64,
    /// Pending sequences ended by the query's `until`.
    pub ended_by_until: u64,
    /// Sequences discarded because an event of a missing-event stage came.
    pub discarded_by_missing: u64,
    /// Results dropped by `| head` or `| tail`.
    pub piped_out: u64,
    /// A pack's rules, each with its own counters (empty for one rule).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleStats>,
    /// A pack's rules that did not compile.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused_rules: Vec<RefusedRuleStats>,
}

/// One rule's counters in a pack; the fields mean what [`Stats`]' do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RuleStats {
    /// `rule.id`
    pub id: String,
    pub name: String,
    pub stage_matches: Vec<u64>,
    pub alerts: u64,
    pub pending_sequences: u64,
    pub state_bytes: u64,
    pub evictions: u64,
    pub expired: u64,
    pub late_events: u64,
    pub reorder_held: u64,
    pub truncated_keys: u64,
    pub script_errors: u64,
    pub script_truncated: u64,
    pub ended_by_until: u64,
    pub discarded_by_missing: u64,
    pub piped_out: u64,
}

/// A rule of a pack that does not run, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusedRuleStats {
    pub id: String,
    pub name: String,
    pub error: String,
}

/// Errors by kind; serialises as `{"invalid_json": 3, ...}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorCounts(pub [u64; ErrorKind::ALL.len()]);

impl ErrorCounts {
    pub fn get(&self, kind: ErrorKind) -> u64 {
        self.0[kind.index()]
    }
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
    pub(crate) fn count(&mut self, kind: ErrorKind) {
        self.0[kind.index()] += 1;
    }
}

impl Serialize for ErrorCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(ErrorKind::ALL.len()))?;
        for kind in ErrorKind::ALL {
            map.serialize_entry(kind.name(), &self.get(kind))?;
        }
        map.end()
    }
}

impl Stats {
    /// Adds one rule's counters to the engine's totals.
    pub(crate) fn add_rule(&mut self, rule: &RuleStats) {
        self.alerts += rule.alerts;
        self.pending_sequences += rule.pending_sequences;
        self.state_bytes += rule.state_bytes;
        self.evictions += rule.evictions;
        self.expired += rule.expired;
        self.late_events += rule.late_events;
        self.reorder_held += rule.reorder_held;
        self.truncated_keys += rule.truncated_keys;
        self.script_errors += rule.script_errors;
        self.script_truncated += rule.script_truncated;
        self.ended_by_until += rule.ended_by_until;
        self.discarded_by_missing += rule.discarded_by_missing;
        self.piped_out += rule.piped_out;
    }

    /// The counters as one JSON object.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
