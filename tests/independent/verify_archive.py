#!/usr/bin/env python3
r"""Independent verifier for AuditLens signed audit archives, format version 1.

Written from docs/archive-format.md ALONE (plus the public C2SP signed-note v1.0.0 and tlog-checkpoint
specifications, RFC 6962 section 2.1 and RFC 8032), without reading the Rust implementation. Its purpose is to
prove that the specification is precise enough for an independent implementation. Python 3.11 standard library
only.

Usage: python3 verify_archive.py [--trust KEYSTRING_OR_FILE]... ARCHIVE...

Prints one line per archive, in argument order, on stdout:
    OK <origin> <sequence> <events> <root base64>
    SEALED-ON-RECEIPT <origin> <sequence> <events> <root base64> <label>
    FAIL <reason>
An archive sealed on receipt (section 4.1, its manifest's `received` member) is never printed as OK: its signer
received the files, so its line gives the label `sealed on receipt by <key name> (<fingerprint>) at <at>: proves no
change since receipt, not authenticity at the source` (it still counts as verified for the exit status).
The continuity report of the set (section 6) goes to stderr, one line per origin (plus one per problem).
Exit status: 0 when every archive verifies under a trusted key and the set is continuous; 1 otherwise; 2 for a
usage error (bad option, no archive, a --trust value that is neither a readable key file nor a key string, an
archive path that does not exist).

SPEC AMBIGUITIES (section numbers refer to docs/archive-format.md). Each item says what this script does and,
in brackets, how `auditlens verify` behaved when probed as a black box with hand-made archives (its source was
not read). Items marked DIFFERS are the places where this verifier and `auditlens verify` disagree today.
  A1  (s2) "not a readable ZIP" is undefined: data before the first local header or after the end record, an
      archive comment, a local header whose name / method / flags disagree with the central directory, a
      central-directory uncompressed size that disagrees with the data. Here: Python's zipfile decides (it
      tolerates prepended/appended data and comments; the actual data size, not the declared one, is checked);
      in addition a local header whose name or compression method differs from its central-directory record is
      a failure (Python's zipfile itself refuses a differing name). [RESOLVED: the spec now requires it and auditlens
      refuses both; was: auditlens accepted both local-header
      mismatches; it agrees on prepended/appended data, comments, ZIP64, data descriptors, lying CD size.]
      [RESOLVED 2026-12-08: the spec now requires the entries to fill the file from its first byte to the central
      directory, then the end records to its last byte, without data descriptors (_check_layout): a second ZIP
      appended, or an entry outside the central directory, gave another reader other contents.]
  A2  (s2) A path that does not exist / cannot be read: verification failure or usage error? Here: a path
      that does not exist is a usage error (exit 2); one that exists but cannot be read as a file (a
      directory, no permission) or is not a ZIP is a FAIL line. [same for missing file and directory]
  A3  (s2) "a drive letter" is not defined (only `X:` at the start? any `:`?). Here: a name whose second
      character is `:`; moot, since only the exact names of the table are allowed anyway. [same verdicts]
  A4  (s2) Encryption: which flag bits? Here: general-purpose flag bit 0 or bit 6, central directory or local
      header. [same for bit 0 in the central directory]
  A5  (s2) `NNNNNN`: ASCII digits only? `events/000000.jsonl`, seven digits: "other entry"? Here: names must
      match `events/[0-9]{6}\.jsonl`, numbers 1..k with no gap; anything else is an unexpected entry. [same]
  A6  (s2/s4) May an `events/` entry be empty (0 bytes, 0 events) when the total is >= 1? The byte rules hold
      vacuously and nothing forbids it. Here: a failure, as auditlens does ("an events entry holds no event").
  A7  (s2) "a larger value is a failure": exactly 1 MiB / 64 KiB / 16 MiB is allowed; only strictly greater
      sizes fail. [same, probed at limit and limit+1 for all three]
  A8  (s4) The JSON dialect of `manifest.json` is not pinned: duplicate member names, `NaN`, lone-surrogate
      escapes, a UTF-8 BOM, `1.0` / `1e0` for integers, numbers above 2^64-1, negative numbers. Here: all
      failures (I-JSON, integers 0..2^64-1); trailing white space is allowed. [same for every one of these]
  A9  (s4) Members outside the MUST-check list (`created`, `time_range`, `tool`, `entries[].source`): are their
      types checked, are unknown members inside `time_range` / an `entries` object failures, must the times be
      RFC 3339 UTC, must `time_range` agree with the events? Here: JSON types are enforced, `time_range` is null
      or exactly {first, last} with string values, `entries` objects have exactly their four members; time
      FORMATS and the agreement with the events are NOT checked. [same: auditlens accepts `created:
      "yesterday"`, a non-UTC or reversed or wrong time_range, and rejects wrong types / extra members]
  A10 (s4) `sequence` "from 1" and `events` ">= 1": verifier checks? Here: 0 is a failure for both. [same]
  A11 (s5) Must the four extension lines appear in the listed order, separated by exactly one space? Here:
      yes. [same]
  A12 (s1/s5) base64 canonicality (zero pad bits) is not stated (Go's note package accepts non-zero pad bits).
      Here: every base64 value (hashes, key strings, signature lines) must re-encode to the same text. [same]
  A13 (s5) Signed-note details left to C2SP: trailing newline after the last signature line; well-formedness of
      signature lines from OTHER keys (valid name, valid base64, >= 5 bytes); maximum number of signature
      lines. Here: the note must end in `\n`, every signature line must be well-formed, and more than 100
      signature lines is a failure (the limit auditlens applies; the spec does not state it). [same]
  A14 (s5) Several signature lines matching the signer (name and key hash), one valid and one not. Here: EVERY
      matching line must verify. [same]
  A15 (s1/s5) "RFC 8032 section 5.1.7" prescribes the cofactored equation [8][S]B = [8]R + [8][k]A', while
      ed25519-dalek's `verify_strict` (also named) is cofactorless [S]B = R + [k]A; they differ for a mixed-order
      public key. Here: cofactorless, S < L, A and R must decode per RFC 8032 (canonical y < p, no x = 0 with sign
      bit 1) and must not be of small order. [same: a signature valid only under the cofactored equation, made
      with A' = A + (order-8 point), is rejected by both]
  A16 (s1) "Unicode spaces" in key names: which set? Here: the Unicode White_Space property (U+200B ZERO WIDTH
      SPACE is not in it). Control characters are excluded by signed-note. [same verdicts for U+00A0, U+3000,
      U+001C, U+200B]
  A17 (s5) "trusted" compares what: the key string, the public key, (name, key)? Here: the signer key string
      must equal a --trust key string; with A22 this is (name, public key). [same: same key under another name
      is untrusted]
  A18 (s5/s6) Is "sequence 1 MUST have a zero chain-start" a per-archive check or a set check? Here: per archive.
      [same]
  A19 (s6) Is an *overlap* a failure? Do "checkpoints differ" compare the whole `checkpoint` entry (so an added
      cosignature turns a copy into a "fork") or the signed note text? Here: an overlap makes the set not
      continuous (exit 1) and the whole `checkpoint` entry bytes are compared. [same]
  A20 (s6) Which archives take part in continuity: all, verified, trusted? May one origin be signed by several
      keys? Here: every archive that verified (trusted or not); several keys are allowed. [same verdicts]
  A21 (s2/s5) The section 2 size rule for `events/` entries depends on the manifest, which is only parsed and
      authenticated later in the section 5 order. Here: sizes are enforced while streaming the events, after the
      signature check. Verdicts are unaffected; only the first reported reason may differ.
  A22 (s1) The key hash is "8 lowercase hex digits". [RESOLVED: the spec now says written lowercase, read in
      either case (as Go's sumdb/note); this script follows it.]
  A23 (s1/s5) Nothing relates the signer's key name to the checkpoint origin (C2SP tlog-checkpoint: SHOULD
      match). Here: no relation is required. [same]

One file on purpose: it is handed to third parties as a single script (standard library only) that checks
archives without AuditLens.
"""

