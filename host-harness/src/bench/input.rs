//! The measured file: its bytes, split into lines and batches once before
//! any timing, and (for `--pending`) retimed into one window.

use std::ops::Range;
use std::path::PathBuf;

/// The measured bytes, split once, before any timing.
pub(super) struct Input {
    pub(super) data: Vec<u8>,
    /// Non-blank lines, without their `\n`.
    pub(super) lines: Vec<Range<usize>>,
    /// About `batch_bytes` each, cut after a `\n`.
    pub(super) batches: Vec<Range<usize>>,
    /// The same bytes on disk, for the rows in other processes.
    pub(super) path: PathBuf,
    pub(super) label: String,
}

impl Input {
    pub(super) fn new(data: Vec<u8>, batch_bytes: usize, path: PathBuf, label: String) -> Input {
        let mut lines = Vec::new();
        let mut start = 0;
        for (i, &b) in data.iter().enumerate() {
            if b == b'\n' {
                if !data[start..i].trim_ascii().is_empty() {
                    lines.push(start..i);
                }
                start = i + 1;
            }
        }
        if !data[start..].trim_ascii().is_empty() {
            lines.push(start..data.len());
        }
        let mut batches = Vec::new();
        let mut start = 0;
        while start < data.len() {
            let end = (start + batch_bytes.max(1)).min(data.len());
            let end = match data[end - 1..].iter().position(|&b| b == b'\n') {
                Some(p) => end - 1 + p + 1,
                None => data.len(),
            };
            batches.push(start..end);
            start = end;
        }
        Input {
            data,
            lines,
            batches,
            path,
            label,
        }
    }

    pub(super) fn events(&self) -> usize {
        self.lines.len()
    }

    pub(super) fn bytes(&self) -> usize {
        self.data.len()
    }
}

/// Where `"@timestamp":"…"`'s value is in a line, and its time.
pub(super) fn timestamp_in(line: &[u8]) -> Option<(Range<usize>, i64)> {
    const KEY: &[u8] = b"\"@timestamp\":\"";
    let at = line.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let len = line[at..].iter().position(|&b| b == b'"')?;
    let text = std::str::from_utf8(&line[at..at + len]).ok()?;
    Some((at..at + len, rule_core::time::parse_rfc3339_ms(text)?))
}

/// RFC 3339 with 7 fractional digits, as Defend writes them.
pub(super) fn defend_time(ms: i64) -> String {
    let text = rule_core::time::format_rfc3339_ms(ms);
    format!("{}0000Z", text.trim_end_matches('Z'))
}

/// The input with every `@timestamp` moved, in proportion, into
/// `[first, first + span_ms]`; also that first time.
pub(super) fn retime(input: &Input, span_ms: i64) -> Result<(Vec<u8>, i64), String> {
    let mut times = Vec::with_capacity(input.events());
    for (n, r) in input.lines.iter().enumerate() {
        let (span, ms) = timestamp_in(&input.data[r.clone()]).ok_or_else(|| {
            format!(
                "--pending: event {} has no \"@timestamp\":\"<RFC 3339>\" to move into the window",
                n + 1
            )
        })?;
        times.push((span, ms));
    }
    let first = times.iter().map(|t| t.1).min().unwrap_or(0);
    let last = times.iter().map(|t| t.1).max().unwrap_or(0);
    let scale = |ms: i64| -> i64 {
        if last == first {
            first
        } else {
            first + ((ms - first) as i128 * span_ms as i128 / (last - first) as i128) as i64
        }
    };
    let mut out = Vec::with_capacity(input.bytes());
    for (r, (span, ms)) in input.lines.iter().zip(&times) {
        let line = &input.data[r.clone()];
        out.extend_from_slice(&line[..span.start]);
        out.extend_from_slice(defend_time(scale(*ms)).as_bytes());
        out.extend_from_slice(&line[span.end..]);
        out.push(b'\n');
    }
    Ok((out, first))
}
