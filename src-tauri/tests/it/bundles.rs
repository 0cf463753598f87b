//! Evidence bundles through the command layer, with real sealed archives imported into a real database: the
//! auditor's key (created in the app, or an existing `.key` file), the export preview, exporting every match of a
//! query or hand-picked ids, and received bundles verified on their own (verified, tampered, untrusted).

use crate::support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use auditlens::note::SignerKey;
use auditlens_app::commands;
use auditlens_app::contract::{BundleVerdict, ExportSelection, FileKind, ImportEvent};
use auditlens_app::error::ErrorCode;
use auditlens_app::state::AppState;
use support::fixtures::{self, Fixtures, ORIGIN_CLOUDTRAIL, ORIGIN_K8S};

struct Env {
    tmp: tempfile::TempDir,
    state: AppState,
    fx: Fixtures,
}

impl Env {
    fn out(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
}

/// An app with the ops key trusted and the k8s (sequences 1, 2) and CloudTrail archives imported.
fn env() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let fx = fixtures::build(&tmp.path().join("fixtures"));
    let state = AppState::new(&tmp.path().join("appdata"), None).unwrap();
    commands::trust_key_file(&state, &fx.ops_pub.display().to_string()).unwrap();
    let paths: Vec<String> = [&fx.k8s_1, &fx.k8s_2, &fx.cloudtrail]
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut stored = 0;
    commands::import_archives(&state, &paths, 1, &AtomicBool::new(false), &mut |e| {
        if let ImportEvent::Finished { result, .. } = e {
            assert!(result.stored, "{}", result.message);
            stored += 1;
        }
    });
    assert_eq!(stored, 3);
    Env { tmp, state, fx }
}

fn query(q: &str) -> ExportSelection {
    ExportSelection::Query { query: q.into() }
}

