//! Normalizer for GitHub organization and enterprise audit log entries, as the audit log API, the log streaming
//! and the web export write them (`action`, `actor`, `@timestamp` / `created_at` in epoch milliseconds, `org`,
//! `repo`, ...). Rules: `docs/sources.md`, "GitHub audit log".

/// This mapper's name and version (docs/sources.md, "Whose rules"): recorded with every archive it normalizes;
/// the number goes up whenever a rule changes what a stored event's fields would be.
pub const MAPPER: &str = "github/2";

use crate::json::Node;

use super::{Normalized, first_text, some, str_at, text_at};

/// Time members, in order: the streaming and API timestamp, then the creation time (version 1 of the mappers).
pub(crate) const TIME_KEYS_V1: [&str; 2] = ["@timestamp", "created_at"];
/// Top-level time members, in order, since version 2 of the mappers (docs/sources.md section 2).
pub(crate) const TIME_KEYS: [&str; 3] = ["@timestamp", "created_at", "p_event_time"];
/// What an action was done to, in order of preference.
const RESOURCE: [&str; 7] = [
    "/repo",
    "/repository",
    "/team",
    "/user",
    "/org",
    "/business",
    "/enterprise",
];
/// Actions that are deployments: a finished GitHub Actions workflow run.
pub const DEPLOYMENT: [&str; 1] = ["workflows.completed_workflow_run"];
/// First segments (before the first `.`) of actions about credentials and app access grants.
pub const ACCESS_FAMILIES: [&str; 7] = [
    "oauth_access",
    "oauth_authorization",
    "personal_access_token",
    "public_key",
    "deploy_key",
    "org_credential_authorization",
    "integration_installation",
];
/// Last segments (after the last `.`) of actions that give someone access to an organization, team or repository.
pub const ACCESS_GRANTS: [&str; 6] = [
    "add_member",
    "invite_member",
    "update_member",
    "add_admin",
    "add_outside_collaborator",
    "add_user",
];
/// Actions that read code.
pub const READS: [&str; 3] = ["git.clone", "git.fetch", "repo.download_zip"];

/// Normalizes one GitHub audit log entry.
pub fn normalize<'t, N: Node<'t>>(event: &N) -> Normalized {
    let action = str_at(event, "/action").filter(|a| !a.is_empty());
    Normalized {
        ts: time(event),
        actor: text_at(event, "/actor"),
        action: text_at(event, "/action"),
        resource: first_text(event, &RESOURCE),
        outcome: outcome(event).map(str::to_owned),
        ip: text_at(event, "/actor_ip"),
        agent: text_at(event, "/user_agent"),
        env: first_text(event, &["/org", "/business"]),
        stage: None,
        category: some(category(action)),
        privilege: None,
    }
}

/// The first of `TIME_KEYS` (`@timestamp`, `created_at`, `p_event_time`) that is a time: a string under the
/// time grammar, or a JSON integer of epoch milliseconds (GitHub's documented unit for both members).
pub fn time<'t, N: Node<'t>>(event: &N) -> Option<i64> {
    super::times::time(super::SourceKind::Github, event)
}

/// Only a finished workflow run says how it ended (`conclusion`).
fn outcome<'t, N: Node<'t>>(event: &N) -> Option<&'static str> {
    match str_at(event, "/conclusion")? {
        "success" => Some("success"),
        "failure" | "timed_out" | "startup_failure" => Some("failure"),
        _ => None,
    }
}

fn category(action: Option<&str>) -> &'static str {
    let Some(action) = action else {
        return "other";
    };
    if DEPLOYMENT.contains(&action) {
        return "deployment";
    }
    let family = action.split('.').next().unwrap_or(action);
    let last = super::last_segment(action);
    if (action.contains('.') && ACCESS_FAMILIES.contains(&family)) || ACCESS_GRANTS.contains(&last)
    {
        return "access";
    }
    if READS.contains(&action) {
        return "read";
    }
    "change"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use serde_json::json;

    #[test]
    fn epoch_milliseconds_and_time_strings_are_times_and_fractions_too_since_version_2() {
        let t = |v: Value| time(&json!({ "@timestamp": v }));
        assert_eq!(t(json!(1_621_305_118_553u64)), Some(1_621_305_118_553_000));
        assert_eq!(
            t(json!("2021-05-18T02:31:58.553Z")),
            Some(1_621_305_118_553_000)
        );
        assert_eq!(
            t(json!("2021-05-18 02:31:58.553")),
            Some(1_621_305_118_553_000)
        );
        assert_eq!(t(json!("2021-05-18 02:31")), None);
        // Version 2 reads a number with a fraction too (as Panther writes them); version 1 did not.
        let fraction: Value = serde_json::from_str(r#"{"created_at": 1621305118553.0}"#).unwrap();
        assert_eq!(time(&fraction), Some(1_621_305_118_553_000));
        let v1 = crate::sources::times::rule(crate::sources::SourceKind::Github, 1).unwrap();
        assert_eq!(v1.time(&fraction), None);
        assert_eq!(t(json!(-1)), Some(-1000));
        assert_eq!(t(json!(i64::MAX)), None);
    }

    #[test]
    fn categories_follow_the_action_lists() {
        assert_eq!(
            category(Some("workflows.completed_workflow_run")),
            "deployment"
        );
        assert_eq!(category(Some("workflows.created_workflow_run")), "change");
        assert_eq!(category(Some("org.add_member")), "access");
        assert_eq!(category(Some("invite_member")), "access");
        assert_eq!(category(Some("public_key.create")), "access");
        assert_eq!(category(Some("public_key")), "change");
        assert_eq!(category(Some("git.clone")), "read");
        assert_eq!(category(Some("git.push")), "change");
        assert_eq!(category(None), "other");
    }
}
