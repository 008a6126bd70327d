//! Runs a stage's [`Filter`] on a decoded event.
//!
//! Query leaves test the field's values one by one (true when any passes).
//! Scripts run as Elasticsearch runs them over doc values: each field
//! occurrence ranges over the field's values (a missing field is one
//! `null`), and the script holds when some combination makes it true.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use crate::decode::Decoded;
use crate::functions::apply;
use crate::pattern::fold;
use crate::plan::{Filter, Scalar, Script, Test, ValueKind, ValueRef};
use crate::value::{ScriptResult, Value};
use crate::version::version_key;

/// Combinations of field values one script tries on one event; past this
/// the script is false for the event and the event is counted.
pub const MAX_SCRIPT_COMBINATIONS: usize = 4096;

/// What evaluating filters noticed, for [`crate::Stats`].
#[derive(Debug, Default, Clone, Copy)]
pub struct EvalCounts {
    /// Scripts that failed on a value (overflow, division by zero, ...).
    pub script_errors: u64,
    /// Scripts cut at [`MAX_SCRIPT_COMBINATIONS`].
    pub script_truncated: u64,
}

/// Is the filter true for this event?
pub fn matches(
    filter: &Filter,
    event: &Decoded,
    input: &str,
    kinds: &[ValueKind],
    counts: &mut EvalCounts,
) -> bool {
    match filter {
        Filter::Const(b) => *b,
        Filter::And(all) => all.iter().all(|f| matches(f, event, input, kinds, counts)),
        Filter::Or(any) => any.iter().any(|f| matches(f, event, input, kinds, counts)),
        Filter::Not(inner) => !matches(inner, event, input, kinds, counts),
        Filter::Leaf(field, Test::IsNull) => !event.has_values(*field),
        Filter::Leaf(field, test) => event.values(input, *field).any(|v| test_value(test, v)),
        Filter::Script(script) => run_script(script, event, input, kinds, counts),
    }
}

/// One value against one test. A value of the wrong kind never matches.
pub fn test_value(test: &Test, value: ValueRef<'_>) -> bool {
    match (test, value) {
        (Test::IsNull, _) => false,
        (
            Test::Strings {
                patterns,
                insensitive,
            },
            ValueRef::Str(s),
        ) => {
            let s = if *insensitive {
                folded(s)
            } else {
                Cow::Borrowed(s)
            };
            patterns.iter().any(|p| p.matches(&s))
        }
        (Test::Ip(nets), ValueRef::Ip(ip)) => nets.iter().any(|n| n.contains(&ip)),
        (Test::Number { op, value }, ValueRef::Number(n)) => {
            n.partial_cmp(value).is_some_and(|ord| op.holds(ord))
        }
        (Test::StringOrder { op, value }, ValueRef::Str(s)) => {
            op.holds(s.as_bytes().cmp(value.as_bytes()))
        }
        (Test::VersionOrder { op, key, .. }, ValueRef::Str(s)) => {
            op.holds(version_key(s).as_slice().cmp(key.as_slice()))
        }
        (Test::Regex(regexps), ValueRef::Str(s)) => regexps.iter().any(|r| r.is_match(s)),
        _ => false,
    }
}

fn folded(s: &str) -> Cow<'_, str> {
    if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(fold(s))
    }
}

/// A decoded value as a script sees the field's doc values.
pub fn script_value<'a>(v: ValueRef<'a>, kind: ValueKind) -> Value<'a> {
    match (v, kind) {
        (ValueRef::Str(s), ValueKind::Bool) => match s {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            other => Value::Str(Cow::Borrowed(other)),
        },
        (ValueRef::Str(s), _) => Value::Str(Cow::Borrowed(s)),
        (ValueRef::Ip(ip), _) => Value::Ip(ip),
        (ValueRef::Number(n), ValueKind::Double) => Value::Double(n),
        (ValueRef::Number(n), ValueKind::Long | ValueKind::Date) => Value::Long(n as i64),
        (ValueRef::Number(n), _) => {
            if n.abs() < 9.007_199_254_740_992e15 && (n as i64) as f64 == n {
                Value::Long(n as i64)
            } else {
                Value::Double(n)
            }
        }
    }
}

fn run_script(
    script: &Script,
    event: &Decoded,
    input: &str,
    kinds: &[ValueKind],
    counts: &mut EvalCounts,
) -> bool {
    let columns: Vec<Vec<Value<'_>>> = script
        .slots
        .iter()
        .map(|&f| {
            let kind = kinds
                .get(usize::from(f))
                .copied()
                .unwrap_or(ValueKind::Keyword);
            let values: Vec<Value<'_>> = event
                .values(input, f)
                .map(|v| script_value(v, kind))
                .collect();
            if values.is_empty() {
                alloc::vec![Value::Null]
            } else {
                values
            }
        })
        .collect();
    let mut cursor = alloc::vec![0usize; columns.len()];
    let mut row: Vec<Value<'_>> = columns.iter().map(|c| c[0].clone()).collect();
    let mut tried = 0usize;
    let found = loop {
        tried += 1;
        match eval_scalar(&script.expr, &row) {
            Ok(v) if v.is_true() => break true,
            Ok(_) => {}
            Err(_) => counts.script_errors += 1,
        }
        if tried >= MAX_SCRIPT_COMBINATIONS {
            counts.script_truncated += 1;
            break false;
        }
        // Next combination, odometer style; done when every column wrapped.
        let mut i = 0;
        loop {
            if i == columns.len() {
                break;
            }
            cursor[i] += 1;
            if cursor[i] < columns[i].len() {
                row[i] = columns[i][cursor[i]].clone();
                break;
            }
            cursor[i] = 0;
            row[i] = columns[i][0].clone();
            i += 1;
        }
        if i == columns.len() {
            break false;
        }
    };
    found != script.negated
}

/// A scalar expression with the slots bound to `row`.
pub fn eval_scalar<'a>(expr: &'a Scalar, row: &[Value<'a>]) -> ScriptResult<'a> {
    match expr {
        Scalar::Const(v) => Ok(v.borrowed()),
        Scalar::Slot(i) => Ok(row.get(usize::from(*i)).cloned().unwrap_or(Value::Null)),
        Scalar::Call(func, args) => {
            let mut values = Vec::with_capacity(args.len());
            for a in args {
                values.push(eval_scalar(a, row)?);
            }
            apply(func, &values)
        }
    }
}
