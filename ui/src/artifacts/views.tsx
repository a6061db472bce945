// Structured previews: tables (CSV, and log_table's {"columns", "data"} JSON), JSON, YAML and
// MLmodel files. Tables render only their visible rows.
import { useVirtualizer } from "@tanstack/react-virtual";
import Papa from "papaparse";
import { useMemo, useRef } from "react";
import YAML from "yaml";

export interface Table {
  columns: string[];
  rows: unknown[][];
  truncated: number;
}

const MAX_ROWS = 50_000;

export function parseCsv(text: string, delimiter: string): Table {
  const parsed = Papa.parse<string[]>(text, { delimiter, skipEmptyLines: true, preview: MAX_ROWS + 1 });
  const [header = [], ...rows] = parsed.data;
  return { columns: header, rows: rows.slice(0, MAX_ROWS), truncated: Math.max(0, rows.length - MAX_ROWS) };
}

/** cairn/MLflow `log_table` JSON: {"columns": [...], "data": [[...], ...]}. */
export function asTable(value: unknown): Table | null {
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  const { columns, data } = value as { columns?: unknown; data?: unknown };
  if (!Array.isArray(columns) || !Array.isArray(data) || !data.every(Array.isArray)) return null;
  return {
    columns: columns.map(String),
    rows: (data as unknown[][]).slice(0, MAX_ROWS),
    truncated: Math.max(0, data.length - MAX_ROWS),
  };
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function DataTable({ table }: { table: Table }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: table.rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 30,
    overscan: 10,
  });
  const width = Math.max(1, table.columns.length) * 160;
  return (
    <>
      <span className="muted small">
        {table.rows.length.toLocaleString()} rows × {table.columns.length} columns
        {table.truncated ? ` (first ${MAX_ROWS.toLocaleString()} shown)` : ""}
      </span>
      <div
        className="vgrid"
        ref={scroller}
        style={{ height: 420, flex: "none" }}
        tabIndex={0}
        role="grid"
        aria-label="Table preview"
        data-testid="table-preview"
      >
        <div className="vhead" role="row" style={{ width }}>
          {table.columns.map((c, i) => (
            <div key={`${c}-${i}`} className="cell" style={{ width: 160 }} role="columnheader" title={c}>
              {c}
            </div>
          ))}
        </div>
        <div style={{ height: virtualizer.getTotalSize(), position: "relative", width }}>
          {virtualizer.getVirtualItems().map((item) => (
            <div key={item.key} className="vrow" role="row" style={{ top: item.start, height: 30, width }}>
              {table.columns.map((c, i) => {
                const text = cellText(table.rows[item.index]?.[i]);
                return (
                  <div key={`${c}-${i}`} className="cell" style={{ width: 160 }} role="gridcell" title={text}>
                    {text}
                  </div>
                );
              })}
            </div>
          ))}
        </div>
      </div>
    </>
  );
}

export function JsonView({ text }: { text: string }) {
  const parsed = useMemo(() => {
    try {
      return { value: JSON.parse(text) as unknown, error: null };
    } catch (err) {
      return { value: null, error: err instanceof Error ? err.message : String(err) };
    }
  }, [text]);
  const table = parsed.error ? null : asTable(parsed.value);
  if (table) return <DataTable table={table} />;
  if (parsed.error)
    return (
      <>
        <span className="muted small">Not valid JSON ({parsed.error}); shown as text.</span>
        <pre>{text}</pre>
      </>
    );
  return <pre data-testid="json-preview">{JSON.stringify(parsed.value, null, 2)}</pre>;
}

interface MLmodel {
  artifact_path?: string;
  flavors?: Record<string, Record<string, unknown>>;
  model_uuid?: string;
  run_id?: string;
  utc_time_created?: string;
  signature?: { inputs?: string; outputs?: string; params?: string };
}

function SignatureTable({ title, spec }: { title: string; spec: string | undefined }) {
  if (!spec) return null;
  let fields: { name?: string; type?: string; tensor_spec?: unknown }[] = [];
  try {
    const parsed: unknown = JSON.parse(spec);
    if (Array.isArray(parsed)) fields = parsed as typeof fields;
  } catch {
    return <pre>{spec}</pre>;
  }
  return (
    <div>
      <h3>{title}</h3>
      <table className="plain">
        <thead>
          <tr>
            <th>Name</th>
            <th>Type</th>
          </tr>
        </thead>
        <tbody>
          {fields.map((f, i) => (
            <tr key={`${f.name ?? i}`}>
              <td className="mono">{f.name ?? `#${i}`}</td>
              <td className="mono">{f.type ?? JSON.stringify(f.tensor_spec ?? f)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function MLmodelView({ text }: { text: string }) {
  const model = useMemo(() => {
    try {
      return YAML.parse(text) as MLmodel;
    } catch {
      return null;
    }
  }, [text]);
  return (
    <div className="section" data-testid="mlmodel-preview">
      {model && typeof model === "object" ? (
        <>
          <dl className="kv">
            <dt>Flavors</dt>
            <dd>
              {Object.keys(model.flavors ?? {}).map((f) => (
                <span key={f} className="tag-chip" style={{ marginRight: 4 }}>
                  {f}
                </span>
              ))}
            </dd>
            {model.model_uuid && (
              <>
                <dt>Model UUID</dt>
                <dd className="mono">{model.model_uuid}</dd>
              </>
            )}
            {model.utc_time_created && (
              <>
                <dt>Created (UTC)</dt>
                <dd>{model.utc_time_created}</dd>
              </>
            )}
          </dl>
          <div className="two-col">
            <SignatureTable title="Inputs" spec={model.signature?.inputs} />
            <SignatureTable title="Outputs" spec={model.signature?.outputs} />
          </div>
        </>
      ) : (
        <span className="muted small">Could not parse this MLmodel file; shown as text.</span>
      )}
      <details>
        <summary>MLmodel (YAML)</summary>
        <pre>{text}</pre>
      </details>
    </div>
  );
}
