//! The AuditLens desktop app: a thin Tauri shell over the `auditlens` library. [`commands`] holds what each
//! command does as plain functions of the [`state::AppState`] (tested without a window); [`ipc`] exposes them to
//! the window; [`contract`] declares the types the UI receives (TypeScript is generated from them).

pub mod cli;
pub mod commands;
pub mod contract;
pub mod error;
pub mod ipc;
pub mod progress;
pub mod state;

use std::sync::Arc;

use tauri::Manager as _;

/// Set to `1` by the end-to-end tests only: also lets the window emit events, so a test can deliver the same
/// `tauri://drag-drop` event a real drop produces. The shipped capability does not allow it.
pub const E2E_EMIT_ENV: &str = "AUDITLENS_E2E_ALLOW_EMIT";

/// Runs the app until its window closes. `Err` when it cannot start (the message says why).
pub fn run(args: cli::Args) -> Result<(), String> {
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .setup(move |app| {
            let data_dir = app.path().app_data_dir()?;
            let state =
                state::AppState::new(&data_dir, args.db.as_deref()).map_err(|e| e.message)?;
            cli::apply(&state, &args);
            app.manage(Arc::new(state));
            if std::env::var(E2E_EMIT_ENV).as_deref() == Ok("1") {
                app.add_capability(
                    tauri::ipc::CapabilityBuilder::new("e2e-emit")
                        .window("main")
                        .permission("core:event:allow-emit"),
                )?;
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            ipc::startup,
            ipc::db_status,
            ipc::choose_database,
            ipc::save_settings,
            ipc::keys,
            ipc::trust_key,
            ipc::trust_key_file,
            ipc::untrust_key,
            ipc::untrust_grant,
            ipc::import_archives,
            ipc::check_database,
            ipc::cancel_job,
            ipc::archives,
            ipc::archive_detail,
            ipc::search,
            ipc::count,
            ipc::histogram,
            ipc::event,
            ipc::overview,
            ipc::deployments,
            ipc::access,
            ipc::auditor_key,
            ipc::create_auditor_key,
            ipc::choose_auditor_key,
            ipc::export_preview,
            ipc::export_bundle,
            ipc::open_bundle,
            ipc::file_kinds,
        ])
        .run(tauri::generate_context!())
        .map_err(|e| e.to_string())
}
