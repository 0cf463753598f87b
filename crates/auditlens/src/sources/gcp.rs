//! Normalizer for Google Cloud Audit Logs: one `LogEntry` whose `protoPayload` is a
//! `google.cloud.audit.AuditLog` (Admin Activity, Data Access, System Event, Policy Denied logs; GKE's Kubernetes
//! audit events arrive this way too). Top-level members are also read under their all-lowercase name
//! (`protopayload`), as Panther's data lake exports them. Rules: `docs/sources.md`, "GCP Cloud Audit Logs".

/// This mapper's name and version (docs/sources.md, "Whose rules"): recorded with every archive it normalizes;
/// the number goes up whenever a rule changes what a stored event's fields would be.
pub const MAPPER: &str = "gcp/2";

use crate::json::Node;

use super::{Normalized, first_text, member_or_lowercase, some, str_at, text, text_at};

/// Time members, in order: when the logged operation happened, then when Cloud Logging received it (version 1 of the mappers).
pub(crate) const TIME_KEYS_V1: [&str; 3] = ["timestamp", "receiveTimestamp", "receivetimestamp"];
/// Top-level time members, in order, since version 2 of the mappers (docs/sources.md section 2).
pub(crate) const TIME_KEYS: [&str; 4] = [
    "timestamp",
    "receiveTimestamp",
    "receivetimestamp",
    "p_event_time",
];
/// Workload resources whose writes are deployments (as in the Kubernetes rules).
const WORKLOADS: [&str; 6] = [
    "deployments",
    "statefulsets",
    "daemonsets",
    "replicasets",
    "cronjobs",
    "jobs",
];
/// Methods (whole `methodName`) that are deployments.
pub const DEPLOYMENT: [&str; 24] = [
    "v2.deploymentmanager.deployments.insert",
    "v2.deploymentmanager.deployments.update",
    "v2.deploymentmanager.deployments.patch",
    "v2.deploymentmanager.deployments.delete",
    "google.cloud.run.v1.Services.CreateService",
    "google.cloud.run.v1.Services.ReplaceService",
    "google.cloud.run.v1.Services.DeleteService",
    "google.cloud.run.v2.Services.CreateService",
    "google.cloud.run.v2.Services.UpdateService",
    "google.cloud.run.v2.Services.DeleteService",
    "google.cloud.functions.v1.CloudFunctionsService.CreateFunction",
    "google.cloud.functions.v1.CloudFunctionsService.UpdateFunction",
    "google.cloud.functions.v1.CloudFunctionsService.DeleteFunction",
    "google.cloud.functions.v2.FunctionService.CreateFunction",
    "google.cloud.functions.v2.FunctionService.UpdateFunction",
    "google.cloud.functions.v2.FunctionService.DeleteFunction",
    "google.appengine.v1.Versions.CreateVersion",
    "google.appengine.v1.Versions.UpdateVersion",
    "google.appengine.v1.Versions.DeleteVersion",
    "google.appengine.v1.Services.UpdateService",
    "google.devtools.cloudbuild.v1.CloudBuild.CreateBuild",
    "google.cloud.deploy.v1.CloudDeploy.CreateRelease",
    "google.cloud.deploy.v1.CloudDeploy.CreateRollout",
    "google.cloud.deploy.v1.CloudDeploy.ApproveRollout",
];
/// Last segments of methods that mint credentials or read secrets, with their privilege kind.
pub const ACCESS_METHODS: [(&str, &str); 5] = [
    ("GenerateAccessToken", "role"),
    ("GenerateIdToken", "role"),
    ("SignJwt", "role"),
    ("SignBlob", "role"),
    ("AccessSecretVersion", "secret"),
];
/// Whole method names of sign-ins to machines (IAP tunnels, OS Login, the serial console): privilege `login`.
pub const LOGINS: [&str; 3] = [
    "AuthorizeUser",
    "google.cloud.oslogin.dataplane.OsLoginDataPlaneService.CheckPolicy",
    "google.ssh-serialport.v1.connect",
];
/// Prefixes of the last segment of read methods (`v1.compute.instances.list`, `GetIamPolicy`).
pub const READ_PREFIXES: [&str; 11] = [
    "get", "Get", "list", "List", "search", "Search", "watch", "lookup", "Lookup", "batchGet",
    "BatchGet",
];

/// A Kubernetes API call as GKE names it: `io.k8s.<group>.<version>.<resource>[.<subresource>].<verb>`.
struct K8sCall<'a> {
    resource: &'a str,
    subresource: Option<&'a str>,
    verb: &'a str,
}

fn k8s_call(method: &str) -> Option<K8sCall<'_>> {
    let rest = method.strip_prefix("io.k8s.")?;
    let segments: Vec<&str> = rest.split('.').collect();
    let version = segments.iter().position(|s| is_k8s_version(s))?;
    match segments.get(version + 1..)? {
        [resource, verb] => Some(K8sCall {
            resource,
            subresource: None,
            verb,
        }),
        [resource, sub, verb] => Some(K8sCall {
            resource,
            subresource: Some(sub),
            verb,
        }),
        _ => None,
    }
}

/// `v1`, `v2`, `v1beta1`, `v2alpha1`: a `v`, digits, optionally `alpha` or `beta` and digits.
fn is_k8s_version(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('v') else {
        return false;
    };
    let major = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    if major.len() == rest.len() {
        return false;
    }
    let tail = major
        .strip_prefix("alpha")
        .or_else(|| major.strip_prefix("beta"))
        .unwrap_or(major);
    if tail.len() == major.len() {
        return major.is_empty();
    }
    !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit())
}

