//! The command layer against a real temporary app-data directory and database, without a window: each test calls
//! the plain functions of `commands.rs` as the IPC layer does, with real sealed archives.

use crate::support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use auditlens::store::import::ImportOutcome;
use auditlens::store::import::ImportResult;
use auditlens_app::cli::{self, Args};
use auditlens_app::commands;
use auditlens_app::contract::{CheckEvent, ImportEvent, Settings, Theme, TimeZoneChoice};
use auditlens_app::error::{AppError, ErrorCode};
use auditlens_app::state::AppState;
use support::fixtures::{self, Fixtures};

struct Env {
    _tmp: tempfile::TempDir,
    state: AppState,
    fx: Fixtures,
}

fn env() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let fx = fixtures::build(&tmp.path().join("fixtures"));
    let state = AppState::new(&tmp.path().join("appdata"), None).unwrap();
    Env {
        _tmp: tmp,
        state,
        fx,
    }
}

fn trust_ops(e: &Env) {
    commands::trust_key_file(&e.state, &e.fx.ops_pub.display().to_string()).unwrap();
}

/// Runs an import job to its end and returns every event it sent.
fn import(state: &AppState, paths: &[&Path]) -> Vec<ImportEvent> {
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let mut events = Vec::new();
    commands::import_archives(state, &paths, 1, &AtomicBool::new(false), &mut |e| {
        events.push(e)
    });
    events
}

fn results(events: &[ImportEvent]) -> Vec<ImportResult> {
    events
        .iter()
        .filter_map(|e| match e {
            ImportEvent::Finished { result, .. } => Some((**result).clone()),
            _ => None,
        })
        .collect()
}

fn one_result(state: &AppState, path: &Path) -> ImportResult {
    let r = results(&import(state, &[path]));
    assert_eq!(r.len(), 1, "one result per archive");
    r.into_iter().next().unwrap()
}

#[test]
fn a_verified_archive_is_imported_with_queued_started_finished_and_done() {
    let e = env();
    trust_ops(&e);
    let events = import(&e.state, &[&e.fx.k8s_1]);
    assert!(matches!(&events[0], ImportEvent::Queued { paths, .. } if paths.len() == 1));
    assert!(matches!(&events[1], ImportEvent::Started { index: 0, .. }));
    assert!(matches!(
        events.last(),
        Some(ImportEvent::Done {
            cancelled: false,
            ..
        })
    ));
    let r = results(&events);
    assert_eq!(r[0].outcome, ImportOutcome::Imported, "{}", r[0].message);
    assert!(r[0].stored);
    let status = commands::db_status(&e.state).unwrap();
    assert_eq!(status.archives, 1);
    assert_eq!(status.events, r[0].report.events.unwrap());
    assert!(status.is_default);
}

#[test]
fn progress_reports_carry_events_and_bytes_of_the_archive() {
    let e = env();
    trust_ops(&e);
    let events = import(&e.state, &[&e.fx.k8s_1]);
    let last = events
        .iter()
        .rev()
        .find_map(|e| match e {
            ImportEvent::Progress { progress, .. } => Some(*progress),
            _ => None,
        })
        .expect("at least the final progress report");
    assert_eq!(last.events_done, last.events_total);
    assert!(last.bytes_total > 0);
}

#[test]
fn an_archive_imported_again_is_reported_already_imported() {
    let e = env();
    trust_ops(&e);
    assert_eq!(
        one_result(&e.state, &e.fx.k8s_1).outcome,
        ImportOutcome::Imported
    );
    let again = one_result(&e.state, &e.fx.k8s_1);
    assert_eq!(again.outcome, ImportOutcome::AlreadyImported);
    assert!(!again.stored);
}

#[test]
fn an_archive_by_an_untrusted_key_is_refused_until_the_key_is_trusted() {
    let e = env();
    trust_ops(&e);
    let r = one_result(&e.state, &e.fx.partner_archive);
    assert_eq!(r.outcome, ImportOutcome::Untrusted);
    assert!(!r.stored);
    let signer = r.report.signer.clone().expect("the signer is reported");
    assert_eq!(signer.fingerprint, e.fx.partner.verifier().fingerprint());
    assert!(!signer.trusted);
    assert_eq!(commands::db_status(&e.state).unwrap().events, 0);

    let outcome = commands::trust_key(&e.state, &signer.key).unwrap();
    assert!(outcome.added);
    assert_eq!(outcome.key.fingerprint, signer.fingerprint);
    let again = one_result(&e.state, &e.fx.partner_archive);
    assert_eq!(again.outcome, ImportOutcome::Imported, "{}", again.message);
}

#[test]
fn a_tampered_archive_fails_with_the_verifiers_exact_reason_and_stores_nothing() {
    let e = env();
    trust_ops(&e);
    let r = one_result(&e.state, &e.fx.tampered);
    assert_eq!(r.outcome, ImportOutcome::Failed);
    let f = r.report.failure.clone().expect("a failure");
    assert_eq!(r.message, f.message, "the message is the verifier's reason");
    assert_eq!(f.event_index, Some(0));
    assert!(f.expected.is_some() && f.found.is_some());
    assert_eq!(commands::db_status(&e.state).unwrap().archives, 0);
}

#[test]
fn a_missing_file_is_an_io_error_not_a_verification_result() {
    let e = env();
    let events = import(&e.state, &[Path::new("/nonexistent/archive.zip")]);
    let error = events
        .iter()
        .find_map(|e| match e {
            ImportEvent::Failed { error, .. } => Some(error.clone()),
            _ => None,
        })
        .expect("a failed event");
    assert_eq!(error.code, ErrorCode::Io);
    assert!(
        error.message.contains("/nonexistent/archive.zip"),
        "{}",
        error.message
    );
}

#[test]
fn a_job_cancelled_before_it_starts_imports_nothing() {
    let e = env();
    trust_ops(&e);
    let mut events = Vec::new();
    let paths = [e.fx.k8s_1.display().to_string()];
    commands::import_archives(&e.state, &paths, 5, &AtomicBool::new(true), &mut |ev| {
        events.push(ev)
    });
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ImportEvent::Started { .. }))
    );
    assert!(matches!(
        events.last(),
        Some(ImportEvent::Done {
            job: 5,
            cancelled: true
        })
    ));
    assert_eq!(commands::db_status(&e.state).unwrap().events, 0);
}

