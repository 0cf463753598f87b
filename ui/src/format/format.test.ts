import { describe, expect, it } from 'vitest';

import { reindentJson } from './json';
import { countOf, formatBytes, formatDuration, rateAndEta } from './numbers';
import { aroundTerms, fieldTerm, quoteValue, withTerm, withTimeRange } from './query';
import { axisLabels, formatMicros, formatTime, parseUtcMicros, queryInstant } from './time';
import { countRange } from '../components/HistogramChart';

describe('reindentJson', () => {
  it('changes only the white space between tokens', () => {
    const raw = '{"a":1.50,"b":"x\\"y, z: {[","c":[1,2,{}],"d":{},"e":[],"big":12345678901234567890}';
    const pretty = reindentJson(raw);
    expect(pretty).toBe(
      [
        '{',
        '  "a": 1.50,',
        '  "b": "x\\"y, z: {[",',
        '  "c": [',
        '    1,',
        '    2,',
        '    {}',
        '  ],',
        '  "d": {},',
        '  "e": [],',
        '  "big": 12345678901234567890',
        '}',
      ].join('\n'),
    );
  });

  it('keeps escapes, duplicate members and unicode exactly', () => {
    const raw = '{"k":"\\u00e9\\n","k":"é <script>"}';
    expect(reindentJson(raw)).toBe('{\n  "k": "\\u00e9\\n",\n  "k": "é <script>"\n}');
  });
});

describe('times', () => {
  it('reads store times to the microsecond', () => {
    expect(parseUtcMicros('1970-01-01T00:00:01.000002Z')).toBe(1_000_002);
    expect(parseUtcMicros('2024-05-01T10:00:00Z')).toBe(Date.UTC(2024, 4, 1, 10) * 1000);
    expect(parseUtcMicros('not a time')).toBeNull();
  });

  it('shows UTC with its zone and the precision stored', () => {
    expect(formatTime('2024-05-01T10:00:00.123Z', 'utc')).toBe('2024-05-01 10:00:00.123 UTC');
    expect(formatTime('2024-05-01T10:00:00Z', 'utc')).toBe('2024-05-01 10:00:00 UTC');
    expect(formatTime(null, 'utc')).toBe('(no time)');
    expect(formatMicros(1_000_002, 'utc')).toBe('1970-01-01 00:00:01.000002 UTC');
  });

  it('shows local time with its offset', () => {
    expect(formatTime('2024-05-01T10:00:00Z', 'local')).toMatch(/^2024-05-0[12] \d\d:00:00 [+-]\d\d:\d\d$/);
  });

  it('writes instants the query language reads', () => {
    expect(queryInstant(Date.UTC(2024, 4, 1, 10) * 1000 + 5)).toBe('2024-05-01T10:00:00.000005Z');
  });
});

describe('withTimeRange', () => {
  const from = Date.UTC(2024, 4, 1) * 1000;
  const to = Date.UTC(2024, 4, 2) * 1000;
  const range = 'after:2024-05-01T00:00:00.000000Z before:2024-05-02T00:00:00.000000Z';

  it('adds the range to an empty query', () => {
    expect(withTimeRange('', from, to)).toBe(range);
  });

  it('replaces the range of a plain list of terms', () => {
    expect(withTimeRange('actor:alice after:2020-01-01 before:2021-01-01 kube*', from, to)).toBe(
      `actor:alice kube* ${range}`,
    );
  });

  it('groups a query with OR, NOT or parentheses instead of editing it', () => {
    expect(withTimeRange('a OR b', from, to)).toBe(`(a OR b) ${range}`);
    expect(withTimeRange('NOT after:2020-01-01', from, to)).toBe(`(NOT after:2020-01-01) ${range}`);
    expect(withTimeRange('actor:"x y"', from, to)).toBe(`(actor:"x y") ${range}`);
  });
});

describe('numbers', () => {
  it('formats sizes, durations and rates', () => {
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatDuration(200)).toBe('3 min 20 s');
    expect(formatDuration(Infinity)).toBe('–');
    expect(rateAndEta(500, 1000, 1000)).toEqual({ rate: 500, eta: 1 });
  });
});

describe('counts', () => {
  it('say one or many with separators', () => {
    expect(countOf(1, 'archive')).toBe('1 archive');
    expect(countOf(0, 'archive')).toBe('0 archives');
    expect(countOf(200000n, 'event')).toBe('200,000 events');
    expect(countOf(2, 'entry', 'entries')).toBe('2 entries');
  });
});

describe('the histogram axes', () => {
  const t0 = Date.UTC(2022, 10, 29, 0, 9, 4) * 1000; // 2022-11-29T00:09:04Z in microseconds
  it('tell ticks within one second apart and say the day', () => {
    const ticks = [0, 1, 2, 3, 4].map((i) => t0 + i * 200_000);
    const labels = axisLabels(ticks, 0.2, 'utc');
    expect(new Set(labels).size).toBe(5);
    expect(labels[0]).toBe('2022-11-29\n00:09:04.0');
    expect(labels[1]).toBe('00:09:04.2');
    expect(axisLabels([t0, t0 + 50_000], 0.05, 'utc')[1]).toBe('00:09:04.05');
  });
  it('show the date again where it changes, and minutes for steps of minutes', () => {
    const midnight = Date.UTC(2022, 10, 30) * 1000;
    const labels = axisLabels([midnight - 600e6, midnight, midnight + 600e6], 600, 'utc');
    expect(labels).toEqual(['2022-11-29\n23:50', '2022-11-30\n00:00', '00:10']);
  });
  it('count from zero', () => {
    expect(countRange(1000)[0]).toBe(0);
    expect(countRange(1000)[1]).toBeGreaterThan(1000);
    expect(countRange(0)).toEqual([0, 1.08]);
  });
});

describe('pivot terms', () => {
  it('quote a value exactly as the backend does, so it reads back as itself', () => {
    expect(quoteValue('alice')).toBe('alice');
    expect(quoteValue('s3:GetObject')).toBe('s3:GetObject');
    expect(quoteValue('a*b')).toBe('"a*b"');
    expect(quoteValue('a b')).toBe('"a b"');
    expect(quoteValue('(x)')).toBe('"(x)"');
    expect(quoteValue('say "hi"')).toBe('"say \\"hi\\""');
    expect(quoteValue('C:\\t')).toBe('"C:\\\\t"');
    expect(quoteValue('')).toBe('""');
  });
  it('select a value, exclude it, or the events lacking the field', () => {
    expect(fieldTerm('actor', 'alice', false)).toBe('actor:alice');
    expect(fieldTerm('actor', 'alice', true)).toBe('-actor:alice');
    expect(fieldTerm('resource', null, false)).toBe('-resource:*');
    expect(fieldTerm('resource', null, true)).toBe('resource:*');
  });
  it('add a term to a query, keeping an OR whole', () => {
    expect(withTerm('', 'actor:a')).toBe('actor:a');
    expect(withTerm('source:k8s', 'actor:a')).toBe('source:k8s actor:a');
    expect(withTerm('source:k8s OR source:okta', 'actor:a')).toBe('(source:k8s OR source:okta) actor:a');
    expect(withTerm('(a)OR(b)', 'actor:a')).toBe('((a)OR(b)) actor:a');
    expect(withTerm('oregon', 'actor:a')).toBe('oregon actor:a');
  });
  it('bound the events around an instant, the instant inside', () => {
    const t = Date.UTC(2024, 4, 1, 10) * 1000;
    expect(aroundTerms(t, 60e6)).toBe('after:2024-05-01T09:59:00.000000Z before:2024-05-01T10:01:00.000001Z');
  });
});
