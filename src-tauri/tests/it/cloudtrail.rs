//! A dropped AWS CloudTrail export is told from archives and verified offline in the app (docs/cloudtrail.md),
//! with the same report as `auditlens verify`, and imported only when it verifies in full; the app's re-check
//! re-verifies the stored digests with the AWS keys kept at import.

use std::io::Write;
use std::path::Path;

use auditlens::cloudtrail_digest::{self as ct, FailureKind, signing::DigestSigner};
use auditlens_app::commands;
use auditlens_app::contract::FileKind;
use auditlens_app::error::ErrorCode;
use auditlens_app::state::AppState;
use base64::Engine as _;
use serde_json::json;

const ACCOUNT: &str = "111122223333";
const REGION: &str = "eu-west-1";

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn sha_hex(data: &[u8]) -> String {
    let (h, _) = auditlens::archive::sha256_reader(&mut &data[..]).unwrap();
    auditlens::merkle::hex(&h)
}

/// One hour of one trail as AWS writes it: a log file, its digest (the first of the chain, signed with the test
/// key of tests/fixtures/cloudtrail), the digest's S3 metadata as `<digest>.head.json`, and the key list.
fn export(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let pem = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/cloudtrail/test_signing_key.pk8.pem"),
    )
    .unwrap();
    let signer = DigestSigner::from_pkcs8_pem(&pem).unwrap();
    let der = signer.public_key_spki_der().unwrap();
    let root = dir.join("export");
    let log_key = format!(
        "AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2024/03/10/{ACCOUNT}_CloudTrail_{REGION}_20240310T0915Z_aB3.json.gz"
    );
    let log = json!({"Records": [{"eventVersion": "1.08", "eventTime": "2024-03-10T09:10:00Z",
        "eventSource": "s3.amazonaws.com", "eventName": "GetObject", "awsRegion": REGION}]})
    .to_string();
    write(&root.join(&log_key), &gz(log.as_bytes()));
    let digest_key = format!(
        "AWSLogs/{ACCOUNT}/CloudTrail-Digest/{REGION}/2024/03/10/{ACCOUNT}_CloudTrail-Digest_{REGION}_audit_us-east-1_20240310T100000Z.json.gz"
    );
    let digest = json!({
        "awsAccountId": ACCOUNT, "digestStartTime": "2024-03-10T09:00:00Z", "digestEndTime": "2024-03-10T10:00:00Z",
        "digestS3Bucket": "trail-bucket", "digestS3Object": digest_key,
        "digestPublicKeyFingerprint": ct::key_fingerprint(&der), "digestSignatureAlgorithm": "SHA256withRSA",
        "newestEventTime": "2024-03-10T09:10:00Z", "oldestEventTime": "2024-03-10T09:10:00Z",
        "previousDigestS3Bucket": null, "previousDigestS3Object": null, "previousDigestHashValue": null,
        "previousDigestHashAlgorithm": null, "previousDigestSignature": null,
        "logFiles": [{"s3Bucket": "trail-bucket", "s3Object": log_key, "hashValue": sha_hex(log.as_bytes()),
            "hashAlgorithm": "SHA-256", "newestEventTime": "2024-03-10T09:10:00Z", "oldestEventTime": "2024-03-10T09:10:00Z"}],
    })
    .to_string()
    .replace('/', "\\/");
    let message = ct::string_to_sign(
        "2024-03-10T10:00:00Z",
        "trail-bucket",
        &digest_key,
        &sha_hex(digest.as_bytes()),
        None,
    );
    write(&root.join(&digest_key), &gz(digest.as_bytes()));
    let head = json!({"Metadata": {"signature": signer.sign_hex(message.as_bytes()).unwrap(),
        "signature-algorithm": "SHA256withRSA"}});
    write(
        &root.join(format!("{digest_key}.head.json")),
        head.to_string().as_bytes(),
    );
    let keys = dir.join("keys.json");
    write(
        &keys,
        json!({"PublicKeyList": [{"Value": base64::engine::general_purpose::STANDARD.encode(&der),
            "ValidityStartTime": "2024-01-01T00:00:00Z", "ValidityEndTime": "2025-01-01T00:00:00Z",
            "Fingerprint": ct::key_fingerprint(&der)}]})
        .to_string()
        .as_bytes(),
    );
    (root, keys)
}

