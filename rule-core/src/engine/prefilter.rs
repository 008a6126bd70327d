//! Literal tests shared by a pack's rules, run once per event for all of
//! them. Each stage of each rule gets an *anchor*: string tests that its
//! filter cannot pass without (a conjunct of its top-level `and`, or all the
//! branches of an `or` of such tests), chosen as the rarest in the pack, so
//! that `host.os.type == "linux"` (every Linux rule) is passed over for
//! `process.name in ("nc", "ncat")`. Per event, the anchors of every rule
//! are tried together: exact values through one hash map per field, the
//! other patterns through one Aho-Corasick automaton per field over their
//! literals, each hit confirmed by the pattern itself. A stage whose anchor
//! missed is false without evaluating its filter; one whose anchor hit is
//! evaluated in full, so results never change.

use alloc::string::String;
use alloc::vec::Vec;
use hashbrown::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::decode::Decoded;
use crate::pattern::{GlobPart, Pattern};
use crate::plan::{FieldId, FieldSpec, Filter, Plan, StagePlan, Test, ValueRef};

/// ECS fields with a handful of values that most events of a kind share
/// (`event.type: "start"` is every process start): the number of rules
/// that test a value says nothing of how many events have it, so a test on
/// one of these is an anchor only when a stage has no other.
const GENERIC_FIELDS: [&str; 10] = [
    "event.type",
    "event.action",
    "event.category",
    "event.outcome",
    "event.kind",
    "event.module",
    "event.dataset",
    "host.os.type",
    "host.os.name",
    "agent.type",
];

/// What choosing a test on a [`GENERIC_FIELDS`] field costs on top of its uses.
const GENERIC_COST: u64 = 1 << 32;

/// An anchor's id: its slot in [`Prefilter::hit`].
pub(crate) type AnchorId = u32;

/// One positive string test of some stage: field, case, patterns.
#[derive(Clone, Copy)]
struct LeafRef<'a> {
    field: FieldId,
    insensitive: bool,
    patterns: &'a [Pattern],
}

/// The anchors of every stage of every rule, by field.
pub(crate) struct Prefilter {
    /// Anchors grouped by the category their stage requires: an event runs
    /// only the groups of its own categories (and the group of none).
    groups: Vec<CategoryGroup>,
    /// Per anchor, the arrival number of the last event that passed it.
    hit: Vec<u64>,
    /// Per anchor, its rule.
    rule_of: Vec<u32>,
    /// Rules every stage of which has an anchor: only an anchor hit makes
    /// the event their business.
    pub(crate) anchored: Vec<bool>,
    /// Per rule, the arrival number of the last event that hit one of its
    /// anchors, and those rules for the event now.
    rule_hit: Vec<u64>,
    pub(crate) hit_rules: Vec<u32>,
    /// Folded values of case-insensitive fields (reused).
    folded: String,
}

struct CategoryGroup {
    category: Option<(FieldId, String)>,
    fields: Vec<FieldIndex>,
}

struct FieldIndex {
    field: FieldId,
    insensitive: bool,
    exact: HashMap<String, Vec<AnchorId>>,
    /// Non-exact patterns, each with the anchors it stands for.
    patterns: Vec<(Pattern, Vec<AnchorId>)>,
    /// Finds the patterns' literals; its pattern `i` is a literal of
    /// `patterns[owners[i]]`.
    automaton: Option<AhoCorasick>,
    owners: Vec<usize>,
    /// Patterns with no literal to search for (`?*`): tried on every value.
    unanchored: Vec<usize>,
}

/// Per rule, per stage (then `until`), the stage's anchor if it has one.
pub(crate) type RuleAnchors = Vec<Option<AnchorId>>;

