//! Reads an event given as MessagePack (Fluent Bit's own record format)
//! into the same [`Decoded`] the JSON reader gives, for the same record.
//!
//! Lengths come first in MessagePack, so a value no rule reads is passed
//! over by its header: a container's element count is added to a counter
//! of values still to pass, a string's bytes are stepped over (after a
//! UTF-8 check, below). Values the plan reads are typed exactly as the JSON
//! reader types them (the same `Walk` methods do it), so the same record
//! gives the same values and the same refusals:
//!
//! - any string (key or value, read or passed over) that is not UTF-8 is
//!   refused as [`PushError::InvalidUtf8`] (the JSON path checks the whole
//!   text first), whatever else is wrong with the record;
//! - otherwise the first problem in document order decides: a value of the
//!   wrong type, a malformed IP or timestamp, as for JSON; a record that is
//!   not a map is [`PushError::NotAnObject`];
//! - MessagePack that is not well formed (cut short, the unused byte
//!   `0xc1`, a key that is not a string in a map the plan enters, nesting
//!   past the JSON reader's 127 levels in entered containers) is refused as
//!   [`PushError::InvalidJson`] with a message saying where.
//!
//! As Fluent Bit's own JSON writer does, `bin` is read as a string and an
//! `ext` value as the string of its bytes written `\xNN`. Every string value
//! the plan keeps is copied into the decoded event's scratch text (the
//! input is not text), so the engine's text for the event is needed only
//! when a rule keeps the event: [`to_json`] writes it then.

use alloc::string::String;
use core::fmt::Write as _;

#[cfg(test)]
mod tests;

use super::scan::{Number, Reader};
use super::{Decoded, FieldTrie, Stop, Walk, RECURSION_LIMIT};
use crate::error::PushError;
use crate::plan::FieldSpec;

/// One MessagePack header: a scalar, or where a string's bytes lie, or how
/// many values a container holds.
#[derive(Debug, Clone, Copy)]
enum Head {
    Nil,
    Bool(bool),
    Num(Number),
    /// `str` or `bin`: its bytes are `input[a..b]`, checked UTF-8.
    Str(usize, usize),
    /// `ext`: its data bytes.
    Ext(usize, usize),
    Array(u32),
    Map(u32),
}

/// A malformed record: what and where.
#[derive(Debug)]
struct Bad {
    what: &'static str,
    at: usize,
}