/// Normalizes one Cloud Audit Logs entry.
pub fn normalize<'t, N: Node<'t>>(event: &N) -> Normalized {
    // No `protoPayload`: read as `null`, which has no members.
    let payload = member_or_lowercase(event, "protoPayload");
    let first_text = |pointers: &[&str]| payload.and_then(|p| first_text(p, pointers));
    let text_at = |pointer: &str| payload.and_then(|p| text_at(p, pointer));
    let method = payload
        .and_then(|p| str_at(p, "/methodName"))
        .filter(|m| !m.is_empty());
    let outcome = payload.and_then(outcome);
    let category = category(method, outcome);
    Normalized {
        ts: super::times::time(super::SourceKind::Gcp, event),
        actor: first_text(&[
            "/authenticationInfo/principalEmail",
            "/authenticationInfo/principalSubject",
        ]),
        action: text_at("/methodName"),
        resource: text_at("/resourceName"),
        outcome: outcome.map(str::to_owned),
        ip: first_text(&["/requestMetadata/callerIp", "/requestMetadata/callerIP"]),
        agent: text_at("/requestMetadata/callerSuppliedUserAgent"),
        env: text(event.pointer("/resource/labels/project_id")),
        stage: None,
        category: some(category),
        privilege: (category == "access")
            .then(|| privilege(method))
            .flatten()
            .map(str::to_owned),
    }
}

/// From `status` (a `google.rpc.Status`) and `authorizationInfo`: code 7 (PERMISSION_DENIED) or 16
/// (UNAUTHENTICATED), or an authorization with `granted: false`, is a denial; any other non-zero code a failure;
/// a `status` object without a code (or with code 0) a success. No `status` object: no outcome.
fn outcome<'t, N: Node<'t>>(payload: &N) -> Option<&'static str> {
    let status = payload.member("status").filter(|s| s.is_object());
    let code = status.and_then(|s| s.member("code")).and_then(N::i64);
    let refused = payload
        .member("authorizationInfo")
        .and_then(N::items)
        .is_some_and(|list| {
            list.iter()
                .any(|a| a.member("granted").and_then(N::boolean) == Some(false))
        });
    match code {
        Some(7 | 16) => Some("denied"),
        _ if refused => Some("denied"),
        Some(0) => Some("success"),
        Some(_) => Some("failure"),
        None => status.map(|_| "success"),
    }
}

fn category(method: Option<&str>, outcome: Option<&str>) -> &'static str {
    let k8s = method.and_then(k8s_call);
    if let Some(m) = method {
        if DEPLOYMENT.contains(&m) {
            return "deployment";
        }
        if let Some(call) = &k8s
            && matches!(call.verb, "create" | "update" | "patch" | "delete")
            && WORKLOADS.contains(&call.resource)
            && matches!(call.subresource, None | Some("scale"))
        {
            return "deployment";
        }
    }
    if outcome == Some("denied") || privilege(method).is_some() {
        return "access";
    }
    if let Some(call) = &k8s
        && (matches!(call.subresource, Some("portforward" | "proxy"))
            || (call.resource == "serviceaccounts" && call.subresource == Some("token")))
    {
        return "access";
    }
    let Some(m) = method else {
        return "other";
    };
    let last = super::last_segment(m);
    if READ_PREFIXES.iter().any(|p| last.starts_with(p)) {
        return "read";
    }
    "change"
}

fn privilege(method: Option<&str>) -> Option<&'static str> {
    let m = method?;
    if LOGINS.contains(&m) {
        return Some("login");
    }
    if let Some(call) = k8s_call(m) {
        return match (call.resource, call.subresource, call.verb) {
            ("pods", Some("exec" | "attach"), _) => Some("exec"),
            ("secrets", None, "get" | "list" | "watch") => Some("secret"),
            ("serviceaccounts", Some("token"), _) => Some("role"),
            _ => None,
        };
    }
    let last = super::last_segment(m);
    ACCESS_METHODS
        .iter()
        .find(|(name, _)| *name == last)
        .map(|(_, kind)| *kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use serde_json::json;

    #[test]
    fn gke_method_names_split_into_resource_subresource_and_verb() {
        let c = k8s_call("io.k8s.core.v1.pods.exec.create").unwrap();
        assert_eq!(
            (c.resource, c.subresource, c.verb),
            ("pods", Some("exec"), "create")
        );
        let c = k8s_call("io.k8s.authorization.rbac.v1.clusterrolebindings.create").unwrap();
        assert_eq!(
            (c.resource, c.subresource, c.verb),
            ("clusterrolebindings", None, "create")
        );
        let c = k8s_call("io.k8s.apps.v1beta2.deployments.scale.patch").unwrap();
        assert_eq!((c.resource, c.subresource), ("deployments", Some("scale")));
        assert!(k8s_call("io.k8s.core.v1.pods").is_none());
        assert!(k8s_call("v1.compute.instances.insert").is_none());
        assert!(is_k8s_version("v1") && is_k8s_version("v2alpha1") && !is_k8s_version("vx"));
        assert!(!is_k8s_version("v1beta") && !is_k8s_version("core"));
    }

    #[test]
    fn status_and_authorization_give_the_outcome() {
        let o = |p: Value| outcome(&p);
        assert_eq!(o(json!({"status": {}})), Some("success"));
        assert_eq!(o(json!({"status": {"code": 7}})), Some("denied"));
        assert_eq!(o(json!({"status": {"code": 6}})), Some("failure"));
        assert_eq!(o(json!({"status": null})), None);
        assert_eq!(o(json!({})), None);
        assert_eq!(
            o(json!({"authorizationInfo": [{"granted": true}, {"granted": false}]})),
            Some("denied")
        );
    }
}
