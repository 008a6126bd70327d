//! Elasticsearch's EQL functions on script values (the function reference:
//! `between`, `cidrMatch`, `concat`, `endsWith`, `indexOf`, `length`,
//! `number`, `startsWith`, `string`, `stringContains`, `substring`, the
//! arithmetic ones, and the `in`/`like`/`regex` operators when they run in
//! a script). Pure: values in, a value out; `null` in gives `null` out.
//!
//! Positions and lengths count UTF-16 code units, as Java strings do, so
//! `length("é")` is 1 and `substring` cuts where Elasticsearch cuts.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use crate::pattern::fold;
use crate::plan::Func;
use crate::value::{
    and, arithmetic, compare, compare_op, negate, not, or, ScriptError, ScriptResult, Value,
};

/// Applies `func` to evaluated arguments.
pub fn apply<'a>(func: &Func, args: &[Value<'a>]) -> ScriptResult<'a> {
    let arg = |i: usize| args.get(i).unwrap_or(&Value::Null);
    match func {
        Func::Arith(op) => arithmetic(*op, arg(0), arg(1)),
        Func::Neg => negate(arg(0)),
        Func::Compare(op) => Ok(compare_op(*op, arg(0), arg(1))),
        Func::And => Ok(args.iter().fold(Value::Bool(true), |acc, v| and(&acc, v))),
        Func::Or => Ok(args.iter().fold(Value::Bool(false), |acc, v| or(&acc, v))),
        Func::Not => Ok(not(arg(0))),
        Func::IsNull => Ok(Value::Bool(arg(0).is_null())),
        Func::IsNotNull => Ok(Value::Bool(!arg(0).is_null())),
        Func::In { insensitive } => Ok(in_list(arg(0), &args[1.min(args.len())..], *insensitive)),
        Func::Like {
            patterns,
            insensitive,
        } => Ok(match arg(0) {
            Value::Str(s) => {
                let s = fold_if(s, *insensitive);
                Value::Bool(patterns.iter().any(|p| p.matches(&s)))
            }
            Value::Null => Value::Null,
            _ => Value::Bool(false),
        }),
        Func::Regex(regexps) => Ok(match arg(0) {
            Value::Str(s) => Value::Bool(regexps.iter().any(|r| r.is_match(s))),
            Value::Null => Value::Null,
            _ => Value::Bool(false),
        }),
        Func::CidrMatch(nets) => Ok(match arg(0) {
            Value::Ip(ip) => Value::Bool(nets.iter().any(|n| n.contains(ip))),
            Value::Str(s) => match crate::ip::parse_ip(s) {
                Some(ip) => Value::Bool(nets.iter().any(|n| n.contains(&ip))),
                None => Value::Bool(false),
            },
            _ => Value::Null,
        }),
        Func::Between { insensitive } => {
            let (Some(s), Some(left), Some(right)) = (strs(arg(0)), strs(arg(1)), strs(arg(2)))
            else {
                return Ok(Value::Null);
            };
            let greedy = match arg(3) {
                Value::Bool(b) => *b,
                _ => false,
            };
            Ok(between(s, left, right, greedy, *insensitive))
        }
        Func::Concat => {
            let mut out = String::new();
            for a in args {
                match a.render() {
                    Some(text) => out.push_str(&text),
                    None => return Ok(Value::Null),
                }
            }
            Ok(Value::Str(Cow::Owned(out)))
        }
        Func::StartsWith { insensitive }
        | Func::EndsWith { insensitive }
        | Func::StringContains { insensitive } => {
            let (Some(s), Some(part)) = (strs(arg(0)), strs(arg(1))) else {
                return Ok(Value::Null);
            };
            let (s, part) = (fold_if(s, *insensitive), fold_if(part, *insensitive));
            Ok(Value::Bool(match func {
                Func::StartsWith { .. } => s.starts_with(part.as_ref()),
                Func::EndsWith { .. } => s.ends_with(part.as_ref()),
                // Elasticsearch: an empty substring is not contained.
                _ => !part.is_empty() && s.contains(part.as_ref()),
            }))
        }
        Func::IndexOf { insensitive } => {
            let (Some(s), Some(part)) = (strs(arg(0)), strs(arg(1))) else {
                return Ok(Value::Null);
            };
            let start = match arg(2) {
                Value::Null if args.len() > 2 => return Ok(Value::Null),
                Value::Null => 0,
                Value::Long(i) => (*i).max(0),
                _ => return Err(ScriptError::Type("indexOf's start must be an integer")),
            };
            Ok(index_of(s, part, start, *insensitive))
        }
        Func::Length => Ok(match strs(arg(0)) {
            Some(s) => Value::Long(s.encode_utf16().count() as i64),
            None => Value::Null,
        }),
        Func::Number => number(arg(0), arg(1)),
        Func::String => Ok(match arg(0).render() {
            Some(s) => Value::Str(Cow::Owned(s)),
            None => Value::Null,
        }),
        Func::Substring => {
            let Some(s) = strs(arg(0)) else {
                return Ok(Value::Null);
            };
            let int = |v: &Value<'_>| match v {
                Value::Long(i) => Ok(Some(*i)),
                Value::Null => Ok(None),
                _ => Err(ScriptError::Type("substring's positions must be integers")),
            };
            let Some(start) = int(arg(1))? else {
                return Ok(Value::Null);
            };
            let end = if args.len() > 2 { int(arg(2))? } else { None };
            Ok(Value::Str(Cow::Owned(substring(s, start, end))))
        }
    }
}

