//! The evidence store against real SQLite files and archives sealed by the real `seal` from real fixtures:
//! import of every kind, re-import, refusals (tampered, fork, untrusted), gaps, local tampering found by `check`,
//! schema migrations, and the search language with expected hits written by hand from the fixture events.
//!
//! One file: the store's contract as one story over the same fixture archives; the search-language cases share its
//! lab and its counted hits.

use std::path::{Path, PathBuf};

use crate::common::*;
use auditlens::note::{SignerKey, VerifierKey};
use auditlens::store::Store;
use auditlens::store::import::{ImportOptions, ImportOutcome, ImportResult};
use rusqlite::Connection;

struct Lab {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    key: SignerKey,
    db: PathBuf,
}

impl Lab {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        Lab {
            db: dir.join("store.db"),
            dir,
            key: key("ops-prod"),
            _tmp: tmp,
        }
    }
    fn seal(&self, name: &str, origin: &str, prev: Option<&Path>, inputs: &[PathBuf]) -> PathBuf {
        seal_to(&self.dir, name, &self.key, origin, prev, inputs)
    }
    fn trusted(&self) -> Vec<VerifierKey> {
        vec![self.key.verifier()]
    }
    fn import(&self, path: &Path) -> ImportResult {
        self.import_with(path, &self.trusted(), false)
    }
    fn import_with(&self, path: &Path, trusted: &[VerifierKey], keep_failed: bool) -> ImportResult {
        let mut store = Store::open(&self.db).unwrap();
        store
            .import_archive(
                path,
                &ImportOptions {
                    trust: &auditlens::trust::TrustPolicy::from_keys(trusted),
                    keep_failed,
                },
                &mut |_| true,
            )
            .unwrap()
    }
    fn store(&self) -> Store {
        Store::open(&self.db).unwrap()
    }
    fn raw(&self) -> Connection {
        Connection::open(&self.db).unwrap()
    }
    /// A store holding the real Kubernetes audit log (37 events) and the AWS docs CloudTrail records (19).
    fn with_fixtures() -> (Lab, PathBuf, PathBuf) {
        let lab = Lab::new();
        let k8s = lab.seal("k8s.zip", "example.com/prod/k8s", None, &[fixture(K8S_LOG)]);
        let ct = lab.seal(
            "ct.zip",
            "aws/111122223333/trail",
            None,
            &[fixture(CLOUDTRAIL_LOG)],
        );
        assert_eq!(lab.import(&k8s).outcome, ImportOutcome::Imported);
        assert_eq!(lab.import(&ct).outcome, ImportOutcome::Imported);
        (lab, k8s, ct)
    }
}

const NOW: i64 = 1_800_000_000_000_000;
const K8S: &str = "example.com/prod/k8s";

/// Indices of the k8s fixture events a query matches, ascending (plus the count of other-origin hits).
fn k8s_hits(store: &Store, query: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .search(query, 7, after.as_deref(), NOW)
            .unwrap_or_else(|e| panic!("{query}: {e}"));
        out.extend(
            page.events
                .iter()
                .filter(|e| e.origin.as_deref() == Some(K8S))
                .map(|e| e.index),
        );
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    out.sort();
    out
}

fn fingerprint(db: &Path) -> (i64, i64, Vec<u8>) {
    let c = Connection::open(db).unwrap();
    let archives: i64 = c
        .query_row("SELECT count(*) FROM archives", [], |r| r.get(0))
        .unwrap();
    let events: i64 = c
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    let sum: Vec<u8> = c
        .query_row(
            "SELECT group_concat(hex(leaf), '') FROM (SELECT leaf FROM events ORDER BY id)",
            [],
            |r| r.get::<_, Option<String>>(0),
        )
        .unwrap()
        .unwrap_or_default()
        .into_bytes();
    (archives, events, sum)
}

#[test]
fn every_fixture_kind_imports_verified_and_reimport_is_a_no_op() {
    let lab = Lab::new();
    let kinds: Vec<(&str, Vec<PathBuf>, &str, u64)> = vec![
        ("k8s-jsonl", vec![fixture(K8S_LOG)], "k8s", 37),
        (
            "k8s-objects",
            vec![
                fixture("logs/k8s_audit/falco_trace_files/create_deployment.json"),
                fixture("logs/k8s_audit/falco_trace_files/exec_pod.json"),
                fixture("logs/k8s_audit/falco_trace_files/fal_01_003.json"),
            ],
            "k8s",
            3,
        ),
        (
            "cloudtrail",
            vec![fixture(CLOUDTRAIL_LOG)],
            "cloudtrail",
            19,
        ),
        (
            "github",
            vec![fixture("logs/github_audit/panther/GitHub_Audit.jsonl")],
            "github",
            92,
        ),
        (
            "teleport",
            vec![fixture(
                "logs/teleport/panther/Gravitational_TeleportAudit.jsonl",
            )],
            "teleport",
            21,
        ),
        (
            "gcp",
            vec![fixture("logs/gcp_audit/panther/GCP_AuditLog.jsonl")],
            "gcp",
            159,
        ),
        (
            "okta",
            vec![fixture("logs/okta/panther/Okta_SystemLog.jsonl")],
            "okta",
            56,
        ),
    ];
    for (name, inputs, kind, events) in &kinds {
        let a = lab.seal(
            &format!("{name}.zip"),
            &format!("example.com/{name}"),
            None,
            inputs,
        );
        let r = lab.import(&a);
        assert_eq!(r.outcome, ImportOutcome::Imported, "{name}: {}", r.message);
        assert_eq!(r.report.source_kind.as_deref(), Some(*kind), "{name}");
        assert_eq!(r.report.events, Some(*events), "{name}");
        let before = fingerprint(&lab.db);
        let again = lab.import(&a);
        assert_eq!(again.outcome, ImportOutcome::AlreadyImported, "{name}");
        assert!(!again.stored);
        assert_eq!(
            fingerprint(&lab.db),
            before,
            "{name}: re-import changed the database"
        );
    }
    assert_eq!(
        lab.store().event_count().unwrap(),
        37 + 3 + 19 + 92 + 21 + 159 + 56
    );
    let check = lab.store().check(&lab.trusted(), &mut |_| true).unwrap();
    assert!(check.ok, "{:?}", check.problems);
}

#[test]
fn stored_events_keep_their_exact_bytes_and_provenance() {
    let (lab, _, _) = Lab::with_fixtures();
    let store = lab.store();
    let line = std::fs::read_to_string(fixture(K8S_LOG))
        .unwrap()
        .lines()
        .nth(34)
        .unwrap()
        .to_string();
    let e = store.event("example.com/prod/k8s@1#34").unwrap().unwrap();
    assert_eq!(e.raw, line);
    assert_eq!(
        e.leaf,
        auditlens::merkle::to_hex(&auditlens::merkle::leaf_hash(line.as_bytes()))
    );
    assert_eq!(e.row.actor.as_deref(), Some("system:admin as alice"));
    assert_eq!(e.row.time.as_deref(), Some("2017-09-11T20:28:54Z"));
    assert!(e.row.verified);
    assert_eq!(e.archive_status, "verified");
    assert!(
        e.checkpoint
            .unwrap()
            .starts_with("example.com/prod/k8s\n37\n")
    );
    assert_eq!(e.signer_fingerprint, Some(lab.key.verifier().fingerprint()));
    assert!(store.event("example.com/prod/k8s@1#37").unwrap().is_none());
    assert!(store.event("not an id").unwrap().is_none());
}

