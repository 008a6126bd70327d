//! Recursive descent from tokens to [`ast::Query`](super::ast::Query).
//!
//! Grammar, following Elasticsearch's `EqlBase.g4`:
//!
//! ```text
//! statement   := query pipe*
//! query       := sequence | sample | eventFilter
//! sequence    := "sequence" (by | with)* stage stage+ ("until" stage)?
//! sample      := "sample" by? stage+
//! by          := "by" field ("," field)*
//! with        := "with" "maxspan" "=" INTEGER UNIT            UNIT: ms s m h d
//! stage       := "!"? "[" eventFilter "]" (("with" "runs" "=" INTEGER) | by)*
//! pipe        := "|" ("head" | "tail") INTEGER
//! eventFilter := ("any" | NAME | STRING) "where" expr
//! expr        := and ("or" and)*
//! and         := not ("and" not)*
//! not         := "not" not | comparison
//! comparison  := additive (CMP additive)?
//! additive    := multiplicative (("+" | "-") multiplicative)*
//! multiplicative := unary (("*" | "/" | "%") unary)*
//! unary       := ("-" | "+") unary | predicate
//! predicate   := primary ("not"? "in" "~"? "(" expr ("," expr)* ")"
//!                        | "not"? MATCHOP (literal | "(" literal ("," literal)* ")"))?
//! MATCHOP     := ":" | "like" | "like~" | "regex" | "regex~"
//! primary     := literal | "?"? field | NAME "~"? "(" args ")" | "(" expr ")"
//! ```
//!
//! As in Elasticsearch, a predicate binds to the primary before it
//! (`a + b in (1, 2)` tests `b`), a comparison does not chain, and a sign
//! before a number is folded into the literal. `join` (which Elasticsearch
//! refuses too) and pipes other than `head` and `tail` are refused with
//! their line and column.

mod expr;
mod query;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::ast::{Field, Query};
use super::lexer::{tokenize, Token, TokenKind};
use crate::error::RuleError;

/// Parses an EQL query into its syntax tree.
pub fn parse(src: &str) -> Result<Query, RuleError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        tokens,
        at: 0,
        depth: 0,
    };
    let mut query = p.query()?;
    query.pipes = p.pipes()?;
    p.expect_end()?;
    Ok(query)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    /// How deep `not`, parentheses and lists nest here; bounded so that no
    /// rule text can exhaust the stack of the parser or of the stages after it.
    depth: usize,
}

/// Deeper nesting is refused. Elastic's rules nest a handful of levels.
pub const MAX_NESTING: usize = 64;

/// Items in one `in` or pattern list; Elastic's rules list a few hundred.
pub const MAX_LIST_ITEMS: usize = 10_000;

/// `with runs=N` takes at most this many, as Elasticsearch does.
pub const MAX_RUNS: u32 = 100;

const KEYWORDS: &[&str] = &[
    "and", "any", "by", "false", "in", "join", "like", "maxspan", "not", "null", "of", "or",
    "regex", "sample", "sequence", "true", "until", "where", "with",
];

fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

impl Parser {
    fn peek(&self) -> &Token {
        // `tokenize` always ends with End, and we never step past it.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Token {
        &self.tokens[(self.at + ahead).min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        t
    }

    fn is_name(&self, word: &str) -> bool {
        matches!(&self.peek().kind, TokenKind::Name(n) if n == word)
    }

    fn eat_name(&mut self, word: &str) -> bool {
        let hit = self.is_name(word);
        if hit {
            self.bump();
        }
        hit
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        let hit = &self.peek().kind == kind;
        if hit {
            self.bump();
        }
        hit
    }

    fn error_here(&self, expected: &str) -> RuleError {
        let t = self.peek();
        RuleError::at(
            t.position,
            format!("expected {expected}, found {}", describe(&t.kind)),
        )
    }

    fn expect(&mut self, kind: &TokenKind, what: &str) -> Result<Token, RuleError> {
        if &self.peek().kind == kind {
            Ok(self.bump())
        } else {
            Err(self.error_here(what))
        }
    }

    fn expect_name(&mut self, word: &str) -> Result<(), RuleError> {
        if self.eat_name(word) {
            Ok(())
        } else {
            Err(self.error_here(&format!("`{word}`")))
        }
    }

    fn expect_end(&mut self) -> Result<(), RuleError> {
        let t = self.peek();
        match &t.kind {
            TokenKind::End => Ok(()),
            _ => Err(self.error_here("end of query")),
        }
    }

    /// Runs `f` one nesting level deeper; refuses past [`MAX_NESTING`].
    fn nested<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, RuleError>,
    ) -> Result<T, RuleError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(RuleError::at(
                self.peek().position,
                format!("expression nests deeper than {MAX_NESTING} levels"),
            ));
        }
        let out = f(self)?;
        self.depth -= 1;
        Ok(out)
    }

    /// A field name, with its `?` when optional.
    fn field(&mut self) -> Result<Field, RuleError> {
        let start = self.peek().position;
        let optional = self.eat(&TokenKind::Question);
        let t = self.peek().clone();
        if optional && t.start != self.tokens[self.at - 1].end {
            return Err(RuleError::at(
                t.position,
                "`?` must stand right before the field name, as in `?process.name`",
            ));
        }
        let mut path = match t.kind {
            TokenKind::Name(n) if !is_keyword(&n) => n,
            TokenKind::QuotedName(n) => n,
            _ => return Err(self.error_here("a field name")),
        };
        let mut end = self.bump().end;
        // `a.`0`.b`: a path may go on through quoted parts.
        while self.peek().kind == TokenKind::Other('.') && self.peek().start == end {
            let next = self.peek_at(1).clone();
            let part = match next.kind {
                TokenKind::Name(n) | TokenKind::QuotedName(n) if next.start == end + 1 => n,
                _ => break,
            };
            path.push('.');
            path.push_str(&part);
            self.bump();
            end = self.bump().end;
        }
        Ok(Field {
            path,
            optional,
            position: start,
        })
    }
}

fn describe(kind: &TokenKind) -> String {
    match kind {
        TokenKind::Name(n) => format!("`{n}`"),
        TokenKind::QuotedName(n) => format!("`{n}`"),
        TokenKind::String(s) => format!("string {s:?}"),
        TokenKind::Integer(i) => format!("number {i}"),
        TokenKind::Float(f) => format!("number {f}"),
        TokenKind::LParen => "`(`".to_string(),
        TokenKind::RParen => "`)`".to_string(),
        TokenKind::LBracket => "`[`".to_string(),
        TokenKind::RBracket => "`]`".to_string(),
        TokenKind::Comma => "`,`".to_string(),
        TokenKind::Colon => "`:`".to_string(),
        TokenKind::Tilde => "`~`".to_string(),
        TokenKind::Assign => "`=`".to_string(),
        TokenKind::Eq => "`==`".to_string(),
        TokenKind::NotEq => "`!=`".to_string(),
        TokenKind::Lt => "`<`".to_string(),
        TokenKind::LtEq => "`<=`".to_string(),
        TokenKind::Gt => "`>`".to_string(),
        TokenKind::GtEq => "`>=`".to_string(),
        TokenKind::Pipe => "`|`".to_string(),
        TokenKind::Question => "`?`".to_string(),
        TokenKind::Plus => "`+`".to_string(),
        TokenKind::Minus => "`-`".to_string(),
        TokenKind::Star => "`*`".to_string(),
        TokenKind::Slash => "`/`".to_string(),
        TokenKind::Percent => "`%`".to_string(),
        TokenKind::Other(c) => format!("`{c}`"),
        TokenKind::End => "end of query".to_string(),
    }
}
