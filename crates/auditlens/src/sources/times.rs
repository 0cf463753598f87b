//! Where each built-in mapper finds an event's time, at each version of the mappers (docs/sources.md section 2):
//! an ordered list of top-level member names, whether a space may stand for the `T` of RFC 3339, and which JSON
//! numbers are times. The first member whose value is a time under the rule gives `ts`; members that are missing
//! or hold something else are skipped.
//!
//! Version 1 (`k8s/1`, ...) read only RFC 3339 strings (and GitHub's epoch milliseconds). Version 2 also reads
//! the space form SIEM exports write (`2022-11-29 00:09:04.38`), Panther's `p_event_time`, more member names in
//! generic JSON, and epoch numbers there by their magnitude. Archives a store normalized under version 1 keep
//! their version-1 fields (and `check` re-derives them under version 1) until they are imported again.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;
use serde_json::value::RawValue;

use crate::json::Node;

use super::{SourceKind, cloudtrail, gcp, generic, github, kubernetes, okta, teleport};

/// The version of every built-in mapper of this AuditLens (`k8s/2`, `jsonl/2`, ...).
pub const CURRENT: u32 = 2;

/// Which JSON numbers are times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbers {
    /// None: only strings.
    Never,
    /// An integer counting milliseconds since 1970 (GitHub documents this unit for its time members).
    EpochMillis,
    /// The same, or a number with a fraction or an exponent (Panther writes `1621305118553.0`), rounded to the
    /// nearest microsecond (version 2).
    EpochMillisAny,
    /// Seconds, milliseconds, microseconds or nanoseconds since 1970, told apart by magnitude (`MAGNITUDES`).
    ByMagnitude,
}

/// One kind's time rule at one version.
#[derive(Debug, Clone, Copy)]
pub struct TimeRule {
    /// Top-level member names, in order.
    pub keys: &'static [&'static str],
    /// Whether `YYYY-MM-DD hh:mm:ss` (a space for the `T`) is read.
    pub space: bool,
    pub numbers: Numbers,
}

/// A top-level member's value as far as times go: a string or a number (what serde_json's parser saw).
#[derive(Debug, Clone, PartialEq)]
pub enum TimeValue<'a> {
    Str(Cow<'a, str>),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    /// Anything else (`null`, `true`, an object or array).
    Other,
}

impl<'a> TimeValue<'a> {
    pub fn of<'t, N: Node<'t>>(v: &'a N) -> TimeValue<'a> {
        match (v.str(), v.number()) {
            (Some(s), _) => TimeValue::Str(Cow::Borrowed(s)),
            (None, Some(n)) => TimeValue::number(n),
            (None, None) => TimeValue::Other,
        }
    }

    /// A JSON number from its text: an unsigned integer, else a signed one, else a finite float (what serde_json
    /// makes of it); the one conversion both of [`super::object_time_from_bytes`]'s parsers use.
    pub fn number(text: &str) -> TimeValue<'a> {
        if let Ok(u) = text.parse::<u64>() {
            TimeValue::Unsigned(u)
        } else if let Ok(i) = text.parse::<i64>() {
            TimeValue::Signed(i)
        } else {
            match text.parse::<f64>() {
                Ok(f) if f.is_finite() => TimeValue::Float(f),
                _ => TimeValue::Other,
            }
        }
    }
}

