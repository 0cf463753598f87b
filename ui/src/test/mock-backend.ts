// Test support: the Tauri IPC mocked with per-command handlers (as src-tauri's commands would answer), and
// sample values of the generated types.

import { mockIPC, mockWindows } from '@tauri-apps/api/mocks';

import type { DbStatus, Settings, Startup } from '../backend';

export type Handler = (args: Record<string, unknown>) => unknown;

export const settings: Settings = { db_path: null, theme: 'system', time_zone: 'utc', columns: [] };

export const emptyDb: DbStatus = {
  path: '/home/user/.local/share/dev.auditlens.app/auditlens.db',
  is_default: true,
  from_command_line: false,
  archives: 0,
  events: 0,
};

export function startup(change: Partial<Startup> = {}): Startup {
  return {
    version: '0.1.0',
    data_dir: '/home/user/.local/share/dev.auditlens.app',
    settings,
    db: emptyDb,
    keys: [],
    imports: [],
    notices: [],
    ...change,
  };
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
  return calls;
}

/** Default answers for the calls every screen makes. */
export function basics(s: Startup = startup()): Record<string, Handler> {
  return {
    startup: () => s,
    db_status: () => s.db,
    save_settings: (a) => a.settings,
    archives: () => ({ archives: [], continuity: [] }),
    search: () => ({ events: [], next: null }),
    count: () => 0,
    auditor_key: () => null,
    histogram: () => ({ start: null, bucket_micros: 1000000, counts: [], first: null, last: null, timed: 0, untimed: 0 }),
  };
}
