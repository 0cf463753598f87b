//! Normalizer for Teleport audit events (the `event`, `code`, `time`, `user` shape of every Teleport audit event,
//! whatever its type). Rules: `docs/sources.md`, "Teleport".

/// This mapper's name and version (docs/sources.md, "Whose rules"): recorded with every archive it normalizes;
/// the number goes up whenever a rule changes what a stored event's fields would be.
pub const MAPPER: &str = "teleport/2";

use crate::json::Node;

use super::{Normalized, first_text, some, str_at, text_at};

/// Time members, in order (version 1 of the mappers).
pub(crate) const TIME_KEYS_V1: [&str; 1] = ["time"];
/// Top-level time members, in order, since version 2 of the mappers (docs/sources.md section 2).
pub(crate) const TIME_KEYS: [&str; 2] = ["time", "p_event_time"];
/// What an event was about, in order of preference: the node, the Kubernetes cluster, the database or app, the
/// target user of a lock, the name of a created object.
const RESOURCE: [&str; 8] = [
    "/server_hostname",
    "/server_id",
    "/kubernetes_cluster",
    "/db_service",
    "/app_name",
    "/target/user",
    "/name",
    "/identity/kubernetes_cluster",
];
/// Where the client connected from (`host:port`, IPv6 in brackets), in order.
const REMOTE: [&str; 3] = ["/addr.remote", "/addr_remote", "/remote_addr"];
/// Event types of access: sign-ins, sessions, certificates, access requests.
pub const ACCESS: [&str; 14] = [
    "user.login",
    "auth",
    "session.start",
    "session.join",
    "session.rejected",
    "cert.create",
    "exec",
    "scp",
    "sftp",
    "port",
    "x11-forward",
    "app.session.start",
    "db.session.start",
    "windows.desktop.session.start",
];
/// Last segments of event types that change configuration (`role.created`, `user.update`, `lock.deleted`).
pub const CHANGES: [&str; 7] = [
    "created",
    "updated",
    "deleted",
    "create",
    "update",
    "delete",
    "password_change",
];

/// Normalizes one Teleport audit event.
pub fn normalize<'t, N: Node<'t>>(event: &N) -> Normalized {
    let kind = str_at(event, "/event").filter(|e| !e.is_empty());
    let outcome = outcome(event, kind);
    let category = category(kind, outcome);
    Normalized {
        ts: super::times::time(super::SourceKind::Teleport, event),
        actor: first_text(event, &["/user", "/identity/user"]),
        action: text_at(event, "/event"),
        resource: first_text(event, &RESOURCE),
        outcome: outcome.map(str::to_owned),
        ip: first_text(event, &REMOTE).map(|a| host_of(&a).to_owned()),
        agent: text_at(event, "/user_agent"),
        env: text_at(event, "/cluster_name"),
        stage: None,
        category: some(category),
        privilege: (category == "access")
            .then(|| privilege(event, kind))
            .flatten()
            .map(str::to_owned),
    }
}

/// The host of a `host:port` address: the text inside `[...]` for a bracketed IPv6 address, the part before a
/// single `:`, and the whole text otherwise (a bare IPv6 address, or no port).
pub fn host_of(addr: &str) -> &str {
    if let Some(rest) = addr.strip_prefix('[')
        && let Some((host, _)) = rest.split_once(']')
    {
        return host;
    }
    match addr.split_once(':') {
        Some((host, port)) if !port.contains(':') => host,
        _ => addr,
    }
}

/// `success` (a JSON boolean) first; then `session.rejected` (denied); then the severity letter that ends every
/// Teleport event code: `I` info (it happened), `W` warning or `E` error (it failed). A failed `auth` or
/// `user.login` is a refused authentication: `denied`, as a Kubernetes 401.
fn outcome<'t, N: Node<'t>>(event: &N, kind: Option<&str>) -> Option<&'static str> {
    let found = match event.member("success").and_then(N::boolean) {
        Some(true) => Some("success"),
        Some(false) => Some("failure"),
        _ if kind == Some("session.rejected") => Some("denied"),
        _ => {
            let code = str_at(event, "/code").filter(|c| c.len() > 1);
            match code
                .and_then(|c| c.bytes().last())
                .map(|b| b.to_ascii_uppercase())
            {
                Some(b'I') => Some("success"),
                Some(b'W' | b'E') => Some("failure"),
                _ => None,
            }
        }
    };
    match (found, kind) {
        (Some("failure"), Some("auth" | "user.login")) => Some("denied"),
        _ => found,
    }
}

fn category(kind: Option<&str>, outcome: Option<&str>) -> &'static str {
    let Some(kind) = kind else {
        return if outcome == Some("denied") {
            "access"
        } else {
            "other"
        };
    };
    if ACCESS.contains(&kind) || kind.starts_with("access_request.") || outcome == Some("denied") {
        return "access";
    }
    if kind.contains('.') && CHANGES.contains(&super::last_segment(kind)) {
        return "change";
    }
    "other"
}

/// `login` for sign-ins, `exec` for interactive sessions and commands run through Teleport, `role` for
/// certificates issued to an impersonator.
fn privilege<'t, N: Node<'t>>(event: &N, kind: Option<&str>) -> Option<&'static str> {
    match kind? {
        "user.login" => Some("login"),
        "session.start" | "session.join" | "exec" => Some("exec"),
        "cert.create" if text_at(event, "/identity/impersonator").is_some() => Some("role"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use serde_json::json;

    #[test]
    fn hosts_lose_their_port_and_brackets() {
        assert_eq!(host_of("192.0.2.1:35194"), "192.0.2.1");
        assert_eq!(host_of("[2001:db8::1]:65123"), "2001:db8::1");
        assert_eq!(host_of("2a02:cf40:::3022"), "2a02:cf40:::3022");
        assert_eq!(host_of("10.0.0.1"), "10.0.0.1");
        assert_eq!(host_of("[::1"), "[::1");
    }

    #[test]
    fn the_code_letter_gives_the_outcome_when_success_is_absent() {
        let o = |e: Value| normalize(&e).outcome;
        assert_eq!(
            o(json!({"event": "role.created", "code": "T9000I"})).as_deref(),
            Some("success")
        );
        assert_eq!(
            o(json!({"event": "user.login", "code": "T1000W"})).as_deref(),
            Some("denied")
        );
        assert_eq!(
            o(json!({"event": "session.start", "code": "T2000E"})).as_deref(),
            Some("failure")
        );
        assert_eq!(
            o(json!({"event": "user.login", "success": false})).as_deref(),
            Some("denied")
        );
        assert_eq!(
            o(json!({"event": "session.command", "success": false})).as_deref(),
            Some("failure")
        );
        assert_eq!(
            o(json!({"event": "auth", "success": false})).as_deref(),
            Some("denied")
        );
        assert_eq!(o(json!({"event": "x", "code": "I"})), None);
        assert_eq!(o(json!({"event": "x"})), None);
    }
}
