//! The engine's state as bytes, and back, so detection survives a restart
//! or a rule reload.
//!
//! Format, version 4 (versions 1 and 2, one rule's state, and 3, without
//! the side state of missing events and samples, are read too; version 1's
//! ordinals have no tiebreaker), all integers little-endian:
//!
//! ```text
//! "RCSNAP\r\n"  u32 version  u64 payload length  payload  u64 FNV-1a(payload)
//! payload := watermark  arrivals  counters  ignored_malformed  rule*  alerts*
//! rule    := id  shape  counters  pending*  held*  leading*  leading_age*
//!            waiting*  sample_key*
//! pending := stage  key  first_ts  last  events  marks (lead, taint, doomed)
//! held    := ordinal  event  hits  missing_hits
//! ```
//!
//! A snapshot is read whole and checked (magic, version, length, checksum,
//! every count against the bytes left, every key and event as UTF-8) before
//! anything of the engine changes; one that fails is refused with a
//! [`SnapshotError`] and the engine is left as it was. A rule's state
//! restores into a rule of the same shape (stage count and join-key
//! count); the rule's text may differ, which is what a rule reload needs.
//! A pack matches rules by `rule.id`: a rule added starts afresh, a rule
//! removed (or reshaped) has its state dropped, and
//! [`Engine::restore_report`] says which.
//!
//! Missing-event stages (`![...]`) and samples are carried whole: what a
//! pending sequence knows of missing-stage events, each key's latest
//! leading events, completed sequences waiting for their trailing window,
//! the missing-stage hits of events in the reorder window, and a `sample`
//! query's keys (events kept per stage, samples given). A version 3
//! snapshot has none of it: restored, those sequences are judged as if no
//! such event had come before, and samples start afresh. Not carried:
//! the state of `| head` and `| tail` (a restored `head` counts afresh).

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cmp::Reverse;
use core::fmt;

use alloc::collections::BinaryHeap;

use crate::engine::{Alert, Engine, Held, RuleRun};
use crate::sample::SampleKeyState;
use crate::sequence::{
    Candidate, Key, MissingAt, MissingState, Ordinal, PendingMarks, WaitingState,
};

const MAGIC: &[u8; 8] = b"RCSNAP\r\n";
/// The snapshot format this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 4;

/// Why a snapshot was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotError {
    /// Not a snapshot of this engine at all.
    NotASnapshot,
    /// A snapshot format this build does not read.
    UnsupportedVersion(u32),
    /// Truncated, altered or inconsistent.
    Corrupt(&'static str),
    /// Taken from a rule of another shape (stages or join keys).
    IncompatibleRule { stages: u32, keys: u32 },
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::NotASnapshot => f.write_str("not an engine snapshot"),
            SnapshotError::UnsupportedVersion(v) => {
                write!(f, "snapshot format version {v} is not supported (this build reads {SNAPSHOT_VERSION})")
            }
            SnapshotError::Corrupt(what) => write!(f, "corrupt snapshot: {what}"),
            SnapshotError::IncompatibleRule { stages, keys } => write!(
                f,
                "snapshot is of a rule with {stages} stages and {keys} join keys, which this rule does not have"
            ),
        }
    }
}

impl core::error::Error for SnapshotError {}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What [`Engine::restore_report`] did with each rule of a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// Ids of the rules whose state was restored.
    pub restored: Vec<String>,
    /// Rules of the snapshot whose state was dropped: id and why.
    pub dropped: Vec<(String, String)>,
}

/// The engine's state as read, before anything of the engine changes.
struct EngineState {
    watermark: Option<i64>,
    arrivals: u64,
    events: u64,
    bytes: u64,
    errors: Vec<u64>,
    /// Zeros before version 4.
    ignored_malformed: Vec<u64>,
    rules: Vec<RuleState>,
}

/// One rule's state as read.
struct RuleState {
    id: String,
    stages: u32,
    keys: u32,
    counts: [u64; 5],
    stage_matches: Vec<u64>,
    pending: Vec<Pending>,
    held: Vec<Candidate>,
    missing: MissingState,
    sample_keys: Vec<SampleKeyState>,
}

