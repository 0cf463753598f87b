//! Kept archives made verified: once their signer is trusted (re-import, or a grant in the app), after their
//! stored bytes are re-verified.

use super::*;

/// Re-verifies a stored archive from its stored bytes: every event's leaf from its raw bytes, the count, the
/// Merkle root and the chain end against the stored signed checkpoint. `Err` names the first difference. Once
/// they verify, the archive's block hashes are stored again from those leaves (`archives.leaf_blocks`, as an
/// import keeps them).
pub(in crate::store) fn reverify_stored(
    tx: &Transaction<'_>,
    archive_id: i64,
) -> Result<(), String> {
    use crate::checkpoint::Checkpoint;
    use crate::merkle::RootBuilder;
    use crate::note::Note;
    let sql = |e: rusqlite::Error| e.to_string();
    let note: Vec<u8> = tx
        .query_row(
            "SELECT checkpoint FROM archives WHERE id = ?1",
            [archive_id],
            |r| r.get(0),
        )
        .map_err(sql)?;
    let note = Note::parse(&note).map_err(|e| format!("stored checkpoint: {e}"))?;
    let cp = Checkpoint::parse(&note.text).map_err(|e| format!("stored checkpoint: {e}"))?;
    let chain = crate::archive::ChainLines::from_checkpoint(&cp).map_err(|e| e.to_string())?;
    let mut stmt = tx
        .prepare("SELECT idx, leaf, raw FROM events WHERE archive_id = ?1 ORDER BY idx")
        .map_err(sql)?;
    let mut rows = stmt.query([archive_id]).map_err(sql)?;
    let mut root = RootBuilder::new();
    let mut blocks = crate::merkle::BlockHashes::new(crate::merkle::BLOCK_LEAVES);
    let mut c = chain.chain_start;
    let mut n = 0u64;
    while let Some(r) = rows.next().map_err(sql)? {
        let idx: i64 = r.get(0).map_err(sql)?;
        let stored_leaf: Vec<u8> = r.get(1).map_err(sql)?;
        let raw: String = r.get(2).map_err(sql)?;
        if idx != n as i64 {
            return Err(format!("event index {n} is missing (found {idx})"));
        }
        let leaf = crate::merkle::leaf_hash(raw.as_bytes());
        if stored_leaf != leaf {
            return Err(format!(
                "event index {n}: stored bytes do not match their leaf"
            ));
        }
        root.push(leaf);
        blocks.push(leaf);
        c = crate::archive::chain_step(&c, &leaf);
        n += 1;
    }
    if n != cp.size {
        return Err(format!(
            "{n} events stored, the checkpoint signs {}",
            cp.size
        ));
    }
    if root.root() != cp.root {
        return Err("the stored events do not give the signed Merkle root".into());
    }
    if c != chain.chain_end {
        return Err("the stored events do not give the signed chain end".into());
    }
    drop(rows);
    tx.execute(
        "UPDATE archives SET leaf_blocks = ?1 WHERE id = ?2",
        rusqlite::params![blocks.finish(), archive_id],
    )
    .map_err(sql)?;
    Ok(())
}

/// What [`Store::promote_trusted`] did with one kept (untrusted) archive whose signer the policy now trusts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Promotion {
    pub archive_id: i64,
    pub origin: String,
    pub sequence: u64,
    /// Whether the kept copy is now verified (re-verified from its stored bytes, linked to its neighbours).
    pub promoted: bool,
    /// What happened, in words: the grant that applies, or why the copy stays kept.
    pub message: String,
}

/// The signed facts of a stored archive, read again from its stored checkpoint and manifest: origin, sequence,
/// chain values, the signer (whose signature on the checkpoint verified) and the signed sealing time.
pub(in crate::store) struct StoredSigned {
    pub(super) origin: String,
    pub(super) sequence: u64,
    pub(super) chain: crate::archive::ChainLines,
    pub(super) signer: VerifierKey,
    pub(super) created: Option<i64>,
    pub(super) note: Vec<u8>,
}

/// A kept archive's origin, sequence, stored checkpoint and stored manifest.
pub(in crate::store) type KeptRow = (
    Option<String>,
    Option<i64>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);
