//! Whose rules made the fields (issue 11, attack 8; docs/sources.md "Whose rules"): a producer's signed mapping
//! file that calls a 403 a success, or Kubernetes events sealed as `--format jsonl`, leaves `outcome:denied` empty.
//! `verify`, `import`, the store and the dashboards name the rules in effect, and the auditor re-normalizes with a
//! built-in mapper (`import --as k8s`) without touching the verified bytes: the denials come back, `check`
//! passes, the leaves and root are unchanged.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::*;
use auditlens::sources::NormalizedBy;
use auditlens::store::Store;
use auditlens::store::stats::{DashboardOptions, Scope};

/// A mapping file a producer could sign: Kubernetes audit events, where HTTP 403 is listed as a success.
const FRIENDLY_MAPPING: &str = r#"version = 1
name = "k8s-friendly"
[fields]
time = ["/stageTimestamp", "/timestamp"]
actor = ["/user/username"]
action = ["/verb"]
resource = ["/objectRef/resource"]
outcome = ["/responseStatus/code"]
stage = ["/stage"]
[outcomes]
success = ["200", "201", "403"]
failure = ["500"]
"#;

const ORIGIN: &str = "example.com/prod/k8s";
const NOW: i64 = 1_800_000_000_000_000;

/// The denials of the fixture, counted by hand from its bytes: the lines whose response code is 403 (every
/// event of this log is at stage ResponseComplete, so each one counts).
fn denials_by_hand(log: &Path) -> u64 {
    let data = std::fs::read_to_string(log).unwrap();
    assert!(!data.contains("\"code\":401"));
    assert!(!data.contains("RequestReceived") && !data.contains("ResponseStarted"));
    data.lines().filter(|l| l.contains("\"code\":403")).count() as u64
}

struct Lab {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

/// Events as (index, leaf, raw) and the archives' roots.
type StoredBytes = (Vec<(i64, Vec<u8>, String)>, Vec<Vec<u8>>);

impl Lab {
    fn new() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        ok(&auditlens(&[
            "keygen",
            "--name",
            "producer",
            "--out",
            dir.to_str().unwrap(),
        ]));
        std::fs::write(dir.join("friendly.toml"), FRIENDLY_MAPPING).unwrap();
        Lab { _tmp: tmp, dir }
    }

