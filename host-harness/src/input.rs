//! `rulehost run`'s inputs: files or stdin, cut into lines through one
//! large buffer, without a copy or an allocation per line; line ends are
//! found by memchr.
//!
//! Tried and not kept (BENCHMARKS.md, "The CLI's rate"): mapping the file
//! instead of reading it (2 % faster natively, at the price of a SIGBUS
//! when the file is truncated meanwhile) and a second thread reading ahead
//! (no faster on two shared cores).

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::path::Path;

/// One input: a name for messages, its reader, and its size when known.
pub(crate) struct Input {
    pub(crate) name: String,
    pub(crate) size: Option<u64>,
    reader: Box<dyn Read>,
}

impl Input {
    /// `-` is stdin.
    pub(crate) fn open(path: &Path) -> io::Result<Input> {
        if path.as_os_str() == "-" {
            return Ok(Input {
                name: "<stdin>".into(),
                size: None,
                reader: Box::new(io::stdin().lock()),
            });
        }
        let file = File::open(path)?;
        let size = file.metadata().ok().map(|m| m.len());
        Ok(Input {
            name: path.display().to_string(),
            size,
            reader: Box::new(file),
        })
    }

    /// Calls `f(line, taken)` for each line in order: the line without its
    /// `\n`, and the bytes of input it took (with it). A last line without
    /// `\n` is a line. Stops at the first error, `f`'s or the input's.
    pub(crate) fn for_each_line(
        self,
        mut f: impl FnMut(&[u8], usize) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut lines = LineReader::new(self.reader);
        while let Some((range, taken)) = lines.next_line()? {
            f(lines.line(range), taken)?;
        }
        Ok(())
    }
}

/// Whole lines out of a reader through one buffer of 1 MiB (larger for a
/// longer line).
struct LineReader<R> {
    reader: R,
    buf: Vec<u8>,
    /// The unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
}

impl<R: Read> LineReader<R> {
    fn new(reader: R) -> LineReader<R> {
        LineReader {
            reader,
            buf: vec![0; 1 << 20],
            start: 0,
            end: 0,
            eof: false,
        }
    }

    /// Where the next line is in the buffer (without its `\n`) and how many
    /// bytes of input it took; `None` at the end.
    fn next_line(&mut self) -> io::Result<Option<(Range<usize>, usize)>> {
        loop {
            if let Some(p) = memchr::memchr(b'\n', &self.buf[self.start..self.end]) {
                let line = self.start..self.start + p;
                self.start += p + 1;
                return Ok(Some((line, p + 1)));
            }
            if self.eof {
                if self.start == self.end {
                    return Ok(None);
                }
                let line = self.start..self.end;
                self.start = self.end;
                let taken = line.len();
                return Ok(Some((line, taken)));
            }
            // Keep the partial line at the front; a line longer than the
            // buffer doubles it.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.end == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn line(&self, range: Range<usize>) -> &[u8] {
        &self.buf[range]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], buf: usize) -> Vec<(Vec<u8>, usize)> {
        let mut r = LineReader::new(input);
        r.buf = vec![0; buf];
        let mut out = Vec::new();
        while let Some((range, taken)) = r.next_line().expect("a slice reads") {
            out.push((r.line(range).to_vec(), taken));
        }
        out
    }

    #[test]
    fn lines_across_reads_and_longer_than_the_buffer() {
        let input = b"ab\n\ncdefghij\r\nlast";
        for buf in [1, 2, 3, 7, 64] {
            assert_eq!(
                lines(input, buf),
                vec![
                    (b"ab".to_vec(), 3),
                    (b"".to_vec(), 1),
                    (b"cdefghij\r".to_vec(), 10),
                    (b"last".to_vec(), 4),
                ],
                "buffer of {buf}"
            );
        }
        assert!(lines(b"", 4).is_empty());
        assert_eq!(lines(b"x\n", 4), vec![(b"x".to_vec(), 2)]);
    }
}
