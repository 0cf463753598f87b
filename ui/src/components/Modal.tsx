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
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    box.current?.querySelector<HTMLElement>('[data-autofocus], button:not([disabled])')?.focus();
    // Focus never leaves the dialog (a click or a key that moved it out is undone), and Escape closes it wherever
    // the focus is.
    const onFocusIn = (e: FocusEvent) => {
      if (box.current && e.target instanceof Node && !box.current.contains(e.target)) {
        focusable(box.current)[0]?.focus();
      }
    };
    const onKey = (e: KeyboardEvent) => {
      // Inside the dialog, its own handler below closes it.
      if (e.key === 'Escape' && box.current && !(e.target instanceof Node && box.current.contains(e.target))) {
        e.stopPropagation();
        close.current();
      }
    };
    document.addEventListener('focusin', onFocusIn);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('focusin', onFocusIn);
      document.removeEventListener('keydown', onKey);
      before?.focus();
    };
  }, []);
  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
    } else if (e.key === 'Tab' && box.current) {
      // Only what can take the focus: a disabled button cannot, and Tab would leave the dialog past it.
      const f = focusable(box.current);
      if (f.length === 0) {
        e.preventDefault();
        return;
      }
      const first = f[0];
      const last = f[f.length - 1];
      const inside = f.includes(document.activeElement as HTMLElement);
      if (e.shiftKey && (document.activeElement === first || !inside)) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && (document.activeElement === last || !inside)) {
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

/** The elements of the dialog that can take the focus, in tab order. */
function focusable(box: HTMLElement): HTMLElement[] {
  return Array.from(
    box.querySelectorAll<HTMLElement>(
      'button:not([disabled]), input:not([disabled]), textarea:not([disabled]), select:not([disabled]), a[href], [tabindex="0"]',
    ),
  );
}
