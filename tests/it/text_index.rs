//! The full-text index as derived data (store/text_index.rs, docs/search.md section 3): what text search finds
//! (values, not keys; phrases inside one value), the same hits while the index lags as once it has caught up, an
//! index stopped midway or killed, and a store of the previous release migrated.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use auditlens::store::import::{ImportOptions, ImportOutcome};
use auditlens::store::sorted::{Sort, SortColumn};
use auditlens::store::{Store, text_index};
use auditlens::trust::TrustPolicy;

use crate::common::*;

const NOW: i64 = 1_900_000_000_000_000;

struct Lab {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    key: auditlens::note::SignerKey,
    db: PathBuf,
}

impl Lab {
    fn new() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        Lab {
            db: dir.join("store.db"),
            dir,
            key: key("ops"),
            _tmp: tmp,
        }
    }

    /// Seals `inputs` as the next archive of `origin` and imports it; the store is dropped after (its indexing
    /// thread stopped wherever it was) unless `finish`.
    fn import(&self, name: &str, origin: &str, inputs: &[PathBuf], finish: bool) {
        let archive = seal_to(&self.dir, name, &self.key, origin, None, inputs);
        let mut store = Store::open(&self.db).unwrap();
        let trusted = [self.key.verifier()];
        let r = store
            .import_archive(
                &archive,
                &ImportOptions {
                    trust: &TrustPolicy::from_keys(&trusted),
                    keep_failed: false,
                },
                &mut |_| true,
            )
            .unwrap();
        assert_eq!(r.outcome, ImportOutcome::Imported, "{}", r.message);
        if finish {
            store.finish_text_index(&mut |_| {}).unwrap();
        }
    }

    fn remove_index(&self) {
        let path = text_index::path_of(&self.db);
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }

    /// For each query: the matching events' stable ids, newest first, and the count.
    fn results(&self, queries: &[&str]) -> Vec<(String, Vec<String>, u64)> {
        let store = Store::open_read_only(&self.db).unwrap();
        queries
            .iter()
            .map(|q| {
                let page = store.search(q, 1000, None, NOW).unwrap();
                let ids = page.events.iter().map(|e| e.id.clone()).collect();
                (q.to_string(), ids, store.count(q, NOW).unwrap())
            })
            .collect()
    }

    /// For each query: the ids of pages read at offsets (a scrollbar dragged into the results), newest and oldest
    /// first, walked from either end (an empty query walks the index's own table of ids when the index holds
    /// every event).
    fn pages_at(&self, queries: &[&str]) -> Vec<Vec<String>> {
        let store = Store::open_read_only(&self.db).unwrap();
        let oldest_first = Sort {
            column: SortColumn::Time,
            ascending: true,
        };
        queries
            .iter()
            .map(|q| {
                let n = store.count(q, NOW).unwrap();
                let mut ids = Vec::new();
                for sort in [Sort::NEWEST_FIRST, oldest_first] {
                    for offset in [1, n / 2, n.saturating_sub(2)] {
                        for from_end_after in [0, u64::MAX] {
                            let at = store
                                .search_at_with(q, sort, offset, 3, NOW, from_end_after)
                                .unwrap();
                            ids.push(format!("{q:?} {sort:?} at {offset}:"));
                            ids.extend(at.events.iter().map(|e| e.id.clone()));
                        }
                    }
                }
                ids
            })
            .collect()
    }

    fn status(&self) -> text_index::TextIndexStatus {
        Store::open_read_only(&self.db)
            .unwrap()
            .text_index_status()
            .unwrap()
    }

    fn check_ok(&self) {
        let store = Store::open(&self.db).unwrap();
        let report = store.check(&[self.key.verifier()], &mut |_| true).unwrap();
        assert!(report.ok, "{:?}", report.problems);
    }
}

/// Events written for the word rules: values are text, keys are not, a phrase stays inside one value.
fn word_events(dir: &Path) -> PathBuf {
    write_lines(
        dir,
        "words.jsonl",
        &[
            r#"{"user":"alice","verb":"get","note":"kube system pods","n":4031}"#.to_string(),
            r#"{"user":"bob","tags":["x","y"],"escaped":"caf\u00e9 M\u00fcller","path":"a\/b"}"#
                .to_string(),
            r#"{"user":"carol","message":"Get out","flag":true,"nothing":null}"#.to_string(),
            r#"{"msg":"this names alice and the verb"}"#.to_string(),
        ],
    )
}