    fn p(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn seal(&self, out: &str, extra: &[&str]) -> String {
        let key = self.p("producer.key");
        let out = self.p(out);
        let log = fixture(K8S_LOG).display().to_string();
        let mut args = vec!["seal", "--key", &key, "--origin", ORIGIN, "--out", &out];
        args.extend(extra);
        args.push(&log);
        ok(&auditlens(&args));
        out
    }

    fn import(&self, archive: &str, extra: &[&str]) -> Output {
        let db = self.p("store.db");
        let key = self.p("producer.pub");
        let mut args = vec!["import", "--db", &db, "--trust", &key];
        args.extend(extra);
        args.push(archive);
        auditlens(&args)
    }

    fn check(&self) -> Output {
        let db = self.p("store.db");
        let key = self.p("producer.pub");
        auditlens(&["check", "--db", &db, "--trust", &key])
    }

    fn store(&self) -> Store {
        Store::open(&self.dir.join("store.db")).unwrap()
    }

    fn denied(&self) -> u64 {
        self.store().count("outcome:denied", NOW).unwrap()
    }

    /// Every event's (index, leaf) and every archive's root, as stored.
    fn verified_bytes(&self) -> StoredBytes {
        let store = self.store();
        let c = store.connection();
        let events = c
            .prepare("SELECT idx, leaf, raw FROM events ORDER BY archive_id, idx")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let roots = c
            .prepare("SELECT root FROM archives ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        (events, roots)
    }
}

fn mapping_sha(lab: &Lab) -> String {
    auditlens::sources::normalization::mapping_sha256(
        &std::fs::read(lab.dir.join("friendly.toml")).unwrap(),
    )
}

#[test]
fn a_producer_mapping_that_calls_403_a_success_is_named_and_overridden_by_the_auditor() {
    let lab = Lab::new();
    let log = fixture(K8S_LOG);
    let real = denials_by_hand(&log);
    assert_eq!(real, 11);
    let archive = lab.seal("friendly.zip", &["--mapping", &lab.p("friendly.toml")]);
    let sha = mapping_sha(&lab);

    // verify names the producer's rules, with the mapping file's SHA-256 (human and JSON).
    let key = lab.p("producer.pub");
    let out = ok(&auditlens(&["verify", "--trust", &key, &archive]));
    assert!(
        out.contains(&format!(
            "  normalization: producer's mapping file sha256 {sha} (producer rules)\n"
        )),
        "{out}"
    );
    let json: serde_json::Value = serde_json::from_str(&ok(&auditlens(&[
        "verify", "--json", "--trust", &key, &archive,
    ])))
    .unwrap();
    let n = &json["archives"][0]["normalization"];
    assert_eq!(n["by"], "producer_mapping");
    assert_eq!(n["mapping_sha256"], sha.as_str());

    // Imported under the producer's rules: no denial at all, and the dashboards say whose rules they show.
    let out = ok(&lab.import(&archive, &[]));
    assert!(
        out.contains(&format!(
            "normalization: producer's mapping file sha256 {sha} (producer rules)"
        )),
        "{out}"
    );
    assert_eq!(lab.denied(), 0);
    let before = lab.verified_bytes();
    let store = lab.store();
    let opts = DashboardOptions::default();
    let access = store.access(&Scope::default(), &opts, NOW).unwrap();
    assert_eq!(access.denied.count, 0);
    assert_eq!(access.producer_rules.len(), 1);
    assert_eq!(access.producer_rules[0].sequence, Some(1));
    assert_eq!(
        access.producer_rules[0].reason.as_deref(),
        Some(format!("producer's mapping file sha256 {sha} (producer rules)").as_str())
    );
    let overview = store.overview(&Scope::default(), &opts, NOW).unwrap();
    assert_eq!(overview.producer_rules.len(), 1);
    let rows = store.archives().unwrap();
    assert_eq!(
        rows[0].normalization.as_ref().map(|n| n.by),
        Some(NormalizedBy::ProducerMapping)
    );
    drop(store);
    ok(&lab.check());
    let stats = ok(&auditlens(&["stats", "--db", &lab.p("store.db")]));
    assert!(
        stats.contains(&format!(
            "fields of 1 archive come from the producer's mapping file (re-normalize with import --as KIND):\n  {ORIGIN}@1 producer's mapping file sha256 {sha} (producer rules)\n"
        )),
        "{stats}"
    );

    // The auditor's choice: re-importing the same archive with --as k8s re-normalizes the stored events.
    let out = ok(&lab.import(&archive, &["--as", "k8s"]));
    let expected = format!(
        "auditor's choice: built-in k8s mapper (k8s/2) (overrides the producer's mapping file sha256 {sha})"
    );
    assert!(out.contains("re-normalized"), "{out}");
    assert!(out.contains(&expected), "{out}");
    assert_eq!(lab.denied(), real);
    assert_eq!(
        lab.verified_bytes(),
        before,
        "the verified bytes never change"
    );
    let store = lab.store();
    let access = store.access(&Scope::default(), &opts, NOW).unwrap();
    assert_eq!(access.denied.count, real, "the summary tables follow");
    assert!(access.producer_rules.is_empty());
    let stats = ok(&auditlens(&["stats", "--db", &lab.p("store.db")]));
    assert!(!stats.contains("producer's mapping file"), "{stats}");
    assert_eq!(
        store.archives().unwrap()[0]
            .normalization
            .as_ref()
            .map(|n| n.text.clone()),
        Some(expected.clone())
    );
    let id = store.newest("outcome:denied", 1, NOW).unwrap().remove(0).id;
    let detail = store.event(&id).unwrap().unwrap();
    assert_eq!(detail.normalization.map(|n| n.text), Some(expected.clone()));
    drop(store);
    // `check` passes, and says whose rules made the fields (review finding, 2026-12-08: whoever hands over the
    // store may have chosen them; it said nothing).
    let checked = lab.check();
    let said = String::from_utf8_lossy(&checked.stdout).into_owned()
        + &String::from_utf8_lossy(&checked.stderr);
    ok(&checked);
    assert!(
        said.contains(&format!(
            "are derived by {expected}, not by the rules its signed source kind names"
        )),
        "{said}"
    );

    // Again: nothing to do.
    let out = ok(&lab.import(&archive, &["--as", "k8s"]));
    assert!(out.contains("nothing changed"), "{out}");
    assert_eq!(lab.denied(), real);
}

#[test]
fn k8s_events_sealed_as_jsonl_show_the_jsonl_mapper_and_as_k8s_restores_the_denials() {
    let lab = Lab::new();
    let real = denials_by_hand(&fixture(K8S_LOG));
    let archive = lab.seal("as-jsonl.zip", &["--format", "jsonl"]);
    let key = lab.p("producer.pub");
    let out = ok(&auditlens(&["verify", "--trust", &key, &archive]));
    assert!(
        out.contains("  normalization: built-in jsonl mapper (jsonl/2)\n"),
        "{out}"
    );

    ok(&lab.import(&archive, &[]));
    assert_eq!(lab.denied(), 0);
    let before = lab.verified_bytes();
    ok(&lab.check());

    let out = ok(&lab.import(&archive, &["--as", "k8s"]));
    assert!(
        out.contains(
            "auditor's choice: built-in k8s mapper (k8s/2) (overrides the producer's jsonl)"
        ),
        "{out}"
    );
    assert_eq!(lab.denied(), real);
    assert_eq!(lab.verified_bytes(), before);
    // Event times now come from the Kubernetes rules, and their ids follow (check re-derives both).
    ok(&lab.check());
    assert_eq!(lab.store().count("source:k8s", NOW).unwrap(), 37);
}

#[test]
fn importing_with_as_stores_the_auditor_choice_in_one_pass() {
    let lab = Lab::new();
    let real = denials_by_hand(&fixture(K8S_LOG));
    let archive = lab.seal("friendly.zip", &["--mapping", &lab.p("friendly.toml")]);
    let out = ok(&lab.import(&archive, &["--as", "k8s"]));
    assert!(out.contains("verified and imported 37 events"), "{out}");
    assert!(
        out.contains("auditor's choice: built-in k8s mapper (k8s/2)"),
        "{out}"
    );
    assert_eq!(lab.denied(), real);
    ok(&lab.check());
}

#[test]
fn as_takes_only_a_built_in_mapper() {
    let lab = Lab::new();
    let archive = lab.seal("k.zip", &[]);
    let o = lab.import(&archive, &["--as", "mapping"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("not a built-in mapper"));
    let o = lab.import(&archive, &["--as", "K8S"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn check_names_a_normalization_edited_in_the_database() {
    let lab = Lab::new();
    let archive = lab.seal("friendly.zip", &["--mapping", &lab.p("friendly.toml")]);
    ok(&lab.import(&archive, &[]));
    // Claiming the auditor's k8s rules while the fields are the producer's: check re-derives under the claim.
    lab.store()
        .connection()
        .execute("UPDATE archives SET normalization = 'auditor:k8s/1'", [])
        .unwrap();
    let o = lab.check();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("stored outcome"),
        "{}",
        text(&o.stderr)
    );
    // A version of a mapper this AuditLens does not have.
    lab.store()
        .connection()
        .execute("UPDATE archives SET normalization = 'k8s/0'", [])
        .unwrap();
    let o = lab.check();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("stored normalization: normalization \"k8s/0\""),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn renormalize_refuses_stored_bytes_that_do_not_reverify() {
    let lab = Lab::new();
    let archive = lab.seal("j.zip", &["--format", "jsonl"]);
    ok(&lab.import(&archive, &[]));
    let mut store = lab.store();
    store
        .connection()
        .execute(
            "UPDATE events SET raw = replace(raw, 'bob', 'eve') WHERE idx = 0",
            [],
        )
        .unwrap();
    let err = store
        .renormalize(1, auditlens::sources::SourceKind::K8s)
        .unwrap_err()
        .to_string();
    assert!(err.contains("do not re-verify"), "{err}");
    assert_eq!(lab.denied(), 0, "nothing changed");
}

#[test]
fn a_store_made_before_normalization_was_recorded_is_backfilled_from_the_signed_kind() {
    use auditlens::store::schema::{MIGRATIONS, migrate_to};
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("old.db");
    let mine = MIGRATIONS
        .iter()
        .position(|m| m.contains("ADD COLUMN normalization"))
        .unwrap() as i64;
    let mapping = FRIENDLY_MAPPING.as_bytes();
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        migrate_to(&mut conn, mine).unwrap();
        for (kind, map) in [
            ("jsonl", None),
            ("k8s", None),
            ("mapping", Some(mapping)),
            ("mapping", None),
        ] {
            conn.execute(
                "INSERT INTO archives (path, status, source_kind, mapping, imported_at, origin, sequence)
                 VALUES ('a.zip', 'failed', ?1, ?2, '2026-01-01T00:00:00Z', 'o', 1)",
                rusqlite::params![kind, map],
            )
            .unwrap();
        }
    }
    let store = Store::open(&path).unwrap();
    let texts: Vec<Option<String>> = store
        .archives()
        .unwrap()
        .into_iter()
        .map(|a| a.normalization.map(|n| n.text))
        .collect();
    let sha = auditlens::sources::normalization::mapping_sha256(mapping);
    assert_eq!(
        texts,
        vec![
            Some("built-in jsonl mapper (jsonl/1)".to_owned()),
            Some("built-in k8s mapper (k8s/1)".to_owned()),
            Some(format!(
                "producer's mapping file sha256 {sha} (producer rules)"
            )),
            None,
        ]
    );
}

/// An exported bundle says, per archive, whose rules made the normalized fields it reports: here the producer's
/// mapping file by its SHA-256, in report.json and report.html; both verifiers derive the same text from the
/// signed manifest, and a report that names other rules fails (tests/bundle.rs).
#[test]
fn a_bundle_names_the_producer_mapping_that_made_its_fields() {
    let lab = Lab::new();
    let archive = lab.seal("friendly.zip", &["--mapping", &lab.p("friendly.toml")]);
    let sha = mapping_sha(&lab);
    ok(&lab.import(&archive, &[]));
    ok(&auditlens(&[
        "keygen",
        "--name",
        "auditor",
        "--out",
        lab.dir.to_str().unwrap(),
    ]));
    let bundle = lab.p("bundle.zip");
    ok(&auditlens(&[
        "export",
        "--db",
        &lab.p("store.db"),
        "--key",
        &lab.p("auditor.key"),
        "--purpose",
        "whose rules",
        "--out",
        &bundle,
        "--query",
        "action:get",
    ]));
    let entries = read_entries(Path::new(&bundle));
    let member = |name: &str| entries.iter().find(|(n, _)| n == name).unwrap().1.clone();
    let report: serde_json::Value = serde_json::from_slice(&member("report.json")).unwrap();
    let rules = format!("producer's mapping file sha256 {sha} (producer rules)");
    assert_eq!(report["archives"][0]["normalization"], rules.as_str());
    assert_eq!(report["archives"][0]["source_kind"], "mapping");
    let html = String::from_utf8(member("report.html")).unwrap();
    assert!(
        html.contains(&format!(
            "<dt>Fields by</dt><dd>producer&#39;s mapping file sha256 {sha} (producer rules)</dd>"
        )),
        "{}",
        &html[html.find("Fields by").unwrap_or(0)..][..300.min(html.len())]
    );
    ok(&auditlens(&[
        "verify-bundle",
        "--trust",
        &lab.p("producer.pub"),
        &bundle,
    ]));
    let producer = std::fs::read_to_string(lab.p("producer.pub")).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/verify_bundle.py");
    let o = std::process::Command::new("python3")
        .arg(script)
        .args(["--trust", producer.trim(), &bundle])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
}
