//! The dashboard commands (overview, deployments, access) against a real database of sealed archives: every
//! number the window shows is the count of its drill-down query in search, the verification summary names the
//! gap, and bad input comes back as an error the UI can show.

use crate::support;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use auditlens::store::stats::{DashboardOptions, Figure, Scope, WorkingHours};
use auditlens_app::commands;
use auditlens_app::error::ErrorCode;
use auditlens_app::state::AppState;
use support::fixtures::{self, Fixtures};

struct Env {
    _tmp: tempfile::TempDir,
    state: AppState,
    fx: Fixtures,
}

/// The k8s archives 1, 2 and 4 (3 is missing: a gap) and the CloudTrail archive, imported under a trusted key.
fn env() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let fx = fixtures::build(&tmp.path().join("fixtures"));
    let state = AppState::new(&tmp.path().join("appdata"), None).unwrap();
    commands::trust_key_file(&state, &fx.ops_pub.display().to_string()).unwrap();
    let e = Env {
        _tmp: tmp,
        state,
        fx,
    };
    import(
        &e.state,
        &[&e.fx.k8s_1, &e.fx.k8s_2, &e.fx.k8s_4, &e.fx.cloudtrail],
    );
    e
}

fn import(state: &AppState, paths: &[&Path]) {
    let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    commands::import_archives(state, &paths, 1, &AtomicBool::new(false), &mut |_| {});
}

fn count(state: &AppState, drill: &str) -> u64 {
    commands::count(state, drill).unwrap_or_else(|e| panic!("{drill}: {}", e.message))
}

fn assert_drills(state: &AppState, what: &str, figures: &[&Figure]) {
    for f in figures {
        assert_eq!(
            count(state, &f.drill),
            f.count,
            "{what} {:?}: the search `{}` must count the figure",
            f.key,
            f.drill
        );
    }
}

#[test]
fn every_overview_figure_is_the_count_of_its_drill_down_search() {
    let e = env();
    let o = commands::overview(&e.state, &Scope::default(), &DashboardOptions::default()).unwrap();
    assert!(o.total.count > 0);
    assert_drills(&e.state, "total", &[&o.total]);
    assert_drills(
        &e.state,
        "category",
        &o.by_category.iter().collect::<Vec<_>>(),
    );
    assert_drills(
        &e.state,
        "outcome",
        &o.by_outcome.iter().collect::<Vec<_>>(),
    );
    assert_drills(&e.state, "source", &o.by_source.iter().collect::<Vec<_>>());
    assert_drills(&e.state, "actor", &o.top_actors.iter().collect::<Vec<_>>());
    let sum: u64 = o.by_category.iter().map(|f| f.count).sum();
    assert_eq!(sum, o.total.count, "the categories add up to the total");
    for s in &o.over_time.series {
        for (c, d) in s.counts.iter().zip(&s.drills) {
            assert_eq!(count(&e.state, d), *c, "bucket of {:?}: {d}", s.key);
        }
    }
    let sources: Vec<_> = o
        .by_source
        .iter()
        .filter_map(|f| f.key.as_deref())
        .collect();
    assert!(
        sources.contains(&"k8s") && sources.contains(&"cloudtrail"),
        "{sources:?}"
    );
    assert!(o.time_range.is_some());
}

#[test]
fn the_overview_says_what_is_not_verified_the_missing_sequence() {
    let e = env();
    let o = commands::overview(&e.state, &Scope::default(), &DashboardOptions::default()).unwrap();
    let v = &o.verification;
    assert!(!v.all_verified, "a gap means not everything is verified");
    assert_eq!((v.archives, v.verified), (4, 4));
    assert_eq!(v.gaps.len(), 1, "{:?}", v.gaps);
    assert_eq!(v.gaps[0].sequence, Some(4));
    assert_eq!(v.gaps[0].origin.as_deref(), Some(fixtures::ORIGIN_K8S));
    assert!(v.failed.is_empty() && v.untrusted.is_empty());
}

#[test]
fn every_deployments_figure_is_the_count_of_its_drill_down_search() {
    let e = env();
    let d =
        commands::deployments(&e.state, &Scope::default(), &DashboardOptions::default()).unwrap();
    assert!(
        d.total.count > 0,
        "create_deployment.json holds a deployment"
    );
    let mut figures = vec![&d.total, &d.failed, &d.off_hours];
    figures.extend(&d.off_hours_by_actor);
    figures.extend(&d.rare_actors);
    for lane in &d.lanes {
        figures.push(&lane.deployments);
        figures.push(&lane.failed);
        assert!(lane.recent.len() as u64 <= lane.deployments.count);
    }
    assert_drills(&e.state, "deployments", &figures);
    for day in &d.per_day {
        assert_eq!(count(&e.state, &day.drill), day.count, "{}", day.day);
    }
    let lanes: u64 = d.lanes.iter().map(|l| l.deployments.count).sum();
    assert_eq!(lanes, d.total.count, "every deployment is in one lane");
    assert_eq!(d.working_hours, "09:00-18:00Z");
}

