// Small edits of query text made by the UI (docs/search.md): narrowing to a time range from the histogram, and
// the terms an event's values add (filter for, filter out, events around this one).

import { queryInstant } from './time';

/** `after:` and `before:` terms written without quotes (the form this module writes). */
const RANGE_TERM = /(^|\s)(after|before):[^\s()"]+(?=$|\s)/gi;

/**
 * The query narrowed to `[fromMicros, toMicros)`. In a plain list of terms (no parentheses, OR or NOT) the old
 * unquoted `after:`/`before:` terms are replaced; any other query is kept whole, in parentheses, and the range is
 * added to it.
 */
export function withTimeRange(query: string, fromMicros: number, toMicros: number): string {
  const range = `after:${queryInstant(fromMicros)} before:${queryInstant(toMicros)}`;
  const q = query.trim();
  if (q === '') return range;
  const plain = !/[()"]/.test(q) && !/(^|\s)(OR|NOT)(?=\s|$)/i.test(q);
  if (plain) {
    const rest = q.replace(RANGE_TERM, ' ').replace(/\s+/g, ' ').trim();
    return rest === '' ? range : `${rest} ${range}`;
  }
  return `(${q}) ${range}`;
}

/** A value as the query language writes it (as the backend's `quote_value`): bare when that reads back as exactly
 * the value, else quoted with `\\` and `"` escaped (a bare `*` anywhere would be a wildcard). */
export function quoteValue(v: string): string {
  // A bare `*` makes a prefix or a pattern; a bare `/` first may start a regular expression (`actor:/re/`).
  const bare = v !== '' && !v.includes('*') && !v.startsWith('/') && !/[\s()"\\]/.test(v);
  return bare ? v : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The term selecting events whose `field` is `value` (`exclude`: all others); a missing value is `-field:*`. */
export function fieldTerm(field: string, value: string | null, exclude: boolean): string {
  if (value == null) return exclude ? `${field}:*` : `-${field}:*`;
  return `${exclude ? '-' : ''}${field}:${quoteValue(value)}`;
}

/** `query` with `term` added: the query is kept whole (in parentheses when it has an OR) and the term ANDed. */
export function withTerm(query: string, term: string): string {
  const q = query.trim();
  if (q === '') return term;
  return /(^|[\s()])OR(?=[\s()]|$)/i.test(q) ? `(${q}) ${term}` : `${q} ${term}`;
}

/** The events within `windowMicros` of an event at `atMicros`: `after:` and `before:` terms (the event's own
 * instant inside). */
export function aroundTerms(atMicros: number, windowMicros: number): string {
  return `after:${queryInstant(atMicros - windowMicros)} before:${queryInstant(atMicros + windowMicros + 1)}`;
}
