//! Evidence that a rule fires: from its compiled plan, a stream of events
//! that satisfies it and near misses that must not.
//!
//! Each stage's filter is solved for field values ([`solve`]: `and` takes
//! every child, `or` the first child that can hold, `not` a value failing
//! the test or the field left out, scripts by generate-and-test), with
//! candidate values built from the tests themselves ([`values`]: strings a
//! pattern or Lucene regular expression matches, addresses inside a
//! network, numbers past a bound). Around the stages: the join keys get one
//! value per position shared by every stage, events are spaced inside
//! `maxspan`, `runs=N` gives N events, a missing-event stage `![...]` and
//! `until` get no event, a sample one event per stage.
//!
//! Nothing here is taken on trust: every event is checked by the engine's
//! own decoder and filters while it is built, and the whole stream by a
//! fresh [`Engine`]: the positive stream must raise an alert after
//! [`Engine::flush`], each near miss none. What cannot be built, or what
//! the engine does not confirm, is an [`ExampleError`] naming the stage and
//! the test.

mod solve;
mod values;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use solve::{describe, Ctx, Lit, Solution, Values};
use values::{convert, equals, synthetic_key, Val};

use crate::compile::compile;
use crate::engine::{Engine, Limits};
use crate::plan::{FieldId, Filter, Plan, Shape, StagePlan, Test};
use crate::rule::Rule;
use crate::syntax::parse;

/// A rule's evidence: events as JSON documents (one per line of NDJSON), in
/// push order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// A stream on which the rule raises at least one alert.
    pub positives: Vec<String>,
    /// Streams close to `positives` on which it raises none.
    pub near_misses: Vec<NearMiss>,
    /// Near misses built to fail on which the engine still raised an
    /// alert: either a change that did not break what it meant to (this
    /// module's gap) or an engine bug. Kept apart, never dropped, so a
    /// caller can insist there are none.
    pub unexpected: Vec<NearMiss>,
}

/// A stream that differs from the positive one in one respect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearMiss {
    /// What was changed, e.g. "stage 2: `process.name` fails like ("curl")".
    pub what: String,
    pub events: Vec<String>,
}

/// Why no example could be built (or confirmed) for a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleError {
    /// The stage (1-based, `runs` expanded) the reason concerns, if one.
    pub stage: Option<usize>,
    pub message: String,
}

