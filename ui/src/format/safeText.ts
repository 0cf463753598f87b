// Untrusted text made visible: the app's copy of the Rust rendering `auditlens::safe_text::terminal_safe`
// (src/safe_text.rs; docs/trust-policy.md, "Untrusted text on terminals and screens"). Actor, resource and origin
// names, signer names, paths and messages come from archives the auditee wrote: a right-to-left override, a
// zero-width space or a control character in them is shown as a visible `\u{…}` escape (lowercase hexadecimal),
// never passed to the screen where it would reorder or hide what is shown. React renders the result as text.
//
// A backslash is written `\\` exactly when what is written after it starts with `\` or `u{`, so the rendering
// reads back unambiguously while `C:\Users` and `DOMAIN\user` stay as they are.

/** Inclusive code point ranges shown as escapes, besides the controls (C0, DEL, C1). Same list as Rust's. */
const HIDDEN: ReadonlyArray<readonly [number, number]> = [
  // Category Cf (Unicode 16).
  [0x00ad, 0x00ad],
  [0x0600, 0x0605],
  [0x061c, 0x061c],
  [0x06dd, 0x06dd],
  [0x070f, 0x070f],
  [0x0890, 0x0891],
  [0x08e2, 0x08e2],
  [0x180e, 0x180e],
  [0x200b, 0x200f],
  [0x202a, 0x202e],
  [0x2060, 0x2064],
  [0x2066, 0x206f],
  [0xfeff, 0xfeff],
  [0xfff9, 0xfffb],
  [0x110bd, 0x110bd],
  [0x110cd, 0x110cd],
  [0x13430, 0x1343f],
  [0x1bca0, 0x1bca3],
  [0x1d173, 0x1d17a],
  [0xe0001, 0xe0001],
  [0xe0020, 0xe007f],
  // Line and paragraph separators.
  [0x2028, 0x2029],
  // Other default-ignorable or blank characters.
  [0x034f, 0x034f],
  [0x115f, 0x1160],
  [0x17b4, 0x17b5],
  [0x180b, 0x180f],
  [0x2800, 0x2800],
  [0x3164, 0x3164],
  [0xfe00, 0xfe0f],
  [0xffa0, 0xffa0],
  [0xfff0, 0xfff8],
  [0xe0000, 0xe0fff],
];

/** Whether the code point is shown as an escape. Lone surrogates (which JavaScript strings may hold) are too. */
export function isHiddenCodePoint(cp: number): boolean {
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return true;
  if (cp >= 0xd800 && cp <= 0xdfff) return true;
  return HIDDEN.some(([lo, hi]) => cp >= lo && cp <= hi);
}

/** `text` with every hidden character written `\u{…}`; null and undefined give ''. */
export function safeText(text: string | null | undefined): string {
  if (text == null) return '';
  // Fast path: nothing to escape.
  // Control characters, combining marks and lone surrogates are what this class is for, one code unit each.
  // eslint-disable-next-line no-control-regex, no-misleading-character-class
  if (!/[\u0000-\u001f\u007f-\u009f\\\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\ud800-\udfff]/.test(text)) {
    return text;
  }
  const cps = Array.from(text, (c) => c.codePointAt(0) as number);
  let out = '';
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i];
    if (isHiddenCodePoint(cp)) {
      out += `\\u{${cp.toString(16)}}`;
    } else if (cp === 0x5c) {
      const next = cps[i + 1];
      const doubled =
        next !== undefined && (next === 0x5c || isHiddenCodePoint(next) || (next === 0x75 && cps[i + 2] === 0x7b));
      out += doubled ? '\\\\' : '\\';
    } else {
      out += String.fromCodePoint(cp);
    }
  }
  return out;
}
