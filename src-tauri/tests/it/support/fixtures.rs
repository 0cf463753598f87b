//! Fixture archives for the command tests and the end-to-end tests, sealed with the real `seal` from the real logs
//! in tests/fixtures/logs, with fixed keys (so fingerprints are the same on every run):
//! verified ones (signed by "e2e-ops"), one signed by an untrusted key ("e2e-partner"), a tampered one (one event
//! byte changed after signing), one whose events carry HTML and script payloads, and one for the drop test.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use auditlens::note::SignerKey;
use auditlens::seal::{SealOptions, seal};

pub struct Fixtures {
    pub dir: PathBuf,
    pub ops: SignerKey,
    pub partner: SignerKey,
    /// `keys/e2e-ops.pub`: the trusted key.
    pub ops_pub: PathBuf,
    /// `keys/e2e-partner.pub`: a key that starts out untrusted.
    pub partner_pub: PathBuf,
    pub k8s_1: PathBuf,
    pub k8s_2: PathBuf,
    /// Sequence 4 of the k8s origin: with 1 and 2 stored, sequence 3 is missing (a gap).
    pub k8s_4: PathBuf,
    pub cloudtrail: PathBuf,
    pub partner_archive: PathBuf,
    pub tampered: PathBuf,
    pub xss: PathBuf,
    pub dropped: PathBuf,
}

pub const ORIGIN_K8S: &str = "e2e.auditlens.dev/prod/k8s-audit";
pub const ORIGIN_CLOUDTRAIL: &str = "e2e.auditlens.dev/aws/cloudtrail";
pub const ORIGIN_PARTNER: &str = "partner.example/k8s";
pub const ORIGIN_TAMPERED: &str = "e2e.auditlens.dev/tampered";
pub const ORIGIN_XSS: &str = "e2e.auditlens.dev/hostile";
pub const ORIGIN_DROPPED: &str = "e2e.auditlens.dev/dropped";

/// The HTML and script payloads of the hostile archive; none of them may ever run in the app.
pub const PAYLOADS: &[&str] = &[
    "<img src=x onerror=window.__pwned=1>",
    "<script>window.__pwned=1</script>",
    "\"><svg onload=window.__pwned=1>",
    "javascript:window.__pwned=1",
];

pub fn logs(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/logs")
        .join(rel)
}

pub fn seal_to(key: &SignerKey, origin: &str, prev: Option<&Path>, out: &Path, inputs: &[PathBuf]) {
    seal(&SealOptions {
        key,
        origin,
        prev,
        format: None,
        mapping: None,
        out,
        inputs,
        receive: false,
    })
    .unwrap_or_else(|e| panic!("sealing {}: {e}", out.display()));
}

