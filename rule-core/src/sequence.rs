//! The sequence state machine: `sequence by k1, k2 with maxspan=N [s0] [s1] ...`
//! as Elasticsearch runs it (SEMANTICS S1-S9).
//!
//! For each join key and stage, one pending sequence: the most recent (S1).
//! An event passing stage `i > 0` extends the pending sequence of stage
//! `i - 1` under its key when it comes strictly after it (S6) and within
//! maxspan of its first event, inclusive (S4); at the last stage the sequence
//! completes and is removed (S2). Pending sequences live in a slab, found by
//! a hash table over (stage, key), and expire through a queue in the order
//! they started, so the cost of an event does not grow with how many are
//! open.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

/// Where an event stands in the stream: event time in ms, then arrival.
pub type Ordinal = (i64, u64);

/// A join key: the values of the `by` fields, one combination of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key(Box<[u8]>);

impl Key {
    /// Encodes values as length-prefixed runs, so no value can alias another.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Key {
        let mut bytes = Vec::new();
        for v in values {
            bytes.extend_from_slice(&(v.len() as u32).to_le_bytes());
            bytes.extend_from_slice(v.as_bytes());
        }
        Key(bytes.into_boxed_slice())
    }

    pub fn values(&self) -> KeyValues<'_> {
        KeyValues(&self.0)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// A key from its encoding, checked: `None` unless it is well formed.
    pub fn from_bytes(bytes: &[u8]) -> Option<Key> {
        let mut rest = bytes;
        while !rest.is_empty() {
            let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
            core::str::from_utf8(rest.get(4..4usize.checked_add(len)?)?).ok()?;
            rest = &rest[4 + len..];
        }
        Some(Key(bytes.into()))
    }
}

pub struct KeyValues<'a>(&'a [u8]);

impl<'a> Iterator for KeyValues<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let len = u32::from_le_bytes(self.0.get(..4)?.try_into().ok()?) as usize;
        let value = core::str::from_utf8(self.0.get(4..4 + len)?).ok()?;
        self.0 = &self.0[4 + len..];
        Some(value)
    }
}

/// An event that passed at least one stage, with its keys for each.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub ordinal: Ordinal,
    pub event: Arc<str>,
    /// (stage, keys), stages ascending.
    pub hits: Vec<(usize, Vec<Key>)>,
}

/// A sequence that reached its last stage.
#[derive(Debug)]
pub struct Completed {
    pub key: Key,
    pub events: Vec<Arc<str>>,
    pub last_ts: i64,
}

/// A pending sequence, for snapshots.
pub struct PendingView<'a> {
    pub stage: usize,
    pub key: &'a Key,
    pub first_ts: i64,
    pub last: Ordinal,
    pub events: &'a [Arc<str>],
}

/// Bytes a pending sequence is charged besides its key and events: a fixed
/// figure (about what a slot, its index entry and its queue entry take on a
/// 64-bit host), so that `state_bytes`, and eviction by it, are the same in
/// a 32-bit wasm module and natively.
const SLOT_OVERHEAD: usize = 160;

#[derive(Debug)]
struct Slot {
    stage: usize,
    key: Key,
    hash: u64,
    first_ts: i64,
    last: Ordinal,
    events: Vec<Arc<str>>,
    bytes: usize,
    generation: u32,
    live: bool,
}

/// Counters the matcher keeps for [`crate::Stats`].
#[derive(Debug, Default, Clone, Copy)]
pub struct MatcherCounts {
    pub expired: u64,
    pub evictions: u64,
    pub ended_by_until: u64,
}

pub struct Matcher {
    stage_count: usize,
    maxspan_ms: Option<i64>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// Slots in the order their sequences started; stale entries are skipped.
    by_age: VecDeque<(u32, u32)>,
    pending: usize,
    state_bytes: usize,
    pub counts: MatcherCounts,
}

impl Matcher {
    pub fn new(stage_count: usize, maxspan_ms: Option<i64>) -> Matcher {
        Matcher {
            stage_count,
            maxspan_ms,
            slots: Vec::new(),
            free: Vec::new(),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            by_age: VecDeque::new(),
            pending: 0,
            state_bytes: 0,
            counts: MatcherCounts::default(),
        }
    }

    pub fn pending(&self) -> usize {
        self.pending
    }

    pub fn state_bytes(&self) -> usize {
        self.state_bytes
    }

    /// Runs one candidate: later stages first, so an event never pairs with
    /// itself. A hit at stage `stage_count` is the query's `until`: it runs
    /// first, dropping the sequences of its key that it comes after.
    pub fn process(&mut self, c: &Candidate, out: &mut Vec<Completed>) {
        for (stage, keys) in c.hits.iter().rev() {
            for key in keys {
                if *stage == self.stage_count {
                    self.until(c.ordinal, key);
                } else if *stage == 0 {
                    self.start(c, key, out);
                } else {
                    self.extend(*stage, c, key, out);
                }
            }
        }
    }

    /// `until`: pending sequences of `key` that this event comes after end.
    fn until(&mut self, ordinal: Ordinal, key: &Key) {
        for stage in 0..self.stage_count.saturating_sub(1) {
            if let Some(slot) = self.find(stage, key) {
                if self.slots[slot as usize].last < ordinal {
                    self.remove(slot);
                    self.counts.ended_by_until += 1;
                }
            }
        }
    }

    fn hash(&self, stage: usize, key: &Key) -> u64 {
        self.hasher.hash_one((stage, key))
    }

    fn find(&self, stage: usize, key: &Key) -> Option<u32> {
        let hash = self.hash(stage, key);
        let slots = &self.slots;
        self.index
            .find(hash, |&i| {
                slots[i as usize].stage == stage && slots[i as usize].key == *key
            })
            .copied()
    }

