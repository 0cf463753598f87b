//! Verified archives whose signer the auditor no longer trusts: marked untrusted, the way an import under the
//! new policy would have kept them (docs/trust-policy.md, "Removing a key").

use super::promote::{KeptRow, stored_signed};
use super::*;

/// What [`Store::demote_untrusted`] did with one verified archive that `policy` does not trust.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Demotion {
    pub archive_id: i64,
    pub origin: String,
    pub sequence: u64,
    /// What happened, in words: why the archive is no longer trusted.
    pub message: String,
}

impl Store {
    /// Decides every verified AuditLens archive again under `policy`, in origin and sequence order, as importing
    /// them again in that order would (a bare key is pinned to an origin by the first archive of it that stays
    /// verified) and marks those whose signer it no longer trusts `untrusted`, with the reason: their events
    /// leave every verified count, search shows them as not verified, and a later grant promotes them again
    /// ([`Store::promote_trusted`]). An archive whose stored checkpoint and manifest no longer re-read as signed
    /// (the store was edited; `check` names how) is marked untrusted too: nothing shows who signed it. One
    /// transaction for all. AWS CloudTrail exports are not decided here: their trust is AWS's keys, which `check`
    /// re-verifies.
    pub fn demote_untrusted(&mut self, policy: &TrustPolicy) -> Result<Vec<Demotion>, StoreError> {
        self.hand_over_checkpoints();
        let tx = crate::store::text_index::begin_store_write(&mut self.conn)?;
        let rows: Vec<(i64, KeptRow)> = tx
            .prepare(
                "SELECT id, origin, sequence, checkpoint, manifest FROM archives
                 WHERE status = 'verified' AND evidence IS NULL ORDER BY origin, sequence, id",
            )?
            .query_map([], |r| {
                Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            })?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for (archive_id, (origin, sequence, checkpoint, manifest)) in rows {
            let mut d = Demotion {
                archive_id,
                origin: origin.unwrap_or_default(),
                sequence: sequence.unwrap_or(0).max(0) as u64,
                message: String::new(),
            };
            let signed = match (checkpoint, manifest) {
                (Some(c), Some(m)) => stored_signed(&c, &m),
                _ => Err("its signed checkpoint or manifest is not stored".into()),
            };
            let why = match signed {
                Err(why) => format!(
                    "its stored signed documents no longer re-read ({why}); run `auditlens check`"
                ),
                Ok(s) => {
                    let established = signers_before(&tx, &s.origin, s.sequence)?;
                    let decision = policy.decide(&s.origin, &s.signer, s.created, &established);
                    if decision.trusted {
                        continue;
                    }
                    format!(
                        "signed by {} ({}), no longer trusted: {}",
                        s.signer.name(),
                        s.signer.fingerprint(),
                        decision.reason
                    )
                }
            };
            tx.execute(
                "UPDATE archives SET status = 'untrusted', failure = ?1 WHERE id = ?2",
                params![
                    serde_json::json!({ "message": why }).to_string(),
                    archive_id
                ],
            )?;
            d.message = format!("archive #{archive_id} is no longer counted as verified: {why}");
            out.push(d);
        }
        tx.commit()?;
        self.checkpoint_soon();
        Ok(out)
    }
}

/// The signers of `origin`'s verified archives before `sequence`: those a bare key must be one of (pinned on first
/// use). Read inside the transaction, so archives marked untrusted earlier in the same pass no longer pin.
fn signers_before(
    tx: &Transaction<'_>,
    origin: &str,
    sequence: u64,
) -> Result<Vec<VerifierKey>, rusqlite::Error> {
    let keys: Vec<String> = tx
        .prepare_cached(
            "SELECT DISTINCT signer_key FROM archives
             WHERE origin = ?1 AND sequence < ?2 AND status = 'verified' AND signer_key IS NOT NULL",
        )?
        .query_map(params![origin, sequence as i64], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(keys
        .iter()
        .filter_map(|k| VerifierKey::parse(k).ok())
        .collect())
}
