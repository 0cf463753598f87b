//! Reports for people and machines: the verification report of a set of archives (human text and JSON) and small
//! formatting helpers shared by the command line and the app. Every string in human text that came from an
//! archive, a key or the database is rendered by [`crate::safe_text::safe`]; JSON is escaped by serde.

use std::io::Write;

use serde::Serialize;

use std::time::Duration;

use crate::query::QueryError;
use crate::safe_text::{LookalikeGroup, lookalike_groups, safe};
use crate::store::search::EventRow;
use crate::verify::{
    ArchiveReport, ArchiveStatus, Failure, OriginContinuity, Progress, continuity,
};

/// The result of `auditlens verify` over a set of archives.
#[derive(Debug, Clone, Serialize)]
pub struct VerifySetReport {
    /// True only when every archive verified under a trusted key and every origin is continuous.
    pub ok: bool,
    pub archives: Vec<ArchiveReport>,
    pub continuity: Vec<OriginContinuity>,
    /// Different origins among the archives that look alike (docs/trust-policy.md, "Untrusted text on
    /// terminals and screens"). A warning, not a failure: each archive and chain verified as its exact origin
    /// says, and `ok` does not depend on it.
    pub lookalikes: Vec<LookalikeGroup>,
    /// With `--period`: per origin, whether the verified archives cover the audit period (docs/coverage.md).
    /// Never part of `ok`: coverage makes the question visible, it cannot prove that nothing was withheld.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<crate::coverage::Coverage>,
}

impl VerifySetReport {
    pub fn new(archives: Vec<ArchiveReport>) -> Self {
        let continuity = continuity(&archives);
        let ok = !archives.is_empty()
            && archives.iter().all(|a| a.status == ArchiveStatus::Verified)
            && continuity.iter().all(|c| c.ok);
        let lookalikes = lookalike_groups(archives.iter().filter_map(|a| a.origin.as_deref()));
        VerifySetReport {
            ok,
            archives,
            continuity,
            lookalikes,
            coverage: None,
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
                safe(&c.origin),
                c.starts_at,
                c.ends_at,
                c.starts_at,
                if c.starts_at == 1 { " (the start of the log)" } else { " (earlier archives were not given)" }
            ));
            for ch in &c.signer_changes {
                text.push_str(&format!(
                    "  signer changes at sequence {}: {} -> {}\n",
                    ch.sequence, ch.from, ch.to
                ));
            }
            let _ = stdout.lock().write_all(text.as_bytes());
        } else {
            text.push_str(&format!("origin {}: NOT CONTINUOUS\n", safe(&c.origin)));
            for ch in &c.signer_changes {
                text.push_str(&format!(
                    "  signer changes at sequence {}: {} -> {}\n",
                    ch.sequence,
                    safe(&ch.from),
                    safe(&ch.to)
                ));
            }
            for p in &c.problems {
                text.push_str(&format!("  {}\n", safe(&p.message)));
            }
            let _ = stderr.lock().write_all(text.as_bytes());
        }
    }
    for g in &set.lookalikes {
        let _ = writeln!(stderr.lock(), "WARNING: {}", g.describe());
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
                .and_then(|f| serde_json::to_value(f.kind).ok())
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        ),
    };
    s.push_str(&format!("{}: {status}\n", safe(&a.path)));
    let field =
        |s: &mut String, name: &str, value: String| s.push_str(&format!("  {name:<11} {value}\n"));
    if let Some(o) = &a.origin {
        field(&mut s, "origin", safe(o).to_string());
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
                Some(t) => format!("{} .. {} (UTC)", safe(&t.first), safe(&t.last)),
                None => "no event has a readable time".into(),
            },
        );
    }
    if let Some(k) = &a.source_kind {
        field(&mut s, "source", safe(k).to_string());
    }
    // Whose rules make the fields the app and the dashboards show (docs/sources.md, "Whose rules").
    if let Some(n) = &a.normalization {
        s.push_str(&format!("  normalization: {}\n", n.text));
    }
    if let Some(signer) = &a.signer {
        field(
            &mut s,
            "signer",
            format!(
                "{} {} ({})",
                safe(&signer.key),
                safe(&signer.fingerprint),
                if signer.trusted {
                    "trusted"
                } else {
                    "NOT trusted"
                }
            ),
        );
        if let Some(why) = &signer.trust_reason {
            field(&mut s, "trust", safe(why).to_string());
        } else if !signer.trusted {
            field(
                &mut s,
                "trust",
                "pass --trust KEY.pub or --trust-policy FILE".into(),
            );
        }
    }
    if let Some(r) = &a.root {
        field(&mut s, "root", safe(r).to_string());
    }
    if let Some(n) = a.parse_errors.filter(|n| *n > 0) {
        field(
            &mut s,
            "not parsed",
            format!(
                "{} verified, but not a JSON object the parser reads: imported as raw text, marked \"not parsed\"",
                count(n, "event")
            ),
        );
    }
    if let Some(f) = &a.failure {
        s.push_str(&failure_details(f));
    }
    s
}

