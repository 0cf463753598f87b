#!/usr/bin/env python3
r"""Synthetic `auditlens export-parquet` output, written from docs/ocsf-export.md alone, for the self-tests of
ocsf_validate.py and parquet_readback.py. Python 3.11, duckdb and cryptography.

It makes:
  * a small evidence store (SQLite, the `archives` and `events` columns those scripts read, docs/archive-format.md
    checkpoints signed with a producer Ed25519 key, RFC 6962 leaves and roots) holding hostile content: control
    characters, bidi overrides and quotes in normalized fields, an event that is not JSON, an event longer than
    OCSF's 65,535-character string limit, a Kubernetes ResponseStarted record, an event without a time, a region
    that is not a safe path segment, and an archive that is not verified;
  * from that store, or from any store of the same schema (tests/fixtures/stores/v8-k8s-cloudtrail.db), the
    export: one folder per OCSF class, region=/accountId=/eventDay= partitions, files
    `part-NNNNN-<export id>.parquet` (zstd Parquet written by duckdb, `COPY ... TO ... (FORMAT PARQUET)`),
    `_manifest.json` (with `export_id`), and `_manifest` signed by an auditor key as a C2SP note;
  * the `auditlens stats --json` document for the same selection (verified archives, Kubernetes RequestReceived /
    ResponseStarted records left out, missing values counted under "(none)").

The OCSF mapping here is a simplification of docs/ocsf-export.md "Classes and activities" driven by the store's
normalized columns; it does not try to equal the Rust exporter's mapping, only its format. By default the files have
the exporter's schema (docs/ocsf-export.md "Columns", checked against a real export): the columns in its order and
with its types, a top-level `service` (Authentication only), `src_endpoint` {ip, svc_name, name}, `unmapped` a MAP
of member name to JSON text, `resources` only in API Activity, `api.request` null without a request id, the
placeholders OCSF requires (`unknown`) and the source's own name for 99 Other; the columns the exporter declares
`required` are written `required`, the others `optional`, whatever a file's rows hold. Left as duckdb writes them:
`time_dt` is in microseconds (the exporter: milliseconds; ClickHouse infers DateTime64(6) instead of 3), and lists
and maps name their inner groups `element` / `key_value` (the exporter: `item` / `entries`), which readers do not
look at. `first_spec=True` writes the columns of the first draft of the spec instead (no `service`, `src_endpoint`
{ip}, `unmapped` as JSON text, no placeholders, `resources` in every class, every column optional): a layout the
exporter never wrote, kept for ocsf_validate.py's self-test of the OCSF gaps that draft had.

Usable on its own:  python3 ocsf_synthetic.py OUT_DIR [--store DB] [--first-spec]
  writes OUT_DIR/store.sqlite (unless --store), OUT_DIR/export/, OUT_DIR/stats.json, OUT_DIR/auditor.pub.
"""

import base64
import datetime
import hashlib
import ipaddress
import json
import os
import re
import sqlite3
import sys

import duckdb
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

CLASSES = {  # folder -> (class_uid, class_name, category_uid, category_name)
    "api_activity": (6003, "API Activity", 6, "Application Activity"),
    "authentication": (3002, "Authentication", 3, "Identity & Access Management"),
    "account_change": (3001, "Account Change", 3, "Identity & Access Management"),
}
ACTIVITY_NAMES = {
    6003: {0: "Unknown", 1: "Create", 2: "Read", 3: "Update", 4: "Delete", 99: "Other"},
    3002: {0: "Unknown", 1: "Logon", 2: "Logoff", 3: "Authentication Ticket", 99: "Other"},
    3001: {0: "Unknown", 1: "Create", 2: "Enable", 3: "Password Change", 4: "Password Reset", 5: "Disable",
           6: "Delete", 7: "Attach Policy", 8: "Detach Policy", 9: "Lock", 10: "MFA Factor Enable",
           11: "MFA Factor Disable", 99: "Other"},
}
ACCOUNT_CHANGE = {  # CloudTrail eventName (iam) -> activity_id (docs/ocsf-export.md)
    "CreateUser": 1, "DeleteUser": 6, "CreateLoginProfile": 3, "UpdateLoginProfile": 3, "ChangePassword": 3,
    "AttachUserPolicy": 7, "PutUserPolicy": 7, "DetachUserPolicy": 8, "DeleteUserPolicy": 8,
    "EnableMFADevice": 10, "DeactivateMFADevice": 11, "CreateAccessKey": 99, "UpdateAccessKey": 99,
    "DeleteAccessKey": 99,
}
PROVIDERS = {"k8s": "Kubernetes", "cloudtrail": "AWS", "gcp": "GCP", "github": "GitHub", "okta": "Okta",
             "teleport": "Teleport"}
