//! The compiled rule: what the engine runs. Built by [`crate::compile`] from
//! the syntax tree; knows every field it reads and each field's type.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;
use ipnet::IpNet;

use crate::pattern::Pattern;
use crate::regexp::Regexp;
pub use crate::syntax::ast::{ArithOp, CompareOp};
use crate::value::Value;

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

/// What a script sees of a field's values: Elasticsearch's doc values
/// for the field's mapped type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Strings (`keyword`, `wildcard`, the keyword sub-field of `text`).
    Keyword,
    /// `version`: strings, ordered as versions in query leaves.
    Version,
    /// `long`, `integer`, `short`, `byte`: integers.
    Long,
    /// `double`, `float`, `half_float`, `scaled_float`.
    Double,
    /// A number with no mapping: an integer when the value is one, as
    /// Elasticsearch's dynamic mapping makes JSON integers `long`.
    Number,
    /// `boolean`.
    Bool,
    /// `ip`.
    Ip,
    /// `date`: epoch milliseconds.
    Date,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    /// The path read from events (an alias already resolved).
    pub path: String,
    /// How the decoder reads it.
    pub ty: FieldType,
    /// How scripts see it.
    pub kind: ValueKind,
    /// The mapping's `ignore_malformed`: a value that does not fit `ty` is
    /// left out of the event instead of refusing the event.
    pub ignore_malformed: bool,
}

/// What kind of query the plan runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Every event that passes the one stage is a result.
    Events,
    /// Stages in time order under one join key.
    Sequence,
    /// One event per stage under one join key, in any order; at most
    /// `max_per_key` samples per key.
    Sample { max_per_key: usize },
}

/// One join key of a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyField {
    /// `None`: `?field` unknown to the mapping, always null.
    pub field: Option<FieldId>,
    /// A missing value is a null key (a sample's optional key) rather than
    /// no key at all.
    pub nullable: bool,
}

/// `| head N` and `| tail N`, applied to results in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipePlan {
    Head(u64),
    Tail(u64),
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub fields: Vec<FieldSpec>,
    pub shape: Shape,
    /// `tiebreaker_field`: orders events of the same time.
    pub tiebreaker: Option<FieldId>,
    /// Join fields shared by all stages, then each stage's own.
    pub stages: Vec<StagePlan>,
    /// `until`: a pending sequence whose key sees such an event is dropped.
    pub until: Option<StagePlan>,
    pub maxspan_ms: Option<i64>,
    /// The field names alerts use for the join key values, positionally.
    pub key_names: Vec<String>,
    pub pipes: Vec<PipePlan>,
}

#[derive(Debug, Clone)]
pub struct StagePlan {
    pub filter: Filter,
    pub keys: Vec<KeyField>,
    /// `with runs=N`: the stage is repeated N times (1 when absent).
    pub runs: u32,
    /// `![...]`: satisfied by the absence of such an event.
    pub missing: bool,
    /// A copy of the stage before it (`with runs=N`): same filter and keys,
    /// so an event's verdict there is reused rather than computed again.
    pub repeats_previous: bool,
    /// `process where ...`: the category field and the value every event
    /// that passes the filter has in it (`None` for `any where`). A pack
    /// dispatches events to rules by it.
    pub category: Option<(FieldId, String)>,
}

impl Plan {
    /// Renumbers every field the plan reads through `map` (old id to new),
    /// so that rules compiled apart share one field table. `fields` becomes
    /// `table` (the engine passes none: it keeps the shared table itself).
    pub fn remap_fields(&mut self, map: &[FieldId], table: Vec<FieldSpec>) {
        let at = |id: &mut FieldId| *id = map[usize::from(*id)];
        if let Some(t) = &mut self.tiebreaker {
            at(t);
        }
        for stage in self.stages.iter_mut().chain(&mut self.until) {
            stage.filter.remap_fields(map);
            for key in &mut stage.keys {
                if let Some(f) = &mut key.field {
                    at(f);
                }
            }
            if let Some((f, _)) = &mut stage.category {
                at(f);
            }
        }
        self.fields = table;
    }
}

impl Filter {
    fn remap_fields(&mut self, map: &[FieldId]) {
        match self {
            Filter::Const(_) => {}
            Filter::And(all) | Filter::Or(all) => all.iter_mut().for_each(|f| f.remap_fields(map)),
            Filter::Not(inner) => inner.remap_fields(map),
            Filter::Leaf(field, _) => *field = map[usize::from(*field)],
            Filter::Script(script) => {
                for slot in &mut script.slots {
                    *slot = map[usize::from(*slot)];
                }
            }
        }
    }
}

/// A boolean filter over one event. Two-valued: a leaf on a missing field is
/// false, so `not` of it is true (P7).
#[derive(Debug, Clone)]
pub enum Filter {
    Const(bool),
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Leaf(FieldId, Test),
    /// What Elasticsearch runs as a script: see [`Script`].
    Script(Box<Script>),
}

/// A condition Elasticsearch cannot turn into a Lucene query, run as its
/// Painless script runs: each field occurrence (`slots`) ranges over the
/// field's values (a missing field is one `null`), and the script is true
/// when some combination makes `expr` true (`multiValueDocValues`). A
/// `not` around the script negates that search (`negated`), as
/// Elasticsearch hoists it.
#[derive(Debug, Clone)]
pub struct Script {
    pub negated: bool,
    pub expr: Scalar,
    pub slots: Vec<FieldId>,
}

/// A value expression inside a script.
#[derive(Debug, Clone)]
pub enum Scalar {
    Const(Value<'static>),
    /// The value of the script's `slots[i]` in the combination tried.
    Slot(u8),
    Call(Func, Vec<Scalar>),
}

/// An operator or function of a script; see [`crate::functions`].
#[derive(Debug, Clone)]
pub enum Func {
    Arith(ArithOp),
    Neg,
    Compare(CompareOp),
    /// Three-valued, over any number of arguments.
    And,
    Or,
    Not,
    IsNull,
    IsNotNull,
    /// The first argument against the rest.
    In {
        insensitive: bool,
    },
    Like {
        patterns: Vec<Pattern>,
        insensitive: bool,
    },
    Regex(Vec<Regexp>),
    CidrMatch(Vec<IpNet>),
    Between {
        insensitive: bool,
    },
    Concat,
    EndsWith {
        insensitive: bool,
    },
    IndexOf {
        insensitive: bool,
    },
    Length,
    Number,
    StartsWith {
        insensitive: bool,
    },
    String,
    StringContains {
        insensitive: bool,
    },
    Substring,
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
    /// Ordered comparison on a `version` field: `key` is `value`'s
    /// [`crate::version::version_key`], whose byte order is the version order.
    VersionOrder {
        op: Ordering,
        value: String,
        key: Vec<u8>,
    },
    /// `regex`, `regex~`: a Lucene `regexp` query, any pattern.
    Regex(Vec<Regexp>),
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
