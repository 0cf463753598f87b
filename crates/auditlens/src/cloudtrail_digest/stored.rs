//! Reading the events of a verified CloudTrail log file, as an importer stores them and `check` re-reads them:
//! the file is inflated again (every gzip member) and its SHA-256 compared with the `hashValue` its signed
//! digest lists, so the events come from exactly the bytes that verified; each element of its `Records` array
//! is one event, minified as `seal` minifies records (docs/archive-format.md section 3). [`read_log`] does both in
//! one pass as the file inflates, so that memory does not grow with the file (up to 256 MiB inflated).

use std::io::{self, BufReader, Read};

use sha2::{Digest as _, Sha256};

use super::gzip::{Gunzip, GunzipReader, gunzip_all};
use super::keys::hex_lower;

/// Inflates `gz`: every gzip member, nothing after the last, at most `max` bytes out.
pub(crate) fn inflate(gz: &[u8], max: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut too_big = false;
    let result = gunzip_all(gz, |b| {
        if out.len() as u64 + b.len() as u64 > max {
            too_big = true;
            return false;
        }
        out.extend_from_slice(b);
        true
    })
    .map_err(|e| e.to_string())?;
    if too_big {
        return Err(format!("decompresses to more than {max} bytes"));
    }
    match result {
        Gunzip::Complete { .. } => Ok(out),
        Gunzip::NotGzip(d) => Err(format!("not gzip: {d}")),
        Gunzip::Corrupt(d) => Err(format!("corrupt gzip: {d}")),
        Gunzip::TrailingBytes { offset, detail, .. } => Err(format!(
            "trailing bytes after the gzip member(s): {detail} at byte {offset}"
        )),
        Gunzip::Stopped => Err("stopped".into()),
    }
}

/// Inflates `gz` (at most `max` bytes out) and checks the SHA-256 of the result against `sha256_hex`.
pub(crate) fn inflate_checked(gz: &[u8], sha256_hex: &str, max: u64) -> Result<Vec<u8>, String> {
    let out = inflate(gz, max)?;
    let found = hex_lower(&Sha256::digest(&out));
    if found != sha256_hex {
        return Err(format!(
            "SHA-256 of the decompressed content is {found}, its digest lists {sha256_hex}"
        ));
    }
    Ok(out)
}

/// Deepest nesting of arrays and objects in a log file, counting its top-level object (docs/evidence-bundle.md
/// section 11.2): the object, `Records` and a record nested at most 128 deep. The same limit for every reader,
/// whatever its parser's own.
pub(crate) const MAX_LOG_NESTING: usize = 130;

/// What reading a log file found.
pub(crate) struct LogFile {
    /// The SHA-256 of its content (every gzip member), lowercase hex.
    pub(crate) sha256_hex: String,
    /// How many records it holds, or why they cannot be read: the document's syntax or nesting first, then the
    /// first record that is not an object or too long.
    pub(crate) records: Result<u64, String>,
}

