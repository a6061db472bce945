// A small line of one metric: the server sends at most a few dozen buckets, each with its
// min and max (a light band) and last value (the line).
import type { Series } from "../../lib/types";

export function Sparkline({
  series,
  width = 120,
  height = 26,
}: {
  series: Series | undefined;
  width?: number;
  height?: number;
}) {
  if (!series || series.x.length === 0) return <svg width={width} height={height} aria-hidden="true" />;
  const ys: number[] = [];
  const keep = (v: number | null | undefined) => {
    if (v !== null && v !== undefined && Number.isFinite(v)) ys.push(v);
  };
  series.y.forEach(keep);
  series.y_min?.forEach(keep);
  series.y_max?.forEach(keep);
  if (ys.length === 0) return <svg width={width} height={height} aria-hidden="true" />;
  const x0 = series.x[0] as number;
  const x1 = series.x[series.x.length - 1] as number;
  const low = Math.min(...ys);
  const high = Math.max(...ys);
  const sx = (x: number) => (x1 === x0 ? width / 2 : ((x - x0) / (x1 - x0)) * (width - 4) + 2);
  const sy = (y: number) => (high === low ? height / 2 : height - 2 - ((y - low) / (high - low)) * (height - 4));
  const line = series.x
    .map((x, i) => {
      const y = series.y[i];
      return y === null || y === undefined || !Number.isFinite(y) ? null : `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`;
    })
    .filter(Boolean)
    .join(" ");
  let band = "";
  if (series.y_min && series.y_max) {
    const top = series.x.map(
      (x, i) => `${sx(x).toFixed(1)},${sy((series.y_max?.[i] ?? series.y[i] ?? low) as number).toFixed(1)}`,
    );
    const bottom = series.x
      .map((x, i) => `${sx(x).toFixed(1)},${sy((series.y_min?.[i] ?? series.y[i] ?? low) as number).toFixed(1)}`)
      .reverse();
    band = [...top, ...bottom].join(" ");
  }
  return (
    <svg className="sparkline" width={width} height={height} role="img" aria-label="trend">
      {band && <polygon points={band} fill="var(--accent)" opacity={0.18} />}
      <polyline points={line} fill="none" stroke="var(--accent)" strokeWidth={1.3} />
    </svg>
  );
}
