// The rows of the runs table, fetched a page at a time as they scroll into view, with the
// children of expanded runs spliced in after their parent. 100,000 runs cost what the
// visible pages cost: the total comes with the first page, the rest is fetched on demand.
import { keepPreviousData, useQueries, useQuery } from "@tanstack/react-query";
import { useMemo, useRef } from "react";
import { api, type RunTableQuery } from "../../lib/api";
import { childrenFilter } from "../../lib/filter";
import type { RunRow } from "../../lib/types";

export const PAGE_SIZE = 100;
const MAX_CHILDREN = 1000;

export type Entry =
  | { kind: "top"; index: number; row: RunRow | undefined; depth: 0 }
  | { kind: "child"; row: RunRow; depth: number }
  | { kind: "more"; parent: string; hidden: number; depth: number };

export interface RunRows {
  total: number | undefined;
  count: number;
  entryAt: (index: number) => Entry;
  firstPage: ReturnType<typeof useQuery<Awaited<ReturnType<typeof api.runTable>>>>;
  loadingChildren: Set<string>;
  childErrors: Map<string, unknown>;
  pageError: unknown;
  stale: boolean;
  loadedRows: () => RunRow[];
}

export function tableKey(q: RunTableQuery): unknown[] {
  return ["run-table", q.experiment_ids, q.filter ?? "", q.order_by ?? [], q.run_view_type, q.columns ?? []];
}

export function useRunRows(base: RunTableQuery, visiblePages: number[], expanded: Set<string>): RunRows {
  const key = tableKey(base);
  const firstPage = useQuery({
    queryKey: [...key, 0],
    queryFn: ({ signal }) => api.runTable({ ...base, offset: 0, max_results: PAGE_SIZE }, signal),
    placeholderData: keepPreviousData,
  });
  // While a new sort or filter loads, the previous first page stays on screen (dimmed).
  const total = firstPage.data?.total;
  const otherPages = useQueries({
    queries: visiblePages
      .filter((p) => p > 0 && total !== undefined && p * PAGE_SIZE < total)
      .map((page) => ({
        queryKey: [...key, page],
        queryFn: ({ signal }: { signal: AbortSignal }) =>
          api.runTable({ ...base, offset: page * PAGE_SIZE, max_results: PAGE_SIZE }, signal),
        staleTime: 30_000,
      })),
  });
  const expandedIds = [...expanded];
  const children = useQueries({
    queries: expandedIds.map((runId) => ({
      queryKey: [
        "run-children",
        base.experiment_ids,
        base.run_view_type,
        base.columns ?? [],
        base.order_by ?? [],
        runId,
      ],
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        api.runTable({ ...base, filter: childrenFilter(runId), offset: 0, max_results: MAX_CHILDREN }, signal),
    })),
  });

  const pages = new Map<number, RunRow[]>();
  if (firstPage.data) pages.set(0, firstPage.data.runs);
  const pageIndexes = visiblePages.filter((p) => p > 0 && total !== undefined && p * PAGE_SIZE < total);
  otherPages.forEach((q, i) => {
    const page = pageIndexes[i];
    if (q.data && page !== undefined) pages.set(page, q.data.runs);
  });
  const pageError = otherPages.find((q) => q.isError)?.error ?? null;

  const childRows = new Map<string, { rows: RunRow[]; total: number }>();
  const loadingChildren = new Set<string>();
  const childErrors = new Map<string, unknown>();
  children.forEach((q, i) => {
    const id = expandedIds[i] as string;
    if (q.data) childRows.set(id, { rows: q.data.runs, total: q.data.total });
    else if (q.isError) childErrors.set(id, q.error);
    else loadingChildren.add(id);
  });

  const positions = useParentPositions(key, pages, expanded);

  // Rows inserted after each expanded top-level row, depth first.
  const childSignature = children.map((q) => q.dataUpdatedAt).join(",");
  const positionSignature = [...positions].join(",");
  const { insertions, extra } = useMemo(() => {
    const inserted = new Map<number, Entry[]>();
    const walk = (parent: string, depth: number, into: Entry[], seen: Set<string>) => {
      const found = childRows.get(parent);
      if (!found || seen.has(parent)) return;
      seen.add(parent);
      for (const row of found.rows) {
        into.push({ kind: "child", row, depth });
        if (expanded.has(row.run_id)) walk(row.run_id, depth + 1, into, seen);
      }
      if (found.total > found.rows.length)
        into.push({ kind: "more", parent, hidden: found.total - found.rows.length, depth });
    };
    // Nested runs among `expanded` have no top-level position: walk() inserts them under their parent.
    for (const [runId, topIndex] of positions) {
      const list: Entry[] = [];
      walk(runId, 1, list, new Set());
      if (list.length) inserted.set(topIndex, list);
    }
    let count = 0;
    inserted.forEach((l) => (count += l.length));
    return { insertions: inserted, extra: count };
  }, [expanded, childSignature, positionSignature]);

  const sortedPoints = useMemo(() => [...insertions.keys()].sort((a, b) => a - b), [insertions]);

  const rowAt = (index: number): RunRow | undefined => pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];

  const entryAt = (virtual: number): Entry => {
    let shift = 0;
    for (const point of sortedPoints) {
      const list = insertions.get(point) as Entry[];
      const parentVirtual = point + shift;
      if (virtual <= parentVirtual) break;
      if (virtual <= parentVirtual + list.length) return list[virtual - parentVirtual - 1] as Entry;
      shift += list.length;
    }
    const index = virtual - shift;
    return { kind: "top", index, row: rowAt(index), depth: 0 };
  };

  return {
    total,
    count: (total ?? 0) + extra,
    entryAt,
    firstPage,
    loadingChildren,
    childErrors,
    pageError,
    stale: firstPage.isPlaceholderData,
    loadedRows: () => [...pages.values()].flat(),
  };
}

/** Where each expanded top-level run is in the table now, by its id. Rows come and go above a
 * parent (a run deleted, a new run started), so a position remembered from the click would
 * put its children under another run. A parent whose page is not loaded (scrolled far away)
 * keeps its last known position, so that the rows on screen do not jump while it is away. */
function useParentPositions(key: unknown[], pages: Map<number, RunRow[]>, expanded: Set<string>): Map<string, number> {
  const keyText = JSON.stringify(key);
  const lastSeen = useRef<{ key: string; at: Map<string, number> }>({ key: keyText, at: new Map() });
  if (lastSeen.current.key !== keyText) lastSeen.current = { key: keyText, at: new Map() };
  const remembered = lastSeen.current.at;

  const found = new Map<string, number>();
  for (const [page, rows] of pages) {
    rows.forEach((row, i) => {
      if (expanded.has(row.run_id) && !found.has(row.run_id)) found.set(row.run_id, page * PAGE_SIZE + i);
    });
  }
  const positions = new Map<string, number>();
  for (const runId of expanded) {
    const now = found.get(runId);
    const before = remembered.get(runId);
    if (now !== undefined) {
      positions.set(runId, now);
      remembered.set(runId, now);
    } else if (before !== undefined && !pages.has(Math.floor(before / PAGE_SIZE))) {
      positions.set(runId, before);
    } else {
      remembered.delete(runId); // gone from the page it was on: deleted, filtered out, or not top-level
    }
  }
  return positions;
}
