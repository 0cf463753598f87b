//! Working papers (issue 16): tags, notes and bookmarks on events, kept next to the store and searchable with
//! `tag:`, `note:` and `has:`; saved searches and history; the hash-chained action log of imports and changes.

use std::path::Path;

use crate::common::*;
use auditlens::note::VerifierKey;
use auditlens::papers::{EventKey, Papers};
use auditlens::store::Store;
use auditlens::store::import::{ImportOptions, ImportOutcome};

fn import(db: &Path, archive: &Path, trusted: &[VerifierKey]) -> ImportOutcome {
    Store::open(db)
        .unwrap()
        .import_archive(
            archive,
            &ImportOptions {
                trust: &auditlens::trust::TrustPolicy::from_keys(trusted),
                keep_failed: false,
            },
            &mut |_| true,
        )
        .unwrap()
        .outcome
}

fn count(store: &Store, q: &str) -> u64 {
    store.count(q, 0).unwrap_or_else(|e| panic!("{q}: {e}"))
}

#[test]
fn tags_notes_and_bookmarks_are_kept_apart_searchable_and_logged() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = dir.join("store.db");
    let ops = key("ops");
    let a = seal_to(
        dir,
        "a.zip",
        &ops,
        "example.com/k8s",
        None,
        &[fixture(K8S_LOG)],
    );
    let b = seal_to(
        dir,
        "b.zip",
        &ops,
        "example.com/other",
        None,
        &[fixture(K8S_LOG)],
    );
    assert_eq!(import(&db, &a, &[ops.verifier()]), ImportOutcome::Imported);
    assert_eq!(import(&db, &b, &[ops.verifier()]), ImportOutcome::Imported);

    let store = Store::open(&db).unwrap();
    let total = count(&store, "");
    let ids: Vec<String> = store
        .search("origin:example.com/k8s", 3, None, 0)
        .unwrap()
        .events
        .iter()
        .map(|e| e.id.clone())
        .collect();
    let keys: Vec<EventKey> = ids
        .iter()
        .map(|id| EventKey::of(&store.event(id).unwrap().unwrap()).unwrap())
        .collect();

    let mut papers = Papers::open(&db).unwrap();
    papers.add_tag(&keys[0], "finding-3").unwrap();
    papers.add_tag(&keys[0], "FINDING-3").unwrap(); // the same tag: kept once, logged once
    papers.add_tag(&keys[0], "exec").unwrap();
    papers.add_tag(&keys[1], "finding-3").unwrap();
    papers
        .set_note(&keys[1], "Shared PASSWORD seen here;\nask the ops lead.")
        .unwrap();
    papers.set_bookmark(&keys[2], true).unwrap();
    for bad in ["", "two words", "a\u{7}b", "x:y", &"t".repeat(65)] {
        assert!(papers.add_tag(&keys[0], bad).is_err(), "{bad:?} accepted");
    }
    assert!(papers.set_note(&keys[0], "bell \u{7}").is_err());

    // Nothing of it is inside the evidence store.
    let tables: i64 = store
        .connection()
        .query_row(
            "SELECT count(*) FROM main.sqlite_schema WHERE name IN ('tags', 'notes', 'bookmarks', 'actions')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 0);
    assert!(auditlens::papers::path_of(&db).is_file());

    // Searchable on a read-write and on a read-only store, case-insensitively; only the annotated events of
    // that archive (the other archive holds the same lines at the same indexes).
    for s in [
        Store::open(&db).unwrap(),
        Store::open_read_only(&db).unwrap(),
    ] {
        assert_eq!(count(&s, "tag:finding-3"), 2);
        assert_eq!(count(&s, "TAG:Finding-3"), 2);
        assert_eq!(count(&s, "tag:find*"), 2);
        assert_eq!(count(&s, "tag:*ing-*"), 2);
        assert_eq!(count(&s, "tag:*"), 2);
        assert_eq!(count(&s, "has:tag"), 2);
        assert_eq!(count(&s, "tag:exec"), 1);
        assert_eq!(count(&s, "has:note"), 1);
        assert_eq!(count(&s, "note:password"), 1);
        assert_eq!(count(&s, "note:\"ops lead\""), 1);
        assert_eq!(count(&s, "note:nothing"), 0);
        assert_eq!(count(&s, "has:bookmark"), 1);
        assert_eq!(count(&s, "-has:tag"), total - 2);
        assert_eq!(count(&s, "tag:finding-3 OR has:bookmark"), 3);
        let page = s.search("tag:finding-3", 10, None, 0).unwrap();
        let mut found: Vec<_> = page.events.iter().map(|e| e.id.clone()).collect();
        found.sort();
        let mut want = vec![ids[0].clone(), ids[1].clone()];
        want.sort();
        assert_eq!(found, want);
    }
    assert!(Store::open(&db).unwrap().count("has:nothing", 0).is_err());

    // An annotation holds to the leaf: a key with another leaf is another event.
    let mut other = keys[0].clone();
    other.leaf = "00".repeat(32);
    papers.add_tag(&other, "ghost").unwrap();
    assert_eq!(count(&store, "tag:ghost"), 0);

    // Removing.
    papers.remove_tag(&keys[0], "exec").unwrap();
    papers.set_note(&keys[1], "  ").unwrap();
    papers.set_bookmark(&keys[2], false).unwrap();
    assert_eq!(count(&store, "tag:exec"), 0);
    assert_eq!(count(&store, "has:note"), 0);
    assert_eq!(count(&store, "has:bookmark"), 0);
    let a0 = papers.annotations(&keys[0]).unwrap();
    assert_eq!(a0.tags, vec!["finding-3".to_string()]);
    let tags = papers.tags().unwrap();
    assert_eq!(tags[0].tag, "finding-3");
    assert_eq!(tags[0].events, 2);

    // Saved searches and history.
    papers
        .save_search("Exec into prod", "privilege:exec env:prod")
        .unwrap();
    papers
        .save_search("exec into PROD", "privilege:exec")
        .unwrap(); // same name: replaced
    let saved = papers.saved_searches().unwrap();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].query, "privilege:exec");
    assert!(papers.delete_saved_search("EXEC INTO PROD").unwrap());
    assert!(!papers.delete_saved_search("exec into prod").unwrap());
    for q in ["a", "b", "b", "a"] {
        papers.remember_query(q).unwrap();
    }
    assert_eq!(papers.history(10).unwrap(), vec!["a", "b"]);

    // The action log holds both imports and every change, chained.
    let log = papers.actions().unwrap();
    let actions: Vec<&str> = log.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "import",
            "import",
            "tag added",
            "tag added",
            "tag added",
            "note set",
            "bookmark added",
            "tag added",
            "tag removed",
            "note removed",
            "bookmark removed",
            "search saved",
            "search saved",
            "saved search deleted",
        ]
    );
    assert!(
        log[0].detail.starts_with("imported: example.com/k8s#"),
        "{}",
        log[0].detail
    );
    assert!(papers.check_log().unwrap().ok());

    // The file survives reopening; a file of another format is refused, not overwritten.
    drop(papers);
    let papers = Papers::open(&db).unwrap();
    assert_eq!(
        papers.annotations(&keys[1]).unwrap().tags,
        vec!["finding-3"]
    );
    papers
        .connection()
        .execute(
            "UPDATE papers.meta SET value = 'papers/9' WHERE key = 'format'",
            [],
        )
        .unwrap();
    drop(papers);
    let err = Papers::open(&db)
        .err()
        .expect("papers/9 refused")
        .to_string();
    assert!(err.contains("papers/9"), "{err}");
}

