//! The export itself: the selection read oldest first in one read transaction, every archive's signed checkpoint
//! and manifest checked before its first event is read and its stored leaves against the signed root while the
//! rows are read (the export fails, and removes what it wrote, unless all reproduce it), the events mapped to OCSF
//! and appended to their partition's Arrow columns, each row's leaf recomputed from its exact bytes before its
//! batch is written to the partition's Parquet file, then `_manifest.json` and the signed `_manifest`.
//!
//! Three threads, so that each of the machine's two cores always has one to run:
//! - the reading one (the caller's) reads the store, checks each archive's checkpoint as its first row comes and
//!   reads 4,096 of the archives' stored leaves after each chunk it hands over (the rest after the last), and hands
//!   the rows over in chunks: up to 1,024 rows whose texts are in one buffer (emptied chunks come back to be filled
//!   again);
//! - the mapping one confirms each row against its event's bytes (the comparison `check` makes), maps the event
//!   to OCSF and appends it to its partition's Arrow columns (no row is kept as owned values of its own: what a
//!   row allocates is freed on the thread that allocated it);
//! - the encoding one checks each batch's leaves and encodes it (Parquet, zstd).
//!
//! Memory is bounded by bytes: the store is read through an 8 MiB page cache, not a map of the file; chunks handed
//! over and not yet mapped hold at most 16 MiB of text; a partition's columns are handed over as a record batch
//! once they hold 8 MiB or 8,192 rows (all partitions together at most 32 MiB); batches handed over and not yet
//! written weigh at most 32 MiB (one chunk or batch always may, whatever its size); at most 128 partition files are
//! open (the least recently written is closed when another is needed; a later event of its partition opens the
//! next `part-NNNNN` file), at most 8 of them hold a row group in progress (the least recently written of those
//! writes its row group when a ninth starts one), and a file's row group is written once its encoded size reaches
//! 32 MiB or 65,536 rows, or earlier when the open files hold more than 32 MiB together (the one holding most
//! writes its row group). What made it faster, measured (docs/benchmarks.md, "Export"): each event read once
//! into texts borrowed from its bytes (crate::json), for the row's confirmation and its mapping, columns appended
//! row by row by the thread that maps, queues by bytes between the threads (the encoder works in bursts), reading
//! on a thread of its own, the archives' leaves read between the rows, no dictionary and no statistics for columns
//! that differ on every row, and zstd level 1.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use rusqlite::params_from_iter;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::columns::{self, ArchiveColumns, Provenance, RowsBuilder};
use super::map::{self, Class, Fields, OCSF_VERSION, OcsfEvent};
use crate::archive::encode_hash;
use crate::bundle::KeyInfo;
use crate::bundle::export::{ExportError, LeafCheck, check_archive};
use crate::merkle;
use crate::note::SignerKey;
use crate::sources::{Normalizer, SourceKind};
use crate::store::check::event::StoredFields;
use crate::store::confirm::stored_rules;
use crate::store::search::SearchError;
use crate::store::{Store, StoreError};

/// The signed note over every file of an export.
pub const PARQUET_MANIFEST: &str = "_manifest";
/// What was exported, per file.
pub const PARQUET_MANIFEST_JSON: &str = "_manifest.json";
/// The first line of [`PARQUET_MANIFEST`].
pub const PARQUET_MANIFEST_HEADER: &str = "auditlens-ocsf-parquet v1";
/// `format` of [`PARQUET_MANIFEST_JSON`].
pub const FORMAT_NAME: &str = "auditlens-ocsf-parquet";

/// Rows of one partition buffered before they are encoded.
const BATCH_ROWS: usize = 8192;
/// Bytes of rows (about: see [`RowsBuilder::bytes`]) gathered per partition before they are encoded.
const BATCH_BYTES: usize = 8 << 20;
/// Rows per Parquet row group, at most.
const ROW_GROUP_ROWS: usize = 65_536;
/// Encoded bytes a file buffers before it writes its row group.
const ROW_GROUP_BYTES: usize = 32 << 20;
/// Partition files open at once. Events come in time order, the partitions interleaved (every region and account
/// of a day at once): a partition's file closed to open another's is done, and its next events start a new file
/// (8 open files wrote 352 files for the benchmark's 13 partitions of a million events, and 1,520 files of 131
/// rows on average for 200,000 CloudTrail events of 80 accounts). An open file without rows in progress holds
/// little: its write buffer ([`FILE_BUFFER`]) and the metadata of its row groups.
const MAX_OPEN: usize = 128;
/// Files with a row group in progress: its column writers (page buffers, dictionaries, statistics) hold a few MB
/// each whatever its rows, beyond what they report (measured: 64 such files peaked at 416 MB). Past it, the least
/// recently written of them writes its row group out and stays open.
const MAX_IN_PROGRESS: usize = 8;
/// Each open file's write buffer.
const FILE_BUFFER: usize = 64 << 10;
/// Row groups written by the open files together: a file keeps its row groups' metadata (statistics, page
/// indexes) in memory until it is closed, about 60 KB each here (80 open files of 19 small row groups each held
/// 95 MB). Past it, the file holding the most is closed.
const HELD_ROW_GROUPS: usize = 256;
/// Bytes the open files may hold in memory together (pages and row groups not yet written): past it, the file
/// holding the most writes its row group out.
const OPEN_BYTES: usize = 32 << 20;
/// Rows read from the store and handed to the mapping thread at once: this many, or fewer whose texts hold this
/// many bytes (progress is reported after each).
const CHUNK_ROWS: usize = 1024;
const CHUNK_BYTES: usize = 4 << 20;
/// Bytes of such chunks handed over and not yet mapped (one always may, whatever its size).
const RAW_QUEUE_BYTES: usize = 16 << 20;
/// Bytes of record batches handed to the encoding thread and not yet written (about: [`RowsBuilder::bytes`]; one
/// batch may always be handed over, whatever its size). The encoder works in bursts (a partition's batch of 8,192
/// rows at once): the mapping thread keeps mapping meanwhile instead of waiting for it with its next batch.
const QUEUE_BYTES: usize = 32 << 20;
/// Leaves read against their archive's signed root after each chunk, the archives taken in the order their first
/// rows came (the rest once the rows end): the checks run between the reads instead of holding up the first rows.
const LEAVES_PER_CHUNK: usize = 4096;
/// Longest partition value written into a path.
const MAX_PARTITION_VALUE: usize = 64;

pub struct ParquetExportOptions<'a> {
    /// The search query every exported event matches (docs/search.md); empty for every event.
    pub query: &'a str,
    /// Time range, microseconds UTC, `from` inclusive, `to` exclusive (events without a time are then out).
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Kubernetes `RequestReceived` and `ResponseStarted` events too (the dashboards leave them out).
    pub all_stages: bool,
    /// Signs the manifest.
    pub auditor: &'a SignerKey,
    /// A directory that does not exist or is empty.
    pub out: &'a Path,
    /// The export time, also the "now" of `since:` terms.
    pub now_micros: i64,
    /// AWS public keys that re-verify the stored AWS CloudTrail exports whose events are selected
    /// (docs/cloudtrail.md section 5) before any of their rows is written; without any, such events are refused.
    pub aws_keys: Option<&'a crate::cloudtrail_digest::AwsKeys>,
}

