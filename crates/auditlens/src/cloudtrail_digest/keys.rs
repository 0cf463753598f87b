//! AWS CloudTrail public keys (`aws cloudtrail list-public-keys`) and SHA256withRSA verification.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use md5::Digest as _;
use rsa::PublicKey;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::pkcs8::DecodePublicKey as _;
use serde_json::Value;

use super::CloudTrailError;

/// One CloudTrail public key: the RSA key, its fingerprint and the window in which AWS signed with it.
#[derive(Debug, Clone)]
pub struct AwsPublicKey {
    /// Lowercase hex MD5 of [`AwsPublicKey::der`], as `Fingerprint` and `digestPublicKeyFingerprint` name it.
    pub fingerprint: String,
    /// Start of the validity window (`ValidityStartTime`).
    pub valid_from: DateTime<Utc>,
    /// End of the validity window (`ValidityEndTime`).
    pub valid_until: DateTime<Utc>,
    /// The DER bytes as AWS gave them (PKCS#1 `RSAPublicKey` or `SubjectPublicKeyInfo`).
    pub der: Vec<u8>,
    key: PublicKey,
}

impl AwsPublicKey {
    /// A key from its DER bytes (PKCS#1 `RSAPublicKey` or `SubjectPublicKeyInfo`) and validity window. The
    /// fingerprint is computed (MD5 of the DER).
    pub fn from_der(
        der: &[u8],
        valid_from: DateTime<Utc>,
        valid_until: DateTime<Utc>,
    ) -> Result<Self, CloudTrailError> {
        let key = parse_rsa_public_key_der(der).ok_or_else(|| CloudTrailError::Keys {
            reason: format!(
                "key {} is neither a PKCS#1 RSAPublicKey nor a SubjectPublicKeyInfo RSA key (DER)",
                key_fingerprint(der)
            ),
        })?;
        Ok(AwsPublicKey {
            fingerprint: key_fingerprint(der),
            valid_from,
            valid_until,
            der: der.to_vec(),
            key,
        })
    }

    /// Whether `time` lies inside the key's validity window (both ends included).
    pub fn is_valid_at(&self, time: DateTime<Utc>) -> bool {
        self.valid_from <= time && time <= self.valid_until
    }

    /// Verifies an RSASSA-PKCS1-v1_5 SHA-256 signature (`SHA256withRSA`) of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key
            .pkcs1v15_verify::<sha2::Sha256>(message, signature)
            .is_ok()
    }
}

/// The CloudTrail public keys an auditor supplies, by fingerprint.
#[derive(Debug, Clone, Default)]
pub struct AwsKeys {
    keys: Vec<AwsPublicKey>,
    /// The trust policy's grants of these keys per account and region (docs/trust-policy.md section 2.1); `None`:
    /// every key is trusted for every account and region.
    grants: Option<Vec<crate::trust::AwsGrant>>,
}

