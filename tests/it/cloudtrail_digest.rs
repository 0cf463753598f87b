//! Offline verification of AWS CloudTrail exports (crates/auditlens/src/cloudtrail_digest, docs/cloudtrail.md).
//! A generator writes a realistic export (2 regions, 5 hourly digests each, one empty hour, the first digest with
//! null previous fields, escaped slashes as AWS writes them) signed with the fixed test key
//! (tests/fixtures/cloudtrail/test_signing_key.pk8.pem); each tamper case must fail for its own reason.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use auditlens::cloudtrail_digest::{
    self as ct, AwsKeys, ExportReport, ExternalSignatures, Failure, FailureKind,
    signing::DigestSigner,
};
use base64::Engine as _;
use chrono::{DateTime, Duration, TimeZone, Utc};
use flate2::{Compression, write::GzEncoder};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

pub(crate) const ACCOUNT: &str = "111122223333";
pub(crate) const BUCKET: &str = "audit-trail-bucket";
pub(crate) const TRAIL: &str = "org-audit";
const HOME: &str = "us-east-1";
pub(crate) const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];
pub(crate) const HOURS: usize = 5;
/// The hour (digest index) without events.
pub(crate) const EMPTY_HOUR: usize = 2;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cloudtrail")
        .join(rel)
}

fn signer() -> &'static DigestSigner {
    static S: OnceLock<DigestSigner> = OnceLock::new();
    S.get_or_init(|| {
        let pem = std::fs::read_to_string(fixture("test_signing_key.pk8.pem")).expect("test key");
        DigestSigner::from_pkcs8_pem(&pem).expect("PKCS#8 key")
    })
}

/// Signatures by message: the generator is deterministic, so unchanged digests are signed once for all cases
/// (RSA signing is slow in debug builds).
pub(crate) fn sign(message: &str) -> String {
    static CACHE: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(s) = cache.lock().expect("lock").get(message) {
        return s.clone();
    }
    let s = signer().sign_hex(message.as_bytes()).expect("sign");
    cache
        .lock()
        .expect("lock")
        .insert(message.to_string(), s.clone());
    s
}

fn pkcs1() -> Vec<u8> {
    signer().public_key_pkcs1_der().expect("pkcs1")
}
fn spki() -> Vec<u8> {
    signer().public_key_spki_der().expect("spki")
}
/// Region 0 digests name the PKCS#1 form's fingerprint, region 1 the SPKI form's.
fn fingerprint_for(region: usize) -> String {
    ct::key_fingerprint(&if region == 0 { pkcs1() } else { spki() })
}

/// `list-public-keys` JSON with both forms; `from`/`until` as ISO for the first and epoch seconds for the second.
pub(crate) fn keys_json(from: DateTime<Utc>, until: DateTime<Utc>) -> String {
    let b64 = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
    json!({"PublicKeyList": [
        {"Value": b64(&pkcs1()), "ValidityStartTime": from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
         "ValidityEndTime": until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "Fingerprint": ct::key_fingerprint(&pkcs1())},
        {"Value": b64(&spki()), "ValidityStartTime": format!("{}.0", from.timestamp()),
         "ValidityEndTime": format!("{}.0", until.timestamp()), "Fingerprint": ct::key_fingerprint(&spki())},
    ]})
    .to_string()
}

pub(crate) fn good_keys() -> AwsKeys {
    AwsKeys::from_json(keys_json(t0() - Duration::days(30), t0() + Duration::days(30)).as_bytes())
        .expect("keys")
}

pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 10, 9, 1, 31)
        .single()
        .expect("time")
}

pub(crate) fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

pub(crate) fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(data), &mut out)
        .expect("gunzip");
    out
}

pub(crate) fn sha_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn ts(t: DateTime<Utc>, fmt: &str) -> String {
    t.format(fmt).to_string()
}

/// A digest hook: (region, index, the digest JSON before it is signed).
type Hook<'a> = &'a dyn Fn(usize, usize, &mut Value);

/// One generated digest.
#[derive(Clone)]
pub(crate) struct GenDigest {
    pub(crate) rel: String,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) logs: Vec<String>,
}

pub(crate) struct Export {
    pub(crate) dir: tempfile::TempDir,
    /// [region][hour]
    pub(crate) digests: Vec<Vec<GenDigest>>,
}

impl Export {
    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }
    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }
    fn verify(&self) -> ExportReport {
        self.verify_with(&good_keys())
    }
    fn verify_with(&self, keys: &AwsKeys) -> ExportReport {
        ct::verify_export(self.root(), keys, &ExternalSignatures::new()).expect("verify_export")
    }
}

pub(crate) fn generate() -> Export {
    generate_with(&|_, _, _| {})
}

/// Writes the export: for each region, HOURS hourly digests (the first with null previous fields), 2 log files
/// per hour except EMPTY_HOUR, and a head.json for the newest digest. `hook` changes a digest before signing.
pub(crate) fn generate_with(hook: Hook<'_>) -> Export {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut all = Vec::new();
    for (r, region) in REGIONS.iter().enumerate() {
        let mut prev: Option<(String, String, String)> = None; // key, sha of inflated, signature
        let mut list = Vec::new();
        for h in 0..HOURS {
            let start = t0() + Duration::hours(h as i64);
            let end = start + Duration::hours(1);
            let day = ts(end, "%Y/%m/%d");
            let mut log_entries = Vec::new();
            let mut logs = Vec::new();
            if h != EMPTY_HOUR {
                for (n, minute) in [14, 42].iter().enumerate() {
                    let delivered = start + Duration::minutes(*minute);
                    let event_time = delivered - Duration::minutes(5);
                    let key = format!(
                        "AWSLogs/{ACCOUNT}/CloudTrail/{region}/{}/{ACCOUNT}_CloudTrail_{region}_{}_r{r}h{h}n{n}Xq7bT2.json.gz",
                        ts(delivered, "%Y/%m/%d"),
                        ts(delivered, "%Y%m%dT%H%MZ")
                    );
                    let content = json!({"Records": [{"eventVersion": "1.08", "eventTime": ts(event_time, "%Y-%m-%dT%H:%M:%SZ"),
                        "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": region,
                        "sourceIPAddress": "203.0.113.7", "userIdentity": {"type": "IAMUser", "userName": format!("user{h}{n}")}}]})
                    .to_string();
                    write(&dir.path().join(&key), &gz(content.as_bytes()));
                    log_entries.push(json!({"s3Bucket": BUCKET, "s3Object": key, "hashValue": sha_hex(content.as_bytes()),
                        "hashAlgorithm": "SHA-256", "newestEventTime": ts(event_time, "%Y-%m-%dT%H:%M:%SZ"),
                        "oldestEventTime": ts(event_time, "%Y-%m-%dT%H:%M:%SZ")}));
                    logs.push(key);
                }
            }
            let key = format!(
                "AWSLogs/{ACCOUNT}/CloudTrail-Digest/{region}/{day}/{ACCOUNT}_CloudTrail-Digest_{region}_{TRAIL}_{HOME}_{}.json.gz",
                ts(end, "%Y%m%dT%H%M%SZ")
            );
            let (pk, ph, ps) = match &prev {
                Some((k, h, s)) => (json!(k), json!(h), json!(s)),
                None => (Value::Null, Value::Null, Value::Null),
            };
            let mut v = json!({
                "awsAccountId": ACCOUNT,
                "digestStartTime": ts(start, "%Y-%m-%dT%H:%M:%SZ"),
                "digestEndTime": ts(end, "%Y-%m-%dT%H:%M:%SZ"),
                "digestS3Bucket": BUCKET,
                "digestS3Object": key,
                "digestPublicKeyFingerprint": fingerprint_for(r),
                "digestSignatureAlgorithm": "SHA256withRSA",
                "newestEventTime": if logs.is_empty() { Value::Null } else { json!(ts(end - Duration::minutes(20), "%Y-%m-%dT%H:%M:%SZ")) },
                "oldestEventTime": if logs.is_empty() { Value::Null } else { json!(ts(start + Duration::minutes(9), "%Y-%m-%dT%H:%M:%SZ")) },
                "previousDigestS3Bucket": if prev.is_some() { json!(BUCKET) } else { Value::Null },
                "previousDigestS3Object": pk,
                "previousDigestHashValue": ph,
                "previousDigestHashAlgorithm": if prev.is_some() { json!("SHA-256") } else { Value::Null },
                "previousDigestSignature": ps,
                "logFiles": log_entries,
            });
            hook(r, h, &mut v);
            // AWS escapes the slashes of the S3 keys; '/' appears only inside strings in JSON.
            let inflated = v.to_string().replace('/', "\\/");
            let end_raw = v["digestEndTime"].as_str().unwrap_or_default().to_string();
            let prev_sig = v["previousDigestSignature"].as_str().map(str::to_string);
            let object = v["digestS3Object"].as_str().unwrap_or_default().to_string();
            let sha = sha_hex(inflated.as_bytes());
            let signature = sign(&ct::string_to_sign(
                &end_raw,
                BUCKET,
                &object,
                &sha,
                prev_sig.as_deref(),
            ));
            write(&dir.path().join(&key), &gz(inflated.as_bytes()));
            if h == HOURS - 1 {
                let head = json!({"AcceptRanges": "bytes", "ContentType": "application/x-gzip", "ServerSideEncryption": "AES256",
                    "Metadata": {"signature": signature, "signature-algorithm": "SHA256withRSA"}});
                write(
                    &dir.path().join(format!("{key}.head.json")),
                    head.to_string().as_bytes(),
                );
            }
            list.push(GenDigest {
                rel: key.clone(),
                start,
                end,
                logs,
            });
            prev = Some((object, sha, signature));
        }
        all.push(list);
    }
    Export { dir, digests: all }
}

