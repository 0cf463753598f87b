//! What is about to be shown as verified, confirmed against what was signed (docs/trust-policy.md section 4b).
//!
//! A database's rows are the file's own claim: an edited file could hold other bytes, another leaf or other
//! fields under an archive still marked verified. Before a page of results or an event is shown as verified, each
//! of its rows is read again: its bytes must hash to its stored leaf, its fields, time and id must be the ones its
//! bytes give under its archive's rules (the same comparison `check` makes, store/check/event.rs), and its
//! archive's stored leaves must reproduce the archive's signed root, from its stored signed checkpoint and manifest
//! (read once per archive and kept in [`Confirmations`]). Together: the row shown is the event signed at its index.
//!
//! An archive imported with its block hashes (`archives.leaf_blocks`: the hash of every 1,024 leaves, which give
//! the signed root by themselves, [`merkle::root_from_blocks`]) is not read whole: the blocks are checked against
//! the signed root, and a row's block (its 1,024 stored leaves) against its block hash when a row of it is first
//! shown. Blocks that do not give the signed root are not believed: the archive's leaves are then read whole, as
//! for an archive stored without them.
//! A page's rows are read on the store's connection, then compared with their bytes (hashing, parsing and
//! normalizing: most of the cost) on every core, in batches bounded by their bytes.
//! Whether the signer is trusted is [`Store::untrusted_now`]'s question; the dashboards' counts and everything
//! else in the file are `check`'s.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::check::event::{STORED_EVENT_COLUMNS, StoredEvent};
use super::search::{EventDetail, EventRow, SearchPage};
use super::{Store, StoreError};
use crate::bundle::export::ExportError;
use crate::merkle::{self, BLOCK_LEAVES, HASH_LEN, RootBuilder};
use crate::sources::{Normalization, Normalizer, SourceKind};

/// Leaves read at a time when an archive's stored leaves are checked against its signed root.
const LEAVES_AT_ONCE: usize = 1 << 16;
/// Bytes of events a page's rows hold in memory at once while they are confirmed (a row is always read whole,
/// whatever its size).
const CONFIRM_BATCH_BYTES: usize = 16 << 20;
/// Rows compared with their bytes on one thread below this many; from it, on every core.
const CONFIRM_PARALLEL_FROM: usize = 64;

/// One event's stored row and its archive's rules (a subquery: the events' own column names stay unqualified).
static ROW_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT archive_id, (SELECT normalization FROM archives WHERE archives.id = archive_id), idx,
                {STORED_EVENT_COLUMNS}
         FROM events WHERE id = ?1"
    )
});

/// What was learnt of each archive's stored leaves and rules, kept by a caller between pages (one per database
/// file): an archive's leaves are read against its signed root once.
#[derive(Default)]
pub struct Confirmations {
    archives: Mutex<HashMap<ArchiveKey, Arc<ArchiveRules>>>,
    /// Read every archive's leaves whole, block hashes or not ([`Confirmations::reading_every_leaf`]).
    every_leaf: bool,
}

/// An archive, and the rules its fields were stored under (re-normalizing changes them).
type ArchiveKey = (i64, Option<String>);

/// An archive's answer: why none of its events may be shown as verified, or the rules that re-derive their fields.
enum ArchiveRules {
    Refused(String),
    Rules {
        normalizer: Normalizer,
        source_name: String,
        origin: String,
        leaves: Leaves,
    },
}

/// How an archive's stored leaves were found to reproduce its signed root.
enum Leaves {
    /// Every one was read (or the archive has no Merkle tree of its own: CloudTrail evidence).
    AllRead,
    /// Its stored block hashes give the signed root; each block's leaves are read when a row of it is first shown.
    Blocks(Blocks),
}

struct Blocks {
    /// `origin@sequence`, for a refusal.
    archive: String,
    /// 32 bytes per block of [`BLOCK_LEAVES`] leaves.
    hashes: Vec<u8>,
    /// The signed tree size.
    size: u64,
    /// Each block read so far: `None` when its stored leaves give its hash, else why not.
    read: Mutex<HashMap<u64, Option<String>>>,
}

/// A row read for confirming: what is stored, and its archive's rules ([`ArchiveRules::Rules`]).
struct ReadRow {
    archive_id: i64,
    idx: i64,
    stored: StoredEvent,
    rules: Arc<ArchiveRules>,
}