#[test]
fn cancelling_during_an_import_stops_it_and_stores_nothing() {
    let e = env();
    trust_ops(&e);
    // Progress is reported every 65,536 events: an archive with more than that can be stopped midway.
    let log = e.fx.dir.join("big.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&log).unwrap());
    auditlens_bench::generate::write_k8s(&mut out, 70_000, 1, 1_717_200_000).unwrap();
    drop(out);
    let big = e.fx.dir.join("big.zip");
    auditlens::seal::seal(&auditlens::seal::SealOptions {
        key: &e.fx.ops,
        origin: "e2e.auditlens.dev/big",
        prev: None,
        format: None,
        mapping: None,
        out: &big,
        inputs: &[log],
        receive: false,
    })
    .unwrap();
    let cancel = AtomicBool::new(false);
    let mut events = Vec::new();
    let paths = [
        big.display().to_string(),
        e.fx.cloudtrail.display().to_string(),
    ];
    commands::import_archives(&e.state, &paths, 7, &cancel, &mut |ev| {
        if let ImportEvent::Progress { progress, .. } = &ev {
            assert!(
                progress.events_done < progress.events_total,
                "stopped at the first report"
            );
            cancel.store(true, Ordering::Relaxed);
        }
        events.push(ev);
    });
    let r = results(&events);
    assert_eq!(r.len(), 1, "the second archive is not started");
    assert_eq!(r[0].outcome, ImportOutcome::Cancelled);
    assert!(matches!(
        events.last(),
        Some(ImportEvent::Done {
            job: 7,
            cancelled: true
        })
    ));
    assert_eq!(commands::db_status(&e.state).unwrap().events, 0);
}

#[test]
fn search_pages_with_keyset_cursors_and_counts_every_match() {
    let e = env();
    trust_ops(&e);
    import(&e.state, &[&e.fx.k8s_1, &e.fx.k8s_2, &e.fx.cloudtrail]);
    let total = commands::count(&e.state, "").unwrap();
    assert!(total > 10);
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = commands::search(&e.state, "", 7, after.as_deref()).unwrap();
        assert!(page.events.len() <= 7);
        seen.extend(page.events.into_iter().map(|r| r.id));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len() as u64, total);
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no event twice across pages");
    let k8s = commands::count(&e.state, "source:k8s").unwrap();
    assert!(k8s > 0 && k8s < total);
    // A page by its offset (a scrollbar dragged into the results) holds the rows at that position, in any order.
    let sort = auditlens::store::sorted::Sort {
        column: auditlens::store::sorted::SortColumn::Actor,
        ascending: false,
    };
    let mut by_actor = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page =
            commands::search_sorted(&e.state, "", 5, after.as_deref(), Some(sort), false, None)
                .unwrap();
        by_actor.extend(page.events.into_iter().map(|r| r.id));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    for (order, list) in [(None, &seen), (Some(sort), &by_actor)] {
        for offset in [3, 11, total as usize - 2] {
            let page =
                commands::search_sorted(&e.state, "", 5, None, order, false, Some(offset as u32))
                    .unwrap();
            let ids: Vec<_> = page.events.into_iter().map(|r| r.id).collect();
            assert_eq!(
                ids,
                list[offset..(offset + 5).min(list.len())],
                "{order:?} at {offset}"
            );
        }
    }
    // An offset with a cursor is refused, not half applied.
    let err =
        commands::search_sorted(&e.state, "", 5, Some("x"), None, false, Some(3)).unwrap_err();
    assert_eq!(err.code, auditlens_app::error::ErrorCode::Invalid);
}

#[test]
fn a_query_error_carries_its_column() {
    let e = env();
    let err = commands::search(&e.state, "actor:alice (", 50, None).unwrap_err();
    assert_eq!(err.code, ErrorCode::Query);
    assert_eq!(err.column, Some(13));
    let err = commands::count(&e.state, "foo:bar").unwrap_err();
    assert_eq!((err.code, err.column), (ErrorCode::Query, Some(1)));
    let err = commands::histogram(&e.state, "after:2024-13-01", 10).unwrap_err();
    assert_eq!((err.code, err.column), (ErrorCode::Query, Some(7)));
}

#[test]
fn errors_cross_to_the_ui_as_code_and_message() {
    let e = env();
    let err = commands::search(&e.state, "a OR", 50, None).unwrap_err();
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(json["code"], "query");
    assert_eq!(json["column"], 3);
    assert!(json["message"].as_str().unwrap().contains("OR"));
    let plain = serde_json::to_value(AppError::new(ErrorCode::NotFound, "x")).unwrap();
    assert_eq!(
        plain,
        serde_json::json!({"code": "not-found", "message": "x"})
    );
}

#[test]
fn the_histogram_counts_every_match_in_its_buckets() {
    let e = env();
    trust_ops(&e);
    import(&e.state, &[&e.fx.k8s_1, &e.fx.cloudtrail]);
    let total = commands::count(&e.state, "").unwrap();
    let h = commands::histogram(&e.state, "", 60).unwrap();
    assert_eq!(h.timed + h.untimed, total);
    assert_eq!(h.counts.iter().sum::<u64>(), h.timed);
    assert!(h.counts.len() <= 61);
    let (start, first, last) = (h.start.unwrap(), h.first.unwrap(), h.last.unwrap());
    assert!(start <= first && first <= last);
    assert!(last < start + h.bucket_micros * h.counts.len() as i64);
    // Narrowing to the first bucket keeps only its matches.
    let q = format!(
        "after:{} before:{}",
        auditlens::time::format_utc(start),
        auditlens::time::format_utc(start + h.bucket_micros)
    );
    assert_eq!(commands::count(&e.state, &q).unwrap(), h.counts[0]);
    let none = commands::histogram(&e.state, "nosuchwordanywhere", 60).unwrap();
    assert_eq!((none.start, none.timed, none.counts.len()), (None, 0, 0));
}

