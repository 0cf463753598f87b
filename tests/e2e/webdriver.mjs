// A tiny W3C WebDriver client over Node's fetch (HTTP keep-alive: tauri-driver drops connections that send
// `Connection: close`), with the few commands the end-to-end tests use and polling helpers.

const W3C_ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/** The id in an element reference (W3C key, or the legacy one some drivers still send). */
function elementId(ref) {
  const id = ref?.[W3C_ELEMENT] ?? ref?.ELEMENT;
  if (!id) throw new WebDriverError(`not an element reference: ${JSON.stringify(ref)}`);
  return id;
}

/** An element reference to pass to the driver (actions origins, script arguments). */
export function elementRef(element) {
  return { [W3C_ELEMENT]: element.id, ELEMENT: element.id };
}

export class WebDriverError extends Error {}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async create(base, capabilities) {
    const value = await request(base, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } });
    return new Session(base, value.sessionId);
  }

  cmd(method, path, body) {
    return request(this.base, method, `/session/${this.id}${path}`, body);
  }

  async quit() {
    try {
      await this.cmd('DELETE', '');
    } catch {
      // The app may already be gone.
    }
  }

  /** Runs `script` (a function body; `arguments` holds `args`) in the page and returns its value. */
  execute(script, ...args) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }

  /** Like `execute`, for a body that calls `arguments[arguments.length - 1](result)` when done. */
  executeAsync(script, ...args) {
    return this.cmd('POST', '/execute/async', { script, args });
  }

  async find(css) {
    const v = await this.cmd('POST', '/element', { using: 'css selector', value: css });
    return new Element(this, elementId(v));
  }

  async findAll(css) {
    const v = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return v.map((e) => new Element(this, elementId(e)));
  }

  async screenshot() {
    return Buffer.from(await this.cmd('GET', '/screenshot'), 'base64');
  }

  /** Polls `fn` until it returns a truthy value (or stops throwing); fails with `what` after `timeout` ms. */
  async waitFor(what, fn, timeout = 20000) {
    const until = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        const v = await fn();
        if (v) return v;
        last = v;
      } catch (e) {
        last = e;
      }
      if (Date.now() > until) {
        throw new WebDriverError(`timed out waiting for ${what}: ${last instanceof Error ? last.message : last}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /** Waits for an element matching `css` and returns it. */
  waitForElement(css, timeout) {
    return this.waitFor(`element ${css}`, () => this.find(css), timeout);
  }

  /** Drags `element` by `dx` pixels to the right with a real pointer (W3C actions: press, move, release). */
  async drag(element, dx) {
    const origin = { 'element-6066-11e4-a52e-4f735466cecf': element.id };
    await this.cmd('POST', '/actions', {
      actions: [
        {
          type: 'pointer',
          id: 'mouse',
          parameters: { pointerType: 'mouse' },
          actions: [
            { type: 'pointerMove', origin, x: 0, y: 0, duration: 0 },
            { type: 'pointerDown', button: 0 },
            { type: 'pointerMove', origin: 'pointer', x: Math.round(dx / 2), y: 0, duration: 100 },
            { type: 'pointerMove', origin: 'pointer', x: dx - Math.round(dx / 2), y: 0, duration: 100 },
            { type: 'pointerUp', button: 0 },
          ],
        },
      ],
    });
    await this.cmd('DELETE', '/actions').catch(() => undefined);
  }

  /** The rendered text (`innerText`) of the first element matching `css`, or null when there is none. */
  text(css) {
    return this.execute('const e = document.querySelector(arguments[0]); return e ? e.innerText : null;', css);
  }

  /** Waits until the text of the element matching `css` satisfies `test` (a string to contain, or a RegExp). */
  waitForText(css, test, timeout) {
    const ok = (t) => t !== null && (test instanceof RegExp ? test.test(t) : t.includes(test));
    let last = null;
    return this.waitFor(
      `${css} to show ${test}`,
      async () => {
        last = await this.text(css);
        if (ok(last)) return last;
        throw new WebDriverError(`text is ${JSON.stringify(last?.slice(0, 300) ?? null)}`);
      },
      timeout,
    );
  }
}

export class Element {
  constructor(session, id) {
    this.session = session;
    this.id = id;
  }
  cmd(method, path, body) {
    return this.session.cmd(method, `/element/${this.id}${path}`, body);
  }
  click() {
    return this.cmd('POST', '/click', {});
  }
  text() {
    return this.cmd('GET', '/text');
  }
  attribute(name) {
    return this.cmd('GET', `/attribute/${encodeURIComponent(name)}`);
  }
  clear() {
    return this.cmd('POST', '/clear', {});
  }
  type(text) {
    return this.cmd('POST', '/value', { text });
  }
  async find(css) {
    const v = await this.cmd('POST', '/element', { using: 'css selector', value: css });
    return new Element(this.session, elementId(v));
  }
  async findAll(css) {
    const v = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return v.map((e) => new Element(this.session, elementId(e)));
  }
}

export const Keys = { NULL: '\uE000', BACKSPACE: '\uE003', ENTER: '\uE007', ESCAPE: '\uE00C', END: '\uE010', DOWN: '\uE015', CONTROL: '\uE009' };

async function request(base, method, path, body) {
  let res;
  try {
    res = await fetch(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(90_000),
    });
  } catch (e) {
    throw new WebDriverError(`${method} ${path}: ${e.message}${e.cause ? ` (${e.cause.code ?? ''} ${e.cause.message})` : ''}`);
  }
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WebDriverError(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  }
  if (!res.ok || (json.value && json.value.error)) {
    const v = json.value || {};
    throw new WebDriverError(`${method} ${path}: ${v.error || res.status}: ${v.message || text.slice(0, 300)}`);
  }
  return json.value;
}
