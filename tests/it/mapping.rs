//! Mapping files inside signed archives (docs/archive-format.md sections 2 and 4, docs/sources.md "Mapping
//! files"): a team's own source (Slack audit logs, which AuditLens has no mapper for) sealed with
//! `tests/fixtures/mappings/slack-audit.toml`; both verifiers check the mapping's SHA-256; a changed mapping fails
//! verification; import normalizes with the mapping the archive carries; `check` re-derives the columns from the
//! stored mapping and notices when it is changed.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use auditlens::archive::{self, Manifest};
use auditlens::note::SignerKey;
use auditlens::seal::{SealOptions, seal};
use auditlens::sources::SourceKind;
use auditlens::store::Store;
use auditlens::store::import::{ImportOptions, ImportOutcome, ImportResult};
use auditlens::verify::{ArchiveStatus, FailureKind};
use sha2::{Digest, Sha256};

const SLACK: &str = "logs/misc_saas_audit/panther/Slack_AuditLogs.jsonl";
const MAPPING: &str = "mappings/slack-audit.toml";
const ORIGIN: &str = "example.com/slack/audit";
const NOW: i64 = 1_800_000_000_000_000;

struct Lab {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    key: SignerKey,
}

impl Lab {
    fn new() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        Lab {
            dir: tmp.path().to_path_buf(),
            key: key("slack-shipper"),
            _tmp: tmp,
        }
    }

    fn seal_with(&self, out: &str, mapping: &Path) -> PathBuf {
        let path = self.dir.join(out);
        seal(&SealOptions {
            key: &self.key,
            origin: ORIGIN,
            prev: None,
            format: None,
            mapping: Some(mapping),
            out: &path,
            inputs: &[fixture(SLACK)],
            receive: false,
        })
        .unwrap();
        path
    }

    fn sealed(&self) -> PathBuf {
        self.seal_with("slack.zip", &fixture(MAPPING))
    }

    fn import(&self, db: &Path, archive: &Path) -> ImportResult {
        let mut store = Store::open(db).unwrap();
        store
            .import_archive(
                archive,
                &ImportOptions {
                    trust: &auditlens::trust::TrustPolicy::from_keys(&[self.key.verifier()]),
                    keep_failed: false,
                },
                &mut |_| true,
            )
            .unwrap()
    }
}

fn python_verify(key: &SignerKey, archive: &Path) -> std::process::Output {
    Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/verify_archive.py"))
        .arg("--trust")
        .arg(key.verifier().to_string())
        .arg(archive)
        .output()
        .expect("python3 runs the independent verifier")
}

#[test]
fn a_mapping_is_sealed_as_mapping_toml_named_by_the_signed_manifest() {
    let lab = Lab::new();
    let archive = lab.sealed();
    let entries = read_entries(&archive);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "events/000001.jsonl",
            "leaves",
            "mapping.toml",
            "manifest.json",
            "checkpoint"
        ]
    );
    let mapping_bytes = std::fs::read(fixture(MAPPING)).unwrap();
    let in_archive = &entries
        .iter()
        .find(|(n, _)| n == archive::MAPPING)
        .unwrap()
        .1;
    assert_eq!(
        in_archive, &mapping_bytes,
        "the mapping is kept byte for byte"
    );
    let manifest: Manifest = serde_json::from_slice(
        &entries
            .iter()
            .find(|(n, _)| n == archive::MANIFEST)
            .unwrap()
            .1,
    )
    .unwrap();
    assert_eq!(manifest.source_kind, "mapping");
    let digest: [u8; 32] = Sha256::digest(&mapping_bytes).into();
    assert_eq!(
        manifest.mapping_sha256.as_deref(),
        Some(archive::encode_hash(&digest).as_str())
    );
    assert_eq!(manifest.events, 44);

    let report = verify_with(&archive, &[lab.key.verifier()]);
    assert_eq!(
        report.status,
        ArchiveStatus::Verified,
        "{:?}",
        report.failure
    );
    let py = python_verify(&lab.key, &archive);
    assert_eq!(
        py.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&py.stdout),
        String::from_utf8_lossy(&py.stderr)
    );
}

