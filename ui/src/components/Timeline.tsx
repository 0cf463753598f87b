// Continuity per origin, one lane per origin and one slot per sequence number, so that gaps (missing sequences),
// forks (a flagged archive claiming a stored sequence), overlaps (an archive starting before its predecessor
// ended) and untrusted archives stand out.

import type { ArchiveRow } from '../backend';
import { countOf } from '../format/numbers';
import { parseUtcMicros } from '../format/time';
import { safeText } from '../format/safeText';

/** `received`: verified, but sealed on receipt by the auditor (proves no change since receipt only). */
type SlotKind = 'verified' | 'received' | 'untrusted' | 'gap';

interface Slot {
  sequence: number;
  kind: SlotKind;
  archive: ArchiveRow | null;
  forks: ArchiveRow[];
  overlap: boolean;
}

export interface Lane {
  origin: string;
  first: number;
  slots: Slot[];
  gaps: number;
  forks: number;
  overlaps: number;
}

/** Lanes of the timeline, from the stored archives (pure; tested). */
export function buildLanes(archives: ArchiveRow[]): Lane[] {
  const byOrigin = new Map<string, ArchiveRow[]>();
  for (const a of archives) {
    if (a.origin == null || a.sequence == null) continue;
    const list = byOrigin.get(a.origin) ?? [];
    list.push(a);
    byOrigin.set(a.origin, list);
  }
  const lanes: Lane[] = [];
  for (const [origin, list] of [...byOrigin.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const stored = list.filter((a) => a.status !== 'failed');
    const flagged = list.filter((a) => a.status === 'failed');
    const seqs = list.map((a) => Number(a.sequence));
    const first = Math.min(...seqs);
    const last = Math.max(...seqs);
    const slots: Slot[] = [];
    let prevLast: number | null = null;
    for (let s = first; s <= last; s++) {
      const archive = stored.find((a) => Number(a.sequence) === s) ?? null;
      const forks = flagged.filter((a) => Number(a.sequence) === s);
      const start = archive?.time_first ? parseUtcMicros(archive.time_first) : null;
      const overlap = start !== null && prevLast !== null && start < prevLast;
      slots.push({
        sequence: s,
        kind: !archive
          ? 'gap'
          : archive.status !== 'verified'
            ? 'untrusted'
            : archive.received_at != null
              ? 'received'
              : 'verified',
        archive,
        forks,
        overlap,
      });
      prevLast = archive?.time_last ? parseUtcMicros(archive.time_last) : null;
    }
    lanes.push({
      origin,
      first,
      slots,
      gaps: slots.filter((s) => s.kind === 'gap').length,
      forks: slots.filter((s) => s.forks.length > 0).length,
      overlaps: slots.filter((s) => s.overlap).length,
    });
  }
  return lanes;
}

function slotTitle(s: Slot): string {
  const parts = [`sequence ${s.sequence}`];
  if (s.kind === 'gap') parts.push('MISSING: no archive with this sequence is in the database');
  if (s.archive) {
    parts.push(`${s.kind === 'received' ? 'sealed on receipt' : s.archive.status}, ${countOf(s.archive.events, 'event')}`);
    if (s.archive.received_label) parts.push(safeText(s.archive.received_label));
    // CloudTrail evidence: what verified it, and the hours of its trail no signed digest covers.
    if (s.archive.evidence_label) parts.push(safeText(s.archive.evidence_label));
    for (const g of s.archive.cloudtrail_hours?.gaps ?? []) parts.push(`no digest ${g.from} .. ${g.to} (about ${g.hours} h)`);
    if (s.archive.time_first) parts.push(`${s.archive.time_first} .. ${s.archive.time_last} (UTC)`);
  }
  if (s.overlap) parts.push('OVERLAP: starts before the previous archive ends');
  for (const f of s.forks) parts.push(`FORK or failed: archive #${f.id} (${f.path}) claims this sequence`);
  return parts.join('\n');
}

export function Timeline({
  archives,
  onSelect,
  selected,
}: {
  archives: ArchiveRow[];
  onSelect: (id: number) => void;
  selected: number | null;
}) {
  const lanes = buildLanes(archives);
  return (
    <div className="timeline" id="timeline" aria-label="Continuity per origin">
      <div className="legend small">
        <span className="swatch verified" /> verified <span className="swatch received" /> sealed on receipt{' '}
        <span className="swatch untrusted" /> untrusted key{' '}
        <span className="swatch gap" /> missing sequence (gap) <span className="swatch fork" /> fork or failed{' '}
        <span className="swatch overlap" /> time overlap
      </div>
      {lanes.map((lane) => {
        const problems = lane.gaps + lane.forks + lane.overlaps;
        return (
          <div className="lane" key={lane.origin} data-origin={lane.origin}>
            <div className="lane-head">
              <span className="mono">{safeText(lane.origin)}</span>
              <span className={problems ? 'badge bad' : 'badge good'}>
                {problems
                  ? [
                      lane.gaps && `${lane.gaps} missing`,
                      lane.forks && `${lane.forks} fork${lane.forks > 1 ? 's' : ''}`,
                      lane.overlaps && `${lane.overlaps} overlap${lane.overlaps > 1 ? 's' : ''}`,
                    ]
                      .filter(Boolean)
                      .join(' · ')
                  : 'continuous'}
              </span>
              {lane.first > 1 && (
                <span className="muted small">
                  starts at sequence {lane.first} (earlier archives are not in this database)
                </span>
              )}
            </div>
            <div className="lane-slots">
              {lane.slots.map((s) => (
                <div className="slot-col" key={s.sequence}>
                  <button
                    className={`slot ${s.kind}${s.overlap ? ' overlap' : ''}${s.archive && s.archive.id === selected ? ' selected' : ''}`}
                    title={slotTitle(s)}
                    disabled={!s.archive}
                    onClick={() => s.archive && onSelect(s.archive.id)}
                    aria-label={slotTitle(s)}
                  >
                    {s.sequence}
                  </button>
                  {s.forks.map((f) => (
                    <button
                      key={f.id}
                      className={`slot fork${f.id === selected ? ' selected' : ''}`}
                      title={slotTitle(s)}
                      onClick={() => onSelect(f.id)}
                    >
                      ✕
                    </button>
                  ))}
                </div>
              ))}
            </div>
          </div>
        );
      })}
    </div>
  );
}
