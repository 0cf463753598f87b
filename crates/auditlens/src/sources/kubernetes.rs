//! Normalizer for Kubernetes API-server audit events (`audit.k8s.io/v1` and `v1beta1` `Event`), as written by
//! the API server's log or webhook backend. Rules: `docs/sources.md`, "Kubernetes audit".

/// This mapper's name and version (docs/sources.md, "Whose rules"): recorded with every archive it normalizes;
/// the number goes up whenever a rule changes what a stored event's fields would be.
pub const MAPPER: &str = "k8s/2";

use crate::json::Node;

use super::{Normalized, join, some, str_at, text_at};

/// Time keys, in order of preference: when the stage was reached, when the request arrived, legacy v1beta1 (version 1 of the mappers).
pub(crate) const TIME_KEYS_V1: [&str; 3] =
    ["stageTimestamp", "requestReceivedTimestamp", "timestamp"];
/// Top-level time members, in order, since version 2 of the mappers (docs/sources.md section 2).
pub(crate) const TIME_KEYS: [&str; 4] = [
    "stageTimestamp",
    "requestReceivedTimestamp",
    "timestamp",
    "p_event_time",
];
/// Workload resources whose writes are deployments.
const WORKLOADS: [&str; 6] = [
    "deployments",
    "statefulsets",
    "daemonsets",
    "replicasets",
    "cronjobs",
    "jobs",
];

/// Normalizes one Kubernetes audit event.
pub fn normalize<'t, N: Node<'t>>(event: &N) -> Normalized {
    let code = status_code(event);
    let category = category(event, code);
    Normalized {
        ts: super::times::time(super::SourceKind::K8s, event),
        actor: actor(event),
        action: text_at(event, "/verb"),
        resource: resource(event),
        outcome: some(outcome(code)),
        ip: text_at(event, "/sourceIPs/0"),
        agent: text_at(event, "/userAgent"),
        env: text_at(event, "/objectRef/namespace"),
        stage: text_at(event, "/stage"),
        category: some(category),
        privilege: if category == "access" {
            privilege(event).map(str::to_owned)
        } else {
            None
        },
    }
}

/// The kind of privileged access of an `access` event: `exec` for exec/attach into a pod, `secret` for reading
/// secrets, `role` for impersonation and service-account token requests.
fn privilege<'t, N: Node<'t>>(event: &N) -> Option<&'static str> {
    let nonempty = |p: &str| str_at(event, p).filter(|s| !s.is_empty());
    let verb = nonempty("/verb");
    let resource = nonempty("/objectRef/resource");
    let subresource = nonempty("/objectRef/subresource");
    if matches!(subresource, Some("exec" | "attach")) {
        Some("exec")
    } else if matches!(verb, Some("get" | "list" | "watch")) && resource == Some("secrets") {
        Some("secret")
    } else if event.member("impersonatedUser").is_some_and(N::is_object)
        || (resource == Some("serviceaccounts") && subresource == Some("token"))
    {
        Some("role")
    } else {
        None
    }
}

/// `user.username`, or `"A as B"` when `impersonatedUser.username` (B) is present too.
fn actor<'t, N: Node<'t>>(event: &N) -> Option<String> {
    let user = text_at(event, "/user/username")?;
    Some(match text_at(event, "/impersonatedUser/username") {
        Some(as_user) => format!("{user} as {as_user}"),
        None => user,
    })
}

/// `resource[/subresource] [namespace/]name` from `objectRef`, missing parts left out; `requestURI` when
/// `objectRef` gives nothing (non-resource requests such as `GET /apis`).
fn resource<'t, N: Node<'t>>(event: &N) -> Option<String> {
    let path = join(
        &[
            text_at(event, "/objectRef/resource"),
            text_at(event, "/objectRef/subresource"),
        ],
        "/",
    );
    let scope = join(
        &[
            text_at(event, "/objectRef/namespace"),
            text_at(event, "/objectRef/name"),
        ],
        "/",
    );
    join(&[path, scope], " ").or_else(|| text_at(event, "/requestURI"))
}

/// `responseStatus.code` when it is an integer HTTP status (100..=599).
fn status_code<'t, N: Node<'t>>(event: &N) -> Option<i64> {
    event
        .pointer("/responseStatus/code")
        .and_then(N::i64)
        .filter(|c| (100..=599).contains(c))
}

fn outcome(code: Option<i64>) -> &'static str {
    match code {
        None => "unknown",
        Some(401 | 403) => "denied",
        Some(c) if c < 400 => "success",
        Some(_) => "failure",
    }
}

