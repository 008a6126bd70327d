//! A Lucene syntax tree to a `regex-syntax` `Hir`, the input of
//! regex-automata's compilers. Lucene's languages are sets of whole strings;
//! the caller anchors the result at both ends.
//!
//! Case-insensitive matching follows Lucene's `RegExp` with
//! `ASCII_CASE_INSENSITIVE`, the flag Elasticsearch's `case_insensitive`
//! sets: single characters and quoted strings fold (in newer Lucene, by
//! Unicode simple case folding; regex-syntax's folding is the same table),
//! while class ranges, escaped class characters and predefined classes
//! do not.

use alloc::vec::Vec;

use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, Hir, Repetition};

use super::parse::{ClassItem, Node, NodeKind, Perl};
use super::{RegexpError, RegexpErrorKind};

pub fn lower(node: &Node, case_insensitive: bool) -> Result<Hir, RegexpError> {
    let hir = match &node.kind {
        NodeKind::Char(c) => char_hir(*c, case_insensitive),
        NodeKind::Literal(text) => Hir::concat(
            text.chars()
                .map(|c| char_hir(c, case_insensitive))
                .collect(),
        ),
        NodeKind::AnyChar => any_char(),
        NodeKind::AnyString => any_string(),
        NodeKind::Nothing => Hir::fail(),
        NodeKind::Class { negated, items } => {
            let mut class = class_of(items, case_insensitive);
            if *negated {
                class.negate();
            }
            Hir::class(Class::Unicode(class))
        }
        NodeKind::Interval { min, max, digits } => interval(*min, *max, *digits),
        NodeKind::Concat(items) => Hir::concat(lower_all(items, case_insensitive)?),
        NodeKind::Union(items) => Hir::alternation(lower_all(items, case_insensitive)?),
        NodeKind::Repeat { node, min, max } => Hir::repetition(Repetition {
            min: *min,
            max: *max,
            greedy: true,
            sub: alloc::boxed::Box::new(lower(node, case_insensitive)?),
        }),
        // Not expressible as an Hir: `Regexp::new` sends trees with these to
        // the automaton module, which lowers only the parts without them.
        NodeKind::Intersection(_) | NodeKind::Complement(_) => {
            return Err(RegexpError {
                offset: node.offset,
                kind: RegexpErrorKind::TooComplex,
            })
        }
    };
    Ok(hir)
}

fn lower_all(nodes: &[Node], case_insensitive: bool) -> Result<Vec<Hir>, RegexpError> {
    nodes.iter().map(|n| lower(n, case_insensitive)).collect()
}

fn single(c: char) -> ClassUnicode {
    ClassUnicode::new([ClassUnicodeRange::new(c, c)])
}

fn char_hir(c: char, case_insensitive: bool) -> Hir {
    if case_insensitive {
        let mut class = single(c);
        class.case_fold_simple();
        Hir::class(Class::Unicode(class))
    } else {
        let mut buf = [0; 4];
        Hir::literal(c.encode_utf8(&mut buf).as_bytes())
    }
}

/// Lucene's `.`: any code point, line breaks included.
fn any_char() -> Hir {
    Hir::class(Class::Unicode(ClassUnicode::new([ClassUnicodeRange::new(
        '\0',
        char::MAX,
    )])))
}

pub fn any_string() -> Hir {
    Hir::repetition(Repetition {
        min: 0,
        max: None,
        greedy: true,
        sub: alloc::boxed::Box::new(any_char()),
    })
}

fn class_of(items: &[ClassItem], case_insensitive: bool) -> ClassUnicode {
    let mut class = ClassUnicode::empty();
    for item in items {
        let part = match *item {
            ClassItem::Char(c) => {
                let mut one = single(c);
                if case_insensitive {
                    one.case_fold_simple();
                }
                one
            }
            ClassItem::Escaped(c) => single(c),
            ClassItem::Range(from, to) => ClassUnicode::new([ClassUnicodeRange::new(from, to)]),
            ClassItem::Perl(perl) => perl_class(perl),
        };
        class.union(&part);
    }
    class
}

