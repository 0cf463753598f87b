//! The pass over an archive's events (section 3, and the root, count and chain checks): one thread inflates
//! the entries and checks the byte rules into recycled batches, the caller's thread hashes them in order.
//!
//! Why one file: the reading and the hashing sides share the batch types and the hand-over protocol, and half
//! the file is the tests that check the pipeline against a serial reference pass, failure for failure.

use std::io::{self, Read};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};

use crate::archive::chain_step;
use crate::archive::{self, ArchiveFile, ChainLines, Manifest};
use crate::checkpoint::Checkpoint;
use crate::merkle::{self, Hash, RootBuilder};
use crate::sources::{self, Normalizer};

use super::header::{container, open};
use super::report::{Failure, FailureKind};
use super::{EventRef, Progress, Sink};

const PROGRESS_EVERY: u64 = 1 << 16;

/// How the event pass cuts its work; the defaults are [`Limits::DEFAULT`], tests use tiny batches.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    /// Bytes of inflated event data after which a batch is handed over (its buffer also has room for one more
    /// read, and grows only to hold one longer line).
    pub(super) batch_bytes: usize,
    /// Longest event line, newline excluded.
    pub(super) max_line: usize,
    /// Bytes the batches may hold together. A line longer than a batch grows the one it is in; while the
    /// others hold more than this, the reading side waits for them to come back instead of running ahead, so
    /// memory stays below about `max(budget_bytes, 2 × max_line)` whatever the lines.
    pub(super) budget_bytes: usize,
    /// Count the events `sources::parse_event` does not read (set by the verifier, from the sink).
    pub(super) count_parse_errors: bool,
}

impl Limits {
    pub(super) const DEFAULT: Limits = Limits {
        batch_bytes: 1 << 20,
        max_line: archive::MAX_EVENT_BYTES,
        budget_bytes: 16 << 20,
        count_parse_errors: true,
    };
}

/// Batches waiting between the reading side and the hashing side. With the one each side works on and the one
/// being returned, at most `QUEUE_BATCHES + 3` batches exist, so memory does not grow with the archive.
const QUEUE_BATCHES: usize = 2;
const MAX_BATCHES: usize = QUEUE_BATCHES + 3;

/// Consecutive lines of one events entry that passed the reading side's checks (counts, length, byte rules).
struct Batch {
    /// Index of the entry in the manifest.
    entry: usize,
    /// Line number (in the entry) of the first line.
    first_line: u64,
    /// Inflated bytes; the lines are ranges of it. Its length is the room, not the bytes read.
    data: Vec<u8>,
    /// `(start, end)` of each line in `data`, newline excluded.
    lines: Vec<(usize, usize)>,
    /// Leaf hashes the reading side computed while waiting: valid for lines `hashed_from..`.
    leaves: Vec<Hash>,
    hashed_from: usize,
    /// The first failure, which comes right after these lines: the reading side stopped there.
    failure: Option<Failure>,
    /// How many of the lines `sources::parse_event` does not read (when counted).
    parse_errors: u64,
    /// The newest time among the lines that parse (when the parse errors are counted).
    newest: Option<i64>,
}

impl Batch {
    fn new(limits: Limits) -> Self {
        Batch {
            entry: 0,
            first_line: 1,
            data: vec![0; limits.batch_bytes + crate::lines::CHUNK],
            lines: Vec::new(),
            leaves: Vec::new(),
            hashed_from: 0,
            failure: None,
            parse_errors: 0,
            newest: None,
        }
    }

    fn reset(&mut self, entry: usize, first_line: u64, limits: Limits) {
        self.entry = entry;
        self.first_line = first_line;
        self.lines.clear();
        self.leaves.clear();
        self.hashed_from = 0;
        self.failure = None;
        self.parse_errors = 0;
        self.newest = None;
        // A batch grown for one long line goes back to the normal size.
        let normal = limits.batch_bytes + crate::lines::CHUNK;
        if self.data.len() > 4 * normal {
            self.data.truncate(normal);
            self.data.shrink_to_fit();
        }
    }

    /// The line's bytes and its leaf hash (computed here unless the reading side already did).
    fn line(&self, k: usize) -> (&[u8], Hash) {
        let bytes = self
            .lines
            .get(k)
            .and_then(|&(s, e)| self.data.get(s..e))
            .unwrap_or_default();
        let leaf = match self.leaves.get(k) {
            Some(leaf) if k >= self.hashed_from => *leaf,
            _ => merkle::leaf_hash(bytes),
        };
        (bytes, leaf)
    }
}

/// The reading side's ends of the two channels: full batches go out, used ones come back for reuse.
struct BatchOut<'n> {
    tx: SyncSender<Batch>,
    free: Receiver<Batch>,
    made: usize,
    /// Bytes of the buffers of all batches made (wherever they are), as the reading side sized them.
    held: usize,
    limits: Limits,
    /// The rules of the archive's signed kind: the events' times, when the parse errors are counted.
    normalizer: Option<&'n Normalizer>,
}

