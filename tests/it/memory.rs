//! Memory bounded by bytes (issue 11, attack 6): an archive of 120 events of 16 MiB each (the longest line the
//! format allows; 2 GB of events in a 19 MB archive) is sealed with our own `seal`, then imported by the real
//! binary:
//!
//! - signed by a key that is not trusted, without `--keep-failed`: refused once its checkpoint is read, before
//!   any event is stored (exit 1, outcome untrusted, less than 1 MB written to the database and its WAL);
//! - trusted: imported whole within 300 MB of peak resident memory; then exported as OCSF Parquet
//!   (`export-parquet`) within the same 300 MB.
//!
//! A second archive holds its 16 MiB strings in the `actor` field, which the store also writes to its actor
//! index and to both summary tables: imported within the same 300 MB.
//!
//! Peak memory is the importing process's own `ru_maxrss` (`common::auditlens_peak_rss`: started and reaped by
//! a small Python fork/exec wrapper, so neither this test binary's memory nor another test's child counts; the
//! sealing runs in this process, not in a child). It needs nothing installed on a fresh Debian beyond python3
//! (no `/usr/bin/time`); `ru_maxrss` is in KiB on Linux.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{auditlens, auditlens_peak_rss, ok, text};

use auditlens::archive::MAX_EVENT_BYTES;
use auditlens::seal::{SealOptions, seal};

const EVENTS: usize = 120;
const PEAK_LIMIT_BYTES: u64 = 300 * 1000 * 1000;