impl fmt::Display for ExampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.stage {
            Some(s) => write!(f, "stage {s}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl core::error::Error for ExampleError {}

fn error(stage: Option<usize>, message: impl Into<String>) -> ExampleError {
    ExampleError {
        stage: stage.map(|s| s + 1),
        message: message.into(),
    }
}

/// Builds and checks an example stream and near misses for `rule`.
///
/// ```
/// use rule_core::{example, Engine, Limits, Rule};
///
/// let rule = Rule::from_eql(
///     r#"sequence by host.id with maxspan=5s
///          [process where process.name : "curl*" and not process.name : "curlx*"]
///          [network where destination.port > 1023]"#,
///     None,
/// );
/// let evidence = example(&rule).unwrap();
/// let mut engine = Engine::new(rule.clone(), Limits::default()).unwrap();
/// for event in &evidence.positives {
///     engine.push(event.as_bytes()).unwrap();
/// }
/// engine.flush();
/// assert!(!engine.drain().is_empty());
/// assert!(!evidence.near_misses.is_empty());
/// assert!(evidence.unexpected.is_empty());
/// ```
pub fn example(rule: &Rule) -> Result<Example, ExampleError> {
    let query = parse(&rule.query).map_err(|e| error(None, format!("rule: {e}")))?;
    let plan = compile(&query, &rule.params).map_err(|e| error(None, format!("rule: {e}")))?;
    let builder = Builder::new(&plan)?;
    let positives = builder.stream_timed(&builder.solutions_values(), &[], None);
    match alerts(rule, &positives) {
        Ok(0) => {
            return Err(error(
                None,
                format!(
                    "the engine raised no alert on the stream built to satisfy the rule \
                     (a possible engine bug): {}",
                    positives.join(" ")
                ),
            ))
        }
        Ok(_) => {}
        Err(e) => return Err(error(None, format!("the engine refused the stream: {e}"))),
    }
    let (mut near_misses, mut unexpected) = (Vec::new(), Vec::new());
    for (what, events) in builder.near_misses() {
        if alerts(rule, &events) == Ok(0) {
            near_misses.push(NearMiss { what, events });
        } else {
            unexpected.push(NearMiss { what, events });
        }
    }
    if near_misses.is_empty() {
        return Err(error(
            None,
            "no near miss found: every change tried still raised an alert",
        ));
    }
    Ok(Example {
        positives,
        near_misses,
        unexpected,
    })
}

/// Alerts a fresh engine raises on `events`, after the end of the stream.
fn alerts(rule: &Rule, events: &[String]) -> Result<usize, String> {
    let mut engine = Engine::new(rule.clone(), Limits::default()).map_err(|e| e.to_string())?;
    for event in events {
        engine
            .push(event.as_bytes())
            .map_err(|e| format!("{e}: {event}"))?;
    }
    engine.flush();
    Ok(engine.drain().len())
}

/// What a stage's event must do with one join key position.
#[derive(Debug, Clone)]
enum KeyFix {
    Present,
    Equal(Val),
    /// None of these values.
    NotEqual(Vec<Val>),
}

/// 2026-01-01T00:00:00Z: the stream's first moment.
const T0: i64 = 1_767_225_600_000;

struct Builder<'p> {
    ctx: Ctx<'p>,
    plan: &'p Plan,
    /// Each plan stage's requirement with the keys fixed, and what met it
    /// (`None` for a missing-event stage).
    solved: Vec<Option<Solved>>,
    keys: Vec<KeyFix>,
    step_ms: i64,
}

/// A stage's event values and the conjunction they meet.
struct Solved {
    values: Values,
    lits: Vec<OwnedLit>,
}

/// A literal of a solved conjunction, kept as filters: itself and flipped.
struct OwnedLit {
    field: Option<FieldId>,
    positive: bool,
    is_null: bool,
    text: String,
    filter: Filter,
    negated: Filter,
}

impl OwnedLit {
    fn from(lit: Lit<'_>, ctx: &Ctx<'_>) -> OwnedLit {
        let (positive, is_null, text) = match lit {
            Lit::Leaf {
                field,
                test,
                positive,
            } => (
                positive,
                matches!(test, Test::IsNull),
                format!("`{}` {}", ctx.path(field), describe(test, true)),
            ),
            Lit::Script { script, want } => {
                let mut fields: Vec<String> = script
                    .slots
                    .iter()
                    .map(|&f| format!("`{}`", ctx.path(f)))
                    .collect();
                fields.dedup();
                (
                    want,
                    false,
                    format!("the script over {}", fields.join(", ")),
                )
            }
        };
        OwnedLit {
            field: lit.field(),
            positive,
            is_null,
            text,
            filter: lit.to_filter(),
            negated: lit.negated(),
        }
    }
}

impl<'p> Builder<'p> {
    fn new(plan: &'p Plan) -> Result<Builder<'p>, ExampleError> {
        let ctx = Ctx::new(plan);
        let n = plan.stages.len() as i64;
        let step_ms = match plan.maxspan_ms {
            Some(m) => (m / (n + 2)).clamp(1, 1000),
            None => 1000,
        };
        let mut b = Builder {
            ctx,
            plan,
            solved: Vec::new(),
            keys: alloc::vec![KeyFix::Present; plan.stages.first().map_or(0, |s| s.keys.len())],
            step_ms,
        };
        b.choose_keys()?;
        for i in 0..plan.stages.len() {
            let stage = &plan.stages[i];
            if stage.missing {
                b.solved.push(None);
                continue;
            }
            let solved = b.solve_stage(stage, &b.keys)?;
            b.solved.push(Some(solved));
        }
        Ok(b)
    }

    /// What events to avoid besides the stage's own filter: `until` and
    /// the missing-event stages (an event that matched them would end or
    /// spoil the sequence it builds).
    fn avoid(&self) -> Vec<&'p Filter> {
        let mut out: Vec<&Filter> = self.plan.until.iter().map(|u| &u.filter).collect();
        out.extend(
            self.plan
                .stages
                .iter()
                .filter(|s| s.missing)
                .map(|s| &s.filter),
        );
        out
    }

