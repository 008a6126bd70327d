//! `@timestamp` to epoch milliseconds, truncating sub-millisecond digits as
//! Elasticsearch's `date` type does (SEMANTICS S5), and back for alerts.

use alloc::string::String;

/// Parses `@timestamp` text as Elasticsearch's default `date` format
/// (`strict_date_optional_time`) reads it, into epoch milliseconds: a date
/// (`2026-11-22`), optionally `T` and a time with hours, minutes, seconds and
/// 1 to 9 fractional digits (`07:33:01.1234567`), each part after the hour
/// optional, and a zone (`Z`, `+02:00`, `+0200`, `+02`), UTC when absent.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let mut c = Cursor {
        b: s.as_bytes(),
        at: 0,
    };
    // "The date must include the year at a minimum" (Elasticsearch's
    // `date_optional_time`), so `2026` and `2026-11` are dates too.
    let year = c.digits(4)?;
    let (mut month, mut day) = (1, 1);
    if c.byte(b'-').is_some() {
        month = c.digits(2)?;
        if c.byte(b'-').is_some() {
            day = c.digits(2)?;
        }
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let (mut hour, mut minute, mut second, mut millis) = (0, 0, 0, 0);
    if c.byte(b'T').or_else(|| c.byte(b't')).is_some() {
        hour = c.digits(2)?;
        if c.byte(b':').is_some() {
            minute = c.digits(2)?;
            if c.byte(b':').is_some() {
                second = c.digits(2)?;
                if c.byte(b'.').is_some() {
                    millis = c.fraction_ms()?;
                }
            }
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset_minutes = c.zone()?;
    if c.at != c.b.len() {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Some(secs * 1_000 + millis)
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn byte(&mut self, want: u8) -> Option<()> {
        (self.b.get(self.at) == Some(&want)).then(|| self.at += 1)
    }

    fn digits(&mut self, n: usize) -> Option<i64> {
        let mut v = 0i64;
        for &c in self.b.get(self.at..self.at + n)? {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        self.at += n;
        Some(v)
    }

    /// 1 to 9 digits; the first three are milliseconds, the rest truncated.
    fn fraction_ms(&mut self) -> Option<i64> {
        let start = self.at;
        let mut millis = 0i64;
        while let Some(&c) = self.b.get(self.at).filter(|c| c.is_ascii_digit()) {
            if self.at - start < 3 {
                millis = millis * 10 + i64::from(c - b'0');
            }
            self.at += 1;
        }
        let digits = self.at - start;
        if digits == 0 || digits > 9 {
            return None;
        }
        Some(millis * 10i64.pow(3u32.saturating_sub(digits as u32)))
    }

    /// `Z`, `+HH:MM`, `+HHMM`, `+HH`, or nothing (UTC); minutes east.
    fn zone(&mut self) -> Option<i64> {
        let sign = match self.b.get(self.at) {
            None => return Some(0),
            Some(b'Z' | b'z') => {
                self.at += 1;
                return Some(0);
            }
            Some(b'+') => 1,
            Some(b'-') => -1,
            Some(_) => return None,
        };
        self.at += 1;
        let h = self.digits(2)?;
        let m = if self.at == self.b.len() {
            0
        } else {
            let _ = self.byte(b':');
            self.digits(2)?
        };
        (h <= 23 && m <= 59).then_some(sign * (h * 60 + m))
    }
}

/// Renders epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_rfc3339_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    alloc::format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1_000 % 60,
        in_day % 1_000
    )
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_truncates() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_ms("1970-01-01T00:00:01.9999999Z"),
            Some(1_999)
        );
        assert_eq!(parse_rfc3339_ms("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_rfc3339_ms("2026-11-22T07:33:01.123456789Z"),
            Some(1_795_332_781_123)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-11-22T07:33:01.1Z"),
            Some(1_795_332_781_100)
        );
        assert_eq!(parse_rfc3339_ms("2026-02-30T00:00:00Z"), None);
        assert_eq!(parse_rfc3339_ms("2026-11-22T07:33:01.Z"), None);
        assert_eq!(parse_rfc3339_ms("2026-11-22T07:33:01.1234567890Z"), None);
        assert_eq!(parse_rfc3339_ms("2026-11-22 07:33:01"), None);
        assert_eq!(parse_rfc3339_ms("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_rfc3339_ms("1970-01-01T01"), Some(3_600_000));
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:01"), Some(60_000));
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:01"), Some(1_000));
        assert_eq!(parse_rfc3339_ms("1970-01-01T02:00:00+0200"), Some(0));
        assert_eq!(parse_rfc3339_ms("1970-01-01T02:00:00+02"), Some(0));
        assert_eq!(
            parse_rfc3339_ms("1970-01-01T00:00:00-00:30"),
            Some(1_800_000)
        );
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Zjunk"), None);
        assert_eq!(parse_rfc3339_ms("1970-01-01T24:00:00Z"), None);
        assert_eq!(parse_rfc3339_ms("197-01-01"), None);
        assert_eq!(parse_rfc3339_ms("1970"), Some(0));
        assert_eq!(parse_rfc3339_ms("1970-02"), Some(31 * 86_400_000));
        assert_eq!(parse_rfc3339_ms("1970T01"), Some(3_600_000));
    }

    #[test]
    fn round_trip() {
        for ms in [0, 1_795_332_781_123, -1, 951_782_400_000] {
            assert_eq!(parse_rfc3339_ms(&format_rfc3339_ms(ms)), Some(ms));
        }
        assert_eq!(
            format_rfc3339_ms(1_795_332_781_123),
            "2026-11-22T07:33:01.123Z"
        );
    }
}
