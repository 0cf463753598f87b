#!/usr/bin/env python3
r"""Independent read-back of an `auditlens export-parquet` directory against its evidence store and
`auditlens stats --json`, with two Parquet readers (duckdb and chdb, embedded ClickHouse).

Written from docs/ocsf-export.md, docs/evidence-bundle.md section 8 (signed notes), docs/archive-format.md (leaves,
roots, checkpoints) and the store's schema, without reading the Rust exporter. Python 3.11 with duckdb, chdb and
cryptography.

Usage:
    python3 parquet_readback.py --export DIR --db STORE.sqlite --stats STATS.json
                                [--trust-auditor KEY|FILE.pub] [--sample N|all] [--engines duckdb,chdb]
                                [--max-failures N]
    python3 parquet_readback.py --self-test

STATS.json is the output of `auditlens stats --json` for the same query (and --from/--to) as the export.

Checks, in order; each failure is one line `FAIL <check>: <detail>` (texts from the data are JSON-quoted with control
and non-ASCII characters escaped):
  1. the hand-over: `_manifest` is a C2SP signed note (UTF-8, no control character but \n, text / blank line /
     signature lines `— <name> <base64(key ID || Ed25519 signature)>`, canonical base64); its text is
     `auditlens-ocsf-parquet v1`, `auditor <verifier key>`, then `<base64 SHA-256> <size> <path>` lines sorted by
     path (byte order), each path once, relative, without `.`/`..` segments; the verifier key
     `name+<8 hex>+base64(0x01 || 32-byte key)` hashes to its key ID (SHA-256(name || "\n" || 0x01 || key)[:4]);
     every signature line of that name and key ID verifies (Ed25519, `cryptography`) over the note text, and there
     is at least one; with --trust-auditor the key must be that key, byte for byte; every listed file exists as a
     regular file (no symlink) with that size and SHA-256; no other file or special file is in DIR;
  2. `_manifest.json`: is listed; I-JSON (no duplicate member); format, format_version 1, ocsf_version 1.1.0; its
     auditor key, name and fingerprint (`SHA256:` + unpadded base64 of SHA-256(0x01 || key)) are the note's;
     files[] names exactly the listed Parquet files, each with the listed size, its SHA-256 in hex, the class_uid of
     its folder and the region/account_id/event_day of its path; export_id is 12 lowercase hex digits and every
     file's name is part-NNNNN-<export_id>.parquet; rows and by_class are the sums of files[].rows;
  3. with EACH engine (duckdb `read_parquet([...])`, chdb `file('DIR/{...}', Parquet)`, over exactly the Parquet
     parts `_manifest` lists, read through a link of a plain name so that no path reaches SQL text): total rows
     == stats total == manifest rows; rows per auditlens_source / auditlens_outcome /
     auditlens_category == stats by_source / by_outcome / by_category (a null counts under "(none)", as stats
     does; zero entries ignored); rows per file == files[].rows, per class folder == by_class; class_uid is the
     folder's; rows with status_id 2 and auditlens_outcome 'denied' == stats by_outcome.denied, and status_id is
     1 for success, 2 for denied/failure, 0 for unknown/none; no auditlens_event_id twice; type_uid ==
     class_uid * 100 + activity_id;
  4. against the store (opened read-only, `file:...?mode=ro`): every row's (auditlens_origin, auditlens_sequence)
     is an archive with status 'verified' and (auditlens_event_index) one of its events, no event twice; per row
     auditlens_leaf_hash == hex(events.leaf), auditlens_archive_root == hex(archives.root),
     auditlens_checkpoint_sha256 == hex(SHA-256(archives.checkpoint)), signer fingerprint, normalization, source,
     category and outcome as stored, auditlens_verification 'verified', auditlens_event_id == metadata.uid ==
     origin@sequence#index, metadata.log_name == origin, time == events.ts in ms (and auditlens_time_known true)
     or, for an event without a time, auditlens_time_known false; the path's eventDay is the UTC day of `time` and
     its region/accountId are cloud.region / cloud.account.uid when those are safe path segments
     ([A-Za-z0-9_-]{1,64}), else `unknown`; per archive (once): its stored leaves, indexes 0..n-1, hash to
     archives.root (RFC 6962) and its checkpoint is a signed note by archives.signer_key whose origin, size, root
     and auditlens-sequence are the archive's;
  5. for a sample of rows (--sample, default 200; `all`; evenly spread): raw_data == events.raw byte for byte and
     SHA-256(0x00 || raw_data) == events.leaf == auditlens_leaf_hash.

Exit status: 0 every check passed; 1 a check failed; 2 usage or I/O error (an input that does not exist or cannot be
read, STATS.json not JSON, an engine that cannot be imported).

Readings of docs/ocsf-export.md where it leaves room (what this script does):
  R1 hex is lowercase (auditlens_leaf_hash, auditlens_archive_root, auditlens_checkpoint_sha256, files[].sha256).
  R2 a store value that is NULL (the outcome and category of an event that did not parse) is a null column, never
     "unknown": `auditlens stats` counts it under "(none)", and so does this script; status_id is then 0.
  R3 files[].region / account_id / event_day are the partition values of the file's path (`unknown` included), not
     the event's exact values (those are in the `cloud` column).
  R4 `time` is events.ts (microseconds) divided by 1,000, rounded down or toward zero (they differ before 1970).
  R5 auditlens_source, _category and _outcome are the event's stored `source`, `category` and `outcome` columns,
     the ones `auditlens stats` counts (`events.source` is the normalizer's source name, which is not always the
     archive's `source_kind`: `import --as`, mapping archives).
"""

import argparse
import base64
import binascii
import datetime
import hashlib
import json
import os
import re
import sqlite3
import sys
from collections import Counter, defaultdict

HEADER = "auditlens-ocsf-parquet v1"
CLASS_UIDS = {"api_activity": 6003, "authentication": 3002, "account_change": 3001}
PART_RE = re.compile(r"([a-z_]+)/region=([A-Za-z0-9_-]{1,64})/accountId=([A-Za-z0-9_-]{1,64})/"
                     r"eventDay=([0-9]{8})/part-[0-9]{5}-[0-9a-f]{12}\.parquet\Z", re.ASCII)
SAFE_PARTITION = re.compile(r"[A-Za-z0-9_-]{1,64}\Z", re.ASCII)
KEY_NAME_BAD = re.compile(r"[+\s\x00-\x1f]")
EXPORT_ID_RE = re.compile(r"[0-9a-f]{12}\Z", re.ASCII)
NONE = "(none)"  # how `auditlens stats` keys a missing value
STATUS_OF = {"success": 1, "denied": 2, "failure": 2, "unknown": 0, NONE: 0}
MANIFEST_MAX = 64 << 20


class Usage(Exception):
    pass