import base64
import binascii
import hashlib
import json
import os
import re
import struct
import sys
import zipfile
import zlib

# ---------------------------------------------------------------------------------------------------------
# Limits and names (sections 2 and 3)

MANIFEST_MAX = 1 << 20          # 1 MiB
CHECKPOINT_MAX = 64 << 10       # 64 KiB
LINE_MAX = 16 << 20             # 16 MiB, newline excluded
MAX_SIGNATURES = 100            # A13: not in the spec; the limit `auditlens verify` applies
U64_MAX = (1 << 64) - 1

LEAVES = "leaves"
MANIFEST = "manifest.json"
CHECKPOINT = "checkpoint"
MAPPING = "mapping.toml"
MAPPING_MAX = 1 << 20           # 1 MiB
EVENTS_RE = re.compile(r"events/([0-9]{6})\.jsonl\Z", re.ASCII)
SOURCE_KINDS = ("jsonl", "k8s", "cloudtrail", "github", "gcp", "teleport", "okta", "mapping")
MANIFEST_MEMBERS = {
    "format", "version", "origin", "sequence", "source_kind", "signer", "created", "events", "time_range",
    "entries", "tool",
}
ENTRY_MEMBERS = {"name", "events", "bytes", "source"}
RECEIPT_MEMBERS = {"at", "files"}
RECEIVED_FILE_MEMBERS = {"name", "sha256", "bytes", "entry"}
RECEIPT_MEANING = "proves no change since receipt, not authenticity at the source"
# Section 4.1: `at` is an RFC 3339 time (a `T` or `t` between date and time, 1 to 9 fraction digits, `Z`, `z` or a
# numeric offset; a time without a zone is read as UTC, as AuditLens reads times).
RFC3339_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?"
                        r"(?:[Zz]|[+-](\d{2}):(\d{2}))?\Z", re.ASCII)
HEX64_RE = re.compile(r"[0-9a-f]{64}\Z", re.ASCII)
EXTENSIONS = ("auditlens-sequence", "auditlens-chain-start", "auditlens-chain-end", "auditlens-manifest-sha256")
ZERO32 = bytes(32)


class Fail(Exception):
    """A verification failure of one archive (not a usage error)."""


class Usage(Exception):
    """A usage error: exit status 2."""


# ---------------------------------------------------------------------------------------------------------
# Ed25519 verification (RFC 8032 section 5.1.7, strict), after the reference code of RFC 8032 section 6.