fn k8s_query() -> ExportSelection {
    query(&format!("origin:\"{ORIGIN_K8S}\""))
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_auditor_key_is_created_in_the_app_data_folder_readable_by_its_owner_only() {
    let e = env();
    assert_eq!(commands::auditor_key(&e.state).unwrap(), None);
    let key = commands::create_auditor_key(&e.state, "jane.doe-audit").unwrap();
    assert_eq!(key.name, "jane.doe-audit");
    assert!(
        key.fingerprint.starts_with("SHA256:"),
        "{}",
        key.fingerprint
    );
    assert!(key.created_in_app);
    let path = PathBuf::from(&key.path);
    assert!(path.starts_with(e.state.data_dir.join(commands::AUDITOR_KEYS_DIR)));
    #[cfg(unix)]
    {
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
    }
    let private = std::fs::read_to_string(&path).unwrap();
    let parsed = SignerKey::parse(private.trim()).unwrap();
    assert_eq!(parsed.verifier().to_string(), key.key);
    let public = std::fs::read_to_string(key.pub_path.as_ref().unwrap()).unwrap();
    assert_eq!(public.trim(), key.key);
    // Kept across restarts.
    let again = AppState::new(&e.state.data_dir, None).unwrap();
    assert_eq!(commands::auditor_key(&again).unwrap(), Some(key.clone()));
    // Never overwritten; names that cannot be a key or a file name are refused.
    let err = commands::create_auditor_key(&e.state, "jane.doe-audit").unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(err.message.contains("already exists"), "{}", err.message);
    for bad in ["", "a b", "a+b", "../x", ".hidden", "a/b"] {
        let err = commands::create_auditor_key(&e.state, bad).unwrap_err();
        assert_eq!(err.code, ErrorCode::Invalid, "{bad:?}");
    }
    assert_eq!(commands::auditor_key(&e.state).unwrap(), Some(key));
}

#[test]
fn an_existing_keygen_key_file_can_be_chosen_and_a_public_key_is_refused() {
    let e = env();
    let signer = SignerKey::from_seed("auditor-kim", &[3; 32]).unwrap();
    let key_path = e.out("auditor-kim.key");
    std::fs::write(&key_path, format!("{}\n", signer.to_string_private())).unwrap();
    let chosen = commands::choose_auditor_key(&e.state, &key_path.display().to_string()).unwrap();
    assert_eq!(chosen.fingerprint, signer.verifier().fingerprint());
    assert!(!chosen.created_in_app);
    assert_eq!(commands::auditor_key(&e.state).unwrap(), Some(chosen));
    let err =
        commands::choose_auditor_key(&e.state, &e.fx.ops_pub.display().to_string()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidKey);
    assert!(err.message.contains("not a signing key"), "{}", err.message);
}

#[test]
fn the_preview_says_how_many_events_from_which_archives_over_which_time_range() {
    let e = env();
    let sel = k8s_query();
    let count = commands::count(&e.state, &format!("origin:\"{ORIGIN_K8S}\"")).unwrap();
    let p = commands::export_preview(&e.state, &sel).unwrap();
    assert_eq!(p.selection, sel);
    assert_eq!(p.events, count);
    assert!(!p.too_many);
    assert_eq!(p.max_events, 10_000);
    let archives: Vec<(&str, u64)> = p
        .archives
        .iter()
        .map(|a| (a.archive.as_str(), a.events))
        .collect();
    assert_eq!(archives.len(), 2, "{archives:?}");
    assert_eq!(archives[0].0, format!("{ORIGIN_K8S}@1"));
    assert_eq!(archives[1].0, format!("{ORIGIN_K8S}@2"));
    assert_eq!(archives[0].1 + archives[1].1, count);
    assert!(p.archives.iter().all(|a| a.verified));
    let (first, last) = (p.first.unwrap(), p.last.unwrap());
    assert!(first <= last, "{first} {last}");
    assert_eq!(p.sample.len(), commands::PREVIEW_SAMPLE);
    assert_eq!(p.unverified, 0);

    // Hand-picked ids, one of them not in the database.
    let rows = commands::search(&e.state, "", 500, None).unwrap().events;
    let ct = rows
        .iter()
        .find(|r| r.origin.as_deref() == Some(ORIGIN_CLOUDTRAIL))
        .unwrap();
    let k8s = rows
        .iter()
        .find(|r| r.origin.as_deref() == Some(ORIGIN_K8S))
        .unwrap();
    let ids = vec![k8s.id.clone(), ct.id.clone(), format!("{ORIGIN_K8S}@9#0")];
    let p = commands::export_preview(&e.state, &ExportSelection::Ids { ids }).unwrap();
    assert_eq!(p.events, 3);
    assert_eq!(p.missing, vec![format!("{ORIGIN_K8S}@9#0")]);
    assert_eq!(p.sample.len(), 2);

    let err = commands::export_preview(&e.state, &query("actor:")).unwrap_err();
    assert_eq!(err.code, ErrorCode::Query);
    let err =
        commands::export_preview(&e.state, &ExportSelection::Ids { ids: vec![] }).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
}

#[test]
fn every_match_of_a_query_is_exported_and_the_bundle_verifies_in_the_app() {
    let e = env();
    let auditor = commands::create_auditor_key(&e.state, "e2e-auditor").unwrap();
    let out = e.out("k8s-bundle.zip");
    let sel = k8s_query();
    let count = commands::count(&e.state, &format!("origin:\"{ORIGIN_K8S}\"")).unwrap();
    let r = commands::export_bundle(
        &e.state,
        &sel,
        "  Quarterly access review, ticket AUD-42  ",
        &out.display().to_string(),
    )
    .unwrap();
    assert_eq!(r.events, count);
    assert_eq!(r.archives, 2);
    assert_eq!(r.purpose, "Quarterly access review, ticket AUD-42");
    assert_eq!(r.auditor.fingerprint, auditor.fingerprint);
    assert_eq!(r.bytes, std::fs::metadata(&out).unwrap().len());
    assert_eq!(r.sha256.len(), 64);
    assert!(
        r.sha256
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert!(r.exported.ends_with('Z'));

    let b = commands::open_bundle(&e.state, &out.display().to_string()).unwrap();
    assert_eq!(b.verdict, BundleVerdict::Verified, "{:?}", b.failure);
    assert_eq!(b.failure, None);
    assert_eq!(b.sha256, r.sha256, "the file received is the file exported");
    let a = b.auditor.as_ref().unwrap();
    assert_eq!(a.fingerprint, auditor.fingerprint);
    assert!(a.yours && a.trusted);
    assert_eq!(
        b.purpose.as_deref(),
        Some("Quarterly access review, ticket AUD-42")
    );
    assert_eq!(
        b.query.as_deref(),
        Some(format!("origin:\"{ORIGIN_K8S}\"").as_str())
    );
    assert_eq!(b.ids, None);
    assert_eq!(b.exported.as_deref(), Some(r.exported.as_str()));
    assert_eq!(b.events_total, count);
    assert_eq!(b.events.len() as u64, count);
    assert_eq!(b.archives.len(), 2);
    assert!(
        b.archives
            .iter()
            .all(|a| a.signer.trusted && a.signer.fingerprint == e.fx.ops.verifier().fingerprint())
    );
    assert!(b.first.is_some() && b.last.is_some());
    // Each event is the exact text the producer signed, as stored.
    for ev in b.events.iter().take(5) {
        let stored = commands::event(&e.state, &ev.id).unwrap();
        assert_eq!(ev.text, stored.raw);
        assert_eq!(ev.time, stored.row.time);
        assert_eq!(ev.actor, stored.row.actor);
    }
    // Never over an existing file.
    let err =
        commands::export_bundle(&e.state, &sel, "again", &out.display().to_string()).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(err.message.contains("already exists"), "{}", err.message);
}

#[test]
fn selected_rows_are_exported_as_an_ids_selection() {
    let e = env();
    commands::create_auditor_key(&e.state, "picker").unwrap();
    let rows = commands::search(&e.state, "", 500, None).unwrap().events;
    let ct = rows
        .iter()
        .find(|r| r.origin.as_deref() == Some(ORIGIN_CLOUDTRAIL))
        .unwrap();
    let k8s = rows
        .iter()
        .find(|r| r.origin.as_deref() == Some(ORIGIN_K8S))
        .unwrap();
    let ids = vec![k8s.id.clone(), ct.id.clone(), k8s.id.clone()];
    let out = e.out("picked.zip");
    let r = commands::export_bundle(
        &e.state,
        &ExportSelection::Ids { ids: ids.clone() },
        "incident INC-7",
        &out.display().to_string(),
    )
    .unwrap();
    assert_eq!(r.events, 2);
    let b = commands::open_bundle(&e.state, &out.display().to_string()).unwrap();
    assert_eq!(b.verdict, BundleVerdict::Verified, "{:?}", b.failure);
    assert_eq!(b.query, None);
    assert_eq!(b.ids, Some(vec![ids[0].clone(), ids[1].clone()]));
    let mut shown: Vec<&str> = b.events.iter().map(|e| e.id.as_str()).collect();
    shown.sort();
    let mut want = vec![ids[0].as_str(), ids[1].as_str()];
    want.sort();
    assert_eq!(shown, want);
}

#[test]
fn an_export_needs_a_key_a_purpose_a_path_and_verified_events() {
    let e = env();
    let out = e.out("x.zip").display().to_string();
    let err = commands::export_bundle(&e.state, &k8s_query(), "why", &out).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    assert!(err.message.contains("auditor key"), "{}", err.message);
    commands::create_auditor_key(&e.state, "a").unwrap();
    let err = commands::export_bundle(&e.state, &k8s_query(), " \n ", &out).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(err.message.contains("purpose"), "{}", err.message);
    let err = commands::export_bundle(&e.state, &k8s_query(), "why", " ").unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    let err = commands::export_bundle(&e.state, &query("nothing-matches-this-word"), "why", &out)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    let missing = ExportSelection::Ids {
        ids: vec![format!("{ORIGIN_K8S}@9#0")],
    };
    let err = commands::export_bundle(&e.state, &missing, "why", &out).unwrap_err();
    assert!(err.message.starts_with("NOT EXPORTED"), "{}", err.message);
    assert!(!Path::new(&out).exists());
}

/// Copies a bundle with one character of `events.jsonl` changed (same length: only the hashes tell).
fn tamper_bundle(src: &Path, dst: &Path) {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(src).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(dst).unwrap());
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        if name == "events.jsonl" {
            let at = data.iter().position(|b| b.is_ascii_digit()).unwrap();
            data[at] = if data[at] == b'9' { b'8' } else { data[at] + 1 };
        }
        out.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&data).unwrap();
    }
    out.finish().unwrap();
}

