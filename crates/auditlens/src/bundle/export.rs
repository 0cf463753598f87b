//! `auditlens export`: the store's events to an evidence bundle (docs/evidence-bundle.md).
//!
//! The selection (a query, paged through [`Store::search`] exactly as `auditlens search` pages it, or a list of
//! event ids) is resolved inside one read transaction, so every later read sees the same store. Nothing is
//! written unless every selected event belongs to an archive stored as `verified` and the store still matches
//! that archive's signed checkpoint: the checkpoint signature by the archive's signer, the manifest hash, the
//! root over the stored leaves (one streaming pass per archive, ordered by index: [`merkle::inclusion_proofs_and_root`])
//! and each event's leaf hash recomputed from its bytes. The bundle is written to a temporary file next to the
//! output and moved into place at the end, never over an existing file.
//!
//! One file (about 830 lines of code): the export is one pass, selection, the checks against each signed
//! checkpoint, proofs and the writing of the bundle, and its steps share the open read transaction; splitting it
//! would pass that state between files without making any step clearer.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::report::ReportBuilder;
use super::{
    BundleIndex, BundleManifest, INDEX, IndexArchive, KeyInfo, ManifestLine, ProofLine, Selection,
    archive_manifest_entry, archive_mapping_entry, checkpoint_entry,
};
use crate::archive::{ChainLines, Manifest, decode_hash, encode_hash};
use crate::checkpoint::Checkpoint;
use crate::merkle::{self, Hash};
use crate::note::{Note, SignerKey, VerifierKey};
use crate::sources::Normalizer;
use crate::store::search::{MAX_LIMIT, SearchError};
use crate::store::{Store, StoreError, event_id, parse_event_id};

/// Most bytes of event text one export writes (the reports repeat it, escaped).
pub const MAX_EXPORT_EVENT_BYTES: u64 = 128 << 20;
/// Longest purpose text accepted.
pub const MAX_PURPOSE_BYTES: usize = 64 << 10;

/// What to export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectionInput {
    /// Every event the query matches (docs/search.md), as `auditlens search` lists them.
    Query(String),
    /// These event ids (`origin@sequence#index`).
    Ids(Vec<String>),
}

pub struct ExportOptions<'a> {
    pub selection: SelectionInput,
    /// Why the auditor exports these events; recorded and signed.
    pub purpose: &'a str,
    /// The exporting auditor's key: signs the manifest.
    pub auditor: &'a SignerKey,
    pub out: &'a Path,
    /// The export time, also the "now" of `since:` query terms.
    pub now_micros: i64,
    /// The AWS CloudTrail public keys (`--aws-keys`): a CloudTrail archive's stored digests, log files and events
    /// re-verify with them before its events are exported (docs/evidence-bundle.md section 11).
    pub aws_keys: Option<&'a crate::cloudtrail_digest::AwsKeys>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    pub out: String,
    pub events: u64,
    pub archives: u64,
    /// Size of the bundle file.
    pub bytes: u64,
    pub exported: String,
    pub auditor: KeyInfo,
}

/// One selected event that cannot be exported as verified, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// The event id (or the archive as `origin@sequence` when the whole archive is the problem).
    pub id: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Something selected cannot be exported as verified (exit 1). Nothing was written.
    #[error("{} selected event(s) cannot be exported as verified; nothing was written", .0.len())]
    Refused(Vec<Refusal>),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A usage problem (exit 2): empty or too large a selection, a bad id, an existing output, ...
    #[error("{0}")]
    Usage(String),
    #[error("writing {path}: {source}")]
    Io { path: String, source: io::Error },
}

impl ExportError {
    /// True when the selection cannot be exported as verified (exit code 1), false for usage and I/O errors.
    pub fn is_refusal(&self) -> bool {
        matches!(self, ExportError::Refused(_))
    }
}

impl From<rusqlite::Error> for ExportError {
    fn from(e: rusqlite::Error) -> Self {
        ExportError::Store(StoreError::Sql(e))
    }
}

/// Reads an ids file: one event id per line, or the JSON Lines `auditlens search --json` prints (each object's
/// `id`; a `{"next": ...}` line is skipped). Blank lines are skipped; ids are returned once each, in first-seen
/// order, in their canonical spelling.
pub fn parse_ids(text: &str) -> Result<Vec<String>, String> {
    let mut seen = HashSet::new();
    let mut ids = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let id = if line.starts_with('{') {
            let value: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| format!("line {}: not a JSON object: {e}", n + 1))?;
            match value.get("id").and_then(|v| v.as_str()) {
                Some(id) => id.to_string(),
                None if value.get("next").is_some() => continue,
                None => return Err(format!("line {}: the object has no \"id\" string", n + 1)),
            }
        } else {
            line.to_string()
        };
        let (origin, sequence, index) = parse_event_id(&id).ok_or_else(|| {
            format!(
                "line {}: {:?} is not an event id (origin@sequence#index)",
                n + 1,
                super::terminal_safe(&id)
            )
        })?;
        let canonical = event_id(origin, sequence, index);
        if seen.insert(canonical.clone()) {
            ids.push(canonical);
        }
    }
    Ok(ids)
}

