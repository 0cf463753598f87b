// The auditor's working papers on one event: a bookmark, tags and a note. They are the auditor's, not evidence:
// kept next to the database (never in it), searchable (tag:NAME, has:note, has:bookmark), carried by evidence
// bundles as the auditor's signed annotations, and every change goes into the action log. Tags and the note are
// text typed by the auditor, rendered as text.

import { useEffect, useState } from 'react';
import type { KeyboardEvent } from 'react';

import { backend } from '../backend';
import type { Annotations, AppError, Change } from '../backend';

export function EventPapers({ id, onSearch }: { id: string; onSearch: (query: string) => void }) {
  const [papers, setPapers] = useState<Annotations | null>(null);
  const [tag, setTag] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState<AppError | null>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    setPapers(null);
    setError(null);
    setSaved(false);
    backend.annotations(id).then(
      (a) => {
        setPapers(a);
        setNote(a.note ?? '');
      },
      setError,
    );
  }, [id]);

  const apply = (change: Change, then?: () => void) => {
    setError(null);
    backend.annotate(id, change).then(
      (a) => {
        setPapers(a);
        then?.();
      },
      setError,
    );
  };
  const addTag = () => {
    if (tag.trim()) apply({ kind: 'add_tag', tag }, () => setTag(''));
  };
  const onTagKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      addTag();
    }
  };
  const noteChanged = papers !== null && note.trim() !== (papers.note ?? '');

  return (
    <section className="papers" id="event-papers" aria-label="Your working papers">
      <div className="toolbar">
        <h2>Your working papers</h2>
        <span className="spacer" />
        {papers && (
          <button
            id="papers-bookmark"
            aria-pressed={papers.bookmarked}
            onClick={() => apply({ kind: 'set_bookmark', on: !papers.bookmarked })}
            title={papers.bookmarked ? 'Remove the bookmark' : 'Bookmark this event (has:bookmark finds it)'}
          >
            {papers.bookmarked ? '★ Bookmarked' : '☆ Bookmark'}
          </button>
        )}
      </div>
      <p className="muted small">
        Yours, not evidence: kept next to the database, never in it; exported bundles carry them as your signed
        annotations; every change is in the action log.
      </p>
      {error && (
        <div className="banner error" role="alert" id="papers-error">
          {error.message}
        </div>
      )}
      {papers && (
        <>
          <div className="tag-list" id="papers-tags">
            {papers.tags.length === 0 && <span className="muted small">No tags.</span>}
            {papers.tags.map((t) => (
              <span className="tag-chip" key={t} data-tag={t}>
                <button className="link" onClick={() => onSearch(`tag:${t}`)} title={`Search tag:${t}`}>
                  {t}
                </button>
                <button
                  className="link"
                  aria-label={`Remove tag ${t}`}
                  title="Remove this tag"
                  onClick={() => apply({ kind: 'remove_tag', tag: t })}
                >
                  ×
                </button>
              </span>
            ))}
          </div>
          <div className="papers-row">
            <label htmlFor="papers-tag-input" className="visually-hidden">
              New tag
            </label>
            <input
              id="papers-tag-input"
              value={tag}
              onChange={(e) => setTag(e.target.value)}
              onKeyDown={onTagKey}
              placeholder="tag, e.g. finding-3"
              spellCheck={false}
              autoComplete="off"
              maxLength={64}
            />
            <button id="papers-tag-add" onClick={addTag} disabled={!tag.trim()}>
              Add tag
            </button>
          </div>
          <label htmlFor="papers-note" className="small">
            Note
          </label>
          <textarea
            id="papers-note"
            value={note}
            rows={3}
            onChange={(e) => {
              setNote(e.target.value);
              setSaved(false);
            }}
            placeholder="What this event shows, for your working papers"
          />
          <div className="papers-row">
            <button
              id="papers-note-save"
              disabled={!noteChanged}
              onClick={() => apply({ kind: 'set_note', note }, () => setSaved(true))}
            >
              {note.trim() === '' && papers.note ? 'Remove note' : 'Save note'}
            </button>
            {saved && !noteChanged && (
              <span className="small muted" id="papers-note-saved" role="status">
                saved
              </span>
            )}
          </div>
        </>
      )}
    </section>
  );
}
