//! Evidence bundles (docs/evidence-bundle.md) against real archives sealed by the real `seal` from real fixtures
//! and imported into a real store: a query or id export holds exactly the selected events, byte for byte, and
//! verifies; every kind of tampering fails with its own reason (with and without the manifest re-signed by a
//! dishonest auditor); trust of producer and auditor keys; nothing but verified events is ever exported; the
//! HTML report escapes hostile event text; reports that say anything else than the bundle's events (a figure, a
//! row, the purpose), re-signed by any key, fail; and `tests/independent/verify_bundle.py`, written from the
//! specification alone, agrees.
//!
//! One file: every case builds on the same lab (archives sealed, imported, a bundle exported) and the same forging
//! helpers; the tamper, trust and report cases read as one table of attacks.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;
use auditlens::bundle::{
    self, BundleStatus, BundleVerification, ExportError, ExportOptions, FailureKind,
    SelectionInput, VerifyOptions,
};
use auditlens::note::{Note, SignerKey, VerifierKey};
use auditlens::store::Store;
use auditlens::store::import::{ImportOptions, ImportOutcome};

const K8S: &str = "example.com/prod/k8s";
const CT: &str = "example.com/prod/cloudtrail";
/// The demo.log events whose outcome is denied (by hand from the fixture; the same list as tests/it/store.rs).
const DENIED: [u64; 11] = [0, 1, 3, 4, 5, 6, 7, 33, 34, 35, 36];
const PURPOSE: &str = "INC-2041: denied requests during the 2017-09-11 access review";

struct Lab {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    producer: SignerKey,
    auditor: SignerKey,
    db: PathBuf,
}

impl Lab {
    /// demo.log sealed and imported as example.com/prod/k8s sequence 1 (37 events).
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let lab = Lab {
            db: dir.join("store.db"),
            dir,
            producer: key("ops-prod"),
            auditor: key("auditor-jane"),
            _tmp: tmp,
        };
        let a = lab.seal("k8s.zip", K8S, None, &[fixture(K8S_LOG)]);
        lab.import(&a, &[lab.producer.verifier()], false);
        lab
    }
    fn seal(&self, name: &str, origin: &str, prev: Option<&Path>, inputs: &[PathBuf]) -> PathBuf {
        seal_to(&self.dir, name, &self.producer, origin, prev, inputs)
    }
    fn import(&self, path: &Path, trusted: &[VerifierKey], keep_failed: bool) -> ImportOutcome {
        Store::open(&self.db)
            .unwrap()
            .import_archive(
                path,
                &ImportOptions {
                    trust: &auditlens::trust::TrustPolicy::from_keys(trusted),
                    keep_failed,
                },
                &mut |_| true,
            )
            .unwrap()
            .outcome
    }
    fn store(&self) -> Store {
        Store::open(&self.db).unwrap()
    }
    fn export(&self, name: &str, selection: SelectionInput) -> Result<PathBuf, ExportError> {
        self.export_as(name, selection, &self.auditor)
    }
    /// An export signed by `auditor`: anyone with a store (or the events) can mint a bundle with a key of their own.
    fn export_as(
        &self,
        name: &str,
        selection: SelectionInput,
        auditor: &SignerKey,
    ) -> Result<PathBuf, ExportError> {
        let out = self.dir.join(name);
        bundle::export(
            &self.store(),
            &ExportOptions {
                selection,
                purpose: PURPOSE,
                auditor,
                out: &out,
                now_micros: NOW,
                aws_keys: None,
            },
        )?;
        Ok(out)
    }
    fn query(&self, name: &str, q: &str) -> PathBuf {
        self.export(name, SelectionInput::Query(q.into())).unwrap()
    }
    fn verify(&self, path: &Path) -> BundleVerification {
        verify_with(path, &[self.producer.verifier()], &[])
    }
    fn p(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// 2024-06-01T00:00:00Z: the export time of the tests.
const NOW: i64 = 1_717_200_000_000_000;

fn verify_with(
    path: &Path,
    producers: &[VerifierKey],
    auditors: &[VerifierKey],
) -> BundleVerification {
    bundle::verify_bundle(
        path,
        &VerifyOptions {
            trusted_producers: producers,
            trusted_auditors: auditors,
            producer_policy: None,
            aws_keys: None,
        },
    )
    .unwrap()
}

fn ids(indices: &[u64]) -> Vec<String> {
    indices.iter().map(|i| format!("{K8S}@1#{i}")).collect()
}

fn event_ids(v: &BundleVerification) -> Vec<String> {
    v.events.iter().map(|e| e.id.clone()).collect()
}

#[track_caller]
fn assert_verified(v: &BundleVerification) {
    assert_eq!(v.status, BundleStatus::Verified, "{:#?}", v.failure);
    assert!(v.ok && v.failure.is_none());
}

#[track_caller]
fn assert_fails(v: &BundleVerification, kind: FailureKind, needle: &str) {
    let f = v
        .failure
        .as_ref()
        .unwrap_or_else(|| panic!("expected a {kind:?} failure, the bundle verified"));
    assert_eq!(f.kind, kind, "{f:#?}");
    assert!(
        f.message.contains(needle),
        "{:?} does not contain {needle:?}",
        f.message
    );
    assert!(!v.ok);
    if kind != FailureKind::UntrustedProducer && kind != FailureKind::UntrustedAuditor {
        assert_eq!(v.status, BundleStatus::Failed);
        assert!(
            v.events.is_empty(),
            "a failed bundle lists no verified event"
        );
    }
}

fn lines(data: &[u8]) -> Vec<Vec<u8>> {
    event_lines(data)
}

fn json_lines(data: &[u8]) -> Vec<serde_json::Value> {
    lines(data)
        .iter()
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect()
}

fn to_lines(values: &[serde_json::Value]) -> Vec<u8> {
    join_lines(
        &values
            .iter()
            .map(|v| serde_json::to_vec(v).unwrap())
            .collect::<Vec<_>>(),
    )
}

fn edit_json(data: &mut Vec<u8>, f: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_slice(data).unwrap();
    f(&mut v);
    *data = serde_json::to_vec_pretty(&v).unwrap();
}

// ---------------------------------------------------------------------------------------------------------
// Export and verify

#[test]
fn query_export_holds_exactly_the_events_search_lists_byte_for_byte() {
    let lab = Lab::new();
    let store = lab.store();
    let mut searched: Vec<String> = store
        .search("outcome:denied", 100, None, NOW)
        .unwrap()
        .events
        .into_iter()
        .map(|e| e.id)
        .collect();
    searched.sort_by_key(|id| auditlens::store::parse_event_id(id).unwrap().2);
    assert_eq!(searched, ids(&DENIED));

    let out = lab.query("denied.zip", "outcome:denied");
    let v = lab.verify(&out);
    assert_verified(&v);
    assert_eq!(event_ids(&v), searched, "bundle order: archive, then index");
    assert_eq!(v.archives.len(), 1);
    assert_eq!((v.archives[0].size, v.archives[0].events), (37, 11));
    assert_eq!(v.purpose.as_deref(), Some(PURPOSE));
    assert_eq!(v.exported.as_deref(), Some("2024-06-01T00:00:00Z"));
    assert_eq!(
        v.selection.as_ref().unwrap().query.as_deref(),
        Some("outcome:denied")
    );
    let auditor = v.auditor.as_ref().unwrap();
    assert_eq!(auditor.fingerprint, lab.auditor.verifier().fingerprint());
    assert!(!auditor.trusted, "no --trust-auditor given");

    // The exact stored (and signed) bytes, and the leaf of each.
    let entries = read_entries(&out);
    let events = lines(&entries.iter().find(|(n, _)| n == bundle::EVENTS).unwrap().1);
    assert_eq!(events.len(), 11);
    for (line, e) in events.iter().zip(&v.events) {
        let stored = store.event(&e.id).unwrap().unwrap();
        assert_eq!(line, stored.raw.as_bytes(), "{}", e.id);
        assert_eq!(
            e.leaf,
            auditlens::archive::encode_hash(&auditlens::merkle::leaf_hash(line))
        );
    }
    // Every entry of the format, the manifest last, as written.
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "bundle.json",
            "events.jsonl",
            "proofs.jsonl",
            "archives/000001/checkpoint",
            "archives/000001/manifest.json",
            "report.json",
            "report.html",
            "manifest"
        ]
    );
}

#[test]
fn checkpoint_and_archive_manifest_travel_unchanged() {
    let lab = Lab::new();
    let out = lab.query("b.zip", "alice");
    let archive = read_entries(&lab.p("k8s.zip"));
    let bundle_entries = read_entries(&out);
    let get = |e: &[(String, Vec<u8>)], n: &str| e.iter().find(|(x, _)| x == n).unwrap().1.clone();
    assert_eq!(
        get(&bundle_entries, "archives/000001/checkpoint"),
        get(&archive, "checkpoint")
    );
    assert_eq!(
        get(&bundle_entries, "archives/000001/manifest.json"),
        get(&archive, "manifest.json")
    );
}

