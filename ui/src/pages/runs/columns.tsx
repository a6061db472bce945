// The runs table's columns: fixed ones (name, status, times, user, source) and the ones the
// user chose among params, tags and metrics.
import type { ReactNode } from "react";
import { Status } from "../../components/common";
import { type Column, columnOrderKey, parseColumn } from "../../lib/filter";
import { formatDuration, formatNumber, formatTime, timeTitle } from "../../lib/format";
import { href } from "../../lib/route";
import type { RunRow } from "../../lib/types";

export interface ColumnSpec {
  id: string;
  title: string;
  width: number;
  numeric?: boolean;
  /** order_by identifier; absent: not sortable */
  sortKey?: string;
  chosen?: Column;
  render: (row: RunRow) => ReactNode;
  text: (row: RunRow) => string;
}

function sourceName(source: string | null): string {
  if (!source) return "";
  const parts = source.split(/[\\/]/);
  return parts[parts.length - 1] || source;
}

export function fixedColumns(experimentNames: Map<string, string> | null): ColumnSpec[] {
  const columns: ColumnSpec[] = [
    {
      id: "run_name",
      title: "Run",
      width: 240,
      sortKey: "attributes.run_name",
      render: (r) => (
        <a href={href(["runs", r.run_id])} className="ellipsis" title={r.run_name} tabIndex={-1}>
          {r.run_name || r.run_id}
        </a>
      ),
      text: (r) => r.run_name,
    },
    {
      id: "status",
      title: "Status",
      width: 110,
      sortKey: "attributes.status",
      render: (r) => <Status status={r.status} />,
      text: (r) => r.status,
    },
    {
      id: "start_time",
      title: "Started",
      width: 170,
      sortKey: "attributes.start_time",
      render: (r) => <span title={timeTitle(r.start_time)}>{formatTime(r.start_time)}</span>,
      text: (r) => formatTime(r.start_time),
    },
    {
      id: "duration",
      title: "Duration",
      width: 100,
      numeric: true,
      sortKey: "attributes.duration",
      render: (r) => (r.end_time || r.status === "RUNNING" ? formatDuration(r.start_time, r.end_time) : "—"),
      text: (r) => formatDuration(r.start_time, r.end_time),
    },
    {
      id: "user_id",
      title: "User",
      width: 110,
      sortKey: "attributes.user_id",
      render: (r) => <span title={r.user_id ?? ""}>{r.user_id ?? "—"}</span>,
      text: (r) => r.user_id ?? "",
    },
    {
      id: "source",
      title: "Source",
      width: 150,
      sortKey: "tags.`mlflow.source.name`",
      render: (r) => <span title={r.source ?? ""}>{sourceName(r.source) || "—"}</span>,
      text: (r) => r.source ?? "",
    },
  ];
  if (experimentNames) {
    columns.splice(1, 0, {
      id: "experiment",
      title: "Experiment",
      width: 150,
      render: (r) => <span title={r.experiment_id}>{experimentNames.get(r.experiment_id) ?? r.experiment_id}</span>,
      text: (r) => experimentNames.get(r.experiment_id) ?? r.experiment_id,
    });
  }
  return columns;
}

export function chosenColumn(id: string): ColumnSpec | null {
  const column = parseColumn(id);
  if (!column) return null;
  const value = (r: RunRow) => r.values[column.id];
  const numeric = column.entity === "metrics";
  return {
    id: column.id,
    title: column.key,
    // wide enough for the key (cut at 260 px; the header's tooltip has all of it)
    width: Math.max(numeric ? 120 : 110, Math.min(260, column.key.length * 8 + 44)),
    numeric,
    sortKey: columnOrderKey(column),
    chosen: column,
    render: (r) => {
      const v = value(r);
      if (v === undefined || v === null) return <span className="muted">—</span>;
      const text = numeric ? formatNumber(v) : String(v);
      return <span title={String(v)}>{text}</span>;
    },
    text: (r) => {
      const v = value(r);
      return v === undefined || v === null ? "" : String(v);
    },
  };
}

/** Parse "identifier DIR" as stored in the URL. */
export function parseOrder(order: string | null): { key: string; desc: boolean } | null {
  if (!order) return null;
  const match = /^(.*?)\s+(ASC|DESC)$/i.exec(order.trim());
  if (!match) return { key: order.trim(), desc: false };
  return { key: match[1] as string, desc: (match[2] as string).toUpperCase() === "DESC" };
}
