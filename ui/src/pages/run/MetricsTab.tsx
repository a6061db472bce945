// A run's metrics with latest, min, max and count: paged from the server and virtualized (a
// run may have 10,000 keys), filtered by name on the server, a sparkline for visible rows.
import { keepPreviousData, useQueries, useQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef, useState } from "react";
import { ErrorView, Loading } from "../../components/common";
import { api } from "../../lib/api";
import { formatNumber, formatTime } from "../../lib/format";
import { href } from "../../lib/route";
import type { MetricSummary } from "../../lib/types";
import { Sparkline } from "./Sparkline";

const PAGE = 200;
const ROW = 34;
const COLUMNS: [string, number, boolean][] = [
  ["Metric", 300, false],
  ["Latest", 120, true],
  ["Step", 80, true],
  ["Min", 120, true],
  ["Max", 120, true],
  ["Points", 90, true],
  ["Trend", 150, false],
];

function SparkCell({ runId, metric, version }: { runId: string; metric: string; version: number }) {
  const query = useQuery({
    queryKey: ["spark", runId, metric, version],
    queryFn: ({ signal }) => api.metricSeries({ run_ids: [runId], key: metric, x_axis: "step", buckets: 30 }, signal),
    staleTime: 60_000,
  });
  return <Sparkline series={query.data?.[0]} />;
}

export function MetricsTab({ runId, versions }: { runId: string; versions?: Record<string, [number, number]> }) {
  const [draft, setDraft] = useState("");
  const [filter, setFilter] = useState("");
  useEffect(() => {
    const timer = window.setTimeout(() => setFilter(draft.trim()), 250);
    return () => window.clearTimeout(timer);
  }, [draft]);
  const scroller = useRef<HTMLDivElement>(null);
  const first = useQuery({
    queryKey: ["run-metrics", runId, filter, 0],
    queryFn: ({ signal }) => api.runMetrics(runId, filter, 0, PAGE, signal),
    placeholderData: keepPreviousData,
  });
  const total = first.data?.total ?? 0;
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW,
    overscan: 10,
  });
  const items = virtualizer.getVirtualItems();
  const pages = useMemo(() => {
    const wanted = new Set<number>();
    for (const item of items) if (item.index >= PAGE) wanted.add(Math.floor(item.index / PAGE));
    return [...wanted];
  }, [items]);
  const more = useQueries({
    queries: pages.map((page) => ({
      queryKey: ["run-metrics", runId, filter, page],
      queryFn: ({ signal }: { signal: AbortSignal }) => api.runMetrics(runId, filter, page * PAGE, PAGE, signal),
    })),
  });
  const rowAt = (index: number): MetricSummary | undefined => {
    const page = Math.floor(index / PAGE);
    if (page === 0) return first.data?.metrics[index];
    const found = more[pages.indexOf(page)]?.data;
    return found?.metrics[index % PAGE];
  };
  const width = COLUMNS.reduce((s, c) => s + c[1], 0);

  return (
    <div className="section" style={{ height: "70vh" }}>
      <div className="row">
        <input
          type="search"
          placeholder="Filter metrics by name"
          aria-label="Filter metrics by name"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          style={{ width: 320 }}
        />
        <span className="muted small" data-testid="metric-total">
          {first.data ? `${total.toLocaleString()} metric${total === 1 ? "" : "s"}${filter ? " match" : ""}` : ""}
        </span>
        {first.isFetching && <span className="spinner" aria-label="Loading" />}
        <span className="spacer" />
        <a className="small" href={href(["runs", runId], { tab: "charts", cq: filter || undefined })}>
          Open charts
        </a>
      </div>
      {first.isPending ? (
        <Loading what="metrics" />
      ) : first.isError ? (
        <ErrorView error={first.error} retry={() => void first.refetch()} />
      ) : total === 0 ? (
        <div className="empty">
          {filter ? `No metric name contains "${filter}".` : "This run has logged no metrics."}
        </div>
      ) : (
        <div className="vgrid" ref={scroller} tabIndex={0} role="grid" aria-label="Metrics" aria-rowcount={total + 1}>
          <div className="vhead" role="row" style={{ width }}>
            {COLUMNS.map(([name, w, numeric]) => (
              <div key={name} className={`cell${numeric ? " num" : ""}`} style={{ width: w }} role="columnheader">
                {name}
              </div>
            ))}
          </div>
          <div style={{ height: virtualizer.getTotalSize(), position: "relative", width }}>
            {items.map((item) => {
              const m = rowAt(item.index);
              return (
                <div
                  key={item.key}
                  className="vrow"
                  role="row"
                  style={{ top: item.start, height: ROW, width }}
                  data-metric={m?.key}
                >
                  {m ? (
                    <>
                      <div className="cell mono" style={{ width: 300 }} title={m.key} role="gridcell">
                        {m.key}
                      </div>
                      <div className="cell num" style={{ width: 120 }} title={formatTime(m.timestamp)} role="gridcell">
                        {formatNumber(m.latest)}
                      </div>
                      <div className="cell num" style={{ width: 80 }} role="gridcell">
                        {m.step}
                      </div>
                      <div className="cell num" style={{ width: 120 }} role="gridcell">
                        {formatNumber(m.min)}
                      </div>
                      <div className="cell num" style={{ width: 120 }} role="gridcell">
                        {formatNumber(m.max)}
                      </div>
                      <div className="cell num" style={{ width: 90 }} role="gridcell">
                        {m.count.toLocaleString()}
                      </div>
                      <div className="cell" style={{ width: 150 }} role="gridcell">
                        {m.count > 1 ? (
                          <SparkCell runId={runId} metric={m.key} version={versions?.[m.key]?.[0] ?? m.count} />
                        ) : null}
                      </div>
                    </>
                  ) : (
                    <div className="cell" style={{ width: 300 }}>
                      <span className="skeleton" />
                    </div>
                  )}
                </div>
              );
            })}
          </div>
        </div>
      )}
    </div>
  );
}