#[test]
fn tampered_archive_is_refused_and_leaves_the_database_as_it_was() {
    let (lab, k8s, _) = Lab::with_fixtures();
    let before = fingerprint(&lab.db);
    let other = lab.seal("other.zip", "example.com/other", None, &[fixture(K8S_LOG)]);
    let bad = rewrite(&other, &lab.dir.join("bad.zip"), |e| {
        let data = entry(e, "events/000001.jsonl");
        let pos = data.len() - 50;
        data[pos] ^= 1;
    });
    let r = lab.import(&bad);
    assert_eq!(r.outcome, ImportOutcome::Failed);
    assert!(!r.stored);
    let f = r.report.failure.unwrap();
    assert_eq!(f.event_index, Some(36));
    assert_eq!(fingerprint(&lab.db), before);
    // The same verified archive imports fine afterwards.
    assert_eq!(lab.import(&other).outcome, ImportOutcome::Imported);
    assert_eq!(lab.import(&k8s).outcome, ImportOutcome::AlreadyImported);
}

#[test]
fn signed_events_that_do_not_parse_are_stored_unparsed_wherever_they_are() {
    // Events are parsed on a second thread in batches of about a thousand: an event the JSON parser cannot map
    // in the first batch, at the edges of a batch, in a later batch and as the very last event is each stored
    // with its exact bytes, marked not parsed with the parser's reason, without normalized fields but source
    // and origin, and found by text search; the archive imports whole and `verify` counts the same events.
    // (Before issue 11 the import failed at the first such event.)
    let lab = Lab::new();
    let lines: Vec<String> = (0..3000)
        .map(|i| {
            format!(
                r#"{{"time":"2024-06-01T00:00:{:02}Z","actor":"u{i}","n":{i}}}"#,
                i % 60
            )
        })
        .collect();
    let input = write_lines(&lab.dir, "many.jsonl", &lines);
    let good = lab.seal("many.zip", "example.com/many", None, &[input]);
    let bad: [(usize, &[u8], &str); 6] = [
        (
            10,
            br#"{"n": tenword}"#,
            "invalid JSON: expected ident at line 1 column 8",
        ),
        (
            1023,
            br#"{"a":1}x{"w":"word1023"}"#,
            "invalid JSON: trailing characters at line 1 column 8",
        ),
        (
            1024,
            br#"{} {"b":"word1024"}"#,
            "invalid JSON: trailing characters at line 1 column 4",
        ),
        (
            1025,
            br#"{"s":"\udc00 word1025"}"#,
            "invalid JSON: lone leading surrogate in hex escape at line 1 column 12",
        ),
        (
            2500,
            br#"{"s":"\ud800\u0041 word2500"}"#,
            "invalid JSON: lone leading surrogate in hex escape at line 1 column 18",
        ),
        (
            2999,
            br#"{ "last": word2999 }"#,
            "invalid JSON: expected value at line 1 column 11",
        ),
    ];
    let mixed = rewrite(&good, &lab.dir.join("mixed.zip"), |e| {
        let mut events = event_lines(entry(e, &first_events_entry()));
        for (i, line, _) in &bad {
            events[*i] = line.to_vec();
        }
        *entry(e, &first_events_entry()) = join_lines(&events);
        reseal_entries(e, &lab.key);
    });
    let v = verify_with(&mixed, &lab.trusted());
    assert_eq!(v.status, auditlens::verify::ArchiveStatus::Verified);
    assert_eq!(v.parse_errors, Some(bad.len() as u64));

    let r = lab.import(&mixed);
    assert_eq!(r.outcome, ImportOutcome::Imported, "{}", r.message);
    assert_eq!(r.report.parse_errors, Some(bad.len() as u64));
    let store = lab.store();
    assert_eq!(store.event_count().unwrap(), 3000);
    type Row = (
        i64,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        String,
        Vec<u8>,
    );
    let rows: Vec<Row> = store
        .connection()
        .prepare(
            "SELECT idx, ts, actor, category, parse_error, source, origin, CAST(raw AS BLOB) FROM events
             WHERE parse_error IS NOT NULL ORDER BY idx",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), bad.len());
    for ((i, line, why), row) in bad.iter().zip(&rows) {
        assert_eq!(row.0, *i as i64);
        assert_eq!((row.1, &row.2, &row.3), (None, &None, &None), "event {i}");
        assert_eq!(row.4.as_deref(), Some(*why), "event {i}");
        assert_eq!(
            (row.5.as_str(), row.6.as_str()),
            ("jsonl", "example.com/many")
        );
        assert_eq!(row.7, line.to_vec(), "event {i}: exact bytes");
    }
    let stored: i64 = store
        .connection()
        .query_row("SELECT parse_errors FROM archives", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, bad.len() as i64);
    for word in [
        "tenword", "word1023", "word1024", "word1025", "word2500", "word2999",
    ] {
        let page = store.search(word, 10, None, NOW).unwrap();
        assert_eq!(page.events.len(), 1, "{word}");
        assert!(page.events[0].parse_error.is_some(), "{word}");
        assert!(page.events[0].verified);
    }
    assert_eq!(store.count("actor:u11", NOW).unwrap(), 1);
    assert_eq!(store.count("actor:u10", NOW).unwrap(), 0);
    let report = store.check(&lab.trusted(), &mut |_| true).unwrap();
    assert!(report.ok, "{:?}", report.problems);

    // `check` re-derives the mark: an event marked parsed that does not parse, and the reverse, are found.
    drop(store);
    lab.raw()
        .execute_batch(
            "UPDATE events SET parse_error = NULL WHERE idx = 10;
             UPDATE events SET parse_error = 'invalid JSON: forged' WHERE idx = 11;",
        )
        .unwrap();
    let report = lab.store().check(&lab.trusted(), &mut |_| true).unwrap();
    let messages: Vec<(Option<u64>, &str)> = report
        .problems
        .iter()
        .map(|p| (p.event_index, p.message.as_str()))
        .collect();
    assert!(
        messages.contains(&(
            Some(10),
            "stored as parsed, but the event does not parse: invalid JSON: expected ident at line 1 column 8"
        )),
        "{messages:?}"
    );
    assert!(
        messages.contains(&(
            Some(11),
            "stored as not parsed (\"invalid JSON: forged\"), but the event parses"
        )),
        "{messages:?}"
    );
}

#[test]
fn committed_archives_reach_the_database_file_while_the_store_stays_open() {
    // The importer leaves checkpoints to a thread of its own: after an import commits, the archive is copied
    // from the WAL into the database file while the store stays open (and the next import runs); when the store
    // closes, nothing is left in the WAL and another connection reads every event.
    let lab = Lab::new();
    let k8s = lab.seal("k8s.zip", K8S, None, &[fixture(K8S_LOG)]);
    let ct = lab.seal("ct.zip", "aws/1/trail", None, &[fixture(CLOUDTRAIL_LOG)]);
    let mut store = lab.store();
    let empty = std::fs::metadata(&lab.db).unwrap().len();
    let import = |store: &mut Store, path: &Path| {
        let trusted = lab.trusted();
        let r = store
            .import_archive(
                path,
                &ImportOptions {
                    trust: &auditlens::trust::TrustPolicy::from_keys(&trusted),
                    keep_failed: false,
                },
                &mut |_| true,
            )
            .unwrap();
        assert_eq!(r.outcome, ImportOutcome::Imported, "{}", r.message);
    };
    import(&mut store, &k8s);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::metadata(&lab.db).unwrap().len() <= empty {
        assert!(
            std::time::Instant::now() < deadline,
            "the imported archive never reached the database file"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    import(&mut store, &ct);
    drop(store);
    let wal = lab.db.with_extension("db-wal");
    assert!(
        std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
        "the WAL still holds frames after the store closed"
    );
    let c = lab.raw();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let n: i64 = c
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 37 + 19);
    assert!(lab.store().check(&lab.trusted(), &mut |_| true).unwrap().ok);
}

#[test]
fn untrusted_key_is_refused_unless_kept_flagged_and_then_never_counted_as_verified() {
    let lab = Lab::new();
    let a = lab.seal("a.zip", K8S, None, &[fixture(K8S_LOG)]);
    let r = lab.import_with(&a, &[], false);
    assert_eq!(r.outcome, ImportOutcome::Untrusted);
    assert!(r.message.contains("not trusted"), "{}", r.message);
    assert_eq!(lab.store().event_count().unwrap(), 0);

    let kept = lab.import_with(&a, &[], true);
    assert_eq!(kept.outcome, ImportOutcome::Untrusted);
    assert!(kept.stored);
    let store = lab.store();
    assert_eq!(store.event_count().unwrap(), 37);
    let page = store.search("", 100, None, NOW).unwrap();
    assert_eq!(page.events.len(), 37);
    assert!(page.events.iter().all(|e| !e.verified));
    let archives = store.archives().unwrap();
    assert_eq!(archives[0].status, "untrusted");
}

#[test]
fn failed_archive_kept_with_keep_failed_is_flagged_with_its_reason() {
    let lab = Lab::new();
    let a = lab.seal("a.zip", K8S, None, &[fixture(K8S_LOG)]);
    let bad = rewrite(&a, &lab.dir.join("bad.zip"), |e| {
        let mut lines = event_lines(entry(e, "events/000001.jsonl"));
        lines.remove(3);
        *entry(e, "events/000001.jsonl") = join_lines(&lines);
    });
    let r = lab.import_with(&bad, &lab.trusted(), true);
    assert_eq!(r.outcome, ImportOutcome::Failed);
    assert!(r.stored);
    let store = lab.store();
    let archives = store.archives().unwrap();
    assert_eq!(archives.len(), 1);
    assert_eq!(archives[0].status, "failed");
    assert!(
        archives[0].failure.as_deref().unwrap().contains("event 3"),
        "{:?}",
        archives[0].failure
    );
    // Events before the failure are kept for inspection, never as verified.
    let page = store.search("", 100, None, NOW).unwrap();
    assert_eq!(page.events.len(), 3);
    assert!(page.events.iter().all(|e| !e.verified));
    // A later good import of the same origin and sequence is not blocked by the flagged one.
    assert_eq!(lab.import(&a).outcome, ImportOutcome::Imported);
    assert!(store.check(&lab.trusted(), &mut |_| true).unwrap().ok);
}

#[test]
fn fork_is_refused_and_a_gap_is_imported_and_flagged() {
    let lab = Lab::new();
    let part = |n: usize| {
        write_lines(
            &lab.dir,
            &format!("p{n}.jsonl"),
            &[format!(r#"{{"time":"2024-01-0{n}T00:00:00Z","n":{n}}}"#)],
        )
    };
    let s1 = lab.seal("s1.zip", "example.com/app", None, &[part(1)]);
    let s2 = lab.seal("s2.zip", "example.com/app", Some(&s1), &[part(2)]);
    let s3 = lab.seal("s3.zip", "example.com/app", Some(&s2), &[part(3)]);
    let fork2 = lab.seal("fork2.zip", "example.com/app", Some(&s1), &[part(4)]);
    assert_eq!(lab.import(&s1).outcome, ImportOutcome::Imported);
    let gap = lab.import(&s3);
    assert_eq!(gap.outcome, ImportOutcome::Imported);
    assert_eq!(gap.gap_before, Some(3));
    let rows = lab.store().archives().unwrap();
    assert_eq!(
        rows.iter()
            .find(|r| r.sequence == Some(3))
            .unwrap()
            .gap_before,
        Some(3)
    );
    // The fork (another sequence 2 whose chain end does not link to the stored sequence 3) is refused.
    let refused = lab.import(&fork2);
    assert_eq!(
        refused.outcome,
        ImportOutcome::Refused,
        "{}",
        refused.message
    );
    assert!(refused.message.contains("fork"), "{}", refused.message);
    // The real sequence 2 fills the gap.
    assert_eq!(lab.import(&s2).outcome, ImportOutcome::Imported);
    assert!(
        lab.store()
            .archives()
            .unwrap()
            .iter()
            .all(|r| r.gap_before.is_none())
    );
    // Now a different archive claiming sequence 2 is a fork.
    let again = lab.import(&fork2);
    assert_eq!(again.outcome, ImportOutcome::Refused);
    assert!(
        again.message.contains("different verified archive"),
        "{}",
        again.message
    );
    let report = lab.store().check(&lab.trusted(), &mut |_| true).unwrap();
    assert!(report.ok && report.notices.is_empty(), "{report:?}");
    // Kept (`--keep-failed`): stored as failed with its signed checkpoint and manifest, without its events. The
    // fork is still signed by the producer's key: `check` says so (it was silent: red-team finding, 2026-12-07).
    let kept = lab.import_with(&fork2, &lab.trusted(), true);
    assert_eq!(kept.outcome, ImportOutcome::Refused, "{}", kept.message);
    let report = lab.store().check(&lab.trusted(), &mut |_| true).unwrap();
    assert!(report.ok, "{:?}", report.problems);
    assert_eq!(report.notices.len(), 1, "{:?}", report.notices);
    let notice = &report.notices[0];
    assert!(
        notice
            .message
            .contains("holds a checkpoint signed by ops-prod")
            && notice
                .message
                .contains("a fork (its events were not stored)"),
        "{}",
        notice.message
    );
    assert_eq!(notice.sequence, Some(2));
    // The notice follows what the kept copy's checkpoint signs, not its row's columns: moving the row to another
    // sequence neither hides the fork nor makes one elsewhere.
    lab.raw()
        .execute(
            "UPDATE archives SET sequence = 7 WHERE status = 'failed'",
            [],
        )
        .unwrap();
    let report = lab.store().check(&lab.trusted(), &mut |_| true).unwrap();
    assert_eq!(report.notices.len(), 1, "{:?}", report.notices);
    assert!(
        report.notices[0]
            .message
            .contains("a fork (its events were not stored)"),
        "{:?}",
        report.notices
    );
}

fn assert_check_finds(lab: &Lab, needle: &str, index: Option<u64>) {
    let report = lab.store().check(&lab.trusted(), &mut |_| true).unwrap();
    assert!(!report.ok, "check missed: {needle}");
    let hit = report
        .problems
        .iter()
        .find(|p| p.message.contains(needle) && (index.is_none() || p.event_index == index));
    assert!(
        hit.is_some(),
        "expected a problem with {needle:?} at {index:?}: {:#?}",
        report.problems
    );
}

#[test]
fn check_finds_a_changed_event_byte() {
    let (lab, _, _) = Lab::with_fixtures();
    assert!(lab.store().check(&lab.trusted(), &mut |_| true).unwrap().ok);
    lab.raw()
        .execute(
            "UPDATE events SET raw = replace(raw, '\"list\"', '\"lisT\"') WHERE idx = 5 AND origin = ?1",
            [K8S],
        )
        .unwrap();
    assert_check_finds(&lab, "do not match the stored leaf hash", Some(5));
}

#[test]
fn check_finds_bytes_and_leaf_changed_together() {
    let (lab, _, _) = Lab::with_fixtures();
    let c = lab.raw();
    let raw: String = c
        .query_row(
            "SELECT raw FROM events WHERE idx = 2 AND origin = ?1",
            [K8S],
            |r| r.get(0),
        )
        .unwrap();
    let forged = raw.replace("\"code\":200", "\"code\":201");
    assert_ne!(raw, forged);
    let leaf = auditlens::merkle::leaf_hash(forged.as_bytes()).to_vec();
    c.execute(
        "UPDATE events SET raw = ?1, leaf = ?2 WHERE idx = 2 AND origin = ?3",
        rusqlite::params![forged, leaf, K8S],
    )
    .unwrap();
    assert_check_finds(&lab, "Merkle root of the stored events differs", None);
}

#[test]
fn check_finds_a_changed_normalized_actor() {
    let (lab, _, _) = Lab::with_fixtures();
    lab.raw()
        .execute(
            "UPDATE events SET actor = 'mallory' WHERE idx = 9 AND origin = ?1",
            [K8S],
        )
        .unwrap();
    assert_check_finds(&lab, "stored actor \"mallory\"", Some(9));
}

#[test]
fn check_finds_a_deleted_row() {
    let (lab, _, _) = Lab::with_fixtures();
    lab.raw()
        .execute("DELETE FROM events WHERE idx = 12 AND origin = ?1", [K8S])
        .unwrap();
    assert_check_finds(&lab, "events 12..12 are missing", Some(12));
}

#[test]
fn check_finds_swapped_checkpoints() {
    let (lab, _, _) = Lab::with_fixtures();
    lab.raw()
        .execute_batch(
            "UPDATE archives SET checkpoint = (SELECT checkpoint FROM archives WHERE id = 2) WHERE id = 1;",
        )
        .unwrap();
    assert_check_finds(&lab, "", None);
    let report = lab.store().check(&lab.trusted(), &mut |_| true).unwrap();
    assert!(
        report.problems.iter().any(|p| p.archive_id == Some(1)),
        "{:#?}",
        report.problems
    );
}

#[test]
fn check_finds_an_untrusted_archive_promoted_to_verified() {
    let lab = Lab::new();
    let a = lab.seal("a.zip", K8S, None, &[fixture(K8S_LOG)]);
    lab.import_with(&a, &[], true);
    lab.raw()
        .execute("UPDATE archives SET status = 'verified'", [])
        .unwrap();
    // Checked against the auditor's own trust list, which does not hold this signer.
    let report = lab
        .store()
        .check(&[key("auditor-trusts").verifier()], &mut |_| true)
        .unwrap();
    assert!(!report.ok);
    assert!(
        report.problems[0]
            .message
            .contains("not among the trusted keys"),
        "{:?}",
        report.problems
    );
}

#[test]
fn old_schema_database_opens_migrated_and_newer_is_refused() {
    let (lab, _, _) = Lab::with_fixtures();
    // Turn the file into what version 1 wrote: no full-text table, no field indexes, no mapping or privilege
    // columns, no summary tables, no columns for events not parsed, no settings table, no software table, no
    // count of events without a time, no incidents table, no index on source, no receipt time, no CloudTrail
    // evidence, no index on agent or stage.
    lab.raw()
        .execute_batch(
            "DROP INDEX events_actor; DROP INDEX events_action; DROP INDEX events_resource;
             DROP INDEX events_category; DROP INDEX events_outcome; DROP INDEX events_ip; DROP INDEX events_env;
             DROP TABLE rollup_hourly; DROP TABLE rollup_actors; DROP TABLE rollup_minutely;
             DROP TABLE rollup_minute_actors; DROP INDEX events_privilege;
             DROP INDEX events_denied; ALTER TABLE events DROP COLUMN privilege;
             ALTER TABLE archives DROP COLUMN mapping;
             ALTER TABLE events DROP COLUMN parse_error; ALTER TABLE archives DROP COLUMN parse_errors;
             DROP TABLE settings; ALTER TABLE archives DROP COLUMN normalization; DROP TABLE software;
             ALTER TABLE archives DROP COLUMN untimed; DROP TABLE incidents; DROP INDEX events_source;
             ALTER TABLE archives DROP COLUMN received_at;
             ALTER TABLE archives DROP COLUMN evidence; DROP TABLE cloudtrail_files;
             DROP INDEX events_agent; DROP INDEX events_stage; ALTER TABLE archives DROP COLUMN leaf_blocks;
             PRAGMA user_version = 1;",
        )
        .unwrap();
    let store = lab.store();
    assert_eq!(
        auditlens::store::schema::version(store.connection()).unwrap(),
        auditlens::store::schema::CURRENT_VERSION
    );
    assert_eq!(k8s_hits(&store, "alice"), vec![34, 35, 36]);
    // Migration 3 re-derived every privilege and filled the summary tables: `check` compares both with what the
    // events give.
    let check = store.check(&lab.trusted(), &mut |_| true).unwrap();
    assert!(check.ok, "{:?}", check.problems);
    let summed: i64 = store
        .connection()
        .query_row("SELECT sum(n) FROM rollup_hourly", [], |r| r.get(0))
        .unwrap();
    assert_eq!(summed, 37 + 19);
    assert_eq!(
        store.count("privilege:*", NOW).unwrap(),
        store
            .count(
                "privilege:exec OR privilege:secret OR privilege:role OR privilege:login",
                NOW
            )
            .unwrap()
    );
    drop(store);
    lab.raw()
        .execute_batch("PRAGMA user_version = 99;")
        .unwrap();
    let err = Store::open(&lab.db).err().unwrap().to_string();
    assert!(err.contains("newer AuditLens"), "{err}");
}

#[test]
fn search_operators_match_the_hand_counted_events() {
    let (lab, _, _) = Lab::with_fixtures();
    let s = lab.store();
    let bob: Vec<u64> = (0..=3).chain(9..=33).collect();
    // Each query with the Kubernetes events it finds and how many of the 19 CloudTrail records it also finds,
    // counted from the fixture (Alice is the user of records 11 to 16; 6 records are timed before 2017, 12
    // after 2017-09-11T20:28Z, one has no time; no record has a denied errorCode).
    let cases: Vec<(&str, Vec<u64>, u64)> = vec![
        ("actor:\"system:admin as bob\"", bob.clone(), 0),
        ("ACTOR:\"System:Admin AS Bob\"", bob.clone(), 0),
        (
            "outcome:denied",
            vec![0, 1, 3, 4, 5, 6, 7, 33, 34, 35, 36],
            0,
        ),
        ("alice", vec![34, 35, 36], 6),
        ("resource:secrets*", vec![36], 0),
        ("\"apis batch\"", vec![20, 21], 0),
        ("apiregistr*", vec![11], 0),
        ("after:2017-09-11T20:28:00Z", vec![34, 35, 36], 12),
        ("before:2017-09-11T19:59:00Z", vec![0, 1, 2], 6),
        (
            "after:2017-09-11T19:59:03Z before:2017-09-11T20:01:00Z",
            vec![3, 4],
            0,
        ),
        ("time:2017-09-11T20:27:52Z", vec![33], 0),
        (
            "outcome:denied -actor:\"system:admin as bob\"",
            vec![4, 5, 6, 7, 34, 35, 36],
            0,
        ),
        ("outcome:denied NOT alice", vec![0, 1, 3, 4, 5, 6, 7, 33], 0),
        ("resource:nodes OR resource:configmaps*", vec![6, 33, 35], 0),
        (
            "(resource:nodes OR resource:\"configmaps ns1\") outcome:denied",
            vec![6, 33, 35],
            0,
        ),
        ("env:ns1 outcome:success", vec![], 0),
        ("env:ns1", vec![3, 34, 35, 36], 0),
        ("since:7d", vec![], 0),
        ("source:cloudtrail", vec![], 19),
        ("ip:\"::1\" alice", vec![34, 35, 36], 0),
    ];
    for (q, want, cloudtrail) in cases {
        assert_eq!(k8s_hits(&s, q), want, "query {q}");
        assert_eq!(
            s.count(q, NOW).unwrap(),
            want.len() as u64 + cloudtrail,
            "count {q}"
        );
    }
    // Counts over both archives.
    assert_eq!(s.count("", NOW).unwrap(), 37 + 19);
    assert_eq!(s.count("source:cloudtrail", NOW).unwrap(), 19);
    assert_eq!(
        s.count("source:cloudtrail action:signin:ConsoleLogin", NOW)
            .unwrap(),
        6
    );
}

#[test]
fn keyset_pages_cover_every_match_once_newest_first() {
    let (lab, _, _) = Lab::with_fixtures();
    let s = lab.store();
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = s.search("", 10, after.as_deref(), NOW).unwrap();
        seen.extend(page.events.iter().map(|e| (e.time.clone(), e.id.clone())));
        pages += 1;
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(pages, 6);
    assert_eq!(seen.len(), 56);
    let mut ids: Vec<&String> = seen.iter().map(|(_, id)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 56, "an event appeared twice");
    let times: Vec<&Option<String>> = seen.iter().map(|(t, _)| t).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "not newest first");
    assert!(s.search("", 10, Some("not-a-cursor!"), NOW).is_err());
}

#[test]
fn every_way_of_finding_a_page_gives_the_same_pages() {
    use auditlens::store::search::PlanChoice;
    let (lab, _, _) = Lab::with_fixtures();
    let s = lab.store();
    let pages = |query: &str, choice: PlanChoice| -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = s
                .search_with(query, 7, after.as_deref(), NOW, choice)
                .unwrap();
            out.push(page.events.iter().map(|e| e.id.clone()).collect());
            match page.next {
                Some(n) => after = Some(n),
                None => return out,
            }
        }
    };
    for query in [
        "",
        "actor:system:*",
        "actor:system:serviceaccount:*",
        "outcome:denied OR source:cloudtrail",
        "-stage:RequestReceived verb",
        "category:access -actor:system:anonymous",
        "time:* -resource:pods*",
        "after:2018-10-26 before:2019-01-01",
        "status:verified env:*",
        "actor:nobody-at-all",
        ";",
        "pods",
        "\"kube-system\"",
        "audit* k8s",
        "pods -secrets",
        // Text beside a field: walked within a budget of text matches, else intersected with the field's ids.
        "pods outcome:success",
        "pods -secrets outcome:success category:access",
        "get source:k8s",
        "k8s outcome:denied",
        "\"kube-system\" source:k8s after:2018-10-26",
        "verb* outcome:success -pods",
    ] {
        let indexed = pages(query, PlanChoice::Indexed);
        assert!(!indexed.is_empty());
        // Counts agree with the pages (a text-only query is counted from the full-text index alone).
        assert_eq!(
            s.count(query, NOW).unwrap() as usize,
            indexed.concat().len(),
            "{query}"
        );
        assert_eq!(pages(query, PlanChoice::NewestFirst), indexed, "{query}");
        assert_eq!(pages(query, PlanChoice::Auto), indexed, "{query}");
        for budget in [1, 3, 8, 20] {
            assert_eq!(
                pages(query, PlanChoice::AutoWithTextBudget(budget)),
                indexed,
                "{query}, a budget of {budget} text matches"
            );
        }
    }
    // Every one of the 37 demo.log events has a `system:` user (counted with Python over the fixture), no
    // CloudTrail record has.
    assert_eq!(pages("actor:system:*", PlanChoice::Auto).concat().len(), 37);
}

#[test]
fn hostile_queries_are_text_or_positioned_errors_never_sql() {
    let (lab, _, _) = Lab::with_fixtures();
    let s = lab.store();
    for q in [
        "\"'; DROP TABLE events; --\"",
        "actor:\"x' OR 1=1 --\"",
        "100%_off",
        "actor:a%",
        "resource:_*",
        "\"SELECT * FROM archives\"",
        "UNION SELECT",
        "NEAR(a b)",
    ] {
        let page = s
            .search(q, 10, None, NOW)
            .unwrap_or_else(|e| panic!("{q}: {e}"));
        assert!(page.events.is_empty(), "{q} matched {:?}", page.events);
    }
    for (q, column) in [
        ("actor:\"bob", 7),
        ("a OR", 3),
        ("(a", 1),
        ("a)", 2),
        ("foo:bar", 1),
        ("after:yesterday", 7),
        ("a OR OR b", 6),
    ] {
        match s.search(q, 10, None, NOW) {
            Err(auditlens::store::search::SearchError::Query(e)) => {
                assert_eq!(e.column, column, "{q}: {e}");
                assert!(!e.message.to_lowercase().contains("sql"), "{q}: {e}");
            }
            other => panic!("{q}: expected a query error, got {other:?}"),
        }
    }
    assert_eq!(s.count("", NOW).unwrap(), 56, "tables intact");
}

/// The importer reports progress every 65,536 events; the archive is larger, so its first report comes with
/// events already inserted and not committed. The import is held at that report until a reader has read: that
/// read lands mid-import for certain, and more reads follow while the rest of the import runs.
#[test]
fn the_store_is_readable_while_an_import_runs_and_never_shows_half_an_archive() {
    const BIG: u64 = 70_000;
    let (lab, _, _) = Lab::with_fixtures();
    let input = lab.dir.join("big.jsonl");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
        auditlens_bench::generate::write_k8s(&mut out, BIG, 5, 1_700_000_000).unwrap();
    }
    let big = lab.seal("big.zip", "example.com/big", None, &[input]);
    let (db, trusted) = (lab.db.clone(), lab.trusted());
    let (first_batch_tx, first_batch) = std::sync::mpsc::channel::<u64>();
    let (read_done, read_done_rx) = std::sync::mpsc::channel::<()>();
    let importer = std::thread::spawn(move || {
        let mut store = Store::open(&db).unwrap();
        let mut signalled = false;
        store
            .import_archive(
                &big,
                &ImportOptions {
                    trust: &auditlens::trust::TrustPolicy::from_keys(&trusted),
                    keep_failed: false,
                },
                &mut |p| {
                    if !signalled && p.events_done > 0 && p.events_done < p.events_total {
                        signalled = true;
                        first_batch_tx.send(p.events_done).unwrap();
                        read_done_rx.recv().unwrap();
                    }
                    true
                },
            )
            .unwrap()
    });
    let read = || {
        let reader = Store::open_read_only(&lab.db).unwrap();
        let n = reader.count("", NOW).unwrap();
        assert!(
            !reader
                .search("alice", 5, None, NOW)
                .unwrap()
                .events
                .is_empty()
        );
        n
    };
    let done_at_signal = first_batch
        .recv()
        .expect("the importer reported no progress before the end of the archive");
    assert_eq!(done_at_signal, 65_536);
    assert_eq!(
        read(),
        56,
        "a reader saw part of the archive being imported"
    );
    read_done.send(()).unwrap();
    let mut reads = 1;
    while !importer.is_finished() {
        let n = read();
        assert!(
            n == 56 || n == 56 + BIG,
            "a reader saw {n} events: half an archive"
        );
        reads += 1;
    }
    assert_eq!(importer.join().unwrap().outcome, ImportOutcome::Imported);
    eprintln!("{reads} reads during the import");
    assert_eq!(lab.store().count("", NOW).unwrap(), 56 + BIG);
}

