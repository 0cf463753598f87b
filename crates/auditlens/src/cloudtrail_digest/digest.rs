//! One digest file: its JSON fields, file names and S3 keys.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use super::keys::hex_decode;

/// Most JSON values a digest file may hold ([`crate::json::max_values`]): a digest lists the log files of one
/// hour of one account and region, five values each (about 40,000 files).
pub(crate) const MAX_DIGEST_VALUES: usize = 200_000;

/// The fields of a digest file that verification uses.
#[derive(Debug, Clone)]
pub(crate) struct Digest {
    pub start: DateTime<Utc>,
    /// `digestStartTime` exactly as written.
    pub start_raw: String,
    pub end: DateTime<Utc>,
    /// `digestEndTime` exactly as written (it is signed as is).
    pub end_raw: String,
    pub bucket: String,
    pub object: String,
    pub fingerprint: String,
    pub signature_algorithm: String,
    pub previous: Option<Previous>,
    pub log_files: Vec<LogFile>,
    /// Problems with single `logFiles` entries (those entries are skipped).
    pub entry_problems: Vec<String>,
}

/// The `previousDigest*` fields (all present, or all null for the first digest of a chain).
#[derive(Debug, Clone)]
pub(crate) struct Previous {
    pub bucket: String,
    pub object: String,
    pub hash_hex: String,
    pub hash_algorithm: String,
    /// `previousDigestSignature` exactly as written (lowercase hex expected).
    pub signature_hex: String,
}

/// One `logFiles` entry.
#[derive(Debug, Clone)]
pub(crate) struct LogFile {
    pub object: String,
    /// Lowercase, 64 hex digits.
    pub hash_hex: String,
    pub hash_algorithm: String,
}

/// The string AWS signs for a digest (AWS's `Sha256RSADigestValidator._create_string_to_sign`):
/// `digestEndTime \n digestS3Bucket/digestS3Object \n hex(SHA-256(inflated digest)) \n previousDigestSignature`,
/// where a missing previous signature is the literal `null`.
pub fn string_to_sign(
    digest_end_time: &str,
    bucket: &str,
    object: &str,
    inflated_digest_sha256_hex: &str,
    previous_signature: Option<&str>,
) -> String {
    format!(
        "{digest_end_time}\n{bucket}/{object}\n{inflated_digest_sha256_hex}\n{}",
        previous_signature.unwrap_or("null")
    )
}

fn req_str<'a>(v: &'a Value, name: &str) -> Result<&'a str, String> {
    match v.get(name) {
        None => Err(format!("missing field \"{name}\"")),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!("field \"{name}\" is not a string")),
    }
}

fn opt_str<'a>(v: &'a Value, name: &str) -> Result<Option<&'a str>, String> {
    match v.get(name) {
        None => Err(format!("missing field \"{name}\"")),
        Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("field \"{name}\" is neither a string nor null")),
    }
}

fn time(v: &Value, name: &str) -> Result<(DateTime<Utc>, String), String> {
    let s = req_str(v, name)?;
    DateTime::parse_from_rfc3339(s)
        .map(|t| (t.with_timezone(&Utc), s.to_string()))
        .map_err(|e| format!("field \"{name}\" is not an ISO 8601 time ({e})"))
}

/// A hash value: 64 hex digits, returned lowercase.
pub(crate) fn check_sha256_hex(s: &str, name: &str) -> Result<String, String> {
    if s.len() != 64 || hex_decode(s).is_none() {
        return Err(format!(
            "{name} is not a SHA-256 value (64 hex digits): {} characters{}",
            s.len(),
            if hex_decode(s).is_none() && s.len().is_multiple_of(2) {
                ", not hex"
            } else {
                ""
            }
        ));
    }
    Ok(s.to_ascii_lowercase())
}

impl Digest {
    /// Parses the inflated JSON of a digest file.
    pub fn parse(inflated: &[u8]) -> Result<Digest, ParseError> {
        // Measured before it is read as a tree (tens of bytes a value), and before its signature can be checked:
        // a forged digest of 63 MiB of `logFiles` took 750 MB to read.
        let values = crate::json::max_values(inflated);
        if values > MAX_DIGEST_VALUES {
            return Err(ParseError::Malformed(format!(
                "it holds more than {MAX_DIGEST_VALUES} JSON values ({values}): more log files than an hour of \
                 CloudTrail delivers"
            )));
        }
        let v: Value =
            serde_json::from_slice(inflated).map_err(|e| ParseError::NotJson(e.to_string()))?;
        Self::from_value(&v).map_err(ParseError::Malformed)
    }

