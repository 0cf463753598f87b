//! Time for every event (issue 16, docs/sources.md section 2): the space form SIEM exports write and epoch numbers
//! get times; the events left without one are counted, with the first one's time member, in `import` and in the
//! store (where `check` re-derives the count); an archive a store normalized under version 1 of the mappers keeps
//! those fields, checked under version 1, until it is imported again.

use std::path::PathBuf;

use crate::common::*;
use auditlens::note::SignerKey;

struct Lab {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    key: SignerKey,
    db: String,
    pubkey: String,
}

impl Lab {
    fn new() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let key = key("siem-export");
        let pubkey = dir.join("siem.pub");
        std::fs::write(&pubkey, key.verifier().to_string()).unwrap();
        Lab {
            db: dir.join("store.db").to_string_lossy().into_owned(),
            pubkey: pubkey.to_string_lossy().into_owned(),
            dir,
            key,
            _tmp: tmp,
        }
    }
    fn archive(&self, name: &str, lines: &[&str]) -> String {
        let lines: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        let log = write_lines(&self.dir, &format!("{name}.jsonl"), &lines);
        let origin = format!("example.com/{name}");
        let a = seal_to(
            &self.dir,
            &format!("{name}.zip"),
            &self.key,
            &origin,
            None,
            &[log],
        );
        a.to_string_lossy().into_owned()
    }
    fn import(&self, archive: &str) -> std::process::Output {
        auditlens(&["import", "--db", &self.db, "--trust", &self.pubkey, archive])
    }
    fn check(&self) -> std::process::Output {
        auditlens(&["check", "--db", &self.db, "--trust", &self.pubkey])
    }
    fn times(&self, query: &str) -> Vec<(String, Option<String>)> {
        let o = auditlens(&["search", "--db", &self.db, "--all", "--json", "--", query]);
        assert_eq!(code(&o), 0, "{}", text(&o.stderr));
        let mut rows: Vec<(String, Option<String>)> = text(&o.stdout)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["actor"].as_str().unwrap_or("").to_owned(),
                    v["time"].as_str().map(str::to_owned),
                )
            })
            .collect();
        rows.sort();
        rows
    }
    fn sql(&self, statement: &str) {
        rusqlite::Connection::open(&self.db)
            .unwrap()
            .execute_batch(statement)
            .unwrap();
    }
}

const SIEM: [&str; 6] = [
    // Panther's form: a space for the `T`, no zone (UTC), nine fraction digits.
    r#"{"actor":"ann","time":"2024-05-01 10:00:00.123456789"}"#,
    r#"{"actor":"bob","published":"redacted"}"#,
    // Epoch seconds with a fraction, and milliseconds: generic JSON reads them by magnitude.
    r#"{"actor":"cy","ts":1714557600.5}"#,
    r#"{"actor":"dee","date_create":1714557601000}"#,
    r#"{"actor":"eve","message":"no time at all"}"#,
    // Panther's own event time, when the source's member is not readable.
    r#"{"actor":"fay","time":"yesterday","p_event_time":"2024-05-01 10:00:02"}"#,
];

#[test]
fn siem_times_are_read_and_the_events_without_one_are_counted_with_a_sample() {
    let lab = Lab::new();
    let a = lab.archive("siem", &SIEM);
    let o = lab.import(&a);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("  normalization: built-in jsonl mapper (jsonl/2)\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "  no time: 2 of 6 events have no time (event 1: published: \"redacted\" is not a time)\n"
        ),
        "{out}"
    );
    assert_eq!(
        lab.times("time:2024-05-01"),
        vec![
            (
                "ann".to_owned(),
                Some("2024-05-01T10:00:00.123456Z".to_owned())
            ),
            ("cy".to_owned(), Some("2024-05-01T10:00:00.500Z".to_owned())),
            ("dee".to_owned(), Some("2024-05-01T10:00:01Z".to_owned())),
            ("fay".to_owned(), Some("2024-05-01T10:00:02Z".to_owned())),
        ]
    );
    assert_eq!(
        lab.times("-time:*"),
        vec![("bob".to_owned(), None), ("eve".to_owned(), None)]
    );
    // Imported again: nothing changes, and the count is said again.
    let o = lab.import(&a);
    assert!(
        text(&o.stdout).contains("nothing changed"),
        "{}",
        text(&o.stdout)
    );
    assert!(
        text(&o.stdout).contains("  no time: 2 of 6 events"),
        "{}",
        text(&o.stdout)
    );
    assert_eq!(code(&lab.check()), 0, "{}", text(&lab.check().stderr));
    // The count is derived data that `check` re-derives.
    lab.sql("UPDATE archives SET untimed = 0");
    let c = lab.check();
    assert_eq!(code(&c), 1);
    assert!(
        text(&c.stderr)
            .contains("stored count of events without a time Some(0) differs from the events' 2"),
        "{}",
        text(&c.stderr)
    );
}

