//! Attack 4 of issue 11, "the terminal shows a fake verdict": archives whose signed strings (origin, manifest
//! `time_range`, entry names, signer key names, event fields) hold terminal escape sequences, carriage returns,
//! bidirectional overrides and zero-width characters. Every command is run through the real binary, and neither
//! stdout nor stderr may carry one of those characters raw: each is shown as a visible `\u{…}` escape
//! (docs/trust-policy.md, "Untrusted text on terminals and screens"). Each stream is also fed to a terminal
//! emulator (pyte, tests/independent/terminal_screen.py), whose screen must show exactly the text.

use std::path::{Path, PathBuf};
use std::process::Output;

use auditlens::archive::{self, Manifest, TimeRange};
use auditlens::checkpoint::Checkpoint;
use auditlens::note::{Note, SignerKey};
use auditlens::seal::{SealOptions, seal};
use auditlens::sources::SourceKind;

use crate::common::*;

/// Clears the screen, homes the cursor and draws a verdict; then a CR, a right-to-left override and a
/// zero-width space.
const FAKE_VERDICT: &str = "\u{1b}[2J\u{1b}[HVERIFIED (trusted)\r\u{202e}\u{200b}";
/// [`FAKE_VERDICT`] as the commands must show it.
const FAKE_VERDICT_SHOWN: &str = "\\u{1b}[2J\\u{1b}[HVERIFIED (trusted)\\u{d}\\u{202e}\\u{200b}";

/// An origin a signed note allows (no ASCII control character) but a terminal does not show as it is: the C1
/// control CSI (U+009B), a right-to-left override, a zero-width space and a right-to-left isolate.
const ORIGIN: &str = "example.com/\u{9b}2J\u{202e}prod\u{200b}\u{2067}";
const ORIGIN_SHOWN: &str = "example.com/\\u{9b}2J\\u{202e}prod\\u{200b}\\u{2067}";
/// The untrusted archive's origin.
const OTHER_ORIGIN: &str = "example.com/\u{2066}other\u{feff}";
const OTHER_ORIGIN_SHOWN: &str = "example.com/\\u{2066}other\\u{feff}";

/// Key names may hold DEL, C1 controls, bidi and zero-width characters (only ASCII controls below DEL, `+` and
/// white space are refused).
const PRODUCER: &str = "ops\u{202e}\u{200b}\u{7f}";
const PRODUCER_SHOWN: &str = "ops\\u{202e}\\u{200b}\\u{7f}";
const MALLORY: &str = "mallory\u{9b}2J\u{2068}";
const MALLORY_SHOWN: &str = "mallory\\u{9b}2J\\u{2068}";
const AUDITOR: &str = "jane\u{202e}\u{2069}";
const AUDITOR_SHOWN: &str = "jane\\u{202e}\\u{2069}";

/// The actor of every event: a screen clear, a CR and an override.
const ACTOR: &str = "\u{1b}[2J\u{1b}[Hroot\r\u{202e}nimda\u{200b}";
const ACTOR_SHOWN: &str = "\\u{1b}[2J\\u{1b}[Hroot\\u{d}\\u{202e}nimda\\u{200b}";

/// Characters that must never reach a terminal from archive content.
const RAW: [char; 13] = [
    '\u{1b}', '\r', '\u{7}', '\u{7f}', '\u{9b}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200b}', '\u{feff}', '\u{200f}',
];

/// What a terminal emulator shows of `bytes` is exactly their text (tests/independent/terminal_screen.py, over
/// pyte): nothing in them clears, moves the cursor, overwrites a line or sets the title.
#[track_caller]
fn assert_terminal_shows_the_text(what: &str, stream: &str, bytes: &[u8]) {
    use std::io::Write;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/terminal_screen.py");
    // The system's Python, where `make deps` installs python3-pyte (a python3 earlier on PATH may lack it).
    let python = if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let mut child = std::process::Command::new(python)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 must be installed");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{what}: {stream} on a terminal: {}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
}

/// Exit code as expected, no panic, not one raw character of [`RAW`] on stdout or stderr, and a terminal
/// emulator shows each stream exactly as its text.
#[track_caller]
fn assert_safe(what: &str, o: &Output, expected_code: i32) -> (String, String) {
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(
        code(o),
        expected_code,
        "{what}\nstdout: {out:?}\nstderr: {err:?}"
    );
    assert!(!err.contains("panicked"), "{what}: {err}");
    for (stream, t) in [("stdout", &out), ("stderr", &err)] {
        for c in RAW {
            assert!(!t.contains(c), "{what}: {stream} holds a raw {c:?}: {t:?}");
        }
    }
    assert_terminal_shows_the_text(what, "stdout", &o.stdout);
    assert_terminal_shows_the_text(what, "stderr", &o.stderr);
    (out, err)
}

