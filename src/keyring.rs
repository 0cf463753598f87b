//! The keyring: the verifier keys a user trusts, with the name each key carries, its fingerprint and when it was
//! added. Kept as one small JSON file (the desktop app puts it in the OS app-data directory) that is replaced
//! atomically on every change, so a crash leaves either the old or the new keyring, never half of one.
//!
//! The file holds public verifier keys only (`name+keyid+base64`, as written by `auditlens keygen` in `NAME.pub`);
//! trusting a key is a decision about whose signatures count, so every change is explicit: [`Keyring::add`],
//! [`Keyring::remove`], then [`Keyring::save`].

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::note::{NoteError, VerifierKey};

/// Version of the keyring file format written by [`Keyring::save`].
pub const FORMAT_VERSION: u64 = 1;

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
}

/// One trusted key.
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
}

#[derive(Serialize, Deserialize)]
struct KeyringFile {
    version: u64,
    keys: Vec<TrustedKey>,
}

/// The trusted keys, as loaded from (and saved to) one file.
#[derive(Debug, Clone)]
pub struct Keyring {
    path: PathBuf,
    keys: Vec<TrustedKey>,
}

impl Keyring {
    /// Loads the keyring at `path`; a file that does not exist yet is an empty keyring. Every stored key is
    /// parsed again, so a file edited by hand into something that is not a key is refused, not half-used.
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
        let file: KeyringFile =
            serde_json::from_slice(&text).map_err(|e| corrupt(e.to_string()))?;
        if file.version != FORMAT_VERSION {
            return Err(corrupt(format!(
                "format version {} (this AuditLens reads version {FORMAT_VERSION})",
                file.version
            )));
        }
        let mut keys: Vec<TrustedKey> = Vec::with_capacity(file.keys.len());
        for stored in file.keys {
            let parsed = VerifierKey::parse(&stored.key)
                .map_err(|e| corrupt(format!("key {:?}: {e}", stored.key)))?;
            if keys.iter().any(|k| k.fingerprint == parsed.fingerprint()) {
                continue;
            }
            keys.push(TrustedKey {
                key: parsed.to_string(),
                name: parsed.name().to_owned(),
                fingerprint: parsed.fingerprint(),
                added: stored.added,
            });
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

    /// The trusted keys, in the order they were added.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// The keys as verifier keys, for verification and import.
    pub fn verifier_keys(&self) -> Vec<VerifierKey> {
        // Every entry was parsed when it was loaded or added.
        self.keys
            .iter()
            .filter_map(|k| VerifierKey::parse(&k.key).ok())
            .collect()
    }

    /// Adds a key given as its verifier key string (surrounding white space, such as the newline of a `.pub`
    /// file, is ignored). Returns the entry and whether it was new; adding a key already trusted changes nothing.
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
        let fingerprint = key.fingerprint();
        if let Some(existing) = self.keys.iter().find(|k| k.fingerprint == fingerprint) {
            return Ok((existing.clone(), false));
        }
        let entry = TrustedKey {
            key: key.to_string(),
            name: key.name().to_owned(),
            fingerprint,
            added,
        };
        self.keys.push(entry.clone());
        Ok((entry, true))
    }

    /// Removes the key with this fingerprint; `false` when no such key was trusted.
    pub fn remove(&mut self, fingerprint: &str) -> bool {
        let before = self.keys.len();
        self.keys.retain(|k| k.fingerprint != fingerprint);
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
            keys: self.keys.clone(),
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
}
