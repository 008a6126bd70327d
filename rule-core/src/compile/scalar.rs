//! Value expressions for scripts: fields, constants, operators and EQL
//! functions, each checked for arity and argument types as Elasticsearch's
//! verifier checks them, and folded to a constant when no field is read.

use alloc::borrow::Cow;
use alloc::format;
use alloc::vec::Vec;

use super::condition::{is_foldable, regexp};
use super::{is_arithmetic_function, Compiler, Resolved};
use crate::error::{Position, RuleError};
use crate::functions::apply;
use crate::ip::parse_network;
use crate::pattern::Pattern;
use crate::plan::{CompareOp, FieldId, Func, Scalar, ValueKind};
use crate::syntax::ast::{Expr, Literal, MatchOp};
use crate::value::Value;

/// What a value expression gives, as far as the compiler knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ty {
    Null,
    Bool,
    Integer,
    Float,
    /// A number of either kind (an unmapped numeric field).
    Number,
    String,
    Ip,
    Date,
}

impl Ty {
    pub(super) fn may_be_bool(self) -> bool {
        matches!(self, Ty::Bool | Ty::Null)
    }

    fn is_numeric(self) -> bool {
        matches!(
            self,
            Ty::Integer | Ty::Float | Ty::Number | Ty::Null | Ty::Date
        )
    }

    fn is_string(self) -> bool {
        matches!(self, Ty::String | Ty::Null)
    }

    fn name(self) -> &'static str {
        match self {
            Ty::Null => "null",
            Ty::Bool => "a boolean",
            Ty::Integer => "an integer",
            Ty::Float => "a float",
            Ty::Number => "a number",
            Ty::String => "a string",
            Ty::Ip => "an IP address",
            Ty::Date => "a date",
        }
    }

    fn of(kind: ValueKind) -> Ty {
        match kind {
            ValueKind::Keyword | ValueKind::Version => Ty::String,
            ValueKind::Long => Ty::Integer,
            ValueKind::Double => Ty::Float,
            ValueKind::Number => Ty::Number,
            ValueKind::Bool => Ty::Bool,
            ValueKind::Ip => Ty::Ip,
            ValueKind::Date => Ty::Date,
        }
    }
}

fn arith_result(a: Ty, b: Ty) -> Ty {
    match (a, b) {
        (Ty::Null, _) | (_, Ty::Null) => Ty::Null,
        (Ty::Integer | Ty::Date, Ty::Integer | Ty::Date) => Ty::Integer,
        (Ty::Float, _) | (_, Ty::Float) => Ty::Float,
        _ => Ty::Number,
    }
}

