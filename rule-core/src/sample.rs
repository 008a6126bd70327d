//! `sample by k [f1] [f2] ...`: for each join key, one event per stage, in
//! any order, no event twice in one sample; up to `max_samples_per_key`
//! samples per key (Elasticsearch's `SampleIterator`).
//!
//! Elasticsearch answers a sample query over a finished index: per key it
//! takes the first few events of each stage and picks one per stage,
//! backtracking so that no event fills two stages. A stream cannot wait for
//! the end, so here a key's sample is formed as soon as its events allow it,
//! from the first events of each stage seen so far (as many as
//! Elasticsearch's final query keeps: stages × max samples), with the same
//! backtracking; samples come out as they form, where Elasticsearch sorts
//! them by key. A key that gave its samples keeps a small record so that it
//! gives no more; key state is bounded by the engine's limits like pending
//! sequences (the oldest key goes first, counted as an eviction).

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::sequence::{Candidate, Completed, Key};

/// Events kept per stage of a key are at most this many, whatever the
/// stage count and samples per key ask.
pub const MAX_KEPT_PER_STAGE: usize = 256;

/// Backtracking steps one attempt at a sample may take.
pub const MAX_SAMPLE_STEPS: usize = 1 << 16;

/// Bytes a key's state is charged besides its events (see `sequence.rs`).
const KEY_OVERHEAD: usize = 160;

pub struct Sampler {
    stage_count: usize,
    max_per_key: usize,
    keep_per_stage: usize,
    keys: hashbrown::HashMap<Key, KeyState, crate::sequence::KeyHasher>,
    /// Keys in the order they were first seen, for eviction.
    by_age: VecDeque<(Key, u64)>,
    next_id: u64,
    state_bytes: usize,
    pub evictions: u64,
    /// Attempts cut at [`MAX_SAMPLE_STEPS`].
    pub truncated: u64,
}

struct KeyState {
    id: u64,
    /// Per stage, the first events that passed it: (arrival, time, event).
    stages: Vec<Vec<(u64, i64, Arc<str>)>>,
    /// The samples given, as event arrivals in stage order.
    given: Vec<Vec<u64>>,
    bytes: usize,
}

impl Sampler {
    pub fn new(stage_count: usize, max_per_key: usize, hash_seed: u64) -> Sampler {
        Sampler {
            stage_count,
            max_per_key,
            keep_per_stage: stage_count
                .saturating_mul(max_per_key)
                .clamp(1, MAX_KEPT_PER_STAGE),
            keys: hashbrown::HashMap::with_hasher(crate::sequence::key_hasher(hash_seed)),
            by_age: VecDeque::new(),
            next_id: 0,
            state_bytes: 0,
            evictions: 0,
            truncated: 0,
        }
    }

    /// Keys with state now.
    pub fn pending(&self) -> usize {
        self.keys.len()
    }

    pub fn state_bytes(&self) -> usize {
        self.state_bytes
    }

    /// Files the event under each stage and key it passed, then gives the
    /// samples those keys can now form.
    pub fn process(&mut self, c: &Candidate, out: &mut Vec<Completed>) {
        let mut touched: Vec<&Key> = Vec::new();
        for (stage, keys) in &c.hits {
            for key in keys {
                if !self.keys.contains_key(key) {
                    self.next_id += 1;
                    let bytes = KEY_OVERHEAD + key.as_bytes().len();
                    self.state_bytes += bytes;
                    self.keys.insert(
                        key.clone(),
                        KeyState {
                            id: self.next_id,
                            stages: alloc::vec![Vec::new(); self.stage_count],
                            given: Vec::new(),
                            bytes,
                        },
                    );
                    self.by_age.push_back((key.clone(), self.next_id));
                }
                let Some(state) = self.keys.get_mut(key) else {
                    continue;
                };
                if state.given.len() >= self.max_per_key {
                    continue;
                }
                let Some(list) = state.stages.get_mut(*stage) else {
                    continue;
                };
                if list.len() >= self.keep_per_stage {
                    continue;
                }
                if list.iter().any(|(id, _, _)| *id == c.ordinal.2) {
                    continue;
                }
                list.push((c.ordinal.2, c.ordinal.0, c.event.clone()));
                state.bytes += c.event.len();
                self.state_bytes += c.event.len();
                if !touched.contains(&key) {
                    touched.push(key);
                }
            }
        }
        for key in touched {
            self.give(key, out);
        }
    }

