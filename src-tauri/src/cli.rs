//! The command line: `auditlens-app [--db PATH] [--trust KEY.pub]... [ARCHIVE...]` opens that database, trusts
//! those keys for this session (the window asks before saving them to the keyring) and imports those archives in
//! the window (each archive's result is shown there).

use std::path::PathBuf;

use clap::Parser;

use crate::commands;
use crate::state::{AppState, lock};

#[derive(Debug, Clone, Default, Parser)]
#[command(
    name = "auditlens-app",
    version,
    about = "AuditLens desktop app: import, verify and search signed audit-log archives"
)]
pub struct Args {
    /// Database file to open (created if missing). Default: auditlens.db in the app-data directory, or the one
    /// chosen in the app. Not saved as the choice.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// A signer's verifier key file (.pub) to trust for this session; the window asks before saving it to the
    /// keyring (the open engagement's). Repeatable.
    #[arg(long = "trust", value_name = "KEY.pub")]
    pub trust: Vec<PathBuf>,
    /// Archives to verify and import when the window opens.
    #[arg(value_name = "ARCHIVE")]
    pub archives: Vec<PathBuf>,
}

/// Trusts the `--trust` keys for this session and queues the archives for the window. Problems become notices shown
/// in the window (and printed).
pub fn apply(state: &AppState, args: &Args) {
    for path in &args.trust {
        if let Err(e) = commands::trust_key_file_for_session(state, &path.display().to_string()) {
            let notice = format!("--trust {}: {}", path.display(), e.message);
            eprintln!("auditlens-app: {notice}");
            lock(&state.notices).push(notice);
        }
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    lock(&state.pending_imports).extend(
        args.archives
            .iter()
            .map(|p| cwd.join(p).display().to_string()),
    );
}