/// Reads a gzipped CloudTrail log file (`{"Records":[...]}`) once, as it inflates, without holding its content:
/// hashes the content and calls `f` with each record in turn, minified; each must be a JSON object of at most
/// `max_event` bytes. `f` returns `false` to stop reading (the result is then `Err("stopped")`).
///
/// `Err` when the file does not inflate (not gzip, corrupt, trailing bytes, more than `max` bytes out). `f` may
/// have been called before any failure is known, the hash's included: a caller stores nothing it was given
/// unless the whole file reads and its hash is the one it expects ([`read_log_checked`]).
pub(crate) fn read_log(
    gz: &[u8],
    max: u64,
    max_event: usize,
    mut f: impl FnMut(&[u8]) -> bool,
) -> Result<LogFile, String> {
    let mut tap = Tap {
        inner: GunzipReader::new(gz),
        sha: Sha256::new(),
        len: 0,
        max,
        walk: crate::json::ByteWalk::default(),
        depth: 0,
        deepest: 0,
    };
    let mut walk = Walk {
        f: &mut f,
        max_event,
        count: 0,
        refused: None,
        stopped: false,
        minified: Vec::new(),
    };
    let parsed = {
        let mut de =
            serde_json::Deserializer::from_reader(BufReader::with_capacity(READ_BYTES, &mut tap));
        serde::Deserializer::deserialize_map(&mut de, Envelope(&mut walk)).and_then(|()| de.end())
    };
    if walk.stopped {
        return Err("stopped".into());
    }
    // What the parser left unread (after a syntax error), so that the hash, the size and the gzip members
    // cover the whole file. Past `max` the tap fails, which ends this.
    let _ = io::copy(&mut tap, &mut io::sink());
    if tap.len > max {
        return Err(format!("decompresses to more than {max} bytes"));
    }
    match tap.inner.finish() {
        Gunzip::Complete { .. } => {}
        Gunzip::NotGzip(d) => return Err(format!("not gzip: {d}")),
        Gunzip::Corrupt(d) => return Err(format!("corrupt gzip: {d}")),
        Gunzip::TrailingBytes { offset, detail, .. } => {
            return Err(format!(
                "trailing bytes after the gzip member(s): {detail} at byte {offset}"
            ));
        }
        Gunzip::Stopped => return Err("the file could not be read to its end".into()),
    }
    let records = if tap.deepest > MAX_LOG_NESTING {
        Err(format!(
            "nested deeper than {MAX_LOG_NESTING} levels of arrays and objects"
        ))
    } else {
        match (parsed, walk.refused) {
            (Err(e), _) => Err(format!(
                "not a CloudTrail {{\"Records\": [...]}} document: {e}"
            )),
            (Ok(()), Some(why)) => Err(why),
            (Ok(()), None) => Ok(walk.count),
        }
    };
    Ok(LogFile {
        sha256_hex: hex_lower(&tap.sha.finalize()),
        records,
    })
}

/// [`read_log`] of a file whose content must hash to `sha256_hex` (what its signed digest lists): the number of
/// records, or why the file is refused (it does not inflate, its hash differs, its records cannot be read).
pub(crate) fn read_log_checked(
    gz: &[u8],
    sha256_hex: &str,
    max: u64,
    max_event: usize,
    f: impl FnMut(&[u8]) -> bool,
) -> Result<u64, String> {
    let read = read_log(gz, max, max_event, f)?;
    if read.sha256_hex != sha256_hex {
        return Err(format!(
            "SHA-256 of the decompressed content is {}, its digest lists {sha256_hex}",
            read.sha256_hex
        ));
    }
    read.records
}

/// How much of the inflated content the parser reads at a time.
const READ_BYTES: usize = 64 << 10;

/// The inflated content on its way to the parser: hashed, counted (no more than `max` bytes pass) and measured
/// for nesting (brackets inside strings do not count).
struct Tap<'a> {
    inner: GunzipReader<&'a [u8]>,
    sha: Sha256,
    len: u64,
    max: u64,
    walk: crate::json::ByteWalk,
    depth: usize,
    deepest: usize,
}

impl Read for Tap<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.len > self.max {
            return Err(io::Error::other("too long"));
        }
        let n = self.inner.read(buf)?;
        let piece = &buf[..n];
        self.len += n as u64;
        if self.len > self.max {
            return Err(io::Error::other("too long"));
        }
        self.sha.update(piece);
        let (depth, deepest) = (&mut self.depth, &mut self.deepest);
        self.walk.feed(piece, |b, in_string| {
            if !in_string {
                match b {
                    b'[' | b'{' => {
                        *depth += 1;
                        *deepest = (*deepest).max(*depth);
                    }
                    b']' | b'}' => *depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
        });
        Ok(n)
    }
}

struct Walk<'f> {
    f: &'f mut dyn FnMut(&[u8]) -> bool,
    max_event: usize,
    count: u64,
    /// The first record refused; later ones are read for the syntax only.
    refused: Option<String>,
    /// `f` asked to stop.
    stopped: bool,
    minified: Vec<u8>,
}

