//! What is shown as verified is confirmed against what was signed (`Store::confirm_page`, `Store::confirm_event`;
//! docs/trust-policy.md section 4b): a store built from archives sealed from the real Kubernetes audit log, then
//! edited with plain SQL the way someone holding the file would. Each edit keeps the archive marked verified; the
//! rows it touches (or every row of the archive, when its leaves no longer give the signed root) must come out
//! not verified, with a reason that says what differs. The untouched rows stay verified.

use std::path::PathBuf;

use crate::common::*;
use auditlens::store::Store;
use auditlens::store::confirm::Confirmations;
use auditlens::store::import::ImportOptions;
use auditlens::store::search::SearchPage;
use auditlens::trust::TrustPolicy;

const K8S: &str = "example.com/prod/k8s";

struct Lab {
    _tmp: tempfile::TempDir,
    db: PathBuf,
}

impl Lab {
    /// The real Kubernetes audit log (37 events) in two chained archives, both imported as verified.
    fn new() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let key = key("ops-prod");
        let lines = event_lines(&std::fs::read(fixture(K8S_LOG)).unwrap());
        assert_eq!(lines.len(), 37);
        std::fs::write(dir.join("part1.log"), join_lines(&lines[..20])).unwrap();
        std::fs::write(dir.join("part2.log"), join_lines(&lines[20..])).unwrap();
        let a1 = seal_to(&dir, "k8s-1.zip", &key, K8S, None, &[dir.join("part1.log")]);
        let a2 = seal_to(
            &dir,
            "k8s-2.zip",
            &key,
            K8S,
            Some(&a1),
            &[dir.join("part2.log")],
        );
        let db = dir.join("store.db");
        import_verified(&db, &key, &[&a1, &a2]);
        Lab { _tmp: tmp, db }
    }

    fn sql(&self, sql: &str) {
        rusqlite::Connection::open(&self.db)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
    }

    /// Every event, newest first, as the app would show it; and why each one it does not show as verified is not.
    fn shown(&self) -> (SearchPage, std::collections::HashMap<String, String>) {
        let store = Store::open_read_only(&self.db).unwrap();
        let mut page = store.search("", 100, None, 0).unwrap();
        assert_eq!(page.events.len(), 37);
        let why = store
            .confirm_page(&mut page, &Confirmations::new())
            .unwrap();
        (page, why)
    }

    /// The ids of the events shown as not verified.
    fn not_verified(&self) -> Vec<String> {
        let (page, why) = self.shown();
        let mut ids: Vec<String> = page
            .events
            .iter()
            .filter(|e| !e.verified)
            .map(|e| {
                assert!(why.contains_key(&e.id), "{} has no reason", e.id);
                e.id.clone()
            })
            .collect();
        ids.sort();
        ids
    }

    /// The reason given for event `id`, and the event's detail as the app would show it.
    fn reason(&self, id: &str) -> String {
        let store = Store::open_read_only(&self.db).unwrap();
        let mut e = store.event(id).unwrap().unwrap();
        assert!(e.row.verified, "stored as verified");
        store.confirm_event(&mut e, &Confirmations::new()).unwrap();
        assert!(!e.row.verified, "{id} is still shown as verified");
        let why = e.not_confirmed.expect("a reason");
        assert_eq!(
            self.shown().1.get(id),
            Some(&why),
            "the page and the detail agree"
        );
        why
    }
}

/// A connection to `db` whose SQL can compute a leaf hash, `leaf(raw)` (RFC 6962: SHA-256 of 0x00 and the
/// bytes), as someone editing the file could.
fn editor(db: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.create_scalar_function(
        "leaf",
        1,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8,
        |ctx| {
            let raw: String = ctx.get(0)?;
            Ok(auditlens::merkle::leaf_hash(raw.as_bytes()).to_vec())
        },
    )
    .unwrap();
    conn
}

/// Event 4 of the first archive with other bytes, and the leaf of those bytes.
fn edit_event_4_with_its_leaf(db: &std::path::Path) {
    editor(db)
        .execute_batch(&format!(
            "{}
             UPDATE events SET leaf = leaf(raw)
             WHERE idx = 4 AND archive_id = (SELECT id FROM archives WHERE sequence = 1);",
            replace_raw(1, 4, "\"verb\":\"", "\"verb\":\"x")
        ))
        .unwrap();
}