/// The time rule of a built-in kind at a mapper version; `None` for kind `mapping` (its file says) and for a
/// version this AuditLens does not have.
pub fn rule(kind: SourceKind, version: u32) -> Option<TimeRule> {
    use SourceKind as K;
    if !(1..=CURRENT).contains(&version) {
        return None;
    }
    let v1 = version == 1;
    let (keys, numbers): (&'static [&'static str], Numbers) = match (kind, v1) {
        (K::K8s, true) => (&kubernetes::TIME_KEYS_V1, Numbers::Never),
        (K::K8s, false) => (&kubernetes::TIME_KEYS, Numbers::Never),
        (K::Cloudtrail, true) => (&cloudtrail::TIME_KEYS_V1, Numbers::Never),
        (K::Cloudtrail, false) => (&cloudtrail::TIME_KEYS, Numbers::Never),
        (K::Jsonl, true) => (&generic::TIME_KEYS_V1, Numbers::Never),
        (K::Jsonl, false) => (&generic::TIME_KEYS, Numbers::ByMagnitude),
        (K::Github, true) => (&github::TIME_KEYS_V1, Numbers::EpochMillis),
        (K::Github, false) => (&github::TIME_KEYS, Numbers::EpochMillisAny),
        (K::Gcp, true) => (&gcp::TIME_KEYS_V1, Numbers::Never),
        (K::Gcp, false) => (&gcp::TIME_KEYS, Numbers::Never),
        (K::Teleport, true) => (&teleport::TIME_KEYS_V1, Numbers::Never),
        (K::Teleport, false) => (&teleport::TIME_KEYS, Numbers::Never),
        (K::Okta, true) => (&okta::TIME_KEYS_V1, Numbers::Never),
        (K::Okta, false) => (&okta::TIME_KEYS, Numbers::Never),
        (K::Mapping, _) => return None,
    };
    Some(TimeRule {
        keys,
        space: !v1,
        numbers,
    })
}

/// The time rule of a built-in kind at the current version; `None` for kind `mapping`.
pub fn current(kind: SourceKind) -> Option<TimeRule> {
    rule(kind, CURRENT)
}

/// The time the current rules of a built-in kind give an event (`None` for kind `mapping`).
pub fn time<'t, N: Node<'t>>(kind: SourceKind, event: &N) -> Option<i64> {
    current(kind).and_then(|r| r.time(event))
}

/// The version of a built-in mapper name (`k8s/1` -> 1) when this AuditLens has it.
pub fn version_of(mapper: &str) -> Option<u32> {
    let (_, text) = mapper.split_once('/')?;
    let v: u32 = text.parse().ok()?;
    (v.to_string() == text && (1..=CURRENT).contains(&v)).then_some(v)
}

impl TimeRule {
    /// The first of the rule's members whose value is a time.
    pub fn time<'t, N: Node<'t>>(&self, event: &N) -> Option<i64> {
        self.keys.iter().find_map(|k| {
            event
                .member(k)
                .and_then(|v| self.value_time(&TimeValue::of(v)))
        })
    }

    /// One member's value as a time under this rule.
    pub fn value_time(&self, v: &TimeValue<'_>) -> Option<i64> {
        match (v, self.numbers) {
            (TimeValue::Str(s), _) if self.space => crate::time::parse_rfc3339_or_space(s),
            (TimeValue::Str(s), _) => crate::time::parse_rfc3339(s),
            (_, Numbers::Never) | (TimeValue::Other, _) => None,
            (TimeValue::Unsigned(u), Numbers::EpochMillis | Numbers::EpochMillisAny) => {
                epoch_millis(i64::try_from(*u).ok()?)
            }
            (TimeValue::Signed(i), Numbers::EpochMillis | Numbers::EpochMillisAny) => {
                epoch_millis(*i)
            }
            (TimeValue::Float(_), Numbers::EpochMillis) => None,
            (TimeValue::Float(f), Numbers::EpochMillisAny) => {
                let micros = (f * 1e3).round();
                // Compared as floats first: a cast saturates.
                ((FIRST as f64)..(END as f64))
                    .contains(&micros)
                    .then_some(micros as i64)
            }
            (TimeValue::Unsigned(u), Numbers::ByMagnitude) => by_magnitude(i128::from(*u)),
            (TimeValue::Signed(i), Numbers::ByMagnitude) => by_magnitude(i128::from(*i)),
            (TimeValue::Float(f), Numbers::ByMagnitude) => float_by_magnitude(*f),
        }
    }