def q(value, limit=160):
    try:
        text = json.dumps(value, ensure_ascii=True, default=str)
    except (TypeError, ValueError):
        text = json.dumps(repr(value), ensure_ascii=True)
    return text if len(text) <= limit else text[:limit] + f"...({len(text)} chars)"


class Checks:
    def __init__(self, max_failures, out):
        self.max, self.out = max_failures, out
        self.failures = Counter()
        self.shown = 0
        self.notes = []

    def fail(self, check, detail):
        self.failures[check] += 1
        if self.shown < self.max:
            self.shown += 1
            print(f"FAIL {check}: {detail}", file=self.out)

    def ok(self, text):
        print(f"ok   {text}", file=self.out)

    def note(self, text):
        print(f"note {text}", file=self.out)

    @property
    def count(self):
        return sum(self.failures.values())


# ---------------------------------------------------------------------------------------------------------------
# 1-2. The signed manifest and _manifest.json


def canonical_b64(text):
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if base64.b64encode(raw).decode() == text else None


def parse_verifier_key(s):
    """Go's `name+hex8+base64(0x01 || key)`. Returns (name, key_id bytes, 32-byte public key) or raises ValueError."""
    s = s.strip()
    parts = s.split("+", 2)
    if len(parts) != 3:
        raise ValueError("expected <name>+<key ID>+<base64 key>")
    name, hexid, key64 = parts
    if not name or KEY_NAME_BAD.search(name):
        raise ValueError("invalid key name")
    if not re.fullmatch(r"[0-9a-fA-F]{8}", hexid):
        raise ValueError("the key ID is not 8 hexadecimal digits")
    encoded = canonical_b64(key64)
    if encoded is None:
        raise ValueError("the key is not canonical padded base64")
    if hashlib.sha256(name.encode() + b"\n" + encoded).digest()[:4] != bytes.fromhex(hexid):
        raise ValueError("the key ID does not match SHA-256(name || \"\\n\" || key)[:4]")
    if len(encoded) != 33 or encoded[0] != 1:
        raise ValueError("not an Ed25519 key (0x01 and 32 bytes)")
    return name, bytes.fromhex(hexid), encoded[1:]


def fingerprint(public):
    return "SHA256:" + base64.b64encode(hashlib.sha256(b"\x01" + public).digest()).decode().rstrip("=")


def parse_note(raw):
    """(text, [(name, key_id bytes, signature bytes)]) of a C2SP signed note; raises ValueError."""
    try:
        message = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 (byte {e.start})") from None
    bad = next((i for i, b in enumerate(raw) if b < 0x20 and b != 0x0A), None)
    if bad is not None:
        raise ValueError(f"control character 0x{raw[bad]:02x} at byte {bad}")
    split = message.rfind("\n\n")
    if split < 0:
        raise ValueError("no blank line between the text and the signatures")
    text, block = message[:split + 1], message[split + 2:]
    if not block:
        raise ValueError("no signature lines")
    if not block.endswith("\n"):
        raise ValueError("the last signature line does not end with a newline")
    sigs = []
    for n, line in enumerate(block[:-1].split("\n"), start=text.count("\n") + 2):
        if not line.startswith("\u2014 "):
            raise ValueError(f"line {n}: a signature line starts with an em dash (U+2014) and a space")
        name, sp, sig64 = line[2:].partition(" ")
        if not sp or not name or KEY_NAME_BAD.search(name):
            raise ValueError(f"line {n}: expected a key name, a space and a base64 signature")
        sig = canonical_b64(sig64)
        if sig is None or len(sig) < 5:
            raise ValueError(f"line {n}: the signature is not canonical base64 of at least 5 bytes")
        sigs.append((name, sig[:4], sig[4:]))
    if len(sigs) > 100:
        raise ValueError("more than 100 signature lines")
    return text, sigs


def load_key_arg(value):
    if os.path.isfile(value):
        with open(value, encoding="utf-8") as f:
            value = f.read()
    try:
        parse_verifier_key(value)
    except ValueError as e:
        raise Usage(f"--trust-auditor: {e}") from None
    return value.strip()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.digest()


