//! Finds field values that make a [`Filter`] true.
//!
//! The filter is walked with `not` pushed to its leaves (exact here: the
//! filters are two-valued, a leaf on a missing field is false). `and` adds
//! every child to the conjunction being built, `or` tries its children in
//! order, depth first, with a bound on the steps. Each leaf added is
//! checked at once against the other leaves on its field: a value that
//! passes every positive test and no negative one, or failing that one
//! value per positive test (a leaf holds when any element of an array
//! passes; `not` of one when none does). Scripts are left to the end and
//! met by generate-and-test. Nothing is trusted to this module's reading
//! of the semantics: a conjunction counts only once the event built from
//! it passes the engine's own decoder and evaluator.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::values::{candidates, defaults, Val};
use crate::decode::{decode, Decoded, FieldTrie};
use crate::eval::{self, test_value, EvalCounts};
use crate::pattern::{GlobPart, Pattern};
use crate::plan::{FieldId, FieldType, Filter, Ordering, Plan, Scalar, Script, Test, ValueKind};
use crate::value::Value;

/// Depth-first steps one search may take before it gives up.
const MAX_STEPS: usize = 20_000;
/// Value combinations tried for the fields a conjunction's scripts read.
const MAX_SCRIPT_TRIES: usize = 4096;

/// The values of one event, by field; a field not in the map is absent.
pub type Values = BTreeMap<FieldId, Vec<Val>>;

/// One condition of a conjunction: a query leaf or a script, and whether it
/// must hold or fail.
#[derive(Debug, Clone, Copy)]
pub enum Lit<'a> {
    Leaf {
        field: FieldId,
        test: &'a Test,
        positive: bool,
    },
    Script {
        script: &'a Script,
        want: bool,
    },
}

impl Lit<'_> {
    /// This literal as a filter (to rebuild a conjunction with one changed).
    pub fn to_filter(self) -> Filter {
        match self {
            Lit::Leaf {
                field,
                test,
                positive,
            } => {
                let leaf = Filter::Leaf(field, test.clone());
                if positive {
                    leaf
                } else {
                    Filter::Not(alloc::boxed::Box::new(leaf))
                }
            }
            Lit::Script { script, want } => {
                let s = if want {
                    script.clone()
                } else {
                    Script {
                        negated: !script.negated,
                        ..script.clone()
                    }
                };
                Filter::Script(alloc::boxed::Box::new(s))
            }
        }
    }

    /// The same literal, flipped.
    pub fn negated(self) -> Filter {
        match self {
            Lit::Leaf {
                field,
                test,
                positive,
            } => Lit::Leaf {
                field,
                test,
                positive: !positive,
            }
            .to_filter(),
            Lit::Script { script, want } => Lit::Script {
                script,
                want: !want,
            }
            .to_filter(),
        }
    }

    pub fn field(self) -> Option<FieldId> {
        match self {
            Lit::Leaf { field, .. } => Some(field),
            Lit::Script { .. } => None,
        }
    }
}

/// The plan, with what it takes to run its filters on a generated event.
pub struct Ctx<'p> {
    pub plan: &'p Plan,
    trie: FieldTrie,
    kinds: Vec<ValueKind>,
}

/// A conjunction that holds, and the values that meet it.
pub struct Solution<'a> {
    pub lits: Vec<Lit<'a>>,
    pub values: Values,
}

