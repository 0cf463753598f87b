// Deployments: a timeline per environment (who deployed what, with which outcome), deployments per day, the failed
// ones, the ones outside working hours (hours and zone set in the filter bar) and those by actors who rarely deploy.

import { useApp } from '../app-context';
import { BarList, DayColumns, DrillNumber, EventList, Panel, Stat, keyText } from '../components/Charts';
import { DashboardFrame } from '../components/DashboardFrame';
import { workingHoursText } from '../dashboards/filter';
import { useDashboard } from '../dashboards/useDashboard';

export function DeploymentsScreen({ visible }: { visible: boolean }) {
  const { settings, dashboardFilter } = useApp();
  const state = useDashboard('deployments', visible);
  const zone = settings.time_zone;
  return (
    <DashboardFrame name="deployments" title="Deployments" state={state} untimedNoun="deployment">
      {(d) => (
        <>
          <div className="stats wide">
            <Stat figure={d.total} label="Deployments" id="deployments-total" />
            <Stat figure={d.failed} label="Failed or denied" tone="bad" id="deployments-failed" />
            <Stat
              figure={d.off_hours}
              label="Outside working hours"
              tone="warn"
              hint={workingHoursText(dashboardFilter.workingHours)}
              id="deployments-off-hours"
            />
          </div>
          <Panel title="Deployments per day" wide id="deployments-per-day">
            <DayColumns days={d.per_day} label="Deployments per day" />
          </Panel>
          <Panel
            title="Timeline per environment"
            wide
            id="deployments-lanes"
            note="Busiest environment first; the most recent deployments of each, newest first."
          >
            {d.lanes.length === 0 ? (
              <p className="muted small">No deployment in this range.</p>
            ) : (
              <div className="lanes">
                {d.lanes.map((lane, i) => (
                  <div className="env-lane" key={`${lane.deployments.key ?? ''}-${i}`} data-env={lane.deployments.key ?? ''}>
                    <div className="env-lane-head">
                      <span className={lane.deployments.key == null ? 'env-name muted' : 'env-name mono'}>
                        {keyText(lane.deployments.key)}
                      </span>
                      <span className="small">
                        <DrillNumber
                          figure={lane.deployments}
                          label={`Deployments in ${keyText(lane.deployments.key)}`}
                          className="inline"
                        />{' '}
                        deployments,{' '}
                        <DrillNumber
                          figure={lane.failed}
                          label={`Failed deployments in ${keyText(lane.deployments.key)}`}
                          className={Number(lane.failed.count) > 0 ? 'inline bad' : 'inline'}
                        />{' '}
                        failed
                      </span>
                    </div>
                    <EventList
                      rows={lane.recent}
                      zone={zone}
                      from="deployments"
                      label={`Recent deployments in ${keyText(lane.deployments.key)}`}
                    />
                  </div>
                ))}
              </div>
            )}
          </Panel>
          <Panel title="Failed deployments" id="deployments-failed-list" note="Outcome failure or denied, newest first.">
            <EventList rows={d.failed_recent} zone={zone} from="deployments" label="Failed deployments" empty="No failed deployment." />
          </Panel>
          <Panel title="Outside working hours, by actor" id="deployments-off-hours-by-actor" note={workingHoursText(dashboardFilter.workingHours)}>
            <BarList figures={d.off_hours_by_actor} label="Off-hours deployments by" empty="No deployment outside working hours." />
          </Panel>
          <Panel
            title="Actors who rarely deploy"
            id="deployments-rare"
            note="Actors with at most 2 deployments in this range, fewest first."
          >
            <BarList figures={d.rare_actors} label="Deployments by" empty="No such actor." />
          </Panel>
        </>
      )}
    </DashboardFrame>
  );
}
