// Small edits of query text made by the UI (docs/search.md): narrowing to a time range from the histogram.

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
