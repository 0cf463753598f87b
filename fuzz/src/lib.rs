//! What the fuzz targets share.
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use auditlens::note::VerifierKey;

/// The key `seed.sh` sealed the seed archives and bundles with: the targets trust it, so that changed bytes of a
/// genuine archive get past its signature.
pub fn trusted_key() -> &'static VerifierKey {
    static KEY: OnceLock<VerifierKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/fuzz.pub");
        let text = std::fs::read_to_string(&file).expect("run fuzz/seed.sh first");
        VerifierKey::parse(text.trim()).unwrap()
    })
}

/// `bytes` written to this process's own file `name` in the temporary folder (the targets read files).
pub fn input_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("auditlens-fuzz-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}
