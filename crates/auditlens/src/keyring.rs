//! The keyring: the grants a user gives (docs/trust-policy.md): which verifier key may sign which origins, in which
//! window of sealing times, with the name each key carries, its fingerprint and when it was added. Kept as one small JSON file (the desktop app puts it in the OS app-data directory) that is replaced
//! atomically on every change, so a crash leaves either the old or the new keyring, never half of one.
//!
//! The file holds public verifier keys only (`name+keyid+base64`, as written by `auditlens keygen` in `NAME.pub`);
//! trusting a key is a decision about whose signatures count, so every change is explicit: [`Keyring::add`] (a bare
//! key, pinned per origin on first use), [`Keyring::grant`] (a key for an origin pattern and window),
//! [`Keyring::remove_grant`], then [`Keyring::save`]. [`Keyring::policy`] is the trust policy they make.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::note::{NoteError, VerifierKey};
use crate::trust::{Grant, OriginPattern, TrustPolicy};

/// Version of the keyring file format written by [`Keyring::save`]. Version 1 (keys only, each a bare key) is
/// still read.
pub const FORMAT_VERSION: u64 = 2;

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("reading keyring {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("writing keyring {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("keyring {path} is not a valid keyring file: {reason}")]
    Corrupt { path: String, reason: String },
    #[error("not a verifier key: {0}")]
    InvalidKey(#[from] NoteError),
    #[error("{0}")]
    InvalidGrant(String),
}

/// One grant of the keyring: a key, the origins it may sign and the window of sealing times it covers
/// (docs/trust-policy.md). A *pinned* entry is a bare key (any origin, pinned per origin on first use, as
/// `--trust KEY.pub`); every other entry is a policy grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TrustedKey {
    /// The verifier key string `name+keyid+base64`.
    pub key: String,
    /// The key's name (the part before the first `+`).
    pub name: String,
    /// `SHA256:...` of the public key, as shown to people who compare keys.
    pub fingerprint: String,
    /// When it was added, RFC 3339 UTC.
    pub added: String,
    /// The origins it may sign: `*`, an exact origin, or a prefix written `prefix*`.
    pub origins: String,
    /// A bare key: any origin, pinned per origin on first use (a second signer of an origin needs a grant).
    pub pinned: bool,
    /// Archives sealed (signed `created` time) at or after this time, RFC 3339 UTC.
    pub valid_after: Option<String>,
    /// ... and strictly before this one.
    pub valid_before: Option<String>,
}

impl TrustedKey {
    /// Whether two entries grant the same thing (the same key, origins and window), whenever they were added.
    pub fn same_grant(&self, other: &TrustedKey) -> bool {
        self.fingerprint == other.fingerprint
            && self.origins == other.origins
            && self.pinned == other.pinned
            && self.valid_after == other.valid_after
            && self.valid_before == other.valid_before
    }
}

/// An entry as stored: version 1 has only `key` and `added` (and the derived name and fingerprint).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredEntry {
    key: String,
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    fingerprint: Option<String>,
    added: String,
    #[serde(default)]
    origins: Option<String>,
    #[serde(default)]
    pinned: Option<bool>,
    #[serde(default)]
    valid_after: Option<String>,
    #[serde(default)]
    valid_before: Option<String>,
}

#[derive(Deserialize)]
struct StoredFile {
    version: u64,
    keys: Vec<StoredEntry>,
}

#[derive(Serialize)]
struct KeyringFile<'a> {
    version: u64,
    keys: &'a [TrustedKey],
}

/// The trusted keys and grants, as loaded from (and saved to) one file.
#[derive(Debug, Clone)]
pub struct Keyring {
    path: PathBuf,
    keys: Vec<TrustedKey>,
}

/// A grant's window bound: a date (midnight UTC) or an RFC 3339 time, normalized to RFC 3339 UTC.
fn window_bound(what: &str, text: Option<&str>) -> Result<Option<(i64, String)>, String> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let t = crate::trust::parse_time(text)
        .ok_or_else(|| format!("{what}: {text:?} is not a date YYYY-MM-DD or an RFC 3339 time"))?;
    Ok(Some((t, crate::time::format_utc(t))))
}

