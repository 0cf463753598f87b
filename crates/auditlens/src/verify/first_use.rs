//! First-use trust across a set of archives (docs/trust-policy.md): per origin, a signer trusted only as a bare
//! key loses that trust once another signer is established for the origin.

use crate::note::VerifierKey;
use crate::trust::{FirstUse, TrustPolicy};

use super::report::{ArchiveReport, ArchiveStatus};

/// Applies first-use pinning across a set of archives (docs/trust-policy.md): per origin, in sequence order, a
/// signer trusted only as a bare key stays trusted only while no other signer is established for the origin.
/// Archives that lose trust become [`ArchiveStatus::Untrusted`] with the reason in their signer info.
pub fn apply_first_use(reports: &mut [ArchiveReport], policy: &TrustPolicy) {
    let mut order: Vec<usize> = (0..reports.len())
        .filter(|&i| reports[i].status != ArchiveStatus::Failed && reports[i].origin.is_some())
        .collect();
    order.sort_by(|&a, &b| {
        (&reports[a].origin, reports[a].sequence).cmp(&(&reports[b].origin, reports[b].sequence))
    });
    let mut seen = FirstUse::new();
    for i in order {
        let r = &mut reports[i];
        let sealed = r.sealed();
        let (Some(origin), Some(info)) = (r.origin.clone(), r.signer.as_mut()) else {
            continue;
        };
        let Ok(key) = VerifierKey::parse(&info.key) else {
            continue;
        };
        let d = seen.decide(policy, &origin, &key, sealed);
        if info.trusted && !d.trusted {
            info.trusted = false;
            info.trust_basis = Some(d.basis);
            info.trust_reason = Some(d.reason);
            r.status = ArchiveStatus::Untrusted;
        }
    }
}