ED_P = 2 ** 255 - 19
ED_L = 2 ** 252 + 27742317777372353535851937790883648493
ED_D = -121665 * pow(121666, ED_P - 2, ED_P) % ED_P
ED_SQRT_M1 = pow(2, (ED_P - 1) // 4, ED_P)
ED_IDENTITY = (0, 1, 1, 0)


def _ed_add(P, Q):
    a = (P[1] - P[0]) * (Q[1] - Q[0]) % ED_P
    b = (P[1] + P[0]) * (Q[1] + Q[0]) % ED_P
    c = 2 * P[3] * Q[3] * ED_D % ED_P
    d = 2 * P[2] * Q[2] % ED_P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % ED_P, g * h % ED_P, f * g % ED_P, e * h % ED_P)


def _ed_mul(s, P):
    Q = ED_IDENTITY
    while s > 0:
        if s & 1:
            Q = _ed_add(Q, P)
        P = _ed_add(P, P)
        s >>= 1
    return Q


def _ed_equal(P, Q):
    return (P[0] * Q[2] - Q[0] * P[2]) % ED_P == 0 and (P[1] * Q[2] - Q[1] * P[2]) % ED_P == 0


def _ed_recover_x(y, sign):
    if y >= ED_P:
        return None                                  # non-canonical encoding
    x2 = (y * y - 1) * pow(ED_D * y * y + 1, ED_P - 2, ED_P) % ED_P
    if x2 == 0:
        return None if sign else 0                   # x = 0 with sign bit 1 is invalid
    x = pow(x2, (ED_P + 3) // 8, ED_P)
    if (x * x - x2) % ED_P != 0:
        x = x * ED_SQRT_M1 % ED_P
    if (x * x - x2) % ED_P != 0:
        return None                                  # not on the curve
    if (x & 1) != sign:
        x = ED_P - x
    return x


def _ed_decode(b):
    if len(b) != 32:
        return None
    y = int.from_bytes(b, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _ed_recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % ED_P)


_ED_GY = 4 * pow(5, ED_P - 2, ED_P) % ED_P
_ED_GX = _ed_recover_x(_ED_GY, 0)
ED_B = (_ED_GX, _ED_GY, 1, _ED_GX * _ED_GY % ED_P)


def _ed_small_order(P):
    return _ed_equal(_ed_mul(8, P), ED_IDENTITY)


def ed25519_verify_strict(public, msg, sig):
    """True when `sig` is a valid strict Ed25519 signature of `msg` by the 32-byte `public` key."""
    if len(public) != 32 or len(sig) != 64:
        return False
    A = _ed_decode(public)
    R = _ed_decode(sig[:32])
    if A is None or R is None:
        return False
    S = int.from_bytes(sig[32:], "little")
    if S >= ED_L:
        return False
    if _ed_small_order(A) or _ed_small_order(R):
        return False
    k = int.from_bytes(hashlib.sha512(sig[:32] + public + msg).digest(), "little") % ED_L
    return _ed_equal(_ed_mul(S, ED_B), _ed_add(R, _ed_mul(k, A)))


# ---------------------------------------------------------------------------------------------------------
# Encodings

def b64decode_canonical(text, what):
    """Standard padded base64 (RFC 4648 s4), canonical: re-encoding must give back the same text (A12)."""
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text, re.ASCII) or len(text) % 4:
        raise Fail(f"{what}: not padded standard base64")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Fail(f"{what}: not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise Fail(f"{what}: non-canonical base64")
    return raw


def b64(raw):
    return base64.b64encode(raw).decode("ascii")


def decode_hash(text, what):
    if len(text) != 44:
        raise Fail(f"{what}: a hash must be 44 base64 characters")
    raw = b64decode_canonical(text, what)
    if len(raw) != 32:
        raise Fail(f"{what}: not 32 bytes")
    return raw


def parse_decimal(text, what):
    """Decimal without leading zeros (`0` itself allowed syntactically), at most 2^64-1."""
    if not re.fullmatch(r"0|[1-9][0-9]*", text, re.ASCII):
        raise Fail(f"{what}: not a decimal number without leading zeros: {text!r}")
    v = int(text)
    if v > U64_MAX:
        raise Fail(f"{what}: number too large")
    return v


# Unicode White_Space property (A16)
_WHITE_SPACE = set(map(chr, [*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
                             0x2028, 0x2029, 0x202F, 0x205F, 0x3000]))


def valid_key_name(name):
    return (name != "" and "+" not in name and not any(c in _WHITE_SPACE for c in name)
            and not any(ord(c) < 0x20 for c in name))


def key_hash(name, public):
    return hashlib.sha256(name.encode("utf-8") + b"\n\x01" + public).digest()[:4]


class VerifierKey:
    def __init__(self, text):
        """Parses `<name>+<hash>+<base64(0x01 || public key)>`; raises ValueError with a reason."""
        self.text = text
        parts = text.split("+", 2)       # the name has no "+", the base64 key may have some
        if len(parts) != 3:
            raise ValueError("a key string is <name>+<hash>+<base64 key>")
        name, hexhash, keyb64 = parts
        if not valid_key_name(name):
            raise ValueError(f"invalid key name {name!r}")
        if not re.fullmatch(r"[0-9a-fA-F]{8}", hexhash, re.ASCII):
            raise ValueError("key hash is not 8 hex digits")
        try:
            raw = b64decode_canonical(keyb64, "key")
        except Fail as e:
            raise ValueError(str(e)) from None
        if len(raw) != 33 or raw[0] != 0x01:
            raise ValueError("key is not 0x01 followed by a 32-byte Ed25519 public key")
        self.name = name
        self.public = raw[1:]
        self.hash = bytes.fromhex(hexhash)
        if key_hash(name, self.public) != self.hash:
            raise ValueError("key hash does not match SHA-256(name || 0x0A || 0x01 || key)")


# ---------------------------------------------------------------------------------------------------------
# Merkle tree (RFC 6962 s2.1) and hash chain (s5)

def leaf_hash(line):
    return hashlib.sha256(b"\x00" + line).digest()


class RootBuilder:
    """Incremental RFC 6962 root: a stack of perfect subtrees, folded right to left at the end."""

    def __init__(self):
        self.stack = []   # (height, hash)
        self.n = 0

    def push(self, leaf):
        node, h = leaf, 0
        while self.stack and self.stack[-1][0] == h:
            _, left = self.stack.pop()
            node = hashlib.sha256(b"\x01" + left + node).digest()
            h += 1
        self.stack.append((h, node))
        self.n += 1

    def root(self):
        if not self.stack:
            return hashlib.sha256(b"").digest()
        node = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            node = hashlib.sha256(b"\x01" + left + node).digest()
        return node


def chain_step(c, leaf):
    return hashlib.sha256(b"\x02" + c + leaf).digest()


# ---------------------------------------------------------------------------------------------------------
# Container (section 2)

def _check_local_header(fp, info):
    """A1/A4: the local header must agree with the central directory on name, method and encryption."""
    fp.seek(info.header_offset)
    head = fp.read(30)
    if len(head) != 30 or head[:4] != b"PK\x03\x04":
        raise Fail(f"{info.orig_filename}: bad local header")
    (_sig, _ver, flags, method, _t, _d, _crc, _cs, _us, nlen, _elen) = struct.unpack("<4sHHHHHIIIHH", head)
    name = fp.read(nlen)
    if flags & 0x41:
        raise Fail(f"{info.orig_filename}: encrypted entry")
    if method != info.compress_type:
        raise Fail(f"{info.orig_filename}: local header compression method differs from the central directory")
    cd_name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
    if name != cd_name:
        raise Fail(f"{info.orig_filename}: local header name differs from the central directory")


def _check_layout(fp, zf):
    """A1: the file is exactly its entries, one after another from its first byte, then the central directory and
    its end records, ending at the file's last byte: nothing before, between or after them (no entry outside the
    directory for a reader that walks the local headers, no second archive appended for a reader that takes
    another end record than this one), and no data descriptor after an entry's data."""
    size = fp.seek(0, 2)
    spans = []
    for info in zf.infolist():
        fp.seek(info.header_offset)
        head = fp.read(30)
        if len(head) != 30 or head[:4] != b"PK\x03\x04":
            raise Fail(f"{info.orig_filename}: bad local header")
        (flags,) = struct.unpack("<H", head[6:8])
        nlen, elen = struct.unpack("<HH", head[26:30])
        if flags & 0x08:
            raise Fail(f"{info.orig_filename}: a data descriptor follows the entry's data")
        start = info.header_offset
        spans.append((start, start + 30 + nlen + elen + info.compress_size, info.orig_filename))
    spans.sort()
    at = 0
    for start, end, name in spans:
        if start > at:
            raise Fail(f"{start - at} bytes at offset {at} belong to no entry")
        if start < at:
            raise Fail(f"{name}: entries overlap")
        at = end
    if at != zf.start_dir:
        raise Fail("the entries do not end where the central directory starts")
    cd = zf.start_dir
    for _ in zf.infolist():
        fp.seek(cd)
        record = fp.read(46)
        if len(record) != 46 or record[:4] != b"PK\x01\x02":
            raise Fail("the central directory holds fewer records than entries")
        n, m, k = struct.unpack("<HHH", record[28:34])
        cd += 46 + n + m + k
    fp.seek(cd)
    head = fp.read(12)
    eocd = cd
    if head[:4] == b"PK\x06\x06" and len(head) == 12:
        (rest,) = struct.unpack("<Q", head[4:12])
        fp.seek(cd + 12 + rest)
        locator = fp.read(20)
        if len(locator) != 20 or locator[:4] != b"PK\x06\x07":
            raise Fail("no ZIP64 end record locator after the ZIP64 end record")
        eocd = cd + 12 + rest + 20
    fp.seek(eocd)
    end = fp.read(22)
    if len(end) != 22 or end[:4] != b"PK\x05\x06":
        raise Fail("the end record does not follow the central directory")
    (comment,) = struct.unpack("<H", end[20:22])
    if eocd + 22 + comment != size:
        raise Fail(f"the file does not end with the end record that follows the central directory "
                   f"({size - eocd - 22 - comment} bytes)")


def open_container(path, fp):
    try:
        zf = zipfile.ZipFile(fp)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, struct.error,
            NotImplementedError, UnicodeDecodeError) as e:
        raise Fail(f"not a readable ZIP: {e}") from None
    infos = zf.infolist()
    seen = set()
    events = {}
    for info in infos:
        name = info.orig_filename           # raw name: zipfile cuts `filename` at a NUL
        if name in seen:
            raise Fail(f"entry {name!r} appears twice")
        seen.add(name)
        if ("\x00" in name or ".." in name or name.startswith("/") or "\\" in name
                or (len(name) >= 2 and name[1] == ":")):
            raise Fail(f"forbidden entry name {name!r}")
        m = EVENTS_RE.match(name)
        if m:
            events[int(m.group(1))] = info
        elif name not in (LEAVES, MANIFEST, CHECKPOINT, MAPPING):
            raise Fail(f"unexpected entry {name!r}")
        if info.flag_bits & 0x41:
            raise Fail(f"{name}: encrypted entry")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Fail(f"{name}: compression method {info.compress_type} (only 0 and 8 allowed)")
        _check_local_header(fp, info)
    _check_layout(fp, zf)
    for required in (LEAVES, MANIFEST, CHECKPOINT):
        if required not in seen:
            raise Fail(f"missing entry {required!r}")
    if not events:
        raise Fail("no events/ entry")
    if sorted(events) != list(range(1, len(events) + 1)):
        raise Fail("events/ entries are not numbered 000001.. without gap")
    by_name = {i.orig_filename: i for i in infos}
    event_names = [events[k].orig_filename for k in sorted(events)]
    return zf, by_name, event_names


