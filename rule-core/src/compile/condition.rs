//! Boolean conditions, translated as Elasticsearch translates them.
//!
//! First the optimizer's rewrite of `not`: pushed through `and`/`or` (De
//! Morgan) and into comparisons (`not (x > 1)` is `x <= 1`, so a missing
//! `x` passes neither). Then Elasticsearch's `QueryTranslator`, leaf by
//! leaf: a field tested against constants becomes a Lucene query (term,
//! terms, range, wildcard, regexp, prefix, exists: true when any value of
//! the field passes, and `not` of it is a `must_not`); anything else (a
//! function of a field, arithmetic, a comparison between computed values)
//! becomes a [`Script`]. `and` and `or` combine leaves of both kinds.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{Compiler, Resolved};
use crate::error::{Position, RuleError};
use crate::ip::{parse_ip, parse_network};
use crate::pattern::{LiteralKind, Pattern};
use crate::plan::{FieldId, FieldType, Filter, Ordering, Script, Test, ValueKind};
use crate::regexp::Regexp;
use crate::syntax::ast::{CompareOp, Expr, Field, Literal, MatchOp};
use crate::time::parse_rfc3339_ms;
use crate::value::Value;
use crate::version::version_key;

/// Field occurrences one script may read; each multiplies the combinations
/// an event can need.
pub const MAX_SCRIPT_FIELDS: usize = 8;

