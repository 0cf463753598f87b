//! Verifying one digest chain (one trail in one region): locations, links between digests, gaps, signatures,
//! and every log file the digests list (streamed through gunzip and SHA-256).

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use sha2::{Digest as _, Sha256};

use super::digest::{self, split_key};
use super::gzip::{Gunzip, gunzip_all};
use super::keys::{hex_decode, hex_lower};
use super::walk::{Entry, fail, rfc3339};
use super::{AwsKeys, ChainReport, ExternalSignatures, Failure, FailureKind};

/// Where a signature came from.
enum SigSource {
    /// `previousDigestSignature` of this successor (index).
    Successor(usize),
    External,
}

#[allow(clippy::too_many_arguments)] // the chain, what it is checked with, and what it reports to
pub(super) fn verify_chain(
    root: &Path,
    base: &str,
    entries: &[Entry],
    keys: &AwsKeys,
    signatures: &ExternalSignatures,
    report: &mut ChainReport,
    listed: &mut HashMap<(String, String), ()>,
    log_checked: &mut dyn FnMut(),
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
            // A genuine AWS signature, by a key the auditor may trust only for some accounts and regions.
            if let Err(why) =
                keys.trusted_for(&key.fingerprint, &report.account, &report.region, dg.end)
            {
                report.failures.push(fail(
                    FailureKind::KeyNotTrustedForTrail,
                    rel,
                    None,
                    Some(format!(
                        "{} for {}/{} at {}",
                        key.fingerprint,
                        report.account,
                        report.region,
                        rfc3339(dg.end)
                    )),
                    format!("digest file {rel}: the signature verifies, but {why}"),
                ));
                continue;
            }
            authenticated[i] = true;
            report.digests_verified += 1;
            report.evidence.digests.push(super::VerifiedDigest {
                rel: rel.clone(),
                start: dg.start,
                end: dg.end,
                sha256_hex: sha_hex.clone(),
                signature_hex: sig_hex.trim().to_ascii_lowercase(),
                fingerprint: key.fingerprint.clone(),
            });
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
            log_checked();
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
                report.evidence.logs.push(super::VerifiedLog {
                    rel: rel.clone(),
                    sha256_hex: lf.hash_hex.clone(),
                    digest_rel: entries[i].rel.clone(),
                });
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