impl Compiler<'_> {
    /// Compiles a value expression; the fields it reads are appended to
    /// `slots`, one slot per occurrence (as Elasticsearch gives each
    /// occurrence its own variable).
    pub(super) fn scalar(
        &mut self,
        e: &Expr,
        slots: &mut Vec<FieldId>,
    ) -> Result<(Scalar, Ty), RuleError> {
        let (scalar, ty) = match e {
            Expr::Literal(l, _) => {
                let (v, ty) = match l {
                    Literal::String(s) => (Value::Str(Cow::Owned(s.clone())), Ty::String),
                    Literal::Integer(i) => (Value::Long(*i), Ty::Integer),
                    Literal::Float(f) => (Value::Double(*f), Ty::Float),
                    Literal::Bool(b) => (Value::Bool(*b), Ty::Bool),
                    Literal::Null => (Value::Null, Ty::Null),
                };
                return Ok((Scalar::Const(v), ty));
            }
            Expr::Field(f) => {
                return match self.resolve(f)? {
                    Resolved::Null => Ok((Scalar::Const(Value::Null), Ty::Null)),
                    Resolved::Field(id) => {
                        let slot = u8::try_from(slots.len()).map_err(|_| {
                            RuleError::at(f.position, "too many field reads in one condition")
                        })?;
                        slots.push(id);
                        Ok((Scalar::Slot(slot), Ty::of(self.kind_of(id))))
                    }
                };
            }
            Expr::Neg(inner, p) => {
                let (s, ty) = self.scalar(inner, slots)?;
                expect(ty.is_numeric(), *p, "`-`", "a number", ty)?;
                (Scalar::Call(Func::Neg, alloc::vec![s]), ty)
            }
            Expr::Arith {
                op,
                left,
                right,
                position,
            } => {
                let (l, lt) = self.scalar(left, slots)?;
                let (r, rt) = self.scalar(right, slots)?;
                expect(
                    lt.is_numeric(),
                    left.position(),
                    op.symbol(),
                    "a number",
                    lt,
                )?;
                expect(
                    rt.is_numeric(),
                    right.position(),
                    op.symbol(),
                    "a number",
                    rt,
                )?;
                let _ = position;
                (
                    Scalar::Call(Func::Arith(*op), alloc::vec![l, r]),
                    arith_result(lt, rt),
                )
            }
            Expr::Compare {
                op, left, right, ..
            } => {
                let (l, _) = self.scalar(left, slots)?;
                let (r, _) = self.scalar(right, slots)?;
                // EQL: `x == null` (either way round) is `x is null`, whatever `x` is.
                let null_side = match (&l, &r) {
                    (_, Scalar::Const(Value::Null)) => Some(l.clone()),
                    (Scalar::Const(Value::Null), _) => Some(r.clone()),
                    _ => None,
                };
                let (func, args) = match (op, null_side) {
                    (CompareOp::Eq, Some(value)) => (Func::IsNull, alloc::vec![value]),
                    (CompareOp::NotEq, Some(value)) => (Func::IsNotNull, alloc::vec![value]),
                    _ => (Func::Compare(*op), alloc::vec![l, r]),
                };
                (Scalar::Call(func, args), Ty::Bool)
            }
            Expr::Not(inner, _) => {
                let (s, _) = self.scalar(inner, slots)?;
                (Scalar::Call(Func::Not, alloc::vec![s]), Ty::Bool)
            }
            // n-ary, so a long chain stays one level deep.
            Expr::And(all) | Expr::Or(all) => {
                let func = match e {
                    Expr::And(_) => Func::And,
                    _ => Func::Or,
                };
                let mut args = Vec::with_capacity(all.len());
                for item in all {
                    args.push(self.scalar(item, slots)?.0);
                }
                (Scalar::Call(func, args), Ty::Bool)
            }
            Expr::Match {
                op,
                negated,
                left,
                right,
                position,
            } => {
                let s = self.match_scalar(*op, left, right, *position, slots)?;
                let s = if *negated {
                    fold(Scalar::Call(Func::Not, alloc::vec![s]), *position)?
                } else {
                    s
                };
                (s, Ty::Bool)
            }
            Expr::Call {
                name,
                insensitive,
                args,
                position,
            } => self.function(name, *insensitive, args, *position, slots)?,
        };
        Ok((fold(scalar, e.position())?, ty))
    }

    fn match_scalar(
        &mut self,
        op: MatchOp,
        left: &Expr,
        right: &[Expr],
        position: Position,
        slots: &mut Vec<FieldId>,
    ) -> Result<Scalar, RuleError> {
        let (l, lt) = self.scalar(left, slots)?;
        let insensitive = op.is_insensitive();
        match op {
            MatchOp::In | MatchOp::InInsensitive => {
                let mut args = alloc::vec![l];
                for item in right {
                    args.push(self.scalar(item, slots)?.0);
                }
                Ok(Scalar::Call(Func::In { insensitive }, args))
            }
            _ => {
                expect(lt.is_string(), left.position(), op.symbol(), "a string", lt)?;
                let mut texts = Vec::new();
                for item in right {
                    match self.constant(item)? {
                        Value::Str(s) => texts.push((s.into_owned(), item.position())),
                        _ => {
                            return Err(RuleError::at(
                                item.position(),
                                format!("`{}` takes string patterns", op.symbol()),
                            ))
                        }
                    }
                }
                let func = if matches!(op, MatchOp::Regex | MatchOp::RegexInsensitive) {
                    let mut regexps = Vec::new();
                    for (t, p) in &texts {
                        regexps.push(regexp(t, insensitive, *p)?);
                    }
                    Func::Regex(regexps)
                } else {
                    Func::Like {
                        patterns: texts
                            .iter()
                            .map(|(t, _)| Pattern::wildcard(t, insensitive))
                            .collect(),
                        insensitive,
                    }
                };
                let _ = position;
                Ok(Scalar::Call(func, alloc::vec![l]))
            }
        }
    }

    fn function(
        &mut self,
        name: &str,
        insensitive: bool,
        args: &[Expr],
        position: Position,
        slots: &mut Vec<FieldId>,
    ) -> Result<(Scalar, Ty), RuleError> {
        let lower = name.to_ascii_lowercase();
        let takes_tilde = matches!(
            lower.as_str(),
            "between" | "endswith" | "indexof" | "startswith" | "stringcontains"
        );
        if insensitive && !takes_tilde {
            return Err(RuleError::at(
                position,
                format!("`{name}~` does not exist: `{name}` has no case-insensitive form"),
            ));
        }
        let arity = |min: usize, max: usize| -> Result<(), RuleError> {
            if (min..=max).contains(&args.len()) {
                Ok(())
            } else if min == max {
                Err(RuleError::at(
                    position,
                    format!("`{name}` takes {min} arguments"),
                ))
            } else {
                Err(RuleError::at(
                    position,
                    format!("`{name}` takes {min} to {max} arguments"),
                ))
            }
        };
        let mut compiled = Vec::with_capacity(args.len());
        let mut types = Vec::with_capacity(args.len());
        // cidrMatch's blocks are constants, compiled into the function.
        let value_args = if lower == "cidrmatch" {
            &args[..1.min(args.len())]
        } else {
            args
        };
        for a in value_args {
            let (s, t) = self.scalar(a, slots)?;
            compiled.push(s);
            types.push(t);
        }
        let arg_is = |i: usize, ok: fn(Ty) -> bool, what: &str| -> Result<(), RuleError> {
            match types.get(i) {
                Some(&t) if !ok(t) => Err(RuleError::at(
                    args[i].position(),
                    format!(
                        "argument {} of `{name}` must be {what}, not {}",
                        i + 1,
                        t.name()
                    ),
                )),
                _ => Ok(()),
            }
        };
        let string = |t: Ty| t.is_string();
        let numeric = |t: Ty| t.is_numeric();
        let integer = |t: Ty| matches!(t, Ty::Integer | Ty::Number | Ty::Null);
        let (func, ty) = if let Some(op) = is_arithmetic_function(&lower) {
            arity(2, 2)?;
            arg_is(0, numeric, "a number")?;
            arg_is(1, numeric, "a number")?;
            (Func::Arith(op), arith_result(types[0], types[1]))
        } else {
            match lower.as_str() {
                "between" => {
                    arity(3, 4)?;
                    for i in 0..3 {
                        arg_is(i, string, "a string")?;
                    }
                    if args.len() == 4 && !is_foldable(&args[3]) {
                        return Err(RuleError::at(
                            args[3].position(),
                            "`between`'s greedy flag must be true or false",
                        ));
                    }
                    arg_is(3, |t| matches!(t, Ty::Bool), "true or false")?;
                    (Func::Between { insensitive }, Ty::String)
                }
                "cidrmatch" => {
                    if args.len() < 2 {
                        return Err(RuleError::at(
                            position,
                            "`cidrMatch` takes an address and one or more CIDR blocks",
                        ));
                    }
                    arg_is(
                        0,
                        |t| matches!(t, Ty::Ip | Ty::String | Ty::Null),
                        "an IP address",
                    )?;
                    let mut nets = Vec::new();
                    for a in &args[1..] {
                        let text = match self.constant(a)? {
                            Value::Str(s) => s.into_owned(),
                            Value::Null => return Ok((Scalar::Const(Value::Null), Ty::Null)),
                            _ => {
                                return Err(RuleError::at(a.position(), "a CIDR block is a string"))
                            }
                        };
                        nets.push(parse_network(&text).ok_or_else(|| {
                            RuleError::at(
                                a.position(),
                                format!("{text:?} is not a CIDR or an IP address"),
                            )
                        })?);
                    }
                    (Func::CidrMatch(nets), Ty::Bool)
                }
                "concat" => {
                    if args.is_empty() {
                        return Err(RuleError::at(position, "`concat` takes one or more values"));
                    }
                    (Func::Concat, Ty::String)
                }
                "endswith" | "startswith" | "stringcontains" => {
                    arity(2, 2)?;
                    arg_is(0, string, "a string")?;
                    arg_is(1, string, "a string")?;
                    let func = match lower.as_str() {
                        "endswith" => Func::EndsWith { insensitive },
                        "startswith" => Func::StartsWith { insensitive },
                        _ => Func::StringContains { insensitive },
                    };
                    (func, Ty::Bool)
                }
                "indexof" => {
                    arity(2, 3)?;
                    arg_is(0, string, "a string")?;
                    arg_is(1, string, "a string")?;
                    arg_is(2, integer, "an integer")?;
                    (Func::IndexOf { insensitive }, Ty::Integer)
                }
                "length" => {
                    arity(1, 1)?;
                    arg_is(0, string, "a string")?;
                    (Func::Length, Ty::Integer)
                }
                "number" => {
                    arity(1, 2)?;
                    arg_is(0, string, "a string")?;
                    if args.len() == 2 && !is_foldable(&args[1]) {
                        return Err(RuleError::at(
                            args[1].position(),
                            "`number`'s base must be a constant",
                        ));
                    }
                    arg_is(1, integer, "an integer")?;
                    (Func::Number, Ty::Number)
                }
                "string" => {
                    arity(1, 1)?;
                    (Func::String, Ty::String)
                }
                "substring" => {
                    arity(2, 3)?;
                    arg_is(0, string, "a string")?;
                    arg_is(1, integer, "an integer")?;
                    arg_is(2, integer, "an integer")?;
                    (Func::Substring, Ty::String)
                }
                "wildcard" => {
                    return Err(RuleError::at(
                        position,
                        "`wildcard` takes a field and patterns, as a condition of its own",
                    ))
                }
                _ => {
                    return Err(RuleError::at(
                        position,
                        format!("unknown function `{name}`"),
                    ))
                }
            }
        };
        Ok((Scalar::Call(func, compiled), ty))
    }
}

fn expect(ok: bool, p: Position, op: &str, what: &str, got: Ty) -> Result<(), RuleError> {
    if ok {
        Ok(())
    } else {
        Err(RuleError::at(
            p,
            format!("`{op}` needs {what}, not {}", got.name()),
        ))
    }
}

/// Evaluates a call whose arguments are all constants, as Elasticsearch's
/// optimizer folds them; an error there is the rule's error.
fn fold(s: Scalar, p: Position) -> Result<Scalar, RuleError> {
    let Scalar::Call(func, args) = &s else {
        return Ok(s);
    };
    let mut values = Vec::with_capacity(args.len());
    for a in args {
        match a {
            Scalar::Const(v) => values.push(v.borrowed()),
            _ => return Ok(s),
        }
    }
    match apply(func, &values) {
        Ok(v) => Ok(Scalar::Const(v.into_owned())),
        Err(e) => Err(RuleError::at(p, format!("cannot be computed: {e}"))),
    }
}