VENDORS = {"k8s": ("Kubernetes", "CNCF"), "cloudtrail": ("CloudTrail", "AWS"), "gcp": ("Cloud Audit Logs", "Google"),
           "github": ("GitHub audit log", "GitHub"), "okta": ("Okta System Log", "Okta"),
           "teleport": ("Teleport", "Gravitational")}
SKIPPED_STAGES = ("requestreceived", "responsestarted")
SAFE_PARTITION = re.compile(r"[A-Za-z0-9_-]{1,64}\Z", re.ASCII)
STATUS = {"success": (1, "Success"), "denied": (2, "Failure"), "failure": (2, "Failure")}

EXPORT_ID = "0123456789ab"  # the export id in file names and _manifest.json (the exporter's: 12 random hex digits)

# The Parquet schema of the first draft of docs/ocsf-export.md "Columns", in that order (first_spec=True).
USER_T = "STRUCT(name VARCHAR, uid VARCHAR, type VARCHAR, account STRUCT(uid VARCHAR))"
SPEC_COLUMNS = [
    ("class_uid", "INTEGER"), ("class_name", "VARCHAR"), ("category_uid", "INTEGER"), ("category_name", "VARCHAR"),
    ("activity_id", "INTEGER"), ("activity_name", "VARCHAR"), ("type_uid", "BIGINT"), ("type_name", "VARCHAR"),
    ("severity_id", "INTEGER"), ("severity", "VARCHAR"), ("status_id", "INTEGER"), ("status", "VARCHAR"),
    ("status_code", "VARCHAR"), ("status_detail", "VARCHAR"), ("time", "BIGINT"), ("time_dt", "TIMESTAMPTZ"),
    ("message", "VARCHAR"),
    ("metadata", "STRUCT(version VARCHAR, uid VARCHAR, log_name VARCHAR, "
                 "product STRUCT(name VARCHAR, vendor_name VARCHAR), profiles VARCHAR[])"),
    ("actor", f"STRUCT(user {USER_T})"),
    ("user", USER_T),
    ("api", "STRUCT(operation VARCHAR, service STRUCT(name VARCHAR), request STRUCT(uid VARCHAR), version VARCHAR)"),
    ("resources", "STRUCT(name VARCHAR, type VARCHAR, uid VARCHAR, namespace VARCHAR)[]"),
    ("src_endpoint", "STRUCT(ip VARCHAR)"),
    ("http_request", "STRUCT(user_agent VARCHAR)"),
    ("cloud", "STRUCT(provider VARCHAR, region VARCHAR, account STRUCT(uid VARCHAR))"),
    ("unmapped", "VARCHAR"),
    ("raw_data", "VARCHAR"),
    ("auditlens_event_id", "VARCHAR"), ("auditlens_origin", "VARCHAR"), ("auditlens_sequence", "BIGINT"),
    ("auditlens_event_index", "BIGINT"), ("auditlens_leaf_hash", "VARCHAR"), ("auditlens_archive_root", "VARCHAR"),
    ("auditlens_checkpoint_sha256", "VARCHAR"), ("auditlens_signer_fingerprint", "VARCHAR"),
    ("auditlens_verification", "VARCHAR"), ("auditlens_normalization", "VARCHAR"), ("auditlens_source", "VARCHAR"),
    ("auditlens_category", "VARCHAR"), ("auditlens_outcome", "VARCHAR"), ("auditlens_time_known", "BOOLEAN"),
]
# What the exporter writes differently (docs/ocsf-export.md now): these types, `service` before `src_endpoint`, and
# the columns it declares required (never null).
EXPORT_TYPES = {"src_endpoint": "STRUCT(ip VARCHAR, svc_name VARCHAR, name VARCHAR)",
                "unmapped": "MAP(VARCHAR, VARCHAR)"}
EXPORT_EXTRA = [("service", "STRUCT(name VARCHAR)")]
EXPORT_NULLABLE = {"status_code", "status_detail", "user", "resources", "service", "http_request", "unmapped",
                   "auditlens_source", "auditlens_category", "auditlens_outcome"}