#[test]
fn a_tampered_bundle_is_reported_failed_with_its_reason_and_shows_no_event() {
    let e = env();
    commands::create_auditor_key(&e.state, "a").unwrap();
    let out = e.out("good.zip");
    commands::export_bundle(&e.state, &k8s_query(), "review", &out.display().to_string()).unwrap();
    let bad = e.out("bad.zip");
    tamper_bundle(&out, &bad);
    let b = commands::open_bundle(&e.state, &bad.display().to_string()).unwrap();
    assert_eq!(b.verdict, BundleVerdict::Failed);
    let f = b.failure.unwrap();
    assert_eq!(f.kind, "entries");
    assert_eq!(f.entry.as_deref(), Some("events.jsonl"));
    assert!(f.message.contains("SHA-256 mismatch"), "{}", f.message);
    assert!(f.expected.is_some() && f.found.is_some() && f.expected != f.found);
    assert!(b.events.is_empty());
    assert_eq!(b.events_total, 0);

    // Not a bundle at all, and a file that does not exist.
    let b = commands::open_bundle(&e.state, &e.fx.k8s_1.display().to_string()).unwrap();
    assert_eq!(b.verdict, BundleVerdict::Failed);
    assert_eq!(b.failure.unwrap().kind, "container");
    let err =
        commands::open_bundle(&e.state, &e.out("nope.zip").display().to_string()).unwrap_err();
    assert_eq!(err.code, ErrorCode::Io);
}

