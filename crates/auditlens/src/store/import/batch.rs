//! Several archives imported one after another, each atomically, as both doors do it (`auditlens import A B C`,
//! a drop of several files on the app): the steps of each archive are handed to the caller, which prints or
//! emits them, and an origin that looks like another origin of the same batch is flagged as well as one that
//! looks like a stored origin.

use std::path::{Path, PathBuf};

use super::{ImportOptions, ImportResult};
use crate::safe_text::lookalikes_of;
use crate::sources::SourceKind;
use crate::store::{Store, StoreError};
use crate::verify::Progress;

/// One step of a batch import, in order: each archive is started, makes progress, and finishes (verified,
/// refused, failed verification...) or fails (the store could not do it: an unreadable file, a database error).
pub enum BatchStep<'a> {
    Started {
        index: usize,
        path: &'a Path,
    },
    Progress {
        index: usize,
        progress: &'a Progress,
    },
    Finished {
        index: usize,
        path: &'a Path,
        result: Box<ImportResult>,
    },
    Failed {
        index: usize,
        path: &'a Path,
        error: StoreError,
    },
}

impl Store {
    /// Imports `paths` in order (each in its own transaction, as [`Store::import_archive_as`]), handing every
    /// step to `on_step`. `on_step` returns `false` to stop: at `Started`, before that archive; at `Progress`,
    /// the archive is cancelled (nothing of it stored); at `Finished` or `Failed`, before the next archive.
    /// Returns whether every archive was handled (not stopped).
    pub fn import_batch(
        &mut self,
        paths: &[PathBuf],
        opts: &ImportOptions<'_>,
        as_kind: Option<SourceKind>,
        on_step: &mut dyn FnMut(BatchStep<'_>) -> bool,
    ) -> bool {
        // Origins of the archives given so far, stored or not: a look-alike among them is flagged as well.
        let mut batch_origins: Vec<String> = Vec::new();
        for (index, path) in paths.iter().enumerate() {
            if !on_step(BatchStep::Started { index, path }) {
                return false;
            }
            let mut on_progress =
                |progress: &Progress| on_step(BatchStep::Progress { index, progress });
            let step = match self.import_archive_as(path, opts, as_kind, &mut on_progress) {
                Ok(mut result) => {
                    if let Some(origin) = &result.report.origin {
                        let in_batch =
                            lookalikes_of(origin, batch_origins.iter().map(String::as_str));
                        result.lookalikes.extend(in_batch);
                        result.lookalikes.sort();
                        result.lookalikes.dedup();
                        batch_origins.push(origin.clone());
                    }
                    BatchStep::Finished {
                        index,
                        path,
                        result: Box::new(result),
                    }
                }
                Err(error) => BatchStep::Failed { index, path, error },
            };
            if !on_step(step) {
                return index + 1 == paths.len();
            }
        }
        true
    }
}
