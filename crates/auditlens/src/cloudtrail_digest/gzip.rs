//! Streaming gunzip of every gzip member of a file, as `gunzip` reads it, with trailing bytes refused.
//!
//! Decision (docs/cloudtrail.md section 4.1, "Log files: gzip members"): the content of a file is the concatenation of ALL its gzip
//! members, as `gunzip` and AWS's validator (since its May 2026 fix) give it. An appended valid member therefore
//! changes the content and the hash fails. Bytes after the last member that do not form a valid gzip member
//! (garbage, zero padding, a truncated member) are a failure of their own: "trailing bytes after the gzip
//! member(s)".

use std::io::{self, BufRead, BufReader, Read};

/// How reading a gzip stream ended.
#[derive(Debug)]
pub(crate) enum Gunzip {
    /// All members read to the end; `members` is how many.
    Complete { members: usize },
    /// The input does not start with a gzip member (empty, or not the gzip magic bytes).
    NotGzip(String),
    /// The first member is corrupt (bad deflate data, CRC or length mismatch, truncated).
    Corrupt(String),
    /// `members` valid members were read, then bytes that are not a valid gzip member.
    TrailingBytes {
        members: usize,
        offset: u64,
        detail: String,
    },
    /// The sink asked to stop (e.g. a size limit).
    Stopped,
}

struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// The read size of [`gunzip_all`] and of a [`GunzipReader`]'s input buffer.
const BUF: usize = 64 * 1024;

/// Decompresses every gzip member of `input` in turn, passing the decompressed bytes to `sink` (which returns
/// `false` to stop). Memory use is bounded by two 64 KiB buffers. I/O errors of the input are returned as `Err`.
pub(crate) fn gunzip_all(
    input: impl Read,
    mut sink: impl FnMut(&[u8]) -> bool,
) -> io::Result<Gunzip> {
    let mut reader = GunzipReader::new(input);
    let mut out = vec![0u8; BUF];
    loop {
        let n = reader.read(&mut out)?;
        if n == 0 {
            return Ok(reader.finish());
        }
        if !sink(&out[..n]) {
            return Ok(Gunzip::Stopped);
        }
    }
}

/// The decompressed content of every gzip member of a file, read as it is wanted: what [`gunzip_all`] passes to
/// its sink, for a reader that pulls (a parser). A member that does not decompress ends the content early (`read`
/// returns 0) and [`GunzipReader::finish`] says why; only I/O errors of the input are `Err`.
pub(crate) struct GunzipReader<R: Read> {
    state: State<R>,
    members: usize,
    /// Offset in the input of the member being read.
    offset: u64,
    end: Option<Gunzip>,
}

enum State<R: Read> {
    /// Before a member, or after the last.
    Between(BufReader<Counting<R>>),
    /// Boxed: the decoder's state is large, the other states small.
    Member(Box<flate2::bufread::GzDecoder<BufReader<Counting<R>>>>),
    Ended,
}

impl<R: Read> GunzipReader<R> {
    pub(crate) fn new(input: R) -> Self {
        Self {
            state: State::Between(BufReader::with_capacity(
                BUF,
                Counting {
                    inner: input,
                    count: 0,
                },
            )),
            members: 0,
            offset: 0,
            end: None,
        }
    }

    /// How reading ended, once `read` has returned 0 ([`Gunzip::Stopped`] before that).
    pub(crate) fn finish(self) -> Gunzip {
        self.end.unwrap_or(Gunzip::Stopped)
    }

    fn end(&mut self, how: Gunzip) -> io::Result<usize> {
        self.state = State::Ended;
        self.end = Some(how);
        Ok(0)
    }

