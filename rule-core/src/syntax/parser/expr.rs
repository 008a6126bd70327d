//! Expressions: `or`, `and`, `not`, comparisons, arithmetic, `in` and the
//! match operators, function calls, fields and literals.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;

use super::super::ast::{ArithOp, CompareOp, Expr, Literal, MatchOp};
use super::super::lexer::TokenKind;
use super::{is_keyword, Parser, MAX_LIST_ITEMS, MAX_NESTING};
use crate::error::{Position, RuleError};

impl Parser {
    pub(super) fn expr(&mut self) -> Result<Expr, RuleError> {
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