struct Pending {
    stage: usize,
    key: Key,
    first_ts: i64,
    last: Ordinal,
    events: Vec<Arc<str>>,
    marks: PendingMarks,
}

impl Engine {
    /// The engine's whole state (each rule's pending sequences and events
    /// held by the reorder window, undrained alerts, counters) as bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        let mut w = Writer(Vec::new());
        w.opt_i64(self.watermark);
        w.u64(self.arrivals);
        w.u64(self.stats.events);
        w.u64(self.stats.bytes);
        for counts in [&self.stats.errors, &self.stats.ignored_malformed] {
            w.u32(counts.0.len() as u32);
            counts.0.iter().for_each(|&n| w.u64(n));
        }
        w.u64(self.rules.len() as u64);
        for rule in &self.rules {
            write_rule(&mut w, rule);
        }
        w.u64(self.alerts.len() as u64);
        self.alerts
            .iter()
            .for_each(|a| w.bytes(a.as_str().as_bytes()));

        let payload = w.0;
        let mut out = Vec::with_capacity(payload.len() + 28);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&payload);
        out.extend_from_slice(&fnv1a(&payload).to_le_bytes());
        out
    }

    /// Replaces the engine's state with a snapshot's. On error nothing
    /// changes. One rule restores from one rule whatever its id (a rule
    /// reload); a pack restores each of its rules from the snapshot's
    /// rule of the same id and shape, and starts the others afresh.
    pub fn restore(&mut self, snapshot: &[u8]) -> Result<(), SnapshotError> {
        self.restore_report(snapshot).map(|_| ())
    }

    /// As [`Engine::restore`], saying which rules' state was kept and
    /// which was dropped (a rule no longer in the pack, or of another shape).
    pub fn restore_report(&mut self, snapshot: &[u8]) -> Result<RestoreReport, SnapshotError> {
        let (version, payload) = unwrap_envelope(snapshot)?;
        let mut r = Reader {
            buf: payload,
            version,
        };
        let state = if version < 3 {
            read_single(&mut r)?
        } else {
            let watermark = r.opt_i64()?;
            let arrivals = r.u64()?;
            let events = r.u64()?;
            let bytes = r.u64()?;
            let errors = read_errors(&mut r)?;
            let ignored_malformed = if version >= 4 {
                read_errors(&mut r)?
            } else {
                alloc::vec![0; errors.len()]
            };
            let mut rules = Vec::new();
            for _ in 0..r.count(40)? {
                rules.push(read_rule(&mut r)?);
            }
            EngineState {
                watermark,
                arrivals,
                events,
                bytes,
                errors,
                ignored_malformed,
                rules,
            }
        };
        let states = state.rules;
        let mut pending_alerts = Vec::new();
        for _ in 0..r.count(4)? {
            pending_alerts.push(Alert::from_json(String::from(r.str()?)));
        }
        if !r.buf.is_empty() {
            return Err(SnapshotError::Corrupt("trailing bytes"));
        }

        // Which engine rule each snapshot rule goes to, checked whole first.
        let single = self.refused_rules().is_empty() && self.rules.len() == 1 && states.len() == 1;
        let mut report = RestoreReport::default();
        let mut targets = Vec::with_capacity(states.len());
        let mut taken = alloc::vec![false; self.rules.len()];
        for state in &states {
            let found = if single {
                Some(0)
            } else {
                (0..self.rules.len()).find(|&i| !taken[i] && self.rules[i].rule.meta.id == state.id)
            };
            let target = match found {
                None => {
                    report
                        .dropped
                        .push((state.id.clone(), String::from("not in this pack")));
                    None
                }
                Some(i) => {
                    let plan = &self.rules[i].plan;
                    if state.stages as usize != plan.stages.len()
                        || state.keys as usize != plan.key_names.len()
                    {
                        if single {
                            return Err(SnapshotError::IncompatibleRule {
                                stages: state.stages,
                                keys: state.keys,
                            });
                        }
                        report.dropped.push((
                            state.id.clone(),
                            String::from("the rule's stages or join keys changed"),
                        ));
                        None
                    } else {
                        check_stages(state, &self.rules[i])?;
                        taken[i] = true;
                        Some(i)
                    }
                }
            };
            targets.push(target);
        }

        // Checked: from here on nothing fails.
        for rule in &mut self.rules {
            rule.reset();
        }
        for (state, target) in states.into_iter().zip(targets) {
            let Some(i) = target else { continue };
            report.restored.push(self.rules[i].rule.meta.id.clone());
            restore_rule(&mut self.rules[i], state);
        }
        self.alerts = pending_alerts;
        self.watermark = state.watermark;
        self.arrivals = state.arrivals;
        self.stats.events = state.events;
        self.stats.bytes = state.bytes;
        self.stats.errors.0.copy_from_slice(&state.errors);
        self.stats
            .ignored_malformed
            .0
            .copy_from_slice(&state.ignored_malformed);
        self.recompute_active();
        Ok(report)
    }
}

