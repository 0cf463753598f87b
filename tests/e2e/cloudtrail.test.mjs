// End-to-end: an AWS CloudTrail export dropped on the real app (target/debug/auditlens-app) under tauri-driver and
// Xvfb. The export is written here as AWS writes one (a log file, its hourly digest with escaped slashes, signed
// SHA256withRSA with the test key of tests/fixtures/cloudtrail, the digest's S3 metadata as `<digest>.head.json`,
// and the key list `aws cloudtrail list-public-keys` prints). Dropped for real, it is not imported as an archive:
// the "AWS CloudTrail export" dialog opens. The native file picker cannot be driven, so the key list is dropped on
// the open dialog for real (which takes JSON files as its keys); the dialog then verifies the export ("Verify
// offline") and imports it ("Verify and import", the real `import_cloudtrail`): its archive is "Signed by AWS
// CloudTrail" on Archives with the hour of its digest, and a search finds its event, labelled so. The real
// `verify_cloudtrail` command, called through the window's IPC, must fail a changed log file with its expected and
// found hashes; "Verify and import" of the changed export must fail with its failures listed and store nothing.
// Screenshots: target/e2e-screenshots/ct01-...

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';

import { fill, goTo, search, stepper } from './steps.mjs';
import { Harness, ROOT } from './harness.mjs';
import { Keys } from './webdriver.mjs';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
/** The trail named in the digest's file name, and the origin its import stores its events under. */
const TRAIL = 'audit';
const ORIGIN = `aws-cloudtrail:${ACCOUNT}/${REGION}/${TRAIL}`;

let h;
const step = (session, name, fn) => stepper(h, 'cloudtrail-')(session, name, fn);
before(async () => {
  h = await Harness.start();
});
after(async () => {
  await h?.stop();
});

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

/** Writes the export under `root` and the key list at `keys`; returns the log file's path and the key's fingerprint. */
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
  return { logFile: path.join(root, logKey), fingerprint };
}