pub(crate) fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

/// The failures, and a readable dump for assertion messages.
fn failures(r: &ExportReport) -> Vec<Failure> {
    r.all_failures().cloned().collect()
}

fn dump(r: &ExportReport) -> String {
    ct::render_text(r).join("\n")
}

#[track_caller]
fn assert_has(r: &ExportReport, kind: FailureKind, file: &str) -> Failure {
    assert!(!r.verified, "must not verify:\n{}", dump(r));
    failures(r)
        .into_iter()
        .find(|f| f.kind == kind && f.file == file)
        .unwrap_or_else(|| panic!("no {kind:?} for {file}:\n{}", dump(r)))
}

#[track_caller]
fn assert_only(r: &ExportReport, kinds: &[(FailureKind, &str)]) {
    let got: Vec<(FailureKind, String)> =
        failures(r).into_iter().map(|f| (f.kind, f.file)).collect();
    let mut want: Vec<(FailureKind, String)> =
        kinds.iter().map(|(k, f)| (*k, f.to_string())).collect();
    let mut got_sorted = got.clone();
    got_sorted.sort_by_key(|x| format!("{x:?}"));
    want.sort_by_key(|x| format!("{x:?}"));
    assert_eq!(got_sorted, want, "\n{}", dump(r));
    assert!(!r.verified);
}

#[test]
fn valid_export_verifies() {
    let e = generate();
    assert!(ct::looks_like_export(e.root()));
    let r = e.verify();
    assert!(r.verified, "{}", dump(&r));
    assert_eq!(r.chains.len(), 2);
    for c in &r.chains {
        assert_eq!(
            (c.account.as_str(), c.trail.as_str(), c.home_region.as_str()),
            (ACCOUNT, TRAIL, HOME)
        );
        assert_eq!(
            (c.digests_found, c.digests_verified, c.digests_empty),
            (HOURS, HOURS, 1)
        );
        assert_eq!(
            (c.log_files_listed, c.log_files_verified),
            (2 * (HOURS - 1), 2 * (HOURS - 1))
        );
        assert_eq!(c.log_files_not_yet_covered, 0);
        assert!(c.starts_at_first_digest && c.earlier_digest_not_in_export.is_none());
        assert_eq!(
            c.first_digest_start.as_deref(),
            Some("2024-03-10T09:01:31Z")
        );
        assert_eq!(c.last_digest_end.as_deref(), Some("2024-03-10T14:01:31Z"));
        assert_eq!(c.hours_spanned, 5);
        assert!(c.failures.is_empty());
    }
    let regions: Vec<&str> = r.chains.iter().map(|c| c.region.as_str()).collect();
    assert!(regions.contains(&"eu-west-1") && regions.contains(&"us-east-1"));
    let json = serde_json::to_value(&r).expect("serialize");
    assert_eq!(json["verified"], true);
    assert_eq!(json["chains"][0]["digests_verified"], 5);
    assert_eq!(
        ct::render_text(&r).last().map(String::as_str),
        Some("VERIFIED: every digest and log file checked")
    );
    // The digests are written as AWS writes them: escaped slashes.
    let inflated = gunzip(&std::fs::read(e.path(&e.digests[0][1].rel)).expect("read"));
    assert!(String::from_utf8_lossy(&inflated).contains("AWSLogs\\/111122223333\\/CloudTrail\\/"));
    // A mapping file instead of the head.json files works as well.
    let mut sigs = ExternalSignatures::new();
    for list in &e.digests {
        let rel = &list[HOURS - 1].rel;
        let head = std::fs::read(e.path(&format!("{rel}.head.json"))).expect("head");
        let sig = ExternalSignatures::signature_from_head_object_json(rel, &head).expect("sig");
        std::fs::remove_file(e.path(&format!("{rel}.head.json"))).expect("rm");
        sigs.insert(rel, &sig);
    }
    let mapping = serde_json::to_string(&sigs_to_json(&e, &sigs)).expect("json");
    let r = ct::verify_export(
        e.root(),
        &good_keys(),
        &ExternalSignatures::from_mapping_json(mapping.as_bytes()).expect("mapping"),
    )
    .expect("verify");
    assert!(r.verified, "{}", dump(&r));
    // Without any: the newest digests cannot be verified.
    let r = e.verify();
    assert_has(
        &r,
        FailureKind::SignatureUnavailable,
        &e.digests[0][HOURS - 1].rel,
    );
}

fn sigs_to_json(e: &Export, sigs: &ExternalSignatures) -> Value {
    let mut m = serde_json::Map::new();
    for list in &e.digests {
        let rel = &list[HOURS - 1].rel;
        m.insert(rel.clone(), json!(sigs.get(rel).expect("sig")));
    }
    Value::Object(m)
}