/// Imports `archives` into the store at `db`, each one verified under `key`.
fn import_verified(
    db: &std::path::Path,
    key: &auditlens::note::SignerKey,
    archives: &[&std::path::Path],
) {
    let mut store = Store::open(db).unwrap();
    let policy = TrustPolicy::from_keys(&[key.verifier()]);
    for a in archives {
        let r = store
            .import_archive(
                a,
                &ImportOptions {
                    trust: &policy,
                    keep_failed: false,
                },
                &mut |_| true,
            )
            .unwrap();
        assert!(r.is_ok(), "{r:?}");
    }
}

fn ids(archive: u64, idx: &[u64]) -> Vec<String> {
    let mut v: Vec<String> = idx.iter().map(|i| format!("{K8S}@{archive}#{i}")).collect();
    v.sort();
    v
}

/// Raw text of event `idx` of archive `seq`, with `from` replaced by `to`.
fn replace_raw(seq: u64, idx: u64, from: &str, to: &str) -> String {
    format!(
        "UPDATE events SET raw = replace(raw, '{from}', '{to}')
         WHERE idx = {idx} AND archive_id = (SELECT id FROM archives WHERE sequence = {seq});"
    )
}

#[test]
fn an_untouched_store_is_shown_verified_and_the_detail_has_no_reason() {
    let lab = Lab::new();
    assert!(lab.not_verified().is_empty());
    let store = Store::open_read_only(&lab.db).unwrap();
    let mut e = store.event(&format!("{K8S}@2#3")).unwrap().unwrap();
    store.confirm_event(&mut e, &Confirmations::new()).unwrap();
    assert!(e.row.verified);
    assert_eq!(e.not_confirmed, None);
}

#[test]
fn edited_bytes_under_the_old_leaf_are_not_shown_verified() {
    let lab = Lab::new();
    lab.sql(&replace_raw(1, 4, "\"verb\":\"", "\"verb\":\"x"));
    assert_eq!(lab.not_verified(), ids(1, &[4]));
    let why = lab.reason(&format!("{K8S}@1#4"));
    assert!(
        why.contains("event bytes do not match the stored leaf hash: expected "),
        "{why}"
    );
}

#[test]
fn edited_bytes_with_a_recomputed_leaf_fail_the_archive_root() {
    let lab = Lab::new();
    // The leaf made to match the edited bytes (RFC 6962: SHA-256 of 0x00 and the bytes), through a function the
    // edit defines; the archive's other rows are untouched, but its leaves no longer give its signed root.
    edit_event_4_with_its_leaf(&lab.db);
    assert_eq!(lab.not_verified(), ids(1, &(0..20).collect::<Vec<_>>()));
    let why = lab.reason(&format!("{K8S}@1#0"));
    assert!(
        why.contains(&format!("archive {K8S}@1 as stored is not the one signed"))
            && why.contains("root"),
        "{why}"
    );
}

#[test]
fn swapped_events_fail_the_archive_root() {
    let lab = Lab::new();
    // Rows 2 and 3 of the second archive trade their bytes and leaves: each row's bytes match its leaf.
    lab.sql(
        "CREATE TEMP TABLE t AS SELECT idx, raw, leaf FROM events
           WHERE archive_id = (SELECT id FROM archives WHERE sequence = 2) AND idx IN (2, 3);
         UPDATE events SET
           raw = (SELECT raw FROM t WHERE t.idx = 5 - events.idx),
           leaf = (SELECT leaf FROM t WHERE t.idx = 5 - events.idx)
         WHERE archive_id = (SELECT id FROM archives WHERE sequence = 2) AND idx IN (2, 3);",
    );
    assert_eq!(lab.not_verified(), ids(2, &(0..17).collect::<Vec<_>>()));
}

#[test]
fn an_edited_field_is_not_shown_verified() {
    let lab = Lab::new();
    lab.sql(
        "UPDATE events SET actor = 'alice'
         WHERE idx = 7 AND archive_id = (SELECT id FROM archives WHERE sequence = 2);",
    );
    assert_eq!(lab.not_verified(), ids(2, &[7]));
    let why = lab.reason(&format!("{K8S}@2#7"));
    assert!(
        why.contains("stored actor \"alice\" differs from the event's \""),
        "{why}"
    );
}

