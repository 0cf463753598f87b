//! Trust: which signer keys count, for which origins, in which time window (docs/trust-policy.md).
//!
//! A verified signature only says who signed. Whether that signer may speak for an origin is the auditor's
//! decision, written as grants: "this key, for these origins, for archives sealed in this window" (the model of
//! OpenSSH's `allowed_signers`). Two kinds of grant exist:
//!
//! - a **policy grant** (a line of a trust-policy file, or a grant of the app's keyring): explicit origin pattern
//!   and optional validity window; it always applies where it matches;
//! - a **bare key** (`--trust KEY.pub`): any origin, but *pinned per origin on first use*: once an origin has a
//!   trusted signer, an archive of that origin signed by a different bare key is not trusted. Only a policy grant
//!   for that origin can introduce a second signer (key rotation, a new team).
//!
//! [`TrustPolicy::decide`] answers for one archive given the signers already established for its origin;
//! [`FirstUse`] keeps those per origin while a set of archives, a store import or a store check is walked.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::note::VerifierKey;

/// Where a grant came from, for messages ("policy.txt:3", "--trust ops.pub", "keyring").
pub type GrantSource = String;

/// Which origins a grant covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginPattern {
    /// Every origin (`*`).
    Any,
    /// Exactly this origin (compared byte for byte).
    Exact(String),
    /// Every origin that starts with this text (written `prefix*`).
    Prefix(String),
}

impl OriginPattern {
    /// Parses `*`, `prefix*` or an exact origin. A `*` anywhere but at the end is refused (it would look like a
    /// glob that matches more than it does).
    pub fn parse(s: &str) -> Result<OriginPattern, String> {
        if s.is_empty() {
            return Err("empty origin pattern".into());
        }
        if s == "*" {
            return Ok(OriginPattern::Any);
        }
        let (body, prefix) = match s.strip_suffix('*') {
            Some(body) => (body, true),
            None => (s, false),
        };
        if body.contains('*') {
            return Err(format!(
                "origin pattern {s:?}: `*` is only allowed once, at the end (a prefix)"
            ));
        }
        if body.chars().any(|c| c.is_control()) {
            return Err(format!("origin pattern {s:?} contains a control character"));
        }
        Ok(if prefix {
            OriginPattern::Prefix(body.to_string())
        } else {
            OriginPattern::Exact(body.to_string())
        })
    }

    pub fn matches(&self, origin: &str) -> bool {
        match self {
            OriginPattern::Any => true,
            OriginPattern::Exact(o) => o == origin,
            OriginPattern::Prefix(p) => origin.starts_with(p.as_str()),
        }
    }
}

impl std::fmt::Display for OriginPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OriginPattern::Any => f.write_str("*"),
            OriginPattern::Exact(o) => f.write_str(o),
            OriginPattern::Prefix(p) => write!(f, "{p}*"),
        }
    }
}

/// One grant: a key, the origins it may sign, and the window of sealing times it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub origins: OriginPattern,
    pub key: VerifierKey,
    /// The archive's signed `created` time must be at or after this (microseconds UTC).
    pub valid_after: Option<i64>,
    /// ... and strictly before this.
    pub valid_before: Option<i64>,
    /// A bare `--trust` key: any origin, pinned per origin on first use.
    pub first_use: bool,
    pub source: GrantSource,
}

impl Grant {
    /// A bare key (`--trust FILE`): every origin, pinned per origin on first use.
    pub fn bare(key: VerifierKey, source: impl Into<String>) -> Grant {
        Grant {
            origins: OriginPattern::Any,
            key,
            valid_after: None,
            valid_before: None,
            first_use: true,
            source: source.into(),
        }
    }

    /// Whether the window holds the archive's sealing: its signed time inside the window, and no event at or
    /// after the window's end (an archive is sealed after its events; events from before the window are fine).
    fn covers(&self, at: Sealed) -> bool {
        if self.valid_after.is_none() && self.valid_before.is_none() {
            return true;
        }
        let Some(t) = at.signed else {
            return false;
        };
        self.valid_after.is_none_or(|a| t >= a)
            && self
                .valid_before
                .is_none_or(|b| t < b && at.newest_event.is_none_or(|n| n < b))
    }

    /// The window in words, e.g. `from 2026-01-01T00:00:00Z until 2026-07-01T00:00:00Z`.
    pub fn window_text(&self) -> String {
        let f = crate::time::format_utc;
        match (self.valid_after, self.valid_before) {
            (None, None) => "at any time".into(),
            (Some(a), None) => format!("from {}", f(a)),
            (None, Some(b)) => format!("before {}", f(b)),
            (Some(a), Some(b)) => format!("from {} until {}", f(a), f(b)),
        }
    }
}