const CLI = path.join(ROOT, 'target/debug/auditlens');
const cli = (args) => spawnSync(CLI, args, { encoding: 'utf8' });

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('a CloudTrail export in the app', () => {
  let s;
  let root;
  let keys;
  let logFile;
  let fingerprint;
  /** The label every door shows for the export's events: what was verified, with which AWS key. */
  let label;

  before(async () => {
    root = h.path('trail-export');
    keys = h.path('keys.json');
    ({ logFile, fingerprint } = writeExport(root, keys));
    label = new RegExp(`signed by AWS CloudTrail \\(key ${escape(fingerprint)}\\): log files verified against AWS's signed digests`);
    s = await h.launch(['--db', h.path('cloudtrail.db')]);
  });
  after(async () => {
    await s?.quit();
  });

  /** Drops the key list on the open dialog (it takes JSON files as its keys) and types the audited account. */
  async function giveKeys() {
    await h.drop(s, keys);
    await s.waitForText('#cloudtrail-keys', 'keys.json');
    await fill(s, '#cloudtrail-accounts', ACCOUNT);
    await s.waitFor('Verify and import enabled', async () =>
      (await s.execute('return document.getElementById("cloudtrail-import").disabled')) === false,
    );
  }

  /** The number of archives listed on Archives. */
  const archiveRows = () => s.execute('return document.querySelectorAll("#archives-table tr[data-archive-id]").length');

  it('opens the dialog for a dropped export instead of importing it as an archive', async () => {
    await step(s, 'drop', async () => {
      await h.drop(s, root);
      await s.waitForElement('#cloudtrail-dialog');
      assert.equal(await (await s.find('#tab-import')).attribute('aria-selected'), 'true');
      assert.equal((await s.text('#cloudtrail-path')).trim(), root);
      const explain = await s.text('#cloudtrail-explain');
      assert.match(explain, /Only an export that verifies in full is imported/);
      assert.match(explain, /signed by AWS CloudTrail/);
      assert.doesNotMatch(explain, /not built/);
      // Nothing runs before the keys are given.
      assert.equal(await s.execute('return document.getElementById("cloudtrail-verify").disabled'), true);
      assert.equal(await s.execute('return document.getElementById("cloudtrail-import").disabled'), true);
      assert.equal((await s.text('#cloudtrail-import')).trim(), 'Verify and import');
      assert.equal(await s.execute('return document.querySelectorAll("li.import-card").length'), 0);
      await h.screenshot(s, 'ct01-cloudtrail-dialog');
    });
  });

  it('verifies the export in the dialog, then imports it with "Verify and import"', async () => {
    await step(s, 'import', async () => {
      await giveKeys();
      await (await s.find('#cloudtrail-verify')).click();
      await s.waitForElement('#cloudtrail-result[data-verified="true"]', 30000);
      assert.match(await s.text('#cloudtrail-verdict'), /^Verified\./);
      // Verifying alone stored nothing.
      await s.waitForText('#db-counts', /^0 archives/);
      await h.screenshot(s, 'ct02-cloudtrail-verified');

      await (await s.find('#cloudtrail-import')).click();
      await s.waitForElement('#cloudtrail-import-result[data-outcome="imported"]', 30000);
      assert.match(await s.text('#cloudtrail-import-message'), /^Imported:/);
      const trail = `#cloudtrail-import-trails li[data-origin="${ORIGIN}"]`;
      assert.equal(await (await s.find(trail)).attribute('data-outcome'), 'imported');
      const line = await s.text(trail);
      assert.match(line, new RegExp(`^${escape(ORIGIN)}: 1 event, 1 log file, 1 signed digest`));
      assert.match(line, label);
      assert.equal(await s.execute('return document.getElementById("cloudtrail-failures")'), null);
      // The stored data changed: the status bar counts it.
      await s.waitForText('#db-counts', /^1 archive · 1 event/);
      await h.screenshot(s, 'ct03-cloudtrail-imported');
    });
  });

  it('shows the archive "Signed by AWS CloudTrail" on Archives, with its label and the hour of its digest', async () => {
    await step(s, 'archives', async () => {
      await (await s.find('#cloudtrail-close')).click();
      await s.waitFor('dialog closed', async () => (await s.execute('return document.getElementById("cloudtrail-dialog")')) === null);
      await goTo(s, 'archives');
      const row = `#archives-table tr[data-origin="${ORIGIN}"]`;
      await s.waitForElement(row);
      assert.equal((await s.text(`${row} .status-cell .badge`)).trim(), 'Signed by AWS CloudTrail');
      const id = await (await s.find(row)).attribute('data-archive-id');
      const under = `#archives-table tr[data-evidence-for="${id}"]`;
      assert.match(await s.text(`${under} .archive-evidence-label`), label);
      assert.match(await s.text(`${under} .cloudtrail-hours`), /^Hourly digests: 1, 2024-03-10 09:00:00 UTC – 2024-03-10 10:00:00 UTC/);
      // One digest: no gap in its trail's hours.
      assert.equal(await s.execute(`return document.querySelectorAll(${JSON.stringify(`${under} .hour-gap`)}).length`), 0);
      assert.equal(await archiveRows(), 1);
      await h.screenshot(s, 'ct04-archives-signed-by-aws');
      await (await s.find(`${row} td`)).click();
      await s.waitForElement('#archive-detail');
      await s.waitForText('#archive-status', 'Signed by AWS CloudTrail');
      assert.doesNotMatch(await s.text('#archive-status'), /under a trusted key/);
      assert.match(await s.text('#archive-evidence-label'), label);
      await s.execute('document.getElementById("archive-detail").scrollIntoView({ block: "start" })');
      await h.screenshot(s, 'ct05-archive-detail-signed-by-aws');
    });
  });

  it('finds the imported event in a search, "signed by AWS CloudTrail" in the results and its provenance', async () => {
    await step(s, 'search', async () => {
      await goTo(s, 'search');
      await search(s, `origin:"${ORIGIN}"`);
      await s.waitForText('#match-count', /^1 match/);
      const first = await s.waitForElement('#results-body [role=row]');
      const badge = await s.execute(
        `const b = document.querySelector('#results-body [role=row] .col-verified .badge'); return b && [b.textContent, b.className];`,
      );
      assert.equal(badge[0], 'signed by AWS CloudTrail');
      assert.match(badge[1], /\baws-cloudtrail\b/);
      await h.screenshot(s, 'ct06-search-signed-by-aws');
      await first.click();
      await (await s.find('#results-body')).type(Keys.ENTER);
      await s.waitForElement('#event-detail');
      await s.waitForText('#event-status', 'Signed by AWS CloudTrail');
      assert.equal(await (await s.find('#event-status')).attribute('data-status'), 'aws-cloudtrail');
      assert.match(await s.text('#event-evidence-label'), label);
      assert.doesNotMatch(await s.text('#event-status'), /verified in full/);
      // Its proof: the log file holding it (record 0) and the signed digest of its hour.
      assert.match(await s.text('#event-cloudtrail-log'), /\/CloudTrail\/eu-west-1\/.*\.json\.gz[\s\S]*record 0 · SHA-256 [0-9a-f]{64}/);
      assert.match(await s.text('#event-cloudtrail-digest'), /CloudTrail-Digest[\s\S]*09:00:00Z – 2024-03-10T10:00:00Z/);
      await s.execute('document.getElementById("event-provenance").scrollIntoView({ block: "start" })');
      await h.screenshot(s, 'ct07-event-signed-by-aws');
      await (await s.find('#event-back')).click();
    });
  });

  it('exports the event in an evidence bundle with its whole log file, and opens it verified with the kept keys', async () => {
    await step(s, 'bundle', async () => {
      const out = h.path('cloudtrail-bundle.zip');
      await goTo(s, 'search');
      await search(s, `origin:"${ORIGIN}"`);
      await s.waitForText('#match-count', /^1 match/);
      await (await s.find('#export-evidence')).click();
      await s.waitForElement('#export-dialog');
      // A CloudTrail log file cannot be disclosed partially: the preview says what goes out.
      await s.waitForText('#preview-cloudtrail', 'cannot be disclosed partially');
      assert.match(await s.text('#preview-cloudtrail'), /discloses 1 log file whole: 1 record in all, of which 1 selected/);
      await fill(s, '#auditor-new-name', 'ct-auditor');
      await (await s.find('#auditor-create')).click();
      await s.waitForText('#auditor-fingerprint', 'SHA256:');
      await fill(s, '#export-purpose', 'AUD-12: the trail, with AWS proof');
      await fill(s, '#export-out', out);
      await h.screenshot(s, 'ct07b-export-cloudtrail-preview');
      await (await s.find('#export-confirm')).click();
      await s.waitForText('#export-result', 'Exported 1 event from 1 archive', 30000);
      await (await s.find('#export-close')).click();

      await goTo(s, 'bundle');
      await fill(s, '#bundle-path', out);
      await (await s.find('#bundle-verify')).click();
      await s.waitForText('#bundle-verdict', 'Verified', 30000);
      assert.match(await s.text('#bundle-cloudtrail'), /AWS CloudTrail log files carried whole/);
      assert.match(await s.text('#bundle-archives .cloudtrail-label'), label);
      await h.screenshot(s, 'ct07c-received-cloudtrail-bundle');
      // The command line agrees, with the same AWS keys, and without them calls it untrusted.
      const ok = cli(['verify-bundle', '--aws-keys', keys, '--json', out]);
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      assert.match(JSON.parse(ok.stdout).archives[0].cloudtrail_label, label);
      const untrusted = cli(['verify-bundle', '--json', out]);
      assert.equal(JSON.parse(untrusted.stdout).status, 'untrusted');
    });
  });

  it('fails a changed log file with its hashes, with the real command and with "Verify and import", storing nothing', async () => {
    await step(s, 'tamper', async () => {
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

      // The changed export, dropped again and imported from the dialog: it fails, lists why, and stores nothing.
      await h.drop(s, root);
      await s.waitForElement('#cloudtrail-dialog');
      await giveKeys();
      await (await s.find('#cloudtrail-import')).click();
      await s.waitForElement('#cloudtrail-import-result[data-outcome="failed"]', 30000);
      const message = await s.text('#cloudtrail-import-message');
      assert.match(message, /nothing was stored/);
      assert.doesNotMatch(message, /\bimported\b/i);
      assert.equal(await s.execute('return document.querySelectorAll("#cloudtrail-import-trails li").length'), 0);
      assert.match(await s.text('#cloudtrail-verdict'), /^Not verified\./);
      const failures = await s.text('#cloudtrail-failures');
      assert.match(failures, /log_hash_mismatch/);
      assert.match(failures, new RegExp(`expected ${escape(f.expected)}, found ${escape(f.found)}`));
      await h.screenshot(s, 'ct08-cloudtrail-import-failed');
      await (await s.find('#cloudtrail-close')).click();
      await s.waitFor('dialog closed', async () => (await s.execute('return document.getElementById("cloudtrail-dialog")')) === null);
      await s.waitForText('#db-counts', /^1 archive · 1 event/);
      await goTo(s, 'archives');
      await s.waitForElement(`#archives-table tr[data-origin="${ORIGIN}"]`);
      assert.equal(await archiveRows(), 1);
      await h.screenshot(s, 'ct09-archives-after-failed-import');
    });
  });
});
