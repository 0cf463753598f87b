//! Importing AWS CloudTrail exports into the database (docs/cloudtrail.md section 5), through the CLI: an export
//! generated in AWS's exact layout and signed with the test key (the generator of cloudtrail_digest.rs) imports
//! only when it verifies in full; its events are searchable; `check` re-verifies the stored digests and log
//! files with the AWS keys given, and finds every edit of the database.

use std::path::{Path, PathBuf};

use chrono::Duration;
use rusqlite::Connection;
use serde_json::Value;

use super::cloudtrail_digest::{
    ACCOUNT, Export, HOURS, REGIONS, TRAIL, backfill, extra_log, generate, gunzip, gz, keys_json,
    t0, write,
};
use super::common::{auditlens, code, text};

/// Events per region: one record in each of 2 log files of every hour but the empty one.
const EVENTS_PER_REGION: usize = (HOURS - 1) * 2;

fn keys_file(e: &Export) -> PathBuf {
    let p = e.root().join("..").join(format!(
        "{}-keys.json",
        e.root().file_name().and_then(|n| n.to_str()).unwrap_or("x")
    ));
    write(
        &p,
        keys_json(t0() - Duration::days(30), t0() + Duration::days(30)).as_bytes(),
    );
    p
}

fn import(db: &Path, keys: &Path, export: &Path) -> std::process::Output {
    auditlens(&[
        "import",
        "--db",
        &db.display().to_string(),
        "--aws-keys",
        &keys.display().to_string(),
        &export.display().to_string(),
    ])
}

