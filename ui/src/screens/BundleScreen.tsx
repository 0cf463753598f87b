// Received bundle: an evidence bundle someone sent, verified on its own against the keyring (producer keys) and
// shown read-only. It is never imported: nothing here touches the database or the imported archives. Everything a
// bundle holds is attacker-controlled text and is rendered as text nodes only.

import { useEffect, useRef, useState } from 'react';
import type { FormEvent } from 'react';

import { backend } from '../backend';
import type { BundleEvent, BundleKey, OpenedBundle, TimeZoneChoice } from '../backend';
import { useApp } from '../app-context';
import { reindentJson } from '../format/json';
import { formatCount } from '../format/numbers';
import { safeText } from '../format/safeText';
import { formatTime } from '../format/time';

/** Events rendered at first (more on request). */
const SHOWN = 200;

export function BundleScreen() {
  const { settings, bundleRequest } = useApp();
  const [path, setPath] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [bundle, setBundle] = useState<OpenedBundle | null>(null);

  const verify = async (target: string) => {
    if (!target.trim()) return;
    setBusy(true);
    setError(null);
    setBundle(null);
    try {
      setBundle(await backend.openBundle(target.trim()));
    } catch (e) {
      setError((e as { message: string }).message);
    } finally {
      setBusy(false);
    }
  };
  // A bundle dropped on the window (or picked to import, or given on the command line) opens here, verified.
  const handled = useRef(0);
  useEffect(() => {
    if (!bundleRequest || bundleRequest.seq === handled.current) return;
    handled.current = bundleRequest.seq;
    setPath(bundleRequest.path);
    void verify(bundleRequest.path);
  }, [bundleRequest]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void verify(path);
  };
  const choose = async () => {
    try {
      const p = await backend.pickBundle();
      if (!p) return;
      setPath(p);
      await verify(p);
    } catch (e) {
      setError((e as { message: string }).message);
    }
  };

  return (
    <div className="bundle-screen" id="bundle-screen">
      <h1>Received evidence bundle</h1>
      <p className="muted">
        Check a bundle someone sent you, on its own: every event against its producer's signed checkpoint (producer
        keys from your keyring) and the whole bundle against the exporting auditor's signature. It is{' '}
        <strong>not imported</strong>: its events are not added to your database or to the imported archives.
      </p>
      <form className="inline-form" onSubmit={submit}>
        <label htmlFor="bundle-path">Bundle</label>
        <input
          id="bundle-path"
          className="mono grow"
          value={path}
          onChange={(e) => setPath(e.target.value)}
          placeholder="/path/to/evidence.zip"
          spellCheck={false}
          autoComplete="off"
        />
        <button type="button" onClick={choose} id="bundle-choose">
          Choose…
        </button>
        <button type="submit" className="primary" disabled={busy || path.trim() === ''} id="bundle-verify">
          {busy ? 'Verifying…' : 'Verify'}
        </button>
      </form>
      {error && (
        <div className="banner error" role="alert" id="bundle-error">
          {error}
        </div>
      )}
      {bundle && <BundleView bundle={bundle} zone={settings.time_zone} />}
    </div>
  );
}

function keyBadge(k: BundleKey, auditor: boolean, verdict: OpenedBundle['verdict'], aws = false) {
  // A key a failed bundle names is only a name: nothing it signed verified, so no green badge vouches for it.
  if (verdict === 'failed' && (k.yours || k.trusted)) {
    return (
      <span className="badge warn small key-named-only">
        {k.yours ? 'names your auditor key' : 'names a key in your keyring'}, but the bundle did not verify
      </span>
    );
  }
  if (k.yours) return <span className="badge good small">your auditor key</span>;
  if (k.trusted) return <span className="badge good small">{aws ? 'AWS key you kept' : 'in your keyring'}</span>;
  if (aws) return <span className="badge warn small">NOT TRUSTED: not an AWS key you kept at import</span>;
  return (
    <span className="badge warn small">
      {auditor ? 'not in your keyring: compare the fingerprint' : 'NOT TRUSTED'}
    </span>
  );
}

