// Keyboard focus for modal dialogs: Tab and Shift+Tab cycle inside the dialog, and closing it
// gives focus back to what had it before (the button that opened it), as WAI-ARIA's dialog
// pattern asks.
import { type RefObject, useEffect, useState } from "react";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Keep focus inside `ref` while it is mounted; restore the previous focus on unmount. */
export function useFocusTrap(ref: RefObject<HTMLElement | null>): void {
  // Taken at the first render: by the time effects run, autoFocus has moved focus inside.
  const [previous] = useState(() => (document.activeElement instanceof HTMLElement ? document.activeElement : null));
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      const box = ref.current;
      if (event.key !== "Tab" || !box) return;
      const items = [...box.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.offsetParent !== null);
      if (items.length === 0) {
        event.preventDefault();
        return;
      }
      const first = items[0] as HTMLElement;
      const last = items[items.length - 1] as HTMLElement;
      const inside = box.contains(document.activeElement);
      if (event.shiftKey && (document.activeElement === first || !inside)) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
        event.preventDefault();
        first.focus();
      }
    };
    document.addEventListener("keydown", onKeyDown);
    return () => {
      document.removeEventListener("keydown", onKeyDown);
      if (previous?.isConnected) previous.focus();
    };
  }, [ref, previous]);
}
