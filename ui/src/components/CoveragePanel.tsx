// The audit period of the open database (a setting of the store, docs/coverage.md section 5) and, per origin,
// whether its verified archives cover it: covered, "nothing before T" / "nothing after T", and the silences longer
// than the threshold. It cannot prove that nothing was withheld; it makes the question visible.

import { useEffect, useRef, useState } from 'react';
import type { FormEvent } from 'react';

import { backend } from '../backend';
import type { AppError, AuditCoverage, OriginCoverage } from '../backend';
import { useApp } from '../app-context';

/** `3d 6h`, `2h 15m`, `45s`: the two largest units of a duration in seconds. */
export function humanSeconds(total: number): string {
  const parts: [number, string][] = [
    [Math.floor(total / 86400), 'd'],
    [Math.floor((total % 86400) / 3600), 'h'],
    [Math.floor((total % 3600) / 60), 'm'],
    [total % 60, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first < 0) return '0s';
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, u]) => `${n}${u}`)
    .join(' ');
}

function OriginRow({ o, to }: { o: OriginCoverage; to: string }) {
  return (
    <li className={`coverage-origin ${o.covered ? 'good' : 'warn'}`} data-origin={o.origin} data-covered={String(o.covered)}>
      <div>
        <span className="mono coverage-origin-name">{o.origin}</span>{' '}
        <strong className="coverage-verdict">{o.covered ? 'Covered' : 'Not covered'}</strong>
      </div>
      {Number(o.archives) === 0 ? (
        <div className="small">No verified archive of this origin: untrusted and failed archives do not count.</div>
      ) : (
        <div className="small muted">
          {o.first_event && o.last_event ? (
            <>
              Events {o.first_event} → {o.last_event}
            </>
          ) : (
            'No event with a readable time'
          )}
          {' · '}
          {Number(o.archives)} verified {Number(o.archives) === 1 ? 'archive' : 'archives'}
          {o.first_seal && o.last_seal && (
            <>
              {' · '}sealed {o.first_seal} → {o.last_seal}
            </>
          )}
        </div>
      )}
      <ul className="coverage-findings">
        {o.nothing_before && (
          <li className="coverage-nothing-before">
            <strong>Nothing before {o.nothing_before}</strong>
          </li>
        )}
        {o.nothing_after && (
          <li className="coverage-nothing-after">
            <strong>Nothing after {o.nothing_after}</strong>
            {o.sealed_before_end
              ? ` — the newest archive was sealed at ${o.last_seal} before the period ends (${to}): newer archives may exist and were not given.`
              : ` — the period ends at ${to}.`}
          </li>
        )}
        {o.gaps.map((g) => (
          <li key={`${g.start}-${g.end}`} className="coverage-gap">
            Gap {g.start} → {g.end} ({humanSeconds(Number(g.seconds))} without any event)
          </li>
        ))}
        {Number(o.gaps_total) > o.gaps.length && (
          <li className="coverage-gap-more">…and {Number(o.gaps_total) - o.gaps.length} more gaps</li>
        )}
      </ul>
    </li>
  );
}

export function CoveragePanel({ visible }: { visible: boolean }) {
  const { dataVersion } = useApp();
  const [data, setData] = useState<AuditCoverage | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [saving, setSaving] = useState(false);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [silence, setSilence] = useState('24h');
  const generation = useRef(0);

  const show = (c: AuditCoverage) => {
    setData(c);
    setError(null);
    if (c.period) {
      setFrom(c.period.from);
      setTo(c.period.to);
      setSilence(c.period.silence);
    }
  };

  useEffect(() => {
    if (!visible) return;
    const gen = ++generation.current;
    backend.auditCoverage().then(
      (c) => gen === generation.current && show(c),
      (e: AppError) => gen === generation.current && setError(e),
    );
  }, [visible, dataVersion]);

  const save = (period: { from: string; to: string; silence: string } | null) => {
    const gen = ++generation.current;
    setSaving(true);
    backend.setAuditPeriod(period).then(
      (c) => {
        setSaving(false);
        if (gen !== generation.current) return;
        show(c);
        if (!period) {
          setFrom('');
          setTo('');
          setSilence('24h');
        }
      },
      (e: AppError) => {
        setSaving(false);
        if (gen === generation.current) setError(e);
      },
    );
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    save({ from: from.trim(), to: to.trim(), silence: silence.trim() || '24h' });
  };

  const c = data?.coverage ?? null;
  return (
    <section className="panel wide coverage" id="overview-coverage" aria-labelledby="overview-coverage-title">
      <h3 id="overview-coverage-title">Audit period coverage</h3>
      <form className="coverage-form" onSubmit={onSubmit}>
        <label>
          From <input id="coverage-from" className="mono" value={from} placeholder="2024-01-01" onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          To (excluded) <input id="coverage-to" className="mono" value={to} placeholder="2024-07-01" onChange={(e) => setTo(e.target.value)} />
        </label>
        <label>
          Silence <input id="coverage-silence" className="mono" value={silence} size={5} onChange={(e) => setSilence(e.target.value)} />
        </label>
        <button type="submit" id="coverage-save" disabled={saving}>
          Save period
        </button>
        {data?.period && (
          <button type="button" className="link" id="coverage-clear" disabled={saving} onClick={() => save(null)}>
            Clear
          </button>
        )}
      </form>
      {error && (
        <div className="banner error" role="alert" id="coverage-error">
          {error.message}
        </div>
      )}
      {!c && !error && (
        <p className="small muted" id="coverage-none">
          No audit period is set for this database. Set one to see, per origin, whether the verified archives cover it.
        </p>
      )}
      {c && (
        <>
          <p className="small" id="coverage-summary">
            Period {c.from} → {c.to} (UTC, end excluded), silence {c.silence}:{' '}
            {c.origins.length === 0
              ? 'no archive in this database.'
              : c.origins.every((o) => o.covered)
                ? 'every origin is covered.'
                : `${c.origins.filter((o) => !o.covered).length} of ${c.origins.length} ${c.origins.length === 1 ? 'origin is' : 'origins are'} not covered.`}
          </p>
          <ul className="coverage-origins" id="coverage-origins">
            {c.origins.map((o) => (
              <OriginRow key={o.origin} o={o} to={c.to} />
            ))}
          </ul>
          <p className="small muted" id="coverage-caveat">
            How: {c.basis_note}. This cannot prove that nothing was withheld: a chain whose newest archives were dropped
            still verifies. Ask for the newest checkpoint of each origin, sent to you directly at the end of the period.
          </p>
        </>
      )}
    </section>
  );
}
