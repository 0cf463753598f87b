// End-to-end: log files nobody signed, sealed on receipt in the real app (target/debug/auditlens-app) under
// tauri-driver and Xvfb (docs/archive-format.md section 4.1). A real Kubernetes audit log
// (tests/fixtures/logs/k8s_audit/audit2rbac/demo.log) is dropped on the window for real: it is not imported as an
// archive, the "Import unsigned logs" dialog opens with it; the auditor key is created in the dialog, the origin
// named, and the real `receive_files` command seals the file with that key, trusts it for exactly that origin and
// imports the archive. Its label `sealed on receipt by NAME (FINGERPRINT) at TIME: proves no change since receipt,
// not authenticity at the source` is then checked on the Import, Search, Event and Archives screens, beside a signed
// archive that stays "verified"; the CLI verifies the sealed archive on its own. Then the app is started again with
// another log on its command line: the dialog opens with it and the key in use, and its archive continues the
// origin (sequence 2). Screenshots go to target/e2e-screenshots/ (r01-...).

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { fill, goTo, search, stepper } from './steps.mjs';
import { Harness, ROOT } from './harness.mjs';
import { Keys } from './webdriver.mjs';

const CLI = path.join(ROOT, 'target/debug/auditlens');
const LOGS = path.join(ROOT, 'tests/fixtures/logs');
const ORIGIN = 'received/demo';
const MEANING = 'proves no change since receipt, not authenticity at the source';
/** Events in demo.log (one JSON object a line). */
const DEMO_EVENTS = 37;

