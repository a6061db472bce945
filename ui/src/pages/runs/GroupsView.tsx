// Runs grouped by a param or tag: count and mean of the chosen metrics per group.
import { useQuery } from "@tanstack/react-query";
import { ErrorView, Loading } from "../../components/common";
import { api } from "../../lib/api";
import { and, quoteKey, quoteValue } from "../../lib/filter";
import { formatNumber } from "../../lib/format";
import type { ViewType } from "../../lib/types";

export function GroupsView({
  experimentIds,
  groupBy,
  metricKeys,
  filter,
  view,
  onFilter,
}: {
  experimentIds: string[];
  groupBy: string;
  metricKeys: string[];
  filter: string;
  view: ViewType;
  onFilter: (filter: string) => void;
}) {
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
          {query.data.map((group) => (
            <tr key={group.value ?? "\u0000none"}>
              <td>{group.value ?? <span className="muted">(not set)</span>}</td>
              <td className="num">{group.count.toLocaleString()}</td>
              {metricKeys.map((m) => (
                <td key={m} className="num">
                  {formatNumber(group.means[m] ?? null)}
                </td>
              ))}
              <td style={{ textAlign: "right" }}>
                <button type="button" onClick={() => onFilter(and(filter, condition(group.value)))}>
                  Show runs
                </button>
              </td>
            </tr>
          ))}
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
