// The result list: a virtualized grid (only the visible rows exist in the page) that asks for the next page of
// matches when the user scrolls near the end of what is loaded (keyset paging), so it stays smooth at a million
// matches. Keyboard: arrows, Page Up/Down, Home/End move the selection; Enter opens the event; Space ticks the
// row (ticked rows can be exported as evidence).

import { memo, useEffect, useRef, useState } from 'react';
import type { KeyboardEvent, MouseEvent as ReactMouseEvent } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';

import type { EventRow, Sort, SortColumn, TimeZoneChoice } from '../backend';
import { formatTime, zoneLabel } from '../format/time';
import { safeText } from '../format/safeText';
import { RECEIPT_MEANING } from './ReceiveDialog';

export const ROW_HEIGHT = 30;

/** The tooltip of the "sealed on receipt" badge: what that seal proves, and what it does not. */
const RECEIPT_TITLE = `Sealed on receipt by the auditor's key: ${RECEIPT_MEANING}`;
/** The tooltip of the "signed by AWS CloudTrail" badge: an event of a CloudTrail export verified with AWS's own
 * signatures (docs/cloudtrail.md section 5), not with an AuditLens signature. */
const AWS_TITLE = "Signed by AWS CloudTrail: its log file's SHA-256 checked against AWS's signed hourly digest";

/** Whether a verified event is CloudTrail evidence, verified with AWS's signatures. */
const awsSigned = (r: EventRow) => r.verified && !r.received && r.evidence === 'aws-cloudtrail';

export interface Column {
  id: string;
  title: string;
  width: string;
  value: (row: EventRow, zone: TimeZoneChoice) => string;
}

// Every value comes from an archive: hidden characters are made visible.
const text = (v: string | null | undefined) => safeText(v);

export const COLUMNS: Column[] = [
  { id: 'time', title: 'Time', width: 'minmax(18.5rem, 1.2fr)', value: (r, z) => formatTime(r.time, z) },
  { id: 'source', title: 'Source', width: '6rem', value: (r) => text(r.source) },
  { id: 'origin', title: 'Origin', width: 'minmax(10rem, 1fr)', value: (r) => text(r.origin) },
  { id: 'actor', title: 'Actor', width: 'minmax(10rem, 1fr)', value: (r) => text(r.actor) },
  { id: 'action', title: 'Action', width: 'minmax(8rem, 1fr)', value: (r) => text(r.action) },
  { id: 'resource', title: 'Resource', width: 'minmax(10rem, 1.5fr)', value: (r) => text(r.resource) },
  { id: 'outcome', title: 'Outcome', width: '6.5rem', value: (r) => text(r.outcome) },
  { id: 'category', title: 'Category', width: '7rem', value: (r) => text(r.category) },
  { id: 'ip', title: 'IP', width: '8rem', value: (r) => text(r.ip) },
  { id: 'agent', title: 'Agent', width: 'minmax(8rem, 1fr)', value: (r) => text(r.agent) },
  { id: 'env', title: 'Env', width: 'minmax(6rem, 0.7fr)', value: (r) => text(r.env) },
  { id: 'stage', title: 'Stage', width: '8rem', value: (r) => text(r.stage) },
  { id: 'privilege', title: 'Privilege', width: '6.5rem', value: (r) => text(r.privilege) },
  { id: 'archive', title: 'Archive', width: 'minmax(10rem, 1fr)', value: (r) => safeText(r.archive) },
  { id: 'index', title: 'Index', width: '5rem', value: (r) => String(r.index) },
  // An event whose verified bytes are not a JSON object the parser reads also gets a "not parsed" badge here. An
  // event sealed on receipt (docs/archive-format.md section 4.1) is never called just "verified"; an event of an AWS
  // CloudTrail export says whose signature verified it.
  {
    id: 'verified',
    title: 'Verified',
    width: '12.5rem',
    value: (r) =>
      !r.verified ? 'NOT VERIFIED' : r.received ? 'sealed on receipt' : awsSigned(r) ? 'signed by AWS CloudTrail' : 'verified',
  },
];