#[test]
fn export_with_a_bucket_prefix_verifies_with_or_without_the_prefix_folders() {
    // The trail delivers under a prefix: every S3 key starts with team/prod/.
    let e = generate_with(&|_, _, v| {
        let s = v["digestS3Object"].as_str().unwrap_or_default().to_string();
        v["digestS3Object"] = json!(format!("team/prod/{s}"));
        if let Some(files) = v["logFiles"].as_array_mut() {
            for l in files {
                let s = l["s3Object"].as_str().unwrap_or_default().to_string();
                l["s3Object"] = json!(format!("team/prod/{s}"));
            }
        }
    });
    // `aws s3 sync s3://B/team/prod/AWSLogs/A/ ./export/AWSLogs/A/`: the prefix folders are not on disk.
    let r = e.verify();
    assert!(r.verified, "{}", dump(&r));
    // The whole bucket synced: the prefix folders are on disk.
    let prefixed = e.root().join("team/prod");
    std::fs::create_dir_all(&prefixed).expect("mkdir");
    std::fs::rename(e.path("AWSLogs"), prefixed.join("AWSLogs")).expect("mv");
    assert!(ct::looks_like_export(e.root()));
    let r = e.verify();
    assert!(r.verified, "{}", dump(&r));
    assert!(
        r.chains
            .iter()
            .all(|c| c.base == "team/prod" && c.log_files_verified == 8),
        "{}",
        dump(&r)
    );
    // Under another prefix than the one the digests name: moved.
    std::fs::rename(e.root().join("team/prod"), e.root().join("team/test")).expect("mv");
    let r = e.verify();
    assert!(
        failures(&r)
            .iter()
            .filter(|f| f.kind == FailureKind::DigestMoved)
            .count()
            == 10,
        "{}",
        dump(&r)
    );
}

#[test]
fn a_changed_byte_in_a_log_fails_its_hash() {
    let e = generate();
    let log = &e.digests[0][1].logs[0];
    let mut content = gunzip(&std::fs::read(e.path(log)).expect("read"));
    let at = content.iter().position(|&b| b == b'7').expect("a 7");
    content[at] = b'8';
    write(&e.path(log), &gz(&content));
    let f = assert_has(&e.verify(), FailureKind::LogHashMismatch, log);
    assert_eq!(f.found.as_deref(), Some(sha_hex(&content).as_str()));
    assert_only(&e.verify(), &[(FailureKind::LogHashMismatch, log)]);
    // A flipped byte of the compressed file breaks the gzip CRC or the deflate data.
    let mut raw = std::fs::read(e.path(log)).expect("read");
    let n = raw.len();
    raw[n - 5] ^= 0x40;
    write(&e.path(log), &raw);
    assert_only(&e.verify(), &[(FailureKind::LogNotGzip, log)]);
}

#[test]
fn a_changed_byte_in_a_digest_fails_its_signature_and_the_successor_link() {
    let e = generate();
    let d = &e.digests[0][1].rel;
    let mut content = gunzip(&std::fs::read(e.path(d)).expect("read"));
    let at = content
        .windows(9)
        .position(|w| w == b"hashValue")
        .expect("hashValue")
        + 12;
    content[at] = if content[at] == b'0' { b'1' } else { b'0' };
    write(&e.path(d), &gz(&content));
    let r = e.verify();
    // The changed byte is in the first log's hashValue, so that log no longer matches either.
    assert_only(
        &r,
        &[
            (FailureKind::DigestSignatureInvalid, d),
            (FailureKind::PreviousHashMismatch, &e.digests[0][2].rel),
            (FailureKind::LogHashMismatch, &e.digests[0][1].logs[0]),
        ],
    );
    // The logs of a digest that does not verify are not counted as verified.
    assert_eq!(
        r.chains.iter().map(|c| c.log_files_verified).sum::<usize>(),
        2 * 8 - 2
    );
}

#[test]
fn a_deleted_log_is_missing() {
    let e = generate();
    let log = &e.digests[1][3].logs[1];
    std::fs::remove_file(e.path(log)).expect("rm");
    assert_only(&e.verify(), &[(FailureKind::MissingLog, log)]);
}

#[test]
fn a_deleted_digest_is_missing_and_breaks_the_chain() {
    let e = generate();
    let gone = &e.digests[0][3].rel;
    std::fs::remove_file(e.path(gone)).expect("rm");
    let r = e.verify();
    let f = assert_has(&r, FailureKind::MissingDigest, gone);
    assert!(
        f.detail.contains("about 1 hourly digest(s) missing"),
        "{}",
        f.detail
    );
    assert!(
        f.detail.contains("2024-03-10T12:01:31Z") && f.detail.contains("2024-03-10T13:01:31Z"),
        "{}",
        f.detail
    );
    // Its predecessor's signature was in it; the logs it listed are now unlisted in a gap of the chain.
    let mut want = vec![
        (FailureKind::MissingDigest, gone.as_str()),
        (
            FailureKind::SignatureUnavailable,
            e.digests[0][2].rel.as_str(),
        ),
    ];
    for l in &e.digests[0][3].logs {
        want.push((FailureKind::LogNotListed, l));
    }
    assert_only(&r, &want);
}

#[test]
fn two_consecutive_deleted_digests_are_reported_as_a_gap() {
    let e = generate();
    for h in [2, 3] {
        std::fs::remove_file(e.path(&e.digests[1][h].rel)).expect("rm");
    }
    let r = e.verify();
    let newer = &e.digests[1][3].rel;
    let f = assert_has(&r, FailureKind::MissingDigest, newer);
    assert!(
        f.detail.contains("about 2 hourly digest(s) missing"),
        "{}",
        f.detail
    );
    let g = assert_has(&r, FailureKind::DigestGap, newer);
    assert!(
        g.detail.contains("about 1 more digest(s)") && g.detail.contains(&e.digests[1][1].rel),
        "{}",
        g.detail
    );
    let mut want = vec![
        (FailureKind::MissingDigest, newer.as_str()),
        (FailureKind::DigestGap, newer.as_str()),
        (
            FailureKind::SignatureUnavailable,
            e.digests[1][1].rel.as_str(),
        ),
    ];
    for l in &e.digests[1][3].logs {
        want.push((FailureKind::LogNotListed, l));
    }
    assert_only(&r, &want);
}

#[test]
fn a_moved_digest_is_reported_as_moved() {
    let e = generate();
    let d = &e.digests[0][1].rel;
    let to = d.replace("/2024/03/10/", "/2024/03/11/");
    write(&e.path(&to), &std::fs::read(e.path(d)).expect("read"));
    std::fs::remove_file(e.path(d)).expect("rm");
    let r = e.verify();
    let f = assert_has(&r, FailureKind::DigestMoved, &to);
    assert_eq!(f.expected.as_deref(), Some(d.as_str()));
    assert_only(&r, &[(FailureKind::DigestMoved, &to)]);
}

#[test]
fn a_wrong_previous_hash_is_caught_by_the_link_check_alone() {
    let e = generate_with(&|r, h, v| {
        if (r, h) == (0, 3) {
            v["previousDigestHashValue"] = json!("ab".repeat(32));
        }
    });
    let r = e.verify();
    let f = assert_has(&r, FailureKind::PreviousHashMismatch, &e.digests[0][3].rel);
    assert_eq!(f.expected.as_deref(), Some("ab".repeat(32).as_str()));
    assert_only(
        &r,
        &[(FailureKind::PreviousHashMismatch, &e.digests[0][3].rel)],
    );
}

#[test]
fn a_wrong_previous_signature_is_caught() {
    let e = generate_with(&|r, h, v| {
        if (r, h) == (1, 3) {
            // A real signature, of another digest.
            let other = sign("not the previous digest");
            v["previousDigestSignature"] = json!(other);
        }
    });
    assert_only(
        &e.verify(),
        &[(FailureKind::PreviousSignatureMismatch, &e.digests[1][3].rel)],
    );
}

