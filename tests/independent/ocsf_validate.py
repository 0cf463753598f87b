#!/usr/bin/env python3
r"""Independent OCSF 1.1.0 validator for `auditlens export-parquet` output (docs/ocsf-export.md).

Written from the OCSF schema sources (tests/fixtures/ocsf/, copied byte for byte from ocsf/ocsf-schema v1.1.0) and
docs/ocsf-export.md, without reading the Rust exporter. Python 3.11 standard library and duckdb.

Usage:
    python3 ocsf_validate.py [--schema DIR] [--max-errors N] [--max-warnings N] [--warn-only CODE[@PATH]]...
                             [--recommended] [--rows-per-file N] EXPORT_DIR
    python3 ocsf_validate.py --self-test

Every `<class>/region=*/accountId=*/eventDay=*/part-NNNNN-<export id>.parquet` under EXPORT_DIR is read with duckdb
(`SELECT * FROM read_parquet(file, hive_partitioning=false)`; structs become dicts, lists lists) and every row is
checked against the class its folder names (api_activity, authentication, account_change):

  * the schema is resolved as the OCSF server does: `$include` files merged under the including file's own
    attributes (an attribute included from profiles/X.json is marked `profile: X` unless the file says otherwise, so
    API Activity's `"api": {"profile": null}` is not a profile attribute), `extends` merged parent first with the
    child winning, then each attribute merged over its dictionary.json entry (class and object definitions win:
    requirement, description, enum values are added to the dictionary's), class_uid's enum is the class's own
    `category uid * 1000 + uid`, category_uid's the class's category, and the datetime profile adds `<name>_dt`
    (datetime_t) next to every timestamp_t attribute;
  * as the OCSF server's validator does (lib/schema/validator2.ex), an attribute of a profile is known only when
    metadata.profiles lists the profile; a missing (null) attribute marked "required" is an error; a non-null value
    must have the dictionary type (integer_t/long_t: an integer, string_t and its subtypes: a string no longer than
    max_len, boolean_t, float_t, objects: a struct, is_array: a list) and an enum attribute a value of its enum;
    objects are checked the same way, recursively (metadata, product, actor, user, account, api, service, request,
    resource_details, network_endpoint, http_request, cloud ...); a non-null attribute the class or object does not
    define is an error; `at_least_one` / `just_one` constraints of classes and objects are errors;
  * type_uid must be class_uid * 100 + activity_id, class_uid must be the folder's class, metadata.version the
    schema's version (1.1.0), and every metadata.profiles entry a profile of the schema.

Warnings (never fail the run): a sibling string that is not its enum's caption (`activity_name` of 1 is not
"Create"), a 99 (Other) whose sibling is the caption "Other" instead of the source's own name, a value that does not
match its type's regex (ip_t, hostname_t, ...), and with --recommended a missing "recommended" attribute.

Parquet-specific readings (OCSF is defined over JSON): a null is an absent attribute (one schema serves three
classes, so a column a class does not use is null); a struct whose fields are all null is a present, empty object;
a TIMESTAMP value is accepted for datetime_t (OCSF's string form is RFC 3339 text, which is accepted too); a MAP is
an object. Top-level columns named `auditlens_*` are the spec's provenance columns, not OCSF: they are listed, not
checked (a strict OCSF validator reports them as unknown attributes).

--warn-only CODE[@PATH] turns the errors of CODE (at attribute PATH, array indexes left out, e.g.
`attribute_value_exceeds_max_len@raw_data`) into warnings. --rows-per-file N checks the first N rows of each file.

Output: one line per error (file, row number counted from 0 within the file, metadata.uid, code, attribute path,
message; every text from the data is quoted with control and non-ASCII characters escaped), then a summary.
Exit status: 0 no error; 1 errors found; 2 usage error, unreadable schema or export, no Parquet file.
"""

import argparse
import datetime
import json
import os
import re
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.normpath(os.path.join(HERE, "..", "fixtures", "ocsf"))
PROVENANCE_PREFIX = "auditlens_"
PART_RE = re.compile(r"([a-z_]+)/region=([A-Za-z0-9_-]{1,64})/accountId=([A-Za-z0-9_-]{1,64})/"
                     r"eventDay=([0-9]{8})/part-[0-9]{5}-[0-9a-f]{12}\.parquet\Z", re.ASCII)
INT64 = (-(1 << 63), (1 << 63) - 1)
INT128 = (-(1 << 127), (1 << 127) - 1)


class Usage(Exception):
    pass


def q(value, limit=120):
    """A value from the data, safe to print: JSON-quoted, control and non-ASCII characters escaped, shortened."""
    try:
        text = json.dumps(value, ensure_ascii=True, default=str)
    except (TypeError, ValueError):
        text = json.dumps(repr(value), ensure_ascii=True)
    return text if len(text) <= limit else text[:limit] + f"...({len(text)} chars)"


