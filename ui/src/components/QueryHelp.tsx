// Syntax help for the search box (a summary of docs/search.md) and the error display that points at the column.

import type { AppError } from '../backend';

const EXAMPLES: [string, string][] = [
  ['alice', 'the word alice anywhere in the event (full text, any case)'],
  ['kube*', 'a word starting with kube'],
  ['"get pods"', 'the words get and pods next to each other'],
  ['actor:alice', 'actor is exactly alice (any case)'],
  ['actor:system:*', 'actor starts with system:'],
  ['actor:*john*', 'actor contains john (every * stands for any characters)'],
  ['outcome:denied -actor:admin', 'denied, and not by admin'],
  ['(action:delete OR action:patch) env:prod', 'deletes or patches in prod'],
  ['time:2024-05*', 'stamped in May 2024 (UTC)'],
  ['after:2024-05-01 before:2024-05-02', 'stamped on 1 May 2024 (UTC)'],
  ['since:24h', 'stamped in the last 24 hours'],
  ['workhours:09-18+02:00', 'Monday to Friday, 09:00 to 18:00 at UTC+02:00 (-workhours:… for off hours)'],
  ['privilege:exec', 'privileged access: exec into a workload (also secret, role, login)'],
  ['status:verified', 'events of verified archives only (also untrusted, failed)'],
  ['json.eventName:ConsoleLogin', "a member of the event's own JSON (json.requestParameters.roleArn:*admin*)"],
  ['archive:example.com/prod/k8s#12', 'the events of one archive: origin and sequence'],
  ['actor:/^arn:aws:iam::\\d+:user\\//', 'a regular expression over a field (unanchored, case-insensitive)'],
  ['tag:finding-3', 'events you tagged (your working papers; tag:find* and tag:* too)'],
  ['note:password', 'events whose note (yours) contains the words'],
  ['has:note', 'events with a note (also has:tag, has:bookmark)'],
  ['person:anaya', 'the events of every actor you said is anaya (Working papers, Identities)'],
];

// Every field and keyword the query parser knows (tests/it/cli_contract.rs checks this list against it).
const FIELDS =
  'time source origin actor action resource outcome category ip agent env stage privilege status archive json.MEMBER tag note has person after before since workhours';

export function QueryHelp({ onExample }: { onExample: (q: string) => void }) {
  return (
    <div className="help" id="query-help">
      <p>
        Terms next to each other must all match; <span className="mono">OR</span> for either,{' '}
        <span className="mono">NOT</span> or <span className="mono">-</span> to exclude, parentheses to group.
        Quote text with spaces or punctuation. Times are UTC unless they carry an offset.
      </p>
      <p>
        Fields: <span className="mono">{FIELDS}</span>
      </p>
      <table className="table compact">
        <tbody>
          {EXAMPLES.map(([q, what]) => (
            <tr key={q}>
              <td>
                <button className="link mono" onClick={() => onExample(q)}>
                  {q}
                </button>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The query with a caret under the column the error points at, and the message. */
export function QueryErrorView({ query, error }: { query: string; error: AppError }) {
  const column = error.column ?? 1;
  const chars = Array.from(query);
  const before = chars.slice(0, column - 1).join('');
  const at = chars[column - 1] ?? ' ';
  const after = chars.slice(column).join('');
  return (
    <div className="query-error" role="alert" id="query-error">
      <div className="mono query-echo" aria-hidden="true">
        {before}
        <mark>{at}</mark>
        {after}
      </div>
      <div>
        <strong>Column {column}:</strong> {error.message}
      </div>
    </div>
  );
}
