// The window: header with the screens as tabs, the screen, a status bar with the open database, and a drop target
// over the whole window. Keyboard: Alt+1..9 switch screens, "/" goes to the search box, Escape leaves an event.

import { useCallback, useEffect, useState } from 'react';
import type { KeyboardEvent as ReactKeyboardEvent } from 'react';

import { backend, toAppError } from './backend';
import type { AppError, Startup, Theme } from './backend';
import { AppProvider, useApp } from './app-context';
import type { Screen } from './app-context';
import { AboutDialog } from './components/AboutDialog';
import { ErrorBanner } from './components/ErrorBanner';
import { NoDatabase } from './components/NoDatabase';
import { AccessScreen } from './screens/AccessScreen';
import { ActionLogScreen } from './screens/ActionLogScreen';
import { EngagementDialog } from './components/EngagementDialog';
import { SessionKeys } from './components/SessionKeys';
import { ArchivesScreen } from './screens/ArchivesScreen';
import { DeploymentsScreen } from './screens/DeploymentsScreen';
import { EventScreen } from './screens/EventScreen';
import { ImportScreen } from './screens/ImportScreen';
import { BundleScreen } from './screens/BundleScreen';
import { KeyringScreen } from './screens/KeyringScreen';
import { OverviewScreen } from './screens/OverviewScreen';
import { SearchScreen } from './screens/SearchScreen';
import { countOf, textIndexPercent } from './format/numbers';
import { localOffsetLabel, localZoneLabel } from './format/time';

const TABS: { name: Exclude<Screen['name'], 'event'>; label: string }[] = [
  { name: 'overview', label: 'Overview' },
  { name: 'deployments', label: 'Deployments' },
  { name: 'access', label: 'Access' },
  { name: 'import', label: 'Import' },
  { name: 'archives', label: 'Archives' },
  { name: 'search', label: 'Search' },
  { name: 'keyring', label: 'Keyring' },
  { name: 'bundle', label: 'Received bundle' },
  { name: 'log', label: 'Action log' },
];

export function App() {
  const [startup, setStartup] = useState<Startup | null>(null);
  const [failure, setFailure] = useState<AppError | null>(null);
  const start = useCallback(() => {
    setFailure(null);
    backend
      .startup()
      .then(setStartup)
      .catch((e) => setFailure(toAppError(e)));
  }, []);
  useEffect(start, [start]);
  if (failure?.code === 'no-database') return <NoDatabase error={failure} onOpened={start} />;
  if (failure) {
    return (
      <main className="fatal" role="alert">
        <h1>AuditLens could not start</h1>
        <p>{failure.message}</p>
        <p>Close the window, fix the problem above and open AuditLens again.</p>
      </main>
    );
  }
  if (!startup) return <main className="loading">Opening the database…</main>;
  return (
    <AppProvider startup={startup}>
      <Shell />
    </AppProvider>
  );
}

function useThemeAttribute(theme: Theme) {
  useEffect(() => {
    const root = document.documentElement;
    if (theme === 'system') root.removeAttribute('data-theme');
    else root.setAttribute('data-theme', theme);
  }, [theme]);
}

