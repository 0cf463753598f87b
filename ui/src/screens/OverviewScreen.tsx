// Overview: is everything verified (and if not, which archives failed, which keys are untrusted, where sequences
// are missing), whether the verified archives cover the audit period (per origin), how many events of which
// category, outcome and source, over which time, and the busiest actors.

import { useState } from 'react';

import { backend } from '../backend';
import type { VerificationSummary } from '../backend';
import { useApp } from '../app-context';
import { OpenIncidents } from '../components/Incidents';
import { BarList, Panel, Stat, StackedColumns, seriesClass } from '../components/Charts';
import { CoveragePanel } from '../components/CoveragePanel';
import { DashboardFrame } from '../components/DashboardFrame';
import { LookalikeWarning } from '../components/LookalikeWarning';
import { useDashboard } from '../dashboards/useDashboard';
import { countOf, formatCount } from '../format/numbers';
import { formatMicros } from '../format/time';
import { safeText } from '../format/safeText';

function archiveName(a: { origin: string | null; sequence: number | null; path: string }): string {
  return safeText(a.origin ? `${a.origin} #${a.sequence ?? '?'}` : a.path);
}

/** Archives the file marks verified that this app's keys do not trust now: named, with the two ways out. */
function NotTrustedNow({ items }: { items: VerificationSummary['not_trusted_now'] }) {
  const { navigate, refreshDb, showError } = useApp();
  const [busy, setBusy] = useState(false);
  if (items.length === 0) return null;
  const demote = async () => {
    setBusy(true);
    try {
      await backend.demoteUntrustedArchives();
      refreshDb();
    } catch (e) {
      showError(e);
    } finally {
      setBusy(false);
    }
  };
  const one = items.length === 1;
  return (
    <div className="verification-problem" data-kind="not-trusted-now" id="verification-not-trusted-now">
      {formatCount(items.length)} {one ? 'archive is' : 'archives are'} marked verified in this database, but{' '}
      {one ? 'its signer is' : 'their signers are'} not trusted by your keyring now (a database imported with other
      keys, or handed over): {one ? 'it is' : 'they are'} still counted until you trust the key or mark{' '}
      {one ? 'it' : 'them'} as not trusted.
      <ul>
        {items.map((a) => (
          <li key={`not-trusted-now-${a.archive_id}`}>
            <span className="mono">{archiveName(a)}</span>
            {a.reason && <span className="muted"> — {safeText(a.reason)}</span>}
          </li>
        ))}
      </ul>
      <div className="actions left">
        <button type="button" onClick={() => navigate({ name: 'keyring' })}>
          Open Keyring
        </button>
        <button type="button" className="danger" id="demote-untrusted" disabled={busy} onClick={demote}>
          Mark as not trusted
        </button>
      </div>
    </div>
  );
}

