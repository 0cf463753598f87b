//! Reading source log files into event lines for sealing (docs/archive-format.md section 3, "How producers make
//! lines"): gzip or plain; JSON Lines kept byte for byte; CloudTrail `{"Records":[...]}` documents, JSON arrays and
//! pretty-printed single objects re-serialised compactly with key order and number text preserved.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::json::{Json, Node};
use crate::sources::{SourceKind, read_json};

use crate::archive::MAX_EVENT_BYTES;
use crate::lines::{LineError, LineReader};
use crate::sources::Normalizer;

/// Largest whole-document input (pretty-printed JSON, CloudTrail files) read into memory.
pub const MAX_DOCUMENT_BYTES: u64 = 1 << 30;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{file}: {source}")]
    Io { file: String, source: io::Error },
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: u64,
        message: String,
    },
    #[error("{file}: {message}")]
    Document { file: String, message: String },
}

/// One event ready to be sealed: its exact line bytes and the source kind its content shows.
pub struct InputEvent<'a> {
    pub bytes: Cow<'a, [u8]>,
    /// What [`crate::sources::detect`] makes of the event.
    pub kind: SourceKind,
    /// Line in the input file where the event starts (1-based).
    pub line: u64,
}

/// Calls `f` for every event of the input file, in order. `f` returning `Ok(false)` stops early.
pub fn for_each_event(
    path: &Path,
    mut f: impl FnMut(InputEvent<'_>) -> Result<bool, InputError>,
) -> Result<(), InputError> {
    read_lines(path, true, &Detected, |e| {
        f(InputEvent {
            bytes: e.bytes,
            kind: e.out,
            line: e.line,
        })
    })
}

/// One event ready to be sealed, with only what sealing needs of its content: its time.
pub struct TimedEvent<'a> {
    pub bytes: Cow<'a, [u8]>,
    /// The event's time under the archive's rules: what `Normalizer::normalize(..).ts` gives.
    pub ts: Option<i64>,
    /// Line in the input file where the event starts (1-based).
    pub line: u64,
}

/// Like [`for_each_event`] (the same events, the same errors), without building each event's value: JSON
/// Lines lines are checked by serde_json and only their time keys are kept, which is several times faster.
pub fn for_each_timed_event(
    path: &Path,
    normalizer: &Normalizer,
    mut f: impl FnMut(TimedEvent<'_>) -> Result<bool, InputError>,
) -> Result<(), InputError> {
    read_lines(path, true, &EventTime(normalizer), |e| {
        f(TimedEvent {
            bytes: e.bytes,
            ts: e.out,
            line: e.line,
        })
    })
}

/// What is made of each event besides its bytes.
trait Parse {
    type Out;
    /// One JSON Lines line; `Err(message)` when it is not exactly one JSON object.
    fn line(&self, bytes: &[u8]) -> Result<Self::Out, String>;
    /// An event already parsed (a document's record, or a first line, parsed whole to recognise documents).
    fn value(&self, value: &Json<'_>) -> Self::Out;
}

const NOT_OBJECT: &str = "not a JSON object (each line must hold one event object)";

/// The source kind the event's content shows. The line is read into a [`Json`] (a third of a `Value`'s memory),
/// with the error a `Value` gives.
struct Detected;

impl Parse for Detected {
    type Out = SourceKind;

    fn line(&self, bytes: &[u8]) -> Result<SourceKind, String> {
        let value = read_json(bytes).map_err(|e| format!("invalid JSON: {e}"))?;
        if value.is_object() {
            Ok(crate::sources::detect(&value))
        } else {
            Err(NOT_OBJECT.into())
        }
    }

    fn value(&self, value: &Json<'_>) -> SourceKind {
        crate::sources::detect(value)
    }
}

/// The event's time under an archive's rules; the line is checked by the same parser, with the same errors.
struct EventTime<'n>(&'n Normalizer);

impl Parse for EventTime<'_> {
    type Out = Option<i64>;

    fn line(&self, bytes: &[u8]) -> Result<Option<i64>, String> {
        match self.0.object_time_from_bytes(bytes) {
            Ok(Some(ts)) => Ok(ts),
            Ok(None) => Err(NOT_OBJECT.into()),
            Err(e) => Err(format!("invalid JSON: {e}")),
        }
    }

    fn value(&self, value: &Json<'_>) -> Option<i64> {
        self.0.event_time(value)
    }
}

/// An event with what the [`Parse`] made of it.
struct Parsed<'a, T> {
    bytes: Cow<'a, [u8]>,
    out: T,
    line: u64,
}

