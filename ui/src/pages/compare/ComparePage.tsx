// Selected runs side by side: params (differences highlighted), metrics, overlaid charts, a
// parallel-coordinates plot and a scatter plot of any two columns.
import { useQueries } from "@tanstack/react-query";
import { type ReactNode, Suspense, useMemo, useState } from "react";
import { lazyModule, preload } from "../../lib/lazy";
import { ErrorView, Loading, Tabs } from "../../components/common";
import { ApiError, api } from "../../lib/api";
import { formatNumber, toNumber } from "../../lib/format";
import { href, readList, useParams, writeList } from "../../lib/route";
import { runColor } from "../../lib/theme";
import type { MetricSummary, Run } from "../../lib/types";
import { type Axis, ParallelCoordinates, ScatterPlot, UndrawnNote } from "./plots";

const ChartsPanel = lazyModule(() => import("../../charts/ChartsPanel"));
preload(ChartsPanel);
const SHOWN_ROWS = 1000;
/** Which value of each metric the table compares; min and max come from cairn's summaries. */
type Aggregate = "latest" | "min" | "max";
const AGGREGATES: Aggregate[] = ["latest", "min", "max"];
/** Metric summaries read per run for min and max (keys beyond are left out). */
const SUMMARY_LIMIT = 5000;

