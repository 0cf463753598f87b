// Benchmark (not a test: `make bench-ui` runs it, `make test` does not): scrolling 200,000 results in the real app
// under Xvfb with WebKitGTK's software renderer (issue 16: "scrolling 200,000 results at 60 frames/s"). It seals
// and imports N generated Kubernetes audit events with the CLI, opens the app on that store, and counts the frames
// the window draws (requestAnimationFrame) while the results list scrolls at a steady speed, beside two baselines
// measured in the same window and run: the window doing nothing, and a blank list of the same size scrolled the
// same way (what the renderer costs with no rows to draw). Also: End from the first page to the true last row, and
// the scrollbar dragged to the middle until its rows show.
// Prints a table and writes target/bench-ui.json. Timings are figures, never assertions.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { goTo, search } from './steps.mjs';
import { Harness } from './harness.mjs';
import { Keys } from './webdriver.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const N = Number(process.env.EVENTS ?? 200000);
const SECONDS = Number(process.env.SECONDS_PER_CASE ?? 5);
const BIN = ['release', 'debug']
  .map((p) => path.join(ROOT, 'target', p, 'auditlens'))
  .find((b) => fs.existsSync(b));
if (!BIN) throw new Error('no target/*/auditlens: run `cargo build` first (make bench-ui does)');

