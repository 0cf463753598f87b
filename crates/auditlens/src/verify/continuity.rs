//! Continuity across a set of archives (section 6): per origin, gaps, overlaps, forks and broken links between
//! consecutive sequences, and where the signer changes.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::archive;

use super::report::{ArchiveReport, ArchiveStatus, SignerInfo};

/// A problem between archives of one origin (section 6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContinuityProblem {
    pub kind: ContinuityKind,
    pub sequence: u64,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum ContinuityKind {
    Gap,
    Overlap,
    Fork,
    BrokenLink,
    BadStart,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OriginContinuity {
    pub origin: String,
    /// Sequence where the verified chain starts (1 means from the beginning of the log).
    pub starts_at: u64,
    pub ends_at: u64,
    pub ok: bool,
    pub problems: Vec<ContinuityProblem>,
    /// Where the signer key changes between consecutive archives (always reported, trusted or not).
    pub signer_changes: Vec<SignerChange>,
}

/// The signer of an origin's archives changes at `sequence` (from the archive before it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignerChange {
    pub sequence: u64,
    /// Name and fingerprint of the previous archive's signer.
    pub from: String,
    pub to: String,
}

/// "name (SHA256:...)" of a signer, for messages.
fn signer_label(s: Option<&SignerInfo>) -> String {
    s.map_or_else(|| "?".into(), |s| format!("{} ({})", s.name, s.fingerprint))
}

/// Continuity over the archives that verified (failed ones are already failures of their own).
pub fn continuity(reports: &[ArchiveReport]) -> Vec<OriginContinuity> {
    let mut by_origin: BTreeMap<&str, Vec<&ArchiveReport>> = BTreeMap::new();
    for r in reports.iter().filter(|r| r.status != ArchiveStatus::Failed) {
        if let Some(origin) = &r.origin {
            by_origin.entry(origin).or_default().push(r);
        }
    }
    by_origin
        .into_iter()
        .map(|(origin, mut list)| {
            list.sort_by_key(|r| r.sequence);
            let mut problems = Vec::new();
            let first = list.first().and_then(|r| r.sequence).unwrap_or(0);
            if let Some(r) = list.first()
                && first == 1
                && r.chain_start.as_deref() != Some(archive::encode_hash(&[0u8; 32]).as_str())
            {
                problems.push(ContinuityProblem {
                    kind: ContinuityKind::BadStart,
                    sequence: 1,
                    message: "sequence 1 must start from the zero chain value".into(),
                });
            }
            for pair in list.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let (sa, sb) = (a.sequence.unwrap_or(0), b.sequence.unwrap_or(0));
                if sa == sb {
                    let same = a.checkpoint_note == b.checkpoint_note;
                    problems.push(ContinuityProblem {
                        kind: if same { ContinuityKind::Overlap } else { ContinuityKind::Fork },
                        sequence: sa,
                        message: if same {
                            format!("sequence {sa} is given twice ({} and {})", a.path, b.path)
                        } else {
                            format!("fork: {} and {} both claim sequence {sa} with different content", a.path, b.path)
                        },
                    });
                } else if sb > sa + 1 {
                    problems.push(ContinuityProblem {
                        kind: ContinuityKind::Gap,
                        sequence: sa + 1,
                        message: if sb == sa + 2 {
                            format!("gap: sequence {} is missing between {} and {}", sa + 1, a.path, b.path)
                        } else {
                            format!("gap: sequences {} to {} are missing between {} and {}", sa + 1, sb - 1, a.path, b.path)
                        },
                    });
                } else if a.chain_end != b.chain_start {
                    problems.push(ContinuityProblem {
                        kind: ContinuityKind::BrokenLink,
                        sequence: sb,
                        message: format!(
                            "fork: sequence {sb} ({}) does not continue the chain of sequence {sa} ({}): chain-start {} \
                             but previous chain-end {}",
                            b.path,
                            a.path,
                            b.chain_start.as_deref().unwrap_or("?"),
                            a.chain_end.as_deref().unwrap_or("?")
                        ),
                    });
                }
            }
            let signer_changes = list
                .windows(2)
                .filter(|p| {
                    p[0].signer.as_ref().map(|s| &s.key) != p[1].signer.as_ref().map(|s| &s.key)
                })
                .map(|p| SignerChange {
                    sequence: p[1].sequence.unwrap_or(0),
                    from: signer_label(p[0].signer.as_ref()),
                    to: signer_label(p[1].signer.as_ref()),
                })
                .collect();
            OriginContinuity {
                origin: origin.to_string(),
                starts_at: first,
                ends_at: list.last().and_then(|r| r.sequence).unwrap_or(0),
                ok: problems.is_empty(),
                problems,
                signer_changes,
            }
        })
        .collect()
}
