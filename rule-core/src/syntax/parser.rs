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

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::ast::{
    ArithOp, CompareOp, Expr, Field, Literal, MatchOp, Pipe, Query, QueryKind, Stage,
};
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

    fn query(&mut self) -> Result<Query, RuleError> {
        let t = self.peek().clone();
        match &t.kind {
            TokenKind::Name(n) if n == "sequence" => {
                self.bump();
                self.sequence(t.position)
            }
            TokenKind::Name(n) if n == "sample" => {
                self.bump();
                self.sample(t.position)
            }
            TokenKind::Name(n) if n == "join" => Err(RuleError::at(
                t.position,
                "`join` queries are not supported by Elasticsearch's EQL",
            )),
            _ => {
                let position = t.position;
                let (category, condition) = self.event_filter()?;
                Ok(Query {
                    kind: QueryKind::Event,
                    by: Vec::new(),
                    maxspan_ms: None,
                    stages: alloc::vec![Stage {
                        category,
                        condition,
                        by: Vec::new(),
                        runs: 1,
                        missing: false,
                        position
                    }],
                    until: None,
                    pipes: Vec::new(),
                    position,
                })
            }
        }
    }

    fn sequence(&mut self, position: Position) -> Result<Query, RuleError> {
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
        let stages = self.stages()?;
        // `[...] with runs=3` counts as three stages.
        if stages.iter().map(|s| u64::from(s.runs)).sum::<u64>() < 2 {
            return Err(
                self.error_here("`[` to start a sequence stage (a sequence needs two or more)")
            );
        }
        let until = if self.eat_name("until") {
            let stage = self.stage()?;
            if stage.missing {
                return Err(RuleError::at(
                    stage.position,
                    "`until` takes an event stage, not a missing event",
                ));
            }
            Some(stage)
        } else {
            None
        };
        Ok(Query {
            kind: QueryKind::Sequence,
            by,
            maxspan_ms,
            stages,
            until,
            pipes: Vec::new(),
            position,
        })
    }

    fn sample(&mut self, position: Position) -> Result<Query, RuleError> {
        let by = if self.eat_name("by") {
            self.fields()?
        } else {
            Vec::new()
        };
        let stages = self.stages()?;
        if stages.is_empty() {
            return Err(self.error_here("`[` to start a sample stage"));
        }
        if let Some(missing) = stages.iter().find(|s| s.missing) {
            return Err(RuleError::at(
                missing.position,
                "a sample has no missing-event stages",
            ));
        }
        Ok(Query {
            kind: QueryKind::Sample,
            by,
            maxspan_ms: None,
            stages,
            until: None,
            pipes: Vec::new(),
            position,
        })
    }

    fn stages(&mut self) -> Result<Vec<Stage>, RuleError> {
        let mut stages = Vec::new();
        while self.peek().kind == TokenKind::LBracket
            || (self.peek().kind == TokenKind::Other('!')
                && self.peek_at(1).kind == TokenKind::LBracket)
        {
            stages.push(self.stage()?);
        }
        Ok(stages)
    }

    fn pipes(&mut self) -> Result<Vec<Pipe>, RuleError> {
        let mut pipes = Vec::new();
        while self.eat(&TokenKind::Pipe) {
            let t = self.bump();
            let head = match &t.kind {
                TokenKind::Name(n) if n == "head" => true,
                TokenKind::Name(n) if n == "tail" => false,
                TokenKind::Name(n) => {
                    return Err(RuleError::at(
                        t.position,
                        format!("unknown pipe `{n}`: Elasticsearch's EQL has `head` and `tail`"),
                    ))
                }
                other => {
                    return Err(RuleError::at(
                        t.position,
                        format!("expected `head` or `tail`, found {}", describe(other)),
                    ))
                }
            };
            let n = self.bump();
            let TokenKind::Integer(count) = n.kind else {
                return Err(RuleError::at(
                    n.position,
                    "a pipe takes a whole number, as in `| head 5`",
                ));
            };
            let count = u64::try_from(count)
                .map_err(|_| RuleError::at(n.position, "a pipe's number must not be negative"))?;
            pipes.push(if head {
                Pipe::Head(count, t.position)
            } else {
                Pipe::Tail(count, t.position)
            });
        }
        Ok(pipes)
    }

    fn maxspan(&mut self) -> Result<u64, RuleError> {
        let t = self.peek().clone();
        if let TokenKind::Name(n) = &t.kind {
            if n == "runs" {
                return Err(RuleError::at(
                    t.position,
                    "`with runs=` belongs to a stage: `[...] with runs=2`",
                ));
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

    fn stage(&mut self) -> Result<Stage, RuleError> {
        let start = self.peek().position;
        let missing = self.eat(&TokenKind::Other('!'));
        self.expect(&TokenKind::LBracket, "`[`")?;
        let (category, condition) = self.event_filter()?;
        self.expect(&TokenKind::RBracket, "`]` to close the stage")?;
        let mut by = Vec::new();
        let mut runs = None;
        loop {
            if by.is_empty() && self.eat_name("by") {
                by = self.fields()?;
            } else if runs.is_none() && self.is_name("with") {
                self.bump();
                runs = Some(self.runs()?);
            } else {
                break;
            }
        }
        Ok(Stage {
            category,
            condition,
            by,
            runs: runs.unwrap_or(1),
            missing,
            position: start,
        })
    }

    /// `runs=N` after a stage's `with`: Elasticsearch takes 1 to 100.
    fn runs(&mut self) -> Result<u32, RuleError> {
        self.expect_name("runs")?;
        self.expect(&TokenKind::Assign, "`=`")?;
        let n = self.bump();
        match n.kind {
            TokenKind::Integer(v) if (1..=i64::from(MAX_RUNS)).contains(&v) => Ok(v as u32),
            _ => Err(RuleError::at(
                n.position,
                format!("runs must be a whole number from 1 to {MAX_RUNS}"),
            )),
        }
    }

    fn event_filter(&mut self) -> Result<(Option<String>, Expr), RuleError> {
        let t = self.bump();
        let category = match t.kind {
            TokenKind::Name(n) if n == "any" => None,
            TokenKind::Name(n) if !is_keyword(&n) && !n.contains('.') => Some(n),
            TokenKind::String(s) => Some(s),
            TokenKind::QuotedName(n) => Some(n),
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
        self.nested(|p| {
            let mut any = alloc::vec![p.and()?];
            while p.eat_name("or") {
                any.push(p.and()?);
            }
            Ok(if any.len() == 1 {
                any.remove(0)
            } else {
                Expr::Or(any)
            })
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
            let inner = self.nested(Self::not)?;
            return Ok(Expr::Not(Box::new(inner), position));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, RuleError> {
        let left = self.additive()?;
        let Some(op) = self.compare_op()? else {
            return Ok(left);
        };
        let t = self.bump();
        let right = self.additive()?;
        if self.compare_op()?.is_some() {
            return Err(RuleError::at(
                self.peek().position,
                "comparisons do not chain: use `and`",
            ));
        }
        Ok(Expr::Compare {
            op,
            left: Box::new(left),
            right: Box::new(right),
            position: t.position,
        })
    }

    fn compare_op(&self) -> Result<Option<CompareOp>, RuleError> {
        let t = self.peek();
        Ok(Some(match t.kind {
            TokenKind::Eq => CompareOp::Eq,
            TokenKind::NotEq => CompareOp::NotEq,
            TokenKind::Lt => CompareOp::Lt,
            TokenKind::LtEq => CompareOp::LtEq,
            TokenKind::Gt => CompareOp::Gt,
            TokenKind::GtEq => CompareOp::GtEq,
            TokenKind::Assign => {
                return Err(RuleError::at(
                    t.position,
                    "`=` is not a comparison: use `==`",
                ))
            }
            _ => return Ok(None),
        }))
    }

    /// `a + b - c`: each operator nests the tree one level deeper (it is
    /// left-leaning), so each counts against [`MAX_NESTING`].
    fn additive(&mut self) -> Result<Expr, RuleError> {
        let depth = self.depth;
        let mut left = self.multiplicative()?;
        let out = loop {
            let op = match self.peek().kind {
                TokenKind::Plus => ArithOp::Add,
                TokenKind::Minus => ArithOp::Sub,
                _ => break Ok(left),
            };
            let t = self.bump();
            self.deeper(t.position)?;
            let right = self.multiplicative()?;
            left = arith(op, left, right, t.position);
        };
        self.depth = depth;
        out
    }

    fn multiplicative(&mut self) -> Result<Expr, RuleError> {
        let depth = self.depth;
        let mut left = self.unary()?;
        let out = loop {
            let op = match self.peek().kind {
                TokenKind::Star => ArithOp::Mul,
                TokenKind::Slash => ArithOp::Div,
                TokenKind::Percent => ArithOp::Mod,
                _ => break Ok(left),
            };
            let t = self.bump();
            self.deeper(t.position)?;
            let right = self.unary()?;
            left = arith(op, left, right, t.position);
        };
        self.depth = depth;
        out
    }

    fn deeper(&mut self, position: Position) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(RuleError::at(
                position,
                format!("expression nests deeper than {MAX_NESTING} levels"),
            ));
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<Expr, RuleError> {
        let t = self.peek().clone();
        match t.kind {
            TokenKind::Minus => {
                self.bump();
                let inner = self.nested(Self::unary)?;
                Ok(match inner {
                    Expr::Literal(Literal::Integer(i), _) => {
                        Expr::Literal(Literal::Integer(i.wrapping_neg()), t.position)
                    }
                    Expr::Literal(Literal::Float(f), _) => {
                        Expr::Literal(Literal::Float(-f), t.position)
                    }
                    other => Expr::Neg(Box::new(other), t.position),
                })
            }
            TokenKind::Plus => {
                self.bump();
                self.nested(Self::unary)
            }
            _ => self.predicate(),
        }
    }

    fn predicate(&mut self) -> Result<Expr, RuleError> {
        let left = self.primary()?;
        // `x not in (...)`: a `not` here belongs to the operator that follows.
        let negated = self.is_name("not")
            && matches!(&self.peek_at(1).kind,
                TokenKind::Name(n) if matches!(n.as_str(), "in" | "like" | "regex"));
        if negated {
            self.bump();
        }
        let op_token = self.peek().clone();
        let op = match &op_token.kind {
            TokenKind::Colon => Some(MatchOp::Colon),
            TokenKind::Name(n) if matches!(n.as_str(), "in" | "like" | "regex") => {
                let tilde = self.peek_at(1);
                let insensitive = tilde.kind == TokenKind::Tilde && tilde.start == op_token.end;
                if insensitive {
                    self.bump();
                }
                Some(match (n.as_str(), insensitive) {
                    ("in", false) => MatchOp::In,
                    ("in", true) => MatchOp::InInsensitive,
                    ("like", false) => MatchOp::Like,
                    ("like", true) => MatchOp::LikeInsensitive,
                    ("regex", false) => MatchOp::Regex,
                    _ => MatchOp::RegexInsensitive,
                })
            }
            _ => None,
        };
        let Some(op) = op else {
            if negated {
                return Err(self.error_here("`in`, `like` or `regex` after `not`"));
            }
            return Ok(left);
        };
        self.bump();
        let is_in = matches!(op, MatchOp::In | MatchOp::InInsensitive);
        let right = if self.peek().kind == TokenKind::LParen {
            self.bump();
            let list = self.nested(|p| {
                let mut out = alloc::vec![p.list_item(is_in)?];
                while p.eat(&TokenKind::Comma) {
                    if out.len() == MAX_LIST_ITEMS {
                        return Err(RuleError::at(
                            p.peek().position,
                            format!("a list holds at most {MAX_LIST_ITEMS} items"),
                        ));
                    }
                    out.push(p.list_item(is_in)?);
                }
                Ok(out)
            })?;
            self.expect(&TokenKind::RParen, "`)` to close the list")?;
            list
        } else if is_in {
            return Err(self.error_here("`(` to open the list after `in`"));
        } else {
            alloc::vec![self.constant()?]
        };
        Ok(Expr::Match {
            op,
            negated,
            left: Box::new(left),
            right,
            position: op_token.position,
        })
    }

    /// An `in` list holds any expressions; pattern lists hold constants.
    fn list_item(&mut self, any_expression: bool) -> Result<Expr, RuleError> {
        if any_expression {
            self.expr()
        } else {
            self.constant()
        }
    }

    /// A literal, a sign folded into a number.
    fn constant(&mut self) -> Result<Expr, RuleError> {
        let t = self.peek().clone();
        let negative = t.kind == TokenKind::Minus;
        if negative {
            self.bump();
        }
        let v = self.peek().clone();
        let literal = match v.kind {
            TokenKind::String(s) if !negative => Literal::String(s),
            TokenKind::Integer(i) => Literal::Integer(if negative { i.wrapping_neg() } else { i }),
            TokenKind::Float(f) => Literal::Float(if negative { -f } else { f }),
            TokenKind::Name(n) if !negative && (n == "true" || n == "false") => {
                Literal::Bool(n == "true")
            }
            TokenKind::Name(n) if !negative && n == "null" => Literal::Null,
            _ => return Err(self.error_here("a string, number, boolean or null")),
        };
        self.bump();
        Ok(Expr::Literal(literal, t.position))
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
            TokenKind::QuotedName(_) | TokenKind::Question => Ok(Expr::Field(self.field()?)),
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
                    let next = self.peek_at(1).clone();
                    let adjacent = next.start == t.end;
                    let is_call = (next.kind == TokenKind::LParen)
                        || (next.kind == TokenKind::Tilde
                            && adjacent
                            && self.peek_at(2).kind == TokenKind::LParen);
                    if !is_call {
                        return Ok(Expr::Field(self.field()?));
                    }
                    self.bump();
                    let insensitive = next.kind == TokenKind::Tilde;
                    if insensitive {
                        self.bump();
                    }
                    self.bump();
                    let args = if self.peek().kind == TokenKind::RParen {
                        Vec::new()
                    } else {
                        self.nested(|p| {
                            let mut out = alloc::vec![p.expr()?];
                            while p.eat(&TokenKind::Comma) {
                                out.push(p.expr()?);
                            }
                            Ok(out)
                        })?
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

fn arith(op: ArithOp, left: Expr, right: Expr, position: Position) -> Expr {
    Expr::Arith {
        op,
        left: Box::new(left),
        right: Box::new(right),
        position,
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
