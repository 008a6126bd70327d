//! What missing-event stages track besides the pending sequences, taken
//! out of the matcher and put back, for snapshots: the marks each pending
//! sequence carries, each key's latest leading events, and the completed
//! sequences waiting for their trailing window. Plain data here; the bytes
//! are `snapshot.rs`'s business.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{Key, Leading, Matcher, Ordinal, Waiting, SLOT_OVERHEAD};

/// A pending sequence, for snapshots.
pub struct PendingView<'a> {
    pub stage: usize,
    pub key: &'a Key,
    pub first_ts: i64,
    pub last: Ordinal,
    pub events: &'a [Arc<str>],
    pub marks: PendingMarks,
}

/// What a pending sequence knows of missing-stage events (see `Slot`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PendingMarks {
    pub lead_ts: Option<i64>,
    pub taint: Option<i64>,
    pub doomed: bool,
}

/// A completed sequence waiting for its trailing window to pass.
pub struct WaitingState {
    pub deadline: i64,
    pub key: Key,
    pub first_ts: i64,
    pub last_ts: i64,
    pub lead_ts: Option<i64>,
    pub events: Vec<Arc<str>>,
}

/// The matcher's missing-event side state.
#[derive(Default)]
pub struct MissingState {
    /// Per key, the newest leading event time and the newest strictly older.
    pub leading: Vec<(Key, i64, Option<i64>)>,
    /// Leading events in time order, as the matcher forgets them.
    pub leading_age: Vec<(i64, Key)>,
    /// In deadline order.
    pub waiting: Vec<WaitingState>,
}

impl Matcher {
    /// Restores a pending sequence from a snapshot, as the youngest; one
    /// already pending under the same (stage, key) is replaced.
    pub fn restore_pending(
        &mut self,
        stage: usize,
        key: Key,
        first_ts: i64,
        last: Ordinal,
        events: Vec<Arc<str>>,
        marks: PendingMarks,
    ) {
        if let Some(existing) = self.find(stage, &key) {
            self.remove(existing);
        }
        self.insert(stage, key.clone(), first_ts, last, events);
        if let Some(index) = self.find(stage, &key) {
            let slot = &mut self.slots[index as usize];
            slot.lead_ts = marks.lead_ts;
            slot.taint = marks.taint;
            slot.doomed = marks.doomed;
        }
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
                marks: PendingMarks {
                    lead_ts: slot.lead_ts,
                    taint: slot.taint,
                    doomed: slot.doomed,
                },
            })
        })
    }

    pub fn missing_state(&self) -> MissingState {
        MissingState {
            leading: self
                .leading
                .iter()
                .map(|(key, l)| (key.clone(), l.last, l.below))
                .collect(),
            leading_age: self.leading_age.iter().cloned().collect(),
            waiting: self
                .waiting
                .iter()
                .map(|(&(deadline, _), w)| WaitingState {
                    deadline,
                    key: w.key.clone(),
                    first_ts: w.first_ts,
                    last_ts: w.last_ts,
                    lead_ts: w.lead_ts,
                    events: w.events.clone(),
                })
                .collect(),
        }
    }

    /// Puts back what [`Matcher::missing_state`] gave, into a matcher that
    /// holds none (a fresh or reset one).
    pub fn restore_missing(&mut self, state: MissingState) {
        for (key, last, below) in state.leading {
            self.leading.insert(key, Leading { last, below });
        }
        self.leading_age.extend(state.leading_age);
        for w in state.waiting {
            self.waiting_seq += 1;
            let id = (w.deadline, self.waiting_seq);
            let bytes = SLOT_OVERHEAD
                + w.key.as_bytes().len()
                + w.events.iter().map(|e| e.len()).sum::<usize>();
            self.waiting_by_key
                .entry(w.key.clone())
                .or_default()
                .push(id);
            self.pending += 1;
            self.state_bytes += bytes;
            self.waiting.insert(
                id,
                Waiting {
                    key: w.key,
                    first_ts: w.first_ts,
                    last_ts: w.last_ts,
                    lead_ts: w.lead_ts,
                    events: w.events,
                    bytes,
                },
            );
        }
    }
}