def columns(first_spec=False):
    """[(name, duckdb type)] of the files, in order; NOT NULL on the exporter's required columns."""
    if first_spec:
        return list(SPEC_COLUMNS)
    cols = [(n, EXPORT_TYPES.get(n, t)) for n, t in SPEC_COLUMNS]
    at = [n for n, _ in cols].index("src_endpoint")
    cols[at:at] = EXPORT_EXTRA
    return [(n, t if n in EXPORT_NULLABLE else t + " NOT NULL") for n, t in cols]


# ---- keys and signed notes (C2SP signed-note, Go's key strings; crates/auditlens/src/note.rs) ----

def b64(b):
    return base64.b64encode(b).decode()


class Key:
    """An Ed25519 key with Go's note key strings. Deterministic from a seed label (test keys only)."""

    def __init__(self, name, seed_label):
        seed = hashlib.sha256(seed_label.encode()).digest()
        self.name = name
        self.private = Ed25519PrivateKey.from_private_bytes(seed)
        public = self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.encoded = b"\x01" + public
        self.key_id = hashlib.sha256(name.encode() + b"\n" + self.encoded).digest()[:4]
        self.verifier = f"{name}+{self.key_id.hex()}+{b64(self.encoded)}"
        digest = hashlib.sha256(self.encoded).digest()
        self.fingerprint = "SHA256:" + base64.b64encode(digest).decode().rstrip("=")

    def sign_note(self, text):
        assert text.endswith("\n")
        sig = self.private.sign(text.encode())
        return f"{text}\n\u2014 {self.name} {b64(self.key_id + sig)}\n"


# ---- RFC 6962 ----

def leaf_hash(raw: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + raw).digest()


def merkle_root(leaves):
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + merkle_root(leaves[:k]) + merkle_root(leaves[k:])).digest()


# ---- a synthetic store ----

STORE_DDL = """
CREATE TABLE archives (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL, status TEXT NOT NULL, failure TEXT, origin TEXT, sequence INTEGER,
    source_kind TEXT, events INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0, time_first INTEGER,
    time_last INTEGER, signer_key TEXT, signer_name TEXT, signer_fingerprint TEXT, root BLOB, chain_start BLOB,
    chain_end BLOB, manifest_sha256 BLOB, checkpoint BLOB, manifest BLOB, imported_at TEXT NOT NULL, mapping BLOB,
    parse_errors INTEGER NOT NULL DEFAULT 0, normalization TEXT);
CREATE TABLE events (
    id INTEGER PRIMARY KEY, archive_id INTEGER NOT NULL REFERENCES archives(id), idx INTEGER NOT NULL, ts INTEGER,
    source TEXT COLLATE NOCASE, origin TEXT COLLATE NOCASE, actor TEXT COLLATE NOCASE, action TEXT COLLATE NOCASE,
    resource TEXT COLLATE NOCASE, outcome TEXT COLLATE NOCASE, ip TEXT COLLATE NOCASE, agent TEXT COLLATE NOCASE,
    env TEXT COLLATE NOCASE, stage TEXT COLLATE NOCASE, category TEXT COLLATE NOCASE, leaf BLOB NOT NULL,
    raw TEXT NOT NULL, privilege TEXT COLLATE NOCASE, parse_error TEXT);
CREATE UNIQUE INDEX events_archive_idx ON events(archive_id, idx);
"""

HOSTILE = "\x1b[31m\u202eroot\x07'\";--\n"


def _k8s(verb, user, ns, name, code, stage="ResponseComplete", ip="10.0.0.7", ts="2024-03-01T10:00:00.000000Z",
         extra=None):
    e = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": f"a-{verb}-{name}",
         "stage": stage, "requestURI": f"/api/v1/namespaces/{ns}/pods/{name}", "verb": verb,
         "user": {"username": user}, "sourceIPs": [ip], "userAgent": "kubectl/v1.29",
         "objectRef": {"resource": "pods", "namespace": ns, "name": name, "apiVersion": "v1"},
         "responseStatus": {"code": code}, "stageTimestamp": ts}
    if extra:
        e.update(extra)
    return e


def _trail(name, source, user_arn, region="us-east-1", account="111122223333", ip="192.0.2.10", error=None,
           ts="2024-03-02T11:00:00Z"):
    e = {"eventVersion": "1.08", "userIdentity": {"type": "IAMUser", "arn": user_arn, "accountId": account},
         "eventTime": ts, "eventSource": source, "eventName": name, "awsRegion": region, "sourceIPAddress": ip,
         "userAgent": "aws-cli/2", "requestID": f"r-{name}", "eventID": f"e-{name}", "recipientAccountId": account}
    if error:
        e["errorCode"] = error
    return e


def _micros(text):
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1_000_000)


