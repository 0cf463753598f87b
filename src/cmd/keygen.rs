//! `auditlens keygen`: an Ed25519 signing key, DIR/NAME.key (private, mode 0600) and DIR/NAME.pub, written by
//! the library's [`auditlens::keyfile::write_key_pair`] (as the app writes an auditor key).

use std::path::Path;
use std::process::ExitCode;

use auditlens::note::SignerKey;

use super::Fatal;
use crate::render;

pub fn run(name: &str, out: &Path) -> Result<ExitCode, Fatal> {
    let key = SignerKey::generate(name)?;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let files = auditlens::keyfile::write_key_pair(out, &key).map_err(|e| e.to_string())?;
    render::keygen(&files.key, &files.public, &key);
    Ok(ExitCode::SUCCESS)
}
