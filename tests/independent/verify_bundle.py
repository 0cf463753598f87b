#!/usr/bin/env python3
r"""Independent verifier for AuditLens evidence bundles, format version 1.

Written from docs/evidence-bundle.md ALONE (with docs/archive-format.md, which it builds on), without reading the
Rust implementation, to show that the specification is precise enough for an independent implementation. Python
3.11 standard library only. The archive-level primitives (strict pure-Python Ed25519, signed-note and checkpoint
parsing, the archive manifest rules, key strings, bounded ZIP entry reading) are imported from
verify_archive.py, the independent archive verifier written from docs/archive-format.md.

Usage: python3 verify_bundle.py [--trust KEY]... [--trust-auditor KEY]... BUNDLE.zip
    KEY is a verifier key string or a file holding one (a .pub file).

Prints one line on stdout:
    OK <events> events, <archives> archives, auditor <name> <fingerprint>; <what was not re-derived>
       (when archives were sealed on receipt, docs/archive-format.md section 4.1, after the auditor:
       `; <m> of them only sealed on receipt, not verified at the source: archive <k> <label>; ...`)
    UNTRUSTED <reason>      (the bundle is intact, but a producer or required auditor key is not trusted)
    FAIL <reason>
Exit status: 0 verified (every check of section 9); 1 otherwise; 2 usage error (bad option, no bundle or a bundle
path that does not exist, a --trust value that is neither a key file nor a key string).

Checks follow docs/evidence-bundle.md section 9 in order; each function below names the section it implements.

SPEC NOTES (docs/evidence-bundle.md section numbers). What this script does where the text leaves room:
  B1 (s3) "not a readable ZIP" and the other container rules are those of docs/archive-format.md s2, decided by
     Python's zipfile plus verify_archive.py's local-header check (see its notes A1, A4).
  B2 (s2/s4) JSON dialect: I-JSON (no duplicate members, no NaN/Infinity, no lone surrogates), integers 0..2^64-1
     (a JSON `true` is not a number). Members outside the MUST lists (`exported`, `tool`) are checked for type
     only, not format.
  B3 (s7) report.json is derived again from the bundle and compared byte for byte (serialized as section 7 says),
     except the normalized fields of each event (`time`, `actor`, ..., `stage`), which need the normalizers of
     docs/sources.md: those are taken from report.json itself (checked for type), and `time_range` is checked
     against them (earliest and latest `time`). `source` is derived (the kind, or `mapping:NAME`). report.html is
     checked by hash only: re-rendering the page is left to AuditLens (section 7 says so).
  B4 (s9) Trust compares key strings exactly (name, key hash and public key).
"""

import hashlib
import json
import os
import re
import sys
import tomllib
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_archive as va  # noqa: E402  (the independent archive verifier, same directory)

Fail = va.Fail
Usage = va.Usage

MAX_EVENTS = 10_000
MAX_ARCHIVES = 4_096
LIMITS = {
    "manifest": 1 << 20,
    "bundle.json": 16 << 20,
    "events.jsonl": 256 << 20,
    "proofs.jsonl": 64 << 20,
    "report.json": 64 << 20,
    "report.html": 1 << 30,
    "annotations.json": 256 << 20,
}
OPTIONAL = {"annotations.json"}
ANNOTATIONS_MEMBERS = {"format", "version", "statement", "action_log", "events"}
ANNOTATIONS_STATEMENT = ("Annotations written by the auditor who exported this bundle, from their working papers: "
                         "they are not evidence and no producer signed them; the auditor's key signed them with the "
                         "manifest.")
