//! The JSON reader under [`decode`](super): one forward pass over an event's
//! bytes, in two gears.
//!
//! - **Reading** (`string`, `number`, the `whitespace`/`eat`/`peek`
//!   primitives the decoder's walk is built from) is for the values and keys
//!   on the plan's paths: strings are unescaped, numbers converted.
//! - **Skipping** (`skip_value`) is for everything else: no unescaping, no
//!   number conversion and no recursion, but every byte is still checked.
//!   A fast validator (`skip_valid`) takes plain valid JSON with a 64-bit
//!   stack of open brackets; on anything else (an error, or nesting deeper
//!   than 64) the value is skipped again from its start by a step-by-step
//!   port of serde_json's `ignore_value`, which finds serde_json's error or
//!   takes what serde_json takes. Errors are rare, so they may cost twice.
//!
//! # What is checked, and why it is exactly serde_json's check
//!
//! An event is refused or taken exactly as `serde_json` 1.0 (without its
//! `float_roundtrip` and `arbitrary_precision` features, as this workspace
//! builds it) refused or took it when it drove the decoder, with the same
//! message, line and column. Each function here mirrors the serde_json
//! routine named in its comment, error codes and positions included:
//!
//! - grammar: `,` `:` and brackets, keys that are strings, trailing commas,
//!   `null`/`true`/`false`, nothing after the top-level value but white space
//!   (only `' '`, `\t`, `\n`, `\r`);
//! - strings: no control byte (< 0x20), only the escapes JSON has, four hex
//!   digits after `\u`; where a string is *read* (every key of an object the
//!   walk enters, every value on a plan path) a `\u` surrogate must be half of
//!   a pair. Skipped strings take lone surrogates, as serde_json's
//!   `ignore_str` does. UTF-8 needs no check: the input is a `&str`;
//! - numbers: JSON's grammar everywhere (no leading zero, a digit after `.`,
//!   `e`, the sign); where read, a value that overflows `f64` is refused;
//! - depth: the walk's open containers count against serde_json's recursion
//!   limit of 128; skipped containers may nest as deep as the input allows.
//!
//! Numbers are converted by serde_json's own algorithm (a `u64` significand
//! times or over a power of ten), not by correctly rounded parsing, because
//! what the decoder produced is the contract: the same bits for the same
//! text. That algorithm is one ulp off the correctly rounded value for about
//! one number in ten (`636517889e23`); `core`'s `str::parse::<f64>` on the
//! number's text would round correctly, at the price of that contract.
//! `decode`'s tests compare against serde_json itself.
//!
//! # Why SWAR
//!
//! Nearly all the bytes of an event sit inside strings the plan never reads.
//! Finding a string's end means finding the first `"`, `\` or control byte;
//! [`find_string_stop`] tests eight bytes at a time in a `u64`, one word per
//! branch because most strings end in their first (SIMD within a register:
//! the per-lane "is below" trick of `memchr`),
//! which is plain integer arithmetic and so runs the same in every build,
//! the SIMD-free Fluent Bit module included. Where the wasm build enables
//! `simd128`, sixteen bytes are tested per step with wasm's vector
//! instructions first; natively on x86-64, with SSE2 (part of its
//! baseline), the last block overlapping so that no byte loop remains.
//! The structure between strings (brackets, commas, colons, short
//! numbers) is validated a token at a time; a skipped value that is a
//! plain string is found without a call into the validator.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

mod fast;
mod number;

pub(super) use fast::find_string_stop;
#[cfg(test)]
pub(super) use fast::find_string_stop_swar;
use fast::skip_valid;