struct Cursor<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    #[inline(always)]
    fn take(&mut self, n: usize) -> Result<&'a [u8], Bad> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.input.len());
        match end.and_then(|e| self.input.get(self.pos..e)) {
            Some(bytes) => {
                self.pos += n;
                Ok(bytes)
            }
            None => Err(Bad {
                what: "the record ends inside a value",
                at: self.input.len(),
            }),
        }
    }

    #[inline(always)]
    fn byte(&mut self) -> Result<u8, Bad> {
        Ok(self.take(1)?[0])
    }

    #[inline(always)]
    fn be(&mut self, n: usize) -> Result<u64, Bad> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// A string's bytes, which must be UTF-8.
    #[inline(always)]
    fn text(&mut self, len: u64) -> Result<Head, Stop> {
        let a = self.pos;
        let len = usize::try_from(len).map_err(|_| self.bad("a length past memory", a))?;
        let bytes = self.take(len).map_err(bad_stop)?;
        if !bytes.is_ascii() {
            if let Err(e) = core::str::from_utf8(bytes) {
                return Err(Stop::Refused(PushError::InvalidUtf8 {
                    offset: a + e.valid_up_to(),
                }));
            }
        }
        Ok(Head::Str(a, a + len))
    }

    fn bad(&self, what: &'static str, at: usize) -> Stop {
        bad_stop(Bad { what, at })
    }

    /// The next header; a string's bytes are passed (and checked).
    #[inline]
    fn head(&mut self) -> Result<Head, Stop> {
        let at = self.pos;
        let b = self.byte().map_err(bad_stop)?;
        let head = match b {
            0x00..=0x7f => Head::Num(Number::U(u64::from(b))),
            0x80..=0x8f => Head::Map(u32::from(b & 0x0f)),
            0x90..=0x9f => Head::Array(u32::from(b & 0x0f)),
            0xa0..=0xbf => return self.text(u64::from(b & 0x1f)),
            0xc0 => Head::Nil,
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4 | 0xd9 => {
                let n = self.be(1).map_err(bad_stop)?;
                return self.text(n);
            }
            0xc5 | 0xda => {
                let n = self.be(2).map_err(bad_stop)?;
                return self.text(n);
            }
            0xc6 | 0xdb => {
                let n = self.be(4).map_err(bad_stop)?;
                return self.text(n);
            }
            0xc7..=0xc9 | 0xd4..=0xd8 => {
                let len = match b {
                    0xc7 => self.be(1),
                    0xc8 => self.be(2),
                    0xc9 => self.be(4),
                    _ => Ok(1u64 << (b - 0xd4)),
                }
                .map_err(bad_stop)?;
                self.take(1).map_err(bad_stop)?; // the type
                let a = self.pos;
                let len = usize::try_from(len).map_err(|_| self.bad("a length past memory", a))?;
                self.take(len).map_err(bad_stop)?;
                Head::Ext(a, a + len)
            }
            0xca => {
                let bits = self.be(4).map_err(bad_stop)? as u32;
                Head::Num(Number::F(f64::from(f32::from_bits(bits))))
            }
            0xcb => Head::Num(Number::F(f64::from_bits(self.be(8).map_err(bad_stop)?))),
            0xcc => Head::Num(Number::U(self.be(1).map_err(bad_stop)?)),
            0xcd => Head::Num(Number::U(self.be(2).map_err(bad_stop)?)),
            0xce => Head::Num(Number::U(self.be(4).map_err(bad_stop)?)),
            0xcf => Head::Num(Number::U(self.be(8).map_err(bad_stop)?)),
            0xd0 => Head::Num(signed(self.be(1).map_err(bad_stop)? as u8 as i8 as i64)),
            0xd1 => Head::Num(signed(self.be(2).map_err(bad_stop)? as u16 as i16 as i64)),
            0xd2 => Head::Num(signed(self.be(4).map_err(bad_stop)? as u32 as i32 as i64)),
            0xd3 => Head::Num(signed(self.be(8).map_err(bad_stop)? as i64)),
            0xdc => Head::Array(self.be(2).map_err(bad_stop)? as u32),
            0xdd => Head::Array(self.be(4).map_err(bad_stop)? as u32),
            0xde => Head::Map(self.be(2).map_err(bad_stop)? as u32),
            0xdf => Head::Map(self.be(4).map_err(bad_stop)? as u32),
            0xe0..=0xff => Head::Num(Number::I(i64::from(b as i8))),
            0xc1 => return Err(self.bad("the unused type byte 0xc1", at)),
        };
        Ok(head)
    }

    /// Passes `n` whole values, checking their strings.
    fn skip(&mut self, mut n: u64) -> Result<(), Stop> {
        while n > 0 {
            n -= 1;
            match self.head()? {
                Head::Array(k) => n += u64::from(k),
                Head::Map(k) => n += 2 * u64::from(k),
                _ => {}
            }
        }
        Ok(())
    }
}

/// A negative integer as the JSON reader reads one (`U` when not negative,
/// as serde_json reads `0` and positive numbers).
fn signed(i: i64) -> Number {
    match u64::try_from(i) {
        Ok(u) => Number::U(u),
        Err(_) => Number::I(i),
    }
}

fn bad_stop(b: Bad) -> Stop {
    Stop::Refused(PushError::InvalidJson {
        message: alloc::format!("invalid MessagePack: {} at byte {}", b.what, b.at),
    })
}

