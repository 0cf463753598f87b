// End-to-end: an AWS CloudTrail export dropped on the real app (target/debug/auditlens-app) under tauri-driver and
// Xvfb. The export is written here as AWS writes one (a log file, its hourly digest with escaped slashes, signed
// SHA256withRSA with the test key of tests/fixtures/cloudtrail, the digest's S3 metadata as `<digest>.head.json`,
// and the key list `aws cloudtrail list-public-keys` prints). Dropped for real, it is not imported: the "AWS
// CloudTrail export" dialog opens and says so. The native file picker cannot be driven, so the real
// `verify_cloudtrail` command is then called through the window's IPC, with the keys, and must verify the export;
// a changed log file must fail with its expected and found hashes. Screenshot: target/e2e-screenshots/ct01-...

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';

import { stepper } from './steps.mjs';
import { Harness, ROOT } from './harness.mjs';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';

let h;
const step = (session, name, fn) => stepper(h, 'cloudtrail-')(session, name, fn);
before(async () => {
  h = await Harness.start();
});
after(async () => {
  await h?.stop();
});

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

/** Writes the export under `root` and the key list at `keys`. */
function writeExport(root, keys) {
  const pem = fs.readFileSync(path.join(ROOT, 'tests/fixtures/cloudtrail/test_signing_key.pk8.pem'), 'utf8');
  const der = crypto.createPublicKey(pem).export({ type: 'spki', format: 'der' });
  const fingerprint = crypto.createHash('md5').update(der).digest('hex');
  const put = (rel, bytes) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), bytes);
  };
  const logKey = `AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/2024/03/10/${ACCOUNT}_CloudTrail_${REGION}_20240310T0915Z_aB3.json.gz`;
  const log = JSON.stringify({
    Records: [{ eventVersion: '1.08', eventTime: '2024-03-10T09:10:00Z', eventSource: 's3.amazonaws.com', eventName: 'GetObject' }],
  });
  put(logKey, zlib.gzipSync(log));
  const digestKey = `AWSLogs/${ACCOUNT}/CloudTrail-Digest/${REGION}/2024/03/10/${ACCOUNT}_CloudTrail-Digest_${REGION}_audit_us-east-1_20240310T100000Z.json.gz`;
  const digest = JSON.stringify({
    awsAccountId: ACCOUNT,
    digestStartTime: '2024-03-10T09:00:00Z',
    digestEndTime: '2024-03-10T10:00:00Z',
    digestS3Bucket: 'trail-bucket',
    digestS3Object: digestKey,
    digestPublicKeyFingerprint: fingerprint,
    digestSignatureAlgorithm: 'SHA256withRSA',
    newestEventTime: '2024-03-10T09:10:00Z',
    oldestEventTime: '2024-03-10T09:10:00Z',
    previousDigestS3Bucket: null,
    previousDigestS3Object: null,
    previousDigestHashValue: null,
    previousDigestHashAlgorithm: null,
    previousDigestSignature: null,
    logFiles: [{ s3Bucket: 'trail-bucket', s3Object: logKey, hashValue: sha(log), hashAlgorithm: 'SHA-256' }],
  }).replaceAll('/', '\\/');
  put(digestKey, zlib.gzipSync(digest));
  // What AWS signs: digestEndTime, bucket/object, hex SHA-256 of the digest, previous signature ("null").
  const message = `2024-03-10T10:00:00Z\ntrail-bucket/${digestKey}\n${sha(digest)}\nnull`;
  const signature = crypto.sign('sha256', Buffer.from(message), pem).toString('hex');
  put(`${digestKey}.head.json`, JSON.stringify({ Metadata: { signature, 'signature-algorithm': 'SHA256withRSA' } }));
  fs.writeFileSync(
    keys,
    JSON.stringify({
      PublicKeyList: [
        { Value: der.toString('base64'), ValidityStartTime: '2024-01-01T00:00:00Z', ValidityEndTime: '2025-01-01T00:00:00Z', Fingerprint: fingerprint },
      ],
    }),
  );
  return path.join(root, logKey);
}

describe('a CloudTrail export in the app', () => {
  let s;
  let root;
  let keys;
  let logFile;

  before(async () => {
    root = h.path('trail-export');
    keys = h.path('keys.json');
    logFile = writeExport(root, keys);
    s = await h.launch(['--db', h.path('cloudtrail.db')]);
  });
  after(async () => {
    await s?.quit();
  });

  it('opens the verification dialog for a dropped export instead of importing it', async () => {
    await step(s, 'drop', async () => {
      await h.drop(s, root);
      await s.waitForElement('#cloudtrail-dialog');
      assert.equal(await (await s.find('#tab-import')).attribute('aria-selected'), 'true');
      assert.equal((await s.text('#cloudtrail-path')).trim(), root);
      assert.match(await s.text('#cloudtrail-explain'), /Importing a CloudTrail export into the database is not built yet/);
      assert.equal(await s.execute('return document.getElementById("cloudtrail-verify").disabled'), true);
      assert.equal(await s.execute('return document.querySelectorAll("li.import-card").length'), 0);
      await h.screenshot(s, 'ct01-cloudtrail-dialog');
    });
  });

  it('verifies the export with the real command, and fails a changed log file with its hashes', async () => {
    await step(s, 'verify', async () => {
      const invoke = (accounts) =>
        s.executeAsync(
          `const [path, keys, accounts, done] = arguments;
           window.__TAURI_INTERNALS__.invoke('verify_cloudtrail', { path, keys, signatures: null, accounts })
             .then((r) => done(JSON.stringify(r)), (e) => done(JSON.stringify({ error: e })));`,
          root,
          [keys],
          accounts,
        );
      const ok = JSON.parse(await invoke([ACCOUNT]));
      assert.equal(ok.report?.verified, true, JSON.stringify(ok));
      assert.equal(ok.report.chains[0].log_files_verified, 1);
      assert.match(ok.text.at(-1), /^VERIFIED/);
      const log = zlib.gunzipSync(fs.readFileSync(logFile)).toString().replace('GetObject', 'PutObject');
      fs.writeFileSync(logFile, zlib.gzipSync(log));
      const bad = JSON.parse(await invoke([]));
      assert.equal(bad.report.verified, false);
      const f = bad.report.chains[0].failures[0];
      assert.equal(f.kind, 'log_hash_mismatch');
      assert.notEqual(f.expected, f.found);
    });
  });
});
