// Search: the query language of docs/search.md with syntax help and errors at their column; the number of
// matches, their time histogram (drag to narrow: adds after:/before:) and the virtualized result table, newest
// first, loaded page by page (keyset cursors) as the user scrolls. Rows can be ticked, and "Export evidence" writes
// a signed bundle of every match or of the ticked rows; "Export for analytics" writes every verified match as OCSF
// Parquet with a signed manifest (docs/ocsf-export.md).

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { FormEvent, ReactNode } from 'react';

import { backend, toAppError } from '../backend';
import type {
  AnalyticsExport,
  AppError,
  EventRow,
  Hint,
  Histogram,
  IdentitiesView,
  PapersView,
  ResultsExport,
  Sort,
  SortColumn,
} from '../backend';
import { useApp } from '../app-context';
import { EmptyState } from '../components/EmptyState';
import { ExportDialog } from '../components/ExportDialog';
import { HistogramChart } from '../components/HistogramChart';
import { QueryErrorView, QueryHelp } from '../components/QueryHelp';
import { BLOCK, COLUMNS, DEFAULT_COLUMNS, ResultsTable } from '../components/ResultsTable';
import { formatBytes, formatCount } from '../format/numbers';
import { quoteValue, withTimeRange } from '../format/query';
import { safeText } from '../format/safeText';

export const PAGE_SIZE = 500;
const BUCKETS = 120;

export interface Results {
  query: string;
  /** The matches from the first, in order; `next` continues them. */
  rows: EventRow[];
  next: string | null;
  /** The matches read from the last backward (End), last first, while a gap of unread matches lies between
   * them and `rows`; `tailNext` continues them toward the first. Joined to `rows` once the two meet. */
  tail: EventRow[];
  tailNext: string | null;
  /** Pages read by their offset where the scrollbar was dragged between `rows` and `tail`: block b holds the
   * matches from position b × BLOCK on. */
  blocks: Record<number, EventRow[]>;
  loading: boolean;
  count: number | null;
  histogram: Histogram | null;
  error: AppError | null;
}

export const EMPTY: Results = {
  query: '',
  rows: [],
  next: null,
  tail: [],
  tailNext: null,
  blocks: {},
  loading: false,
  count: null,
  histogram: null,
  error: null,
};

/** The most rows one request asks for (filling a gap far from both ends). */
const MAX_PAGE = 10000;

/** `r` with its tail joined to its rows once nothing lies between them: the rows reached the end, the tail
 * reached the first match, or together they hold every match (an event in both is kept once). */
export function joined(r: Results): Results {
  if (r.tail.length === 0) return r;
  const tailDone = r.tailNext == null;
  const met = r.count != null && r.rows.length + r.tail.length >= r.count;
  if (r.next != null && !tailDone && !met) return r;
  if (r.next == null) return { ...r, tail: [], tailNext: null };
  const seen = new Set(r.rows.map((e) => e.id));
  const rest = [...r.tail].reverse().filter((e) => !seen.has(e.id));
  return { ...r, rows: [...r.rows, ...rest], next: null, tail: [], tailNext: null };
}

