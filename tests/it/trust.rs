//! Trust an auditor can defend (docs/trust-policy.md): keys bound to origins, first-use pinning of bare keys,
//! policy grants with rotation windows and prefixes, no squatting of sequences by archives that are not
//! verified and trusted, no blocking through event ids. Each attack of issue 11 (1 to 3) is a test here, run
//! through the real `auditlens` binary where the command-line contract is what matters.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::*;
use auditlens::note::SignerKey;
use auditlens::store::Store;
use auditlens::store::import::{ImportOptions, ImportOutcome};
use auditlens::trust::TrustPolicy;

fn all_text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

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
    fn p(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
    /// Writes `key`'s verifier key to NAME.pub and returns the path.
    fn pub_file(&self, key: &SignerKey) -> String {
        let path = self.p(&format!("{}.pub", key.name()));
        std::fs::write(&path, format!("{}\n", key.verifier())).unwrap();
        path
    }
    /// Exports every event of the store `db` as an evidence bundle NAME signed by the auditor key file.
    fn export_all(&self, db: &str, auditor_key: &str, name: &str) -> String {
        let bundle = self.p(name);
        let o = auditlens(&[
            "export",
            "--db",
            db,
            "--query",
            "",
            "--key",
            auditor_key,
            "--purpose",
            "test",
            "--out",
            &bundle,
        ]);
        assert_eq!(code(&o), 0, "{}", all_text(&o));
        bundle
    }
    /// Seals `n` generic events with times `minute` minutes after 2026-03-01T10:00Z into `out`.
    fn seal_events(
        &self,
        out: &str,
        key: &SignerKey,
        origin: &str,
        prev: Option<&Path>,
        tag: &str,
        n: usize,
    ) -> PathBuf {
        let lines: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"time":"2026-03-01T10:{:02}:00Z","actor":"{tag}-user","action":"get","n":{i}}}"#,
                    i % 60
                )
            })
            .collect();
        let input = write_lines(&self.dir, &format!("{out}.jsonl"), &lines);
        seal_to(&self.dir, out, key, origin, prev, &[input])
    }
}

