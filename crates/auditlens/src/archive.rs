//! The signed audit archive container (docs/archive-format.md): entry names, the manifest, the checkpoint's
//! extension lines, and opening a ZIP with every structural rule of the format checked before any entry is read.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::checkpoint::Checkpoint;
use crate::merkle::Hash;

pub const FORMAT_NAME: &str = "auditlens-archive";
pub const FORMAT_VERSION: u64 = 1;
pub const MANIFEST: &str = "manifest.json";
pub const CHECKPOINT: &str = "checkpoint";
pub const LEAVES: &str = "leaves";
/// The mapping file of a `mapping` archive (docs/archive-format.md section 2).
pub const MAPPING: &str = "mapping.toml";
pub const MAX_MAPPING_BYTES: u64 = 1 << 20;
pub const EVENTS_DIR: &str = "events/";
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
pub const MAX_CHECKPOINT_BYTES: u64 = 64 << 10;
/// Longest event line accepted anywhere (sealing, verifying, importing), newline excluded.
pub const MAX_EVENT_BYTES: usize = 16 << 20;

/// Name of the `n`-th (1-based) events entry.
pub fn events_entry_name(n: usize) -> String {
    format!("{EVENTS_DIR}{n:06}.jsonl")
}

/// The manifest, exactly the members of docs/archive-format.md section 4.
/// The index member of an evidence bundle (docs/evidence-bundle.md): a ZIP holding it is a bundle, not an
/// archive.
pub const BUNDLE_INDEX: &str = "bundle.json";

/// One step of the archive hash chain (docs/archive-format.md): `SHA-256(0x02 ‖ previous ‖ leaf)`.
pub fn chain_step(prev: &Hash, leaf: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x02]);
    h.update(prev);
    h.update(leaf);
    h.finalize().into()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub version: u64,
    pub origin: String,
    pub sequence: u64,
    pub source_kind: String,
    /// Base64 SHA-256 of the `mapping.toml` entry; present exactly when `source_kind` is `mapping`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping_sha256: Option<String>,
    pub signer: String,
    pub created: String,
    pub events: u64,
    pub time_range: Option<TimeRange>,
    pub entries: Vec<ManifestEntry>,
    pub tool: String,
    /// Present exactly when the archive was sealed on receipt (`auditlens receive`): by the auditor who received
    /// files nobody signed, not by their producer (docs/archive-format.md section 4.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received: Option<Receipt>,
}

/// What an archive sealed on receipt records of the files received: when, and each file as it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// When the files were read and sealed (RFC 3339 UTC).
    pub at: String,
    /// Every input file, in the order given, including those that held no event.
    pub files: Vec<ReceivedFile>,
}

/// One received file: its name, and the SHA-256 (lowercase hex, as `sha256sum` prints it) and size of its
/// bytes exactly as received (compressed, when it arrived compressed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct ReceivedFile {
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
    /// The `events/` entry holding its events; `null` for a file that held none.
    pub entry: Option<String>,
}

impl Receipt {
    /// The rules of docs/archive-format.md section 4.1: a valid time, a well-formed hash per file, and exactly the
    /// archive's events entries, in order, each under the file name its entry records.
    pub fn check(&self, entries: &[ManifestEntry]) -> Result<(), String> {
        if crate::time::parse_rfc3339(&self.at).is_none() {
            return Err(format!("at {:?} is not an RFC 3339 time", self.at));
        }
        if let Some(f) = self.files.iter().find(|f| {
            f.sha256.len() != 64
                || !f
                    .sha256
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        }) {
            return Err(format!(
                "file {:?}: sha256 {:?} is not 64 lowercase hex digits",
                f.name, f.sha256
            ));
        }
        let named: Vec<(&str, &str)> = self
            .files
            .iter()
            .filter_map(|f| Some((f.entry.as_deref()?, f.name.as_str())))
            .collect();
        let expected: Vec<(&str, &str)> = entries
            .iter()
            .map(|e| (e.name.as_str(), e.source.as_str()))
            .collect();
        if named != expected {
            return Err(format!(
                "files {named:?} differ from the events entries and their sources {expected:?}"
            ));
        }
        Ok(())
    }