/** Columns whose long values (ARNs, paths, user agents) are cut in the middle, keeping their end in sight. */
const MIDDLE = new Set(['origin', 'actor', 'resource', 'agent', 'archive', 'env']);
/** Characters of a long value kept at its end. */
const TAIL = 14;
/** The narrowest and widest a column can be dragged to, in pixels. */
export const MIN_WIDTH = 48;
export const MAX_WIDTH = 1600;

/** A long value cut in the middle by CSS alone (no measuring, no per-row layout work): its head ends in an
 * ellipsis when the cell is too narrow, its last characters always show; the cell's title has the whole value. */
function Middle({ value }: { value: string }) {
  if (value.length <= TAIL * 2) return <>{value}</>;
  return (
    <span className="middle">
      <span className="middle-head">{value.slice(0, -TAIL)}</span>
      <span className="middle-tail">{value.slice(-TAIL)}</span>
    </span>
  );
}

/** The columns the results can be sorted by (the library's `SortColumn`). */
export const SORTABLE = ['time', 'actor', 'action', 'resource', 'outcome', 'source'] as const;

export const DEFAULT_COLUMNS = ['time', 'source', 'actor', 'action', 'resource', 'outcome', 'verified'];

interface RowHandlers {
  onSelect: (index: number) => void;
  onOpen: (row: EventRow) => void;
  onCheck?: (row: EventRow) => void;
}

/** One result row. Memoized: while the list scrolls only the rows entering the window render (a row's cells,
 * times formatted included, are not redone for every frame); the handlers come through a ref that never changes. */
const Row = memo(function Row({
  row,
  index,
  start,
  selected,
  template,
  columns,
  zone,
  ticks,
  checked,
  handlers,
}: {
  row: EventRow;
  index: number;
  start: number;
  selected: boolean;
  template: string;
  columns: Column[];
  zone: TimeZoneChoice;
  ticks: boolean;
  checked: boolean;
  handlers: { readonly current: RowHandlers };
}) {
  return (
    <div
      id={`row-${index}`}
      role="row"
      aria-selected={selected}
      className={`grid-row${selected ? ' selected' : ''}${row.verified ? '' : ' unverified'}${
        row.parse_error != null ? ' unparsed' : ''
      }`}
      style={{ transform: `translateY(${start}px)`, height: ROW_HEIGHT, gridTemplateColumns: template }}
      onClick={() => handlers.current.onSelect(index)}
      onDoubleClick={() => handlers.current.onOpen(row)}
      data-event-id={row.id}
    >
      {ticks && (
        <div role="gridcell" className="cell tick">
          <input
            type="checkbox"
            className="row-check"
            aria-label={`Select ${row.id}`}
            checked={checked}
            onChange={() => handlers.current.onCheck?.(row)}
            onClick={(e) => e.stopPropagation()}
            onDoubleClick={(e) => e.stopPropagation()}
            tabIndex={-1}
          />
        </div>
      )}
      {columns.map((c) => {
        const v = c.value(row, zone);
        return (
          <div
            role="gridcell"
            key={c.id}
            className={`cell col-${c.id}`}
            title={
              c.id === 'verified' && row.verified && row.received ? RECEIPT_TITLE : c.id === 'verified' && awsSigned(row) ? AWS_TITLE : v
            }
          >
            {c.id === 'verified' ? (
              <>
                {row.verified && row.received ? (
                  <span className="badge receipt small" title={RECEIPT_TITLE}>
                    {v}
                  </span>
                ) : awsSigned(row) ? (
                  <span className="badge good small aws-cloudtrail" title={AWS_TITLE}>
                    {v}
                  </span>
                ) : (
                  <span className={row.verified ? 'badge good small' : 'badge bad small'}>{v}</span>
                )}
                {row.parse_error != null && (
                  <>
                    {' '}
                    <span className="badge warn small not-parsed" title={`Not parsed: ${row.parse_error}`}>
                      not parsed
                    </span>
                  </>
                )}
              </>
            ) : MIDDLE.has(c.id) ? (
              <Middle value={v} />
            ) : (
              v
            )}
          </div>
        );
      })}
    </div>
  );
});

