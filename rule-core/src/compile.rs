//! Syntax tree to [`Plan`]: gives every field an id and a type, decides for
//! each condition what Elasticsearch would run (a Lucene query or a
//! script), and refuses what cannot run, with its line and column.
//!
//! - this file: the query's shape (stages, join keys, `until`, pipes) and
//!   the field table (mapping types; without a mapping, ECS types, or
//!   types inferred from use);
//! - [`condition`]: boolean conditions, as Elasticsearch's optimizer and
//!   query translator treat them (query leaves or scripts);
//! - [`scalar`]: value expressions (functions, arithmetic) for scripts,
//!   type-checked and folded when constant.

mod condition;
mod scalar;

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::error::{Position, RuleError};
use crate::mapping::Mapping;
use crate::pattern::{LiteralKind, Pattern};
use crate::plan::{
    FieldId, FieldSpec, FieldType, Filter, KeyField, PipePlan, Plan, Shape, StagePlan, Test,
    ValueKind,
};
use crate::rule::{QueryParams, ResultPosition};
use crate::syntax::ast::{ArithOp, Expr, Field, Literal, Pipe, Query, QueryKind, Stage};

/// Stages per query, as Elasticsearch's own bound on sequence length.
pub const MAX_STAGES: usize = 256;

/// Compiles a parsed query.
pub fn compile(query: &Query, params: &QueryParams) -> Result<Plan, RuleError> {
    let mut c = Compiler {
        fields: Vec::new(),
        mapping: params.mapping.as_ref(),
        inferred: BTreeMap::new(),
    };
    let timestamp = params.timestamp_field();
    let (timestamp_path, ignore_malformed) = match c.mapping.and_then(|m| m.get(timestamp)) {
        Some(mapped) => (mapped.path.clone(), mapped.ignore_malformed),
        None => (timestamp.to_string(), false),
    };
    c.fields.push(FieldSpec {
        path: timestamp_path,
        ty: FieldType::Date,
        kind: ValueKind::Date,
        ignore_malformed,
    });
    let tiebreaker = match &params.tiebreaker_field {
        None => None,
        Some(path) => {
            let field = Field {
                path: path.clone(),
                optional: false,
                position: query.position,
            };
            let id = match c.mapping.and_then(|m| m.get(path)) {
                Some(_) => match c.resolve(&field)? {
                    Resolved::Field(id) => id,
                    Resolved::Null => {
                        return Err(RuleError::metadata("tiebreaker_field is unknown"))
                    }
                },
                None => c.field_id(path, FieldType::Number, ValueKind::Number)?,
            };
            if !matches!(c.type_of(id), FieldType::Number | FieldType::Date) {
                return Err(RuleError::metadata(format!(
                    "tiebreaker_field `{path}` must be a number or a date here, not {}",
                    c.type_of(id).name()
                )));
            }
            Some(id)
        }
    };
    if query.stages.len() > MAX_STAGES {
        return Err(RuleError::at(
            query.position,
            format!("a query has at most {MAX_STAGES} stages"),
        ));
    }
    if c.mapping.is_none() {
        for stage in query.stages.iter().chain(&query.until) {
            c.infer_types(&stage.condition)?;
        }
    }
    let key_count = query.by.len() + query.stages.first().map_or(0, |s| s.by.len());
    let mut stages = Vec::new();
    for stage in &query.stages {
        let plan = c.stage(query, stage, key_count, params)?;
        // `with runs=N` is the stage written N times, as Elasticsearch expands it.
        for run in 0..plan.runs {
            stages.push(StagePlan {
                repeats_previous: run > 0,
                ..plan.clone()
            });
        }
        if stages.len() > MAX_STAGES {
            return Err(RuleError::at(
                stage.position,
                format!("a query has at most {MAX_STAGES} stages, runs included"),
            ));
        }
    }
    let until = match &query.until {
        Some(stage) => Some(c.stage(query, stage, key_count, params)?),
        None => None,
    };
    let key_names = query
        .by
        .iter()
        .chain(query.stages.first().map_or(&[][..], |s| &s.by[..]))
        .map(|f| f.path.clone())
        .collect();
    let maxspan_ms = match query.maxspan_ms {
        Some(ms) => Some(
            i64::try_from(ms).map_err(|_| RuleError::at(query.position, "maxspan is too large"))?,
        ),
        None => None,
    };
    check_missing_stages(query, maxspan_ms)?;
    let shape = match query.kind {
        QueryKind::Event => Shape::Events,
        QueryKind::Sequence => Shape::Sequence,
        QueryKind::Sample => Shape::Sample {
            max_per_key: match params.max_samples_per_key {
                Some(0) => {
                    return Err(RuleError::metadata(
                        "max_samples_per_key must be at least 1",
                    ))
                }
                Some(n) => n,
                None => 1,
            },
        },
    };
    let mut pipes: Vec<PipePlan> = query
        .pipes
        .iter()
        .map(|p| match *p {
            Pipe::Head(n, _) => PipePlan::Head(n),
            Pipe::Tail(n, _) => PipePlan::Tail(n),
        })
        .collect();
    if let Some(size) = params.size {
        // Elasticsearch: pipes cannot take more than `size`; without a
        // pipe, `result_position` says which `size` results.
        match pipes.last_mut() {
            Some(PipePlan::Head(n) | PipePlan::Tail(n)) => *n = (*n).min(size),
            None => pipes.push(match params.result_position {
                ResultPosition::Head => PipePlan::Head(size),
                ResultPosition::Tail => PipePlan::Tail(size),
            }),
        }
    }
    Ok(Plan {
        fields: c.fields,
        shape,
        tiebreaker,
        stages,
        until,
        maxspan_ms,
        key_names,
        pipes,
    })
}

