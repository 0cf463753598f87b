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
///
/// [`split_document`] does it at the speed of a scan of the bytes; a document it has any doubt about (one that
/// is not valid JSON, among others) is read by [`read_document_serde`], whose reading it gives in every other
/// case.
fn read_document<P: Parse>(
    path: &Path,
    file_name: &str,
    parser: &P,
    mut f: impl FnMut(Parsed<'_, P::Out>) -> Result<bool, InputError>,
) -> Result<(), InputError> {
    match split_document(path, file_name, parser, &mut f) {
        Some(done) => done,
        None => read_document_serde(path, file_name, parser, f),
    }
}

/// [`read_document`] by serde_json reading the file as a stream, a byte at a time (3.6 times slower than reading
/// the document whole, and than [`split_document`]; docs/benchmarks.md): for the documents the split reading
/// leaves to it, whose errors it words.
fn read_document_serde<P: Parse>(
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
        Shape::Object => one_object_document(path, file_name, parser, f),
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
                match document_record(file_name, record.get().as_bytes(), index, false, 1, parser) {
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

/// A long document that is one object: one event, whose bytes are read whole (it may be no longer than an event
/// once minified).
fn one_object_document<P: Parse>(
    path: &Path,
    file_name: &str,
    parser: &P,
    f: impl FnMut(Parsed<'_, P::Out>) -> Result<bool, InputError>,
) -> Result<(), InputError> {
    let io_err = |source: io::Error| InputError::Io {
        file: file_name.into(),
        source,
    };
    let mut reader = open_maybe_gzip(path).map_err(io_err)?;
    strip_bom(&mut reader).map_err(io_err)?;
    let mut text = Vec::new();
    reader
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

/// [`read_document`] at the speed of a scan of the bytes, or `None` (before anything is handed to `f`) for a
/// document [`read_document_serde`] is left to read: one that is not valid JSON (whose error it words), whose
/// shape is not an array or object, nests 100 brackets or more, has a record of half
/// [`MAX_RECORD_TEXT_BYTES`] or more or more than 16 MiB outside its records, or names a top-level member with
/// an escape.
///
/// Pass 1 splits the document into its records ([`Splitter`]) and checks each with serde_json, whole, and the
/// rest of the document with a `0` in place of each record (the document is one JSON value exactly when each of
/// them is); the shape is read from that rest as [`read_document_serde`] reads it from the document. Pass 2
/// splits the file again and hands each record over, and the file must be the same bytes (SHA-256) to its end.
fn split_document<P: Parse>(
    path: &Path,
    file_name: &str,
    parser: &P,
    f: &mut impl FnMut(Parsed<'_, P::Out>) -> Result<bool, InputError>,
) -> Option<Result<(), InputError>> {
    const REST_BYTES: usize = 16 << 20;
    const RECORD_BYTES: usize = (MAX_RECORD_TEXT_BYTES / 2) as usize;
    let open = || -> Option<io::Take<Box<dyn BufRead>>> {
        let mut reader = open_maybe_gzip(path).ok()?;
        strip_bom(&mut reader).ok()?;
        Some(reader.take(MAX_DOCUMENT_BYTES + 1))
    };
    let mut buf = vec![0u8; 256 << 10];
    // Pass 1.
    let (mut scan, mut split) = (Scan::default(), Splitter::default());
    let (mut rest, mut record) = (Vec::new(), Vec::new());
    let (mut sound, mut total, mut records) = (true, 0u64, 0usize);
    let mut reader = open()?;
    loop {
        let n = read_some(&mut reader, &mut buf).ok()?;
        if n == 0 {
            break;
        }
        total += n as u64;
        let chunk = &buf[..n];
        scan.feed_text(chunk);
        split.feed(chunk, &mut |piece| match piece {
            Piece::Outside(b) => rest.extend_from_slice(b),
            Piece::Record(b) => {
                sound &= record.len() + b.len() < RECORD_BYTES;
                if sound {
                    record.extend_from_slice(b);
                }
            }
            Piece::End => {
                sound &= serde_json::from_slice::<serde::de::IgnoredAny>(&record).is_ok();
                records += 1;
                rest.push(b'0');
                record.clear();
            }
        });
        if !sound || split.doubt || scan.fault.is_some() || rest.len() > REST_BYTES {
            return None;
        }
    }
    let whole = scan.finish();
    if scan.fault.is_some() || split.unfinished() || total > MAX_DOCUMENT_BYTES {
        return None;
    }
    let unread = std::rc::Rc::new(std::cell::Cell::new(0));
    let mut de = serde_json::Deserializer::from_slice(&rest);
    let shape = serde::de::DeserializeSeed::deserialize(ShapeSeed { read: &unread }, &mut de)
        .and_then(|shape| de.end().map(|()| shape))
        .ok()?;
    drop((rest, record));
    match shape {
        Shape::Other => return None,
        Shape::Object => return Some(one_object_document(path, file_name, parser, f)),
        Shape::Records { .. } | Shape::Array { .. } => {}
    }
    // Pass 2.
    let changed = || InputError::Document {
        file: file_name.into(),
        message: "the file changed while it was being read; read it again".into(),
    };
    let io_err = |source: io::Error| InputError::Io {
        file: file_name.into(),
        source,
    };
    let (mut scan, mut split) = (Scan::default(), Splitter::default());
    let mut record = Vec::new();
    let mut index = 0usize;
    // What stops the hand-over: `f`'s `false` (`Ok`), or an error.
    let mut stop: Option<Result<(), InputError>> = None;
    let mut reader = match open() {
        Some(reader) => reader,
        None => return Some(Err(changed())),
    };
    loop {
        let n = match read_some(&mut reader, &mut buf) {
            Ok(n) => n,
            Err(e) => return Some(Err(io_err(e))),
        };
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        scan.feed_text(chunk);
        split.feed(chunk, &mut |piece| {
            if stop.is_some() {
                return;
            }
            match piece {
                Piece::Outside(_) => {}
                Piece::Record(b) if record.len() + b.len() < RECORD_BYTES => {
                    record.extend_from_slice(b)
                }
                Piece::Record(_) => stop = Some(Err(changed())),
                Piece::End => {
                    index += 1;
                    let handed = document_record(file_name, &record, index, false, 1, parser)
                        .and_then(&mut *f);
                    record.clear();
                    match handed {
                        Ok(true) => {}
                        Ok(false) => stop = Some(Ok(())),
                        Err(e) => stop = Some(Err(e)),
                    }
                }
            }
        });
        if let Some(done) = stop {
            return Some(done);
        }
        if split.doubt || scan.fault.is_some() {
            return Some(Err(changed()));
        }
    }
    if scan.finish() != whole || scan.fault.is_some() || index != records {
        return Some(Err(changed()));
    }
    Some(Ok(()))
}

/// `read`, again while it is interrupted.
fn read_some(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// What [`Splitter::feed`] finds in a document's bytes, in their order: bytes outside any record, bytes of the
/// record being read, and the end of that record.
enum Piece<'a> {
    Outside(&'a [u8]),
    Record(&'a [u8]),
    End,
}

/// Finds the records of a long document as its bytes come, a chunk at a time: the values of an array that is
/// the document, or of the array a top-level `Records` member holds (each of them, should there be two: the
/// shape then says the document is one object). It follows strings, escapes and brackets only; whether the bytes
/// are JSON is for serde_json to say, of each record and of the rest ([`split_document`]).
#[derive(Default)]
struct Splitter {
    /// The first byte that is not white space was read: `[` makes an array document.
    started: bool,
    array: bool,
    in_string: bool,
    escaped: bool,
    /// Brackets open.
    depth: usize,
    /// The string being read is the name of a top-level member (of an object document).
    naming: bool,
    /// Its bytes (enough of them to tell `Records`).
    name: Vec<u8>,
    /// A top-level name is read next (after the object's `{` or a `,`).
    expect_name: bool,
    /// The last top-level name was `Records`, and its value has not begun.
    records_named: bool,
    /// Inside the array a `Records` member holds.
    in_records: bool,
    in_record: bool,
    /// Something [`split_document`] leaves to serde_json: nesting of 100 or more, an escape in a top-level name.
    doubt: bool,
}

impl Splitter {
    /// Depth at which the records lie, when the bytes read are in their array.
    fn record_depth(&self) -> Option<usize> {
        if self.array {
            Some(1)
        } else if self.in_records {
            Some(2)
        } else {
            None
        }
    }

    /// Whether the bytes stopped inside a string, a bracket or a record.
    fn unfinished(&self) -> bool {
        self.in_string || self.depth != 0 || self.in_record || !self.started
    }

    fn feed(&mut self, chunk: &[u8], out: &mut impl FnMut(Piece<'_>)) {
        let mut from = 0;
        let mut i = 0;
        while i < chunk.len() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    i += 1;
                    continue;
                }
                let Some(k) = memchr::memchr2(b'"', b'\\', &chunk[i..]) else {
                    self.name_part(&chunk[i..]);
                    break;
                };
                self.name_part(&chunk[i..i + k]);
                i += k;
                if chunk[i] == b'\\' {
                    self.escaped = true;
                    self.doubt |= self.naming;
                } else {
                    self.in_string = false;
                    if self.naming {
                        self.naming = false;
                        self.records_named = self.name == b"Records";
                    }
                }
                i += 1;
                continue;
            }
            let b = chunk[i];
            if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                i += 1;
                continue;
            }
            let at_records = self.record_depth() == Some(self.depth);
            // A value at the records' depth that is not a separator or the array's end starts a record.
            if at_records && !self.in_record && !matches!(b, b',' | b']' | b'}') {
                out(Piece::Outside(&chunk[from..i]));
                from = i;
                self.in_record = true;
            }
            // A separator or the array's end at the records' depth ends one.
            if at_records && self.in_record && matches!(b, b',' | b']' | b'}') {
                out(Piece::Record(&chunk[from..i]));
                out(Piece::End);
                from = i;
                self.in_record = false;
            }
            match b {
                b'"' => {
                    self.in_string = true;
                    self.records_named = false;
                    self.naming = !self.array && self.depth == 1 && self.expect_name;
                    self.name.clear();
                }
                b'[' | b'{' => {
                    if !self.started {
                        self.started = true;
                        self.array = b == b'[';
                    }
                    if self.records_named && self.depth == 1 && b == b'[' {
                        self.in_records = true;
                    }
                    self.records_named = false;
                    self.depth += 1;
                    self.doubt |= self.depth >= 100;
                    if self.depth == 1 {
                        self.expect_name = b == b'{';
                    }
                }
                b']' | b'}' => {
                    match self.depth.checked_sub(1) {
                        Some(d) => self.depth = d,
                        None => self.doubt = true,
                    }
                    if self.depth == 1 {
                        self.in_records = false;
                    }
                    self.records_named = false;
                }
                b',' => {
                    if self.depth == 1 {
                        self.expect_name = true;
                        self.records_named = false;
                    }
                }
                b':' => {
                    if self.depth == 1 {
                        self.expect_name = false;
                    }
                }
                _ => {
                    self.started = true;
                    self.records_named = false;
                }
            }
            i += 1;
        }
        if from < chunk.len() {
            let rest = &chunk[from..];
            out(match self.in_record {
                true => Piece::Record(rest),
                false => Piece::Outside(rest),
            });
        }
    }

    /// Part of a string's bytes: kept when it is a top-level name (enough of it to tell `Records`).
    fn name_part(&mut self, bytes: &[u8]) {
        if self.naming && self.name.len() <= 8 {
            self.name
                .extend_from_slice(&bytes[..bytes.len().min(9 - self.name.len())]);
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
    /// The hash and UTF-8 of a chunk, and its strings and brackets.
    fn feed(&mut self, chunk: &[u8]) {
        self.feed_text(chunk);
        if self.fault.is_some() {
            return;
        }
        self.feed_brackets(chunk);
    }

    /// The hash and UTF-8 of a chunk only ([`split_document`] follows the brackets itself, to fewer levels).
    fn feed_text(&mut self, mut chunk: &[u8]) {
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
                Some(_) => self.fault = Some("the document is not UTF-8".into()),
                None => self.partial = chunk[e.valid_up_to()..].to_vec(),
            }
        }
    }

    fn feed_brackets(&mut self, chunk: &[u8]) {
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
        let parsed = document_record(
            file_name,
            record.get().as_bytes(),
            i + 1,
            one_object,
            first_line,
            parser,
        )?;
        if !f(parsed)? {
            break;
        }
    }
    Ok(())
}

/// Record `number` (from 1) of a document, minified, checked (an object, no longer than an event) and parsed.
fn document_record<P: Parse>(
    file_name: &str,
    record: &[u8],
    number: usize,
    one_object: bool,
    first_line: u64,
    parser: &P,
) -> Result<Parsed<'static, P::Out>, InputError> {
    let bytes = minify(record);
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
    minify_into(json, &mut out);
    out
}

/// [`minify`], appending to `out`.
pub fn minify_into(json: &[u8], out: &mut Vec<u8>) {
    crate::json::for_each_byte(json, |b, in_string| {
        if in_string || !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            out.push(b);
        }
    });
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
    use proptest::prelude::*;
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

    /// The events a reader handed over, as text.
    fn events_shown(events: &[Vec<u8>]) -> String {
        let texts: Vec<_> = events.iter().map(|b| String::from_utf8_lossy(b)).collect();
        format!("{texts:?}")
    }

    /// What the streaming reader of long documents gives, and what reading the same document whole gives.
    fn streamed_and_whole(doc: &[u8]) -> (String, String) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(doc).unwrap();
        let show = |r: Result<(), InputError>, out: Vec<Vec<u8>>| match r {
            Ok(()) => events_shown(&out),
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

    /// What [`split_document`] and [`read_document_serde`] make of a document: each event's bytes, or the error
    /// word for word; `None` for the first when it leaves the document to the second.
    fn split_and_serde(doc: &[u8]) -> (Option<String>, String) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(doc).unwrap();
        let show = |r: Result<(), InputError>, out: Vec<Vec<u8>>| match r {
            Ok(()) => events_shown(&out),
            Err(e) => format!("error {e}"),
        };
        let mut split = Vec::new();
        let r = split_document(file.path(), "f", &Detected, &mut |e| {
            split.push(e.bytes.into_owned());
            Ok(true)
        });
        let split = r.map(|r| show(r, split));
        let mut serde = Vec::new();
        let r = read_document_serde(file.path(), "f", &Detected, |e| {
            serde.push(e.bytes.into_owned());
            Ok(true)
        });
        (split, show(r, serde))
    }

    #[test]
    fn a_long_document_is_split_into_the_records_serde_json_reads() {
        let deep = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        let split_here: &[String] = &[
            "{\"Records\": [\n  {\"a\": 1,\n   \"b\": [1, 2.50, \"x y\"]},\n  {\"c\": {\"d\": null}}\n]}".into(),
            "[{\"a\":1}, {\"b\":\"caf\\u00e9 \\\" ] } , \\\\\"}]".into(),
            "{\"x\": [1, {\"Records\": [2]}], \"Records\": [{\"a\":1}], \"y\": {\"Records\": 5}}".into(),
            "{\"Records\": [{\"a\":1}], \"Records\": [{\"b\":2}]}".into(),
            "{\"Records\": null, \"a\": 1}".into(),
            "{\"Records\": {\"a\": [1]}}".into(),
            "{\"Records\": \"[1]\", \"x\": [2]}".into(),
            "{\"Records\": []}".into(),
            "[]".into(),
            " \t\r\n[ {\"a\":1} \n,\n{\"b\":2}\t] \n".into(),
            "{\"Records\": [{\"a\":1}, \"s\", 2, null]}".into(),
            "[{\"a\":1}, 2]".into(),
            "{\"Recordsx\": [{\"a\":1}], \"Record\": [2]}".into(),
            "{\"Recordsx\": [{\"x\":1}], \"Records\": [{\"a\":1}], \"Record\": [{\"y\":2}]}".into(),
            format!("[{{\"a\":{}}}]", deep(90)),
            // A lone surrogate: read by both, then refused as the record's event.
            "{\"Records\": [{\"a\":1}, {\"a\":\"\\ud800\"}]}".into(),
        ];
        for doc in split_here {
            let (split, serde) = split_and_serde(doc.as_bytes());
            assert_eq!(split.as_ref(), Some(&serde), "{doc}");
        }
        // Left to serde_json: not JSON, another shape, an escaped top-level name, deep nesting.
        let left: &[String] = &[
            "{\"Records\": [{\"a\":1}, {\"b\":2}".into(),
            "[{\"a\":1}] trailing".into(),
            "{\"Records\": [{\"a\":1},]}".into(),
            "[{\"a\":1} {\"b\":2}]".into(),
            "[{\"a\":1]}".into(),
            "{\"Records\": [{\"a\":1}}".into(),
            "[,]".into(),
            "42".into(),
            "\"text\"".into(),
            "".into(),
            "{\"Recor\\u0064s\": [{\"a\":1}]}".into(),
            format!("[{{\"a\":{}}}]", deep(126)),
            format!("{{\"Records\": [{{\"a\":{}}}]}}", deep(126)),
        ];
        for doc in left {
            let (split, serde) = split_and_serde(doc.as_bytes());
            assert_eq!(split, None, "{doc}: {serde}");
        }
    }

    fn any_record() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i32>().prop_map(serde_json::Value::from),
            "[a-c ,\\]\\[{}:\"\\\\é]{0,5}".prop_map(serde_json::Value::String),
        ];
        let value = leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                prop::collection::vec(("[a-cR]{0,7}", inner), 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        });
        prop_oneof![
            4 => prop::collection::vec(("[a-cR]{0,7}", value.clone()), 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            1 => value,
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Documents of any records, in any of the shapes, pretty or not, whole or with one byte taken out, put
        /// in or changed: wherever the split reading reads one, it gives what serde_json gives, word for word.
        #[test]
        fn any_document_split_reads_as_serde_json_reads_it(
            records in prop::collection::vec(any_record(), 0..6),
            shape in 0..4u8,
            pretty in any::<bool>(),
            edit in prop::option::weighted(0.5, (any::<prop::sample::Index>(), 0..3u8, prop::sample::select(b"{}[],:\"\\ 0Rx".to_vec()))),
        ) {
            let list = serde_json::Value::Array(records.clone());
            let doc = match shape {
                0 => list,
                1 => serde_json::json!({"Records": list}),
                2 => serde_json::json!({"a": [1, {"Records": 2}], "Records": list, "z": "Records"}),
                _ => serde_json::json!({"Record": [{"c": 1}], "Records": list, "b": {"Records": [{"d": 3}]}, "Recordsx": [{"e": 4}]}),
            };
            let mut raw = if pretty { serde_json::to_vec_pretty(&doc) } else { serde_json::to_vec(&doc) }.unwrap();
            if let Some((at, how, byte)) = edit {
                let i = at.index(raw.len());
                match how {
                    0 => { raw.remove(i); }
                    1 => raw.insert(i, byte),
                    _ => raw[i] = byte,
                }
            }
            let (split, serde) = split_and_serde(&raw);
            if let Some(split) = &split {
                prop_assert_eq!(split, &serde, "{}", String::from_utf8_lossy(&raw));
            } else {
                // Every valid document of these shapes is split.
                prop_assert!(edit.is_some(), "{}", String::from_utf8_lossy(&raw));
            }
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