#[test]
fn a_bundle_from_a_producer_not_in_the_keyring_is_intact_but_untrusted() {
    let e = env();
    commands::create_auditor_key(&e.state, "a").unwrap();
    let out = e.out("b.zip");
    commands::export_bundle(&e.state, &k8s_query(), "review", &out.display().to_string()).unwrap();
    commands::untrust_key(&e.state, &e.fx.ops.verifier().fingerprint()).unwrap();
    let b = commands::open_bundle(&e.state, &out.display().to_string()).unwrap();
    assert_eq!(b.verdict, BundleVerdict::Untrusted);
    assert_eq!(b.failure.unwrap().kind, "untrusted-producer");
    assert!(b.archives.iter().all(|a| !a.signer.trusted));
    assert!(
        !b.events.is_empty(),
        "an intact bundle still shows its events"
    );
}

#[test]
fn a_received_event_is_shown_as_text_with_invisible_and_reordering_characters_marked() {
    let e = env();
    commands::create_auditor_key(&e.state, "a").unwrap();
    // An event whose strings carry HTML, a right-to-left override and a zero-width space, raw (valid JSON).
    let log = e.out("hostile.jsonl");
    std::fs::write(
        &log,
        "{\"time\":\"2024-05-01T10:00:00Z\",\"actor\":\"<script>x()</script>\u{202E}gpj.exe\",\"action\":\"get\u{200B}\"}\n",
    )
    .unwrap();
    let archive = e.out("hostile.zip");
    auditlens::seal::seal(&auditlens::seal::SealOptions {
        key: &e.fx.ops,
        origin: "e2e.auditlens.dev/hostile-bidi",
        prev: None,
        format: None,
        mapping: None,
        out: &archive,
        inputs: std::slice::from_ref(&log),
        receive: false,
    })
    .unwrap();
    let mut stored = false;
    commands::import_archives(
        &e.state,
        &[archive.display().to_string()],
        2,
        &AtomicBool::new(false),
        &mut |ev| {
            if let ImportEvent::Finished { result, .. } = ev {
                stored = result.stored;
            }
        },
    );
    assert!(stored);
    let out = e.out("hostile-bundle.zip");
    commands::export_bundle(
        &e.state,
        &query("origin:\"e2e.auditlens.dev/hostile-bidi\""),
        "review",
        &out.display().to_string(),
    )
    .unwrap();
    let b = commands::open_bundle(&e.state, &out.display().to_string()).unwrap();
    assert_eq!(b.verdict, BundleVerdict::Verified, "{:?}", b.failure);
    let ev = &b.events[0];
    assert!(
        ev.text.contains("<script>x()</script>\\u{202e}gpj.exe"),
        "{}",
        ev.text
    );
    assert!(ev.text.contains("get\\u{200b}"), "{}", ev.text);
    assert!(!ev.text.contains('\u{202E}') && !ev.text.contains('\u{200B}'));
    let actor = ev.actor.as_deref().unwrap();
    assert!(!actor.contains('\u{202E}'), "{actor}");
}