fn read_lines<P: Parse>(
    path: &Path,
    detect_document: bool,
    parser: &P,
    mut f: impl FnMut(Parsed<'_, P::Out>) -> Result<bool, InputError>,
) -> Result<(), InputError> {
    let file_name = path.display().to_string();
    let io_err = |source: io::Error| InputError::Io {
        file: file_name.clone(),
        source,
    };
    let mut reader = open_maybe_gzip(path).map_err(io_err)?;
    strip_bom(&mut reader).map_err(io_err)?;

    let mut lines = LineReader::new(reader, MAX_EVENT_BYTES);
    let mut first = detect_document;
    loop {
        let line = match lines.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => return Ok(()),
            // A first line longer than any event can be, that opens a `{"Records": [` document or an array, is
            // a one-line document (a busy hour's CloudTrail file): read it whole, as a pretty-printed one is.
            Err(LineError::TooLong { .. })
                if first && opens_a_document(path).map_err(io_err)? =>
            {
                drop(lines);
                return read_document(path, &file_name, parser, f);
            }
            Err(LineError::TooLong { line, limit }) => {
                return Err(InputError::Invalid {
                    file: file_name,
                    line,
                    message: format!("line is longer than {limit} bytes"),
                });
            }
            Err(LineError::Io(e)) => return Err(io_err(e)),
        };
        let number = line.number;
        let bytes = trim_blanks(line.bytes.strip_suffix(b"\r").unwrap_or(line.bytes));
        if bytes.is_empty() {
            continue;
        }
        if !first {
            let out = parser.line(bytes).map_err(|message| InputError::Invalid {
                file: file_name.clone(),
                line: number,
                message,
            })?;
            if !f(Parsed {
                bytes: Cow::Borrowed(bytes),
                out,
                line: number,
            })? {
                return Ok(());
            }
            continue;
        }
        // The first line is parsed whole: it tells a JSON document from JSON Lines.
        let parsed = read_json(bytes);
        first = false;
        // A first line that is not a whole JSON value means a pretty-printed document: read it whole.
        let whole_doc = match &parsed {
            Err(e) => e.is_eof(),
            // A one-line CloudTrail file is a document too, unless more lines follow.
            Ok(value) => value.member("Records").and_then(Node::items).is_some(),
        };
        if whole_doc {
            let mut rest_is_blank = true;
            if parsed.is_ok() {
                // Look for a second non-blank line; if there is one, treat the file as JSON Lines.
                let owned = bytes.to_vec();
                while let Some(next) = lines.next_line().map_err(|e| line_err(&file_name, e))? {
                    if !next.bytes.iter().all(|b| b.is_ascii_whitespace()) {
                        rest_is_blank = false;
                        break;
                    }
                }
                if rest_is_blank {
                    return each_document_record(&file_name, &owned, number, parser, f);
                }
                // More lines follow: JSON Lines whose first event happens to hold "Records"; keep lines as is.
                drop(lines);
                return read_lines(path, false, parser, f);
            }
            drop(lines);
            return read_document(path, &file_name, parser, f);
        }
        let value = parsed.map_err(|e| InputError::Invalid {
            file: file_name.clone(),
            line: number,
            message: format!("invalid JSON: {e}"),
        })?;
        if !value.is_object() {
            return Err(InputError::Invalid {
                file: file_name,
                line: number,
                message: NOT_OBJECT.into(),
            });
        }
        if !f(Parsed {
            bytes: Cow::Borrowed(bytes),
            out: parser.value(&value),
            line: number,
        })? {
            return Ok(());
        }
    }
}

/// Whether the input starts, after white space, with `[` or with `{` and the key `"Records"`.
fn opens_a_document(path: &Path) -> io::Result<bool> {
    let mut reader = open_maybe_gzip(path)?;
    strip_bom(&mut reader)?;
    let mut head = Vec::with_capacity(256);
    reader.take(256).read_to_end(&mut head)?;
    let head = head.trim_ascii_start();
    Ok(match head.split_first() {
        Some((b'[', _)) => true,
        Some((b'{', rest)) => rest.trim_ascii_start().starts_with(b"\"Records\""),
        _ => false,
    })
}