/// Builds every fixture in `dir` (created if needed).
pub fn build(dir: &Path) -> Fixtures {
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    let ops = SignerKey::from_seed("e2e-ops", &[7; 32]).unwrap();
    let partner = SignerKey::from_seed("e2e-partner", &[9; 32]).unwrap();
    let ops_pub = dir.join("keys/e2e-ops.pub");
    let partner_pub = dir.join("keys/e2e-partner.pub");
    std::fs::write(&ops_pub, format!("{}\n", ops.verifier())).unwrap();
    std::fs::write(&partner_pub, format!("{}\n", partner.verifier())).unwrap();

    let k8s_1 = dir.join("k8s-1.zip");
    let k8s_2 = dir.join("k8s-2.zip");
    seal_to(
        &ops,
        ORIGIN_K8S,
        None,
        &k8s_1,
        &[logs("k8s_audit/audit2rbac/demo.log")],
    );
    seal_to(
        &ops,
        ORIGIN_K8S,
        Some(&k8s_1),
        &k8s_2,
        &[
            logs("k8s_audit/falco_trace_files/create_deployment.json"),
            logs("k8s_audit/falco_trace_files/exec_pod.json"),
        ],
    );
    let k8s_3 = dir.join("k8s-3-not-given.zip");
    seal_to(
        &ops,
        ORIGIN_K8S,
        Some(&k8s_2),
        &k8s_3,
        &[logs("k8s_audit/falco_trace_files/exec_pod.json")],
    );
    let k8s_4 = dir.join("k8s-4.zip");
    seal_to(
        &ops,
        ORIGIN_K8S,
        Some(&k8s_3),
        &k8s_4,
        &[logs("k8s_audit/falco_trace_files/exec_pod.json")],
    );
    std::fs::remove_file(&k8s_3).unwrap();
    let cloudtrail = dir.join("cloudtrail-1.zip");
    seal_to(
        &ops,
        ORIGIN_CLOUDTRAIL,
        None,
        &cloudtrail,
        &[logs("aws_cloudtrail/awsdocs/awsdocs_examples_Records.json")],
    );
    let partner_archive = dir.join("partner-1.zip");
    seal_to(
        &partner,
        ORIGIN_PARTNER,
        None,
        &partner_archive,
        &[logs("k8s_audit/falco_trace_files/exec_pod.json")],
    );

    let sealed = dir.join("tampered-source.zip");
    seal_to(
        &ops,
        ORIGIN_TAMPERED,
        None,
        &sealed,
        &[logs("k8s_audit/audit2rbac/demo.log")],
    );
    let tampered = dir.join("tampered.zip");
    tamper(&sealed, &tampered);
    std::fs::remove_file(&sealed).unwrap();

    let hostile_log = dir.join("hostile.jsonl");
    let mut lines = String::new();
    for (i, p) in PAYLOADS.iter().enumerate() {
        let line = serde_json::json!({
            "time": format!("2024-05-01T10:0{i}:00Z"),
            "actor": p,
            "action": p,
            "resource": p,
            "userAgent": p,
            "message": format!("hostile payload {i}: {p}"),
        });
        lines.push_str(&line.to_string());
        lines.push('\n');
    }
    std::fs::write(&hostile_log, lines).unwrap();
    let xss = dir.join("hostile.zip");
    seal_to(
        &ops,
        ORIGIN_XSS,
        None,
        &xss,
        std::slice::from_ref(&hostile_log),
    );
    std::fs::remove_file(&hostile_log).unwrap();

    let dropped = dir.join("dropped.zip");
    seal_to(
        &ops,
        ORIGIN_DROPPED,
        None,
        &dropped,
        &[logs("k8s_audit/falco_trace_files/create_deployment.json")],
    );

    Fixtures {
        dir: dir.to_owned(),
        ops,
        partner,
        ops_pub,
        partner_pub,
        k8s_1,
        k8s_2,
        k8s_4,
        cloudtrail,
        partner_archive,
        tampered,
        xss,
        dropped,
    }
}

/// Copies `src` to `dst` with one byte of the first event changed (same length, so only the hashes tell).
pub fn tamper(src: &Path, dst: &Path) {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(src).unwrap()).unwrap();
    let mut entries = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        entries.push((f.name().unwrap().to_string(), data));
    }
    let (_, events) = entries
        .iter_mut()
        .find(|(n, _)| n == "events/000001.jsonl")
        .expect("an events entry");
    // Flip the case of the first lowercase letter inside the first event's first string value.
    let pos = events
        .iter()
        .position(|b| b.is_ascii_lowercase())
        .expect("a letter to change");
    let at = events[pos + 1..]
        .iter()
        .position(|b| b.is_ascii_lowercase())
        .map(|p| p + pos + 1)
        .unwrap();
    events[at] = events[at].to_ascii_uppercase();
    let mut out = zip::ZipWriter::new(std::fs::File::create(dst).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in &entries {
        out.start_file(name.as_str(), opts).unwrap();
        out.write_all(data).unwrap();
    }
    out.finish().unwrap();
}