/// Why an archive's signer is trusted, or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum TrustBasis {
    /// A policy grant for this origin covers the key and the sealing time.
    Grant,
    /// A bare trusted key, and the origin has no other signer (pinned on first use).
    FirstUse,
    /// Not trusted.
    None,
}

/// When an archive was sealed, as far as its signed content tells: not before its manifest's signed time
/// ([`crate::archive::Manifest::trust_time`]) and not before its newest event. A grant with a window must hold
/// both (docs/trust-policy.md section 2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sealed {
    /// [`crate::archive::Manifest::trust_time`] (microseconds); `None` when `created` cannot be read.
    pub signed: Option<i64>,
    /// The newest time among the archive's events (microseconds), once they were read; `None` before, or when
    /// no event has a time.
    pub newest_event: Option<i64>,
}

impl Sealed {
    /// The signed time alone, before the events are read.
    pub fn signed(signed: Option<i64>) -> Sealed {
        Sealed {
            signed,
            newest_event: None,
        }
    }

    pub fn with_newest_event(self, newest_event: Option<i64>) -> Sealed {
        Sealed {
            newest_event,
            ..self
        }
    }

    /// Whether the events tell more than the signed time: the newest event is later than it (or the signed
    /// time cannot be read). Only then can deciding again with the events' times change a decision.
    pub fn events_later(&self) -> bool {
        self.newest_event
            .is_some_and(|n| self.signed.is_none_or(|s| n > s))
    }
}

impl From<Option<i64>> for Sealed {
    fn from(signed: Option<i64>) -> Sealed {
        Sealed::signed(signed)
    }
}

/// The answer for one archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TrustDecision {
    pub trusted: bool,
    pub basis: TrustBasis,
    /// In words: which grant, or why none applies.
    pub reason: String,
    /// Whether a grant of the key for the origin ends (`valid-before`): then the archive's events' times can
    /// change the decision ([`Sealed`]), whatever trusts it now (a bare key's first use may be refused later, in
    /// the light of the archives before it).
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub windowed: bool,
}

impl TrustDecision {
    fn yes(basis: TrustBasis, reason: String) -> Self {
        TrustDecision {
            trusted: true,
            basis,
            reason,
            windowed: false,
        }
    }
    fn no(reason: String) -> Self {
        TrustDecision {
            trusted: false,
            basis: TrustBasis::None,
            reason,
            windowed: false,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{source_name}:{line}: {reason}")]
pub struct PolicyError {
    pub source_name: String,
    pub line: usize,
    pub reason: String,
}

/// The grants in force. Empty: nothing is trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustPolicy {
    grants: Vec<Grant>,
    /// AWS CloudTrail keys, each for an account and region (docs/trust-policy.md section 2.1).
    aws: Vec<AwsGrant>,
}

/// A grant of an AWS CloudTrail public key (by its fingerprint) for the digests of an account and region signed in
/// a window: `aws-cloudtrail:ACCOUNT/REGION FINGERPRINT [valid-after=TIME] [valid-before=TIME]`, where ACCOUNT
/// and REGION may each be `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsGrant {
    /// 12 digits, or `*` for any account.
    pub account: String,
    /// A region name, or `*` for any region.
    pub region: String,
    /// The key's AWS fingerprint: lowercase hex MD5 of its DER bytes.
    pub fingerprint: String,
    /// Microseconds UTC; the digest's `digestEndTime` must satisfy `valid_after <= t < valid_before`.
    pub valid_after: Option<i64>,
    pub valid_before: Option<i64>,
    /// `FILE:LINE`.
    pub source: String,
}

impl AwsGrant {
    /// Whether this grant covers a digest of `account` and `region` signed by `fingerprint`, ending at `t`.
    pub fn covers(&self, account: &str, region: &str, fingerprint: &str, t: i64) -> bool {
        (self.account == "*" || self.account == account)
            && (self.region == "*" || self.region == region)
            && self.fingerprint.eq_ignore_ascii_case(fingerprint)
            && self.valid_after.is_none_or(|a| a <= t)
            && self.valid_before.is_none_or(|b| t < b)
    }
}

/// The prefix of an AWS CloudTrail key grant's pattern.
pub const AWS_CLOUDTRAIL_PREFIX: &str = "aws-cloudtrail:";

impl TrustPolicy {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bare keys (`--trust`): each for any origin, pinned per origin on first use.
    pub fn from_keys(keys: &[VerifierKey]) -> Self {
        TrustPolicy {
            grants: keys
                .iter()
                .map(|k| Grant::bare(k.clone(), "--trust"))
                .collect(),
            aws: Vec::new(),
        }
    }