#[test]
fn text_is_the_words_of_values_and_phrases_stay_inside_one_value() {
    let lab = Lab::new();
    let events = word_events(&lab.dir);
    lab.import("w.zip", "example.com/words", &[events], true);
    let cases: &[(&str, u64)] = &[
        ("alice", 2),
        ("get", 2),
        ("\"kube system\"", 1),
        ("kube-system", 1),
        ("\"system pods\"", 1),
        ("\"pods 4031\"", 0),
        // A phrase that spans two values matches nothing (one value ends with alice, the next is get).
        ("\"alice get\"", 0),
        ("\"x y\"", 0),
        ("x", 1),
        ("4031", 1),
        // Words that only appear as keys, or as true/false/null, are not text: fields are searched as field:value.
        ("verb", 1),
        ("user", 0),
        ("tags", 0),
        ("true", 0),
        ("null", 0),
        // Escapes are decoded; accents fold.
        ("cafe", 1),
        ("muller", 1),
        ("\"a b\"", 1),
        ("u00e9", 0),
        ("get -alice", 1),
        ("alice OR carol", 3),
        ("\"kube sys\"*", 1),
    ];
    let queries: Vec<&str> = cases.iter().map(|(q, _)| *q).collect();
    let indexed = lab.results(&queries);
    assert_eq!(lab.status().pending_events, 0);
    for ((q, want), (_, _, found)) in cases.iter().zip(&indexed) {
        assert_eq!(found, want, "{q:?} with the index");
    }
    // The same hits with no index at all: every event is read.
    lab.remove_index();
    assert_eq!(lab.status().indexed_events, 0);
    assert_eq!(lab.results(&queries), indexed);
}

#[test]
fn searches_while_the_index_lags_find_what_the_complete_index_finds() {
    let lab = Lab::new();
    lab.import(
        "k8s.zip",
        "example.com/prod/k8s",
        &[fixture(K8S_LOG)],
        false,
    );
    lab.import(
        "ct.zip",
        "aws/111122223333/trail",
        &[fixture(CLOUDTRAIL_LOG)],
        false,
    );
    let words = word_events(&lab.dir);
    lab.import("w.zip", "example.com/words", &[words], false);
    let queries = [
        "",
        "alice",
        "kube-system",
        "\"kube system\"",
        "system*",
        "get -alice",
        "alice OR bob",
        "actor:alice OR ConsoleLogin",
        "-alice",
        "source:cloudtrail iam",
        "NOT (kube OR alice)",
    ];
    let db = lab.db.clone();
    let mut store = Store::open(&db).unwrap();
    store.finish_text_index(&mut |_| {}).unwrap();
    drop(store);
    let complete = lab.results(&queries);
    assert!(complete.iter().any(|(_, _, n)| *n > 0));
    let complete_at = lab.pages_at(&queries);

    // Start again from no index; stop the indexer once it has committed its first archive.
    lab.remove_index();
    let stop = AtomicBool::new(false);
    text_index::catch_up(&db, &stop, &mut |s| {
        if s.indexed_events > 0 && s.pending_archives < 3 {
            stop.store(true, Ordering::Relaxed);
        }
    })
    .unwrap();
    let midway = lab.status();
    assert!(
        midway.indexed_events > 0 && midway.pending_events > 0,
        "{midway:?}"
    );
    assert_eq!(lab.results(&queries), complete, "while the index lags");
    assert_eq!(lab.pages_at(&queries), complete_at, "while the index lags");
    lab.check_ok();

    // Restarted, it catches up; nothing changes.
    text_index::catch_up(&db, &AtomicBool::new(false), &mut |_| {}).unwrap();
    let done = lab.status();
    assert_eq!(done.pending_events, 0, "{done:?}");
    assert_eq!(
        done.indexed_events,
        Store::open_read_only(&db).unwrap().event_count().unwrap()
    );
    assert_eq!(lab.results(&queries), complete, "after catching up");
    assert_eq!(lab.pages_at(&queries), complete_at, "after catching up");
    lab.check_ok();
}