impl ReadRow {
    /// Where the row is not what its bytes give (leaf, parse error, fields, time, id), in words; no database.
    fn findings(&self) -> Option<String> {
        let ArchiveRules::Rules {
            normalizer,
            source_name,
            origin,
            ..
        } = &*self.rules
        else {
            return None;
        };
        let derived = self.stored.derive(normalizer, source_name, origin);
        let findings: Vec<String> = derived
            .leaf_finding
            .into_iter()
            .chain(derived.findings)
            .collect();
        (!findings.is_empty()).then(|| {
            format!(
                "this event as stored is not the one signed: {}",
                findings.join("; ")
            )
        })
    }
}

/// `f` of each item, in order, the items shared out among the machine's cores (on this thread alone below
/// [`CONFIRM_PARALLEL_FROM`] items). A panic in `f` is raised again here.
fn on_all_cores<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if items.len() < CONFIRM_PARALLEL_FROM || threads < 2 {
        return items.iter().map(&f).collect();
    }
    let per = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let mut chunks = items.chunks(per);
        let first = chunks.next().unwrap_or_default();
        let others: Vec<_> = chunks
            .map(|chunk| scope.spawn(move || chunk.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out: Vec<R> = first.iter().map(f).collect();
        for other in others {
            out.extend(
                other
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            );
        }
        out
    })
}

impl Confirmations {
    pub fn new() -> Confirmations {
        Confirmations::default()
    }

    /// Confirmations that read every archive's leaves whole, as for archives stored without block hashes: the
    /// benchmark's baseline (`auditlens bench --only pages`).
    pub fn reading_every_leaf() -> Confirmations {
        Confirmations {
            every_leaf: true,
            ..Confirmations::default()
        }
    }

    fn get(&self, key: &ArchiveKey) -> Option<Arc<ArchiveRules>> {
        self.archives
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    fn put(&self, key: ArchiveKey, rules: Arc<ArchiveRules>) {
        self.archives
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, rules);
    }
}

impl Store {
    /// Clears `verified` on each event of `page` whose stored row is not the event signed at its index (see the
    /// module's text); returns why, by event id, for the rows it cleared.
    pub fn confirm_page(
        &self,
        page: &mut SearchPage,
        known: &Confirmations,
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut why = HashMap::new();
        let shown: Vec<(usize, i64)> = page
            .events
            .iter()
            .enumerate()
            .filter(|(_, r)| r.verified)
            .map(|(i, r)| (i, r.rowid))
            .collect();
        let rowids: Vec<i64> = shown.iter().map(|(_, rowid)| *rowid).collect();
        for (at, reason) in self.unconfirmed_rows(&rowids, known)? {
            let row = &mut page.events[shown[at].0];
            row.verified = false;
            why.insert(row.id.clone(), reason);
        }
        Ok(why)
    }

    /// Which of the rows `rowids` are not the event signed at their index (see the module's text), by position in
    /// `rowids`, with why.
    pub(crate) fn unconfirmed_rows(
        &self,
        rowids: &[i64],
        known: &Confirmations,
    ) -> Result<Vec<(usize, String)>, StoreError> {
        // One read transaction for the rows (unless the caller holds one): they are read from one snapshot,
        // without a lock taken and released per row.
        let _read = if self.conn.is_autocommit() {
            Some(self.conn.unchecked_transaction()?)
        } else {
            None
        };
        // The rows are read on this connection, then their bytes hashed, parsed and compared on the machine's
        // cores (most of the cost), in batches of at most CONFIRM_BATCH_BYTES of event bytes.
        let mut cleared: Vec<(usize, String)> = Vec::new();
        let mut batch: Vec<(usize, ReadRow)> = Vec::new();
        let mut bytes = 0;
        for (i, rowid) in rowids.iter().enumerate() {
            match self.read_row(*rowid, known)? {
                Err(reason) => cleared.push((i, reason)),
                Ok(read) => {
                    bytes += read.stored.raw.len();
                    batch.push((i, read));
                }
            }
            if bytes >= CONFIRM_BATCH_BYTES {
                self.confirm_batch(&mut batch, &mut cleared)?;
                bytes = 0;
            }
        }
        self.confirm_batch(&mut batch, &mut cleared)?;
        cleared.sort_by_key(|(i, _)| *i);
        Ok(cleared)
    }

