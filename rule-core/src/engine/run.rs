//! One rule of an engine: its plan and its state. The engine decodes an
//! event once for all its rules; each rule that the dispatcher picks judges
//! it here, joins it to its own pending sequences (or samples) and renders
//! its own alerts.

use alloc::borrow::Cow;
use alloc::collections::BinaryHeap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cmp::Reverse;

use crate::alert::AlertTemplate;
use crate::decode::Decoded;
use crate::eval::{self, EvalCounts};
use crate::pipes::Pipes;
use crate::plan::{KeyField, Plan, Shape, ValueKind, ValueRef};
use crate::rule::Rule;
use crate::sample::Sampler;
use crate::sequence::{Candidate, Completed, Key, Matcher, MissingAt, MissingLayout, Ordinal};
use crate::stats::RuleStats;

use super::prefilter::{AnchorId, Prefilter, RuleAnchors};
use super::{Alert, Limits, MAX_KEYS_PER_EVENT, MISSING_EVENT};

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

/// One rule: its plan (field ids in the engine's shared table) and state.
pub(crate) struct RuleRun {
    pub(crate) rule: Rule,
    pub(crate) plan: Plan,
    /// Each field's kind as this rule's scripts read it (by shared id).
    pub(crate) kinds: Vec<ValueKind>,
    template: AlertTemplate,
    pub(crate) matcher: Matcher,
    /// A `sample` query's state (its plan's stages are all positive).
    pub(crate) sampler: Option<Sampler>,
    /// Candidates held back by the reorder window, earliest first.
    pub(crate) reorder: BinaryHeap<Reverse<Held>>,
    completed: Vec<Completed>,
    pub(crate) eval_counts: EvalCounts,
    /// `| head`, `| tail` between completed results and the alert buffer.
    pub(crate) pipes: Pipes<Alert>,
    /// For each stage of the plan: its positive stage number, or where it
    /// sits as a missing-event stage.
    pub(crate) stage_roles: Vec<StageRole>,
    /// Counters of this rule (the state figures are filled in by `stats`).
    pub(crate) counts: RuleStats,
    /// In a pack, each stage's anchor (then `until`'s): see [`Prefilter`].
    pub(crate) anchors: RuleAnchors,
    /// Seeds the hashing of join keys ([`Limits::hash_seed`]).
    hash_seed: u64,
}

/// What the engine hands a rule with an event: where the event stands and
/// its text, shared by every rule that keeps it.
pub(crate) struct EventRef<'a> {
    pub decoded: &'a Decoded,
    pub text: &'a str,
    /// The event as MessagePack (`text` is then empty): made JSON text
    /// only when a rule keeps it.
    pub msgpack: Option<&'a [u8]>,
    pub ts: i64,
    pub arrival: u64,
    /// The event as kept in state, made by the first rule that keeps it.
    pub kept: &'a mut Option<Arc<str>>,
    /// The anchors this event passed, in a pack.
    pub prefilter: Option<&'a Prefilter>,
    /// Events are matched as they come (no reorder window): the state a
    /// rule holds now is the state this event meets.
    pub in_order: bool,
}

impl EventRef<'_> {
    /// Can the stage with this anchor pass at all?
    fn may_pass(&self, anchor: Option<&Option<AnchorId>>) -> bool {
        match (self.prefilter, anchor) {
            (Some(prefilter), Some(Some(id))) => prefilter.passed(*id, self.arrival),
            _ => true,
        }
    }
}

impl RuleRun {
    pub(crate) fn new(rule: Rule, plan: Plan, kinds: Vec<ValueKind>, hash_seed: u64) -> RuleRun {
        let template = AlertTemplate::new(&rule.meta, plan.key_names.clone());
        let (stage_roles, positives, layout) = stage_roles(&plan);
        let matcher = Matcher::new(positives, plan.maxspan_ms, layout, hash_seed);
        let sampler = match plan.shape {
            Shape::Sample { max_per_key } => Some(Sampler::new(positives, max_per_key, hash_seed)),
            Shape::Events | Shape::Sequence => None,
        };
        let counts = RuleStats {
            id: rule.meta.id.clone(),
            name: rule.meta.name.clone(),
            stage_matches: alloc::vec![0; plan.stages.len()],
            ..RuleStats::default()
        };
        let pipes = Pipes::new(&plan.pipes);
        RuleRun {
            rule,
            kinds,
            template,
            matcher,
            sampler,
            reorder: BinaryHeap::new(),
            completed: Vec::new(),
            eval_counts: EvalCounts::default(),
            pipes,
            stage_roles,
            plan,
            counts,
            anchors: Vec::new(),
            hash_seed,
        }
    }

