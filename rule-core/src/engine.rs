//! The engine a host drives: push events, drain alerts.

use alloc::collections::BinaryHeap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cmp::Reverse;

use crate::alert::AlertTemplate;
use crate::compile::compile;
use crate::decode::{decode, Decoded, FieldTrie};
use crate::error::{PushError, RuleError};
use crate::eval::{self, EvalCounts};
use crate::pipes::Pipes;
use crate::plan::{KeyField, Plan, Shape, ValueKind, ValueRef};
use crate::rule::Rule;
use crate::sample::Sampler;
use crate::sequence::{Candidate, Completed, Key, Matcher, MissingAt, MissingLayout, Ordinal};
use crate::stats::Stats;
use crate::syntax::parse;

/// A number's bits, ordered as the numbers are (negative ones flipped),
/// so tiebreakers compare as integers; `u64::MAX` stays free for "absent".
fn ordered_bits(n: f64) -> u64 {
    let bits = n.to_bits();
    let ordered = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    ordered.min(u64::MAX - 1)
}

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

/// A compiled rule and its sequence state.
pub struct Engine {
    pub(crate) rule: Rule,
    pub(crate) limits: Limits,
    pub(crate) plan: Plan,
    pub(crate) trie: FieldTrie,
    pub(crate) template: AlertTemplate,
    pub(crate) matcher: Matcher,
    /// A `sample` query's state (its plan's stages are all positive).
    pub(crate) sampler: Option<Sampler>,
    /// Candidates held back by the reorder window, earliest first.
    pub(crate) reorder: BinaryHeap<Reverse<Held>>,
    pub(crate) alerts: Vec<Alert>,
    pub(crate) completed: Vec<Completed>,
    pub(crate) decoded: Decoded,
    /// Each field's kind, as scripts read it.
    pub(crate) kinds: Vec<ValueKind>,
    pub(crate) eval_counts: EvalCounts,
    /// `| head`, `| tail` between completed results and the alert buffer.
    pub(crate) pipes: Pipes<Alert>,
    /// For each stage of the plan: its positive stage number, or where it
    /// sits as a missing-event stage.
    pub(crate) stage_roles: Vec<StageRole>,
    /// Highest event time seen.
    pub(crate) watermark: Option<i64>,
    pub(crate) arrivals: u64,
    pub(crate) stats: Stats,
}

/// What a plan stage is to the matcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StageRole {
    Positive(usize),
    Missing(MissingAt),
}

/// The positive stage numbers and missing-stage positions of a plan.
pub(crate) fn stage_roles(plan: &Plan) -> (Vec<StageRole>, usize, MissingLayout) {
    let mut roles = Vec::with_capacity(plan.stages.len());
    let mut positives = 0usize;
    let mut layout = MissingLayout::default();
    for stage in &plan.stages {
        if stage.missing {
            let at = match positives.checked_sub(1) {
                None => {
                    layout.leading = true;
                    MissingAt::Leading
                }
                Some(p) => MissingAt::After(p),
            };
            roles.push(StageRole::Missing(at));
        } else {
            roles.push(StageRole::Positive(positives));
            positives += 1;
        }
    }
    layout.after = alloc::vec![false; positives];
    for role in &roles {
        if let StageRole::Missing(MissingAt::After(p)) = role {
            layout.after[*p] = true;
        }
    }
    (roles, positives, layout)
}

/// A candidate in the reorder buffer, ordered by its ordinal alone.
pub(crate) struct Held(pub(crate) Candidate);

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        self.0.ordinal == other.0.ordinal
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.0.ordinal.cmp(&other.0.ordinal)
    }
}

impl Engine {
    /// Compiles `rule`; an EQL error names its line and column.
    pub fn new(rule: Rule, limits: Limits) -> Result<Engine, RuleError> {
        let query = parse(&rule.query)?;
        let plan = compile(&query, &rule.params)?;
        let trie = FieldTrie::new(&plan.fields);
        let template = AlertTemplate::new(&rule.meta, plan.key_names.clone());
        let (stage_roles, positives, layout) = stage_roles(&plan);
        let matcher = Matcher::new(positives, plan.maxspan_ms, layout);
        let sampler = match plan.shape {
            Shape::Sample { max_per_key } => Some(Sampler::new(positives, max_per_key)),
            Shape::Events | Shape::Sequence => None,
        };
        let stats = Stats {
            stage_matches: alloc::vec![0; plan.stages.len()],
            ..Stats::default()
        };
        let kinds = plan.fields.iter().map(|f| f.kind).collect();
        let pipes = Pipes::new(&plan.pipes);
        Ok(Engine {
            rule,
            limits,
            kinds,
            eval_counts: EvalCounts::default(),
            pipes,
            stage_roles,
            plan,
            trie,
            template,
            matcher,
            sampler,
            reorder: BinaryHeap::new(),
            alerts: Vec::new(),
            completed: Vec::new(),
            decoded: Decoded::default(),
            watermark: None,
            arrivals: 0,
            stats,
        })
    }

