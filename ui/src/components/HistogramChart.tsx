// Time histogram of the matches (uPlot, bars). Click and drag across it to narrow the search to that range
// (snapped to whole buckets); the axis is in the zone chosen in the header, and says so.

import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import type { Histogram, TimeZoneChoice } from '../backend';
import { formatCount } from '../format/numbers';
import { axisLabels, formatMicros, zoneLabel } from '../format/time';

/** Whether this environment can draw on a canvas (not the case in unit tests). */
function canDraw(): boolean {
  try {
    return typeof ResizeObserver !== 'undefined' && !!document.createElement('canvas').getContext('2d');
  } catch {
    return false;
  }
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** The bucket-aligned range `[from, to)` covering the pixels `left..left+width` of the plot. */
export function snapRange(h: Histogram, fromMicros: number, toMicros: number): [number, number] | null {
  if (h.start == null || h.counts.length === 0) return null;
  const w = h.bucket_micros;
  const end = h.start + h.counts.length * w;
  const a = Math.max(h.start, h.start + Math.floor((fromMicros - h.start) / w) * w);
  const b = Math.min(end, h.start + Math.ceil((toMicros - h.start) / w) * w);
  return b > a ? [a, b] : null;
}

export function HistogramChart({
  data,
  zone,
  theme,
  onRange,
}: {
  data: Histogram;
  zone: TimeZoneChoice;
  theme: string;
  onRange: (fromMicros: number, toMicros: number) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const onRangeRef = useRef(onRange);
  onRangeRef.current = onRange;

  useEffect(() => {
    const el = box.current;
    if (!el || data.start == null || !canDraw()) return;
    const start = data.start;
    const w = data.bucket_micros;
    // uPlot's time scale is in seconds.
    const xs = data.counts.map((_, i) => (start + i * w) / 1e6);
    const ys = data.counts.map(Number);
    const bar = cssVar('--accent', '#2563eb');
    const text = cssVar('--muted', '#666');
    const grid = cssVar('--border', '#ddd');
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height: 130,
      legend: { show: false },
      padding: [8, 40, 0, 0],
      tzDate: zone === 'utc' ? (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC') : undefined,
      scales: {
        x: { time: true, range: [xs[0], xs[xs.length - 1] + w / 1e6] },
        // Counts from zero: a y-axis starting at the smallest bar makes ±5% look like twice as many.
        y: { range: (_u, _min, max) => countRange(max) },
      },
      axes: [
        {
          stroke: text,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          space: 110,
          values: (_u, splits, _axis, _space, incr) => axisLabels(splits.map((s) => s * 1e6), incr, zone),
        },
        { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 56 },
      ],
      cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      series: [
        {},
        {
          label: 'events',
          stroke: bar,
          fill: bar,
          paths: uPlot.paths.bars!({ size: [0.92, Infinity], align: 1 }),
          points: { show: false },
        },
      ],
      hooks: {
        setSelect: [
          (u) => {
            const { left, width } = u.select;
            if (width < 3) return;
            const from = u.posToVal(left, 'x') * 1e6;
            const to = u.posToVal(left + width, 'x') * 1e6;
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            const range = snapRange(data, from, to);
            if (range) onRangeRef.current(range[0], range[1]);
          },
        ],
      },
    };
    const plot = new uPlot(opts, [xs, ys], el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 200), height: 130 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [data, zone, theme]);

  if (data.start == null) {
    return (
      <div className="histogram empty-histogram muted small" id="histogram">
        {Number(data.untimed) > 0 ? 'No matching event has a readable time: nothing to draw.' : ''}
      </div>
    );
  }
  const first = data.first ?? data.start;
  const last = data.last ?? data.start;
  return (
    <figure className="histogram" id="histogram">
      <div ref={box} className="histogram-plot" aria-label="Matches over time; drag across to narrow the range" />
      <figcaption className="small muted">
        Matches over time ({zoneLabel(zone)}), {formatMicros(first, zone, 0)} → {formatMicros(last, zone, 0)}; one bar ={' '}
        {bucketText(data.bucket_micros)}
        {Number(data.untimed) > 0 &&
          `; ${formatCount(Number(data.untimed))} ${Number(data.untimed) === 1 ? 'match has' : 'matches have'} no time and ${Number(data.untimed) === 1 ? 'is' : 'are'} not drawn`}
        . Drag
        across the chart to narrow the search.
      </figcaption>
    </figure>
  );
}

/** The y-axis of counts: from zero, a little above the tallest bar. */
export function countRange(max: number): [number, number] {
  return [0, Math.max(1, Number.isFinite(max) ? max : 1) * 1.08];
}

function bucketText(micros: number): string {
  const s = micros / 1e6;
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${s / 60} min`;
  if (s < 86400) return `${s / 3600} h`;
  return `${Math.round(s / 86400)} days`;
}
