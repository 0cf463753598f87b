// The dashboards' numbers and charts. Every number, bar and bar segment is a button that opens the Search screen
// with the query whose count it is (the figure's `drill`), so nothing shown is a number to take on trust. Plain
// HTML and CSS (no canvas): each element is reachable with the keyboard and named for screen readers. Keys and
// actors come from the events (attacker-controlled): they are rendered as text only.

import type { ReactNode } from 'react';

import type { DayCount, EventRow, Figure, TimeSeries, TimeZoneChoice } from '../backend';
import { useApp } from '../app-context';
import type { EventOrigin } from '../app-context';
import { formatCount } from '../format/numbers';
import { formatMicros, formatTime } from '../format/time';
import { safeText } from '../format/safeText';

export const NONE_LABEL = '(none)';

/** A figure's key as shown: the value with hidden characters made visible (format/safeText), or "(none)" for
 * events lacking it. */
export function keyText(key: string | null | undefined): string {
  return key == null || key === '' ? NONE_LABEL : safeText(key);
}

/** A count that opens the search reproducing it. */
export function DrillNumber({
  figure,
  label,
  className,
  id,
}: {
  figure: { count: number; drill: string };
  label: string;
  className?: string;
  id?: string;
}) {
  const { openSearch } = useApp();
  return (
    <button
      type="button"
      id={id}
      className={`drill ${className ?? ''}`}
      data-drill={figure.drill}
      data-count={Number(figure.count)}
      title={`Search: ${figure.drill}`}
      aria-label={`${label}: ${formatCount(Number(figure.count))}. Show these events in Search`}
      onClick={() => openSearch(figure.drill)}
    >
      {formatCount(Number(figure.count))}
    </button>
  );
}

/** A headline number with its label (a "stat card"). */
export function Stat({
  figure,
  label,
  hint,
  tone,
  id,
}: {
  figure: Figure;
  label: string;
  hint?: ReactNode;
  tone?: 'good' | 'warn' | 'bad';
  id?: string;
}) {
  const { openSearch } = useApp();
  return (
    <button
      type="button"
      id={id}
      className={`stat drill ${tone && Number(figure.count) > 0 ? `tone-${tone}` : ''}`}
      data-drill={figure.drill}
      data-count={Number(figure.count)}
      title={`Search: ${figure.drill}`}
      onClick={() => openSearch(figure.drill)}
    >
      <span className="stat-label">{label}</span>
      <span className="stat-value">{formatCount(Number(figure.count))}</span>
      {hint && <span className="stat-hint small muted">{hint}</span>}
    </button>
  );
}

/** A panel of the dashboard grid. */
export function Panel({
  title,
  id,
  wide,
  children,
  note,
}: {
  title: string;
  id?: string;
  wide?: boolean;
  children: ReactNode;
  note?: ReactNode;
}) {
  return (
    <section className={wide ? 'panel wide' : 'panel'} id={id} aria-label={title}>
      <h3>{title}</h3>
      {note && <p className="panel-note small muted">{note}</p>}
      {children}
    </section>
  );
}

