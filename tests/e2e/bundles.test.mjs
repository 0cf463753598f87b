// End-to-end: evidence bundles in the real app (target/debug/auditlens-app) under tauri-driver and Xvfb. Search,
// tick rows, export them with a purpose (creating the auditor key in the app), export every match of a query,
// then open the exported bundle on the "Received bundle" screen and see it verified, and a tampered copy refused
// with the verifier's reason. The same bundles are checked with the CLI (`auditlens verify-bundle`), and the
// bundle's report.html is rendered with headless Chromium to PNG and PDF (tests/e2e/render_report.sh).
// Screenshots and the rendered report go to target/e2e-screenshots/.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { fill, goTo, search, stepper } from './steps.mjs';
import { Harness, ROOT, SCREENSHOTS } from './harness.mjs';

const CLI = path.join(ROOT, 'target/debug/auditlens');
const K8S = 'e2e.auditlens.dev/prod/k8s-audit';
/** Events of the k8s origin in k8s-1.zip and k8s-2.zip. */
const K8S_EVENTS = 39;

let h;
const step = (session, name, fn) => stepper(h, 'bundles-')(session, name, fn);
before(async () => {
  // The CLI that checks the app's bundles (quick when it is up to date).
  execFileSync('cargo', ['build', '--quiet', '--locked', '-p', 'auditlens-cli', '--bin', 'auditlens'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  h = await Harness.start();
});
after(async () => {
  await h?.stop();
});

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function cli(args) {
  return spawnSync(CLI, args, { encoding: 'utf8' });
}

/** A copy of `src` with one digit of events.jsonl changed (same length: only the hashes tell). */
function tamper(src, dst) {
  execFileSync('python3', [
    '-c',
    `import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w', zipfile.ZIP_DEFLATED) as zout:
    for info in zin.infolist():
        data = zin.read(info.filename)
        if info.filename == 'events.jsonl':
            i = next(i for i, b in enumerate(data) if 48 <= b <= 57)
            data = data[:i] + bytes([48 + (data[i] - 47) % 10]) + data[i + 1:]
        zout.writestr(info.filename, data)`,
    src,
    dst,
  ]);
}

describe('evidence bundles in the app', () => {
  let s;
  let fx;
  let fingerprint;
  const selected = () => h.path('selected-rows.zip');
  const all = () => h.path('all-k8s.zip');
  const tampered = () => h.path('tampered-bundle.zip');

  before(async () => {
    fx = h.fixtures;
    s = await h.launch(['--db', h.path('bundles.db'), '--trust', fx.opsPub, fx.k8s1, fx.k8s2, fx.cloudtrail, fx.hostile]);
  });
  after(async () => {
    await s?.quit();
  });

  it('imports the archives to export from', async () => {
    await step(s, 'imports', async () => {
      for (const f of ['k8s-1.zip', 'k8s-2.zip', 'cloudtrail-1.zip', 'hostile.zip']) {
        await s.waitFor(`${f} imported`, async () =>
          (await (await s.find(`li.import-card[data-path$="/${f}"]`)).attribute('data-outcome')) === 'imported',
        );
      }
      await s.waitForText('#db-counts', /^4 archives/);
    });
  });

  it('exports ticked rows with a purpose, after a preview, signed by a key created in the app', async () => {
    await step(s, 'export-selected', async () => {
      await goTo(s, 'search');
      await search(s, `origin:"${K8S}"`);
      await s.waitForText('#match-count', new RegExp(`^${K8S_EVENTS} matches`));
      await s.waitFor('rows', async () => (await s.findAll('#results-body [role=row] input.row-check')).length > 5);
      const boxes = await s.findAll('#results-body [role=row] input.row-check');
      for (const b of boxes.slice(0, 3)) await b.click();
      await s.waitForText('#checked-count', '3 selected');
      await h.screenshot(s, 'b01-search-ticked');

      await (await s.find('#export-evidence')).click();
      await s.waitForElement('#export-dialog');
      assert.equal(await s.execute('return document.getElementById("export-scope-ids").checked'), true);
      await s.waitForText('#preview-events', /^3$/);
      assert.match(await s.text('#preview-selection'), /3 event ids/);
      assert.match(await s.text('#preview-archives'), new RegExp(`${K8S.replace(/[./]/g, '\\$&')}@\\d — \\d events?`));
      assert.match(await s.text('#preview-range'), /\d{4}-\d\d-\d\d/);
      await s.waitFor('sample rows', async () => (await s.findAll('#preview-sample tbody tr')).length === 3);
      assert.equal(await s.execute('return document.getElementById("export-confirm").disabled'), true);

      // No auditor key yet: create one here.
      await fill(s, '#auditor-new-name', 'e2e-auditor');
      await (await s.find('#auditor-create')).click();
      fingerprint = (await s.waitForText('#auditor-fingerprint', 'SHA256:')).trim();
      await fill(s, '#export-purpose', 'Access review AUD-42: the three newest k8s events');
      await fill(s, '#export-out', selected());
      await h.screenshot(s, 'b02-export-dialog');
      await (await s.find('#export-confirm')).click();
      await s.waitForText('#export-result', 'Exported 3 events from', 30000);
      assert.equal((await s.text('#export-result-file')).trim(), selected());
      assert.equal((await s.text('#export-result-fingerprint')).trim(), fingerprint);
      assert.equal((await s.text('#export-result-sha256')).trim(), sha256(selected()));
      await h.screenshot(s, 'b03-export-result');
      await (await s.find('#export-close')).click();
    });
  });

  it('keeps the auditor key in the app-data folder, readable by its owner only', async () => {
    const dir = path.join(h.dataHome, 'dev.auditlens.app', 'auditor-keys');
    const mode = fs.statSync(path.join(dir, 'e2e-auditor.key')).mode & 0o777;
    assert.equal(mode, 0o600);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    await goTo(s, 'keyring');
    await s.waitForText('#auditor-key', fingerprint);
    await h.screenshot(s, 'b04-keyring-auditor-key');
  });

  it('exports every match of a query', async () => {
    await step(s, 'export-all', async () => {
      await goTo(s, 'search');
      await search(s, `origin:"${K8S}"`);
      await s.waitForText('#match-count', new RegExp(`^${K8S_EVENTS} matches`));
      await (await s.find('#export-evidence')).click();
      await s.waitForElement('#export-dialog');
      assert.equal(await s.execute('return document.getElementById("export-scope-query").checked'), true);
      await s.waitForText('#preview-events', new RegExp(`^${K8S_EVENTS}$`));
      assert.match(await s.text('#preview-selection'), /query origin:"e2e\.auditlens\.dev\/prod\/k8s-audit"/);
      await s.waitForText('#auditor-fingerprint', fingerprint);
      await fill(s, '#export-purpose', 'Every k8s event, for the Q2 review');
      await fill(s, '#export-out', all());
      await (await s.find('#export-confirm')).click();
      await s.waitForText('#export-result', `Exported ${K8S_EVENTS} events from 2 archives`, 30000);
      await (await s.find('#export-close')).click();
    });
  });

  it('opens the exported bundle as a received bundle and shows it verified, read-only', async () => {
    await step(s, 'open-verified', async () => {
      await goTo(s, 'bundle');
      await fill(s, '#bundle-path', selected());
      await (await s.find('#bundle-verify')).click();
      await s.waitForText('#bundle-verdict', 'Verified', 30000);
      assert.equal(await s.execute('return document.querySelector(".bundle-view").dataset.verdict'), 'verified');
      assert.equal((await s.text('#bundle-sha256')).trim(), sha256(selected()));
      assert.match(await s.text('#bundle-auditor'), new RegExp(`e2e-auditor\\s+${fingerprint.replace(/[+/]/g, '\\$&')}\\s+your auditor key`));
      assert.equal((await s.text('#bundle-purpose')).trim(), 'Access review AUD-42: the three newest k8s events');
      assert.match(await s.text('#bundle-selection'), /3 listed event ids/);
      assert.match(await s.text('#bundle-archives'), /in your keyring/);
      await s.waitFor('3 events', async () => (await s.findAll('#bundle-events > li')).length === 3);
      await (await s.find('#bundle-events .bundle-event-head')).click();
      await s.waitForText('#bundle-events pre', '"kind"');
      await h.screenshot(s, 'b05-received-verified');
      // Nothing was imported.
      assert.match(await s.text('#db-counts'), /^4 archives/);
    });
  });

  it('refuses a tampered copy with the verifier\'s exact reason', async () => {
    await step(s, 'open-tampered', async () => {
      tamper(all(), tampered());
      await fill(s, '#bundle-path', tampered());
      await (await s.find('#bundle-verify')).click();
      await s.waitForText('#bundle-verdict', 'NOT VERIFIED', 30000);
      assert.match(await s.text('#bundle-reason'), /entry "events\.jsonl" differs from the one the auditor signed \(SHA-256 mismatch\)/);
      const failure = await s.text('#bundle-failure');
      assert.match(failure, /entries/);
      assert.match(failure, /entry events\.jsonl/);
      assert.match(failure, /Expected/);
      assert.match(failure, /Found/);
      assert.equal(await s.execute('return document.getElementById("bundle-events")'), null);
      await h.screenshot(s, 'b06-received-tampered');
    });
  });

  it('opens a bundle dropped on the window on the Received bundle screen instead of importing it', async () => {
    await step(s, 'drop-bundle', async () => {
      await goTo(s, 'search');
      // A real drag and drop from another X client (tests/e2e/drag_source.py), the way a file manager drops.
      await h.drop(s, all());
      await s.waitFor('bundle tab', async () => (await (await s.find('#tab-bundle')).attribute('aria-selected')) === 'true');
      await s.waitFor('dropped path', async () => (await s.execute('return document.getElementById("bundle-path").value')) === all());
      await s.waitForText('#bundle-verdict', 'Verified', 30000);
      await s.waitFor(`${K8S_EVENTS} events`, async () => (await s.findAll('#bundle-events > li')).length === K8S_EVENTS);
      // A tampered bundle dropped is opened too, and refused with the verifier's reason (not tried as an archive).
      await h.drop(s, tampered());
      await s.waitForText('#bundle-verdict', 'NOT VERIFIED', 30000);
      assert.match(await s.text('#bundle-reason'), /SHA-256 mismatch/);
      // Nothing was imported, and the import list never saw them.
      assert.match(await s.text('#db-counts'), /^4 archives/);
      const everything = await s.execute('return document.getElementById("screen").textContent');
      assert.ok(!everything.includes('is not allowed in an archive'), 'a bundle was tried as an archive');
      assert.equal(
        await s.execute('return document.querySelectorAll(\'li.import-card[data-path$="/all-k8s.zip"], li.import-card[data-path$="/tampered-bundle.zip"]\').length'),
        0,
        'an import was tried',
      );
    });
  });

  it('shows the events of a received bundle as text and runs none of their payloads', async () => {
    await step(s, 'open-hostile', async () => {
      await goTo(s, 'search');
      await search(s, 'origin:"e2e.auditlens.dev/hostile"');
      await s.waitForText('#match-count', /^4 matches/);
      await (await s.find('#export-evidence')).click();
      await s.waitForText('#preview-events', /^4$/);
      await s.waitForText('#auditor-fingerprint', fingerprint);
      await fill(s, '#export-purpose', 'Hostile payloads, to check the reader');
      await fill(s, '#export-out', h.path('hostile-bundle.zip'));
      await (await s.find('#export-confirm')).click();
      await s.waitForText('#export-result', 'Exported 4 events from 1 archive', 30000);
      await (await s.find('#export-close')).click();
      await goTo(s, 'bundle');
      await fill(s, '#bundle-path', h.path('hostile-bundle.zip'));
      await (await s.find('#bundle-verify')).click();
      await s.waitForText('#bundle-verdict', 'Verified', 30000);
      const text = await s.waitForText('#bundle-events', '<img src=x onerror=window.__pwned=1>');
      assert.ok(text.includes('<script>window.__pwned=1</script>'), text);
      for (const head of await s.findAll('#bundle-events .bundle-event-head')) await head.click();
      await s.waitForText('#bundle-events', '"><svg onload=window.__pwned=1>');
      await h.screenshot(s, 'b07-received-hostile');
      const state = await s.execute(`return {
        pwned: typeof window.__pwned,
        injected: document.querySelectorAll('#root img, #root script, #root svg[onload], [onerror]').length,
      };`);
      assert.deepEqual(state, { pwned: 'undefined', injected: 0 });
    });
  });

  it('exported bundles that the CLI verifies, and a tampered one it refuses', () => {
    const auditorPub = path.join(h.dataHome, 'dev.auditlens.app', 'auditor-keys', 'e2e-auditor.pub');
    for (const bundle of [selected(), all()]) {
      const r = cli(['verify-bundle', '--trust', fx.opsPub, '--trust-auditor', auditorPub, '--json', bundle]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const v = JSON.parse(r.stdout);
      assert.equal(v.status, 'verified');
      assert.equal(v.auditor.fingerprint, fingerprint);
      assert.equal(v.auditor.trusted, true);
    }
    const v = JSON.parse(cli(['verify-bundle', '--trust', fx.opsPub, '--json', selected()]).stdout);
    assert.equal(v.purpose, 'Access review AUD-42: the three newest k8s events');
    assert.equal(v.selection.ids.length, 3);
    assert.equal(v.events.length, 3);
    const bad = cli(['verify-bundle', '--trust', fx.opsPub, '--json', tampered()]);
    assert.equal(bad.status, 1, bad.stdout + bad.stderr);
    const f = JSON.parse(bad.stdout);
    assert.equal(f.status, 'failed');
    assert.equal(f.failure.kind, 'entries');
    assert.equal(f.failure.entry, 'events.jsonl');
  });

  it('renders the exported bundle\'s report.html with headless Chromium to PNG and PDF', () => {
    const out = path.join(SCREENSHOTS, 'report');
    fs.rmSync(out, { recursive: true, force: true });
    const printed = execFileSync(path.join(ROOT, 'tests/e2e/render_report.sh'), [all(), out], { encoding: 'utf8' });
    assert.match(printed, /report\.png/);
    const png = path.join(out, 'report.png');
    const pdf = path.join(out, 'report.pdf');
    const head = fs.readFileSync(png).subarray(0, 8);
    assert.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.ok(fs.statSync(png).size > 10000, 'the screenshot is not blank');
    assert.equal(fs.readFileSync(pdf).subarray(0, 5).toString(), '%PDF-');
    const info = execFileSync('pdfinfo', [pdf], { encoding: 'utf8' });
    const pages = Number(info.match(/^Pages:\s+(\d+)/m)?.[1]);
    assert.ok(pages >= 1, info);
  });
});