let h;
const step = (session, name, fn) => stepper(h, 'received-')(session, name, fn);
before(async () => {
  // The CLI that checks the sealed archive on its own (quick when it is up to date).
  execFileSync('cargo', ['build', '--quiet', '--locked', '-p', 'auditlens-cli', '--bin', 'auditlens'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  h = await Harness.start();
});
after(async () => {
  await h?.stop();
});

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** The label of an archive sealed on receipt by `name` (`fingerprint`), at any time. */
const labelRe = (name, fingerprint) =>
  new RegExp(`sealed on receipt by ${escape(name)} \\(${escape(fingerprint)}\\) at \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z: ${escape(MEANING)}`);

describe('unsigned logs sealed on receipt in the app', () => {
  let s;
  let fingerprint;
  let label;
  /** A copy of the log, as received: a file of the auditor's, outside the repository. */
  const demo = () => h.path('incoming', 'demo.log');
  const second = () => h.path('incoming', 'exec_pod.json');

  before(async () => {
    fs.mkdirSync(h.path('incoming'), { recursive: true });
    fs.copyFileSync(path.join(LOGS, 'k8s_audit/audit2rbac/demo.log'), demo());
    fs.copyFileSync(path.join(LOGS, 'k8s_audit/falco_trace_files/exec_pod.json'), second());
    // A signed archive beside it, which stays "verified".
    s = await h.launch(['--db', h.path('received.db'), '--trust', h.fixtures.opsPub, h.fixtures.k8s1]);
  });
  after(async () => {
    await s?.quit();
  });

  it('opens the dialog for a dropped log file instead of importing it', async () => {
    await step(s, 'drop', async () => {
      await s.waitFor('k8s-1.zip imported', async () =>
        (await (await s.find('li.import-card[data-path$="/k8s-1.zip"]')).attribute('data-outcome')) === 'imported',
      );
      await goTo(s, 'overview');
      // A real drag and drop from another X client (tests/e2e/drag_source.py), the way a file manager drops.
      await h.drop(s, demo());
      await s.waitForElement('#receive-dialog');
      assert.equal(await (await s.find('#tab-import')).attribute('aria-selected'), 'true');
      assert.equal(
        await s.execute('return [...document.querySelectorAll("#receive-files li")].map((li) => li.dataset.path).join("|")'),
        demo(),
      );
      assert.equal(await s.execute('return document.getElementById("receive-origin").value'), ORIGIN);
      assert.match(await s.text('#receive-explain'), new RegExp(escape(MEANING)));
      // No auditor key yet: the dialog says so and seals nothing until there is one.
      await s.waitForText('#receive-no-key', 'No auditor key yet');
      assert.equal(await s.execute('return document.getElementById("receive-confirm").disabled'), true);
      // Nothing was imported: the log is not an archive.
      assert.equal(await s.execute('return document.querySelectorAll("li.import-card").length'), 1);
      await h.screenshot(s, 'r01-receive-dialog-no-key');
    });
  });

  it('seals the file on receipt with a key created in the dialog, and imports it', async () => {
    await step(s, 'seal', async () => {
      await fill(s, '#auditor-new-name', 'e2e-receiver');
      await (await s.find('#auditor-create')).click();
      fingerprint = (await s.waitForText('#auditor-fingerprint', 'SHA256:')).trim();
      label = labelRe('e2e-receiver', fingerprint);
      assert.equal(await s.execute('return document.getElementById("receive-no-key")'), null);
      assert.match(await s.text('#receive-explain'), new RegExp(`sealed on receipt by e2e-receiver \\(${escape(fingerprint)}\\)`));
      await h.screenshot(s, 'r02-receive-dialog');
      await (await s.find('#receive-confirm')).click();
      // The dialog closes once the archive is sealed; its card shows the import and the label.
      await s.waitFor('dialog closed', async () => (await s.execute('return document.getElementById("receive-dialog")')) === null, 30000);
      const card = 'li.import-card[data-path*="/received/received_demo-"]';
      await s.waitFor('received archive imported', async () =>
        (await (await s.find(card)).attribute('data-outcome')) === 'imported',
      30000);
      assert.equal((await (await s.find(`${card} .badge`)).text()).trim(), 'Sealed on receipt');
      const message = await s.text(`${card} .result-message`);
      assert.match(message, label);
      assert.doesNotMatch(message, /^verified/);
      assert.match(await s.text(`${card} .received-files`), /demo\.log .*SHA-256 [0-9a-f]{64}/);
      await s.waitForText('#db-counts', /^2 archives/);
      await h.screenshot(s, 'r03-import-sealed-on-receipt');
    });
  });

  it('keeps the archive in the app-data folder, and the CLI verifies it as sealed on receipt', async () => {
    const dir = path.join(h.dataHome, 'dev.auditlens.app', 'received');
    const files = fs.readdirSync(dir).filter((f) => f.startsWith('received_demo-') && f.endsWith('.zip'));
    assert.equal(files.length, 1);
    const pub = path.join(h.dataHome, 'dev.auditlens.app', 'auditor-keys', 'e2e-receiver.pub');
    const r = spawnSync(CLI, ['verify', '--trust', pub, path.join(dir, files[0])], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // The CLI writes the label's first words in capitals, as it does "OK" and "FAILED".
    assert.match(r.stdout, new RegExp(label.source, 'i'));
    assert.match(r.stdout, /SEALED ON RECEIPT by e2e-receiver/);
  });

  it('shows a "sealed on receipt" badge in the search results, never "verified"', async () => {
    await step(s, 'search', async () => {
      await goTo(s, 'search');
      await search(s, `origin:"${ORIGIN}"`);
      await s.waitForText('#match-count', new RegExp(`^${DEMO_EVENTS} matches`));
      await s.waitForElement('#results-body [role=row]');
      const badges = await s.execute(
        `return [...document.querySelectorAll('#results-body [role=row] .col-verified .badge')].map((b) => [b.textContent, b.className, b.title])`,
      );
      assert.ok(badges.length > 5);
      for (const [text, cls, title] of badges) {
        assert.equal(text, 'sealed on receipt');
        assert.match(cls, /\breceipt\b/);
        assert.match(title, new RegExp(escape(MEANING)));
      }
      await h.screenshot(s, 'r04-search-sealed-on-receipt');
      // The signed archive's events stay "verified".
      await search(s, `-origin:"${ORIGIN}"`);
      await s.waitForText('#match-count', /^\d+ match/);
      await s.waitForElement('#results-body [role=row]');
      const other = await s.execute(
        `return [...new Set([...document.querySelectorAll('#results-body [role=row] .col-verified .badge')].map((b) => b.textContent))]`,
      );
      assert.deepEqual(other, ['verified']);
    });
  });

  it('says the label in the event provenance', async () => {
    await step(s, 'event', async () => {
      await search(s, `origin:"${ORIGIN}"`);
      await s.waitForText('#match-count', new RegExp(`^${DEMO_EVENTS} matches`));
      const first = await s.waitForElement('#results-body [role=row]');
      await first.click();
      await (await s.find('#results-body')).type(Keys.ENTER);
      await s.waitForElement('#event-detail');
      await s.waitForText('#event-status', 'Sealed on receipt');
      assert.equal(await (await s.find('#event-status')).attribute('data-status'), 'received');
      const status = await s.text('#event-status');
      assert.match(status, label);
      assert.doesNotMatch(status, /verified in full/);
      assert.match(await s.text('#event-signer'), new RegExp(escape(fingerprint)));
      await s.execute('document.getElementById("event-provenance").scrollIntoView({ block: "start" })');
      await h.screenshot(s, 'r05-event-sealed-on-receipt');
    });
  });

  it('shows a "sealed on receipt" status and the label on Archives, in the row and the detail', async () => {
    await step(s, 'archives', async () => {
      await goTo(s, 'archives');
      const row = `#archives-table tr[data-origin="${ORIGIN}"]`;
      await s.waitForElement(row);
      assert.equal((await s.text(`${row} .status-cell .badge`)).trim(), 'Sealed on receipt');
      const id = await (await s.find(row)).attribute('data-archive-id');
      assert.match(await s.text(`#archives-table tr[data-receipt-for="${id}"] .archive-receipt-label`), label);
      // The signed archive beside it is "Verified".
      assert.equal(
        (await s.text('#archives-table tr[data-origin="e2e.auditlens.dev/prod/k8s-audit"] .status-cell')).trim(),
        'Verified',
      );
      await h.screenshot(s, 'r06-archives-sealed-on-receipt');
      await (await s.find(`${row} td`)).click();
      await s.waitForElement('#archive-detail');
      await s.waitForText('#archive-status', 'Sealed on receipt');
      assert.doesNotMatch(await s.text('#archive-status'), /verified under a trusted key/);
      assert.match(await s.text('#archive-receipt-label'), label);
      assert.match(await s.text('#archive-manifest'), /"received"/);
      await s.execute('document.getElementById("archive-detail").scrollIntoView({ block: "start" })');
      await h.screenshot(s, 'r07-archive-detail-sealed-on-receipt');
    });
  });

  it('opens the dialog for a log given on the command line; its archive continues the origin', async () => {
    await s.quit();
    s = null;
    s = await h.launch(['--db', h.path('received.db'), second()], '#receive-dialog');
    await step(s, 'command-line', async () => {
      assert.equal(await s.execute('return document.getElementById("receive-origin").value'), 'received/exec_pod');
      // The key created before is the one in use.
      await s.waitForText('#auditor-fingerprint', fingerprint);
      await fill(s, '#receive-origin', ORIGIN);
      await (await s.find('#receive-confirm')).click();
      const card = 'li.import-card[data-path*="/received/received_demo-"]';
      await s.waitFor('second received archive imported', async () =>
        (await (await s.find(card)).attribute('data-outcome')) === 'imported',
      30000);
      assert.match(await s.text(`${card} .result-message`), label);
      assert.match(await s.text(`${card} dl`), new RegExp(`${escape(ORIGIN)} · sequence 2`));
      await h.screenshot(s, 'r08-command-line-sealed');
    });
  });
});
