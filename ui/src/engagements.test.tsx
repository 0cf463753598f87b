// Component tests of engagements and of keys given with --trust, with the IPC mocked: the dialog creates and opens
// engagements (and switches the window), says why a folder is refused; the session-key banner saves a key only
// when asked.

import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';

import type { Engagement, TrustedKey } from './backend';
import { EngagementDialog } from './components/EngagementDialog';
import { basics, mockBackend, startup } from './test/mock-backend';
import { renderApp } from './test/render-app';

const acme: Engagement = {
  folder: '/cases/acme',
  name: 'ACME SOC 2',
  client: 'ACME Corp',
  created: '2026-12-04T00:00:00Z',
  period: { from: '2026-01-01', to: '2026-07-01', silence: '24h' },
};

describe('the engagements dialog', () => {
  it('creates an engagement with its period and switches the window to it', async () => {
    const calls = mockBackend({
      ...basics(),
      engagements: () => ({ current: null, recent: [{ folder: '/cases/old', engagement: null, problem: 'gone' }] }),
      create_engagement: () => ({ current: acme, recent: [] }),
    });
    const switched = vi.fn();
    render(<EngagementDialog onClose={() => undefined} onSwitched={switched} />);
    expect((await screen.findByText('gone')).textContent).toBe('gone');
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'ACME SOC 2' } });
    fireEvent.change(screen.getByLabelText('Client'), { target: { value: 'ACME Corp' } });
    fireEvent.change(screen.getByLabelText('Audit period from'), { target: { value: '2026-01-01' } });
    fireEvent.change(screen.getByLabelText('to'), { target: { value: '2026-07-01' } });
    fireEvent.change(screen.getByLabelText('Folder'), { target: { value: '/cases/acme' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create and open' }));
    await waitFor(() => expect(switched).toHaveBeenCalled());
    expect(calls.find((c) => c.cmd === 'create_engagement')!.args).toEqual({
      folder: '/cases/acme',
      name: 'ACME SOC 2',
      client: 'ACME Corp',
      period: { from: '2026-01-01', to: '2026-07-01', silence: '24h' },
    });
  });

  it('opens a recent engagement, and says why a folder is refused without switching', async () => {
    mockBackend({
      ...basics(),
      engagements: () => ({ current: null, recent: [{ folder: acme.folder, engagement: acme, problem: null }] }),
      open_engagement: (a) =>
        (a as { folder: string }).folder === acme.folder
          ? { current: acme, recent: [] }
          : Promise.reject({ code: 'invalid', message: '/tmp is not an engagement folder (it has no engagement.json)' }),
    });
    const switched = vi.fn();
    render(<EngagementDialog onClose={() => undefined} onSwitched={switched} />);
    fireEvent.change(await screen.findByLabelText('Engagement folder'), { target: { value: '/tmp' } });
    fireEvent.click(document.getElementById('engagement-open')!);
    expect((await screen.findByRole('alert')).textContent).toContain('not an engagement folder');
    expect(switched).not.toHaveBeenCalled();
    fireEvent.click(document.querySelector('#engagement-recent li[data-folder="/cases/acme"] button')!);
    await waitFor(() => expect(switched).toHaveBeenCalled());
  });
});

describe('keys given with --trust', () => {
  const ops: TrustedKey = {
    key: 'ops+1+x',
    name: 'ops',
    fingerprint: 'SHA256:ops',
    added: '2026-12-04T00:00:00Z',
    origins: '*',
    pinned: true,
    valid_after: null,
    valid_before: null,
  };
  it('are saved to the engagement keyring only when asked, and the header names the engagement', async () => {
    let session = [ops];
    const calls = mockBackend({
      ...basics(startup({ session_keys: [ops], engagement: acme })),
      session_keys: () => session,
      save_session_key: () => {
        session = [];
        return { key: ops, added: true, promoted: [] };
      },
      keys: () => [ops],
    });
    await renderApp();
    expect(document.getElementById('engagement-chip')!.textContent).toBe('Engagement: ACME SOC 2');
    const banner = document.getElementById('session-keys')!;
    expect(banner.textContent).toContain('save to the keyring of ACME SOC 2?');
    expect(calls.some((c) => c.cmd === 'save_session_key')).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Save to keyring' }));
    await waitFor(() => expect(document.getElementById('session-keys')).toBeNull());
    expect(calls.find((c) => c.cmd === 'save_session_key')!.args).toEqual({ fingerprint: 'SHA256:ops' });
  });
});
