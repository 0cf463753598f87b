//! Reports for people and machines: the verification report of a set of archives (human text and JSON) and small
//! formatting helpers shared by the command line and the app.

use std::io::Write;

use serde::Serialize;

use crate::verify::{ArchiveReport, ArchiveStatus, OriginContinuity, continuity};

/// The result of `auditlens verify` over a set of archives.
#[derive(Debug, Clone, Serialize)]
pub struct VerifySetReport {
    /// True only when every archive verified under a trusted key and every origin is continuous.
    pub ok: bool,
    pub archives: Vec<ArchiveReport>,
    pub continuity: Vec<OriginContinuity>,
}

impl VerifySetReport {
    pub fn new(archives: Vec<ArchiveReport>) -> Self {
        let continuity = continuity(&archives);
        let ok = !archives.is_empty()
            && archives.iter().all(|a| a.status == ArchiveStatus::Verified)
            && continuity.iter().all(|c| c.ok);
        VerifySetReport {
            ok,
            archives,
            continuity,
        }
    }
}

/// Human report: each verified archive on stdout, each failure (and anything not OK) on stderr.
pub fn print_verify_human(set: &VerifySetReport) {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    for a in &set.archives {
        let text = archive_text(a);
        if a.status == ArchiveStatus::Verified {
            let _ = stdout.lock().write_all(text.as_bytes());
        } else {
            let _ = stderr.lock().write_all(text.as_bytes());
        }
    }
    for c in &set.continuity {
        let mut text = String::new();
        if c.ok {
            text.push_str(&format!(
                "origin {}: sequences {}..{} continuous; the verified chain starts at sequence {}{}\n",
                c.origin,
                c.starts_at,
                c.ends_at,
                c.starts_at,
                if c.starts_at == 1 { " (the start of the log)" } else { " (earlier archives were not given)" }
            ));
            let _ = stdout.lock().write_all(text.as_bytes());
        } else {
            text.push_str(&format!("origin {}: NOT CONTINUOUS\n", c.origin));
            for p in &c.problems {
                text.push_str(&format!("  {}\n", p.message));
            }
            let _ = stderr.lock().write_all(text.as_bytes());
        }
    }
    let verified = set
        .archives
        .iter()
        .filter(|a| a.status == ArchiveStatus::Verified)
        .count();
    let untrusted = set
        .archives
        .iter()
        .filter(|a| a.status == ArchiveStatus::Untrusted)
        .count();
    let failed = set
        .archives
        .iter()
        .filter(|a| a.status == ArchiveStatus::Failed)
        .count();
    let summary = format!(
        "{}: {} archive(s): {verified} verified, {untrusted} valid signature but untrusted key, {failed} failed\n",
        if set.ok { "OK" } else { "NOT VERIFIED" },
        set.archives.len()
    );
    if set.ok {
        let _ = stdout.lock().write_all(summary.as_bytes());
    } else {
        let _ = stderr.lock().write_all(summary.as_bytes());
    }
}

/// The block of text for one archive.
pub fn archive_text(a: &ArchiveReport) -> String {
    let mut s = String::new();
    let status = match a.status {
        ArchiveStatus::Verified => "VERIFIED".to_string(),
        ArchiveStatus::Untrusted => "valid signature, untrusted key".to_string(),
        ArchiveStatus::Failed => format!(
            "FAILED ({})",
            a.failure
                .as_ref()
                .map(|f| serde_json::to_value(f.kind).ok())
                .flatten()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        ),
    };
    s.push_str(&format!("{}: {status}\n", a.path));
    let field =
        |s: &mut String, name: &str, value: String| s.push_str(&format!("  {name:<11} {value}\n"));
    if let Some(o) = &a.origin {
        field(&mut s, "origin", o.clone());
    }
    if let Some(q) = a.sequence {
        field(&mut s, "sequence", q.to_string());
    }
    if let Some(n) = a.events {
        field(
            &mut s,
            "events",
            format!("{n} ({})", human_bytes(a.bytes.unwrap_or(0))),
        );
    }
    if a.origin.is_some() {
        field(
            &mut s,
            "time range",
            match &a.time_range {
                Some(t) => format!("{} .. {} (UTC)", t.first, t.last),
                None => "no event has a readable time".into(),
            },
        );
    }
    if let Some(k) = &a.source_kind {
        field(&mut s, "source", k.clone());
    }
    if let Some(signer) = &a.signer {
        field(
            &mut s,
            "signer",
            format!(
                "{} {} ({})",
                signer.key,
                signer.fingerprint,
                if signer.trusted {
                    "trusted"
                } else {
                    "NOT trusted: pass --trust KEY.pub"
                }
            ),
        );
    }
    if let Some(r) = &a.root {
        field(&mut s, "root", r.clone());
    }
    if let Some(f) = &a.failure {
        field(&mut s, "reason", f.message.clone());
        let mut place = Vec::new();
        if let Some(e) = &f.entry {
            place.push(format!("entry {e}"));
        }
        if let Some(l) = f.line {
            place.push(format!("line {l}"));
        }
        if let Some(i) = f.event_index {
            place.push(format!("event index {i}"));
        }
        if !place.is_empty() {
            field(&mut s, "where", place.join(", "));
        }
        if let Some(e) = &f.expected {
            field(&mut s, "expected", e.clone());
        }
        if let Some(found) = &f.found {
            field(&mut s, "found", found.clone());
        }
    }
    s
}

/// 1536 -> "1.5 KiB".
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}
