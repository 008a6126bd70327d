//! Literal tests shared by a pack's rules, run once per event for all of
//! them. Each stage of each rule gets an *anchor*: string tests, or number
//! equalities, that its filter cannot pass without (a conjunct of its
//! top-level `and`, or all the branches of an `or` of such tests), chosen
//! as the rarest in the pack, so that `host.os.type == "linux"` (every
//! Linux rule) is passed over for `process.name in ("nc", "ncat")`. Per
//! event, the anchors of every rule are tried together: per field, exact
//! values and numbers through hash maps, the other patterns through one
//! Aho-Corasick automaton over their literals, each hit confirmed by the
//! pattern itself (`field_index`). A stage whose anchor missed is false
//! without evaluating its filter; one whose anchor hit is evaluated in
//! full, so results never change.

mod field_index;

use alloc::string::String;
use alloc::vec::Vec;
use hashbrown::HashMap;

use crate::decode::Decoded;
use crate::pattern::Pattern;
use crate::plan::{FieldId, FieldSpec, Filter, Ordering, Plan, StagePlan, Test, ValueRef};

use super::run::judged_only_while_awaited;

use field_index::{number_key, search_literal, FieldIndex, Scratch};

/// ECS fields with a handful of values that most events of a kind share
/// (`event.type: "start"` is every process start, `network.direction:
/// "egress"` most connections, `user.id: "0"` most processes of a Linux
/// host): the number of rules that test a value says nothing of how many
/// events have it, so a test on one of these is an anchor only when a stage
/// has no other.
const GENERIC_FIELDS: [&str; 22] = [
    "event.type",
    "event.action",
    "event.category",
    "event.outcome",
    "event.kind",
    "event.module",
    "event.dataset",
    "data_stream.dataset",
    "data_stream.type",
    "data_stream.namespace",
    "host.os.type",
    "host.os.name",
    "agent.type",
    "network.direction",
    "network.transport",
    "network.type",
    "user.id",
    "user.name",
    "group.id",
    "process.interactive",
    "process.args_count",
    "process.parent.args_count",
];

/// A literal this long or longer is taken as rare; shorter ones cost more
/// (`process.args : "*l*"` passes most command lines).
const RARE_LITERAL: usize = 8;

/// What choosing a test on a [`GENERIC_FIELDS`] field costs on top of its uses.
const GENERIC_COST: u64 = 1 << 32;

/// An anchor's id: its slot in [`Prefilter::hit`].
pub(crate) type AnchorId = u32;

/// One positive test of some stage an anchor can be made of.
#[derive(Clone, Copy)]
struct LeafRef<'a> {
    field: FieldId,
    test: AnchorTest<'a>,
}

#[derive(Clone, Copy)]
enum AnchorTest<'a> {
    /// Any of the patterns, on the value folded when `insensitive`.
    Strings {
        insensitive: bool,
        patterns: &'a [Pattern],
    },
    /// Equal to the number.
    Number(f64),
}

/// What the pack's stages test, to count how many share each test.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Tested<'a> {
    Pattern(FieldId, bool, &'a Pattern),
    /// A number by [`number_key`].
    Number(FieldId, u64),
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
    /// Per anchor, its stage is judged only while a sequence of the rule
    /// waits for it ([`judged_only_while_awaited`]): its hit picks the rule
    /// only if the rule holds state.
    while_awaited: Vec<bool>,
    /// Rules every stage of which has an anchor: only an anchor hit makes
    /// the event their business.
    pub(crate) anchored: Vec<bool>,
    /// Per rule, the arrival number of the last event that hit one of its
    /// anchors, and those rules for the event now.
    rule_hit: Vec<u64>,
    pub(crate) hit_rules: Vec<u32>,
    /// Buffers for folding values (reused).
    scratch: Scratch,
}

struct CategoryGroup {
    category: Option<(FieldId, String)>,
    fields: Vec<FieldIndex>,
}

