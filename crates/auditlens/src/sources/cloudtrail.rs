//! Normalizer for AWS CloudTrail records: one element of a log file's `Records` array, or one line of a JSON
//! Lines export (which may carry `@timestamp` instead of `eventTime`). Rules: `docs/sources.md`, "CloudTrail".

/// This mapper's name and version (docs/sources.md, "Whose rules"): recorded with every archive it normalizes;
/// the number goes up whenever a rule changes what a stored event's fields would be.
pub const MAPPER: &str = "cloudtrail/2";

use crate::json::Node;

use super::{Normalized, first_text, join, some, str_at, text, text_at};

/// Time keys: the record's own time, then the shipper's (Logstash exports drop `eventTime`) (version 1 of the mappers).
pub(crate) const TIME_KEYS_V1: [&str; 2] = ["eventTime", "@timestamp"];
/// Top-level time members, in order, since version 2 of the mappers (docs/sources.md section 2).
pub(crate) const TIME_KEYS: [&str; 3] = ["eventTime", "@timestamp", "p_event_time"];
/// Who, in order of preference.
const ACTOR: [&str; 3] = [
    "/userIdentity/arn",
    "/userIdentity/userName",
    "/userIdentity/principalId",
];
/// Where to find the main object of a call in `requestParameters` when `resources` names none; in order.
pub const REQUEST_PARAMETERS: [&str; 27] = [
    "/functionName",
    "/stackName",
    "/bucketName",
    "/roleArn",
    "/secretId",
    "/instanceId",
    "/instancesSet/items/0/instanceId",
    "/snapshotId",
    "/volumeId",
    "/imageId",
    "/repositoryName",
    "/serviceName",
    "/service",
    "/cluster",
    "/clusterName",
    "/taskDefinition",
    "/pipelineName",
    "/tableName",
    "/dBInstanceIdentifier",
    "/keyId",
    "/keyName",
    "/policyArn",
    "/roleName",
    "/userName",
    "/groupName",
    "/trailName",
    "/name",
];
/// Event names (without API-version suffix) that are deployments.
pub const DEPLOYMENT: [&str; 14] = [
    "CreateStack",
    "UpdateStack",
    "DeleteStack",
    "ExecuteChangeSet",
    "CreateDeployment",
    "CreateService",
    "UpdateService",
    "RegisterTaskDefinition",
    "CreateFunction",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "PublishVersion",
    "PutImage",
    "StartPipelineExecution",
];
/// Event names (without API-version suffix) that are access events.
pub const ACCESS: [&str; 8] = [
    "ConsoleLogin",
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "GetSessionToken",
    "GetFederationToken",
    "GetSecretValue",
    "StartSession",
];
/// Event names (without API-version suffix) of privileged access, with their kind.
pub const PRIVILEGED: [(&str, &str); 8] = [
    ("ConsoleLogin", "login"),
    ("AssumeRole", "role"),
    ("AssumeRoleWithSAML", "role"),
    ("AssumeRoleWithWebIdentity", "role"),
    ("GetFederationToken", "role"),
    ("GetSessionToken", "role"),
    ("GetSecretValue", "secret"),
    ("StartSession", "exec"),
];
/// Event-name prefixes of reads.
pub const READ_PREFIXES: [&str; 5] = ["Get", "List", "Describe", "Head", "Lookup"];

/// Normalizes one CloudTrail record.
pub fn normalize<'t, N: Node<'t>>(event: &N) -> Normalized {
    let name = str_at(event, "/eventName").filter(|n| !n.is_empty());
    let base = name.map(strip_api_version);
    let error = text_at(event, "/errorCode");
    let category = category(event, base, error.as_deref());
    Normalized {
        ts: super::times::time(super::SourceKind::Cloudtrail, event),
        actor: first_text(event, &ACTOR),
        action: action(event),
        resource: resource(event),
        outcome: outcome(event, name, error.as_deref()).map(str::to_owned),
        ip: text_at(event, "/sourceIPAddress"),
        agent: text_at(event, "/userAgent"),
        env: join(
            &[
                first_text(event, &["/recipientAccountId", "/userIdentity/accountId"]),
                text_at(event, "/awsRegion"),
            ],
            "/",
        ),
        stage: None,
        category: some(category),
        privilege: base
            .filter(|_| category == "access")
            .and_then(|b| PRIVILEGED.iter().find(|(n, _)| *n == b))
            .map(|(_, kind)| (*kind).to_owned()),
    }
}

