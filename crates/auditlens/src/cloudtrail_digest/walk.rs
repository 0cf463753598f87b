//! Finding the files of an export and verifying the chains.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use sha2::{Digest as _, Sha256};

use super::digest::{
    self, Digest, DigestName, ParseError, parse_digest_name, parse_log_name, split_key,
};
use super::gzip::{Gunzip, gunzip_all};
use super::keys::{hex_decode, hex_lower};
use super::{
    AwsKeys, ChainReport, CloudTrailError, ExportReport, ExternalSignatures, Failure, FailureKind,
};

/// Largest digest file read (compressed and inflated).
const MAX_DIGEST_BYTES: u64 = 64 * 1024 * 1024;
/// How deep a bucket prefix may be to find `AWSLogs/`.
const MAX_PREFIX_DEPTH: usize = 4;
/// How deep the tree below `AWSLogs/` is walked (org/account/kind/region/YYYY/MM/DD/file is 8).
const MAX_AWSLOGS_DEPTH: usize = 10;

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn fail(
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
struct Entry {
    /// Relative to the root.
    rel: String,
    /// From `AWSLogs/` on.
    rest: String,
    name: Option<DigestName>,
    parsed: Option<Digest>,
    /// SHA-256 of the inflated bytes.
    sha: [u8; 32],
    head_signature: Option<String>,
}

/// (base, owner, region) -> log files (path from AWSLogs/, path from the root, delivery minute).
type LogsByFolder = BTreeMap<(String, String, String), Vec<(String, String, DateTime<Utc>)>>;
/// (base, owner, region) -> (chain index, digest start, digest end).
type Windows = BTreeMap<(String, String, String), Vec<(usize, DateTime<Utc>, DateTime<Utc>)>>;

/// Chain key: base, owner path (`AWSLogs/<acct>/` or `AWSLogs/<org>/<acct>/`), region, trail, home region.
type ChainKey = (String, String, String, String, String, String);

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
    let mut listed: HashMap<(String, String), ()> = HashMap::new();
    for (key, entries) in chains {
        let (base, owner, region, trail, home, account) = key;
        let mut report = ChainReport {
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
        );
        let idx = report_chains.len();
        let w = chain_windows
            .entry((base.clone(), owner, region))
            .or_default();
        for e in &entries {
            if let Some(d) = &e.parsed {
                w.push((idx, d.start, d.end));
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

/// Where a signature came from.
enum SigSource {
    /// `previousDigestSignature` of this successor (index).
    Successor(usize),
    External,
}

fn verify_chain(
    root: &Path,
    base: &str,
    entries: &[Entry],
    keys: &AwsKeys,
    signatures: &ExternalSignatures,
    report: &mut ChainReport,
    listed: &mut HashMap<(String, String), ()>,
) {
    let base_path = if base.is_empty() {
        root.to_path_buf()
    } else {
        root.join(base)
    };
    let rel_of = |rest: &str| {
        if base.is_empty() {
            rest.to_string()
        } else {
            format!("{base}/{rest}")
        }
    };
    // Parsed digests, oldest first.
    let mut order: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].parsed.is_some())
        .collect();
    order.sort_by_key(|&i| {
        let d = entries[i].parsed.as_ref().map(|d| d.end);
        (d, entries[i].name.as_ref().map(|n| n.time), i)
    });
    let d = |i: usize| entries[i].parsed.as_ref();
    let by_rest: HashMap<&str, usize> = order
        .iter()
        .map(|&i| (entries[i].rest.as_str(), i))
        .collect();
    let mut by_claim: HashMap<String, usize> = HashMap::new();
    for &i in &order {
        let Some(dg) = d(i) else { continue };
        report.digests_empty += usize::from(dg.log_files.is_empty());
        for p in &dg.entry_problems {
            report.failures.push(fail(
                FailureKind::DigestMalformed,
                &entries[i].rel,
                None,
                None,
                format!("digest file {}: {p}", entries[i].rel),
            ));
        }
        match split_key(&dg.object) {
            Ok((prefix, rest)) => {
                let moved = rest != entries[i].rest || (!base.is_empty() && prefix != base);
                if moved {
                    report.failures.push(fail(
                        FailureKind::DigestMoved,
                        &entries[i].rel,
                        Some(dg.object.clone()),
                        Some(entries[i].rel.clone()),
                        format!(
                            "digest file {} has been moved from its original location {}",
                            entries[i].rel, dg.object
                        ),
                    ));
                }
                by_claim.entry(rest).or_insert(i);
            }
            Err(e) => report.failures.push(fail(
                FailureKind::DigestMalformed,
                &entries[i].rel,
                None,
                None,
                format!("digest file {}: digestS3Object: {e}", entries[i].rel),
            )),
        }
        if dg.signature_algorithm != "SHA256withRSA" {
            report.failures.push(fail(
                FailureKind::UnsupportedAlgorithm,
                &entries[i].rel,
                Some("SHA256withRSA".into()),
                Some(dg.signature_algorithm.clone()),
                format!(
                    "digest file {}: unsupported digestSignatureAlgorithm",
                    entries[i].rel
                ),
            ));
        }
    }
    if let (Some(&first), Some(&last)) = (order.first(), order.last())
        && let (Some(a), Some(b)) = (d(first), d(last))
    {
        report.first_digest_start = Some(rfc3339(a.start));
        report.last_digest_end = Some(rfc3339(b.end));
        report.hours_spanned = (b.end - a.start).num_hours();
    }

    // Links: successor -> predecessor.
    let mut successors: HashMap<usize, Vec<usize>> = HashMap::new();
    for (pos, &s) in order.iter().enumerate() {
        let Some(sd) = d(s) else { continue };
        let Some(prev) = &sd.previous else {
            if pos == 0 {
                report.starts_at_first_digest = true;
            } else {
                report.restarts.push(rfc3339(sd.start));
            }
            continue;
        };
        let srel = &entries[s].rel;
        let prest = match split_key(&prev.object) {
            Ok((_, rest)) => rest,
            Err(e) => {
                report.failures.push(fail(
                    FailureKind::DigestMalformed,
                    srel,
                    None,
                    None,
                    format!("digest file {srel}: previousDigestS3Object: {e}"),
                ));
                continue;
            }
        };
        let target = by_rest
            .get(prest.as_str())
            .copied()
            .filter(|&t| t != s)
            .or_else(|| by_claim.get(&prest).copied().filter(|&t| t != s));
        match target {
            Some(p) => {
                successors.entry(p).or_default().push(s);
                let Some(pd) = d(p) else { continue };
                let prel = &entries[p].rel;
                if prev.hash_algorithm != "SHA-256" {
                    report.failures.push(fail(
                        FailureKind::UnsupportedAlgorithm,
                        srel,
                        Some("SHA-256".into()),
                        Some(prev.hash_algorithm.clone()),
                        format!("digest file {srel}: unsupported previousDigestHashAlgorithm"),
                    ));
                }
                let actual = hex_lower(&entries[p].sha);
                if prev.hash_hex != actual {
                    report.failures.push(fail(
                        FailureKind::PreviousHashMismatch,
                        srel,
                        Some(prev.hash_hex.clone()),
                        Some(actual),
                        format!("digest file {srel}: previousDigestHashValue is not the SHA-256 of the previous digest {prel}"),
                    ));
                }
                if prev.bucket != pd.bucket {
                    report.failures.push(fail(
                        FailureKind::PreviousDigestMismatch,
                        srel,
                        Some(prev.bucket.clone()),
                        Some(pd.bucket.clone()),
                        format!("digest file {srel}: previousDigestS3Bucket is not the bucket of the previous digest {prel}"),
                    ));
                }
            }
            None if pos == 0 => {
                report.earlier_digest_not_in_export = Some(prev.object.clone());
            }
            None => {
                let missing_rel = rel_of(&prest);
                let p = order[pos - 1];
                let (gap_from, gap_to) = (d(p).map(|x| x.end), sd.start);
                let mut detail =
                    format!("missing digest {missing_rel}: named as previous digest by {srel}");
                let mut estimate = 1i64;
                if let Some(from) = gap_from {
                    let secs = (gap_to - from).num_seconds().max(0);
                    estimate = ((secs + 1800) / 3600).max(1);
                    detail.push_str(&format!(
                        "; the chain breaks between {} (end of {}) and {} (start of {srel}), about {estimate} hourly digest(s) missing",
                        rfc3339(from),
                        entries[p].rel,
                        rfc3339(gap_to)
                    ));
                }
                report.failures.push(fail(
                    FailureKind::MissingDigest,
                    &missing_rel,
                    None,
                    None,
                    detail,
                ));
                if estimate > 1 {
                    report.failures.push(fail(
                        FailureKind::DigestGap,
                        &missing_rel,
                        None,
                        None,
                        format!(
                            "about {} more digest(s) missing before {missing_rel}, back to {} (their keys are unknown: no digest present names them)",
                            estimate - 1,
                            entries[p].rel
                        ),
                    ));
                }
            }
        }
    }

    // Signatures.
    let mut authenticated = vec![false; entries.len()];
    let newest = order.last().copied();
    for &i in &order {
        let Some(dg) = d(i) else { continue };
        let rel = &entries[i].rel;
        let succ = successors.get(&i).cloned().unwrap_or_default();
        if succ.len() > 1 {
            let names: Vec<&str> = succ.iter().map(|&s| entries[s].rel.as_str()).collect();
            report.failures.push(fail(
                FailureKind::ChainFork,
                rel,
                None,
                None,
                format!(
                    "digest file {rel} is named as previous digest by {} digests: {}",
                    succ.len(),
                    names.join(", ")
                ),
            ));
        }
        let (sig_hex, source) = if let Some(&s) = succ.first() {
            match d(s).and_then(|x| x.previous.as_ref()) {
                Some(p) => (p.signature_hex.clone(), SigSource::Successor(s)),
                None => continue,
            }
        } else if let Some(x) = signatures
            .get(&dg.object)
            .or_else(|| signatures.get(&entries[i].rest))
        {
            (x.to_string(), SigSource::External)
        } else if let Some(x) = &entries[i].head_signature {
            (x.clone(), SigSource::External)
        } else {
            let why = if Some(i) == newest {
                format!(
                    "{rel} is the newest digest of its chain: its signature is S3 object metadata; supply {rel}.head.json (aws s3api head-object) or a signatures file"
                )
            } else {
                format!(
                    "no digest in the export names {rel} as its previous digest (its successor is missing or the chain restarted), so its signature is unknown; supply {rel}.head.json"
                )
            };
            report.failures.push(fail(
                FailureKind::SignatureUnavailable,
                rel,
                None,
                None,
                why,
            ));
            continue;
        };
        if dg.signature_algorithm != "SHA256withRSA" {
            continue;
        }
        let Some(sig) = hex_decode(sig_hex.trim()) else {
            report.failures.push(fail(
                FailureKind::SignatureUnavailable,
                rel,
                None,
                Some(sig_hex.clone()),
                format!("the external signature of {rel} is not hex"),
            ));
            continue;
        };
        let candidates: Vec<_> = keys.by_fingerprint(&dg.fingerprint).collect();
        if candidates.is_empty() {
            report.failures.push(fail(
                FailureKind::UnknownPublicKey,
                rel,
                Some(dg.fingerprint.clone()),
                None,
                format!(
                    "digest file {rel}: no public key with fingerprint {} was supplied",
                    dg.fingerprint
                ),
            ));
            continue;
        }
        let Some(key) = candidates.iter().find(|k| k.is_valid_at(dg.end)) else {
            let k = candidates[0];
            report.failures.push(fail(
                FailureKind::PublicKeyNotValidAtTime,
                rel,
                Some(format!(
                    "{} .. {}",
                    rfc3339(k.valid_from),
                    rfc3339(k.valid_until)
                )),
                Some(rfc3339(dg.end)),
                format!(
                    "digest file {rel}: public key {} is {} at digestEndTime {}",
                    k.fingerprint,
                    if dg.end < k.valid_from {
                        "not yet valid"
                    } else {
                        "expired"
                    },
                    rfc3339(dg.end)
                ),
            ));
            continue;
        };
        let sha_hex = hex_lower(&entries[i].sha);
        let prev_sig = dg.previous.as_ref().map(|p| p.signature_hex.as_str());
        let message =
            digest::string_to_sign(&dg.end_raw, &dg.bucket, &dg.object, &sha_hex, prev_sig);
        if key.verify(message.as_bytes(), &sig) {
            authenticated[i] = true;
            report.digests_verified += 1;
            continue;
        }
        match source {
            SigSource::Successor(s)
                if d(s).and_then(|x| x.previous.as_ref()).is_some_and(|p| p.hash_hex == sha_hex) =>
            {
                let srel = &entries[s].rel;
                report.failures.push(fail(
                    FailureKind::PreviousSignatureMismatch,
                    srel,
                    None,
                    Some(sig_hex.clone()),
                    format!("digest file {srel}: previousDigestSignature does not verify the previous digest {rel} (whose content matches previousDigestHashValue)"),
                ));
            }
            SigSource::Successor(s) => report.failures.push(fail(
                FailureKind::DigestSignatureInvalid,
                rel,
                None,
                None,
                format!("digest file {rel}: the signature (previousDigestSignature of {}) does not verify", entries[s].rel),
            )),
            SigSource::External => report.failures.push(fail(
                FailureKind::DigestSignatureInvalid,
                rel,
                None,
                None,
                format!("digest file {rel}: the signature (S3 metadata, head.json or signatures file) does not verify"),
            )),
        }
    }

    // Log files.
    for &i in &order {
        let Some(dg) = d(i) else { continue };
        for lf in &dg.log_files {
            report.log_files_listed += 1;
            let rest = match split_key(&lf.object) {
                Ok((_, rest)) => rest,
                Err(e) => {
                    report.failures.push(fail(
                        FailureKind::DigestMalformed,
                        &entries[i].rel,
                        None,
                        None,
                        format!("digest file {}: logFiles s3Object: {e}", entries[i].rel),
                    ));
                    continue;
                }
            };
            listed.insert((base.to_string(), rest.clone()), ());
            let rel = rel_of(&rest);
            if lf.hash_algorithm != "SHA-256" {
                report.failures.push(fail(
                    FailureKind::UnsupportedAlgorithm,
                    &rel,
                    Some("SHA-256".into()),
                    Some(lf.hash_algorithm.clone()),
                    format!("log file {rel}: hashAlgorithm in {}", entries[i].rel),
                ));
                continue;
            }
            if let Some(f) = check_log(&base_path.join(&rest), &rel, &lf.hash_hex, &entries[i].rel)
            {
                report.failures.push(f);
            } else if authenticated[i] {
                report.log_files_verified += 1;
            }
        }
    }
}

/// Checks one listed log file; `None` if its decompressed SHA-256 matches.
fn check_log(path: &Path, rel: &str, expected: &str, digest_rel: &str) -> Option<Failure> {
    let exp = Some(expected.to_string());
    let file = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_file() => File::open(path),
        Ok(_) => {
            return Some(fail(
                FailureKind::MissingLog,
                rel,
                exp,
                None,
                format!("log file {rel} listed in {digest_rel} is not a regular file"),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Some(fail(
                FailureKind::MissingLog,
                rel,
                exp,
                None,
                format!("log file {rel} listed in {digest_rel} is not in the export"),
            ));
        }
        Err(e) => Err(e),
    };
    let file = match file {
        Ok(f) => f,
        Err(e) => {
            return Some(fail(
                FailureKind::LogUnreadable,
                rel,
                exp,
                None,
                format!("log file {rel}: {e}"),
            ));
        }
    };
    let mut h = Sha256::new();
    match gunzip_all(file, |b| {
        h.update(b);
        true
    }) {
        Err(e) => Some(fail(
            FailureKind::LogUnreadable,
            rel,
            exp,
            None,
            format!("log file {rel}: {e}"),
        )),
        Ok(Gunzip::NotGzip(d)) => Some(fail(
            FailureKind::LogNotGzip,
            rel,
            exp,
            None,
            format!("log file {rel} is not gzip: {d}"),
        )),
        Ok(Gunzip::Corrupt(d)) => Some(fail(
            FailureKind::LogNotGzip,
            rel,
            exp,
            None,
            format!("log file {rel}: corrupt gzip: {d}"),
        )),
        Ok(Gunzip::TrailingBytes {
            members,
            offset,
            detail,
        }) => Some(fail(
            FailureKind::LogTrailingBytes,
            rel,
            exp,
            None,
            format!(
                "log file {rel}: trailing bytes after the gzip member(s): {detail} at byte {offset} after {members} member(s)"
            ),
        )),
        Ok(Gunzip::Stopped) => None,
        Ok(Gunzip::Complete { members }) => {
            let found = hex_lower(&h.finalize());
            (found != expected).then(|| {
                fail(
                    FailureKind::LogHashMismatch,
                    rel,
                    exp,
                    Some(found),
                    format!("log file {rel}: SHA-256 of the decompressed content ({members} gzip member(s)) differs from hashValue in {digest_rel}"),
                )
            })
        }
    }
}