    fn start(&mut self, c: &Candidate, key: &Key, out: &mut Vec<Completed>) {
        if self.stage_count == 1 {
            out.push(Completed {
                key: key.clone(),
                events: alloc::vec![c.event.clone()],
                last_ts: c.ordinal.0,
            });
            return;
        }
        if let Some(existing) = self.find(0, key) {
            // A late event does not replace a more recent start (S1 in event order).
            if self.slots[existing as usize].last > c.ordinal {
                return;
            }
            self.remove(existing);
        }
        self.insert(
            0,
            key.clone(),
            c.ordinal.0,
            c.ordinal,
            alloc::vec![c.event.clone()],
        );
    }

    /// Adds a pending sequence as the youngest; the caller has made sure no
    /// other is pending under the same (stage, key).
    fn insert(
        &mut self,
        stage: usize,
        key: Key,
        first_ts: i64,
        last: Ordinal,
        events: Vec<Arc<str>>,
    ) {
        let hash = self.hash(stage, &key);
        let bytes =
            SLOT_OVERHEAD + key.as_bytes().len() + events.iter().map(|e| e.len()).sum::<usize>();
        let slot = Slot {
            stage,
            key,
            hash,
            first_ts,
            last,
            events,
            bytes,
            generation: 0,
            live: true,
        };
        let index = match self.free.pop() {
            Some(i) => {
                let generation = self.slots[i as usize].generation;
                self.slots[i as usize] = Slot { generation, ..slot };
                i
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        let slots = &self.slots;
        self.index
            .insert_unique(hash, index, |&i| slots[i as usize].hash);
        self.by_age
            .push_back((index, self.slots[index as usize].generation));
        self.pending += 1;
        self.state_bytes += bytes;
    }

    /// Restores a pending sequence from a snapshot, as the youngest; one
    /// already pending under the same (stage, key) is replaced.
    pub fn restore_pending(
        &mut self,
        stage: usize,
        key: Key,
        first_ts: i64,
        last: Ordinal,
        events: Vec<Arc<str>>,
    ) {
        if let Some(existing) = self.find(stage, &key) {
            self.remove(existing);
        }
        self.insert(stage, key, first_ts, last, events);
    }

    /// Pending sequences, oldest first.
    pub fn pending_by_age(&self) -> impl Iterator<Item = PendingView<'_>> + '_ {
        self.by_age.iter().filter_map(move |&(index, generation)| {
            let slot = &self.slots[index as usize];
            (slot.live && slot.generation == generation).then_some(PendingView {
                stage: slot.stage,
                key: &slot.key,
                first_ts: slot.first_ts,
                last: slot.last,
                events: &slot.events,
            })
        })
    }

    fn extend(&mut self, stage: usize, c: &Candidate, key: &Key, out: &mut Vec<Completed>) {
        let Some(prev) = self.find(stage - 1, key) else {
            return;
        };
        let slot = &self.slots[prev as usize];
        if c.ordinal <= slot.last {
            return; // not strictly after (S6): leave it pending
        }
        if let Some(span) = self.maxspan_ms {
            if c.ordinal.0.saturating_sub(slot.first_ts) > span {
                self.remove(prev);
                self.counts.expired += 1;
                return;
            }
        }
        if stage + 1 == self.stage_count {
            let mut events = core::mem::take(&mut self.slots[prev as usize].events);
            events.push(c.event.clone());
            out.push(Completed {
                key: key.clone(),
                events,
                last_ts: c.ordinal.0,
            });
            self.remove(prev);
            return;
        }
        if let Some(older) = self.find(stage, key) {
            self.remove(older);
        }
        // Move the sequence one stage on: re-index it under (stage, key).
        let old_hash = self.slots[prev as usize].hash;
        if let Ok(entry) = self.index.find_entry(old_hash, |&i| i == prev) {
            entry.remove();
        }
        let hash = self.hash(stage, key);
        let slot = &mut self.slots[prev as usize];
        slot.stage = stage;
        slot.hash = hash;
        slot.last = c.ordinal;
        slot.events.push(c.event.clone());
        slot.bytes += c.event.len();
        self.state_bytes += c.event.len();
        let slots = &self.slots;
        self.index
            .insert_unique(hash, prev, |&i| slots[i as usize].hash);
    }

    fn remove(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        if !slot.live {
            return;
        }
        let hash = slot.hash;
        slot.live = false;
        slot.generation = slot.generation.wrapping_add(1);
        slot.events = Vec::new();
        self.pending -= 1;
        self.state_bytes -= slot.bytes;
        if let Ok(entry) = self.index.find_entry(hash, |&i| i == index) {
            entry.remove();
        }
        self.free.push(index);
    }

    /// The oldest live sequence in the age queue, dropping stale entries.
    fn oldest(&mut self) -> Option<u32> {
        while let Some(&(index, generation)) = self.by_age.front() {
            let slot = &self.slots[index as usize];
            if slot.live && slot.generation == generation {
                return Some(index);
            }
            self.by_age.pop_front();
        }
        None
    }

    /// Drops sequences that can no longer complete once event time reached `now`.
    pub fn expire(&mut self, now: i64) {
        let Some(span) = self.maxspan_ms else { return };
        while let Some(index) = self.oldest() {
            if self.slots[index as usize].first_ts.saturating_add(span) >= now {
                break;
            }
            self.by_age.pop_front();
            self.remove(index);
            self.counts.expired += 1;
        }
    }

    /// Evicts the oldest sequences until both bounds hold.
    pub fn enforce(&mut self, max_pending: usize, max_bytes: usize) {
        while self.pending > max_pending || self.state_bytes > max_bytes {
            let Some(index) = self.oldest() else { break };
            self.by_age.pop_front();
            self.remove(index);
            self.counts.evictions += 1;
        }
    }
}