    /// Judges the event against every stage (and `until`): the candidate
    /// to match, or `None` when the event is nothing to this rule.
    pub(crate) fn judge(&mut self, event: &mut EventRef<'_>) -> Option<Candidate> {
        let (decoded, text) = (event.decoded, event.text);
        let mut hits = Vec::new();
        let mut missing = Vec::new();
        // The verdict of the stage before, for a `runs=N` copy of it.
        let mut previous: Option<Vec<Key>> = None;
        for (i, stage) in self.plan.stages.iter().enumerate() {
            let keys = match previous.take() {
                Some(keys) if stage.repeats_previous => keys,
                _ if stage.repeats_previous => continue,
                _ => {
                    if self.cannot_extend(i, event.in_order)
                        || !event.may_pass(self.anchors.get(i))
                        || !eval::matches(
                            &stage.filter,
                            decoded,
                            text,
                            &self.kinds,
                            &mut self.eval_counts,
                        )
                    {
                        continue;
                    }
                    join_keys(decoded, &stage.keys, text, &mut self.counts.truncated_keys)
                }
            };
            self.counts.stage_matches[i] += 1;
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
            // `until` only ends pending sequences.
            let pending = !event.in_order || self.matcher.pending() > 0;
            if pending
                && event.may_pass(self.anchors.get(self.plan.stages.len()))
                && eval::matches(
                    &until.filter,
                    decoded,
                    text,
                    &self.kinds,
                    &mut self.eval_counts,
                )
            {
                let keys = join_keys(decoded, &until.keys, text, &mut self.counts.truncated_keys);
                if !keys.is_empty() {
                    hits.push((self.matcher.stage_count(), keys));
                }
            }
        }
        if hits.is_empty() && missing.is_empty() {
            return None;
        }
        let tiebreak = match self.plan.tiebreaker {
            None => 0,
            Some(field) => match decoded.values(text, field).next() {
                Some(ValueRef::Number(n)) => ordered_bits(n),
                // Elasticsearch sorts a missing tiebreaker after any value.
                _ => u64::MAX,
            },
        };
        let ordinal: Ordinal = (event.ts, tiebreak, event.arrival);
        let record = event.msgpack;
        let kept = event
            .kept
            .get_or_insert_with(|| super::msgpack::kept(text, record))
            .clone();
        Some(Candidate {
            ordinal,
            event: kept,
            hits,
            missing,
        })
    }

    /// Stage `i` is a later stage of a sequence that nothing waits for:
    /// an event matching it would extend no sequence, so it is not judged
    /// (most events of a pack pass some rule's later stage, rarely one
    /// that a sequence waits for). Only when events meet the state in
    /// their order, and not for a stage whose verdict a `runs` copy reuses.
    fn cannot_extend(&self, i: usize, in_order: bool) -> bool {
        let StageRole::Positive(p) = self.stage_roles[i] else {
            return false;
        };
        in_order && judged_only_while_awaited(&self.plan, i) && !self.matcher.awaits(p)
    }

    /// Empties the rule's state and counters, as a snapshot restore
    /// begins (what scripts and pipes counted stays).
    pub(crate) fn reset(&mut self) {
        let (_, positives, layout) = stage_roles(&self.plan);
        self.matcher = Matcher::new(positives, self.plan.maxspan_ms, layout, self.hash_seed);
        if let Shape::Sample { max_per_key } = self.plan.shape {
            self.sampler = Some(Sampler::new(positives, max_per_key, self.hash_seed));
        }
        self.reorder.clear();
        self.completed.clear();
        self.counts = RuleStats {
            id: core::mem::take(&mut self.counts.id),
            name: core::mem::take(&mut self.counts.name),
            stage_matches: alloc::vec![0; self.plan.stages.len()],
            ..RuleStats::default()
        };
    }

    /// Puts a candidate in event-time order through the reorder window:
    /// matched now when the window is closed or the event is too late.
    pub(crate) fn admit(
        &mut self,
        candidate: Candidate,
        released_upto: Option<i64>,
        limits: &Limits,
        alerts: &mut Vec<Alert>,
    ) {
        let late = released_upto.is_some_and(|r| candidate.ordinal.0 < r);
        if late {
            // Too late to be put in order: matched now, against the state as it is.
            self.counts.late_events += 1;
        }
        if late || limits.reorder_window_ms == 0 {
            self.run(&candidate, alerts);
        } else {
            self.reorder.push(Reverse(Held(candidate)));
        }
        self.enforce(limits);
    }

    /// Event time reached `upto` (the reorder window taken off): held
    /// events up to it are matched, windows that ended close.
    pub(crate) fn release_and_expire(&mut self, upto: i64, alerts: &mut Vec<Alert>) {
        while self
            .reorder
            .peek()
            .is_some_and(|Reverse(h)| h.0.ordinal.0 <= upto)
        {
            if let Some(Reverse(Held(c))) = self.reorder.pop() {
                self.run(&c, alerts);
            }
        }
        self.matcher.expire(upto);
        self.matcher
            .release_waiting(Some(upto), &mut self.completed);
        self.emit_completed(alerts);
    }

    /// End of stream: see [`super::Engine::flush`].
    pub(crate) fn flush(&mut self, limits: &Limits, alerts: &mut Vec<Alert>) {
        while let Some(Reverse(Held(c))) = self.reorder.pop() {
            self.run(&c, alerts);
        }
        self.matcher.release_waiting(None, &mut self.completed);
        self.emit_completed(alerts);
        let before = alerts.len();
        self.pipes.flush(alerts);
        self.counts.alerts += (alerts.len() - before) as u64;
        self.enforce(limits);
    }

