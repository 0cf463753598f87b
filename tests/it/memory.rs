//! Memory bounded by bytes (issue 11, attack 6): an archive of 120 events of 16 MiB each (the longest line the
//! format allows; 2 GB of events in a 19 MB archive) is sealed with our own `seal`, then imported by the real
//! binary:
//!
//! - signed by a key that is not trusted, without `--keep-failed`: refused once its checkpoint is read, before
//!   any event is stored (exit 1, outcome untrusted, less than 1 MB written to the database and its WAL);
//! - trusted: imported whole within 300 MB of peak resident memory.
//!
//! Peak memory is the importing process's own `ru_maxrss` (`common::auditlens_peak_rss`: started and reaped by
//! a small Python fork/exec wrapper, so neither this test binary's memory nor another test's child counts; the
//! sealing runs in this process, not in a child). It needs nothing installed on a fresh Debian beyond python3
//! (no `/usr/bin/time`); `ru_maxrss` is in KiB on Linux.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{auditlens, auditlens_peak_rss, text};

use auditlens::archive::MAX_EVENT_BYTES;
use auditlens::seal::{SealOptions, seal};

const EVENTS: usize = 120;
const PEAK_LIMIT_BYTES: u64 = 300 * 1000 * 1000;

/// A gzip input of `EVENTS` JSON Lines events of exactly `MAX_EVENT_BYTES` bytes each: a time, an actor and one
/// big string (a run of one letter, so the archive stays about 2 MB). `seal` reads gzip inputs; nothing of
/// 2 GB is written to disk.
fn write_input(path: &Path) {
    let file = std::fs::File::create(path).unwrap();
    let mut gz =
        flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
    let filler = vec![b'x'; 1 << 20];
    for i in 0..EVENTS {
        let head = format!(
            r#"{{"time":"2024-06-01T00:{:02}:{:02}Z","actor":"mallory","n":{i},"msg":"needle{i} "#,
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

#[test]
fn an_archive_of_sixteen_mib_events_is_refused_untrusted_at_once_and_imports_trusted_in_bounded_memory()
 {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let input = dir.join("big.jsonl.gz");
    write_input(&input);
    let key = crate::common::key("ops-prod");
    let archive = dir.join("big.zip");
    let summary = seal(&SealOptions {
        key: &key,
        origin: "example.com/big",
        prev: None,
        format: None,
        mapping: None,
        out: &archive,
        inputs: &[input],
    })
    .unwrap();
    assert_eq!(summary.events, EVENTS as u64);
    assert_eq!(summary.bytes, (EVENTS * (MAX_EVENT_BYTES + 1)) as u64);
    // Our `seal` deflates at level 1 (about 19 MB here); at level 9 the same entries make the 2 MB of the
    // issue. What the importer holds does not depend on how the entries were deflated.
    let archive_len = file_len(&archive);
    assert!(
        archive_len < 32_000_000,
        "the archive is {archive_len} bytes"
    );
    let pub_key = dir.join("ops-prod.pub");
    std::fs::write(&pub_key, format!("{}\n", key.verifier())).unwrap();
    let (archive, pub_key) = (archive.display().to_string(), pub_key.display().to_string());

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
    assert!(message.contains(&key.verifier().to_string()), "{message}");
    assert!(message.contains(&key.verifier().fingerprint()), "{message}");
    let written = file_len(&db) + file_len(&wal);
    assert!(written < 1_000_000, "{written} bytes written");
    assert!(took < Duration::from_secs(10), "took {took:?}");

    // Trusted: every event stored, within the memory budget.
    let started = Instant::now();
    let (o, peak) = auditlens_peak_rss(&[
        "import", "--db", &db_text, "--trust", &pub_key, "--json", &archive,
    ]);
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let result: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(result["outcome"], "imported", "{result}");
    assert_eq!(result["report"]["events"], EVENTS);
    assert_eq!(result["report"]["parse_errors"], 0);
    eprintln!(
        "trusted import of {EVENTS} x 16 MiB: peak RSS {} MB, {took:?}",
        peak / 1_000_000
    );
    assert!(
        peak <= PEAK_LIMIT_BYTES,
        "peak resident memory {peak} bytes > {PEAK_LIMIT_BYTES}"
    );

    // Every event is there and found by a word inside it.
    let o = auditlens(&["search", "--db", &db_text, "--count", "needle77"]);
    assert_eq!(text(&o.stdout).trim(), "1", "{}", text(&o.stderr));
    let o = auditlens(&["search", "--db", &db_text, "--count", "actor:mallory"]);
    assert_eq!(text(&o.stdout).trim(), EVENTS.to_string());
}