#[test]
fn a_changed_missing_or_unexpected_mapping_fails_both_verifiers() {
    let lab = Lab::new();
    let archive = lab.sealed();
    // One byte of the mapping changed (a rule now makes every event a deployment); nothing re-signed.
    let changed = rewrite(&archive, &lab.dir.join("changed.zip"), |entries| {
        let m = entry(entries, archive::MAPPING);
        let text = String::from_utf8(m.clone())
            .unwrap()
            .replace("\"app_installed\"", "\"app_installes\"");
        *m = text.into_bytes();
    });
    let r = verify_with(&changed, &[lab.key.verifier()]);
    assert_eq!(r.status, ArchiveStatus::Failed);
    let f = r.failure.unwrap();
    assert_eq!(f.kind, FailureKind::Mapping, "{}", f.message);
    assert_eq!(f.entry.as_deref(), Some("mapping.toml"));
    assert!(f.expected.is_some() && f.found.is_some() && f.expected != f.found);
    let py = python_verify(&lab.key, &changed);
    assert_eq!(py.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&py.stdout).contains("mapping.toml"));

    // The mapping removed: the manifest says "mapping", the container has none.
    let removed = rewrite(&archive, &lab.dir.join("removed.zip"), |entries| {
        entries.retain(|(n, _)| n != archive::MAPPING);
    });
    assert_eq!(
        kind_of(&verify_with(&removed, &[lab.key.verifier()])),
        Some(FailureKind::Manifest)
    );
    assert_eq!(python_verify(&lab.key, &removed).status.code(), Some(1));

    // A mapping slipped into an archive of another kind.
    let k8s = seal_to(
        &lab.dir,
        "k8s.zip",
        &lab.key,
        "example.com/k8s",
        None,
        &[fixture(K8S_LOG)],
    );
    let slipped = rewrite(&k8s, &lab.dir.join("slipped.zip"), |entries| {
        let bytes = std::fs::read(fixture(MAPPING)).unwrap();
        entries.insert(2, (archive::MAPPING.to_owned(), bytes));
    });
    assert_eq!(
        kind_of(&verify_with(&slipped, &[lab.key.verifier()])),
        Some(FailureKind::Manifest)
    );
    assert_eq!(python_verify(&lab.key, &slipped).status.code(), Some(1));
}

#[test]
fn import_normalizes_with_the_mapping_the_archive_carries() {
    let lab = Lab::new();
    // The mapping file is copied, sealed, then changed on disk: only the sealed copy counts.
    let own = lab.dir.join("slack.toml");
    std::fs::copy(fixture(MAPPING), &own).unwrap();
    let archive = lab.seal_with("slack.zip", &own);
    std::fs::write(&own, "version = 1\nname = \"other\"\n[fields]\n").unwrap();

    let db = lab.dir.join("store.db");
    let r = lab.import(&db, &archive);
    assert_eq!(r.outcome, ImportOutcome::Imported, "{}", r.message);
    let store = Store::open(&db).unwrap();
    let all = store.search("", 100, None, NOW).unwrap().events;
    assert_eq!(all.len(), 44);
    assert!(
        all.iter()
            .all(|e| e.source.as_deref() == Some("mapping:slack-audit"))
    );
    // Line 38 (index 37): an admin role change by the enterprise account, on a user entity.
    let e = all.iter().find(|e| e.index == 37).unwrap();
    assert_eq!(
        e.time, None,
        "date_create is a string; the mapping reads epoch seconds"
    );
    assert_eq!(
        e.actor.as_deref(),
        Some("slack-enterprise-example@example.io")
    );
    assert_eq!(e.action.as_deref(), Some("role_change_to_admin"));
    assert_eq!(e.resource.as_deref(), Some("example-account@example.com"));
    assert_eq!(e.ip.as_deref(), Some("12.12.12.12"));
    assert_eq!(e.env.as_deref(), Some("example-workspace-domain"));
    assert_eq!(e.category.as_deref(), Some("access"));
    assert_eq!(e.privilege.as_deref(), Some("role"));
    assert_eq!(e.outcome, None, "the mapping names no outcome field");
    // Line 7 (index 6): an app installed, on an app entity (no `name` in the fixture: the next pointers are tried).
    let app = all.iter().find(|e| e.index == 6).unwrap();
    assert_eq!(app.category.as_deref(), Some("deployment"));
    assert_eq!(app.env.as_deref(), Some("test-panther-1"));
    // Line 33 (index 32): "anomaly" matches no rule.
    let anomaly = all.iter().find(|e| e.index == 32).unwrap();
    assert_eq!(anomaly.category.as_deref(), Some("other"));
    assert_eq!(anomaly.resource, None, "no entity");
    // Categories counted by hand from the raw file against the mapping's rules.
    for (q, n) in [
        ("category:deployment", 4),
        ("category:access", 12),
        ("category:change", 25),
        ("category:other", 3),
        ("privilege:role", 4),
        ("source:mapping:*", 44),
    ] {
        assert_eq!(store.count(q, NOW).unwrap(), n, "{q}");
    }
    let check = store.check(&[lab.key.verifier()], &mut |_| true).unwrap();
    assert!(check.ok, "{:?}", check.problems);
}