#[test]
fn an_event_has_its_exact_bytes_and_provenance() {
    let e = env();
    trust_ops(&e);
    import(&e.state, &[&e.fx.k8s_1]);
    let row = commands::search(&e.state, "", 1, None)
        .unwrap()
        .events
        .remove(0);
    let ev = commands::event(&e.state, &row.id).unwrap();
    assert!(ev.row.verified);
    assert_eq!(ev.archive_status, "verified");
    assert_eq!(ev.leaf.len(), 64);
    assert_eq!(
        ev.signer_key.as_deref(),
        Some(e.fx.ops.verifier().to_string().as_str())
    );
    assert_eq!(
        ev.signer_fingerprint.as_deref(),
        Some(e.fx.ops.verifier().fingerprint().as_str())
    );
    assert!(
        ev.checkpoint
            .as_deref()
            .unwrap()
            .starts_with(fixtures::ORIGIN_K8S)
    );
    assert!(ev.raw.starts_with('{') && ev.raw.ends_with('}'));
    let missing = commands::event(&e.state, "nowhere@1#0").unwrap_err();
    assert_eq!(missing.code, ErrorCode::NotFound);
}

#[test]
fn hostile_payloads_are_stored_and_returned_as_plain_text() {
    let e = env();
    trust_ops(&e);
    assert_eq!(
        one_result(&e.state, &e.fx.xss).outcome,
        ImportOutcome::Imported
    );
    let rows = commands::search(
        &e.state,
        &format!("origin:\"{}\"", fixtures::ORIGIN_XSS),
        50,
        None,
    )
    .unwrap()
    .events;
    assert_eq!(rows.len(), fixtures::PAYLOADS.len());
    for p in fixtures::PAYLOADS {
        assert!(
            rows.iter().any(|r| r.actor.as_deref() == Some(*p)),
            "{p} comes back unchanged"
        );
    }
}

#[test]
fn archives_lists_every_archive_by_origin_and_sequence() {
    let e = env();
    trust_ops(&e);
    import(&e.state, &[&e.fx.k8s_2, &e.fx.k8s_1, &e.fx.cloudtrail]);
    let view = commands::archives(&e.state).unwrap();
    assert_eq!(view.archives.len(), 3);
    let k8s: Vec<_> = view
        .archives
        .iter()
        .filter(|a| a.origin.as_deref() == Some(fixtures::ORIGIN_K8S))
        .map(|a| (a.sequence, a.gap_before, a.status.as_str()))
        .collect();
    assert_eq!(
        k8s,
        vec![(Some(1), None, "verified"), (Some(2), None, "verified")]
    );
    let a = view
        .archives
        .iter()
        .find(|a| a.origin.as_deref() == Some(fixtures::ORIGIN_CLOUDTRAIL))
        .unwrap();
    let detail = commands::archive_detail(&e.state, a.id).unwrap();
    assert!(
        detail
            .checkpoint
            .unwrap()
            .starts_with(fixtures::ORIGIN_CLOUDTRAIL)
    );
    assert!(detail.manifest.unwrap().contains("\"origin\""));
    assert!(detail.failure.is_none());
    assert_eq!(
        commands::archive_detail(&e.state, 999).unwrap_err().code,
        ErrorCode::NotFound
    );
}

#[test]
fn a_missing_sequence_shows_as_a_gap() {
    let e = env();
    trust_ops(&e);
    // Sequence 3 of the k8s origin, sealed after 2: with 1 and 3 stored, 2 is missing.
    let k8s_3 = e.fx.dir.join("k8s-3.zip");
    auditlens::seal::seal(&auditlens::seal::SealOptions {
        key: &e.fx.ops,
        origin: fixtures::ORIGIN_K8S,
        prev: Some(&e.fx.k8s_2),
        format: None,
        mapping: None,
        out: &k8s_3,
        inputs: &[fixtures::logs("k8s_audit/falco_trace_files/exec_pod.json")],
        receive: false,
    })
    .unwrap();
    import(&e.state, &[&e.fx.k8s_1, &k8s_3]);
    let view = commands::archives(&e.state).unwrap();
    let third = view
        .archives
        .iter()
        .find(|a| a.sequence == Some(3))
        .unwrap();
    assert_eq!(third.gap_before, Some(3));
}

/// Rows shown as verified by search, sorted search and the event detail, as the window gets them.
fn shown_verified(state: &AppState) -> Vec<(String, bool, bool)> {
    let page = commands::search(state, "", 500, None).unwrap();
    let sorted = commands::search_sorted(state, "", 500, None, None, false, None).unwrap();
    assert_eq!(page.events, sorted.events);
    page.events
        .iter()
        .map(|r| {
            let d = commands::event(state, &r.id).unwrap();
            assert_eq!(
                d.not_confirmed.is_some(),
                !d.row.verified,
                "{:?}",
                d.not_confirmed
            );
            (r.id.clone(), r.verified, d.row.verified)
        })
        .collect()
}

