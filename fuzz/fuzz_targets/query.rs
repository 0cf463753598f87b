//! A search query from anyone, run against a real store of real Kubernetes and CloudTrail events: it never
//! panics, and it is either refused as a query or answered, never failed by SQLite (an SQL error would mean the
//! query compiled to something the store cannot run). Answered, its ways of finding the events agree: every plan
//! pages through the same events in the same order, and `count` (which takes its own shortcuts: the dashboards'
//! tables, covering indexes) counts exactly them; in another order (one per query, chosen by its length) the pages
//! hold exactly the same events, once each, and the page a scrollbar jumps to (`search_at`, walked from either
//! end) is exactly the rows at that offset.
#![no_main]
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use auditlens::note::SignerKey;
use auditlens::seal::{SealOptions, seal};
use auditlens::store::Store;
use auditlens::store::import::ImportOptions;
use auditlens::store::search::{PlanChoice, SearchError};
use auditlens::store::sorted::{Sort, SortColumn};
use auditlens::trust::TrustPolicy;
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_780_000_000_000_000;
const PAGE: usize = 7;

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

/// `Some` answer, `None` when refused as a query; a failure in the store panics.
fn answered<T>(text: &str, r: Result<T, SearchError>) -> Option<T> {
    match r {
        Ok(t) => Some(t),
        Err(SearchError::Store(e)) => panic!("query {text:?} failed in the store: {e}"),
        Err(_) => None,
    }
}

/// Every match, page after page (small pages, so that the cursor is used), found with `choice` in the order
/// `sort` (`choice` only applies to newest first).
fn every_match(store: &Store, text: &str, choice: PlanChoice, sort: Sort) -> Option<Vec<String>> {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = if sort == Sort::NEWEST_FIRST {
            store.search_with(text, PAGE, after.as_deref(), NOW, choice)
        } else {
            store.search_sorted(text, sort, PAGE, after.as_deref(), NOW)
        };
        let page = answered(text, page)?;
        ids.extend(page.events.into_iter().map(|e| e.id));
        match page.next {
            Some(next) => after = Some(next),
            None => return Some(ids),
        }
    }
}

const SORTS: [Sort; 8] = [
    Sort::NEWEST_FIRST,
    Sort {
        column: SortColumn::Time,
        ascending: true,
    },
    Sort {
        column: SortColumn::Actor,
        ascending: true,
    },
    Sort {
        column: SortColumn::Actor,
        ascending: false,
    },
    Sort {
        column: SortColumn::Action,
        ascending: true,
    },
    Sort {
        column: SortColumn::Resource,
        ascending: false,
    },
    Sort {
        column: SortColumn::Outcome,
        ascending: true,
    },
    Sort {
        column: SortColumn::Source,
        ascending: false,
    },
];

fuzz_target!(|text: &str| {
    let _ = auditlens::query::raw_needles(text);
    if let Ok(q) = auditlens::query::parse(text) {
        let _ = auditlens::query::compile(&q, NOW);
    }
    thread_local! {
        static STORE: Store = Store::open(store_path()).unwrap();
    }
    STORE.with(|store| {
        let newest = Sort::NEWEST_FIRST;
        let Some(auto) = every_match(store, text, PlanChoice::Auto, newest) else {
            return;
        };
        for choice in [PlanChoice::Indexed, PlanChoice::NewestFirst] {
            let other = every_match(store, text, choice, newest);
            assert_eq!(
                other.as_ref(),
                Some(&auto),
                "query {text:?}: {choice:?} against Auto"
            );
        }
        let count = answered(text, store.count(text, NOW));
        assert_eq!(
            count,
            Some(auto.len() as u64),
            "query {text:?}: count against the matches"
        );
        let sort = SORTS[text.len() % SORTS.len()];
        let sorted = if sort == newest {
            auto.clone()
        } else {
            every_match(store, text, PlanChoice::Auto, sort).unwrap_or_default()
        };
        let (mut as_set, mut expected) = (sorted.clone(), auto.clone());
        as_set.sort();
        expected.sort();
        assert_eq!(
            as_set, expected,
            "query {text:?}: {sort:?} against newest first"
        );
        let offset = (text.len() * 7) % (sorted.len() + 1);
        let page = answered(
            text,
            store.search_at_with(text, sort, offset as u64, PAGE, NOW, 5),
        );
        let ids: Vec<String> = page
            .map(|p| p.events.into_iter().map(|e| e.id).collect())
            .unwrap_or_default();
        let end = (offset + PAGE).min(sorted.len());
        assert_eq!(
            ids,
            sorted[offset..end],
            "query {text:?}: {sort:?} at offset {offset}"
        );
    });
});
