//! Evidence bundles of AWS CloudTrail events (docs/evidence-bundle.md section 11): an export generated in AWS's
//! exact layout and signed with the test RSA key is imported, then its events are exported with the whole log
//! files that hold them, their signed digests and the AWS keys. `verify-bundle --aws-keys` and the independent
//! Python verifier accept the bundle; every edit of its AWS proof (a log, a digest, a signature, an event, the
//! origin, the ranges, the keys), re-signed by the auditor, fails in both; AWS keys the reader did not give are
//! "untrusted", never "verified".

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::Duration;
use serde_json::Value;

use super::cloudtrail_digest::{
    ACCOUNT, REGIONS, TRAIL, backfill, extra_log, generate, generate_with, gunzip, gz, keys_json,
    sha_hex, t0, write,
};
use super::common::{auditlens, code, entry, read_entries, resign_bundle, text, write_entries};
use auditlens::note::SignerKey;

struct Lab {
    work: tempfile::TempDir,
    db: PathBuf,
    keys: PathBuf,
    auditor: SignerKey,
    key_file: PathBuf,
    _export: super::cloudtrail_digest::Export,
}

impl Lab {
    fn new() -> Lab {
        Lab::with(|_| {})
    }

    /// A lab whose export `edit` changed before it is imported.
    fn with(edit: impl FnOnce(&super::cloudtrail_digest::Export)) -> Lab {
        let export = generate();
        edit(&export);
        Lab::of(export)
    }