#[test]
fn an_index_replaced_events_are_forgotten_and_indexed_again() {
    // Re-normalizing replaces an archive's events under new ids: the index must not find them under the old ones.
    let lab = Lab::new();
    lab.import("k8s.zip", "example.com/prod/k8s", &[fixture(K8S_LOG)], true);
    let queries = ["alice", "kube-system", "-alice", "system*"];
    let before = lab.results(&queries);
    let mut store = Store::open(&lab.db).unwrap();
    let id = store.archives().unwrap()[0].id;
    let done = store
        .renormalize(id, auditlens::sources::SourceKind::Jsonl)
        .unwrap();
    assert!(done.changed);
    store.finish_text_index(&mut |_| {}).unwrap();
    drop(store);
    assert_eq!(lab.status().pending_events, 0);
    let counts = |r: &[(String, Vec<String>, u64)]| -> Vec<u64> { r.iter().map(|x| x.2).collect() };
    assert_eq!(counts(&lab.results(&queries)), counts(&before));
    lab.check_ok();
}

#[test]
fn a_store_put_back_from_an_older_copy_does_not_believe_the_newer_index() {
    // The same two archives in a store that never went back: what every search must find.
    let fresh = Lab::new();
    fresh.import("k8s.zip", "example.com/prod/k8s", &[fixture(K8S_LOG)], true);
    fresh.import(
        "ct.zip",
        "aws/111122223333/trail",
        &[fixture(CLOUDTRAIL_LOG)],
        true,
    );
    let queries = [
        "alice",
        "muller",
        "ConsoleLogin",
        "iam*",
        "-alice",
        "\"kube system\"",
    ];
    let want = fresh.results(&queries);

    let lab = Lab::new();
    lab.import("k8s.zip", "example.com/prod/k8s", &[fixture(K8S_LOG)], true);
    rusqlite::Connection::open(&lab.db)
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let copy = lab.dir.join("copy.db");
    std::fs::copy(&lab.db, &copy).unwrap();
    // A second archive (id 2) is imported and indexed; then the store file is put back, the index left as it is.
    let words = word_events(&lab.dir);
    lab.import("w.zip", "example.com/words", &[words], true);
    assert_eq!(lab.results(&["muller"])[0].2, 1);
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", lab.db.display()));
    }
    std::fs::copy(&copy, &lab.db).unwrap();
    // Another archive takes id 2. The index still says it holds archive 2 (the words): not believed.
    lab.import(
        "ct.zip",
        "aws/111122223333/trail",
        &[fixture(CLOUDTRAIL_LOG)],
        false,
    );
    let ids = |r: Vec<(String, Vec<String>, u64)>| -> Vec<(String, u64)> {
        r.into_iter().map(|(q, _, n)| (q, n)).collect()
    };
    assert_eq!(ids(lab.results(&queries)), ids(want.clone()));
    // Caught up (the index rebuilt), the same.
    let mut store = Store::open(&lab.db).unwrap();
    store.finish_text_index(&mut |_| {}).unwrap();
    drop(store);
    assert_eq!(lab.status().pending_events, 0);
    assert_eq!(ids(lab.results(&queries)), ids(want));
    lab.check_ok();
}

#[test]
fn killed_while_indexing_loses_nothing_and_the_index_catches_up() {
    use std::process::{Command, Stdio};
    let lab = Lab::new();
    let input = lab.dir.join("big.jsonl");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
        auditlens_bench::generate::write_k8s(&mut out, 30_000, 3, 1_700_000_000).unwrap();
    }
    let archive = seal_to(
        &lab.dir,
        "big.zip",
        &lab.key,
        "example.com/big",
        None,
        &[input],
    );
    let trust = lab.dir.join("ops.pub");
    std::fs::write(&trust, format!("{}\n", lab.key.verifier())).unwrap();
    let import = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_auditlens"));
        c.arg("import")
            .arg("--db")
            .arg(&lab.db)
            .arg("--trust")
            .arg(&trust)
            .arg(&archive)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    // The index file's lock held here while the rows are written: the live indexer gives up, and the import,
    // once the rows are committed, waits to index them. Released, then the import is killed as it indexes.
    lab.import("k8s.zip", "example.com/prod/k8s", &[fixture(K8S_LOG)], true);
    let blocker = rusqlite::Connection::open(text_index::path_of(&lab.db)).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut child = import().spawn().unwrap();
    let committed = || -> bool {
        rusqlite::Connection::open_with_flags(&lab.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|c| c.query_row("SELECT count(*) FROM archives", [], |r| r.get::<_, i64>(0)))
            .is_ok_and(|n| n == 2)
    };
    let start = std::time::Instant::now();
    while !committed() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before it was seen committed"
        );
        assert!(
            start.elapsed().as_secs() < 600,
            "the import never committed"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    blocker.execute_batch("ROLLBACK").unwrap();
    drop(blocker);
    std::thread::sleep(std::time::Duration::from_millis(20));
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = lab.status();
    assert!(
        killed.pending_events > 0,
        "the kill came after the indexing: {killed:?}"
    );
    assert_eq!(killed.indexed_events + killed.pending_events, 30_037);
    let queries = [
        "deployment*",
        "kube-system",
        "\"cannot list\"",
        "-platform",
        "platform OR payments",
    ];
    let lagging = lab.results(&queries);
    lab.check_ok();
    // The next import (nothing new to store) catches the index up.
    assert!(import().status().unwrap().success());
    let done = lab.status();
    assert_eq!((done.indexed_events, done.pending_events), (30_037, 0));
    assert_eq!(lab.results(&queries), lagging);
    lab.check_ok();
}

