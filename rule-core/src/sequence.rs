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
//!
//! Missing-event stages (`![...]`) are judged as Elasticsearch judges them
//! (`TumblingWindow.doCheckMissingEvents`): the positive stages match as
//! above; such an event between two positive stages (strictly between their
//! times, same key) discards the sequence when it completes; before the
//! first positive stage, the latest one (strictly earlier than the start)
//! counts; after the last, the first one (strictly later). Leading and
//! trailing events discard the sequence only when they fall within maxspan
//! (of each other when the query has both). A sequence with a trailing
//! missing stage waits, completed, until such an event comes or event time
//! passes its start plus maxspan (or `flush`).

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::hash::BuildHasher;

use hashbrown::HashTable;

mod state;
pub use state::{MissingState, PendingMarks, WaitingState};

/// How join keys are hashed: foldhash, seeded by [`crate::Limits::hash_seed`].
pub type KeyHasher = foldhash::fast::FixedState;

/// The hasher of join keys for a seed.
pub fn key_hasher(seed: u64) -> KeyHasher {
    foldhash::fast::FixedState::with_seed(seed)
}

/// Where an event stands in the stream: event time in ms, then the
/// tiebreaker (its value in an order-preserving encoding, absent last; 0
/// when the query has none), then arrival.
pub type Ordinal = (i64, u64, u64);

/// A join key: the values of the `by` fields, one combination of them. A
/// value may be null (a sample's optional key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key(Box<[u8]>);

/// The length a null value is encoded with: no string has it.
const NULL_LEN: u32 = u32::MAX;

impl Key {
    /// Encodes values as length-prefixed runs, so no value can alias another.
    pub fn new<'a, I>(values: I) -> Key
    where
        I: IntoIterator<Item = Option<&'a str>>,
        I::IntoIter: Clone,
    {
        let values = values.into_iter();
        // Sized first: one allocation per key, not a growth per value
        // (a key is built for every event a stage matches).
        let len = values.clone().map(|v| 4 + v.map_or(0, str::len)).sum();
        let mut bytes = Vec::with_capacity(len);
        for v in values {
            match v {
                Some(v) => {
                    bytes.extend_from_slice(&(v.len() as u32).to_le_bytes());
                    bytes.extend_from_slice(v.as_bytes());
                }
                None => bytes.extend_from_slice(&NULL_LEN.to_le_bytes()),
            }
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
        let mut values = KeyValues(bytes);
        while !values.0.is_empty() {
            values.next_checked()?;
        }
        Some(Key(bytes.into()))
    }
}

pub struct KeyValues<'a>(&'a [u8]);

impl<'a> KeyValues<'a> {
    /// The next value (`Some(None)` for a null); `None` at the end or on a
    /// malformed encoding.
    fn next_checked(&mut self) -> Option<Option<&'a str>> {
        let len = u32::from_le_bytes(self.0.get(..4)?.try_into().ok()?);
        if len == NULL_LEN {
            self.0 = &self.0[4..];
            return Some(None);
        }
        let len = len as usize;
        let value = core::str::from_utf8(self.0.get(4..4usize.checked_add(len)?)?).ok()?;
        self.0 = &self.0[4 + len..];
        Some(Some(value))
    }
}

impl<'a> Iterator for KeyValues<'a> {
    type Item = Option<&'a str>;
    fn next(&mut self) -> Option<Option<&'a str>> {
        self.next_checked()
    }
}

/// An event that passed at least one stage, with its keys for each.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub ordinal: Ordinal,
    pub event: Arc<str>,
    /// (positive stage, keys), stages ascending.
    pub hits: Vec<(usize, Vec<Key>)>,
    /// Missing-event stages this event matches, with its keys for each.
    pub missing: Vec<(MissingAt, Vec<Key>)>,
}

/// Where a missing-event stage sits among the positive ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingAt {
    /// Before the first positive stage.
    Leading,
    /// After positive stage `p` (trailing when `p` is the last).
    After(usize),
}

