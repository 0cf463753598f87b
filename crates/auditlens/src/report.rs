//! Reports for machines: the verification report of a set of archives (serialized as JSON by `auditlens verify
//! --json`), and [`count`], the plural the library's own messages use. The human text of every report is the
//! command line's (src/render.rs in the `auditlens-cli` package).

use serde::Serialize;

use crate::safe_text::{LookalikeGroup, lookalike_groups};
use crate::verify::{ArchiveReport, ArchiveStatus, OriginContinuity, continuity};

/// The result of `auditlens verify` over a set of archives.
#[derive(Debug, Clone, Serialize)]
pub struct VerifySetReport {
    /// True only when every archive verified under a trusted key and every origin is continuous.
    pub ok: bool,
    pub archives: Vec<ArchiveReport>,
    pub continuity: Vec<OriginContinuity>,
    /// Different origins among the archives that look alike (docs/trust-policy.md, "Untrusted text on
    /// terminals and screens"). A warning, not a failure: each archive and chain verified as its exact origin
    /// says, and `ok` does not depend on it.
    pub lookalikes: Vec<LookalikeGroup>,
    /// With `--period`: per origin, whether the verified archives cover the audit period (docs/coverage.md).
    /// Never part of `ok`: coverage makes the question visible, it cannot prove that nothing was withheld.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<crate::coverage::Coverage>,
}

impl VerifySetReport {
    pub fn new(archives: Vec<ArchiveReport>) -> Self {
        let continuity = continuity(&archives);
        let ok = !archives.is_empty()
            && archives.iter().all(|a| a.status == ArchiveStatus::Verified)
            && continuity.iter().all(|c| c.ok);
        let lookalikes = lookalike_groups(archives.iter().filter_map(|a| a.origin.as_deref()));
        VerifySetReport {
            ok,
            archives,
            continuity,
            lookalikes,
            coverage: None,
        }
    }
}

/// `count(1, "event")` -> "1 event", `count(2, "event")` -> "2 events".
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_singular_for_one_only() {
        assert_eq!(count(0, "event"), "0 events");
        assert_eq!(count(1, "event"), "1 event");
        assert_eq!(count(2, "archive"), "2 archives");
    }
}
