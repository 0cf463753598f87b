//! Sealing: turn source log files into one signed archive (docs/archive-format.md).
//!
//! One streaming pass per input: each event's line goes into its `events/` entry, its leaf hash into a spill file
//! that becomes the `leaves` entry, the Merkle root and hash chain advance, and the time range grows (only the
//! time keys of each line are read: `sources::object_time_from_bytes`). Deflating the events runs on a second
//! thread, fed the same writes in the same order, so the archive bytes do not depend on it. The manifest and the
//! signed checkpoint are written last, then the file is renamed into place, so a half-written archive never carries
//! the final name.

/// Where it was first defined; the chain belongs to the archive format.
pub use crate::archive::chain_step;
use std::fs::{self, File};
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

use crate::archive::{
    self, ChainLines, FORMAT_NAME, FORMAT_VERSION, Manifest, ManifestEntry, TimeRange,
};
use crate::checkpoint::Checkpoint;
use crate::input::{self, InputError};
use crate::merkle::{self, Hash, RootBuilder};
use crate::note::{NoteError, SignerKey};
use crate::sources::{Mapping, Normalizer, SourceKind};
use crate::verify::{self, ArchiveStatus};

/// How many events kind detection looks at before deciding.
const DETECT_EVENTS: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{0}")]
    Usage(String),
    #[error("the inputs hold no events")]
    NoEvents,
    #[error("inputs mix {0} and {1} events; pass --format to say which mapper applies")]
    MixedKinds(SourceKind, SourceKind),
    #[error("previous archive {path}: {why}")]
    Previous { path: String, why: String },
    #[error("writing {path}: {source}")]
    Write { path: String, source: io::Error },
    #[error("writing the archive: {0}")]
    Zip(String),
    #[error(transparent)]
    Sign(#[from] NoteError),
}

pub struct SealOptions<'a> {
    pub key: &'a SignerKey,
    pub origin: &'a str,
    pub prev: Option<&'a Path>,
    pub format: Option<SourceKind>,
    /// A mapping file (docs/sources.md, "Mapping files"): sealed into the archive as `mapping.toml`, with
    /// source kind `mapping`.
    pub mapping: Option<&'a Path>,
    pub out: &'a Path,
    pub inputs: &'a [PathBuf],
    /// Seal on receipt (`auditlens receive`): the manifest records that the signer received these files, with
    /// each file's name, SHA-256 and size as received and the time (docs/archive-format.md section 4.1).
    pub receive: bool,
}

/// What was sealed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SealSummary {
    pub out: String,
    pub origin: String,
    pub sequence: u64,
    pub events: u64,
    pub bytes: u64,
    pub source_kind: SourceKind,
    pub root: String,
    pub chain_end: String,
    /// Set when sealed on receipt: what the manifest records of the files received, and the label every door
    /// shows for the archive ([`archive::receipt_label`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received: Option<archive::Receipt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_label: Option<String>,
}

pub fn seal(opts: &SealOptions<'_>) -> Result<SealSummary, SealError> {
    seal_observed(opts, &mut |_| {})
}

/// Points of sealing on receipt where a test changes the files received (`seal_observed`).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptStep {
    /// Every file received is copied and hashed; nothing else was read of it.
    Copied,
    /// The events are sealed; the files are about to be hashed again.
    Sealed,
}

