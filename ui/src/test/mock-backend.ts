// Test support: the Tauri IPC mocked with per-command handlers (as src-tauri's commands would answer), and
// sample values of the generated types.

import { mockIPC, mockWindows } from '@tauri-apps/api/mocks';

import type { DbStatus, Settings, Startup } from '../backend';

export type Handler = (args: Record<string, unknown>) => unknown;

export const settings: Readonly<Settings> = Object.freeze({
  db_path: null,
  theme: 'system',
  time_zone: 'utc',
  columns: [],
  column_widths: {},
  engagement: null,
  recent_engagements: [],
});

export const emptyDb: Readonly<DbStatus> = Object.freeze({
  path: '/home/user/.local/share/dev.auditlens.app/auditlens.db',
  is_default: true,
  from_command_line: false,
  archives: 0,
  events: 0,
  upgrade: null,
  text_index: { indexed_events: 0, pending_events: 0, pending_archives: 0 },
});

/** A fresh start-up answer (its own objects, so that no test can change what the next one gets). */
export function startup(change: Partial<Startup> = {}): Startup {
  return {
    version: '0.1.0',
    data_dir: '/home/user/.local/share/dev.auditlens.app',
    settings: { ...settings, columns: [...settings.columns] },
    db: { ...emptyDb },
    keys: [],
    imports: [],
    notices: [],
    session_keys: [],
    engagement: null,
    ...change,
  };
}

/** The events listened to through the mocked event plugin, by listener id (reset by every `mockBackend`). */
let listeners = new Map<number, string>();

/**
 * Whether something listens to the Tauri event `event` (e.g. 'tauri://drag-drop') through the mocked IPC. The UI
 * registers its listeners asynchronously (in effects, over IPC): a test that emits an event must wait for this,
 * or the event is lost.
 */
export function isListening(event: string): boolean {
  return [...listeners.values()].includes(event);
}

/** Every IPC call goes to `handlers[cmd]`; an unknown command fails the way Tauri does. Returns the call log. */
export function mockBackend(handlers: Record<string, Handler>) {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  mockWindows('main');
  mockIPC(
    (cmd, args) => {
      const a = (args ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args: a });
      const h = handlers[cmd];
      if (!h) {
        if (cmd.startsWith('plugin:')) return null;
        return Promise.reject({ code: 'internal', message: `unexpected command ${cmd}` });
      }
      return h(a);
    },
    { shouldMockEvents: true },
  );
  // Record the listeners the mock has registered (it keeps them to itself): a listener counts once its `listen`
  // call has returned, i.e. once an emitted event reaches it.
  const own = new Map<number, string>();
  listeners = own;
  const internals = (window as unknown as { __TAURI_INTERNALS__: { invoke: MockInvoke } }).__TAURI_INTERNALS__;
  const invoke = internals.invoke;
  internals.invoke = async (cmd, args, options) => {
    const result = await invoke(cmd, args, options);
    const a = (args ?? {}) as { event?: string; handler?: number; eventId?: number };
    if (cmd === 'plugin:event|listen' && typeof a.handler === 'number') own.set(a.handler, String(a.event));
    else if (cmd === 'plugin:event|unlisten' && typeof a.eventId === 'number') own.delete(a.eventId);
    return result;
  };
  return calls;
}

type MockInvoke = (cmd: string, args?: unknown, options?: unknown) => Promise<unknown>;

/** Default answers for the calls every screen makes. */
export function basics(s: Startup = startup()): Record<string, Handler> {
  return {
    startup: () => s,
    db_status: () => s.db,
    save_settings: (a) => a.settings,
    archives: () => ({ archives: [], lookalikes: [], continuity: [] }),
    incidents: () => [],
    working_papers: () => ({ tags: [], saved_searches: [], history: [] }),
    remember_query: () => ({ tags: [], saved_searches: [], history: [] }),
    annotations: () => ({ tags: [], note: null, bookmarked: false }),
    identities: () => ({ aliases: [], suggestions: [] }),
    action_log: () => ({ entries: [], check: { entries: 0, head: null, problems: [] } }),
    search: () => ({ events: [], next: null }),
    count: () => 0,
    hints: () => [],
    file_kinds: (a) => (a.paths as string[]).map(() => 'archive'),
    auditor_key: () => null,
    audit_coverage: () => ({ period: null, coverage: null }),
    histogram: () => ({ start: null, bucket_micros: 1000000, counts: [], first: null, last: null, timed: 0, untimed: 0 }),
  };
}
