// The virtualized runs grid: only the rows on screen exist in the DOM; rows of pages not yet
// fetched show placeholders until their page arrives. Keyboard: arrows move, Enter opens,
// Space selects, Right/Left expand/collapse nested runs.
import { useVirtualizer } from "@tanstack/react-virtual";
import { type KeyboardEvent, useEffect, useRef, useState } from "react";
import { ErrorView } from "../../components/common";
import { href, navigate } from "../../lib/route";
import type { RunRow } from "../../lib/types";
import type { ColumnSpec } from "./columns";
import type { Entry, RunRows } from "./useRunRows";

const ROW_HEIGHT = 34;
const SELECT_WIDTH = 64;

export interface RunsTableProps {
  rows: RunRows;
  columns: ColumnSpec[];
  order: { key: string; desc: boolean } | null;
  onSort: (column: ColumnSpec) => void;
  onAggregate: (column: ColumnSpec, aggregate: string) => void;
  onRemove: (column: ColumnSpec) => void;
  selected: Set<string>;
  onSelect: (runIds: string[], on: boolean) => void;
  expanded: Set<string>;
  onExpand: (row: RunRow, open: boolean) => void;
  onRange: (firstTop: number, lastTop: number) => void;
  tree: boolean;
}

export function RunsTable(props: RunsTableProps) {
  const { rows, columns, selected, expanded } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const [focused, setFocused] = useState(0);
  const virtualizer = useVirtualizer({
    count: rows.count,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;

  const topIndexOf = (entry: Entry, fallback: number) => (entry.kind === "top" ? entry.index : fallback);
  const firstTop = topIndexOf(rows.entryAt(first), 0);
  const lastTop = topIndexOf(rows.entryAt(last), firstTop);
  const { onRange } = props;
  useEffect(() => onRange(firstTop, lastTop), [firstTop, lastTop, onRange]);

  const width = SELECT_WIDTH + columns.reduce((sum, c) => sum + c.width, 0);
  const loadedOnScreen = items
    .map((i) => {
      const entry = rows.entryAt(i.index);
      return entry.kind === "more" ? undefined : entry.row;
    })
    .filter((r): r is RunRow => r !== undefined);
  const allOnScreenSelected = loadedOnScreen.length > 0 && loadedOnScreen.every((r) => selected.has(r.run_id));

  const onKey = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.target !== event.currentTarget) return;
    const move = (to: number) => {
      const next = Math.max(0, Math.min(rows.count - 1, to));
      setFocused(next);
      virtualizer.scrollToIndex(next, { align: "auto" });
      event.preventDefault();
    };
    const entry = rows.entryAt(focused);
    const row = entry.kind === "more" ? undefined : entry.row;
    const page = Math.max(1, Math.floor((scroller.current?.clientHeight ?? 400) / ROW_HEIGHT) - 1);
    switch (event.key) {
      case "ArrowDown":
        return move(focused + 1);
      case "ArrowUp":
        return move(focused - 1);
      case "PageDown":
        return move(focused + page);
      case "PageUp":
        return move(focused - page);
      case "Home":
        return move(0);
      case "End":
        return move(rows.count - 1);
      case "Enter":
        if (row) navigate(href(["runs", row.run_id]));
        return;
      case " ":
        event.preventDefault();
        if (row) props.onSelect([row.run_id], !selected.has(row.run_id));
        return;
      case "ArrowRight":
      case "ArrowLeft":
        if (row && row.child_count > 0 && props.tree) {
          event.preventDefault();
          props.onExpand(row, event.key === "ArrowRight");
        }
        return;
      default:
        return;
    }
  };

  return (
    <div
      className={`vgrid${rows.stale ? " stale" : ""}`}
      aria-busy={rows.stale}
      ref={scroller}
      tabIndex={0}
      role="grid"
      aria-label="Runs"
      aria-rowcount={rows.count + 1}
      onKeyDown={onKey}
      data-testid="runs-grid"
    >
      <div className="vhead" role="row" style={{ width }}>
        <div className="cell" style={{ width: SELECT_WIDTH }} role="columnheader">
          <input
            type="checkbox"
            aria-label="Select the runs on screen"
            checked={allOnScreenSelected}
            onChange={(e) =>
              props.onSelect(
                loadedOnScreen.map((r) => r.run_id),
                e.target.checked,
              )
            }
          />
        </div>
        {columns.map((column) => {
          const sorted = props.order && column.sortKey === props.order.key;
          return (
            <div
              key={column.id}
              className={`cell${column.numeric ? " num" : ""}`}
              style={{ width: column.width }}
              role="columnheader"
              aria-sort={sorted ? (props.order?.desc ? "descending" : "ascending") : "none"}
              title={column.chosen ? column.chosen.id : column.title}
            >
              <div className="head-line">
                {column.sortKey ? (
                  <button
                    type="button"
                    className={`sort${sorted ? " sorted" : ""}`}
                    onClick={() => props.onSort(column)}
                  >
                    {column.title}
                    {sorted ? (props.order?.desc ? " ↓" : " ↑") : ""}
                  </button>
                ) : (
                  <span>{column.title}</span>
                )}
                {column.chosen && (
                  <button
                    type="button"
                    className="link small"
                    aria-label={`Remove column ${column.title}`}
                    title="Remove column"
                    onClick={() => props.onRemove(column)}
                  >
                    ×
                  </button>
                )}
              </div>
              {column.chosen && (
                <div className="head-line muted small">
                  {column.chosen.entity === "metrics" ? (
                    <select
                      aria-label={`Aggregate of ${column.title}`}
                      value={column.chosen.aggregate}
                      onChange={(e) => props.onAggregate(column, e.target.value)}
                    >
                      <option value="latest">last</option>
                      <option value="min">min</option>
                      <option value="max">max</option>
                      <option value="count">count</option>
                    </select>
                  ) : (
                    <span>{column.chosen.entity === "params" ? "param" : "tag"}</span>
                  )}
                </div>
              )}
            </div>
          );
        })}
      </div>
      <div style={{ height: virtualizer.getTotalSize(), width, position: "relative" }}>
        {items.map((item) => {
          const entry = rows.entryAt(item.index);
          const style = { top: item.start, height: ROW_HEIGHT, width };
          const focusClass = item.index === focused ? " focused" : "";
          if (entry.kind === "more") {
            return (
              <div key={item.key} className={`vrow child${focusClass}`} style={style} role="row">
                <div className="cell muted small" style={{ paddingLeft: SELECT_WIDTH + entry.depth * 16 }}>
                  {entry.hidden.toLocaleString()} more nested runs:{" "}
                  <a href={href(["runs", entry.parent])}>open the parent run</a>
                </div>
              </div>
            );
          }
          const row = entry.row;
          if (!row) {
            return (
              <div key={item.key} className={`vrow${focusClass}`} style={style} role="row" aria-busy="true">
                <div className="cell" style={{ width: SELECT_WIDTH }} />
                {columns.map((c) => (
                  <div key={c.id} className="cell" style={{ width: c.width }}>
                    <span className="skeleton" />
                  </div>
                ))}
              </div>
            );
          }
          const isOpen = expanded.has(row.run_id);
          return (
            <div
              key={item.key}
              className={`vrow${entry.kind === "child" ? " child" : ""}${selected.has(row.run_id) ? " selected" : ""}${focusClass}`}
              style={style}
              role="row"
              aria-selected={selected.has(row.run_id)}
              data-run-id={row.run_id}
              onClick={() => setFocused(item.index)}
            >
              <div className="cell" style={{ width: SELECT_WIDTH, paddingLeft: 8 + entry.depth * 12 }}>
                <input
                  type="checkbox"
                  tabIndex={-1}
                  aria-label={`Select run ${row.run_name}`}
                  checked={selected.has(row.run_id)}
                  onChange={(e) => props.onSelect([row.run_id], e.target.checked)}
                />
                {props.tree && row.child_count > 0 ? (
                  <button
                    type="button"
                    className="tree-toggle"
                    tabIndex={-1}
                    aria-expanded={isOpen}
                    aria-label={`${isOpen ? "Collapse" : "Expand"} ${row.child_count} nested runs`}
                    title={`${row.child_count} nested run${row.child_count === 1 ? "" : "s"}`}
                    onClick={() => props.onExpand(row, !isOpen)}
                  >
                    {rows.loadingChildren.has(row.run_id) ? "…" : isOpen ? "▾" : "▸"}
                  </button>
                ) : null}
              </div>
              {columns.map((c) => (
                <div key={c.id} className={`cell${c.numeric ? " num" : ""}`} style={{ width: c.width }} role="gridcell">
                  {c.render(row)}
                </div>
              ))}
            </div>
          );
        })}
      </div>
      {rows.pageError ? (
        <div style={{ position: "sticky", bottom: 0, padding: 8 }}>
          <ErrorView error={rows.pageError} title="Some rows could not be loaded" />
        </div>
      ) : null}
    </div>
  );
}