impl<'p> Ctx<'p> {
    pub fn new(plan: &'p Plan) -> Ctx<'p> {
        Ctx {
            plan,
            trie: FieldTrie::new(&plan.fields),
            kinds: plan.fields.iter().map(|f| f.kind).collect(),
        }
    }

    fn ty(&self, field: FieldId) -> FieldType {
        self.plan
            .fields
            .get(usize::from(field))
            .map_or(FieldType::Keyword, |f| f.ty)
    }

    pub fn path(&self, field: FieldId) -> &str {
        self.plan
            .fields
            .get(usize::from(field))
            .map_or("?", |f| f.path.as_str())
    }

    /// Does `filter` hold for the JSON `event`, as the engine judges it?
    pub fn matches(&self, filter: &Filter, event: &str) -> bool {
        let mut decoded = Decoded::default();
        if decode(&self.plan.fields, &self.trie, event, &mut decoded).is_err() {
            return false;
        }
        eval::matches(
            filter,
            &decoded,
            event,
            &self.kinds,
            &mut EvalCounts::default(),
        )
    }

    /// The event holding `values`, at `ts_ms`: nested objects from the
    /// dotted paths (a path under another field's value goes in as a
    /// dotted key at the top, which the decoder reads the same way).
    pub fn event(&self, values: &Values, ts_ms: i64) -> String {
        let mut root = serde_json::Map::new();
        let ts = serde_json::Value::String(crate::time::format_rfc3339_ms(ts_ms));
        insert(&mut root, self.path(crate::plan::TIMESTAMP), ts);
        for (&field, vals) in values {
            if field == crate::plan::TIMESTAMP || vals.is_empty() {
                continue;
            }
            let kind = self.kinds.get(usize::from(field)).copied();
            let kind = kind.unwrap_or(ValueKind::Keyword);
            let json = match vals.as_slice() {
                [one] => one.to_json(kind),
                many => serde_json::Value::Array(many.iter().map(|v| v.to_json(kind)).collect()),
            };
            insert(&mut root, self.path(field), json);
        }
        serde_json::to_string(&serde_json::Value::Object(root)).unwrap_or_default()
    }

    /// Values for which `target` holds and `reject` (when given) does not,
    /// or why none were found.
    pub fn solve<'a>(
        &self,
        target: &'a Filter,
        reject: Option<&Filter>,
    ) -> Result<Solution<'a>, String> {
        let mut search = Search {
            ctx: self,
            lits: Vec::new(),
            steps: 0,
            deepest: (0, String::new()),
            target,
            reject,
        };
        let mut pending = alloc::vec![(target, true)];
        match search.go(&mut pending) {
            Some(s) => Ok(s),
            None if search.steps >= MAX_STEPS => Err(format!(
                "no conjunction found within {MAX_STEPS} search steps{}",
                if search.deepest.1.is_empty() {
                    String::new()
                } else {
                    format!(" (deepest: {})", search.deepest.1)
                }
            )),
            None if search.deepest.1.is_empty() => {
                Err("the filter is false for every event".to_string())
            }
            None => Err(search.deepest.1),
        }
    }

    /// Values of `field` meeting every leaf of `lits` on it; `None` when
    /// there are none. An empty list is the field left out.
    fn solve_field(&self, field: FieldId, lits: &[Lit<'_>]) -> Option<Vec<Val>> {
        let (mut pos, mut neg) = (Vec::new(), Vec::new());
        let (mut absent, mut present) = (false, false);
        for lit in lits {
            if let Lit::Leaf {
                field: f,
                test,
                positive,
            } = *lit
            {
                if f != field {
                    continue;
                }
                match (test, positive) {
                    (Test::IsNull, true) => absent = true,
                    (Test::IsNull, false) => present = true,
                    (t, true) => pos.push(t),
                    (t, false) => neg.push(t),
                }
            }
        }
        if absent {
            return (pos.is_empty() && !present).then(Vec::new);
        }
        if pos.is_empty() && !present {
            return Some(Vec::new());
        }
        let ty = self.ty(field);
        let clean = |v: &Val| neg.iter().all(|t| !test_value(t, v.as_ref()));
        let passes = |t: &Test, v: &Val| test_value(t, v.as_ref());
        if pos.is_empty() {
            return defaults(ty, self.path(field))
                .into_iter()
                .find(|v| clean(v))
                .map(|v| alloc::vec![v]);
        }
        // One value for all positive tests, the cleaner event.
        for t in &pos {
            for v in candidates(t, ty) {
                if clean(&v) && pos.iter().all(|t| passes(t, &v)) {
                    return Some(alloc::vec![v]);
                }
            }
        }
        // Else an array: one value per positive test.
        let mut out: Vec<Val> = Vec::new();
        for t in &pos {
            if out.iter().any(|v| passes(t, v)) {
                continue;
            }
            let v = candidates(t, ty)
                .into_iter()
                .find(|v| clean(v) && passes(t, v))?;
            out.push(v);
        }
        Some(out)
    }

    /// Does `vals` (possibly empty: absent) meet every leaf of `lits` on `field`?
    fn field_ok(&self, field: FieldId, vals: &[Val], lits: &[Lit<'_>]) -> bool {
        lits.iter().all(|lit| match *lit {
            Lit::Leaf {
                field: f,
                test,
                positive,
            } if f == field => {
                let holds = match test {
                    Test::IsNull => vals.is_empty(),
                    t => vals.iter().any(|v| test_value(t, v.as_ref())),
                };
                holds == positive
            }
            _ => true,
        })
    }
}

/// Puts `value` at the dotted `path` in nested objects; where an object is
/// in the way, as a dotted key at the top.
fn insert(
    root: &mut serde_json::Map<String, serde_json::Value>,
    path: &str,
    value: serde_json::Value,
) {
    fn nested(
        map: &mut serde_json::Map<String, serde_json::Value>,
        path: &str,
        value: serde_json::Value,
    ) -> Result<(), serde_json::Value> {
        match path.split_once('.') {
            None => {
                if map.contains_key(path) {
                    return Err(value);
                }
                map.insert(path.to_string(), value);
                Ok(())
            }
            Some((head, rest)) => {
                let child = map
                    .entry(head.to_string())
                    .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
                match child {
                    serde_json::Value::Object(m) => nested(m, rest, value),
                    _ => Err(value),
                }
            }
        }
    }
    if let Err(value) = nested(root, path, value) {
        root.insert(path.to_string(), value);
    }
}

struct Search<'s, 'a, 'p> {
    ctx: &'s Ctx<'p>,
    lits: Vec<Lit<'a>>,
    steps: usize,
    /// The failure seen with the most literals in place: the likeliest
    /// reason, when no conjunction holds.
    deepest: (usize, String),
    target: &'a Filter,
    reject: Option<&'s Filter>,
}