#[test]
fn ids_export_holds_exactly_the_listed_events_once_each() {
    let lab = Lab::new();
    let listed = vec![
        format!("{K8S}@1#34"),
        format!("{K8S}@1#5"),
        format!("{K8S}@01#34"), // another spelling of the same event
        format!("{K8S}@1#0"),
    ];
    let out = lab.export("ids.zip", SelectionInput::Ids(listed)).unwrap();
    let v = lab.verify(&out);
    assert_verified(&v);
    assert_eq!(event_ids(&v), ids(&[0, 5, 34]));
    assert_eq!(
        v.selection.unwrap().ids.unwrap(),
        ids(&[34, 5, 0]),
        "recorded in the auditor's order, canonical, once each"
    );
}

#[test]
fn events_from_several_archives_and_origins_verify_together() {
    let lab = Lab::new();
    let a2 = lab.seal(
        "k8s-2.zip",
        K8S,
        Some(&lab.p("k8s.zip")),
        &[fixture(K8S_LOG)],
    );
    assert_eq!(
        lab.import(&a2, &[lab.producer.verifier()], false),
        ImportOutcome::Imported
    );
    let ct = lab.seal("ct.zip", CT, None, &[fixture(CLOUDTRAIL_LOG)]);
    assert_eq!(
        lab.import(&ct, &[lab.producer.verifier()], false),
        ImportOutcome::Imported
    );
    let out = lab.query("all.zip", "");
    let v = lab.verify(&out);
    assert_verified(&v);
    assert_eq!(v.events.len(), 37 + 37 + 19);
    let archives: Vec<(String, u64, u64)> = v
        .archives
        .iter()
        .map(|a| (a.origin.clone(), a.sequence, a.events))
        .collect();
    assert_eq!(
        archives,
        [
            (CT.to_string(), 1, 19),
            (K8S.to_string(), 1, 37),
            (K8S.to_string(), 2, 37)
        ]
    );
}

#[test]
fn only_the_selected_events_are_revealed() {
    let lab = Lab::new();
    let out = lab.query("alice.zip", "alice");
    let store = lab.store();
    let mut all = Vec::new();
    for (_, data) in read_entries(&out) {
        all.extend_from_slice(&data);
    }
    let text = String::from_utf8_lossy(&all);
    for i in 0..37u64 {
        let raw = store.event(&format!("{K8S}@1#{i}")).unwrap().unwrap().raw;
        let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
        let audit_id = v["auditID"].as_str().unwrap();
        let revealed = text.contains(audit_id);
        assert_eq!(
            revealed,
            [34, 35, 36].contains(&i),
            "event {i} ({audit_id})"
        );
    }
}

// ---------------------------------------------------------------------------------------------------------
// What may not be exported

#[test]
fn an_unknown_id_is_refused_and_nothing_is_written() {
    let lab = Lab::new();
    let err = lab
        .export(
            "x.zip",
            SelectionInput::Ids(vec![
                format!("{K8S}@1#3"),
                format!("{K8S}@1#99"),
                format!("{K8S}@7#0"),
            ]),
        )
        .unwrap_err();
    assert!(err.is_refusal(), "{err}");
    let ExportError::Refused(r) = err else {
        unreachable!()
    };
    let refused: Vec<&str> = r.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(refused, [format!("{K8S}@1#99"), format!("{K8S}@7#0")]);
    assert!(r[0].reason.contains("not found"));
    assert!(!lab.p("x.zip").exists());
}

#[test]
fn events_of_an_archive_not_verified_are_refused_by_query_and_by_id() {
    let lab = Lab::new();
    let untrusted = lab.seal("dev.zip", "example.com/dev/k8s", None, &[fixture(K8S_LOG)]);
    assert_eq!(lab.import(&untrusted, &[], true), ImportOutcome::Untrusted);
    // The query matches the verified archive's 3 events and the untrusted one's 3.
    let err = lab
        .export("q.zip", SelectionInput::Query("alice".into()))
        .unwrap_err();
    let ExportError::Refused(r) = err else {
        panic!("{err}")
    };
    assert_eq!(r.len(), 3);
    assert!(r.iter().all(|r| r.id.starts_with("example.com/dev/k8s@1#")
        && r.reason.contains("untrusted, not verified")));
    let err = lab
        .export(
            "i.zip",
            SelectionInput::Ids(vec!["example.com/dev/k8s@1#0".into()]),
        )
        .unwrap_err();
    assert!(err.is_refusal());
    assert!(!lab.p("q.zip").exists() && !lab.p("i.zip").exists());
    // Narrowing the query to the verified origin exports.
    lab.query("ok.zip", "alice origin:example.com/prod/k8s");
}

#[test]
fn a_store_that_no_longer_matches_its_signed_checkpoint_is_refused() {
    // An event's bytes edited in the database.
    let lab = Lab::new();
    let conn = rusqlite::Connection::open(&lab.db).unwrap();
    conn.execute(
        "UPDATE events SET raw = replace(raw, 'bob', 'eve') WHERE idx = 3",
        [],
    )
    .unwrap();
    let err = lab
        .export("a.zip", SelectionInput::Ids(ids(&[3])))
        .unwrap_err();
    let ExportError::Refused(r) = &err else {
        panic!("{err}")
    };
    // Confirmed with the row's fields before its proof is made: the bytes against the stored leaf.
    assert!(
        r[0].reason
            .contains("event bytes do not match the stored leaf hash"),
        "{r:?}"
    );
    assert!(!lab.p("a.zip").exists());

    // Another (unselected) event's bytes and leaf edited together: the root no longer matches.
    let lab = Lab::new();
    let conn = rusqlite::Connection::open(&lab.db).unwrap();
    conn.execute("UPDATE events SET leaf = zeroblob(32) WHERE idx = 20", [])
        .unwrap();
    let err = lab
        .export("b.zip", SelectionInput::Ids(ids(&[3])))
        .unwrap_err();
    let ExportError::Refused(r) = &err else {
        panic!("{err}")
    };
    assert!(r[0].reason.contains("signed Merkle root"), "{r:?}");

    // A stored checkpoint swapped for another archive's.
    let lab = Lab::new();
    let other = lab.seal("ct.zip", CT, None, &[fixture(CLOUDTRAIL_LOG)]);
    lab.import(&other, &[lab.producer.verifier()], false);
    let conn = rusqlite::Connection::open(&lab.db).unwrap();
    conn.execute_batch(
        "UPDATE archives SET checkpoint = (SELECT checkpoint FROM archives WHERE id = 2) WHERE id = 1",
    )
    .unwrap();
    let err = lab
        .export("c.zip", SelectionInput::Ids(ids(&[3])))
        .unwrap_err();
    assert!(err.is_refusal(), "{err}");
}

