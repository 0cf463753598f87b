// Access: access events over time (by outcome), denied attempts by actor and by actor and resource, privileged
// access (exec, secrets, roles, logins), actors first seen in the range, access outside working hours and bursts
// of denials.

import { useApp } from '../app-context';
import { BarList, DrillNumber, EventList, Panel, Stat, StackedColumns, keyText } from '../components/Charts';
import { DashboardFrame } from '../components/DashboardFrame';
import { workingHoursText } from '../dashboards/filter';
import { useDashboard } from '../dashboards/useDashboard';
import { safeText } from '../format/safeText';
import { formatCount } from '../format/numbers';
import { formatTime } from '../format/time';

const PRIVILEGE_LABELS: Record<string, string> = {
  exec: 'exec into workloads',
  secret: 'secret reads',
  role: 'role assumption',
  login: 'interactive logins',
};

/** Brings the list of bursts into view and gives it the focus (its first drill-down, or the panel itself). */
function showBursts() {
  const panel = document.getElementById('access-bursts');
  if (!panel) return;
  panel.scrollIntoView?.({ block: 'start' });
  const first = panel.querySelector<HTMLElement>('button');
  if (first) {
    first.focus();
  } else {
    panel.tabIndex = -1;
    panel.focus();
  }
}

export function AccessScreen({ visible }: { visible: boolean }) {
  const { settings, dashboardFilter } = useApp();
  const state = useDashboard('access', visible);
  const zone = settings.time_zone;
  return (
    <DashboardFrame name="access" title="Access" state={state}>
      {(a) => (
        <>
          <div className="stats wide">
            <Stat figure={a.total} label="Access events" id="access-total" />
            <Stat figure={a.denied} label="Denied (any category)" tone="bad" id="access-denied" />
            <Stat
              figure={a.off_hours}
              label="Access outside working hours"
              tone="warn"
              hint={workingHoursText(dashboardFilter.workingHours)}
              id="access-off-hours"
            />
            {/* A number of bursts, not of events: it leads to the list of bursts, each of which drills down. */}
            <button
              type="button"
              className={`stat drill ${a.bursts.length > 0 ? 'tone-bad' : ''}`}
              id="access-bursts-count"
              title="Show the bursts of denials"
              onClick={showBursts}
            >
              <span className="stat-label">Bursts of denials</span>
              <span className="stat-value">{formatCount(a.bursts.length)}</span>
            </button>
          </div>
          <Panel title="Access events over time, by outcome" wide id="access-over-time">
            <StackedColumns data={a.over_time} zone={zone} label="Access events over time by outcome" />
          </Panel>
          <Panel title="Denied attempts by actor" id="access-denied-by-actor">
            <BarList figures={a.denied_by_actor} label="Denied attempts by" empty="No denied attempt." />
          </Panel>
          <Panel title="Denied attempts by actor and resource" id="access-denied-pairs">
            {a.denied_by_actor_resource.length === 0 ? (
              <p className="muted small">No denied attempt.</p>
            ) : (
              <table className="table compact">
                <thead>
                  <tr>
                    <th>Actor</th>
                    <th>Resource</th>
                    <th className="num">Denied</th>
                  </tr>
                </thead>
                <tbody>
                  {a.denied_by_actor_resource.map((p, i) => (
                    <tr key={i}>
                      <td className="wrap">{keyText(p.actor)}</td>
                      <td className="wrap mono">{keyText(p.resource)}</td>
                      <td className="num">
                        <DrillNumber
                          figure={p}
                          label={`Denied attempts by ${keyText(p.actor)} on ${keyText(p.resource)}`}
                          className="inline"
                        />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Panel>
          <Panel title="Privileged access" id="access-privileged">
            <BarList
              figures={a.privileged.map((f) => ({ ...f, key: f.key && PRIVILEGE_LABELS[f.key] ? `${f.key}: ${PRIVILEGE_LABELS[f.key]}` : f.key }))}
              label="Privileged access"
            />
          </Panel>
          <Panel title="Recent privileged access" id="access-privileged-recent">
            <EventList rows={a.privileged_recent} zone={zone} from="access" label="Recent privileged access" empty="No privileged access." />
          </Panel>
          <Panel
            title="Actors first seen in this range"
            id="access-first-seen"
            note="Actors whose earliest event in the store falls in the range."
          >
            {a.first_seen.length === 0 ? (
              <p className="muted small">No new actor.</p>
            ) : (
              <table className="table compact">
                <thead>
                  <tr>
                    <th>Actor</th>
                    <th>First seen ({zone === 'utc' ? 'UTC' : 'local'})</th>
                    <th className="num">Events</th>
                  </tr>
                </thead>
                <tbody>
                  {a.first_seen.map((f) => (
                    <tr key={f.actor}>
                      <td className="wrap">{safeText(f.actor)}</td>
                      <td className="mono nowrap">{formatTime(f.first_seen_text, zone, 0)}</td>
                      <td className="num">
                        <DrillNumber figure={f.events} label={`Events of ${safeText(f.actor)}`} className="inline" />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Panel>
          <Panel title="Outside working hours, by actor" id="access-off-hours-by-actor" note={workingHoursText(dashboardFilter.workingHours)}>
            <BarList figures={a.off_hours_by_actor} label="Off-hours access by" empty="No access outside working hours." />
          </Panel>
          <Panel
            title="Bursts of denials"
            id="access-bursts"
            note="At least 5 denied attempts by one actor within 10 minutes."
          >
            {a.bursts.length === 0 ? (
              <p className="muted small">No burst.</p>
            ) : (
              <table className="table compact">
                <thead>
                  <tr>
                    <th>Actor</th>
                    <th>From ({zone === 'utc' ? 'UTC' : 'local'})</th>
                    <th>To</th>
                    <th className="num">Denied</th>
                  </tr>
                </thead>
                <tbody>
                  {a.bursts.map((b, i) => (
                    <tr key={i}>
                      <td className="wrap">{safeText(b.actor)}</td>
                      <td className="mono nowrap">{formatTime(b.start, zone, 0)}</td>
                      <td className="mono nowrap">{formatTime(b.end, zone, 0)}</td>
                      <td className="num">
                        <DrillNumber figure={b} label={`Burst of denials by ${safeText(b.actor)}`} className="inline" />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Panel>
        </>
      )}
    </DashboardFrame>
  );
}
