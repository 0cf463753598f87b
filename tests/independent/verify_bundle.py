#!/usr/bin/env python3
r"""Independent verifier for AuditLens evidence bundles, format version 1.

Written from docs/evidence-bundle.md ALONE (with docs/archive-format.md, which it builds on), without reading the
Rust implementation, to show that the specification is precise enough for an independent implementation. Python
3.11 standard library only. The archive-level primitives (strict pure-Python Ed25519, signed-note and checkpoint
parsing, the archive manifest rules, key strings, bounded ZIP entry reading) are imported from
verify_archive.py, the independent archive verifier written from docs/archive-format.md.

Usage: python3 verify_bundle.py [--trust KEY]... [--trust-auditor KEY]... [--aws-keys FILE]... BUNDLE.zip
    KEY is a verifier key string or a file holding one (a .pub file). FILE is the output of
    `aws cloudtrail list-public-keys` (obtained from AWS, not from the bundle): the AWS keys trusted for the
    digests of AWS CloudTrail archives (section 11.5).

Prints one line on stdout:
    OK <events> events, <archives> archives, auditor <name> <fingerprint>; <what was not re-derived>
       (when archives were sealed on receipt, docs/archive-format.md section 4.1, after the auditor:
       `; <m> of them only sealed on receipt, not verified at the source: archive <k> <label>; ...`;
       then, when archives are AWS CloudTrail archives, section 11:
       `; <c> of them AWS CloudTrail events: archive <k> <label>; ...`)
    UNTRUSTED <reason>      (the bundle is intact, but a producer, AWS or required auditor key is not trusted)
    FAIL <reason>
Exit status: 0 verified (every check of section 9); 1 otherwise; 2 usage error (bad option, no bundle or a bundle
path that does not exist, a --trust value that is neither a key file nor a key string, an --aws-keys file that
cannot be read or is not a valid list-public-keys output).

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
  B5 (s11/s3) Which archives are AWS CloudTrail archives is decided by bundle.json's `origin` (it begins with
     `aws-cloudtrail:`, compared case-sensitively), which is read only at step 4. The container step (1) therefore
     accepts per archive number either the sealed set (checkpoint, manifest.json, optional mapping.toml) or the
     CloudTrail set (cloudtrail.json, aws-keys.json, digests/000001.. and logs/000001.. without gap, at least one
     of each), never a mix, and at most 10,000 log files in all; step 5 then requires the CloudTrail set exactly
     for an origin beginning with `aws-cloudtrail:` and the sealed set for any other origin.
  B6 (s11.1/s11.2) gzip: one or more RFC 1952 members, each complete (CRC-32 and ISIZE checked by zlib), and
     nothing after the last, not even zero bytes; an empty file is not gzip. The 256 MiB cap is on the sum of the
     members' decompressed bytes; exactly 256 MiB is allowed.
  B7 (s11.1/s11.2) JSON rules per file: cloudtrail.json and aws-keys.json are bundle entries, so section 2's rules
     apply (I-JSON, exactly the listed members: `{"PublicKeyList": [...]}` with exactly Value, ValidityStartTime,
     ValidityEndTime, Fingerprint, all strings). A digest is AWS's file (11.2 step 2): RFC 8259, nested at most
     127 levels, other members allowed, of a member given twice the last counts, NaN/Infinity or an escaped lone
     surrogate fails, number text is not read. A log file follows 11.2 log step 3: RFC 8259 (lone surrogate escapes
     and any number text allowed; NaN/Infinity are not JSON), UTF-8 without byte order mark, nothing but white space
     around the object, nested at most 130 levels (the whole document), `Records` given twice fails, other members
     are skipped unread (given twice or not).
  B8 (s11.1/s11.2) Times: digestStartTime / digestEndTime are RFC 3339 (`T`/`t`, any number of fraction digits,
     `Z`/`z` or a numeric offset required; second 60 is refused) and compared as exact instants (step 6: strictly
     later; the key window: both ends included). In a bundle's aws-keys.json the key times are strings
     `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (1 to 9 fraction digits). In a reader's --aws-keys file (docs/cloudtrail.md
     s6) they are a JSON number or a string of epoch seconds (`1436317441`, `"1436317441.0"`: decimal digits with
     an optional fraction, read exactly), or an ISO 8601 extended date-time (`T`, `t` or a space; `.` or `,`
     before a fraction; `Z`, `z`, `+HH:MM`, `+HHMM`, `+HH` or no zone, read as UTC).
  B9 (s11.1) aws-keys.json `Value`: canonical padded standard base64 (white space around it is stripped in a
     reader's --aws-keys file only), strict DER (definite minimal lengths, minimal positive INTEGERs, no trailing
     bytes) of a PKCS#1 RSAPublicKey or of a SubjectPublicKeyInfo with algorithm rsaEncryption and NULL
     parameters; the modulus is odd and of 1,024 to 8,192 bits, the exponent odd, from 3 to 2^33 - 1 and below
     the modulus (section 11.1). A key that does not parse fails the file, as a wrong `Fingerprint` does (compared
     with the hex MD5 of the DER, ignoring case). Several keys may carry the same fingerprint: step 4 takes the
     first (in file order) whose window holds digestEndTime.
  B10 (s11.2 step 5) The signature hex may use either case; it must decode to exactly k bytes (k the modulus
     length) and be below the modulus (RFC 8017 s8.2.2); EMSA-PKCS1-v1_5 is checked by comparing the whole
     encoded message with the one built from the DigestInfo with NULL parameters (RFC 8017 s9.2 note 1: the form
     without NULL is not accepted). The signed string uses the JSON string values (after unescaping).
  B11 (s11.2 step 2) The five `previous...` members must be present (all strings or all null; a missing member
     is neither). `awsAccountId` is not compared with the account of the file name (the text does not ask it).
     `digestPublicKeyFingerprint` is 32 hex digits in either case; the key lookup and the `signer` string use it
     in lowercase. The digests need not form a chain (nothing in 11.2 links a digest to its predecessor).
  B12 (s11.2 step 3) The digest file name must end in `.json.gz` (a backfill digest's in `_backfill.json.gz`, the
     suffix taken off before the rest is split), its time part must be `YYYYMMDDTHHmmssZ`
     (a valid calendar time), and the trail runs from after `<region>_` to the LAST `_`
     before the time (so a trail name may hold `_`).
  B13 (s11.2 log step 1) "the first such element counts": the first element of `logFiles` that is an object
     whose `s3Object` equals `object`; it must then have `hashAlgorithm` `SHA-256` and a 64-hex-digit
     `hashValue` (either case); a later element for the same object is never looked at.
  B14 (s11.3) Only the records of the log files that the bundle's events name are minified and kept (the event
     lines are compared with them byte for byte); every record is still checked to be a JSON object.
  B15 (s11.4) `normalization` of a CloudTrail archive is the current built-in mapper's only (AuditLens before
     section 11 could not export such archives, so the version-1 exception of section 7 does not arise); the
     `<P>` of the first how_to_verify step gives such an archive as `AWS CloudTrail (<fingerprints joined by
     ", ">)`, its signer name and fingerprint as in `signer`; the sixth check and sixth step follow the five
     fixed ones, only when the bundle has a CloudTrail archive.
  B16 (s11.5) An --aws-keys file is read as aws-keys.json is (B8, B9), except that other members are ignored
     (it is AWS's own output) and a UTF-8 byte order mark is allowed. Trust is checked per digest, in archive
     then digest order, after the bundle is intact: the key that verified the digest must have the same DER bytes
     as a given key whose window holds the digest's digestEndTime (so the same RSA key given in the other DER form,
     PKCS#1 instead of SubjectPublicKeyInfo or back, is another key: its MD5 fingerprint differs too). The OK line
     gives the CloudTrail part after the receipt part and before the annotations part.
"""