/// Progress, after each chunk of rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportProgress {
    pub rows: u64,
    /// Rows the selection holds (counted first).
    pub total: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ParquetExportSummary {
    pub out: String,
    pub rows: u64,
    pub files: u64,
    /// Bytes of the Parquet files.
    pub bytes: u64,
    /// Raw event bytes exported (the `raw_data` column's total).
    pub raw_bytes: u64,
    pub by_class: BTreeMap<String, u64>,
    /// Events the selection matches in archives that are not verified: never written.
    pub left_out_unverified: u64,
    /// Verified Kubernetes records of the stages left out without `--all-stages` (`RequestReceived`,
    /// `ResponseStarted`) the selection otherwise matches: a request recorded only at one of them (a long-running
    /// `exec` or `attach` whose stream has not ended) is among them.
    pub left_out_stages: u64,
    pub exported: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ParquetExportError {
    /// A selected archive no longer matches its signed checkpoint, or is CloudTrail evidence (exit 1); nothing was
    /// left in the output.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Search(#[from] SearchError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Usage (exit 2): bad time range, an output directory that is not empty, ...
    #[error("{0}")]
    Usage(String),
    #[error("writing {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("writing Parquet {path}: {message}")]
    Parquet { path: String, message: String },
}

impl ParquetExportError {
    pub fn is_refusal(&self) -> bool {
        matches!(self, ParquetExportError::Refused(_))
    }
}

impl From<rusqlite::Error> for ParquetExportError {
    fn from(e: rusqlite::Error) -> Self {
        ParquetExportError::Store(StoreError::Sql(e))
    }
}

impl From<ExportError> for ParquetExportError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Refused(r) => ParquetExportError::Refused(
                r.iter()
                    .map(|r| format!("{}: {}", r.id, r.reason))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            ExportError::Search(e) => ParquetExportError::Search(e),
            ExportError::Store(e) => ParquetExportError::Store(e),
            ExportError::Usage(m) => ParquetExportError::Usage(m),
            ExportError::Io { path, source } => ParquetExportError::Io { path, source },
        }
    }
}

/// The query the export selects by: the scope's terms as `auditlens stats` writes them (docs/search.md).
fn selection_query(opts: &ParquetExportOptions<'_>, verified: bool) -> String {
    let mut q = String::new();
    if !opts.all_stages {
        q.push_str("-stage:RequestReceived -stage:ResponseStarted ");
    }
    q.push_str(&selection_terms(opts, verified));
    q
}

/// [`selection_query`] without its stages.
fn selection_terms(opts: &ParquetExportOptions<'_>, verified: bool) -> String {
    let mut q = String::new();
    q.push_str(if verified {
        "status:verified"
    } else {
        "-status:verified"
    });
    if let Some(f) = opts.from {
        q.push_str(&format!(" after:{}", crate::time::format_utc(f)));
    }
    if let Some(t) = opts.to {
        q.push_str(&format!(" before:{}", crate::time::format_utc(t)));
    }
    if !opts.query.trim().is_empty() {
        q.push_str(&format!(" ({})", opts.query.trim()));
    }
    q
}

/// Where a partition's files go: class, region, account, day.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct PartitionKey {
    class: Class,
    region: String,
    account: String,
    day: String,
}

impl PartitionKey {
    fn dir(&self) -> PathBuf {
        PathBuf::from(self.class.folder())
            .join(format!("region={}", self.region))
            .join(format!("accountId={}", self.account))
            .join(format!("eventDay={}", self.day))
    }
}

/// Partition values that loaders read as no value (Hive, Spark, Athena, Trino: `__HIVE_DEFAULT_PARTITION__`;
/// DuckDB: also `null`), in any case: an event naming one would drop its rows from `WHERE region = ...` and
/// `GROUP BY` (review finding, 2026-12-08).
const NULL_PARTITION_VALUES: [&str; 2] = ["__hive_default_partition__", "null"];

/// A partition value as found when it is safe in a path (ASCII letters, digits, `-`, `_`; 1 to 64 characters)
/// and no loader reads it as a missing value, else `unknown`.
fn path_value(v: Option<&str>) -> String {
    match v {
        Some(v)
            if !v.is_empty()
                && v.len() <= MAX_PARTITION_VALUE
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !NULL_PARTITION_VALUES
                    .iter()
                    .any(|n| v.eq_ignore_ascii_case(n)) =>
        {
            v.to_owned()
        }
        _ => "unknown".to_owned(),
    }
}

/// A column's Parquet path from its dotted name.
fn column_path(dotted: &str) -> ColumnPath {
    ColumnPath::new(dotted.split('.').map(str::to_owned).collect())
}

const MS_PER_DAY: i64 = 86_400_000;

