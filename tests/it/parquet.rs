//! `auditlens export-parquet` (docs/ocsf-export.md): real fixture logs of every source sealed, imported and exported,
//! then read back by two independent engines (DuckDB and embedded ClickHouse, tests/independent/parquet_readback.py)
//! with counts equal to `auditlens stats --json`, every row joined back to the store, the signed manifest checked,
//! and every row validated against the OCSF 1.1.0 class definitions (tests/independent/ocsf_validate.py over
//! tests/fixtures/ocsf/). Hostile content round-trips as data; a store that no longer matches its signed
//! checkpoint exports nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{auditlens, code, fixture, key, seal_to, text, write_lines};
use auditlens::note::SignerKey;

struct Lab {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    db: PathBuf,
    auditor_key: PathBuf,
    auditor: SignerKey,
}

fn write_key(dir: &Path, name: &str, k: &SignerKey) -> (PathBuf, PathBuf) {
    let private = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    std::fs::write(&private, k.to_string_private()).unwrap();
    std::fs::write(&public, k.verifier().to_string()).unwrap();
    (private, public)
}

/// Every source's real logs, sealed by one producer (one origin per source) and imported; plus an archive by an
/// untrusted key kept with --keep-failed (its events must never be exported) and hostile events.
fn lab() -> Lab {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let producer = key("ops-prod");
    let stranger = key("stranger");
    let auditor = key("auditor-jane");
    let (_, producer_pub) = write_key(&dir, "ops-prod", &producer);
    let (auditor_key, _) = write_key(&dir, "auditor-jane", &auditor);
    let sources: [(&str, &[&str]); 7] = [
        (
            "k8s",
            &[
                "logs/k8s_audit/audit2rbac/demo.log",
                "logs/k8s_audit/stages/exec_pod_stages.jsonl",
                "logs/k8s_audit/falco_trace_files/create_deployment.json",
                "logs/k8s_audit/falco_trace_files/delete_secret.json",
            ],
        ),
        (
            "cloudtrail",
            &[
                "logs/aws_cloudtrail/awsdocs/awsdocs_examples_Records.json",
                "logs/aws_cloudtrail/otrf/ec2_proxy_s3_exfiltration_2020-09-14011940.json",
                "logs/aws_cloudtrail/stratus_datadog/aws.credential-access.secretsmanager-retrieve-secrets.json",
            ],
        ),
        ("okta", &["logs/okta/panther/Okta_SystemLog.jsonl"]),
        ("github", &["logs/github_audit/panther/GitHub_Audit.jsonl"]),
        ("gcp", &["logs/gcp_audit/panther/GCP_AuditLog.jsonl"]),
        (
            "teleport",
            &["logs/teleport/panther/Gravitational_TeleportAudit.jsonl"],
        ),
        (
            "okta-scenarios",
            &[
                "logs/okta/panther_scenarios/okta-add-administrator__new-user.jsonl",
                "logs/okta/panther_scenarios/okta-add-administrator__brute_force_logins.jsonl",
            ],
        ),
    ];
    let mut archives = Vec::new();
    for (name, inputs) in sources {
        let inputs: Vec<PathBuf> = inputs.iter().map(|i| fixture(i)).collect();
        archives.push(seal_to(
            &dir,
            &format!("{name}.zip"),
            &producer,
            &format!("example.com/{name}"),
            None,
            &inputs,
        ));
    }
    let hostile = write_lines(&dir, "hostile.jsonl", &hostile_events());
    archives.push(seal_to(
        &dir,
        "hostile.zip",
        &producer,
        "example.com/hostile",
        None,
        &[hostile],
    ));
    // A CloudTrail record whose region and account would climb out of the export's folder as path names.
    let climbing = dir.join("climbing.json");
    std::fs::write(
        &climbing,
        r#"{"Records":[{"eventVersion":"1.08","eventTime":"2024-03-02T00:00:00Z","eventSource":"s3.amazonaws.com",
            "eventName":"GetObject","awsRegion":"../../x","recipientAccountId":"a/b","sourceIPAddress":"203.0.113.9",
            "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/eve","accountId":"111122223333"}}]}"#,
    )
    .unwrap();
    archives.push(seal_to(
        &dir,
        "climbing.zip",
        &producer,
        "example.com/climbing",
        None,
        &[climbing],
    ));
    let untrusted = seal_to(
        &dir,
        "untrusted.zip",
        &stranger,
        "example.com/elsewhere",
        None,
        &[fixture("logs/k8s_audit/audit2rbac/demo.log")],
    );
    let db = dir.join("store.db");
    let mut args = vec![
        "import".to_owned(),
        "--db".into(),
        db.display().to_string(),
        "--trust".into(),
        producer_pub.display().to_string(),
        "--keep-failed".into(),
    ];
    args.extend(archives.iter().map(|a| a.display().to_string()));
    args.push(untrusted.display().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = auditlens(&args);
    // Exit 1: the untrusted archive is not verified (kept, flagged).
    assert_eq!(code(&out), 1, "{}{}", text(&out.stdout), text(&out.stderr));
    Lab {
        _tmp: tmp,
        dir,
        db,
        auditor_key,
        auditor,
    }
}

