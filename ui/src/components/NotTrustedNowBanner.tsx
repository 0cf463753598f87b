// Dashboards other than the Overview say when their figures count archives the database marks verified but this
// app's keyring does not trust now (docs/trust-policy.md section 4): the Overview names them and marks them.

import type { ArchiveNote } from '../backend';
import { useApp } from '../app-context';
import { ArchiveNoteList } from './ProducerRulesBanner';

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
        <ArchiveNoteList archives={archives} />
        <div className="actions left">
          <button type="button" onClick={() => navigate({ name: 'overview' })}>
            Open Overview
          </button>
        </div>
      </div>
    </div>
  );
}