    /// The AWS CloudTrail key grants (docs/trust-policy.md section 2.1); none: the keys of `--aws-keys` are
    /// trusted for every account (as `--aws-account` allows) and region.
    pub fn aws_grants(&self) -> &[AwsGrant] {
        &self.aws
    }

    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    pub fn is_empty(&self) -> bool {
        self.grants.is_empty()
    }

    pub fn add(&mut self, grant: Grant) {
        self.grants.push(grant);
    }

    pub fn extend(&mut self, other: TrustPolicy) {
        self.grants.extend(other.grants);
        self.aws.extend(other.aws);
    }

    /// Parses a trust-policy file (docs/trust-policy.md): one grant per line,
    /// `ORIGIN-PATTERN KEY [valid-after=TIME] [valid-before=TIME]`, `#` comments, blank lines ignored.
    /// `source_name` names the file in errors and in the grants' sources.
    pub fn parse(text: &str, source_name: &str) -> Result<TrustPolicy, PolicyError> {
        let mut grants = Vec::new();
        let mut aws = Vec::new();
        // A byte order mark (some editors write one) is not part of the first grant's origin.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let err = |reason: String| PolicyError {
                source_name: source_name.to_string(),
                line: line_no,
                reason,
            };
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            let line = line.trim_matches([' ', '\t']);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(grant) = line.strip_prefix(AWS_CLOUDTRAIL_PREFIX) {
                let (scope, rest) = grant.split_once([' ', '\t']).unwrap_or((grant, ""));
                aws.push(
                    parse_aws_grant(scope, rest, &format!("{source_name}:{line_no}"))
                        .map_err(err)?,
                );
                continue;
            }
            let (pattern_text, rest) = split_pattern(line).map_err(err)?;
            let origins = OriginPattern::parse(&pattern_text).map_err(err)?;
            let mut fields = rest.split([' ', '\t']).filter(|f| !f.is_empty());
            let key_text = fields
                .next()
                .ok_or_else(|| err("expected a verifier key after the origin pattern".into()))?;
            let key = VerifierKey::parse(key_text)
                .map_err(|e| err(format!("not a verifier key: {e}")))?;
            let (valid_after, valid_before) = parse_window(fields).map_err(err)?;
            grants.push(Grant {
                origins,
                key,
                valid_after,
                valid_before,
                first_use: false,
                source: format!("{source_name}:{line_no}"),
            });
        }
        Ok(TrustPolicy { grants, aws })
    }

    /// Whether `signer` may speak for `origin` for an archive sealed at `at` ([`Sealed`]: the manifest's signed
    /// time and, once read, its newest event), given the signers already trusted for that origin (`established`,
    /// for bare keys' first-use pinning).
    pub fn decide(
        &self,
        origin: &str,
        signer: &VerifierKey,
        at: impl Into<Sealed>,
        established: &[VerifierKey],
    ) -> TrustDecision {
        let at: Sealed = at.into();
        let windowed = self.grants.iter().any(|g| {
            g.key == *signer
                && !g.first_use
                && g.valid_before.is_some()
                && g.origins.matches(origin)
        });
        TrustDecision {
            windowed,
            ..self.decide_at(origin, signer, at, established)
        }
    }

    fn decide_at(
        &self,
        origin: &str,
        signer: &VerifierKey,
        at: Sealed,
        established: &[VerifierKey],
    ) -> TrustDecision {
        let of_key: Vec<&Grant> = self.grants.iter().filter(|g| g.key == *signer).collect();
        if of_key.is_empty() {
            return TrustDecision::no(format!(
                "the key {} ({}) is not trusted",
                signer.name(),
                signer.fingerprint()
            ));
        }
        if let Some(g) = of_key
            .iter()
            .find(|g| !g.first_use && g.origins.matches(origin) && g.covers(at))
        {
            return TrustDecision::yes(
                TrustBasis::Grant,
                format!(
                    "granted for {} {} ({})",
                    g.origins,
                    g.window_text(),
                    g.source
                ),
            );
        }
        if let Some(g) = of_key.iter().find(|g| g.first_use) {
            if established.is_empty() || established.contains(signer) {
                return TrustDecision::yes(
                    TrustBasis::FirstUse,
                    format!(
                        "trusted key ({}), pinned to this origin on first use",
                        g.source
                    ),
                );
            }
            let others: Vec<String> = established
                .iter()
                .map(|k| format!("{} ({})", k.name(), k.fingerprint()))
                .collect();
            return TrustDecision::no(format!(
                "the key {} is trusted, but not for this origin: {origin:?} is already signed by {} \
                 (pinned on first use); a second signer needs a trust-policy grant for this origin",
                signer.name(),
                others.join(", ")
            ));
        }
        // Only policy grants for this key, none of which applies.
        let windows: Vec<String> = of_key
            .iter()
            .filter(|g| g.origins.matches(origin))
            .map(|g| format!("{} ({})", g.window_text(), g.source))
            .collect();
        if !windows.is_empty() {
            let events = match at.newest_event {
                Some(n) if at.events_later() => {
                    format!(", and holds events up to {}", crate::time::format_utc(n))
                }
                _ => String::new(),
            };
            return TrustDecision::no(format!(
                "the key {} is trusted for this origin only for archives sealed {}; this one was sealed {} (its \
                 signed `created`, or the newest event time its manifest states when later){events}",
                signer.name(),
                windows.join(" or "),
                at.signed
                    .map_or("at an unreadable time".into(), |t| format!(
                        "at {}",
                        crate::time::format_utc(t)
                    ))
            ));
        }
        let patterns: Vec<String> = of_key.iter().map(|g| g.origins.to_string()).collect();
        TrustDecision::no(format!(
            "the key {} is not trusted for this origin (it is granted only for {})",
            signer.name(),
            patterns.join(", ")
        ))
    }
}