CHECKPOINT_MAX = 64 << 10
ARCHIVE_MANIFEST_MAX = 1 << 20
MAPPING_MAX = 1 << 20
LINE_MAX = 16 << 20
PROOF_LINE_MAX = 1 << 20
ARCHIVE_RE = re.compile(r"archives/([0-9]{6})/(checkpoint|manifest\.json|mapping\.toml)\Z", re.ASCII)
HEADER = "auditlens-evidence-bundle v1"
INDEX_MEMBERS = {"format", "version", "exported", "tool", "auditor", "purpose", "selection", "events", "archives"}
ARCHIVE_MEMBERS = {"origin", "sequence", "size", "root", "signer", "events", "imported"}
NORMALIZED = ("time", "source", "actor", "action", "resource", "outcome", "category", "ip", "agent", "env", "stage")
# Section 7: the fixed texts of report.json.
CHECKS = [
    "Each event's leaf hash SHA-256(0x00 || event bytes) was recomputed from the exported bytes.",
    "Each event's RFC 6962 inclusion proof was computed from the archive's stored leaves and verified against "
    "the Merkle root of the archive's signed checkpoint.",
    "The stored leaves of each archive reproduce the signed root and size of its checkpoint.",
    "Each checkpoint's Ed25519 signature verifies with the producer key named by the archive's manifest.json, "
    "whose SHA-256 the checkpoint signs.",
    "Each archive is stored with status 'verified': it verified under a producer key the importer trusted.",
]
HOW_TO_VERIFY = [
    "Without AuditLens: unzip the bundle. Every entry's size and SHA-256 must equal its line in the entry "
    "named manifest, a C2SP signed note that must carry a valid Ed25519 signature by the auditor key.",
    "For line i of events.jsonl, SHA-256(0x00 || line bytes) must equal the leaf of line i of proofs.jsonl; "
    "hashing that leaf with the hashes of its path (RFC 9162 section 2.1.3.2, the leaf at its index in a tree "
    "of the archive's size) must give the root on line 3 of archives/NNNNNN/checkpoint, NNNNNN being its "
    "archive number.",
    "Each archives/NNNNNN/checkpoint must carry a valid Ed25519 signature (signed note) by the producer key, "
    "and the SHA-256 of archives/NNNNNN/manifest.json must equal its auditlens-manifest-sha256 line.",
    "The format is specified in docs/evidence-bundle.md of AuditLens; tests/independent/verify_bundle.py is "
    "an independent checker written from that document alone.",
]
PROOF_MEMBERS = {"id", "archive", "index", "leaf", "path"}


def limit_of(name):
    m = ARCHIVE_RE.match(name)
    if m:
        return {"checkpoint": CHECKPOINT_MAX, "manifest.json": ARCHIVE_MANIFEST_MAX}.get(m.group(2), MAPPING_MAX)
    return LIMITS.get(name)


def load_json(raw, what):
    """I-JSON (note B2)."""
    try:
        v = json.loads(raw.decode("utf-8"), object_pairs_hook=va._no_duplicates,
                       parse_constant=va._reject_constant)
        va._check_strings(v)
    except (UnicodeError, ValueError) as e:
        raise Fail(f"{what}: not valid UTF-8 JSON: {e}") from None
    return v


def uint(v, what):
    if type(v) is not int or not 0 <= v <= va.U64_MAX:
        raise Fail(f"{what} is not an unsigned integer")
    return v


def string(v, what):
    if type(v) is not str:
        raise Fail(f"{what} is not a string")
    return v


def fingerprint(key):
    import base64
    return "SHA256:" + base64.b64encode(hashlib.sha256(b"\x01" + key.public).digest()).decode().rstrip("=")


def parse_note(raw, what):
    """A signed note's text and signature lines (signatures are checked by check_signature)."""
    try:
        text, sigs = va.parse_note(raw)
    except Fail as e:
        raise Fail(f"{what}: {str(e).removeprefix('checkpoint: ')}") from None
    return text, sigs


def check_signature(text, sigs, key, what):
    """At least one signature line by `key`, and every such line valid (strict Ed25519)."""
    matching = [sig for (name, kid, sig) in sigs if name == key.name and kid == key.hash]
    if not matching:
        raise Fail(f"{what}: no signature line by {key.name}")
    for sig in matching:
        if not va.ed25519_verify_strict(key.public, text, sig):
            raise Fail(f"{what}: signature by {key.name} does not verify")


