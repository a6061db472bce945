// One chart per metric key for a set of runs. Thousands of keys: filtered by name, shown a
// screenful at a time, and a chart only fetches and draws once it scrolls into view. Running
// runs are polled; a chart re-fetches only when its metric got new points.
import { useQuery } from "@tanstack/react-query";
import { type ReactNode, useEffect, useMemo, useRef, useState } from "react";
import { ErrorView, Loading } from "../components/common";
import { api } from "../lib/api";
import { shortId } from "../lib/format";
import { useParams } from "../lib/route";
import { runColor } from "../lib/theme";
import type { XAxis } from "../lib/types";
import { type ChartSettings, MetricChart } from "./MetricChart";

const STEP = 24;
const LIVE_MS = 3000;

function WhenVisible({ children, height }: { children: ReactNode; height: number }) {
  const ref = useRef<HTMLDivElement>(null);
  const [seen, setSeen] = useState(false);
  useEffect(() => {
    const element = ref.current;
    if (!element || seen) return undefined;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) setSeen(true);
      },
      { rootMargin: "200px" },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [seen]);
  return <div ref={ref}>{seen ? children : <div className="chart-card" style={{ height }} aria-hidden="true" />}</div>;
}

export function useChartSettings(): [ChartSettings, (changes: Record<string, string | null>) => void] {
  const [params, setParams] = useParams();
  const x = params.get("x");
  const settings: ChartSettings = {
    xAxis: x === "time" || x === "relative" ? (x as XAxis) : "step",
    smoothing: Math.min(0.99, Math.max(0, Number(params.get("smooth") ?? 0) || 0)),
    log: params.get("log") === "1",
  };
  return [settings, setParams];
}

export function ChartControls({
  settings,
  onChange,
}: {
  settings: ChartSettings;
  onChange: (changes: Record<string, string | null>) => void;
}) {
  return (
    <div className="row small">
      <label>
        X axis
        <select
          value={settings.xAxis}
          onChange={(e) => onChange({ x: e.target.value === "step" ? null : e.target.value })}
        >
          <option value="step">Step</option>
          <option value="time">Wall time</option>
          <option value="relative">Relative time</option>
        </select>
      </label>
      <label>
        Smoothing
        <input
          type="range"
          min={0}
          max={0.99}
          step={0.01}
          value={settings.smoothing}
          aria-label="Smoothing"
          onChange={(e) => onChange({ smooth: Number(e.target.value) > 0 ? e.target.value : null })}
        />
        <span className="mono">{settings.smoothing.toFixed(2)}</span>
      </label>
      <label>
        <input
          type="checkbox"
          checked={settings.log}
          onChange={(e) => onChange({ log: e.target.checked ? "1" : null })}
        />
        Log scale
      </label>
    </div>
  );
}

export default function ChartsPanel({
  runIds,
  metricKeys,
  names,
}: {
  runIds: string[];
  metricKeys?: string[];
  names?: Map<string, string>;
}) {
  const [params, setParams] = useParams();
  const [settings] = useChartSettings();
  const search = params.get("cq") ?? "";
  const [limit, setLimit] = useState(STEP);
  useEffect(() => setLimit(STEP), [search]);

  const states = useQuery({
    queryKey: ["run-states", runIds],
    queryFn: ({ signal }) => api.runStates(runIds, signal),
    refetchInterval: (q) => (q.state.data?.some((s) => s.status === "RUNNING") ? LIVE_MS : false),
  });
  const keys = useMemo(() => {
    if (metricKeys) return metricKeys;
    const all = new Set<string>();
    states.data?.forEach((s) => Object.keys(s.metrics).forEach((k) => all.add(k)));
    return [...all].sort();
  }, [metricKeys, states.data]);
  const shown = useMemo(() => {
    const needle = search.toLowerCase();
    return needle ? keys.filter((k) => k.toLowerCase().includes(needle)) : keys;
  }, [keys, search]);
  const colors = useMemo(() => new Map(runIds.map((id, i) => [id, runColor(i)])), [runIds]);
  const labels = useMemo(() => new Map(runIds.map((id) => [id, names?.get(id) ?? shortId(id)])), [runIds, names]);

  if (states.isPending) return <Loading what="metrics" />;
  if (states.isError) return <ErrorView error={states.error} retry={() => void states.refetch()} />;
  const version = (key: string) =>
    runIds.map((id) => states.data.find((s) => s.run_id === id)?.metrics[key]?.[0] ?? 0).join(",");

  return (
    <div className="section" data-testid="charts">
      <div className="row">
        <input
          type="search"
          placeholder={`Filter ${keys.length.toLocaleString()} metrics by name`}
          aria-label="Filter charts by metric name"
          value={search}
          onChange={(e) => setParams({ cq: e.target.value })}
          style={{ width: 320 }}
        />
        <ChartControls settings={settings} onChange={setParams} />
        <span className="muted small">
          {shown.length.toLocaleString()} chart{shown.length === 1 ? "" : "s"} · {runIds.length} run
          {runIds.length === 1 ? "" : "s"} · drag to zoom, double-click to reset
        </span>
      </div>
      {shown.length === 0 ? (
        <div className="empty">
          {keys.length ? "No metric matches this name." : "These runs have logged no metrics yet."}
        </div>
      ) : (
        <div className="chart-grid">
          {shown.slice(0, limit).map((key) => (
            <WhenVisible key={key} height={300}>
              <MetricChart
                metricKey={key}
                runIds={runIds}
                names={labels}
                colors={colors}
                settings={settings}
                version={version(key)}
              />
            </WhenVisible>
          ))}
        </div>
      )}
      {shown.length > limit && (
        <button type="button" onClick={() => setLimit((l) => l + STEP)} style={{ alignSelf: "center" }}>
          Show {Math.min(STEP, shown.length - limit)} more charts ({(shown.length - limit).toLocaleString()} not shown)
        </button>
      )}
    </div>
  );
}