/// Checks a grant's origin pattern and window and builds its entry.
fn grant_entry(
    key: &VerifierKey,
    origins: &str,
    pinned: bool,
    valid_after: Option<&str>,
    valid_before: Option<&str>,
    added: String,
) -> Result<TrustedKey, String> {
    let pattern = OriginPattern::parse(origins)?;
    let after = window_bound("valid-after", valid_after)?;
    let before = window_bound("valid-before", valid_before)?;
    if let (Some((a, _)), Some((b, _))) = (&after, &before)
        && a >= b
    {
        return Err("valid-after must be before valid-before".into());
    }
    if pinned && (pattern != OriginPattern::Any || after.is_some() || before.is_some()) {
        return Err("a bare (pinned) key is for every origin, without a window".into());
    }
    Ok(TrustedKey {
        key: key.to_string(),
        name: key.name().to_owned(),
        fingerprint: key.fingerprint(),
        added,
        origins: pattern.to_string(),
        pinned,
        valid_after: after.map(|(_, s)| s),
        valid_before: before.map(|(_, s)| s),
    })
}

impl Keyring {
    /// Loads the keyring at `path`; a file that does not exist yet is an empty keyring. Every stored key, origin
    /// pattern and window is parsed again, so a file edited by hand into something that is not a grant is refused,
    /// not half-used. A version-1 file (keys only) loads as bare keys.
    pub fn load(path: &Path) -> Result<Keyring, KeyringError> {
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Keyring {
                    path: path.to_owned(),
                    keys: Vec::new(),
                });
            }
            Err(source) => {
                return Err(KeyringError::Read {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        let corrupt = |reason: String| KeyringError::Corrupt {
            path: path.display().to_string(),
            reason,
        };
        let file: StoredFile = serde_json::from_slice(&text).map_err(|e| corrupt(e.to_string()))?;
        if file.version != 1 && file.version != FORMAT_VERSION {
            return Err(corrupt(format!(
                "format version {} (this AuditLens reads versions 1 and {FORMAT_VERSION})",
                file.version
            )));
        }
        let mut keys: Vec<TrustedKey> = Vec::with_capacity(file.keys.len());
        for stored in file.keys {
            let parsed = VerifierKey::parse(&stored.key)
                .map_err(|e| corrupt(format!("key {:?}: {e}", stored.key)))?;
            if crate::time::parse_rfc3339(&stored.added).is_none() {
                return Err(corrupt(format!(
                    "key {:?}: added {:?} is not an RFC 3339 time",
                    stored.key, stored.added
                )));
            }
            let (origins, pinned) = if file.version == 1 {
                if stored.origins.is_some()
                    || stored.pinned.is_some()
                    || stored.valid_after.is_some()
                    || stored.valid_before.is_some()
                {
                    return Err(corrupt(format!(
                        "key {:?}: a version 1 keyring holds keys only, not grants",
                        stored.key
                    )));
                }
                ("*".to_string(), true)
            } else {
                let origins = stored
                    .origins
                    .ok_or_else(|| corrupt(format!("key {:?}: no origin pattern", stored.key)))?;
                (origins, stored.pinned.unwrap_or(false))
            };
            let entry = grant_entry(
                &parsed,
                &origins,
                pinned,
                stored.valid_after.as_deref(),
                stored.valid_before.as_deref(),
                stored.added,
            )
            .map_err(|e| corrupt(format!("key {:?}: {e}", stored.key)))?;
            if keys.iter().any(|k| k.same_grant(&entry)) {
                continue;
            }
            keys.push(entry);
        }
        Ok(Keyring {
            path: path.to_owned(),
            keys,
        })
    }

    /// The file this keyring is saved to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The grants, in the order they were added.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// The distinct keys of the grants, as verifier keys (for callers that take keys, not a policy).
    pub fn verifier_keys(&self) -> Vec<VerifierKey> {
        let mut out: Vec<VerifierKey> = Vec::new();
        // Every entry was parsed when it was loaded or added.
        for k in self
            .keys
            .iter()
            .filter_map(|k| VerifierKey::parse(&k.key).ok())
        {
            if !out.contains(&k) {
                out.push(k);
            }
        }
        out
    }

    /// The trust policy of this keyring: pinned entries as bare keys (pinned per origin on first use), the others
    /// as policy grants; the source of every grant is "keyring".
    pub fn policy(&self) -> TrustPolicy {
        let mut policy = TrustPolicy::new();
        for k in &self.keys {
            // Every entry was checked when it was loaded or added.
            let Ok(key) = VerifierKey::parse(&k.key) else {
                continue;
            };
            if k.pinned {
                policy.add(Grant::bare(key, "keyring"));
                continue;
            }
            let Ok(origins) = OriginPattern::parse(&k.origins) else {
                continue;
            };
            let bound = |t: &Option<String>| t.as_deref().and_then(crate::time::parse_rfc3339);
            policy.add(Grant {
                origins,
                key,
                valid_after: bound(&k.valid_after),
                valid_before: bound(&k.valid_before),
                first_use: false,
                source: "keyring".into(),
            });
        }
        policy
    }

    /// Adds a bare key given as its verifier key string (surrounding white space, such as the newline of a `.pub`
    /// file, is ignored): any origin, pinned per origin on first use. Returns the entry and whether it was new;
    /// adding a key already trusted as a bare key changes nothing.
    pub fn add(&mut self, key_text: &str) -> Result<(TrustedKey, bool), KeyringError> {
        self.add_at(
            key_text,
            crate::time::format_utc(chrono::Utc::now().timestamp_micros()),
        )
    }

    /// [`Keyring::add`] with the time of adding given (RFC 3339 UTC).
    pub fn add_at(
        &mut self,
        key_text: &str,
        added: String,
    ) -> Result<(TrustedKey, bool), KeyringError> {
        let key = VerifierKey::parse(key_text)?;
        let entry =
            grant_entry(&key, "*", true, None, None, added).map_err(KeyringError::InvalidGrant)?;
        Ok(self.push(entry))
    }

    /// Grants a key for the origins of `origins` (`*`, an exact origin or `prefix*`), for archives sealed in the
    /// window (dates `YYYY-MM-DD` or RFC 3339 times; empty means unbounded). Returns the entry and whether it was
    /// new; the same grant again changes nothing.
    pub fn grant(
        &mut self,
        key_text: &str,
        origins: &str,
        valid_after: Option<&str>,
        valid_before: Option<&str>,
    ) -> Result<(TrustedKey, bool), KeyringError> {
        self.grant_at(
            key_text,
            origins,
            valid_after,
            valid_before,
            crate::time::format_utc(chrono::Utc::now().timestamp_micros()),
        )
    }

    /// [`Keyring::grant`] with the time of adding given (RFC 3339 UTC).
    pub fn grant_at(
        &mut self,
        key_text: &str,
        origins: &str,
        valid_after: Option<&str>,
        valid_before: Option<&str>,
        added: String,
    ) -> Result<(TrustedKey, bool), KeyringError> {
        let key = VerifierKey::parse(key_text)?;
        let entry = grant_entry(&key, origins, false, valid_after, valid_before, added)
            .map_err(KeyringError::InvalidGrant)?;
        Ok(self.push(entry))
    }

    fn push(&mut self, entry: TrustedKey) -> (TrustedKey, bool) {
        if let Some(existing) = self.keys.iter().find(|k| k.same_grant(&entry)) {
            return (existing.clone(), false);
        }
        self.keys.push(entry.clone());
        (entry, true)
    }

    /// Removes every grant of the key with this fingerprint; `false` when no such key was trusted.
    pub fn remove(&mut self, fingerprint: &str) -> bool {
        let before = self.keys.len();
        self.keys.retain(|k| k.fingerprint != fingerprint);
        self.keys.len() != before
    }

    /// Removes the one grant that grants the same as `grant` (key, origins, window); `false` when there is none.
    pub fn remove_grant(&mut self, grant: &TrustedKey) -> bool {
        let before = self.keys.len();
        self.keys.retain(|k| !k.same_grant(grant));
        self.keys.len() != before
    }

    /// Writes the keyring: to a temporary file in the same directory, flushed to disk, then renamed over the
    /// old file. Creates the directory if needed.
    pub fn save(&self) -> Result<(), KeyringError> {
        let write_err = |source| KeyringError::Write {
            path: self.path.display().to_string(),
            source,
        };
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(write_err)?;
        let file = KeyringFile {
            version: FORMAT_VERSION,
            keys: &self.keys,
        };
        let mut text = serde_json::to_vec_pretty(&file).expect("a keyring serializes");
        text.push(b'\n');
        let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(write_err)?;
        tmp.write_all(&text).map_err(write_err)?;
        tmp.as_file().sync_all().map_err(write_err)?;
        tmp.persist(&self.path).map_err(|e| write_err(e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::SignerKey;

    fn key(name: &str, seed: u8) -> String {
        SignerKey::from_seed(name, &[seed; 32])
            .unwrap()
            .verifier()
            .to_string()
    }

    #[test]
    fn a_missing_file_is_an_empty_keyring() {
        let dir = tempfile::tempdir().unwrap();
        let ring = Keyring::load(&dir.path().join("keyring.json")).unwrap();
        assert!(ring.keys().is_empty());
        assert!(ring.verifier_keys().is_empty());
    }

    #[test]
    fn added_keys_survive_a_save_and_load_with_name_fingerprint_and_date() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("keyring.json");
        let mut ring = Keyring::load(&path).unwrap();
        let text = key("ops", 1);
        let (entry, new) = ring
            .add_at(&format!("  {text}\n"), "2024-05-01T00:00:00Z".into())
            .unwrap();
        assert!(new);
        assert_eq!(entry.name, "ops");
        assert_eq!(entry.key, text);
        assert!(entry.fingerprint.starts_with("SHA256:"));
        ring.save().unwrap();
        let again = Keyring::load(&path).unwrap();
        assert_eq!(again.keys(), &[entry]);
        assert_eq!(again.verifier_keys().len(), 1);
    }

    #[test]
    fn adding_a_trusted_key_again_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = Keyring::load(&dir.path().join("k.json")).unwrap();
        let text = key("ops", 1);
        assert!(ring.add(&text).unwrap().1);
        assert!(!ring.add(&text).unwrap().1);
        assert_eq!(ring.keys().len(), 1);
    }

    #[test]
    fn remove_takes_out_only_the_key_with_that_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = Keyring::load(&dir.path().join("k.json")).unwrap();
        let (a, _) = ring.add(&key("a", 1)).unwrap();
        let (b, _) = ring.add(&key("b", 2)).unwrap();
        assert!(ring.remove(&a.fingerprint));
        assert!(!ring.remove(&a.fingerprint));
        assert_eq!(ring.keys(), &[b]);
    }

    #[test]
    fn a_string_that_is_not_a_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = Keyring::load(&dir.path().join("k.json")).unwrap();
        assert!(matches!(
            ring.add("hello"),
            Err(KeyringError::InvalidKey(_))
        ));
        // A private key is not a verifier key either, and is never stored.
        let private = SignerKey::from_seed("ops", &[1; 32])
            .unwrap()
            .to_string_private();
        assert!(ring.add(&private).is_err());
        assert!(ring.keys().is_empty());
    }

    #[test]
    fn a_corrupt_file_is_refused_not_half_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        std::fs::write(
            &path,
            r#"{"version":1,"keys":[{"key":"x","name":"x","fingerprint":"x","added":"x"}]}"#,
        )
        .unwrap();
        assert!(matches!(
            Keyring::load(&path),
            Err(KeyringError::Corrupt { .. })
        ));
        std::fs::write(&path, "not json").unwrap();
        assert!(matches!(
            Keyring::load(&path),
            Err(KeyringError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_version_1_file_loads_as_bare_keys_pinned_on_first_use() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        let text = key("ops", 1);
        let fp = VerifierKey::parse(&text).unwrap().fingerprint();
        std::fs::write(
            &path,
            format!(
                r#"{{"version":1,"keys":[{{"key":"{text}","name":"ops","fingerprint":"{fp}","added":"2024-05-01T00:00:00Z"}}]}}"#
            ),
        )
        .unwrap();
        let ring = Keyring::load(&path).unwrap();
        assert_eq!(
            ring.keys(),
            &[TrustedKey {
                key: text.clone(),
                name: "ops".into(),
                fingerprint: fp,
                added: "2024-05-01T00:00:00Z".into(),
                origins: "*".into(),
                pinned: true,
                valid_after: None,
                valid_before: None,
            }]
        );
        let policy = ring.policy();
        assert_eq!(policy.grants().len(), 1);
        assert!(policy.grants()[0].first_use);
        assert_eq!(policy.grants()[0].origins, OriginPattern::Any);
        // Saved again, it is a version 2 file.
        ring.save().unwrap();
        let saved: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(saved["version"], 2);
        assert_eq!(saved["keys"][0]["pinned"], true);
    }

    #[test]
    fn grants_survive_a_save_and_load_and_make_the_policy() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        let mut ring = Keyring::load(&path).unwrap();
        let a = key("team-a", 1);
        let b = key("team-b", 2);
        let (bare, _) = ring.add_at(&a, "2026-01-01T00:00:00Z".into()).unwrap();
        let (exact, new) = ring
            .grant_at(
                &a,
                "corp.example/prod/k8s",
                None,
                None,
                "2026-01-02T00:00:00Z".into(),
            )
            .unwrap();
        assert!(new);
        let (windowed, _) = ring
            .grant_at(
                &b,
                "corp.example/prod/*",
                Some("2026-01-01"),
                Some("2026-07-01T12:00:00Z"),
                "2026-01-03T00:00:00Z".into(),
            )
            .unwrap();
        assert_eq!(
            windowed.valid_after.as_deref(),
            Some("2026-01-01T00:00:00Z")
        );
        assert_eq!(
            windowed.valid_before.as_deref(),
            Some("2026-07-01T12:00:00Z")
        );
        assert_eq!(windowed.origins, "corp.example/prod/*");
        assert!(!windowed.pinned);
        // The same grant again changes nothing; the same key for another origin is another grant.
        assert!(
            !ring
                .grant(&a, "corp.example/prod/k8s", None, Some(""))
                .unwrap()
                .1
        );
        ring.save().unwrap();
        let again = Keyring::load(&path).unwrap();
        assert_eq!(again.keys(), &[bare, exact.clone(), windowed.clone()]);
        assert_eq!(again.verifier_keys().len(), 2);

        let policy = again.policy();
        let g = &policy.grants()[2];
        assert_eq!(
            g.origins,
            OriginPattern::Prefix("corp.example/prod/".into())
        );
        assert_eq!(
            g.valid_after,
            crate::time::parse_rfc3339("2026-01-01T00:00:00Z")
        );
        assert_eq!(
            g.valid_before,
            crate::time::parse_rfc3339("2026-07-01T12:00:00Z")
        );
        assert!(!g.first_use);
        assert_eq!(g.source, "keyring");
        let kb = VerifierKey::parse(&b).unwrap();
        let t = crate::time::parse_rfc3339;
        assert!(
            policy
                .decide("corp.example/prod/x", &kb, t("2026-03-01T00:00:00Z"), &[])
                .trusted
        );
        // Outside the window or the prefix: not trusted.
        assert!(
            !policy
                .decide("corp.example/prod/x", &kb, t("2026-08-01T00:00:00Z"), &[])
                .trusted
        );
        let other = policy.decide("corp.example/staging", &kb, t("2026-03-01T00:00:00Z"), &[]);
        assert!(!other.trusted);
        assert!(
            other.reason.contains("not trusted for this origin"),
            "{}",
            other.reason
        );

        // Removing one grant keeps the others of the same key.
        let mut ring = again;
        assert!(ring.remove_grant(&exact));
        assert!(!ring.remove_grant(&exact));
        assert_eq!(ring.keys().len(), 2);
        assert_eq!(ring.keys()[0].fingerprint, exact.fingerprint);
    }

    #[test]
    fn a_grant_with_a_bad_pattern_or_window_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut ring = Keyring::load(&dir.path().join("k.json")).unwrap();
        let a = key("a", 1);
        for (origins, after, before, needle) in [
            ("", None, None, "empty origin pattern"),
            ("a*b", None, None, "only allowed once"),
            ("o\u{1b}[2J", None, None, "control character"),
            ("o", Some("yesterday"), None, "valid-after"),
            (
                "o",
                Some("2026-02-01"),
                Some("2026-01-01"),
                "before valid-before",
            ),
        ] {
            match ring.grant(&a, origins, after, before) {
                Err(KeyringError::InvalidGrant(m)) => assert!(m.contains(needle), "{m}"),
                other => panic!("{origins:?}: {other:?}"),
            }
        }
        assert!(ring.keys().is_empty());
    }

    #[test]
    fn corrupt_grants_in_a_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.json");
        let a = key("a", 1);
        for entry in [
            // No origin pattern in version 2.
            format!(r#"{{"key":"{a}","added":"2026-01-01T00:00:00Z"}}"#),
            format!(r#"{{"key":"{a}","added":"2026-01-01T00:00:00Z","origins":"a*b"}}"#),
            format!(
                r#"{{"key":"{a}","added":"2026-01-01T00:00:00Z","origins":"o","valid_before":"soon"}}"#
            ),
            // A pinned key bound to an origin is not a bare key.
            format!(
                r#"{{"key":"{a}","added":"2026-01-01T00:00:00Z","origins":"o","pinned":true}}"#
            ),
            format!(r#"{{"key":"{a}","added":"later","origins":"o"}}"#),
            format!(
                r#"{{"key":"{a}","added":"2026-01-01T00:00:00Z","origins":"o","colour":"blue"}}"#
            ),
        ] {
            std::fs::write(&path, format!(r#"{{"version":2,"keys":[{entry}]}}"#)).unwrap();
            assert!(
                matches!(Keyring::load(&path), Err(KeyringError::Corrupt { .. })),
                "{entry}"
            );
        }
        // A version 1 file with grant fields, or an unknown version.
        std::fs::write(
            &path,
            format!(r#"{{"version":1,"keys":[{{"key":"{a}","added":"2026-01-01T00:00:00Z","origins":"o"}}]}}"#),
        )
        .unwrap();
        assert!(matches!(
            Keyring::load(&path),
            Err(KeyringError::Corrupt { .. })
        ));
        std::fs::write(&path, r#"{"version":3,"keys":[]}"#).unwrap();
        assert!(matches!(
            Keyring::load(&path),
            Err(KeyringError::Corrupt { .. })
        ));
    }
}