/// [`seal`], telling `observe` when it reaches each [`ReceiptStep`] (sealing on receipt only).
#[doc(hidden)]
pub fn seal_observed(
    opts: &SealOptions<'_>,
    observe: &mut dyn FnMut(ReceiptStep),
) -> Result<SealSummary, SealError> {
    check_origin(opts.origin)?;
    if opts.inputs.is_empty() {
        return Err(SealError::Usage("no input files given".into()));
    }
    let (sequence, chain_start) = match opts.prev {
        None => (1, [0u8; 32]),
        Some(prev) => previous_link(prev, opts.origin)?,
    };
    let mapping = match opts.mapping {
        Some(path) => Some(read_mapping(path)?),
        None => None,
    };
    let out_dir = opts
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Sealing on receipt copies each file received as it hashes it, and seals the copy: the events sealed are
    // the bytes hashed, whatever happens to the file meanwhile (opened again for each pass over it, it could be
    // swapped for one pass and restored). The files are hashed again once sealed: one that changed meanwhile,
    // still being written perhaps, is refused.
    let received = if opts.receive {
        let copies = copy_received(opts.inputs, out_dir)?;
        observe(ReceiptStep::Copied);
        Some(copies)
    } else {
        None
    };
    let reads: Vec<PathBuf> = match &received {
        Some(copies) => copies.iter().map(|c| c.copy.path().to_owned()).collect(),
        None => opts.inputs.to_vec(),
    };
    let kind = match (opts.format, &mapping) {
        (Some(SourceKind::Mapping) | None, Some(_)) => SourceKind::Mapping,
        (Some(k), Some(_)) => {
            return Err(SealError::Usage(format!(
                "--mapping gives the archive source kind mapping; it cannot be sealed as {k}"
            )));
        }
        (Some(SourceKind::Mapping), None) => {
            return Err(SealError::Usage(
                "source kind mapping needs its mapping file: pass --mapping FILE".into(),
            ));
        }
        (Some(k), None) => k,
        (None, None) => detect_kind(&reads).map_err(|e| named_as(e, &reads, opts.inputs))?,
    };
    let normalizer =
        Normalizer::new(kind, mapping.as_deref()).map_err(|e| SealError::Usage(e.to_string()))?;
    let now = crate::time::format_utc(chrono::Utc::now().timestamp_micros());
    let tmp_path = tmp_name(opts.out);
    let write_err = |path: &Path| {
        let path = path.display().to_string();
        move |source: io::Error| SealError::Write {
            path: path.clone(),
            source,
        }
    };
    let result = (|| {
        let file = File::create(&tmp_path).map_err(write_err(&tmp_path))?;
        let zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 20, file));
        let mut leaves = BufWriter::with_capacity(
            1 << 20,
            tempfile::tempfile_in(out_dir).map_err(write_err(out_dir))?,
        );
        let mut state = SealState::new(chain_start);
        let (mut zip, (entries, entry_of_input)) =
            seal_events(zip, opts, &reads, &normalizer, &mut leaves, &mut state)
                .map_err(|e| named_as(e, &reads, opts.inputs))?;
        if state.count == 0 {
            return Err(SealError::NoEvents);
        }
        let received = match &received {
            None => None,
            Some(copies) => {
                observe(ReceiptStep::Sealed);
                let copied: Vec<(String, u64)> =
                    copies.iter().map(|c| (c.sha256.clone(), c.bytes)).collect();
                if hash_inputs(opts.inputs)? != copied {
                    return Err(SealError::Usage(
                        "an input file changed while it was being sealed on receipt: receive it again".into(),
                    ));
                }
                Some(archive::Receipt {
                    at: now.clone(),
                    files: opts
                        .inputs
                        .iter()
                        .zip(copied)
                        .zip(entry_of_input)
                        .map(|((path, (sha256, bytes)), entry)| archive::ReceivedFile {
                            name: input::base_name(path),
                            sha256,
                            bytes,
                            entry,
                        })
                        .collect(),
                })
            }
        };

        zip.start_file(
            archive::LEAVES,
            SimpleFileOptions::default().large_file(true),
        )
        .map_err(zip_err)?;
        let mut leaves = leaves.into_inner().map_err(|e| SealError::Write {
            path: "leaves spill file".into(),
            source: e.into_error(),
        })?;
        leaves.rewind().map_err(write_err(out_dir))?;
        io::copy(&mut leaves, &mut zip).map_err(write_err(&tmp_path))?;

        let stored =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        let mapping_sha256 = match &mapping {
            Some(bytes) => {
                zip.start_file(archive::MAPPING, stored).map_err(zip_err)?;
                zip.write_all(bytes).map_err(write_err(&tmp_path))?;
                let digest: Hash = Sha256::digest(bytes).into();
                Some(archive::encode_hash(&digest))
            }
            None => None,
        };

        let manifest = Manifest {
            format: FORMAT_NAME.into(),
            version: FORMAT_VERSION,
            origin: opts.origin.into(),
            sequence,
            source_kind: kind.as_str().into(),
            mapping_sha256,
            signer: opts.key.verifier().to_string(),
            created: now.clone(),
            events: state.count,
            time_range: state.time_range(),
            entries,
            tool: format!("auditlens {}", env!("CARGO_PKG_VERSION")),
            received,
        };
        let manifest_bytes =
            serde_json::to_vec_pretty(&manifest).map_err(|e| SealError::Zip(e.to_string()))?;
        zip.start_file(archive::MANIFEST, stored).map_err(zip_err)?;
        zip.write_all(&manifest_bytes)
            .map_err(write_err(&tmp_path))?;

        let chain = ChainLines {
            sequence,
            chain_start,
            chain_end: state.chain,
            manifest_sha256: Sha256::digest(&manifest_bytes).into(),
        };
        let checkpoint = Checkpoint {
            origin: opts.origin.into(),
            size: state.count,
            root: state.root.root(),
            extensions: chain.to_extensions(),
        };
        let note = opts.key.sign(&checkpoint.to_text())?;
        zip.start_file(archive::CHECKPOINT, stored)
            .map_err(zip_err)?;
        zip.write_all(note.as_bytes())
            .map_err(write_err(&tmp_path))?;

        let mut out = zip.finish().map_err(zip_err)?;
        out.flush().map_err(write_err(&tmp_path))?;
        let file = out.into_inner().map_err(|e| SealError::Write {
            path: tmp_path.display().to_string(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(write_err(&tmp_path))?;
        fs::rename(&tmp_path, opts.out).map_err(write_err(opts.out))?;
        Ok(SealSummary {
            out: opts.out.display().to_string(),
            origin: opts.origin.into(),
            sequence,
            events: state.count,
            bytes: state.bytes,
            source_kind: kind,
            root: archive::encode_hash(&checkpoint.root),
            chain_end: archive::encode_hash(&state.chain),
            received_label: manifest.received.as_ref().map(|r| {
                r.label(
                    opts.key.verifier().name(),
                    &opts.key.verifier().fingerprint(),
                )
            }),
            received: manifest.received,
        })
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp_path);
    }
    result
}

type ArchiveWriter = zip::ZipWriter<BufWriter<File>>;

/// The manifest entries, and for each input the name of the entry holding its events (none for an input
/// without events).
type SealedEntries = (Vec<ManifestEntry>, Vec<Option<String>>);

/// Event bytes handed to the compressing thread at a time, and how many such batches may wait for it.
const WRITE_BATCH_BYTES: usize = 1 << 20;
const WRITE_QUEUE: usize = 4;

/// Lines for the compressing thread: their bytes back to back, and where each one ends.
#[derive(Default)]
struct LineBatch {
    data: Vec<u8>,
    ends: Vec<usize>,
}

/// What the compressing thread does, in this order.
enum WriteOp {
    /// Start the events entry of this name.
    Start(String),
    Lines(LineBatch),
    /// Drop the entry just started (its input held no event).
    Abort,
}

/// Writes every input's events into its `events/` entry, one entry per input that holds events, and returns the
/// writer and the manifest entries. Two threads: this one reads, checks and hashes the events (leaf, chain, root,
/// leaves spill, time range, in `state`); the other deflates them into the archive, which is most of the work.
fn seal_events(
    zip: ArchiveWriter,
    opts: &SealOptions<'_>,
    reads: &[PathBuf],
    normalizer: &Normalizer,
    leaves: &mut impl Write,
    state: &mut SealState,
) -> Result<(ArchiveWriter, SealedEntries), SealError> {
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<WriteOp>(WRITE_QUEUE);
        let (free_tx, free_rx) = mpsc::channel::<LineBatch>();
        let writer = scope.spawn(move || compress_events(zip, rx, free_tx, opts.out));
        let read = read_events(opts, reads, normalizer, leaves, state, tx, &free_rx);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(SealError::Zip("the compressing thread failed".into())));
        // A write failure is the first failure: every line read before a read failure was handed over first.
        match (read, written) {
            (_, Err(e)) | (Err(e), Ok(_)) => Err(e),
            (Ok(entries), Ok(zip)) => Ok((zip, entries)),
        }
    })
}

