//! The tamper matrix of the archive format: every change to a sealed archive fails verification with the right
//! reason, and a sealed archive of real logs verifies. Archives are sealed by the real `seal` from real fixtures.
//! Every archive verified here, good or tampered, single or as a set, is also given to the independent Python
//! verifier (`tests/independent/verify_archive.py`), which must accept exactly the ones ours verifies.

use std::path::{Path, PathBuf};

use crate::common::*;
use auditlens::archive;
use auditlens::note::VerifierKey;
use auditlens::report::VerifySetReport;
use auditlens::verify::{ArchiveReport, ArchiveStatus, ContinuityKind, FailureKind};
use proptest::prelude::*;

/// Our verifier's report on one archive, once the independent verifier has given the same verdict on it
/// (exit 0 when ours says verified, 1 for a failure or an untrusted signer).
#[track_caller]
fn verify_with(path: &Path, trusted: &[VerifierKey]) -> ArchiveReport {
    let report = crate::common::verify_with(path, trusted);
    let want = if report.status == ArchiveStatus::Verified {
        0
    } else {
        1
    };
    let py = independent_verify(trusted, &[path]);
    assert_eq!(
        py.status.code(),
        Some(want),
        "verify_archive.py disagrees on {path:?} (ours: {:?} {:?})\nstdout: {}stderr: {}",
        report.status,
        report.failure,
        text(&py.stdout),
        text(&py.stderr)
    );
    report
}

struct Sealed {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    key: auditlens::note::SignerKey,
    archive: PathBuf,
}

fn sealed_k8s() -> Sealed {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let key = key("ops-prod");
    let archive = seal_to(
        &dir,
        "a.zip",
        &key,
        "example.com/prod/k8s",
        None,
        &[fixture(K8S_LOG)],
    );
    Sealed {
        _dir: tmp,
        dir,
        key,
        archive,
    }
}

fn trusted(s: &Sealed) -> Vec<auditlens::note::VerifierKey> {
    vec![s.key.verifier()]
}

#[test]
fn sealed_real_kubernetes_log_verifies_with_its_facts() {
    let s = sealed_k8s();
    let r = verify_with(&s.archive, &trusted(&s));
    assert_eq!(r.status, ArchiveStatus::Verified, "{:?}", r.failure);
    assert_eq!(r.events, Some(37));
    assert_eq!(r.sequence, Some(1));
    assert_eq!(r.origin.as_deref(), Some("example.com/prod/k8s"));
    assert_eq!(r.source_kind.as_deref(), Some("k8s"));
    let range = r.time_range.unwrap();
    assert_eq!(range.first, "2017-09-11T19:55:05Z");
    assert_eq!(range.last, "2017-09-11T20:29:04Z");
}

#[test]
fn events_are_stored_byte_for_byte() {
    let s = sealed_k8s();
    let entries = read_entries(&s.archive);
    let stored = entries
        .iter()
        .find(|(n, _)| *n == first_events_entry())
        .unwrap()
        .1
        .clone();
    let original = std::fs::read(fixture(K8S_LOG)).unwrap();
    assert_eq!(stored, original);
}

#[test]
fn valid_signature_without_trust_is_untrusted_not_verified() {
    let s = sealed_k8s();
    let r = verify_with(&s.archive, &[]);
    assert_eq!(r.status, ArchiveStatus::Untrusted);
    assert!(r.failure.is_none());
    assert!(!r.signer.unwrap().trusted);
}

#[test]
fn every_single_event_modified_by_one_byte_is_found_at_its_index() {
    let s = sealed_k8s();
    let entries = read_entries(&s.archive);
    let lines = event_lines(
        &entries
            .iter()
            .find(|(n, _)| *n == first_events_entry())
            .unwrap()
            .1,
    );
    for i in 0..lines.len() {
        let out = s.dir.join(format!("mod{i}.zip"));
        rewrite(&s.archive, &out, |e| {
            let mut l = lines.clone();
            // Change one byte inside the JSON text (not the braces).
            let pos = l[i].len() / 2;
            l[i][pos] = if l[i][pos] == b'a' { b'b' } else { b'a' };
            *entry(e, &first_events_entry()) = join_lines(&l);
        });
        let r = verify_with(&out, &trusted(&s));
        let f = r.failure.expect("tampered archive must fail");
        assert_eq!(
            f.kind,
            FailureKind::LeafMismatch,
            "event {i}: {}",
            f.message
        );
        assert_eq!(f.event_index, Some(i as u64));
        assert_eq!(f.line, Some(i as u64 + 1));
        assert_eq!(f.entry.as_deref(), Some("events/000001.jsonl"));
        assert_eq!(
            f.expected.unwrap(),
            auditlens::merkle::to_hex(&auditlens::merkle::leaf_hash(&lines[i]))
        );
        assert!(
            f.message.contains("matches the signed root"),
            "{}",
            f.message
        );
    }
}