fn check(db: &Path, keys: Option<&Path>) -> std::process::Output {
    let mut args = vec!["check".to_string(), "--db".into(), db.display().to_string()];
    if let Some(k) = keys {
        args.push("--aws-keys".into());
        args.push(k.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    auditlens(&args)
}

fn count(db: &Path, query: &str) -> u64 {
    let o = auditlens(&[
        "search",
        "--db",
        &db.display().to_string(),
        "--count",
        query,
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    text(&o.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{}", text(&o.stdout)))
}

#[test]
fn a_verified_export_imports_is_searchable_and_rechecks() {
    let e = generate();
    let keys = keys_file(&e);
    let work = tempfile::tempdir().expect("tempdir");
    let db = work.path().join("store.db");

    let o = import(&db, &keys, e.root());
    let out = text(&o.stdout);
    assert_eq!(code(&o), 0, "{out}{}", text(&o.stderr));
    let total = EVENTS_PER_REGION * REGIONS.len();
    assert!(
        out.contains(&format!(
            "verified with AWS's signatures and imported {total} events from 2 trails"
        )),
        "{out}"
    );
    for region in REGIONS {
        assert!(
            out.contains(&format!("aws-cloudtrail:{ACCOUNT}/{region}/{TRAIL}")),
            "{out}"
        );
    }
    assert!(out.contains("signed by AWS CloudTrail (key "), "{out}");
    // Without --aws-account, the import says which accounts it took on AWS's signature alone.
    assert!(
        out.contains(&format!(
            "accounts not pinned (--aws-account): {ACCOUNT} taken on AWS's signature alone"
        )),
        "{out}"
    );
    assert_eq!(count(&db, "source:cloudtrail"), total as u64);
    assert_eq!(count(&db, "action:\"s3:GetObject\""), total as u64);
    assert_eq!(count(&db, "actor:user01"), REGIONS.len() as u64);
    assert_eq!(count(&db, "status:verified"), total as u64);
    // Free text, once indexed (import returns when it is).
    assert_eq!(count(&db, "\"203.0.113.7\""), total as u64);

    // The JSON of a search names where each event came from.
    let o = auditlens(&[
        "search",
        "--db",
        &db.display().to_string(),
        "--json",
        "--limit",
        "1",
        "actor:user00",
    ]);
    let first: Value =
        serde_json::from_str(text(&o.stdout).lines().next().expect("a line")).expect("json");
    assert_eq!(first["verified"], true, "{first}");
    assert_eq!(first["evidence"], "aws-cloudtrail", "{first}");
    assert!(
        first["origin"]
            .as_str()
            .is_some_and(|o| o.starts_with("aws-cloudtrail:")),
        "{first}"
    );

    // check re-verifies with the AWS keys given now; without them it cannot confirm.
    let o = check(&db, Some(&keys));
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    let o = check(&db, None);
    assert_eq!(code(&o), 1, "{}", text(&o.stdout));
    assert!(
        text(&o.stderr).contains("no AWS keys were given"),
        "{}",
        text(&o.stderr)
    );

    // Again: nothing changes.
    let o = import(&db, &keys, e.root());
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("already imported"),
        "{}",
        text(&o.stdout)
    );
    assert_eq!(count(&db, "source:cloudtrail"), total as u64);
    let conn = Connection::open(&db).expect("open");
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM archives", [], |r| r.get(0))
        .expect("rows");
    assert_eq!(rows, 2);
}

#[test]
fn a_zip_of_the_export_imports_like_the_folder() {
    let e = generate();
    let keys = keys_file(&e);
    let work = tempfile::tempdir().expect("tempdir");
    let zip_path = work.path().join("export.zip");
    let status = std::process::Command::new("python3")
        .args([
            "-c",
            "import shutil,sys; shutil.make_archive(sys.argv[1][:-4], 'zip', sys.argv[2])",
        ])
        .arg(&zip_path)
        .arg(e.root())
        .status()
        .expect("python3");
    assert!(status.success());
    let db = work.path().join("store.db");
    let o = import(&db, &keys, &zip_path);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(
        count(&db, "source:cloudtrail"),
        (EVENTS_PER_REGION * REGIONS.len()) as u64
    );
    let o = check(&db, Some(&keys));
    assert_eq!(code(&o), 0, "{}", text(&o.stdout));
}

#[test]
fn an_export_that_does_not_verify_stores_nothing_and_is_an_incident() {
    let e = generate();
    let keys = keys_file(&e);
    let log = &e.digests[1][3].logs[0];
    let mut content = gunzip(&std::fs::read(e.path(log)).expect("read"));
    content.extend_from_slice(b" ");
    write(&e.path(log), &gz(&content));
    let work = tempfile::tempdir().expect("tempdir");
    let db = work.path().join("store.db");
    let o = import(&db, &keys, e.root());
    assert_eq!(code(&o), 1, "{}", text(&o.stdout));
    let err = text(&o.stderr);
    assert!(err.contains("does not verify"), "{err}");
    assert!(err.contains("nothing was stored"), "{err}");
    assert!(err.contains(log.as_str()), "{err}");
    assert_eq!(count(&db, "source:cloudtrail"), 0);
    let conn = Connection::open(&db).expect("open");
    let (rows, incidents): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM archives), (SELECT count(*) FROM incidents WHERE kind = 'failed')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("counts");
    assert_eq!((rows, incidents), (0, 1));

    // Keys that do not cover the digests: refused the same way.
    let expired = e.root().join("..").join("expired-keys.json");
    write(
        &expired,
        keys_json(t0() - Duration::days(30), t0() - Duration::days(1)).as_bytes(),
    );
    let fresh = generate();
    let o = import(&db, &expired, fresh.root());
    assert_eq!(code(&o), 1);
    assert!(text(&o.stderr).contains("expired"), "{}", text(&o.stderr));
    // An export of another account than the audited one.
    let o = auditlens(&[
        "import",
        "--db",
        &db.display().to_string(),
        "--aws-keys",
        &keys.display().to_string(),
        "--aws-account",
        "999988887777",
        &fresh.root().display().to_string(),
    ]);
    assert_eq!(code(&o), 1);
    assert!(
        text(&o.stderr).contains("account_not_expected")
            || text(&o.stderr).contains("999988887777")
    );
    assert_eq!(count(&db, "source:cloudtrail"), 0);
    // Without keys: a usage error.
    let o = auditlens(&[
        "import",
        "--db",
        &db.display().to_string(),
        &fresh.root().display().to_string(),
    ]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("--aws-keys"),
        "{}",
        text(&o.stderr)
    );
}

/// Imports a fresh export into a new store and returns (export, keys, store dir, db).
pub(super) fn imported() -> (Export, PathBuf, tempfile::TempDir, PathBuf) {
    let e = generate();
    let keys = keys_file(&e);
    let work = tempfile::tempdir().expect("tempdir");
    let db = work.path().join("store.db");
    let o = import(&db, &keys, e.root());
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    (e, keys, work, db)
}

fn check_fails_with(db: &Path, keys: &Path, needle: &str) {
    let o = check(db, Some(keys));
    let out = text(&o.stdout) + &text(&o.stderr);
    assert_eq!(code(&o), 1, "{out}");
    assert!(out.contains(needle), "expected {needle:?} in:\n{out}");
}

#[test]
fn check_finds_every_edit_of_stored_cloudtrail_evidence() {
    // An event's bytes changed (with a matching leaf hash): not the record its log file holds.
    let (_e, keys, _w, db) = imported();
    let conn = Connection::open(&db).expect("open");
    let (id, raw): (i64, String) = conn
        .query_row(
            "SELECT id, raw FROM events WHERE actor = 'user01' ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("event");
    let forged = raw.replace("user01", "user99");
    let leaf = auditlens::merkle::leaf_hash(forged.as_bytes());
    conn.execute(
        "UPDATE events SET raw = ?1, leaf = ?2, actor = 'user99' WHERE id = ?3",
        rusqlite::params![forged, &leaf[..], id],
    )
    .expect("update");
    drop(conn);
    check_fails_with(&db, &keys, "not the record its stored log file holds");

    // Each edit of a freshly imported store, and what check says of it.
    let cases: [(&str, &[&dyn rusqlite::ToSql], &str); 9] = [
        // Stored paths that collide: a file where the others need a folder.
        (
            "UPDATE cloudtrail_files SET path = 'AWSLogs' WHERE rowid = (SELECT min(rowid) FROM cloudtrail_files WHERE kind = 'digest')",
            &[],
            "cannot be laid out as an export",
        ),
        // A stored log file replaced by another (its digest no longer matches).
        (
            "UPDATE cloudtrail_files SET content = ?1 WHERE rowid = (SELECT min(rowid) FROM cloudtrail_files WHERE kind = 'log')",
            &[&gz(br#"{"Records":[]}"#)],
            "does not verify",
        ),
        // A stored digest's signature changed.
        (
            "UPDATE cloudtrail_files SET signature = '00' || substr(signature, 3)
             WHERE rowid = (SELECT max(rowid) FROM cloudtrail_files WHERE kind = 'digest')",
            &[],
            "does not verify",
        ),
        // An event deleted.
        (
            "DELETE FROM events WHERE id = (SELECT max(id) FROM events)",
            &[],
            "missing",
        ),
        // A log file's events claimed to be stored elsewhere.
        (
            "UPDATE cloudtrail_files SET first_index = NULL WHERE rowid = (SELECT max(rowid) FROM cloudtrail_files WHERE kind = 'log')",
            &[],
            "no earlier archive holds its events",
        ),
        // A stored path that climbs out of the check's temporary folder.
        (
            "UPDATE cloudtrail_files SET path = '../../escape.json.gz' WHERE rowid = (SELECT min(rowid) FROM cloudtrail_files)",
            &[],
            "is not a relative path",
        ),
        // A log file's range moved.
        (
            "UPDATE cloudtrail_files SET first_index = first_index + 1 WHERE rowid = (SELECT max(rowid) FROM cloudtrail_files WHERE kind = 'log')",
            &[],
            "claims first event index",
        ),
        // A log file's record count changed.
        (
            "UPDATE cloudtrail_files SET records = records + 5 WHERE rowid = (SELECT max(rowid) FROM cloudtrail_files WHERE kind = 'log')",
            &[],
            "stored record count Some(6) differs from its 1",
        ),
        // The origin moved to another account.
        (
            "UPDATE archives SET origin = replace(origin, ?1, '999988887777') WHERE id = 1",
            &[&ACCOUNT],
            "differs from the verified digests'",
        ),
    ];
    for (sql, params, needle) in cases {
        let (_e, keys, _w, db) = imported();
        Connection::open(&db)
            .expect("open")
            .execute(sql, params)
            .expect("edit");
        check_fails_with(&db, &keys, needle);
    }
}

/// Copies the export, keeping the first `hours` hourly digests of each region and their log files; the newest
/// kept digest's signature (in its successor's `previousDigestSignature`) goes next to it as a head.json, as
/// `aws s3api head-object` prints it.
fn first_hours(e: &Export, hours: usize, to: &Path) {
    for (r, digests) in e.digests.iter().enumerate() {
        for (h, d) in digests.iter().enumerate().take(hours) {
            std::fs::create_dir_all(to.join(&d.rel).parent().expect("parent")).expect("mkdir");
            std::fs::copy(e.path(&d.rel), to.join(&d.rel)).expect("copy digest");
            for log in &d.logs {
                std::fs::create_dir_all(to.join(log).parent().expect("parent")).expect("mkdir");
                std::fs::copy(e.path(log), to.join(log)).expect("copy log");
            }
            if h == hours - 1 {
                let next: Value = serde_json::from_slice(&gunzip(
                    &std::fs::read(e.path(&e.digests[r][h + 1].rel)).expect("read"),
                ))
                .expect("digest json");
                let head = serde_json::json!({"Metadata": {"signature": next["previousDigestSignature"],
                    "signature-algorithm": "SHA256withRSA"}});
                write(
                    &to.join(format!("{}.head.json", d.rel)),
                    head.to_string().as_bytes(),
                );
            }
        }
    }
}

#[test]
fn a_later_export_that_overlaps_an_imported_one_adds_only_its_new_events() {
    let e = generate();
    let keys = keys_file(&e);
    let work = tempfile::tempdir().expect("tempdir");
    let early = work.path().join("early");
    first_hours(&e, 3, &early);
    let db = work.path().join("store.db");
    let o = import(&db, &keys, &early);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    // Hours 0 and 1 hold 2 events each, hour 2 none.
    assert_eq!(count(&db, "source:cloudtrail"), (4 * REGIONS.len()) as u64);

    let o = import(&db, &keys, e.root());
    let out = text(&o.stdout);
    assert_eq!(code(&o), 0, "{out}{}", text(&o.stderr));
    // Per region, the 4 log files of hours 0 and 1 were stored by the first import.
    assert_eq!(
        out.matches("(4 log files already stored with an earlier archive of this trail)")
            .count(),
        REGIONS.len(),
        "{out}"
    );
    assert!(out.contains("sequence 2"), "{out}");
    // Every event once.
    assert_eq!(
        count(&db, "source:cloudtrail"),
        (EVENTS_PER_REGION * REGIONS.len()) as u64
    );
    let o = check(&db, Some(&keys));
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));

    // Deleting the first import breaks what the second relies on: check names it.
    let conn = Connection::open(&db).expect("open");
    conn.execute_batch(
        "DELETE FROM events WHERE archive_id = 1; DELETE FROM cloudtrail_files WHERE archive_id = 1;
         DELETE FROM rollup_hourly WHERE archive_id = 1; DELETE FROM rollup_actors WHERE archive_id = 1;
         DELETE FROM rollup_minutely WHERE archive_id = 1; DELETE FROM rollup_minute_actors WHERE archive_id = 1;
         DELETE FROM archives WHERE id = 1;",
    )
    .expect("delete");
    drop(conn);
    let o = check(&db, Some(&keys));
    let all = text(&o.stdout) + &text(&o.stderr);
    assert_eq!(code(&o), 1, "{all}");
    assert!(all.contains("no earlier archive holds its events"), "{all}");
    assert!(
        all.contains("CloudTrail imports 1..1 of this trail are missing"),
        "{all}"
    );
}

#[test]
fn cloudtrail_events_go_to_bundles_and_parquet_only_once_they_re_verify() {
    let (_e, keys, work, db) = imported();
    let dbs = db.display().to_string();
    let key_dir = work.path().join("keys");
    let o = auditlens(&[
        "keygen",
        "--name",
        "aud",
        "--out",
        &key_dir.display().to_string(),
    ]);
    assert_eq!(code(&o), 0);
    let key = key_dir.join("aud.key").display().to_string();
    assert_eq!(
        count(&db, "status:aws-cloudtrail"),
        (EVENTS_PER_REGION * REGIONS.len()) as u64
    );
    assert_eq!(count(&db, "status:verified -status:aws-cloudtrail"), 0);

    let out = work.path().join("b.zip").display().to_string();
    let o = auditlens(&[
        "export",
        "--db",
        &dbs,
        "--query",
        "source:cloudtrail",
        "--key",
        &key,
        "--purpose",
        "test",
        "--out",
        &out,
    ]);
    // Bundles carry CloudTrail events only with the AWS keys that re-verify them (tests/it/cloudtrail_bundle.rs).
    assert_eq!(code(&o), 1);
    assert!(
        text(&o.stderr).contains("give the AWS public keys (--aws-keys KEYS.json)"),
        "{}",
        text(&o.stderr)
    );
    assert!(!Path::new(&out).exists());

    // OCSF Parquet: only once the stored exports re-verify with the AWS keys given.
    let dir = work.path().join("pq").display().to_string();
    let o = auditlens(&["export-parquet", "--db", &dbs, "--key", &key, "--out", &dir]);
    assert_eq!(code(&o), 1);
    assert!(
        text(&o.stderr).contains("--aws-keys KEYS.json"),
        "{}",
        text(&o.stderr)
    );
    assert!(!Path::new(&dir).exists());
    let keys = keys.display().to_string();
    let o = auditlens(&[
        "export-parquet",
        "--db",
        &dbs,
        "--key",
        &key,
        "--aws-keys",
        &keys,
        "--out",
        &dir,
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let summary: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(
        summary["rows"],
        (EVENTS_PER_REGION * REGIONS.len()) as u64,
        "{summary}"
    );
    // A store edited behind the tool's back: refused, nothing written.
    let conn = Connection::open(&db).expect("open");
    conn.execute(
        "UPDATE cloudtrail_files SET content = ?1 WHERE rowid = (SELECT min(rowid) FROM cloudtrail_files WHERE kind = 'log')",
        [gz(br#"{"Records":[]}"#)],
    )
    .expect("edit");
    drop(conn);
    let again = work.path().join("pq2").display().to_string();
    let o = auditlens(&[
        "export-parquet",
        "--db",
        &dbs,
        "--key",
        &key,
        "--aws-keys",
        &keys,
        "--out",
        &again,
    ]);
    assert_eq!(code(&o), 1);
    assert!(
        text(&o.stderr).contains("does not re-verify"),
        "{}",
        text(&o.stderr)
    );
    assert!(!Path::new(&again).exists());
    let bundle = work.path().join("b2.zip").display().to_string();
    let o = auditlens(&[
        "export",
        "--db",
        &dbs,
        "--query",
        "source:cloudtrail",
        "--key",
        &key,
        "--purpose",
        "test",
        "--aws-keys",
        &keys,
        "--out",
        &bundle,
    ]);
    assert_eq!(code(&o), 1);
    assert!(
        text(&o.stderr).contains("does not re-verify"),
        "{}",
        text(&o.stderr)
    );
    assert!(!Path::new(&bundle).exists());
}

#[test]
fn a_log_file_no_digest_covers_yet_is_not_imported_and_the_import_says_so() {
    let e = generate();
    let keys = keys_file(&e);
    // Delivered 3 minutes after the newest digest's hour: every live export has some.
    extra_log(
        &e,
        1,
        t0() + Duration::hours(HOURS as i64) + Duration::minutes(3),
    );
    let work = tempfile::tempdir().expect("tempdir");
    let db = work.path().join("store.db");
    let o = import(&db, &keys, e.root());
    let out = text(&o.stdout);
    assert_eq!(code(&o), 0, "{out}{}", text(&o.stderr));
    assert!(
        out.contains(
            "not imported: 1 log file newer than the newest digest (not yet covered by any)"
        ),
        "{out}"
    );
    assert_eq!(count(&db, "ConsoleLogin"), 0);
    assert_eq!(
        count(&db, "source:cloudtrail"),
        (EVENTS_PER_REGION * REGIONS.len()) as u64
    );
}

#[test]
fn no_auditlens_archive_may_claim_the_origin_of_a_cloudtrail_export() {
    use super::common::{
        CLOUDTRAIL_LOG, entry, fixture, key, read_entries, reseal_entries, seal_to, write_entries,
    };
    let work = tempfile::tempdir().expect("tempdir");
    let signer = key("auditee");
    // `seal` refuses such an origin, in any case.
    let o = auditlens(&[
        "seal",
        "--key",
        &{
            let k = work.path().join("auditee.key");
            std::fs::write(&k, signer.to_string_private()).expect("key");
            k.display().to_string()
        },
        "--origin",
        "AWS-CloudTrail:111122223333/us-east-1/org-audit",
        "--out",
        &work.path().join("x.zip").display().to_string(),
        &fixture(CLOUDTRAIL_LOG).display().to_string(),
    ]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("reserved for AWS CloudTrail exports"),
        "{}",
        text(&o.stderr)
    );

    // An archive signed for it anyway (by a key the auditor trusts): import refuses it.
    let sealed = seal_to(
        work.path(),
        "ok.zip",
        &signer,
        "placeholder",
        None,
        &[fixture(CLOUDTRAIL_LOG)],
    );
    let mut entries = read_entries(&sealed);
    let origin = format!("aws-cloudtrail:{ACCOUNT}/us-east-1/{TRAIL}");
    let manifest = entry(&mut entries, auditlens::archive::MANIFEST);
    *manifest = String::from_utf8(manifest.clone())
        .expect("utf-8")
        .replace("\"placeholder\"", &format!("\"{origin}\""))
        .into_bytes();
    let checkpoint = entry(&mut entries, auditlens::archive::CHECKPOINT);
    *checkpoint = String::from_utf8(checkpoint.clone())
        .expect("utf-8")
        .replacen("placeholder", &origin, 1)
        .into_bytes();
    reseal_entries(&mut entries, &signer);
    let forged = work.path().join("forged.zip");
    write_entries(&forged, &entries);
    let pubkey = work.path().join("auditee.pub");
    std::fs::write(&pubkey, signer.verifier().to_string()).expect("pub");
    // `verify` refuses it too, as a manifest no archive may have (review finding, 2026-12-08: VERIFIED).
    let o = auditlens(&[
        "verify",
        "--trust",
        &pubkey.display().to_string(),
        &forged.display().to_string(),
    ]);
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(code(&o), 1, "{out}");
    assert!(
        out.contains("FAILED") && out.contains("reserved for AWS CloudTrail exports"),
        "{out}"
    );
    let db = work.path().join("store.db");
    let o = auditlens(&[
        "import",
        "--db",
        &db.display().to_string(),
        "--trust",
        &pubkey.display().to_string(),
        &forged.display().to_string(),
    ]);
    assert_eq!(code(&o), 1, "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        text(&o.stderr).contains("reserved for AWS CloudTrail exports"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(count(&db, ""), 0);
}

#[test]
fn a_backfill_digest_imports_as_the_next_archive_of_its_trail_and_rechecks() {
    let e = generate();
    let rel = extra_log(&e, 0, e.digests[0][1].start + Duration::minutes(30));
    backfill(&e, 0, 1, &rel);
    let keys = keys_file(&e);
    let work = tempfile::tempdir().expect("tempdir");
    let db = work.path().join("store.db");
    let o = import(&db, &keys, e.root());
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(
        count(&db, "status:aws-cloudtrail"),
        (EVENTS_PER_REGION * REGIONS.len() + 1) as u64
    );
    let origin = format!("aws-cloudtrail:{ACCOUNT}/{}/{TRAIL}", REGIONS[0]);
    let archives = || -> Vec<(i64, i64)> {
        let conn = Connection::open(&db).expect("open");
        let mut stmt = conn
            .prepare("SELECT sequence, events FROM archives WHERE origin = ?1 ORDER BY sequence")
            .expect("prepare");
        stmt.query_map([&origin], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    // The hourly chain, then the backfill chain with the log file it adds.
    assert_eq!(archives(), vec![(1, EVENTS_PER_REGION as i64), (2, 1)]);
    let o = check(&db, Some(&keys));
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    // The same export again adds nothing.
    let o = import(&db, &keys, e.root());
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(archives().len(), 2);
}

/// A log file changed on disk after the export verified (between `verify` and the import's second read): the
/// import reads it as it inflates and hands its first records to the writer before its hash is known; the hash
/// then differs from its digest's, and the import stores nothing, those records included.
#[test]
fn a_log_file_changed_after_it_verified_stores_nothing() {
    let e = generate();
    let keys = auditlens::cloudtrail_digest::AwsKeys::from_json(
        keys_json(t0() - Duration::days(30), t0() + Duration::days(30)).as_bytes(),
    )
    .expect("keys");
    let log = e.digests[0][1].logs[0].clone();
    // 4,000 records of about 600 bytes: more than the 1 MiB the reader hands on at a time.
    let pad = "x".repeat(500);
    let records: Vec<String> = (0..4000)
        .map(|i| {
            format!(
                r#"{{"eventName":"Swapped{i}","eventTime":"2024-03-10T10:10:31Z","pad":"{pad}"}}"#
            )
        })
        .collect();
    let swapped = gz(format!("{{\"Records\":[{}]}}", records.join(",")).as_bytes());
    let work = tempfile::tempdir().expect("tempdir");
    let db = work.path().join("store.db");
    let mut store = auditlens::store::Store::open(&db).expect("store");
    let mut swapped_once = false;
    let result = store.import_cloudtrail(e.root(), &keys, &Default::default(), &[], &mut |step| {
        if let auditlens::store::import::CloudTrailStep::Verifying { done, total } = step
            && done == total
            && !swapped_once
        {
            write(&e.path(&log), &swapped);
            swapped_once = true;
        }
        true
    });
    assert!(swapped_once);
    let said = match result {
        Err(err) => err.to_string(),
        Ok(r) => panic!("imported a changed log file: {:?}", r.trails),
    };
    assert!(
        said.contains(&log) && said.contains("SHA-256 of the decompressed content is"),
        "{said}"
    );
    drop(store);
    let conn = Connection::open(&db).expect("open");
    let (archives, events, files): (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM archives), (SELECT count(*) FROM events),
                (SELECT count(*) FROM cloudtrail_files)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("counts");
    assert_eq!((archives, events, files), (0, 0, 0));
}

/// A store edited to hold, in place of a log file, one of ten million `{}` records (its stored hash, count and
/// events count made to agree): it does not verify against AWS's signed digests, so `check` says so and does not
/// read its records to compare them with the stored events, whose leaves it would otherwise hold (320 MB and
/// more). The leaves of files that verified are read a file at a time as the events ask for them.
#[test]
fn check_does_not_read_the_records_of_a_stored_log_file_that_does_not_verify() {
    let (_e, keys, _w, db) = imported();
    let dense = format!("{{\"Records\":[{}{{}}]}}", "{},".repeat(9_999_999));
    let conn = Connection::open(&db).expect("open");
    conn.execute(
        "UPDATE cloudtrail_files SET content = ?1, sha256 = ?2, records = 10000000
         WHERE rowid = (SELECT max(rowid) FROM cloudtrail_files WHERE kind = 'log')",
        rusqlite::params![
            gz(dense.as_bytes()),
            super::cloudtrail_digest::sha_hex(dense.as_bytes())
        ],
    )
    .expect("edit");
    drop(conn);
    drop(dense);
    let (o, peak) = super::common::auditlens_peak_rss(&[
        "check",
        "--db",
        &db.display().to_string(),
        "--aws-keys",
        &keys.display().to_string(),
    ]);
    let out = text(&o.stdout) + &text(&o.stderr);
    eprintln!(
        "check of a store holding a log file of 10 million records: peak RSS {} MB",
        peak / 1_000_000
    );
    assert_eq!(code(&o), 1, "{out}");
    assert!(out.contains("does not verify"), "{out}");
    assert!(out.contains("its records are not compared"), "{out}");
    assert!(peak <= 300_000_000, "peak {peak} bytes:\n{out}");
}

/// A store edited to hide a log file's record (review finding, 2026-12-08): the record's event deleted, the next
/// log file made to claim the hidden file's first index, and the archive's count, root, time range and summary
/// rows made to agree. `check` kept one file per first index, so the hidden file (still stored, still verifying
/// against its digest) was never read and the store checked; it now reads every stored file in turn and names the
/// one that does not start where the files before it end.
#[test]
fn check_finds_a_log_file_hidden_behind_another_of_the_same_first_index() {
    let (_e, keys, _w, db) = imported();
    let conn = Connection::open(&db).expect("open");
    // The archive's last two log files (one record each).
    let files: Vec<(String, i64, i64)> = conn
        .prepare(
            "SELECT path, first_index, records FROM cloudtrail_files
             WHERE archive_id = 1 AND kind = 'log' AND first_index IS NOT NULL ORDER BY first_index DESC LIMIT 2",
        )
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("files")
        .collect::<Result<_, _>>()
        .expect("files");
    let ((last, last_first, 1), (_, hidden_first, 1)) = (&files[0], &files[1]) else {
        panic!("{files:?}");
    };
    assert_eq!(*last_first, hidden_first + 1);
    let events: i64 = conn
        .query_row("SELECT events FROM archives WHERE id = 1", [], |r| r.get(0))
        .expect("events");
    assert_eq!(events, last_first + 1);
    // The summary rows of the hidden event, less one.
    for (table, unit, column, same) in [
        (
            "rollup_hourly",
            3_600_000_000i64,
            "hour",
            "source category outcome privilege",
        ),
        (
            "rollup_minutely",
            60_000_000,
            "minute",
            "source category outcome privilege",
        ),
        (
            "rollup_actors",
            3_600_000_000,
            "hour",
            "category outcome env actor",
        ),
        (
            "rollup_minute_actors",
            60_000_000,
            "minute",
            "category outcome env actor",
        ),
    ] {
        let on: Vec<String> = same.split(' ').map(|c| format!("r.{c} IS e.{c}")).collect();
        let changed = conn
            .execute(
                &format!(
                    "UPDATE {table} SET n = n - 1 WHERE rowid = (SELECT r.rowid FROM {table} r JOIN events e
                       ON e.archive_id = r.archive_id AND r.{column} = e.ts / ?1 AND {}
                     WHERE e.archive_id = 1 AND e.idx = ?2)",
                    on.join(" AND ")
                ),
                rusqlite::params![unit, hidden_first],
            )
            .expect("summary");
        assert_eq!(changed, 1, "{table}");
    }
    for table in [
        "rollup_hourly",
        "rollup_minutely",
        "rollup_actors",
        "rollup_minute_actors",
    ] {
        conn.execute(&format!("DELETE FROM {table} WHERE n = 0"), [])
            .expect("empty rows");
    }
    conn.execute(
        "DELETE FROM events WHERE archive_id = 1 AND idx = ?1",
        [hidden_first],
    )
    .expect("delete");
    conn.execute(
        "UPDATE events SET idx = ?1 WHERE archive_id = 1 AND idx = ?2",
        [hidden_first, last_first],
    )
    .expect("renumber");
    conn.execute(
        "UPDATE cloudtrail_files SET first_index = ?1 WHERE archive_id = 1 AND path = ?2",
        rusqlite::params![hidden_first, last],
    )
    .expect("first index");
    let mut root = auditlens::merkle::RootBuilder::new();
    let mut stmt = conn
        .prepare("SELECT leaf FROM events WHERE archive_id = 1 ORDER BY idx")
        .expect("prepare");
    let mut rows = stmt.query([]).expect("leaves");
    while let Some(r) = rows.next().expect("leaf") {
        let leaf: Vec<u8> = r.get(0).expect("leaf");
        root.push(leaf.try_into().expect("32 bytes"));
    }
    drop(rows);
    drop(stmt);
    conn.execute(
        "UPDATE archives SET events = ?1, root = ?2,
            time_first = (SELECT min(ts) FROM events WHERE archive_id = 1),
            time_last = (SELECT max(ts) FROM events WHERE archive_id = 1)
         WHERE id = 1",
        rusqlite::params![events - 1, &root.root()[..]],
    )
    .expect("archive");
    drop(conn);
    check_fails_with(&db, &keys, "claims first event index");
}
