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
//! [`find_string_stop`] tests eight bytes at a time in a `u64`, two words per
//! branch (SIMD within a register: the per-lane "is below" trick of `memchr`),
//! which is plain integer arithmetic and so runs the same in every build,
//! the SIMD-free Fluent Bit module included. Where the wasm build enables
//! `simd128`, sixteen bytes are tested per step with wasm's vector
//! instructions first. The structure between strings (brackets, commas,
//! colons, short numbers) is validated a token at a time.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

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

    // ---- numbers, read -------------------------------------------------

    /// Reads a number after its `-`, if any, was eaten (`parse_integer`).
    pub(super) fn number(&mut self, positive: bool) -> Result<Number> {
        match self.next() {
            None => Err(self.error(Code::EofWhileParsingValue)),
            Some(b'0') => match self.peek_or_null() {
                b'0'..=b'9' => Err(self.peek_error(Code::InvalidNumber)),
                _ => self.number_rest(positive, 0),
            },
            Some(c @ b'1'..=b'9') => {
                let mut significand = u64::from(c - b'0');
                loop {
                    match self.peek_or_null() {
                        c @ b'0'..=b'9' => {
                            let digit = u64::from(c - b'0');
                            if overflows_u64(significand, digit) {
                                return Ok(Number::F(self.long_integer(positive, significand)?));
                            }
                            self.index += 1;
                            significand = significand * 10 + digit;
                        }
                        _ => return self.number_rest(positive, significand),
                    }
                }
            }
            Some(_) => Err(self.error(Code::InvalidNumber)),
        }
    }

    /// `parse_number`: what follows the integer part.
    fn number_rest(&mut self, positive: bool, significand: u64) -> Result<Number> {
        Ok(match self.peek_or_null() {
            b'.' => Number::F(self.decimal(positive, significand, 0)?),
            b'e' | b'E' => Number::F(self.exponent(positive, significand, 0)?),
            _ if positive => Number::U(significand),
            _ => {
                let neg = (significand as i64).wrapping_neg();
                // A float on underflow, and for `-0`.
                if neg >= 0 {
                    Number::F(-(significand as f64))
                } else {
                    Number::I(neg)
                }
            }
        })
    }

    /// `parse_decimal`, at the `.`.
    fn decimal(
        &mut self,
        positive: bool,
        mut significand: u64,
        exponent_before: i32,
    ) -> Result<f64> {
        self.index += 1;
        let mut exponent_after = 0i32;
        while let c @ b'0'..=b'9' = self.peek_or_null() {
            let digit = u64::from(c - b'0');
            if overflows_u64(significand, digit) {
                let exponent = exponent_before.wrapping_add(exponent_after);
                return self.decimal_overflow(positive, significand, exponent);
            }
            self.index += 1;
            significand = significand * 10 + digit;
            exponent_after = exponent_after.wrapping_sub(1);
        }
        if exponent_after == 0 {
            return Err(match self.peek() {
                Some(_) => self.peek_error(Code::InvalidNumber),
                None => self.peek_error(Code::EofWhileParsingValue),
            });
        }
        let exponent = exponent_before.wrapping_add(exponent_after);
        match self.peek_or_null() {
            b'e' | b'E' => self.exponent(positive, significand, exponent),
            _ => self.f64_from_parts(positive, significand, exponent),
        }
    }

    /// `parse_exponent`, at the `e`.
    fn exponent(&mut self, positive: bool, significand: u64, starting: i32) -> Result<f64> {
        self.index += 1;
        let positive_exp = match self.peek_or_null() {
            b'+' => {
                self.index += 1;
                true
            }
            b'-' => {
                self.index += 1;
                false
            }
            _ => true,
        };
        let mut exp = match self.next() {
            None => return Err(self.error(Code::EofWhileParsingValue)),
            Some(c @ b'0'..=b'9') => i32::from(c - b'0'),
            Some(_) => return Err(self.error(Code::InvalidNumber)),
        };
        while let c @ b'0'..=b'9' = self.peek_or_null() {
            self.index += 1;
            let digit = i32::from(c - b'0');
            if exp >= i32::MAX / 10 && (exp > i32::MAX / 10 || digit > i32::MAX % 10) {
                return self.exponent_overflow(positive, significand == 0, positive_exp);
            }
            exp = exp * 10 + digit;
        }
        let exponent = if positive_exp {
            starting.saturating_add(exp)
        } else {
            starting.saturating_sub(exp)
        };
        self.f64_from_parts(positive, significand, exponent)
    }

    /// `parse_long_integer`: digits past `u64` only scale the significand.
    #[cold]
    fn long_integer(&mut self, positive: bool, significand: u64) -> Result<f64> {
        let mut exponent = 0i32;
        loop {
            match self.peek_or_null() {
                b'0'..=b'9' => {
                    self.index += 1;
                    exponent = exponent.wrapping_add(1);
                }
                b'.' => return self.decimal(positive, significand, exponent),
                b'e' | b'E' => return self.exponent(positive, significand, exponent),
                _ => return self.f64_from_parts(positive, significand, exponent),
            }
        }
    }

    /// `parse_decimal_overflow`: fraction digits past `u64` are dropped.
    #[cold]
    fn decimal_overflow(&mut self, positive: bool, significand: u64, exponent: i32) -> Result<f64> {
        while let b'0'..=b'9' = self.peek_or_null() {
            self.index += 1;
        }
        match self.peek_or_null() {
            b'e' | b'E' => self.exponent(positive, significand, exponent),
            _ => self.f64_from_parts(positive, significand, exponent),
        }
    }

    /// `parse_exponent_overflow`: an exponent past `i32`.
    #[cold]
    fn exponent_overflow(&mut self, positive: bool, zero: bool, positive_exp: bool) -> Result<f64> {
        if !zero && positive_exp {
            return Err(self.error(Code::NumberOutOfRange));
        }
        while let b'0'..=b'9' = self.peek_or_null() {
            self.index += 1;
        }
        Ok(if positive { 0.0 } else { -0.0 })
    }

    /// `f64_from_parts` (not `float_roundtrip`): the significand times or
    /// over one power of ten; infinity is refused.
    fn f64_from_parts(&self, positive: bool, significand: u64, mut exponent: i32) -> Result<f64> {
        let mut f = significand as f64;
        loop {
            match POW10.get(exponent.wrapping_abs() as usize) {
                Some(&pow) => {
                    if exponent >= 0 {
                        f *= pow;
                        if f.is_infinite() {
                            return Err(self.error(Code::NumberOutOfRange));
                        }
                    } else {
                        f /= pow;
                    }
                    break;
                }
                None => {
                    if f == 0.0 {
                        break;
                    }
                    if exponent >= 0 {
                        return Err(self.error(Code::NumberOutOfRange));
                    }
                    f /= 1e308;
                    exponent += 308;
                }
            }
        }
        Ok(if positive { f } else { -f })
    }

    // ---- skipping ------------------------------------------------------

    /// Skips one value of any depth, checking it all (`ignore_value`).
    /// `stack` holds the open brackets above the innermost one.
    #[inline(always)]
    pub(super) fn skip_value(&mut self, stack: &mut Vec<u8>) -> Result<()> {
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

/// The fast path of [`Reader::skip_value`]: the end of the value at `i`
/// when it is valid JSON nested at most 64 deep, else `None` (then the
/// exact path runs from `i` again and finds serde_json's error, or takes
/// what this path does not follow). It accepts nothing serde_json's
/// `ignore_value` refuses: strict JSON grammar, any `\u` with four hex
/// digits, no control byte in strings.
fn skip_valid(bytes: &[u8], mut i: usize) -> Option<usize> {
    // Bit d of `objects` is set when the container d + 1 levels down is an
    // object; `depth` counts open containers.
    let mut depth = 0u32;
    let mut objects = 0u64;
    'value: loop {
        i = skip_ws(bytes, i);
        match *bytes.get(i)? {
            b'"' => i = skip_valid_string(bytes, i + 1)?,
            open @ (b'{' | b'[') => {
                if depth == 64 {
                    return None;
                }
                depth += 1;
                objects = objects << 1 | u64::from(open == b'{');
                i = skip_ws(bytes, i + 1);
                let next = *bytes.get(i)?;
                if next == open + 2 {
                    // `{}` or `[]`: `}` and `]` are two above their openers.
                    depth -= 1;
                    objects >>= 1;
                    i += 1;
                } else if open == b'{' {
                    i = skip_valid_key(bytes, i)?;
                    continue 'value;
                } else {
                    continue 'value;
                }
            }
            b'-' | b'0'..=b'9' => i = skip_valid_number(bytes, i)?,
            b't' => i = literal(bytes, i, b"true")?,
            b'f' => i = literal(bytes, i, b"false")?,
            b'n' => i = literal(bytes, i, b"null")?,
            _ => return None,
        }
        // After a value: close containers until a comma or the end.
        loop {
            if depth == 0 {
                return Some(i);
            }
            i = skip_ws(bytes, i);
            let in_object = objects & 1 == 1;
            match *bytes.get(i)? {
                b',' if in_object => {
                    i = skip_valid_key(bytes, skip_ws(bytes, i + 1))?;
                    continue 'value;
                }
                b',' => {
                    i += 1;
                    continue 'value;
                }
                b'}' if in_object => {}
                b']' if !in_object => {}
                _ => return None,
            }
            depth -= 1;
            objects >>= 1;
            i += 1;
        }
    }
}

