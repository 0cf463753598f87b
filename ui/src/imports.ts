// The import list: one item per archive being (or having been) imported, built from the job events that arrive
// through the import channel. Pure, so it is tested without a window.

import type { AppError, ImportEvent, ImportResult, Progress } from './backend';

export type ItemState = 'waiting' | 'running' | 'finished' | 'failed' | 'cancelled';

export interface ImportItem {
  /** `job:index` */
  key: string;
  job: number;
  index: number;
  path: string;
  state: ItemState;
  progress: Progress | null;
  elapsedMs: number;
  result: ImportResult | null;
  error: AppError | null;
}

function update(items: ImportItem[], job: number, index: number, change: Partial<ImportItem>): ImportItem[] {
  return items.map((it) => (it.job === job && it.index === index ? { ...it, ...change } : it));
}

/** Applies one event of an import job. A path imported again replaces its older item (one result per archive). */
export function applyImportEvent(items: ImportItem[], ev: ImportEvent): ImportItem[] {
  switch (ev.kind) {
    case 'queued': {
      const fresh: ImportItem[] = ev.paths.map((path, index) => ({
        key: `${ev.job}:${index}`,
        job: ev.job,
        index,
        path,
        state: 'waiting',
        progress: null,
        elapsedMs: 0,
        result: null,
        error: null,
      }));
      const paths = new Set(ev.paths);
      return [...fresh, ...items.filter((it) => !paths.has(it.path))];
    }
    case 'started':
      return update(items, ev.job, ev.index, { state: 'running' });
    case 'progress':
      return update(items, ev.job, ev.index, { progress: ev.progress, elapsedMs: ev.elapsed_ms });
    case 'finished':
      return update(items, ev.job, ev.index, {
        state: ev.result.outcome === 'cancelled' ? 'cancelled' : 'finished',
        result: ev.result,
        elapsedMs: ev.elapsed_ms,
      });
    case 'failed':
      return update(items, ev.job, ev.index, { state: 'failed', error: ev.error });
    case 'done':
      return items.map((it) =>
        it.job === ev.job && (it.state === 'waiting' || it.state === 'running')
          ? { ...it, state: ev.cancelled ? 'cancelled' : 'failed' }
          : it,
      );
  }
}

/** The file name of a path, for titles. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}
