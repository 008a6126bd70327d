//! Candidate values for one test: strings a pattern or a regular
//! expression matches, addresses inside a network, numbers on the right
//! side of a bound. Candidates are proposals only; the solver keeps the
//! ones the engine's own test code accepts.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::pattern::{GlobPart, Pattern};
use crate::plan::{FieldType, Ordering, Test, ValueKind, ValueRef};
use crate::regexp::parse::{ClassItem, Node, NodeKind, Perl};
use crate::regexp::Regexp;

/// One value of a field in a generated event.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Str(String),
    Ip(IpAddr),
    Num(f64),
}

impl Val {
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Val::Str(s) => ValueRef::Str(s),
            Val::Ip(ip) => ValueRef::Ip(*ip),
            Val::Num(n) => ValueRef::Number(*n),
        }
    }

    /// The value as the event's JSON carries it: a keyword of a boolean
    /// field as a JSON boolean (Elasticsearch's `boolean` reads either),
    /// integral numbers without a fraction so a `long` field takes them.
    pub fn to_json(&self, kind: ValueKind) -> serde_json::Value {
        match self {
            Val::Str(s) if kind == ValueKind::Bool && (s == "true" || s == "false") => {
                serde_json::Value::Bool(s == "true")
            }
            Val::Str(s) => serde_json::Value::String(s.clone()),
            Val::Ip(ip) => serde_json::Value::String(ip.to_string()),
            Val::Num(n) => {
                if n.abs() < 9.0e15 && (*n as i64) as f64 == *n {
                    serde_json::Value::from(*n as i64)
                } else {
                    serde_json::Number::from_f64(*n)
                        .map_or(serde_json::Value::Null, serde_json::Value::Number)
                }
            }
        }
    }
}

/// What fills a wildcard: the empty run first (the shortest match), then
/// a few distinct texts, so that one of them dodges the exclusions a rule
/// puts on the same field.
const FILLERS: &[&str] = &["", "x", "a1", "0", "zq", "evil", "x/y", "-", "1.2"];

/// Values for a field that only has to exist (`x != null`) or to differ
/// from something.
pub fn defaults(ty: FieldType, path: &str) -> Vec<Val> {
    match ty {
        FieldType::Keyword | FieldType::Date => {
            let last = path.rsplit('.').next().unwrap_or(path);
            [format!("{last}-1"), "example".to_string(), "x".to_string()]
                .into_iter()
                .map(Val::Str)
                .collect()
        }
        FieldType::Ip => ["203.0.114.7", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"]
            .iter()
            .filter_map(|s| s.parse().ok())
            .map(Val::Ip)
            .collect(),
        FieldType::Number => [1.0, 42.0, 0.0, 4242.0].into_iter().map(Val::Num).collect(),
    }
}

/// Values that pass `test` (most of them: the solver checks each), for a
/// field of type `ty`. `IsNull` has none: it is met by absence.
pub fn candidates(test: &Test, ty: FieldType) -> Vec<Val> {
    match test {
        Test::IsNull => Vec::new(),
        Test::Strings { patterns, .. } => patterns
            .iter()
            .flat_map(pattern_candidates)
            .map(Val::Str)
            .collect(),
        Test::Ip(nets) => nets.iter().flat_map(net_candidates).map(Val::Ip).collect(),
        Test::Number { op, value } => number_candidates(*op, *value)
            .into_iter()
            .map(Val::Num)
            .collect(),
        Test::StringOrder { op, value } => order_candidates(*op, value)
            .into_iter()
            .map(Val::Str)
            .collect(),
        Test::VersionOrder { value, .. } => version_candidates(value)
            .into_iter()
            .map(Val::Str)
            .collect(),
        Test::Regex(regexps) => regexps
            .iter()
            .flat_map(regex_candidates)
            .map(Val::Str)
            .collect(),
    }
    .into_iter()
    .filter(|v| fits(v, ty))
    .collect()
}

/// A value the decoder takes for a field of this type: anything else would
/// refuse the whole event.
fn fits(v: &Val, ty: FieldType) -> bool {
    match (v, ty) {
        // Longer keywords are absent to Elasticsearch (`ignore_above`).
        (Val::Str(s), FieldType::Keyword) => s.chars().count() <= 1024,
        (Val::Ip(_), FieldType::Ip) | (Val::Num(_), FieldType::Number) => true,
        _ => false,
    }
}

fn pattern_candidates(p: &Pattern) -> Vec<String> {
    match p {
        Pattern::Exact(s) => alloc::vec![s.clone()],
        Pattern::Prefix(s) => FILLERS.iter().map(|f| format!("{s}{f}")).collect(),
        Pattern::Suffix(s) => FILLERS.iter().map(|f| format!("{f}{s}")).collect(),
        Pattern::Contains(s) => FILLERS.iter().map(|f| format!("{f}{s}{f}")).collect(),
        Pattern::Glob(parts) => FILLERS
            .iter()
            .map(|f| {
                let mut out = String::new();
                for part in parts {
                    match part {
                        GlobPart::Literal(l) => out.push_str(l),
                        GlobPart::AnyRun => out.push_str(f),
                        GlobPart::AnyChar => out.push(f.chars().next().unwrap_or('a')),
                    }
                }
                out
            })
            .collect(),
    }
}

fn net_candidates(net: &IpNet) -> Vec<IpAddr> {
    let mut out = alloc::vec![net.network()];
    out.extend(net.hosts().take(2));
    out.push(net.broadcast());
    out
}

fn number_candidates(op: Ordering, value: f64) -> Vec<f64> {
    let around = match op {
        Ordering::Eq => alloc::vec![value],
        Ordering::Gt => alloc::vec![value + 1.0, value + 0.5, value + 100.0],
        Ordering::GtEq => alloc::vec![value, value + 1.0, value + 100.0],
        Ordering::Lt => alloc::vec![value - 1.0, value - 0.5, value - 100.0],
        Ordering::LtEq => alloc::vec![value, value - 1.0, value - 100.0],
    };
    around.into_iter().filter(|n| n.is_finite()).collect()
}

fn order_candidates(op: Ordering, value: &str) -> Vec<String> {
    let shorter = {
        let mut s = value.to_string();
        s.pop();
        s
    };
    match op {
        Ordering::Eq => alloc::vec![value.to_string()],
        Ordering::Gt => alloc::vec![format!("{value}0"), format!("{value}~")],
        Ordering::GtEq => alloc::vec![value.to_string(), format!("{value}0")],
        // A proper prefix sorts first; the empty string before all others.
        Ordering::Lt => alloc::vec![shorter, String::new()],
        Ordering::LtEq => alloc::vec![value.to_string(), shorter],
    }
}

/// Versions around `value` on both sides, whatever the operator: the
/// version itself, one a part longer (later, if `value` is valid), the
/// earliest (a pre-release of `0`) and an invalid one (after every valid).
fn version_candidates(value: &str) -> Vec<String> {
    alloc::vec![
        value.to_string(),
        format!("{value}.1"),
        "0-0".to_string(),
        "~".to_string(),
    ]
}

/// Strings a Lucene regular expression matches, from its parse tree:
/// each variant takes different branches, counts and characters, so one
/// may dodge the exclusions on the same field. Complement and
/// intersection have no generator here; a few plain words are tried.
fn regex_candidates(re: &Regexp) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(tree) = crate::regexp::parse::parse(re.as_str()) {
        for variant in 0..6 {
            let mut s = String::new();
            if generate(&tree, variant, &mut s, 0) && !out.contains(&s) {
                out.push(s);
            }
        }
    }
    for word in ["", "a", "x", "0", "example"] {
        out.push(word.to_string());
    }
    out.retain(|s| re.is_match(s));
    out
}