impl AwsKeys {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the JSON `aws cloudtrail list-public-keys` prints: `{"PublicKeyList": [{"Value": base64 DER,
    /// "ValidityStartTime", "ValidityEndTime", "Fingerprint"}]}`. Times may be epoch seconds (`"1436317441.0"`
    /// or a number) or ISO 8601 (`"2015-07-08T01:04:01Z"`). A key whose `Fingerprint` is not the MD5 of its
    /// DER bytes is refused: the whole file is rejected with an error naming it.
    pub fn from_json(json: &[u8]) -> Result<Self, CloudTrailError> {
        let mut keys = AwsKeys::new();
        keys.add_json(json)?;
        Ok(keys)
    }

    /// Adds the keys of another `list-public-keys` output (for example of another region), as [`Self::from_json`].
    pub fn add_json(&mut self, json: &[u8]) -> Result<(), CloudTrailError> {
        let err = |reason: String| CloudTrailError::Keys { reason };
        let value: Value =
            serde_json::from_slice(json).map_err(|e| err(format!("not JSON: {e}")))?;
        let list = value
            .get("PublicKeyList")
            .and_then(Value::as_array)
            .ok_or_else(|| err("no \"PublicKeyList\" array".into()))?;
        for (i, entry) in list.iter().enumerate() {
            let field = |name: &str| {
                entry
                    .get(name)
                    .ok_or_else(|| err(format!("PublicKeyList[{i}]: no \"{name}\"")))
            };
            let b64 = field("Value")?
                .as_str()
                .ok_or_else(|| err(format!("PublicKeyList[{i}].Value is not a string")))?;
            let der = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|e| err(format!("PublicKeyList[{i}].Value is not base64: {e}")))?;
            let from = parse_key_time(field("ValidityStartTime")?).ok_or_else(|| {
                err(format!(
                    "PublicKeyList[{i}].ValidityStartTime is not a time"
                ))
            })?;
            let until = parse_key_time(field("ValidityEndTime")?)
                .ok_or_else(|| err(format!("PublicKeyList[{i}].ValidityEndTime is not a time")))?;
            let given = field("Fingerprint")?
                .as_str()
                .ok_or_else(|| err(format!("PublicKeyList[{i}].Fingerprint is not a string")))?
                .to_ascii_lowercase();
            let key = AwsPublicKey::from_der(&der, from, until)
                .map_err(|e| err(format!("PublicKeyList[{i}]: {e}")))?;
            if key.fingerprint != given {
                return Err(err(format!(
                    "PublicKeyList[{i}]: Fingerprint {given} is not the MD5 of the key ({}); key refused",
                    key.fingerprint
                )));
            }
            self.add(key);
        }
        Ok(())
    }

    /// Adds one key (a key with the same fingerprint and window is not added twice).
    pub fn add(&mut self, key: AwsPublicKey) {
        let dup = self.keys.iter().any(|k| {
            k.fingerprint == key.fingerprint
                && k.valid_from == key.valid_from
                && k.valid_until == key.valid_until
        });
        if !dup {
            self.keys.push(key);
        }
    }

    /// Applies the trust policy's `aws-cloudtrail:` grants, when it has any: the keys are then trusted only where
    /// they say, and a digest verifies only when a grant covers its account, region, key fingerprint and
    /// `digestEndTime`. A policy without such grants leaves every key trusted everywhere.
    pub fn apply_policy(&mut self, policy: &crate::trust::TrustPolicy) {
        if !policy.aws_grants().is_empty() {
            self.grants = Some(policy.aws_grants().to_vec());
        }
    }

    /// Whether the key `fingerprint` may sign the digests of `account` and `region` ending at `end`: `Err` says why
    /// not, naming the grants of that key.
    pub(crate) fn trusted_for(
        &self,
        fingerprint: &str,
        account: &str,
        region: &str,
        end: DateTime<Utc>,
    ) -> Result<(), String> {
        let Some(grants) = &self.grants else {
            return Ok(());
        };
        let t = end.timestamp_micros();
        if grants
            .iter()
            .any(|g| g.covers(account, region, fingerprint, t))
        {
            return Ok(());
        }
        let of_key: Vec<String> = grants
            .iter()
            .filter(|g| g.fingerprint.eq_ignore_ascii_case(fingerprint))
            .map(|g| {
                let window = match (g.valid_after, g.valid_before) {
                    (None, None) => String::new(),
                    (a, b) => format!(
                        " from {} until {}",
                        a.map_or("any time".into(), crate::time::format_utc),
                        b.map_or("any time".into(), crate::time::format_utc)
                    ),
                };
                format!("{}/{}{window} ({})", g.account, g.region, g.source)
            })
            .collect();
        Err(if of_key.is_empty() {
            format!("the trust policy grants key {fingerprint} for no account and region")
        } else {
            format!(
                "the trust policy grants key {fingerprint} only for {}",
                of_key.join(", ")
            )
        })
    }

