//! `check` against a database edited by a hostile auditee (issue 11, attack 5): a real store built by the real
//! binary from archives sealed from real fixture logs, then edited with plain SQL the way someone holding the
//! file would. Each edit must make `auditlens check` exit 1 and name what was found; the untouched store passes.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::*;
use rusqlite::Connection;

const K8S: &str = "example.com/prod/k8s";
const CT: &str = "aws/111122223333/trail";

/// Three archives of one origin (the real Kubernetes audit log in three parts, chained), one CloudTrail archive
/// of another origin, all sealed by `ops-prod`; keys made by `keygen`.
struct Lab {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    db: PathBuf,
}

impl Lab {
    fn new() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let lab = Lab {
            db: dir.join("store.db"),
            dir,
            _tmp: tmp,
        };
        for name in ["ops-prod", "other-team"] {
            let o = auditlens(&["keygen", "--name", name, "--out", &lab.p("")]);
            assert_eq!(code(&o), 0, "{}", text(&o.stderr));
        }
        let log = std::fs::read(fixture(K8S_LOG)).unwrap();
        let lines = event_lines(&log);
        assert_eq!(lines.len(), 37);
        for (i, part) in [&lines[..12], &lines[12..25], &lines[25..]]
            .iter()
            .enumerate()
        {
            std::fs::write(lab.dir.join(format!("part{}.log", i + 1)), join_lines(part)).unwrap();
        }
        lab.seal("k8s-1.zip", "ops-prod", K8S, None, "part1.log");
        lab.seal("k8s-2.zip", "ops-prod", K8S, Some("k8s-1.zip"), "part2.log");
        lab.seal("k8s-3.zip", "ops-prod", K8S, Some("k8s-2.zip"), "part3.log");
        lab.seal(
            "ct.zip",
            "ops-prod",
            CT,
            None,
            &fixture(CLOUDTRAIL_LOG).display().to_string(),
        );
        lab
    }
    fn p(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
    fn seal(&self, out: &str, key: &str, origin: &str, prev: Option<&str>, input: &str) {
        let key = self.p(&format!("{key}.key"));
        let out = self.p(out);
        let input = if Path::new(input).is_absolute() {
            input.to_string()
        } else {
            self.p(input)
        };
        let prev = prev.map(|p| self.p(p));
        let mut args = vec!["seal", "--key", &key, "--origin", origin, "--out", &out];
        if let Some(p) = &prev {
            args.extend(["--prev", p]);
        }
        args.push(&input);
        let o = auditlens(&args);
        assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    }
    /// Imports with the given trusted keys (names); asserts the exit code.
    fn import(&self, trusted: &[&str], extra: &[&str], archives: &[&str], expected: i32) {
        let db = self.db.display().to_string();
        let keys: Vec<String> = trusted
            .iter()
            .map(|k| self.p(&format!("{k}.pub")))
            .collect();
        let paths: Vec<String> = archives.iter().map(|a| self.p(a)).collect();
        let mut args = vec!["import", "--db", &db];
        for k in &keys {
            args.extend(["--trust", k]);
        }
        args.extend(extra);
        args.extend(paths.iter().map(String::as_str));
        let o = auditlens(&args);
        assert_eq!(code(&o), expected, "{}{}", text(&o.stdout), text(&o.stderr));
    }
    /// The whole store: the three k8s archives and the CloudTrail one.
    fn full() -> Lab {
        let lab = Lab::new();
        lab.import(
            &["ops-prod"],
            &[],
            &["k8s-1.zip", "k8s-2.zip", "k8s-3.zip", "ct.zip"],
            0,
        );
        lab
    }
    fn check(&self, trusted: &[&str], json: bool) -> Output {
        let db = self.db.display().to_string();
        let keys: Vec<String> = trusted
            .iter()
            .map(|k| self.p(&format!("{k}.pub")))
            .collect();
        let mut args = vec!["check", "--db", &db];
        for k in &keys {
            args.extend(["--trust", k]);
        }
        if json {
            args.push("--json");
        }
        auditlens(&args)
    }
    /// Runs SQL on the full-text index file, with the store attached as `store`.
    fn index_sql(&self, sql: &str) {
        let conn = Connection::open(auditlens::store::text_index::path_of(&self.db)).unwrap();
        conn.execute("ATTACH ?1 AS store", [self.db.display().to_string()])
            .unwrap();
        conn.execute_batch(sql).unwrap();
    }
    /// Removes the full-text index file (it is rebuilt from the events).
    fn drop_index(&self) {
        let path = auditlens::store::text_index::path_of(&self.db);
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
    fn sql(&self, sql: &str) {
        Connection::open(&self.db)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
    }
    fn archive_id(&self, origin: &str, sequence: u64) -> i64 {
        Connection::open(&self.db)
            .unwrap()
            .query_row(
                "SELECT id FROM archives WHERE origin = ?1 AND sequence = ?2",
                rusqlite::params![origin, sequence],
                |r| r.get(0),
            )
            .unwrap()
    }
    /// `check --trust ops-prod.pub` exits 1 and its human output names each of `needles`; the JSON lists them.
    fn assert_found(&self, needles: &[&str]) {
        let o = self.check(&["ops-prod"], false);
        let (out, err) = (text(&o.stdout), text(&o.stderr));
        assert_eq!(code(&o), 1, "check passed a hostile store:\n{out}{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains("NOT OK"), "{err}");
        for n in needles {
            assert!(err.contains(n), "expected {n:?} in:\n{err}");
        }
        let o = self.check(&["ops-prod"], true);
        assert_eq!(code(&o), 1);
        let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(report["ok"], false);
        let messages: Vec<String> = report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["message"].as_str().unwrap().to_string())
            .collect();
        for n in needles {
            // A needle may name the place (the human output's prefix) rather than the message.
            let place_or_message = messages.iter().any(|m| m.contains(n))
                || report["problems"].as_array().unwrap().iter().any(|p| {
                    format!(
                        "{} sequence {}",
                        p["origin"].as_str().unwrap_or(""),
                        p["sequence"]
                    )
                    .contains(n)
                });
            assert!(place_or_message, "expected {n:?} in {messages:#?}");
        }
    }
}

#[test]
fn an_untouched_store_passes() {
    let lab = Lab::full();
    let o = lab.check(&["ops-prod"], false);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        text(&o.stdout).starts_with("OK: 4 archives, 56 events re-verified"),
        "{}",
        text(&o.stdout)
    );
    let o = lab.check(&["ops-prod"], true);
    assert_eq!(code(&o), 0);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["archives_checked"], 4);
    assert_eq!(report["events_checked"], 56);
    assert_eq!(report["problems"], serde_json::json!([]));
}