def inclusion_root(leaf, index, size, path):
    """RFC 9162 section 2.1.3.2, as docs/evidence-bundle.md section 6 step 4 spells it."""
    if index >= size:
        raise Fail("index outside the tree")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise Fail("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Fail("inclusion proof too short")
    return r


# ---------------------------------------------------------------------------------------------------------
# Section 3: container

def open_container(fp):
    try:
        zf = zipfile.ZipFile(fp)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError,
            UnicodeDecodeError) as e:
        raise Fail(f"not a readable ZIP: {e}") from None
    infos, archives = {}, {}
    for info in zf.infolist():
        name = info.orig_filename
        if name in infos:
            raise Fail(f"entry {name!r} appears twice")
        if "\x00" in name or ".." in name.split("/") or name.startswith("/") or "\\" in name or name[1:2] == ":":
            raise Fail(f"forbidden entry name {name!r}")
        if limit_of(name) is None:
            raise Fail(f"unexpected entry {name!r}")
        m = ARCHIVE_RE.match(name)
        if m:
            if int(m.group(1)) == 0:
                raise Fail(f"unexpected entry {name!r}")
            archives.setdefault(int(m.group(1)), set()).add(m.group(2))
        if info.flag_bits & 0x41:
            raise Fail(f"{name}: encrypted entry")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Fail(f"{name}: compression method {info.compress_type}")
        va._check_local_header(fp, info)
        infos[name] = info
    for required in LIMITS:
        if required not in infos and required not in OPTIONAL:
            raise Fail(f"missing entry {required!r}")
    k = len(archives)
    if k == 0 or k > MAX_ARCHIVES:
        raise Fail(f"{k} archives; a bundle holds 1 to {MAX_ARCHIVES}")
    if sorted(archives) != list(range(1, k + 1)) or any(
            not {"checkpoint", "manifest.json"} <= p for p in archives.values()):
        raise Fail("archives/ entries are not numbered 000001.. without gap, each with checkpoint and manifest.json")
    return zf, infos, k


def read_entry(zf, info, size, name):
    """Reads at most one byte past the declared size; returns the bytes, which must be exactly `size`."""
    data = va.BoundedReader(zf, info, size, name).read_all()
    if len(data) != size:
        raise Fail(f"{name}: holds {len(data)} bytes, the manifest says {size}")
    return data


# ---------------------------------------------------------------------------------------------------------
# Section 8: the auditor's manifest

def parse_manifest_text(text):
    s = text.decode("utf-8")
    lines = s[:-1].split("\n")
    if len(lines) < 2 or lines[0] != HEADER or not lines[1].startswith("auditor "):
        raise Fail("manifest: the text must start with the header line and the auditor line")
    try:
        auditor = va.VerifierKey(lines[1][len("auditor "):])
    except ValueError as e:
        raise Fail(f"manifest: auditor key: {e}") from None
    entries = {}
    previous = None
    for line in lines[2:]:
        parts = line.split(" ", 2)
        if len(parts) != 3 or not parts[2] or " " in parts[2]:
            raise Fail(f"manifest: bad entry line {line!r}")
        digest = va.decode_hash(parts[0], "manifest entry hash")
        size = va.parse_decimal(parts[1], "manifest entry size")
        name = parts[2]
        if previous is not None and previous.encode() >= name.encode():
            raise Fail(f"manifest: entry {name!r} out of order or repeated")
        previous = name
        entries[name] = (digest, size)
    return auditor, entries


# ---------------------------------------------------------------------------------------------------------
# Section 4: bundle.json

def check_index(ix, auditor_text, k):
    if type(ix) is not dict or set(ix) != INDEX_MEMBERS:
        raise Fail("bundle.json: not an object with exactly the members of section 4")
    if string(ix["format"], "bundle.json format") != "auditlens-evidence-bundle":
        raise Fail(f"bundle.json: format {ix['format']!r}")
    if type(ix["version"]) is not int or ix["version"] != 1:
        raise Fail(f"bundle.json: version {ix['version']!r}")
    string(ix["exported"], "bundle.json exported")
    string(ix["tool"], "bundle.json tool")
    if string(ix["auditor"], "bundle.json auditor") != auditor_text:
        raise Fail("bundle.json: auditor differs from the manifest's")
    purpose = string(ix["purpose"], "bundle.json purpose")
    if all(c in va._WHITE_SPACE for c in purpose):
        raise Fail("bundle.json: purpose is empty")
    sel = ix["selection"]
    if type(sel) is not dict or set(sel) != {"query", "ids"}:
        raise Fail("bundle.json: selection must have exactly query and ids")
    if (sel["query"] is None) == (sel["ids"] is None):
        raise Fail("bundle.json: exactly one of query and ids must be set")
    if sel["query"] is not None:
        string(sel["query"], "selection.query")
    else:
        if type(sel["ids"]) is not list:
            raise Fail("selection.ids is not an array")
        for i in sel["ids"]:
            string(i, "selection.ids element")
    n = uint(ix["events"], "bundle.json events")
    if not 1 <= n <= MAX_EVENTS:
        raise Fail(f"bundle.json: {n} events")
    arcs = ix["archives"]
    if type(arcs) is not list or len(arcs) != k:
        raise Fail(f"bundle.json: archives does not describe the {k} archive(s) of the ZIP")
    for a in arcs:
        if type(a) is not dict or set(a) != ARCHIVE_MEMBERS:
            raise Fail("bundle.json: an archives element lacks or adds members")
        string(a["origin"], "archive origin")
        uint(a["sequence"], "archive sequence")
        uint(a["size"], "archive size")
        string(a["root"], "archive root")
        string(a["signer"], "archive signer")
        string(a["imported"], "archive imported")
        if uint(a["events"], "archive events") < 1:
            raise Fail("bundle.json: an archive contributes no event")
    if sum(a["events"] for a in arcs) != n:
        raise Fail("bundle.json: the archives' events do not add up to events")