#[test]
fn an_expired_or_not_yet_valid_key_fails_every_digest() {
    let e = generate();
    let expired = AwsKeys::from_json(
        keys_json(t0() - Duration::days(60), t0() - Duration::days(30)).as_bytes(),
    )
    .expect("keys");
    let r = e.verify_with(&expired);
    let want: Vec<(FailureKind, &str)> = e
        .digests
        .iter()
        .flatten()
        .map(|d| (FailureKind::PublicKeyNotValidAtTime, d.rel.as_str()))
        .collect();
    assert_only(&r, &want);
    let f = assert_has(
        &r,
        FailureKind::PublicKeyNotValidAtTime,
        &e.digests[0][0].rel,
    );
    assert!(
        f.detail.contains("expired") && f.detail.contains(&ct::key_fingerprint(&pkcs1())),
        "{}",
        f.detail
    );
    // Valid for the first two hours only: the later digests fail.
    let partial = AwsKeys::from_json(
        keys_json(t0() - Duration::days(1), t0() + Duration::minutes(150)).as_bytes(),
    )
    .expect("keys");
    let r = e.verify_with(&partial);
    assert_eq!(
        r.chains
            .iter()
            .map(|c| c.digests_verified)
            .collect::<Vec<_>>(),
        vec![2, 2],
        "{}",
        dump(&r)
    );
    let future = AwsKeys::from_json(
        keys_json(t0() + Duration::days(1), t0() + Duration::days(2)).as_bytes(),
    )
    .expect("keys");
    let f = assert_has(
        &e.verify_with(&future),
        FailureKind::PublicKeyNotValidAtTime,
        &e.digests[1][4].rel,
    );
    assert!(f.detail.contains("not yet valid"), "{}", f.detail);
}

#[test]
fn an_unknown_fingerprint_fails() {
    let e = generate_with(&|r, h, v| {
        if (r, h) == (0, 4) {
            v["digestPublicKeyFingerprint"] = json!("0123456789abcdef0123456789abcdef");
        }
    });
    let r = e.verify();
    let f = assert_has(&r, FailureKind::UnknownPublicKey, &e.digests[0][4].rel);
    assert_eq!(
        f.expected.as_deref(),
        Some("0123456789abcdef0123456789abcdef")
    );
    assert_only(&r, &[(FailureKind::UnknownPublicKey, &e.digests[0][4].rel)]);
    // No keys at all: every digest fails the same way.
    let r = e.verify_with(&AwsKeys::new());
    assert_eq!(failures(&r).len(), 10);
}

#[test]
fn an_appended_gzip_member_changes_the_content_and_fails() {
    let e = generate();
    let log = &e.digests[1][0].logs[0];
    let mut raw = std::fs::read(e.path(log)).expect("read");
    raw.extend(gz(b"{\"Records\":[{\"eventName\":\"DeleteTrail\"}]}"));
    write(&e.path(log), &raw);
    let r = e.verify();
    let f = assert_has(&r, FailureKind::LogHashMismatch, log);
    assert!(f.detail.contains("2 gzip member(s)"), "{}", f.detail);
    assert_only(&r, &[(FailureKind::LogHashMismatch, log)]);
}

#[test]
fn trailing_garbage_after_a_log_member_fails() {
    let e = generate();
    let log = &e.digests[0][4].logs[1];
    let mut raw = std::fs::read(e.path(log)).expect("read");
    raw.extend_from_slice(b"\n{\"Records\":[]}\n");
    write(&e.path(log), &raw);
    let r = e.verify();
    let f = assert_has(&r, FailureKind::LogTrailingBytes, log);
    assert!(
        f.detail.contains("trailing bytes after the gzip member(s)"),
        "{}",
        f.detail
    );
    assert_only(&r, &[(FailureKind::LogTrailingBytes, log)]);
}

pub(crate) fn extra_log(e: &Export, region: usize, at: DateTime<Utc>) -> String {
    let reg = REGIONS[region];
    let rel = format!(
        "AWSLogs/{ACCOUNT}/CloudTrail/{reg}/{}/{ACCOUNT}_CloudTrail_{reg}_{}_EXTRAextra000001.json.gz",
        ts(at, "%Y/%m/%d"),
        ts(at, "%Y%m%dT%H%MZ")
    );
    write(
        &e.path(&rel),
        &gz(b"{\"Records\":[{\"eventName\":\"ConsoleLogin\"}]}"),
    );
    rel
}

/// Adds a backfill digest for `region` (AWS's `..._backfill.json.gz`: log files an hour's digest missed through
/// processing delays, in a chain of their own) for the window of its digest `hour`, listing the log file `log_rel`
/// (already written), signed like AWS's, with its head.json (signature and `backfill-generation-timestamp`).
/// Returns its path.
pub(crate) fn backfill(e: &Export, region: usize, hour: usize, log_rel: &str) -> String {
    let reg = REGIONS[region];
    let d = &e.digests[region][hour];
    let key = format!(
        "AWSLogs/{ACCOUNT}/CloudTrail-Digest/{reg}/{}/{ACCOUNT}_CloudTrail-Digest_{reg}_{TRAIL}_{HOME}_{}_backfill.json.gz",
        ts(d.end, "%Y/%m/%d"),
        ts(d.end, "%Y%m%dT%H%M%SZ")
    );
    let content = gunzip(&std::fs::read(e.path(log_rel)).expect("log"));
    let v = json!({
        "awsAccountId": ACCOUNT,
        "digestStartTime": ts(d.start, "%Y-%m-%dT%H:%M:%SZ"),
        "digestEndTime": ts(d.end, "%Y-%m-%dT%H:%M:%SZ"),
        "digestS3Bucket": BUCKET,
        "digestS3Object": key,
        "digestPublicKeyFingerprint": fingerprint_for(region),
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": null,
        "oldestEventTime": null,
        "previousDigestS3Bucket": null,
        "previousDigestS3Object": null,
        "previousDigestHashValue": null,
        "previousDigestHashAlgorithm": null,
        "previousDigestSignature": null,
        "logFiles": [{"s3Bucket": BUCKET, "s3Object": log_rel, "hashValue": sha_hex(&content), "hashAlgorithm": "SHA-256"}],
    });
    let inflated = v.to_string().replace('/', "\\/");
    let signature = sign(&ct::string_to_sign(
        &ts(d.end, "%Y-%m-%dT%H:%M:%SZ"),
        BUCKET,
        &key,
        &sha_hex(inflated.as_bytes()),
        None,
    ));
    write(&e.path(&key), &gz(inflated.as_bytes()));
    let head = json!({"Metadata": {"signature": signature, "signature-algorithm": "SHA256withRSA",
        "backfill-generation-timestamp": ts(d.end + Duration::hours(3), "%Y-%m-%dT%H:%M:%SZ")}});
    write(
        &e.path(&format!("{key}.head.json")),
        head.to_string().as_bytes(),
    );
    key
}

#[test]
fn a_backfill_digest_covers_a_log_file_its_hour_missed_and_is_checked_like_any_digest() {
    let e = generate();
    let rel = extra_log(&e, 0, e.digests[0][1].start + Duration::minutes(30));
    assert_only(&e.verify(), &[(FailureKind::LogNotListed, &rel)]);
    let b = backfill(&e, 0, 1, &rel);
    let r = e.verify();
    assert!(r.verified, "{}", dump(&r));
    let c = r
        .chains
        .iter()
        .find(|c| c.backfill)
        .expect("a backfill chain");
    assert_eq!(
        (c.region.as_str(), c.digests_verified, c.log_files_verified),
        (REGIONS[0], 1, 1)
    );
    // The hourly chain is unchanged, and says nothing of the backfill digest.
    let hourly = r
        .chains
        .iter()
        .find(|c| !c.backfill && c.region == REGIONS[0])
        .expect("chain");
    assert_eq!(hourly.digests_verified, HOURS);
    assert!(
        ct::render_text(&r)
            .iter()
            .any(|l| l.starts_with("backfill digests of trail org-audit")),
        "{:?}",
        ct::render_text(&r)
    );
    // AWS's validator accepts it too.
    let head = std::fs::read(e.path(&format!("{b}.head.json"))).expect("head");
    let sig = ExternalSignatures::signature_from_head_object_json(&b, &head).expect("sig");
    let item = |path: PathBuf| {
        json!({"bucket": BUCKET, "key": b, "path": path, "signature": sig,
        "public_key": base64::engine::general_purpose::STANDARD.encode(pkcs1())})
    };
    if let Some(theirs) = awscli(&[item(e.path(&b))]) {
        assert_eq!(theirs.get(&b), Some(&true));
    }
    // One byte of it changed: its signature fails, in both validators, and the log file is no longer covered.
    let mut c = gunzip(&std::fs::read(e.path(&b)).expect("read"));
    let at = c
        .windows(9)
        .position(|w| w == b"hashValue")
        .expect("hashValue")
        + 12;
    c[at] = if c[at] == b'0' { b'1' } else { b'0' };
    write(&e.path(&b), &gz(&c));
    let r = e.verify();
    assert_has(&r, FailureKind::DigestSignatureInvalid, &b);
    if let Some(theirs) = awscli(&[item(e.path(&b))]) {
        assert_eq!(theirs.get(&b), Some(&false));
    }
}

