//! The command-line contract of `auditlens export` and `auditlens verify-bundle`: exit codes (0 ok, 1 cannot be
//! exported as verified / does not verify, 2 usage or I/O), what goes to stdout and stderr, and the `--json`
//! document. Everything runs the real binary on archives made by the real `seal` from the k8s fixture.

use std::path::PathBuf;
use std::process::Output;

use crate::common::*;

const K8S: &str = "example.com/prod/k8s";

#[track_caller]
fn assert_code(o: &Output, expected: i32) {
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(code(o), expected, "stdout: {out}\nstderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

struct Env {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Env {
    /// Keys for the producer (ops-prod) and the auditor (jane), demo.log sealed and imported.
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let env = Env {
            dir: tmp.path().to_path_buf(),
            _tmp: tmp,
        };
        for name in ["ops-prod", "jane", "mallory"] {
            assert_code(
                &auditlens(&["keygen", "--name", name, "--out", &env.p("keys")]),
                0,
            );
        }
        let log = fixture(K8S_LOG).display().to_string();
        assert_code(
            &auditlens(&[
                "seal",
                "--key",
                &env.p("keys/ops-prod.key"),
                "--origin",
                K8S,
                "--out",
                &env.p("a.zip"),
                &log,
            ]),
            0,
        );
        assert_code(
            &auditlens(&[
                "import",
                "--db",
                &env.p("s.db"),
                "--trust",
                &env.p("keys/ops-prod.pub"),
                &env.p("a.zip"),
            ]),
            0,
        );
        env
    }
    fn p(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
    fn export(&self, selection: &[&str], out: &str) -> Output {
        let (db, key, out) = (self.p("s.db"), self.p("keys/jane.key"), self.p(out));
        let mut args = vec!["export", "--db", &db];
        args.extend_from_slice(selection);
        args.extend_from_slice(&[
            "--key",
            &key,
            "--purpose",
            "INC-7: who was denied",
            "--out",
            &out,
        ]);
        auditlens(&args)
    }
    fn verify(&self, extra: &[&str], bundle: &str) -> Output {
        let mut args = vec!["verify-bundle"];
        args.extend_from_slice(extra);
        let b = self.p(bundle);
        args.push(&b);
        auditlens(&args)
    }
}

#[test]
fn export_then_verify_bundle_exit_zero_with_the_report_on_stdout() {
    let env = Env::new();
    let o = env.export(&["--query", "outcome:denied"], "b.zip");
    assert_code(&o, 0);
    assert!(
        text(&o.stdout).starts_with("exported 11 event(s) from 1 archive(s)"),
        "{}",
        text(&o.stdout)
    );
    let trust = env.p("keys/ops-prod.pub");
    let o = env.verify(&["--trust", &trust], "b.zip");
    assert_code(&o, 0);
    let out = text(&o.stdout);
    assert!(out.contains("b.zip: VERIFIED"), "{out}");
    assert!(
        out.contains("NOT trusted: compare the fingerprint"),
        "auditor not required: {out}"
    );
    assert!(out.contains("purpose     INC-7: who was denied"), "{out}");
    assert_eq!(out.matches("\n  event ").count(), 11, "{out}");
    assert!(
        out.contains("OK: 11 event(s) from 1 archive(s) verified"),
        "{out}"
    );
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
    // A trusted auditor too.
    let o = env.verify(
        &[
            "--trust",
            &trust,
            "--trust-auditor",
            &env.p("keys/jane.pub"),
        ],
        "b.zip",
    );
    assert_code(&o, 0);
    assert!(text(&o.stdout).contains("(trusted)\n"));
}

#[test]
fn a_bundle_given_where_an_archive_is_expected_is_named_as_a_bundle() {
    let env = Env::new();
    assert_code(&env.export(&["--query", "outcome:denied"], "b.zip"), 0);
    let o = auditlens(&[
        "verify",
        "--trust",
        &env.p("keys/ops-prod.pub"),
        &env.p("b.zip"),
    ]);
    assert_code(&o, 1);
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert!(
        out.contains("this is an evidence bundle, not an archive")
            && out.contains("auditlens verify-bundle"),
        "{out}"
    );
}

#[test]
fn verify_bundle_json_has_events_and_who_exported_when_and_why() {
    let env = Env::new();
    assert_code(&env.export(&["--query", "alice"], "b.zip"), 0);
    let o = env.verify(&["--json", "--trust", &env.p("keys/ops-prod.pub")], "b.zip");
    assert_code(&o, 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["status"], "verified");
    assert!(v["failure"].is_null());
    let events = v["events"].as_array().unwrap();
    assert_eq!(events.len(), 3);
    for (e, idx) in events.iter().zip([34, 35, 36]) {
        assert_eq!(e["id"], format!("{K8S}@1#{idx}"));
        assert_eq!(e["origin"], K8S);
        assert_eq!(e["sequence"], 1);
        assert_eq!(e["index"], idx);
        assert_eq!(e["leaf"].as_str().unwrap().len(), 44);
    }
    let jane = std::fs::read_to_string(env.p("keys/jane.pub")).unwrap();
    assert_eq!(v["auditor"]["key"], jane.trim());
    assert!(
        v["auditor"]["fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("SHA256:")
    );
    assert_eq!(v["auditor"]["trusted"], false);
    assert_eq!(v["purpose"], "INC-7: who was denied");
    assert!(v["exported"].as_str().unwrap().ends_with('Z'));
    assert_eq!(v["selection"]["query"], "alice");
    assert!(v["selection"]["ids"].is_null());
    assert_eq!(v["archives"][0]["signer"]["trusted"], true);
    assert!(v["tool"].as_str().unwrap().starts_with("auditlens "));
}

#[test]
fn ids_files_take_plain_ids_and_search_json_output() {
    let env = Env::new();
    std::fs::write(env.p("ids.txt"), format!("{K8S}@1#5\n\n{K8S}@1#2\n")).unwrap();
    let ids = env.p("ids.txt");
    assert_code(&env.export(&["--ids", &ids], "ids.zip"), 0);
    let search = auditlens(&["search", "--db", &env.p("s.db"), "--json", "alice"]);
    assert_code(&search, 0);
    std::fs::write(env.p("found.jsonl"), &search.stdout).unwrap();
    let found = env.p("found.jsonl");
    assert_code(&env.export(&["--ids", &found], "b.zip"), 0);
    let o = env.verify(&["--json", "--trust", &env.p("keys/ops-prod.pub")], "b.zip");
    assert_code(&o, 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["events"].as_array().unwrap().len(), 3);
    assert_eq!(v["selection"]["ids"].as_array().unwrap().len(), 3);
}

#[test]
fn export_exits_one_when_something_cannot_be_exported_as_verified() {
    let env = Env::new();
    std::fs::write(env.p("ids.txt"), format!("{K8S}@1#5\n{K8S}@1#500\n")).unwrap();
    let ids = env.p("ids.txt");
    let o = env.export(&["--ids", &ids], "b.zip");
    assert_code(&o, 1);
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!("{K8S}@1#500: not found in the store")),
        "{err}"
    );
    assert!(err.contains("NOT EXPORTED"), "{err}");
    assert!(o.stdout.is_empty());
    assert!(
        !std::path::Path::new(&env.p("b.zip")).exists(),
        "nothing is written"
    );
    // An archive stored flagged (untrusted key, kept) is never exported.
    let log = fixture(K8S_LOG).display().to_string();
    assert_code(
        &auditlens(&[
            "seal",
            "--key",
            &env.p("keys/mallory.key"),
            "--origin",
            "example.com/dev",
            "--out",
            &env.p("d.zip"),
            &log,
        ]),
        0,
    );
    assert_code(
        &auditlens(&[
            "import",
            "--db",
            &env.p("s.db"),
            "--keep-failed",
            &env.p("d.zip"),
        ]),
        1,
    );
    let o = env.export(&["--query", "alice"], "c.zip");
    assert_code(&o, 1);
    assert!(
        text(&o.stderr).contains("stored as untrusted, not verified"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn export_usage_and_io_errors_exit_two() {
    let env = Env::new();
    let db = env.p("s.db");
    let key = env.p("keys/jane.key");
    let out = env.p("x.zip");
    let base = [
        "export",
        "--db",
        &db,
        "--key",
        &key,
        "--purpose",
        "p",
        "--out",
        &out,
    ];
    // Neither or both selections.
    assert_code(&auditlens(&base), 2);
    let mut both = base.to_vec();
    both.extend_from_slice(&["--query", "alice", "--ids", &out]);
    assert_code(&auditlens(&both), 2);
    // A query error, with its column.
    let o = env.export(&["--query", "actor:"], "x.zip");
    assert_code(&o, 2);
    assert!(
        text(&o.stderr).contains("query error at column 7"),
        "{}",
        text(&o.stderr)
    );
    // A query that matches nothing.
    let o = env.export(&["--query", "alice outcome:success"], "x.zip");
    assert_code(&o, 2);
    assert!(text(&o.stderr).contains("matches no event"));
    // A malformed id, a missing ids file, a missing database, a bad key, an existing output.
    std::fs::write(env.p("bad.txt"), "not-an-id\n").unwrap();
    assert_code(&env.export(&["--ids", &env.p("bad.txt")], "x.zip"), 2);
    assert_code(&env.export(&["--ids", &env.p("missing.txt")], "x.zip"), 2);
    let o = auditlens(&[
        "export",
        "--db",
        &env.p("none.db"),
        "--query",
        "a",
        "--key",
        &key,
        "--purpose",
        "p",
        "--out",
        &out,
    ]);
    assert_code(&o, 2);
    let o = auditlens(&[
        "export",
        "--db",
        &db,
        "--query",
        "alice",
        "--key",
        &env.p("keys/jane.pub"),
        "--purpose",
        "p",
        "--out",
        &out,
    ]);
    assert_code(&o, 2);
    assert!(text(&o.stderr).contains("not a signing key"));
    assert_code(&env.export(&["--query", "alice"], "x.zip"), 0);
    let o = env.export(&["--query", "alice"], "x.zip");
    assert_code(&o, 2);
    assert!(text(&o.stderr).contains("already exists"));
    let o = auditlens(&[
        "export",
        "--db",
        &db,
        "--query",
        "alice",
        "--key",
        &key,
        "--purpose",
        " ",
        "--out",
        &env.p("y.zip"),
    ]);
    assert_code(&o, 2);
}

#[test]
fn verify_bundle_exits_one_with_the_exact_reason_on_stderr() {
    let env = Env::new();
    assert_code(&env.export(&["--query", "outcome:denied"], "b.zip"), 0);
    let trust = env.p("keys/ops-prod.pub");
    // Untrusted producer key: intact but not verified.
    let o = env.verify(&[], "b.zip");
    assert_code(&o, 1);
    let err = text(&o.stderr);
    assert!(
        err.contains("intact, but NOT TRUSTED (untrusted-producer)"),
        "{err}"
    );
    assert!(
        err.contains("pass --trust KEY.pub") && err.ends_with("NOT VERIFIED\n"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
    // Another auditor required.
    let o = env.verify(
        &[
            "--trust",
            &trust,
            "--trust-auditor",
            &env.p("keys/mallory.pub"),
        ],
        "b.zip",
    );
    assert_code(&o, 1);
    assert!(text(&o.stderr).contains("untrusted-auditor"));
    // One byte of an event changed.
    rewrite(&env.dir.join("b.zip"), &env.dir.join("t.zip"), |e| {
        let data = entry(e, "events.jsonl");
        data[40] ^= 1;
    });
    let o = env.verify(&["--trust", &trust], "t.zip");
    assert_code(&o, 1);
    let err = text(&o.stderr);
    assert!(err.contains("t.zip: FAILED (entries)"), "{err}");
    assert!(
        err.contains("reason      entry \"events.jsonl\" differs from the one the auditor signed"),
        "{err}"
    );
    assert!(err.contains("expected") && err.contains("found"), "{err}");
    assert!(
        !err.contains("  event "),
        "no event is listed as verified: {err}"
    );
    // --json on a failure.
    let o = env.verify(&["--json", "--trust", &trust], "t.zip");
    assert_code(&o, 1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], "failed");
    assert_eq!(v["failure"]["kind"], "entries");
    assert_eq!(v["failure"]["entry"], "events.jsonl");
    assert_eq!(v["events"].as_array().unwrap().len(), 0);
    // Not a ZIP.
    std::fs::write(env.p("junk.zip"), b"PK\x03\x04 certainly not").unwrap();
    let o = env.verify(&["--trust", &trust], "junk.zip");
    assert_code(&o, 1);
    assert!(text(&o.stderr).contains("FAILED (container)"));
}

#[test]
fn verify_bundle_usage_and_io_errors_exit_two() {
    let env = Env::new();
    assert_code(&env.export(&["--query", "alice"], "b.zip"), 0);
    assert_code(&env.verify(&[], "missing.zip"), 2);
    assert_code(
        &env.verify(&["--trust", &env.p("keys/none.pub")], "b.zip"),
        2,
    );
    assert_code(
        &env.verify(&["--trust", &env.p("keys/jane.key")], "b.zip"),
        2,
    );
    assert_code(&auditlens(&["verify-bundle"]), 2);
    assert_code(
        &auditlens(&["verify-bundle", "--bogus", &env.p("b.zip")]),
        2,
    );
}

#[test]
fn hostile_text_is_made_safe_for_the_terminal() {
    let env = Env::new();
    let o = auditlens(&[
        "export",
        "--db",
        &env.p("s.db"),
        "--query",
        "alice",
        "--key",
        &env.p("keys/jane.key"),
        "--purpose",
        "INC-9 \u{1b}[31mred\u{1b}[0m \u{202E}txet",
        "--out",
        &env.p("b.zip"),
    ]);
    assert_code(&o, 0);
    let o = env.verify(&["--trust", &env.p("keys/ops-prod.pub")], "b.zip");
    assert_code(&o, 0);
    let out = text(&o.stdout);
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{202E}'),
        "{out:?}"
    );
    assert!(
        out.contains("INC-9 \\u{1b}[31mred\\u{1b}[0m \\u{202e}txet"),
        "{out}"
    );
}

/// Re-signs a bundle's entries (the manifest recomputed) with the key in `key_file`: what anyone holding any key
/// can do.
fn resign_with(entries: &mut Vec<(String, Vec<u8>)>, key_file: &str) {
    let key = auditlens::note::SignerKey::parse(std::fs::read_to_string(key_file).unwrap().trim())
        .unwrap();
    super::common::resign_bundle(entries, &key);
}

#[test]
fn a_report_that_lies_fails_verify_bundle_with_exit_one_naming_the_difference() {
    // Issue 11, attack 9. Before the fix: exit 0, "VERIFIED", for the forged page and the forged report.json.
    let env = Env::new();
    let (db, key, out) = (env.p("s.db"), env.p("keys/mallory.key"), env.p("m.zip"));
    let o = auditlens(&[
        "export",
        "--db",
        &db,
        "--query",
        "outcome:denied",
        "--key",
        &key,
        "--purpose",
        "INC-7: who was denied",
        "--out",
        &out,
    ]);
    assert_code(&o, 0);
    let trust = env.p("keys/ops-prod.pub");
    // Untouched: exit 0, but the verdict says whose selection and reports these are.
    let o = env.verify(&["--trust", &trust], "m.zip");
    assert_code(&o, 0);
    let stdout = text(&o.stdout);
    let headline = stdout.lines().next().unwrap();
    assert!(
        headline.contains(
            "m.zip: VERIFIED events from trusted producers; selection, purpose and reports by an UNTRUSTED \
             auditor key mallory SHA256:"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("the auditor key is NOT trusted"),
        "{stdout}"
    );
    let o = env.verify(
        &[
            "--trust",
            &trust,
            "--trust-auditor",
            &env.p("keys/mallory.pub"),
        ],
        "m.zip",
    );
    assert_code(&o, 0);
    assert!(
        text(&o.stdout)
            .lines()
            .next()
            .unwrap()
            .ends_with("m.zip: VERIFIED")
    );

    // A row's actor changed in report.html, re-signed by mallory.
    rewrite(&env.dir.join("m.zip"), &env.dir.join("h.zip"), |e| {
        let html = String::from_utf8(entry(e, "report.html").clone()).unwrap();
        let start = html
            .find("<tr><td class=\"n\"><a href=\"#event-2\">")
            .unwrap();
        let end = start + html[start..].find('\n').unwrap();
        let row = &html[start..end];
        let actor_at = row.find("<td class=\"v\">").unwrap() + "<td class=\"v\">".len();
        let actor_end = actor_at + row[actor_at..].find("</td>").unwrap();
        let forged = format!(
            "{}\u{1b}[2Jsomeone-else{}",
            &row[..actor_at],
            &row[actor_end..]
        );
        *entry(e, "report.html") = html.replace(row, &forged).into_bytes();
        resign_with(e, &key);
    });
    let o = env.verify(&["--trust", &trust], "h.zip");
    assert_code(&o, 1);
    let err = text(&o.stderr);
    eprintln!("{err}");
    assert!(o.stdout.is_empty());
    assert!(err.contains("h.zip: FAILED (report)"), "{err}");
    assert!(
        err.contains(
            "reason      report.html is not the report derived from the bundle's events, selection and signed \
             metadata: line "
        ) && err.contains("in section \"2. Events at a glance\", row 2 (event 2)"),
        "{err}"
    );
    assert!(
        err.contains(&format!("where       entry report.html, event {K8S}@1#1")),
        "{err}"
    );
    assert!(
        err.contains("\\u{1b}[2Jsomeone-else"),
        "escaped for the terminal: {err}"
    );
    assert!(!err.contains('\u{1b}'), "{err}");
    assert!(
        err.contains("\n  expected    ") && err.contains("\n  found       "),
        "{err}"
    );
    assert!(err.ends_with("NOT VERIFIED\n"), "{err}");
    let o = env.verify(&["--json", "--trust", &trust], "h.zip");
    assert_code(&o, 1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], "failed");
    assert_eq!(v["failure"]["kind"], "report");
    assert_eq!(v["failure"]["entry"], "report.html");
    assert!(
        v["failure"]["found"]
            .as_str()
            .unwrap()
            .contains("\u{1b}[2Jsomeone-else")
    );

    // A figure of report.json changed, re-signed by mallory.
    rewrite(&env.dir.join("m.zip"), &env.dir.join("j.zip"), |e| {
        let mut v: serde_json::Value = serde_json::from_slice(entry(e, "report.json")).unwrap();
        v["events"][0]["outcome"] = "success".into();
        *entry(e, "report.json") = serde_json::to_vec_pretty(&v).unwrap();
        resign_with(e, &key);
    });
    let o = env.verify(&["--trust", &trust], "j.zip");
    assert_code(&o, 1);
    let err = text(&o.stderr);
    assert!(err.contains("j.zip: FAILED (report)"), "{err}");
    assert!(
        err.contains("signed metadata: events[0].outcome\n"),
        "{err}"
    );
    assert!(
        err.contains("  expected    \"denied\"\n  found       \"success\"\n"),
        "{err}"
    );
}

/// `auditlens log` (issue 16): the import, the re-check and the export are in the auditor's action log; the
/// chain checks (exit 0), an exported copy checks against its head, and an edited, reordered or truncated copy
/// fails (exit 1) naming the entry with the expected and found hash.
#[test]
fn the_action_log_records_imports_checks_and_exports_and_catches_an_edit() {
    let env = Env::new();
    let db = env.p("s.db");
    assert_code(&env.export(&["--query", "outcome:denied"], "b.zip"), 0);
    let trust = env.p("keys/ops-prod.pub");
    assert_code(&auditlens(&["check", "--db", &db, "--trust", &trust]), 0);
    let out_file = env.p("log.jsonl");
    let o = auditlens(&["log", "--db", &db, "--out", &out_file]);
    assert_code(&o, 0);
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].contains("  import  ")
            && lines[0].contains("a.zip: imported: example.com/prod/k8s#"),
        "{out}"
    );
    assert!(
        lines[1].contains("  bundle exported  ") && lines[1].contains("11 events of 1 archive,"),
        "{out}"
    );
    assert!(
        lines[2].contains("  re-check  ") && lines[2].contains("OK: 1 archive, 37 events"),
        "{out}"
    );
    assert!(
        lines[3].starts_with("OK: 3 entries, hash chain whole; head "),
        "{out}"
    );
    let head = lines[3].rsplit(' ').next().unwrap().to_owned();

    // The exported copy (3 entries; exporting it is the 4th) checks, and ends at the head printed then.
    let o = auditlens(&["log", "--file", &out_file, "--head", &head]);
    assert_code(&o, 0);
    let o = auditlens(&["log", "--db", &db, "--jsonl"]);
    assert_code(&o, 0);
    let jsonl = text(&o.stdout);
    assert_eq!(jsonl.lines().count(), 4);
    assert!(
        jsonl
            .lines()
            .nth(3)
            .unwrap()
            .contains("\"action log exported\"")
    );

    // Edited: the detail of entry 2 changed.
    let copy = std::fs::read_to_string(&out_file).unwrap();
    let edited = env.p("edited.jsonl");
    std::fs::write(&edited, copy.replacen("11 events", "12 events", 1)).unwrap();
    let o = auditlens(&["log", "--file", &edited]);
    assert_code(&o, 1);
    let err = text(&o.stderr);
    assert!(
        err.contains("entry 2: was changed after it was written"),
        "{err}"
    );
    assert!(
        err.contains("expected ") && err.contains(", found "),
        "{err}"
    );
    assert!(err.contains("NOT OK: 1 problem(s)"), "{err}");
    // Reordered.
    let mut l: Vec<&str> = copy.lines().collect();
    l.swap(0, 1);
    std::fs::write(&edited, l.join("\n")).unwrap();
    assert_code(&auditlens(&["log", "--file", &edited]), 1);
    // Truncated: still a whole chain, but not ending at the head recorded.
    let l: Vec<&str> = copy.lines().take(2).collect();
    std::fs::write(&edited, l.join("\n")).unwrap();
    assert_code(&auditlens(&["log", "--file", &edited]), 0);
    let o = auditlens(&["log", "--file", &edited, "--head", &head]);
    assert_code(&o, 1);
    assert!(text(&o.stderr).contains("entries were removed from its end"));

    // In the database itself: the append-only triggers dropped and an entry edited.
    let conn = rusqlite::Connection::open(format!("{db}.papers")).unwrap();
    conn.execute_batch(
        "DROP TRIGGER actions_no_update; UPDATE actions SET subject = 'elsewhere.zip' WHERE seq = 1",
    )
    .unwrap();
    drop(conn);
    let o = auditlens(&["log", "--db", &db]);
    assert_code(&o, 1);
    assert!(
        text(&o.stderr).contains("entry 1: was changed"),
        "{}",
        text(&o.stderr)
    );
    // Usage.
    assert_code(&auditlens(&["log"]), 2);
}

/// A copy of the action log is a file from outside: a hash holding terminal escapes is shown escaped, never sent
/// to the terminal as is, whichever verdict prints it.
#[test]
fn an_action_log_copy_with_escapes_in_its_hash_reaches_the_terminal_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("log.jsonl");
    std::fs::write(
        &file,
        "{\"seq\":1,\"at\":\"2026-12-04T00:00:00Z\",\"action\":\"import\",\"subject\":\"\\u001b[2Ja.zip\",\
         \"detail\":\"x\",\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\",\
         \"hash\":\"\\u001b]0;pwned\\u0007\"}\n",
    )
    .unwrap();
    let path = file.display().to_string();
    for args in [
        vec!["log", "--file", &path],
        vec!["log", "--file", &path, "--head", "ab"],
    ] {
        let o = auditlens(&args);
        assert_code(&o, 1);
        let (out, err) = (text(&o.stdout), text(&o.stderr));
        assert!(
            !out.contains('\u{1b}') && !err.contains('\u{1b}'),
            "{out}{err}"
        );
        assert!(
            !out.contains('\u{7}') && !err.contains('\u{7}'),
            "{out}{err}"
        );
    }
}