/// The missing-event stages of a sequence, by position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MissingLayout {
    pub leading: bool,
    /// `after[p]`: a missing stage follows positive stage `p`.
    pub after: Vec<bool>,
}

impl MissingLayout {
    fn any(&self) -> bool {
        self.leading || self.after.iter().any(|&a| a)
    }

    fn trailing(&self) -> bool {
        self.after.last().copied().unwrap_or(false)
    }
}

/// A sequence that reached its last stage.
#[derive(Debug)]
pub struct Completed {
    pub key: Key,
    pub events: Vec<Arc<str>>,
    pub last_ts: i64,
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
    /// The latest leading missing-stage event of the key before the start.
    lead_ts: Option<i64>,
    /// The first missing-stage event after the current stage, if any.
    taint: Option<i64>,
    /// A missing-stage event fell between two stages: the sequence goes on
    /// (and is consumed) as in Elasticsearch, but is discarded at the end.
    doomed: bool,
}

/// A completed sequence, on its way out or waiting for its trailing
/// missing-event window.
#[derive(Debug)]
struct Waiting {
    key: Key,
    first_ts: i64,
    last_ts: i64,
    lead_ts: Option<i64>,
    events: Vec<Arc<str>>,
    bytes: usize,
}

/// The latest leading missing-stage events of one key: the newest time and
/// the newest strictly older one (a start takes the newest strictly before it).
#[derive(Debug, Clone, Copy)]
struct Leading {
    last: i64,
    below: Option<i64>,
}

/// Counters the matcher keeps for [`crate::Stats`].
#[derive(Debug, Default, Clone, Copy)]
pub struct MatcherCounts {
    pub expired: u64,
    pub evictions: u64,
    pub ended_by_until: u64,
    /// Sequences discarded because a missing-event stage's event came.
    pub discarded_by_missing: u64,
}

pub struct Matcher {
    stage_count: usize,
    maxspan_ms: Option<i64>,
    layout: MissingLayout,
    /// Per key, the latest leading missing-stage events.
    leading: hashbrown::HashMap<Key, Leading, KeyHasher>,
    /// Leading events in time order, to forget them past maxspan.
    leading_age: VecDeque<(i64, Key)>,
    /// Completed sequences waiting for their trailing window, by deadline.
    waiting: BTreeMap<(i64, u64), Waiting>,
    waiting_by_key: hashbrown::HashMap<Key, Vec<(i64, u64)>, KeyHasher>,
    waiting_seq: u64,
    slots: Vec<Slot>,
    free: Vec<u32>,
    index: HashTable<u32>,
    hasher: KeyHasher,
    /// Slots in the order their sequences started; stale entries are skipped.
    by_age: VecDeque<(u32, u32)>,
    pending: usize,
    /// Pending sequences by the stage they reached: a stage nothing waits
    /// for cannot extend a sequence, so its events need not be judged.
    pending_at: Vec<usize>,
    state_bytes: usize,
    pub counts: MatcherCounts,
}

impl Matcher {
    /// A matcher for `stage_count` positive stages, with missing-event
    /// stages where `layout` says (`MissingLayout::default()`: none).
    pub fn new(
        stage_count: usize,
        maxspan_ms: Option<i64>,
        layout: MissingLayout,
        hash_seed: u64,
    ) -> Matcher {
        Matcher {
            stage_count,
            maxspan_ms,
            layout,
            leading: hashbrown::HashMap::with_hasher(key_hasher(hash_seed)),
            leading_age: VecDeque::new(),
            waiting: BTreeMap::new(),
            waiting_by_key: hashbrown::HashMap::with_hasher(key_hasher(hash_seed)),
            waiting_seq: 0,
            slots: Vec::new(),
            free: Vec::new(),
            index: HashTable::new(),
            hasher: key_hasher(hash_seed),
            by_age: VecDeque::new(),
            pending: 0,
            pending_at: alloc::vec![0; stage_count],
            state_bytes: 0,
            counts: MatcherCounts::default(),
        }
    }

