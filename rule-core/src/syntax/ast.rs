//! The syntax tree of an EQL query, as written. Positions point into the
//! query text so later stages can name where a problem is.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::Position;

/// A whole query: what it is (event query, sequence, sample), then its pipes.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub kind: QueryKind,
    /// `by a, b` after `sequence` or `sample`: join fields shared by every stage.
    pub by: Vec<Field>,
    /// `with maxspan=5s`, in milliseconds.
    pub maxspan_ms: Option<u64>,
    pub stages: Vec<Stage>,
    /// `until [...]`: a pending sequence whose key sees this event is dropped.
    pub until: Option<Stage>,
    /// `| head N`, `| tail N`, in order.
    pub pipes: Vec<Pipe>,
    /// Where the query starts, for errors about the query as a whole.
    pub position: Position,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// A bare event filter: one stage, no join.
    Event,
    /// `sequence ...`: stages in time order, joined by key.
    Sequence,
    /// `sample by ...`: stages in any order, joined by key.
    Sample,
}

/// `[category where condition] with runs=N by fields`, or `![...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// `None` for `any where`.
    pub category: Option<String>,
    pub condition: Expr,
    /// Per-stage join fields, appended to the query's.
    pub by: Vec<Field>,
    /// `with runs=N`: the stage repeated N times (1 when absent).
    pub runs: u32,
    /// `![...]`: a missing-event stage, satisfied when no such event comes.
    pub missing: bool,
    pub position: Position,
}

/// A dotted field path such as `process.executable`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub path: String,
    /// `?field`: unknown to the mapping means null, not an error.
    pub optional: bool,
    pub position: Position,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pipe {
    Head(u64, Position),
    Tail(u64, Position),
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

impl CompareOp {
    /// The operator that holds exactly when this one does not (on values
    /// that compare), as Elasticsearch's optimizer rewrites `not (a < b)`.
    pub fn negate(self) -> CompareOp {
        match self {
            CompareOp::Eq => CompareOp::NotEq,
            CompareOp::NotEq => CompareOp::Eq,
            CompareOp::Lt => CompareOp::GtEq,
            CompareOp::LtEq => CompareOp::Gt,
            CompareOp::Gt => CompareOp::LtEq,
            CompareOp::GtEq => CompareOp::Lt,
        }
    }

    /// The operator with its operands swapped: `1 < x` is `x > 1`.
    pub fn flip(self) -> CompareOp {
        match self {
            CompareOp::Lt => CompareOp::Gt,
            CompareOp::LtEq => CompareOp::GtEq,
            CompareOp::Gt => CompareOp::Lt,
            CompareOp::GtEq => CompareOp::LtEq,
            same => same,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::NotEq => "!=",
            CompareOp::Lt => "<",
            CompareOp::LtEq => "<=",
            CompareOp::Gt => ">",
            CompareOp::GtEq => ">=",
        }
    }
}

/// The set and pattern operators: `in`, `in~`, `like`, `like~`, `:`, `regex`, `regex~`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `in`: exact, case-sensitive; the list may hold any values.
    In,
    /// `in~`: exact, case-insensitive.
    InInsensitive,
    /// `like`: wildcards, case-sensitive.
    Like,
    /// `like~`: wildcards, case-insensitive.
    LikeInsensitive,
    /// `:`: the same as `like~`.
    Colon,
    /// `regex`: a Lucene regular expression, case-sensitive.
    Regex,
    /// `regex~`: a Lucene regular expression, case-insensitive.
    RegexInsensitive,
}

impl MatchOp {
    pub fn symbol(self) -> &'static str {
        match self {
            MatchOp::In => "in",
            MatchOp::InInsensitive => "in~",
            MatchOp::Like => "like",
            MatchOp::LikeInsensitive => "like~",
            MatchOp::Colon => ":",
            MatchOp::Regex => "regex",
            MatchOp::RegexInsensitive => "regex~",
        }
    }

    pub fn is_insensitive(self) -> bool {
        matches!(
            self,
            MatchOp::InInsensitive
                | MatchOp::LikeInsensitive
                | MatchOp::Colon
                | MatchOp::RegexInsensitive
        )
    }
}

/// `+ - * / %`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl ArithOp {
    pub fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Mod => "%",
        }
    }
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
    /// `left + right`, ...
    Arith {
        op: ArithOp,
        left: Box<Expr>,
        right: Box<Expr>,
        position: Position,
    },
    /// `-x`.
    Neg(Box<Expr>, Position),
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
            Expr::Literal(_, p) | Expr::Not(_, p) | Expr::Neg(_, p) => *p,
            Expr::Field(f) => f.position,
            Expr::And(all) | Expr::Or(all) => all
                .first()
                .map_or(Position { line: 1, column: 1 }, Expr::position),
            Expr::Compare { position, .. }
            | Expr::Match { position, .. }
            | Expr::Arith { position, .. }
            | Expr::Call { position, .. } => *position,
        }
    }
}