    /// The honest label of evidence sealed on receipt, for every place that shows it (docs/archive-format.md
    /// section 4.1).
    pub fn label(&self, signer_name: &str, fingerprint: &str) -> String {
        receipt_label(signer_name, fingerprint, &self.at)
    }
}

/// What sealing on receipt proves, and what it does not, in the words every door shows.
pub const RECEIPT_MEANING: &str = "proves no change since receipt, not authenticity at the source";

/// `sealed on receipt by NAME (FINGERPRINT) at TIME: proves no change since receipt, not authenticity at the
/// source`.
pub fn receipt_label(signer_name: &str, fingerprint: &str, at: &str) -> String {
    format!("sealed on receipt by {signer_name} ({fingerprint}) at {at}: {RECEIPT_MEANING}")
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    pub first: String,
    pub last: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    pub name: String,
    pub events: u64,
    pub bytes: u64,
    pub source: String,
}

/// What the checkpoint's four AuditLens extension lines say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainLines {
    pub sequence: u64,
    pub chain_start: Hash,
    pub chain_end: Hash,
    pub manifest_sha256: Hash,
}

const EXT_SEQUENCE: &str = "auditlens-sequence ";
const EXT_CHAIN_START: &str = "auditlens-chain-start ";
const EXT_CHAIN_END: &str = "auditlens-chain-end ";
const EXT_MANIFEST: &str = "auditlens-manifest-sha256 ";

impl ChainLines {
    pub fn to_extensions(&self) -> Vec<String> {
        vec![
            format!("{EXT_SEQUENCE}{}", self.sequence),
            format!("{EXT_CHAIN_START}{}", B64.encode(self.chain_start)),
            format!("{EXT_CHAIN_END}{}", B64.encode(self.chain_end)),
            format!("{EXT_MANIFEST}{}", B64.encode(self.manifest_sha256)),
        ]
    }

    /// Reads the extension lines of a checkpoint: exactly these four, in this order.
    pub fn from_checkpoint(cp: &Checkpoint) -> Result<ChainLines, ArchiveError> {
        let bad = |msg: String| ArchiveError::Checkpoint(msg);
        if cp.extensions.len() != 4 {
            return Err(bad(format!(
                "expected 4 extension lines, found {}",
                cp.extensions.len()
            )));
        }
        let value = |i: usize, prefix: &str| -> Result<&str, ArchiveError> {
            cp.extensions[i].strip_prefix(prefix).ok_or_else(|| {
                bad(format!(
                    "extension line {} must start with {:?}",
                    i + 1,
                    prefix.trim_end()
                ))
            })
        };
        let seq_text = value(0, EXT_SEQUENCE)?;
        let sequence =
            parse_decimal(seq_text).ok_or_else(|| bad(format!("bad sequence {seq_text:?}")))?;
        Ok(ChainLines {
            sequence,
            chain_start: decode_hash(value(1, EXT_CHAIN_START)?)
                .map_err(|e| bad(format!("chain-start: {e}")))?,
            chain_end: decode_hash(value(2, EXT_CHAIN_END)?)
                .map_err(|e| bad(format!("chain-end: {e}")))?,
            manifest_sha256: decode_hash(value(3, EXT_MANIFEST)?)
                .map_err(|e| bad(format!("manifest-sha256: {e}")))?,
        })
    }
}

/// Decimal without sign or leading zeros ("0" alone is allowed).
pub fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// Padded standard base64 of exactly 32 bytes.
pub fn decode_hash(s: &str) -> Result<Hash, String> {
    if s.len() != 44 {
        return Err(format!("expected 44 base64 characters, found {}", s.len()));
    }
    let bytes = B64.decode(s).map_err(|e| format!("invalid base64: {e}"))?;
    let hash: Hash = bytes
        .as_slice()
        .try_into()
        .map_err(|_| "not 32 bytes".to_string())?;
    if B64.encode(hash) != s {
        return Err("non-canonical base64".into());
    }
    Ok(hash)
}