fn strs<'v>(v: &'v Value<'_>) -> Option<&'v str> {
    match v {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

fn fold_if(s: &str, insensitive: bool) -> Cow<'_, str> {
    if insensitive {
        Cow::Owned(fold(s))
    } else {
        Cow::Borrowed(s)
    }
}

/// `InProcessor`: true on the first equal element; null when the value is
/// null, or when nothing is equal and the list holds a null.
fn in_list<'a>(value: &Value<'_>, list: &[Value<'_>], insensitive: bool) -> Value<'a> {
    if value.is_null() {
        return Value::Null;
    }
    let mut saw_null = false;
    for item in list {
        if item.is_null() {
            saw_null = true;
            continue;
        }
        let equal = match (value, item, insensitive) {
            (Value::Str(a), Value::Str(b), true) => fold(a) == fold(b),
            _ => compare(value, item) == Some(core::cmp::Ordering::Equal),
        };
        if equal {
            return Value::Bool(true);
        }
    }
    if saw_null {
        Value::Null
    } else {
        Value::Bool(false)
    }
}

/// Text as UTF-16 code units, positions as Java counts them.
fn utf16(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

fn from_utf16(units: &[u16]) -> String {
    String::from_utf16_lossy(units)
}

fn find(hay: &[u16], needle: &[u16], from: usize) -> Option<usize> {
    if from > hay.len() {
        return None;
    }
    if needle.is_empty() {
        return Some(from);
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

fn rfind(hay: &[u16], needle: &[u16]) -> Option<usize> {
    if needle.is_empty() {
        return Some(hay.len());
    }
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// `between`: the text after the first `left` and before the next (or,
/// greedy, the last) `right`; `""` when either is missing.
fn between<'a>(s: &str, left: &str, right: &str, greedy: bool, insensitive: bool) -> Value<'a> {
    let original = utf16(s);
    let (hay, left, right) = if insensitive {
        (utf16(&fold(s)), utf16(&fold(left)), utf16(&fold(right)))
    } else {
        (original.clone(), utf16(left), utf16(right))
    };
    let empty = Value::Str(Cow::Borrowed(""));
    let Some(start) = find(&hay, &left, 0).map(|i| i + left.len()) else {
        return empty;
    };
    let end = if greedy {
        rfind(&hay, &right)
    } else {
        find(&hay, &right, start)
    };
    match end {
        // Folding may change lengths; cut the original only where it lines up.
        Some(end) if end >= start && end <= original.len() => {
            Value::Str(Cow::Owned(from_utf16(&original[start..end])))
        }
        _ => empty,
    }
}

/// `indexOf`: the first position at or after `start`; null when absent or
/// when `start` is past the end.
fn index_of<'a>(s: &str, part: &str, start: i64, insensitive: bool) -> Value<'a> {
    let (hay, needle) = if insensitive {
        (utf16(&fold(s)), utf16(&fold(part)))
    } else {
        (utf16(s), utf16(part))
    };
    let Ok(start) = usize::try_from(start) else {
        return Value::Null;
    };
    match find(&hay, &needle, start) {
        Some(i) => Value::Long(i as i64),
        None => Value::Null,
    }
}

/// `substring`: Python-like slicing, negative positions from the end.
fn substring(s: &str, start: i64, end: Option<i64>) -> String {
    let units = utf16(s);
    let len = units.len() as i64;
    let clamp = |i: i64| {
        let i = if i < 0 { i.saturating_add(len) } else { i };
        i.clamp(0, len) as usize
    };
    let (start, end) = (clamp(start), clamp(end.unwrap_or(len)));
    if start >= end {
        return String::new();
    }
    from_utf16(&units[start..end])
}

/// `number(text, base)`: an integer (`Long`) or a float (`Double`); `0x`
/// means base 16; surrounding white space is ignored.
fn number<'a>(value: &Value<'_>, base: &Value<'_>) -> ScriptResult<'a> {
    let Some(text) = strs(value) else {
        return match value {
            Value::Null => Ok(Value::Null),
            _ => Err(ScriptError::Type("number() takes a string")),
        };
    };
    let text = text.trim();
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let hex = unsigned.starts_with("0x") || unsigned.starts_with("0X");
    let radix = match base {
        Value::Null => {
            if hex {
                16
            } else {
                10
            }
        }
        Value::Long(b) if (2..=36).contains(b) => *b as u32,
        _ => return Err(ScriptError::Type("number()'s base must be 2 to 36")),
    };
    if hex && radix != 16 {
        return Err(ScriptError::NotANumber);
    }
    let digits = if hex { &unsigned[2..] } else { unsigned };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return Err(ScriptError::NotANumber);
    }
    if radix == 10 {
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::Long(i));
        }
        return text
            .parse::<f64>()
            .map(Value::Double)
            .map_err(|_| ScriptError::NotANumber);
    }
    let magnitude = u64::from_str_radix(digits, radix).map_err(|_| ScriptError::NotANumber)?;
    let signed = if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    };
    signed.map(Value::Long).ok_or(ScriptError::NotANumber)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value<'_> {
        Value::Str(Cow::Borrowed(text))
    }

    #[test]
    fn the_function_reference_examples() {
        let path = "C:\\Windows\\System32\\cmd.exe";
        let b = |l, r, greedy, ci| between(path, l, r, greedy, ci);
        assert_eq!(b("System32\\", ".exe", false, false), s("cmd"));
        assert_eq!(b("system32\\", ".exe", false, false), s(""));
        assert_eq!(b("system32\\", ".exe", false, true), s("cmd"));
        assert_eq!(b("\\", "\\", false, false), s("Windows"));
        assert_eq!(b("\\", "\\", true, false), s("Windows\\System32"));

        let domain = "subdomain.example.com";
        assert_eq!(index_of(domain, "d", 0, false), Value::Long(3));
        assert_eq!(index_of(domain, "D", 0, false), Value::Null);
        assert_eq!(index_of(domain, ".", 10, false), Value::Long(17));
        assert_eq!(index_of(domain, "D", 0, true), Value::Long(3));
        assert_eq!(index_of(domain, "", 10, false), Value::Long(10));
        assert_eq!(index_of(domain, ".", 30, false), Value::Null);

        assert_eq!(substring("start regsvr32.exe", 6, None), "regsvr32.exe");
        assert_eq!(substring("start regsvr32.exe", 0, Some(5)), "start");
        assert_eq!(substring("start regsvr32.exe", -4, None), ".exe");
        assert_eq!(substring("start regsvr32.exe", -4, Some(-1)), ".ex");

        let num = |t: &str| number(&s(t), &Value::Null);
        assert_eq!(num("1337"), Ok(Value::Long(1337)));
        assert_eq!(num("42.5"), Ok(Value::Double(42.5)));
        assert_eq!(num("0xdeadbeef"), Ok(Value::Long(3_735_928_559)));
        assert_eq!(num("  -1337  "), Ok(Value::Long(-1337)));
        assert_eq!(
            number(&s("deadbeef"), &Value::Long(16)),
            Ok(Value::Long(3_735_928_559))
        );
        assert_eq!(num(""), Err(ScriptError::NotANumber));

        let concat = apply(
            &Func::Concat,
            &[s("regsvr32.exe"), s(" "), Value::Double(42.5)],
        );
        assert_eq!(concat, Ok(s("regsvr32.exe 42.5")));
        let null = apply(&Func::Concat, &[s("a"), Value::Null]);
        assert_eq!(null, Ok(Value::Null));
        let contains = Func::StringContains { insensitive: false };
        assert_eq!(apply(&contains, &[s(""), s("")]), Ok(Value::Bool(false)));
        assert_eq!(apply(&Func::Length, &[s("é")]), Ok(Value::Long(1)));
    }

    #[test]
    fn in_lists_follow_three_valued_logic() {
        let list = [Value::Long(1), Value::Null];
        assert_eq!(in_list(&Value::Long(1), &list, false), Value::Bool(true));
        assert_eq!(in_list(&Value::Long(2), &list, false), Value::Null);
        assert_eq!(in_list(&Value::Null, &list, false), Value::Null);
        assert_eq!(in_list(&s("A"), &[s("a")], true), Value::Bool(true));
    }
}