export function SearchScreen({ visible }: { visible: boolean }) {
  const { settings, updateSettings, navigate, dataVersion, db, searchRequest, setSearchQuery } = useApp();
  const [input, setInput] = useState('');
  const [results, setResults] = useState<Results>(EMPTY);
  const [selected, setSelected] = useState(0);
  const [help, setHelp] = useState(false);
  const [chooser, setChooser] = useState(false);
  // Ticked rows, by id, in the order they were ticked (kept until the next search).
  const [checked, setChecked] = useState<Map<string, true>>(new Map());
  const [exporting, setExporting] = useState(false);
  const [analytics, setAnalytics] = useState<ExportState<AnalyticsExport>>(null);
  const [table, setTable] = useState<ExportState<ResultsExport>>(null);
  const generation = useRef(0);
  // Blocks asked for and not answered yet (of the current search).
  const inflight = useRef<Set<number>>(new Set());
  const ran = useRef(false);
  // The order of the results: newest first unless a column header chose another (kept for the next searches).
  const [sort, setSort] = useState<Sort | null>(null);
  const sortRef = useRef<Sort | null>(null);
  sortRef.current = sort;

  const run = useCallback(
    (query: string) => {
    const gen = ++generation.current;
    inflight.current = new Set();
    setSearchQuery(query);
    setSelected(0);
    setChecked(new Map());
    setResults({ ...EMPTY, query, loading: true });
    const mine = (f: (r: Results) => Results) => setResults((r) => (gen === generation.current ? f(r) : r));
    backend.search(query, PAGE_SIZE, null, sortRef.current).then(
      (page) => mine((r) => joined({ ...r, rows: page.events, next: page.next, loading: false })),
      (error) => mine((r) => ({ ...r, loading: false, error })),
    );
    backend.count(query).then(
      (count) => mine((r) => joined({ ...r, count })),
      () => undefined,
    );
    backend.histogram(query, BUCKETS).then(
      (histogram) => mine((r) => ({ ...r, histogram })),
      () => undefined,
    );
    },
    [setSearchQuery],
  );

  const exportAnalytics = () =>
    runExport(backend.pickExportFolder, (out) => backend.exportParquet(results.query, out), setAnalytics);
  const exportTable = () =>
    runExport(backend.pickResultsOut, (out) => backend.exportResults(results.query, out), setTable);

  const current = useRef(results);
  current.current = results;
  // The next `size` matches after the rows (a page; more to fill a gap the user scrolled into).
  const loadMore = useCallback((size: number = PAGE_SIZE) => {
    const r = current.current;
    if (r.loading || !r.next) return;
    const gen = generation.current;
    const mine = (f: (r: Results) => Results) => setResults((cur) => (gen === generation.current ? f(cur) : cur));
    current.current = { ...r, loading: true };
    setResults((cur) => ({ ...cur, loading: true }));
    const limit = Math.min(MAX_PAGE, Math.max(PAGE_SIZE, size));
    backend.search(r.query, limit, r.next, sortRef.current).then(
      (page) => mine((cur) => joined({ ...cur, rows: [...cur.rows, ...page.events], next: page.next, loading: false })),
      (error) => mine((cur) => ({ ...cur, loading: false, error })),
    );
  }, []);

  // The `size` matches before the tail, read backward: End (the last page), then toward the first match.
  const loadTail = useCallback((size: number = PAGE_SIZE) => {
    const r = current.current;
    if (r.loading || !r.next || (r.tail.length > 0 && !r.tailNext)) return;
    const gen = generation.current;
    const mine = (f: (r: Results) => Results) => setResults((cur) => (gen === generation.current ? f(cur) : cur));
    current.current = { ...r, loading: true };
    setResults((cur) => ({ ...cur, loading: true }));
    const limit = Math.min(MAX_PAGE, Math.max(PAGE_SIZE, size));
    backend.search(r.query, limit, r.tail.length > 0 ? r.tailNext : null, sortRef.current, true).then(
      (page) => mine((cur) => joined({ ...cur, tail: [...cur.tail, ...page.events], tailNext: page.next, loading: false })),
      (error) => mine((cur) => ({ ...cur, loading: false, error })),
    );
  }, []);

  // The block of matches from position `block` × BLOCK on, read by its offset: the rows where the scrollbar was
  // dragged, without the matches before them.
  const loadBlock = useCallback((block: number) => {
    const r = current.current;
    if (inflight.current.has(block) || r.blocks[block]) return;
    const gen = generation.current;
    const pending = inflight.current;
    pending.add(block);
    const mine = (f: (r: Results) => Results) => {
      pending.delete(block);
      setResults((cur) => (gen === generation.current ? f(cur) : cur));
    };
    backend.search(r.query, BLOCK, null, sortRef.current, false, block * BLOCK).then(
      (page) => mine((cur) => ({ ...cur, blocks: { ...cur.blocks, [block]: page.events } })),
      (error) => mine((cur) => ({ ...cur, error })),
    );
  }, []);

  const sortBy = useCallback(
    (column: SortColumn) => {
      const now = sortRef.current ?? { column: 'time', ascending: false };
      // A new column starts A to Z (time: newest first); the same column again reverses.
      const next: Sort =
        now.column === column ? { column, ascending: !now.ascending } : { column, ascending: column !== 'time' };
      const newestFirst = next.column === 'time' && !next.ascending;
      sortRef.current = newestFirst ? null : next;
      setSort(sortRef.current);
      run(current.current.query);
    },
    [run],
  );

  // The searches run in this window, for Back and Forward (Alt+← / Alt+→): a new search drops what lay ahead, as
  // in a browser. Searches with a query also go to the saved history (the working papers' "Recent").
  const trail = useRef<{ list: string[]; pos: number }>({ list: [], pos: -1 });
  const [trailPos, setTrailPos] = useState(-1);
  const [papers, setPapers] = useState<PapersView | null>(null);
  const [papersOpen, setPapersOpen] = useState(false);
  const go = useCallback(
    (query: string) => {
      const t = trail.current;
      if (t.list[t.pos] !== query) {
        t.list = [...t.list.slice(0, t.pos + 1), query].slice(-200);
        t.pos = t.list.length - 1;
        setTrailPos(t.pos);
      }
      if (query.trim()) backend.rememberQuery(query).then(setPapers, () => undefined);
      setInput(query);
      run(query);
    },
    [run],
  );
  const stepTrail = useCallback(
    (by: number) => {
      const t = trail.current;
      const pos = t.pos + by;
      if (pos < 0 || pos >= t.list.length) return;
      t.pos = pos;
      setTrailPos(pos);
      setInput(t.list[pos]);
      run(t.list[pos]);
    },
    [run],
  );
  useEffect(() => {
    if (!visible) return;
    const onKey = (e: KeyboardEvent) => {
      if (document.querySelector('[aria-modal="true"]') || !e.altKey) return;
      if (e.key === 'ArrowLeft') stepTrail(-1);
      else if (e.key === 'ArrowRight') stepTrail(1);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [visible, stepTrail]);
  const loadPapers = useCallback(() => {
    backend.workingPapers().then(setPapers, () => undefined);
  }, []);
  useEffect(() => {
    if (visible && papersOpen) loadPapers();
  }, [visible, papersOpen, loadPapers, dataVersion]);

  // A drill-down from a dashboard runs its query (and counts as the first visit).
  const handled = useRef(0);
  useEffect(() => {
    if (!searchRequest || searchRequest.seq === handled.current) return;
    handled.current = searchRequest.seq;
    ran.current = true;
    go(searchRequest.query);
  }, [searchRequest, go]);

  // The first visit shows every event; new data (an import, another database) runs the current search again.
  useEffect(() => {
    if (visible && !ran.current) {
      ran.current = true;
      go('');
    }
  }, [visible, go]);
  useEffect(() => {
    if (ran.current) run(current.current.query);
  }, [dataVersion, run]);

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    go(input);
  };
  const narrow = useCallback(
    (from: number, to: number) => {
      go(withTimeRange(input, from, to));
    },
    [input, go],
  );

  const chosen = settings.columns.length > 0 ? settings.columns : DEFAULT_COLUMNS;
  // The same array while the choice is the same: the table's rows are memoized on it (a page arriving must
  // not redraw every row shown).
  const columns = useMemo(() => COLUMNS.filter((c) => chosen.includes(c.id)), [chosen]);
  const toggleColumn = (id: string) => {
    const next = chosen.includes(id) ? chosen.filter((c) => c !== id) : COLUMNS.map((c) => c.id).filter((c) => c === id || chosen.includes(c));
    if (next.length > 0) updateSettings({ columns: next });
  };
  // Previous/next in the event's detail start from the loaded rows it is among (the first ones, those read from
  // the end, or the block read where the scrollbar was dragged) and, once the matches are counted, go on through
  // all of them (the detail reads the neighbouring block by its offset).
  const open = (row: EventRow) => {
    const inTail = results.tail.some((r) => r.id === row.id);
    const block = Object.entries(results.blocks).find(([, b]) => b.some((r) => r.id === row.id));
    const inRows = results.rows.some((r) => r.id === row.id);
    const total = results.count;
    const [ids, start] = inTail
      ? [[...results.tail].reverse().map((r) => r.id), total != null ? total - results.tail.length : null]
      : !inRows && block
        ? [block[1].map((r) => r.id), Number(block[0]) * BLOCK]
        : [results.rows.map((r) => r.id), 0];
    const index = ids.indexOf(row.id);
    const from =
      total != null && start != null && start >= 0 ? { query: results.query, sort: sortRef.current, start, total } : undefined;
    navigate({ name: 'event', id: row.id, from: 'search', list: index >= 0 ? { ids, index, from } : undefined });
  };
  const toggleCheck = useCallback((row: EventRow) => {
    setChecked((cur) => {
      const next = new Map(cur);
      if (next.has(row.id)) next.delete(row.id);
      else next.set(row.id, true);
      return next;
    });
  }, []);
  const checkedSet = useMemo(() => new Set(checked.keys()), [checked]);
  const queryError = results.error?.code === 'query' ? results.error : null;

  return (
    <div className="search-screen">
      <form className="query-bar" onSubmit={submit} role="search">
        <label htmlFor="query" className="visually-hidden">
          Search query
        </label>
        <input
          id="query"
          className={queryError ? 'query invalid' : 'query'}
          value={input}
          onChange={(e) => setInput(e.target.value)}
          placeholder='e.g. actor:alice outcome:denied since:7d   ("/" to come here)'
          spellCheck={false}
          autoComplete="off"
          aria-invalid={!!queryError}
          aria-describedby={queryError ? 'query-error' : undefined}
        />
        <button className="primary" type="submit" id="search-button">
          Search
        </button>
        <button
          type="button"
          id="query-back"
          onClick={() => stepTrail(-1)}
          disabled={trailPos <= 0}
          title="Back to the previous search (Alt+←)"
          aria-label="Back to the previous search"
        >
          ←
        </button>
        <button
          type="button"
          id="query-forward"
          onClick={() => stepTrail(1)}
          disabled={trailPos >= trail.current.list.length - 1}
          title="Forward (Alt+→)"
          aria-label="Forward to the next search"
        >
          →
        </button>
        <button type="button" onClick={() => setPapersOpen(!papersOpen)} aria-expanded={papersOpen} id="papers-toggle">
          Working papers
        </button>
        <button type="button" onClick={() => setHelp(!help)} aria-expanded={help} id="help-toggle">
          Syntax
        </button>
        <button type="button" onClick={() => setChooser(!chooser)} aria-expanded={chooser} id="columns-toggle">
          Columns
        </button>
      </form>
      {queryError && <QueryErrorView query={results.query} error={queryError} />}
      {results.error && !queryError && (
        <div className="banner error" role="alert">
          {results.error.message}
        </div>
      )}
      {help && <QueryHelp onExample={go} />}
      {papersOpen && <PapersPanel papers={papers} query={results.query} onGo={go} onChange={setPapers} />}
      {chooser && (
        <fieldset className="column-chooser" id="column-chooser">
          <legend>Columns</legend>
          {COLUMNS.map((c) => (
            <label key={c.id}>
              <input type="checkbox" checked={chosen.includes(c.id)} onChange={() => toggleColumn(c.id)} /> {c.title}
            </label>
          ))}
        </fieldset>
      )}
      {!queryError && (
        <div className="summary-row">
          <div className="summary" id="match-count" aria-live="polite">
            {results.count === null
              ? results.loading
                ? 'Searching…'
                : ''
              : `${formatCount(results.count)} ${results.count === 1 ? 'match' : 'matches'}`}
            {results.query && <span className="muted small"> for <span className="mono">{results.query}</span></span>}
          </div>
          <span className="spacer" />
          {checked.size > 0 && (
            <span className="small" id="checked-count">
              {formatCount(checked.size)} selected{' '}
              <button className="link" onClick={() => setChecked(new Map())} id="clear-checked">
                clear
              </button>
            </span>
          )}
          <button
            id="export-evidence"
            onClick={() => setExporting(true)}
            disabled={results.loading || results.rows.length === 0}
            title="Write a signed evidence bundle of every match, or of the selected rows"
          >
            Export evidence…
          </button>
          <button
            id="export-results"
            onClick={() => void exportTable()}
            disabled={results.loading || results.rows.length === 0 || table?.kind === 'running'}
            title="Write every match as CSV (or JSON Lines, as .jsonl): the table's columns and each event's provenance, for working papers"
          >
            Export results…
          </button>
          <button
            id="export-analytics"
            onClick={() => void exportAnalytics()}
            disabled={results.loading || results.rows.length === 0 || analytics?.kind === 'running'}
            title="Write every verified match as OCSF Parquet (Security Lake layout) for ClickHouse, Athena or DuckDB, with a signed manifest"
          >
            Export for analytics…
          </button>
        </div>
      )}
      {analytics && <AnalyticsBanner state={analytics} onClose={() => setAnalytics(null)} />}
      {table && <TableBanner state={table} onClose={() => setTable(null)} />}
      {exporting && (
        <ExportDialog
          query={results.query}
          matches={results.count}
          selectedIds={[...checked.keys()]}
          zone={settings.time_zone}
          onClose={() => setExporting(false)}
        />
      )}
      {results.histogram && !queryError && Number(results.count ?? 1) > 0 && (
        <HistogramChart data={results.histogram} zone={settings.time_zone} theme={settings.theme} onRange={narrow} />
      )}
      {Number(db.events) === 0 ? (
        <EmptyState title="No events to search yet" id="search-empty">
          This database holds no event. Import a signed archive first: drop it anywhere on the window.
        </EmptyState>
      ) : !queryError && !results.loading && results.rows.length === 0 && results.count !== null ? (
        <EmptyState title="No event matches this query" id="search-no-match">
          Try fewer terms, a prefix (<span className="mono">kube*</span>) or a wider time range. Open “Syntax” for
          examples.
          <QueryHints query={results.query} onTry={go} />
        </EmptyState>
      ) : (
        !queryError && (
          <ResultsTable
            rows={results.rows}
            tail={results.tail}
            blocks={results.blocks}
            loadBlock={loadBlock}
            total={results.count}
            hasMore={!!results.next}
            loading={results.loading}
            loadMore={loadMore}
            loadTail={loadTail}
            columns={columns}
            zone={settings.time_zone}
            selected={selected}
            onSelect={setSelected}
            onOpen={open}
            checked={checkedSet}
            onCheck={toggleCheck}
            sort={sort ?? { column: 'time', ascending: false }}
            onSort={sortBy}
            widths={settings.column_widths}
            onResize={(column, width) => {
              const next = { ...settings.column_widths };
              if (width == null) delete next[column];
              else next[column] = width;
              updateSettings({ column_widths: next });
            }}
          />
        )
      )}
    </div>
  );
}

/** The working papers beside the search: save the current search, run a saved one, the auditor's tags and
 * annotations as searches, recent searches. */
function PapersPanel({
  papers,
  query,
  onGo,
  onChange,
}: {
  papers: PapersView | null;
  query: string;
  onGo: (q: string) => void;
  onChange: (p: PapersView) => void;
}) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const save = (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    backend.saveSearch(name, query).then(
      (p) => {
        onChange(p);
        setName('');
      },
      (err) => setError(toAppError(err).message),
    );
  };
  const remove = (n: string) =>
    backend.deleteSavedSearch(n).then(onChange, (err) => setError(toAppError(err).message));
  return (
    <div className="papers-panel" id="papers-panel">
      <form className="papers-row" onSubmit={save}>
        <label htmlFor="save-search-name" className="small">
          Save this search as
        </label>
        <input
          id="save-search-name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="name"
          maxLength={120}
          autoComplete="off"
        />
        <button id="save-search" type="submit" disabled={!name.trim()}>
          Save search
        </button>
        <span className="muted small mono">{query || '(every event)'}</span>
      </form>
      {error && (
        <div className="banner error" role="alert" id="papers-panel-error">
          {error}
        </div>
      )}
      {papers && (
        <div className="papers-columns">
          <div>
            <h3>Saved searches</h3>
            {papers.saved_searches.length === 0 && <p className="muted small">None yet.</p>}
            <ul id="saved-searches">
              {papers.saved_searches.map((s) => (
                <li key={s.name}>
                  <button className="link" onClick={() => onGo(s.query)} title={s.query}>
                    {s.name}
                  </button>{' '}
                  <span className="muted small mono">{s.query}</span>{' '}
                  <button className="link" aria-label={`Delete saved search ${s.name}`} onClick={() => void remove(s.name)}>
                    ×
                  </button>
                </li>
              ))}
            </ul>
          </div>
          <div>
            <h3>Your annotations</h3>
            <p>
              <button className="link" id="papers-bookmarked" onClick={() => onGo('has:bookmark')}>
                Bookmarked
              </button>
              {' · '}
              <button className="link" id="papers-noted" onClick={() => onGo('has:note')}>
                With a note
              </button>
            </p>
            <div className="tag-list" id="papers-tag-counts">
              {papers.tags.map((t) => (
                <button key={t.tag} className="tag-chip link" onClick={() => onGo(`tag:${t.tag}`)} data-tag={t.tag}>
                  {t.tag} <span className="muted">{formatCount(t.events)}</span>
                </button>
              ))}
            </div>
          </div>
          <Identities onGo={onGo} />
          <div>
            <h3>Recent searches</h3>
            <ul id="recent-searches">
              {papers.history.map((q) => (
                <li key={q}>
                  <button className="link mono small" onClick={() => onGo(q)}>
                    {q}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        </div>
      )}
    </div>
  );
}

/** Identities: actor values the auditor says are one person (`person:NAME` finds them all), and the values that
 * look like one person (a short name and its ARN or e-mail address), to confirm with one click. */
function Identities({ onGo }: { onGo: (q: string) => void }) {
  const [view, setView] = useState<IdentitiesView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    backend.identities().then(setView, (e) => setError(toAppError(e).message));
  }, []);
  const act = (p: Promise<IdentitiesView>) =>
    p.then(
      (v) => {
        setView(v);
        setError(null);
      },
      (e) => setError(toAppError(e).message),
    );
  const confirm = async (person: string, actors: string[]) => {
    let last: IdentitiesView | null = null;
    try {
      for (const a of actors.filter((a) => a !== person)) last = await backend.setAlias(a, person);
      if (last) setView(last);
    } catch (e) {
      setError(toAppError(e).message);
    }
  };
  const people = new Map<string, string[]>();
  for (const a of view?.aliases ?? []) people.set(a.person, [...(people.get(a.person) ?? []), a.actor]);
  return (
    <div id="identities">
      <h3>Identities</h3>
      {error && <p className="small warn-text">{error}</p>}
      {view && people.size === 0 && view.suggestions.length === 0 && <p className="muted small">No alias yet.</p>}
      <ul id="identity-people">
        {[...people].map(([person, actors]) => (
          <li key={person} data-person={person}>
            <button className="link" onClick={() => onGo(`person:${quoteValue(person)}`)}>
              {safeText(person)}
            </button>
            {actors.map((a) => (
              <span key={a} className="tag-chip small mono">
                {safeText(a)}
                <button className="link" aria-label={`Remove alias ${a}`} onClick={() => void act(backend.removeAlias(a))}>
                  ×
                </button>
              </span>
            ))}
          </li>
        ))}
      </ul>
      {view && view.suggestions.length > 0 && (
        <>
          <p className="small muted">These look like the same person:</p>
          <ul id="identity-suggestions">
            {view.suggestions.map((s) => (
              <li key={s.person} data-person={s.person} title={s.why}>
                <span className="small mono">{s.actors.map(safeText).join(' · ')}</span>{' '}
                <button className="link" onClick={() => void confirm(s.person, s.actors)}>
                  Same person: {safeText(s.person)}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** What near a query that matches nothing does match (docs/search.md section 11), with a button per changed query. */
function QueryHints({ query, onTry }: { query: string; onTry: (q: string) => void }) {
  const [hints, setHints] = useState<Hint[]>([]);
  useEffect(() => {
    let live = true;
    setHints([]);
    backend.hints(query).then(
      (h) => live && setHints(h),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [query]);
  if (hints.length === 0) return null;
  return (
    <ul className="query-hints" id="query-hints">
      {hints.map((h) => (
        <li key={h.message}>
          {safeText(h.message)}
          {h.query != null && (
            <>
              {' '}
              <button className="link" onClick={() => onTry(h.query as string)}>
                Search {safeText(h.query)}
              </button>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

/** Where an export stands: under way (to where), written, or why not. */
type ExportState<T> =
  | { kind: 'running'; out: string }
  | { kind: 'done'; result: T }
  | { kind: 'failed'; message: string }
  | null;

/** Asks where to write (nothing happens when nothing is chosen), writes, and reports each step to `set`. */
async function runExport<T>(
  pick: () => Promise<string | null>,
  write: (out: string) => Promise<T>,
  set: (state: ExportState<T>) => void,
) {
  try {
    const out = await pick();
    if (!out) return;
    set({ kind: 'running', out });
    set({ kind: 'done', result: await write(out) });
  } catch (e) {
    set({ kind: 'failed', message: toAppError(e).message });
  }
}

/** An export's banner: `running` while under way, `done` once written, the reason (as text) on failure. */
function ExportBanner<T>({
  id,
  state,
  running,
  done,
  onClose,
}: {
  id: string;
  state: NonNullable<ExportState<T>>;
  running: (out: string) => ReactNode;
  done: (result: T) => ReactNode;
  onClose: () => void;
}) {
  if (state.kind === 'running') {
    return (
      <div className="banner" role="status" id={id}>
        {running(state.out)}
      </div>
    );
  }
  const ok = state.kind === 'done';
  return (
    <div className={ok ? 'banner good' : 'banner error'} role={ok ? 'status' : 'alert'} id={id}>
      <span className="banner-text">{state.kind === 'done' ? done(state.result) : state.message}</span>
      <button className="link" onClick={onClose}>
        Dismiss
      </button>
    </div>
  );
}

/** Where an "Export results" stands: under way, written (how many events, which form, where), or why not. */
function TableBanner({ state, onClose }: { state: NonNullable<ExportState<ResultsExport>>; onClose: () => void }) {
  return (
    <ExportBanner
      id="results-export-status"
      state={state}
      onClose={onClose}
      running={(out) => (
        <>
          Writing every match to <span className="mono">{out}</span>…
        </>
      )}
      done={(r) => (
        <>
          Wrote {formatCount(r.events)} {Number(r.events) === 1 ? 'event' : 'events'} as{' '}
          {r.format === 'csv' ? 'CSV' : 'JSON Lines'} to <span className="mono">{r.out}</span> (
          {formatBytes(Number(r.bytes))}): the table&apos;s columns and each event&apos;s provenance.
        </>
      )}
    />
  );
}

/** Where an "Export for analytics" stands: under way, written (rows per OCSF class, where), or why not. */
function AnalyticsBanner({ state, onClose }: { state: NonNullable<ExportState<AnalyticsExport>>; onClose: () => void }) {
  return (
    <ExportBanner
      id="analytics-status"
      state={state}
      onClose={onClose}
      running={(out) => (
        <>
          Exporting the verified matches as OCSF Parquet to <span className="mono">{out}</span>…
        </>
      )}
      done={(r) => (
        <>
          Exported {formatCount(r.rows)} verified {Number(r.rows) === 1 ? 'event' : 'events'} as OCSF Parquet to{' '}
          <span className="mono">{r.out}</span>: {formatCount(r.files)} {Number(r.files) === 1 ? 'file' : 'files'} (
          {r.classes.map((c) => `${c.class} ${formatCount(c.rows)}`).join(', ')}), manifest signed by {r.auditor.name}.
          {Number(r.left_out_unverified) > 0 &&
            ` Left out: ${formatCount(r.left_out_unverified)} matching events of archives that are not verified.`}
          {Number(r.left_out_stages) > 0 &&
            ` Left out: ${formatCount(r.left_out_stages)} Kubernetes records at stage RequestReceived or ResponseStarted (a request recorded only at one of them, such as an exec still running, is among them).`}
        </>
      )}
    />
  );
}
