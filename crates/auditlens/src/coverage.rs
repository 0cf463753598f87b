//! Coverage of an audit period (docs/coverage.md): per origin, whether the verified evidence reaches across the
//! period `[from, to)`: the first and last event time, the first and last seal time (the manifest's signed
//! `created`), "nothing before T" / "nothing after T" at the ends, and the silences longer than a threshold inside
//! the period.
//!
//! This cannot prove that nothing was withheld: an auditee who drops the newest archives of a chain leaves a
//! chain that verifies. It makes the question visible: the evidence stops at T, and the auditor asks why.
//!
//! Two sources of times: a set of verified archives ([`from_reports`]; per archive only the signed manifest's
//! `time_range` is known, so silences are found between archives) and the store ([`crate::store::Store::coverage`];
//! the hours that hold events, with exact event times at the edges of each silence). Only verified archives
//! count; untrusted and failed ones never cover anything.

use serde::Serialize;

use crate::archive::Manifest;
use crate::verify::{ArchiveReport, ArchiveStatus};

const MICROS_PER_SECOND: i64 = 1_000_000;
/// The default silence: a day without any event inside the period is reported.
pub const DEFAULT_SILENCE_MICROS: i64 = 24 * 3600 * MICROS_PER_SECOND;
/// Silences listed per origin; the count of all of them is always given.
pub const MAX_GAPS_LISTED: usize = 200;

/// What the tool can and cannot say, carried in every coverage result.
pub const CAVEAT: &str = "coverage cannot prove that nothing was withheld: a chain whose newest archives were \
dropped still verifies, and an auditee can show different chains to different auditors; ask for the newest \
checkpoint of each origin, sent to you directly at the end of the period (docs/coverage.md)";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoverageError {
    #[error(
        "--period {text:?}: {detail}; expected FROM..TO, each a date YYYY-MM-DD or a time YYYY-MM-DDThh:mm:ss[.ffffff][Z|±hh:mm], TO exclusive (e.g. 2024-01-01..2024-07-01)"
    )]
    Period { text: String, detail: String },
    #[error(
        "--silence {text:?}: {detail}; expected a number and a unit s, m, h, d or w (e.g. 90m, 24h, 2d)"
    )]
    Silence { text: String, detail: String },
}

/// An audit period: `[from, to)`, microseconds UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: i64,
    pub to: i64,
}

impl Period {
    /// Reads `FROM..TO` (each side as `--from` / `--to` and `after:` / `before:` read theirs).
    pub fn parse(text: &str) -> Result<Period, CoverageError> {
        let err = |detail: String| CoverageError::Period {
            text: text.to_owned(),
            detail,
        };
        let (from, to) = text
            .split_once("..")
            .ok_or_else(|| err("no `..` between FROM and TO".into()))?;
        if from.is_empty() || to.is_empty() {
            return Err(err("both FROM and TO are needed".into()));
        }
        let from_t =
            crate::query::time_point(from).map_err(|d| err(format!("FROM `{from}`: {d}")))?;
        let to_t = crate::query::time_point(to).map_err(|d| err(format!("TO `{to}`: {d}")))?;
        if from_t >= to_t {
            return Err(err("FROM must be before TO".into()));
        }
        Ok(Period {
            from: from_t,
            to: to_t,
        })
    }
}

/// Reads a silence threshold: `90m`, `24h`, `2d` (units s, m, h, d, w); more than zero.
pub fn parse_silence(text: &str) -> Result<i64, CoverageError> {
    let err = |detail: String| CoverageError::Silence {
        text: text.to_owned(),
        detail,
    };
    let micros = crate::query::duration_micros(text).map_err(err)?;
    if micros <= 0 {
        return Err(err("it must be more than zero".into()));
    }
    Ok(micros)
}

/// A duration as the largest whole unit that writes it exactly: `2d`, `24h`, `36h`, `90m`, `45s` (else
/// microseconds).
pub fn format_duration(micros: i64) -> String {
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        let size = size * MICROS_PER_SECOND;
        // One day reads better as 24h (the default), as the flag's help writes it.
        if micros % size == 0 && (unit != "d" || micros / size >= 2) {
            return format!("{}{unit}", micros / size);
        }
    }
    format!("{micros}us")
}