    /// Why the event of these bytes has no time under this rule, in words for the import report: the first
    /// member of the rule the event has, with its value (at most 60 characters of its JSON text), or that it has
    /// none of them. Only that member's value is read (an event may be 16 MiB of millions of values): its JSON
    /// text as a `Value` writes it, or, past 64 KiB, as the event writes it.
    pub fn why_untimed(&self, raw: &[u8]) -> Untimed {
        // Each top-level member's exact text, a later one of a name in place of an earlier (as in a `Value`).
        let members: HashMap<Cow<'_, str>, &RawValue> =
            serde_json::from_slice(raw).unwrap_or_default();
        match self
            .keys
            .iter()
            .find_map(|k| members.get(*k).map(|v| (*k, v.get())))
        {
            Some((k, v)) => {
                let value = (v.len() <= 64 << 10)
                    .then(|| serde_json::from_str::<Value>(v).ok())
                    .flatten();
                let text = match value {
                    Some(value) => value.to_string(),
                    // Enough of it to cut at 60 characters.
                    None => v.chars().take(61).collect(),
                };
                let sample = match text.char_indices().nth(60) {
                    Some((cut, _)) => format!("{}…", &text[..cut]),
                    None => text,
                };
                Untimed {
                    field: Some(k.to_owned()),
                    sample: Some(sample),
                    looked_at: self.keys.iter().map(|k| (*k).to_owned()).collect(),
                }
            }
            None => Untimed {
                field: None,
                sample: None,
                looked_at: self.keys.iter().map(|k| (*k).to_owned()).collect(),
            },
        }
    }
}

/// Why one event has no time ([`TimeRule::why_untimed`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Untimed {
    /// The first time member the event has, whose value is not a time under the rules.
    pub field: Option<String>,
    /// That member's value, as JSON text, cut at 60 characters.
    pub sample: Option<String>,
    /// Every member the rules look at, in order.
    pub looked_at: Vec<String>,
}

impl std::fmt::Display for Untimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.field, &self.sample) {
            (Some(field), Some(sample)) => write!(f, "{field}: {sample} is not a time"),
            _ => write!(f, "none of {} is present", self.looked_at.join(", ")),
        }
    }
}

/// 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z in microseconds: the years a time may have.
const FIRST: i64 = -62_167_219_200_000_000;
const END: i64 = 253_402_300_800_000_000;

fn epoch_millis(ms: i64) -> Option<i64> {
    ms.checked_mul(1000).filter(|m| (FIRST..END).contains(m))
}

/// The four magnitudes a number of the `ByMagnitude` rule may have, each mapping onto 2001-09-09 to 2286-11-20:
/// `[10^9, 10^10)` seconds, `[10^12, 10^13)` milliseconds, `[10^15, 10^16)` microseconds, `[10^18, 10^19)`
/// nanoseconds. No number lies in two of them, so the unit is never a guess; any other number is not a time.
const MAGNITUDES: [(i128, i128, f64); 4] = [
    (1_000_000_000, 10_000_000_000, 1e6),
    (1_000_000_000_000, 10_000_000_000_000, 1e3),
    (1_000_000_000_000_000, 10_000_000_000_000_000, 1.0),
    (1_000_000_000_000_000_000, 10_000_000_000_000_000_000, 1e-3),
];

/// An integer by its magnitude; nanoseconds are truncated to microseconds.
fn by_magnitude(n: i128) -> Option<i64> {
    let (_, _, scale) = MAGNITUDES
        .iter()
        .find(|(lo, hi, _)| (*lo..*hi).contains(&n))?;
    let micros = if *scale >= 1.0 {
        n * (*scale as i128)
    } else {
        n / 1000
    };
    i64::try_from(micros).ok()
}