def deep_merge(base, over):
    """Dicts merged recursively, `over` winning; anything else (None included) in `over` replaces."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = deep_merge(base[k], v) if k in base else v
        return out
    return over


# ---------------------------------------------------------------------------------------------------------------
# Schema


class Schema:
    def __init__(self, root):
        self.root = root
        if not os.path.isfile(os.path.join(root, "dictionary.json")):
            raise Usage(f"no OCSF schema at {q(root)} (dictionary.json missing)")
        self.version = self._load("version.json")["version"]
        d = self._load("dictionary.json")
        self.dictionary = d["attributes"]
        self.types = d["types"]["attributes"]
        self.categories = self._load("categories.json")["attributes"]
        self.profiles = {}
        for rel in self._files("profiles"):
            p = self._load(rel)
            self.profiles[p["name"]] = p
        raw_classes = {}
        for rel in self._files("events"):
            c = self._with_includes(rel)
            raw_classes[c["name"]] = c
        raw_objects = {}
        for rel in self._files("objects"):
            o = self._with_includes(rel)
            raw_objects[o["name"]] = o
        self.objects = {}
        for name in raw_objects:
            o = self._resolve(raw_objects, name, ())
            self.objects[name] = self._enrich(o)
        self.classes = {}
        for name in raw_classes:
            c = self._resolve(raw_classes, name, ())
            if "uid" not in c:
                continue  # base_event, application, iam: not classes of their own
            cat = self.categories.get(c.get("category"))
            if cat is None:
                raise Usage(f"class {name} names category {c.get('category')!r}, not in categories.json")
            c["category_uid"] = cat["uid"]
            c["class_uid"] = cat["uid"] * 1000 + c["uid"]
            c = self._enrich(c)
            a = c["attributes"]
            a["class_uid"] = dict(a["class_uid"], enum={str(c["class_uid"]): {"caption": c["caption"]}})
            a["category_uid"] = dict(a["category_uid"], enum={str(cat["uid"]): {"caption": cat["caption"]}})
            self.classes[name] = c
        self._filtered = {}

    # -- loading

    def _load(self, rel):
        path = os.path.join(self.root, rel)
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            raise Usage(f"cannot read schema file {q(path)}: {e}") from None

    def _files(self, top):
        out = []
        base = os.path.join(self.root, top)
        for dirpath, dirs, names in os.walk(base):
            dirs.sort()
            for n in sorted(names):
                if n.endswith(".json"):
                    out.append(os.path.relpath(os.path.join(dirpath, n), self.root))
        return out

    def _with_includes(self, rel, seen=()):
        if rel in seen:
            raise Usage(f"$include cycle through {rel}")
        data = self._load(rel)
        attrs = dict(data.get("attributes") or {})
        inc = attrs.pop("$include", None)
        for inc_rel in ([inc] if isinstance(inc, str) else inc or []):
            included = self._with_includes(inc_rel, seen + (rel,))
            inc_attrs = included.get("attributes") or {}
            if included.get("meta") == "profile":
                inc_attrs = {k: dict({"profile": included["name"]}, **v) for k, v in inc_attrs.items()}
            attrs = deep_merge(inc_attrs, attrs)
        for name, a in list(attrs.items()):  # attribute-level $include (enum files)
            if isinstance(a, dict) and "$include" in a:
                extra = self._load(a["$include"])
                attrs[name] = deep_merge(extra, {k: v for k, v in a.items() if k != "$include"})
        data["attributes"] = attrs
        return data

    def _resolve(self, raw, name, seen):
        if name in seen:
            raise Usage(f"extends cycle through {name}")
        if name not in raw:
            raise Usage(f"{seen[-1] if seen else '?'} extends {name!r}, which the schema files do not define")
        item = raw[name]
        parent_name = item.get("extends")
        if not parent_name:
            return dict(item)
        parent = self._resolve(raw, parent_name, seen + (name,))
        out = dict(parent)
        out.update(item)
        out["attributes"] = deep_merge(parent.get("attributes", {}), item.get("attributes", {}))
        out["profiles"] = sorted(set(parent.get("profiles") or []) | set(item.get("profiles") or []))
        out["extends_chain"] = [parent_name] + parent.get("extends_chain", [])
        out.pop("extends", None)
        return out

    def _enrich(self, item):
        attrs = {}
        for name, a in item.get("attributes", {}).items():
            base = self.dictionary.get(name)
            if base is None:
                raise Usage(f"{item['name']}.{name} is not in dictionary.json")
            attrs[name] = deep_merge(base, a or {})
        for name, a in list(attrs.items()):  # the datetime profile
            if a.get("type") == "timestamp_t" and f"{name}_dt" not in attrs:
                attrs[f"{name}_dt"] = {"caption": f"{a.get('caption', name)} (datetime)", "type": "datetime_t",
                                       "requirement": "optional", "profile": "datetime"}
        item = dict(item)
        item["attributes"] = attrs
        return item

    # -- queries

    def primitive(self, type_name):
        """The primitive of a dictionary type (string_t for ip_t ...), or None for an object type."""
        seen = 0
        while type_name in self.types and seen < 10:
            parent = self.types[type_name].get("type")
            if not parent:
                return type_name
            type_name, seen = parent, seen + 1
        return None

    def attributes(self, item, profiles):
        """The attributes of a class or object that apply under `profiles` (validator2's filter_with_profiles)."""
        key = (id(item), profiles)
        hit = self._filtered.get(key)
        if hit is None:
            hit = {n: a for n, a in item["attributes"].items() if a.get("profile") is None or a["profile"] in profiles}
            self._filtered[key] = hit
        return hit


# ---------------------------------------------------------------------------------------------------------------
# Row validation


class Finding:
    __slots__ = ("level", "code", "path", "message")

    def __init__(self, level, code, path, message):
        self.level, self.code, self.path, self.message = level, code, path, message


def generic_path(path):
    return re.sub(r"\[[0-9]+\]", "", path)


class Spec:
    """One attribute, prepared for checking: its definition and what its type resolves to."""
    __slots__ = ("name", "a", "type", "prim", "obj", "is_array", "enum", "sibling", "max_len", "regex", "range")


class Plan:
    """A class or object under a set of profiles, prepared for checking."""
    __slots__ = ("defn", "what", "attrs", "specs", "required", "recommended", "constraints", "open")


class Validator:
    def __init__(self, schema, warn_only=(), recommended=False):
        self.schema = schema
        self.warn_only = [(c, p) for c, p in warn_only]
        self.recommended = recommended
        self.regex = {}
        for name, t in schema.types.items():
            if "regex" in t:
                try:
                    self.regex[name] = re.compile(t["regex"])
                except re.error:
                    pass  # a PCRE construct Python lacks: not checked
        self.plans = {}

    def plan(self, defn, profiles, is_class=False):
        key = (id(defn), profiles)
        p = self.plans.get(key)
        if p is not None:
            return p
        p = Plan()
        p.defn = defn
        p.what = f"class {defn['name']}" if is_class else f"object {defn['name']}"
        p.attrs = self.schema.attributes(defn, profiles)
        p.open = not defn["attributes"]  # an object without attributes (`object`, for `unmapped`) is open
        p.required = [n for n, a in p.attrs.items() if a.get("requirement") == "required"]
        p.recommended = [n for n, a in p.attrs.items() if a.get("requirement") == "recommended"]
        p.constraints = list((defn.get("constraints") or {}).items())
        p.specs = {}
        for n, a in p.attrs.items():
            s = Spec()
            s.name, s.a, s.type = n, a, a.get("type")
            s.prim = self.schema.primitive(s.type)
            s.obj = self.schema.objects.get(s.type) if s.prim is None else None
            s.is_array = bool(a.get("is_array"))
            s.enum = a.get("enum")
            s.sibling = a.get("sibling")
            t = self.schema.types.get(s.type, {})
            s.max_len = t.get("max_len") or (self.schema.types["string_t"].get("max_len")
                                             if s.prim == "string_t" else None)
            s.regex = self.regex.get(s.type)
            s.range = t.get("range")
            p.specs[n] = s
        self.plans[key] = p
        return p

    def _add(self, out, level, code, path, message):
        if level == "error":
            for c, p in self.warn_only:
                if c == code and (p is None or p == generic_path(path)):
                    level = "warning"
                    break
        out.append(Finding(level, code, path, message))

    def check_row(self, cls, row):
        out = []
        md = row.get("metadata")
        profiles = ()
        if isinstance(md, dict):
            ps = md.get("profiles")
            if isinstance(ps, list):
                profiles = tuple(sorted(p for p in ps if isinstance(p, str)))
                for i, p in enumerate(ps):
                    if isinstance(p, str) and p not in self.schema.profiles:
                        self._add(out, "error", "profile_unknown", f"metadata.profiles[{i}]",
                                  f"profile {q(p)} is not defined in the schema")
            v = md.get("version")
            if isinstance(v, str) and v != self.schema.version:
                self._add(out, "error", "version_mismatch", "metadata.version",
                          f"{q(v)}, but the schema is OCSF {self.schema.version}")
        item = {k: v for k, v in row.items() if not k.startswith(PROVENANCE_PREFIX)}
        self._item(out, item, self.plan(cls, profiles, is_class=True), "", profiles)
        cu, ai, tu = row.get("class_uid"), row.get("activity_id"), row.get("type_uid")
        if all(isinstance(x, int) and not isinstance(x, bool) for x in (cu, ai, tu)) and tu != cu * 100 + ai:
            self._add(out, "error", "type_uid_incorrect", "type_uid",
                      f"{tu} is not class_uid {cu} * 100 + activity_id {ai} = {cu * 100 + ai}")
        if isinstance(cu, int) and cu != cls["class_uid"]:
            self._add(out, "error", "class_uid_folder_mismatch", "class_uid",
                      f"{cu} in the folder of {cls['name']} ({cls['class_uid']})")
        return out

    def _item(self, out, item, plan, path, profiles):
        for name in plan.required:
            if item.get(name) is None:
                self._add(out, "error", "attribute_required_missing", f"{path}.{name}" if path else name,
                          f"required attribute of {plan.what} is missing (null)")
        if self.recommended:
            for name in plan.recommended:
                if item.get(name) is None:
                    self._add(out, "warning", "attribute_recommended_missing", f"{path}.{name}" if path else name,
                              f"recommended attribute of {plan.what} is missing (null)")
        specs = plan.specs
        for key, v in item.items():
            if v is None:
                continue
            s = specs.get(key)
            p = f"{path}.{key}" if path else key
            if s is None:
                if plan.open:
                    continue
                full = plan.defn["attributes"].get(key)
                if full is not None:
                    self._add(out, "error", "attribute_unknown", p,
                              f"attribute of profile {q(full.get('profile'))}, which metadata.profiles does not list")
                else:
                    self._add(out, "error", "attribute_unknown", p, f"not an attribute of {plan.what}")
                continue
            if s.is_array:
                if not isinstance(v, list):
                    self._add(out, "error", "attribute_wrong_type", p,
                              f"expected an array of {s.type}, got {type_name(v)}")
                    continue
                for i, e in enumerate(v):
                    if e is None:
                        self._add(out, "error", "attribute_wrong_type", f"{p}[{i}]", "null element in an array")
                        continue
                    self._single(out, e, s, f"{p}[{i}]", profiles)
                    if s.enum is not None and not isinstance(e, bool) and str(e) not in s.enum:
                        self._add(out, "error", "attribute_enum_value_unknown", f"{p}[{i}]",
                                  f"value {q(e)} is not in its enum")
                continue
            self._single(out, v, s, p, profiles)
            if s.enum is not None:
                self._enum(out, item, v, s, p, path)
        for kind, names in plan.constraints:
            present = [n for n in names if item.get(n) is not None]
            if kind == "at_least_one" and not present:
                self._add(out, "error", "constraint_failed", path or "(event)",
                          f"at_least_one of {plan.what}: none of {', '.join(names)} is present")
            elif kind == "just_one" and len(present) != 1:
                self._add(out, "error", "constraint_failed", path or "(event)",
                          f"just_one of {plan.what}: {len(present)} of {', '.join(names)} are present")

    def _enum(self, out, item, v, s, p, parent):
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            return  # wrong type, reported already
        enum = s.enum
        if str(v) not in enum:
            self._add(out, "error", "attribute_enum_value_unknown", p,
                      f"value {q(v)} is not in its enum ({', '.join(sorted(enum, key=_num))})")
            return
        sib = s.sibling
        if not sib or item.get(sib) is None:
            return
        caption = enum[str(v)].get("caption")
        sv = item[sib]
        sp = f"{parent}.{sib}" if parent else sib
        if str(v) == "99":
            if sv == caption:
                self._add(out, "warning", "attribute_enum_sibling_suspicious_other", sp,
                          f"{q(sv)} is the caption of 99; OCSF asks for the source's own name here")
        elif sv != caption:
            self._add(out, "warning", "attribute_enum_sibling_incorrect", sp,
                      f"{q(sv)} is not the caption {q(caption)} of {s.name} {v}")

    def _single(self, out, v, s, p, profiles):
        prim, t = s.prim, s.type
        if prim is None:
            if s.obj is None:
                self._add(out, "error", "schema_object_missing", p,
                          f"object type {q(t)} is not among the schema files (add objects/{t}.json to the fixtures)")
            elif not isinstance(v, dict):
                self._add(out, "error", "attribute_wrong_type", p, f"expected object {t}, got {type_name(v)}")
            else:
                self._item(out, v, self.plan(s.obj, profiles), p, profiles)
            return
        if prim == "string_t":
            if isinstance(v, str):
                if s.max_len is not None and len(v) > s.max_len:
                    self._add(out, "error", "attribute_value_exceeds_max_len", p,
                              f"{len(v)} characters, over the {s.max_len} of type {t}")
                if s.regex is not None and not s.regex.search(v):
                    self._add(out, "warning", "attribute_value_regex_not_matched", p,
                              f"{q(v)} does not match the regex of type {t}")
                return
            if t == "datetime_t" and isinstance(v, datetime.datetime):
                if v.tzinfo is None:
                    self._add(out, "error", "attribute_wrong_type", p, "a TIMESTAMP without time zone for "
                              "datetime_t (RFC 3339 needs an offset: write it adjusted to UTC)")
                return
            ok = False
        elif prim in ("integer_t", "long_t"):
            lo, hi = INT64 if prim == "integer_t" else INT128
            ok = isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
            if ok and s.range and not s.range[0] <= v <= s.range[1]:
                self._add(out, "error", "attribute_value_exceeds_range", p,
                          f"{v} outside {s.range[0]}..{s.range[1]} ({t})")
        elif prim == "float_t":
            ok = isinstance(v, float)
        elif prim == "boolean_t":
            ok = isinstance(v, bool)
        else:  # json_t
            ok = True
        if not ok:
            self._add(out, "error", "attribute_wrong_type", p, f"expected {t}"
                      f"{'' if t == prim else f' ({prim})'}, got {type_name(v)} {q(v, 60)}")


def _num(k):
    try:
        return (0, int(k))
    except ValueError:
        return (1, k)


def type_name(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


# ---------------------------------------------------------------------------------------------------------------
# The export


def parquet_files(export):
    """(relative path, class folder) of every Parquet part; other files named, not read."""
    parts, others = [], []
    for dirpath, dirs, names in os.walk(export):
        dirs.sort()
        for n in sorted(names):
            rel = os.path.relpath(os.path.join(dirpath, n), export).replace(os.sep, "/")
            if rel in ("_manifest", "_manifest.json"):
                continue
            m = PART_RE.match(rel)
            if m and os.path.isfile(os.path.join(dirpath, n)) and not os.path.islink(os.path.join(dirpath, n)):
                parts.append((rel, m.group(1)))
            else:
                others.append(rel)
    return parts, others


class Report:
    def __init__(self, max_errors, max_warnings, out=sys.stdout):
        self.max_errors, self.max_warnings, self.out = max_errors, max_warnings, out
        self.errors, self.warnings = Counter(), Counter()
        self.rows, self.files, self.rows_by_class = 0, 0, Counter()
        self.shown_e = self.shown_w = 0

    def finding(self, where, f):
        if f.level == "error":
            self.errors[(f.code, generic_path(f.path))] += 1
            if self.shown_e < self.max_errors:
                self.shown_e += 1
                print(f"ERROR {where}: {f.code}: {f.path}: {f.message}", file=self.out)
        else:
            self.warnings[(f.code, generic_path(f.path))] += 1
            if self.shown_w < self.max_warnings:
                self.shown_w += 1
                print(f"warning {where}: {f.code}: {f.path}: {f.message}", file=self.out)

    def file_error(self, rel, code, message):
        self.finding(f"{q(rel)}", Finding("error", code, "(file)", message))


def validate_export(export, schema, validator, report, rows_per_file=0):
    import duckdb
    if not os.path.isdir(export):
        raise Usage(f"{q(export)} is not a directory")
    parts, others = parquet_files(export)
    for rel in others:
        report.file_error(rel, "file_unexpected", "not a <class>/region=/accountId=/eventDay=/"
                          "part-NNNNN-<export id>.parquet file of the layout (not read)")
    if not parts:
        raise Usage(f"no Parquet part under {q(export)}")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    provenance = set()
    for rel, folder in parts:
        cls = schema.classes.get(folder)
        if cls is None:
            report.file_error(rel, "class_folder_unknown", f"{q(folder)} is not an OCSF class name")
            continue
        report.files += 1
        try:
            cur = con.execute("SELECT * FROM read_parquet(?, hive_partitioning = false)",
                              [os.path.join(export, rel)])
        except duckdb.Error as e:
            report.file_error(rel, "parquet_unreadable", q(str(e), 300))
            continue
        names = [d[0] for d in cur.description]
        provenance.update(n for n in names if n.startswith(PROVENANCE_PREFIX))
        n = 0
        while True:
            try:
                batch = cur.fetchmany(2048)
            except duckdb.Error as e:
                report.file_error(rel, "parquet_unreadable", f"at row {n}: {q(str(e), 300)}")
                break
            if not batch:
                break
            for values in batch:
                row = dict(zip(names, values))
                findings = validator.check_row(cls, row)
                if findings:
                    md = row.get("metadata")
                    uid = md.get("uid") if isinstance(md, dict) else None
                    where = f"{rel} row {n} (metadata.uid {q(uid)})"
                    for f in findings:
                        report.finding(where, f)
                n += 1
                report.rows += 1
                report.rows_by_class[folder] += 1
                if rows_per_file and n >= rows_per_file:
                    break
            if rows_per_file and n >= rows_per_file:
                break
    con.close()
    return sorted(provenance)


def summary(report, provenance, out=sys.stdout):
    by = ", ".join(f"{k} {v}" for k, v in sorted(report.rows_by_class.items()))
    print(f"checked {report.rows} rows in {report.files} files ({by or 'none'}) against OCSF", file=out)
    if provenance:
        print(f"not OCSF, not checked: {len(provenance)} provenance columns ({', '.join(provenance)})", file=out)
    for title, counts, shown, limit in (("errors", report.errors, report.shown_e, report.max_errors),
                                        ("warnings", report.warnings, report.shown_w, report.max_warnings)):
        total = sum(counts.values())
        if total:
            more = f" ({total - shown} not shown)" if total > shown else ""
            print(f"{title}: {total}{more}", file=out)
            for (code, path), c in sorted(counts.items()):
                print(f"  {c:8d}  {code}  {path}", file=out)
    print("OK: every row is valid OCSF" if not report.errors else
          f"FAIL: {sum(report.errors.values())} errors", file=out)


def parse_warn_only(items):
    out = []
    for s in items:
        code, _, path = s.partition("@")
        if not re.fullmatch(r"[a-z_]+", code):
            raise Usage(f"--warn-only {q(s)}: expected CODE or CODE@PATH")
        out.append((code, path or None))
    return out


def run(argv, out=sys.stdout, err=sys.stderr):
    ap = argparse.ArgumentParser(prog="ocsf_validate.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("export", nargs="?")
    ap.add_argument("--schema", default=DEFAULT_SCHEMA)
    ap.add_argument("--max-errors", type=int, default=20)
    ap.add_argument("--max-warnings", type=int, default=5)
    ap.add_argument("--warn-only", action="append", default=[], metavar="CODE[@PATH]")
    ap.add_argument("--recommended", action="store_true", help="warn on missing recommended attributes")
    ap.add_argument("--rows-per-file", type=int, default=0, metavar="N")
    ap.add_argument("--self-test", action="store_true")
    try:
        a = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        if a.self_test:
            return self_test(a.schema)
        if not a.export:
            raise Usage("EXPORT_DIR is required")
        schema = Schema(a.schema)
        validator = Validator(schema, parse_warn_only(a.warn_only), a.recommended)
        report = Report(a.max_errors, a.max_warnings, out)
        prov = validate_export(a.export, schema, validator, report, a.rows_per_file)
        summary(report, prov, out)
        return 1 if report.errors else 0
    except Usage as e:
        print(f"usage error: {e}", file=err)
        return 2


# ---------------------------------------------------------------------------------------------------------------
# Self-test: synthetic exports (ocsf_synthetic.py) that must pass, and rows that must fail.


def self_test(schema_dir):
    import io
    import shutil
    import tempfile
    import duckdb
    sys.path.insert(0, HERE)
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    import ocsf_synthetic as syn

    schema = Schema(schema_dir)
    results = []

    def check(name, cond, detail=""):
        results.append(cond)
        print(f"{'ok  ' if cond else 'FAIL'} {name}{'' if cond else ': ' + detail}")

    def validate(export, warn_only=()):
        buf = io.StringIO()
        report = Report(1000, 1000, buf)
        validate_export(export, schema, Validator(schema, parse_warn_only(warn_only)), report)
        return report, buf.getvalue()

    # Schema resolution facts the checks rely on.
    api, auth, acct = (schema.classes[n] for n in ("api_activity", "authentication", "account_change"))
    check("class uids", (api["class_uid"], auth["class_uid"], acct["class_uid"]) == (6003, 3002, 3001))
    check("api is required and not a profile attribute in API Activity",
          api["attributes"]["api"].get("requirement") == "required" and api["attributes"]["api"].get("profile") is None)
    check("cloud comes from the cloud profile", api["attributes"]["cloud"].get("profile") == "cloud")
    check("class activity enums add to the dictionary's 0 and 99",
          sorted(api["attributes"]["activity_id"]["enum"], key=int) == ["0", "1", "2", "3", "4", "99"] and
          sorted(acct["attributes"]["activity_id"]["enum"], key=int) == [str(i) for i in range(12)] + ["99"])
    check("time_dt comes with the datetime profile", api["attributes"].get("time_dt", {}).get("type") == "datetime_t")
    check("objects resolve extends", schema.objects["network_endpoint"]["attributes"].get("ip", {}).get("type")
          == "ip_t" and "at_least_one" in schema.objects["product"].get("constraints", {}))

    tmp = tempfile.mkdtemp(prefix="ocsf-validate-selftest-")
    try:
        db = os.path.join(tmp, "store.sqlite")
        syn.build_store(db)

        # 1. The columns of the spec's first draft (which the exporter never wrote): what OCSF 1.1.0 requires beyond
        #    them shows up, and nothing else.
        spec = os.path.join(tmp, "spec")
        syn.write_export(db, spec, first_spec=True)
        report, text = validate(spec)
        expected = {
            ("attribute_wrong_type", "unmapped"),                      # JSON text where OCSF has an object
            ("attribute_value_exceeds_max_len", "raw_data"),           # 70,000 characters > string_t's 65,535
            ("constraint_failed", "(event)"),                          # Authentication: service or dst_endpoint
            ("attribute_required_missing", "src_endpoint"),            # API Activity without a caller IP
            ("attribute_required_missing", "actor"),                   # an event with no actor (not JSON)
            ("attribute_required_missing", "api.operation"),           # an event with no action
            ("attribute_unknown", "resources"),                        # Account Change has no `resources`
        }
        check("the first draft's columns: exactly the expected OCSF gaps", set(report.errors) == expected,
              f"got {sorted(report.errors)}\n{text}")
        auth_rows = report.rows_by_class["authentication"]
        check("every Authentication row misses service/dst_endpoint",
              report.errors[("constraint_failed", "(event)")] == auth_rows and auth_rows > 0, text)
        check("99 Other with activity_name 'Other' is a warning",
              report.warnings[("attribute_enum_sibling_suspicious_other", "activity_name")] > 0, text)
        check("messages escape hostile text", "\x1b" not in text and "\u202e" not in text and "\x00" not in text)

        # 2. The exporter's layout: valid, but for the over-long raw_data, which only --warn-only lets through.
        fixed = os.path.join(tmp, "fixed")
        syn.write_export(db, fixed)
        report, text = validate(fixed)
        check("the exporter's layout: only raw_data over max_len",
              set(report.errors) == {("attribute_value_exceeds_max_len", "raw_data")},
              f"{sorted(report.errors)}\n{text}")
        report, text = validate(fixed, ["attribute_value_exceeds_max_len@raw_data"])
        check("the exporter's layout passes with --warn-only attribute_value_exceeds_max_len@raw_data",
              not report.errors and report.rows == 15, text)
        rc = run([fixed, "--warn-only", "attribute_value_exceeds_max_len@raw_data"], out=io.StringIO())
        check("exit 0 on a valid export", rc == 0, str(rc))

        # 3. One valid row, then the same row broken in one way each (duckdb COPY ... struct_pack ... TO).
        con = duckdb.connect()
        part = ("api_activity/region=us-east-2/accountId=012345678901/eventDay=20240302/"
                f"part-00000-{syn.EXPORT_ID}.parquet")
        src = os.path.join(fixed, part)
        md_keep = "version := metadata.version, uid := metadata.uid, log_name := metadata.log_name"
        cases = [
            ("valid row", "", None),
            ("severity_id null", "NULL::INTEGER AS severity_id", ("attribute_required_missing", "severity_id")),
            ("time null", "NULL::BIGINT AS time", ("attribute_required_missing", "time")),
            ("metadata.product.vendor_name null",
             f"struct_pack({md_keep}, product := struct_pack(name := metadata.product.name, "
             "vendor_name := NULL::VARCHAR), profiles := metadata.profiles) AS metadata",
             ("attribute_required_missing", "metadata.product.vendor_name")),
            ("metadata.version null",
             "struct_pack(version := NULL::VARCHAR, uid := metadata.uid, log_name := metadata.log_name, "
             "product := metadata.product, profiles := metadata.profiles) AS metadata",
             ("attribute_required_missing", "metadata.version")),
            ("api.operation null",
             "struct_pack(operation := NULL::VARCHAR, service := api.service, request := api.request, "
             "version := api.version) AS api", ("attribute_required_missing", "api.operation")),
            ("api.request.uid null",
             "struct_pack(operation := api.operation, service := api.service, "
             "request := struct_pack(uid := NULL::VARCHAR), version := api.version) AS api",
             ("attribute_required_missing", "api.request.uid")),
            ("cloud.provider null",
             "struct_pack(provider := NULL::VARCHAR, region := cloud.region, account := cloud.account) AS cloud",
             ("attribute_required_missing", "cloud.provider")),
            ("cloud null with the cloud profile", "NULL::STRUCT(provider VARCHAR) AS cloud",
             ("attribute_required_missing", "cloud")),
            ("actor without user", "struct_pack(\"user\" := NULL::STRUCT(name VARCHAR)) AS actor",
             ("constraint_failed", "actor")),
            ("a resource with neither name nor uid (a Kubernetes list of a collection)",
             "[struct_pack(name := NULL::VARCHAR, type := 'pods', uid := NULL::VARCHAR, namespace := 'default')] "
             "AS resources", ("constraint_failed", "resources")),
            ("cloud.account as a struct of nulls",
             "struct_pack(provider := cloud.provider, region := cloud.region, "
             "account := struct_pack(uid := NULL::VARCHAR)) AS cloud", ("constraint_failed", "cloud.account")),
            ("api.service as a struct of nulls",
             "struct_pack(operation := api.operation, service := struct_pack(name := NULL::VARCHAR), "
             "request := api.request, version := api.version) AS api", ("constraint_failed", "api.service")),
            ("user in an API Activity row",
             "struct_pack(name := 'x', uid := NULL::VARCHAR, type := NULL::VARCHAR, "
             "account := NULL::STRUCT(uid VARCHAR)) AS \"user\"", ("attribute_unknown", "user")),
            ("activity_id 5 (not an API Activity)", "5 AS activity_id, 600305::BIGINT AS type_uid",
             ("attribute_enum_value_unknown", "activity_id")),
            ("severity_id 7", "7 AS severity_id", ("attribute_enum_value_unknown", "severity_id")),
            ("status_id 3", "3 AS status_id", ("attribute_enum_value_unknown", "status_id")),
            ("category_uid 3 in API Activity", "3 AS category_uid", ("attribute_enum_value_unknown", "category_uid")),
            ("type_uid off by one", "type_uid + 1 AS type_uid", ("type_uid_incorrect", "type_uid")),
            ("class_uid 3002 in api_activity/", "3002 AS class_uid, 300203::BIGINT AS type_uid",
             ("class_uid_folder_mismatch", "class_uid")),
            ("time as text", "CAST(time AS VARCHAR) AS time", ("attribute_wrong_type", "time")),
            ("metadata.version 1.0.0",
             "struct_pack(version := '1.0.0', uid := metadata.uid, log_name := metadata.log_name, "
             "product := metadata.product, profiles := metadata.profiles) AS metadata",
             ("version_mismatch", "metadata.version")),
            ("cloud present but the cloud profile not listed",
             f"struct_pack({md_keep}, product := metadata.product, profiles := ['datetime']) AS metadata",
             ("attribute_unknown", "cloud")),
            ("an unknown profile",
             f"struct_pack({md_keep}, product := metadata.product, profiles := ['cloud', 'datetime', 'k8s']) "
             "AS metadata", ("profile_unknown", "metadata.profiles")),
        ]
        for name, replace, want in cases:
            d = os.path.join(tmp, "case")
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(os.path.dirname(os.path.join(d, part)))
            sel = f"SELECT * REPLACE ({replace})" if replace else "SELECT *"
            con.execute(f"COPY ({sel} FROM read_parquet(?, hive_partitioning = false) LIMIT 1) TO ? (FORMAT PARQUET)",
                        [src, os.path.join(d, part)])
            report, text = validate(d)
            if want is None:
                check(f"{name}: passes", not report.errors, text)
            else:
                check(f"{name}: fails with {want[0]} at {want[1]}", want in report.errors, text)
                rc = run([d, "--max-errors", "3"], out=io.StringIO())
                check(f"{name}: exit 1", rc == 1, str(rc))
        # Warnings only: exit 0.
        for name, replace, want in [
            ("a service name in src_endpoint.ip",
             "struct_pack(ip := 'ec2.amazonaws.com', svc_name := NULL::VARCHAR, name := NULL::VARCHAR) "
             "AS src_endpoint", ("attribute_value_regex_not_matched", "src_endpoint.ip")),
            ("activity_name not the caption", "'Launch' AS activity_name",
             ("attribute_enum_sibling_incorrect", "activity_name")),
        ]:
            d = os.path.join(tmp, "case")
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(os.path.dirname(os.path.join(d, part)))
            con.execute(f"COPY (SELECT * REPLACE ({replace}) FROM read_parquet(?, hive_partitioning = false) "
                        "LIMIT 1) TO ? (FORMAT PARQUET)", [src, os.path.join(d, part)])
            report, text = validate(d)
            check(f"{name}: a warning, no error", want in report.warnings and not report.errors, text)
        # A profile attribute null while the profile is not listed is no error.
        d = os.path.join(tmp, "case")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(os.path.dirname(os.path.join(d, part)))
        con.execute(f"COPY (SELECT * REPLACE (NULL::STRUCT(provider VARCHAR) AS cloud, struct_pack({md_keep}, "
                    "product := metadata.product, profiles := ['datetime']) AS metadata) "
                    "FROM read_parquet(?, hive_partitioning = false) LIMIT 1) TO ? (FORMAT PARQUET)",
                    [src, os.path.join(d, part)])
        report, text = validate(d)
        check("cloud null without the cloud profile: passes", not report.errors, text)
        con.close()
        check("exit 2 on a missing directory", run([tmp + "/nonexistent"], io.StringIO(), io.StringIO()) == 2)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(results)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
