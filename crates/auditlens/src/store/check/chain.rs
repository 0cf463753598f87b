//! Per origin, the chain the verified archives form (docs/archive-format.md, the hash chain across archives): a
//! sequence missing between two stored ones (an archive deleted, or never imported), two verified archives
//! holding one sequence (a fork; the unique index forbids it, unless the index itself was dropped), consecutive
//! sequences whose chain values do not link, a first sequence that does not start from the zero chain value; and,
//! as information, where the signer changes and where the stored chain starts when it does not start at 1.
//!
//! It reads the stored columns: the per-archive check has already compared each with the signed checkpoint and
//! reported any difference.

use std::collections::BTreeMap;

use super::{ArchiveMeta, CheckProblem};

/// One verified archive as the chain sees it.
struct Link<'a> {
    id: i64,
    sequence: u64,
    chain_start: Option<&'a [u8]>,
    chain_end: Option<&'a [u8]>,
    signer: Option<&'a str>,
}

/// Findings (gaps, forks, broken links) and notices (signer changes, a chain starting after sequence 1).
pub(super) fn findings(archives: &[ArchiveMeta]) -> (Vec<CheckProblem>, Vec<CheckProblem>) {
    let (mut problems, mut notices) = (Vec::new(), Vec::new());
    let mut by_origin: BTreeMap<&str, Vec<Link<'_>>> = BTreeMap::new();
    // CloudTrail evidence chains by AWS's digests, checked per archive (check/cloudtrail.rs).
    for a in archives
        .iter()
        .filter(|a| a.status == "verified" && a.evidence.is_none())
    {
        // Without an origin or sequence the per-archive check has reported the row already.
        if let (Some(origin), Some(sequence)) = (a.origin.as_deref(), a.sequence) {
            by_origin.entry(origin).or_default().push(Link {
                id: a.id,
                sequence,
                chain_start: a.chain_start.as_deref(),
                chain_end: a.chain_end.as_deref(),
                signer: a.signer_key.as_deref(),
            });
        }
    }
    for (origin, mut links) in by_origin {
        links.sort_by_key(|l| (l.sequence, l.id));
        let place = |sequence: u64, archive_id: Option<i64>, message: String| CheckProblem {
            archive_id,
            origin: Some(origin.to_string()),
            sequence: Some(sequence),
            event_index: None,
            message,
        };
        let first = &links[0];
        if first.sequence == 1 {
            if first.chain_start != Some(&[0u8; 32][..]) {
                problems.push(place(
                    1,
                    Some(first.id),
                    "sequence 1 does not start from the zero chain value".into(),
                ));
            }
        } else if first.sequence > 1 {
            // (Sequence 0 is never signed: the per-archive check has reported the row.)
            notices.push(place(
                first.sequence,
                Some(first.id),
                format!(
                    "the store's verified chain of this origin starts at sequence {}: {} not in the store",
                    first.sequence,
                    if first.sequence == 2 {
                        "sequence 1 is".to_string()
                    } else {
                        format!("sequences 1..{} are", first.sequence - 1)
                    }
                ),
            ));
        }
        for pair in links.windows(2) {
            let (prev, this) = (&pair[0], &pair[1]);
            if this.sequence == prev.sequence {
                problems.push(place(
                    this.sequence,
                    Some(this.id),
                    format!(
                        "fork: archives #{} and #{} are both marked verified for this sequence",
                        prev.id, this.id
                    ),
                ));
                continue;
            }
            if this.sequence > prev.sequence + 1 {
                let missing = if this.sequence == prev.sequence + 2 {
                    format!("sequence {} is missing", prev.sequence + 1)
                } else {
                    format!(
                        "sequences {}..{} are missing",
                        prev.sequence + 1,
                        this.sequence - 1
                    )
                };
                problems.push(place(
                    prev.sequence + 1,
                    None,
                    format!(
                        "{missing}: the verified chain of this origin jumps from sequence {} to {} \
                         (an archive deleted from the store, or never imported)",
                        prev.sequence, this.sequence
                    ),
                ));
            } else if this.chain_start != prev.chain_end {
                problems.push(place(
                    this.sequence,
                    Some(this.id),
                    format!(
                        "the chain is broken: sequence {} does not start where sequence {} ends",
                        this.sequence, prev.sequence
                    ),
                ));
            }
            if this.signer != prev.signer {
                notices.push(place(
                    this.sequence,
                    Some(this.id),
                    format!(
                        "signer changes from {} to {} (sequence {} was signed by the first, {} by the second)",
                        signer_text(prev.signer),
                        signer_text(this.signer),
                        prev.sequence,
                        this.sequence
                    ),
                ));
            }
        }
    }
    (problems, notices)
}

/// `name (fingerprint)` of a stored verifier key.
fn signer_text(key: Option<&str>) -> String {
    match key.map(crate::note::VerifierKey::parse) {
        Some(Ok(k)) => format!("{} ({})", super::shown(k.name()), k.fingerprint()),
        Some(Err(_)) => "an unreadable key".into(),
        None => "no key".into(),
    }
}
