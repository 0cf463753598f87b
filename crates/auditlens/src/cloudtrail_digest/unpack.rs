//! A CloudTrail export handed over as one file: a ZIP, a tar or a gzip-compressed tar of the folder holding
//! `AWSLogs/`. It is unpacked into a private temporary folder and verified there like a folder. The file is
//! hostile input: an entry whose path leaves the folder (absolute, `..`), a link or a device is refused, and the
//! bytes written are bounded by the file's own size (a CloudTrail export is gzip files that do not compress
//! again), so an archive bomb stops with an error instead of filling the disk.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};

use super::CloudTrailError;

/// At most this many bytes are written per byte of the packed file, plus [`SLACK`].
const RATIO: u64 = 20;
const SLACK: u64 = 64 << 20;
/// At most this many entries.
const MAX_ENTRIES: u64 = 2_000_000;

/// What a file given as an export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packed {
    Zip,
    Tar,
    TarGz,
}

fn unpack_error(path: &Path, reason: impl std::fmt::Display) -> CloudTrailError {
    CloudTrailError::Unpack {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// What a path given as input is, when it is a CloudTrail export: a folder, or a packed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportInput {
    Folder,
    Packed(Packed),
}

/// Whether `path` is a CloudTrail export: a folder holding `AWSLogs/.../CloudTrail-Digest`
/// ([`super::looks_like_export`]) or a ZIP or tar of one ([`packed_export`]). `None` for anything else.
pub fn export_input(path: &Path) -> Option<ExportInput> {
    if path.is_dir() {
        super::looks_like_export(path).then_some(ExportInput::Folder)
    } else {
        packed_export(path).map(ExportInput::Packed)
    }
}

/// Whether `path` is a ZIP, tar or tar.gz whose entries hold `AWSLogs/.../CloudTrail-Digest/` (read from the
/// ZIP's directory or the tar's headers; a tar.gz is read through once, at most as far as [`unpack`] would
/// inflate it). `None` for anything else, including
/// AuditLens archives (ZIPs without such entries).
pub fn packed_export(path: &Path) -> Option<Packed> {
    let mut f = File::open(path).ok()?;
    let mut head = [0u8; 512];
    let n = read_up_to(&mut f, &mut head).ok()?;
    f.seek(SeekFrom::Start(0)).ok()?;
    let is_digest_path = |p: &str| {
        let parts: Vec<&str> = p.split(['/', '\\']).collect();
        parts.windows(2).any(|w| w[0] == "AWSLogs") && parts.contains(&"CloudTrail-Digest")
    };
    if n >= 4 && head[..4] == *b"PK\x03\x04" {
        let zip = zip::ZipArchive::new(f).ok()?;
        return zip
            .file_names()
            .any(|n| n.is_ok_and(|n| is_digest_path(&n)))
            .then_some(Packed::Zip);
    }
    let tar_has = |r: &mut dyn Read| -> bool {
        let mut a = tar::Archive::new(r);
        let Ok(entries) = a.entries() else {
            return false;
        };
        for e in entries.take(MAX_ENTRIES as usize) {
            let Ok(e) = e else { return false };
            if let Ok(p) = e.path()
                && is_digest_path(&p.to_string_lossy())
            {
                return true;
            }
        }
        false
    };
    if n >= 2 && head[..2] == [0x1f, 0x8b] {
        // Inflated within the unpacking's own budget: a small gzip of a tar of zeros is not read through (a
        // thousand bytes out per byte in). A tar read that far without the digest folder is taken as an export, so
        // that unpacking refuses it, naming the budget.
        let size = f.metadata().ok()?.len();
        let budget = size.saturating_mul(RATIO).saturating_add(SLACK);
        let mut gz = flate2::read::MultiGzDecoder::new(f).take(budget);
        let found = tar_has(&mut gz);
        return (found || gz.limit() == 0).then_some(Packed::TarGz);
    }
    if n == 512 && &head[257..262] == b"ustar" {
        return tar_has(&mut f).then_some(Packed::Tar);
    }
    None
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Unpacks the export `path` (of kind `kind`) into a new temporary folder, returned (removed when dropped).
pub fn unpack(path: &Path, kind: Packed) -> Result<tempfile::TempDir, CloudTrailError> {
    let size = std::fs::metadata(path)
        .map_err(|e| unpack_error(path, e))?
        .len();
    let mut budget = Budget {
        left: size.saturating_mul(RATIO).saturating_add(SLACK),
        entries: 0,
    };
    let dir = tempfile::Builder::new()
        .prefix("auditlens-cloudtrail-")
        .tempdir()
        .map_err(|e| unpack_error(path, format!("a temporary folder: {e}")))?;
    let file = File::open(path).map_err(|e| unpack_error(path, e))?;
    match kind {
        Packed::Zip => unzip(path, file, dir.path(), &mut budget)?,
        Packed::Tar => untar(path, file, dir.path(), &mut budget)?,
        Packed::TarGz => untar(
            path,
            flate2::read::MultiGzDecoder::new(file),
            dir.path(),
            &mut budget,
        )?,
    }
    Ok(dir)
}

struct Budget {
    left: u64,
    entries: u64,
}

/// `name` as a relative path of normal components only (no root, `..`, `.` or prefix), or why not.
fn safe_relative(name: &str) -> Result<PathBuf, String> {
    let p = Path::new(name);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return Err(format!("entry {name:?} leaves the export's folder")),
        }
    }
    if out.as_os_str().is_empty() {
        return Err(format!("entry {name:?} has no name"));
    }
    Ok(out)
}

