// Numbers for people: counts with separators, sizes, rates and durations.

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** A count with its noun: "1 archive", "200,000 events" (the plural is the noun + "s" unless given). */
export function countOf(n: number | bigint, noun: string, plural = `${noun}s`): string {
  const v = Number(n);
  return `${formatCount(v)} ${v === 1 ? noun : plural}`;
}

/** 1536 -> "1.5 KiB" (as the CLI prints). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u + 1 < units.length) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

export function formatMB(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Seconds as "42 s", "3 min 20 s", "1 h 05 min". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Rate and time left of a job that did `done` of `total` in `elapsedMs`. */
export function rateAndEta(done: number, total: number, elapsedMs: number): { rate: number; eta: number } {
  const secs = Math.max(elapsedMs / 1000, 1e-3);
  const rate = done / secs;
  const eta = rate > 0 ? Math.max(total - done, 0) / rate : Number.POSITIVE_INFINITY;
  return { rate, eta };
}

/** Milliseconds as "120 ms" or "3.4 s" (short jobs), else as formatDuration. */
export function formatElapsed(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return formatDuration(ms / 1000);
}

/** How far the full-text index has got, in whole percent (rounded down, so 100 only when nothing is pending). */
export function textIndexPercent(s: { indexed_events: number | bigint; pending_events: number | bigint }): number {
  const indexed = Number(s.indexed_events);
  const total = indexed + Number(s.pending_events);
  return total === 0 ? 100 : Math.floor((indexed * 100) / total);
}

/** The events of an archive without a time, in words: "3 of 44 events have no time (event 2: none of time, … is present)". */
export function untimedText(u: {
  count: number;
  of: number;
  first_index: number | null;
  why: { field: string | null; sample: string | null; looked_at: string[] } | null;
}): string {
  const head = `${formatCount(u.count)} of ${countOf(u.of, 'event')} ${u.count === 1 ? 'has' : 'have'} no time`;
  if (u.first_index == null) return head;
  const why = u.why
    ? u.why.field != null && u.why.sample != null
      ? `${u.why.field}: ${u.why.sample} is not a time`
      : `none of ${u.why.looked_at.join(', ')} is present`
    : "the mapping file's time field gives none";
  return `${head} (event ${u.first_index}: ${why})`;
}