fn tamper_lines(
    s: &Sealed,
    name: &str,
    f: impl FnOnce(&mut Vec<Vec<u8>>),
) -> auditlens::verify::ArchiveReport {
    let out = s.dir.join(name);
    rewrite(&s.archive, &out, |e| {
        let mut lines = event_lines(entry(e, &first_events_entry()));
        f(&mut lines);
        *entry(e, &first_events_entry()) = join_lines(&lines);
    });
    verify_with(&out, &trusted(s))
}

#[test]
fn deleted_event_is_named() {
    let s = sealed_k8s();
    let r = tamper_lines(&s, "del.zip", |l| {
        l.remove(5);
    });
    let f = r.failure.unwrap();
    assert_eq!(
        (f.kind, f.event_index),
        (FailureKind::LeafMismatch, Some(5))
    );
    assert!(f.message.contains("deleted"), "{}", f.message);
}

#[test]
fn duplicated_event_is_named() {
    let s = sealed_k8s();
    let r = tamper_lines(&s, "dup.zip", |l| {
        let copy = l[7].clone();
        l.insert(8, copy);
    });
    let f = r.failure.unwrap();
    assert_eq!(
        (f.kind, f.event_index),
        (FailureKind::LeafMismatch, Some(8))
    );
    assert!(f.message.contains("duplicated"), "{}", f.message);
}

#[test]
fn reordered_events_are_found() {
    let s = sealed_k8s();
    let r = tamper_lines(&s, "swap.zip", |l| l.swap(10, 11));
    let f = r.failure.unwrap();
    assert_eq!(
        (f.kind, f.event_index),
        (FailureKind::LeafMismatch, Some(10))
    );
    assert!(f.message.contains("reordered"), "{}", f.message);
}

#[test]
fn inserted_event_is_found() {
    let s = sealed_k8s();
    let r = tamper_lines(&s, "ins.zip", |l| {
        l.insert(3, br#"{"kind":"Event","verb":"get"}"#.to_vec())
    });
    let f = r.failure.unwrap();
    assert_eq!(
        (f.kind, f.event_index),
        (FailureKind::LeafMismatch, Some(3))
    );
}

#[test]
fn removed_last_event_is_a_truncated_tail() {
    let s = sealed_k8s();
    let r = tamper_lines(&s, "trunc.zip", |l| {
        l.pop();
    });
    let f = r.failure.unwrap();
    assert_eq!(f.kind, FailureKind::Count, "{}", f.message);
    assert!(f.message.contains("truncated"), "{}", f.message);
    assert_eq!(f.event_index, Some(36));
}

#[test]
fn tail_cut_mid_line_is_detected() {
    let s = sealed_k8s();
    let out = s.dir.join("cut.zip");
    rewrite(&s.archive, &out, |e| {
        let data = entry(e, &first_events_entry());
        let n = data.len();
        data.truncate(n - 40);
    });
    let f = verify_with(&out, &trusted(&s)).failure.unwrap();
    assert!(
        matches!(
            f.kind,
            FailureKind::EventSyntax | FailureKind::LeafMismatch | FailureKind::Count
        ),
        "{f:?}"
    );
    assert_eq!(f.event_index, Some(36));
}

fn edit_checkpoint(
    s: &Sealed,
    name: &str,
    f: impl FnOnce(String) -> String,
) -> auditlens::verify::ArchiveReport {
    let out = s.dir.join(name);
    rewrite(&s.archive, &out, |e| {
        let cp = String::from_utf8(entry(e, archive::CHECKPOINT).clone()).unwrap();
        *entry(e, archive::CHECKPOINT) = f(cp).into_bytes();
    });
    verify_with(&out, &trusted(s))
}

#[test]
fn changed_checkpoint_size_root_or_extension_breaks_the_signature() {
    let s = sealed_k8s();
    type Edit = Box<dyn Fn(String) -> String>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "size",
            Box::new(|cp: String| cp.replacen("\n37\n", "\n36\n", 1)),
        ),
        (
            "root",
            Box::new(|cp: String| {
                let mut lines: Vec<String> = cp.split('\n').map(String::from).collect();
                let root = &mut lines[2];
                let c = if root.starts_with('A') { "B" } else { "A" };
                root.replace_range(0..1, c);
                lines.join("\n")
            }),
        ),
        (
            "sequence",
            Box::new(|cp: String| cp.replacen("auditlens-sequence 1", "auditlens-sequence 2", 1)),
        ),
        (
            "chain",
            Box::new(|cp: String| {
                cp.replacen(
                    "auditlens-chain-start AAAA",
                    "auditlens-chain-start BAAA",
                    1,
                )
            }),
        ),
        (
            "origin",
            Box::new(|cp: String| cp.replacen("example.com/prod/k8s", "example.com/prod/k9s", 1)),
        ),
    ];
    for (what, f) in cases {
        let r = edit_checkpoint(&s, &format!("cp-{what}.zip"), |cp| {
            let edited = f(cp.clone());
            assert_ne!(edited, cp, "{what}: edit did nothing");
            edited
        });
        let failure = r.failure.unwrap();
        assert!(
            matches!(failure.kind, FailureKind::Signature | FailureKind::Manifest),
            "{what}: {failure:?}"
        );
        assert_ne!(r.status, ArchiveStatus::Verified);
    }
}