/// Decodes the MessagePack record `input` into `out`, reading only the
/// fields of `fields`: the same values as [`super::decode`] gives for the
/// record as JSON.
pub(crate) fn decode_msgpack(
    fields: &[FieldSpec],
    trie: &FieldTrie,
    input: &[u8],
    out: &mut Decoded,
) -> Result<(), PushError> {
    out.clear();
    let mut m = MsgWalk {
        walk: Walk {
            fields,
            trie,
            input: "",
            reader: Reader::new(""),
            out: &mut *out,
            depth_left: RECURSION_LIMIT,
        },
        cursor: Cursor { input, pos: 0 },
        refused: None,
    };
    let walked = m.root();
    // A semantic refusal met first in document order wins over malformed
    // MessagePack met later; a string that is not UTF-8 anywhere wins over
    // both (the JSON path checks the whole text before it reads a byte).
    match (walked, m.refused.take()) {
        (Err(Stop::Refused(e @ PushError::InvalidUtf8 { .. })), _) => Err(e),
        (Err(Stop::Refused(_)), Some(first)) | (Ok(()), Some(first)) => Err(first),
        (Err(Stop::Refused(e)), None) => Err(e),
        (Err(Stop::Json(_)), _) => Err(PushError::InvalidJson {
            message: String::from("invalid MessagePack"),
        }),
        (Ok(()), None) => Ok(()),
    }
}

struct MsgWalk<'a> {
    walk: Walk<'a>,
    cursor: Cursor<'a>,
    /// The first refusal of a value (wrong type, malformed IP, ...): the
    /// walk goes on to the end to check the rest for bad UTF-8.
    refused: Option<PushError>,
}