#[test]
fn an_edited_outcome_or_time_is_not_shown_verified() {
    let lab = Lab::new();
    lab.sql(
        "UPDATE events SET outcome = CASE outcome WHEN 'denied' THEN 'success' ELSE 'denied' END
         WHERE idx = 5 AND archive_id = (SELECT id FROM archives WHERE sequence = 1);
         UPDATE events SET ts = ts + 1000000
         WHERE idx = 9 AND archive_id = (SELECT id FROM archives WHERE sequence = 1);",
    );
    assert_eq!(lab.not_verified(), ids(1, &[5, 9]));
    assert!(lab.reason(&format!("{K8S}@1#5")).contains("stored outcome"));
    assert!(
        lab.reason(&format!("{K8S}@1#9"))
            .contains("Z differs from the event's 20")
    );
}

#[test]
fn an_edited_signed_root_or_checkpoint_fails_every_row_of_the_archive() {
    let lab = Lab::new();
    lab.sql(
        "UPDATE archives SET checkpoint = CAST(replace(checkpoint, X'0A', X'0A0A') AS BLOB) WHERE sequence = 2;",
    );
    assert_eq!(lab.not_verified(), ids(2, &(0..17).collect::<Vec<_>>()));
    let why = lab.reason(&format!("{K8S}@2#16"));
    assert!(why.contains("checkpoint"), "{why}");
    // Stored as text instead of bytes: not readable as a checkpoint, so not shown as verified either.
    lab.sql("UPDATE archives SET checkpoint = CAST(checkpoint AS TEXT) WHERE sequence = 1;");
    assert_eq!(lab.not_verified().len(), 37);
    assert!(lab.reason(&format!("{K8S}@1#0")).contains("cannot be read"));
}

#[test]
fn an_edited_rule_choice_is_not_believed() {
    let lab = Lab::new();
    lab.sql("UPDATE archives SET normalization = 'auditor:nonsense/1' WHERE sequence = 1;");
    assert_eq!(lab.not_verified(), ids(1, &(0..20).collect::<Vec<_>>()));
    assert!(
        lab.reason(&format!("{K8S}@1#1"))
            .contains("stored normalization")
    );
}