# ---------------------------------------------------------------------------------------------------------
# Section 9

def verify(path, trusted, trusted_auditors):
    """Returns (status, message) with status OK or UNTRUSTED; raises Fail."""
    with open(path, "rb") as fp:
        zf, infos, k = open_container(fp)

        # 2. manifest and the auditor's signature
        raw = va.BoundedReader(zf, infos["manifest"], LIMITS["manifest"], "manifest").read_all()
        text, sigs = parse_note(raw, "manifest")
        auditor, listed = parse_manifest_text(text)
        check_signature(text, sigs, auditor, "manifest")

        # 3. exactly the listed entries, sizes and SHA-256
        if set(listed) != set(infos) - {"manifest"}:
            raise Fail(f"manifest: lists {sorted(listed)}, the ZIP holds {sorted(set(infos) - {'manifest'})}")
        for name, (digest, size) in listed.items():
            if size > limit_of(name):
                raise Fail(f"{name}: declared size above its limit")
            reader = va.BoundedReader(zf, infos[name], size, name)
            h = hashlib.sha256()
            while chunk := reader.read():
                h.update(chunk)
            if reader.total != size:
                raise Fail(f"{name}: holds {reader.total} bytes, the manifest says {size}")
            if h.digest() != digest:
                raise Fail(f"{name}: SHA-256 differs from the manifest (changed after export)")

        def entry(name):
            return read_entry(zf, infos[name], listed[name][1], name)

        # 4. bundle.json
        ix = load_json(entry("bundle.json"), "bundle.json")
        check_index(ix, auditor.text, k)

        # 5. archives
        archives = []
        for number in range(1, k + 1):
            cp_name, m_name = f"archives/{number:06}/checkpoint", f"archives/{number:06}/manifest.json"
            cp_raw = entry(cp_name)
            cp_text, cp_sigs = parse_note(cp_raw, cp_name)
            cp = va.parse_checkpoint_body(cp_text)
            m_raw = entry(m_name)
            m = va.parse_manifest(m_raw)
            if m["origin"] != cp["origin"] or m["sequence"] != cp["sequence"] or m["events"] != cp["size"]:
                raise Fail(f"{m_name}: origin, sequence or events differ from {cp_name}")
            if sum(e["events"] for e in m["entries"]) != m["events"]:
                raise Fail(f"{m_name}: entries do not add up to events")
            if cp["sequence"] == 1 and cp["chain_start"] != va.ZERO32:
                raise Fail(f"{cp_name}: sequence 1 with a non-zero chain-start")
            if hashlib.sha256(m_raw).digest() != cp["manifest_sha256"]:
                raise Fail(f"{m_name}: not the manifest {cp_name} signs")
            check_signature(cp_text, cp_sigs, m["signer_key"], cp_name)
            map_name = f"archives/{number:06}/mapping.toml"
            source = m["source_kind"]
            if m["source_kind"] == "mapping":
                if map_name not in infos:
                    raise Fail(f"missing entry {map_name!r} (source kind mapping)")
                mapping = entry(map_name)
                if hashlib.sha256(mapping).digest() != m["mapping_digest"]:
                    raise Fail(f"{map_name}: not the mapping file {m_name} names")
                try:
                    source = "mapping:" + string(tomllib.loads(mapping.decode("utf-8"))["name"], "mapping name")
                except (UnicodeError, tomllib.TOMLDecodeError, KeyError) as e:
                    raise Fail(f"{map_name}: not a mapping file: {e}") from None
            elif map_name in infos:
                raise Fail(f"{map_name}: only allowed for an archive of source kind mapping")
            d = ix["archives"][number - 1]
            if (d["origin"], d["sequence"], d["size"], d["root"], d["signer"]) != (
                    cp["origin"], cp["sequence"], cp["size"], va.b64(cp["root"]), m["signer"]):
                raise Fail(f"bundle.json: archives[{number - 1}] disagrees with {cp_name}")
            if archives and (archives[-1]["origin"].encode(), archives[-1]["sequence"]) >= (
                    cp["origin"].encode(), cp["sequence"]):
                raise Fail(f"bundle.json: archive {number} is not after archive {number - 1}")
            archives.append({"origin": cp["origin"], "sequence": cp["sequence"], "size": cp["size"],
                             "root": cp["root"], "signer": m["signer"], "seen": 0, "manifest": m,
                             "source": source,
                             # section 4.1 of docs/archive-format.md: never shown as plainly verified
                             "received": va.receipt_label(m) if "received" in m else None})

        # 6. events and proofs, line by line
        proofs = entry("proofs.jsonl")
        if proofs and not proofs.endswith(b"\n"):
            raise Fail("proofs.jsonl: last line not terminated")
        proof_lines = proofs.split(b"\n")[:-1] if proofs else []
        reader = va.BoundedReader(zf, infos["events.jsonl"], listed["events.jsonl"][1], "events.jsonl")
        ids, leaves, placed, buf, n, previous = [], [], [], bytearray(), 0, None
        while True:
            chunk = reader.read()
            if not chunk:
                break
            buf += chunk
            start = 0
            while (nl := buf.find(b"\n", start)) >= 0:
                line = bytes(buf[start:nl])
                start = nl + 1
                n += 1
                va._check_line("events.jsonl", n, n - 1, line)
                if n > len(proof_lines) or n > ix["events"]:
                    raise Fail(f"events.jsonl line {n}: more events than proofs or than bundle.json declares")
                previous = check_proof(proof_lines[n - 1], n, line, archives, previous)
                ids.append(previous[2])
                leaves.append(previous[3])
                placed.append(previous)
            del buf[:start]
            if len(buf) > LINE_MAX:
                raise Fail(f"events.jsonl line {n + 1}: longer than {LINE_MAX} bytes")
        if buf:
            raise Fail("events.jsonl: last line not terminated")

        # 7. counts and an `ids` selection
        if n != len(proof_lines) or n != ix["events"]:
            raise Fail(f"{n} events, {len(proof_lines)} proofs, bundle.json says {ix['events']}")
        for number, (a, d) in enumerate(zip(archives, ix["archives"]), 1):
            if a["seen"] != d["events"]:
                raise Fail(f"archive {number}: {a['seen']} events, bundle.json says {d['events']}")
        sel_ids = ix["selection"]["ids"]
        if sel_ids is not None and (len(set(sel_ids)) != len(sel_ids) or set(sel_ids) != set(ids)):
            raise Fail("the selection's ids are not exactly the bundle's events")

        # 7b. the auditor's annotations, when there are any (section 7.4)
        annotated = 0
        if "annotations.json" in listed:
            annotated = check_annotations(entry("annotations.json"), ids, leaves)

        # 8. report.json is the report derived from the bundle (note B3)
        check_report(entry("report.json"), ix, auditor, archives, placed)

    # 9. trust
    for number, a in enumerate(archives, 1):
        if a["signer"] not in trusted:
            return "UNTRUSTED", f"archive {number} is signed by the untrusted producer key {a['signer']}"
    if trusted_auditors and auditor.text not in trusted_auditors:
        return "UNTRUSTED", f"the auditor key {auditor.text} is not among the --trust-auditor keys"
    if annotated:
        note = f"; {annotated} events carry the auditor's annotations (not evidence)"
    else:
        note = ""
    received = sum(a["seen"] for a in archives if a["received"])
    if received:
        labels = "; ".join(f"archive {number} {a['received']}" for number, a in enumerate(archives, 1)
                           if a["received"])
        note = f"; {received} of them only sealed on receipt, not verified at the source: {labels}{note}"
    return "OK", (f"{n} events, {k} archives, auditor {auditor.name} {fingerprint(auditor)}{note}; report.json derived "
                  "but its normalized fields, and report.html, not re-derived (note B3)")