    /// The stage's filter, its key constraints and, when `avoid`, not
    /// matching `until` or a missing stage.
    fn requirement(&self, stage: &StagePlan, keys: &[KeyFix], avoid: bool) -> Filter {
        let mut all = alloc::vec![stage.filter.clone()];
        for (key, fix) in stage.keys.iter().zip(keys) {
            let Some(field) = key.field else { continue };
            let present = Filter::Not(Box::new(Filter::Leaf(field, Test::IsNull)));
            let ty = self.plan.fields.get(usize::from(field)).map(|f| f.ty);
            match fix {
                KeyFix::Present => all.push(present),
                KeyFix::Equal(v) => match ty.and_then(|ty| convert(v, ty)) {
                    Some(v) => all.push(Filter::Leaf(field, equals(&v))),
                    None => all.push(Filter::Const(false)),
                },
                KeyFix::NotEqual(avoid) => {
                    all.push(present);
                    for v in avoid
                        .iter()
                        .filter_map(|v| ty.and_then(|ty| convert(v, ty)))
                    {
                        all.push(Filter::Not(Box::new(Filter::Leaf(field, equals(&v)))));
                    }
                }
            }
        }
        if avoid {
            for f in self.avoid() {
                all.push(Filter::Not(Box::new(f.clone())));
            }
        }
        Filter::And(all)
    }

    /// Solves one stage, avoiding `until` and missing stages if it can.
    fn solve_stage(&self, stage: &StagePlan, keys: &[KeyFix]) -> Result<Solved, ExampleError> {
        let mut last = String::new();
        for avoid in [true, false] {
            if !avoid && self.avoid().is_empty() {
                break;
            }
            let target = self.requirement(stage, keys, avoid);
            match self.ctx.solve(&target, None) {
                Ok(s) => return Ok(self.owned(s)),
                Err(why) => last = why,
            }
        }
        let index = self
            .plan
            .stages
            .iter()
            .position(|s| core::ptr::eq(s, stage));
        Err(error(index, last))
    }

    /// One value per join key position, the same in every stage: a made-up
    /// one if every stage takes it, else one a stage's own filter picks.
    fn choose_keys(&mut self) -> Result<(), ExampleError> {
        let positions = self.keys.len();
        let stages: Vec<&StagePlan> = self
            .plan
            .stages
            .iter()
            .filter(|s| !s.missing && !s.repeats_previous)
            .collect();
        for i in 0..positions {
            let mut candidates: Vec<Val> = Vec::new();
            // A field that is also an earlier key (`sequence by x [..] by x`)
            // takes the same value: one value, one key.
            for j in 0..i {
                let same = stages
                    .iter()
                    .all(|s| s.keys.get(j).map(|k| k.field) == s.keys.get(i).map(|k| k.field));
                if let (true, KeyFix::Equal(v)) = (same, &self.keys[j]) {
                    candidates.push(v.clone());
                }
            }
            if let Some(field) = stages
                .first()
                .and_then(|s| s.keys.get(i))
                .and_then(|k| k.field)
            {
                if let Some(spec) = self.plan.fields.get(usize::from(field)) {
                    candidates.extend(synthetic_key(spec.ty, &spec.path, i, 0));
                }
            }
            for stage in &stages {
                let solution = self.solve_stage(stage, &self.keys)?;
                if let Some(v) = stage.keys[i]
                    .field
                    .and_then(|f| solution.values.get(&f))
                    .and_then(|vals| vals.first())
                {
                    if !candidates.contains(v) {
                        candidates.push(v.clone());
                    }
                }
            }
            let mut chosen = None;
            for c in candidates {
                let mut keys = self.keys.clone();
                keys[i] = KeyFix::Equal(c);
                if stages.iter().all(|s| self.solve_stage(s, &keys).is_ok()) {
                    chosen = Some(keys);
                    break;
                }
            }
            match chosen {
                Some(keys) => self.keys = keys,
                None => {
                    return Err(error(
                        None,
                        format!(
                            "no value of join key `{}` passes every stage",
                            self.plan.key_names.get(i).map_or("?", String::as_str)
                        ),
                    ))
                }
            }
        }
        Ok(())
    }

