//! Dashboards and `auditlens stats` over a store of real fixture logs: Kubernetes (audit2rbac, the falco trace
//! files, and the three stage records of one exec request), CloudTrail (AWS documentation examples), Okta (Panther
//! tests and scenarios) and Slack (through a mapping file), all verified; Teleport kept flagged untrusted.
//!
//! The expected numbers were counted from the raw files with a short Python transcription of the rules of
//! docs/sources.md (not with our code): 199 records of which 4 are Kubernetes `RequestReceived` / `ResponseStarted`
//! records, so 195 requests. Every figure of every dashboard must equal the count of its drill-down search.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use auditlens::note::SignerKey;
use auditlens::seal::{SealOptions, seal};
use auditlens::store::Store;
use auditlens::store::import::{ImportOptions, ImportOutcome};
use auditlens::store::stats::{DashboardOptions, Scope, WorkingHours};
use serde_json::Value;

const NOW: i64 = 1_800_000_000_000_000;
const EXEC_AUDIT_ID: &str = "ca1ed9f4-7bf4-4c85-81a8-1b11253d1ba6";

struct Lab {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    db: PathBuf,
}

fn k8s_inputs() -> Vec<PathBuf> {
    let mut inputs = vec![fixture(K8S_LOG)];
    let mut falco: Vec<PathBuf> = std::fs::read_dir(fixture("logs/k8s_audit/falco_trace_files"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    falco.sort();
    inputs.extend(falco);
    inputs.push(fixture("logs/k8s_audit/stages/exec_pod_stages.jsonl"));
    inputs
}

fn okta_inputs() -> Vec<PathBuf> {
    let mut inputs = vec![fixture("logs/okta/panther/Okta_SystemLog.jsonl")];
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(fixture("logs/okta/panther_scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    scenarios.sort();
    inputs.extend(scenarios);
    inputs
}

/// The store every test reads (built once per test; sealing and importing 220 events takes well under a second).
fn lab() -> Lab {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let db = dir.join("store.db");
    let other = key("someone-else");
    let key = key("ops");
    let seal_one =
        |name: &str, key: &SignerKey, origin: &str, inputs: &[PathBuf], mapping: Option<&Path>| {
            let out = dir.join(name);
            seal(&SealOptions {
                key,
                origin,
                prev: None,
                format: None,
                mapping,
                out: &out,
                inputs,
                receive: false,
            })
            .unwrap();
            out
        };
    let archives = [
        seal_one("k8s.zip", &key, "example.com/prod/k8s", &k8s_inputs(), None),
        seal_one(
            "ct.zip",
            &key,
            "aws/111122223333/trail",
            &[fixture(CLOUDTRAIL_LOG)],
            None,
        ),
        seal_one("okta.zip", &key, "okta/example", &okta_inputs(), None),
        seal_one(
            "slack.zip",
            &key,
            "slack/example",
            &[fixture(
                "logs/misc_saas_audit/panther/Slack_AuditLogs.jsonl",
            )],
            Some(&fixture("mappings/slack-audit.toml")),
        ),
    ];
    let untrusted = seal_one(
        "teleport.zip",
        &other,
        "teleport/example",
        &[fixture(
            "logs/teleport/panther/Gravitational_TeleportAudit.jsonl",
        )],
        None,
    );
    let mut store = Store::open(&db).unwrap();
    let trusted = [key.verifier()];
    for a in &archives {
        let r = store
            .import_archive(
                a,
                &ImportOptions {
                    trust: &auditlens::trust::TrustPolicy::from_keys(&trusted),
                    keep_failed: false,
                },
                &mut |_| true,
            )
            .unwrap();
        assert_eq!(
            r.outcome,
            ImportOutcome::Imported,
            "{}: {}",
            a.display(),
            r.message
        );
    }
    let r = store
        .import_archive(
            &untrusted,
            &ImportOptions {
                trust: &auditlens::trust::TrustPolicy::from_keys(&trusted),
                keep_failed: true,
            },
            &mut |_| true,
        )
        .unwrap();
    assert_eq!(r.outcome, ImportOutcome::Untrusted);
    assert!(r.stored);
    Lab { _tmp: tmp, dir, db }
}

fn map(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

#[test]
fn stats_counts_requests_over_verified_archives_as_counted_by_hand() {
    let lab = lab();
    let store = Store::open(&lab.db).unwrap();
    let s = store.stats(&Scope::default(), 5, NOW).unwrap();
    assert_eq!(s.total, 195);
    assert_eq!(
        s.by_source,
        map(&[
            ("k8s", 56),
            ("cloudtrail", 19),
            ("okta", 76),
            ("mapping:slack-audit", 44)
        ])
    );
    assert_eq!(
        s.by_category,
        map(&[
            ("access", 106),
            ("change", 67),
            ("deployment", 6),
            ("other", 16),
            ("read", 0)
        ])
    );
    assert_eq!(
        s.by_outcome,
        map(&[
            ("denied", 35),
            ("success", 95),
            ("unknown", 1),
            ("failure", 7),
            ("(none)", 57)
        ])
    );
    let top: Vec<(&str, u64)> = s
        .top_actors
        .iter()
        .map(|a| (a.actor.as_str(), a.count))
        .collect();
    assert_eq!(
        top,
        [
            ("user@example.com", 41),
            ("system:admin as bob", 29),
            ("homer.simpson@duff.com", 27),
            ("jack.naglieri@runpanther.io", 17),
            ("minikube-user", 13),
        ]
    );
    let days: Vec<(&str, u64)> = s
        .deployments_per_day
        .iter()
        .map(|d| (d.day.as_str(), d.count))
        .collect();
    assert_eq!(days, [("2018-10-26", 2)]);
    assert_eq!(
        s.drill.by_category["deployment"],
        "category:deployment -stage:RequestReceived -stage:ResponseStarted status:verified"
    );
}

#[test]
fn records_of_a_request_in_progress_are_searchable_but_not_counted() {
    let lab = lab();
    let store = Store::open(&lab.db).unwrap();
    // The exec request: falco's ResponseStarted record and the three stage records of the same audit ID.
    assert_eq!(store.count(EXEC_AUDIT_ID, NOW).unwrap(), 4);
    let scope = Scope {
        query: EXEC_AUDIT_ID.into(),
        ..Scope::default()
    };
    let s = store.stats(&scope, 5, NOW).unwrap();
    assert_eq!(s.total, 1, "one request: its ResponseComplete record");
    assert_eq!(s.by_category["access"], 1);
    assert_eq!(store.count(&s.drill.total, NOW).unwrap(), 1);
    // Without a query, from the summary tables: the same rule.
    let access = store
        .access(&Scope::default(), &DashboardOptions::default(), NOW)
        .unwrap();
    let exec = access
        .privileged
        .iter()
        .find(|f| f.key.as_deref() == Some("exec"))
        .unwrap();
    assert_eq!(
        exec.count, 1,
        "exec_pod and attach_pod are ResponseStarted records"
    );
    // Searchable: falco's exec_pod and attach_pod, the three stage records, and Teleport's session.start (in the
    // kept untrusted archive).
    assert_eq!(store.count("privilege:exec", NOW).unwrap(), 6);
}

#[test]
fn unverified_archives_count_only_when_asked() {
    let lab = lab();
    let store = Store::open(&lab.db).unwrap();
    let all = Scope {
        include_unverified: true,
        ..Scope::default()
    };
    let s = store.stats(&all, 5, NOW).unwrap();
    assert_eq!(s.total, 195 + 21);
    assert_eq!(s.by_source.get("teleport"), Some(&21));
    assert!(!s.drill.total.contains("status:"));
    let o = store
        .overview(&Scope::default(), &DashboardOptions::default(), NOW)
        .unwrap();
    assert!(!o.verification.all_verified);
    assert_eq!(o.verification.archives, 5);
    assert_eq!(o.verification.verified, 4);
    assert_eq!(o.verification.untrusted.len(), 1);
    assert_eq!(
        o.verification.untrusted[0].origin.as_deref(),
        Some("teleport/example")
    );
    // Search shows the kept untrusted events; the figures' drill-downs do not.
    assert_eq!(store.count("source:teleport", NOW).unwrap(), 21);
    assert_eq!(
        store.count("source:teleport status:verified", NOW).unwrap(),
        0
    );
}

#[test]
fn a_burst_of_denied_sign_ins_is_found_in_the_okta_scenario() {
    let lab = lab();
    let store = Store::open(&lab.db).unwrap();
    let a = store
        .access(&Scope::default(), &DashboardOptions::default(), NOW)
        .unwrap();
    // okta-add-administrator__brute_force_logins: nine failed sign-ins from 21:27:03.49 to 21:36:03.49; and,
    // since Panther's space-form times are read, five of homer.simpson in Okta_SystemLog.jsonl.
    assert_eq!(a.bursts.len(), 2, "{:?}", a.bursts);
    assert_eq!(
        (a.bursts[1].actor.as_str(), a.bursts[1].count),
        ("homer.simpson@duff.com", 5)
    );
    assert_eq!(a.bursts[1].start, "2022-06-22T18:18:29.015Z");
    let b = &a.bursts[0];
    assert_eq!(
        (b.actor.as_str(), b.count),
        ("jack.naglieri@runpanther.io", 9)
    );
    assert_eq!(b.start, "2021-06-25T21:27:03.490Z");
    assert_eq!(a.denied.count, 35);
    let d = store
        .deployments(&Scope::default(), &DashboardOptions::default(), NOW)
        .unwrap();
    assert_eq!(d.total.count, 6);
    assert_eq!(d.failed.count, 0);
}

#[test]
fn first_seen_actors_and_denied_pairs_agree_with_a_direct_computation() {
    let lab = lab();
    let store = Store::open(&lab.db).unwrap();
    let raw = rusqlite::Connection::open(&lab.db).unwrap();
    let opts = DashboardOptions {
        top: 50,
        ..DashboardOptions::default()
    };
    let counted = "(stage IS NULL OR (stage <> 'RequestReceived' AND stage <> 'ResponseStarted')) \
                   AND archive_id IN (SELECT id FROM archives WHERE status = 'verified')";
    for (query, filter) in [
        ("", "1"),
        ("source:k8s", "source = 'k8s'"),
        (
            "actor:system:* OR source:okta",
            "(actor LIKE 'system:%' OR source = 'okta')",
        ),
        // The denied rows are read along the index of denied events with the scope's terms only: a scope that
        // names the outcome itself, either way, must still give what SQL counts.
        ("outcome:success", "outcome = 'success'"),
        (
            "outcome:denied source:okta",
            "outcome = 'denied' AND source = 'okta'",
        ),
    ] {
        let scope = Scope {
            query: query.into(),
            ..Scope::default()
        };
        let a = store.access(&scope, &opts, NOW).unwrap();
        // First seen, with no time range: every actor, most recent first time first (then by name).
        let mut expected: Vec<(String, i64)> = raw
            .prepare(&format!(
                "SELECT actor, min(ts) FROM events WHERE actor IS NOT NULL AND ts IS NOT NULL \
                 AND {counted} AND {filter} GROUP BY actor"
            ))
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        expected.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then_with(|| a.0.to_lowercase().cmp(&b.0.to_lowercase()))
        });
        expected.truncate(opts.top);
        let found: Vec<(String, i64)> = a
            .first_seen
            .iter()
            .map(|f| (f.actor.clone(), f.first_seen))
            .collect();
        assert!(!found.is_empty(), "{query:?}");
        assert_eq!(found, expected, "first seen, query {query:?}");
        // Denied pairs: counts by actor and resource, largest first; denials without an actor are not ranked.
        let mut pairs: Vec<(Option<String>, Option<String>, u64)> = raw
            .prepare(&format!(
                "SELECT actor, resource, count(*) FROM events WHERE outcome = 'denied' AND actor IS NOT NULL \
                 AND {counted} AND {filter} GROUP BY actor, resource"
            ))
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let lower = |v: &Option<String>| v.as_ref().map(|s| s.to_lowercase());
        pairs.sort_by(|a, b| {
            b.2.cmp(&a.2)
                .then_with(|| lower(&a.0).cmp(&lower(&b.0)))
                .then_with(|| lower(&a.1).cmp(&lower(&b.1)))
        });
        pairs.truncate(opts.top);
        let got: Vec<(Option<String>, Option<String>, u64)> = a
            .denied_by_actor_resource
            .iter()
            .map(|p| (p.actor.clone(), p.resource.clone(), p.count))
            .collect();
        assert_eq!(got, pairs, "denied pairs, query {query:?}");
    }
}

/// Every figure in a serialized result, as (count, drill).
fn figures(v: &Value, out: &mut Vec<(u64, String)>) {
    match v {
        Value::Object(m) => {
            if let (Some(Value::Number(n)), Some(Value::String(d))) =
                (m.get("count"), m.get("drill"))
            {
                out.push((n.as_u64().unwrap(), d.clone()));
            }
            if let (Some(Value::Array(c)), Some(Value::Array(d))) =
                (m.get("counts"), m.get("drills"))
            {
                assert_eq!(c.len(), d.len());
                for (c, d) in c.iter().zip(d) {
                    out.push((c.as_u64().unwrap(), d.as_str().unwrap().to_owned()));
                }
            }
            for x in m.values() {
                figures(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| figures(x, out)),
        _ => {}
    }
}

fn assert_drills(store: &Store, label: &str, result: &impl serde::Serialize) -> usize {
    let mut all = Vec::new();
    figures(&serde_json::to_value(result).unwrap(), &mut all);
    for (count, drill) in &all {
        let found = store
            .count(drill, NOW)
            .unwrap_or_else(|e| panic!("{label}: drill-down {drill:?} does not parse: {e}"));
        assert_eq!(
            found, *count,
            "{label}: figure {count} but its drill-down {drill:?} counts {found}"
        );
        // `count` may answer from the summary tables, as the figure did: the events themselves agree.
        assert_eq!(
            store.count_events(drill, NOW).unwrap(),
            *count,
            "{label}: figure {count} but the events its drill-down {drill:?} matches are not as many"
        );
    }
    all.len()
}

#[test]
fn every_figure_equals_the_count_of_its_drill_down_search() {
    let lab = lab();
    let store = Store::open(&lab.db).unwrap();
    let t = |s: &str| auditlens::time::parse_rfc3339(s).unwrap();
    let scopes = [
        ("everything", Scope::default()),
        (
            "with unverified",
            Scope {
                include_unverified: true,
                ..Scope::default()
            },
        ),
        // Unaligned bounds: whole hours from the summaries, the partial hours at both ends from the events.
        (
            "range",
            Scope {
                from: Some(t("2018-10-26T13:05:00.5Z")),
                to: Some(t("2021-06-25T21:33:00Z")),
                ..Scope::default()
            },
        ),
        (
            "within one hour",
            Scope {
                from: Some(t("2018-10-26T13:07:00Z")),
                to: Some(t("2018-10-26T13:40:00Z")),
                ..Scope::default()
            },
        ),
        (
            "within one minute",
            Scope {
                from: Some(t("2018-10-26T13:07:10Z")),
                to: Some(t("2018-10-26T13:07:50Z")),
                ..Scope::default()
            },
        ),
        (
            "minutes and microseconds",
            Scope {
                from: Some(t("2018-10-26T13:07:36.911442Z")),
                to: Some(t("2021-06-25T21:32:03.490001Z")),
                ..Scope::default()
            },
        ),
        (
            "from only",
            Scope {
                from: Some(t("2021-01-01T00:00:00Z")),
                ..Scope::default()
            },
        ),
        (
            "to only",
            Scope {
                to: Some(t("2019-01-01T00:00:00Z")),
                ..Scope::default()
            },
        ),
        // With a query, everything is aggregated from the matching events.
        (
            "query",
            Scope {
                query: "actor:system:* OR source:okta".into(),
                ..Scope::default()
            },
        ),
        (
            "query and range",
            Scope {
                query: "NOT outcome:success".into(),
                from: Some(t("2018-01-01T00:00:00Z")),
                ..Scope::default()
            },
        ),
        // Patterns resolved to the values they match (store/resolve.rs), in the figures and in their drills.
        (
            "patterns",
            Scope {
                query: "actor:*minikube* OR resource:/secret/ OR -action:*a*".into(),
                ..Scope::default()
            },
        ),
        (
            "free text",
            Scope {
                query: "secrets".into(),
                include_unverified: true,
                ..Scope::default()
            },
        ),
    ];
    let aligned = DashboardOptions::default();
    let unaligned = DashboardOptions {
        working_hours: WorkingHours::parse("08:30-17:00+05:30").unwrap(),
        burst_min: 2,
        burst_window_secs: 3600,
        rare_max: 5,
        ..DashboardOptions::default()
    };
    let mut checked = 0;
    for (label, scope) in &scopes {
        for (o, opts) in [("default", &aligned), ("+05:30", &unaligned)] {
            let label = format!("{label}, {o}");
            checked += assert_drills(&store, &label, &store.overview(scope, opts, NOW).unwrap());
            checked += assert_drills(
                &store,
                &label,
                &store.deployments(scope, opts, NOW).unwrap(),
            );
            checked += assert_drills(&store, &label, &store.access(scope, opts, NOW).unwrap());
        }
        let s = store.stats(scope, 10, NOW).unwrap();
        checked += assert_drills(&store, label, &s);
        assert_eq!(
            store.count(&s.drill.total, NOW).unwrap(),
            s.total,
            "{label}: total"
        );
        for (field, counts, drills) in [
            ("category", &s.by_category, &s.drill.by_category),
            ("outcome", &s.by_outcome, &s.drill.by_outcome),
            ("source", &s.by_source, &s.drill.by_source),
        ] {
            assert_eq!(
                counts.keys().collect::<Vec<_>>(),
                drills.keys().collect::<Vec<_>>()
            );
            assert_eq!(
                counts.values().sum::<u64>(),
                s.total,
                "{label}: {field}s add up to the total"
            );
            for (k, n) in counts {
                assert_eq!(
                    store.count(&drills[k], NOW).unwrap(),
                    *n,
                    "{label}: {field} {k}"
                );
                checked += 1;
            }
        }
    }
    // Every figure of the 12 scopes under both dashboard options on these fixtures (the number the current
    // dashboards produce, not counted independently): a figure that stops being checked is noticed.
    assert_eq!(checked, 5859, "{checked} figures checked");
}

#[test]
fn the_summary_tables_answer_without_a_query_and_the_events_with_one() {
    let lab = lab();
    let store = Store::open(&lab.db).unwrap();
    // Corrupting a summary row changes the query-less figure (it comes from the summary) but not the figure
    // computed with a query that selects everything; `check` names the table.
    let raw = rusqlite::Connection::open(&lab.db).unwrap();
    raw.execute("UPDATE rollup_hourly SET n = n + 1000 WHERE rowid = (SELECT min(rowid) FROM rollup_hourly)", [])
        .unwrap();
    let fast = store.stats(&Scope::default(), 5, NOW).unwrap();
    let slow = store
        .stats(
            &Scope {
                query: "status:*".into(),
                ..Scope::default()
            },
            5,
            NOW,
        )
        .unwrap();
    assert_eq!(fast.total, 195 + 1000);
    assert_eq!(slow.total, 195);
    let check = store.check(&[], &mut |_| true).unwrap();
    assert!(
        check
            .problems
            .iter()
            .any(|p| p.message.contains("rollup_hourly")),
        "{:?}",
        check.problems
    );
}

fn cli(args: &[&str], db: &Path) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_auditlens"))
        .arg("stats")
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_stats_command_prints_json_with_drill_downs_and_exits_2_for_a_bad_query() {
    let lab = lab();
    let (code, out, err) = cli(&["--json"], &lab.db);
    assert_eq!(code, Some(0), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["total"], 195);
    assert_eq!(v["by_category"]["deployment"], 6);
    assert_eq!(v["by_outcome"]["denied"], 35);
    assert_eq!(v["by_source"]["okta"], 76);
    assert_eq!(v["top_actors"][0]["actor"], "user@example.com");
    assert_eq!(v["top_actors"][0]["count"], 41);
    assert_eq!(v["deployments_per_day"][0]["day"], "2018-10-26");
    assert_eq!(
        v["drill"]["total"],
        "-stage:RequestReceived -stage:ResponseStarted status:verified"
    );
    assert!(
        v["top_actors"][0]["drill"]
            .as_str()
            .unwrap()
            .starts_with("actor:user@example.com ")
    );

    let (code, out, _) = cli(&["--json", "--all", "source:teleport"], &lab.db);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["total"], 21);
    assert_eq!(
        v["drill"]["total"],
        "-stage:RequestReceived -stage:ResponseStarted (source:teleport)"
    );

    let (code, out, _) = cli(
        &["--json", "--from", "2021-06-25", "--to", "2021-06-26"],
        &lab.db,
    );
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["total"], 10, "the brute-force scenario day");

    let (code, out, _) = cli(&[], &lab.db);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("195 requests"), "{out}");
    let (code, _, err) = cli(&["actor:"], &lab.db);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("actor:"), "{err}");
    let (code, _, err) = cli(&["--from", "yesterday"], &lab.db);
    assert_eq!(code, Some(2), "{err}");
    let (code, _, _) = cli(&[], &lab.dir.join("missing.db"));
    assert_eq!(code, Some(2));
}

#[test]
fn a_search_shaped_like_a_drill_down_counts_from_the_summaries_as_many_as_its_events() {
    let lab = lab();
    let store = Store::open(&lab.db).unwrap();
    let base = "-stage:RequestReceived -stage:ResponseStarted";
    // Every query of the shape the summary tables answer, on scopes of whole hours, partial hours and minutes,
    // unverified archives included or not, values in other cases, and time bounds the events lack.
    let mut queries = Vec::new();
    for status in ["", " status:verified", " STATUS:Verified"] {
        for range in [
            "",
            " after:2019-01-01T00:00:00Z",
            " before:2023-06-01T13:17:42.5Z",
            " after:2017-01-01T10:17:00Z before:2031-01-01T00:00:00Z",
            " after:2000-01-01T00:00:00Z after:2019-03-01T07:07:07Z before:2040-01-01T00:00:00Z",
            " since:3650d",
        ] {
            for terms in [
                "",
                " category:access",
                " CATEGORY:ACCESS outcome:denied",
                " (source:k8s OR source:cloudtrail OR source:okta)",
                " privilege:*",
                " env:* actor:*",
                " actor:system:serviceaccount:kube-system:replicaset-controller",
                " outcome:DENIED env:default",
                " source:nothing-like-it",
            ] {
                queries.push(format!("{base}{status}{range}{terms}"));
            }
        }
    }
    queries.push("-stage:responsestarted -stage:REQUESTRECEIVED".into());
    let mut nonzero = 0;
    for q in &queries {
        let (fast, slow) = (
            store.count(q, NOW).unwrap(),
            store.count_events(q, NOW).unwrap(),
        );
        assert_eq!(fast, slow, "{q}");
        nonzero += usize::from(fast > 0);
    }
    assert!(
        nonzero > queries.len() / 2,
        "{nonzero} of {}",
        queries.len()
    );
}

/// A store in `dir` holding `lines` as one verified Kubernetes archive.
fn store_of(dir: &Path, lines: &[String]) -> (PathBuf, Store) {
    let log = write_lines(dir, "audit.log", lines);
    let key = key("ops");
    let archive = seal_to(dir, "a.zip", &key, "example.com/k8s", None, &[log]);
    let db = dir.join("store.db");
    let mut store = Store::open(&db).unwrap();
    let r = store
        .import_archive(
            &archive,
            &ImportOptions {
                trust: &auditlens::trust::TrustPolicy::from_keys(&[key.verifier()]),
                keep_failed: false,
            },
            &mut |_| true,
        )
        .unwrap();
    assert_eq!(r.outcome, ImportOutcome::Imported, "{}", r.message);
    (db, store)
}

#[test]
fn denials_of_no_actor_are_counted_but_not_ranked_as_an_actor() {
    let tmp = tempfile::tempdir().unwrap();
    let k8s = |i: usize, user: &str| {
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a{i}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/secrets/db","verb":"get","user":{user},"sourceIPs":["10.0.0.1"],"objectRef":{{"resource":"secrets","namespace":"default","name":"db"}},"responseStatus":{{"code":403}},"requestReceivedTimestamp":"2024-05-01T00:00:0{i}Z","stageTimestamp":"2024-05-01T00:00:0{i}Z"}}"#
        )
    };
    let mut lines: Vec<String> = (0..5).map(|i| k8s(i, "{}")).collect();
    lines.extend((5..7).map(|i| k8s(i, r#"{"username":"mallory"}"#)));
    let (_, store) = store_of(tmp.path(), &lines);
    let a = store
        .access(&Scope::default(), &DashboardOptions::default(), NOW)
        .unwrap();
    assert_eq!(a.denied.count, 7);
    let pairs: Vec<(Option<&str>, u64)> = a
        .denied_by_actor_resource
        .iter()
        .map(|p| (p.actor.as_deref(), p.count))
        .collect();
    assert_eq!(pairs, vec![(Some("mallory"), 2)]);
    let actors: Vec<Option<&str>> = a.denied_by_actor.iter().map(|f| f.key.as_deref()).collect();
    assert_eq!(actors, vec![Some("mallory")]);
}

#[test]
fn stats_lists_only_the_days_with_deployments_and_says_how_many_days_there_were() {
    let tmp = tempfile::tempdir().unwrap();
    let patch = |i: usize, day: &str| {
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"d{i}","stage":"ResponseComplete","requestURI":"/apis/apps/v1/namespaces/prod/deployments/web","verb":"patch","user":{{"username":"alice"}},"sourceIPs":["10.0.0.1"],"objectRef":{{"resource":"deployments","namespace":"prod","name":"web","apiGroup":"apps"}},"responseStatus":{{"code":200}},"requestReceivedTimestamp":"{day}T10:00:0{i}Z","stageTimestamp":"{day}T10:00:0{i}Z"}}"#
        )
    };
    let lines = vec![
        patch(1, "2024-05-01"),
        patch(2, "2024-05-01"),
        patch(3, "2024-05-11"),
    ];
    let (db, store) = store_of(tmp.path(), &lines);
    drop(store);
    // --json keeps every day, zeros included.
    let (code, out, _) = cli(&["--json"], &db);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["deployments_per_day"].as_array().unwrap().len(), 11);
    // The text lists the two days with deployments, and says how many days there were.
    let (code, out, _) = cli(&[], &db);
    assert_eq!(code, Some(0));
    let at = out
        .find("deployments per day (UTC):")
        .unwrap_or_else(|| panic!("{out}"));
    let listed: Vec<&str> = out[at..].lines().collect();
    assert_eq!(
        listed[0],
        "deployments per day (UTC): 2 of 11 days with deployments (days without any not listed)"
    );
    assert_eq!(
        listed[1].split_whitespace().collect::<Vec<_>>(),
        ["2024-05-01", "2"]
    );
    assert_eq!(
        listed[2].split_whitespace().collect::<Vec<_>>(),
        ["2024-05-11", "1"]
    );
    assert!(
        !listed.get(3).is_some_and(|l| l.starts_with("  2024-")),
        "{out}"
    );
}