def hostile_events():
    """(archive spec, [(raw text, normalized fields)]) for the synthetic store."""
    long_body = {"requestObject": {"data": "x" * 70_000}}
    k8s = [
        _k8s("get", "alice", "default", "web-1", 200),
        _k8s("create", "system:serviceaccount:ci:deployer", "prod", "api-7", 201),
        _k8s("delete", "mallory" + HOSTILE, "kube-system", "coredns'); DROP TABLE events;--", 403),
        _k8s("exec", "bob", "prod", "api-7", 101, ts="2024-03-01T23:59:59.999000Z"),
        _k8s("patch", "carol", "prod", "cfg\u0000zero", 500),
        _k8s("update", "dave", "prod", "big", 200, extra=long_body),
        _k8s("get", "alice", "default", "web-1", 200, stage="ResponseStarted"),
    ]
    rows = []
    for e in k8s:
        outcome = "denied" if e["responseStatus"]["code"] == 403 else (
            "failure" if e["responseStatus"]["code"] >= 500 else "success")
        category = {"get": "read", "create": "deployment", "exec": "access"}.get(e["verb"], "change")
        rows.append((json.dumps(e, separators=(",", ":")), {
            "ts": _micros(e["stageTimestamp"]), "source": "k8s", "actor": e["user"]["username"],
            "action": e["verb"], "resource": f"pods/{e['objectRef']['namespace']}/{e['objectRef']['name']}",
            "outcome": outcome, "ip": e["sourceIPs"][0], "agent": e["userAgent"], "env": "prod",
            "stage": e["stage"], "category": category, "privilege": "exec" if e["verb"] == "exec" else None}))
    # A line that verifies but is not JSON: stored with no normalized fields.
    rows.append(("{not json \x1b[2J \u202e}", {"source": "k8s", "parse_error": "expected value at line 1"}))
    trail = [
        (_trail("ConsoleLogin", "signin.amazonaws.com", "arn:aws:iam::111122223333:user/anaya"), "access", "login"),
        (_trail("ConsoleLogin", "signin.amazonaws.com", "arn:aws:iam::111122223333:user/anaya",
                error="Failed authentication"), "access", "login"),
        (_trail("AssumeRole", "sts.amazonaws.com", "arn:aws:iam::111122223333:user/ci", ip="ec2.amazonaws.com"),
         "access", "role"),
        (dict(_trail("CreateUser", "iam.amazonaws.com", "arn:aws:iam::111122223333:user/admin"),
              requestParameters={"userName": "bob\u2066"}), "change", None),
        (_trail("AttachUserPolicy", "iam.amazonaws.com", "arn:aws:iam::111122223333:user/admin",
                error="AccessDenied"), "change", None),
        (_trail("DescribeInstances", "ec2.amazonaws.com", "arn:aws:iam::111122223333:user/ro",
                region="eu-west-1/../../etc",
                account="0000111122223333444455556666777788889999000011112222333344445555X"),
         "read", None),
        (_trail("StartInstances", "ec2.amazonaws.com", "arn:aws:iam::111122223333:user/ops", region="us-east-2",
                account="012345678901"), "change", None),
    ]
    for e, category, privilege in trail:
        outcome = ("denied" if e.get("errorCode") == "AccessDenied" else "failure") if e.get("errorCode") else "success"
        rows.append((json.dumps(e, separators=(",", ":")), {
            "ts": _micros(e["eventTime"]), "source": "cloudtrail", "actor": e["userIdentity"]["arn"],
            "action": f"{e['eventSource'].split('.')[0]}:{e['eventName']}",
            "resource": (e.get("requestParameters") or {}).get("userName"), "outcome": outcome,
            "ip": e["sourceIPAddress"], "agent": e["userAgent"], "env": f"{e['recipientAccountId']}/{e['awsRegion']}",
            "category": category, "privilege": privilege}))
    # An event without a time (and no outcome): its row takes the archive's sealing time.
    rows.append(('{"eventVersion":"1.08","eventSource":"health.amazonaws.com"}',
                 {"source": "cloudtrail", "category": "other"}))
    k8s_rows = [r for r in rows if r[1]["source"] == "k8s"]
    trail_rows = [r for r in rows if r[1]["source"] == "cloudtrail"]
    return [
        ({"origin": "synthetic.example/prod/k8s" + "\u200b", "sequence": 1, "kind": "k8s", "status": "verified"},
         k8s_rows),
        ({"origin": "synthetic.example/aws/cloudtrail", "sequence": 1, "kind": "cloudtrail", "status": "verified"},
         trail_rows),
        ({"origin": "synthetic.example/aws/cloudtrail", "sequence": 2, "kind": "cloudtrail", "status": "untrusted"},
         trail_rows[:2]),
    ]