class BoundedReader:
    """Reads an entry, never more than `limit + 1` bytes; CRC is checked by zipfile at the end of data."""

    def __init__(self, zf, info, limit, what):
        self.what = what
        self.limit = limit
        self.total = 0
        try:
            self.f = zf.open(info)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError,
                zlib.error) as e:
            raise Fail(f"{what}: cannot read entry: {e}") from None

    def read(self, n=1 << 20):
        want = min(n, self.limit + 1 - self.total)
        if want <= 0:
            return b""
        try:
            data = self.f.read(want)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as e:
            # CRC-32 mismatch, truncated or corrupt deflate stream, ...
            raise Fail(f"{self.what}: {e}") from None
        self.total += len(data)
        if self.total > self.limit:
            raise Fail(f"{self.what}: larger than {self.limit} bytes")
        return data

    def read_all(self):
        out = bytearray()
        while True:
            chunk = self.read()
            if not chunk:
                return bytes(out)
            out += chunk


# ---------------------------------------------------------------------------------------------------------
# Signed note (C2SP signed-note v1.0.0) and checkpoint body (section 5)

def parse_note(raw):
    """Returns (text_bytes, [(name, key_id_bytes, sig_bytes)])."""
    try:
        s = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Fail("checkpoint: not valid UTF-8") from None
    if any(ord(c) < 0x20 and c != "\n" for c in s):
        raise Fail("checkpoint: control character other than newline")
    if not s.endswith("\n"):
        raise Fail("checkpoint: does not end in a newline")
    split = s.rfind("\n\n")
    if split < 0:
        raise Fail("checkpoint: no blank line between text and signatures")
    text, sig_block = s[:split + 1], s[split + 2:]
    if sig_block == "":
        raise Fail("checkpoint: no signature lines")
    sig_lines = sig_block[:-1].split("\n")
    if len(sig_lines) > MAX_SIGNATURES:
        raise Fail(f"checkpoint: more than {MAX_SIGNATURES} signature lines")
    sigs = []
    for line in sig_lines:
        if not line.startswith("\u2014 "):
            raise Fail(f"checkpoint: malformed signature line {line!r}")
        rest = line[2:]
        parts = rest.split(" ")
        if len(parts) != 2:
            raise Fail(f"checkpoint: malformed signature line {line!r}")
        name, sigb64 = parts
        if not valid_key_name(name):
            raise Fail(f"checkpoint: invalid key name in signature line {name!r}")
        blob = b64decode_canonical(sigb64, "checkpoint signature")
        if len(blob) < 5:
            raise Fail("checkpoint: signature too short")
        sigs.append((name, blob[:4], blob[4:]))
    return text.encode("utf-8"), sigs