    /// The rows of `batch` compared with their bytes (on several threads when there are enough of them) and
    /// their blocks read: each that is not confirmed goes to `cleared` with why. Empties `batch`.
    fn confirm_batch(
        &self,
        batch: &mut Vec<(usize, ReadRow)>,
        cleared: &mut Vec<(usize, String)>,
    ) -> Result<(), StoreError> {
        let findings = on_all_cores(batch, |(_, read)| read.findings());
        for ((i, read), finding) in batch.drain(..).zip(findings) {
            let why = match finding {
                Some(why) => Some(why),
                None => self.read_block(&read)?,
            };
            if let Some(why) = why {
                cleared.push((i, why));
            }
        }
        Ok(())
    }

    /// [`Store::confirm_page`] for one event: `verified` cleared and `not_confirmed` set to why.
    pub fn confirm_event(
        &self,
        event: &mut EventDetail,
        known: &Confirmations,
    ) -> Result<(), StoreError> {
        if event.row.verified
            && let Some(reason) = self.unconfirmed(&event.row, known)?
        {
            event.row.verified = false;
            event.not_confirmed = Some(reason);
        }
        Ok(())
    }

    /// Checks the newest archive marked verified that `known` has not checked yet against its signed root, ahead of
    /// the pages that will show its events: how many of its leaves were read (none when its block hashes give the
    /// root; every one otherwise), or `None` when every archive was checked.
    pub fn confirm_next_archive(&self, known: &Confirmations) -> Result<Option<u64>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, normalization, events FROM archives WHERE status = 'verified' ORDER BY id DESC",
        )?;
        let keys = stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get::<_, i64>(2)?)))?;
        for key in keys {
            let (key, events): (ArchiveKey, i64) = key?;
            if known.get(&key).is_none() {
                let rules = Arc::new(self.archive_rules(key.0, known.every_leaf)?);
                let read = match &*rules {
                    ArchiveRules::Rules {
                        leaves: Leaves::Blocks(_),
                        ..
                    } => 0,
                    _ => events.max(0) as u64,
                };
                known.put(key, rules);
                return Ok(Some(read));
            }
        }
        Ok(None)
    }

    /// Why the stored row of `row` is not the event signed at its index, if it is not.
    fn unconfirmed(
        &self,
        row: &EventRow,
        known: &Confirmations,
    ) -> Result<Option<String>, StoreError> {
        match self.read_row(row.rowid, known)? {
            Err(reason) => Ok(Some(reason)),
            Ok(read) => match read.findings() {
                Some(why) => Ok(Some(why)),
                None => self.read_block(&read),
            },
        }
    }

    /// A row as stored and its archive's rules (read and checked against the signed root once per archive), or
    /// why it cannot be confirmed without looking at its bytes.
    fn read_row(
        &self,
        rowid: i64,
        known: &Confirmations,
    ) -> Result<Result<ReadRow, String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&ROW_SQL)?;
        let mut rows = stmt.query([rowid])?;
        let Some(r) = rows.next()? else {
            return Ok(Err("the event is no longer in the database".into()));
        };
        let key: ArchiveKey = (r.get(0)?, r.get(1)?);
        let archive_id = key.0;
        let idx: i64 = r.get(2)?;
        let stored = match StoredEvent::read(r, 3) {
            Ok(s) => s,
            Err(e) => return Ok(Err(format!("the stored event cannot be read: {e}"))),
        };
        drop(rows);
        let rules = match known.get(&key) {
            Some(rules) => rules,
            None => match self.archive_rules(key.0, known.every_leaf) {
                Ok(rules) => {
                    let rules = Arc::new(rules);
                    known.put(key, rules.clone());
                    rules
                }
                // A row of another type than the one written, say: not kept, the next page asks again.
                Err(e) => return Ok(Err(format!("its archive as stored cannot be read: {e}"))),
            },
        };
        if let ArchiveRules::Refused(why) = &*rules {
            return Ok(Err(why.clone()));
        }
        Ok(Ok(ReadRow {
            archive_id,
            idx,
            stored,
            rules,
        }))
    }

    /// Why the block of a row whose bytes gave its fields does not give its block hash, if it does not.
    fn read_block(&self, read: &ReadRow) -> Result<Option<String>, StoreError> {
        match &*read.rules {
            ArchiveRules::Rules {
                leaves: Leaves::Blocks(blocks),
                ..
            } => self.block_read(read.archive_id, read.idx, blocks),
            _ => Ok(None),
        }
    }

    /// Why the stored leaves of the block holding index `idx` of archive `archive_id` do not give that block's
    /// hash (read once per block), if they do not.
    fn block_read(
        &self,
        archive_id: i64,
        idx: i64,
        blocks: &Blocks,
    ) -> Result<Option<String>, StoreError> {
        let refused = |why: String| {
            Some(format!(
                "archive {} as stored is not the one signed: {why}",
                blocks.archive
            ))
        };
        let Some(idx) = u64::try_from(idx).ok().filter(|i| *i < blocks.size) else {
            return Ok(refused(format!(
                "event index {idx} is not one of the {} the signed checkpoint holds",
                blocks.size
            )));
        };
        let block = idx / BLOCK_LEAVES;
        if let Some(answer) = blocks
            .read
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&block)
        {
            return Ok(answer.clone());
        }
        let (lo, hi) = (
            block * BLOCK_LEAVES,
            ((block + 1) * BLOCK_LEAVES).min(blocks.size),
        );
        let mut stmt = self.conn.prepare_cached(
            "SELECT idx, leaf FROM events WHERE archive_id = ?1 AND idx >= ?2 AND idx < ?3 ORDER BY idx, id",
        )?;
        let mut rows = stmt.query(rusqlite::params![archive_id, lo as i64, hi as i64])?;
        let mut builder = RootBuilder::new();
        let mut problem = None;
        while let Some(r) = rows.next()? {
            let expected = lo + builder.size();
            let found: i64 = r.get(0)?;
            if u64::try_from(found).ok() != Some(expected) {
                problem = Some(if u64::try_from(found).ok() == expected.checked_sub(1) {
                    format!("event index {found} is stored twice")
                } else {
                    format!("the store lacks event index {expected}")
                });
                break;
            }
            let leaf = match r.get_ref(1)? {
                rusqlite::types::ValueRef::Blob(b) => merkle::hash_from_slice(b).ok(),
                _ => None,
            };
            let Some(leaf) = leaf else {
                problem = Some(format!(
                    "the stored leaf of event index {found} is not 32 bytes"
                ));
                break;
            };
            builder.push(leaf);
        }
        drop(rows);
        let problem = problem.or_else(|| {
            let expected = lo + builder.size();
            if expected < hi {
                return Some(format!("the store lacks event index {expected}"));
            }
            let at = block as usize * HASH_LEN;
            (blocks.hashes.get(at..at + HASH_LEN) != Some(&builder.root()[..])).then(|| {
                format!(
                    "the stored leaves of events {lo}..{} do not reproduce the signed Merkle root",
                    hi - 1
                )
            })
        });
        let answer = problem.and_then(refused);
        blocks
            .read
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(block, answer.clone());
        Ok(answer)
    }

    /// Archive `id`'s stored leaves against its signed root, and the rules of its stored fields.
    fn archive_rules(&self, id: i64, every_leaf: bool) -> Result<ArchiveRules, StoreError> {
        type Row = (
            String,
            i64,
            Option<String>,
            Option<String>,
            Option<Vec<u8>>,
            Option<i64>,
        );
        let (origin, sequence, evidence, normalization, mapping, blocks_length): Row =
            self.conn.query_row(
                "SELECT origin, sequence, evidence, normalization, mapping,
                    CASE WHEN typeof(leaf_blocks) = 'blob' THEN length(leaf_blocks) END
                 FROM archives WHERE id = ?1",
                [id],
                |r| Row::try_from(r),
            )?;
        let refused = |why: String| {
            Ok(ArchiveRules::Refused(format!(
                "archive {origin}@{sequence} as stored is not the one signed: {why}"
            )))
        };
        // AWS CloudTrail evidence has no checkpoint: its log files against AWS's signed digests are `check`'s
        // (with AWS's keys); its rows are still read against their bytes, under the built-in CloudTrail mapper.
        let cloudtrail = evidence.as_deref() == Some(super::import::CLOUDTRAIL_EVIDENCE);
        let (normalizer, kind, leaves) = if cloudtrail {
            (
                Normalizer::builtin(SourceKind::Cloudtrail),
                SourceKind::Cloudtrail,
                Leaves::AllRead,
            )
        } else {
            let (checked, mut leaves) = match crate::bundle::export::check_archive(
                self,
                id,
                &origin,
                sequence.max(0) as u64,
            ) {
                Ok(c) => c,
                Err(e) => return refusal(e).map_or_else(Err, refused),
            };
            // Block hashes that give the signed root spare reading every leaf; any others are not believed (and
            // are read only when there are as many as the signed size makes: the file's own length is no bound).
            let expected = checked
                .size
                .div_ceil(BLOCK_LEAVES)
                .checked_mul(HASH_LEN as u64);
            let blocks = if !every_leaf && blocks_length.and_then(|n| u64::try_from(n).ok()) == expected {
                self.conn
                    .query_row(
                        "SELECT leaf_blocks FROM archives WHERE id = ?1 AND typeof(leaf_blocks) = 'blob'",
                        [id],
                        |r| r.get::<_, Vec<u8>>(0),
                    )
                    .ok()
            } else {
                None
            }
            .filter(|b| merkle::root_from_blocks(b, checked.size, BLOCK_LEAVES) == Some(checked.root));
            let leaves = match blocks {
                Some(hashes) => Leaves::Blocks(Blocks {
                    archive: format!("{origin}@{sequence}"),
                    hashes,
                    size: checked.size,
                    read: Mutex::default(),
                }),
                None => loop {
                    match leaves.advance(self, LEAVES_AT_ONCE) {
                        Ok(true) => break Leaves::AllRead,
                        Ok(false) => {}
                        Err(e) => return refusal(e).map_or_else(Err, refused),
                    }
                },
            };
            let Ok(kind) = checked.source_kind.parse::<SourceKind>() else {
                return refused(format!("unknown source kind {:?}", checked.source_kind));
            };
            (checked.normalizer, kind, leaves)
        };
        let normalizer = match stored_rules(
            normalizer,
            kind,
            cloudtrail,
            normalization.as_deref(),
            mapping.as_deref(),
        ) {
            Ok(n) => n,
            Err(why) => return refused(why),
        };
        Ok(ArchiveRules::Rules {
            source_name: normalizer.source_name(),
            normalizer,
            origin,
            leaves,
        })
    }
}

