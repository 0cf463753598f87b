//! All human output of the `auditlens` command line: the text a person reads on stdout and stderr. JSON output
//! is the library's serializable reports, printed as they are by the subcommands (src/cmd/). Every string in
//! human text that came from an archive, a bundle, a key file or the database (and the paths given) is shown
//! through [`safe`] (crates/auditlens/src/safe_text.rs): nothing reaches the terminal unescaped.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use auditlens::bundle::{BundleFailure, BundleStatus, BundleVerification, ExportSummary, Refusal};
use auditlens::coverage::{Coverage, human_duration};
use auditlens::note::SignerKey;
use auditlens::query::QueryError;
use auditlens::report::{VerifySetReport, count};
use auditlens::safe_text::{safe, terminal_safe};
use auditlens::seal::SealSummary;
use auditlens::store::check::{CheckProblem, CheckReport};
use auditlens::store::import::{ImportOutcome, ImportResult};
use auditlens::store::search::EventRow;
use auditlens::store::stats::{ArchiveNote, Stats};
use auditlens::verify::{ArchiveReport, ArchiveStatus, Failure, Progress};

/// A usage or I/O error (exit code 2), line by line: a query error's caret is on a line of its own.
pub fn fatal(msg: &str) {
    let lines: Vec<String> = msg.split('\n').map(|l| safe(l).to_string()).collect();
    eprintln!("auditlens: {}", lines.join("\n"));
}

/// `auditlens keygen`: where the two files are, the verifier key and its fingerprint.
pub fn keygen(key_path: &Path, pub_path: &Path, key: &SignerKey) {
    println!(
        "private key: {} (keep it secret)",
        safe(&key_path.display().to_string())
    );
    println!("public key:  {}", safe(&pub_path.display().to_string()));
    println!("verifier key: {}", safe(&key.verifier().to_string()));
    println!("fingerprint:  {}", key.verifier().fingerprint());
}

/// `auditlens seal`: one line about the archive written.
pub fn sealed(summary: &SealSummary, inputs: usize) {
    println!(
        "sealed {} ({}) from {} into {}: origin {}, sequence {}, kind {}, root {}",
        count(summary.events, "event"),
        human_bytes(summary.bytes),
        count(inputs as u64, "input"),
        safe(&summary.out),
        safe(&summary.origin),
        summary.sequence,
        summary.source_kind.as_str(),
        summary.root
    );
    if let (Some(r), Some(label)) = (&summary.received, &summary.received_label) {
        println!("{}", safe(label));
        for f in &r.files {
            println!(
                "  received {}  {} ({}){}",
                f.sha256,
                safe(&f.name),
                human_bytes(f.bytes),
                if f.entry.is_none() { ", no event" } else { "" }
            );
        }
    }
}

const MICROS_PER_SECOND: i64 = 1_000_000;

/// The human coverage report: covered origins on stdout, findings on stderr.
pub fn coverage(c: &Coverage) {
    for (ok, text) in coverage_blocks(c) {
        if ok {
            print!("{text}");
        } else {
            eprint!("{text}");
        }
    }
}

