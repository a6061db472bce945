// Plots of a few selected runs (SVG: at most a hundred lines or points, each with a tooltip).
import { formatNumber } from "../../lib/format";

export interface Axis {
  id: string;
  label: string;
  /** per run, in run order; null when the run lacks it or it cannot be drawn */
  values: (number | string | null)[];
  /** per run: its value when that is NaN or infinite (so null above), to say why it is missing */
  notFinite?: (string | null)[];
}

type PlotRun = { id: string; name: string; color: string };

/** The runs a plot leaves out of an axis because their value there is NaN or infinite. */
export function UndrawnNote({ axes, runs }: { axes: Axis[]; runs: PlotRun[] }) {
  const missing = runs.flatMap((run, r) =>
    axes.flatMap((axis) => {
      const value = axis.notFinite?.[r];
      return value ? [`${run.name || run.id} (${axis.label} = ${value})`] : [];
    }),
  );
  if (!missing.length) return null;
  return (
    <div className="muted small" data-testid="plot-note">
      Not drawn on an axis where the value is NaN or infinite: {missing.join(", ")}.
    </div>
  );
}

interface Scale {
  map: (v: number | string) => number;
  ticks: { at: number; label: string }[];
}

function makeScale(values: (number | string | null)[], from: number, to: number): Scale {
  const present = values.filter((v): v is number | string => v !== null);
  const numeric = present.every((v) => typeof v === "number" && Number.isFinite(v));
  if (numeric && present.length) {
    const nums = present as number[];
    const low = Math.min(...nums);
    const high = Math.max(...nums);
    const span = high - low || 1;
    const map = (v: number | string) =>
      from + ((Number(v) - (high === low ? low - 0.5 : low)) / (high === low ? 1 : span)) * (to - from);
    const ticks = [low, (low + high) / 2, high]
      .filter((v, i, a) => a.indexOf(v) === i)
      .map((v) => ({ at: map(v), label: formatNumber(v) }));
    return { map, ticks };
  }
  const categories = [...new Set(present.map(String))].sort();
  const step = categories.length > 1 ? (to - from) / (categories.length - 1) : 0;
  const position = new Map(categories.map((c, i) => [c, categories.length > 1 ? from + i * step : (from + to) / 2]));
  return {
    map: (v) => position.get(String(v)) ?? from,
    ticks: categories.slice(0, 12).map((c) => ({ at: position.get(c) ?? from, label: c })),
  };
}

export function ParallelCoordinates({ axes, runs }: { axes: Axis[]; runs: PlotRun[] }) {
  const width = Math.max(480, axes.length * 150);
  const height = 320;
  const top = 30;
  const bottom = height - 20;
  const x = (i: number) => 60 + (i * (width - 120)) / Math.max(1, axes.length - 1);
  const scales = axes.map((a) => makeScale(a.values, bottom, top));
  return (
    <svg
      className="pc-svg"
      width={width}
      height={height}
      role="img"
      aria-label="Parallel coordinates"
      data-testid="parallel-coordinates"
    >
      {axes.map((axis, i) => (
        <g key={axis.id}>
          <line className="axis" x1={x(i)} x2={x(i)} y1={top} y2={bottom} />
          <text x={x(i)} y={16} textAnchor="middle" style={{ fontWeight: 600 }}>
            {axis.label.length > 22 ? `${axis.label.slice(0, 21)}…` : axis.label}
          </text>
          {scales[i]?.ticks.map((t) => (
            <text key={`${t.label}-${t.at}`} x={x(i) + 4} y={t.at + 4}>
              {t.label}
            </text>
          ))}
        </g>
      ))}
      {runs.map((run, r) => {
        const points = axes
          .map((axis, i) => {
            const v = axis.values[r];
            return v === null || v === undefined ? null : `${x(i)},${scales[i]?.map(v)}`;
          })
          .filter(Boolean)
          .join(" ");
        return (
          <polyline key={run.id} points={points} fill="none" stroke={run.color} strokeWidth={2} opacity={0.85}>
            <title>{run.name}</title>
          </polyline>
        );
      })}
    </svg>
  );
}

export function ScatterPlot({ xAxis, yAxis, runs }: { xAxis: Axis; yAxis: Axis; runs: PlotRun[] }) {
  const width = 520;
  const height = 360;
  const sx = makeScale(xAxis.values, 60, width - 20);
  const sy = makeScale(yAxis.values, height - 40, 20);
  return (
    <svg
      className="scatter-svg"
      width={width}
      height={height}
      role="img"
      aria-label={`Scatter of ${yAxis.label} against ${xAxis.label}`}
      data-testid="scatter"
    >
      <line className="axis" x1={60} x2={width - 20} y1={height - 40} y2={height - 40} />
      <line className="axis" x1={60} x2={60} y1={20} y2={height - 40} />
      {sx.ticks.map((t) => (
        <text key={`x${t.label}`} x={t.at} y={height - 24} textAnchor="middle">
          {t.label}
        </text>
      ))}
      {sy.ticks.map((t) => (
        <text key={`y${t.label}`} x={54} y={t.at + 4} textAnchor="end">
          {t.label}
        </text>
      ))}
      <text x={(width + 40) / 2} y={height - 6} textAnchor="middle">
        {xAxis.label}
      </text>
      <text x={14} y={height / 2} textAnchor="middle" transform={`rotate(-90 14 ${height / 2})`}>
        {yAxis.label}
      </text>
      {runs.map((run, r) => {
        const vx = xAxis.values[r];
        const vy = yAxis.values[r];
        if (vx === null || vx === undefined || vy === null || vy === undefined) return null;
        return (
          <circle key={run.id} cx={sx.map(vx)} cy={sy.map(vy)} r={6} fill={run.color} stroke="var(--bg)">
            <title>{`${run.name}: ${xAxis.label}=${vx}, ${yAxis.label}=${vy}`}</title>
          </circle>
        );
      })}
    </svg>
  );
}