def check_manifest_note(export, trusted, c):
    """Returns ({path: (digest, size)}, auditor key string or None)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    path = os.path.join(export, "_manifest")
    if not os.path.isfile(path) or os.path.islink(path):
        c.fail("manifest", "_manifest is missing (or not a regular file)")
        return {}, None
    if os.path.getsize(path) > MANIFEST_MAX:
        c.fail("manifest", f"_manifest is larger than {MANIFEST_MAX} bytes")
        return {}, None
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text, sigs = parse_note(raw)
    except ValueError as e:
        c.fail("manifest", f"_manifest is not a signed note: {e}")
        return {}, None
    lines = text[:-1].split("\n")
    if lines[0] != HEADER:
        c.fail("manifest", f"first line is {q(lines[0])}, not {q(HEADER)}")
        return {}, None
    if len(lines) < 2 or not lines[1].startswith("auditor "):
        c.fail("manifest", "second line is not `auditor <verifier key>`")
        return {}, None
    key_text = lines[1][len("auditor "):]
    try:
        name, key_id, public = parse_verifier_key(key_text)
    except ValueError as e:
        c.fail("manifest", f"auditor key {q(key_text)}: {e}")
        return {}, None
    if trusted is not None and key_text != trusted:
        c.fail("manifest", f"signed by auditor {q(key_text)} ({fingerprint(public)}), not the trusted {q(trusted)}")
    verifier = Ed25519PublicKey.from_public_bytes(public)
    mine = [s for n, k, s in sigs if n == name and k == key_id]
    if not mine:
        c.fail("manifest", f"no signature line from the auditor key {name}+{key_id.hex()}")
    for s in mine:
        try:
            if len(s) != 64:
                raise InvalidSignature()
            verifier.verify(s, text.encode())
        except InvalidSignature:
            c.fail("manifest", f"the signature by {name}+{key_id.hex()} does not verify over the note text")
            break
    listed, previous = {}, None
    for n, line in enumerate(lines[2:], start=3):
        m = re.fullmatch(r"(\S{44}) (0|[1-9][0-9]*) (.+)", line)
        digest = canonical_b64(m.group(1)) if m else None
        if not m or digest is None or len(digest) != 32:
            c.fail("manifest", f"line {n}: not `<base64 SHA-256> <size> <path>`: {q(line)}")
            continue
        rel = m.group(3)
        segs = rel.split("/")
        if rel.startswith("/") or "\\" in rel or any(s in ("", ".", "..") for s in segs) or rel == "_manifest":
            c.fail("manifest", f"line {n}: path {q(rel)} is not a plain relative path of a file in DIR")
            continue
        if previous is not None and rel.encode() <= previous.encode():
            c.fail("manifest", f"line {n}: {q(rel)} is not after {q(previous)} (sorted by path, each once)")
        previous = rel
        listed[rel] = (digest, int(m.group(2)))
    if "_manifest.json" not in listed:
        c.fail("manifest", "_manifest.json is not listed in _manifest")
    # The directory: exactly the listed files, as regular files with their size and SHA-256.
    on_disk = set()
    for dirpath, dirs, names in os.walk(export):
        for d in list(dirs):
            p = os.path.join(dirpath, d)
            if os.path.islink(p):
                c.fail("files", f"{q(os.path.relpath(p, export))} is a symbolic link")
                dirs.remove(d)
        for nm in names:
            p = os.path.join(dirpath, nm)
            rel = os.path.relpath(p, export).replace(os.sep, "/")
            if rel == "_manifest":
                continue
            if os.path.islink(p) or not os.path.isfile(p):
                c.fail("files", f"{q(rel)} is not a regular file (symbolic link or special file)")
                continue
            on_disk.add(rel)
    for rel in sorted(on_disk - set(listed)):
        c.fail("files", f"{q(rel)} is in DIR but not listed in _manifest")
    for rel in sorted(set(listed) - on_disk):
        c.fail("files", f"{q(rel)} is listed in _manifest but not in DIR")
    for rel in sorted(set(listed) & on_disk):
        digest, size = listed[rel]
        p = os.path.join(export, rel)
        if os.path.getsize(p) != size:
            c.fail("files", f"{q(rel)} has {os.path.getsize(p)} bytes, _manifest says {size}")
        elif sha256_file(p) != digest:
            c.fail("files", f"{q(rel)}: SHA-256 differs from _manifest's")
    if c.count == 0:
        c.ok(f"_manifest signed by auditor {name} ({fingerprint(public)})"
             f"{'' if trusted else ' [the key the note names: pass --trust-auditor to require yours]'}; "
             f"{len(listed)} files listed, sizes and SHA-256 match, no other file")
    return listed, key_text


def no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate member {q(k)}")
        d[k] = v
    return d


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_manifest_json(export, listed, key_text, c):
    before = c.count
    path = os.path.join(export, "_manifest.json")
    try:
        with open(path, "rb") as f:
            m = json.loads(f.read().decode("utf-8"), object_pairs_hook=no_duplicates,
                           parse_constant=lambda x: (_ for _ in ()).throw(ValueError(f"{x} is not I-JSON")))
    except (OSError, ValueError) as e:
        c.fail("manifest.json", f"cannot read _manifest.json: {q(str(e))}")
        return None
    if not isinstance(m, dict):
        c.fail("manifest.json", "not a JSON object")
        return None
    for k, want in (("format", "auditlens-ocsf-parquet"), ("format_version", 1), ("ocsf_version", "1.1.0")):
        if m.get(k) != want or (k == "format_version" and not is_int(m.get(k))):
            c.fail("manifest.json", f"{k} is {q(m.get(k))}, not {q(want)}")
    aud = m.get("auditor") if isinstance(m.get("auditor"), dict) else {}
    if key_text is not None:
        name, _, public = parse_verifier_key(key_text)
        for k, want in (("key", key_text), ("name", name), ("fingerprint", fingerprint(public))):
            if aud.get(k) != want:
                c.fail("manifest.json", f"auditor.{k} is {q(aud.get(k))}, the signed note says {q(want)}")
    export_id = m.get("export_id")
    if not isinstance(export_id, str) or not EXPORT_ID_RE.match(export_id):
        c.fail("manifest.json", f"export_id is {q(export_id)}, not 12 lowercase hex digits")
        export_id = None
    files = m.get("files")
    if not isinstance(files, list):
        c.fail("manifest.json", "files is not an array")
        return None
    parquet_listed = {p for p in listed if p != "_manifest.json"}
    seen, by_class, rows = set(), Counter(), 0
    for i, f in enumerate(files):
        if not isinstance(f, dict) or not isinstance(f.get("path"), str):
            c.fail("manifest.json", f"files[{i}] has no path")
            continue
        p = f["path"]
        where = f"files[{i}] {q(p)}"
        if p in seen:
            c.fail("manifest.json", f"{where} twice")
        seen.add(p)
        mt = PART_RE.match(p)
        if not mt or mt.group(1) not in CLASS_UIDS:
            c.fail("manifest.json", f"{where} is not <class>/region=/accountId=/eventDay=YYYYMMDD/"
                   "part-NNNNN-<export id>.parquet")
            continue
        folder, region, account, day = mt.groups()
        if export_id is not None and not p.endswith(f"-{export_id}.parquet"):
            c.fail("manifest.json", f"{where}: its name does not carry the export id {q(export_id)}")
        if not is_int(f.get("rows")) or f["rows"] < 0:
            c.fail("manifest.json", f"{where}: rows is {q(f.get('rows'))}")
            continue
        rows += f["rows"]
        by_class[folder] += f["rows"]
        for k, want in (("class_uid", CLASS_UIDS[folder]), ("region", region), ("account_id", account),
                        ("event_day", day)):
            if f.get(k) != want:
                c.fail("manifest.json", f"{where}: {k} is {q(f.get(k))}, the path says {q(want)}")
        if p in listed:
            digest, size = listed[p]
            if f.get("bytes") != size:
                c.fail("manifest.json", f"{where}: bytes {q(f.get('bytes'))}, _manifest says {size}")
            if f.get("sha256") != digest.hex():
                c.fail("manifest.json", f"{where}: sha256 {q(f.get('sha256'))} is not the file's "
                       f"(lowercase hex of the SHA-256 _manifest lists)")
    for p in sorted(seen - parquet_listed):
        c.fail("manifest.json", f"files[] names {q(p)}, which _manifest does not list")
    for p in sorted(parquet_listed - seen):
        c.fail("manifest.json", f"_manifest lists {q(p)}, which files[] does not name")
    if m.get("rows") != rows or not is_int(m.get("rows")):
        c.fail("manifest.json", f"rows is {q(m.get('rows'))}, files[] add up to {rows}")
    bc = m.get("by_class")
    if not isinstance(bc, dict) or {k: v for k, v in bc.items() if v != 0} != dict(by_class):
        c.fail("manifest.json", f"by_class is {q(bc)}, files[] add up to {q(dict(by_class))}")
    if not is_int(m.get("left_out_unverified")):
        c.fail("manifest.json", f"left_out_unverified is {q(m.get('left_out_unverified'))}, not a count")
    sel = m.get("selection")
    if not isinstance(sel, dict) or not isinstance(sel.get("all_stages"), bool):
        c.fail("manifest.json", "selection.all_stages is not a boolean")
    if c.count == before:
        c.ok(f"_manifest.json: export {export_id}, {rows} rows in {len(files)} files, "
             f"{dict(sorted(by_class.items()))}")
    return m


# ---------------------------------------------------------------------------------------------------------------
# 3. Counts with each engine


SQL = {
    "files": "SELECT {path} AS p, class_uid AS k, count(*) AS n FROM {src} GROUP BY p, class_uid",
    "source": "SELECT auditlens_source AS k, count(*) AS n FROM {src} GROUP BY k",
    "outcome": "SELECT auditlens_outcome AS k, status_id AS s, count(*) AS n FROM {src} GROUP BY k, s",
    "category": "SELECT auditlens_category AS k, count(*) AS n FROM {src} GROUP BY k",
    "totals": "SELECT count(*) AS n, count(DISTINCT auditlens_event_id) AS d, "
              "sum(CASE WHEN type_uid = class_uid * 100 + activity_id THEN 0 ELSE 1 END) AS bad FROM {src}",
}


def duckdb_engine(base, parts):
    import duckdb
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    # The list is a parameter (relative to the working directory, the link): no path goes into SQL text.
    src = "read_parquet($parts, hive_partitioning = false, filename = true, union_by_name = true)"

    def run(name):
        cur = con.execute(SQL[name].format(src=src, path="filename"), {"parts": parts})
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]
    return run


def chdb_engine(base, parts):
    from chdb import session
    # `base` is the safe link (readback()) and every part matches PART_RE ([A-Za-z0-9_=./-] only), so the literal
    # needs no quoting; ClickHouse reads `{a,b,...}` as the list of those files. Nullable inference keeps nulls
    # null (ClickHouse may otherwise read a null string as '').
    sess = session.Session()
    sess.query("SET max_query_size = 1073741824")
    assert re.fullmatch(r"[A-Za-z0-9_./-]+", base) and all(PART_RE.match(p) for p in parts)
    src = "file('" + base + "/{" + ",".join(parts) + "}', Parquet)"
    settings = " SETTINGS schema_inference_make_columns_nullable = 1"

    def run(name):
        res = sess.query(SQL[name].format(src=src, path="_path") + settings, "JSON")
        doc = json.loads(res.bytes().decode("utf-8", "surrogateescape"))
        return doc["data"]
    return run


ENGINES = {"duckdb": duckdb_engine, "chdb": chdb_engine}


def nonzero(d):
    return {k: v for k, v in d.items() if v}


def check_counts(engine, run, export_real, stats, manifest, c):
    before = c.count
    tag = f"{engine}"
    totals = run("totals")[0]
    n, distinct, bad = int(totals["n"]), int(totals["d"]), int(totals["bad"] or 0)
    if n != stats["total"]:
        c.fail(tag, f"{n} rows, stats total is {stats['total']}")
    if manifest is not None and n != manifest.get("rows"):
        c.fail(tag, f"{n} rows, _manifest.json rows is {q(manifest.get('rows'))}")
    if distinct != n:
        c.fail(tag, f"{n - distinct} rows repeat an auditlens_event_id")
    if bad:
        c.fail(tag, f"{bad} rows have type_uid != class_uid * 100 + activity_id")
    for dim, key in (("source", "by_source"), ("category", "by_category")):
        got = Counter()
        for r in run(dim):
            got[r["k"] if r["k"] is not None else NONE] += int(r["n"])
        want = nonzero(stats.get(key) or {})
        if nonzero(dict(got)) != want:
            c.fail(tag, f"rows per auditlens_{dim} {q(dict(sorted(got.items())))}, stats {key} {q(want)}")
    got, denied_failure, wrong_status = Counter(), 0, Counter()
    for r in run("outcome"):
        k = r["k"] if r["k"] is not None else NONE
        s = None if r["s"] is None else int(r["s"])
        got[k] += int(r["n"])
        if k == "denied" and s == 2:
            denied_failure += int(r["n"])
        if STATUS_OF.get(k) != s:
            wrong_status[(k, s)] += int(r["n"])
    want = nonzero(stats.get("by_outcome") or {})
    if nonzero(dict(got)) != want:
        c.fail(tag, f"rows per auditlens_outcome {q(dict(sorted(got.items())))}, stats by_outcome {q(want)}")
    if denied_failure != (stats.get("by_outcome") or {}).get("denied", 0):
        c.fail(tag, f"{denied_failure} rows with status_id 2 and outcome 'denied', stats by_outcome.denied is "
               f"{(stats.get('by_outcome') or {}).get('denied', 0)}")
    for (k, s), cnt in sorted(wrong_status.items(), key=str):
        c.fail(tag, f"{cnt} rows with auditlens_outcome {q(k)} have status_id {s}, not {STATUS_OF.get(k)}")
    per_file, per_class = Counter(), Counter()
    for r in run("files"):
        p = r["p"]
        if os.path.isabs(p):
            p = os.path.relpath(p, export_real)
        p = p.replace(os.sep, "/")
        if p.startswith("./"):
            p = p[2:]
        per_file[p] += int(r["n"])
        folder = p.split("/", 1)[0]
        per_class[folder] += int(r["n"])
        k = None if r["k"] is None else int(r["k"])
        if CLASS_UIDS.get(folder) != k:
            c.fail(tag, f"{r['n']} rows of {q(p)} have class_uid {k}, its folder is {q(folder)}")
    if manifest is not None and isinstance(manifest.get("files"), list):
        want_files = {f.get("path"): f.get("rows") for f in manifest["files"] if isinstance(f, dict)}
        for p in sorted(set(per_file) | set(want_files), key=str):
            if per_file.get(p, 0) != want_files.get(p, 0):
                c.fail(tag, f"{q(p)}: {per_file.get(p, 0)} rows read, _manifest.json files[] says "
                       f"{q(want_files.get(p))}")
        bc = manifest.get("by_class") if isinstance(manifest.get("by_class"), dict) else {}
        if nonzero(dict(per_class)) != nonzero(bc):
            c.fail(tag, f"rows per class folder {q(dict(per_class))}, _manifest.json by_class {q(bc)}")
    if c.count == before:
        c.ok(f"{engine}: {n} rows; per source, outcome, category == stats; per file and class == _manifest.json; "
             f"denied with status_id 2: {denied_failure}")


# ---------------------------------------------------------------------------------------------------------------
# 4-5. The store


def merkle_root(leaves):
    if not leaves:
        return hashlib.sha256(b"").digest()
    level = list(leaves)
    # RFC 6962 MTH: split at the largest power of two below n, recursively; done bottom-up with an explicit stack.
    def mth(lo, hi):
        n = hi - lo
        if n == 1:
            return level[lo]
        k = 1
        while k * 2 < n:
            k *= 2
        return hashlib.sha256(b"\x01" + mth(lo, lo + k) + mth(lo + k, hi)).digest()
    return mth(0, len(level))


class Store:
    def __init__(self, path):
        if not os.path.isfile(path):
            raise Usage(f"--db {q(path)} does not exist")
        uri = "file:" + path.replace("%", "%25").replace("?", "%3f").replace("#", "%23") + "?mode=ro"
        try:
            self.con = sqlite3.connect(uri, uri=True)
            self.con.execute("SELECT 1 FROM archives LIMIT 1").fetchall()
        except sqlite3.Error as e:
            raise Usage(f"--db {q(path)}: {e}") from None
        self.archives = defaultdict(list)
        for row in self.con.execute(
                "SELECT id, origin, sequence, status, root, checkpoint, signer_fingerprint, signer_key,"
                " normalization FROM archives"):
            self.archives[(row[1], row[2])].append(row)
        self.checked_archives = {}

    def archive(self, origin, sequence):
        rows = self.archives.get((origin, sequence), [])
        verified = [r for r in rows if r[3] == "verified"]
        return (verified[0] if len(verified) == 1 else None), rows

    def event(self, archive_id, idx):
        return self.con.execute(
            "SELECT leaf, source, category, outcome, ts FROM events WHERE archive_id = ? AND idx = ?",
            (archive_id, idx)).fetchone()

    def raw(self, archive_id, idx):
        r = self.con.execute("SELECT CAST(raw AS BLOB), leaf FROM events WHERE archive_id = ? AND idx = ?",
                             (archive_id, idx)).fetchone()
        return r

    def check_archive(self, a, c):
        """Stored leaves -> root, and the checkpoint: a note by the stored signer key over that root (once)."""
        if a[0] in self.checked_archives:
            return
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        aid, origin, sequence, _, root, checkpoint, _, signer_key, _ = a
        where = f"archive {q(origin)} #{sequence}"
        ok = True
        leaves, expected = [], 0
        for idx, leaf in self.con.execute("SELECT idx, leaf FROM events WHERE archive_id = ? ORDER BY idx", (aid,)):
            if idx != expected:
                c.fail("archive", f"{where}: stored event indexes are not 0..n-1 (found {idx} where {expected})")
                ok = False
                break
            leaves.append(bytes(leaf))
            expected += 1
        if ok and merkle_root(leaves) != bytes(root or b""):
            c.fail("archive", f"{where}: its {len(leaves)} stored leaves do not hash to the stored root")
            ok = False
        try:
            text, sigs = parse_note(bytes(checkpoint or b""))
            lines = text[:-1].split("\n")
            name, key_id, public = parse_verifier_key(signer_key or "")
            mine = [s for n, k, s in sigs if n == name and k == key_id]
            if not mine:
                raise ValueError(f"no signature by the stored signer key {name}+{key_id.hex()}")
            for s in mine:
                Ed25519PublicKey.from_public_bytes(public).verify(s, text.encode())
            if len(lines) < 4 or lines[0] != origin or lines[1] != str(len(leaves)) \
                    or canonical_b64(lines[2]) != bytes(root or b"") or f"auditlens-sequence {sequence}" not in lines:
                raise ValueError("its origin, size, root or auditlens-sequence line is not the archive's")
        except InvalidSignature:
            c.fail("archive", f"{where}: the checkpoint signature does not verify with the stored signer key")
            ok = False
        except ValueError as e:
            c.fail("archive", f"{where}: checkpoint: {e}")
            ok = False
        self.checked_archives[aid] = ok


def utc_day(ms):
    return (datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
            + datetime.timedelta(milliseconds=ms)).strftime("%Y%m%d")


PROVENANCE_SQL = """
SELECT filename, auditlens_event_id, auditlens_origin, auditlens_sequence, auditlens_event_index,
       auditlens_leaf_hash, auditlens_archive_root, auditlens_checkpoint_sha256, auditlens_signer_fingerprint,
       auditlens_verification, auditlens_normalization, auditlens_source, auditlens_category, auditlens_outcome,
       auditlens_time_known, metadata.uid AS md_uid, metadata.log_name AS md_log, "time",
       cloud.region AS c_region, cloud.account.uid AS c_account