    fn solutions_values(&self) -> Vec<Option<Values>> {
        self.solved
            .iter()
            .map(|s| s.as_ref().map(|s| s.values.clone()))
            .collect()
    }

    fn ts(&self, stage: usize) -> i64 {
        T0 + self.step_ms * (stage as i64 + 1)
    }

    /// Candidate near misses: (what changed, the stream).
    fn near_misses(&self) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        let base = self.solutions_values();
        let positive_stages: Vec<usize> = (0..self.plan.stages.len())
            .filter(|&i| !self.plan.stages[i].missing)
            .collect();
        let Some(&last) = positive_stages.last() else {
            return out;
        };
        // The last stage's event with one condition broken: first one it
        // requires, then one exclusion hit.
        for want_positive in [true, false] {
            if let Some((what, values)) = self.broken(last, want_positive) {
                let mut per_stage = base.clone();
                per_stage[last] = Some(values);
                let events = self.stream_timed(&per_stage, &[], None);
                out.push((format!("stage {}: {what}", last + 1), events));
            }
        }
        // The first join key differs in the last stage (with one positive
        // stage there is nothing to join). Every value another stage has
        // at that position is avoided (a multi-valued key joins on any),
        // and at positions on the same field with the same value too.
        if let (Some(KeyFix::Equal(v)), [_, _, ..]) =
            (self.keys.first(), positive_stages.as_slice())
        {
            let mut avoid = alloc::vec![v.clone()];
            for (i, solved) in self.solved.iter().enumerate() {
                let field = self.plan.stages[i].keys.first().and_then(|k| k.field);
                if let (true, Some(solved), Some(field)) = (i != last, solved, field) {
                    for other in solved.values.get(&field).into_iter().flatten() {
                        if !avoid.contains(other) {
                            avoid.push(other.clone());
                        }
                    }
                }
            }
            let mut keys = self.keys.clone();
            let first_field = self.plan.stages[last].keys.first().and_then(|k| k.field);
            for (j, key) in self.plan.stages[last].keys.iter().enumerate() {
                if j == 0
                    || (key.field == first_field && matches!(&keys[j], KeyFix::Equal(w) if w == v))
                {
                    keys[j] = KeyFix::NotEqual(avoid.clone());
                }
            }
            if let Ok(s) = self.solve_stage(&self.plan.stages[last], &keys) {
                let mut per_stage = base.clone();
                per_stage[last] = Some(s.values);
                let events = self.stream_timed(&per_stage, &[], None);
                let name = self.plan.key_names.first().map_or("?", String::as_str);
                out.push((
                    format!("stage {}: join key `{name}` differs", last + 1),
                    events,
                ));
            }
        }
        if self.plan.shape != Shape::Sequence {
            return out;
        }
        // The last event just past maxspan.
        if let (Some(m), [first, _, ..]) = (self.plan.maxspan_ms, positive_stages.as_slice()) {
            let late = self.ts(*first).saturating_add(m).saturating_add(1);
            let events = self.stream_timed(&base, &[], Some((last, late)));
            out.push((
                format!(
                    "stage {}: {} ms after the first event, past maxspan",
                    last + 1,
                    late - self.ts(*first)
                ),
                events,
            ));
        }
        // An event of a missing-event stage arrives in its place.
        if let Some(k) = self.plan.stages.iter().position(|s| s.missing) {
            if let Ok(s) = self.solve_missing(&self.plan.stages[k]) {
                let extra = [(self.ts(k), s.values)];
                let events = self.stream_timed(&base, &extra, None);
                out.push((
                    format!("stage {}: the `![...]` event arrives", k + 1),
                    events,
                ));
            }
        }
        // An `until` event arrives after the first stage.
        if let (Some(until), [first, ..]) = (&self.plan.until, positive_stages.as_slice()) {
            if let Ok(s) = self.solve_missing(until) {
                let extra = [(self.ts(*first) + self.step_ms / 2, s.values)];
                let events = self.stream_timed(&base, &extra, None);
                out.push((
                    "an `until` event arrives after the first stage".to_string(),
                    events,
                ));
            }
        }
        out
    }

