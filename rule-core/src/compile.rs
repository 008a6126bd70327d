//! Syntax tree to [`Plan`]: gives every field an id and a type, turns
//! operators into typed tests, and refuses what the engine cannot run.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::error::{Position, RuleError};
use crate::ip::{parse_ip, parse_network};
use crate::pattern::{LiteralKind, Pattern};
use crate::plan::{FieldId, FieldSpec, FieldType, Filter, Ordering, Plan, StagePlan, Test};
use crate::syntax::ast::{CompareOp, Expr, Field, Literal, MatchOp, Query};

/// Compiles a parsed query.
pub fn compile(query: &Query) -> Result<Plan, RuleError> {
    let mut c = Compiler { fields: Vec::new() };
    c.fields.push(FieldSpec {
        path: "@timestamp".to_string(),
        ty: FieldType::Date,
    });
    for stage in &query.stages {
        c.infer_types(&stage.condition)?;
    }
    let key_count = query.by.len() + query.stages.first().map_or(0, |s| s.by.len());
    let mut stages = Vec::new();
    for stage in &query.stages {
        if query.by.len() + stage.by.len() != key_count {
            return Err(RuleError::at(
                stage.position,
                format!("every stage must have the same number of join keys ({key_count})"),
            ));
        }
        let mut keys = Vec::new();
        for f in query.by.iter().chain(&stage.by) {
            keys.push(c.field(f, FieldType::Keyword, true)?);
        }
        let condition = c.expr(&stage.condition)?;
        let filter = match &stage.category {
            None => condition,
            Some(category) => {
                let category_field = c.field_id("event.category", FieldType::Keyword);
                let is_category = Filter::Leaf(
                    category_field,
                    Test::Strings {
                        patterns: alloc::vec![Pattern::literal(
                            LiteralKind::Exact,
                            category,
                            false
                        )],
                        insensitive: false,
                    },
                );
                Filter::And(alloc::vec![is_category, condition])
            }
        };
        stages.push(StagePlan { filter, keys });
    }
    let key_names = query
        .by
        .iter()
        .chain(query.stages.first().map_or(&[][..], |s| &s.by[..]))
        .map(|f| f.path.clone())
        .collect();
    let maxspan_ms = match query.maxspan_ms {
        Some(ms) => {
            Some(i64::try_from(ms).map_err(|_| RuleError::metadata("maxspan is too large"))?)
        }
        None => None,
    };
    Ok(Plan {
        fields: c.fields,
        stages,
        maxspan_ms,
        key_names,
    })
}

struct Compiler {
    fields: Vec<FieldSpec>,
}

impl Compiler {
    fn field_id(&mut self, path: &str, ty: FieldType) -> FieldId {
        if let Some(i) = self.fields.iter().position(|f| f.path == path) {
            return i as FieldId;
        }
        self.fields.push(FieldSpec {
            path: path.to_string(),
            ty,
        });
        (self.fields.len() - 1) as FieldId
    }

    /// The id of `f`, registering it with type `ty` if new. With
    /// `any_type`, an existing field keeps the type it already has.
    fn field(&mut self, f: &Field, ty: FieldType, any_type: bool) -> Result<FieldId, RuleError> {
        if self.fields.len() >= usize::from(u16::MAX) {
            return Err(RuleError::at(f.position, "too many fields"));
        }
        let id = self.field_id(&f.path, ty);
        let have = self.fields[usize::from(id)].ty;
        if have != ty && !any_type {
            return Err(RuleError::at(
                f.position,
                format!(
                    "field `{}` is used both as {} and as {}",
                    f.path,
                    have.name(),
                    ty.name()
                ),
            ));
        }
        Ok(id)
    }

