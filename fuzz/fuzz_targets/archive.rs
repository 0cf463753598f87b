//! An archive's bytes from anyone: verifying it gives a report (verified, or a named failure), never a panic. The
//! trusted key is the one `fuzz/seed.sh` sealed the seed archives with, so that mutations of genuine archives
//! reach past the signature into the events.
#![no_main]
use std::path::Path;
use std::sync::OnceLock;

use auditlens::note::VerifierKey;
use auditlens::verify::{NoSink, verify_archive};
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
        std::env::temp_dir().join(format!("auditlens-fuzz-archive-{}.zip", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let _ = verify_archive(&path, std::slice::from_ref(key()), &mut NoSink);
});