#[test]
fn empty_too_large_and_existing_outputs_are_usage_errors() {
    let lab = Lab::new();
    let err = lab
        .export(
            "e.zip",
            SelectionInput::Query("alice outcome:success".into()),
        )
        .unwrap_err();
    assert!(matches!(err, ExportError::Usage(_)) && err.to_string().contains("no event"));
    let err = lab
        .export("e.zip", SelectionInput::Query("actor:(".into()))
        .unwrap_err();
    assert!(matches!(err, ExportError::Search(_)), "{err}");
    lab.query("e.zip", "alice");
    let err = lab
        .export("e.zip", SelectionInput::Query("alice".into()))
        .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    let out = lab.p("blank.zip");
    let err = bundle::export(
        &lab.store(),
        &ExportOptions {
            selection: SelectionInput::Query("alice".into()),
            purpose: "  \n",
            auditor: &lab.auditor,
            out: &out,
            now_micros: NOW,
            aws_keys: None,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("--purpose"), "{err}");
}

// ---------------------------------------------------------------------------------------------------------
// Trust

#[test]
fn producer_and_auditor_trust_are_the_readers_decision() {
    let lab = Lab::new();
    let out = lab.query("b.zip", "outcome:denied");
    // No producer key trusted.
    let v = verify_with(&out, &[], &[]);
    assert_fails(&v, FailureKind::UntrustedProducer, "not trusted");
    assert_eq!(v.status, BundleStatus::Untrusted);
    assert_eq!(v.events.len(), 11, "intact: the events are listed");
    // Another producer key.
    let v = verify_with(&out, &[key("ops-prod").verifier()], &[]);
    assert_fails(&v, FailureKind::UntrustedProducer, "ops-prod");
    // A required auditor: the right one, then another with the same name.
    let v = verify_with(&out, &[lab.producer.verifier()], &[lab.auditor.verifier()]);
    assert_verified(&v);
    assert!(v.auditor.unwrap().trusted);
    let v = verify_with(
        &out,
        &[lab.producer.verifier()],
        &[key("auditor-jane").verifier()],
    );
    assert_fails(&v, FailureKind::UntrustedAuditor, "--trust-auditor");
    assert!(!v.auditor.as_ref().unwrap().trusted);
}

#[test]
fn re_signing_by_another_auditor_changes_who_is_named_and_is_caught_by_trust() {
    let lab = Lab::new();
    let out = lab.query("b.zip", "outcome:denied");
    let mallory = key("mallory");
    // Re-signed by mallory, bundle.json still naming jane: inconsistent.
    let t = rewrite(&out, &lab.p("t1.zip"), |e| resign_bundle(e, &mallory));
    assert_fails(&lab.verify(&t), FailureKind::Index, "auditor");
    // Mallory rewrites bundle.json too: the reports still name jane and the old purpose, so they are not the
    // reports of this bundle.
    let t = rewrite(&out, &lab.p("t2.zip"), |e| {
        edit_json(entry(e, "bundle.json"), |v| {
            v["auditor"] = mallory.verifier().to_string().into();
            v["purpose"] = "something else".into();
        });
        resign_bundle(e, &mallory);
    });
    let v = lab.verify(&t);
    assert_fails(&v, FailureKind::Report, "report.json");
    let f = v.failure.as_ref().unwrap();
    assert!(f.message.ends_with(": purpose"), "{}", f.message);
    assert_eq!(f.expected.as_deref(), Some("\"something else\""));
    // A bundle mallory exports (reports and all) is intact, but exported by mallory, which a reader requiring
    // jane refuses.
    let t = lab
        .export_as(
            "t3.zip",
            SelectionInput::Query("outcome:denied".into()),
            &mallory,
        )
        .unwrap();
    let v = lab.verify(&t);
    assert_verified(&v);
    assert_eq!(v.auditor.as_ref().unwrap().name, "mallory");
    let v = verify_with(&t, &[lab.producer.verifier()], &[lab.auditor.verifier()]);
    assert_fails(&v, FailureKind::UntrustedAuditor, "mallory");
}

// ---------------------------------------------------------------------------------------------------------
// Tampering: each change fails with its own reason

/// A bundle's entries as `read_entries` gives them.
type Entries = Vec<(String, Vec<u8>)>;

struct Tampered {
    name: &'static str,
    path: PathBuf,
    kind: FailureKind,
    needle: &'static str,
}

/// Every tampering of the issue, applied to a good 11-event bundle. `resigned` cases also re-sign the
/// manifest with the auditor's own key, to show that the proofs and signatures below it hold on their own.
fn tamper_matrix(lab: &Lab, good: &Path) -> Vec<Tampered> {
    let auditor = lab.auditor.clone_key();
    let other_archive = lab.seal(
        "other.zip",
        K8S,
        Some(&lab.p("k8s.zip")),
        &[fixture(K8S_LOG)],
    );
    let other_checkpoint = read_entries(&other_archive)
        .into_iter()
        .find(|(n, _)| n == "checkpoint")
        .unwrap()
        .1;
    let mut cases = Vec::new();
    let mut case =
        |name: &'static str, kind: FailureKind, needle: &'static str, f: &dyn Fn(&mut Entries)| {
            let path = lab.p(&format!("tampered-{name}.zip"));
            rewrite(good, &path, |e| f(e));
            cases.push(Tampered {
                name,
                path,
                kind,
                needle,
            });
        };
    let flip_event_byte = |e: &mut Vec<(String, Vec<u8>)>| {
        let data = entry(e, "events.jsonl");
        let at = data.windows(3).position(|w| w == b"bob").unwrap();
        data[at] = b'B';
    };
    case(
        "event-byte",
        FailureKind::Entries,
        "events.jsonl",
        &flip_event_byte,
    );
    case(
        "event-byte-resigned",
        FailureKind::Leaf,
        "does not hash to the leaf",
        &|e| {
            flip_event_byte(e);
            resign_bundle(e, &auditor);
        },
    );
    case(
        "proof-hash-resigned",
        FailureKind::Proof,
        "signed root",
        &|e| {
            let mut proofs = json_lines(entry(e, "proofs.jsonl"));
            let h = proofs[2]["path"][1].as_str().unwrap().to_string();
            let mut raw = auditlens::archive::decode_hash(&h).unwrap();
            raw[0] ^= 1;
            proofs[2]["path"][1] = auditlens::archive::encode_hash(&raw).into();
            *entry(e, "proofs.jsonl") = to_lines(&proofs);
            resign_bundle(e, &auditor);
        },
    );
    case("proof-hash", FailureKind::Entries, "proofs.jsonl", &|e| {
        let data = entry(e, "proofs.jsonl");
        let at = data.windows(7).position(|w| w == b"\"path\":").unwrap() + 9;
        data[at] = if data[at] == b'A' { b'B' } else { b'A' };
    });
    case(
        "checkpoint-root-line-resigned",
        FailureKind::ProducerSignature,
        "signature",
        &|e| {
            let cp = String::from_utf8(entry(e, "archives/000001/checkpoint").clone()).unwrap();
            let root = cp.lines().nth(2).unwrap().to_string();
            let mut raw = auditlens::archive::decode_hash(&root).unwrap();
            raw[5] ^= 0x40;
            let forged = cp.replacen(&root, &auditlens::archive::encode_hash(&raw), 1);
            *entry(e, "archives/000001/checkpoint") = forged.into_bytes();
            resign_bundle(e, &auditor);
        },
    );
    // A proof's index written `-0` (review finding, 2026-12-08): Python's json reads the integer 0, serde the
    // float -0.0; an index is an unsigned integer, and `-0` is none in either verifier.
    case(
        "negative-zero-index-resigned",
        FailureKind::Proof,
        "not a proof line",
        &|e| {
            let data = entry(e, "proofs.jsonl");
            let text = String::from_utf8(data.clone()).unwrap();
            let lines: Vec<String> = text
                .lines()
                .map(|line| {
                    let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
                    if v["index"] != 0 {
                        return line.to_string();
                    }
                    v["index"] = serde_json::json!(1_234_567);
                    v.to_string().replace("1234567", "-0")
                })
                .collect();
            assert!(
                lines.iter().any(|l| l.contains("-0")),
                "no proof of index 0"
            );
            *data = (lines.join("\n") + "\n").into_bytes();
            resign_bundle(e, &auditor);
        },
    );
    case(
        "checkpoint-signature-resigned",
        FailureKind::ProducerSignature,
        "signature",
        &|e| {
            let mut note = Note::parse(entry(e, "archives/000001/checkpoint")).unwrap();
            note.signatures[0].signature[7] ^= 1;
            *entry(e, "archives/000001/checkpoint") = note.to_string().into_bytes();
            resign_bundle(e, &auditor);
        },
    );
    case(
        "checkpoint-line",
        FailureKind::Entries,
        "archives/000001/checkpoint",
        &|e| {
            let data = entry(e, "archives/000001/checkpoint");
            let at = data.iter().position(|b| *b == b'\n').unwrap() + 1;
            data[at] = b'9';
        },
    );
    case(
        "checkpoint-of-another-archive-resigned",
        FailureKind::Checkpoint,
        "not the one",
        &|e| {
            *entry(e, "archives/000001/checkpoint") = other_checkpoint.clone();
            resign_bundle(e, &auditor);
        },
    );
    case(
        "checkpoint-of-another-archive",
        FailureKind::Entries,
        "checkpoint",
        &|e| {
            *entry(e, "archives/000001/checkpoint") = other_checkpoint.clone();
        },
    );
    case(
        "manifest-line",
        FailureKind::AuditorSignature,
        "does not verify",
        &|e| {
            let data = entry(e, "manifest");
            let at = data
                .windows(12)
                .position(|w| w == b"report.html\n")
                .unwrap()
                - 3;
            data[at] = if data[at] == b'1' { b'2' } else { b'1' };
        },
    );
    case(
        "manifest-signature",
        FailureKind::AuditorSignature,
        "signature",
        &|e| {
            let mut note = Note::parse(entry(e, "manifest")).unwrap();
            note.signatures[0].signature[0] ^= 0x80;
            *entry(e, "manifest") = note.to_string().into_bytes();
        },
    );
    case(
        "manifest-unsigned",
        FailureKind::Manifest,
        "signed note",
        &|e| {
            let note = Note::parse(entry(e, "manifest")).unwrap();
            *entry(e, "manifest") = note.text.into_bytes();
        },
    );
    case(
        "event-added-resigned",
        FailureKind::Count,
        "more than the 11 events",
        &|e| {
            let mut events = lines(entry(e, "events.jsonl"));
            events.push(events[10].clone());
            *entry(e, "events.jsonl") = join_lines(&events);
            let mut proofs = json_lines(entry(e, "proofs.jsonl"));
            proofs.push(proofs[10].clone());
            *entry(e, "proofs.jsonl") = to_lines(&proofs);
            resign_bundle(e, &auditor);
        },
    );
    case(
        "event-added-and-declared-resigned",
        FailureKind::Proof,
        "not after the previous",
        &|e| {
            let mut events = lines(entry(e, "events.jsonl"));
            events.push(events[10].clone());
            *entry(e, "events.jsonl") = join_lines(&events);
            let mut proofs = json_lines(entry(e, "proofs.jsonl"));
            proofs.push(proofs[10].clone());
            *entry(e, "proofs.jsonl") = to_lines(&proofs);
            edit_json(entry(e, "bundle.json"), |v| {
                v["events"] = 12.into();
                v["archives"][0]["events"] = 12.into();
            });
            resign_bundle(e, &auditor);
        },
    );
    case(
        "event-removed-resigned",
        FailureKind::Count,
        "bundle.json says 11",
        &|e| {
            let mut events = lines(entry(e, "events.jsonl"));
            events.remove(4);
            *entry(e, "events.jsonl") = join_lines(&events);
            let mut proofs = json_lines(entry(e, "proofs.jsonl"));
            proofs.remove(4);
            *entry(e, "proofs.jsonl") = to_lines(&proofs);
            resign_bundle(e, &auditor);
        },
    );
    case(
        "event-line-removed-resigned",
        FailureKind::Leaf,
        "does not hash",
        &|e| {
            let mut events = lines(entry(e, "events.jsonl"));
            events.remove(4);
            *entry(e, "events.jsonl") = join_lines(&events);
            resign_bundle(e, &auditor);
        },
    );
    case(
        "event-removed",
        FailureKind::Entries,
        "events.jsonl",
        &|e| {
            let mut events = lines(entry(e, "events.jsonl"));
            events.remove(4);
            *entry(e, "events.jsonl") = join_lines(&events);
        },
    );
    case(
        "proof-paths-swapped-resigned",
        FailureKind::Proof,
        "signed root",
        &|e| {
            let mut proofs = json_lines(entry(e, "proofs.jsonl"));
            let (a, b) = (proofs[1]["path"].clone(), proofs[2]["path"].clone());
            proofs[1]["path"] = b;
            proofs[2]["path"] = a;
            *entry(e, "proofs.jsonl") = to_lines(&proofs);
            resign_bundle(e, &auditor);
        },
    );
    case(
        "proof-lines-swapped-resigned",
        FailureKind::Leaf,
        "does not hash",
        &|e| {
            let mut proofs = json_lines(entry(e, "proofs.jsonl"));
            proofs.swap(1, 2);
            *entry(e, "proofs.jsonl") = to_lines(&proofs);
            resign_bundle(e, &auditor);
        },
    );
    case(
        "proof-claims-another-index-resigned",
        FailureKind::Proof,
        "the id must be",
        &|e| {
            let mut proofs = json_lines(entry(e, "proofs.jsonl"));
            proofs[0]["index"] = 2.into();
            *entry(e, "proofs.jsonl") = to_lines(&proofs);
            resign_bundle(e, &auditor);
        },
    );
    case("report-html", FailureKind::Entries, "report.html", &|e| {
        let data = entry(e, "report.html");
        let at = data.windows(6).position(|w| w == b"denied").unwrap();
        data[at..at + 6].copy_from_slice(b"ALLOWD");
    });
    case(
        "report-json-resigned",
        FailureKind::Report,
        "report.json",
        &|e| {
            edit_json(entry(e, "report.json"), |v| {
                v["events"][3]["id"] = format!("{K8S}@1#2").into();
            });
            resign_bundle(e, &auditor);
        },
    );
    // Files read as trees are measured first: each value read costs tens of bytes.
    case(
        "report-json-long-resigned",
        FailureKind::Report,
        "bytes, the derived report",
        &|e| {
            *entry(e, "report.json") = format!("[0{}]", ",0".repeat(1 << 19)).into_bytes();
            resign_bundle(e, &auditor);
        },
    );
    case(
        "bundle-json-values-resigned",
        FailureKind::Index,
        "more than 200000 values",
        &|e| {
            edit_json(entry(e, "bundle.json"), |v| {
                v["selection"]["ids"] = vec!["x"; 200_001].into();
            });
            resign_bundle(e, &auditor);
        },
    );
    case(
        "annotations-values-resigned",
        FailureKind::Annotations,
        "more than 2000000 values",
        &|e| {
            let doc = serde_json::json!({
                "format": "auditlens-auditor-annotations",
                "version": 1,
                "statement": auditlens::bundle::ANNOTATIONS_STATEMENT,
                "action_log": null,
                "events": [{"event": "x", "leaf": "00", "tags": vec!["a"; 2_000_001]}],
            });
            e.push(("annotations.json".into(), serde_json::to_vec(&doc).unwrap()));
            resign_bundle(e, &auditor);
        },
    );
    case(
        "bundle-json-purpose",
        FailureKind::Entries,
        "bundle.json",
        &|e| {
            edit_json(entry(e, "bundle.json"), |v| v["purpose"] = "routine".into());
        },
    );
    case(
        "bundle-json-unknown-member-resigned",
        FailureKind::Index,
        "unknown field",
        &|e| {
            edit_json(entry(e, "bundle.json"), |v| v["note"] = "x".into());
            resign_bundle(e, &auditor);
        },
    );
    case(
        "entry-removed",
        FailureKind::Container,
        "missing entry \"report.json\"",
        &|e| {
            e.retain(|(n, _)| n != "report.json");
        },
    );
    case(
        "entry-added-resigned",
        FailureKind::Container,
        "not an entry of the format",
        &|e| {
            e.insert(0, ("notes.txt".into(), b"hello".to_vec()));
            resign_bundle(e, &auditor);
        },
    );
    case(
        "path-traversal",
        FailureKind::Container,
        "contains '..'",
        &|e| {
            e.push(("archives/../../evil".into(), b"x".to_vec()));
        },
    );
    case(
        "directory-entry",
        FailureKind::Container,
        "directory entry",
        &|e| {
            e.push(("archives/".into(), Vec::new()));
        },
    );
    case(
        "second-archive-missing-manifest",
        FailureKind::Container,
        "missing entry",
        &|e| {
            e.push((
                "archives/000002/checkpoint".into(),
                other_checkpoint.clone(),
            ));
        },
    );
    // A name twice: written under a same-length placeholder, then patched wherever the name bytes occur.
    let path = lab.p("tampered-duplicate-entry.zip");
    rewrite(good, &path, |e| {
        e.push(("report.htmX".into(), b"<p>forged</p>".to_vec()))
    });
    let mut bytes = std::fs::read(&path).unwrap();
    for i in 0..bytes.len().saturating_sub(10) {
        if &bytes[i..i + 11] == b"report.htmX" {
            bytes[i + 10] = b'l';
        }
    }
    std::fs::write(&path, bytes).unwrap();
    cases.push(Tampered {
        name: "duplicate-entry",
        path,
        kind: FailureKind::Container,
        needle: "entry \"report.html\" appears more than once",
    });
    // Contents for another ZIP reader (review finding, 2026-12-08), with no key at all: a second ZIP appended,
    // whose end record the zip crate skips (its comment runs past the file) and `unzip` and Python's zipfile
    // take; an entry put before the central directory, which only a reader walking the local headers sees.
    let path = lab.p("tampered-appended-zip.zip");
    append_second_zip(good, &path);
    cases.push(Tampered {
        name: "appended-zip",
        path,
        kind: FailureKind::Container,
        needle: "follow the end record",
    });
    let path = lab.p("tampered-entry-outside-directory.zip");
    put_entry_outside_directory(good, &path);
    cases.push(Tampered {
        name: "entry-outside-directory",
        path,
        kind: FailureKind::Container,
        needle: "belong to no entry",
    });
    cases
}

trait CloneKey {
    fn clone_key(&self) -> SignerKey;
}

impl CloneKey for SignerKey {
    fn clone_key(&self) -> SignerKey {
        SignerKey::parse(&self.to_string_private()).unwrap()
    }
}

#[test]
fn every_tampering_fails_with_its_own_reason() {
    let lab = Lab::new();
    let good = lab.query("good.zip", "outcome:denied");
    assert_verified(&lab.verify(&good));
    for t in tamper_matrix(&lab, &good) {
        let v = lab.verify(&t.path);
        eprintln!("{}: {:?}", t.name, v.failure);
        assert_fails(&v, t.kind, t.needle);
    }
}

#[test]
fn selection_ids_must_be_exactly_the_bundles_events() {
    let lab = Lab::new();
    let good = lab
        .export("ids.zip", SelectionInput::Ids(ids(&[1, 2, 3])))
        .unwrap();
    assert_verified(&lab.verify(&good));
    let auditor = lab.auditor.clone_key();
    let t = rewrite(&good, &lab.p("t.zip"), |e| {
        edit_json(entry(e, "bundle.json"), |v| {
            v["selection"]["ids"] = serde_json::json!([format!("{K8S}@1#1"), format!("{K8S}@1#2")]);
        });
        resign_bundle(e, &auditor);
    });
    assert_fails(
        &lab.verify(&t),
        FailureKind::Count,
        "which the selection does not list",
    );
}

#[test]
fn malformed_files_are_failures_never_panics() {
    let lab = Lab::new();
    let good = lab.query("good.zip", "alice");
    let bytes = std::fs::read(&good).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("text", b"not a zip at all".to_vec()),
        ("truncated", bytes[..bytes.len() / 2].to_vec()),
        ("tail", bytes[bytes.len() - 100..].to_vec()),
    ];
    for (name, data) in cases {
        let path = lab.p(&format!("{name}.zip"));
        std::fs::write(&path, data).unwrap();
        let v = lab.verify(&path);
        assert_eq!(v.status, BundleStatus::Failed, "{name}");
        assert_eq!(v.failure.unwrap().kind, FailureKind::Container, "{name}");
    }
    // A flipped byte anywhere (sampled every 53 bytes) never panics, and whenever the bundle still verifies
    // (a ZIP timestamp, say) every entry holds exactly what was signed.
    let original = read_entries(&good);
    for at in (0..bytes.len()).step_by(53) {
        let mut data = bytes.clone();
        data[at] ^= 0x5a;
        let path = lab.p("flip.zip");
        std::fs::write(&path, &data).unwrap();
        let v = lab.verify(&path);
        if v.ok {
            assert_eq!(
                read_entries(&path),
                original,
                "byte {at} changed a verified entry"
            );
        }
    }
    assert!(bundle::verify_bundle(&lab.p("missing.zip"), &VerifyOptions::default()).is_err());
}

