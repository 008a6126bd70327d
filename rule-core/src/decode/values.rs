//! An event's decoded values, grouped by field without sorting.
//!
//! The walk meets values in document order, fields interleaved; rules read
//! them field by field. Each field keeps a chain through its values (first,
//! last, and a `next` link per value), so grouping costs one store per
//! value, and nothing per field the event lacks: a field's head counts as
//! set only when it carries the current event's generation, so moving to
//! the next event touches no per-field state. (A pack reads hundreds of
//! fields; sorting the values, then filling a start offset for every field
//! of the table, cost more than a tenth of its decoding.)

use alloc::vec::Vec;

use super::Slot;
use crate::plan::FieldId;

/// The end of a field's chain.
const END: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Entry {
    slot: Slot,
    next: u32,
}

/// Where a field's chain starts and ends, valid for one generation.
#[derive(Debug, Clone, Copy, Default)]
struct Head {
    generation: u32,
    first: u32,
    last: u32,
}

#[derive(Debug)]
pub(super) struct FieldValues {
    entries: Vec<Entry>,
    heads: Vec<Head>,
    /// Starts at 1: a head of generation 0 was never set.
    generation: u32,
}

impl Default for FieldValues {
    fn default() -> Self {
        FieldValues {
            entries: Vec::new(),
            heads: Vec::new(),
            generation: 1,
        }
    }
}

impl FieldValues {
    /// Appends a value to its field's chain (in document order).
    pub(super) fn push(&mut self, (field, slot): (FieldId, Slot)) {
        let at = self.entries.len() as u32;
        self.entries.push(Entry { slot, next: END });
        let f = usize::from(field);
        if f >= self.heads.len() {
            self.heads.resize(f + 1, Head::default());
        }
        let head = &mut self.heads[f];
        if head.generation == self.generation {
            let last = head.last as usize;
            head.last = at;
            if let Some(entry) = self.entries.get_mut(last) {
                entry.next = at;
            }
        } else {
            *head = Head {
                generation: self.generation,
                first: at,
                last: at,
            };
        }
    }

    /// Forgets every value: the next event starts a new generation.
    pub(super) fn clear(&mut self) {
        self.entries.clear();
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Wrapped: heads of an old generation 1 would read as set.
            self.heads.iter_mut().for_each(|h| *h = Head::default());
            self.generation = 1;
        }
    }

    fn first(&self, field: FieldId) -> u32 {
        match self.heads.get(usize::from(field)) {
            Some(head) if head.generation == self.generation => head.first,
            _ => END,
        }
    }

    pub(super) fn has(&self, field: FieldId) -> bool {
        self.first(field) != END
    }

    /// The field's values in document order.
    pub(super) fn of(&self, field: FieldId) -> impl Iterator<Item = &Slot> + '_ {
        let mut at = self.first(field);
        core::iter::from_fn(move || {
            let entry = self.entries.get(at as usize)?;
            at = entry.next;
            Some(&entry.slot)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(values: &FieldValues, field: FieldId) -> Vec<f64> {
        values
            .of(field)
            .map(|s| match s {
                Slot::Number(n) => *n,
                _ => f64::NAN,
            })
            .collect()
    }

    #[test]
    fn values_come_back_by_field_in_document_order_and_clear_per_event() {
        let mut values = FieldValues::default();
        for (f, n) in [(3, 1.0), (0, 2.0), (3, 3.0), (7, 4.0), (3, 5.0)] {
            values.push((f, Slot::Number(n)));
        }
        assert_eq!(numbers(&values, 3), [1.0, 3.0, 5.0]);
        assert_eq!(numbers(&values, 0), [2.0]);
        assert_eq!(numbers(&values, 7), [4.0]);
        assert!(!values.has(1) && !values.has(500));
        values.clear();
        assert!(!values.has(3));
        values.push((7, Slot::Number(6.0)));
        assert_eq!(numbers(&values, 7), [6.0]);
        assert!(numbers(&values, 3).is_empty());
    }

    #[test]
    fn a_wrapped_generation_forgets_old_heads() {
        let mut values = FieldValues::default();
        values.push((2, Slot::Number(1.0)));
        values.generation = u32::MAX;
        values.clear();
        assert_eq!(values.generation, 1);
        assert!(!values.has(2));
    }
}
