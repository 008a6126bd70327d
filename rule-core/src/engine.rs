//! The engine a host drives: push events, drain alerts. One engine runs
//! one rule or a pack of them: an event is decoded once, for the union of
//! the fields its rules read, and judged only by the rules its category and
//! index can concern ([`dispatch`]); each rule keeps its own state
//! ([`run`]).

mod dispatch;
mod msgpack;
mod pack;
mod prefilter;
mod run;

use alloc::string::String;
use alloc::vec::Vec;

use crate::decode::{Decoded, FieldTrie};
use crate::error::PushError;
use crate::plan::FieldSpec;
use crate::rule::Rule;
use crate::stats::Stats;

use dispatch::Dispatch;
pub use pack::RefusedRule;
use prefilter::Prefilter;
pub(crate) use run::{EventRef, Held, RuleRun};

/// What `Events` holds for a missing-event stage.
pub const MISSING_EVENT: &str = r#"{"missing":true}"#;

/// Join keys of one event for one stage are the cartesian product of the
/// key fields' values (S8); past this many combinations the rest are dropped
/// and counted in [`Stats::truncated_keys`].
pub const MAX_KEYS_PER_EVENT: usize = 1024;

/// Bounds on what the engine holds. Every limit is enforced, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Limits {
    /// A larger event is refused with [`PushError::TooLarge`].
    pub max_event_bytes: usize,
    /// At this many pending sequences of one rule, its oldest is evicted
    /// (and counted).
    pub max_pending_sequences: usize,
    /// At this many bytes of one rule's pending state, its oldest sequence
    /// is evicted.
    pub max_state_bytes: usize,
    /// At this many bytes of pending state over all the rules of a pack,
    /// the rule holding the most loses its oldest sequences: a noisy rule
    /// cannot starve the others. (One rule alone: `max_state_bytes`.)
    pub max_total_state_bytes: usize,
    /// With this many alerts undrained, `push` answers [`PushError::BackPressure`].
    pub max_buffered_alerts: usize,
    /// How late (in event time) an event may arrive and still be put in order.
    pub reorder_window_ms: u64,
    /// Seeds the hashing of join keys. The engine has no entropy of its
    /// own (a wasm module imports nothing): a host facing untrusted events
    /// passes a random seed, so that key values crafted to collide under
    /// one seed (pile up in one bucket) do not under its own.
    pub hash_seed: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_event_bytes: 1 << 20,
            max_pending_sequences: 1_000_000,
            max_state_bytes: 512 << 20,
            max_total_state_bytes: 512 << 20,
            max_buffered_alerts: 10_000,
            reorder_window_ms: 0,
            hash_seed: 0,
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

    pub(crate) fn from_json(json: String) -> Alert {
        Alert { json }
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

/// Compiled rules, the shared decoder, and their state.
pub struct Engine {
    pub(crate) limits: Limits,
    /// The fields every rule reads, each once; `@timestamp` is field 0.
    pub(crate) fields: Vec<FieldSpec>,
    pub(crate) trie: FieldTrie,
    pub(crate) decoded: Decoded,
    pub(crate) rules: Vec<RuleRun>,
    dispatch: Dispatch,
    /// A pack's shared literal tests; none for one rule.
    prefilter: Option<Prefilter>,
    /// The rules an event was dispatched to (reused).
    picked: Vec<u32>,
    /// Rules holding state that event time can change, and a flag per rule.
    active: Vec<u32>,
    is_active: Vec<bool>,
    pub(crate) alerts: Vec<Alert>,
    /// Highest event time seen.
    pub(crate) watermark: Option<i64>,
    pub(crate) arrivals: u64,
    /// Counters of the engine as a whole (events, bytes, errors).
    pub(crate) stats: Stats,
    /// Built from a pack: stats list each rule, and the refused ones.
    pack: Option<Vec<RefusedRule>>,
}

impl Engine {
    /// The embedded default rule with default limits.
    pub fn with_embedded_rule() -> Engine {
        // The embedded rule is compiled by a unit test; failing here is a build defect.
        Engine::new(Rule::embedded(), Limits::default()).expect("embedded rule compiles")
    }

    /// The first rule (the only one, unless the engine runs a pack; none
    /// for a pack none of whose rules compiled).
    pub fn rule(&self) -> Option<&Rule> {
        self.rules.first().map(|r| &r.rule)
    }

    /// The rules the engine runs, in pack order.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().map(|r| &r.rule)
    }

    /// The rules of the pack that did not compile.
    pub fn refused_rules(&self) -> &[RefusedRule] {
        self.pack.as_deref().unwrap_or(&[])
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Takes one JSON event; returns the number of alerts waiting to be drained.
    /// On error the engine's state is as it was (only the error counter moves).
    pub fn push(&mut self, event: &[u8]) -> Result<usize, PushError> {
        self.push_counted(event, None)
    }

    /// As [`Engine::push`], with the host's time for an event that has no `@timestamp`.
    pub fn push_with_fallback_time(
        &mut self,
        event: &[u8],
        fallback_ms: i64,
    ) -> Result<usize, PushError> {
        self.push_counted(event, Some(fallback_ms))
    }

    fn push_counted(&mut self, event: &[u8], fallback_ms: Option<i64>) -> Result<usize, PushError> {
        let result = self.push_inner(msgpack::Input::Json(event), fallback_ms);
        if let Err(e) = &result {
            self.stats.errors.count(e.kind());
        }
        result
    }

    fn push_inner(
        &mut self,
        event: msgpack::Input<'_>,
        fallback_ms: Option<i64>,
    ) -> Result<usize, PushError> {
        if self.alerts.len() >= self.limits.max_buffered_alerts {
            return Err(PushError::BackPressure);
        }
        if event.len() > self.limits.max_event_bytes {
            return Err(PushError::TooLarge {
                len: event.len(),
                max: self.limits.max_event_bytes,
            });
        }
        let (text, record, len) = self.decode_input(event)?;
        let ts = self
            .decoded
            .timestamp
            .or(fallback_ms)
            .ok_or(PushError::MissingTimestamp)?;

        // Accepted: from here on nothing fails.
        self.arrivals += 1;
        self.stats.events += 1;
        self.stats.bytes += len as u64;
        for &kind in &self.decoded.ignored_malformed {
            self.stats.ignored_malformed.count(kind);
        }
        let anchored = match &mut self.prefilter {
            Some(prefilter) => {
                let in_order = self.limits.reorder_window_ms == 0;
                let active = in_order.then_some(&self.is_active[..]);
                prefilter.run(&self.decoded, text, self.arrivals, active);
                &prefilter.hit_rules[..]
            }
            None => &[],
        };
        self.dispatch.pick(
            &self.decoded,
            text,
            self.arrivals,
            anchored,
            &mut self.picked,
        );
        let released_upto = self.released_upto();
        let mut kept = None;
        let mut touched = false;
        for &r in &self.picked {
            let rule = &mut self.rules[r as usize];
            let mut event = EventRef {
                decoded: &self.decoded,
                text,
                msgpack: record,
                ts,
                arrival: self.arrivals,
                kept: &mut kept,
                prefilter: self.prefilter.as_ref(),
                in_order: self.limits.reorder_window_ms == 0,
            };
            if let Some(candidate) = rule.judge(&mut event) {
                rule.admit(candidate, released_upto, &self.limits, &mut self.alerts);
                touched = true;
                if !self.is_active[r as usize] {
                    self.is_active[r as usize] = true;
                    self.active.push(r);
                }
            }
        }
        self.advance_watermark(ts);
        if touched {
            self.enforce_limits();
        }
        Ok(self.alerts.len())
    }

    /// Event time up to which the reorder window has released everything.
    fn released_upto(&self) -> Option<i64> {
        let window = i64::try_from(self.limits.reorder_window_ms).unwrap_or(i64::MAX);
        self.watermark.map(|w| w.saturating_sub(window))
    }

    fn advance_watermark(&mut self, ts: i64) {
        if self.watermark.is_some_and(|w| w >= ts) {
            return;
        }
        self.watermark = Some(ts);
        self.release_and_expire();
    }

    /// Lets every active rule see the new event time; rules left with
    /// nothing time could change stop being visited.
    fn release_and_expire(&mut self) {
        let Some(upto) = self.released_upto() else {
            return;
        };
        for &r in &self.active {
            let rule = &mut self.rules[r as usize];
            rule.release_and_expire(upto, &mut self.alerts);
        }
        self.enforce_limits();
    }

    /// Finds the rules holding state anew (after a restore).
    pub(crate) fn recompute_active(&mut self) {
        self.active = (0..self.rules.len() as u32)
            .filter(|&r| !self.rules[r as usize].is_idle())
            .collect();
        for (r, flag) in self.is_active.iter_mut().enumerate() {
            *flag = !self.rules[r].is_idle();
        }
    }

    /// Each active rule within its own bounds, then all of them within the
    /// total: the rule holding the most state gives up its oldest first.
    fn enforce_limits(&mut self) {
        let mut total = 0usize;
        for &r in &self.active {
            let rule = &mut self.rules[r as usize];
            rule.enforce(&self.limits);
            total += rule.state_bytes();
        }
        // One rule is bounded by `max_state_bytes` alone.
        while self.rules.len() > 1 && total > self.limits.max_total_state_bytes {
            let Some(&largest) = self
                .active
                .iter()
                .max_by_key(|&&r| self.rules[r as usize].state_bytes())
            else {
                break;
            };
            let rule = &mut self.rules[largest as usize];
            let before = rule.state_bytes();
            let excess = total - self.limits.max_total_state_bytes;
            rule.enforce_to(usize::MAX, before.saturating_sub(excess));
            let after = rule.state_bytes();
            if after >= before {
                break;
            }
            total -= before - after;
        }
        let rules = &self.rules;
        let is_active = &mut self.is_active;
        self.active.retain(|&r| {
            let keep = !rules[r as usize].is_idle();
            is_active[r as usize] = keep;
            keep
        });
    }

    /// Takes a batch of newline-delimited events. A bad line is refused and
    /// reported; the others are processed. The alert buffer is checked once,
    /// before the batch: a full buffer refuses the whole batch with
    /// `Err(BackPressure)`; once started, a batch runs to its end.
    pub fn push_ndjson(&mut self, batch: &[u8]) -> Result<BatchReport, PushError> {
        if self.alerts.len() >= self.limits.max_buffered_alerts {
            self.stats
                .errors
                .count(crate::error::ErrorKind::BackPressure);
            return Err(PushError::BackPressure);
        }
        let saved = self.limits.max_buffered_alerts;
        self.limits.max_buffered_alerts = usize::MAX;
        let mut report = BatchReport::default();
        // Line ends found a word at a time, not by a byte loop: in wasm
        // under a CPU bound a byte loop pays the bound's check per byte,
        // more than decoding costs (BENCHMARKS.md, "CPU bound"). The same
        // lines as `batch.split(|&b| b == b'\n')`, the last one unterminated.
        let line_ends = line_ends(batch).chain(core::iter::once(batch.len()));
        let mut start = 0;
        for (n, end) in line_ends.enumerate() {
            let line = &batch[start..end];
            start = end + 1;
            if line.trim_ascii().is_empty() {
                continue;
            }
            match self.push_counted(line, None) {
                Ok(_) => report.taken += 1,
                Err(e) => report.refused.push((n + 1, e)),
            }
        }
        self.limits.max_buffered_alerts = saved;
        report.alerts_pending = self.alerts.len();
        Ok(report)
    }

    /// Alerts completed so far, oldest first; the buffer is emptied.
    pub fn drain(&mut self) -> Vec<Alert> {
        core::mem::take(&mut self.alerts)
    }

    /// As [`Engine::drain`], appending each alert and a `\n` to `out`; returns how many.
    pub fn drain_ndjson(&mut self, out: &mut Vec<u8>) -> usize {
        let n = self.alerts.len();
        for alert in self.alerts.drain(..) {
            out.extend_from_slice(alert.json.as_bytes());
            out.push(b'\n');
        }
        n
    }

    pub fn pending_alerts(&self) -> usize {
        self.alerts.len()
    }

    /// End of stream: every event the reorder window holds is matched now,
    /// and `| tail` lets out what it holds. Pending sequences stay (they
    /// expire with event time), so flushing mid-stream loses nothing.
    /// Returns alerts waiting to be drained.
    pub fn flush(&mut self) -> usize {
        // Every rule: `| tail` holds results whatever else the rule holds.
        for rule in &mut self.rules {
            rule.flush(&self.limits, &mut self.alerts);
        }
        self.enforce_limits();
        self.alerts.len()
    }

    /// A clock tick from the host, in event-time milliseconds: the reorder
    /// window releases and sequences whose maxspan ended expire as if an
    /// event of that time had come. Returns alerts waiting to be drained.
    pub fn advance_time(&mut self, now_ms: i64) -> usize {
        if self.watermark.is_none_or(|w| w < now_ms) {
            self.watermark = Some(now_ms);
            self.release_and_expire();
        }
        self.alerts.len()
    }

    /// Counters, with the state figures as of now: the rule's, or for a
    /// pack their sums, with each rule's in `rules`.
    pub fn stats(&self) -> Stats {
        let mut stats = self.stats.clone();
        for rule in &self.rules {
            stats.add_rule(&rule.stats());
        }
        match &self.pack {
            None => {
                if let Some(rule) = self.rules.first() {
                    stats.stage_matches = rule.counts.stage_matches.clone();
                }
            }
            Some(refused) => {
                stats.rules = self.rules.iter().map(RuleRun::stats).collect();
                stats.refused_rules = refused.iter().map(RefusedRule::stats).collect();
            }
        }
        stats
    }
}

/// The positions of `\n` in a batch: memchr's (SIMD where the target has
/// it) but in wasm without `simd128`, where our eight-byte words beat its
/// four-byte ones.
fn line_ends(batch: &[u8]) -> impl Iterator<Item = usize> + '_ {
    #[cfg(all(target_arch = "wasm32", not(target_feature = "simd128")))]
    {
        let mut from = 0;
        core::iter::from_fn(move || {
            let end = crate::swar::find_byte(batch, b'\n', from)?;
            from = end + 1;
            Some(end)
        })
    }
    #[cfg(not(all(target_arch = "wasm32", not(target_feature = "simd128"))))]
    {
        memchr::memchr_iter(b'\n', batch)
    }
}