/// AWS's own validator on these digests (tests/independent/cloudtrail_awscli.py); `None` when python3 cannot
/// import awscli outside CI (`make deps` installs it; under CI its absence fails).
fn awscli(items: &[Value]) -> Option<HashMap<String, bool>> {
    let importable = std::process::Command::new("python3")
        .args(["-c", "import awscli.customizations.cloudtrail.validation"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !importable {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 cannot import awscli: `make deps` installs it"
        );
        return None;
    }
    let mut child = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/cloudtrail_awscli.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(Value::Array(items.to_vec()).to_string().as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    Some(serde_json::from_slice(&out.stdout).expect("awscli output"))
}

#[test]
fn an_extra_log_inside_a_covered_hour_is_not_listed() {
    let e = generate();
    let rel = extra_log(&e, 0, e.digests[0][2].start + Duration::minutes(30));
    assert_only(&e.verify(), &[(FailureKind::LogNotListed, &rel)]);
}

#[test]
fn a_log_newer_than_the_newest_digest_is_not_yet_covered() {
    let e = generate();
    extra_log(&e, 1, e.digests[1][HOURS - 1].end + Duration::minutes(3));
    let r = e.verify();
    assert!(r.verified, "{}", dump(&r));
    let c = r
        .chains
        .iter()
        .find(|c| c.region == REGIONS[1])
        .expect("chain");
    assert_eq!((c.log_files_not_yet_covered, c.log_files_verified), (1, 8));
    // The verdict does not say "every log file": the one outside the digests' hours is named as not verified.
    let last = ct::render_text(&r).pop().expect("a verdict");
    assert_eq!(
        last,
        "VERIFIED: every digest and every log file they list; 1 log file(s) outside every digest's hours NOT verified"
    );
}

#[test]
fn malformed_digests_fail_precisely() {
    // Not JSON.
    let e = generate();
    let d = &e.digests[0][2].rel;
    write(&e.path(d), &gz(b"{\"awsAccountId\": \"111122223333\", "));
    let r = e.verify();
    let f = assert_has(&r, FailureKind::DigestNotJson, d);
    assert!(f.detail.contains(d.as_str()), "{}", f.detail);
    // Not gzip.
    write(&e.path(d), b"{\"awsAccountId\": \"111122223333\"}");
    assert_has(&e.verify(), FailureKind::DigestNotGzip, d);
    // Garbage bytes and an empty file.
    write(&e.path(d), &[0x1f, 0x8b, 8, 0, 0xff, 0xff, 0xff]);
    assert_has(&e.verify(), FailureKind::DigestNotGzip, d);
    write(&e.path(d), b"");
    assert_has(&e.verify(), FailureKind::DigestNotGzip, d);
    // A missing field.
    write(
        &e.path(d),
        &gz(br#"{"awsAccountId": "111122223333", "digestStartTime": "2024-03-10T11:01:31Z"}"#),
    );
    let f = assert_has(&e.verify(), FailureKind::DigestMalformed, d);
    assert!(
        f.detail.contains("missing field \"digestEndTime\""),
        "{}",
        f.detail
    );
    // A 63-hex previousDigestHashValue (as in the elastic fixture), correctly signed.
    let e = generate_with(&|r, h, v| {
        if (r, h) == (1, 1) {
            let s = v["previousDigestHashValue"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            v["previousDigestHashValue"] = json!(s[..63].to_string());
        }
    });
    let f = assert_has(
        &e.verify(),
        FailureKind::DigestMalformed,
        &e.digests[1][1].rel,
    );
    assert!(f.detail.contains("63 characters"), "{}", f.detail);
    // A bad log hash in one entry: that entry is refused, the rest is checked.
    let e = generate_with(&|r, h, v| {
        if (r, h) == (0, 0) {
            v["logFiles"][0]["hashValue"] = json!("zz".repeat(32));
        }
    });
    let r = e.verify();
    let f = assert_has(&r, FailureKind::DigestMalformed, &e.digests[0][0].rel);
    assert!(
        f.detail.contains("logFiles[0]") && f.detail.contains("not hex"),
        "{}",
        f.detail
    );
}

#[test]
fn hostile_json_and_keys_never_panic() {
    let e = generate();
    let d = &e.digests[0][1].rel;
    for body in [
        &br#"{"awsAccountId": 5}"#[..],
        br#"[]"#,
        br#"null"#,
        br#"{"awsAccountId":"1","digestStartTime":"x","digestEndTime":"y"}"#,
        &[0xff, 0xfe, 0x00][..],
    ] {
        write(&e.path(d), &gz(body));
        let r = e.verify();
        assert!(!r.verified);
    }
    assert!(AwsKeys::from_json(b"{}").is_err());
    assert!(AwsKeys::from_json(br#"{"PublicKeyList":[{"Value":"!!","ValidityStartTime":"1","ValidityEndTime":"2","Fingerprint":"x"}]}"#).is_err());
    assert!(ExternalSignatures::from_mapping_json(b"[1]").is_err());
    assert!(!ct::looks_like_export(
        tempfile::tempdir().expect("tmp").path()
    ));
}

#[test]
fn real_aws_lake_signature_known_answer() {
    // A real AWS SHA256withRSA signature (CloudTrail Lake query results): the same RSA scheme, over the file
    // hashes joined by spaces (tests/fixtures/cloudtrail/SOURCE.md).
    let dir = fixture("aws_lake_vector");
    let sign_json: Value =
        serde_json::from_slice(&std::fs::read(dir.join("result_sign.json")).expect("read"))
            .expect("json");
    let der = std::fs::read(dir.join("verifying_public_key_pkcs1.der")).expect("der");
    let hashes: Vec<&str> = sign_json["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["fileHashValue"].as_str().expect("hash"))
        .collect();
    assert_eq!(
        sha_hex(&std::fs::read(dir.join("result_1.csv.gz")).expect("csv")),
        hashes[0]
    );
    let message = hashes.join(" ");
    let sig_hex = sign_json["hashSignature"].as_str().expect("sig");
    let sig: Vec<u8> = (0..sig_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&sig_hex[i..i + 2], 16).expect("hex"))
        .collect();
    assert!(ct::verify_sha256_with_rsa(&der, message.as_bytes(), &sig).expect("key"));
    assert!(
        !ct::verify_sha256_with_rsa(&der, format!("{message} ").as_bytes(), &sig).expect("key")
    );
    let mut bad = sig.clone();
    bad[100] ^= 1;
    assert!(!ct::verify_sha256_with_rsa(&der, message.as_bytes(), &bad).expect("key"));
    // The same key in an AwsKeys entry (fingerprint computed from the DER).
    let key = ct::AwsPublicKey::from_der(&der, t0(), t0()).expect("key");
    assert!(key.verify(message.as_bytes(), &sig));
}

/// AWS's own validator (tests/independent/cloudtrail_awscli.py, pip package `awscli`) accepts exactly the digests
/// ours verifies, on the valid export and the digest-level tamper cases.
#[test]
fn awscli_validator_agrees_digest_by_digest() {
    let cases: Vec<(&str, Export)> = vec![
        ("valid", generate()),
        (
            "wrong previous signature",
            generate_with(&|r, h, v| {
                if (r, h) == (0, 2) {
                    v["previousDigestSignature"] = json!(sign("other"));
                }
            }),
        ),
        ("changed digest byte", {
            let e = generate();
            let d = e.path(&e.digests[1][3].rel);
            let mut c = gunzip(&std::fs::read(&d).expect("read"));
            let at = c
                .windows(9)
                .position(|w| w == b"hashValue")
                .expect("hashValue")
                + 12;
            c[at] = if c[at] == b'0' { b'1' } else { b'0' };
            write(&d, &gz(&c));
            e
        }),
    ];
    let b64 = base64::engine::general_purpose::STANDARD.encode(pkcs1());
    for (name, e) in cases {
        let r = e.verify();
        let mut items = Vec::new();
        let mut ours = HashMap::new();
        for list in &e.digests {
            for (h, d) in list.iter().enumerate() {
                // The signature AWS would hold in S3 metadata: from the successor or the head.json.
                let sig = if h + 1 < list.len() {
                    let next: Value = serde_json::from_slice(&gunzip(
                        &std::fs::read(e.path(&list[h + 1].rel)).expect("read"),
                    ))
                    .expect("json");
                    next["previousDigestSignature"]
                        .as_str()
                        .expect("sig")
                        .to_string()
                } else {
                    let head =
                        std::fs::read(e.path(&format!("{}.head.json", d.rel))).expect("head");
                    ExternalSignatures::signature_from_head_object_json(&d.rel, &head).expect("sig")
                };
                items.push(json!({"bucket": BUCKET, "key": d.rel, "path": e.path(&d.rel), "signature": sig, "public_key": b64}));
                let bad = failures(&r).iter().any(|f| {
                    f.file == d.rel && matches!(f.kind, FailureKind::DigestSignatureInvalid)
                        || f.kind == FailureKind::PreviousSignatureMismatch
                            && h + 1 < list.len()
                            && f.file == list[h + 1].rel
                });
                ours.insert(d.rel.clone(), !bad);
            }
        }
        let Some(theirs) = awscli(&items) else {
            eprintln!(
                "SKIPPED awscli_validator_agrees_digest_by_digest: python3 cannot import awscli (pip install awscli)"
            );
            return;
        };
        assert_eq!(theirs, ours, "case {name}:\n{}", dump(&r));
        if name == "valid" {
            assert!(theirs.values().all(|v| *v));
        } else {
            assert_eq!(theirs.values().filter(|v| !**v).count(), 1, "case {name}");
        }
    }
}

/// `auditlens verify` with these arguments: exit code, stdout, stderr.
fn cli_verify(args: &[&std::ffi::OsStr]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditlens"))
        .arg("verify")
        .args(args)
        .output()
        .expect("run auditlens");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_verify_command_checks_an_export_folder_with_the_aws_keys_given() {
    let e = generate();
    let keys = e.root().join("keys.json");
    write(
        &keys,
        keys_json(t0() - Duration::days(30), t0() + Duration::days(30)).as_bytes(),
    );
    let root = e.root().as_os_str();
    let with_keys = |extra: &[&std::ffi::OsStr]| {
        let mut a: Vec<&std::ffi::OsStr> = vec!["--aws-keys".as_ref(), keys.as_os_str()];
        a.extend_from_slice(extra);
        a.push(root);
        cli_verify(&a)
    };
    let (code, out, err) = with_keys(&[]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains(&format!("trail {TRAIL} account {ACCOUNT} region eu-west-1")),
        "{out}"
    );
    assert!(
        out.contains(&format!("digests: {HOURS} found, {HOURS} verified")),
        "{out}"
    );
    assert!(
        out.trim_end()
            .ends_with("VERIFIED: every digest and log file checked"),
        "{out}"
    );
    // JSON: one document with the export's report.
    let (code, out, _) = with_keys(&["--json".as_ref()]);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["ok"], json!(true));
    assert_eq!(v["archives"], Value::Null);
    assert_eq!(v["cloudtrail"][0]["verified"], json!(true));
    assert_eq!(
        v["cloudtrail"][0]["chains"].as_array().map(Vec::len),
        Some(2)
    );
    // Without the keys: a usage error that says what to give.
    let (code, _, err) = cli_verify(&[root]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--aws-keys"), "{err}");
    // A changed log: exit 1, the file named with the expected and found hashes.
    let log = &e.digests[1][3].logs[0];
    let mut content = gunzip(&std::fs::read(e.path(log)).expect("read"));
    content.extend_from_slice(b"\n{\"eventName\":\"DeleteTrail\"}");
    write(&e.path(log), &gz(&content));
    let (code, out, _) = with_keys(&[]);
    assert_eq!(code, Some(1), "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("FAIL log_hash_mismatch"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains(log.as_str()), "{line}");
    assert!(
        line.contains(&format!("found {}", sha_hex(&content))),
        "{line}"
    );
    assert!(
        out.trim_end().ends_with("NOT VERIFIED: 1 failure(s)"),
        "{out}"
    );
}

#[test]
fn the_verify_command_escapes_names_from_the_export() {
    let e = generate();
    let keys = e.root().join("keys.json");
    write(
        &keys,
        keys_json(t0() - Duration::days(30), t0() + Duration::days(30)).as_bytes(),
    );
    // A log file no digest lists, named with a terminal escape, in an hour the digests cover.
    let listed = &e.digests[0][1].logs[0];
    let dir = e.path(listed).parent().expect("dir").to_path_buf();
    let hostile = dir.join(format!(
        "{ACCOUNT}_CloudTrail_us-east-1_{}_x\u{1b}]0;pwned\u{7}.json.gz",
        e.digests[0][1].start.format("%Y%m%dT%H%MZ")
    ));
    write(&hostile, &gz(b"{\"Records\":[]}"));
    let (code, out, err) = cli_verify(&[
        "--aws-keys".as_ref(),
        keys.as_os_str(),
        e.root().as_os_str(),
    ]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{7}'),
        "raw control characters reached the terminal: {out:?}"
    );
    let line = out
        .lines()
        .find(|l| l.contains("FAIL log_not_listed"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("_x\\u{1b}]0;pwned\\u{7}.json.gz"), "{line}");
}

/// Every file under `root` into a ZIP at `out` (entry names relative to `root`, `/`-separated).
fn zip_folder(root: &Path, out: &Path) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(out).expect("create zip"));
    let opts = zip::write::SimpleFileOptions::default();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .is_some_and(|x| x != "zip" && x != "tar" && x != "tgz")
            {
                let name = p
                    .strip_prefix(root)
                    .expect("inside")
                    .to_string_lossy()
                    .replace('\\', "/");
                w.start_file(name, opts).expect("start");
                w.write_all(&std::fs::read(&p).expect("read"))
                    .expect("write");
            }
        }
    }
    w.finish().expect("finish");
}

#[test]
fn the_verify_command_checks_a_zip_or_tar_of_an_export() {
    let e = generate();
    let keys = e.root().join("keys.json");
    write(
        &keys,
        keys_json(t0() - Duration::days(30), t0() + Duration::days(30)).as_bytes(),
    );
    let packed = tempfile::tempdir().expect("tempdir");
    let zip = packed.path().join("export.zip");
    zip_folder(e.root(), &zip);
    assert_eq!(ct::packed_export(&zip), Some(ct::Packed::Zip));
    let tar = packed.path().join("export.tar");
    let tgz = packed.path().join("export.tgz");
    for (out, flag) in [(&tar, "-cf"), (&tgz, "-czf")] {
        let ok = std::process::Command::new("tar")
            .arg("-C")
            .arg(e.root())
            .arg(flag)
            .arg(out)
            .arg("AWSLogs")
            .status()
            .expect("tar");
        assert!(ok.success());
    }
    assert_eq!(ct::packed_export(&tar), Some(ct::Packed::Tar));
    assert_eq!(ct::packed_export(&tgz), Some(ct::Packed::TarGz));
    for p in [&zip, &tar, &tgz] {
        let (code, out, err) =
            cli_verify(&["--aws-keys".as_ref(), keys.as_os_str(), p.as_os_str()]);
        assert_eq!(code, Some(0), "{}: {out}{err}", p.display());
        assert!(
            out.contains(&format!("digests: {HOURS} found, {HOURS} verified")),
            "{out}"
        );
        assert!(
            out.trim_end()
                .ends_with("VERIFIED: every digest and log file checked"),
            "{out}"
        );
    }
    // A log changed before packing: the same failure as in the folder.
    let log = &e.digests[0][3].logs[1];
    let mut content = gunzip(&std::fs::read(e.path(log)).expect("read"));
    content.push(b' ');
    write(&e.path(log), &gz(&content));
    let zip2 = packed.path().join("tampered.zip");
    zip_folder(e.root(), &zip2);
    let (code, out, _) = cli_verify(&["--aws-keys".as_ref(), keys.as_os_str(), zip2.as_os_str()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(&format!("FAIL log_hash_mismatch {log}")),
        "{out}"
    );
    // An AuditLens archive (a ZIP without AWSLogs/.../CloudTrail-Digest/) is not taken for an export.
    let other = packed.path().join("other.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&other).expect("create"));
    w.start_file("manifest.json", zip::write::SimpleFileOptions::default())
        .expect("start");
    w.write_all(b"{}").expect("write");
    w.finish().expect("finish");
    assert_eq!(ct::packed_export(&other), None);
}

/// A gzip of a tar is read to tell whether it is a CloudTrail export: no further than unpacking it would inflate
/// it (20 times its size and 64 MiB), so a small file of a thousand bytes out per byte in is not read through; it
/// is then refused as an archive bomb.
#[test]
fn a_tar_gz_is_read_to_tell_an_export_within_the_unpacking_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tar_gz = |name: &str, entry: &str, size: &str| {
        let src = dir.path().join(format!("{name}.src"));
        std::fs::create_dir_all(&src).expect("mkdir");
        let file = std::fs::File::create(src.join(entry)).expect("create");
        let bytes: u64 = size.parse().expect("size");
        file.set_len(bytes).expect("zeros");
        let out = dir.path().join(format!("{name}.tar.gz"));
        let ok = std::process::Command::new("tar")
            .arg("-C")
            .arg(&src)
            .arg("-czf")
            .arg(&out)
            .arg(entry)
            .status()
            .expect("run tar");
        assert!(ok.success());
        out
    };
    // 100 MiB of zeros in a tar, gzipped to about 100 KiB: no digest folder, but more than the budget.
    let bomb = tar_gz("bomb", "x", "104857600");
    assert!(std::fs::metadata(&bomb).expect("size").len() < 1 << 20);
    assert_eq!(ct::packed_export(&bomb), Some(ct::Packed::TarGz));
    let keys = dir.path().join("keys.json");
    write(
        &keys,
        keys_json(t0() - Duration::days(30), t0() + Duration::days(30)).as_bytes(),
    );
    let (code, out, err) = cli_verify(&["--aws-keys".as_ref(), keys.as_os_str(), bomb.as_os_str()]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(err.contains("archive bomb"), "{err}");
    // A small tar.gz without the digest folder is still not an export.
    let small = tar_gz("small", "notes.txt", "1000");
    assert_eq!(ct::packed_export(&small), None);
}

#[test]
fn a_packed_export_that_escapes_its_folder_links_out_or_explodes_is_refused() {
    let keys_dir = tempfile::tempdir().expect("tempdir");
    let keys = keys_dir.path().join("keys.json");
    write(
        &keys,
        keys_json(t0() - Duration::days(30), t0() + Duration::days(30)).as_bytes(),
    );
    let digest_dir = format!("AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/2024/03/10/");
    let opts = zip::write::SimpleFileOptions::default();
    let refused = |path: &Path, why: &str| {
        let (code, out, err) =
            cli_verify(&["--aws-keys".as_ref(), keys.as_os_str(), path.as_os_str()]);
        assert_eq!(code, Some(2), "{}: {out}{err}", path.display());
        assert!(err.contains(why), "{}: {err}", path.display());
    };
    // Zip slip.
    let slip = keys_dir.path().join("slip.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&slip).expect("create"));
    w.add_directory(digest_dir.as_str(), opts).expect("dir");
    w.start_file("../../evil.json.gz", opts).expect("start");
    w.write_all(b"x").expect("write");
    w.finish().expect("finish");
    refused(&slip, "leaves the export's folder");
    assert!(
        !keys_dir
            .path()
            .parent()
            .expect("parent")
            .join("evil.json.gz")
            .exists()
    );
    // A bomb: 100 MiB of zeros deflated to a few hundred KiB.
    let bomb = keys_dir.path().join("bomb.zip");
    let mut w = zip::ZipWriter::new(std::fs::File::create(&bomb).expect("create"));
    w.add_directory(digest_dir.as_str(), opts).expect("dir");
    w.start_file(
        format!("AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2024/03/10/zeros.json.gz"),
        opts.compression_method(zip::CompressionMethod::Deflated),
    )
    .expect("start");
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..100 {
        w.write_all(&zeros).expect("write");
    }
    w.finish().expect("finish");
    assert!(std::fs::metadata(&bomb).expect("size").len() < 2 << 20);
    refused(&bomb, "archive bomb");
    // A symbolic link in a tar.
    let src = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(src.path().join(&digest_dir)).expect("mkdir");
    std::os::unix::fs::symlink(
        "/etc/passwd",
        src.path().join(&digest_dir).join("link.json.gz"),
    )
    .expect("symlink");
    let tar = keys_dir.path().join("link.tar");
    let ok = std::process::Command::new("tar")
        .arg("-C")
        .arg(src.path())
        .arg("-cf")
        .arg(&tar)
        .arg("AWSLogs")
        .status()
        .expect("tar");
    assert!(ok.success());
    refused(&tar, "Symlink");
}

#[test]
fn an_export_of_another_account_fails_once_the_audited_accounts_are_pinned() {
    let e = generate();
    let keys = e.root().join("keys.json");
    write(
        &keys,
        keys_json(t0() - Duration::days(30), t0() + Duration::days(30)).as_bytes(),
    );
    let run = |accounts: &[&str]| {
        let mut a: Vec<&std::ffi::OsStr> = vec!["--aws-keys".as_ref(), keys.as_os_str()];
        for acct in accounts {
            a.push("--aws-account".as_ref());
            a.push(acct.as_ref());
        }
        a.push(e.root().as_os_str());
        cli_verify(&a)
    };
    // Not pinned: verified, and the report says any account would have been.
    let (code, out, _) = run(&[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!("note: account {ACCOUNT} is not pinned")),
        "{out}"
    );
    // The audited account (among others): verified, no note.
    let (code, out, _) = run(&["999988887777", ACCOUNT]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("is not pinned"), "{out}");
    // Another account: every chain fails, naming the account found and the ones expected.
    let (code, out, _) = run(&["999988887777"]);
    assert_eq!(code, Some(1), "{out}");
    let fails: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("FAIL account_not_expected"))
        .collect();
    assert_eq!(fails.len(), REGIONS.len(), "{out}");
    assert!(
        fails[0].contains(&format!("(expected 999988887777, found {ACCOUNT})")),
        "{}",
        fails[0]
    );
    // A malformed account is a usage error, and pinning with no export is one too.
    let (code, _, err) = run(&["12345"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("an AWS account is 12 digits"), "{err}");
    let (code, _, err) =
        cli_verify(&["--aws-account".as_ref(), ACCOUNT.as_ref(), keys.as_os_str()]);
    assert_eq!(code, Some(2), "{err}");
    // The library: the same, and the report says whether accounts were pinned.
    let mut r = e.verify();
    assert!(!r.accounts_pinned && r.verified);
    r.require_accounts(&[ACCOUNT.to_owned()]);
    assert!(r.accounts_pinned && r.verified);
    r.require_accounts(&["999988887777".to_owned()]);
    assert!(!r.verified);
    assert_has(
        &r,
        FailureKind::AccountNotExpected,
        &format!("AWSLogs/{ACCOUNT}"),
    );
}

/// `good_keys()` trusted only where the trust-policy `text` says (docs/trust-policy.md section 2.1).
fn keys_under(text: &str) -> AwsKeys {
    let policy = auditlens::trust::TrustPolicy::parse(text, "policy").expect("policy");
    let mut keys = good_keys();
    keys.apply_policy(&policy);
    keys
}

#[test]
fn the_trust_policy_grants_aws_keys_per_account_region_and_window() {
    let e = generate();
    let (fp0, fp1) = (fingerprint_for(0), fingerprint_for(1));
    // Each region's key granted for exactly its account and region, and wildcards: the export verifies.
    for text in [
        format!(
            "aws-cloudtrail:{ACCOUNT}/us-east-1 {fp0}\naws-cloudtrail:{ACCOUNT}/eu-west-1 {fp1}\n"
        ),
        format!(
            "aws-cloudtrail:*/* {fp0}\naws-cloudtrail:{ACCOUNT}/* {}\n",
            fp1.to_uppercase()
        ),
    ] {
        let r = e.verify_with(&keys_under(&text));
        assert!(r.verified, "{text}: {}", dump(&r));
    }
    // A genuine AWS signature by a key granted only for another region, account or time fails every digest it
    // signed there, naming the grant it has.
    let only_us = format!(
        "aws-cloudtrail:{ACCOUNT}/us-east-1 {fp0}\naws-cloudtrail:{ACCOUNT}/us-east-1 {fp1}\n"
    );
    let r = e.verify_with(&keys_under(&only_us));
    let want: Vec<(FailureKind, &str)> = e.digests[1]
        .iter()
        .map(|d| (FailureKind::KeyNotTrustedForTrail, d.rel.as_str()))
        .collect();
    assert_only(&r, &want);
    let f = assert_has(&r, FailureKind::KeyNotTrustedForTrail, &e.digests[1][0].rel);
    assert!(
        f.detail.contains("the signature verifies")
            && f.detail.contains(&format!("only for {ACCOUNT}/us-east-1")),
        "{}",
        f.detail
    );
    let r = e.verify_with(&keys_under(&format!(
        "aws-cloudtrail:999988887777/* {fp0}\naws-cloudtrail:999988887777/* {fp1}\n"
    )));
    assert_eq!(failures(&r).len(), 2 * HOURS, "{}", dump(&r));
    assert!(!r.verified);
    // Granted until 150 minutes after the first digest's hour: the later digests fail.
    let until = (t0() + Duration::minutes(150)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let r = e.verify_with(&keys_under(&format!(
        "aws-cloudtrail:{ACCOUNT}/* {fp0} valid-before={until}\naws-cloudtrail:{ACCOUNT}/* {fp1} valid-before={until}\n"
    )));
    assert_eq!(
        r.chains
            .iter()
            .map(|c| c.digests_verified)
            .collect::<Vec<_>>(),
        vec![2, 2],
        "{}",
        dump(&r)
    );
    // A policy without AWS grants leaves every supplied key trusted everywhere (`--aws-account` pins accounts).
    let ops = auditlens::note::SignerKey::generate("ops").expect("key");
    let r = e.verify_with(&keys_under(&format!("* {}\n", ops.verifier())));
    assert!(r.verified, "{}", dump(&r));
}

#[test]
fn a_malformed_aws_grant_is_an_error_naming_its_line() {
    let fp = fingerprint_for(0);
    for (line, why) in [
        (format!("aws-cloudtrail:12345/us-east-1 {fp}"), "12 digits"),
        (format!("aws-cloudtrail:{ACCOUNT} {fp}"), "ACCOUNT/REGION"),
        (
            format!("aws-cloudtrail:{ACCOUNT}/US_EAST {fp}"),
            "region name",
        ),
        (
            format!("aws-cloudtrail:{ACCOUNT}/us-east-1 abc"),
            "32 hex digits",
        ),
        (format!("aws-cloudtrail:{ACCOUNT}/us-east-1"), "fingerprint"),
        (
            format!(
                "aws-cloudtrail:{ACCOUNT}/us-east-1 {fp} valid-after=2024-05-01 valid-before=2024-04-01"
            ),
            "before",
        ),
        (
            format!("aws-cloudtrail:{ACCOUNT}/us-east-1 {fp} until=2024-05-01"),
            "unknown option",
        ),
    ] {
        let err = auditlens::trust::TrustPolicy::parse(&format!("# AWS\n{line}\n"), "p.txt")
            .expect_err(&line)
            .to_string();
        assert!(
            err.starts_with("p.txt:2: ") && err.contains(why),
            "{line}: {err}"
        );
    }
}

#[test]
fn the_verify_command_applies_the_trust_policys_aws_grants() {
    let e = generate();
    let keys = e.root().join("keys.json");
    write(
        &keys,
        keys_json(t0() - Duration::days(30), t0() + Duration::days(30)).as_bytes(),
    );
    let policy = e.root().join("policy.txt");
    write(
        &policy,
        format!(
            "aws-cloudtrail:{ACCOUNT}/us-east-1 {}\n",
            fingerprint_for(0)
        )
        .as_bytes(),
    );
    let (code, out, err) = cli_verify(&[
        "--trust-policy".as_ref(),
        policy.as_os_str(),
        "--aws-keys".as_ref(),
        keys.as_os_str(),
        e.root().as_os_str(),
    ]);
    assert_eq!(code, Some(1), "{out}{err}");
    let all = format!("{out}{err}");
    assert!(
        all.contains("the trust policy grants key") && all.contains(&fingerprint_for(1)),
        "{all}"
    );
    write(
        &policy,
        format!(
            "aws-cloudtrail:{ACCOUNT}/us-east-1 {}\naws-cloudtrail:{ACCOUNT}/eu-west-1 {}\n",
            fingerprint_for(0),
            fingerprint_for(1)
        )
        .as_bytes(),
    );
    let (code, out, err) = cli_verify(&[
        "--trust-policy".as_ref(),
        policy.as_os_str(),
        "--aws-keys".as_ref(),
        keys.as_os_str(),
        e.root().as_os_str(),
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
}
