//! Tauri's build step, with an app manifest: each command gets an `allow-<command>` permission, so the capability
//! in `capabilities/main.json` lists exactly the commands the window may call.

/// Every command of `src/api.rs` (`tests/it/ipc_surface.rs` fails, naming it, when one is missing here).
const COMMANDS: &[&str] = &[
    "startup",
    "db_status",
    "choose_database",
    "save_settings",
    "keys",
    "trust_key",
    "trust_key_file",
    "untrust_key",
    "untrust_grant",
    "import_archives",
    "receive_files",
    "check_database",
    "cancel_job",
    "archives",
    "archive_detail",
    "renormalize_archive",
    "incidents",
    "review_incident",
    "annotations",
    "annotate",
    "working_papers",
    "save_search",
    "delete_saved_search",
    "remember_query",
    "action_log",
    "export_action_log",
    "engagements",
    "open_engagement",
    "create_engagement",
    "session_keys",
    "save_session_key",
    "identities",
    "set_alias",
    "remove_alias",
    "search",
    "count",
    "hints",
    "histogram",
    "event",
    "overview",
    "deployments",
    "access",
    "auditor_key",
    "create_auditor_key",
    "choose_auditor_key",
    "export_preview",
    "export_bundle",
    "export_parquet",
    "export_results",
    "open_bundle",
    "file_kinds",
    "verify_cloudtrail",
    "import_cloudtrail",
    "audit_coverage",
    "set_audit_period",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build step");
}