/// Removes spaces and tabs around a line's JSON object (they are not part of the event).
fn trim_blanks(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

fn line_err(file: &str, e: LineError) -> InputError {
    match e {
        LineError::TooLong { line, limit } => InputError::Invalid {
            file: file.into(),
            line,
            message: format!("line is longer than {limit} bytes"),
        },
        LineError::Io(source) => InputError::Io {
            file: file.into(),
            source,
        },
    }
}

/// Reads a document too long to be one line whole, in two passes over the file, holding one record at a time
/// (the document may be a gigabyte; its records are not): the first checks that it is one JSON value and finds its
/// shape and the size of each record, the second hands each record over as [`each_document_record`] would.
fn read_document<P: Parse>(
    path: &Path,
    file_name: &str,
    parser: &P,
    mut f: impl FnMut(Parsed<'_, P::Out>) -> Result<bool, InputError>,
) -> Result<(), InputError> {
    let io_err = |source: io::Error| InputError::Io {
        file: file_name.into(),
        source,
    };
    let too_large = || InputError::Document {
        file: file_name.into(),
        message: format!(
            "a single JSON document larger than {MAX_DOCUMENT_BYTES} bytes; use JSON Lines"
        ),
    };
    let invalid = |e: serde_json::Error| InputError::Invalid {
        file: file_name.into(),
        line: 1 + e.line().saturating_sub(1) as u64,
        message: format!("invalid JSON (column {}): {e}", e.column()),
    };
    let open = || -> Result<CountingReader, InputError> {
        let mut reader = open_maybe_gzip(path).map_err(io_err)?;
        strip_bom(&mut reader).map_err(io_err)?;
        Ok(CountingReader {
            inner: reader.take(MAX_DOCUMENT_BYTES + 1),
            buf: vec![0; 64 << 10].into_boxed_slice(),
            at: 0,
            len: 0,
            read: std::rc::Rc::new(std::cell::Cell::new(0)),
            scan: Scan::default(),
        })
    };
    let scanned = |reader: &CountingReader| {
        reader
            .scan
            .fault
            .clone()
            .map(|message| InputError::Document {
                file: file_name.into(),
                message,
            })
    };
    // Pass 1: syntax, shape, and each record's length as written.
    let mut first = open()?;
    let read = first.read.clone();
    let mut de = serde_json::Deserializer::from_reader(&mut first);
    let shape = serde::de::DeserializeSeed::deserialize(ShapeSeed { read: &read }, &mut de)
        .and_then(|shape| de.end().map(|()| shape));
    drop(de);
    if read.get() > MAX_DOCUMENT_BYTES {
        return Err(too_large());
    }
    let whole = first.scan.finish();
    if let Some(e) = scanned(&first) {
        return Err(e);
    }
    let shape = shape.map_err(invalid)?;
    match shape {
        Shape::Other => Err(InputError::Document {
            file: file_name.into(),
            message:
                "expected a JSON object, an array of objects or a {\"Records\": [...]} document"
                    .into(),
        }),
        Shape::Object => {
            // One object: one event, whose bytes are read whole (it may be no longer than an event once minified).
            let mut text = Vec::new();
            open()?
                .take(MAX_RECORD_TEXT_BYTES + 1)
                .read_to_end(&mut text)
                .map_err(io_err)?;
            if text.len() as u64 > MAX_RECORD_TEXT_BYTES {
                return Err(InputError::Invalid {
                    file: file_name.into(),
                    line: 1,
                    message: format!("event is longer than {MAX_EVENT_BYTES} bytes"),
                });
            }
            each_document_record(file_name, &text, 1, parser, f)
        }
        Shape::Records { longest, at } | Shape::Array { longest, at }
            if longest > MAX_RECORD_TEXT_BYTES =>
        {
            Err(InputError::Document {
                file: file_name.into(),
                message: format!("record {at} is longer than {MAX_EVENT_BYTES} bytes"),
            })
        }
        Shape::Records { .. } | Shape::Array { .. } => {
            // Pass 2: each record in turn.
            let mut stopped: Option<InputError> = None;
            let mut halted = false;
            let mut index = 0usize;
            let mut each = |record: &serde_json::value::RawValue| -> bool {
                index += 1;
                match document_record(file_name, record, index, false, 1, parser) {
                    Ok(parsed) => match f(parsed) {
                        Ok(true) => true,
                        Ok(false) => {
                            halted = true;
                            false
                        }
                        Err(e) => {
                            stopped = Some(e);
                            false
                        }
                    },
                    Err(e) => {
                        stopped = Some(e);
                        false
                    }
                }
            };
            let mut second = open()?;
            let mut de = serde_json::Deserializer::from_reader(&mut second);
            let records = matches!(shape, Shape::Records { .. });
            let done = serde::de::DeserializeSeed::deserialize(
                EachRecord {
                    records,
                    each: &mut each,
                },
                &mut de,
            );
            drop(de);
            if let Some(e) = scanned(&second) {
                return Err(e);
            }
            match (stopped, done) {
                (Some(e), _) => Err(e),
                // Stopped early by `f`: the rest is not read (the parser, left mid-document, may have complained).
                _ if halted => Ok(()),
                (None, Ok(_)) => {
                    // Every byte again, to the end: the records handed over came from the document the first pass
                    // checked, or the file changed in between.
                    io::copy(&mut second, &mut io::sink()).map_err(io_err)?;
                    if second.scan.finish() != whole {
                        return Err(InputError::Document {
                            file: file_name.into(),
                            message: "the file changed while it was being read; read it again"
                                .into(),
                        });
                    }
                    Ok(())
                }
                (None, Err(e)) => Err(invalid(e)),
            }
        }
    }
}

/// Longest text of one record of a document (white space included) that is read: four times an event's
/// limit, as a pretty-printed record may be mostly white space.
const MAX_RECORD_TEXT_BYTES: u64 = 4 * MAX_EVENT_BYTES as u64;

/// A buffered reader that counts the bytes read through it (the JSON parser's position, to a byte it may have
/// peeked), and [`Scan`]s them. serde_json reads a reader a byte at a time: each is served from this buffer.
struct CountingReader {
    inner: io::Take<Box<dyn BufRead>>,
    buf: Box<[u8]>,
    at: usize,
    len: usize,
    read: std::rc::Rc<std::cell::Cell<u64>>,
    scan: Scan,
}

/// Brackets open at once beyond which a long document is refused: serde_json skips what it does not keep with a
/// byte per open bracket, so memory would grow with the nesting (as deep as SQLite's JSON functions read).
const MAX_DOCUMENT_DEPTH: usize = 1000;

/// What is checked of every byte of a long document as it is read, beyond what serde_json checks of the parts it
/// skips: UTF-8 throughout, the nesting, and the SHA-256 of the whole (the two passes must read the same bytes).
#[derive(Default)]
struct Scan {
    hash: sha2::Sha256,
    /// The start of a UTF-8 sequence the last chunk ended in.
    partial: Vec<u8>,
    in_string: bool,
    escaped: bool,
    depth: usize,
    fault: Option<String>,
}

impl Scan {
    fn feed(&mut self, mut chunk: &[u8]) {
        use sha2::Digest as _;
        self.hash.update(chunk);
        if self.fault.is_some() {
            return;
        }
        // A sequence cut at the end of the last chunk, completed from this one.
        while !self.partial.is_empty() && !chunk.is_empty() {
            self.partial.push(chunk[0]);
            chunk = &chunk[1..];
            match std::str::from_utf8(&self.partial) {
                Ok(_) => self.partial.clear(),
                Err(e) if e.error_len().is_none() => {}
                Err(_) => {
                    self.fault = Some("the document is not UTF-8".into());
                    return;
                }
            }
        }
        if self.partial.is_empty()
            && let Err(e) = std::str::from_utf8(chunk)
        {
            match e.error_len() {
                Some(_) => {
                    self.fault = Some("the document is not UTF-8".into());
                    return;
                }
                None => self.partial = chunk[e.valid_up_to()..].to_vec(),
            }
        }
        for &b in chunk {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'[' | b'{' => {
                    self.depth += 1;
                    if self.depth > MAX_DOCUMENT_DEPTH {
                        self.fault = Some(format!(
                            "the document nests more than {MAX_DOCUMENT_DEPTH} brackets deep"
                        ));
                        return;
                    }
                }
                b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
        }
    }

    /// The SHA-256 of every byte fed, once the end is reached (a sequence still cut there is not UTF-8).
    fn finish(&mut self) -> [u8; 32] {
        use sha2::Digest as _;
        if !self.partial.is_empty() && self.fault.is_none() {
            self.fault = Some("the document is not UTF-8".into());
        }
        std::mem::take(&mut self.hash).finalize().into()
    }
}

impl Read for CountingReader {
    #[inline]
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.at == self.len {
            self.len = self.inner.read(&mut self.buf)?;
            self.at = 0;
            self.scan.feed(&self.buf[..self.len]);
            if let Some(fault) = &self.scan.fault {
                return Err(io::Error::new(io::ErrorKind::InvalidData, fault.clone()));
            }
        }
        let n = out.len().min(self.len - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

/// What a document is, as [`each_document_record`] reads it, with the length of its longest record as written
/// (and that record's number, from 1).
enum Shape {
    Array { longest: u64, at: usize },
    Records { longest: u64, at: usize },
    Object,
    Other,
}

/// The visitor methods of every JSON scalar (and `null`), each giving `value`: what a document's shape does not
/// look into.
macro_rules! scalars_are {
    ($value:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

struct ShapeSeed<'r> {
    read: &'r std::rc::Rc<std::cell::Cell<u64>>,
}

impl<'de> serde::de::DeserializeSeed<'de> for ShapeSeed<'_> {
    type Value = Shape;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Shape, D::Error> {
        d.deserialize_any(self)
    }
}

/// The records of a sequence: how long the longest is, and which.
struct Lengths<'r> {
    read: &'r std::rc::Rc<std::cell::Cell<u64>>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Lengths<'_> {
    type Value = Option<(u64, usize)>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Lengths<'_> {
    type Value = Option<(u64, usize)>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (mut longest, mut at, mut n) = (0u64, 0usize, 0usize);
        let mut before = self.read.get();
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
            n += 1;
            let now = self.read.get();
            if now - before > longest {
                (longest, at) = (now - before, n);
            }
            before = now;
        }
        Ok(Some((longest, at)))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(None)
    }
    scalars_are!(None);
}

impl<'de> serde::de::Visitor<'de> for ShapeSeed<'_> {
    type Value = Shape;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON document")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Shape, A::Error> {
        let lengths = Lengths { read: self.read };
        let (longest, at) = serde::de::Visitor::visit_seq(lengths, seq)?.unwrap_or_default();
        Ok(Shape::Array { longest, at })
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        // As `Option<Vec<_>>` under the name `Records` reads it: one `Records` member holding an array (or
        // null) makes the records; none, another value, or the name twice make the object one event.
        let (mut records, mut names) = (None, 0);
        let mut not_records = false;
        while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if name == "Records" {
                names += 1;
                match map.next_value_seed(Lengths { read: self.read })? {
                    Some(found) => records = Some(found),
                    None => not_records = true,
                }
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(match records {
            Some((longest, at)) if names == 1 && !not_records => Shape::Records { longest, at },
            _ => Shape::Object,
        })
    }
    scalars_are!(Shape::Other);
}

/// Hands each record of an array document (or of a `{"Records": [...]}` one, `records`) to `each`, one at a
/// time; `Ok(false)` when `each` stopped it.
struct EachRecord<'e, F> {
    records: bool,
    each: &'e mut F,
}

