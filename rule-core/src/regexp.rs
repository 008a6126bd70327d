//! EQL's `regex` and `regex~`: Lucene regular expressions, run in linear
//! time.
//!
//! Elasticsearch turns `field regex "p"` into a Lucene `regexp` query
//! (ql's `RegexQuery` → `QueryBuilders.regexpQuery(field, p)` with
//! `caseInsensitive` for `regex~`), whose default syntax flags are
//! `RegexpFlag.ALL` = `RegExp.ALL | RegExp.DEPRECATED_COMPLEMENT`
//! (`RegexpQueryBuilder.DEFAULT_FLAGS_VALUE`). So the pattern is Lucene's
//! syntax, not Java's or Perl's: always anchored at both ends, `"..."` is a
//! literal, `@` any string, `#` nothing, `<n-m>` a number range, `~x` the
//! complement and `a&b` the intersection. [`parse`] reads that syntax into
//! a tree, [`lower`] turns the tree into a `regex-syntax` `Hir`, and
//! regex-automata's meta engine (lazy DFA, one-pass DFA, bounded
//! backtracker, Pike VM; never backtracking without a bound) runs it.
//! regex-syntax has no complement or intersection, so a tree with `~` or
//! `&` goes to [`automaton`] instead: our own bounded subset and product
//! constructions, into a DFA walked one byte at a time.
//!
//! `regex~` is Lucene's `ASCII_CASE_INSENSITIVE`, the flag ES sets: Lucene
//! 9 folds ASCII letters only; Lucene 10's newest `RegExp` treats the flag
//! as its Unicode `CASE_INSENSITIVE`. We fold by Unicode simple case
//! folding (the newer behaviour, and what the engine's other `~` operators
//! do), for characters and quoted strings only, as Lucene does.
//!
//! Bounds, each refused with a [`RegexpError`] and never a panic: the
//! pattern's length ([`MAX_PATTERN_LEN`], Elasticsearch's own
//! `index.max_regex_length` default), repetition counts ([`MAX_REPEAT`]),
//! nesting ([`MAX_DEPTH`]), and the compiled program ([`MAX_NFA_BYTES`];
//! the lazy DFA's cache is [`LAZY_DFA_CACHE_BYTES`] and it falls back to the
//! Pike VM rather than grow; with `~` or `&`, [`MAX_DFA_BYTES`] and
//! [`MAX_DETERMINIZE_WORK`]).

mod automaton;
mod lower;
pub(crate) mod parse;

use alloc::string::String;
use alloc::sync::Arc;
use core::fmt;

use regex_automata::meta;
use regex_syntax::hir::{Hir, Look};

/// Longest pattern, in UTF-16 code units as Java counts a `String`:
/// Elasticsearch's `index.max_regex_length` default, which it enforces on
/// every `regexp` query.
pub const MAX_PATTERN_LEN: usize = 1000;
/// Largest `{n}`, `{n,}` or `{n,m}` count. Lucene takes any Java `int`, but
/// a DFA that large is refused by its determinization limit anyway.
pub const MAX_REPEAT: u32 = 1000;
/// Deepest tree: groups, repetitions and complements nested in each other.
pub const MAX_DEPTH: usize = 64;
/// Largest compiled NFA (regex-automata's `nfa_size_limit`).
pub const MAX_NFA_BYTES: usize = 1 << 20;
/// The lazy DFA's cache per pattern (and per thread searching at once).
pub const LAZY_DFA_CACHE_BYTES: usize = 256 << 10;
/// Largest transition table of a pattern with `~` or `&` (built by our own
/// subset construction; see `automaton`), and of each step towards it.
pub const MAX_DFA_BYTES: usize = 1 << 20;
/// Subset-construction steps (NFA states and edges visited) for one
/// pattern with `~` or `&`: bounds its compile time.
pub const MAX_DETERMINIZE_WORK: usize = 5_000_000;

