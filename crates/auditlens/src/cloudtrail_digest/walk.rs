//! Finding the files of an export, reading its digests and grouping them into chains; each chain is verified
//! by `chain.rs`, then the log files no digest lists are found here.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use sha2::{Digest as _, Sha256};

use super::chain::verify_chain;
use super::digest::{Digest, DigestName, ParseError, parse_digest_name, parse_log_name};
use super::gzip::{Gunzip, gunzip_all};
use super::{
    AwsKeys, ChainReport, CloudTrailError, ExportReport, ExternalSignatures, Failure, FailureKind,
};

/// Largest digest file read (compressed and inflated).
pub(crate) const MAX_DIGEST_BYTES: u64 = 64 * 1024 * 1024;
/// How deep a bucket prefix may be to find `AWSLogs/`.
const MAX_PREFIX_DEPTH: usize = 4;
/// How deep the tree below `AWSLogs/` is walked (org/account/kind/region/YYYY/MM/DD/file is 8).
const MAX_AWSLOGS_DEPTH: usize = 10;

pub(super) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub(super) fn fail(
    kind: FailureKind,
    file: &str,
    expected: Option<String>,
    found: Option<String>,
    detail: String,
) -> Failure {
    Failure {
        kind,
        file: file.to_string(),
        expected,
        found,
        detail,
    }
}

/// The `AWSLogs` folders under `root` (the root's own, or below a prefix of up to 4 folders). Symbolic links
/// are not followed.
pub(crate) fn find_awslogs(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut kids: Vec<_> = rd.flatten().collect();
        kids.sort_by_key(|e| e.file_name());
        for e in kids {
            let Ok(ft) = e.file_type() else { continue };
            if !ft.is_dir() {
                continue;
            }
            if e.file_name() == "AWSLogs" {
                found.push(e.path());
            } else if depth < MAX_PREFIX_DEPTH {
                stack.push((e.path(), depth + 1));
            }
        }
    }
    found.sort();
    found
}