/// A duration for people: `3d 4h`, `5h 30m`, `12m 5s` (two largest units, rounded down).
pub fn human_duration(micros: i64) -> String {
    let secs = micros.max(0) / MICROS_PER_SECOND;
    let parts = [
        (secs / 86_400, "d"),
        (secs % 86_400 / 3600, "h"),
        (secs % 3600 / 60, "m"),
        (secs % 60, "s"),
    ];
    let first = parts.iter().position(|(n, _)| *n > 0).unwrap_or(3);
    parts[first..]
        .iter()
        .take(2)
        .filter(|(n, _)| *n > 0 || first == 3)
        .map(|(n, u)| format!("{n}{u}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where the times of a coverage result come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum CoverageBasis {
    /// Each verified archive's signed `time_range` (attested by the producer; inside one archive the event times
    /// are not known to the verifier): silences are found between archives only.
    ArchiveTimeRanges,
    /// The stored events of verified archives: the UTC hours that hold events (dashboard summary), with the exact
    /// event times at the two ends of each silence. A silence under two hours can be missed.
    EventHours,
}

impl CoverageBasis {
    pub fn describe(self) -> &'static str {
        match self {
            CoverageBasis::ArchiveTimeRanges => {
                "silences are found between the archives' signed time ranges; inside one archive the event times are not known to the verifier"
            }
            CoverageBasis::EventHours => {
                "silences are found over the UTC hours that hold stored events, with exact event times at their ends; a silence under two hours can be missed"
            }
        }
    }
}

/// A silence inside the period: no event of the origin strictly between `start` and `end` (both RFC 3339 UTC:
/// the last event before it and the first event after it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Gap {
    pub start: String,
    pub end: String,
    pub seconds: i64,
}

/// How one origin's verified evidence covers the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OriginCoverage {
    pub origin: String,
    /// True when nothing below is reported: there are verified events, nothing before, nothing after, no gap.
    pub covered: bool,
    /// Verified archives of this origin (untrusted and failed ones do not count).
    pub archives: u64,
    pub first_sequence: Option<u64>,
    pub last_sequence: Option<u64>,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    /// The earliest and latest signed sealing time (`created`) of the verified archives.
    pub first_seal: Option<String>,
    pub last_seal: Option<String>,
    /// Set to the first event time when it lies more than the silence after the period's start (or the period
    /// holds no event at all and the evidence starts after it).
    pub nothing_before: Option<String>,
    /// Set to the last event time when it lies more than the silence before the period's end, when the newest
    /// archive was sealed before the period's end (anything after its seal is necessarily missing), or when the
    /// evidence ends before the period starts.
    pub nothing_after: Option<String>,
    /// True when the newest archive was sealed before the period's end: newer archives may exist.
    pub sealed_before_end: bool,
    /// Silences longer than the threshold that overlap the period, oldest first (at most [`MAX_GAPS_LISTED`]).
    pub gaps: Vec<Gap>,
    pub gaps_total: u64,
}

/// Coverage of one audit period, per origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Coverage {
    pub from: String,
    pub to: String,
    /// The silence threshold, as `24h`, `90m`, `2d`.
    pub silence: String,
    pub silence_seconds: i64,
    pub basis: CoverageBasis,
    pub basis_note: String,
    pub caveat: String,
    pub origins: Vec<OriginCoverage>,
}

impl Coverage {
    pub(crate) fn new(
        period: Period,
        silence: i64,
        basis: CoverageBasis,
        origins: Vec<OriginCoverage>,
    ) -> Coverage {
        Coverage {
            from: crate::time::format_utc(period.from),
            to: crate::time::format_utc(period.to),
            silence: format_duration(silence),
            silence_seconds: silence / MICROS_PER_SECOND,
            basis,
            basis_note: basis.describe().to_owned(),
            caveat: CAVEAT.to_owned(),
            origins,
        }
    }