    /// The positive stages it matches.
    pub fn stage_count(&self) -> usize {
        self.stage_count
    }

    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Can an event at positive stage `stage` (not the first) extend a
    /// sequence now? Only if one is pending at the stage before it.
    pub fn awaits(&self, stage: usize) -> bool {
        stage
            .checked_sub(1)
            .and_then(|before| self.pending_at.get(before))
            .is_some_and(|&n| n > 0)
    }

    pub fn state_bytes(&self) -> usize {
        self.state_bytes
    }

    /// Holds nothing that event time could change (no pending, waiting or
    /// leading state), so the engine need not visit it as time passes.
    pub fn is_idle(&self) -> bool {
        self.pending == 0 && self.waiting.is_empty() && self.leading_age.is_empty()
    }

    /// Runs one candidate: later stages first, so an event never pairs with
    /// itself. A hit at stage `stage_count` is the query's `until`: it runs
    /// first, dropping the sequences of its key that it comes after.
    pub fn process(&mut self, c: &Candidate, out: &mut Vec<Completed>) {
        // A missing-stage event counts only strictly after (or before) a
        // positive event's time, so this event's own hits are not its
        // business; leading events are recorded after its starts.
        for (at, keys) in &c.missing {
            if let MissingAt::After(p) = at {
                for key in keys {
                    self.missing_after(*p, c.ordinal.0, key, out);
                }
            }
        }
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
        for (at, keys) in &c.missing {
            if *at == MissingAt::Leading {
                for key in keys {
                    self.record_leading(c.ordinal.0, key);
                }
            }
        }
    }

    /// A missing-stage event after positive stage `p`: it marks the
    /// sequence pending there (discarded if the next stage comes later than
    /// it), or, after the last stage, decides the completed ones waiting.
    fn missing_after(&mut self, p: usize, ts: i64, key: &Key, out: &mut Vec<Completed>) {
        if p + 1 == self.stage_count {
            let Some(waiting) = self.waiting_by_key.remove(key) else {
                return;
            };
            let mut keep = Vec::new();
            for id in waiting {
                let due = self.waiting.get(&id).is_some_and(|w| w.last_ts < ts);
                if !due {
                    if self.waiting.contains_key(&id) {
                        keep.push(id);
                    }
                    continue;
                }
                if let Some(w) = self.waiting.remove(&id) {
                    self.pending -= 1;
                    self.state_bytes -= w.bytes;
                    self.decide(w, Some(ts), out);
                }
            }
            if !keep.is_empty() {
                self.waiting_by_key.insert(key.clone(), keep);
            }
            return;
        }
        if let Some(slot) = self.find(p, key) {
            let slot = &mut self.slots[slot as usize];
            if ts > slot.last.0 && slot.taint.is_none() {
                slot.taint = Some(ts);
            }
        }
    }

    fn record_leading(&mut self, ts: i64, key: &Key) {
        let entry = self.leading.entry(key.clone()).or_insert(Leading {
            last: ts,
            below: None,
        });
        if ts > entry.last {
            entry.below = Some(entry.last);
            entry.last = ts;
        }
        self.leading_age.push_back((ts, key.clone()));
    }

    /// The latest leading event of `key` strictly before `start`.
    fn leading_before(&self, key: &Key, start: i64) -> Option<i64> {
        let l = self.leading.get(key)?;
        if l.last < start {
            Some(l.last)
        } else {
            l.below.filter(|&b| b < start)
        }
    }

