//! `report.html`: one static, self-contained page (docs/evidence-bundle.md section 7). No script, no external
//! resource, inline CSS only, and a Content-Security-Policy that forbids anything else even if a browser were
//! tricked. Every piece of text that comes from an event (or from the auditor) goes through [`text`], which
//! escapes it as HTML text and turns invisible and reordering characters into visible `U+XXXX` marks. Class names
//! and anchors are never built from event text. The page prints to A4 or Letter (`@page`, print media rules,
//! table headers repeated, page numbers in the margin).

use std::io::{self, Write};

use super::{ExportReport, ReportEvent, is_hidden_char};

/// Escapes `s` as HTML text (`&`, `<`, `>`, `"`, `'`), showing hidden characters as `U+XXXX` marks.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    push_text(&mut out, s, false);
    out
}

/// Like [`text`], with a line-break opportunity (`<wbr>`) after every comma, for long JSON.
fn json_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    push_text(&mut out, s, true);
    out
}

fn push_text(out: &mut String, s: &str, breaks: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            ',' if breaks => out.push_str(",<wbr>"),
            c if is_hidden_char(c) => {
                out.push_str(&format!("<span class=\"cc\">U+{:04X}</span>", c as u32));
            }
            c => out.push(c),
        }
    }
}

/// The mark of an event sealed on receipt (docs/evidence-bundle.md section 7.2). Inline style: the page's style
/// sheet, and so every page without such an event, stays byte for byte what it was.
const RECEIPT_PILL: &str = "<span class=\"pill\" style=\"color:var(--warn);background:var(--warnbg);\
    border-color:#ecd3a4\">sealed on receipt</span>";

/// The mark of an AWS CloudTrail event (docs/evidence-bundle.md section 11.4).
const AWS_PILL: &str = "<span class=\"pill\">AWS CloudTrail</span>";

/// Text of an archive sealed on receipt: its label, set apart (inline style, as [`RECEIPT_PILL`]).
fn receipt_label(label: &str) -> String {
    format!(
        "<strong style=\"color:var(--warn)\">{}</strong>",
        text(label)
    )
}

fn opt(v: &Option<String>) -> String {
    match v {
        Some(s) => text(s),
        None => "<span class=\"none\">&mdash;</span>".into(),
    }
}

/// A fixed class for the outcome pill: never built from the event's text.
fn outcome_pill(outcome: &Option<String>) -> String {
    let Some(o) = outcome else {
        return "<span class=\"none\">&mdash;</span>".into();
    };
    let class = match o.to_ascii_lowercase().as_str() {
        "success" => "o-success",
        "denied" => "o-denied",
        "failure" => "o-failure",
        _ => "o-other",
    };
    format!("<span class=\"pill {class}\">{}</span>", text(o))
}