/// Copies `from` into a new file `to`, within the budget.
fn copy_bounded(
    packed: &Path,
    name: &str,
    mut from: impl Read,
    to: &Path,
    budget: &mut Budget,
) -> Result<(), CloudTrailError> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(|e| unpack_error(packed, e))?;
    }
    let mut out = File::options()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(|e| unpack_error(packed, format!("entry {name:?}: {e}")))?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = from
            .read(&mut buf)
            .map_err(|e| unpack_error(packed, format!("entry {name:?}: {e}")))?;
        if n == 0 {
            return Ok(());
        }
        if n as u64 > budget.left {
            return Err(unpack_error(
                packed,
                format!(
                    "it unpacks to more than {RATIO} times its own size: refused as an archive bomb (a CloudTrail export is gzip files that do not compress again)"
                ),
            ));
        }
        budget.left -= n as u64;
        out.write_all(&buf[..n])
            .map_err(|e| unpack_error(packed, format!("entry {name:?}: {e}")))?;
    }
}

fn count_entry(packed: &Path, budget: &mut Budget) -> Result<(), CloudTrailError> {
    budget.entries += 1;
    if budget.entries > MAX_ENTRIES {
        return Err(unpack_error(
            packed,
            format!("more than {MAX_ENTRIES} entries"),
        ));
    }
    Ok(())
}

fn unzip(
    packed: &Path,
    file: File,
    dir: &Path,
    budget: &mut Budget,
) -> Result<(), CloudTrailError> {
    let mut zip = zip::ZipArchive::new(file).map_err(|e| unpack_error(packed, e))?;
    for i in 0..zip.len() {
        count_entry(packed, budget)?;
        let entry = zip.by_index(i).map_err(|e| unpack_error(packed, e))?;
        let name = entry
            .name()
            .map_err(|e| unpack_error(packed, e))?
            .into_owned();
        let rel = safe_relative(&name).map_err(|r| unpack_error(packed, r))?;
        if entry.is_symlink() {
            return Err(unpack_error(
                packed,
                format!("entry {name:?} is a symbolic link"),
            ));
        }
        if entry.is_dir() {
            std::fs::create_dir_all(dir.join(&rel)).map_err(|e| unpack_error(packed, e))?;
            continue;
        }
        copy_bounded(packed, &name, entry, &dir.join(rel), budget)?;
    }
    Ok(())
}

fn untar(
    packed: &Path,
    input: impl Read,
    dir: &Path,
    budget: &mut Budget,
) -> Result<(), CloudTrailError> {
    let mut archive = tar::Archive::new(input);
    let entries = archive.entries().map_err(|e| unpack_error(packed, e))?;
    for entry in entries {
        count_entry(packed, budget)?;
        let entry = entry.map_err(|e| unpack_error(packed, e))?;
        let name = entry
            .path()
            .map_err(|e| unpack_error(packed, e))?
            .to_string_lossy()
            .into_owned();
        let rel = safe_relative(&name).map_err(|r| unpack_error(packed, r))?;
        match entry.header().entry_type() {
            tar::EntryType::Directory => {
                std::fs::create_dir_all(dir.join(&rel)).map_err(|e| unpack_error(packed, e))?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                copy_bounded(packed, &name, entry, &dir.join(rel), budget)?;
            }
            // pax and GNU long-name headers are read by the tar crate itself; anything else (links,
            // devices, fifos) has no place in an export.
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => {}
            other => {
                return Err(unpack_error(
                    packed,
                    format!("entry {name:?} is a {other:?}, not a file or a folder"),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_relative_normal_paths_are_accepted() {
        assert_eq!(
            safe_relative("AWSLogs/1/CloudTrail/x.json.gz").unwrap(),
            PathBuf::from("AWSLogs/1/CloudTrail/x.json.gz")
        );
        assert_eq!(safe_relative("./a/b").unwrap(), PathBuf::from("a/b"));
        for bad in ["../a", "a/../../b", "/etc/passwd", "", "."] {
            assert!(safe_relative(bad).is_err(), "{bad}");
        }
    }
}