#[test]
fn an_archive_every_event_of_which_has_a_time_says_nothing_about_time() {
    let lab = Lab::new();
    let a = lab.archive("timed", &[SIEM[0], SIEM[2]]);
    let o = lab.import(&a);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(!text(&o.stdout).contains("no time"), "{}", text(&o.stdout));
}

#[test]
fn an_archive_normalized_under_version_1_keeps_its_fields_until_it_is_imported_again() {
    let lab = Lab::new();
    // RFC 3339 times only: versions 1 and 2 give the same fields.
    let a = lab.archive(
        "strict",
        &[
            r#"{"actor":"ann","time":"2024-05-01T10:00:00Z"}"#,
            r#"{"actor":"bob","timestamp":"2024-05-01T11:00:00Z"}"#,
        ],
    );
    assert_eq!(code(&lab.import(&a)), 0);
    // What AuditLens before version 2 of the mappers recorded.
    lab.sql("UPDATE archives SET normalization = 'jsonl/1'");
    let c = lab.check();
    assert_eq!(code(&c), 0, "{}", text(&c.stderr));
    let o = lab.import(&a);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains(
            "already imported (archive #1); its 2 events re-normalized: built-in jsonl mapper (jsonl/2)"
        ),
        "{}",
        text(&o.stdout)
    );
    let c = lab.check();
    assert_eq!(code(&c), 0, "{}", text(&c.stderr));

    // Fields of version 2 recorded as version 1's: `check` re-derives under version 1 and names the times it
    // would not have given.
    let b = lab.archive("space", &[SIEM[0]]);
    assert_eq!(code(&lab.import(&b)), 0);
    lab.sql("UPDATE archives SET normalization = 'jsonl/1' WHERE id = 2");
    let c = lab.check();
    assert_eq!(code(&c), 1);
    let err = text(&c.stderr);
    assert!(
        err.contains("stored time 2024-05-01T10:00:00.123456Z differs from the event's none"),
        "{err}"
    );
    // A version this AuditLens does not have is named as such.
    lab.sql("UPDATE archives SET normalization = 'jsonl/3' WHERE id = 2");
    let err = text(&lab.check().stderr);
    assert!(err.contains("stored normalization"), "{err}");
}

#[test]
fn a_reader_that_stops_reading_ends_the_command_quietly() {
    // `auditlens search ... | head -1`: the rest of the output has nowhere to go. The command ends at once with
    // the status of a Unix tool killed by SIGPIPE, and says nothing on stderr (no panic message).
    use std::io::{BufRead, BufReader};
    let lab = Lab::new();
    let lines: Vec<String> = (0..3000)
        .map(|i| {
            format!(
                r#"{{"actor":"user-{i}","time":"2024-05-01 10:00:{:02}","action":"read"}}"#,
                i % 60
            )
        })
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let a = lab.archive("many", &refs);
    assert_eq!(code(&lab.import(&a)), 0);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_auditlens"))
        .args(["search", "--db", &lab.db, "--all", "--json", ""])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with('{'), "{first}");
    // The reader is gone (dropped above).
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(141), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
}
