//! The keyring's grants through the command layer: a key granted for an origin (not any origin), the grant listed
//! with its window, a second origin signed by that key "not trusted for this origin", kept archives promoted after
//! a grant, and one grant removed while the key's others stay.

use crate::support;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use auditlens::store::import::{ImportOptions, ImportOutcome, ImportResult};
use auditlens_app::commands;
use auditlens_app::contract::ImportEvent;
use auditlens_app::error::ErrorCode;
use auditlens_app::state::AppState;
use support::fixtures;

fn import(state: &AppState, path: &Path) -> ImportResult {
    let mut out = Vec::new();
    commands::import_archives(
        state,
        &[path.display().to_string()],
        1,
        &AtomicBool::new(false),
        &mut |e| {
            if let ImportEvent::Finished { result, .. } = e {
                out.push(*result)
            }
        },
    );
    out.pop().expect("a result")
}

#[test]
fn a_grant_binds_the_key_to_the_origin_and_is_listed_with_its_window() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = fixtures::build(&tmp.path().join("fx"));
    let state = AppState::new(&tmp.path().join("appdata"), None).unwrap();
    let r = import(&state, &fx.partner_archive);
    assert_eq!(r.outcome, ImportOutcome::Untrusted);
    let signer = r.report.signer.clone().unwrap();
    let origin = r.report.origin.clone().unwrap();
    assert!(
        signer
            .trust_reason
            .as_deref()
            .unwrap()
            .contains("is not trusted"),
        "{signer:?}"
    );

    let out = commands::grant_key(&state, &signer.key, &origin, None, Some("2999-01-01")).unwrap();
    assert!(out.added);
    assert!(out.promoted.is_empty(), "nothing was kept");
    assert_eq!(out.key.origins, origin);
    assert!(!out.key.pinned);
    assert_eq!(
        out.key.valid_before.as_deref(),
        Some("2999-01-01T00:00:00Z")
    );
    let keys = commands::keys(&state);
    assert_eq!(keys, vec![out.key.clone()]);
    let again = import(&state, &fx.partner_archive);
    assert_eq!(again.outcome, ImportOutcome::Imported, "{}", again.message);
    assert_eq!(
        again.report.signer.unwrap().trust_basis,
        Some(auditlens::trust::TrustBasis::Grant)
    );

    // The same key signing another origin: not trusted for this origin.
    let other = fx.dir.join("other-origin.zip");
    auditlens::seal::seal(&auditlens::seal::SealOptions {
        key: &fx.partner,
        origin: "e2e.auditlens.dev/partner/other",
        prev: None,
        format: None,
        mapping: None,
        out: &other,
        inputs: &[fixtures::logs("k8s_audit/falco_trace_files/exec_pod.json")],
        receive: false,
    })
    .unwrap();
    let r = import(&state, &other);
    assert_eq!(r.outcome, ImportOutcome::Untrusted);
    let reason = r.report.signer.unwrap().trust_reason.unwrap();
    assert!(reason.contains("not trusted for this origin"), "{reason}");
    assert!(
        reason.contains(&format!("granted only for {origin}")),
        "{reason}"
    );

    // Bad patterns and windows are refused with the reason.
    let bad = commands::grant_key(&state, &signer.key, "a*b", None, None).unwrap_err();
    assert_eq!(bad.code, ErrorCode::Invalid);
    assert!(bad.message.contains("only allowed once"), "{}", bad.message);
    let bad = commands::grant_key(&state, &signer.key, "x", Some("soon"), None).unwrap_err();
    assert_eq!(bad.code, ErrorCode::Invalid);

    // Removing the grant: the key is no longer trusted anywhere.
    let left = commands::untrust_grant(&state, &out.key).unwrap();
    assert!(left.keys.is_empty());
    assert_eq!(
        commands::untrust_grant(&state, &out.key).unwrap_err().code,
        ErrorCode::NotFound
    );
}

#[test]
fn a_grant_promotes_the_kept_archives_it_trusts() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = fixtures::build(&tmp.path().join("fx"));
    let state = AppState::new(&tmp.path().join("appdata"), None).unwrap();
    // Kept by the command-line importer (the app keeps nothing untrusted).
    {
        let mut store = state.db().unwrap().writer().unwrap();
        let r = store
            .import_archive(
                &fx.partner_archive,
                &ImportOptions {
                    trust: &auditlens::trust::TrustPolicy::new(),
                    keep_failed: true,
                },
                &mut |_| true,
            )
            .unwrap();
        assert_eq!(r.outcome, ImportOutcome::Untrusted);
        assert!(r.stored);
    }
    let origin = {
        let rows = commands::archives(&state).unwrap().archives;
        assert_eq!(rows[0].status, "untrusted");
        rows[0].origin.clone().unwrap()
    };
    let out = commands::grant_key(
        &state,
        &fx.partner.verifier().to_string(),
        &origin,
        None,
        None,
    )
    .unwrap();
    assert_eq!(out.promoted.len(), 1, "{:?}", out.promoted);
    assert!(out.promoted[0].promoted, "{}", out.promoted[0].message);
    assert_eq!(
        commands::archives(&state).unwrap().archives[0].status,
        "verified"
    );
}
