//! The one error type every command returns, serialized to the UI as `{code, message}` (and `column` for a query
//! error). Messages say what happened and what to do; a verification failure is never an error here: it is an
//! import result.

use auditlens::keyring::KeyringError;
use auditlens::note::NoteError;
use auditlens::store::StoreError;
use auditlens::store::search::SearchError;
use auditlens::store::stats::StatsError;
use serde::Serialize;
use ts_rs::TS;

/// What kind of error, for the UI to choose how to show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// The search query does not parse; `column` says where.
    Query,
    /// The event, archive or key asked for does not exist.
    NotFound,
    /// A string or file that should hold a verifier key does not.
    InvalidKey,
    /// The keyring file could not be read or written.
    Keyring,
    /// The database could not be opened, read or written.
    Database,
    /// No database is open: the one chosen at start-up could not be opened (the message says which and why);
    /// choosing another one ends this.
    NoDatabase,
    /// A file could not be read or written.
    Io,
    /// The settings file could not be read or written.
    Settings,
    /// Bad input from the caller (not from a file).
    Invalid,
    /// A fault of the app itself (a worker thread died); the message has the details.
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// For [`ErrorCode::Query`]: the 1-based column (in characters) of the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub column: Option<u32>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError {
            code,
            message: message.into(),
            column: None,
        }
    }
}

impl From<auditlens::papers::PapersError> for AppError {
    fn from(e: auditlens::papers::PapersError) -> Self {
        match e {
            auditlens::papers::PapersError::Invalid(message) => {
                AppError::new(ErrorCode::Invalid, message)
            }
            other => AppError::new(ErrorCode::Database, other.to_string()),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        let advice = match e {
            // A store of another AuditLens version: readable and writable, just not by this version.
            StoreError::Schema(_) => "Choose another database.",
            _ => "Check that the database file is readable and writable, or choose another one.",
        };
        AppError::new(ErrorCode::Database, format!("{e}. {advice}"))
    }
}

impl From<SearchError> for AppError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::Query(q) => AppError {
                code: ErrorCode::Query,
                message: q.message,
                column: Some(q.column as u32),
            },
            SearchError::Cursor => AppError::new(
                ErrorCode::Invalid,
                "the result list is out of date; run the search again",
            ),
            SearchError::Store(s) => s.into(),
        }
    }
}

impl From<StatsError> for AppError {
    fn from(e: StatsError) -> Self {
        match e {
            StatsError::Query(q) => AppError {
                code: ErrorCode::Query,
                message: q.message,
                column: Some(q.column as u32),
            },
            StatsError::Scope(message) => AppError::new(ErrorCode::Invalid, message),
            StatsError::Store(s) => s.into(),
        }
    }
}

impl From<KeyringError> for AppError {
    fn from(e: KeyringError) -> Self {
        match e {
            KeyringError::InvalidKey(k) => k.into(),
            KeyringError::InvalidGrant(why) => AppError::new(ErrorCode::Invalid, why),
            other => AppError::new(ErrorCode::Keyring, other.to_string()),
        }
    }
}

impl From<NoteError> for AppError {
    fn from(e: NoteError) -> Self {
        AppError::new(
            ErrorCode::InvalidKey,
            format!(
                "not a verifier key: {e}. Paste the one line of the signer's .pub file (name+keyid+base64)."
            ),
        )
    }
}
