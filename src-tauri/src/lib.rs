//! The AuditLens desktop app: a thin Tauri shell over the `auditlens` library. [`commands`] holds what each
//! command does as plain functions of the [`state::AppState`] (tested without a window); [`ipc`] exposes them to
//! the window; [`api`] lists them once (the handlers and the TypeScript `Commands` type come from that list);
//! [`contract`] declares the types the UI receives (TypeScript is generated from them).

pub mod api;
pub mod cli;
pub mod commands;
pub mod contract;
pub mod error;
pub mod ipc;
pub mod progress;
pub mod state;

use std::sync::Arc;

use tauri::Manager as _;

/// The app's Tauri context: its configuration, the embedded front end and the access control list (which commands
/// and events the window may use: `capabilities/main.json`). The page may listen to events, never emit them: an
/// emitted `tauri://drag-drop` would import whatever paths the page names. Every build allows the same: no
/// environment variable, argument or cargo feature adds a permission (the end-to-end tests drive this build and drop
/// files for real); `tests/it/acl.rs` checks this very context.
pub fn context() -> tauri::Context<tauri::Wry> {
    tauri::generate_context!()
}

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
            Ok(())
        })
        .invoke_handler(api::handler())
        .run(context())
        .map_err(|e| e.to_string())
}
