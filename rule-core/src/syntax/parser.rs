//! Recursive descent from tokens to [`ast::Query`](super::ast::Query).
//!
//! Grammar, following Elasticsearch's `EqlBase.g4` for the part we run:
//!
//! ```text
//! query     := sequence | eventFilter
//! sequence  := "sequence" (by | with)* stage stage+
//! by        := "by" field ("," field)*
//! with      := "with" "maxspan" "=" INTEGER UNIT          UNIT: ms s m h d
//! stage     := "[" eventFilter "]" by?
//! eventFilter := ("any" | NAME | STRING) "where" expr
//! expr      := and ("or" and)*
//! and       := not ("and" not)*
//! not       := "not" not | predicate
//! predicate := primary (CMP primary | "not"? MATCHOP (primary | "(" list ")"))?
//! primary   := literal | field | NAME "~"? "(" args ")" | "(" expr ")"
//! ```
//!
//! Anything else (pipes, `until`, `join`, `sample`, `runs=`, regex,
//! arithmetic, missing events) is refused with its line and column.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::ast::{CompareOp, Expr, Field, Literal, MatchOp, Query, Stage};
use super::lexer::{tokenize, Token, TokenKind};
use crate::error::{Position, RuleError};

/// Parses an EQL query into its syntax tree.
pub fn parse(src: &str) -> Result<Query, RuleError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        tokens,
        at: 0,
        depth: 0,
    };
    let query = p.query()?;
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
            TokenKind::Pipe => Err(unsupported(t.position, "pipes (`| head`, `| tail`, ...)")),
            TokenKind::Name(n) if n == "until" => {
                Err(unsupported(t.position, "`until` in a sequence"))
            }
            _ => Err(self.error_here("end of query")),
        }
    }

    fn query(&mut self) -> Result<Query, RuleError> {
        let t = self.peek().clone();
        match &t.kind {
            TokenKind::Name(n) if n == "sequence" => {
                self.bump();
                self.sequence()
            }
            TokenKind::Name(n) if n == "join" || n == "sample" => {
                Err(unsupported(t.position, &format!("`{n}` queries")))
            }
            _ => {
                let position = t.position;
                let (category, condition) = self.event_filter()?;
                Ok(Query {
                    by: Vec::new(),
                    maxspan_ms: None,
                    stages: alloc::vec![Stage {
                        category,
                        condition,
                        by: Vec::new(),
                        position
                    }],
                    is_sequence: false,
                })
            }
        }
    }

    fn sequence(&mut self) -> Result<Query, RuleError> {
        let mut by = Vec::new();
        let mut maxspan_ms = None;
        loop {
            if self.is_name("by") && by.is_empty() {
                self.bump();
                by = self.fields()?;
            } else if self.is_name("with") && maxspan_ms.is_none() {
                self.bump();
                maxspan_ms = Some(self.maxspan()?);
            } else {
                break;
            }
        }
        let mut stages = Vec::new();
        while self.peek().kind == TokenKind::LBracket {
            stages.push(self.stage()?);
        }
        if self.peek().kind == TokenKind::Other('!') {
            return Err(unsupported(
                self.peek().position,
                "missing-event stages `![...]`",
            ));
        }
        if stages.len() < 2 {
            return Err(
                self.error_here("`[` to start a sequence stage (a sequence needs two or more)")
            );
        }
        Ok(Query {
            by,
            maxspan_ms,
            stages,
            is_sequence: true,
        })
    }

    fn maxspan(&mut self) -> Result<u64, RuleError> {
        let t = self.peek().clone();
        if let TokenKind::Name(n) = &t.kind {
            if n == "runs" {
                return Err(unsupported(t.position, "`with runs=`"));
            }
        }
        self.expect_name("maxspan")?;
        self.expect(&TokenKind::Assign, "`=`")?;
        let num = self.bump();
        let TokenKind::Integer(value) = num.kind else {
            return Err(RuleError::at(
                num.position,
                "maxspan needs a whole number and a unit, as in 5s",
            ));
        };
        let unit = self.peek().clone();
        let factor: u64 = match &unit.kind {
            TokenKind::Name(u) if unit.start == num.end => match u.as_str() {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                other => {
                    return Err(RuleError::at(
                        unit.position,
                        format!("unknown time unit {other:?}: use ms, s, m, h or d"),
                    ))
                }
            },
            _ => {
                return Err(RuleError::at(
                    num.position,
                    "maxspan needs a unit right after the number, as in 5s",
                ))
            }
        };
        self.bump();
        u64::try_from(value)
            .ok()
            .and_then(|v| v.checked_mul(factor))
            .filter(|&v| v > 0)
            .ok_or_else(|| RuleError::at(num.position, "maxspan must be positive"))
    }

    fn fields(&mut self) -> Result<Vec<Field>, RuleError> {
        let mut out = alloc::vec![self.field()?];
        while self.eat(&TokenKind::Comma) {
            out.push(self.field()?);
        }
        Ok(out)
    }

    fn field(&mut self) -> Result<Field, RuleError> {
        let t = self.peek().clone();
        match t.kind {
            TokenKind::Name(n) if !is_keyword(&n) => {
                self.bump();
                Ok(Field {
                    path: n,
                    position: t.position,
                })
            }
            TokenKind::QuotedName(n) => {
                self.bump();
                Ok(Field {
                    path: n,
                    position: t.position,
                })
            }
            _ => Err(self.error_here("a field name")),
        }
    }

    fn stage(&mut self) -> Result<Stage, RuleError> {
        let open = self.expect(&TokenKind::LBracket, "`[`")?;
        let (category, condition) = self.event_filter()?;
        self.expect(&TokenKind::RBracket, "`]` to close the stage")?;
        let mut by = Vec::new();
        if self.eat_name("by") {
            by = self.fields()?;
        }
        if self.is_name("with") {
            return Err(unsupported(self.peek().position, "per-stage `with runs=`"));
        }
        Ok(Stage {
            category,
            condition,
            by,
            position: open.position,
        })
    }

    fn event_filter(&mut self) -> Result<(Option<String>, Expr), RuleError> {
        let t = self.bump();
        let category = match t.kind {
            TokenKind::Name(n) if n == "any" => None,
            TokenKind::Name(n) if !is_keyword(&n) && !n.contains('.') => Some(n),
            TokenKind::String(s) => Some(s),
            other => {
                return Err(RuleError::at(
                    t.position,
                    format!(
                        "expected an event category or `any`, found {}",
                        describe(&other)
                    ),
                ))
            }
        };
        self.expect_name("where")?;
        Ok((category, self.expr()?))
    }

    fn expr(&mut self) -> Result<Expr, RuleError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(RuleError::at(
                self.peek().position,
                format!("expression nests deeper than {MAX_NESTING} levels"),
            ));
        }
        let mut any = alloc::vec![self.and()?];
        while self.eat_name("or") {
            any.push(self.and()?);
        }
        self.depth -= 1;
        Ok(if any.len() == 1 {
            any.remove(0)
        } else {
            Expr::Or(any)
        })
    }

    fn and(&mut self) -> Result<Expr, RuleError> {
        let mut all = alloc::vec![self.not()?];
        while self.eat_name("and") {
            all.push(self.not()?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Expr::And(all)
        })
    }

    fn not(&mut self) -> Result<Expr, RuleError> {
        let position = self.peek().position;
        if self.eat_name("not") {
            self.depth += 1;
            if self.depth > MAX_NESTING {
                return Err(RuleError::at(
                    position,
                    format!("`not` nests deeper than {MAX_NESTING} levels"),
                ));
            }
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner), position));
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Expr, RuleError> {
        let left = self.primary()?;
        let t = self.peek().clone();
        let compare = match t.kind {
            TokenKind::Eq => Some(CompareOp::Eq),
            TokenKind::NotEq => Some(CompareOp::NotEq),
            TokenKind::Lt => Some(CompareOp::Lt),
            TokenKind::LtEq => Some(CompareOp::LtEq),
            TokenKind::Gt => Some(CompareOp::Gt),
            TokenKind::GtEq => Some(CompareOp::GtEq),
            TokenKind::Assign => {
                return Err(RuleError::at(
                    t.position,
                    "`=` is not a comparison: use `==`",
                ))
            }
            TokenKind::Other(c @ ('+' | '-' | '*' | '/' | '%')) => {
                return Err(unsupported(t.position, &format!("arithmetic (`{c}`)")))
            }
            _ => None,
        };
        if let Some(op) = compare {
            self.bump();
            let right = self.primary()?;
            return Ok(Expr::Compare {
                op,
                left: Box::new(left),
                right: Box::new(right),
                position: t.position,
            });
        }
        // `x not in (...)`: a `not` here belongs to the operator that follows.
        let negated = self.is_name("not")
            && matches!(&self.peek_at(1).kind, TokenKind::Name(n) if n == "in" || n == "like");
        if negated {
            self.bump();
        }
        let op_token = self.peek().clone();
        let op = match &op_token.kind {
            TokenKind::Colon => Some(MatchOp::Colon),
            TokenKind::Name(n) if n == "in" || n == "like" => {
                let tilde = self.peek_at(1);
                let insensitive = tilde.kind == TokenKind::Tilde && tilde.start == op_token.end;
                if insensitive {
                    self.bump();
                }
                Some(match (n.as_str(), insensitive) {
                    ("in", false) => MatchOp::In,
                    ("in", true) => MatchOp::InInsensitive,
                    ("like", false) => MatchOp::Like,
                    _ => MatchOp::LikeInsensitive,
                })
            }
            TokenKind::Name(n) if n == "regex" => {
                return Err(unsupported(op_token.position, "`regex`"))
            }
            _ => None,
        };
        let Some(op) = op else {
            if negated {
                return Err(self.error_here("`in` or `like` after `not`"));
            }
            return Ok(left);
        };
        self.bump();
        let right = if self.peek().kind == TokenKind::LParen {
            self.bump();
            let list = self.list()?;
            self.expect(&TokenKind::RParen, "`)` to close the list")?;
            list
        } else if matches!(op, MatchOp::In | MatchOp::InInsensitive) {
            return Err(self.error_here("`(` to open the list after `in`"));
        } else {
            alloc::vec![self.primary()?]
        };
        Ok(Expr::Match {
            op,
            negated,
            left: Box::new(left),
            right,
            position: op_token.position,
        })
    }

    fn list(&mut self) -> Result<Vec<Expr>, RuleError> {
        let mut out = alloc::vec![self.expr()?];
        while self.eat(&TokenKind::Comma) {
            out.push(self.expr()?);
        }
        Ok(out)
    }

    fn primary(&mut self) -> Result<Expr, RuleError> {
        let t = self.peek().clone();
        let position = t.position;
        let literal = |l| Ok(Expr::Literal(l, position));
        match t.kind {
            TokenKind::String(s) => {
                self.bump();
                literal(Literal::String(s))
            }
            TokenKind::Integer(i) => {
                self.bump();
                literal(Literal::Integer(i))
            }
            TokenKind::Float(f) => {
                self.bump();
                literal(Literal::Float(f))
            }
            TokenKind::LParen => {
                self.bump();
                let inner = self.expr()?;
                self.expect(&TokenKind::RParen, "`)`")?;
                Ok(inner)
            }
            TokenKind::QuotedName(path) => {
                self.bump();
                Ok(Expr::Field(Field { path, position }))
            }
            TokenKind::Name(n) => match n.as_str() {
                "true" | "false" => {
                    self.bump();
                    literal(Literal::Bool(n == "true"))
                }
                "null" => {
                    self.bump();
                    literal(Literal::Null)
                }
                _ if is_keyword(&n) => Err(self.error_here("a value, a field or a function call")),
                _ => {
                    self.bump();
                    let next = self.peek().clone();
                    let adjacent = next.start == t.end;
                    let is_call = (next.kind == TokenKind::LParen)
                        || (next.kind == TokenKind::Tilde
                            && adjacent
                            && self.peek_at(1).kind == TokenKind::LParen);
                    if !is_call {
                        return Ok(Expr::Field(Field { path: n, position }));
                    }
                    let insensitive = next.kind == TokenKind::Tilde;
                    if insensitive {
                        self.bump();
                    }
                    self.bump();
                    let args = if self.peek().kind == TokenKind::RParen {
                        Vec::new()
                    } else {
                        self.list()?
                    };
                    self.expect(&TokenKind::RParen, "`)` to close the call")?;
                    Ok(Expr::Call {
                        name: n,
                        insensitive,
                        args,
                        position,
                    })
                }
            },
            _ => Err(self.error_here("a value, a field or a function call")),
        }
    }
}

fn unsupported(position: Position, what: &str) -> RuleError {
    RuleError::at(position, format!("{what} is not supported by this engine"))
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
        TokenKind::Other(c) => format!("`{c}`"),
        TokenKind::End => "end of query".to_string(),
    }
}