    /// An event for a stage nobody sends in the positive stream (`until`,
    /// `![...]`), with the join keys.
    fn solve_missing(&self, stage: &StagePlan) -> Result<Solved, String> {
        let target = self.requirement(stage, &self.keys, false);
        let s = self.ctx.solve(&target, None)?;
        Ok(self.owned(s))
    }

    fn owned(&self, s: Solution<'_>) -> Solved {
        Solved {
            lits: s
                .lits
                .into_iter()
                .map(|l| OwnedLit::from(l, &self.ctx))
                .collect(),
            values: s.values,
        }
    }

    /// The stream with each event timed: `moved` puts one stage elsewhere.
    fn stream_timed(
        &self,
        per_stage: &[Option<Values>],
        extra: &[(i64, Values)],
        moved: Option<(usize, i64)>,
    ) -> Vec<String> {
        let mut timed: Vec<(i64, usize, String)> = Vec::new();
        let mut order = 0;
        for (i, values) in per_stage.iter().enumerate() {
            if let Some(values) = values {
                let ts = match moved {
                    Some((stage, ts)) if stage == i => ts,
                    _ => self.ts(i),
                };
                timed.push((ts, order, self.timed_event(values, ts, order)));
                order += 1;
            }
        }
        for (ts, values) in extra {
            timed.push((*ts, order, self.timed_event(values, *ts, order)));
            order += 1;
        }
        timed.sort_by_key(|(ts, order, _)| (*ts, *order));
        timed.into_iter().map(|(_, _, e)| e).collect()
    }

    fn timed_event(&self, values: &Values, ts: i64, index: usize) -> String {
        let mut values = values.clone();
        if let Some(tb) = self.plan.tiebreaker {
            values
                .entry(tb)
                .or_insert_with(|| alloc::vec![Val::Num(index as f64)]);
        }
        self.ctx.event(&values, ts)
    }

    /// Stage `i`'s event with one literal of its conjunction flipped so
    /// that the stage's filter fails: a required one (`positive`), or an
    /// exclusion. Later literals first: they are the rule's specific ones
    /// (`event.category` and the like come first). Join keys stay.
    fn broken(&self, i: usize, positive: bool) -> Option<(String, Values)> {
        let lits = &self.solved.get(i)?.as_ref()?.lits;
        let stage = &self.plan.stages[i];
        let key_fields: Vec<FieldId> = stage.keys.iter().filter_map(|k| k.field).collect();
        for (j, lit) in lits.iter().enumerate().rev() {
            if lit.positive != positive || lit.field.is_some_and(|f| key_fields.contains(&f)) {
                continue;
            }
            let mut all: Vec<Filter> = lits
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != j)
                .map(|(_, l)| l.filter.clone())
                .collect();
            all.push(lit.negated.clone());
            // A required value changed rather than left out, when it can be.
            let mut tries = Vec::new();
            if let (true, false, Some(f)) = (lit.positive, lit.is_null, lit.field) {
                let mut with = all.clone();
                with.push(Filter::Not(Box::new(Filter::Leaf(f, Test::IsNull))));
                tries.push(Filter::And(with));
            }
            tries.push(Filter::And(all));
            for target in &tries {
                if let Ok(s) = self.ctx.solve(target, Some(&stage.filter)) {
                    let what = if lit.positive {
                        format!("fails {}", lit.text)
                    } else {
                        format!("hits exclusion {}", lit.text)
                    };
                    return Some((what, s.values));
                }
            }
        }
        None
    }
}