#[test]
fn every_access_figure_is_the_count_of_its_drill_down_search() {
    let e = env();
    let a = commands::access(&e.state, &Scope::default(), &DashboardOptions::default()).unwrap();
    assert!(a.total.count > 0, "exec_pod.json is an access event");
    let mut figures = vec![&a.total, &a.denied, &a.off_hours];
    figures.extend(&a.denied_by_actor);
    figures.extend(&a.privileged);
    figures.extend(&a.off_hours_by_actor);
    figures.extend(a.first_seen.iter().map(|f| &f.events));
    assert_drills(&e.state, "access", &figures);
    for p in &a.denied_by_actor_resource {
        assert_eq!(count(&e.state, &p.drill), p.count, "{:?}", p);
    }
    for b in &a.bursts {
        assert_eq!(count(&e.state, &b.drill), b.count, "{:?}", b);
    }
    let kinds: Vec<_> = a.privileged.iter().map(|f| f.key.as_deref()).collect();
    assert_eq!(
        kinds,
        [Some("exec"), Some("secret"), Some("role"), Some("login")],
        "the four kinds of privileged access, always"
    );
}

#[test]
fn the_time_range_query_and_working_hours_reach_every_figure() {
    let e = env();
    let all =
        commands::overview(&e.state, &Scope::default(), &DashboardOptions::default()).unwrap();
    let k8s = Scope {
        query: "source:k8s".into(),
        ..Scope::default()
    };
    let o = commands::overview(&e.state, &k8s, &DashboardOptions::default()).unwrap();
    assert!(o.total.count > 0 && o.total.count < all.total.count);
    assert!(o.total.drill.contains("(source:k8s)"), "{}", o.total.drill);
    assert_eq!(count(&e.state, &o.total.drill), o.total.count);

    let span = all.time_range.unwrap();
    let first_hour = Scope {
        from: Some(span.first),
        to: Some(span.first + 3_600_000_000),
        ..Scope::default()
    };
    let o = commands::overview(&e.state, &first_hour, &DashboardOptions::default()).unwrap();
    assert!(o.total.count > 0 && o.total.count <= all.total.count);
    assert!(o.total.drill.contains("after:") && o.total.drill.contains("before:"));
    assert_eq!(count(&e.state, &o.total.drill), o.total.count);

    // Working hours all day every weekday at +05:30: off hours are the weekends only.
    let opts = DashboardOptions {
        working_hours: WorkingHours {
            start_minute: 0,
            end_minute: 24 * 60,
            utc_offset_minutes: 330,
        },
        ..DashboardOptions::default()
    };
    let a = commands::access(&e.state, &Scope::default(), &opts).unwrap();
    assert_eq!(a.working_hours, "00:00-24:00+05:30");
    assert!(
        a.off_hours.drill.contains("workhours:00:00-24:00+05:30"),
        "{}",
        a.off_hours.drill
    );
    assert_eq!(count(&e.state, &a.off_hours.drill), a.off_hours.count);
}

#[test]
fn a_bad_query_or_range_is_an_error_the_window_can_show() {
    let e = env();
    let bad = Scope {
        query: "actor:alice (".into(),
        ..Scope::default()
    };
    let err = commands::overview(&e.state, &bad, &DashboardOptions::default()).unwrap_err();
    assert_eq!(err.code, ErrorCode::Query);
    assert!(err.column.is_some());

    let reversed = Scope {
        from: Some(2_000_000),
        to: Some(1_000_000),
        ..Scope::default()
    };
    let err = commands::deployments(&e.state, &reversed, &DashboardOptions::default()).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(err.message.contains("before its end"), "{}", err.message);

    let opts = DashboardOptions {
        working_hours: WorkingHours {
            start_minute: 18 * 60,
            end_minute: 9 * 60,
            utc_offset_minutes: 0,
        },
        ..DashboardOptions::default()
    };
    let err = commands::access(&e.state, &Scope::default(), &opts).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
}

#[test]
fn an_empty_database_has_dashboards_of_zeros() {
    let tmp = tempfile::tempdir().unwrap();
    let state = AppState::new(&tmp.path().join("appdata"), None).unwrap();
    let o = commands::overview(&state, &Scope::default(), &DashboardOptions::default()).unwrap();
    assert_eq!(o.total.count, 0);
    assert_eq!(o.verification.archives, 0);
    assert!(o.time_range.is_none());
    let d = commands::deployments(&state, &Scope::default(), &DashboardOptions::default()).unwrap();
    assert_eq!(d.total.count, 0);
    assert!(d.lanes.is_empty());
    let a = commands::access(&state, &Scope::default(), &DashboardOptions::default()).unwrap();
    assert_eq!(a.total.count, 0);
}