impl BatchOut<'_> {
    /// An empty batch: a returned one, a new one while fewer than `MAX_BATCHES` exist and the others hold less
    /// than the budget, else the next returned. While the others hold more than the budget (lines longer than a
    /// batch grew theirs), waits for them to come back. `None` when the hashing side has stopped.
    fn fresh(&mut self, entry: usize, first_line: u64) -> Option<Batch> {
        let normal = self.limits.batch_bytes + crate::lines::CHUNK;
        let mut batch = match self.free.try_recv() {
            Ok(b) => Some(b),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => return None,
        };
        loop {
            if let Some(b) = batch.as_mut() {
                self.held -= b.data.len();
                b.reset(entry, first_line, self.limits);
                self.held += b.data.len();
            }
            let mine = batch.as_ref().map_or(0, |b| b.data.len());
            let others = self.made - usize::from(batch.is_some());
            // With one other batch (or none) out there, waiting could be waiting for the reading side itself.
            if self.held - mine + normal <= self.limits.budget_bytes || others <= 1 {
                break;
            }
            let back = self.free.recv().ok()?;
            if let Some(spare) = batch.replace(back) {
                self.held -= spare.data.len();
                self.made -= 1;
            }
        }
        if let Some(b) = batch {
            return Some(b);
        }
        let mut batch = if self.made < MAX_BATCHES {
            self.made += 1;
            let b = Batch::new(self.limits);
            self.held += b.data.len();
            b
        } else {
            let b = self.free.recv().ok()?;
            self.held -= b.data.len();
            b
        };
        batch.reset(entry, first_line, self.limits);
        self.held += batch.data.len();
        Some(batch)
    }

    /// Resizes a batch's buffer, keeping `held` in step.
    fn resize(&mut self, batch: &mut Batch, len: usize) {
        self.held -= batch.data.len();
        batch.data.resize(len, 0);
        self.held += batch.data.len();
    }

    /// Hands a batch to the hashing side. While the queue is full, hashes the batch's lines from the end, so
    /// both cores hash when inflating is the faster side. `false` when the hashing side has stopped.
    fn ship(&mut self, mut batch: Batch) -> bool {
        let n = batch.lines.len();
        batch.leaves.resize(n, [0u8; 32]);
        batch.hashed_from = n;
        loop {
            match self.tx.try_send(batch) {
                Ok(()) => return true,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(b)) => batch = b,
            }
            let Some(k) = batch.hashed_from.checked_sub(1) else {
                return self.tx.send(batch).is_ok();
            };
            let leaf = batch
                .lines
                .get(k)
                .and_then(|&(s, e)| batch.data.get(s..e))
                .map(merkle::leaf_hash);
            match (leaf, batch.leaves.get_mut(k)) {
                (Some(leaf), Some(slot)) => {
                    *slot = leaf;
                    batch.hashed_from = k;
                }
                _ => return self.tx.send(batch).is_ok(),
            }
        }
    }
}

/// Whether the reading side goes on with the next entry.
enum Next {
    Entry,
    Stop,
}

/// The reading side: inflates every events entry in order, splits it into lines and checks each line's count,
/// length and byte rules, stopping at the first failure (which travels after the lines before it).
fn read_entries(zip: &mut ArchiveFile, manifest: &Manifest, mut out: BatchOut) {
    let mut index = 0u64;
    for (i, entry) in manifest.entries.iter().enumerate() {
        let Some(mut batch) = out.fresh(i, 1) else {
            return;
        };
        let reader = match zip.stream(&entry.name, entry.bytes) {
            Ok((_declared, reader)) => reader,
            Err(e) => {
                batch.failure = Some(container(e));
                out.ship(batch);
                return;
            }
        };
        // The ZIP's declared size is not trusted: the reader is cut one byte past the signed size, and the
        // counts are compared after the lines, so a changed event is reported as such first.
        match read_entry(reader, i, entry, &mut index, batch, &mut out) {
            Next::Entry => {}
            Next::Stop => return,
        }
    }
}

