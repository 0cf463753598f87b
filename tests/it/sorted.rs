//! Sorted results (issue 16, docs/search.md section 12): every column and direction, paged through by its
//! cursor in pages of 7, gives every match exactly once, in the order a plain sort of all matches gives (missing
//! values last, ASCII case-insensitive, ties by time order); a page read at any offset is the same rows.

use crate::common::*;
use auditlens::store::Store;
use auditlens::store::search::EventRow;
use auditlens::store::sorted::{Sort, SortColumn};

const NOW: i64 = 1_800_000_000_000_000;

fn all_pages(store: &Store, q: &str, sort: Sort) -> Vec<EventRow> {
    pages(store, q, sort, false)
}

/// Every page of `sort` read from its last match backward (End), in pages of 5.
fn all_pages_from_end(store: &Store, q: &str, sort: Sort) -> Vec<EventRow> {
    pages(store, q, sort, true)
}

fn pages(store: &Store, q: &str, sort: Sort, from_end: bool) -> Vec<EventRow> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = if from_end {
            store.search_from_end(q, sort, 5, after.as_deref(), NOW)
        } else {
            store.search_sorted(q, sort, 7, after.as_deref(), NOW)
        }
        .unwrap();
        out.extend(page.events);
        match page.next {
            Some(n) => after = Some(n),
            None => return out,
        }
    }
}

fn value(e: &EventRow, c: SortColumn) -> Option<String> {
    match c {
        SortColumn::Time => e.time.clone(),
        SortColumn::Actor => e.actor.clone(),
        SortColumn::Action => e.action.clone(),
        SortColumn::Resource => e.resource.clone(),
        SortColumn::Outcome => e.outcome.clone(),
        SortColumn::Source => e.source.clone(),
    }
}