#[test]
fn without_trust_check_cannot_confirm_verified_and_says_so() {
    let lab = Lab::full();
    let o = lab.check(&[], false);
    let err = text(&o.stderr);
    assert_eq!(code(&o), 1, "{}{err}", text(&o.stdout));
    assert!(
        err.contains("no trusted key was given"),
        "expected the missing trust to be named:\n{err}"
    );
    let ops = Connection::open(&lab.db)
        .unwrap()
        .query_row("SELECT signer_fingerprint FROM archives LIMIT 1", [], |r| {
            r.get::<_, String>(0)
        })
        .unwrap();
    assert!(err.contains(&ops), "the signer is named:\n{err}");
}

#[test]
fn a_trigger_that_deletes_what_a_later_import_stores_is_found() {
    let lab = Lab::new();
    lab.import(&["ops-prod"], &[], &["k8s-1.zip", "k8s-2.zip", "ct.zip"], 0);
    lab.sql(
        "CREATE TRIGGER hide_alice AFTER INSERT ON events WHEN new.raw LIKE '%alice%'
         BEGIN DELETE FROM events WHERE id = new.id; END;",
    );
    // The later import "succeeds": the trigger removed alice's events behind its back.
    lab.import(&["ops-prod"], &[], &["k8s-3.zip"], 0);
    let hidden: i64 = Connection::open(&lab.db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM events WHERE raw LIKE '%alice%' AND archive_id = ?1",
            [lab.archive_id(K8S, 3)],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(hidden, 0, "the trigger did not fire");
    lab.assert_found(&[
        "trigger hide_alice",
        "example.com/prod/k8s sequence 3",
        "events 9..11 are missing",
    ]);
}

#[test]
fn a_view_is_found() {
    let lab = Lab::full();
    lab.sql("CREATE VIEW recent AS SELECT id, raw FROM events WHERE ts > 0;");
    lab.assert_found(&["view recent"]);
}

#[test]
fn an_extra_table_is_found() {
    let lab = Lab::full();
    lab.sql("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('hello');");
    lab.assert_found(&["table notes"]);
}

#[test]
fn a_dropped_unique_index_is_found() {
    let lab = Lab::full();
    lab.sql("DROP INDEX archives_origin_sequence;");
    lab.assert_found(&["index archives_origin_sequence is missing"]);
}

#[test]
fn a_full_text_index_rebuilt_with_another_tokenizer_is_found() {
    let lab = Lab::full();
    lab.index_sql(
        "DROP TABLE events_text;
         CREATE VIRTUAL TABLE events_text USING fts5(words, content='', contentless_delete=1, tokenize='unicode61');
         INSERT INTO events_text(events_text, rank) VALUES ('automerge', 16);",
    );
    lab.assert_found(&[
        "table events_text differs",
        "tokenize='unicode61'",
        "events are not in the full-text index",
    ]);
}

#[test]
fn events_missing_from_an_index_that_claims_their_archive_are_found() {
    let lab = Lab::full();
    // LIKE ignores ASCII case: alice's 3 Kubernetes events and the 6 CloudTrail records naming Alice.
    lab.index_sql(
        "DELETE FROM events_text WHERE rowid IN (SELECT id FROM store.events WHERE raw LIKE '%alice%');",
    );
    lab.assert_found(&[
        "9 events are not in the full-text index, which says it holds their archive",
    ]);
}

#[test]
fn an_event_removed_from_the_full_text_index_only_is_found() {
    let lab = Lab::full();
    lab.index_sql(
        "DELETE FROM events_text WHERE rowid = (SELECT id FROM store.events WHERE raw LIKE '%alice%' LIMIT 1);",
    );
    lab.assert_found(&["1 event is not in the full-text index"]);
}

#[test]
fn an_event_indexed_under_other_words_is_found() {
    let lab = Lab::full();
    // The row stays in the index (its document list is complete), but under words it does not contain.
    lab.index_sql(
        "DELETE FROM events_text WHERE rowid = (SELECT id FROM store.events WHERE raw LIKE '%alice%' LIMIT 1);
         INSERT INTO events_text(rowid, words)
           SELECT id, 'nothing to see here' FROM store.events WHERE raw LIKE '%alice%' LIMIT 1;",
    );
    lab.assert_found(&["1 event is indexed under other words than its own"]);
}

/// An event's entry taken out of the index, its word count and the index's totals put back (review finding,
/// 2026-12-08): every count agrees, and a search for its words no longer finds it. The index's own entries are
/// compared with the events' words.
#[test]
fn an_event_taken_out_of_the_index_behind_its_counts_is_found() {
    let lab = Lab::full();
    lab.index_sql(
        "CREATE TEMP TABLE keep AS
           SELECT d.id AS id, d.sz AS sz, (SELECT block FROM events_text_data WHERE id = 1) AS totals
           FROM events_text_docsize d
           WHERE d.id = (SELECT id FROM store.events WHERE raw LIKE '%alice%' LIMIT 1);
         DELETE FROM events_text WHERE rowid = (SELECT id FROM keep);
         INSERT INTO events_text_docsize(id, sz) SELECT id, sz FROM keep;
         UPDATE events_text_data SET block = (SELECT totals FROM keep) WHERE id = 1;",
    );
    let db = lab.db.display().to_string();
    let o = auditlens(&["search", "--db", &db, "--count", "alice"]);
    assert_eq!(text(&o.stdout).trim(), "8", "{}", text(&o.stderr));
    lab.assert_found(&["the full-text index's words are not the events' own"]);
}

#[test]
fn a_changed_full_text_config_is_found() {
    let lab = Lab::full();
    lab.index_sql("INSERT INTO events_text(events_text, rank) VALUES ('automerge', 2);");
    lab.assert_found(&["events_text_config", "automerge"]);
}

#[test]
fn an_index_of_another_store_or_epoch_is_not_believed() {
    let lab = Lab::full();
    // Everything about alice gone from the index, and the index said to be of another epoch of the store: check
    // does not believe it (no finding), and a search reads the events instead.
    lab.index_sql(
        "DELETE FROM events_text WHERE rowid IN (SELECT id FROM store.events WHERE raw LIKE '%alice%');
         UPDATE meta SET value = 'x' WHERE key = 'epoch';",
    );
    let o = lab.check(&["ops-prod"], false);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let db = lab.db.display().to_string();
    let o = auditlens(&["search", "--db", &db, "--count", "alice"]);
    assert_eq!(text(&o.stdout).trim(), "9", "{}", text(&o.stderr));
}

#[test]
fn a_deleted_middle_archive_is_found() {
    let lab = Lab::full();
    let id = lab.archive_id(K8S, 2);
    // Everything of sequence 2, and the full-text index rebuilt so that nothing else points at it.
    lab.sql(&format!(
        "DELETE FROM events WHERE archive_id = {id};
         DELETE FROM rollup_hourly WHERE archive_id = {id};
         DELETE FROM rollup_actors WHERE archive_id = {id};
         DELETE FROM rollup_minutely WHERE archive_id = {id};
         DELETE FROM rollup_minute_actors WHERE archive_id = {id};
         DELETE FROM archives WHERE id = {id};"
    ));
    lab.drop_index();
    lab.assert_found(&["sequence 2 is missing"]);
}

#[test]
fn a_verified_archive_edited_to_untrusted_or_failed_is_found() {
    let lab = Lab::full();
    let id = lab.archive_id(K8S, 3);
    lab.sql(&format!(
        "UPDATE archives SET status = 'untrusted' WHERE id = {id};"
    ));
    lab.assert_found(&["marked untrusted, but its signer"]);
    // The newest archive marked failed disappears from the verified evidence: the stored bytes say otherwise.
    lab.sql(&format!(
        "UPDATE archives SET status = 'failed' WHERE id = {id};"
    ));
    lab.assert_found(&["marked failed, but it verifies"]);
}

#[test]
fn an_untrusted_archive_edited_to_verified_is_found_with_or_without_trust() {
    let lab = Lab::full();
    lab.seal(
        "other.zip",
        "other-team",
        "example.com/other",
        None,
        "part1.log",
    );
    lab.import(&["ops-prod"], &["--keep-failed"], &["other.zip"], 1);
    lab.sql("UPDATE archives SET status = 'verified' WHERE origin = 'example.com/other';");
    lab.assert_found(&["marked verified, but its signer other-team"]);
    // Without --trust: nothing confirms it, and the check says so.
    let o = lab.check(&[], false);
    assert_eq!(code(&o), 1);
    assert!(
        text(&o.stderr).contains("other-team"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn an_edited_signer_name_or_fingerprint_is_found() {
    let lab = Lab::full();
    let id = lab.archive_id(K8S, 1);
    lab.sql(&format!(
        "UPDATE archives SET signer_name = 'Trusted Auditor' WHERE id = {id};"
    ));
    lab.assert_found(&[
        "example.com/prod/k8s sequence 1",
        "stored signer name \"Trusted Auditor\"",
    ]);
    let lab = Lab::full();
    let id = lab.archive_id(K8S, 2);
    lab.sql(&format!(
        "UPDATE archives SET signer_fingerprint = 'SHA256:forged' WHERE id = {id};"
    ));
    lab.assert_found(&[
        "example.com/prod/k8s sequence 2",
        "stored signer fingerprint \"SHA256:forged\"",
    ]);
}

#[test]
fn an_edited_summary_row_is_found() {
    let lab = Lab::full();
    lab.sql(
        "UPDATE rollup_hourly SET n = n + 1 WHERE rowid = (SELECT min(rowid) FROM rollup_hourly);
         UPDATE rollup_actors SET n = n - 1 WHERE rowid = (SELECT min(rowid) FROM rollup_actors);",
    );
    lab.assert_found(&["rollup_hourly", "rollup_actors"]);
}

#[test]
fn a_signer_change_inside_an_origin_is_reported_but_is_not_a_failure() {
    let lab = Lab::new();
    lab.seal(
        "k8s-3b.zip",
        "other-team",
        K8S,
        Some("k8s-2.zip"),
        "part3.log",
    );
    // Two signers of one origin need a policy grant each (bare keys pin an origin to its first signer).
    let policy = lab.p("policy.txt");
    let key_of = |name: &str| std::fs::read_to_string(lab.p(&format!("{name}.pub"))).unwrap();
    std::fs::write(
        &policy,
        format!(
            "example.com/prod/k8s {}example.com/prod/k8s {}",
            key_of("ops-prod"),
            key_of("other-team")
        ),
    )
    .unwrap();
    lab.import(
        &[],
        &["--trust-policy", &policy],
        &["k8s-1.zip", "k8s-2.zip", "k8s-3b.zip"],
        0,
    );
    let db = lab.db.display().to_string();
    let check = |json: bool| {
        let mut args = vec!["check", "--db", &db, "--trust-policy", &policy];
        if json {
            args.push("--json");
        }
        auditlens(&args)
    };
    let o = check(false);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(code(&o), 0, "{out}{err}");
    assert!(
        out.contains("example.com/prod/k8s sequence 3: signer changes from ops-prod"),
        "{out}"
    );
    let o = check(true);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["notices"][0]["sequence"], 3);
}

#[test]
fn a_fork_stored_behind_a_dropped_unique_index_is_found() {
    let lab = Lab::full();
    let id = lab.archive_id(K8S, 2);
    lab.sql(&format!(
        "DROP INDEX archives_origin_sequence;
         INSERT INTO archives (path, status, failure, origin, sequence, source_kind, events, bytes, time_first,
                time_last, signer_key, signer_name, signer_fingerprint, root, chain_start, chain_end,
                manifest_sha256, checkpoint, manifest, imported_at, mapping)
           SELECT path, status, failure, origin, sequence, source_kind, events, bytes, time_first, time_last,
                  signer_key, signer_name, signer_fingerprint, root, chain_start, chain_end, manifest_sha256,
                  checkpoint, manifest, imported_at, mapping
           FROM archives WHERE id = {id};"
    ));
    lab.assert_found(&[
        "index archives_origin_sequence is missing",
        "fork: archives #2 and #5 are both marked verified for this sequence",
    ]);
}

#[test]
fn a_middle_archive_replaced_by_another_signed_one_breaks_the_chain() {
    let lab = Lab::new();
    lab.import(
        &["ops-prod"],
        &[],
        &["k8s-1.zip", "k8s-2.zip", "k8s-3.zip"],
        0,
    );
    // Another sequence 2, validly signed by the same key and continuing sequence 1, from another store.
    lab.seal(
        "k8s-2b.zip",
        "ops-prod",
        K8S,
        Some("k8s-1.zip"),
        &fixture(CLOUDTRAIL_LOG).display().to_string(),
    );
    let other = lab.dir.join("other.db");
    let o = auditlens(&[
        "import",
        "--db",
        other.to_str().unwrap(),
        "--trust",
        &lab.p("ops-prod.pub"),
        &lab.p("k8s-1.zip"),
        &lab.p("k8s-2b.zip"),
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let id = lab.archive_id(K8S, 2);
    lab.sql(&format!(
        "ATTACH '{}' AS other;
         DELETE FROM events WHERE archive_id = {id};
         DELETE FROM rollup_hourly WHERE archive_id = {id};
         DELETE FROM rollup_actors WHERE archive_id = {id};
         DELETE FROM rollup_minutely WHERE archive_id = {id};
         DELETE FROM rollup_minute_actors WHERE archive_id = {id};
         DELETE FROM archives WHERE id = {id};
         INSERT INTO archives SELECT * FROM other.archives WHERE sequence = 2;
         INSERT INTO events SELECT * FROM other.events WHERE archive_id = {id};
         INSERT INTO rollup_hourly SELECT * FROM other.rollup_hourly WHERE archive_id = {id};
         INSERT INTO rollup_actors SELECT * FROM other.rollup_actors WHERE archive_id = {id};
         INSERT INTO rollup_minutely SELECT * FROM other.rollup_minutely WHERE archive_id = {id};
         INSERT INTO rollup_minute_actors SELECT * FROM other.rollup_minute_actors WHERE archive_id = {id};",
        other.display()
    ));
    lab.drop_index();
    lab.assert_found(&[
        "example.com/prod/k8s sequence 3",
        "the chain is broken: sequence 3 does not start where sequence 2 ends",
    ]);
    // Nothing else is wrong: each archive on its own re-verifies.
    let o = lab.check(&["ops-prod"], true);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        report["problems"].as_array().unwrap().len(),
        1,
        "{report:#}"
    );
}

#[test]
fn values_of_types_the_store_never_writes_are_findings_not_a_crash() {
    let lab = Lab::full();
    let id = lab.archive_id(K8S, 2);
    lab.sql(&format!(
        "UPDATE events SET idx = -1 WHERE archive_id = {id} AND idx = 4;
         UPDATE events SET ts = 'yesterday' WHERE archive_id = {id} AND idx = 5;
         UPDATE archives SET sequence = 0 WHERE origin = '{CT}';"
    ));
    lab.assert_found(&[
        "2 event rows hold a value of a type the store never writes",
        "events 4..5 are missing",
        "stored sequence Some(0) differs from the signed 1",
    ]);
}

/// SQLite's integrity check and the summary tables are checked on a second connection and thread while the
/// archives and the full-text index are checked on the first: the findings still come in one order, the
/// archives' before the summary tables' before the full-text index's, whichever thread finishes first.
#[test]
fn findings_of_both_threads_come_in_one_order() {
    let lab = Lab::full();
    lab.sql(
        "UPDATE events SET raw = raw || ' ' WHERE id = (SELECT min(id) FROM events WHERE raw LIKE '%alice%');
         UPDATE rollup_hourly SET n = n + 1 WHERE rowid = (SELECT min(rowid) FROM rollup_hourly);",
    );
    lab.index_sql(
        "DELETE FROM events_text WHERE rowid = (SELECT max(id) FROM store.events WHERE raw LIKE '%bob%');",
    );
    lab.assert_found(&["rollup_hourly", "1 event is not in the full-text index"]);
    let o = lab.check(&["ops-prod"], true);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let problems = report["problems"].as_array().unwrap();
    let first = |what: &dyn Fn(&serde_json::Value) -> bool| {
        problems
            .iter()
            .position(what)
            .unwrap_or_else(|| panic!("not found in {problems:#?}"))
    };
    let event = first(&|p| !p["event_index"].is_null());
    let summary = first(&|p| p["message"].as_str().unwrap().contains("rollup_hourly"));
    let text = first(&|p| p["message"].as_str().unwrap().contains("full-text index"));
    assert!(event < summary && summary < text, "{problems:#?}");
    // The same findings, in the same order, every time.
    for _ in 0..3 {
        let again = lab.check(&["ops-prod"], true);
        let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
        assert_eq!(again["problems"], report["problems"]);
    }
}

/// A check cancelled while the other thread still runs SQLite's integrity check returns at once as
/// cancelled: that thread's query is interrupted, not waited for, and its answer is not mistaken for a finding.
#[test]
fn a_cancelled_check_stops_both_threads() {
    let lab = Lab::full();
    let store = auditlens::store::Store::open(&lab.db).unwrap();
    let key = auditlens::note::VerifierKey::parse(
        std::fs::read_to_string(lab.p("ops-prod.pub"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    let mut calls = 0;
    let trusted = [key];
    let result = store.check(&trusted, &mut |_| {
        calls += 1;
        false
    });
    match result {
        Err(e) => assert_eq!(e.to_string(), "check cancelled"),
        Ok(r) => panic!("a cancelled check returned a report: {r:?}"),
    }
    assert_eq!(calls, 1);
    // And the store is left as it was: a whole check passes.
    let report = store.check(&trusted, &mut |_| true).unwrap();
    assert!(report.ok, "{:?}", report.problems);
}

/// A store opened read-only (the library's `Store::open_read_only`) is checked like any other: FTS5's own
/// integrity check cannot run there (it is an INSERT of a command), which is said as a notice, never reported as
/// a damaged index; the rest of the full-text checks still find what they find.
#[test]
fn a_store_opened_read_only_is_checked_without_a_false_finding() {
    let lab = Lab::full();
    let key = auditlens::note::VerifierKey::parse(
        std::fs::read_to_string(lab.p("ops-prod.pub"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    let trusted = [key];
    let reader = auditlens::store::Store::open_read_only(&lab.db).unwrap();
    let report = reader.check(&trusted, &mut |_| true).unwrap();
    assert!(report.ok, "{:?}", report.problems);
    assert!(
        report
            .notices
            .iter()
            .any(|n| n.message.contains("FTS5 'integrity-check') was not run")),
        "{:?}",
        report.notices
    );
    // Writable: FTS5's check runs, and no such notice.
    let writer = auditlens::store::Store::open(&lab.db).unwrap();
    let report = writer.check(&trusted, &mut |_| true).unwrap();
    assert!(report.ok, "{:?}", report.problems);
    assert!(
        !report
            .notices
            .iter()
            .any(|n| n.message.contains("integrity-check")),
        "{:?}",
        report.notices
    );
    drop(writer);
    // An event removed from the index is still found through a read-only handle.
    lab.index_sql(
        "DELETE FROM events_text WHERE rowid = (SELECT max(id) FROM store.events WHERE raw LIKE '%bob%');",
    );
    let reader = auditlens::store::Store::open_read_only(&lab.db).unwrap();
    let report = reader.check(&trusted, &mut |_| true).unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.message.contains("1 event is not in the full-text index")),
        "{:?}",
        report.problems
    );
}