/// The event name without a trailing API-version suffix: exactly 8 digits (a date such as `20150331`) after a
/// non-empty stem, optionally followed by `v` and digits. `UpdateFunctionCode20150331v2` -> `UpdateFunctionCode`,
/// `CreateFunction20150331` -> `CreateFunction`; other names are returned unchanged.
pub fn strip_api_version(name: &str) -> &str {
    /// The stem before exactly 8 trailing ASCII digits, if non-empty.
    fn before_date(s: &str) -> Option<&str> {
        let stem = s.trim_end_matches(|c: char| c.is_ascii_digit());
        (s.len() - stem.len() == 8 && !stem.is_empty()).then_some(stem)
    }
    let trimmed = name.trim_end_matches(|c: char| c.is_ascii_digit());
    let with_v = (trimmed.len() < name.len())
        .then(|| trimmed.strip_suffix('v'))
        .flatten()
        .and_then(before_date);
    with_v.or_else(|| before_date(name)).unwrap_or(name)
}

/// `service:EventName`, the service being `eventSource` before `.amazonaws.com` (the whole `eventSource` when it
/// has no such suffix). Just `EventName` without an `eventSource`; `None` without an `eventName`.
fn action<'t, N: Node<'t>>(event: &N) -> Option<String> {
    let name = text_at(event, "/eventName")?;
    let service = text_at(event, "/eventSource").map(|s| match s.split_once(".amazonaws.com") {
        Some((service, _)) => service.to_owned(),
        None => s,
    });
    Some(match service.filter(|s| !s.is_empty()) {
        Some(service) => format!("{service}:{name}"),
        None => name,
    })
}

/// The first `resources[].ARN`, else the first of [`REQUEST_PARAMETERS`] found in `requestParameters`.
fn resource<'t, N: Node<'t>>(event: &N) -> Option<String> {
    let arn = event
        .member("resources")
        .and_then(N::items)
        .and_then(|list| list.iter().find_map(|r| text(r.member("ARN"))));
    arn.or_else(|| first_text(event.member("requestParameters")?, &REQUEST_PARAMETERS))
}

/// Whether an `errorCode` means the caller was refused (contains `AccessDenied` or `Unauthorized`, ASCII
/// case-insensitively).
fn is_denial(code: &str) -> bool {
    let lower = code.to_ascii_lowercase();
    lower.contains("accessdenied") || lower.contains("unauthorized")
}

fn outcome<'t, N: Node<'t>>(
    event: &N,
    name: Option<&str>,
    error: Option<&str>,
) -> Option<&'static str> {
    if let Some(code) = error {
        return Some(if is_denial(code) { "denied" } else { "failure" });
    }
    let name = name?;
    let answer = event
        .member("responseElements")
        .and_then(|r| r.member(name))
        .and_then(N::str);
    Some(if answer == Some("Failure") {
        "failure"
    } else {
        "success"
    })
}