/** Horizontal bars, longest first as given: one row per figure, the whole row a button. */
export function BarList({
  figures,
  label,
  empty,
  id,
  tone,
}: {
  figures: Figure[];
  label: string;
  empty?: string;
  id?: string;
  tone?: (key: string | null) => string | undefined;
}) {
  const { openSearch } = useApp();
  const max = Math.max(1, ...figures.map((f) => Number(f.count)));
  if (figures.length === 0) return <p className="muted small bar-empty">{empty ?? 'None.'}</p>;
  return (
    <ul className="bars" id={id} aria-label={label}>
      {figures.map((f, i) => {
        const n = Number(f.count);
        const name = keyText(f.key);
        // A person of the working papers: the actor values counted together.
        const ids = f.identities ?? [];
        const person = ids.length > 0 ? ` (person: ${ids.length === 1 ? '1 identity' : `${ids.length} identities`})` : '';
        return (
          <li key={`${f.key ?? ''}-${i}`}>
            <button
              type="button"
              className="bar-row drill"
              data-key={f.key ?? ''}
              data-drill={f.drill}
              data-count={n}
              title={`Search: ${f.drill}`}
              aria-label={`${label} ${name}${person}: ${formatCount(n)}. Show these events in Search`}
              onClick={() => openSearch(f.drill)}
            >
              <span
                className={f.key == null ? 'bar-key muted' : 'bar-key'}
                title={ids.length > 0 ? `${name}, counted with:\n${ids.join('\n')}` : name}
              >
                {name}
                {ids.length > 0 && (
                  <span className="badge small person-badge" data-identities={ids.length}>
                    {ids.length === 1 ? 'person' : `person · ${ids.length}`}
                  </span>
                )}
              </span>
              <span className="bar-track" aria-hidden="true">
                <span
                  className={`bar-fill ${tone?.(f.key) ?? ''}`}
                  style={{ width: `${n === 0 ? 0 : Math.max(2, (100 * n) / max)}%` }}
                />
              </span>
              <span className="bar-count">{formatCount(n)}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/** The colour class of a series key: categories and outcomes have their own. */
export function seriesClass(key: string | null): string {
  return `series-${(key ?? 'none').replace(/[^a-z]/g, '')}`;
}

function bucketWidthText(micros: number): string {
  const h = micros / 3_600_000_000;
  if (h < 24) return `${h} h`;
  if (h % 168 === 0) return h === 168 ? '1 week' : `${h / 168} weeks`;
  return h === 24 ? '1 day' : `${h / 24} days`;
}

/** Stacked columns of a time series: one column per bucket, one segment per series, each segment a button. */
export function StackedColumns({
  data,
  zone,
  label,
  id,
}: {
  data: TimeSeries;
  zone: TimeZoneChoice;
  label: string;
  id?: string;
}) {
  const { openSearch } = useApp();
  const untimed = Number(data.untimed.count);
  if (data.start == null || data.buckets === 0) {
    return (
      <p className="muted small" id={id}>
        {untimed > 0 ? `No event here has a readable time (${formatCount(untimed)} without one).` : 'No event in this range.'}
      </p>
    );
  }
  const start = data.start;
  const w = data.bucket_micros;
  const totals = Array.from({ length: data.buckets }, (_, i) =>
    data.series.reduce((sum, s) => sum + Number(s.counts[i] ?? 0), 0),
  );
  const max = Math.max(1, ...totals);
  const shown = data.series.filter((s) => s.counts.some((c) => Number(c) > 0));
  const end = start + data.buckets * w;
  return (
    <figure className="columns-chart" id={id}>
      <div className="columns-plot" role="group" aria-label={label}>
        <div className="columns-scale small muted" aria-hidden="true">
          <span>{formatCount(max)}</span>
          <span>0</span>
        </div>
        <div className="columns">
          {totals.map((total, i) => {
            const at = formatMicros(start + i * w, zone, 0);
            return (
              <div className="column" key={i} title={`${at}: ${formatCount(total)}`}>
                {shown.map((s) => {
                  const n = Number(s.counts[i] ?? 0);
                  if (n === 0) return null;
                  return (
                    <button
                      type="button"
                      key={s.key ?? ''}
                      className={`segment drill ${seriesClass(s.key)}`}
                      style={{ height: `${(100 * n) / max}%` }}
                      data-drill={s.drills[i]}
                      data-count={n}
                      title={`${keyText(s.key)}, ${at} (${bucketWidthText(w)}): ${formatCount(n)}`}
                      aria-label={`${keyText(s.key)} from ${at}: ${formatCount(n)}. Show these events in Search`}
                      onClick={() => openSearch(s.drills[i])}
                    />
                  );
                })}
              </div>
            );
          })}
        </div>
      </div>
      <div className="columns-axis small muted" aria-hidden="true">
        <span>{formatMicros(start, zone, 0)}</span>
        <span>{formatMicros(end, zone, 0)}</span>
      </div>
      <figcaption className="small">
        <span className="series-legend">
          {shown.map((s) => (
            <span key={s.key ?? ''} className="legend-item">
              <span className={`legend-swatch ${seriesClass(s.key)}`} aria-hidden="true" />
              {keyText(s.key)} {formatCount(s.counts.reduce((a, c) => a + Number(c), 0))}
            </span>
          ))}
        </span>
        <span className="muted series-note">
          One column = {bucketWidthText(w)}.
          {untimed > 0 && (
            <>
              {' '}
              <DrillNumber figure={data.untimed} label="Events without a time" className="inline" /> without a
              time are not drawn.
            </>
          )}
        </span>
      </figcaption>
    </figure>
  );
}

/** Columns of a per-day count, each a button. */
export function DayColumns({ days, label, id }: { days: DayCount[]; label: string; id?: string }) {
  const { openSearch } = useApp();
  if (days.length === 0) return <p className="muted small">None in this range.</p>;
  const max = Math.max(1, ...days.map((d) => Number(d.count)));
  return (
    <figure className="columns-chart days" id={id}>
      <div className="columns-plot" role="group" aria-label={label}>
        <div className="columns-scale small muted" aria-hidden="true">
          <span>{formatCount(max)}</span>
          <span>0</span>
        </div>
        <div className="columns">
          {days.map((d) => (
            <div className="column" key={d.day}>
              <button
                type="button"
                className="segment drill series-deployment"
                style={{ height: `${(100 * Number(d.count)) / max}%` }}
                data-day={d.day}
                data-drill={d.drill}
                data-count={Number(d.count)}
                title={`${d.day} (UTC): ${formatCount(Number(d.count))}`}
                aria-label={`${d.day}: ${formatCount(Number(d.count))}. Show these events in Search`}
                onClick={() => openSearch(d.drill)}
              />
            </div>
          ))}
        </div>
      </div>
      <div className="columns-axis small muted" aria-hidden="true">
        <span>{days[0].day}</span>
        {days.length > 1 && <span>{days[days.length - 1].day}</span>}
      </div>
      <figcaption className="small muted">Per UTC day.</figcaption>
    </figure>
  );
}

/** Outcome as a badge. */
export function OutcomeBadge({ outcome }: { outcome: string | null }) {
  const tone =
    outcome === 'success' ? 'good' : outcome === 'failure' || outcome === 'denied' ? 'bad' : 'neutral';
  return <span className={`badge small ${tone}`}>{keyText(outcome)}</span>;
}

/** Events as a compact list (when, who, what, outcome); a row opens the event. */
export function EventList({
  rows,
  zone,
  from,
  empty,
  id,
  label,
}: {
  rows: EventRow[];
  zone: TimeZoneChoice;
  from: EventOrigin;
  empty?: string;
  id?: string;
  label: string;
}) {
  const { navigate } = useApp();
  if (rows.length === 0) return <p className="muted small">{empty ?? 'None.'}</p>;
  return (
    <table className="table compact event-list" id={id} aria-label={label}>
      <thead>
        <tr>
          <th>Time ({zone === 'utc' ? 'UTC' : 'local'})</th>
          <th>Who</th>
          <th>What</th>
          <th>Outcome</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr
            key={r.id}
            tabIndex={0}
            data-id={r.id}
            onClick={() => navigate({ name: 'event', id: r.id, from })}
            onKeyDown={(e) => {
              if (e.key === 'Enter') navigate({ name: 'event', id: r.id, from });
            }}
            title="Open this event"
          >
            <td className="mono nowrap">{formatTime(r.time, zone, 0)}</td>
            <td className="wrap">{keyText(r.actor)}</td>
            <td className="wrap">
              <span className="mono">{keyText(r.action)}</span>
              {r.resource && <span className="muted"> {safeText(r.resource)}</span>}
            </td>
            <td>
              <OutcomeBadge outcome={r.outcome} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