impl Prefilter {
    /// Chooses the anchors of `plans` (each rule's stages, then its
    /// `until`) and indexes them.
    pub(crate) fn new(plans: &[&Plan], fields: &[FieldSpec]) -> (Prefilter, Vec<RuleAnchors>) {
        // How many stages of the pack test each (field, case, pattern):
        // the fewer, the better an anchor it makes.
        let mut uses: HashMap<(FieldId, bool, &Pattern), u32> = HashMap::new();
        let generic: Vec<bool> = fields
            .iter()
            .map(|f| GENERIC_FIELDS.contains(&f.path.as_str()))
            .collect();
        for plan in plans {
            for stage in stages(plan) {
                let mut leaves = Vec::new();
                positive_leaves(&stage.filter, &mut leaves);
                for leaf in leaves {
                    for p in leaf.patterns {
                        *uses.entry((leaf.field, leaf.insensitive, p)).or_default() += 1;
                    }
                }
            }
        }
        let mut prefilter = Prefilter {
            groups: Vec::new(),
            hit: Vec::new(),
            rule_of: Vec::new(),
            anchored: Vec::with_capacity(plans.len()),
            rule_hit: alloc::vec![u64::MAX; plans.len()],
            hit_rules: Vec::new(),
            folded: String::new(),
        };
        let mut anchors = Vec::with_capacity(plans.len());
        for (r, plan) in plans.iter().enumerate() {
            let mut rule = Vec::new();
            for stage in stages(plan) {
                let chosen = anchor(&stage.filter, &uses, &generic).map(|(leaves, _)| {
                    let id = prefilter.hit.len() as AnchorId;
                    prefilter.hit.push(u64::MAX);
                    prefilter.rule_of.push(r as u32);
                    for leaf in leaves {
                        prefilter.index(&stage.category, leaf, id);
                    }
                    id
                });
                rule.push(chosen);
            }
            prefilter.anchored.push(rule.iter().all(Option::is_some));
            anchors.push(rule);
        }
        for group in &mut prefilter.groups {
            group.fields.iter_mut().for_each(FieldIndex::build);
        }
        (prefilter, anchors)
    }

    fn index(&mut self, category: &Option<(FieldId, String)>, leaf: LeafRef<'_>, id: AnchorId) {
        let group = match self.groups.iter().position(|g| &g.category == category) {
            Some(at) => at,
            None => {
                self.groups.push(CategoryGroup {
                    category: category.clone(),
                    fields: Vec::new(),
                });
                self.groups.len() - 1
            }
        };
        let fields = &mut self.groups[group].fields;
        let at = match fields
            .iter()
            .position(|f| f.field == leaf.field && f.insensitive == leaf.insensitive)
        {
            Some(at) => at,
            None => {
                fields.push(FieldIndex {
                    field: leaf.field,
                    insensitive: leaf.insensitive,
                    exact: HashMap::new(),
                    patterns: Vec::new(),
                    automaton: None,
                    owners: Vec::new(),
                    unanchored: Vec::new(),
                });
                fields.len() - 1
            }
        };
        let index = &mut fields[at];
        for pattern in leaf.patterns {
            let ids = match pattern {
                Pattern::Exact(value) => index.exact.entry(value.clone()).or_default(),
                other => match index.patterns.iter().position(|(p, _)| p == other) {
                    Some(i) => &mut index.patterns[i].1,
                    None => {
                        index.patterns.push((other.clone(), Vec::new()));
                        &mut index.patterns.last_mut().expect("just pushed").1
                    }
                },
            };
            if ids.last() != Some(&id) {
                ids.push(id);
            }
        }
    }

    /// Runs every anchor on the event, marking the ones it passes and
    /// listing their rules in `hit_rules`.
    pub(crate) fn run(&mut self, decoded: &Decoded, text: &str, arrival: u64) {
        self.hit_rules.clear();
        let mut marks = Marks {
            hit: &mut self.hit,
            rule_of: &self.rule_of,
            rule_hit: &mut self.rule_hit,
            hit_rules: &mut self.hit_rules,
            arrival,
        };
        for group in &self.groups {
            if let Some((field, category)) = &group.category {
                let mut values = decoded.values(text, *field);
                if !values.any(|v| v == ValueRef::Str(category)) {
                    continue;
                }
            }
            for index in &group.fields {
                for value in decoded.values(text, index.field) {
                    let ValueRef::Str(value) = value else {
                        continue;
                    };
                    let value = if index.insensitive {
                        self.folded.clear();
                        if value.is_ascii() {
                            // What `pattern::fold` gives, without a char walk.
                            self.folded.push_str(value);
                            self.folded.make_ascii_lowercase();
                        } else {
                            self.folded
                                .extend(value.chars().flat_map(char::to_lowercase));
                        }
                        self.folded.as_str()
                    } else {
                        value
                    };
                    index.run(value, &mut marks);
                }
            }
        }
    }

    /// Did the event of `arrival` pass anchor `id`?
    pub(crate) fn passed(&self, id: AnchorId, arrival: u64) -> bool {
        self.hit[id as usize] == arrival
    }
}

impl FieldIndex {
    fn build(&mut self) {
        let mut literals = Vec::new();
        for (i, (pattern, _)) in self.patterns.iter().enumerate() {
            match search_literal(pattern) {
                Some(literal) => {
                    literals.push(literal);
                    self.owners.push(i);
                }
                None => self.unanchored.push(i),
            }
        }
        if !literals.is_empty() {
            // Built from the pack's own literals, so bounded by its size; if
            // it cannot be built, every pattern is tried (see `run`).
            self.automaton = AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .build(&literals)
                .ok();
        }
    }