/// Events an auditee controls: control characters and bidi overrides, a 200 KB string, deep JSON, a number
/// beyond 64 bits, fields of the wrong type and no time, names that look like partition paths.
fn hostile_events() -> Vec<String> {
    let deep = format!("{}1{}", "[".repeat(120), "]".repeat(120));
    vec![
        r#"{"time":"2024-03-01T10:00:00Z","actor":"eve\u0000\u001b[2J\u202e","action":"delete","resource":"x\r\ny","outcome":"denied"}"#.to_owned(),
        format!(
            r#"{{"time":"2024-03-01T10:00:01Z","actor":"mallory","action":"create","big":"{}"}}"#,
            "A".repeat(200_000)
        ),
        format!(r#"{{"time":"2024-03-01T10:00:02Z","actor":"deep","action":"get","deep":{deep},"n":123456789012345678901234567890}}"#),
        r#"{"actor":{"nested":[1,{"x":null}]},"action":null,"\u0001key\u202e":"value\u0007"}"#.to_owned(),
        r#"{"time":"2024-03-01T10:00:03Z","actor":"../../etc","action":"update","awsRegion":"../../x","recipientAccountId":"a/b"}"#.to_owned(),
    ]
}

fn python(script: &str, args: &[&str]) -> Output {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/independent")
        .join(script);
    let out = Command::new("python3")
        .arg(path)
        .args(args)
        .output()
        .expect("python3 must be installed (make deps installs the checks' packages)");
    eprintln!(
        "{script} {args:?}: {:?}\n{}{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

impl Lab {
    fn export(&self, out: &Path, extra: &[&str]) -> Output {
        let db = self.db.display().to_string();
        let key = self.auditor_key.display().to_string();
        let out = out.display().to_string();
        let mut args = vec!["export-parquet", "--db", &db, "--key", &key, "--out", &out];
        args.extend_from_slice(extra);
        auditlens(&args)
    }

    fn stats(&self, query: &str, file: &Path) {
        let db = self.db.display().to_string();
        let out = auditlens(&["stats", "--db", &db, "--json", query]);
        assert_eq!(code(&out), 0, "{}", text(&out.stderr));
        std::fs::write(file, &out.stdout).unwrap();
    }

    /// The two independent checks over one export: both must pass.
    fn check_independently(&self, export: &Path, query: &str) {
        let stats = self.dir.join(format!(
            "stats-{}.json",
            export.file_name().unwrap().to_string_lossy()
        ));
        self.stats(query, &stats);
        let auditor = self.auditor.verifier().to_string();
        let out = python(
            "parquet_readback.py",
            &[
                "--export",
                &export.display().to_string(),
                "--db",
                &self.db.display().to_string(),
                "--stats",
                &stats.display().to_string(),
                "--trust-auditor",
                &auditor,
                "--sample",
                "all",
                "--engines",
                "duckdb,chdb",
            ],
        );
        assert_eq!(
            code(&out),
            0,
            "the read-back by DuckDB and ClickHouse failed"
        );
        let out = python(
            "ocsf_validate.py",
            &[
                &export.display().to_string(),
                "--warn-only",
                "attribute_value_exceeds_max_len@raw_data",
            ],
        );
        assert_eq!(code(&out), 0, "rows do not validate against OCSF 1.1.0");
    }
}

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("_manifest.json")).unwrap()).unwrap()
}

