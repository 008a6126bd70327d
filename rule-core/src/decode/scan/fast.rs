//! The fast gear of skipping: plain valid JSON validated and passed over
//! without the reader's step-by-step bookkeeping, and the search for a
//! string's end eight bytes at a time (SWAR; sixteen with `simd128` where
//! the wasm build enables it, and with SSE2 natively on x86-64). Anything
//! this path does not take goes back to [`Reader`](super::Reader)'s exact,
//! serde_json-shaped path, so it decides nothing on its own: it only ever
//! agrees faster (tested against the exact path in `scan`'s tests).

use crate::swar::{HI, LO};

/// The fast path of [`Reader::skip_value`](super::Reader::skip_value): the end of the value at `i`
/// when it is valid JSON nested at most 64 deep, else `None` (then the
/// exact path runs from `i` again and finds serde_json's error, or takes
/// what this path does not follow). It accepts nothing serde_json's
/// `ignore_value` refuses: strict JSON grammar, any `\u` with four hex
/// digits, no control byte in strings.
pub(super) fn skip_valid(bytes: &[u8], mut i: usize) -> Option<usize> {
    // Bit d of `objects` is set when the container d + 1 levels down is an
    // object; `depth` counts open containers.
    let mut depth = 0u32;
    let mut objects = 0u64;
    'value: loop {
        i = skip_ws(bytes, i);
        let b = *bytes.get(i)?;
        // Strings first, outside the match: most values are.
        if b == b'"' {
            i = skip_valid_string(bytes, i + 1)?;
        } else {
            i = match b {
                open @ (b'{' | b'[') => {
                    if depth == 64 {
                        return None;
                    }
                    depth += 1;
                    objects = objects << 1 | u64::from(open == b'{');
                    i = skip_ws(bytes, i + 1);
                    let next = *bytes.get(i)?;
                    // `}` and `]` are two above their openers.
                    if next != open + 2 {
                        if open == b'{' {
                            i = skip_valid_key(bytes, i)?;
                        }
                        continue 'value;
                    }
                    // `{}` or `[]`.
                    depth -= 1;
                    objects >>= 1;
                    i + 1
                }
                b'-' | b'0'..=b'9' => skip_valid_number(bytes, i)?,
                b't' => literal(bytes, i, b"true")?,
                b'f' => literal(bytes, i, b"false")?,
                b'n' => literal(bytes, i, b"null")?,
                _ => return None,
            };
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
        let stop = *bytes.get(i)?;
        if stop == b'"' {
            return Some(i + 1);
        }
        match stop {
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
/// `bytes.len()`: eight bytes a step in plain integer arithmetic.
#[cfg(not(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
#[inline(always)]
pub(crate) fn find_string_stop(bytes: &[u8], i: usize) -> usize {
    find_string_stop_swar(bytes, i)
}

/// The index of the first `"`, `\` or control byte at or after `i`, or
/// `bytes.len()`: sixteen bytes a step with the target's vectors (SSE2,
/// which every x86-64 has, or wasm's `simd128` where the build enables it).
#[cfg(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    all(target_arch = "wasm32", target_feature = "simd128")
))]
#[inline(always)]
pub(crate) fn find_string_stop(bytes: &[u8], i: usize) -> usize {
    match vector::find_stop(bytes, i) {
        Some(stop) => stop,
        None => find_string_stop_in_short(bytes, i),
    }
}

/// [`find_string_stop`] in fewer than sixteen bytes, where there is no
/// whole vector to load; kept out of line so that its constants stay out
/// of the callers' loops.
#[cfg(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    all(target_arch = "wasm32", target_feature = "simd128")
))]
#[inline(never)]
fn find_string_stop_in_short(bytes: &[u8], i: usize) -> usize {
    find_string_stop_swar(bytes, i)
}

/// [`find_string_stop`] in plain integer arithmetic: what every build
/// without a vector path runs, and the ones with one on input shorter than
/// a vector.
#[inline(always)]
pub(crate) fn find_string_stop_swar(bytes: &[u8], mut i: usize) -> usize {
    // One word per step: most strings of an event end within their first.
    while let Some(Ok(word)) = bytes.get(i..i + 8).map(<[u8; 8]>::try_from) {
        let stops = string_stops(u64::from_le_bytes(word));
        if stops != 0 {
            return i + (stops.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if is_string_stop(b) {
            return i;
        }
        i += 1;
    }
    i
}

/// The sixteen-byte search, one shape over two instruction sets: a mask
/// with a bit per byte that is `"`, `\` or below 0x20.
#[cfg(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    all(target_arch = "wasm32", target_feature = "simd128")
))]
mod vector {
    /// The first `"`, `\` or control byte at or after `i`, or
    /// `bytes.len()`; `None` when `bytes` is shorter than one block.
    #[inline(always)]
    pub(super) fn find_stop(bytes: &[u8], mut i: usize) -> Option<usize> {
        let last_block = bytes.len().checked_sub(16)?;
        while i <= last_block {
            let mask = stops_at(bytes, i);
            if mask != 0 {
                return Some(i + mask.trailing_zeros() as usize);
            }
            i += 16;
        }
        if i >= bytes.len() {
            return Some(bytes.len());
        }
        // The last block again, overlapping what was searched, with the
        // bytes before `i` shifted out of its mask: no byte loop at the end.
        let mask = stops_at(bytes, last_block) >> (i - last_block);
        Some(if mask != 0 {
            i + mask.trailing_zeros() as usize
        } else {
            bytes.len()
        })
    }

    /// The stops among `bytes[at..at + 16]`, a bit per byte.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn stops_at(bytes: &[u8], at: usize) -> u32 {
        use core::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
            _mm_or_si128, _mm_set1_epi8,
        };
        // Always there: `find_stop` asks for blocks up to `len - 16` only.
        let Some(block) = bytes.get(at..at + 16) else {
            return 0;
        };
        // SAFETY: SSE2 is part of x86-64's baseline (the cfg), so the
        // intrinsics are available; the load reads the 16 bytes of
        // `block`, and `_mm_loadu_si128` takes unaligned addresses.
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            // `min(v, 0x1F) == v` exactly where `v <= 0x1F`, unsigned.
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
        }
    }

    /// The stops among `bytes[at..at + 16]`, a bit per byte.
    #[cfg(target_arch = "wasm32")]
    #[inline(always)]
    fn stops_at(bytes: &[u8], at: usize) -> u32 {
        use core::arch::wasm32::{
            u8x16_bitmask, u8x16_eq, u8x16_lt, u8x16_splat, v128, v128_load, v128_or,
        };
        // Always there: `find_stop` asks for blocks up to `len - 16` only.
        let Some(block) = bytes.get(at..at + 16) else {
            return 0;
        };
        // SAFETY: the load reads the 16 bytes of `block`; `v128_load`
        // takes unaligned addresses.
        let v: v128 = unsafe { v128_load(block.as_ptr().cast::<v128>()) };
        let stops = v128_or(
            v128_or(
                u8x16_eq(v, u8x16_splat(b'"')),
                u8x16_eq(v, u8x16_splat(b'\\')),
            ),
            u8x16_lt(v, u8x16_splat(0x20)),
        );
        u32::from(u8x16_bitmask(stops))
    }
}