function Shell() {
  const app = useApp();
  const { screen, navigate, settings, updateSettings, dropFiles } = app;
  const [hovering, setHovering] = useState(false);
  const [about, setAbout] = useState(false);
  const [engagements, setEngagements] = useState(false);
  useThemeAttribute(settings.theme);

  // Files dropped anywhere on the window are imported (an evidence bundle among them opens on its own screen), unless
  // an open dialog takes them (the CloudTrail dialog takes AWS key files).
  useEffect(() => {
    let stop: (() => void) | null = null;
    let cancelled = false;
    backend
      .onFileDrop(dropFiles, setHovering)
      .then((unlisten) => {
        if (cancelled) unlisten();
        else stop = unlisten;
      })
      .catch(app.showError);
    return () => {
      cancelled = true;
      stop?.();
    };
  }, [dropFiles, app.showError]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      // An open dialog keeps the keyboard: nothing switches screens behind it.
      if (document.querySelector('[aria-modal="true"]')) return;
      const typing = e.target instanceof HTMLElement && /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName);
      if (e.altKey && !e.ctrlKey && !e.metaKey && /^[1-9]$/.test(e.key) && Number(e.key) <= TABS.length) {
        e.preventDefault();
        navigate({ name: TABS[Number(e.key) - 1].name });
      } else if (e.key === '/' && !typing && !e.ctrlKey && !e.altKey) {
        e.preventDefault();
        navigate({ name: 'search' });
        setTimeout(() => document.getElementById('query')?.focus(), 0);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate]);

  const active = screen.name === 'event' ? screen.from : screen.name;
  const onTabKey = (e: ReactKeyboardEvent<HTMLButtonElement>, i: number) => {
    const next = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : null;
    if (next === null) return;
    e.preventDefault();
    const tab = TABS[(next + TABS.length) % TABS.length];
    navigate({ name: tab.name });
    document.getElementById(`tab-${tab.name}`)?.focus();
  };
  const nextTheme: Record<Theme, Theme> = { system: 'light', light: 'dark', dark: 'system' };

  return (
    <div className="shell">
      <header className="header">
        <div className="brand" aria-label="AuditLens">
          <span className="brand-mark" aria-hidden="true" />
          AuditLens
        </div>
        <nav role="tablist" aria-label="Screens" className="tabs">
          {TABS.map((t, i) => (
            <button
              key={t.name}
              id={`tab-${t.name}`}
              role="tab"
              aria-selected={active === t.name}
              tabIndex={active === t.name ? 0 : -1}
              className={active === t.name ? 'tab active' : 'tab'}
              title={`${t.label} (Alt+${i + 1})`}
              onClick={() => navigate({ name: t.name })}
              onKeyDown={(e) => onTabKey(e, i)}
            >
              {t.label}
            </button>
          ))}
        </nav>
        <div className="header-tools">
          <button
            className="chip"
            id="zone-toggle"
            title={`Show times in UTC or in the local time zone (${localZoneLabel()})`}
            onClick={() => updateSettings({ time_zone: settings.time_zone === 'utc' ? 'local' : 'utc' })}
          >
            {/* Short, so that the header stays one line: the zone's name is in the title and the column heads. */}
            Times: {settings.time_zone === 'utc' ? 'UTC' : `local (${localOffsetLabel()})`}
          </button>
        </div>
      </header>
      <ErrorBanner />
      <SessionKeys />
      {engagements && <EngagementDialog onClose={() => setEngagements(false)} onSwitched={() => window.location.reload()} />}
      <main className="screen" id="screen">
        <section hidden={screen.name !== 'overview'} aria-label="Overview">
          <OverviewScreen visible={screen.name === 'overview'} />
        </section>
        <section hidden={screen.name !== 'deployments'} aria-label="Deployments">
          <DeploymentsScreen visible={screen.name === 'deployments'} />
        </section>
        <section hidden={screen.name !== 'access'} aria-label="Access">
          <AccessScreen visible={screen.name === 'access'} />
        </section>
        <section hidden={screen.name !== 'import'} aria-label="Import">
          <ImportScreen />
        </section>
        <section hidden={screen.name !== 'archives'} aria-label="Archives">
          <ArchivesScreen visible={screen.name === 'archives'} />
        </section>
        <section hidden={screen.name !== 'search'} aria-label="Search">
          <SearchScreen visible={screen.name === 'search'} />
        </section>
        <section hidden={screen.name !== 'keyring'} aria-label="Keyring">
          <KeyringScreen />
        </section>
        <section hidden={screen.name !== 'bundle'} aria-label="Received bundle">
          <BundleScreen />
        </section>
        <section hidden={screen.name !== 'log'} aria-label="Action log">
          <ActionLogScreen visible={screen.name === 'log'} />
        </section>
        {screen.name === 'event' && (
          <section aria-label="Event">
            <EventScreen
              id={screen.id}
              list={screen.list}
              onBack={() => navigate({ name: screen.from })}
              onGo={(list) => navigate({ name: 'event', id: list.ids[list.index], from: screen.from, list })}
            />
          </section>
        )}
      </main>
      <footer className="statusbar" aria-label="Database">
        <button
          className="link engagement-chip"
          id="engagement-chip"
          title={
            app.startup.engagement
              ? `Engagement ${app.startup.engagement.name}${app.startup.engagement.client ? ` for ${app.startup.engagement.client}` : ''}: open, switch or create engagements`
              : 'No engagement: open or create one (its own database, working papers and keyring)'
          }
          onClick={() => setEngagements(true)}
        >
          {app.startup.engagement ? `Engagement: ${app.startup.engagement.name}` : 'No engagement'}
        </button>
        <span>
          Database: <span className="mono" id="db-path">{app.db.path}</span>
          {app.db.from_command_line ? ' (from --db)' : app.db.is_default ? ' (default)' : ''}
        </span>
        {app.db.upgrade && (
          <span role="status" id="db-upgrade">
            Upgraded: {app.db.upgrade}
          </span>
        )}
        <span
          id="db-counts"
          title="Every stored event, of every archive and stage. Dashboards count requests of verified archives only: Kubernetes records of requests still in progress (RequestReceived, ResponseStarted) and events of unverified archives are stored and searchable, not counted."
        >
          {countOf(app.db.archives, 'archive')} · {countOf(app.db.events, 'event')}
        </span>
        {Number(app.db.text_index.pending_events) > 0 && (
          <span role="status" id="text-indexing" title="Text searches read the events not indexed yet: no result is missed meanwhile.">
            indexing text: {textIndexPercent(app.db.text_index)}%
          </span>
        )}
        {/* In the status bar, so that the header keeps its nine screens on one line. */}
        <button
          className="link"
          id="theme-toggle"
          title="Colour theme: follow the system, light or dark"
          onClick={() => updateSettings({ theme: nextTheme[settings.theme] })}
        >
          Theme: {settings.theme}
        </button>
        <button className="link" id="about-open" onClick={() => setAbout(true)}>
          About
        </button>
      </footer>
      {about && (
        <AboutDialog
          version={app.startup.version}
          dataDir={app.startup.data_dir}
          dbPath={app.db.path}
          onClose={() => setAbout(false)}
        />
      )}
      {hovering && (
        <div className="drop-overlay" role="status">
          <div>Drop to verify and import</div>
        </div>
      )}
    </div>
  );
}
