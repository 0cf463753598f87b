// End-to-end: trust bound to origins in the built app. Archives sealed by the real `auditlens` command line with two
// keys: alpha signs sequence 1 of corp.example/prod/k8s and sequence 1 of corp.example/staging/k8s; beta signs
// sequence 2 of corp.example/prod/k8s (continuing alpha's chain: a signer change). The app starts with an empty
// keyring and the three archives on its command line:
//   (a) trusting alpha from its untrusted archive binds it to that archive's origin (the Keyring shows the grant);
//   (b) the staging archive, signed by alpha, then says "not trusted for this origin" with a one-click grant, and
//       after the click it is verified;
//   (c) beta granted for the prod origin: sequence 2 imports and the Archives screen shows the signer change;
//   (d) beta's grant removed: sequence 2 is no longer counted as verified (the Keyring says so, the Overview lists
//       it as signed by a key that is not trusted, the Archives screen marks it), and granting beta again restores it;
//   (e) a database imported by the command line under another key (gamma), opened with --db: the Overview names its
//       archive as marked verified but not trusted by this keyring now (the Access dashboard says its figures count
//       it), and "Mark as not trusted" demotes it;
//   (f) a database whose rows were edited after import, opened with --db and gamma trusted: the edited events are
//       shown as NOT VERIFIED, the others as verified, and the detail says what differs from the signed event.
// Screenshots go to target/e2e-screenshots/ (t01-...).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Harness, ROOT } from './harness.mjs';
import { search } from './steps.mjs';
import { Keys } from './webdriver.mjs';

const CLI = path.join(ROOT, 'target/debug/auditlens');
const LOGS = path.join(ROOT, 'tests/fixtures/logs');
const PROD = 'corp.example/prod/k8s';
const STAGING = 'corp.example/staging/k8s';

let h;
const fx = {};
before(async () => {
  h = await Harness.start();
  execFileSync('cargo', ['build', '--quiet', '--locked', '--bin', 'auditlens'], { cwd: ROOT, stdio: 'inherit' });
  const dir = h.path('trust');
  fs.mkdirSync(dir, { recursive: true });
  const run = (...args) => execFileSync(CLI, args, { encoding: 'utf8' });
  for (const name of ['e2e-alpha', 'e2e-beta', 'e2e-gamma']) run('keygen', '--name', name, '--out', path.join(dir, 'keys'));
  // The signer's fingerprint as `verify --json` reports it (whatever its exit code).
  const fingerprint = (archive) => {
    let out;
    try {
      out = run('verify', '--json', archive);
    } catch (e) {
      out = e.stdout;
    }
    return JSON.parse(out).archives[0].signer.fingerprint;
  };
  const seal = (name, key, origin, input, prev) => {
    const out = path.join(dir, name);
    run(
      'seal',
      '--key',
      path.join(dir, `keys/${key}.key`),
      '--origin',
      origin,
      ...(prev ? ['--prev', path.join(dir, prev)] : []),
      '--out',
      out,
      path.join(LOGS, input),
    );
    return out;
  };
  fx.a1 = seal('prod-1.zip', 'e2e-alpha', PROD, 'k8s_audit/audit2rbac/demo.log');
  fx.s1 = seal('staging-1.zip', 'e2e-alpha', STAGING, 'k8s_audit/falco_trace_files/exec_pod.json');
  fx.a2 = seal('prod-2.zip', 'e2e-beta', PROD, 'k8s_audit/falco_trace_files/create_deployment.json', 'prod-1.zip');
  // A database imported by the command line under a key this app's keyring does not hold (handed over, or
  // imported with other keys).
  fx.handed = seal('handed-1.zip', 'e2e-gamma', 'corp.example/handed/k8s', 'k8s_audit/falco_trace_files/exec_pod.json');
  fx.handedDb = path.join(dir, 'handed.db');
  run('import', '--db', fx.handedDb, '--trust', path.join(dir, 'keys/e2e-gamma.pub'), fx.handed);
  // The same, under a key the app is given (--trust), then edited with plain SQL: one event's actor column, and
  // another event's bytes.
  fx.edited = seal('edited-1.zip', 'e2e-gamma', 'corp.example/edited/k8s', 'k8s_audit/audit2rbac/demo.log');
  fx.editedDb = path.join(dir, 'edited.db');
  fx.gammaPub = path.join(dir, 'keys/e2e-gamma.pub');
  run('import', '--db', fx.editedDb, '--trust', fx.gammaPub, fx.edited);
  const edits = [
    "UPDATE events SET actor = 'mallory' WHERE idx = 3",
    `UPDATE events SET raw = replace(raw, '"verb"', '"Verb"') WHERE idx = 5 AND raw LIKE '%"verb"%'`,
  ];
  const changed = execFileSync(
    'python3',
    ['-c', 'import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nprint(sum(c.execute(q).rowcount for q in sys.argv[2:]))\nc.commit()', fx.editedDb, ...edits],
    { encoding: 'utf8' },
  );
  assert.equal(changed.trim(), '2');
  fx.alpha = fingerprint(fx.a1);
  fx.beta = fingerprint(fx.a2);
});
after(async () => {
  await h?.stop();
});

