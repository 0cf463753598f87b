// What the dashboards count, as the user sets it in the bar above them (one filter shared by Overview, Deployments
// and Access): a time range, an optional query and the working hours that decide what is "off hours". Turned into
// the `Scope` and `DashboardOptions` of the dashboard commands here, and nowhere else.

import type { Scope, TimeZoneChoice, WorkingHours } from '../backend';
import { offsetText } from '../format/time';

export type RangeChoice = 'all' | '24h' | '7d' | '30d' | 'custom';

export interface DashboardFilter {
  range: RangeChoice;
  /** For `custom`: first and last day (`YYYY-MM-DD`, both included), in the zone the window shows times in. */
  fromDay: string;
  toDay: string;
  query: string;
  workingHours: WorkingHours;
  /** Count events of archives that did not verify (failed, untrusted key) too; off by default. */
  includeUnverified: boolean;
}

export const RANGES: { id: RangeChoice; label: string }[] = [
  { id: 'all', label: 'All time' },
  { id: '24h', label: 'Last 24 hours' },
  { id: '7d', label: 'Last 7 days' },
  { id: '30d', label: 'Last 30 days' },
  { id: 'custom', label: 'Custom days' },
];

export const DEFAULT_FILTER: DashboardFilter = {
  range: 'all',
  fromDay: '',
  toDay: '',
  query: '',
  workingHours: { start_minute: 9 * 60, end_minute: 18 * 60, utc_offset_minutes: 0 },
  includeUnverified: false,
};

const HOUR = 3_600_000_000;
const DAY = 24 * HOUR;

/** Microseconds of midnight starting `day` (`YYYY-MM-DD`) in the zone, or null if it is not a date. */
export function dayStart(day: string, zone: TimeZoneChoice): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const ms = zone === 'utc' ? Date.UTC(+m[1], +m[2] - 1, +m[3]) : new Date(+m[1], +m[2] - 1, +m[3]).getTime();
  return Number.isNaN(ms) ? null : ms * 1000;
}

/** The time range of the filter, `[from, to)` in microseconds (null: unbounded), or an error message. */
export function rangeOf(
  f: DashboardFilter,
  zone: TimeZoneChoice,
  nowMicros: number,
): { from: number | null; to: number | null } | { error: string } {
  // Relative ranges start on a whole UTC hour: the store then answers from its hourly summaries alone (fast on
  // large stores), and the range is at most an hour longer than its name.
  const since = (micros: number) => ({ from: Math.floor((nowMicros - micros) / HOUR) * HOUR, to: null });
  switch (f.range) {
    case 'all':
      return { from: null, to: null };
    case '24h':
      return since(DAY);
    case '7d':
      return since(7 * DAY);
    case '30d':
      return since(30 * DAY);
    case 'custom': {
      const from = f.fromDay ? dayStart(f.fromDay, zone) : null;
      const last = f.toDay ? dayStart(f.toDay, zone) : null;
      if (f.fromDay && from === null) return { error: `not a day: ${f.fromDay}` };
      if (f.toDay && last === null) return { error: `not a day: ${f.toDay}` };
      const to = last === null ? null : last + DAY;
      if (from !== null && to !== null && from >= to) return { error: 'the first day must not be after the last day' };
      return { from, to };
    }
  }
}

export function scopeOf(f: DashboardFilter, zone: TimeZoneChoice, nowMicros: number): Scope | { error: string } {
  const r = rangeOf(f, zone, nowMicros);
  if ('error' in r) return r;
  return { from: r.from, to: r.to, query: f.query.trim(), include_unverified: f.includeUnverified };
}

/** `09:30` for 570 minutes; `24:00` for the end of the day. */
export function clockText(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** Minutes of `HH:MM` (00:00 to 24:00), or null. */
export function parseClock(text: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const v = +m[1] * 60 + +m[2];
  return +m[2] < 60 && v <= 24 * 60 ? v : null;
}

/** The UTC offsets offered for working hours: -12:00 to +14:00 by half hours, and +05:45 (Nepal). */
export const OFFSETS: number[] = (() => {
  const out: number[] = [];
  for (let m = -12 * 60; m <= 14 * 60; m += 30) out.push(m);
  out.push(345);
  return out.sort((a, b) => a - b);
})();

/** `Mon-Fri 09:00-18:00 UTC+02:00`. */
export function workingHoursText(w: WorkingHours): string {
  const zone = w.utc_offset_minutes === 0 ? 'UTC' : `UTC${offsetText(w.utc_offset_minutes)}`;
  return `Mon–Fri ${clockText(w.start_minute)}–${clockText(w.end_minute)} ${zone}`;
}
