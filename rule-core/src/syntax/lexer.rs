//! Cuts EQL text into tokens, each with its line and column.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Position, RuleError};

#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// A name: a keyword, a function, or a dotted field path.
    Name(String),
    /// A backquoted field name: `` `@timestamp` ``.
    QuotedName(String),
    String(String),
    Integer(i64),
    Float(f64),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Tilde,
    Assign,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Pipe,
    /// `?` right before a field name: an optional field.
    Question,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    /// Any other operator character, kept to name it in an error.
    Other(char),
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub position: Position,
    /// Byte offsets in the source, so the parser can tell adjacency (`like~`, `5s`).
    pub start: usize,
    pub end: usize,
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    at: usize,
    line: u32,
    line_start: usize,
    /// The last position handed out on this line: (byte offset, characters
    /// before it), so that columns are counted once, not from the line's
    /// start for every token (a one-line query of 100 000 tokens).
    column_mark: core::cell::Cell<(usize, u32)>,
}

/// Tokenises a whole query; the last token is always [`TokenKind::End`].
pub fn tokenize(src: &str) -> Result<Vec<Token>, RuleError> {
    let mut lx = Lexer {
        src,
        bytes: src.as_bytes(),
        at: 0,
        line: 1,
        line_start: 0,
        column_mark: core::cell::Cell::new((0, 0)),
    };
    let mut out = Vec::new();
    loop {
        lx.skip_trivia()?;
        let start = lx.at;
        let position = lx.position();
        let kind = match lx.bytes.get(lx.at) {
            None => {
                out.push(Token {
                    kind: TokenKind::End,
                    position,
                    start,
                    end: start,
                });
                return Ok(out);
            }
            Some(&b) => lx.token(b, position)?,
        };
        out.push(Token {
            kind,
            position,
            start,
            end: lx.at,
        });
    }
}

