// Vitest setup: a jsdom window with the Tauri IPC mocked per test (see @tauri-apps/api/mocks), and a clean DOM and
// mock state after each test.
import { afterEach } from 'vitest';
import { cleanup } from '@testing-library/react';
import { clearMocks } from '@tauri-apps/api/mocks';

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