def build_store(path, producer=None, archives=None):
    """A store with the archives/events columns the checks read; checkpoints as docs/archive-format.md s5."""
    producer = producer or Key("synthetic-producer", "producer")
    archives = archives if archives is not None else hostile_events()
    con = sqlite3.connect(path)
    con.executescript(STORE_DDL)
    chain_ends = {}
    for aid, (a, events) in enumerate(archives, start=1):
        raws = [raw.encode() for raw, _ in events]
        leaves = [leaf_hash(r) for r in raws]
        root = merkle_root(leaves)
        chain = chain_ends.get(a["origin"], bytes(32)) if a["sequence"] > 1 else bytes(32)
        start = chain
        for leaf in leaves:
            chain = hashlib.sha256(b"\x02" + chain + leaf).digest()
        chain_ends[a["origin"]] = chain
        manifest = json.dumps({"origin": a["origin"], "sequence": a["sequence"], "source_kind": a["kind"],
                               "created": "2024-03-03T00:00:00Z"}).encode()
        text = (f"{a['origin']}\n{len(leaves)}\n{b64(root)}\nauditlens-sequence {a['sequence']}\n"
                f"auditlens-chain-start {b64(start)}\nauditlens-chain-end {b64(chain)}\n"
                f"auditlens-manifest-sha256 {b64(hashlib.sha256(manifest).digest())}\n")
        checkpoint = producer.sign_note(text).encode()
        con.execute(
            "INSERT INTO archives (id, path, status, origin, sequence, source_kind, events, bytes, signer_key,"
            " signer_name, signer_fingerprint, root, chain_start, chain_end, manifest_sha256, checkpoint, manifest,"
            " imported_at, normalization, parse_errors) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (aid, f"/evidence/{a['kind']}-{a['sequence']}.zip", a["status"], a["origin"], a["sequence"], a["kind"],
             len(leaves), sum(map(len, raws)), producer.verifier, producer.name, producer.fingerprint, root, start,
             chain, hashlib.sha256(manifest).digest(), checkpoint, manifest, "2024-03-03T01:00:00Z",
             f"{a['kind']}/1", sum(1 for _, f in events if f.get("parse_error"))))
        for idx, ((raw, f), leaf) in enumerate(zip(events, leaves)):
            con.execute(
                "INSERT INTO events (archive_id, idx, ts, source, origin, actor, action, resource, outcome, ip, agent,"
                " env, stage, category, leaf, raw, privilege, parse_error)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (aid, idx, f.get("ts"), f.get("source"), a["origin"], f.get("actor"), f.get("action"),
                 f.get("resource"), f.get("outcome"), f.get("ip"), f.get("agent"), f.get("env"), f.get("stage"),
                 f.get("category"), leaf, raw, f.get("privilege"), f.get("parse_error")))
    con.commit()
    con.close()
    return producer


# ---- selection, as `auditlens stats` and the exporter make it ----

