//! The command-line contract of `keygen`, `seal` and `verify` (exit codes, output streams, messages), and
//! malformed inputs: each gives a clear error and exit 1 or 2, never a panic and never "verified".

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;

/// No panic message, no "verified" claim for a bad input.
fn assert_clean_failure(o: &Output, expected_code: i32) {
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(code(o), expected_code, "stdout: {out}\nstderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out.contains("VERIFIED") && !out.starts_with("OK"), "{out}");
}

struct Env {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Env {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let o = auditlens(&[
            "keygen",
            "--name",
            "ops-prod",
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(code(&o), 0, "{}", text(&o.stderr));
        Env { _tmp: tmp, dir }
    }
    fn p(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
    fn seal(&self, out: &str, inputs: &[&Path], extra: &[&str]) -> Output {
        let mut args = vec![
            "seal",
            "--key",
            self.dir.join("ops-prod.key").to_str().unwrap(),
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        args.extend([
            "--origin".into(),
            "example.com/prod/k8s".into(),
            "--out".into(),
            self.p(out),
        ]);
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(inputs.iter().map(|p| p.display().to_string()));
        Command::new(env!("CARGO_BIN_EXE_auditlens"))
            .args(&args)
            .output()
            .unwrap()
    }
    fn verify(&self, archives: &[&str], extra: &[&str]) -> Output {
        let key = self.p("ops-prod.pub");
        let mut args = vec!["verify", "--trust", &key];
        args.extend_from_slice(extra);
        args.extend_from_slice(archives);
        auditlens(&args)
    }
}

#[test]
fn keygen_writes_a_private_key_readable_only_by_its_owner_and_a_verifier_key() {
    let e = Env::new();
    let key = std::fs::read_to_string(e.dir.join("ops-prod.key")).unwrap();
    let public = std::fs::read_to_string(e.dir.join("ops-prod.pub")).unwrap();
    assert!(key.starts_with("PRIVATE+KEY+ops-prod+"));
    assert!(public.starts_with("ops-prod+") && public.ends_with('\n'));
    auditlens::note::VerifierKey::parse(public.trim()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(e.dir.join("ops-prod.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Never overwrites an existing key.
    let again = auditlens(&[
        "keygen",
        "--name",
        "ops-prod",
        "--out",
        e.dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&again), 2);
    assert_eq!(
        std::fs::read_to_string(e.dir.join("ops-prod.key")).unwrap(),
        key
    );
}

#[test]
fn seal_then_verify_real_logs_exits_zero_with_the_facts_on_stdout() {
    let e = Env::new();
    let o = e.seal("a.zip", &[&fixture(K8S_LOG)], &[]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let v = e.verify(&[&e.p("a.zip")], &[]);
    let out = text(&v.stdout);
    assert_eq!(code(&v), 0, "{out}{}", text(&v.stderr));
    for needle in [
        "VERIFIED",
        "example.com/prod/k8s",
        "sequence",
        "37",
        "2017-09-11T19:55:05Z",
        "ops-prod+",
        "SHA256:",
    ] {
        assert!(out.contains(needle), "missing {needle}: {out}");
    }
}

#[test]
fn verify_without_trust_reports_an_untrusted_key_and_exits_one() {
    let e = Env::new();
    e.seal("a.zip", &[&fixture(K8S_LOG)], &[]);
    let v = auditlens(&["verify", &e.p("a.zip")]);
    assert_eq!(code(&v), 1);
    assert!(
        text(&v.stderr).contains("valid signature, untrusted key"),
        "{}",
        text(&v.stderr)
    );
}

#[test]
fn verify_json_is_one_document_with_the_failure_details() {
    let e = Env::new();
    e.seal("a.zip", &[&fixture(K8S_LOG)], &[]);
    rewrite(&e.dir.join("a.zip"), &e.dir.join("bad.zip"), |en| {
        let data = entry(en, "events/000001.jsonl");
        let pos = data.iter().position(|b| *b == b'\n').unwrap() + 20;
        data[pos] ^= 0x01;
    });
    let v = e.verify(&[&e.p("a.zip"), &e.p("bad.zip")], &["--json"]);
    assert_eq!(code(&v), 1);
    let doc: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["archives"][0]["status"], "verified");
    let bad = &doc["archives"][1];
    assert_eq!(bad["status"], "failed");
    assert_eq!(bad["failure"]["kind"], "leaf-mismatch");
    assert_eq!(bad["failure"]["entry"], "events/000001.jsonl");
    assert_eq!(bad["failure"]["line"], 2);
    assert_eq!(bad["failure"]["event_index"], 1);
    assert_eq!(bad["failure"]["expected"].as_str().unwrap().len(), 64);
}

#[test]
fn human_failure_report_goes_to_stderr_and_names_the_place() {
    let e = Env::new();
    e.seal("a.zip", &[&fixture(K8S_LOG)], &[]);
    rewrite(&e.dir.join("a.zip"), &e.dir.join("bad.zip"), |en| {
        let mut lines = event_lines(entry(en, "events/000001.jsonl"));
        lines.remove(2);
        *entry(en, "events/000001.jsonl") = join_lines(&lines);
    });
    let v = e.verify(&[&e.p("bad.zip")], &[]);
    assert_eq!(code(&v), 1);
    let err = text(&v.stderr);
    assert!(err.contains("FAILED"), "{err}");
    assert!(
        err.contains("entry events/000001.jsonl, line 3, event index 2"),
        "{err}"
    );
    assert!(err.contains("expected") && err.contains("found"), "{err}");
    assert!(text(&v.stdout).is_empty(), "{}", text(&v.stdout));
}

#[test]
fn seal_with_prev_links_and_the_set_verifies_gaps_fail() {
    let e = Env::new();
    let lines = |n: usize| -> Vec<String> {
        (0..3)
            .map(|i| format!(r#"{{"part":{n},"i":{i}}}"#))
            .collect()
    };
    let mut archives = Vec::new();
    for n in 1..=3 {
        let input = write_lines(&e.dir, &format!("in{n}.jsonl"), &lines(n));
        let prev = (n > 1).then(|| e.p(&format!("s{}.zip", n - 1)));
        let extra: Vec<&str> = prev
            .as_deref()
            .map(|p| vec!["--prev", p])
            .unwrap_or_default();
        let o = e.seal(&format!("s{n}.zip"), &[&input], &extra);
        assert_eq!(code(&o), 0, "{}", text(&o.stderr));
        archives.push(e.p(&format!("s{n}.zip")));
    }
    let all: Vec<&str> = archives.iter().map(String::as_str).collect();
    assert_eq!(code(&e.verify(&all, &[])), 0);
    let gap = e.verify(&[all[0], all[2]], &[]);
    assert_eq!(code(&gap), 1);
    assert!(
        text(&gap.stderr).contains("gap: sequence 2 is missing"),
        "{}",
        text(&gap.stderr)
    );
    let later = e.verify(&[all[1], all[2]], &[]);
    assert_eq!(code(&later), 0);
    assert!(
        text(&later.stdout).contains("starts at sequence 2"),
        "{}",
        text(&later.stdout)
    );
}

#[test]
fn usage_and_io_errors_exit_two() {
    let e = Env::new();
    assert_eq!(code(&auditlens(&["verify"])), 2);
    assert_eq!(code(&auditlens(&["frobnicate"])), 2);
    let missing = e.verify(&[&e.p("nope.zip")], &[]);
    assert_eq!(code(&missing), 2);
    assert!(text(&missing.stderr).contains("nope.zip"));
    let bad_trust = auditlens(&["verify", "--trust", &e.p("ops-prod.key"), &e.p("x.zip")]);
    assert_eq!(code(&bad_trust), 2);
    let o = e.seal("a.zip", &[&e.dir.join("missing.jsonl")], &[]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("missing.jsonl"));
    let o = e.seal("a.zip", &[&fixture(K8S_LOG)], &["--format", "syslog"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn seal_names_the_file_and_line_of_bad_input() {
    let e = Env::new();
    let input = e.dir.join("bad.jsonl");
    std::fs::write(&input, b"{\"a\":1}\n\n{\"b\": oops}\n").unwrap();
    let o = e.seal("a.zip", &[&input], &[]);
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr);
    assert!(err.contains(&format!("{}:3:", input.display())), "{err}");
    assert!(
        !e.dir.join("a.zip").exists(),
        "no archive may be left behind"
    );

    std::fs::write(&input, b"{\"a\":\"\xff\xfe\"}\n").unwrap();
    let o = e.seal("a.zip", &[&input], &[]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains(":1:"), "{}", text(&o.stderr));

    std::fs::write(&input, b"\n   \n").unwrap();
    let o = e.seal("a.zip", &[&input], &[]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("no events"), "{}", text(&o.stderr));
}

#[test]
fn a_pipe_is_sealed_with_format_and_refused_by_kind_detection() {
    let e = Env::new();
    let log = std::fs::read(fixture(K8S_LOG)).unwrap();
    let seal_stdin = |extra: &[&str]| {
        let mut args = vec![
            "seal".to_string(),
            "--key".into(),
            e.p("ops-prod.key"),
            "--origin".into(),
            "example.com/prod/k8s".into(),
            "--out".into(),
            e.p("piped.zip"),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push("/dev/stdin".into());
        let mut child = Command::new(env!("CARGO_BIN_EXE_auditlens"))
            .args(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The refusal may come before the whole log is read: a broken pipe here is expected then.
        let _ = child.stdin.take().unwrap().write_all(&log);
        child.wait_with_output().unwrap()
    };
    // Detecting the kind would read the pipe once and sealing would find it empty: refused, named, with the way out.
    let o = seal_stdin(&[]);
    assert_clean_failure(&o, 2);
    let err = text(&o.stderr);
    assert!(
        err.contains("/dev/stdin") && err.contains("--format"),
        "{err}"
    );
    assert!(!e.dir.join("piped.zip").exists());
    // With the kind given the pipe is read once, and the archive holds every event of the log.
    let o = seal_stdin(&["--format", "k8s"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let o = e.verify(&[&e.p("piped.zip")], &["--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let lines = log.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count();
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["archives"][0]["events"], lines as u64);
}

#[test]
fn seal_refuses_a_fifty_megabyte_line() {
    let e = Env::new();
    let input = e.dir.join("huge.jsonl");
    let mut f = std::fs::File::create(&input).unwrap();
    f.write_all(b"{\"x\":\"").unwrap();
    f.write_all(&vec![b'a'; 50 << 20]).unwrap();
    f.write_all(b"\"}\n").unwrap();
    drop(f);
    let o = e.seal("a.zip", &[&input], &[]);
    assert_eq!(code(&o), 2);
    // Not the start of a document (`[` or `{"Records"`): refused as an over-long line, without reading it whole.
    assert!(
        text(&o.stderr).contains(":1: line is longer than 16777216 bytes"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn archive_with_a_fifty_megabyte_signed_line_is_refused_without_reading_it_whole() {
    let e = Env::new();
    let input = write_lines(&e.dir, "in.jsonl", &[r#"{"a":1}"#.to_string()]);
    e.seal("a.zip", &[&input], &[]);
    let key = auditlens::note::SignerKey::parse(
        std::fs::read_to_string(e.dir.join("ops-prod.key"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    rewrite(&e.dir.join("a.zip"), &e.dir.join("big.zip"), |en| {
        let mut line = b"{\"x\":\"".to_vec();
        line.extend(std::iter::repeat_n(b'a', 50 << 20));
        line.extend_from_slice(b"\"}\n");
        *entry(en, "events/000001.jsonl") = line;
        reseal_entries(en, &key);
    });
    let v = e.verify(&[&e.p("big.zip")], &[]);
    assert_clean_failure(&v, 1);
    assert!(
        text(&v.stderr).contains("longer than"),
        "{}",
        text(&v.stderr)
    );
}

#[test]
fn signed_invalid_utf8_and_crlf_lines_are_refused() {
    let e = Env::new();
    let input = write_lines(
        &e.dir,
        "in.jsonl",
        &[r#"{"a":1}"#.to_string(), r#"{"b":2}"#.to_string()],
    );
    e.seal("a.zip", &[&input], &[]);
    let key = auditlens::note::SignerKey::parse(
        std::fs::read_to_string(e.dir.join("ops-prod.key"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    for (name, events, why) in [
        (
            "utf8.zip",
            b"{\"a\":1}\n{\"b\":\"\xff\"}\n".to_vec(),
            "UTF-8",
        ),
        ("crlf.zip", b"{\"a\":1}\r\n{\"b\":2}\n".to_vec(), "\\r"),
        (
            "notjson.zip",
            b"{\"a\":1}\nhello\n".to_vec(),
            "not a JSON object",
        ),
        ("empty-line.zip", b"{\"a\":1}\n\n".to_vec(), "empty line"),
    ] {
        rewrite(&e.dir.join("a.zip"), &e.dir.join(name), |en| {
            *entry(en, "events/000001.jsonl") = events.clone();
            reseal_entries(en, &key);
        });
        let v = e.verify(&[&e.p(name)], &[]);
        assert_clean_failure(&v, 1);
        assert!(text(&v.stderr).contains(why), "{name}: {}", text(&v.stderr));
    }
}

#[test]
fn truncated_empty_and_non_zip_files_fail_cleanly() {
    let e = Env::new();
    e.seal("a.zip", &[&fixture(K8S_LOG)], &[]);
    let bytes = std::fs::read(e.dir.join("a.zip")).unwrap();
    for cut in [bytes.len() / 2, bytes.len() - 10, 30] {
        std::fs::write(e.dir.join("cut.zip"), &bytes[..cut]).unwrap();
        assert_clean_failure(&e.verify(&[&e.p("cut.zip")], &[]), 1);
    }
    std::fs::write(e.dir.join("empty.zip"), b"").unwrap();
    assert_clean_failure(&e.verify(&[&e.p("empty.zip")], &[]), 1);
    write_entries(&e.dir.join("nothing.zip"), &[]);
    let v = e.verify(&[&e.p("nothing.zip")], &[]);
    assert_clean_failure(&v, 1);
    assert!(
        text(&v.stderr).contains("missing entry"),
        "{}",
        text(&v.stderr)
    );
    std::fs::write(e.dir.join("text.zip"), b"hello, I am not a zip").unwrap();
    assert_clean_failure(&e.verify(&[&e.p("text.zip")], &[]), 1);
}

#[test]
fn path_traversal_and_duplicate_names_are_refused() {
    let e = Env::new();
    e.seal("a.zip", &[&fixture(K8S_LOG)], &[]);
    for evil in [
        "../evil.jsonl",
        "/etc/cron.d/x",
        "events\\000002.jsonl",
        "events/../../x",
    ] {
        rewrite(&e.dir.join("a.zip"), &e.dir.join("evil.zip"), |en| {
            en.push((evil.into(), b"{}\n".to_vec()))
        });
        let v = e.verify(&[&e.p("evil.zip")], &[]);
        assert_clean_failure(&v, 1);
        assert!(
            text(&v.stderr).contains("not allowed"),
            "{evil}: {}",
            text(&v.stderr)
        );
    }
    // Duplicate name: write a same-length placeholder, then patch its name bytes everywhere they occur.
    rewrite(&e.dir.join("a.zip"), &e.dir.join("dup.zip"), |en| {
        en.push(("manifest.jsoX".into(), b"{}".to_vec()))
    });
    let mut bytes = std::fs::read(e.dir.join("dup.zip")).unwrap();
    let needle = b"manifest.jsoX";
    let mut i = 0;
    while i + needle.len() <= bytes.len() {
        if &bytes[i..i + needle.len()] == needle {
            bytes[i + needle.len() - 1] = b'n';
        }
        i += 1;
    }
    std::fs::write(e.dir.join("dup.zip"), &bytes).unwrap();
    let v = e.verify(&[&e.p("dup.zip")], &[]);
    assert_clean_failure(&v, 1);
    // The failure names the entry (it said `entry "?"` before: the names' map holds each name once).
    assert!(
        text(&v.stderr).contains("entry \"manifest.json\" appears more than once"),
        "{}",
        text(&v.stderr)
    );
}

#[test]
fn zip_bomb_entry_costs_no_more_than_its_signed_size() {
    // The events entry inflates to 256 MiB of zeros but the signed manifest says 8 bytes: the verifier stops one
    // byte past that and fails fast with bounded memory (the verifying process's own peak RSS).
    let e = Env::new();
    let input = write_lines(&e.dir, "in.jsonl", &[r#"{"a":1}"#.to_string()]);
    e.seal("a.zip", &[&input], &[]);
    let bomb = e.dir.join("bomb.zip");
    {
        let entries = read_entries(&e.dir.join("a.zip"));
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&bomb).unwrap());
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        for (name, data) in &entries {
            zip.start_file(name.as_str(), opts).unwrap();
            if name == "events/000001.jsonl" {
                let zeros = vec![0u8; 1 << 20];
                for _ in 0..256 {
                    zip.write_all(&zeros).unwrap();
                }
            } else {
                zip.write_all(data).unwrap();
            }
        }
        zip.finish().unwrap();
    }
    assert!(
        std::fs::metadata(&bomb).unwrap().len() < 8 << 20,
        "the bomb file is small"
    );
    let start = std::time::Instant::now();
    let (key, bomb) = (e.p("ops-prod.pub"), e.p("bomb.zip"));
    let (v, peak) = auditlens_peak_rss(&["verify", "--trust", &key, &bomb]);
    assert_clean_failure(&v, 1);
    // Bounded memory: the entry is never held whole (it inflates to 256 MiB).
    let (good, good_peak) = auditlens_peak_rss(&["verify", "--trust", &key, &e.p("a.zip")]);
    assert_eq!(code(&good), 0, "{}", text(&good.stderr));
    eprintln!(
        "verify: peak RSS {} MB for the zip bomb, {} MB for the archive it was made from",
        peak / 1_000_000,
        good_peak / 1_000_000
    );
    assert!(peak < 64 << 20, "peak resident memory {peak} bytes");
    assert!(
        text(&v.stderr).contains("longer than the 8 bytes"),
        "{}",
        text(&v.stderr)
    );
    // Not a timing assertion on speed, only a guard against reading the whole gigabyte.
    assert!(start.elapsed().as_secs() < 60);
}

/// Issue 11, attack 7: lines that verify but that the JSON parser cannot map (a lone surrogate escape, as
/// JavaScript writes; nesting 10,000 deep; text that is not JSON) between normal events. `verify` and `import`
/// must agree: both count 3 events not parsed, `import` stores every event (marked not parsed, found by text)
/// and `check` passes. Before the fix, `verify` exited 0 and `import` refused the whole archive (exit 1).
#[test]
fn events_the_parser_cannot_map_verify_import_whole_and_are_found_by_text() {
    let e = Env::new();
    let normal = |i: usize| {
        format!(r#"{{"time":"2024-06-01T00:00:{i:02}Z","actor":"alice","action":"get","n":{i}}}"#)
    };
    let good: Vec<String> = (0..5).map(normal).collect();
    let input = write_lines(&e.dir, "in.jsonl", &good);
    let o = e.seal("good.zip", &[&input], &[]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let deep = format!(
        r#"{{"time":"2024-06-01T00:01:00Z","a":{}"deepmarker"{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let unparsed = [
        br#"{"time":"2024-06-01T00:01:01Z","actor":"bob","msg":"half \ud800 surrogatemarker"}"#
            .to_vec(),
        deep.into_bytes(),
        b"{this is notjsonmarker text, not JSON}".to_vec(),
    ];
    let key = auditlens::note::SignerKey::parse(
        std::fs::read_to_string(e.dir.join("ops-prod.key"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    let archive = rewrite(&e.dir.join("good.zip"), &e.dir.join("a.zip"), |entries| {
        let lines = event_lines(entry(entries, &first_events_entry()));
        let mut mixed = Vec::new();
        for (i, line) in lines.into_iter().enumerate() {
            mixed.push(line);
            if let Some(u) = unparsed.get(i) {
                mixed.push(u.clone());
            }
        }
        *entry(entries, &first_events_entry()) = join_lines(&mixed);
        reseal_entries(entries, &key);
    });
    let a = archive.display().to_string();

    let v = e.verify(&[&a], &["--json"]);
    assert_eq!(code(&v), 0, "{}{}", text(&v.stdout), text(&v.stderr));
    let report: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(report["archives"][0]["status"], "verified");
    assert_eq!(report["archives"][0]["events"], 8);
    assert_eq!(report["archives"][0]["parse_errors"], 3);
    let v = e.verify(&[&a], &[]);
    assert_eq!(code(&v), 0);
    let out = text(&v.stdout);
    assert!(
        out.contains("not parsed  3 events verified, but not a JSON object the parser reads"),
        "{out}"
    );

    let (db, trust) = (e.p("s.db"), e.p("ops-prod.pub"));
    let i = auditlens(&["import", "--db", &db, "--trust", &trust, "--json", &a]);
    assert_eq!(code(&i), 0, "{}{}", text(&i.stdout), text(&i.stderr));
    let result: serde_json::Value = serde_json::from_slice(&i.stdout).unwrap();
    assert_eq!(result["outcome"], "imported", "{result}");
    assert_eq!(result["report"]["parse_errors"], 3);
    assert_eq!(
        result["message"],
        "verified and imported 8 events (3 events not parsed: stored as raw text, found by text search)"
    );
    let count = |q: &str| {
        let o = auditlens(&["search", "--db", &db, "--count", q]);
        assert_eq!(code(&o), 0, "{}", text(&o.stderr));
        text(&o.stdout).trim().to_string()
    };
    assert_eq!(count(""), "8");
    assert_eq!(count("actor:alice"), "5");
    for (word, reason) in [
        (
            "surrogatemarker",
            "invalid JSON: unexpected end of hex escape",
        ),
        ("deepmarker", "invalid JSON: recursion limit exceeded"),
        ("notjsonmarker", "invalid JSON: key must be a string"),
    ] {
        let o = auditlens(&["search", "--db", &db, "--json", word]);
        assert_eq!(code(&o), 0, "{}", text(&o.stderr));
        let rows: Vec<serde_json::Value> = text(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 1, "{word}: {rows:?}");
        let row = &rows[0];
        let why = row["parse_error"].as_str().unwrap_or_default();
        assert!(why.starts_with(reason), "{word}: {why}");
        assert_eq!(row["verified"], true);
        assert_eq!(row["source"], "jsonl");
        assert_eq!(row["origin"], "example.com/prod/k8s");
        for field in ["time", "actor", "action", "category", "outcome"] {
            assert_eq!(row[field], serde_json::Value::Null, "{word}: {field}");
        }
    }
    // A parsed event carries no parse_error at all.
    let o = auditlens(&[
        "search",
        "--db",
        &db,
        "--json",
        "--limit",
        "1",
        "actor:alice",
    ]);
    let row: serde_json::Value =
        serde_json::from_str(text(&o.stdout).lines().next().unwrap()).unwrap();
    assert!(row.get("parse_error").is_none(), "{row}");

    let c = auditlens(&["check", "--db", &db, "--trust", &trust]);
    assert_eq!(code(&c), 0, "{}{}", text(&c.stdout), text(&c.stderr));
}

/// A query holding an escape sequence is shown escaped once (`\u{1b}` for ESC, as everywhere), with the caret under
/// the column in the escaped query (red-team finding, 2026-12-07: it showed `\\u{1b}`, which by the escaping rule
/// means the text `\u{1b}`, and the caret one column left).
#[test]
fn a_query_error_shows_the_query_escaped_once_with_the_caret_under_its_column() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("s.db").display().to_string();
    let log = write_lines(
        tmp.path(),
        "a.log",
        &[r#"{"time":"2024-06-01T00:00:00Z"}"#.into()],
    );
    let key = key("ops-prod");
    let archive = seal_to(tmp.path(), "a.zip", &key, "example.com/q", None, &[log]);
    let o = auditlens(&["import", "--db", &db, &archive.display().to_string()]);
    assert!(o.status.code().is_some(), "{}", text(&o.stderr));
    let o = auditlens(&["search", "--db", &db, "foo\u{1b}[2J("]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            "auditlens: query error at column 8: this `(` is never closed",
            "  foo\\u{1b}[2J(",
            "              ^",
        ],
        "{err}"
    );
}
