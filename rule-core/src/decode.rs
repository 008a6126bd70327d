//! Reads from an event only the fields the plan references.
//!
//! One pass of our own JSON reader ([`scan`]) walks the event along a trie
//! of the plan's field paths; a key that leads nowhere in the trie has its
//! value skipped, checked but not converted. Nested objects, dotted keys
//! (`"process.executable"`) and any mix of them reach the same field; arrays
//! anywhere flatten into the field's values, as Elasticsearch indexes them.
//! Strings without escapes are kept as spans of the input; decoding
//! allocates nothing once its buffers have grown.
//!
//! The walk is the one serde_json drove through a visitor before: the same
//! events are taken with the same values, and the same ones refused, with
//! the same error (for bad JSON, serde_json's message, line and column). The
//! first problem in document order decides: a value of the wrong type is
//! refused once the value itself has been read, an object under a leaf as
//! soon as its `{` is seen.

pub(crate) mod msgpack;
mod scan;
#[cfg(test)]
mod tests;
mod values;

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::{self, Write as _};
use core::net::IpAddr;

use scan::{Code, Number, Reader, Str, SyntaxError};
use values::FieldValues;

use crate::error::{ErrorKind, PushError};
use crate::ip::parse_ip;
use crate::plan::{FieldId, FieldSpec, FieldType, ValueRef, TIMESTAMP};
use crate::swar;
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
    children: Vec<Child>,
    /// One bit per child, at [`bloom_bit`] of its name: a key whose bit is
    /// clear names no child, which is most keys.
    bloom: u64,
    field: Option<FieldId>,
    /// The dotted path to this node, for error messages.
    path: Box<str>,
}

/// An edge of the trie. Most keys of an event lead nowhere: the length and
/// the first eight bytes (`head`) refuse them without a string comparison,
/// and a name of up to sixteen bytes is compared as two words (`head`,
/// `tail`).
#[derive(Debug, Clone)]
struct Child {
    len: usize,
    head: u64,
    /// Bytes 8 to 16 of the name, zero-padded.
    tail: u64,
    name: Box<str>,
    node: u32,
}

/// Up to the first eight bytes of `s`, zero-padded, as one word.
#[inline]
fn head(s: &[u8]) -> u64 {
    if let Some(Ok(first)) = s.get(..8).map(<[u8; 8]>::try_from) {
        return u64::from_le_bytes(first);
    }
    let mut word = [0u8; 8];
    for (w, b) in word.iter_mut().zip(s) {
        *w = *b;
    }
    u64::from_le_bytes(word)
}

/// Which of 64 bits of a node's bloom stands for a key: from its length
/// and its first eight bytes as a word ([`head`]). Set as the trie is
/// built, tested by every lookup.
#[inline(always)]
fn bloom_bit(head: u64, len: usize) -> u32 {
    let h = (head ^ len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 58) as u32
}

const ROOT: u32 = 0;

impl FieldTrie {
    pub fn new(fields: &[FieldSpec]) -> FieldTrie {
        let mut trie = FieldTrie {
            nodes: alloc::vec![TrieNode {
                children: Vec::new(),
                bloom: 0,
                field: None,
                path: "".into()
            }],
        };
        for (id, spec) in fields.iter().enumerate() {
            let mut node = ROOT;
            for segment in spec.path.split('.') {
                node = match trie.child(node, segment.as_bytes(), head(segment.as_bytes())) {
                    Some(n) => n,
                    None => {
                        let path = match trie.nodes[node as usize].path.as_ref() {
                            "" => segment.to_string(),
                            parent => alloc::format!("{parent}.{segment}"),
                        };
                        trie.nodes.push(TrieNode {
                            children: Vec::new(),
                            bloom: 0,
                            field: None,
                            path: path.into(),
                        });
                        let new = (trie.nodes.len() - 1) as u32;
                        let parent = &mut trie.nodes[node as usize];
                        parent.bloom |= 1 << bloom_bit(head(segment.as_bytes()), segment.len());
                        parent.children.push(Child {
                            len: segment.len(),
                            head: head(segment.as_bytes()),
                            tail: head(segment.as_bytes().get(8..).unwrap_or_default()),
                            name: segment.into(),
                            node: new,
                        });
                        new
                    }
                };
            }
            trie.nodes[node as usize].field = Some(id as FieldId);
        }
        trie
    }

