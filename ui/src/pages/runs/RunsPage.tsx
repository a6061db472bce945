// The runs of one or several experiments: filter, sort, choose columns, nested runs, group by,
// select for comparison, delete or restore; a charts tab overlays the selected runs.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Suspense, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { lazyModule, preload } from "../../lib/lazy";
import { ErrorView, FirstRunHelp, Loading, Tabs } from "../../components/common";
import { ApiError, api, forEachLimited } from "../../lib/api";
import { type Column, explainFilterError, parseColumn, topLevelFilter } from "../../lib/filter";
import { href, navigate, readList, useParams, writeList } from "../../lib/route";
import type { RunKeys, RunRow, ViewType } from "../../lib/types";
import { ColumnChooser } from "./ColumnChooser";
import { DeletedExperimentsNotice } from "./DeletedExperiments";
import { type ColumnSpec, chosenColumn, fixedColumns, parseOrder } from "./columns";
import { FilterInput } from "./FilterInput";
import { GroupsView } from "./GroupsView";
import { RunsTable } from "./RunsTable";
import { PAGE_SIZE, tableKey, useRunRows } from "./useRunRows";

const ChartsPanel = lazyModule(() => import("../../charts/ChartsPanel"));
preload(ChartsPanel);
const MAX_SELECTED = 100;
const LIVE_MS = 5000;

function FilterError({ message, filter }: { message: string; filter: string }) {
  const { text, position } = explainFilterError(message, filter);
  return (
    <div className="banner error" role="alert" data-testid="filter-error">
      <strong>Invalid filter.</strong> <span className="mono">{text}</span>
      {position !== null && position <= filter.length && (
        <pre aria-hidden="true" style={{ marginTop: 8 }}>
          {filter}
          {"\n"}
          {" ".repeat(position)}^
        </pre>
      )}
    </div>
  );
}

function rememberedColumns(experimentIds: string[]): string[] | null {
  const saved = window.localStorage.getItem(`cairn.columns.${experimentIds.join(",")}`);
  if (saved === null) return null;
  try {
    const parsed: unknown = JSON.parse(saved);
    return Array.isArray(parsed) ? parsed.filter((c): c is string => typeof c === "string") : null;
  } catch {
    return null;
  }
}

function defaultColumns(keys: RunKeys): string[] {
  return [
    ...keys.metrics.slice(0, 4).map((k) => `metrics.${k}:latest`),
    ...keys.params.slice(0, 4).map((k) => `params.${k}`),
  ];
}

