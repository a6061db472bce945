// The filter box: the search grammar with suggestions of entities, keys and operators.
import { type KeyboardEvent, useEffect, useId, useLayoutEffect, useRef, useState } from "react";
import { type Suggestion, suggest } from "../../lib/filter";
import type { RunKeys } from "../../lib/types";

export function FilterInput({
  value,
  onCommit,
  keys,
  invalid,
}: {
  value: string;
  onCommit: (filter: string) => void;
  keys: RunKeys | undefined;
  invalid: boolean;
}) {
  const [draft, setDraft] = useState(value);
  const [cursor, setCursor] = useState(0);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const input = useRef<HTMLInputElement>(null);
  const listId = useId();
  useEffect(() => setDraft(value), [value]);
  // Where the caret goes once a completion is in the box. Placed in the same task as the key
  // that completed (a layout effect), so keys typed right after it land after the completion.
  const pendingCaret = useRef<number | null>(null);
  useLayoutEffect(() => {
    const position = pendingCaret.current;
    if (position === null || !input.current) return;
    pendingCaret.current = null;
    input.current.setSelectionRange(position, position);
  });

  const found = open ? suggest(draft, cursor, keys) : { start: 0, end: 0, items: [] as Suggestion[] };
  const items = found.items;

  const accept = (item: Suggestion) => {
    const next = draft.slice(0, found.start) + item.insert + draft.slice(found.end);
    const position = found.start + item.insert.length;
    pendingCaret.current = position;
    setDraft(next);
    setCursor(position);
    setActive(-1);
  };

  const onKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "ArrowDown" && items.length) {
      event.preventDefault();
      setActive((a) => (a + 1) % items.length);
    } else if (event.key === "ArrowUp" && items.length) {
      event.preventDefault();
      setActive((a) => (a <= 0 ? items.length - 1 : a - 1));
    } else if (event.key === "Tab" && items.length && !event.shiftKey) {
      event.preventDefault();
      accept(items[Math.max(active, 0)] as Suggestion);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (active >= 0 && items[active]) accept(items[active] as Suggestion);
      else {
        setOpen(false);
        onCommit(draft.trim());
      }
    } else if (event.key === "Escape") {
      setOpen(false);
      setActive(-1);
    }
  };

  return (
    <div className="filter">
      <input
        ref={input}
        className={invalid ? "invalid" : ""}
        value={draft}
        placeholder="Filter runs: metrics.loss < 0.5 AND params.optimizer = 'adam'   (Tab completes, Enter applies)"
        aria-label="Filter runs"
        aria-invalid={invalid}
        role="combobox"
        aria-expanded={items.length > 0}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={active >= 0 ? `${listId}-${active}` : undefined}
        spellCheck={false}
        onChange={(e) => {
          setDraft(e.target.value);
          setCursor(e.target.selectionStart ?? e.target.value.length);
          setOpen(true);
          setActive(-1);
        }}
        onKeyDown={onKey}
        onKeyUp={(e) => setCursor(e.currentTarget.selectionStart ?? 0)}
        onClick={(e) => {
          setCursor(e.currentTarget.selectionStart ?? 0);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => window.setTimeout(() => setOpen(false), 150)}
      />
      {items.length > 0 && (
        <ul className="popover suggestions" id={listId} role="listbox" aria-label="Suggestions">
          {items.map((item, i) => (
            <li
              key={item.label}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(item);
              }}
            >
              <span>{item.label}</span>
              <span className="muted small">{item.detail}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
