//! Normalization of audit events: one verified event (a JSON object, exactly as sealed) plus its archive's signed
//! source kind in, the normalized fields of the store out (`time`, `actor`, `action`, `resource`, `outcome`, `ip`,
//! `agent`, `env`, `stage`, `category`). Pure functions, no I/O, never a panic, never a made-up value: what the
//! event does not say stays `None`. The rules, per kind, are written down in `docs/sources.md`.
//!
//! - [`kubernetes`]: Kubernetes API-server audit events (`audit.k8s.io/v1`, `v1beta1`);
//! - [`cloudtrail`]: AWS CloudTrail records (one record, not the `{"Records":[...]}` envelope);
//! - [`generic`]: any other JSON object (JSON Lines archives).

pub mod cloudtrail;
pub mod generic;
pub mod kubernetes;

use serde_json::Value;

/// Categories, in the store's vocabulary (`category` column).
pub const CATEGORIES: [&str; 5] = ["deployment", "access", "change", "read", "other"];
/// Outcomes, in the store's vocabulary (`outcome` column).
pub const OUTCOMES: [&str; 4] = ["success", "denied", "failure", "unknown"];

/// Errors of this module.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SourceError {
    /// A source kind name that is not one of [`SourceKind::ALL`].
    #[error("unknown source kind {0:?} (expected one of: jsonl, k8s, cloudtrail)")]
    UnknownKind(String),
}

/// The kind of log an archive holds; signed into the archive, it selects the normalizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Any JSON object per line ("jsonl").
    Jsonl,
    /// Kubernetes API-server audit events ("k8s").
    K8s,
    /// AWS CloudTrail records ("cloudtrail").
    Cloudtrail,
}

impl SourceKind {
    /// Every kind, in a stable order.
    pub const ALL: [SourceKind; 3] = [SourceKind::Jsonl, SourceKind::K8s, SourceKind::Cloudtrail];

    /// The kind's name as written in archives, the CLI and the store: `jsonl`, `k8s`, `cloudtrail`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Jsonl => "jsonl",
            SourceKind::K8s => "k8s",
            SourceKind::Cloudtrail => "cloudtrail",
        }
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SourceKind {
    type Err = SourceError;

    /// Exact, lowercase names only (`jsonl`, `k8s`, `cloudtrail`): a signed name must have one spelling.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SourceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| SourceError::UnknownKind(s.to_owned()))
    }
}

/// The normalized fields of one event (see `STORE_SCHEMA.md`); `None` is SQL NULL.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Normalized {
    /// Unix time in microseconds UTC.
    pub ts: Option<i64>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub resource: Option<String>,
    /// One of [`OUTCOMES`].
    pub outcome: Option<String>,
    pub ip: Option<String>,
    pub agent: Option<String>,
    pub env: Option<String>,
    pub stage: Option<String>,
    /// One of [`CATEGORIES`]; always set by [`normalize`].
    pub category: Option<String>,
}

/// Normalizes one parsed event according to its archive's source kind. Never panics; a field the event does not
/// carry (or carries as an object or array where text is expected) stays `None`. A value that is not an object
/// is treated like an object with no fields.
pub fn normalize(kind: SourceKind, event: &Value) -> Normalized {
    match kind {
        SourceKind::K8s => kubernetes::normalize(event),
        SourceKind::Cloudtrail => cloudtrail::normalize(event),
        SourceKind::Jsonl => generic::normalize(event),
    }
}

/// Parses the event bytes as JSON and normalizes them. Bytes that are not one JSON value (invalid UTF-8,
/// invalid JSON, trailing data) are normalized as the JSON value `null`, i.e. as an event with no fields:
/// every field `None` except `category` = "other" (and, for `k8s`, `outcome` = "unknown").
pub fn normalize_bytes(kind: SourceKind, raw: &[u8]) -> Normalized {
    let event = serde_json::from_slice::<Value>(raw).unwrap_or(Value::Null);
    normalize(kind, &event)
}

