//! The CloudTrail section (`auditlens bench --only cloudtrail`): an AWS CloudTrail export in AWS's layout (one
//! trail in one region, one digest per hour, a log file every 5 minutes of 1,000 realistic records from
//! generate.rs) signed with the test RSA key of tests/fixtures/cloudtrail, verified offline and imported, beside
//! the floor any verification of it pays: gunzip and SHA-256 of every log file, measured in the same run.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use auditlens::cloudtrail_digest::{
    self as ct, AwsKeys, ExternalSignatures, signing::DigestSigner,
};
use auditlens::store::Store;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::bench::{BenchError, Figure, measure};
use crate::generate::{Rng, cloudtrail_event};

const ACCOUNT: &str = "111122223333";
const REGION: &str = "us-east-1";
const BUCKET: &str = "bench-trail-bucket";
const TRAIL: &str = "bench";
const LOGS_PER_HOUR: u64 = 12;
const RECORDS_PER_LOG: u64 = 1000;
/// The test key (tests/fixtures/cloudtrail/SOURCE.md): for generated exports only.
const TEST_KEY: &str = include_str!("../../../tests/fixtures/cloudtrail/test_signing_key.pk8.pem");

fn failed(e: impl std::fmt::Display) -> BenchError {
    BenchError::Failed(e.to_string())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn gz(data: &[u8]) -> Result<Vec<u8>, BenchError> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data)?;
    Ok(e.finish()?)
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), BenchError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    Ok(std::fs::write(path, bytes)?)
}

/// The export of about `n` events under `dir` (kept between runs with the same n) and its keys file.
pub fn generated_export(dir: &Path, n: u64) -> Result<(PathBuf, PathBuf), BenchError> {
    let root = dir.join(format!("cloudtrail-{n}"));
    let keys = dir.join(format!("cloudtrail-{n}.keys.json"));
    if root.exists() && keys.exists() {
        return Ok((root, keys));
    }
    let tmp = dir.join(format!("cloudtrail-{n}.tmp"));
    let _ = std::fs::remove_dir_all(&tmp);
    let signer = DigestSigner::from_pkcs8_pem(TEST_KEY).map_err(failed)?;
    let der = signer.public_key_spki_der().map_err(failed)?;
    let fingerprint = ct::key_fingerprint(&der);
    let t0: DateTime<Utc> = DateTime::from_timestamp(1_717_200_000, 0).unwrap_or_default();
    let per_hour = LOGS_PER_HOUR * RECORDS_PER_LOG;
    let hours = n.div_ceil(per_hour).max(1);
    let mut rng = Rng::new(7);
    let mut written = 0u64;
    let mut prev: Option<(String, String, String)> = None;
    let t = |t: DateTime<Utc>, f: &str| t.format(f).to_string();
    for h in 0..hours {
        let start = t0 + Duration::hours(h as i64);
        let end = start + Duration::hours(1);
        let mut files = Vec::new();
        for l in 0..LOGS_PER_HOUR {
            let records = RECORDS_PER_LOG.min(n - written);
            if records == 0 {
                break;
            }
            let delivered = start + Duration::minutes(5 * l as i64 + 2);
            let key = format!(
                "AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/{}/{ACCOUNT}_CloudTrail_{REGION}_{}_{:016X}.json.gz",
                t(delivered, "%Y/%m/%d"),
                t(delivered, "%Y%m%dT%H%MZ"),
                rng.next_u64()
            );
            let mut content = b"{\"Records\":[".to_vec();
            let base = (delivered - Duration::minutes(5)).timestamp();
            for i in 0..records {
                if i > 0 {
                    content.push(b',');
                }
                // 10 records a second from `base`: the 5 minutes before delivery.
                cloudtrail_event(&mut rng, i % 3000, base, &mut content)?;
                if content.last() == Some(&b'\n') {
                    content.pop();
                }
            }
            content.extend_from_slice(b"]}");
            written += records;
            write(&tmp.join(&key), &gz(&content)?)?;
            files.push(json!({"s3Bucket": BUCKET, "s3Object": key, "hashValue": hex(&Sha256::digest(&content)),
                "hashAlgorithm": "SHA-256", "newestEventTime": t(delivered, "%Y-%m-%dT%H:%M:%SZ"),
                "oldestEventTime": t(delivered - Duration::minutes(5), "%Y-%m-%dT%H:%M:%SZ")}));
        }
        let key = format!(
            "AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/{}/{ACCOUNT}_CloudTrail-Digest_{REGION}_{TRAIL}_{REGION}_{}.json.gz",
            t(end, "%Y/%m/%d"),
            t(end, "%Y%m%dT%H%M%SZ")
        );
        let p = |i: usize| -> Value {
            prev.as_ref()
                .map_or(Value::Null, |p| json!([&p.0, &p.1, &p.2][i]))
        };
        let digest = json!({
            "awsAccountId": ACCOUNT,
            "digestStartTime": t(start, "%Y-%m-%dT%H:%M:%SZ"),
            "digestEndTime": t(end, "%Y-%m-%dT%H:%M:%SZ"),
            "digestS3Bucket": BUCKET,
            "digestS3Object": key,
            "digestPublicKeyFingerprint": fingerprint,
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": Value::Null,
            "oldestEventTime": Value::Null,
            "previousDigestS3Bucket": if prev.is_some() { json!(BUCKET) } else { Value::Null },
            "previousDigestS3Object": p(0),
            "previousDigestHashValue": p(1),
            "previousDigestHashAlgorithm": if prev.is_some() { json!("SHA-256") } else { Value::Null },
            "previousDigestSignature": p(2),
            "logFiles": files,
        });
        // AWS escapes the slashes of its S3 keys.
        let inflated = digest.to_string().replace('/', "\\/");
        let sha = hex(&Sha256::digest(inflated.as_bytes()));
        let message = ct::string_to_sign(
            &t(end, "%Y-%m-%dT%H:%M:%SZ"),
            BUCKET,
            &key,
            &sha,
            prev.as_ref().map(|p| p.2.as_str()),
        );
        let signature = signer.sign_hex(message.as_bytes()).map_err(failed)?;
        write(&tmp.join(&key), &gz(inflated.as_bytes())?)?;
        if h + 1 == hours {
            let head = json!({"Metadata": {"signature": signature, "signature-algorithm": "SHA256withRSA"}});
            write(
                &tmp.join(format!("{key}.head.json")),
                head.to_string().as_bytes(),
            )?;
        }
        prev = Some((key, sha, signature));
    }
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &der);
    let keys_doc = json!({"PublicKeyList": [{"Value": b64, "ValidityStartTime": "2020-01-01T00:00:00Z",
        "ValidityEndTime": "2040-01-01T00:00:00Z", "Fingerprint": fingerprint}]});
    std::fs::write(&keys, keys_doc.to_string())?;
    std::fs::rename(&tmp, &root)?;
    Ok((root, keys))
}