impl<'de, F: FnMut(&serde_json::value::RawValue) -> bool> serde::de::DeserializeSeed<'de>
    for EachRecord<'_, F>
{
    type Value = bool;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: FnMut(&serde_json::value::RawValue) -> bool> serde::de::Visitor<'de>
    for EachRecord<'_, F>
{
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of records")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while let Some(record) = seq.next_element::<Box<serde_json::value::RawValue>>()? {
            if !(self.each)(&record) {
                return Ok(false);
            }
        }
        Ok(true)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let records = self.records;
        let mut each = Some(self);
        while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match each.take() {
                Some(seed) if records && name == "Records" => {
                    if !map.next_value_seed(EachRecord {
                        records: false,
                        each: seed.each,
                    })? {
                        return Ok(false);
                    }
                }
                other => {
                    each = other;
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(true)
    }
}

/// Splits one JSON document into events: `{"Records":[...]}` -> each record; `[...]` -> each element; an object
/// -> itself. Each is minified (JSON white space outside strings removed; strings, escapes, numbers and key order
/// stay byte for byte), so any implementation of the spec produces the same line.
fn each_document_record<P: Parse>(
    file_name: &str,
    text: &[u8],
    first_line: u64,
    parser: &P,
    mut f: impl FnMut(Parsed<'_, P::Out>) -> Result<bool, InputError>,
) -> Result<(), InputError> {
    use serde_json::value::RawValue;
    let invalid = |e: serde_json::Error| InputError::Invalid {
        file: file_name.into(),
        line: first_line + e.line().saturating_sub(1) as u64,
        message: format!("invalid JSON (column {}): {e}", e.column()),
    };
    let whole: &RawValue = serde_json::from_slice(text).map_err(invalid)?;
    let raw = whole.get();
    let mut one_object = false;
    let records: Vec<&RawValue> = if raw.starts_with('[') {
        serde_json::from_str(raw).map_err(invalid)?
    } else if raw.starts_with('{') {
        #[derive(serde::Deserialize)]
        struct Envelope<'a> {
            #[serde(borrow, rename = "Records")]
            records: Option<Vec<&'a RawValue>>,
        }
        match serde_json::from_str::<Envelope<'_>>(raw) {
            Ok(Envelope {
                records: Some(records),
            }) => records,
            _ => {
                one_object = true;
                vec![whole]
            }
        }
    } else {
        return Err(InputError::Document {
            file: file_name.into(),
            message:
                "expected a JSON object, an array of objects or a {\"Records\": [...]} document"
                    .into(),
        });
    };
    for (i, record) in records.into_iter().enumerate() {
        let parsed = document_record(file_name, record, i + 1, one_object, first_line, parser)?;
        if !f(parsed)? {
            break;
        }
    }
    Ok(())
}