def check_annotations(raw, ids, leaves):
    """Section 7.4; returns how many events are annotated."""
    doc = load_json(raw, "annotations.json")
    if type(doc) is not dict or set(doc) != ANNOTATIONS_MEMBERS:
        raise Fail("annotations.json: not an object with exactly format, version, statement, action_log, events")
    if doc["format"] != "auditlens-auditor-annotations" or type(doc["version"]) is not int or doc["version"] != 1:
        raise Fail("annotations.json: not format auditlens-auditor-annotations version 1")
    if doc["statement"] != ANNOTATIONS_STATEMENT:
        raise Fail("annotations.json: the statement that marks them as the auditor's is not the one of section 7.4")
    head = doc["action_log"]
    if head is not None:
        if type(head) is not dict or set(head) != {"entries", "head"} or uint(head["entries"], "entries") < 1 \
                or not re.fullmatch(r"[0-9a-f]{64}", string(head["head"], "head"), re.ASCII):
            raise Fail("annotations.json: action_log is not {entries >= 1, head: 64 lowercase hex digits}")
    events = doc["events"]
    if type(events) is not list or not events:
        raise Fail("annotations.json: events is not a non-empty array")
    position = {eid: i for i, eid in enumerate(ids)}
    last = -1
    for a in events:
        if type(a) is not dict or not {"event", "leaf", "tags"} <= set(a) <= {"event", "leaf", "tags", "note",
                                                                             "bookmarked"}:
            raise Fail("annotations.json: an event is not an object of event, leaf, tags, note?, bookmarked?")
        eid = string(a["event"], "event")
        if eid not in position:
            raise Fail(f"annotations.json annotates {eid!r}, which the bundle does not hold")
        i = position[eid]
        if i <= last:
            raise Fail("annotations.json: events twice or not in the order of events.jsonl")
        last = i
        if string(a["leaf"], "leaf") != va.decode_hash(leaves[i], "leaf").hex():
            raise Fail(f"annotations.json: the leaf of {eid!r} is not the event's")
        tags = a["tags"]
        if type(tags) is not list:
            raise Fail("annotations.json: tags is not an array")
        seen = set()
        for t in tags:
            string(t, "tag")
            if not 1 <= len(t) <= 64 or re.search(r'[\s"()*:]', t) or any(ord(c) < 32 or 127 <= ord(c) < 160
                                                                         for c in t) or t.lower() in seen:
                raise Fail(f"annotations.json: {t!r} is not a tag of section 7.4 (or is repeated)")
            seen.add(t.lower())
        note = a.get("note")
        if note is not None:
            string(note, "note")
            if not 1 <= len(note) <= 20_000 or note != note.strip() or any(
                    (ord(c) < 32 and c not in "\n\t") or 127 <= ord(c) < 160 for c in note):
                raise Fail("annotations.json: a note is empty, too long, not trimmed or holds control characters")
        bookmarked = a.get("bookmarked", False)
        if type(bookmarked) is not bool:
            raise Fail("annotations.json: bookmarked is not a boolean")
        if not tags and note is None and not bookmarked:
            raise Fail("annotations.json: an event without any annotation")
    return len(events)