/// `Store::count` answers from index lists (their intersection, or the shortest one's events) where a query has
/// two or more indexed conditions, and from the summary tables for a drill-down: always exactly as many as the
/// events the query matches, with the text index complete or missing.
#[test]
fn counts_from_index_lists_and_summaries_equal_the_matching_events() {
    let lab = Lab::new();
    let k8s = lab.dir.join("k8s.jsonl");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&k8s).unwrap());
        auditlens_bench::generate::write_k8s(&mut out, 24_000, 8, 1_700_000_000).unwrap();
    }
    let ct = lab.dir.join("ct.jsonl");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&ct).unwrap());
        auditlens_bench::generate::write_cloudtrail(&mut out, 6_000, 9, 1_700_000_000).unwrap();
    }
    lab.import("k8s.zip", "example.com/prod/k8s", &[k8s], true);
    lab.import("ct.zip", "aws/111122223333/trail", &[ct], true);
    let queries = [
        // Long lists intersected (over 2,000 events each), with and without a rest.
        "env:payments deployments",
        "env:payments category:access",
        "category:access outcome:denied -actor:system:anonymous",
        "platform deployments",
        "env:payments platform after:2023-11-14T22:20:00Z",
        "ENV:Payments CATEGORY:access outcome:DENIED platform",
        // Excluded lists subtracted, or too long and read as conditions on the events.
        "env:payments category:access -actor:system:anonymous",
        "env:payments platform -actor:alice@example.com -ACTION:get",
        "env:payments platform -actor:alice@example.com after:2023-11-14T22:20:00Z",
        "env:payments platform -outcome:success",
        "env:payments platform -env:payments",
        // A short list filtered by the whole query.
        "actor:carol@example.com action:delete",
        "actor:carol@example.com action:delete -env:payments",
        "action:sts:AssumeRole source:cloudtrail actor:*",
        "\"cannot list resource\" env:kube-system",
        // Lists of source, stage (a partial index: the events without one are in no list) and their exclusions.
        "source:cloudtrail action:sts:AssumeRole",
        "stage:ResponseComplete env:payments",
        "source:k8s env:payments -stage:RequestReceived",
        "env:payments category:access -stage:RequestReceived",
        "source:k8s platform -source:cloudtrail",
        // One list empty.
        "env:payments actor:nobody-at-all",
        "env:payments zzzznotaword",
        // Drill-downs (summary tables) and queries of no such shape.
        "category:deployment -stage:RequestReceived -stage:ResponseStarted status:verified",
        "category:access -stage:RequestReceived -stage:ResponseStarted env:payments after:2023-11-14T22:17:00Z",
        "env:payments OR category:access",
        "deployments",
    ];
    let compare = |when: &str| {
        let store = Store::open(&lab.db).unwrap();
        let mut nonzero = 0;
        for q in queries {
            let (count, events) = (
                store.count(q, NOW).unwrap(),
                store.count_events(q, NOW).unwrap(),
            );
            assert_eq!(count, events, "{when}: {q}");
            nonzero += usize::from(count > 0);
        }
        assert!(nonzero >= queries.len() - 3, "{when}: {nonzero} nonzero");
    };
    compare("text index complete");
    assert_eq!(lab.status().pending_events, 0);
    lab.remove_index();
    compare("no text index");
    assert!(lab.status().pending_events > 0);
}

