// What an empty screen says: what is missing and what to do.

import type { ReactNode } from 'react';

export function EmptyState({ title, children, id }: { title: string; children?: ReactNode; id?: string }) {
  return (
    <div className="empty" id={id}>
      <h2>{title}</h2>
      {children && <div className="empty-body">{children}</div>}
    </div>
  );
}
