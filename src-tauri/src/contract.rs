//! The one place the front-end contract is declared: every type the app's commands and channels send to the UI
//! that is not already a library type. TypeScript is generated from these (and the library types they use) by
//! ts-rs into `ui/src/bindings/` (see `tests/it/bindings.rs`); nobody writes them twice.

use auditlens::archive::TimeRange;
use auditlens::coverage::Coverage;
use auditlens::keyring::TrustedKey;
use auditlens::safe_text::LookalikeGroup;
use auditlens::store::ArchiveRow;
use auditlens::store::check::{CheckProgress, CheckReport};
use auditlens::store::coverage::AuditPeriod;
use auditlens::store::import::ImportResult;
use auditlens::store::text_index::TextIndexStatus;
use auditlens::verify::Progress;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{AppError, ErrorCode};

pub use auditlens::bundle::{
    BundleArchive, BundleEvent, BundleKey, BundleProblem, BundleVerdict, ExportPreview,
    ExportSelection, OpenedBundle, PreviewArchive,
};

/// A job (an import of some archives, or a check of the database) that runs off the main thread.
pub type JobId = u32;

/// Colour theme of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    /// Follow the desktop's light or dark preference.
    #[default]
    System,
    Light,
    Dark,
}

/// Which time zone times are shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum TimeZoneChoice {
    #[default]
    Utc,
    Local,
}

/// The user's settings, kept in `settings.json` in the app-data directory.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Settings {
    /// The database chosen by the user; null for the default one in the app-data directory.
    pub db_path: Option<String>,
    pub theme: Theme,
    pub time_zone: TimeZoneChoice,
    /// Columns shown in the search results, in order.
    pub columns: Vec<String>,
    /// Widths the user gave result columns by dragging their edge, in pixels, by column id.
    #[serde(default)]
    pub column_widths: std::collections::BTreeMap<String, u32>,
    /// The open engagement's folder (its database is then `FOLDER/evidence.db`); null when none is.
    #[serde(default)]
    pub engagement: Option<String>,
    /// Engagement folders opened lately, newest first.
    #[serde(default)]
    pub recent_engagements: Vec<String>,
}

/// The open database.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DbStatus {
    pub path: String,
    /// True when this is the default database in the app-data directory.
    pub is_default: bool,
    /// True when `--db` chose it for this run (it is not saved in the settings).
    pub from_command_line: bool,
    pub archives: u64,
    pub events: u64,
    /// Set when the database was made by an older AuditLens and opening it upgraded it: says so and where the
    /// copy of it as it was is kept (`<db>.backup-v<N>`).
    pub upgrade: Option<String>,
    /// How far the full-text index has got: while events are pending the window shows "indexing text: N%"
    /// (text searches meanwhile read those events instead).
    pub text_index: TextIndexStatus,
}

/// What the window needs when it opens.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Startup {
    /// The AuditLens version (the workspace version of Cargo.toml), shown in the About box.
    pub version: String,
    pub data_dir: String,
    pub settings: Settings,
    pub db: DbStatus,
    pub keys: Vec<TrustedKey>,
    /// Archives given on the command line, to import now (each once: the next call gets none).
    pub imports: Vec<String>,
    /// Problems with the command line (a `--trust` file that is not a key, ...), to show.
    pub notices: Vec<String>,
    /// Keys given with `--trust`: trusted for this session only until the auditor saves them to the keyring.
    pub session_keys: Vec<TrustedKey>,
    /// The open engagement, when the database is an engagement's.
    pub engagement: Option<auditlens::engagement::Engagement>,
}

/// The auditor's identities: the aliases said, and actor values that look like one person.
#[derive(Debug, Clone, Serialize, TS)]
pub struct IdentitiesView {
    pub aliases: Vec<auditlens::papers::Alias>,
    pub suggestions: Vec<auditlens::papers::AliasSuggestion>,
}

/// The open engagement and the ones opened lately.
#[derive(Debug, Clone, Serialize, TS)]
pub struct EngagementsView {
    pub current: Option<auditlens::engagement::Engagement>,
    pub recent: Vec<RecentEngagement>,
}

/// An engagement opened lately: read from its folder, or why it cannot be.
#[derive(Debug, Clone, Serialize, TS)]
pub struct RecentEngagement {
    pub folder: String,
    pub engagement: Option<auditlens::engagement::Engagement>,
    pub problem: Option<String>,
}

/// Adding a key to the keyring.
#[derive(Debug, Clone, Serialize, TS)]
pub struct TrustOutcome {
    pub key: TrustedKey,
    /// False when the key was already trusted (with the same grant).
    pub added: bool,
    /// Kept untrusted archives of the store the new grant trusts: promoted to verified, or why not.
    pub promoted: Vec<auditlens::store::import::Promotion>,
}