    fn from_value(v: &Value) -> Result<Digest, String> {
        if !v.is_object() {
            return Err("not a JSON object".into());
        }
        req_str(v, "awsAccountId")?;
        let (start, start_raw) = time(v, "digestStartTime")?;
        let (end, end_raw) = time(v, "digestEndTime")?;
        let bucket = req_str(v, "digestS3Bucket")?.to_string();
        let object = req_str(v, "digestS3Object")?.to_string();
        let fingerprint = req_str(v, "digestPublicKeyFingerprint")?.to_ascii_lowercase();
        if fingerprint.len() != 32 || hex_decode(&fingerprint).is_none() {
            return Err(format!(
                "digestPublicKeyFingerprint is not 32 hex digits: {fingerprint:?}"
            ));
        }
        let signature_algorithm = req_str(v, "digestSignatureAlgorithm")?.to_string();
        let pb = opt_str(v, "previousDigestS3Bucket")?;
        let po = opt_str(v, "previousDigestS3Object")?;
        let ph = opt_str(v, "previousDigestHashValue")?;
        let pa = opt_str(v, "previousDigestHashAlgorithm")?;
        let ps = opt_str(v, "previousDigestSignature")?;
        let previous = match (pb, po, ph, pa, ps) {
            (None, None, None, None, None) => None,
            (Some(b), Some(o), Some(h), Some(a), Some(s)) => {
                let hash_hex = check_sha256_hex(h, "previousDigestHashValue")?;
                if s.is_empty() || hex_decode(s).is_none() {
                    return Err(format!(
                        "previousDigestSignature is not hex ({} characters)",
                        s.len()
                    ));
                }
                Some(Previous {
                    bucket: b.to_string(),
                    object: o.to_string(),
                    hash_hex,
                    hash_algorithm: a.to_string(),
                    signature_hex: s.to_string(),
                })
            }
            _ => return Err("the previousDigest* fields are neither all set nor all null".into()),
        };
        let files = match v.get("logFiles") {
            Some(Value::Array(a)) => a,
            Some(_) => return Err("field \"logFiles\" is not an array".into()),
            None => return Err("missing field \"logFiles\"".into()),
        };
        let mut log_files = Vec::with_capacity(files.len());
        let mut entry_problems = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let entry = (|| {
                let object = req_str(f, "s3Object")?.to_string();
                req_str(f, "s3Bucket")?;
                let hash_hex = check_sha256_hex(req_str(f, "hashValue")?, "hashValue")?;
                let hash_algorithm = req_str(f, "hashAlgorithm")?.to_string();
                Ok::<_, String>(LogFile {
                    object,
                    hash_hex,
                    hash_algorithm,
                })
            })();
            match entry {
                Ok(e) => log_files.push(e),
                Err(e) => entry_problems.push(format!("logFiles[{i}]: {e}")),
            }
        }
        Ok(Digest {
            start,
            start_raw,
            end,
            end_raw,
            bucket,
            object,
            fingerprint,
            signature_algorithm,
            previous,
            log_files,
            entry_problems,
        })
    }
}

/// Why a digest's JSON was refused.
#[derive(Debug)]
pub(crate) enum ParseError {
    NotJson(String),
    Malformed(String),
}

/// The S3 key from `AWSLogs/` on, checked to be a safe relative path; and the prefix before it (without the
/// trailing `/`). `Err` names the problem.
pub(crate) fn split_key(key: &str) -> Result<(String, String), String> {
    let at = if key.starts_with("AWSLogs/") {
        0
    } else {
        key.find("/AWSLogs/")
            .map(|i| i + 1)
            .ok_or_else(|| format!("S3 key {key:?} has no AWSLogs/ folder"))?
    };
    let (prefix, rest) = key.split_at(at);
    for part in key.split('/') {
        if part.is_empty() || part == "." || part == ".." || part.contains(['\\', '\0']) {
            return Err(format!("S3 key {key:?} is not a plain relative path"));
        }
    }
    Ok((prefix.trim_end_matches('/').to_string(), rest.to_string()))
}

/// The parts of a digest file name `<account>_CloudTrail-Digest_<region>_<trail>_<homeRegion>_<YYYYMMDDTHHmmssZ>.json.gz`,
/// or `..._<YYYYMMDDTHHmmssZ>_backfill.json.gz` for a backfill digest (log files an hour's digest missed through
/// processing delays, delivered later in a chain of their own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DigestName {
    pub account: String,
    pub region: String,
    pub trail: String,
    pub home_region: String,
    pub time: DateTime<Utc>,
    pub backfill: bool,
}

pub(crate) fn parse_digest_name(name: &str) -> Option<DigestName> {
    let stem = name.strip_suffix(".json.gz")?;
    let (stem, backfill) = match stem.strip_suffix("_backfill") {
        Some(s) => (s, true),
        None => (stem, false),
    };
    let (account, rest) = stem.split_once("_CloudTrail-Digest_")?;
    let (rest, ts) = rest.rsplit_once('_')?;
    let (region, rest) = rest.split_once('_')?;
    let (trail, home_region) = rest.rsplit_once('_')?;
    let time = NaiveDateTime::parse_from_str(ts, "%Y%m%dT%H%M%SZ")
        .ok()?
        .and_utc();
    if account.is_empty() || region.is_empty() || trail.is_empty() || home_region.is_empty() {
        return None;
    }
    Some(DigestName {
        account: account.into(),
        region: region.into(),
        trail: trail.into(),
        home_region: home_region.into(),
        time,
        backfill,
    })
}