fn day_of(time_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(time_ms)
        .map(|t| t.format("%Y%m%d").to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// One file written, for the manifest.
#[derive(Debug, Clone, Serialize)]
struct FileEntry {
    path: String,
    class_uid: i32,
    region: String,
    account_id: String,
    event_day: String,
    rows: u64,
    bytes: u64,
    sha256: String,
}

struct OpenFile {
    writer: ArrowWriter<HashingFile>,
    tmp: PathBuf,
    path: PathBuf,
    rel: String,
    rows: u64,
    last_used: u64,
}

/// A file that hashes what is written to it.
struct HashingFile {
    inner: BufWriter<File>,
    hash: Sha256,
    bytes: u64,
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The encoding side: partition buffers, open files, the files written.
struct Writers {
    out: PathBuf,
    props: WriterProperties,
    open: HashMap<PartitionKey, OpenFile>,
    /// Files made so far per partition folder, its path compared without ASCII case: two partitions whose values
    /// differ only in case share a folder on a case-insensitive file system, and their files must not share a name.
    parts: HashMap<String, u32>,
    files: Vec<FileEntry>,
    /// Every file created so far (removed if the export fails).
    created: Vec<PathBuf>,
    clock: u64,
    /// In every file name, so that the files of two exports copied into one bucket never collide.
    export_id: String,
}

impl Writers {
    fn new(out: &Path, export_id: String) -> Writers {
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(1).expect("zstd level 1"),
            ))
            .set_statistics_enabled(EnabledStatistics::Chunk);
        // Columns where every row differs: a dictionary would be built for each row group only to be dropped at
        // its size limit. They have no min/max statistics either: no query prunes on the whole text, a message,
        // a random id or a hash (the range of a page of them is about the range of them all).
        for column in columns::UNIQUE_COLUMNS {
            props = props
                .set_column_dictionary_enabled(column_path(column), false)
                .set_column_statistics_enabled(column_path(column), EnabledStatistics::None);
        }
        let props = props
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
            .set_created_by(format!("auditlens {}", env!("CARGO_PKG_VERSION")))
            .build();
        Writers {
            out: out.to_owned(),
            props,
            open: HashMap::new(),
            parts: HashMap::new(),
            files: Vec::new(),
            created: Vec::new(),
            clock: 0,
            export_id,
        }
    }

    fn write(&mut self, key: &PartitionKey, batch: &RecordBatch) -> Result<(), ParquetExportError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.clock += 1;
        if !self.open.contains_key(key) {
            if self.open.len() >= MAX_OPEN {
                let oldest = self
                    .open
                    .iter()
                    .min_by_key(|(_, f)| f.last_used)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    self.close(&k)?;
                }
            }
            let file = self.create(key)?;
            self.open.insert(key.clone(), file);
        }
        let perr = |rel: &str, e: parquet::errors::ParquetError| ParquetExportError::Parquet {
            path: rel.to_owned(),
            message: e.to_string(),
        };
        // At most MAX_IN_PROGRESS files hold a row group in progress (this one included).
        if self.open[key].writer.in_progress_rows() == 0 {
            let busy = self
                .open
                .values()
                .filter(|f| f.writer.in_progress_rows() > 0)
                .count();
            if busy >= MAX_IN_PROGRESS
                && let Some(f) = self
                    .open
                    .values_mut()
                    .filter(|f| f.writer.in_progress_rows() > 0)
                    .min_by_key(|f| f.last_used)
            {
                f.writer.flush().map_err(|e| perr(&f.rel, e))?;
            }
        }
        let f = self.open.get_mut(key).expect("just opened");
        f.last_used = self.clock;
        f.writer.write(batch).map_err(|e| perr(&f.rel, e))?;
        f.rows += batch.num_rows() as u64;
        // Memory: the row groups the open files hold stay under HELD_ROW_GROUPS ...
        loop {
            let held: usize = self
                .open
                .values()
                .map(|f| f.writer.flushed_row_groups().len())
                .sum();
            if held <= HELD_ROW_GROUPS {
                break;
            }
            let most = self
                .open
                .iter()
                .max_by_key(|(_, f)| {
                    // The least recently written of those holding most (`last_used` differs for every file).
                    (
                        f.writer.flushed_row_groups().len(),
                        std::cmp::Reverse(f.last_used),
                    )
                })
                .map(|(k, _)| k.clone());
            match most {
                Some(k) => self.close(&k)?,
                None => break,
            }
        }
        // ... and their buffers together stay under OPEN_BYTES.
        loop {
            let held: usize = self.open.values().map(|f| f.writer.memory_size()).sum();
            if held <= OPEN_BYTES {
                break;
            }
            let Some(f) = self
                .open
                .values_mut()
                .max_by_key(|f| f.writer.memory_size())
            else {
                break;
            };
            if f.writer.in_progress_rows() == 0 {
                break;
            }
            f.writer.flush().map_err(|e| perr(&f.rel, e))?;
        }
        Ok(())
    }

    fn create(&mut self, key: &PartitionKey) -> Result<OpenFile, ParquetExportError> {
        let folder = key.dir().to_string_lossy().to_ascii_lowercase();
        let part = self.parts.entry(folder).or_insert(0);
        let rel_path = key
            .dir()
            .join(format!("part-{part:05}-{}.parquet", self.export_id));
        *part += 1;
        let path = self.out.join(&rel_path);
        let tmp = path.with_extension("parquet.partial");
        let io_err = |source| ParquetExportError::Io {
            path: tmp.display().to_string(),
            source,
        };
        std::fs::create_dir_all(path.parent().expect("a partition file has a folder"))
            .map_err(io_err)?;
        let file = File::create_new(&tmp).map_err(io_err)?;
        self.created.push(tmp.clone());
        let sink = HashingFile {
            inner: BufWriter::with_capacity(FILE_BUFFER, file),
            hash: Sha256::new(),
            bytes: 0,
        };
        let rel = rel_path
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let writer = ArrowWriter::try_new(sink, columns::schema(), Some(self.props.clone()))
            .map_err(|e| ParquetExportError::Parquet {
                path: rel.clone(),
                message: e.to_string(),
            })?;
        Ok(OpenFile {
            writer,
            tmp,
            path,
            rel,
            rows: 0,
            last_used: self.clock,
        })
    }

    fn close(&mut self, key: &PartitionKey) -> Result<(), ParquetExportError> {
        let Some(f) = self.open.remove(key) else {
            return Ok(());
        };
        let mut sink = f
            .writer
            .into_inner()
            .map_err(|e| ParquetExportError::Parquet {
                path: f.rel.clone(),
                message: e.to_string(),
            })?;
        let io_err = |source| ParquetExportError::Io {
            path: f.tmp.display().to_string(),
            source,
        };
        sink.inner.flush().map_err(io_err)?;
        sink.inner.get_ref().sync_all().map_err(io_err)?;
        std::fs::rename(&f.tmp, &f.path).map_err(io_err)?;
        self.created.push(f.path.clone());
        self.files.push(FileEntry {
            path: f.rel,
            class_uid: key.class.uid(),
            region: key.region.clone(),
            account_id: key.account.clone(),
            event_day: key.day.clone(),
            rows: f.rows,
            bytes: sink.bytes,
            sha256: sink
                .hash
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        });
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ParquetExportError> {
        let mut keys: Vec<PartitionKey> = self.open.keys().cloned().collect();
        keys.sort();
        for k in keys {
            self.close(&k)?;
        }
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(())
    }

    /// Removes what this export wrote (after a failure).
    fn remove_all(&mut self) {
        self.open.clear();
        for p in self.created.drain(..) {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Per archive, what its rows share, checked once (`None`: not verified in the store).
struct ArchiveInfo {
    columns: Arc<ArchiveColumns>,
    origin: Arc<str>,
    sequence: i64,
    kind: SourceKind,
    sealed_ms: i64,
    /// The rules its events' stored fields were derived by (checked against each row's bytes before it is
    /// mapped), and the source name they give.
    rules: Normalizer,
    source_name: String,
}

/// Exports the selection (module documentation). `progress` is told after each chunk of rows.
pub fn export_parquet(
    store: &Store,
    opts: &ParquetExportOptions<'_>,
    progress: &mut dyn FnMut(ExportProgress),
) -> Result<ParquetExportSummary, ParquetExportError> {
    if let (Some(f), Some(t)) = (opts.from, opts.to)
        && f >= t
    {
        return Err(ParquetExportError::Usage(
            "--from must be before --to".into(),
        ));
    }
    // The query must parse by itself before it is put in brackets beside the scope's terms: one that does not
    // (`source:none) OR (origin:other`) would close them and widen the scope to unverified events. A query that
    // does is read inside the brackets as alone (words end at brackets; escapes are inside quotes only).
    crate::query::parse(opts.query).map_err(SearchError::from)?;
    // Every event is read once, in order: through a small page cache, not a memory map of the whole file nor the
    // store's 64 MiB cache.
    store.reading_once(|| export_into(store, opts, progress))
}

fn export_into(
    store: &Store,
    opts: &ParquetExportOptions<'_>,
    progress: &mut dyn FnMut(ExportProgress),
) -> Result<ParquetExportSummary, ParquetExportError> {
    let created_dir = prepare_out(opts.out)?;
    let mut id = [0u8; 6];
    getrandom::fill(&mut id)
        .map_err(|e| ParquetExportError::Usage(format!("no random export id: {e}")))?;
    let export_id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let mut writers = Writers::new(opts.out, export_id.clone());
    match run(store, opts, &mut writers, &export_id, progress) {
        Ok(summary) => Ok(summary),
        Err(e) => {
            writers.remove_all();
            for name in [PARQUET_MANIFEST_JSON, PARQUET_MANIFEST] {
                let _ = std::fs::remove_file(opts.out.join(name));
            }
            remove_empty_dirs(opts.out);
            if created_dir {
                let _ = std::fs::remove_dir(opts.out);
            }
            Err(e)
        }
    }
}

/// Makes sure `out` is an empty directory; true when this created it.
fn prepare_out(out: &Path) -> Result<bool, ParquetExportError> {
    match std::fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(ParquetExportError::Usage(format!(
                    "{} is not empty; not writing into it",
                    out.display()
                )));
            }
            Ok(false)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(out).map_err(|source| ParquetExportError::Io {
                path: out.display().to_string(),
                source,
            })?;
            Ok(true)
        }
        Err(source) => Err(ParquetExportError::Io {
            path: out.display().to_string(),
            source,
        }),
    }
}

