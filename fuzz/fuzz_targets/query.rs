//! A search query from anyone, run against a real store of real Kubernetes and CloudTrail events: it never
//! panics, and it is either refused as a query or answered, never failed by SQLite (an SQL error would mean the
//! query compiled to something the store cannot run).
#![no_main]
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use auditlens::note::SignerKey;
use auditlens::seal::{SealOptions, seal};
use auditlens::store::Store;
use auditlens::store::import::ImportOptions;
use auditlens::store::search::SearchError;
use auditlens::trust::TrustPolicy;
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_780_000_000_000_000;

fn store_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("auditlens-fuzz-query-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/logs");
        let key = SignerKey::from_seed("fuzz", &[7; 32]).unwrap();
        let db = dir.join("store.db");
        let mut store = Store::open(&db).unwrap();
        let policy = TrustPolicy::from_keys(&[key.verifier()]);
        for (i, (origin, log)) in [
            ("fuzz.example/k8s", "k8s_audit/audit2rbac/demo.log"),
            (
                "fuzz.example/ct",
                "aws_cloudtrail/awsdocs/awsdocs_examples_Records.json",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let out = dir.join(format!("{i}.zip"));
            seal(&SealOptions {
                key: &key,
                origin,
                prev: None,
                format: None,
                mapping: None,
                out: &out,
                inputs: &[fixtures.join(log)],
                receive: false,
            })
            .unwrap();
            let opts = ImportOptions {
                trust: &policy,
                keep_failed: false,
            };
            let r = store.import_archive(&out, &opts, &mut |_| true).unwrap();
            assert!(r.is_ok(), "{r:?}");
        }
        db
    })
}

fn answered<T>(text: &str, r: Result<T, SearchError>) {
    if let Err(SearchError::Store(e)) = r {
        panic!("query {text:?} failed in the store: {e}");
    }
}

fuzz_target!(|text: &str| {
    let _ = auditlens::query::raw_needles(text);
    if let Ok(q) = auditlens::query::parse(text) {
        let _ = auditlens::query::compile(&q, NOW);
    }
    thread_local! {
        static STORE: Store = Store::open(store_path()).unwrap();
    }
    STORE.with(|store| {
        answered(text, store.search(text, 20, None, NOW));
        answered(text, store.count(text, NOW));
    });
});
