// The installed app (AUDITLENS_APP, unpacked from the .deb by check_deb.sh) driven through tauri-driver under Xvfb,
// as tests/e2e drives the development build: its first screen, its About box at the package's version, a store of
// the previous release opened on its Overview with the upgrade said, and a store of a newer release refused in the
// window with the file left as it was. Screenshots go to target/e2e-screenshots/package-*.png.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { APP, Harness, ROOT } from '../e2e/harness.mjs';

const VERSION = process.env.AUDITLENS_VERSION;
const OLD_STORE = path.join(ROOT, 'tests/fixtures/stores/v8-k8s-cloudtrail.db');

let h;
before(async () => {
  assert.ok(VERSION, 'AUDITLENS_VERSION is not set (check_deb.sh sets it)');
  assert.ok(APP.includes('/usr/bin/'), `AUDITLENS_APP should be the installed app, not ${APP}`);
  h = await Harness.start({ fixtures: false });
});
after(async () => {
  await h?.stop();
});

async function shot(s, name, fn) {
  try {
    return await fn();
  } catch (e) {
    await h.screenshot(s, `package-FAILED-${name}`).catch(() => undefined);
    throw e;
  }
}

describe('the installed app', () => {
  it('shows its first screen and its version in the About box', async () => {
    const s = await h.launch(['--db', h.path('first.db')]);
    try {
      await shot(s, 'first', async () => {
        await s.waitForText('#dropzone', 'Drop a signed audit archive here');
        await h.screenshot(s, 'package-01-first-screen');
        await (await s.find('#about-open')).click();
        await s.waitForText('#about-version', VERSION);
        await h.screenshot(s, 'package-02-about');
      });
    } finally {
      await s.quit();
    }
  });

  it('opens a store of the previous release on its Overview and says it was upgraded', async () => {
    const db = h.path('old.db');
    fs.copyFileSync(OLD_STORE, db);
    const s = await h.launch(['--db', db]);
    try {
      await shot(s, 'upgrade', async () => {
        await s.waitForText('#db-upgrade', 'backup-v8');
        await s.waitForText('#tab-overview', 'Overview');
        assert.equal(await (await s.find('#tab-overview')).attribute('aria-selected'), 'true');
        await h.screenshot(s, 'package-03-upgraded-store');
      });
    } finally {
      await s.quit();
    }
    assert.ok(fs.readFileSync(`${db}.backup-v8`).equals(fs.readFileSync(OLD_STORE)), 'the backup differs from the old store');
  });

  it('refuses a store of a newer release in its window and leaves it unchanged', async () => {
    // The old store marked as made by a much newer AuditLens: SQLite's header keeps PRAGMA user_version (the
    // schema version) as a big-endian integer at offset 60.
    const db = h.path('newer.db');
    const bytes = fs.readFileSync(OLD_STORE);
    bytes.writeUInt32BE(9999, 60);
    fs.writeFileSync(db, bytes);
    const s = await h.launch(['--db', db], '#no-database');
    try {
      await shot(s, 'newer', async () => {
        await s.waitForText('#no-database-reason', 'newer AuditLens');
        await h.screenshot(s, 'package-04-newer-store-refused');
      });
    } finally {
      await s.quit();
    }
    assert.ok(fs.readFileSync(db).equals(bytes), 'the refused store was changed');
  });
});