fn write_rule(w: &mut Writer, rule: &RuleRun) {
    w.bytes(rule.rule.meta.id.as_bytes());
    w.u32(rule.plan.stages.len() as u32);
    w.u32(rule.plan.key_names.len() as u32);
    let c = &rule.counts;
    for n in [
        c.alerts,
        c.late_events,
        c.truncated_keys,
        rule.matcher.counts.expired,
        rule.matcher.counts.evictions,
    ] {
        w.u64(n);
    }
    w.u32(c.stage_matches.len() as u32);
    c.stage_matches.iter().for_each(|&n| w.u64(n));
    let pending: Vec<_> = rule.matcher.pending_by_age().collect();
    w.u64(pending.len() as u64);
    for p in pending {
        w.u32(p.stage as u32);
        w.bytes(p.key.as_bytes());
        w.i64(p.first_ts);
        w.ordinal(p.last);
        w.u32(p.events.len() as u32);
        p.events.iter().for_each(|e| w.bytes(e.as_bytes()));
        w.opt_i64(p.marks.lead_ts);
        w.opt_i64(p.marks.taint);
        w.0.push(u8::from(p.marks.doomed));
    }
    w.u64(rule.reorder.len() as u64);
    for Reverse(Held(c)) in rule.reorder.iter() {
        w.ordinal(c.ordinal);
        w.bytes(c.event.as_bytes());
        w.u64(c.hits.len() as u64);
        for (stage, keys) in &c.hits {
            w.u32(*stage as u32);
            w.keys(keys);
        }
        w.u64(c.missing.len() as u64);
        for (at, keys) in &c.missing {
            // `u32::MAX` stands for a leading missing stage.
            w.u32(match at {
                MissingAt::Leading => u32::MAX,
                MissingAt::After(p) => *p as u32,
            });
            w.keys(keys);
        }
    }
    write_missing(w, &rule.matcher.missing_state());
    let sample_keys = rule
        .sampler
        .as_ref()
        .map_or_else(Vec::new, |s| s.key_states());
    w.u64(sample_keys.len() as u64);
    for k in &sample_keys {
        w.bytes(k.key.as_bytes());
        w.u32(k.stages.len() as u32);
        for stage in &k.stages {
            w.u64(stage.len() as u64);
            for (arrival, ts, event) in stage {
                w.u64(*arrival);
                w.i64(*ts);
                w.bytes(event.as_bytes());
            }
        }
        w.u64(k.given.len() as u64);
        for sample in &k.given {
            w.u32(sample.len() as u32);
            sample.iter().for_each(|&a| w.u64(a));
        }
    }
}

fn write_missing(w: &mut Writer, state: &MissingState) {
    w.u64(state.leading.len() as u64);
    for (key, last, below) in &state.leading {
        w.bytes(key.as_bytes());
        w.i64(*last);
        w.opt_i64(*below);
    }
    w.u64(state.leading_age.len() as u64);
    for (ts, key) in &state.leading_age {
        w.i64(*ts);
        w.bytes(key.as_bytes());
    }
    w.u64(state.waiting.len() as u64);
    for s in &state.waiting {
        w.i64(s.deadline);
        w.bytes(s.key.as_bytes());
        w.i64(s.first_ts);
        w.i64(s.last_ts);
        w.opt_i64(s.lead_ts);
        w.u32(s.events.len() as u32);
        s.events.iter().for_each(|e| w.bytes(e.as_bytes()));
    }
}