impl<'a> Search<'_, 'a, '_> {
    fn fail(&mut self, why: String) {
        if self.lits.len() >= self.deepest.0 {
            self.deepest = (self.lits.len(), why);
        }
    }

    fn go(&mut self, pending: &mut Vec<(&'a Filter, bool)>) -> Option<Solution<'a>> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return None;
        }
        let Some((filter, pol)) = pending.pop() else {
            return self.finish();
        };
        let found = match filter {
            Filter::Const(b) => {
                if *b == pol {
                    self.go(pending)
                } else {
                    None
                }
            }
            Filter::And(all) | Filter::Or(all) if matches!(filter, Filter::And(_)) == pol => {
                let depth = pending.len();
                pending.extend(all.iter().rev().map(|f| (f, pol)));
                let found = self.go(pending);
                pending.truncate(depth);
                found
            }
            Filter::And(any) | Filter::Or(any) => {
                let mut found = None;
                for f in any {
                    pending.push((f, pol));
                    found = self.go(pending);
                    pending.pop();
                    if found.is_some() || self.steps > MAX_STEPS {
                        break;
                    }
                }
                found
            }
            Filter::Not(inner) => {
                pending.push((inner, !pol));
                let found = self.go(pending);
                pending.pop();
                found
            }
            Filter::Leaf(field, test) => {
                self.lits.push(Lit::Leaf {
                    field: *field,
                    test,
                    positive: pol,
                });
                let found = if self.ctx.solve_field(*field, &self.lits).is_some() {
                    self.go(pending)
                } else {
                    let why = self.describe_field(*field);
                    self.fail(why);
                    None
                };
                self.lits.pop();
                found
            }
            Filter::Script(script) => {
                self.lits.push(Lit::Script { script, want: pol });
                let found = self.go(pending);
                self.lits.pop();
                found
            }
        };
        pending.push((filter, pol));
        found
    }