    /// The child of `node` named `segment`, whose [`head`] is `head`.
    #[inline(always)]
    fn child(&self, node: u32, segment: &[u8], head: u64) -> Option<u32> {
        let node = &self.nodes[node as usize];
        if node.bloom & (1 << bloom_bit(head, segment.len())) == 0 {
            return None;
        }
        node.children
            .iter()
            .find(|c| {
                c.len == segment.len()
                    && c.head == head
                    && (c.len <= 8 || c.name.as_bytes().get(8..) == segment.get(8..))
            })
            .map(|c| c.node)
    }

    /// Follows a key, which may hold several dotted segments, from `node`.
    fn walk(&self, node: u32, key: &[u8]) -> Option<u32> {
        self.walk_in(node, key, 0, key.len())
    }

    /// [`FieldTrie::walk_in`] for the usual key: at most sixteen bytes, no
    /// dot, and (mostly) refused by the bloom, all without a call or a
    /// string comparison.
    #[inline(always)]
    fn lookup(&self, node: u32, text: &[u8], a: usize, b: usize) -> Option<u32> {
        let len = b.wrapping_sub(a);
        if len <= 16 {
            // A key in an event is followed by its closing quote at least,
            // so the two words are there unless the key ends the text.
            if let Some(Ok(w)) = text.get(a..a + 16).map(<[u8; 16]>::try_from) {
                let both = u128::from_le_bytes(w);
                let head = both as u64 & low_bytes(len);
                let tail = (both >> 64) as u64 & low_bytes(len.saturating_sub(8));
                if swar::eq_mask(head, b'.') | swar::eq_mask(tail, b'.') == 0 {
                    return self.short_child(node, len, head, tail);
                }
            }
        }
        self.walk_in(node, text, a, b)
    }

    /// [`FieldTrie::child`] for a name of at most sixteen bytes given as
    /// its two words.
    #[inline(always)]
    fn short_child(&self, node: u32, len: usize, head: u64, tail: u64) -> Option<u32> {
        let node = &self.nodes[node as usize];
        if node.bloom & (1 << bloom_bit(head, len)) == 0 {
            return None;
        }
        node.children
            .iter()
            .find(|c| c.len == len && c.head == head && c.tail == tail)
            .map(|c| c.node)
    }

    /// Follows the key `text[a..b]` from `node`. Reading a word from `text`
    /// at `a` (a key in an event is followed by at least its closing quote)
    /// gives the first segment's head and finds a dot in it at once.
    #[inline(never)]
    fn walk_in(&self, node: u32, text: &[u8], mut a: usize, b: usize) -> Option<u32> {
        let mut node = node;
        loop {
            let key = text.get(a..b)?;
            let word = match text.get(a..a + 8).map(<[u8; 8]>::try_from) {
                Some(Ok(w)) => u64::from_le_bytes(w),
                _ => head(key),
            };
            let word = word & low_bytes(key.len());
            let dots = swar::eq_mask(word, b'.');
            let dot = if dots != 0 {
                Some((dots.trailing_zeros() / 8) as usize)
            } else if key.len() > 8 {
                key.get(8..)?.iter().position(|&c| c == b'.').map(|d| d + 8)
            } else {
                None
            };
            match dot {
                None => return self.child(node, key, word),
                Some(d) => {
                    let segment = key.get(..d)?;
                    node = self.child(node, segment, word & low_bytes(d))?;
                    a += d + 1;
                }
            }
        }
    }
}

