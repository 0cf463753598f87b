//! Key pairs on disk, as `auditlens keygen` and the desktop app write them: `NAME.key` (the private signing key,
//! created new, readable by its owner only) and `NAME.pub` (the verifier key, to hand out), one line each.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::note::SignerKey;

/// The two files of a written key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPairFiles {
    /// `NAME.key`: the private signing key.
    pub key: PathBuf,
    /// `NAME.pub`: the verifier key.
    pub public: PathBuf,
}

/// Why a key pair was not written.
#[derive(Debug, thiserror::Error)]
pub enum KeyPairError {
    /// `NAME.key` or `NAME.pub` is already there: a key is never overwritten.
    #[error("{} already exists; not overwriting a key", .0.display())]
    Exists(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// True when `name` can name key files anywhere: a valid key name (`note::is_valid_key_name`) of ASCII letters,
/// digits, '.', '_', '-' and '@' that does not start with '.' (no path separator, no hidden file).
pub fn is_file_safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        && crate::note::is_valid_key_name(name)
}

/// Creates the folder `dir` (and its parents) for keys: readable by its owner only (mode 0700 on Unix) when it is
/// created here.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// The files `key` is written to in `dir`: `dir/NAME.key` and `dir/NAME.pub`.
pub fn key_pair_files(dir: &Path, name: &str) -> KeyPairFiles {
    KeyPairFiles {
        key: dir.join(format!("{name}.key")),
        public: dir.join(format!("{name}.pub")),
    }
}

/// Writes `key` as `NAME.key` (created new, mode 0600 on Unix, synced) and `NAME.pub` in the existing folder `dir`.
/// Refuses, writing nothing, when either file exists.
pub fn write_key_pair(dir: &Path, key: &SignerKey) -> Result<KeyPairFiles, KeyPairError> {
    let files = key_pair_files(dir, key.name());
    for p in [&files.key, &files.public] {
        if p.exists() {
            return Err(KeyPairError::Exists(p.clone()));
        }
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| KeyPairError::Io { path, source }
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&files.key).map_err(io(&files.key))?;
    f.write_all(format!("{}\n", key.to_string_private()).as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(io(&files.key))?;
    std::fs::write(&files.public, format!("{}\n", key.verifier())).map_err(io(&files.public))?;
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_safe_names_are_key_names_without_separators_or_a_leading_dot() {
        for ok in ["jane.doe-audit", "a", "ops_prod@example.com"] {
            assert!(is_file_safe_name(ok), "{ok}");
        }
        for bad in ["", ".hidden", "a/b", "../x", "a b", "a+b", "é"] {
            assert!(!is_file_safe_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_private_dir_is_created_owner_only() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/keys");
        create_private_dir(&dir).unwrap();
        create_private_dir(&dir).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }

    #[test]
    fn a_key_pair_is_written_owner_only_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let key = SignerKey::generate("jane.doe-audit").unwrap();
        let files = write_key_pair(dir.path(), &key).unwrap();
        assert_eq!(files, key_pair_files(dir.path(), "jane.doe-audit"));
        let private = std::fs::read_to_string(&files.key).unwrap();
        assert_eq!(
            SignerKey::parse(private.trim()).unwrap().verifier(),
            key.verifier()
        );
        let public = std::fs::read_to_string(&files.public).unwrap();
        assert_eq!(public, format!("{}\n", key.verifier()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&files.key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = SignerKey::generate("jane.doe-audit").unwrap();
        match write_key_pair(dir.path(), &again) {
            Err(KeyPairError::Exists(p)) => assert_eq!(p, files.key),
            other => panic!("{other:?}"),
        }
        assert_eq!(std::fs::read_to_string(&files.key).unwrap(), private);
        // Only the .pub left: still refused, the .key is not written.
        std::fs::remove_file(&files.key).unwrap();
        assert!(matches!(
            write_key_pair(dir.path(), &again),
            Err(KeyPairError::Exists(p)) if p == files.public
        ));
        assert!(!files.key.exists());
    }
}