#[test]
fn check_reports_a_clean_database_and_finds_an_edit_behind_its_back() {
    let e = env();
    trust_ops(&e);
    import(&e.state, &[&e.fx.k8s_1]);
    let before = shown_verified(&e.state);
    assert!(!before.is_empty() && before.iter().all(|(_, page, detail)| *page && *detail));
    let run = || {
        let mut events = Vec::new();
        commands::check_database(&e.state, 3, &AtomicBool::new(false), &mut |ev| {
            events.push(ev)
        });
        events
    };
    match run().last() {
        Some(CheckEvent::Finished { report, .. }) => assert!(report.ok, "{:?}", report.problems),
        other => panic!("expected a report, got {other:?}"),
    }
    let store = auditlens::store::Store::open(&e.state.db().unwrap().path).unwrap();
    store
        .connection()
        .execute(
            "UPDATE events SET raw = replace(raw, 'a', 'b') WHERE idx = 0",
            [],
        )
        .unwrap();
    // The window no longer shows the edited event as verified (the archive's leaves were confirmed by the first
    // page; the row's bytes are read again each time), and still shows the others as verified.
    let edited: Vec<String> = store
        .connection()
        .prepare("SELECT a.origin || '@' || a.sequence || '#' || e.idx FROM events e JOIN archives a ON a.id = e.archive_id WHERE e.idx = 0")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let after = shown_verified(&e.state);
    assert_eq!(after.len(), before.len());
    for (id, page, detail) in &after {
        let is_edited = edited.contains(id);
        assert_eq!((*page, *detail), (!is_edited, !is_edited), "{id}");
    }
    let why = commands::event(&e.state, &edited[0])
        .unwrap()
        .not_confirmed
        .unwrap();
    assert!(
        why.contains("event bytes do not match the stored leaf hash"),
        "{why}"
    );
    // Exported results say what the screens say.
    let out = e._tmp.path().join("results.jsonl");
    commands::export_results(&e.state, "", &out.display().to_string()).unwrap();
    let exported: Vec<(String, bool)> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["id"].as_str().unwrap().to_owned(),
                v["verified"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(exported.len(), after.len());
    for (id, verified) in &exported {
        assert_eq!(*verified, !edited.contains(id), "{id}");
    }
    match run().last() {
        Some(CheckEvent::Finished { report, .. }) => {
            assert!(!report.ok);
            assert!(report.problems.iter().any(|p| p.event_index == Some(0)));
        }
        other => panic!("expected a report, got {other:?}"),
    }
}

/// The store of the end-to-end suite when it re-checks (tests/e2e/app.test.mjs): the gap in the k8s chain is the
/// one finding, named at its place; with no key in the keyring nothing marked verified can be confirmed.
#[test]
fn check_names_the_gap_of_the_e2e_store_as_its_only_finding_and_an_empty_keyring_as_unconfirmed_trust()
 {
    let e = env();
    trust_ops(&e);
    import(
        &e.state,
        &[
            &e.fx.k8s_1,
            &e.fx.k8s_2,
            &e.fx.k8s_4,
            &e.fx.cloudtrail,
            &e.fx.xss,
        ],
    );
    commands::trust_key_file(&e.state, &e.fx.partner_pub.display().to_string()).unwrap();
    import(&e.state, &[&e.fx.partner_archive]);
    let run = || {
        let mut events = Vec::new();
        commands::check_database(&e.state, 4, &AtomicBool::new(false), &mut |ev| {
            events.push(ev)
        });
        match events.pop() {
            Some(CheckEvent::Finished { report, .. }) => report,
            other => panic!("expected a report, got {other:?}"),
        }
    };
    let report = run();
    assert!(!report.ok);
    assert!(report.trust_given);
    assert_eq!(report.archives_checked, 6);
    let found: Vec<(Option<&str>, Option<u64>, &str)> = report
        .problems
        .iter()
        .map(|p| (p.origin.as_deref(), p.sequence, p.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [(
            Some(fixtures::ORIGIN_K8S),
            Some(3),
            "sequence 3 is missing: the verified chain of this origin jumps from sequence 2 to 4 \
             (an archive deleted from the store, or never imported)"
        )]
    );
    assert!(report.notices.is_empty(), "{:?}", report.notices);
    // The same database opened by an app whose keyring is empty (`--db`, a fresh app-data folder): what the
    // file marks verified cannot be confirmed.
    let db = e.state.db().unwrap().path.clone();
    let elsewhere = AppState::new(&e._tmp.path().join("elsewhere"), Some(&db)).unwrap();
    let mut events = Vec::new();
    commands::check_database(&elsewhere, 5, &AtomicBool::new(false), &mut |ev| {
        events.push(ev)
    });
    let Some(CheckEvent::Finished { report, .. }) = events.pop() else {
        panic!("expected a report")
    };
    assert!(!report.trust_given);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.message.contains("signed by e2e-ops")
                && p.message.contains("no trusted key was given")),
        "{:?}",
        report.problems
    );
    // Its Overview names each archive the file marks verified and says not everything is; nothing is changed
    // until the auditor asks.
    let scope = auditlens::store::stats::Scope::default();
    let options = auditlens::store::stats::DashboardOptions::default();
    let v = commands::overview(&elsewhere, &scope, &options)
        .unwrap()
        .verification;
    assert!(!v.all_verified);
    assert_eq!(v.not_trusted_now.len(), 6, "{:?}", v.not_trusted_now);
    assert!(
        v.not_trusted_now.iter().all(|a| a
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("not trusted"))),
        "{:?}",
        v.not_trusted_now
    );
    // Deployments and Access name the same archives; this app's own keyring trusts them all.
    let names = |v: &[auditlens::store::stats::ArchiveNote]| -> Vec<i64> {
        v.iter().map(|a| a.archive_id).collect()
    };
    for (db, expected) in [
        (&elsewhere, names(&v.not_trusted_now)),
        (&e.state, Vec::new()),
    ] {
        let d = commands::deployments(db, &scope, &options).unwrap().scope;
        let a = commands::access(db, &scope, &options).unwrap().scope;
        assert_eq!(names(&d.not_trusted_now.unwrap_or_default()), expected);
        assert_eq!(names(&a.not_trusted_now.unwrap_or_default()), expected);
    }
    let here = commands::overview(&e.state, &scope, &options)
        .unwrap()
        .verification;
    assert!(
        here.not_trusted_now.is_empty(),
        "{:?}",
        here.not_trusted_now
    );
    drop(elsewhere);

    // Removing every key from this app's keyring: every archive they vouched for leaves the verified counts (the
    // gap goes with them: no verified chain is left), and the check agrees.
    let mut demoted = Vec::new();
    for k in commands::keys(&e.state) {
        demoted.extend(
            commands::untrust_key(&e.state, &k.fingerprint)
                .unwrap()
                .demoted,
        );
    }
    assert_eq!(demoted.len(), 6, "{demoted:?}");
    assert!(
        demoted
            .iter()
            .all(|d| d.message.contains("is no longer counted as verified")),
        "{demoted:?}"
    );
    let archives = commands::archives(&e.state).unwrap().archives;
    assert!(
        archives.iter().all(|a| a.status == "untrusted"),
        "{archives:?}"
    );
    let log = commands::action_log(&e.state).unwrap();
    assert_eq!(
        log.entries
            .iter()
            .filter(|a| a.action == "archive no longer trusted")
            .count(),
        6
    );
    let report = run();
    assert!(report.ok, "{:?}", report.problems);
}