    /// A sequence whose positive stages all matched: out now, discarded, or
    /// held for its trailing window.
    fn complete(&mut self, done: Waiting, doomed: bool, out: &mut Vec<Completed>) {
        if doomed {
            self.counts.discarded_by_missing += 1;
            return;
        }
        if !self.layout.any() {
            out.push(Completed {
                key: done.key,
                events: done.events,
                last_ts: done.last_ts,
            });
            return;
        }
        if self.layout.trailing() {
            let deadline = done.first_ts.saturating_add(self.maxspan_ms.unwrap_or(0));
            self.waiting_seq += 1;
            let id = (deadline, self.waiting_seq);
            self.waiting_by_key
                .entry(done.key.clone())
                .or_default()
                .push(id);
            self.pending += 1;
            self.state_bytes += done.bytes;
            self.waiting.insert(id, done);
            return;
        }
        self.decide(done, None, out);
    }

    /// Elasticsearch's verdict on a sequence whose middle stages are clean,
    /// given its leading and trailing missing-stage events.
    fn decide(&mut self, w: Waiting, first_trailing: Option<i64>, out: &mut Vec<Completed>) {
        let span = self.maxspan_ms.unwrap_or(i64::MAX);
        let bigger = |from: Option<i64>, to: Option<i64>| match (from, to) {
            (Some(a), Some(b)) => b.saturating_sub(a) > span,
            _ => true,
        };
        let (lead, trail) = (self.layout.leading, self.layout.trailing());
        let (ll, ft) = (w.lead_ts, first_trailing);
        let accept = (ft.is_none() && ll.is_none())
            || (ll.is_none() && lead)
            || (ft.is_none() && trail)
            || (lead && trail && bigger(ll, ft))
            || (lead && !trail && bigger(ll, Some(w.last_ts)))
            || (!lead && trail && bigger(Some(w.first_ts), ft));
        if accept {
            out.push(Completed {
                key: w.key,
                events: w.events,
                last_ts: w.last_ts,
            });
        } else {
            self.counts.discarded_by_missing += 1;
        }
    }

    /// Lets out the completed sequences whose trailing window ended by
    /// `now` (all of them with `None`: the end of the stream).
    pub fn release_waiting(&mut self, now: Option<i64>, out: &mut Vec<Completed>) {
        while let Some((&id, _)) = self.waiting.first_key_value() {
            if now.is_some_and(|n| id.0 >= n) {
                break;
            }
            let Some(w) = self.take_waiting(id) else {
                break;
            };
            self.decide(w, None, out);
        }
    }

