import { describe, expect, it } from 'vitest';

import type { ImportResult } from './backend';
import { applyImportEvent, baseName } from './imports';
import type { ImportItem } from './imports';

const result = (outcome: ImportResult['outcome'], path: string): ImportResult => ({
  path,
  outcome,
  message: outcome,
  stored: outcome === 'imported',
  archive_id: null,
  lookalikes: [],
  gap_before: null,
  report: {
    path,
    status: 'verified',
    origin: 'o',
    sequence: 1,
    events: 3,
    bytes: 10,
    time_range: null,
    source_kind: 'k8s',
    signer: null,
    root: null,
    chain_start: null,
    chain_end: null,
    manifest_sha256: null,
    parse_errors: 0,
    failure: null,
  },
});

describe('the import list', () => {
  it('follows a job from queued to done', () => {
    let items: ImportItem[] = [];
    items = applyImportEvent(items, { kind: 'queued', job: 1, paths: ['/a/x.zip', '/a/y.zip'] });
    expect(items.map((i) => i.state)).toEqual(['waiting', 'waiting']);
    items = applyImportEvent(items, { kind: 'started', job: 1, index: 0, path: '/a/x.zip' });
    items = applyImportEvent(items, {
      kind: 'progress',
      job: 1,
      index: 0,
      elapsed_ms: 500,
      progress: { events_done: 5, events_total: 10, bytes_done: 50, bytes_total: 100 },
    });
    expect(items[0]).toMatchObject({ state: 'running', elapsedMs: 500 });
    items = applyImportEvent(items, { kind: 'finished', job: 1, index: 0, elapsed_ms: 900, result: result('imported', '/a/x.zip') });
    expect(items[0].state).toBe('finished');
    items = applyImportEvent(items, { kind: 'done', job: 1, cancelled: true });
    expect(items.map((i) => i.state)).toEqual(['finished', 'cancelled']);
  });

  it('keeps one item per archive: importing a path again replaces its old result', () => {
    let items: ImportItem[] = [];
    items = applyImportEvent(items, { kind: 'queued', job: 1, paths: ['/a/x.zip'] });
    items = applyImportEvent(items, { kind: 'finished', job: 1, index: 0, elapsed_ms: 1, result: result('untrusted', '/a/x.zip') });
    items = applyImportEvent(items, { kind: 'queued', job: 2, paths: ['/a/x.zip'] });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ job: 2, state: 'waiting' });
  });

  it('records an archive that could not be read at all', () => {
    let items: ImportItem[] = [];
    items = applyImportEvent(items, { kind: 'queued', job: 3, paths: ['/gone.zip'] });
    items = applyImportEvent(items, {
      kind: 'failed',
      job: 3,
      index: 0,
      path: '/gone.zip',
      error: { code: 'io', message: 'cannot read /gone.zip' },
    });
    expect(items[0]).toMatchObject({ state: 'failed', error: { code: 'io' } });
  });

  it('names files by their last path component', () => {
    expect(baseName('/x/y/z.zip')).toBe('z.zip');
    expect(baseName('C:\\x\\z.zip')).toBe('z.zip');
  });
});
