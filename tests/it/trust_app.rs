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

/// The events of an origin that `search` shows as verified (the flag every door shows).
fn shown_verified(store: &Store, origin: &str) -> (usize, usize) {
    let page = store
        .search(&format!("origin:{origin}"), 1000, None, 0)
        .unwrap();
    let verified = page.events.iter().filter(|r| r.verified).count();
    (verified, page.events.len())
}

fn overview_of(store: &Store) -> auditlens::store::stats::Overview {
    store
        .overview(
            &auditlens::store::stats::Scope::default(),
            &auditlens::store::stats::DashboardOptions::default(),
            0,
        )
        .unwrap()
}

#[test]
fn removing_a_key_demotes_the_archives_it_vouched_for() {
    let lab = Lab::new();
    let ops = key("ops");
    let partner = key("partner");
    let (prod, staging) = ("corp.example/prod/k8s", "corp.example/staging/k8s");
    let a1 = lab.seal("a1.zip", &ops, prod, None, 3);
    let a2 = lab.seal("a2.zip", &ops, prod, Some(&a1), 2);
    let s1 = lab.seal("s1.zip", &partner, staging, None, 4);
    let mut store = lab.store();
    let mut ring = lab.keyring();
    ring.add(&ops.verifier().to_string()).unwrap();
    ring.add(&partner.verifier().to_string()).unwrap();
    for a in [&a1, &a2, &s1] {
        assert_eq!(
            import(&mut store, a, &ring.policy(), true).outcome,
            ImportOutcome::Imported
        );
    }
    assert_eq!(verified_events(&store), 9);
    assert!(store.demote_untrusted(&ring.policy()).unwrap().is_empty());
    assert!(overview_of(&store).verification.all_verified);

    // ops is no longer trusted: both of its archives leave the verified counts; partner's stays.
    assert!(ring.remove(&ops.verifier().fingerprint()));
    let done = store.demote_untrusted(&ring.policy()).unwrap();
    assert_eq!(
        done.iter()
            .map(|d| (d.archive_id, d.origin.as_str(), d.sequence))
            .collect::<Vec<_>>(),
        vec![(1, prod, 1), (2, prod, 2)]
    );
    for d in &done {
        assert!(
            d.message.contains("is no longer counted as verified")
                && d.message.contains(&format!(
                    "signed by ops ({}), no longer trusted",
                    ops.verifier().fingerprint()
                )),
            "{}",
            d.message
        );
    }
    assert_eq!(
        statuses(&store),
        vec![
            (prod.into(), 1, "untrusted".into()),
            (prod.into(), 2, "untrusted".into()),
            (staging.into(), 1, "verified".into()),
        ]
    );
    assert_eq!(verified_events(&store), 4);
    assert_eq!(shown_verified(&store, prod), (0, 5));
    assert_eq!(shown_verified(&store, staging), (4, 4));
    let o = overview_of(&store);
    assert!(!o.verification.all_verified);
    assert_eq!(o.verification.verified, 1);
    assert_eq!(o.verification.untrusted.len(), 2);
    assert!(
        o.verification.untrusted[0]
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("no longer trusted")),
        "{:?}",
        o.verification.untrusted[0]
    );
    assert_eq!(
        o.total.count, 4,
        "the dashboards count verified events only"
    );
    // The store is consistent with the keys now trusted; a second pass changes nothing.
    let check = store.check(&ring.verifier_keys(), &mut |_| true).unwrap();
    assert!(check.ok, "{check:?}");
    assert!(store.demote_untrusted(&ring.policy()).unwrap().is_empty());

    // Trusting ops again promotes both, re-verified from their stored bytes.
    ring.add(&ops.verifier().to_string()).unwrap();
    let back = store.promote_trusted(&ring.policy()).unwrap();
    assert_eq!(back.len(), 2, "{back:?}");
    assert!(back.iter().all(|p| p.promoted), "{back:?}");
    assert_eq!(verified_events(&store), 9);
    assert!(overview_of(&store).verification.all_verified);
}

