// Test support: the whole window rendered and ready for input.

import { render, waitFor } from '@testing-library/react';

import { App } from '../App';
import { isListening } from './mock-backend';

/**
 * Renders <App /> and waits until the window takes input, for the tests that press keys or drop files on it.
 *
 * The window appears when the mocked, asynchronous `startup` call answers, outside of act(). React then commits
 * every screen at once but runs their effects in a later task: a test that merely sees the window (findBy*) may act
 * before the window's keyboard shortcuts, its drop listener or a screen's mount effects exist, and more so on a
 * loaded machine. The drop listener comes last (its `listen` calls go over the IPC after those effects ran), so
 * waiting for it waits for all of them. Content that arrives later (a dashboard's numbers, search results) is a
 * later commit: wait for it with a findBy query or waitFor as usual.
 */
export async function renderApp() {
  const rendered = render(<App />);
  await waitFor(() => {
    if (!isListening('tauri://drag-drop')) throw new Error('the window is not ready: nothing listens to dropped files yet');
  });
  return rendered;
}
