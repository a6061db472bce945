// The runs of one group, shown in place under its row of the groups table when expanded.
// Each group fetches on its own, so a slow or failing group leaves the others alone.
import { useQuery } from "@tanstack/react-query";
import { ErrorView, Loading, Status } from "../../components/common";
import { api, type RunTableQuery } from "../../lib/api";
import type { Column } from "../../lib/filter";
import { formatTime, timeTitle } from "../../lib/format";
import { href } from "../../lib/route";
import { chosenColumn } from "./columns";
import { tableKey } from "./useRunRows";

/** More runs than this in one group are left to the runs table ("Show runs"). */
export const GROUP_RUNS_LIMIT = 50;

export function GroupRuns({
  label,
  query,
  metrics,
  onShowAll,
}: {
  label: string;
  /** The runs-table query of the group: its condition already ANDed to the page's filter. */
  query: RunTableQuery;
  metrics: Column[];
  onShowAll: () => void;
}) {
  const runs = useQuery({
    // Its own key prefix: the table's pages hold 100 rows, these at most 50.
    queryKey: ["group-runs", ...tableKey(query)],
    queryFn: ({ signal }) => api.runTable({ ...query, offset: 0, max_results: GROUP_RUNS_LIMIT }, signal),
  });
  if (runs.isPending) return <Loading what={`runs of ${label}`} />;
  if (runs.isError)
    return (
      <ErrorView error={runs.error} title={`Cannot load the runs of ${label}`} retry={() => void runs.refetch()} />
    );
  const { runs: rows, total } = runs.data;
  const hidden = total - rows.length;
  const cells = metrics.map((m) => ({ column: m, render: chosenColumn(m.id)?.render }));
  return (
    <>
      <table className="plain group-runs" aria-label={`Runs of ${label}`}>
        <thead>
          <tr>
            <th>Run</th>
            <th>Status</th>
            <th>Started</th>
            {cells.map(({ column }) => (
              <th key={column.id} className="num">
                {column.key}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((run) => (
            <tr key={run.run_id} data-run-id={run.run_id}>
              <td>
                <a href={href(["runs", run.run_id])}>{run.run_name || run.run_id}</a>
              </td>
              <td>
                <Status status={run.status} />
              </td>
              <td title={timeTitle(run.start_time)}>{formatTime(run.start_time)}</td>
              {cells.map(({ column, render }) => (
                <td key={column.id} className="num">
                  {render?.(run)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && <div className="muted small">No runs in this group now.</div>}
      {hidden > 0 && (
        <button type="button" className="link" onClick={onShowAll}>
          {hidden.toLocaleString()} more — Show runs
        </button>
      )}
    </>
  );
}