def parse_checkpoint_body(text):
    s = text.decode("utf-8")
    lines = s[:-1].split("\n")            # text ends in "\n" (parse_note)
    if len(lines) != 7:
        raise Fail(f"checkpoint: expected 3 lines and 4 extension lines, got {len(lines)} lines")
    if any(line == "" for line in lines):
        raise Fail("checkpoint: empty line in the note text")
    cp = {"origin": lines[0]}
    cp["size"] = parse_decimal(lines[1], "checkpoint tree size")
    cp["root"] = decode_hash(lines[2], "checkpoint root hash")
    values = []
    for line, key in zip(lines[3:], EXTENSIONS):
        prefix = key + " "
        if not line.startswith(prefix):
            raise Fail(f"checkpoint: expected extension line {key!r}, got {line!r}")
        values.append(line[len(prefix):])
    cp["sequence"] = parse_decimal(values[0], "auditlens-sequence")
    cp["chain_start"] = decode_hash(values[1], "auditlens-chain-start")
    cp["chain_end"] = decode_hash(values[2], "auditlens-chain-end")
    cp["manifest_sha256"] = decode_hash(values[3], "auditlens-manifest-sha256")
    return cp


# ---------------------------------------------------------------------------------------------------------
# Manifest (section 4)

def _reject_constant(c):
    raise ValueError(f"{c} is not JSON")


def _no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError(f"duplicate member {k!r}")
        obj[k] = v
    return obj


def _check_strings(v):
    """Rejects lone surrogates (not representable in UTF-8) anywhere in a JSON value (A8)."""
    if isinstance(v, str):
        v.encode("utf-8")
    elif isinstance(v, list):
        for x in v:
            _check_strings(x)
    elif isinstance(v, dict):
        for k, x in v.items():
            _check_strings(k)
            _check_strings(x)


def _uint(v, what):
    if type(v) is not int or v < 0 or v > U64_MAX:
        raise Fail(f"manifest: {what} is not an unsigned integer")
    return v


def _str(v, what):
    if type(v) is not str:
        raise Fail(f"manifest: {what} is not a string")
    return v


