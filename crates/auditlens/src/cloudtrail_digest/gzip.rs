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

/// Decompresses every gzip member of `input` in turn, passing the decompressed bytes to `sink` (which returns
/// `false` to stop). Memory use is bounded by two 64 KiB buffers. I/O errors of the input are returned as `Err`.
pub(crate) fn gunzip_all(
    input: impl Read,
    mut sink: impl FnMut(&[u8]) -> bool,
) -> io::Result<Gunzip> {
    const BUF: usize = 64 * 1024;
    let mut reader = BufReader::with_capacity(
        BUF,
        Counting {
            inner: input,
            count: 0,
        },
    );
    let mut out = vec![0u8; BUF];
    let mut members = 0usize;
    loop {
        let (empty, magic_ok) = {
            let avail = reader.fill_buf()?;
            (
                avail.is_empty(),
                !avail.is_empty() && avail[0] == 0x1f && (avail.len() < 2 || avail[1] == 0x8b),
            )
        };
        // Offset of the next unread byte: what the counter read minus what is still buffered.
        let offset = reader.get_ref().count - reader.buffer().len() as u64;
        if empty {
            return Ok(if members == 0 {
                Gunzip::NotGzip("empty file".into())
            } else {
                Gunzip::Complete { members }
            });
        }
        if !magic_ok {
            return Ok(if members == 0 {
                Gunzip::NotGzip("does not start with the gzip magic bytes 1f 8b".into())
            } else {
                Gunzip::TrailingBytes {
                    members,
                    offset,
                    detail: "bytes that are not a gzip member".into(),
                }
            });
        }
        let mut decoder = flate2::bufread::GzDecoder::new(reader);
        loop {
            match decoder.read(&mut out) {
                Ok(0) => break,
                Ok(n) => {
                    if !sink(&out[..n]) {
                        return Ok(Gunzip::Stopped);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let detail = e.to_string();
                    return Ok(if members == 0 {
                        Gunzip::Corrupt(detail)
                    } else {
                        Gunzip::TrailingBytes {
                            members,
                            offset,
                            detail: format!("an invalid gzip member ({detail})"),
                        }
                    });
                }
            }
        }
        reader = decoder.into_inner();
        members += 1;
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
