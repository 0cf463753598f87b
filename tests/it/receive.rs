//! Files nobody signed, sealed on receipt (`auditlens receive`, docs/archive-format.md section 4.1): the archive
//! records each file as received, every door labels its evidence "sealed on receipt by KEY at TIME: proves no
//! change since receipt, not authenticity at the source" and never just "verified", and neither the archive nor
//! the database can drop or forge that record unnoticed.

use std::io::Write;
use std::path::{Path, PathBuf};

use auditlens::archive::{self, Manifest};
use auditlens::verify::FailureKind;
use sha2::{Digest, Sha256};

use crate::common::*;

const MEANING: &str = "proves no change since receipt, not authenticity at the source";

fn sha256_hex(path: &Path) -> String {
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An auditor key pair on disk: (key file, pub file, key).
fn auditor(dir: &Path) -> (PathBuf, PathBuf, auditlens::note::SignerKey) {
    let out = auditlens(&[
        "keygen",
        "--name",
        "auditor-jane",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let key_file = dir.join("auditor-jane.key");
    let key = auditlens::note::SignerKey::parse(std::fs::read_to_string(&key_file).unwrap().trim())
        .unwrap();
    (key_file, dir.join("auditor-jane.pub"), key)
}

fn receive(key: &Path, origin: &str, out: &Path, inputs: &[&Path]) -> std::process::Output {
    let mut args = vec![
        "receive",
        "--key",
        key.to_str().unwrap(),
        "--origin",
        origin,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    auditlens(&args)
}

fn manifest_of(path: &Path) -> Manifest {
    let entries = read_entries(path);
    let bytes = &entries
        .iter()
        .find(|(n, _)| n == archive::MANIFEST)
        .unwrap()
        .1;
    serde_json::from_slice(bytes).unwrap()
}

/// The auditor (`auditor-jane`, made by `keygen`) and a producer (`ops`), both trusted: a store holding one
/// archive sealed on receipt (`received/k8s`) and one sealed by its producer (`ops/k8s`).
struct Lab {
    tmp: tempfile::TempDir,
    key_file: PathBuf,
    producer: auditlens::note::SignerKey,
    pubs: [String; 2],
}

impl Lab {
    fn new() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let (key_file, pub_file, _) = auditor(tmp.path());
        let producer = crate::common::key("ops");
        let producer_pub = tmp.path().join("ops.pub");
        std::fs::write(&producer_pub, producer.verifier().to_string()).unwrap();
        let pubs = [&pub_file, &producer_pub].map(|p| p.display().to_string());
        Lab {
            tmp,
            key_file,
            producer,
            pubs,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// `received` received as `received/k8s`, `sealed` sealed by `ops` as `ops/k8s`, both imported into
    /// `evidence.db`: the two archives and the database.
    fn store(&self, received: &[&Path], sealed: &Path) -> (PathBuf, PathBuf, PathBuf) {
        let r = self.path("received.zip");
        let out = receive(&self.key_file, "received/k8s", &r, received);
        assert_eq!(code(&out), 0, "{}", text(&out.stderr));
        let s = self.path("sealed.zip");
        auditlens::seal::seal(&auditlens::seal::SealOptions {
            key: &self.producer,
            origin: "ops/k8s",
            prev: None,
            format: None,
            mapping: None,
            out: &s,
            inputs: &[sealed.to_path_buf()],
            receive: false,
        })
        .unwrap();
        let db = self.path("evidence.db");
        let out = auditlens(&self.trusting(&["import", "--db", db.to_str().unwrap()], &[&r, &s]));
        assert_eq!(code(&out), 0, "{}", text(&out.stderr));
        (r, s, db)
    }

    /// `head`, then `--trust` for both keys, then `tail`.
    fn trusting<'a>(&'a self, head: &[&'a str], tail: &[&'a Path]) -> Vec<&'a str> {
        let mut args = head.to_vec();
        for p in &self.pubs {
            args.extend(["--trust", p.as_str()]);
        }
        args.extend(tail.iter().map(|p| p.to_str().unwrap()));
        args
    }
}

#[test]
fn received_files_are_recorded_as_received_and_every_door_labels_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (key_file, pub_file, key) = auditor(tmp.path());
    let fpr = key.verifier().fingerprint();
    let k8s = fixture(K8S_LOG);
    let exec = fixture("logs/k8s_audit/falco_trace_files/exec_pod.json");
    // A file with no event is recorded too (with no entry): the receipt lists everything received.
    let empty = tmp.path().join("empty.log");
    std::fs::write(&empty, b"\n\n").unwrap();
    let received = tmp.path().join("received.zip");
    let out = receive(&key_file, "received/k8s", &received, &[&k8s, &empty, &exec]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let label_start = format!("sealed on receipt by auditor-jane ({fpr}) at ");
    assert!(stdout.contains(&label_start), "{stdout}");
    assert!(stdout.contains(MEANING), "{stdout}");
    for p in [&k8s, &exec, &empty] {
        assert!(stdout.contains(&sha256_hex(p)), "{stdout}");
    }

    // The signed manifest: each file's name, SHA-256 and size as received, its entry, and the time.
    let m = manifest_of(&received);
    let r = m.received.as_ref().expect("a receipt");
    assert_eq!(r.at, m.created);
    let files: Vec<(&str, &str, u64, Option<&str>)> = r
        .files
        .iter()
        .map(|f| {
            (
                f.name.as_str(),
                f.sha256.as_str(),
                f.bytes,
                f.entry.as_deref(),
            )
        })
        .collect();
    let (h1, h2, h3) = (sha256_hex(&k8s), sha256_hex(&empty), sha256_hex(&exec));
    assert_eq!(
        files,
        vec![
            (
                "demo.log",
                h1.as_str(),
                std::fs::metadata(&k8s).unwrap().len(),
                Some("events/000001.jsonl")
            ),
            ("empty.log", h2.as_str(), 2, None),
            (
                "exec_pod.json",
                h3.as_str(),
                871,
                Some("events/000002.jsonl")
            ),
        ]
    );

    // A normal archive beside it, to show the difference.
    let producer = crate::common::key("ops");
    let producer_pub = tmp.path().join("ops.pub");
    std::fs::write(&producer_pub, producer.verifier().to_string()).unwrap();
    let sealed = seal_to(
        tmp.path(),
        "sealed.zip",
        &producer,
        "ops/k8s",
        None,
        std::slice::from_ref(&k8s),
    );

    // verify: the received archive is labelled, counted apart, and never called VERIFIED.
    let pubs = [pub_file.to_str().unwrap(), producer_pub.to_str().unwrap()];
    let args = [
        "verify",
        "--trust",
        pubs[0],
        "--trust",
        pubs[1],
        received.to_str().unwrap(),
        sealed.to_str().unwrap(),
    ];
    let out = auditlens(&args);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let received_block = stdout
        .split("\n\n")
        .next()
        .unwrap()
        .lines()
        .find(|l| l.starts_with(received.to_str().unwrap()))
        .unwrap()
        .to_string();
    assert!(
        received_block.contains("SEALED ON RECEIPT by auditor-jane")
            && received_block.contains(MEANING)
            && !received_block.contains("VERIFIED"),
        "{received_block}"
    );
    assert!(
        stdout.contains(&format!("{}: VERIFIED", sealed.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 archive(s): 1 verified, 1 sealed on receipt"),
        "{stdout}"
    );
    let mut json_args = args.to_vec();
    json_args.insert(1, "--json");
    let out = auditlens(&json_args);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let archives = doc["archives"].as_array().unwrap();
    assert_eq!(archives[0]["received"]["files"][0]["sha256"], h1.as_str());
    assert!(archives[1].get("received").is_none(), "{}", archives[1]);

    // import: the message carries the label; search marks each event; check re-verifies it all.
    let db = tmp.path().join("evidence.db");
    let mut import = vec!["import", "--db", db.to_str().unwrap()];
    import.extend(&args[1..]);
    let out = auditlens(&import);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with(received.to_str().unwrap()))
        .unwrap();
    assert!(
        line.contains(
            "signature checked and imported 38 events; sealed on receipt by auditor-jane"
        ) && line.contains(MEANING),
        "{line}"
    );
    let out = auditlens(&[
        "search",
        "--db",
        db.to_str().unwrap(),
        "--limit",
        "1000",
        "pods",
    ]);
    let stdout = text(&out.stdout);
    let marked: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("[sealed on receipt]"))
        .collect();
    assert!(!marked.is_empty());
    assert!(
        marked.iter().all(|l| l.contains("received/k8s@1#")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .filter(|l| l.contains("ops/k8s@1#"))
            .all(|l| !l.contains("sealed on receipt")),
        "{stdout}"
    );
    let out = auditlens(&[
        "search",
        "--db",
        db.to_str().unwrap(),
        "--json",
        "--limit",
        "1000",
        "pods",
    ]);
    for line in text(&out.stdout).lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let is_received = row["archive"].as_str().unwrap().starts_with("received/");
        assert_eq!(row["received"], is_received, "{row}");
        assert_eq!(row["verified"], true);
    }

    // `status:received` is the part of `status:verified` sealed on receipt.
    let count = |q: &str| {
        let out = auditlens(&["search", "--db", db.to_str().unwrap(), "--count", q]);
        assert_eq!(code(&out), 0, "{q}: {}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    };
    assert_eq!(count("status:received"), "38");
    assert_eq!(count("status:RECEIVED"), "38");
    assert_eq!(count("status:verified"), "75");
    assert_eq!(count("status:verified -status:received"), "37");

    // The store's own records.
    let store = auditlens::store::Store::open(&db).unwrap();
    let rows = store.archives().unwrap();
    let r = rows
        .iter()
        .find(|a| a.origin.as_deref() == Some("received/k8s"))
        .unwrap();
    assert_eq!(r.received_at.as_deref(), Some(m.created.as_str()));
    let label = r.received_label.as_deref().unwrap();
    assert!(
        label.starts_with(&label_start) && label.ends_with(MEANING),
        "{label}"
    );
    let other = rows
        .iter()
        .find(|a| a.origin.as_deref() == Some("ops/k8s"))
        .unwrap();
    assert_eq!((&other.received_at, &other.received_label), (&None, &None));
    let event = store.event("received/k8s@1#0").unwrap().unwrap();
    assert_eq!(event.received_label.as_deref(), Some(label));
    assert!(
        store
            .event("ops/k8s@1#0")
            .unwrap()
            .unwrap()
            .received_label
            .is_none()
    );
    drop(store);
    let check = [
        "check",
        "--db",
        db.to_str().unwrap(),
        "--trust",
        pubs[0],
        "--trust",
        pubs[1],
    ];
    let out = auditlens(&check);
    assert_eq!(code(&out), 0, "{}{}", text(&out.stdout), text(&out.stderr));
}

#[test]
fn the_database_cannot_drop_or_forge_the_receipt_label() {
    let lab = Lab::new();
    let (_, _, db) = lab.store(&[&fixture(K8S_LOG)], &fixture(K8S_LOG));
    let check = |db: &Path| auditlens(&lab.trusting(&["check", "--db", db.to_str().unwrap()], &[]));
    assert_eq!(code(&check(&db)), 0);
    for (sql, origin) in [
        // The label dropped: received evidence would read as verified at the source.
        (
            "UPDATE archives SET received_at = NULL WHERE origin = 'received/k8s'",
            "received/k8s",
        ),
        // A label forged onto evidence that was sealed at the source.
        (
            "UPDATE archives SET received_at = '2026-01-01T00:00:00Z' WHERE origin = 'ops/k8s'",
            "ops/k8s",
        ),
    ] {
        let copy = lab.path("edited.db");
        std::fs::copy(&db, &copy).unwrap();
        rusqlite::Connection::open(&copy)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
        let out = check(&copy);
        assert_eq!(code(&out), 1, "{sql}: {}", text(&out.stdout));
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(
            all.contains("stored receipt time") && all.contains(origin),
            "{sql}: {all}"
        );
        std::fs::remove_file(&copy).unwrap();
    }
}

#[test]
fn a_receipt_cannot_be_removed_or_made_inconsistent() {
    let tmp = tempfile::tempdir().unwrap();
    let (key_file, _, key) = auditor(tmp.path());
    let received = tmp.path().join("received.zip");
    let exec = fixture("logs/k8s_audit/falco_trace_files/exec_pod.json");
    let out = receive(
        &key_file,
        "received/k8s",
        &received,
        &[&fixture(K8S_LOG), &exec],
    );
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let trusted = [key.verifier()];
    let report = verify_with(&received, &trusted);
    assert!(report.failure.is_none(), "{:?}", report.failure);
    assert_eq!(report.received.as_ref().unwrap().files.len(), 2);

    // Dropping the receipt without re-signing breaks the signed manifest hash: the label cannot be stripped.
    let edit_manifest = |name: &str, f: &dyn Fn(&mut serde_json::Value), resign: bool| {
        rewrite(&received, &tmp.path().join(name), |entries| {
            let m = entry(entries, archive::MANIFEST);
            let mut v: serde_json::Value = serde_json::from_slice(m).unwrap();
            f(&mut v);
            *m = serde_json::to_vec_pretty(&v).unwrap();
            if resign {
                sign_manifest(entries, &key);
            }
        })
    };
    let stripped = edit_manifest(
        "stripped.zip",
        &|v| {
            v.as_object_mut().unwrap().remove("received");
        },
        false,
    );
    let report = verify_with(&stripped, &trusted);
    assert_eq!(
        kind_of(&report),
        Some(FailureKind::ManifestHash),
        "{:?}",
        report.failure
    );
    assert!(report.received.is_none());

    // Validly signed receipts that disagree with the archive, or are malformed, fail as manifests.
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "swapped.zip",
            Box::new(|v| {
                let files = v["received"]["files"].as_array_mut().unwrap();
                let a = files[0]["entry"].clone();
                files[0]["entry"] = files[1]["entry"].clone();
                files[1]["entry"] = a;
            }),
            "differ from the events entries",
        ),
        (
            "unlisted.zip",
            Box::new(|v| {
                v["received"]["files"][1]["entry"] = serde_json::Value::Null;
            }),
            "differ from the events entries",
        ),
        (
            "renamed.zip",
            Box::new(|v| {
                v["received"]["files"][0]["name"] = "other.log".into();
            }),
            "differ from the events entries",
        ),
        (
            "upper.zip",
            Box::new(|v| {
                let h = v["received"]["files"][0]["sha256"]
                    .as_str()
                    .unwrap()
                    .to_uppercase();
                v["received"]["files"][0]["sha256"] = h.into();
            }),
            "64 lowercase hex",
        ),
        (
            "short.zip",
            Box::new(|v| {
                v["received"]["files"][0]["sha256"] = "abc".into();
            }),
            "64 lowercase hex",
        ),
        (
            "time.zip",
            Box::new(|v| {
                v["received"]["at"] = "yesterday".into();
            }),
            "not an RFC 3339 time",
        ),
        (
            "unknown.zip",
            Box::new(|v| {
                v["received"]["by"] = "the producer".into();
            }),
            "unknown field",
        ),
    ];
    for (name, f, why) in cases {
        let path = edit_manifest(name, &*f, true);
        let report = verify_with(&path, &trusted);
        assert_eq!(
            kind_of(&report),
            Some(FailureKind::Manifest),
            "{name}: {:?}",
            report.failure
        );
        let message = &report.failure.as_ref().unwrap().message;
        assert!(message.contains(why), "{name}: {message}");
        let out = auditlens(&[
            "verify",
            "--trust-policy",
            "/dev/null",
            path.to_str().unwrap(),
        ]);
        assert_ne!(code(&out), 0, "{name}");
    }
}

/// Signs the archive's (edited) manifest again: the checkpoint names its new hash, signed by `key`. The events
/// are unchanged, so everything but the manifest's own rules verifies.
fn sign_manifest(entries: &mut [(String, Vec<u8>)], key: &auditlens::note::SignerKey) {
    use auditlens::archive::ChainLines;
    use auditlens::checkpoint::Checkpoint;
    let manifest_sha256: [u8; 32] = Sha256::digest(entry(entries, archive::MANIFEST)).into();
    let note = auditlens::note::Note::parse(entry(entries, archive::CHECKPOINT)).unwrap();
    let cp = Checkpoint::parse(&note.text).unwrap();
    let chain = ChainLines {
        manifest_sha256,
        ..ChainLines::from_checkpoint(&cp).unwrap()
    };
    let cp = Checkpoint {
        extensions: chain.to_extensions(),
        ..cp
    };
    *entry(entries, archive::CHECKPOINT) = key.sign(&cp.to_text()).unwrap().into_bytes();
}

#[test]
fn exports_nobody_signed_are_received_with_their_own_kind_and_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (key_file, _, key) = auditor(tmp.path());
    let jsonl_to_array = |src: &str, name: &str| {
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(fixture(src))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let path = tmp.path().join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(&lines).unwrap()).unwrap();
        (path, lines.len() as u64)
    };
    // GitHub's and Okta's audit-log downloads are JSON arrays; a CloudTrail log file without its digest is a
    // gzip `{"Records": [...]}` document, hashed as received (compressed).
    let (github, github_n) = jsonl_to_array(
        "logs/github_audit/panther/GitHub_Audit.jsonl",
        "export.json",
    );
    let (okta, okta_n) = jsonl_to_array("logs/okta/panther/Okta_SystemLog.jsonl", "okta.json");
    let trail = tmp
        .path()
        .join("123456789012_CloudTrail_us-east-1_20240501T1000Z_abc.json.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&std::fs::read(fixture(CLOUDTRAIL_LOG)).unwrap())
        .unwrap();
    std::fs::write(&trail, gz.finish().unwrap()).unwrap();
    let trail_n = serde_json::from_slice::<serde_json::Value>(
        &std::fs::read(fixture(CLOUDTRAIL_LOG)).unwrap(),
    )
    .unwrap()["Records"]
        .as_array()
        .unwrap()
        .len() as u64;
    let plain = fixture("logs/k8s_audit/stages/exec_pod_stages.jsonl");
    for (input, kind, n) in [
        (&github, "github", github_n),
        (&okta, "okta", okta_n),
        (&trail, "cloudtrail", trail_n),
        (&plain, "k8s", 0),
    ] {
        let out_path = tmp.path().join(format!("{kind}.zip"));
        let out = receive(&key_file, &format!("received/{kind}"), &out_path, &[input]);
        assert_eq!(code(&out), 0, "{kind}: {}", text(&out.stderr));
        let m = manifest_of(&out_path);
        assert_eq!(m.source_kind, kind);
        if n > 0 {
            assert_eq!(m.events, n, "{kind}");
        }
        let r = m.received.unwrap();
        assert_eq!(r.files.len(), 1);
        assert_eq!(r.files[0].sha256, sha256_hex(input), "{kind}");
        assert_eq!(r.files[0].bytes, std::fs::metadata(input).unwrap().len());
        let report = verify_with(&out_path, &[key.verifier()]);
        assert!(report.failure.is_none(), "{kind}: {:?}", report.failure);
    }
}

#[test]
fn receive_refuses_what_it_cannot_hash_as_received() {
    let tmp = tempfile::tempdir().unwrap();
    let (key_file, _, _) = auditor(tmp.path());
    let out_path = tmp.path().join("r.zip");
    // A device or pipe can be read only once: its bytes cannot be hashed as received and then sealed.
    let k = key_file.to_str().unwrap();
    let o = out_path.to_str().unwrap();
    for args in [
        vec![
            "receive",
            "--key",
            k,
            "--origin",
            "r",
            "--out",
            o,
            "/dev/null",
        ],
        vec![
            "receive",
            "--key",
            k,
            "--origin",
            "r",
            "--format",
            "jsonl",
            "--out",
            o,
            "/dev/null",
        ],
    ] {
        let out = auditlens(&args);
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(
            text(&out.stderr).contains("not a regular file"),
            "{}",
            text(&out.stderr)
        );
        assert!(!out_path.exists());
    }
    // A missing file, and no events at all: usage errors, nothing written.
    let empty = tmp.path().join("empty.jsonl");
    std::fs::write(&empty, b"").unwrap();
    for input in [tmp.path().join("missing.log"), empty] {
        let out = receive(&key_file, "r", &out_path, &[&input]);
        assert_eq!(code(&out), 2, "{}", text(&out.stderr));
        assert!(!out_path.exists());
    }
    // `--mapping` belongs to producers: `receive` does not take it.
    let out = auditlens(&[
        "receive",
        "--key",
        k,
        "--origin",
        "r",
        "--mapping",
        "m.toml",
        "--out",
        o,
        "x",
    ]);
    assert_eq!(code(&out), 2);
}

#[test]
fn parquet_rows_of_received_evidence_say_sealed_on_receipt() {
    let lab = Lab::new();
    let exec = fixture("logs/k8s_audit/falco_trace_files/exec_pod.json");
    let (_, _, db) = lab.store(&[&fixture(K8S_LOG)], &exec);
    let export = lab.path("parquet");
    let out = auditlens(&[
        "export-parquet",
        "--all-stages",
        "--db",
        db.to_str().unwrap(),
        "--key",
        lab.key_file.to_str().unwrap(),
        "--out",
        export.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let script = format!(
        "import duckdb, json\n\
         rows = duckdb.sql(\"SELECT auditlens_origin, auditlens_verification, count(*) FROM read_parquet('{}/**/*.parquet') GROUP BY ALL ORDER BY ALL\").fetchall()\n\
         print(json.dumps([list(r) for r in rows]))\n",
        export.display()
    );
    let got = std::process::Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(got.status.success(), "{}", text(&got.stderr));
    let rows: Vec<(String, String, u64)> = serde_json::from_slice(&got.stdout).unwrap();
    let expected = [
        ("ops/k8s", "verified", 1),
        ("received/k8s", "sealed-on-receipt", 37),
    ];
    assert_eq!(
        rows,
        expected.map(|(o, v, n)| (o.to_string(), v.to_string(), n))
    );
}

/// A file received is opened more than once while it is sealed (its kind is detected, then its events read; a
/// long document is read twice). Swapped for other events after it was hashed and restored before it is hashed
/// again, it would have left a receipt for its own bytes over the other events. The events sealed are those of
/// the copy made as the file was hashed: the file's own, whatever happens to it meanwhile. Changed and left
/// changed, it is refused, and no archive is left (nor any copy of it).
#[test]
fn a_file_swapped_while_it_is_sealed_on_receipt_leaves_its_own_events_in_the_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, _, key) = auditor(tmp.path());
    let input = tmp.path().join("audit.log");
    let own: Vec<String> = (0..3)
        .map(|i| format!(r#"{{"kind":"Event","auditID":"own-{i}","verb":"get"}}"#))
        .collect();
    let other: Vec<String> = (0..5)
        .map(|i| format!(r#"{{"kind":"Event","auditID":"other-{i}","verb":"delete"}}"#))
        .collect();
    let (own_text, other_text) = (own.join("\n") + "\n", other.join("\n") + "\n");
    std::fs::write(&input, &own_text).unwrap();
    let own_sha256 = sha256_hex(&input);
    let out = tmp.path().join("r.zip");
    let inputs = [input.clone()];
    let opts = auditlens::seal::SealOptions {
        key: &key,
        origin: "received/k8s",
        prev: None,
        format: None,
        mapping: None,
        out: &out,
        inputs: &inputs,
        receive: true,
    };
    let mut steps = Vec::new();
    let summary = auditlens::seal::seal_observed(&opts, &mut |step| {
        steps.push(step);
        match step {
            auditlens::seal::ReceiptStep::Copied => std::fs::write(&input, &other_text).unwrap(),
            auditlens::seal::ReceiptStep::Sealed => std::fs::write(&input, &own_text).unwrap(),
        }
    })
    .expect("sealed");
    use auditlens::seal::ReceiptStep::{Copied, Sealed};
    assert_eq!(steps, [Copied, Sealed]);
    assert_eq!(summary.events, 3);
    let received = summary.received.expect("a receipt");
    assert_eq!(received.files.len(), 1);
    assert_eq!(received.files[0].sha256, own_sha256);
    assert_eq!(received.files[0].name, "audit.log");
    let entries = read_entries(&out);
    let events: Vec<&[u8]> = entries
        .iter()
        .filter(|(n, _)| n.starts_with("events/"))
        .flat_map(|(_, b)| b.split(|&c| c == b'\n').filter(|l| !l.is_empty()))
        .collect();
    assert_eq!(
        events,
        own.iter().map(|l| l.as_bytes()).collect::<Vec<_>>(),
        "the archive holds the events of the bytes its receipt hashes"
    );
    // Nothing but the archive and what the test wrote is left beside it: the copy is gone.
    let mut left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["audit.log", "auditor-jane.key", "auditor-jane.pub", "r.zip"]
    );

    // Changed for good while it was sealed: refused, nothing left.
    std::fs::remove_file(&out).unwrap();
    let err = auditlens::seal::seal_observed(&opts, &mut |step| {
        if step == Copied {
            std::fs::write(&input, &other_text).unwrap();
        }
    })
    .expect_err("a file that changed while it was sealed is refused");
    assert!(err.to_string().contains("receive it again"), "{err}");
    let mut left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["audit.log", "auditor-jane.key", "auditor-jane.pub"]);

    // An input error names the file received, not its copy.
    std::fs::write(&input, "{\"kind\":\"Event\"}\nnot json\n").unwrap();
    let err = auditlens::seal::seal(&opts).expect_err("invalid JSON");
    let said = err.to_string();
    assert!(
        said.starts_with(&format!("{}:2:", input.display())),
        "{said}"
    );
}
