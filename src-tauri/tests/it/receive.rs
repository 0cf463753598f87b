//! "Import unsigned logs" (`receive_files`): files nobody signed are sealed on receipt with the auditor's key,
//! the key is trusted for exactly that origin, and the archive is imported and labelled as what it is.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use auditlens::store::import::ImportOutcome;
use auditlens_app::commands;
use auditlens_app::contract::{FileKind, ImportEvent};
use auditlens_app::error::ErrorCode;
use auditlens_app::state::AppState;

use crate::support::fixtures;

const MEANING: &str = "proves no change since receipt, not authenticity at the source";

fn receive(state: &AppState, paths: &[PathBuf], origin: &str) -> Vec<ImportEvent> {
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let mut events = Vec::new();
    commands::receive_files(
        state,
        &paths,
        origin,
        3,
        &AtomicBool::new(false),
        &mut |e| events.push(e),
    );
    events
}

fn failure(events: &[ImportEvent]) -> (ErrorCode, String) {
    assert!(
        matches!(events.last(), Some(ImportEvent::Done { .. })),
        "{events:?}"
    );
    events
        .iter()
        .find_map(|e| match e {
            ImportEvent::Failed { error, .. } => Some((error.code, error.message.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no failure in {events:?}"))
}

#[test]
fn unsigned_logs_are_sealed_on_receipt_trusted_for_their_origin_only_and_labelled() {
    let tmp = tempfile::tempdir().unwrap();
    let state = AppState::new(&tmp.path().join("appdata"), None).unwrap();
    let demo = fixtures::logs("k8s_audit/audit2rbac/demo.log");
    let exec = fixtures::logs("k8s_audit/falco_trace_files/exec_pod.json");

    // Dropped log files are told apart from archives and bundles.
    let kinds = commands::file_kinds(&[demo.display().to_string()]);
    assert_eq!(kinds, vec![FileKind::Unsigned]);

    // Without an auditor key nothing is sealed, and the reason says what to do.
    let (code, message) = failure(&receive(
        &state,
        std::slice::from_ref(&demo),
        "received/k8s",
    ));
    assert_eq!(code, ErrorCode::NotFound);
    assert!(message.contains("no auditor key yet"), "{message}");
    let auditor = commands::create_auditor_key(&state, "jane.doe-audit").unwrap();

    // An origin that is a pattern would trust the auditor's key for more than these files.
    for bad in ["received/*", "", " x", "a\nb"] {
        let (code, _) = failure(&receive(&state, std::slice::from_ref(&demo), bad));
        assert_eq!(code, ErrorCode::Invalid, "{bad:?}");
    }
    assert!(commands::keys(&state).is_empty());

    let events = receive(&state, std::slice::from_ref(&demo), "received/k8s");
    let ImportEvent::Queued { paths, .. } = &events[0] else {
        panic!("{events:?}")
    };
    let archive = PathBuf::from(&paths[0]);
    assert!(
        archive.starts_with(tmp.path().join("appdata/received")),
        "{archive:?}"
    );
    assert!(archive.is_file());
    let result = events
        .iter()
        .find_map(|e| match e {
            ImportEvent::Finished { result, .. } => Some(result.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!(
        result.outcome,
        ImportOutcome::Imported,
        "{}",
        result.message
    );
    let label = format!(
        "sealed on receipt by jane.doe-audit ({}) at ",
        auditor.fingerprint
    );
    assert!(
        result.message.contains(&label) && result.message.contains(MEANING),
        "{}",
        result.message
    );

    // The auditor's key is trusted for exactly this origin.
    let keys = commands::keys(&state);
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (keys[0].fingerprint.as_str(), keys[0].origins.as_str()),
        (auditor.fingerprint.as_str(), "received/k8s")
    );

    // Received again: the next archive of the origin, chained to the first.
    let events = receive(&state, std::slice::from_ref(&exec), "received/k8s");
    assert!(
        events.iter().any(|e| matches!(e, ImportEvent::Finished { result, .. } if result.outcome == ImportOutcome::Imported && result.report.sequence == Some(2))),
        "{events:?}"
    );

    // Every archive, row and event says what it is.
    let view = commands::archives(&state).unwrap();
    assert_eq!(view.archives.len(), 2);
    for a in &view.archives {
        assert_eq!(a.status, "verified");
        assert!(a.gap_before.is_none());
        let l = a.received_label.as_deref().unwrap();
        assert!(l.starts_with(&label) && l.ends_with(MEANING), "{l}");
    }
    let page = commands::search(&state, "exec", 100, None).unwrap();
    assert!(!page.events.is_empty());
    assert!(page.events.iter().all(|r| r.received && r.verified));
    let detail = commands::event(&state, &page.events[0].id).unwrap();
    assert!(detail.received_label.unwrap().starts_with(&label));

    // A file the receipt cannot read is a failure of the job, and nothing is imported or trusted anew.
    let (code, message) = failure(&receive(
        &state,
        &[tmp.path().join("missing.log")],
        "received/other",
    ));
    assert_eq!(code, ErrorCode::Invalid);
    assert!(message.contains("missing.log"), "{message}");
    assert_eq!(commands::keys(&state).len(), 1);
    assert_eq!(commands::archives(&state).unwrap().archives.len(), 2);

    // One archive holds one source's events: mixed files are refused with what to do instead.
    let github = fixtures::logs("github_audit/panther/GitHub_Audit.jsonl");
    let (code, message) = failure(&receive(&state, &[demo, github], "received/mixed"));
    assert_eq!(code, ErrorCode::Invalid);
    assert!(
        message.contains("receive each source on its own"),
        "{message}"
    );
    assert_eq!(commands::archives(&state).unwrap().archives.len(), 2);
}