fn read_entry(
    mut reader: impl Read,
    entry_no: usize,
    entry: &archive::ManifestEntry,
    index: &mut u64,
    mut batch: Batch,
    out: &mut BatchOut,
) -> Next {
    let max_line = out.limits.max_line;
    let (mut filled, mut line_start, mut scan_from) = (0usize, 0usize, 0usize);
    let (mut line_no, mut in_entry, mut entry_seen) = (0u64, 0u64, 0u64);
    let mut eof = false;
    let mut vlen = crate::lines::CHUNK;
    let at_entry = |kind, msg: String| {
        let mut f = Failure::new(kind, msg);
        f.entry = Some(entry.name.clone());
        f
    };
    let at_line = |kind, msg: String, line: u64, index: u64| {
        let mut f = at_entry(kind, msg);
        f.line = Some(line);
        f.event_index = Some(index);
        f
    };
    let more_events = || {
        format!(
            "entry holds more than the {} events the signed manifest says",
            entry.events
        )
    };
    let stop = |mut batch: Batch, failure: Failure, out: &mut BatchOut| {
        batch.failure = Some(failure);
        out.ship(batch);
        Next::Stop
    };
    loop {
        // Every complete line read so far, in order.
        while let Some(pos) = batch
            .data
            .get(scan_from..filled)
            .and_then(|rest| memchr::memchr(b'\n', rest))
        {
            let nl = scan_from + pos;
            line_no += 1;
            let len = nl - line_start;
            if len > max_line {
                let msg = format!("line longer than {max_line} bytes");
                return stop(
                    batch,
                    at_line(FailureKind::EventSyntax, msg, line_no, *index),
                    out,
                );
            }
            if in_entry == entry.events {
                let f = at_line(FailureKind::Count, more_events(), line_no, *index);
                return stop(batch, f, out);
            }
            entry_seen += len as u64 + 1;
            let bytes = batch.data.get(line_start..nl).unwrap_or_default();
            if let Some(why) = line_syntax_problem(bytes, true) {
                let f = at_line(FailureKind::EventSyntax, why.into(), line_no, *index);
                return stop(batch, f, out);
            }
            if out.limits.count_parse_errors {
                match parsed_time(out.normalizer, bytes) {
                    None => batch.parse_errors += 1,
                    Some(t) => batch.newest = batch.newest.max(t),
                }
            }
            batch.lines.push((line_start, nl));
            line_start = nl + 1;
            scan_from = nl + 1;
            in_entry += 1;
            *index += 1;
        }
        scan_from = filled;
        let pending = filled - line_start;
        if pending > max_line {
            let msg = format!("line longer than {max_line} bytes");
            let f = at_line(FailureKind::EventSyntax, msg, line_no + 1, *index);
            return stop(batch, f, out);
        }
        if eof {
            if pending > 0 {
                // A last line without newline: always a failure, the count ones first.
                line_no += 1;
                let f = if in_entry == entry.events {
                    at_line(FailureKind::Count, more_events(), line_no, *index)
                } else if entry_seen + pending as u64 > entry.bytes {
                    let msg = format!(
                        "entry is longer than the {} bytes the signed manifest says",
                        entry.bytes
                    );
                    at_line(FailureKind::Count, msg, line_no, *index)
                } else {
                    let msg = "last line has no terminating newline".to_string();
                    at_line(FailureKind::EventSyntax, msg, line_no, *index)
                };
                return stop(batch, f, out);
            }
            if in_entry != entry.events || entry_seen != entry.bytes {
                let mut f = at_entry(
                    FailureKind::Count,
                    format!(
                        "entry ends after {in_entry} events ({entry_seen} bytes); the signed manifest says {} events \
                         ({} bytes): the tail was truncated or removed",
                        entry.events, entry.bytes
                    ),
                );
                f.event_index = Some(*index);
                f.expected = Some(entry.events.to_string());
                f.found = Some(in_entry.to_string());
                return stop(batch, f, out);
            }
            return if out.ship(batch) {
                Next::Entry
            } else {
                Next::Stop
            };
        }
        // Read what `LineReader` (of the serial verifier this pipeline replaced) would: into a buffer of `vlen`
        // bytes holding the partial line at its front. The ZIP reader's errors (size limit, CRC) depend on how
        // much is asked at once, so asking the same amounts keeps the first failure the same.
        if pending == vlen {
            vlen = (vlen * 2).min(max_line + 2).max(vlen + 1);
        }
        let request = vlen - pending;
        if !batch.lines.is_empty()
            && (filled >= out.limits.batch_bytes || batch.data.len() - filled < request)
        {
            // Hand over the complete lines; the partial one moves to the front of a fresh batch.
            let Some(mut next) = out.fresh(entry_no, line_no + 1) else {
                return Next::Stop;
            };
            if next.data.len() < pending {
                out.resize(&mut next, pending);
            }
            if let (Some(to), Some(from)) = (
                next.data.get_mut(..pending),
                batch.data.get(line_start..filled),
            ) {
                to.copy_from_slice(from);
            }
            if !out.ship(std::mem::replace(&mut batch, next)) {
                return Next::Stop;
            }
            (filled, line_start, scan_from) = (pending, 0, pending);
        }
        if batch.data.len() < filled + request {
            out.resize(&mut batch, filled + request);
        }
        let room = batch
            .data
            .get_mut(filled..filled + request)
            .unwrap_or_default();
        let n = loop {
            match reader.read(room) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let f = at_entry(FailureKind::Container, format!("cannot decompress: {e}"));
                    return stop(batch, f, out);
                }
            }
        };
        eof = n == 0;
        filled += n;
    }
}

/// What the events pass found beyond the checks: when the parse errors are counted ([`Limits`]), how many events
/// do not parse and the newest time among those that do, under the archive's signed rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct EventsRead {
    pub(super) parse_errors: u64,
    pub(super) newest: Option<i64>,
}

/// What the checked header says of the events: the signed manifest, checkpoint and chain lines, and the rules of
/// the signed kind (none when a mapping file does not compile).
#[derive(Clone, Copy)]
pub(super) struct Signed<'a> {
    pub(super) manifest: &'a Manifest,
    pub(super) cp: &'a Checkpoint,
    pub(super) chain_lines: &'a ChainLines,
    pub(super) normalizer: Option<&'a Normalizer>,
}

