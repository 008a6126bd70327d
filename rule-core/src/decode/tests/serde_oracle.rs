//! The decoder as it was before it had its own JSON reader: serde_json
//! driving a visitor over a trie of field paths. Kept as the oracle of the
//! differential tests (rule-core's `decode::tests` and the `decode_json`
//! fuzz target, which includes this file), so it depends on nothing of the
//! crate but `PushError` and `parse_rfc3339_ms`, which its parent module
//! brings into scope, and answers in its own plain types.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::{self, Write as _};
use core::net::IpAddr;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{parse_rfc3339_ms, PushError};

const KEYWORD_IGNORE_ABOVE: usize = 1024;

/// A field's type, as the plan gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Keyword,
    Ip,
    Number,
    Date,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Keyword => "a keyword (string)",
            Ty::Ip => "an IP address",
            Ty::Number => "a number",
            Ty::Date => "a date",
        }
    }
}

/// One decoded value.
#[derive(Debug, Clone)]
pub enum Val {
    Str(String),
    Ip(IpAddr),
    Num(f64),
}

impl PartialEq for Val {
    fn eq(&self, other: &Val) -> bool {
        match (self, other) {
            (Val::Str(a), Val::Str(b)) => a == b,
            (Val::Ip(a), Val::Ip(b)) => a == b,
            (Val::Num(a), Val::Num(b)) => a.to_bits() == b.to_bits(),
            _ => false,
        }
    }
}

/// Field `i`'s values in document order, and `@timestamp` (field 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub values: Vec<Vec<Val>>,
    pub timestamp: Option<i64>,
}

struct Node {
    children: Vec<(String, usize)>,
    field: Option<usize>,
    path: String,
}

struct Trie {
    nodes: Vec<Node>,
}

impl Trie {
    fn new(fields: &[(&str, Ty)]) -> Trie {
        let mut trie = Trie {
            nodes: vec![Node {
                children: Vec::new(),
                field: None,
                path: String::new(),
            }],
        };
        for (id, (path, _)) in fields.iter().enumerate() {
            let mut node = 0;
            for segment in path.split('.') {
                node = match trie.child(node, segment) {
                    Some(n) => n,
                    None => {
                        let path = match trie.nodes[node].path.as_str() {
                            "" => segment.to_string(),
                            parent => format!("{parent}.{segment}"),
                        };
                        trie.nodes.push(Node {
                            children: Vec::new(),
                            field: None,
                            path,
                        });
                        let new = trie.nodes.len() - 1;
                        trie.nodes[node].children.push((segment.to_string(), new));
                        new
                    }
                };
            }
            trie.nodes[node].field = Some(id);
        }
        trie
    }

    fn child(&self, node: usize, segment: &str) -> Option<usize> {
        self.nodes[node]
            .children
            .iter()
            .find(|(name, _)| name == segment)
            .map(|&(_, n)| n)
    }

    fn walk(&self, node: usize, key: &str) -> Option<usize> {
        let mut node = node;
        for segment in key.split('.') {
            node = self.child(node, segment)?;
        }
        Some(node)
    }
}

/// `ip.rs`'s `parse_ip`: std's parser, IPv4-mapped IPv6 folded to IPv4.
fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>().ok().map(|ip| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    })
}

/// Decodes `input` as the serde_json decoder did.
pub fn decode(fields: &[(&str, Ty)], input: &str) -> Result<Decoded, PushError> {
    let trie = Trie::new(fields);
    let mut ctx = Ctx {
        fields,
        trie: &trie,
        out: Decoded {
            values: vec![Vec::new(); fields.len()],
            timestamp: None,
        },
        error: None,
    };
    let mut de = serde_json::Deserializer::from_str(input);
    let result =
        de::Deserializer::deserialize_any(&mut de, Root { ctx: &mut ctx }).and_then(|()| de.end());
    if let Some(e) = ctx.error.take() {
        return Err(e);
    }
    result.map_err(|e| PushError::InvalidJson {
        message: e.to_string(),
    })?;
    Ok(ctx.out)
}