impl Walk<'_> {
    fn record(&mut self, raw: &[u8]) {
        if self.refused.is_some() {
            return;
        }
        let i = self.count;
        self.count += 1;
        self.minified.clear();
        crate::input::minify_into(raw, &mut self.minified);
        if !self.minified.starts_with(b"{") {
            self.refused = Some(format!("record {i} is not a JSON object"));
        } else if self.minified.len() > self.max_event {
            self.refused = Some(format!(
                "record {i} is longer than {} bytes",
                self.max_event
            ));
        } else if !(self.f)(&self.minified) {
            self.stopped = true;
        }
    }
}

/// The document: an object whose `Records` member (exactly one) is read by [`RecordList`], every other member
/// skipped.
struct Envelope<'w, 'f>(&'w mut Walk<'f>);

impl<'de> serde::de::Visitor<'de> for Envelope<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("struct Envelope")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "Records" {
                if seen {
                    return Err(serde::de::Error::duplicate_field("Records"));
                }
                seen = true;
                map.next_value_seed(RecordList(&mut *self.0))?;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        if !seen {
            return Err(serde::de::Error::missing_field("Records"));
        }
        Ok(())
    }
}

/// The `Records` array, each element handed to [`Walk::record`] as its exact text.
struct RecordList<'w, 'f>(&'w mut Walk<'f>);