impl MsgWalk<'_> {
    fn root(&mut self) -> Result<(), Stop> {
        match self.cursor.head()? {
            Head::Map(n) => {
                self.enter()?;
                self.object(super::ROOT, n)?;
                self.walk.leave();
            }
            Head::Array(n) => {
                self.refuse(PushError::NotAnObject);
                self.cursor.skip(u64::from(n))?;
            }
            _ => self.refuse(PushError::NotAnObject),
        }
        if self.cursor.pos != self.cursor.input.len() {
            if self.refused.is_none() {
                return Err(self
                    .cursor
                    .bad("bytes after the record's end", self.cursor.pos));
            }
            // Already refused: still check the rest for bad UTF-8.
            let rest = self.cursor.input.len() - self.cursor.pos;
            let _ = self.cursor.skip(rest as u64);
        }
        Ok(())
    }

    fn refuse(&mut self, e: PushError) {
        if self.refused.is_none() {
            self.refused = Some(e);
        }
    }

    /// A value's refusal: kept, and the walk goes on.
    fn keep(&mut self, r: Result<(), Stop>) -> Result<(), Stop> {
        match r {
            Ok(()) => Ok(()),
            Err(Stop::Refused(e)) => {
                self.refuse(e);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn enter(&mut self) -> Result<(), Stop> {
        self.walk.depth_left -= 1;
        if self.walk.depth_left == 0 {
            return Err(self.cursor.bad("recursion limit exceeded", self.cursor.pos));
        }
        Ok(())
    }

    fn object(&mut self, node: u32, n: u32) -> Result<(), Stop> {
        for _ in 0..n {
            let at = self.cursor.pos;
            let child = match self.cursor.head()? {
                Head::Str(a, b) => self.walk.trie.lookup(node, self.cursor.input, a, b),
                _ => return Err(self.cursor.bad("a key that is not a string", at)),
            };
            match child {
                Some(child) if self.refused.is_none() => self.value(child)?,
                _ => self.cursor.skip(1)?,
            }
        }
        Ok(())
    }

    fn value(&mut self, node: u32) -> Result<(), Stop> {
        match self.cursor.head()? {
            Head::Nil => Ok(()),
            Head::Bool(b) => {
                let r = self.walk.boolean(node, b);
                self.keep(r)
            }
            Head::Num(n) => {
                let r = self.walk.number(node, n);
                self.keep(r)
            }
            Head::Str(a, b) => {
                let s = core::str::from_utf8(&self.cursor.input[a..b]).unwrap_or("");
                let r = self.walk.string(node, s, None);
                self.keep(r)
            }
            Head::Ext(a, b) => {
                let mut s = String::with_capacity(4 * (b - a));
                for &byte in &self.cursor.input[a..b] {
                    let _ = write!(s, "\\x{byte:02x}");
                }
                let r = self.walk.string(node, &s, None);
                self.keep(r)
            }
            Head::Array(n) => {
                self.enter()?;
                for _ in 0..n {
                    if self.refused.is_some() {
                        self.cursor.skip(1)?;
                    } else {
                        self.value(node)?;
                    }
                }
                self.walk.leave();
                Ok(())
            }
            Head::Map(n) => {
                self.enter()?;
                if self.walk.trie.nodes[node as usize].children.is_empty() {
                    let expected = self
                        .walk
                        .field_of(node)
                        .map_or("an object", |(_, ty)| ty.name());
                    let r = Err(self.walk.wrong_type(node, expected));
                    self.keep(r)?;
                    self.cursor.skip(2 * u64::from(n))?;
                } else {
                    self.object(node, n)?;
                }
                self.walk.leave();
                Ok(())
            }
        }
    }
}

/// How deep a MessagePack record nests maps and arrays (the record's own
/// map is level 1), as far as it is well formed; `None` past `limit`.
pub fn msgpack_depth(input: &[u8], limit: usize) -> Option<usize> {
    let mut cursor = Cursor { input, pos: 0 };
    // Values left to read at each open level.
    let mut open: alloc::vec::Vec<u64> = alloc::vec::Vec::new();
    let mut deepest = 0usize;
    let mut left = 1u64;
    loop {
        while left == 0 {
            match open.pop() {
                Some(l) => left = l,
                None => return Some(deepest),
            }
        }
        left -= 1;
        let n = match bare_head(&mut cursor) {
            Ok(Some(n)) => n,
            Ok(None) => continue,
            Err(()) => return Some(deepest),
        };
        open.push(left);
        left = n;
        deepest = deepest.max(open.len());
        if deepest > limit {
            return None;
        }
    }
}

/// A header without the UTF-8 check: `Some(values inside)` for a container.
fn bare_head(c: &mut Cursor<'_>) -> Result<Option<u64>, ()> {
    let b = c.byte().map_err(drop)?;
    let skip = |c: &mut Cursor<'_>, n: u64| -> Result<Option<u64>, ()> {
        c.take(usize::try_from(n).map_err(drop)?).map_err(drop)?;
        Ok(None)
    };
    match b {
        0x80..=0x8f => Ok(Some(2 * u64::from(b & 0x0f))),
        0x90..=0x9f => Ok(Some(u64::from(b & 0x0f))),
        0xa0..=0xbf => skip(c, u64::from(b & 0x1f)),
        0xc4 | 0xd9 => {
            let n = c.be(1).map_err(drop)?;
            skip(c, n)
        }
        0xc5 | 0xda => {
            let n = c.be(2).map_err(drop)?;
            skip(c, n)
        }
        0xc6 | 0xdb => {
            let n = c.be(4).map_err(drop)?;
            skip(c, n)
        }
        0xc7 => {
            let n = c.be(1).map_err(drop)?;
            skip(c, n + 1)
        }
        0xc8 => {
            let n = c.be(2).map_err(drop)?;
            skip(c, n + 1)
        }
        0xc9 => {
            let n = c.be(4).map_err(drop)?;
            skip(c, n + 1)
        }
        0xd4..=0xd8 => skip(c, (1u64 << (b - 0xd4)) + 1),
        0xca | 0xce | 0xd2 => skip(c, 4),
        0xcb | 0xcf | 0xd3 => skip(c, 8),
        0xcc | 0xd0 => skip(c, 1),
        0xcd | 0xd1 => skip(c, 2),
        0xdc => Ok(Some(c.be(2).map_err(drop)?)),
        0xdd => Ok(Some(c.be(4).map_err(drop)?)),
        0xde => Ok(Some(2 * c.be(2).map_err(drop)?)),
        0xdf => Ok(Some(2 * c.be(4).map_err(drop)?)),
        0xc1 => Err(()),
        _ => Ok(None),
    }
}

/// The MessagePack record as compact JSON text (strings escaped as
/// serde_json escapes them, floats in Rust's shortest round-trip form with
/// a `.0` when whole, NaN and infinities as `null`, `bin` as a string,
/// `ext` as the string of its bytes written `\xNN`, a key that is not a
/// string as the JSON of the key in quotes). `None` when it is not well
/// formed or not UTF-8: [`decode_msgpack`] refuses such records first.
pub fn to_json(input: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(input.len() + input.len() / 4 + 16);
    let mut cursor = Cursor { input, pos: 0 };
    // Per open level: values left, and whether it is a map (keys at even
    // counts).
    let mut open: alloc::vec::Vec<(u64, bool, u64)> = alloc::vec::Vec::new();
    let mut left = 1u64;
    let mut is_map = false;
    let mut index = 0u64;
    loop {
        while left == 0 {
            if !open.is_empty() {
                out.push(if is_map { '}' } else { ']' });
            }
            match open.pop() {
                Some((l, m, i)) => {
                    left = l;
                    is_map = m;
                    index = i;
                }
                None => {
                    return (cursor.pos == input.len()).then_some(out);
                }
            }
        }
        if index > 0 {
            out.push(if is_map && index % 2 == 1 { ':' } else { ',' });
        }
        let key = is_map && index % 2 == 0;
        left -= 1;
        index += 1;
        let head = cursor.head().ok()?;
        if key && !matches!(head, Head::Str(..)) {
            // Fluent Bit writes such a key as the value's JSON; quoted
            // here, so that the text stays JSON (a container as `null`).
            match head {
                Head::Array(n) => cursor.skip(u64::from(n)).ok()?,
                Head::Map(n) => cursor.skip(2 * u64::from(n)).ok()?,
                _ => {}
            }
            let mut inner = String::new();
            scalar(&mut inner, head, input);
            out.push_str(&json_string(&inner));
            continue;
        }
        match head {
            Head::Array(n) => {
                out.push('[');
                open.push((left, is_map, index));
                left = u64::from(n);
                is_map = false;
                index = 0;
            }
            Head::Map(n) => {
                out.push('{');
                open.push((left, is_map, index));
                left = 2 * u64::from(n);
                is_map = true;
                index = 0;
            }
            other => scalar(&mut out, other, input),
        }
        if open.is_empty() && left == 0 {
            return (cursor.pos == input.len()).then_some(out);
        }
    }
}

fn scalar(out: &mut String, head: Head, input: &[u8]) {
    match head {
        Head::Nil => out.push_str("null"),
        Head::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Head::Num(Number::U(u)) => {
            let _ = write!(out, "{u}");
        }
        Head::Num(Number::I(i)) => {
            let _ = write!(out, "{i}");
        }
        Head::Num(Number::F(f)) if f.is_finite() => {
            let _ = write!(out, "{f:?}");
        }
        Head::Num(Number::F(_)) => out.push_str("null"),
        Head::Str(a, b) => {
            let s = core::str::from_utf8(&input[a..b]).unwrap_or("");
            escape_into(out, s);
        }
        Head::Ext(a, b) => {
            out.push('"');
            for &byte in &input[a..b] {
                let _ = write!(out, "\\\\x{byte:02x}");
            }
            out.push('"');
        }
        Head::Array(_) | Head::Map(_) => out.push_str("null"),
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    escape_into(&mut out, s);
    out
}

/// `s` as a JSON string literal, escaped as serde_json escapes.
fn escape_into(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}
