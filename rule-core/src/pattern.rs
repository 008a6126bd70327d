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

/// Classic two-cursor glob match with backtracking to the last `*`:
/// linear in practice, and never recursive, so no input can blow the stack.
fn glob_matches(parts: &[GlobPart], value: &str) -> bool {
    let mut part = 0;
    let mut at = 0; // byte offset in value
    let mut backtrack: Option<(usize, usize)> = None; // (part after `*`, value offset)
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
        // Mismatch: let the last `*` swallow one more character.
        match backtrack {
            Some((p, v)) => match value[v..].chars().next() {
                Some(c) => {
                    let next = v + c.len_utf8();
                    backtrack = Some((p, next));
                    part = p;
                    at = next;
                }
                None => return false,
            },
            None => return false,
        }
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

    #[test]
    fn insensitive() {
        let p = Pattern::wildcard("/TMP/*", true);
        assert!(p.matches(&fold("/tmp/X")));
        assert!(p.matches(&fold("/Tmp/X")));
    }
}
