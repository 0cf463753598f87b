//! Evidence bundles holding an archive sealed on receipt (docs/archive-format.md section 4.1,
//! docs/evidence-bundle.md): exported from a store that holds one archive sealed normally by its producer and one
//! sealed on receipt by the auditor who received the files, the bundle verifies, and every output of it (the
//! library's verdict, `verify-bundle`'s human and JSON reports, report.json, report.html, the independent Python
//! verifiers) labels the received archive and its events `sealed on receipt by NAME (FINGERPRINT) at AT: proves
//! no change since receipt, not authenticity at the source`, never plain verified, and the normal archive not.
//! The label comes from the signed manifest: removing or changing the `received` member, or the label in the
//! reports, is a verification failure, whoever re-signs the bundle.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;
use auditlens::archive::{self, ChainLines, Manifest};
use auditlens::bundle::{
    self, BundleStatus, BundleVerification, ExportOptions, FailureKind, SelectionInput,
    VerifyOptions,
};
use auditlens::checkpoint::Checkpoint;
use auditlens::note::{Note, SignerKey, VerifierKey};
use auditlens::seal::{SealOptions, seal};
use auditlens::store::Store;
use auditlens::store::import::{ImportOptions, ImportOutcome};
use sha2::{Digest, Sha256};

const K8S: &str = "example.com/prod/k8s";
const RECEIVED: &str = "example.com/received/cloudtrail";
const PURPOSE: &str = "AUD-7: events received from the client's trail";
/// 2024-06-01T00:00:00Z.
const NOW: i64 = 1_717_200_000_000_000;

struct Lab {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    producer: SignerKey,
    /// The auditor who received the CloudTrail files nobody signed and sealed them on receipt.
    receiver: SignerKey,
    /// The auditor who exports the bundle.
    auditor: SignerKey,
    received_archive: PathBuf,
    normal_archive: PathBuf,
}

impl Lab {
    fn new() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let producer = key("ops-prod");
        let receiver = key("jane-receipt");
        let auditor = key("auditor-jane");
        let normal_archive = seal_to(&dir, "k8s.zip", &producer, K8S, None, &[fixture(K8S_LOG)]);
        let received_archive = dir.join("received.zip");
        seal(&SealOptions {
            key: &receiver,
            origin: RECEIVED,
            prev: None,
            format: None,
            mapping: None,
            out: &received_archive,
            inputs: &[fixture(CLOUDTRAIL_LOG)],
            receive: true,
        })
        .unwrap();
        let lab = Lab {
            _tmp: tmp,
            dir,
            producer,
            receiver,
            auditor,
            received_archive,
            normal_archive,
        };
        let mut store = Store::open(&lab.dir.join("store.db")).unwrap();
        for a in [&lab.normal_archive, &lab.received_archive] {
            let outcome = store
                .import_archive(
                    a,
                    &ImportOptions {
                        trust: &auditlens::trust::TrustPolicy::from_keys(&lab.trusted()),
                        keep_failed: false,
                    },
                    &mut |_| true,
                )
                .unwrap()
                .outcome;
            assert!(matches!(outcome, ImportOutcome::Imported), "{outcome:?}");
        }
        for k in [&lab.producer, &lab.receiver, &lab.auditor] {
            std::fs::write(
                lab.p(&format!("{}.pub", k.verifier().name())),
                format!("{}\n", k.verifier()),
            )
            .unwrap();
        }
        lab
    }

    fn p(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn trusted(&self) -> Vec<VerifierKey> {
        vec![self.producer.verifier(), self.receiver.verifier()]
    }

    fn export(&self, name: &str, ids: &[String]) -> PathBuf {
        let out = self.p(name);
        bundle::export(
            &Store::open(&self.p("store.db")).unwrap(),
            &ExportOptions {
                selection: SelectionInput::Ids(ids.to_vec()),
                purpose: PURPOSE,
                auditor: &self.auditor,
                out: &out,
                now_micros: NOW,
                aws_keys: None,
            },
        )
        .unwrap();
        out
    }

    /// Two events of each archive: the normal one first (bundle order is by origin).
    fn mixed(&self) -> PathBuf {
        self.export(
            "mixed.zip",
            &[
                format!("{K8S}@1#0"),
                format!("{K8S}@1#1"),
                format!("{RECEIVED}@1#0"),
                format!("{RECEIVED}@1#1"),
            ],
        )
    }

    fn verify(&self, path: &Path) -> BundleVerification {
        bundle::verify_bundle(
            path,
            &VerifyOptions {
                trusted_producers: &self.trusted(),
                trusted_auditors: &[self.auditor.verifier()],
                producer_policy: None,
                aws_keys: None,
            },
        )
        .unwrap()
    }

    /// The label, word for word as docs/archive-format.md section 4.1 gives it, from the archive's signed manifest.
    fn label(&self) -> String {
        let entries = read_entries(&self.received_archive);
        let m: Manifest = serde_json::from_slice(
            &entries
                .iter()
                .find(|(n, _)| n == archive::MANIFEST)
                .unwrap()
                .1,
        )
        .unwrap();
        let at = m.received.expect("sealed on receipt").at;
        assert!(auditlens::time::parse_rfc3339(&at).is_some(), "{at}");
        let v = self.receiver.verifier();
        format!(
            "sealed on receipt by jane-receipt ({}) at {at}: proves no change since receipt, not authenticity at the source",
            v.fingerprint()
        )
    }
}

