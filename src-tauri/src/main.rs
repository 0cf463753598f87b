//! `auditlens-app`: the desktop app. See `cli.rs` for the command line.

// No console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use clap::Parser as _;

fn main() {
    auditlens::alloc::give_large_blocks_back();
    let args = auditlens_app::cli::Args::parse();
    if let Err(message) = auditlens_app::run(args) {
        eprintln!("auditlens-app: {message}");
        std::process::exit(2);
    }
}