/// Attack 1: team B, trusted for its own log, seals sequence 3 of team A's origin (continuing A's chain with
/// `--prev`). With bare `--trust` keys, A's origin is pinned to A on first use: `verify` says not trusted
/// (exit 1) naming the pinned signer and the signer change; `import` does not store it; the genuine sequence
/// 3 then imports. Before this change `verify` printed VERIFIED "1..3 continuous" and exited 0.
#[test]
fn a_trusted_key_cannot_sign_another_teams_origin() {
    let lab = Lab::new();
    let a = key("team-a");
    let b = key("team-b");
    let (a_pub, b_pub) = (lab.pub_file(&a), lab.pub_file(&b));
    let origin = "a.example/prod/k8s-audit";
    let a1 = lab.seal_events("a1.zip", &a, origin, None, "a", 5);
    let a2 = lab.seal_events("a2.zip", &a, origin, Some(&a1), "a", 5);
    let b3 = lab.seal_events("b3.zip", &b, origin, Some(&a2), "b", 2);
    let a3 = lab.seal_events("a3.zip", &a, origin, Some(&a2), "a", 11);
    let b_own = lab.seal_events("b1.zip", &b, "b.example/ci", None, "b", 3);

    let o = auditlens(&[
        "verify",
        "--trust",
        &a_pub,
        "--trust",
        &b_pub,
        a1.to_str().unwrap(),
        a2.to_str().unwrap(),
        b3.to_str().unwrap(),
        b_own.to_str().unwrap(),
    ]);
    let out = all_text(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(out.contains("already signed by team-a"), "{out}");
    assert!(out.contains("signer changes at sequence 3"), "{out}");
    assert!(!out.contains("OK:"), "{out}");
    // The JSON report says the same.
    let o = auditlens(&[
        "verify",
        "--json",
        "--trust",
        &a_pub,
        "--trust",
        &b_pub,
        a1.to_str().unwrap(),
        a2.to_str().unwrap(),
        b3.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["archives"][2]["status"], "untrusted");
    assert_eq!(v["archives"][2]["signer"]["trust_basis"], "none");
    assert_eq!(v["archives"][0]["signer"]["trust_basis"], "first-use");
    assert_eq!(v["continuity"][0]["signer_changes"][0]["sequence"], 3);
    // A's own set and B's own origin verify.
    let o = auditlens(&[
        "verify",
        "--trust",
        &a_pub,
        "--trust",
        &b_pub,
        a1.to_str().unwrap(),
        a2.to_str().unwrap(),
        a3.to_str().unwrap(),
        b_own.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", all_text(&o));

    // Import: B's archive is refused as not trusted and stored nowhere; the genuine sequence 3 imports.
    let db = lab.p("store.db");
    let o = auditlens(&[
        "import",
        "--db",
        &db,
        "--trust",
        &a_pub,
        "--trust",
        &b_pub,
        a1.to_str().unwrap(),
        a2.to_str().unwrap(),
        b3.to_str().unwrap(),
        a3.to_str().unwrap(),
    ]);
    let out = all_text(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(out.contains("already signed by team-a"), "{out}");
    let store = Store::open(Path::new(&db)).unwrap();
    let rows = store.archives().unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r.signer_name.as_deref() == Some("team-a"))
    );
    assert_eq!(store.count("", 0).unwrap(), 5 + 5 + 11);

    // The store edited to name B as the origin's signer (review finding, 2026-12-08): the pin came from that
    // column, so B's sequence 3 imported and the genuine one was refused as pinned to B. The column is believed
    // only when it verifies the archive's stored signed checkpoint: the import refuses to decide on it.
    let db = lab.p("edited.db");
    let o = auditlens(&[
        "import",
        "--db",
        &db,
        "--trust",
        &a_pub,
        a1.to_str().unwrap(),
        a2.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", all_text(&o));
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE archives SET signer_key = ?1",
            [b.verifier().to_string()],
        )
        .unwrap();
    let o = auditlens(&[
        "import",
        "--db",
        &db,
        "--trust",
        &a_pub,
        "--trust",
        &b_pub,
        b3.to_str().unwrap(),
    ]);
    let out = all_text(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(
        out.contains("stored signer does not verify its stored checkpoint"),
        "{out}"
    );
    let store = Store::open(Path::new(&db)).unwrap();
    assert_eq!(store.archives().unwrap().len(), 2);
}

/// Attack 2: an untrusted archive kept with `--keep-failed` holds no sequence: the genuine archive of the same
/// sequence imports normally, and the fork is reported against the kept copy. Before this change the genuine
/// archive was refused as a fork forever.
#[test]
fn a_kept_untrusted_archive_squats_no_sequence() {
    let lab = Lab::new();
    let a = key("team-a");
    let mallory = key("mallory");
    let a_pub = lab.pub_file(&a);
    let origin = "a.example/prod/k8s-audit";
    let a1 = lab.seal_events("a1.zip", &a, origin, None, "a", 4);
    let fake1 = lab.seal_events("fake1.zip", &mallory, origin, None, "m", 2);
    let db = lab.p("store.db");
    let o = auditlens(&[
        "import",
        "--db",
        &db,
        "--trust",
        &a_pub,
        "--keep-failed",
        fake1.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1, "{}", all_text(&o));
    assert!(
        all_text(&o).contains("kept, flagged untrusted"),
        "{}",
        all_text(&o)
    );
    let o = auditlens(&[
        "import",
        "--db",
        &db,
        "--trust",
        &a_pub,
        a1.to_str().unwrap(),
    ]);
    let out = all_text(&o);
    assert_eq!(code(&o), 0, "{out}");
    assert!(out.contains("verified and imported 4 events"), "{out}");
    assert!(
        out.contains("fork: the kept (not verified) archive #1"),
        "{out}"
    );
    // Only the genuine archive counts.
    let o = auditlens(&["stats", "--db", &db, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["total"], 4);
}

/// Attack 2, second half: an archive kept as untrusted becomes verified when its key is trusted later and it is
/// imported again (its stored bytes re-verified); before this change the re-import said "already imported,
/// nothing changed" and its events never counted.
#[test]
fn a_kept_untrusted_archive_becomes_verified_once_its_key_is_trusted() {
    let lab = Lab::new();
    let a = key("team-a");
    let a_pub = lab.pub_file(&a);
    let a1 = lab.seal_events("a1.zip", &a, "a.example/log", None, "a", 6);
    let db = lab.p("store.db");
    let o = auditlens(&["import", "--db", &db, "--keep-failed", a1.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", all_text(&o));
    // Still untrusted: nothing changes and no second copy is kept.
    let o = auditlens(&["import", "--db", &db, "--keep-failed", a1.to_str().unwrap()]);
    assert!(
        all_text(&o).contains("already kept as archive #1"),
        "{}",
        all_text(&o)
    );
    let o = auditlens(&["stats", "--db", &db, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["total"], 0);
    let o = auditlens(&[
        "import",
        "--db",
        &db,
        "--trust",
        &a_pub,
        a1.to_str().unwrap(),
    ]);
    let out = all_text(&o);
    assert_eq!(code(&o), 0, "{out}");
    assert!(
        out.contains("re-verified from its stored bytes and is now verified"),
        "{out}"
    );
    let store = Store::open(Path::new(&db)).unwrap();
    let rows = store.archives().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, "verified");
    let o = auditlens(&["stats", "--db", &db, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["total"], 6);
    let o = auditlens(&["check", "--db", &db, "--trust", &a_pub]);
    assert_eq!(code(&o), 0, "{}", all_text(&o));
}

/// A kept copy whose stored bytes were edited is not promoted: the re-import names the difference.
#[test]
fn a_tampered_kept_copy_is_not_promoted() {
    let lab = Lab::new();
    let a = key("team-a");
    let a_pub = lab.pub_file(&a);
    let a1 = lab.seal_events("a1.zip", &a, "a.example/log", None, "a", 3);
    let db = lab.p("store.db");
    auditlens(&["import", "--db", &db, "--keep-failed", a1.to_str().unwrap()]);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE events SET raw = replace(raw, 'a-user', 'b-user') WHERE idx = 1",
        [],
    )
    .unwrap();
    drop(conn);
    let o = auditlens(&[
        "import",
        "--db",
        &db,
        "--trust",
        &a_pub,
        a1.to_str().unwrap(),
    ]);
    let out = all_text(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(
        out.contains("does not re-verify from its stored bytes"),
        "{out}"
    );
    assert!(out.contains("event index 1"), "{out}");
}

/// Attack 3: a millisecond filled with 2^20 events (as an archive of a million copies of one event does) no
/// longer blocks a genuine archive with an event in that millisecond: its id spills into the next bucket, and
/// time-range searches still find it. Before this change the import failed with "UNIQUE constraint failed" or
/// "more than 1,048,576 events share one millisecond".
#[test]
fn a_full_millisecond_blocks_no_archive() {
    let lab = Lab::new();
    let a = key("team-a");
    let db = lab.dir.join("store.db");
    let t = auditlens::time::parse_rfc3339("2026-03-01T10:00:00Z").unwrap();
    let bucket = auditlens::store::rowid::bucket_start(t);
    {
        let mut store = Store::open(&db).unwrap();
        drop(store.archives());
        // The flood, written directly (an archive of 2^20 identical events takes minutes to import in a debug
        // build; what matters here is the full bucket).
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(&format!(
            "INSERT INTO archives (id, path, status, imported_at) VALUES (1000, 'flood', 'untrusted', 'x');
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {})
             INSERT INTO events (id, archive_id, idx, ts, leaf, raw)
             SELECT {bucket} + i, 1000, i, {t}, x'00', '{{}}' FROM n;",
            auditlens::store::rowid::BUCKET - 1
        ))
        .unwrap();
        drop(conn);
        store = Store::open(&db).unwrap();
        let archive = lab.seal_events("a1.zip", &a, "a.example/log", None, "genuine", 3);
        let r = store
            .import_archive(
                &archive,
                &ImportOptions {
                    trust: &TrustPolicy::from_keys(&[a.verifier()]),
                    keep_failed: false,
                },
                &mut |_| true,
            )
            .unwrap();
        assert_eq!(r.outcome, ImportOutcome::Imported, "{}", r.message);
    }
    let db = db.to_str().unwrap();
    for q in [
        "actor:genuine-user",
        "actor:genuine-user after:2026-03-01T10:00:00Z before:2026-03-01T10:00:00.001Z",
        "actor:genuine-user before:2026-03-01T10:00:01Z",
    ] {
        let o = auditlens(&["search", "--db", db, "--count", q]);
        let n = String::from_utf8_lossy(&o.stdout).trim().to_string();
        // The genuine event at 10:00:00 (in the full millisecond) is in both time ranges; all three match.
        let expected = if q.contains("before") { "1" } else { "3" };
        assert_eq!(n, expected, "{q}: {}", all_text(&o));
    }
}

/// Policy: two teams with a rotation (old key valid until T, new key from T), a prefix grant, and an archive
/// signed by the old key after T, which is not trusted.
#[test]
fn a_policy_binds_keys_to_origins_and_windows() {
    let lab = Lab::new();
    let old = key("ops-old");
    let new = key("ops-new");
    let ci = key("ci");
    let policy = lab.p("policy.txt");
    std::fs::write(
        &policy,
        format!(
            "# prod is signed by ops; the key rotates on 2026-06-01\n\
             corp.example/prod/* {} valid-before=2026-06-01\n\
             corp.example/prod/* {} valid-after=2026-06-01\n\
             corp.example/ci {}\n",
            old.verifier(),
            new.verifier(),
            ci.verifier()
        ),
    )
    .unwrap();
    let origin = "corp.example/prod/k8s";
    let p1 = lab.seal_events("p1.zip", &old, origin, None, "ops", 3);
    let p2 = lab.seal_events("p2.zip", &new, origin, Some(&p1), "ops", 3);
    let ci1 = lab.seal_events("ci1.zip", &ci, "corp.example/ci", None, "ci", 2);
    let ci_prod = lab.seal_events("ciprod.zip", &ci, "corp.example/prod/db", None, "ci", 2);
    // Sealing writes the current time as `created`: rewrite p1 as sealed before the rotation and p2 after it.
    set_created(&p1, "2026-05-31T12:00:00Z", &old);
    set_created(&p2, "2026-06-02T12:00:00Z", &new);
    let o = auditlens(&[
        "verify",
        "--trust-policy",
        &policy,
        p1.to_str().unwrap(),
        p2.to_str().unwrap(),
        ci1.to_str().unwrap(),
    ]);
    let out = all_text(&o);
    assert_eq!(code(&o), 0, "{out}");
    assert!(
        out.contains("signer changes at sequence 2: ops-old"),
        "{out}"
    );
    assert!(
        out.contains("granted for corp.example/prod/* from 2026-06-01"),
        "{out}"
    );
    // The CI key is not granted for prod.
    let o = auditlens(&[
        "verify",
        "--trust-policy",
        &policy,
        ci_prod.to_str().unwrap(),
    ]);
    let out = all_text(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(out.contains("granted only for corp.example/ci"), "{out}");
    // The old key after the rotation: not trusted.
    let late = lab.seal_events("late.zip", &old, origin, Some(&p2), "ops", 1);
    set_created(&late, "2026-06-03T00:00:00Z", &old);
    let o = auditlens(&["verify", "--trust-policy", &policy, late.to_str().unwrap()]);
    let out = all_text(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(
        out.contains("only for archives sealed before 2026-06-01"),
        "{out}"
    );
    // The old key after the rotation, its `created` written back to before it (review finding, 2026-12-08): its
    // events are of July, so it was sealed in July whatever it says; not trusted. Before, `created` alone was
    // believed and it verified.
    let july: Vec<String> = (0..2)
        .map(|i| {
            format!(r#"{{"time":"2026-07-10T10:0{i}:00Z","actor":"ops-user","action":"get"}}"#)
        })
        .collect();
    let input = write_lines(&lab.dir, "backdated.jsonl", &july);
    let backdated = seal_to(&lab.dir, "backdated.zip", &old, origin, Some(&p2), &[input]);
    set_created(&backdated, "2026-05-31T23:00:00Z", &old);
    let o = auditlens(&[
        "verify",
        "--trust-policy",
        &policy,
        backdated.to_str().unwrap(),
    ]);
    let out = all_text(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(
        out.contains("only for archives sealed before 2026-06-01")
            && out.contains("this one was sealed at 2026-07-10T10:01:00Z"),
        "{out}"
    );
    // Import follows the same policy.
    let db = lab.p("store.db");
    let o = auditlens(&[
        "import",
        "--db",
        &db,
        "--trust-policy",
        &policy,
        p1.to_str().unwrap(),
        p2.to_str().unwrap(),
        late.to_str().unwrap(),
    ]);
    let out = all_text(&o);
    assert_eq!(code(&o), 1, "{out}");
    // The rotation is allowed, and still reported where it happens.
    assert!(
        out.contains("signer changes at sequence 2: ops-old"),
        "{out}"
    );
    let o = auditlens(&["search", "--db", &db, "--count", ""]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "6");
    // `check` re-derives trust with the same policy: it passes; with the two keys given bare, the second signer
    // of the origin is not trusted (first use pinned the origin to the old key), and check says so.
    let o = auditlens(&["check", "--db", &db, "--trust-policy", &policy]);
    assert_eq!(code(&o), 0, "{}", all_text(&o));
    let (old_pub, new_pub) = (lab.pub_file(&old), lab.pub_file(&new));
    let o = auditlens(&[
        "check", "--db", &db, "--trust", &old_pub, "--trust", &new_pub,
    ]);
    let out = all_text(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(out.contains("not trusted for this origin"), "{out}");
    // A malformed policy is a usage error naming the line.
    std::fs::write(&policy, "corp.example/* not-a-key\n").unwrap();
    let o = auditlens(&["verify", "--trust-policy", &policy, p1.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(all_text(&o).contains("policy.txt:1"), "{}", all_text(&o));
}

/// Rewrites an archive's signed `created` time and re-signs it with `key`.
fn set_created(path: &Path, created: &str, key: &SignerKey) {
    let mut entries = read_entries(path);
    let m = entry(&mut entries, auditlens::archive::MANIFEST);
    let mut v: serde_json::Value = serde_json::from_slice(m).unwrap();
    v["created"] = serde_json::Value::String(created.into());
    *m = serde_json::to_vec_pretty(&v).unwrap();
    reseal_entries(&mut entries, key);
    write_entries(path, &entries);
}

/// Rewrites an archive's signed `created` and `time_range` and re-signs it with `key`: what the holder of a
/// retired key can do.
fn set_times(path: &Path, created: &str, range: (&str, &str), key: &SignerKey) {
    let mut entries = read_entries(path);
    let m = entry(&mut entries, auditlens::archive::MANIFEST);
    let mut v: serde_json::Value = serde_json::from_slice(m).unwrap();
    v["created"] = serde_json::Value::String(created.into());
    v["time_range"] = serde_json::json!({ "first": range.0, "last": range.1 });
    *m = serde_json::to_vec_pretty(&v).unwrap();
    reseal_entries(&mut entries, key);
    write_entries(path, &entries);
}

/// A retired key signs events of after its retirement, and writes its manifest's `created` and `time_range`
/// back to before it (review finding, 2026-12-08: `verify`, `import`, `check`, promotion and `verify-bundle`
/// all believed the two signed times). The events' own times say when it was sealed: not trusted anywhere.
/// The same archive with honest events of before the rotation is trusted, so the refusal is the events' doing.
#[test]
fn a_retired_key_cannot_backdate_events_past_its_window() {
    let lab = Lab::new();
    let old = key("ops-old");
    let auditor = key("auditor");
    let auditor_key = lab.p("auditor.key");
    std::fs::write(&auditor_key, format!("{}\n", auditor.to_string_private())).unwrap();
    let windowed = lab.p("windowed.txt");
    std::fs::write(
        &windowed,
        format!(
            "corp.example/prod/* {} valid-before=2026-06-01\n",
            old.verifier()
        ),
    )
    .unwrap();
    let forever = lab.p("forever.txt");
    std::fs::write(
        &forever,
        format!("corp.example/prod/* {}\n", old.verifier()),
    )
    .unwrap();
    let origin = "corp.example/prod/k8s";
    let lines = |day: &str| -> Vec<String> {
        (0..3)
            .map(|i| format!(r#"{{"time":"{day}T10:0{i}:00Z","actor":"ops-user","action":"get"}}"#))
            .collect()
    };
    let seal = |name: &str, day: &str| {
        let input = write_lines(&lab.dir, &format!("{name}.jsonl"), &lines(day));
        let out = seal_to(&lab.dir, name, &old, origin, None, &[input]);
        set_times(
            &out,
            "2026-05-31T23:00:00Z",
            ("2026-05-30T00:00:00Z", "2026-05-31T22:00:00Z"),
            &old,
        );
        out
    };
    let honest = seal("honest.zip", "2026-05-30");
    let forged = seal("forged.zip", "2026-07-10");
    let (honest_s, forged_s) = (honest.to_str().unwrap(), forged.to_str().unwrap());

    // verify: the honest one is trusted, the forged one not, by the time of its newest event.
    let o = auditlens(&["verify", "--trust-policy", &windowed, honest_s]);
    assert_eq!(code(&o), 0, "{}", all_text(&o));
    let o = auditlens(&["verify", "--json", "--trust-policy", &windowed, forged_s]);
    let out = all_text(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(
        out.contains("only for archives sealed before 2026-06-01")
            && out.contains("this one was sealed at 2026-05-31T23:00:00Z")
            && out.contains("and holds events up to 2026-07-10T10:02:00Z"),
        "{out}"
    );
    assert!(
        out.contains(r#""newest_event": "2026-07-10T10:02:00Z""#),
        "{out}"
    );

    // import: refused once its events are read; nothing is stored, or it is kept flagged untrusted.
    let db = lab.p("store.db");
    let o = auditlens(&["import", "--db", &db, "--trust-policy", &windowed, forged_s]);
    let out = all_text(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(
        out.contains("holds events up to 2026-07-10T10:02:00Z"),
        "{out}"
    );
    let o = auditlens(&["search", "--db", &db, "--count", ""]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "0");
    let kept = lab.p("kept.db");
    let o = auditlens(&[
        "import",
        "--db",
        &kept,
        "--keep-failed",
        "--trust-policy",
        &windowed,
        forged_s,
    ]);
    assert_eq!(code(&o), 1, "{}", all_text(&o));
    let mut store = Store::open(Path::new(&kept)).unwrap();
    let status: String = store
        .connection()
        .query_row("SELECT status FROM archives", [], |r| r.get(0))
        .unwrap();
    assert_eq!(status, "untrusted");
    // A grant added in the app does not promote it while its window ends before the events, whatever the
    // store's own summary of their times says (an edited `time_last`; review finding, 2026-12-08).
    store
        .connection()
        .execute("UPDATE archives SET time_last = NULL", [])
        .unwrap();
    let policy_of =
        |path: &str| TrustPolicy::parse(&std::fs::read_to_string(path).unwrap(), path).unwrap();
    let windowed_policy = policy_of(&windowed);
    assert!(store.promote_trusted(&windowed_policy).unwrap().is_empty());
    let forever_policy = policy_of(&forever);
    let done = store.promote_trusted(&forever_policy).unwrap();
    assert!(done.len() == 1 && done[0].promoted, "{done:?}");
    // ... and the window put back demotes it.
    let demoted = store.demote_untrusted(&windowed_policy).unwrap();
    assert_eq!(demoted.len(), 1, "{demoted:?}");
    assert!(
        demoted[0]
            .reason
            .contains("holds events up to 2026-07-10T10:02:00Z"),
        "{demoted:?}"
    );
    drop(store);

    // check and verify-bundle: a store that trusted the key without a window, checked and exported.
    let o = auditlens(&["import", "--db", &db, "--trust-policy", &forever, forged_s]);
    assert_eq!(code(&o), 0, "{}", all_text(&o));
    let o = auditlens(&["check", "--db", &db, "--trust-policy", &forever]);
    assert_eq!(code(&o), 0, "{}", all_text(&o));
    let o = auditlens(&["check", "--db", &db, "--trust-policy", &windowed]);
    let out = all_text(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(out.contains("is not trusted for this origin"), "{out}");
    let bundle = lab.export_all(&db, &auditor_key, "b.zip");
    let o = auditlens(&["verify-bundle", "--trust-policy", &forever, &bundle]);
    assert_eq!(code(&o), 0, "{}", all_text(&o));
    let o = auditlens(&["verify-bundle", "--trust-policy", &windowed, &bundle]);
    let out = all_text(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(
        out.contains("and holds events up to 2026-07-10T10:02:00Z"),
        "{out}"
    );
}

/// A key given bare (`--trust`) and with a grant that ends: first use pins the origin to the key that signed its
/// first archive, so the retired key's archive rests on its grant alone, and the grant must hold its events
/// (review finding, 2026-12-08: `verify` read no event time, since the bare key needed none, then fell back to
/// the grant at the signed time; `import` found the archive's own row among the origin's signers).
#[test]
fn a_bare_key_with_a_window_still_needs_its_events_inside_it() {
    let lab = Lab::new();
    let (old, new) = (key("ops-old"), key("ops-new"));
    let origin = "corp.example/prod/k8s";
    let policy = lab.p("policy.txt");
    std::fs::write(
        &policy,
        format!(
            "corp.example/prod/* {}\ncorp.example/prod/* {} valid-before=2026-06-01\n",
            new.verifier(),
            old.verifier()
        ),
    )
    .unwrap();
    let old_pub = lab.pub_file(&old);
    let n1 = lab.seal_events("n1.zip", &new, origin, None, "n", 2);
    let july = vec![r#"{"time":"2026-07-10T10:00:00Z","actor":"late","action":"get"}"#.to_string()];
    let input = write_lines(&lab.dir, "late.jsonl", &july);
    let f2 = seal_to(&lab.dir, "f2.zip", &old, origin, Some(&n1), &[input]);
    set_times(
        &f2,
        "2026-05-31T23:00:00Z",
        ("2026-05-31T22:00:00Z", "2026-05-31T22:00:00Z"),
        &old,
    );
    let (n1, f2) = (n1.to_str().unwrap(), f2.to_str().unwrap());
    let trust = ["--trust", &old_pub, "--trust-policy", &policy];
    let o = auditlens(&[&["verify"][..], &trust, &[n1, f2]].concat());
    let out = all_text(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(
        out.contains("f2.zip: valid signature, untrusted key"),
        "{out}"
    );
    assert!(
        out.contains("1 verified, 1 valid signature but untrusted key"),
        "{out}"
    );
    let db = lab.p("store.db");
    let o = auditlens(&[&["import", "--db", &db][..], &trust, &[n1, f2]].concat());
    let out = all_text(&o);
    assert_eq!(code(&o), 1, "{out}");
    let o = auditlens(&["search", "--db", &db, "--count", "actor:late"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "0", "{out}");
    let o = auditlens(&["search", "--db", &db, "--count", ""]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "2");
}

/// Imported again under other rules (`import --as`), an archive's events can take other times: trust is decided
/// again with them, as a fresh import of it would be. An event whose `time` is of May and `eventTime` of July is
/// May's as generic JSON, July's as CloudTrail. Review findings, 2026-12-08: the re-normalization was stored and
/// the July event shown verified; with the retired key also given bare, its own stored row pinned the origin to it;
/// an archive already stored with July times, imported again under the window, was "verified, nothing changed".
#[test]
fn importing_again_decides_trust_with_the_times_its_events_get() {
    let lab = Lab::new();
    let (old, new) = (key("ops-old"), key("ops-new"));
    let (windowed, forever) = (lab.p("windowed.txt"), lab.p("forever.txt"));
    let grant_new = format!("corp.example/* {}\n", new.verifier());
    std::fs::write(
        &windowed,
        format!(
            "{grant_new}corp.example/* {} valid-before=2026-06-01\n",
            old.verifier()
        ),
    )
    .unwrap();
    std::fs::write(
        &forever,
        format!("{grant_new}corp.example/* {}\n", old.verifier()),
    )
    .unwrap();
    let old_pub = lab.pub_file(&old);
    let origin = "corp.example/app";
    let n1 = lab.seal_events("n1.zip", &new, origin, None, "n", 1);
    let line = r#"{"time":"2026-05-30T10:00:00Z","eventTime":"2026-07-10T10:00:00Z","actor":"x"}"#;
    let input = write_lines(&lab.dir, "e.jsonl", &[line.to_string()]);
    let a2 = seal_to(&lab.dir, "a2.zip", &old, origin, Some(&n1), &[input]);
    set_times(
        &a2,
        "2026-05-31T23:00:00Z",
        ("2026-05-30T10:00:00Z", "2026-05-30T10:00:00Z"),
        &old,
    );
    let (n1, a2) = (n1.to_str().unwrap(), a2.to_str().unwrap());
    let count = |db: &str, q: &str| {
        let o = auditlens(&["search", "--db", db, "--count", q]);
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    // The grant does not hold the July event; given bare too, the key is refused for the origin its successor
    // signed first.
    let refused_for_july = |out: &str| {
        out.contains("holds events up to 2026-07-10T10:00:00Z")
            || out.contains("already signed by ops-new")
    };
    for bare in [&[][..], &["--trust", &old_pub][..]] {
        let db = lab.p(&format!("store{}.db", bare.len()));
        let import = |policy: &str, extra: &[&str], archives: &[&str]| {
            let args = [
                &["import", "--db", &db, "--trust-policy", policy][..],
                bare,
                extra,
                archives,
            ];
            auditlens(&args.concat())
        };
        // As generic JSON it is of May: trusted.
        let o = import(&windowed, &[], &[n1, a2]);
        assert_eq!(code(&o), 0, "{}", all_text(&o));
        let o = import(&windowed, &["--as", "cloudtrail"], &[a2]);
        let out = all_text(&o);
        assert_ne!(code(&o), 0, "{bare:?} {out}");
        assert!(refused_for_july(&out), "{out}");
        assert_eq!(count(&db, "after:2026-06-01"), "0");
        assert_eq!(count(&db, "source:jsonl"), "2");
        let check = |policy: &str| {
            auditlens(&[&["check", "--db", &db, "--trust-policy", policy][..], bare].concat())
        };
        let o = check(&windowed);
        assert_eq!(code(&o), 0, "{}", all_text(&o));
        // Re-normalized where the old key is trusted for good; then imported again under the window.
        let o = import(&forever, &["--as", "cloudtrail"], &[a2]);
        assert_eq!(code(&o), 0, "{}", all_text(&o));
        assert_eq!(count(&db, "after:2026-06-01"), "1");
        let o = import(&windowed, &["--as", "cloudtrail"], &[a2]);
        let out = all_text(&o);
        assert_eq!(code(&o), 1, "{bare:?} {out}");
        assert!(
            out.contains("not trusted with the times its events have in the store")
                && refused_for_july(&out),
            "{out}"
        );
        let o = check(&windowed);
        assert_eq!(code(&o), 1, "{}", all_text(&o));
    }
}

/// `verify-bundle` decides producer trust with the same policy: a grant for the bundle's origin verifies it; a
/// key granted only for another origin does not.
#[test]
fn verify_bundle_follows_the_trust_policy() {
    let lab = Lab::new();
    let a = key("team-a");
    let auditor = key("auditor");
    let a_pub = lab.pub_file(&a);
    let auditor_key = lab.p("auditor.key");
    std::fs::write(&auditor_key, format!("{}\n", auditor.to_string_private())).unwrap();
    let a1 = lab.seal_events("a1.zip", &a, "a.example/log", None, "a", 3);
    let db = lab.p("store.db");
    let o = auditlens(&[
        "import",
        "--db",
        &db,
        "--trust",
        &a_pub,
        a1.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", all_text(&o));
    let bundle = lab.export_all(&db, &auditor_key, "b.zip");
    let good = lab.p("good.txt");
    std::fs::write(&good, format!("a.example/* {}\n", a.verifier())).unwrap();
    let o = auditlens(&["verify-bundle", "--trust-policy", &good, &bundle]);
    assert_eq!(code(&o), 0, "{}", all_text(&o));
    let other = lab.p("other.txt");
    std::fs::write(&other, format!("b.example/log {}\n", a.verifier())).unwrap();
    let o = auditlens(&["verify-bundle", "--trust-policy", &other, &bundle]);
    let out = all_text(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(out.contains("granted only for b.example/log"), "{out}");
}

/// A signer change is a notice of `check`; the signer names in it came from archives and reach the terminal
/// escaped (a right-to-left override in a key name printed raw before this fix).
#[test]
fn check_notices_show_signer_names_escaped() {
    let lab = Lab::new();
    let a = key("ops");
    let b = key("ops\u{202e}x");
    let origin = "a.example/log";
    let a1 = lab.seal_events("a1.zip", &a, origin, None, "a", 2);
    let b2 = lab.seal_events("b2.zip", &b, origin, Some(&a1), "b", 2);
    let policy = lab.p("policy.txt");
    std::fs::write(
        &policy,
        format!("{origin} {}\n{origin} {}\n", a.verifier(), b.verifier()),
    )
    .unwrap();
    let db = lab.p("store.db");
    let o = auditlens(&[
        "import",
        "--db",
        &db,
        "--trust-policy",
        &policy,
        a1.to_str().unwrap(),
        b2.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", all_text(&o));
    let o = auditlens(&["check", "--db", &db, "--trust-policy", &policy]);
    let out = all_text(&o);
    assert_eq!(code(&o), 0, "{out}");
    assert!(out.contains("ops\\u{202e}x"), "{out}");
    assert!(!out.contains('\u{202e}'), "{out}");
}
