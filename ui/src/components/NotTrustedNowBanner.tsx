// Dashboards other than the Overview say when their figures count archives the database marks verified but this
// app's keyring does not trust now (docs/trust-policy.md section 4): the Overview names them and marks them.

import type { ArchiveNote } from '../backend';
import { useApp } from '../app-context';
import { safeText } from '../format/safeText';

export function NotTrustedNowBanner({ archives, id }: { archives: ArchiveNote[] | undefined; id: string }) {
  const { navigate } = useApp();
  if (!archives || archives.length === 0) return null;
  const n = archives.length;
  return (
    <div className="banner warn not-trusted-now" id={id} role="status" data-archives={n}>
      <div className="banner-text">
        <strong>
          These figures count {n} {n === 1 ? 'archive' : 'archives'} marked verified in this database whose signer
          your keyring does not trust now
        </strong>
        : trust the key, or mark {n === 1 ? 'it' : 'them'} as not trusted on the Overview.
        <ul className="small">
          {archives.map((a) => (
            <li key={a.archive_id}>
              <span className="mono">{safeText(`${a.origin ?? a.path}@${String(a.sequence ?? '?')}`)}</span>
              {a.reason && <span className="muted"> · {safeText(a.reason)}</span>}
            </li>
          ))}
        </ul>
        <div className="actions left">
          <button type="button" onClick={() => navigate({ name: 'overview' })}>
            Open Overview
          </button>
        </div>
      </div>
    </div>
  );
}