#[inline(always)]
fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    if let Some(&b) = bytes.get(i) {
        if b > b' ' {
            return i;
        }
    }
    while let Some(b' ' | b'\n' | b'\t' | b'\r') = bytes.get(i) {
        i += 1;
    }
    i
}

/// A key and its colon, from the key's opening quote at `i`.
#[inline(always)]
fn skip_valid_key(bytes: &[u8], i: usize) -> Option<usize> {
    if bytes.get(i) != Some(&b'"') {
        return None;
    }
    let i = skip_ws(bytes, skip_valid_string(bytes, i + 1)?);
    if bytes.get(i) != Some(&b':') {
        return None;
    }
    Some(i + 1)
}

/// A string after its opening quote, to after its closing one.
#[inline(always)]
fn skip_valid_string(bytes: &[u8], mut i: usize) -> Option<usize> {
    loop {
        i = find_string_stop(bytes, i);
        match *bytes.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => match *bytes.get(i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                b'u' => {
                    let hex = bytes.get(i + 2..i + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    i += 6;
                }
                _ => return None,
            },
            _ => return None,
        }
    }
}

/// JSON's number grammar from `i`; the end of the number.
fn skip_valid_number(bytes: &[u8], mut i: usize) -> Option<usize> {
    if bytes.get(i) == Some(&b'-') {
        i += 1;
    }
    match *bytes.get(i)? {
        // serde_json refuses a digit after a leading zero itself.
        b'0' if !matches!(bytes.get(i + 1), Some(b'0'..=b'9')) => i += 1,
        b'1'..=b'9' => i = digits(bytes, i + 1),
        _ => return None,
    }
    if bytes.get(i) == Some(&b'.') {
        let start = i + 1;
        i = digits(bytes, start);
        if i == start {
            return None;
        }
    }
    if let Some(b'e' | b'E') = bytes.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = bytes.get(i) {
            i += 1;
        }
        let start = i;
        i = digits(bytes, start);
        if i == start {
            return None;
        }
    }
    Some(i)
}