/// A compiled Lucene regular expression: does a whole string match?
///
/// Cheap to clone (the program is shared), and `Send + Sync`: searches
/// take `&self` and find their scratch space in a pool.
///
/// ```
/// use rule_core::{Regexp, RegexpErrorKind};
///
/// // Anchored at both ends, as Lucene matches whole terms.
/// let shell = Regexp::new(".*sh", false).unwrap();
/// assert!(shell.is_match("bash") && !shell.is_match("bash -c"));
/// // `regex~`: characters fold, class ranges do not (as in Lucene).
/// let folded = Regexp::new("BA[a-z]h", true).unwrap();
/// assert!(folded.is_match("bash") && !folded.is_match("baSh"));
/// // Lucene's syntax, not Perl's: `<n-m>` is a number range, `\n` an error.
/// assert!(Regexp::new("port<1-1024>", false).unwrap().is_match("port443"));
/// let refused = Regexp::new("a\\nb", false).unwrap_err();
/// assert_eq!((refused.offset, refused.kind), (1, RegexpErrorKind::InvalidEscape('n')));
/// ```
#[derive(Clone)]
pub struct Regexp {
    pattern: String,
    case_insensitive: bool,
    matcher: Matcher,
}

#[derive(Clone)]
enum Matcher {
    /// Everything regex-syntax can express: regex-automata's meta engine.
    Meta(meta::Regex),
    /// Patterns with complement or intersection: our own DFA.
    Dfa(Arc<automaton::Dfa>),
}

impl Regexp {
    /// Compiles `pattern` as Elasticsearch's `regexp` query reads it;
    /// `case_insensitive` is `regex~`.
    pub fn new(pattern: &str, case_insensitive: bool) -> Result<Regexp, RegexpError> {
        let utf16_len = pattern.chars().map(char::len_utf16).sum::<usize>();
        if utf16_len > MAX_PATTERN_LEN {
            return Err(RegexpError {
                offset: 0,
                kind: RegexpErrorKind::TooLong {
                    len: utf16_len,
                    max: MAX_PATTERN_LEN,
                },
            });
        }
        let tree = parse::parse(pattern)?;
        let matcher = if automaton::needs_automaton(&tree) {
            Matcher::Dfa(Arc::new(automaton::compile(&tree, case_insensitive)?))
        } else {
            Matcher::Meta(Self::meta(&tree, case_insensitive)?)
        };
        Ok(Regexp {
            pattern: String::from(pattern),
            case_insensitive,
            matcher,
        })
    }

    fn meta(tree: &parse::Node, case_insensitive: bool) -> Result<meta::Regex, RegexpError> {
        let hir = lower::lower(tree, case_insensitive)?;
        let anchored = Hir::concat(alloc::vec![
            Hir::look(Look::Start),
            hir,
            Hir::look(Look::End)
        ]);
        let config = meta::Config::new()
            .nfa_size_limit(Some(MAX_NFA_BYTES))
            .onepass_size_limit(Some(MAX_NFA_BYTES))
            .hybrid_cache_capacity(LAZY_DFA_CACHE_BYTES);
        meta::Builder::new()
            .configure(config)
            .build_from_hir(&anchored)
            .map_err(|_| RegexpError {
                offset: 0,
                kind: RegexpErrorKind::TooBig { max: MAX_NFA_BYTES },
            })
    }

    /// Does the whole of `haystack` match? Linear in its length.
    pub fn is_match(&self, haystack: &str) -> bool {
        match &self.matcher {
            Matcher::Meta(regex) => regex.is_match(haystack),
            Matcher::Dfa(dfa) => dfa.is_match(haystack),
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Was it compiled for `regex~`?
    pub fn is_case_insensitive(&self) -> bool {
        self.case_insensitive
    }
}

/// Two compiled patterns are equal when they were built from the same text
/// and flag (they then match the same strings).
impl PartialEq for Regexp {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern && self.case_insensitive == other.case_insensitive
    }
}

impl Eq for Regexp {}

impl fmt::Debug for Regexp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Regexp")
            .field("pattern", &self.pattern)
            .field("case_insensitive", &self.case_insensitive)
            .finish()
    }
}

/// A pattern refused: where (a byte offset into the pattern) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegexpError {
    pub offset: usize,
    pub kind: RegexpErrorKind,
}