#[test]
fn changed_signature_bytes_fail() {
    let s = sealed_k8s();
    let r = edit_checkpoint(&s, "sig.zip", |cp| {
        let pos = cp.rfind(' ').unwrap() + 10;
        let mut b = cp.into_bytes();
        b[pos] = if b[pos] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    });
    assert_eq!(r.failure.unwrap().kind, FailureKind::Signature);
}

#[test]
fn edited_manifest_is_found_by_its_signed_hash() {
    let s = sealed_k8s();
    let out = s.dir.join("man.zip");
    rewrite(&s.archive, &out, |e| {
        let m = String::from_utf8(entry(e, archive::MANIFEST).clone()).unwrap();
        let edited = m.replacen("2017-09-11T19:55:05Z", "2017-09-11T19:55:04Z", 1);
        assert_ne!(m, edited);
        *entry(e, archive::MANIFEST) = edited.into_bytes();
    });
    let f = verify_with(&out, &trusted(&s)).failure.unwrap();
    assert_eq!(f.kind, FailureKind::ManifestHash);
    assert_eq!(f.entry.as_deref(), Some("manifest.json"));
    assert!(f.expected.is_some() && f.found.is_some());
}

#[test]
fn extra_or_missing_entries_fail_as_container_errors() {
    let s = sealed_k8s();
    let extra = rewrite(&s.archive, &s.dir.join("extra.zip"), |e| {
        e.push(("notes.txt".into(), b"hi".to_vec()))
    });
    let f = verify_with(&extra, &trusted(&s)).failure.unwrap();
    assert_eq!(f.kind, FailureKind::Container);
    assert!(f.message.contains("notes.txt"), "{}", f.message);

    for missing in [
        archive::MANIFEST,
        archive::CHECKPOINT,
        archive::LEAVES,
        "events/000001.jsonl",
    ] {
        let out = rewrite(&s.archive, &s.dir.join("missing.zip"), |e| {
            e.retain(|(n, _)| n != missing)
        });
        let f = verify_with(&out, &trusted(&s)).failure.unwrap();
        assert_eq!(f.kind, FailureKind::Container, "{missing}");
        assert!(f.message.contains(missing), "{missing}: {}", f.message);
    }
}

#[test]
fn edited_leaf_list_alone_is_found() {
    let s = sealed_k8s();
    let out = rewrite(&s.archive, &s.dir.join("leaves.zip"), |e| {
        entry(e, archive::LEAVES)[32 * 4] ^= 1
    });
    let f = verify_with(&out, &trusted(&s)).failure.unwrap();
    assert_eq!(
        (f.kind, f.event_index),
        (FailureKind::LeafMismatch, Some(4))
    );
    assert!(
        f.message.contains("does not match the signed root"),
        "{}",
        f.message
    );
}

