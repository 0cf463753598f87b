// End-to-end: the dashboards of the built app on a store of real logs (tests/fixtures/logs) sealed and imported by
// the real `auditlens` command line (keygen, seal, import), one k8s sequence left out (a gap). The app opens on the
// Overview; the numbers shown are the ones written here by hand (cross-checked with `auditlens stats --json` and
// `auditlens search --count`), every figure on screen is the count of its drill-down query as the command line
// counts it, and clicking one opens the Search screen with that query and that count. Screenshots (light and dark)
// go to target/e2e-screenshots/.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Harness, ROOT } from './harness.mjs';

const CLI = path.join(ROOT, 'target/debug/auditlens');
const LOGS = path.join(ROOT, 'tests/fixtures/logs');
const ORIGIN = 'e2e.auditlens.dev/dash';
const BASE = '-stage:RequestReceived -stage:ResponseStarted status:verified';

let h;
let db;
before(async () => {
  h = await Harness.start();
  // The command line as an operator and an auditor would run it.
  execFileSync('cargo', ['build', '--quiet', '--locked', '--bin', 'auditlens'], { cwd: ROOT, stdio: 'inherit' });
  const dir = h.path('dash');
  fs.mkdirSync(dir, { recursive: true });
  const run = (...args) => execFileSync(CLI, args, { encoding: 'utf8' });
  run('keygen', '--name', 'e2e-dash', '--out', path.join(dir, 'keys'));
  const key = path.join(dir, 'keys/e2e-dash.key');
  const seal = (name, origin, inputs, prev) =>
    run(
      'seal',
      '--key',
      key,
      '--origin',
      `${ORIGIN}/${origin}`,
      ...(prev ? ['--prev', path.join(dir, prev)] : []),
      '--out',
      path.join(dir, name),
      ...inputs.map((p) => path.join(LOGS, p)),
    );
  const falco = fs
    .readdirSync(path.join(LOGS, 'k8s_audit/falco_trace_files'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => `k8s_audit/falco_trace_files/${f}`);
  seal('k8s-1.zip', 'k8s', falco);
  seal('k8s-2.zip', 'k8s', ['k8s_audit/audit2rbac/demo.log'], 'k8s-1.zip');
  seal('k8s-3.zip', 'k8s', ['k8s_audit/stages/exec_pod_stages.jsonl'], 'k8s-2.zip');
  seal('cloudtrail-1.zip', 'cloudtrail', ['aws_cloudtrail/awsdocs/awsdocs_examples_Records.json']);
  seal('github-1.zip', 'github', ['github_audit/panther/GitHub_Audit.jsonl']);
  seal('okta-1.zip', 'okta', [
    'okta/panther/Okta_SystemLog.jsonl',
    'okta/panther_scenarios/okta-add-administrator__brute_force_logins.jsonl',
  ]);
  seal('teleport-1.zip', 'teleport', ['teleport/panther/Gravitational_TeleportAudit.jsonl']);
  db = path.join(dir, 'dash.db');
  // k8s-2 is not given: sequence 2 of the k8s origin is missing.
  run(
    'import',
    '--db',
    db,
    '--trust',
    path.join(dir, 'keys/e2e-dash.pub'),
    ...['k8s-1', 'k8s-3', 'cloudtrail-1', 'github-1', 'okta-1', 'teleport-1'].map((n) => path.join(dir, `${n}.zip`)),
  );
  h.trust = path.join(dir, 'keys/e2e-dash.pub');
});
after(async () => {
  await h?.stop();
});

/** What `auditlens search --count` says about `query` on the same database. */
function cliCount(query) {
  return Number(execFileSync(CLI, ['search', '--db', db, '--count', '--', query], { encoding: 'utf8' }).trim());
}

async function step(session, name, fn) {
  try {
    return await fn();
  } catch (e) {
    await h.screenshot(session, `FAILED-dash-${name}`).catch(() => undefined);
    throw e;
  }
}

async function goTo(s, tab) {
  await (await s.find(`#tab-${tab}`)).click();
  await s.waitFor(`${tab} tab`, async () => (await (await s.find(`#tab-${tab}`)).attribute('aria-selected')) === 'true');
}

/** `{count, drill}` of the figure element matching `css`. */
function figure(s, css) {
  return s.execute(
    `const e = document.querySelector(arguments[0]);
     return e ? { count: Number(e.dataset.count), drill: e.dataset.drill, text: e.innerText } : null;`,
    css,
  );
}

/** Every figure shown on the visible screen: its count and drill-down query. */
function figures(s, within) {
  return s.execute(
    `return [...document.querySelectorAll(arguments[0] + ' [data-drill]')].map((e) => ({
       count: Number(e.dataset.count), drill: e.dataset.drill }));`,
    within,
  );
}

/** Clicks the figure at `css` and checks that Search opens with its query and counts the same number. */
async function drillDown(s, css, expected) {
  const f = await figure(s, css);
  assert.ok(f, `no figure ${css}`);
  assert.equal(f.count, expected, `${css} shows ${f.count}`);
  await s.execute('document.querySelector(arguments[0]).scrollIntoView({ block: "center" })', css);
  await (await s.find(css)).click();
  await s.waitFor('search tab', async () => (await (await s.find('#tab-search')).attribute('aria-selected')) === 'true');
  assert.equal(await s.execute('return document.getElementById("query").value'), f.drill);
  const words = `${expected.toLocaleString('en-US')} ${expected === 1 ? 'match' : 'matches'}`;
  await s.waitForText('#match-count', new RegExp(`^${words} for `));
  return f;
}

describe('the dashboards on a store of real logs', () => {
  let s;
  before(async () => {
    s = await h.launch(['--db', db, '--trust', h.trust]);
  });
  after(async () => {
    await s?.quit();
  });

  it('opens on the overview, with the verification summary and the counts of the store', async () => {
    await step(s, 'overview', async () => {
      await s.waitFor('overview tab', async () => (await (await s.find('#tab-overview')).attribute('aria-selected')) === 'true');
      const banner = await s.waitForText('#verification', 'Sequences are missing.');
      assert.match(banner, /All 6 archives verified, but an origin has sequences that are not in this database/);
      assert.match(banner, /1 archive with missing sequences before it:/);
      assert.match(banner, new RegExp(`${ORIGIN}/k8s #3`));
      // Written by hand from `auditlens stats --db dash.db --json`.
      assert.equal((await figure(s, '#overview-total')).count, 217);
      const bars = async (panel) =>
        Object.fromEntries(
          await s.execute(
            `return [...document.querySelectorAll(arguments[0] + ' .bar-row')].map((e) => [e.dataset.key, Number(e.dataset.count)]);`,
            panel,
          ),
        );
      assert.deepEqual(await bars('#overview-by-source'), { github: 92, okta: 66, teleport: 21, cloudtrail: 19, k8s: 19 });
      assert.deepEqual(await bars('#overview-by-category'), { deployment: 3, access: 71, change: 118, read: 3, other: 22 });
      const outcomes = await bars('#overview-by-outcome');
      assert.equal(outcomes.denied, 23);
      assert.equal(outcomes.failure, 8);
      assert.equal(outcomes.success, 81);
      const actors = await bars('#overview-top-actors');
      assert.equal(actors.cat, 30);
      assert.equal(actors['homer.simpson@duff.com'], 27);
      // The last: a GitHub workflow run Panther exported with a space-form time (2025-10-15 18:45:47.048).
      assert.match(await s.text('#overview-span'), /2014-03-06 17:10:34 UTC\s+→ 2025-10-15 18:45:47 UTC/);
      // Panther's space-form times (GitHub, Okta, Teleport exports) are times; the events left without one are
      // counted and named, and listed by the search the command line counts the same.
      const untimed = cliCount(`-time:* ${BASE}`);
      assert.ok(untimed > 0 && untimed < 217, `${untimed} events without a time`);
      assert.equal(
        await s.text('#overview-untimed'),
        `${untimed} events of this scope have no time: counted in the totals, but in no chart over time; Show them`,
      );
      assert.ok(cliCount(`source:okta time:2022-06-22 ${BASE}`) > 0, 'an Okta export time with a space is read');
      await s.waitForElement('#overview-over-time button.segment');
      await h.screenshot(s, 'dash-01-overview');
      await s.execute('document.getElementById("overview-top-actors").scrollIntoView({ block: "end" })');
      await h.screenshot(s, 'dash-01b-overview-lower');
      await s.execute('document.getElementById("screen").scrollTop = 0');
    });
  });

  it('shows on every dashboard only numbers that the command line counts the same', async () => {
    await step(s, 'cross-check', async () => {
      for (const tab of ['overview', 'deployments', 'access']) {
        await goTo(s, tab);
        await s.waitForElement(`#${tab}-total`);
        const shown = await figures(s, `#${tab}-dashboard`);
        assert.ok(shown.length >= 8, `${tab}: ${shown.length} figures`);
        // Every figure but the chart segments (all of those in one chart would be slow), and a few segments.
        const segments = await figures(s, `#${tab}-dashboard .columns`);
        const bySegment = new Set(segments.map((f) => f.drill));
        const checked = [...shown.filter((f) => !bySegment.has(f.drill)), ...segments.slice(0, 3)];
        for (const f of checked) assert.equal(cliCount(f.drill), f.count, `${tab}: ${f.drill}`);
      }
    });
  });

  it('opens the search with the matching query and count from a bar of the overview', async () => {
    await step(s, 'drill-overview', async () => {
      await goTo(s, 'overview');
      const f = await drillDown(s, '#overview-by-source .bar-row[data-key="okta"]', 66);
      assert.equal(f.drill, `source:okta ${BASE}`);
      await goTo(s, 'overview');
      await drillDown(s, '#overview-by-category .bar-row[data-key="access"]', 71);
      await h.screenshot(s, 'dash-02-drill-search');
    });
  });

  it('shows deployments per environment, failed and off-hours ones, and drills into them', async () => {
    await step(s, 'deployments', async () => {
      await goTo(s, 'deployments');
      await s.waitFor('deployments', async () => (await figure(s, '#deployments-total'))?.count === 3);
      assert.equal((await figure(s, '#deployments-failed')).count, 1);
      const lane = await s.text('.env-lane[data-env="default"]');
      assert.match(lane, /minikube-user/);
      assert.match(lane, /create/);
      assert.match(lane, /delete/);
      assert.match(await s.text('.env-lane[data-env="panther-labs"]'), /failure/);
      assert.match(await s.text('#deployments-failed-list'), /workflows\.completed_workflow_run/);
      assert.equal((await figure(s, '#deployments-per-day [data-day="2018-10-26"]')).count, 2);
      await h.screenshot(s, 'dash-03-deployments');
      await s.execute('document.getElementById("deployments-rare").scrollIntoView({ block: "end" })');
      await h.screenshot(s, 'dash-03c-deployments-lower');
      await s.execute('document.getElementById("screen").scrollTop = 0');
      // Both k8s deployments were on Friday 2018-10-26, at 13:07:36 and 13:09:27 UTC: inside 09:00-18:00 UTC. The
      // GitHub workflow run (Panther's space-form time, Tuesday 2023-01-31 18:58:27 UTC) is after 18:00.
      assert.equal((await figure(s, '#deployments-off-hours')).count, 1);
      // Working hours ending at 13:08 UTC: the delete at 13:09 is off hours.
      await s.execute(`const set = (id, v) => { const el = document.getElementById(id);
          const proto = el.tagName === 'SELECT' ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
          Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, v);
          el.dispatchEvent(new Event(el.tagName === 'SELECT' ? 'change' : 'input', { bubbles: true })); };
        set('deployments-work-start', '09:00'); set('deployments-work-end', '13:08'); set('deployments-work-zone', '0');`);
      await (await s.find('#deployments-apply')).click();
      await s.waitFor('new working hours', async () => /workhours:09:00-13:08Z/.test((await figure(s, '#deployments-off-hours')).drill));
      const off = await figure(s, '#deployments-off-hours');
      assert.equal(off.count, 2);
      assert.equal(cliCount(off.drill), 2);
      assert.deepEqual(
        await s.execute(`return [...document.querySelectorAll('#deployments-off-hours-by-actor .bar-row')].map((e) => [e.dataset.key, Number(e.dataset.count)]);`),
        [['github_handle', 1], ['minikube-user', 1]],
      );
      await h.screenshot(s, 'dash-03b-deployments-off-hours');
      await drillDown(s, '#deployments-off-hours-by-actor .bar-row[data-key="minikube-user"]', 1);
      await goTo(s, 'deployments');
      await drillDown(s, '#deployments-failed', 1);
    });
  });

  it('shows denials, privileged access, first-seen actors and bursts, and drills into them', async () => {
    await step(s, 'access', async () => {
      await goTo(s, 'access');
      await s.waitFor('access', async () => (await figure(s, '#access-total'))?.count === 71);
      assert.equal((await figure(s, '#access-denied')).count, 23);
      const privileged = await s.execute(
        `return [...document.querySelectorAll('#access-privileged .bar-row')].map((e) => Number(e.dataset.count));`,
      );
      assert.deepEqual(privileged, [2, 3, 3, 33], 'exec, secret, role, login');
      assert.ok((await s.findAll('#access-first-seen tbody tr')).length > 0);
      await h.screenshot(s, 'dash-04-access');
      await s.execute('document.getElementById("access-privileged").scrollIntoView({ block: "start" })');
      await h.screenshot(s, 'dash-04b-access-privileged');
      await s.execute('document.getElementById("access-bursts").scrollIntoView({ block: "end" })');
      await h.screenshot(s, 'dash-04c-access-bursts');
      await s.execute('document.getElementById("screen").scrollTop = 0');
      await drillDown(s, '#access-denied', 23);
    });
  });

  it('narrows every dashboard to a query and a range of days', async () => {
    await step(s, 'filter', async () => {
      await goTo(s, 'overview');
      await s.execute(`const el = document.getElementById('overview-query');
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, 'source:k8s');
        el.dispatchEvent(new Event('input', { bubbles: true }));`);
      await (await s.find('#overview-apply')).click();
      await s.waitFor('k8s only', async () => (await figure(s, '#overview-total'))?.count === 19);
      assert.match((await figure(s, '#overview-total')).drill, /\(source:k8s\)$/);
      await goTo(s, 'deployments');
      await s.waitFor('k8s deployments', async () => (await figure(s, '#deployments-total'))?.count === 2);
      assert.equal(await s.execute('return document.getElementById("deployments-query").value'), 'source:k8s');
      await goTo(s, 'overview');
      await s.execute(`const el = document.getElementById('overview-query');
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, 'actor:');
        el.dispatchEvent(new Event('input', { bubbles: true }));`);
      await (await s.find('#overview-apply')).click();
      await s.waitForText('#overview-query-error', 'column 7');
      await s.execute(`const el = document.getElementById('overview-query');
        Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, '');
        el.dispatchEvent(new Event('input', { bubbles: true }));`);
      await (await s.find('#overview-apply')).click();
      await s.waitFor('all again', async () => (await figure(s, '#overview-total'))?.count === 217);
      // One UTC day: 2018-10-26 holds 13 counted events, 2 of them deployments.
      await s.execute(`const set = (id, v) => { const el = document.getElementById(id);
          const proto = el.tagName === 'SELECT' ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
          Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, v);
          el.dispatchEvent(new Event(el.tagName === 'SELECT' ? 'change' : 'input', { bubbles: true })); };
        set('overview-range', 'custom');`);
      await s.waitForElement('#overview-from');
      await s.execute(`const set = (id, v) => { const el = document.getElementById(id);
          Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, v);
          el.dispatchEvent(new Event('input', { bubbles: true })); };
        set('overview-from', '2018-10-26'); set('overview-to', '2018-10-26');`);
      await (await s.find('#overview-apply')).click();
      await s.waitFor('one day', async () => (await figure(s, '#overview-total'))?.count === 13);
      assert.match(
        (await figure(s, '#overview-total')).drill,
        /after:2018-10-26T00:00:00(\.0+)?Z before:2018-10-27T00:00:00(\.0+)?Z$/,
      );
      assert.match(await s.text('#overview-untimed'), /events of this scope have no time: no figure of this time range counts them\. Show them$/);
      await h.screenshot(s, 'dash-08-overview-one-day');
      await goTo(s, 'deployments');
      await s.waitFor('one day of deployments', async () => (await figure(s, '#deployments-total'))?.count === 2);
      await goTo(s, 'overview');
      await s.execute(`const el = document.getElementById('overview-range');
        Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set.call(el, 'all');
        el.dispatchEvent(new Event('change', { bubbles: true }));`);
      await (await s.find('#overview-apply')).click();
      await s.waitFor('all time again', async () => (await figure(s, '#overview-total'))?.count === 217);
    });
  });

  it('names the events of an archive that have no time, and lists them', async () => {
    await step(s, 'untimed', async () => {
      await goTo(s, 'archives');
      const row = `#archives-table tr[data-origin="${ORIGIN}/okta"]`;
      await s.waitForElement(row);
      await s.execute('document.querySelector(arguments[0]).scrollIntoView({ block: "center" })', row);
      await (await s.find(`${row} td`)).click();
      const said = await s.waitForText('#archive-untimed', 'of this archive have no time');
      const n = Number(said.match(/^(\d+) events/)[1]);
      assert.equal(n, cliCount(`origin:${ORIGIN}/okta -time:*`));
      await s.execute('document.getElementById("archive-untimed").scrollIntoView({ block: "center" })');
      await h.screenshot(s, 'dash-10-archive-untimed');
      await (await s.find('#archive-untimed button')).click();
      await s.waitFor('search tab', async () => (await (await s.find('#tab-search')).attribute('aria-selected')) === 'true');
      await s.waitForText('#match-count', new RegExp(`^${n} matches for `));
      await goTo(s, 'overview');
    });
  });

  it('counts unverified archives too when asked, and says so', async () => {
    await step(s, 'unverified', async () => {
      await goTo(s, 'overview');
      assert.match(await s.text('#overview-scope'), /verified archives only/);
      await (await s.find('#overview-include-unverified')).click();
      await (await s.find('#overview-apply')).click();
      await s.waitForText('#overview-scope', 'unverified ones included');
      // Every archive of this store verified: the same numbers, but the drill-down queries no longer ask for it.
      await s.waitFor('drill without status', async () => !/status:verified/.test((await figure(s, '#overview-total'))?.drill ?? 'status:verified'));
      const total = await figure(s, '#overview-total');
      assert.equal(total.count, 217);
      assert.equal(cliCount(total.drill), 217);
      assert.match(await s.text('#verification'), /Sequences are missing\./);
      await h.screenshot(s, 'dash-09-overview-unverified');
      await goTo(s, 'access');
      await s.waitForText('#access-scope', 'unverified ones included');
      assert.equal(await s.execute('return document.getElementById("access-include-unverified").checked'), true);
      await s.waitFor('access drill', async () => !/status:verified/.test((await figure(s, '#access-denied'))?.drill ?? 'status:verified'));
      assert.equal(cliCount((await figure(s, '#access-denied')).drill), 23);
      await (await s.find('#access-include-unverified')).click();
      await (await s.find('#access-apply')).click();
      await s.waitForText('#access-scope', 'verified archives only');
      await goTo(s, 'overview');
      await s.waitFor('verified only again', async () => /status:verified/.test((await figure(s, '#overview-total'))?.drill ?? ''));
    });
  });

  it('draws the dashboards in the dark theme too', async () => {
    await step(s, 'dark', async () => {
      await goTo(s, 'overview');
      await (await s.find('#theme-toggle')).click(); // light
      await (await s.find('#theme-toggle')).click(); // dark
      assert.equal(await s.execute('return document.documentElement.dataset.theme'), 'dark');
      await s.waitFor('overview', async () => (await figure(s, '#overview-total'))?.count === 217);
      await h.screenshot(s, 'dash-05-overview-dark');
      await goTo(s, 'deployments');
      await h.screenshot(s, 'dash-06-deployments-dark');
      await goTo(s, 'access');
      await h.screenshot(s, 'dash-07-access-dark');
    });
  });

  it('shows on the Overview, per origin, whether the verified archives cover the audit period', async () => {
    await step(s, 'coverage', async () => {
      await goTo(s, 'overview');
      await s.waitForElement('#coverage-from');
      await (await s.find('#coverage-from')).type('2020-01-01');
      await (await s.find('#coverage-to')).type('2024-01-01');
      await (await s.find('#coverage-save')).click();
      await s.waitForText('#coverage-summary', /Period 2020-01-01T00:00:00Z → 2024-01-01T00:00:00Z/);
      // The same store and period through the command line (check exits 1: the k8s gap is a finding).
      const r = spawnSync(
        CLI,
        ['check', '--db', db, '--trust', h.trust, '--json', '--period', '2020-01-01..2024-01-01'],
        { encoding: 'utf8' },
      );
      const cli = JSON.parse(r.stdout).coverage.origins;
      const shown = await s.execute(
        `return [...document.querySelectorAll('#coverage-origins .coverage-origin')].map((e) => ({
           origin: e.dataset.origin, covered: e.dataset.covered === 'true',
           after: e.querySelector('.coverage-nothing-after')?.innerText ?? null }));`,
      );
      assert.equal(shown.length, 5);
      assert.deepEqual(
        shown.map((o) => [o.origin, o.covered]).sort(),
        cli.map((o) => [o.origin, o.covered]).sort(),
      );
      for (const o of cli.filter((o) => o.nothing_after)) {
        const row = shown.find((x) => x.origin === o.origin);
        assert.match(row.after, new RegExp(`^Nothing after ${o.nothing_after.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      }
      assert.ok(cli.some((o) => o.nothing_after), 'some origin ends before the period does');
      await s.execute('document.getElementById("overview-coverage").scrollIntoView({ block: "start" })');
      await h.screenshot(s, 'dash-08-coverage');
      await (await s.find('#coverage-clear')).click();
      await s.waitForElement('#coverage-none');
    });
  });
});