/// Why a pattern is refused. Every refusal but the last four is one Lucene
/// makes too, so Elasticsearch refuses the same query; `TooLong` is
/// Elasticsearch's own limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegexpErrorKind {
    /// The pattern ended inside a construct.
    UnexpectedEnd,
    /// A closing `)`, `]`, `}`, `"` or `>` is missing.
    Expected(char),
    /// Text after a complete expression (an unmatched `)`).
    TrailingInput,
    /// `{` not followed by a number.
    IntegerExpected,
    /// `{n,m}` with `n > m`.
    RepeatOutOfOrder { min: u32, max: u32 },
    /// `[z-a]`.
    ClassRangeOutOfOrder { from: char, to: char },
    /// A backslash before a letter that names no class (`\n`, `\t`, `\b`...):
    /// Lucene, like `java.util.regex`, refuses it.
    InvalidEscape(char),
    /// `<...>` with a `-` that is not `<n-m>` of two non-negative integers.
    IntervalSyntax,
    /// `<name>`: a named automaton; Elasticsearch provides none.
    UnknownAutomaton(String),
    /// Longer than [`MAX_PATTERN_LEN`] UTF-16 code units (Elasticsearch's
    /// `index.max_regex_length`).
    TooLong { len: usize, max: usize },
    /// A repetition count above [`MAX_REPEAT`] (this engine's bound).
    RepeatTooLarge { max: u32 },
    /// Nested deeper than [`MAX_DEPTH`] (this engine's bound).
    TooDeep { max: usize },
    /// The compiled program would exceed [`MAX_NFA_BYTES`] (this engine's
    /// bound; Lucene has its own determinization limit).
    TooBig { max: usize },
    /// A pattern with `~` or `&` whose DFA would pass [`MAX_DFA_BYTES`] or
    /// [`MAX_DETERMINIZE_WORK`] (this engine's bounds, in the spirit of
    /// Lucene's determinization work limit, which ES applies to `~`).
    TooComplex,
}

impl fmt::Display for RegexpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "regular expression, at byte {}: ", self.offset)?;
        match &self.kind {
            RegexpErrorKind::UnexpectedEnd => write!(f, "unexpected end of pattern"),
            RegexpErrorKind::Expected(c) => write!(f, "expected '{c}'"),
            RegexpErrorKind::TrailingInput => {
                write!(f, "end of pattern expected (unmatched ')'?)")
            }
            RegexpErrorKind::IntegerExpected => write!(f, "a number expected after '{{'"),
            RegexpErrorKind::RepeatOutOfOrder { min, max } => {
                write!(
                    f,
                    "repetition {{{min},{max}}} has its minimum above its maximum"
                )
            }
            RegexpErrorKind::ClassRangeOutOfOrder { from, to } => {
                write!(f, "class range {from:?}-{to:?} is out of order")
            }
            RegexpErrorKind::InvalidEscape(c) => write!(
                f,
                "'\\{c}' is not a character class (Lucene allows \\d \\D \\s \\S \\w \\W)"
            ),
            RegexpErrorKind::IntervalSyntax => {
                write!(
                    f,
                    "a numeric interval is <min-max> with non-negative integers"
                )
            }
            RegexpErrorKind::UnknownAutomaton(name) => {
                write!(
                    f,
                    "named automaton <{name}> not found (Elasticsearch defines none)"
                )
            }
            RegexpErrorKind::TooLong { len, max } => write!(
                f,
                "pattern of {len} characters is longer than the maximum of {max} \
                 (Elasticsearch's index.max_regex_length)"
            ),
            RegexpErrorKind::RepeatTooLarge { max } => {
                write!(f, "repetition count above the maximum of {max}")
            }
            RegexpErrorKind::TooDeep { max } => {
                write!(f, "nested deeper than the maximum of {max}")
            }
            RegexpErrorKind::TooBig { max } => {
                write!(f, "compiled pattern larger than the maximum of {max} bytes")
            }
            RegexpErrorKind::TooComplex => write!(
                f,
                "complement (~) or intersection (&) too complex to determinize \
                 within {MAX_DFA_BYTES} bytes and {MAX_DETERMINIZE_WORK} steps"
            ),
        }
    }
}

impl core::error::Error for RegexpError {}

#[cfg(test)]
mod tests;
