//! Integrity incidents (issue 16): a tampered, a forked and an untrusted archive each leave an incident with its
//! reason, kept or not, counted again when met again, listed on the Overview until reviewed with a note.

use std::path::Path;

use crate::common::*;
use auditlens::note::VerifierKey;
use auditlens::store::Store;
use auditlens::store::import::{ImportOptions, ImportOutcome};
use auditlens::store::stats::{DashboardOptions, Scope};

fn import(db: &Path, archive: &Path, trusted: &[VerifierKey], keep_failed: bool) -> ImportOutcome {
    Store::open(db)
        .unwrap()
        .import_archive(
            archive,
            &ImportOptions {
                trust: &auditlens::trust::TrustPolicy::from_keys(trusted),
                keep_failed,
            },
            &mut |_| true,
        )
        .unwrap()
        .outcome
}

#[test]
fn failed_refused_and_untrusted_imports_are_kept_as_incidents_until_reviewed_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = dir.join("store.db");
    let ops = key("ops");
    let stranger = key("stranger");
    let lines = |actor: &str| -> Vec<String> {
        (0..3)
            .map(|i| format!(r#"{{"actor":"{actor}","time":"2024-05-01T10:00:0{i}Z"}}"#))
            .collect()
    };
    let good_log = write_lines(dir, "good.jsonl", &lines("ann"));
    let good = seal_to(dir, "good.zip", &ops, "example.com/app", None, &[good_log]);
    // One byte of an event changed after sealing.
    let tampered = rewrite(&good, &dir.join("tampered.zip"), |e| {
        let mut l = event_lines(entry(e, &first_events_entry()));
        l[1] = String::from_utf8(l[1].clone())
            .unwrap()
            .replace("ann", "bob")
            .into_bytes();
        *entry(e, &first_events_entry()) = join_lines(&l);
    });
    assert_eq!(
        import(&db, &tampered, &[ops.verifier()], false),
        ImportOutcome::Failed
    );
    assert_eq!(
        import(&db, &tampered, &[ops.verifier()], false),
        ImportOutcome::Failed
    );
    assert_eq!(
        import(&db, &good, &[ops.verifier()], false),
        ImportOutcome::Imported
    );
    // Another archive claiming the same origin and sequence: a fork, refused.
    let fork_log = write_lines(dir, "fork.jsonl", &lines("eve"));
    let fork = seal_to(dir, "fork.zip", &ops, "example.com/app", None, &[fork_log]);
    assert_eq!(
        import(&db, &fork, &[ops.verifier()], false),
        ImportOutcome::Refused
    );
    // A key not trusted for its origin, kept for later.
    let other_log = write_lines(dir, "other.jsonl", &lines("cy"));
    let other = seal_to(
        dir,
        "other.zip",
        &stranger,
        "example.com/other",
        None,
        &[other_log],
    );
    assert_eq!(
        import(&db, &other, &[ops.verifier()], true),
        ImportOutcome::Untrusted
    );

    let mut store = Store::open(&db).unwrap();
    let open = store.incidents(false).unwrap();
    let kinds: Vec<(&str, u64)> = open.iter().map(|i| (i.kind.as_str(), i.times)).collect();
    assert_eq!(kinds, vec![("untrusted", 1), ("refused", 1), ("failed", 2)]);
    let failed = &open[2];
    assert!(failed.path.ends_with("tampered.zip"), "{}", failed.path);
    assert_eq!(failed.origin.as_deref(), Some("example.com/app"));
    assert_eq!(failed.sequence, Some(1));
    assert!(failed.reason.contains("event 1"), "{}", failed.reason);
    assert!(failed.first_seen <= failed.last_seen);
    assert_eq!(failed.archive_id, None, "not kept");
    assert!(
        open[1].reason.contains("fork") || open[1].reason.contains("sequence"),
        "{}",
        open[1].reason
    );
    assert!(open[0].archive_id.is_some(), "the untrusted copy was kept");
    assert!(open[0].reason.contains("not trusted"), "{}", open[0].reason);
    // The Overview lists them, newest first; the stored archives are what `all_verified` is about.
    let o = store
        .overview(&Scope::default(), &DashboardOptions::default(), 0)
        .unwrap();
    assert_eq!(o.verification.incidents, open);

    // A review needs a note, happens once, and takes the incident off the open list (never out of the store).
    for blank in ["", "  \n "] {
        let e = store
            .review_incident(failed.id, blank)
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs a note"), "{e}");
    }
    let too_long = "x".repeat(auditlens::store::incidents::MAX_NOTE_CHARS + 1);
    assert!(store.review_incident(failed.id, &too_long).is_err());
    let reviewed = store
        .review_incident(
            failed.id,
            "Re-sent by ops on 2024-05-03 (good.zip); the tampered copy came from the share drive.",
        )
        .unwrap();
    assert!(reviewed.reviewed_at.is_some());
    assert!(
        reviewed
            .review_note
            .as_deref()
            .unwrap()
            .starts_with("Re-sent by ops")
    );
    let e = store
        .review_incident(failed.id, "again")
        .unwrap_err()
        .to_string();
    assert!(e.contains("already reviewed"), "{e}");
    assert!(
        store
            .review_incident(9999, "x")
            .unwrap_err()
            .to_string()
            .contains("no incident #9999")
    );
    assert_eq!(store.incidents(false).unwrap().len(), 2);
    assert_eq!(store.incidents(true).unwrap().len(), 3);
    // Met again after its review: a new incident, not the reviewed one counted again.
    drop(store);
    assert_eq!(
        import(&db, &tampered, &[ops.verifier()], false),
        ImportOutcome::Failed
    );
    let store = Store::open(&db).unwrap();
    let again = store.incidents(false).unwrap();
    assert_eq!(again.len(), 3);
    assert_eq!((again[0].kind.as_str(), again[0].times), ("failed", 1));
    // Incidents are not evidence: `check` is satisfied with them.
    let check = store.check(&[ops.verifier()], &mut |_| true).unwrap();
    assert!(check.ok, "{:?}", check.problems);
}