/// What [`write_missing`] wrote.
fn read_missing(r: &mut Reader<'_>) -> Result<MissingState, SnapshotError> {
    let mut state = MissingState::default();
    for _ in 0..r.count(21)? {
        let key = r.key()?;
        state.leading.push((key, r.i64()?, r.opt_i64()?));
    }
    for _ in 0..r.count(12)? {
        let ts = r.i64()?;
        state.leading_age.push((ts, r.key()?));
    }
    for _ in 0..r.count(37)? {
        let deadline = r.i64()?;
        let key = r.key()?;
        let first_ts = r.i64()?;
        let last_ts = r.i64()?;
        let lead_ts = r.opt_i64()?;
        let n = r.u32()? as usize;
        if n.saturating_mul(4) > r.buf.len() {
            return Err(SnapshotError::Corrupt("events of a waiting sequence"));
        }
        let events = (0..n).map(|_| r.event()).collect::<Result<_, _>>()?;
        state.waiting.push(WaitingState {
            deadline,
            key,
            first_ts,
            last_ts,
            lead_ts,
            events,
        });
    }
    Ok(state)
}

fn read_sample_keys(r: &mut Reader<'_>) -> Result<Vec<SampleKeyState>, SnapshotError> {
    let mut keys = Vec::new();
    for _ in 0..r.count(16)? {
        let key = r.key()?;
        let stage_count = r.u32()? as usize;
        if stage_count.saturating_mul(8) > r.buf.len() {
            return Err(SnapshotError::Corrupt("stages of a sample key"));
        }
        let mut stages = Vec::with_capacity(stage_count);
        for _ in 0..stage_count {
            let mut kept = Vec::new();
            for _ in 0..r.count(20)? {
                let arrival = r.u64()?;
                let ts = r.i64()?;
                kept.push((arrival, ts, r.event()?));
            }
            stages.push(kept);
        }
        let mut given = Vec::new();
        for _ in 0..r.count(4)? {
            let n = r.u32()? as usize;
            if n.saturating_mul(8) > r.buf.len() {
                return Err(SnapshotError::Corrupt("a sample given"));
            }
            given.push((0..n).map(|_| r.u64()).collect::<Result<_, _>>()?);
        }
        keys.push(SampleKeyState { key, stages, given });
    }
    Ok(keys)
}

fn read_errors(r: &mut Reader<'_>) -> Result<Vec<u64>, SnapshotError> {
    let kinds = crate::error::ErrorKind::ALL.len();
    if r.u32()? as usize != kinds {
        return Err(SnapshotError::Corrupt("error counters"));
    }
    (0..kinds).map(|_| r.u64()).collect()
}

/// A rule's part of a version 3 snapshot.
fn read_rule(r: &mut Reader<'_>) -> Result<RuleState, SnapshotError> {
    let id = String::from(r.str()?);
    let stages = r.u32()?;
    let keys = r.u32()?;
    let mut counts = [0u64; 5];
    for n in &mut counts {
        *n = r.u64()?;
    }
    read_rule_state(r, id, stages, keys, counts)
}

/// Versions 1 and 2: one rule, its shape first and its counters mixed with
/// the engine's.
fn read_single(r: &mut Reader<'_>) -> Result<EngineState, SnapshotError> {
    let stages = r.u32()?;
    let keys = r.u32()?;
    let watermark = r.opt_i64()?;
    let arrivals = r.u64()?;
    let mut fixed = [0u64; 7];
    for n in &mut fixed {
        *n = r.u64()?;
    }
    let [events, bytes, alerts, late, truncated, expired, evictions] = fixed;
    let errors = read_errors(r)?;
    let state = read_rule_state(
        r,
        String::new(),
        stages,
        keys,
        [alerts, late, truncated, expired, evictions],
    )?;
    Ok(EngineState {
        watermark,
        arrivals,
        ignored_malformed: alloc::vec![0; errors.len()],
        events,
        bytes,
        errors,
        rules: alloc::vec![state],
    })
}