fn remove_empty_dirs(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                remove_empty_dirs(&p);
                let _ = std::fs::remove_dir(&p);
            }
        }
    }
}

const COLUMNS: &str = "e.archive_id, e.idx, e.ts, e.actor, e.action, e.resource, e.outcome, e.ip, e.agent, \
                       e.privilege, e.category, e.leaf, e.raw, e.source, e.id, e.parse_error, e.origin, e.env, \
                       e.stage";

fn run(
    store: &Store,
    opts: &ParquetExportOptions<'_>,
    writers: &mut Writers,
    export_id: &str,
    progress: &mut dyn FnMut(ExportProgress),
) -> Result<ParquetExportSummary, ParquetExportError> {
    // One read transaction: the counts, the checks and the rows all see the same store.
    let tx = store.conn.unchecked_transaction()?;
    let (left_out_sql, left_out_params, _) = crate::store::search::selection(
        &store.conn,
        &selection_query(opts, false),
        opts.now_micros,
    )?;
    let left_out: i64 = store.conn.query_row(
        &format!("SELECT count(*) {left_out_sql}"),
        params_from_iter(left_out_params.iter()),
        |r| r.get(0),
    )?;
    let (from_where, params, id_column) = crate::store::search::selection(
        &store.conn,
        &selection_query(opts, true),
        opts.now_micros,
    )?;
    let total: i64 = store.conn.query_row(
        &format!("SELECT count(*) {from_where}"),
        params_from_iter(params.iter()),
        |r| r.get(0),
    )?;
    let total = total.max(0) as u64;
    let left_out_stages = if opts.all_stages {
        0
    } else {
        let (all_sql, all_params, _) = crate::store::search::selection(
            &store.conn,
            &selection_terms(opts, true),
            opts.now_micros,
        )?;
        let all: i64 = store.conn.query_row(
            &format!("SELECT count(*) {all_sql}"),
            params_from_iter(all_params.iter()),
            |r| r.get(0),
        )?;
        (all.max(0) as u64).saturating_sub(total)
    };
    progress(ExportProgress { rows: 0, total });

    let mut archives: HashMap<i64, Arc<ArchiveInfo>> = HashMap::new();
    let mut stmt = store.conn.prepare(&format!(
        "SELECT {COLUMNS} {from_where} ORDER BY {id_column}"
    ))?;
    let mut rows = stmt.query(params_from_iter(params.iter()))?;
    let mut count = 0u64;

    let raw_queue: Handoff<RawChunk> = Handoff::new(RAW_QUEUE_BYTES);
    let spares = Spares::default();
    let queue: Handoff<Ready> = Handoff::new(QUEUE_BYTES);
    let mapped = std::thread::scope(|scope| -> Result<Mapped, ParquetExportError> {
        let encoding = &mut *writers;
        let (raw_chunks, batches_out, batches_in, spent) = (&raw_queue, &queue, &queue, &spares);
        let encoder = scope.spawn(move || -> Result<(), ParquetExportError> {
            let writers = encoding;
            // The mapping thread learns of a failure here at its next hand-over.
            let _closing = batches_in.closer();
            while let Some(((key, batch), bytes)) = batches_in.take() {
                check_leaves(&batch)?;
                writers.write(&key, &batch)?;
                drop(batch);
                batches_in.done(bytes);
            }
            writers.finish()
        });
        let mapper = scope.spawn(move || -> Result<Mapped, ParquetExportError> {
            // When it returns (or fails), the encoder sees the end of the batches and the reader stops.
            let _closing_in = raw_chunks.closer();
            let _closing_out = batches_out.closer();
            map_chunks(raw_chunks, batches_out, spent)
        });
        let mut read = |send: &Handoff<RawChunk>| -> Result<(), ParquetExportError> {
            let mut chunk = spares.take();
            // The archives whose stored leaves are not all read yet, oldest first.
            let mut leaf_checks: VecDeque<LeafCheck> = VecDeque::new();
            while let Some(r) = rows.next()? {
                let archive_id: i64 = r.get(0)?;
                let info = match archives.get(&archive_id) {
                    Some(i) => i.clone(),
                    None => {
                        let (i, leaves) = archive_info(store, archive_id, opts.aws_keys)?;
                        leaf_checks.extend(leaves);
                        let i = Arc::new(i);
                        archives.insert(archive_id, i.clone());
                        i
                    }
                };
                let raw = chunk.push(text(r, 12)?);
                let leaf_hex = chunk.push_hex(blob(r, 11)?);
                let mut field = |i: usize| -> rusqlite::Result<Option<Range<usize>>> {
                    Ok(text_or_null(r, i)?.map(|t| chunk.push(t)))
                };
                let row = RawRow {
                    index: r.get(1)?,
                    ts: r.get(2)?,
                    actor: field(3)?,
                    action: field(4)?,
                    resource: field(5)?,
                    outcome: field(6)?,
                    ip: field(7)?,
                    agent: field(8)?,
                    privilege: field(9)?,
                    category: field(10)?,
                    source: field(13)?,
                    id: r.get(14)?,
                    parse_error: field(15)?,
                    origin: field(16)?,
                    env: field(17)?,
                    stage: field(18)?,
                    raw,
                    leaf_hex,
                    info,
                };
                chunk.rows.push(row);
                count += 1;
                if chunk.rows.len() >= CHUNK_ROWS || chunk.text.len() >= CHUNK_BYTES {
                    let bytes = chunk.bytes();
                    if !send.give(std::mem::replace(&mut chunk, spares.take()), bytes) {
                        // The mapping thread stopped: its error (or the encoder's) is returned below.
                        return Ok(());
                    }
                    progress(ExportProgress { rows: count, total });
                    if let Some(check) = leaf_checks.front_mut()
                        && check.advance(store, LEAVES_PER_CHUNK)?
                    {
                        leaf_checks.pop_front();
                    }
                }
            }
            if !chunk.rows.is_empty() {
                let bytes = chunk.bytes();
                send.give(chunk, bytes);
            }
            // Every row is handed over; the export fails (and removes what it wrote) unless every archive's
            // leaves reproduce its signed root.
            for check in &mut leaf_checks {
                while !check.advance(store, LEAVES_PER_CHUNK * 16)? {}
            }
            Ok(())
        };
        // When `read` returns (or fails), the mapping thread sees the end of the rows.
        let read_result = {
            let _closing = raw_queue.closer();
            read(&raw_queue)
        };
        let thread_failed = |which: &str| ParquetExportError::Usage(format!("the {which} failed"));
        let map_result = mapper
            .join()
            .unwrap_or_else(|_| Err(thread_failed("OCSF mapping")));
        let encode_result = encoder
            .join()
            .unwrap_or_else(|_| Err(thread_failed("Parquet encoder")));
        read_result?;
        encode_result?;
        map_result
    })?;
    let Mapped {
        by_class,
        raw_bytes,
    } = mapped;
    progress(ExportProgress { rows: count, total });
    drop(rows);
    drop(stmt);
    drop(tx);

    let exported = crate::time::format_utc(opts.now_micros);
    let auditor = opts.auditor.verifier();
    let manifest_json = ManifestJson {
        format: FORMAT_NAME,
        format_version: 1,
        export_id: export_id.to_owned(),
        ocsf_version: OCSF_VERSION,
        software: format!("auditlens {}", env!("CARGO_PKG_VERSION")),
        exported: exported.clone(),
        selection: SelectionJson {
            query: opts.query.to_owned(),
            from: opts.from.map(crate::time::format_utc),
            to: opts.to.map(crate::time::format_utc),
            all_stages: opts.all_stages,
        },
        auditor: KeyInfo::of(&auditor),
        rows: count,
        left_out_unverified: left_out.max(0) as u64,
        left_out_stages,
        by_class: by_class.clone(),
        files: &writers.files,
    };
    let mut json = serde_json::to_vec_pretty(&manifest_json)
        .map_err(io::Error::other)
        .map_err(|source| ParquetExportError::Io {
            path: PARQUET_MANIFEST_JSON.into(),
            source,
        })?;
    json.push(b'\n');
    let json_path = opts.out.join(PARQUET_MANIFEST_JSON);
    write_new(&json_path, &json)?;
    writers.created.push(json_path);

    let mut lines: Vec<(String, u64, String)> = writers
        .files
        .iter()
        .map(|f| {
            let sha: [u8; 32] = hex32(&f.sha256);
            (f.path.clone(), f.bytes, encode_hash(&sha))
        })
        .collect();
    let json_hash: [u8; 32] = Sha256::digest(&json).into();
    lines.push((
        PARQUET_MANIFEST_JSON.to_owned(),
        json.len() as u64,
        encode_hash(&json_hash),
    ));
    lines.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut text = format!("{PARQUET_MANIFEST_HEADER}\nauditor {auditor}\n");
    for (path, size, hash) in &lines {
        text.push_str(&format!("{hash} {size} {path}\n"));
    }
    let signed = opts
        .auditor
        .sign(&text)
        .map_err(|e| ParquetExportError::Usage(format!("signing the manifest: {e}")))?;
    write_new(&opts.out.join(PARQUET_MANIFEST), signed.as_bytes())?;

    Ok(ParquetExportSummary {
        out: opts.out.display().to_string(),
        rows: count,
        files: writers.files.len() as u64,
        bytes: writers.files.iter().map(|f| f.bytes).sum(),
        raw_bytes,
        by_class,
        left_out_unverified: left_out.max(0) as u64,
        left_out_stages,
        exported,
    })
}