/// The reading side of [`seal_events`]: the manifest entries, and for each input the entry holding its events
/// (none for an input without events). Returns when `tx` is dropped, which ends the compressing side. `reads`
/// are the files read in place of the inputs (the same but for files received: their copies).
fn read_events(
    opts: &SealOptions<'_>,
    reads: &[PathBuf],
    normalizer: &Normalizer,
    leaves: &mut impl Write,
    state: &mut SealState,
    tx: SyncSender<WriteOp>,
    free: &Receiver<LineBatch>,
) -> Result<SealedEntries, SealError> {
    let stopped = || SealError::Zip("the compressing thread stopped".into());
    let mut entries = Vec::new();
    let mut of_input = Vec::with_capacity(opts.inputs.len());
    let mut batch = LineBatch::default();
    for (input, path) in opts.inputs.iter().zip(reads) {
        let name = archive::events_entry_name(entries.len() + 1);
        let before = (state.count, state.bytes);
        tx.send(WriteOp::Start(name.clone()))
            .map_err(|_| stopped())?;
        let mut writer_gone = false;
        let read = input::for_each_timed_event(path, normalizer, |ev| {
            state
                .add(&ev.bytes, ev.ts, leaves)
                .map_err(|source| InputError::Io {
                    file: opts.out.display().to_string(),
                    source,
                })?;
            batch.data.extend_from_slice(&ev.bytes);
            batch.ends.push(batch.data.len());
            if batch.data.len() >= WRITE_BATCH_BYTES {
                let mut next = free.try_recv().unwrap_or_default();
                if next.data.capacity() > 4 * WRITE_BATCH_BYTES {
                    next.data.shrink_to(WRITE_BATCH_BYTES);
                }
                if tx
                    .send(WriteOp::Lines(std::mem::replace(&mut batch, next)))
                    .is_err()
                {
                    writer_gone = true;
                    return Ok(false);
                }
            }
            Ok(true)
        });
        // The lines read before a failure go out too: a write failure among them came first.
        if !batch.ends.is_empty() && tx.send(WriteOp::Lines(std::mem::take(&mut batch))).is_err() {
            writer_gone = true;
        }
        read?;
        if writer_gone {
            return Err(stopped());
        }
        let (events, bytes) = (state.count - before.0, state.bytes - before.1);
        if events == 0 {
            // An input without events adds no entry: drop the empty one just started.
            tx.send(WriteOp::Abort).map_err(|_| stopped())?;
            of_input.push(None);
            continue;
        }
        of_input.push(Some(name.clone()));
        entries.push(ManifestEntry {
            name,
            events,
            bytes,
            source: input::base_name(input),
        });
    }
    Ok((entries, of_input))
}

