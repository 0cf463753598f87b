//! Normalizer for any other JSON object (archives of kind `jsonl`): a short, fixed list of common field names per
//! normalized field, the first usable one wins. Conservative on purpose: no guessing from values, category
//! always "other". Rules: `docs/sources.md`, "Other JSON".

/// This mapper's name and version (docs/sources.md, "Whose rules"): recorded with every archive it normalizes;
/// the number goes up whenever a rule changes what a stored event's fields would be.
pub const MAPPER: &str = "jsonl/2";

use crate::json::Node;

use super::{Normalized, first_text, some};

/// Top-level time keys, in order (version 1 of the mappers).
pub const TIME_KEYS_V1: [&str; 4] = ["time", "timestamp", "@timestamp", "eventTime"];
/// Top-level time members, in order, since version 2 of the mappers (docs/sources.md section 2).
pub const TIME_KEYS: [&str; 9] = [
    "time",
    "timestamp",
    "@timestamp",
    "eventTime",
    "ts",
    "created_at",
    "published",
    "date_create",
    "p_event_time",
];
/// Actor pointers, in order (an object at `/actor` is skipped, then `/actor/name` may match).
pub const ACTOR: [&str; 10] = [
    "/actor",
    "/user",
    "/username",
    "/userName",
    "/user_name",
    "/principal",
    "/actor/name",
    "/actor/alternateId",
    "/user/name",
    "/user/username",
];
/// Action pointers, in order.
pub const ACTION: [&str; 6] = [
    "/action",
    "/event",
    "/eventName",
    "/eventType",
    "/event_type",
    "/type",
];
/// Resource pointers, in order.
pub const RESOURCE: [&str; 3] = ["/resource", "/object", "/target"];
/// Source-IP pointers, in order.
pub const IP: [&str; 13] = [
    "/ip",
    "/src_ip",
    "/source_ip",
    "/sourceIp",
    "/sourceIPAddress",
    "/client_ip",
    "/clientIp",
    "/clientIP",
    "/remote_ip",
    "/actor_ip",
    "/ipAddress",
    "/client/ipAddress",
    "/client/ip",
];
/// User-agent pointers, in order.
pub const AGENT: [&str; 3] = ["/userAgent", "/user_agent", "/useragent"];
/// Environment pointers, in order.
pub const ENV: [&str; 2] = ["/env", "/environment"];
/// Outcome pointers (after the boolean `success`), in order.
const OUTCOME: [&str; 3] = ["/outcome", "/outcome/result", "/result"];

/// Normalizes one JSON object of unknown origin.
pub fn normalize<'t, N: Node<'t>>(event: &N) -> Normalized {
    Normalized {
        ts: super::times::time(super::SourceKind::Jsonl, event),
        actor: first_text(event, &ACTOR),
        action: first_text(event, &ACTION),
        resource: first_text(event, &RESOURCE),
        outcome: outcome(event).map(str::to_owned),
        ip: first_text(event, &IP),
        agent: first_text(event, &AGENT),
        env: first_text(event, &ENV),
        stage: None,
        category: some("other"),
        privilege: None,
    }
}

/// `success: true/false` (a JSON boolean), else the first of [`OUTCOME`] that is a string naming an outcome.
fn outcome<'t, N: Node<'t>>(event: &N) -> Option<&'static str> {
    match event.member("success").and_then(N::boolean) {
        Some(true) => return Some("success"),
        Some(false) => return Some("failure"),
        None => {}
    }
    OUTCOME
        .iter()
        .find_map(|p| event.pointer(p).and_then(N::str).and_then(outcome_word))
}

/// The outcome a word names (ASCII case-insensitive), if it is one of the documented words.
pub fn outcome_word(word: &str) -> Option<&'static str> {
    match word.to_ascii_lowercase().as_str() {
        "success" | "succeeded" | "successful" | "ok" | "allow" | "allowed" => Some("success"),
        "deny" | "denied" | "forbidden" | "unauthorized" => Some("denied"),
        "fail" | "failed" | "failure" | "error" => Some("failure"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use serde_json::json;

    #[test]
    fn the_first_usable_key_wins_and_objects_are_skipped() {
        let e = json!({"actor": {"alternateId": "homer@example.com", "id": "1"}, "user": null,
                       "eventType": "user.session.start", "type": "ignored",
                       "client": {"ipAddress": "1.1.1.1"}, "environment": "prod"});
        let n = normalize(&e);
        assert_eq!(n.actor.as_deref(), Some("homer@example.com"));
        assert_eq!(n.action.as_deref(), Some("user.session.start"));
        assert_eq!(n.ip.as_deref(), Some("1.1.1.1"));
        assert_eq!(n.env.as_deref(), Some("prod"));
        assert_eq!(n.category.as_deref(), Some("other"));
    }

    #[test]
    fn numbers_and_booleans_become_their_json_text() {
        let e: Value =
            serde_json::from_str(r#"{"user": 1001, "action": true, "target": 1.50}"#).unwrap();
        let n = normalize(&e);
        assert_eq!(n.actor.as_deref(), Some("1001"));
        assert_eq!(n.action.as_deref(), Some("true"));
        assert_eq!(n.resource.as_deref(), Some("1.50"));
    }

    #[test]
    fn outcome_words_and_the_success_flag_map_to_outcomes() {
        let outcome_of = |e: Value| normalize(&e).outcome;
        assert_eq!(
            outcome_of(json!({"success": true})).as_deref(),
            Some("success")
        );
        assert_eq!(
            outcome_of(json!({"success": false})).as_deref(),
            Some("failure")
        );
        assert_eq!(outcome_of(json!({"success": "false"})), None);
        assert_eq!(
            outcome_of(json!({"outcome": "DENIED"})).as_deref(),
            Some("denied")
        );
        assert_eq!(
            outcome_of(json!({"outcome": {"result": "SUCCESS", "reason": null}})).as_deref(),
            Some("success")
        );
        assert_eq!(
            outcome_of(json!({"result": "Failed"})).as_deref(),
            Some("failure")
        );
        assert_eq!(
            outcome_of(json!({"outcome": "maybe", "result": "error"})).as_deref(),
            Some("failure")
        );
        assert_eq!(outcome_of(json!({"outcome": "maybe"})), None);
        assert_eq!(outcome_of(json!({"status": 200})), None);
    }

    #[test]
    fn nothing_known_gives_nothing_but_the_other_category() {
        let n =
            normalize(&json!({"message": "hello", "level": "info", "at": "2024-05-01T00:00:00Z"}));
        assert_eq!(
            n,
            Normalized {
                category: some("other"),
                ..Normalized::default()
            }
        );
    }
}