/// Record `number` (from 1) of a document, minified, checked (an object, no longer than an event) and parsed.
fn document_record<P: Parse>(
    file_name: &str,
    record: &serde_json::value::RawValue,
    number: usize,
    one_object: bool,
    first_line: u64,
    parser: &P,
) -> Result<Parsed<'static, P::Out>, InputError> {
    let bytes = minify(record.get().as_bytes());
    let not_object = || InputError::Document {
        file: file_name.into(),
        message: format!("record {number} is not a JSON object"),
    };
    if !bytes.starts_with(b"{") {
        return Err(not_object());
    }
    if bytes.len() > MAX_EVENT_BYTES && one_object {
        return Err(InputError::Invalid {
            file: file_name.into(),
            line: first_line,
            message: format!("event is longer than {MAX_EVENT_BYTES} bytes"),
        });
    }
    if bytes.len() > MAX_EVENT_BYTES {
        return Err(InputError::Document {
            file: file_name.into(),
            message: format!("record {number} is longer than {MAX_EVENT_BYTES} bytes"),
        });
    }
    let out = parser.value(&read_json(&bytes).map_err(|_| not_object())?);
    Ok(Parsed {
        bytes: Cow::Owned(bytes),
        out,
        line: first_line,
    })
}

/// Removes JSON white space (space, tab, LF, CR) outside strings; every other byte is kept.
pub fn minify(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for &b in json {
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            if b == b'"' {
                in_string = true;
            }
            out.push(b);
        }
    }
    out
}