#[test]
fn check_re_derives_from_the_stored_mapping_and_notices_a_changed_one() {
    let lab = Lab::new();
    let archive = lab.sealed();
    let db = lab.dir.join("store.db");
    assert_eq!(lab.import(&db, &archive).outcome, ImportOutcome::Imported);
    let raw = rusqlite::Connection::open(&db).unwrap();
    // A normalized column changed behind the app's back.
    raw.execute("UPDATE events SET category = 'change' WHERE idx = 6", [])
        .unwrap();
    let store = Store::open(&db).unwrap();
    let check = store.check(&[lab.key.verifier()], &mut |_| true).unwrap();
    assert!(!check.ok);
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.event_index == Some(6) && p.message.contains("category")),
        "{:?}",
        check.problems
    );
    raw.execute(
        "UPDATE events SET category = 'deployment' WHERE idx = 6",
        [],
    )
    .unwrap();
    // The stored mapping changed so that the stored columns would agree with it: the signed hash says no.
    let changed = std::fs::read_to_string(fixture(MAPPING))
        .unwrap()
        .replace("\"app_installed\", ", "");
    raw.execute("UPDATE archives SET mapping = ?1", [changed.as_bytes()])
        .unwrap();
    let check = store.check(&[lab.key.verifier()], &mut |_| true).unwrap();
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.message.contains("stored mapping.toml differs")),
        "{:?}",
        check.problems
    );
}

#[test]
fn a_signed_mapping_that_does_not_compile_verifies_but_is_not_imported() {
    let lab = Lab::new();
    let archive = lab.sealed();
    // Re-signed by the same key over a mapping with an unknown category: every signed byte is consistent, so
    // the verifiers (which check bytes) accept it; the importer cannot read the events with it and refuses.
    let resigned = rewrite(&archive, &lab.dir.join("bad-mapping.zip"), |entries| {
        let bad = b"version = 1\nname = \"slack-audit\"\n[fields]\n[[rule]]\ncategory = \"fun\"\nwhen = [{ field = \"action\", present = true }]\n".to_vec();
        let digest: [u8; 32] = Sha256::digest(&bad).into();
        *entry(entries, archive::MAPPING) = bad;
        let mut m: Manifest = serde_json::from_slice(entry(entries, archive::MANIFEST)).unwrap();
        m.mapping_sha256 = Some(archive::encode_hash(&digest));
        *entry(entries, archive::MANIFEST) = serde_json::to_vec_pretty(&m).unwrap();
        reseal_entries(entries, &lab.key);
    });
    assert_eq!(
        verify_with(&resigned, &[lab.key.verifier()]).status,
        ArchiveStatus::Verified
    );
    let db = lab.dir.join("store.db");
    let r = lab.import(&db, &resigned);
    assert_eq!(r.outcome, ImportOutcome::Failed);
    let f = r.report.failure.unwrap();
    assert_eq!(f.kind, FailureKind::Mapping);
    assert!(f.message.contains("unknown category"), "{}", f.message);
    assert_eq!(Store::open(&db).unwrap().event_count().unwrap(), 0);
}

