//! Reading source log files into event lines for sealing (docs/archive-format.md section 3, "How producers make
//! lines"): gzip or plain; JSON Lines kept byte for byte; CloudTrail `{"Records":[...]}` documents, JSON arrays and
//! pretty-printed single objects re-serialised compactly with key order and number text preserved.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

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

/// One event ready to be sealed: its exact line bytes and the parsed value (for kind detection and time).
pub struct InputEvent<'a> {
    pub bytes: Cow<'a, [u8]>,
    pub value: Value,
    /// Line in the input file where the event starts (1-based).
    pub line: u64,
}

/// Calls `f` for every event of the input file, in order. `f` returning `Ok(false)` stops early.
pub fn for_each_event(
    path: &Path,
    mut f: impl FnMut(InputEvent<'_>) -> Result<bool, InputError>,
) -> Result<(), InputError> {
    read_lines(path, true, &WholeValue, |e| {
        f(InputEvent {
            bytes: e.bytes,
            value: e.out,
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

/// Like [`for_each_event`] (the same events, the same errors), without building each event's `Value`: JSON
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
    fn value(&self, value: Value) -> Self::Out;
}

const NOT_OBJECT: &str = "not a JSON object (each line must hold one event object)";

/// The whole parsed value.
struct WholeValue;

impl Parse for WholeValue {
    type Out = Value;

    fn line(&self, bytes: &[u8]) -> Result<Value, String> {
        let value =
            serde_json::from_slice::<Value>(bytes).map_err(|e| format!("invalid JSON: {e}"))?;
        if value.is_object() {
            Ok(value)
        } else {
            Err(NOT_OBJECT.into())
        }
    }

    fn value(&self, value: Value) -> Value {
        value
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

    fn value(&self, value: Value) -> Option<i64> {
        self.0.event_time(&value)
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
        let parsed = serde_json::from_slice::<Value>(bytes);
        first = false;
        // A first line that is not a whole JSON value means a pretty-printed document: read it whole.
        let whole_doc = match &parsed {
            Err(e) => e.is_eof(),
            // A one-line CloudTrail file is a document too, unless more lines follow.
            Ok(Value::Object(map)) => map.get("Records").is_some_and(Value::is_array),
            Ok(_) => false,
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
            out: parser.value(value),
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

fn read_document<P: Parse>(
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
        .take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(io_err)?;
    if text.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(InputError::Document {
            file: file_name.into(),
            message: format!(
                "a single JSON document larger than {MAX_DOCUMENT_BYTES} bytes; use JSON Lines"
            ),
        });
    }
    each_document_record(file_name, &text, 1, parser, f)
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
        let bytes = minify(record.get().as_bytes());
        let not_object = || InputError::Document {
            file: file_name.into(),
            message: format!("record {} is not a JSON object", i + 1),
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
                message: format!("record {} is longer than {MAX_EVENT_BYTES} bytes", i + 1),
            });
        }
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| not_object())?;
        if !f(Parsed {
            bytes: Cow::Owned(bytes),
            out: parser.value(value),
            line: first_line,
        })? {
            break;
        }
    }
    Ok(())
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
