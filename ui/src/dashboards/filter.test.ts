// The dashboard filter as the commands receive it: time ranges, working hours and what is refused.

import { describe, expect, it } from 'vitest';

import { DEFAULT_FILTER, dayStart, parseClock, rangeOf, scopeOf, workingHoursText } from './filter';

const HOUR = 3_600_000_000;
const NOW = Date.UTC(2024, 4, 15, 10, 42, 7) * 1000;

describe('the dashboard filter', () => {
  it('counts all time by default, verified archives only, with no query', () => {
    expect(scopeOf(DEFAULT_FILTER, 'utc', NOW)).toEqual({ from: null, to: null, query: '', include_unverified: false });
    expect(DEFAULT_FILTER.workingHours).toEqual({ start_minute: 540, end_minute: 1080, utc_offset_minutes: 0 });
  });

  it('starts relative ranges on the whole UTC hour before', () => {
    expect(rangeOf({ ...DEFAULT_FILTER, range: '24h' }, 'utc', NOW)).toEqual({
      from: Date.UTC(2024, 4, 14, 10) * 1000,
      to: null,
    });
    const week = rangeOf({ ...DEFAULT_FILTER, range: '7d' }, 'utc', NOW) as { from: number };
    expect(week.from % HOUR).toBe(0);
    expect(week.from).toBe(Date.UTC(2024, 4, 8, 10) * 1000);
  });

  it('takes custom days whole, the last one included, in UTC', () => {
    const r = rangeOf({ ...DEFAULT_FILTER, range: 'custom', fromDay: '2024-05-01', toDay: '2024-05-02' }, 'utc', NOW);
    expect(r).toEqual({ from: Date.UTC(2024, 4, 1) * 1000, to: Date.UTC(2024, 4, 3) * 1000 });
    expect(rangeOf({ ...DEFAULT_FILTER, range: 'custom', fromDay: '', toDay: '2024-05-02' }, 'utc', NOW)).toEqual({
      from: null,
      to: Date.UTC(2024, 4, 3) * 1000,
    });
  });

  it('refuses a first day after the last one', () => {
    const r = scopeOf({ ...DEFAULT_FILTER, range: 'custom', fromDay: '2024-05-03', toDay: '2024-05-01' }, 'utc', NOW);
    expect(r).toEqual({ error: 'the first day must not be after the last day' });
    expect(dayStart('yesterday', 'utc')).toBeNull();
  });

  it('reads working hours as HH:MM up to 24:00 and names them with their zone', () => {
    expect(parseClock('09:30')).toBe(570);
    expect(parseClock('24:00')).toBe(1440);
    expect(parseClock('24:30')).toBeNull();
    expect(parseClock('9:75')).toBeNull();
    expect(parseClock('nine')).toBeNull();
    expect(workingHoursText({ start_minute: 480, end_minute: 1020, utc_offset_minutes: 330 })).toBe(
      'Mon–Fri 08:00–17:00 UTC+05:30',
    );
    expect(workingHoursText(DEFAULT_FILTER.workingHours)).toBe('Mon–Fri 09:00–18:00 UTC');
  });

  it('counts unverified archives too only when the switch is on', () => {
    expect(DEFAULT_FILTER.includeUnverified).toBe(false);
    expect(scopeOf({ ...DEFAULT_FILTER, includeUnverified: true, range: '24h' }, 'utc', NOW)).toEqual({
      from: Date.UTC(2024, 4, 14, 10) * 1000,
      to: null,
      query: '',
      include_unverified: true,
    });
  });

  it('trims the query', () => {
    expect((scopeOf({ ...DEFAULT_FILTER, query: '  source:k8s ' }, 'utc', NOW) as { query: string }).query).toBe(
      'source:k8s',
    );
  });
});