#[test]
fn a_read_only_store_without_working_papers_searches_them_as_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = dir.join("store.db");
    let ops = key("ops");
    let a = seal_to(
        dir,
        "a.zip",
        &ops,
        "example.com/k8s",
        None,
        &[fixture(K8S_LOG)],
    );
    assert_eq!(import(&db, &a, &[ops.verifier()]), ImportOutcome::Imported);
    std::fs::remove_file(auditlens::papers::path_of(&db)).unwrap();
    let _ = std::fs::remove_file(format!("{}-wal", auditlens::papers::path_of(&db).display()));
    let s = Store::open_read_only(&db).unwrap();
    assert_eq!(count(&s, "has:tag"), 0);
    assert_eq!(count(&s, "-has:note"), count(&s, ""));
    assert!(!auditlens::papers::path_of(&db).exists());
}

#[test]
fn identities_are_suggested_aliased_and_searched_by_person() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db = dir.join("store.db");
    let ops = key("ops");
    let actors = [
        "anaya",
        "arn:aws:iam::111122223333:user/anaya",
        "Anaya@example.com",
        "bob",
        "arn:aws:sts::111122223333:assumed-role/Admin/bob",
        "carol",
        "system:serviceaccount:kube-system:anaya",
    ];
    let lines: Vec<String> = actors
        .iter()
        .enumerate()
        .map(|(i, a)| format!(r#"{{"actor":"{a}","time":"2024-05-01T10:00:0{i}Z"}}"#))
        .collect();
    let log = write_lines(dir, "ids.jsonl", &lines);
    let a = seal_to(dir, "a.zip", &ops, "example.com/app", None, &[log]);
    assert_eq!(import(&db, &a, &[ops.verifier()]), ImportOutcome::Imported);
    let store = Store::open(&db).unwrap();
    let suggested = auditlens::papers::suggest_aliases(store.connection(), 10).unwrap();
    let groups: Vec<(&str, Vec<&str>)> = suggested
        .iter()
        .map(|s| {
            (
                s.person.as_str(),
                s.actors.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        [
            (
                "anaya",
                vec![
                    "Anaya@example.com",
                    "anaya",
                    "arn:aws:iam::111122223333:user/anaya"
                ]
            ),
            (
                "bob",
                vec!["arn:aws:sts::111122223333:assumed-role/Admin/bob", "bob"]
            ),
        ]
    );
    assert_eq!(
        count(&store, "person:anaya"),
        1,
        "no alias yet: the actor itself"
    );
    let mut papers = Papers::open(&db).unwrap();
    for actor in &suggested[0].actors {
        if actor != "anaya" {
            papers.set_alias(actor, "anaya").unwrap();
        }
    }
    assert_eq!(count(&store, "person:anaya"), 3);
    assert_eq!(count(&store, "person:ANAYA"), 3);
    assert_eq!(count(&store, "-person:anaya"), 4);
    assert_eq!(count(&store, "person:carol"), 1);
    assert_eq!(count(&store, "person:nobody"), 0);
    assert!(store.count("person:an*", 0).is_err());
    // Aliased actors are suggested no more.
    let again = auditlens::papers::suggest_aliases(store.connection(), 10).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].person, "bob");
    // The short actor itself given to another person leaves `person:anaya` to the others.
    papers.set_alias("anaya", "Anaya Rao").unwrap();
    assert_eq!(count(&store, "person:anaya"), 2);
    assert_eq!(count(&store, r#"person:"anaya rao""#), 1);
    assert!(papers.remove_alias("anaya").unwrap());
    assert!(!papers.remove_alias("anaya").unwrap());
    assert_eq!(count(&store, "person:anaya"), 3);
    let actions: Vec<String> = papers
        .actions()
        .unwrap()
        .iter()
        .map(|a| a.action.clone())
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "alias set").count(), 3);
    assert_eq!(actions.last().map(String::as_str), Some("alias removed"));
    // The short names sources give.
    use auditlens::papers::short_name;
    assert_eq!(
        short_name("arn:aws:iam::1:user/path/to/jo").unwrap().0,
        "jo"
    );
    assert!(short_name("arn:aws:iam::1:role/Admin").is_none());
    assert!(short_name("jo").is_none());
    assert!(short_name("not an@email").is_none());
}