fn bundle_entry(entries: &[(String, Vec<u8>)], name: &str) -> Vec<u8> {
    entries
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no entry {name}"))
        .1
        .clone()
}

/// Archive `k` of a bundle with its manifest.json replaced by `manifest` and its checkpoint re-signed over it by
/// `signer` (same origin, size and root): what the holder of the receiving key could make of the archive.
fn replace_archive_manifest(
    entries: &mut [(String, Vec<u8>)],
    k: usize,
    manifest: Vec<u8>,
    signer: &SignerKey,
) {
    let cp_name = bundle::checkpoint_entry(k);
    let note = Note::parse(entry(entries, &cp_name)).unwrap();
    let cp = Checkpoint::parse(&note.text).unwrap();
    let mut chain = ChainLines::from_checkpoint(&cp).unwrap();
    chain.manifest_sha256 = Sha256::digest(&manifest).into();
    let cp = Checkpoint {
        extensions: chain.to_extensions(),
        ..cp
    };
    *entry(entries, &cp_name) = signer.sign(&cp.to_text()).unwrap().into_bytes();
    *entry(entries, &bundle::archive_manifest_entry(k)) = manifest;
}

fn python(script: &str, args: &[&str]) -> Output {
    let out = Command::new("python3")
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/independent")
                .join(script),
        )
        .args(args)
        .output()
        .expect("python3 must be installed to run the independent verifiers");
    eprintln!(
        "{script} {args:?}: {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn a_bundle_labels_the_archive_sealed_on_receipt_and_only_it() {
    let lab = Lab::new();
    let label = lab.label();
    let out = lab.mixed();
    let v = lab.verify(&out);
    assert_eq!(v.status, BundleStatus::Verified, "{:#?}", v.failure);
    assert!(v.ok);
    assert_eq!(v.archives.len(), 2);
    let (normal, received) = (&v.archives[0], &v.archives[1]);
    assert_eq!(normal.origin, K8S);
    assert_eq!(received.origin, RECEIVED);
    assert_eq!(normal.received, None);
    assert_eq!(normal.received_label, None);
    assert_eq!(received.received_label.as_deref(), Some(label.as_str()));
    let receipt = received.received.as_ref().unwrap();
    assert_eq!(receipt.files.len(), 1);
    assert_eq!(
        receipt.files[0].sha256,
        auditlens::merkle::to_hex(
            &Sha256::digest(std::fs::read(fixture(CLOUDTRAIL_LOG)).unwrap()).into()
        )
    );
    let labelled: Vec<(&str, Option<&str>)> = v
        .events
        .iter()
        .map(|e| (e.origin.as_str(), e.received_label.as_deref()))
        .collect();
    assert_eq!(
        labelled,
        vec![
            (K8S, None),
            (K8S, None),
            (RECEIVED, Some(label.as_str())),
            (RECEIVED, Some(label.as_str())),
        ]
    );

    // report.json: the archive's provenance carries the label and the files received; its events are marked.
    let entries = read_entries(&out);
    let report: serde_json::Value =
        serde_json::from_slice(&bundle_entry(&entries, bundle::REPORT_JSON)).unwrap();
    assert!(report["archives"][0].get("received").is_none());
    assert_eq!(report["archives"][1]["received"]["label"], label.as_str());
    assert_eq!(
        report["archives"][1]["received"]["files"][0]["entry"],
        "events/000001.jsonl"
    );
    let marks: Vec<Option<&str>> = report["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.get("received").map(|r| r.as_str().unwrap()))
        .collect();
    assert_eq!(
        marks,
        vec![None, None, Some(label.as_str()), Some(label.as_str())]
    );
    let summary = report["verification"]["summary"].as_str().unwrap();
    assert!(
        summary.ends_with(
            "Of these, 2 events from 1 archive were only sealed on receipt, by the key of whoever received the \
             files, not by their producer: proves no change since receipt, not authenticity at the source."
        ),
        "{summary}"
    );

    // report.html: the label on the archive and on each of its events, the mark in the table, the count.
    let html = String::from_utf8(bundle_entry(&entries, bundle::REPORT_HTML)).unwrap();
    let shown = auditlens::bundle::html::text(&label);
    assert_eq!(
        html.matches(shown.as_str()).count(),
        3,
        "archive + 2 events"
    );
    assert!(html.contains("Verified at export; 2 events only sealed on receipt"));
    assert!(html.contains("4 from 2 signed archives; 2 of them only sealed on receipt"));
    assert_eq!(html.matches(">sealed on receipt</span>").count(), 4);
    let event = |p: u32| {
        let start = html
            .find(&format!("<article class=\"event\" id=\"event-{p}\""))
            .unwrap();
        let end = start + html[start..].find("</article>").unwrap();
        html[start..end].to_string()
    };
    assert!(!event(1).contains("sealed on receipt"), "{}", event(1));
    assert!(event(3).contains(&shown), "{}", event(3));
    assert!(event(3).contains(">Signer<"));
    assert!(event(1).contains(">Producer<"));

    // The export preview says which archive is sealed on receipt, with the label.
    let preview = bundle::preview(
        &Store::open(&lab.p("store.db")).unwrap(),
        &bundle::ExportSelection::Ids {
            ids: vec![format!("{K8S}@1#0"), format!("{RECEIVED}@1#0")],
        },
        NOW,
    )
    .unwrap();
    let previewed: Vec<(&str, Option<&str>)> = preview
        .archives
        .iter()
        .map(|a| (a.origin.as_str(), a.received_label.as_deref()))
        .collect();
    assert_eq!(
        previewed,
        vec![(K8S, None), (RECEIVED, Some(label.as_str()))]
    );

    // A bundle of normally sealed events says nothing of receipt: its reports are what they always were.
    let plain = lab.export("plain.zip", &[format!("{K8S}@1#0")]);
    let v = lab.verify(&plain);
    assert_eq!(v.status, BundleStatus::Verified);
    assert!(v.archives.iter().all(|a| a.received_label.is_none()));
    let plain_entries = read_entries(&plain);
    for name in [bundle::REPORT_JSON, bundle::REPORT_HTML] {
        let text = String::from_utf8(bundle_entry(&plain_entries, name)).unwrap();
        assert!(!text.contains("receipt"), "{name}");
        assert!(!text.contains("\"received\""), "{name}");
    }
}

#[test]
fn verify_bundle_on_the_command_line_labels_received_events() {
    let lab = Lab::new();
    let label = lab.label();
    let out = lab.mixed();
    let bundle = out.to_str().unwrap();
    let (producer, receiver, auditor) = (
        lab.p("ops-prod.pub"),
        lab.p("jane-receipt.pub"),
        lab.p("auditor-jane.pub"),
    );
    let trust = [
        "--trust",
        producer.to_str().unwrap(),
        "--trust",
        receiver.to_str().unwrap(),
        "--trust-auditor",
        auditor.to_str().unwrap(),
    ];
    let o = auditlens(&[&["verify-bundle"][..], &trust, &[bundle]].concat());
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    let first = stdout.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "{bundle}: VERIFIED 2 event(s); 2 event(s) only SEALED ON RECEIPT (proves no change since receipt, not \
             authenticity at the source)"
        )
    );
    let archive_line = |k: u32| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("archive {k} ")))
            .unwrap()
            .to_string()
    };
    assert!(!archive_line(1).contains("receipt"), "{}", archive_line(1));
    assert!(archive_line(1).contains("producer ops-prod"));
    assert!(
        archive_line(2).ends_with(&format!("(trusted); {label}")),
        "{}",
        archive_line(2)
    );
    assert!(archive_line(2).contains("signer jane-receipt"));
    assert_eq!(stdout.matches("[sealed on receipt]").count(), 2);
    let last = stdout.lines().last().unwrap();
    assert!(
        last.starts_with(
            "OK: 4 event(s) from 2 archive(s): 2 verified and 2 event(s) only SEALED ON RECEIPT (proves no change \
             since receipt, not authenticity at the source)"
        ),
        "{last}"
    );

    // --json: the receipt and the label on the archive, the label on its events.
    let o = auditlens(&[&["verify-bundle", "--json"][..], &trust, &[bundle]].concat());
    assert_eq!(code(&o), 0);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(doc["archives"][0].get("received_label").is_none());
    assert!(doc["archives"][0].get("received").is_none());
    assert_eq!(doc["archives"][1]["received_label"], label.as_str());
    assert_eq!(
        doc["archives"][1]["received"]["files"][0]["name"],
        "awsdocs_examples_Records.json"
    );
    let marks: Vec<bool> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.get("received_label").is_some())
        .collect();
    assert_eq!(marks, vec![false, false, true, true]);

    // Only received events: the headline says so, with no plain VERIFIED.
    let only = lab.export("only.zip", &[format!("{RECEIVED}@1#2")]);
    let o = auditlens(&[&["verify-bundle"][..], &trust, &[only.to_str().unwrap()]].concat());
    assert_eq!(code(&o), 0);
    let first = text(&o.stdout).lines().next().unwrap().to_string();
    assert!(
        first.ends_with(
            ": SEALED ON RECEIPT: all 1 event(s) (proves no change since receipt, not authenticity at the source)"
        ),
        "{first}"
    );
    assert!(!first.contains("VERIFIED"), "{first}");
    // Without the auditor trusted, the untrusted auditor is still named in the same line.
    let o = auditlens(&[
        "verify-bundle",
        "--trust",
        producer.to_str().unwrap(),
        "--trust",
        receiver.to_str().unwrap(),
        bundle,
    ]);
    assert_eq!(code(&o), 0);
    let first = text(&o.stdout).lines().next().unwrap().to_string();
    assert!(
        first.contains("VERIFIED 2 event(s); 2 event(s) only SEALED ON RECEIPT")
            && first.contains("UNTRUSTED auditor key auditor-jane"),
        "{first}"
    );
}

