//! An AWS CloudTrail export from anyone, built around the fuzzer's bytes and signed by the test key of
//! tests/fixtures/cloudtrail (trusted here as if it were AWS's), so that hostile content gets past the signature:
//!
//! - first byte even: the rest is a log file's content, listed with its true hash by a genuine digest;
//! - first byte odd: the rest is a digest's content (`@LOGHASH@` replaced by the hash of a fixed log file), signed
//!   with the fields the path names.
//!
//! Verifying it gives a report and importing it a result, never a panic; an import that stores events leaves a
//! store that `check` passes.
#![no_main]
use std::io::Write as _;
use std::path::Path;
use std::sync::OnceLock;

use auditlens::cloudtrail_digest::{
    self as ct, AwsKeys, ExternalSignatures, signing::DigestSigner,
};
use auditlens::store::Store;
use auditlens_fuzz::input_file;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest as _, Sha256};

const TEST_KEY: &str = include_str!("../../tests/fixtures/cloudtrail/test_signing_key.pk8.pem");
const ACCOUNT: &str = "111122223333";
const BUCKET: &str = "fuzz-trail-bucket";
const END: &str = "2024-06-01T01:00:00Z";
const LOG: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/06/01/111122223333_CloudTrail_us-east-1_20240601T0005Z_0000000000000001.json.gz";
const DIGEST: &str = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/06/01/111122223333_CloudTrail-Digest_us-east-1_fuzz_us-east-1_20240601T010000Z.json.gz";
/// The log file of an odd input: one record.
const FIXED_LOG: &str = r#"{"Records":[{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},"eventTime":"2024-06-01T00:01:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","eventID":"e1","eventType":"AwsApiCall","recipientAccountId":"111122223333"}]}"#;

struct Fixed {
    signer: DigestSigner,
    keys: AwsKeys,
    fingerprint: String,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        let signer = DigestSigner::from_pkcs8_pem(TEST_KEY).unwrap();
        let der = signer.public_key_spki_der().unwrap();
        let fingerprint = ct::key_fingerprint(&der);
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &der);
        let doc = serde_json::json!({"PublicKeyList": [{"Value": b64,
            "ValidityStartTime": "2020-01-01T00:00:00Z", "ValidityEndTime": "2040-01-01T00:00:00Z",
            "Fingerprint": fingerprint}]});
        let keys = AwsKeys::from_json(doc.to_string().as_bytes()).unwrap();
        Fixed {
            signer,
            keys,
            fingerprint,
        }
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn put(root: &Path, key: &str, bytes: &[u8]) {
    let path = root.join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A genuine digest listing one log file of this content.
fn digest_for(log: &[u8]) -> Vec<u8> {
    let d = serde_json::json!({
        "awsAccountId": ACCOUNT,
        "digestStartTime": "2024-06-01T00:00:00Z",
        "digestEndTime": END,
        "digestS3Bucket": BUCKET,
        "digestS3Object": DIGEST,
        "digestPublicKeyFingerprint": fixed().fingerprint,
        "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": "2024-06-01T00:05:00Z",
        "oldestEventTime": "2024-06-01T00:00:00Z",
        "previousDigestS3Bucket": null,
        "previousDigestS3Object": null,
        "previousDigestHashValue": null,
        "previousDigestHashAlgorithm": null,
        "previousDigestSignature": null,
        "logFiles": [{"s3Bucket": BUCKET, "s3Object": LOG, "hashValue": hex(&Sha256::digest(log)),
            "hashAlgorithm": "SHA-256", "newestEventTime": "2024-06-01T00:05:00Z",
            "oldestEventTime": "2024-06-01T00:00:00Z"}],
    });
    d.to_string().replace('/', "\\/").into_bytes()
}

fuzz_target!(|bytes: &[u8]| {
    let Some((&mode, rest)) = bytes.split_first() else {
        return;
    };
    let (log, digest) = if mode % 2 == 0 {
        (rest.to_vec(), digest_for(rest))
    } else {
        let hash = hex(&Sha256::digest(FIXED_LOG.as_bytes()));
        let digest = String::from_utf8_lossy(rest).replace("@LOGHASH@", &hash);
        (FIXED_LOG.as_bytes().to_vec(), digest.into_bytes())
    };
    let base = input_file("cloudtrail", b"");
    let _ = std::fs::remove_file(&base);
    let root = base.with_extension("export");
    let _ = std::fs::remove_dir_all(&root);
    put(&root, LOG, &gz(&log));
    put(&root, DIGEST, &gz(&digest));
    let message = ct::string_to_sign(END, BUCKET, DIGEST, &hex(&Sha256::digest(&digest)), None);
    let signature = fixed().signer.sign_hex(message.as_bytes()).unwrap();
    let head = serde_json::json!({"Metadata": {"signature": signature, "signature-algorithm": "SHA256withRSA"}});
    put(
        &root,
        &format!("{DIGEST}.head.json"),
        head.to_string().as_bytes(),
    );

    let signatures = ExternalSignatures::new();
    let _ = ct::verify_export(&root, &fixed().keys, &signatures);

    let dir = base.with_extension("store");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut store = Store::open(&dir.join("store.db")).unwrap();
    let imported = store.import_cloudtrail(&root, &fixed().keys, &signatures, &[], &mut |_| true);
    if let Ok(r) = imported
        && r.is_ok()
    {
        let report = store
            .check_policy_aws(None, &fixed().keys, &mut |_| true)
            .unwrap();
        assert!(
            report.ok,
            "imported, then check failed: {:?}",
            report.problems
        );
    }
});
