// A modal dialog: focus moves into it, Escape or the cancel button closes it, Tab stays inside.

import { useEffect, useRef } from 'react';
import type { ReactNode } from 'react';

export function Modal({
  title,
  onClose,
  children,
  id,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  id?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    box.current?.querySelector<HTMLElement>('[data-autofocus], button')?.focus();
    return () => before?.focus();
  }, []);
  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
    } else if (e.key === 'Tab' && box.current) {
      const f = Array.from(box.current.querySelectorAll<HTMLElement>('button, input, textarea, [tabindex="0"]'));
      if (f.length === 0) return;
      const first = f[0];
      const last = f[f.length - 1];
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    }
  };
  return (
    <div className="modal-backdrop">
      <div className="modal" role="dialog" aria-modal="true" aria-label={title} ref={box} onKeyDown={onKeyDown} id={id}>
        <h2>{title}</h2>
        {children}
      </div>
    </div>
  );
}
