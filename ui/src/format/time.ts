// Times as the app shows them. The store gives RFC 3339 UTC strings with microseconds (`2024-05-01T10:00:00.123456Z`)
// and histograms give microseconds since the epoch. Every displayed time says its zone.

import type { TimeZoneChoice } from '../backend';

/** Microseconds since the epoch of an RFC 3339 UTC string from the store (null if it is not one). */
export function parseUtcMicros(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/.exec(text);
  if (!m) return null;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  const frac = (m[7] ?? '').padEnd(6, '0').slice(0, 6);
  return ms * 1000 + Number(frac);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `+02:00` for an offset of 120 minutes east of UTC. */
export function offsetText(minutesEast: number): string {
  const sign = minutesEast < 0 ? '-' : '+';
  const a = Math.abs(minutesEast);
  return `${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** The local zone's name and its current offset, e.g. `Europe/Paris, UTC+02:00`. */
export function localZoneLabel(at: Date = new Date()): string {
  const name = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
  return `${name}, UTC${offsetText(-at.getTimezoneOffset())}`;
}

/** The local zone's offset alone, "UTC+01:00" (for the header's chip). */
export function localOffsetLabel(at: Date = new Date()): string {
  return `UTC${offsetText(-at.getTimezoneOffset())}`;
}

/** The label of the zone times are shown in, for column headers and axis titles. */
export function zoneLabel(zone: TimeZoneChoice): string {
  return zone === 'utc' ? 'UTC' : `local: ${localZoneLabel()}`;
}

/** Formats microseconds since the epoch in the chosen zone with `digits` (0 to 6) digits of the second:
 * `2024-05-01 12:00:00.123456 +02:00`, `2024-05-01 10:00:00 UTC`. */
export function formatMicros(micros: number, zone: TimeZoneChoice, digits = 6): string {
  const ms = Math.floor(micros / 1000);
  const us = ((micros % 1_000_000) + 1_000_000) % 1_000_000;
  const d = new Date(ms);
  const frac = digits > 0 ? '.' + pad(us, 6).slice(0, digits) : '';
  if (zone === 'utc') {
    return (
      `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
      `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${frac} UTC`
    );
  }
  return (
    `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${frac} ${offsetText(-d.getTimezoneOffset())}`
  );
}

/** Formats a store time string in the chosen zone, to the precision stored (or `digits` digits of the second);
 * `(no time)` for an event without one. */
export function formatTime(text: string | null | undefined, zone: TimeZoneChoice, digits?: number): string {
  if (!text) return '(no time)';
  const micros = parseUtcMicros(text);
  if (micros === null) return text;
  const fraction = /\.(\d+)Z$/.exec(text);
  return formatMicros(micros, zone, digits ?? Math.min(fraction ? fraction[1].length : 0, 6));
}

/** A time axis label for a tick every `stepSeconds`: the date for day steps, else the time (with the date at
 * midnight). */
export function axisLabel(micros: number, stepSeconds: number, zone: TimeZoneChoice): string {
  const full = formatMicros(micros, zone, 0);
  const [date, time] = full.split(' ');
  if (stepSeconds >= 86400) return date;
  if (stepSeconds >= 60) return time.endsWith('00:00:00') || time === '00:00:00' ? `${date}\n${time.slice(0, 5)}` : time.slice(0, 5);
  return time;
}

/**
 * The labels of a time axis's ticks (`micros`, `stepSeconds` apart): as [axisLabel], with as many digits of the
 * second as the step needs (ticks 0.2 s apart are told apart), and the date on the first tick and wherever it
 * changes when the ticks show times of day (a chart of one second shows which day that second was).
 */
export function axisLabels(micros: number[], stepSeconds: number, zone: TimeZoneChoice): string[] {
  if (stepSeconds >= 86400) return micros.map((m) => axisLabel(m, stepSeconds, zone));
  const digits = stepSeconds >= 1 ? 0 : Math.min(6, Math.max(1, Math.ceil(-Math.log10(stepSeconds) - 1e-9)));
  let lastDate = '';
  return micros.map((m) => {
    const [date, time] = formatMicros(m, zone, digits).split(' ');
    const shown = stepSeconds >= 60 ? time.slice(0, 5) : time;
    const label = date === lastDate ? shown : `${date}\n${shown}`;
    lastDate = date;
    return label;
  });
}

/** The query form of an instant: RFC 3339 UTC to the microsecond, as `after:` and `before:` read it. */
export function queryInstant(micros: number): string {
  const d = new Date(Math.floor(micros / 1000));
  const us = ((micros % 1_000_000) + 1_000_000) % 1_000_000;
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(us, 6)}Z`
  );
}
