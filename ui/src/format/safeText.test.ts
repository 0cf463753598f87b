import { describe, expect, it } from 'vitest';

import { isHiddenCodePoint, safeText } from './safeText';

describe('safeText', () => {
  it('shows controls, escape sequences and carriage returns as escapes', () => {
    expect(safeText('a\u001b[31mb')).toBe('a\\u{1b}[31mb');
    expect(safeText('\u001b[2J\u001b[HVERIFIED\r')).toBe('\\u{1b}[2J\\u{1b}[HVERIFIED\\u{d}');
    expect(safeText('\r\n\t\u0000\u0007\u007f\u0080\u009b\u009f')).toBe(
      '\\u{d}\\u{a}\\u{9}\\u{0}\\u{7}\\u{7f}\\u{80}\\u{9b}\\u{9f}',
    );
  });

  it('shows bidirectional controls and zero-width characters as escapes', () => {
    expect(safeText('x\u202ey')).toBe('x\\u{202e}y');
    for (const cp of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x61c]) {
      expect(safeText(String.fromCodePoint(cp))).toBe(`\\u{${cp.toString(16)}}`);
    }
    expect(safeText('a\u200bb\u200cc\u200dd\u2060e\ufefff\u00adg')).toBe(
      'a\\u{200b}b\\u{200c}c\\u{200d}d\\u{2060}e\\u{feff}f\\u{ad}g',
    );
    expect(safeText('\u{e0041}\u{e007f}\ufe0f\u3164\u2800\u2028\u2029\u034f')).toBe(
      '\\u{e0041}\\u{e007f}\\u{fe0f}\\u{3164}\\u{2800}\\u{2028}\\u{2029}\\u{34f}',
    );
    expect(safeText('\ud800x')).toBe('\\u{d800}x');
  });

  it('leaves visible text as it is', () => {
    for (const t of [
      'plain été',
      'example.com/prod/k8s',
      'system:serviceaccount:kube-system:default',
      '日本語 Ελληνικά עברית العربية',
      'C:\\Users\\x',
      'DOMAIN\\user',
      'trailing\\',
      'a \u00a0b',
      '😀',
    ]) {
      expect(safeText(t)).toBe(t);
    }
    expect(safeText(null)).toBe('');
    expect(safeText(undefined)).toBe('');
  });

  it('doubles a backslash only where it could read as an escape, as the Rust rendering does', () => {
    expect(safeText('\\u{202e}')).toBe('\\\\u{202e}');
    expect(safeText('\\\\')).toBe('\\\\\\');
    expect(safeText('\\\u202e')).toBe('\\\\\\u{202e}');
    expect(safeText('\\u')).toBe('\\u');
    expect(safeText('\\user')).toBe('\\user');
  });

  it('agrees with its fast path on every code point below U+10000 and the supplementary hidden ones', () => {
    const all: number[] = [];
    for (let cp = 0; cp < 0x10000; cp++) all.push(cp);
    all.push(0x110bd, 0x110cd, 0x13430, 0x1343f, 0x1bca0, 0x1d173, 0xe0001, 0xe0020, 0xe0100, 0xe0fff, 0x1f600);
    const wrong: string[] = [];
    for (const cp of all) {
      const t = `a${String.fromCharCode(...(cp > 0xffff ? [0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff)] : [cp]))}`;
      const want = isHiddenCodePoint(cp) ? `a\\u{${cp.toString(16)}}` : t;
      if (safeText(t) !== want) wrong.push(cp.toString(16));
    }
    expect(wrong).toEqual([]);
  });
});
