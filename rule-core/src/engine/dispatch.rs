//! Which rules of a pack an event can concern, found without evaluating
//! any of them: by its event category (a `process where` rule never sees a
//! network event) and by its index (a rule runs only on the indices its
//! `index` patterns name). Both are necessary conditions of the rules'
//! own filters or Elastic's scheduling, so dispatching never changes a
//! rule's results; it only spares the rules that could not match.

use alloc::string::String;
use alloc::vec::Vec;
use hashbrown::HashMap;

use crate::decode::Decoded;
use crate::pattern::Pattern;
use crate::plan::{FieldId, ValueRef};

/// The fields Fleet names an index from: `type-dataset-namespace`.
pub(crate) const INDEX_FIELDS: [&str; 3] = [
    "data_stream.type",
    "data_stream.dataset",
    "data_stream.namespace",
];

/// Distinct indices whose rule set is remembered; past it the cache starts over.
const INDEX_CACHE: usize = 256;

pub(crate) struct Dispatch {
    /// Rules with a stage that names no category (`any where`).
    always: Vec<u32>,
    /// Per category field, the rules each category value concerns.
    categories: Vec<(FieldId, HashMap<String, Vec<u32>>)>,
    index: Option<IndexRouting>,
    /// Per rule, the arrival number of the last event it was picked for,
    /// so a rule reached through two categories is picked once.
    picked_for: Vec<u64>,
}

/// A rule's dispatch keys: the categories its stages require (`None`: one
/// stage takes any event) and its index patterns.
pub(crate) struct RuleKeys {
    pub categories: Option<Vec<(FieldId, String)>>,
    pub index: Vec<String>,
    /// Found by its anchors (see `prefilter`), not by category.
    pub anchored: bool,
}

struct IndexRouting {
    fields: [FieldId; 3],
    /// Per rule, its index patterns (empty: every index).
    patterns: Vec<Vec<Pattern>>,
    /// Per index seen, which rules run on it.
    cache: HashMap<String, Vec<bool>>,
    scratch: String,
}

impl Dispatch {
    /// `index_fields`: the ids of [`INDEX_FIELDS`] when some rule has
    /// index patterns.
    pub(crate) fn new(rules: &[RuleKeys], index_fields: Option<[FieldId; 3]>) -> Dispatch {
        let mut always = Vec::new();
        let mut categories: Vec<(FieldId, HashMap<String, Vec<u32>>)> = Vec::new();
        for (r, keys) in rules.iter().enumerate() {
            let r = r as u32;
            if keys.anchored {
                continue;
            }
            let Some(required) = &keys.categories else {
                always.push(r);
                continue;
            };
            for (field, value) in required {
                let at = match categories.iter().position(|(f, _)| f == field) {
                    Some(at) => at,
                    None => {
                        categories.push((*field, HashMap::new()));
                        categories.len() - 1
                    }
                };
                let list = categories[at].1.entry(value.clone()).or_default();
                if list.last() != Some(&r) {
                    list.push(r);
                }
            }
        }
        let index = index_fields.map(|fields| IndexRouting {
            fields,
            patterns: rules
                .iter()
                .map(|k| {
                    k.index
                        .iter()
                        .map(|p| Pattern::wildcard(p, false))
                        .collect()
                })
                .collect(),
            cache: HashMap::new(),
            scratch: String::new(),
        });
        Dispatch {
            always,
            categories,
            index,
            picked_for: alloc::vec![u64::MAX; rules.len()],
        }
    }

    /// The rules the event can concern, ascending, into `out`: those its
    /// category concerns, and `also` (rules found otherwise, not by category).
    pub(crate) fn pick(
        &mut self,
        decoded: &Decoded,
        text: &str,
        arrival: u64,
        also: &[u32],
        out: &mut Vec<u32>,
    ) {
        out.clear();
        out.extend_from_slice(&self.always);
        // `also` comes in no order.
        let mut merged = !also.is_empty();
        out.extend_from_slice(also);
        for (field, by_value) in &self.categories {
            for value in decoded.values(text, *field) {
                let ValueRef::Str(value) = value else {
                    continue;
                };
                let Some(rules) = by_value.get(value) else {
                    continue;
                };
                let start = out.len();
                for &r in rules {
                    let seen = &mut self.picked_for[r as usize];
                    if *seen != arrival {
                        *seen = arrival;
                        out.push(r);
                    }
                }
                // Each list is ascending; two of them need a sort.
                merged |= start > 0 && out.len() > start;
            }
        }
        if merged {
            out.sort_unstable();
        }
        if let Some(index) = &mut self.index {
            if let Some(runs) = index.rules_for(decoded, text) {
                out.retain(|&r| runs.get(r as usize).copied().unwrap_or(true));
            }
        }
    }
}

impl IndexRouting {
    /// Which rules run on the event's index; `None` when its index is not
    /// known (a field missing), and then every rule runs.
    fn rules_for(&mut self, decoded: &Decoded, text: &str) -> Option<&Vec<bool>> {
        self.scratch.clear();
        for (i, field) in self.fields.iter().enumerate() {
            let Some(ValueRef::Str(part)) = decoded.values(text, *field).next() else {
                return None;
            };
            if i > 0 {
                self.scratch.push('-');
            }
            self.scratch.push_str(part);
        }
        if !self.cache.contains_key(self.scratch.as_str()) {
            if self.cache.len() >= INDEX_CACHE {
                self.cache.clear();
            }
            let index = self.scratch.as_str();
            let runs = self
                .patterns
                .iter()
                .map(|p| p.is_empty() || p.iter().any(|p| p.matches(index)))
                .collect();
            self.cache.insert(self.scratch.clone(), runs);
        }
        self.cache.get(self.scratch.as_str())
    }
}