/// Why the bytes are not JSON: serde_json's `ErrorCode`s that this reader
/// can meet, with serde_json's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Code {
    EofWhileParsingList,
    EofWhileParsingObject,
    EofWhileParsingString,
    EofWhileParsingValue,
    ExpectedColon,
    ExpectedListCommaOrEnd,
    ExpectedObjectCommaOrEnd,
    ExpectedSomeIdent,
    ExpectedSomeValue,
    InvalidEscape,
    InvalidNumber,
    NumberOutOfRange,
    ControlCharacterWhileParsingString,
    KeyMustBeAString,
    LoneLeadingSurrogateInHexEscape,
    TrailingComma,
    TrailingCharacters,
    UnexpectedEndOfHexEscape,
    RecursionLimitExceeded,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Code::EofWhileParsingList => "EOF while parsing a list",
            Code::EofWhileParsingObject => "EOF while parsing an object",
            Code::EofWhileParsingString => "EOF while parsing a string",
            Code::EofWhileParsingValue => "EOF while parsing a value",
            Code::ExpectedColon => "expected `:`",
            Code::ExpectedListCommaOrEnd => "expected `,` or `]`",
            Code::ExpectedObjectCommaOrEnd => "expected `,` or `}`",
            Code::ExpectedSomeIdent => "expected ident",
            Code::ExpectedSomeValue => "expected value",
            Code::InvalidEscape => "invalid escape",
            Code::InvalidNumber => "invalid number",
            Code::NumberOutOfRange => "number out of range",
            Code::ControlCharacterWhileParsingString => {
                "control character (\\u0000-\\u001F) found while parsing a string"
            }
            Code::KeyMustBeAString => "key must be a string",
            Code::LoneLeadingSurrogateInHexEscape => "lone leading surrogate in hex escape",
            Code::TrailingComma => "trailing comma",
            Code::TrailingCharacters => "trailing characters",
            Code::UnexpectedEndOfHexEscape => "unexpected end of hex escape",
            Code::RecursionLimitExceeded => "recursion limit exceeded",
        })
    }
}

/// A refusal: what and where (a byte offset; the line and column are only
/// counted for the message, as serde_json counts them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SyntaxError {
    pub(super) code: Code,
    at: usize,
}

impl SyntaxError {
    /// serde_json's message: `{code} at line {line} column {column}`, the
    /// column in bytes from the line's start.
    pub(super) fn message(&self, input: &[u8]) -> String {
        let at = self.at.min(input.len());
        let before = input.get(..at).unwrap_or_default();
        let start_of_line = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let line = 1 + before
            .get(..start_of_line)
            .unwrap_or_default()
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        alloc::format!(
            "{} at line {} column {}",
            self.code,
            line,
            at - start_of_line
        )
    }
}

/// A JSON number as serde_json hands it over: a `u64` when it is a
/// non-negative integer that fits, an `i64` when a negative one fits,
/// otherwise (a fraction, an exponent, `-0`, too many digits) an `f64`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Number {
    U(u64),
    I(i64),
    F(f64),
}

/// A string just read: a span of the input when it had no escape, else
/// unescaped into the buffer passed to [`Reader::string`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Str {
    Borrowed(usize, usize),
    Copied,
}

/// A cursor over the event's bytes.
pub(super) struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    index: usize,
}

type Result<T> = core::result::Result<T, SyntaxError>;