def selected_events(db):
    """Verified archives' events, Kubernetes RequestReceived/ResponseStarted records left out."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    rows = con.execute(
        "SELECT a.origin, a.sequence, a.root, a.checkpoint, a.signer_fingerprint, a.normalization, a.source_kind,"
        " a.manifest, e.idx, e.ts, e.source, e.actor, e.action, e.resource, e.outcome, e.ip, e.agent, e.env,"
        " e.stage, e.category, e.privilege, e.leaf, CAST(e.raw AS BLOB) AS raw"
        " FROM events e JOIN archives a ON a.id = e.archive_id WHERE a.status = 'verified'"
        " ORDER BY a.id, e.idx").fetchall()
    con.close()
    return [dict(r) for r in rows if (r["stage"] or "").lower() not in SKIPPED_STAGES]


def stats_for(db):
    """The `auditlens stats --json` document (Stats, crates/auditlens/src/store/stats/model.rs) of the selection."""
    total, by = 0, {"by_category": {}, "by_outcome": {}, "by_source": {}}
    for e in selected_events(db):
        total += 1
        for key, col in (("by_category", "category"), ("by_outcome", "outcome"), ("by_source", "source")):
            k = e[col] if e[col] is not None else "(none)"
            by[key][k] = by[key].get(k, 0) + 1
    base = "-stage:RequestReceived -stage:ResponseStarted status:verified"
    return {"total": total, **{k: dict(sorted(v.items())) for k, v in by.items()}, "top_actors": [],
            "deployments_per_day": [],
            "drill": {"total": base, "by_category": {}, "by_outcome": {}, "by_source": {}},
            "scope": {"from": None, "to": None, "query": "", "verified_only": True, "base": base}}


# ---- mapping (simplified docs/ocsf-export.md "Classes and activities") ----

def _verb_activity(verb):
    v = verb.lower()
    if v in ("create",) or re.match(r"(create|run)", v):
        return 1
    if v in ("get", "list", "watch") or re.match(r"(get|list|describe)", v):
        return 2
    if v in ("update", "patch") or re.match(r"(update|modify|put|set|start|stop)", v):
        return 3
    if v in ("delete", "deletecollection") or re.match(r"(delete|remove)", v):
        return 4
    return 99


def _is_ip(text):
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def _partition(value):
    return value if isinstance(value, str) and SAFE_PARTITION.match(value) else "unknown"


def map_event(e, first_spec=False):
    exporter = not first_spec  # the exporter's layout
    raw = e["raw"].decode()
    try:
        doc = json.loads(raw)
        if not isinstance(doc, dict):
            doc = {}
    except ValueError:
        doc = {}
    source = e["source"] or e["source_kind"]
    action = e["action"]
    op = action.split(":", 1)[1] if action and ":" in action else action
    privilege = (e["privilege"] or "").lower()
    if privilege == "login":
        folder, activity = "authentication", (2 if op and re.search(r"(logout|signout)", op, re.I) else 1)
    elif privilege == "role" and source == "cloudtrail":
        # Only CloudTrail's role assumption: a Kubernetes request made while impersonating (privilege `role`
        # too, docs/sources.md) is an API call, not a sign-in.
        folder, activity = "authentication", 3
    elif source == "cloudtrail" and doc.get("eventSource") == "iam.amazonaws.com" and op in ACCOUNT_CHANGE:
        folder, activity = "account_change", ACCOUNT_CHANGE[op]
    else:
        folder, activity = "api_activity", _verb_activity(op) if op else 99
    class_uid, class_name, category_uid, category_name = CLASSES[folder]
    activity_name = ACTIVITY_NAMES[class_uid][activity]
    if exporter and activity == 99 and op:
        activity_name = op  # OCSF: 99 Other carries the source's own activity name
    outcome = e["outcome"]
    status_id, status = STATUS.get((outcome or "").lower(), (0, "Unknown"))
    if e["ts"] is not None:
        time_ms, time_known = e["ts"] // 1000, True
    else:
        created = json.loads(e["manifest"] or b"{}").get("created", "1970-01-01T00:00:00Z")
        time_ms, time_known = _micros(created) // 1000, False
    event_id = f"{e['origin']}@{e['sequence']}#{e['idx']}"
    if source == "cloudtrail":
        region = doc.get("awsRegion")
        account = doc.get("recipientAccountId") or (doc.get("userIdentity") or {}).get("accountId")
        service = doc.get("eventSource")
        request_uid = doc.get("requestID")
        status_code = doc.get("errorCode")
    else:
        region, account = None, None
        service = "kubernetes" if source == "k8s" else source
        request_uid = doc.get("auditID")
        code = (doc.get("responseStatus") or {}).get("code")
        status_code = str(code) if code is not None else None
    product_name, vendor = VENDORS.get(source, (source or "unknown", "unknown"))
    who = {"name": e["actor"], "uid": e["actor"] if (e["actor"] or "").startswith("arn:") else None,
           "type": None, "account": {"uid": account} if account else None} if e["actor"] else None
    user = None
    if folder in ("authentication", "account_change"):
        target = e["resource"] if folder == "account_change" and e["resource"] else e["actor"]
        if exporter and not target:
            target = "unknown"  # OCSF requires user.name ... of a present user: the export says `unknown`
        user = {"name": target, "uid": None, "type": None, "account": {"uid": account} if account else None}
    ip = e["ip"]
    if exporter:
        # network_endpoint needs one of ip, uid, name, hostname, svc_name, ... (`domain` does not count): an AWS
        # service calling (CloudTrail sourceIPAddress "ec2.amazonaws.com") is a svc_name.
        src = ({"ip": ip, "svc_name": None, "name": None} if ip and _is_ip(ip) else
               {"ip": None, "svc_name": ip, "name": None} if ip else {"ip": None, "svc_name": None, "name": "unknown"})
        if who is None:
            who = {"name": "unknown", "uid": None, "type": None, "account": None}
    else:
        src = {"ip": ip} if ip and _is_ip(ip) else None
    taken = {"eventName", "eventSource", "requestID", "awsRegion", "recipientAccountId", "userIdentity",
             "sourceIPAddress", "userAgent", "eventTime", "errorCode", "verb", "user", "sourceIPs", "auditID",
             "objectRef", "responseStatus", "stageTimestamp", "userAgent"}
    rest = {k: v for k, v in doc.items() if k not in taken}
    if exporter:
        unmapped = {k: json.dumps(v, ensure_ascii=False) for k, v in rest.items()} or None
    else:
        unmapped = json.dumps(rest, ensure_ascii=False) if rest else None
    detail = None
    if (outcome or "").lower() in ("denied", "failure"):
        word = "denied" if outcome.lower() == "denied" else "failed"
        msg = doc.get("errorMessage") or doc.get("errorCode")
        detail = f"{word}: {msg}" if msg else word
    row = {
        "class_uid": class_uid, "class_name": class_name, "category_uid": category_uid,
        "category_name": category_name, "activity_id": activity, "activity_name": activity_name,
        "type_uid": class_uid * 100 + activity, "type_name": f"{class_name}: {activity_name}",
        "severity_id": 1, "severity": "Informational", "status_id": status_id, "status": status,
        "status_code": status_code, "status_detail": detail, "time": time_ms,
        "time_dt": datetime.datetime.fromtimestamp(time_ms / 1000, tz=datetime.timezone.utc),
        "message": f"{e['actor'] or '?'} {action or '?'} {e['resource'] or '?'}: {outcome or 'unknown'}",
        "metadata": {"version": "1.1.0", "uid": event_id, "log_name": e["origin"],
                     "product": {"name": product_name, "vendor_name": vendor}, "profiles": ["cloud", "datetime"]},
        "actor": {"user": who} if who else None,
        "user": user,
        "api": {"operation": op if op else ("unknown" if exporter else None),
                "service": {"name": service} if service else None,
                "request": {"uid": request_uid} if request_uid else None, "version": None},
        # OCSF 1.1.0 defines `resources` for API Activity only.
        "resources": ([{"name": e["resource"], "type": None, "uid": None, "namespace": None}]
                      if e["resource"] and (folder == "api_activity" or not exporter) else None),
        "src_endpoint": src,
        "http_request": {"user_agent": e["agent"]} if e["agent"] else None,
        "cloud": {"provider": PROVIDERS.get(source, source or "unknown"), "region": region,
                  "account": {"uid": account} if account else None},
        "unmapped": unmapped,
        "raw_data": raw,
        "auditlens_event_id": event_id, "auditlens_origin": e["origin"], "auditlens_sequence": e["sequence"],
        "auditlens_event_index": e["idx"], "auditlens_leaf_hash": e["leaf"].hex(),
        "auditlens_archive_root": e["root"].hex(),
        "auditlens_checkpoint_sha256": hashlib.sha256(e["checkpoint"]).hexdigest(),
        "auditlens_signer_fingerprint": e["signer_fingerprint"], "auditlens_verification": "verified",
        "auditlens_normalization": e["normalization"], "auditlens_source": e["source"],
        "auditlens_category": e["category"], "auditlens_outcome": e["outcome"], "auditlens_time_known": time_known,
    }
    if exporter:
        row["service"] = {"name": service} if folder == "authentication" else None
    day = datetime.datetime.fromtimestamp(time_ms / 1000, tz=datetime.timezone.utc).strftime("%Y%m%d")
    return folder, _partition(region), _partition(account), day, row


# ---- the export ----

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.digest()


def write_export(db, out, auditor=None, first_spec=False, max_rows_per_file=4, mutate=None, export_id=EXPORT_ID):
    """Writes the export of `db` to `out` (which must not exist). `mutate(row)` may change rows before writing
    (the manifest is still signed over what is written: a test of the checks behind the signature)."""
    auditor = auditor or Key("synthetic-auditor", "auditor")
    os.makedirs(out)
    parts = {}
    for e in selected_events(db):
        folder, region, account, day, row = map_event(e, first_spec)
        if mutate:
            row = mutate(row)
            if row is None:
                continue
        parts.setdefault((folder, region, account, day), []).append(row)
    cols = columns(first_spec)
    con = duckdb.connect()
    files = []
    for (folder, region, account, day), rows in sorted(parts.items()):
        rows.sort(key=lambda r: r["time"])
        d = os.path.join(out, folder, f"region={region}", f"accountId={account}", f"eventDay={day}")
        os.makedirs(d, exist_ok=True)
        for n, start in enumerate(range(0, len(rows), max_rows_per_file)):
            chunk = rows[start:start + max_rows_per_file]
            con.execute("DROP TABLE IF EXISTS part")
            con.execute("CREATE TABLE part (" + ", ".join(f'"{c}" {t}' for c, t in cols) + ")")
            con.executemany(f"INSERT INTO part VALUES ({', '.join('?' for _ in cols)})",
                            [[r.get(c) for c, _ in cols] for r in chunk])
            rel = f"{folder}/region={region}/accountId={account}/eventDay={day}/part-{n:05d}-{export_id}.parquet"
            tmp = os.path.join(out, rel + ".tmp")
            # duckdb writes a column `required` when it knows the column holds no null; the union with a row that
            # never comes (random() < 1) hides that, so that only the NOT NULL columns are `required`, as the
            # exporter writes them, whatever the rows of this file hold.
            nullable = ", ".join(f'"{c}"' if t.endswith(" NOT NULL") else f'NULL AS "{c}"' for c, t in cols)
            con.execute(f"COPY (SELECT * EXCLUDE (_r) FROM (SELECT *, rowid AS _r FROM part UNION ALL "
                        f"SELECT {nullable}, NULL FROM part WHERE random() > 2) ORDER BY _r) "
                        "TO ? (FORMAT PARQUET, COMPRESSION zstd, ROW_GROUP_SIZE 65536)", [tmp])
            os.rename(tmp, os.path.join(out, rel))
            files.append({"path": rel, "class_uid": CLASSES[folder][0], "region": region, "account_id": account,
                          "event_day": day, "rows": len(chunk)})
    con.close()
    for f in files:
        p = os.path.join(out, f["path"])
        f["bytes"] = os.path.getsize(p)
        f["sha256"] = sha256_file(p).hex()
    by_class = {}
    for f in files:
        folder = f["path"].split("/", 1)[0]
        by_class[folder] = by_class.get(folder, 0) + f["rows"]
    manifest = {
        "format": "auditlens-ocsf-parquet", "format_version": 1, "export_id": export_id, "ocsf_version": "1.1.0",
        "software": "ocsf_synthetic.py", "exported": "2024-03-04T00:00:00Z",
        "selection": {"query": "", "from": None, "to": None, "all_stages": False},
        "auditor": {"key": auditor.verifier, "name": auditor.name, "fingerprint": auditor.fingerprint},
        "rows": sum(f["rows"] for f in files), "left_out_unverified": _left_out(db), "by_class": by_class,
        "files": files,
    }
    with open(os.path.join(out, "_manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False)
        f.write("\n")
    sign_manifest(out, auditor)
    return auditor


def _left_out(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    n = con.execute("SELECT count(*) FROM events e JOIN archives a ON a.id = e.archive_id"
                    " WHERE a.status != 'verified'").fetchone()[0]
    con.close()
    return n


def sign_manifest(out, auditor):
    """(Re)writes `_manifest`: the signed note over every other file of `out`."""
    lines = []
    for root, dirs, names in os.walk(out):
        for name in names:
            rel = os.path.relpath(os.path.join(root, name), out).replace(os.sep, "/")
            if rel == "_manifest":
                continue
            p = os.path.join(root, name)
            lines.append((rel.encode(), f"{b64(sha256_file(p))} {os.path.getsize(p)} {rel}"))
    text = f"auditlens-ocsf-parquet v1\nauditor {auditor.verifier}\n" + "".join(
        line + "\n" for _, line in sorted(lines))
    with open(os.path.join(out, "_manifest"), "w", encoding="utf-8", newline="\n") as f:
        f.write(auditor.sign_note(text))


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--store", help="read this store instead of writing the synthetic one")
    ap.add_argument("--first-spec", action="store_true",
                    help="the first draft's columns (no service, src_endpoint {ip}, unmapped as JSON text)")
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    db = a.store or os.path.join(a.out, "store.sqlite")
    if not a.store:
        build_store(db)
    auditor = write_export(db, os.path.join(a.out, "export"), first_spec=a.first_spec)
    with open(os.path.join(a.out, "stats.json"), "w") as f:
        json.dump(stats_for(db), f, indent=2)
    with open(os.path.join(a.out, "auditor.pub"), "w") as f:
        f.write(auditor.verifier + "\n")
    print(f"wrote {a.out}/export, {a.out}/stats.json, {a.out}/auditor.pub (store {db})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