FROM read_parquet($parts, hive_partitioning = false, filename = true, union_by_name = true)
"""


def check_store(store, parts, sample, c):
    import duckdb
    before = c.count
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        cur = con.execute(PROVENANCE_SQL, {"parts": parts})
    except duckdb.Error as e:
        c.fail("store", f"cannot read the provenance columns: {q(str(e), 400)}")
        return
    cols = [d[0] for d in cur.description]
    seen = {}
    rows = 0
    keys = []  # (event id, archive id, idx, leaf hex) in read order, for the raw sample
    while True:
        batch = cur.fetchmany(4096)
        if not batch:
            break
        for values in batch:
            r = dict(zip(cols, values))
            rows += 1
            where = f"{q(r['filename'])} event {q(r['auditlens_event_id'])}"
            origin, seq, idx = r["auditlens_origin"], r["auditlens_sequence"], r["auditlens_event_index"]
            a, all_rows = store.archive(origin, seq)
            if a is None:
                states = sorted({x[3] for x in all_rows})
                c.fail("store", f"{where}: no verified archive {q(origin)} #{q(seq)} in the store"
                       f"{f' (status {q(states)})' if states else ''}")
                continue
            store.check_archive(a, c)
            e = store.event(a[0], idx)
            if e is None:
                c.fail("store", f"{where}: archive {q(origin)} #{seq} has no event {q(idx)}")
                continue
            if (a[0], idx) in seen:
                c.fail("store", f"{where}: the same event as {q(seen[(a[0], idx)])}")
            seen[(a[0], idx)] = r["auditlens_event_id"]
            leaf, source, category, outcome, ts = e
            event_id = f"{origin}@{seq}#{idx}"
            expect = [
                ("auditlens_leaf_hash", bytes(leaf).hex()),
                ("auditlens_archive_root", bytes(a[4] or b"").hex()),
                ("auditlens_checkpoint_sha256", hashlib.sha256(bytes(a[5] or b"")).hexdigest()),
                ("auditlens_signer_fingerprint", a[6]),
                ("auditlens_verification", "verified"),
                ("auditlens_normalization", a[8]),
                ("auditlens_source", source),
                ("auditlens_category", category),
                ("auditlens_outcome", outcome),
                ("auditlens_event_id", event_id),
                ("md_uid", event_id),
                ("md_log", origin),
            ]
            for col, want in expect:
                if r[col] != want:
                    name = {"md_uid": "metadata.uid", "md_log": "metadata.log_name"}.get(col, col)
                    c.fail("store", f"{where}: {name} is {q(r[col])}, the store says {q(want)}")
            t = r["time"]
            if ts is None:
                if r["auditlens_time_known"] is not False:
                    c.fail("store", f"{where}: the stored event has no time, auditlens_time_known is "
                           f"{q(r['auditlens_time_known'])}")
            else:
                if r["auditlens_time_known"] is not True:
                    c.fail("store", f"{where}: auditlens_time_known is {q(r['auditlens_time_known'])}, the event "
                           "has a time")
                if t not in (ts // 1000, int(ts / 1000)):
                    c.fail("store", f"{where}: time {q(t)} ms, the stored time is {ts} us")
            m = PART_RE.match(r["filename"].replace(os.sep, "/"))
            if m and isinstance(t, int):
                _, region, account, day = m.groups()
                want_region = r["c_region"] if isinstance(r["c_region"], str) and SAFE_PARTITION.match(
                    r["c_region"]) else "unknown"
                want_account = r["c_account"] if isinstance(r["c_account"], str) and SAFE_PARTITION.match(
                    r["c_account"]) else "unknown"
                if (region, account, day) != (want_region, want_account, utc_day(t)):
                    c.fail("layout", f"{where}: in region={region}/accountId={account}/eventDay={day}, its cloud "
                           f"and time say region={want_region}/accountId={want_account}/eventDay={utc_day(t)}")
            keys.append((r["auditlens_event_id"], a[0], idx, r["auditlens_leaf_hash"]))
    bad_archives = sum(1 for ok in store.checked_archives.values() if not ok)
    if c.count == before:
        c.ok(f"store: all {rows} rows are events of verified archives, provenance as stored, no event twice; "
             f"{len(store.checked_archives)} archives' leaves hash to their checkpoint-signed roots")
    elif bad_archives:
        c.note(f"{bad_archives} archives failed the leaves/checkpoint check")
    # 5. raw_data of a sample
    before = c.count
    if not keys:
        return
    n = len(keys) if sample is None or sample >= len(keys) else sample
    picks = sorted({i * len(keys) // n for i in range(n)})
    by_id = {keys[i][0]: keys[i] for i in picks}
    ids = list(by_id)
    checked = 0
    for i in range(0, len(ids), 1000):
        chunk = ids[i:i + 1000]
        cur = con.execute("SELECT auditlens_event_id, raw_data FROM read_parquet($parts, hive_partitioning = false, "
                          "union_by_name = true) WHERE list_contains($ids, auditlens_event_id)",
                          {"parts": parts, "ids": chunk})
        for event_id, raw in cur.fetchall():
            _, aid, idx, leaf_hex = by_id[event_id]
            stored = store.raw(aid, idx)
            where = f"event {q(event_id)}"
            data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else None
            checked += 1
            if data is None:
                c.fail("raw", f"{where}: raw_data is null")
                continue
            if data != bytes(stored[0]):
                c.fail("raw", f"{where}: raw_data ({len(data)} bytes) is not the stored event "
                       f"({len(bytes(stored[0]))} bytes)")
            lh = hashlib.sha256(b"\x00" + data).digest()
            if lh != bytes(stored[1]) or lh.hex() != leaf_hex:
                c.fail("raw", f"{where}: SHA-256(0x00 || raw_data) is {lh.hex()}, the stored leaf "
                       f"{bytes(stored[1]).hex()}, auditlens_leaf_hash {q(leaf_hex)}")
    if checked != len(ids):
        c.fail("raw", f"read {checked} of the {len(ids)} sampled rows back")
    if c.count == before:
        c.ok(f"raw_data: {checked} of {len(keys)} rows equal the stored event bytes and hash to their leaves")
    con.close()


# ---------------------------------------------------------------------------------------------------------------


def load_stats(path):
    try:
        with open(path, "rb") as f:
            s = json.loads(f.read().decode("utf-8"), object_pairs_hook=no_duplicates)
    except (OSError, ValueError) as e:
        raise Usage(f"--stats {q(path)}: {e}") from None
    if not isinstance(s, dict) or not is_int(s.get("total")) or not all(
            isinstance(s.get(k), dict) and all(is_int(v) for v in s[k].values())
            for k in ("by_category", "by_outcome", "by_source")):
        raise Usage(f"--stats {q(path)} is not `auditlens stats --json` output (total, by_category, by_outcome, "
                    "by_source)")
    return s


def readback(export, db, stats_path, trusted=None, sample=200, engines=("duckdb", "chdb"), max_failures=50,
             out=sys.stdout):
    c = Checks(max_failures, out)
    export_real = os.path.realpath(export)
    if not os.path.isdir(export_real):
        raise Usage(f"--export {q(export)} is not a directory")
    stats = load_stats(stats_path)
    store = Store(os.path.abspath(db))
    for e in engines:
        try:
            __import__(e)
        except ImportError as ex:
            raise Usage(f"engine {e} cannot be imported: {ex}") from None
    listed, key_text = check_manifest_note(export_real, trusted, c)
    # The engines read exactly the Parquet parts the signed note lists (and that exist as regular files); without
    # a readable note, the files of the layout found in DIR. Other files were reported above, and are not read.
    if listed:
        names = [p for p in sorted(listed) if PART_RE.match(p)]
    else:
        names = []
        for dirpath, dirs, files in os.walk(export_real):
            names += [os.path.relpath(os.path.join(dirpath, f), export_real).replace(os.sep, "/") for f in files]
        names = sorted(p for p in names if PART_RE.match(p))
    parts = [p for p in names if os.path.isfile(os.path.join(export_real, p))
             and not os.path.islink(os.path.join(export_real, p))]
    manifest = check_manifest_json(export_real, listed, key_text, c) if listed else None
    scope = stats.get("scope") if isinstance(stats.get("scope"), dict) else {}
    if scope.get("verified_only") is False:
        c.fail("stats", "STATS.json counts archives that are not verified (`stats --all`); the export holds verified "
               "archives only")
    if manifest is not None and isinstance(manifest.get("selection"), dict):
        sel = manifest["selection"]
        if "query" in scope and (sel.get("query") or "").strip() != (scope.get("query") or "").strip():
            c.fail("stats", f"STATS.json is for query {q(scope.get('query'))}, the export for {q(sel.get('query'))}")
        if sel.get("all_stages") is True:
            c.note("the export was made with --all-stages: stats leaves Kubernetes RequestReceived/ResponseStarted "
                   "out, so the counts below differ by those records")
    # No path of the user's goes into SQL text or a glob: the engines read through a link of a plain name in a
    # fresh temporary directory, which is also the working directory (duckdb reads a relative glob).
    import tempfile
    cwd = os.getcwd()
    base = tempfile.mkdtemp(prefix="readback-", dir=None if re.fullmatch(r"[A-Za-z0-9_./-]+", tempfile.gettempdir())
                            else "/tmp")
    if not re.fullmatch(r"[A-Za-z0-9_./-]+", base):
        raise Usage(f"temporary directory {q(base)} has characters that SQL or a glob would read: set TMPDIR")
    link = os.path.join(base, "export")
    os.symlink(export_real, link)
    os.chdir(link)
    try:
        if not parts:
            if stats["total"] != 0:
                c.fail("files", f"no Parquet part to read, stats total is {stats['total']}")
        for name in engines if parts else ():
            try:
                check_counts(name, ENGINES[name](link, parts), link, stats, manifest, c)
            except Exception as ex:  # an engine error is a finding about the files, not a crash
                c.fail(name, f"query failed: {q(str(ex), 400)}")
        if parts:
            check_store(store, parts, sample, c)
    finally:
        os.chdir(cwd)
        os.unlink(link)
        os.rmdir(base)
    if c.count:
        print(f"FAIL: {c.count} failed checks ({', '.join(f'{k} {v}' for k, v in sorted(c.failures.items()))})"
              f"{f'; first {c.shown} shown' if c.count > c.shown else ''}", file=out)
        return 1
    print(f"OK: export {q(export)} matches its signed manifest, the store and the stats", file=out)
    return 0


def run(argv, out=sys.stdout, err=sys.stderr):
    ap = argparse.ArgumentParser(prog="parquet_readback.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--export")
    ap.add_argument("--db")
    ap.add_argument("--stats")
    ap.add_argument("--trust-auditor", metavar="KEY|FILE.pub")
    ap.add_argument("--sample", default="200", help="rows whose raw_data is compared (a number or `all`)")
    ap.add_argument("--engines", default="duckdb,chdb")
    ap.add_argument("--max-failures", type=int, default=50)
    ap.add_argument("--self-test", action="store_true")
    try:
        a = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        if a.self_test:
            return self_test()
        if not (a.export and a.db and a.stats):
            raise Usage("--export, --db and --stats are required")
        if a.sample == "all":
            sample = None
        elif re.fullmatch(r"[0-9]+", a.sample):
            sample = int(a.sample)
        else:
            raise Usage("--sample takes a number or `all`")
        engines = [e for e in a.engines.split(",") if e]
        if not engines or any(e not in ENGINES for e in engines):
            raise Usage(f"--engines: a comma-separated list of {', '.join(ENGINES)}")
        trusted = load_key_arg(a.trust_auditor) if a.trust_auditor else None
        return readback(a.export, a.db, a.stats, trusted, sample, engines, a.max_failures, out)
    except Usage as e:
        print(f"usage error: {e}", file=err)
        return 2


# ---------------------------------------------------------------------------------------------------------------
# Self-test


def self_test():
    import io
    import shutil
    import tempfile
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    import ocsf_synthetic as syn

    results = []

    def check(name, cond, detail=""):
        results.append(cond)
        print(f"{'ok  ' if cond else 'FAIL'} {name}{'' if cond else ': ' + detail}")

    def rb(export, db, stats, **kw):
        buf = io.StringIO()
        rc = readback(export, db, stats, out=buf, **kw)
        return rc, buf.getvalue()

    # Go's sumdb/note test vector (crates/auditlens/src/note.rs): the verifier reads what Go signs.
    vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    note = ("If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
            "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6K"
            "E6RyyBwJnAM=\n").encode()
    text, sigs = parse_note(note)
    name, kid, pub = parse_verifier_key(vkey)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sigs[0][2], text.encode())
        go_ok = sigs[0][:2] == (name, kid)
    except Exception:
        go_ok = False
    check("Go's signed-note test vector verifies", go_ok)

    tmp = tempfile.mkdtemp(prefix="parquet-readback-selftest-")
    try:
        db = os.path.join(tmp, "store.sqlite")
        syn.build_store(db)
        stats = os.path.join(tmp, "stats.json")
        with open(stats, "w") as f:
            json.dump(syn.stats_for(db), f)
        auditor = syn.Key("synthetic-auditor", "auditor")
        other = syn.Key("synthetic-auditor", "someone else")

        # A directory name that would break SQL text or a glob if it were pasted into a query.
        good = os.path.join(tmp, "export 'x' [*] {a,b}")
        syn.write_export(db, good, auditor=auditor)
        rc, text = rb(good, db, stats, trusted=auditor.verifier, sample=None)
        check("synthetic hostile store (the exporter's layout): passes with both engines", rc == 0
              and text.count("ok   duckdb") == 1 and text.count("ok   chdb") == 1
              and f"export {syn.EXPORT_ID}," in text, text)
        check("output escapes hostile text", "\x1b" not in text and "\u202e" not in text and "\u200b" not in text)

        fixture = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                                                "stores", "v8-k8s-cloudtrail.db"))
        fstats = os.path.join(tmp, "fixture-stats.json")
        with open(fstats, "w") as f:
            json.dump(syn.stats_for(fixture), f)
        fexp = os.path.join(tmp, "fixture-export")
        syn.write_export(fixture, fexp, auditor=auditor)
        rc, text = rb(fexp, fixture, fstats)
        check("the committed v8 store (checkpoints signed by the Rust code): passes", rc == 0, text)
        check("  ... and its archives were re-verified", "3 archives' leaves hash" in text, text)

        def case(name, want, prepare=None, mutate=None, stats_edit=None, **kw):
            d = os.path.join(tmp, "case")
            shutil.rmtree(d, ignore_errors=True)
            syn.write_export(db, d, auditor=auditor, mutate=mutate)
            if prepare:
                prepare(d)
            s = stats
            if stats_edit:
                doc = syn.stats_for(db)
                stats_edit(doc)
                s = os.path.join(tmp, "stats-case.json")
                with open(s, "w") as f:
                    json.dump(doc, f)
            rc, text = rb(d, db, s, **kw)
            check(f"{name}: exit 1 with {q(want)}", rc == 1 and want in text, text)

        def first_part(d):
            for root, _, names in sorted(os.walk(d)):
                for n in sorted(names):
                    if n.endswith(".parquet"):
                        return os.path.join(root, n)

        def flip_byte(d):
            p = first_part(d)
            with open(p, "r+b") as f:
                f.seek(100)
                b = f.read(1)
                f.seek(100)
                f.write(bytes([b[0] ^ 1]))

        def resign(d):
            syn.sign_manifest(d, auditor)

        def edit_manifest_json(fn):
            def prep(d):
                p = os.path.join(d, "_manifest.json")
                with open(p) as f:
                    m = json.load(f)
                fn(m)
                with open(p, "w") as f:
                    json.dump(m, f)
                resign(d)
            return prep

        case("a Parquet byte changed", "SHA-256 differs from _manifest's", prepare=flip_byte)
        case("an extra file", "is in DIR but not listed", prepare=lambda d: open(os.path.join(d, "x.txt"), "w").close())
        case("a leftover temporary file", "is in DIR but not listed",
             prepare=lambda d: open(first_part(d) + ".tmp", "w").close())
        case("a listed file removed", "is listed in _manifest but not in DIR",
             prepare=lambda d: os.remove(first_part(d)))
        case("a symbolic link", "symbolic link",
             prepare=lambda d: os.symlink(first_part(d), os.path.join(d, "link.parquet")))

        def bad_sig(d):
            p = os.path.join(d, "_manifest")
            with open(p, encoding="utf-8") as f:
                t = f.read()
            sig = t.rsplit(" ", 1)[1].strip()
            raw = bytearray(base64.b64decode(sig))
            raw[10] ^= 1
            with open(p, "w", encoding="utf-8") as f:
                f.write(t.rsplit(" ", 1)[0] + " " + base64.b64encode(bytes(raw)).decode() + "\n")
        case("a signature byte changed", "does not verify", prepare=bad_sig)
        case("signed by another key than the trusted one", "not the trusted",
             prepare=lambda d: syn.sign_manifest(d, other), trusted=auditor.verifier)
        def same_size_edit(d):
            p = os.path.join(d, "_manifest.json")
            with open(p, encoding="utf-8") as f:
                t = f.read()
            with open(p, "w", encoding="utf-8") as f:
                f.write(t.replace('"ocsf_version": "1.1.0"', '"ocsf_version": "1.1.1"'))
        case("_manifest.json changed after signing", '"_manifest.json": SHA-256 differs', prepare=same_size_edit)
        case("_manifest.json rows off (re-signed)", "rows is",
             prepare=edit_manifest_json(lambda m: m.update(rows=m["rows"] + 1)))
        case("_manifest.json file sha256 wrong (re-signed)", "sha256",
             prepare=edit_manifest_json(lambda m: m["files"][0].update(sha256="00" * 32)))
        def rename_part(new_id):
            def prep(d):
                old = first_part(d)
                new = old[:-len(f"{syn.EXPORT_ID}.parquet")] + f"{new_id}.parquet"
                os.rename(old, new)
                rel_old, rel_new = (os.path.relpath(x, d).replace(os.sep, "/") for x in (old, new))
                edit_manifest_json(lambda m: [f.update(path=rel_new) for f in m["files"] if f["path"] == rel_old])(d)
            return prep
        case("a file named with another export id (re-signed)", "does not carry the export id",
             prepare=rename_part("ba9876543210"))
        case("_manifest.json export_id not 12 hex digits (re-signed)", "not 12 lowercase hex digits",
             prepare=edit_manifest_json(lambda m: m.update(export_id=syn.EXPORT_ID.upper())))
        case("_manifest.json file rows wrong (re-signed)", "rows read, _manifest.json files[] says",
             prepare=edit_manifest_json(lambda m: (m["files"][0].update(rows=m["files"][0]["rows"] + 1),
                                                    m.update(rows=m["rows"] + 1),
                                                    m["by_class"].update({m["files"][0]["path"].split("/")[0]:
                                                                          m["by_class"][m["files"][0]["path"].split(
                                                                              "/")[0]] + 1}))))
        case("stats total off by one", "stats total is", stats_edit=lambda s: s.update(total=s["total"] + 1))
        case("stats by_source differs", "stats by_source",
             stats_edit=lambda s: s["by_source"].update(k8s=s["by_source"]["k8s"] - 1, jsonl=1))
        case("stats for another query", "STATS.json is for query",
             stats_edit=lambda s: s["scope"].update(query="outcome:denied"))

        def set_col(col, value, when=lambda r: True):
            def mut(r):
                if when(r):
                    r = dict(r)
                    r[col] = value(r) if callable(value) else value
                return r
            return mut
        k8s_first = lambda r: r["auditlens_event_id"].endswith("@1#0")  # noqa: E731
        case("a wrong leaf hash", "auditlens_leaf_hash is", mutate=set_col("auditlens_leaf_hash", "00" * 32, k8s_first))
        case("a wrong archive root", "auditlens_archive_root is",
             mutate=set_col("auditlens_archive_root", "ab" * 32, k8s_first))
        case("a wrong checkpoint hash", "auditlens_checkpoint_sha256 is",
             mutate=set_col("auditlens_checkpoint_sha256", "cd" * 32, k8s_first))
        case("raw_data changed", "raw_data (",
             mutate=set_col("raw_data", lambda r: r["raw_data"].replace("alice", "alicf"), k8s_first), sample=None)
        case("an event index that does not exist", "has no event",
             mutate=set_col("auditlens_event_index", 999, k8s_first))
        case("a row of an archive that is not verified", "no verified archive",
             mutate=set_col("auditlens_sequence", 2, lambda r: r["auditlens_origin"].endswith("cloudtrail")
                            and r["auditlens_event_index"] == 0))
        case("a denied row with status_id 1", "have status_id 1",
             mutate=set_col("status_id", 1, lambda r: r["auditlens_outcome"] == "denied"))
        case("outcome rewritten", "auditlens_outcome is",
             mutate=set_col("auditlens_outcome", "success", lambda r: r["auditlens_outcome"] == "denied"))
        case("a row left out", "stats total is", mutate=lambda r: None if k8s_first(r) else r)
        case("metadata.uid not the event id", "metadata.uid is",
             mutate=set_col("metadata", lambda r: dict(r["metadata"], uid="x"), k8s_first))
        case("time_known wrong", "auditlens_time_known is",
             mutate=set_col("auditlens_time_known", True, lambda r: not r["auditlens_time_known"]))
        # A row copied into a second part (the same event twice), manifests updated and re-signed.
        case("an event written twice", "repeat an auditlens_event_id",
             prepare=lambda d: _duplicate_first_row(d, resign))
        # Tampered store: a stored leaf no longer matching the root.
        bad_db = os.path.join(tmp, "bad.sqlite")
        shutil.copy(db, bad_db)
        con = sqlite3.connect(bad_db)
        con.execute("UPDATE events SET leaf = zeroblob(32) WHERE archive_id = 1 AND idx = 1")
        con.commit()
        con.close()
        rc, text = rb(good, bad_db, stats)
        check("a store whose leaves no longer hash to the root: exit 1", rc == 1 and
              "do not hash to the stored root" in text, text)
        err = io.StringIO()
        check("exit 2 when the store does not exist",
              run(["--export", good, "--db", tmp + "/none.db", "--stats", stats], io.StringIO(), err) == 2,
              err.getvalue())
        check("exit 2 when STATS.json is not stats", run(["--export", good, "--db", db, "--stats", db], io.StringIO(),
                                                         io.StringIO()) == 2)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(results)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def _duplicate_first_row(d, resign):
    """Adds a second Parquet part holding a copy of a row, and updates _manifest.json and _manifest."""
    import duckdb
    for root, _, names in sorted(os.walk(d)):
        parts = sorted(n for n in names if n.endswith(".parquet"))
        if parts:
            src = os.path.join(root, parts[0])
            dst = os.path.join(root, "part-%05d-%s" % (int(parts[-1][5:10]) + 1, parts[-1][11:]))  # same export id
            duckdb.connect().execute("COPY (SELECT * FROM read_parquet(?, hive_partitioning = false) LIMIT 1) TO ? "
                                     "(FORMAT PARQUET)", [src, dst])
            p = os.path.join(d, "_manifest.json")
            with open(p) as f:
                m = json.load(f)
            rel = os.path.relpath(dst, d).replace(os.sep, "/")
            mt = PART_RE.match(rel)
            m["files"].append({"path": rel, "class_uid": CLASS_UIDS[mt.group(1)], "region": mt.group(2),
                               "account_id": mt.group(3), "event_day": mt.group(4), "rows": 1,
                               "bytes": os.path.getsize(dst), "sha256": sha256_file(dst).hex()})
            m["rows"] += 1
            m["by_class"][mt.group(1)] += 1
            with open(p, "w") as f:
                json.dump(m, f)
            resign(d)
            return


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