/// The pattern at the start of a policy line (a JSON string when it holds spaces) and the rest.
/// The options after a grant's key: `valid-after=TIME`, `valid-before=TIME` (each at most once, in order), up to a
/// `#` comment.
fn parse_window<'a>(
    fields: impl Iterator<Item = &'a str>,
) -> Result<(Option<i64>, Option<i64>), String> {
    let (mut valid_after, mut valid_before) = (None, None);
    for option in fields {
        if option.starts_with('#') {
            break;
        }
        let (name, value) = option.split_once('=').ok_or_else(|| {
            format!("unknown option {option:?} (expected valid-after=TIME or valid-before=TIME)")
        })?;
        let slot = match name {
            "valid-after" => &mut valid_after,
            "valid-before" => &mut valid_before,
            _ => {
                return Err(format!(
                    "unknown option {name:?} (expected valid-after or valid-before)"
                ));
            }
        };
        let t = parse_time(value).ok_or_else(|| {
            format!("{name}: {value:?} is not a date YYYY-MM-DD or an RFC 3339 time")
        })?;
        if slot.is_some() {
            return Err(format!("{name} given twice"));
        }
        *slot = Some(t);
    }
    if let (Some(a), Some(b)) = (valid_after, valid_before)
        && a >= b
    {
        return Err("valid-after must be before valid-before".into());
    }
    Ok((valid_after, valid_before))
}

/// `aws-cloudtrail:ACCOUNT/REGION FINGERPRINT [valid-after=TIME] [valid-before=TIME]` after its prefix.
fn parse_aws_grant(scope: &str, rest: &str, source: &str) -> Result<AwsGrant, String> {
    let (account, region) = scope.split_once('/').ok_or_else(|| {
        format!("{AWS_CLOUDTRAIL_PREFIX}{scope}: expected {AWS_CLOUDTRAIL_PREFIX}ACCOUNT/REGION (each may be *)")
    })?;
    if account != "*" && !(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())) {
        return Err(format!(
            "AWS account {account:?}: an account is 12 digits, or * for any account"
        ));
    }
    let region_ok = region == "*"
        || (!region.is_empty()
            && region.len() <= 64
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
    if !region_ok {
        return Err(format!(
            "AWS region {region:?}: a region name (e.g. us-east-1), or * for any region"
        ));
    }
    let mut fields = rest.split([' ', '\t']).filter(|f| !f.is_empty());
    let fingerprint = fields.next().ok_or_else(|| {
        "expected the CloudTrail key's fingerprint (32 hex digits) after the account and region"
            .to_string()
    })?;
    if fingerprint.len() != 32 || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{fingerprint:?} is not a CloudTrail key fingerprint (32 hex digits, as list-public-keys prints it)"
        ));
    }
    let (valid_after, valid_before) = parse_window(fields)?;
    Ok(AwsGrant {
        account: account.to_string(),
        region: region.to_string(),
        fingerprint: fingerprint.to_ascii_lowercase(),
        valid_after,
        valid_before,
        source: source.to_string(),
    })
}