/// Rows read from the store, for the mapping thread: their texts in one buffer (a chunk is a few allocations,
/// whichever thread frees it).
#[derive(Default)]
struct RawChunk {
    text: String,
    rows: Vec<RawRow>,
}

/// One row of a [`RawChunk`]: its texts as ranges of the chunk's buffer.
struct RawRow {
    info: Arc<ArchiveInfo>,
    index: i64,
    ts: Option<i64>,
    raw: Range<usize>,
    /// The leaf the store holds, in hex.
    leaf_hex: Range<usize>,
    actor: Option<Range<usize>>,
    action: Option<Range<usize>>,
    resource: Option<Range<usize>>,
    outcome: Option<Range<usize>>,
    ip: Option<Range<usize>>,
    agent: Option<Range<usize>>,
    privilege: Option<Range<usize>>,
    category: Option<Range<usize>>,
    source: Option<Range<usize>>,
    /// What else the store derived from the bytes, checked with the fields above before the row is mapped.
    id: i64,
    parse_error: Option<Range<usize>>,
    origin: Option<Range<usize>>,
    env: Option<Range<usize>>,
    stage: Option<Range<usize>>,
}

impl RawChunk {
    fn push(&mut self, text: &str) -> Range<usize> {
        let start = self.text.len();
        // An event longer than a chunk (up to 16 MiB) takes the room it needs, not twice the buffer's.
        if text.len() >= CHUNK_BYTES {
            self.text.reserve_exact(text.len());
        }
        self.text.push_str(text);
        start..self.text.len()
    }

    fn push_hex(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.text.len();
        merkle::push_hex(&mut self.text, bytes);
        start..self.text.len()
    }

    fn get(&self, at: &Range<usize>) -> &str {
        self.text.get(at.clone()).unwrap_or("")
    }

    fn get_opt(&self, at: &Option<Range<usize>>) -> Option<&str> {
        at.as_ref().map(|at| self.get(at))
    }

    /// Bytes it holds, about.
    fn bytes(&self) -> usize {
        self.text.len() + self.rows.len() * std::mem::size_of::<RawRow>()
    }
}

/// Chunks the mapping thread is done with, for the reading thread to fill again: their buffers are reused rather
/// than allocated anew (a new block of a few MiB is fresh pages, each faulted in by the kernel).
#[derive(Default)]
struct Spares(Mutex<Vec<RawChunk>>);

impl Spares {
    /// A chunk to fill.
    fn take(&self) -> RawChunk {
        let mut spares = self.0.lock().unwrap_or_else(|e| e.into_inner());
        spares.pop().unwrap_or_default()
    }

    /// Keeps an emptied chunk, unless enough are kept or its buffer grew past a chunk's usual size (an event of
    /// 16 MiB).
    fn put(&self, mut chunk: RawChunk) {
        if chunk.text.capacity() > 2 * CHUNK_BYTES {
            return;
        }
        chunk.text.clear();
        chunk.rows.clear();
        let mut spares = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if spares.len() < SPARE_CHUNKS {
            spares.push(chunk);
        }
    }
}

/// Emptied chunks kept for reuse.
const SPARE_CHUNKS: usize = 4;

/// What the mapping thread counted.
#[derive(Default)]
struct Mapped {
    by_class: BTreeMap<String, u64>,
    raw_bytes: u64,
}

