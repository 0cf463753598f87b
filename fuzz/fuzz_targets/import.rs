//! An archive's bytes from anyone, imported into a new store: the import gives a result, never a panic, and a
//! store it wrote re-verifies with `check` (what was accepted is exactly what was signed). The trusted key is the
//! one `fuzz/seed.sh` sealed the seed archives with (the `archive` target's seeds).
#![no_main]
use std::path::Path;
use std::sync::OnceLock;

use auditlens::note::VerifierKey;
use auditlens::store::Store;
use auditlens::store::import::ImportOptions;
use auditlens::trust::TrustPolicy;
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
    let dir = std::env::temp_dir().join(format!("auditlens-fuzz-import-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let archive = dir.join("archive.zip");
    std::fs::write(&archive, bytes).unwrap();
    let mut store = Store::open(&dir.join("store.db")).unwrap();
    let keys = std::slice::from_ref(key());
    let policy = TrustPolicy::from_keys(keys);
    for keep_failed in [false, true] {
        let opts = ImportOptions {
            trust: &policy,
            keep_failed,
        };
        let r = store.import_archive(&archive, &opts, &mut |_| true);
        if let Ok(r) = r
            && r.is_ok()
        {
            let report = store.check(keys, &mut |_| true).unwrap();
            assert!(
                report.ok,
                "imported, then check failed: {:?}",
                report.problems
            );
            break;
        }
    }
});
