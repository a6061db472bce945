// Choose the table's columns among the experiments' params, tags and metrics (thousands of
// keys: searched, and only the first matches listed).
import { useEffect, useRef, useState } from "react";
import { columnId, parseColumn } from "../../lib/filter";
import type { RunKeys } from "../../lib/types";

const LISTED = 300;
type Entity = "metrics" | "params" | "tags";

export function ColumnChooser({
  keys,
  chosen,
  onChange,
}: {
  keys: RunKeys | undefined;
  chosen: string[];
  onChange: (columns: string[]) => void;
}) {
  const [open, setOpen] = useState(false);
  const [entity, setEntity] = useState<Entity>("metrics");
  const [search, setSearch] = useState("");
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return undefined;
    const close = (e: MouseEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", close);
    return () => document.removeEventListener("mousedown", close);
  }, [open]);

  const chosenKeys = new Set(
    chosen
      .map((c) => parseColumn(c))
      .filter(Boolean)
      .map((c) => `${c?.entity}.${c?.key}`),
  );
  const pool = keys?.[entity] ?? [];
  const needle = search.toLowerCase();
  const matching = needle ? pool.filter((k) => k.toLowerCase().includes(needle)) : pool;

  const toggle = (key: string) => {
    const id = `${entity}.${key}`;
    if (chosenKeys.has(id))
      onChange(
        chosen.filter((c) => {
          const p = parseColumn(c);
          return !(p && p.entity === entity && p.key === key);
        }),
      );
    else onChange([...chosen, columnId(entity, key)]);
  };

  return (
    <div style={{ position: "relative" }} ref={box}>
      <button type="button" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        Columns ({chosen.length})
      </button>
      {open && (
        <div
          className="popover chooser"
          role="dialog"
          aria-label="Choose columns"
          onKeyDown={(e) => e.key === "Escape" && setOpen(false)}
        >
          <div className="row">
            {(["metrics", "params", "tags"] as Entity[]).map((e) => (
              <button
                key={e}
                type="button"
                className={entity === e ? "pressed" : ""}
                aria-pressed={entity === e}
                onClick={() => {
                  setEntity(e);
                  setSearch("");
                }}
              >
                {e} ({keys?.[e].length ?? 0})
              </button>
            ))}
          </div>
          <input
            autoFocus
            type="search"
            placeholder={`Search ${entity}`}
            aria-label={`Search ${entity}`}
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
          <div className="list">
            {!keys && <span className="muted">Loading keys…</span>}
            {keys && matching.length === 0 && <span className="muted">No {entity} match.</span>}
            {matching.slice(0, LISTED).map((key) => (
              <label key={key} title={key}>
                <input type="checkbox" checked={chosenKeys.has(`${entity}.${key}`)} onChange={() => toggle(key)} />
                <span className="ellipsis">{key}</span>
              </label>
            ))}
            {matching.length > LISTED && (
              <div className="muted small">{(matching.length - LISTED).toLocaleString()} more: refine the search.</div>
            )}
          </div>
          <div className="row">
            <button type="button" onClick={() => onChange([])}>
              Clear all
            </button>
            <span className="spacer" />
            <button type="button" onClick={() => setOpen(false)}>
              Done
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
