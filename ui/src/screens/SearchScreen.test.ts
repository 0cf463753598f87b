// The join of the rows read from the first match and those read from the last (End): once nothing lies between
// them they become one list, each match once, in order.

import { describe, expect, it } from 'vitest';

import type { EventRow } from '../backend';
import { EMPTY, joined, type Results } from './SearchScreen';

const ev = (i: number) => ({ id: `x@1#${i}` }) as EventRow;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => ev(from + k));
const base: Results = EMPTY;
const ids = (r: Results) => r.rows.map((e) => e.id);

describe('joined', () => {
  it('keeps a gap while rows and tail do not reach each other', () => {
    const r = { ...base, rows: range(0, 5), next: 'c', tail: range(15, 20).reverse(), tailNext: 't', count: 20 };
    expect(joined(r)).toBe(r);
  });

  it('joins rows and tail once together they hold every match, an event in both once', () => {
    const r = { ...base, rows: range(0, 12), next: 'c', tail: range(10, 20).reverse(), tailNext: 't', count: 20 };
    const j = joined(r);
    expect(ids(j)).toEqual(range(0, 20).map((e) => e.id));
    expect(j.next).toBeNull();
    expect(j.tail).toEqual([]);
  });

  it('joins when the tail reached the first match, and drops the tail when the rows reached the last', () => {
    const fromEnd = joined({ ...base, rows: range(0, 3), next: 'c', tail: range(0, 8).reverse(), tailNext: null, count: 9 });
    expect(ids(fromEnd)).toEqual(range(0, 8).map((e) => e.id));
    const fromStart = joined({ ...base, rows: range(0, 8), next: null, tail: range(6, 8).reverse(), tailNext: 't', count: 8 });
    expect(ids(fromStart)).toEqual(range(0, 8).map((e) => e.id));
    expect(fromStart.tail).toEqual([]);
  });
});