// ---------------------------------------------------------------------------------------------------------
// Reports

#[test]
fn report_json_describes_every_event_with_fields_and_provenance() {
    let lab = Lab::new();
    let out = lab.query("b.zip", "alice");
    let entries = read_entries(&out);
    let report: bundle::ExportReport =
        serde_json::from_slice(&entries.iter().find(|(n, _)| n == "report.json").unwrap().1)
            .unwrap();
    assert_eq!(report.format, "auditlens-evidence-report");
    assert_eq!(report.purpose, PURPOSE);
    assert_eq!(
        report.auditor.fingerprint,
        lab.auditor.verifier().fingerprint()
    );
    assert_eq!(report.events.len(), 3);
    let e = &report.events[0];
    assert_eq!(e.id, format!("{K8S}@1#34"));
    assert_eq!(e.actor.as_deref(), Some("system:admin as alice"));
    assert_eq!(e.outcome.as_deref(), Some("denied"));
    assert_eq!(e.time.as_deref(), Some("2017-09-11T20:28:54Z"));
    assert_eq!(
        e.proof_length, 4,
        "index 34 of 37: [32,36) depth 2, then [36,37) and [0,32)"
    );
    assert_eq!(
        report.archives[0].signer.fingerprint,
        lab.producer.verifier().fingerprint()
    );
    let range = report.time_range.unwrap();
    assert_eq!(
        (range.first.as_str(), range.last.as_str()),
        ("2017-09-11T20:28:54Z", "2017-09-11T20:29:04Z")
    );
}