#[test]
fn the_receipt_cannot_be_removed_or_changed_in_a_bundle() {
    let lab = Lab::new();
    let good = lab.mixed();
    let m_name = bundle::archive_manifest_entry(2);
    let manifest = bundle_entry(&read_entries(&good), &m_name);
    let edited = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
        f(&mut v);
        serde_json::to_vec_pretty(&v).unwrap()
    };
    let without = edited(&|m| {
        m.as_object_mut().unwrap().remove("received");
    });
    let earlier = edited(&|m| m["received"]["at"] = "2020-01-01T00:00:00Z".into());

    // The member removed or changed, the bundle re-signed by its auditor: the archive's checkpoint signs the
    // manifest's hash, so the archive no longer verifies.
    for (name, bytes) in [("without.zip", &without), ("earlier.zip", &earlier)] {
        let t = rewrite(&good, &lab.p(name), |e| {
            *entry(e, &m_name) = bytes.clone();
            resign_bundle(e, &lab.auditor);
        });
        let v = lab.verify(&t);
        let f = v.failure.as_ref().expect("must fail");
        assert_eq!(f.kind, FailureKind::Checkpoint, "{name}: {f:#?}");
        assert!(f.message.contains("is not the one"), "{name}: {f:#?}");
        assert_eq!(f.entry.as_deref(), Some(m_name.as_str()));
        assert!(!v.ok && v.events.is_empty());
        let o = python(
            "verify_bundle.py",
            &[
                "--trust",
                &lab.receiver.verifier().to_string(),
                "--trust",
                &lab.producer.verifier().to_string(),
                t.to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{name}");
        assert!(text(&o.stdout).contains("not the manifest"), "{name}");
    }
    // Not re-signed: the auditor's manifest no longer matches the entry.
    let t = rewrite(&good, &lab.p("unsigned.zip"), |e| {
        *entry(e, &m_name) = without.clone();
    });
    assert_eq!(
        lab.verify(&t).failure.map(|f| f.kind),
        Some(FailureKind::Entries)
    );

    // The holder of the receiving key re-signs the archive without its receipt: the archive now verifies as a
    // normal one, but the reports the exporter signed still carry the label, and no longer match.
    let t = rewrite(&good, &lab.p("stripped.zip"), |e| {
        replace_archive_manifest(e, 2, without.clone(), &lab.receiver);
        resign_bundle(e, &lab.auditor);
    });
    let v = lab.verify(&t);
    let f = v.failure.as_ref().expect("must fail");
    assert_eq!(f.kind, FailureKind::Report, "{f:#?}");
    assert_eq!(f.entry.as_deref(), Some(bundle::REPORT_JSON));

    // ... and a report stripped of the label, re-signed, fails too: the label is derived from the signed manifest.
    let t = rewrite(&good, &lab.p("unlabelled.zip"), |e| {
        let mut r: serde_json::Value =
            serde_json::from_slice(entry(e, bundle::REPORT_JSON)).unwrap();
        r["archives"][1].as_object_mut().unwrap().remove("received");
        for ev in r["events"].as_array_mut().unwrap() {
            ev.as_object_mut().unwrap().remove("received");
        }
        let mut bytes = serde_json::to_vec_pretty(&r).unwrap();
        bytes.push(b'\n');
        *entry(e, bundle::REPORT_JSON) = bytes;
        resign_bundle(e, &lab.auditor);
    });
    let v = lab.verify(&t);
    let f = v.failure.as_ref().expect("must fail");
    assert_eq!(f.kind, FailureKind::Report, "{f:#?}");
    assert!(f.message.contains("archives[1].received"), "{f:#?}");
    let o = python(
        "verify_bundle.py",
        &[
            "--trust",
            &lab.receiver.verifier().to_string(),
            "--trust",
            &lab.producer.verifier().to_string(),
            t.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));

    // A receipt that breaks the rules of section 4.1, in an archive re-signed by the receiving key: a SHA-256 not
    // in lowercase hex, a file that names another entry, a time that is not RFC 3339.
    for (name, bad) in [
        (
            "upper.zip",
            edited(&|m| {
                let s = m["received"]["files"][0]["sha256"]
                    .as_str()
                    .unwrap()
                    .to_uppercase();
                m["received"]["files"][0]["sha256"] = s.into();
            }),
        ),
        (
            "entry.zip",
            edited(&|m| m["received"]["files"][0]["entry"] = "events/000002.jsonl".into()),
        ),
        (
            "name.zip",
            edited(&|m| m["received"]["files"][0]["name"] = "other.json".into()),
        ),
        (
            "at.zip",
            edited(&|m| m["received"]["at"] = "yesterday".into()),
        ),
    ] {
        let t = rewrite(&good, &lab.p(name), |e| {
            replace_archive_manifest(e, 2, bad.clone(), &lab.receiver);
            resign_bundle(e, &lab.auditor);
        });
        let v = lab.verify(&t);
        let f = v.failure.as_ref().expect("must fail");
        assert_eq!(f.kind, FailureKind::Checkpoint, "{name}: {f:#?}");
        assert!(f.message.contains("received"), "{name}: {f:#?}");
        let o = python(
            "verify_bundle.py",
            &[
                "--trust",
                &lab.receiver.verifier().to_string(),
                "--trust",
                &lab.producer.verifier().to_string(),
                t.to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{name}");
        assert!(text(&o.stdout).contains("received"), "{name}");
    }
}

#[test]
fn the_independent_verifiers_print_the_label_instead_of_verified() {
    let lab = Lab::new();
    let label = lab.label();
    let good = lab.mixed();
    let (producer, receiver) = (
        lab.producer.verifier().to_string(),
        lab.receiver.verifier().to_string(),
    );
    let o = python(
        "verify_bundle.py",
        &[
            "--trust",
            &producer,
            "--trust",
            &receiver,
            good.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    let line = text(&o.stdout);
    assert!(
        line.starts_with("OK 4 events, 2 archives, auditor auditor-jane"),
        "{line}"
    );
    assert!(
        line.contains(&format!(
            "; 2 of them only sealed on receipt, not verified at the source: archive 2 {label}"
        )),
        "{line}"
    );
    // A bundle without received events says nothing of receipt.
    let plain = lab.export("plain.zip", &[format!("{K8S}@1#3")]);
    let o = python(
        "verify_bundle.py",
        &["--trust", &producer, plain.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(!text(&o.stdout).contains("receipt"));

    // The archives themselves.
    let o = independent_verify(
        &[lab.producer.verifier(), lab.receiver.verifier()],
        &[&lab.normal_archive, &lab.received_archive],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with(&format!("OK {K8S} 1 37 ")), "{out}");
    assert!(
        lines[1].starts_with(&format!("SEALED-ON-RECEIPT {RECEIVED} 1 ")),
        "{out}"
    );
    assert!(lines[1].ends_with(&format!(" {label}")), "{out}");
    assert!(!lines[1].starts_with("OK"));
    // Untrusted receiving key: FAIL, as for any archive.
    let o = independent_verify(&[lab.producer.verifier()], &[&lab.received_archive]);
    assert_eq!(o.status.code(), Some(1));

    // Receipt rules, in an archive re-signed by the receiving key: the archive verifier and the Python one agree.
    let m_name = archive::MANIFEST;
    for (name, f) in [
        (
            "upper.zip",
            Box::new(|m: &mut serde_json::Value| {
                let s = m["received"]["files"][0]["sha256"]
                    .as_str()
                    .unwrap()
                    .to_uppercase();
                m["received"]["files"][0]["sha256"] = s.into();
            }) as Box<dyn Fn(&mut serde_json::Value)>,
        ),
        (
            "entry.zip",
            Box::new(|m: &mut serde_json::Value| {
                m["received"]["files"][0]["entry"] = serde_json::Value::Null
            }),
        ),
        (
            "at.zip",
            Box::new(|m: &mut serde_json::Value| {
                m["received"]["at"] = "2024-13-01T00:00:00Z".into()
            }),
        ),
        (
            "extra.zip",
            Box::new(|m: &mut serde_json::Value| m["received"]["by"] = "someone".into()),
        ),
    ] {
        let t = rewrite(&lab.received_archive, &lab.p(name), |e| {
            let mut m: serde_json::Value = serde_json::from_slice(entry(e, m_name)).unwrap();
            f(&mut m);
            let bytes = serde_json::to_vec_pretty(&m).unwrap();
            let note = Note::parse(entry(e, archive::CHECKPOINT)).unwrap();
            let cp = Checkpoint::parse(&note.text).unwrap();
            let mut chain = ChainLines::from_checkpoint(&cp).unwrap();
            chain.manifest_sha256 = Sha256::digest(&bytes).into();
            let cp = Checkpoint {
                extensions: chain.to_extensions(),
                ..cp
            };
            *entry(e, archive::CHECKPOINT) = lab.receiver.sign(&cp.to_text()).unwrap().into_bytes();
            *entry(e, m_name) = bytes;
        });
        let ours = verify_with(&t, &[lab.receiver.verifier()]);
        assert!(ours.failure.is_some(), "{name}: ours accepted it");
        let o = independent_verify(&[lab.receiver.verifier()], &[&t]);
        assert_eq!(o.status.code(), Some(1), "{name}");
        assert!(text(&o.stdout).starts_with("FAIL"), "{name}");
        assert!(text(&o.stdout).contains("received"), "{name}");
    }
}
