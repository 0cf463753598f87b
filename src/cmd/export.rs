//! `auditlens export`: events to a signed evidence bundle (docs/evidence-bundle.md).

use std::path::Path;
use std::process::ExitCode;

use auditlens::bundle::{self, ExportError, ExportOptions, SelectionInput};
use auditlens::store::search::SearchError;

use super::{Fatal, read_signer};
use crate::render;

pub fn run(
    db: &Path,
    query: Option<&str>,
    ids: Option<&Path>,
    key: &Path,
    purpose: &str,
    out: &Path,
    aws_keys: &[std::path::PathBuf],
) -> Result<ExitCode, Fatal> {
    let auditor = read_signer(key)?;
    let aws = super::read_aws_keys(aws_keys)?;
    let selection = match (query, ids) {
        (Some(q), None) => SelectionInput::Query(q.to_string()),
        (None, Some(path)) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let ids = bundle::export::parse_ids(&text)
                .map_err(|e| Fatal(format!("{}: {e}", path.display())))?;
            SelectionInput::Ids(ids)
        }
        _ => return Err(Fatal("give exactly one of --query and --ids".into())),
    };
    if !db.is_file() {
        return Err(Fatal(format!("{}: no such database", db.display())));
    }
    let store = auditlens::store::Store::open_read_only(db)?;
    let opts = ExportOptions {
        selection,
        purpose,
        auditor: &auditor,
        out,
        now_micros: chrono::Utc::now().timestamp_micros(),
        aws_keys: Some(&aws),
    };
    match bundle::export(&store, &opts) {
        Ok(s) => {
            auditlens::papers::log_to(
                db,
                "bundle exported",
                &s.out,
                &format!(
                    "{} of {}, {} bytes, signed by {}; purpose: {purpose}",
                    auditlens::report::count(s.events, "event"),
                    auditlens::report::count(s.archives, "archive"),
                    s.bytes,
                    s.auditor.fingerprint
                ),
            )?;
            render::exported(&s);
            Ok(ExitCode::SUCCESS)
        }
        Err(ExportError::Refused(refusals)) => {
            render::export_refused(&refusals);
            Ok(ExitCode::from(1))
        }
        Err(ExportError::Search(SearchError::Query(q))) => {
            Err(Fatal(render::query_error(query.unwrap_or_default(), &q)))
        }
        Err(e) => Err(Fatal(e.to_string())),
    }
}
