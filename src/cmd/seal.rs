//! `auditlens seal`: audit logs into one signed archive.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use auditlens::sources::SourceKind;

use super::{Fatal, read_signer};
use crate::render;

pub fn run(
    key: &Path,
    origin: &str,
    prev: Option<&Path>,
    format: Option<SourceKind>,
    mapping: Option<&Path>,
    out: &Path,
    inputs: &[PathBuf],
) -> Result<ExitCode, Fatal> {
    let key = read_signer(key)?;
    let summary = auditlens::seal::seal(&auditlens::seal::SealOptions {
        key: &key,
        origin,
        prev,
        format,
        mapping,
        out,
        inputs,
    })?;
    render::sealed(&summary, inputs.len());
    Ok(ExitCode::SUCCESS)
}
