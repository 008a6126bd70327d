//! Runs a stage's [`Filter`] on a decoded event.

use alloc::borrow::Cow;

use crate::decode::Decoded;
use crate::pattern::fold;
use crate::plan::{Filter, Test, ValueRef};

/// Is the filter true for this event?
pub fn matches(filter: &Filter, event: &Decoded, input: &str) -> bool {
    match filter {
        Filter::Const(b) => *b,
        Filter::And(all) => all.iter().all(|f| matches(f, event, input)),
        Filter::Or(any) => any.iter().any(|f| matches(f, event, input)),
        Filter::Not(inner) => !matches(inner, event, input),
        Filter::Leaf(field, Test::IsNull) => !event.has_values(*field),
        Filter::Leaf(field, test) => event.values(input, *field).any(|v| test_value(test, v)),
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
