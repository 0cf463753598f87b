//! Writes the end-to-end test fixtures (see tests/support/fixtures.rs) into the directory given as argument and
//! prints their paths as JSON, for tests/e2e.

#[path = "../tests/it/support/fixtures.rs"]
mod fixtures;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: e2e_fixtures OUTDIR");
    let f = fixtures::build(std::path::Path::new(&dir));
    let s = |p: &std::path::Path| p.display().to_string();
    // A store as a newer AuditLens leaves it (a schema version this one does not know).
    let newer = std::path::Path::new(&dir).join("newer.db");
    let store = auditlens::store::Store::open(&newer).expect("create newer.db");
    store
        .connection()
        .pragma_update(
            None,
            "user_version",
            auditlens::store::schema::CURRENT_VERSION + 1,
        )
        .expect("set its schema version");
    drop(store);
    let out = serde_json::json!({
        "opsPub": s(&f.ops_pub),
        "partnerPub": s(&f.partner_pub),
        "opsFingerprint": f.ops.verifier().fingerprint(),
        "partnerFingerprint": f.partner.verifier().fingerprint(),
        "k8s1": s(&f.k8s_1),
        "k8s2": s(&f.k8s_2),
        "k8s4": s(&f.k8s_4),
        "cloudtrail": s(&f.cloudtrail),
        "partner": s(&f.partner_archive),
        "tampered": s(&f.tampered),
        "hostile": s(&f.xss),
        "dropped": s(&f.dropped),
        "payloads": fixtures::PAYLOADS,
        "newerDb": s(&newer),
    });
    println!("{out}");
}