fn read_rule_state(
    r: &mut Reader<'_>,
    id: String,
    stages: u32,
    keys: u32,
    counts: [u64; 5],
) -> Result<RuleState, SnapshotError> {
    if r.u32()? != stages {
        return Err(SnapshotError::Corrupt("stage counters"));
    }
    let stage_matches = (0..stages).map(|_| r.u64()).collect::<Result<_, _>>()?;
    let mut pending = Vec::new();
    for _ in 0..r.count(21)? {
        // Checked against the rule's positive stages once it is known.
        let stage = r.u32()? as usize;
        let key = r.key()?;
        let first_ts = r.i64()?;
        let last = r.ordinal()?;
        let n = r.u32()? as usize;
        if n == 0 || n > stage.saturating_add(1) || n > stages as usize {
            return Err(SnapshotError::Corrupt("events of a pending sequence"));
        }
        let mut events = Vec::with_capacity(n);
        for _ in 0..n {
            events.push(r.event()?);
        }
        let marks = if r.version >= 4 {
            let lead_ts = r.opt_i64()?;
            let taint = r.opt_i64()?;
            let doomed = match r.take(1)?[0] {
                0 => false,
                1 => true,
                _ => return Err(SnapshotError::Corrupt("flag")),
            };
            PendingMarks {
                lead_ts,
                taint,
                doomed,
            }
        } else {
            PendingMarks::default()
        };
        pending.push(Pending {
            stage,
            key,
            first_ts,
            last,
            events,
            marks,
        });
    }
    let mut held = Vec::new();
    for _ in 0..r.count(20)? {
        let ordinal = r.ordinal()?;
        let event = r.event()?;
        let mut hits = Vec::new();
        for _ in 0..r.count(8)? {
            let stage = r.u32()? as usize;
            hits.push((stage, r.keys()?));
        }
        let mut missing = Vec::new();
        if r.version >= 4 {
            for _ in 0..r.count(12)? {
                let at = match r.u32()? {
                    u32::MAX => MissingAt::Leading,
                    p => MissingAt::After(p as usize),
                };
                missing.push((at, r.keys()?));
            }
        }
        held.push(Candidate {
            ordinal,
            event,
            hits,
            missing,
        });
    }
    let (missing, sample_keys) = if r.version >= 4 {
        (read_missing(r)?, read_sample_keys(r)?)
    } else {
        (MissingState::default(), Vec::new())
    };
    Ok(RuleState {
        id,
        stages,
        keys,
        counts,
        stage_matches,
        pending,
        held,
        missing,
        sample_keys,
    })
}

/// Every stage number in the state names a stage of the rule (a hit one
/// past the last positive stage is the query's `until`).
fn check_stages(state: &RuleState, rule: &RuleRun) -> Result<(), SnapshotError> {
    let positives = rule.matcher.stage_count();
    let until = usize::from(rule.plan.until.is_some());
    if state.pending.iter().any(|p| p.stage >= positives) {
        return Err(SnapshotError::Corrupt("stage"));
    }
    let hits = state.held.iter().flat_map(|c| &c.hits);
    if hits.clone().any(|(s, _)| *s >= positives + until) {
        return Err(SnapshotError::Corrupt("stage"));
    }
    let missing = state.held.iter().flat_map(|c| &c.missing);
    if missing
        .clone()
        .any(|(at, _)| matches!(at, MissingAt::After(p) if *p >= positives))
    {
        return Err(SnapshotError::Corrupt("stage"));
    }
    if state
        .sample_keys
        .iter()
        .any(|k| !k.stages.is_empty() && k.stages.len() != positives)
    {
        return Err(SnapshotError::Corrupt("stages of a sample key"));
    }
    Ok(())
}

fn restore_rule(rule: &mut RuleRun, state: RuleState) {
    let [alerts, late, truncated, expired, evictions] = state.counts;
    rule.counts.alerts = alerts;
    rule.counts.late_events = late;
    rule.counts.truncated_keys = truncated;
    rule.counts.stage_matches = state.stage_matches;
    for p in state.pending {
        rule.matcher
            .restore_pending(p.stage, p.key, p.first_ts, p.last, p.events, p.marks);
    }
    rule.matcher.restore_missing(state.missing);
    // A sample's keys go to a sample query only (same stage and key counts
    // say nothing of the shape).
    if let Some(sampler) = &mut rule.sampler {
        sampler.restore_keys(state.sample_keys);
    }
    rule.matcher.counts.expired = expired;
    rule.matcher.counts.evictions = evictions;
    rule.reorder = state
        .held
        .into_iter()
        .map(|c| Reverse(Held(c)))
        .collect::<BinaryHeap<_>>();
}

