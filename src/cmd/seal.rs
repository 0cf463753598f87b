//! `auditlens seal`: audit logs into one signed archive; `auditlens receive`: files nobody signed, sealed on receipt
//! by the auditor (docs/archive-format.md section 4.1).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use auditlens::seal::SealOptions;
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
    seal(&SealOptions {
        key: &key,
        origin,
        prev,
        format,
        mapping,
        out,
        inputs,
        receive: false,
    })
}

pub fn receive(
    key: &Path,
    origin: &str,
    prev: Option<&Path>,
    format: Option<SourceKind>,
    out: &Path,
    inputs: &[PathBuf],
) -> Result<ExitCode, Fatal> {
    let key = read_signer(key)?;
    seal(&SealOptions {
        key: &key,
        origin,
        prev,
        format,
        mapping: None,
        out,
        inputs,
        receive: true,
    })
}

fn seal(opts: &SealOptions<'_>) -> Result<ExitCode, Fatal> {
    let summary = auditlens::seal::seal(opts)?;
    render::sealed(&summary, opts.inputs.len());
    Ok(ExitCode::SUCCESS)
}