fn report_html(path: &Path) -> String {
    let entries = read_entries(path);
    String::from_utf8(
        entries
            .into_iter()
            .find(|(n, _)| n == "report.html")
            .unwrap()
            .1,
    )
    .unwrap()
}

#[test]
fn report_html_is_static_and_self_contained() {
    let lab = Lab::new();
    let html = report_html(&lab.query("b.zip", "outcome:denied"));
    let lower = html.to_ascii_lowercase();
    for banned in [
        "<script",
        "<link",
        "<img",
        "<iframe",
        "<object",
        "<embed",
        "src=",
        "url(",
        "@import",
        "http:",
        "https:",
        "javascript:",
    ] {
        assert!(!lower.contains(banned), "report.html contains {banned:?}");
    }
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Content-Security-Policy") && html.contains("default-src 'none'"));
    assert!(html.contains("@page") && html.contains("@media print"));
    assert!(html.contains(PURPOSE));
    assert!(html.contains(&lab.auditor.verifier().fingerprint()));
    assert!(html.contains("outcome:denied"));
    assert_eq!(html.matches("<article class=\"event\"").count(), 11);
    assert!(html.contains("How to verify this bundle"));
}

#[test]
fn hostile_event_text_comes_out_escaped_in_report_html() {
    let lab = Lab::new();
    let hostile = [
        r#"{"time":"2024-05-01T10:00:00Z","actor":"<script>alert(1)</script>","action":"<img src=x onerror=alert(1)>","resource":"a\u202Eevil","userAgent":"\" onmouseover=\"alert(1)","env":"</pre><h1>forged</h1>","outcome":"denied"}"#.to_string(),
        format!(
            r#"{{"time":"2024-05-01T10:00:01Z","actor":"mallory","action":"login","message":"</textarea><script>fetch('//x')</script>","note":"{}rtl"}}"#,
            '\u{202E}'
        ),
    ];
    let log = write_lines(&lab.dir, "hostile.jsonl", &hostile);
    let archive = lab.seal("hostile.zip", "example.com/hostile", None, &[log]);
    assert_eq!(
        lab.import(&archive, &[lab.producer.verifier()], false),
        ImportOutcome::Imported
    );
    let out = lab.query("h.zip", "origin:example.com/hostile");
    assert_verified(&lab.verify(&out));
    let html = report_html(&out);
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "a script tag came through");
    assert!(!lower.contains("<img"), "an img tag came through");
    assert!(!lower.contains("<h1>forged"), "markup came through");
    assert!(!lower.contains("</textarea>") && !lower.contains("</pre><h1>"));
    assert!(
        !html.contains('\u{202E}'),
        "a bidirectional override came through"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("&quot; onmouseover=&quot;alert(1)"));
    assert!(html.contains("&lt;/textarea&gt;&lt;script&gt;fetch(&#39;//x&#39;)"));
    assert!(html.contains("<span class=\"cc\">U+202E</span>"));
    // The exact bytes are still in the bundle, untouched.
    let entries = read_entries(&out);
    let events = lines(&entries.iter().find(|(n, _)| n == "events.jsonl").unwrap().1);
    assert_eq!(events[0], hostile[0].as_bytes());
}

// ---------------------------------------------------------------------------------------------------------
// The independent checker (tests/independent/verify_bundle.py, written from the specification alone)