    /// Holds nothing that the passing of event time could change.
    pub(crate) fn is_idle(&self) -> bool {
        self.reorder.is_empty()
            && self.matcher.is_idle()
            && self.sampler.as_ref().is_none_or(|s| s.pending() == 0)
    }

    /// Bytes of state this rule holds.
    pub(crate) fn state_bytes(&self) -> usize {
        self.matcher.state_bytes() + self.sampler.as_ref().map_or(0, Sampler::state_bytes)
    }

    pub(crate) fn enforce(&mut self, limits: &Limits) {
        self.enforce_to(limits.max_pending_sequences, limits.max_state_bytes);
    }

    /// Evicts, oldest first, down to these bounds.
    pub(crate) fn enforce_to(&mut self, max_pending: usize, max_bytes: usize) {
        if let Some(sampler) = &mut self.sampler {
            sampler.enforce(max_pending, max_bytes);
        }
        self.matcher.enforce(max_pending, max_bytes);
    }

    fn run(&mut self, candidate: &Candidate, alerts: &mut Vec<Alert>) {
        match &mut self.sampler {
            Some(sampler) => sampler.process(candidate, &mut self.completed),
            None => self.matcher.process(candidate, &mut self.completed),
        }
        self.emit_completed(alerts);
    }

    /// Renders the sequences the matcher completed, through the pipes. A
    /// missing-event stage shows in `Events` as `{"missing":true}`, as
    /// Elasticsearch marks it.
    fn emit_completed(&mut self, alerts: &mut Vec<Alert>) {
        if self.completed.is_empty() {
            return;
        }
        let before = alerts.len();
        let completed = core::mem::take(&mut self.completed);
        for done in completed {
            let events = self.with_placeholders(done.events);
            let json = self.template.render(done.last_ts, &done.key, &events);
            self.pipes.push(Alert::from_json(json), alerts);
        }
        self.counts.alerts += (alerts.len() - before) as u64;
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

    /// This rule's counters with its state figures as of now.
    pub(crate) fn stats(&self) -> RuleStats {
        let mut stats = self.counts.clone();
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

/// Stage `i` of the plan (`i == stages.len()`: its `until`) is judged, when
/// events meet the state in their order, only while some sequence waits
/// for it: a later positive stage of a sequence (not one whose verdict a
/// `runs` copy reuses), or `until`. While the rule holds no state at all,
/// such a stage is nothing to an event (see `RuleRun::judge`).
pub(crate) fn judged_only_while_awaited(plan: &Plan, i: usize) -> bool {
    let Some(stage) = plan.stages.get(i) else {
        return i == plan.stages.len() && plan.until.is_some();
    };
    let first_positive = plan.stages.iter().position(|s| !s.missing);
    !matches!(plan.shape, Shape::Sample { .. })
        && !stage.missing
        && first_positive.is_some_and(|first| i > first)
        && !plan
            .stages
            .get(i + 1)
            .is_some_and(|next| next.repeats_previous)
}

/// The join keys of the decoded event (S7, S8): none when a key field has no value.
fn join_keys(decoded: &Decoded, fields: &[KeyField], text: &str, truncated: &mut u64) -> Vec<Key> {
    // Most key fields hold one value: one key, built straight from them.
    let mut parts: Vec<Option<Cow<'_, str>>> = Vec::with_capacity(fields.len());
    for key in fields {
        let mut values = key.field.into_iter().flat_map(|f| decoded.values(text, f));
        match (values.next(), values.next()) {
            (None, _) if !key.nullable => return Vec::new(),
            (None, _) => parts.push(None),
            (Some(v), None) => parts.push(Some(key_text(v))),
            (Some(_), Some(_)) => return every_join_key(decoded, fields, text, truncated),
        }
    }
    alloc::vec![Key::new(parts.iter().map(Option::as_deref))]
}

/// A key value as text: numbers and addresses as Elasticsearch prints them.
fn key_text(v: ValueRef<'_>) -> Cow<'_, str> {
    match v {
        ValueRef::Str(s) => Cow::Borrowed(s),
        ValueRef::Ip(ip) => Cow::Owned(alloc::format!("{ip}")),
        ValueRef::Number(n) => Cow::Owned(alloc::format!("{n}")),
    }
}

/// The keys of an event with a multi-valued key field: one per
/// combination of values, at most [`MAX_KEYS_PER_EVENT`].
fn every_join_key(
    decoded: &Decoded,
    fields: &[KeyField],
    text: &str,
    truncated: &mut u64,
) -> Vec<Key> {
    let mut columns: Vec<Vec<Option<Cow<'_, str>>>> = Vec::with_capacity(fields.len());
    for key in fields {
        let values: Vec<Option<Cow<'_, str>>> = match key.field {
            Some(f) => decoded.values(text, f).map(|v| Some(key_text(v))).collect(),
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