/// Detects the kind of a parsed event by its content (used by `seal` when no format is given).
///
/// - `k8s`: `"kind": "Event"` with `"apiVersion"` `audit.k8s.io/v1` or `audit.k8s.io/v1beta1`; or string
///   `auditID`, `stage` and `verb` (old events often lack `apiVersion`);
/// - `cloudtrail`: string `eventVersion`, `eventSource` and `eventName`; or string `eventSource` and `eventName`
///   with a string `eventTime` or `@timestamp`; or string `eventVersion` and `eventID` with an `eventType` that
///   starts with `Aws` (CloudTrail Insights events carry no top-level `eventSource`/`eventName`);
/// - otherwise `jsonl`.
pub fn detect(event: &Value) -> SourceKind {
    let is_str = |key: &str| event.get(key).is_some_and(Value::is_string);
    let str_of = |key: &str| event.get(key).and_then(Value::as_str);

    let k8s_api = matches!(
        str_of("apiVersion"),
        Some("audit.k8s.io/v1" | "audit.k8s.io/v1beta1")
    );
    if (str_of("kind") == Some("Event") && k8s_api)
        || (is_str("auditID") && is_str("stage") && is_str("verb"))
    {
        return SourceKind::K8s;
    }
    let named = is_str("eventSource") && is_str("eventName");
    let insight_like = is_str("eventVersion")
        && is_str("eventID")
        && str_of("eventType").is_some_and(|t| t.starts_with("Aws"));
    if (named && (is_str("eventVersion") || is_str("eventTime") || is_str("@timestamp")))
        || insight_like
    {
        return SourceKind::Cloudtrail;
    }
    SourceKind::Jsonl
}

/// [`detect`] on raw bytes; bytes that do not parse as JSON are `jsonl`.
pub fn detect_bytes(raw: &[u8]) -> SourceKind {
    serde_json::from_slice::<Value>(raw)
        .map(|v| detect(&v))
        .unwrap_or(SourceKind::Jsonl)
}

// ---- value helpers shared by the normalizers ----

/// The text of a scalar JSON value: a string as is, a number or boolean as its JSON text. `None` for a missing
/// value, `null`, an empty string, an object or an array.
pub(crate) fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// [`text`] of the value at a JSON pointer (`/a/b/0`).
pub(crate) fn text_at(event: &Value, pointer: &str) -> Option<String> {
    text(event.pointer(pointer))
}

/// The first [`text_at`] that is `Some`, trying the pointers in order.
pub(crate) fn first_text(event: &Value, pointers: &[&str]) -> Option<String> {
    pointers.iter().find_map(|p| text_at(event, p))
}

/// The string at a JSON pointer, borrowed; `None` unless it is a JSON string.
pub(crate) fn str_at<'a>(event: &'a Value, pointer: &str) -> Option<&'a str> {
    event.pointer(pointer).and_then(Value::as_str)
}

/// The first top-level key, in order, whose value is a string that parses as RFC 3339. Missing keys, values of
/// other types (numbers are not times) and unparsable strings are skipped.
pub(crate) fn first_time(event: &Value, keys: &[&str]) -> Option<i64> {
    keys.iter().find_map(|k| {
        event
            .get(*k)
            .and_then(Value::as_str)
            .and_then(crate::time::parse_rfc3339)
    })
}

/// The present parts joined with `sep`; `None` when no part is present.
pub(crate) fn join(parts: &[Option<String>], sep: &str) -> Option<String> {
    let present: Vec<&str> = parts.iter().flatten().map(String::as_str).collect();
    (!present.is_empty()).then(|| present.join(sep))
}

