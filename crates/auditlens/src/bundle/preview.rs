//! What exporting a selection would disclose, before anything is written (the desktop app's export preview): the
//! number of events, the archives they come from, their time range and the first of them.

use serde::{Deserialize, Serialize};

use super::{ExportError, MAX_EVENTS, SelectionInput};
use crate::store::Store;
use crate::store::search::{EventRow, MAX_LIMIT};

/// Events of a selection shown in a preview.
pub const PREVIEW_SAMPLE: usize = 10;

/// Which events to export: every match of a query (as the search lists them), or hand-picked event ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ExportSelection {
    Query { query: String },
    Ids { ids: Vec<String> },
}

impl ExportSelection {
    /// The selection as [`super::export()`] takes it: the query, or the ids checked and spelled as the store spells
    /// them, each once. `Usage` when no id is given or an id is not one.
    pub fn to_input(&self) -> Result<SelectionInput, ExportError> {
        Ok(match self {
            ExportSelection::Query { query } => SelectionInput::Query(query.clone()),
            ExportSelection::Ids { ids } => SelectionInput::Ids(canonical_ids(ids)?),
        })
    }
}

/// Event ids checked and spelled as the store spells them, each once.
fn canonical_ids(ids: &[String]) -> Result<Vec<String>, ExportError> {
    if ids.is_empty() {
        return Err(ExportError::Usage(
            "no event is selected: tick the rows to export, or export every match of the query"
                .into(),
        ));
    }
    super::export::parse_ids(&ids.join("\n")).map_err(ExportError::Usage)
}

/// One archive the selected events come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PreviewArchive {
    /// `origin@sequence`.
    pub archive: String,
    pub origin: String,
    pub sequence: u64,
    /// Selected events from this archive.
    pub events: u64,
    /// False when the archive is not stored as verified (the export would be refused).
    pub verified: bool,
    /// Set when the archive was sealed on receipt (docs/archive-format.md section 4.1): the label its events carry
    /// in the bundle instead of "verified", `sealed on receipt by NAME (FINGERPRINT) at AT: proves no change since
    /// receipt, not authenticity at the source`.
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_label: Option<String>,
    /// Set for an AWS CloudTrail export in the store (docs/evidence-bundle.md section 11): what the bundle
    /// discloses of it: the whole log files holding the selected events (a CloudTrail log file cannot be disclosed
    /// partially), how many and how many records in all.
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloudtrail_note: Option<String>,
}

/// What a bundle discloses of a CloudTrail archive, in words for every door: `logs` whole log files holding
/// `selected` selected events among `records` records.
pub fn cloudtrail_disclosure(logs: u64, records: u64, selected: u64) -> String {
    format!(
        "AWS CloudTrail evidence: a CloudTrail log file cannot be disclosed partially (AWS signs whole files), so \
         the bundle discloses {} whole: {} in all, of which {selected} selected, with their signed digests and the \
         AWS public keys (the export re-verifies the stored export with the AWS keys first)",
        crate::report::count(logs, "log file"),
        crate::report::count(records, "record"),
    )
}