#[test]
fn a_cloudtrail_export_is_told_apart_and_verified_offline_with_the_cli_report() {
    let tmp = tempfile::tempdir().unwrap();
    let state = AppState::new(&tmp.path().join("appdata"), None).unwrap();
    let (root, keys) = export(tmp.path());
    let (r, k) = (root.display().to_string(), keys.display().to_string());
    assert_eq!(
        commands::file_kinds(std::slice::from_ref(&r)),
        vec![FileKind::Cloudtrail]
    );

    let check =
        commands::verify_cloudtrail(&state, &r, std::slice::from_ref(&k), None, &[]).unwrap();
    assert!(check.report.verified, "{:?}", check.text);
    assert_eq!(check.report.chains[0].log_files_verified, 1);
    assert!(!check.report.accounts_pinned);
    assert!(
        check.text.last().unwrap().starts_with("VERIFIED"),
        "{:?}",
        check.text
    );
    // Another audited account: the genuine AWS signature of this one does not make it evidence of that one.
    let other = commands::verify_cloudtrail(
        &state,
        &r,
        std::slice::from_ref(&k),
        None,
        &["999988887777".into()],
    )
    .unwrap();
    assert!(!other.report.verified);
    assert!(
        other
            .report
            .all_failures()
            .any(|f| f.kind == FailureKind::AccountNotExpected),
        "{:?}",
        other.text
    );
    // A changed log file fails with its expected and found hashes.
    let log = walk(&root)
        .into_iter()
        .find(|p| p.to_string_lossy().contains("/CloudTrail/"))
        .unwrap();
    let mut bytes = std::fs::read(&log).unwrap();
    let mut inflated = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut inflated)
        .unwrap();
    bytes = gz(inflated.replace("GetObject", "PutObject").as_bytes());
    std::fs::write(&log, bytes).unwrap();
    let bad = commands::verify_cloudtrail(&state, &r, std::slice::from_ref(&k), None, &[]).unwrap();
    let f = bad.report.all_failures().next().unwrap();
    assert_eq!(f.kind, FailureKind::LogHashMismatch);
    assert!(f.expected.is_some() && f.found.is_some() && f.expected != f.found);

    // Usage problems are errors that say what to give.
    let err = commands::verify_cloudtrail(&state, &r, &[], None, &[]).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(err.message.contains("list-public-keys"), "{}", err.message);
    let err =
        commands::verify_cloudtrail(&state, &r, std::slice::from_ref(&k), None, &["123".into()])
            .unwrap_err();
    assert!(err.message.contains("12 digits"), "{}", err.message);
    let err =
        commands::verify_cloudtrail(&state, &k, std::slice::from_ref(&k), None, &[]).unwrap_err();
    assert!(
        err.message.contains("not a CloudTrail export"),
        "{}",
        err.message
    );
}