#[test]
fn every_verified_event_exports_and_reads_back_in_duckdb_and_clickhouse_equal_to_stats() {
    let lab = lab();
    let out = lab.dir.join("export");
    let o = lab.export(&out, &[]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    let m = manifest(&out);
    // The untrusted archive's 37 events (+ the kept one's uncounted stages) are said, never written.
    assert!(m["left_out_unverified"].as_u64().unwrap() >= 37, "{m}");
    assert!(text(&o.stdout).contains("left out:"), "{}", text(&o.stdout));
    // The verified Kubernetes records at the stages left out are counted (a request recorded only at one of them
    // would otherwise vanish without a word), and `--all-stages` writes exactly them besides.
    let db = lab.db.display().to_string();
    let staged = auditlens(&[
        "search",
        "--db",
        &db,
        "--count",
        "status:verified (stage:RequestReceived OR stage:ResponseStarted)",
    ]);
    let staged: u64 = text(&staged.stdout).trim().parse().unwrap();
    assert!(staged > 0, "the fixtures hold such records");
    assert_eq!(m["left_out_stages"], staged, "{m}");
    assert!(
        text(&o.stdout).contains(&format!("left out: {staged} Kubernetes record(s) at stage")),
        "{}",
        text(&o.stdout)
    );
    let all = lab.dir.join("all-stages");
    let o = lab.export(&all, &["--all-stages"]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    let m_all = manifest(&all);
    assert_eq!(m_all["left_out_stages"], 0, "{m_all}");
    assert_eq!(
        m_all["rows"].as_u64().unwrap(),
        m["rows"].as_u64().unwrap() + staged
    );
    let by_class = &m["by_class"];
    for class in ["api_activity", "authentication", "account_change"] {
        assert!(
            by_class[class].as_u64().unwrap_or(0) > 0,
            "no {class} rows: {m}"
        );
    }
    // Partition values from event text never leave their folder.
    for f in m["files"].as_array().unwrap() {
        let path = f["path"].as_str().unwrap();
        assert!(!path.contains(".."), "{path}");
        assert!(out.join(path).is_file(), "{path}");
    }
    lab.check_independently(&out, "");

    // The hand-over is tamper-evident: one byte of one file changed after export, and the check of the signed
    // manifest fails.
    let file = out.join(m["files"][0]["path"].as_str().unwrap());
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&file, bytes).unwrap();
    let stats = lab.dir.join("stats-tampered.json");
    lab.stats("", &stats);
    let o = python(
        "parquet_readback.py",
        &[
            "--export",
            &out.display().to_string(),
            "--db",
            &lab.db.display().to_string(),
            "--stats",
            &stats.display().to_string(),
            "--engines",
            "duckdb",
        ],
    );
    assert_eq!(code(&o), 1, "a changed file must fail the manifest check");
}

/// The independent checks themselves catch what they must (each script's own tamper and malformed cases: a
/// missing required attribute, a bad enum, a wrong type_uid, a changed file, a bad signature, a row that is not
/// in the store, counts that differ from stats, ...).
#[test]
fn the_independent_checks_reject_their_tampered_cases() {
    assert_eq!(code(&python("ocsf_validate.py", &["--self-test"])), 0);
    assert_eq!(code(&python("parquet_readback.py", &["--self-test"])), 0);
}

#[test]
fn a_query_and_a_time_range_export_exactly_what_stats_counts_for_them() {
    let lab = lab();
    let out = lab.dir.join("denied");
    let o = lab.export(&out, &["--query", "outcome:denied"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(manifest(&out)["rows"].as_u64().unwrap() > 0);
    lab.check_independently(&out, "outcome:denied");

    // A time range is the stats scope's (`--from`/`--to` as `after:`/`before:`).
    let out = lab.dir.join("march");
    let o = lab.export(&out, &["--from", "2024-03-01", "--to", "2024-03-02"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(
        manifest(&out)["rows"].as_u64().unwrap(),
        4,
        "the hostile archive's timed events"
    );
}

#[test]
fn hostile_content_round_trips_as_data() {
    let lab = lab();
    let out = lab.dir.join("hostile");
    let o = lab.export(&out, &["--query", "origin:example.com/hostile", "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["rows"], 5, "{summary}");
    // Read back by DuckDB: the exact bytes of every hostile event, the untimed one at its archive's sealing time.
    let rows: Vec<(String, bool, Option<String>)> = duckdb_rows(&out);
    let expected = hostile_events();
    assert_eq!(rows.len(), expected.len());
    for (row, line) in rows.iter().zip(&expected) {
        assert_eq!(&row.0, line, "raw_data must be the exact bytes");
    }
    assert_eq!(
        rows.iter().filter(|r| !r.1).count(),
        1,
        "one event has no time"
    );
    lab.check_independently(&out, "origin:example.com/hostile");

    // The region and account an event claims are kept as data, never as a path.
    let out = lab.dir.join("climbing");
    let o = lab.export(&out, &["--query", "origin:example.com/climbing"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let rows = duckdb_rows(&out);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].2.as_deref(), Some("../../x"));
    let files = manifest(&out)["files"].clone();
    assert_eq!(
        files[0]["path"]
            .as_str()
            .unwrap()
            .split('/')
            .take(4)
            .collect::<Vec<_>>(),
        [
            "api_activity",
            "region=unknown",
            "accountId=unknown",
            "eventDay=20240302"
        ]
    );
    assert!(!lab.dir.join("x").exists());
    lab.check_independently(&out, "origin:example.com/climbing");
}

/// raw_data, auditlens_time_known and cloud.region of every row, read by DuckDB, in event order.
fn duckdb_rows(out: &Path) -> Vec<(String, bool, Option<String>)> {
    let script = format!(
        "import duckdb, json, sys\n\
         rows = duckdb.sql(\"SELECT raw_data, auditlens_time_known, cloud.region FROM read_parquet('{}/**/*.parquet') ORDER BY auditlens_event_index\").fetchall()\n\
         print(json.dumps([[r[0], r[1], r[2]] for r in rows]))\n",
        out.display()
    );
    let got = Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(got.status.success(), "{}", text(&got.stderr));
    serde_json::from_slice(&got.stdout).unwrap()
}

#[test]
fn a_store_that_no_longer_matches_its_signed_checkpoint_exports_nothing() {
    let lab = lab();
    {
        let conn = rusqlite::Connection::open(&lab.db).unwrap();
        let n = conn
            .execute(
                "UPDATE events SET raw = replace(raw, 'anaya', 'nobody') WHERE rowid IN
                   (SELECT e.rowid FROM events e JOIN archives a ON a.id = e.archive_id
                    WHERE a.origin = 'example.com/cloudtrail' LIMIT 1)",
                [],
            )
            .unwrap();
        assert_eq!(n, 1);
    }
    let out = lab.dir.join("refused");
    let o = lab.export(&out, &[]);
    assert_eq!(code(&o), 1, "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        text(&o.stderr).contains("example.com/cloudtrail"),
        "{}",
        text(&o.stderr)
    );
    assert!(text(&o.stderr).contains("NOT EXPORTED"));
    // The row's own check stops it: its fields against what its bytes give (before its leaf is hashed).
    assert!(
        text(&o.stderr).contains("this event as stored is not the one signed: stored actor"),
        "{}",
        text(&o.stderr)
    );
    assert!(!out.exists(), "nothing may be left behind");

    // An edited leaf (bytes and leaf changed together) no longer reproduces the signed root.
    {
        let conn = rusqlite::Connection::open(&lab.db).unwrap();
        conn.execute_batch(
            "UPDATE events SET raw = '{\"forged\":true}', leaf = X'00'
               WHERE rowid = (SELECT e.rowid FROM events e JOIN archives a ON a.id = e.archive_id
                              WHERE a.origin = 'example.com/okta' LIMIT 1)",
        )
        .unwrap();
    }
    let empty = lab.dir.join("empty-dir");
    std::fs::create_dir(&empty).unwrap();
    let o = lab.export(&empty, &["--query", "origin:example.com/okta"]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read_dir(&empty).unwrap().count(),
        0,
        "the given empty folder stays empty"
    );
}

/// An archive's stored leaves are read against its signed root 4,096 at a time between the export's own reads (the
/// rest after its last row): an archive of 10,000 events, so three slices, and each finding placed at a slice's
/// edge or past the last. Each edited row's bytes and leaf are kept consistent, so that the row's own leaf check
/// passes and only the root can tell. Each export exits 1, names the archive and the finding, and leaves nothing.
#[test]
fn every_stored_leaf_is_read_against_the_signed_root_across_slices() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let producer = key("ops-prod");
    let (_, producer_pub) = write_key(dir, "ops-prod", &producer);
    let (auditor_key, _) = write_key(dir, "auditor", &key("auditor"));
    let lines: Vec<String> = (0..10_000)
        .map(|i| {
            format!(
                r#"{{"time":"2024-03-01T00:{:02}:{:02}Z","actor":"user-{i}","action":"get","n":{i}}}"#,
                (i / 60) % 60,
                i % 60
            )
        })
        .collect();
    let input = write_lines(dir, "events.jsonl", &lines);
    let archive = seal_to(dir, "big.zip", &producer, "example.com/big", None, &[input]);
    // A forged event with the fields of the row it stands in (time, actor, action; an added row also takes an id
    // in its time's range and the category): only its bytes differ from the signed one's, so the row's fields
    // match its bytes, its leaf is their hash, and only the signed root can tell (the export's per-row
    // confirmation, on another thread, would otherwise report it first or not, by timing).
    let forged_as = |i: usize, actor: &str| {
        format!(
            r#"{{"time":"2024-03-01T00:{:02}:{:02}Z","actor":"{actor}","action":"get","n":"forged"}}"#,
            (i / 60) % 60,
            i % 60
        )
    };
    let rowid = |idx: u64| format!("(SELECT id FROM events WHERE idx = {idx})");
    let cases: Vec<(&str, String, String, String)> = vec![
        (
            "an event replaced, bytes and leaf together, in the second slice",
            forged_as(4096, "user-4096"),
            format!("UPDATE events SET raw = ?1, leaf = ?2 WHERE id = {}", rowid(4096)),
            "do not reproduce the signed Merkle root".into(),
        ),
        (
            "an event replaced in the last slice",
            forged_as(9999, "user-9999"),
            format!("UPDATE events SET raw = ?1, leaf = ?2 WHERE id = {}", rowid(9999)),
            "do not reproduce the signed Merkle root".into(),
        ),
        (
            "an event removed",
            forged_as(8192, "user-8192"),
            format!("DELETE FROM events WHERE id = {} AND ?1 IS NOT ?2", rowid(8192)),
            "lacks event index 8192".into(),
        ),
        (
            "an event repeated at the end of the first slice (its unique index dropped)",
            forged_as(4095, "twin"),
            "DROP INDEX events_archive_idx;
             INSERT INTO events (id, archive_id, idx, ts, source, origin, actor, action, category, leaf, raw)
               SELECT (SELECT max(id) FROM events AS e WHERE e.ts = events.ts) + 1,
                 archive_id, idx, ts, source, origin, 'twin', action, category, ?2, ?1
               FROM events WHERE idx = 4095"
                .into(),
            "lacks event index 4096".into(),
        ),
        (
            "an event added after the last",
            forged_as(0, "extra"),
            "INSERT INTO events (id, archive_id, idx, ts, source, origin, actor, action, category, leaf, raw)
               SELECT (SELECT max(id) FROM events AS e WHERE e.ts = events.ts) + 1,
                 archive_id, 10000, ts, source, origin, 'extra', action, category, ?2, ?1
               FROM events WHERE idx = 0"
                .into(),
            "more than the expected 10000 leaves".into(),
        ),
    ];
    for (what, forged, sql, finding) in cases {
        let leaf = auditlens::merkle::leaf_hash(forged.as_bytes()).to_vec();
        let db = dir.join("store.db");
        let _ = std::fs::remove_file(&db);
        let out = auditlens(&[
            "import",
            "--db",
            &db.display().to_string(),
            "--trust",
            &producer_pub.display().to_string(),
            &archive.display().to_string(),
        ]);
        assert_eq!(code(&out), 0, "{}", text(&out.stderr));
        let conn = rusqlite::Connection::open(&db).unwrap();
        let statements: Vec<&str> = sql.split(';').collect();
        for statement in &statements[..statements.len() - 1] {
            conn.execute_batch(statement).unwrap();
        }
        let n = conn
            .execute(
                statements[statements.len() - 1],
                rusqlite::params![forged, leaf],
            )
            .unwrap();
        assert_eq!(n, 1, "{what}");
        drop(conn);
        let export = dir.join("export");
        let o = auditlens(&[
            "export-parquet",
            "--db",
            &db.display().to_string(),
            "--key",
            &auditor_key.display().to_string(),
            "--out",
            &export.display().to_string(),
        ]);
        let stderr = text(&o.stderr);
        assert_eq!(code(&o), 1, "{what}: {stderr}");
        assert!(stderr.contains("example.com/big@1"), "{what}: {stderr}");
        assert!(stderr.contains(&finding), "{what}: {stderr}");
        assert!(!export.exists(), "{what}: nothing may be left behind");
    }
}

#[test]
fn usage_errors_exit_2_and_write_nothing() {
    let lab = lab();
    let busy = lab.dir.join("busy");
    std::fs::create_dir(&busy).unwrap();
    std::fs::write(busy.join("keep.txt"), "mine").unwrap();
    let o = lab.export(&busy, &[]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("not empty"), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(busy.join("keep.txt")).unwrap(),
        "mine"
    );
    let o = lab.export(&lab.dir.join("q"), &["--query", "actor:(("]);
    assert_eq!(code(&o), 2);
    let o = lab.export(&lab.dir.join("t"), &["--from", "yesterday"]);
    assert_eq!(code(&o), 2);
    assert!(!lab.dir.join("q").exists() && !lab.dir.join("t").exists());
}

/// The query is read alone before it joins the scope's terms: a query that closes the scope's brackets
/// (`source:none) OR (origin:...`) would otherwise export the untrusted archive's events as verified, past the
/// stage rule and the time range too. `stats` refuses the same query.
#[test]
fn a_query_cannot_break_out_of_the_verified_scope() {
    let lab = lab();
    let db = lab.db.display().to_string();
    for query in [
        "source:none) OR (origin:example.com/elsewhere",
        "source:none) OR (stage:RequestReceived",
        "x) OR (",
        ")(",
    ] {
        let out = lab.dir.join("breakout");
        let o = lab.export(&out, &["--query", query]);
        assert_eq!(
            code(&o),
            2,
            "{query}: {}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
        assert!(text(&o.stderr).contains("query"), "{}", text(&o.stderr));
        assert!(!out.exists(), "{query}: something was written");
        let s = auditlens(&["stats", "--db", &db, "--json", query]);
        assert_eq!(code(&s), 2, "stats {query}");
    }
    // The same terms in balanced brackets stay inside the scope: nothing of the untrusted archive.
    let out = lab.dir.join("inside");
    let o = lab.export(
        &out,
        &["--query", "(source:none) OR (origin:example.com/elsewhere)"],
    );
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(manifest(&out)["rows"], 0, "{}", manifest(&out));
}

/// The export reads through a small page cache and no map of the file (docs/ocsf-export.md, memory), then gives the
/// connection back as it was, after an export and after a refused one: the app's connection goes on serving searches.
#[test]
fn the_connection_gets_its_cache_and_map_back_after_an_export() {
    use auditlens::ocsf::{ParquetExportOptions, export_parquet};
    let lab = lab();
    let store = auditlens::store::Store::open(&lab.db).unwrap();
    store.map_for_reading().unwrap();
    let pragma = |name: &str| -> i64 {
        store
            .connection()
            .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .unwrap()
    };
    let before = (pragma("mmap_size"), pragma("cache_size"));
    assert!(before.0 > 0 && before.1 != -8192, "{before:?}");
    let mut seen = Vec::new();
    for (out, query, ok) in [
        (lab.dir.join("out-ok"), "", true),
        (lab.dir.join("out-bad"), "actor:((", false),
    ] {
        let result = export_parquet(
            &store,
            &ParquetExportOptions {
                query,
                from: None,
                to: None,
                all_stages: false,
                auditor: &lab.auditor,
                out: &out,
                now_micros: 1_800_000_000_000_000,
                aws_keys: None,
            },
            &mut |p| seen.push(p.rows),
        );
        assert_eq!(result.is_ok(), ok, "{:?}", result.err());
        assert_eq!((pragma("mmap_size"), pragma("cache_size")), before);
    }
    assert!(seen.last().is_some_and(|&rows| rows > 0));
}