/// "Mark as not trusted" on the Overview: the archives this app's keys do not trust leave the verified counts,
/// each logged; the others stay.
#[test]
fn archives_the_keyring_does_not_trust_are_marked_not_trusted_on_request() {
    let e = env();
    trust_ops(&e);
    import(&e.state, &[&e.fx.k8s_1, &e.fx.k8s_2]);
    commands::trust_key_file(&e.state, &e.fx.partner_pub.display().to_string()).unwrap();
    import(&e.state, &[&e.fx.partner_archive]);
    let db = e.state.db().unwrap().path.clone();
    // Another app on the same database that trusts only the partner's key.
    let elsewhere = AppState::new(&e._tmp.path().join("elsewhere"), Some(&db)).unwrap();
    commands::trust_key_file(&elsewhere, &e.fx.partner_pub.display().to_string()).unwrap();
    // Until then, its results and event details do not show those archives' events as verified; this app's do.
    let query = format!("origin:{}", fixtures::ORIGIN_K8S);
    let shown = |state: &AppState| -> (usize, usize) {
        let page = commands::search(state, &query, 1000, None).unwrap();
        let sorted = commands::search_sorted(state, &query, 1000, None, None, false, None).unwrap();
        assert_eq!(
            page.events.iter().map(|r| r.verified).collect::<Vec<_>>(),
            sorted.events.iter().map(|r| r.verified).collect::<Vec<_>>()
        );
        (
            page.events.iter().filter(|r| r.verified).count(),
            page.events.len(),
        )
    };
    let (verified_here, n) = shown(&e.state);
    assert!(n > 0);
    assert_eq!(verified_here, n);
    assert_eq!(shown(&elsewhere), (0, n));
    let first = commands::search(&elsewhere, &query, 1, None)
        .unwrap()
        .events[0]
        .id
        .clone();
    let detail = commands::event(&elsewhere, &first).unwrap();
    assert!(!detail.row.verified);
    assert_eq!(detail.archive_status, "verified");
    assert!(
        detail
            .not_trusted_now
            .as_deref()
            .is_some_and(|r| r.contains("signed by e2e-ops") && r.contains("not trusted")),
        "{:?}",
        detail.not_trusted_now
    );
    let here = commands::event(&e.state, &first).unwrap();
    assert!(here.row.verified && here.not_trusted_now.is_none());
    // Nothing of them is exported as verified: the preview says so, the bundle and the analytics export refuse.
    commands::create_auditor_key(&elsewhere, "auditor").unwrap();
    let selection = auditlens_app::contract::ExportSelection::Query {
        query: query.clone(),
    };
    let preview = commands::export_preview(&elsewhere, &selection).unwrap();
    assert!(preview.archives.iter().all(|a| !a.verified), "{preview:?}");
    assert_eq!(preview.unverified, preview.events);
    assert!(preview.sample.iter().all(|r| !r.verified));
    let out = e._tmp.path().join("b.zip");
    let err = commands::export_bundle(&elsewhere, &selection, "review", &out.display().to_string())
        .unwrap_err();
    assert!(
        err.message.starts_with(
            "NOT EXPORTED: 2 archives are marked verified in this database, but not trusted"
        ) && err.message.contains("signed by e2e-ops"),
        "{}",
        err.message
    );
    assert!(!out.exists());
    let dir = e._tmp.path().join("parquet");
    let err = commands::export_parquet(&elsewhere, "", &dir.display().to_string()).unwrap_err();
    assert!(
        err.message.starts_with("NOT EXPORTED: 2 archives"),
        "{}",
        err.message
    );
    assert!(!dir.join("_manifest").exists());
    // The partner's archive, which this app trusts, still exports.
    let partner = auditlens_app::contract::ExportSelection::Query {
        query: format!("origin:{}", fixtures::ORIGIN_PARTNER),
    };
    let done = commands::export_bundle(&elsewhere, &partner, "review", &out.display().to_string())
        .unwrap();
    assert!(done.events > 0 && out.exists());
    let demoted = commands::demote_untrusted_archives(&elsewhere).unwrap();
    assert_eq!(
        demoted.iter().map(|d| d.sequence).collect::<Vec<_>>(),
        vec![1, 2],
        "{demoted:?}"
    );
    assert!(demoted.iter().all(|d| d.origin == fixtures::ORIGIN_K8S));
    let statuses: Vec<String> = commands::archives(&elsewhere)
        .unwrap()
        .archives
        .into_iter()
        .map(|a| a.status)
        .collect();
    assert_eq!(statuses.iter().filter(|s| *s == "untrusted").count(), 2);
    assert_eq!(statuses.iter().filter(|s| *s == "verified").count(), 1);
    let log = commands::action_log(&elsewhere).unwrap();
    assert_eq!(
        log.entries
            .iter()
            .filter(|a| a.action == "archive no longer trusted")
            .count(),
        2
    );
    assert!(
        commands::demote_untrusted_archives(&elsewhere)
            .unwrap()
            .is_empty()
    );
    let v = commands::overview(
        &elsewhere,
        &auditlens::store::stats::Scope::default(),
        &auditlens::store::stats::DashboardOptions::default(),
    )
    .unwrap()
    .verification;
    assert!(v.not_trusted_now.is_empty());
    assert_eq!(v.untrusted.len(), 2);
    let options = auditlens::store::stats::DashboardOptions::default();
    let scope = auditlens::store::stats::Scope::default();
    assert!(
        commands::deployments(&elsewhere, &scope, &options)
            .unwrap()
            .scope
            .not_trusted_now
            .is_none()
    );
    assert!(
        commands::access(&elsewhere, &scope, &options)
            .unwrap()
            .scope
            .not_trusted_now
            .is_none()
    );
}

