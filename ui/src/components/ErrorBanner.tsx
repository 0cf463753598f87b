// The last error, what happened and what to do, until dismissed.

import { useApp } from '../app-context';

export function ErrorBanner() {
  const { error, clearError } = useApp();
  if (!error) return null;
  return (
    <div className="banner error" role="alert" id="error-banner">
      <div className="banner-text">{error.message}</div>
      <button className="link" onClick={clearError} aria-label="Dismiss">
        Dismiss
      </button>
    </div>
  );
}