    /// Gives the key's next samples, as many as it may and can.
    fn give(&mut self, key: &Key, out: &mut Vec<Completed>) {
        let Some(state) = self.keys.get_mut(key) else {
            return;
        };
        while state.given.len() < self.max_per_key {
            let mut chosen = Vec::with_capacity(self.stage_count);
            let mut steps = 0usize;
            match pick(&state.stages, &state.given, &mut chosen, &mut steps) {
                Pick::Found => {}
                Pick::None => break,
                Pick::TooLong => {
                    self.truncated += 1;
                    break;
                }
            }
            let events: Vec<Arc<str>> = chosen
                .iter()
                .enumerate()
                .map(|(stage, &i)| state.stages[stage][i].2.clone())
                .collect();
            let last_ts = chosen
                .iter()
                .enumerate()
                .map(|(stage, &i)| state.stages[stage][i].1)
                .max()
                .unwrap_or(0);
            state.given.push(
                chosen
                    .iter()
                    .enumerate()
                    .map(|(s, &i)| state.stages[s][i].0)
                    .collect(),
            );
            out.push(Completed {
                key: key.clone(),
                events,
                last_ts,
            });
        }
        if state.given.len() >= self.max_per_key {
            // Done for good: only the record that it is stays.
            let freed: usize = state.stages.iter().flatten().map(|(_, _, e)| e.len()).sum();
            state.stages = Vec::new();
            state.given = Vec::new();
            state.bytes -= freed;
            self.state_bytes -= freed;
        }
    }

    /// Evicts the oldest keys until both bounds hold.
    pub fn enforce(&mut self, max_keys: usize, max_bytes: usize) {
        while self.keys.len() > max_keys || self.state_bytes > max_bytes {
            let Some((key, id)) = self.by_age.pop_front() else {
                break;
            };
            if self.keys.get(&key).is_some_and(|s| s.id == id) {
                if let Some(state) = self.keys.remove(&key) {
                    self.state_bytes -= state.bytes;
                    self.evictions += 1;
                }
            }
        }
    }
}

/// One key's state, for snapshots: per stage the events kept (arrival,
/// time, event; no stages once the key gave all its samples), and the
/// samples given as arrivals.
pub struct SampleKeyState {
    pub key: Key,
    pub stages: Vec<Vec<(u64, i64, Arc<str>)>>,
    pub given: Vec<Vec<u64>>,
}

impl Sampler {
    /// Every key's state, oldest first.
    pub fn key_states(&self) -> Vec<SampleKeyState> {
        self.by_age
            .iter()
            .filter_map(|(key, id)| {
                let state = self.keys.get(key).filter(|s| s.id == *id)?;
                Some(SampleKeyState {
                    key: key.clone(),
                    stages: state.stages.clone(),
                    given: state.given.clone(),
                })
            })
            .collect()
    }

    /// Puts keys back as [`Sampler::key_states`] gave them, oldest first;
    /// the caller has checked that each has no stages or this query's count.
    pub fn restore_keys(&mut self, states: Vec<SampleKeyState>) {
        for state in states {
            let events: usize = state.stages.iter().flatten().map(|(_, _, e)| e.len()).sum();
            let bytes = KEY_OVERHEAD + state.key.as_bytes().len() + events;
            self.next_id += 1;
            self.state_bytes += bytes;
            self.by_age.push_back((state.key.clone(), self.next_id));
            let replaced = self.keys.insert(
                state.key,
                KeyState {
                    id: self.next_id,
                    stages: state.stages,
                    given: state.given,
                    bytes,
                },
            );
            if let Some(old) = replaced {
                self.state_bytes -= old.bytes;
            }
        }
    }
}

enum Pick {
    Found,
    None,
    TooLong,
}

/// Backtracking, first events first, as Elasticsearch's `matchSample`: one
/// event per stage, no event twice, and not a sample given before.
fn pick(
    stages: &[Vec<(u64, i64, Arc<str>)>],
    given: &[Vec<u64>],
    chosen: &mut Vec<usize>,
    steps: &mut usize,
) -> Pick {
    let stage = chosen.len();
    if stage == stages.len() {
        let ids: Vec<u64> = chosen
            .iter()
            .enumerate()
            .map(|(s, &i)| stages[s][i].0)
            .collect();
        return if given.contains(&ids) {
            Pick::None
        } else {
            Pick::Found
        };
    }
    for (i, (id, _, _)) in stages[stage].iter().enumerate() {
        *steps += 1;
        if *steps > MAX_SAMPLE_STEPS {
            return Pick::TooLong;
        }
        let used = chosen
            .iter()
            .enumerate()
            .any(|(s, &j)| stages[s][j].0 == *id);
        if used {
            continue;
        }
        chosen.push(i);
        match pick(stages, given, chosen, steps) {
            Pick::None => {
                chosen.pop();
            }
            other => return other,
        }
    }
    Pick::None
}
