//! An archive's bytes from anyone, imported into a new store: the import gives a result, never a panic, and a
//! store it wrote re-verifies with `check` (what was accepted is exactly what was signed). The trusted key is the
//! one the seed archives were sealed with.
#![no_main]
use auditlens::store::Store;
use auditlens::store::import::ImportOptions;
use auditlens::trust::TrustPolicy;
use auditlens_fuzz::{input_file, trusted_key};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let archive = input_file("import.zip", bytes);
    // A new store each time: the database and the files beside it (text index, working papers) in a new folder.
    let dir = archive.with_extension("store");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut store = Store::open(&dir.join("store.db")).unwrap();
    let keys = std::slice::from_ref(trusted_key());
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
