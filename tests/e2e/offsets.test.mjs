// End-to-end: the results list of the built app spans every match once they are counted, and the scrollbar
// dragged far into them shows the rows at that position, read by their offset (Store::search_at, docs/search.md
// section 12) and not page by page from either end. 20,000 events written here (one a second, actors user-00000 to
// user-19999, so each row's time and actor follow from its position), sealed and imported by the real command
// line. Screenshots go to target/e2e-screenshots/.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Harness, ROOT } from './harness.mjs';
import { goTo } from './steps.mjs';
import { Keys } from './webdriver.mjs';

const CLI = path.join(ROOT, 'target/debug/auditlens');
const N = 20000;
const T0 = Date.UTC(2024, 4, 1);

let h;
let s;
before(async () => {
  h = await Harness.start({ fixtures: false });
  execFileSync('cargo', ['build', '--quiet', '--locked', '--bin', 'auditlens'], { cwd: ROOT, stdio: 'inherit' });
  const dir = h.path('offsets');
  fs.mkdirSync(dir, { recursive: true });
  const log = path.join(dir, 'events.jsonl');
  const lines = [];
  for (let i = 0; i < N; i++) {
    const actor = `user-${String(i).padStart(5, '0')}`;
    lines.push(JSON.stringify({ time: new Date(T0 + i * 1000).toISOString(), actor, action: 'read', resource: `doc-${i % 97}` }));
  }
  fs.writeFileSync(log, lines.join('\n') + '\n');
  const run = (...args) => execFileSync(CLI, args, { encoding: 'utf8' });
  run('keygen', '--name', 'e2e-offsets', '--out', dir);
  const archive = path.join(dir, 'a.zip');
  run('seal', '--key', path.join(dir, 'e2e-offsets.key'), '--origin', 'e2e.auditlens.dev/offsets', '--out', archive, log);
  const db = path.join(dir, 'offsets.db');
  run('import', '--db', db, '--trust', path.join(dir, 'e2e-offsets.pub'), archive);
  s = await h.launch(['--db', db]);
});

after(async () => {
  await s?.quit().catch(() => undefined);
  await h?.stop();
});

/** Scrolls the results list to `fraction` of its height and waits until every row in view is loaded; returns the
 * index of the first row in view. */
async function dragTo(fraction) {
  await s.execute(`const b = document.getElementById('results-body'); b.scrollTop = b.scrollHeight * ${fraction};`);
  let first = -1;
  await s.waitFor(`the rows at ${fraction}`, async () => {
    first = await s.execute(`const b = document.getElementById('results-body'); const r = b.getBoundingClientRect();
      const rows = [...b.querySelectorAll('.grid-row')].filter((e) => { const x = e.getBoundingClientRect(); return x.top >= r.top && x.bottom <= r.bottom; });
      if (rows.length === 0 || rows.some((e) => e.classList.contains('loader'))) return -1;
      return Math.min(...rows.map((e) => Number(e.id.replace('row-', ''))));`);
    return first >= 0;
  });
  return first;
}

const utc = (ms) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

describe('results far from both ends', () => {
  it('spans every match and shows the rows where the scrollbar is dragged, newest first and sorted', async () => {
    // The first visit to Search shows every event.
    await goTo(s, 'search');
    await s.waitForText('#match-count', /^20,000 matches/);
    // The count and the first page are two queries: the list spans every match once both have come, in either order.
    await s.waitFor('the list spanning every match', async () =>
      (await s.execute(`return document.getElementById('results').getAttribute('aria-rowcount')`)) === String(N));

    // Newest first: row i is event N - 1 - i, one second apart.
    const first = await dragTo(0.5);
    assert.ok(first > 2000 && first < N - 2000, `row ${first} is far from both loaded ends`);
    for (const i of [first, first + 5]) {
      const text = await s.text(`#row-${i}`);
      assert.match(text, new RegExp(utc(T0 + (N - 1 - i) * 1000)), `row ${i}: ${text}`);
      assert.match(text, new RegExp(`user-${String(N - 1 - i).padStart(5, '0')}`), `row ${i}: ${text}`);
    }
    await h.screenshot(s, 'offsets-middle');

    // Sorted by actor, A to Z: row i is user-i.
    await (await s.find('.sort-head[data-column="actor"]')).click();
    await s.waitFor('sorted by actor', async () =>
      (await s.execute(`return document.querySelector('.sort-head[data-column="actor"]').closest('[role="columnheader"]').getAttribute('aria-sort')`)) === 'ascending');
    await s.waitForText('#match-count', /^20,000 matches/);
    await s.waitForElement('#row-0');
    assert.match(await s.text('#row-0'), /user-00000/);
    const sorted = await dragTo(0.75);
    assert.ok(sorted > 2000 && sorted < N - 2000, `row ${sorted} is far from both loaded ends`);
    assert.match(await s.text(`#row-${sorted}`), new RegExp(`user-${String(sorted).padStart(5, '0')}`));
    // The row opens its event, and the detail is that event.
    await (await s.find(`#row-${sorted}`)).click();
    await (await s.find('#results-body')).type(Keys.ENTER);
    await s.waitFor('the event detail', async () =>
      new RegExp(`@1#${sorted}(?!\\d)`).test((await s.execute(`return document.querySelector('.event-id')?.textContent ?? ''`)) || ''));
    await h.screenshot(s, 'offsets-sorted-event');
  });
});