    /// Every literal is in place: values for each field, then the scripts
    /// by trying values, then the engine's own verdict on the event.
    fn finish(&mut self) -> Option<Solution<'a>> {
        let mut values = Values::new();
        let fields: Vec<FieldId> = self.lits.iter().filter_map(|l| l.field()).collect();
        for f in fields {
            if values.contains_key(&f) {
                continue;
            }
            let vals = self.ctx.solve_field(f, &self.lits)?;
            if !vals.is_empty() {
                values.insert(f, vals);
            }
        }
        let scripts: Vec<&Script> = self
            .lits
            .iter()
            .filter_map(|l| match l {
                Lit::Script { script, .. } => Some(*script),
                Lit::Leaf { .. } => None,
            })
            .collect();
        if scripts.is_empty() {
            if self.accepts(&values) {
                return Some(self.solution(values));
            }
            let why = "the event built from this conjunction does not pass the engine's filter"
                .to_string();
            self.fail(why);
            return None;
        }
        // The fields the scripts read, each with a few alternatives.
        let mut slot_fields: Vec<FieldId> = scripts
            .iter()
            .flat_map(|s| s.slots.iter().copied())
            .collect();
        slot_fields.sort_unstable();
        slot_fields.dedup();
        let mut constants = Vec::new();
        for s in &scripts {
            script_constants(&s.expr, &mut constants);
        }
        let alternatives: Vec<Vec<Option<Vec<Val>>>> = slot_fields
            .iter()
            .map(|&f| self.alternatives(f, &values, &slot_fields, &constants))
            .collect();
        let lens: Vec<usize> = alternatives.iter().map(Vec::len).collect();
        let mut found = None;
        by_distance(&lens, MAX_SCRIPT_TRIES, |cursor| {
            let mut trial = values.clone();
            for (i, &f) in slot_fields.iter().enumerate() {
                match &alternatives[i][cursor[i]] {
                    Some(vals) => trial.insert(f, vals.clone()),
                    None => trial.remove(&f),
                };
            }
            if self.accepts(&trial) {
                found = Some(trial);
                return true;
            }
            false
        });
        if let Some(values) = found {
            return Some(self.solution(values));
        }
        let why = format!(
            "no values tried for {} make the script(s) hold",
            slot_fields
                .iter()
                .map(|&f| format!("`{}`", self.ctx.path(f)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.fail(why);
        None
    }

    fn solution(&self, values: Values) -> Solution<'a> {
        Solution {
            lits: self.lits.clone(),
            values,
        }
    }

    /// The engine's verdict: the target holds on the event, the reject
    /// filter does not.
    fn accepts(&self, values: &Values) -> bool {
        let event = self.ctx.event(values, 0);
        self.ctx.matches(self.target, &event)
            && !self.reject.is_some_and(|r| self.ctx.matches(r, &event))
    }

    /// What a script's field could hold: what the leaves chose, the
    /// script's constants, the other script fields' values, longer
    /// variants (for `length`), and nothing; each kept only when it still
    /// meets the leaves on the field.
    fn alternatives(
        &self,
        field: FieldId,
        values: &Values,
        slot_fields: &[FieldId],
        constants: &[Val],
    ) -> Vec<Option<Vec<Val>>> {
        let ty = self.ctx.ty(field);
        let mut singles: Vec<Val> = Vec::new();
        let mut out: Vec<Option<Vec<Val>>> = Vec::new();
        if let Some(current) = values.get(&field) {
            out.push(Some(current.clone()));
            for v in current {
                if let Val::Str(s) = v {
                    let pad = "a".repeat(64);
                    singles.push(Val::Str(format!("{s}{pad}")));
                    singles.push(Val::Str(format!("{pad}{s}")));
                    singles.push(Val::Str(format!("{s} {pad}")));
                }
            }
        }
        for c in constants {
            singles.extend(as_type(c, ty));
            // A string as long as a number in the script (`length(x) > n`).
            if let (Val::Num(n), FieldType::Keyword) = (c, ty) {
                if (1.0..=1024.0).contains(n) {
                    singles.push(Val::Str("a".repeat(*n as usize)));
                }
            }
        }
        for &other in slot_fields {
            if let (true, Some(vals)) = (other != field, values.get(&other)) {
                for v in vals {
                    singles.extend(as_type(v, ty));
                    if let Val::Str(s) = v {
                        // The other field's value inside a longer one.
                        singles.push(Val::Str(format!("x/{s}")));
                        singles.push(Val::Str(format!("{s}/x")));
                        // A prefix or suffix of the other field's value.
                        for cut in [1, s.len() / 2] {
                            if let (Some(head), Some(tail)) = (s.get(..cut), s.get(s.len() - cut..))
                            {
                                singles.push(Val::Str(head.to_string()));
                                singles.push(Val::Str(tail.to_string()));
                            }
                        }
                    }
                }
            }
        }
        singles.extend(defaults(ty, self.ctx.path(field)));
        for lit in &self.lits {
            if let Lit::Leaf {
                field: f,
                test,
                positive: true,
            } = *lit
            {
                if f == field {
                    singles.extend(candidates(test, ty));
                }
            }
        }
        for v in singles {
            let alt = Some(alloc::vec![v]);
            if !out.contains(&alt) {
                out.push(alt);
            }
        }
        out.push(None);
        out.retain(|alt| {
            self.ctx
                .field_ok(field, alt.as_deref().unwrap_or(&[]), &self.lits)
        });
        out.truncate(48);
        if out.is_empty() {
            out.push(None);
        }
        out
    }

    /// Why no value of `field` meets its leaves, for an error.
    fn describe_field(&self, field: FieldId) -> String {
        let tests: Vec<String> = self
            .lits
            .iter()
            .filter_map(|l| match *l {
                Lit::Leaf {
                    field: f,
                    test,
                    positive,
                } if f == field => Some(describe(test, positive)),
                _ => None,
            })
            .collect();
        format!(
            "no value of `{}` meets all of: {}",
            self.ctx.path(field),
            tests.join("; ")
        )
    }
}

/// Visits index vectors (`cursor[i] < lens[i]`) in order of their sum, so
/// that combinations changing few fields from their first alternative come
/// first, until `visit` says stop or `budget` vectors were visited.
fn by_distance(lens: &[usize], budget: usize, mut visit: impl FnMut(&[usize]) -> bool) {
    fn fill(
        lens: &[usize],
        at: usize,
        left: usize,
        cursor: &mut Vec<usize>,
        budget: &mut usize,
        visit: &mut dyn FnMut(&[usize]) -> bool,
    ) -> bool {
        if at == lens.len() {
            if left > 0 || *budget == 0 {
                return *budget == 0;
            }
            *budget -= 1;
            return visit(cursor);
        }
        for c in 0..lens[at].min(left + 1) {
            cursor[at] = c;
            if fill(lens, at + 1, left - c, cursor, budget, visit) {
                return true;
            }
        }
        false
    }
    let mut cursor = alloc::vec![0usize; lens.len()];
    let mut budget = budget;
    let max: usize = lens.iter().map(|l| l.saturating_sub(1)).sum();
    for sum in 0..=max {
        if fill(lens, 0, sum, &mut cursor, &mut budget, &mut visit) {
            return;
        }
    }
}

/// A script's constants, and their neighbours for ordered comparisons.
fn script_constants(expr: &Scalar, out: &mut Vec<Val>) {
    match expr {
        Scalar::Const(v) => match v {
            Value::Str(s) => out.push(Val::Str(s.to_string())),
            Value::Long(n) => {
                let n = *n as f64;
                out.extend([n, n + 1.0, n - 1.0].map(Val::Num));
            }
            Value::Double(n) => out.extend([*n, n + 1.0, n - 1.0].map(Val::Num)),
            Value::Ip(ip) => out.push(Val::Ip(*ip)),
            Value::Bool(b) => out.push(Val::Str(b.to_string())),
            Value::Null => {}
        },
        Scalar::Slot(_) => {}
        Scalar::Call(_, args) => args.iter().for_each(|a| script_constants(a, out)),
    }
}

/// `v` as a value of a field of type `ty` (numbers as keyword text, text
/// that parses as a number or address as one).
fn as_type(v: &Val, ty: FieldType) -> Option<Val> {
    match (v, ty) {
        (Val::Str(_), FieldType::Keyword)
        | (Val::Ip(_), FieldType::Ip)
        | (Val::Num(_), FieldType::Number) => Some(v.clone()),
        (Val::Num(n), FieldType::Keyword) => Some(Val::Str(if (*n as i64) as f64 == *n {
            format!("{}", *n as i64)
        } else {
            format!("{n}")
        })),
        (Val::Ip(ip), FieldType::Keyword) => Some(Val::Str(ip.to_string())),
        (Val::Str(s), FieldType::Number) => s.parse().ok().map(Val::Num),
        (Val::Str(s), FieldType::Ip) => crate::ip::parse_ip(s).map(Val::Ip),
        _ => None,
    }
}

/// A test as EQL-ish text, for error messages.
pub fn describe(test: &Test, positive: bool) -> String {
    let not = if positive { "" } else { "not " };
    let list = |items: Vec<String>| {
        let more = items.len().saturating_sub(3);
        let mut shown: Vec<String> = items.into_iter().take(3).collect();
        if more > 0 {
            shown.push(format!("... {more} more"));
        }
        shown.join(", ")
    };
    match test {
        Test::IsNull => format!("{not}== null"),
        Test::Strings {
            patterns,
            insensitive,
        } => format!(
            "{not}{} ({})",
            if *insensitive { "like~" } else { "like" },
            list(patterns.iter().map(pattern_text).collect())
        ),
        Test::Ip(nets) => format!(
            "{not}cidrmatch ({})",
            list(nets.iter().map(ToString::to_string).collect())
        ),
        Test::Number { op, value } => format!("{not}{} {value}", op_text(*op)),
        Test::StringOrder { op, value } | Test::VersionOrder { op, value, .. } => {
            format!("{not}{} {value:?}", op_text(*op))
        }
        Test::Regex(res) => format!(
            "{not}regex ({})",
            list(res.iter().map(|r| format!("{:?}", r.as_str())).collect())
        ),
    }
}

fn op_text(op: Ordering) -> &'static str {
    match op {
        Ordering::Lt => "<",
        Ordering::LtEq => "<=",
        Ordering::Gt => ">",
        Ordering::GtEq => ">=",
        Ordering::Eq => "==",
    }
}

fn pattern_text(p: &Pattern) -> String {
    match p {
        Pattern::Exact(s) => format!("{s:?}"),
        Pattern::Prefix(s) => format!("\"{s}*\""),
        Pattern::Suffix(s) => format!("\"*{s}\""),
        Pattern::Contains(s) => format!("\"*{s}*\""),
        Pattern::Glob(parts) => {
            let mut out = String::from("\"");
            for part in parts {
                match part {
                    GlobPart::Literal(l) => out.push_str(l),
                    GlobPart::AnyRun => out.push('*'),
                    GlobPart::AnyChar => out.push('?'),
                }
            }
            out.push('"');
            out
        }
    }
}
