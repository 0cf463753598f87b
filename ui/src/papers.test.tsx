// Component tests of the working papers with the IPC mocked: the event's tags, note and bookmark send the right
// changes and show what the core answers (text only, whatever the auditor typed); the search's Back and Forward,
// saved searches and recent searches; the action log screen's whole and broken chain.

import { fireEvent, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import type { Annotations, Change, EventDetail } from './backend';
import { basics, mockBackend, startup } from './test/mock-backend';
import { renderApp } from './test/render-app';

const detail: EventDetail = {
  id: 'x@1#0',
  time: '2024-05-01T10:00:00Z',
  source: 'k8s',
  origin: 'x',
  actor: 'alice',
  action: 'get',
  resource: 'pods',
  outcome: 'success',
  category: 'read',
  ip: null,
  agent: null,
  env: null,
  stage: null,
  privilege: null,
  archive: 'x@1',
  sequence: 1,
  index: 0,
  verified: true,
  received: false,
  raw: '{"actor":"alice"}',
  leaf: 'ab'.repeat(32),
  archive_id: 1,
  archive_path: '/a.zip',
  archive_status: 'verified',
  signer_key: 'ops+1+x',
  signer_fingerprint: 'SHA256:x',
  checkpoint: 'x\n1\nroot\n',
  root: 'root',
};
const loaded = { ...basics(startup({ db: { ...startup().db, events: 1, archives: 1 } })) };

async function openEvent() {
  const { container } = await renderApp();
  fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
  await waitFor(() => expect(screen.getByText('1 match')).toBeTruthy());
  fireEvent.keyDown(container.querySelector('#results-body')!, { key: 'Enter' });
  await waitFor(() => {
    if (!document.getElementById('papers-tag-input')) throw new Error('the working papers are not shown yet');
  });
  return container;
}

describe('the working papers on an event', () => {
  it('adds and removes tags, saves a note and bookmarks, each as one change, and shows the answer as text', async () => {
    let papers: Annotations = { tags: [], note: null, bookmarked: false };
    const changes: Change[] = [];
    mockBackend({
      ...loaded,
      search: () => ({ events: [detail], next: null }),
      count: () => 1,
      event: () => detail,
      annotations: () => papers,
      annotate: (a) => {
        const change = (a as { change: Change }).change;
        changes.push(change);
        if (change.kind === 'add_tag') papers = { ...papers, tags: [...papers.tags, change.tag.trim()] };
        if (change.kind === 'remove_tag') papers = { ...papers, tags: papers.tags.filter((t) => t !== change.tag) };
        if (change.kind === 'set_note') papers = { ...papers, note: change.note.trim() || null };
        if (change.kind === 'set_bookmark') papers = { ...papers, bookmarked: change.on };
        return papers;
      },
    });
    const container = await openEvent();
    const input = document.getElementById('papers-tag-input') as HTMLInputElement;
    fireEvent.change(input, { target: { value: '<b>finding-3</b>' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    await waitFor(() => expect(container.querySelector('[data-tag="<b>finding-3</b>"]')).toBeTruthy());
    expect(container.querySelector('#event-papers b')).toBeNull();
    expect(input.value).toBe('');
    fireEvent.change(document.getElementById('papers-note')!, { target: { value: 'shared password\n<img src=x>' } });
    fireEvent.click(document.getElementById('papers-note-save')!);
    await screen.findByText('saved');
    fireEvent.click(document.getElementById('papers-bookmark')!);
    await waitFor(() => expect(document.getElementById('papers-bookmark')!.getAttribute('aria-pressed')).toBe('true'));
    fireEvent.click(screen.getByRole('button', { name: 'Remove tag <b>finding-3</b>' }));
    await waitFor(() => expect(container.querySelector('[data-tag]')).toBeNull());
    expect(container.querySelector('img')).toBeNull();
    expect(changes).toEqual([
      { kind: 'add_tag', tag: '<b>finding-3</b>' },
      { kind: 'set_note', note: 'shared password\n<img src=x>' },
      { kind: 'set_bookmark', on: true },
      { kind: 'remove_tag', tag: '<b>finding-3</b>' },
    ]);
  });

  it('shows why a tag is refused', async () => {
    mockBackend({
      ...loaded,
      search: () => ({ events: [detail], next: null }),
      count: () => 1,
      event: () => detail,
      annotate: () => Promise.reject({ code: 'invalid', message: 'a tag is one word without spaces' }),
    });
    await openEvent();
    fireEvent.change(document.getElementById('papers-tag-input')!, { target: { value: 'two words' } });
    fireEvent.click(document.getElementById('papers-tag-add')!);
    expect((await screen.findByRole('alert')).textContent).toContain('a tag is one word without spaces');
  });
});

describe('searches', () => {
  it('go back and forward through the searches run, and a new one drops what lay ahead', async () => {
    const asked: string[] = [];
    const remembered: string[] = [];
    mockBackend({
      ...loaded,
      search: (a) => {
        asked.push((a as { query: string }).query);
        return { events: [], next: null };
      },
      remember_query: (a) => {
        remembered.push((a as { query: string }).query);
        return { tags: [], saved_searches: [], history: [] };
      },
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(asked).toEqual(['']));
    const query = document.getElementById('query') as HTMLInputElement;
    const back = document.getElementById('query-back') as HTMLButtonElement;
    const forward = document.getElementById('query-forward') as HTMLButtonElement;
    expect(back.disabled).toBe(true);
    for (const q of ['actor:a', 'actor:b']) {
      fireEvent.change(query, { target: { value: q } });
      fireEvent.click(document.getElementById('search-button')!);
    }
    await waitFor(() => expect(asked.at(-1)).toBe('actor:b'));
    fireEvent.click(back);
    await waitFor(() => expect(query.value).toBe('actor:a'));
    fireEvent.keyDown(window, { key: 'ArrowLeft', altKey: true });
    await waitFor(() => expect(query.value).toBe(''));
    expect(back.disabled).toBe(true);
    fireEvent.keyDown(window, { key: 'ArrowRight', altKey: true });
    await waitFor(() => expect(query.value).toBe('actor:a'));
    expect(forward.disabled).toBe(false);
    fireEvent.change(query, { target: { value: 'actor:c' } });
    fireEvent.click(document.getElementById('search-button')!);
    await waitFor(() => expect(asked.at(-1)).toBe('actor:c'));
    expect(forward.disabled).toBe(true);
    expect(asked).toEqual(['', 'actor:a', 'actor:b', 'actor:a', '', 'actor:a', 'actor:c']);
    // Only searches typed or chosen go to the saved history, not steps back and forth.
    expect(remembered).toEqual(['actor:a', 'actor:b', 'actor:c']);
  });

  it('are saved by name, run from the list, deleted; tags and recent searches run their search', async () => {
    let saved: { name: string; query: string; saved: string }[] = [];
    const view = () => ({
      tags: [{ tag: 'finding-3', events: 2 }],
      saved_searches: saved,
      history: ['actor:zed'],
    });
    const asked: string[] = [];
    mockBackend({
      ...loaded,
      search: (a) => {
        asked.push((a as { query: string }).query);
        return { events: [], next: null };
      },
      working_papers: view,
      remember_query: view,
      save_search: (a) => {
        const { name, query } = a as { name: string; query: string };
        saved = [{ name, query, saved: '2026-12-04T00:00:00Z' }];
        return view();
      },
      delete_saved_search: () => {
        saved = [];
        return view();
      },
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    fireEvent.change(document.getElementById('query')!, { target: { value: 'outcome:denied' } });
    fireEvent.click(document.getElementById('search-button')!);
    await waitFor(() => expect(asked.at(-1)).toBe('outcome:denied'));
    fireEvent.click(document.getElementById('papers-toggle')!);
    fireEvent.change(await screen.findByLabelText('Save this search as'), { target: { value: 'Denied' } });
    fireEvent.click(document.getElementById('save-search')!);
    const link = await screen.findByRole('button', { name: 'Denied' });
    fireEvent.click(screen.getByRole('button', { name: /finding-3/ }));
    await waitFor(() => expect(asked.at(-1)).toBe('tag:finding-3'));
    fireEvent.click(link);
    await waitFor(() => expect(asked.at(-1)).toBe('outcome:denied'));
    fireEvent.click(screen.getByRole('button', { name: 'actor:zed' }));
    await waitFor(() => expect(asked.at(-1)).toBe('actor:zed'));
    fireEvent.click(screen.getByRole('button', { name: 'Delete saved search Denied' }));
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Denied' })).toBeNull());
  });
});

describe('the action log screen', () => {
  const entry = (seq: number, action: string) => ({
    seq,
    at: '2026-12-04T10:00:00Z',
    action,
    subject: '/data/<b>a</b>.zip',
    detail: 'imported',
    prev: '0'.repeat(64),
    hash: String(seq).repeat(64).slice(0, 64),
  });
  it('shows a whole chain with its head, newest first, as text', async () => {
    mockBackend({
      ...loaded,
      action_log: () => ({
        entries: [entry(1, 'import'), entry(2, 'tag added')],
        check: { entries: 2, head: '2'.repeat(64), problems: [] },
      }),
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Action log' }));
    const status = await waitFor(() => {
      const s = document.getElementById('action-log-status');
      if (!s) throw new Error('no status yet');
      return s;
    });
    expect(status.textContent).toContain('Chain whole');
    expect(status.textContent).toContain('2'.repeat(64));
    const rows = container.querySelectorAll('#action-log-table tbody tr');
    expect([...rows].map((r) => r.getAttribute('data-seq'))).toEqual(['2', '1']);
    expect(container.querySelector('#action-log-table b')).toBeNull();
  });

  it('names the broken entry with the expected and found hash', async () => {
    mockBackend({
      ...loaded,
      action_log: () => ({
        entries: [entry(1, 'import')],
        check: {
          entries: 1,
          head: '1'.repeat(64),
          problems: [{ seq: 1, problem: 'was changed after it was written', expected: 'e'.repeat(64), found: 'f'.repeat(64) }],
        },
      }),
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Action log' }));
    const status = await screen.findByRole('alert');
    expect(status.textContent).toContain('CHAIN BROKEN');
    expect(status.textContent).toContain('Entry 1: was changed after it was written');
    expect(status.textContent).toContain('e'.repeat(64));
    expect(status.textContent).toContain('f'.repeat(64));
  });
});

describe('identities beside the search', () => {
  it('confirms a suggested person in one click and searches person:', async () => {
    let aliases: { actor: string; person: string }[] = [];
    const suggestion = {
      person: 'anaya',
      actors: ['anaya', 'arn:aws:iam::111122223333:user/anaya'],
      why: 'the same name as the user name of an IAM user ARN',
    };
    const asked: string[] = [];
    const calls = mockBackend({
      ...loaded,
      search: (a) => {
        asked.push((a as { query: string }).query);
        return { events: [], next: null };
      },
      identities: () => ({ aliases, suggestions: aliases.length ? [] : [suggestion] }),
      set_alias: (a) => {
        const { actor, person } = a as { actor: string; person: string };
        aliases = [...aliases, { actor, person }];
        return { aliases, suggestions: [] };
      },
    });
    await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    fireEvent.click(document.getElementById('papers-toggle')!);
    fireEvent.click(await screen.findByRole('button', { name: 'Same person: anaya' }));
    await waitFor(() => expect(document.querySelector('#identity-people li[data-person="anaya"]')).toBeTruthy());
    // Only the other value is aliased: the short name is the person.
    expect(calls.filter((c) => c.cmd === 'set_alias').map((c) => c.args)).toEqual([
      { actor: 'arn:aws:iam::111122223333:user/anaya', person: 'anaya' },
    ]);
    fireEvent.click(screen.getByRole('button', { name: 'anaya' }));
    await waitFor(() => expect(asked.at(-1)).toBe('person:anaya'));
  });
});

describe('result columns', () => {
  it('resize by dragging their edge and keep the width in the settings', async () => {
    const saved: unknown[] = [];
    mockBackend({
      ...loaded,
      search: () => ({ events: [detail], next: null }),
      count: () => 1,
      save_settings: (a) => {
        saved.push(a.settings);
        return a.settings;
      },
    });
    const { container } = await renderApp();
    fireEvent.click(await screen.findByRole('tab', { name: 'Search' }));
    await waitFor(() => expect(screen.getByText('1 match')).toBeTruthy());
    const handle = container.querySelector('.col-resize[data-column="actor"]')!;
    fireEvent.mouseDown(handle, { clientX: 100 });
    fireEvent.mouseMove(window, { clientX: 300 });
    fireEvent.mouseUp(window, { clientX: 300 });
    await waitFor(() => expect(saved.length).toBe(1));
    // jsdom lays nothing out: the cell was 0 px wide, so the drag made it 200 px.
    expect((saved[0] as { column_widths: Record<string, number> }).column_widths).toEqual({ actor: 200 });
    await waitFor(() =>
      expect((container.querySelector('.grid-head') as HTMLElement).style.gridTemplateColumns).toContain('200px'),
    );
    fireEvent.keyDown(handle, { key: 'Delete' });
    await waitFor(() => expect(saved.length).toBe(2));
    expect((saved[1] as { column_widths: Record<string, number> }).column_widths).toEqual({});
  });
});