pub fn encode_hash(h: &Hash) -> String {
    B64.encode(h)
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("not a readable ZIP archive: {0}")]
    Zip(String),
    #[error("entry {name:?} is not allowed in an archive ({why})")]
    BadEntryName { name: String, why: &'static str },
    #[error("entry {0:?} appears more than once")]
    DuplicateEntry(String),
    #[error("missing entry {0:?}")]
    MissingEntry(String),
    #[error("entry {name:?}: {why}")]
    BadEntry { name: String, why: String },
    #[error("manifest.json: {0}")]
    Manifest(String),
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    #[error("reading entry {name:?}: {source}")]
    Read { name: String, source: io::Error },
}

/// An archive opened for reading, its container structure already checked.
pub struct ArchiveFile {
    zip: zip::ZipArchive<File>,
    /// Names of the `events/` entries in numbering order.
    pub event_entries: Vec<String>,
    /// Whether the archive holds a `mapping.toml` entry.
    pub has_mapping: bool,
}

impl ArchiveFile {
    /// Opens `path` and checks section 2 of the format: only allowed names, no duplicates, allowed compression,
    /// no encryption, no overlapping entries. I/O errors opening the file are returned as `Err(io)`; everything
    /// about the content is an `ArchiveError`.
    pub fn open(path: &Path) -> io::Result<Result<ArchiveFile, ArchiveError>> {
        let file = File::open(path)?;
        Ok(Self::from_file(file))
    }

    fn from_file(file: File) -> Result<ArchiveFile, ArchiveError> {
        let mut headers = file
            .try_clone()
            .map_err(|e| ArchiveError::Zip(e.to_string()))?;
        let mut zip = zip::ZipArchive::new(file).map_err(|e| ArchiveError::Zip(e.to_string()))?;
        if zip.has_duplicate_names() {
            // The reader's map holds each name once: the name is found in the central directory's own records.
            let name = duplicate_name(&mut headers, zip.central_directory_start()).map_or_else(
                || "?".into(),
                |raw| String::from_utf8_lossy(&raw).into_owned(),
            );
            return Err(ArchiveError::DuplicateEntry(name));
        }
        let mut numbered = Vec::new();
        let (mut has_manifest, mut has_checkpoint, mut has_leaves) = (false, false, false);
        let mut has_mapping = false;
        for i in 0..zip.len() {
            let entry = zip
                .by_index_raw(i)
                .map_err(|e| ArchiveError::Zip(e.to_string()))?;
            let name = std::str::from_utf8(entry.name_raw())
                .map_err(|_| ArchiveError::BadEntryName {
                    name: String::from_utf8_lossy(entry.name_raw()).into_owned(),
                    why: "name is not UTF-8",
                })?
                .to_string();
            check_name(&name)?;
            if entry.encrypted() {
                return Err(ArchiveError::BadEntry {
                    name,
                    why: "encrypted entries are not allowed".into(),
                });
            }
            let method = match entry.compression() {
                zip::CompressionMethod::Stored => 0,
                zip::CompressionMethod::Deflated => 8,
                other => {
                    return Err(ArchiveError::BadEntry {
                        name,
                        why: format!("compression method {other} is not allowed"),
                    });
                }
            };
            check_local_header(&mut headers, entry.header_start(), entry.name_raw(), method)
                .map_err(|why| ArchiveError::BadEntry {
                    name: name.clone(),
                    why,
                })?;
            match name.as_str() {
                MANIFEST => has_manifest = true,
                CHECKPOINT => has_checkpoint = true,
                LEAVES => has_leaves = true,
                MAPPING => has_mapping = true,
                _ => {
                    let n = name
                        .strip_prefix(EVENTS_DIR)
                        .and_then(|rest| rest.strip_suffix(".jsonl"))
                        .filter(|num| num.len() == 6)
                        .and_then(parse_decimal_with_zeros)
                        .ok_or(ArchiveError::BadEntryName {
                            name: name.clone(),
                            why: if name == BUNDLE_INDEX {
                                "this is an evidence bundle, not an archive: check it with \
                                 `auditlens verify-bundle`, or open it in the app under Received bundle"
                            } else {
                                "not an entry of the format"
                            },
                        })?;
                    numbered.push((n, name));
                }
            }
        }
        drop_has(has_manifest, MANIFEST)?;
        drop_has(has_checkpoint, CHECKPOINT)?;
        drop_has(has_leaves, LEAVES)?;
        numbered.sort();
        if numbered.is_empty() {
            return Err(ArchiveError::MissingEntry(events_entry_name(1)));
        }
        for (i, (n, _)) in numbered.iter().enumerate() {
            if *n != i as u64 + 1 {
                return Err(ArchiveError::MissingEntry(events_entry_name(i + 1)));
            }
        }
        if zip
            .has_overlapping_entries()
            .map_err(|e| ArchiveError::Zip(e.to_string()))?
        {
            return Err(ArchiveError::Zip("entries overlap each other".into()));
        }
        Ok(ArchiveFile {
            zip,
            event_entries: numbered.into_iter().map(|(_, n)| n).collect(),
            has_mapping,
        })
    }