#[test]
fn edited_rows_of_cloudtrail_evidence_are_not_shown_verified() {
    // An AWS CloudTrail export verified with AWS's signatures at import (the generator of cloudtrail_digest.rs).
    let (_e, _keys, _w, db) = super::cloudtrail_import::imported();
    let shown = |known: &Confirmations| {
        let store = Store::open_read_only(&db).unwrap();
        let mut page = store.search("", 500, None, 0).unwrap();
        assert!(page.events.len() > 10 && page.events.iter().all(|e| e.verified));
        let why = store.confirm_page(&mut page, known).unwrap();
        let mut ids: Vec<String> = page
            .events
            .iter()
            .filter(|e| !e.verified)
            .map(|e| e.id.clone())
            .collect();
        ids.sort();
        (ids, why, page.events.len())
    };
    assert!(shown(&Confirmations::new()).0.is_empty());
    let conn = rusqlite::Connection::open(&db).unwrap();
    let id_of = |sql: &str| -> String {
        conn.query_row(
            &format!(
                "SELECT a.origin || '@' || a.sequence || '#' || e.idx FROM events e
                 JOIN archives a ON a.id = e.archive_id WHERE e.id = ({sql})"
            ),
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let first = "SELECT min(id) FROM events";
    let last = "SELECT max(id) FROM events";
    let (bytes, field) = (id_of(first), id_of(last));
    conn.execute_batch(&format!(
        "UPDATE events SET raw = replace(raw, 'user', 'resu') WHERE id = ({first});
         UPDATE events SET actor = 'mallory' WHERE id = ({last});"
    ))
    .unwrap();
    let (ids, why, _) = shown(&Confirmations::new());
    let mut expected = vec![bytes.clone(), field.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(
        why[&bytes].contains("event bytes do not match the stored leaf hash"),
        "{why:?}"
    );
    assert!(why[&field].contains("stored actor \"mallory\""), "{why:?}");
    // Rules that are not the built-in CloudTrail mapper: none of its rows is shown as verified.
    conn.execute_batch("UPDATE archives SET normalization = 'auditor:k8s/2';")
        .unwrap();
    let (ids, why, all) = shown(&Confirmations::new());
    assert_eq!((ids.len(), why.len()), (all, all));
    assert!(
        why.values()
            .all(|w| w.contains("not the built-in CloudTrail mapper")),
        "{why:?}"
    );
}

/// The stored leaves of archive `seq`, in index order, hashed into blocks as an import hashes them.
fn blocks_of_stored_leaves(db: &std::path::Path, seq: u64) -> Vec<u8> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT leaf FROM events
             WHERE archive_id = (SELECT id FROM archives WHERE sequence = ?1) ORDER BY idx",
        )
        .unwrap();
    let mut blocks = auditlens::merkle::BlockHashes::new(auditlens::merkle::BLOCK_LEAVES);
    for leaf in stmt.query_map([seq], |r| r.get::<_, Vec<u8>>(0)).unwrap() {
        blocks.push(leaf.unwrap().try_into().unwrap());
    }
    blocks.finish()
}

#[test]
fn block_hashes_are_believed_only_when_they_give_the_signed_root() {
    let lab = Lab::new();
    // An import keeps the hash of every 1,024 leaves: here one block per archive, its leaves' own tree.
    assert_eq!(blocks_of_stored_leaves(&lab.db, 1).len(), 32);
    let stored: Vec<u8> = rusqlite::Connection::open(&lab.db)
        .unwrap()
        .query_row(
            "SELECT leaf_blocks FROM archives WHERE sequence = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, blocks_of_stored_leaves(&lab.db, 1));

    // Blocks that give another root are not believed, and an archive stored without them (before schema 18) is
    // read whole: genuine rows stay verified either way.
    lab.sql(
        "UPDATE archives SET leaf_blocks = zeroblob(32) WHERE sequence = 1;
         UPDATE archives SET leaf_blocks = NULL WHERE sequence = 2;",
    );
    assert!(lab.not_verified().is_empty());
    // `check` names the edited blocks (and nothing else of the archives' own).
    let problems = || -> Vec<String> {
        let store = Store::open(&lab.db).unwrap();
        let report = store.check(&[], &mut |_| true).unwrap();
        report
            .problems
            .iter()
            .filter(|p| p.archive_id.is_some() && !p.message.contains("trusted"))
            .map(|p| format!("{:?}@{:?}: {}", p.origin, p.sequence, p.message))
            .collect()
    };
    assert_eq!(
        problems(),
        [format!(
            "Some(\"{K8S}\")@Some(1): stored block hashes (leaf_blocks) differ from the hashes of the stored leaves"
        )]
    );

    // Blocks of another length than the signed size makes: not read, not believed, named by `check`.
    lab.sql("UPDATE archives SET leaf_blocks = zeroblob(64) WHERE sequence = 1;");
    assert!(lab.not_verified().is_empty());
    assert_eq!(problems().len(), 1);

    // Edited bytes with a recomputed leaf, and blocks recomputed from the edited leaves: the blocks no longer
    // give the signed root, the leaves read whole do not either, and every row of the archive fails.
    edit_event_4_with_its_leaf(&lab.db);
    let conn = rusqlite::Connection::open(&lab.db).unwrap();
    conn.execute(
        "UPDATE archives SET leaf_blocks = ?1 WHERE sequence = 1",
        [blocks_of_stored_leaves(&lab.db, 1)],
    )
    .unwrap();
    drop(conn);
    assert_eq!(lab.not_verified(), ids(1, &(0..20).collect::<Vec<_>>()));
    let why = lab.reason(&format!("{K8S}@1#7"));
    assert!(
        why.contains(&format!("archive {K8S}@1 as stored is not the one signed"))
            && why.contains("root"),
        "{why}"
    );
    // There the blocks are the stored leaves' own: `check` finds the root, not the blocks.
    let found = problems();
    assert!(
        found
            .iter()
            .any(|p| p.contains("Merkle root of the stored events differs"))
            && !found.iter().any(|p| p.contains("leaf_blocks")),
        "{found:#?}"
    );
}

#[test]
fn a_row_is_confirmed_against_its_own_block_of_leaves() {
    // 2,590 events (the real log's 37, seventy times over): blocks 0..1023, 1024..2047 and 2048..2589.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let key = key("ops-prod");
    let lines = event_lines(&std::fs::read(fixture(K8S_LOG)).unwrap());
    let many: Vec<Vec<u8>> = (0..70).flat_map(|_| lines.iter().cloned()).collect();
    assert_eq!(many.len(), 2590);
    std::fs::write(dir.join("many.log"), join_lines(&many)).unwrap();
    let a = seal_to(dir, "many.zip", &key, K8S, None, &[dir.join("many.log")]);
    let db = dir.join("store.db");
    import_verified(&db, &key, &[&a]);
    assert!(not_verified_of(&db, 2590).0.is_empty());

    // Event 1500's bytes edited with a recomputed leaf: its block's leaves no longer give its block hash, so
    // the rows of that block fail, and only they (the other blocks still give the signed root).
    let conn = editor(&db);
    conn.execute_batch(
        "UPDATE events SET raw = replace(raw, '\"verb\":\"', '\"verb\":\"x') WHERE idx = 1500;
         UPDATE events SET leaf = leaf(raw) WHERE idx = 1500;",
    )
    .unwrap();
    let (idx, why) = not_verified_of(&db, 2590);
    assert_eq!(idx, (1024..2048).collect::<Vec<u64>>());
    let reason = &why[&format!("{K8S}@1#1030")];
    assert!(
        reason.contains(&format!(
            "archive {K8S}@1 as stored is not the one signed: the stored leaves of events 1024..2047 do not \
             reproduce the signed Merkle root"
        )),
        "{reason}"
    );

    // A row removed from the last block: that block's rows fail, naming the missing index.
    conn.execute_batch(
        "UPDATE events SET raw = replace(raw, '\"verb\":\"x', '\"verb\":\"') WHERE idx = 1500;
         UPDATE events SET leaf = leaf(raw) WHERE idx = 1500;
         DELETE FROM events WHERE idx = 2100;",
    )
    .unwrap();
    let (idx, why) = not_verified_of(&db, 2589);
    assert_eq!(
        idx,
        (2048..2590).filter(|i| *i != 2100).collect::<Vec<u64>>()
    );
    assert!(
        why[&format!("{K8S}@1#2048")].contains("the store lacks event index 2100"),
        "{why:?}"
    );

    // Without its block hashes the archive is read whole: every row fails.
    conn.execute_batch("UPDATE archives SET leaf_blocks = NULL;")
        .unwrap();
    let (idx, _) = not_verified_of(&db, 2589);
    assert_eq!(idx.len(), 2589);
}

/// The indexes of a one-archive store's `events` events shown as not verified, and why.
fn not_verified_of(
    db: &std::path::Path,
    events: usize,
) -> (Vec<u64>, std::collections::HashMap<String, String>) {
    let store = Store::open_read_only(db).unwrap();
    let mut page = store.search("", 3000, None, 0).unwrap();
    assert_eq!(page.events.len(), events);
    let why = store
        .confirm_page(&mut page, &Confirmations::new())
        .unwrap();
    let mut idx: Vec<u64> = page
        .events
        .iter()
        .filter(|e| !e.verified)
        .map(|e| e.id.rsplit('#').next().unwrap().parse().unwrap())
        .collect();
    idx.sort();
    (idx, why)
}

#[test]
fn the_command_line_prints_an_edited_row_not_verified_and_says_why() {
    let lab = Lab::new();
    lab.sql(
        "UPDATE events SET actor = 'mal\u{1b}[31mlory'
         WHERE idx = 7 AND archive_id = (SELECT id FROM archives WHERE sequence = 2);",
    );
    let db = lab.db.to_str().unwrap();
    let edited = format!("{K8S}@2#7");
    // One page as JSON Lines, and every page as CSV: the same row, and only it, not verified.
    for args in [
        vec!["search", "--db", db, "--json", "--limit", "100"],
        vec!["search", "--db", db, "--json", "--all"],
    ] {
        let out = auditlens(&args);
        assert!(out.status.success(), "{out:?}");
        let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 37);
        let not_verified: Vec<&str> = rows
            .iter()
            .filter(|r| r["verified"] == false)
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(not_verified, [edited.as_str()], "{args:?}");
        // The finding quotes the value as Rust does (`\u{1b}`), and the terminal's escaping doubles its backslash:
        // no escape reaches the terminal.
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains(&format!(
                "not verified: {edited}: this event as stored is not the one signed: stored actor \"mal\\\\u{{1b}}[31mlory\""
            )),
            "{err}"
        );
        assert!(
            !err.contains('\u{1b}'),
            "escape reached the terminal: {err:?}"
        );
    }
    // The table marks it.
    let out = auditlens(&["search", "--db", db, "--limit", "100"]);
    assert!(out.status.success(), "{out:?}");
    let table = String::from_utf8(out.stdout).unwrap();
    let marked: Vec<&str> = table
        .lines()
        .filter(|l| l.contains("[NOT VERIFIED]"))
        .collect();
    assert_eq!(marked.len(), 1, "{table}");
    assert!(marked[0].contains(&edited), "{table}");
}