/// Missing-event stages need a maxspan (their windows are bounded by it)
/// and at least one stage that is not missing, as Elasticsearch requires.
fn check_missing_stages(query: &Query, maxspan_ms: Option<i64>) -> Result<(), RuleError> {
    if query.stages.iter().any(|s| s.missing) {
        if maxspan_ms.is_none() {
            let first = query
                .stages
                .iter()
                .find(|s| s.missing)
                .map_or(query.position, |s| s.position);
            return Err(RuleError::at(
                first,
                "a missing-event stage `![...]` needs `with maxspan=`",
            ));
        }
        if query.stages.iter().all(|s| s.missing) {
            return Err(RuleError::at(
                query.position,
                "a sequence needs at least one stage that is not a missing event",
            ));
        }
    }
    Ok(())
}

/// A field as the compiler resolved it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolved {
    Field(FieldId),
    /// `?field` that the mapping does not know: `null`, as Elasticsearch reads it.
    Null,
}

struct Compiler<'p> {
    fields: Vec<FieldSpec>,
    mapping: Option<&'p Mapping>,
    /// Without a mapping: the type each field's use implies.
    inferred: BTreeMap<String, (FieldType, ValueKind, Position)>,
}

impl Compiler<'_> {
    fn stage(
        &mut self,
        query: &Query,
        stage: &Stage,
        key_count: usize,
        params: &QueryParams,
    ) -> Result<StagePlan, RuleError> {
        if query.by.len() + stage.by.len() != key_count {
            return Err(RuleError::at(
                stage.position,
                format!("every stage must have the same number of join keys ({key_count})"),
            ));
        }
        let mut keys = Vec::new();
        // A sample's optional keys take part when null (Elasticsearch's
        // composite aggregation has `missing_bucket` for them); a sequence's
        // null key takes no part (S7).
        let sample = query.kind == QueryKind::Sample;
        for f in query.by.iter().chain(&stage.by) {
            let nullable = sample && f.optional;
            match self.resolve(f)? {
                Resolved::Field(id) => keys.push(KeyField {
                    field: Some(id),
                    nullable,
                }),
                Resolved::Null if nullable => keys.push(KeyField {
                    field: None,
                    nullable,
                }),
                Resolved::Null => {
                    return Err(RuleError::at(
                        f.position,
                        format!("join key `{}` is not in the mapping", f.path),
                    ))
                }
            }
        }
        let condition = self.condition(&stage.condition)?;
        let mut dispatch = None;
        let filter = match &stage.category {
            None => condition,
            Some(category) => {
                let field = Field {
                    path: params.event_category_field().to_string(),
                    optional: false,
                    position: stage.position,
                };
                let category_field = self.resolve(&field)?;
                if let Resolved::Field(id) = category_field {
                    dispatch = Some((id, category.clone()));
                }
                let is_category = match category_field {
                    Resolved::Field(id) => Filter::Leaf(
                        id,
                        Test::Strings {
                            patterns: alloc::vec![Pattern::literal(
                                LiteralKind::Exact,
                                category,
                                false
                            )],
                            insensitive: false,
                        },
                    ),
                    Resolved::Null => Filter::Const(false),
                };
                Filter::And(alloc::vec![is_category, condition])
            }
        };
        Ok(StagePlan {
            filter,
            keys,
            runs: stage.runs,
            missing: stage.missing,
            repeats_previous: false,
            category: dispatch,
        })
    }

    /// The id of the field at `path`, registered with `ty` and `kind` if new.
    fn field_id(
        &mut self,
        path: &str,
        ty: FieldType,
        kind: ValueKind,
    ) -> Result<FieldId, RuleError> {
        if let Some(i) = self.fields.iter().position(|f| f.path == path) {
            return Ok(i as FieldId);
        }
        if self.fields.len() >= usize::from(u16::MAX) {
            return Err(RuleError::metadata("too many fields"));
        }
        self.fields.push(FieldSpec {
            path: path.to_string(),
            ty,
            kind,
            ignore_malformed: self
                .mapping
                .and_then(|m| m.get(path))
                .is_some_and(|mapped| mapped.ignore_malformed),
        });
        Ok((self.fields.len() - 1) as FieldId)
    }

    /// A field of the query: its mapped type, or without a mapping its ECS
    /// type or else the type its use implies (keyword when nothing says
    /// otherwise).
    fn resolve(&mut self, f: &Field) -> Result<Resolved, RuleError> {
        let Some(mapping) = self.mapping else {
            // ECS's type for an ECS field EQL can read, else the inferred one.
            let (ty, kind) = match (ecs_read_as(&f.path), self.inferred.get(&f.path)) {
                _ if f.path == self.fields[0].path => (FieldType::Date, ValueKind::Date),
                (Some(typed), _) => typed,
                (None, Some(&(ty, kind, _))) => (ty, kind),
                (None, None) => (FieldType::Keyword, ValueKind::Keyword),
            };
            return self.field_id(&f.path, ty, kind).map(Resolved::Field);
        };
        let Some(mapped) = mapping.get(&f.path) else {
            if f.optional {
                return Ok(Resolved::Null);
            }
            return Err(RuleError::at(
                f.position,
                format!(
                    "unknown field `{}`: not in the mapping (write `?{}` for an optional field)",
                    f.path, f.path
                ),
            ));
        };
        let Some((ty, kind)) = mapped.ty.read_as() else {
            return Err(RuleError::at(
                f.position,
                format!(
                    "field `{}` is mapped as {:?}, which EQL cannot test (text needs a keyword sub-field)",
                    f.path, mapped.ty
                ),
            ));
        };
        let path = mapped.path.clone();
        self.field_id(&path, ty, kind).map(Resolved::Field)
    }

    fn kind_of(&self, id: FieldId) -> ValueKind {
        self.fields[usize::from(id)].kind
    }

    fn type_of(&self, id: FieldId) -> FieldType {
        self.fields[usize::from(id)].ty
    }

    /// Without a mapping, a field used with `cidrMatch` is an `ip`, one
    /// compared with a number or computed with is a number; everything
    /// else is a keyword.
    fn infer_types(&mut self, e: &Expr) -> Result<(), RuleError> {
        let number = (FieldType::Number, ValueKind::Number);
        match e {
            Expr::And(all) | Expr::Or(all) => all.iter().try_for_each(|e| self.infer_types(e)),
            Expr::Not(inner, _) | Expr::Neg(inner, _) => {
                if let Expr::Field(f) = inner.as_ref() {
                    self.infer(f, number)?;
                }
                self.infer_types(inner)
            }
            Expr::Call { name, args, .. } => {
                let lower = name.to_ascii_lowercase();
                if lower == "cidrmatch" {
                    if let Some(Expr::Field(f)) = args.first() {
                        self.infer(f, (FieldType::Ip, ValueKind::Ip))?;
                    }
                } else if matches!(
                    lower.as_str(),
                    "add" | "subtract" | "multiply" | "divide" | "modulo"
                ) {
                    for a in args {
                        if let Expr::Field(f) = a {
                            self.infer(f, number)?;
                        }
                    }
                }
                args.iter().try_for_each(|a| self.infer_types(a))
            }
            Expr::Arith { left, right, .. } => {
                for side in [left, right] {
                    if let Expr::Field(f) = side.as_ref() {
                        self.infer(f, number)?;
                    }
                    self.infer_types(side)?;
                }
                Ok(())
            }
            Expr::Compare { left, right, .. } => {
                let is_number = |e: &Expr| {
                    matches!(
                        e,
                        Expr::Literal(Literal::Integer(_) | Literal::Float(_), _)
                            | Expr::Arith { .. }
                    )
                };
                match (left.as_ref(), right.as_ref()) {
                    (Expr::Field(f), other) | (other, Expr::Field(f)) if is_number(other) => {
                        self.infer(f, number)?;
                    }
                    _ => {}
                }
                self.infer_types(left)?;
                self.infer_types(right)
            }
            Expr::Match { left, right, .. } => {
                self.infer_types(left)?;
                right.iter().try_for_each(|e| self.infer_types(e))
            }
            Expr::Literal(..) | Expr::Field(_) => Ok(()),
        }
    }

    fn infer(&mut self, f: &Field, (ty, kind): (FieldType, ValueKind)) -> Result<(), RuleError> {
        // The timestamp is a date and an ECS field has ECS's type, whatever their use.
        if f.path == self.fields[0].path || ecs_read_as(&f.path).is_some() {
            return Ok(());
        }
        match self.inferred.get(&f.path) {
            Some(&(have, _, _)) if have != ty => Err(RuleError::at(
                f.position,
                format!(
                    "field `{}` is used both as {} and as {}",
                    f.path,
                    have.name(),
                    ty.name()
                ),
            )),
            Some(_) => Ok(()),
            None => {
                self.inferred.insert(f.path.clone(), (ty, kind, f.position));
                Ok(())
            }
        }
    }
}

/// Without a mapping, how an ECS field is read: `None` for a field ECS
/// does not define, or maps as text or an object (its use decides then).
fn ecs_read_as(path: &str) -> Option<(FieldType, ValueKind)> {
    crate::ecs::ecs_type(path).and_then(crate::mapping::EsType::read_as)
}

/// Operators that compute a number from numbers.
fn is_arithmetic_function(lower: &str) -> Option<ArithOp> {
    Some(match lower {
        "add" => ArithOp::Add,
        "subtract" => ArithOp::Sub,
        "multiply" => ArithOp::Mul,
        "divide" => ArithOp::Div,
        "modulo" => ArithOp::Mod,
        _ => return None,
    })
}
