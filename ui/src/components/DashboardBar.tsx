// The filter the three dashboards share: time range, an optional query (the search language) and the working
// hours that decide what "off hours" means, and whether archives that did not verify are counted too (off by
// default). Edits apply on "Apply" (or Enter), to every dashboard at once.

import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';

import { useApp } from '../app-context';
import { OFFSETS, RANGES, clockText, parseClock, workingHoursText } from '../dashboards/filter';
import type { DashboardFilter, RangeChoice } from '../dashboards/filter';
import { offsetText } from '../format/time';

export function DashboardBar({ idPrefix }: { idPrefix: string }) {
  const { dashboardFilter, setDashboardFilter, settings } = useApp();
  const [draft, setDraft] = useState(dashboardFilter);
  const [start, setStart] = useState(clockText(dashboardFilter.workingHours.start_minute));
  const [end, setEnd] = useState(clockText(dashboardFilter.workingHours.end_minute));
  const [problem, setProblem] = useState<string | null>(null);

  // Another dashboard's bar applied a filter: show it here too.
  useEffect(() => {
    setDraft(dashboardFilter);
    setStart(clockText(dashboardFilter.workingHours.start_minute));
    setEnd(clockText(dashboardFilter.workingHours.end_minute));
  }, [dashboardFilter]);

  const apply = (e?: FormEvent) => {
    e?.preventDefault();
    const s = parseClock(start);
    const t = parseClock(end);
    if (s === null || t === null || s >= t) {
      setProblem('Working hours: give a start and an end as HH:MM, the start before the end (00:00 to 24:00).');
      return;
    }
    setProblem(null);
    const next: DashboardFilter = {
      ...draft,
      workingHours: { ...draft.workingHours, start_minute: s, end_minute: t },
    };
    setDashboardFilter(next);
  };
  const id = (name: string) => `${idPrefix}-${name}`;
  const zone = settings.time_zone === 'utc' ? 'UTC' : 'local time';

  return (
    <form className="dash-bar" onSubmit={apply} aria-label="Dashboard filter">
      <label>
        <span className="field-label">Time range</span>
        <select
          id={id('range')}
          value={draft.range}
          onChange={(e) => setDraft({ ...draft, range: e.target.value as RangeChoice })}
        >
          {RANGES.map((r) => (
            <option key={r.id} value={r.id}>
              {r.label}
            </option>
          ))}
        </select>
      </label>
      {draft.range === 'custom' && (
        <>
          <label>
            <span className="field-label">First day ({zone})</span>
            <input
              type="date"
              id={id('from')}
              value={draft.fromDay}
              onChange={(e) => setDraft({ ...draft, fromDay: e.target.value })}
            />
          </label>
          <label>
            <span className="field-label">Last day ({zone})</span>
            <input
              type="date"
              id={id('to')}
              value={draft.toDay}
              onChange={(e) => setDraft({ ...draft, toDay: e.target.value })}
            />
          </label>
        </>
      )}
      <label className="grow">
        <span className="field-label">Only events matching</span>
        <input
          id={id('query')}
          className="query"
          value={draft.query}
          spellCheck={false}
          autoComplete="off"
          placeholder="optional query, e.g. source:k8s -actor:system:*"
          onChange={(e) => setDraft({ ...draft, query: e.target.value })}
        />
      </label>
      <fieldset className="work-hours">
        <legend className="field-label" title={workingHoursText(dashboardFilter.workingHours)}>
          Working hours (Mon–Fri)
        </legend>
        <input
          id={id('work-start')}
          aria-label="Working hours start (HH:MM)"
          className="clock"
          value={start}
          onChange={(e) => setStart(e.target.value)}
        />
        <span aria-hidden="true">–</span>
        <input
          id={id('work-end')}
          aria-label="Working hours end (HH:MM)"
          className="clock"
          value={end}
          onChange={(e) => setEnd(e.target.value)}
        />
        <select
          id={id('work-zone')}
          aria-label="Time zone of the working hours"
          value={draft.workingHours.utc_offset_minutes}
          onChange={(e) =>
            setDraft({ ...draft, workingHours: { ...draft.workingHours, utc_offset_minutes: Number(e.target.value) } })
          }
        >
          {OFFSETS.map((m) => (
            <option key={m} value={m}>
              UTC{m === 0 ? '' : offsetText(m)}
            </option>
          ))}
        </select>
      </fieldset>
      <label
        className="check"
        title="Also count the events of archives that failed verification or are signed by a key you do not trust"
      >
        <input
          type="checkbox"
          id={id('include-unverified')}
          checked={draft.includeUnverified}
          onChange={(e) => setDraft({ ...draft, includeUnverified: e.target.checked })}
        />
        <span>Include unverified archives</span>
      </label>
      <button className="primary" type="submit" id={id('apply')}>
        Apply
      </button>
      {problem && (
        <p className="warn-text small dash-problem" role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}