import base64
import binascii
import bisect
import datetime
import decimal
import hashlib
import json
import os
import re
import sys
import tomllib
import zipfile
import zlib
from fractions import Fraction

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
# Most values annotations.json and bundle.json may hold (counted before they are read, as auditlens counts them).
MAX_ANNOTATIONS_VALUES = 2_000_000
MAX_INDEX_VALUES = 200_000
ANNOTATIONS_MEMBERS = {"format", "version", "statement", "action_log", "events"}
ANNOTATIONS_STATEMENT = ("Annotations written by the auditor who exported this bundle, from their working papers: "
                         "they are not evidence and no producer signed them; the auditor's key signed them with the "
                         "manifest.")
CHECKPOINT_MAX = 64 << 10
ARCHIVE_MANIFEST_MAX = 1 << 20
MAPPING_MAX = 1 << 20
LINE_MAX = 16 << 20
PROOF_LINE_MAX = 1 << 20
ARCHIVE_RE = re.compile(r"archives/([0-9]{6})/(checkpoint|manifest\.json|mapping\.toml|cloudtrail\.json|"
                        r"aws-keys\.json|(digests|logs)/([0-9]{6})\.json\.gz)\Z", re.ASCII)
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

# Section 11: AWS CloudTrail archives.
CT_PREFIX = "aws-cloudtrail:"
CT_JSON_MAX = 16 << 20
CT_KEYS_MAX = 1 << 20
CT_FILE_MAX = 256 << 20          # a digest or log file, compressed (entry limit) and decompressed
CT_MAX_LOGS = 10_000
SEALED_SET = {"checkpoint", "manifest.json"}
CT_SET = {"cloudtrail.json", "aws-keys.json"}
CT_MEMBERS = {"format", "version", "digests", "logs"}
CT_LOG_MEMBERS = {"object", "digest", "first_index", "records"}
CT_KEY_MEMBERS = {"Value", "ValidityStartTime", "ValidityEndTime", "Fingerprint"}
CT_DIGEST_STRINGS = ("awsAccountId", "digestStartTime", "digestEndTime", "digestS3Bucket", "digestS3Object",
                     "digestPublicKeyFingerprint", "digestSignatureAlgorithm")
CT_PREVIOUS = ("previousDigestS3Bucket", "previousDigestS3Object", "previousDigestHashValue",
               "previousDigestHashAlgorithm", "previousDigestSignature")
CT_SIGNER_NAME = "AWS CloudTrail"
CT_CHECK = ("Each AWS CloudTrail event is exactly a record of a log file the bundle carries, whose decompressed "
            "SHA-256 is the hashValue listed by a digest file whose SHA256withRSA signature verifies with the AWS "
            "public key it names, valid at its digestEndTime.")
CT_HOW_TO_VERIFY = (
    "AWS CloudTrail archives (origin aws-cloudtrail:ACCOUNT/REGION/TRAIL) carry no checkpoint: add --aws-keys "
    "KEYS.json with AWS's public keys, obtained from AWS (aws cloudtrail list-public-keys), not from this bundle. "
    "By hand: gunzip each archives/NNNNNN/logs/MMMMMM.json.gz, compare its SHA-256 with the hashValue its digest "
    "lists, and check each digest's signature as docs/cloudtrail.md section 4 describes.")
# RFC 8017 section 9.2, note 1: DER of DigestInfo for SHA-256 (with NULL parameters), before the 32-byte hash.
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
RSA_ENCRYPTION_OID = bytes.fromhex("2a864886f70d010101")        # 1.2.840.113549.1.1.1
RSA_MIN_BITS, RSA_MAX_BITS, RSA_MAX_EXPONENT = 1_024, 8_192, (1 << 33) - 1


def limit_of(name):
    m = ARCHIVE_RE.match(name)
    if m:
        if m.group(3):
            return CT_FILE_MAX
        return {"checkpoint": CHECKPOINT_MAX, "manifest.json": ARCHIVE_MANIFEST_MAX, "mapping.toml": MAPPING_MAX,
                "cloudtrail.json": CT_JSON_MAX, "aws-keys.json": CT_KEYS_MAX}[m.group(2)]
    return LIMITS.get(name)


class NegativeZero(int):
    """The integer `-0` as written: 0, but no unsigned integer (`uint` refuses it, as serde reads it as -0.0)."""


def _int(text):
    return NegativeZero(0) if text == "-0" else int(text)


def max_values(raw):
    """How many values a JSON text holds at most, counted before it is read: the commas and opening brackets
    outside strings, plus one (as `auditlens verify-bundle` counts them)."""
    text = re.sub(rb'"(?:[^"\\]|\\.)*"', b"", raw)
    return 1 + text.count(b",") + text.count(b"[") + text.count(b"{")


def load_json(raw, what, numbers=None):
    """I-JSON (note B2). `numbers`: how to read numbers (default: Python's int and float)."""
    try:
        extra = {"parse_int": numbers, "parse_float": numbers} if numbers else {"parse_int": _int}
        v = json.loads(raw.decode("utf-8"), object_pairs_hook=va._no_duplicates,
                       parse_constant=va._reject_constant, **extra)
        va._check_strings(v)
    except (UnicodeError, ValueError) as e:
        raise Fail(f"{what}: not valid UTF-8 JSON: {e}") from None
    except RecursionError:
        raise Fail(f"{what}: JSON nested too deeply for this script") from None
    return v


def nesting(text):
    """The largest number of arrays and objects open at once in JSON text (brackets in strings do not count)."""
    depth = deepest = 0
    for token in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        c = token.group()
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth = max(depth - 1, 0)
    return deepest


DIGEST_MAX_NESTING = 127
LOG_MAX_NESTING = 130