    /// First pass: a field used with `cidrmatch` is an `ip`, one compared
    /// with a number is a number; everything else is a keyword.
    fn infer_types(&mut self, e: &Expr) -> Result<(), RuleError> {
        match e {
            Expr::And(all) | Expr::Or(all) => all.iter().try_for_each(|e| self.infer_types(e)),
            Expr::Not(inner, _) => self.infer_types(inner),
            Expr::Call { name, args, .. } if name.eq_ignore_ascii_case("cidrmatch") => {
                if let Some(Expr::Field(f)) = args.first() {
                    self.field(f, FieldType::Ip, false)?;
                }
                Ok(())
            }
            Expr::Compare { left, right, .. } => {
                if let (Expr::Field(f), Expr::Literal(Literal::Integer(_) | Literal::Float(_), _))
                | (Expr::Literal(Literal::Integer(_) | Literal::Float(_), _), Expr::Field(f)) =
                    (left.as_ref(), right.as_ref())
                {
                    if f.path != "@timestamp" {
                        self.field(f, FieldType::Number, false)?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<Filter, RuleError> {
        Ok(match e {
            Expr::And(all) => {
                Filter::And(all.iter().map(|e| self.expr(e)).collect::<Result<_, _>>()?)
            }
            Expr::Or(any) => {
                Filter::Or(any.iter().map(|e| self.expr(e)).collect::<Result<_, _>>()?)
            }
            Expr::Not(inner, _) => Filter::Not(Box::new(self.expr(inner)?)),
            Expr::Literal(Literal::Bool(b), _) => Filter::Const(*b),
            Expr::Literal(_, p) => {
                return Err(RuleError::at(
                    *p,
                    "a condition must be true or false, not a value",
                ))
            }
            Expr::Field(f) => {
                return Err(RuleError::at(
                    f.position,
                    format!("field `{}` alone is not a condition: compare it", f.path),
                ))
            }
            Expr::Compare {
                op,
                left,
                right,
                position,
            } => self.compare(*op, left, right, *position)?,
            Expr::Match {
                op,
                negated,
                left,
                right,
                position,
            } => {
                let test = self.matching(*op, left, right, *position)?;
                if *negated {
                    Filter::Not(Box::new(test))
                } else {
                    test
                }
            }
            Expr::Call {
                name,
                insensitive,
                args,
                position,
            } => self.call(name, *insensitive, args, *position)?,
        })
    }

    fn compare(
        &mut self,
        op: CompareOp,
        left: &Expr,
        right: &Expr,
        position: Position,
    ) -> Result<Filter, RuleError> {
        let (field, literal, op) = match (left, right) {
            (Expr::Field(f), Expr::Literal(l, _)) => (f, l, op),
            (Expr::Literal(l, _), Expr::Field(f)) => (f, l, flip(op)),
            (Expr::Call { name, position, .. }, _) | (_, Expr::Call { name, position, .. }) => {
                return Err(RuleError::at(
                    *position,
                    format!("function `{name}` is not supported in a comparison by this engine"),
                ))
            }
            (Expr::Field(_), Expr::Field(_)) => {
                return Err(RuleError::at(
                    position,
                    "comparing two fields is not supported by this engine",
                ))
            }
            _ => {
                return Err(RuleError::at(
                    position,
                    "a comparison needs a field on one side and a value on the other",
                ))
            }
        };
        let (ordering, negate) = match op {
            CompareOp::Eq => (Ordering::Eq, false),
            CompareOp::NotEq => (Ordering::Eq, true),
            CompareOp::Lt => (Ordering::Lt, false),
            CompareOp::LtEq => (Ordering::LtEq, false),
            CompareOp::Gt => (Ordering::Gt, false),
            CompareOp::GtEq => (Ordering::GtEq, false),
        };
        let id = self.field(field, FieldType::Keyword, true)?;
        let ty = self.fields[usize::from(id)].ty;
        let test = match (literal, ty) {
            (Literal::Null, _) if ordering == Ordering::Eq => Test::IsNull,
            (Literal::Null, _) => {
                return Err(RuleError::at(
                    position,
                    "null can only be compared with == or !=",
                ))
            }
            (Literal::String(s), FieldType::Ip) if ordering == Ordering::Eq => {
                let ip = parse_ip(s).ok_or_else(|| {
                    RuleError::at(position, format!("{s:?} is not an IP address"))
                })?;
                Test::Ip(alloc::vec![ipnet::IpNet::from(ip)])
            }
            (_, FieldType::Ip) => {
                return Err(RuleError::at(
                    position,
                    format!(
                        "`{}` is an IP field: compare it with == and an address",
                        field.path
                    ),
                ))
            }
            (
                Literal::Integer(_) | Literal::Float(_) | Literal::String(_),
                FieldType::Number | FieldType::Date,
            ) => Test::Number {
                op: ordering,
                value: number(literal, position)?,
            },
            (Literal::String(s), FieldType::Keyword) if ordering == Ordering::Eq => Test::Strings {
                patterns: alloc::vec![Pattern::literal(LiteralKind::Exact, s, false)],
                insensitive: false,
            },
            (Literal::String(s), FieldType::Keyword) => Test::StringOrder {
                op: ordering,
                value: s.clone(),
            },
            (Literal::Bool(b), FieldType::Keyword) if ordering == Ordering::Eq => Test::Strings {
                patterns: alloc::vec![Pattern::Exact(b.to_string())],
                insensitive: false,
            },
            _ => {
                return Err(RuleError::at(
                    position,
                    format!("cannot compare `{}` with this value", field.path),
                ))
            }
        };
        let leaf = Filter::Leaf(id, test);
        Ok(if negate {
            Filter::Not(Box::new(leaf))
        } else {
            leaf
        })
    }

    fn matching(
        &mut self,
        op: MatchOp,
        left: &Expr,
        right: &[Expr],
        position: Position,
    ) -> Result<Filter, RuleError> {
        let Expr::Field(field) = left else {
            return Err(RuleError::at(
                position,
                "the left side of `in`, `like` or `:` must be a field",
            ));
        };
        let id = self.field(field, FieldType::Keyword, true)?;
        let ty = self.fields[usize::from(id)].ty;
        let mut has_null = false;
        let mut values = Vec::new();
        for e in right {
            match e {
                Expr::Literal(Literal::Null, _) => has_null = true,
                Expr::Literal(l, _) => values.push((l, e.position())),
                other => {
                    return Err(RuleError::at(
                        other.position(),
                        "only values may stand on the right of `in`, `like` and `:`",
                    ))
                }
            }
        }
        let wildcards = matches!(
            op,
            MatchOp::Like | MatchOp::LikeInsensitive | MatchOp::Colon
        );
        let insensitive = matches!(
            op,
            MatchOp::InInsensitive | MatchOp::LikeInsensitive | MatchOp::Colon
        );
        let test = match ty {
            FieldType::Keyword => {
                let mut patterns = Vec::new();
                for (l, p) in values {
                    let text = literal_text(l, p)?;
                    patterns.push(if wildcards {
                        Pattern::wildcard(&text, insensitive)
                    } else {
                        Pattern::literal(LiteralKind::Exact, &text, insensitive)
                    });
                }
                Test::Strings {
                    patterns,
                    insensitive,
                }
            }
            FieldType::Ip if matches!(op, MatchOp::In | MatchOp::Colon) => {
                let mut nets = Vec::new();
                for (l, p) in values {
                    let text = literal_text(l, p)?;
                    // `:` on an ip field is a term query, which takes a CIDR.
                    let net = if op == MatchOp::Colon {
                        parse_network(&text)
                    } else {
                        parse_ip(&text).map(Into::into)
                    };
                    nets.push(net.ok_or_else(|| {
                        RuleError::at(p, format!("{text:?} is not an IP address"))
                    })?);
                }
                Test::Ip(nets)
            }
            FieldType::Number | FieldType::Date if matches!(op, MatchOp::In | MatchOp::Colon) => {
                let mut any = Vec::new();
                for (l, p) in values {
                    any.push(Filter::Leaf(
                        id,
                        Test::Number {
                            op: Ordering::Eq,
                            value: number(l, p)?,
                        },
                    ));
                }
                if has_null {
                    any.push(Filter::Leaf(id, Test::IsNull));
                }
                return Ok(Filter::Or(any));
            }
            _ => {
                return Err(RuleError::at(
                    position,
                    format!(
                        "this operator does not apply to `{}`, {}",
                        field.path,
                        ty.name()
                    ),
                ))
            }
        };
        let leaf = Filter::Leaf(id, test);
        Ok(if has_null {
            Filter::Or(alloc::vec![leaf, Filter::Leaf(id, Test::IsNull)])
        } else {
            leaf
        })
    }

    fn call(
        &mut self,
        name: &str,
        insensitive: bool,
        args: &[Expr],
        position: Position,
    ) -> Result<Filter, RuleError> {
        // Elasticsearch's function names are case-insensitive (P12).
        let lower = name.to_ascii_lowercase();
        let kind = match lower.as_str() {
            "cidrmatch" => None,
            "startswith" => Some(LiteralKind::Prefix),
            "endswith" => Some(LiteralKind::Suffix),
            "stringcontains" => Some(LiteralKind::Contains),
            "wildcard" => Some(LiteralKind::Exact), // patterns, see below
            _ => {
                return Err(RuleError::at(
                    position,
                    format!("function `{name}` is not supported by this engine"),
                ))
            }
        };
        let Some(Expr::Field(field)) = args.first() else {
            return Err(RuleError::at(
                position,
                format!("`{name}` takes a field as its first argument"),
            ));
        };
        let mut texts = Vec::new();
        for a in &args[1..] {
            match a {
                Expr::Literal(l @ Literal::String(_), p) => texts.push((literal_text(l, *p)?, *p)),
                other => {
                    return Err(RuleError::at(
                        other.position(),
                        format!("`{name}` takes string values after the field"),
                    ))
                }
            }
        }
        if texts.is_empty() {
            return Err(RuleError::at(
                position,
                format!("`{name}` needs at least one value after the field"),
            ));
        }
        if kind.is_none() {
            if insensitive {
                return Err(RuleError::at(
                    position,
                    "`cidrmatch~` does not exist: cidrmatch has no case",
                ));
            }
            let id = self.field(field, FieldType::Ip, false)?;
            let mut nets = Vec::new();
            for (t, p) in texts {
                nets.push(parse_network(&t).ok_or_else(|| {
                    RuleError::at(p, format!("{t:?} is not a CIDR or an IP address"))
                })?);
            }
            return Ok(Filter::Leaf(id, Test::Ip(nets)));
        }
        let id = self.field(field, FieldType::Keyword, false)?;
        let is_wildcard = lower == "wildcard";
        if !is_wildcard && texts.len() != 1 {
            return Err(RuleError::at(
                position,
                format!("`{name}` takes a field and one string"),
            ));
        }
        let patterns = texts
            .iter()
            .map(|(t, _)| match kind {
                Some(k) if !is_wildcard => Pattern::literal(k, t, insensitive),
                _ => Pattern::wildcard(t, insensitive),
            })
            .collect();
        Ok(Filter::Leaf(
            id,
            Test::Strings {
                patterns,
                insensitive,
            },
        ))
    }
}

fn flip(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::LtEq => CompareOp::GtEq,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::GtEq => CompareOp::LtEq,
        same => same,
    }
}

fn literal_text(l: &Literal, p: Position) -> Result<String, RuleError> {
    Ok(match l {
        Literal::String(s) => s.clone(),
        Literal::Integer(i) => i.to_string(),
        Literal::Float(f) => f.to_string(),
        Literal::Bool(b) => b.to_string(),
        Literal::Null => return Err(RuleError::at(p, "null is not a string")),
    })
}

fn number(l: &Literal, p: Position) -> Result<f64, RuleError> {
    match l {
        Literal::Integer(i) => Ok(*i as f64),
        Literal::Float(f) => Ok(*f),
        Literal::String(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| RuleError::at(p, format!("{s:?} is not a number"))),
        _ => Err(RuleError::at(p, "expected a number")),
    }
}