/// A gzip input of `events` JSON Lines events of exactly `MAX_EVENT_BYTES` bytes each: a time, a number and one
/// big string in `field` (a run of one letter, so the archive stays small), plus an actor `mallory` unless the
/// big string is the actor. `seal` reads gzip inputs; nothing of gigabytes is written to disk.
fn write_input(path: &Path, events: usize, field: &str) {
    let file = std::fs::File::create(path).unwrap();
    let mut gz =
        flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
    let filler = vec![b'x'; 1 << 20];
    let actor = if field == "actor" {
        ""
    } else {
        r#""actor":"mallory","#
    };
    for i in 0..events {
        let head = format!(
            r#"{{"time":"2024-06-01T00:{:02}:{:02}Z",{actor}"n":{i},"{field}":"needle{i} "#,
            i / 60,
            i % 60
        );
        let tail = br#""}"#;
        let mut fill = MAX_EVENT_BYTES - head.len() - tail.len();
        gz.write_all(head.as_bytes()).unwrap();
        while fill > 0 {
            let n = fill.min(filler.len());
            gz.write_all(&filler[..n]).unwrap();
            fill -= n;
        }
        gz.write_all(tail).unwrap();
        gz.write_all(b"\n").unwrap();
    }
    gz.finish().unwrap();
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Seals `events` events of 16 MiB with the big string in `field`: the archive, the signer's public key file,
/// and the signer's key and fingerprint.
fn seal_big(dir: &Path, events: usize, field: &str) -> (String, String, [String; 2]) {
    let input = dir.join(format!("{field}.jsonl.gz"));
    write_input(&input, events, field);
    let key = crate::common::key("ops-prod");
    let archive = dir.join(format!("{field}.zip"));
    let summary = seal(&SealOptions {
        key: &key,
        origin: "example.com/big",
        prev: None,
        format: None,
        mapping: None,
        out: &archive,
        inputs: &[input],
        receive: false,
    })
    .unwrap();
    assert_eq!(summary.events, events as u64);
    assert_eq!(summary.bytes, (events * (MAX_EVENT_BYTES + 1)) as u64);
    // Our `seal` deflates at level 1 (about 19 MB for 120 events); at level 9 the same entries make the 2 MB
    // of the issue. What the importer holds does not depend on how the entries were deflated.
    let archive_len = file_len(&archive);
    assert!(
        archive_len < 32_000_000,
        "the archive is {archive_len} bytes"
    );
    let pub_key = dir.join("ops-prod.pub");
    std::fs::write(&pub_key, format!("{}\n", key.verifier())).unwrap();
    (
        archive.display().to_string(),
        pub_key.display().to_string(),
        [key.verifier().to_string(), key.verifier().fingerprint()],
    )
}

/// Imports the archive trusted, asserting every event is stored within the memory budget.
fn import_trusted_within_budget(db: &str, archive: &str, pub_key: &str, events: usize) {
    let started = Instant::now();
    let (o, peak) =
        auditlens_peak_rss(&["import", "--db", db, "--trust", pub_key, "--json", archive]);
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let result: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(result["outcome"], "imported", "{result}");
    assert_eq!(result["report"]["events"], events);
    assert_eq!(result["report"]["parse_errors"], 0);
    eprintln!(
        "trusted import of {events} x 16 MiB: peak RSS {} MB, {took:?}",
        peak / 1_000_000
    );
    assert!(
        peak <= PEAK_LIMIT_BYTES,
        "peak resident memory {peak} bytes > {PEAK_LIMIT_BYTES}"
    );
}

#[test]
fn an_archive_of_sixteen_mib_events_is_refused_untrusted_at_once_and_imports_trusted_in_bounded_memory()
 {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (archive, pub_key, [verifier, fingerprint]) = seal_big(dir, EVENTS, "msg");

    // Untrusted, not kept: refused after the checkpoint, before any event is read or stored.
    let db = dir.join("s.db");
    let wal = dir.join("s.db-wal");
    let db_text = db.display().to_string();
    let started = Instant::now();
    let o = auditlens(&["import", "--db", &db_text, "--json", &archive]);
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let result: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(result["outcome"], "untrusted");
    assert_eq!(result["stored"], false);
    let message = result["message"].as_str().unwrap();
    assert!(message.starts_with("not trusted: "), "{message}");
    assert!(message.contains(&verifier), "{message}");
    assert!(message.contains(&fingerprint), "{message}");
    let written = file_len(&db) + file_len(&wal);
    assert!(written < 1_000_000, "{written} bytes written");
    assert!(took < Duration::from_secs(10), "took {took:?}");

    // Trusted: every event stored, within the memory budget.
    import_trusted_within_budget(&db_text, &archive, &pub_key, EVENTS);

    // Every event is there and found by a word inside it.
    let o = auditlens(&["search", "--db", &db_text, "--count", "needle77"]);
    assert_eq!(text(&o.stdout).trim(), "1", "{}", text(&o.stderr));
    let o = auditlens(&["search", "--db", &db_text, "--count", "actor:mallory"]);
    assert_eq!(text(&o.stdout).trim(), EVENTS.to_string());

    // The same 2 GB of events out as OCSF Parquet (each event in `raw_data` and its 16 MiB member once more in
    // `unmapped`), within the same budget.
    let keys = dir.join("keys");
    let keys_text = keys.display().to_string();
    let o = auditlens(&["keygen", "--name", "auditor", "--out", &keys_text]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = dir.join("parquet").display().to_string();
    let auditor = keys.join("auditor.key").display().to_string();
    let started = Instant::now();
    let (o, peak) = auditlens_peak_rss(&[
        "export-parquet",
        "--db",
        &db_text,
        "--key",
        &auditor,
        "--out",
        &out,
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["rows"], EVENTS, "{summary}");
    assert_eq!(summary["raw_bytes"], EVENTS * MAX_EVENT_BYTES, "{summary}");
    eprintln!(
        "export-parquet of {EVENTS} x 16 MiB: peak RSS {} MB, {:?}",
        peak / 1_000_000,
        started.elapsed()
    );
    assert!(
        peak <= PEAK_LIMIT_BYTES,
        "export-parquet: peak resident memory {peak} bytes > {PEAK_LIMIT_BYTES}"
    );
}

/// The 16 MiB strings in the actor field: stored in the events' actor column and its index, and in the
/// summary tables of both time units, still within the budget. Fewer events than above: the peak depends on
/// the size of one event, and each event here writes about four times its size.
#[test]
fn an_archive_of_sixteen_mib_actors_imports_in_bounded_memory() {
    const ACTORS: usize = 24;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (archive, pub_key, _) = seal_big(dir, ACTORS, "actor");
    let db_text = dir.join("s.db").display().to_string();
    import_trusted_within_budget(&db_text, &archive, &pub_key, ACTORS);
    let o = auditlens(&["search", "--db", &db_text, "--count", "needle7"]);
    assert_eq!(text(&o.stdout).trim(), "1", "{}", text(&o.stderr));
    let o = auditlens(&["stats", "--db", &db_text, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

/// Events spread over many partitions at once (1,000 accounts in 2 regions, interleaved as a big organisation's
/// CloudTrail is): the rows of every partition wait to be handed over together, and each partition's columns
/// must not hold a fixed reserve of their own (they held about 1 MB each before: 400 partitions peaked at 446 MB).
#[test]
fn an_export_over_two_thousand_partitions_at_once_stays_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let lines: Vec<String> = (0..20_000)
        .map(|i| {
            let account = format!("{:012}", 100_000_000_000u64 + (i % 1000) as u64);
            let region = if (i / 1000) % 2 == 0 { "us-east-1" } else { "eu-west-1" };
            serde_json::json!({
                "eventVersion": "1.08",
                "eventTime": format!("2024-06-01T{:02}:{:02}:{:02}Z", (i / 3600) % 24, (i / 60) % 60, i % 60),
                "eventSource": "s3.amazonaws.com",
                "eventName": "GetObject",
                "awsRegion": region,
                "sourceIPAddress": "203.0.113.9",
                "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{account}:user/u"), "accountId": account},
                "recipientAccountId": account,
            })
            .to_string()
        })
        .collect();
    let input = crate::common::write_lines(dir, "ct.jsonl", &lines);
    let key = crate::common::key("ops-prod");
    let archive = crate::common::seal_to(dir, "ct.zip", &key, "example.com/ct", None, &[input]);
    let pub_key = dir.join("ops.pub");
    std::fs::write(&pub_key, key.verifier().to_string()).unwrap();
    let db = dir.join("store.db").display().to_string();
    let o = auditlens(&[
        "import",
        "--db",
        &db,
        "--trust",
        &pub_key.display().to_string(),
        &archive.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let auditor = dir.join("auditor.key");
    std::fs::write(&auditor, crate::common::key("auditor").to_string_private()).unwrap();
    let out = dir.join("parquet").display().to_string();
    let (o, peak) = auditlens_peak_rss(&[
        "export-parquet",
        "--db",
        &db,
        "--key",
        &auditor.display().to_string(),
        "--out",
        &out,
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["rows"], 20_000, "{summary}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("parquet/_manifest.json")).unwrap())
            .unwrap();
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), 2000, "one file per partition");
    eprintln!(
        "export-parquet over 2,000 partitions: peak RSS {} MB",
        peak / 1_000_000
    );
    assert!(
        peak <= PEAK_LIMIT_BYTES,
        "export-parquet: peak resident memory {peak} bytes > {PEAK_LIMIT_BYTES}"
    );
}

/// Events a producer signed whose shape is the attack (red-team finding, 2026-12-07): one line of 8 million `[`
/// and as many `]`, and one of objects nested a million deep (`{"a":{"a":…}}`), each stored as an event that
/// does not parse. Reading their member paths for the text index kept every bracket open (441 MB for the first)
/// and copied the whole path at each level (2 min 17 s for 1.9 million levels). Imported, then re-checked, each
/// within the budget.
#[test]
fn events_nested_millions_deep_import_and_check_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let brackets = (MAX_EVENT_BYTES - 6) / 2;
    let mut arrays = b"{\"a\":".to_vec();
    arrays.extend(std::iter::repeat_n(b'[', brackets));
    arrays.extend(std::iter::repeat_n(b']', brackets));
    arrays.push(b'}');
    let levels = 1 << 20;
    let mut objects = "{\"a\":".repeat(levels).into_bytes();
    objects.extend_from_slice(b"true");
    objects.extend(std::iter::repeat_n(b'}', levels));
    let done = import_and_check(
        tmp.path(),
        r#"{"time":"2024-06-01T00:00:00Z","msg":"x"}"#,
        vec![arrays, objects],
    );
    assert_eq!(done.report["report"]["events"], 2, "{}", done.report);
    done.within_budget("2 deep events");
    // A member pattern still answers exactly (the batch's members were not all named: its events are read).
    let o = auditlens(&["search", "--db", &done.db, "--count", "json.a:*true*"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

/// A CloudTrail `{"Records": [...]}` document of 96 MB handed over unsigned and sealed on receipt (red-team finding,
/// 2026-12-07: the document was read whole, 431 MB of peak memory for 400 MB): its records are streamed, one at a
/// time, in less memory than the document itself (about 30 MB whatever its size; reading it whole takes more than
/// its size), and come out as its records, compact.
#[test]
fn a_document_of_hundreds_of_megabytes_is_sealed_on_receipt_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let doc = dir.join("big.json.gz");
    let record = format!(
        r#"{{"eventVersion":"1.08","eventTime":"2024-05-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","userIdentity":{{"type":"IAMUser","userName":"alice"}},"pad":"{}"}}"#,
        "x".repeat(900)
    );
    let records = 96_000_000 / record.len();
    {
        let mut gz = flate2::write::GzEncoder::new(
            std::io::BufWriter::new(std::fs::File::create(&doc).unwrap()),
            flate2::Compression::fast(),
        );
        gz.write_all(b"{\"Records\":[").unwrap();
        for i in 0..records {
            if i > 0 {
                gz.write_all(b",\n  ").unwrap();
            }
            gz.write_all(record.as_bytes()).unwrap();
        }
        gz.write_all(b"]}").unwrap();
        gz.finish().unwrap();
    }
    let key = dir.join("keys");
    let key_text = key.display().to_string();
    let o = auditlens(&["keygen", "--name", "auditor", "--out", &key_text]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = dir.join("recv.zip");
    let (o, peak) = auditlens_peak_rss(&[
        "receive",
        "--key",
        &key.join("auditor.key").display().to_string(),
        "--origin",
        "example.com/received",
        "--out",
        &out.display().to_string(),
        &doc.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    eprintln!(
        "receive of a {} MB document: peak RSS {} MB",
        records * record.len() / 1_000_000,
        peak / 1_000_000
    );
    assert!(
        peak <= 64_000_000,
        "receive: peak resident memory {peak} bytes for a document of 96 MB"
    );
    let entries = crate::common::read_entries(&out);
    let lines: usize = entries
        .iter()
        .filter(|(n, _)| n.starts_with("events/"))
        .map(|(_, data)| {
            assert!(
                data.split(|b| *b == b'\n')
                    .filter(|l| !l.is_empty())
                    .all(|l| l == record.as_bytes())
            );
            data.iter().filter(|b| **b == b'\n').count()
        })
        .sum();
    assert_eq!(lines, records);
}

/// One event of 16 MiB whose member `member` is a list of `item` repeated (`[0,0,…]` and the like): the most
/// values an event can hold, each read into a parsed value (24 bytes) by the normalizer, the check and the
/// export.
fn list_event(member: &str, item: &str) -> Vec<u8> {
    let open = K8S_EVENT.strip_suffix('}').expect("an object");
    let head = format!(r#"{open},"{member}":["#);
    let count = (MAX_EVENT_BYTES - head.len() - 2) / (item.len() + 1);
    let mut line = head.into_bytes();
    for i in 0..count {
        if i > 0 {
            line.push(b',');
        }
        line.extend_from_slice(item.as_bytes());
    }
    line.extend_from_slice(b"]}");
    assert!(line.len() <= MAX_EVENT_BYTES);
    line
}

/// What [`import_and_check`] measured.
struct Imported {
    db: String,
    /// The import's `--json` summary.
    report: serde_json::Value,
    /// Peak resident memory of the import and of the check.
    import: u64,
    check: u64,
}

impl Imported {
    /// Both peaks within the budget.
    fn within_budget(&self, what: &str) {
        eprintln!(
            "{what}: import peak RSS {} MB, check {} MB",
            self.import / 1_000_000,
            self.check / 1_000_000
        );
        assert!(
            self.import <= PEAK_LIMIT_BYTES,
            "{what}: import peak {} bytes",
            self.import
        );
        assert!(
            self.check <= PEAK_LIMIT_BYTES,
            "{what}: check peak {} bytes",
            self.check
        );
    }
}

/// Seals `genuine` (one event, which sets the archive's source kind), puts `lines` in place of its events with
/// the producer's signature made again (a producer signing the attack), imports that archive trusted and checks
/// the store, both of which must succeed.
fn import_and_check(dir: &Path, genuine: &str, lines: Vec<Vec<u8>>) -> Imported {
    let key = crate::common::key("ops-prod");
    let genuine = crate::common::write_lines(dir, "one.log", &[genuine.to_owned()]);
    let archive = crate::common::seal_to(
        dir,
        "genuine.zip",
        &key,
        "example.com/big",
        None,
        &[genuine],
    );
    let hostile = crate::common::rewrite(&archive, &dir.join("hostile.zip"), |entries| {
        let name = crate::common::first_events_entry();
        *crate::common::entry(entries, &name) = crate::common::join_lines(&lines);
        crate::common::reseal_entries(entries, &key);
    });
    drop(lines);
    let pub_key = dir.join("ops-prod.pub");
    std::fs::write(&pub_key, format!("{}\n", key.verifier())).unwrap();
    let pub_text = pub_key.display().to_string();
    let db = dir.join("s.db").display().to_string();
    let (o, import) = auditlens_peak_rss(&[
        "import",
        "--db",
        &db,
        "--trust",
        &pub_text,
        "--json",
        &hostile.display().to_string(),
    ]);
    ok(&o);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let (o, check) = auditlens_peak_rss(&["check", "--db", &db, "--trust", &pub_text]);
    ok(&o);
    Imported {
        db,
        report,
        import,
        check,
    }
}

/// A Kubernetes audit event (the archive's kind), as the events below are.
const K8S_EVENT: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","verb":"get","stageTimestamp":"2024-06-01T00:00:00Z"}"#;

/// The events of 16 MiB `lines` imported and checked within the budget, every one normalized.
fn small_values_within_budget(what: &str, lines: Vec<Vec<u8>>) {
    let tmp = tempfile::tempdir().unwrap();
    let events = lines.len();
    let done = import_and_check(tmp.path(), K8S_EVENT, lines);
    assert_eq!(done.report["report"]["events"], events, "{}", done.report);
    assert_eq!(done.report["report"]["parse_errors"], 0, "{}", done.report);
    // Every event normalized: its verb is a field.
    let o = auditlens(&["search", "--db", &done.db, "--count", "action:get"]);
    assert_eq!(text(&o.stdout).trim(), events.to_string());
    done.within_budget(what);
}

/// Events of millions of small values (red-team finding, 2026-12-07): a 16 MiB event of 3 million `null`s, of
/// 4 million empty lists or objects (one in a member the Kubernetes normalizer reads), of empty strings, of
/// numbers. Each value was read into a list grown in a scratch list and copied out (two copies at once), and each
/// number allocated its text twice: 474 MB to import these five, 438 MB to check them (release build). Imported
/// and checked within the budget (213 and 177 MB in the release build, 229 and 192 MB in this debug one).
#[test]
fn events_of_millions_of_small_values_import_and_check_in_bounded_memory() {
    small_values_within_budget(
        "small values",
        vec![
            list_event("x", "null"),
            list_event("sourceIPs", "[]"),
            list_event("x", "{}"),
            list_event("x", r#""""#),
            list_event("x", "1e5"),
        ],
    );
}

/// The worst case of the above: 16 MiB of one-digit numbers (`[0,0,…]`, 8.4 million values), 851 MB to import
/// and 831 MB to check before (release build). Each value read now takes 24 bytes (201 MB for the list), and the
/// import parses a long event before it copies it: 244 and 241 MB in the release build, 261 and 260 MB in this
/// debug one.
#[test]
fn an_event_of_eight_million_numbers_imports_and_checks_in_bounded_memory() {
    small_values_within_budget("8 million numbers", vec![list_event("x", "0")]);
}

/// Events of millions of small values that end in a syntax error (red-team finding, 2026-12-07): the reason an
/// event does not parse was worded by reading it again into a `serde_json::Value`, which builds every value before
/// the error: 1,806 MB to import these two and 1,773 MB to check them (this debug build). The reason now comes
/// from a reading that builds nothing, and an event of 1 MiB or more is read for its syntax before it is built:
/// 217 and 88 MB. Each is stored as an event that does not parse, with the reason `Value` gives.
#[test]
fn events_of_millions_of_values_that_do_not_parse_import_and_check_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    // `…,0]}` made `…,0,}`: a syntax error at the very end of a line that is still `{…}`.
    let cut = |mut line: Vec<u8>| {
        let at = line.len() - 2;
        line[at] = b',';
        line
    };
    let lines = vec![cut(list_event("x", "0")), cut(list_event("x", "[1]"))];
    let expected: Vec<String> = lines
        .iter()
        .map(|l| {
            serde_json::from_slice::<serde_json::Value>(l)
                .unwrap_err()
                .to_string()
        })
        .collect();
    let done = import_and_check(tmp.path(), K8S_EVENT, lines);
    assert_eq!(done.report["report"]["events"], 2, "{}", done.report);
    assert_eq!(done.report["report"]["parse_errors"], 2, "{}", done.report);
    done.within_budget("values that do not parse");
    // The reason stored is the `Value` parser's.
    let db = rusqlite::Connection::open(&done.db).unwrap();
    let mut stored: Vec<String> = db
        .prepare("SELECT parse_error FROM events WHERE parse_error IS NOT NULL ORDER BY idx")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    stored.sort();
    let mut expected: Vec<String> = expected
        .iter()
        .map(|e| format!("invalid JSON: {e}"))
        .collect();
    expected.sort();
    assert_eq!(stored, expected);
}

/// A producer's input line of 16 MiB holding 8.4 million numbers, sealed with its kind detected (red-team finding,
/// 2026-12-07): the first line, and the events the kind is detected from, were read into a `serde_json::Value`,
/// 879 MB of peak memory in the release build. They are read into the lighter tree now (239 MB there), within
/// the budget, and the kind is still found.
#[test]
fn an_input_line_of_millions_of_numbers_is_sealed_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut line = list_event("x", "0");
    line.push(b'\n');
    let input = dir.join("numbers.log");
    std::fs::write(&input, &line).unwrap();
    drop(line);
    let keys = dir.join("keys").display().to_string();
    ok(&auditlens(&["keygen", "--name", "ops", "--out", &keys]));
    let out = dir.join("numbers.zip");
    let (o, peak) = auditlens_peak_rss(&[
        "seal",
        "--key",
        &format!("{keys}/ops.key"),
        "--origin",
        "example.com/numbers",
        "--out",
        &out.display().to_string(),
        &input.display().to_string(),
    ]);
    let said = ok(&o);
    assert!(said.contains("kind k8s"), "{said}");
    eprintln!(
        "seal of 8.4 million numbers: peak RSS {} MB",
        peak / 1_000_000
    );
    assert!(peak <= PEAK_LIMIT_BYTES, "seal: peak {peak} bytes");
}

/// A CloudTrail log file of 200 MiB inflated (busy trails deliver files this large; this one lists 50,000 records
/// and is signed as AWS signs, by the test key): `import`, `check`, a bundle's `export` and `verify-bundle` each
/// stay within the 300 MB budget. Each reads the file as it inflates, never its whole content (profiling builds,
/// before: the import held the content whole, then its records, 460 MB; `check` 290 MB; `export` 489 MB, its
/// leaves read through a memory map of the store). `export-parquet` re-verifies the file as `check` does.
#[test]
fn a_cloudtrail_log_file_of_200_mib_imports_checks_and_exports_in_bounded_memory() {
    use crate::cloudtrail_digest::{generate_with, gz, keys_json, sha_hex, t0, write};
    const RECORDS: usize = 50_000;
    let policy =
        "Allow s3:GetObject on arn:aws:s3:::audit-trail-bucket/* for the deploy role; ".repeat(51);
    let mut big = String::with_capacity(RECORDS * (policy.len() + 400));
    big.push_str("{\"Records\":[");
    for i in 0..RECORDS {
        if i > 0 {
            big.push(',');
        }
        big.push_str(&format!(
            r#"{{"eventVersion":"1.08","eventTime":"2024-03-10T09:10:31Z","eventSource":"iam.amazonaws.com","eventName":"PutRolePolicy","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userIdentity":{{"type":"IAMUser","userName":"deployer{}"}},"requestParameters":{{"roleName":"role{i}","policyDocument":"marker{i} {policy}"}}}}"#,
            i % 7
        ));
    }
    big.push_str("]}");
    assert!(big.len() > 200 << 20, "{}", big.len());
    let big_sha = sha_hex(big.as_bytes());
    let big_key = std::sync::Mutex::new(String::new());
    let e = generate_with(&|region, hour, v| {
        if (region, hour) == (0, 0) {
            v["logFiles"][0]["hashValue"] = big_sha.clone().into();
            *big_key.lock().unwrap() = v["logFiles"][0]["s3Object"].as_str().unwrap().to_string();
        }
    });
    let key = big_key.lock().unwrap().clone();
    write(&e.path(&key), &gz(big.as_bytes()));
    drop(big);

    let work = tempfile::tempdir().unwrap();
    let p = |name: &str| work.path().join(name).display().to_string();
    let keys = p("aws-keys.json");
    write(
        Path::new(&keys),
        keys_json(
            t0() - chrono::Duration::days(30),
            t0() + chrono::Duration::days(30),
        )
        .as_bytes(),
    );
    ok(&auditlens(&[
        "keygen",
        "--name",
        "aud",
        "--out",
        &p("keys"),
    ]));
    let auditor = format!("{}/aud.key", p("keys"));
    let (db, export) = (p("store.db"), e.root().display().to_string());
    let bundle = p("bundle.zip");
    let steps: [(&str, Vec<&str>); 4] = [
        (
            "import",
            vec!["import", "--db", &db, "--aws-keys", &keys, &export],
        ),
        ("check", vec!["check", "--db", &db, "--aws-keys", &keys]),
        (
            "export",
            vec![
                "export",
                "--db",
                &db,
                "--query",
                "marker31337",
                "--key",
                &auditor,
                "--purpose",
                "test",
                "--aws-keys",
                &keys,
                "--out",
                &bundle,
            ],
        ),
        (
            "verify-bundle",
            vec!["verify-bundle", "--aws-keys", &keys, &bundle],
        ),
    ];
    for (name, args) in steps {
        let started = Instant::now();
        let (o, peak) = auditlens_peak_rss(&args);
        let said = ok(&o);
        eprintln!(
            "{name} of a 200 MiB CloudTrail log file: peak RSS {} MB, {:?}",
            peak / 1_000_000,
            started.elapsed()
        );
        assert!(
            peak <= PEAK_LIMIT_BYTES,
            "{name}: peak {peak} bytes\n{said}"
        );
    }
    let o = auditlens(&[
        "search",
        "--db",
        &db,
        "--count",
        "marker31337 OR marker49999",
    ]);
    assert_eq!(ok(&o).trim(), "2");
    let o = auditlens(&["search", "--db", &db, "--count", "source:cloudtrail"]);
    // The big file's records, and the generator's other files (one record each).
    let others =
        (crate::cloudtrail_digest::HOURS - 1) * 2 * crate::cloudtrail_digest::REGIONS.len() - 1;
    assert_eq!(ok(&o).trim(), (RECORDS + others).to_string());
}