#[test]
fn the_keyring_adds_lists_and_removes_keys_and_refuses_what_is_not_a_key() {
    let e = env();
    assert!(commands::keys(&e.state).is_empty());
    let added = commands::trust_key_file(&e.state, &e.fx.ops_pub.display().to_string()).unwrap();
    assert!(added.added);
    assert_eq!(added.key.name, "e2e-ops");
    assert!(!commands::trust_key(&e.state, &added.key.key).unwrap().added);
    assert_eq!(commands::keys(&e.state).len(), 1);

    let bad = commands::trust_key(&e.state, "not a key").unwrap_err();
    assert_eq!(bad.code, ErrorCode::InvalidKey);
    let missing = commands::trust_key_file(&e.state, "/nonexistent.pub").unwrap_err();
    assert_eq!(missing.code, ErrorCode::Io);

    let left = commands::untrust_key(&e.state, &added.key.fingerprint).unwrap();
    assert!(left.keys.is_empty());
    assert!(left.demoted.is_empty(), "nothing was imported");
    assert_eq!(
        commands::untrust_key(&e.state, &added.key.fingerprint)
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
}

#[test]
fn the_keyring_and_settings_survive_a_restart_in_the_app_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = fixtures::build(&tmp.path().join("fx"));
    let data = tmp.path().join("appdata");
    {
        let state = AppState::new(&data, None).unwrap();
        commands::trust_key_file(&state, &fx.ops_pub.display().to_string()).unwrap();
        let chosen = tmp.path().join("chosen/evidence.db");
        let status =
            commands::choose_database(&state, Some(&chosen.display().to_string())).unwrap();
        assert!(!status.is_default);
        commands::save_settings(
            &state,
            Settings {
                db_path: None,
                theme: Theme::Dark,
                time_zone: TimeZoneChoice::Local,
                columns: vec!["time".into(), "actor".into()],
                ..Settings::default()
            },
        )
        .unwrap();
    }
    let state = AppState::new(&data, None).unwrap();
    assert_eq!(commands::keys(&state).len(), 1);
    let s = state.settings();
    assert_eq!((s.theme, s.time_zone), (Theme::Dark, TimeZoneChoice::Local));
    assert!(
        s.db_path.unwrap().ends_with("chosen/evidence.db"),
        "save_settings keeps the chosen database"
    );
    assert!(state.db().unwrap().path.ends_with("chosen/evidence.db"));
    assert!(data.join("keyring.json").is_file() && data.join("settings.json").is_file());
    // Back to the default database.
    assert!(commands::choose_database(&state, None).unwrap().is_default);
}

#[test]
fn the_command_line_opens_its_database_trusts_its_keys_and_queues_its_archives() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = fixtures::build(&tmp.path().join("fx"));
    let db = tmp.path().join("cli.db");
    let state = AppState::new(&tmp.path().join("appdata"), Some(&db)).unwrap();
    let args = Args {
        db: Some(db.clone()),
        trust: vec![fx.ops_pub.clone(), tmp.path().join("missing.pub")],
        archives: vec![fx.k8s_1.clone()],
    };
    cli::apply(&state, &args);
    let startup = commands::startup(&state).unwrap();
    assert!(startup.db.from_command_line);
    assert_eq!(startup.db.path, db.display().to_string());
    // --trust trusts for this session only: nothing is saved to the keyring until the auditor says so.
    assert_eq!(startup.keys.len(), 0);
    assert_eq!(startup.session_keys.len(), 1);
    assert!(!state.data_dir.join("keyring.json").exists());
    assert_eq!(startup.imports, vec![fx.k8s_1.display().to_string()]);
    // The session key verifies imports at once.
    assert_eq!(
        one_result(&state, &fx.k8s_1).outcome,
        ImportOutcome::Imported
    );
    let fingerprint = startup.session_keys[0].fingerprint.clone();
    let saved = commands::save_session_key(&state, &fingerprint).unwrap();
    assert!(saved.added);
    assert_eq!(commands::keys(&state).len(), 1);
    assert!(commands::session_keys(&state).is_empty());
    assert!(state.data_dir.join("keyring.json").is_file());
    assert_eq!(
        commands::save_session_key(&state, &fingerprint)
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );
    assert_eq!(startup.notices.len(), 1, "the missing key file is reported");
    assert!(startup.notices[0].contains("missing.pub"));
    // Handed over once.
    assert!(commands::startup(&state).unwrap().imports.is_empty());
    // --db is not saved as the choice.
    assert_eq!(state.settings().db_path, None);
}

/// Engagements (issue 16): each has its own folder, database, working papers and keyring; switching swaps them
/// all, keys never cross, and the choice is kept for the next start.
#[test]
fn two_engagements_keep_their_evidence_and_their_keys_apart() {
    use auditlens::store::coverage::AuditPeriod;
    let e = env();
    let root = e._tmp.path();
    let acme = root.join("acme");
    let globex = root.join("globex");
    let period = AuditPeriod {
        from: "2017-01-01".into(),
        to: "2019-01-01".into(),
        silence: "7d".into(),
    };
    let view = commands::create_engagement(
        &e.state,
        &acme.display().to_string(),
        "ACME SOC 2",
        "ACME Corp",
        Some(&period),
    )
    .unwrap();
    assert_eq!(view.current.as_ref().unwrap().name, "ACME SOC 2");
    assert_eq!(
        view.current.as_ref().unwrap().period.as_ref(),
        Some(&period)
    );
    assert!(
        commands::db_status(&e.state)
            .unwrap()
            .path
            .ends_with("acme/evidence.db")
    );
    trust_ops(&e);
    assert_eq!(
        one_result(&e.state, &e.fx.k8s_1).outcome,
        ImportOutcome::Imported
    );
    assert_eq!(commands::keys(&e.state).len(), 1);

    let view = commands::create_engagement(
        &e.state,
        &globex.display().to_string(),
        "Globex ISO 27001",
        "Globex",
        None,
    )
    .unwrap();
    assert_eq!(view.current.as_ref().unwrap().client, "Globex");
    // A new keyring and a new store: the key trusted for ACME is not trusted here.
    assert!(commands::keys(&e.state).is_empty());
    assert_eq!(commands::db_status(&e.state).unwrap().archives, 0);
    assert_eq!(
        one_result(&e.state, &e.fx.k8s_1).outcome,
        ImportOutcome::Untrusted
    );
    let recent: Vec<String> = view.recent.iter().map(|r| r.folder.clone()).collect();
    assert_eq!(
        recent,
        [globex.display().to_string(), acme.display().to_string()]
    );
    let err = commands::create_engagement(&e.state, &acme.display().to_string(), "again", "", None)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    let err =
        commands::open_engagement(&e.state, &root.join("fx").display().to_string()).unwrap_err();
    assert!(
        err.message.contains("not an engagement folder"),
        "{}",
        err.message
    );

    // Back to ACME: its key and its archive.
    commands::open_engagement(&e.state, &acme.display().to_string()).unwrap();
    assert_eq!(commands::keys(&e.state).len(), 1);
    assert_eq!(commands::db_status(&e.state).unwrap().archives, 1);
    let log = commands::action_log(&e.state).unwrap();
    let actions: Vec<&str> = log.entries.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "engagement created",
            "engagement opened",
            "key trusted",
            "import",
            "engagement opened"
        ]
    );
    // The choice survives a restart, with its keyring.
    let again = AppState::new(&e.state.data_dir, None).unwrap();
    assert_eq!(again.engagement().unwrap().name, "ACME SOC 2");
    assert_eq!(commands::keys(&again).len(), 1);
    // A plain database brings back the app's own keyring (empty here).
    commands::choose_database(&again, None).unwrap();
    assert!(again.engagement().is_none());
    assert!(commands::keys(&again).is_empty());
}