fn unwrap_envelope(snapshot: &[u8]) -> Result<(u32, &[u8]), SnapshotError> {
    if snapshot.len() < 20 || &snapshot[..8] != MAGIC {
        return Err(SnapshotError::NotASnapshot);
    }
    let version = u32::from_le_bytes([snapshot[8], snapshot[9], snapshot[10], snapshot[11]]);
    if !(1..=SNAPSHOT_VERSION).contains(&version) {
        return Err(SnapshotError::UnsupportedVersion(version));
    }
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&snapshot[12..20]);
    let len = usize::try_from(u64::from_le_bytes(len_bytes))
        .map_err(|_| SnapshotError::Corrupt("length"))?;
    let rest = &snapshot[20..];
    if rest.len() != len.checked_add(8).ok_or(SnapshotError::Corrupt("length"))? {
        return Err(SnapshotError::Corrupt("length does not match"));
    }
    let (payload, sum) = rest.split_at(len);
    let mut sum_bytes = [0u8; 8];
    sum_bytes.copy_from_slice(sum);
    if fnv1a(payload) != u64::from_le_bytes(sum_bytes) {
        return Err(SnapshotError::Corrupt("checksum does not match"));
    }
    Ok((version, payload))
}

struct Writer(Vec<u8>);

impl Writer {
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn opt_i64(&mut self, v: Option<i64>) {
        self.0.push(u8::from(v.is_some()));
        self.i64(v.unwrap_or(0));
    }
    fn ordinal(&mut self, (ts, tiebreak, arrival): Ordinal) {
        self.i64(ts);
        self.u64(tiebreak);
        self.u64(arrival);
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
    }
    fn keys(&mut self, keys: &[Key]) {
        self.u64(keys.len() as u64);
        keys.iter().for_each(|k| self.bytes(k.as_bytes()));
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    version: u32,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        if n > self.buf.len() {
            return Err(SnapshotError::Corrupt("truncated"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, SnapshotError> {
        self.array().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Result<u64, SnapshotError> {
        self.array().map(u64::from_le_bytes)
    }
    fn i64(&mut self) -> Result<i64, SnapshotError> {
        self.array().map(i64::from_le_bytes)
    }
    fn opt_i64(&mut self) -> Result<Option<i64>, SnapshotError> {
        let flag = self.take(1)?[0];
        let v = self.i64()?;
        match flag {
            0 => Ok(None),
            1 => Ok(Some(v)),
            _ => Err(SnapshotError::Corrupt("flag")),
        }
    }
    fn ordinal(&mut self) -> Result<Ordinal, SnapshotError> {
        let ts = self.i64()?;
        let tiebreak = if self.version >= 2 { self.u64()? } else { 0 };
        Ok((ts, tiebreak, self.u64()?))
    }
    /// A count of items each at least `min_size` bytes: never more than the
    /// bytes left could hold, so a corrupt count cannot make us allocate.
    fn count(&mut self, min_size: usize) -> Result<usize, SnapshotError> {
        let n = usize::try_from(self.u64()?).map_err(|_| SnapshotError::Corrupt("count"))?;
        if n.saturating_mul(min_size) > self.buf.len() {
            return Err(SnapshotError::Corrupt("count larger than the snapshot"));
        }
        Ok(n)
    }
    fn bytes(&mut self) -> Result<&'a [u8], SnapshotError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn str(&mut self) -> Result<&'a str, SnapshotError> {
        core::str::from_utf8(self.bytes()?).map_err(|_| SnapshotError::Corrupt("text is not UTF-8"))
    }
    fn key(&mut self) -> Result<Key, SnapshotError> {
        Key::from_bytes(self.bytes()?).ok_or(SnapshotError::Corrupt("join key"))
    }
    fn keys(&mut self) -> Result<Vec<Key>, SnapshotError> {
        (0..self.count(4)?).map(|_| self.key()).collect()
    }
    fn event(&mut self) -> Result<Arc<str>, SnapshotError> {
        self.str().map(Arc::from)
    }
}