/// Preferred characters for `.` and classes, in the order tried.
const CHARS: &[char] = &[
    'a', 'x', '0', '1', 'b', '-', '_', '.', '/', 'A', ' ', 'z', '9',
];

fn generate(node: &Node, variant: usize, out: &mut String, depth: usize) -> bool {
    if depth > 64 || out.len() > 2048 {
        return false;
    }
    match &node.kind {
        NodeKind::Char(c) => out.push(*c),
        NodeKind::Literal(s) => out.push_str(s),
        NodeKind::AnyChar => out.push(CHARS[variant % 3]),
        NodeKind::AnyString => {
            if variant % 2 == 1 {
                out.push('x');
            }
        }
        NodeKind::Nothing | NodeKind::Intersection(_) | NodeKind::Complement(_) => return false,
        NodeKind::Class { negated, items } => {
            let mut choices = CHARS
                .iter()
                .copied()
                .filter(|c| class_has(items, *c) != *negated);
            // Without a preferred character, one the class names.
            let fallback = items.iter().find_map(|i| match *i {
                _ if *negated => None,
                ClassItem::Char(c) | ClassItem::Escaped(c) | ClassItem::Range(c, _) => Some(c),
                ClassItem::Perl(Perl::Digit) => Some('0'),
                ClassItem::Perl(Perl::Space) => Some(' '),
                ClassItem::Perl(Perl::NotWord) => Some('-'),
                ClassItem::Perl(_) => Some('a'),
            });
            match choices.nth(variant % 2).or(fallback) {
                Some(c) => out.push(c),
                None => return false,
            }
        }
        NodeKind::Interval { min, max, digits } => {
            let n = if variant % 2 == 0 { *min } else { *max };
            let text = n.to_string();
            for _ in text.len()..*digits {
                out.push('0');
            }
            out.push_str(&text);
        }
        NodeKind::Concat(parts) => {
            for p in parts {
                if !generate(p, variant, out, depth + 1) {
                    return false;
                }
            }
        }
        NodeKind::Union(alts) => {
            // The first branch that generates, starting at the variant's.
            let start = variant % alts.len().max(1);
            let before = out.len();
            let mut done = false;
            for i in 0..alts.len() {
                out.truncate(before);
                if generate(&alts[(start + i) % alts.len()], variant, out, depth + 1) {
                    done = true;
                    break;
                }
            }
            if !done {
                return false;
            }
        }
        NodeKind::Repeat { node, min, max } => {
            let extra = u32::from(variant % 3 == 1);
            let count = match max {
                Some(m) => (*min + extra).min(*m),
                None => *min + extra,
            };
            for _ in 0..count.min(1100) {
                if !generate(node, variant, out, depth + 1) {
                    return false;
                }
            }
        }
    }
    true
}

