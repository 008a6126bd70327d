//! Reads from an event only the fields the plan references.
//!
//! serde_json drives a visitor over a trie of the plan's field paths; a key
//! that leads nowhere in the trie has its value skipped unparsed
//! (`IgnoredAny`). Nested objects, dotted keys (`"process.executable"`) and
//! any mix of them reach the same field; arrays anywhere flatten into the
//! field's values, as Elasticsearch indexes them. Strings without escapes are
//! kept as spans of the input; decoding allocates nothing once its buffers
//! have grown.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::{self, Write as _};
use core::net::IpAddr;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::PushError;
use crate::ip::parse_ip;
use crate::plan::{FieldId, FieldSpec, FieldType, ValueRef, TIMESTAMP};
use crate::time::parse_rfc3339_ms;

/// Elastic Defend maps its keyword fields with `ignore_above: 1024` (P11).
const KEYWORD_IGNORE_ABOVE: usize = 1024;

/// The plan's field paths as a trie of path segments.
#[derive(Debug, Clone)]
pub struct FieldTrie {
    nodes: Vec<TrieNode>,
}

#[derive(Debug, Clone)]
struct TrieNode {
    children: Vec<(Box<str>, u32)>,
    field: Option<FieldId>,
    /// The dotted path to this node, for error messages.
    path: Box<str>,
}

const ROOT: u32 = 0;

impl FieldTrie {
    pub fn new(fields: &[FieldSpec]) -> FieldTrie {
        let mut trie = FieldTrie {
            nodes: alloc::vec![TrieNode {
                children: Vec::new(),
                field: None,
                path: "".into()
            }],
        };
        for (id, spec) in fields.iter().enumerate() {
            let mut node = ROOT;
            for segment in spec.path.split('.') {
                node = match trie.child(node, segment) {
                    Some(n) => n,
                    None => {
                        let path = match trie.nodes[node as usize].path.as_ref() {
                            "" => segment.to_string(),
                            parent => alloc::format!("{parent}.{segment}"),
                        };
                        trie.nodes.push(TrieNode {
                            children: Vec::new(),
                            field: None,
                            path: path.into(),
                        });
                        let new = (trie.nodes.len() - 1) as u32;
                        trie.nodes[node as usize]
                            .children
                            .push((segment.into(), new));
                        new
                    }
                };
            }
            trie.nodes[node as usize].field = Some(id as FieldId);
        }
        trie
    }

    fn child(&self, node: u32, segment: &str) -> Option<u32> {
        self.nodes[node as usize]
            .children
            .iter()
            .find(|(name, _)| name.as_ref() == segment)
            .map(|&(_, n)| n)
    }

    /// Follows a key, which may hold several dotted segments, from `node`.
    fn walk(&self, node: u32, key: &str) -> Option<u32> {
        // A byte scan: keys are short, and `str::split`'s searcher costs more
        // than the lookups themselves on this hot path.
        let mut node = node;
        let mut rest = key;
        loop {
            match rest.bytes().position(|b| b == b'.') {
                None => return self.child(node, rest),
                Some(dot) => {
                    node = self.child(node, &rest[..dot])?;
                    rest = &rest[dot + 1..];
                }
            }
        }
    }
}

/// One decoded value. Strings point into the input or into the scratch buffer.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Input(u32, u32),
    Scratch(u32, u32),
    Ip(IpAddr),
    Number(f64),
}

/// The values of one event, grouped by field. Reused from event to event.
#[derive(Debug, Default)]
pub struct Decoded {
    values: Vec<(FieldId, Slot)>,
    /// `starts[f]..starts[f + 1]` are field `f`'s values, after [`decode`].
    starts: Vec<u32>,
    scratch: String,
    pub timestamp: Option<i64>,
    error: Option<PushError>,
}