/// Every log file of the export (below `CloudTrail/`), with its decompressed size.
fn log_files(root: &Path) -> Result<Vec<PathBuf>, BenchError> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().contains("/CloudTrail/") {
                out.push(p);
            }
        }
    }
    Ok(out)
}

/// The figures: the floor (gunzip + SHA-256 of every log file), `verify`, and `import` into a new store (stored,
/// dashboards ready, fully text-indexed).
pub fn cloudtrail_section(dir: &Path, n: u64, repeat: usize) -> Result<Vec<Figure>, BenchError> {
    let (root, keys_path) = generated_export(dir, n)?;
    let keys = AwsKeys::from_json(&std::fs::read(&keys_path)?).map_err(failed)?;
    let logs = log_files(&root)?;
    let mut bytes = 0u64;
    for l in &logs {
        let mut d = flate2::read::MultiGzDecoder::new(std::fs::File::open(l)?);
        bytes += std::io::copy(&mut d, &mut std::io::sink())?;
    }
    let (floor, _) = measure(
        "gunzip + sha256 of the log files (floor)",
        n,
        bytes,
        repeat,
        || {
            let mut buf = vec![0u8; 1 << 16];
            for l in &logs {
                let mut d = flate2::read::MultiGzDecoder::new(std::fs::File::open(l)?);
                let mut h = Sha256::new();
                loop {
                    let k = d.read(&mut buf)?;
                    if k == 0 {
                        break;
                    }
                    h.update(&buf[..k]);
                }
                std::hint::black_box(h.finalize());
            }
            Ok(())
        },
    )?;
    let (verify, _) = measure(
        "verify (digests, signatures, chain, log hashes)",
        n,
        bytes,
        repeat,
        || {
            let r = ct::verify_export(&root, &keys, &ExternalSignatures::new()).map_err(failed)?;
            if !r.verified {
                return Err(failed("the generated export does not verify"));
            }
            Ok(())
        },
    )?;
    let db = dir.join(format!("cloudtrail-{n}.db"));
    let (import, _) = measure(
        "import (verified, stored, dashboards, text-indexed)",
        n,
        bytes,
        repeat,
        || {
            for p in [db.clone(), auditlens::store::text_index::path_of(&db)] {
                let _ = std::fs::remove_file(&p);
                let mut wal = p.into_os_string();
                wal.push("-wal");
                let _ = std::fs::remove_file(PathBuf::from(wal));
            }
            let mut store = Store::open(&db).map_err(failed)?;
            let r = store
                .import_cloudtrail(&root, &keys, &ExternalSignatures::new(), &[], &mut |_| true)
                .map_err(failed)?;
            if !r.is_ok() {
                return Err(failed(r.message));
            }
            store.finish_text_index(&mut |_| {}).map_err(failed)?;
            Ok(())
        },
    )?;
    Ok(vec![floor, verify, import])
}