function BundleView({ bundle: b, zone }: { bundle: OpenedBundle; zone: TimeZoneChoice }) {
  const [shown, setShown] = useState(SHOWN);
  const f = b.failure;
  const where = f ? [f.entry && `entry ${f.entry}`, f.line != null && `line ${f.line}`, f.event && `event ${f.event}`].filter(Boolean).join(', ') : '';
  // Events of archives sealed on receipt (docs/archive-format.md section 4.1) are never shown as just verified: their
  // signature is the receiver's, and proves no change since receipt, not authenticity at the source.
  const received = b.archives.filter((a) => a.received_label != null);
  const receivedEvents = received.reduce((n, a) => n + a.events, 0);
  const total = b.archives.reduce((n, a) => n + a.events, 0);
  const awsEvents = b.archives.filter((a) => a.cloudtrail_label != null).reduce((n, a) => n + a.events, 0);
  return (
    <div className="bundle-view" data-verdict={b.verdict}>
      {b.verdict === 'verified' ? (
        <div className={`banner ${receivedEvents > 0 ? 'warn' : 'good'} verdict`} role="status" id="bundle-verdict">
          {receivedEvents === 0 ? (
            <strong>
              <span className="badge good">Verified</span> Every event is exactly what its producer signed, by a key{' '}
              {awsEvents > 0 ? 'you trust (your keyring, or the AWS keys you kept at import)' : 'in your keyring'}, the
              reports say exactly what the events say, and the auditor's signature covers the whole bundle.
            </strong>
          ) : (
            <strong id="bundle-receipt">
              <span className="badge warn">Sealed on receipt</span>{' '}
              {receivedEvents === total
                ? `All ${formatCount(total)} ${total === 1 ? 'event is' : 'events are'} only sealed on receipt`
                : `${formatCount(total - receivedEvents)} of ${formatCount(total)} events are exactly what their producer signed; ${formatCount(receivedEvents)} ${receivedEvents === 1 ? 'is' : 'are'} only sealed on receipt`}
              : signed by whoever received the files, which proves no change since receipt, not authenticity at the
              source. Every signature is by a key in your keyring, the reports say exactly what the events say, and the
              auditor's signature covers the whole bundle.
            </strong>
          )}
          {awsEvents > 0 && (
            <p className="small" id="bundle-cloudtrail">
              {formatCount(awsEvents)} {awsEvents === 1 ? 'event is a record' : 'events are records'} of AWS CloudTrail
              log files carried whole in the bundle, whose SHA-256 AWS's signed digests list, verified with the AWS keys
              you kept at import.
            </p>
          )}
          {b.auditor && !b.auditor.trusted && (
            <p className="small" id="bundle-auditor-untrusted">
              Exported by an auditor key that is not in your keyring ({b.auditor.name}, {b.auditor.fingerprint}):
              anyone can make such a key. Who selected these events, and why, rests on that key alone; compare its
              fingerprint with the auditor before relying on it.
            </p>
          )}
        </div>
      ) : (
        <div className={`banner ${b.verdict === 'failed' ? 'error' : 'warn'} verdict`} role="alert" id="bundle-verdict">
          <strong>
            <span className={b.verdict === 'failed' ? 'badge bad' : 'badge warn'}>
              {b.verdict === 'failed' ? 'NOT VERIFIED' : 'Intact, key not trusted'}
            </span>{' '}
            <span id="bundle-reason">{f?.message ?? 'not verified'}</span>
          </strong>
          {f && (
            <dl className="fields compact" id="bundle-failure">
              <dt>Check</dt>
              <dd className="mono">{f.kind}</dd>
              {where && (
                <>
                  <dt>Where</dt>
                  <dd className="mono wrap">{where}</dd>
                </>
              )}
              {f.expected != null && (
                <>
                  <dt>Expected</dt>
                  <dd className="mono wrap">{f.expected}</dd>
                </>
              )}
              {f.found != null && (
                <>
                  <dt>Found</dt>
                  <dd className="mono wrap">{f.found}</dd>
                </>
              )}
            </dl>
          )}
          {b.verdict === 'untrusted' && (
            <p className="small">
              The bundle is intact. Trust the producer's key (Keyring screen) only after checking its fingerprint with
              its owner.
            </p>
          )}
          {b.verdict === 'failed' && (
            <p className="small">Do not rely on anything this bundle says; its events are not shown.</p>
          )}
        </div>
      )}

      <h2>Who exported it, when and why</h2>
      <dl className="fields" id="bundle-custody">
        <dt>File</dt>
        <dd className="mono wrap">{b.path}</dd>
        <dt>SHA-256</dt>
        <dd className="mono small wrap" id="bundle-sha256">{b.sha256}</dd>
        <dt>Auditor</dt>
        <dd id="bundle-auditor">
          {b.auditor ? (
            <>
              <span className="mono">{b.auditor.name}</span>{' '}
              <span className="mono fingerprint-inline">{b.auditor.fingerprint}</span> {keyBadge(b.auditor, true, b.verdict)}
            </>
          ) : (
            <span className="reason">unknown: the auditor's signature did not verify</span>
          )}
        </dd>
        <dt>Exported</dt>
        <dd className="mono" id="bundle-exported">
          {b.exported ? formatTime(b.exported, zone, 0) : '—'}
          {b.tool && <span className="muted"> with {b.tool}</span>}
        </dd>
        <dt>Purpose</dt>
        <dd className="pre-text" id="bundle-purpose">
          {b.purpose ?? '—'}
        </dd>
        <dt>Selection</dt>
        <dd id="bundle-selection">
          {b.query != null ? (
            <>
              every match of the query <span className="mono">{b.query || '(empty)'}</span>
            </>
          ) : b.ids ? (
            <>
              {formatCount(b.ids.length)} listed event {b.ids.length === 1 ? 'id' : 'ids'}:{' '}
              <span className="mono small wrap">{b.ids.slice(0, 20).join(', ')}</span>
              {b.ids.length > 20 && <span className="muted"> … and {formatCount(b.ids.length - 20)} more</span>}
            </>
          ) : (
            '—'
          )}
        </dd>
        {b.first && b.last && (
          <>
            <dt>Time range</dt>
            <dd className="mono">
              {formatTime(b.first, zone, 0)} – {formatTime(b.last, zone, 0)}
            </dd>
          </>
        )}
      </dl>

      {b.archives.length > 0 && (
        <>
          <h2>Archives</h2>
          <table className="table compact" id="bundle-archives">
            <thead>
              <tr>
                <th>Origin</th>
                <th className="num">Sequence</th>
                <th className="num">Events here / in archive</th>
                <th>Producer key (or receiver, when sealed on receipt)</th>
              </tr>
            </thead>
            <tbody>
              {b.archives.map((a) => (
                <tr key={`${a.origin}@${a.sequence}`}>
                  <td className="mono">{a.origin}</td>
                  <td className="num">{a.sequence}</td>
                  <td className="num">
                    {formatCount(a.events)} / {formatCount(a.size)}
                  </td>
                  <td>
                    <span className="mono">{a.signer.name}</span>{' '}
                    <span className="mono small">{a.signer.fingerprint}</span> {keyBadge(a.signer, false, b.verdict, a.cloudtrail_label != null)}
                    {a.received_label != null && (
                      <div className="small received-label" data-received="true">
                        <span className="badge warn small">sealed on receipt</span> {safeText(a.received_label)}
                      </div>
                    )}
                    {a.cloudtrail_label != null && (
                      <div className="small cloudtrail-label" data-cloudtrail="true">
                        <span className="badge good small">AWS CloudTrail</span> {safeText(a.cloudtrail_label)}
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}

      {b.verdict !== 'failed' && b.annotations && (
        <section className="papers" id="bundle-annotations" aria-label="The auditor's annotations">
          <h2>
            The auditor&apos;s annotations <span className="badge warn">not evidence</span>
          </h2>
          <p className="small" id="bundle-annotations-statement">
            {safeText(b.annotations.statement)}
            {b.annotations.action_log && (
              <>
                {' '}
                Their action log held {formatCount(b.annotations.action_log.entries)} entries at export, head{' '}
                <span className="mono small">{b.annotations.action_log.head}</span>.
              </>
            )}
          </p>
          <table className="table">
            <thead>
              <tr>
                <th>Event</th>
                <th>Tags</th>
                <th>Note</th>
                <th>Bookmarked</th>
              </tr>
            </thead>
            <tbody>
              {b.annotations.events.map((a) => (
                <tr key={a.event} data-event-id={a.event}>
                  <td className="mono small wrap">{safeText(a.event)}</td>
                  <td>
                    {a.tags.map((t) => (
                      <span className="tag-chip" key={t}>
                        {safeText(t)}
                      </span>
                    ))}
                  </td>
                  <td className="small wrap pre-line">{a.note == null ? '—' : safeText(a.note)}</td>
                  <td>{a.bookmarked ? 'yes' : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}

      {b.verdict !== 'failed' && (
        <>
          <h2>
            Events <span className="muted small">({formatCount(b.events_total)}, read-only: shown from the bundle, not stored)</span>
          </h2>
          <ol className="bundle-events" id="bundle-events">
            {b.events.slice(0, shown).map((e) => (
              <EventItem key={e.position} event={e} zone={zone} />
            ))}
          </ol>
          {b.events.length > shown && (
            <button onClick={() => setShown(shown + SHOWN)} id="bundle-more">
              Show {formatCount(Math.min(SHOWN, b.events.length - shown))} more of {formatCount(b.events.length - shown)}
            </button>
          )}
        </>
      )}
    </div>
  );
}

function EventItem({ event: e, zone }: { event: BundleEvent; zone: TimeZoneChoice }) {
  const [open, setOpen] = useState(false);
  return (
    <li className="bundle-event" data-event-id={e.id}>
      <button className="bundle-event-head" onClick={() => setOpen(!open)} aria-expanded={open}>
        <span className="mono small">{formatTime(e.time, zone, 0) || 'no time'}</span>
        <span className="clip">{e.actor ?? '—'}</span>
        <span className="clip">{e.action ?? '—'}</span>
        <span className="clip">{e.resource ?? ''}</span>
        <span>{e.outcome ?? ''}</span>
        {e.received_label != null && <span className="badge warn small">sealed on receipt</span>}
        {e.cloudtrail_label != null && <span className="badge good small">AWS CloudTrail</span>}
      </button>
      {open && (
        <div className="bundle-event-body">
          <dl className="fields compact">
            <dt>Id</dt>
            <dd className="mono wrap">{e.id}</dd>
            <dt>Leaf hash</dt>
            <dd className="mono small wrap">{e.leaf}</dd>
            {e.received_label != null && (
              <>
                <dt>Evidence</dt>
                <dd className="wrap received-label">{safeText(e.received_label)}</dd>
              </>
            )}
            {e.cloudtrail_label != null && (
              <>
                <dt>Evidence</dt>
                <dd className="wrap cloudtrail-label">{safeText(e.cloudtrail_label)}</dd>
              </>
            )}
          </dl>
          <pre className="code raw">{reindentJson(e.text)}</pre>
        </div>
      )}
    </li>
  );
}
