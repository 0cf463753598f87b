//! Streaming line splitting over any `Read`, with a hard cap on line length.
//!
//! The verifier and the sealer both walk multi-gigabyte inputs line by line. This reader hands out borrowed
//! slices from one large buffer (no allocation per line; memchr finds the newlines) and only copies a line when it
//! straddles two buffer fills. A line longer than the cap is an error, so memory stays bounded whatever the input.

use std::io::{self, Read};

/// One line as found in the input.
pub struct Line<'a> {
    /// The bytes without the terminating `\n`.
    pub bytes: &'a [u8],
    /// 1-based line number in the input.
    pub number: u64,
    /// Whether the line ended with `\n` (false only for a last line without newline).
    pub terminated: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("line {line} is longer than {limit} bytes")]
    TooLong { line: u64, limit: usize },
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Splits a byte stream into `\n`-terminated lines.
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    max_line: usize,
    line_no: u64,
    /// Bytes consumed so far (lines plus their newlines).
    consumed: u64,
}

/// Size of the reader's buffer, so of its reads (less the partial line it carries over); it grows only to hold
/// one longer line. The verifier's pipeline asks its input for the same amounts (see `verify.rs`).
pub const CHUNK: usize = 1 << 20;

impl<R: Read> LineReader<R> {
    pub fn new(inner: R, max_line: usize) -> Self {
        LineReader {
            inner,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
            eof: false,
            max_line,
            line_no: 0,
            consumed: 0,
        }
    }

    /// Total bytes handed out so far, newlines included.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// The next line, or `None` at the end of the input.
    pub fn next_line(&mut self) -> Result<Option<Line<'_>>, LineError> {
        let mut scan_from = self.start;
        loop {
            if let Some(pos) = memchr::memchr(b'\n', &self.buf[scan_from..self.end]) {
                let nl = scan_from + pos;
                let begin = self.start;
                self.start = nl + 1;
                self.line_no += 1;
                let len = nl - begin;
                if len > self.max_line {
                    return Err(LineError::TooLong {
                        line: self.line_no,
                        limit: self.max_line,
                    });
                }
                self.consumed += len as u64 + 1;
                return Ok(Some(Line {
                    bytes: &self.buf[begin..nl],
                    number: self.line_no,
                    terminated: true,
                }));
            }
            let pending = self.end - self.start;
            if pending > self.max_line {
                return Err(LineError::TooLong {
                    line: self.line_no + 1,
                    limit: self.max_line,
                });
            }
            if self.eof {
                if pending == 0 {
                    return Ok(None);
                }
                let begin = self.start;
                self.start = self.end;
                self.line_no += 1;
                self.consumed += pending as u64;
                return Ok(Some(Line {
                    bytes: &self.buf[begin..self.end],
                    number: self.line_no,
                    terminated: false,
                }));
            }
            // Move the partial line to the front and grow the buffer if it is full.
            self.buf.copy_within(self.start..self.end, 0);
            self.end = pending;
            self.start = 0;
            scan_from = pending;
            if self.end == self.buf.len() {
                let new_len = (self.buf.len() * 2)
                    .min(self.max_line + 2)
                    .max(self.buf.len() + 1);
                self.buf.resize(new_len, 0);
            }
            let n = loop {
                match self.inner.read(&mut self.buf[self.end..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e.into()),
                }
            };
            if n == 0 {
                self.eof = true;
            }
            self.end += n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(
        input: &[u8],
        max: usize,
        chunk_reader: bool,
    ) -> Result<Vec<(Vec<u8>, u64, bool)>, LineError> {
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(out.len()).min(3);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut v = Vec::new();
        let reader: Box<dyn Read> = if chunk_reader {
            Box::new(Trickle(input))
        } else {
            Box::new(input)
        };
        let mut r = LineReader::new(reader, max);
        while let Some(l) = r.next_line()? {
            v.push((l.bytes.to_vec(), l.number, l.terminated));
        }
        Ok(v)
    }

    #[test]
    fn lines_are_split_at_newlines_with_numbers() {
        for trickle in [false, true] {
            let v = collect(b"a\n\nbc\nd", 10, trickle).unwrap();
            assert_eq!(
                v,
                vec![
                    (b"a".to_vec(), 1, true),
                    (b"".to_vec(), 2, true),
                    (b"bc".to_vec(), 3, true),
                    (b"d".to_vec(), 4, false)
                ]
            );
        }
    }

    #[test]
    fn overlong_line_is_an_error_not_an_allocation() {
        let mut input = vec![b'x'; 100];
        input.push(b'\n');
        let err = collect(&input, 50, true).unwrap_err();
        assert!(matches!(err, LineError::TooLong { line: 1, limit: 50 }));
        // Exactly at the limit is fine.
        let v = collect(&input, 100, true).unwrap();
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn lines_longer_than_the_buffer_are_joined() {
        let mut input = vec![b'y'; CHUNK * 2 + 7];
        input.push(b'\n');
        input.extend_from_slice(b"z\n");
        let v = collect(&input, CHUNK * 4, false).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].0.len(), CHUNK * 2 + 7);
        assert_eq!(v[1].0, b"z");
    }
}
