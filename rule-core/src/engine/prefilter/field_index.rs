//! One field's anchors within a category group. Case-sensitive and
//! case-insensitive tests of the field share one index, so each value is
//! hashed once and scanned once whatever the case of the tests on it:
//! exact values in one hash map keyed by their ASCII lowercase, the other
//! patterns' literals in one Aho-Corasick automaton that ignores ASCII case
//! (when some test folds case), each hit confirmed by its pattern on the
//! value as that pattern reads it. A non-ASCII value, whose folding ASCII
//! lowercase does not capture, is folded and looked up again for the
//! case-insensitive tests. Numbers (`destination.port == 10250`) go through
//! a hash map of their own.

use alloc::string::String;
use alloc::vec::Vec;
use hashbrown::HashMap;

use aho_corasick::automaton::{Automaton, OverlappingState};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, Input, MatchKind, StartKind};

use super::{AnchorId, Marks};
use crate::pattern::{GlobPart, Pattern};
use crate::plan::{FieldId, ValueRef};

/// What the index needs besides the value: reused buffers.
#[derive(Default)]
pub(super) struct Scratch {
    /// The value in ASCII lowercase (its folding, when it is ASCII).
    lower: String,
    /// The value folded as `pattern::fold` does (non-ASCII values only).
    folded: String,
}

pub(super) struct FieldIndex {
    pub(super) field: FieldId,
    /// Some test on the field folds case: exact keys are then ASCII
    /// lowercase and the automaton ignores ASCII case.
    folds: bool,
    /// Exact values by key (see `folds`), each entry a value and its anchors.
    exact: HashMap<String, Vec<ExactEntry>>,
    /// Some exact value is case-insensitive: a non-ASCII event value is
    /// then folded and looked up again.
    insensitive_exact: bool,
    /// Non-exact patterns, each with the anchors it stands for.
    patterns: Vec<IndexedPattern>,
    insensitive_patterns: bool,
    /// Finds the patterns' literals (a DFA: the fewest instructions per
    /// byte, and called directly, not through `AhoCorasick`'s dynamic
    /// dispatch); its pattern `i` is a literal of `patterns[owners[i]]`.
    /// `None` when it could not be built: every pattern is then tried.
    automaton: Option<DFA>,
    owners: Vec<usize>,
    /// Every pattern starts with its literal (`/tmp/*`): the automaton
    /// looks at the value's start only, so its search ends where no
    /// literal can go on (after `/u` of `/usr/bin/ls`), not at the end.
    anchored: bool,
    /// Numbers tested for equality, by [`number_key`].
    numbers: HashMap<u64, Vec<AnchorId>>,
}

struct ExactEntry {
    insensitive: bool,
    /// As the test holds it (folded when insensitive).
    text: String,
    ids: Vec<AnchorId>,
}

struct IndexedPattern {
    pattern: Pattern,
    insensitive: bool,
    ids: Vec<AnchorId>,
}

/// A number's key in [`FieldIndex::numbers`]: equal numbers (`0.0` and
/// `-0.0` included) have the same one; `None` for NaN, equal to nothing.
pub(super) fn number_key(n: f64) -> Option<u64> {
    if n.is_nan() {
        None
    } else if n == 0.0 {
        Some(0)
    } else {
        Some(n.to_bits())
    }
}

impl FieldIndex {
    pub(super) fn new(field: FieldId) -> FieldIndex {
        FieldIndex {
            field,
            folds: false,
            exact: HashMap::new(),
            insensitive_exact: false,
            patterns: Vec::new(),
            insensitive_patterns: false,
            automaton: None,
            owners: Vec::new(),
            anchored: false,
            numbers: HashMap::new(),
        }
    }

    /// Adds anchor `id`'s string patterns.
    pub(super) fn add_strings(&mut self, patterns: &[Pattern], insensitive: bool, id: AnchorId) {
        for pattern in patterns {
            let ids = match pattern {
                Pattern::Exact(text) => {
                    let entries = self.exact.entry(text.clone()).or_default();
                    let at = match entries
                        .iter()
                        .position(|e| e.insensitive == insensitive && &e.text == text)
                    {
                        Some(at) => at,
                        None => {
                            entries.push(ExactEntry {
                                insensitive,
                                text: text.clone(),
                                ids: Vec::new(),
                            });
                            entries.len() - 1
                        }
                    };
                    &mut entries[at].ids
                }
                other => {
                    let at = match self
                        .patterns
                        .iter()
                        .position(|p| p.insensitive == insensitive && &p.pattern == other)
                    {
                        Some(at) => at,
                        None => {
                            self.patterns.push(IndexedPattern {
                                pattern: other.clone(),
                                insensitive,
                                ids: Vec::new(),
                            });
                            self.patterns.len() - 1
                        }
                    };
                    &mut self.patterns[at].ids
                }
            };
            push_once(ids, id);
        }
    }