#[test]
fn archive_resigned_by_another_key_is_not_verified() {
    let s = sealed_k8s();
    let mallory = key("ops-prod");
    let out = rewrite(&s.archive, &s.dir.join("resigned.zip"), |e| {
        let mut lines = event_lines(entry(e, &first_events_entry()));
        lines[0] = br#"{"kind":"Event","verb":"nothing-happened"}"#.to_vec();
        *entry(e, &first_events_entry()) = join_lines(&lines);
        reseal_entries(e, &mallory);
    });
    let r = verify_with(&out, &trusted(&s));
    assert_eq!(r.status, ArchiveStatus::Untrusted, "{:?}", r.failure);
    let signer = r.signer.unwrap();
    assert!(!signer.trusted);
    assert_ne!(signer.fingerprint, s.key.verifier().fingerprint());
}

#[test]
fn resealed_with_the_trusted_key_verifies_so_the_helper_is_honest() {
    // Guards the reseal helper used by the malformed-input tests: re-signing unchanged events is valid.
    let s = sealed_k8s();
    let out = rewrite(&s.archive, &s.dir.join("same.zip"), |e| {
        reseal_entries(e, &s.key)
    });
    assert_eq!(
        verify_with(&out, &trusted(&s)).status,
        ArchiveStatus::Verified
    );
}