def load_digest_json(raw, what):
    """A digest file (section 11.2 step 2, note B7): RFC 8259 JSON, nested at most 127 levels; of a member given
    twice the last counts; no NaN/Infinity, no escaped lone surrogate; numbers are not read."""
    try:
        text = raw.decode("utf-8")
        if nesting(text) > DIGEST_MAX_NESTING:
            raise Fail(f"{what}: nested deeper than {DIGEST_MAX_NESTING} levels of arrays and objects")
        v = json.loads(text, parse_constant=va._reject_constant, parse_int=str, parse_float=str)
        va._check_strings(v)
    except (UnicodeError, ValueError) as e:
        raise Fail(f"{what}: not valid UTF-8 JSON: {e}") from None
    except RecursionError:
        raise Fail(f"{what}: JSON nested too deeply for this script") from None
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
            if int(m.group(1)) == 0 or (m.group(3) and int(m.group(4)) == 0):
                raise Fail(f"unexpected entry {name!r}")
            parts = archives.setdefault(int(m.group(1)), {"files": set(), "digests": set(), "logs": set()})
            if m.group(3):
                parts[m.group(3)].add(int(m.group(4)))
            else:
                parts["files"].add(m.group(2))
        if info.flag_bits & 0x41:
            raise Fail(f"{name}: encrypted entry")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Fail(f"{name}: compression method {info.compress_type}")
        va._check_local_header(fp, info)
        infos[name] = info
    va._check_layout(fp, zf)
    for required in LIMITS:
        if required not in infos and required not in OPTIONAL:
            raise Fail(f"missing entry {required!r}")
    k = len(archives)
    if k == 0 or k > MAX_ARCHIVES:
        raise Fail(f"{k} archives; a bundle holds 1 to {MAX_ARCHIVES}")
    if sorted(archives) != list(range(1, k + 1)):
        raise Fail("archives/ entries are not numbered 000001.. without gap")
    layout, logs = {}, 0
    for number, parts in sorted(archives.items()):
        where = f"archives/{number:06}"
        if SEALED_SET <= parts["files"] and not parts["digests"] and not parts["logs"] and \
                parts["files"] <= SEALED_SET | {"mapping.toml"}:
            layout[number] = None
            continue
        if parts["files"] != CT_SET:
            raise Fail(f"{where}: has neither checkpoint and manifest.json (an archive sealed by AuditLens) nor "
                       "exactly cloudtrail.json, aws-keys.json, digests/ and logs/ (an AWS CloudTrail archive, "
                       "section 11.1)")
        for kind in ("digests", "logs"):
            got = sorted(parts[kind])
            if not got or got != list(range(1, len(got) + 1)):
                raise Fail(f"{where}/{kind}/ entries are not numbered 000001.. without gap (at least one)")
        layout[number] = (len(parts["digests"]), len(parts["logs"]))
        logs += len(parts["logs"])
    if logs > CT_MAX_LOGS:
        raise Fail(f"{logs} AWS CloudTrail log files; a bundle holds at most {CT_MAX_LOGS}")
    return zf, infos, k, layout


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

def verify(path, trusted, trusted_auditors, aws_keys=()):
    """Returns (status, message) with status OK or UNTRUSTED; raises Fail. `aws_keys`: the keys of the --aws-keys
    files (load_aws_keys)."""
    with open(path, "rb") as fp:
        zf, infos, k, layout = open_container(fp)

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
        index_raw = entry("bundle.json")
        if max_values(index_raw) > MAX_INDEX_VALUES:
            raise Fail(f"bundle.json holds more than {MAX_INDEX_VALUES} values")
        ix = load_json(index_raw, "bundle.json")
        check_index(ix, auditor.text, k)

        # 5. archives (section 11.2 for AWS CloudTrail archives)
        proofs = entry("proofs.jsonl")
        wanted = wanted_records(proofs) if any(layout.values()) else {}
        archives = []
        for number in range(1, k + 1):
            d = ix["archives"][number - 1]
            is_ct = d["origin"].startswith(CT_PREFIX)
            if is_ct != (layout[number] is not None):
                raise Fail(f"archive {number}: origin {d['origin']!r} "
                           + ("begins with aws-cloudtrail: but the archive has a checkpoint, not the entries of "
                              "section 11.1" if is_ct else
                              "does not begin with aws-cloudtrail: but the archive has the entries of an AWS "
                              "CloudTrail archive (section 11.1), not a checkpoint"))
            if is_ct:
                a = check_cloudtrail(number, d, entry, layout[number], wanted.get(number, set()))
                if archives and (archives[-1]["origin"].encode(), archives[-1]["sequence"]) >= (
                        a["origin"].encode(), a["sequence"]):
                    raise Fail(f"bundle.json: archive {number} is not after archive {number - 1}")
                archives.append(a)
                continue
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
            if (d["origin"], d["sequence"], d["size"], d["root"], d["signer"]) != (
                    cp["origin"], cp["sequence"], cp["size"], va.b64(cp["root"]), m["signer"]):
                raise Fail(f"bundle.json: archives[{number - 1}] disagrees with {cp_name}")
            if archives and (archives[-1]["origin"].encode(), archives[-1]["sequence"]) >= (
                    cp["origin"].encode(), cp["sequence"]):
                raise Fail(f"bundle.json: archive {number} is not after archive {number - 1}")
            archives.append({"origin": cp["origin"], "sequence": cp["sequence"], "size": cp["size"],
                             "root": cp["root"], "signer": m["signer"], "seen": 0, "manifest": m,
                             "source": source, "cloudtrail": None,
                             # section 4.1 of docs/archive-format.md: never shown as plainly verified
                             "received": va.receipt_label(m) if "received" in m else None})

        # 6. events and proofs, line by line
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

    # 9. trust (section 11.5 for AWS CloudTrail archives: per digest, note B16)
    for number, a in enumerate(archives, 1):
        if a["cloudtrail"] is not None:
            for m, (der, fp, end, end_text) in enumerate(a["cloudtrail"]["keys"], 1):
                if not any(key["der"] == der and key["start"] <= end <= key["end"] for key in aws_keys):
                    return "UNTRUSTED", (f"archive {number} digest {m} (archives/{number:06}/digests/{m:06}.json.gz) "
                                         f"is signed by the AWS key {fp}, which is not among the --aws-keys keys "
                                         f"with a validity window holding its digestEndTime {end_text}")
        elif a["signer"] not in trusted:
            return "UNTRUSTED", f"archive {number} is signed by the untrusted producer key {a['signer']}"
    if trusted_auditors and auditor.text not in trusted_auditors:
        return "UNTRUSTED", f"the auditor key {auditor.text} is not among the --trust-auditor keys"
    if annotated:
        note = f"; {annotated} events carry the auditor's annotations (not evidence)"
    else:
        note = ""
    aws = sum(a["seen"] for a in archives if a["cloudtrail"] is not None)
    if aws:
        labels = "; ".join(f"archive {number} {a['cloudtrail']['label']}" for number, a in enumerate(archives, 1)
                           if a["cloudtrail"] is not None)
        note = f"; {aws} of them AWS CloudTrail events: {labels}{note}"
    received = sum(a["seen"] for a in archives if a["received"])
    if received:
        labels = "; ".join(f"archive {number} {a['received']}" for number, a in enumerate(archives, 1)
                           if a["received"])
        note = f"; {received} of them only sealed on receipt, not verified at the source: {labels}{note}"
    return "OK", (f"{n} events, {k} archives, auditor {auditor.name} {fingerprint(auditor)}{note}; report.json derived "
                  "but its normalized fields, and report.html, not re-derived (note B3)")