/// Removing a key or one of its grants.
#[derive(Debug, Clone, Serialize, TS)]
pub struct UntrustOutcome {
    /// The keyring's grants now.
    pub keys: Vec<TrustedKey>,
    /// Verified archives of the open database the keyring no longer trusts: now kept as untrusted, out of every
    /// verified count (a later grant promotes them again).
    pub demoted: Vec<auditlens::store::import::Demotion>,
}

/// What happens during an import job, in order: `queued`, then for each archive `started`, `progress`...,
/// and `finished` (or `failed` when the file could not be read at all), then `done`.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ImportEvent {
    Queued {
        job: JobId,
        paths: Vec<String>,
    },
    Started {
        job: JobId,
        index: u32,
        path: String,
    },
    Progress {
        job: JobId,
        index: u32,
        progress: Progress,
        elapsed_ms: u64,
    },
    Finished {
        job: JobId,
        index: u32,
        elapsed_ms: u64,
        result: Box<ImportResult>,
    },
    /// The archive could not be imported at all (unreadable file, database error).
    Failed {
        job: JobId,
        index: u32,
        path: String,
        error: AppError,
    },
    Done {
        job: JobId,
        cancelled: bool,
    },
}

/// What happens during a check of the database.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CheckEvent {
    Progress {
        job: JobId,
        progress: CheckProgress,
        elapsed_ms: u64,
    },
    Finished {
        job: JobId,
        elapsed_ms: u64,
        report: CheckReport,
    },
    Cancelled {
        job: JobId,
    },
    Failed {
        job: JobId,
        error: AppError,
    },
}

/// Every stored archive, by origin and sequence. Continuity (gaps, forks, overlaps) is drawn from these rows: the
/// store flags a missing sequence (`gap_before`) and refuses forks (kept only flagged `failed`).
#[derive(Debug, Clone, Serialize, TS)]
pub struct ArchivesView {
    pub archives: Vec<ArchiveRow>,
    /// Groups of different stored origins that look alike (case, Unicode form, invisible characters): shown as a
    /// warning naming each origin with its hidden characters made visible.
    pub lookalikes: Vec<LookalikeGroup>,
}

/// Why a stored archive is flagged (as stored by the importer with keep-failed).
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct StoredFailure {
    pub kind: Option<String>,
    pub message: String,
    pub entry: Option<String>,
    pub line: Option<u64>,
    pub event_index: Option<u64>,
    pub expected: Option<String>,
    pub found: Option<String>,
}

/// One archive with its signed documents.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ArchiveDetail {
    pub archive: ArchiveRow,
    /// The signed checkpoint (signed note) exactly as stored.
    pub checkpoint: Option<String>,
    /// manifest.json, pretty-printed (members in stored order, numbers as written).
    pub manifest: Option<String>,
    /// The time range the manifest declares.
    pub declared_time_range: Option<TimeRange>,
    pub failure: Option<StoredFailure>,
}

/// The auditor's own signing key: it signs the manifest of every evidence bundle the app exports (chain of
/// custody). Created in the app (kept in the app-data directory, readable by its owner only) or an existing `.key`
/// file made by `auditlens keygen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AuditorKey {
    pub name: String,
    /// `SHA256:...` of the public key, for recipients to compare.
    pub fingerprint: String,
    /// The verifier key string (public): what recipients pass to `verify-bundle --trust-auditor`.
    pub key: String,
    /// The private key file.
    pub path: String,
    /// The public key file next to it, when there is one.
    pub pub_path: Option<String>,
    /// True when the app created it in its app-data directory.
    pub created_in_app: bool,
}

/// A written evidence bundle.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ExportResult {
    pub out: String,
    pub events: u64,
    pub archives: u64,
    /// Size of the bundle file.
    pub bytes: u64,
    /// SHA-256 of the bundle file, lowercase hex (as `sha256sum` prints it), to note in the case file.
    pub sha256: String,
    /// RFC 3339 UTC export time, as recorded in the bundle.
    pub exported: String,
    pub purpose: String,
    /// The key that signed the bundle's manifest.
    pub auditor: AuditorKey,
}

/// The auditor's action log as the window shows it (papers/log.rs): every entry, and whether the chain holds.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ActionLog {
    /// Oldest first.
    pub entries: Vec<auditlens::papers::Action>,
    pub check: auditlens::papers::LogCheck,
}

/// A written result table ("Export results…", docs/search.md section 10): every match of a query as CSV or JSON
/// Lines, the columns of the table and each event's provenance.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ResultsExport {
    /// The file written.
    pub out: String,
    /// `csv` or `jsonl`, by the file name's extension.
    pub format: String,
    pub events: u64,
    pub bytes: u64,
}