fn chain_of_three(dir: &Path, key: &auditlens::note::SignerKey) -> Vec<PathBuf> {
    let lines: Vec<String> = (0..9)
        .map(|i| format!(r#"{{"time":"2024-01-0{}T00:00:00Z","n":{i}}}"#, i % 9 + 1))
        .collect();
    let mut out: Vec<PathBuf> = Vec::new();
    for part in 0..3 {
        let input = write_lines(
            dir,
            &format!("part{part}.jsonl"),
            &lines[part * 3..part * 3 + 3],
        );
        let prev = out.last().cloned();
        out.push(seal_to(
            dir,
            &format!("seq{}.zip", part + 1),
            key,
            "example.com/app",
            prev.as_deref(),
            &[input],
        ));
    }
    out
}

/// Our report on a set (each archive also checked alone by `verify_with`), once the independent verifier has
/// given the same verdict on the whole set, continuity included.
#[track_caller]
fn set_report(paths: &[PathBuf], key: &auditlens::note::SignerKey) -> VerifySetReport {
    let set = VerifySetReport::new(
        paths
            .iter()
            .map(|p| verify_with(p, &[key.verifier()]))
            .collect(),
    );
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let py = independent_verify(&[key.verifier()], &refs);
    assert_eq!(
        py.status.code(),
        Some(if set.ok { 0 } else { 1 }),
        "verify_archive.py disagrees on the set {paths:?} (ours ok: {})\nstdout: {}stderr: {}",
        set.ok,
        text(&py.stdout),
        text(&py.stderr)
    );
    set
}

#[test]
fn a_chain_of_three_archives_is_continuous() {
    let tmp = tempfile::tempdir().unwrap();
    let k = key("ops");
    let chain = chain_of_three(tmp.path(), &k);
    let set = set_report(&chain, &k);
    assert!(set.ok, "{set:#?}");
    assert_eq!(
        set.archives
            .iter()
            .map(|a| a.sequence.unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(set.continuity[0].starts_at, 1);
    // A set that starts later verifies from where it starts.
    let later = set_report(&chain[1..], &k);
    assert!(later.ok);
    assert_eq!(later.continuity[0].starts_at, 2);
}

#[test]
fn missing_middle_archive_is_a_gap() {
    let tmp = tempfile::tempdir().unwrap();
    let k = key("ops");
    let chain = chain_of_three(tmp.path(), &k);
    let set = set_report(&[chain[0].clone(), chain[2].clone()], &k);
    assert!(!set.ok);
    let p = &set.continuity[0].problems[0];
    assert_eq!((p.kind, p.sequence), (ContinuityKind::Gap, 2));
}

#[test]
fn two_archives_claiming_one_sequence_are_a_fork_and_the_same_twice_an_overlap() {
    let tmp = tempfile::tempdir().unwrap();
    let k = key("ops");
    let chain = chain_of_three(tmp.path(), &k);
    let other = write_lines(tmp.path(), "other.jsonl", &[r#"{"n":"other"}"#.to_string()]);
    let fork = seal_to(
        tmp.path(),
        "fork2.zip",
        &k,
        "example.com/app",
        Some(&chain[0]),
        &[other],
    );
    let set = set_report(&[chain[0].clone(), chain[1].clone(), fork.clone()], &k);
    assert!(!set.ok);
    assert_eq!(set.continuity[0].problems[0].kind, ContinuityKind::Fork);

    let twice = set_report(&[chain[0].clone(), chain[0].clone()], &k);
    assert!(!twice.ok);
    assert_eq!(
        twice.continuity[0].problems[0].kind,
        ContinuityKind::Overlap
    );
}

#[test]
fn archive_continuing_another_chain_is_a_broken_link() {
    let tmp = tempfile::tempdir().unwrap();
    let k = key("ops");
    let chain = chain_of_three(tmp.path(), &k);
    // A sequence-2 archive that links to a different sequence-1 archive of the same origin.
    let other1_in = write_lines(tmp.path(), "o1.jsonl", &[r#"{"n":"o1"}"#.to_string()]);
    let other1 = seal_to(
        tmp.path(),
        "o1.zip",
        &k,
        "example.com/app",
        None,
        &[other1_in],
    );
    let o2_in = write_lines(tmp.path(), "o2.jsonl", &[r#"{"n":"o2"}"#.to_string()]);
    let other2 = seal_to(
        tmp.path(),
        "o2.zip",
        &k,
        "example.com/app",
        Some(&other1),
        &[o2_in],
    );
    let set = set_report(&[chain[0].clone(), other2], &k);
    assert!(!set.ok);
    assert_eq!(
        set.continuity[0].problems[0].kind,
        ContinuityKind::BrokenLink
    );
}

#[test]
fn cloudtrail_records_file_is_sealed_one_record_per_event() {
    let tmp = tempfile::tempdir().unwrap();
    let k = key("aws");
    let a = seal_to(
        tmp.path(),
        "ct.zip",
        &k,
        "aws/111122223333/trail",
        None,
        &[fixture(CLOUDTRAIL_LOG)],
    );
    let r = verify_with(&a, &[k.verifier()]);
    assert_eq!(r.status, ArchiveStatus::Verified, "{:?}", r.failure);
    assert_eq!(r.source_kind.as_deref(), Some("cloudtrail"));
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture(CLOUDTRAIL_LOG)).unwrap()).unwrap();
    assert_eq!(
        r.events,
        Some(doc["Records"].as_array().unwrap().len() as u64)
    );
}

fn small_archive(events: &[String]) -> (tempfile::TempDir, PathBuf, auditlens::note::SignerKey) {
    let tmp = tempfile::tempdir().unwrap();
    let k = auditlens::note::SignerKey::from_seed("prop", &[9u8; 32]).unwrap();
    let input = write_lines(tmp.path(), "in.jsonl", events);
    let a = seal_to(tmp.path(), "p.zip", &k, "example.com/prop", None, &[input]);
    (tmp, a, k)
}

/// Each entry's name and SHA-256 as Python's `zipfile` (which the independent verifier uses) reads them.
fn zipfile_entries(path: &Path) -> String {
    let o = std::process::Command::new("python3")
        .args([
            "-c",
            "import hashlib, sys, zipfile\n\
             z = zipfile.ZipFile(sys.argv[1])\n\
             for i in z.infolist(): print(i.filename, hashlib.sha256(z.read(i)).hexdigest())",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    text(&o.stdout)
}

fn event_strategy() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(("[a-z]{1,8}", "[ -~]{0,40}", any::<i64>()), 1..40).prop_map(|v| {
        v.into_iter()
            .map(|(k, s, n)| serde_json::json!({ k: s, "n": n }).to_string())
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn any_single_byte_flip_in_any_entry_is_detected(
        events in event_strategy(), which in 0usize..4, pos in any::<prop::sample::Index>(), bit in 0u8..8
    ) {
        let (tmp, a, k) = small_archive(&events);
        prop_assert_eq!(verify_with(&a, &[k.verifier()]).status, ArchiveStatus::Verified);
        let names = [first_events_entry(), archive::LEAVES.to_string(), archive::MANIFEST.to_string(), archive::CHECKPOINT.to_string()];
        let out = rewrite(&a, &tmp.path().join("flip.zip"), |e| {
            let data = entry(e, &names[which]);
            let i = pos.index(data.len());
            data[i] ^= 1 << bit;
        });
        let r = verify_with(&out, &[k.verifier()]);
        prop_assert_ne!(r.status, ArchiveStatus::Verified);
        prop_assert!(r.failure.is_some());
    }

    #[test]
    fn a_flip_anywhere_in_the_file_is_detected_or_changes_no_signed_byte(
        events in event_strategy(), pos in any::<prop::sample::Index>(), bit in 0u8..8
    ) {
        let (tmp, a, k) = small_archive(&events);
        let mut bytes = std::fs::read(&a).unwrap();
        let i = pos.index(bytes.len());
        bytes[i] ^= 1 << bit;
        let out = tmp.path().join("raw.zip");
        std::fs::write(&out, &bytes).unwrap();
        // Ours refuses ZIP structures Python's zipfile reads (entries that overlap each other) and Python
        // refuses some that ours reads (a corrupt ZIP64 extra field): on a flip outside every entry's content
        // the two may differ. What each one accepts has every entry's content unchanged, as it reads them.
        let r = crate::common::verify_with(&out, &[k.verifier()]);
        let py = independent_verify(&[k.verifier()], &[&out]).status.code();
        prop_assert!(matches!(py, Some(0) | Some(1)), "verify_archive.py: exit {:?}", py);
        if r.status == ArchiveStatus::Verified {
            // Only ZIP metadata (times, attributes) changed: every entry's content must be identical.
            prop_assert_eq!(read_entries(&out), read_entries(&a));
        }
        if py == Some(0) {
            // The same, as Python's zipfile reads the entries.
            prop_assert_eq!(zipfile_entries(&out), zipfile_entries(&a));
        }
    }
}

/// Bytes no entry holds (review finding, 2026-12-08): a second ZIP appended, whose end record the zip crate skips
/// and `unzip` takes, and an entry outside the central directory, which a reader walking the local headers
/// takes. Both verifiers refuse both.
#[test]
fn bytes_outside_the_entries_are_refused_by_both_verifiers() {
    let s = sealed_k8s();
    let appended = s.dir.join("appended.zip");
    append_second_zip(&s.archive, &appended);
    let outside = s.dir.join("outside.zip");
    put_entry_outside_directory(&s.archive, &outside);
    for (path, needle) in [
        (&appended, "follow the end record"),
        (&outside, "belong to no entry"),
    ] {
        let f = verify_with(path, &trusted(&s)).failure.unwrap();
        assert_eq!(f.kind, FailureKind::Container);
        assert!(f.message.contains(needle), "{}", f.message);
        let py = independent_verify(&trusted(&s), &[path]);
        assert_eq!(
            py.status.code(),
            Some(1),
            "verify_archive.py accepted {path:?}"
        );
    }
}

#[test]
fn local_header_that_disagrees_with_the_central_directory_is_refused() {
    let s = sealed_k8s();
    let bytes = std::fs::read(&s.archive).unwrap();
    // The first occurrence of the name is its local header (the central directory comes last).
    let at = bytes
        .windows(13)
        .position(|w| w == b"manifest.json")
        .unwrap();
    let mut renamed = bytes.clone();
    renamed[at + 12] = b'X';
    let out = s.dir.join("local-name.zip");
    std::fs::write(&out, &renamed).unwrap();
    let f = verify_with(&out, &trusted(&s)).failure.unwrap();
    assert_eq!(f.kind, FailureKind::Container);
    assert!(f.message.contains("local header names it"), "{}", f.message);

    // The first entry's local header starts at offset 0; its method field is at offset 8 (deflate = 8).
    assert_eq!(&bytes[..4], b"PK\x03\x04");
    assert_eq!(bytes[8], 8);
    let mut stored = bytes.clone();
    stored[8] = 0;
    let out = s.dir.join("local-method.zip");
    std::fs::write(&out, &stored).unwrap();
    let f = verify_with(&out, &trusted(&s)).failure.unwrap();
    assert!(
        f.message.contains("compression method differs"),
        "{}",
        f.message
    );
}
