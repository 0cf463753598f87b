//! Look-alike origins (issue 11, attack 4): origins are compared exactly, byte for byte; origins that differ only
//! in case, Unicode normalization (NFC/NFD) or invisible characters are flagged by `verify`, `import` and the
//! store (`Store::lookalike_origins`, for the app), and `origin:` search never mixes them.

use std::path::{Path, PathBuf};
use std::process::Output;

use auditlens::safe_text::LookalikeGroup;
use auditlens::store::Store;

use crate::common::*;

const GENUINE: &str = "example.com/prod/k8s";
const CASE: &str = "Example.com/prod/k8s";
const ZERO_WIDTH: &str = "example.com/prod\u{200B}/k8s";
const ZERO_WIDTH_SHOWN: &str = "example.com/prod\\u{200b}/k8s";
const NFC: &str = "caf\u{E9}.example/k8s";
const NFD: &str = "cafe\u{301}.example/k8s";

struct Env {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    trusted_pub: String,
    /// Sealed by the trusted key, one per origin.
    genuine: String,
    case: String,
    zero_width: String,
    nfc: String,
    nfd: String,
    /// [`NFC`], sealed by a key nobody trusts.
    untrusted_nfc: String,
}

impl Env {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let k = key("ops-prod");
        let stranger = key("stranger");
        let trusted_pub = dir.join("ops-prod.pub");
        std::fs::write(&trusted_pub, format!("{}\n", k.verifier())).unwrap();
        let log = [fixture(K8S_LOG)];
        let seal = |out: &str, key, origin| {
            seal_to(&dir, out, key, origin, None, &log)
                .display()
                .to_string()
        };
        Env {
            trusted_pub: trusted_pub.display().to_string(),
            genuine: seal("genuine.zip", &k, GENUINE),
            case: seal("case.zip", &k, CASE),
            zero_width: seal("zero-width.zip", &k, ZERO_WIDTH),
            nfc: seal("nfc.zip", &k, NFC),
            nfd: seal("nfd.zip", &k, NFD),
            untrusted_nfc: seal("untrusted-nfc.zip", &stranger, NFC),
            dir,
            _tmp: tmp,
        }
    }
    fn db(&self) -> String {
        self.dir.join("s.db").display().to_string()
    }
    fn import(&self, extra: &[&str], archives: &[&str]) -> Output {
        let db = self.db();
        let mut args = vec!["import", "--db", &db, "--trust", &self.trusted_pub];
        args.extend_from_slice(extra);
        args.extend_from_slice(archives);
        auditlens(&args)
    }
}

fn events_of(path: &str) -> u64 {
    verify_with(Path::new(path), &[]).events.unwrap()
}

#[test]
fn verify_flags_look_alike_origins_without_changing_the_verdict() {
    let e = Env::new();
    let o = auditlens(&[
        "verify",
        "--trust",
        &e.trusted_pub,
        &e.genuine,
        &e.zero_width,
        &e.case,
        &e.nfc,
        &e.nfd,
    ]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    // Every archive verified and every chain is continuous: the exit code stays 0 (docs/trust-policy.md).
    assert_eq!(code(&o), 0, "{out}\n{err}");
    assert!(
        out.contains(&format!("origin {ZERO_WIDTH_SHOWN}: sequences 1..1")),
        "{out}"
    );
    assert!(!err.contains('\u{200B}') && !out.contains('\u{200B}'));
    assert!(
        err.contains(&format!(
            "WARNING: origins \"{CASE}\" and \"{GENUINE}\" and \"{ZERO_WIDTH_SHOWN}\" look alike: they differ \
             only in case, Unicode form or invisible characters\n"
        )),
        "{err}"
    );
    assert!(
        err.contains(
            "WARNING: origins \"cafe\u{301}.example/k8s\" and \"caf\u{E9}.example/k8s\" look alike"
        ),
        "{err}"
    );

    let o = auditlens(&[
        "verify",
        "--json",
        "--trust",
        &e.trusted_pub,
        &e.genuine,
        &e.case,
        &e.nfd,
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["lookalikes"],
        serde_json::json!([{ "skeleton": GENUINE, "origins": [CASE, GENUINE] }])
    );
    // No look-alike: an empty list.
    let o = auditlens(&["verify", "--json", "--trust", &e.trusted_pub, &e.genuine]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["lookalikes"], serde_json::json!([]));
}

#[test]
fn import_flags_look_alikes_of_stored_origins_and_of_the_same_run() {
    let e = Env::new();
    let o = e.import(&["--json"], &[&e.genuine]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["lookalikes"], serde_json::json!([]));

    // Against the store: imported (the origin is another log), with a warning naming the stored origin.
    let o = e.import(&[], &[&e.zero_width]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(code(&o), 0, "{out}\n{err}");
    assert!(
        out.contains(&format!("[{ZERO_WIDTH_SHOWN} sequence 1]")),
        "{out}"
    );
    assert!(
        err.contains(&format!(
            "WARNING: origin \"{ZERO_WIDTH_SHOWN}\" looks like \"{GENUINE}\" (stored or given in this run)"
        )),
        "{err}"
    );
    let o = e.import(&["--json"], &[&e.case]);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["outcome"], "imported");
    assert_eq!(r["lookalikes"], serde_json::json!([GENUINE, ZERO_WIDTH]));

    // In the same run: the untrusted NFC archive is refused and not stored; the NFD one after it is flagged.
    let o = e.import(&["--json"], &[&e.untrusted_nfc, &e.nfd]);
    assert_eq!(code(&o), 1);
    let lines: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["outcome"], "untrusted");
    assert_eq!(lines[0]["stored"], false);
    assert_eq!(lines[1]["outcome"], "imported");
    assert_eq!(lines[1]["lookalikes"], serde_json::json!([NFC]));

    // The store lists its look-alike groups for the app (the NFC origin was never stored).
    let store = Store::open(Path::new(&e.db())).unwrap();
    assert_eq!(
        store.lookalike_origins().unwrap(),
        vec![LookalikeGroup {
            skeleton: GENUINE.into(),
            origins: vec![CASE.into(), GENUINE.into(), ZERO_WIDTH.into()],
        }]
    );
    assert_eq!(
        store.lookalikes_of(ZERO_WIDTH).unwrap(),
        vec![CASE.to_string(), GENUINE.into()]
    );
    drop(store);

    // origin: finds one exact origin's events only.
    let n = events_of(&e.genuine);
    for origin in [GENUINE, CASE, ZERO_WIDTH, NFD] {
        let o = auditlens(&[
            "search",
            "--db",
            &e.db(),
            "--count",
            &format!("origin:\"{origin}\""),
        ]);
        assert_eq!(text(&o.stdout).trim(), n.to_string(), "{origin:?}");
    }
    let o = auditlens(&["search", "--db", &e.db(), "--count", "origin:example.com/*"]);
    assert_eq!(text(&o.stdout).trim(), (2 * n).to_string());
}