async function step(session, name, fn) {
  try {
    return await fn();
  } catch (e) {
    await h.screenshot(session, `FAILED-trust-${name}`).catch(() => undefined);
    throw e;
  }
}

async function goTo(s, tab) {
  await (await s.find(`#tab-${tab}`)).click();
  await s.waitFor(`${tab} tab`, async () => (await (await s.find(`#tab-${tab}`)).attribute('aria-selected')) === 'true');
}

function card(file) {
  return `li.import-card[data-path$="/${file}"]`;
}

async function outcome(s, file) {
  return (await s.find(card(file))).attribute('data-outcome');
}

describe('trust bound to origins', () => {
  let s;
  before(async () => {
    s = await h.launch(['--db', h.path('trust.db'), fx.a1, fx.s1, fx.a2]);
  });
  after(async () => {
    await s?.quit();
  });

  it('trusting a key from an untrusted archive binds it to that archive\'s origin', async () => {
    await step(s, 'bind', async () => {
      for (const f of ['prod-1.zip', 'staging-1.zip', 'prod-2.zip']) {
        await s.waitFor(`${f} untrusted`, async () => (await outcome(s, f)) === 'untrusted');
      }
      assert.match(await s.text(`${card('prod-1.zip')} .trust-reason`), /is not trusted/);
      await (await s.find(`${card('prod-1.zip')} .trust-button`)).click();
      await s.waitForText('#trust-fingerprint', fx.alpha);
      assert.equal(await s.execute('return document.getElementById("trust-origins").value'), PROD);
      await h.screenshot(s, 't01-trust-dialog-origin');
      await (await s.find('#trust-confirm')).click();
      await s.waitFor('prod-1 imported', async () => (await outcome(s, 'prod-1.zip')) === 'imported');
      await goTo(s, 'keyring');
      const rows = await s.findAll('#keys-table tbody tr');
      assert.equal(rows.length, 1);
      const row = `#keys-table tr[data-fingerprint="${fx.alpha}"][data-origins="${PROD}"]`;
      assert.match(await s.text(row), /e2e-alpha/);
      assert.equal(await s.text(`${row} .grant-origins`), PROD);
      assert.equal(await s.text(`${row} .grant-window`), 'at any time');
      await h.screenshot(s, 't02-keyring-grant');
      await goTo(s, 'import');
    });
  });

  it('a second origin signed by that key is not trusted for this origin, and one click grants it', async () => {
    await step(s, 'second-origin', async () => {
      // Imported again with the grant: now refused for its origin, with the reason.
      await s.waitFor('staging re-verified', async () => {
        if ((await outcome(s, 'staging-1.zip')) !== 'untrusted') return false;
        return /not trusted for this origin/.test(await s.text(`${card('staging-1.zip')} .trust-reason`));
      });
      const text = await s.text(card('staging-1.zip'));
      assert.match(text, /\(not trusted for this origin\)/);
      assert.match(text, new RegExp(`granted only for ${PROD.replace(/[.*/]/g, '\\$&')}`));
      const button = await s.find(`${card('staging-1.zip')} .grant-button`);
      assert.equal(await button.text(), `Trust this key for ${STAGING}`);
      await h.screenshot(s, 't03-not-trusted-for-this-origin');
      await button.click();
      await s.waitFor('staging imported', async () => (await outcome(s, 'staging-1.zip')) === 'imported');
      assert.match(await (await s.find(`${card('staging-1.zip')} .badge`)).text(), /^Verified/);
      await goTo(s, 'keyring');
      assert.equal((await s.findAll('#keys-table tbody tr')).length, 2);
      await s.find(`#keys-table tr[data-fingerprint="${fx.alpha}"][data-origins="${STAGING}"]`);
      await goTo(s, 'import');
    });
  });

  it('a second signer granted for the origin imports, and the Archives screen shows the signer change', async () => {
    await step(s, 'signer-change', async () => {
      await (await s.find(`${card('prod-2.zip')} .trust-button`)).click();
      await s.waitForText('#trust-fingerprint', fx.beta);
      assert.equal(await s.execute('return document.getElementById("trust-origins").value'), PROD);
      await (await s.find('#trust-confirm')).click();
      await s.waitFor('prod-2 imported', async () => (await outcome(s, 'prod-2.zip')) === 'imported');
      await goTo(s, 'archives');
      const changes = await s.waitForText('#signer-changes', 'signer changes at sequence 2');
      assert.match(
        changes,
        new RegExp(`${PROD.replace(/[.*/]/g, '\\$&')}: signer changes at sequence 2: e2e-alpha \\(${fx.alpha.replace(/[+/]/g, '\\$&')}\\) → e2e-beta`),
      );
      assert.equal((await s.findAll('#archives-table .signer-changed')).length, 1);
      await h.screenshot(s, 't04-archives-signer-change');
    });
  });

  it('removing a grant takes the archives it alone trusted out of the verified counts, and a new grant restores them', async () => {
    await step(s, 'demoted', async () => {
      await goTo(s, 'overview');
      await s.waitFor('all verified', async () => (await (await s.find('#verification')).attribute('data-verified')) === 'true');
      await goTo(s, 'keyring');
      const row = `#keys-table tr[data-fingerprint="${fx.beta}"][data-origins="${PROD}"]`;
      await (await s.find(`${row} .remove-grant`)).click();
      await (await s.find(`${row} .remove-confirm`)).click();
      const message = await s.waitForText('#key-message', 'no longer counted as verified');
      assert.match(message, new RegExp(`1 stored archive it vouched for is no longer counted as verified \\(${PROD.replace(/[.*/]/g, '\\$&')} #2\\)`));
      assert.equal((await s.findAll('#keys-table tbody tr')).length, 2);
      await h.screenshot(s, 't05-keyring-grant-removed');
      await goTo(s, 'overview');
      await s.waitFor('not all verified', async () => (await (await s.find('#verification')).attribute('data-verified')) === 'false');
      const untrusted = await s.text('#verification [data-kind="untrusted"]');
      assert.match(untrusted, /1 archive signed by a key that is not trusted/);
      assert.match(untrusted, /no longer trusted/);
      await s.execute('document.getElementById("verification").scrollIntoView()');
      await h.screenshot(s, 't06-overview-key-no-longer-trusted');
      await goTo(s, 'archives');
      await s.waitFor('prod #2 untrusted', async () => /Untrusted key/.test(await s.text('#archives-table')));
      // Granted again: re-verified from its stored bytes, and counted again.
      await goTo(s, 'keyring');
      await (await s.find('#key-text')).type(fs.readFileSync(path.join(h.path('trust'), 'keys/e2e-beta.pub'), 'utf8').trim());
      await (await s.find('#key-origins')).type(PROD);
      await (await s.find('#add-key')).click();
      await s.waitForText('#key-message', 'is now verified');
      await goTo(s, 'overview');
      await s.waitFor('all verified again', async () => (await (await s.find('#verification')).attribute('data-verified')) === 'true');
    });
  });
});

