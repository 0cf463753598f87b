//! Reading the events of a verified CloudTrail log file, as an importer stores them and `check` re-reads them:
//! the file is inflated again (every gzip member) and its SHA-256 compared with the `hashValue` its signed
//! digest lists, so the events come from exactly the bytes that verified; then each element of its `Records`
//! array is one event, minified as `seal` minifies records (docs/archive-format.md section 3).

use sha2::{Digest as _, Sha256};

use super::gzip::{Gunzip, gunzip_all};
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

/// The largest number of arrays and objects open at once in JSON text `bytes` (brackets inside strings do not
/// count).
fn nesting(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    crate::json::for_each_byte_outside_strings(bytes, |b| match b {
        b'[' | b'{' => {
            depth += 1;
            deepest = deepest.max(depth);
        }
        b']' | b'}' => depth = depth.saturating_sub(1),
        _ => {}
    });
    deepest
}

/// The records of a CloudTrail log file's content (`{"Records":[...]}`), each minified; each must be a JSON
/// object of at most `max_event` bytes.
pub(crate) fn log_records(content: &[u8], max_event: usize) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for_each_log_record(content, max_event, |r| out.push(r.to_vec()))?;
    Ok(out)
}

/// The leaf hashes of [`log_records`], without holding the records: what a check of a log file needs.
pub(crate) fn log_leaves(
    content: &[u8],
    max_event: usize,
) -> Result<Vec<crate::merkle::Hash>, String> {
    let mut out = Vec::new();
    for_each_log_record(content, max_event, |r| {
        out.push(crate::merkle::leaf_hash(r))
    })?;
    Ok(out)
}

/// Calls `f` with each record of [`log_records`] in turn (minified), reading the document once without a list
/// of its records; returns how many there are. Errors as [`log_records`] words them: the document's syntax
/// first, then the first record that is not an object or too long (`f` may have been called before either).
pub(crate) fn for_each_log_record(
    content: &[u8],
    max_event: usize,
    mut f: impl FnMut(&[u8]),
) -> Result<u64, String> {
    if nesting(content) > MAX_LOG_NESTING {
        return Err(format!(
            "nested deeper than {MAX_LOG_NESTING} levels of arrays and objects"
        ));
    }
    let mut walk = Walk {
        f: &mut f,
        max_event,
        count: 0,
        refused: None,
        minified: Vec::new(),
    };
    let mut de = serde_json::Deserializer::from_slice(content);
    serde::Deserializer::deserialize_map(&mut de, Envelope(&mut walk))
        .and_then(|()| de.end())
        .map_err(|e| format!("not a CloudTrail {{\"Records\": [...]}} document: {e}"))?;
    match walk.refused {
        Some(why) => Err(why),
        None => Ok(walk.count),
    }
}

struct Walk<'f> {
    f: &'f mut dyn FnMut(&[u8]),
    max_event: usize,
    count: u64,
    /// The first record refused; later ones are read for the syntax only.
    refused: Option<String>,
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
        } else {
            (self.f)(&self.minified);
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
        while let Some(r) = seq.next_element::<&'de serde_json::value::RawValue>()? {
            self.0.record(r.get().as_bytes());
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

    /// The records read one at a time are what reading the whole document into a list gives (the reading this
    /// replaced), errors included: the document's syntax first, then the first record refused.
    #[test]
    fn records_read_one_at_a_time_are_those_of_the_whole_document() {
        use serde_json::value::RawValue;
        #[derive(serde::Deserialize)]
        struct Whole<'a> {
            #[serde(borrow, rename = "Records")]
            records: Vec<&'a RawValue>,
        }
        let whole = |doc: &str, max: usize| -> Result<Vec<Vec<u8>>, String> {
            let w: Whole<'_> = serde_json::from_str(doc)
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
            let mut seen = Vec::new();
            let walked = for_each_log_record(doc.as_bytes(), 12, |r| seen.push(r.to_vec()));
            match (whole(doc, 12), walked) {
                (Ok(w), Ok(n)) => {
                    assert_eq!(w, seen, "{doc}");
                    assert_eq!(n, w.len() as u64, "{doc}");
                    let leaves: Vec<_> = w.iter().map(|r| crate::merkle::leaf_hash(r)).collect();
                    assert_eq!(log_leaves(doc.as_bytes(), 12).unwrap(), leaves, "{doc}");
                }
                (Err(w), Err(e)) => assert_eq!(w, e, "{doc}"),
                (w, e) => panic!("{doc}: whole {w:?}, one at a time {e:?}"),
            }
        }
        // A list is no `{"Records": [...]}` document (a derived struct also read `[[{...}]]` as its members in
        // order; neither AWS nor verify_bundle.py writes or reads one so).
        for doc in ["[]", r#"[[{"a":1}]]"#] {
            let e = for_each_log_record(doc.as_bytes(), 12, |_| {}).unwrap_err();
            assert!(e.contains("invalid type: sequence"), "{doc}: {e}");
        }
    }
}