impl Compiler<'_> {
    /// A stage's condition as a filter.
    pub(super) fn condition(&mut self, e: &Expr) -> Result<Filter, RuleError> {
        let normalized = push_not(&self.known_optionals(e), false);
        self.translate(&normalized)
    }

    /// `?field` that the mapping does not know is the constant null, so
    /// `?x == ?y` compares constants, as Elasticsearch folds it.
    fn known_optionals(&self, e: &Expr) -> Expr {
        let unknown =
            |f: &Field| f.optional && self.mapping.is_some_and(|m| m.get(&f.path).is_none());
        let map = |e: &Expr| self.known_optionals(e);
        match e {
            Expr::Field(f) if unknown(f) => Expr::Literal(Literal::Null, f.position),
            Expr::Literal(..) | Expr::Field(_) => e.clone(),
            Expr::Not(inner, p) => Expr::Not(Box::new(map(inner)), *p),
            Expr::Neg(inner, p) => Expr::Neg(Box::new(map(inner)), *p),
            Expr::And(all) => Expr::And(all.iter().map(map).collect()),
            Expr::Or(any) => Expr::Or(any.iter().map(map).collect()),
            Expr::Compare {
                op,
                left,
                right,
                position,
            } => Expr::Compare {
                op: *op,
                left: Box::new(map(left)),
                right: Box::new(map(right)),
                position: *position,
            },
            Expr::Arith {
                op,
                left,
                right,
                position,
            } => Expr::Arith {
                op: *op,
                left: Box::new(map(left)),
                right: Box::new(map(right)),
                position: *position,
            },
            Expr::Match {
                op,
                negated,
                left,
                right,
                position,
            } => Expr::Match {
                op: *op,
                negated: *negated,
                left: Box::new(map(left)),
                right: right.iter().map(map).collect(),
                position: *position,
            },
            Expr::Call {
                name,
                insensitive,
                args,
                position,
            } => Expr::Call {
                name: name.clone(),
                insensitive: *insensitive,
                args: args.iter().map(map).collect(),
                position: *position,
            },
        }
    }

    fn translate(&mut self, e: &Expr) -> Result<Filter, RuleError> {
        Ok(match e {
            Expr::And(all) => Filter::And(
                all.iter()
                    .map(|e| self.translate(e))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Or(any) => Filter::Or(
                any.iter()
                    .map(|e| self.translate(e))
                    .collect::<Result<_, _>>()?,
            ),
            Expr::Not(inner, _) => negate(self.translate(inner)?),
            Expr::Literal(Literal::Bool(b), _) => Filter::Const(*b),
            Expr::Literal(Literal::Null, _) => Filter::Const(false),
            Expr::Literal(_, p) | Expr::Arith { position: p, .. } | Expr::Neg(_, p) => {
                return Err(RuleError::at(
                    *p,
                    "a condition must be true or false, not a value",
                ))
            }
            Expr::Field(f) => match self.resolve(f)? {
                Resolved::Null => Filter::Const(false),
                Resolved::Field(id) if self.kind_of(id) == ValueKind::Bool => Filter::Leaf(
                    id,
                    Test::Strings {
                        patterns: alloc::vec![Pattern::Exact("true".to_string())],
                        insensitive: false,
                    },
                ),
                Resolved::Field(_) => {
                    return Err(RuleError::at(
                        f.position,
                        format!("field `{}` alone is not a condition: compare it", f.path),
                    ))
                }
            },
            Expr::Compare {
                op,
                left,
                right,
                position,
            } => self.compare(*op, left, right, *position, e)?,
            Expr::Match {
                op,
                negated,
                left,
                right,
                position,
            } => {
                let test = self.matching(*op, left, right, *position, e)?;
                if *negated {
                    negate(test)
                } else {
                    test
                }
            }
            Expr::Call {
                name,
                insensitive,
                args,
                position,
            } => self.call(name, *insensitive, args, *position, e)?,
        })
    }

    /// `e` as a script, or its constant value when it reads no field.
    fn script(&mut self, e: &Expr) -> Result<Filter, RuleError> {
        let mut slots = Vec::new();
        let (expr, ty) = self.scalar(e, &mut slots)?;
        if !ty.may_be_bool() {
            return Err(RuleError::at(
                e.position(),
                "a condition must be true or false, not a value",
            ));
        }
        if slots.len() > MAX_SCRIPT_FIELDS {
            return Err(RuleError::at(
                e.position(),
                format!(
                    "a condition computed from fields reads at most {MAX_SCRIPT_FIELDS} of them"
                ),
            ));
        }
        Ok(match expr {
            crate::plan::Scalar::Const(v) => Filter::Const(v.is_true()),
            expr => Filter::Script(Box::new(Script {
                negated: false,
                expr,
                slots,
            })),
        })
    }

    fn compare(
        &mut self,
        op: CompareOp,
        left: &Expr,
        right: &Expr,
        position: Position,
        whole: &Expr,
    ) -> Result<Filter, RuleError> {
        // The optimizer puts the constant on the right: `1 < x` is `x > 1`.
        let (left, right, op) = if is_foldable(left) && !is_foldable(right) {
            (right, left, op.flip())
        } else {
            (left, right, op)
        };
        if !is_foldable(right) {
            return Err(RuleError::at(
                right.position(),
                "comparisons against fields are not supported by Elasticsearch's EQL: compare a field with a value",
            ));
        }
        let Expr::Field(field) = left else {
            return self.script(whole);
        };
        let id = match self.resolve(field)? {
            Resolved::Field(id) => id,
            // `?unknown` is null: every comparison with it is null, so false,
            // but `== null` holds.
            Resolved::Null => {
                let value = self.constant(right)?;
                return Ok(Filter::Const(value.is_null() && op == CompareOp::Eq));
            }
        };
        let value = self.constant(right)?;
        if value.is_null() {
            let leaf = Filter::Leaf(id, Test::IsNull);
            return match op {
                CompareOp::Eq => Ok(leaf),
                CompareOp::NotEq => Ok(Filter::Not(Box::new(leaf))),
                _ => Ok(Filter::Const(false)),
            };
        }
        let (ordering, negated) = match op {
            CompareOp::Eq => (Ordering::Eq, false),
            CompareOp::NotEq => (Ordering::Eq, true),
            CompareOp::Lt => (Ordering::Lt, false),
            CompareOp::LtEq => (Ordering::LtEq, false),
            CompareOp::Gt => (Ordering::Gt, false),
            CompareOp::GtEq => (Ordering::GtEq, false),
        };
        let test = self.compare_test(field, id, ordering, &value, position)?;
        let leaf = Filter::Leaf(id, test);
        Ok(if negated {
            Filter::Not(Box::new(leaf))
        } else {
            leaf
        })
    }

    /// The Lucene query for `field <ordering> value`.
    fn compare_test(
        &self,
        field: &Field,
        id: FieldId,
        ordering: Ordering,
        value: &Value<'_>,
        position: Position,
    ) -> Result<Test, RuleError> {
        let ty = self.type_of(id);
        let kind = self.kind_of(id);
        Ok(match (value, ty) {
            (Value::Str(s), FieldType::Ip) if ordering == Ordering::Eq => {
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
                Value::Long(_) | Value::Double(_) | Value::Str(_),
                FieldType::Number | FieldType::Date,
            ) => Test::Number {
                op: ordering,
                value: number_for(value, ty, position)?,
            },
            (Value::Bool(b), FieldType::Keyword) if ordering == Ordering::Eq => Test::Strings {
                patterns: alloc::vec![Pattern::Exact(b.to_string())],
                insensitive: false,
            },
            (Value::Str(s), FieldType::Keyword) if kind == ValueKind::Bool => {
                // A boolean field reads "true"/"false" as booleans.
                Test::Strings {
                    patterns: alloc::vec![Pattern::Exact(s.to_string())],
                    insensitive: false,
                }
            }
            (Value::Str(_) | Value::Long(_) | Value::Double(_), FieldType::Keyword) => {
                let text = value.render().unwrap_or_default();
                let text = match value {
                    // A keyword term query takes a number's own text: `42`, not `42.0`.
                    Value::Double(d) if d.abs() < 1e15 && (*d as i64) as f64 == *d => {
                        format!("{}", *d as i64)
                    }
                    _ => text,
                };
                if ordering == Ordering::Eq {
                    Test::Strings {
                        patterns: alloc::vec![Pattern::literal(LiteralKind::Exact, &text, false)],
                        insensitive: false,
                    }
                } else if kind == ValueKind::Version {
                    // A range query on a `version` field encodes its bound
                    // as the field's values are indexed.
                    Test::VersionOrder {
                        op: ordering,
                        key: version_key(&text),
                        value: text,
                    }
                } else {
                    Test::StringOrder {
                        op: ordering,
                        value: text,
                    }
                }
            }
            _ => {
                return Err(RuleError::at(
                    position,
                    format!("cannot compare `{}` with this value", field.path),
                ))
            }
        })
    }

    fn matching(
        &mut self,
        op: MatchOp,
        left: &Expr,
        right: &[Expr],
        position: Position,
        whole: &Expr,
    ) -> Result<Filter, RuleError> {
        let all_constant = right.iter().all(is_foldable);
        let Expr::Field(field) = left else {
            return self.script(&without_negation(whole));
        };
        if !all_constant {
            return self.script(&without_negation(whole));
        }
        let id = match self.resolve(field)? {
            Resolved::Field(id) => id,
            Resolved::Null => return Ok(Filter::Const(false)),
        };
        let ty = self.type_of(id);
        let mut has_null = false;
        let mut values = Vec::new();
        for e in right {
            match self.constant(e)? {
                Value::Null => has_null = true,
                v => values.push((v, e.position())),
            }
        }
        let insensitive = op.is_insensitive();
        let test = match (op, ty) {
            (MatchOp::Regex | MatchOp::RegexInsensitive, FieldType::Keyword) => {
                let mut regexps = Vec::new();
                for (v, p) in &values {
                    regexps.push(regexp(&text_of(v, *p)?, insensitive, *p)?);
                }
                Test::Regex(regexps)
            }
            (_, FieldType::Keyword) => {
                let wildcards = matches!(
                    op,
                    MatchOp::Like | MatchOp::LikeInsensitive | MatchOp::Colon
                );
                let mut patterns = Vec::new();
                for (v, p) in &values {
                    let text = text_of(v, *p)?;
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
            (MatchOp::In | MatchOp::InInsensitive | MatchOp::Colon, FieldType::Ip) => {
                let mut nets = Vec::new();
                for (v, p) in &values {
                    let text = text_of(v, *p)?;
                    // `:` on an ip field is a term query, which takes a CIDR.
                    let net = if op == MatchOp::Colon {
                        parse_network(&text)
                    } else {
                        parse_ip(&text).map(Into::into)
                    };
                    nets.push(net.ok_or_else(|| {
                        RuleError::at(*p, format!("{text:?} is not an IP address"))
                    })?);
                }
                Test::Ip(nets)
            }
            (
                MatchOp::In | MatchOp::InInsensitive | MatchOp::Colon,
                FieldType::Number | FieldType::Date,
            ) => {
                let mut any = Vec::new();
                for (v, p) in &values {
                    any.push(Filter::Leaf(
                        id,
                        Test::Number {
                            op: Ordering::Eq,
                            value: number_for(v, ty, *p)?,
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
                        "`{}` does not apply to `{}`, {}",
                        op.symbol(),
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

    /// A function as a condition: the string tests and `cidrMatch` on a
    /// field with constant arguments are queries; the rest are scripts.
    fn call(
        &mut self,
        name: &str,
        insensitive: bool,
        args: &[Expr],
        position: Position,
        whole: &Expr,
    ) -> Result<Filter, RuleError> {
        // Elasticsearch's function names are case-insensitive (P12).
        let lower = name.to_ascii_lowercase();
        let kind = match lower.as_str() {
            "cidrmatch" => None,
            "startswith" => Some(LiteralKind::Prefix),
            "endswith" => Some(LiteralKind::Suffix),
            "stringcontains" => Some(LiteralKind::Contains),
            "wildcard" => Some(LiteralKind::Exact), // patterns, see below
            _ => return self.script(whole),
        };
        let rest_constant = args.len() >= 2 && args[1..].iter().all(is_foldable);
        let Some(Expr::Field(field)) = args.first().filter(|_| rest_constant) else {
            if lower == "wildcard" {
                return Err(RuleError::at(
                    position,
                    "`wildcard` takes a field and string values",
                ));
            }
            return self.script(whole);
        };
        let mut texts = Vec::new();
        for a in &args[1..] {
            match self.constant(a)? {
                Value::Str(s) => texts.push((s.into_owned(), a.position())),
                // `startsWith(x, null)` is null, and so false.
                Value::Null if lower != "cidrmatch" => return Ok(Filter::Const(false)),
                _ => {
                    return Err(RuleError::at(
                        a.position(),
                        format!("`{name}` takes string values after the field"),
                    ))
                }
            }
        }
        let id = match self.resolve(field)? {
            Resolved::Field(id) => id,
            Resolved::Null => return Ok(Filter::Const(false)),
        };
        if kind.is_none() {
            if insensitive {
                return Err(RuleError::at(
                    position,
                    "`cidrMatch~` does not exist: cidrMatch has no case",
                ));
            }
            if self.type_of(id) != FieldType::Ip {
                return Err(RuleError::at(
                    field.position,
                    format!(
                        "`cidrMatch` needs an ip field; `{}` is {}",
                        field.path,
                        self.type_of(id).name()
                    ),
                ));
            }
            let mut nets = Vec::new();
            for (t, p) in texts {
                nets.push(parse_network(&t).ok_or_else(|| {
                    RuleError::at(p, format!("{t:?} is not a CIDR or an IP address"))
                })?);
            }
            return Ok(Filter::Leaf(id, Test::Ip(nets)));
        }
        if self.type_of(id) != FieldType::Keyword {
            return Err(RuleError::at(
                field.position,
                format!(
                    "`{name}` needs a string field; `{}` is {}",
                    field.path,
                    self.type_of(id).name()
                ),
            ));
        }
        let is_wildcard = lower == "wildcard";
        if !is_wildcard && texts.len() != 1 {
            return Err(RuleError::at(
                position,
                format!("`{name}` takes two arguments"),
            ));
        }
        // Elasticsearch: an empty substring is contained nowhere.
        if lower == "stringcontains" && texts[0].0.is_empty() {
            return Ok(Filter::Const(false));
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

    /// The value of an expression that reads no field.
    pub(super) fn constant(&mut self, e: &Expr) -> Result<Value<'static>, RuleError> {
        let mut slots = Vec::new();
        match self.scalar(e, &mut slots)? {
            (crate::plan::Scalar::Const(v), _) => Ok(v),
            _ => Err(RuleError::at(e.position(), "expected a constant value")),
        }
    }
}

/// Does the expression read no field (so Elasticsearch folds it)?
pub(super) fn is_foldable(e: &Expr) -> bool {
    match e {
        Expr::Literal(..) => true,
        Expr::Field(_) => false,
        Expr::Not(inner, _) | Expr::Neg(inner, _) => is_foldable(inner),
        Expr::And(all) | Expr::Or(all) => all.iter().all(is_foldable),
        Expr::Compare { left, right, .. } | Expr::Arith { left, right, .. } => {
            is_foldable(left) && is_foldable(right)
        }
        Expr::Match { left, right, .. } => is_foldable(left) && right.iter().all(is_foldable),
        Expr::Call { args, .. } => args.iter().all(is_foldable),
    }
}

/// `not` pushed down as Elasticsearch's optimizer does: through `and` and
/// `or`, into comparisons (flipped), cancelling twice.
fn push_not(e: &Expr, negate: bool) -> Expr {
    match e {
        Expr::And(all) if negate => Expr::Or(all.iter().map(|e| push_not(e, true)).collect()),
        Expr::Or(any) if negate => Expr::And(any.iter().map(|e| push_not(e, true)).collect()),
        Expr::And(all) => Expr::And(all.iter().map(|e| push_not(e, false)).collect()),
        Expr::Or(any) => Expr::Or(any.iter().map(|e| push_not(e, false)).collect()),
        Expr::Not(inner, _) => push_not(inner, !negate),
        Expr::Literal(Literal::Bool(b), p) if negate => Expr::Literal(Literal::Bool(!b), *p),
        Expr::Compare {
            op,
            left,
            right,
            position,
        } if negate => Expr::Compare {
            op: op.negate(),
            left: left.clone(),
            right: right.clone(),
            position: *position,
        },
        other if negate => Expr::Not(Box::new(other.clone()), other.position()),
        other => other.clone(),
    }
}

/// `not` of a translated filter: a script negates its own search (as
/// Elasticsearch hoists `not` out of a script), a query becomes `must_not`.
fn negate(filter: Filter) -> Filter {
    match filter {
        Filter::Const(b) => Filter::Const(!b),
        Filter::Script(mut s) => {
            s.negated = !s.negated;
            Filter::Script(s)
        }
        Filter::Not(inner) => *inner,
        other => Filter::Not(Box::new(other)),
    }
}

/// A match expression without its `not`, which [`negate`] applies.
fn without_negation(e: &Expr) -> Expr {
    match e {
        Expr::Match {
            op,
            left,
            right,
            position,
            ..
        } => Expr::Match {
            op: *op,
            negated: false,
            left: left.clone(),
            right: right.clone(),
            position: *position,
        },
        other => other.clone(),
    }
}

fn text_of(v: &Value<'_>, p: Position) -> Result<String, RuleError> {
    match v {
        Value::Str(s) => Ok(s.to_string()),
        Value::Long(_) | Value::Double(_) | Value::Bool(_) => Ok(v.render().unwrap_or_default()),
        _ => Err(RuleError::at(p, "expected a string")),
    }
}

pub(super) fn regexp(pattern: &str, insensitive: bool, p: Position) -> Result<Regexp, RuleError> {
    Regexp::new(pattern, insensitive).map_err(|e| {
        RuleError::at(
            Position {
                line: p.line,
                // The opening quote, then the offending character.
                column: p.column
                    + 1
                    + pattern[..e.offset.min(pattern.len())].chars().count() as u32,
            },
            format!("bad regular expression: {e}"),
        )
    })
}

/// A constant as the number a numeric or date field compares with: dates
/// take RFC 3339 text or epoch milliseconds, as Elasticsearch's default
/// date format does.
fn number_for(v: &Value<'_>, ty: FieldType, p: Position) -> Result<f64, RuleError> {
    match v {
        Value::Long(i) => Ok(*i as f64),
        Value::Double(d) => Ok(*d),
        Value::Str(s) if ty == FieldType::Date => parse_rfc3339_ms(s)
            .or_else(|| s.trim().parse::<i64>().ok())
            .map(|ms| ms as f64)
            .ok_or_else(|| RuleError::at(p, format!("{s:?} is not a date"))),
        Value::Str(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| RuleError::at(p, format!("{s:?} is not a number"))),
        _ => Err(RuleError::at(p, "expected a number")),
    }
}