fn category<'t, N: Node<'t>>(event: &N, base: Option<&str>, error: Option<&str>) -> &'static str {
    if base.is_some_and(|b| DEPLOYMENT.contains(&b)) {
        return "deployment";
    }
    if base.is_some_and(|b| ACCESS.contains(&b)) || error.is_some_and(is_denial) {
        return "access";
    }
    let read_only = event.member("readOnly").is_some_and(|v| {
        v.boolean()
            .unwrap_or_else(|| v.str().is_some_and(|s| s.eq_ignore_ascii_case("true")))
    });
    if read_only || base.is_some_and(|b| READ_PREFIXES.iter().any(|p| b.starts_with(p))) {
        return "read";
    }
    if base.is_some() { "change" } else { "other" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use serde_json::json;

    fn call(source: &str, name: &str) -> Value {
        json!({"eventVersion": "1.08", "eventTime": "2024-05-01T00:00:00Z", "eventSource": source,
               "eventName": name, "awsRegion": "eu-west-1", "recipientAccountId": "123456789012",
               "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/ops"}})
    }

    fn with(mut event: Value, key: &str, value: Value) -> Value {
        if let Some(map) = event.as_object_mut() {
            map.insert(key.to_owned(), value);
        }
        event
    }

    #[test]
    fn api_version_suffixes_are_stripped_only_when_they_look_like_one() {
        assert_eq!(
            strip_api_version("UpdateFunctionCode20150331v2"),
            "UpdateFunctionCode"
        );
        assert_eq!(
            strip_api_version("UpdateFunctionConfiguration20150331v2"),
            "UpdateFunctionConfiguration"
        );
        assert_eq!(
            strip_api_version("CreateFunction20150331"),
            "CreateFunction"
        );
        assert_eq!(
            strip_api_version("PublishVersion20150331v10"),
            "PublishVersion"
        );
        assert_eq!(strip_api_version("Foov20150331"), "Foov");
        assert_eq!(strip_api_version("GetObject"), "GetObject");
        assert_eq!(strip_api_version("ListObjectsV2"), "ListObjectsV2");
        assert_eq!(strip_api_version("Get123456789"), "Get123456789");
        assert_eq!(strip_api_version("Get1234567"), "Get1234567");
        assert_eq!(strip_api_version("20150331"), "20150331");
        assert_eq!(strip_api_version("20150331v2"), "20150331v2");
        assert_eq!(strip_api_version("X20150331v"), "X20150331v");
        assert_eq!(strip_api_version(""), "");
        assert_eq!(strip_api_version("v2"), "v2");
        assert_eq!(strip_api_version("Ünïcode20150331v2"), "Ünïcode");
    }

    #[test]
    fn lambda_deploys_with_versioned_names_are_deployments() {
        let n = normalize(&call(
            "lambda.amazonaws.com",
            "UpdateFunctionCode20150331v2",
        ));
        assert_eq!(n.category.as_deref(), Some("deployment"));
        assert_eq!(
            n.action.as_deref(),
            Some("lambda:UpdateFunctionCode20150331v2")
        );
        let n = normalize(&call("lambda.amazonaws.com", "CreateFunction20150331"));
        assert_eq!(n.category.as_deref(), Some("deployment"));
    }

    #[test]
    fn every_listed_name_gets_its_category() {
        for name in DEPLOYMENT {
            let n = normalize(&call("x.amazonaws.com", name));
            assert_eq!(n.category.as_deref(), Some("deployment"), "{name}");
        }
        for name in ACCESS {
            let n = normalize(&call("x.amazonaws.com", name));
            assert_eq!(n.category.as_deref(), Some("access"), "{name}");
        }
        for name in [
            "GetBucketPolicy",
            "ListUsers",
            "DescribeInstances",
            "HeadObject",
            "LookupEvents",
        ] {
            let n = normalize(&call("x.amazonaws.com", name));
            assert_eq!(n.category.as_deref(), Some("read"), "{name}");
        }
        for name in [
            "PutBucketPolicy",
            "CreateUser",
            "DeleteTrail",
            "RunInstances",
            "getObject",
        ] {
            let n = normalize(&call("x.amazonaws.com", name));
            assert_eq!(n.category.as_deref(), Some("change"), "{name}");
        }
    }

    #[test]
    fn read_only_true_makes_any_name_a_read_but_not_an_access_or_deployment() {
        let e = with(
            call("s3.amazonaws.com", "PutObject"),
            "readOnly",
            json!(true),
        );
        assert_eq!(normalize(&e).category.as_deref(), Some("read"));
        let e = with(
            call("s3.amazonaws.com", "PutObject"),
            "readOnly",
            json!("true"),
        );
        assert_eq!(normalize(&e).category.as_deref(), Some("read"));
        let e = with(
            call("s3.amazonaws.com", "GetObject"),
            "readOnly",
            json!(false),
        );
        assert_eq!(
            normalize(&e).category.as_deref(),
            Some("read"),
            "the Get prefix still counts"
        );
        let e = with(
            call("sts.amazonaws.com", "AssumeRole"),
            "readOnly",
            json!(true),
        );
        assert_eq!(normalize(&e).category.as_deref(), Some("access"));
        let e = with(
            call("ecs.amazonaws.com", "UpdateService"),
            "readOnly",
            json!(true),
        );
        assert_eq!(normalize(&e).category.as_deref(), Some("deployment"));
    }

    #[test]
    fn error_codes_decide_denied_or_failure() {
        let cases = [
            ("AccessDenied", "denied", "access"),
            ("AccessDeniedException", "denied", "access"),
            ("Client.UnauthorizedOperation", "denied", "access"),
            ("UnauthorizedOperation", "denied", "access"),
            ("accessdenied", "denied", "access"),
            ("NoSuchBucket", "failure", "change"),
            ("ThrottlingException", "failure", "change"),
        ];
        for (code, outcome, category) in cases {
            let n = normalize(&with(
                call("s3.amazonaws.com", "PutBucketAcl"),
                "errorCode",
                json!(code),
            ));
            assert_eq!(n.outcome.as_deref(), Some(outcome), "{code}");
            assert_eq!(n.category.as_deref(), Some(category), "{code}");
        }
        // An empty or null errorCode is no error.
        for code in [json!(""), json!(null)] {
            let n = normalize(&with(
                call("s3.amazonaws.com", "PutBucketAcl"),
                "errorCode",
                code,
            ));
            assert_eq!(n.outcome.as_deref(), Some("success"));
        }
    }

    #[test]
    fn a_failed_console_login_is_a_failure_even_without_error_code() {
        let e = with(
            call("signin.amazonaws.com", "ConsoleLogin"),
            "responseElements",
            json!({"ConsoleLogin": "Failure"}),
        );
        let n = normalize(&e);
        assert_eq!(n.outcome.as_deref(), Some("failure"));
        assert_eq!(n.category.as_deref(), Some("access"));
        let e = with(
            call("signin.amazonaws.com", "CheckMfa"),
            "responseElements",
            json!({"CheckMfa": "Failure"}),
        );
        assert_eq!(normalize(&e).outcome.as_deref(), Some("failure"));
        let e = with(
            call("signin.amazonaws.com", "ConsoleLogin"),
            "responseElements",
            json!({"ConsoleLogin": "Success"}),
        );
        assert_eq!(normalize(&e).outcome.as_deref(), Some("success"));
    }

    #[test]
    fn event_time_wins_over_at_timestamp_unless_it_is_unreadable() {
        let e = with(
            call("s3.amazonaws.com", "GetObject"),
            "@timestamp",
            json!("2020-01-01T00:00:00Z"),
        );
        assert_eq!(normalize(&e).ts, Some(1_714_521_600_000_000));
        let e = with(e, "eventTime", json!("2024-05-01 00:00"));
        // 2020-01-01 = 18262 days after the epoch (50 years, 12 leap days) = 1577836800 s.
        assert_eq!(normalize(&e).ts, Some(1_577_836_800_000_000));
        let e = with(e, "@timestamp", json!(1_577_836_800));
        assert_eq!(normalize(&e).ts, None, "a number is not a time");
    }

    #[test]
    fn the_first_resource_with_an_arn_wins_over_request_parameters() {
        let e = with(
            call("s3.amazonaws.com", "ListObjects"),
            "resources",
            json!([{"ARNPrefix": "arn:aws:s3:::b/"}, {"ARN": "arn:aws:s3:::b"}, {"ARN": "arn:aws:s3:::c"}]),
        );
        let e = with(e, "requestParameters", json!({"bucketName": "b"}));
        assert_eq!(normalize(&e).resource.as_deref(), Some("arn:aws:s3:::b"));
        let e = with(e, "resources", json!([{"ARNPrefix": "arn:aws:s3:::b/"}]));
        assert_eq!(normalize(&e).resource.as_deref(), Some("b"));
    }

    #[test]
    fn request_parameters_are_tried_in_the_documented_order() {
        let e = with(
            call("ecs.amazonaws.com", "UpdateService"),
            "requestParameters",
            json!({"cluster": "prod", "service": "web", "desiredCount": 3}),
        );
        assert_eq!(normalize(&e).resource.as_deref(), Some("web"));
        let e = with(
            call("iam.amazonaws.com", "AddUserToGroup"),
            "requestParameters",
            json!({"groupName": "admin", "userName": "bob"}),
        );
        assert_eq!(normalize(&e).resource.as_deref(), Some("bob"));
        let e = with(
            call("ec2.amazonaws.com", "RunInstances"),
            "requestParameters",
            json!({"instancesSet": {"items": [{"imageId": "ami-1"}]}}),
        );
        assert_eq!(normalize(&e).resource, None, "no listed parameter");
    }

    #[test]
    fn env_uses_recipient_account_then_identity_account_then_region_alone() {
        let mut e = call("s3.amazonaws.com", "GetObject");
        assert_eq!(normalize(&e).env.as_deref(), Some("123456789012/eu-west-1"));
        if let Some(m) = e.as_object_mut() {
            m.remove("recipientAccountId");
        }
        assert_eq!(normalize(&e).env.as_deref(), Some("eu-west-1"));
        let e = with(e, "userIdentity", json!({"accountId": "210987654321"}));
        assert_eq!(normalize(&e).env.as_deref(), Some("210987654321/eu-west-1"));
    }

    #[test]
    fn actor_falls_back_from_arn_to_user_name_to_principal_id() {
        let e = with(
            call("s3.amazonaws.com", "GetObject"),
            "userIdentity",
            json!({"arn": "", "userName": "", "principalId": "AIDAEXAMPLE"}),
        );
        assert_eq!(normalize(&e).actor.as_deref(), Some("AIDAEXAMPLE"));
        let e = with(
            e,
            "userIdentity",
            json!({"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}),
        );
        assert_eq!(normalize(&e).actor, None);
    }

    #[test]
    fn unusual_sources_and_values_are_kept_as_written() {
        let e = json!({"eventSource": "custom.example.com", "eventName": "Ping", "sourceIPAddress": "2001:db8::7",
                       "userIdentity": {"userName": "zoë"}, "awsRegion": 5});
        let n = normalize(&e);
        assert_eq!(n.action.as_deref(), Some("custom.example.com:Ping"));
        assert_eq!(n.ip.as_deref(), Some("2001:db8::7"));
        assert_eq!(n.actor.as_deref(), Some("zoë"));
        assert_eq!(n.env.as_deref(), Some("5"));
        let n = normalize(&json!({"eventName": "Ping"}));
        assert_eq!(n.action.as_deref(), Some("Ping"));
        assert_eq!(n.outcome.as_deref(), Some("success"));
    }

    #[test]
    fn without_an_event_name_there_is_no_success_and_no_change() {
        let n = normalize(&json!({"eventVersion": "1.07", "awsRegion": "us-east-1"}));
        assert_eq!(n.outcome, None);
        assert_eq!(n.action, None);
        assert_eq!(n.category.as_deref(), Some("other"));
        let n = normalize(&json!({"errorCode": "AccessDenied"}));
        assert_eq!(n.outcome.as_deref(), Some("denied"));
        assert_eq!(n.category.as_deref(), Some("access"));
        let n = normalize(&json!({"readOnly": true}));
        assert_eq!(n.category.as_deref(), Some("read"));
    }
}
