//! String tests compiled once: exact, prefix, suffix, contains, and general
//! wildcard patterns (`*` any run, `?` one character, no escapes: SEMANTICS P3),
//! each case-sensitive or not.

use alloc::string::String;
use alloc::vec::Vec;

/// One compiled string test. Case-insensitive ones hold lowercased text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pattern {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    /// Anything with `?` or an inner `*`.
    Glob(Vec<GlobPart>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GlobPart {
    Literal(String),
    AnyRun,
    AnyChar,
}

impl Pattern {
    /// Compiles an EQL wildcard pattern (`like`, `:`, `wildcard()`).
    pub fn wildcard(pattern: &str, insensitive: bool) -> Pattern {
        let text = fold_if(pattern, insensitive);
        let mut parts = Vec::new();
        let mut literal = String::new();
        for c in text.chars() {
            match c {
                '*' | '?' => {
                    if !literal.is_empty() {
                        parts.push(GlobPart::Literal(core::mem::take(&mut literal)));
                    }
                    if c == '?' {
                        parts.push(GlobPart::AnyChar);
                    } else if parts.last() != Some(&GlobPart::AnyRun) {
                        parts.push(GlobPart::AnyRun);
                    }
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(GlobPart::Literal(literal));
        }
        Pattern::simplify(parts)
    }

    fn simplify(parts: Vec<GlobPart>) -> Pattern {
        use GlobPart::{AnyRun, Literal};
        match parts.as_slice() {
            [] => Pattern::Exact(String::new()),
            [Literal(s)] => Pattern::Exact(s.clone()),
            [Literal(s), AnyRun] => Pattern::Prefix(s.clone()),
            [AnyRun, Literal(s)] => Pattern::Suffix(s.clone()),
            [AnyRun, Literal(s), AnyRun] => Pattern::Contains(s.clone()),
            [AnyRun] => Pattern::Prefix(String::new()),
            _ => Pattern::Glob(parts),
        }
    }

    /// A literal test (`==`, `in`, `startsWith`, ...): no wildcard meaning.
    pub fn literal(kind: LiteralKind, text: &str, insensitive: bool) -> Pattern {
        let text = fold_if(text, insensitive);
        match kind {
            LiteralKind::Exact => Pattern::Exact(text),
            LiteralKind::Prefix => Pattern::Prefix(text),
            LiteralKind::Suffix => Pattern::Suffix(text),
            LiteralKind::Contains => Pattern::Contains(text),
        }
    }

    /// Does `value` (already folded when the test is case-insensitive) match?
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Pattern::Exact(s) => value == s,
            Pattern::Prefix(s) => value.starts_with(s.as_str()),
            Pattern::Suffix(s) => value.ends_with(s.as_str()),
            Pattern::Contains(s) => value.contains(s.as_str()),
            Pattern::Glob(parts) => glob_matches(parts, value),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralKind {
    Exact,
    Prefix,
    Suffix,
    Contains,
}

/// Case folding for the `~` operators: per character lowercase, as Lucene's
/// case-insensitive term and wildcard queries compare.
pub fn fold(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).collect()
}

fn fold_if(text: &str, insensitive: bool) -> String {
    if insensitive {
        fold(text)
    } else {
        String::from(text)
    }
}

/// A glob is segments (literals and `?`, each a fixed number of
/// characters) between `*`s. The first segment must match at the start,
/// the last at the end, and each one between at its leftmost place after
/// the one before: `*` takes any run, so the earliest place leaves the
/// most room to the rest (and it is found with `memchr` on a segment's
/// first byte, not character by character). Linear in practice, never
/// recursive.
fn glob_matches(parts: &[GlobPart], value: &str) -> bool {
    let mut segments = parts.split(|p| *p == GlobPart::AnyRun);
    // `split` yields at least one (maybe empty) segment.
    let first = segments.next().unwrap_or(&[]);
    let Some(mut at) = segment_at(first, value, 0) else {
        return false;
    };
    let Some(mut last) = segments.next() else {
        // No `*`: the first segment is the whole glob.
        return at == value.len();
    };
    for next in segments {
        match find_segment(last, value, at) {
            Some(end) => at = end,
            None => return false,
        }
        last = next;
    }
    // The last segment, at the very end, after everything before it.
    let chars: usize = last
        .iter()
        .map(|p| match p {
            GlobPart::Literal(s) => s.chars().count(),
            GlobPart::AnyChar | GlobPart::AnyRun => 1,
        })
        .sum();
    let mut start = value.len();
    let mut tail = value[at..].chars();
    for _ in 0..chars {
        match tail.next_back() {
            Some(c) => start -= c.len_utf8(),
            None => return false,
        }
    }
    segment_at(last, value, start) == Some(value.len())
}

/// Where `segment` (literals and `?`) ends if it matches `value` at byte
/// `at` (a character boundary).
fn segment_at(segment: &[GlobPart], value: &str, mut at: usize) -> Option<usize> {
    for part in segment {
        match part {
            GlobPart::Literal(s) => {
                if !value.get(at..)?.starts_with(s.as_str()) {
                    return None;
                }
                at += s.len();
            }
            GlobPart::AnyChar | GlobPart::AnyRun => {
                at += value.get(at..)?.chars().next()?.len_utf8()
            }
        }
    }
    Some(at)
}

/// Where `segment` ends at its leftmost match in `value` from byte `from`.
fn find_segment(segment: &[GlobPart], value: &str, from: usize) -> Option<usize> {
    let first_byte = match segment.first() {
        None => return Some(from),
        Some(GlobPart::Literal(s)) => s.as_bytes().first().copied(),
        Some(GlobPart::AnyChar | GlobPart::AnyRun) => None,
    };
    let bytes = value.as_bytes();
    let mut at = from;
    loop {
        if let Some(b) = first_byte {
            // A literal's first byte starts a character, so `at` stays on
            // a boundary.
            at += memchr::memchr(b, bytes.get(at..)?)?;
        }
        if let Some(end) = segment_at(segment, value, at) {
            return Some(end);
        }
        at += value.get(at..)?.chars().next()?.len_utf8();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(
            Pattern::wildcard("/tmp/*", false),
            Pattern::Prefix("/tmp/".into())
        );
        assert_eq!(
            Pattern::wildcard("*.exe", false),
            Pattern::Suffix(".exe".into())
        );
        assert_eq!(
            Pattern::wildcard("*x*", false),
            Pattern::Contains("x".into())
        );
        assert_eq!(Pattern::wildcard("a", false), Pattern::Exact("a".into()));
        assert!(matches!(
            Pattern::wildcard("/tmp/.sentry-cli*.exe", false),
            Pattern::Glob(_)
        ));
    }

    #[test]
    fn glob() {
        let p = Pattern::wildcard("/tmp/.sentry-cli*.exe", false);
        assert!(p.matches("/tmp/.sentry-cli.exe"));
        assert!(p.matches("/tmp/.sentry-cli-1.2.exe"));
        assert!(!p.matches("/tmp/.sentry-cli.exe.bak"));
        let q = Pattern::wildcard("a?c", false);
        assert!(q.matches("abc"));
        assert!(q.matches("aéc"));
        assert!(!q.matches("ac"));
        assert!(!q.matches("abbc"));
        let dot = Pattern::wildcard("/run/systemd/journal/streams/.*", false);
        assert!(dot.matches("/run/systemd/journal/streams/.x"));
        assert!(!dot.matches("/run/systemd/journal/streams/x"));
        assert!(Pattern::wildcard("*a*b*c*", false).matches("xxaxxbxxcxx"));
        assert!(!Pattern::wildcard("*a*b*c", false).matches("xxaxxbxxcxx"));
    }

    /// The glob matcher this one replaced: two cursors, backtracking to
    /// the last `*` one character at a time.
    fn glob_oracle(parts: &[GlobPart], value: &str) -> bool {
        let (mut part, mut at) = (0, 0);
        let mut backtrack: Option<(usize, usize)> = None;
        loop {
            if part == parts.len() {
                if at == value.len() {
                    return true;
                }
            } else {
                match &parts[part] {
                    GlobPart::AnyRun => {
                        part += 1;
                        backtrack = Some((part, at));
                        continue;
                    }
                    GlobPart::AnyChar => {
                        if let Some(c) = value[at..].chars().next() {
                            part += 1;
                            at += c.len_utf8();
                            continue;
                        }
                    }
                    GlobPart::Literal(s) => {
                        if value[at..].starts_with(s.as_str()) {
                            part += 1;
                            at += s.len();
                            continue;
                        }
                    }
                }
            }
            match backtrack {
                Some((p, v)) => match value[v..].chars().next() {
                    Some(c) => {
                        backtrack = Some((p, v + c.len_utf8()));
                        (part, at) = (p, v + c.len_utf8());
                    }
                    None => return false,
                },
                None => return false,
            }
        }
    }

    #[test]
    fn glob_agrees_with_backtracking() {
        // Every glob over a small alphabet against every short string.
        let alphabet = ["a", "b", "é", "*", "?"];
        let mut globs = alloc::vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = globs
                .iter()
                .flat_map(|g| alphabet.iter().map(move |c| alloc::format!("{g}{c}")))
                .collect();
            globs.extend(longer);
            globs.dedup();
        }
        let mut values = alloc::vec![String::new()];
        for _ in 0..5 {
            let longer: Vec<String> = values
                .iter()
                .flat_map(|v| {
                    ["a", "b", "é"]
                        .iter()
                        .map(move |c| alloc::format!("{v}{c}"))
                })
                .collect();
            values.extend(longer);
        }
        values.sort();
        values.dedup();
        for glob in &globs {
            let Pattern::Glob(parts) = Pattern::wildcard(glob, false) else {
                continue;
            };
            for value in &values {
                assert_eq!(
                    glob_matches(&parts, value),
                    glob_oracle(&parts, value),
                    "{glob:?} on {value:?}"
                );
            }
        }
    }

    #[test]
    fn insensitive() {
        let p = Pattern::wildcard("/TMP/*", true);
        assert!(p.matches(&fold("/tmp/X")));
        assert!(p.matches(&fold("/Tmp/X")));
    }
}