pub(crate) fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kind_names_round_trip_through_from_str_and_serde() {
        for kind in SourceKind::ALL {
            assert_eq!(kind.as_str().parse::<SourceKind>(), Ok(kind));
            let encoded = serde_json::to_string(&kind).unwrap();
            assert_eq!(encoded, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<SourceKind>(&encoded).unwrap(), kind);
        }
        assert_eq!("k8s".parse::<SourceKind>(), Ok(SourceKind::K8s));
        assert_eq!(
            "cloudtrail".parse::<SourceKind>(),
            Ok(SourceKind::Cloudtrail)
        );
    }

    #[test]
    fn unknown_or_differently_spelled_kind_names_are_errors() {
        for s in ["", "K8s", "kubernetes", "json", " jsonl", "CloudTrail"] {
            assert_eq!(
                s.parse::<SourceKind>(),
                Err(SourceError::UnknownKind(s.to_owned()))
            );
        }
    }

    #[test]
    fn text_takes_scalars_and_ignores_containers_and_empty_strings() {
        let v = json!({"s": "x", "e": "", "b": false, "z": null, "a": ["x"], "o": {"x": 1}});
        assert_eq!(text_at(&v, "/s").as_deref(), Some("x"));
        assert_eq!(text_at(&v, "/e"), None);
        assert_eq!(text_at(&v, "/b").as_deref(), Some("false"));
        assert_eq!(text_at(&v, "/z"), None);
        assert_eq!(text_at(&v, "/a"), None);
        assert_eq!(text_at(&v, "/o"), None);
        assert_eq!(text_at(&v, "/missing"), None);
        // arbitrary_precision keeps the number's JSON text.
        let raw: Value =
            serde_json::from_str(r#"{"n": 12.50, "big": 123456789012345678901234567890}"#).unwrap();
        assert_eq!(text_at(&raw, "/n").as_deref(), Some("12.50"));
        assert_eq!(
            text_at(&raw, "/big").as_deref(),
            Some("123456789012345678901234567890")
        );
    }

    #[test]
    fn first_time_skips_numbers_and_unparsable_strings() {
        let v = json!({"time": 1621305118553u64, "timestamp": "yesterday", "@timestamp": "2024-05-01T00:00:00Z"});
        assert_eq!(
            first_time(&v, &["time", "timestamp", "@timestamp"]),
            Some(1_714_521_600_000_000)
        );
        assert_eq!(first_time(&v, &["time", "timestamp"]), None);
    }

    #[test]
    fn unparsable_bytes_normalize_as_an_event_without_fields() {
        let other = Normalized {
            category: some("other"),
            ..Normalized::default()
        };
        for raw in [
            &b""[..],
            b"{",
            b"\xff\xfe",
            b"{\"a\":1} {\"b\":2}",
            b"\xef\xbb\xbf{}",
        ] {
            assert_eq!(normalize_bytes(SourceKind::Jsonl, raw), other);
            assert_eq!(normalize_bytes(SourceKind::Cloudtrail, raw), other);
            assert_eq!(
                normalize_bytes(SourceKind::K8s, raw),
                Normalized {
                    outcome: some("unknown"),
                    ..other.clone()
                }
            );
        }
    }

    #[test]
    fn a_repeated_member_counts_with_its_last_value() {
        let n = normalize_bytes(SourceKind::K8s, br#"{"verb":"get","verb":"delete"}"#);
        assert_eq!(n.action.as_deref(), Some("delete"));
        assert_eq!(n.category.as_deref(), Some("change"));
    }

    #[test]
    fn non_object_json_values_normalize_without_fields() {
        for v in [
            json!(null),
            json!(5),
            json!("text"),
            json!([{"verb": "get"}]),
        ] {
            assert_eq!(
                normalize(SourceKind::Jsonl, &v).category.as_deref(),
                Some("other")
            );
            assert_eq!(normalize(SourceKind::Cloudtrail, &v).outcome, None);
            assert_eq!(normalize(SourceKind::K8s, &v).action, None);
        }
    }

    #[test]
    fn detection_follows_the_documented_keys() {
        let k8s_v1 = json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1"});
        let k8s_v1beta1 = json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1beta1"});
        let k8s_no_api =
            json!({"kind": "Event", "auditID": "x", "stage": "ResponseComplete", "verb": "get"});
        let k8s_other_api = json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1alpha1"});
        let ct = json!({"eventVersion": "1.08", "eventSource": "s3.amazonaws.com", "eventName": "GetObject"});
        let ct_otrf =
            json!({"eventSource": "s3.amazonaws.com", "eventName": "GetObject", "@timestamp": "x"});
        let ct_insight =
            json!({"eventVersion": "1.07", "eventID": "x", "eventType": "AwsCloudTrailInsight"});
        let ct_half = json!({"eventSource": "s3.amazonaws.com", "eventName": "GetObject"});
        let records = json!({"Records": [ct.clone()]});
        assert_eq!(detect(&k8s_v1), SourceKind::K8s);
        assert_eq!(detect(&k8s_v1beta1), SourceKind::K8s);
        assert_eq!(detect(&k8s_no_api), SourceKind::K8s);
        assert_eq!(detect(&k8s_other_api), SourceKind::Jsonl);
        assert_eq!(detect(&json!({"kind": 0})), SourceKind::Jsonl);
        assert_eq!(detect(&ct), SourceKind::Cloudtrail);
        assert_eq!(detect(&ct_otrf), SourceKind::Cloudtrail);
        assert_eq!(detect(&ct_insight), SourceKind::Cloudtrail);
        assert_eq!(detect(&ct_half), SourceKind::Jsonl);
        assert_eq!(detect(&records), SourceKind::Jsonl);
        assert_eq!(detect(&json!([1, 2])), SourceKind::Jsonl);
        assert_eq!(detect_bytes(b"not json"), SourceKind::Jsonl);
        assert_eq!(
            detect_bytes(br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1"}"#),
            SourceKind::K8s
        );
    }
}