/// One selected event. What the reports show of it is derived from its exact bytes and its archive's signed
/// rules ([`ReportBuilder`]), as the verifier derives it, never read from the store's columns.
#[derive(Debug, Clone)]
struct Picked {
    rowid: i64,
    archive_id: i64,
    origin: String,
    sequence: u64,
    index: u64,
    status: String,
    raw_bytes: u64,
}

const DETAIL: &str = "SELECT e.id, e.archive_id, a.origin, a.sequence, e.idx, a.status,
    length(CAST(e.raw AS BLOB)) FROM events e JOIN archives a ON a.id = e.archive_id";

fn picked(r: &rusqlite::Row<'_>) -> rusqlite::Result<Picked> {
    Ok(Picked {
        rowid: r.get(0)?,
        archive_id: r.get(1)?,
        origin: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
        sequence: r.get::<_, Option<u64>>(3)?.unwrap_or(0),
        index: r.get::<_, i64>(4)? as u64,
        status: r.get(5)?,
        raw_bytes: r.get::<_, i64>(6)? as u64,
    })
}

impl Picked {
    fn id(&self) -> String {
        event_id(&self.origin, self.sequence, self.index)
    }
}

/// One archive of the bundle, checked against its signed checkpoint (or AWS's signed digests).
struct ArchiveOut {
    origin: String,
    sequence: u64,
    /// Events in the whole archive, and their Merkle root.
    size: u64,
    root: Hash,
    /// `bundle.json`'s `signer`.
    signer_text: String,
    parts: Parts,
    /// The archive's signed rules: what the reports' normalized fields are made with.
    normalizer: Normalizer,
    imported: String,
    /// Positions (in bundle order) of this archive's events.
    first: usize,
    count: usize,
}

/// What the bundle carries of an archive besides its events.
enum Parts {
    Signed(Box<Signed>),
    /// An AWS CloudTrail archive (docs/evidence-bundle.md section 11).
    Aws(Box<super::cloudtrail::StoredProof>),
}

/// A checkpoint archive's signed parts.
struct Signed {
    checkpoint_bytes: Vec<u8>,
    manifest_bytes: Vec<u8>,
    manifest: Manifest,
    signer: VerifierKey,
    /// The archive's mapping file (source kind `mapping`), carried in the bundle.
    mapping_bytes: Option<Vec<u8>>,
}

/// Exports the selection to `opts.out`. See the module documentation for what is checked first.
pub fn export(store: &Store, opts: &ExportOptions<'_>) -> Result<ExportSummary, ExportError> {
    // The leaves of every archive a selected event belongs to are read once: through a small page cache, not a
    // memory map of the file.
    store.reading_once(|| export_from(store, opts))
}