/// The expected hits of `search_operators_match_the_hand_counted_events` (and the fixture lines of
/// sources.rs), counted without AuditLens: `tests/independent/count_fixtures.py` reads the fixtures with the
/// Python standard library (Bob and Alice as the impersonated user, denied as HTTP 401/403, namespaces,
/// request times, CloudTrail event times and error codes).
#[test]
fn the_hand_counted_figures_are_counted_from_the_fixtures_without_auditlens() {
    let o = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/count_fixtures.py"))
        .output()
        .expect("python3 must be installed");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let counted: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let bob: Vec<u64> = (0..=3).chain(9..=33).collect();
    assert_eq!(
        counted,
        serde_json::json!({
            "k8s_events": 37,
            "k8s_system_users": 37,
            "as_bob": bob,
            "denied": [0, 1, 3, 4, 5, 6, 7, 33, 34, 35, 36],
            "denied_not_bob": [4, 5, 6, 7, 34, 35, 36],
            "alice": [34, 35, 36],
            "ns1": [3, 34, 35, 36],
            "before_19_59": [0, 1, 2],
            "after_20_28": [34, 35, 36],
            "at_20_27_52": [33],
            "cloudtrail_records": 19,
            "cloudtrail_alice": 6,
            "cloudtrail_before_2017_09_11T19_59": 6,
            "cloudtrail_after_2017_09_11T20_28": 12,
            "cloudtrail_denied_error_code": 0,
            "cloudtrail_console_logins": 6,
            "cloudtrail_not_read_only": 1,
            "cloudtrail_iam_users": 11,
            "nonblank_lines": {
                "k8s_audit/audit2rbac/demo.log": 37,
                "aws_cloudtrail/otrf/ec2_proxy_s3_exfiltration_2020-09-14011940.json": 103,
                "teleport/panther/Gravitational_TeleportAudit.jsonl": 21,
                "github_audit/panther/GitHub_Audit.jsonl": 92,
                "gcp_audit/panther/GCP_AuditLog.jsonl": 159,
                "okta/panther/Okta_SystemLog.jsonl": 56
            }
        })
    );
}