/// A file received, copied as it was read: the copy is sealed, and its bytes are the ones hashed.
struct ReceivedCopy {
    /// Deleted when dropped.
    copy: tempfile::NamedTempFile,
    /// SHA-256, lowercase hex.
    sha256: String,
    bytes: u64,
}

/// Copies each input into `dir` (beside the archive being written) as it hashes it: one read of each. Only
/// regular files ([`open_received`]).
fn copy_received(inputs: &[PathBuf], dir: &Path) -> Result<Vec<ReceivedCopy>, SealError> {
    inputs
        .iter()
        .map(|path| {
            let mut file = open_received(path)?;
            let mut copy = tempfile::Builder::new()
                .prefix(".auditlens-received-")
                .tempfile_in(dir)
                .map_err(|source| SealError::Write {
                    path: dir.display().to_string(),
                    source,
                })?;
            let copy_name = copy.path().display().to_string();
            let write_err = |source| SealError::Write {
                path: copy_name,
                source,
            };
            let mut hashing = HashingWriter {
                inner: copy.as_file_mut(),
                hash: Sha256::new(),
                bytes: 0,
            };
            let copied = io::copy(&mut file, &mut hashing);
            let (hash, bytes) = (hashing.hash.finalize(), hashing.bytes);
            match copied {
                Ok(_) => {}
                // What failed: reading the input, or writing its copy.
                Err(e) if hashing_failed_writing(&e) => return Err(write_err(e)),
                Err(e) => return Err(input_io(path)(e)),
            }
            Ok(ReceivedCopy {
                copy,
                sha256: crate::merkle::hex(&hash),
                bytes,
            })
        })
        .collect()
}

/// Writes through to `inner` and hashes what it took.
struct HashingWriter<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self
            .inner
            .write(buf)
            .map_err(|e| io::Error::new(e.kind(), WriteFailed(e)))?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner
            .flush()
            .map_err(|e| io::Error::new(e.kind(), WriteFailed(e)))
    }
}

/// A write error of [`HashingWriter`]'s file, told apart from a read error of the input `io::copy` reads.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct WriteFailed(io::Error);

fn hashing_failed_writing(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<WriteFailed>())
}

fn not_regular(path: &Path) -> SealError {
    SealError::Usage(format!(
        "{}: not a regular file (files received are hashed as they are on disk)",
        path.display()
    ))
}

/// An input error about a file read in place of an input (a copy of a file received) names the input.
fn named_as(e: SealError, reads: &[PathBuf], inputs: &[PathBuf]) -> SealError {
    let SealError::Input(mut e) = e else {
        return e;
    };
    let (InputError::Io { file, .. }
    | InputError::Invalid { file, .. }
    | InputError::Document { file, .. }) = &mut e;
    if let Some(input) = reads
        .iter()
        .zip(inputs)
        .find(|(read, _)| read.display().to_string() == *file)
        .map(|(_, input)| input)
    {
        *file = input.display().to_string();
    }
    SealError::Input(e)
}