const STYLE: &str = r#"
:root{--ink:#1b2330;--muted:#5d6776;--line:#d7dce3;--soft:#f3f5f8;--accent:#1f3a5f;--ok:#17693a;--okbg:#eaf5ee;
--bad:#a3262c;--badbg:#fbecec;--warn:#8a5700;--warnbg:#fdf3e0}
*{box-sizing:border-box}
html{-webkit-print-color-adjust:exact;print-color-adjust:exact;background:#fff}
body{margin:0 auto;max-width:1060px;padding:36px 44px 52px;color:var(--ink);
font:10pt/1.45 "Segoe UI",Roboto,"Helvetica Neue",Arial,"Liberation Sans","DejaVu Sans",sans-serif}
code,.mono,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace}
.mono,code{font-size:8.6pt}
.mono,pre.raw,.id{unicode-bidi:bidi-override;direction:ltr}
.v{unicode-bidi:isolate}
h1{font-size:21pt;line-height:1.15;margin:2px 0 4px;letter-spacing:-.01em}
h2{font-size:12.5pt;color:var(--accent);margin:26px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--accent);
break-after:avoid;page-break-after:avoid}
h3{font-size:10.5pt;margin:14px 0 6px}
p{margin:4px 0 8px}
.eyebrow{font-size:7.8pt;font-weight:700;letter-spacing:.14em;text-transform:uppercase;color:var(--muted)}
.doc-head{display:flex;justify-content:space-between;align-items:flex-end;gap:24px;border-bottom:1px solid var(--line);
padding-bottom:12px}
.doc-head .stamp{text-align:right;font-size:8.6pt;color:var(--muted);white-space:nowrap}
.purpose{font-size:11.5pt;margin:14px 0 12px;padding:8px 12px;background:var(--soft);border-left:4px solid var(--accent)}
.purpose .label{display:block;font-size:7.8pt;font-weight:700;letter-spacing:.1em;text-transform:uppercase;color:var(--muted)}
dl.meta{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:3px 18px;margin:0}
dl.meta dt{color:var(--muted);font-weight:600}
dl.meta dd{margin:0;overflow-wrap:anywhere}
.verdict{margin:18px 0 4px;padding:11px 15px;border:1px solid #b9dcc6;border-left:6px solid var(--ok);
background:var(--okbg);border-radius:4px;break-inside:avoid}
.verdict .title{font-weight:700;color:var(--ok);font-size:11pt;margin-bottom:3px}
.verdict ul{margin:6px 0 0;padding-left:0;list-style:none}
.verdict li{margin:2px 0;padding-left:18px;position:relative}
.verdict li:before{content:"\2713";position:absolute;left:0;color:var(--ok);font-weight:700}
.note{color:var(--muted);font-size:8.8pt}
table{width:100%;border-collapse:collapse;font-size:8.8pt}
thead{display:table-header-group}
th,td{text-align:left;vertical-align:top;padding:4px 6px;border-bottom:1px solid var(--line)}
thead th{background:var(--soft);border-bottom:1.5px solid #a9b2bf;font-weight:600;white-space:nowrap}
tbody tr:nth-child(even) td{background:#fafbfc}
tr{break-inside:avoid;page-break-inside:avoid}
td{overflow-wrap:anywhere}
td.n,th.n{text-align:right;white-space:nowrap}
td.t{white-space:nowrap}
a{color:var(--accent);text-decoration:none}
.pill{display:inline-block;padding:0 7px;border:1px solid;border-radius:9px;font-size:7.8pt;font-weight:700;
white-space:nowrap}
.o-success{color:var(--ok);background:var(--okbg);border-color:#b9dcc6}
.o-denied{color:var(--bad);background:var(--badbg);border-color:#e8babd}
.o-failure{color:var(--warn);background:var(--warnbg);border-color:#ecd3a4}
.o-other{color:var(--muted);background:var(--soft);border-color:var(--line)}
.none{color:#9aa3af}
.cc{font:7pt ui-monospace,"Liberation Mono","DejaVu Sans Mono",monospace;color:var(--bad);border:1px solid currentColor;
border-radius:2px;padding:0 2px;margin:0 1px;white-space:nowrap;unicode-bidi:isolate}
article.event{border:1px solid var(--line);border-radius:5px;margin:0 0 12px}
article.event .fields,article.event .prov,article.event>header{break-inside:avoid;page-break-inside:avoid}
article.event>header,.label-raw{break-after:avoid;page-break-after:avoid}
article.event>header{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 12px;padding:6px 11px;
background:var(--soft);border-bottom:1px solid var(--line);border-radius:5px 5px 0 0}
article.event .num{font-weight:700;color:var(--accent)}
article.event .when{font-weight:600}
article.event .id{margin-left:auto;font-size:8.2pt;color:var(--muted);overflow-wrap:anywhere}
article.event .body{padding:7px 11px 9px}
.fields{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:1px 22px}
.kv{display:grid;grid-template-columns:88px minmax(0,1fr);gap:8px;padding:1px 0}
.kv .k{color:var(--muted)}
.kv .v{overflow-wrap:anywhere}
.prov{margin-top:6px;padding-top:5px;border-top:1px dashed var(--line);font-size:8.4pt}
.prov .kv{grid-template-columns:88px minmax(0,1fr)}
.prov .mono{font-size:8.2pt}
.archive{border:1px solid var(--line);border-radius:5px;padding:8px 12px;margin:0 0 10px;break-inside:avoid;page-break-inside:avoid}
.archive h3{margin:0 0 6px;font-size:10pt}
.archive dl.meta{font-size:9pt}
.label-raw{margin:7px 0 2px;font-size:7.8pt;font-weight:700;letter-spacing:.08em;text-transform:uppercase;color:var(--muted)}
pre.raw{margin:0;padding:6px 8px;background:#fafbfc;border:1px solid var(--line);border-radius:3px;font-size:7.6pt;
line-height:1.4;white-space:pre-wrap;overflow-wrap:anywhere}
ol.steps{padding-left:20px}
ol.steps li{margin:4px 0}
ul.ids{columns:2;column-gap:24px;margin:4px 0;padding-left:18px;font-size:8.6pt}
footer{margin-top:28px;padding-top:8px;border-top:1px solid var(--line);font-size:8.2pt;color:var(--muted)}
@page{size:auto;margin:15mm 13mm 16mm 13mm;
@bottom-left{content:"AuditLens evidence report";font:7.5pt "Liberation Sans",Arial,sans-serif;color:#6b7480}
@bottom-right{content:"Page " counter(page) " of " counter(pages);font:7.5pt "Liberation Sans",Arial,sans-serif;color:#6b7480}}
@media print{body{max-width:none;padding:0;font-size:9.4pt}h2{margin-top:20px}.doc-head{padding-top:0}}
"#;

/// Writes the page. `raw(i)` returns the exact text of the `i`-th event (0-based, bundle order); the events'
/// text is fetched one at a time so the page streams out with bounded memory.
pub fn render(
    report: &ExportReport,
    annotations: &[crate::papers::EventAnnotations],
    out: &mut dyn Write,
    raw: &mut dyn FnMut(usize) -> io::Result<String>,
) -> io::Result<()> {
    let n = report.events.len();
    let title = format!(
        "Evidence report: {} event{} exported {}",
        n,
        if n == 1 { "" } else { "s" },
        report.exported
    );
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; \
         img-src 'none'; script-src 'none'; form-action 'none'; base-uri 'none'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"{tool}\">\n<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        tool = text(&report.tool),
        title = text(&title),
    )?;

    // Header.
    let selection_line = match (&report.selection.query, &report.selection.ids) {
        (Some(q), _) => format!("query <code class=\"v\">{}</code>", text(q)),
        (None, Some(ids)) => format!(
            "{} hand-picked event id{}",
            ids.len(),
            if ids.len() == 1 { "" } else { "s" }
        ),
        (None, None) => "&mdash;".into(),
    };
    let received = report
        .events
        .iter()
        .filter(|e| e.received.is_some())
        .count();
    let received_note = if received == 0 {
        String::new()
    } else {
        format!(
            "; {received} of them only sealed on receipt ({})",
            text(crate::archive::RECEIPT_MEANING)
        )
    };
    let span = match &report.time_range {
        Some(t) => format!("{} &ndash; {} (UTC)", text(&t.first), text(&t.last)),
        None => "no event has a readable time".into(),
    };
    write!(
        out,
        "<header class=\"doc-head\"><div><div class=\"eyebrow\">AuditLens &middot; Evidence report</div>\
         <h1>Evidence bundle: {n} event{s}</h1></div>\
         <div class=\"stamp\">Exported {exported}<br>{tool}</div></header>\n\
         <div class=\"purpose\"><span class=\"label\">Stated purpose</span><span class=\"v\">{purpose}</span></div>\n\
         <dl class=\"meta\">\
         <dt>Exported by</dt><dd><span class=\"v\">{aname}</span> &middot; key fingerprint <span class=\"mono\">{afp}</span></dd>\
         <dt>Exported at</dt><dd>{exported} (UTC)</dd>\
         <dt>Selection</dt><dd>{selection_line}</dd>\
         <dt>Events</dt><dd>{n} from {k} signed archive{ks}{received_note}</dd>\
         <dt>Time span</dt><dd>{span}</dd>\
         <dt>Software</dt><dd>{tool}</dd>\
         </dl>\n",
        s = if n == 1 { "" } else { "s" },
        exported = text(&report.exported),
        tool = text(&report.tool),
        purpose = text(&report.purpose),
        aname = text(&report.auditor.name),
        afp = text(&report.auditor.fingerprint),
        k = report.archives.len(),
        ks = if report.archives.len() == 1 { "" } else { "s" },
    )?;

    // Verification summary.
    write!(
        out,
        "<section class=\"verdict\"><div class=\"title\">Verified at export{}</div><div>{}</div><ul>",
        if received == 0 {
            String::new()
        } else {
            format!(
                "; {received} event{} only sealed on receipt",
                if received == 1 { "" } else { "s" }
            )
        },
        text(&report.verification.summary)
    )?;
    for c in &report.verification.checks {
        write!(out, "<li>{}</li>", text(c))?;
    }
    write!(
        out,
        "</ul></section>\n<p class=\"note\">These checks were made by the exporting software at {} (UTC). \
         This page is a rendering; the evidence is the bundle itself: its signatures and proofs can be checked \
         again by anyone, with or without AuditLens (section 5).</p>\n",
        text(&report.verification.checked_at)
    )?;

    // 1. Selection.
    write!(out, "<h2>1. Selection</h2>\n<dl class=\"meta\">")?;
    match (&report.selection.query, &report.selection.ids) {
        (Some(q), _) => write!(
            out,
            "<dt>Query</dt><dd><code class=\"v\">{}</code></dd>\
             <dt>Evaluated</dt><dd>at {} (UTC), the export time (the &ldquo;now&rdquo; of <code>since:</code> terms); \
             the bundle holds every event the query matched in the evidence store, {} in all</dd>",
            text(q),
            text(&report.exported),
            n
        )?,
        (None, Some(ids)) => write!(
            out,
            "<dt>Event ids</dt><dd>{} listed by the auditor; the bundle holds exactly these events</dd>",
            ids.len()
        )?,
        (None, None) => {}
    }
    writeln!(
        out,
        "<dt>Purpose</dt><dd class=\"v\">{}</dd>\
         <dt>Auditor key</dt><dd class=\"mono\">{}</dd>\
         <dt>Fingerprint</dt><dd class=\"mono\">{}</dd></dl>",
        text(&report.purpose),
        text(&report.auditor.key),
        text(&report.auditor.fingerprint)
    )?;
    if let (None, Some(ids)) = (&report.selection.query, &report.selection.ids) {
        write!(out, "<ul class=\"ids mono\">")?;
        for id in ids {
            write!(out, "<li>{}</li>", text(id))?;
        }
        writeln!(out, "</ul>")?;
    }

    // 2. Events at a glance.
    write!(
        out,
        "<h2>2. Events at a glance</h2>\n<table><thead><tr><th class=\"n\">#</th><th>Time (UTC)</th><th>Actor</th>\
         <th>Action</th><th>Resource</th><th>Environment</th><th>Outcome</th></tr></thead><tbody>\n"
    )?;
    for e in &report.events {
        writeln!(
            out,
            "<tr><td class=\"n\"><a href=\"#event-{p}\">{p}</a></td><td class=\"t\">{time}</td><td class=\"v\">{actor}</td>\
             <td class=\"v\">{action}</td><td class=\"v\">{resource}</td><td class=\"v\">{env}</td><td>{outcome}{mark}</td></tr>",
            p = e.position,
            time = opt(&e.time),
            actor = opt(&e.actor),
            action = opt(&e.action),
            resource = opt(&e.resource),
            env = opt(&e.env),
            outcome = outcome_pill(&e.outcome),
            mark = if e.received.is_some() {
                format!(" {RECEIPT_PILL}")
            } else if e.cloudtrail.is_some() {
                format!(" {AWS_PILL}")
            } else {
                String::new()
            },
        )?;
    }
    writeln!(out, "</tbody></table>")?;

    // 3. Sources.
    write!(
        out,
        "<h2>3. Signed archives (sources)</h2>\n<p class=\"note\">Each event is proven to be part of one of these \
         archives: its inclusion proof leads to the Merkle root the producer signed in the archive&rsquo;s \
         checkpoint, included unchanged in the bundle (<code>archives/NNNNNN/checkpoint</code>).</p>\n"
    )?;
    for a in &report.archives {
        if let Some(ct) = &a.cloudtrail {
            write_cloudtrail_archive(out, a, ct)?;
            continue;
        }
        // An archive sealed on receipt was signed by whoever received the files, not by their producer: its label
        // says so, and what it recorded of each file received.
        let (receipt, sealed_by, imported_as, key_title) = match &a.received {
            None => (
                String::new(),
                "by the producer",
                "verified under a trusted key",
                "Producer key",
            ),
            Some(r) => {
                let files: Vec<String> = r
                    .files
                    .iter()
                    .map(|f| {
                        format!(
                            "<span class=\"v\">{}</span> &middot; {} bytes &middot; sha256 <span class=\"mono\">{}</span>{}",
                            text(&f.name),
                            f.bytes,
                            text(&f.sha256),
                            match &f.entry {
                                Some(e) => format!(" &middot; {}", text(e)),
                                None => " &middot; no event".into(),
                            }
                        )
                    })
                    .collect();
                (
                    format!(
                        "<dt>Sealed on receipt</dt><dd>{}</dd><dt>Files received</dt><dd>{}</dd>",
                        receipt_label(&r.label),
                        files.join("<br>")
                    ),
                    "on receipt, by the key of whoever received the files, not by their producer",
                    "its signature verified under a trusted key: no change since receipt",
                    "Signer key",
                )
            }
        };
        writeln!(
            out,
            "<div class=\"archive\"><h3>Archive {num}: <span class=\"v\">{origin}</span>, sequence {seq}</h3>\
             <dl class=\"meta\">{receipt}\
             <dt>Events</dt><dd>{ev} exported of {size} in the archive &middot; source kind {kind}</dd>\
             <dt>Fields by</dt><dd>{rules}</dd>\
             <dt>Sealed</dt><dd>{sealed} (UTC), {sealed_by}</dd>\
             <dt>Imported</dt><dd>{imported} (UTC), {imported_as}</dd>\
             <dt>{key_title}</dt><dd><span class=\"v\">{sname}</span> &middot; fingerprint <span class=\"mono\">{sfp}</span></dd>\
             <dt>Key string</dt><dd class=\"mono\">{skey}</dd>\
             <dt>Merkle root</dt><dd class=\"mono\">{root}</dd>\
             </dl></div>",
            num = a.number,
            origin = text(&a.origin),
            seq = a.sequence,
            kind = text(&a.source_kind),
            rules = text(&a.normalization),
            ev = a.events,
            size = a.size,
            sealed = text(&a.sealed),
            imported = text(&a.imported),
            sname = text(&a.signer.name),
            sfp = text(&a.signer.fingerprint),
            skey = text(&a.signer.key),
            root = text(&a.root),
        )?;
    }

    // 4. Events in detail.
    write!(
        out,
        "<h2>4. Events in detail</h2>\n<p class=\"note\">Normalized fields are AuditLens&rsquo;s reading of each \
         event; the exact bytes below are what the producer signed (line <i>n</i> of <code>events.jsonl</code>). \
         Invisible or direction-changing characters are shown as <span class=\"cc\">U+XXXX</span> marks.</p>\n"
    )?;
    for (i, e) in report.events.iter().enumerate() {
        let raw_text = raw(i)?;
        let archive = report
            .archives
            .iter()
            .find(|a| a.origin == e.origin && a.sequence == e.sequence);
        write_event(out, e, archive, &raw_text)?;
    }

    // The auditor's annotations, marked as theirs (only when the bundle carries annotations.json).
    if !annotations.is_empty() {
        write!(
            out,
            "<h2 id=\"annotations\">Auditor&rsquo;s annotations (not evidence)</h2>\n\
             <p style=\"border-left:3px solid var(--warn);background:var(--warnbg);padding:6px 10px\">{}</p>\n\
             <table class=\"annotations\" style=\"width:100%;border-collapse:collapse\"><thead><tr><th>Event</th><th>Tags</th><th>Note</th><th>Bookmarked</th></tr>\
             </thead><tbody>",
            text(super::ANNOTATIONS_STATEMENT)
        )?;
        for a in annotations {
            let position = report
                .events
                .iter()
                .find(|e| e.id == a.event)
                .map(|e| e.position);
            let event = match position {
                Some(p) => format!(
                    "<a href=\"#event-{p}\">Event {p}</a><br><code>{}</code>",
                    text(&a.event)
                ),
                None => format!("<code>{}</code>", text(&a.event)),
            };
            let tags: Vec<String> = a
                .tags
                .iter()
                .map(|t| format!("<code class=\"v\">{}</code>", text(t)))
                .collect();
            write!(
                out,
                "<tr style=\"border-top:1px solid var(--line);vertical-align:top\"><td>{event}</td><td>{}</td>\
                 <td style=\"white-space:pre-wrap;overflow-wrap:anywhere\">{}</td><td>{}</td></tr>",
                if tags.is_empty() {
                    "&mdash;".into()
                } else {
                    tags.join(" ")
                },
                a.note
                    .as_deref()
                    .map(text)
                    .unwrap_or_else(|| "&mdash;".into()),
                if a.bookmarked { "yes" } else { "&mdash;" }
            )?;
        }
        writeln!(out, "</tbody></table>")?;
    }

    // 5. How to verify.
    write!(
        out,
        "<h2>5. How to verify this bundle</h2>\n<ol class=\"steps\">"
    )?;
    for step in &report.how_to_verify {
        write!(out, "<li>{}</li>", text(step))?;
    }
    write!(
        out,
        "</ol>\n<footer>Generated by {tool} at {exported} (UTC). Format: AuditLens evidence bundle, version {v} \
         (docs/evidence-bundle.md). Every entry of the bundle, this page included, is listed with its SHA-256 in \
         the <code>manifest</code> entry, signed by the auditor key above.</footer>\n</body>\n</html>\n",
        tool = text(&report.tool),
        exported = text(&report.exported),
        v = report.version,
    )?;
    Ok(())
}

fn write_event(
    out: &mut dyn Write,
    e: &ReportEvent,
    archive: Option<&super::ReportArchive>,
    raw: &str,
) -> io::Result<()> {
    let kv = |k: &str, v: String| {
        format!("<div class=\"kv\"><span class=\"k\">{k}</span><span class=\"v\">{v}</span></div>")
    };
    write!(
        out,
        "<article class=\"event\" id=\"event-{p}\"><header><span class=\"num\">Event {p}</span>\
         <span class=\"when\">{time}</span>{outcome}{mark}<span class=\"id\">{id}</span></header><div class=\"body\">\
         <div class=\"fields\">",
        p = e.position,
        time = match &e.time {
            Some(t) => format!("{} UTC", text(t)),
            None => "no readable time".into(),
        },
        outcome = outcome_pill(&e.outcome),
        mark = if e.received.is_some() {
            RECEIPT_PILL
        } else if e.cloudtrail.is_some() {
            AWS_PILL
        } else {
            ""
        },
        id = text(&e.id),
    )?;
    for (k, v) in [
        ("Actor", &e.actor),
        ("Action", &e.action),
        ("Resource", &e.resource),
        ("Outcome", &e.outcome),
        ("Category", &e.category),
        ("Source", &e.source),
        ("Environment", &e.env),
        ("Source IP", &e.ip),
        ("User agent", &e.agent),
        ("Stage", &e.stage),
    ] {
        out.write_all(kv(k, opt(v)).as_bytes())?;
    }
    write!(out, "</div><div class=\"prov\">")?;
    out.write_all(
        kv(
            "Archive",
            format!(
                "{} &middot; sequence {} &middot; index {}{}",
                text(&e.origin),
                e.sequence,
                e.index,
                archive
                    .map(|a| format!(" of {}", a.size))
                    .unwrap_or_default()
            ),
        )
        .as_bytes(),
    )?;
    if let Some(label) = &e.received {
        out.write_all(kv("Evidence", receipt_label(label)).as_bytes())?;
    }
    if let Some(ct) = &e.cloudtrail {
        out.write_all(kv("Evidence", format!("<strong>{}</strong>", text(&ct.label))).as_bytes())?;
        let log = archive
            .and_then(|a| a.cloudtrail.as_ref())
            .and_then(|c| c.logs.get(ct.log.wrapping_sub(1) as usize));
        out.write_all(
            kv(
                "Log file",
                format!(
                    "{} &middot; record {} of {}{}",
                    ct.log,
                    ct.record,
                    log.map(|l| l.records).unwrap_or_default(),
                    log.map(|l| format!(" &middot; <span class=\"v\">{}</span>", text(&l.object)))
                        .unwrap_or_default()
                ),
            )
            .as_bytes(),
        )?;
    }
    out.write_all(
        kv(
            if e.received.is_some() {
                "Signer"
            } else if e.cloudtrail.is_some() {
                "AWS key"
            } else {
                "Producer"
            },
            archive
                .map(|a| {
                    format!(
                        "{} <span class=\"mono\">{}</span>",
                        text(&a.signer.name),
                        text(&a.signer.fingerprint)
                    )
                })
                .unwrap_or_else(|| "&mdash;".into()),
        )
        .as_bytes(),
    )?;
    out.write_all(
        kv(
            "Leaf hash",
            format!("<span class=\"mono\">{}</span>", text(&e.leaf)),
        )
        .as_bytes(),
    )?;
    let proof = match &e.cloudtrail {
        None => format!(
            "{} hash{} to root <span class=\"mono\">{}</span>",
            e.proof_length,
            if e.proof_length == 1 { "" } else { "es" },
            archive.map(|a| text(&a.root)).unwrap_or_default()
        ),
        Some(ct) => format!(
            "record {} of log file {}, whose SHA-256 a digest signed by AWS CloudTrail lists",
            ct.record, ct.log
        ),
    };
    out.write_all(kv("Proof", proof).as_bytes())?;
    writeln!(
        out,
        "</div><div class=\"label-raw\">Exact event bytes (events.jsonl line {p}, {len} bytes)</div>\
         <pre class=\"raw\">{raw}</pre></div></article>",
        p = e.position,
        len = raw.len(),
        raw = json_text(raw),
    )?;
    Ok(())
}

/// The block of an AWS CloudTrail archive in section 3: its label, digests and log files (section 11.4).
fn write_cloudtrail_archive(
    out: &mut dyn Write,
    a: &super::ReportArchive,
    ct: &super::cloudtrail::ReportCloudTrail,
) -> io::Result<()> {
    let digests: Vec<String> = ct
        .digests
        .iter()
        .enumerate()
        .map(|(m, d)| {
            format!(
                "{} &middot; {} &ndash; {} &middot; <span class=\"v\">{}</span> &middot; sha256 <span class=\"mono\">{}</span> &middot; AWS key <span class=\"mono\">{}</span>",
                m + 1,
                text(&d.start),
                text(&d.end),
                text(&d.object),
                text(&d.sha256),
                text(&d.fingerprint)
            )
        })
        .collect();
    let logs: Vec<String> = ct
        .logs
        .iter()
        .enumerate()
        .map(|(j, l)| {
            format!(
                "{} &middot; <span class=\"v\">{}</span> &middot; sha256 <span class=\"mono\">{}</span> &middot; {} record{}, index {} &ndash; {} &middot; listed by digest {}",
                j + 1,
                text(&l.object),
                text(&l.sha256),
                l.records,
                if l.records == 1 { "" } else { "s" },
                l.first_index,
                l.first_index + l.records.saturating_sub(1),
                l.digest
            )
        })
        .collect();
    writeln!(
        out,
        "<div class=\"archive\"><h3>Archive {num}: <span class=\"v\">{origin}</span>, sequence {seq}</h3>\
         <dl class=\"meta\"><dt>Evidence</dt><dd><strong>{label}</strong></dd>\
         <dt>Events</dt><dd>{ev} exported of {size} in the archive &middot; source kind {kind}; every record of \
         the log files below is disclosed (AWS signs whole log files)</dd>\
         <dt>Fields by</dt><dd>{rules}</dd>\
         <dt>Last digest</dt><dd>{sealed} (UTC), signed by AWS CloudTrail</dd>\
         <dt>Imported</dt><dd>{imported} (UTC), verified against AWS&rsquo;s signed digests</dd>\
         <dt>AWS key</dt><dd><span class=\"v\">{sname}</span> &middot; fingerprint <span class=\"mono\">{sfp}</span></dd>\
         <dt>Digests</dt><dd>{digests}</dd>\
         <dt>Log files</dt><dd>{logs}</dd>\
         <dt>Merkle root</dt><dd class=\"mono\">{root} (of all the archive&rsquo;s events in the exporter&rsquo;s store; not checkable from this bundle)</dd>\
         </dl></div>",
        num = a.number,
        origin = text(&a.origin),
        seq = a.sequence,
        label = text(&ct.label),
        ev = a.events,
        size = a.size,
        kind = text(&a.source_kind),
        rules = text(&a.normalization),
        sealed = text(&a.sealed),
        imported = text(&a.imported),
        sname = text(&a.signer.name),
        sfp = text(&a.signer.fingerprint),
        digests = digests.join("<br>"),
        logs = logs.join("<br>"),
        root = text(&a.root),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_markup_and_shows_hidden_characters() {
        assert_eq!(
            text("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
        assert_eq!(
            text("a\u{202E}b\u{0}c"),
            "a<span class=\"cc\">U+202E</span>b<span class=\"cc\">U+0000</span>c"
        );
        assert_eq!(
            json_text("{\"a\":1,\"b\":2}"),
            "{&quot;a&quot;:1,<wbr>&quot;b&quot;:2}"
        );
    }

    #[test]
    fn outcome_classes_never_come_from_event_text() {
        assert!(
            outcome_pill(&Some("\" onmouseover=\"x".into())).contains("class=\"pill o-other\"")
        );
        assert!(outcome_pill(&Some("DENIED".into())).contains("o-denied"));
    }
}