pub(super) fn verify_events(
    path: &Path,
    zip: &mut ArchiveFile,
    signed: Signed<'_>,
    sink: &mut dyn Sink,
    limits: Limits,
) -> Result<EventsRead, Failure> {
    let Signed {
        manifest,
        cp,
        chain_lines,
        normalizer,
    } = signed;
    let n = cp.size;
    let leaves_len = n
        .checked_mul(32)
        .ok_or_else(|| Failure::new(FailureKind::Count, "event count overflows"))?;
    let mut leaves_zip = open(path)?;
    let (declared, leaves) = leaves_zip
        .stream(archive::LEAVES, leaves_len)
        .map_err(container)?;
    if declared != leaves_len {
        let mut f = Failure::new(
            FailureKind::Leaves,
            format!("leaves entry is {declared} bytes; {n} events need {leaves_len}"),
        );
        f.entry = Some(archive::LEAVES.into());
        return Err(f);
    }
    let mut leaves = io::BufReader::with_capacity(1 << 16, leaves);
    let bytes_total: u64 = manifest.entries.iter().map(|e| e.bytes).sum();
    let mut progress = Progress {
        events_done: 0,
        events_total: n,
        bytes_done: 0,
        bytes_total,
    };

    let mut root = RootBuilder::new();
    let mut chain = chain_lines.chain_start;
    let mut index = 0u64;
    let mut prev_expected: Option<Hash> = None;
    // Bytes of the events hashed so far: every line that reaches this side is complete and newline-terminated.
    let mut bytes_done = 0u64;
    let mut read = EventsRead::default();
    // Two sides on two threads: this one (the caller's, so the sink stays here) hashes, compares and chains;
    // the other inflates, splits and checks the byte rules, a few batches ahead.
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Batch>(QUEUE_BATCHES);
        let (free_tx, free_rx) = mpsc::channel::<Batch>();
        let out = BatchOut {
            tx,
            free: free_rx,
            made: 0,
            held: 0,
            limits,
            normalizer,
        };
        let reader = scope.spawn(move || read_entries(zip, manifest, out));
        for mut batch in rx.iter() {
            let entry_name = manifest
                .entries
                .get(batch.entry)
                .map(|e| e.name.as_str())
                .unwrap_or_default();
            for k in 0..batch.lines.len() {
                let (bytes, leaf) = batch.line(k);
                let line = batch.first_line + k as u64;
                let at_line = |kind, msg: String| {
                    let mut f = Failure::new(kind, msg);
                    f.entry = Some(entry_name.to_string());
                    f.line = Some(line);
                    f.event_index = Some(index);
                    f
                };
                let mut expected = [0u8; 32];
                leaves
                    .read_exact(&mut expected)
                    .map_err(|_| at_line(FailureKind::Leaves, "leaves entry ends early".into()))?;
                if leaf != expected {
                    let mut f = at_line(FailureKind::LeafMismatch, String::new());
                    f.expected = Some(merkle::to_hex(&expected));
                    f.found = Some(merkle::to_hex(&leaf));
                    f.message = diagnose_mismatch(
                        &leaf,
                        prev_expected.as_ref(),
                        &mut leaves,
                        &mut root,
                        expected,
                        index,
                        cp,
                    );
                    return Err(f);
                }
                if !sink.event(&EventRef {
                    index,
                    entry: entry_name,
                    line,
                    bytes,
                    leaf: &leaf,
                }) {
                    return Err(Failure::new(FailureKind::Cancelled, "cancelled"));
                }
                chain = chain_step(&chain, &leaf);
                root.push(leaf);
                prev_expected = Some(expected);
                index += 1;
                bytes_done += bytes.len() as u64 + 1;
                if index.is_multiple_of(PROGRESS_EVERY) {
                    progress.events_done = index;
                    progress.bytes_done = bytes_done;
                    if !sink.progress(&progress) {
                        return Err(Failure::new(FailureKind::Cancelled, "cancelled"));
                    }
                }
            }
            if let Some(failure) = batch.failure.take() {
                return Err(failure);
            }
            read.parse_errors += batch.parse_errors;
            read.newest = read.newest.max(batch.newest);
            // The reading side may have finished already; then the batch is simply dropped.
            let _ = free_tx.send(batch);
        }
        // The batches ended: the reading side is done, unless it failed (a bug), which must not pass as an end.
        reader.join().map_err(|_| {
            Failure::new(
                FailureKind::Container,
                "internal error: reading the events failed",
            )
        })
    })?;
    let mut extra = [0u8; 1];
    if leaves
        .read(&mut extra)
        .map_err(|e| Failure::new(FailureKind::Leaves, e.to_string()))?
        != 0
    {
        return Err(Failure::new(
            FailureKind::Leaves,
            "leaves entry is longer than the events",
        ));
    }
    if index != n {
        let mut f = Failure::new(
            FailureKind::Count,
            format!("archive holds {index} events; the checkpoint says {n}"),
        );
        f.expected = Some(n.to_string());
        f.found = Some(index.to_string());
        return Err(f);
    }
    let computed = root.root();
    if computed != cp.root {
        let mut f = Failure::new(
            FailureKind::Root,
            "Merkle root of the events differs from the signed root",
        );
        f.expected = Some(merkle::to_hex(&cp.root));
        f.found = Some(merkle::to_hex(&computed));
        return Err(f);
    }
    if chain != chain_lines.chain_end {
        let mut f = Failure::new(
            FailureKind::Chain,
            "hash chain end differs from the signed chain-end",
        );
        f.expected = Some(merkle::to_hex(&chain_lines.chain_end));
        f.found = Some(merkle::to_hex(&chain));
        return Err(f);
    }
    progress.events_done = n;
    progress.bytes_done = bytes_total;
    sink.progress(&progress);
    Ok(read)
}

/// The byte rules of section 3 for one line; `None` when it is fine.
/// Whether an event parses ([`sources::parses`]) and, when it does, its time under the archive's rules (none
/// without rules: a mapping file that does not compile).
fn parsed_time(normalizer: Option<&Normalizer>, bytes: &[u8]) -> Option<Option<i64>> {
    match normalizer {
        Some(n) => n.parsed_time(bytes),
        None => sources::parses(bytes).then_some(None),
    }
}

fn line_syntax_problem(bytes: &[u8], terminated: bool) -> Option<&'static str> {
    if !terminated {
        Some("last line has no terminating newline")
    } else if bytes.is_empty() {
        Some("empty line")
    } else if bytes.ends_with(b"\r") {
        Some("line ends in \\r")
    } else if bytes.first() != Some(&b'{') || bytes.last() != Some(&b'}') {
        Some("line is not a JSON object (must begin with '{' and end with '}')")
    } else if std::str::from_utf8(bytes).is_err() {
        Some("line is not valid UTF-8")
    } else {
        None
    }
}