fn export_from(store: &Store, opts: &ExportOptions<'_>) -> Result<ExportSummary, ExportError> {
    let purpose = opts.purpose.trim();
    if purpose.is_empty() {
        return Err(ExportError::Usage(
            "--purpose must say why these events are exported".into(),
        ));
    }
    if purpose.len() > MAX_PURPOSE_BYTES {
        return Err(ExportError::Usage(format!(
            "--purpose is longer than {MAX_PURPOSE_BYTES} bytes"
        )));
    }
    if opts.out.exists() {
        return Err(ExportError::Usage(format!(
            "{} already exists; not overwriting it",
            opts.out.display()
        )));
    }
    // One read transaction: the selection, the leaves and the bytes all come from the same snapshot.
    let tx = store.conn.unchecked_transaction()?;
    let (mut picks, selection) = resolve(store, &opts.selection, opts.now_micros)?;
    picks.sort_by(|a, b| {
        (a.origin.as_bytes(), a.sequence, a.index).cmp(&(b.origin.as_bytes(), b.sequence, b.index))
    });
    let total_bytes: u64 = picks.iter().map(|p| p.raw_bytes).sum();
    if total_bytes > MAX_EXPORT_EVENT_BYTES {
        return Err(ExportError::Usage(format!(
            "the selected events hold {total_bytes} bytes; a bundle holds at most {MAX_EXPORT_EVENT_BYTES}: narrow the selection"
        )));
    }
    let mut groups: BTreeMap<(Vec<u8>, u64), (i64, usize, usize)> = BTreeMap::new();
    for (pos, p) in picks.iter().enumerate() {
        groups
            .entry((p.origin.as_bytes().to_vec(), p.sequence))
            .and_modify(|g| g.2 += 1)
            .or_insert((p.archive_id, pos, 1));
    }
    if groups.len() > super::MAX_ARCHIVES {
        return Err(ExportError::Usage(format!(
            "the selected events come from {} archives; a bundle draws from at most {}",
            groups.len(),
            super::MAX_ARCHIVES
        )));
    }
    let mut archives = Vec::new();
    let mut proofs: Vec<Vec<Hash>> = vec![Vec::new(); picks.len()];
    for (archive_id, first, count) in groups.into_values() {
        let slice = &picks[first..first + count];
        let evidence: Option<String> = store.conn.query_row(
            "SELECT evidence FROM archives WHERE id = ?1",
            [archive_id],
            |r| r.get(0),
        )?;
        if evidence.as_deref() == Some(crate::store::import::CLOUDTRAIL_EVIDENCE) {
            let proof = super::cloudtrail::load_stored(
                archives.len() + 1,
                store,
                archive_id,
                &slice[0].origin,
                slice[0].sequence,
                &slice.iter().map(|p| p.index).collect::<Vec<_>>(),
                opts.aws_keys,
            )?;
            archives.push(ArchiveOut {
                origin: slice[0].origin.clone(),
                sequence: slice[0].sequence,
                size: proof.size,
                root: proof.root,
                signer_text: proof.proof.signer.clone(),
                normalizer: Normalizer::builtin(crate::sources::SourceKind::Cloudtrail),
                imported: proof.imported.clone(),
                parts: Parts::Aws(Box::new(proof)),
                first,
                count,
            });
            continue;
        }
        let a = load_archive(store, archive_id, slice, first, count)?;
        let indices: Vec<u64> = slice.iter().map(|p| p.index).collect();
        let (root, archive_proofs) = stream_proofs(store, archive_id, &a, &indices)?;
        if root != a.root {
            return Err(refuse_archive(
                &a,
                "the stored leaves do not reproduce the signed Merkle root (run auditlens check)",
            ));
        }
        for (j, proof) in archive_proofs.into_iter().enumerate() {
            proofs[first + j] = proof;
        }
        archives.push(a);
    }

    let exported = crate::time::format_utc(opts.now_micros);
    let tool = format!("auditlens {}", env!("CARGO_PKG_VERSION"));
    let auditor = opts.auditor.verifier();
    let index = BundleIndex {
        format: super::FORMAT_NAME.into(),
        version: super::FORMAT_VERSION,
        exported: exported.clone(),
        tool: tool.clone(),
        auditor: auditor.to_string(),
        purpose: purpose.to_string(),
        selection: selection.clone(),
        events: picks.len() as u64,
        archives: archives
            .iter()
            .map(|a| IndexArchive {
                origin: a.origin.clone(),
                sequence: a.sequence,
                size: a.size,
                root: encode_hash(&a.root),
                signer: a.signer_text.clone(),
                events: a.count as u64,
                imported: a.imported.clone(),
            })
            .collect(),
    };

    let dir = match opts.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let io_err = |source: io::Error| ExportError::Io {
        path: opts.out.display().to_string(),
        source,
    };
    let tmp = tempfile::Builder::new()
        .prefix(".auditlens-export-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io_err)?;
    let mut w = BundleWriter {
        zip: zip::ZipWriter::new(tmp.as_file().try_clone().map_err(io_err)?),
        lines: Vec::new(),
    };

    w.entry(INDEX, |out| {
        json_to(out, &index)?;
        Ok(())
    })
    .map_err(|e| e.into_export(io_err))?;

    // The reports are derived from what the bundle carries, as the verifier derives them (section 7).
    let mut report = ReportBuilder::new(&index, &auditor);
    for a in &archives {
        match &a.parts {
            Parts::Signed(s) => report.archive(
                &s.manifest,
                &s.signer,
                a.normalizer.clone(),
                super::report::rules_of(&s.manifest),
            ),
            Parts::Aws(p) => report.archive_cloudtrail(&p.proof),
        }
    }

    // events.jsonl: the exact bytes, each leaf recomputed and its proof checked against the signed root.
    let mut leaves: Vec<Hash> = Vec::with_capacity(picks.len());
    let mut raw_stmt = store
        .conn
        .prepare("SELECT raw, leaf FROM events WHERE id = ?1")?;
    let archive_of = |pos: usize| {
        archives
            .iter()
            .position(|a| pos >= a.first && pos < a.first + a.count)
            .unwrap_or(0)
    };
    w.entry(super::EVENTS, |out| {
        for (pos, p) in picks.iter().enumerate() {
            let (raw, stored_leaf): (String, Vec<u8>) =
                raw_stmt.query_row([p.rowid], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let leaf = merkle::leaf_hash(raw.as_bytes());
            if stored_leaf.as_slice() != leaf.as_slice() {
                return Err(Step::Refused(Refusal {
                    id: p.id(),
                    reason: "its stored bytes do not hash to its stored leaf (run auditlens check)"
                        .into(),
                }));
            }
            let a = &archives[archive_of(pos)];
            if let Parts::Aws(stored) = &a.parts {
                // AWS's proof: the event must be exactly its record of a log file the bundle carries.
                if stored.proof.leaf_at(p.index).map(|(_, _, l)| l) != Some(leaf) {
                    return Err(Step::Refused(Refusal {
                        id: p.id(),
                        reason: "its stored bytes are not the record of its log file (run auditlens check --aws-keys)"
                            .into(),
                    }));
                }
            } else if let Err(e) =
                merkle::verify_inclusion(&leaf, p.index, a.size, &proofs[pos], &a.root)
            {
                return Err(Step::Refused(Refusal {
                    id: p.id(),
                    reason: format!("its inclusion proof does not verify: {e}"),
                }));
            }
            if raw.is_empty() || raw.contains('\n') {
                return Err(Step::Refused(Refusal {
                    id: p.id(),
                    reason: "its stored bytes are not one event line".into(),
                }));
            }
            out.write_all(raw.as_bytes())?;
            out.write_all(b"\n")?;
            report.event(
                archive_of(pos) + 1,
                p.index,
                &leaf,
                proofs[pos].len() as u64,
                raw.as_bytes(),
            );
            leaves.push(leaf);
        }
        Ok(())
    })
    .map_err(|e| e.into_export(io_err))?;

    w.entry(super::PROOFS, |out| {
        for (pos, p) in picks.iter().enumerate() {
            let line = ProofLine {
                id: p.id(),
                archive: archive_of(pos) as u64 + 1,
                index: p.index,
                leaf: encode_hash(&leaves[pos]),
                path: proofs[pos].iter().map(encode_hash).collect(),
            };
            serde_json::to_writer(&mut *out, &line).map_err(io::Error::other)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    })
    .map_err(|e| e.into_export(io_err))?;

    for (k, a) in archives.iter().enumerate() {
        let a = match &a.parts {
            Parts::Signed(s) => s,
            Parts::Aws(p) => {
                for (name, bytes) in p.entries(k + 1) {
                    w.entry(&name, |out| {
                        out.write_all(bytes)?;
                        Ok(())
                    })
                    .map_err(|e| e.into_export(io_err))?;
                }
                continue;
            }
        };
        w.entry(&checkpoint_entry(k + 1), |out| {
            out.write_all(&a.checkpoint_bytes)?;
            Ok(())
        })
        .map_err(|e| e.into_export(io_err))?;
        w.entry(&archive_manifest_entry(k + 1), |out| {
            out.write_all(&a.manifest_bytes)?;
            Ok(())
        })
        .map_err(|e| e.into_export(io_err))?;
        if let Some(mapping) = &a.mapping_bytes {
            w.entry(&archive_mapping_entry(k + 1), |out| {
                out.write_all(mapping)?;
                Ok(())
            })
            .map_err(|e| e.into_export(io_err))?;
        }
    }

    // The auditor's annotations on these exact events (the same leaves), marked as theirs and signed with the
    // manifest; none, no entry.
    let ids: Vec<String> = picks.iter().map(|p| p.id()).collect();
    let leaf_of: HashMap<&str, String> = ids
        .iter()
        .zip(&leaves)
        .map(|(id, leaf)| (id.as_str(), merkle::to_hex(leaf)))
        .collect();
    let papers_err = |e: crate::papers::PapersError| {
        ExportError::Usage(format!("reading the working papers: {e}"))
    };
    let annotations: Vec<crate::papers::EventAnnotations> =
        crate::papers::event_annotations(&store.conn, Some(&ids))
            .map_err(papers_err)?
            .into_iter()
            .filter(|a| leaf_of.get(a.event.as_str()) == Some(&a.leaf))
            .collect();
    if !annotations.is_empty() {
        // What `verify-bundle` reads (crate::json::max_values counts at most this many for the document).
        let values: usize = 16 + annotations.iter().map(|a| 8 + a.tags.len()).sum::<usize>();
        if values > super::MAX_ANNOTATIONS_VALUES {
            return Err(ExportError::Usage(format!(
                "the selected events' annotations hold about {values} values; a bundle holds at most {}: narrow the selection",
                super::MAX_ANNOTATIONS_VALUES
            )));
        }
        let doc = super::AnnotationsDoc {
            format: super::ANNOTATIONS_FORMAT.into(),
            version: 1,
            statement: super::ANNOTATIONS_STATEMENT.into(),
            action_log: crate::papers::log::head(&store.conn)
                .map_err(papers_err)?
                .map(|(entries, head)| super::ActionLogHead { entries, head }),
            events: annotations.clone(),
        };
        w.entry(super::ANNOTATIONS, |out| {
            json_to(out, &doc)?;
            Ok(())
        })
        .map_err(|e| e.into_export(io_err))?;
    }

    let report = report.finish();
    w.entry(super::REPORT_JSON, |out| {
        out.write_all(&super::report::report_json(&report))?;
        Ok(())
    })
    .map_err(|e| e.into_export(io_err))?;
    w.entry(super::REPORT_HTML, |out| {
        let mut raw_of = |pos: usize| -> io::Result<String> {
            raw_stmt
                .query_row([picks[pos].rowid], |r| r.get(0))
                .map_err(io::Error::other)
        };
        let mut buffered = BufWriter::with_capacity(64 << 10, out);
        super::html::render(&report, &annotations, &mut buffered, &mut raw_of)?;
        buffered.flush()?;
        Ok(())
    })
    .map_err(|e| e.into_export(io_err))?;
    drop(raw_stmt);
    drop(tx);

    let manifest = BundleManifest {
        auditor: auditor.to_string(),
        entries: std::mem::take(&mut w.lines),
    };
    let signed = opts
        .auditor
        .sign(&manifest.to_text())
        .map_err(|e| ExportError::Usage(format!("signing the manifest: {e}")))?;
    w.entry(super::MANIFEST, |out| {
        out.write_all(signed.as_bytes())?;
        Ok(())
    })
    .map_err(|e| e.into_export(io_err))?;
    w.zip.finish().map_err(|e| io_err(io::Error::other(e)))?;
    tmp.as_file().sync_all().map_err(io_err)?;
    let file = tmp.persist_noclobber(opts.out).map_err(|e| {
        if e.error.kind() == io::ErrorKind::AlreadyExists {
            ExportError::Usage(format!(
                "{} already exists; not overwriting it",
                opts.out.display()
            ))
        } else {
            io_err(e.error)
        }
    })?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    Ok(ExportSummary {
        out: opts.out.display().to_string(),
        events: picks.len() as u64,
        archives: archives.len() as u64,
        bytes,
        exported,
        auditor: KeyInfo::of(&auditor),
    })
}

/// The selected events (not yet sorted) and the selection as recorded. Refuses events that are missing or not
/// verified; usage errors for an empty or too large selection.
fn resolve(
    store: &Store,
    selection: &SelectionInput,
    now: i64,
) -> Result<(Vec<Picked>, Selection), ExportError> {
    let mut refusals = Vec::new();
    let (picks, recorded) = match selection {
        SelectionInput::Query(q) => {
            let n = store.count(q, now)?;
            if n == 0 {
                return Err(ExportError::Usage(
                    "the query matches no event; nothing to export".into(),
                ));
            }
            if n > super::MAX_EVENTS {
                return Err(too_many(n));
            }
            let mut rowids = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let page = store.search(q, MAX_LIMIT, after.as_deref(), now)?;
                rowids.extend(page.events.iter().map(|e| e.rowid));
                if rowids.len() as u64 > super::MAX_EVENTS {
                    return Err(too_many(rowids.len() as u64));
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            let mut stmt = store.conn.prepare(&format!("{DETAIL} WHERE e.id = ?1"))?;
            let picks = rowids
                .iter()
                .map(|id| stmt.query_row([id], picked))
                .collect::<Result<Vec<_>, _>>()?;
            (
                picks,
                Selection {
                    query: Some(q.clone()),
                    ids: None,
                },
            )
        }
        SelectionInput::Ids(ids) => {
            if ids.is_empty() {
                return Err(ExportError::Usage(
                    "the ids file lists no event; nothing to export".into(),
                ));
            }
            if ids.len() as u64 > super::MAX_EVENTS {
                return Err(too_many(ids.len() as u64));
            }
            let mut stmt = store.conn.prepare(&format!(
                "{DETAIL} WHERE a.origin = ?1 AND a.sequence = ?2 AND e.idx = ?3
                 ORDER BY (a.status = 'verified') DESC, a.id LIMIT 1"
            ))?;
            let mut picks = Vec::new();
            let mut canonical = Vec::new();
            let mut seen = HashSet::new();
            for id in ids {
                let Some((origin, sequence, index)) = parse_event_id(id) else {
                    return Err(ExportError::Usage(format!(
                        "{:?} is not an event id (origin@sequence#index)",
                        super::terminal_safe(id)
                    )));
                };
                let id = event_id(origin, sequence, index);
                if !seen.insert(id.clone()) {
                    continue;
                }
                canonical.push(id.clone());
                match stmt
                    .query_row(
                        rusqlite::params![origin, sequence as i64, index as i64],
                        picked,
                    )
                    .map(Some)
                    .or_else(|e| match e {
                        rusqlite::Error::QueryReturnedNoRows => Ok(None),
                        e => Err(e),
                    })? {
                    Some(p) => picks.push(p),
                    None => refusals.push(Refusal {
                        id,
                        reason: "not found in the store".into(),
                    }),
                }
            }
            (
                picks,
                Selection {
                    query: None,
                    ids: Some(canonical),
                },
            )
        }
    };
    for p in &picks {
        if p.status != "verified" {
            refusals.push(Refusal {
                id: p.id(),
                reason: format!(
                    "its archive ({} sequence {}) is stored as {}, not verified: only events of verified archives are exported",
                    p.origin, p.sequence, p.status
                ),
            });
        }
    }
    if !refusals.is_empty() {
        return Err(ExportError::Refused(refusals));
    }
    // The selection was made on the store's columns (a query) and its rows: each row must be the event signed at
    // its index, its fields the ones its bytes give, or the bundle would record a selection its events do not
    // match (docs/trust-policy.md section 4b).
    let rowids: Vec<i64> = picks.iter().map(|p| p.rowid).collect();
    let unconfirmed =
        store.unconfirmed_rows(&rowids, &crate::store::confirm::Confirmations::new())?;
    if !unconfirmed.is_empty() {
        return Err(ExportError::Refused(
            unconfirmed
                .into_iter()
                .map(|(at, reason)| Refusal {
                    id: picks[at].id(),
                    reason,
                })
                .collect(),
        ));
    }
    Ok((picks, recorded))
}

fn too_many(n: u64) -> ExportError {
    ExportError::Usage(format!(
        "the selection holds {n} events; a bundle holds at most {}: narrow the selection",
        super::MAX_EVENTS
    ))
}

fn refuse_archive(a: &ArchiveOut, why: &str) -> ExportError {
    ExportError::Refused(vec![Refusal {
        id: format!("{}@{}", a.origin, a.sequence),
        reason: why.to_string(),
    }])
}

/// Reads an archive's stored checkpoint and manifest and checks them as a reader will: note and body syntax,
/// the signature by the manifest's signer, the manifest hash, origin, sequence and size.
fn load_archive(
    store: &Store,
    archive_id: i64,
    events: &[Picked],
    first: usize,
    count: usize,
) -> Result<ArchiveOut, ExportError> {
    load_archive_named(
        store,
        archive_id,
        &events[0].origin,
        events[0].sequence,
        first,
        count,
    )
}

/// The stored archive `archive_id` (`origin`/`sequence` as its events say), checked against its signed checkpoint:
/// the checkpoint's signature by the manifest's signer, the manifest's hash, origin and sequence, the mapping file.
fn load_archive_named(
    store: &Store,
    archive_id: i64,
    origin: &str,
    sequence: u64,
    first: usize,
    count: usize,
) -> Result<ArchiveOut, ExportError> {
    let refuse = |why: String| {
        ExportError::Refused(vec![Refusal {
            id: format!("{origin}@{sequence}"),
            reason: format!("{why} (run auditlens check)"),
        }])
    };
    type Row = (
        Option<Vec<u8>>,
        Option<Vec<u8>>,
        String,
        Option<Vec<u8>>,
        Option<String>,
    );
    let (checkpoint_bytes, manifest_bytes, imported, mapping_bytes, evidence): Row =
        store.conn.query_row(
            "SELECT checkpoint, manifest, imported_at, mapping, evidence FROM archives WHERE id = ?1",
            [archive_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
    if evidence.as_deref() == Some(crate::store::import::CLOUDTRAIL_EVIDENCE) {
        return Err(ExportError::Refused(vec![Refusal {
            id: format!("{origin}@{sequence}"),
            reason: "an AWS CloudTrail archive has no signed checkpoint: its proof is AWS's signed digests".into(),
        }]));
    }
    let (Some(checkpoint_bytes), Some(manifest_bytes)) = (checkpoint_bytes, manifest_bytes) else {
        return Err(refuse(
            "the store holds no signed checkpoint or manifest for this archive".into(),
        ));
    };
    let note = Note::parse(&checkpoint_bytes)
        .map_err(|e| refuse(format!("the stored checkpoint is not a signed note: {e}")))?;
    let checkpoint =
        Checkpoint::parse(&note.text).map_err(|e| refuse(format!("the stored checkpoint: {e}")))?;
    let chain = ChainLines::from_checkpoint(&checkpoint)
        .map_err(|e| refuse(format!("the stored checkpoint: {e}")))?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| refuse(format!("the stored manifest.json: {e}")))?;
    let signer = VerifierKey::parse(&manifest.signer)
        .map_err(|e| refuse(format!("the stored manifest's signer key: {e}")))?;
    note.verify(&signer)
        .map_err(|e| refuse(format!("the stored checkpoint's signature: {e}")))?;
    let manifest_hash: Hash = Sha256::digest(&manifest_bytes).into();
    if manifest_hash != chain.manifest_sha256 {
        return Err(refuse(
            "the stored manifest.json is not the one the checkpoint signs".into(),
        ));
    }
    if checkpoint.origin != origin || chain.sequence != sequence || manifest.sequence != sequence {
        return Err(refuse(
            "the stored checkpoint names another origin or sequence".into(),
        ));
    }
    if manifest.origin != checkpoint.origin || manifest.events != checkpoint.size {
        return Err(refuse(
            "the stored manifest disagrees with the checkpoint".into(),
        ));
    }
    // The mapping file travels with the bundle, and must be the one the signed manifest names.
    let mapping_bytes = match (&manifest.mapping_sha256, mapping_bytes) {
        (Some(expected), Some(bytes)) => {
            let hash: Hash = Sha256::digest(&bytes).into();
            if decode_hash(expected).ok() != Some(hash) {
                return Err(refuse(
                    "the stored mapping file is not the one the manifest names".into(),
                ));
            }
            Some(bytes)
        }
        (Some(_), None) => {
            return Err(refuse(
                "the store holds no mapping file for this archive of source kind mapping".into(),
            ));
        }
        (None, _) => None,
    };
    let normalizer = Normalizer::for_archive(&manifest.source_kind, mapping_bytes.as_deref())
        .map_err(|e| refuse(format!("the archive's rules: {e}")))?;
    Ok(ArchiveOut {
        origin: checkpoint.origin.clone(),
        sequence: manifest.sequence,
        size: checkpoint.size,
        root: checkpoint.root,
        signer_text: manifest.signer.clone(),
        parts: Parts::Signed(Box::new(Signed {
            checkpoint_bytes,
            manifest_bytes,
            manifest,
            signer,
            mapping_bytes,
        })),
        normalizer,
        imported,
        first,
        count,
    })
}

/// What an export that writes every event of its own (the OCSF Parquet export) needs of one stored archive, after
/// the same checks a bundle export makes: its signed checkpoint and manifest verify, and (with [`LeafCheck`]) its
/// stored leaves reproduce the signed root. A refusal names the archive.
pub(crate) struct CheckedArchive {
    pub checkpoint_bytes: Vec<u8>,
    /// The signed root; the stored leaves reproduce it once [`LeafCheck::advance`] returns `true`.
    pub root: Hash,
    /// The signed tree size: the archive's number of events.
    pub size: u64,
    pub signer_fingerprint: String,
    pub source_kind: String,
    pub normalizer: Normalizer,
    /// The manifest's `created` (sealing time), microseconds, when it parses.
    pub sealed_micros: Option<i64>,
    /// Whether the signed manifest says the archive was sealed on receipt (docs/archive-format.md section 4.1).
    pub received: bool,
}

/// The archive's signed checkpoint and manifest, verified; and the check of its stored leaves against the signed
/// root, which the caller runs to the end ([`LeafCheck::advance`]) before it relies on anything it read from the
/// archive: an export reads the leaves between its own rows, so that neither waits for the other.
pub(crate) fn check_archive(
    store: &Store,
    archive_id: i64,
    origin: &str,
    sequence: u64,
) -> Result<(CheckedArchive, LeafCheck), ExportError> {
    let a = load_archive_named(store, archive_id, origin, sequence, 0, 0)?;
    let leaves = LeafCheck {
        archive_id,
        id: format!("{}@{}", a.origin, a.sequence),
        size: a.size,
        root: a.root,
        builder: None,
        after: None,
    };
    let Parts::Signed(s) = a.parts else {
        return Err(ExportError::Refused(vec![Refusal {
            id: format!("{origin}@{sequence}"),
            reason: "not an archive with a signed checkpoint".into(),
        }]));
    };
    let checked = CheckedArchive {
        root: a.root,
        size: a.size,
        signer_fingerprint: s.signer.fingerprint(),
        source_kind: s.manifest.source_kind.clone(),
        sealed_micros: crate::time::parse_rfc3339(&s.manifest.created),
        received: s.manifest.received.is_some(),
        normalizer: a.normalizer,
        checkpoint_bytes: s.checkpoint_bytes,
    };
    Ok((checked, leaves))
}

/// An archive's stored leaves, read a slice at a time in the order of their index (and row, so that a repeated
/// index is seen), hashed into the RFC 6962 root and compared with the signed root at the end; the same findings
/// as [`stream_proofs`]: a missing or repeated index, a leaf that is not 32 bytes, too few or too many leaves, a
/// root that differs.
pub(crate) struct LeafCheck {
    archive_id: i64,
    /// `origin@sequence`, for a refusal.
    id: String,
    size: u64,
    root: Hash,
    /// The leaves read so far; none until the first are read (an export may meet many archives before it reads
    /// their leaves, and reads one archive's at a time).
    builder: Option<merkle::RootBuilder>,
    /// The index and row id of the last leaf read.
    after: Option<(i64, i64)>,
}

impl LeafCheck {
    /// Reads up to `budget` more leaves (at least one). `Ok(true)` once every leaf is read and they reproduce the
    /// signed root; a refusal names the archive, the index and what was found.
    pub(crate) fn advance(&mut self, store: &Store, budget: usize) -> Result<bool, ExportError> {
        let budget = budget.max(1);
        let (after_idx, after_id) = self.after.unwrap_or((i64::MIN, i64::MIN));
        let mut stmt = store.conn.prepare_cached(
            "SELECT idx, leaf, id FROM events WHERE archive_id = ?1 AND (idx, id) > (?2, ?3)
             ORDER BY idx, id LIMIT ?4",
        )?;
        let mut rows = stmt.query(rusqlite::params![
            self.archive_id,
            after_idx,
            after_id,
            budget as i64
        ])?;
        let mut builder = self.builder.take().unwrap_or_default();
        let mut read = 0usize;
        while let Some(r) = rows.next()? {
            read += 1;
            let (idx, leaf, id): (i64, Vec<u8>, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
            self.after = Some((idx, id));
            let expected = builder.size();
            if expected == self.size {
                let e = merkle::MerkleError::TooManyLeaves {
                    expected: self.size,
                };
                return Err(self.refuse(format!(
                    "the stored leaves do not match the signed checkpoint: {e}"
                )));
            }
            if u64::try_from(idx).ok() != Some(expected) {
                return Err(self.refuse(format!(
                    "the store lacks event index {expected} of this archive"
                )));
            }
            let Ok(leaf) = merkle::hash_from_slice(&leaf) else {
                return Err(self.refuse(format!(
                    "the stored leaf of event index {idx} is not 32 bytes"
                )));
            };
            builder.push(leaf);
        }
        if read == budget {
            self.builder = Some(builder);
            return Ok(false);
        }
        if builder.size() != self.size {
            let e = merkle::MerkleError::LeafCountMismatch {
                expected: self.size,
                found: builder.size(),
            };
            return Err(self.refuse(format!(
                "the stored leaves do not match the signed checkpoint: {e}"
            )));
        }
        if builder.root() != self.root {
            return Err(
                self.refuse("the stored leaves do not reproduce the signed Merkle root".to_owned())
            );
        }
        Ok(true)
    }

    fn refuse(&self, why: String) -> ExportError {
        ExportError::Refused(vec![Refusal {
            id: self.id.clone(),
            reason: format!("{why} (run auditlens check)"),
        }])
    }
}

/// The proofs of `indices` and the root, from one pass over the archive's stored leaves ordered by index.
fn stream_proofs(
    store: &Store,
    archive_id: i64,
    a: &ArchiveOut,
    indices: &[u64],
) -> Result<(Hash, Vec<Vec<Hash>>), ExportError> {
    let mut stmt = store
        .conn
        .prepare("SELECT idx, leaf FROM events WHERE archive_id = ?1 ORDER BY idx")?;
    let rows = stmt.query_map([archive_id], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    let mut problem: Option<String> = None;
    let mut sql_error: Option<rusqlite::Error> = None;
    let mut expected = 0i64;
    let leaves = rows.map_while(|row| match row {
        Ok((idx, leaf)) => {
            if idx != expected {
                problem = Some(format!(
                    "the store lacks event index {expected} of this archive"
                ));
                return None;
            }
            expected += 1;
            match merkle::hash_from_slice(&leaf) {
                Ok(h) => Some(h),
                Err(_) => {
                    problem = Some(format!(
                        "the stored leaf of event index {idx} is not 32 bytes"
                    ));
                    None
                }
            }
        }
        Err(e) => {
            sql_error = Some(e);
            None
        }
    });
    let result = merkle::inclusion_proofs_and_root(a.size, leaves, indices);
    if let Some(e) = sql_error {
        return Err(e.into());
    }
    if let Some(p) = problem {
        return Err(refuse_archive(a, &format!("{p} (run auditlens check)")));
    }
    result.map_err(|e| {
        refuse_archive(
            a,
            &format!(
                "the stored leaves do not match the signed checkpoint: {e} (run auditlens check)"
            ),
        )
    })
}

fn json_to<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// Why writing one entry stopped.
enum Step {
    Io(io::Error),
    Refused(Refusal),
    Sql(rusqlite::Error),
}

impl From<io::Error> for Step {
    fn from(e: io::Error) -> Self {
        Step::Io(e)
    }
}

impl From<rusqlite::Error> for Step {
    fn from(e: rusqlite::Error) -> Self {
        Step::Sql(e)
    }
}

impl Step {
    fn into_export(self, io_err: impl Fn(io::Error) -> ExportError) -> ExportError {
        match self {
            Step::Io(e) => io_err(e),
            Step::Refused(r) => ExportError::Refused(vec![r]),
            Step::Sql(e) => e.into(),
        }
    }
}

/// Writes ZIP entries, recording each one's size and SHA-256 for the manifest.
struct BundleWriter {
    zip: zip::ZipWriter<File>,
    lines: Vec<ManifestLine>,
}

impl BundleWriter {
    fn entry(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut dyn Write) -> Result<(), Step>,
    ) -> Result<(), Step> {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        self.zip
            .start_file(name, options)
            .map_err(|e| Step::Io(io::Error::other(e)))?;
        let mut hashing = Hashing {
            inner: &mut self.zip,
            sha: Sha256::new(),
            size: 0,
        };
        write(&mut hashing)?;
        let (sha, size) = (hashing.sha.finalize().into(), hashing.size);
        if name != super::MANIFEST {
            self.lines.push(ManifestLine {
                sha256: sha,
                size,
                name: name.to_string(),
            });
        }
        Ok(())
    }
}

struct Hashing<'a, W: Write> {
    inner: &'a mut W,
    sha: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_files_take_plain_ids_and_search_json_lines() {
        let text = "example.com/prod/k8s@1#34\n\n  example.com/prod/k8s@1#5  \n\
                    {\"id\":\"example.com/prod/k8s@1#34\",\"actor\":\"x\"}\n\
                    {\"id\":\"a@b@2#07\"}\n{\"next\":\"abc\"}\n";
        assert_eq!(
            parse_ids(text).unwrap(),
            vec![
                "example.com/prod/k8s@1#34",
                "example.com/prod/k8s@1#5",
                "a@b@2#7"
            ]
        );
        assert!(parse_ids("nothing-here\n").unwrap_err().contains("line 1"));
        assert!(parse_ids("{\"x\":1}\n").is_err());
        assert!(parse_ids("{broken\n").is_err());
        assert_eq!(parse_ids("\n \n").unwrap(), Vec::<String>::new());
    }
}