struct Ctx<'a> {
    fields: &'a [(&'a str, Ty)],
    trie: &'a Trie,
    out: Decoded,
    error: Option<PushError>,
}

impl Ctx<'_> {
    fn fail<E: de::Error>(&mut self, error: PushError) -> E {
        if self.error.is_none() {
            self.error = Some(error);
        }
        E::custom("refused")
    }

    fn wrong_type<E: de::Error>(&mut self, node: usize, expected: &'static str) -> E {
        let field = self.trie.nodes[node].path.clone();
        self.fail(PushError::WrongType { field, expected })
    }

    fn field_of(&self, node: usize) -> Option<(usize, Ty)> {
        let id = self.trie.nodes[node].field?;
        Some((id, self.fields[id].1))
    }

    fn string<E: de::Error>(&mut self, node: usize, s: &str) -> Result<(), E> {
        let Some((id, ty)) = self.field_of(node) else {
            return Err(self.wrong_type(node, "an object"));
        };
        match ty {
            Ty::Keyword => {
                if s.len() > KEYWORD_IGNORE_ABOVE && s.encode_utf16().count() > KEYWORD_IGNORE_ABOVE
                {
                    return Ok(());
                }
                self.out.values[id].push(Val::Str(s.to_string()));
            }
            Ty::Ip => match parse_ip(s) {
                Some(ip) => self.out.values[id].push(Val::Ip(ip)),
                None => {
                    let field = self.trie.nodes[node].path.clone();
                    let value: String = s.chars().take(64).collect();
                    return Err(self.fail(PushError::MalformedIp { field, value }));
                }
            },
            Ty::Number => match s.trim().parse::<f64>() {
                Ok(n) => self.out.values[id].push(Val::Num(n)),
                Err(_) => return Err(self.wrong_type(node, ty.name())),
            },
            Ty::Date => match parse_rfc3339_ms(s).or_else(|| s.parse::<i64>().ok()) {
                Some(ms) => self.timestamp(id, ms),
                None => {
                    let value: String = s.chars().take(64).collect();
                    return Err(self.fail(PushError::BadTimestamp { value }));
                }
            },
        }
        Ok(())
    }

    fn timestamp(&mut self, id: usize, ms: i64) {
        if id == 0 && self.out.timestamp.is_none() {
            self.out.timestamp = Some(ms);
        }
        self.out.values[id].push(Val::Num(ms as f64));
    }

    fn number<E: de::Error>(&mut self, node: usize, n: Number) -> Result<(), E> {
        let Some((id, ty)) = self.field_of(node) else {
            return Err(self.wrong_type(node, "an object"));
        };
        match ty {
            Ty::Keyword => {
                let mut s = String::new();
                let _ = write!(s, "{n}");
                self.out.values[id].push(Val::Str(s));
            }
            Ty::Number => self.out.values[id].push(Val::Num(n.as_f64())),
            Ty::Date => match n.as_millis() {
                Some(ms) => self.timestamp(id, ms),
                None => {
                    let value = format!("{n}");
                    return Err(self.fail(PushError::BadTimestamp { value }));
                }
            },
            Ty::Ip => {
                let field = self.trie.nodes[node].path.clone();
                return Err(self.fail(PushError::MalformedIp {
                    field,
                    value: format!("{n}"),
                }));
            }
        }
        Ok(())
    }

    fn boolean<E: de::Error>(&mut self, node: usize, b: bool) -> Result<(), E> {
        match self.field_of(node) {
            Some((id, Ty::Keyword)) => {
                self.out.values[id].push(Val::Str(b.to_string()));
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

struct Root<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
}

impl<'de> Visitor<'de> for Root<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        object(self.ctx, 0, map)
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
    node: usize,
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

struct Key<'t> {
    trie: &'t Trie,
    node: usize,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = Option<usize>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.trie.walk(self.node, key))
    }
}

struct Value<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    node: usize,
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
        if self.ctx.trie.nodes[self.node].children.is_empty() {
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
    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        self.ctx.string(self.node, s)
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
