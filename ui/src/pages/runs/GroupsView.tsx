// Runs grouped by a param or tag: count and mean of the chosen metrics per group, and each
// group's runs shown in place under its row when expanded.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { ErrorView, Loading } from "../../components/common";
import { api } from "../../lib/api";
import { type Column, and, quoteKey, quoteValue } from "../../lib/filter";
import { formatNumber } from "../../lib/format";
import type { RunGroup, ViewType } from "../../lib/types";
import { GroupRuns } from "./GroupRuns";

/** A group's key in the expanded set: null (the runs without the key) cannot clash with a value. */
const groupKey = (value: string | null) => value ?? "\u0000none";

export function GroupsView({
  experimentIds,
  groupBy,
  metrics,
  filter,
  orderBy,
  view,
  onFilter,
}: {
  experimentIds: string[];
  groupBy: string;
  /** The chosen metric columns: their mean per group, their values per run of an expanded group. */
  metrics: Column[];
  filter: string;
  /** The runs table's sort, so that a group's runs come in the order "Show runs" lists them. */
  orderBy: string[];
  view: ViewType;
  onFilter: (filter: string) => void;
}) {
  const metricKeys = metrics.map((m) => m.key);
  // In component state, not the URL: which groups are open is a passing look, not a view to share.
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const toggle = (value: string | null) =>
    setExpanded((prev) => {
      const next = new Set(prev);
      if (!next.delete(groupKey(value))) next.add(groupKey(value));
      return next;
    });
  const query = useQuery({
    queryKey: ["run-groups", experimentIds, groupBy, metricKeys, filter, view],
    queryFn: ({ signal }) =>
      api.runGroups(
        {
          experiment_ids: experimentIds,
          group_by: groupBy,
          metric_keys: metricKeys,
          filter: filter || undefined,
          run_view_type: view,
        },
        signal,
      ),
  });
  if (query.isPending) return <Loading what="groups" />;
  if (query.isError) return <ErrorView error={query.error} retry={() => void query.refetch()} />;
  const [entity, ...rest] = groupBy.split(".");
  const key = rest.join(".");
  const condition = (value: string | null) =>
    value === null ? `${entity}.${quoteKey(key)} IS NULL` : `${entity}.${quoteKey(key)} = ${quoteValue(value)}`;
  return (
    <div className="card" style={{ overflow: "auto" }}>
      <table className="plain" aria-label="Groups">
        <thead>
          <tr>
            <th>{groupBy}</th>
            <th className="num">Runs</th>
            {metricKeys.map((m) => (
              <th key={m} className="num">
                mean {m}
              </th>
            ))}
            <th />
          </tr>
        </thead>
        <tbody>
          {query.data.map((group, index) => {
            // The same filter "Show runs" applies, so the runs in place are the runs it would list.
            const groupFilter = and(filter, condition(group.value));
            return (
              <GroupRow
                key={groupKey(group.value)}
                id={`group-runs-${index}`}
                group={group}
                metrics={metrics}
                open={expanded.has(groupKey(group.value))}
                onToggle={() => toggle(group.value)}
                onShowRuns={() => onFilter(groupFilter)}
                query={{
                  experiment_ids: experimentIds,
                  filter: groupFilter,
                  order_by: orderBy,
                  run_view_type: view,
                  columns: metrics.map((m) => m.id),
                }}
              />
            );
          })}
        </tbody>
      </table>
      {query.data.length === 0 && <div className="empty">No runs to group.</div>}
      {metricKeys.length === 0 && (
        <div className="muted small" style={{ padding: 8 }}>
          Add metric columns to see their mean per group.
        </div>
      )}
    </div>
  );
}

function GroupRow({
  id,
  group,
  metrics,
  open,
  onToggle,
  onShowRuns,
  query,
}: {
  id: string;
  group: RunGroup;
  metrics: Column[];
  open: boolean;
  onToggle: () => void;
  onShowRuns: () => void;
  query: Parameters<typeof GroupRuns>[0]["query"];
}) {
  const label = group.value ?? "(not set)";
  return (
    <>
      <tr>
        <td>
          <button
            type="button"
            className="icon"
            aria-expanded={open}
            aria-controls={open ? id : undefined}
            aria-label={`${open ? "Collapse" : "Expand"} group ${label}`}
            onClick={onToggle}
          >
            {open ? "▾" : "▸"}
          </button>{" "}
          {group.value ?? <span className="muted">(not set)</span>}
        </td>
        <td className="num">{group.count.toLocaleString()}</td>
        {metrics.map((m, i) => (
          <td key={`${m.id}-${i}`} className="num">
            {formatNumber(group.means[m.key] ?? null)}
          </td>
        ))}
        <td style={{ textAlign: "right" }}>
          <button type="button" onClick={onShowRuns}>
            Show runs
          </button>
        </td>
      </tr>
      {open && (
        <tr className="group-runs-row">
          <td id={id} colSpan={metrics.length + 3} style={{ paddingLeft: 32 }}>
            <GroupRuns label={label} query={query} metrics={metrics} onShowAll={onShowRuns} />
          </td>
        </tr>
      )}
    </>
  );
}