#[test]
fn a_bundle_is_told_from_an_archive_before_anything_is_imported() {
    let e = env();
    commands::create_auditor_key(&e.state, "a").unwrap();
    let bundle = e.out("evidence.zip");
    commands::export_bundle(
        &e.state,
        &k8s_query(),
        "review",
        &bundle.display().to_string(),
    )
    .unwrap();
    // A tampered bundle is still a bundle: it opens on the bundle screen, which says why it failed.
    let bad = e.out("bad.zip");
    tamper_bundle(&bundle, &bad);
    let garbage = e.out("garbage.zip");
    std::fs::write(&garbage, b"not a zip").unwrap();
    let paths: Vec<String> = [
        &bundle,
        &e.fx.k8s_1,
        &bad,
        &garbage,
        &e.out("missing.zip"),
        &e.fx.cloudtrail,
    ]
    .iter()
    .map(|p| p.display().to_string())
    .collect();
    assert_eq!(
        commands::file_kinds(&paths),
        vec![
            FileKind::Bundle,
            FileKind::Archive,
            FileKind::Bundle,
            FileKind::Archive,
            FileKind::Archive,
            FileKind::Archive,
        ]
    );
    assert!(commands::file_kinds(&[]).is_empty());
}

#[test]
fn export_for_analytics_writes_the_verified_matches_as_ocsf_parquet_signed_by_the_auditor() {
    let e = env();
    let out = e.out("parquet");
    let dir = out.display().to_string();
    let err = commands::export_parquet(&e.state, "", &dir).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound, "{}", err.message);
    let auditor = commands::create_auditor_key(&e.state, "analyst").unwrap();
    let err = commands::export_parquet(&e.state, "actor:((", &dir).unwrap_err();
    assert_eq!(err.code, ErrorCode::Query);
    assert!(!out.exists());
    let r = commands::export_parquet(&e.state, &format!("origin:\"{ORIGIN_CLOUDTRAIL}\""), &dir)
        .unwrap();
    let stats = e.state.db().unwrap().read(|s| {
        Ok(s.count(&format!("origin:\"{ORIGIN_CLOUDTRAIL}\""), 0)
            .unwrap())
    });
    assert_eq!(r.rows, stats.unwrap());
    assert!(r.rows > 0 && r.files > 0);
    assert_eq!(r.classes.iter().map(|c| c.rows).sum::<u64>(), r.rows);
    assert_eq!(r.auditor.fingerprint, auditor.fingerprint);
    let manifest = std::fs::read_to_string(out.join("_manifest")).unwrap();
    assert!(
        manifest.starts_with("auditlens-ocsf-parquet v1\nauditor analyst+"),
        "{manifest}"
    );
    // The folder now holds an export: a second one is refused, and nothing in it changes.
    let err = commands::export_parquet(&e.state, "", &dir).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(err.message.contains("not empty"), "{}", err.message);
}

#[test]
fn export_results_writes_every_match_as_csv_or_json_lines_and_nothing_on_failure() {
    let e = env();
    let query = format!("origin:\"{ORIGIN_CLOUDTRAIL}\"");
    let matches = e
        .state
        .db()
        .unwrap()
        .read(|s| Ok(s.count(&query, 0).unwrap()))
        .unwrap();
    assert!(matches > 0);
    let csv = e.out("results.csv");
    let r = commands::export_results(&e.state, &query, &csv.display().to_string()).unwrap();
    assert_eq!((r.format.as_str(), r.events), ("csv", matches));
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        auditlens::table::csv_record(auditlens::table::CSV_HEADER)
    );
    assert_eq!(lines.len() as u64, matches + 1);
    assert_eq!(r.bytes, text.len() as u64);
    let jsonl = e.out("results.jsonl");
    let r = commands::export_results(&e.state, &query, &jsonl.display().to_string()).unwrap();
    assert_eq!((r.format.as_str(), r.events), ("jsonl", matches));
    let first: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&jsonl)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["origin"], ORIGIN_CLOUDTRAIL);
    assert!(first["archive"].is_string() && first["verified"].is_boolean());
    // A query that does not parse writes nothing, not even a partial file.
    let bad = e.out("bad.csv");
    let err =
        commands::export_results(&e.state, "actor:((", &bad.display().to_string()).unwrap_err();
    assert_eq!(err.code, ErrorCode::Query);
    assert!(!bad.exists());
    let leftovers: Vec<_> = std::fs::read_dir(bad.parent().unwrap())
        .unwrap()
        .filter_map(|d| d.ok())
        .filter(|d| d.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty());
    let err = commands::export_results(&e.state, "", "  ").unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
}