/// The parts of a log file name `<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<random>.json.gz`:
/// account, region, delivery minute.
pub(crate) fn parse_log_name(name: &str) -> Option<(String, String, DateTime<Utc>)> {
    let stem = name.strip_suffix(".json.gz")?;
    let mut parts = stem.splitn(5, '_');
    let account = parts.next()?;
    if parts.next()? != "CloudTrail" {
        return None;
    }
    let region = parts.next()?;
    let ts = parts.next()?;
    parts.next()?;
    let time = NaiveDateTime::parse_from_str(ts, "%Y%m%dT%H%MZ")
        .ok()?
        .and_utc();
    Some((account.into(), region.into(), time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let n = parse_digest_name(
            "111122223333_CloudTrail-Digest_us-east-2_my_trail_name_us-east-1_20150817T150131Z.json.gz",
        )
        .expect("digest name");
        assert_eq!(
            (n.region.as_str(), n.trail.as_str(), n.home_region.as_str()),
            ("us-east-2", "my_trail_name", "us-east-1")
        );
        assert_eq!(n.time.to_rfc3339(), "2015-08-17T15:01:31+00:00");
        assert!(!n.backfill);
        let b = parse_digest_name(
            "111122223333_CloudTrail-Digest_us-east-2_my_trail_name_us-east-1_20150817T150131Z_backfill.json.gz",
        )
        .expect("backfill digest name");
        assert_eq!(
            (b.trail.as_str(), b.home_region.as_str(), b.backfill),
            ("my_trail_name", "us-east-1", true)
        );
        assert_eq!(b.time, n.time);
        let (a, r, t) = parse_log_name(
            "111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz",
        )
        .expect("log name");
        assert_eq!((a.as_str(), r.as_str()), ("111122223333", "us-east-2"));
        assert_eq!(t.to_rfc3339(), "2015-08-17T14:45:00+00:00");
        assert!(parse_log_name("x_CloudTrail_us_2015.json.gz").is_none());
        assert!(parse_digest_name("a_CloudTrail-Digest_r_t_h_bad.json.gz").is_none());
    }

    #[test]
    fn keys() {
        assert_eq!(
            split_key("AWSLogs/1/x").expect("plain"),
            (String::new(), "AWSLogs/1/x".into())
        );
        assert_eq!(
            split_key("p/q/AWSLogs/1/x").expect("prefix"),
            ("p/q".into(), "AWSLogs/1/x".into())
        );
        assert!(split_key("AWSLogs/../../etc/passwd").is_err());
        assert!(split_key("/AWSLogs/1").is_err());
        assert!(split_key("nothing").is_err());
    }

    #[test]
    fn string_to_sign_matches_awscli_null_vector() {
        let want =
            include_str!("../../../../tests/fixtures/cloudtrail/string_to_sign_null_prev.txt");
        let sha = super::super::keys::hex_lower(&<sha2::Sha256 as sha2::Digest>::digest(b"abc"));
        assert_eq!(string_to_sign("a", "b", "c", &sha, None), want);
    }

    #[test]
    fn real_and_docs_digests_parse_and_elastic_style_short_hash_fails() {
        let real =
            include_bytes!("../../../../tests/fixtures/cloudtrail/llm_guard_real_digest.json");
        let d = Digest::parse(real).expect("real digest");
        assert_eq!(d.log_files.len(), 5);
        assert!(
            d.object
                .starts_with("AWSLogs/327878933619/CloudTrail-Digest/"),
            "escaped slashes decoded"
        );
        let p = d.previous.expect("previous");
        assert_eq!(p.signature_hex.len(), 512);
        let docs = include_str!("../../../../tests/fixtures/cloudtrail/docs_sample_digest.json");
        assert!(Digest::parse(docs.as_bytes()).is_ok());
        let short = docs.replace(
            "97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d",
            "97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2",
        );
        match Digest::parse(short.as_bytes()) {
            Err(ParseError::Malformed(m)) => assert!(m.contains("63 characters"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Digest::parse(b"{\"a\": "),
            Err(ParseError::NotJson(_))
        ));
        assert!(matches!(
            Digest::parse(b"[1]"),
            Err(ParseError::Malformed(_))
        ));
        // Too many log files is refused before the digest is read as a tree.
        let entry =
            r#"{"s3Bucket":"b","s3Object":"o","hashValue":"00","hashAlgorithm":"SHA-256"},"#;
        let at = docs.find("\"logFiles\"").expect("the sample has logFiles");
        let at = at + docs[at..].find('[').expect("its list") + 1;
        let many = format!(
            "{}{}{}",
            &docs[..at],
            entry.repeat(MAX_DIGEST_VALUES / 5),
            &docs[at..]
        );
        assert!(many.len() > docs.len(), "the sample has logFiles");
        match Digest::parse(many.as_bytes()) {
            Err(ParseError::Malformed(m)) => {
                assert!(m.contains("more than 200000 JSON values"), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }
}
