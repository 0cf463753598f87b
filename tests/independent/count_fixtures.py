#!/usr/bin/env python3
"""Counts, without AuditLens, the figures tests/it/store.rs and tests/it/sources.rs expect from the fixtures.

Reads tests/fixtures/logs with the Python standard library only and prints one JSON object:
the demo.log (Kubernetes audit) event indexes per search case, the CloudTrail records each case also finds,
and the non-blank lines of the fixtures sources.rs normalizes under every kind.
"""

import json
import os
import sys

LOGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "logs")


def load_lines(rel):
    with open(os.path.join(LOGS, rel), "rb") as f:
        return [l for l in f.read().split(b"\n") if l.strip()]


def main():
    k8s = [json.loads(l) for l in load_lines("k8s_audit/audit2rbac/demo.log")]
    with open(os.path.join(LOGS, "aws_cloudtrail/awsdocs/awsdocs_examples_Records.json"), "rb") as f:
        ct = json.load(f)["Records"]

    def idx(pred):
        return [i for i, e in enumerate(k8s) if pred(e)]

    def as_user(e):
        return e.get("impersonatedUser", {}).get("username")

    def time(e):
        return e.get("requestReceivedTimestamp") or e.get("timestamp")

    def denied(e):
        return e.get("responseStatus", {}).get("code") in (401, 403)

    def text(e, word):
        return word in json.dumps(e).lower()

    out = {
        "k8s_events": len(k8s),
        "k8s_system_users": len(idx(lambda e: e["user"]["username"].startswith("system:"))),
        "as_bob": idx(lambda e: as_user(e) == "bob"),
        "denied": idx(denied),
        "denied_not_bob": idx(lambda e: denied(e) and as_user(e) != "bob"),
        "alice": idx(lambda e: text(e, "alice")),
        "ns1": idx(lambda e: e.get("objectRef", {}).get("namespace") == "ns1"),
        "before_19_59": idx(lambda e: time(e) < "2017-09-11T19:59:00Z"),
        "after_20_28": idx(lambda e: time(e) > "2017-09-11T20:28:00Z"),
        "at_20_27_52": idx(lambda e: time(e) == "2017-09-11T20:27:52Z"),
        "cloudtrail_records": len(ct),
        "cloudtrail_alice": sum(text(r, "alice") for r in ct),
        "cloudtrail_before_2017_09_11T19_59": sum(
            bool(r.get("eventTime")) and r["eventTime"] < "2017-09-11T19:59:00Z" for r in ct
        ),
        "cloudtrail_after_2017_09_11T20_28": sum(
            bool(r.get("eventTime")) and r["eventTime"] > "2017-09-11T20:28:00Z" for r in ct
        ),
        "cloudtrail_denied_error_code": sum(
            any(w in (r.get("errorCode") or "").lower() for w in ("accessdenied", "unauthorized")) for r in ct
        ),
        "cloudtrail_console_logins": sum(r.get("eventName") == "ConsoleLogin" for r in ct),
        # json.readOnly:false and json.userIdentity.type:iamuser (ASCII case-insensitive value, exact member names).
        "cloudtrail_not_read_only": sum(r.get("readOnly") is False for r in ct),
        "cloudtrail_iam_users": sum(
            str((r.get("userIdentity") or {}).get("type", "")).lower() == "iamuser" for r in ct
        ),
        "nonblank_lines": {
            rel: len(load_lines(rel))
            for rel in [
                "k8s_audit/audit2rbac/demo.log",
                "aws_cloudtrail/otrf/ec2_proxy_s3_exfiltration_2020-09-14011940.json",
                "teleport/panther/Gravitational_TeleportAudit.jsonl",
                "github_audit/panther/GitHub_Audit.jsonl",
                "gcp_audit/panther/GCP_AuditLog.jsonl",
                "okta/panther/Okta_SystemLog.jsonl",
            ]
        },
    }
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