fn open_maybe_gzip(path: &Path) -> io::Result<Box<dyn BufRead>> {
    let mut file = BufReader::with_capacity(1 << 20, File::open(path)?);
    let is_gzip = file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    if is_gzip {
        Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::bufread::MultiGzDecoder::new(file),
        )))
    } else {
        Ok(Box::new(file))
    }
}

fn strip_bom(reader: &mut Box<dyn BufRead>) -> io::Result<()> {
    // fill_buf may return fewer than 3 bytes even when more exist; the BOM check only needs the first 3.
    let buf = reader.fill_buf()?;
    if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
        reader.consume(3);
    }
    Ok(())
}

/// The base name of an input path, as recorded in the manifest.
pub fn base_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| PathBuf::from(path).display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn events_of(content: &[u8]) -> Result<Vec<(Vec<u8>, u64)>, InputError> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(content).unwrap();
        let mut out = Vec::new();
        for_each_event(file.path(), |e| {
            out.push((e.bytes.into_owned(), e.line));
            Ok(true)
        })?;
        Ok(out)
    }

    /// What the streaming reader of long documents gives, and what reading the same document whole gives.
    fn streamed_and_whole(doc: &[u8]) -> (String, String) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(doc).unwrap();
        let show = |r: Result<(), InputError>, out: Vec<Vec<u8>>| match r {
            Ok(()) => format!(
                "{:?}",
                out.iter()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .collect::<Vec<_>>()
            ),
            // The place of a syntax error is the same; serde_json words a few differently when it does not keep
            // the text (a trailing comma is "expected value" to one reader, "trailing comma" to the other).
            Err(e) => {
                let e = e
                    .to_string()
                    .replace(&file.path().display().to_string(), "F");
                format!("error {}", e.split("): ").next().unwrap_or(&e))
            }
        };
        let mut streamed = Vec::new();
        let r = read_document(
            file.path(),
            &file.path().display().to_string(),
            &Detected,
            |e| {
                streamed.push(e.bytes.into_owned());
                Ok(true)
            },
        );
        let streamed = show(r, streamed);
        let mut whole = Vec::new();
        let r = each_document_record(&file.path().display().to_string(), doc, 1, &Detected, |e| {
            whole.push(e.bytes.into_owned());
            Ok(true)
        });
        (streamed, show(r, whole))
    }

    #[test]
    fn a_long_document_is_streamed_into_the_events_reading_it_whole_gives() {
        let docs: &[&str] = &[
            "{\"Records\": [\n  {\"a\": 1,\n   \"b\": [1, 2.50, \"x y\"]},\n  {\"c\": {\"d\": null}}\n]}",
            "[{\"a\":1}, {\"b\":\"caf\\u00e9\"}]",
            "{\"x\": 1, \"Records\": [{\"a\":1}], \"y\": {\"Records\": 5}}",
            "{\"Records\": [{\"a\":1}], \"Records\": [{\"b\":2}]}",
            "{\"Records\": null, \"a\": 1}",
            "{\"Records\": {\"a\": 1}}",
            "{\"Records\": 5}",
            "{\"Records\": []}",
            "[]",
            "{\n  \"a\": [1, {\"b\": true}]\n}",
            "[{\"a\":1}, 2]",
            "{\"Records\": [{\"a\":1}, \"s\"]}",
            "42",
            "\"text\"",
            "{\"Records\": [{\"a\":1}, {\"b\":2}",
            "[{\"a\":1}] trailing",
            "{\"Records\": [{\"a\":1},]}",
        ];
        for doc in docs {
            let (streamed, whole) = streamed_and_whole(doc.as_bytes());
            assert_eq!(streamed, whole, "{doc}");
        }
    }

    #[test]
    fn a_streamed_document_stops_where_it_is_told_and_names_a_record_too_long() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"{\"Records\": [{\"a\":1}, {\"b\":2}, {\"c\":3}]}")
            .unwrap();
        let mut seen = Vec::new();
        read_document(file.path(), "f", &Detected, |e| {
            seen.push(e.bytes.into_owned());
            Ok(seen.len() < 2)
        })
        .unwrap();
        assert_eq!(seen, [b"{\"a\":1}".to_vec(), b"{\"b\":2}".to_vec()]);
        // A record longer than any event can be, even once its white space is removed, is refused before it is
        // held: by its number.
        let mut file = tempfile::NamedTempFile::new().unwrap();
        write!(
            file,
            "[{{\"a\":1}}, {{\"b\":\"{}\"}}]",
            "x".repeat(MAX_RECORD_TEXT_BYTES as usize)
        )
        .unwrap();
        match read_document(file.path(), "f", &Detected, |_| Ok(true)) {
            Err(InputError::Document { message, .. }) => {
                assert_eq!(
                    message,
                    format!("record 2 is longer than {MAX_EVENT_BYTES} bytes")
                )
            }
            other => panic!("{:?}", other.err()),
        }
    }

    /// Red-team findings of 2026-12-07 on the streaming reader: what serde_json skips without keeping (invalid
    /// UTF-8 in a string, nesting, in a member that is not `Records`) is checked by the reader itself, and a file
    /// that changes between the two passes is refused.
    #[test]
    fn a_streamed_document_is_utf8_throughout_not_nested_without_bound_and_the_same_in_both_passes()
    {
        let refused = |doc: &[u8]| {
            let mut file = tempfile::NamedTempFile::new().unwrap();
            file.write_all(doc).unwrap();
            match read_document(file.path(), "f", &Detected, |_| Ok(true)) {
                Err(InputError::Document { message, .. }) => message,
                other => panic!("{:?}", other.err()),
            }
        };
        let bad_utf8 = b"{\"x\": \"\xff\xfe\", \"Records\": [{\"a\": 1}]}".to_vec();
        assert_eq!(refused(&bad_utf8), "the document is not UTF-8");
        let deep = format!(
            "{{\"x\": {}{}, \"Records\": [{{\"a\": 1}}]}}",
            "[".repeat(MAX_DOCUMENT_DEPTH),
            "]".repeat(MAX_DOCUMENT_DEPTH)
        );
        assert_eq!(
            refused(deep.as_bytes()),
            format!("the document nests more than {MAX_DOCUMENT_DEPTH} brackets deep")
        );

        // Rewritten in place while its records are handed over: the rest of the second pass is not the document
        // the first pass checked.
        let record = format!("{{\"pad\":\"{}\"}}", "x".repeat(1000));
        let doc = |who: &str| {
            let records = vec![record.as_str(); 500].join(",\n");
            format!("{{\"Records\": [\n{{\"who\":\"{who}\"}},\n{records}]}}")
        };
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), doc("alice")).unwrap();
        let mut n = 0;
        let r = read_document(file.path(), "f", &Detected, |_| {
            n += 1;
            if n == 1 {
                std::fs::write(file.path(), doc("mallory").replace("xxxx", "yyyy")).unwrap();
            }
            Ok(true)
        });
        match r {
            Err(InputError::Document { message, .. }) => {
                assert_eq!(
                    message,
                    "the file changed while it was being read; read it again"
                )
            }
            other => panic!("{:?}", other.err()),
        }
    }

    #[test]
    fn json_lines_are_kept_byte_for_byte_minus_bom_cr_and_blank_lines() {
        let got = events_of(b"\xEF\xBB\xBF{\"a\": 1.50}\r\n\n  \n{\"b\":[1, 2]}\n").unwrap();
        assert_eq!(
            got,
            vec![
                (b"{\"a\": 1.50}".to_vec(), 1),
                (b"{\"b\":[1, 2]}".to_vec(), 4)
            ]
        );
    }

    #[test]
    fn a_one_line_records_document_longer_than_any_event_is_read_whole() {
        // A CloudTrail file of a busy hour: one line of more than MAX_EVENT_BYTES, each record far smaller.
        let record = format!(
            "{{\"eventName\":\"GetObject\",\"pad\":\"{}\"}}",
            "x".repeat(4000)
        );
        let n = MAX_EVENT_BYTES / record.len() + 10;
        let doc = format!("{{\"Records\":[{}]}}\n", vec![record.as_str(); n].join(","));
        assert!(doc.len() > MAX_EVENT_BYTES);
        let got = events_of(doc.as_bytes()).unwrap();
        assert_eq!(got.len(), n);
        assert!(
            got.iter()
                .all(|(bytes, line)| bytes == record.as_bytes() && *line == 1)
        );
        // The same records as one JSON array on one line.
        let array = format!("[{}]", vec![record.as_str(); n].join(","));
        assert_eq!(events_of(array.as_bytes()).unwrap().len(), n);
        // JSON Lines with such a line is still refused, at that line, and so is a long first line that is not JSON.
        let long_second = format!("{{\"a\":1}}\n{doc}");
        match events_of(long_second.as_bytes()) {
            Err(InputError::Invalid {
                line: 2, message, ..
            }) => assert!(message.contains("longer than"), "{message}"),
            other => panic!("{:?}", other.map(|v| v.len())),
        }
        let junk = format!("{{\"Records\":[{}", "x".repeat(MAX_EVENT_BYTES + 1));
        assert!(matches!(
            events_of(junk.as_bytes()),
            Err(InputError::Invalid { line: 1, .. })
        ));
    }

    #[test]
    fn blanks_around_an_object_are_not_part_of_the_event() {
        let got = events_of(b"  {\"a\": 1}\t \r\n\t{\"b\":2}\n").unwrap();
        assert_eq!(
            got,
            vec![(b"{\"a\": 1}".to_vec(), 1), (b"{\"b\":2}".to_vec(), 2)]
        );
    }

    #[test]
    fn invalid_line_names_its_line_number() {
        let err = events_of(b"{\"a\":1}\n{\"a\":\n{\"c\":3}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains(":2: invalid JSON"), "{err}");
        let err = events_of(b"{\"a\":1}\n[1,2]\n").unwrap_err().to_string();
        assert!(err.contains(":2: not a JSON object"), "{err}");
    }

    #[test]
    fn cloudtrail_records_become_compact_lines_keeping_order_and_numbers() {
        let doc = b"{\"Records\": [\n {\"z\": 1.0, \"a\": \"x\\u00e9\"},\n {\"eventTime\": \"2020-01-01T00:00:00Z\", \"n\": 1e2}\n]}\n";
        let got = events_of(doc).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0, b"{\"z\":1.0,\"a\":\"x\\u00e9\"}".to_vec());
        assert_eq!(
            got[1].0,
            b"{\"eventTime\":\"2020-01-01T00:00:00Z\",\"n\":1e2}".to_vec()
        );
    }

    #[test]
    fn minify_keeps_strings_escapes_and_numbers() {
        assert_eq!(
            minify(b" { \"a b\" : [ 1e2 , -0.50 ] , \"q\\\" x\" : \"\\\\\" } \n"),
            b"{\"a b\":[1e2,-0.50],\"q\\\" x\":\"\\\\\"}".to_vec()
        );
    }

    #[test]
    fn one_line_cloudtrail_file_is_expanded() {
        let got = events_of(b"{\"Records\":[{\"a\":1},{\"b\":2}]}").unwrap();
        assert_eq!(
            got.iter().map(|g| g.0.clone()).collect::<Vec<_>>(),
            vec![b"{\"a\":1}".to_vec(), b"{\"b\":2}".to_vec()]
        );
    }

    #[test]
    fn pretty_printed_object_is_one_event() {
        let got = events_of(b"{\n  \"kind\": \"Event\",\n  \"n\": 10\n}\n").unwrap();
        assert_eq!(got, vec![(b"{\"kind\":\"Event\",\"n\":10}".to_vec(), 1)]);
    }

    #[test]
    fn gzip_input_is_decompressed() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"{\"a\":1}\n{\"b\":2}\n").unwrap();
        let got = events_of(&gz.finish().unwrap()).unwrap();
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn broken_document_names_the_line() {
        let err = events_of(b"{\n \"Records\": [\n {\"a\": 1},,\n]}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains(":3:"), "{err}");
    }

    #[test]
    fn invalid_utf8_is_an_error_with_line() {
        let err = events_of(b"{\"a\":\"\xff\"}\n").unwrap_err().to_string();
        assert!(err.contains(":1:"), "{err}");
    }
}