export default function RunsPage({ experimentIds }: { experimentIds: string[] }) {
  const [params, setParams] = useParams();
  const client = useQueryClient();
  const filter = params.get("filter") ?? "";
  const orderText = params.get("order");
  const order = parseOrder(orderText);
  const view = (params.get("view") as ViewType | null) ?? "ACTIVE_ONLY";
  const tree = params.get("flat") !== "1";
  const groupBy = params.get("group") ?? "";
  const tab = params.get("tab") === "charts" ? "charts" : "table"; // an unknown tab shows the table
  const selectedList = readList(params, "sel");
  const selected = useMemo(() => new Set(selectedList), [selectedList.join(",")]);

  const experiments = useQuery({
    queryKey: ["experiments", "ALL"],
    queryFn: ({ signal }) => api.experimentSummaries("ALL", signal),
  });
  const keys = useQuery({
    queryKey: ["run-keys", experimentIds],
    queryFn: ({ signal }) => api.runKeys(experimentIds, signal),
    staleTime: 60_000,
  });

  const colsParam = params.get("cols");
  const chosenIds = useMemo(() => {
    if (colsParam === "-") return [];
    if (colsParam) return readList(params, "cols");
    const remembered = rememberedColumns(experimentIds);
    if (remembered) return remembered;
    return keys.data ? defaultColumns(keys.data) : [];
  }, [colsParam, keys.data, experimentIds.join(",")]);
  const setColumns = (ids: string[]) => {
    window.localStorage.setItem(`cairn.columns.${experimentIds.join(",")}`, JSON.stringify(ids));
    setParams({ cols: ids.length ? writeList(ids) : "-" });
  };

  const names = useMemo(() => {
    const map = new Map<string, string>();
    experiments.data?.forEach((e) => map.set(e.experiment_id, e.name));
    return map;
  }, [experiments.data]);
  const missing = experiments.data ? experimentIds.filter((id) => !names.has(id)) : [];
  const deletedExperiments = (experiments.data ?? []).filter(
    (e) => e.lifecycle_stage === "deleted" && experimentIds.includes(e.experiment_id),
  );

  const columns: ColumnSpec[] = useMemo(
    () => [
      ...fixedColumns(experimentIds.length > 1 ? names : null),
      ...chosenIds.map(chosenColumn).filter((c): c is ColumnSpec => c !== null),
    ],
    [chosenIds, names, experimentIds.length],
  );
  const columnIds = columns.filter((c) => c.chosen).map((c) => c.id);

  const base = {
    experiment_ids: experimentIds,
    filter: tree ? topLevelFilter(filter) : filter,
    order_by: orderText ? [orderText] : [],
    run_view_type: view,
    columns: columnIds,
  };
  const keyText = JSON.stringify(tableKey(base));

  const [range, setRange] = useState<[number, number]>([0, 0]);
  const onRange = useCallback((a: number, b: number) => {
    setRange((prev) => (prev[0] === a && prev[1] === b ? prev : [a, b]));
  }, []);
  const visiblePages = useMemo(() => {
    const pages: number[] = [];
    for (let p = Math.floor(range[0] / PAGE_SIZE); p <= Math.floor(range[1] / PAGE_SIZE); p++) pages.push(p);
    return pages;
  }, [range]);

  // Expanded runs by id (never by row position: rows above a parent come and go).
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  useEffect(() => setExpanded(new Set()), [keyText]);
  const rows = useRunRows(base, visiblePages, expanded);

  // Live: poll the states of running runs on screen; re-fetch their pages when they change.
  const running = rows
    .loadedRows()
    .filter((r) => r.status === "RUNNING")
    .map((r) => r.run_id)
    .slice(0, 200);
  const previous = useRef<string>("");
  const states = useQuery({
    queryKey: ["run-states", running],
    queryFn: ({ signal }) => api.runStates(running, signal),
    enabled: running.length > 0 && tab === "table",
    refetchInterval: LIVE_MS,
  });
  // Runs when a poll answers; only a change re-fetches the pages on screen.
  useEffect(() => {
    if (!states.data) return;
    const snapshot = JSON.stringify(states.data.map((s) => [s.run_id, s.status, s.metrics]));
    if (previous.current && previous.current !== snapshot) void client.invalidateQueries({ queryKey: tableKey(base) });
    previous.current = snapshot;
  }, [states.data]);

  const onSelect = (ids: string[], on: boolean) => {
    const next = new Set(selected);
    ids.forEach((id) => (on ? next.add(id) : next.delete(id)));
    setParams({ sel: writeList([...next].slice(0, MAX_SELECTED)) });
  };
  const onSort = (column: ColumnSpec) => {
    if (!column.sortKey) return;
    let next: string | null = `${column.sortKey} DESC`;
    if (order?.key === column.sortKey) next = order.desc ? `${column.sortKey} ASC` : null;
    setParams({ order: next });
  };
  const onAggregate = (column: ColumnSpec, aggregate: string) => {
    const parsed = column.chosen;
    if (!parsed) return;
    const replaced = `metrics.${parsed.key}:${aggregate}`;
    if (order?.key === column.sortKey) setParams({ order: null });
    setColumns(chosenIds.map((c) => (c === column.id ? replaced : c)));
  };
  const onExpand = (row: RunRow, open: boolean) =>
    setExpanded((prev) => {
      const next = new Set(prev);
      if (open) next.add(row.run_id);
      else next.delete(row.run_id);
      return next;
    });

  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const changeLifecycle = async (restore: boolean) => {
    const ids = [...selected];
    if (!restore && !window.confirm(`Delete ${ids.length} run(s)? They can be restored from "Deleted".`)) return;
    setBusy(true);
    setActionError(null);
    const failures = await forEachLimited(ids, 4, (id) => (restore ? api.restoreRun(id) : api.deleteRun(id)));
    setBusy(false);
    if (failures.length) setActionError(failures[0]?.error);
    setParams({ sel: null });
    await client.invalidateQueries({ queryKey: ["run-table"] });
    await client.invalidateQueries({ queryKey: ["experiments"] });
  };

  const firstError = rows.firstPage.error;
  const invalidFilter =
    firstError instanceof ApiError && firstError.code === "INVALID_PARAMETER_VALUE" && Boolean(filter);
  const title = experimentIds.map((id) => names.get(id) ?? id).join(", ");
  const metricColumns = chosenIds.map(parseColumn).filter((c): c is Column => c?.entity === "metrics");
  const chartRuns = selectedList.length
    ? selectedList
    : rows
        .loadedRows()
        .slice(0, 5)
        .map((r) => r.run_id);

  if (missing.length) {
    return (
      <div className="page">
        <ErrorView
          error={
            new Error(
              `No experiment with id ${missing.map((m) => `"${m}"`).join(", ")}. It may have been deleted for good, or the link is wrong.`,
            )
          }
          title="Experiment not found"
        />
        <a href="#/">Go to the experiments</a>
      </div>
    );
  }

  return (
    <div className="page fill">
      <div className="row">
        <h1 className="ellipsis" title={title}>
          {title || "…"}
        </h1>
        <span className="muted" data-testid="run-total">
          {rows.total === undefined
            ? ""
            : `${rows.total.toLocaleString()} ${tree ? "top-level " : ""}run${rows.total === 1 ? "" : "s"}`}
        </span>
        {rows.firstPage.isFetching && <span className="spinner" aria-label="Updating" />}
      </div>
      <div className="row">
        <FilterInput
          value={filter}
          onCommit={(f) => setParams({ filter: f }, true)}
          keys={keys.data}
          invalid={invalidFilter}
        />
        {filter && (
          <button type="button" onClick={() => setParams({ filter: null }, true)}>
            Clear filter
          </button>
        )}
      </div>
      <div className="row">
        <Tabs
          tabs={[
            { id: "table", label: "Table" },
            { id: "charts", label: "Charts" },
          ]}
          current={tab}
          onChange={(t) => setParams({ tab: t === "table" ? null : t })}
        />
        <span className="spacer" />
        <ColumnChooser keys={keys.data} chosen={chosenIds} onChange={setColumns} />
        <select aria-label="Group by" value={groupBy} onChange={(e) => setParams({ group: e.target.value || null })}>
          <option value="">No grouping</option>
          {keys.data?.params.slice(0, 500).map((p) => (
            <option key={`p${p}`} value={`params.${p}`}>
              group by param {p}
            </option>
          ))}
          {keys.data?.tags.slice(0, 500).map((t) => (
            <option key={`t${t}`} value={`tags.${t}`}>
              group by tag {t}
            </option>
          ))}
        </select>
        <label className="small">
          <input type="checkbox" checked={tree} onChange={(e) => setParams({ flat: e.target.checked ? null : "1" })} />
          Nested as tree
        </label>
        <select
          aria-label="Lifecycle"
          value={view}
          onChange={(e) => setParams({ view: e.target.value === "ACTIVE_ONLY" ? null : e.target.value, sel: null })}
        >
          <option value="ACTIVE_ONLY">Active runs</option>
          <option value="DELETED_ONLY">Deleted runs</option>
          <option value="ALL">All runs</option>
        </select>
      </div>
      <div className="row" aria-live="polite">
        <span className="muted small">
          {selected.size ? `${selected.size} selected` : "Select runs to compare them"}
        </span>
        <button
          type="button"
          disabled={selected.size < 2}
          onClick={() => navigate(href(["compare"], { runs: writeList([...selected]) ?? "" }))}
        >
          Compare
        </button>
        {view !== "DELETED_ONLY" && (
          <button
            type="button"
            className="danger"
            disabled={!selected.size || busy}
            onClick={() => void changeLifecycle(false)}
          >
            Delete
          </button>
        )}
        {view !== "ACTIVE_ONLY" && (
          <button type="button" disabled={!selected.size || busy} onClick={() => void changeLifecycle(true)}>
            Restore
          </button>
        )}
        {selected.size > 0 && (
          <button type="button" className="link" onClick={() => setParams({ sel: null })}>
            Clear selection
          </button>
        )}
      </div>
      <DeletedExperimentsNotice
        experiments={deletedExperiments}
        view={view}
        onShowDeletedRuns={() => setParams({ view: "DELETED_ONLY", sel: null })}
      />
      {actionError ? <ErrorView error={actionError} title="Some runs were not changed" /> : null}
      {invalidFilter ? (
        <FilterError message={firstError.message} filter={filter} />
      ) : firstError ? (
        <ErrorView error={firstError} retry={() => void rows.firstPage.refetch()} />
      ) : tab === "charts" ? (
        <Suspense fallback={<Loading what="charts" />}>
          {chartRuns.length ? (
            <ChartsPanel
              runIds={chartRuns}
              metricKeys={keys.data?.metrics}
              names={new Map(rows.loadedRows().map((r) => [r.run_id, r.run_name]))}
            />
          ) : (
            <div className="empty">Select runs in the table to chart them.</div>
          )}
        </Suspense>
      ) : groupBy ? (
        <GroupsView
          // Another grouping has other groups: none of them starts expanded.
          key={groupBy}
          experimentIds={experimentIds}
          groupBy={groupBy}
          metrics={metricColumns}
          filter={filter}
          orderBy={base.order_by}
          view={view}
          onFilter={(f) => setParams({ filter: f, group: null }, true)}
        />
      ) : rows.firstPage.isPending ? (
        <Loading what="runs" />
      ) : rows.total === 0 ? (
        filter || view !== "ACTIVE_ONLY" ? (
          <div className="empty">No runs match{filter ? " this filter" : ""}.</div>
        ) : deletedExperiments.length ? (
          // Logging into a deleted experiment fails: no first-run snippet here.
          <div className="empty">No active runs.</div>
        ) : (
          <FirstRunHelp experiment={experimentIds.length === 1 ? names.get(experimentIds[0] as string) : undefined} />
        )
      ) : (
        <RunsTable
          rows={rows}
          columns={columns}
          order={order}
          onSort={onSort}
          onAggregate={onAggregate}
          onRemove={(c) => setColumns(chosenIds.filter((id) => id !== c.id))}
          selected={selected}
          onSelect={onSelect}
          expanded={expanded}
          onExpand={onExpand}
          onRange={onRange}
          tree={tree}
        />
      )}
    </div>
  );
}
