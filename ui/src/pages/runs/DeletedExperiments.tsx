// A deleted experiment's runs page: says so, offers to restore it, and points to its runs
// (deleted with it), instead of looking like an empty experiment to log into.
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ErrorView } from "../../components/common";
import { api } from "../../lib/api";
import type { ExperimentSummary, ViewType } from "../../lib/types";

export function DeletedExperimentsNotice({
  experiments,
  view,
  onShowDeletedRuns,
}: {
  experiments: ExperimentSummary[];
  view: ViewType;
  onShowDeletedRuns: () => void;
}) {
  const client = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (experiments.length === 0) return null;
  const one = experiments.length === 1;
  const names = experiments.map((e) => `"${e.name}"`).join(", ");

  const restore = async () => {
    setBusy(true);
    setError(null);
    try {
      for (const e of experiments) await api.restoreExperiment(e.experiment_id);
    } catch (err) {
      setError(err);
    }
    setBusy(false);
    // Restoring an experiment restores the runs deleted with it: the table changes too.
    await client.invalidateQueries({ queryKey: ["experiments"] });
    await client.invalidateQueries({ queryKey: ["run-table"] });
  };

  return (
    <div className="banner warn" role="status" data-testid="deleted-experiment">
      <strong>{one ? `Experiment ${names} is deleted.` : `Experiments ${names} are deleted.`}</strong>{" "}
      {one ? "Its runs were deleted with it; restoring it" : "Their runs were deleted with them; restoring them"} brings
      the runs back.{" "}
      <span className="row" style={{ display: "inline-flex", marginLeft: 4 }}>
        <button type="button" className="primary" disabled={busy} onClick={() => void restore()}>
          Restore {one ? "experiment" : "experiments"}
        </button>
        {view === "ACTIVE_ONLY" && (
          <button type="button" onClick={onShowDeletedRuns}>
            Show deleted runs
          </button>
        )}
      </span>
      {error ? <ErrorView error={error} title="Not restored" /> : null}
    </div>
  );
}
