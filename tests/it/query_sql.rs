//! The search language against a real SQLite database: the `events` table of the store's own schema (its
//! migrations, `store::schema::migrate_to`) and a full-text index as store/text_index.rs makes it, twenty
//! hand-written events, and for each operator the event ids it must find, both from the index and, as while the
//! index lags, from the events' bytes. Also checks
//! that field and time conditions use indexes, that hostile text stays text, and that no query that parses can
//! make SQLite fail.

use auditlens::query::{Query, SqlParam, compile, parse};
use auditlens::store::schema;
use chrono::NaiveDate;
use rusqlite::{Connection, params_from_iter, types::Value};

/// 2024-06-01T00:00:00Z, the `now` of every search here.
const NOW: i64 = 1_717_200_000_000_000;
const MINUTE: i64 = 60_000_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, micro: u32) -> Option<i64> {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|date| date.and_hms_micro_opt(h, mi, s, micro))
        .map(|dt| dt.and_utc().timestamp_micros())
}

/// One event: id, time, then source, origin, actor, action, resource, outcome, category, ip, agent, env,
/// stage, then the raw JSON.
type Event = (i64, Option<i64>, [Option<&'static str>; 11], &'static str);

fn events() -> Vec<Event> {
    let k8s = Some("k8s");
    let jsonl = Some("jsonl");
    let ct = Some("cloudtrail");
    let prod = Some("example.com/prod/k8s");
    let app = Some("example.com/app");
    let aws = Some("example.com/aws");
    let ok = Some("success");
    let account = Some("123456789012/us-east-1");
    vec![
        (
            1,
            at(2024, 5, 1, 10, 0, 0, 0),
            [
                k8s,
                prod,
                Some("alice"),
                Some("get"),
                Some("pods/default/web"),
                ok,
                Some("read"),
                Some("10.0.0.1"),
                Some("kubectl/v1.29.0"),
                Some("prod"),
                Some("ResponseComplete"),
            ],
            r#"{"user":{"username":"alice"},"verb":"get","objectRef":{"resource":"pods","namespace":"default","name":"web"}}"#,
        ),
        (
            2,
            at(2024, 5, 1, 12, 30, 0, 500_000),
            [
                k8s,
                prod,
                Some("bob"),
                Some("delete"),
                Some("pods/kube-system/coredns"),
                Some("denied"),
                Some("change"),
                Some("10.0.0.2"),
                Some("kubectl/v1.29.0"),
                Some("prod"),
                Some("ResponseComplete"),
            ],
            r#"{"user":{"username":"bob"},"verb":"delete","objectRef":{"resource":"pods","namespace":"kube-system","name":"coredns"},"responseStatus":{"code":403}}"#,
        ),
        (
            3,
            at(2024, 5, 2, 0, 0, 0, 0),
            [
                k8s,
                prod,
                Some("system:serviceaccount:kube-system:deployment-controller"),
                Some("patch"),
                Some("deployments/default/web"),
                ok,
                Some("deployment"),
                Some("10.0.0.3"),
                Some("kube-controller-manager/v1.29.0"),
                Some("prod"),
                Some("ResponseComplete"),
            ],
            r#"{"user":{"username":"system:serviceaccount:kube-system:deployment-controller"},"verb":"patch"}"#,
        ),
        (
            4,
            at(2024, 4, 30, 23, 59, 59, 999_999),
            [
                k8s,
                Some("example.com/staging/k8s"),
                Some("system:node:worker-1"),
                Some("update"),
                Some("leases/kube-node-lease/worker-1"),
                ok,
                Some("other"),
                Some("10.0.1.1"),
                Some("kubelet/v1.29.0"),
                Some("staging"),
                Some("RequestReceived"),
            ],
            r#"{"user":{"username":"system:node:worker-1"},"verb":"update","stage":"RequestReceived"}"#,
        ),
        (
            5,
            at(2024, 5, 3, 8, 0, 0, 0),
            [
                ct,
                aws,
                Some("arn:aws:iam::123456789012:user/Carol"),
                Some("s3:GetObject"),
                Some("arn:aws:s3:::bucket/key"),
                ok,
                Some("read"),
                Some("203.0.113.5"),
                Some("aws-cli/2.15.0"),
                account,
                None,
            ],
            r#"{"eventSource":"s3.amazonaws.com","eventName":"GetObject","userIdentity":{"userName":"Carol"}}"#,
        ),
        (
            6,
            at(2024, 5, 3, 9, 0, 0, 0),
            [
                ct,
                aws,
                Some("ALICE"),
                Some("iam:CreateUser"),
                Some("user/mallory"),
                Some("failure"),
                Some("change"),
                Some("203.0.113.6"),
                Some("console.amazonaws.com"),
                account,
                None,
            ],
            r#"{"eventName":"CreateUser","userIdentity":{"userName":"ALICE"},"errorCode":"AccessDenied"}"#,
        ),
        (
            7,
            None,
            [
                jsonl,
                app,
                Some("dave"),
                Some("login"),
                None,
                ok,
                Some("access"),
                None,
                None,
                None,
                None,
            ],
            r#"{"msg":"login ok","who":"dave"}"#,
        ),
        (
            8,
            at(2024, 5, 4, 0, 0, 0, 0),
            [
                jsonl,
                app,
                None,
                Some("cron"),
                Some("backup"),
                ok,
                Some("other"),
                None,
                None,
                None,
                None,
            ],
            r#"{"msg":"backup done; 100% complete"}"#,
        ),
        (
            9,
            at(2024, 5, 5, 0, 0, 0, 0),
            plain("100%_user"),
            r#"{"who":"100%_user"}"#,
        ),
        (
            10,
            at(2024, 5, 5, 0, 0, 1, 0),
            plain("100xyuser"),
            r#"{"who":"100xyuser"}"#,
        ),
        (
            11,
            at(2024, 5, 6, 0, 0, 0, 0),
            [
                k8s,
                prod,
                Some("eve"),
                Some("get"),
                Some("pods/kube system/x"),
                ok,
                Some("read"),
                None,
                None,
                Some("prod"),
                None,
            ],
            r#"{"note":"pods kube system x"}"#,
        ),
        (
            12,
            at(2024, 5, 6, 1, 0, 0, 0),
            plain("Émile"),
            r#"{"who":"Émile"}"#,
        ),
        (
            13,
            at(2024, 5, 7, 0, 0, 0, 0),
            plain("frank"),
            r#"{"msg":"NEAR AND OR ^ - : tokens"}"#,
        ),
        (
            14,
            at(2024, 5, 8, 0, 0, 0, 0),
            plain("robert'); DROP TABLE events;--"),
            r#"{"msg":"robert'); DROP TABLE events;--"}"#,
        ),
        (
            15,
            Some(NOW + HOUR),
            plain("gina"),
            r#"{"msg":"future event"}"#,
        ),
        (
            16,
            Some(NOW - 10 * MINUTE),
            plain("gina"),
            r#"{"msg":"ten minutes ago"}"#,
        ),
        (
            17,
            Some(NOW - 2 * HOUR),
            plain("gina"),
            r#"{"msg":"two hours ago"}"#,
        ),
        (
            18,
            Some(NOW - 3 * DAY),
            plain("gina"),
            r#"{"msg":"three days ago"}"#,
        ),
        (
            19,
            Some(NOW - 10 * DAY),
            plain("gina"),
            r#"{"msg":"ten days ago"}"#,
        ),
        (
            20,
            at(2024, 5, 9, 0, 0, 0, 0),
            {
                let mut columns = plain("henry");
                columns[4] = Some(r"C:\Temp\a_b");
                columns
            },
            r#"{"path":"C:\\Temp\\a_b"}"#,
        ),
    ]
}

/// The columns of a jsonl event with only an actor.
fn plain(actor: &'static str) -> [Option<&'static str>; 11] {
    [
        Some("jsonl"),
        Some("example.com/app"),
        Some(actor),
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ]
}

/// The store's schema, built by its own migrations; an archive row per origin (an event's origin is its
/// archive's, as the importer writes it); the twenty events, each with its number in this test as `idx` and its
/// raw text also in the full-text index (as the importer writes them).
fn database() -> Connection {
    let mut conn = Connection::open_in_memory().expect("in-memory database");
    schema::migrate_to(&mut conn, schema::CURRENT_VERSION).expect("schema");
    auditlens::store::text_index::register_functions(&conn).expect("functions");
    auditlens::query::register_functions(&conn).expect("functions");
    conn.execute_batch(
        "ATTACH ':memory:' AS txt;
         CREATE VIRTUAL TABLE txt.events_text USING fts5(words, content='', contentless_delete=1, tokenize='ascii');
         CREATE TEMP TABLE text_done (archive_id INTEGER PRIMARY KEY);
         INSERT INTO temp.text_done VALUES (1);",
    )
    .expect("index");
    assert_eq!(schema::version(&conn).unwrap(), schema::CURRENT_VERSION);
    conn.execute(
        "INSERT INTO archives (id, path, status, imported_at, origin, sequence)
         VALUES (1, 'a.zip', 'verified', '2024-06-01T00:00:00Z', 'example.com/prod/k8s', 1)",
        [],
    )
    .expect("archive");
    for (n, ts, columns, raw) in events() {
        // Rowids are time-ordered as in the store (store/rowid.rs); `n` is the event's number in this test.
        let id = match ts {
            Some(t) => auditlens::store::rowid::bucket_start(t) + n,
            None => auditlens::store::rowid::UNTIMED_BASE + n,
        };
        let mut values = vec![
            Value::Integer(id),
            ts.map_or(Value::Null, Value::Integer),
            Value::Integer(n),
        ];
        values.extend(
            columns
                .iter()
                .map(|c| c.map_or(Value::Null, |s| Value::Text(s.to_owned()))),
        );
        values.push(Value::Text(raw.to_owned()));
        values.push(Value::Integer(archive_of(&conn, columns[1])));
        conn.execute(
            "INSERT INTO events (id, ts, idx, source, origin, actor, action, resource, outcome, \
             category, ip, agent, env, stage, raw, archive_id, leaf) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, zeroblob(32))",
            params_from_iter(values),
        )
        .expect("insert event");
        let mut words = String::new();
        auditlens::text::indexed_text(raw, &mut words);
        conn.execute(
            "INSERT INTO txt.events_text (rowid, words) VALUES (?, ?)",
            (id, words),
        )
        .expect("insert text");
    }
    count_archive_events(&conn);
    conn
}

/// Each archive row's count of events, as the signed checkpoint gives it in a store.
fn count_archive_events(conn: &Connection) {
    conn.execute(
        "UPDATE archives SET events = (SELECT count(*) FROM events WHERE events.archive_id = archives.id)",
        [],
    )
    .expect("archive counts");
}

/// The archive row of `origin` (added, verified, when there is none yet); archive 1 for an event without one.
fn archive_of(conn: &Connection, origin: Option<&str>) -> i64 {
    let Some(origin) = origin else { return 1 };
    let found: Option<i64> = conn
        .query_row("SELECT id FROM archives WHERE origin = ?", [origin], |r| {
            r.get(0)
        })
        .ok();
    found.unwrap_or_else(|| {
        conn.execute(
            "INSERT INTO archives (path, status, imported_at, origin, sequence)
             VALUES ('b.zip', 'verified', '2024-06-01T00:00:00Z', ?, 1)",
            [origin],
        )
        .expect("archive");
        conn.last_insert_rowid()
    })
}

fn values(params: &[SqlParam]) -> Vec<Value> {
    params
        .iter()
        .map(|p| match p {
            SqlParam::Int(i) => Value::Integer(*i),
            SqlParam::Text(s) => Value::Text(s.clone()),
        })
        .collect()
}

fn run_tree(conn: &Connection, q: &Query) -> rusqlite::Result<Vec<i64>> {
    let filter = compile(q, NOW);
    let sql = format!(
        "SELECT e.idx FROM events e WHERE {} ORDER BY e.idx",
        filter.sql
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(values(&filter.params)), |row| row.get(0))?;
    rows.collect()
}

fn hits(conn: &Connection, query: &str) -> Vec<i64> {
    let q = parse(query).unwrap_or_else(|e| panic!("{query:?} should parse: {e}"));
    run_tree(conn, &q).unwrap_or_else(|e| panic!("{query:?} failed in SQLite: {e}"))
}

fn all_but(excluded: &[i64]) -> Vec<i64> {
    (1..=20).filter(|id| !excluded.contains(id)).collect()
}

/// Each query must find its events from the index, and the same events with the archive not indexed yet (every
/// text term then decided from the events' bytes).
fn check(conn: &Connection, cases: &[(&str, Vec<i64>)]) {
    let mut failures = Vec::new();
    for (mode, indexed) in [("indexed", true), ("not yet indexed", false)] {
        set_indexed(conn, indexed);
        for (query, expected) in cases {
            let found = hits(conn, query);
            if &found != expected {
                failures.push(format!(
                    "{query:?} ({mode}): expected {expected:?}, found {found:?}"
                ));
            }
            // With its patterns resolved to the values they match (store/resolve.rs), as the store runs it.
            let q = parse(query).unwrap();
            let resolved = auditlens::store::resolve::resolve(conn, q, NOW).unwrap();
            let found = run_tree(conn, &resolved).unwrap();
            if &found != expected {
                failures.push(format!(
                    "{query:?} ({mode}, resolved to {resolved:?}): expected {expected:?}, found {found:?}"
                ));
            }
        }
    }
    set_indexed(conn, true);
    assert!(failures.is_empty(), "wrong hits:\n{}", failures.join("\n"));
}

/// Whether the archive counts as indexed (`temp.text_done`, as the store refreshes it).
fn set_indexed(conn: &Connection, indexed: bool) {
    let sql = if indexed {
        "INSERT OR IGNORE INTO temp.text_done SELECT id FROM archives"
    } else {
        "DELETE FROM temp.text_done"
    };
    conn.execute(sql, []).expect("text_done");
}

#[test]
fn empty_query_finds_every_event() {
    let conn = database();
    check(&conn, &[("", all_but(&[])), ("   ", all_but(&[]))]);
}

#[test]
fn free_text_words_prefixes_and_phrases_find_their_events() {
    let conn = database();
    check(
        &conn,
        &[
            ("alice", vec![1, 6]),
            ("ALICE", vec![1, 6]),
            ("kube*", vec![2, 3, 11]),
            ("\"kube system\"", vec![2, 3, 11]),
            ("kube-system", vec![2, 3, 11]),
            ("\"system kube\"", vec![]),
            ("\"kube sys\"*", vec![2, 3, 11]),
            ("emile", vec![12]),
            ("100%", vec![8, 9]),
            ("alice bob", vec![]),
            ("coredns bob", vec![2]),
            ("alice OR bob", vec![1, 2, 6]),
        ],
    );
}

#[test]
fn field_terms_match_whole_values_case_insensitively() {
    let conn = database();
    check(
        &conn,
        &[
            ("actor:alice", vec![1, 6]),
            ("Actor:ALICE", vec![1, 6]),
            ("actor:ali", vec![]),
            ("actor:ali*", vec![1, 6]),
            ("actor:system:*", vec![3, 4]),
            ("actor:*", all_but(&[8])),
            ("-actor:*", vec![8]),
            ("actor:Émile", vec![12]),
            ("actor:émile", vec![]),
            ("actor:100%_*", vec![9]),
            ("actor:100%*", vec![9]),
            ("actor:100_*", vec![]),
            ("actor:100*", vec![9, 10]),
            ("resource:\"pods/kube system/x\"", vec![11]),
            ("resource:\"pods/kube s\"*", vec![11]),
            (r"resource:C:\Temp\a_b", vec![20]),
            (r#"resource:"C:\\Temp\\a""#, vec![]),
            (r#"resource:"C:\\Temp\\a"*"#, vec![20]),
            ("action:s3:GetObject", vec![5]),
            ("action:S3:getobject", vec![5]),
            ("action:s3:*", vec![5]),
            ("outcome:denied", vec![2]),
            ("source:K8S", vec![1, 2, 3, 4, 11]),
            ("origin:example.com/prod/*", vec![1, 2, 3, 11]),
            ("category:read OR category:deployment", vec![1, 3, 5, 11]),
            ("ip:10.0.0.*", vec![1, 2, 3]),
            ("ip:10.0.0.1", vec![1]),
            ("agent:kubectl*", vec![1, 2]),
            ("env:prod", vec![1, 2, 3, 11]),
            ("env:123456789012/us-east-1", vec![5, 6]),
            ("stage:requestreceived", vec![4]),
        ],
    );
}

#[test]
fn a_star_anywhere_in_a_bare_value_stands_for_any_characters() {
    let conn = database();
    check(
        &conn,
        &[
            ("actor:*lic*", vec![1, 6]),
            ("actor:*LICE", vec![1, 6]),
            ("actor:a*e", vec![1, 6]),
            ("actor:100*user", vec![9, 10]),
            // `%`, `_` and `\` are themselves, never LIKE's wildcards.
            ("actor:100%*user", vec![9]),
            ("actor:*_user", vec![9]),
            ("actor:*%*", vec![9]),
            ("actor:*\\*", vec![]),
            ("actor:system:*:*-controller", vec![3]),
            ("resource:*/default/*", vec![1, 3]),
            (r"resource:C:\*\a_b", vec![20]),
            ("origin:*prod*", vec![1, 2, 3, 11]),
            ("origin:*PROD*", vec![]),
            ("origin:*[*", vec![]),
            // A missing value matches no pattern; its negation keeps it, as for `-actor:alice`.
            ("-actor:*lic*", all_but(&[1, 6])),
            ("actor:** ", all_but(&[8])),
            ("status:ver*ed", all_but(&[])),
            ("status:*x*", vec![]),
            // In quotes, `*` is itself.
            ("actor:\"*lic*\"", vec![]),
        ],
    );
    for (bad, column) in [
        ("time:2024-*-01", 11),
        ("after:2024*01", 11),
        ("since:1*d", 8),
    ] {
        let err = parse(bad).unwrap_err();
        assert_eq!(err.column, column, "{bad}: {err}");
    }
}

#[test]
fn a_regular_expression_matches_a_field_case_insensitively_unanchored_and_bounded() {
    let conn = database();
    check(
        &conn,
        &[
            ("actor:/lic/", vec![1, 6]),
            ("actor:/^ALICE$/", vec![1, 6]),
            ("actor:/^a.*e$/", vec![1, 6]),
            ("actor:/^100.?user$/", vec![]),
            ("actor:/^100.{2}user$/", vec![9, 10]),
            (r"actor:/^\d+xy/", vec![10]),
            ("actor:/^(alice|frank)$/", vec![1, 6, 13]),
            ("actor:/a b/", vec![]),
            ("actor:/^system:.*-controller$/", vec![3]),
            (r"resource:/\/default\//", vec![1, 3]),
            ("status:/^verified$/", all_but(&[])),
            ("origin:/prod/", vec![1, 2, 3, 11]),
            // A missing value matches no expression; its negation keeps it.
            ("-actor:/lic/", all_but(&[1, 6])),
            ("actor:/x/ OR actor:/^gina$/", vec![10, 15, 16, 17, 18, 19]),
            ("actor:/émile/", vec![12]),
        ],
    );
    // Without a closing `/` that ends the term, a value starting with `/` is an ordinary value (a path).
    for (value, regex) in [
        ("/api/v1", false),
        ("/a", false),
        ("/a/b", false),
        ("/a/", true),
        ("/a\\/b/", true),
    ] {
        let q = parse(&format!("resource:{value}")).unwrap();
        assert_eq!(matches!(q, Query::Regex { .. }), regex, "{value}: {q:?}");
    }
    for (bad, column, needle) in [
        ("actor:/(a/", 7, "not a regular expression"),
        ("actor://", 7, "empty regular expression"),
        ("time:/2024/", 6, "takes times"),
        ("actor:/a{1000}{1000}{1000}/", 7, "too large"),
    ] {
        let err = parse(bad).unwrap_err();
        assert_eq!(err.column, column, "{bad}: {err}");
        assert!(err.message.contains(needle), "{bad}: {err}");
    }
}

#[test]
fn origin_terms_compare_exactly_never_mixing_look_alike_origins() {
    let conn = database();
    // Two more events whose origins differ from events 1-4's only by case and by a zero-width space.
    for (n, origin) in [
        (21, "Example.com/prod/k8s"),
        (22, "example.com/prod/k8s\u{200B}"),
    ] {
        let archive = archive_of(&conn, Some(origin));
        conn.execute(
            "INSERT INTO events (id, archive_id, idx, origin, raw, leaf) VALUES (?, ?, ?, ?, '{}', zeroblob(32))",
            (auditlens::store::rowid::UNTIMED_BASE + n, archive, n, origin),
        )
        .unwrap();
    }
    count_archive_events(&conn);
    check(
        &conn,
        &[
            ("origin:example.com/prod/k8s", vec![1, 2, 3, 11]),
            ("origin:Example.com/prod/k8s", vec![21]),
            ("origin:EXAMPLE.COM/PROD/K8S", vec![]),
            ("origin:\"example.com/prod/k8s\u{200B}\"", vec![22]),
            ("origin:example.com/prod/*", vec![1, 2, 3, 11, 22]),
            ("origin:Example.com/*", vec![21]),
            ("origin:example.com/prod/k8s*", vec![1, 2, 3, 11, 22]),
            ("origin:\"example.com/prod/k8s\u{200B}\"*", vec![22]),
            ("origin:example.com/pro?/*", vec![]),
            ("origin:*", (1..=22).collect()),
        ],
    );
}

#[test]
fn time_terms_find_their_periods_and_never_untimed_events() {
    let conn = database();
    check(
        &conn,
        &[
            ("time:2024-05-01", vec![1, 2]),
            ("time:2024-05-01T10:00:00Z", vec![1]),
            ("time:2024-05-01T12:30:00Z", vec![]),
            ("time:2024-05-01T12:30:00.5Z", vec![2]),
            ("time:2024-05-01T14:30:00.5+02:00", vec![2]),
            ("time:2024-05-01T12:30*", vec![2]),
            ("time:2024-04*", vec![4]),
            ("time:2024*", all_but(&[7])),
            ("time:*", all_but(&[7])),
            ("-time:*", vec![7]),
            ("after:2024-05-01 before:2024-05-02", vec![1, 2]),
            ("before:2024-05-01", vec![4]),
            ("-after:2024-05-01", vec![4, 7]),
            ("after:2024-05-01T12:30:00.5Z", all_but(&[1, 4, 7])),
            ("before:2024-05-01T12:30:00.5Z", vec![1, 4]),
            ("after:\"2024-05-01 08:30:00.5-04:00\"", all_but(&[1, 4, 7])),
            ("since:90s", vec![15]),
            ("since:15m", vec![15, 16]),
            ("since:3h", vec![15, 16, 17]),
            ("since:4d", vec![15, 16, 17, 18]),
            ("since:1w", vec![15, 16, 17, 18]),
            ("since:2w", vec![15, 16, 17, 18, 19]),
            ("-since:2w", all_but(&[15, 16, 17, 18, 19])),
        ],
    );
}

#[test]
fn negation_and_or_and_parentheses_combine_as_specified() {
    let conn = database();
    check(
        &conn,
        &[
            ("NOT alice", all_but(&[1, 6])),
            ("-alice", all_but(&[1, 6])),
            ("-alice -bob", all_but(&[1, 2, 6])),
            ("-\"kube system\"", all_but(&[2, 3, 11])),
            ("-actor:alice", all_but(&[1, 6])),
            ("-outcome:success", all_but(&[1, 3, 4, 5, 7, 8, 11])),
            ("NOT NOT actor:alice", vec![1, 6]),
            ("(actor:alice OR actor:bob) outcome:denied", vec![2]),
            ("actor:alice OR actor:bob outcome:denied", vec![1, 2, 6]),
            ("NOT actor:alice OR actor:bob", all_but(&[1, 6])),
            ("alice OR actor:bob", vec![1, 2, 6]),
            ("-alice OR -bob", all_but(&[])),
            ("-(alice OR bob) source:k8s", vec![3, 4, 11]),
            ("source:k8s AND NOT (env:prod OR stage:*)", vec![]),
            ("source:k8s -(env:prod stage:*)", vec![4, 11]),
            ("pods -actor:bob time:2024-05*", vec![1, 11]),
        ],
    );
}

#[test]
fn hostile_text_is_only_ever_text() {
    let conn = database();
    check(
        &conn,
        &[
            ("\"robert'); DROP TABLE events;--\"", vec![14]),
            ("actor:\"robert'); DROP TABLE events;--\"", vec![14]),
            ("robert'", vec![14]),
            ("\"NEAR AND OR\"", vec![13]),
            ("NEAR*", vec![13]),
            ("\"^ tokens\"", vec![13]),
            ("\"' OR 1=1 --\"", vec![]),
            ("actor:\"' OR 1=1 --\"", vec![]),
            ("actor:%", vec![]),
            ("actor:_*", vec![]),
            ("\"a\\\" OR \\\"b\"", vec![]),
            ("SELECT FROM events WHERE", vec![]),
        ],
    );
    let count: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |row| row.get(0))
        .expect("events still there");
    assert_eq!(count, 20);
}

#[test]
fn punctuation_alone_is_looked_for_literally_in_the_raw_event() {
    let conn = database();
    // Event 14 is {"msg":"robert'); DROP TABLE events;--"}, 8 {"msg":"backup done; 100% complete"} and 9
    // {"who":"100%_user"}: their punctuation is found as written.
    check(
        &conn,
        &[
            ("--", vec![14]),
            ("';", vec![]),
            ("'; DROP TABLE events; --", vec![]),
            ("\");\"", vec![14]),
            ("\";--\"", vec![14]),
            ("alice ;", vec![]),
            ("-;", all_but(&[8, 14])),
            ("%", vec![8, 9]),
            ("%_", vec![9]),
            ("\"&&\"", vec![]),
            ("; OR alice", vec![1, 6, 8, 14]),
        ],
    );
    // An empty phrase is still an error (it would match everything).
    assert!(parse("\"\"").is_err());
    let nothing = Query::Text {
        text: String::new(),
        prefix: false,
        phrase: false,
    };
    let alice = parse("alice").expect("word");
    assert_eq!(run_tree(&conn, &nothing).expect("runs"), Vec::<i64>::new());
    assert_eq!(
        run_tree(&conn, &Query::Not(Box::new(nothing.clone()))).expect("runs"),
        all_but(&[])
    );
    // FTS5 alone would drop the empty phrase from "alice" "" and find alice: the compiler does not.
    assert_eq!(
        run_tree(&conn, &Query::And(vec![alice.clone(), nothing.clone()])).expect("runs"),
        Vec::<i64>::new()
    );
    assert_eq!(
        run_tree(&conn, &Query::Or(vec![alice, nothing])).expect("runs"),
        vec![1, 6]
    );
    let count: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |row| row.get(0))
        .expect("events still there");
    assert_eq!(count, 20);
}

fn plan(conn: &Connection, query: &str) -> String {
    let filter = compile(&parse(query).expect("query"), NOW);
    let sql = format!(
        "EXPLAIN QUERY PLAN SELECT e.id FROM events e WHERE {}",
        filter.sql
    );
    let mut stmt = conn.prepare(&sql).expect("plan");
    let rows = stmt
        .query_map(params_from_iter(values(&filter.params)), |row| {
            row.get::<_, String>(3)
        })
        .expect("plan rows");
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .expect("plan rows")
        .join("\n")
}

#[test]
fn field_and_time_conditions_use_the_indexes() {
    let conn = database();
    let cases = [
        ("actor:alice", "INDEX events_actor (actor=?)"),
        ("actor:ali*", "INDEX events_actor (actor>? AND actor<?)"),
        ("action:s3:*", "INDEX events_action (action>? AND action<?)"),
        // A stage: the index over the events that have one (schema 17).
        ("stage:Panic", "INDEX events_stage (stage=?)"),
        // Time conditions: a range of the time-ordered rowids (store/rowid.rs), the store has no index on ts.
        (
            "time:2024-05-01",
            "USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)",
        ),
        (
            "after:2024-05-01 before:2024-05-02",
            "USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)",
        ),
        ("since:1h", "USING INTEGER PRIMARY KEY (rowid>?)"),
        ("alice", "USING INTEGER PRIMARY KEY (rowid=?)"),
    ];
    for (query, expected) in cases {
        let plan = plan(&conn, query);
        assert!(
            plan.contains(expected),
            "{query:?}: plan\n{plan}\nlacks {expected:?}"
        );
    }
}

#[test]
fn the_largest_queries_stay_within_sqlite_limits() {
    let conn = database();
    let many_actors: Vec<String> = (0..999).map(|i| format!("actor:a{i}")).collect();
    let query = format!("{} OR actor:alice", many_actors.join(" OR "));
    assert_eq!(hits(&conn, &query), vec![1, 6]);
    let many_words: Vec<String> = (0..999).map(|i| format!("w{i}")).collect();
    assert_eq!(
        hits(&conn, &format!("{} alice", many_words.join(" "))),
        Vec::<i64>::new()
    );
    assert_eq!(
        hits(&conn, &format!("{} OR alice", many_words.join(" OR "))),
        vec![1, 6]
    );
    let mixed: Vec<String> = (0..500)
        .map(|i| format!("-actor:a{i} time:2024*"))
        .collect();
    assert_eq!(hits(&conn, &mixed.join(" ")), all_but(&[7]));
    let deep = format!("{}actor:alice{}", "(-".repeat(32), ")".repeat(32));
    assert_eq!(hits(&conn, &deep), vec![1, 6]);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// Whatever the user types, a query that parses runs in SQLite without an error.
    #[test]
    fn every_query_that_parses_runs_in_sqlite(
        parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "alice", "kube*", "\"kube system\"", "\"a\\\"b\"", "actor:alice", "actor:sys*", "actor:*",
                "-", "NOT", "OR", "AND", "or", "(", ")", "time:2024-05-01", "time:2024*", "after:2024-05-01",
                "before:2024-05-02T00:00:00Z", "since:1d", ";", "%", "\"", "-x", "time:*", "'", "NEAR", "^",
                "resource:\"a b\"*", "ip:::1", "100%_", "*", ":", "a:b", "\\", "\u{0}", "é",
            ]),
            0..12,
        ),
        separators in proptest::collection::vec(proptest::sample::select(vec![" ", "", "  "]), 12),
        noise in "\\PC{0,12}",
    ) {
        let conn = database();
        let mut query = String::new();
        for (part, separator) in parts.iter().zip(separators.iter()) {
            query.push_str(part);
            query.push_str(separator);
        }
        for input in [query.clone(), format!("{query}{noise}"), noise.clone()] {
            if let Ok(q) = parse(&input) {
                let result = run_tree(&conn, &q);
                proptest::prop_assert!(result.is_ok(), "{:?}: {:?}", input, result);
            }
        }
    }
}