describe('a database imported under keys this keyring does not hold', () => {
  let s;
  before(async () => {
    s = await h.launch(['--db', fx.handedDb]);
  });
  after(async () => {
    await s?.quit();
  });

  it('the Overview names what the file marks verified but this keyring does not trust, and marks it on request', async () => {
    await step(s, 'not-trusted-now', async () => {
      await goTo(s, 'overview');
      const box = await s.waitForText('#verification-not-trusted-now', 'not trusted by your keyring now');
      assert.match(box, /1 archive is marked verified in this database, but its signer is not trusted by your keyring now/);
      assert.match(box, /corp\.example\/handed\/k8s #1/);
      assert.match(box, /signed by e2e-gamma \(SHA256:[^)]+\), not trusted: the key e2e-gamma/);
      assert.equal(await (await s.find('#verification')).attribute('data-verified'), 'false');
      await s.execute('document.getElementById("verification").scrollIntoView()');
      await h.screenshot(s, 't07-overview-not-trusted-now');
      // Its events are not shown as verified in the results either.
      await goTo(s, 'search');
      await search(s, 'origin:corp.example/handed/k8s');
      await s.waitForText('#results-body', 'NOT VERIFIED');
      assert.doesNotMatch(await s.text('#results-body'), /\bverified\b/);
      // The Access dashboard says its figures count it.
      await goTo(s, 'access');
      await s.waitForText('#access-not-trusted-now', 'These figures count 1 archive marked verified in this database');
      assert.match(await s.text('#access-not-trusted-now'), /corp\.example\/handed\/k8s@1/);
      await goTo(s, 'archives');
      await s.waitFor('handed #1 not trusted now', async () => /Not trusted now/.test(await s.text('#archives-table')));
      await goTo(s, 'overview');
      await (await s.find('#demote-untrusted')).click();
      await s.waitFor('demoted', async () => (await s.text('#verification-not-trusted-now')) === null);
      assert.match(await s.text('#verification [data-kind="untrusted"]'), /1 archive signed by a key that is not trusted/);
      await goTo(s, 'access');
      await s.waitForElement('#access-dashboard');
      await s.waitFor('no banner on Access', async () => (await s.text('#access-not-trusted-now')) === null);
      await goTo(s, 'archives');
      await s.waitFor('handed #1 untrusted', async () => /Untrusted key/.test(await s.text('#archives-table')));
    });
  });
});