/// Explains a leaf mismatch: whether the signed leaf list itself is authentic (so the event was changed) and
/// what the change looks like (modified, deleted, inserted, reordered).
fn diagnose_mismatch(
    found: &Hash,
    prev_expected: Option<&Hash>,
    leaves: &mut impl Read,
    root: &mut RootBuilder,
    expected: Hash,
    index: u64,
    cp: &Checkpoint,
) -> String {
    // Finish the root over the listed leaves: if it is the signed root, the list is authentic.
    let mut listed_root = root.clone();
    listed_root.push(expected);
    let mut next_expected = None;
    let mut buf = [0u8; 32];
    while listed_root.size() < cp.size && leaves.read_exact(&mut buf).is_ok() {
        if next_expected.is_none() {
            next_expected = Some(buf);
        }
        listed_root.push(buf);
    }
    let authentic = listed_root.size() == cp.size && listed_root.root() == cp.root;
    let what = if Some(found) == next_expected.as_ref() {
        format!(
            "event {index} is missing here (the line found is event {}): deleted or reordered",
            index + 1
        )
    } else if Some(found) == prev_expected {
        format!(
            "event {} appears again at index {index}: duplicated or inserted",
            index.wrapping_sub(1)
        )
    } else {
        format!("event {index} differs from what was signed: modified, inserted or reordered")
    };
    if authentic {
        format!(
            "{what} (the leaf list matches the signed root, so the expected hash is the signed one)"
        )
    } else {
        format!("{what}; the leaf list does not match the signed root either")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::{LineError, LineReader};
    use crate::note::SignerKey;
    use crate::note::VerifierKey;
    use crate::seal::{SealOptions, seal};
    use crate::trust::{TrustDecision, TrustPolicy};
    use crate::verify::NoSink;
    use crate::verify::header::{EventsPass, verify_with};
    use crate::verify::report::ArchiveStatus;
    use proptest::prelude::*;
    use std::io::Write;
    use std::path::PathBuf;

    /// The verifier as it was before the two-thread pass: one loop over `LineReader`, kept as the reference the
    /// pipeline must agree with, failure for failure.
    fn serial_events(
        path: &Path,
        zip: &mut ArchiveFile,
        signed: Signed<'_>,
        sink: &mut dyn Sink,
        limits: Limits,
    ) -> Result<EventsRead, Failure> {
        let Signed {
            manifest,
            cp,
            chain_lines,
            normalizer,
        } = signed;
        let n = cp.size;
        let leaves_len = n
            .checked_mul(32)
            .ok_or_else(|| Failure::new(FailureKind::Count, "event count overflows"))?;
        let mut leaves_zip = open(path)?;
        let (declared, leaves) = leaves_zip
            .stream(archive::LEAVES, leaves_len)
            .map_err(container)?;
        if declared != leaves_len {
            let mut f = Failure::new(
                FailureKind::Leaves,
                format!("leaves entry is {declared} bytes; {n} events need {leaves_len}"),
            );
            f.entry = Some(archive::LEAVES.into());
            return Err(f);
        }
        let mut leaves = io::BufReader::with_capacity(1 << 16, leaves);
        let bytes_total: u64 = manifest.entries.iter().map(|e| e.bytes).sum();
        let mut progress = Progress {
            events_done: 0,
            events_total: n,
            bytes_done: 0,
            bytes_total,
        };

        let mut root = RootBuilder::new();
        let mut chain = chain_lines.chain_start;
        let mut index = 0u64;
        let mut prev_expected: Option<Hash> = None;
        let mut bytes_before = 0u64;
        let mut read = EventsRead::default();
        for entry in &manifest.entries {
            let (declared, reader) = zip.stream(&entry.name, entry.bytes).map_err(container)?;
            let at_entry = |kind, msg: String| {
                let mut f = Failure::new(kind, msg);
                f.entry = Some(entry.name.clone());
                f
            };
            // The ZIP's declared size is not trusted: the reader is cut one byte past the signed size, and the
            // counts are compared after the lines, so a changed event is reported as such first.
            let _ = declared;
            let mut lines = LineReader::new(reader, limits.max_line);
            let mut in_entry = 0u64;
            let mut entry_seen = 0u64;
            loop {
                let line = match lines.next_line() {
                    Ok(Some(line)) => line,
                    Ok(None) => break,
                    Err(LineError::TooLong { line, limit }) => {
                        let mut f = at_entry(
                            FailureKind::EventSyntax,
                            format!("line longer than {limit} bytes"),
                        );
                        f.line = Some(line);
                        f.event_index = Some(index);
                        return Err(f);
                    }
                    Err(LineError::Io(e)) => {
                        return Err(at_entry(
                            FailureKind::Container,
                            format!("cannot decompress: {e}"),
                        ));
                    }
                };
                let at_line = |kind, msg: String| {
                    let mut f = at_entry(kind, msg);
                    f.line = Some(line.number);
                    f.event_index = Some(index);
                    f
                };
                if in_entry == entry.events {
                    return Err(at_line(
                        FailureKind::Count,
                        format!(
                            "entry holds more than the {} events the signed manifest says",
                            entry.events
                        ),
                    ));
                }
                entry_seen += line.bytes.len() as u64 + u64::from(line.terminated);
                if !line.terminated && entry_seen > entry.bytes {
                    return Err(at_line(
                        FailureKind::Count,
                        format!(
                            "entry is longer than the {} bytes the signed manifest says",
                            entry.bytes
                        ),
                    ));
                }
                if let Some(why) = line_syntax_problem(line.bytes, line.terminated) {
                    return Err(at_line(FailureKind::EventSyntax, why.into()));
                }
                if limits.count_parse_errors {
                    match parsed_time(normalizer, line.bytes) {
                        None => read.parse_errors += 1,
                        Some(t) => read.newest = read.newest.max(t),
                    }
                }
                let leaf = merkle::leaf_hash(line.bytes);
                let mut expected = [0u8; 32];
                leaves
                    .read_exact(&mut expected)
                    .map_err(|_| at_line(FailureKind::Leaves, "leaves entry ends early".into()))?;
                if leaf != expected {
                    let mut f = at_line(FailureKind::LeafMismatch, String::new());
                    f.expected = Some(merkle::to_hex(&expected));
                    f.found = Some(merkle::to_hex(&leaf));
                    f.message = diagnose_mismatch(
                        &leaf,
                        prev_expected.as_ref(),
                        &mut leaves,
                        &mut root,
                        expected,
                        index,
                        cp,
                    );
                    return Err(f);
                }
                if !sink.event(&EventRef {
                    index,
                    entry: &entry.name,
                    line: line.number,
                    bytes: line.bytes,
                    leaf: &leaf,
                }) {
                    return Err(Failure::new(FailureKind::Cancelled, "cancelled"));
                }
                chain = chain_step(&chain, &leaf);
                root.push(leaf);
                prev_expected = Some(expected);
                index += 1;
                in_entry += 1;
                if index.is_multiple_of(PROGRESS_EVERY) {
                    progress.events_done = index;
                    progress.bytes_done = bytes_before + entry_seen;
                    if !sink.progress(&progress) {
                        return Err(Failure::new(FailureKind::Cancelled, "cancelled"));
                    }
                }
            }
            if in_entry != entry.events || entry_seen != entry.bytes {
                let mut f = at_entry(
                    FailureKind::Count,
                    format!(
                        "entry ends after {in_entry} events ({} bytes); the signed manifest says {} events ({} bytes): \
                         the tail was truncated or removed",
                        entry_seen, entry.events, entry.bytes
                    ),
                );
                f.event_index = Some(index);
                f.expected = Some(entry.events.to_string());
                f.found = Some(in_entry.to_string());
                return Err(f);
            }
            bytes_before += entry.bytes;
        }
        let mut extra = [0u8; 1];
        if leaves
            .read(&mut extra)
            .map_err(|e| Failure::new(FailureKind::Leaves, e.to_string()))?
            != 0
        {
            return Err(Failure::new(
                FailureKind::Leaves,
                "leaves entry is longer than the events",
            ));
        }
        if index != n {
            let mut f = Failure::new(
                FailureKind::Count,
                format!("archive holds {index} events; the checkpoint says {n}"),
            );
            f.expected = Some(n.to_string());
            f.found = Some(index.to_string());
            return Err(f);
        }
        let computed = root.root();
        if computed != cp.root {
            let mut f = Failure::new(
                FailureKind::Root,
                "Merkle root of the events differs from the signed root",
            );
            f.expected = Some(merkle::to_hex(&cp.root));
            f.found = Some(merkle::to_hex(&computed));
            return Err(f);
        }
        if chain != chain_lines.chain_end {
            let mut f = Failure::new(
                FailureKind::Chain,
                "hash chain end differs from the signed chain-end",
            );
            f.expected = Some(merkle::to_hex(&chain_lines.chain_end));
            f.found = Some(merkle::to_hex(&chain));
            return Err(f);
        }
        progress.events_done = n;
        progress.bytes_done = bytes_total;
        sink.progress(&progress);
        Ok(read)
    }

    /// Everything a sink sees, to compare two passes.
    #[derive(Default, Debug, PartialEq)]
    struct Recorder {
        events: Vec<(u64, String, u64, Vec<u8>, Hash)>,
        progress: Vec<(u64, u64)>,
        cancel_at: Option<u64>,
    }

    impl Sink for Recorder {
        fn event(&mut self, e: &EventRef<'_>) -> bool {
            self.events.push((
                e.index,
                e.entry.to_string(),
                e.line,
                e.bytes.to_vec(),
                *e.leaf,
            ));
            self.cancel_at != Some(e.index)
        }
        fn progress(&mut self, p: &Progress) -> bool {
            self.progress.push((p.events_done, p.bytes_done));
            true
        }
    }

    struct Sealed {
        _dir: tempfile::TempDir,
        archive: PathBuf,
        key: SignerKey,
    }

    /// Seals one input file per list of lines.
    fn seal_inputs(inputs: &[Vec<String>]) -> Sealed {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for (i, lines) in inputs.iter().enumerate() {
            let p = dir.path().join(format!("in{i}.jsonl"));
            let mut f = std::fs::File::create(&p).unwrap();
            for l in lines {
                writeln!(f, "{l}").unwrap();
            }
            paths.push(p);
        }
        let key = SignerKey::from_seed("test", &[9u8; 32]).unwrap();
        let archive = dir.path().join("a.zip");
        seal(&SealOptions {
            key: &key,
            origin: "example.com/test",
            prev: None,
            format: None,
            mapping: None,
            out: &archive,
            inputs: &paths,
            receive: false,
        })
        .unwrap();
        Sealed {
            _dir: dir,
            archive,
            key,
        }
    }

    fn entries(path: &Path) -> Vec<(String, Vec<u8>)> {
        let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        (0..zip.len())
            .map(|i| {
                let mut f = zip.by_index(i).unwrap();
                let mut data = Vec::new();
                f.read_to_end(&mut data).unwrap();
                (f.name().unwrap().to_string(), data)
            })
            .collect()
    }

    fn write_entries(path: &Path, entries: &[(String, Vec<u8>)]) {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            zip.start_file(name.as_str(), opts).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap();
    }

    /// Bare trusted keys as the verifier's trust question.
    fn by_keys(
        keys: &[VerifierKey],
    ) -> impl Fn(&str, &VerifierKey, crate::trust::Sealed) -> TrustDecision {
        let policy = TrustPolicy::from_keys(keys);
        move |o, k, c| policy.decide(o, k, c, &[])
    }

    /// Runs both passes on `path` and checks they agree on the report and on what the sink saw.
    fn agree(path: &Path, trusted: &[VerifierKey], limits: Limits, cancel_at: Option<u64>) {
        let run = |pass: EventsPass| {
            let mut sink = Recorder {
                cancel_at,
                ..Recorder::default()
            };
            let r = verify_with(path, &by_keys(trusted), &mut sink, pass, limits).unwrap();
            (r.status, r.failure, sink, (r.parse_errors, r.newest_event))
        };
        let (s1, f1, sink1, p1) = run(serial_events);
        let (s2, f2, sink2, p2) = run(verify_events);
        assert_eq!(f2, f1, "failures differ with {limits:?}");
        assert_eq!(s2, s1);
        assert_eq!(p2, p1);
        assert_eq!(sink2, sink1);
    }

    fn event_line(i: usize, pad: usize) -> String {
        format!(
            r#"{{"n":{i},"time":"2024-05-01T00:00:{:02}Z","pad":"{}"}}"#,
            i % 60,
            "é".repeat(pad)
        )
    }

    /// Byte-level edits of one entry's content.
    #[derive(Debug, Clone)]
    enum Edit {
        Flip {
            at: usize,
            to: u8,
        },
        Insert {
            at: usize,
            bytes: Vec<u8>,
        },
        Delete {
            at: usize,
            len: usize,
        },
        Truncate {
            at: usize,
        },
        /// Cut after the last newline before `at`: whole events removed from the tail.
        CutLines {
            at: usize,
        },
    }

    fn apply(data: &mut Vec<u8>, edit: &Edit) {
        let n = data.len().max(1);
        match edit {
            Edit::Flip { at, to } => {
                if let Some(b) = data.get_mut(at % n) {
                    *b = *to;
                }
            }
            Edit::Insert { at, bytes } => {
                let at = if *at == usize::MAX {
                    data.len()
                } else {
                    at % n
                };
                data.splice(at..at, bytes.iter().copied());
            }
            Edit::Delete { at, len } => {
                let at = (at % n).min(data.len());
                let end = (at + len).min(data.len());
                data.drain(at..end);
            }
            Edit::Truncate { at } => data.truncate(at % n),
            Edit::CutLines { at } => {
                let keep = data[..at % n]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |p| p + 1);
                data.truncate(keep);
            }
        }
    }

    fn edit_strategy() -> impl Strategy<Value = Edit> {
        let interesting =
            prop::sample::select(vec![b'\n', b'\r', b'{', b'}', b' ', 0xff, 0xc3, b'a', b'"']);
        prop_oneof![
            (any::<usize>(), interesting.clone()).prop_map(|(at, to)| Edit::Flip { at, to }),
            (any::<usize>(), prop::collection::vec(interesting, 1..4))
                .prop_map(|(at, bytes)| Edit::Insert { at, bytes }),
            any::<usize>().prop_map(|at| Edit::Insert {
                at,
                bytes: b"{\"x\":1}\n".to_vec()
            }),
            (any::<usize>(), 1usize..300).prop_map(|(at, len)| Edit::Delete { at, len }),
            any::<usize>().prop_map(|at| Edit::Truncate { at }),
            any::<usize>().prop_map(|at| Edit::CutLines { at }),
            Just(Edit::Insert {
                at: usize::MAX,
                bytes: b"{}\n".to_vec()
            }),
        ]
    }

    fn limits_strategy() -> impl Strategy<Value = Limits> {
        (
            prop::sample::select(vec![1usize, 2, 7, 64, 333, 1024, 1 << 20]),
            prop::sample::select(vec![40usize, 150, 600, archive::MAX_EVENT_BYTES]),
            prop::sample::select(vec![1usize, 3 << 20, 16 << 20]),
        )
            .prop_map(|(batch_bytes, max_line, budget_bytes)| Limits {
                batch_bytes,
                max_line,
                budget_bytes,
                ..Limits::DEFAULT
            })
    }

    #[test]
    fn an_intact_archive_verifies_the_same_with_any_batch_size() {
        let inputs: Vec<Vec<String>> = vec![
            (0..150).map(|i| event_line(i, i % 37)).collect(),
            (0..3).map(|i| event_line(i, 400)).collect(),
            (0..70).map(|i| event_line(i, 5)).collect(),
        ];
        let s = seal_inputs(&inputs);
        let trusted = [s.key.verifier()];
        for batch_bytes in [1, 2, 3, 50, 100, 101, 1000, 4096, 1 << 20] {
            let limits = Limits {
                batch_bytes,
                max_line: archive::MAX_EVENT_BYTES,
                ..Limits::DEFAULT
            };
            agree(&s.archive, &trusted, limits, None);
            let mut sink = Recorder::default();
            let r = verify_with(
                &s.archive,
                &by_keys(&trusted),
                &mut sink,
                verify_events,
                limits,
            )
            .unwrap();
            assert_eq!(r.status, ArchiveStatus::Verified, "{:?}", r.failure);
            assert_eq!(sink.events.len(), 223);
            assert_eq!(sink.events[150].1, "events/000002.jsonl");
            assert_eq!(sink.events[150].2, 1);
            assert_eq!(sink.events[222].2, 70);
        }
    }

    #[test]
    fn a_line_longer_than_the_limit_fails_at_its_line_whatever_the_batch() {
        let inputs = vec![vec![event_line(0, 1), event_line(1, 300), event_line(2, 1)]];
        let s = seal_inputs(&inputs);
        let trusted = [s.key.verifier()];
        for batch_bytes in [1, 16, 100, 1 << 20] {
            let limits = Limits {
                batch_bytes,
                max_line: 200,
                ..Limits::DEFAULT
            };
            agree(&s.archive, &trusted, limits, None);
            let r = verify_with(
                &s.archive,
                &by_keys(&trusted),
                &mut NoSink,
                verify_events,
                limits,
            )
            .unwrap();
            let f = r.failure.unwrap();
            assert_eq!(f.kind, FailureKind::EventSyntax);
            assert_eq!((f.line, f.event_index), (Some(2), Some(1)));
        }
    }

    #[test]
    fn lines_longer_than_one_read_are_joined_and_limited() {
        let big = |i: usize, n: usize| format!(r#"{{"n":{i},"pad":"{}"}}"#, "x".repeat(n));
        let inputs = vec![vec![
            big(0, 10),
            big(1, (5 << 20) / 2),
            big(2, crate::lines::CHUNK - 20),
            big(3, 10),
        ]];
        let s = seal_inputs(&inputs);
        let trusted = [s.key.verifier()];
        for max_line in [archive::MAX_EVENT_BYTES, 2 << 20] {
            for batch_bytes in [7, 1 << 20] {
                let limits = Limits {
                    batch_bytes,
                    max_line,
                    ..Limits::DEFAULT
                };
                agree(&s.archive, &trusted, limits, None);
                let r = verify_with(
                    &s.archive,
                    &by_keys(&trusted),
                    &mut NoSink,
                    verify_events,
                    limits,
                )
                .unwrap();
                if max_line == archive::MAX_EVENT_BYTES {
                    assert_eq!(r.status, ArchiveStatus::Verified, "{:?}", r.failure);
                } else {
                    let f = r.failure.unwrap();
                    assert_eq!((f.kind, f.line), (FailureKind::EventSyntax, Some(2)));
                }
            }
        }
    }

    #[test]
    fn cancelling_from_the_sink_stops_at_that_event() {
        let inputs = vec![(0..100).map(|i| event_line(i, 3)).collect::<Vec<_>>()];
        let s = seal_inputs(&inputs);
        let trusted = [s.key.verifier()];
        let limits = Limits {
            batch_bytes: 64,
            max_line: archive::MAX_EVENT_BYTES,
            ..Limits::DEFAULT
        };
        agree(&s.archive, &trusted, limits, Some(41));
        let mut sink = Recorder {
            cancel_at: Some(41),
            ..Recorder::default()
        };
        let r = verify_with(
            &s.archive,
            &by_keys(&trusted),
            &mut sink,
            verify_events,
            limits,
        )
        .unwrap();
        assert_eq!(r.failure.unwrap().kind, FailureKind::Cancelled);
        assert_eq!(sink.events.len(), 42);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever is done to the events or the leaf list, the pipeline reports what the serial pass reports.
        #[test]
        fn tampered_archives_fail_exactly_as_in_the_serial_pass(
            sizes in prop::collection::vec(prop::collection::vec(0usize..90, 1..40), 1..4),
            target in any::<prop::sample::Index>(),
            edits in prop::collection::vec(edit_strategy(), 1..3),
            limits in limits_strategy(),
            cancel in prop::option::weighted(0.1, 0u64..50),
        ) {
            let inputs: Vec<Vec<String>> = sizes
                .iter()
                .map(|pads| pads.iter().enumerate().map(|(i, &p)| event_line(i, p)).collect())
                .collect();
            let s = seal_inputs(&inputs);
            let mut all = entries(&s.archive);
            // An events entry or the leaf list.
            let candidates: Vec<usize> = all
                .iter()
                .enumerate()
                .filter(|(_, (n, _))| n.starts_with(archive::EVENTS_DIR) || n == archive::LEAVES)
                .map(|(i, _)| i)
                .collect();
            let which = candidates[target.index(candidates.len())];
            for edit in &edits {
                apply(&mut all[which].1, edit);
            }
            write_entries(&s.archive, &all);
            agree(&s.archive, &[s.key.verifier()], limits, cancel);
        }

        /// A byte flipped anywhere in the compressed file (inflate and CRC errors included) is reported the same.
        #[test]
        fn flipped_file_bytes_fail_exactly_as_in_the_serial_pass(
            sizes in prop::collection::vec(0usize..200, 1..60),
            at in any::<prop::sample::Index>(),
            xor in 1u8..=255,
            limits in limits_strategy(),
        ) {
            let lines: Vec<String> = sizes.iter().enumerate().map(|(i, &p)| event_line(i, p)).collect();
            let s = seal_inputs(&[lines]);
            let mut bytes = std::fs::read(&s.archive).unwrap();
            let i = at.index(bytes.len());
            bytes[i] ^= xor;
            std::fs::write(&s.archive, &bytes).unwrap();
            agree(&s.archive, &[s.key.verifier()], limits, None);
        }
    }
}