fn split_pattern(line: &str) -> Result<(String, &str), String> {
    if line.starts_with('"') {
        let mut de = serde_json::Deserializer::from_str(line).into_iter::<String>();
        let pattern = match de.next() {
            Some(Ok(s)) => s,
            _ => return Err("the quoted origin pattern is not a valid JSON string".into()),
        };
        let rest = &line[de.byte_offset()..];
        if !rest.starts_with([' ', '\t']) {
            return Err("expected a space after the quoted origin pattern".into());
        }
        return Ok((pattern, rest));
    }
    match line.split_once([' ', '\t']) {
        Some((p, rest)) => Ok((p.to_string(), rest)),
        None => Err("expected ORIGIN-PATTERN KEY [valid-after=TIME] [valid-before=TIME]".into()),
    }
}

/// A date (midnight UTC) or an RFC 3339 time.
pub fn parse_time(s: &str) -> Option<i64> {
    if s.len() == 10 {
        return crate::time::parse_rfc3339(&format!("{s}T00:00:00Z"));
    }
    crate::time::parse_rfc3339(s)
}

/// The signers trusted so far per origin, while archives are decided one after the other (a set of archives in
/// sequence order, a store's archives in import order).
#[derive(Debug, Default, Clone)]
pub struct FirstUse {
    established: BTreeMap<String, Vec<VerifierKey>>,
}

