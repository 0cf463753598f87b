// End-to-end: the auditor's working papers in the real app (issue 16). Tag, note and bookmark an event, find it by
// tag:, save a search, go back and forward through searches; export a bundle of the tagged events and see their
// annotations marked as the auditor's on the Received bundle screen; restart the app on the same database and find
// everything again; the action log's chain holds, and an entry edited in the file behind the app's back is named.
// Screenshots go to target/e2e-screenshots/.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { fill, goTo, search, stepper } from './steps.mjs';
import { Harness } from './harness.mjs';
import { Keys } from './webdriver.mjs';

const K8S = 'e2e.auditlens.dev/prod/k8s-audit';

let h;
const step = (session, name, fn) => stepper(h, 'papers-')(session, name, fn);
before(async () => {
  h = await Harness.start();
});
after(async () => {
  await h?.stop();
});


const queryValue = (s) => s.execute(`return document.getElementById('query').value`);

describe('working papers', () => {
  let s;
  let eventId;
  const bundle = () => h.path('annotated.zip');

  before(async () => {
    const fx = h.fixtures;
    s = await h.launch(['--db', h.path('papers.db'), '--trust', fx.opsPub, fx.k8s1, fx.k8s2]);
  });
  after(async () => {
    await s?.quit();
  });

  it('tags, notes and bookmarks an event, and finds it by tag', async () => {
    await step(s, 'annotate', async () => {
      await s.waitForText('#db-counts', /^2 archives/, 30000);
      await goTo(s, 'search');
      await search(s, `origin:"${K8S}"`);
      await s.waitForText('#match-count', /^39 matches/);
      await (await s.waitForElement('#results-body [role=row]')).click();
      await (await s.find('#results-body')).type(Keys.ENTER);
      await s.waitForElement('#event-papers');
      eventId = (await s.text('.event-id')).trim();
      await s.waitForElement('#papers-tag-input');
      await (await s.find('#papers-tag-input')).type('finding-3');
      await (await s.find('#papers-tag-input')).type(Keys.ENTER);
      await s.waitForElement('#papers-tags [data-tag="finding-3"]');
      await fill(s, '#papers-tag-input', 'exec');
      await (await s.find('#papers-tag-add')).click();
      await s.waitForElement('#papers-tags [data-tag="exec"]');
      await fill(s, '#papers-note', 'Deployed outside the change window; <b>ask</b> the ops lead.');
      await (await s.find('#papers-note-save')).click();
      await s.waitForText('#papers-note-saved', 'saved');
      await (await s.find('#papers-bookmark')).click();
      await s.waitFor('bookmarked', async () => (await (await s.find('#papers-bookmark')).attribute('aria-pressed')) === 'true');
      await s.execute('document.getElementById("event-papers").scrollIntoView({ block: "center" })');
      await h.screenshot(s, 'p01-event-working-papers');
      // A tag chip runs its search.
      await (await s.find('#papers-tags [data-tag="finding-3"] button')).click();
      await s.waitFor('tag search', async () => (await queryValue(s)) === 'tag:finding-3');
      await s.waitForText('#match-count', /^1 match\b/);
      await search(s, 'has:note has:bookmark tag:exec');
      await s.waitForText('#match-count', /^1 match\b/);
    });
  });

  it('goes back and forward through the searches, and saves one by name', async () => {
    await step(s, 'searches', async () => {
      await search(s, 'outcome:denied');
      await s.waitForText('#match-count', /match/);
      await (await s.find('#query-back')).click();
      await s.waitFor('back', async () => (await queryValue(s)) === 'has:note has:bookmark tag:exec');
      await s.waitForText('#match-count', /^1 match\b/);
      await (await s.find('#query-forward')).click();
      await s.waitFor('forward', async () => (await queryValue(s)) === 'outcome:denied');
      await search(s, 'tag:finding-3');
      await s.waitForText('#match-count', /^1 match\b/);
      await (await s.find('#papers-toggle')).click();
      await fill(s, '#save-search-name', 'Finding 3');
      await (await s.find('#save-search')).click();
      await s.waitForText('#saved-searches', 'Finding 3');
      await s.waitForText('#papers-tag-counts', 'finding-3');
      await s.waitForText('#recent-searches', 'outcome:denied');
      await h.screenshot(s, 'p02-search-working-papers');
    });
  });

  it('resizes a result column by dragging its edge, and cuts long values in the middle', async () => {
    await step(s, 'columns', async () => {
      await search(s, `origin:"${K8S}"`);
      await s.waitForText('#match-count', /^39 matches/);
      // The count and the first page of rows arrive apart: wait for the rows.
      await s.waitForElement('#results-body .col-resource');
      const width = () =>
        s.execute(`return document.querySelector('#results-body .col-resource').getBoundingClientRect().width`);
      const before = await width();
      await s.drag(await s.find('.col-resize[data-column="resource"]'), 160);
      await s.waitFor('wider resource column', async () => (await width()) > before + 100);
      // A long resource keeps its end in sight, the whole value in its title.
      const cut = await s.execute(`const c = [...document.querySelectorAll('#results-body .col-resource')]
        .find((e) => e.querySelector('.middle-tail'));
        return c ? [c.title, c.querySelector('.middle-tail').textContent] : null;`);
      assert.ok(cut, 'no resource value long enough to be cut in the middle');
      assert.ok(cut[0].endsWith(cut[1]), `${cut[0]} does not end with ${cut[1]}`);
      await h.screenshot(s, 'p02b-resized-column');
    });
  });

  it("exports the tagged event and shows its annotations as the auditor's, not evidence", async () => {
    await step(s, 'bundle', async () => {
      await search(s, 'tag:finding-3');
      await s.waitForText('#match-count', /^1 match\b/);
      await (await s.find('#export-evidence')).click();
      await s.waitForElement('#export-dialog');
      await s.waitForText('#preview-events', /^1$/);
      await fill(s, '#auditor-new-name', 'e2e-auditor');
      await (await s.find('#auditor-create')).click();
      await s.waitForText('#auditor-fingerprint', 'SHA256:');
      await fill(s, '#export-purpose', 'Finding 3 for the audit file');
      await fill(s, '#export-out', bundle());
      await (await s.find('#export-confirm')).click();
      await s.waitForText('#export-result', 'Exported 1 event from', 30000);
      await (await s.find('#export-close')).click();
      await goTo(s, 'bundle');
      await fill(s, '#bundle-path', bundle());
      await (await s.find('#bundle-verify')).click();
      await s.waitForText('#bundle-verdict', 'Verified', 30000);
      const box = await s.waitForText('#bundle-annotations', 'not evidence');
      assert.match(box, /finding-3/);
      assert.match(box, /exec/);
      assert.match(box, /Deployed outside the change window; <b>ask<\/b> the ops lead\./);
      assert.match(box, new RegExp(eventId.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
      await s.execute('document.getElementById("bundle-annotations").scrollIntoView({ block: "start" })');
      await h.screenshot(s, 'p03-received-bundle-annotations');
    });
  });

  it('keeps the working papers across a restart', async () => {
    await step(s, 'restart', async () => {
      await s.quit();
      s = await h.launch(['--db', h.path('papers.db')]);
      await goTo(s, 'search');
      await (await s.find('#papers-toggle')).click();
      await s.waitForText('#saved-searches', 'Finding 3');
      await (await s.find('#saved-searches button.link')).click();
      await s.waitFor('saved search run', async () => (await queryValue(s)) === 'tag:finding-3');
      // The column width dragged before the restart is kept.
      assert.match(await s.execute(`return document.querySelector('.grid-head').style.gridTemplateColumns`), /\d+px/);
      await s.waitForText('#match-count', /^1 match\b/);
      await (await s.waitForElement('#results-body [role=row]')).click();
      await (await s.find('#results-body')).type(Keys.ENTER);
      await s.waitForElement('#papers-tags [data-tag="exec"]');
      assert.equal(
        await s.execute('return document.getElementById("papers-note").value'),
        'Deployed outside the change window; <b>ask</b> the ops lead.',
      );
    });
  });

  it("shows the action log with its chain whole, and names an entry edited behind the app's back", async () => {
    await step(s, 'action-log', async () => {
      await goTo(s, 'log');
      const status = await s.waitForText('#action-log-status', 'Chain whole');
      assert.match(status, /\d+ entries; head [0-9a-f]{64}/);
      const table = await s.text('#action-log-table');
      for (const action of ['key trusted for this session', 'import', 'tag added', 'note set', 'bookmark added', 'search saved', 'bundle exported']) {
        assert.ok(table.includes(action), `${action} is not in the log:\n${table}`);
      }
      await h.screenshot(s, 'p04-action-log');
      execFileSync('python3', [
        '-c',
        `import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("DROP TRIGGER actions_no_update; UPDATE actions SET detail = 'nothing happened' WHERE seq = 3")
c.commit()`,
        `${h.path('papers.db')}.papers`,
      ]);
      await (await s.find('#action-log-refresh')).click();
      const broken = await s.waitForText('#action-log-status', 'CHAIN BROKEN');
      assert.match(broken, /Entry 3: was changed after it was written/);
      assert.match(broken, /expected [0-9a-f]{64}, found [0-9a-f]{64}/);
      await h.screenshot(s, 'p05-action-log-broken');
    });
  });
});

describe('identities', () => {
  let s;
  before(async () => {
    const fx = h.fixtures;
    // CloudTrail's `anaya` (a console sign-in) and `arn:aws:iam::...:user/anaya`: the same person, suggested.
    s = await h.launch(['--db', h.path('identities.db'), '--trust', fx.opsPub, fx.k8s1, fx.cloudtrail]);
  });
  after(async () => {
    await s?.quit();
  });

  it('confirms a suggested identity, counts it as one person on the Overview, and drills down to person:', async () => {
    await step(s, 'identities', async () => {
      await s.waitForText('#db-counts', /^2 archives/, 30000);
      await goTo(s, 'search');
      await (await s.find('#papers-toggle')).click();
      const suggestion = await s.waitForElement('#identity-suggestions li[data-person="anaya"] button');
      const actors = await s.text('#identity-suggestions li[data-person="anaya"]');
      assert.match(actors, /arn:aws:iam::\d+:user\/anaya/);
      await suggestion.click();
      await s.waitForElement('#identity-people li[data-person="anaya"]');
      await goTo(s, 'overview');
      const bar = await s.waitForElement('#overview-top-actors .bar-row[data-key="anaya"] .person-badge');
      assert.match(await bar.text(), /^person/);
      const count = Number(
        await s.execute(`return document.querySelector('#overview-top-actors .bar-row[data-key="anaya"]').dataset.count`),
      );
      // No separate bar for the ARN any more.
      assert.equal(
        await s.execute(`return [...document.querySelectorAll('#overview-top-actors .bar-row')].some((b) => b.dataset.key.endsWith('user/anaya'))`),
        false,
      );
      await s.execute('document.getElementById("overview-top-actors").scrollIntoView({ block: "center" })');
      await h.screenshot(s, 'p06-overview-person');
      await (await s.find('#overview-top-actors .bar-row[data-key="anaya"]')).click();
      await s.waitFor('person drill-down', async () => /^person:anaya /.test(await queryValue(s)));
      await s.waitForText('#match-count', new RegExp(`^${count} match`));
    });
  });
});

describe('engagements', () => {
  let s;
  const acme = () => h.path('cases', 'acme');
  const globex = () => h.path('cases', 'globex');

  before(async () => {
    // No --db: the app's default database, until an engagement is opened.
    s = await h.launch([]);
  });
  after(async () => {
    await s?.quit();
  });

  const chipText = () => s.execute('return document.getElementById("engagement-chip")?.textContent ?? null');

  async function create(folder, name, client) {
    await (await s.find('#engagement-chip')).click();
    await s.waitForElement('#engagement-dialog');
    await fill(s, '#engagement-name', name);
    await fill(s, '#engagement-client', client);
    await fill(s, '#engagement-from', '2017-01-01');
    await fill(s, '#engagement-to', '2019-01-01');
    await fill(s, '#engagement-folder', folder);
    await (await s.find('#engagement-create')).click();
    await s.waitFor(`${name} open`, async () => (await chipText()) === `Engagement: ${name}`);
  }

  it('creates two engagements whose keys stay apart, and switches between them', async () => {
    await step(s, 'engagements', async () => {
      assert.equal(await chipText(), 'No engagement');
      await create(acme(), 'ACME SOC 2', 'ACME Corp');
      await goTo(s, 'keyring');
      await s.waitForText('#keyring-empty', 'No trusted key yet');
      await (await s.find('#key-text')).type(fs.readFileSync(h.fixtures.opsPub, 'utf8').trim());
      await (await s.find('#add-key')).click();
      await s.waitFor('ops trusted in ACME', async () => (await s.findAll('#keys-table tbody tr')).length === 1);
      await h.drop(s, h.fixtures.k8s1);
      await s.waitForText('#db-counts', /^1 archive/, 30000);

      await create(globex(), 'Globex ISO 27001', 'Globex');
      await goTo(s, 'keyring');
      await s.waitForText('#keyring-empty', 'No trusted key yet');
      await s.waitForText('#db-counts', /^0 archives/);
      await (await s.find('#engagement-chip')).click();
      await s.waitForText('#engagement-recent', 'ACME SOC 2');
      await h.screenshot(s, 'p06-engagements');
      await (await s.find(`#engagement-recent li[data-folder="${acme()}"] button`)).click();
      await s.waitFor('ACME again', async () => (await chipText()) === 'Engagement: ACME SOC 2');
      await goTo(s, 'keyring');
      await s.waitFor('the ACME key', async () => (await s.findAll('#keys-table tbody tr')).length === 1);
      await s.waitForText('#db-counts', /^1 archive/);
    });
  });
});