/// A mask of the low `n` bytes of a word (all of it from 8 on).
#[inline(always)]
fn low_bytes(n: usize) -> u64 {
    const MASKS: [u64; 9] = [
        0,
        0xff,
        0xffff,
        0xff_ffff,
        0xffff_ffff,
        0xff_ffff_ffff,
        0xffff_ffff_ffff,
        0xff_ffff_ffff_ffff,
        u64::MAX,
    ];
    MASKS[n.min(8)]
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
    values: FieldValues,
    scratch: String,
    pub timestamp: Option<i64>,
    /// Values left out because they did not fit a field whose mapping says
    /// `ignore_malformed`, by what refusing them would have been.
    pub ignored_malformed: Vec<ErrorKind>,
    /// The reader's buffers: the last string read that had escapes, and the
    /// open brackets of a value being skipped.
    unescaped: String,
    stack: Vec<u8>,
}

impl Decoded {
    /// The values of `field` in `input` (the text [`decode`] was given).
    pub fn values<'a>(
        &'a self,
        input: &'a str,
        field: FieldId,
    ) -> impl Iterator<Item = ValueRef<'a>> + 'a {
        self.values.of(field).map(move |slot| match *slot {
            Slot::Input(a, b) => ValueRef::Str(input.get(a as usize..b as usize).unwrap_or("")),
            Slot::Scratch(a, b) => {
                ValueRef::Str(self.scratch.get(a as usize..b as usize).unwrap_or(""))
            }
            Slot::Ip(ip) => ValueRef::Ip(ip),
            Slot::Number(n) => ValueRef::Number(n),
        })
    }

    pub fn has_values(&self, field: FieldId) -> bool {
        self.values.has(field)
    }

    fn clear(&mut self) {
        self.values.clear();
        self.scratch.clear();
        self.timestamp = None;
        self.ignored_malformed.clear();
    }

    fn push_scratch(&mut self, field: FieldId, text: fmt::Arguments<'_>) {
        let start = self.scratch.len() as u32;
        let _ = self.scratch.write_fmt(text);
        self.values
            .push((field, Slot::Scratch(start, self.scratch.len() as u32)));
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
    let mut walk = Walk {
        fields,
        trie,
        input,
        reader: Reader::new(input),
        out: &mut *out,
        depth_left: RECURSION_LIMIT,
    };
    match walk.root().and_then(|()| Ok(walk.reader.end()?)) {
        Ok(()) => Ok(()),
        Err(Stop::Refused(e)) => Err(e),
        Err(Stop::Json(e)) => Err(PushError::InvalidJson {
            message: e.message(input.as_bytes()),
        }),
    }
}

/// serde_json's recursion limit: containers the walk enters (not the ones
/// it skips) may nest 127 deep.
const RECURSION_LIMIT: u8 = 128;

/// Why the walk stopped early.
enum Stop {
    Json(SyntaxError),
    Refused(PushError),
}

impl From<SyntaxError> for Stop {
    fn from(e: SyntaxError) -> Stop {
        Stop::Json(e)
    }
}

impl From<PushError> for Stop {
    fn from(e: PushError) -> Stop {
        Stop::Refused(e)
    }
}

/// The walk of one event along the trie.
struct Walk<'a> {
    fields: &'a [FieldSpec],
    trie: &'a FieldTrie,
    input: &'a str,
    reader: Reader<'a>,
    out: &'a mut Decoded,
    depth_left: u8,
}

