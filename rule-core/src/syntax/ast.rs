//! The syntax tree of an EQL query, as written. Positions point into the
//! query text so later stages can name where a problem is.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::Position;

/// A whole query: a sequence, or a single event query (one stage, no join).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// `sequence by a, b`: join fields shared by every stage.
    pub by: Vec<Field>,
    /// `with maxspan=5s`, in milliseconds.
    pub maxspan_ms: Option<u64>,
    pub stages: Vec<Stage>,
    /// `true` for `sequence ...`, `false` for a bare event query.
    pub is_sequence: bool,
}

/// `[category where condition] by fields`
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// `None` for `any where`.
    pub category: Option<String>,
    pub condition: Expr,
    /// Per-stage join fields, appended to the sequence's.
    pub by: Vec<Field>,
    pub position: Position,
}

/// A dotted field path such as `process.executable`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub path: String,
    pub position: Position,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    String(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
}

/// The set and pattern operators: `in`, `in~`, `like`, `like~`, `:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `in`: exact, case-sensitive.
    In,
    /// `in~`: exact, case-insensitive.
    InInsensitive,
    /// `like`: wildcards, case-sensitive.
    Like,
    /// `like~`: wildcards, case-insensitive.
    LikeInsensitive,
    /// `:`: the same as `like~`.
    Colon,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Literal(Literal, Position),
    Field(Field),
    Not(Box<Expr>, Position),
    /// `a and b and c`: chains stay flat, so no later stage recurses on their length.
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Compare {
        op: CompareOp,
        left: Box<Expr>,
        right: Box<Expr>,
        position: Position,
    },
    /// `left op (a, b, ...)` or `left op a`; `negated` for `not in` / `not like`.
    Match {
        op: MatchOp,
        negated: bool,
        left: Box<Expr>,
        right: Vec<Expr>,
        position: Position,
    },
    /// `name(args)` or `name~(args)`.
    Call {
        name: String,
        insensitive: bool,
        args: Vec<Expr>,
        position: Position,
    },
}

impl Expr {
    pub fn position(&self) -> Position {
        match self {
            Expr::Literal(_, p) | Expr::Not(_, p) => *p,
            Expr::Field(f) => f.position,
            Expr::And(all) | Expr::Or(all) => all
                .first()
                .map_or(Position { line: 1, column: 1 }, Expr::position),
            Expr::Compare { position, .. }
            | Expr::Match { position, .. }
            | Expr::Call { position, .. } => *position,
        }
    }
}
