// The run's overview: what, when, who, from where; parent and children; description, params,
// tags (editable), the datasets it used and the models it logged or used.
import { useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { ErrorView, Status } from "../../components/common";
import { api } from "../../lib/api";
import { NOTE_TAG, PARENT_TAG, childrenFilter } from "../../lib/filter";
import { formatDuration, formatTime, timeTitle } from "../../lib/format";
import { href } from "../../lib/route";
import type { Run } from "../../lib/types";
import { Datasets } from "./Datasets";
import { Description } from "./Description";
import { LoggedModels } from "./LoggedModels";
import { TagsEditor } from "./TagsEditor";

function Children({ run }: { run: Run }) {
  const query = useQuery({
    queryKey: ["run-children-list", run.info.run_id],
    queryFn: ({ signal }) =>
      api.runTable(
        { experiment_ids: [run.info.experiment_id], filter: childrenFilter(run.info.run_id), max_results: 100 },
        signal,
      ),
  });
  if (query.isError) return <ErrorView error={query.error} />;
  if (!query.data) return <span className="muted">…</span>;
  if (query.data.total === 0) return <span className="muted">none</span>;
  return (
    <span className="row" style={{ gap: 4 }}>
      {query.data.runs.map((child) => (
        <a key={child.run_id} className="tag-chip" href={href(["runs", child.run_id])}>
          {child.run_name || child.run_id}
        </a>
      ))}
      {query.data.total > query.data.runs.length && (
        <span className="muted small">
          and {(query.data.total - query.data.runs.length).toLocaleString()} more in the{" "}
          <a
            href={href(["experiments", run.info.experiment_id], { filter: childrenFilter(run.info.run_id), flat: "1" })}
          >
            runs table
          </a>
        </span>
      )}
    </span>
  );
}

function Params({ run }: { run: Run }) {
  const [search, setSearch] = useState("");
  const params = useMemo(
    () => [...(run.data.params ?? [])].sort((a, b) => a.key.localeCompare(b.key)),
    [run.data.params],
  );
  const needle = search.toLowerCase();
  const shown = needle
    ? params.filter((p) => p.key.toLowerCase().includes(needle) || p.value.toLowerCase().includes(needle))
    : params;
  return (
    <div className="card">
      <div className="card-head">
        <h2 style={{ margin: 0 }}>Parameters</h2>
        <span className="muted small">{params.length}</span>
        <span className="spacer" />
        {params.length > 8 && (
          <input
            type="search"
            placeholder="Filter"
            aria-label="Filter parameters"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        )}
      </div>
      {params.length === 0 ? (
        <div className="empty small">No parameters logged.</div>
      ) : (
        <div style={{ maxHeight: 420, overflow: "auto" }}>
          <table className="plain" aria-label="Parameters">
            <tbody>
              {shown.slice(0, 2000).map((p) => (
                <tr key={p.key}>
                  <td className="mono break-anywhere" style={{ width: "40%" }}>
                    {p.key}
                  </td>
                  <td className="mono break-anywhere">{p.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function Overview({ run }: { run: Run }) {
  const { info } = run;
  const tags = new Map((run.data.tags ?? []).map((t) => [t.key, t.value]));
  const parent = tags.get(PARENT_TAG);
  const commit = tags.get("mlflow.source.git.commit");
  const source = tags.get("mlflow.source.name");
  return (
    <div className="section" style={{ gap: 16 }}>
      <div className="two-col">
        <div className="card">
          <div className="card-body">
            <dl className="kv" style={{ margin: 0 }}>
              <dt>Run ID</dt>
              <dd className="mono">{info.run_id}</dd>
              <dt>Status</dt>
              <dd>
                <Status status={info.status} />
              </dd>
              <dt>Started</dt>
              <dd title={timeTitle(info.start_time)}>{formatTime(info.start_time)}</dd>
              <dt>Ended</dt>
              <dd title={timeTitle(info.end_time)}>
                {info.end_time ? formatTime(info.end_time) : info.status === "RUNNING" ? "running" : "—"}
              </dd>
              <dt>Duration</dt>
              <dd>
                {info.end_time || info.status === "RUNNING" ? formatDuration(info.start_time, info.end_time) : "—"}
              </dd>
              <dt>User</dt>
              <dd>{info.user_id || tags.get("mlflow.user") || "—"}</dd>
              <dt>Source</dt>
              <dd className="mono">
                {source ?? "—"}
                {tags.get("mlflow.source.type") ? (
                  <span className="muted"> ({tags.get("mlflow.source.type")})</span>
                ) : null}
              </dd>
              <dt>Git commit</dt>
              <dd className="mono" title={commit}>
                {commit ? commit.slice(0, 12) : "—"}
                {tags.get("mlflow.source.git.branch") ? (
                  <span className="muted"> on {tags.get("mlflow.source.git.branch")}</span>
                ) : null}
              </dd>
              <dt>Parent run</dt>
              <dd>
                {parent ? (
                  <a href={href(["runs", parent])} className="mono">
                    {parent}
                  </a>
                ) : (
                  "—"
                )}
              </dd>
              <dt>Child runs</dt>
              <dd>
                <Children run={run} />
              </dd>
              <dt>Artifacts</dt>
              <dd className="mono small">{info.artifact_uri ?? "—"}</dd>
            </dl>
          </div>
        </div>
        <Description runId={info.run_id} text={tags.get(NOTE_TAG) ?? ""} />
      </div>
      <div className="two-col">
        <Params run={run} />
        <TagsEditor runId={info.run_id} tags={run.data.tags ?? []} />
      </div>
      <Datasets run={run} />
      <LoggedModels run={run} />
    </div>
  );
}