/// Lucene's ASCII definitions, not Unicode's: `\s` is tab, line feed,
/// carriage return and space only.
fn perl_class(perl: Perl) -> ClassUnicode {
    let ranges = |pairs: &[(char, char)]| {
        ClassUnicode::new(pairs.iter().map(|&(a, b)| ClassUnicodeRange::new(a, b)))
    };
    let digit = ranges(&[('0', '9')]);
    let space = ranges(&[('\t', '\n'), ('\r', '\r'), (' ', ' ')]);
    let word = ranges(&[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')]);
    let (mut class, negate) = match perl {
        Perl::Digit => (digit, false),
        Perl::NotDigit => (digit, true),
        Perl::Space => (space, false),
        Perl::NotSpace => (space, true),
        Perl::Word => (word, false),
        Perl::NotWord => (word, true),
    };
    if negate {
        class.negate();
    }
    class
}

/// `<min-max>` as Lucene's `Automata.makeDecimalInterval` builds it: with
/// `digits` > 0, strings of exactly that many ASCII digits whose value is in
/// range; otherwise one or more digits (any leading zeros) whose value is.
fn interval(min: u32, max: u32, digits: usize) -> Hir {
    if digits > 0 {
        return fixed_width_range(&padded(min, digits), &padded(max, digits));
    }
    // Any string of digits with a value in range is `0*` followed by its
    // last L digits for some L up to the width of `max` (the digits before
    // those are zeros): the union over L of the L-digit strings in range.
    let width = decimal_width(max);
    let mut widths = Vec::new();
    for len in 1..=width {
        let top = if len >= 10 {
            u32::MAX
        } else {
            10u32.pow(len as u32) - 1
        };
        if min > top {
            continue;
        }
        widths.push(fixed_width_range(
            &padded(min, len),
            &padded(max.min(top), len),
        ));
    }
    let zeros = Hir::repetition(Repetition {
        min: 0,
        max: None,
        greedy: true,
        sub: alloc::boxed::Box::new(Hir::literal(*b"0")),
    });
    Hir::concat(alloc::vec![zeros, Hir::alternation(widths)])
}

fn decimal_width(n: u32) -> usize {
    let mut width = 1;
    let mut rest = n / 10;
    while rest > 0 {
        width += 1;
        rest /= 10;
    }
    width
}

fn padded(n: u32, width: usize) -> Vec<u8> {
    let mut out = alloc::vec![b'0'; width];
    let mut rest = n;
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out
}

/// Strings of `low.len()` digits between `low` and `high` (same width,
/// `low <= high`). Walks the common prefix, then splits at the first
/// differing digit into three parts: `low`'s digit followed by anything not
/// below `low`'s rest, the digits strictly between followed by anything,
/// and `high`'s digit followed by anything not above `high`'s rest. Each
/// side is a chain of at most `width` steps, so the result is O(width²).
fn fixed_width_range(low: &[u8], high: &[u8]) -> Hir {
    let common = low.iter().zip(high).take_while(|(a, b)| a == b).count();
    let prefix = Hir::literal(&low[..common]);
    if common == low.len() {
        return prefix;
    }
    let (lo, hi) = (low[common], high[common]);
    let rest = low.len() - common - 1;
    let mut alternatives = Vec::new();
    alternatives.push(Hir::concat(alloc::vec![
        Hir::literal([lo]),
        at_least(&low[common + 1..]),
    ]));
    if hi - lo > 1 {
        alternatives.push(Hir::concat(alloc::vec![
            digit_range(lo + 1, hi - 1),
            any_digits(rest),
        ]));
    }
    alternatives.push(Hir::concat(alloc::vec![
        Hir::literal([hi]),
        at_most(&high[common + 1..]),
    ]));
    Hir::concat(alloc::vec![prefix, Hir::alternation(alternatives)])
}

/// Digit strings of `bound.len()` digits that are `>= bound`.
fn at_least(bound: &[u8]) -> Hir {
    let Some((&first, rest)) = bound.split_first() else {
        return Hir::empty();
    };
    let mut alternatives = alloc::vec![Hir::concat(alloc::vec![
        Hir::literal([first]),
        at_least(rest)
    ])];
    if first < b'9' {
        alternatives.push(Hir::concat(alloc::vec![
            digit_range(first + 1, b'9'),
            any_digits(rest.len()),
        ]));
    }
    Hir::alternation(alternatives)
}

/// Digit strings of `bound.len()` digits that are `<= bound`.
fn at_most(bound: &[u8]) -> Hir {
    let Some((&first, rest)) = bound.split_first() else {
        return Hir::empty();
    };
    let mut alternatives = alloc::vec![Hir::concat(alloc::vec![
        Hir::literal([first]),
        at_most(rest)
    ])];
    if first > b'0' {
        alternatives.push(Hir::concat(alloc::vec![
            digit_range(b'0', first - 1),
            any_digits(rest.len()),
        ]));
    }
    Hir::alternation(alternatives)
}

fn digit_range(from: u8, to: u8) -> Hir {
    Hir::class(Class::Unicode(ClassUnicode::new([ClassUnicodeRange::new(
        char::from(from),
        char::from(to),
    )])))
}

fn any_digits(count: usize) -> Hir {
    Hir::repetition(Repetition {
        min: count as u32,
        max: Some(count as u32),
        greedy: true,
        sub: alloc::boxed::Box::new(digit_range(b'0', b'9')),
    })
}