    /// Adds anchor `id`'s number, tested for equality.
    pub(super) fn add_number(&mut self, value: f64, id: AnchorId) {
        if let Some(key) = number_key(value) {
            push_once(self.numbers.entry(key).or_default(), id);
        }
    }

    /// Indexes what was added: keys by case, the automaton.
    pub(super) fn build(&mut self) {
        self.insensitive_exact = self.exact.values().flatten().any(|e| e.insensitive);
        self.insensitive_patterns = self.patterns.iter().any(|p| p.insensitive);
        self.folds = self.insensitive_exact || self.insensitive_patterns;
        if self.folds {
            // Re-key by ASCII lowercase (a folded text is its own).
            let exact = core::mem::take(&mut self.exact);
            for (_, entries) in exact {
                for entry in entries {
                    let key = entry.text.to_ascii_lowercase();
                    self.exact.entry(key).or_default().push(entry);
                }
            }
        }
        // (A second, anchored automaton beside an unanchored one costs a
        // search per value more than it saves: a DFA's cost is per byte.)
        self.anchored = self
            .patterns
            .iter()
            .all(|p| start_literal(&p.pattern).is_some());
        let mut literals = Vec::new();
        for (i, p) in self.patterns.iter().enumerate() {
            let literal = if self.anchored {
                start_literal(&p.pattern)
            } else {
                search_literal(&p.pattern)
            };
            // The anchors chosen have a literal (see `search_literal`).
            if let Some(literal) = literal {
                literals.push(literal);
                self.owners.push(i);
            }
        }
        if !literals.is_empty() && literals.len() == self.patterns.len() {
            let start_kind = if self.anchored {
                StartKind::Anchored
            } else {
                StartKind::Unanchored
            };
            // Built from the pack's own literals, so bounded by its size; if
            // it cannot be built, every pattern is tried (see `run`).
            self.automaton = DFA::builder()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(self.folds)
                .start_kind(start_kind)
                .build(&literals)
                .ok();
        }
    }

    /// Marks the anchors one value of the field passes.
    pub(super) fn run(&self, value: ValueRef<'_>, scratch: &mut Scratch, marks: &mut Marks<'_>) {
        match value {
            ValueRef::Str(s) => self.run_str(s, scratch, marks),
            ValueRef::Number(n) => {
                if let Some(ids) = number_key(n).and_then(|key| self.numbers.get(&key)) {
                    marks.mark(ids);
                }
            }
            ValueRef::Ip(_) => {}
        }
    }

    fn run_str(&self, value: &str, scratch: &mut Scratch, marks: &mut Marks<'_>) {
        if !self.folds {
            if let Some(entries) = self.exact.get(value) {
                entries.iter().for_each(|e| marks.mark(&e.ids));
            }
            self.scan(value, value, false, marks);
            return;
        }
        let ascii = value.is_ascii();
        scratch.lower.clear();
        scratch.lower.push_str(value);
        scratch.lower.make_ascii_lowercase();
        if let Some(entries) = self.exact.get(scratch.lower.as_str()) {
            for entry in entries {
                // An ASCII value's lowercase is its folding: an
                // insensitive entry found by it holds.
                let holds = if entry.insensitive {
                    ascii
                } else {
                    entry.text == value
                };
                if holds {
                    marks.mark(&entry.ids);
                }
            }
        }
        // Case-sensitive patterns read the value, insensitive ones its
        // folding: `lower` when the value is ASCII.
        self.scan(value, &scratch.lower, !ascii, marks);
        if ascii {
            return;
        }
        scratch.folded.clear();
        scratch
            .folded
            .extend(value.chars().flat_map(char::to_lowercase));
        if self.insensitive_exact {
            if let Some(entries) = self.exact.get(scratch.folded.as_str()) {
                entries
                    .iter()
                    .filter(|e| e.insensitive)
                    .for_each(|e| marks.mark(&e.ids));
            }
        }
        if self.insensitive_patterns {
            self.scan_insensitive(&scratch.folded, marks);
        }
    }

    /// Searches `value` for the literals and confirms each hit: a
    /// case-sensitive pattern on `value`, an insensitive one on `folded`
    /// (the same bytes lowercased) unless `skip_insensitive` (a non-ASCII
    /// value, done by `scan_insensitive` on its true folding).
    fn scan(&self, value: &str, folded: &str, skip_insensitive: bool, marks: &mut Marks<'_>) {
        self.each_literal(value, |i, at| {
            let p = &self.patterns[i];
            let holds = match (p.insensitive, skip_insensitive) {
                (false, _) => confirm(&p.pattern, value, at, self.folds),
                // Found ignoring ASCII case in an ASCII value: found in
                // its lowercase, where the pattern's folded literal is.
                (true, false) => confirm(&p.pattern, folded, at, false),
                (true, true) => false,
            };
            if holds {
                marks.mark(&p.ids);
            }
        });
    }