def rfc3339_key(text, what):
    """A comparable value for an RFC 3339 UTC time as AuditLens writes it (section 7: 0, 3 or 6 fraction digits;
    years outside 0000..9999 in the ISO 8601 expanded form, +10000 or -0001)."""
    m = re.fullmatch(r"([+-]\d{4,}|\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}|\d{6}))?Z",
                     string(text, what), re.ASCII)
    if not m:
        raise Fail(f"{what}: {text!r} is not an RFC 3339 UTC time")
    y, mo, d, h, mi, s, frac = m.groups()
    return int(y), int(mo), int(d), int(h), int(mi), int(s), int((frac or "0").ljust(6, "0"))



# The built-in mappers of docs/sources.md by source kind: name and version, as report.json names them. A bundle
# exported before version 2 of the mappers names version 1 (docs/evidence-bundle.md section 7).
MAPPER_VERSIONS = (1, 2)
KINDS = ("jsonl", "k8s", "cloudtrail", "github", "gcp", "teleport", "okta")


def rules_of(manifest, named=None):
    """Whose rules made an archive's normalized fields (docs/evidence-bundle.md section 7, `normalization`): the
    current version of a built-in mapper, or an older one when the report names it."""
    kind = manifest["source_kind"]
    if kind == "mapping":
        return f"producer's mapping file sha256 {manifest['mapping_sha256']} (producer rules)"
    texts = [f"built-in {kind} mapper ({kind}/{v})" for v in MAPPER_VERSIONS] if kind in KINDS else []
    if named in texts:
        return named
    return texts[-1] if texts else f"source kind {kind}"


