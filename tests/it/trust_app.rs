//! Trust from the app's side (docs/trust-policy.md): the keyring's grants as a trust policy, kept untrusted
//! archives promoted once a grant trusts their signer (`Store::promote_trusted`, re-verified from their stored
//! bytes and checked against the stored chain), and signer changes listed per origin by `Store::archives`.

use std::path::{Path, PathBuf};

use crate::common::*;
use auditlens::keyring::Keyring;
use auditlens::note::SignerKey;
use auditlens::store::Store;
use auditlens::store::import::{ImportOptions, ImportOutcome, ImportResult};
use auditlens::trust::TrustPolicy;

struct Lab {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Lab {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        Lab { _tmp: tmp, dir }
    }
    fn seal(
        &self,
        out: &str,
        key: &SignerKey,
        origin: &str,
        prev: Option<&Path>,
        n: usize,
    ) -> PathBuf {
        let lines: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"time":"2026-03-01T10:{:02}:00Z","actor":"{out}-user","action":"get","n":{i}}}"#,
                    i % 60
                )
            })
            .collect();
        let input = write_lines(&self.dir, &format!("{out}.jsonl"), &lines);
        seal_to(&self.dir, out, key, origin, prev, &[input])
    }
    fn store(&self) -> Store {
        Store::open(&self.dir.join("store.db")).unwrap()
    }
    fn keyring(&self) -> Keyring {
        Keyring::load(&self.dir.join("keyring.json")).unwrap()
    }
}

fn import(store: &mut Store, path: &Path, policy: &TrustPolicy, keep_failed: bool) -> ImportResult {
    store
        .import_archive(
            path,
            &ImportOptions {
                trust: policy,
                keep_failed,
            },
            &mut |_| true,
        )
        .unwrap()
}

/// Events of verified archives (kept copies hold events too, never shown as verified).
fn verified_events(store: &Store) -> i64 {
    store
        .connection()
        .query_row(
            "SELECT count(*) FROM events JOIN archives ON archives.id = events.archive_id
             WHERE archives.status = 'verified'",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

fn statuses(store: &Store) -> Vec<(String, u64, String)> {
    store
        .archives()
        .unwrap()
        .into_iter()
        .map(|r| (r.origin.unwrap(), r.sequence.unwrap(), r.status))
        .collect()
}

#[test]
fn a_grant_for_its_origin_promotes_a_kept_untrusted_archive() {
    let lab = Lab::new();
    let partner = key("partner");
    let p1 = lab.seal("p1.zip", &partner, "corp.example/prod/k8s", None, 4);
    let other = lab.seal("o1.zip", &partner, "corp.example/staging/k8s", None, 3);
    let mut store = lab.store();
    let none = TrustPolicy::new();
    assert_eq!(
        import(&mut store, &p1, &none, true).outcome,
        ImportOutcome::Untrusted
    );
    assert_eq!(
        import(&mut store, &other, &none, true).outcome,
        ImportOutcome::Untrusted
    );
    assert_eq!(verified_events(&store), 0);

    // Granted for the prod origin only: the prod copy is promoted, the staging copy is untouched and not listed.
    let mut ring = lab.keyring();
    let (grant, added) = ring
        .grant(
            &partner.verifier().to_string(),
            "corp.example/prod/k8s",
            None,
            None,
        )
        .unwrap();
    assert!(added);
    assert_eq!(grant.origins, "corp.example/prod/k8s");
    ring.save().unwrap();
    let done = store.promote_trusted(&lab.keyring().policy()).unwrap();
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0].archive_id, 1);
    assert_eq!(done[0].origin, "corp.example/prod/k8s");
    assert_eq!(done[0].sequence, 1);
    assert!(done[0].promoted, "{}", done[0].message);
    assert!(
        done[0]
            .message
            .contains("re-verified from its stored bytes and is now verified")
            && done[0]
                .message
                .contains("granted for corp.example/prod/k8s at any time (keyring)"),
        "{}",
        done[0].message
    );
    assert_eq!(
        statuses(&store),
        vec![
            ("corp.example/prod/k8s".into(), 1, "verified".into()),
            ("corp.example/staging/k8s".into(), 1, "untrusted".into()),
        ]
    );
    assert_eq!(verified_events(&store), 4);
    // Running it again changes nothing: no kept copy is trusted any more.
    assert!(
        store
            .promote_trusted(&lab.keyring().policy())
            .unwrap()
            .is_empty()
    );

    // A prefix grant takes in the staging origin too.
    let mut ring = lab.keyring();
    ring.grant(
        &partner.verifier().to_string(),
        "corp.example/*",
        None,
        None,
    )
    .unwrap();
    let done = store.promote_trusted(&ring.policy()).unwrap();
    assert_eq!(done.len(), 1);
    assert!(done[0].promoted);
    assert_eq!(verified_events(&store), 7);
    // The store check agrees with the keys.
    let check = store.check(&ring.verifier_keys(), &mut |_| true).unwrap();
    assert!(check.ok, "{check:?}");
}

#[test]
fn a_grant_outside_the_sealing_window_promotes_nothing() {
    let lab = Lab::new();
    let partner = key("partner");
    let p1 = lab.seal("p1.zip", &partner, "corp.example/prod/k8s", None, 2);
    let mut store = lab.store();
    import(&mut store, &p1, &TrustPolicy::new(), true);
    let mut ring = lab.keyring();
    // Sealed now; a window that ended in 2020 does not cover it.
    ring.grant(
        &partner.verifier().to_string(),
        "corp.example/prod/k8s",
        None,
        Some("2020-01-01"),
    )
    .unwrap();
    assert!(store.promote_trusted(&ring.policy()).unwrap().is_empty());
    assert_eq!(statuses(&store)[0].2, "untrusted");
}

