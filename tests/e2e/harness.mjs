// Runs the real app under tauri-driver (WebKitWebDriver): fixtures, an isolated app-data directory, free ports,
// sessions started with a command line, screenshots, and clean shutdown.

import { spawn, execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Session } from './webdriver.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const APP = process.env.AUDITLENS_APP ?? path.join(ROOT, 'target/debug/auditlens-app');
export const SCREENSHOTS = path.join(ROOT, 'target/e2e-screenshots');
const DRAG_SOURCE = path.join(ROOT, 'tests/e2e/drag_source.py');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function which(name) {
  for (const dir of [...(process.env.PATH ?? '').split(':'), path.join(os.homedir(), '.cargo/bin')]) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`${name} not found (run \`make e2e\`, which installs it)`);
}

async function waitForPort(port, what, timeout = 30000) {
  const until = Date.now() + timeout;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`${what} did not listen on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export class Harness {
  /**
   * Builds the fixtures (unless `fixtures` is false: the package check drives an installed app with no build) and
   * starts tauri-driver with an app-data directory of its own.
   */
  static async start({ fixtures = true } = {}) {
    if (!fs.existsSync(APP)) throw new Error(`${APP} is missing: run \`make app\` first`);
    if (!process.env.DISPLAY) throw new Error('no DISPLAY: run under Xvfb (`make e2e` does)');
    const h = new Harness();
    h.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'auditlens-e2e-'));
    if (fixtures) {
      const out = execFileSync(
        'cargo',
        ['run', '--quiet', '-p', 'auditlens-app', '--features', 'custom-protocol', '--example', 'e2e_fixtures', '--', path.join(h.tmp, 'fixtures')],
        { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
      );
      h.fixtures = JSON.parse(out);
    }
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    h.port = await freePort();
    const nativePort = await freePort();
    const home = path.join(h.tmp, 'home');
    fs.mkdirSync(home, { recursive: true });
    h.dataHome = path.join(home, '.local/share');
    // Its own process group, so that stopping it also ends WebKitWebDriver and the app it started; its output goes
    // to a log file (an inherited pipe held by a leftover process would keep the test runner waiting).
    h.log = path.join(SCREENSHOTS, 'tauri-driver.log');
    const log = fs.openSync(h.log, 'w');
    h.driver = spawn(which('tauri-driver'), ['--port', String(h.port), '--native-port', String(nativePort)], {
      detached: true,
      env: {
        ...process.env,
        HOME: home,
        XDG_DATA_HOME: h.dataHome,
        XDG_CONFIG_HOME: path.join(home, '.config'),
        XDG_CACHE_HOME: path.join(home, '.cache'),
        // Software rendering under Xvfb.
        WEBKIT_DISABLE_COMPOSITING_MODE: '1',
        LIBGL_ALWAYS_SOFTWARE: '1',
      },
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    await waitForPort(h.port, 'tauri-driver');
    // tauri-driver listens at once but starts WebKitWebDriver behind it: a request it cannot forward yet is answered
    // by closing the connection (a cold first start on a fresh machine lost the first session that way).
    await waitForPort(nativePort, 'WebKitWebDriver (started by tauri-driver)');
    return h;
  }

  /** Starts the app with `args` and waits until its window shows the app (or the element `shows`). */
  async launch(args, shows = '.header', { keepSessionKeys = false } = {}) {
    const s = await Session.create(`http://127.0.0.1:${this.port}`, {
      'tauri:options': { application: APP, args },
    });
    try {
      await s.waitForElement(shows, 30000);
      // Keys given with --trust are trusted for the session and the window asks whether to save them: a suite
      // that does not test that answers "keep for this session" so the question does not cover its screens.
      if (args.includes('--trust') && !keepSessionKeys) {
        await (await s.waitForElement('#session-keys-dismiss', 15000)).click();
      }
    } catch (e) {
      const text = await s.execute('return document.body.innerText').catch((x) => String(x));
      e.message += `\nwindow text: ${String(text).slice(0, 2000)}`;
      await this.screenshot(s, 'FAILED-launch').catch(() => undefined);
      await s.quit();
      throw e;
    }
    return s;
  }

  /**
   * Drops `files` on the middle of the app's window with a real drag and drop, as from a file manager (see
   * drag_source.py: the X server's XDND protocol, driven by the pointer). Resolves when the window accepted the drop.
   */
  async drop(session, ...files) {
    const [x, y, w, hgt] = await session.execute(
      'return [window.screenX, window.screenY, window.innerWidth, window.innerHeight]',
    );
    // The system's Python, which has the GTK bindings (python3-gi), rather than one of a version manager earlier on PATH.
    const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const args = [DRAG_SOURCE, String(Math.round(x + w / 2)), String(Math.round(y + hgt / 2)), ...files];
    await new Promise((resolve, reject) => {
      execFile(python, args, { timeout: 30000 }, (err, _stdout, stderr) =>
        err ? reject(new Error(`drag and drop of ${files.join(', ')}: ${stderr.trim() || err.message}`)) : resolve(),
      );
    });
  }

  path(...parts) {
    return path.join(this.tmp, ...parts);
  }

  async screenshot(session, name) {
    // WebKitWebDriver's snapshot waits for the next frame, which an idle page never paints under Xvfb: keep a
    // one-pixel, nearly invisible element changing for a moment so frames keep coming.
    await session.execute(`
      const el = document.createElement('div');
      el.setAttribute('aria-hidden', 'true');
      Object.assign(el.style, { position: 'fixed', left: '0', top: '0', width: '1px', height: '1px', opacity: '0.01' });
      document.body.appendChild(el);
      let n = 0;
      const t = setInterval(() => {
        el.style.left = (n++ % 2) + 'px';
        if (n > 100) { clearInterval(t); el.remove(); }
      }, 30);`);
    const file = path.join(SCREENSHOTS, `${name}.png`);
    fs.writeFileSync(file, await session.screenshot());
    return file;
  }

  async stop() {
    if (this.driver && this.driver.exitCode === null) {
      const exited = new Promise((r) => {
        const t = setTimeout(r, 3000);
        this.driver.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
      this.driver.kill('SIGTERM');
      await exited;
    }
    // Whatever is left of the group this harness started (WebKitWebDriver, the app).
    try {
      process.kill(-this.driver.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    if (this.tmp && !process.env.AUDITLENS_E2E_KEEP) fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}
