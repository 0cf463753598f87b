//! The CLI contract of the commands the other suites drive only in part: `check` (exit codes and the `--json`
//! document), `search --after/--limit` paging, `stats --top`, a gzipped CloudTrail file through `seal`, the
//! 1 GiB cap on a single JSON document, and the file mode of an exported bundle.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::*;

const K8S: &str = "example.com/prod/k8s";

/// A temporary directory with the `ops-prod` key (made by `keygen`), the real Kubernetes audit log sealed into
/// `k8s.zip` and imported into `s.db`.
struct Lab {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Lab {
    fn new() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let lab = Lab { _tmp: tmp, dir };
        ok(&auditlens(&[
            "keygen",
            "--name",
            "ops-prod",
            "--out",
            &lab.p(""),
        ]));
        let k8s = fixture(K8S_LOG);
        ok(&lab.seal("k8s.zip", K8S, &k8s));
        ok(&auditlens(&[
            "import",
            "--db",
            &lab.p("s.db"),
            "--trust",
            &lab.p("ops-prod.pub"),
            &lab.p("k8s.zip"),
        ]));
        lab
    }

    fn p(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn seal(&self, out: &str, origin: &str, input: &Path) -> Output {
        auditlens(&[
            "seal",
            "--key",
            &self.p("ops-prod.key"),
            "--origin",
            origin,
            "--out",
            &self.p(out),
            input.to_str().unwrap(),
        ])
    }
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", text(&o.stdout), text(&o.stderr)))
}

fn keys(v: &serde_json::Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn check_exits_zero_one_or_two_and_its_json_has_a_fixed_shape() {
    let lab = Lab::new();
    let (db, trust) = (lab.p("s.db"), lab.p("ops-prod.pub"));

    // 0: an untouched store.
    let o = auditlens(&["check", "--db", &db, "--trust", &trust, "--json"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let v = json(&o);
    assert_eq!(
        keys(&v),
        [
            "ok",
            "archives_checked",
            "events_checked",
            "problems",
            "notices",
            "trust_given"
        ]
    );
    assert_eq!(v["ok"], true);
    assert_eq!(v["archives_checked"], 1);
    assert_eq!(v["events_checked"], 37);
    assert_eq!(v["problems"], serde_json::json!([]));
    assert_eq!(v["trust_given"], true);
    let o = auditlens(&["check", "--db", &db, "--trust", &trust]);
    assert_eq!(code(&o), 0);
    assert!(
        text(&o.stdout).starts_with("OK: 1 archive, 37 events re-verified"),
        "{}",
        text(&o.stdout)
    );

    // 1: one stored event edited behind the tool's back.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let changed = conn
        .execute(
            "UPDATE events SET raw = replace(raw, 'admin', 'admln') WHERE idx = 0 AND raw LIKE '%admin%'",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);
    let o = auditlens(&["check", "--db", &db, "--trust", &trust, "--json"]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    let v = json(&o);
    assert_eq!(v["ok"], false);
    let problems = v["problems"].as_array().unwrap();
    assert!(!problems.is_empty(), "{v}");
    for p in problems {
        for k in keys(p) {
            assert!(
                ["archive_id", "origin", "sequence", "event_index", "message"].contains(&k),
                "{p}"
            );
        }
        assert!(p["message"].is_string(), "{p}");
    }
    assert!(
        problems
            .iter()
            .any(|p| p["origin"] == K8S && p["sequence"] == 1 && p["event_index"] == 0),
        "{v}"
    );
    let o = auditlens(&["check", "--db", &db, "--trust", &trust]);
    assert_eq!(code(&o), 1);
    assert!(text(&o.stdout).is_empty(), "{}", text(&o.stdout));

    // 2: no such database, and a usage error; nothing on stdout.
    for args in [
        vec!["check", "--db", &lab.p("none.db"), "--trust", &trust],
        vec!["check", "--db", &db, "--trust", &lab.p("none.pub")],
        vec!["check", "--db", &db, "--silence", "1h"],
    ] {
        let o = auditlens(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", text(&o.stderr));
        assert!(o.stdout.is_empty(), "{args:?}");
        assert!(!text(&o.stderr).contains("panicked"));
    }
}

/// The `id` of every JSON line of a `search --json` output.
fn ids_of(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn search_pages_with_after_and_limit_cover_every_event_once_newest_first() {
    let lab = Lab::new();
    let db = lab.p("s.db");
    let mut ids = Vec::new();
    let mut times = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let mut args = vec!["search", "--db", &db, "--json", "--limit", "10"];
        if let Some(a) = &after {
            args.extend(["--after", a]);
        }
        let out = ok(&auditlens(&args));
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let (events, next): (Vec<_>, Vec<_>) = lines.iter().partition(|l| l.get("next").is_none());
        pages.push(events.len());
        for e in &events {
            ids.push(e["id"].as_str().unwrap().to_string());
            times.push(e["time"].as_str().map(String::from));
        }
        match next.as_slice() {
            [] => break,
            [n] => {
                assert_eq!(keys(n), ["next"]);
                // The cursor line is the last line.
                assert_eq!(lines.last(), Some(*n));
                after = Some(n["next"].as_str().unwrap().to_string());
            }
            more => panic!("{} cursor lines", more.len()),
        }
    }
    assert_eq!(pages, [10, 10, 10, 7]);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 37);
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "not newest first");
    // The same pages as one page of 37.
    let out = ok(&auditlens(&[
        "search", "--db", &db, "--json", "--limit", "37",
    ]));
    let one = ids_of(&out);
    assert_eq!(one, ids);
    // --all: every match in one output, no cursor line; as CSV, a header and one record per event, provenance
    // included, in the same order.
    let out = ok(&auditlens(&[
        "search", "--db", &db, "--json", "--all", "--limit", "4",
    ]));
    let all = ids_of(&out);
    assert_eq!(all, ids);
    let out = ok(&auditlens(&["search", "--db", &db, "--csv", "--all"]));
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(
            "id,time,source,origin,actor,action,resource,outcome,category,ip,agent,env,stage,privilege,archive,sequence,index,verified"
        )
    );
    let records: Vec<&str> = lines.collect();
    let first_cells: Vec<&str> = records
        .iter()
        .map(|r| r.split(',').next().unwrap())
        .collect();
    assert_eq!(first_cells, ids);
    assert!(
        records
            .iter()
            .all(|r| r.ends_with(",true") || r.ends_with(",false"))
    );
    // One CSV page says where the next starts on stderr, out of the data.
    let o = auditlens(&["search", "--db", &db, "--csv", "--limit", "10"]);
    assert_eq!(code(&o), 0);
    assert_eq!(text(&o.stdout).lines().count(), 11);
    assert!(
        text(&o.stderr).starts_with("more results: --after "),
        "{}",
        text(&o.stderr)
    );
    // --all needs a format to print every match in; --csv and --json exclude each other.
    for args in [vec!["--all"], vec!["--csv", "--json"]] {
        let mut a = vec!["search", "--db", &db];
        a.extend(args.iter().copied());
        assert_eq!(code(&auditlens(&a)), 2, "{args:?}");
    }
    // A cursor that is not one is a usage error.
    let o = auditlens(&["search", "--db", &db, "--after", "not-a-cursor!", ""]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
}

#[test]
fn stats_top_cuts_the_top_actors_list() {
    // `--top 0` listed one actor before the fix (the list length was raised to at least 1).
    let lab = Lab::new();
    let db = lab.p("s.db");
    let all = json(&auditlens(&["stats", "--db", &db, "--json"]));
    let all_top = all["top_actors"].as_array().unwrap();
    assert!(all_top.len() > 2, "{all}");
    for n in [0usize, 1, 2] {
        let v = json(&auditlens(&[
            "stats",
            "--db",
            &db,
            "--json",
            "--top",
            &n.to_string(),
        ]));
        assert_eq!(
            v["top_actors"].as_array().unwrap().as_slice(),
            &all_top[..n]
        );
        assert_eq!(v["total"], all["total"]);
    }
    let o = auditlens(&["stats", "--db", &db, "--top", "x"]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
}

#[test]
fn a_gzipped_cloudtrail_file_seals_to_the_same_events_as_the_plain_file() {
    let lab = Lab::new();
    let plain = fixture(CLOUDTRAIL_LOG);
    let gz = lab.dir.join("records.json.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    enc.finish().unwrap();
    ok(&lab.seal("plain.zip", "aws/111122223333/trail", &plain));
    ok(&lab.seal("gz.zip", "aws/111122223333/trail", &gz));
    let v = auditlens(&[
        "verify",
        "--trust",
        &lab.p("ops-prod.pub"),
        "--json",
        &lab.p("gz.zip"),
    ]);
    assert_eq!(code(&v), 0, "{}", text(&v.stderr));
    let report = json(&v);
    assert_eq!(report["archives"][0]["events"], 19, "{report}");
    assert_eq!(
        report["archives"][0]["source_kind"], "cloudtrail",
        "{report}"
    );
    let events = |zip: &str| {
        read_entries(&lab.dir.join(zip))
            .into_iter()
            .filter(|(n, _)| n.starts_with("events/"))
            .collect::<Vec<_>>()
    };
    assert_eq!(events("gz.zip"), events("plain.zip"));
}

#[test]
fn a_single_json_document_over_one_gib_is_refused() {
    // `{"Records":[` and then spaces to one byte past 1 GiB, gzipped (about 1 MB on disk): the document is
    // read up to the cap and refused, never parsed.
    let lab = Lab::new();
    let gz = lab.dir.join("huge.json.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::io::BufWriter::new(std::fs::File::create(&gz).unwrap()),
        flate2::Compression::fast(),
    );
    let head = br#"{"Records":["#;
    enc.write_all(head).unwrap();
    let spaces = vec![b' '; 1 << 20];
    let mut left = auditlens::input::MAX_DOCUMENT_BYTES + 1 - head.len() as u64;
    assert_eq!(auditlens::input::MAX_DOCUMENT_BYTES, 1 << 30);
    while left > 0 {
        let n = left.min(spaces.len() as u64) as usize;
        enc.write_all(&spaces[..n]).unwrap();
        left -= n as u64;
    }
    enc.finish().unwrap();
    let on_disk = std::fs::metadata(&gz).unwrap().len();
    assert!(on_disk < 64 << 20, "{on_disk} bytes on disk");
    let o = lab.seal("huge.zip", "aws/111122223333/trail", &gz);
    let err = text(&o.stderr);
    assert_ne!(code(&o), 0, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("a single JSON document larger than 1073741824 bytes; use JSON Lines"),
        "{err}"
    );
    assert!(!lab.dir.join("huge.zip").exists(), "an archive was written");
}

#[test]
fn an_exported_bundle_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let lab = Lab::new();
    ok(&auditlens(&[
        "keygen",
        "--name",
        "auditor",
        "--out",
        &lab.p(""),
    ]));
    ok(&auditlens(&[
        "export",
        "--db",
        &lab.p("s.db"),
        "--query",
        "outcome:denied",
        "--key",
        &lab.p("auditor.key"),
        "--purpose",
        "INC-1: file mode",
        "--out",
        &lab.p("b.zip"),
    ]));
    let mode = std::fs::metadata(lab.dir.join("b.zip"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
}

/// The desktop app's content security policy, exactly: only its own scripts, styles, fonts and images (and
/// `data:` images), IPC as the only connection, no objects, frames, workers, base or form targets.
#[test]
fn the_app_content_security_policy_is_exactly_this() {
    let conf: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri/tauri.conf.json"))
            .unwrap(),
    )
    .unwrap();
    let csp = conf["app"]["security"]["csp"]
        .as_object()
        .expect("csp object");
    let text: Vec<String> = csp
        .iter()
        .map(|(k, v)| format!("{k} {}", v.as_str().unwrap()))
        .collect();
    assert_eq!(
        text.join("; "),
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
         connect-src ipc: http://ipc.localhost; object-src 'none'; base-uri 'none'; form-action 'none'; \
         frame-src 'none'; worker-src 'none'"
    );
    assert_eq!(conf["app"]["security"]["freezePrototype"], true);
    assert!(
        conf["app"]["security"]
            .get("dangerousDisableAssetCspModification")
            .is_none()
    );
}

/// The app's Syntax help (ui/src/components/QueryHelp.tsx) lists every field and keyword the query parser knows,
/// and docs/search.md names each of them.
#[test]
fn the_syntax_help_and_the_docs_list_every_name_the_parser_knows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let help = std::fs::read_to_string(root.join("ui/src/components/QueryHelp.tsx")).unwrap();
    let line = help
        .lines()
        .skip_while(|l| !l.starts_with("const FIELDS"))
        .nth(1)
        .unwrap();
    let listed: Vec<&str> = line
        .trim()
        .trim_matches(|c| c == '\'' || c == ';')
        .split(' ')
        .collect();
    let known = auditlens::query::known_names();
    assert_eq!(listed, known, "QueryHelp.tsx FIELDS");
    let docs = std::fs::read_to_string(root.join("docs/search.md")).unwrap();
    // The field table of section 4 names each in its first column.
    for name in known {
        assert!(
            docs.lines().any(|l| l.starts_with("| `")
                && l.split('|')
                    .nth(1)
                    .is_some_and(|c| c.contains(&format!("`{name}`")))),
            "docs/search.md's field table does not name `{name}`"
        );
    }
}
