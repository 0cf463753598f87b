// Vitest setup: a jsdom window with the Tauri IPC mocked per test (see @tauri-apps/api/mocks), and a clean DOM and
// mock state after each test.
import { afterEach } from 'vitest';
import { cleanup, configure } from '@testing-library/react';
import { clearMocks } from '@tauri-apps/api/mocks';

// findBy*, waitFor and waitForElementToBeRemoved give up after 1 s by default: too little on a loaded machine (CI,
// two cores, the test files running in parallel), where the first render of the window alone can take that long. A
// test that waits for something that never comes still fails, only later; the test timeout is in vite.config.ts.
configure({ asyncUtilTimeout: 10_000 });

// jsdom has no matchMedia (uPlot asks for it when loaded); the chart itself is not drawn without a canvas.
if (!window.matchMedia) {
  window.matchMedia = (query: string) =>
    ({
      matches: false,
      media: query,
      onchange: null,
      addEventListener: () => undefined,
      removeEventListener: () => undefined,
      addListener: () => undefined,
      removeListener: () => undefined,
      dispatchEvent: () => false,
    }) as MediaQueryList;
}

afterEach(() => {
  cleanup();
  clearMocks();
});
