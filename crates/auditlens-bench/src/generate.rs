//! Synthetic but realistic audit events for benchmarks and demos, in the shapes of the real fixtures: Kubernetes
//! API-server audit events (audit.k8s.io/v1, ~1.1 KB each, with the request/response fields a real apiserver
//! writes at the RequestResponse level for writes) and CloudTrail records. Deterministic for a given seed, so two
//! runs measure the same bytes.

use std::io::{self, Write};

/// A tiny deterministic PRNG (xorshift64*): reproducible streams without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const USERS: &[&str] = &[
    "alice@example.com",
    "bob@example.com",
    "carol@example.com",
    "dave@example.com",
    "system:serviceaccount:argocd:argocd-application-controller",
    "system:serviceaccount:kube-system:deployment-controller",
    "system:serviceaccount:flux-system:kustomize-controller",
    "system:kube-scheduler",
    "system:node:ip-10-0-12-34.eu-west-1.compute.internal",
    "system:anonymous",
];
const NAMESPACES: &[&str] = &[
    "default",
    "payments",
    "checkout",
    "kube-system",
    "monitoring",
    "ingress-nginx",
    "search",
];
const APPS: &[&str] = &[
    "api", "web", "worker", "redis", "postgres", "gateway", "billing", "ledger", "indexer",
];
const AGENTS: &[&str] = &[
    "kubectl/v1.29.3 (linux/amd64) kubernetes/6813625",
    "argocd-application-controller/v0.0.0 (linux/amd64) kubernetes/$Format",
    "kube-controller-manager/v1.29.3 (linux/amd64) kubernetes/6813625/system:serviceaccount:kube-system:deployment-controller",
    "Go-http-client/2.0",
    "helm/v3.14.2",
];

/// Writes one Kubernetes audit event (one JSON line, with newline) for event number `i`.
pub fn k8s_event(rng: &mut Rng, i: u64, base_secs: i64, out: &mut impl Write) -> io::Result<()> {
    let t = base_secs + (i as i64) / 20;
    let micros = rng.below(1_000_000);
    let ts = chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S");
    let user = rng.pick(USERS);
    let ns = rng.pick(NAMESPACES);
    let app = rng.pick(APPS);
    let roll = rng.below(100);
    let (verb, resource, sub, code) = match roll {
        0..=39 => ("get", "pods", "", 200),
        40..=54 => ("list", "configmaps", "", 200),
        55..=64 => ("watch", "endpoints", "", 200),
        65..=71 => ("patch", "deployments", "", 200),
        72..=74 => ("update", "deployments", "scale", 200),
        75..=78 => ("create", "pods", "exec", 101),
        79..=83 => (
            "get",
            "secrets",
            "",
            if user.contains("anonymous") { 401 } else { 200 },
        ),
        84..=88 => ("delete", "pods", "", 200),
        89..=93 => ("create", "jobs", "", 201),
        94..=96 => ("list", "secrets", "", 403),
        _ => ("create", "serviceaccounts", "token", 201),
    };
    let name = format!("{app}-{:x}", rng.below(0xfffff));
    let ip = format!("10.{}.{}.{}", rng.below(4), rng.below(256), rng.below(256));
    let audit_id = format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        rng.next_u64() as u32,
        rng.below(0xffff),
        rng.below(0xfff),
        rng.below(0xfff),
        rng.next_u64() & 0xffff_ffff_ffff
    );
    let subresource = if sub.is_empty() {
        String::new()
    } else {
        format!(r#","subresource":"{sub}""#)
    };
    let uri_sub = if sub.is_empty() {
        String::new()
    } else {
        format!("/{sub}")
    };
    let group = if matches!(resource, "deployments") {
        "apps"
    } else if resource == "jobs" {
        "batch"
    } else {
        ""
    };
    let api_prefix = if group.is_empty() {
        "/api/v1".to_string()
    } else {
        format!("/apis/{group}/v1")
    };
    let body = if matches!(verb, "patch" | "update" | "create") && sub != "exec" {
        format!(
            r#","requestObject":{{"kind":"{}","apiVersion":"{}","metadata":{{"name":"{name}","namespace":"{ns}","labels":{{"app.kubernetes.io/name":"{app}","app.kubernetes.io/part-of":"shop","team":"platform"}}}},"spec":{{"replicas":{},"template":{{"spec":{{"containers":[{{"name":"{app}","image":"registry.example.com/{app}:1.{}.{}","resources":{{"limits":{{"cpu":"500m","memory":"512Mi"}}}}}}]}}}}}}}}"#,
            if resource == "jobs" {
                "Job"
            } else {
                "Deployment"
            },
            if group.is_empty() {
                "v1".to_string()
            } else {
                format!("{group}/v1")
            },
            1 + rng.below(6),
            rng.below(40),
            rng.below(10)
        )
    } else {
        String::new()
    };
    let status = if code >= 400 {
        format!(
            r#"{{"metadata":{{}},"status":"Failure","message":"{resource} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" in the namespace \"{ns}\"","reason":"Forbidden","code":{code}}}"#
        )
    } else {
        format!(r#"{{"metadata":{{}},"code":{code}}}"#)
    };
    let decision = if code == 403 || code == 401 {
        "forbid"
    } else {
        "allow"
    };
    writeln!(
        out,
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"{}","auditID":"{audit_id}","stage":"ResponseComplete","requestURI":"{api_prefix}/namespaces/{ns}/{resource}/{name}{uri_sub}","verb":"{verb}","user":{{"username":"{user}","uid":"{:08x}","groups":["system:authenticated","team:platform"]}},"sourceIPs":["{ip}"],"userAgent":"{}","objectRef":{{"resource":"{resource}","namespace":"{ns}","name":"{name}","apiGroup":"{group}","apiVersion":"v1"{subresource}}},"responseStatus":{status}{body},"requestReceivedTimestamp":"{ts}.{micros:06}Z","stageTimestamp":"{ts}.{:06}Z","annotations":{{"authorization.k8s.io/decision":"{decision}","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"platform-{app}\" of ClusterRole \"edit\" to Group \"team:platform\""}}}}"#,
        if body.is_empty() {
            "Metadata"
        } else {
            "RequestResponse"
        },
        rng.next_u64() as u32,
        rng.pick(AGENTS),
        (micros + 1500).min(999_999)
    )
}