/// The whole log files holding the selected `indices` of the CloudTrail archive `origin@sequence`: how many, and
/// how many records they hold.
fn cloudtrail_logs(
    store: &Store,
    origin: &str,
    sequence: u64,
    indices: &[u64],
) -> Result<(u64, u64), ExportError> {
    let mut stmt = store.conn.prepare(
        "SELECT f.first_index, f.records FROM cloudtrail_files f JOIN archives a ON a.id = f.archive_id
         WHERE a.origin = ?1 AND a.sequence = ?2 AND f.kind = 'log' AND f.first_index IS NOT NULL
           AND f.records > 0
         ORDER BY f.first_index, f.path",
    )?;
    let ranges: Vec<(i64, i64)> = stmt
        .query_map(rusqlite::params![origin, sequence as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut held = std::collections::BTreeSet::new();
    for &i in indices {
        if let Some(j) = ranges.partition_point(|r| r.0 as u64 <= i).checked_sub(1)
            && i < (ranges[j].0 + ranges[j].1) as u64
        {
            held.insert(j);
        }
    }
    let records = held.iter().map(|&j| ranges[j].1.max(0) as u64).sum();
    Ok((held.len() as u64, records))
}

/// What an export would disclose, before anything is written.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExportPreview {
    pub selection: ExportSelection,
    /// The number of events selected (for a query: every match).
    pub events: u64,
    /// Most events one bundle holds.
    pub max_events: u64,
    /// True when the selection holds more events than one bundle may; `archives` and the time range then cover
    /// only the first `max_events`.
    pub too_many: bool,
    pub archives: Vec<PreviewArchive>,
    /// The earliest and latest event time (RFC 3339 UTC) among the selected events that have one.
    pub first: Option<String>,
    pub last: Option<String>,
    /// Selected events without a readable time.
    pub untimed: u64,
    /// Selected events whose archive is not verified (an export refuses them).
    pub unverified: u64,
    /// Selected ids that are not in the database.
    pub missing: Vec<String>,
    /// The first selected events, in search order (newest first).
    pub sample: Vec<EventRow>,
}

/// What exporting `selection` from `store` would disclose (relative times of a query read at `now_micros`).
/// Nothing is written. Errors: the query does not parse (`Search`), the ids are not ids (`Usage`), the store.
pub fn preview(
    store: &Store,
    selection: &ExportSelection,
    now_micros: i64,
) -> Result<ExportPreview, ExportError> {
    let max = MAX_EVENTS as usize;
    let now = now_micros;
    let mut rows: Vec<EventRow> = Vec::new();
    let mut missing = Vec::new();
    let total = match selection {
        ExportSelection::Query { query } => {
            let total = store.count(query, now)?;
            let mut after: Option<String> = None;
            loop {
                let page = store.search(query, MAX_LIMIT, after.as_deref(), now)?;
                rows.extend(page.events);
                match page.next {
                    Some(next) if rows.len() < max => after = Some(next),
                    _ => break,
                }
            }
            rows.truncate(max);
            total.max(rows.len() as u64)
        }
        ExportSelection::Ids { ids } => {
            let ids = canonical_ids(ids)?;
            for id in ids.iter().take(max) {
                match store.event(id)? {
                    Some(detail) => rows.push(detail.row),
                    None => missing.push(id.clone()),
                }
            }
            ids.len() as u64
        }
    };
    let mut archives: Vec<PreviewArchive> = Vec::new();
    let mut first: Option<(i64, String)> = None;
    let mut last: Option<(i64, String)> = None;
    let mut untimed = 0;
    for r in &rows {
        match archives.iter_mut().find(|a| a.archive == r.archive) {
            Some(a) => a.events += 1,
            None => archives.push(PreviewArchive {
                archive: r.archive.clone(),
                origin: r.origin.clone().unwrap_or_default(),
                sequence: r.sequence,
                events: 1,
                verified: r.verified,
                // The label is the store's, from the archive's signed receipt (one look-up per such archive).
                received_label: if r.received {
                    store
                        .event(&r.id)?
                        .and_then(|d| d.received_label)
                        .or_else(|| {
                            Some(format!(
                                "sealed on receipt: {}",
                                crate::archive::RECEIPT_MEANING
                            ))
                        })
                } else {
                    None
                },
                // Filled in below, once every selected event of the archive is counted.
                cloudtrail_note: (r.evidence.as_deref()
                    == Some(crate::store::import::CLOUDTRAIL_EVIDENCE))
                .then(String::new),
            }),
        }
        match r
            .time
            .as_deref()
            .and_then(|t| crate::time::parse_rfc3339(t).map(|m| (m, t)))
        {
            Some((m, t)) => {
                if first.as_ref().is_none_or(|f| m < f.0) {
                    first = Some((m, t.to_string()));
                }
                if last.as_ref().is_none_or(|l| m > l.0) {
                    last = Some((m, t.to_string()));
                }
            }
            None => untimed += 1,
        }
    }
    archives
        .sort_by(|a, b| (a.origin.as_bytes(), a.sequence).cmp(&(b.origin.as_bytes(), b.sequence)));
    for a in archives.iter_mut().filter(|a| a.cloudtrail_note.is_some()) {
        let indices: Vec<u64> = rows
            .iter()
            .filter(|r| r.archive == a.archive)
            .filter_map(|r| crate::store::parse_event_id(&r.id).map(|(_, _, i)| i))
            .collect();
        let (logs, records) = cloudtrail_logs(store, &a.origin, a.sequence, &indices)?;
        a.cloudtrail_note = Some(cloudtrail_disclosure(logs, records, a.events));
    }
    let unverified = rows.iter().filter(|r| !r.verified).count() as u64;
    rows.truncate(PREVIEW_SAMPLE);
    Ok(ExportPreview {
        selection: selection.clone(),
        events: total,
        max_events: max as u64,
        too_many: total > max as u64,
        archives,
        first: first.map(|f| f.1),
        last: last.map(|l| l.1),
        untimed,
        unverified,
        missing,
        sample: rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ids_selection_needs_an_id_and_is_spelled_as_the_store_spells_it() {
        let none = ExportSelection::Ids { ids: vec![] };
        assert!(
            matches!(none.to_input(), Err(ExportError::Usage(m)) if m.contains("no event is selected"))
        );
        let bad = ExportSelection::Ids {
            ids: vec!["not an id".into()],
        };
        assert!(matches!(bad.to_input(), Err(ExportError::Usage(_))));
        let q = ExportSelection::Query {
            query: "actor:alice".into(),
        };
        assert!(matches!(q.to_input(), Ok(SelectionInput::Query(s)) if s == "actor:alice"));
    }

    #[test]
    fn a_query_preview_counts_the_events_by_archive_and_an_ids_preview_names_the_missing() {
        let lab = crate::bundle::open::tests::lab();
        let store = Store::open(&lab.dir.join("store.db")).unwrap();
        let now = 1_700_000_000_000_000;
        let q = ExportSelection::Query {
            query: "alice".into(),
        };
        let p = preview(&store, &q, now).unwrap();
        let total = store.count("alice", now).unwrap();
        assert!(total > 0);
        assert_eq!(p.events, total);
        assert!(!p.too_many);
        assert_eq!(p.max_events, MAX_EVENTS);
        assert_eq!(p.archives.len(), 1);
        assert_eq!(p.archives[0].events, total);
        assert!(p.archives[0].verified);
        assert_eq!(p.unverified, 0);
        assert!(p.first.is_some() && p.first <= p.last);
        assert_eq!(p.sample.len(), (total as usize).min(PREVIEW_SAMPLE));
        let id = p.sample[0].id.clone();
        let missing = format!("{}@1#999999", p.archives[0].origin);
        let ids = ExportSelection::Ids {
            ids: vec![id.clone(), missing.clone()],
        };
        let p = preview(&store, &ids, now).unwrap();
        assert_eq!(p.events, 2);
        assert_eq!(p.missing, vec![missing]);
        assert_eq!(p.sample.len(), 1);
        assert_eq!(p.sample[0].id, id);
        assert!(matches!(
            preview(
                &store,
                &ExportSelection::Query {
                    query: "actor:".into()
                },
                now
            ),
            Err(ExportError::Search(_))
        ));
    }
}