describe('a database edited after its import', () => {
  let s;
  before(async () => {
    s = await h.launch(['--db', fx.editedDb, '--trust', fx.gammaPub]);
  });
  after(async () => {
    await s?.quit();
  });

  it('shows the edited events as not verified, the others as verified, and says what differs', async () => {
    await step(s, 'edited-rows', async () => {
      await goTo(s, 'search');
      await search(s, 'origin:corp.example/edited/k8s');
      await s.waitForText('#match-count', /^37 matches/);
      const badges = async () =>
        s.execute(
          `return [...document.querySelectorAll('#results-body [role=row] .col-verified .badge')].map((b) => b.textContent)`,
        );
      await s.waitFor('badges', async () => (await badges()).length >= 20);
      const shown = await badges();
      assert.equal(shown.filter((b) => b === 'NOT VERIFIED').length, 2, shown.join(','));
      await s.execute(
        `[...document.querySelectorAll('#results-body [role=row] .col-verified .badge')].find((b) => b.textContent === 'NOT VERIFIED').scrollIntoView({ block: 'center' })`,
      );
      await h.screenshot(s, 't08-search-edited-rows');
      await search(s, 'origin:corp.example/edited/k8s actor:mallory');
      await s.waitForText('#match-count', /^1 match/);
      await (await s.waitForElement('#results-body [role=row]')).click();
      await (await s.find('#results-body')).type(Keys.ENTER);
      await s.waitForElement('#event-detail');
      await s.waitForText('#event-status', 'NOT VERIFIED');
      const why = await s.text('#event-not-confirmed');
      assert.match(why, /its archive is marked verified in this database, but this event as stored is not the one signed/);
      assert.match(why, /stored actor "mallory" differs from the event's "system:admin as bob"/);
      await s.execute('document.getElementById("event-provenance").scrollIntoView({ block: "start" })');
      await h.screenshot(s, 't09-event-not-the-signed-one');
    });
  });
});