    /// Reads a small entry whole, refusing more than `limit` bytes.
    pub fn read_small(&mut self, name: &str, limit: u64) -> Result<Vec<u8>, ArchiveError> {
        let entry = self
            .zip
            .by_name(name)
            .map_err(|e| ArchiveError::Zip(e.to_string()))?;
        if entry.size() > limit {
            return Err(ArchiveError::BadEntry {
                name: name.into(),
                why: format!("larger than {limit} bytes"),
            });
        }
        let mut out = Vec::new();
        entry
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|source| ArchiveError::Read {
                name: name.into(),
                source,
            })?;
        if out.len() as u64 > limit {
            return Err(ArchiveError::BadEntry {
                name: name.into(),
                why: format!("larger than {limit} bytes"),
            });
        }
        Ok(out)
    }

    /// A streaming reader over an entry's uncompressed bytes, cut one byte past `expected` so a mis-declared
    /// entry cannot make us read more than that. Also returns the size the ZIP declares.
    pub fn stream(
        &mut self,
        name: &str,
        expected: u64,
    ) -> Result<(u64, impl Read + '_), ArchiveError> {
        let entry = self
            .zip
            .by_name(name)
            .map_err(|e| ArchiveError::Zip(e.to_string()))?;
        let declared = entry.size();
        Ok((declared, entry.take(expected.saturating_add(1))))
    }
}

/// The first name given twice in the central directory that starts at `start` of `file` (its records read one
/// after the other, each name kept once: no more than the directory's own size), if one is.
pub(crate) fn duplicate_name(file: &mut File, start: u64) -> Option<Vec<u8>> {
    use std::io::{BufReader, Read, Seek, SeekFrom};
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut reader = BufReader::new(file);
    let mut seen = BTreeSet::new();
    let mut header = [0u8; 46];
    loop {
        reader.read_exact(&mut header).ok()?;
        if header[..4] != [0x50, 0x4b, 0x01, 0x02] {
            return None;
        }
        let len = |at: usize| u64::from(u16::from_le_bytes([header[at], header[at + 1]]));
        let (name_len, skip) = (len(28), len(30) + len(32));
        let mut name = Vec::new();
        (&mut reader).take(name_len).read_to_end(&mut name).ok()?;
        if !seen.insert(name.clone()) {
            return Some(name);
        }
        std::io::copy(&mut (&mut reader).take(skip), &mut std::io::sink()).ok()?;
    }
}