/// An event's text: surrounding white space trimmed, not empty, UTF-8.
pub(crate) fn event_text(event: &[u8]) -> Result<&str, PushError> {
    let event = event.trim_ascii();
    if event.is_empty() {
        return Err(PushError::Empty);
    }
    // Events are nearly all ASCII: whole blocks of it are passed over a
    // word at a time, and only the rest goes through `from_utf8`.
    let ascii = crate::swar::ascii_blocks_len(event);
    let rest = event.get(ascii..).unwrap_or_default();
    match core::str::from_utf8(rest) {
        // SAFETY: `event[..ascii]` is ASCII and `event[ascii..]` is UTF-8;
        // ASCII bytes are whole characters, so `rest` starts on a character
        // boundary and the two together are UTF-8.
        Ok(_) => Ok(unsafe { core::str::from_utf8_unchecked(event) }),
        // The first bad byte of `rest` is the first of the event.
        Err(e) => Err(PushError::InvalidUtf8 {
            offset: ascii + e.valid_up_to(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `event_text` takes what `from_utf8` takes and refuses the rest at
    /// the same offset, whether the bad byte sits in the ASCII blocks it
    /// passes over a word at a time, on their edge or after them.
    #[test]
    fn event_text_agrees_with_from_utf8() {
        let bad: [&[u8]; 5] = [b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf"];
        let good: [&[u8]; 3] = ["é".as_bytes(), "€".as_bytes(), "𝄞".as_bytes()];
        for len in 1..40 {
            for at in 0..len {
                for piece in bad.iter().chain(&good) {
                    let mut event = alloc::vec![b'a'; len];
                    event.splice(at..at, piece.iter().copied());
                    let expected = core::str::from_utf8(&event).map_err(|e| e.valid_up_to());
                    let got = event_text(&event).map_err(|e| match e {
                        PushError::InvalidUtf8 { offset } => offset,
                        other => panic!("{other:?}"),
                    });
                    assert_eq!(got, expected, "{event:?}");
                }
            }
        }
    }
}
