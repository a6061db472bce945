// Turning server series into uPlot's aligned columns: one shared x, and per run a line plus,
// when the server bucketed the series, the min and max of each bucket (drawn as a band, so
// a spike inside a bucket is never lost).
import uPlot from "uplot";
import type { Series, XAxis } from "../lib/types";

export interface RunLayout {
  runId: string;
  line: number; // series index in the aligned data
  band: [number, number] | null; // [max, min] series indexes
  raw: boolean;
  count: number;
  /** points that can be drawn (not NaN, infinite, or non-positive on a log scale) */
  drawable: number;
  /** points of a raw series left out: NaN or infinite, and (on a log scale) zero or negative.
   * A downsampled series cannot tell: its buckets summarize the points they hold. */
  notFinite: number;
  notPositive: number;
}

export interface Aligned {
  data: uPlot.AlignedData;
  layout: RunLayout[];
}

const finite = (v: number | null | undefined, log: boolean): number | null =>
  v === null || v === undefined || !Number.isFinite(v) || (log && v <= 0) ? null : v;

/** Exponential moving average with TensorBoard's debiasing; gaps stay gaps. */
export function smooth(values: (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values;
  let last = 0;
  let steps = 0;
  return values.map((v) => {
    if (v === null) return null;
    last = last * weight + (1 - weight) * v;
    steps += 1;
    return last / (1 - weight ** steps);
  });
}

export function align(series: Series[], xAxis: XAxis, smoothing: number, log: boolean): Aligned {
  const tables: uPlot.AlignedData[] = [];
  const layout: RunLayout[] = [];
  let next = 1;
  for (const s of series) {
    const x = xAxis === "time" ? s.x.map((v) => v / 1000) : s.x;
    const y = smooth(
      s.y.map((v) => finite(v, log)),
      smoothing,
    );
    const banded = !s.raw && s.y_min && s.y_max;
    const notFinite = s.raw ? s.y.filter((v) => v === null || !Number.isFinite(v)).length : 0;
    const notPositive = s.raw && log ? s.y.filter((v) => v !== null && Number.isFinite(v) && v <= 0).length : 0;
    const columns: (number | null)[][] = [y];
    if (banded) {
      columns.push(
        (s.y_max ?? []).map((v) => finite(v, log)),
        (s.y_min ?? []).map((v) => finite(v, log)),
      );
    }
    tables.push([x, ...columns] as uPlot.AlignedData);
    layout.push({
      runId: s.run_id,
      line: next,
      band: banded ? [next + 1, next + 2] : null,
      raw: s.raw,
      count: s.count ?? s.x.length,
      drawable: columns.reduce((n, column) => n + column.filter((v) => v !== null).length, 0),
      notFinite,
      notPositive,
    });
    next += columns.length;
  }
  if (tables.length === 0) return { data: [[]], layout };
  const data = tables.length === 1 ? (tables[0] as uPlot.AlignedData) : uPlot.join(tables);
  return { data, layout };
}

export function xLabel(xAxis: XAxis): string {
  return xAxis === "step" ? "step" : xAxis === "time" ? "wall time" : "seconds since start";
}