#[test]
fn a_verified_export_imports_shows_on_the_archives_screen_and_rechecks() {
    use auditlens::store::import::ImportOutcome;
    use auditlens_app::contract::CheckEvent;
    use std::sync::atomic::AtomicBool;
    let tmp = tempfile::tempdir().unwrap();
    let state = AppState::new(&tmp.path().join("appdata"), None).unwrap();
    let (root, keys) = export(tmp.path());
    let (r, k) = (root.display().to_string(), keys.display().to_string());

    let mut steps = Vec::new();
    let done =
        commands::import_cloudtrail(&state, &r, std::slice::from_ref(&k), None, &[], &mut |s| {
            steps.push(*s)
        })
        .unwrap();
    assert_eq!(done.outcome, ImportOutcome::Imported, "{}", done.message);
    // Told how far it got: the log file checked, then stored.
    use auditlens::store::import::CloudTrailStep;
    assert!(
        matches!(
            steps.first(),
            Some(CloudTrailStep::Verifying { done: 1, total: 1 })
        ),
        "{steps:?}"
    );
    assert!(
        matches!(
            steps.last(),
            Some(CloudTrailStep::Storing {
                done: 1,
                total: 1,
                events: 1
            })
        ),
        "{steps:?}"
    );
    assert_eq!(done.trails.len(), 1);
    let origin = format!("aws-cloudtrail:{ACCOUNT}/{REGION}/audit");
    assert_eq!(done.trails[0].origin, origin);
    assert_eq!(done.trails[0].events, 1);
    assert!(
        done.trails[0]
            .label
            .starts_with("signed by AWS CloudTrail (key ")
    );

    let view = commands::archives(&state).unwrap();
    let row = view
        .archives
        .iter()
        .find(|a| a.origin.as_deref() == Some(origin.as_str()))
        .expect("the trail's archive");
    assert_eq!(row.status, "verified");
    assert_eq!(row.evidence.as_deref(), Some("aws-cloudtrail"));
    assert!(row.evidence_label.is_some());
    let hours = row.cloudtrail_hours.as_ref().expect("hours");
    assert_eq!(
        (
            hours.digests,
            hours.first_start.as_str(),
            hours.last_end.as_str()
        ),
        (1, "2024-03-10T09:00:00Z", "2024-03-10T10:00:00Z")
    );
    assert!(hours.gaps.is_empty());

    // The search finds it, labelled.
    let page = commands::search(&state, "source:cloudtrail", 10, None).unwrap();
    assert_eq!(page.events.len(), 1);
    assert_eq!(page.events[0].evidence.as_deref(), Some("aws-cloudtrail"));
    let detail = commands::event(&state, &page.events[0].id).unwrap();
    assert!(detail.evidence_label.is_some());
    // Its provenance: the log file holding it and the signed digest listing that file.
    let source = detail.cloudtrail.expect("the event's log file and digest");
    assert!(
        source.log_file.contains("/CloudTrail/eu-west-1/"),
        "{source:?}"
    );
    assert_eq!(source.record, 0);
    assert!(
        source.digest_file.contains("/CloudTrail-Digest/"),
        "{source:?}"
    );
    assert_eq!(
        (source.digest_start.as_str(), source.digest_end.as_str()),
        ("2024-03-10T09:00:00Z", "2024-03-10T10:00:00Z")
    );
    assert_eq!(source.log_sha256.len(), 64);

    // The re-check uses the keys kept at import.
    let run = || {
        let mut events = Vec::new();
        commands::check_database(&state, 7, &AtomicBool::new(false), &mut |ev| {
            events.push(ev)
        });
        events
    };
    match run().last() {
        Some(CheckEvent::Finished { report, .. }) => assert!(report.ok, "{:?}", report.problems),
        other => panic!("expected a report, got {other:?}"),
    }

    // Export for analytics: the stored export re-verifies with the keys kept at import, then goes out.
    commands::create_auditor_key(&state, "jane").unwrap();
    let out = tmp.path().join("analytics");
    let pq = commands::export_parquet(&state, "", &out.display().to_string()).unwrap();
    assert_eq!(pq.rows, 1);

    // An evidence bundle: the preview says the whole log file goes out; the bundle carries it with its signed
    // digest and the kept AWS keys, and the Received bundle screen verifies it with those keys.
    let selection = auditlens::bundle::ExportSelection::Query {
        query: "source:cloudtrail".into(),
    };
    let preview = commands::export_preview(&state, &selection).unwrap();
    let note = preview.archives[0]
        .cloudtrail_note
        .as_deref()
        .expect("note");
    assert!(
        note.contains("cannot be disclosed partially")
            && note.contains("1 log file whole: 1 record in all, of which 1 selected"),
        "{note}"
    );
    let bundle = tmp.path().join("ct-bundle.zip").display().to_string();
    commands::export_bundle(&state, &selection, "AUD-12: the trail", &bundle).unwrap();
    let opened = commands::open_bundle(&state, &bundle).unwrap();
    assert_eq!(
        opened.verdict,
        auditlens::bundle::BundleVerdict::Verified,
        "{:?}",
        opened.failure
    );
    assert!(
        opened.archives[0]
            .cloudtrail_label
            .as_deref()
            .is_some_and(|l| l.starts_with("signed by AWS CloudTrail (key ")),
        "{:?}",
        opened.archives[0]
    );
    assert!(opened.events[0].cloudtrail_label.is_some());

    // Again: already imported; a tampered export: failed, nothing more stored.
    let again =
        commands::import_cloudtrail(&state, &r, std::slice::from_ref(&k), None, &[], &mut |_| {})
            .unwrap();
    assert_eq!(again.outcome, ImportOutcome::AlreadyImported);
    let log = walk(&root)
        .into_iter()
        .find(|p| p.to_string_lossy().contains("/CloudTrail/"))
        .unwrap();
    let mut inflated = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&std::fs::read(&log).unwrap()[..]),
        &mut inflated,
    )
    .unwrap();
    std::fs::write(
        &log,
        gz(inflated.replace("GetObject", "DeleteTrail").as_bytes()),
    )
    .unwrap();
    let bad =
        commands::import_cloudtrail(&state, &r, std::slice::from_ref(&k), None, &[], &mut |_| {})
            .unwrap();
    assert_eq!(bad.outcome, ImportOutcome::Failed);
    assert!(
        bad.message.contains("nothing was stored"),
        "{}",
        bad.message
    );
    assert_eq!(commands::archives(&state).unwrap().archives.len(), 1);

    // A row flagged otherwise than verified (an edit behind the app's back) is never labelled as signed by AWS.
    let id = page.events[0].id.clone();
    let store = auditlens::store::Store::open(&state.db().unwrap().path).unwrap();
    store
        .connection()
        .execute("UPDATE archives SET status = 'failed'", [])
        .unwrap();
    let row = commands::archives(&state).unwrap().archives.remove(0);
    assert_eq!((row.status.as_str(), row.evidence_label), ("failed", None));
    let detail = commands::event(&state, &id).unwrap();
    assert!(!detail.row.verified);
    assert_eq!(detail.evidence_label, None);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
