//! Lucene `RegExp` syntax to a syntax tree, with the flags Elasticsearch's
//! `regexp` query uses (`RegexpFlag.ALL`: intersection `&`, complement `~`,
//! empty language `#`, any string `@`, numeric intervals `<n-m>`, named
//! automata `<name>`).
//!
//! The parser mirrors Lucene 10's `RegExp` production by production, quirks
//! included, because a pattern means what Lucene reads, not what a Perl
//! reader would: a reserved character where no operator can start is a
//! literal (`*a`, `a||b` is `a` or `|b`), `\` before a non-letter is that
//! character, an unknown letter escape is an error, an escaped character in
//! a class cannot start a range, and a class range does not fold case.
//!
//! Positions are byte offsets into the pattern. Depth is bounded by
//! [`MAX_DEPTH`](super::MAX_DEPTH): every node counts one more than its
//! deepest child, so neither parsing nor any later walk of the tree can
//! overflow a small (wasm) stack.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::{RegexpError, RegexpErrorKind, MAX_DEPTH, MAX_REPEAT};

/// One node of a Lucene regular expression and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: NodeKind,
    /// Byte offset of the node's first character in the pattern.
    pub offset: usize,
    depth: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// One character, folded when the match is case-insensitive.
    Char(char),
    /// `"..."` (or `()`, the empty string): each character folds like `Char`.
    Literal(String),
    /// `.`: any one character.
    AnyChar,
    /// `@`: any string.
    AnyString,
    /// `#`: the empty language (matches nothing, not even "").
    Nothing,
    /// `[...]`, `[^...]`, or a predefined class (`\d`, `\W`, ...) on its own.
    Class {
        negated: bool,
        items: Vec<ClassItem>,
    },
    /// `<min-max>`: decimal numbers; with `digits` > 0, exactly that many
    /// digits (zero-padded), else any count of leading zeros.
    Interval {
        min: u32,
        max: u32,
        digits: usize,
    },
    Concat(Vec<Node>),
    Union(Vec<Node>),
    Intersection(Vec<Node>),
    /// `~x`: every string that `x` does not match.
    Complement(Box<Node>),
    /// `?` is {0,1}, `*` {0,}, `+` {1,}; `max: None` is unbounded.
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassItem {
    /// A single character; folds case when the match is case-insensitive.
    Char(char),
    /// An escaped character (`[\.]`): Lucene does not fold it.
    Escaped(char),
    /// `a-z`: never folded (Lucene #14378).
    Range(char, char),
    /// `\d \D \s \S \w \W`, ASCII definitions; never folded.
    Perl(Perl),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perl {
    Digit,
    NotDigit,
    Space,
    NotSpace,
    Word,
    NotWord,
}

impl Node {
    fn leaf(kind: NodeKind, offset: usize) -> Node {
        Node {
            kind,
            offset,
            depth: 1,
        }
    }
}

/// Parses a whole pattern; the empty pattern is the empty string.
pub fn parse(pattern: &str) -> Result<Node, RegexpError> {
    let mut parser = Parser {
        text: pattern,
        pos: 0,
    };
    if pattern.is_empty() {
        return Ok(Node::leaf(NodeKind::Literal(String::new()), 0));
    }
    let node = parser.union(0)?;
    if parser.pos < pattern.len() {
        return Err(parser.error(RegexpErrorKind::TrailingInput));
    }
    Ok(node)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, kind: RegexpErrorKind) -> RegexpError {
        RegexpError {
            offset: self.pos,
            kind,
        }
    }

    fn peek_char(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn more(&self) -> bool {
        self.pos < self.text.len()
    }

    fn peek(&self, set: &str) -> bool {
        self.peek_char().is_some_and(|c| set.contains(c))
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek_char() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn next(&mut self) -> Result<char, RegexpError> {
        let c = self
            .peek_char()
            .ok_or_else(|| self.error(RegexpErrorKind::UnexpectedEnd))?;
        self.pos += c.len_utf8();
        Ok(c)
    }

    fn expect(&mut self, c: char) -> Result<(), RegexpError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(RegexpErrorKind::Expected(c)))
        }
    }

    /// Builds an inner node, refusing it past the depth bound.
    fn inner(&self, kind: NodeKind, offset: usize, depth: usize) -> Result<Node, RegexpError> {
        if depth > MAX_DEPTH {
            return Err(RegexpError {
                offset,
                kind: RegexpErrorKind::TooDeep { max: MAX_DEPTH },
            });
        }
        Ok(Node {
            kind,
            offset,
            depth,
        })
    }

    /// `unionexp ::= interexp ( '|' interexp )*`
    fn union(&mut self, nesting: usize) -> Result<Node, RegexpError> {
        let first = self.intersection(nesting)?;
        if !self.peek("|") {
            return Ok(first);
        }
        let offset = first.offset;
        let mut depth = first.depth;
        let mut alternatives = alloc::vec![first];
        while self.eat('|') {
            let next = self.intersection(nesting)?;
            depth = depth.max(next.depth);
            alternatives.push(next);
        }
        self.inner(NodeKind::Union(alternatives), offset, depth + 1)
    }

    /// `interexp ::= concatexp ( '&' concatexp )*`
    fn intersection(&mut self, nesting: usize) -> Result<Node, RegexpError> {
        let first = self.concat(nesting)?;
        if !self.peek("&") {
            return Ok(first);
        }
        let offset = first.offset;
        let mut depth = first.depth;
        let mut operands = alloc::vec![first];
        while self.eat('&') {
            let next = self.concat(nesting)?;
            depth = depth.max(next.depth);
            operands.push(next);
        }
        self.inner(NodeKind::Intersection(operands), offset, depth + 1)
    }

    /// `concatexp ::= repeatexp+`, stopping before `)`, `|` and `&`.
    fn concat(&mut self, nesting: usize) -> Result<Node, RegexpError> {
        let first = self.repeat(nesting)?;
        if !self.more() || self.peek(")|&") {
            return Ok(first);
        }
        let offset = first.offset;
        let mut depth = first.depth;
        let mut items = alloc::vec![first];
        while self.more() && !self.peek(")|&") {
            let next = self.repeat(nesting)?;
            depth = depth.max(next.depth);
            items.push(next);
        }
        self.inner(NodeKind::Concat(items), offset, depth + 1)
    }

    /// `repeatexp ::= complexp ( '?' | '*' | '+' | '{n}' | '{n,}' | '{n,m}' )*`
    fn repeat(&mut self, nesting: usize) -> Result<Node, RegexpError> {
        let mut node = self.complement(nesting)?;
        while self.peek("?*+{") {
            let (min, max) = if self.eat('?') {
                (0, Some(1))
            } else if self.eat('*') {
                (0, None)
            } else if self.eat('+') {
                (1, None)
            } else {
                self.pos += 1; // '{'
                self.counts()?
            };
            let (offset, depth) = (node.offset, node.depth + 1);
            let kind = NodeKind::Repeat {
                node: Box::new(node),
                min,
                max,
            };
            node = self.inner(kind, offset, depth)?;
        }
        Ok(node)
    }

    /// The inside of `{n}`, `{n,}`, `{n,m}` after the `{`, and the `}`.
    fn counts(&mut self) -> Result<(u32, Option<u32>), RegexpError> {
        let min = self
            .count()?
            .ok_or_else(|| self.error(RegexpErrorKind::IntegerExpected))?;
        let max = if self.eat(',') {
            self.count()?
        } else {
            Some(min)
        };
        self.expect('}')?;
        if let Some(max) = max {
            if min > max {
                return Err(self.error(RegexpErrorKind::RepeatOutOfOrder { min, max }));
            }
        }
        Ok((min, max))
    }

    /// ASCII digits as a repetition count, if any. Lucene refuses what does
    /// not fit a Java `int`; we refuse anything above [`MAX_REPEAT`].
    fn count(&mut self) -> Result<Option<u32>, RegexpError> {
        let start = self.pos;
        while self.peek("0123456789") {
            self.pos += 1;
        }
        if start == self.pos {
            return Ok(None);
        }
        match self.text[start..self.pos].parse::<u32>() {
            Ok(n) if n <= MAX_REPEAT => Ok(Some(n)),
            _ => Err(RegexpError {
                offset: start,
                kind: RegexpErrorKind::RepeatTooLarge { max: MAX_REPEAT },
            }),
        }
    }

    /// `complexp ::= '~' complexp | charclassexp`, the chain of `~` taken
    /// in a loop rather than by recursion.
    fn complement(&mut self, nesting: usize) -> Result<Node, RegexpError> {
        let mut tildes = Vec::new();
        while self.peek("~") {
            tildes.push(self.pos);
            self.pos += 1;
        }
        let mut node = self.class_or_simple(nesting)?;
        while let Some(offset) = tildes.pop() {
            let depth = node.depth + 1;
            node = self.inner(NodeKind::Complement(Box::new(node)), offset, depth)?;
        }
        Ok(node)
    }

    /// `charclassexp ::= '[' '^'? charclasses ']' | simpleexp`
    fn class_or_simple(&mut self, nesting: usize) -> Result<Node, RegexpError> {
        let offset = self.pos;
        if !self.eat('[') {
            return self.simple(nesting);
        }
        let negated = self.eat('^');
        let mut items = Vec::new();
        // Lucene's do-while: a class has at least one item, so `[]]` is `]`.
        loop {
            if self.eat('\\') {
                if self.peek_char().is_some_and(is_class_escape) {
                    items.push(self.class_escape()?);
                } else {
                    items.push(ClassItem::Escaped(self.next()?));
                }
            } else {
                let at = self.pos;
                let c = self.char_exp()?;
                if self.eat('-') {
                    let to = self.char_exp()?;
                    if c > to {
                        return Err(RegexpError {
                            offset: at,
                            kind: RegexpErrorKind::ClassRangeOutOfOrder { from: c, to },
                        });
                    }
                    items.push(ClassItem::Range(c, to));
                } else {
                    items.push(ClassItem::Char(c));
                }
            }
            if !self.more() || self.peek("]") {
                break;
            }
        }
        self.expect(']')?;
        Ok(Node::leaf(NodeKind::Class { negated, items }, offset))
    }

    /// After a `\`, at a letter or `\`: a predefined class, `\\`, or an error
    /// (Lucene follows `java.util.regex`: no other letter may be escaped).
    fn class_escape(&mut self) -> Result<ClassItem, RegexpError> {
        let at = self.pos;
        let c = self.next()?;
        let perl = match c {
            '\\' => return Ok(ClassItem::Escaped('\\')),
            'd' => Perl::Digit,
            'D' => Perl::NotDigit,
            's' => Perl::Space,
            'S' => Perl::NotSpace,
            'w' => Perl::Word,
            'W' => Perl::NotWord,
            other => {
                return Err(RegexpError {
                    offset: at - 1,
                    kind: RegexpErrorKind::InvalidEscape(other),
                })
            }
        };
        Ok(ClassItem::Perl(perl))
    }

    /// `simpleexp`: `.`, `#`, `@`, `"..."`, `()`, `(unionexp)`, `<...>`, a
    /// predefined class, or one (possibly escaped) character.
    fn simple(&mut self, nesting: usize) -> Result<Node, RegexpError> {
        let offset = self.pos;
        if self.eat('.') {
            return Ok(Node::leaf(NodeKind::AnyChar, offset));
        }
        if self.eat('#') {
            return Ok(Node::leaf(NodeKind::Nothing, offset));
        }
        if self.eat('@') {
            return Ok(Node::leaf(NodeKind::AnyString, offset));
        }
        if self.eat('"') {
            let start = self.pos;
            let len = self.text[start..].find('"').ok_or(RegexpError {
                offset: self.text.len(),
                kind: RegexpErrorKind::Expected('"'),
            })?;
            self.pos = start + len + 1;
            let text = String::from(&self.text[start..start + len]);
            return Ok(Node::leaf(NodeKind::Literal(text), offset));
        }
        if self.eat('(') {
            if self.eat(')') {
                return Ok(Node::leaf(NodeKind::Literal(String::new()), offset));
            }
            if nesting + 1 > MAX_DEPTH {
                return Err(RegexpError {
                    offset,
                    kind: RegexpErrorKind::TooDeep { max: MAX_DEPTH },
                });
            }
            let inner = self.union(nesting + 1)?;
            self.expect(')')?;
            return Ok(inner);
        }
        if self.eat('<') {
            return self.angle(offset);
        }
        if self.eat('\\') && self.peek_char().is_some_and(is_class_escape) {
            let item = self.class_escape()?;
            let items = alloc::vec![item];
            return Ok(Node::leaf(
                NodeKind::Class {
                    negated: false,
                    items,
                },
                offset,
            ));
        }
        let c = self.char_exp()?;
        Ok(Node::leaf(NodeKind::Char(c), offset))
    }

    /// After `<`: `<n-m>` (interval) or `<name>` (named automaton, which
    /// Elasticsearch never provides, so Lucene answers "'name' not found").
    fn angle(&mut self, offset: usize) -> Result<Node, RegexpError> {
        let start = self.pos;
        let len = self.text[start..].find('>').ok_or(RegexpError {
            offset: self.text.len(),
            kind: RegexpErrorKind::Expected('>'),
        })?;
        let body = &self.text[start..start + len];
        self.pos = start + len + 1;
        let Some(dash) = body.find('-') else {
            return Err(RegexpError {
                offset,
                kind: RegexpErrorKind::UnknownAutomaton(String::from(body)),
            });
        };
        let interval_error = RegexpError {
            offset,
            kind: RegexpErrorKind::IntervalSyntax,
        };
        if dash == 0 || dash == body.len() - 1 || body.rfind('-') != Some(dash) {
            return Err(interval_error);
        }
        let (low, high) = (&body[..dash], &body[dash + 1..]);
        let (Some(a), Some(b)) = (java_int(low), java_int(high)) else {
            return Err(interval_error);
        };
        // Same written width: exactly that many digits (`<01-10>` pads).
        let digits = if low.len() == high.len() {
            low.len()
        } else {
            0
        };
        let (min, max) = if a <= b { (a, b) } else { (b, a) };
        Ok(Node::leaf(NodeKind::Interval { min, max, digits }, offset))
    }

    /// `charexp ::= '\'? <character>`
    fn char_exp(&mut self) -> Result<char, RegexpError> {
        self.eat('\\');
        self.next()
    }
}

/// What Lucene's `expandPreDefined` is reached for: `\` or an ASCII letter.
fn is_class_escape(c: char) -> bool {
    c == '\\' || c.is_ascii_alphabetic()
}

/// `Integer.parseInt` on ASCII input: an optional `+` (a `-` cannot reach
/// here) and decimal digits that fit a Java `int`. Java also reads
/// non-ASCII decimal digits; those are refused here.
fn java_int(text: &str) -> Option<u32> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u32>().ok().filter(|&n| n <= i32::MAX as u32)
}