    /// Removes a waiting sequence from both indexes and the state counts.
    fn take_waiting(&mut self, id: (i64, u64)) -> Option<Waiting> {
        let w = self.waiting.remove(&id)?;
        if let Some(ids) = self.waiting_by_key.get_mut(&w.key) {
            ids.retain(|&i| i != id);
            if ids.is_empty() {
                self.waiting_by_key.remove(&w.key);
            }
        }
        self.pending -= 1;
        self.state_bytes -= w.bytes;
        Some(w)
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
        let lead_ts = if self.layout.leading {
            self.leading_before(key, c.ordinal.0)
        } else {
            None
        };
        if self.stage_count == 1 {
            let done = Waiting {
                key: key.clone(),
                first_ts: c.ordinal.0,
                last_ts: c.ordinal.0,
                lead_ts,
                bytes: SLOT_OVERHEAD + key.as_bytes().len() + c.event.len(),
                events: alloc::vec![c.event.clone()],
            };
            self.complete(done, false, out);
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
        if let Some(slot) = self.find(0, key) {
            self.slots[slot as usize].lead_ts = lead_ts;
        }
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
            lead_ts: None,
            taint: None,
            doomed: false,
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
        self.count_at(stage, 1);
        self.state_bytes += bytes;
    }

    /// Moves the count of sequences pending at `stage` by one.
    fn count_at(&mut self, stage: usize, added: isize) {
        if let Some(n) = self.pending_at.get_mut(stage) {
            *n = n.saturating_add_signed(added);
        }
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
        // A missing-stage event strictly between the two stages' times.
        let slot = &mut self.slots[prev as usize];
        if slot.taint.is_some_and(|t| t < c.ordinal.0) {
            slot.doomed = true;
        }
        slot.taint = None;
        if stage + 1 == self.stage_count {
            let slot = &mut self.slots[prev as usize];
            let done = Waiting {
                key: key.clone(),
                first_ts: slot.first_ts,
                last_ts: c.ordinal.0,
                lead_ts: slot.lead_ts,
                bytes: slot.bytes + c.event.len(),
                events: {
                    let mut events = core::mem::take(&mut slot.events);
                    events.push(c.event.clone());
                    events
                },
            };
            let doomed = slot.doomed;
            self.remove(prev);
            self.complete(done, doomed, out);
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
        self.count_at(stage - 1, -1);
        self.count_at(stage, 1);
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
        let (hash, stage) = (slot.hash, slot.stage);
        slot.live = false;
        slot.generation = slot.generation.wrapping_add(1);
        slot.events = Vec::new();
        self.pending -= 1;
        self.state_bytes -= slot.bytes;
        self.count_at(stage, -1);
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
        // A leading event older than maxspan before now can no longer be
        // within maxspan of any sequence still to come.
        while let Some((ts, _)) = self.leading_age.front() {
            if ts.saturating_add(span) >= now {
                break;
            }
            if let Some((ts, key)) = self.leading_age.pop_front() {
                if self.leading.get(&key).is_some_and(|l| l.last == ts) {
                    self.leading.remove(&key);
                }
            }
        }
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
            let Some(index) = self.oldest() else {
                // Only completed sequences waiting for their trailing window
                // are left: the one whose window ends first goes.
                let Some((&id, _)) = self.waiting.first_key_value() else {
                    break;
                };
                self.take_waiting(id);
                self.counts.evictions += 1;
                continue;
            };
            self.by_age.pop_front();
            self.remove(index);
            self.counts.evictions += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::hash::BuildHasher;

    /// The bucket a hash table of 4096 buckets puts a key in (hashbrown
    /// takes the low bits), and the 7 bits it compares first (the top).
    fn slot(hasher: &KeyHasher, stage: usize, key: &Key) -> (u64, u64) {
        let h = hasher.hash_one((stage, key));
        (h & 0xfff, h >> 57)
    }

    #[test]
    fn keys_crafted_to_collide_under_one_seed_spread_under_another() {
        // What an attacker who knows the seed can do: search entity ids
        // that all land in one bucket with the same control bits, so that
        // every lookup walks all of them.
        let known = key_hasher(0);
        let target = slot(&known, 0, &Key::new([Some("seed")]));
        let mut crafted = Vec::new();
        let mut n = 0u64;
        while crafted.len() < 32 {
            let value = alloc::format!("entity-{n}");
            n += 1;
            let key = Key::new([Some(value.as_str())]);
            if slot(&known, 0, &key) == target {
                crafted.push(key);
            }
        }
        // A host's own seed: the same keys spread as any keys do.
        let host = key_hasher(0x9e37_79b9_7f4a_7c15);
        let mut buckets: hashbrown::HashMap<u64, usize> = hashbrown::HashMap::new();
        for key in &crafted {
            *buckets.entry(slot(&host, 0, key).0).or_default() += 1;
        }
        let fullest = buckets.values().copied().max().unwrap_or(0);
        assert!(buckets.len() >= 28, "{} buckets", buckets.len());
        assert!(fullest <= 2, "{fullest} keys in one bucket");
    }

    #[test]
    fn the_matcher_finds_keys_whatever_the_seed() {
        for seed in [0, 1, u64::MAX] {
            let mut m = Matcher::new(2, None, MissingLayout::default(), seed);
            let key = Key::new([Some("h1")]);
            m.restore_pending(
                0,
                key.clone(),
                0,
                (0, 0, 1),
                alloc::vec![Arc::from("{}")],
                PendingMarks::default(),
            );
            assert!(m.find(0, &key).is_some());
            assert_eq!(m.pending(), 1);
        }
    }
}