export function VerificationBanner({ v }: { v: VerificationSummary }) {
  const { navigate } = useApp();
  const archives = `${formatCount(Number(v.archives))} ${Number(v.archives) === 1 ? 'archive' : 'archives'}`;
  // Evidence sealed on receipt verified as such, but only proves no change since the auditor received it.
  const received =
    v.received.length > 0 ? (
      <div className="verification-problem received" data-kind="received" id="verification-received">
        {formatCount(v.received.length)} of them {v.received.length === 1 ? 'was' : 'were'} sealed on receipt by the
        auditor, not signed by their producer: that proves no change since receipt, not authenticity at the source.
        <ul>
          {v.received.map((a) => (
            <li key={`received-${a.archive_id}`}>
              <span className="mono">{archiveName(a)}</span>
              {a.reason && <span className="muted"> — {safeText(a.reason)}</span>}
            </li>
          ))}
        </ul>
      </div>
    ) : null;
  if (v.all_verified) {
    return (
      <div className="banner good verification" id="verification" role="status" data-verified="true">
        <div className="banner-text">
          <strong>All verified.</strong>&nbsp;{archives}, each checked against its signed checkpoint under a trusted
          key; no sequence is missing.
          {received}
        </div>
      </div>
    );
  }
  const problems: { kind: string; items: typeof v.failed; what: string }[] = [
    { kind: 'failed', items: v.failed, what: 'failed verification' },
    { kind: 'untrusted', items: v.untrusted, what: 'signed by a key that is not trusted' },
    { kind: 'gap', items: v.gaps, what: 'with missing sequences before it' },
  ];
  return (
    <div className="banner warn verification" id="verification" role="status" data-verified="false">
      <div className="banner-text">
        {v.failed.length === 0 && v.untrusted.length === 0 && v.not_trusted_now.length === 0 ? (
          <>
            <strong>Sequences are missing.</strong> All {archives} verified, but an origin has sequences that are not
            in this database: events of those archives are missing from every count.
          </>
        ) : (
          <>
            <strong>Not everything is verified.</strong> {formatCount(Number(v.verified))} of {archives} marked
            verified; the dashboards count only those.
          </>
        )}
        {problems
          .filter((p) => p.items.length > 0)
          .map((p) => (
            <div key={p.kind} className="verification-problem" data-kind={p.kind}>
              {formatCount(p.items.length)} {p.items.length === 1 ? 'archive' : 'archives'} {p.what}:
              <ul>
                {p.items.map((a) => (
                  <li key={`${p.kind}-${a.archive_id}`}>
                    <span className="mono">{archiveName(a)}</span>
                    {a.reason && <span className="muted"> — {safeText(a.reason)}</span>}
                  </li>
                ))}
              </ul>
            </div>
          ))}
        <NotTrustedNow items={v.not_trusted_now} />
        {received}
      </div>
      <button type="button" className="link" onClick={() => navigate({ name: 'archives' })}>
        Open Archives
      </button>
    </div>
  );
}

export function OverviewScreen({ visible }: { visible: boolean }) {
  const { settings, db } = useApp();
  const state = useDashboard('overview', visible);
  const zone = settings.time_zone;
  return (
    <DashboardFrame name="overview" title="Overview" state={state}>
      {(o) => (
        <>
          <div className="wide">
            <OpenIncidents incidents={o.verification.incidents} />
            <VerificationBanner v={o.verification} />
            <LookalikeWarning groups={o.verification.lookalikes} id="overview-lookalikes" />
          </div>
          <CoveragePanel visible={visible} />
          <div className="stats wide">
            <Stat
              figure={o.total}
              label="Events"
              id="overview-total"
              hint={
                // Why this is not the status bar's number: what a dashboard counts (docs/search.md section 9).
                Number(o.total.count) !== Number(db.events)
                  ? `counted of ${countOf(db.events, 'stored event')}: records of requests in progress, events of unverified archives and those outside the range or query are not counted`
                  : undefined
              }
            />
            {o.by_outcome
              .filter((f) => f.key === 'denied' || f.key === 'failure')
              .map((f) => (
                <Stat key={f.key} figure={f} label={f.key === 'denied' ? 'Denied' : 'Failed'} tone="bad" id={`overview-${f.key}`} />
              ))}
            <div className="stat static" id="overview-span">
              <span className="stat-label">Time covered ({zone === 'utc' ? 'UTC' : 'local'})</span>
              {o.time_range ? (
                <span className="stat-span">
                  {formatMicros(o.time_range.first, zone, 0)}
                  <br />→ {formatMicros(o.time_range.last, zone, 0)}
                </span>
              ) : (
                <span className="stat-span muted">no event with a time</span>
              )}
            </div>
          </div>
          <Panel title="Events over time, by category" wide id="overview-over-time">
            <StackedColumns data={o.over_time} zone={zone} label="Events over time by category" />
          </Panel>
          <Panel title="By category" id="overview-by-category">
            <BarList figures={o.by_category} label="Category" tone={seriesClass} />
          </Panel>
          <Panel title="By outcome" id="overview-by-outcome">
            <BarList figures={o.by_outcome} label="Outcome" tone={seriesClass} />
          </Panel>
          <Panel title="By source" id="overview-by-source">
            <BarList figures={o.by_source} label="Source" />
          </Panel>
          <Panel title="Top actors" id="overview-top-actors">
            <BarList figures={o.top_actors} label="Actor" empty="No event names an actor." />
          </Panel>
        </>
      )}
    </DashboardFrame>
  );
}
