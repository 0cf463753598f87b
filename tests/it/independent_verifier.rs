//! The archive format specification (docs/archive-format.md) is precise enough for an independent implementation:
//! `tests/independent/verify_archive.py`, a verifier written from the document alone in Python 3.11 with the
//! standard library only, must agree with ours on archives sealed by the real `seal` from real fixture logs:
//! it accepts a valid archive (printing the same Merkle root as `verify_archive`) and a continuous chain, and
//! rejects a one-byte change to an event, an edited manifest, and a chain with a gap.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;
use auditlens::note::SignerKey;
use auditlens::verify::{self, NoSink};

const ORIGIN: &str = "example.com/indep/test";
const TELEPORT_LOG: &str = "logs/teleport/panther/Gravitational_TeleportAudit.jsonl";
/// A second Kubernetes input (a real audit event written as one pretty-printed object).
const K8S_EXEC: &str = "logs/k8s_audit/falco_trace_files/exec_pod.json";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/verify_archive.py")
}

/// Runs the independent verifier with `key` trusted (passed as a key string, not a file).
fn run_python(key: &SignerKey, archives: &[&Path]) -> Output {
    let out = Command::new("python3")
        .arg(script())
        .arg("--trust")
        .arg(key.verifier().to_string())
        .args(archives)
        .output()
        .expect("python3 must be installed to run the independent verifier");
    eprintln!(
        "verify_archive.py {archives:?}: {:?}\nstdout:\n{}stderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout_lines(out: &Output) -> Vec<String> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    key: SignerKey,
}

fn setup() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let key = SignerKey::generate("indep").unwrap();
    Fixture {
        _tmp: tmp,
        dir,
        key,
    }
}

#[test]
fn python_verifier_accepts_a_sealed_archive_with_the_same_root() {
    let f = setup();
    // Two inputs, so two `events/` entries.
    let archive = seal_to(
        &f.dir,
        "a.zip",
        &f.key,
        ORIGIN,
        None,
        &[fixture(K8S_LOG), fixture(K8S_EXEC)],
    );
    let ours = verify::verify_archive(&archive, &[f.key.verifier()], &mut NoSink).unwrap();
    assert!(
        ours.failure.is_none(),
        "our verifier rejects the fixture archive"
    );
    let root = ours
        .root
        .expect("a verified archive reports its root (base64)");

    let out = run_python(&f.key, &[&archive]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "independent verifier rejects a valid archive"
    );
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 1, "one line per archive");
    let fields: Vec<&str> = lines[0].split(' ').collect();
    assert_eq!(
        fields.len(),
        5,
        "OK <origin> <sequence> <events> <root>: {}",
        lines[0]
    );
    assert_eq!(fields[0], "OK");
    assert_eq!(fields[1], ORIGIN);
    assert_eq!(fields[2], "1");
    assert_eq!(
        fields[4], root,
        "independent verifier computes another Merkle root"
    );

    // A re-serialised source (CloudTrail `Records`) verifies the same way.
    let ct = seal_to(
        &f.dir,
        "ct.zip",
        &f.key,
        "example.com/indep/ct",
        None,
        &[fixture(CLOUDTRAIL_LOG)],
    );
    let ours = verify::verify_archive(&ct, &[f.key.verifier()], &mut NoSink).unwrap();
    let out = run_python(&f.key, &[&ct]);
    assert_eq!(out.status.code(), Some(0));
    let root = ours
        .root
        .expect("a verified archive reports its root (base64)");
    assert!(stdout_lines(&out)[0].ends_with(&format!(" {root}")));
}

#[test]
fn python_verifier_rejects_tampering_and_an_untrusted_key() {
    let f = setup();
    let archive = seal_to(&f.dir, "a.zip", &f.key, ORIGIN, None, &[fixture(K8S_LOG)]);

    // One byte of the first event changed (`{"kind"` -> `{"Kind"`: still a well-formed line).
    let event = rewrite(&archive, &f.dir.join("event.zip"), |e| {
        let data = entry(e, &first_events_entry());
        assert_eq!(data[2], b'k');
        data[2] = b'K';
    });
    // One digit of `created` changed: only the signed manifest SHA-256 catches it.
    let manifest = rewrite(&archive, &f.dir.join("manifest.zip"), |e| {
        let data = entry(e, auditlens::archive::MANIFEST);
        let at = data
            .windows(11)
            .position(|w| w == b"\"created\": ")
            .unwrap()
            + 12;
        data[at] = if data[at] == b'9' { b'8' } else { b'9' };
    });
    for tampered in [&event, &manifest] {
        let ours = verify::verify_archive(tampered, &[f.key.verifier()], &mut NoSink).unwrap();
        assert!(ours.failure.is_some(), "our verifier accepts {tampered:?}");
        let out = run_python(&f.key, &[tampered]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "independent verifier accepts {tampered:?}"
        );
        assert!(stdout_lines(&out)[0].starts_with("FAIL "));
    }

    // A valid archive under a key the verifier was not told to trust.
    let other = SignerKey::generate("someone-else").unwrap();
    let out = run_python(&other, &[&archive]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "independent verifier trusts an unknown key"
    );
}

#[test]
fn python_verifier_checks_continuity() {
    let f = setup();
    let a1 = seal_to(&f.dir, "1.zip", &f.key, ORIGIN, None, &[fixture(K8S_LOG)]);
    let a2 = seal_to(
        &f.dir,
        "2.zip",
        &f.key,
        ORIGIN,
        Some(&a1),
        &[fixture(TELEPORT_LOG)],
    );
    let events = write_lines(
        &f.dir,
        "three.jsonl",
        &[r#"{"n":3}"#.to_string(), r#"{"n":4}"#.to_string()],
    );
    let a3 = seal_to(&f.dir, "3.zip", &f.key, ORIGIN, Some(&a2), &[events]);

    let out = run_python(&f.key, &[&a3, &a1, &a2]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "independent verifier rejects a continuous chain"
    );
    assert_eq!(stdout_lines(&out).len(), 3);

    let out = run_python(&f.key, &[&a1, &a3]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "independent verifier accepts a chain with a gap"
    );
    // Each archive is fine on its own: the failure is the set's.
    assert!(stdout_lines(&out).iter().all(|l| l.starts_with("OK ")));
}