#[track_caller]
fn assert_shows(what: &str, haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "{what}: expected {needle:?} in\n{haystack}"
    );
}

fn write_key(dir: &Path, name: &str, key: &SignerKey) -> (String, String) {
    let private = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    std::fs::write(&private, format!("{}\n", key.to_string_private())).unwrap();
    std::fs::write(&public, format!("{}\n", key.verifier())).unwrap();
    (private.display().to_string(), public.display().to_string())
}

/// Seals three generic JSON events whose actor is [`ACTOR`] from an input file whose name holds an escape
/// sequence (the manifest entry's `source`), then gives the archive `origin` and a manifest `time_range` of
/// [`FAKE_VERDICT`], re-signed by `key`.
fn hostile_archive(dir: &Path, out: &str, key: &SignerKey, origin: &str) -> PathBuf {
    let input = dir.join(format!("\u{1b}[31m{out}\u{202e}.jsonl"));
    let lines: Vec<String> = (0..3)
        .map(|i| {
            serde_json::json!({
                "time": format!("2024-05-01T10:00:0{i}Z"),
                "actor": ACTOR,
                "action": "login",
                "resource": format!("\u{1b}]0;title\u{7}db{i}\u{202e}"),
                "outcome": "success",
            })
            .to_string()
        })
        .collect();
    let input = write_lines(dir, input.file_name().unwrap().to_str().unwrap(), &lines);
    let sealed = dir.join(format!("{out}.sealed.zip"));
    seal(&SealOptions {
        key,
        origin: "example.com/placeholder",
        prev: None,
        format: Some(SourceKind::Jsonl),
        mapping: None,
        out: &sealed,
        inputs: &[input],
        receive: false,
    })
    .unwrap();
    rewrite(&sealed, &dir.join(out), |entries| {
        let note = Note::parse(entry(entries, archive::CHECKPOINT)).unwrap();
        let mut cp = Checkpoint::parse(&note.text).unwrap();
        cp.origin = origin.to_string();
        *entry(entries, archive::CHECKPOINT) = key.sign(&cp.to_text()).unwrap().into_bytes();
        let mut m: Manifest = serde_json::from_slice(entry(entries, archive::MANIFEST)).unwrap();
        m.origin = origin.to_string();
        m.time_range = Some(TimeRange {
            first: FAKE_VERDICT.into(),
            last: format!("{FAKE_VERDICT} (last)"),
        });
        *entry(entries, archive::MANIFEST) = serde_json::to_vec_pretty(&m).unwrap();
        reseal_entries(entries, key);
    })
}

struct Hostile {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    /// Signed by the trusted producer: verifies and imports.
    trusted: String,
    /// Signed by mallory, whom nobody trusts.
    untrusted: String,
    /// A manifest with an unknown member named [`FAKE_VERDICT`], not signed by anyone.
    unknown_member: String,
    /// A manifest naming mallory as signer over a checkpoint mallory did not sign.
    bad_signature: String,
    producer_pub: String,
    mallory_pub: String,
    auditor_key: String,
}

impl Hostile {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let producer = key(PRODUCER);
        let mallory = key(MALLORY);
        let auditor = key(AUDITOR);
        let (_, producer_pub) = write_key(&dir, "producer", &producer);
        let (_, mallory_pub) = write_key(&dir, "mallory", &mallory);
        let (auditor_key, _) = write_key(&dir, "auditor", &auditor);
        let trusted = hostile_archive(&dir, "trusted.zip", &producer, ORIGIN);
        let untrusted = hostile_archive(&dir, "untrusted.zip", &mallory, OTHER_ORIGIN);
        let unknown_member = rewrite(&trusted, &dir.join("unknown-member.zip"), |entries| {
            let mut m: serde_json::Value =
                serde_json::from_slice(entry(entries, archive::MANIFEST)).unwrap();
            m.as_object_mut()
                .unwrap()
                .insert(FAKE_VERDICT.into(), serde_json::json!(1));
            *entry(entries, archive::MANIFEST) = serde_json::to_vec_pretty(&m).unwrap();
        });
        let bad_signature = rewrite(&trusted, &dir.join("bad-signature.zip"), |entries| {
            let genuine = entry(entries, archive::CHECKPOINT).clone();
            reseal_entries(entries, &mallory);
            *entry(entries, archive::CHECKPOINT) = genuine;
        });
        let s = |p: PathBuf| p.display().to_string();
        Hostile {
            _tmp: tmp,
            trusted: s(trusted),
            untrusted: s(untrusted),
            unknown_member: s(unknown_member),
            bad_signature: s(bad_signature),
            producer_pub,
            mallory_pub,
            auditor_key,
            dir,
        }
    }
    fn p(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
    fn archives(&self) -> [&str; 4] {
        [
            &self.trusted,
            &self.untrusted,
            &self.unknown_member,
            &self.bad_signature,
        ]
    }
    /// Imports every archive (kept when it fails) into `s.db`.
    fn import(&self) -> Output {
        let db = self.p("s.db");
        let mut args = vec![
            "import",
            "--db",
            &db,
            "--trust",
            &self.producer_pub,
            "--keep-failed",
        ];
        args.extend(self.archives());
        auditlens(&args)
    }
}

