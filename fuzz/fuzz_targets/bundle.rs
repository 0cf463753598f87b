//! An evidence bundle's bytes from anyone: verifying it gives a verdict, never a panic. Producer and auditor are
//! the key `fuzz/seed.sh` sealed and exported the seed bundles with.
#![no_main]
use std::path::Path;
use std::sync::OnceLock;

use auditlens::bundle::verify::{VerifyOptions, verify_bundle};
use auditlens::note::VerifierKey;
use libfuzzer_sys::fuzz_target;

fn key() -> &'static VerifierKey {
    static KEY: OnceLock<VerifierKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/fuzz.pub");
        let text = std::fs::read_to_string(&file).expect("run fuzz/seed.sh first");
        VerifierKey::parse(text.trim()).unwrap()
    })
}

fuzz_target!(|bytes: &[u8]| {
    let path =
        std::env::temp_dir().join(format!("auditlens-fuzz-bundle-{}.zip", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let keys = std::slice::from_ref(key());
    let opts = VerifyOptions {
        trusted_producers: keys,
        trusted_auditors: keys,
        producer_policy: None,
        aws_keys: None,
    };
    let _ = verify_bundle(&path, &opts);
});
