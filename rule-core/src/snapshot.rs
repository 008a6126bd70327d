//! The engine's state as bytes, and back, so detection survives a restart
//! or a rule reload.
//!
//! Format, version 2 (version 1, whose ordinals have no tiebreaker, is read
//! too), all integers little-endian:
//!
//! ```text
//! "RCSNAP\r\n"  u32 version  u64 payload length  payload  u64 FNV-1a(payload)
//! payload := shape  watermark  arrivals  counters  pending*  held*  alerts*
//! ```
//!
//! A snapshot is read whole and checked (magic, version, length, checksum,
//! every count against the bytes left, every key and event as UTF-8) before
//! anything of the engine changes; one that fails is refused with a
//! [`SnapshotError`] and the engine is left as it was. It restores into an
//! engine whose rule has the same shape (stage count and join-key count);
//! the rule's text may differ, which is what a rule reload needs.
//!
//! Not carried yet: what missing-event stages (`![...]`) track besides the
//! pending sequences (the latest leading event per key, completed
//! sequences waiting for their trailing window, such events held in the
//! reorder window), and a `sample` query's keys. After a restore those
//! sequences are judged as if no such event had come before it, and
//! samples start afresh.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cmp::Reverse;
use core::fmt;

use crate::engine::{stage_roles, Alert, Engine, Held};
use crate::sequence::{Candidate, Key, Matcher, Ordinal};

const MAGIC: &[u8; 8] = b"RCSNAP\r\n";
/// The snapshot format this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 2;

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

impl Engine {
    /// The engine's whole state (pending sequences, events held by the
    /// reorder window, undrained alerts, counters) as bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        let mut w = Writer(Vec::new());
        w.u32(self.plan.stages.len() as u32);
        w.u32(self.plan.key_names.len() as u32);
        w.opt_i64(self.watermark);
        w.u64(self.arrivals);
        let s = &self.stats;
        for n in [s.events, s.bytes, s.alerts, s.late_events, s.truncated_keys] {
            w.u64(n);
        }
        w.u64(self.matcher.counts.expired);
        w.u64(self.matcher.counts.evictions);
        w.u32(s.errors.0.len() as u32);
        s.errors.0.iter().for_each(|&n| w.u64(n));
        w.u32(s.stage_matches.len() as u32);
        s.stage_matches.iter().for_each(|&n| w.u64(n));

        let pending: Vec<_> = self.matcher.pending_by_age().collect();
        w.u64(pending.len() as u64);
        for p in pending {
            w.u32(p.stage as u32);
            w.bytes(p.key.as_bytes());
            w.i64(p.first_ts);
            w.ordinal(p.last);
            w.u32(p.events.len() as u32);
            p.events.iter().for_each(|e| w.bytes(e.as_bytes()));
        }
        w.u64(self.reorder.len() as u64);
        for Reverse(Held(c)) in self.reorder.iter() {
            w.ordinal(c.ordinal);
            w.bytes(c.event.as_bytes());
            w.u64(c.hits.len() as u64);
            for (stage, keys) in &c.hits {
                w.u32(*stage as u32);
                w.u64(keys.len() as u64);
                keys.iter().for_each(|k| w.bytes(k.as_bytes()));
            }
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

    /// Replaces the engine's state with a snapshot's. On error nothing changes.
    pub fn restore(&mut self, snapshot: &[u8]) -> Result<(), SnapshotError> {
        let (version, payload) = unwrap_envelope(snapshot)?;
        let mut r = Reader {
            buf: payload,
            version,
        };
        let stages = r.u32()?;
        let keys = r.u32()?;
        if stages as usize != self.plan.stages.len() || keys as usize != self.plan.key_names.len() {
            return Err(SnapshotError::IncompatibleRule { stages, keys });
        }
        let watermark = r.opt_i64()?;
        let arrivals = r.u64()?;
        let mut stats = self.stats.clone();
        let mut fixed = [0u64; 7];
        for n in &mut fixed {
            *n = r.u64()?;
        }
        let [events, bytes, alerts, late, truncated, expired, evictions] = fixed;
        (
            stats.events,
            stats.bytes,
            stats.alerts,
            stats.late_events,
            stats.truncated_keys,
        ) = (events, bytes, alerts, late, truncated);
        if r.u32()? as usize != stats.errors.0.len() {
            return Err(SnapshotError::Corrupt("error counters"));
        }
        for n in stats.errors.0.iter_mut() {
            *n = r.u64()?;
        }
        if r.u32()? != stages {
            return Err(SnapshotError::Corrupt("stage counters"));
        }
        for n in stats.stage_matches.iter_mut() {
            *n = r.u64()?;
        }

        let (_, positives, layout) = stage_roles(&self.plan);
        let positive_stages = positives as u32;
        let mut matcher = Matcher::new(positives, self.plan.maxspan_ms, layout);
        for _ in 0..r.count(21)? {
            let stage = r.stage(positive_stages)?;
            let key = r.key()?;
            let first_ts = r.i64()?;
            let last = r.ordinal()?;
            let n = r.u32()? as usize;
            if n == 0 || n > stage + 1 {
                return Err(SnapshotError::Corrupt("events of a pending sequence"));
            }
            let mut events = Vec::with_capacity(n);
            for _ in 0..n {
                events.push(r.event()?);
            }
            matcher.restore_pending(stage, key, first_ts, last, events);
        }
        matcher.counts.expired = expired;
        matcher.counts.evictions = evictions;

        let mut reorder = alloc::collections::BinaryHeap::new();
        for _ in 0..r.count(20)? {
            let ordinal = r.ordinal()?;
            let event = r.event()?;
            let mut hits = Vec::new();
            for _ in 0..r.count(8)? {
                // A hit one past the last stage is the query's `until`.
                let stage = r.stage(positive_stages + u32::from(self.plan.until.is_some()))?;
                let mut ks = Vec::new();
                for _ in 0..r.count(4)? {
                    ks.push(r.key()?);
                }
                hits.push((stage, ks));
            }
            reorder.push(Reverse(Held(Candidate {
                ordinal,
                event,
                hits,
                // Not carried (see the module docs).
                missing: Vec::new(),
            })));
        }
        let mut pending_alerts = Vec::new();
        for _ in 0..r.count(4)? {
            pending_alerts.push(Alert::from_json(String::from(r.str()?)));
        }
        if !r.buf.is_empty() {
            return Err(SnapshotError::Corrupt("trailing bytes"));
        }

        self.matcher = matcher;
        self.reorder = reorder;
        self.alerts = pending_alerts;
        self.watermark = watermark;
        self.arrivals = arrivals;
        self.stats = stats;
        Ok(())
    }
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
    fn stage(&mut self, stages: u32) -> Result<usize, SnapshotError> {
        let s = self.u32()?;
        if s >= stages {
            return Err(SnapshotError::Corrupt("stage"));
        }
        Ok(s as usize)
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
    fn event(&mut self) -> Result<Arc<str>, SnapshotError> {
        self.str().map(Arc::from)
    }
}
