// The About box: the AuditLens version the backend reports (the workspace version of Cargo.toml, the same that
// `auditlens --version`, stores, bundles and report.html carry) and where the app keeps its files.

import { Modal } from './Modal';

export function AboutDialog({
  version,
  dataDir,
  dbPath,
  onClose,
}: {
  version: string;
  dataDir: string;
  dbPath: string;
  onClose: () => void;
}) {
  return (
    <Modal title="About AuditLens" onClose={onClose} id="about-dialog">
      <dl className="fields">
        <dt>Version</dt>
        <dd className="mono" id="about-version">
          {version}
        </dd>
        <dt>App data</dt>
        <dd className="mono wrap">{dataDir}</dd>
        <dt>Database</dt>
        <dd className="mono wrap">{dbPath}</dd>
      </dl>
      <p className="muted small">
        Verifies, stores and searches signed audit-log archives, offline. The command line tool is{' '}
        <span className="mono">auditlens</span> (<span className="mono">auditlens --help</span>,{' '}
        <span className="mono">man auditlens</span>). Licensed under Apache-2.0.
      </p>
      <div className="actions">
        <button className="primary" onClick={onClose} data-autofocus id="about-close">
          Close
        </button>
      </div>
    </Modal>
  );
}