/// A number with a fraction (or an exponent) by its magnitude, rounded to the nearest microsecond.
fn float_by_magnitude(x: f64) -> Option<i64> {
    if !x.is_finite() {
        return None;
    }
    let (_, _, scale) = MAGNITUDES
        .iter()
        .find(|(lo, hi, _)| *lo as f64 <= x && x < *hi as f64)?;
    let micros = (x * scale).round();
    // Inside every window the product is below 10^16, far within i64.
    Some(micros as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MAY_1_2024_S: i64 = 1_714_521_600;

    #[test]
    fn numbers_are_read_by_magnitude_only_in_generic_json() {
        let jsonl = current(SourceKind::Jsonl).unwrap();
        let t = MAY_1_2024_S * 1_000_000;
        for (v, want) in [
            (json!(MAY_1_2024_S), Some(t)),
            (json!(MAY_1_2024_S * 1000 + 5), Some(t + 5000)),
            (json!(MAY_1_2024_S * 1_000_000 + 7), Some(t + 7)),
            (
                json!(MAY_1_2024_S as u64 * 1_000_000_000 + 7_999),
                Some(t + 7),
            ),
            (json!(1687906694.915), Some(1_687_906_694_915_000)),
            (json!(1687906694915.5), Some(1_687_906_694_915_500)),
            (json!(999_999_999), None),
            (json!(10_000_000_000i64), None),
            (json!(99_999_999_999i64), None),
            (json!(-1_714_521_600), None),
            (json!(0), None),
            (json!(u64::MAX), None),
            (json!(1e300), None),
            (json!(true), None),
            (json!("1714521600"), None),
        ] {
            assert_eq!(jsonl.time(&json!({ "time": v })), want, "{v}");
        }
        // Kubernetes, CloudTrail, GCP, Okta and Teleport never read numbers.
        for kind in [
            SourceKind::K8s,
            SourceKind::Cloudtrail,
            SourceKind::Gcp,
            SourceKind::Okta,
            SourceKind::Teleport,
        ] {
            let r = current(kind).unwrap();
            let event: serde_json::Map<String, Value> = r
                .keys
                .iter()
                .map(|k| ((*k).to_owned(), json!(MAY_1_2024_S)))
                .collect();
            assert_eq!(r.time(&Value::Object(event)), None, "{kind}");
        }
    }

    #[test]
    fn version_1_reads_what_it_always_read() {
        let event = json!({"time": "2024-05-01 00:00:00", "p_event_time": "2024-05-01T00:00:00Z", "ts": 1714521600});
        for kind in SourceKind::BUILTIN {
            assert_eq!(rule(kind, 1).unwrap().time(&event), None, "{kind}");
        }
        assert_eq!(
            time(SourceKind::Jsonl, &event),
            Some(MAY_1_2024_S * 1_000_000)
        );
        assert_eq!(
            time(SourceKind::Okta, &event),
            Some(MAY_1_2024_S * 1_000_000)
        );
        let github = json!({"created_at": 1_714_521_600_000u64});
        assert_eq!(
            rule(SourceKind::Github, 1).unwrap().time(&github),
            Some(MAY_1_2024_S * 1_000_000)
        );
        assert_eq!(rule(SourceKind::K8s, 3).map(|r| r.keys), None);
        assert_eq!(rule(SourceKind::Mapping, 2).map(|r| r.keys), None);
    }

    #[test]
    fn mapper_versions() {
        assert_eq!(version_of("k8s/1"), Some(1));
        assert_eq!(version_of("jsonl/2"), Some(2));
        for bad in ["k8s/3", "k8s/0", "k8s/01", "k8s/+1", "k8s", "k8s/"] {
            assert_eq!(version_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_untimed_event_says_which_member_it_had() {
        let okta = current(SourceKind::Okta).unwrap();
        let why = |v: serde_json::Value| okta.why_untimed(v.to_string().as_bytes());
        let found = why(json!({"published": "redacted"}));
        assert_eq!(found.to_string(), "published: \"redacted\" is not a time");
        assert_eq!(
            why(json!({"x": 1})).to_string(),
            "none of published, p_event_time is present"
        );
        let long = "9".repeat(100);
        let found = why(json!({ "published": long }));
        assert_eq!(found.sample.unwrap().chars().count(), 61);
        // The member's text as a `Value` writes it; the last of a repeated name.
        let found = okta
            .why_untimed(br#"{"published": [ 1 ,"\u0041"], "x":0, "published" : { "a" : 1.50 } }"#);
        assert_eq!(found.sample.as_deref(), Some(r#"{"a":1.50}"#));
        // A member past 64 KiB, as the event writes it, cut.
        let list = format!(r#"{{"published":[ {}0]}}"#, "0,".repeat(40_000));
        let found = okta.why_untimed(list.as_bytes());
        assert_eq!(found.sample.unwrap(), format!("[ {}…", "0,".repeat(29)));
    }
}