def is_rfc3339(text):
    m = RFC3339_RE.match(text)
    if not m:
        return False
    y, mo, d, h, mi, s, oh, om = (int(g) if g is not None else 0 for g in m.groups())
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return 1 <= mo <= 12 and 1 <= d <= days[mo - 1] and h <= 23 and mi <= 59 and s <= 59 and oh <= 23 and om <= 59


def check_receipt(m):
    """Section 4.1: the `received` member of an archive sealed on receipt."""
    r = m["received"]
    if type(r) is not dict or set(r) != RECEIPT_MEMBERS:
        raise Fail("manifest: received is not an object with exactly the members at, files")
    if not is_rfc3339(_str(r["at"], "received.at")):
        raise Fail(f"manifest: received.at {r['at']!r} is not an RFC 3339 time")
    if type(r["files"]) is not list:
        raise Fail("manifest: received.files is not an array")
    named = []
    for i, f in enumerate(r["files"]):
        if type(f) is not dict or set(f) != RECEIVED_FILE_MEMBERS:
            raise Fail(f"manifest: received.files[{i}] does not have exactly the members name, sha256, bytes, entry")
        _str(f["name"], f"received.files[{i}].name")
        if not HEX64_RE.match(_str(f["sha256"], f"received.files[{i}].sha256")):
            raise Fail(f"manifest: received.files[{i}].sha256 is not 64 lowercase hexadecimal digits")
        _uint(f["bytes"], f"received.files[{i}].bytes")
        if f["entry"] is not None:
            named.append((_str(f["entry"], f"received.files[{i}].entry"), f["name"]))
    expected = [(e["name"], e["source"]) for e in m["entries"]]
    if named != expected:
        raise Fail(f"manifest: received.files name the entries {named}, not the events entries and their sources "
                   f"{expected}")