    /// True when every origin is covered.
    pub fn all_covered(&self) -> bool {
        self.origins.iter().all(|o| o.covered)
    }
}

/// One verified archive as coverage sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveTimes {
    pub sequence: u64,
    /// First and last event time; `None` when no event has a readable time.
    pub events: Option<(i64, i64)>,
    /// The signed sealing time, when readable.
    pub sealed: Option<i64>,
}

/// Judges one origin. `archives` are its verified archives; `spans` are closed time intervals `[a, b]` during
/// which events are known (archives' time ranges, or runs of hours refined to exact times), in any order.
pub fn assess(
    origin: &str,
    period: Period,
    silence: i64,
    archives: &[ArchiveTimes],
    spans: &[(i64, i64)],
) -> OriginCoverage {
    use crate::time::format_utc;
    let first_event = archives.iter().filter_map(|a| a.events.map(|e| e.0)).min();
    let last_event = archives.iter().filter_map(|a| a.events.map(|e| e.1)).max();
    let first_seal = archives.iter().filter_map(|a| a.sealed).min();
    let last_seal = archives.iter().filter_map(|a| a.sealed).max();
    let sealed_before_end = last_seal.is_some_and(|s| s < period.to);

    let nothing_before =
        first_event.filter(|&f| f >= period.to || f.saturating_sub(period.from) > silence);
    let nothing_after = last_event.filter(|&l| {
        l < period.from
            || (l < period.to && (period.to.saturating_sub(l) > silence || sealed_before_end))
    });

    // Silences between the merged spans that overlap the period.
    let mut sorted: Vec<(i64, i64)> = spans.iter().map(|&(a, b)| (a.min(b), a.max(b))).collect();
    sorted.sort_unstable();
    let mut gaps = Vec::new();
    let mut gaps_total = 0u64;
    let mut reach: Option<i64> = None;
    for (a, b) in sorted {
        if let Some(r) = reach
            && a > r
        {
            let length = a - r;
            if length > silence && r < period.to && a > period.from {
                gaps_total += 1;
                if gaps.len() < MAX_GAPS_LISTED {
                    gaps.push(Gap {
                        start: format_utc(r),
                        end: format_utc(a),
                        seconds: length / MICROS_PER_SECOND,
                    });
                }
            }
        }
        reach = Some(reach.map_or(b, |r| r.max(b)));
    }

    let covered = first_event.is_some()
        && nothing_before.is_none()
        && nothing_after.is_none()
        && gaps_total == 0;
    OriginCoverage {
        origin: origin.to_owned(),
        covered,
        archives: archives.len() as u64,
        first_sequence: archives.iter().map(|a| a.sequence).min(),
        last_sequence: archives.iter().map(|a| a.sequence).max(),
        first_event: first_event.map(format_utc),
        last_event: last_event.map(format_utc),
        first_seal: first_seal.map(format_utc),
        last_seal: last_seal.map(format_utc),
        nothing_before: nothing_before.map(format_utc),
        nothing_after: nothing_after.map(format_utc),
        sealed_before_end,
        gaps,
        gaps_total,
    }
}

/// The signed sealing time of a manifest, when it parses and its `created` is an RFC 3339 time.
pub fn sealed_at(manifest_bytes: &[u8]) -> Option<i64> {
    serde_json::from_slice::<Manifest>(manifest_bytes)
        .ok()
        .and_then(|m| crate::time::parse_rfc3339(&m.created))
}