/// Each input's SHA-256 (lowercase hex) and size, read as it is on disk: a file sealed on receipt, hashed again
/// once its copy is sealed.
fn hash_inputs(inputs: &[PathBuf]) -> Result<Vec<(String, u64)>, SealError> {
    inputs
        .iter()
        .map(|path| {
            let (hash, bytes) =
                archive::sha256_reader(&mut open_received(path)?).map_err(input_io(path))?;
            Ok((crate::merkle::hex(&hash), bytes))
        })
        .collect()
}

/// A file received, opened to be read. Only regular files: a pipe or device cannot be read twice (copied and
/// hashed, then hashed again).
fn open_received(path: &Path) -> Result<File, SealError> {
    let file = File::open(path).map_err(input_io(path))?;
    if !file.metadata().map_err(input_io(path))?.is_file() {
        return Err(not_regular(path));
    }
    Ok(file)
}

/// An error reading the input `path`.
fn input_io(path: &Path) -> impl Fn(io::Error) -> SealError + '_ {
    move |source| {
        SealError::Input(InputError::Io {
            file: path.display().to_string(),
            source,
        })
    }
}

/// The compressing side of [`seal_events`]: runs the operations in order until the reading side is done.
fn compress_events(
    mut zip: ArchiveWriter,
    ops: Receiver<WriteOp>,
    free: Sender<LineBatch>,
    out: &Path,
) -> Result<ArchiveWriter, SealError> {
    let deflate = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    for op in ops {
        match op {
            WriteOp::Start(name) => zip.start_file(name.as_str(), deflate).map_err(zip_err)?,
            WriteOp::Lines(mut batch) => {
                let mut start = 0;
                for &end in &batch.ends {
                    // One write for the line and one for its newline, as always: the deflate stream depends on
                    // how its input is cut, and the same input must give the same archive bytes.
                    let line = batch.data.get(start..end).unwrap_or_default();
                    zip.write_all(line)
                        .and_then(|()| zip.write_all(b"\n"))
                        .map_err(|source| InputError::Io {
                            file: out.display().to_string(),
                            source,
                        })?;
                    start = end;
                }
                batch.data.clear();
                batch.ends.clear();
                // The reading side may be done already; then the batch is simply dropped.
                let _ = free.send(batch);
            }
            WriteOp::Abort => zip.abort_file().map_err(zip_err)?,
        }
    }
    Ok(zip)
}

struct SealState {
    count: u64,
    bytes: u64,
    chain: Hash,
    root: RootBuilder,
    first: Option<i64>,
    last: Option<i64>,
}

impl SealState {
    fn new(chain_start: Hash) -> Self {
        SealState {
            count: 0,
            bytes: 0,
            chain: chain_start,
            root: RootBuilder::new(),
            first: None,
            last: None,
        }
    }

    /// Accounts for one event (its bytes go to the archive separately) with its time under the archive's kind.
    fn add(&mut self, line: &[u8], ts: Option<i64>, leaves: &mut impl Write) -> io::Result<()> {
        let leaf = merkle::leaf_hash(line);
        leaves.write_all(&leaf)?;
        self.chain = chain_step(&self.chain, &leaf);
        self.root.push(leaf);
        self.count += 1;
        self.bytes += line.len() as u64 + 1;
        if let Some(ts) = ts {
            self.first = Some(self.first.map_or(ts, |f| f.min(ts)));
            self.last = Some(self.last.map_or(ts, |l| l.max(ts)));
        }
        Ok(())
    }

    fn time_range(&self) -> Option<TimeRange> {
        Some(TimeRange {
            first: crate::time::format_utc(self.first?),
            last: crate::time::format_utc(self.last?),
        })
    }
}

fn zip_err(e: zip::result::ZipError) -> SealError {
    SealError::Zip(e.to_string())
}

fn tmp_name(out: &Path) -> PathBuf {
    let mut name = out
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".tmp-{}", std::process::id()));
    out.with_file_name(name)
}

/// Whether `origin` can name a log: one non-empty line of at most 1,024 bytes, without control characters or
/// surrounding spaces, and not in the namespace of AWS CloudTrail exports ([`is_reserved_origin`]).
pub fn is_valid_origin(origin: &str) -> bool {
    !origin.is_empty()
        && origin.len() <= 1024
        && !origin.chars().any(char::is_control)
        && origin.trim() == origin
        && !is_reserved_origin(origin)
}