    /// The case-insensitive patterns on a folded non-ASCII value.
    fn scan_insensitive(&self, folded: &str, marks: &mut Marks<'_>) {
        self.each_literal(folded, |i, at| {
            let p = &self.patterns[i];
            if p.insensitive && confirm(&p.pattern, folded, at, self.folds) {
                marks.mark(&p.ids);
            }
        });
    }

    /// Calls `found` with each pattern whose literal occurs in `value` and
    /// where (every occurrence), or with every pattern and no place when
    /// there is no automaton.
    fn each_literal(&self, value: &str, mut found: impl FnMut(usize, Option<(usize, usize)>)) {
        if self.patterns.is_empty() {
            return;
        }
        let Some(automaton) = &self.automaton else {
            (0..self.patterns.len()).for_each(|i| found(i, None));
            return;
        };
        let anchored = if self.anchored {
            Anchored::Yes
        } else {
            Anchored::No
        };
        let input = Input::new(value).anchored(anchored);
        let mut state = OverlappingState::start();
        loop {
            // A Standard DFA built for this start kind has no error to
            // give; if it did, every pattern would be tried.
            if automaton.try_find_overlapping(&input, &mut state).is_err() {
                (0..self.patterns.len()).for_each(|i| found(i, None));
                return;
            }
            let Some(m) = state.get_match() else {
                return;
            };
            found(
                self.owners[m.pattern().as_usize()],
                Some((m.start(), m.end())),
            );
        }
    }
}

/// Does `pattern` hold for `value`, given that its search literal was found
/// at `at` (ignoring ASCII case when `case_blind`)? A prefix, suffix or
/// contains pattern is its literal, so where it was found decides; a glob
/// is matched in full.
fn confirm(pattern: &Pattern, value: &str, at: Option<(usize, usize)>, case_blind: bool) -> bool {
    let Some((start, end)) = at else {
        return pattern.matches(value);
    };
    let literal = match pattern {
        Pattern::Prefix(s) if start == 0 => s,
        Pattern::Suffix(s) if end == value.len() => s,
        Pattern::Contains(s) => s,
        Pattern::Prefix(_) | Pattern::Suffix(_) => return false,
        Pattern::Exact(_) | Pattern::Glob(_) => return pattern.matches(value),
    };
    !case_blind || value.as_bytes().get(start..end) == Some(literal.as_bytes())
}

fn push_once(ids: &mut Vec<AnchorId>, id: AnchorId) {
    if ids.last() != Some(&id) {
        ids.push(id);
    }
}

/// The literal every value the pattern matches starts with, if it is
/// also its [`search_literal`] (a glob's first literal may be as short as
/// `/`, found at the start of every path).
fn start_literal(pattern: &Pattern) -> Option<&str> {
    let literal = match pattern {
        Pattern::Prefix(s) => s.as_str(),
        Pattern::Glob(parts) => match parts.first()? {
            GlobPart::Literal(s) if Some(s.as_str()) == search_literal(pattern) => s.as_str(),
            _ => return None,
        },
        Pattern::Exact(_) | Pattern::Suffix(_) | Pattern::Contains(_) => return None,
    };
    (!literal.is_empty()).then_some(literal)
}