/// The mapping thread: each row read is mapped to OCSF and appended to its partition's columns; full batches go
/// to the encoder.
fn map_chunks(
    chunks: &Handoff<RawChunk>,
    send: &Handoff<Ready>,
    spares: &Spares,
) -> Result<Mapped, ParquetExportError> {
    let mut counted: BTreeMap<Class, u64> = BTreeMap::new();
    let mut raw_bytes = 0u64;
    let mut batches = Batches::default();
    let mut event_id = String::new();
    let mapped = |counted: BTreeMap<Class, u64>, raw_bytes| Mapped {
        by_class: counted
            .into_iter()
            .map(|(class, n)| (class.folder().to_owned(), n))
            .collect(),
        raw_bytes,
    };
    while let Some((chunk, bytes)) = chunks.take() {
        for row in &chunk.rows {
            let info = &row.info;
            let raw = chunk.get(&row.raw);
            event_id.clear();
            // As `store::event_id` writes it, without a String per row.
            write!(
                event_id,
                "{}@{}#{}",
                info.origin, info.sequence as u64, row.index as u64
            )
            .expect("writing to a String");
            let outcome = chunk.get_opt(&row.outcome);
            // The row's fields are the file's claim: they must be what the bytes give under the archive's rules
            // (as `check` and a page of search results confirm them), or the export stops and removes its files.
            let stored = StoredFields {
                ts: row.ts,
                id: row.id,
                parse_error: chunk.get_opt(&row.parse_error),
                fields: [
                    chunk.get_opt(&row.source),
                    chunk.get_opt(&row.origin),
                    chunk.get_opt(&row.actor),
                    chunk.get_opt(&row.action),
                    chunk.get_opt(&row.resource),
                    outcome,
                    chunk.get_opt(&row.ip),
                    chunk.get_opt(&row.agent),
                    chunk.get_opt(&row.env),
                    chunk.get_opt(&row.stage),
                    chunk.get_opt(&row.category),
                    chunk.get_opt(&row.privilege),
                ],
            };
            // Read once: for the confirmation and for the mapping.
            let event = crate::sources::read_event(raw.as_bytes());
            let (_, findings) =
                stored.derive_read(&event, &info.rules, &info.source_name, &info.origin);
            if !findings.is_empty() {
                return Err(ParquetExportError::Refused(format!(
                    "{event_id}: this event as stored is not the one signed: {} (run auditlens check)",
                    findings.join("; ")
                )));
            }
            let fields = Fields {
                ts: row.ts,
                actor: chunk.get_opt(&row.actor),
                action: chunk.get_opt(&row.action),
                resource: chunk.get_opt(&row.resource),
                outcome,
                ip: chunk.get_opt(&row.ip),
                agent: chunk.get_opt(&row.agent),
                privilege: chunk.get_opt(&row.privilege),
            };
            let ocsf = map::map_read(info.kind, raw, event.as_ref().ok(), &fields);
            // The row's texts are the event's bytes: its parsed tree (up to 14 times a 16 MiB event) is freed
            // before the row is copied into the columns, not after.
            drop(event);
            *counted.entry(ocsf.class).or_default() += 1;
            raw_bytes += raw.len() as u64;
            let provenance = Provenance {
                time_ms: row.ts.map_or(info.sealed_ms, |t| t.div_euclid(1000)),
                time_known: row.ts.is_some(),
                raw,
                event_id: &event_id,
                origin: &info.origin,
                sequence: info.sequence,
                index: row.index,
                leaf_hex: chunk.get(&row.leaf_hex),
                archive: &info.columns,
                source: chunk.get_opt(&row.source),
                category: chunk.get_opt(&row.category),
                outcome,
            };
            let ready = batches
                .append(&ocsf, &provenance)
                .map_err(|e| arrow_error(&event_id, e))?;
            for (key, batch, bytes) in ready {
                if !send.give((key, batch), bytes) {
                    // The encoder stopped: its error is returned by the caller.
                    return Ok(mapped(counted, raw_bytes));
                }
            }
        }
        spares.put(chunk);
        chunks.done(bytes);
    }
    for (key, batch, bytes) in batches.drain().map_err(|e| arrow_error("", e))? {
        if !send.give((key, batch), bytes) {
            break;
        }
    }
    Ok(mapped(counted, raw_bytes))
}

/// A partition's record batch, ready to be encoded.
type Ready = (PartitionKey, RecordBatch);

fn arrow_error(at: &str, e: arrow_schema::ArrowError) -> ParquetExportError {
    ParquetExportError::Parquet {
        path: at.to_owned(),
        message: e.to_string(),
    }
}

/// A text column of the row, borrowed from SQLite's buffer.
fn text<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r str> {
    let v = r.get_ref(i)?;
    v.as_str()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, v.data_type(), Box::new(e)))
}

fn text_or_null<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    let v = r.get_ref(i)?;
    v.as_str_or_null()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, v.data_type(), Box::new(e)))
}

fn blob<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> rusqlite::Result<&'r [u8]> {
    let v = r.get_ref(i)?;
    v.as_blob()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, v.data_type(), Box::new(e)))
}

/// Checks, before a batch is written, that each row's exact bytes hash to the leaf the store holds for it (the
/// archive's checkpoint was checked against those leaves when its first row was read).
fn check_leaves(batch: &RecordBatch) -> Result<(), ParquetExportError> {
    let column = |name: &str| {
        batch
            .column_by_name(name)
            .and_then(|c| c.as_string_opt::<i32>())
            .ok_or_else(|| ParquetExportError::Parquet {
                path: String::new(),
                message: format!("the batch has no text column {name}"),
            })
    };
    let (raw, leaves, ids) = (
        column(columns::RAW_DATA)?,
        column(columns::LEAF_HASH)?,
        column(columns::EVENT_ID)?,
    );
    let mut hex = String::with_capacity(64);
    for i in 0..batch.num_rows() {
        hex.clear();
        merkle::push_hex(&mut hex, &merkle::leaf_hash(raw.value(i).as_bytes()));
        if leaves.value(i) != hex {
            return Err(ParquetExportError::Refused(format!(
                "{}: its stored bytes do not hash to its stored leaf (run auditlens check)",
                ids.value(i)
            )));
        }
    }
    Ok(())
}

/// The reading side's partition buffers: each row is appended to its partition's columns, and a partition's
/// record batch is handed over once it holds [`BATCH_ROWS`] rows or [`BATCH_BYTES`] bytes (every partition's,
/// once all together hold four times that).
#[derive(Default)]
struct Batches {
    open: HashMap<PartitionKey, RowsBuilder>,
    bytes: usize,
    /// The last row's partition, and the values it was found from (rows come oldest first: most share it).
    last: Option<LastPartition>,
}

/// A row's partition, and the class, region, account and day number it was found from.
struct LastPartition {
    class: Class,
    region: Option<String>,
    account: Option<String>,
    day: i64,
    key: PartitionKey,
}

impl Batches {
    /// Sets `last` to the row's partition, found again only when it is not the last row's.
    fn set_partition(&mut self, e: &OcsfEvent, time_ms: i64) {
        let day = time_ms.div_euclid(MS_PER_DAY);
        let same = self.last.as_ref().is_some_and(|last| {
            last.class == e.class
                && last.region.as_deref() == e.region.as_deref()
                && last.account.as_deref() == e.account.as_deref()
                && last.day == day
        });
        if !same {
            self.last = Some(LastPartition {
                class: e.class,
                region: e.region.as_deref().map(str::to_owned),
                account: e.account.as_deref().map(str::to_owned),
                day,
                key: PartitionKey {
                    class: e.class,
                    region: path_value(e.region.as_deref()),
                    account: path_value(e.account.as_deref()),
                    day: day_of(time_ms),
                },
            });
        }
    }

    /// Appends a row; returns the batches that are ready.
    fn append(
        &mut self,
        e: &OcsfEvent,
        p: &Provenance<'_>,
    ) -> Result<Vec<(PartitionKey, RecordBatch, usize)>, arrow_schema::ArrowError> {
        self.set_partition(e, p.time_ms);
        // The key stays in `last`: a row clones it only for a new partition or a full batch.
        let key = &self.last.as_ref().expect("set just above").key;
        let rows = match self.open.get_mut(key) {
            Some(rows) => rows,
            None => self.open.entry(key.clone()).or_default(),
        };
        let before = rows.bytes();
        rows.append(e, p)?;
        self.bytes += rows.bytes() - before;
        let mut ready = Vec::new();
        if rows.len() >= BATCH_ROWS || rows.bytes() >= BATCH_BYTES {
            let rows = self.open.remove(key).unwrap_or_default();
            self.bytes -= rows.bytes();
            let bytes = rows.bytes();
            ready.push((key.clone(), rows.finish()?, bytes));
        }
        // Memory: the rows of every partition together stay under a few batches.
        if self.bytes >= 4 * BATCH_BYTES {
            ready.extend(self.drain()?);
        }
        Ok(ready)
    }

    /// Every partition's batch, in the order of their keys.
    fn drain(
        &mut self,
    ) -> Result<Vec<(PartitionKey, RecordBatch, usize)>, arrow_schema::ArrowError> {
        let mut open: Vec<(PartitionKey, RowsBuilder)> = self.open.drain().collect();
        open.sort_by(|a, b| a.0.cmp(&b.0));
        self.bytes = 0;
        open.into_iter()
            .filter(|(_, rows)| !rows.is_empty())
            .map(|(key, rows)| {
                let bytes = rows.bytes();
                Ok((key, rows.finish()?, bytes))
            })
            .collect()
    }
}

