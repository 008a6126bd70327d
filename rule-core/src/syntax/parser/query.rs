//! The query's structure: an event query, `sequence` (`by`, `with
//! maxspan`, stages with `runs=N` or `by`, missing stages, `until`),
//! `sample`, and the `head`/`tail` pipes.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::super::ast::{Expr, Field, Pipe, Query, QueryKind, Stage};
use super::super::lexer::TokenKind;
use super::{describe, is_keyword, Parser, MAX_RUNS};
use crate::error::{Position, RuleError};

impl Parser {
    pub(super) fn query(&mut self) -> Result<Query, RuleError> {
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

    pub(super) fn pipes(&mut self) -> Result<Vec<Pipe>, RuleError> {
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
}
