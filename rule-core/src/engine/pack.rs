//! Building an engine: each rule compiled on its own (its field table, its
//! types), then the tables merged into one that the decoder walks once per
//! event, each rule's plan renumbered into it, and the dispatcher told
//! which categories and indices each rule can concern.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use hashbrown::HashMap;

use crate::compile::compile;
use crate::decode::{Decoded, FieldTrie};
use crate::error::RuleError;
use crate::plan::{FieldId, FieldSpec, FieldType, Plan, ValueKind};
use crate::rule::Rule;
use crate::stats::{RefusedRuleStats, Stats};
use crate::syntax::parse;

use super::dispatch::{Dispatch, RuleKeys, INDEX_FIELDS};
use super::prefilter::Prefilter;
use super::{Engine, Limits, RuleRun};

/// A rule of a pack that could not run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedRule {
    /// Its place in the pack as given.
    pub index: usize,
    pub id: String,
    pub name: String,
    pub error: RuleError,
}

impl RefusedRule {
    pub(crate) fn stats(&self) -> RefusedRuleStats {
        RefusedRuleStats {
            id: self.id.clone(),
            name: self.name.clone(),
            error: self.error.to_string(),
        }
    }
}

/// Fields a pack can hold: field ids are 16 bits.
const MAX_FIELDS: usize = FieldId::MAX as usize;

/// The merged field table: one id per (path, type).
struct FieldUnion {
    fields: Vec<FieldSpec>,
    ids: HashMap<String, FieldId>,
}

impl FieldUnion {
    fn new() -> FieldUnion {
        FieldUnion {
            fields: Vec::new(),
            ids: HashMap::new(),
        }
    }

    /// The shared ids of `plan`'s fields, registering new ones; an error
    /// (and the table as it was) when a path already has another type or
    /// the table is full.
    fn merge(&mut self, plan: &Plan) -> Result<Vec<FieldId>, RuleError> {
        let before = self.fields.len();
        let mut map = Vec::with_capacity(plan.fields.len());
        for spec in &plan.fields {
            match self.field(spec) {
                Ok(id) => map.push(id),
                Err(error) => {
                    for spec in self.fields.drain(before..) {
                        self.ids.remove(&spec.path);
                    }
                    return Err(error);
                }
            }
        }
        Ok(map)
    }

    fn field(&mut self, spec: &FieldSpec) -> Result<FieldId, RuleError> {
        if let Some(&id) = self.ids.get(&spec.path) {
            let other = self.fields[usize::from(id)].ty;
            if other == spec.ty
                && self.fields[usize::from(id)].ignore_malformed != spec.ignore_malformed
            {
                return Err(RuleError::metadata(format!(
                    "`{}` ignores malformed values for one rule of the pack and not for another",
                    spec.path
                )));
            }
            if other == spec.ty {
                return Ok(id);
            }
            return Err(RuleError::metadata(format!(
                "`{}` is {} here, but {} for another rule of the pack; \
                 a pack reads each field one way",
                spec.path,
                spec.ty.name(),
                other.name()
            )));
        }
        if self.fields.len() >= MAX_FIELDS {
            return Err(RuleError::metadata("the pack reads too many fields"));
        }
        let id = self.fields.len() as FieldId;
        self.fields.push(spec.clone());
        self.ids.insert(spec.path.clone(), id);
        Ok(id)
    }
}

impl Engine {
    /// Compiles `rule`; an EQL error names its line and column.
    pub fn new(rule: Rule, limits: Limits) -> Result<Engine, RuleError> {
        let plan = compile_rule(&rule)?;
        let mut union = FieldUnion::new();
        let map = union.merge(&plan)?;
        Ok(Engine::assemble(
            union,
            alloc::vec![(rule, plan, map)],
            limits,
            None,
        ))
    }

    /// A pack: every rule that compiles runs in one engine, sharing the
    /// decoding of each event; the others are returned (and listed in
    /// [`Engine::stats`]) with their reasons. Rules must agree on how a
    /// field is read (one type per path) and on the timestamp field.
    ///
    /// ```
    /// use rule_core::{Engine, Limits, Rule};
    ///
    /// let rules = vec![
    ///     Rule::from_eql(r#"process where process.name == "sh""#, None),
    ///     Rule::from_eql("network where destination.port == 4444", None),
    ///     Rule::from_eql("process where", None), // refused: no condition
    /// ];
    /// let (mut engine, refused) = Engine::with_rules(rules, Limits::default());
    /// assert_eq!(engine.rules().count(), 2);
    /// assert_eq!(refused[0].index, 2);
    /// let event = br#"{"@timestamp":"2026-01-01T00:00:00Z","event":{"category":"process"},"process":{"name":"sh"}}"#;
    /// assert_eq!(engine.push(event), Ok(1));
    /// ```
    pub fn with_rules(rules: Vec<Rule>, limits: Limits) -> (Engine, Vec<RefusedRule>) {
        Engine::with_pack(rules.into_iter().map(Ok).collect(), limits)
    }