#[test]
fn verify_shows_hostile_manifest_strings_escaped() {
    let h = Hostile::new();
    let mut args = vec!["verify", "--trust", &h.producer_pub];
    args.extend(h.archives());
    let (out, err) = assert_safe("verify", &auditlens(&args), 1);
    let all = format!("{out}{err}");
    // The trusted archive: its origin, time range and signer, escaped.
    assert_shows("verify", &out, &format!("  origin      {ORIGIN_SHOWN}\n"));
    assert_shows(
        "verify",
        &out,
        &format!("  time range  {FAKE_VERDICT_SHOWN} .. {FAKE_VERDICT_SHOWN} (last) (UTC)\n"),
    );
    assert_shows("verify", &out, &format!("  signer      {PRODUCER_SHOWN}+"));
    // The untrusted one draws no verdict: it is on stderr, its strings escaped.
    assert_shows(
        "verify",
        &err,
        &format!("  origin      {OTHER_ORIGIN_SHOWN}\n"),
    );
    assert_shows("verify", &err, &format!("  signer      {MALLORY_SHOWN}+"));
    // The failure messages embed the manifest's unknown member and the signer's name.
    assert_shows(
        "verify",
        &err,
        &format!("unknown field `{FAKE_VERDICT_SHOWN}`"),
    );
    assert_shows(
        "verify",
        &err,
        &format!("checkpoint signature by {MALLORY_SHOWN}: "),
    );
    assert_shows(
        "verify",
        &all,
        &format!("origin {ORIGIN_SHOWN}: sequences 1..1"),
    );
}