#[test]
fn the_audit_period_is_kept_in_the_database_and_its_coverage_shown_per_origin() {
    use auditlens::store::coverage::AuditPeriod;
    let e = env();
    trust_ops(&e);
    import(&e.state, &[&e.fx.k8s_1, &e.fx.k8s_2]);
    let none = commands::audit_coverage(&e.state).unwrap();
    assert!(none.period.is_none() && none.coverage.is_none());

    let period = AuditPeriod {
        from: "2000-01-01".into(),
        to: "2099-01-01".into(),
        silence: "2d".into(),
    };
    let c = commands::set_audit_period(&e.state, Some(period.clone())).unwrap();
    assert_eq!(c.period.as_ref(), Some(&period));
    let log = commands::action_log(&e.state).unwrap();
    let last = log.entries.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.detail.as_str()),
        ("audit period set", "2000-01-01 to 2099-01-01 (silence 2d)")
    );
    let coverage = c.coverage.unwrap();
    assert_eq!(coverage.silence, "2d");
    let archives = commands::archives(&e.state).unwrap().archives;
    let k8s = coverage
        .origins
        .iter()
        .find(|o| o.origin == fixtures::ORIGIN_K8S)
        .unwrap();
    assert_eq!(k8s.archives, 2);
    assert!(!k8s.covered);
    // The evidence ends long before 2099, and its newest archive was sealed before then.
    assert_eq!(
        k8s.nothing_after,
        archives.iter().filter_map(|a| a.time_last.clone()).max()
    );
    assert!(k8s.sealed_before_end);
    assert_eq!(
        k8s.nothing_before,
        archives.iter().filter_map(|a| a.time_first.clone()).min()
    );

    // Kept in the database itself: another connection reads it.
    let db = commands::db_status(&e.state).unwrap().path;
    let store = auditlens::store::Store::open(Path::new(&db)).unwrap();
    assert_eq!(store.audit_period().unwrap(), Some(period.clone()));
    drop(store);

    // A period that does not read is refused with the reason; the stored one stays.
    let err = commands::set_audit_period(
        &e.state,
        Some(AuditPeriod {
            to: "1999-01-01".into(),
            ..period.clone()
        }),
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(
        err.message.contains("FROM must be before TO"),
        "{}",
        err.message
    );
    assert_eq!(
        commands::audit_coverage(&e.state).unwrap().period,
        Some(period)
    );

    let cleared = commands::set_audit_period(&e.state, None).unwrap();
    assert!(cleared.period.is_none() && cleared.coverage.is_none());
}

#[test]
fn an_origin_that_looks_like_another_of_the_same_drop_is_flagged_even_when_that_one_was_refused() {
    // Before the batch import moved into the library, the app flagged look-alikes of stored origins only: an
    // archive refused in the same drop (here: by a key that is not trusted) left its look-alike unflagged,
    // where `auditlens import` flagged it.
    let e = env();
    trust_ops(&e);
    let log = fixtures::logs("k8s_audit/audit2rbac/demo.log");
    let (refused, flagged) = (e.fx.dir.join("refused.zip"), e.fx.dir.join("flagged.zip"));
    let original = "e2e.auditlens.dev/prod/Payments";
    let lookalike = "e2e.auditlens.dev/prod/payments";
    fixtures::seal_to(
        &e.fx.partner,
        original,
        None,
        &refused,
        std::slice::from_ref(&log),
    );
    fixtures::seal_to(&e.fx.ops, lookalike, None, &flagged, &[log]);
    let r = results(&import(&e.state, &[&refused, &flagged]));
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].outcome, ImportOutcome::Untrusted);
    assert_eq!(r[1].outcome, ImportOutcome::Imported);
    assert_eq!(r[1].lookalikes, vec![original.to_string()]);
}

/// A store written by the previous release (tests/fixtures/stores/README.md).
fn old_store() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/stores/v8-k8s-cloudtrail.db")
}

#[test]
fn a_store_of_the_previous_release_is_upgraded_and_the_window_is_told_where_the_backup_is() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("old.db");
    std::fs::copy(old_store(), &db).unwrap();
    let state = AppState::new(&tmp.path().join("appdata"), Some(&db)).unwrap();
    let status = commands::db_status(&state).unwrap();
    assert_eq!((status.archives, status.events), (3, 58));
    let said = status.upgrade.expect("the upgrade is said");
    let backup = tmp.path().join("old.db.backup-v8");
    assert!(said.contains(&backup.display().to_string()), "{said}");
    assert_eq!(
        std::fs::read(&backup).unwrap(),
        std::fs::read(old_store()).unwrap()
    );
    // Another database chosen in the window: it is said there too; the default one has nothing to say.
    let other = tmp.path().join("other.db");
    std::fs::copy(old_store(), &other).unwrap();
    let chosen = commands::choose_database(&state, Some(&other.display().to_string())).unwrap();
    assert!(chosen.upgrade.unwrap().contains("other.db.backup-v8"));
    assert!(
        commands::choose_database(&state, None)
            .unwrap()
            .upgrade
            .is_none()
    );
}

