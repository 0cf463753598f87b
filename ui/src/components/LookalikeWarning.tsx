// Origins that look alike (docs/trust-policy.md, "Untrusted text on terminals and screens"): different origins the
// store holds that differ only in case, Unicode form or invisible characters. Origins are compared exactly, so
// they are different logs; this names them with their hidden characters made visible, for the auditor to ask why.

import type { LookalikeGroup } from '../backend';
import { safeText } from '../format/safeText';

export function LookalikeWarning({ groups, id }: { groups: LookalikeGroup[]; id: string }) {
  if (groups.length === 0) return null;
  return (
    <div className="banner warn lookalikes" id={id} role="status">
      <div className="banner-text">
        <strong>Look-alike origins.</strong> {groups.length === 1 ? 'These origins look' : 'Each group of origins looks'}{' '}
        the same on screen but are different logs (they differ only in case, Unicode form or invisible characters).
        Each is verified and searched as exactly what it says; ask the producer why both exist.
        <ul>
          {groups.map((g) => (
            <li key={g.skeleton} className="lookalike-group">
              {g.origins.map((o, i) => (
                <span key={o}>
                  {i > 0 && ' · '}
                  <span className="mono lookalike-origin">{safeText(o)}</span>
                </span>
              ))}
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}