    /// As [`Engine::with_rules`], with entries the caller could not even
    /// read as rules (a TOML file in error) kept in their places, so that
    /// every refusal of a pack is reported the same way.
    pub fn with_pack(
        entries: Vec<Result<Rule, RefusedRule>>,
        limits: Limits,
    ) -> (Engine, Vec<RefusedRule>) {
        let mut compiled = Vec::with_capacity(entries.len());
        let mut refused = Vec::new();
        for (index, entry) in entries.into_iter().enumerate() {
            let rule = match entry {
                Ok(rule) => rule,
                Err(unread) => {
                    refused.push(RefusedRule { index, ..unread });
                    continue;
                }
            };
            match compile_rule(&rule) {
                Ok(plan) => compiled.push((index, rule, plan)),
                Err(error) => refused.push(RefusedRule {
                    index,
                    id: rule.meta.id.clone(),
                    name: rule.meta.name.clone(),
                    error,
                }),
            }
        }
        // One timestamp: the first rule's (Elastic's rules all read `@timestamp`).
        let timestamp = compiled.first().map(|(_, _, p)| p.fields[0].path.clone());
        let mut union = FieldUnion::new();
        let mut kept = Vec::with_capacity(compiled.len());
        for (index, rule, plan) in compiled {
            let reject = |error: RuleError| RefusedRule {
                index,
                id: rule.meta.id.clone(),
                name: rule.meta.name.clone(),
                error,
            };
            if Some(&plan.fields[0].path) != timestamp.as_ref() {
                refused.push(reject(RuleError::metadata(format!(
                    "the pack reads its time from `{}`; this rule from `{}`",
                    timestamp.as_deref().unwrap_or(""),
                    plan.fields[0].path
                ))));
                continue;
            }
            match union.merge(&plan) {
                Ok(map) => kept.push((rule, plan, map)),
                Err(error) => refused.push(reject(error)),
            }
        }
        refused.sort_by_key(|r| r.index);
        let engine = Engine::assemble(union, kept, limits, Some(refused.clone()));
        (engine, refused)
    }

    /// One engine over compiled rules, their fields merged in `union`
    /// (`map`: each rule's field ids there).
    fn assemble(
        mut union: FieldUnion,
        compiled: Vec<(Rule, Plan, Vec<FieldId>)>,
        limits: Limits,
        pack: Option<Vec<RefusedRule>>,
    ) -> Engine {
        // Index patterns need the index's name from the event.
        let index_fields = if compiled.iter().any(|(rule, _, _)| !rule.index.is_empty()) {
            let mut ids = [0; 3];
            let mut known = true;
            for (id, path) in ids.iter_mut().zip(INDEX_FIELDS) {
                let spec = FieldSpec {
                    path: path.to_string(),
                    ty: FieldType::Keyword,
                    kind: ValueKind::Keyword,
                    ignore_malformed: false,
                };
                match union.field(&spec) {
                    Ok(field) => *id = field,
                    // A rule reads it otherwise: its index stays unknown.
                    Err(_) => known = false,
                }
            }
            known.then_some(ids)
        } else {
            None
        };
        let table = union.fields;
        let mut rules = Vec::with_capacity(compiled.len());
        let mut keys = Vec::with_capacity(compiled.len());
        for (rule, mut plan, map) in compiled {
            let mut kinds = alloc::vec![ValueKind::Keyword; table.len()];
            for (spec, &id) in plan.fields.iter().zip(&map) {
                kinds[usize::from(id)] = spec.kind;
            }
            plan.remap_fields(&map, Vec::new());
            keys.push(RuleKeys {
                categories: plan
                    .stages
                    .iter()
                    .chain(&plan.until)
                    .map(|s| s.category.clone())
                    .collect(),
                index: rule.index.clone(),
                anchored: false,
            });
            rules.push(RuleRun::new(rule, plan, kinds, limits.hash_seed));
        }
        // Shared literal tests pay off from two rules on.
        let prefilter = (rules.len() > 1).then(|| {
            let plans: Vec<&Plan> = rules.iter().map(|r| &r.plan).collect();
            let (prefilter, anchors) = Prefilter::new(&plans, &table);
            for (rule, anchors) in rules.iter_mut().zip(anchors) {
                rule.anchors = anchors;
            }
            prefilter
        });
        if let Some(prefilter) = &prefilter {
            for (keys, &anchored) in keys.iter_mut().zip(&prefilter.anchored) {
                keys.anchored = anchored;
            }
        }
        let dispatch = Dispatch::new(&keys, index_fields);
        let trie = FieldTrie::new(&table);
        let count = rules.len();
        Engine {
            limits,
            fields: table,
            trie,
            decoded: Decoded::default(),
            rules,
            dispatch,
            prefilter,
            picked: Vec::new(),
            active: Vec::new(),
            is_active: alloc::vec![false; count],
            alerts: Vec::new(),
            watermark: None,
            arrivals: 0,
            stats: Stats::default(),
            pack,
        }
    }
}

/// A rule's text to its plan.
fn compile_rule(rule: &Rule) -> Result<Plan, RuleError> {
    let query = parse(&rule.query)?;
    compile(&query, &rule.params)
}