def named_rules(report, number):
    """The `normalization` report.json names for archive `number` (from 1), if it names one."""
    try:
        return report["archives"][number - 1]["normalization"]
    except (KeyError, IndexError, TypeError):
        return None


def check_report(raw, ix, auditor, archives, placed):
    """Section 7: derives report.json from the bundle (normalized fields aside, note B3) and compares bytes."""
    found = load_json(raw, "report.json")
    if type(found) is not dict or type(found.get("events")) is not list or len(found["events"]) != len(placed):
        raise Fail("report.json: events does not list the bundle's events")
    events, times = [], []
    for i, ((number, index, eid, leaf, path_len), r) in enumerate(zip(placed, found["events"])):
        a = archives[number - 1]
        if type(r) is not dict:
            raise Fail(f"report.json: events[{i}] is not an object")
        e = {"position": i + 1, "id": eid, "origin": a["origin"], "sequence": a["sequence"], "index": index,
             "leaf": leaf, "proof_length": path_len}
        for f in NORMALIZED:
            v = r.get(f)
            if v is not None and type(v) is not str:
                raise Fail(f"report.json: events[{i}].{f} is neither a string nor null")
            e[f] = v
        e["source"] = a["source"]
        if a["received"]:
            e["received"] = a["received"]
        if e["time"] is not None:
            times.append((rfc3339_key(e["time"], f"report.json events[{i}].time"), e["time"]))
        events.append(e)
    fps = []
    for a in archives:
        k = a["manifest"]["signer_key"]
        fps.append(f"{k.name} ({fingerprint(k)})")
    fps = [f for j, f in enumerate(fps) if j == 0 or fps[j - 1] != f]
    n, k = len(events), len(archives)
    summary = (f"{n} {'event' if n == 1 else 'events'} from {k} {'archive' if k == 1 else 'archives'}. "
               "Every event's bytes hash to its leaf, every inclusion proof leads to its archive's signed Merkle "
               "root, and every checkpoint signature verifies with its producer key. Every archive was verified "
               "under a trusted producer key when it was imported into the evidence store.")
    received = [a for a in archives if a["received"]]
    if received:
        m = sum(a["seen"] for a in received)
        summary += (f" Of these, {m} {'event' if m == 1 else 'events'} from {len(received)} "
                    f"{'archive' if len(received) == 1 else 'archives'} {'was' if m == 1 else 'were'} only sealed on "
                    "receipt, by the key of whoever received the files, not by their producer: "
                    f"{va.RECEIPT_MEANING}.")
    derived = {
        "format": "auditlens-evidence-report",
        "version": 1,
        "exported": ix["exported"],
        "tool": ix["tool"],
        "purpose": ix["purpose"],
        "selection": ix["selection"],
        "auditor": {"key": auditor.text, "name": auditor.name, "fingerprint": fingerprint(auditor)},
        "time_range": {"first": min(times)[1], "last": max(times)[1]} if times else None,
        "verification": {"checked_at": ix["exported"], "summary": summary, "checks": CHECKS},
        "archives": [
            {"number": j, "origin": a["origin"], "sequence": a["sequence"], "size": a["size"],
             "root": va.b64(a["root"]), "source_kind": a["manifest"]["source_kind"],
             "normalization": rules_of(a["manifest"], named_rules(found, j)),
             "signer": {"key": a["signer"], "name": a["manifest"]["signer_key"].name,
                        "fingerprint": fingerprint(a["manifest"]["signer_key"])},
             "events": d["events"], "sealed": a["manifest"]["created"], "imported": d["imported"],
             **({"received": {
                 "label": a["received"], "at": a["manifest"]["received"]["at"],
                 "files": [{"name": f["name"], "sha256": f["sha256"], "bytes": f["bytes"], "entry": f["entry"]}
                           for f in a["manifest"]["received"]["files"]]}} if a["received"] else {})}
            for j, (a, d) in enumerate(zip(archives, ix["archives"]), 1)],
        "events": events,
        "how_to_verify": [
            "With AuditLens: auditlens verify-bundle --trust PRODUCER.pub --trust-auditor AUDITOR.pub BUNDLE.zip "
            "(exit status 0 means verified). Obtain the producer key from its owner, not from this bundle, and "
            f"compare fingerprints: producer {', '.join(fps)}; auditor {auditor.name} ({fingerprint(auditor)}).",
            *HOW_TO_VERIFY],
    }
    if derived != found:
        for key in derived:
            if derived[key] != found.get(key):
                raise Fail(f"report.json: {key} is not what the bundle's events, selection and signed metadata "
                           f"say (expected {json.dumps(derived[key], ensure_ascii=False)[:200]}, "
                           f"found {json.dumps(found.get(key), ensure_ascii=False)[:200]})")
        raise Fail("report.json: members the report does not have")
    if json.dumps(derived, ensure_ascii=False, indent=2).encode() + b"\n" != raw:
        raise Fail("report.json: holds the derived figures but is not byte for byte their serialization")