/// Regular files below `dir` (no symlinks), depth-limited, as paths.
fn files_below(dir: &Path, max_depth: usize) -> Result<Vec<PathBuf>, CloudTrailError> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        let rd = std::fs::read_dir(&d).map_err(|source| CloudTrailError::Io {
            path: d.clone(),
            source,
        })?;
        for e in rd {
            let e = e.map_err(|source| CloudTrailError::Io {
                path: d.clone(),
                source,
            })?;
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() && depth < max_depth {
                stack.push((e.path(), depth + 1));
            } else if ft.is_file() {
                out.push(e.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

fn rel_string(root: &Path, p: &Path) -> String {
    let r = p.strip_prefix(root).unwrap_or(p);
    r.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// One digest file on disk.
pub(super) struct Entry {
    /// Relative to the root.
    pub(super) rel: String,
    /// From `AWSLogs/` on.
    pub(super) rest: String,
    pub(super) name: Option<DigestName>,
    pub(super) parsed: Option<Digest>,
    /// SHA-256 of the inflated bytes.
    pub(super) sha: [u8; 32],
    pub(super) head_signature: Option<String>,
}

/// (base, owner, region) -> log files (path from AWSLogs/, path from the root, delivery minute).
type LogsByFolder = BTreeMap<(String, String, String), Vec<(String, String, DateTime<Utc>)>>;
/// (base, owner, region) -> (chain index, digest start, digest end).
type Windows = BTreeMap<(String, String, String), Vec<(usize, DateTime<Utc>, DateTime<Utc>)>>;

/// Chain key: base, owner path (`AWSLogs/<acct>/` or `AWSLogs/<org>/<acct>/`), region, trail, home region, account,
/// and whether the chain is of backfill digests (AWS links backfill digests in a chain of their own).
type ChainKey = (String, String, String, String, String, String, bool);

/// Reads a digest file: inflate (all members, no trailing bytes, size-limited), hash, parse.
fn read_digest(path: &Path, rel: &str) -> Result<([u8; 32], Digest), Failure> {
    let file = File::open(path).map_err(|e| {
        fail(
            FailureKind::DigestNotGzip,
            rel,
            None,
            None,
            format!("digest file {rel} cannot be read: {e}"),
        )
    })?;
    let mut inflated = Vec::new();
    let r = gunzip_all(file.take(MAX_DIGEST_BYTES), |b| {
        if inflated.len() as u64 + b.len() as u64 > MAX_DIGEST_BYTES {
            return false;
        }
        inflated.extend_from_slice(b);
        true
    });
    let not_gzip = |d: String| {
        fail(
            FailureKind::DigestNotGzip,
            rel,
            None,
            None,
            format!("digest file {rel}: {d}"),
        )
    };
    match r {
        Err(e) => return Err(not_gzip(format!("cannot be read: {e}"))),
        Ok(Gunzip::Complete { .. }) => {}
        Ok(Gunzip::NotGzip(d)) => return Err(not_gzip(format!("not gzip: {d}"))),
        Ok(Gunzip::Corrupt(d)) => return Err(not_gzip(format!("corrupt gzip: {d}"))),
        Ok(Gunzip::TrailingBytes {
            members,
            offset,
            detail,
        }) => {
            return Err(not_gzip(format!(
                "trailing bytes after the gzip member(s): {detail} at byte {offset} after {members} member(s)"
            )));
        }
        Ok(Gunzip::Stopped) => {
            return Err(fail(
                FailureKind::DigestMalformed,
                rel,
                None,
                None,
                format!("digest file {rel} inflates to more than {MAX_DIGEST_BYTES} bytes"),
            ));
        }
    }
    let sha: [u8; 32] = Sha256::digest(&inflated).into();
    match Digest::parse(&inflated) {
        Ok(d) => Ok((sha, d)),
        Err(ParseError::NotJson(e)) => Err(fail(
            FailureKind::DigestNotJson,
            rel,
            None,
            None,
            format!("digest file {rel} is not JSON: {e}"),
        )),
        Err(ParseError::Malformed(e)) => Err(fail(
            FailureKind::DigestMalformed,
            rel,
            None,
            None,
            format!("digest file {rel}: {e}"),
        )),
    }
}

/// Verifies a CloudTrail export under `root` with the auditor's public keys and the signatures of the newest
/// digests (from `signatures` and from `<digest>.head.json` files next to the digests, found automatically).
/// Never panics on hostile input; log files are streamed through gunzip and SHA-256. `Err` only when the root
/// or a folder of it cannot be read.
pub fn verify_export(
    root: &Path,
    keys: &AwsKeys,
    signatures: &ExternalSignatures,
) -> Result<ExportReport, CloudTrailError> {
    verify_export_with_progress(root, keys, signatures, &mut |_, _| {})
}

/// [`verify_export`], telling `progress` how many of the log files the digests list have been checked, of how
/// many, after each one.
pub fn verify_export_with_progress(
    root: &Path,
    keys: &AwsKeys,
    signatures: &ExternalSignatures,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ExportReport, CloudTrailError> {
    if !root.is_dir() {
        return Err(CloudTrailError::NotAFolder(root.to_path_buf()));
    }
    let mut export_failures = Vec::new();
    let mut chains: BTreeMap<ChainKey, Vec<Entry>> = BTreeMap::new();
    // (base, owner, region) -> log files (rest, rel, delivery minute)
    let mut logs: LogsByFolder = BTreeMap::new();

    for awslogs in find_awslogs(root) {
        let base = awslogs
            .parent()
            .map(|p| rel_string(root, p))
            .unwrap_or_default();
        let files = files_below(&awslogs, MAX_AWSLOGS_DEPTH)?;
        let file_set: BTreeSet<&PathBuf> = files.iter().collect();
        for path in &files {
            let rel = rel_string(root, path);
            let rest = format!("AWSLogs/{}", rel_string(&awslogs, path));
            let parts: Vec<&str> = rest.split('/').collect();
            let Some(kind_at) = parts
                .iter()
                .position(|p| *p == "CloudTrail-Digest" || *p == "CloudTrail")
            else {
                continue;
            };
            if !(2..=3).contains(&kind_at) || parts.len() < kind_at + 3 {
                continue;
            }
            let owner = parts[..kind_at].join("/") + "/";
            let region = parts[kind_at + 1].to_string();
            let name = parts[parts.len() - 1];
            if parts[kind_at] == "CloudTrail" {
                if let Some((_acct, _reg, t)) = parse_log_name(name) {
                    logs.entry((base.clone(), owner, region))
                        .or_default()
                        .push((rest.clone(), rel, t));
                }
                continue;
            }
            // CloudTrail-Digest
            if name.ends_with(".json.gz.head.json") {
                let digest_path = path.with_file_name(name.trim_end_matches(".head.json"));
                if !file_set.contains(&digest_path) {
                    export_failures.push(fail(
                        FailureKind::UnrecognizedFile,
                        &rel,
                        None,
                        None,
                        format!("{rel}: head-object JSON without its digest file next to it"),
                    ));
                }
                continue;
            }
            if !name.ends_with(".json.gz") {
                export_failures.push(fail(
                    FailureKind::UnrecognizedFile,
                    &rel,
                    None,
                    None,
                    format!(
                        "{rel}: a file under CloudTrail-Digest/ that is not a digest (*.json.gz)"
                    ),
                ));
                continue;
            }
            let head_path = path.with_file_name(format!("{name}.head.json"));
            let mut head_signature = None;
            let mut head_failure = None;
            if file_set.contains(&head_path) {
                let head_rel = rel_string(root, &head_path);
                let read = std::fs::File::open(&head_path).and_then(|f| {
                    let mut v = Vec::new();
                    f.take(1 << 20).read_to_end(&mut v).map(|_| v)
                });
                match read.map_err(|e| e.to_string()).and_then(|b| {
                    ExternalSignatures::signature_from_head_object_json(&head_rel, &b)
                        .map_err(|e| e.to_string())
                }) {
                    Ok(s) => head_signature = Some(s),
                    Err(e) => {
                        head_failure = Some(fail(
                            FailureKind::SignatureUnavailable,
                            &head_rel,
                            None,
                            None,
                            e,
                        ))
                    }
                }
            }
            let (sha, parsed, failure) = match read_digest(path, &rel) {
                Ok((sha, d)) => (sha, Some(d), None),
                Err(f) => ([0; 32], None, Some(f)),
            };
            // Chain key from the file name, else from the name the digest claims for itself.
            let dname = parse_digest_name(name).or_else(|| {
                let claimed = parsed.as_ref()?.object.rsplit('/').next()?.to_string();
                parse_digest_name(&claimed)
            });
            let Some(dn) = dname.clone() else {
                let mut f = failure.unwrap_or_else(|| {
                    fail(
                        FailureKind::UnrecognizedFile,
                        &rel,
                        None,
                        None,
                        format!("{rel}: not a digest file name"),
                    )
                });
                if f.kind != FailureKind::UnrecognizedFile {
                    f.detail
                        .push_str(" (and its name is not a digest file name)");
                }
                export_failures.push(f);
                continue;
            };
            let key = (
                base.clone(),
                owner,
                dn.region.clone(),
                dn.trail.clone(),
                dn.home_region.clone(),
                dn.account.clone(),
                dn.backfill,
            );
            let list = chains.entry(key).or_default();
            list.push(Entry {
                rel: rel.clone(),
                rest,
                name: dname,
                parsed,
                sha,
                head_signature,
            });
            // Read failures go to the chain of the file below.
            if let Some(f) = failure {
                export_failures.push(f);
            }
            if let Some(f) = head_failure {
                export_failures.push(f);
            }
        }
    }

    let mut report_chains = Vec::new();
    let mut chain_windows: Windows = BTreeMap::new();
    let logs_total: u64 = chains
        .values()
        .flatten()
        .filter_map(|e| e.parsed.as_ref())
        .map(|d| d.log_files.len() as u64)
        .sum();
    let mut logs_done = 0u64;
    let mut log_checked = || {
        logs_done += 1;
        progress(logs_done, logs_total);
    };
    let mut listed: HashMap<(String, String), ()> = HashMap::new();
    for (key, entries) in chains {
        let (base, owner, region, trail, home, account, backfill) = key;
        let mut report = ChainReport {
            backfill,
            account,
            region: region.clone(),
            trail,
            home_region: home,
            base: base.clone(),
            first_digest_start: None,
            last_digest_end: None,
            hours_spanned: 0,
            digests_found: entries.len(),
            digests_verified: 0,
            digests_empty: 0,
            log_files_listed: 0,
            log_files_verified: 0,
            log_files_not_yet_covered: 0,
            log_files_before_first_digest: 0,
            starts_at_first_digest: false,
            earlier_digest_not_in_export: None,
            restarts: Vec::new(),
            failures: Vec::new(),
            evidence: Default::default(),
        };
        // Read failures of this chain's files (digest and head.json) move to the chain.
        let mine: BTreeSet<&str> = entries.iter().map(|e| e.rel.as_str()).collect();
        let mut i = 0;
        while i < export_failures.len() {
            if mine.contains(export_failures[i].file.as_str())
                || mine.contains(export_failures[i].file.trim_end_matches(".head.json"))
            {
                report.failures.push(export_failures.remove(i));
            } else {
                i += 1;
            }
        }
        verify_chain(
            root,
            &base,
            &entries,
            keys,
            signatures,
            &mut report,
            &mut listed,
            &mut log_checked,
        );
        let idx = report_chains.len();
        // The hours a trail's digests cover are those of its hourly chain; a backfill digest only adds log files.
        if !backfill {
            let w = chain_windows
                .entry((base.clone(), owner, region))
                .or_default();
            for e in &entries {
                if let Some(d) = &e.parsed {
                    w.push((idx, d.start, d.end));
                }
            }
        }
        report_chains.push(report);
    }

    // Log files no digest lists.
    for ((base, owner, region), files) in logs {
        let windows = chain_windows.get(&(base.clone(), owner.clone(), region.clone()));
        let unlisted: Vec<_> = files
            .iter()
            .filter(|(rest, _, _)| !listed.contains_key(&(base.clone(), rest.clone())))
            .collect();
        let Some(windows) = windows.filter(|w| !w.is_empty()) else {
            if !unlisted.is_empty() {
                let folder = if base.is_empty() {
                    format!("{owner}CloudTrail/{region}")
                } else {
                    format!("{base}/{owner}CloudTrail/{region}")
                };
                export_failures.push(fail(
                    FailureKind::NoDigestsForLogs,
                    &folder,
                    None,
                    None,
                    format!(
                        "{} log file(s) in {folder} and no digest for this account and region",
                        unlisted.len()
                    ),
                ));
            }
            continue;
        };
        let newest_end = windows
            .iter()
            .map(|w| w.2)
            .max()
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let oldest_start = windows
            .iter()
            .map(|w| w.1)
            .min()
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let first_chain = windows[0].0;
        for (_, rel, t) in unlisted {
            let minute_end = *t + Duration::minutes(1);
            let inside = windows.iter().find(|w| w.1 <= *t && *t < w.2).map(|w| w.0);
            let covered = covered_by_union(windows, *t, minute_end);
            if covered {
                let c = inside.unwrap_or(first_chain);
                report_chains[c].failures.push(fail(
                    FailureKind::LogNotListed,
                    rel,
                    None,
                    None,
                    format!("log file {rel} (delivered {}) is in an hour a digest covers but not listed in any digest", rfc3339(*t)),
                ));
            } else if minute_end > newest_end {
                report_chains[first_chain].log_files_not_yet_covered += 1;
            } else if *t < oldest_start {
                report_chains[first_chain].log_files_before_first_digest += 1;
            } else {
                report_chains[inside.unwrap_or(first_chain)].failures.push(fail(
                    FailureKind::LogNotListed,
                    rel,
                    None,
                    None,
                    format!("log file {rel} (delivered {}) falls in a gap of the digest chain: not listed in any digest", rfc3339(*t)),
                ));
            }
        }
    }

    let verified = export_failures.is_empty()
        && report_chains.iter().all(|c| c.failures.is_empty())
        && report_chains.iter().any(|c| c.digests_verified > 0);
    Ok(ExportReport {
        verified,
        accounts_pinned: false,
        chains: report_chains,
        failures: export_failures,
    })
}

/// Whether [from, to) lies inside the union of the windows (touching windows join).
fn covered_by_union(
    windows: &[(usize, DateTime<Utc>, DateTime<Utc>)],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> bool {
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> =
        windows.iter().map(|w| (w.1, w.2)).collect();
    spans.sort();
    let mut cur: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for (s, e) in spans {
        cur = match cur {
            Some((cs, ce)) if s <= ce => Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                if cs <= from && to <= ce {
                    return true;
                }
                Some((s, e))
            }
            None => Some((s, e)),
        };
    }
    matches!(cur, Some((cs, ce)) if cs <= from && to <= ce)
}