/// Per rule, per stage (then `until`), the stage's anchor if it has one.
pub(crate) type RuleAnchors = Vec<Option<AnchorId>>;

impl Prefilter {
    /// Chooses the anchors of `plans` (each rule's stages, then its
    /// `until`) and indexes them.
    pub(crate) fn new(plans: &[&Plan], fields: &[FieldSpec]) -> (Prefilter, Vec<RuleAnchors>) {
        // How many stages of the pack test each (field, case, pattern):
        // the fewer, the better an anchor it makes.
        let mut uses: HashMap<Tested<'_>, u32> = HashMap::new();
        let generic: Vec<bool> = fields
            .iter()
            .map(|f| GENERIC_FIELDS.contains(&f.path.as_str()))
            .collect();
        for plan in plans {
            for stage in stages(plan) {
                let mut leaves = Vec::new();
                positive_leaves(&stage.filter, &mut leaves);
                for leaf in leaves {
                    leaf.tested(|t| *uses.entry(t).or_default() += 1);
                }
            }
        }
        let mut prefilter = Prefilter {
            groups: Vec::new(),
            hit: Vec::new(),
            rule_of: Vec::new(),
            while_awaited: Vec::new(),
            anchored: Vec::with_capacity(plans.len()),
            rule_hit: alloc::vec![u64::MAX; plans.len()],
            hit_rules: Vec::new(),
            scratch: Scratch::default(),
        };
        let mut anchors = Vec::with_capacity(plans.len());
        for (r, plan) in plans.iter().enumerate() {
            let mut rule = Vec::new();
            for (i, stage) in stages(plan).enumerate() {
                let chosen = anchor(&stage.filter, &uses, &generic).map(|(leaves, _)| {
                    let id = prefilter.hit.len() as AnchorId;
                    prefilter.hit.push(u64::MAX);
                    prefilter.rule_of.push(r as u32);
                    prefilter
                        .while_awaited
                        .push(judged_only_while_awaited(plan, i));
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
        let at = match fields.iter().position(|f| f.field == leaf.field) {
            Some(at) => at,
            None => {
                fields.push(FieldIndex::new(leaf.field));
                fields.len() - 1
            }
        };
        match leaf.test {
            AnchorTest::Strings {
                insensitive,
                patterns,
            } => fields[at].add_strings(patterns, insensitive, id),
            AnchorTest::Number(value) => fields[at].add_number(value, id),
        }
    }

    /// Runs every anchor on the event, marking the ones it passes and
    /// listing their rules in `hit_rules`.
    /// `active`: when events meet the state in their order, which rules
    /// hold state (a rule that holds none is not picked for a hit on a
    /// stage only a waiting sequence makes worth judging).
    pub(crate) fn run(
        &mut self,
        decoded: &Decoded,
        text: &str,
        arrival: u64,
        active: Option<&[bool]>,
    ) {
        self.hit_rules.clear();
        let mut marks = Marks {
            hit: &mut self.hit,
            rule_of: &self.rule_of,
            while_awaited: &self.while_awaited,
            active,
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
                    index.run(value, &mut self.scratch, &mut marks);
                }
            }
        }
    }

    /// Did the event of `arrival` pass anchor `id`?
    pub(crate) fn passed(&self, id: AnchorId, arrival: u64) -> bool {
        self.hit[id as usize] == arrival
    }
}

/// Where an event's anchor hits are recorded.
pub(super) struct Marks<'a> {
    hit: &'a mut [u64],
    rule_of: &'a [u32],
    while_awaited: &'a [bool],
    active: Option<&'a [bool]>,
    rule_hit: &'a mut [u64],
    hit_rules: &'a mut Vec<u32>,
    arrival: u64,
}

impl Marks<'_> {
    fn mark(&mut self, ids: &[AnchorId]) {
        for &id in ids {
            self.hit[id as usize] = self.arrival;
            let rule = self.rule_of[id as usize];
            if self.while_awaited[id as usize]
                && self
                    .active
                    .is_some_and(|active| !active.get(rule as usize).copied().unwrap_or(true))
            {
                continue;
            }
            let seen = &mut self.rule_hit[rule as usize];
            if *seen != self.arrival {
                *seen = self.arrival;
                self.hit_rules.push(rule);
            }
        }
    }
}

