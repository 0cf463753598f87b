// Why something did not verify, as `<dt>`/`<dd>` pairs for a definition list: the verifier's reason, where
// (entry, line, event index) and the expected and found values. Shared by the import results and the archives.
// All of it may quote the archive: hidden characters are made visible.

import { safeText } from '../format/safeText';

/** The fields of a verifier failure, whether reported by an import or stored with a flagged archive. */
export interface FailureLike {
  message: string;
  entry?: string | null;
  line?: number | null;
  event_index?: number | null;
  expected?: string | null;
  found?: string | null;
}

export function FailureFields({ failure: f }: { failure: FailureLike }) {
  const where = [f.entry && `entry ${safeText(f.entry)}`, f.line != null && `line ${f.line}`, f.event_index != null && `event index ${f.event_index}`]
    .filter(Boolean)
    .join(', ');
  return (
    <>
      <dt>Reason</dt>
      <dd className="reason">{safeText(f.message)}</dd>
      {where && (
        <>
          <dt>Where</dt>
          <dd>{where}</dd>
        </>
      )}
      {f.expected && (
        <>
          <dt>Expected</dt>
          <dd className="mono small wrap">{safeText(f.expected)}</dd>
        </>
      )}
      {f.found && (
        <>
          <dt>Found</dt>
          <dd className="mono small wrap">{safeText(f.found)}</dd>
        </>
      )}
    </>
  );
}