def check_proof(raw, n, event, archives, previous):
    """Section 6 for line n; returns (archive, index, id, leaf as written, proof length)."""
    if len(raw) > PROOF_LINE_MAX:
        raise Fail(f"proofs.jsonl line {n}: too long")
    p = load_json(raw, f"proofs.jsonl line {n}")
    if type(p) is not dict or set(p) != PROOF_MEMBERS:
        raise Fail(f"proofs.jsonl line {n}: not an object with exactly id, archive, index, leaf, path")
    leaf = va.decode_hash(string(p["leaf"], "leaf"), f"proofs.jsonl line {n} leaf")
    if va.leaf_hash(event) != leaf:                                                # step 1
        raise Fail(f"events.jsonl line {n}: the event does not hash to the leaf of its proof")
    number, index = uint(p["archive"], "archive"), uint(p["index"], "index")      # step 2
    if not 1 <= number <= len(archives):
        raise Fail(f"proofs.jsonl line {n}: no archive {number}")
    a = archives[number - 1]
    if index >= a["size"]:
        raise Fail(f"proofs.jsonl line {n}: index {index} outside the archive")
    eid = f"{a['origin']}@{a['sequence']}#{index}"
    if string(p["id"], "id") != eid:
        raise Fail(f"proofs.jsonl line {n}: id {p['id']!r} is not {eid!r}")
    if previous is not None and (previous[0], previous[1]) >= (number, index):   # step 3
        raise Fail(f"proofs.jsonl line {n}: not after the previous event")
    if type(p["path"]) is not list:
        raise Fail(f"proofs.jsonl line {n}: path is not an array")
    path = [va.decode_hash(string(h, "path hash"), f"proofs.jsonl line {n} path") for h in p["path"]]
    try:                                                                           # step 4
        root = inclusion_root(leaf, index, a["size"], path)
    except Fail as e:
        raise Fail(f"proofs.jsonl line {n}: {e}") from None
    if root != a["root"]:
        raise Fail(f"proofs.jsonl line {n}: the proof leads to {va.b64(root)}, not the signed root {va.b64(a['root'])}")
    a["seen"] += 1
    return number, index, eid, p["leaf"], len(path)


def main(argv):
    trust, auditors, bundles = [], [], []
    try:
        i = 0
        while i < len(argv):
            a = argv[i]
            if a in ("--trust", "--trust-auditor"):
                if i + 1 >= len(argv):
                    raise Usage(f"{a} needs a value")
                (trust if a == "--trust" else auditors).append(va.load_trust(argv[i + 1]))
                i += 1
            elif a.startswith("-"):
                raise Usage(f"unknown option {a}")
            else:
                bundles.append(a)
            i += 1
        if len(bundles) != 1:
            raise Usage("give exactly one bundle")
        if not os.path.exists(bundles[0]):
            raise Usage(f"{bundles[0]}: no such file")
    except Usage as e:
        print(f"usage error: {e}", file=sys.stderr)
        print("usage: verify_bundle.py [--trust KEY]... [--trust-auditor KEY]... BUNDLE.zip", file=sys.stderr)
        return 2
    try:
        status, message = verify(bundles[0], set(trust), set(auditors))
    except Fail as e:
        print(f"FAIL {e}")
        return 1
    except OSError as e:
        print(f"FAIL cannot read the bundle: {e}")
        return 1
    print(f"{status} {message}")
    return 0 if status == "OK" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
