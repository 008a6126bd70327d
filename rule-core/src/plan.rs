//! The compiled rule: what the engine runs. Built by [`crate::compile`] from
//! the syntax tree; knows every field it reads and each field's type.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;
use ipnet::IpNet;

use crate::pattern::Pattern;

/// Index into [`Plan::fields`].
pub type FieldId = u16;

/// `@timestamp` is always field 0.
pub const TIMESTAMP: FieldId = 0;

/// How a field's values are read, as Elasticsearch's mapping would index them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// `keyword`: strings; numbers and booleans as their text; longer than
    /// 1024 characters means absent (`ignore_above`, P11).
    Keyword,
    /// `ip`: IPv4-mapped IPv6 folded to IPv4; anything else is refused (P10).
    Ip,
    /// `long` / `double`: numbers and numeric strings.
    Number,
    /// `date`: `@timestamp`.
    Date,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Keyword => "a keyword (string)",
            FieldType::Ip => "an IP address",
            FieldType::Number => "a number",
            FieldType::Date => "a date",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub path: String,
    pub ty: FieldType,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub fields: Vec<FieldSpec>,
    /// Join fields shared by all stages, then each stage's own.
    pub stages: Vec<StagePlan>,
    pub maxspan_ms: Option<i64>,
    /// The field names alerts use for the join key values, positionally.
    pub key_names: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct StagePlan {
    pub filter: Filter,
    pub keys: Vec<FieldId>,
}

/// A boolean filter over one event. Two-valued: a leaf on a missing field is
/// false, so `not` of it is true (P7).
#[derive(Debug, Clone)]
pub enum Filter {
    Const(bool),
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(alloc::boxed::Box<Filter>),
    Leaf(FieldId, Test),
}

/// A test on one field: true when any of its values passes (P5).
#[derive(Debug, Clone)]
pub enum Test {
    /// `x == null`: no value at all (absent, null, `[]`, `[null]`: P8).
    IsNull,
    /// String tests, OR-ed; `insensitive` folds the value first.
    Strings {
        patterns: Vec<Pattern>,
        insensitive: bool,
    },
    /// `cidrmatch`, or `==` / `in` on an `ip` field.
    Ip(Vec<IpNet>),
    /// Ordered comparison or equality of numbers.
    Number { op: Ordering, value: f64 },
    /// Ordered comparison of keywords (byte order, as Lucene's terms).
    StringOrder { op: Ordering, value: String },
}

/// `<`, `<=`, `>`, `>=`, `==` for ordered tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    Lt,
    LtEq,
    Gt,
    GtEq,
    Eq,
}

impl Ordering {
    pub fn holds(self, ord: core::cmp::Ordering) -> bool {
        use core::cmp::Ordering::{Equal, Greater, Less};
        match self {
            Ordering::Lt => ord == Less,
            Ordering::LtEq => ord != Greater,
            Ordering::Gt => ord == Greater,
            Ordering::GtEq => ord != Less,
            Ordering::Eq => ord == Equal,
        }
    }
}

/// A decoded value, as the filters see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Str(&'a str),
    Ip(IpAddr),
    Number(f64),
}
