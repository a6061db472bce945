// The experiments: search, run counts, last activity; create, rename, delete and restore.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { ErrorView, FirstRunHelp, Loading, PromptDialog } from "../components/common";
import { api } from "../lib/api";
import { formatRelative, formatTime, timeTitle } from "../lib/format";
import { href, navigate, useParams } from "../lib/route";
import type { ExperimentSummary, ViewType } from "../lib/types";

const SHOWN = 500;

export function ExperimentsPage() {
  const [params, setParams] = useParams();
  const view = (params.get("view") as ViewType | null) ?? "ACTIVE_ONLY";
  const search = params.get("q") ?? "";
  const client = useQueryClient();
  const query = useQuery({
    queryKey: ["experiments", view],
    queryFn: ({ signal }) => api.experimentSummaries(view, signal),
  });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [dialog, setDialog] = useState<null | { kind: "create" } | { kind: "rename"; experiment: ExperimentSummary }>(
    null,
  );
  const [actionError, setActionError] = useState<unknown>(null);

  const shown = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const all = query.data ?? [];
    return needle ? all.filter((e) => e.name.toLowerCase().includes(needle) || e.experiment_id === needle) : all;
  }, [query.data, search]);

  const refresh = () => client.invalidateQueries({ queryKey: ["experiments"] });
  const act = async (work: () => Promise<unknown>) => {
    setActionError(null);
    try {
      await work();
    } catch (err) {
      setActionError(err);
    }
    await refresh();
  };
  const toggle = (id: string) =>
    setSelected((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const nothingLogged =
    view === "ACTIVE_ONLY" && !search && query.data !== undefined && query.data.every((e) => e.run_count === 0);

  return (
    <div className="page">
      <div className="row">
        <h1>Experiments</h1>
        <span className="spacer" />
        <button type="button" className="primary" onClick={() => setDialog({ kind: "create" })}>
          New experiment
        </button>
      </div>
      <div className="row">
        <input
          type="search"
          className="grow"
          placeholder="Search experiments by name or id"
          aria-label="Search experiments"
          value={search}
          onChange={(e) => setParams({ q: e.target.value })}
          style={{ maxWidth: 420 }}
        />
        <select
          aria-label="Which experiments"
          value={view}
          onChange={(e) => setParams({ view: e.target.value === "ACTIVE_ONLY" ? null : e.target.value })}
        >
          <option value="ACTIVE_ONLY">Active</option>
          <option value="DELETED_ONLY">Deleted</option>
          <option value="ALL">All</option>
        </select>
        <button
          type="button"
          disabled={selected.size === 0}
          onClick={() => navigate(href(["experiments", [...selected].join(",")]))}
          title="Show the runs of the selected experiments in one table"
        >
          Runs of selected ({selected.size})
        </button>
      </div>
      {actionError ? <ErrorView error={actionError} title="That did not work" /> : null}
      {query.isPending ? (
        <Loading what="experiments" />
      ) : query.isError ? (
        <ErrorView error={query.error} retry={() => void query.refetch()} />
      ) : (
        <>
          <div className="card" style={{ overflow: "auto" }}>
            <table className="plain" aria-label="Experiments">
              <thead>
                <tr>
                  <th style={{ width: 32 }}>
                    <span className="sr-only">Select</span>
                  </th>
                  <th>Name</th>
                  <th className="nowrap">ID</th>
                  <th className="num nowrap">Runs</th>
                  <th className="nowrap">Last activity</th>
                  <th className="nowrap">Created</th>
                  <th>
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {shown.slice(0, SHOWN).map((exp) => (
                  <tr key={exp.experiment_id} data-testid="experiment-row">
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Select ${exp.name}`}
                        checked={selected.has(exp.experiment_id)}
                        onChange={() => toggle(exp.experiment_id)}
                      />
                    </td>
                    {/* The name takes the room left and is cut short (in full in its title): a
                        long name never pushes the counts and the actions off screen. */}
                    <td className="fill-cell">
                      <div className="name-line">
                        <a className="ellipsis" href={href(["experiments", exp.experiment_id])} title={exp.name}>
                          {exp.name}
                        </a>
                        {exp.lifecycle_stage === "deleted" && <span className="tag-chip">deleted</span>}
                      </div>
                    </td>
                    <td className="mono muted nowrap">{exp.experiment_id}</td>
                    <td className="num nowrap">{exp.run_count.toLocaleString()}</td>
                    <td className="nowrap" title={timeTitle(exp.last_activity)}>
                      {formatRelative(exp.last_activity)}
                    </td>
                    <td className="nowrap" title={timeTitle(exp.creation_time)}>
                      {formatTime(exp.creation_time)}
                    </td>
                    <td className="nowrap" style={{ textAlign: "right" }}>
                      {exp.lifecycle_stage === "deleted" ? (
                        <button type="button" onClick={() => void act(() => api.restoreExperiment(exp.experiment_id))}>
                          Restore
                        </button>
                      ) : (
                        <>
                          <button type="button" onClick={() => setDialog({ kind: "rename", experiment: exp })}>
                            Rename
                          </button>{" "}
                          <button
                            type="button"
                            className="danger"
                            onClick={() => {
                              if (
                                window.confirm(
                                  `Delete experiment "${exp.name}" and its runs? You can restore it later.`,
                                )
                              )
                                void act(() => api.deleteExperiment(exp.experiment_id));
                            }}
                          >
                            Delete
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {shown.length === 0 && (
              <div className="empty">
                {search
                  ? `No experiment matches "${search}".`
                  : view === "DELETED_ONLY"
                    ? "No deleted experiments."
                    : "No experiments."}
              </div>
            )}
            {shown.length > SHOWN && (
              <div className="empty small">
                Showing {SHOWN} of {shown.length.toLocaleString()} experiments: refine the search to find others.
              </div>
            )}
          </div>
          {nothingLogged && <FirstRunHelp />}
        </>
      )}
      {dialog?.kind === "create" && (
        <PromptDialog
          title="New experiment"
          label="Name"
          confirm="Create"
          onClose={() => setDialog(null)}
          onSubmit={async (name) => {
            const created = await api.createExperiment(name);
            await refresh();
            navigate(href(["experiments", created.experiment_id]));
          }}
        />
      )}
      {dialog?.kind === "rename" && (
        <PromptDialog
          title={`Rename "${dialog.experiment.name}"`}
          label="New name"
          initial={dialog.experiment.name}
          confirm="Rename"
          onClose={() => setDialog(null)}
          onSubmit={async (name) => {
            await api.renameExperiment(dialog.experiment.experiment_id, name);
            await refresh();
          }}
        />
      )}
    </div>
  );
}
