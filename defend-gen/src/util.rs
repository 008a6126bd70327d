//! Small self-contained helpers: a seeded PRNG, JSON writing, timestamps, base64.

/// One step of SplitMix64; used to seed [`Rng`] and to derive stable
/// pseudo-random strings (hashes) from a 64-bit seed.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256** seeded through SplitMix64.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        let mut sm = seed;
        let s = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        Rng { s }
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (n > 0). Multiply-shift; the bias is far below anything
    /// that matters here.
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    #[inline]
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi);
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `num / den`.
    #[inline]
    pub(crate) fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    #[inline]
    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    #[inline]
    pub(crate) fn pick_str<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }

    /// Index chosen with the given integer weights.
    pub(crate) fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut r = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            let w = u64::from(w);
            if r < w {
                return i;
            }
            r -= w;
        }
        weights.len() - 1
    }

    /// Appends `n` characters drawn from `alphabet`.
    pub(crate) fn push_chars(&mut self, out: &mut String, alphabet: &[u8], n: usize) {
        for _ in 0..n {
            out.push(alphabet[self.below(alphabet.len() as u64) as usize] as char);
        }
    }

    pub(crate) fn hex(&mut self, out: &mut String, n: usize) {
        self.push_chars(out, HEX, n);
    }
}

pub(crate) const HEX: &[u8] = b"0123456789abcdef";
pub(crate) const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
pub(crate) const MIXED_ALNUM: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub(crate) fn base64_into(out: &mut String, data: &[u8]) {
    for chunk in data.chunks(3) {
        let b0 = u32::from(chunk[0]);
        let b1 = u32::from(*chunk.get(1).unwrap_or(&0));
        let b2 = u32::from(*chunk.get(2).unwrap_or(&0));
        let n = (b0 << 16) | (b1 << 8) | b2;
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        if chunk.len() > 1 {
            out.push(B64[(n >> 6) as usize & 63] as char);
        } else {
            out.push('=');
        }
        if chunk.len() > 2 {
            out.push(B64[n as usize & 63] as char);
        } else {
            out.push('=');
        }
    }
}

/// `width` base64-alphabet digits of `n`, most significant first.
pub(crate) fn base64_digits(out: &mut String, mut n: u64, width: usize) {
    let mut buf = [b'A'; 16];
    let width = width.min(buf.len());
    for i in (0..width).rev() {
        buf[i] = B64[(n & 63) as usize];
        n >>= 6;
    }
    for &b in &buf[..width] {
        out.push(b as char);
    }
}

/// Appends `n` in decimal.
#[inline]
pub(crate) fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(b as char);
    }
}

/// Appends `n` in decimal, zero-padded to `width` digits.
#[inline]
pub(crate) fn push_padded(out: &mut String, mut n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let width = width.min(20);
    for i in (0..width).rev() {
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    for &b in &buf[..width] {
        out.push(b as char);
    }
}

/// Appends `s` as a JSON string literal (with quotes).
#[inline]
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    if s.bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b != 0x7f)
    {
        out.push_str(s);
    } else {
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    out.push_str("\\u00");
                    out.push(HEX[(c as usize >> 4) & 15] as char);
                    out.push(HEX[c as usize & 15] as char);
                }
                c => out.push(c),
            }
        }
    }
    out.push('"');
}

/// Appends `,"key":"value"` (or without the comma if `first`).
#[inline]
pub(crate) fn kv_str(out: &mut String, key: &str, value: &str) {
    out.push('"');
    out.push_str(key);
    out.push_str("\":");
    push_json_str(out, value);
}

#[inline]
pub(crate) fn kv_u64(out: &mut String, key: &str, value: u64) {
    out.push('"');
    out.push_str(key);
    out.push_str("\":");
    push_u64(out, value);
}

/// Appends a JSON array of strings.
pub(crate) fn push_json_str_array<S: AsRef<str>>(out: &mut String, items: &[S]) {
    out.push('[');
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(out, it.as_ref());
    }
    out.push(']');
}

/// Ticks are 100 ns units since the Unix epoch (Defend's 7 fractional digits).
pub(crate) const TICKS_PER_SEC: u64 = 10_000_000;
pub(crate) const TICKS_PER_MS: u64 = 10_000;

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Appends `YYYY-MM-DDTHH:MM:SS` for `secs` since the epoch.
fn push_date_time(out: &mut String, secs: u64) {
    let days = (secs / 86_400) as i64;
    let sod = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    push_padded(out, y as u64, 4);
    out.push('-');
    push_padded(out, u64::from(m), 2);
    out.push('-');
    push_padded(out, u64::from(d), 2);
    out.push('T');
    push_padded(out, sod / 3600, 2);
    out.push(':');
    push_padded(out, (sod / 60) % 60, 2);
    out.push(':');
    push_padded(out, sod % 60, 2);
}

/// Appends an RFC 3339 UTC timestamp with 7 fractional digits, e.g.
/// `2026-11-22T07:33:01.1234567Z` (no quotes).
pub(crate) fn push_timestamp(out: &mut String, ticks: u64) {
    push_date_time(out, ticks / TICKS_PER_SEC);
    out.push('.');
    push_padded(out, ticks % TICKS_PER_SEC, 7);
    out.push('Z');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_roundtrip() {
        for days in [-1000i64, 0, 1, 59, 365, 10_957, 20_779, 50_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn timestamp_format() {
        let secs = days_from_civil(2026, 11, 22) as u64 * 86_400 + 7 * 3600 + 33 * 60 + 1;
        let mut s = String::new();
        push_timestamp(&mut s, secs * TICKS_PER_SEC + 1_234_567);
        assert_eq!(s, "2026-11-22T07:33:01.1234567Z");
    }

    #[test]
    fn base64_matches_sample() {
        // From linux_process_event.json: the entity_id encodes agent-pid-filetime.
        let mut s = String::new();
        base64_into(
            &mut s,
            b"cfa699db-c293-4869-b68c-5b8314dfaa56-1350-13274949149.945149700",
        );
        assert_eq!(
            s,
            "Y2ZhNjk5ZGItYzI5My00ODY5LWI2OGMtNWI4MzE0ZGZhYTU2LTEzNTAtMTMyNzQ5NDkxNDkuOTQ1MTQ5NzAw"
        );
        s.clear();
        base64_into(&mut s, b"ab");
        assert_eq!(s, "YWI=");
        s.clear();
        base64_into(&mut s, b"a");
        assert_eq!(s, "YQ==");
    }

    #[test]
    fn json_escaping() {
        let mut s = String::new();
        push_json_str(&mut s, "a\"b\\c\nd\u{1}");
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001\"");
    }

    #[test]
    fn rng_is_deterministic_and_bounded() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..1000 {
            let x = a.range(3, 9);
            assert_eq!(x, b.range(3, 9));
            assert!((3..=9).contains(&x));
        }
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }
}