impl FirstUse {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `signer` is trusted for `origin` (a store loads its verified archives' signers this way).
    pub fn record(&mut self, origin: &str, signer: &VerifierKey) {
        let list = self.established.entry(origin.to_string()).or_default();
        if !list.contains(signer) {
            list.push(signer.clone());
        }
    }

    pub fn established(&self, origin: &str) -> &[VerifierKey] {
        self.established.get(origin).map_or(&[], |v| v.as_slice())
    }

    /// Decides and, when trusted, records the signer for the origin.
    pub fn decide(
        &mut self,
        policy: &TrustPolicy,
        origin: &str,
        signer: &VerifierKey,
        at: impl Into<Sealed>,
    ) -> TrustDecision {
        let d = policy.decide(origin, signer, at, self.established(origin));
        if d.trusted {
            self.record(origin, signer);
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::SignerKey;

    fn key(name: &str) -> VerifierKey {
        SignerKey::from_seed(name, &[name.len() as u8 + 1; 32])
            .unwrap()
            .verifier()
    }

    fn t(s: &str) -> Option<i64> {
        parse_time(s)
    }

    #[test]
    fn patterns_match_exactly_by_prefix_or_all() {
        let exact = OriginPattern::parse("example.com/prod").unwrap();
        assert!(exact.matches("example.com/prod"));
        assert!(!exact.matches("example.com/prod/x"));
        assert!(!exact.matches("Example.com/prod"));
        let prefix = OriginPattern::parse("example.com/prod/*").unwrap();
        assert!(prefix.matches("example.com/prod/k8s"));
        assert!(!prefix.matches("example.com/prodx"));
        assert!(OriginPattern::parse("*").unwrap().matches("anything"));
        assert!(OriginPattern::parse("a*b").is_err());
        assert!(OriginPattern::parse("a**").is_err());
        assert!(OriginPattern::parse("").is_err());
    }

    #[test]
    fn policy_lines_parse_with_windows_comments_and_quotes() {
        let a = key("team-a");
        let b = key("team-b");
        let text = format!(
            "# two teams\n\nexample.com/a {a}\n\"origin with space\" {b} valid-after=2026-01-01 # note\n\
             example.com/* {b} valid-after=2026-01-01T00:00:00Z valid-before=2026-07-01\r\n"
        );
        let p = TrustPolicy::parse(&text, "policy.txt").unwrap();
        assert_eq!(p.grants().len(), 3);
        assert_eq!(p.grants()[0].source, "policy.txt:3");
        assert_eq!(
            p.grants()[1].origins,
            OriginPattern::Exact("origin with space".into())
        );
        assert_eq!(p.grants()[1].valid_after, t("2026-01-01"));
        assert_eq!(p.grants()[2].valid_before, t("2026-07-01T00:00:00Z"));
        assert!(!p.grants()[0].first_use);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_grant() {
        let a = key("team-a");
        for text in [
            format!("\u{feff}example.com/a {a}\n"),
            format!("\u{feff}# grants\nexample.com/a {a}\n"),
        ] {
            let p = TrustPolicy::parse(&text, "policy.txt").unwrap();
            assert_eq!(
                p.grants()[0].origins,
                OriginPattern::Exact("example.com/a".into())
            );
        }
    }

    #[test]
    fn policy_errors_name_the_line() {
        let a = key("team-a");
        for (text, needle) in [
            ("example.com\n".to_string(), "expected ORIGIN-PATTERN KEY"),
            ("example.com notakey\n".to_string(), "not a verifier key"),
            (format!("x {a} valid-after=yesterday\n"), "valid-after"),
            (format!("x {a} colour=blue\n"), "unknown option"),
            (
                format!("x {a} valid-after=2026-02-01 valid-before=2026-01-01\n"),
                "before valid-before",
            ),
            (format!("a*b {a}\n"), "only allowed once"),
        ] {
            let e = TrustPolicy::parse(&format!("# c\n{text}"), "p").unwrap_err();
            assert_eq!(e.line, 2, "{text}");
            assert!(e.reason.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn a_bare_key_is_pinned_per_origin_on_first_use() {
        let a = key("team-a");
        let b = key("team-b");
        let policy = TrustPolicy::from_keys(&[a.clone(), b.clone()]);
        let mut seen = FirstUse::new();
        assert!(seen.decide(&policy, "a.example/log", &a, None).trusted);
        // Team B's key signing team A's origin: not trusted, and the message names the pinned signer.
        let d = seen.decide(&policy, "a.example/log", &b, None);
        assert!(!d.trusted);
        assert!(d.reason.contains("team-a"), "{}", d.reason);
        // B's own origin is fine.
        assert!(seen.decide(&policy, "b.example/log", &b, None).trusted);
        assert_eq!(seen.established("a.example/log"), std::slice::from_ref(&a));
    }

    #[test]
    fn rotation_windows_follow_the_signed_creation_time() {
        let old = key("old");
        let new = key("new-key");
        let text =
            format!("prod/* {old} valid-before=2026-06-01\nprod/* {new} valid-after=2026-06-01\n");
        let policy = TrustPolicy::parse(&text, "p").unwrap();
        let mut seen = FirstUse::new();
        assert!(
            seen.decide(&policy, "prod/k8s", &old, t("2026-05-31T23:59:59Z"))
                .trusted
        );
        // After the rotation the old key no longer counts, even though the origin is pinned to it.
        let late_old = seen.decide(&policy, "prod/k8s", &old, t("2026-06-01"));
        assert!(!late_old.trusted);
        assert!(
            late_old.reason.contains("sealed before"),
            "{}",
            late_old.reason
        );
        let d = seen.decide(&policy, "prod/k8s", &new, t("2026-06-02"));
        assert!(d.trusted);
        assert_eq!(d.basis, TrustBasis::Grant);
        // No time at all: a windowed grant does not apply.
        assert!(!policy.decide("prod/k8s", &new, None, &[]).trusted);
        // Outside the prefix: not trusted, naming what the key is granted for.
        let other = policy.decide("staging/k8s", &new, t("2026-06-02"), &[]);
        assert!(!other.trusted);
        assert!(
            other.reason.contains("granted only for prod/*"),
            "{}",
            other.reason
        );
    }

    #[test]
    fn a_policy_grant_admits_a_second_signer_that_a_bare_key_cannot() {
        let a = key("team-a");
        let b = key("team-b");
        let mut policy = TrustPolicy::from_keys(&[a.clone(), b.clone()]);
        policy.extend(TrustPolicy::parse(&format!("a.example/log {b}\n"), "p").unwrap());
        let mut seen = FirstUse::new();
        assert!(seen.decide(&policy, "a.example/log", &a, None).trusted);
        let d = seen.decide(&policy, "a.example/log", &b, None);
        assert!(d.trusted);
        assert_eq!(d.basis, TrustBasis::Grant);
    }

    #[test]
    fn an_unknown_key_is_not_trusted() {
        let policy = TrustPolicy::from_keys(&[key("a")]);
        let d = policy.decide("o", &key("stranger"), None, &[]);
        assert!(!d.trusted);
        assert_eq!(d.basis, TrustBasis::None);
        assert!(TrustPolicy::new().is_empty());
    }
}