const CT_EVENTS: &[(&str, &str, bool)] = &[
    ("s3.amazonaws.com", "GetObject", true),
    ("s3.amazonaws.com", "PutObject", false),
    ("ec2.amazonaws.com", "DescribeInstances", true),
    ("sts.amazonaws.com", "AssumeRole", true),
    ("signin.amazonaws.com", "ConsoleLogin", false),
    (
        "lambda.amazonaws.com",
        "UpdateFunctionCode20150331v2",
        false,
    ),
    ("cloudformation.amazonaws.com", "UpdateStack", false),
    ("secretsmanager.amazonaws.com", "GetSecretValue", true),
    ("iam.amazonaws.com", "ListRoles", true),
    ("ecs.amazonaws.com", "UpdateService", false),
];

/// Writes one CloudTrail record as a JSON line.
pub fn cloudtrail_event(
    rng: &mut Rng,
    i: u64,
    base_secs: i64,
    out: &mut impl Write,
) -> io::Result<()> {
    let t = base_secs + (i as i64) / 10;
    let ts = chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ");
    let (source, name, read_only) = CT_EVENTS[rng.below(CT_EVENTS.len() as u64) as usize];
    let user = ["anaya", "jorge", "deploy-bot", "mei", "ci-runner"][rng.below(5) as usize];
    let account = ["111122223333", "444455556666"][rng.below(2) as usize];
    let region = ["us-east-1", "eu-west-1", "ap-northeast-1"][rng.below(3) as usize];
    let denied = rng.below(50) == 0;
    let error = if denied {
        r#","errorCode":"AccessDenied","errorMessage":"User is not authorized to perform this operation""#
    } else {
        ""
    };
    writeln!(
        out,
        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","principalId":"AIDA{:016X}","arn":"arn:aws:iam::{account}:user/{user}","accountId":"{account}","accessKeyId":"AKIA{:016X}","userName":"{user}"}},"eventTime":"{ts}","eventSource":"{source}","eventName":"{name}","awsRegion":"{region}","sourceIPAddress":"203.0.113.{}","userAgent":"aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22","requestParameters":{{"bucketName":"audit-{account}-{region}","key":"reports/{:x}.json"}},"responseElements":null{error},"requestID":"{:016X}","eventID":"{:08x}-{:04x}-{:04x}-{:012x}","readOnly":{read_only},"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"{account}","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{}"}}}}"#,
        rng.next_u64(),
        rng.next_u64(),
        rng.below(255),
        rng.next_u64(),
        rng.next_u64(),
        rng.next_u64() as u32,
        rng.below(0xffff),
        rng.below(0xffff),
        rng.next_u64() & 0xffff_ffff_ffff,
        source
    )
}

/// Writes `n` Kubernetes audit events as JSON Lines, starting at `base_secs`.
pub fn write_k8s(out: &mut impl Write, n: u64, seed: u64, base_secs: i64) -> io::Result<()> {
    let mut rng = Rng::new(seed);
    (0..n).try_for_each(|i| k8s_event(&mut rng, i, base_secs, out))
}

/// Writes `n` CloudTrail records as JSON Lines, starting at `base_secs`.
pub fn write_cloudtrail(out: &mut impl Write, n: u64, seed: u64, base_secs: i64) -> io::Result<()> {
    let mut rng = Rng::new(seed);
    (0..n).try_for_each(|i| cloudtrail_event(&mut rng, i, base_secs, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_events_are_json_objects_of_realistic_size() {
        let mut buf = Vec::new();
        write_k8s(&mut buf, 2000, 7, 1_700_000_000).unwrap();
        let lines: Vec<&[u8]> = buf
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(lines.len(), 2000);
        for l in &lines {
            let v: serde_json::Value = serde_json::from_slice(l).unwrap();
            assert_eq!(v["kind"], "Event");
        }
        let avg = buf.len() / lines.len();
        assert!(
            (700..1600).contains(&avg),
            "average k8s event is {avg} bytes"
        );
        let mut ct = Vec::new();
        write_cloudtrail(&mut ct, 500, 7, 1_700_000_000).unwrap();
        for l in ct.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let v: serde_json::Value = serde_json::from_slice(l).unwrap();
            assert!(v["eventName"].is_string());
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write_k8s(&mut a, 100, 1, 0).unwrap();
        write_k8s(&mut b, 100, 1, 0).unwrap();
        assert_eq!(a, b);
    }
}
