// Dialogs keep the keyboard (issue 16's bugs): Tab never leaves a dialog, even past a disabled button; Escape
// closes it wherever the focus went; Alt+1..8 do not switch screens behind it.

import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';

import { Modal } from './components/Modal';
import { basics, mockBackend } from './test/mock-backend';
import { renderApp } from './test/render-app';

function dialogWithDisabledConfirm(onClose: () => void) {
  render(
    <>
      <button id="outside">outside</button>
      <Modal title="Export" onClose={onClose}>
        <label>
          Purpose <input id="purpose" />
        </label>
        <button id="cancel" onClick={onClose}>
          Cancel
        </button>
        <button id="confirm" disabled>
          Export and sign
        </button>
      </Modal>
    </>,
  );
  return screen.getByRole('dialog');
}

describe('a dialog', () => {
  it('wraps Tab from its last enabled control to its first, past a disabled button', () => {
    dialogWithDisabledConfirm(() => undefined);
    const cancel = document.getElementById('cancel')!;
    cancel.focus();
    fireEvent.keyDown(cancel, { key: 'Tab' });
    expect(document.activeElement?.id).toBe('purpose');
    fireEvent.keyDown(document.activeElement!, { key: 'Tab', shiftKey: true });
    expect(document.activeElement?.id).toBe('cancel');
  });

  it('takes the focus back when it leaves, and closes on Escape wherever the focus is', () => {
    const onClose = vi.fn();
    const dialog = dialogWithDisabledConfirm(onClose);
    document.getElementById('outside')!.focus();
    expect(dialog.contains(document.activeElement)).toBe(true);
    fireEvent.keyDown(document.body, { key: 'Escape' });
    expect(onClose).toHaveBeenCalledTimes(1);
    fireEvent.keyDown(within(dialog).getByLabelText(/Purpose/), { key: 'Escape' });
    expect(onClose).toHaveBeenCalledTimes(2);
  });

  it('keeps Alt+1..8 from switching screens behind it', async () => {
    mockBackend(basics());
    await renderApp();
    const selected = () => screen.getAllByRole('tab').find((t) => t.getAttribute('aria-selected') === 'true')?.textContent;
    const before = selected();
    fireEvent.click(screen.getByRole('button', { name: 'About' }));
    await screen.findByRole('dialog');
    fireEvent.keyDown(window, { key: '3', altKey: true });
    expect(selected()).toBe(before);
    fireEvent.keyDown(document.activeElement ?? document.body, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    fireEvent.keyDown(window, { key: '3', altKey: true });
    await waitFor(() => expect(selected()).not.toBe(before));
  });
});