/// `json.MEMBER:value` is answered through the full-text index when only a string can equal the value (the value's
/// words then lie in one of the event's values), or when the value is an integer in digits (a number member then
/// reads as that text only when written so), or a prefix only a string can start with: the same events as reading
/// every event's JSON, with the index complete, lagging or absent; escapes, ASCII case, nesting, arrays, numbers spelled otherwise, numbers too large
/// for 64 bits and true/false included.
#[test]
fn a_member_value_is_found_through_its_words_exactly_as_by_reading_every_event() {
    let lab = Lab::new();
    let lines = [
        r#"{"a":"ConsoleLogin"}"#,
        r#"{"a":"consolelogin","b":"x"}"#,
        r#"{"a":"Cons\u006fleLogin"}"#,
        r#"{"a":"Console Login"}"#,
        r#"{"b":{"a":"ConsoleLogin"}}"#,
        r#"{"a":1e5}"#,
        r#"{"a":true}"#,
        r#"{"a":"Müller"}"#,
        r#"{"a":"MÜLLER"}"#,
        r#"{"a":["ConsoleLogin"]}"#,
        r#"{"note":"ConsoleLogin","a":"other"}"#,
        r#"{"c":403}"#,
        r#"{"c":"403"}"#,
        r#"{"c":403.0}"#,
        r#"{"c":4.03e2}"#,
        r#"{"c":-403}"#,
        r#"{"c":"\u0034\u00303"}"#,
        r#"{"c":[403]}"#,
        r#"{"d":{"c":403},"c":"x"}"#,
        r#"{"c":9223372036854775808}"#,
        r#"{"c":-0}"#,
        r#"{"u":"curl/7.68.0"}"#,
        r#"{"u":"Curl"}"#,
        r#"{"u":"libcurl"}"#,
        r#"{"u":true}"#,
        r#"{"u":{"curl":"x"}}"#,
        r#"{"u":"\u0063url/8"}"#,
    ];
    let file = write_lines(
        &lab.dir,
        "members.jsonl",
        &lines.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
    );
    lab.import("m.zip", "example.com/members", &[file], false);
    let expected: [(&str, &[u64]); 18] = [
        ("json.u:curl*", &[21, 22, 26]),
        ("json.u:CURL/7*", &[21]),
        ("json.u:tr*", &[24]),
        ("json.u:{*", &[25]),
        ("json.c:403", &[11, 12, 16]),
        ("json.c:-403", &[15]),
        ("json.c:9223372036854775808", &[]),
        ("json.c:0", &[20]),
        ("json.c:403.0", &[13, 14]),
        ("json.a:ConsoleLogin", &[0, 1, 2]),
        ("json.a:\"Console Login\"", &[3]),
        ("json.b.a:consolelogin", &[4]),
        ("json.a:100000.0", &[5]),
        ("json.a:true", &[6]),
        ("json.a:Müller", &[7]),
        ("json.a:müller", &[7]),
        ("json.a:other", &[10]),
        ("json.a:ConsoleLogin json.note:*", &[]),
    ];
    let check = |when: &str| {
        let store = Store::open_read_only(&lab.db).unwrap();
        for (q, want) in expected {
            let mut got: Vec<u64> = store
                .search(q, 100, None, NOW)
                .unwrap()
                .events
                .iter()
                .map(|e| e.index)
                .collect();
            got.sort_unstable();
            assert_eq!(got, want, "{q} ({when})");
            assert_eq!(
                store.count(q, NOW).unwrap(),
                want.len() as u64,
                "{q} ({when})"
            );
            let not = format!("-({q})");
            assert_eq!(
                store.count(&not, NOW).unwrap(),
                (lines.len() - want.len()) as u64,
                "{not} ({when})"
            );
        }
    };
    check("no index yet");
    let mut store = Store::open(&lab.db).unwrap();
    store.finish_text_index(&mut |_| {}).unwrap();
    drop(store);
    check("index complete");
    // Which terms the index answers: the value's words beside the member condition (store/resolve.rs).
    let store = Store::open_read_only(&lab.db).unwrap();
    let through_index = |q: &str| {
        use auditlens::query::{Query, parse};
        let resolved =
            auditlens::store::resolve::resolve(store.connection(), parse(q).unwrap(), NOW).unwrap();
        matches!(&resolved, Query::And(items) if matches!(items.first(), Some(Query::Text { .. })))
    };
    for q in [
        "json.c:403",
        "json.c:-403",
        "json.a:ConsoleLogin",
        "json.u:curl*",
        "json.u:CURL/7*",
    ] {
        assert!(through_index(q), "{q} should be asked of the index");
    }
    for q in [
        "json.c:403.0",
        "json.a:true",
        "json.c:*403*",
        "json.c:40*",
        "json.u:tr*",
        "json.u:{*",
        "json.u:*",
    ] {
        assert!(!through_index(q), "{q} should not be asked of the index");
    }
    drop(store);
    lab.remove_index();
    check("index removed");
}