def check_annotations(raw, ids, leaves):
    """Section 7.4; returns how many events are annotated."""
    if max_values(raw) > MAX_ANNOTATIONS_VALUES:
        raise Fail(f"annotations.json holds more than {MAX_ANNOTATIONS_VALUES} values")
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
        if a["cloudtrail"] is not None:                                            # section 11.4
            log, record = locate(a["cloudtrail"], index)
            e["cloudtrail"] = {"label": a["cloudtrail"]["label"], "log": log, "record": record}
        if e["time"] is not None:
            times.append((rfc3339_key(e["time"], f"report.json events[{i}].time"), e["time"]))
        events.append(e)
    fps = []
    for a in archives:
        if a["cloudtrail"] is not None:
            fps.append(f"{CT_SIGNER_NAME} ({', '.join(a['cloudtrail']['fingerprints'])})")
            continue
        k = a["manifest"]["signer_key"]
        fps.append(f"{k.name} ({fingerprint(k)})")
    fps = [f for j, f in enumerate(fps) if j == 0 or fps[j - 1] != f]
    n, k = len(events), len(archives)
    aws = [a for a in archives if a["cloudtrail"] is not None]
    if not aws:
        summary = (f"{n} {_plural(n, 'event')} from {k} {_plural(k, 'archive')}. "
                   "Every event's bytes hash to its leaf, every inclusion proof leads to its archive's signed Merkle "
                   "root, and every checkpoint signature verifies with its producer key. Every archive was verified "
                   "under a trusted producer key when it was imported into the evidence store.")
    else:                                                                          # section 11.4
        summary = f"{n} {_plural(n, 'event')} from {k} {_plural(k, 'archive')}. Every event's bytes hash to its leaf."
        sealed = [a for a in archives if a["cloudtrail"] is None]
        s_, t = sum(a["seen"] for a in sealed), len(sealed)
        if s_ >= 1:
            summary += (f" {s_} {_plural(s_, 'event')} from {t} {_plural(t, 'archive')} sealed by AuditLens: every "
                        "inclusion proof leads to its archive's signed Merkle root, and every checkpoint signature "
                        "verifies with its producer key.")
        c, u = sum(a["seen"] for a in aws), len(aws)
        summary += (f" {c} {_plural(c, 'event')} from {u} AWS CloudTrail {_plural(u, 'archive')}: each is a record "
                    "of a whole log file the bundle carries, whose SHA-256 is listed in a digest file whose "
                    "SHA256withRSA signature verifies with an AWS CloudTrail public key. Every archive was verified "
                    "when it was imported into the evidence store.")
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
        "verification": {"checked_at": ix["exported"], "summary": summary,
                         "checks": CHECKS + ([CT_CHECK] if aws else [])},
        "archives": [
            cloudtrail_report(j, a, d) if a["cloudtrail"] is not None else
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
            *HOW_TO_VERIFY, *([CT_HOW_TO_VERIFY] if aws else [])],
    }
    if derived != found:
        for key in derived:
            if derived[key] != found.get(key):
                where = key
                if key in ("archives", "events") and type(found.get(key)) is list:
                    for j, (x, y) in enumerate(zip(derived[key], found[key])):
                        if x != y:
                            where = f"{key}[{j}]"
                            if type(y) is dict:
                                where += next((f".{m}" for m in list(x) + list(y) if x.get(m) != y.get(m)), "")
                            break
                raise Fail(f"report.json: {where} is not what the bundle's events, selection and signed metadata "
                           f"say (expected {json.dumps(_at(derived, where), ensure_ascii=False)[:300]}, "
                           f"found {json.dumps(_at(found, where), ensure_ascii=False)[:300]})")
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
    ct = a["cloudtrail"]
    if ct is not None:                                                             # section 11.3
        if p["path"]:
            raise Fail(f"proofs.jsonl line {n}: event {eid} of AWS CloudTrail archive {number} has a non-empty "
                       "path (section 11.3: its proof is the log file, not a Merkle path)")
        place = locate(ct, index)
        if place is None:
            raise Fail(f"proofs.jsonl line {n}: index {index} of event {eid} lies in no log file of archive "
                       f"{number}")
        log, record = place
        log_entry = ct["logs"][log - 1]["entry"]
        expected = ct["records"].get(index)
        if expected is None:       # wanted_records saw every (archive, index) that load_json accepts
            raise Fail(f"events.jsonl line {n}: record {record} of {log_entry} was not kept (internal error)")
        if event != expected:
            raise Fail(f"events.jsonl line {n}: event {eid} is not byte for byte record {record} of {log_entry} "
                       f"(expected {_show(expected)}, found {_show(event)})")
        a["seen"] += 1
        return number, index, eid, p["leaf"], 0
    path = [va.decode_hash(string(h, "path hash"), f"proofs.jsonl line {n} path") for h in p["path"]]
    try:                                                                           # step 4
        root = inclusion_root(leaf, index, a["size"], path)
    except Fail as e:
        raise Fail(f"proofs.jsonl line {n}: {e}") from None
    if root != a["root"]:
        raise Fail(f"proofs.jsonl line {n}: the proof leads to {va.b64(root)}, not the signed root {va.b64(a['root'])}")
    a["seen"] += 1
    return number, index, eid, p["leaf"], len(path)


def _plural(n, word):
    return word if n == 1 else word + "s"


def _at(doc, where):
    """The value at a path such as `archives[0].signer` (as check_report names it), or None."""
    try:
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", where):
            doc = doc[int(part[1:-1])] if part.startswith("[") else doc[part]
        return doc
    except (KeyError, IndexError, TypeError):
        return None


def _show(raw, limit=120):
    text = raw.decode("utf-8", "replace")
    return repr(text if len(text) <= limit else text[:limit] + "...")


# ---------------------------------------------------------------------------------------------------------
# Section 11: AWS CloudTrail archives. Primitives: gzip (note B6), times (B8), RSA keys and signatures (B9, B10),
# the Records of a log file (B7, B14).