def fingerprint(key):
    """Section 1: `SHA256:` and the unpadded base64 SHA-256 of 0x01 and the public key."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(b"\x01" + key.public).digest()).decode().rstrip("=")


def receipt_label(m):
    """Section 4.1: the label of an archive sealed on receipt, shown instead of "verified"."""
    key = m["signer_key"]
    return f"sealed on receipt by {key.name} ({fingerprint(key)}) at {m['received']['at']}: {RECEIPT_MEANING}"


def parse_manifest(raw):
    try:
        s = raw.decode("utf-8")
        m = json.loads(s, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
        _check_strings(m)
    except (UnicodeError, ValueError) as e:
        raise Fail(f"manifest: not valid UTF-8 JSON: {e}") from None
    if type(m) is not dict:
        raise Fail("manifest: not a JSON object")
    keys = set(m)
    # `mapping_sha256` is present exactly when source_kind is "mapping" (checked below).
    # `received` is present exactly when the archive was sealed on receipt (section 4.1).
    expected = MANIFEST_MEMBERS | ({"mapping_sha256"} if "mapping_sha256" in keys else set()) | (
        {"received"} if "received" in keys else set())
    if keys != expected:
        extra, missing = sorted(keys - expected), sorted(expected - keys)
        raise Fail(f"manifest: unknown members {extra} / missing members {missing}")
    if _str(m["format"], "format") != "auditlens-archive":
        raise Fail(f"manifest: format is {m['format']!r}")
    if type(m["version"]) is not int or m["version"] != 1:
        raise Fail(f"manifest: version {m['version']!r} is not 1")
    _str(m["origin"], "origin")
    if _uint(m["sequence"], "sequence") < 1:
        raise Fail("manifest: sequence must be >= 1")
    if _str(m["source_kind"], "source_kind") not in SOURCE_KINDS:
        raise Fail(f"manifest: unknown source_kind {m['source_kind']!r}")
    if (m["source_kind"] == "mapping") != ("mapping_sha256" in m):
        raise Fail("manifest: mapping_sha256 must be present exactly when source_kind is \"mapping\"")
    if "mapping_sha256" in m:
        m["mapping_digest"] = decode_hash(_str(m["mapping_sha256"], "mapping_sha256"), "manifest mapping_sha256")
    try:
        m["signer_key"] = VerifierKey(_str(m["signer"], "signer"))
    except ValueError as e:
        raise Fail(f"manifest: signer does not parse: {e}") from None
    _str(m["created"], "created")
    if _uint(m["events"], "events") < 1:
        raise Fail("manifest: events must be >= 1")
    tr = m["time_range"]
    if tr is not None:
        if type(tr) is not dict or set(tr) != {"first", "last"}:
            raise Fail("manifest: time_range is neither null nor {first, last}")
        _str(tr["first"], "time_range.first")
        _str(tr["last"], "time_range.last")
    if type(m["entries"]) is not list:
        raise Fail("manifest: entries is not an array")
    for i, e in enumerate(m["entries"]):
        if type(e) is not dict or set(e) != ENTRY_MEMBERS:
            raise Fail(f"manifest: entries[{i}] does not have exactly the members name, events, bytes, source")
        _str(e["name"], f"entries[{i}].name")
        _uint(e["events"], f"entries[{i}].events")
        _uint(e["bytes"], f"entries[{i}].bytes")
        _str(e["source"], f"entries[{i}].source")
    _str(m["tool"], "tool")
    if "received" in m:
        check_receipt(m)
    return m


# ---------------------------------------------------------------------------------------------------------
# One archive

def verify_archive(path, trusted):
    """Returns a dict (origin, sequence, events, root, chain_start, chain_end, note_text, signer, trusted);
    raises Fail. Order of checks as section 5 lists it."""
    try:
        fp = open(path, "rb")
    except OSError as e:
        raise Fail(f"not a readable ZIP: {e.strerror}") from None
    with fp:
        zf, infos, event_names = open_container(path, fp)

        # checkpoint size and note syntax, then body syntax
        cp_raw = BoundedReader(zf, infos[CHECKPOINT], CHECKPOINT_MAX, CHECKPOINT).read_all()
        note_text, sigs = parse_note(cp_raw)
        cp = parse_checkpoint_body(note_text)

        # manifest parse and rules (those not needing the events)
        man_raw = BoundedReader(zf, infos[MANIFEST], MANIFEST_MAX, MANIFEST).read_all()
        m = parse_manifest(man_raw)
        names = [e["name"] for e in m["entries"]]
        if names != event_names:
            raise Fail(f"manifest: entries {names} are not the events/ entries of the ZIP {event_names}")
        total = sum(e["events"] for e in m["entries"])
        if total != m["events"]:
            raise Fail(f"manifest: entries hold {total} events, events says {m['events']}")
        if m["events"] != cp["size"]:
            raise Fail(f"manifest: events {m['events']} != checkpoint size {cp['size']}")
        if m["origin"] != cp["origin"]:
            raise Fail(f"manifest: origin {m['origin']!r} != checkpoint origin {cp['origin']!r}")
        if m["sequence"] != cp["sequence"]:
            raise Fail(f"manifest: sequence {m['sequence']} != checkpoint sequence {cp['sequence']}")
        if cp["sequence"] == 1 and cp["chain_start"] != ZERO32:
            raise Fail("checkpoint: sequence 1 with a non-zero chain-start")
        if (MAPPING in infos) != (m["source_kind"] == "mapping"):
            raise Fail("mapping.toml must be present exactly when source_kind is \"mapping\"")

        # signature by the manifest's signer
        signer = m["signer_key"]
        matching = [sig for (name, kid, sig) in sigs if name == signer.name and kid == signer.hash]
        if not matching:
            raise Fail(f"checkpoint: no signature line by the manifest's signer {signer.name}+{signer.hash.hex()}")
        for sig in matching:
            if not ed25519_verify_strict(signer.public, note_text, sig):
                raise Fail(f"checkpoint: signature by {signer.name} does not verify")

        # manifest SHA-256
        if hashlib.sha256(man_raw).digest() != cp["manifest_sha256"]:
            raise Fail("manifest: SHA-256 differs from auditlens-manifest-sha256 (manifest changed)")

        # mapping.toml SHA-256 (its bytes are covered through the signed manifest)
        if MAPPING in infos:
            mapping = BoundedReader(zf, infos[MAPPING], MAPPING_MAX, MAPPING).read_all()
            if hashlib.sha256(mapping).digest() != m["mapping_digest"]:
                raise Fail("mapping.toml: SHA-256 differs from the manifest's mapping_sha256 (mapping changed)")

        # events, byte rules and leaves, streaming
        n = m["events"]
        leaves = BoundedReader(zf, infos[LEAVES], 32 * n, LEAVES).read_all()
        if len(leaves) != 32 * n:
            raise Fail(f"leaves: {len(leaves)} bytes, expected 32 x {n}")
        root = RootBuilder()
        chain = cp["chain_start"]
        index = 0
        for entry in m["entries"]:
            name = entry["name"]
            reader = BoundedReader(zf, infos[name], entry["bytes"], name)
            buf = bytearray()
            line_no = 0
            entry_events = 0
            while True:
                chunk = reader.read()
                if not chunk:
                    break
                buf += chunk
                start = 0
                while True:
                    nl = buf.find(b"\n", start)
                    if nl < 0:
                        break
                    line = bytes(buf[start:nl])
                    start = nl + 1
                    line_no += 1
                    _check_line(name, line_no, index, line)
                    leaf = leaf_hash(line)
                    if index >= n:
                        raise Fail(f"{name} line {line_no}: more events than the manifest declares ({n})")
                    expected = leaves[32 * index:32 * index + 32]
                    if leaf != expected:
                        raise Fail(f"{name} line {line_no} (event {index}): leaf mismatch: leaves has "
                                   f"{b64(expected)}, computed {b64(leaf)}")
                    root.push(leaf)
                    chain = chain_step(chain, leaf)
                    index += 1
                    entry_events += 1
                del buf[:start]
                if len(buf) > LINE_MAX:
                    raise Fail(f"{name} line {line_no + 1}: longer than {LINE_MAX} bytes")
            if buf:
                raise Fail(f"{name} line {line_no + 1}: last line not terminated by a newline")
            if reader.total != entry["bytes"]:
                raise Fail(f"{name}: {reader.total} bytes, manifest declares {entry['bytes']}")
            if entry_events == 0:
                raise Fail(f"{name}: holds no event (A6)")
            if entry_events != entry["events"]:
                raise Fail(f"{name}: {entry_events} events, manifest declares {entry['events']}")

        # counts, Merkle root, chain end
        if index != n:
            raise Fail(f"{index} events, manifest declares {n}")
        r = root.root()
        if r != cp["root"]:
            raise Fail(f"Merkle root {b64(r)} != checkpoint root {b64(cp['root'])}")
        if chain != cp["chain_end"]:
            raise Fail(f"chain end {b64(chain)} != checkpoint chain-end {b64(cp['chain_end'])}")

        return {
            "origin": cp["origin"], "sequence": cp["sequence"], "events": n, "root": r,
            "chain_start": cp["chain_start"], "chain_end": cp["chain_end"], "checkpoint": cp_raw,
            "signer": signer.text, "trusted": signer.text in trusted,
            "received": receipt_label(m) if "received" in m else None,
        }


def _check_line(name, line_no, index, line):
    where = f"{name} line {line_no} (event {index})"
    if len(line) > LINE_MAX:
        raise Fail(f"{where}: longer than {LINE_MAX} bytes")
    if not line:
        raise Fail(f"{where}: empty line")
    if line.endswith(b"\r"):
        raise Fail(f"{where}: ends in \\r")
    if line[:1] != b"{" or line[-1:] != b"}":
        raise Fail(f"{where}: does not begin with {{ and end with }}")
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        raise Fail(f"{where}: not valid UTF-8") from None


# ---------------------------------------------------------------------------------------------------------
# Sets of archives (section 6)

def check_continuity(results):
    """results: list of (path, info) for archives that verified. Returns (ok, report lines)."""
    ok = True
    report = []
    origins = {}
    for path, info in results:
        origins.setdefault(info["origin"], []).append((path, info))
    for origin in sorted(origins):
        items = sorted(origins[origin], key=lambda pi: pi[1]["sequence"])
        problems = []
        prev = None
        for path, info in items:
            if prev is not None:
                ppath, pinfo = prev
                if info["sequence"] == pinfo["sequence"]:
                    if info["checkpoint"] == pinfo["checkpoint"]:
                        problems.append(f"overlap: sequence {info['sequence']} given twice ({ppath}, {path})")
                    else:
                        problems.append(f"fork: sequence {info['sequence']} has two different checkpoints "
                                        f"({ppath}, {path})")
                elif info["sequence"] != pinfo["sequence"] + 1:
                    problems.append(f"gap: sequences {pinfo['sequence'] + 1}..{info['sequence'] - 1} missing "
                                    f"between {ppath} and {path}")
                elif info["chain_start"] != pinfo["chain_end"]:
                    problems.append(f"broken link (fork): {path} (sequence {info['sequence']}) does not continue "
                                    f"the chain of {ppath}")
            prev = (path, info)
        lo, hi = items[0][1]["sequence"], items[-1][1]["sequence"]
        if problems:
            ok = False
            report.append(f"origin {origin}: NOT CONTINUOUS")
            report.extend("  " + p for p in problems)
        else:
            start = "the start of the log" if lo == 1 else "NOT the start of the log"
            report.append(f"origin {origin}: sequences {lo}..{hi} continuous; the verified chain starts at "
                          f"sequence {lo} ({start})")
    return ok, report


# ---------------------------------------------------------------------------------------------------------
# Command line

def load_trust(value):
    text = value
    if os.path.exists(value):
        try:
            with open(value, "rb") as f:
                text = f.read().decode("utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise Usage(f"--trust {value}: cannot read: {e}") from None
    try:
        return VerifierKey(text).text
    except ValueError as e:
        raise Usage(f"--trust {value}: not a verifier key file or key string: {e}") from None


def parse_args(argv):
    trust, archives = [], []
    i = 0
    only_files = False
    while i < len(argv):
        a = argv[i]
        if not only_files and a == "--":
            only_files = True
        elif not only_files and a == "--trust":
            if i + 1 >= len(argv):
                raise Usage("--trust needs a value")
            trust.append(argv[i + 1])
            i += 1
        elif not only_files and a.startswith("--trust="):
            trust.append(a[len("--trust="):])
        elif not only_files and a in ("-h", "--help"):
            print("\n\n".join(__doc__.split("\n\n")[2:4]))
            sys.exit(0)
        elif not only_files and a.startswith("-") and a != "-":
            raise Usage(f"unknown option {a}")
        else:
            archives.append(a)
        i += 1
    if not archives:
        raise Usage("no archive given")
    return trust, archives


def main(argv):
    try:
        trust_args, archives = parse_args(argv)
        trusted = {load_trust(t) for t in trust_args}
        for a in archives:           # A2: an archive path that does not exist is a usage error
            if not os.path.exists(a):
                raise Usage(f"{a}: no such file")
    except Usage as e:
        print(f"usage error: {e}", file=sys.stderr)
        print("usage: verify_archive.py [--trust KEYSTRING_OR_FILE]... ARCHIVE...", file=sys.stderr)
        return 2
    all_ok = True
    verified = []
    lines = []
    for path in archives:
        try:
            info = verify_archive(path, trusted)
        except Fail as e:
            lines.append(f"FAIL {path}: {e}")
            all_ok = False
            continue
        except Usage as e:
            print(f"usage error: {e}", file=sys.stderr)
            return 2
        verified.append((path, info))
        if info["trusted"] and info["received"]:
            lines.append(f"SEALED-ON-RECEIPT {info['origin']} {info['sequence']} {info['events']} "
                         f"{b64(info['root'])} {info['received']}")
        elif info["trusted"]:
            lines.append(f"OK {info['origin']} {info['sequence']} {info['events']} {b64(info['root'])}")
        else:
            lines.append(f"FAIL {path}: valid signature but untrusted key {info['signer']}")
            all_ok = False
    for line in lines:
        print(line)
    continuous, report = check_continuity(verified)
    for line in report:
        print(line, file=sys.stderr)
    return 0 if all_ok and continuous else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