#[test]
fn seal_refuses_a_bad_mapping_or_a_conflicting_format() {
    let lab = Lab::new();
    let bad = lab.dir.join("bad.toml");
    std::fs::write(&bad, "version = 1\nname = \"Bad Name\"\n[fields]\n").unwrap();
    let out = lab.dir.join("x.zip");
    let run = |format: Option<SourceKind>, mapping: Option<&Path>| {
        seal(&SealOptions {
            key: &lab.key,
            origin: ORIGIN,
            prev: None,
            format,
            mapping,
            out: &out,
            inputs: &[fixture(SLACK)],
            receive: false,
        })
        .err()
        .map(|e| e.to_string())
    };
    assert!(run(None, Some(&bad)).unwrap().contains("name"));
    assert!(
        run(Some(SourceKind::K8s), Some(&fixture(MAPPING)))
            .unwrap()
            .contains("--mapping")
    );
    assert!(
        run(Some(SourceKind::Mapping), None)
            .unwrap()
            .contains("--mapping")
    );
    assert!(!out.exists());
    assert_eq!(
        run(Some(SourceKind::Mapping), Some(&fixture(MAPPING))),
        None
    );
}

#[test]
fn the_cli_seals_with_a_mapping_and_imports_it() {
    let lab = Lab::new();
    let bin = env!("CARGO_BIN_EXE_auditlens");
    let keys = lab.dir.join("keys");
    let ok = |args: &[&std::ffi::OsStr]| {
        let out = Command::new(bin).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let os = |s: &str| std::ffi::OsString::from(s);
    let (code, _, err) = ok(&[
        os("keygen").as_os_str(),
        os("--name").as_os_str(),
        os("slack").as_os_str(),
        os("--out").as_os_str(),
        keys.as_os_str(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let archive = lab.dir.join("cli.zip");
    let (code, out, err) = ok(&[
        os("seal").as_os_str(),
        os("--key").as_os_str(),
        keys.join("slack.key").as_os_str(),
        os("--origin").as_os_str(),
        os(ORIGIN).as_os_str(),
        os("--mapping").as_os_str(),
        fixture(MAPPING).as_os_str(),
        os("--out").as_os_str(),
        archive.as_os_str(),
        fixture(SLACK).as_os_str(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("kind mapping"), "{out}");
    let (code, _, err) = ok(&[
        os("seal").as_os_str(),
        os("--key").as_os_str(),
        keys.join("slack.key").as_os_str(),
        os("--origin").as_os_str(),
        os(ORIGIN).as_os_str(),
        os("--format").as_os_str(),
        os("okta").as_os_str(),
        os("--mapping").as_os_str(),
        fixture(MAPPING).as_os_str(),
        os("--out").as_os_str(),
        lab.dir.join("no.zip").as_os_str(),
        fixture(SLACK).as_os_str(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    let db = lab.dir.join("cli.db");
    let (code, _, err) = ok(&[
        os("import").as_os_str(),
        os("--db").as_os_str(),
        db.as_os_str(),
        os("--trust").as_os_str(),
        keys.join("slack.pub").as_os_str(),
        archive.as_os_str(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = ok(&[
        os("search").as_os_str(),
        os("--db").as_os_str(),
        db.as_os_str(),
        os("--count").as_os_str(),
        os("source:mapping:slack-audit category:deployment").as_os_str(),
    ]);
    assert_eq!((code, out.trim()), (Some(0), "4"), "{err}");
}