/// A stored archive's chain start and end.
pub(in crate::store) type ChainLink = (Vec<u8>, Vec<u8>);

pub(in crate::store) fn stored_signed(
    checkpoint: &[u8],
    manifest: &[u8],
) -> Result<StoredSigned, String> {
    use crate::checkpoint::Checkpoint;
    use crate::note::Note;
    use sha2::Digest as _;
    let note = Note::parse(checkpoint).map_err(|e| format!("stored checkpoint: {e}"))?;
    let cp = Checkpoint::parse(&note.text).map_err(|e| format!("stored checkpoint: {e}"))?;
    let chain = crate::archive::ChainLines::from_checkpoint(&cp).map_err(|e| e.to_string())?;
    let m: Manifest =
        serde_json::from_slice(manifest).map_err(|e| format!("stored manifest: {e}"))?;
    let signer =
        VerifierKey::parse(&m.signer).map_err(|e| format!("stored manifest signer: {e}"))?;
    note.verify(&signer)
        .map_err(|e| format!("stored checkpoint signature by {}: {e}", signer.name()))?;
    let hash: Hash = sha2::Sha256::digest(manifest).into();
    if hash != chain.manifest_sha256 {
        return Err("the stored manifest differs from the one the checkpoint signs".into());
    }
    Ok(StoredSigned {
        origin: cp.origin,
        sequence: chain.sequence,
        chain,
        signer,
        created: m.trust_time(),
        note: checkpoint.to_vec(),
    })
}

/// Decides a stored archive under `policy`: at its signed manifest's time and, where a grant of its key for its
/// origin ends (`valid-before`), again with the newest time of its stored events, as the app shows them (their
/// `ts`, which the app confirms row by row; not the archive row's `time_last`, which nothing shown rests on).
pub(in crate::store) fn decide_stored(
    conn: &rusqlite::Connection,
    archive_id: i64,
    origin: &str,
    signer: &VerifierKey,
    signed: Option<i64>,
    policy: &TrustPolicy,
    established: &[VerifierKey],
) -> Result<crate::trust::TrustDecision, rusqlite::Error> {
    let at = crate::trust::Sealed::signed(signed);
    let decision = policy.decide(origin, signer, at, established);
    if !(decision.trusted && decision.windowed) {
        return Ok(decision);
    }
    let newest: Option<i64> = conn.query_row(
        "SELECT max(ts) FROM events WHERE archive_id = ?1",
        [archive_id],
        |r| r.get(0),
    )?;
    Ok(policy.decide(origin, signer, at.with_newest_event(newest), established))
}