#[test]
fn an_archive_re_verified_from_its_stored_bytes_gets_its_block_hashes() {
    // An archive stored without block hashes (as before schema 18), then re-normalized with another built-in
    // mapper: its stored bytes are re-verified, and its blocks are kept from those leaves.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let key = key("ops-prod");
    let a = seal_to(dir, "k8s.zip", &key, K8S, None, &[fixture(K8S_LOG)]);
    let db = dir.join("store.db");
    import_verified(&db, &key, &[&a]);
    let blocks = || -> Option<Vec<u8>> {
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT leaf_blocks FROM archives", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(blocks(), Some(blocks_of_stored_leaves(&db, 1)));
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("UPDATE archives SET leaf_blocks = NULL;")
        .unwrap();
    let mut store = Store::open(&db).unwrap();
    let policy = TrustPolicy::from_keys(&[key.verifier()]);
    let r = store
        .import_archive_as(
            &a,
            &ImportOptions {
                trust: &policy,
                keep_failed: false,
            },
            Some(auditlens::sources::SourceKind::Jsonl),
            &mut |_| true,
        )
        .unwrap();
    assert!(r.is_ok(), "{r:?}");
    drop(store);
    assert_eq!(blocks(), Some(blocks_of_stored_leaves(&db, 1)));
    assert!(not_verified_of(&db, 37).0.is_empty());
}

/// An auditor key in the lab's folder, for the exports.
fn auditor_key(lab: &Lab) -> String {
    let dir = lab.db.parent().unwrap().join("keys");
    let dir_text = dir.display().to_string();
    let o = auditlens(&["keygen", "--name", "auditor", "--out", &dir_text]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    dir.join("auditor.key").display().to_string()
}

#[test]
fn both_exports_refuse_a_row_whose_edited_field_selected_it() {
    let lab = Lab::new();
    let db = lab.db.display().to_string();
    let key = auditor_key(&lab);
    let out = lab.db.parent().unwrap();
    // Untouched: the query selects the event, and both exports take it.
    let bundle = out.join("before.zip").display().to_string();
    let o = auditlens(&[
        "export",
        "--db",
        &db,
        "--key",
        &key,
        "--purpose",
        "test",
        "--query",
        "",
        "--out",
        &bundle,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // The file's claim changed: event 7 of the second archive now says actor nobody, and so a query for that
    // actor selects it, although its signed bytes name another actor.
    lab.sql(
        "UPDATE events SET actor = 'nobody'
         WHERE idx = 7 AND archive_id = (SELECT id FROM archives WHERE sequence = 2);",
    );
    let o = auditlens(&["search", "--db", &db, "--count", "actor:nobody"]);
    assert_eq!(text(&o.stdout).trim(), "1", "{}", text(&o.stderr));
    let bundle = out.join("after.zip");
    let bundle_text = bundle.display().to_string();
    let o = auditlens(&[
        "export",
        "--db",
        &db,
        "--key",
        &key,
        "--purpose",
        "test",
        "--query",
        "actor:nobody",
        "--out",
        &bundle_text,
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("{K8S}@2#7")), "{err}");
    assert!(
        err.contains("stored actor \"nobody\" differs from the event's"),
        "{err}"
    );
    assert!(!bundle.exists());
    // By id too.
    let ids_file = out.join("ids.txt");
    std::fs::write(&ids_file, format!("{K8S}@2#6\n{K8S}@2#7\n")).unwrap();
    let o = auditlens(&[
        "export",
        "--db",
        &db,
        "--key",
        &key,
        "--purpose",
        "test",
        "--ids",
        &ids_file.display().to_string(),
        "--out",
        &bundle_text,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(!bundle.exists());

    // The OCSF export reads the rows' fields for its classes, times and partitions: it stops, and leaves nothing.
    let parquet = out.join("parquet");
    let parquet_text = parquet.display().to_string();
    let o = auditlens(&[
        "export-parquet",
        "--db",
        &db,
        "--key",
        &key,
        "--out",
        &parquet_text,
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("{K8S}@2#7")), "{err}");
    assert!(
        err.contains("stored actor \"nobody\" differs from the event's"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(&parquet)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    // Selecting around the edited event: exported.
    let around = out.join("around").display().to_string();
    let o = auditlens(&[
        "export-parquet",
        "--db",
        &db,
        "--key",
        &key,
        "--out",
        &around,
        "--query=-actor:nobody",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}
