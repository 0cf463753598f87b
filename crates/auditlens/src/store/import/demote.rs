//! Verified archives whose signer the auditor no longer trusts: named ([`Store::untrusted_now`]) and marked
//! untrusted ([`Store::demote_untrusted`]), the way an import under the new policy would have kept them
//! (docs/trust-policy.md, section 4).

use super::promote::{KeptRow, stored_signed};
use super::*;
use crate::store::stats::VerificationSummary;

/// A verified archive that a trust policy does not trust (now, or any more).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Demotion {
    pub archive_id: i64,
    pub origin: String,
    pub sequence: u64,
    /// Why it is not trusted: "signed by NAME (FINGERPRINT), not trusted: REASON" ("no longer trusted" once
    /// demoted), or why its stored signed documents do not re-read.
    pub reason: String,
    /// What happened, in words, with the archive named.
    pub message: String,
}

/// Why a verified archive is not trusted: its signer ("NAME (FINGERPRINT)") and the policy's reason, or why its
/// stored signed documents do not re-read (no signer then).
struct Why {
    signer: Option<String>,
    reason: String,
}

impl Why {
    /// `not` is "not" or "no longer".
    fn text(&self, not: &str) -> String {
        match &self.signer {
            Some(signer) => format!("signed by {signer}, {not} trusted: {}", self.reason),
            None => self.reason.clone(),
        }
    }
}

/// Every verified AuditLens archive `policy` does not trust, with the reason, in origin and sequence order. A bare
/// key is pinned to an origin by the first archive of it that stays trusted, as importing the archives again in
/// sequence order would do. An archive whose stored checkpoint and manifest no longer re-read as signed (an edited
/// store) is not trusted either: nothing shows who signed it.
fn not_trusted(
    conn: &rusqlite::Connection,
    policy: &TrustPolicy,
) -> Result<Vec<(Demotion, Why)>, rusqlite::Error> {
    let rows: Vec<(i64, KeptRow)> = conn
        .prepare(
            "SELECT id, origin, sequence, checkpoint, manifest FROM archives
             WHERE status = 'verified' AND evidence IS NULL ORDER BY origin, sequence, id",
        )?
        .query_map([], |r| {
            Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        })?
        .collect::<Result<_, _>>()?;
    // The signers of each origin's archives decided trusted so far (earlier sequences).
    let mut pinned: HashMap<String, Vec<VerifierKey>> = HashMap::new();
    let mut out = Vec::new();
    for (archive_id, (origin, sequence, checkpoint, manifest)) in rows {
        let signed = match (checkpoint, manifest) {
            (Some(c), Some(m)) => stored_signed(&c, &m),
            _ => Err("its signed checkpoint or manifest is not stored".into()),
        };
        let why = match signed {
            Err(why) => Why {
                signer: None,
                reason: format!(
                    "its stored signed documents no longer re-read ({why}); run `auditlens check`"
                ),
            },
            Ok(s) => {
                let established = pinned.entry(s.origin.clone()).or_default();
                let decision = super::promote::decide_stored(
                    conn,
                    archive_id,
                    &s.origin,
                    &s.signer,
                    s.created,
                    policy,
                    established,
                )?;
                if decision.trusted {
                    if !established.contains(&s.signer) {
                        established.push(s.signer);
                    }
                    continue;
                }
                Why {
                    signer: Some(format!("{} ({})", s.signer.name(), s.signer.fingerprint())),
                    reason: decision.reason,
                }
            }
        };
        out.push((
            Demotion {
                archive_id,
                origin: origin.unwrap_or_default(),
                sequence: sequence.unwrap_or(0).max(0) as u64,
                reason: String::new(),
                message: String::new(),
            },
            why,
        ));
    }
    Ok(out)
}

impl Store {
    /// The verified AuditLens archives `policy` does not trust now, each with the reason (in `message`), nothing
    /// changed: what the app's Overview names when the database holds archives its keyring does not vouch for (a
    /// database imported with other keys, or handed over). Decided from each archive's stored signed checkpoint
    /// and manifest (the signature verified again), never from the store's signer columns.
    pub fn untrusted_now(&self, policy: &TrustPolicy) -> Result<Vec<Demotion>, StoreError> {
        Ok(not_trusted(&self.conn, policy)?
            .into_iter()
            .map(|(mut d, why)| {
                d.reason = why.text("not");
                d.message = format!(
                    "archive #{} is marked verified, but {}",
                    d.archive_id, d.reason
                );
                d
            })
            .collect())
    }

    /// Fills `summary.not_trusted_now` with `untrusted` ([`Store::untrusted_now`], under the caller's trust) as
    /// the Overview's notes, and clears `all_verified` when there is any.
    pub fn note_trust(
        &self,
        summary: &mut VerificationSummary,
        untrusted: &[Demotion],
    ) -> Result<(), StoreError> {
        if untrusted.is_empty() {
            return Ok(());
        }
        summary.not_trusted_now = self.trust_notes(untrusted)?;
        summary.all_verified = false;
        Ok(())
    }

    /// The archives of `untrusted` ([`Store::untrusted_now`]) as the dashboards name archives, with the reason.
    pub fn trust_notes(
        &self,
        untrusted: &[Demotion],
    ) -> Result<Vec<crate::store::stats::ArchiveNote>, StoreError> {
        if untrusted.is_empty() {
            return Ok(Vec::new());
        }
        let rows: HashMap<i64, crate::store::ArchiveRow> =
            self.archives()?.into_iter().map(|a| (a.id, a)).collect();
        Ok(untrusted
            .iter()
            .filter_map(|d| {
                let a = rows.get(&d.archive_id)?;
                Some(crate::store::stats::ArchiveNote {
                    archive_id: a.id,
                    origin: a.origin.clone(),
                    sequence: a.sequence,
                    path: a.path.clone(),
                    status: a.status.clone(),
                    reason: Some(d.reason.clone()),
                })
            })
            .collect())
    }

    /// Marks every verified AuditLens archive `policy` no longer trusts (see [`Store::untrusted_now`])
    /// `untrusted`, with the reason: their events leave every verified count, search shows them as not verified,
    /// and a later grant promotes them again ([`Store::promote_trusted`]). One transaction for all. AWS
    /// CloudTrail exports are not decided here: their trust is AWS's keys, which `check` re-verifies.
    pub fn demote_untrusted(&mut self, policy: &TrustPolicy) -> Result<Vec<Demotion>, StoreError> {
        self.hand_over_checkpoints();
        let tx = crate::store::text_index::begin_store_write(&mut self.conn)?;
        let found = not_trusted(&tx, policy)?;
        let mut out = Vec::new();
        for (mut d, why) in found {
            d.reason = why.text("no longer");
            tx.execute(
                "UPDATE archives SET status = 'untrusted', failure = ?1 WHERE id = ?2",
                params![
                    serde_json::json!({ "message": d.reason }).to_string(),
                    d.archive_id
                ],
            )?;
            d.message = format!(
                "archive #{} is no longer counted as verified: {}",
                d.archive_id, d.reason
            );
            out.push(d);
        }
        tx.commit()?;
        if !out.is_empty() {
            self.checkpoint_soon();
        }
        Ok(out)
    }
}