/// Coverage from a set of verified archives: per archive, its signed `time_range` and `created`. Every origin
/// named by an archive of the set is listed; only verified archives count.
pub fn from_reports(reports: &[ArchiveReport], period: Period, silence: i64) -> Coverage {
    use std::collections::BTreeMap;
    let mut by_origin: BTreeMap<&str, Vec<ArchiveTimes>> = BTreeMap::new();
    for r in reports {
        let Some(origin) = r.origin.as_deref() else {
            continue;
        };
        let list = by_origin.entry(origin).or_default();
        if r.status != ArchiveStatus::Verified {
            continue;
        }
        let events = r.time_range.as_ref().and_then(|t| {
            let first = crate::time::parse_rfc3339(&t.first)?;
            let last = crate::time::parse_rfc3339(&t.last)?;
            Some((first.min(last), first.max(last)))
        });
        list.push(ArchiveTimes {
            sequence: r.sequence.unwrap_or(0),
            events,
            sealed: r.manifest_bytes.as_deref().and_then(sealed_at),
        });
    }
    let origins = by_origin
        .into_iter()
        .map(|(origin, archives)| {
            let spans: Vec<(i64, i64)> = archives.iter().filter_map(|a| a.events).collect();
            assess(origin, period, silence, &archives, &spans)
        })
        .collect();
    Coverage::new(period, silence, CoverageBasis::ArchiveTimeRanges, origins)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_rfc3339;

    fn t(s: &str) -> i64 {
        parse_rfc3339(s).unwrap()
    }
    const H: i64 = 3600 * MICROS_PER_SECOND;

    #[test]
    fn period_reads_dates_and_times_with_exclusive_end() {
        let p = Period::parse("2024-05-01..2024-06-01").unwrap();
        assert_eq!(p.from, t("2024-05-01T00:00:00Z"));
        assert_eq!(p.to, t("2024-06-01T00:00:00Z"));
        let p = Period::parse("2024-05-01T10:00:00+02:00..2024-05-01T12:30:00.5Z").unwrap();
        assert_eq!(p.from, t("2024-05-01T08:00:00Z"));
        assert_eq!(p.to, t("2024-05-01T12:30:00.500Z"));
    }

    #[test]
    fn bad_periods_are_refused_with_the_reason() {
        let detail = |text: &str| match Period::parse(text) {
            Err(CoverageError::Period { detail, .. }) => detail,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(detail("2024-05-01"), "no `..` between FROM and TO");
        assert_eq!(detail("2024-05-01.."), "both FROM and TO are needed");
        assert_eq!(detail("..2024-05-01"), "both FROM and TO are needed");
        assert_eq!(detail("2024-06-01..2024-05-01"), "FROM must be before TO");
        assert_eq!(detail("2024-05-01..2024-05-01"), "FROM must be before TO");
        assert_eq!(
            detail("2024-05..2024-06-01"),
            "FROM `2024-05`: incomplete date or time"
        );
        assert_eq!(
            detail("2024-05-01..2024-02-30"),
            "TO `2024-02-30`: day 30 does not exist in 2024-02"
        );
        assert_eq!(
            detail("2024-05-01..2024-06-01..2024-07-01"),
            "TO `2024-06-01..2024-07-01`: unexpected `.`"
        );
        let msg = Period::parse("yesterday").unwrap_err().to_string();
        assert!(msg.starts_with("--period \"yesterday\": no `..`"), "{msg}");
        assert!(msg.contains("e.g. 2024-01-01..2024-07-01"), "{msg}");
    }

    #[test]
    fn silence_reads_units_and_refuses_zero() {
        assert_eq!(parse_silence("90m").unwrap(), 90 * 60 * MICROS_PER_SECOND);
        assert_eq!(parse_silence("24h").unwrap(), DEFAULT_SILENCE_MICROS);
        assert_eq!(parse_silence("2d").unwrap(), 48 * H);
        assert_eq!(
            parse_silence("0h").unwrap_err().to_string(),
            "--silence \"0h\": it must be more than zero; expected a number and a unit s, m, h, d or w (e.g. 90m, 24h, 2d)"
        );
        assert!(parse_silence("24").is_err());
        assert!(parse_silence("-1h").is_err());
        assert!(parse_silence("1H").is_err());
        assert_eq!(format_duration(90 * 60 * MICROS_PER_SECOND), "90m");
        assert_eq!(format_duration(48 * H), "2d");
        assert_eq!(format_duration(36 * H), "36h");
        assert_eq!(format_duration(24 * H), "24h");
        assert_eq!(
            human_duration(3 * 24 * H + 4 * H + 59 * 60 * MICROS_PER_SECOND),
            "3d 4h"
        );
        assert_eq!(human_duration(0), "0s");
    }

    fn archive(sequence: u64, first: &str, last: &str, sealed: &str) -> ArchiveTimes {
        ArchiveTimes {
            sequence,
            events: Some((t(first), t(last))),
            sealed: Some(t(sealed)),
        }
    }

    fn judge(period: &str, silence: i64, archives: &[ArchiveTimes]) -> OriginCoverage {
        let spans: Vec<_> = archives.iter().filter_map(|a| a.events).collect();
        assess(
            "o",
            Period::parse(period).unwrap(),
            silence,
            archives,
            &spans,
        )
    }

    #[test]
    fn evidence_across_the_whole_period_is_covered() {
        let a = [
            archive(
                1,
                "2024-04-30T23:00:00Z",
                "2024-05-15T12:00:00Z",
                "2024-05-15T13:00:00Z",
            ),
            archive(
                2,
                "2024-05-15T14:00:00Z",
                "2024-06-01T01:00:00Z",
                "2024-06-01T02:00:00Z",
            ),
        ];
        let c = judge("2024-05-01..2024-06-01", DEFAULT_SILENCE_MICROS, &a);
        assert!(c.covered, "{c:?}");
        assert_eq!(c.first_event.as_deref(), Some("2024-04-30T23:00:00Z"));
        assert_eq!(c.last_event.as_deref(), Some("2024-06-01T01:00:00Z"));
        assert_eq!(c.first_seal.as_deref(), Some("2024-05-15T13:00:00Z"));
        assert_eq!(c.last_seal.as_deref(), Some("2024-06-01T02:00:00Z"));
        assert_eq!((c.first_sequence, c.last_sequence), (Some(1), Some(2)));
        assert_eq!(c.gaps, vec![]);
        // A 2-hour silence between the archives is a gap under a 90-minute threshold, exactly.
        let c = judge("2024-05-01..2024-06-01", 90 * 60 * MICROS_PER_SECOND, &a);
        assert!(!c.covered);
        assert_eq!(
            c.gaps,
            vec![Gap {
                start: "2024-05-15T12:00:00Z".into(),
                end: "2024-05-15T14:00:00Z".into(),
                seconds: 7200
            }]
        );
    }

    #[test]
    fn a_chain_that_stops_early_says_nothing_after_its_last_event() {
        // The newest archives were dropped: the evidence ends on May 20 and the last seal is before the end.
        let a = [archive(
            1,
            "2024-05-01T00:00:00Z",
            "2024-05-20T08:00:00Z",
            "2024-05-20T09:00:00Z",
        )];
        let c = judge("2024-05-01..2024-06-01", DEFAULT_SILENCE_MICROS, &a);
        assert!(!c.covered);
        assert_eq!(c.nothing_after.as_deref(), Some("2024-05-20T08:00:00Z"));
        assert!(c.sealed_before_end);
        assert_eq!(c.nothing_before, None);
        // Sealed before the end, even when the last event is close to it.
        let a = [archive(
            1,
            "2024-05-01T00:00:00Z",
            "2024-05-31T23:00:00Z",
            "2024-05-31T23:30:00Z",
        )];
        let c = judge("2024-05-01..2024-06-01", DEFAULT_SILENCE_MICROS, &a);
        assert_eq!(c.nothing_after.as_deref(), Some("2024-05-31T23:00:00Z"));
        // Sealed after the end and quiet for less than the silence: covered.
        let a = [archive(
            1,
            "2024-05-01T00:00:00Z",
            "2024-05-31T23:00:00Z",
            "2024-06-01T00:30:00Z",
        )];
        let c = judge("2024-05-01..2024-06-01", DEFAULT_SILENCE_MICROS, &a);
        assert!(c.covered, "{c:?}");
        // Sealed after the end but quiet for more than the silence at the end.
        let a = [archive(
            1,
            "2024-05-01T00:00:00Z",
            "2024-05-30T23:00:00Z",
            "2024-06-02T00:00:00Z",
        )];
        let c = judge("2024-05-01..2024-06-01", DEFAULT_SILENCE_MICROS, &a);
        assert_eq!(c.nothing_after.as_deref(), Some("2024-05-30T23:00:00Z"));
        assert!(!c.sealed_before_end);
    }

    #[test]
    fn a_late_start_says_nothing_before_its_first_event() {
        let a = [archive(
            3,
            "2024-05-03T06:00:00Z",
            "2024-06-02T00:00:00Z",
            "2024-06-02T01:00:00Z",
        )];
        let c = judge("2024-05-01..2024-06-01", DEFAULT_SILENCE_MICROS, &a);
        assert_eq!(c.nothing_before.as_deref(), Some("2024-05-03T06:00:00Z"));
        assert_eq!(c.nothing_after, None);
        // Within the silence of the start: nothing to say.
        let a = [archive(
            3,
            "2024-05-01T23:00:00Z",
            "2024-06-02T00:00:00Z",
            "2024-06-02T01:00:00Z",
        )];
        assert!(judge("2024-05-01..2024-06-01", DEFAULT_SILENCE_MICROS, &a).covered);
    }

    #[test]
    fn evidence_wholly_outside_the_period_is_reported_at_the_right_end() {
        let before = [archive(
            1,
            "2024-01-01T00:00:00Z",
            "2024-04-30T23:59:00Z",
            "2024-07-01T00:00:00Z",
        )];
        let c = judge("2024-05-01..2024-06-01", 365 * 24 * H, &before);
        assert_eq!(c.nothing_after.as_deref(), Some("2024-04-30T23:59:00Z"));
        let after = [archive(
            1,
            "2024-06-01T00:00:00Z",
            "2024-06-30T00:00:00Z",
            "2024-07-01T00:00:00Z",
        )];
        let c = judge("2024-05-01..2024-06-01", 365 * 24 * H, &after);
        assert_eq!(c.nothing_before.as_deref(), Some("2024-06-01T00:00:00Z"));
        assert!(!c.covered);
    }

    #[test]
    fn gaps_are_silences_between_merged_spans_that_touch_the_period() {
        let spans = [
            (t("2024-04-01T00:00:00Z"), t("2024-04-10T00:00:00Z")),
            // Overlapping spans merge: no gap between them.
            (t("2024-04-09T00:00:00Z"), t("2024-05-02T00:00:00Z")),
            (t("2024-05-01T00:00:00Z"), t("2024-05-01T12:00:00Z")),
            // 3 days of silence inside the period.
            (t("2024-05-05T00:00:00Z"), t("2024-05-20T00:00:00Z")),
            // 24 h exactly is not more than the silence.
            (t("2024-05-21T00:00:00Z"), t("2024-06-01T00:00:00Z")),
            // A silence after the period's end does not count.
            (t("2024-06-10T00:00:00Z"), t("2024-06-11T00:00:00Z")),
        ];
        let archives = [ArchiveTimes {
            sequence: 1,
            events: Some((spans[0].0, spans[5].1)),
            sealed: Some(t("2024-06-12T00:00:00Z")),
        }];
        let c = assess(
            "o",
            Period::parse("2024-05-01..2024-06-01").unwrap(),
            DEFAULT_SILENCE_MICROS,
            &archives,
            &spans,
        );
        assert_eq!(
            c.gaps,
            vec![Gap {
                start: "2024-05-02T00:00:00Z".into(),
                end: "2024-05-05T00:00:00Z".into(),
                seconds: 3 * 86_400
            }]
        );
        assert_eq!(c.gaps_total, 1);
        assert!(!c.covered);
    }

    #[test]
    fn an_origin_without_verified_archives_is_not_covered() {
        let c = judge("2024-05-01..2024-06-01", DEFAULT_SILENCE_MICROS, &[]);
        assert!(!c.covered);
        assert_eq!(c.archives, 0);
        assert_eq!(c.first_event, None);
    }
}
