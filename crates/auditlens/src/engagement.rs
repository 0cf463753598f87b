//! Engagements (cases): one folder per audit engagement, holding its evidence store, the auditor's working papers
//! next to it, and its own keyring, so that two clients' evidence and trust decisions never mix
//! (docs/app.md, "Engagements").
//!
//! ```text
//! FOLDER/engagement.json    name, client, when it was created (the audit period is the store's, store/coverage.rs)
//! FOLDER/evidence.db        the evidence store (and evidence.db.text, evidence.db.papers next to it)
//! FOLDER/keyring.json       the keys trusted for this engagement only
//! ```
//!
//! The command line needs nothing of this: `auditlens import --db FOLDER/evidence.db` works on an engagement's
//! store as on any other.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::store::Store;
use crate::store::coverage::AuditPeriod;

pub const ENGAGEMENT_FILE: &str = "engagement.json";
pub const DB_FILE: &str = "evidence.db";
pub const KEYRING_FILE: &str = "keyring.json";

/// Longest name or client, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// What `engagement.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EngagementFile {
    format: String,
    name: String,
    client: String,
    /// RFC 3339 UTC.
    created: String,
}

const FORMAT: &str = "auditlens-engagement/1";

/// One engagement, as the app lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Engagement {
    /// Its folder (absolute when it was given so).
    pub folder: String,
    pub name: String,
    pub client: String,
    /// RFC 3339 UTC.
    pub created: String,
    /// The audit period set on its store, if any.
    pub period: Option<AuditPeriod>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngagementError {
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> EngagementError + '_ {
    move |source| EngagementError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The evidence store of the engagement in `folder`.
pub fn db_path(folder: &Path) -> PathBuf {
    folder.join(DB_FILE)
}

/// The keyring of the engagement in `folder`.
pub fn keyring_path(folder: &Path) -> PathBuf {
    folder.join(KEYRING_FILE)
}

fn checked(text: &str, what: &str, required: bool) -> Result<String, EngagementError> {
    let t = text.trim();
    if required && t.is_empty() {
        return Err(EngagementError::Invalid(format!(
            "give the engagement a {what}"
        )));
    }
    if t.chars().count() > MAX_NAME_CHARS || t.chars().any(char::is_control) {
        return Err(EngagementError::Invalid(format!(
            "the {what} has control characters or more than {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(t.to_owned())
}

/// Creates an engagement in `folder` (made if missing; it must hold nothing yet): its file, its store (with the
/// audit period, when given) and an empty keyring.
pub fn create(
    folder: &Path,
    name: &str,
    client: &str,
    period: Option<&AuditPeriod>,
) -> Result<Engagement, EngagementError> {
    let name = checked(name, "name", true)?;
    let client = checked(client, "client", false)?;
    if let Some(p) = period {
        p.parse()
            .map_err(|e| EngagementError::Invalid(format!("audit period: {e}")))?;
    }
    std::fs::create_dir_all(folder).map_err(io(folder))?;
    let occupied = std::fs::read_dir(folder)
        .map_err(io(folder))?
        .next()
        .is_some();
    if occupied {
        return Err(EngagementError::Invalid(format!(
            "{} is not empty: an engagement gets a folder of its own (choose a new or empty folder)",
            folder.display()
        )));
    }
    let file = EngagementFile {
        format: FORMAT.into(),
        name,
        client,
        created: crate::time::format_utc(chrono::Utc::now().timestamp_micros()),
    };
    let path = folder.join(ENGAGEMENT_FILE);
    let mut text = serde_json::to_vec_pretty(&file).expect("engagement serializes");
    text.push(b'\n');
    std::fs::write(&path, text).map_err(io(&path))?;
    let store = Store::open(&db_path(folder))?;
    store.set_audit_period(period)?;
    drop(store);
    let keyring = crate::keyring::Keyring::load(&keyring_path(folder))
        .map_err(|e| EngagementError::Invalid(e.to_string()))?;
    keyring
        .save()
        .map_err(|e| EngagementError::Invalid(e.to_string()))?;
    let _ = crate::papers::log_to(
        &db_path(folder),
        "engagement created",
        &folder.display().to_string(),
        &format!("{} for {}", file.name, file.client),
    );
    open(folder)
}

/// Reads the engagement in `folder` (its file, and the audit period of its store).
pub fn open(folder: &Path) -> Result<Engagement, EngagementError> {
    let path = folder.join(ENGAGEMENT_FILE);
    let bytes = std::fs::read(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            EngagementError::Invalid(format!(
                "{} is not an engagement folder (it has no {ENGAGEMENT_FILE})",
                folder.display()
            ))
        } else {
            io(&path)(e)
        }
    })?;
    let file: EngagementFile = serde_json::from_slice(&bytes)
        .map_err(|e| EngagementError::Invalid(format!("{}: {e}", path.display())))?;
    if file.format != FORMAT {
        return Err(EngagementError::Invalid(format!(
            "{}: format {:?}; this AuditLens reads {FORMAT:?}",
            path.display(),
            file.format
        )));
    }
    let db = db_path(folder);
    let period = if db.is_file() {
        Store::open_read_only(&db)
            .ok()
            .and_then(|s| s.audit_period().ok().flatten())
    } else {
        None
    };
    Ok(Engagement {
        folder: folder.display().to_string(),
        name: checked(&file.name, "name", true)?,
        client: checked(&file.client, "client", false)?,
        created: file.created,
        period,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_engagements_open_again_and_refuse_a_used_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let folder = tmp.path().join("acme-2026");
        let period = AuditPeriod {
            from: "2026-01-01".into(),
            to: "2026-07-01".into(),
            silence: "24h".into(),
        };
        let e = create(&folder, " ACME SOC 2 ", "ACME Corp", Some(&period)).unwrap();
        assert_eq!(e.name, "ACME SOC 2");
        assert_eq!(e.period.as_ref(), Some(&period));
        assert!(db_path(&folder).is_file());
        assert!(keyring_path(&folder).is_file());
        assert_eq!(open(&folder).unwrap(), e);
        let again = create(&folder, "other", "", None).unwrap_err().to_string();
        assert!(again.contains("not empty"), "{again}");
        assert!(create(&tmp.path().join("x"), " ", "", None).is_err());
        assert!(create(&tmp.path().join("y"), "a\u{7}", "", None).is_err());
        let not = open(tmp.path()).unwrap_err().to_string();
        assert!(not.contains("not an engagement folder"), "{not}");
        // The action log of the new engagement starts with its creation.
        let papers = crate::papers::Papers::open(&db_path(&folder)).unwrap();
        assert_eq!(papers.actions().unwrap()[0].action, "engagement created");
    }
}