fn python(args: &[&str]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/verify_bundle.py");
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 must be installed to run the independent checker");
    eprintln!(
        "verify_bundle.py {args:?}: {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn the_independent_checker_accepts_exported_bundles_and_rejects_a_tampered_one() {
    let lab = Lab::new();
    let ct = lab.seal("ct.zip", CT, None, &[fixture(CLOUDTRAIL_LOG)]);
    lab.import(&ct, &[lab.producer.verifier()], false);
    let producer = lab.producer.verifier().to_string();
    let auditor = lab.auditor.verifier().to_string();
    for (name, q) in [
        ("denied.zip", "outcome:denied"),
        ("two.zip", "alice OR action:signin:ConsoleLogin"),
    ] {
        let out = lab.query(name, q);
        let v = lab.verify(&out);
        assert_verified(&v);
        let o = python(&[
            "--trust",
            &producer,
            "--trust-auditor",
            &auditor,
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0));
        let line = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            line.starts_with(&format!(
                "OK {} events, {} archives",
                v.events.len(),
                v.archives.len()
            )),
            "{line}"
        );
        assert!(
            line.contains(&lab.auditor.verifier().fingerprint()),
            "{line}"
        );
    }
    let good = lab.p("denied.zip");
    // An --ids bundle too.
    let ids_bundle = lab
        .export("ids.zip", SelectionInput::Ids(ids(&[2, 30])))
        .unwrap();
    assert_eq!(
        python(&["--trust", &producer, ids_bundle.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    // Tampered: an event byte, with the manifest re-signed so only the proof can tell.
    let auditor_key = lab.auditor.clone_key();
    let t = rewrite(&good, &lab.p("t.zip"), |e| {
        let data = entry(e, "events.jsonl");
        let at = data.windows(3).position(|w| w == b"bob").unwrap();
        data[at] = b'B';
        resign_bundle(e, &auditor_key);
    });
    let o = python(&["--trust", &producer, t.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("does not hash to the leaf"));
    // Untrusted keys, usage errors.
    assert_eq!(python(&[good.to_str().unwrap()]).status.code(), Some(1));
    assert_eq!(
        python(&[
            "--trust",
            &producer,
            "--trust-auditor",
            &producer,
            good.to_str().unwrap()
        ])
        .status
        .code(),
        Some(1)
    );
    assert_eq!(
        python(&["--trust", &producer, lab.p("nope.zip").to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        python(&["--trust", "not-a-key", good.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn the_independent_checker_agrees_on_every_tampering() {
    let lab = Lab::new();
    let good = lab.query("good.zip", "outcome:denied");
    let producer = lab.producer.verifier().to_string();
    let mut disagreements = Vec::new();
    let mut names = BTreeSet::new();
    for t in tamper_matrix(&lab, &good) {
        names.insert(t.name);
        let o = python(&["--trust", &producer, t.path.to_str().unwrap()]);
        if o.status.code() != Some(1) {
            disagreements.push(t.name);
        }
    }
    assert!(
        disagreements.is_empty(),
        "verify_bundle.py accepted: {disagreements:?}"
    );
    // The 36 tampered bundles `tamper_matrix` makes, one name each.
    assert_eq!(names.len(), 36);
}

// ---------------------------------------------------------------------------------------------------------
// Reports that cannot lie (issue 11, attack 9): whoever holds any auditor key can re-sign a bundle, so the
// verifier re-derives report.json and report.html from the bundle's own events, selection and signed metadata.

/// An 11-event bundle exported by a fresh key ("mallory"), untouched: it verifies (the auditor is not trusted,
/// but none is required).
fn minted(lab: &Lab) -> (PathBuf, SignerKey) {
    let mallory = key("mallory");
    let out = lab
        .export_as(
            "minted.zip",
            SelectionInput::Query("outcome:denied".into()),
            &mallory,
        )
        .unwrap();
    (out, mallory)
}

/// `good` with entry `name` edited by `f` and every entry re-signed by `auditor`.
fn forge(
    lab: &Lab,
    good: &Path,
    out: &str,
    auditor: &SignerKey,
    name: &str,
    f: impl FnOnce(&mut Vec<u8>),
) -> PathBuf {
    rewrite(good, &lab.p(out), |e| {
        f(entry(e, name));
        resign_bundle(e, auditor);
    })
}

/// Edits report.html as text.
fn edit_html(data: &mut Vec<u8>, f: impl FnOnce(String) -> String) {
    let html = String::from_utf8(std::mem::take(data)).unwrap();
    *data = f(html).into_bytes();
}

/// The line of the "Events at a glance" table for event `p` (1-based), with its newline.
fn glance_row(html: &str, p: u64) -> String {
    let marker = format!("<tr><td class=\"n\"><a href=\"#event-{p}\">{p}</a>");
    let start = html.find(&marker).unwrap();
    let end = start + html[start..].find('\n').unwrap() + 1;
    html[start..end].to_string()
}

#[track_caller]
fn assert_report_lie(
    v: &BundleVerification,
    entry: &str,
    needles: &[&str],
    expected: &str,
    found: &str,
) {
    assert_fails(v, FailureKind::Report, entry);
    let f = v.failure.as_ref().unwrap();
    assert_eq!(f.entry.as_deref(), Some(entry), "{f:#?}");
    for n in needles {
        assert!(
            f.message.contains(n),
            "{:?} does not contain {n:?}",
            f.message
        );
    }
    let (e, x) = (f.expected.as_deref().unwrap(), f.found.as_deref().unwrap());
    assert!(
        e.contains(expected),
        "expected {e:?} does not contain {expected:?}"
    );
    assert!(x.contains(found), "found {x:?} does not contain {found:?}");
}

#[test]
fn a_bundle_minted_by_a_fresh_auditor_key_verifies_when_untouched_and_says_whose_it_is() {
    let lab = Lab::new();
    let (good, mallory) = minted(&lab);
    let v = lab.verify(&good);
    assert_verified(&v);
    assert_eq!(v.events.len(), 11);
    let auditor = v.auditor.as_ref().unwrap();
    assert_eq!(auditor.name, "mallory");
    assert!(!auditor.trusted);
    let (out, err) = auditlens_cli::render::bundle_verification(&v);
    assert!(err.is_empty(), "{err}");
    let headline = out.lines().next().unwrap();
    assert!(
        headline.contains("VERIFIED events from trusted producers")
            && headline.contains("UNTRUSTED auditor key mallory")
            && headline.contains(&mallory.verifier().fingerprint()),
        "{headline}"
    );
    assert!(!headline.ends_with(": VERIFIED"), "{headline}");
    // With the auditor trusted, the verdict is unqualified.
    let v = verify_with(&good, &[lab.producer.verifier()], &[mallory.verifier()]);
    assert_verified(&v);
    let (out, _) = auditlens_cli::render::bundle_verification(&v);
    assert!(out.lines().next().unwrap().ends_with(": VERIFIED"), "{out}");
}

#[test]
fn a_figure_edited_in_report_json_and_re_signed_by_a_fresh_auditor_fails_naming_it() {
    // Before the fix each of these verified (exit 0): only report.json's ids and leaves were compared.
    let lab = Lab::new();
    let (good, mallory) = minted(&lab);
    let t = forge(&lab, &good, "t1.zip", &mallory, "report.json", |d| {
        edit_json(d, |v| v["events"][1]["outcome"] = "success".into())
    });
    assert_report_lie(
        &lab.verify(&t),
        "report.json",
        &["events[1].outcome"],
        "\"denied\"",
        "\"success\"",
    );
    let t = forge(&lab, &good, "t2.zip", &mallory, "report.json", |d| {
        edit_json(d, |v| v["events"][4]["actor"] = "nobody".into())
    });
    assert_report_lie(
        &lab.verify(&t),
        "report.json",
        &["events[4].actor"],
        "\"",
        "\"nobody\"",
    );
    let t = forge(&lab, &good, "t3.zip", &mallory, "report.json", |d| {
        edit_json(d, |v| {
            v["time_range"]["last"] = "2017-09-11T20:28:55Z".into()
        })
    });
    assert_report_lie(
        &lab.verify(&t),
        "report.json",
        &["time_range.last"],
        "\"2017-09-11T",
        "\"2017-09-11T20:28:55Z\"",
    );
    let t = forge(&lab, &good, "t4.zip", &mallory, "report.json", |d| {
        edit_json(d, |v| v["archives"][0]["size"] = 12.into())
    });
    assert_report_lie(
        &lab.verify(&t),
        "report.json",
        &["archives[0].size"],
        "37",
        "12",
    );
    // Whose rules made the fields: the producer's signed kind, which a report cannot rename.
    let t = forge(&lab, &good, "t7.zip", &mallory, "report.json", |d| {
        edit_json(d, |v| {
            v["archives"][0]["normalization"] =
                "auditor's choice: built-in k8s mapper (k8s/2)".into()
        })
    });
    assert_report_lie(
        &lab.verify(&t),
        "report.json",
        &["archives[0].normalization"],
        "\"built-in k8s mapper (k8s/2)\"",
        "\"auditor's choice",
    );
    // An event dropped from the report (and the summary left as it is).
    let t = forge(&lab, &good, "t5.zip", &mallory, "report.json", |d| {
        edit_json(d, |v| {
            v["events"].as_array_mut().unwrap().remove(3);
        })
    });
    assert_report_lie(&lab.verify(&t), "report.json", &["events"], "11", "10");
    // The same figures, written another way (not byte for byte the rendering), fail too.
    let t = forge(&lab, &good, "t6.zip", &mallory, "report.json", |d| {
        let v: serde_json::Value = serde_json::from_slice(d).unwrap();
        *d = serde_json::to_vec(&v).unwrap();
    });
    assert_report_lie(&lab.verify(&t), "report.json", &["byte for byte"], "", "");
}

#[test]
fn report_html_edited_and_re_signed_by_a_fresh_auditor_fails_naming_the_row() {
    // Before the fix each of these verified (exit 0): report.html was checked by its hash only.
    let lab = Lab::new();
    let (good, mallory) = minted(&lab);
    let html = report_html(&good);
    let row2 = glance_row(&html, 2);
    let actor2: serde_json::Value = {
        let entries = read_entries(&good);
        let r: serde_json::Value =
            serde_json::from_slice(&entries.iter().find(|(n, _)| n == "report.json").unwrap().1)
                .unwrap();
        r["events"][1]["actor"].clone()
    };
    let actor2 = actor2.as_str().unwrap().to_string();
    assert!(
        row2.contains(&format!("<td class=\"v\">{actor2}</td>")),
        "{row2}"
    );

    // A number: the headline's count.
    let t = forge(&lab, &good, "h1.zip", &mallory, "report.html", |d| {
        edit_html(d, |h| {
            h.replace(
                "<h1>Evidence bundle: 11 events</h1>",
                "<h1>Evidence bundle: 9 events</h1>",
            )
        })
    });
    assert_report_lie(
        &lab.verify(&t),
        "report.html",
        &["report.html", "line"],
        "11 events",
        "9 events",
    );
    // A row's actor.
    let forged_row = row2.replace(&format!(">{actor2}<"), ">someone-else<");
    let t = forge(&lab, &good, "h2.zip", &mallory, "report.html", |d| {
        edit_html(d, |h| h.replace(&row2, &forged_row))
    });
    assert_report_lie(
        &lab.verify(&t),
        "report.html",
        &["Events at a glance", "row 2"],
        &actor2,
        "someone-else",
    );
    // An added row.
    let t = forge(&lab, &good, "h3.zip", &mallory, "report.html", |d| {
        edit_html(d, |h| h.replace(&row2, &format!("{row2}{row2}")))
    });
    assert_report_lie(
        &lab.verify(&t),
        "report.html",
        &["Events at a glance"],
        "#event-3",
        "#event-2",
    );
    // A removed row.
    let t = forge(&lab, &good, "h4.zip", &mallory, "report.html", |d| {
        edit_html(d, |h| h.replace(&row2, ""))
    });
    assert_report_lie(
        &lab.verify(&t),
        "report.html",
        &["Events at a glance", "row 2"],
        "#event-2",
        "#event-3",
    );
    // Bytes appended after the page.
    let t = forge(&lab, &good, "h5.zip", &mallory, "report.html", |d| {
        d.extend_from_slice(b"<p>All clear.</p>\n")
    });
    assert_report_lie(
        &lab.verify(&t),
        "report.html",
        &["after the end"],
        "",
        "All clear",
    );
}

#[test]
fn a_report_whose_selection_or_purpose_differs_from_the_signed_index_fails() {
    // Before the fix each of these verified (exit 0).
    let lab = Lab::new();
    let (good, mallory) = minted(&lab);
    let t = forge(&lab, &good, "s1.zip", &mallory, "report.json", |d| {
        edit_json(d, |v| v["purpose"] = "Routine check, nothing found".into())
    });
    assert_report_lie(
        &lab.verify(&t),
        "report.json",
        &["purpose"],
        PURPOSE,
        "Routine check",
    );
    let t = forge(&lab, &good, "s2.zip", &mallory, "report.json", |d| {
        edit_json(d, |v| {
            v["selection"]["query"] = "outcome:denied actor:bob".into()
        })
    });
    assert_report_lie(
        &lab.verify(&t),
        "report.json",
        &["selection.query"],
        "\"outcome:denied\"",
        "actor:bob",
    );
    let t = forge(&lab, &good, "s3.zip", &mallory, "report.html", |d| {
        edit_html(d, |h| {
            h.replace(
                "<code class=\"v\">outcome:denied</code>",
                "<code class=\"v\">outcome:denied actor:bob</code>",
            )
        })
    });
    assert_report_lie(
        &lab.verify(&t),
        "report.html",
        &["report.html"],
        "outcome:denied<",
        "actor:bob",
    );
    let t = forge(&lab, &good, "s4.zip", &mallory, "report.html", |d| {
        edit_html(d, |h| h.replace(PURPOSE, "Routine check, nothing found"))
    });
    assert_report_lie(
        &lab.verify(&t),
        "report.html",
        &["report.html"],
        PURPOSE,
        "Routine check",
    );
}

#[test]
fn the_independent_checker_derives_report_json_too() {
    // Before the fix verify_bundle.py accepted all of these (it compared report.json's ids and leaves only). The
    // normalized fields need the normalizers of docs/sources.md, which it does not implement (its note B3).
    let lab = Lab::new();
    let (good, mallory) = minted(&lab);
    let producer = lab.producer.verifier().to_string();
    assert_eq!(
        python(&["--trust", &producer, good.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, Edit); 7] = [
        ("purpose", |v| v["purpose"] = "Routine check".into()),
        ("archives", |v| {
            v["archives"][0]["normalization"] = "built-in k8s mapper (k8s/3)".into()
        }),
        ("selection", |v| v["selection"]["query"] = "x".into()),
        ("archives", |v| v["archives"][0]["size"] = 12.into()),
        ("events", |v| {
            v["events"].as_array_mut().unwrap().remove(3);
        }),
        ("time_range", |v| {
            v["time_range"]["last"] = "2017-09-11T20:28:55Z".into()
        }),
        ("verification", |v| {
            v["verification"]["summary"] = "2 events from 1 archive.".into()
        }),
    ];
    for (i, (member, edit)) in cases.into_iter().enumerate() {
        let t = forge(
            &lab,
            &good,
            &format!("p{i}.zip"),
            &mallory,
            "report.json",
            |d| edit_json(d, edit),
        );
        let o = python(&["--trust", &producer, t.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{member}");
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            out.starts_with(&format!("FAIL report.json: {member}")),
            "{member}: {out}"
        );
    }
    // The same figures serialized another way.
    let t = forge(&lab, &good, "p9.zip", &mallory, "report.json", |d| {
        let v: serde_json::Value = serde_json::from_slice(d).unwrap();
        *d = serde_json::to_vec(&v).unwrap();
    });
    let o = python(&["--trust", &producer, t.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("byte for byte"));
}

/// Every event's normalized fields in report.json equal what the store shows for it (the importer and the
/// report derive them from the same bytes under the same signed rules).
#[track_caller]
fn assert_report_fields_are_the_stores(lab: &Lab, bundle_path: &Path) {
    let entries = read_entries(bundle_path);
    let report: bundle::ExportReport =
        serde_json::from_slice(&entries.iter().find(|(n, _)| n == "report.json").unwrap().1)
            .unwrap();
    let store = lab.store();
    assert!(!report.events.is_empty());
    for e in &report.events {
        let row = store.event(&e.id).unwrap().unwrap().row;
        assert_eq!(
            (
                &e.time,
                &e.source,
                &e.actor,
                &e.action,
                &e.resource,
                &e.outcome,
                &e.category,
                &e.ip,
                &e.agent,
                &e.env,
                &e.stage
            ),
            (
                &row.time,
                &row.source,
                &row.actor,
                &row.action,
                &row.resource,
                &row.outcome,
                &row.category,
                &row.ip,
                &row.agent,
                &row.env,
                &row.stage
            ),
            "{}",
            e.id
        );
    }
}

#[test]
fn a_mapping_archive_travels_with_its_mapping_file_and_its_fields_are_derived_from_it() {
    let lab = Lab::new();
    let mapping = fixture("mappings/slack-audit.toml");
    let archive = lab.p("slack.zip");
    auditlens::seal::seal(&auditlens::seal::SealOptions {
        key: &lab.producer,
        origin: "example.com/slack/audit",
        prev: None,
        format: None,
        mapping: Some(&mapping),
        out: &archive,
        inputs: &[fixture(
            "logs/misc_saas_audit/panther/Slack_AuditLogs.jsonl",
        )],
        receive: false,
    })
    .unwrap();
    assert_eq!(
        lab.import(&archive, &[lab.producer.verifier()], false),
        ImportOutcome::Imported
    );
    let out = lab.query("slack-bundle.zip", "origin:example.com/slack/audit");
    assert_verified(&lab.verify(&out));
    let entries = read_entries(&out);
    let carried = &entries
        .iter()
        .find(|(n, _)| n == "archives/000001/mapping.toml")
        .expect("the mapping file travels with its archive")
        .1;
    assert_eq!(carried, &std::fs::read(&mapping).unwrap());
    assert_report_fields_are_the_stores(&lab, &out);
    let producer = lab.producer.verifier().to_string();
    assert_eq!(
        python(&["--trust", &producer, out.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    // Without its mapping file, or with another one, the bundle fails (re-signed or not).
    let auditor = lab.auditor.clone_key();
    let t = rewrite(&out, &lab.p("m1.zip"), |e| {
        e.retain(|(n, _)| n != "archives/000001/mapping.toml");
        resign_bundle(e, &auditor);
    });
    assert_fails(
        &lab.verify(&t),
        FailureKind::Container,
        "missing entry \"archives/000001/mapping.toml\"",
    );
    assert_eq!(
        python(&["--trust", &producer, t.to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );
    let t = rewrite(&out, &lab.p("m2.zip"), |e| {
        entry(e, "archives/000001/mapping.toml").extend_from_slice(b"\n# changed\n");
        resign_bundle(e, &auditor);
    });
    assert_fails(&lab.verify(&t), FailureKind::Checkpoint, "not the one");
    assert_eq!(
        python(&["--trust", &producer, t.to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );
    // A mapping file beside an archive of a built-in kind is refused.
    let k8s = lab.query("k8s-bundle.zip", "outcome:denied");
    assert_report_fields_are_the_stores(&lab, &k8s);
    let t = rewrite(&k8s, &lab.p("m3.zip"), |e| {
        e.push((
            "archives/000001/mapping.toml".into(),
            b"name = \"x\"\n".to_vec(),
        ));
        resign_bundle(e, &auditor);
    });
    assert_fails(&lab.verify(&t), FailureKind::Container, "only allowed");
    assert_eq!(
        python(&["--trust", &producer, t.to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn a_bundle_exported_under_version_1_of_the_mappers_still_verifies_and_its_fields_are_rederived_under_it()
 {
    // A bundle of AuditLens before version 2 of the mappers names `k8s/1` in report.json; its fields were derived
    // under version 1, which did not read the space form of a time. Such a report still verifies, derived
    // under the version it names; a report naming version 1 with version 2's fields does not.
    let lab = Lab::new();
    let k8s_lines = [
        r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","verb":"get","user":{"username":"ann"},"stageTimestamp":"2024-05-01 00:00:00"}"#,
        r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"b","stage":"ResponseComplete","verb":"get","user":{"username":"ann"},"stageTimestamp":"2024-05-01T00:00:01Z"}"#,
    ];
    let log = lab.p("space.log");
    std::fs::write(&log, k8s_lines.join("\n") + "\n").unwrap();
    let a = lab.seal("space.zip", "example.com/space", None, &[log]);
    lab.import(&a, &[lab.producer.verifier()], false);
    let mallory = key("mallory");
    let good = lab
        .export_as(
            "space-bundle.zip",
            SelectionInput::Query("origin:example.com/space".into()),
            &mallory,
        )
        .unwrap();
    assert_verified(&lab.verify(&good));
    let report: serde_json::Value =
        serde_json::from_slice(entry(&mut read_entries(&good), "report.json")).unwrap();
    assert_eq!(
        report["archives"][0]["normalization"],
        "built-in k8s mapper (k8s/2)"
    );
    assert_eq!(report["events"][0]["time"], "2024-05-01T00:00:00Z");

    let v1 = |v: &mut serde_json::Value| {
        v["archives"][0]["normalization"] = "built-in k8s mapper (k8s/1)".into();
    };
    // Version 1's report, rendered as AuditLens renders both reports: no time for the first event, and the
    // time range from the second.
    let old = rewrite(&good, &lab.p("v1.zip"), |e| {
        let mut v: serde_json::Value = serde_json::from_slice(entry(e, "report.json")).unwrap();
        v1(&mut v);
        v["events"][0]["time"] = serde_json::Value::Null;
        v["time_range"]["first"] = "2024-05-01T00:00:01Z".into();
        let report: auditlens::bundle::ExportReport = serde_json::from_value(v).unwrap();
        *entry(e, "report.json") = auditlens::bundle::report::report_json(&report);
        let events = lines(entry(e, "events.jsonl"));
        let mut html = Vec::new();
        auditlens::bundle::html::render(&report, &[], &mut html, &mut |i| {
            Ok(String::from_utf8(events[i].clone()).unwrap())
        })
        .unwrap();
        *entry(e, "report.html") = html;
        resign_bundle(e, &mallory);
    });
    assert_verified(&lab.verify(&old));
    let claims_v1 = forge(&lab, &good, "v1-lie.zip", &mallory, "report.json", |d| {
        edit_json(d, v1)
    });
    // The first difference: version 1 places the first event nowhere in time.
    assert_report_lie(
        &lab.verify(&claims_v1),
        "report.json",
        &["time_range"],
        "2024-05-01T00:00:01Z",
        "2024-05-01T00:00:00Z",
    );
}

// ---------------------------------------------------------------------------------------------------------
// The auditor's annotations (issue 16, docs/evidence-bundle.md section 7.4)

/// Tags `idx` of the k8s archive in the lab's working papers.
fn annotate(lab: &Lab, idx: u64, tags: &[&str], note: Option<&str>) {
    let store = lab.store();
    let event = store.event(&format!("{K8S}@1#{idx}")).unwrap().unwrap();
    let key = auditlens::papers::EventKey::of(&event).unwrap();
    let mut papers = auditlens::papers::Papers::open(&lab.db).unwrap();
    for t in tags {
        papers.add_tag(&key, t).unwrap();
    }
    if let Some(n) = note {
        papers.set_note(&key, n).unwrap();
    }
}

#[test]
fn annotations_travel_signed_by_the_auditor_marked_as_theirs_and_are_checked_by_both_verifiers() {
    let lab = Lab::new();
    annotate(
        &lab,
        3,
        &["finding-3"],
        Some("<script>alert(1)</script>\nsecond line"),
    );
    annotate(&lab, 33, &["finding-3", "exec"], None);
    annotate(&lab, 2, &["not-selected"], None); // not denied: not in the bundle, not in its annotations
    let good = lab.query("annotated.zip", "outcome:denied");
    let v = lab.verify(&good);
    assert_verified(&v);
    let doc = v.annotations.as_ref().expect("annotations carried");
    assert_eq!(doc.statement, bundle::ANNOTATIONS_STATEMENT);
    let annotated: Vec<(&str, &[String])> = doc
        .events
        .iter()
        .map(|a| (a.event.as_str(), a.tags.as_slice()))
        .collect();
    assert_eq!(
        annotated,
        [
            (
                format!("{K8S}@1#3").as_str(),
                &["finding-3".to_string()][..]
            ),
            (
                format!("{K8S}@1#33").as_str(),
                &["finding-3".to_string(), "exec".to_string()][..]
            ),
        ]
    );
    let head = doc.action_log.as_ref().expect("action log head");
    let papers = auditlens::papers::Papers::open(&lab.db).unwrap();
    assert_eq!(
        Some(head.head.clone()),
        papers.check_log().unwrap().head,
        "the head at export"
    );
    // The page shows them apart, marked, escaped.
    let html = report_html(&good);
    let at = html
        .find("Auditor&rsquo;s annotations (not evidence)")
        .expect("section");
    assert!(html[at..].contains("not evidence and no producer signed them"));
    assert!(html[at..].contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("<script>"));
    // The independent checker accepts it and says so.
    let out = python(&[
        "--trust",
        &lab.producer.verifier().to_string(),
        good.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("2 events carry the auditor's annotations (not evidence)")
    );

    // A bundle of events nobody annotated has no annotations entry (and its page no such section).
    let plain = lab
        .export("plain.zip", SelectionInput::Ids(ids(&[10, 11])))
        .unwrap();
    assert!(lab.verify(&plain).annotations.is_none());
    assert!(!report_html(&plain).contains("Auditor&rsquo;s annotations"));

    // An annotation edited without re-signing: the manifest catches it.
    let edited = rewrite(&good, &lab.p("edited.zip"), |e| {
        edit_json(entry(e, bundle::ANNOTATIONS), |d| {
            d["events"][0]["tags"][0] = "cleared".into();
        });
    });
    assert_fails(
        &lab.verify(&edited),
        FailureKind::Entries,
        "annotations.json",
    );

    // Re-signed by the auditor (they may change their own statements, and the page must follow), but lying about
    // what the bundle holds: each caught by both verifiers, as `annotations` failures.
    let forged = |name: &str, f: &dyn Fn(&mut serde_json::Value)| {
        forge(&lab, &good, name, &lab.auditor, bundle::ANNOTATIONS, |d| {
            edit_json(d, f)
        })
    };
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            forged("other-event.zip", &|d| {
                d["events"][0]["event"] = format!("{K8S}@1#2").into()
            }),
            "which the bundle does not hold",
        ),
        (
            forged("other-leaf.zip", &|d| {
                d["events"][0]["leaf"] = "00".repeat(32).into()
            }),
            "another leaf",
        ),
        (
            forged("statement.zip", &|d| {
                d["statement"] = "These are facts.".into()
            }),
            "statement",
        ),
        (
            forged("order.zip", &|d| {
                let events = d["events"].as_array_mut().unwrap();
                events.swap(0, 1);
            }),
            "order",
        ),
        (
            forged("bad-tag.zip", &|d| {
                d["events"][0]["tags"][0] = "two words".into()
            }),
            "not a tag",
        ),
        (
            forged("empty.zip", &|d| {
                d["events"][1]["tags"] = serde_json::json!([]);
            }),
            "without any annotation",
        ),
        (
            forged("extra.zip", &|d| d["events"][0]["verified"] = true.into()),
            "annotations.json",
        ),
    ];
    for (path, needle) in &cases {
        eprintln!("case {}", path.display());
        let v = lab.verify(path);
        assert_fails(&v, FailureKind::Annotations, needle);
        let out = python(&[
            "--trust",
            &lab.producer.verifier().to_string(),
            path.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", path.display());
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with("FAIL annotations.json"),
            "{}",
            path.display()
        );
    }
    // The page re-rendered from changed (valid) annotations no longer matches the one signed.
    let retagged = forged("retagged.zip", &|d| {
        d["events"][0]["tags"][0] = "cleared".into()
    });
    assert_fails(&lab.verify(&retagged), FailureKind::Report, "report.html");
}