/** N Kubernetes audit events, one a millisecond, from a few hundred actors with long ARN-like names. */
function writeEvents(file) {
  const out = fs.openSync(file, 'w');
  const t0 = Date.UTC(2024, 4, 1);
  const verbs = ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'];
  const resources = ['pods', 'deployments', 'secrets', 'configmaps', 'services', 'nodes'];
  let chunk = [];
  for (let i = 0; i < N; i++) {
    const user = i % 7 === 0 ? `system:serviceaccount:kube-system:controller-${i % 41}` : `arn:aws:iam::111122223333:user/engineer-${i % 337}`;
    const code = i % 23 === 0 ? 403 : 200;
    const time = new Date(t0 + i).toISOString();
    const resource = resources[i % resources.length];
    chunk.push(
      JSON.stringify({
        kind: 'Event',
        apiVersion: 'audit.k8s.io/v1',
        level: 'Metadata',
        auditID: `bench-${i}`,
        stage: 'ResponseComplete',
        requestURI: `/api/v1/namespaces/team-${i % 53}/${resource}/object-${i % 1009}`,
        verb: verbs[i % verbs.length],
        user: { username: user, groups: ['system:authenticated'] },
        sourceIPs: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`],
        userAgent: 'kubectl/v1.29.1 (linux/amd64) kubernetes/bench',
        objectRef: { resource, namespace: `team-${i % 53}`, name: `object-${i % 1009}`, apiVersion: 'v1' },
        responseStatus: { metadata: {}, code },
        requestReceivedTimestamp: time,
        stageTimestamp: time,
      }),
    );
    if (chunk.length === 10000) {
      fs.writeSync(out, chunk.join('\n') + '\n');
      chunk = [];
    }
  }
  if (chunk.length) fs.writeSync(out, chunk.join('\n') + '\n');
  fs.closeSync(out);
}

const cli = (...args) => execFileSync(BIN, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

/**
 * Frames drawn for `ms` while `mode` runs: `idle` (nothing moves), `results` (the results list scrolls by `speed`
 * px/s, negative: up) or `blank` (an empty list of the same size over it, scrolled the same way).
 */
const FRAMES = `
const [mode, ms, speed, total] = arguments;
const done = arguments[arguments.length - 1];
const body = document.getElementById('results-body');
let target = body;
let overlay = null;
if (mode === 'blank') {
  const r = body.getBoundingClientRect();
  overlay = document.createElement('div');
  Object.assign(overlay.style, { position: 'fixed', left: r.left + 'px', top: r.top + 'px', width: r.width + 'px',
    height: r.height + 'px', overflow: 'auto', background: getComputedStyle(document.body).backgroundColor, zIndex: 1000 });
  const inner = document.createElement('div');
  inner.style.height = total * 30 + 'px';
  overlay.appendChild(inner);
  document.body.appendChild(overlay);
  overlay.scrollTop = body.scrollTop;
  target = overlay;
}
const start = target.scrollTop;
const gaps = [];
let last = null;
let t0 = null;
let loader = 0;
function frame(t) {
  if (t0 === null) t0 = t;
  if (last !== null) {
    gaps.push(t - last);
    if (mode !== 'idle') target.scrollTop += (speed * (t - last)) / 1000;
  }
  last = t;
  if (mode === 'results' && body.querySelector('.grid-row.loader')) loader++;
  if (t - t0 < ms) requestAnimationFrame(frame);
  else {
    const moved = Math.abs(target.scrollTop - start);
    overlay?.remove();
    done({ gaps, seconds: (t - t0) / 1000, moved, loader });
  }
}
requestAnimationFrame(frame);
`;

function summary(name, r) {
  const g = [...r.gaps].sort((a, b) => a - b);
  const q = (p) => g[Math.min(g.length - 1, Math.floor(p * g.length))] ?? 0;
  return {
    case: name,
    fps: g.length / r.seconds,
    p50_ms: q(0.5),
    p95_ms: q(0.95),
    max_ms: g.length ? g[g.length - 1] : 0,
    slow_frames: g.filter((x) => x > 1000 / 60 + 4).length,
    frames: g.length,
    rows_per_s: r.moved / 30 / r.seconds,
    loader_frames: r.loader,
  };
}

const h = await Harness.start({ fixtures: false });
const results = { events: N, seconds_per_case: SECONDS, cases: [] };
let s;
try {
  const dir = h.tmp;
  const log = path.join(dir, 'bench.jsonl');
  let t = Date.now();
  writeEvents(log);
  cli('keygen', '--name', 'bench', '--out', dir);
  cli('seal', '--key', path.join(dir, 'bench.key'), '--origin', 'bench.auditlens.dev/k8s', '--out', path.join(dir, 'a.zip'), log);
  const db = path.join(dir, 'bench.db');
  cli('import', '--db', db, '--trust', path.join(dir, 'bench.pub'), path.join(dir, 'a.zip'));
  console.error(`generated, sealed and imported ${N} events in ${((Date.now() - t) / 1000).toFixed(1)} s (${path.basename(BIN)} ${BIN.includes('release') ? 'release' : 'debug'})`);

  s = await h.launch(['--db', db]);
  await goTo(s, 'search');
  await search(s, 'source:k8s');
  await s.waitForText('#match-count', /^[\d,]+ matches/, 60000);
  await s.waitForElement('#results-body [role=row]');
  const shown = Number((await s.text('#match-count')).match(/^([\d,]+)/)[1].replace(/,/g, ''));
  if (shown !== N) throw new Error(`the search shows ${shown} matches, not ${N}`);
  const run = async (name, mode, speed) => {
    const r = await s.executeAsync(FRAMES, mode, SECONDS * 1000, speed, N);
    results.cases.push(summary(name, r));
  };
  await run('idle window (baseline)', 'idle', 0);
  await run('blank list, 3,000 px/s (baseline)', 'blank', 3000);
  await run('results, 3,000 px/s (100 rows/s)', 'results', 3000);
  await run('blank list, 30,000 px/s (baseline)', 'blank', 30000);
  await run('results, 30,000 px/s (1,000 rows/s)', 'results', 30000);

  // End: the last page read from the end, the true last row selected.
  await (await s.find('#results-body')).click();
  t = Date.now();
  await (await s.find('#results-body')).type(Keys.END);
  await s.waitFor(
    'last row',
    async () => (await s.execute(`return document.getElementById('results-body').getAttribute('aria-activedescendant')`)) === `row-${N - 1}`,
    120000,
  );
  results.end_ms = Date.now() - t;
  await run('results from the end up, 30,000 px/s (pages read backward)', 'results', -30000);
  await run('blank list, 30,000 px/s up (baseline)', 'blank', -30000);
  // The scrollbar dragged to the middle: the rows there, loaded from the nearer end.
  t = Date.now();
  await s.execute(`const b = document.getElementById('results-body'); b.scrollTop = b.scrollHeight / 2;`);
  await s.waitFor(
    'the middle rows',
    async () => s.execute(`const b = document.getElementById('results-body'); const r = b.getBoundingClientRect();
      const rows = [...b.querySelectorAll('.grid-row')].filter((e) => { const x = e.getBoundingClientRect(); return x.bottom > r.top && x.top < r.bottom; });
      return rows.length > 0 && !rows.some((e) => e.classList.contains('loader'));`),
    120000,
  );
  results.middle_ms = Date.now() - t;
  await h.screenshot(s, 'bench-scroll-middle');
  await h.screenshot(s, 'bench-scroll-end');
} finally {
  await s?.quit().catch(() => undefined);
  await h.stop();
}

const fmt = (x, d = 1) => x.toFixed(d);
console.log(`Scrolling ${N.toLocaleString('en')} results in the app (WebKitGTK, software rendering under Xvfb), ${SECONDS} s per case:`);
console.log(`${'case'.padEnd(58)} ${'fps'.padStart(6)} ${'p50 ms'.padStart(7)} ${'p95 ms'.padStart(7)} ${'max ms'.padStart(7)} ${'>20.7 ms'.padStart(9)} ${'rows/s'.padStart(8)} ${'loader'.padStart(7)}`);
for (const c of results.cases) {
  console.log(
    `${c.case.padEnd(58)} ${fmt(c.fps).padStart(6)} ${fmt(c.p50_ms).padStart(7)} ${fmt(c.p95_ms).padStart(7)} ${fmt(c.max_ms).padStart(7)} ${String(c.slow_frames).padStart(9)} ${fmt(c.rows_per_s, 0).padStart(8)} ${String(c.loader_frames).padStart(7)}`,
  );
}
console.log(`End from the first page to the last of ${N.toLocaleString('en')} rows: ${results.end_ms} ms (WebDriver round trips included)`);
console.log(`The scrollbar dragged to the middle, until its rows show: ${results.middle_ms} ms`);
fs.mkdirSync(path.join(ROOT, 'target'), { recursive: true });
fs.writeFileSync(path.join(ROOT, 'target', 'bench-ui.json'), JSON.stringify(results, null, 2));
