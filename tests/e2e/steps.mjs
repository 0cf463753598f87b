// Steps the end-to-end suites share: switching screens, typing into inputs the way React sees it, running a search,
// and naming a failed step by a screenshot.

/** Runs `fn`; on failure saves a screenshot of `session` named `FAILED-<prefix><name>` and rethrows. */
export function stepper(h, prefix = '') {
  return async (session, name, fn) => {
    try {
      return await fn();
    } catch (e) {
      await h.screenshot(session, `FAILED-${prefix}${name}`).catch(() => undefined);
      throw e;
    }
  };
}

/** Clicks the tab of `tab` and waits until it is the selected one. */
export async function goTo(s, tab) {
  await (await s.find(`#tab-${tab}`)).click();
  await s.waitFor(`${tab} tab`, async () => (await (await s.find(`#tab-${tab}`)).attribute('aria-selected')) === 'true');
}

/** Sets an input's or textarea's value the way React sees it, then types `text` with real key events. */
export async function fill(s, css, text) {
  await s.execute(
    `const el = document.querySelector(arguments[0]);
     const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
     Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, '');
     el.dispatchEvent(new Event('input', { bubbles: true }));`,
    css,
  );
  if (text) await (await s.find(css)).type(text);
}

/** Types `query` into the search box and runs it. */
export async function search(s, query) {
  await fill(s, '#query', query);
  await (await s.find('#search-button')).click();
}
