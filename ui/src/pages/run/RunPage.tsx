// One run: overview, metrics (10,000 keys: paged, filtered, sparklines for visible rows),
// charts, artifacts. A running run updates in place.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Suspense, useEffect, useRef, useState } from "react";
import { lazyModule, preload } from "../../lib/lazy";
import { ErrorView, Loading, PromptDialog, Status, Tabs } from "../../components/common";
import { ApiError, api } from "../../lib/api";
import { href, useParams } from "../../lib/route";
import { MetricsTab } from "./MetricsTab";
import { Overview } from "./Overview";

const ChartsPanel = lazyModule(() => import("../../charts/ChartsPanel"));
const ArtifactBrowser = lazyModule(() => import("../../artifacts/ArtifactBrowser"));
preload(ChartsPanel, ArtifactBrowser);
const LIVE_MS = 3000;
const TABS = [
  { id: "overview", label: "Overview" },
  { id: "metrics", label: "Metrics" },
  { id: "charts", label: "Charts" },
  { id: "artifacts", label: "Artifacts" },
];

export default function RunPage({ runId }: { runId: string }) {
  const [params, setParams] = useParams();
  // An unknown tab (an old or mistyped link) shows the overview rather than nothing.
  const asked = params.get("tab");
  const tab = TABS.some((t) => t.id === asked) ? (asked as string) : "overview";
  const client = useQueryClient();
  const run = useQuery({ queryKey: ["run", runId], queryFn: ({ signal }) => api.getRun(runId, signal) });
  const experiments = useQuery({
    queryKey: ["experiments", "ALL"],
    queryFn: ({ signal }) => api.experimentSummaries("ALL", signal),
  });
  const [renaming, setRenaming] = useState(false);

  // Live updates: while the run runs, poll its state; re-fetch what changed.
  const isRunning = run.data?.info.status === "RUNNING";
  const live = useQuery({
    queryKey: ["run-state", runId],
    queryFn: ({ signal }) => api.runStates([runId], signal).then((s) => s[0] ?? null),
    enabled: isRunning,
    refetchInterval: LIVE_MS,
  });
  const previous = useRef<string>("");
  // Runs when a poll answers; compares with the previous answer to know what to re-fetch.
  useEffect(() => {
    const state = live.data;
    if (!state) return;
    const counts = JSON.stringify(state.metrics);
    if (state.status !== run.data?.info.status) void client.invalidateQueries({ queryKey: ["run", runId] });
    if (previous.current && previous.current !== counts) {
      void client.invalidateQueries({ queryKey: ["run-metrics", runId] });
      void client.invalidateQueries({ queryKey: ["run", runId] });
    }
    previous.current = counts;
  }, [live.data]);

  if (run.isPending) return <Loading what="run" />;
  if (run.isError) {
    const notFound = run.error instanceof ApiError && run.error.isNotFound;
    return (
      <div className="page">
        <ErrorView
          error={run.error}
          title={notFound ? `Run "${runId}" not found` : "Could not load the run"}
          retry={notFound ? undefined : () => void run.refetch()}
        />
        <a href="#/">Go to the experiments</a>
      </div>
    );
  }
  const info = run.data.info;
  const experiment = experiments.data?.find((e) => e.experiment_id === info.experiment_id);
  return (
    <div className="page">
      <div className="crumbs small">
        <a href="#/">Experiments</a> /{" "}
        <a href={href(["experiments", info.experiment_id])}>{experiment?.name ?? `experiment ${info.experiment_id}`}</a>{" "}
        /
      </div>
      <div className="row">
        <h1 data-testid="run-title" className="break-anywhere">
          {info.run_name || info.run_id}
        </h1>
        <Status status={info.status} />
        {info.lifecycle_stage === "deleted" && <span className="tag-chip">deleted</span>}
        <button type="button" className="link small" onClick={() => setRenaming(true)}>
          Rename
        </button>
        <span className="spacer" />
        {info.lifecycle_stage === "deleted" ? (
          <button
            type="button"
            onClick={() =>
              void api.restoreRun(runId).then(() => client.invalidateQueries({ queryKey: ["run", runId] }))
            }
          >
            Restore run
          </button>
        ) : null}
      </div>
      <Tabs tabs={TABS} current={tab} onChange={(t) => setParams({ tab: t === "overview" ? null : t })} />
      <Suspense fallback={<Loading what={tab} />}>
        {tab === "overview" && <Overview run={run.data} />}
        {tab === "metrics" && <MetricsTab runId={runId} versions={live.data?.metrics} />}
        {tab === "charts" && <ChartsPanel runIds={[runId]} names={new Map([[runId, info.run_name]])} />}
        {tab === "artifacts" && <ArtifactBrowser runId={runId} />}
      </Suspense>
      {renaming && (
        <PromptDialog
          title="Rename run"
          label="New name"
          initial={info.run_name}
          confirm="Rename"
          onClose={() => setRenaming(false)}
          onSubmit={async (name) => {
            await api.renameRun(runId, name);
            await client.invalidateQueries({ queryKey: ["run", runId] });
          }}
        />
      )}
    </div>
  );
}