impl<'de> serde::de::DeserializeSeed<'de> for RecordList<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RecordList<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // Owned: the text is read from a stream, not borrowed from a slice.
        while let Some(r) = seq.next_element::<Box<serde_json::value::RawValue>>()? {
            self.0.record(r.get().as_bytes());
            if self.0.stopped {
                return Err(serde::de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// The records of document `doc` (gzipped first), read by [`read_log`].
    fn log_records(doc: &[u8], max_event: usize) -> Result<Vec<Vec<u8>>, String> {
        let mut out = Vec::new();
        let n = read_log(&gz(doc), 1 << 30, max_event, |r| {
            out.push(r.to_vec());
            true
        })?
        .records?;
        assert_eq!(n, out.len() as u64);
        Ok(out)
    }

    #[test]
    fn inflates_only_what_its_hash_names() {
        let doc = br#"{"Records":[{"a": 1},{"b":"x y"}]}"#;
        let sha = hex_lower(&Sha256::digest(doc));
        assert_eq!(inflate_checked(&gz(doc), &sha, 1 << 20).unwrap(), doc);
        let other = hex_lower(&Sha256::digest(b"other"));
        assert!(
            inflate_checked(&gz(doc), &other, 1 << 20)
                .unwrap_err()
                .contains("SHA-256")
        );
        assert!(
            inflate_checked(&gz(doc), &sha, 4)
                .unwrap_err()
                .contains("more than 4 bytes")
        );
        let mut appended = gz(doc);
        appended.extend_from_slice(b"junk");
        assert!(
            inflate_checked(&appended, &sha, 1 << 20)
                .unwrap_err()
                .contains("trailing")
        );
        assert!(
            inflate_checked(doc, &sha, 1 << 20)
                .unwrap_err()
                .contains("not gzip")
        );
    }

    #[test]
    fn records_are_minified_objects() {
        let r = log_records(br#"{"Records":[{"a": 1},{"b":"x y"}]}"#, 100).unwrap();
        assert_eq!(r, vec![b"{\"a\":1}".to_vec(), b"{\"b\":\"x y\"}".to_vec()]);
        assert!(log_records(br#"{"Records":[1]}"#, 100).is_err());
        assert!(log_records(br#"{"Records":[{"a":"long"}]}"#, 5).is_err());
        assert!(log_records(br#"{"records":[]}"#, 100).is_err());
        // A record nested `d` deep, with brackets inside a string that do not count.
        let deep = |d: usize| {
            format!(
                "{{\"Records\":[{{\"s\":\"[[{{\",\"a\":{}1{}}}]}}",
                "[".repeat(d - 1),
                "]".repeat(d - 1)
            )
        };
        assert!(log_records(deep(MAX_LOG_NESTING - 2).as_bytes(), 1 << 20).is_ok());
        assert!(
            log_records(deep(MAX_LOG_NESTING - 1).as_bytes(), 1 << 20)
                .unwrap_err()
                .contains("nested deeper than 130")
        );
        assert!(log_records(b"[]", 100).is_err());
    }

    /// A file is read as it inflates, in pieces: records that span the pieces and the members of the gzip, the
    /// hash of the whole content, the nesting counted across pieces (brackets inside strings that span them do
    /// not count), and the failures in the order a reader of the whole file would see them.
    #[test]
    fn a_file_read_as_it_inflates_is_the_whole_file() {
        // 3,000 records of about 200 bytes (600 KB: about ten pieces of the parser's 64 KiB), each with a string
        // full of brackets, over three gzip members cut inside records.
        let mut doc = String::from("{\"eventVersion\": 1, \"Records\": [");
        for i in 0..3000 {
            if i > 0 {
                doc.push_str(",\n  ");
            }
            doc.push_str(&format!(
                "{{\"n\": {i}, \"s\": \"{}\\\" [[[{{{{\", \"a\": [[{{\"b\": null}}]]}}",
                "[{".repeat(80)
            ));
        }
        doc.push_str("]}");
        let bytes = doc.as_bytes();
        let (third, two_thirds) = (bytes.len() / 3 + 7, 2 * bytes.len() / 3 + 11);
        let mut members = gz(&bytes[..third]);
        members.extend(gz(&bytes[third..two_thirds]));
        members.extend(gz(&bytes[two_thirds..]));
        let sha = hex_lower(&Sha256::digest(bytes));
        let mut seen = Vec::new();
        let n = read_log_checked(&members, &sha, 1 << 30, 1 << 20, |r| {
            seen.push(r.to_vec());
            true
        })
        .unwrap();
        assert_eq!(n, 3000);
        let expected: Vec<Vec<u8>> =
            serde_json::from_str::<serde_json::Value>(&doc).unwrap()["Records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| crate::input::minify(r.to_string().as_bytes()))
                .collect();
        assert_eq!(seen, expected);
        // Nesting: 131 levels in the last record, past the first pieces, is refused; 130 is not.
        let deep = |levels: usize| {
            let mut d = doc[..doc.len() - 2].to_string();
            d.push_str(&format!(
                ",{}{}]}}",
                "{\"a\":[".repeat((levels - 2) / 2) + if levels % 2 == 1 { "{" } else { "" },
                if levels % 2 == 1 { "}" } else { "" }.to_string() + &"]}".repeat((levels - 2) / 2)
            ));
            d
        };
        assert_eq!(
            read_log(&gz(deep(130).as_bytes()), 1 << 30, 1 << 20, |_| true)
                .unwrap()
                .records
                .unwrap(),
            3001
        );
        assert!(
            read_log(&gz(deep(131).as_bytes()), 1 << 30, 1 << 20, |_| true)
                .unwrap()
                .records
                .unwrap_err()
                .contains("nested deeper than 130")
        );
        // A stop is a stop: nothing is handed on after it.
        let mut calls = 0;
        let stopped = read_log(&members, 1 << 30, 1 << 20, |_| {
            calls += 1;
            calls < 10
        });
        assert_eq!(stopped.err().as_deref(), Some("stopped"));
        assert_eq!(calls, 10);
        // Failures: a wrong hash before a syntax error; trailing bytes and size before the hash.
        let broken = format!("{}, oops", &doc[..doc.len() / 2]);
        let e =
            read_log_checked(&gz(broken.as_bytes()), &sha, 1 << 30, 1 << 20, |_| true).unwrap_err();
        assert!(
            e.starts_with("SHA-256 of the decompressed content is "),
            "{e}"
        );
        let right = hex_lower(&Sha256::digest(broken.as_bytes()));
        let e = read_log_checked(&gz(broken.as_bytes()), &right, 1 << 30, 1 << 20, |_| true)
            .unwrap_err();
        assert!(e.starts_with("not a CloudTrail"), "{e}");
        let mut trailing = gz(broken.as_bytes());
        trailing.extend_from_slice(b"\0\0");
        let e = read_log_checked(&trailing, &right, 1 << 30, 1 << 20, |_| true).unwrap_err();
        assert!(
            e.starts_with("trailing bytes after the gzip member(s)"),
            "{e}"
        );
        let e = read_log_checked(&members, &sha, bytes.len() as u64 - 1, 1 << 20, |_| true)
            .unwrap_err();
        assert_eq!(
            e,
            format!("decompresses to more than {} bytes", bytes.len() - 1)
        );
        assert!(read_log_checked(&members, &sha, bytes.len() as u64, 1 << 20, |_| true).is_ok());
        let e = read_log(b"{\"Records\":[]}", 1 << 30, 1 << 20, |_| true)
            .err()
            .unwrap();
        assert!(e.starts_with("not gzip"), "{e}");
    }

    /// The records read one at a time are what reading the whole document into a list gives (the reading this
    /// replaced), errors included: the document's syntax first, then the first record refused. (Both read a
    /// stream: serde_json places some errors one column later in a stream than in a slice.)
    #[test]
    fn records_read_one_at_a_time_are_those_of_the_whole_document() {
        use serde_json::value::RawValue;
        #[derive(serde::Deserialize)]
        struct Whole {
            #[serde(rename = "Records")]
            records: Vec<Box<RawValue>>,
        }
        let whole = |doc: &str, max: usize| -> Result<Vec<Vec<u8>>, String> {
            let w: Whole = serde_json::from_reader(doc.as_bytes())
                .map_err(|e| format!("not a CloudTrail {{\"Records\": [...]}} document: {e}"))?;
            let mut out = Vec::new();
            for (i, r) in w.records.iter().enumerate() {
                let b = crate::input::minify(r.get().as_bytes());
                if !b.starts_with(b"{") {
                    return Err(format!("record {i} is not a JSON object"));
                }
                if b.len() > max {
                    return Err(format!("record {i} is longer than {max} bytes"));
                }
                out.push(b);
            }
            Ok(out)
        };
        let docs = [
            r#"{"Records":[{"a": 1},{"b":"x y"}]}"#,
            r#"{"x":[1,{"Records":2}],"Records":[{"a":"}]"}],"y":{"z":null}}"#,
            r#"{"Rec\u006frds":[{"k":1}]}"#,
            r#"{"Records":[]}"#,
            r#"{"Records":[{"a":1},2,{"b":2}]}"#,
            r#"{"Records":[2,{"b":2}"#,
            r#"{"Records":[{"a":"long long long"},{"b":1}]}"#,
            r#"{"Records":[{"a":1}],"Records":[]}"#,
            r#"{"records":[]}"#,
            r#"{"Records":null}"#,
            r#"{"Records":[{"a":1}]} x"#,
            r#"{"Records":[{"a":1}],}"#,
        ];
        for doc in docs {
            match (whole(doc, 12), log_records(doc.as_bytes(), 12)) {
                (Ok(w), Ok(seen)) => assert_eq!(w, seen, "{doc}"),
                (Err(w), Err(e)) => assert_eq!(w, e, "{doc}"),
                (w, e) => panic!("{doc}: whole {w:?}, one at a time {e:?}"),
            }
        }
        // A list is no `{"Records": [...]}` document (a derived struct also read `[[{...}]]` as its members in
        // order; neither AWS nor verify_bundle.py writes or reads one so).
        for doc in ["[]", r#"[[{"a":1}]]"#] {
            let e = log_records(doc.as_bytes(), 12).unwrap_err();
            assert!(e.contains("invalid type: sequence"), "{doc}: {e}");
        }
    }
}