/// A literal every value the pattern matches contains.
pub(super) fn search_literal(pattern: &Pattern) -> Option<&str> {
    let literal = match pattern {
        Pattern::Exact(s) | Pattern::Prefix(s) | Pattern::Suffix(s) | Pattern::Contains(s) => {
            s.as_str()
        }
        Pattern::Glob(parts) => parts
            .iter()
            .filter_map(|p| match p {
                GlobPart::Literal(s) => Some(s.as_str()),
                GlobPart::AnyRun | GlobPart::AnyChar => None,
            })
            .max_by_key(|s| s.len())?,
    };
    (!literal.is_empty()).then_some(literal)
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::super::Marks;
    use super::{FieldIndex, Scratch};
    use crate::pattern::{fold, Pattern};
    use crate::plan::ValueRef;

    /// Marks into `hit`, every anchor of one rule.
    fn marks(hit: &mut [u64], arrival: u64) -> Marks<'_> {
        // Leaked: a test's few bytes, so the marks can borrow them.
        let rule_of: &'static [u32] = alloc::vec![0; hit.len()].leak();
        Marks {
            hit,
            rule_of,
            while_awaited: alloc::vec![false; rule_of.len()].leak(),
            active: None,
            rule_hit: alloc::vec![u64::MAX].leak(),
            hit_rules: alloc::boxed::Box::leak(alloc::boxed::Box::default()),
            arrival,
        }
    }

    /// The anchors (0, 1, ...) each value passes, through an index built
    /// from `tests` (anchor `i` is `tests[i]`: case-insensitive, pattern).
    fn passed(tests: &[(bool, Pattern)], values: &[ValueRef<'_>]) -> Vec<Vec<u32>> {
        let mut index = FieldIndex::new(1);
        for (id, (insensitive, pattern)) in tests.iter().enumerate() {
            index.add_strings(core::slice::from_ref(pattern), *insensitive, id as u32);
        }
        index.build();
        let mut scratch = Scratch::default();
        values
            .iter()
            .enumerate()
            .map(|(n, value)| {
                let arrival = n as u64;
                let mut hit = alloc::vec![u64::MAX; tests.len()];
                index.run(*value, &mut scratch, &mut marks(&mut hit, arrival));
                (0..tests.len() as u32)
                    .filter(|&id| hit[id as usize] == arrival)
                    .collect()
            })
            .collect()
    }

    /// What each test gives alone, as `eval` runs it.
    fn expected(tests: &[(bool, Pattern)], values: &[&str]) -> Vec<Vec<u32>> {
        values
            .iter()
            .map(|v| {
                (0..tests.len() as u32)
                    .filter(|&id| {
                        let (insensitive, pattern) = &tests[id as usize];
                        if *insensitive {
                            pattern.matches(&fold(v))
                        } else {
                            pattern.matches(v)
                        }
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn both_cases_in_one_index_pass_what_each_test_passes() {
        let tests = [
            (false, Pattern::wildcard("Curl", false)),
            (true, Pattern::wildcard("curl", true)),
            (false, Pattern::wildcard("/TMP/*", false)),
            (true, Pattern::wildcard("/tmp/*", true)),
            (false, Pattern::wildcard("*.SH", false)),
            (true, Pattern::wildcard("*.sh", true)),
            (false, Pattern::wildcard("*Base64*", false)),
            (true, Pattern::wildcard("*ÉTÉ*", true)),
            (true, Pattern::wildcard("*-*l*", true)),
            (false, Pattern::wildcard("a?c*x", false)),
            (true, Pattern::wildcard("ÀB", true)),
        ];
        let values = [
            "Curl", "curl", "CURL", "/TMP/x", "/tmp/x", "/Tmp/x", "x/TMP/", "run.SH", "run.sh",
            "run.Sh", "SH", "xBase64y", "xbase64y", "l'été", "L'ÉTÉ", "-al", "-AL", "l-", "abcx",
            "aécx", "ABCX", "àb", "ÀB", "ab",
        ];
        let refs: Vec<ValueRef<'_>> = values.iter().map(|v| ValueRef::Str(v)).collect();
        assert_eq!(passed(&tests, &refs), expected(&tests, &values));
    }

    #[test]
    fn prefixes_alone_are_searched_at_the_start() {
        let tests = [
            (false, Pattern::wildcard("/tmp/*", false)),
            (true, Pattern::wildcard("/TMP/*", true)),
            (false, Pattern::wildcard("/usr/*/.*", false)),
            (true, Pattern::wildcard("/ÉTÉ/*", true)),
        ];
        let values = [
            "/tmp/x",
            "/TMP/x",
            "x/tmp/",
            "/usr/bin/.x",
            "/usr/bin/x",
            "/été/x",
            "/ÉTÉ/x",
            "/tm",
        ];
        let refs: Vec<ValueRef<'_>> = values.iter().map(|v| ValueRef::Str(v)).collect();
        assert_eq!(passed(&tests, &refs), expected(&tests, &values));
    }

    #[test]
    fn numbers_pass_when_equal() {
        let mut index = FieldIndex::new(1);
        index.add_number(10250.0, 0);
        index.add_number(0.0, 1);
        index.build();
        let mut scratch = Scratch::default();
        for (n, (value, want)) in [
            (ValueRef::Number(10250.0), Some(0)),
            (ValueRef::Number(10250.5), None),
            (ValueRef::Number(-0.0), Some(1)),
            (ValueRef::Number(f64::NAN), None),
            (ValueRef::Str("10250"), None),
        ]
        .into_iter()
        .enumerate()
        {
            let mut hit = alloc::vec![u64::MAX; 2];
            index.run(value, &mut scratch, &mut marks(&mut hit, n as u64));
            let got = (0..2u32).find(|&id| hit[id as usize] == n as u64);
            assert_eq!(got, want, "{value:?}");
        }
    }
}