    /// The embedded default rule with default limits.
    pub fn with_embedded_rule() -> Engine {
        // The embedded rule is compiled by a unit test; failing here is a build defect.
        Engine::new(Rule::embedded(), Limits::default()).expect("embedded rule compiles")
    }

    pub fn rule(&self) -> &Rule {
        &self.rule
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
        let result = self.push_inner(event, fallback_ms);
        if let Err(e) = &result {
            self.stats.errors.count(e.kind());
        }
        result
    }

    fn push_inner(&mut self, event: &[u8], fallback_ms: Option<i64>) -> Result<usize, PushError> {
        if self.alerts.len() >= self.limits.max_buffered_alerts {
            return Err(PushError::BackPressure);
        }
        if event.len() > self.limits.max_event_bytes {
            return Err(PushError::TooLarge {
                len: event.len(),
                max: self.limits.max_event_bytes,
            });
        }
        let text = event_text(event)?;
        let event = text.as_bytes();
        decode(&self.plan.fields, &self.trie, text, &mut self.decoded)?;
        let ts = self
            .decoded
            .timestamp
            .or(fallback_ms)
            .ok_or(PushError::MissingTimestamp)?;

        // Accepted: from here on nothing fails.
        self.arrivals += 1;
        self.stats.events += 1;
        self.stats.bytes += event.len() as u64;
        let tiebreak = match self.plan.tiebreaker {
            None => 0,
            Some(field) => match self.decoded.values(text, field).next() {
                Some(ValueRef::Number(n)) => ordered_bits(n),
                // Elasticsearch sorts a missing tiebreaker after any value.
                _ => u64::MAX,
            },
        };
        let ordinal: Ordinal = (ts, tiebreak, self.arrivals);
        let mut hits = Vec::new();
        let mut missing = Vec::new();
        // The verdict of the stage before, for a `runs=N` copy of it.
        let mut previous: Option<Vec<Key>> = None;
        for (i, stage) in self.plan.stages.iter().enumerate() {
            let keys = match previous.take() {
                Some(keys) if stage.repeats_previous => keys,
                _ if stage.repeats_previous => continue,
                _ => {
                    if !eval::matches(
                        &stage.filter,
                        &self.decoded,
                        text,
                        &self.kinds,
                        &mut self.eval_counts,
                    ) {
                        continue;
                    }
                    join_keys(
                        &self.decoded,
                        &stage.keys,
                        text,
                        &mut self.stats.truncated_keys,
                    )
                }
            };
            self.stats.stage_matches[i] += 1;
            if self
                .plan
                .stages
                .get(i + 1)
                .is_some_and(|s| s.repeats_previous)
            {
                previous = Some(keys.clone());
            }
            if keys.is_empty() {
                continue;
            }
            match self.stage_roles[i] {
                StageRole::Positive(p) => hits.push((p, keys)),
                StageRole::Missing(at) => missing.push((at, keys)),
            }
        }
        if let Some(until) = &self.plan.until {
            if eval::matches(
                &until.filter,
                &self.decoded,
                text,
                &self.kinds,
                &mut self.eval_counts,
            ) {
                let keys = join_keys(
                    &self.decoded,
                    &until.keys,
                    text,
                    &mut self.stats.truncated_keys,
                );
                if !keys.is_empty() {
                    hits.push((self.matcher.stage_count(), keys));
                }
            }
        }
        if !hits.is_empty() || !missing.is_empty() {
            let candidate = Candidate {
                ordinal,
                event: Arc::from(text),
                hits,
                missing,
            };
            self.admit(candidate);
        }
        self.advance_watermark(ts);
        Ok(self.alerts.len())
    }

    /// Puts a candidate in event-time order through the reorder window.
    fn admit(&mut self, candidate: Candidate) {
        let released_upto = self.released_upto();
        let late = released_upto.is_some_and(|r| candidate.ordinal.0 < r);
        if late {
            // Too late to be put in order: matched now, against the state as it is.
            self.stats.late_events += 1;
        }
        if late || self.limits.reorder_window_ms == 0 {
            self.run(&candidate);
        } else {
            self.reorder.push(Reverse(Held(candidate)));
        }
    }

    /// Event time up to which the reorder window has released everything.
    fn released_upto(&self) -> Option<i64> {
        let window = i64::try_from(self.limits.reorder_window_ms).unwrap_or(i64::MAX);
        self.watermark.map(|w| w.saturating_sub(window))
    }

    fn advance_watermark(&mut self, ts: i64) {
        if self.watermark.is_some_and(|w| w >= ts) {
            self.enforce_limits();
            return;
        }
        self.watermark = Some(ts);
        self.release_and_expire();
    }

    fn release_and_expire(&mut self) {
        let Some(upto) = self.released_upto() else {
            return;
        };
        while self
            .reorder
            .peek()
            .is_some_and(|Reverse(h)| h.0.ordinal.0 <= upto)
        {
            if let Some(Reverse(Held(c))) = self.reorder.pop() {
                self.run(&c);
            }
        }
        self.matcher.expire(upto);
        self.matcher
            .release_waiting(Some(upto), &mut self.completed);
        self.emit_completed();
        self.enforce_limits();
    }