/// The reason, place and hashes of a verification failure, indented.
pub fn failure_details(f: &Failure) -> String {
    let mut s = String::new();
    let field =
        |s: &mut String, name: &str, value: String| s.push_str(&format!("  {name:<11} {value}\n"));
    {
        field(&mut s, "reason", safe(&f.message).to_string());
        let mut place = Vec::new();
        if let Some(e) = &f.entry {
            place.push(format!("entry {}", safe(e)));
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
            field(&mut s, "expected", safe(e).to_string());
        }
        if let Some(found) = &f.found {
            field(&mut s, "found", safe(found).to_string());
        }
    }
    s
}

/// One progress line: archive, events, MB, rate and ETA.
pub fn progress_line(name: &str, p: &Progress, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-3);
    let rate = p.events_done as f64 / secs;
    let pct = if p.events_total == 0 {
        100.0
    } else {
        100.0 * p.events_done as f64 / p.events_total as f64
    };
    let eta = if rate > 0.0 {
        (p.events_total.saturating_sub(p.events_done)) as f64 / rate
    } else {
        0.0
    };
    format!(
        "{}: {pct:5.1}%  {}/{} events  {:.1}/{:.1} MB  {rate:.0} events/s  ETA {eta:.0} s",
        safe(name),
        p.events_done,
        p.events_total,
        p.bytes_done as f64 / 1e6,
        p.bytes_total as f64 / 1e6
    )
}

/// A query error with a caret under the column.
/// The query and the message are shown escaped; the caret stays under the column in the escaped query.
pub fn query_error(query: &str, e: &QueryError) -> String {
    let before: String = query.chars().take(e.column.saturating_sub(1)).collect();
    let pad: String = " ".repeat(safe(&before).to_string().chars().count());
    format!(
        "query error at column {}: {}\n  {}\n  {pad}^",
        e.column,
        safe(&e.message),
        safe(query)
    )
}

/// A readable table of events (times in UTC).
pub fn event_table(events: &[EventRow]) -> String {
    let mut s = format!(
        "{:<27} {:<10} {:<28} {:<24} {:<34} {:<8} {}\n",
        "time (UTC)", "source", "actor", "action", "resource", "outcome", "id"
    );
    let cut = |v: &Option<String>, n: usize| -> String {
        let clean = safe(v.as_deref().unwrap_or("-")).to_string();
        if clean.chars().count() > n {
            format!("{}…", clean.chars().take(n - 1).collect::<String>())
        } else {
            clean
        }
    };
    for e in events {
        s.push_str(&format!(
            "{:<27} {:<10} {:<28} {:<24} {:<34} {:<8} {}{}\n",
            e.time.as_deref().unwrap_or("(no time)"),
            cut(&e.source, 10),
            cut(&e.actor, 28),
            cut(&e.action, 24),
            cut(&e.resource, 34),
            cut(&e.outcome, 8),
            safe(&e.id),
            if e.verified { "" } else { "  [NOT VERIFIED]" }
        ));
    }
    s
}

/// `count(1, "event")` -> "1 event", `count(2, "event")` -> "2 events".
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_singular_for_one_only() {
        assert_eq!(count(0, "event"), "0 events");
        assert_eq!(count(1, "event"), "1 event");
        assert_eq!(count(2, "archive"), "2 archives");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }
}
