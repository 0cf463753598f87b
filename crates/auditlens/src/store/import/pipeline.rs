//! The parsing thread: events are parsed and normalized a batch ahead of the inserts, batches bounded by count
//! and by bytes; big events are parsed inline.

use super::*;

/// Events handed to the parsing thread at a time...
pub(in crate::store) const PREP_BATCH: usize = 1024;
/// ... or fewer, once their bytes add up to this many (so at most three batches of about this size, each plus
/// one event, exist: the one filling, the one being parsed, the one being inserted).
pub(in crate::store) const PREP_BYTES: usize = 8 << 20;

/// An event of at least this many bytes is not handed to the parsing thread: overlapping the parsing of one
/// such event with the storing of another would hold two or three of them (and their parsed copies) at once.
pub(in crate::store) const PREP_INLINE_BYTES: usize = 1 << 20;

/// An event waiting to be parsed: its own copy of the bytes, and where it is in the archive.
pub(in crate::store) struct PendingEvent {
    pub(in crate::store) index: u64,
    pub(in crate::store) line: u64,
    pub(in crate::store) entry: Arc<str>,
    pub(in crate::store) leaf: Hash,
    pub(in crate::store) bytes: Vec<u8>,
}

/// An event as text with its normalized fields (or why it did not parse), or why it cannot be stored (it is not
/// UTF-8, which the verifier never lets through).
pub(in crate::store) struct Prepared {
    pub(in crate::store) event: PendingEvent,
    pub(in crate::store) outcome: Result<(String, Result<Normalized, ParseError>), &'static str>,
}

pub(in crate::store) fn prepare(normalizer: &Normalizer, mut event: PendingEvent) -> Prepared {
    let outcome = String::from_utf8(std::mem::take(&mut event.bytes))
        .map_err(|_| "event is not valid UTF-8")
        .map(|text| {
            let fields = normalizer.normalize_event(text.as_bytes());
            (text, fields)
        });
    Prepared { event, outcome }
}

/// The parsing thread: prepares each batch it is given, in order.
pub(in crate::store) fn prepare_batches(
    batches: mpsc::Receiver<(Normalizer, Vec<PendingEvent>)>,
    prepared: mpsc::SyncSender<Vec<Prepared>>,
) {
    for (normalizer, batch) in batches {
        let done = batch.into_iter().map(|e| prepare(&normalizer, e)).collect();
        if prepared.send(done).is_err() {
            return;
        }
    }
}

/// The import's side of the parsing thread: fills a batch, hands it over when full and takes back the batch
/// handed over before it (so at most two batches, about 2 MB, are in flight).
pub(in crate::store) struct Preparer {
    pub(super) to_worker: mpsc::SyncSender<(Normalizer, Vec<PendingEvent>)>,
    pub(super) from_worker: mpsc::Receiver<Vec<Prepared>>,
    pub(super) filling: Vec<PendingEvent>,
    /// Bytes of the events in `filling`.
    pub(super) filling_bytes: usize,
    pub(super) in_flight: bool,
    /// The name of the entry of the last event (shared by the events of one entry).
    pub(super) entry: Option<Arc<str>>,
}

impl Preparer {
    pub(super) fn new(
        to_worker: mpsc::SyncSender<(Normalizer, Vec<PendingEvent>)>,
        from_worker: mpsc::Receiver<Vec<Prepared>>,
    ) -> Self {
        Preparer {
            to_worker,
            from_worker,
            filling: Vec::with_capacity(PREP_BATCH),
            filling_bytes: 0,
            in_flight: false,
            entry: None,
        }
    }

    /// Adds an event. When the batch is full it goes to the thread, and the batch before it comes back.
    pub(super) fn push(
        &mut self,
        ev: &EventRef<'_>,
        normalizer: &Normalizer,
    ) -> Option<Vec<Prepared>> {
        let entry = match &self.entry {
            Some(e) if **e == *ev.entry => e.clone(),
            _ => self.entry.insert(Arc::from(ev.entry)).clone(),
        };
        let pending = |bytes: Vec<u8>| PendingEvent {
            index: ev.index,
            line: ev.line,
            entry,
            leaf: *ev.leaf,
            bytes,
        };
        if ev.bytes.len() >= PREP_INLINE_BYTES {
            // A big event is parsed here, after the batch in flight and the filling one: no second big event is
            // read while this one is parsed and stored, so what is held stays about one event. It is parsed
            // where the verifier holds it, before it is copied: its parsed tree (up to 14 times its size) and
            // its copy are not held at once.
            let mut done = self.take_in_flight().unwrap_or_default();
            done.extend(self.filling.drain(..).map(|e| prepare(normalizer, e)));
            self.filling_bytes = 0;
            // As [`prepare`] gives it; the fields (and the tree they were read from, freed) before the copy.
            let outcome = match std::str::from_utf8(ev.bytes) {
                Ok(text) => {
                    let fields = normalizer.normalize_event(ev.bytes);
                    Ok((text.to_owned(), fields))
                }
                Err(_) => Err("event is not valid UTF-8"),
            };
            done.push(Prepared {
                event: pending(Vec::new()),
                outcome,
            });
            return Some(done);
        }
        self.filling.push(pending(ev.bytes.to_vec()));
        self.filling_bytes += ev.bytes.len();
        if self.filling.len() < PREP_BATCH && self.filling_bytes < PREP_BYTES {
            return None;
        }
        let done = self.take_in_flight();
        let batch = std::mem::replace(&mut self.filling, Vec::with_capacity(PREP_BATCH));
        self.filling_bytes = 0;
        match self.to_worker.send((normalizer.clone(), batch)) {
            Ok(()) => self.in_flight = true,
            Err(mpsc::SendError((_, batch))) => {
                // The thread is gone: prepare here rather than lose the batch.
                let mut done = done.unwrap_or_default();
                done.extend(batch.into_iter().map(|e| prepare(normalizer, e)));
                return Some(done);
            }
        }
        done
    }

    /// The batch in flight, once the thread gives it back. `None` also when the thread died with it: the import
    /// then fails when the thread is joined, before anything commits.
    pub(super) fn take_in_flight(&mut self) -> Option<Vec<Prepared>> {
        if !std::mem::take(&mut self.in_flight) {
            return None;
        }
        self.from_worker.recv().ok()
    }

    /// Every event not yet given back, in order: the batch in flight, then the rest prepared here.
    pub(super) fn finish(&mut self, normalizer: &Normalizer) -> Vec<Prepared> {
        let mut done = self.take_in_flight().unwrap_or_default();
        done.extend(self.filling.drain(..).map(|e| prepare(normalizer, e)));
        self.filling_bytes = 0;
        done
    }
}
