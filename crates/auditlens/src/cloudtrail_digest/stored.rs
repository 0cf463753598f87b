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
    use serde_json::value::RawValue;
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow, rename = "Records")]
        records: Vec<&'a RawValue>,
    }
    if nesting(content) > MAX_LOG_NESTING {
        return Err(format!(
            "nested deeper than {MAX_LOG_NESTING} levels of arrays and objects"
        ));
    }
    let envelope: Envelope<'_> = serde_json::from_slice(content)
        .map_err(|e| format!("not a CloudTrail {{\"Records\": [...]}} document: {e}"))?;
    let mut out = Vec::with_capacity(envelope.records.len());
    for (i, r) in envelope.records.iter().enumerate() {
        let bytes = crate::input::minify(r.get().as_bytes());
        if !bytes.starts_with(b"{") {
            return Err(format!("record {i} is not a JSON object"));
        }
        if bytes.len() > max_event {
            return Err(format!("record {i} is longer than {max_event} bytes"));
        }
        out.push(bytes);
    }
    Ok(out)
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
}