#[test]
fn every_column_and_direction_pages_through_every_match_once_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let k = key("ops");
    let db = dir.join("s.db");
    // Real logs with missing actors and times (GitHub, Okta Panther exports), and an actor differing in case.
    let mut extra = vec![
        r#"{"actor":"Alice","action":"read","time":"2024-05-01T10:00:00Z"}"#.to_owned(),
        r#"{"actor":"alice","action":"read","time":"2024-05-01T10:00:00Z"}"#.to_owned(),
        r#"{"actor":"bob","action":"Read"}"#.to_owned(),
    ];
    extra.push(r#"{"message":"nothing known"}"#.to_owned());
    // More events than a filtered page's window walks (40 per row): a rare action among them is found past it
    // (SQLite's plan), a common one inside it.
    extra.extend((0..700).map(|i| {
        let action = if i % 250 == 7 { "rare-x" } else { "list" };
        format!(
            r#"{{"actor":"user-{:03}","action":"{action}","resource":"r{}","time":"2024-05-02T10:{:02}:{:02}Z"}}"#,
            (i * 37) % 700,
            i % 13,
            (i / 60) % 60,
            i % 60
        )
    }));
    let lines = write_lines(dir, "extra.jsonl", &extra);
    let archives = [
        seal_to(
            dir,
            "gh.zip",
            &k,
            "o/gh",
            None,
            &[fixture("logs/github_audit/panther/GitHub_Audit.jsonl")],
        ),
        seal_to(
            dir,
            "okta.zip",
            &k,
            "o/okta",
            None,
            &[fixture("logs/okta/panther/Okta_SystemLog.jsonl")],
        ),
        seal_to(dir, "k8s.zip", &k, "o/k8s", None, &[fixture(K8S_LOG)]),
        seal_to(dir, "x.zip", &k, "o/x", None, &[lines]),
    ];
    let mut store = Store::open(&db).unwrap();
    for a in &archives {
        store
            .import_archive(
                a,
                &auditlens::store::import::ImportOptions {
                    trust: &auditlens::trust::TrustPolicy::from_keys(&[k.verifier()]),
                    keep_failed: false,
                },
                &mut |_| true,
            )
            .unwrap();
    }
    // The full-text index complete: text terms in time order are read from it (either direction).
    store.finish_text_index(&mut |_| {}).unwrap();
    // Filters broad and narrow: a filtered page walks the order's index a window at a time (40 events per row),
    // then falls back to SQLite's plan when the window holds too few matches; both give the reference order.
    for q in [
        "",
        "-source:k8s",
        "read OR alice",
        "source:okta",
        "outcome:denied OR actor:bob",
        "action:rare-x OR action:read",
        "action:list",
        // Time ranges: their bounds on the id and the cursor's are two bounds in one direction.
        "after:2024-05-02T10:05:00Z",
        "before:2024-05-02T10:08:00Z action:list",
        // A text term and a JSON member (its value's words asked of the full-text index).
        "user json.action:LIST",
    ] {
        let newest = all_pages(&store, q, Sort::NEWEST_FIRST);
        assert!(newest.len() > 5, "{q}: {}", newest.len());
        let mut oldest: Vec<String> = all_pages_from_end(&store, q, Sort::NEWEST_FIRST)
            .iter()
            .map(|e| e.id.clone())
            .collect();
        oldest.reverse();
        assert_eq!(
            oldest,
            newest.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
            "{q:?} newest first, from the end"
        );
        assert!(
            !q.is_empty() || newest.iter().any(|e| e.time.is_none()),
            "{q:?}: the fixture has events without time, which come last"
        );
        for column in [
            SortColumn::Time,
            SortColumn::Actor,
            SortColumn::Action,
            SortColumn::Resource,
            SortColumn::Outcome,
            SortColumn::Source,
        ] {
            for ascending in [true, false] {
                let sort = Sort { column, ascending };
                let got = all_pages(&store, q, sort);
                // The reference: the newest-first list (descending time order = descending id), sorted stably.
                let mut want = newest.clone();
                want.reverse(); // ascending id
                if column == SortColumn::Time {
                    if !ascending {
                        want = newest.clone();
                    } else {
                        // Timed ones oldest first, then the untimed ones.
                        want.sort_by_key(|e| e.time.is_none());
                    }
                } else {
                    if !ascending {
                        want.reverse();
                    }
                    want.sort_by(|a, b| {
                        let (x, y) = (value(a, column), value(b, column));
                        match (x, y) {
                            (None, None) => std::cmp::Ordering::Equal,
                            (None, Some(_)) => std::cmp::Ordering::Greater,
                            (Some(_), None) => std::cmp::Ordering::Less,
                            (Some(x), Some(y)) => {
                                let o = x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase());
                                if ascending { o } else { o.reverse() }
                            }
                        }
                    });
                }
                let ids = |v: &[EventRow]| v.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
                assert_eq!(ids(&got), ids(&want), "{q:?} {sort:?}");
                // Read from the end, the same order backward: End shows the true last rows at once.
                let mut back = ids(&all_pages_from_end(&store, q, sort));
                back.reverse();
                assert_eq!(back, ids(&got), "{q:?} {sort:?} from the end");
                // A page at any offset (a scrollbar dragged far into the results) is exactly the rows at
                // that position, and its cursor continues as paging from the first does.
                let n = got.len();
                for offset in [
                    0,
                    1,
                    6,
                    7,
                    n / 3,
                    n / 2 + 1,
                    n.saturating_sub(7),
                    n - 1,
                    n,
                    n + 3,
                ] {
                    let page = store.search_at(q, sort, offset as u64, 7, NOW).unwrap();
                    let end = (offset + 7).min(n);
                    let want_ids = if offset < n {
                        ids(&got[offset..end])
                    } else {
                        Vec::new()
                    };
                    assert_eq!(ids(&page.events), want_ids, "{q:?} {sort:?} at {offset}");
                    // Past the middle the ids are walked from the last match backward: the same rows.
                    let backward = store
                        .search_at_with(q, sort, offset as u64, 7, NOW, 0)
                        .unwrap();
                    assert_eq!(
                        ids(&backward.events),
                        want_ids,
                        "{q:?} {sort:?} at {offset}, backward"
                    );
                    assert_eq!(
                        backward.next, page.next,
                        "{q:?} {sort:?} at {offset}, backward"
                    );
                    assert_eq!(
                        page.next.is_some(),
                        end < n,
                        "{q:?} {sort:?} at {offset}: next"
                    );
                    if let Some(next) = page.next {
                        let more = store.search_sorted(q, sort, 7, Some(&next), NOW).unwrap();
                        let more_end = (end + 7).min(n);
                        assert_eq!(
                            ids(&more.events),
                            ids(&got[end..more_end]),
                            "{q:?} {sort:?} after {offset}"
                        );
                    }
                }
            }
        }
    }
    assert!(
        store
            .search_sorted(
                "",
                Sort {
                    column: SortColumn::Actor,
                    ascending: true
                },
                5,
                Some("e12"),
                NOW
            )
            .is_err()
    );
}
