// Benchmark (not a test: `make bench-open` runs it, `make test` does not): how long the real app takes to open a
// store and show its Overview (issue 13: a 10M-event store in at most 2 s), under Xvfb with WebKitGTK's software
// renderer, in the end-to-end environment. Each run starts the app (through tauri-driver) with `--db DB` and stops
// the clock when the Overview shows the store's total and its chart over time. Beside it, in the same run and the
// same way: the app opening a store of a few real events (the fixture logs), which is what starting the app,
// WebDriver's session and the first drawing cost without a big store.
// DB (default target/bench-data/store-10000000.db, which `auditlens bench --only store --events 10000000` builds),
// RUNS (default 5). Prints a table and writes target/bench-open.json. Timings are figures, never assertions.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { APP, Harness, ROOT } from './harness.mjs';
import { Session } from './webdriver.mjs';

const DB = path.resolve(process.env.DB || path.join(ROOT, 'target/bench-data/store-10000000.db'));
const RUNS = Number(process.env.RUNS || 5);
const BIN = ['release', 'profiling', 'debug']
  .map((p) => path.join(ROOT, 'target', p, 'auditlens'))
  .find((b) => fs.existsSync(b));
if (!BIN) throw new Error('no target/*/auditlens: run `cargo build` first (make bench-open does)');
if (!fs.existsSync(DB)) throw new Error(`${DB} is missing: run \`auditlens bench --only store --events 10000000\` first`);

const cli = (...args) => execFileSync(BIN, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

/** The Overview's total as the command line counts it (`auditlens stats`: the dashboards' counting rule). */
function dashboardTotal(db) {
  return JSON.parse(cli('stats', '--db', db, '--json')).total;
}

/**
 * One opening: milliseconds from asking tauri-driver for the app until its window shows the app (`window_ms`) and
 * until the Overview shows the store's total and its chart over time (`overview_ms`).
 */
async function open(h, db) {
  const t0 = performance.now();
  const s = await Session.create(`http://127.0.0.1:${h.port}`, { 'tauri:options': { application: APP, args: ['--db', db] } });
  try {
    await s.waitForElement('.header', 60000);
    const window = performance.now() - t0;
    await s.waitFor(
      'the overview with its total and its chart',
      async () =>
        s.execute(`const t = document.getElementById('overview-total');
          return !!t && t.dataset.count !== undefined && document.querySelector('#overview-over-time button.segment') !== null;`),
      120000,
    );
    const overview = performance.now() - t0;
    const total = await s.execute(`return Number(document.getElementById('overview-total').dataset.count)`);
    return { window_ms: window, overview_ms: overview, total, session: s };
  } catch (e) {
    await s.quit();
    throw e;
  }
}

const h = await Harness.start({ fixtures: false });
const results = { db: DB, runs: RUNS, small: [], big: [] };
try {
  // The small store: the real Kubernetes audit and CloudTrail fixture logs, sealed and imported by the CLI.
  const dir = h.path('small');
  fs.mkdirSync(dir, { recursive: true });
  cli('keygen', '--name', 'bench', '--out', dir);
  const logs = path.join(ROOT, 'tests/fixtures/logs');
  cli('seal', '--key', path.join(dir, 'bench.key'), '--origin', 'bench.auditlens.dev/small', '--out', path.join(dir, 'a.zip'),
    path.join(logs, 'k8s_audit/audit2rbac/demo.log'));
  const small = path.join(dir, 'small.db');
  cli('import', '--db', small, '--trust', path.join(dir, 'bench.pub'), path.join(dir, 'a.zip'));
  const sizes = { small: dashboardTotal(small), big: dashboardTotal(DB) };
  // Alternated, so that neither side has the warmer machine.
  for (let i = 0; i < RUNS; i++) {
    for (const [name, db] of [['small', small], ['big', DB]]) {
      const r = await open(h, db);
      if (i === RUNS - 1) await h.screenshot(r.session, `bench-open-${name}`);
      await r.session.quit();
      delete r.session;
      results[name].push(r);
      // A figure of a wrong screen is worthless: the Overview must show what the command line counts.
      if (r.total !== sizes[name]) throw new Error(`${name}: the Overview shows ${r.total} events, stats counts ${sizes[name]}`);
      console.error(`${name} run ${i + 1}: window ${r.window_ms.toFixed(0)} ms, overview ${r.overview_ms.toFixed(0)} ms (total ${r.total})`);
    }
  }
  results.events = sizes;
} finally {
  await h.stop();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const max = (xs) => Math.max(...xs);
console.log(`The app opening a store until its Overview shows (WebKitGTK, software rendering under Xvfb), ${RUNS} runs each, alternated:`);
console.log(`${'store'.padEnd(52)} ${'events'.padStart(10)} ${'window p50'.padStart(11)} ${'overview p50'.padStart(13)} ${'overview max'.padStart(13)}`);
for (const [name, label] of [['small', 'baseline: the fixture logs'], ['big', path.relative(ROOT, DB)]]) {
  const rs = results[name];
  console.log(
    `${label.padEnd(52)} ${String(results.events[name]).padStart(10)} ${(median(rs.map((r) => r.window_ms)) / 1000).toFixed(2).padStart(9)} s ${(median(rs.map((r) => r.overview_ms)) / 1000).toFixed(2).padStart(11)} s ${(max(rs.map((r) => r.overview_ms)) / 1000).toFixed(2).padStart(11)} s`,
  );
}
console.log('window: from asking tauri-driver for the app until its window shows the app; overview: until the Overview shows the total and the chart over time');
fs.mkdirSync(path.join(ROOT, 'target'), { recursive: true });
fs.writeFileSync(path.join(ROOT, 'target', 'bench-open.json'), JSON.stringify(results, null, 2));
