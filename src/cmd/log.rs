//! `auditlens log`: the auditor's action log (docs/working-papers.md section 3): shown, checked, exported, or an
//! exported copy checked.

use std::path::Path;
use std::process::ExitCode;

use auditlens::papers::{self, Papers, log};

use super::Fatal;
use crate::render;

pub struct Args<'a> {
    pub db: Option<&'a Path>,
    pub file: Option<&'a Path>,
    pub head: Option<&'a str>,
    pub jsonl: bool,
    pub out: Option<&'a Path>,
}

pub fn run(a: &Args<'_>) -> Result<ExitCode, Fatal> {
    let entries = match (a.db, a.file) {
        (Some(db), None) => {
            if !db.is_file() {
                return Err(Fatal(format!("{}: no such database", db.display())));
            }
            if !papers::path_of(db).is_file() {
                Vec::new()
            } else {
                Papers::open(db)?.actions()?
            }
        }
        (None, Some(file)) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Fatal(format!("{}: {e}", file.display())))?;
            log::from_json_lines(&text).map_err(|e| Fatal(format!("{}: {e}", file.display())))?
        }
        _ => return Err(Fatal("give exactly one of --db and --file".into())),
    };
    let check = log::check_entries(&entries);
    if let Some(out) = a.out {
        let tmp = out.with_extension("jsonl.tmp");
        std::fs::write(&tmp, log::to_json_lines(&entries))
            .and_then(|()| std::fs::rename(&tmp, out))
            .map_err(|e| Fatal(format!("{}: {e}", out.display())))?;
        if let Some(db) = a.db {
            Papers::open(db)?.log_action(
                "action log exported",
                &out.display().to_string(),
                &format!(
                    "{} entries, head {}",
                    check.entries,
                    check.head.as_deref().unwrap_or("-")
                ),
            )?;
        }
    }
    if a.jsonl {
        print!(
            "{}",
            auditlens::safe_text::json_safe(log::to_json_lines(&entries))
        );
    } else {
        render::action_log(&entries, &check, a.head);
    }
    let head_ok = a.head.is_none_or(|h| {
        check
            .head
            .as_deref()
            .is_some_and(|mine| mine.eq_ignore_ascii_case(h.trim()))
    });
    Ok(if check.ok() && head_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