/// Human report: each verified archive on stdout, each failure (and anything not OK) on stderr.
pub fn verify_set(set: &VerifySetReport) {
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
    // Archives sealed on receipt are counted apart: never just "verified".
    let received = set
        .archives
        .iter()
        .filter(|a| a.status == ArchiveStatus::Verified && a.received.is_some())
        .count();
    let summary = format!(
        "{}: {} archive(s): {} verified, {}{untrusted} valid signature but untrusted key, {failed} failed\n",
        if set.ok { "OK" } else { "NOT VERIFIED" },
        set.archives.len(),
        verified - received,
        if received > 0 {
            format!(
                "{received} sealed on receipt ({}), ",
                auditlens::archive::RECEIPT_MEANING
            )
        } else {
            String::new()
        }
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
    let status = match (a.status, &a.received, &a.signer) {
        // Sealed on receipt: the signature proves no change since the auditor received the files, nothing more.
        (ArchiveStatus::Verified, Some(r), Some(signer)) => {
            let label = r.label(&signer.name, &signer.fingerprint);
            let rest = label.strip_prefix("sealed on receipt").unwrap_or(&label);
            format!("SEALED ON RECEIPT{}", safe(rest))
        }
        (ArchiveStatus::Verified, _, _) => "VERIFIED".to_string(),
        (ArchiveStatus::Untrusted, _, _) => "valid signature, untrusted key".to_string(),
        (ArchiveStatus::Failed, _, _) => format!(
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
    if let Some(r) = &a.received {
        field(
            &mut s,
            "received",
            format!("{} at {}", count(r.files.len() as u64, "file"), safe(&r.at)),
        );
        for f in &r.files {
            s.push_str(&format!(
                "    {}  {} ({})\n",
                f.sha256,
                safe(&f.name),
                human_bytes(f.bytes)
            ));
        }
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

/// A query error with a caret under the column, for [`fatal`], which shows each line escaped (escaped here too,
/// the query would show its escapes' backslashes doubled: `\\u{1b}` for an ESC): the caret stays under the column
/// in the escaped query.
pub fn query_error(query: &str, e: &QueryError) -> String {
    let before: String = query.chars().take(e.column.saturating_sub(1)).collect();
    let pad: String = " ".repeat(safe(&before).to_string().chars().count());
    format!(
        "query error at column {}: {}\n  {query}\n  {pad}^",
        e.column, e.message
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
            match (e.verified, e.received, e.evidence.is_some()) {
                (false, _, _) => "  [NOT VERIFIED]",
                (true, true, _) => "  [sealed on receipt]",
                (true, false, true) => "  [signed by AWS CloudTrail]",
                (true, false, false) => "",
            }
        ));
    }
    s
}

/// The human report: one block per origin, each with whether it is covered (covered blocks go to stdout,
/// the others to stderr). Origins are escaped for the terminal.
pub fn coverage_blocks(c: &Coverage) -> Vec<(bool, String)> {
    let safe = terminal_safe;
    let mut out = Vec::new();
    let head = format!(
        "coverage of the period {} .. {} (end exclusive), silence {}: {}\n",
        c.from, c.to, c.silence, c.basis_note
    );
    out.push((true, head));
    if c.origins.is_empty() {
        out.push((
            false,
            "  no origin: no verified evidence covers the period\n".into(),
        ));
    }
    for o in &c.origins {
        let mut s = String::new();
        let verdict = if o.covered { "COVERED" } else { "NOT COVERED" };
        s.push_str(&format!("origin {}: {verdict}\n", safe(&o.origin)));
        if o.archives == 0 {
            s.push_str("  no verified archive of this origin (untrusted and failed archives do not count)\n");
            out.push((false, s));
            continue;
        }
        let seqs = match (o.first_sequence, o.last_sequence) {
            (Some(a), Some(b)) if a != b => format!("sequences {a}..{b}"),
            (Some(a), _) => format!("sequence {a}"),
            _ => String::new(),
        };
        match (&o.first_event, &o.last_event) {
            (Some(f), Some(l)) => s.push_str(&format!(
                "  events      {f} .. {l} ({} verified archive(s), {seqs})\n",
                o.archives
            )),
            _ => s.push_str(&format!(
                "  events      none with a readable time ({} verified archive(s), {seqs})\n",
                o.archives
            )),
        }
        if let (Some(f), Some(l)) = (&o.first_seal, &o.last_seal) {
            s.push_str(&format!("  sealed      {f} .. {l}\n"));
        }
        if let Some(t) = &o.nothing_before {
            s.push_str(&format!(
                "  nothing before {t}: the period starts at {}\n",
                c.from
            ));
        }
        if let Some(t) = &o.nothing_after {
            let why = if o.sealed_before_end {
                format!(
                    "the newest archive was sealed at {} before the period ends at {}: newer archives may exist and were not given",
                    o.last_seal.as_deref().unwrap_or("?"),
                    c.to
                )
            } else {
                format!("the period ends at {}", c.to)
            };
            s.push_str(&format!("  nothing after {t}: {why}\n"));
        }
        for g in &o.gaps {
            s.push_str(&format!(
                "  gap         {} .. {} ({} without any event)\n",
                g.start,
                g.end,
                human_duration(g.seconds * MICROS_PER_SECOND)
            ));
        }
        if o.gaps_total > o.gaps.len() as u64 {
            s.push_str(&format!(
                "  ... {} more gap(s)\n",
                o.gaps_total - o.gaps.len() as u64
            ));
        }
        out.push((o.covered, s));
    }
    out.push((true, format!("note: {}\n", c.caveat)));
    out
}

/// The human report: `(stdout, stderr)`. A verified bundle goes to stdout; anything else to stderr. Every piece
/// of text from the bundle is made safe for a terminal.
pub fn bundle_verification(v: &BundleVerification) -> (String, String) {
    let s = |t: &str| terminal_safe(t);
    let mut body = String::new();
    let field = |body: &mut String, name: &str, value: String| {
        body.push_str(&format!("  {name:<11} {value}\n"));
    };
    // Who made the selection and the reports is part of the verdict: a bundle re-signed by any key verifies, so
    // an auditor key nobody vouched for must not read as a plain VERIFIED.
    let untrusted_auditor = v.auditor.as_ref().filter(|a| !a.trusted);
    // Events of archives sealed on receipt are never just VERIFIED: their signature proves no change since
    // receipt, not authenticity at the source (docs/archive-format.md section 4.1).
    let received = v
        .events
        .iter()
        .filter(|e| e.received_label.is_some())
        .count();
    let total = v.events.len();
    let receipt = format!(
        "{received} event(s) only SEALED ON RECEIPT ({})",
        auditlens::archive::RECEIPT_MEANING
    );
    let headline = match v.status {
        BundleStatus::Verified => {
            let events = match received {
                0 => "VERIFIED".to_string(),
                r if r == total => format!(
                    "SEALED ON RECEIPT: all {r} event(s) ({})",
                    auditlens::archive::RECEIPT_MEANING
                ),
                r => format!("VERIFIED {} event(s); {receipt}", total - r),
            };
            match untrusted_auditor {
                None => events,
                Some(a) => format!(
                    "{}; selection, purpose and reports by an UNTRUSTED auditor key {} {} (pass --trust-auditor KEY.pub to require it)",
                    if received == 0 {
                        "VERIFIED events from trusted producers".to_string()
                    } else {
                        format!("{events}, signed by trusted keys")
                    },
                    s(&a.name),
                    a.fingerprint
                ),
            }
        }
        BundleStatus::Untrusted => format!(
            "intact, but NOT TRUSTED ({})",
            v.failure.as_ref().map(kind_name).unwrap_or_default()
        ),
        BundleStatus::Failed => format!(
            "FAILED ({})",
            v.failure.as_ref().map(kind_name).unwrap_or_default()
        ),
    };
    body.push_str(&format!("{}: {headline}\n", s(&v.bundle)));
    if let Some(a) = &v.auditor {
        field(
            &mut body,
            "auditor",
            format!(
                "{} {} ({})",
                s(&a.key),
                a.fingerprint,
                if a.trusted {
                    "trusted"
                } else {
                    "NOT trusted: compare the fingerprint, or pass --trust-auditor KEY.pub"
                }
            ),
        );
    }
    if let Some(e) = &v.exported {
        field(&mut body, "exported", s(e));
    }
    if let Some(t) = &v.tool {
        field(&mut body, "tool", s(t));
    }
    if let Some(p) = &v.purpose {
        field(&mut body, "purpose", s(p));
    }
    if let Some(sel) = &v.selection {
        let text = match (&sel.query, &sel.ids) {
            (Some(q), _) => format!("query {}", s(q)),
            (None, Some(ids)) => format!("{} hand-picked event id(s)", ids.len()),
            _ => "-".into(),
        };
        field(&mut body, "selection", text);
    }
    for (k, a) in v.archives.iter().enumerate() {
        field(
            &mut body,
            &format!("archive {}", k + 1),
            format!(
                "{} sequence {}: {} of {} events, root {}, {} {} {} ({}){}",
                s(&a.origin),
                a.sequence,
                a.events,
                a.size,
                a.root,
                if a.received_label.is_some() {
                    "signer"
                } else {
                    "producer"
                },
                s(&a.signer.name),
                a.signer.fingerprint,
                match (a.signer.trusted, a.cloudtrail_label.is_some()) {
                    (true, _) => "trusted",
                    (false, false) => "NOT trusted: pass --trust KEY.pub",
                    (false, true) => "NOT trusted: pass --aws-keys KEYS.json from AWS",
                },
                a.received_label
                    .as_deref()
                    .or(a.cloudtrail_label.as_deref())
                    .map(|l| format!("; {}", s(l)))
                    .unwrap_or_default()
                    + if a.cloudtrail_label.is_some() {
                        "  [AWS CloudTrail]"
                    } else {
                        ""
                    }
            ),
        );
    }
    for e in &v.events {
        field(
            &mut body,
            "event",
            format!(
                "{} leaf {}{}",
                s(&e.id),
                e.leaf,
                if e.received_label.is_some() {
                    "  [sealed on receipt]"
                } else if e.cloudtrail_label.is_some() {
                    "  [AWS CloudTrail]"
                } else {
                    ""
                }
            ),
        );
    }
    if let Some(doc) = &v.annotations {
        body.push_str(&format!(
            "  AUDITOR'S ANNOTATIONS (not evidence; signed by the auditor key above, by no producer){}:\n",
            doc.action_log
                .as_ref()
                .map(|h| format!("; action log at entry {}, head {}", h.entries, h.head))
                .unwrap_or_default()
        ));
        for a in &doc.events {
            let mut parts = Vec::new();
            if !a.tags.is_empty() {
                parts.push(format!(
                    "tags {}",
                    a.tags.iter().map(|t| s(t)).collect::<Vec<_>>().join(", ")
                ));
            }
            if a.bookmarked {
                parts.push("bookmarked".into());
            }
            if let Some(n) = &a.note {
                parts.push(format!("note {}", s(n)));
            }
            field(
                &mut body,
                "annotation",
                format!("{}: {}", s(&a.event), parts.join("; ")),
            );
        }
    }
    if let Some(f) = &v.failure {
        field(&mut body, "reason", s(&f.message));
        let mut place = Vec::new();
        if let Some(e) = &f.entry {
            place.push(format!("entry {}", s(e)));
        }
        if let Some(l) = f.line {
            place.push(format!("line {l}"));
        }
        if let Some(e) = &f.event {
            place.push(format!("event {}", s(e)));
        }
        if !place.is_empty() {
            field(&mut body, "where", place.join(", "));
        }
        if let Some(e) = &f.expected {
            field(&mut body, "expected", s(e));
        }
        if let Some(found) = &f.found {
            field(&mut body, "found", s(found));
        }
    }
    match v.status {
        BundleStatus::Verified => {
            let what = if received == 0 {
                format!(
                    "{} event(s) from {} archive(s) verified: exact bytes, inclusion proofs to signed checkpoints by trusted producer keys",
                    total,
                    v.archives.len()
                )
            } else {
                format!(
                    "{} event(s) from {} archive(s): {} verified and {receipt}: exact bytes, inclusion proofs to signed checkpoints by trusted keys",
                    total,
                    v.archives.len(),
                    total - received
                )
            };
            body.push_str(&format!(
                "OK: {what}, the auditor's signed manifest, and reports that say exactly what the events say{}\n",
                if untrusted_auditor.is_some() {
                    "; the auditor key is NOT trusted: who selected these events, and why, rests on that key alone"
                } else {
                    ""
                }
            ));
            (body, String::new())
        }
        _ => {
            body.push_str("NOT VERIFIED\n");
            (String::new(), body)
        }
    }
}

fn kind_name(f: &BundleFailure) -> String {
    serde_json::to_value(f.kind)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
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

/// `auditlens import`: one line per archive (stdout when stored, stderr with the failure's details otherwise),
/// then a warning when its origin looks like another.
pub fn imported(path: &Path, result: &ImportResult) {
    let where_ = match (&result.report.origin, result.report.sequence) {
        (Some(o), Some(s)) => format!(" [{} sequence {s}]", safe(o)),
        _ => String::new(),
    };
    let gap = result
        .gap_before
        .map(|s| format!("; gap before sequence {s}"))
        .unwrap_or_default();
    let change = result
        .signer_change
        .as_ref()
        .map(|c| {
            format!(
                "; signer changes at sequence {}: {} -> {}",
                c.sequence, c.from, c.to
            )
        })
        .unwrap_or_default();
    let line = format!(
        "{}: {}{where_}{gap}{}",
        safe(&path.display().to_string()),
        safe(&result.message),
        safe(&change)
    );
    match result.outcome {
        ImportOutcome::Imported | ImportOutcome::AlreadyImported => {
            println!("{line}");
            if let Some(n) = &result.normalization {
                println!("  normalization: {}", safe(&n.text));
            }
            // Events no time filter can place (docs/sources.md section 2), with the first one's time member.
            if let Some(u) = &result.untimed {
                println!("  no time: {}", safe(&u.to_string()));
            }
        }
        _ => {
            eprintln!("{line}");
            if let Some(f) = &result.report.failure {
                eprint!("{}", failure_details(f));
            }
        }
    }
    if let (Some(origin), false) = (&result.report.origin, result.lookalikes.is_empty()) {
        let others: Vec<String> = result
            .lookalikes
            .iter()
            .map(|o| format!("\"{}\"", safe(o)))
            .collect();
        eprintln!(
            "{}: WARNING: origin \"{}\" looks like {} (stored or given in this run): they differ only in \
             case, Unicode form or invisible characters; origins are compared exactly, so these are different logs",
            safe(&path.display().to_string()),
            safe(origin),
            others.join(" and ")
        );
    }
}

/// Where a problem or notice of `check` is: origin and sequence, else the archive row, else the database as a
/// whole.
fn place(p: &CheckProblem) -> String {
    let mut place = String::new();
    if let (Some(o), Some(s)) = (&p.origin, p.sequence) {
        place.push_str(&format!("{} sequence {s}", safe(o)));
    } else if let Some(id) = p.archive_id {
        place.push_str(&format!("archive #{id}"));
    } else {
        place.push_str("database");
    }
    if let Some(i) = p.event_index {
        place.push_str(&format!(", event index {i}"));
    }
    place
}

/// `auditlens check`: OK and its notices on stdout, or the notices, problems and NOT OK on stderr.
pub fn check(db: &Path, result: &CheckReport) {
    if result.ok {
        println!(
            "OK: {}, {} re-verified from the stored bytes; schema, signatures, signers, trust, roots, chains, \
             normalized fields, full-text index and summary tables match",
            count(result.archives_checked, "archive"),
            count(result.events_checked, "event")
        );
        for n in &result.notices {
            println!("note: {}: {}", place(n), safe(&n.message));
        }
    } else {
        for n in &result.notices {
            eprintln!("note: {}: {}", place(n), safe(&n.message));
        }
        for p in &result.problems {
            eprintln!("{}: {}", place(p), safe(&p.message));
        }
        eprintln!(
            "NOT OK: {} problem(s) found in {}",
            result.problems.len(),
            safe(&db.display().to_string())
        );
    }
}

/// `auditlens search`: the table of a page, then how to get the next one (or that nothing matched).
pub fn search_page(events: &[EventRow], next: Option<&str>) {
    print!("{}", event_table(events));
    match next {
        Some(next) => println!("more results: --after {}", safe(next)),
        None if events.is_empty() => println!("no matching events"),
        None => {}
    }
}

/// `auditlens stats`: the figures, whose rules made the fields, and the search that reproduces the total.
pub fn stats(db: &Path, s: &Stats, all: bool, producer: &[ArchiveNote]) {
    let which = if all {
        "all stored archives"
    } else {
        "verified archives"
    };
    println!(
        "{} requests in {which} (Kubernetes RequestReceived/ResponseStarted records are not counted)",
        s.total
    );
    let line = |name: &str, map: &BTreeMap<String, u64>| {
        let parts: Vec<String> = map
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{} {n}", safe(k)))
            .collect();
        println!(
            "{name:<12} {}",
            if parts.is_empty() {
                "-".into()
            } else {
                parts.join(", ")
            }
        );
    };
    if s.untimed > 0 {
        let left_out = if s.scope.from.is_some() || s.scope.to.is_some() {
            "none of them is counted here"
        } else {
            "counted above, in no day below"
        };
        println!(
            "no time:     {} of {which}: {left_out} (the search {:?} lists them)",
            auditlens::report::count(s.untimed, "request"),
            s.drill.untimed
        );
    }
    line("category:", &s.by_category);
    line("outcome:", &s.by_outcome);
    line("source:", &s.by_source);
    if !s.top_actors.is_empty() {
        println!("top actors:");
        for a in &s.top_actors {
            match &a.identities {
                // A person of the working papers: the actor values counted together.
                Some(ids) => println!(
                    "  {:>8}  {} (person: {})",
                    a.count,
                    safe(&a.actor),
                    ids.iter()
                        .map(|i| safe(i).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => println!("  {:>8}  {}", a.count, safe(&a.actor)),
            }
        }
    }
    // The days with deployments only (a range of months would be a line per empty day); `--json` has them all.
    let busy: Vec<_> = s
        .deployments_per_day
        .iter()
        .filter(|d| d.count > 0)
        .collect();
    if !s.deployments_per_day.is_empty() {
        println!(
            "deployments per day (UTC): {} of {} with deployments{}",
            busy.len(),
            count(s.deployments_per_day.len() as u64, "day"),
            if busy.len() < s.deployments_per_day.len() {
                " (days without any not listed)"
            } else {
                ""
            }
        );
        for d in busy {
            println!("  {}  {}", safe(&d.day), d.count);
        }
    }
    // Whose rules (docs/sources.md): the fields of these archives are what the producer's mapping file says.
    if !producer.is_empty() {
        println!(
            "fields of {} come from the producer's mapping file (re-normalize with import --as KIND):",
            count(producer.len() as u64, "archive")
        );
        for a in producer {
            println!(
                "  {}@{} {}",
                terminal_safe(a.origin.as_deref().unwrap_or("")),
                a.sequence.unwrap_or(0),
                a.reason.as_deref().unwrap_or("")
            );
        }
    }
    println!(
        "every figure is the count of a search; e.g. the total: auditlens search --db {} --count -- {:?}",
        safe(&db.display().to_string()),
        s.drill.total
    );
}

/// `auditlens export`: one line about the bundle written.
pub fn exported(s: &ExportSummary) {
    println!(
        "exported {} event(s) from {} archive(s) to {} ({}); manifest signed by auditor {} {}",
        s.events,
        s.archives,
        safe(&s.out),
        human_bytes(s.bytes),
        safe(&s.auditor.name),
        s.auditor.fingerprint
    );
}

/// `auditlens export` refused: the first refusals and why nothing was written.
pub fn export_refused(refusals: &[Refusal]) {
    const SHOWN: usize = 50;
    for r in refusals.iter().take(SHOWN) {
        eprintln!("{}: {}", safe(&r.id), safe(&r.reason));
    }
    if refusals.len() > SHOWN {
        eprintln!("... and {} more", refusals.len() - SHOWN);
    }
    eprintln!(
        "NOT EXPORTED: {} selected event(s) cannot be exported as verified; nothing was written",
        refusals.len()
    );
}

/// `auditlens verify-bundle`: the report of [`bundle_verification`] on stdout and stderr.
pub fn verify_bundle(v: &BundleVerification) {
    let (out, err) = bundle_verification(v);
    print!("{out}");
    eprint!("{err}");
}

/// `auditlens bench`: the heading line (the tables are the benchmark crate's).
pub fn bench_heading(events: u64, dir: &Path, cores: usize) {
    println!(
        "auditlens bench: {events} generated events in {} ({cores} cores)",
        dir.display()
    );
}

/// `auditlens export-parquet` under way: a bar, rows, rate and ETA.
pub fn export_progress_line(rows: u64, total: u64, elapsed: Duration) -> String {
    const WIDTH: usize = 30;
    let secs = elapsed.as_secs_f64().max(1e-3);
    let rate = rows as f64 / secs;
    let frac = if total == 0 {
        1.0
    } else {
        (rows as f64 / total as f64).min(1.0)
    };
    let filled = (frac * WIDTH as f64).round() as usize;
    let eta = if rate > 0.0 {
        total.saturating_sub(rows) as f64 / rate
    } else {
        0.0
    };
    format!(
        "[{}{}] {:5.1}%  {rows}/{total} events  {rate:.0} events/s  ETA {eta:.0} s",
        "#".repeat(filled),
        " ".repeat(WIDTH - filled),
        100.0 * frac
    )
}

/// `auditlens export-parquet` done.
pub fn parquet_exported(
    s: &auditlens::ocsf::ParquetExportSummary,
    elapsed: Duration,
    auditor: &auditlens::note::VerifierKey,
) {
    let secs = elapsed.as_secs_f64().max(1e-3);
    println!(
        "exported {} event(s) as OCSF {} Parquet to {}: {} file(s), {} ({} of event bytes), {:.1} s, {:.0} events/s",
        s.rows,
        auditlens::ocsf::OCSF_VERSION,
        safe(&s.out),
        s.files,
        human_bytes(s.bytes),
        human_bytes(s.raw_bytes),
        secs,
        s.rows as f64 / secs
    );
    for (class, n) in &s.by_class {
        println!("  {class}: {n}");
    }
    if s.left_out_unverified > 0 {
        println!(
            "left out: {} event(s) of archives that are not verified",
            s.left_out_unverified
        );
    }
    if s.left_out_stages > 0 {
        println!(
            "left out: {} Kubernetes record(s) at stage RequestReceived or ResponseStarted (--all-stages exports them)",
            s.left_out_stages
        );
    }
    println!(
        "manifest signed by auditor {} {} (_manifest, _manifest.json)",
        safe(auditor.name()),
        auditor.fingerprint()
    );
}

/// `auditlens export-parquet` refused: nothing was left in the output.
pub fn parquet_refused(why: &str) {
    eprintln!("{}", safe(why));
    eprintln!(
        "NOT EXPORTED: a selected archive cannot be exported as verified; nothing was written"
    );
}

/// `auditlens log`: one line per entry, then whether the chain holds (and ends at `head`, when given).
pub fn action_log(
    entries: &[auditlens::papers::Action],
    check: &auditlens::papers::LogCheck,
    head: Option<&str>,
) {
    for e in entries {
        let detail = if e.detail.is_empty() {
            String::new()
        } else {
            format!(": {}", safe(&e.detail))
        };
        println!(
            "{:>5}  {}  {}  {}{detail}",
            e.seq,
            safe(&e.at),
            safe(&e.action),
            safe(&e.subject)
        );
    }
    for p in &check.problems {
        eprintln!(
            "entry {}: {}: expected {}, found {}",
            p.seq,
            p.problem,
            safe(&p.expected),
            safe(&p.found)
        );
    }
    // The head is the last entry's stored hash, text from the file: shown escaped like every other value.
    let head_now = check.head.as_deref().unwrap_or("(empty)");
    match head {
        Some(h) if !h.trim().eq_ignore_ascii_case(head_now) => eprintln!(
            "NOT OK: the log ends at {}, not at the head given ({}): entries were removed from its end, or added",
            safe(head_now),
            safe(h.trim())
        ),
        _ if check.ok() => println!(
            "OK: {}, hash chain whole; head {}",
            entries_text(check.entries),
            safe(head_now)
        ),
        _ => eprintln!(
            "NOT OK: {} problem(s) in the chain of {}",
            check.problems.len(),
            entries_text(check.entries)
        ),
    }
}

fn entries_text(n: u64) -> String {
    if n == 1 {
        "1 entry".into()
    } else {
        format!("{n} entries")
    }
}

/// `auditlens verify` on a CloudTrail export folder: per trail and region, what the digests cover and every
/// failure with its file, expected and found value (docs/cloudtrail.md). Names and paths come from the export:
/// escaped like every other value.
pub fn cloudtrail_export(path: &str, report: &auditlens::cloudtrail_digest::ExportReport) {
    println!("CloudTrail export {}", safe(path));
    for line in auditlens::cloudtrail_digest::render_text(report) {
        println!("{}", safe(&line));
    }
}

/// One CloudTrail export's import: the verification report, then what each trail stored (stderr when not
/// stored).
pub fn cloudtrail_imported(result: &auditlens::store::import::CloudTrailImport) {
    let ok = result.is_ok();
    let say = |line: String| {
        if ok {
            println!("{line}");
        } else {
            eprintln!("{line}");
        }
    };
    say(format!("{}: {}", safe(&result.path), safe(&result.message)));
    for t in &result.trails {
        let at = match (t.archive_id, t.sequence) {
            (Some(id), Some(seq)) => format!(" (archive #{id}, sequence {seq})"),
            (Some(id), None) => format!(" (archive #{id})"),
            _ => String::new(),
        };
        say(format!("  {}{at}: {}", safe(&t.origin), safe(&t.message)));
        say(format!("    {}", safe(&t.label)));
    }
    if !ok {
        for line in auditlens::cloudtrail_digest::render_text(&result.report) {
            eprintln!("  {}", safe(&line));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_shown_in_binary_units() {
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }
}
