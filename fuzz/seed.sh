#!/bin/sh
# Seeds for the fuzz targets (fuzz/README.md): a key, archives sealed with it from real logs, evidence bundles
# exported from them, a producer's mapping file with the events it maps, the notes and checkpoints inside them,
# real events one per file, and the queries quoted in docs/search.md.
# Usage: fuzz/seed.sh AUDITLENS_BINARY CORPUS_DIR
set -eu
bin=$1
corpus=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
logs=$root/tests/fixtures/logs
mkdir -p "$corpus/archive" "$corpus/event" "$corpus/query" "$corpus/note" "$corpus/bundle" "$corpus/import" \
    "$corpus/mapping" "$corpus/cloudtrail" "$here/seeds"
[ -f "$here/seeds/fuzz.pub" ] || "$bin" keygen --name fuzz --out "$here/seeds"
"$bin" seal --key "$here/seeds/fuzz.key" --origin fuzz.example/k8s --out "$corpus/archive/k8s.zip" \
    "$logs/k8s_audit/audit2rbac/demo.log"
"$bin" seal --key "$here/seeds/fuzz.key" --origin fuzz.example/ct --out "$corpus/archive/ct.zip" \
    "$logs/aws_cloudtrail/awsdocs/awsdocs_examples_Records.json"
"$bin" seal --key "$here/seeds/fuzz.key" --origin fuzz.example/k8s --prev "$corpus/archive/k8s.zip" \
    --out "$corpus/archive/k8s-2.zip" "$logs/k8s_audit/audit2rbac/demo.log"
cp "$corpus/archive/"*.zip "$corpus/import/"
db=$(mktemp -d)/store.db
"$bin" import --db "$db" --trust "$here/seeds/fuzz.pub" "$corpus/archive/k8s.zip" \
    "$corpus/archive/k8s-2.zip" "$corpus/archive/ct.zip" > /dev/null
rm -f "$corpus/bundle/all.zip" "$corpus/bundle/denied.zip"
"$bin" export --db "$db" --key "$here/seeds/fuzz.key" --purpose fuzz --query '' --out "$corpus/bundle/all.zip"
"$bin" export --db "$db" --key "$here/seeds/fuzz.key" --purpose fuzz --query 'outcome:denied' \
    --out "$corpus/bundle/denied.zip"
rm -r "$(dirname "$db")"
python3 - "$root" "$corpus" <<'PY'
import glob, hashlib, json, os, re, sys, zipfile
root, corpus = sys.argv[1], sys.argv[2]
def put(kind, data):
    with open(os.path.join(corpus, kind, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)
for a in glob.glob(os.path.join(corpus, "archive", "*.zip")):
    with zipfile.ZipFile(a) as z:
        for name in ("checkpoint", "manifest.json"):
            put("note", z.read(name))
for f in sorted(glob.glob(os.path.join(root, "tests/fixtures/logs/**/*"), recursive=True)):
    if not os.path.isfile(f) or f.endswith((".txt", ".md", ".tsv")):
        continue
    data = open(f, "rb").read()
    lines = [l for l in data.split(b"\n") if l.strip().startswith(b"{")]
    try:
        j = json.loads(data)
        if isinstance(j, dict) and "Records" in j:
            lines = [json.dumps(r).encode() for r in j["Records"]]
    except ValueError:
        pass
    for l in lines[:15]:
        put("event", l)
mapping = open(os.path.join(root, "tests/fixtures/mappings/slack-audit.toml"), "rb").read()
slack = open(os.path.join(root, "tests/fixtures/logs/misc_saas_audit/panther/Slack_AuditLogs.jsonl"), "rb").read()
for l in slack.split(b"\n")[:20]:
    put("mapping", mapping + b"\0" + l)
for q in set(re.findall(r"`([^`\n]{1,120})`", open(os.path.join(root, "docs/search.md")).read())):
    put("query", q.encode())
# cloudtrail: real log files (first byte 0), and a digest listing the target's fixed log file (first byte 1).
os.makedirs(os.path.join(corpus, "cloudtrail"), exist_ok=True)
for f in sorted(glob.glob(os.path.join(root, "tests/fixtures/logs/aws_cloudtrail/**/*.json"), recursive=True)):
    data = open(f, "rb").read()
    if len(data) < 200000:
        put("cloudtrail", b"\0" + data)
log = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/06/01/111122223333_CloudTrail_us-east-1_20240601T0005Z_0000000000000001.json.gz"
digest = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/06/01/111122223333_CloudTrail-Digest_us-east-1_fuzz_us-east-1_20240601T010000Z.json.gz"
d = {"awsAccountId": "111122223333", "digestStartTime": "2024-06-01T00:00:00Z",
     "digestEndTime": "2024-06-01T01:00:00Z", "digestS3Bucket": "fuzz-trail-bucket", "digestS3Object": digest,
     "digestPublicKeyFingerprint": "", "digestSignatureAlgorithm": "SHA256withRSA",
     "newestEventTime": "2024-06-01T00:05:00Z", "oldestEventTime": "2024-06-01T00:00:00Z",
     "previousDigestS3Bucket": None, "previousDigestS3Object": None, "previousDigestHashValue": None,
     "previousDigestHashAlgorithm": None, "previousDigestSignature": None,
     "logFiles": [{"s3Bucket": "fuzz-trail-bucket", "s3Object": log, "hashValue": "@LOGHASH@",
                   "hashAlgorithm": "SHA-256", "newestEventTime": "2024-06-01T00:05:00Z",
                   "oldestEventTime": "2024-06-01T00:00:00Z"}]}
put("cloudtrail", b"\1" + json.dumps(d, separators=(",", ":")).replace("/", "\\/").encode())
PY
