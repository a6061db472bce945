// Logged models (MLflow 3) the run produced (`outputs.model_outputs`) and used
// (`inputs.model_inputs`). The run only names them by id, so each is fetched on its own, all at
// once; one that cannot be fetched (deleted, unknown) shows its id and why, and nothing else.
import { useQueries, type UseQueryResult } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { errorMessage } from "../../components/common";
import { ApiError, api } from "../../lib/api";
import { href } from "../../lib/route";
import type { LoggedModel, Run } from "../../lib/types";

/** The path of `uri` inside the run's artifacts ("" for the root), or null when it is elsewhere
 * (models from `log_model` live under the experiment, not the run, so most are elsewhere). */
export function pathUnderRun(uri: string | undefined, runUri: string | undefined): string | null {
  if (!uri || !runUri) return null;
  const model = uri.replace(/\/+$/, "");
  const root = runUri.replace(/\/+$/, "");
  if (model === root) return "";
  return model.startsWith(`${root}/`) ? model.slice(root.length + 1) : null;
}

/** "LOGGED_MODEL_UPLOAD_FAILED" -> "Upload failed". */
function statusLabel(status: string | undefined): string {
  if (!status) return "—";
  const word = status
    .replace(/^LOGGED_MODEL_/, "")
    .replace(/_/g, " ")
    .toLowerCase();
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function CopyableUri({ uri, name }: { uri: string; name: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = window.setTimeout(() => setCopied(false), 1500);
    return () => window.clearTimeout(timer);
  }, [copied]);
  // The clipboard API is missing outside secure contexts; the URI stays selectable text then.
  const canCopy = typeof navigator !== "undefined" && !!navigator.clipboard;
  return (
    <span className="row" style={{ gap: 4, flexWrap: "nowrap" }}>
      <code className="mono small break-anywhere" data-testid="model-artifact-uri">
        {uri}
      </code>
      {canCopy && (
        <button
          type="button"
          className="icon small"
          aria-label={`Copy artifact URI of ${name}`}
          onClick={() =>
            navigator.clipboard.writeText(uri).then(
              () => setCopied(true),
              () => undefined,
            )
          }
        >
          {copied ? "Copied" : "Copy"}
        </button>
      )}
    </span>
  );
}

function ModelFiles({ model, run }: { model: LoggedModel; run: Run }) {
  const uri = model.info.artifact_uri;
  if (!uri) return <span className="muted">—</span>;
  const path = pathUnderRun(uri, run.info.artifact_uri);
  if (path === null) return <CopyableUri uri={uri} name={model.info.name} />;
  return (
    <a href={href(["runs", run.info.run_id], { tab: "artifacts", path })} className="mono small">
      {path || "artifacts"}
    </a>
  );
}

type ModelQuery = UseQueryResult<LoggedModel>;

/** The cells of one model after its id: those it cannot fill say why, in one cell. */
function ModelCells({ query, run, columns }: { query: ModelQuery | undefined; run: Run; columns: number }) {
  if (!query || query.isPending)
    return (
      <td colSpan={columns} className="muted">
        …
      </td>
    );
  if (query.isError) {
    const error = query.error;
    const note =
      error instanceof ApiError && error.isNotFound
        ? "not found (deleted?)"
        : `could not be loaded: ${errorMessage(error)}`;
    return (
      <td colSpan={columns} className="muted small" data-testid="model-missing">
        {note}
      </td>
    );
  }
  const { info } = query.data;
  return (
    <>
      <td>{info.status ? statusLabel(info.status) : "—"}</td>
      <td>{info.model_type || "—"}</td>
      <td>
        <ModelFiles model={query.data} run={run} />
      </td>
    </>
  );
}

function ModelName({ query }: { query: ModelQuery | undefined }) {
  return <td className="break-anywhere">{query?.data?.info.name ?? "—"}</td>;
}

function SourceRun({ query, run }: { query: ModelQuery | undefined; run: Run }) {
  const source = query?.data?.info.source_run_id;
  if (!source) return <td className="muted">—</td>;
  if (source === run.info.run_id) return <td className="muted">this run</td>;
  return (
    <td>
      <a href={href(["runs", source])} className="mono small">
        {source}
      </a>
    </td>
  );
}

export function LoggedModels({ run }: { run: Run }) {
  const outputs = run.outputs?.model_outputs ?? [];
  const inputs = run.inputs?.model_inputs ?? [];
  const ids = [...new Set([...outputs, ...inputs].map((m) => m.model_id))];
  const queries = useQueries({
    queries: ids.map((id) => ({
      queryKey: ["logged-model", id],
      queryFn: ({ signal }: { signal: AbortSignal }) => api.getLoggedModel(id, signal),
    })),
  });
  const byId = new Map(ids.map((id, i) => [id, queries[i]]));
  return (
    <div className="card" data-testid="logged-models">
      <div className="card-head">
        <h2 style={{ margin: 0 }}>Logged models</h2>
        <span className="muted small">{ids.length}</span>
      </div>
      {ids.length === 0 && <div className="empty small">No models logged or used by this run.</div>}
      {outputs.length > 0 && (
        <table className="plain" aria-label="Models produced by this run">
          <caption className="muted small" style={{ textAlign: "left", padding: "8px 12px 4px" }}>
            Produced by this run
          </caption>
          <thead>
            <tr>
              <th>Name</th>
              <th>Model ID</th>
              <th>Step</th>
              <th>Status</th>
              <th>Type</th>
              <th>Files</th>
            </tr>
          </thead>
          <tbody>
            {outputs.map((m, i) => (
              <tr key={`${m.model_id}-${i}`}>
                <ModelName query={byId.get(m.model_id)} />
                <td className="mono small">{m.model_id}</td>
                <td>{m.step ?? 0}</td>
                <ModelCells query={byId.get(m.model_id)} run={run} columns={3} />
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {inputs.length > 0 && (
        <table className="plain" aria-label="Models used by this run">
          <caption className="muted small" style={{ textAlign: "left", padding: "8px 12px 4px" }}>
            Used by this run (inputs)
          </caption>
          <thead>
            <tr>
              <th>Name</th>
              <th>Model ID</th>
              <th>Produced by</th>
              <th>Status</th>
              <th>Type</th>
              <th>Files</th>
            </tr>
          </thead>
          <tbody>
            {inputs.map((m, i) => (
              <tr key={`${m.model_id}-${i}`}>
                <ModelName query={byId.get(m.model_id)} />
                <td className="mono small">{m.model_id}</td>
                <SourceRun query={byId.get(m.model_id)} run={run} />
                <ModelCells query={byId.get(m.model_id)} run={run} columns={3} />
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