/// The rules an archive's events were stored under: `signed` (the archive's own signed rules, or the built-in
/// CloudTrail mapper for AWS CloudTrail evidence) under its stored `normalization` column (the auditor may have
/// chosen a built-in mapper instead), or why they cannot be.
pub(crate) fn stored_rules(
    signed: Normalizer,
    kind: SourceKind,
    cloudtrail: bool,
    normalization: Option<&str>,
    mapping: Option<&[u8]>,
) -> Result<Normalizer, String> {
    match Normalization::from_column(normalization.unwrap_or(""), kind, mapping) {
        Ok(n) if cloudtrail && n.builtin_kind() != Some(SourceKind::Cloudtrail) => Err(
            "the stored rules of CloudTrail evidence are not the built-in CloudTrail mapper".into(),
        ),
        Ok(n) => Ok(signed.under(&n)),
        Err(why) => Err(format!("stored normalization: {why}")),
    }
}

/// A refusal's reasons, or the error it is not.
fn refusal(e: ExportError) -> Result<String, StoreError> {
    match e {
        ExportError::Refused(r) => Ok(r
            .into_iter()
            .map(|r| r.reason)
            .collect::<Vec<_>>()
            .join("; ")),
        ExportError::Store(e) => Err(e),
        ExportError::Search(e) => Err(StoreError::Invalid(e.to_string())),
        other => Ok(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::on_all_cores;

    #[test]
    fn work_shared_out_among_cores_comes_back_in_order() {
        for n in [0, 1, 63, 64, 65, 1000, 1001] {
            let items: Vec<u32> = (0..n).collect();
            assert_eq!(
                on_all_cores(&items, |i| i * 2),
                items.iter().map(|i| i * 2).collect::<Vec<u32>>(),
                "{n} items"
            );
        }
    }
}