function ValuesTable({
  title,
  runs,
  values,
  numeric,
  controls,
}: {
  title: string;
  runs: Run[];
  values: Map<string, (string | null)[]>;
  numeric: boolean;
  controls?: ReactNode;
}) {
  const [onlyDiff, setOnlyDiff] = useState(false);
  const [search, setSearch] = useState("");
  const keys = [...values.keys()].sort();
  const differs = (key: string) => new Set(values.get(key)).size > 1;
  const needle = search.toLowerCase();
  const shown = keys.filter((k) => (!onlyDiff || differs(k)) && (!needle || k.toLowerCase().includes(needle)));
  return (
    <div className="card">
      <div className="card-head">
        <h2 style={{ margin: 0 }}>{title}</h2>
        <span className="muted small">
          {keys.length} · {keys.filter(differs).length} differ
        </span>
        <span className="spacer" />
        {controls}
        <input
          type="search"
          placeholder="Filter"
          aria-label={`Filter ${title}`}
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <label className="small">
          <input type="checkbox" checked={onlyDiff} onChange={(e) => setOnlyDiff(e.target.checked)} />
          Only differences
        </label>
      </div>
      <div style={{ overflow: "auto", maxHeight: 480 }}>
        <table className="plain" aria-label={title}>
          <thead>
            <tr>
              <th>Key</th>
              {runs.map((run, i) => (
                <th key={run.info.run_id} className={numeric ? "num" : ""}>
                  <span
                    className="swatch"
                    style={{
                      display: "inline-block",
                      width: 10,
                      height: 10,
                      borderRadius: 2,
                      background: runColor(i),
                      marginRight: 4,
                    }}
                  />
                  {run.info.run_name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.slice(0, SHOWN_ROWS).map((key) => {
              const row = values.get(key) ?? [];
              const diff = differs(key);
              return (
                <tr key={key} data-differs={diff || undefined}>
                  <td className="mono">{key}</td>
                  {row.map((v, i) => (
                    <td
                      key={runs[i]?.info.run_id ?? i}
                      className={`${numeric ? "num " : ""}${diff ? "diff" : ""} mono`}
                    >
                      {v === null ? <span className="muted">—</span> : numeric ? formatNumber(v) : v}
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
        {shown.length === 0 && (
          <div className="empty small">{keys.length ? "No differences." : `No ${title.toLowerCase()}.`}</div>
        )}
        {shown.length > SHOWN_ROWS && (
          <div className="empty small">{shown.length - SHOWN_ROWS} more: filter by name.</div>
        )}
      </div>
    </div>
  );
}

function collect(runs: Run[], pick: (run: Run) => { key: string; value: string }[]): Map<string, (string | null)[]> {
  const table = new Map<string, (string | null)[]>();
  runs.forEach((run, i) => {
    for (const { key, value } of pick(run)) {
      let row = table.get(key);
      if (!row) {
        row = runs.map(() => null);
        table.set(key, row);
      }
      row[i] = value;
    }
  });
  return table;
}

function Plots({
  runs,
  params,
  metrics,
}: {
  runs: Run[];
  params: Map<string, (string | null)[]>;
  metrics: Map<string, (string | null)[]>;
}) {
  const axes: Axis[] = useMemo(() => {
    const toValue = (v: string | null) => {
      if (v === null) return null;
      const n = toNumber(v);
      return n !== null && Number.isFinite(n) && v.trim() !== "" ? n : v;
    };
    return [
      ...[...params.entries()].sort().map(([k, vs]) => ({ id: `params.${k}`, label: k, values: vs.map(toValue) })),
      ...[...metrics.entries()].sort().map(([k, vs]) => ({
        id: `metrics.${k}`,
        label: k,
        values: vs.map((v) => {
          const n = toNumber(v);
          return n === null || !Number.isFinite(n) ? null : n;
        }),
        notFinite: vs.map((v) => {
          const n = toNumber(v);
          return n !== null && !Number.isFinite(n) ? formatNumber(n) : null;
        }),
      })),
    ];
  }, [params, metrics]);
  const [params2, setParams] = useParams();
  const differing = axes.filter((a) => new Set(a.values.map(String)).size > 1);
  const defaultPc = [
    ...differing.filter((a) => a.id.startsWith("params.")).slice(0, 5),
    ...differing.filter((a) => a.id.startsWith("metrics.")).slice(0, 2),
  ];
  const pcIds = readList(params2, "pc");
  const chosen = pcIds.length ? axes.filter((a) => pcIds.includes(a.id)) : defaultPc;
  const xId = params2.get("sx") ?? differing[0]?.id ?? axes[0]?.id;
  const yId = params2.get("sy") ?? differing.find((a) => a.id.startsWith("metrics."))?.id ?? axes[1]?.id;
  const xAxis = axes.find((a) => a.id === xId);
  const yAxis = axes.find((a) => a.id === yId);
  const runList = runs.map((r, i) => ({ id: r.info.run_id, name: r.info.run_name, color: runColor(i) }));
  if (axes.length === 0) return <div className="empty">These runs have no params or metrics to plot.</div>;
  const toggleAxis = (id: string) => {
    const current = chosen.map((a) => a.id);
    const next = current.includes(id) ? current.filter((c) => c !== id) : [...current, id];
    setParams({ pc: writeList(next) });
  };
  return (
    <div className="section" style={{ gap: 16 }}>
      <div className="card">
        <div className="card-head">
          <h2 style={{ margin: 0 }}>Parallel coordinates</h2>
          <span className="spacer" />
          <details>
            <summary>Axes ({chosen.length})</summary>
            <div className="popover" style={{ padding: 8, maxHeight: 300, overflow: "auto", right: 16 }}>
              {axes.slice(0, 400).map((a) => (
                <label key={a.id} style={{ display: "flex" }} className="mono small">
                  <input
                    type="checkbox"
                    checked={chosen.some((c) => c.id === a.id)}
                    onChange={() => toggleAxis(a.id)}
                  />
                  {a.id}
                </label>
              ))}
            </div>
          </details>
        </div>
        <div className="card-body" style={{ overflow: "auto" }}>
          {chosen.length >= 2 ? (
            <>
              <ParallelCoordinates axes={chosen} runs={runList} />
              <UndrawnNote axes={chosen} runs={runList} />
            </>
          ) : (
            <span className="muted">Choose at least two axes.</span>
          )}
        </div>
      </div>
      <div className="card">
        <div className="card-head">
          <h2 style={{ margin: 0 }}>Scatter plot</h2>
          <span className="spacer" />
          <label className="small">
            X
            <select aria-label="Scatter X" value={xId} onChange={(e) => setParams({ sx: e.target.value })}>
              {axes.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.id}
                </option>
              ))}
            </select>
          </label>
          <label className="small">
            Y
            <select aria-label="Scatter Y" value={yId} onChange={(e) => setParams({ sy: e.target.value })}>
              {axes.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.id}
                </option>
              ))}
            </select>
          </label>
        </div>
        <div className="card-body">
          {xAxis && yAxis ? (
            <>
              <ScatterPlot xAxis={xAxis} yAxis={yAxis} runs={runList} />
              <UndrawnNote axes={xAxis === yAxis ? [xAxis] : [xAxis, yAxis]} runs={runList} />
            </>
          ) : null}
        </div>
      </div>
    </div>
  );
}

export default function ComparePage() {
  const [params, setParams] = useParams();
  const runIds = readList(params, "runs");
  const asked = params.get("tab");
  const tab = asked === "charts" || asked === "plots" ? asked : "table"; // an unknown tab shows the table
  const agg: Aggregate = AGGREGATES.find((a) => a === params.get("agg")) ?? "latest";
  const queries = useQueries({
    queries: runIds.map((id) => ({
      queryKey: ["run", id],
      queryFn: ({ signal }: { signal: AbortSignal }) => api.getRun(id, signal),
    })),
  });
  const runs = queries.map((q) => q.data).filter((r): r is Run => r !== undefined);
  const failed = queries.map((q, i) => ({ q, id: runIds[i] as string })).filter(({ q }) => q.isError);
  const pending = queries.some((q) => q.isPending);
  // Tables are rebuilt when the set of runs (or their metrics) changes, not on every render.
  const paramsTable = useMemo(() => collect(runs, (r) => r.data.params ?? []), [runs.map((r) => r.info.run_id).join()]);
  const summaries = useQueries({
    queries: runIds.map((id) => ({
      queryKey: ["run-metric-summaries", id],
      queryFn: ({ signal }: { signal: AbortSignal }) => api.runMetrics(id, "", 0, SUMMARY_LIMIT, signal),
      enabled: agg !== "latest",
    })),
  });
  const metricsTable = useMemo(() => {
    if (agg === "latest")
      return collect(runs, (r) => (r.data.metrics ?? []).map((m) => ({ key: m.key, value: String(m.value) })));
    const byRun = new Map(runIds.map((id, i) => [id, summaries[i]?.data?.metrics ?? []]));
    return collect(runs, (r) =>
      (byRun.get(r.info.run_id) ?? ([] as MetricSummary[]))
        .filter((m) => m[agg] !== null)
        .map((m) => ({ key: m.key, value: String(m[agg]) })),
    );
  }, [
    agg,
    runs.map((r) => `${r.info.run_id}:${r.data.metrics?.length}`).join(),
    summaries.map((q) => q.dataUpdatedAt).join(),
  ]);
  const aggregateChoice = (
    <label className="small">
      Value{" "}
      <select
        aria-label="Metric value"
        value={agg}
        onChange={(e) => setParams({ agg: e.target.value === "latest" ? null : e.target.value })}
      >
        <option value="latest">latest</option>
        <option value="min">min</option>
        <option value="max">max</option>
      </select>
    </label>
  );
  const names = useMemo(
    () => new Map(runs.map((r) => [r.info.run_id, r.info.run_name])),
    [runs.map((r) => r.info.run_id).join()],
  );

  if (runIds.length === 0)
    return (
      <div className="page">
        <div className="empty">No runs to compare: select runs in a runs table and press Compare.</div>
      </div>
    );
  const experimentId = runs[0]?.info.experiment_id;
  return (
    <div className="page">
      <div className="crumbs small">
        <a href="#/">Experiments</a>
        {experimentId && (
          <>
            {" "}
            / <a href={href(["experiments", experimentId], { sel: writeList(runIds) ?? undefined })}>runs</a>
          </>
        )}
      </div>
      <div className="row">
        <h1>Comparing {runIds.length} runs</h1>
        {runs.map((run, i) => (
          <span key={run.info.run_id} className="tag-chip ellipsis" style={{ maxWidth: 320 }} title={run.info.run_name}>
            <span
              style={{
                display: "inline-block",
                width: 8,
                height: 8,
                borderRadius: 4,
                background: runColor(i),
                marginRight: 4,
              }}
            />
            <a href={href(["runs", run.info.run_id])}>{run.info.run_name}</a>
          </span>
        ))}
      </div>
      {failed.map(({ q, id }) => (
        <ErrorView
          key={id}
          error={q.error}
          title={
            q.error instanceof ApiError && q.error.isNotFound ? `Run "${id}" not found` : `Could not load run ${id}`
          }
        />
      ))}
      <Tabs
        tabs={[
          { id: "table", label: "Params & metrics" },
          { id: "charts", label: "Charts" },
          { id: "plots", label: "Plots" },
        ]}
        current={tab}
        onChange={(t) => setParams({ tab: t === "table" ? null : t })}
      />
      {pending ? (
        <Loading what="runs" />
      ) : runs.length === 0 ? null : tab === "charts" ? (
        <Suspense fallback={<Loading what="charts" />}>
          <ChartsPanel runIds={runs.map((r) => r.info.run_id)} names={names} />
        </Suspense>
      ) : tab === "plots" ? (
        <Plots runs={runs} params={paramsTable} metrics={metricsTable} />
      ) : (
        <div className="section" style={{ gap: 16 }}>
          <ValuesTable title="Parameters" runs={runs} values={paramsTable} numeric={false} />
          <ValuesTable title="Metrics" runs={runs} values={metricsTable} numeric controls={aggregateChoice} />
        </div>
      )}
    </div>
  );
}