    fn run(&self, value: &str, marks: &mut Marks<'_>) {
        if let Some(ids) = self.exact.get(value) {
            marks.mark(ids);
        }
        let mut test = |i: usize| {
            let (pattern, ids) = &self.patterns[i];
            if pattern.matches(value) {
                marks.mark(ids);
            }
        };
        match &self.automaton {
            Some(automaton) => {
                for found in automaton.find_overlapping_iter(value) {
                    test(self.owners[found.pattern().as_usize()]);
                }
                self.unanchored.iter().for_each(|&i| test(i));
            }
            None => (0..self.patterns.len()).for_each(test),
        }
    }
}

/// Where an event's anchor hits are recorded.
struct Marks<'a> {
    hit: &'a mut [u64],
    rule_of: &'a [u32],
    rule_hit: &'a mut [u64],
    hit_rules: &'a mut Vec<u32>,
    arrival: u64,
}

impl Marks<'_> {
    fn mark(&mut self, ids: &[AnchorId]) {
        for &id in ids {
            self.hit[id as usize] = self.arrival;
            let rule = self.rule_of[id as usize];
            let seen = &mut self.rule_hit[rule as usize];
            if *seen != self.arrival {
                *seen = self.arrival;
                self.hit_rules.push(rule);
            }
        }
    }
}

/// A literal every value the pattern matches contains.
fn search_literal(pattern: &Pattern) -> Option<&str> {
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

/// A plan's stages as the engine evaluates them: each stage (a `runs`
/// copy included, though it reuses its original's verdict), then `until`.
fn stages(plan: &Plan) -> impl Iterator<Item = &StagePlan> {
    plan.stages.iter().chain(&plan.until)
}

/// Every positive string test of a filter (outside any `not`).
fn positive_leaves<'a>(filter: &'a Filter, out: &mut Vec<LeafRef<'a>>) {
    match filter {
        Filter::And(all) | Filter::Or(all) => all.iter().for_each(|f| positive_leaves(f, out)),
        Filter::Leaf(
            field,
            Test::Strings {
                patterns,
                insensitive,
            },
        ) => out.push(LeafRef {
            field: *field,
            insensitive: *insensitive,
            patterns,
        }),
        Filter::Const(_) | Filter::Not(_) | Filter::Leaf(..) | Filter::Script(_) => {}
    }
}

/// The cheapest set of string tests the filter cannot pass without, and
/// its cost (how many of the pack's stages share its patterns): a leaf; the
/// cheapest anchor among an `and`'s conjuncts; all of an `or`'s branches'.
fn anchor<'a>(
    filter: &'a Filter,
    uses: &HashMap<(FieldId, bool, &Pattern), u32>,
    generic: &[bool],
) -> Option<(Vec<LeafRef<'a>>, u64)> {
    match filter {
        Filter::Leaf(
            field,
            Test::Strings {
                patterns,
                insensitive,
            },
        ) => {
            // A pattern with nothing to look for passes almost anything.
            if patterns.iter().any(|p| search_literal(p).is_none()) {
                return None;
            }
            let mut cost: u64 = patterns
                .iter()
                .map(|p| u64::from(*uses.get(&(*field, *insensitive, p)).unwrap_or(&1)))
                .sum();
            if generic.get(usize::from(*field)).copied().unwrap_or(false) {
                cost += GENERIC_COST;
            }
            let leaf = LeafRef {
                field: *field,
                insensitive: *insensitive,
                patterns,
            };
            Some((alloc::vec![leaf], cost))
        }
        Filter::And(all) => all
            .iter()
            .filter_map(|f| anchor(f, uses, generic))
            .min_by_key(|(_, cost)| *cost),
        Filter::Or(any) => {
            let mut leaves = Vec::new();
            let mut cost = 0u64;
            for branch in any {
                let (more, c) = anchor(branch, uses, generic)?;
                leaves.extend(more);
                cost += c;
            }
            Some((leaves, cost))
        }
        Filter::Const(_) | Filter::Not(_) | Filter::Leaf(..) | Filter::Script(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::String;

    use crate::pattern::fold;

    #[test]
    fn fold_matches_the_patterns_folding() {
        // The prefilter folds values as `pattern::fold` does, ASCII or not.
        let mut folded = String::new();
        folded.extend("ÀbC".chars().flat_map(char::to_lowercase));
        assert_eq!(folded, fold("ÀbC"));
        let mut ascii = String::from("/usr/Bin/CURL");
        ascii.make_ascii_lowercase();
        assert_eq!(ascii, fold("/usr/Bin/CURL"));
    }
}