/// Chunks of rows from the reading thread to the encoding one: at most `limit` bytes of them waiting or being
/// encoded (and always one, whatever its size).
struct Handoff<T> {
    state: Mutex<HandoffState<T>>,
    changed: Condvar,
    limit: usize,
}

struct HandoffState<T> {
    chunks: VecDeque<(T, usize)>,
    bytes: usize,
    /// One side is done (the reader finished, or either side failed).
    closed: bool,
}

/// Closes the hand-off when dropped: on return, on `?` and on a panic alike.
struct Closer<'a, T>(&'a Handoff<T>);

impl<T> Drop for Closer<'_, T> {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        state.closed = true;
        self.0.changed.notify_all();
    }
}

impl<T> Handoff<T> {
    fn new(limit: usize) -> Handoff<T> {
        Handoff {
            state: Mutex::new(HandoffState {
                chunks: VecDeque::new(),
                bytes: 0,
                closed: false,
            }),
            changed: Condvar::new(),
            limit,
        }
    }

    fn closer(&self) -> Closer<'_, T> {
        Closer(self)
    }

    /// Waits for room, then queues the chunk; false when the other side is gone (the chunk is dropped).
    fn give(&self, chunk: T, bytes: usize) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while !state.closed && state.bytes > 0 && state.bytes + bytes > self.limit {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        if state.closed {
            return false;
        }
        state.bytes += bytes;
        state.chunks.push_back((chunk, bytes));
        self.changed.notify_all();
        true
    }

    /// The next chunk and its bytes, which still count against the limit until [`Handoff::done`]; `None` once
    /// the queue is empty and closed.
    fn take(&self) -> Option<(T, usize)> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(chunk) = state.chunks.pop_front() {
                return Some(chunk);
            }
            if state.closed {
                return None;
            }
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// A chunk taken is done with: its bytes no longer count.
    fn done(&self, bytes: usize) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.bytes -= bytes;
        self.changed.notify_all();
    }
}

