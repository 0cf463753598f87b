import './locale-guard';
import { Component, StrictMode } from 'react';
import type { ErrorInfo, ReactNode } from 'react';
import { createRoot } from 'react-dom/client';

import { App } from './App';
import './styles.css';

/** Shows an unexpected fault of the UI itself instead of a blank window. */
class Fault extends Component<{ children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  componentDidCatch(error: Error, info: ErrorInfo) {
    console.error(error, info.componentStack);
  }
  render() {
    if (!this.state.error) return this.props.children;
    return (
      <main className="fatal" role="alert" id="fatal">
        <h1>AuditLens hit an unexpected error</h1>
        <pre className="code">{`${this.state.error.name}: ${this.state.error.message}\n${this.state.error.stack ?? ''}`}</pre>
        <p>Close the window and open AuditLens again. Your database is not affected.</p>
      </main>
    );
  }
}

const root = document.getElementById('root')!;
try {
  createRoot(root).render(
    <StrictMode>
      <Fault>
        <App />
      </Fault>
    </StrictMode>,
  );
} catch (e) {
  root.textContent = `AuditLens could not start its window: ${String(e)}`;
}