impl Decoded {
    /// The values of `field` in `input` (the text [`decode`] was given).
    pub fn values<'a>(
        &'a self,
        input: &'a str,
        field: FieldId,
    ) -> impl Iterator<Item = ValueRef<'a>> + 'a {
        let f = usize::from(field);
        let range = match (self.starts.get(f), self.starts.get(f + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        };
        self.values[range].iter().map(move |(_, slot)| match *slot {
            Slot::Input(a, b) => ValueRef::Str(input.get(a as usize..b as usize).unwrap_or("")),
            Slot::Scratch(a, b) => {
                ValueRef::Str(self.scratch.get(a as usize..b as usize).unwrap_or(""))
            }
            Slot::Ip(ip) => ValueRef::Ip(ip),
            Slot::Number(n) => ValueRef::Number(n),
        })
    }

    pub fn has_values(&self, field: FieldId) -> bool {
        let f = usize::from(field);
        matches!((self.starts.get(f), self.starts.get(f + 1)), (Some(a), Some(b)) if a < b)
    }

    fn clear(&mut self) {
        self.values.clear();
        self.starts.clear();
        self.scratch.clear();
        self.timestamp = None;
        self.error = None;
    }

    fn push_scratch(&mut self, field: FieldId, text: fmt::Arguments<'_>) {
        let start = self.scratch.len() as u32;
        let _ = self.scratch.write_fmt(text);
        self.values
            .push((field, Slot::Scratch(start, self.scratch.len() as u32)));
    }

    /// Groups values by field: a stable sort keeps each field's values in
    /// document order.
    fn index(&mut self, field_count: usize) {
        self.values.sort_by_key(|&(f, _)| f);
        self.starts.resize(field_count + 1, 0);
        let mut at = 0usize;
        for f in 0..=field_count {
            while at < self.values.len() && usize::from(self.values[at].0) < f {
                at += 1;
            }
            self.starts[f] = at as u32;
        }
    }
}

/// Decodes `input` into `out`, reading only the fields of `fields`.
pub fn decode(
    fields: &[FieldSpec],
    trie: &FieldTrie,
    input: &str,
    out: &mut Decoded,
) -> Result<(), PushError> {
    out.clear();
    let mut de = serde_json::Deserializer::from_str(input);
    let mut ctx = Ctx {
        fields,
        trie,
        base: input.as_ptr() as usize,
        out,
    };
    let result =
        de::Deserializer::deserialize_any(&mut de, Root { ctx: &mut ctx }).and_then(|()| de.end());
    if let Some(e) = out.error.take() {
        return Err(e);
    }
    result.map_err(|e| PushError::InvalidJson {
        message: e.to_string(),
    })?;
    out.index(fields.len());
    Ok(())
}

struct Ctx<'a> {
    fields: &'a [FieldSpec],
    trie: &'a FieldTrie,
    base: usize,
    out: &'a mut Decoded,
}

impl Ctx<'_> {
    /// Records why the event is refused; the returned serde error only stops parsing.
    fn fail<E: de::Error>(&mut self, error: PushError) -> E {
        if self.out.error.is_none() {
            self.out.error = Some(error);
        }
        E::custom("refused")
    }

    fn wrong_type<E: de::Error>(&mut self, node: u32, expected: &'static str) -> E {
        let field = self.trie.nodes[node as usize].path.to_string();
        self.fail(PushError::WrongType { field, expected })
    }

    fn field_of(&self, node: u32) -> Option<(FieldId, FieldType)> {
        let id = self.trie.nodes[node as usize].field?;
        Some((id, self.fields[usize::from(id)].ty))
    }

    fn string<E: de::Error>(&mut self, node: u32, s: &str, borrowed: bool) -> Result<(), E> {
        let Some((id, ty)) = self.field_of(node) else {
            return Err(self.wrong_type(node, "an object"));
        };
        match ty {
            FieldType::Keyword => {
                if s.len() > KEYWORD_IGNORE_ABOVE && s.encode_utf16().count() > KEYWORD_IGNORE_ABOVE
                {
                    return Ok(());
                }
                if borrowed {
                    let start = (s.as_ptr() as usize - self.base) as u32;
                    self.out
                        .values
                        .push((id, Slot::Input(start, start + s.len() as u32)));
                } else {
                    self.out.push_scratch(id, format_args!("{s}"));
                }
            }
            FieldType::Ip => match parse_ip(s) {
                Some(ip) => self.out.values.push((id, Slot::Ip(ip))),
                None => {
                    let field = self.trie.nodes[node as usize].path.to_string();
                    let value: String = s.chars().take(64).collect();
                    return Err(self.fail(PushError::MalformedIp { field, value }));
                }
            },
            FieldType::Number => match s.trim().parse::<f64>() {
                Ok(n) => self.out.values.push((id, Slot::Number(n))),
                Err(_) => return Err(self.wrong_type(node, ty.name())),
            },
            FieldType::Date => match parse_rfc3339_ms(s).or_else(|| s.parse::<i64>().ok()) {
                Some(ms) => self.timestamp(id, ms),
                None => {
                    let value: String = s.chars().take(64).collect();
                    return Err(self.fail(PushError::BadTimestamp { value }));
                }
            },
        }
        Ok(())
    }

    fn timestamp(&mut self, id: FieldId, ms: i64) {
        if id == TIMESTAMP && self.out.timestamp.is_none() {
            self.out.timestamp = Some(ms);
        }
        self.out.values.push((id, Slot::Number(ms as f64)));
    }

    fn number<E: de::Error>(&mut self, node: u32, n: Number) -> Result<(), E> {
        let Some((id, ty)) = self.field_of(node) else {
            return Err(self.wrong_type(node, "an object"));
        };
        match ty {
            FieldType::Keyword => self.out.push_scratch(id, format_args!("{n}")),
            FieldType::Number => self.out.values.push((id, Slot::Number(n.as_f64()))),
            FieldType::Date => match n.as_millis() {
                Some(ms) => self.timestamp(id, ms),
                None => {
                    let value = alloc::format!("{n}");
                    return Err(self.fail(PushError::BadTimestamp { value }));
                }
            },
            FieldType::Ip => {
                let field = self.trie.nodes[node as usize].path.to_string();
                return Err(self.fail(PushError::MalformedIp {
                    field,
                    value: alloc::format!("{n}"),
                }));
            }
        }
        Ok(())
    }

    fn boolean<E: de::Error>(&mut self, node: u32, b: bool) -> Result<(), E> {
        match self.field_of(node) {
            Some((id, FieldType::Keyword)) => {
                self.out.push_scratch(id, format_args!("{b}"));
                Ok(())
            }
            Some((_, ty)) => Err(self.wrong_type(node, ty.name())),
            None => Err(self.wrong_type(node, "an object")),
        }
    }
}