#[test]
fn a_store_of_a_newer_release_is_refused_with_the_reason_and_left_unchanged() {
    let e = env();
    let db = e._tmp.path().join("newer.db");
    std::fs::copy(old_store(), &db).unwrap();
    rusqlite_version(&db, auditlens::store::schema::CURRENT_VERSION + 1);
    let bytes = std::fs::read(&db).unwrap();
    let err = commands::choose_database(&e.state, Some(&db.display().to_string())).unwrap_err();
    assert!(
        err.message.contains("newer AuditLens") && err.message.contains("not changed"),
        "{}",
        err.message
    );
    assert_eq!(std::fs::read(&db).unwrap(), bytes);
    assert!(
        commands::db_status(&e.state).unwrap().is_default,
        "the open database stays"
    );
}

/// Sets a store's schema version, as a newer AuditLens would have left it.
fn rusqlite_version(db: &Path, v: i64) {
    let store = auditlens::store::Store::open(db).unwrap();
    store
        .connection()
        .pragma_update(None, "user_version", v)
        .unwrap();
}

#[test]
fn a_newer_store_given_at_start_up_opens_the_window_on_the_reason_until_another_is_chosen() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("newer.db");
    rusqlite_version(&db, auditlens::store::schema::CURRENT_VERSION + 1);
    let bytes = std::fs::read(&db).unwrap();
    let files = || {
        let mut names: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let before = files();
    // The app starts (its window can say why), with no database open.
    let state = AppState::new(&tmp.path().join("appdata"), Some(&db)).unwrap();
    let err = commands::startup(&state).unwrap_err();
    assert_eq!(err.code, ErrorCode::NoDatabase);
    assert!(
        err.message.contains(&db.display().to_string()) && err.message.contains("newer AuditLens"),
        "{}",
        err.message
    );
    // Every command that needs the database says the same, and nothing touches the file.
    assert_eq!(commands::count(&state, "").unwrap_err(), err);
    assert_eq!(
        commands::archives(&state).unwrap_err().code,
        ErrorCode::NoDatabase
    );
    let events = import(&state, &[&db]);
    assert!(
        events.iter().any(|e| matches!(e, ImportEvent::Failed { error, .. } if error.code == ErrorCode::NoDatabase)),
        "{events:?}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), bytes);
    assert_eq!(
        files()
            .into_iter()
            .filter(|f| f != "appdata")
            .collect::<Vec<_>>(),
        before,
        "no backup, no WAL: nothing was written next to it"
    );
    // Choosing the default database ends it.
    assert!(commands::choose_database(&state, None).unwrap().is_default);
    assert!(commands::startup(&state).unwrap().db.is_default);
    assert_eq!(std::fs::read(&db).unwrap(), bytes);
}

/// Working papers through the commands (issue 16): annotate an event, find it by `tag:` and `has:note`, save a
/// search, remember queries; the action log holds the trust decision, the import and every change, and its chain
/// holds until an entry is edited.
#[test]
fn working_papers_are_kept_searchable_and_every_action_is_logged() {
    use auditlens::papers::Change;
    let e = env();
    trust_ops(&e);
    assert_eq!(
        one_result(&e.state, &e.fx.k8s_1).outcome,
        ImportOutcome::Imported
    );
    let page = commands::search(&e.state, "", 2, None).unwrap();
    let id = page.events[0].id.clone();
    let add = |tag: &str| Change::AddTag { tag: tag.into() };
    commands::annotate(&e.state, &id, &add("finding-3")).unwrap();
    let a = commands::annotate(
        &e.state,
        &id,
        &Change::SetNote {
            note: "<b>not html</b>".into(),
        },
    )
    .unwrap();
    assert_eq!(a.tags, vec!["finding-3"]);
    assert_eq!(a.note.as_deref(), Some("<b>not html</b>"));
    let err = commands::annotate(&e.state, &id, &add("two words")).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    let err = commands::annotate(&e.state, "nope@1#1", &add("x")).unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    assert_eq!(commands::count(&e.state, "tag:finding-3").unwrap(), 1);
    assert_eq!(commands::count(&e.state, "has:note").unwrap(), 1);
    assert_eq!(commands::annotations(&e.state, &id).unwrap(), a);

    let view = commands::save_search(&e.state, "Denied", "outcome:denied").unwrap();
    assert_eq!(view.saved_searches[0].query, "outcome:denied");
    commands::remember_query(&e.state, "actor:a").unwrap();
    let view = commands::remember_query(&e.state, "actor:b").unwrap();
    assert_eq!(view.history, vec!["actor:b", "actor:a"]);
    assert_eq!(view.tags[0].tag, "finding-3");
    let err = commands::delete_saved_search(&e.state, "nothing").unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);

    let log = commands::action_log(&e.state).unwrap();
    let actions: Vec<&str> = log.entries.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "key trusted",
            "import",
            "tag added",
            "note set",
            "search saved"
        ]
    );
    assert!(log.check.ok());
    let out = e._tmp.path().join("log.jsonl");
    let check = commands::export_action_log(&e.state, &out.display().to_string()).unwrap();
    assert_eq!(check.entries, 5);
    let copy =
        auditlens::papers::log::from_json_lines(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(
        auditlens::papers::log::check_entries(&copy).head,
        check.head
    );

    // Identities: an alias said through the app finds the events by person (no suggestion in these k8s logs).
    let actor = page.events[0].actor.clone().unwrap();
    let before = commands::count(&e.state, &format!("person:\"{actor}\"")).unwrap();
    assert!(before > 0);
    let ids = commands::set_alias(&e.state, &actor, "Mini Kube").unwrap();
    assert_eq!(ids.aliases.len(), 1);
    assert_eq!(
        commands::count(&e.state, "person:\"mini kube\"").unwrap(),
        before
    );
    assert_eq!(
        commands::remove_alias(&e.state, "nobody").unwrap_err().code,
        ErrorCode::NotFound
    );

    // An entry edited in the file (the append-only trigger dropped first): the log says which.
    let db = commands::db_status(&e.state).unwrap().path;
    let conn = rusqlite::Connection::open(format!("{db}.papers")).unwrap();
    conn.execute_batch(
        "DROP TRIGGER actions_no_update; UPDATE actions SET detail = 'nothing' WHERE seq = 3",
    )
    .unwrap();
    let log = commands::action_log(&e.state).unwrap();
    assert_eq!(log.check.problems[0].seq, 3);
}