/// The origins of AWS CloudTrail exports in the store, `aws-cloudtrail:ACCOUNT/REGION/TRAIL` (docs/cloudtrail.md
/// section 5): no AuditLens archive may claim one (in any case), so that an origin's archives are all of one kind
/// and `status:aws-cloudtrail` is the whole of such an origin.
pub fn is_reserved_origin(origin: &str) -> bool {
    origin
        .get(..RESERVED_ORIGIN_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(RESERVED_ORIGIN_PREFIX))
}

/// See [`is_reserved_origin`].
pub const RESERVED_ORIGIN_PREFIX: &str = "aws-cloudtrail:";

fn check_origin(origin: &str) -> Result<(), SealError> {
    if is_reserved_origin(origin) {
        return Err(SealError::Usage(format!(
            "--origin {RESERVED_ORIGIN_PREFIX}...: reserved for AWS CloudTrail exports verified with AWS's own signatures \
             (auditlens import --aws-keys); choose another origin"
        )));
    }
    if !is_valid_origin(origin) {
        return Err(SealError::Usage(
            "--origin must be a non-empty line without control characters or surrounding spaces"
                .into(),
        ));
    }
    Ok(())
}

/// Reads and checks a mapping file (at most 1 MiB, a valid mapping): its exact bytes go into the archive.
fn read_mapping(path: &Path) -> Result<Vec<u8>, SealError> {
    let usage = |why: String| SealError::Usage(format!("mapping {}: {why}", path.display()));
    let len = fs::metadata(path).map_err(|e| usage(e.to_string()))?.len();
    if len > archive::MAX_MAPPING_BYTES {
        return Err(usage(format!(
            "larger than {} bytes",
            archive::MAX_MAPPING_BYTES
        )));
    }
    let bytes = fs::read(path).map_err(|e| usage(e.to_string()))?;
    Mapping::parse(&bytes).map_err(|e| usage(e.to_string()))?;
    Ok(bytes)
}

/// Reads the previous archive (which must verify) and returns this archive's sequence and chain start.
fn previous_link(prev: &Path, origin: &str) -> Result<(u64, Hash), SealError> {
    let err = |why: String| SealError::Previous {
        path: prev.display().to_string(),
        why,
    };
    let report =
        verify::verify_archive(prev, &[], &mut verify::NoSink).map_err(|e| err(e.to_string()))?;
    if report.status == ArchiveStatus::Failed {
        let why = report.failure.map(|f| f.message).unwrap_or_default();
        return Err(err(format!("does not verify: {why}")));
    }
    let (Some(prev_origin), Some(seq), Some(end)) =
        (&report.origin, report.sequence, &report.chain_end)
    else {
        return Err(err("has no readable checkpoint".into()));
    };
    if prev_origin != origin {
        return Err(err(format!(
            "belongs to origin {prev_origin:?}, not {origin:?}"
        )));
    }
    let end = archive::decode_hash(end).map_err(err)?;
    Ok((seq + 1, end))
}

/// Detects the source kind from the first events of the inputs: the one specific kind seen, else `jsonl`.
/// Detection reads the start of each input before sealing reads it all, so a pipe or device (which can be read
/// only once) is refused here rather than sealed empty.
fn detect_kind(inputs: &[PathBuf]) -> Result<SourceKind, SealError> {
    for path in inputs {
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
            return Err(SealError::Usage(format!(
                "{}: not a regular file (a pipe or device can be read only once, and detecting the source kind \
                 reads it first): pass --format KIND, or write it to a file",
                path.display()
            )));
        }
    }
    let mut seen: Option<SourceKind> = None;
    let mut looked = 0usize;
    for path in inputs {
        let mut conflict = None;
        input::for_each_event(path, |ev| {
            let kind = ev.kind;
            if kind != SourceKind::Jsonl {
                match seen {
                    None => seen = Some(kind),
                    Some(s) if s != kind => conflict = Some((s, kind)),
                    Some(_) => {}
                }
            }
            looked += 1;
            Ok(looked < DETECT_EVENTS && conflict.is_none())
        })?;
        if let Some((a, b)) = conflict {
            return Err(SealError::MixedKinds(a, b));
        }
        if looked >= DETECT_EVENTS {
            break;
        }
    }
    Ok(seen.unwrap_or(SourceKind::Jsonl))
}