impl<'a> Reader<'a> {
    pub(super) fn new(text: &'a str) -> Reader<'a> {
        Reader {
            text,
            bytes: text.as_bytes(),
            index: 0,
        }
    }

    /// An error at the cursor (serde_json's `error`).
    #[cold]
    pub(super) fn error(&self, code: Code) -> SyntaxError {
        SyntaxError {
            code,
            at: self.index,
        }
    }

    /// An error one byte past the cursor, capped at the end (serde_json's
    /// `peek_error`).
    #[cold]
    pub(super) fn peek_error(&self, code: Code) -> SyntaxError {
        SyntaxError {
            code,
            at: (self.index + 1).min(self.bytes.len()),
        }
    }

    /// Where the cursor is, in bytes from the start.
    #[inline]
    pub(super) fn offset(&self) -> usize {
        self.index
    }

    #[inline]
    pub(super) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.index).copied()
    }

    #[inline]
    fn peek_or_null(&self) -> u8 {
        self.peek().unwrap_or(0)
    }

    /// Steps over the byte just peeked.
    #[inline]
    pub(super) fn eat(&mut self) {
        self.index += 1;
    }

    #[inline]
    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.index += 1;
        Some(b)
    }

    #[inline]
    fn next_or_null(&mut self) -> u8 {
        self.next().unwrap_or(0)
    }

    /// Skips JSON white space; the byte after it, if any.
    #[inline(always)]
    pub(super) fn whitespace(&mut self) -> Option<u8> {
        match self.bytes.get(self.index) {
            // Compact JSON has none: one comparison decides.
            Some(&b) if b > b' ' => Some(b),
            _ => self.whitespace_slow(),
        }
    }

    fn whitespace_slow(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes.get(self.index) {
            match b {
                b' ' | b'\n' | b'\t' | b'\r' => self.index += 1,
                _ => return Some(b),
            }
        }
        None
    }

    /// Nothing but white space after the top-level value (`Deserializer::end`).
    pub(super) fn end(&mut self) -> Result<()> {
        match self.whitespace() {
            Some(_) => Err(self.peek_error(Code::TrailingCharacters)),
            None => Ok(()),
        }
    }

    /// The rest of `null`, `true` or `false` (`parse_ident`).
    pub(super) fn ident(&mut self, rest: &[u8]) -> Result<()> {
        for &expected in rest {
            match self.next() {
                None => return Err(self.error(Code::EofWhileParsingValue)),
                Some(b) if b != expected => return Err(self.error(Code::ExpectedSomeIdent)),
                Some(_) => {}
            }
        }
        Ok(())
    }

    // ---- strings -------------------------------------------------------

    /// Reads a string whose opening quote was eaten (`parse_str`): a span of
    /// the input, or `Copied` with the unescaped text in `buf`.
    #[inline(always)]
    pub(super) fn string(&mut self, buf: &mut String) -> Result<Str> {
        let start = self.index;
        self.index = find_string_stop(self.bytes, self.index);
        if self.peek() == Some(b'"') {
            self.index += 1;
            return Ok(Str::Borrowed(start, self.index - 1));
        }
        self.string_slow(start, buf)
    }

    /// The rest of [`Reader::string`] at its first byte that is not plain:
    /// escapes, a control byte, the end of input.
    #[inline(never)]
    fn string_slow(&mut self, start: usize, buf: &mut String) -> Result<Str> {
        let mut copied = false;
        let mut from = start;
        loop {
            match self.peek() {
                Some(b'"') => {
                    let end = self.index;
                    self.index += 1;
                    if !copied {
                        return Ok(Str::Borrowed(start, end));
                    }
                    buf.push_str(self.text.get(from..end).unwrap_or_default());
                    return Ok(Str::Copied);
                }
                Some(b'\\') => {
                    if !copied {
                        buf.clear();
                        copied = true;
                    }
                    buf.push_str(self.text.get(from..self.index).unwrap_or_default());
                    self.index += 1;
                    self.escape(buf)?;
                    from = self.index;
                }
                Some(_) => {
                    self.index += 1;
                    return Err(self.error(Code::ControlCharacterWhileParsingString));
                }
                None => return Err(self.error(Code::EofWhileParsingString)),
            }
            self.index = find_string_stop(self.bytes, self.index);
        }
    }

    /// One escape after its `\` (`parse_escape`).
    fn escape(&mut self, buf: &mut String) -> Result<()> {
        let c = match self.next() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\x08',
            Some(b'f') => '\x0c',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => return self.unicode_escape(buf),
            Some(_) => return Err(self.error(Code::InvalidEscape)),
            None => return Err(self.error(Code::EofWhileParsingString)),
        };
        buf.push(c);
        Ok(())
    }

    /// `\uXXXX`, a surrogate pair as two of them (`parse_unicode_escape`
    /// with `validate`: a lone surrogate of either half is refused).
    #[cold]
    fn unicode_escape(&mut self, buf: &mut String) -> Result<()> {
        let n = self.hex4()?;
        if (0xDC00..=0xDFFF).contains(&n) {
            return Err(self.error(Code::LoneLeadingSurrogateInHexEscape));
        }
        let code = if (0xD800..=0xDBFF).contains(&n) {
            for expected in [b'\\', b'u'] {
                match self.peek() {
                    None => return Err(self.error(Code::EofWhileParsingString)),
                    Some(b) => {
                        self.index += 1;
                        if b != expected {
                            return Err(self.error(Code::UnexpectedEndOfHexEscape));
                        }
                    }
                }
            }
            let n2 = self.hex4()?;
            if !(0xDC00..=0xDFFF).contains(&n2) {
                return Err(self.error(Code::LoneLeadingSurrogateInHexEscape));
            }
            (((u32::from(n) - 0xD800) << 10) | (u32::from(n2) - 0xDC00)) + 0x1_0000
        } else {
            u32::from(n)
        };
        // Never a surrogate here, so always a char.
        buf.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
        Ok(())
    }

    /// Four hex digits (`decode_hex_escape`).
    fn hex4(&mut self) -> Result<u16> {
        match self.bytes.get(self.index..self.index + 4) {
            Some(&[a, b, c, d]) => {
                self.index += 4;
                let mut n = 0u16;
                for digit in [a, b, c, d] {
                    let v = match digit {
                        b'0'..=b'9' => digit - b'0',
                        b'a'..=b'f' => digit - b'a' + 10,
                        b'A'..=b'F' => digit - b'A' + 10,
                        _ => return Err(self.error(Code::InvalidEscape)),
                    };
                    n = n << 4 | u16::from(v);
                }
                Ok(n)
            }
            _ => {
                self.index = self.bytes.len();
                Err(self.error(Code::EofWhileParsingString))
            }
        }
    }

    /// Skips a string whose opening quote was eaten (`ignore_str`).
    #[inline(always)]
    fn skip_string(&mut self) -> Result<()> {
        loop {
            self.index = find_string_stop(self.bytes, self.index);
            match self.peek() {
                Some(b'"') => {
                    self.index += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.index += 1;
                    self.skip_escape()?;
                }
                Some(_) => return Err(self.error(Code::ControlCharacterWhileParsingString)),
                None => return Err(self.error(Code::EofWhileParsingString)),
            }
        }
    }

    /// One escape after its `\`, unchecked surrogates (`ignore_escape`).
    fn skip_escape(&mut self) -> Result<()> {
        match self.next() {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(()),
            Some(b'u') => self.hex4().map(drop),
            Some(_) => Err(self.error(Code::InvalidEscape)),
            None => Err(self.error(Code::EofWhileParsingString)),
        }
    }

    // ---- skipping ------------------------------------------------------

    /// Skips one value of any depth, checking it all (`ignore_value`).
    /// `stack` holds the open brackets above the innermost one.
    #[inline(always)]
    pub(super) fn skip_value(&mut self, stack: &mut Vec<u8>) -> Result<()> {
        // Most values skipped are strings without escapes: found here,
        // without a call into the validator and its setup.
        if self.peek() == Some(b'"') {
            let stop = find_string_stop(self.bytes, self.index + 1);
            if self.bytes.get(stop) == Some(&b'"') {
                self.index = stop + 1;
                return Ok(());
            }
        }
        if let Some(end) = skip_valid(self.bytes, self.index) {
            self.index = end;
            return Ok(());
        }
        // Not plain valid JSON (or nested deeper than the fast path keeps
        // track of): again from the start, the way serde_json goes, for its
        // exact error, or its exact acceptance.
        self.skip_value_exact(stack)
    }

    /// serde_json's `ignore_value`, step by step.
    #[cold]
    #[inline(never)]
    fn skip_value_exact(&mut self, stack: &mut Vec<u8>) -> Result<()> {
        stack.clear();
        let mut enclosing: Option<u8> = None;
        loop {
            let frame = match self.whitespace() {
                None => return Err(self.peek_error(Code::EofWhileParsingValue)),
                Some(b'"') => {
                    self.index += 1;
                    self.skip_string()?;
                    None
                }
                Some(b'n') => {
                    self.index += 1;
                    self.ident(b"ull")?;
                    None
                }
                Some(b't') => {
                    self.index += 1;
                    self.ident(b"rue")?;
                    None
                }
                Some(b'f') => {
                    self.index += 1;
                    self.ident(b"alse")?;
                    None
                }
                Some(b'-') => {
                    self.index += 1;
                    self.skip_integer()?;
                    None
                }
                Some(b'0'..=b'9') => {
                    self.skip_integer()?;
                    None
                }
                Some(frame @ (b'[' | b'{')) => {
                    stack.extend(enclosing.take());
                    self.index += 1;
                    Some(frame)
                }
                Some(_) => return Err(self.peek_error(Code::ExpectedSomeValue)),
            };

            let (mut accept_comma, mut frame) = match frame {
                Some(frame) => (false, frame),
                None => match enclosing.take().or_else(|| stack.pop()) {
                    Some(frame) => (true, frame),
                    None => return Ok(()),
                },
            };

            // Close brackets until a comma or a first element.
            loop {
                match self.whitespace() {
                    Some(b',') if accept_comma => {
                        self.index += 1;
                        break;
                    }
                    Some(b']') if frame == b'[' => {}
                    Some(b'}') if frame == b'{' => {}
                    Some(_) if accept_comma => {
                        return Err(self.peek_error(if frame == b'[' {
                            Code::ExpectedListCommaOrEnd
                        } else {
                            Code::ExpectedObjectCommaOrEnd
                        }));
                    }
                    Some(_) => break,
                    None => {
                        return Err(self.peek_error(if frame == b'[' {
                            Code::EofWhileParsingList
                        } else {
                            Code::EofWhileParsingObject
                        }));
                    }
                }
                self.index += 1;
                frame = match stack.pop() {
                    Some(frame) => frame,
                    None => return Ok(()),
                };
                accept_comma = true;
            }

            if frame == b'{' {
                match self.whitespace() {
                    Some(b'"') => self.index += 1,
                    Some(_) => return Err(self.peek_error(Code::KeyMustBeAString)),
                    None => return Err(self.peek_error(Code::EofWhileParsingObject)),
                }
                self.skip_string()?;
                match self.whitespace() {
                    Some(b':') => self.index += 1,
                    Some(_) => return Err(self.peek_error(Code::ExpectedColon)),
                    None => return Err(self.peek_error(Code::EofWhileParsingObject)),
                }
            }
            enclosing = Some(frame);
        }
    }

    /// `ignore_integer`: a number's grammar, after its `-`, if any.
    fn skip_integer(&mut self) -> Result<()> {
        match self.next_or_null() {
            b'0' => {
                if let b'0'..=b'9' = self.peek_or_null() {
                    return Err(self.peek_error(Code::InvalidNumber));
                }
            }
            b'1'..=b'9' => self.skip_digits(),
            _ => return Err(self.error(Code::InvalidNumber)),
        }
        match self.peek_or_null() {
            b'.' => self.skip_decimal(),
            b'e' | b'E' => self.skip_exponent(),
            _ => Ok(()),
        }
    }

    #[inline]
    fn skip_digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.index += 1;
        }
    }

    /// `ignore_decimal`, at the `.`.
    fn skip_decimal(&mut self) -> Result<()> {
        self.index += 1;
        let start = self.index;
        self.skip_digits();
        if self.index == start {
            return Err(self.peek_error(Code::InvalidNumber));
        }
        match self.peek_or_null() {
            b'e' | b'E' => self.skip_exponent(),
            _ => Ok(()),
        }
    }

    /// `ignore_exponent`, at the `e`.
    fn skip_exponent(&mut self) -> Result<()> {
        self.index += 1;
        if let b'+' | b'-' = self.peek_or_null() {
            self.index += 1;
        }
        match self.next_or_null() {
            b'0'..=b'9' => {}
            _ => return Err(self.error(Code::InvalidNumber)),
        }
        self.skip_digits();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast skip takes a value only where the exact one (serde_json's
    /// `ignore_value`) takes it, and ends where it ends.
    #[test]
    fn the_fast_skip_agrees_with_the_exact_one() {
        let values = [
            "1",
            "-0",
            "0.5e-3",
            "01",
            "-",
            "1.",
            "1e",
            "1e+",
            "tru",
            "true",
            "nul",
            "null",
            "false",
            "\"a\"",
            "\"a\\u12G4\"",
            "\"\\ud800\"",
            "\"\\x\"",
            "\"a\u{1}\"",
            "[]",
            "{}",
            "[1,]",
            "{\"a\":1,}",
            "[1 2]",
            "{\"a\" 1}",
            "{1:2}",
            "[[[]]]",
            "{\"a\":{\"b\":[1,{\"c\":null}]}}",
            " [ 1 , { \"a\" : [ ] } ] ",
            "[",
            "{",
            "{\"a\"",
            "{\"a\":",
            "[1,",
            "]",
            "}",
            "x",
        ];
        let mut deep = String::new();
        for n in [63, 64, 65, 200] {
            deep.clear();
            deep.push_str(&"[".repeat(n));
            deep.push_str(&"]".repeat(n));
            check(&deep);
        }
        for v in values {
            check(v);
            for tail in [",1", "]", "}", " x", "0", "\""] {
                check(&alloc::format!("{v}{tail}"));
            }
        }
    }

    fn check(text: &str) {
        let fast = skip_valid(text.as_bytes(), 0);
        let mut r = Reader::new(text);
        let exact = r.skip_value_exact(&mut Vec::new()).map(|()| r.index);
        if let Some(end) = fast {
            assert_eq!(exact, Ok(end), "{text:?}");
        }
    }
}