fn class_has(items: &[ClassItem], c: char) -> bool {
    items.iter().any(|item| match *item {
        ClassItem::Char(x) | ClassItem::Escaped(x) => x == c,
        ClassItem::Range(a, b) => a <= c && c <= b,
        ClassItem::Perl(p) => {
            let digit = c.is_ascii_digit();
            let space = matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c');
            let word = c.is_ascii_alphanumeric() || c == '_';
            match p {
                Perl::Digit => digit,
                Perl::NotDigit => !digit,
                Perl::Space => space,
                Perl::NotSpace => !space,
                Perl::Word => word,
                Perl::NotWord => !word,
            }
        }
    })
}

/// A value of `ty` equal to `v` as a join key compares them, if there is one.
pub fn convert(v: &Val, ty: FieldType) -> Option<Val> {
    match (v, ty) {
        (Val::Str(_), FieldType::Keyword)
        | (Val::Ip(_), FieldType::Ip)
        | (Val::Num(_), FieldType::Number) => Some(v.clone()),
        _ => None,
    }
}

/// The test "equals `v`" for a field of type `ty`.
pub fn equals(v: &Val) -> Test {
    match v {
        Val::Str(s) => Test::Strings {
            patterns: alloc::vec![Pattern::Exact(s.clone())],
            insensitive: false,
        },
        Val::Ip(ip) => Test::Ip(alloc::vec![IpNet::from(*ip)]),
        Val::Num(n) => Test::Number {
            op: Ordering::Eq,
            value: *n,
        },
    }
}

/// A join key value made up for position `i`, distinct per `variant`.
pub fn synthetic_key(ty: FieldType, path: &str, i: usize, variant: u8) -> Option<Val> {
    let last = path.rsplit('.').next().unwrap_or(path);
    Some(match ty {
        FieldType::Keyword => Val::Str(format!(
            "{last}-{}{}",
            i + 1,
            ["", "-other"][usize::from(variant & 1)]
        )),
        FieldType::Number => Val::Num(4242.0 + 100.0 * f64::from(variant) + i as f64),
        FieldType::Ip => Val::Ip(if variant == 0 {
            IpAddr::V4(Ipv4Addr::new(203, 0, 114, 7 + i as u8 % 100))
        } else {
            IpAddr::V6(Ipv6Addr::new(0x2606, 0x4700, 0, 0, 0, 0, 0, 7 + i as u16))
        }),
        FieldType::Date => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(pattern: &str, insensitive: bool) -> Vec<String> {
        let re = Regexp::new(pattern, insensitive).unwrap();
        regex_candidates(&re)
    }

    /// Every regular expression of the Linux rules, and Lucene's own
    /// syntax (`<n-m>`, `@`, quoted strings), yields a matching string.
    #[test]
    fn regex_generator() {
        for (pattern, insensitive) in [
            ("[A-Z]:\\\\:.+", true),
            ("/[a-z0-9\\s_\\-\\\\./]+\\s", true),
            (
                ".*[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}(:[0-9]{1,5})?\\/[^ ]+.*",
                false,
            ),
            ("[24][0-9]{3}", false),
            ("-[A-NP-Za-np-z][A-Za-z]*[RLDwW][A-Za-z]*", false),
            ("-[^-]*[uz][^-]*", true),
            ("/var/run/\\w+\\.(pid|lock|reboot)", true),
            ("php?[0-9]?\\.?[0-9]{0,2}", true),
            ("port<1-1024>", false),
            ("@\"lit\"x", false),
        ] {
            let s = strings(pattern, insensitive);
            assert!(!s.is_empty(), "{pattern}: nothing generated");
        }
    }

    #[test]
    fn globs_and_bounds() {
        let p = Pattern::wildcard("/tmp/*.s?", false);
        assert!(pattern_candidates(&p).iter().all(|s| p.matches(s)));
        for op in [
            Ordering::Lt,
            Ordering::LtEq,
            Ordering::Gt,
            Ordering::GtEq,
            Ordering::Eq,
        ] {
            let test = Test::Number { op, value: 5.0 };
            let c = candidates(&test, FieldType::Number);
            assert!(c.iter().any(|v| crate::eval::test_value(&test, v.as_ref())));
            let test = Test::StringOrder {
                op,
                value: "m".to_string(),
            };
            let c = candidates(&test, FieldType::Keyword);
            assert!(c.iter().any(|v| crate::eval::test_value(&test, v.as_ref())));
            let test = Test::VersionOrder {
                op,
                value: "1.10".to_string(),
                key: crate::version::version_key("1.10"),
            };
            let c = candidates(&test, FieldType::Keyword);
            assert!(c.iter().any(|v| crate::eval::test_value(&test, v.as_ref())));
        }
    }
}
