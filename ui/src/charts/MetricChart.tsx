// One metric of several runs, drawn by uPlot on a canvas. Drag to zoom: the zoomed range is
// fetched again from the server at full resolution; double-click (or Reset) zooms out.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import uPlot from "uplot";
import { ErrorView } from "../components/common";
import { api } from "../lib/api";
import { formatNumber } from "../lib/format";
import { cssVar } from "../lib/theme";
import type { XAxis } from "../lib/types";
import { align, xLabel } from "./data";

export interface ChartSettings {
  xAxis: XAxis;
  smoothing: number;
  log: boolean;
}

const BUCKETS = 500;

function withAlpha(color: string, alpha: number): string {
  const hex = color.replace("#", "");
  const n = Number.parseInt(hex, 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** The x range. All points at one x (one step, or logged in the same millisecond) make a
 * range of no width, which uPlot widens on its own: 1,000 days after the point on a wall-time
 * axis, with the points on its left edge. Such a value is put in the middle of a small window. */
function xRange(xAxis: XAxis): uPlot.Range.Function {
  const pad = xAxis === "time" ? 30 : 1; // wall time: 30 s either side; steps or seconds: 1
  return (u, min, max) => {
    const xs = u.data[0];
    const first = xs[0];
    if (first !== undefined && first === xs[xs.length - 1]) return [first - pad, first + pad];
    return [min, max];
  };
}

/** Labels of the y axis. uPlot passes null for the ticks it leaves unlabelled (the minor
 * ticks of a log scale): those get no label, not formatNumber's dash for "no value". */
function yLabels(_u: uPlot, splits: (number | null)[]): string[] {
  return splits.map((v) => (v === null || v === undefined ? "" : formatNumber(v)));
}

/** What a chart leaves out of its lines, said in words (null when every point is drawn). */
function undrawnNote(notFinite: number, notPositive: number): string | null {
  const total = notFinite + notPositive;
  if (!total) return null;
  const why =
    notFinite && notPositive
      ? `${notFinite.toLocaleString()} NaN or infinite, ${notPositive.toLocaleString()} zero or negative on a log scale`
      : notFinite
        ? "NaN or infinite"
        : "zero or negative, on a log scale";
  return `${total.toLocaleString()} point${total === 1 ? "" : "s"} not drawn (${why})`;
}

function formatX(xAxis: XAxis, v: number): string {
  if (xAxis === "time") return new Date(v * 1000).toLocaleString();
  if (xAxis === "relative") return `${formatNumber(v)} s`;
  return formatNumber(v);
}

export function MetricChart({
  metricKey,
  runIds,
  names,
  colors,
  settings,
  version,
  height = 220,
}: {
  metricKey: string;
  runIds: string[];
  names: Map<string, string>;
  colors: Map<string, string>;
  settings: ChartSettings;
  version: string;
  height?: number;
}) {
  const [zoom, setZoom] = useState<[number, number] | null>(null);
  useEffect(() => setZoom(null), [settings.xAxis]);
  const query = useQuery({
    queryKey: ["series", runIds, metricKey, settings.xAxis, zoom, version],
    queryFn: ({ signal }) =>
      api.metricSeries(
        {
          run_ids: runIds,
          key: metricKey,
          x_axis: settings.xAxis,
          buckets: BUCKETS,
          // wall time is shown in seconds; the server speaks milliseconds
          x_min: zoom ? (settings.xAxis === "time" ? zoom[0] * 1000 : zoom[0]) : undefined,
          x_max: zoom ? (settings.xAxis === "time" ? zoom[1] * 1000 : zoom[1]) : undefined,
        },
        signal,
      ),
    placeholderData: (previous) => previous,
    staleTime: 60_000,
  });
  const aligned = useMemo(
    () => (query.data ? align(query.data, settings.xAxis, settings.smoothing, settings.log) : null),
    [query.data, settings.xAxis, settings.smoothing, settings.log],
  );

  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [hover, setHover] = useState<{ x: string; values: Map<string, string> } | null>(null);
  const [themeTick, setThemeTick] = useState(0);
  useEffect(() => {
    const onTheme = () => setThemeTick((t) => t + 1);
    window.addEventListener("cairn-theme", onTheme);
    return () => window.removeEventListener("cairn-theme", onTheme);
  }, []);

  useEffect(() => {
    const element = box.current;
    if (!element || !aligned) return undefined;
    const text = cssVar("--text-soft") || "#555";
    const grid = cssVar("--grid") || "#eee";
    const series: uPlot.Series[] = [{ label: xLabel(settings.xAxis) }];
    const bands: uPlot.Band[] = [];
    for (const item of aligned.layout) {
      const color = colors.get(item.runId) ?? "#888";
      series.push({
        label: names.get(item.runId) ?? item.runId,
        stroke: color,
        width: 1.5,
        spanGaps: true,
        points: { show: item.raw && item.count < 60 },
      });
      if (item.band) {
        series.push({ stroke: "transparent", width: 0, spanGaps: true, points: { show: false } });
        series.push({ stroke: "transparent", width: 0, spanGaps: true, points: { show: false } });
        bands.push({ series: item.band, fill: withAlpha(color, 0.22) });
      }
    }
    let frame = 0;
    const options: uPlot.Options = {
      width: element.clientWidth || 400,
      height,
      series,
      bands,
      legend: { show: false },
      scales: {
        x: { time: settings.xAxis === "time", range: xRange(settings.xAxis) },
        y: settings.log ? { distr: 3 } : {},
      },
      axes: [
        { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        {
          stroke: text,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          size: 60,
          values: yLabels,
        },
      ],
      cursor: { drag: { x: true, y: false, setScale: false }, points: { size: 6 } },
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 4) return;
            const low = u.posToVal(u.select.left, "x");
            const high = u.posToVal(u.select.left + u.select.width, "x");
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            setZoom([low, high]);
          },
        ],
        setCursor: [
          (u) => {
            cancelAnimationFrame(frame);
            frame = requestAnimationFrame(() => {
              const index = u.cursor.idx;
              if (index === null || index === undefined) {
                setHover(null);
                return;
              }
              const values = new Map<string, string>();
              for (const item of aligned.layout) {
                const value = u.data[item.line]?.[index];
                if (value === null || value === undefined) continue;
                let shown = formatNumber(value);
                if (item.band) {
                  const hi = u.data[item.band[0]]?.[index];
                  const lo = u.data[item.band[1]]?.[index];
                  if (hi !== null && hi !== undefined && lo !== null && lo !== undefined && hi !== lo)
                    shown += ` (${formatNumber(lo)} … ${formatNumber(hi)})`;
                }
                values.set(item.runId, shown);
              }
              setHover({ x: formatX(settings.xAxis, u.data[0][index] as number), values });
            });
          },
        ],
      },
    };
    const chart = new uPlot(options, aligned.data, element);
    plot.current = chart;
    const reset = () => setZoom(null);
    chart.over.addEventListener("dblclick", reset);
    const observer = new ResizeObserver(() => chart.setSize({ width: element.clientWidth, height }));
    observer.observe(element);
    return () => {
      cancelAnimationFrame(frame);
      observer.disconnect();
      chart.over.removeEventListener("dblclick", reset);
      chart.destroy();
      plot.current = null;
    };
  }, [aligned, colors, names, height, settings.log, settings.xAxis, themeTick]);

  const empty = aligned && aligned.layout.every((l) => l.drawable === 0);
  const hidden = aligned ? aligned.layout.reduce((n, l) => n + l.count, 0) : 0;
  const bucketed = aligned?.layout.some((l) => !l.raw);
  const note =
    aligned && !empty
      ? undrawnNote(
          aligned.layout.reduce((n, l) => n + l.notFinite, 0),
          aligned.layout.reduce((n, l) => n + l.notPositive, 0),
        )
      : null;
  return (
    <div className="chart-card" data-testid="metric-chart" data-metric={metricKey}>
      <div className="title">
        <span className="ellipsis" title={metricKey}>
          {metricKey}
        </span>
        {query.isFetching && <span className="spinner" aria-label="Loading" />}
        <span className="spacer" />
        {bucketed && (
          <span
            className="muted small"
            title="Downsampled on the server: the band shows each bucket's min and max. Drag to zoom in for full resolution."
          >
            min–max band
          </span>
        )}
        {zoom && (
          <button type="button" className="link small" onClick={() => setZoom(null)}>
            Reset zoom
          </button>
        )}
      </div>
      {query.isError ? (
        <ErrorView error={query.error} retry={() => void query.refetch()} />
      ) : empty ? (
        <div className="empty small">
          {hidden === 0
            ? `No values${zoom ? " in this range" : ""}.`
            : `No values to draw: ${hidden.toLocaleString()} point${hidden === 1 ? " is" : "s are"} NaN or infinite${settings.log ? " (or not positive, on a log scale)" : ""}.`}
        </div>
      ) : null}
      <div
        className="chart-box"
        ref={box}
        style={{ display: query.isError || empty ? "none" : undefined }}
        aria-label={`Chart of ${metricKey}`}
        role="img"
      />
      {note && !query.isError && (
        <div className="muted small" data-testid="chart-note">
          {note}
        </div>
      )}
      <div className="chart-legend" aria-live="off">
        {hover && <span className="muted">{hover.x}</span>}
        {runIds.map((id) => (
          <span key={id} className="ellipsis" style={{ maxWidth: 260 }}>
            <span className="swatch" style={{ background: colors.get(id) }} />
            {names.get(id) ?? id}
            {hover?.values.has(id) ? `: ${hover.values.get(id)}` : ""}
          </span>
        ))}
      </div>
    </div>
  );
}
