//! Normalizer for Okta System Log events (the `LogEvent` object of the System Log API: `published`, `eventType`,
//! `actor`, `client`, `outcome`, `target`, ...). Top-level members are also read under their all-lowercase name
//! (`eventtype`), as Panther's data lake exports them. Rules: `docs/sources.md`, "Okta System Log".

/// This mapper's name and version (docs/sources.md, "Whose rules"): recorded with every archive it normalizes;
/// the number goes up whenever a rule changes what a stored event's fields would be.
pub const MAPPER: &str = "okta/2";

use crate::json::Node;

use super::{Normalized, first_text, member_or_lowercase, some, text};

/// Time members, in order (version 1 of the mappers).
pub(crate) const TIME_KEYS_V1: [&str; 1] = ["published"];
/// Top-level time members, in order, since version 2 of the mappers (docs/sources.md section 2).
pub(crate) const TIME_KEYS: [&str; 2] = ["published", "p_event_time"];
/// Prefixes of event types about signing in, sessions and tokens.
pub const ACCESS_PREFIXES: [&str; 3] = ["user.session.", "user.authentication.", "app.oauth2."];
/// Event types of access besides those prefixes.
pub const ACCESS: [&str; 3] = [
    "policy.evaluate_sign_on",
    "application.user_membership.show_password",
    "app.generic.unauth_app_access_attempt",
];
/// Last segments of event types that change something.
pub const CHANGES: [&str; 22] = [
    "create",
    "update",
    "delete",
    "add",
    "remove",
    "activate",
    "deactivate",
    "reactivate",
    "suspend",
    "unsuspend",
    "grant",
    "revoke",
    "assign",
    "unassign",
    "lock",
    "unlock",
    "reset",
    "reset_all",
    "reset_password",
    "update_password",
    "expire_password",
    "change",
];

/// Normalizes one Okta System Log event.
pub fn normalize<'t, N: Node<'t>>(event: &N) -> Normalized {
    let member = |name: &str| member_or_lowercase(event, name);
    let at = |name: &str, pointer: &str| member(name).and_then(|v| v.pointer(pointer));
    let kind = member("eventType")
        .and_then(N::str)
        .filter(|k| !k.is_empty());
    let outcome = at("outcome", "/result")
        .and_then(N::str)
        .and_then(outcome_word)
        .map(|o| match (o, kind) {
            ("failure", Some(k)) if is_sign_in(k) => "denied",
            _ => o,
        });
    let category = category(kind, outcome);
    Normalized {
        ts: super::times::time(super::SourceKind::Okta, event),
        actor: member("actor")
            .and_then(|a| first_text(a, &["/alternateId", "/displayName", "/id"])),
        action: text(member("eventType")),
        resource: resource(member("target")),
        outcome: outcome.map(str::to_owned),
        ip: text(at("client", "/ipAddress")).or_else(|| text(at("request", "/ipChain/0/ip"))),
        agent: text(at("client", "/userAgent/rawUserAgent")),
        env: None,
        stage: None,
        category: some(category),
        privilege: (category == "access")
            .then(|| privilege(kind))
            .flatten()
            .map(str::to_owned),
    }
}

/// The first element of `target` with an `alternateId`, `displayName` or `id` text, in that order of members.
fn resource<'t, N: Node<'t>>(target: Option<&N>) -> Option<String> {
    target?
        .items()?
        .iter()
        .find_map(|t| first_text(t, &["/alternateId", "/displayName", "/id"]))
}

/// Sign-in event types, whose `FAILURE` is a refused authentication: `denied`, as a Kubernetes 401.
fn is_sign_in(kind: &str) -> bool {
    kind == "user.session.start" || kind.starts_with("user.authentication.")
}

/// `outcome.result`, ASCII case-insensitively: `SUCCESS`, `ALLOW`; `DENY`; `FAILURE`; `UNKNOWN`. Okta's other
/// results (`CHALLENGE`, `SKIPPED`) say nothing final: no outcome.
fn outcome_word(result: &str) -> Option<&'static str> {
    match result.to_ascii_uppercase().as_str() {
        "SUCCESS" | "ALLOW" => Some("success"),
        "DENY" => Some("denied"),
        "FAILURE" => Some("failure"),
        "UNKNOWN" => Some("unknown"),
        _ => None,
    }
}

fn category(kind: Option<&str>, outcome: Option<&str>) -> &'static str {
    if outcome == Some("denied") {
        return "access";
    }
    let Some(kind) = kind else {
        return "other";
    };
    if ACCESS.contains(&kind) || ACCESS_PREFIXES.iter().any(|p| kind.starts_with(p)) {
        return "access";
    }
    if kind.contains('.') && CHANGES.contains(&super::last_segment(kind)) {
        return "change";
    }
    "other"
}

fn privilege(kind: Option<&str>) -> Option<&'static str> {
    match kind? {
        "user.session.start" | "user.authentication.sso" => Some("login"),
        "user.session.impersonation.initiate" | "user.session.impersonation.grant" => Some("role"),
        "application.user_membership.show_password" => Some("secret"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lowercase_top_level_members_are_read_when_the_camel_case_one_is_absent() {
        let n = normalize(
            &json!({"eventtype": "user.session.start", "outcome": {"result": "FAILURE"}}),
        );
        assert_eq!(n.action.as_deref(), Some("user.session.start"));
        assert_eq!(
            n.outcome.as_deref(),
            Some("denied"),
            "a failed sign-in is refused access"
        );
        assert_eq!(n.privilege.as_deref(), Some("login"));
        let both = normalize(&json!({"eventType": "a.create", "eventtype": "user.session.start"}));
        assert_eq!(both.action.as_deref(), Some("a.create"));
        assert_eq!(both.category.as_deref(), Some("change"));
    }

    #[test]
    fn deny_is_a_denied_access_and_challenge_has_no_outcome() {
        let n = normalize(
            &json!({"eventType": "system.operation.rate_limit.violation", "outcome": {"result": "DENY"}}),
        );
        assert_eq!(n.outcome.as_deref(), Some("denied"));
        assert_eq!(n.category.as_deref(), Some("access"));
        let f =
            normalize(&json!({"eventType": "user.account.lock", "outcome": {"result": "FAILURE"}}));
        assert_eq!(f.outcome.as_deref(), Some("failure"));
        let c = normalize(
            &json!({"eventType": "policy.evaluate_sign_on", "outcome": {"result": "CHALLENGE"}}),
        );
        assert_eq!(c.outcome, None);
        assert_eq!(c.category.as_deref(), Some("access"));
    }
}