/// A plan's stages as the engine evaluates them: each stage (a `runs`
/// copy included, though it reuses its original's verdict), then `until`.
fn stages(plan: &Plan) -> impl Iterator<Item = &StagePlan> {
    plan.stages.iter().chain(&plan.until)
}

impl<'a> LeafRef<'a> {
    /// The leaf, if it is a test an anchor can be made of.
    fn of(filter: &'a Filter) -> Option<LeafRef<'a>> {
        let Filter::Leaf(field, test) = filter else {
            return None;
        };
        let test = match test {
            Test::Strings {
                patterns,
                insensitive,
            } => AnchorTest::Strings {
                insensitive: *insensitive,
                patterns,
            },
            Test::Number {
                op: Ordering::Eq,
                value,
            } => AnchorTest::Number(*value),
            _ => return None,
        };
        Some(LeafRef {
            field: *field,
            test,
        })
    }

    /// Each test the leaf makes, as counted in `uses`.
    fn tested(&self, mut each: impl FnMut(Tested<'a>)) {
        match self.test {
            AnchorTest::Strings {
                insensitive,
                patterns,
            } => patterns
                .iter()
                .for_each(|p| each(Tested::Pattern(self.field, insensitive, p))),
            AnchorTest::Number(n) => {
                if let Some(key) = number_key(n) {
                    each(Tested::Number(self.field, key));
                }
            }
        }
    }
}

/// How much a test passing costs per stage that shares it, by how common
/// the values it passes are likely to be: a short literal is found in
/// more values than a long one; a number tested for equality counts as a
/// long literal.
fn rarity_cost(tested: &Tested<'_>) -> u64 {
    let len = match tested {
        Tested::Pattern(_, _, p) => search_literal(p).map_or(0, str::len),
        Tested::Number(..) => RARE_LITERAL,
    };
    (RARE_LITERAL * RARE_LITERAL / len.clamp(1, RARE_LITERAL)) as u64
}

/// Every positive test of a filter (outside any `not`) an anchor can be
/// made of.
fn positive_leaves<'a>(filter: &'a Filter, out: &mut Vec<LeafRef<'a>>) {
    match filter {
        Filter::And(all) | Filter::Or(all) => all.iter().for_each(|f| positive_leaves(f, out)),
        other => out.extend(LeafRef::of(other)),
    }
}

/// The cheapest set of tests the filter cannot pass without, and its cost
/// (how many of the pack's stages share its tests): a leaf; the cheapest
/// anchor among an `and`'s conjuncts; all of an `or`'s branches'.
fn anchor<'a>(
    filter: &'a Filter,
    uses: &HashMap<Tested<'_>, u32>,
    generic: &[bool],
) -> Option<(Vec<LeafRef<'a>>, u64)> {
    match filter {
        Filter::Leaf(..) => {
            let leaf = LeafRef::of(filter)?;
            let mut cost = 0u64;
            match leaf.test {
                AnchorTest::Strings { patterns, .. } => {
                    // A pattern with nothing to look for passes almost anything.
                    if patterns.iter().any(|p| search_literal(p).is_none()) {
                        return None;
                    }
                }
                // NaN equals nothing; not worth an anchor of its own.
                AnchorTest::Number(n) => {
                    number_key(n)?;
                }
            }
            leaf.tested(|t| cost += u64::from(*uses.get(&t).unwrap_or(&1)) * rarity_cost(&t));
            if generic
                .get(usize::from(leaf.field))
                .copied()
                .unwrap_or(false)
            {
                cost += GENERIC_COST;
            }
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
        Filter::Const(_) | Filter::Not(_) | Filter::Script(_) => None,
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