#[test]
fn narrowing_a_grant_demotes_only_what_it_no_longer_covers() {
    let lab = Lab::new();
    let partner = key("partner");
    let (prod, staging) = ("corp.example/prod/k8s", "corp.example/staging/k8s");
    let p1 = lab.seal("p1.zip", &partner, prod, None, 3);
    let s1 = lab.seal("s1.zip", &partner, staging, None, 2);
    let mut store = lab.store();
    let mut ring = lab.keyring();
    let (wide, _) = ring
        .grant(
            &partner.verifier().to_string(),
            "corp.example/*",
            None,
            None,
        )
        .unwrap();
    for a in [&p1, &s1] {
        assert_eq!(
            import(&mut store, a, &ring.policy(), true).outcome,
            ImportOutcome::Imported
        );
    }
    ring.grant(&partner.verifier().to_string(), prod, None, None)
        .unwrap();
    assert!(ring.remove_grant(&wide));
    let done = store.demote_untrusted(&ring.policy()).unwrap();
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!((done[0].origin.as_str(), done[0].sequence), (staging, 1));
    assert!(
        done[0].message.contains("no longer trusted"),
        "{}",
        done[0].message
    );
    assert_eq!(
        statuses(&store),
        vec![
            (prod.into(), 1, "verified".into()),
            (staging.into(), 1, "untrusted".into()),
        ]
    );

    // A window that ends before the archive was sealed does not cover it either.
    let mut ring = lab.keyring();
    let (only, _) = ring
        .grant(&partner.verifier().to_string(), prod, None, None)
        .unwrap();
    ring.grant(
        &partner.verifier().to_string(),
        prod,
        None,
        Some("2020-01-01"),
    )
    .unwrap();
    assert!(ring.remove_grant(&only));
    let done = store.demote_untrusted(&ring.policy()).unwrap();
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!((done[0].origin.as_str(), done[0].sequence), (prod, 1));
    assert_eq!(verified_events(&store), 0);
}

#[test]
fn a_bare_key_stays_pinned_behind_the_first_signer_that_stays_trusted() {
    // ops signed sequence 1 (bare key, pinned); partner's sequence 2 was admitted by a grant for the origin.
    // Without that grant, partner's bare key is not the origin's pin: sequence 2 is demoted, sequence 1 stays.
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
    let (grant, _) = ring
        .grant(&partner.verifier().to_string(), origin, None, None)
        .unwrap();
    for a in [&a1, &b2] {
        assert_eq!(
            import(&mut store, a, &ring.policy(), true).outcome,
            ImportOutcome::Imported
        );
    }
    assert!(ring.remove_grant(&grant));
    let done = store.demote_untrusted(&ring.policy()).unwrap();
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0].sequence, 2);
    assert!(
        done[0].message.contains("already signed by ops"),
        "{}",
        done[0].message
    );
    assert_eq!(verified_events(&store), 3);

    // With ops removed as well, nothing pins the origin before partner's archive: importing both again under
    // that keyring would trust partner's (the first trusted signer), and so does the decision here.
    let lab2 = Lab::new();
    let mut store2 = lab2.store();
    let mut ring2 = lab2.keyring();
    ring2.add(&ops.verifier().to_string()).unwrap();
    ring2.add(&partner.verifier().to_string()).unwrap();
    ring2
        .grant(&partner.verifier().to_string(), origin, None, None)
        .unwrap();
    for a in [&a1, &b2] {
        import(&mut store2, a, &ring2.policy(), true);
    }
    let (g2, _) = ring2
        .grant(&partner.verifier().to_string(), origin, None, None)
        .unwrap();
    assert!(ring2.remove_grant(&g2));
    assert!(ring2.remove(&ops.verifier().fingerprint()));
    ring2.add(&partner.verifier().to_string()).unwrap();
    let done = store2.demote_untrusted(&ring2.policy()).unwrap();
    assert_eq!(done.iter().map(|d| d.sequence).collect::<Vec<_>>(), vec![1]);
    assert_eq!(verified_events(&store2), 2);
}