fn hex32(hex: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    out
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<(), ParquetExportError> {
    let io_err = |source| ParquetExportError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut f = File::create_new(path).map_err(io_err)?;
    f.write_all(bytes).map_err(io_err)?;
    f.sync_all().map_err(io_err)
}

/// An archive's provenance columns, once its signed checkpoint and manifest verify, and the check of its stored
/// leaves against its signed root, which the caller runs to the end (a CloudTrail archive's are checked here).
fn archive_info(
    store: &Store,
    archive_id: i64,
    aws_keys: Option<&crate::cloudtrail_digest::AwsKeys>,
) -> Result<(ArchiveInfo, Option<LeafCheck>), ParquetExportError> {
    type Row = (String, i64, Option<String>, Option<String>, Option<Vec<u8>>);
    let (origin, sequence, normalization, evidence, mapping): Row = store.conn.query_row(
        "SELECT origin, sequence, normalization, evidence, mapping FROM archives WHERE id = ?1",
        [archive_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let refused = |why: String| {
        ParquetExportError::Refused(format!(
            "{origin}@{sequence}: the archive as stored is not the one signed: {why}"
        ))
    };
    if evidence.as_deref() == Some(crate::store::import::CLOUDTRAIL_EVIDENCE) {
        let rules = stored_rules(
            Normalizer::builtin(SourceKind::Cloudtrail),
            SourceKind::Cloudtrail,
            true,
            normalization.as_deref(),
            mapping.as_deref(),
        )
        .map_err(refused)?;
        let info = cloudtrail_info(
            store,
            archive_id,
            origin,
            sequence,
            normalization,
            aws_keys,
            rules,
        )?;
        return Ok((info, None));
    }
    let (checked, leaves) = check_archive(store, archive_id, &origin, sequence.max(0) as u64)?;
    let kind: SourceKind = checked
        .source_kind
        .parse()
        .map_err(|_| refused(format!("unknown source kind {:?}", checked.source_kind)))?;
    let rules = stored_rules(
        checked.normalizer.clone(),
        kind,
        false,
        normalization.as_deref(),
        mapping.as_deref(),
    )
    .map_err(refused)?;
    let checkpoint_sha: [u8; 32] = Sha256::digest(&checked.checkpoint_bytes).into();
    let info = ArchiveInfo {
        columns: Arc::new(ArchiveColumns {
            root_hex: merkle::to_hex(&checked.root),
            checkpoint_sha256_hex: merkle::to_hex(&checkpoint_sha),
            signer_fingerprint: checked.signer_fingerprint,
            normalization: normalization.unwrap_or_else(|| checked.normalizer.source_name()),
            verification: if checked.received {
                "sealed-on-receipt"
            } else {
                "verified"
            },
        }),
        origin: origin.into(),
        sequence,
        kind,
        sealed_ms: checked.sealed_micros.unwrap_or(0).div_euclid(1000),
        source_name: rules.source_name(),
        rules,
    };
    Ok((info, Some(leaves)))
}

/// An AWS CloudTrail archive's columns, once its stored digests, log files and events re-verify with the AWS keys
/// given (the same check as `auditlens check --aws-keys`): its proof is AWS's signed digests, not a checkpoint, so
/// `auditlens_checkpoint_sha256` is empty and `auditlens_verification` is `aws-cloudtrail`.
fn cloudtrail_info(
    store: &Store,
    archive_id: i64,
    origin: String,
    sequence: i64,
    normalization: Option<String>,
    aws_keys: Option<&crate::cloudtrail_digest::AwsKeys>,
    rules: Normalizer,
) -> Result<ArchiveInfo, ParquetExportError> {
    let refused = |why: String| ParquetExportError::Refused(format!("{origin}@{sequence}: {why}"));
    store
        .cloudtrail_exportable(archive_id, aws_keys)?
        .map_err(refused)?;
    let (root, fingerprints, imported): (Option<Vec<u8>>, Option<String>, String) =
        store.conn.query_row(
            "SELECT root, signer_fingerprint, imported_at FROM archives WHERE id = ?1",
            [archive_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
    Ok(ArchiveInfo {
        columns: Arc::new(ArchiveColumns {
            root_hex: root.as_deref().map(merkle::hex).unwrap_or_default(),
            checkpoint_sha256_hex: String::new(),
            signer_fingerprint: fingerprints.unwrap_or_default(),
            normalization: normalization.unwrap_or_else(|| "cloudtrail".into()),
            verification: crate::store::import::CLOUDTRAIL_EVIDENCE,
        }),
        origin: origin.into(),
        sequence,
        kind: SourceKind::Cloudtrail,
        sealed_ms: crate::time::parse_rfc3339(&imported)
            .unwrap_or(0)
            .div_euclid(1000),
        source_name: rules.source_name(),
        rules,
    })
}

#[derive(Serialize)]
struct SelectionJson {
    query: String,
    from: Option<String>,
    to: Option<String>,
    all_stages: bool,
}

#[derive(Serialize)]
struct ManifestJson<'a> {
    format: &'static str,
    format_version: u32,
    export_id: String,
    ocsf_version: &'static str,
    software: String,
    exported: String,
    selection: SelectionJson,
    auditor: KeyInfo,
    rows: u64,
    left_out_unverified: u64,
    left_out_stages: u64,
    by_class: BTreeMap<String, u64>,
    files: &'a [FileEntry],
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch of the JSON Lines events `raws` of one archive, with the leaf `leaf(index, raw)` for each.
    fn batch_of(raws: &[&str], leaf: impl Fn(usize, &str) -> String) -> RecordBatch {
        let archive = ArchiveColumns {
            root_hex: String::new(),
            checkpoint_sha256_hex: String::new(),
            signer_fingerprint: String::new(),
            normalization: String::new(),
            verification: "verified",
        };
        let mut rows = RowsBuilder::new();
        for (i, raw) in raws.iter().enumerate() {
            let leaf = leaf(i, raw);
            let id = format!("o@1#{i}");
            let p = Provenance {
                time_ms: 0,
                time_known: true,
                raw,
                event_id: &id,
                origin: "o",
                sequence: 1,
                index: i as i64,
                leaf_hex: &leaf,
                archive: &archive,
                source: None,
                category: None,
                outcome: None,
            };
            let e = map::map_raw(SourceKind::Jsonl, raw, &Fields::default());
            rows.append(&e, &p).unwrap();
        }
        rows.finish().unwrap()
    }

    /// A batch of `n` small rows (what the writers are given; the leaves are not checked here).
    fn small_batch(n: usize) -> RecordBatch {
        let raws: Vec<String> = (0..n).map(|i| format!(r#"{{"n":{i}}}"#)).collect();
        let raws: Vec<&str> = raws.iter().map(String::as_str).collect();
        batch_of(&raws, |_, _| String::new())
    }

    /// Writes `rounds` batches to each of `partitions` partitions, interleaved as events in time order are, checking
    /// the bounds after every write; returns the files written and their rows.
    fn interleaved(partitions: usize, rounds: usize) -> (usize, u64) {
        let dir = std::env::temp_dir().join(format!(
            "auditlens-writers-{}-{partitions}-{rounds}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let mut w = Writers::new(&dir, "test".into());
        let batch = small_batch(3);
        for _ in 0..rounds {
            for p in 0..partitions {
                let key = PartitionKey {
                    class: Class::ApiActivity,
                    region: "us-east-1".into(),
                    account: format!("{p:012}"),
                    day: "20240601".into(),
                };
                w.write(&key, &batch).unwrap();
                assert!(w.open.len() <= MAX_OPEN);
                let busy = w
                    .open
                    .values()
                    .filter(|f| f.writer.in_progress_rows() > 0)
                    .count();
                assert!(
                    busy <= MAX_IN_PROGRESS,
                    "{busy} files with rows in progress"
                );
                let held: usize = w
                    .open
                    .values()
                    .map(|f| f.writer.flushed_row_groups().len())
                    .sum();
                assert!(held <= HELD_ROW_GROUPS, "{held} row groups held");
            }
        }
        w.finish().unwrap();
        let rows = w.files.iter().map(|f| f.rows).sum();
        let files = w.files.len();
        std::fs::remove_dir_all(&dir).unwrap();
        (files, rows)
    }

    #[test]
    fn interleaved_partitions_get_a_file_each_within_the_bounds() {
        // As many partitions as files with rows in progress: one file each, one row group each.
        assert_eq!(interleaved(MAX_IN_PROGRESS, 5), (MAX_IN_PROGRESS, 120));
        // More: each write to another partition writes a row group out, and the files stay open.
        assert_eq!(interleaved(20, 5), (20, 300));
        // More row groups than the open files may hold: the file holding most is closed, the next events of its
        // partition start another; still several row groups a file (with 8 open files, as before, every one of
        // these 720 writes started a file).
        let (files, rows) = interleaved(60, 12);
        assert_eq!(rows, 2160);
        assert!((60..=240).contains(&files), "{files} files");
    }

    #[test]
    fn partition_values_never_leave_their_folder() {
        assert_eq!(path_value(Some("us-east-1")), "us-east-1");
        assert_eq!(path_value(Some("111122223333")), "111122223333");
        for bad in ["../etc", "a/b", "", "é", "x y", "a=b", &"a".repeat(65)] {
            assert_eq!(path_value(Some(bad)), "unknown", "{bad:?}");
        }
        assert_eq!(path_value(None), "unknown");
        // Values loaders read as no value at all (review finding, 2026-12-08).
        for null in [
            "__HIVE_DEFAULT_PARTITION__",
            "__hive_default_partition__",
            "null",
            "NULL",
        ] {
            assert_eq!(path_value(Some(null)), "unknown", "{null:?}");
        }
    }

    #[test]
    fn event_days_are_utc() {
        assert_eq!(day_of(0), "19700101");
        assert_eq!(day_of(1_704_067_199_999), "20231231");
        assert_eq!(day_of(1_704_067_200_000), "20240101");
    }

    #[test]
    fn the_handoff_holds_at_most_its_bytes_and_always_one_chunk() {
        let queue: Handoff<u32> = Handoff::new(10);
        let peak = std::sync::atomic::AtomicUsize::new(0);
        let taken = std::thread::scope(|scope| {
            let taker = scope.spawn(|| {
                let mut taken = Vec::new();
                while let Some((chunk, bytes)) = queue.take() {
                    let held = queue.state.lock().unwrap().bytes;
                    peak.fetch_max(held, std::sync::atomic::Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    taken.push(chunk);
                    queue.done(bytes);
                }
                taken
            });
            let _closing = queue.closer();
            // 4 + 4 fit; 25 is over the limit alone and waits until nothing is held, then goes alone.
            for (chunk, bytes) in [(1, 4), (2, 4), (3, 4), (4, 25), (5, 1), (6, 9)] {
                assert!(queue.give(chunk, bytes));
                assert!(queue.state.lock().unwrap().bytes <= 25);
            }
            drop(_closing);
            taker.join().unwrap()
        });
        assert_eq!(taken, vec![1, 2, 3, 4, 5, 6], "in order, none lost");
        assert!(peak.load(std::sync::atomic::Ordering::SeqCst) <= 25);
        assert_eq!(queue.state.lock().unwrap().bytes, 0);
    }

    #[test]
    fn a_handoff_whose_taker_stopped_refuses_more() {
        let queue: Handoff<u32> = Handoff::new(10);
        assert!(queue.give(1, 10));
        drop(queue.closer());
        // Full and closed: the giver is not left waiting.
        assert!(!queue.give(2, 10));
        assert_eq!(queue.take().map(|(c, _)| c), Some(1));
        assert_eq!(queue.take(), None);
    }

    #[test]
    fn a_row_whose_bytes_changed_stops_its_batch() {
        let events = [r#"{"a":1}"#, r#"{"b":2}"#];
        let batch = |leaf_of_second: &str| {
            batch_of(&events, |i, raw| {
                if i == 1 {
                    leaf_of_second.to_owned()
                } else {
                    merkle::to_hex(&merkle::leaf_hash(raw.as_bytes()))
                }
            })
        };
        let good = merkle::to_hex(&merkle::leaf_hash(events[1].as_bytes()));
        assert!(check_leaves(&batch(&good)).is_ok());
        let other = merkle::to_hex(&merkle::leaf_hash(b"{\"b\":3}"));
        for wrong in [other.as_str(), "", &good.to_uppercase(), &good[..62]] {
            match check_leaves(&batch(wrong)) {
                Err(ParquetExportError::Refused(m)) => assert!(
                    m.starts_with("o@1#1: ") && m.contains("do not hash to its stored leaf"),
                    "{m}"
                ),
                other => panic!("{wrong:?}: {other:?}"),
            }
        }
    }
}