/// The local file header must agree with the central directory (name, method, no encryption), so that a reader
/// which walks local headers sees the same archive as one that reads the central directory.
fn check_local_header(
    file: &mut File,
    offset: u64,
    name: &[u8],
    method: u16,
) -> Result<(), String> {
    use std::io::{Seek, SeekFrom};
    let mut fixed = [0u8; 30];
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| e.to_string())?;
    file.read_exact(&mut fixed)
        .map_err(|_| "local header is cut short".to_string())?;
    let u16_at = |i: usize| u16::from_le_bytes([fixed[i], fixed[i + 1]]);
    if fixed[..4] != [0x50, 0x4b, 0x03, 0x04] {
        return Err("no local header where the central directory points".into());
    }
    if u16_at(6) & 0x41 != 0 {
        return Err("local header marks the entry encrypted".into());
    }
    if u16_at(8) != method {
        return Err(
            "local header's compression method differs from the central directory's".into(),
        );
    }
    let mut local_name = vec![0u8; usize::from(u16_at(26))];
    file.read_exact(&mut local_name)
        .map_err(|_| "local header is cut short".to_string())?;
    if local_name != name {
        return Err(format!(
            "local header names it {:?}",
            String::from_utf8_lossy(&local_name)
        ));
    }
    Ok(())
}

fn parse_decimal_with_zeros(s: &str) -> Option<u64> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

fn drop_has(present: bool, name: &str) -> Result<(), ArchiveError> {
    if present {
        Ok(())
    } else {
        Err(ArchiveError::MissingEntry(name.into()))
    }
}

/// The name rules of section 2 (before the allow-list is applied, so the error says what is wrong).
fn check_name(name: &str) -> Result<(), ArchiveError> {
    let why = if name.contains('\0') {
        Some("contains NUL")
    } else if name.contains('\\') {
        Some("contains a backslash")
    } else if name.starts_with('/') {
        Some("absolute path")
    } else if name.split('/').any(|part| part == "..") {
        Some("contains '..'")
    } else if name.len() >= 2 && name.as_bytes()[1] == b':' {
        Some("drive letter")
    } else if name.ends_with('/') {
        Some("directory entry")
    } else {
        None
    };
    match why {
        Some(why) => Err(ArchiveError::BadEntryName {
            name: name.into(),
            why,
        }),
        None => Ok(()),
    }
}

/// SHA-256 over a file's bytes, streamed: the floor for anything that must hash every byte.
pub fn sha256_file(path: &std::path::Path) -> std::io::Result<[u8; 32]> {
    sha256_reader(&mut std::fs::File::open(path)?).map(|(hash, _)| hash)
}

/// SHA-256 of everything `r` yields, and how many bytes that was.
pub fn sha256_reader(r: &mut impl Read) -> std::io::Result<([u8; 32], u64)> {
    let mut buf = vec![0u8; 1 << 20];
    let mut h = <sha2::Sha256 as sha2::Digest>::new();
    let mut len = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok((sha2::Digest::finalize(h).into(), len));
        }
        sha2::Digest::update(&mut h, &buf[..n]);
        len += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_reject_leading_zeros_and_signs() {
        assert_eq!(parse_decimal("0"), Some(0));
        assert_eq!(parse_decimal("12"), Some(12));
        assert_eq!(parse_decimal("012"), None);
        assert_eq!(parse_decimal("+1"), None);
        assert_eq!(parse_decimal(""), None);
        assert_eq!(parse_decimal("99999999999999999999999"), None);
    }

    #[test]
    fn hashes_must_be_canonical_padded_base64_of_32_bytes() {
        let h = [7u8; 32];
        let s = encode_hash(&h);
        assert_eq!(decode_hash(&s), Ok(h));
        assert!(decode_hash(&s[..43]).is_err());
        let mut noncanon = s.clone().into_bytes();
        // Change the last significant character so the unused low bits are set.
        noncanon[42] = if noncanon[42] == b'c' { b'd' } else { b'c' };
        assert!(decode_hash(std::str::from_utf8(&noncanon).unwrap()).is_err());
    }

    #[test]
    fn entry_names_that_escape_or_hide_are_rejected() {
        for bad in [
            "../x",
            "events/../manifest.json",
            "/etc/passwd",
            "events\\1.jsonl",
            "C:x",
            "events/",
            "a\0b",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(check_name("events/000001.jsonl").is_ok());
    }
}