    fn enforce_limits(&mut self) {
        if let Some(sampler) = &mut self.sampler {
            sampler.enforce(
                self.limits.max_pending_sequences,
                self.limits.max_state_bytes,
            );
        }
        self.matcher.enforce(
            self.limits.max_pending_sequences,
            self.limits.max_state_bytes,
        );
    }

    fn run(&mut self, candidate: &Candidate) {
        match &mut self.sampler {
            Some(sampler) => sampler.process(candidate, &mut self.completed),
            None => self.matcher.process(candidate, &mut self.completed),
        }
        self.emit_completed();
    }

    /// Renders the sequences the matcher completed, through the pipes. A
    /// missing-event stage shows in `Events` as `{"missing":true}`, as
    /// Elasticsearch marks it.
    fn emit_completed(&mut self) {
        let before = self.alerts.len();
        let completed = core::mem::take(&mut self.completed);
        for done in completed {
            let events = self.with_placeholders(done.events);
            let json = self.template.render(done.last_ts, &done.key, &events);
            self.pipes.push(Alert { json }, &mut self.alerts);
        }
        self.stats.alerts += (self.alerts.len() - before) as u64;
    }

    fn with_placeholders(&self, events: Vec<Arc<str>>) -> Vec<Arc<str>> {
        if events.len() == self.stage_roles.len() {
            return events;
        }
        let placeholder: Arc<str> = Arc::from(MISSING_EVENT);
        let mut positives = events.into_iter();
        self.stage_roles
            .iter()
            .map(|role| match role {
                StageRole::Positive(_) => positives.next().unwrap_or_else(|| placeholder.clone()),
                StageRole::Missing(_) => placeholder.clone(),
            })
            .collect()
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
        for (n, line) in batch.split(|&b| b == b'\n').enumerate() {
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
        while let Some(Reverse(Held(c))) = self.reorder.pop() {
            self.run(&c);
        }
        self.matcher.release_waiting(None, &mut self.completed);
        self.emit_completed();
        let before = self.alerts.len();
        self.pipes.flush(&mut self.alerts);
        self.stats.alerts += (self.alerts.len() - before) as u64;
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

    /// Counters, with the state figures as of now.
    pub fn stats(&self) -> Stats {
        let mut stats = self.stats.clone();
        let (sample_keys, sample_bytes, sample_evictions) = self
            .sampler
            .as_ref()
            .map_or((0, 0, 0), |s| (s.pending(), s.state_bytes(), s.evictions));
        stats.pending_sequences = (self.matcher.pending() + sample_keys) as u64;
        stats.state_bytes = (self.matcher.state_bytes() + sample_bytes) as u64;
        stats.evictions = self.matcher.counts.evictions + sample_evictions;
        stats.expired = self.matcher.counts.expired;
        stats.ended_by_until = self.matcher.counts.ended_by_until;
        stats.discarded_by_missing = self.matcher.counts.discarded_by_missing;
        stats.reorder_held = self.reorder.len() as u64;
        stats.script_errors = self.eval_counts.script_errors;
        stats.script_truncated = self.eval_counts.script_truncated;
        stats.piped_out = self.pipes.dropped;
        stats
    }
}

/// The join keys of the decoded event (S7, S8): none when a key field has no value.
fn join_keys(decoded: &Decoded, fields: &[KeyField], text: &str, truncated: &mut u64) -> Vec<Key> {
    let mut columns: Vec<Vec<Option<String>>> = Vec::with_capacity(fields.len());
    for key in fields {
        let values: Vec<Option<String>> = match key.field {
            Some(f) => decoded
                .values(text, f)
                .map(|v| {
                    Some(match v {
                        ValueRef::Str(s) => String::from(s),
                        ValueRef::Ip(ip) => alloc::format!("{ip}"),
                        ValueRef::Number(n) => alloc::format!("{n}"),
                    })
                })
                .collect(),
            None => Vec::new(),
        };
        if values.is_empty() {
            if !key.nullable {
                return Vec::new();
            }
            columns.push(alloc::vec![None]);
            continue;
        }
        columns.push(values);
    }
    let mut combos: Vec<Vec<Option<&str>>> = alloc::vec![Vec::new()];
    for column in &columns {
        let mut next = Vec::with_capacity(combos.len() * column.len());
        'outer: for prefix in &combos {
            for v in column {
                if next.len() == MAX_KEYS_PER_EVENT {
                    *truncated += 1;
                    break 'outer;
                }
                let mut c = prefix.clone();
                c.push(v.as_deref());
                next.push(c);
            }
        }
        combos = next;
    }
    combos.into_iter().map(Key::new).collect()
}

/// An event's text: surrounding white space trimmed, not empty, UTF-8.
pub(crate) fn event_text(event: &[u8]) -> Result<&str, PushError> {
    let event = event.trim_ascii();
    if event.is_empty() {
        return Err(PushError::Empty);
    }
    core::str::from_utf8(event).map_err(|e| PushError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })
}