#[test]
fn every_dashboard_says_how_many_events_of_its_scope_have_no_time_whatever_its_range() {
    let lab = lab();
    let store = Store::open(&lab.db).unwrap();
    let opts = DashboardOptions::default();
    let all = store.overview(&Scope::default(), &opts, NOW).unwrap();
    assert!(
        all.untimed.count > 0,
        "the fixtures have events without a time"
    );
    assert!(
        all.untimed.drill.contains("-time:*"),
        "{}",
        all.untimed.drill
    );
    // A time range leaves them out of every figure, and says how many it left out.
    let ranged = Scope {
        from: Some(0),
        to: Some(NOW),
        ..Scope::default()
    };
    let o = store.overview(&ranged, &opts, NOW).unwrap();
    assert_eq!(o.untimed.count, all.untimed.count);
    assert_eq!(
        o.total.count + o.untimed.count,
        all.total.count,
        "every counted event is either in the range or without a time"
    );
    assert!(!o.untimed.drill.contains("after:"), "{}", o.untimed.drill);
    assert_eq!(store.count(&o.untimed.drill, NOW).unwrap(), o.untimed.count);
    let d = store.deployments(&ranged, &opts, NOW).unwrap();
    assert_eq!(store.count(&d.untimed.drill, NOW).unwrap(), d.untimed.count);
    assert!(
        d.untimed.drill.contains("category:deployment"),
        "{}",
        d.untimed.drill
    );
    let a = store.access(&ranged, &opts, NOW).unwrap();
    assert_eq!(a.untimed.count, all.untimed.count);
}