#[test]
fn import_check_search_stats_export_and_verify_bundle_show_archive_strings_escaped() {
    let h = Hostile::new();
    let db = h.p("s.db");

    let (out, err) = assert_safe("import", &h.import(), 1);
    assert_shows("import", &out, &format!("[{ORIGIN_SHOWN} sequence 1]"));
    assert_shows(
        "import",
        &err,
        &format!("[{OTHER_ORIGIN_SHOWN} sequence 1]"),
    );
    assert_shows(
        "import",
        &err,
        &format!("valid signature by {MALLORY_SHOWN}+"),
    );
    assert_shows(
        "import",
        &err,
        &format!("unknown field `{FAKE_VERDICT_SHOWN}`"),
    );
    assert_shows(
        "import",
        &err,
        &format!("checkpoint signature by {MALLORY_SHOWN}: "),
    );

    // Trusting only mallory: the archive marked verified is reported, with its origin and signer.
    let (_, err) = assert_safe(
        "check",
        &auditlens(&["check", "--db", &db, "--trust", &h.mallory_pub]),
        1,
    );
    assert_shows("check", &err, &format!("{ORIGIN_SHOWN} sequence 1: "));
    assert_shows(
        "check",
        &err,
        &format!("its signer {PRODUCER_SHOWN} (SHA256:"),
    );
    assert_safe(
        "check",
        &auditlens(&["check", "--db", &db, "--trust", &h.producer_pub]),
        0,
    );

    let (out, _) = assert_safe("search", &auditlens(&["search", "--db", &db, ""]), 0);
    assert_shows("search", &out, &format!("{ORIGIN_SHOWN}@1#0"));
    assert_shows("search", &out, &format!("{OTHER_ORIGIN_SHOWN}@1#0"));
    assert_shows("search", &out, "\\u{1b}[2J\\u{1b}[Hroot");
    assert_shows("search", &out, "\\u{1b}]0;title\\u{7}db");
    let (out, _) = assert_safe(
        "search --limit",
        &auditlens(&["search", "--db", &db, "--limit", "1", ""]),
        0,
    );
    assert_shows("search --limit", &out, "more results: --after ");
    assert_safe(
        "search --count",
        &auditlens(&["search", "--db", &db, "--count", ""]),
        0,
    );

    let (out, _) = assert_safe("stats", &auditlens(&["stats", "--db", &db, "--all"]), 0);
    assert_shows("stats", &out, &format!("         6  {ACTOR_SHOWN}\n"));

    // Export of events of the untrusted archive is refused, naming them.
    let (_, err) = assert_safe(
        "export (refused)",
        &auditlens(&[
            "export",
            "--db",
            &db,
            "--query",
            "",
            "--key",
            &h.auditor_key,
            "--purpose",
            "INC-1",
            "--out",
            &h.p("refused.zip"),
        ]),
        1,
    );
    assert_shows(
        "export (refused)",
        &err,
        &format!("{OTHER_ORIGIN_SHOWN}@1#"),
    );
    let (out, _) = assert_safe(
        "export",
        &auditlens(&[
            "export",
            "--db",
            &db,
            "--query",
            "status:verified",
            "--key",
            &h.auditor_key,
            "--purpose",
            &format!("INC-2 {FAKE_VERDICT}"),
            "--out",
            &h.p("b.zip"),
        ]),
        0,
    );
    assert_shows("export", &out, &format!("auditor {AUDITOR_SHOWN} "));

    let (out, _) = assert_safe(
        "verify-bundle",
        &auditlens(&["verify-bundle", "--trust", &h.producer_pub, &h.p("b.zip")]),
        0,
    );
    assert_shows(
        "verify-bundle",
        &out,
        &format!("INC-2 {FAKE_VERDICT_SHOWN}"),
    );
    assert_shows("verify-bundle", &out, &format!("{ORIGIN_SHOWN} sequence 1"));
    assert_shows(
        "verify-bundle",
        &out,
        &format!("producer {PRODUCER_SHOWN} "),
    );
    assert_shows("verify-bundle", &out, &format!("{AUDITOR_SHOWN}+"));
    let (_, err) = assert_safe(
        "verify-bundle (untrusted producer)",
        &auditlens(&["verify-bundle", "--trust", &h.mallory_pub, &h.p("b.zip")]),
        1,
    );
    assert_shows(
        "verify-bundle",
        &err,
        &format!("producer {PRODUCER_SHOWN} "),
    );
}

/// `--json` output: every such character is a JSON escape (`\u009b`, `\u202e`, ...), never the character, and the
/// JSON read back holds exactly the archive's text (docs/trust-policy.md).
#[test]
fn json_output_writes_hidden_characters_as_json_escapes() {
    let h = Hostile::new();
    let db = h.p("s.db");
    let mut verify = vec!["verify", "--json", "--trust", &h.producer_pub];
    verify.extend(h.archives());
    let (out, _) = assert_safe("verify --json", &auditlens(&verify), 1);
    let strings = |json: &str| -> Vec<String> {
        let mut all = Vec::new();
        let mut stack: Vec<serde_json::Value> = json
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()
            .or_else(|_| serde_json::from_str(json).map(|v| vec![v]))
            .expect("JSON output");
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::String(s) => all.push(s),
                serde_json::Value::Array(a) => stack.extend(a),
                serde_json::Value::Object(o) => {
                    all.extend(o.keys().cloned());
                    stack.extend(o.into_iter().map(|(_, v)| v));
                }
                _ => {}
            }
        }
        all
    };
    assert_shows(
        "verify --json",
        &out,
        "example.com/\\u009b2J\\u202eprod\\u200b\\u2067",
    );
    assert!(strings(&out).iter().any(|s| s == ORIGIN), "{out}");

    assert_safe("import", &h.import(), 1);
    for args in [
        vec!["search", "--db", &db, "--json", ""],
        vec!["search", "--db", &db, "--json", "--all", ""],
        vec!["stats", "--db", &db, "--json", "--all"],
    ] {
        let (out, _) = assert_safe(args[0], &auditlens(&args), 0);
        let found = strings(&out);
        assert!(found.iter().any(|s| s == ACTOR), "{}: {out}", args[0]);
    }
    let (out, _) = assert_safe(
        "check --json",
        &auditlens(&["check", "--db", &db, "--json", "--trust", &h.mallory_pub]),
        1,
    );
    assert!(strings(&out).iter().any(|s| s.contains(ORIGIN)), "{out}");
}