    /// At the start of a member or the end of the file: a decoder for the member, or the end.
    fn next_member(&mut self, mut reader: BufReader<Counting<R>>) -> io::Result<usize> {
        let (empty, magic_ok) = match reader.fill_buf() {
            Ok(avail) => (
                avail.is_empty(),
                !avail.is_empty() && avail[0] == 0x1f && (avail.len() < 2 || avail[1] == 0x8b),
            ),
            Err(e) => {
                self.state = State::Between(reader);
                return Err(e);
            }
        };
        // Offset of the next unread byte: what the counter read minus what is still buffered.
        self.offset = reader.get_ref().count - reader.buffer().len() as u64;
        let members = self.members;
        if empty {
            return self.end(if members == 0 {
                Gunzip::NotGzip("empty file".into())
            } else {
                Gunzip::Complete { members }
            });
        }
        if !magic_ok {
            return self.end(if members == 0 {
                Gunzip::NotGzip("does not start with the gzip magic bytes 1f 8b".into())
            } else {
                Gunzip::TrailingBytes {
                    members,
                    offset: self.offset,
                    detail: "bytes that are not a gzip member".into(),
                }
            });
        }
        self.state = State::Member(Box::new(flate2::bufread::GzDecoder::new(reader)));
        Ok(0)
    }
}

impl<R: Read> Read for GunzipReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match std::mem::replace(&mut self.state, State::Ended) {
                State::Ended => return Ok(0),
                State::Between(reader) => {
                    self.next_member(reader)?;
                }
                State::Member(mut decoder) => match decoder.read(buf) {
                    Ok(0) => {
                        self.members += 1;
                        self.state = State::Between((*decoder).into_inner());
                    }
                    Ok(n) => {
                        self.state = State::Member(decoder);
                        return Ok(n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                        self.state = State::Member(decoder);
                    }
                    Err(e) => {
                        let detail = e.to_string();
                        let members = self.members;
                        return self.end(if members == 0 {
                            Gunzip::Corrupt(detail)
                        } else {
                            Gunzip::TrailingBytes {
                                members,
                                offset: self.offset,
                                detail: format!("an invalid gzip member ({detail})"),
                            }
                        });
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).expect("write");
        e.finish().expect("finish")
    }

    fn run(input: &[u8]) -> (Gunzip, Vec<u8>) {
        let mut got = Vec::new();
        let r = gunzip_all(input, |b| {
            got.extend_from_slice(b);
            true
        })
        .expect("io");
        (r, got)
    }

    #[test]
    fn one_and_two_members() {
        let (r, got) = run(&gz(b"hello"));
        assert!(matches!(r, Gunzip::Complete { members: 1 }), "{r:?}");
        assert_eq!(got, b"hello");
        let mut two = gz(b"hello ");
        two.extend(gz(b"world"));
        let (r, got) = run(&two);
        assert!(matches!(r, Gunzip::Complete { members: 2 }), "{r:?}");
        assert_eq!(got, b"hello world");
    }

    #[test]
    fn big_member_streams() {
        let data: Vec<u8> = (0..300_000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let (r, got) = run(&gz(&data));
        assert!(matches!(r, Gunzip::Complete { members: 1 }), "{r:?}");
        assert_eq!(got, data);
    }

    #[test]
    fn trailing_garbage_zeros_and_truncated_member() {
        let one = gz(b"hello");
        for tail in [
            &b"garbage"[..],
            &[0u8, 0, 0][..],
            &[0x1f][..],
            &gz(b"x")[..10],
        ] {
            let mut f = one.clone();
            f.extend_from_slice(tail);
            let (r, _) = run(&f);
            match r {
                Gunzip::TrailingBytes {
                    members: 1, offset, ..
                } => assert_eq!(offset, one.len() as u64),
                other => panic!("tail {tail:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn not_gzip_and_corrupt() {
        assert!(matches!(run(b"").0, Gunzip::NotGzip(_)));
        assert!(matches!(run(b"{\"a\":1}").0, Gunzip::NotGzip(_)));
        let mut f = gz(b"hello world hello world");
        let n = f.len();
        f[n - 6] ^= 1; // the CRC
        assert!(matches!(run(&f).0, Gunzip::Corrupt(_)), "{:?}", run(&f).0);
        assert!(matches!(run(&f[..n - 3]).0, Gunzip::Corrupt(_)));
    }
}