def gunzip(data, what, cap=CT_FILE_MAX):
    """RFC 1952: one or more complete members and nothing after the last; at most `cap` bytes in all (note B6).
    zlib checks each member's header, deflate data, CRC-32 and ISIZE."""
    out, rest, members = bytearray(), bytes(data), 0
    while True:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        buf = rest
        try:
            while True:
                out += d.decompress(buf, cap + 1 - len(out))
                if len(out) > cap:
                    raise Fail(f"{what}: decompresses to more than {cap} bytes")
                if d.eof:
                    break
                buf = d.unconsumed_tail
                if not buf:
                    raise Fail(f"{what}: " + ("not gzip (empty)" if not data else
                                             f"gzip member {members + 1} is truncated" if not members else
                                             f"bytes after gzip member {members} that are not a complete gzip "
                                             "member (truncated)"))
        except zlib.error as e:
            if members:
                raise Fail(f"{what}: bytes after gzip member {members} that are not a complete gzip member "
                           f"({e})") from None
            raise Fail(f"{what}: not gzip ({e})") from None
        members += 1
        rest = d.unused_data
        if not rest:
            return bytes(out)


def _days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _instant(y, mo, d, h, mi, sec, frac, sign, oh, om):
    """Exact seconds since the epoch (a Fraction), or None when a field is out of range (second 60 included)."""
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    if not (1 <= mo <= 12 and 1 <= d <= days[mo - 1] and h <= 23 and mi <= 59 and sec <= 59 and oh <= 23
            and om <= 59):
        return None
    t = Fraction(((_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec)
    if frac:
        t += Fraction(int(frac), 10 ** len(frac))
    return t - sign * (oh * 60 + om) * 60


RFC3339_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
                        r"(?:([Zz])|([+-])(\d{2}):(\d{2}))\Z", re.ASCII)
ISO8601_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
                        r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?\Z", re.ASCII)
EPOCH_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?\Z", re.ASCII)


def _time_of(m):
    y, mo, d, h, mi, sec, frac, _z, sign, oh, om = m.groups()
    return _instant(int(y), int(mo), int(d), int(h), int(mi), int(sec), frac, -1 if sign == "-" else 1,
                    int(oh or 0), int(om or 0))


def rfc3339_instant(text):
    """An RFC 3339 date-time (note B8) as exact seconds since the epoch, or None."""
    m = RFC3339_RE.match(text) if type(text) is str else None
    return _time_of(m) if m else None


BUNDLE_KEY_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z\Z", re.ASCII)


def key_time(v, what, exact=False):
    """A key's ValidityStartTime / ValidityEndTime (docs/cloudtrail.md section 6, note B8): exact epoch seconds.
    `exact`: in a bundle's aws-keys.json, a string `YYYY-MM-DDTHH:MM:SS[.fraction]Z` only (section 11.1)."""
    if exact:
        t = rfc3339_instant(v) if type(v) is str and BUNDLE_KEY_TIME_RE.match(v) else None
        if t is None:
            raise Fail(f"{what}: {v!r} is not a time written YYYY-MM-DDTHH:MM:SS[.fraction]Z")
        return t
    if type(v) is int or isinstance(v, decimal.Decimal):
        return Fraction(v)
    if type(v) is str:
        if EPOCH_RE.match(v):
            return Fraction(decimal.Decimal(v))
        m = ISO8601_RE.match(v)
        t = _time_of(m) if m else None
        if t is not None:
            return t
    raise Fail(f"{what}: {v!r} is neither ISO 8601 nor epoch seconds")


def _der(buf, pos, what):
    """One DER element at `pos`: (tag, start of its content, end of its content). Definite, minimal lengths."""
    if pos + 2 > len(buf):
        raise Fail(f"{what}: truncated DER")
    tag, length = buf[pos], buf[pos + 1]
    pos += 2
    if tag & 0x1F == 0x1F:
        raise Fail(f"{what}: unexpected DER tag")
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 4 or pos + count > len(buf) or buf[pos] == 0:
            raise Fail(f"{what}: bad DER length")
        length = int.from_bytes(buf[pos:pos + count], "big")
        pos += count
        if length < 0x80:
            raise Fail(f"{what}: non-minimal DER length")
    if pos + length > len(buf):
        raise Fail(f"{what}: truncated DER")
    return tag, pos, pos + length


def _der_uint(buf, pos, what):
    tag, start, end = _der(buf, pos, what)
    body = buf[start:end]
    if tag != 0x02 or not body or body[0] & 0x80 or (len(body) > 1 and body[0] == 0 and not body[1] & 0x80):
        raise Fail(f"{what}: not a minimal positive DER INTEGER")
    return int.from_bytes(body, "big"), end


def rsa_public_key(der, what):
    """(n, e) of a DER PKCS#1 RSAPublicKey or SubjectPublicKeyInfo of rsaEncryption (note B9)."""
    tag, start, end = _der(der, 0, what)
    if tag != 0x30 or end != len(der):
        raise Fail(f"{what}: not one DER SEQUENCE")
    inner, s2, e2 = _der(der, start, what)
    if inner == 0x30:                                    # SubjectPublicKeyInfo: AlgorithmIdentifier, BIT STRING
        tag, so, eo = _der(der, s2, what)
        if tag != 0x06 or der[so:eo] != RSA_ENCRYPTION_OID:
            raise Fail(f"{what}: SubjectPublicKeyInfo of another algorithm than rsaEncryption")
        tag, sn, en = _der(der, eo, what)
        if tag != 0x05 or sn != en or en != e2:
            raise Fail(f"{what}: rsaEncryption parameters are not NULL")
        tag, sb, eb = _der(der, e2, what)
        if tag != 0x03 or eb != end or sb == eb or der[sb] != 0:
            raise Fail(f"{what}: bad subjectPublicKey BIT STRING")
        der = der[sb + 1:eb]
        tag, start, end = _der(der, 0, what)
        if tag != 0x30 or end != len(der):
            raise Fail(f"{what}: RSAPublicKey is not one DER SEQUENCE")
    elif inner != 0x02:
        raise Fail(f"{what}: neither PKCS#1 RSAPublicKey nor SubjectPublicKeyInfo")
    n, pos = _der_uint(der, start, what)
    e, pos = _der_uint(der, pos, what)
    if pos != end:
        raise Fail(f"{what}: RSAPublicKey has more than a modulus and an exponent")
    if (not n & 1 or not RSA_MIN_BITS <= n.bit_length() <= RSA_MAX_BITS or not e & 1
            or not 3 <= e <= RSA_MAX_EXPONENT or e >= n):
        raise Fail(f"{what}: not a usable RSA public key (odd modulus of {RSA_MIN_BITS} to {RSA_MAX_BITS} bits, odd "
                   f"exponent from 3 to {RSA_MAX_EXPONENT}, below the modulus)")
    return n, e


def rsa_verify_sha256(n, e, message, signature):
    """RSASSA-PKCS1-v1_5 verification with SHA-256 (RFC 8017 sections 8.2.2 and 9.2, note B10)."""
    k = (n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= n:
        return False
    t = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    if k < len(t) + 11:
        return False
    return pow(s, e, n).to_bytes(k, "big") == b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


def load_aws_keys(raw, what, exact=True):
    """`aws cloudtrail list-public-keys` output (section 11.1, docs/cloudtrail.md section 6; notes B7, B8, B9):
    a list of {"der", "n", "e", "fingerprint" (lowercase hex MD5 of the DER), "start", "end"}. `exact`: section
    2's rules for a bundle entry (no other member); otherwise other members are ignored (note B16)."""
    try:
        text = raw.decode("utf-8" if exact else "utf-8-sig")
        doc = json.loads(text, object_pairs_hook=va._no_duplicates, parse_constant=va._reject_constant,
                         parse_float=decimal.Decimal)
        va._check_strings(doc)
    except (UnicodeError, ValueError) as e:
        raise Fail(f"{what}: not valid UTF-8 JSON: {e}") from None
    except RecursionError:
        raise Fail(f"{what}: JSON nested too deeply for this script") from None
    if type(doc) is not dict or "PublicKeyList" not in doc or (exact and set(doc) != {"PublicKeyList"}):
        raise Fail(f"{what}: not an object with " + ("exactly " if exact else "") + "the member PublicKeyList")
    if type(doc["PublicKeyList"]) is not list:
        raise Fail(f"{what}: PublicKeyList is not an array")
    keys = []
    for i, k in enumerate(doc["PublicKeyList"]):
        where = f"{what}: PublicKeyList[{i}]"
        if type(k) is not dict or not CT_KEY_MEMBERS <= set(k) or (exact and set(k) != CT_KEY_MEMBERS):
            raise Fail(f"{where} is not an object with " + ("exactly " if exact else "")
                       + "Value, ValidityStartTime, ValidityEndTime and Fingerprint")
        value = k["Value"]
        if type(value) is str and not exact:
            value = value.strip()             # AWS's own output: surrounding white space is not part of the key
        if type(value) is not str or not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", value, re.ASCII) or len(value) % 4:
            raise Fail(f"{where}.Value is not padded standard base64")
        try:
            der = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise Fail(f"{where}.Value is not valid base64") from None
        if base64.b64encode(der).decode("ascii") != value:
            raise Fail(f"{where}.Value is not canonical base64")
        n, e = rsa_public_key(der, f"{where}.Value")
        fp = hashlib.md5(der).hexdigest()
        if type(k["Fingerprint"]) is not str or k["Fingerprint"].lower() != fp:
            raise Fail(f"{where}: Fingerprint {k['Fingerprint']!r} is not the MD5 of the key's DER ({fp})")
        keys.append({"der": der, "n": n, "e": e, "fingerprint": fp,
                     "start": key_time(k["ValidityStartTime"], f"{where}.ValidityStartTime", exact),
                     "end": key_time(k["ValidityEndTime"], f"{where}.ValidityEndTime", exact)})
    return keys


_WS = re.compile(r"[ \t\n\r]*")
_SCAN = json.JSONDecoder(parse_int=str, parse_float=str, parse_constant=va._reject_constant)
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[^" \t\n\r]+')


def minify(text):
    """A record as `seal` makes it (docs/archive-format.md section 3): JSON white space outside strings removed.
    `text` is valid JSON, so outside strings nothing but white space, '"' and other tokens occur."""
    return "".join(_TOKENS.findall(text)).encode("utf-8")


def log_records(raw, what, wanted):
    """Section 11.2 log step 3 (note B7): the decompressed log file is one JSON object whose `Records` member is an
    array of JSON objects. Returns (the number of Records elements, {r: record r minified} for r in `wanted`)."""
    try:
        s = raw.decode("utf-8")
    except UnicodeError as e:
        raise Fail(f"{what}: not UTF-8 ({e})") from None

    def ws(i):
        return _WS.match(s, i).end()

    def value(i):
        try:
            return _SCAN.raw_decode(s, i)
        except ValueError as e:           # json.JSONDecodeError, or NaN / Infinity
            raise Fail(f"{what}: not RFC 8259 JSON: {e}") from None
        except RecursionError:
            raise Fail(f"{what}: nested too deeply for this script (note B7)") from None

    def expect(i, chars, context):
        if i >= len(s) or s[i] not in chars:
            raise Fail(f"{what}: not RFC 8259 JSON: expected {' or '.join(map(repr, chars))} {context} at "
                       f"character {i}")
        return s[i]

    if nesting(s) > LOG_MAX_NESTING:
        raise Fail(f"{what}: nested deeper than {LOG_MAX_NESTING} levels of arrays and objects")
    i = ws(0)
    expect(i, ("{",), "(the file must be one JSON object)")
    i, names, records = ws(i + 1), set(), None
    if s[i:i + 1] == "}":
        i += 1
    else:
        while True:
            expect(i, ('"',), "(a member name)")
            name, i = value(i)
            if name == "Records" and name in names:
                raise Fail(f"{what}: member 'Records' given twice")
            names.add(name)
            i = ws(i)
            expect(i, (":",), "after a member name")
            i = ws(i + 1)
            if name == "Records":
                if s[i:i + 1] != "[":
                    value(i)              # a JSON error first, if the value is not JSON at all
                    raise Fail(f"{what}: Records is not an array")
                count, kept = 0, {}
                i = ws(i + 1)
                if s[i:i + 1] == "]":
                    i += 1
                else:
                    while True:
                        start = i
                        v, i = value(i)
                        if type(v) is not dict:
                            raise Fail(f"{what}: Records[{count}] is not a JSON object")
                        if count in wanted:
                            kept[count] = minify(s[start:i])
                        count += 1
                        i = ws(i)
                        if expect(i, (",", "]"), "in Records") == "]":
                            i += 1
                            break
                        i = ws(i + 1)
                records = (count, kept)
            else:
                _, i = value(i)
            i = ws(i)
            if expect(i, (",", "}"), "in the top-level object") == "}":
                i += 1
                break
            i = ws(i + 1)
    if ws(i) != len(s):
        raise Fail(f"{what}: not RFC 8259 JSON: text after the top-level object")
    if records is None:
        raise Fail(f"{what}: no Records member")
    return records


def wanted_records(proofs):
    """{archive number: {index, ...}} named by proofs.jsonl, read leniently: only these records are kept (note
    B14). A line this cannot read fails later, in step 6."""
    wanted = {}
    for line in proofs.split(b"\n"):
        try:
            p = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if type(p) is dict and type(p.get("archive")) is int and type(p.get("index")) is int:
            wanted.setdefault(p["archive"], set()).add(p["index"])
    return wanted


def locate(ct, index):
    """(log file number, record number in it) of an archive index, or None (section 11.3). The ranges are in order
    and do not overlap (section 11.2 log step 4), so only the last range starting at or before `index` can hold it."""
    number = bisect.bisect_right(ct["starts"], index)
    if number and index < ct["starts"][number - 1] + ct["logs"][number - 1]["records"]:
        return number, index - ct["starts"][number - 1]
    return None


def digest_name(obj):
    """Section 11.2 digest step 3 (note B12): (account, region, trail) of a digest's S3 key, or None."""
    base = obj.rsplit("/", 1)[-1]
    account, sep, rest = base.partition("_CloudTrail-Digest_")
    if not sep or not account or not rest.endswith(".json.gz"):
        return None
    rest = rest[:-len(".json.gz")]
    if rest.endswith("_backfill"):              # a backfill digest (note B12)
        rest = rest[:-len("_backfill")]
    rest, _, stamp = rest.rpartition("_")
    region, _, rest = rest.partition("_")
    trail, _, home = rest.rpartition("_")
    if not re.fullmatch(r"[0-9]{8}T[0-9]{6}Z", stamp, re.ASCII) or not all((region, trail, home)):
        return None
    try:                                        # a valid UTC time, as AuditLens reads it (note B12)
        datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ")
    except ValueError:
        return None
    return account, region, trail


def check_cloudtrail(number, d, entry, counts, wanted):
    """Section 11.2 for AWS CloudTrail archive `number` (`d` its bundle.json element); returns its description for
    the later steps. `wanted`: the indices whose records the bundle's events need (note B14)."""
    base = f"archives/{number:06}"
    n_digests, n_logs = counts
    name = f"{base}/cloudtrail.json"
    ct = load_json(entry(name), name)
    if type(ct) is not dict or set(ct) != CT_MEMBERS:
        raise Fail(f"{name}: not an object with exactly format, version, digests, logs")
    if ct["format"] != "auditlens-cloudtrail-proof" or type(ct["version"]) is not int or ct["version"] != 1:
        raise Fail(f"{name}: not format auditlens-cloudtrail-proof version 1")
    if type(ct["digests"]) is not list or len(ct["digests"]) != n_digests:
        raise Fail(f"{name}: digests does not describe the {n_digests} digest file(s) of {base}/digests/")
    for m, x in enumerate(ct["digests"], 1):
        if type(x) is not dict or set(x) != {"signature"}:
            raise Fail(f"{name}: digests[{m - 1}] is not an object with exactly signature")
        string(x["signature"], f"{name}: digests[{m - 1}].signature")
    if type(ct["logs"]) is not list or len(ct["logs"]) != n_logs:
        raise Fail(f"{name}: logs does not describe the {n_logs} log file(s) of {base}/logs/")
    for j, x in enumerate(ct["logs"], 1):
        if type(x) is not dict or set(x) != CT_LOG_MEMBERS:
            raise Fail(f"{name}: logs[{j - 1}] is not an object with exactly object, digest, first_index, records")
        string(x["object"], f"{name}: logs[{j - 1}].object")
        uint(x["digest"], f"{name}: logs[{j - 1}].digest")
        uint(x["first_index"], f"{name}: logs[{j - 1}].first_index")
        if uint(x["records"], f"{name}: logs[{j - 1}].records") < 1:
            raise Fail(f"{name}: logs[{j - 1}].records is 0 (a log file holds at least one record)")
    keys_name = f"{base}/aws-keys.json"
    keys = load_aws_keys(entry(keys_name), keys_name)
    origin = d["origin"]

    wanted = sorted(wanted)
    digests, used_keys, previous_end = [], [], None
    for m in range(1, n_digests + 1):
        name = f"{base}/digests/{m:06}.json.gz"
        raw = gunzip(entry(name), name)                                                                       # step 1
        sha = hashlib.sha256(raw).hexdigest()
        doc = load_digest_json(raw, name)                                                                     # step 2
        if type(doc) is not dict:
            raise Fail(f"{name}: not a JSON object")
        for f in CT_DIGEST_STRINGS:
            if type(doc.get(f)) is not str:
                raise Fail(f"{name}: {f} is missing or not a string")
        start, end = rfc3339_instant(doc["digestStartTime"]), rfc3339_instant(doc["digestEndTime"])
        if start is None or end is None:
            raise Fail(f"{name}: digestStartTime {doc['digestStartTime']!r} or digestEndTime "
                       f"{doc['digestEndTime']!r} is not an RFC 3339 time")
        fp = doc["digestPublicKeyFingerprint"]
        if not re.fullmatch(r"[0-9a-fA-F]{32}", fp, re.ASCII):
            raise Fail(f"{name}: digestPublicKeyFingerprint {fp!r} is not 32 hex digits")
        fp = fp.lower()
        if doc["digestSignatureAlgorithm"] != "SHA256withRSA":
            raise Fail(f"{name}: digestSignatureAlgorithm {doc['digestSignatureAlgorithm']!r} is not SHA256withRSA")
        previous = [doc.get(f, 0) for f in CT_PREVIOUS]
        if not (all(type(v) is str for v in previous) or all(v is None for v in previous)):
            raise Fail(f"{name}: the previousDigest... members are not all strings or all null")
        if type(doc.get("logFiles")) is not list:
            raise Fail(f"{name}: logFiles is missing or not an array")
        obj = doc["digestS3Object"]                                                                           # step 3
        parts = digest_name(obj)
        if parts is None:
            raise Fail(f"{name}: digestS3Object {obj!r} does not end in a digest file name "
                       "<account>_CloudTrail-Digest_<region>_<trail>_<homeRegion>_<YYYYMMDDTHHmmssZ>.json.gz")
        signed_origin = CT_PREFIX + "/".join(parts)
        if origin != signed_origin:
            raise Fail(f"bundle.json: archives[{number - 1}].origin is {origin!r}, but {name} is AWS's signed digest "
                       f"of {signed_origin!r}")
        candidates = [k for k in keys if k["fingerprint"] == fp]                                              # step 4
        if not candidates:
            raise Fail(f"{name}: {keys_name} holds no key with the digest's fingerprint {fp}")
        valid = [k for k in candidates if k["start"] <= end <= k["end"]]
        if not valid:
            raise Fail(f"{name}: the AWS key {fp} of {keys_name} is not valid at the digest's digestEndTime "
                       f"{doc['digestEndTime']}")
        key = valid[0]
        sig_hex = ct["digests"][m - 1]["signature"]                                                           # step 5
        if len(sig_hex) % 2 or not re.fullmatch(r"[0-9a-fA-F]*", sig_hex, re.ASCII):
            raise Fail(f"{base}/cloudtrail.json: digests[{m - 1}].signature is not hex with an even number of digits")
        message = (f"{doc['digestEndTime']}\n{doc['digestS3Bucket']}/{obj}\n{sha}\n"
                   f"{'null' if previous[-1] is None else previous[-1]}").encode("utf-8")
        if not rsa_verify_sha256(key["n"], key["e"], message, bytes.fromhex(sig_hex)):
            raise Fail(f"{name}: its signature (cloudtrail.json digests[{m - 1}]) does not verify with the AWS key "
                       f"{fp} (SHA256withRSA over digestEndTime, bucket/object, SHA-256 {sha}, previous signature)")
        if previous_end is not None and not end > previous_end:                                               # step 6
            raise Fail(f"{name}: digestEndTime {doc['digestEndTime']} is not later than the previous digest's")
        previous_end = end
        if not any(x["digest"] == m for x in ct["logs"]):                                                     # step 7
            raise Fail(f"{name}: no log file of {base}/cloudtrail.json names digest {m}")
        digests.append({"entry": name, "object": obj, "start": doc["digestStartTime"], "end": doc["digestEndTime"],
                        "sha256": sha, "fingerprint": fp, "logFiles": doc["logFiles"]})
        used_keys.append((key["der"], fp, end, doc["digestEndTime"]))

    logs, records, objects, next_index = [], {}, set(), 0
    for j, x in enumerate(ct["logs"], 1):
        name = f"{base}/logs/{j:06}.json.gz"
        obj, m = x["object"], x["digest"]                                                                     # step 1
        if not 1 <= m <= n_digests:
            raise Fail(f"{base}/cloudtrail.json: logs[{j - 1}] names digest {m}, which the archive does not have")
        listed = next((f for f in digests[m - 1]["logFiles"] if type(f) is dict and f.get("s3Object") == obj), None)
        if listed is None:
            raise Fail(f"{name}: its digest {digests[m - 1]['entry']} does not list {obj!r}")
        value = listed.get("hashValue")
        if listed.get("hashAlgorithm") != "SHA-256" or type(value) is not str or not re.fullmatch(
                r"[0-9a-fA-F]{64}", value, re.ASCII):
            raise Fail(f"{name}: {digests[m - 1]['entry']} lists {obj!r} without hashAlgorithm SHA-256 and a "
                       "64-hex-digit hashValue")
        raw = gunzip(entry(name), name)                                                                       # step 2
        sha = hashlib.sha256(raw).hexdigest()
        if sha != value.lower():
            raise Fail(f"{name}: SHA-256 of its decompressed bytes is {sha}, the hashValue of {obj!r} in "
                       f"{digests[m - 1]['entry']} is {value.lower()}")
        first, count = x["first_index"], x["records"]
        want = {i - first for i in wanted[bisect.bisect_left(wanted, first):bisect.bisect_left(wanted, first + count)]}
        found, kept = log_records(raw, name, want)                                                            # step 3
        del raw
        if found != count:
            raise Fail(f"{name}: Records holds {found} record(s), cloudtrail.json says {count}")
        if obj in objects:                                                                                    # step 4
            raise Fail(f"{name}: object {obj!r} is the object of an earlier log file")
        objects.add(obj)
        if first < next_index:
            raise Fail(f"{name}: first_index {first} is below {next_index}, where the previous log file's records end")
        next_index = first + count
        records.update((first + r, v) for r, v in kept.items())
        logs.append({"entry": name, "object": obj, "digest": m, "sha256": sha, "first_index": first,
                     "records": count})
    if next_index > d["size"]:
        raise Fail(f"{base}/logs/{n_logs:06}.json.gz: its records end at index {next_index}, beyond the archive's "
                   f"size {d['size']} (bundle.json)")

    fingerprints = sorted({fp for (_der, fp, _e, _t) in used_keys})
    signer = CT_PREFIX + ",".join(fingerprints)
    if d["signer"] != signer:
        raise Fail(f"bundle.json: archives[{number - 1}].signer is {d['signer']!r}, the digests' keys give {signer!r}")
    if d["sequence"] < 1:
        raise Fail(f"bundle.json: archives[{number - 1}].sequence is 0")
    root = va.decode_hash(d["root"], f"bundle.json: archives[{number - 1}].root")
    label = (f"signed by AWS CloudTrail (key {', '.join(fingerprints)}): log files verified against AWS's signed "
             "digests")
    return {"origin": origin, "sequence": d["sequence"], "size": d["size"], "root": root, "signer": signer,
            "seen": 0, "manifest": None, "source": "cloudtrail", "received": None,
            "cloudtrail": {"label": label, "fingerprints": fingerprints, "keys": used_keys, "records": records,
                           "starts": [log["first_index"] for log in logs],
                           "digests": [{f: g[f] for f in ("entry", "object", "start", "end", "sha256", "fingerprint")}
                                       for g in digests],
                           "logs": logs}}


def cloudtrail_report(j, a, d):
    """Section 11.4: the `archives` element of report.json for AWS CloudTrail archive `j`."""
    ct = a["cloudtrail"]
    return {"number": j, "origin": a["origin"], "sequence": a["sequence"], "size": a["size"],
            "root": va.b64(a["root"]), "source_kind": "cloudtrail",
            "normalization": f"built-in cloudtrail mapper (cloudtrail/{MAPPER_VERSIONS[-1]})",
            "signer": {"key": a["signer"], "name": CT_SIGNER_NAME, "fingerprint": ", ".join(ct["fingerprints"])},
            "events": d["events"], "sealed": ct["digests"][-1]["end"], "imported": d["imported"],
            "cloudtrail": {"label": ct["label"], "digests": ct["digests"], "logs": ct["logs"]}}


def main(argv):
    trust, auditors, aws_keys, bundles = [], [], [], []
    try:
        i = 0
        while i < len(argv):
            a = argv[i]
            if a == "--aws-keys":
                if i + 1 >= len(argv):
                    raise Usage(f"{a} needs a value")
                try:
                    with open(argv[i + 1], "rb") as f:
                        raw = f.read(CT_KEYS_MAX + 1)
                except OSError as e:
                    raise Usage(f"--aws-keys {argv[i + 1]}: cannot read: {e}") from None
                if len(raw) > CT_KEYS_MAX:
                    raise Usage(f"--aws-keys {argv[i + 1]}: larger than {CT_KEYS_MAX} bytes")
                try:
                    aws_keys += load_aws_keys(raw, f"--aws-keys {argv[i + 1]}", exact=False)
                except Fail as e:
                    raise Usage(str(e)) from None
                i += 1
            elif a in ("--trust", "--trust-auditor"):
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
        print("usage: verify_bundle.py [--trust KEY]... [--trust-auditor KEY]... [--aws-keys FILE]... BUNDLE.zip",
              file=sys.stderr)
        return 2
    try:
        status, message = verify(bundles[0], set(trust), set(auditors), aws_keys)
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