/// `json.MEMBER:value` reads the events' own JSON (docs/search.md section 4.2) and `archive:ORIGIN#SEQ` one
/// archive; the counts are those `count_fixtures.py` makes without AuditLens (above).
#[test]
fn json_members_and_archives_find_what_the_independent_count_finds() {
    let (lab, _, _) = Lab::with_fixtures();
    let store = lab.store();
    let count = |q: &str| store.count(q, NOW).unwrap();
    assert_eq!(
        k8s_hits(&store, "json.objectRef.namespace:ns1"),
        vec![3, 34, 35, 36]
    );
    assert_eq!(
        k8s_hits(&store, "json.user.username:system:*"),
        (0..37).collect::<Vec<u64>>()
    );
    assert_eq!(count("json.eventName:ConsoleLogin"), 6);
    // Values compare ASCII case-insensitively, member names exactly (JSON's are case-sensitive).
    assert_eq!(count("json.eventName:consolelogin"), 6);
    assert_eq!(count("json.eventname:ConsoleLogin"), 0);
    assert_eq!(count("json.eventName:*login*"), 6);
    assert_eq!(count("json.eventName:Console*"), 6);
    assert_eq!(count("json.userIdentity.type:iamuser"), 11);
    // true and false are words; a missing member or null is absent, and absent counts under NOT.
    assert_eq!(count("json.readOnly:false"), 1);
    assert_eq!(count("json.readOnly:*"), 1);
    assert_eq!(count("-json.readOnly:false"), 37 + 18);
    assert_eq!(
        count("-json.eventName:ConsoleLogin origin:aws/111122223333/trail"),
        13
    );
    // An object is its JSON text.
    assert_eq!(count("json.userIdentity:*"), count("json.userIdentity:{*"));
    assert_eq!(count("archive:example.com/prod/k8s#1"), 37);
    assert_eq!(count("archive:example.com/prod/k8s@1"), 37);
    assert_eq!(count("archive:aws/111122223333/trail#1"), 19);
    assert_eq!(count("archive:example.com/prod/k8s#2"), 0);
    assert_eq!(
        count("archive:EXAMPLE.com/prod/k8s#1"),
        0,
        "origins compare exactly"
    );
    for bad in [
        "json.:x",
        "json.a..b:x",
        "json.a\"b:x",
        "archive:example.com",
        "archive:x#*",
        "archive:x#1x",
    ] {
        assert!(auditlens::query::parse(bad).is_err(), "{bad}");
    }
    // A member takes no regular expression: said, not compared with the text `/Console/` (review finding,
    // 2026-12-08: it counted 0 without a word). Quoted, or without the closing `/`, the value is text.
    let e = auditlens::query::parse("json.eventName:/Console/").unwrap_err();
    assert!(e.to_string().contains("takes no regular expression"), "{e}");
    assert_eq!(e.column, 16);
    assert_eq!(count(r#"json.eventName:"/Console/""#), 0);
    assert_eq!(count("json.eventName:/Console"), 0);
}

/// A query that matches nothing gets hints (docs/search.md section 11): each names what near it does match,
/// counted as the search counts, and the changed query where one term changes.
#[test]
fn a_query_that_matches_nothing_gets_hints_that_name_what_does_match() {
    let (lab, _, _) = Lab::with_fixtures();
    let store = lab.store();
    let hints = |q: &str| store.hints(q, NOW).unwrap();
    // demo.log's actors are `system:admin as bob` and the like: none is exactly bob.
    let h = hints("actor:bob outcome:denied");
    assert_eq!(h.len(), 1, "{h:?}");
    assert!(
        h[0].message.starts_with("no actor is exactly `bob`; "),
        "{}",
        h[0].message
    );
    assert_eq!(h[0].query.as_deref(), Some("actor:*bob* outcome:denied"));
    assert!(store.count("actor:*bob* outcome:denied", NOW).unwrap() > 0);
    let h = hints("outcome:deny");
    assert_eq!(
        h[0].message,
        "`outcome:` is one of success, denied, failure, unknown; no event has `deny`"
    );
    let h = hints("json.eventname:ConsoleLogin");
    assert!(
        h[0].message
            .contains("no event has the member json.eventname"),
        "{}",
        h[0].message
    );
    let h = hints("alic");
    assert_eq!(h[0].query.as_deref(), Some("alic*"));
    let h = hints("alice time:2030-01-01");
    assert_eq!(h.len(), 1, "{h:?}");
    assert!(
        h[0].message
            .starts_with("without its time terms the query matches 9 events"),
        "{}",
        h[0].message
    );
    // A query that matches, or does not parse, gets none; nor does a zero nothing near explains.
    assert!(hints("alice").is_empty());
    assert!(hints("actor:((").is_empty());
    assert!(hints("actor:nobody-anywhere").is_empty());
    // The command line says them on stderr under "no matching events".
    let db = lab.db.display().to_string();
    let o = auditlens(&["search", "--db", &db, "--", "actor:bob outcome:denied"]);
    assert_eq!(code(&o), 0);
    assert!(
        text(&o.stdout).contains("no matching events"),
        "{}",
        text(&o.stdout)
    );
    assert!(
        text(&o.stderr).contains("hint: no actor is exactly `bob`"),
        "{}",
        text(&o.stderr)
    );
    assert!(
        text(&o.stderr).contains("  try: actor:*bob* outcome:denied\n"),
        "{}",
        text(&o.stderr)
    );
}

/// A store written by the previous release (schema 8: tests/fixtures/stores/README.md says how it was made).
const OLD_STORE: &str = "tests/fixtures/stores/v8-k8s-cloudtrail.db";

/// Every stored event, as the columns that are its evidence: id, archive, index, leaf hash and exact bytes.
type EventRow = (i64, i64, i64, Vec<u8>, String);

fn all_events(conn: &Connection) -> Vec<EventRow> {
    conn.prepare("SELECT id, archive_id, idx, leaf, raw FROM events ORDER BY id")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_store_of_the_previous_release_is_backed_up_then_upgraded_keeping_every_event() {
    use auditlens::store::schema::{CURRENT_VERSION, SOFTWARE_VERSION, version};
    let fixture = std::fs::read(OLD_STORE).unwrap();
    let before = {
        let conn =
            Connection::open_with_flags(OLD_STORE, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        assert_eq!(
            version(&conn).unwrap(),
            8,
            "the fixture is a schema 8 store"
        );
        all_events(&conn)
    };
    assert_eq!(before.len(), 58);
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("evidence.db");
    std::fs::write(&db, &fixture).unwrap();

    let (store, upgrade) = Store::open_upgrading(&db).unwrap();
    let upgrade = upgrade.expect("an upgrade is reported");
    let backup = tmp.path().join("evidence.db.backup-v8");
    assert_eq!(
        (upgrade.from, upgrade.to, upgrade.backup.clone()),
        (8, CURRENT_VERSION, backup.clone())
    );
    assert!(
        upgrade.to_string().contains("evidence.db.backup-v8"),
        "{upgrade}"
    );
    assert!(
        std::fs::read(&backup).unwrap() == fixture,
        "the backup is the old store byte for byte"
    );
    assert_eq!(version(store.connection()).unwrap(), CURRENT_VERSION);
    assert_eq!(all_events(store.connection()), before, "every event kept");
    let software = store.software().unwrap();
    assert_eq!(software.len(), 1);
    assert_eq!(
        (software[0].0.as_str(), software[0].2),
        (SOFTWARE_VERSION, 8)
    );
    // The counts the previous release's `auditlens search --count` gave on the fixture.
    for (query, n) in [
        ("", 58),
        ("alice", 9),
        ("outcome:denied", 11),
        ("source:cloudtrail", 19),
        ("privilege:*", 44),
        ("resource:secrets*", 1),
    ] {
        assert_eq!(store.count(query, NOW).unwrap(), n, "{query}");
    }
    let archives = store.archives().unwrap();
    assert_eq!(archives.len(), 3);
    assert!(archives.iter().all(|a| a.status == "verified"));
    let key = std::fs::read_to_string("tests/fixtures/stores/fixture-ops.pub").unwrap();
    let key = VerifierKey::parse(key.trim()).unwrap();
    let check = store.check(&[key], &mut |_| true).unwrap();
    assert!(check.ok, "{:?}", check.problems);
    drop(store);

    // Opened again: nothing more to upgrade, no second copy, the software recorded once.
    let (store, upgrade) = Store::open_upgrading(&db).unwrap();
    assert!(upgrade.is_none());
    assert_eq!(store.software().unwrap().len(), 1);
    assert_eq!(
        std::fs::read_dir(tmp.path())
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("backup"))
            .count(),
        1
    );
}

#[test]
fn an_earlier_backup_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("evidence.db");
    std::fs::copy(OLD_STORE, &db).unwrap();
    std::fs::write(tmp.path().join("evidence.db.backup-v8"), b"an earlier copy").unwrap();
    let (_, upgrade) = Store::open_upgrading(&db).unwrap();
    assert_eq!(
        upgrade.unwrap().backup,
        tmp.path().join("evidence.db.backup-v8.2")
    );
    assert_eq!(
        std::fs::read(tmp.path().join("evidence.db.backup-v8")).unwrap(),
        b"an earlier copy"
    );
    assert_eq!(
        std::fs::read(tmp.path().join("evidence.db.backup-v8.2")).unwrap(),
        std::fs::read(OLD_STORE).unwrap()
    );
}

#[test]
fn a_store_of_a_newer_release_is_refused_and_left_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("evidence.db");
    std::fs::copy(OLD_STORE, &db).unwrap();
    // What a newer AuditLens would leave: a schema version above this one's.
    let newer = auditlens::store::schema::CURRENT_VERSION + 1;
    Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", newer)
        .unwrap();
    let bytes = std::fs::read(&db).unwrap();
    let err = Store::open(&db).err().unwrap().to_string();
    assert!(
        err.contains(&format!("newer AuditLens (schema version {newer}"))
            && err.contains("not changed"),
        "{err}"
    );
    assert!(
        std::fs::read(&db).unwrap() == bytes,
        "the file is unchanged"
    );
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        vec!["evidence.db".to_string()],
        "no backup, no journal left"
    );
    // The command line says the same, exit 2.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditlens"))
        .args(["search", "--count", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("newer AuditLens"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read(&db).unwrap() == bytes,
        "the file is unchanged"
    );
}

/// A store written by the release before the full-text index file (schema 9, tests/fixtures/stores/README.md), and
/// what that release's `auditlens search --json --limit 100` found in it (`v9-searches.json`).
const V9_STORE: &str = "tests/fixtures/stores/v9-k8s-cloudtrail.db";
const V9_SEARCHES: &str = "tests/fixtures/stores/v9-searches.json";

#[test]
fn a_store_of_the_release_before_the_text_index_file_keeps_every_event_and_search_result() {
    let before = {
        let conn =
            Connection::open_with_flags(V9_STORE, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        assert_eq!(auditlens::store::schema::version(&conn).unwrap(), 9);
        all_events(&conn)
    };
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("evidence.db");
    std::fs::copy(V9_STORE, &db).unwrap();
    let searches: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_slice(&std::fs::read(V9_SEARCHES).unwrap()).unwrap();
    // Words that the old index found only in keys or in true/false/null (docs/search.md section 6: keys are not
    // text): what the same queries find now, by value.
    let changed: &[(&str, usize)] = &[("verb", 0), ("user", 22)];
    let results = |store: &Store| -> Vec<(String, Vec<String>)> {
        searches
            .keys()
            .map(|q| {
                let page = store.search(q, 100, None, NOW).unwrap();
                (q.clone(), page.events.into_iter().map(|e| e.id).collect())
            })
            .collect()
    };
    let check = |found: Vec<(String, Vec<String>)>, when: &str| {
        for (q, ids) in found {
            match changed.iter().find(|(c, _)| *c == q) {
                Some((_, n)) => assert_eq!(ids.len(), *n, "{q:?} {when}"),
                None => assert_eq!(ids, searches[&q], "{q:?} {when}"),
            }
        }
    };
    let mut store = Store::open(&db).unwrap();
    assert_eq!(all_events(store.connection()), before, "every event kept");
    // Before its text is indexed (every event read) and after.
    assert!(store.text_index_status().unwrap().pending_events > 0);
    check(results(&store), "before the index is built");
    store.finish_text_index(&mut |_| {}).unwrap();
    assert_eq!(store.text_index_status().unwrap().pending_events, 0);
    check(results(&store), "with the index");
    let key = std::fs::read_to_string("tests/fixtures/stores/fixture-ops-v9.pub").unwrap();
    let key = VerifierKey::parse(key.trim()).unwrap();
    let report = store.check(&[key], &mut |_| true).unwrap();
    assert!(report.ok, "{:?}", report.problems);
}

/// An archive numbered 2^63 - 1 (review finding, 2026-12-08): the format allows sequences up to 2^64 - 1, SQLite's
/// integers stop at 2^63 - 1 and the next archive's number must fit too. The import stopped with "out of range
/// integral type conversion" and imported none of the archives after it; it now refuses that one by name.
#[test]
fn an_archive_numbered_past_what_a_store_holds_is_refused_alone() {
    use auditlens::archive::{self, ChainLines, Manifest};
    use auditlens::checkpoint::Checkpoint;
    use auditlens::note::Note;
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let k = key("ops");
    let input = write_lines(
        dir.path(),
        "e.jsonl",
        &[r#"{"time":"2026-03-01T10:00:00Z","actor":"a","action":"get"}"#.to_string()],
    );
    let big = seal_to(
        dir.path(),
        "big.zip",
        &k,
        "example.com/big",
        None,
        std::slice::from_ref(&input),
    );
    let other = seal_to(
        dir.path(),
        "other.zip",
        &k,
        "example.com/other",
        None,
        &[input],
    );
    let mut entries = read_entries(&big);
    let sequence = i64::MAX as u64;
    let mut manifest: Manifest =
        serde_json::from_slice(entry(&mut entries, archive::MANIFEST)).unwrap();
    manifest.sequence = sequence;
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    let note = Note::parse(entry(&mut entries, archive::CHECKPOINT)).unwrap();
    let mut cp = Checkpoint::parse(&note.text).unwrap();
    let chain = ChainLines::from_checkpoint(&cp).unwrap();
    cp.extensions = ChainLines {
        sequence,
        chain_start: chain.chain_start,
        chain_end: chain.chain_end,
        manifest_sha256: Sha256::digest(&manifest_bytes).into(),
    }
    .to_extensions();
    *entry(&mut entries, archive::MANIFEST) = manifest_bytes;
    *entry(&mut entries, archive::CHECKPOINT) = k.sign(&cp.to_text()).unwrap().into_bytes();
    write_entries(&big, &entries);
    let db = dir.path().join("s.db").display().to_string();
    let pubk = dir.path().join("ops.pub");
    std::fs::write(&pubk, k.verifier().to_string()).unwrap();
    let pubk = pubk.display().to_string();
    let o = auditlens(&["verify", "--trust", &pubk, big.to_str().unwrap()]);
    let said = text(&o.stdout) + &text(&o.stderr);
    assert!(said.contains("VERIFIED"), "{said}");
    let o = auditlens(&[
        "import",
        "--db",
        &db,
        "--trust",
        &pubk,
        big.to_str().unwrap(),
        other.to_str().unwrap(),
    ]);
    let said = text(&o.stdout) + &text(&o.stderr);
    assert_eq!(code(&o), 1, "{said}");
    assert!(
        said.contains("sequence 9223372036854775807 is larger than a store holds"),
        "{said}"
    );
    let o = auditlens(&["search", "--db", &db, "--count", "origin:example.com/other"]);
    assert_eq!(text(&o.stdout).trim(), "1");
}
