// Datasets the run used (log_input): name, digest, source, context, schema.
import type { Run } from "../../lib/types";

function pretty(text: string | undefined): string {
  if (!text) return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function Datasets({ run }: { run: Run }) {
  const inputs = run.inputs?.dataset_inputs ?? [];
  return (
    <div className="card" data-testid="datasets">
      <div className="card-head">
        <h2 style={{ margin: 0 }}>Datasets</h2>
        <span className="muted small">{inputs.length}</span>
      </div>
      {inputs.length === 0 ? (
        <div className="empty small">No datasets logged with this run.</div>
      ) : (
        <table className="plain" aria-label="Datasets">
          <thead>
            <tr>
              <th>Name</th>
              <th>Context</th>
              <th>Digest</th>
              <th>Source</th>
              <th>Schema</th>
            </tr>
          </thead>
          <tbody>
            {inputs.map((input, i) => {
              const context = input.tags?.find((t) => t.key === "mlflow.data.context")?.value;
              const d = input.dataset;
              return (
                <tr key={`${d.name}-${d.digest}-${i}`}>
                  <td>{d.name}</td>
                  <td>{context ?? "—"}</td>
                  <td className="mono">{d.digest}</td>
                  <td className="mono small" style={{ overflowWrap: "anywhere" }}>
                    {d.source_type}: {d.source}
                  </td>
                  <td>
                    {d.schema ? (
                      <details>
                        <summary>schema</summary>
                        <pre>{pretty(d.schema)}</pre>
                      </details>
                    ) : (
                      "—"
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
