import { describe, expect, it } from 'vitest';

import type { ArchiveRow } from '../backend';
import { buildLanes } from './Timeline';

function row(id: number, sequence: number, change: Partial<ArchiveRow> = {}): ArchiveRow {
  return {
    id,
    path: `/a/${id}.zip`,
    status: 'verified',
    failure: null,
    origin: 'example.com/log',
    sequence,
    source_kind: 'k8s',
    events: 10,
    bytes: 100,
    time_first: `2024-05-0${sequence}T00:00:00Z`,
    time_last: `2024-05-0${sequence}T12:00:00Z`,
    signer_key: 'k',
    signer_name: 'ops',
    signer_fingerprint: 'SHA256:x',
    imported_at: '2024-06-01T00:00:00Z',
    gap_before: null,
    signer_change_from: undefined,
    untimed: 0,
    received_at: null,
    received_label: null,
    evidence: null,
    evidence_label: null,
    cloudtrail_hours: null,
    ...change,
  };
}

describe('the continuity timeline', () => {
  it('shows a continuous origin as consecutive verified slots', () => {
    const [lane] = buildLanes([row(1, 1), row(2, 2), row(3, 3)]);
    expect(lane.slots.map((s) => s.kind)).toEqual(['verified', 'verified', 'verified']);
    expect([lane.gaps, lane.forks, lane.overlaps]).toEqual([0, 0, 0]);
  });

  it('makes gaps, forks and overlaps stand out', () => {
    const lanes = buildLanes([
      row(1, 1),
      row(2, 2, { time_first: '2024-05-01T06:00:00Z' }),
      row(3, 4),
      row(4, 2, { status: 'failed', failure: 'fork: ...' }),
      row(5, 1, { origin: 'other', status: 'untrusted' }),
    ]);
    const main = lanes.find((l) => l.origin === 'example.com/log')!;
    expect(main.slots.map((s) => s.kind)).toEqual(['verified', 'verified', 'gap', 'verified']);
    expect(main.gaps).toBe(1);
    expect(main.forks).toBe(1);
    expect(main.slots[1].forks.map((f) => f.id)).toEqual([4]);
    expect(main.overlaps).toBe(1);
    expect(main.slots[1].overlap).toBe(true);
    expect(lanes.find((l) => l.origin === 'other')!.slots[0].kind).toBe('untrusted');
  });

  it('draws archives sealed on receipt apart from those verified at the source', () => {
    const [lane] = buildLanes([
      row(1, 1, { received_at: '2026-12-04T00:00:00Z', received_label: 'sealed on receipt by jane' }),
      row(2, 2),
      row(3, 3, { status: 'untrusted', received_at: '2026-12-04T00:00:00Z' }),
    ]);
    expect(lane.slots.map((s) => s.kind)).toEqual(['received', 'verified', 'untrusted']);
  });

  it('starts an origin at its first stored sequence', () => {
    const [lane] = buildLanes([row(1, 5), row(2, 6)]);
    expect(lane.first).toBe(5);
    expect(lane.slots.map((s) => s.sequence)).toEqual([5, 6]);
  });
});