    /// A lab of `export`, imported.
    fn of(export: super::cloudtrail_digest::Export) -> Lab {
        let work = tempfile::tempdir().expect("tempdir");
        let keys = work.path().join("keys.json");
        write(
            &keys,
            keys_json(t0() - Duration::days(30), t0() + Duration::days(30)).as_bytes(),
        );
        let db = work.path().join("store.db");
        let o = auditlens(&[
            "import",
            "--db",
            &s(&db),
            "--aws-keys",
            &s(&keys),
            &s(export.root()),
        ]);
        assert_eq!(code(&o), 0, "{}", text(&o.stderr));
        let key_dir = work.path().join("auditor");
        let o = auditlens(&["keygen", "--name", "aud", "--out", &s(&key_dir)]);
        assert_eq!(code(&o), 0, "{}", text(&o.stderr));
        let key_file = key_dir.join("aud.key");
        let auditor =
            SignerKey::parse(&std::fs::read_to_string(&key_file).expect("key")).expect("key");
        Lab {
            work,
            db,
            keys,
            auditor,
            key_file,
            _export: export,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    /// `auditlens export` of `selection` (`--query Q` or `--ids FILE`) with the AWS keys (or not).
    fn export(&self, out: &str, selection: &[&str], with_keys: bool) -> (Output, PathBuf) {
        let out = self.path(out);
        let mut args = vec![
            "export".to_string(),
            "--db".into(),
            s(&self.db),
            "--key".into(),
            s(&self.key_file),
            "--purpose".into(),
            "AUD-12: console logins".into(),
            "--out".into(),
            s(&out),
        ];
        args.extend(selection.iter().map(|a| a.to_string()));
        if with_keys {
            args.extend(["--aws-keys".to_string(), s(&self.keys)]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        (auditlens(&args), out)
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn verify_json(bundle: &Path, keys: Option<&Path>) -> (i32, Value) {
    let mut args = vec!["verify-bundle".to_string(), "--json".into()];
    if let Some(k) = keys {
        args.extend(["--aws-keys".to_string(), s(k)]);
    }
    args.push(s(bundle));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = auditlens(&args);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&o.stdout), text(&o.stderr)));
    (code(&o), v)
}

fn python(args: &[&str]) -> Output {
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/verify_bundle.py"))
        .args(args)
        .output()
        .expect("python3 must be installed to run the independent verifier");
    eprintln!(
        "verify_bundle.py {args:?}: {:?}\n{}{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

fn edit_json(data: &mut Vec<u8>, f: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_slice(data).expect("json");
    f(&mut v);
    *data = serde_json::to_vec_pretty(&v).expect("json");
}

#[test]
fn cloudtrail_events_travel_with_their_whole_log_files_and_verify_with_the_aws_keys() {
    let lab = Lab::new();
    // Without the AWS keys the stored export cannot be re-verified: refused, nothing written.
    let (o, out) = lab.export("nokeys.zip", &["--query", "status:aws-cloudtrail"], false);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("--aws-keys KEYS.json"),
        "{}",
        text(&o.stderr)
    );
    assert!(!out.exists());

    let (o, out) = lab.export("all.zip", &["--query", "status:aws-cloudtrail"], true);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    if let Ok(keep) = std::env::var("AUDITLENS_KEEP_CLOUDTRAIL_BUNDLE") {
        std::fs::create_dir_all(&keep).expect("keep dir");
        std::fs::copy(&out, Path::new(&keep).join("bundle.zip")).expect("copy");
        std::fs::copy(&lab.keys, Path::new(&keep).join("keys.json")).expect("copy");
    }
    let entries = read_entries(&out);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    // Two trails (one per region), each with its proof; no checkpoint.
    for k in 1..=2 {
        for part in [
            "cloudtrail.json",
            "aws-keys.json",
            "digests/000001.json.gz",
            "logs/000001.json.gz",
        ] {
            let name = format!("archives/{k:06}/{part}");
            assert!(names.contains(&name.as_str()), "{name} in {names:?}");
        }
        assert!(!names.contains(&format!("archives/{k:06}/checkpoint").as_str()));
    }
    // The log files are AWS's, byte for byte: the first one's SHA-256 (decompressed) is the one its digest lists.
    let log = gunzip(
        &entries
            .iter()
            .find(|(n, _)| n == "archives/000001/logs/000001.json.gz")
            .expect("log")
            .1,
    );
    let digest = gunzip(
        &entries
            .iter()
            .find(|(n, _)| n == "archives/000001/digests/000001.json.gz")
            .expect("digest")
            .1,
    );
    assert!(text(&digest).contains(&sha_hex(&log)));

    let (c, v) = verify_json(&out, Some(&lab.keys));
    assert_eq!(c, 0, "{v}");
    assert_eq!(v["status"], "verified");
    let label = v["archives"][0]["cloudtrail_label"]
        .as_str()
        .expect("label")
        .to_string();
    assert!(
        label.starts_with("signed by AWS CloudTrail (key ")
            && label.ends_with("log files verified against AWS's signed digests"),
        "{label}"
    );
    assert_eq!(v["archives"][0]["signer"]["name"], "AWS CloudTrail");
    let events = v["events"].as_array().expect("events");
    assert_eq!(events.len(), 16);
    assert!(
        events.iter().all(|e| e["cloudtrail_label"].is_string()),
        "{v}"
    );

    // The reports say what was proven, and how.
    let report: Value = serde_json::from_slice(
        &entries
            .iter()
            .find(|(n, _)| n == "report.json")
            .expect("report")
            .1,
    )
    .expect("json");
    assert!(
        report["verification"]["summary"]
            .as_str()
            .unwrap_or_default()
            .contains(
                "16 events from 2 AWS CloudTrail archives: each is a record of a whole log file"
            ),
        "{}",
        report["verification"]["summary"]
    );
    assert_eq!(report["archives"][0]["cloudtrail"]["label"], label.as_str());
    assert_eq!(report["events"][0]["proof_length"], 0);
    assert_eq!(report["events"][0]["cloudtrail"]["record"], 0);
    assert_eq!(report["events"][0]["source"], "cloudtrail");
    assert!(
        report["events"][0]["actor"]
            .as_str()
            .unwrap_or_default()
            .contains("user"),
        "{}",
        report["events"][0]
    );
    let html = text(
        &entries
            .iter()
            .find(|(n, _)| n == "report.html")
            .expect("html")
            .1,
    );
    assert!(
        html.contains("AWS CloudTrail</span>") && html.contains("AWS key"),
        "the page marks CloudTrail events"
    );

    // The human report marks the archives and events.
    let o = auditlens(&["verify-bundle", "--aws-keys", &s(&lab.keys), &s(&out)]);
    assert_eq!(code(&o), 0, "{}", text(&o.stdout));
    assert!(
        text(&o.stdout).contains("[AWS CloudTrail]"),
        "{}",
        text(&o.stdout)
    );

    // AWS keys the reader did not give: intact, never verified.
    let (c, v) = verify_json(&out, None);
    assert_eq!((c, v["status"].as_str()), (1, Some("untrusted")), "{v}");
    assert_eq!(v["failure"]["kind"], "untrusted-producer", "{v}");
    let o = auditlens(&["verify-bundle", &s(&out)]);
    let shown = text(&o.stdout) + &text(&o.stderr);
    assert!(
        shown.contains("NOT trusted: pass --aws-keys KEYS.json"),
        "{shown}"
    );
    // Keys whose window ended before the digests: untrusted too.
    let expired = lab.path("expired.json");
    write(
        &expired,
        keys_json(t0() - Duration::days(60), t0() - Duration::days(30)).as_bytes(),
    );
    let (c, v) = verify_json(&out, Some(&expired));
    assert_eq!((c, v["status"].as_str()), (1, Some("untrusted")), "{v}");
    // Only the PKCS#1 form of the key: the eu-west-1 digests name the SPKI form, whose DER differs.
    let one: Value =
        serde_json::from_slice(&std::fs::read(&lab.keys).expect("keys")).expect("json");
    let only_first = lab.path("one.json");
    write(
        &only_first,
        serde_json::json!({"PublicKeyList": [one["PublicKeyList"][0].clone()]})
            .to_string()
            .as_bytes(),
    );
    let (c, v) = verify_json(&out, Some(&only_first));
    assert_eq!((c, v["status"].as_str()), (1, Some("untrusted")), "{v}");
    assert!(
        v["failure"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("eu-west-1"),
        "{v}"
    );

    // A trust policy that grants the eu-west-1 key only for us-east-1: that archive is untrusted; granted for
    // its own region, verified.
    let fp_eu = v["archives"][0]["signer"]["fingerprint"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let fp_us = v["archives"][1]["signer"]["fingerprint"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let policy_of = |eu_region: &str| {
        let p = lab.path(&format!("policy-{eu_region}.txt"));
        write(
            &p,
            format!(
                "aws-cloudtrail:{ACCOUNT}/{eu_region}  {fp_eu}\naws-cloudtrail:{ACCOUNT}/us-east-1  {fp_us}\n"
            )
            .as_bytes(),
        );
        p
    };
    let with_policy = |policy: &Path| {
        let o = auditlens(&[
            "verify-bundle",
            "--json",
            "--aws-keys",
            &s(&lab.keys),
            "--trust-policy",
            &s(policy),
            &s(&out),
        ]);
        let v: Value = serde_json::from_slice(&o.stdout).expect("json");
        (code(&o), v)
    };
    let (c, v) = with_policy(&policy_of("us-east-1"));
    assert_eq!((c, v["status"].as_str()), (1, Some("untrusted")), "{v}");
    assert!(
        v["failure"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("the trust policy grants key"),
        "{v}"
    );
    let (c, v) = with_policy(&policy_of("eu-west-1"));
    assert_eq!((c, v["status"].as_str()), (0, Some("verified")), "{v}");

    // The independent verifier agrees.
    let o = python(&["--aws-keys", &s(&lab.keys), &s(&out)]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        text(&o.stdout).contains("AWS CloudTrail events"),
        "{}",
        text(&o.stdout)
    );
    let o = python(&[&s(&out)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stdout).starts_with("UNTRUSTED"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn a_bundle_discloses_only_the_log_files_that_hold_the_selected_events() {
    let lab = Lab::new();
    let ids = lab.path("ids.txt");
    let id = format!("aws-cloudtrail:{ACCOUNT}/eu-west-1/{TRAIL}@1#3");
    write(&ids, id.as_bytes());
    let (o, out) = lab.export("one.zip", &["--ids", &s(&ids)], true);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let entries = read_entries(&out);
    let logs: Vec<&str> = entries
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| n.contains("/logs/"))
        .collect();
    assert_eq!(logs, ["archives/000001/logs/000001.json.gz"]);
    let proof: Value = serde_json::from_slice(
        &entries
            .iter()
            .find(|(n, _)| n == "archives/000001/cloudtrail.json")
            .expect("proof")
            .1,
    )
    .expect("json");
    assert_eq!(
        proof["digests"].as_array().map(Vec::len),
        Some(1),
        "{proof}"
    );
    assert_eq!(proof["logs"][0]["first_index"], 3, "{proof}");
    let (c, v) = verify_json(&out, Some(&lab.keys));
    assert_eq!(c, 0, "{v}");
    assert_eq!(v["events"][0]["id"], id.as_str());
    let o = python(&["--aws-keys", &s(&lab.keys), &s(&out)]);
    assert_eq!(o.status.code(), Some(0));
}

/// An edit of a bundle's entries.
type Edit = Box<dyn Fn(&mut Vec<(String, Vec<u8>)>)>;

/// One edit of a good bundle, re-signed by the auditor, and the failure `verify-bundle` must report.
struct Tampered {
    what: &'static str,
    kind: &'static str,
    needle: &'static str,
    edit: Edit,
}

fn tamper_cases() -> Vec<Tampered> {
    let log1 = "archives/000001/logs/000001.json.gz";
    let digest1 = "archives/000001/digests/000001.json.gz";
    let proof1 = "archives/000001/cloudtrail.json";
    let t = |what, kind, needle, edit: Edit| Tampered {
        what,
        kind,
        needle,
        edit,
    };
    vec![
        t(
            "one byte of a log file",
            "checkpoint",
            "SHA-256",
            Box::new(move |e| {
                let content = text(&gunzip(entry(e, log1))).replacen("user", "usex", 1);
                *entry(e, log1) = gz(content.as_bytes());
            }),
        ),
        t(
            "a gzip member appended to a log file",
            "checkpoint",
            "SHA-256",
            Box::new(move |e| {
                let extra = gz(br#"{"Records":[]}"#);
                entry(e, log1).extend_from_slice(&extra);
            }),
        ),
        t(
            "bytes after the last gzip member",
            "checkpoint",
            "trailing",
            Box::new(move |e| {
                entry(e, log1).extend_from_slice(b"\0\0junk");
            }),
        ),
        t(
            "a digest listing another hash",
            "producer-signature",
            "does not verify",
            Box::new(move |e| {
                let content = text(&gunzip(entry(e, digest1)));
                let i = content.find("\"hashValue\":\"").expect("hashValue") + 13;
                let mut c = content.into_bytes();
                c[i] = if c[i] == b'0' { b'1' } else { b'0' };
                *entry(e, digest1) = gz(&c);
            }),
        ),
        t(
            "a changed signature",
            "producer-signature",
            "does not verify",
            Box::new(move |e| {
                edit_json(entry(e, proof1), |v| {
                    let sig = v["digests"][0]["signature"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let flipped = match sig.strip_prefix('0') {
                        Some(rest) => format!("1{rest}"),
                        None => format!("0{}", sig.get(1..).unwrap_or_default()),
                    };
                    v["digests"][0]["signature"] = Value::String(flipped);
                });
            }),
        ),
        t(
            "an expired key in aws-keys.json",
            "producer-signature",
            "valid at digestEndTime",
            Box::new(move |e| {
                edit_json(entry(e, "archives/000001/aws-keys.json"), |v| {
                    for k in v["PublicKeyList"].as_array_mut().into_iter().flatten() {
                        k["ValidityEndTime"] = Value::String("2020-01-01T00:00:00Z".into());
                    }
                });
            }),
        ),
        t(
            "key times in another form than the bundle's",
            "container",
            "YYYY-MM-DDTHH:MM:SS",
            Box::new(move |e| {
                edit_json(entry(e, "archives/000001/aws-keys.json"), |v| {
                    for k in v["PublicKeyList"].as_array_mut().into_iter().flatten() {
                        k["ValidityStartTime"] = Value::String("1700000000.0".into());
                    }
                });
            }),
        ),
        t(
            "an unknown key fingerprint",
            "producer-signature",
            "holds no key",
            Box::new(move |e| {
                *entry(e, "archives/000001/aws-keys.json") = br#"{"PublicKeyList": []}"#.to_vec();
            }),
        ),
        t(
            "an edited event",
            "event",
            "not record",
            Box::new(move |e| {
                let events = text(entry(e, "events.jsonl")).replacen("user", "usez", 1);
                let first = events.lines().next().unwrap_or_default().to_string();
                *entry(e, "events.jsonl") = events.into_bytes();
                let leaf = auditlens::archive::encode_hash(&auditlens::merkle::leaf_hash(
                    first.as_bytes(),
                ));
                let proofs = text(entry(e, "proofs.jsonl"));
                let mut lines: Vec<Value> = proofs
                    .lines()
                    .map(|l| serde_json::from_str(l).expect("json"))
                    .collect();
                lines[0]["leaf"] = Value::String(leaf);
                *entry(e, "proofs.jsonl") = lines
                    .iter()
                    .map(|l| format!("{l}\n"))
                    .collect::<String>()
                    .into_bytes();
            }),
        ),
        t(
            "the origin moved to another trail",
            "checkpoint",
            "is not a digest of the archive's trail",
            Box::new(move |e| {
                edit_json(entry(e, "bundle.json"), |v| {
                    let o = v["archives"][0]["origin"]
                        .as_str()
                        .unwrap_or_default()
                        .replace(TRAIL, "other-trail");
                    v["archives"][0]["origin"] = Value::String(o);
                });
            }),
        ),
        t(
            "a log file's range moved",
            "checkpoint",
            "after the previous",
            Box::new(move |e| {
                edit_json(entry(e, proof1), |v| {
                    // Logs 1 and 2 swap their ranges (each holds one record).
                    let a = v["logs"][0]["first_index"].clone();
                    v["logs"][0]["first_index"] = v["logs"][1]["first_index"].clone();
                    v["logs"][1]["first_index"] = a;
                });
            }),
        ),
        t(
            "a wrong record count",
            "checkpoint",
            "record(s)",
            Box::new(move |e| {
                edit_json(entry(e, proof1), |v| v["logs"][0]["records"] = 2.into());
            }),
        ),
        t(
            "a log file of the digest that is not carried",
            "container",
            "missing entry",
            Box::new(move |e| {
                e.retain(|(n, _)| n != log1);
            }),
        ),
        t(
            "an extra digest file",
            "container",
            "digest and",
            Box::new(move |e| {
                let d = entry(e, digest1).clone();
                e.push(("archives/000001/digests/000099.json.gz".into(), d));
            }),
        ),
        t(
            "another signer in bundle.json",
            "index",
            "signer",
            Box::new(move |e| {
                edit_json(entry(e, "bundle.json"), |v| {
                    v["archives"][0]["signer"] = "aws-cloudtrail:00".into()
                });
            }),
        ),
        t(
            "a checkpoint archive's entry in a CloudTrail archive",
            "container",
            "not allowed",
            Box::new(move |e| {
                e.push(("archives/000001/checkpoint".into(), b"x".to_vec()));
            }),
        ),
        t(
            "a changed label in report.json",
            "report",
            "report.json",
            Box::new(move |e| {
                edit_json(entry(e, "report.json"), |v| {
                    v["archives"][0]["cloudtrail"]["label"] = "verified".into();
                });
                // report.json is compared byte for byte: keep the pretty form and final newline.
                entry(e, "report.json").push(b'\n');
            }),
        ),
    ]
}

#[test]
fn every_edit_of_the_aws_proof_fails_in_both_verifiers() {
    let lab = Lab::new();
    let (o, good) = lab.export("good.zip", &["--query", "status:aws-cloudtrail"], true);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let mut disagreements = Vec::new();
    for (i, case) in tamper_cases().into_iter().enumerate() {
        let mut entries = read_entries(&good);
        (case.edit)(&mut entries);
        resign_bundle(&mut entries, &lab.auditor);
        let path = lab.path(&format!("t{i}.zip"));
        write_entries(&path, &entries);
        let (c, v) = verify_json(&path, Some(&lab.keys));
        assert_eq!(c, 1, "{}: {v}", case.what);
        assert_eq!(v["status"], "failed", "{}: {v}", case.what);
        assert_eq!(v["failure"]["kind"], case.kind, "{}: {v}", case.what);
        let message = v["failure"]["message"].as_str().unwrap_or_default();
        let entry_name = v["failure"]["entry"].as_str().unwrap_or_default();
        assert!(
            message.contains(case.needle) || entry_name.contains(case.needle),
            "{}: expected {:?} in {v}",
            case.what,
            case.needle
        );
        let o = python(&["--aws-keys", &s(&lab.keys), &s(&path)]);
        if o.status.code() != Some(1) || !text(&o.stdout).starts_with("FAIL") {
            disagreements.push(format!("{}: {}", case.what, text(&o.stdout)));
        }
    }
    assert!(
        disagreements.is_empty(),
        "verify_bundle.py accepted: {disagreements:?}"
    );
}

#[test]
fn an_event_from_a_backfill_digest_travels_with_it_and_verifies() {
    let lab = Lab::with(|e| {
        let rel = extra_log(e, 0, e.digests[0][1].start + chrono::Duration::minutes(30));
        backfill(e, 0, 1, &rel);
    });
    // The backfill chain is the trail's second archive; its one event is the log file the hour's digest missed.
    let ids = lab.path("ids.txt");
    let id = format!("aws-cloudtrail:{ACCOUNT}/{}/{TRAIL}@2#0", REGIONS[0]);
    write(&ids, id.as_bytes());
    let (o, out) = lab.export("backfill.zip", &["--ids", &s(&ids)], true);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let entries = read_entries(&out);
    let digest = text(&gunzip(
        &entries
            .iter()
            .find(|(n, _)| n == "archives/000001/digests/000001.json.gz")
            .expect("digest")
            .1,
    ));
    assert!(digest.contains("_backfill.json.gz"), "{digest}");
    let (c, v) = verify_json(&out, Some(&lab.keys));
    assert_eq!(c, 0, "{v}");
    assert_eq!(v["events"][0]["id"], id.as_str());
    let o = python(&["--aws-keys", &s(&lab.keys), &s(&out)]);
    assert_eq!(o.status.code(), Some(0));
}

/// A bundle whose author chose a log file of ten million `{}` records (30 MB inflated, a few KB in the ZIP), its
/// digest re-signed with the "AWS" key the bundle carries and the counts in cloudtrail.json and bundle.json made
/// to agree: `verify-bundle` reads the file and keeps the leaves of the bundle's own events only, not one per
/// record (a list of ten million leaves is 320 MB, 537 MB as it grows), and stays within 300 MB.
#[test]
fn a_log_file_of_ten_million_records_is_verified_keeping_only_the_events_leaves() {
    const EXTRA: u64 = 10_000_000;
    let lab = Lab::new();
    let (o, good) = lab.export("good.zip", &["--query", "status:aws-cloudtrail"], true);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let mut entries = read_entries(&good);
    let proof_name = "archives/000001/cloudtrail.json";
    let mut proof: Value = serde_json::from_slice(entry(&mut entries, proof_name)).expect("json");
    // The archive's last log file, and the digest that lists it.
    let logs = proof["logs"].as_array().expect("logs").len();
    let last = &proof["logs"][logs - 1];
    let m = last["digest"].as_u64().expect("digest");
    let log_name = format!("archives/000001/logs/{logs:06}.json.gz");
    let digest_name = format!("archives/000001/digests/{m:06}.json.gz");
    let before = gunzip(entry(&mut entries, &log_name));
    let mut content = text(&before);
    let end = content.len() - "]}".len();
    assert_eq!(&content[end..], "]}");
    content.truncate(end);
    content.push_str(&",{}".repeat(EXTRA as usize));
    content.push_str("]}");
    *entry(&mut entries, &log_name) = gz(content.as_bytes());
    let log_sha = sha_hex(content.as_bytes());
    let digest =
        text(&gunzip(entry(&mut entries, &digest_name))).replace(&sha_hex(&before), &log_sha);
    drop(content);
    let d: Value = serde_json::from_str(&digest).expect("digest");
    let signature = super::cloudtrail_digest::sign(&auditlens::cloudtrail_digest::string_to_sign(
        d["digestEndTime"].as_str().expect("end"),
        d["digestS3Bucket"].as_str().expect("bucket"),
        d["digestS3Object"].as_str().expect("object"),
        &sha_hex(digest.as_bytes()),
        d["previousDigestSignature"].as_str(),
    ));
    *entry(&mut entries, &digest_name) = gz(digest.as_bytes());
    proof["digests"][(m - 1) as usize]["signature"] = signature.into();
    let records = proof["logs"][logs - 1]["records"]
        .as_u64()
        .expect("records");
    proof["logs"][logs - 1]["records"] = (records + EXTRA).into();
    *entry(&mut entries, proof_name) = serde_json::to_vec_pretty(&proof).expect("json");
    edit_json(entry(&mut entries, "bundle.json"), |v| {
        let size = v["archives"][0]["size"].as_u64().expect("size");
        v["archives"][0]["size"] = (size + EXTRA).into();
    });
    resign_bundle(&mut entries, &lab.auditor);
    let bundle = lab.path("dense.zip");
    write_entries(&bundle, &entries);
    drop(entries);
    let (o, peak) = super::common::auditlens_peak_rss(&[
        "verify-bundle",
        "--json",
        "--aws-keys",
        &s(&lab.keys),
        &s(&bundle),
    ]);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&o.stdout), text(&o.stderr)));
    eprintln!(
        "verify-bundle of a log file of 10 million records: peak RSS {} MB",
        peak / 1_000_000
    );
    assert!(peak <= 300_000_000, "peak {peak} bytes: {v}");
    // The proof and every event verified; the reports, derived last, still name the archive's old size (they are
    // not re-rendered here).
    assert_eq!(code(&o), 1, "{v}");
    assert_eq!(v["failure"]["kind"], "report", "{v}");
    assert_eq!(v["failure"]["entry"], "report.json", "{v}");
    assert_eq!(
        v["failure"]["expected"],
        (8 + EXTRA).to_string(),
        "the archive's size as verified: {v}"
    );
}

/// A log file of no records (`{"Records":[]}`), listed by its digest before a file delivered earlier whose name
/// sorts first (review finding, 2026-12-08): the import gives both the same first index, and `check` kept one
/// file per first index, so it read the empty one in place of the other and refused the store ("claims first
/// event index"), and with it every export of its evidence. It reads every file in turn now: the store checks,
/// and the event after the empty file travels in a bundle that both verifiers accept.
#[test]
fn a_log_file_of_no_records_listed_first_does_not_hide_the_next_one() {
    let start = t0() + Duration::hours(1);
    let empty = format!(
        "AWSLogs/{ACCOUNT}/CloudTrail/{region}/{}/{ACCOUNT}_CloudTrail_{region}_{}_r0h1zEmpty01.json.gz",
        (start + Duration::minutes(20)).format("%Y/%m/%d"),
        (start + Duration::minutes(20)).format("%Y%m%dT%H%MZ"),
        region = REGIONS[0],
    );
    let content = br#"{"Records":[]}"#;
    let export = generate_with(&|r, h, v| {
        if (r, h) == (0, 1) {
            v["logFiles"].as_array_mut().expect("log files").insert(
                0,
                serde_json::json!({"s3Bucket": super::cloudtrail_digest::BUCKET, "s3Object": empty,
                    "hashValue": sha_hex(content), "hashAlgorithm": "SHA-256"}),
            );
        }
    });
    write(&export.path(&empty), &gz(content));
    // The empty file's name sorts after the one it is listed before.
    assert!(export.digests[0][1].logs[0] < empty);
    let lab = Lab::of(export);
    let o = auditlens(&["check", "--db", &s(&lab.db), "--aws-keys", &s(&lab.keys)]);
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    // Hour 0 holds events 0 and 1; the empty file, then hour 1's first file (event 2).
    let ids = lab.path("ids.txt");
    let id = format!("aws-cloudtrail:{ACCOUNT}/{}/{TRAIL}@1#2", REGIONS[0]);
    write(&ids, id.as_bytes());
    let (o, out) = lab.export("after-empty.zip", &["--ids", &s(&ids)], true);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let (c, v) = verify_json(&out, Some(&lab.keys));
    assert_eq!(c, 0, "{v}");
    assert_eq!(v["events"][0]["id"], id.as_str());
    // It is hour 1's first record.
    let o = auditlens(&[
        "search",
        "--db",
        &s(&lab.db),
        "--json",
        &format!(
            "actor:user10 origin:\"aws-cloudtrail:{ACCOUNT}/{}/{TRAIL}\"",
            REGIONS[0]
        ),
    ]);
    let found: Value =
        serde_json::from_str(text(&o.stdout).lines().next().expect("a line")).expect("json");
    assert_eq!(found["id"], id.as_str(), "{found}");
    let o = python(&["--aws-keys", &s(&lab.keys), &s(&out)]);
    assert_eq!(o.status.code(), Some(0));
}