#[test]
fn a_verified_archive_whose_signed_documents_no_longer_read_is_demoted() {
    let lab = Lab::new();
    let ops = key("ops");
    let a1 = lab.seal("a1.zip", &ops, "corp.example/prod/k8s", None, 3);
    let mut store = lab.store();
    let mut ring = lab.keyring();
    ring.add(&ops.verifier().to_string()).unwrap();
    import(&mut store, &a1, &ring.policy(), true);
    // The stored checkpoint edited behind the tool's back: its signature no longer verifies.
    store
        .connection()
        .execute(
            "UPDATE archives SET checkpoint = CAST(replace(CAST(checkpoint AS TEXT), 'corp.example', 'corp.exampl3') AS BLOB)",
            [],
        )
        .unwrap();
    let done = store.demote_untrusted(&ring.policy()).unwrap();
    assert_eq!(done.len(), 1, "{done:?}");
    assert!(
        done[0].message.contains("no longer re-read")
            && done[0].message.contains("auditlens check"),
        "{}",
        done[0].message
    );
    assert_eq!(statuses(&store)[0].2, "untrusted");
    assert_eq!(verified_events(&store), 0);
}

#[test]
fn archives_marked_verified_under_other_keys_are_named_not_trusted_now_and_nothing_changes() {
    let lab = Lab::new();
    let ops = key("ops");
    let partner = key("partner");
    let a1 = lab.seal("a1.zip", &ops, "corp.example/prod/k8s", None, 3);
    let s1 = lab.seal("s1.zip", &partner, "corp.example/staging/k8s", None, 2);
    let mut store = lab.store();
    let mut both = lab.keyring();
    both.add(&ops.verifier().to_string()).unwrap();
    both.add(&partner.verifier().to_string()).unwrap();
    for a in [&a1, &s1] {
        import(&mut store, a, &both.policy(), true);
    }
    // The signer columns say partner signed a1: the stored signed documents decide, not the columns.
    store
        .connection()
        .execute(
            "UPDATE archives SET signer_key = ?1, signer_name = 'partner' WHERE id = 1",
            [partner.verifier().to_string()],
        )
        .unwrap();
    let mut only_partner = Keyring::load(&lab.dir.join("other.json")).unwrap();
    only_partner.add(&partner.verifier().to_string()).unwrap();
    let now = store.untrusted_now(&only_partner.policy()).unwrap();
    assert_eq!(now.len(), 1, "{now:?}");
    assert_eq!((now[0].archive_id, now[0].sequence), (1, 1));
    assert!(
        now[0]
            .message
            .contains("is marked verified, but signed by ops")
            && now[0].message.contains(", not trusted: "),
        "{}",
        now[0].message
    );
    let mut o = overview_of(&store);
    assert!(o.verification.all_verified);
    store.note_trust(&mut o.verification, &now).unwrap();
    assert!(!o.verification.all_verified);
    assert_eq!(o.verification.not_trusted_now.len(), 1);
    assert_eq!(o.verification.not_trusted_now[0].status, "verified");
    assert_eq!(
        o.verification.not_trusted_now[0].origin.as_deref(),
        Some("corp.example/prod/k8s")
    );
    // Nothing was changed; with both keys nothing is named.
    assert_eq!(verified_events(&store), 5);
    let mut o = overview_of(&store);
    let none = store.untrusted_now(&both.policy()).unwrap();
    assert!(none.is_empty(), "{none:?}");
    store.note_trust(&mut o.verification, &none).unwrap();
    assert!(o.verification.all_verified);
    assert!(o.verification.not_trusted_now.is_empty());
    // An empty keyring trusts none of them.
    assert_eq!(store.untrusted_now(&TrustPolicy::new()).unwrap().len(), 2);
}