#[derive(Clone, Copy)]
enum Number {
    U(u64),
    I(i64),
    F(f64),
}

impl Number {
    fn as_f64(self) -> f64 {
        match self {
            Number::U(u) => u as f64,
            Number::I(i) => i as f64,
            Number::F(f) => f,
        }
    }
    fn as_millis(self) -> Option<i64> {
        match self {
            Number::U(u) => i64::try_from(u).ok(),
            Number::I(i) => Some(i),
            Number::F(f) if f.is_finite() && f.abs() < 9.0e15 => Some(f as i64),
            Number::F(_) => None,
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::U(u) => write!(f, "{u}"),
            Number::I(i) => write!(f, "{i}"),
            Number::F(x) => write!(f, "{x}"),
        }
    }
}

/// The top level: must be an object.
struct Root<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
}

impl<'de> Visitor<'de> for Root<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        object(self.ctx, ROOT, map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.ctx.fail(PushError::NotAnObject))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(self.ctx.fail(PushError::NotAnObject))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(self.ctx.fail(PushError::NotAnObject))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(self.ctx.fail(PushError::NotAnObject))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(self.ctx.fail(PushError::NotAnObject))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(self.ctx.fail(PushError::NotAnObject))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(self.ctx.fail(PushError::NotAnObject))
    }
}

fn object<'de, A: MapAccess<'de>>(
    ctx: &mut Ctx<'_>,
    node: u32,
    mut map: A,
) -> Result<(), A::Error> {
    while let Some(child) = map.next_key_seed(Key {
        trie: ctx.trie,
        node,
    })? {
        match child {
            Some(child) => map.next_value_seed(Value {
                ctx: &mut *ctx,
                node: child,
            })?,
            None => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(())
}

/// Resolves an object key to a trie node, or `None` to skip its value.
struct Key<'t> {
    trie: &'t FieldTrie,
    node: u32,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = Option<u32>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<u32>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = Option<u32>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<u32>, E> {
        Ok(self.trie.walk(self.node, key))
    }
}

/// The value under a trie node: an object to descend into, an array to
/// flatten, or a scalar for the node's field.
struct Value<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    node: u32,
}

impl<'de> DeserializeSeed<'de> for Value<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Value<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        if self.ctx.trie.nodes[self.node as usize].children.is_empty() {
            let expected = self
                .ctx
                .field_of(self.node)
                .map_or("an object", |(_, ty)| ty.name());
            return Err(self.ctx.wrong_type(self.node, expected));
        }
        object(self.ctx, self.node, map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Value {
                ctx: &mut *self.ctx,
                node: self.node,
            })?
            .is_some()
        {}
        Ok(())
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<(), E> {
        self.ctx.string(self.node, s, true)
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        self.ctx.string(self.node, s, false)
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<(), E> {
        self.ctx.number(self.node, Number::U(n))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<(), E> {
        self.ctx.number(self.node, Number::I(n))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<(), E> {
        self.ctx.number(self.node, Number::F(n))
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<(), E> {
        self.ctx.boolean(self.node, b)
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}
