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

impl Manifest {
    /// The time a trust window is checked at (docs/trust-policy.md): the manifest's `created`, but never before the
    /// archive's newest event, since an archive is sealed after its events. `created` is the signer's own word: a
    /// key past the end of its window could otherwise sign new events by writing a `created` inside it. `None`
    /// when `created` is not an RFC 3339 time.
    pub fn trust_time(&self) -> Option<i64> {
        trust_time(&self.created, self.time_range.as_ref())
    }
}

/// [`Manifest::trust_time`] from a manifest's `created` and `time_range`.
pub fn trust_time(created: &str, time_range: Option<&TimeRange>) -> Option<i64> {
    let created = crate::time::parse_rfc3339(created)?;
    let newest = time_range.and_then(|r| crate::time::parse_rfc3339(&r.last));
    Some(newest.map_or(created, |n| n.max(created)))
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
            match entry.compression() {
                zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated => {}
                other => {
                    return Err(ArchiveError::BadEntry {
                        name,
                        why: format!("compression method {other} is not allowed"),
                    });
                }
            }
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
        if let Some((why, fault)) = zip_layout_problem(&mut headers, &mut zip) {
            let name = fault.entry.and_then(|i| {
                zip.name_for_index(i)
                    .and_then(|n| n.ok())
                    .map(|n| n.into_owned())
            });
            return Err(match name {
                Some(name) => ArchiveError::BadEntry { name, why },
                None => ArchiveError::Zip(why),
            });
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

/// What a fault [`zip_layout_problem`] found concerns: an entry, or the file as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LayoutFault {
    /// The central directory's index of the entry at fault, if one is.
    pub entry: Option<usize>,
}

/// The ZIP's bytes are exactly its entries, one after another from its first byte, then its central directory,
/// then its end records, ending at the file's last byte, and each entry's local header agrees with its central
/// directory record (name, method, no encryption, no data descriptor): nothing before, between or after them that
/// another ZIP reader could take for an entry (one that walks the local headers, as a streaming reader does) or
/// for the archive itself (one that takes the last end record of the file, as `unzip` and Python's `zipfile`
/// do, where the zip crate may fall back to an earlier one). `None` when it is so; else what is not, and the
/// entry at fault when one is.
pub(crate) fn zip_layout_problem<R: Read + io::Seek>(
    file: &mut File,
    zip: &mut zip::ZipArchive<R>,
) -> Option<(String, LayoutFault)> {
    use std::io::{Seek, SeekFrom};
    let whole = |why: String| Some((why, LayoutFault { entry: None }));
    let file_len = match file.metadata() {
        Ok(m) => m.len(),
        Err(e) => return whole(e.to_string()),
    };
    let mut read_at = |at: u64, buf: &mut [u8]| -> bool {
        file.seek(SeekFrom::Start(at)).is_ok() && file.read_exact(buf).is_ok()
    };
    let u16_at = |b: &[u8], i: usize| u64::from(u16::from_le_bytes([b[i], b[i + 1]]));
    // The entries, in file order.
    let mut spans = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let Ok(entry) = zip.by_index_raw(i) else {
            return whole("an entry cannot be read".into());
        };
        let at_entry = |why: String| Some((why, LayoutFault { entry: Some(i) }));
        let (header, size, name) = (
            entry.header_start(),
            entry.compressed_size(),
            entry.name_raw().to_vec(),
        );
        let method = match entry.compression() {
            zip::CompressionMethod::Stored => 0,
            zip::CompressionMethod::Deflated => 8,
            _ => u64::MAX,
        };
        drop(entry);
        let mut fixed = [0u8; 30];
        if !read_at(header, &mut fixed) || fixed[..4] != [0x50, 0x4b, 0x03, 0x04] {
            return at_entry("no local header where the central directory points".into());
        }
        let flags = u16_at(&fixed, 6);
        if flags & 0x41 != 0 {
            return at_entry("local header marks the entry encrypted".into());
        }
        if flags & 0x08 != 0 {
            return at_entry("a data descriptor follows the entry's data (not allowed)".into());
        }
        if u16_at(&fixed, 8) != method {
            return at_entry(
                "local header's compression method differs from the central directory's".into(),
            );
        }
        let (name_len, extra_len) = (u16_at(&fixed, 26), u16_at(&fixed, 28));
        let mut local_name = vec![0u8; name_len as usize];
        if !read_at(header + 30, &mut local_name) {
            return at_entry("local header is cut short".into());
        }
        if local_name != name {
            return at_entry(format!(
                "local header names it {:?}",
                String::from_utf8_lossy(&local_name)
            ));
        }
        let Some(end) = (header + 30 + name_len + extra_len).checked_add(size) else {
            return at_entry("entry ends past any file".into());
        };
        spans.push((header, end, i));
    }
    spans.sort_unstable();
    let cd_start = zip.central_directory_start();
    let mut at = 0u64;
    for &(start, end, i) in &spans {
        if start != at {
            let why = if start > at {
                format!("{} bytes at offset {at} belong to no entry", start - at)
            } else {
                "entries overlap each other".into()
            };
            return Some((why, LayoutFault { entry: Some(i) }));
        }
        at = end;
    }
    if at != cd_start {
        return whole(if at < cd_start {
            format!(
                "{} bytes at offset {at}, before the central directory, belong to no entry",
                cd_start - at
            )
        } else {
            "an entry runs into the central directory".into()
        });
    }
    // The central directory: one record per entry.
    let mut cd_end = cd_start;
    for _ in 0..zip.len() {
        let mut record = [0u8; 46];
        if !read_at(cd_end, &mut record) || record[..4] != [0x50, 0x4b, 0x01, 0x02] {
            return whole("the central directory holds fewer records than entries".into());
        }
        cd_end += 46 + u16_at(&record, 28) + u16_at(&record, 30) + u16_at(&record, 32);
    }
    // Its end records: a ZIP64 end record and its locator, or none; then the end record, and its comment.
    let mut sig = [0u8; 12];
    if !read_at(cd_end, &mut sig) {
        return whole("no end record after the central directory".into());
    }
    let mut eocd = cd_end;
    if sig[..4] == [0x50, 0x4b, 0x06, 0x06] {
        let size = u64::from_le_bytes(sig[4..12].try_into().unwrap_or_default());
        let Some(locator) = cd_end.checked_add(12).and_then(|a| a.checked_add(size)) else {
            return whole("the ZIP64 end record's size is out of range".into());
        };
        let mut loc = [0u8; 20];
        if !read_at(locator, &mut loc) || loc[..4] != [0x50, 0x4b, 0x06, 0x07] {
            return whole("no ZIP64 end record locator after the ZIP64 end record".into());
        }
        eocd = locator + 20;
    }
    let mut end = [0u8; 22];
    if !read_at(eocd, &mut end) || end[..4] != [0x50, 0x4b, 0x05, 0x06] {
        return whole("the end record does not follow the central directory".into());
    }
    let ends_at = eocd + 22 + u16_at(&end, 20);
    if ends_at != file_len {
        return whole(if ends_at < file_len {
            format!(
                "{} bytes follow the end record (a second archive appended, or data no reader should see)",
                file_len - ends_at
            )
        } else {
            "the end record's comment runs past the end of the file".into()
        });
    }
    None
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