fn category<'t, N: Node<'t>>(event: &N, code: Option<i64>) -> &'static str {
    let nonempty = |p: &str| str_at(event, p).filter(|s| !s.is_empty());
    let verb = nonempty("/verb");
    let resource = nonempty("/objectRef/resource");
    let subresource = nonempty("/objectRef/subresource");
    let writes = matches!(verb, Some("create" | "update" | "patch" | "delete"));
    let reads = matches!(verb, Some("get" | "list" | "watch"));

    if writes
        && resource.is_some_and(|r| WORKLOADS.contains(&r))
        && matches!(subresource, None | Some("scale"))
    {
        return "deployment";
    }
    let impersonation = event.member("impersonatedUser").is_some_and(N::is_object);
    if matches!(
        subresource,
        Some("exec" | "attach" | "portforward" | "proxy")
    ) || (reads && resource == Some("secrets"))
        || (resource == Some("serviceaccounts") && subresource == Some("token"))
        || matches!(code, Some(401 | 403))
        || str_at(event, "/user/username") == Some("system:anonymous")
        || impersonation
    {
        return "access";
    }
    if writes || verb == Some("deletecollection") {
        return "change";
    }
    if reads {
        return "read";
    }
    "other"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use serde_json::json;

    /// A minimal, well-formed v1 event; tests change one thing at a time.
    fn event(verb: &str, object_ref: Value, code: Option<i64>) -> Value {
        let mut e = json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "a", "stage": "ResponseComplete",
            "requestURI": "/x", "verb": verb, "user": {"username": "alice"}, "objectRef": object_ref,
        });
        if let (Some(c), Some(map)) = (code, e.as_object_mut()) {
            map.insert("responseStatus".into(), json!({"code": c}));
        }
        e
    }

    fn category_of(e: &Value) -> Option<String> {
        normalize(e).category
    }

    #[test]
    fn scaling_a_deployment_is_a_deployment_but_its_status_is_not() {
        let scale = event(
            "update",
            json!({"resource": "deployments", "subresource": "scale", "namespace": "prod", "name": "web"}),
            Some(200),
        );
        let status = event(
            "patch",
            json!({"resource": "deployments", "subresource": "status", "namespace": "prod", "name": "web"}),
            Some(200),
        );
        assert_eq!(category_of(&scale).as_deref(), Some("deployment"));
        assert_eq!(
            normalize(&scale).resource.as_deref(),
            Some("deployments/scale prod/web")
        );
        assert_eq!(category_of(&status).as_deref(), Some("change"));
    }

    #[test]
    fn every_workload_write_is_a_deployment_and_deletecollection_is_not() {
        for r in WORKLOADS {
            for verb in ["create", "update", "patch", "delete"] {
                let e = event(
                    verb,
                    json!({"resource": r, "namespace": "ns", "name": "n"}),
                    Some(200),
                );
                assert_eq!(category_of(&e).as_deref(), Some("deployment"), "{verb} {r}");
            }
            let e = event(
                "deletecollection",
                json!({"resource": r, "namespace": "ns"}),
                Some(200),
            );
            assert_eq!(
                category_of(&e).as_deref(),
                Some("change"),
                "deletecollection {r}"
            );
            let e = event("get", json!({"resource": r, "namespace": "ns"}), Some(200));
            assert_eq!(category_of(&e).as_deref(), Some("read"), "get {r}");
        }
    }

    #[test]
    fn secret_reads_and_token_requests_are_access() {
        for verb in ["get", "list", "watch"] {
            let e = event(
                verb,
                json!({"resource": "secrets", "namespace": "ns"}),
                Some(200),
            );
            assert_eq!(category_of(&e).as_deref(), Some("access"), "{verb}");
        }
        let token = event(
            "create",
            json!({"resource": "serviceaccounts", "subresource": "token", "namespace": "ns", "name": "sa"}),
            Some(201),
        );
        assert_eq!(category_of(&token).as_deref(), Some("access"));
        for sub in ["portforward", "proxy"] {
            let e = event(
                "get",
                json!({"resource": "pods", "subresource": sub, "namespace": "ns", "name": "p"}),
                Some(200),
            );
            assert_eq!(category_of(&e).as_deref(), Some("access"), "{sub}");
        }
        let cm = event(
            "get",
            json!({"resource": "configmaps", "namespace": "ns"}),
            Some(200),
        );
        assert_eq!(category_of(&cm).as_deref(), Some("read"));
    }

    #[test]
    fn status_codes_map_to_outcomes() {
        let obj = json!({"resource": "pods", "namespace": "ns"});
        let outcome_of = |code: Option<i64>| normalize(&event("list", obj.clone(), code)).outcome;
        assert_eq!(outcome_of(Some(101)).as_deref(), Some("success"));
        assert_eq!(outcome_of(Some(200)).as_deref(), Some("success"));
        assert_eq!(outcome_of(Some(399)).as_deref(), Some("success"));
        assert_eq!(outcome_of(Some(401)).as_deref(), Some("denied"));
        assert_eq!(outcome_of(Some(403)).as_deref(), Some("denied"));
        assert_eq!(outcome_of(Some(404)).as_deref(), Some("failure"));
        assert_eq!(outcome_of(Some(500)).as_deref(), Some("failure"));
        assert_eq!(outcome_of(None).as_deref(), Some("unknown"));
        // Not an HTTP status: treated as absent.
        assert_eq!(outcome_of(Some(0)).as_deref(), Some("unknown"));
        assert_eq!(outcome_of(Some(-1)).as_deref(), Some("unknown"));
        assert_eq!(outcome_of(Some(1000)).as_deref(), Some("unknown"));
        // 401 makes an ordinary read an access event.
        assert_eq!(
            normalize(&event("list", obj.clone(), Some(401)))
                .category
                .as_deref(),
            Some("access")
        );
    }

    #[test]
    fn a_non_integer_or_string_code_is_treated_as_absent() {
        let e: Value = serde_json::from_str(
            r#"{"verb":"get","responseStatus":{"code":403.0},"objectRef":{"resource":"pods"}}"#,
        )
        .unwrap();
        assert_eq!(normalize(&e).outcome.as_deref(), Some("unknown"));
        assert_eq!(normalize(&e).category.as_deref(), Some("read"));
        let e = json!({"verb": "get", "responseStatus": {"code": "403"}});
        assert_eq!(normalize(&e).outcome.as_deref(), Some("unknown"));
    }

    #[test]
    fn a_request_received_event_without_status_has_unknown_outcome_and_its_own_time() {
        let e = json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "stage": "RequestReceived", "verb": "delete",
            "requestReceivedTimestamp": "2024-05-01T00:00:00.000001Z", "stageTimestamp": "not a time",
            "user": {"username": "bob"}, "sourceIPs": ["2001:db8::1", "10.0.0.1"],
            "objectRef": {"resource": "clusterroles", "name": "cluster-admin"},
        });
        let n = normalize(&e);
        assert_eq!(n.outcome.as_deref(), Some("unknown"));
        assert_eq!(n.ts, Some(1_714_521_600_000_001));
        assert_eq!(n.ip.as_deref(), Some("2001:db8::1"));
        assert_eq!(n.resource.as_deref(), Some("clusterroles cluster-admin"));
        assert_eq!(n.env, None);
        assert_eq!(n.stage.as_deref(), Some("RequestReceived"));
        assert_eq!(n.category.as_deref(), Some("change"));
    }

    #[test]
    fn impersonation_without_a_username_keeps_the_real_user_and_is_access() {
        let e = json!({"verb": "get", "user": {"username": "alice"}, "impersonatedUser": {"groups": ["g"]},
                       "objectRef": {"resource": "pods", "namespace": "ns", "name": "p"}});
        let n = normalize(&e);
        assert_eq!(n.actor.as_deref(), Some("alice"));
        assert_eq!(n.category.as_deref(), Some("access"));
        // Without a real user there is no actor, even when the impersonated one is known.
        let e = json!({"verb": "get", "impersonatedUser": {"username": "bob"}});
        assert_eq!(normalize(&e).actor, None);
        // A null impersonatedUser is no impersonation.
        let e = json!({"verb": "get", "user": {"username": "alice"}, "impersonatedUser": null});
        assert_eq!(normalize(&e).category.as_deref(), Some("read"));
    }

    #[test]
    fn unicode_names_pass_through_unchanged() {
        let e = json!({"verb": "get", "user": {"username": "jürgen@例え.jp"},
                       "objectRef": {"resource": "configmaps", "namespace": "équipe", "name": "配置"}});
        let n = normalize(&e);
        assert_eq!(n.actor.as_deref(), Some("jürgen@例え.jp"));
        assert_eq!(n.resource.as_deref(), Some("configmaps équipe/配置"));
        assert_eq!(n.env.as_deref(), Some("équipe"));
    }

    #[test]
    fn odd_value_types_are_text_or_ignored() {
        let e = json!({"verb": 7, "user": {"username": ["x"]}, "sourceIPs": [{"ip": "1.2.3.4"}, "5.6.7.8"],
                       "userAgent": true, "objectRef": {"resource": {"r": 1}}, "requestURI": "/api"});
        let n = normalize(&e);
        assert_eq!(n.action.as_deref(), Some("7"));
        assert_eq!(n.actor, None);
        assert_eq!(n.ip, None, "the first sourceIPs entry is an object");
        assert_eq!(n.agent.as_deref(), Some("true"));
        assert_eq!(n.resource.as_deref(), Some("/api"));
        assert_eq!(n.category.as_deref(), Some("other"));
    }
}