#[inline(always)]
fn digits(bytes: &[u8], mut i: usize) -> usize {
    while let Some(b'0'..=b'9') = bytes.get(i) {
        i += 1;
    }
    i
}

#[inline(always)]
fn literal(bytes: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    let end = i + word.len();
    (bytes.get(i..end)? == word).then_some(end)
}

/// serde_json's `overflow!(a * 10 + b, u64::MAX)`.
#[inline]
fn overflows_u64(a: u64, digit: u64) -> bool {
    a >= u64::MAX / 10 && (a > u64::MAX / 10 || digit > u64::MAX % 10)
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` that is `"`, `\` or below 0x20 (and
/// maybe of bytes above such a one: borrows only run upwards, so the lowest
/// flagged byte is always a true one).
///
/// `(x - n) & !x & 0x80` flags the bytes of `x` below `n` (for `n <= 0x80`).
/// XOR with 0x02 moves `"` (0x22) to 0x20 and keeps 0x00..=0x1F among
/// themselves while 0x20, 0x21 and 0x23 land above 0x20: one such test
/// finds quotes and control bytes, a second backslashes.
#[inline(always)]
fn string_stops(w: u64) -> u64 {
    let x = w ^ (LO * 0x02);
    let quote_or_control = x.wrapping_sub(LO * 0x21) & !x;
    let s = w ^ (LO * u64::from(b'\\'));
    let backslash = s.wrapping_sub(LO) & !s;
    (quote_or_control | backslash) & HI
}

#[inline(always)]
fn is_string_stop(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// The index of the first `"`, `\` or control byte at or after `i`, or
/// `bytes.len()`.
#[inline(always)]
pub(super) fn find_string_stop(bytes: &[u8], mut i: usize) -> usize {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        i = simd128::skip_plain(bytes, i);
    }
    // Two words per step: one branch for sixteen bytes.
    while let Some(chunk) = bytes.get(i..i + 16) {
        let Ok(block) = <[u8; 16]>::try_from(chunk) else {
            break;
        };
        let block = u128::from_le_bytes(block);
        let low = string_stops(block as u64);
        let high = string_stops((block >> 64) as u64);
        if low | high != 0 {
            return i + if low != 0 {
                (low.trailing_zeros() / 8) as usize
            } else {
                8 + (high.trailing_zeros() / 8) as usize
            };
        }
        i += 16;
    }
    if let Some(chunk) = bytes.get(i..i + 8) {
        if let Ok(word) = <[u8; 8]>::try_from(chunk) {
            let stops = string_stops(u64::from_le_bytes(word));
            if stops != 0 {
                return i + (stops.trailing_zeros() / 8) as usize;
            }
            i += 8;
        }
    }
    while let Some(&b) = bytes.get(i) {
        if is_string_stop(b) {
            return i;
        }
        i += 1;
    }
    i
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128 {
    use core::arch::wasm32::{
        u8x16_bitmask, u8x16_eq, u8x16_lt, u8x16_splat, v128, v128_load, v128_or,
    };

    /// Steps over 16-byte blocks holding no `"`, `\` or control byte; the
    /// index of the first block that holds one, or of the last < 16 bytes.
    #[inline]
    pub(super) fn skip_plain(bytes: &[u8], mut i: usize) -> usize {
        let quote = u8x16_splat(b'"');
        let backslash = u8x16_splat(b'\\');
        let space = u8x16_splat(0x20);
        while i + 16 <= bytes.len() {
            // SAFETY: `i + 16 <= bytes.len()`, so the 16 bytes read are in
            // `bytes`; `v128_load` takes unaligned addresses.
            let v: v128 = unsafe { v128_load(bytes.as_ptr().add(i).cast::<v128>()) };
            let stops = v128_or(
                v128_or(u8x16_eq(v, quote), u8x16_eq(v, backslash)),
                u8x16_lt(v, space),
            );
            let mask = u8x16_bitmask(stops);
            if mask != 0 {
                return i + mask.trailing_zeros() as usize;
            }
            i += 16;
        }
        i
    }
}

/// serde_json's table of exact powers of ten, for [`Reader::f64_from_parts`].
static POW10: [f64; 309] = [
    1e000, 1e001, 1e002, 1e003, 1e004, 1e005, 1e006, 1e007, 1e008, 1e009, 1e010, 1e011, 1e012,
    1e013, 1e014, 1e015, 1e016, 1e017, 1e018, 1e019, 1e020, 1e021, 1e022, 1e023, 1e024, 1e025,
    1e026, 1e027, 1e028, 1e029, 1e030, 1e031, 1e032, 1e033, 1e034, 1e035, 1e036, 1e037, 1e038,
    1e039, 1e040, 1e041, 1e042, 1e043, 1e044, 1e045, 1e046, 1e047, 1e048, 1e049, 1e050, 1e051,
    1e052, 1e053, 1e054, 1e055, 1e056, 1e057, 1e058, 1e059, 1e060, 1e061, 1e062, 1e063, 1e064,
    1e065, 1e066, 1e067, 1e068, 1e069, 1e070, 1e071, 1e072, 1e073, 1e074, 1e075, 1e076, 1e077,
    1e078, 1e079, 1e080, 1e081, 1e082, 1e083, 1e084, 1e085, 1e086, 1e087, 1e088, 1e089, 1e090,
    1e091, 1e092, 1e093, 1e094, 1e095, 1e096, 1e097, 1e098, 1e099, 1e100, 1e101, 1e102, 1e103,
    1e104, 1e105, 1e106, 1e107, 1e108, 1e109, 1e110, 1e111, 1e112, 1e113, 1e114, 1e115, 1e116,
    1e117, 1e118, 1e119, 1e120, 1e121, 1e122, 1e123, 1e124, 1e125, 1e126, 1e127, 1e128, 1e129,
    1e130, 1e131, 1e132, 1e133, 1e134, 1e135, 1e136, 1e137, 1e138, 1e139, 1e140, 1e141, 1e142,
    1e143, 1e144, 1e145, 1e146, 1e147, 1e148, 1e149, 1e150, 1e151, 1e152, 1e153, 1e154, 1e155,
    1e156, 1e157, 1e158, 1e159, 1e160, 1e161, 1e162, 1e163, 1e164, 1e165, 1e166, 1e167, 1e168,
    1e169, 1e170, 1e171, 1e172, 1e173, 1e174, 1e175, 1e176, 1e177, 1e178, 1e179, 1e180, 1e181,
    1e182, 1e183, 1e184, 1e185, 1e186, 1e187, 1e188, 1e189, 1e190, 1e191, 1e192, 1e193, 1e194,
    1e195, 1e196, 1e197, 1e198, 1e199, 1e200, 1e201, 1e202, 1e203, 1e204, 1e205, 1e206, 1e207,
    1e208, 1e209, 1e210, 1e211, 1e212, 1e213, 1e214, 1e215, 1e216, 1e217, 1e218, 1e219, 1e220,
    1e221, 1e222, 1e223, 1e224, 1e225, 1e226, 1e227, 1e228, 1e229, 1e230, 1e231, 1e232, 1e233,
    1e234, 1e235, 1e236, 1e237, 1e238, 1e239, 1e240, 1e241, 1e242, 1e243, 1e244, 1e245, 1e246,
    1e247, 1e248, 1e249, 1e250, 1e251, 1e252, 1e253, 1e254, 1e255, 1e256, 1e257, 1e258, 1e259,
    1e260, 1e261, 1e262, 1e263, 1e264, 1e265, 1e266, 1e267, 1e268, 1e269, 1e270, 1e271, 1e272,
    1e273, 1e274, 1e275, 1e276, 1e277, 1e278, 1e279, 1e280, 1e281, 1e282, 1e283, 1e284, 1e285,
    1e286, 1e287, 1e288, 1e289, 1e290, 1e291, 1e292, 1e293, 1e294, 1e295, 1e296, 1e297, 1e298,
    1e299, 1e300, 1e301, 1e302, 1e303, 1e304, 1e305, 1e306, 1e307, 1e308,
];

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