/// A written OCSF Parquet export ("Export for analytics", docs/ocsf-export.md).
#[derive(Debug, Clone, Serialize, TS)]
pub struct AnalyticsExport {
    /// The folder written.
    pub out: String,
    pub rows: u64,
    pub files: u64,
    /// Bytes of the Parquet files.
    pub bytes: u64,
    /// Rows per OCSF class folder (`api_activity`, `authentication`, `account_change`).
    pub classes: Vec<ClassRows>,
    /// Matching events of archives that are not verified: never written.
    pub left_out_unverified: u64,
    /// Matching Kubernetes records at stage RequestReceived or ResponseStarted: not exported by default.
    pub left_out_stages: u64,
    /// The key that signed the manifest.
    pub auditor: AuditorKey,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct ClassRows {
    pub class: String,
    pub rows: u64,
}

/// What a file given to the app (dropped, picked to import, on the command line) is taken for, before anything is
/// read beyond the ZIP's list of entries: an evidence bundle (opened on the Received bundle screen, never imported)
/// or anything else, tried as an archive (the import reports what is wrong with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Archive,
    Bundle,
    /// Not a ZIP at all (a log file: JSON Lines, JSON, gzip): nobody signed it; the app offers to seal it on
    /// receipt ("Import unsigned logs").
    Unsigned,
    /// An AWS CloudTrail export (a folder holding `AWSLogs/.../CloudTrail-Digest/`, or a ZIP or tar of one):
    /// verified offline against AWS's signed digests (docs/cloudtrail.md), not imported.
    Cloudtrail,
}

/// An AWS CloudTrail export verified offline (docs/cloudtrail.md): the report, and the same as text lines.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CloudTrailCheck {
    pub path: String,
    pub report: auditlens::cloudtrail_digest::ExportReport,
    /// `auditlens verify`'s text of the report, one line each.
    pub text: Vec<String>,
}

/// The audit period kept in the open database and how its verified archives cover it (docs/coverage.md).
#[derive(Debug, Clone, Serialize, TS)]
pub struct AuditCoverage {
    /// Null when no audit period is set for this database.
    pub period: Option<AuditPeriod>,
    /// Per origin, over the store's verified archives; null when no period is set.
    pub coverage: Option<Coverage>,
}

/// Every type above and the library types they use, for the TypeScript generator.
pub fn export_all(cfg: &ts_rs::Config) -> Result<(), ts_rs::ExportError> {
    ErrorCode::export_all(cfg)?;
    CloudTrailCheck::export_all(cfg)?;
    auditlens::store::import::CloudTrailImport::export_all(cfg)?;
    auditlens::store::import::CloudTrailStep::export_all(cfg)?;
    AppError::export_all(cfg)?;
    Settings::export_all(cfg)?;
    Startup::export_all(cfg)?;
    TrustOutcome::export_all(cfg)?;
    UntrustOutcome::export_all(cfg)?;
    ImportEvent::export_all(cfg)?;
    CheckEvent::export_all(cfg)?;
    ArchivesView::export_all(cfg)?;
    ArchiveDetail::export_all(cfg)?;
    auditlens::store::search::EventDetail::export_all(cfg)?;
    auditlens::keyring::TrustedKey::export_all(cfg)?;
    DbStatus::export_all(cfg)?;
    auditlens::store::search::SearchPage::export_all(cfg)?;
    auditlens::store::histogram::Histogram::export_all(cfg)?;
    auditlens::store::stats::Scope::export_all(cfg)?;
    auditlens::store::stats::DashboardOptions::export_all(cfg)?;
    auditlens::store::stats::Overview::export_all(cfg)?;
    auditlens::store::stats::Deployments::export_all(cfg)?;
    auditlens::store::stats::Access::export_all(cfg)?;
    AuditorKey::export_all(cfg)?;
    ExportSelection::export_all(cfg)?;
    ExportPreview::export_all(cfg)?;
    ExportResult::export_all(cfg)?;
    AnalyticsExport::export_all(cfg)?;
    ResultsExport::export_all(cfg)?;
    ActionLog::export_all(cfg)?;
    EngagementsView::export_all(cfg)?;
    IdentitiesView::export_all(cfg)?;
    auditlens::papers::Annotations::export_all(cfg)?;
    auditlens::papers::Change::export_all(cfg)?;
    auditlens::papers::PapersView::export_all(cfg)?;
    auditlens::store::hints::Hint::export_all(cfg)?;
    auditlens::store::sorted::Sort::export_all(cfg)?;
    auditlens::store::incidents::Incident::export_all(cfg)?;
    OpenedBundle::export_all(cfg)?;
    FileKind::export_all(cfg)?;
    AuditCoverage::export_all(cfg)?;
    auditlens::store::renormalize::Renormalized::export_all(cfg)?;
    let commands = cfg.out_dir().join("Commands.ts");
    std::fs::write(&commands, crate::api::typescript(cfg))?;
    Ok(())
}