impl Lexer<'_> {
    fn position(&self) -> Position {
        let (mark, before) = self.column_mark.get();
        let (from, counted) = if mark >= self.line_start && mark <= self.at {
            (mark, before)
        } else {
            (self.line_start, 0)
        };
        let chars = counted.saturating_add(self.src[from..self.at].chars().count() as u32);
        self.column_mark.set((self.at, chars));
        Position {
            line: self.line,
            column: chars + 1,
        }
    }

    fn newline(&mut self) {
        self.line += 1;
        self.line_start = self.at;
        self.column_mark.set((self.at, 0));
    }

    fn skip_trivia(&mut self) -> Result<(), RuleError> {
        while let Some(&b) = self.bytes.get(self.at) {
            match b {
                b'\n' => {
                    self.at += 1;
                    self.newline();
                }
                b' ' | b'\t' | b'\r' => self.at += 1,
                b'/' if self.bytes.get(self.at + 1) == Some(&b'/') => {
                    while self.bytes.get(self.at).is_some_and(|&c| c != b'\n') {
                        self.at += 1;
                    }
                }
                b'/' if self.bytes.get(self.at + 1) == Some(&b'*') => {
                    let position = self.position();
                    self.at += 2;
                    loop {
                        match self.bytes.get(self.at) {
                            None => return Err(RuleError::at(position, "unterminated comment")),
                            Some(b'*') if self.bytes.get(self.at + 1) == Some(&b'/') => {
                                self.at += 2;
                                break;
                            }
                            Some(b'\n') => {
                                self.at += 1;
                                self.newline();
                            }
                            Some(_) => self.at += 1,
                        }
                    }
                }
                _ => break,
            }
        }
        Ok(())
    }

    fn token(&mut self, b: u8, position: Position) -> Result<TokenKind, RuleError> {
        let two = |lx: &mut Self, next: u8, yes: TokenKind, no: TokenKind| {
            if lx.bytes.get(lx.at + 1) == Some(&next) {
                lx.at += 2;
                yes
            } else {
                lx.at += 1;
                no
            }
        };
        Ok(match b {
            b'(' => self.single(TokenKind::LParen),
            b')' => self.single(TokenKind::RParen),
            b'[' => self.single(TokenKind::LBracket),
            b']' => self.single(TokenKind::RBracket),
            b',' => self.single(TokenKind::Comma),
            b':' => self.single(TokenKind::Colon),
            b'~' => self.single(TokenKind::Tilde),
            b'|' => self.single(TokenKind::Pipe),
            b'=' => two(self, b'=', TokenKind::Eq, TokenKind::Assign),
            b'!' => two(self, b'=', TokenKind::NotEq, TokenKind::Other('!')),
            b'<' => two(self, b'=', TokenKind::LtEq, TokenKind::Lt),
            b'>' => two(self, b'=', TokenKind::GtEq, TokenKind::Gt),
            b'"' => self.string(position)?,
            b'\'' => {
                return Err(RuleError::at(
                    position,
                    "single-quoted strings are not EQL: use double quotes",
                ))
            }
            b'?' if self.bytes.get(self.at + 1) == Some(&b'"') => {
                return Err(RuleError::at(
                    position,
                    "?\"...\" raw strings are not EQL: use \"\"\"...\"\"\"",
                ))
            }
            b'?' => self.single(TokenKind::Question),
            b'+' => self.single(TokenKind::Plus),
            // A sign is an operator, as in Elasticsearch's grammar: `a-1` is
            // a subtraction, and the parser folds `-1` into a literal.
            b'-' => self.single(TokenKind::Minus),
            b'*' => self.single(TokenKind::Star),
            b'/' => self.single(TokenKind::Slash),
            b'%' => self.single(TokenKind::Percent),
            b'`' => self.quoted_name(position)?,
            b'0'..=b'9' => self.number(position)?,
            c if c == b'_' || c == b'@' || c.is_ascii_alphabetic() => self.name(),
            _ => {
                let c = self.src[self.at..].chars().next().unwrap_or('\u{fffd}');
                self.at += c.len_utf8();
                TokenKind::Other(c)
            }
        })
    }

    fn single(&mut self, kind: TokenKind) -> TokenKind {
        self.at += 1;
        kind
    }

    fn name(&mut self) -> TokenKind {
        let start = self.at;
        loop {
            while self
                .bytes
                .get(self.at)
                .is_some_and(|&c| c == b'_' || c == b'@' || c.is_ascii_alphanumeric())
            {
                self.at += 1;
            }
            // A dot continues a field path only when a name part follows it.
            let next_is_part = self
                .bytes
                .get(self.at + 1)
                .is_some_and(|&c| c == b'_' || c == b'@' || c.is_ascii_alphanumeric());
            if self.bytes.get(self.at) == Some(&b'.') && next_is_part {
                self.at += 1;
            } else {
                break;
            }
        }
        TokenKind::Name(String::from(&self.src[start..self.at]))
    }

    fn quoted_name(&mut self, position: Position) -> Result<TokenKind, RuleError> {
        self.at += 1;
        let start = self.at;
        while let Some(&c) = self.bytes.get(self.at) {
            if c == b'`' {
                let name = String::from(&self.src[start..self.at]);
                self.at += 1;
                return Ok(TokenKind::QuotedName(name));
            }
            if c == b'\n' {
                break;
            }
            self.at += 1;
        }
        Err(RuleError::at(position, "unterminated `quoted` field name"))
    }

    fn number(&mut self, position: Position) -> Result<TokenKind, RuleError> {
        let start = self.at;
        let digits = |lx: &mut Self| {
            while lx.bytes.get(lx.at).is_some_and(u8::is_ascii_digit) {
                lx.at += 1;
            }
        };
        digits(self);
        let mut is_float = false;
        if self.bytes.get(self.at) == Some(&b'.')
            && self.bytes.get(self.at + 1).is_some_and(u8::is_ascii_digit)
        {
            is_float = true;
            self.at += 1;
            digits(self);
        }
        if matches!(self.bytes.get(self.at), Some(b'e' | b'E')) {
            let mut probe = self.at + 1;
            if matches!(self.bytes.get(probe), Some(b'+' | b'-')) {
                probe += 1;
            }
            if self.bytes.get(probe).is_some_and(u8::is_ascii_digit) {
                is_float = true;
                self.at = probe;
                digits(self);
            }
        }
        let text = &self.src[start..self.at];
        if is_float {
            text.parse::<f64>()
                .map(TokenKind::Float)
                .map_err(|_| RuleError::at(position, format!("bad number {text:?}")))
        } else {
            text.parse::<i64>()
                .map(TokenKind::Integer)
                .map_err(|_| RuleError::at(position, format!("number {text} is out of range")))
        }
    }

    fn string(&mut self, position: Position) -> Result<TokenKind, RuleError> {
        if self.src[self.at..].starts_with("\"\"\"") {
            self.at += 3;
            let start = self.at;
            return match self.src[start..].find("\"\"\"") {
                Some(len) => {
                    let text = &self.src[start..start + len];
                    for (i, c) in text.char_indices() {
                        if c == '\n' {
                            self.at = start + i + 1;
                            self.newline();
                        }
                    }
                    self.at = start + len + 3;
                    Ok(TokenKind::String(String::from(text)))
                }
                None => Err(RuleError::at(
                    position,
                    "unterminated \"\"\"raw string\"\"\"",
                )),
            };
        }
        self.at += 1;
        let mut out = String::new();
        loop {
            let rest = &self.src[self.at..];
            let Some(c) = rest.chars().next() else {
                return Err(RuleError::at(position, "unterminated string"));
            };
            match c {
                '"' => {
                    self.at += 1;
                    return Ok(TokenKind::String(out));
                }
                '\n' | '\r' => {
                    return Err(RuleError::at(position, "line break inside a string"));
                }
                '\\' => {
                    let esc_pos = self.position();
                    let Some(e) = rest[1..].chars().next() else {
                        return Err(RuleError::at(position, "unterminated string"));
                    };
                    self.at += 1 + e.len_utf8();
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        '"' => out.push('"'),
                        '\'' => out.push('\''),
                        '\\' => out.push('\\'),
                        'u' => out.push(self.unicode_escape(esc_pos)?),
                        other => {
                            return Err(RuleError::at(
                                esc_pos,
                                format!("unknown escape sequence \\{other}"),
                            ))
                        }
                    }
                }
                c => {
                    out.push(c);
                    self.at += c.len_utf8();
                }
            }
        }
    }

    /// `\u{1F600}`: 2 to 8 hex digits in braces, as Elasticsearch's EQL reads them.
    fn unicode_escape(&mut self, position: Position) -> Result<char, RuleError> {
        let bad = || RuleError::at(position, "bad unicode escape: expected \\u{XXXX}");
        if self.bytes.get(self.at) != Some(&b'{') {
            return Err(bad());
        }
        let close = self.src[self.at..].find('}').ok_or_else(bad)?;
        let hex = &self.src[self.at + 1..self.at + close];
        if !(2..=8).contains(&hex.len()) {
            return Err(bad());
        }
        let code = u32::from_str_radix(hex, 16).map_err(|_| bad())?;
        self.at += close + 1;
        char::from_u32(code).ok_or_else(bad)
    }
}