#[test]
fn a_kept_copy_with_edited_events_is_not_promoted() {
    let lab = Lab::new();
    let partner = key("partner");
    let p1 = lab.seal("p1.zip", &partner, "corp.example/prod/k8s", None, 3);
    let mut store = lab.store();
    import(&mut store, &p1, &TrustPolicy::new(), true);
    store
        .connection()
        .execute(
            "UPDATE events SET raw = replace(raw, 'p1.zip-user', 'px.zip-user') WHERE idx = 2",
            [],
        )
        .unwrap();
    let mut ring = lab.keyring();
    ring.grant(
        &partner.verifier().to_string(),
        "corp.example/prod/k8s",
        None,
        None,
    )
    .unwrap();
    let done = store.promote_trusted(&ring.policy()).unwrap();
    assert_eq!(done.len(), 1);
    assert!(!done[0].promoted);
    assert!(
        done[0]
            .message
            .contains("does not re-verify from its stored bytes")
            && done[0].message.contains("event index 2"),
        "{}",
        done[0].message
    );
    assert_eq!(statuses(&store)[0].2, "untrusted");
}

#[test]
fn a_kept_copy_with_a_forged_signer_is_not_promoted() {
    // The kept copy's stored manifest names another key than the one that signed its checkpoint: whatever
    // the signer columns say, the stored signed documents decide.
    let lab = Lab::new();
    let partner = key("partner");
    let mallory = key("mallory");
    let p1 = lab.seal("p1.zip", &partner, "corp.example/prod/k8s", None, 3);
    let mut store = lab.store();
    import(&mut store, &p1, &TrustPolicy::new(), true);
    let m = mallory.verifier().to_string();
    store
        .connection()
        .execute(
            "UPDATE archives SET signer_key = ?1, signer_name = 'mallory',
                manifest = CAST(replace(CAST(manifest AS TEXT), ?2, ?1) AS BLOB)",
            [&m, &partner.verifier().to_string()],
        )
        .unwrap();
    let mut ring = lab.keyring();
    ring.grant(&m, "corp.example/prod/k8s", None, None).unwrap();
    let done = store.promote_trusted(&ring.policy()).unwrap();
    assert_eq!(done.len(), 1, "{done:?}");
    assert!(!done[0].promoted);
    assert!(
        done[0].message.contains("cannot be re-read as signed"),
        "{}",
        done[0].message
    );
    assert_eq!(statuses(&store)[0].2, "untrusted");
}

#[test]
fn a_kept_copy_that_forks_a_verified_archive_stays_kept() {
    let lab = Lab::new();
    let ops = key("ops");
    let partner = key("partner");
    let origin = "corp.example/prod/k8s";
    let a1 = lab.seal("a1.zip", &ops, origin, None, 3);
    let b1 = lab.seal("b1.zip", &partner, origin, None, 2);
    let mut store = lab.store();
    let mut ring = lab.keyring();
    ring.add(&ops.verifier().to_string()).unwrap();
    assert_eq!(
        import(&mut store, &b1, &ring.policy(), true).outcome,
        ImportOutcome::Untrusted
    );
    assert_eq!(
        import(&mut store, &a1, &ring.policy(), true).outcome,
        ImportOutcome::Imported
    );
    ring.grant(&partner.verifier().to_string(), origin, None, None)
        .unwrap();
    let done = store.promote_trusted(&ring.policy()).unwrap();
    assert_eq!(done.len(), 1);
    assert!(!done[0].promoted);
    assert!(
        done[0]
            .message
            .contains("fork: the store already holds a different verified archive for corp.example/prod/k8s sequence 1 (archive #2)"),
        "{}",
        done[0].message
    );
    assert_eq!(verified_events(&store), 3);
}

#[test]
fn a_second_signer_needs_a_grant_and_its_change_is_listed() {
    let lab = Lab::new();
    let ops = key("ops");
    let partner = key("partner");
    let origin = "corp.example/prod/k8s";
    let a1 = lab.seal("a1.zip", &ops, origin, None, 3);
    let b2 = lab.seal("b2.zip", &partner, origin, Some(&a1), 2);
    let mut store = lab.store();
    let mut ring = lab.keyring();
    ring.add(&ops.verifier().to_string()).unwrap();
    ring.add(&partner.verifier().to_string()).unwrap();
    assert_eq!(
        import(&mut store, &a1, &ring.policy(), true).outcome,
        ImportOutcome::Imported
    );
    // Both bare keys: the origin is pinned to ops, partner's sequence 2 is not trusted (kept).
    let r = import(&mut store, &b2, &ring.policy(), true);
    assert_eq!(r.outcome, ImportOutcome::Untrusted);
    assert!(r.message.contains("already signed by ops"), "{}", r.message);
    assert!(store.promote_trusted(&ring.policy()).unwrap().is_empty());
    // A grant of partner for the origin admits the second signer; the change shows on the archives.
    ring.grant(&partner.verifier().to_string(), origin, None, None)
        .unwrap();
    let done = store.promote_trusted(&ring.policy()).unwrap();
    assert_eq!(done.len(), 1);
    assert!(done[0].promoted, "{}", done[0].message);
    let rows = store.archives().unwrap();
    assert_eq!(rows[0].signer_change_from, None);
    assert_eq!(
        rows[1].signer_change_from.as_deref(),
        Some(format!("ops ({})", ops.verifier().fingerprint()).as_str())
    );
    assert_eq!(rows[1].signer_name.as_deref(), Some("partner"));
}