#[test]
fn identities_count_as_one_person_in_every_list_of_actors_and_drill_down_to_person() {
    let tmp = tempfile::tempdir().unwrap();
    let k8s = |i: usize, user: &str, code: u16| {
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"p{i}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/secrets/db","verb":"get","user":{{"username":"{user}"}},"sourceIPs":["10.0.0.1"],"objectRef":{{"resource":"secrets","namespace":"default","name":"db"}},"responseStatus":{{"code":{code}}},"requestReceivedTimestamp":"2024-05-01T02:00:{i:02}Z","stageTimestamp":"2024-05-01T02:00:{i:02}Z"}}"#
        )
    };
    // bob leads by actor value (4), anaya's three values hold 2 + 2 + 1 = 5; "Anaya" is the ASCII-case
    // spelling of an unaliased actor named like the person.
    let who = [
        "bob",
        "bob",
        "bob",
        "bob",
        "anaya",
        "Anaya",
        "arn:aws:iam::1:user/anaya",
        "arn:aws:iam::1:user/anaya",
        "anaya@example.com",
        "carol",
    ];
    let lines: Vec<String> = who
        .iter()
        .enumerate()
        .map(|(i, w)| k8s(i, w, if i % 2 == 0 { 403 } else { 200 }))
        .collect();
    let (db, store) = store_of(tmp.path(), &lines);
    let actors = |figures: &[auditlens::store::stats::Figure]| -> Vec<(String, u64)> {
        figures
            .iter()
            .map(|f| (f.key.clone().unwrap_or_default(), f.count))
            .collect()
    };
    let before = store
        .overview(&Scope::default(), &DashboardOptions::default(), NOW)
        .unwrap();
    assert_eq!(actors(&before.top_actors)[0], ("bob".into(), 4));
    assert!(before.top_actors.iter().all(|f| f.identities.is_none()));
    let mut papers = auditlens::papers::Papers::open(&db).unwrap();
    papers
        .set_alias("arn:aws:iam::1:user/anaya", "anaya")
        .unwrap();
    papers.set_alias("anaya@example.com", "anaya").unwrap();
    let opts = DashboardOptions {
        top: 2,
        ..DashboardOptions::default()
    };
    let o = store.overview(&Scope::default(), &opts, NOW).unwrap();
    assert_eq!(
        actors(&o.top_actors),
        [("anaya".into(), 5), ("bob".into(), 4)],
        "the top is taken after folding, so anaya's values outrank bob together"
    );
    assert!(
        o.top_actors[0].drill.starts_with("person:anaya "),
        "{}",
        o.top_actors[0].drill
    );
    // `anaya` and `Anaya` are one actor (ASCII case-insensitive, as everywhere): either spelling names it.
    let ids: Vec<String> = o.top_actors[0]
        .identities
        .as_deref()
        .unwrap()
        .iter()
        .map(|i| i.to_ascii_lowercase())
        .collect();
    assert_eq!(
        ids,
        ["anaya", "anaya@example.com", "arn:aws:iam::1:user/anaya"]
    );
    assert_eq!(o.top_actors[1].identities, None);
    // Denied (even indexes): bob 2, anaya 1 + 1 + 1 = 3 (anaya, one ARN, the e-mail), carol 0.
    let a = store.access(&Scope::default(), &opts, NOW).unwrap();
    assert_eq!(
        actors(&a.denied_by_actor),
        [("anaya".into(), 3), ("bob".into(), 2)]
    );
    assert!(
        a.denied_by_actor[0]
            .drill
            .starts_with("outcome:denied person:anaya "),
        "{}",
        a.denied_by_actor[0].drill
    );
    // `stats` (the CLI's) names the person with the values counted together.
    let s = store.stats(&Scope::default(), 1, NOW).unwrap();
    assert_eq!(s.top_actors[0].actor, "anaya");
    assert_eq!(s.top_actors[0].count, 5);
    assert_eq!(s.top_actors[0].identities.as_ref().unwrap().len(), 3);
    // Every figure, folded or not, is as many as its drill-down finds, with and without a query.
    let query = Scope {
        query: "-actor:carol".into(),
        ..Scope::default()
    };
    for scope in [Scope::default(), query] {
        assert_drills(
            &store,
            "identities",
            &store.overview(&scope, &opts, NOW).unwrap(),
        );
        assert_drills(
            &store,
            "identities",
            &store.access(&scope, &opts, NOW).unwrap(),
        );
        assert_drills(
            &store,
            "identities",
            &store.deployments(&scope, &opts, NOW).unwrap(),
        );
        assert_drills(&store, "identities", &store.stats(&scope, 3, NOW).unwrap());
    }
    let (code, out, _) = cli(&["--top", "1"], &db);
    assert_eq!(code, Some(0));
    assert!(
        out.to_ascii_lowercase()
            .contains("5  anaya (person: anaya, anaya@example.com, arn:aws:iam::1:user/anaya)"),
        "{out}"
    );
    // Without the aliases, the lists are by actor value again.
    assert!(papers.remove_alias("anaya@example.com").unwrap());
    assert!(papers.remove_alias("arn:aws:iam::1:user/anaya").unwrap());
    let after = store.overview(&Scope::default(), &opts, NOW).unwrap();
    assert_eq!(actors(&after.top_actors)[0], ("bob".into(), 4));
}
