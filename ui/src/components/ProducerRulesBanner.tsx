// Dashboards say when producer rules are in effect (docs/sources.md, "Whose rules"): the fields of archives
// normalized by the producer's own mapping file are what the producer says a denial or a deployment is.

import type { ArchiveNote } from '../backend';
import { safeText } from '../format/safeText';

/** Archives named as `origin@sequence` (the file's path when it has no origin), each with its reason, as text. */
export function ArchiveNoteList({ archives }: { archives: ArchiveNote[] }) {
  return (
    <ul className="small">
      {archives.map((a) => (
        <li key={a.archive_id}>
          <span className="mono">{safeText(`${a.origin ?? a.path}@${String(a.sequence ?? '?')}`)}</span>
          {a.reason && <span className="muted"> · {safeText(a.reason)}</span>}
        </li>
      ))}
    </ul>
  );
}

export function ProducerRulesBanner({ archives, id }: { archives: ArchiveNote[]; id: string }) {
  if (archives.length === 0) return null;
  const n = archives.length;
  return (
    <div className="banner warn producer-rules" id={id} role="status" data-archives={n}>
      <div className="banner-text">
        <strong>
          Fields of {n} {n === 1 ? 'archive' : 'archives'} come from the producer's mapping file
        </strong>
        : their outcome, category and other fields (what counts as denied, a deployment, privileged access) follow the
        rules the producer signed, not AuditLens's. Re-normalize them with a built-in mapper on the Archives screen.
        <ArchiveNoteList archives={archives} />
      </div>
    </div>
  );
}