/// Decides one kept archive under `policy` and, when its signer is trusted and it fits the stored chain, marks it
/// verified (in `tx`, not committed). `None` when the signer is still not trusted (nothing to say).
pub(in crate::store) fn promote_one(
    tx: &Transaction<'_>,
    archive_id: i64,
    policy: &TrustPolicy,
) -> Result<Option<Promotion>, rusqlite::Error> {
    let (origin_col, sequence_col, checkpoint, manifest): KeptRow = tx.query_row(
        "SELECT origin, sequence, checkpoint, manifest FROM archives WHERE id = ?1",
        [archive_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let mut p = Promotion {
        archive_id,
        origin: origin_col.clone().unwrap_or_default(),
        sequence: sequence_col.unwrap_or(0).max(0) as u64,
        promoted: false,
        message: String::new(),
    };
    let signed = match (checkpoint, manifest) {
        (Some(c), Some(m)) => stored_signed(&c, &m),
        _ => Err("its signed checkpoint or manifest is not stored".into()),
    };
    let s = match signed {
        Ok(s) => s,
        Err(why) => {
            p.message = format!(
                "the kept archive #{archive_id} cannot be re-read as signed ({why}); it stays kept; run `auditlens check`"
            );
            return Ok(Some(p));
        }
    };
    if origin_col.as_deref() != Some(s.origin.as_str()) || sequence_col != Some(s.sequence as i64) {
        p.message = format!(
            "the kept archive #{archive_id}'s stored origin or sequence differs from its signed checkpoint; it stays kept; run `auditlens check`"
        );
        return Ok(Some(p));
    }
    let established = established_signers(tx, &s.origin, None)?;
    let decision = decide_stored(
        tx,
        archive_id,
        &s.origin,
        &s.signer,
        s.created,
        policy,
        &established,
    )?;
    if !decision.trusted {
        return Ok(None);
    }
    let (origin, sequence) = (s.origin.as_str(), s.sequence);
    let existing: Option<(i64, Vec<u8>)> = tx
        .query_row(
            "SELECT id, checkpoint FROM archives WHERE origin = ?1 AND sequence = ?2 AND status = 'verified'",
            params![origin, sequence],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let neighbour = |seq: u64| -> Result<Option<ChainLink>, rusqlite::Error> {
        tx.query_row(
            "SELECT chain_start, chain_end FROM archives WHERE origin = ?1 AND sequence = ?2 AND status = 'verified'",
            params![origin, seq],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
    };
    let refusal = if sequence > super::MAX_STORED_SEQUENCE {
        Some(super::sequence_too_large(sequence))
    } else if let Some((id, note)) = existing {
        Some(if note == s.note {
            format!("the same archive is already verified (archive #{id})")
        } else {
            format!(
                "fork: the store already holds a different verified archive for {origin} sequence {sequence} (archive #{id})"
            )
        })
    } else if sequence == 1 && s.chain.chain_start != [0u8; 32] {
        Some("sequence 1 must start from the zero chain value".into())
    } else if sequence > 1
        && let Some((_, prev_end)) = neighbour(sequence - 1)?
        && prev_end != s.chain.chain_start.to_vec()
    {
        Some(format!(
            "fork: sequence {sequence} does not continue the stored chain of sequence {}",
            sequence - 1
        ))
    } else if let Some((next_start, _)) = neighbour(sequence + 1)?
        && next_start != s.chain.chain_end.to_vec()
    {
        Some(format!(
            "fork: the stored sequence {} does not continue this archive's chain",
            sequence + 1
        ))
    } else {
        None
    };
    if let Some(why) = refusal {
        p.message = format!("trusted now, but the kept archive #{archive_id} stays kept: {why}");
        return Ok(Some(p));
    }
    if let Err(why) = reverify_stored(tx, archive_id) {
        p.message = format!(
            "trusted now, but the kept archive #{archive_id} does not re-verify from its stored bytes: {why}; \
             run `auditlens check`"
        );
        return Ok(Some(p));
    }
    tx.execute(
        "UPDATE archives SET status = 'verified', failure = NULL, signer_key = ?1, signer_name = ?2,
            signer_fingerprint = ?3 WHERE id = ?4",
        params![
            s.signer.to_string(),
            s.signer.name(),
            s.signer.fingerprint(),
            archive_id
        ],
    )?;
    p.promoted = true;
    p.message = format!(
        "the kept archive #{archive_id} was re-verified from its stored bytes and is now verified ({})",
        decision.reason
    );
    Ok(Some(p))
}

impl Store {
    /// Decides every kept untrusted archive again under `policy` (with its origin's established signers, as an
    /// import does) and promotes those now trusted: each re-verified from its stored bytes and checked against the
    /// stored chain (no verified archive at its origin and sequence, links to its verified neighbours), then
    /// marked verified, one transaction each, in origin and sequence order. Archives still not trusted are left
    /// as they are and not listed.
    pub fn promote_trusted(&mut self, policy: &TrustPolicy) -> Result<Vec<Promotion>, StoreError> {
        let ids: Vec<i64> = self
            .conn
            .prepare(
                "SELECT id FROM archives WHERE status = 'untrusted' ORDER BY origin, sequence, id",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for id in ids {
            self.hand_over_checkpoints();
            let tx = crate::store::text_index::begin_store_write(&mut self.conn)?;
            let Some(p) = promote_one(&tx, id, policy)? else {
                continue;
            };
            if p.promoted {
                tx.commit()?;
                self.checkpoint_soon();
            }
            out.push(p);
        }
        Ok(out)
    }
}