/** Matches per block read by its offset (the app's page). */
export const BLOCK = 500;
/** How long the visible rows must stay in a gap before their blocks are read (a scrollbar being dragged passes
 * over many blocks it does not stop at). */
const SETTLE_MS = 60;

export function ResultsTable({
  rows,
  tail,
  blocks,
  loadBlock,
  total,
  hasMore,
  loading,
  loadMore,
  loadTail,
  columns,
  zone,
  selected,
  onSelect,
  onOpen,
  checked,
  onCheck,
  sort,
  onSort,
  widths,
  onResize,
}: {
  /** The matches from the first, in order. */
  rows: EventRow[];
  /** The matches read from the last backward (End), last first; with `total`, the rows between them and
   * `rows` are placeholders until loaded from the nearer side. */
  tail?: EventRow[];
  /** Blocks of matches read by their offset: block b holds those from position b × BLOCK on. */
  blocks?: Readonly<Record<number, EventRow[]>>;
  /** Reads a block by its offset. With it and `total`, the list has every match's row from the start (the
   * scrollbar spans them all) and rows far from both loaded ends are read where they are shown. */
  loadBlock?: (block: number) => void;
  /** How many matches there are (null: not counted yet). */
  total?: number | null;
  hasMore: boolean;
  loading: boolean;
  /** Loads the next matches after `rows` (at least a page; `size` to reach a row far ahead). */
  loadMore: (size?: number) => void;
  /** Loads matches before `tail` (the last page first), `size` as for `loadMore`. Without it End loads no tail. */
  loadTail?: (size?: number) => void;
  columns: Column[];
  zone: TimeZoneChoice;
  selected: number;
  onSelect: (index: number) => void;
  onOpen: (row: EventRow) => void;
  /** Ids of the ticked rows; with `onCheck`, a tick box starts each row. */
  checked?: ReadonlySet<string>;
  onCheck?: (row: EventRow) => void;
  /** The order shown; with `onSort`, the headers of sortable columns sort by them. */
  sort?: Sort;
  onSort?: (column: SortColumn) => void;
  /** Column widths the user chose, in pixels, by column id; with `onResize`, headers have a drag handle. */
  widths?: Readonly<Record<string, number>>;
  /** A column's new width (null: back to its natural width), once a drag ends. */
  onResize?: (column: string, width: number | null) => void;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  // With rows read from the end, the list is every match: the first rows, a gap not loaded yet, the last rows.
  const tailRows = tail ?? [];
  const gapped = (tailRows.length > 0 || !!loadBlock) && total != null && hasMore;
  const gap = gapped ? Math.max(0, total - rows.length - tailRows.length) : 0;
  const length = gapped ? rows.length + gap + tailRows.length : rows.length;
  const rowAt = (i: number): EventRow | undefined =>
    i < rows.length
      ? rows[i]
      : gapped && i >= rows.length + gap
        ? tailRows[length - 1 - i]
        : gapped
          ? blocks?.[Math.floor(i / BLOCK)]?.[i % BLOCK]
          : undefined;
  const virtualizer = useVirtualizer({
    count: gapped ? length : rows.length + (hasMore ? 1 : 0),
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 20,
  });
  const items = virtualizer.getVirtualItems();
  const firstIndex = items.length > 0 ? items[0].index : -1;
  const lastIndex = items.length > 0 ? items[items.length - 1].index : -1;

  // Near the end of what is loaded: ask for the next page. In a gap (after End, or a scrollbar dragged into
  // it): within a block of either loaded end, load toward the rows shown from that side; farther, read the
  // blocks shown by their offset once the scrolling settles (without `loadBlock`: from the nearer side, as many
  // as reach them).
  useEffect(() => {
    if (loading || !hasMore) return;
    if (!gapped) {
      if (lastIndex >= rows.length - 60) loadMore();
      return;
    }
    const gapStart = rows.length;
    const gapEnd = rows.length + gap;
    if (gap === 0 || lastIndex < gapStart - 60 || firstIndex >= gapEnd + 60) return;
    const fromStart = firstIndex - gapStart;
    const fromEnd = gapEnd - 1 - lastIndex;
    if (!loadBlock) {
      if (fromStart <= fromEnd || !loadTail) loadMore(lastIndex - gapStart + 60);
      else loadTail(gapEnd - firstIndex + 60);
      return;
    }
    if (fromStart < BLOCK) {
      loadMore(lastIndex - gapStart + 60);
      return;
    }
    if (fromEnd < BLOCK && loadTail) {
      loadTail(gapEnd - firstIndex + 60);
      return;
    }
    const first = Math.floor(Math.max(firstIndex, gapStart) / BLOCK);
    const last = Math.floor(Math.min(lastIndex, gapEnd - 1) / BLOCK);
    const missing: number[] = [];
    for (let b = first; b <= last; b++) if (!blocks?.[b]) missing.push(b);
    if (missing.length === 0) return;
    const timer = setTimeout(() => missing.forEach((b) => loadBlock(b)), SETTLE_MS);
    return () => clearTimeout(timer);
  }, [firstIndex, lastIndex, rows.length, gap, gapped, hasMore, loading, loadMore, loadTail, loadBlock, blocks]);

  const ticks = !!checked && !!onCheck;
  const handlers = useRef<RowHandlers>({ onSelect, onOpen, onCheck });
  handlers.current = { onSelect, onOpen, onCheck };
  // While a handle is dragged, the width follows the pointer here; it is saved when the drag ends.
  const [dragging, setDragging] = useState<{ id: string; width: number } | null>(null);
  const widthOf = (c: Column) => {
    const px = dragging?.id === c.id ? dragging.width : widths?.[c.id];
    return px ? `${px}px` : c.width;
  };
  const template = (ticks ? '2.2rem ' : '') + columns.map(widthOf).join(' ');
  const startResize = (e: ReactMouseEvent<HTMLSpanElement>, id: string) => {
    e.preventDefault();
    e.stopPropagation();
    const cell = (e.currentTarget.parentElement as HTMLElement).getBoundingClientRect();
    const x0 = e.clientX;
    const clamp = (w: number) => Math.round(Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, w)));
    let width = clamp(cell.width);
    setDragging({ id, width });
    const onMove = (m: MouseEvent) => {
      width = clamp(cell.width + m.clientX - x0);
      setDragging({ id, width });
    };
    const onUp = () => {
      window.removeEventListener('mousemove', onMove);
      window.removeEventListener('mouseup', onUp);
      setDragging(null);
      onResize?.(id, width);
    };
    window.addEventListener('mousemove', onMove);
    window.addEventListener('mouseup', onUp);
  };
  const keyResize = (e: KeyboardEvent<HTMLSpanElement>, id: string) => {
    const cell = (e.currentTarget.parentElement as HTMLElement).getBoundingClientRect().width;
    const by = e.key === 'ArrowLeft' ? -16 : e.key === 'ArrowRight' ? 16 : 0;
    if (by !== 0) {
      e.preventDefault();
      e.stopPropagation();
      onResize?.(id, Math.round(Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, cell + by))));
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault();
      onResize?.(id, null);
    }
  };
  const pageRows = Math.max(1, Math.floor((scroller.current?.clientHeight ?? 600) / ROW_HEIGHT) - 1);
  const move = (to: number) => {
    const i = Math.max(0, Math.min(length - 1, to));
    onSelect(i);
    virtualizer.scrollToIndex(i, { align: 'auto' });
  };
  // End with matches still to load: read the last page from the end, then select the last row.
  const [toEnd, setToEnd] = useState(false);
  useEffect(() => {
    if (toEnd && (gapped || !hasMore) && !loading && length > 0) {
      setToEnd(false);
      onSelect(length - 1);
      virtualizer.scrollToIndex(length - 1, { align: 'end' });
    }
  }, [toEnd, gapped, hasMore, loading, length, onSelect, virtualizer]);
  const onKeyDown = (e: KeyboardEvent) => {
    const keys: Record<string, () => void> = {
      ArrowDown: () => move(selected + 1),
      ArrowUp: () => move(selected - 1),
      PageDown: () => move(selected + pageRows),
      PageUp: () => move(selected - pageRows),
      Home: () => move(0),
      End: () => {
        if (hasMore && tailRows.length === 0 && loadTail && total != null) {
          setToEnd(true);
          loadTail();
        } else if (hasMore && !gapped) {
          // Not counted yet: what is loaded, then the next page.
          move(rows.length - 1);
          loadMore();
        } else move(length - 1);
      },
      Enter: () => {
        const row = rowAt(selected);
        if (row) onOpen(row);
      },
      ' ': () => {
        const row = rowAt(selected);
        if (ticks && row) onCheck(row);
      },
    };
    const action = keys[e.key];
    if (action) {
      e.preventDefault();
      action();
    }
  };

  return (
    <div className="grid" role="grid" aria-rowcount={length} aria-label="Matching events" id="results">
      <div className="grid-head" role="row" style={{ gridTemplateColumns: template }}>
        {ticks && (
          <div role="columnheader" className="cell head tick" title="Tick rows to export them as evidence">
            <span className="visually-hidden">Selected</span>✓
          </div>
        )}
        {columns.map((c) => {
          const title = c.id === 'time' ? `Time (${zoneLabel(zone)})` : c.title;
          const sortable = onSort && (SORTABLE as readonly string[]).includes(c.id);
          const current = sort && sort.column === c.id;
          const arrow = current ? (sort.ascending ? ' ↑' : ' ↓') : '';
          return (
            <div
              role="columnheader"
              key={c.id}
              className="cell head"
              aria-sort={current ? (sort.ascending ? 'ascending' : 'descending') : undefined}
            >
              {onResize && (
                <span
                  className="col-resize"
                  role="separator"
                  aria-orientation="vertical"
                  aria-label={`Resize the ${c.title} column (drag, or ←/→; Delete for its natural width)`}
                  title="Drag to resize; double-click for the natural width"
                  tabIndex={0}
                  data-column={c.id}
                  onMouseDown={(e) => startResize(e, c.id)}
                  onDoubleClick={() => onResize(c.id, null)}
                  onKeyDown={(e) => keyResize(e, c.id)}
                />
              )}
              {sortable ? (
                <button
                  className="sort-head"
                  data-column={c.id}
                  onClick={() => onSort(c.id as SortColumn)}
                  title={`Sort by ${c.title.toLowerCase()}${current ? ' (click again to reverse)' : ''}`}
                >
                  {title}
                  {arrow}
                </button>
              ) : (
                <>
                  {title}
                  {arrow}
                </>
              )}
            </div>
          );
        })}
      </div>
      <div
        className="grid-body"
        ref={scroller}
        tabIndex={0}
        onKeyDown={onKeyDown}
        aria-activedescendant={rowAt(selected) ? `row-${selected}` : undefined}
        id="results-body"
      >
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map((item) => {
            const row = rowAt(item.index);
            if (!row) {
              return (
                <div
                  key={gapped ? `gap-${item.index}` : 'loader'}
                  className="grid-row loader"
                  style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}
                >
                  Loading more matches…
                </div>
              );
            }
            return (
              <Row
                key={row.id}
                row={row}
                index={item.index}
                start={item.start}
                selected={item.index === selected}
                template={template}
                columns={columns}
                zone={zone}
                ticks={ticks}
                checked={ticks && checked.has(row.id)}
                handlers={handlers}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
}