/// The exact values of `field` a resolved pattern became (`field:v1 OR field:v2 ...`).
fn resolved_values(q: &Query, field: auditlens::query::Field) -> Vec<String> {
    let Query::Or(values) = q else {
        panic!("not resolved: {q:?}");
    };
    values
        .iter()
        .map(|v| match v {
            Query::Field {
                field: f,
                value,
                prefix: false,
            } if *f == field => value.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn patterns_over_an_indexed_field_resolve_to_the_values_they_match() {
    use auditlens::query::{Field, Query};
    use auditlens::store::resolve::resolve;
    let conn = database();
    let resolved = |q: &str| resolve(&conn, parse(q).unwrap(), NOW).unwrap();
    let mut names: Vec<String> = resolved_values(&resolved("actor:*lic*"), Field::Actor)
        .iter()
        .map(|v| v.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names, ["alice"]);
    // Nothing matches: no condition to test at all.
    assert_eq!(resolved("actor:*nobody-here*"), Query::Or(Vec::new()));
    assert_eq!(
        resolved("-actor:/^zz/"),
        Query::Not(Box::new(Query::Or(Vec::new())))
    );
    // User agents have an index of their own (schema 16).
    let Query::Or(agents) = resolved("agent:*KUBE*") else {
        panic!("not resolved: {:?}", resolved("agent:*KUBE*"));
    };
    assert_eq!(agents.len(), 3, "{agents:?}");
    assert_eq!(resolved("agent:*curl*"), Query::Or(Vec::new()));
    assert_eq!(
        hits(&conn, "agent:*KUBE*"),
        run_tree(&conn, &resolved("agent:*KUBE*")).unwrap()
    );
    // Stages have an index over the events that have one (schema 17).
    let Query::Or(stages) = resolved("stage:*resp*") else {
        panic!("not resolved: {:?}", resolved("stage:*resp*"));
    };
    assert_eq!(stages.len(), 1, "{stages:?}");
    assert_eq!(
        hits(&conn, "stage:*resp*"),
        run_tree(&conn, &resolved("stage:*resp*")).unwrap()
    );
    // So have privileges, over the events that have one (schema 3).
    conn.execute_batch(
        "UPDATE events SET privilege = 'exec' WHERE idx IN (1, 2);
         UPDATE events SET privilege = 'Secret' WHERE idx = 3;",
    )
    .unwrap();
    assert_eq!(
        resolved("privilege:*EX*"),
        Query::Or(vec![Query::Field {
            field: Field::Privilege,
            value: "exec".into(),
            prefix: false,
        }])
    );
    assert_eq!(hits(&conn, "privilege:*e*"), vec![1, 2, 3]);
    assert_eq!(
        run_tree(&conn, &resolved("privilege:*e*")).unwrap(),
        vec![1, 2, 3]
    );
}

/// `origin:` and `archive:` terms are asked of the archive rows: none, and the term matches nothing at once; a
/// few holding at most an eighth of the events, and their events are read along the index by archive; more, and
/// the term stays as written, tested on each row as a page walks. The same events either way (`check`).
#[test]
fn origin_and_archive_terms_resolve_to_the_archive_rows_that_hold_few_events() {
    use auditlens::query::Query;
    use auditlens::store::resolve::resolve;
    let conn = database();
    let resolved = |q: &str| resolve(&conn, parse(q).unwrap(), NOW).unwrap();
    let id = |origin: &str| -> i64 {
        conn.query_row("SELECT id FROM archives WHERE origin = ?", [origin], |r| {
            r.get(0)
        })
        .unwrap()
    };
    assert_eq!(resolved("origin:*zz-none*"), Query::Or(Vec::new()));
    assert_eq!(resolved("origin:/^nothing/"), Query::Or(Vec::new()));
    assert_eq!(
        resolved("-archive:example.com/app#9"),
        Query::Not(Box::new(Query::Or(Vec::new())))
    );
    // One event of twenty: its archive's events along the index.
    let staging = id("example.com/staging/k8s");
    assert_eq!(
        resolved("origin:*staging*"),
        Query::ArchiveRows(vec![staging])
    );
    assert_eq!(
        resolved("archive:example.com/staging/k8s#1"),
        Query::ArchiveRows(vec![staging])
    );
    let filter = compile(&resolved("origin:*staging*"), NOW);
    let plan: String = conn
        .prepare(&format!(
            "EXPLAIN QUERY PLAN SELECT e.id FROM events e WHERE {}",
            filter.sql
        ))
        .unwrap()
        .query_map(params_from_iter(values(&filter.params)), |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap()
        .join("\n");
    assert!(
        plan.contains("INDEX events_archive_idx (archive_id=?)"),
        "{plan}"
    );
    // Four events of twenty (more than an eighth): tested on each row.
    assert!(matches!(resolved("origin:*prod*"), Query::Pattern { .. }));
    assert!(matches!(
        resolved("origin:example.com/prod/k8s"),
        Query::Field { .. }
    ));
    // Every event: as it is.
    assert!(matches!(resolved("origin:*"), Query::Field { .. }));
    // Counts the file holds in any size or type only choose the plan: never an error, never other events.
    conn.execute_batch(
        "UPDATE archives SET events = 9223372036854775807;
         UPDATE archives SET events = 'many' WHERE origin = 'example.com/app';",
    )
    .unwrap();
    assert!(matches!(resolved("origin:*prod*"), Query::Pattern { .. }));
    assert!(matches!(resolved("origin:*app*"), Query::ArchiveRows(_)));
    assert_eq!(
        hits(&conn, "origin:*app*"),
        run_tree(&conn, &resolved("origin:*app*")).unwrap()
    );
    count_archive_events(&conn);
    check(
        &conn,
        &[
            ("origin:*staging*", vec![4]),
            ("-origin:*staging*", all_but(&[4])),
            ("archive:example.com/staging/k8s#1", vec![4]),
            ("archive:example.com/staging/k8s#2", vec![]),
            ("origin:*staging* OR actor:alice", vec![1, 4, 6]),
        ],
    );
}

/// A field with more different values than the index is walked for (`MAX_VALUES`): the pattern is tested on the
/// field's index in one pass instead, and resolves to the same events as the pattern written out; a pattern
/// matching more than `MAX_MATCHING` values stays as it is.
#[test]
fn patterns_over_a_field_with_many_values_resolve_from_its_index() {
    use auditlens::query::{Field, Query};
    use auditlens::store::resolve::{MAX_MATCHING, MAX_VALUES, resolve};
    let conn = database();
    let before = hits(&conn, "actor:*");
    // Far more actors than MAX_VALUES, in both cases, and one `Admin-Ops` among them.
    let many = MAX_VALUES + 3000;
    let actor = |n: usize| match n {
        77 => "svc-Admin-Ops".to_string(),
        n if n % 2 == 0 => format!("svc-{n:05}"),
        n => format!("SVC-{n:05}"),
    };
    for n in 0..many {
        conn.execute(
            "INSERT INTO events (id, archive_id, idx, actor, leaf, raw) VALUES (?1, 1, ?2, ?3, x'00', '{}')",
            rusqlite::params![
                auditlens::store::rowid::UNTIMED_BASE + 10_000 + n as i64,
                10_000 + n as i64,
                actor(n)
            ],
        )
        .expect("event");
    }
    let resolved = |q: &str| resolve(&conn, parse(q).unwrap(), NOW).unwrap();
    let with = |part: &str| -> Vec<String> {
        (0..many)
            .map(actor)
            .filter(|a| a.to_ascii_lowercase().contains(part))
            .collect()
    };
    for (query, want) in [
        ("actor:*admin*", with("admin")),
        ("actor:/ADMIN-o/", with("admin-o")),
        // 00421 and 04210 to 04219, in either case.
        ("actor:*0421*", with("0421")),
        ("actor:*nobody*", Vec::new()),
    ] {
        assert!(want.len() <= MAX_MATCHING);
        let q = resolved(query);
        let mut got = resolved_values(&q, Field::Actor);
        got.sort_by_key(|v| v.to_ascii_lowercase());
        assert_eq!(got, want, "{query}");
        // The same events as the pattern tested on every event.
        assert_eq!(run_tree(&conn, &q).unwrap(), hits(&conn, query), "{query}");
        let negated = resolved(&format!("-{query}"));
        assert_eq!(
            run_tree(&conn, &negated).unwrap(),
            hits(&conn, &format!("-{query}")),
            "-{query}"
        );
    }
    // A value on several events, in other cases too, is one value (the index pass reads it once, as `field:value`
    // compares ASCII case-insensitively), and finds all of them.
    for n in 0..3 {
        conn.execute(
            "INSERT INTO events (id, archive_id, idx, actor, leaf, raw) VALUES (?1, 1, ?2, ?3, x'00', '{}')",
            rusqlite::params![
                auditlens::store::rowid::UNTIMED_BASE + 30_000 + n,
                30_000 + n,
                ["SVC-ADMIN-OPS", "svc-admin-ops", "svc-Admin-Ops"][n as usize]
            ],
        )
        .expect("event");
    }
    let q = resolved("actor:*admin-ops*");
    assert_eq!(resolved_values(&q, Field::Actor).len(), 1, "{q:?}");
    assert_eq!(run_tree(&conn, &q).unwrap().len(), 4);
    assert_eq!(
        run_tree(&conn, &q).unwrap(),
        hits(&conn, "actor:*admin-ops*")
    );
    // More values match than MAX_MATCHING: the pattern stays a pattern (right, only slower).
    assert!(MAX_MATCHING < many);
    assert!(matches!(
        resolved("actor:svc-*"),
        Query::Pattern { .. } | Query::Field { .. }
    ));
    assert!(matches!(resolved("actor:*svc-0*"), Query::Pattern { .. }));
    assert!(hits(&conn, "actor:*").len() > before.len());
}

/// A pattern or prefix over a JSON member first searches each event's bytes for its value's words (`raw_has`),
/// then reads the member: the same events as reading the member alone, whatever form the member's text takes in
/// the bytes (a `\u` escape, another case, an object's or array's text, a number SQLite writes otherwise).
#[test]
fn json_member_patterns_search_the_bytes_first_and_find_the_same_events() {
    use auditlens::query::raw_needles;
    let conn = database();
    let raws = [
        (101, r#"{"a":"Ad\u006din-ops"}"#),
        (102, r#"{"a":"ADMIN"}"#),
        (103, r#"{"a":{"k":"xadminy"}}"#),
        (104, r#"{"a":["admin"]}"#),
        (105, r#"{"a":1500,"b":"admin"}"#),
        (106, r#"{"a":"adm\/in"}"#),
        (107, r#"{"a":1.5e3}"#),
        (108, r#"{"b":"admin"}"#),
        (109, r#"{"a":true}"#),
        (110, r#"{"a":null,"c":"ADMIN"}"#),
        // A member name written with an escape, and as it is.
        (111, r#"{"us\u0065rAgent":"curl/8"}"#),
        (112, r#"{"userAgent":"CURL/7","nested":{"userAgentX":1}}"#),
    ];
    for (idx, raw) in raws {
        conn.execute(
            "INSERT INTO events (id, archive_id, idx, leaf, raw) VALUES (?1, 1, ?2, x'00', ?3)",
            rusqlite::params![
                auditlens::store::rowid::UNTIMED_BASE + 20_000 + idx,
                idx,
                raw
            ],
        )
        .expect("event");
    }
    let ours = |q: &str| -> Vec<i64> { hits(&conn, q).into_iter().filter(|i| *i > 100).collect() };
    assert_eq!(ours("json.a:*admin*"), [101, 102, 103, 104]);
    assert_eq!(ours("json.a:*ADMIN-OPS*"), [101]);
    assert_eq!(ours("json.a:*adm/in*"), [106]);
    assert_eq!(ours("json.a:ad*"), [101, 102, 106]);
    assert_eq!(ours("json.a:tru*"), [109]);
    // SQLite's text of 1.5e3 is 1500.0: digits are never asked of the bytes.
    assert_eq!(ours("json.a:*1500*"), [105, 107]);
    assert_eq!(ours("json.a:*xadminy*"), [103]);
    assert_eq!(ours("json.a:*nobody*"), Vec::<i64>::new());
    // Absent counts under a negation, as before.
    assert_eq!(
        ours("-json.a:*admin*"),
        [105, 106, 107, 108, 109, 110, 111, 112]
    );
    // The member's name is asked of the bytes too.
    assert_eq!(ours("json.userAgent:*"), [111, 112]);
    assert_eq!(ours("json.userAgent:curl*"), [111, 112]);
    assert_eq!(ours("json.userAgent:CURL/8"), [111]);
    assert_eq!(ours("json.nested.userAgentX:1"), [112]);
    assert_eq!(ours("-json.userAgent:*"), (101..=110).collect::<Vec<_>>());
    assert_eq!(raw_needles("*1500*"), None);
    assert_eq!(raw_needles("*e-inf*"), None);
    assert_eq!(raw_needles("*role/Admin-x*"), Some("role Admin".into()));
    // The words are asked first: the SQL holds the test of the bytes, before the member is read.
    let sql = auditlens::query::compile(&parse("json.a:*admin*").unwrap(), NOW).sql;
    assert!(sql.starts_with("(raw_has(e.raw, ?) AND "), "{sql}");
}

/// An object whose member names repeat: `json.M:` reads the last member of the name at every level, as the
/// normalizers (the `actor` column, the dashboards), the exports and most JSON parsers do. SQLite's `json_extract`
/// takes the first: before, `json.user:mallory` missed an event the dashboards showed as mallory's, and
/// `json.user:alice` found it.
#[test]
fn a_repeated_member_name_is_read_as_its_last_member() {
    let conn = database();
    let raws = [
        (201, r#"{"user":"alice","user":"mallory"}"#),
        (
            202,
            r#"{"o":{"k":"first"},"x":1,"o":{"k":"second","k":"third"}}"#,
        ),
        (203, r#"{"user":"mallory","user":null}"#),
        (204, r#"{"us\u0065r":"alice","user":"bob"}"#),
    ];
    for (idx, raw) in raws {
        conn.execute(
            "INSERT INTO events (id, archive_id, idx, leaf, raw) VALUES (?1, 1, ?2, x'00', ?3)",
            rusqlite::params![
                auditlens::store::rowid::UNTIMED_BASE + 40_000 + idx,
                idx,
                raw
            ],
        )
        .expect("event");
    }
    let ours = |q: &str| -> Vec<i64> { hits(&conn, q).into_iter().filter(|i| *i > 200).collect() };
    assert_eq!(ours("json.user:mallory"), [201]);
    assert_eq!(ours("json.user:alice"), Vec::<i64>::new());
    assert_eq!(ours("json.user:bob"), [204]);
    assert_eq!(ours("json.user:*"), [201, 204]);
    assert_eq!(ours("json.o.k:third"), [202]);
    assert_eq!(ours("json.o.k:first"), Vec::<i64>::new());
    assert_eq!(ours("json.o.k:second"), Vec::<i64>::new());
    assert_eq!(ours("json.o:*third*"), [202]);
    // What the normalizers read is the same member.
    let actor = |raw: &str| {
        auditlens::sources::normalize_bytes(auditlens::sources::SourceKind::Jsonl, raw.as_bytes())
            .actor
    };
    assert_eq!(actor(raws[0].1).as_deref(), Some("mallory"));
    assert_eq!(actor(raws[3].1).as_deref(), Some("bob"));
}

/// The events the full-text index has not reached are read archive by archive: the archives outside
/// `temp.text_done` first, then their events (compile.rs `FTS_IN`, `CROSS JOIN`). Left to choose, SQLite read every
/// event and decided its text before asking whether its archive was indexed: with the index complete, `platform
/// OR ...` and a query's hints read all of a million events (5.3 s) to find none.
#[test]
fn the_events_the_index_lacks_are_read_archive_by_archive() {
    let conn = database();
    let filter = compile(&parse("bob OR actor:nobody").expect("query"), NOW);
    assert!(filter.sql.contains("text_match"), "{}", filter.sql);
    let plan_of = |sql: &str| -> Vec<String> {
        let explain =
            format!("EXPLAIN QUERY PLAN SELECT EXISTS (SELECT 1 FROM events e WHERE {sql})");
        let mut stmt = conn.prepare(&explain).expect("plan");
        stmt.query_map(params_from_iter(values(&filter.params)), |r| {
            r.get::<_, String>(3)
        })
        .expect("plan rows")
        .collect::<rusqlite::Result<Vec<_>>>()
        .expect("plan rows")
    };
    let position = |plan: &[String], what: &str| plan.iter().position(|l| l.starts_with(what));
    let ours = plan_of(&filter.sql);
    let (a, t) = (position(&ours, "SCAN a"), position(&ours, "SEARCH t"));
    assert!(a.is_some() && t.is_some() && a < t, "{ours:#?}");
    // With a plain JOIN, SQLite walks the events first here.
    let free = plan_of(&filter.sql.replace("CROSS JOIN events t", "JOIN events t"));
    assert!(position(&free, "SCAN t").is_some(), "{free:#?}");
    // And the count is the one of reading every event.
    let count = || -> i64 {
        conn.query_row(
            &format!("SELECT count(*) FROM events e WHERE {}", filter.sql),
            params_from_iter(values(&filter.params)),
            |r| r.get(0),
        )
        .expect("count")
    };
    let n = count();
    conn.execute("DELETE FROM temp.text_done", []).expect("lag");
    assert_eq!(n, count());
    assert!(n > 0);
}