impl Walk<'_> {
    /// The top level: must be an object. Anything else is read (and so
    /// checked) as far as serde_json read it before its visitor refused it.
    fn root(&mut self) -> Result<(), Stop> {
        let r = &mut self.reader;
        match r.whitespace() {
            None => Err(r.peek_error(Code::EofWhileParsingValue).into()),
            Some(b'{') => {
                self.enter()?;
                self.reader.eat();
                self.object(ROOT)?;
                self.leave();
                self.reader.eat(); // the `}` that ended the object
                Ok(())
            }
            Some(b'[') => {
                self.enter()?;
                Err(PushError::NotAnObject.into())
            }
            Some(b'n') => {
                r.eat();
                r.ident(b"ull")?;
                Err(PushError::NotAnObject.into())
            }
            Some(b't') => {
                r.eat();
                r.ident(b"rue")?;
                Err(PushError::NotAnObject.into())
            }
            Some(b'f') => {
                r.eat();
                r.ident(b"alse")?;
                Err(PushError::NotAnObject.into())
            }
            Some(b'-') => {
                r.eat();
                r.number(false)?;
                Err(PushError::NotAnObject.into())
            }
            Some(b'0'..=b'9') => {
                r.number(true)?;
                Err(PushError::NotAnObject.into())
            }
            Some(b'"') => {
                r.eat();
                r.string(&mut self.out.unescaped)?;
                Err(PushError::NotAnObject.into())
            }
            Some(_) => Err(r.peek_error(Code::ExpectedSomeValue).into()),
        }
    }

    /// Counts a container against the recursion limit, at its bracket.
    fn enter(&mut self) -> Result<(), Stop> {
        self.depth_left -= 1;
        if self.depth_left == 0 {
            return Err(self.reader.peek_error(Code::RecursionLimitExceeded).into());
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth_left += 1;
    }

    /// An object's members after its `{`, up to (not over) its `}`.
    fn object(&mut self, node: u32) -> Result<(), Stop> {
        let mut first = true;
        loop {
            let r = &mut self.reader;
            match r.whitespace() {
                None => return Err(r.peek_error(Code::EofWhileParsingObject).into()),
                Some(b'}') => return Ok(()),
                Some(b'"') if first => {}
                Some(_) if first => return Err(r.peek_error(Code::KeyMustBeAString).into()),
                Some(b',') => {
                    r.eat();
                    match r.whitespace() {
                        Some(b'"') => {}
                        Some(b'}') => return Err(r.peek_error(Code::TrailingComma).into()),
                        Some(_) => return Err(r.peek_error(Code::KeyMustBeAString).into()),
                        None => return Err(r.peek_error(Code::EofWhileParsingValue).into()),
                    }
                }
                Some(_) => return Err(r.peek_error(Code::ExpectedObjectCommaOrEnd).into()),
            }
            first = false;
            r.eat();
            let child = match r.string(&mut self.out.unescaped)? {
                Str::Borrowed(a, b) => self.trie.lookup(node, self.input.as_bytes(), a, b),
                Str::Copied => self.trie.walk(node, self.out.unescaped.as_bytes()),
            };
            let r = &mut self.reader;
            match r.whitespace() {
                Some(b':') => r.eat(),
                Some(_) => return Err(r.peek_error(Code::ExpectedColon).into()),
                None => return Err(r.peek_error(Code::EofWhileParsingObject).into()),
            }
            match child {
                Some(child) => self.value(child)?,
                None => r.skip_value(&mut self.out.stack)?,
            }
        }
    }

    /// The value under a trie node: an object to descend into, an array to
    /// flatten, or a scalar for the node's field.
    fn value(&mut self, node: u32) -> Result<(), Stop> {
        let r = &mut self.reader;
        match r.whitespace() {
            None => Err(r.peek_error(Code::EofWhileParsingValue).into()),
            Some(b'"') => {
                r.eat();
                match r.string(&mut self.out.unescaped)? {
                    Str::Borrowed(a, b) => {
                        let s = self.input.get(a..b).unwrap_or("");
                        self.string(node, s, Some((a as u32, b as u32)))
                    }
                    Str::Copied => {
                        let text = core::mem::take(&mut self.out.unescaped);
                        let result = self.string(node, &text, None);
                        self.out.unescaped = text;
                        result
                    }
                }
            }
            Some(b'n') => {
                r.eat();
                Ok(r.ident(b"ull")?)
            }
            Some(b't') => {
                r.eat();
                r.ident(b"rue")?;
                self.boolean(node, true)
            }
            Some(b'f') => {
                r.eat();
                r.ident(b"alse")?;
                self.boolean(node, false)
            }
            Some(b'-') => {
                let start = r.offset();
                r.eat();
                let n = r.number(false)?;
                let end = r.offset();
                self.number_at(node, n, (start, end))
            }
            Some(b'0'..=b'9') => {
                let start = r.offset();
                let n = r.number(true)?;
                let end = r.offset();
                self.number_at(node, n, (start, end))
            }
            Some(b'[') => {
                self.enter()?;
                self.reader.eat();
                self.array(node)?;
                self.leave();
                self.reader.eat(); // the `]`
                Ok(())
            }
            Some(b'{') => {
                self.enter()?;
                self.reader.eat();
                if self.trie.nodes[node as usize].children.is_empty() {
                    let expected = self.field_of(node).map_or("an object", |(_, ty)| ty.name());
                    return Err(self.wrong_type(node, expected));
                }
                self.object(node)?;
                self.leave();
                self.reader.eat(); // the `}`
                Ok(())
            }
            Some(_) => Err(r.peek_error(Code::ExpectedSomeValue).into()),
        }
    }

    /// An array's elements after its `[`, up to (not over) its `]`, each
    /// one a value of the same node.
    fn array(&mut self, node: u32) -> Result<(), Stop> {
        let mut first = true;
        loop {
            let r = &mut self.reader;
            match r.whitespace() {
                None => return Err(r.peek_error(Code::EofWhileParsingList).into()),
                Some(b']') => return Ok(()),
                Some(_) if first => first = false,
                Some(b',') => {
                    r.eat();
                    match r.whitespace() {
                        Some(b']') => return Err(r.peek_error(Code::TrailingComma).into()),
                        Some(_) => {}
                        None => return Err(r.peek_error(Code::EofWhileParsingValue).into()),
                    }
                }
                Some(_) => return Err(r.peek_error(Code::ExpectedListCommaOrEnd).into()),
            }
            self.value(node)?;
        }
    }

    fn wrong_type(&self, node: u32, expected: &'static str) -> Stop {
        let field = self.trie.nodes[node as usize].path.to_string();
        Stop::Refused(PushError::WrongType { field, expected })
    }

    fn field_of(&self, node: u32) -> Option<(FieldId, FieldType)> {
        let id = self.trie.nodes[node as usize].field?;
        Some((id, self.fields[usize::from(id)].ty))
    }

    /// A string value; `span` is where it lies in the input when it had no
    /// escapes.
    fn string(&mut self, node: u32, s: &str, span: Option<(u32, u32)>) -> Result<(), Stop> {
        let Some((id, ty)) = self.field_of(node) else {
            return Err(self.wrong_type(node, "an object"));
        };
        match ty {
            FieldType::Keyword => {
                if s.len() > KEYWORD_IGNORE_ABOVE && s.encode_utf16().count() > KEYWORD_IGNORE_ABOVE
                {
                    return Ok(());
                }
                match span {
                    Some((a, b)) => self.out.values.push((id, Slot::Input(a, b))),
                    None => self.out.push_scratch(id, format_args!("{s}")),
                }
            }
            FieldType::Ip => match parse_ip(s) {
                Some(ip) => self.out.values.push((id, Slot::Ip(ip))),
                None => {
                    let field = self.trie.nodes[node as usize].path.to_string();
                    let value: String = s.chars().take(64).collect();
                    return self.malformed(id, PushError::MalformedIp { field, value }.into());
                }
            },
            FieldType::Number => match s.trim().parse::<f64>() {
                Ok(n) => self.out.values.push((id, Slot::Number(n))),
                Err(_) => return self.malformed(id, self.wrong_type(node, ty.name())),
            },
            FieldType::Date => match parse_rfc3339_ms(s).or_else(|| s.parse::<i64>().ok()) {
                Some(ms) => self.timestamp(id, ms),
                None => {
                    let value: String = s.chars().take(64).collect();
                    return self.malformed(id, PushError::BadTimestamp { value }.into());
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

    /// A number the input spells at `span`. A keyword field keeps an
    /// integer as spelt, which is what [`Shown`] would print: JSON integers
    /// have no leading zero or `+`, and `-0` reads as a float. (Keywords
    /// holding numbers, `user.id: 0`, are common; formatting was not free.)
    fn number_at(&mut self, node: u32, n: Number, span: (usize, usize)) -> Result<(), Stop> {
        if let (Number::U(_) | Number::I(_), Some((id, FieldType::Keyword))) =
            (n, self.field_of(node))
        {
            let (a, b) = span;
            self.out.values.push((id, Slot::Input(a as u32, b as u32)));
            return Ok(());
        }
        self.number(node, n)
    }

    fn number(&mut self, node: u32, n: Number) -> Result<(), Stop> {
        let Some((id, ty)) = self.field_of(node) else {
            return Err(self.wrong_type(node, "an object"));
        };
        match ty {
            FieldType::Keyword => self.out.push_scratch(id, format_args!("{}", Shown(n))),
            FieldType::Number => self.out.values.push((id, Slot::Number(as_f64(n)))),
            FieldType::Date => match as_millis(n) {
                Some(ms) => self.timestamp(id, ms),
                None => {
                    let value = alloc::format!("{}", Shown(n));
                    return self.malformed(id, PushError::BadTimestamp { value }.into());
                }
            },
            FieldType::Ip => {
                let field = self.trie.nodes[node as usize].path.to_string();
                let value = alloc::format!("{}", Shown(n));
                return self.malformed(id, PushError::MalformedIp { field, value }.into());
            }
        }
        Ok(())
    }

    fn boolean(&mut self, node: u32, b: bool) -> Result<(), Stop> {
        match self.field_of(node) {
            Some((id, FieldType::Keyword)) => {
                self.out.push_scratch(id, format_args!("{b}"));
                Ok(())
            }
            Some((id, ty)) => self.malformed(id, self.wrong_type(node, ty.name())),
            None => Err(self.wrong_type(node, "an object")),
        }
    }

    /// A value that does not fit its field: the event is refused, unless
    /// the field's mapping says `ignore_malformed`, where Elasticsearch
    /// indexes the document without the value. A JSON object where a value
    /// belongs is refused either way, as a mapping conflict.
    fn malformed(&mut self, id: FieldId, refusal: Stop) -> Result<(), Stop> {
        match refusal {
            Stop::Refused(e) if self.fields[usize::from(id)].ignore_malformed => {
                self.out.ignored_malformed.push(e.kind());
                Ok(())
            }
            refusal => Err(refusal),
        }
    }
}

fn as_f64(n: Number) -> f64 {
    match n {
        Number::U(u) => u as f64,
        Number::I(i) => i as f64,
        Number::F(f) => f,
    }
}

fn as_millis(n: Number) -> Option<i64> {
    match n {
        Number::U(u) => i64::try_from(u).ok(),
        Number::I(i) => Some(i),
        Number::F(f) if f.is_finite() && f.abs() < 9.0e15 => Some(f as i64),
        Number::F(_) => None,
    }
}

/// A number as a keyword holds it: integers as they are, floats by Rust's
/// shortest round-trip `Display` (`1.0` is `1`, `1e3` is `1000`, `-0` is `-0`).
struct Shown(Number);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Number::U(u) => write!(f, "{u}"),
            Number::I(i) => write!(f, "{i}"),
            Number::F(x) => write!(f, "{x}"),
        }
    }
}