    /// The keys with this fingerprint (lowercase hex); AWS gives one, but a list may repeat it.
    pub fn by_fingerprint<'a>(
        &'a self,
        fingerprint: &'a str,
    ) -> impl Iterator<Item = &'a AwsPublicKey> + 'a {
        let fp = fingerprint.to_ascii_lowercase();
        self.keys.iter().filter(move |k| k.fingerprint == fp)
    }

    /// All keys.
    pub fn keys(&self) -> &[AwsPublicKey] {
        &self.keys
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// The AWS fingerprint of a public key: lowercase hex MD5 of its DER bytes.
pub fn key_fingerprint(der: &[u8]) -> String {
    hex_lower(&md5::Md5::digest(der))
}

/// Verifies a SHA256withRSA (RSASSA-PKCS1-v1_5, SHA-256) signature with an RSA public key in DER (PKCS#1 or
/// SPKI). `Err` if the key cannot be parsed; `Ok(false)` if the signature does not verify.
pub fn verify_sha256_with_rsa(
    public_key_der: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<bool, CloudTrailError> {
    let key = parse_rsa_public_key_der(public_key_der).ok_or_else(|| CloudTrailError::Keys {
        reason: "not an RSA public key in PKCS#1 or SubjectPublicKeyInfo DER".into(),
    })?;
    Ok(key
        .pkcs1v15_verify::<sha2::Sha256>(message, signature)
        .is_ok())
}

fn parse_rsa_public_key_der(der: &[u8]) -> Option<PublicKey> {
    PublicKey::from_pkcs1_der(der)
        .ok()
        .or_else(|| PublicKey::from_public_key_der(der).ok())
}

/// A key time: epoch seconds (string or number, fraction allowed) or RFC 3339.
fn parse_key_time(v: &Value) -> Option<DateTime<Utc>> {
    let s = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(&s) {
        return Some(t.with_timezone(&Utc));
    }
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
        digits.parse().ok()?
    };
    DateTime::from_timestamp(secs, nanos)
}

/// Lowercase hex of bytes (the crate's one encoder).
pub(crate) use crate::merkle::hex as hex_lower;

/// Decodes hex (either case); `None` if not hex or of odd length.
pub(crate) fn hex_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let nib = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    b.chunks(2)
        .map(|p| Some(nib(p[0])? << 4 | nib(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_sample_keys_parse_with_epoch_times_and_both_der_forms() {
        let json = include_bytes!(
            "../../../../tests/fixtures/cloudtrail/docs_list_public_keys_sample.json"
        );
        let keys = AwsKeys::from_json(json).expect("docs sample keys");
        assert_eq!(keys.len(), 3);
        let k = keys
            .by_fingerprint("31e8b5433410dfb61a9dc45cc65b22ff")
            .next()
            .expect("SPKI key");
        assert_eq!(k.valid_from.timestamp(), 1434589370);
        assert!(
            k.der.starts_with(&[0x30, 0x82, 0x01, 0x22]),
            "the SPKI form"
        );
    }

    #[test]
    fn fingerprint_mismatch_refuses_the_key() {
        let json =
            include_str!("../../../../tests/fixtures/cloudtrail/docs_list_public_keys_sample.json")
                .replace(
                    "8eba5db5bea9b640d1c96a77256fe7f2",
                    "8eba5db5bea9b640d1c96a77256fe7f3",
                );
        let err = AwsKeys::from_json(json.as_bytes()).expect_err("must refuse");
        assert!(
            err.to_string().contains("8eba5db5bea9b640d1c96a77256fe7f3"),
            "{err}"
        );
    }

    #[test]
    fn key_times_accept_epoch_and_iso() {
        let t = parse_key_time(&Value::String("1436317441.5".into())).expect("epoch");
        assert_eq!(
            (t.timestamp(), t.timestamp_subsec_millis()),
            (1436317441, 500)
        );
        let t = parse_key_time(&Value::String("2015-07-08T01:04:01Z".into())).expect("iso");
        assert_eq!(t.timestamp(), 1436317441);
        assert!(parse_key_time(&Value::String("-1".into())).is_none());
        assert!(parse_key_time(&Value::Null).is_none());
    }

    #[test]
    fn hex_round_trip_and_rejects() {
        assert_eq!(hex_decode("00fF10"), Some(vec![0, 255, 16]));
        assert_eq!(hex_lower(&[0, 255, 16]), "00ff10");
        assert_eq!(hex_decode("abc"), None);
        assert_eq!(hex_decode("zz"), None);
    }
}
