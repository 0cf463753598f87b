//! AuditLens core: the whole product minus pixels. The `auditlens` CLI and the Tauri app are thin doors onto
//! these modules.
//!
//! - [`merkle`], [`note`], [`checkpoint`]: the standards (RFC 6962 Merkle trees, C2SP signed notes, checkpoints).
//! - [`archive`], [`seal`], [`verify`]: the signed archive format (docs/archive-format.md).
//! - [`input`], [`lines`]: reading source logs and streaming lines.
//! - [`sources`], [`time`]: normalization of events per source kind (docs/sources.md); [`json`]: the parsed event
//!   they read (texts borrowed from its bytes).
//! - [`query`]: the search query language (docs/search.md).
//! - [`store`]: the local SQLite evidence store: import, check, search (and the time histogram of a search).
//! - [`keyfile`]: key pairs on disk (`NAME.key`, owner-only, and `NAME.pub`), as keygen and the app write them.
//! - [`keyring`]: the verifier keys a user trusts (the desktop app's keyring file).
//! - [`trust`]: which keys may sign which origins, in which time window (docs/trust-policy.md).
//! - [`report`]: reports for machines (JSON); their human text is the CLI's (src/render.rs at the repository root).
//! - [`coverage`]: whether the verified evidence covers an audit period, per origin (docs/coverage.md).
//! - [`safe_text`]: untrusted text made safe for terminals and screens; look-alike origins.
//! - [`engagement`]: one folder per audit engagement: its store, working papers and keyring.
//! - [`papers`]: the auditor's working papers (tags, notes, bookmarks, saved searches, history) and the
//!   hash-chained action log, in a file of their own next to the store.
//! - [`bundle`]: evidence bundles: selected events with inclusion proofs, signed by the exporting auditor
//!   (docs/evidence-bundle.md).

pub mod alloc;
pub mod archive;
pub mod bundle;
pub mod checkpoint;
pub mod cloudtrail_digest;
pub mod coverage;
pub mod engagement;
pub mod input;
pub mod json;
pub mod keyfile;
pub mod keyring;
pub mod lines;
pub mod merkle;
pub mod note;
pub mod ocsf;
pub mod papers;
pub mod query;
pub mod report;
pub mod safe_text;
pub mod seal;
pub mod sources;
pub mod store;
pub mod table;
pub mod text;
pub mod time;
pub mod trust;
pub mod verify;
