#!/usr/bin/env python3
"""Independent check of CloudTrail digest signatures with AWS's own validator (pip package `awscli`):
awscli.customizations.cloudtrail.validation.Sha256RSADigestValidator.

Input (stdin): JSON list of {"bucket", "key", "path" (the .json.gz on disk), "signature" (hex),
"public_key" (base64 PKCS#1 DER)}. Output (stdout): JSON {"<key>": true|false} - whether AWS's validator
accepts the digest. Exit 2 if awscli cannot be imported.
"""
import gzip
import json
import sys

try:
    from awscli.customizations.cloudtrail.validation import DigestError, Sha256RSADigestValidator
except ImportError as e:  # pragma: no cover
    print(f"awscli not importable: {e}", file=sys.stderr)
    sys.exit(2)


def main():
    items = json.load(sys.stdin)
    out = {}
    v = Sha256RSADigestValidator()
    for it in items:
        try:
            with open(it["path"], "rb") as f:
                inflated = gzip.decompress(f.read())
            data = json.loads(inflated)
            data["_signature"] = it["signature"]
            v.validate(it["bucket"], it["key"], it["public_key"], data, inflated)
            out[it["key"]] = True
        except (DigestError, ValueError, KeyError, OSError):
            out[it["key"]] = False
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
