// Every request the UI makes goes through `request`: one error type, one timeout, one place
// that turns "the server is not answering" into a message a person can act on.
import type {
  ExperimentSummary,
  FileInfo,
  LoggedModel,
  Run,
  RunGroup,
  RunKeys,
  RunMetricsPage,
  RunState,
  RunTablePage,
  Series,
  ViewType,
  XAxis,
} from "./types";

const TIMEOUT_MS = 30_000;

// Whether the last request reached the server: the app shows a banner while it does not.
let offline = false;
const listeners = new Set<() => void>();
function setOffline(value: boolean): void {
  if (offline === value) return;
  offline = value;
  listeners.forEach((l) => l());
}
export const connection = {
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  isOffline: () => offline,
  /** Ask the server's health endpoint whether it is back; true when it answers. */
  async probe(): Promise<boolean> {
    try {
      const response = await fetch("/health", { cache: "no-store" });
      if (response.ok) setOffline(false);
      return response.ok;
    } catch {
      return false;
    }
  },
};

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get isNotFound(): boolean {
    return this.code === "RESOURCE_DOES_NOT_EXIST" || this.status === 404;
  }

  get isNetwork(): boolean {
    return this.code === "NETWORK" || this.code === "TIMEOUT";
  }
}

type Query = Record<string, string | number | boolean | string[] | null | undefined>;

function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(key, v));
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

async function request<T>(method: "GET" | "POST", path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const controller = new AbortController();
  const timer = window.setTimeout(() => controller.abort("timeout"), TIMEOUT_MS);
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort);
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      signal: controller.signal,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    setOffline(true);
    if (controller.signal.aborted) {
      throw new ApiError(
        `The server did not answer within ${TIMEOUT_MS / 1000} s (${path.split("?")[0]}).`,
        0,
        "TIMEOUT",
      );
    }
    throw new ApiError("Cannot reach the cairn server. Is `cairn ui` (or `cairn server`) still running?", 0, "NETWORK");
  } finally {
    window.clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
  setOffline(response.status === 502 || response.status === 503 || response.status === 504);
  const text = await response.text();
  let data: unknown = {};
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text.slice(0, 500) };
    }
  }
  if (!response.ok) {
    const info = (data ?? {}) as { error_code?: string; message?: string };
    throw new ApiError(
      info.message || `${response.status} ${response.statusText}`,
      response.status,
      info.error_code || `HTTP_${response.status}`,
    );
  }
  return data as T;
}

const MLFLOW = "/ajax-api/2.0/mlflow";
const CAIRN = "/ajax-api/2.0/cairn";

const get = <T>(path: string, query: Query = {}, signal?: AbortSignal) =>
  request<T>("GET", path + queryString(query), undefined, signal);
const post = <T>(path: string, body: unknown, signal?: AbortSignal) => request<T>("POST", path, body, signal);

/** The page token of the run table for a row offset (the server documents it as base64 JSON). */
export function pageToken(offset: number): string | undefined {
  return offset > 0 ? btoa(JSON.stringify({ offset })) : undefined;
}

export interface RunTableQuery {
  experiment_ids: string[];
  filter?: string;
  order_by?: string[];
  run_view_type?: ViewType;
  max_results?: number;
  offset?: number;
  columns?: string[];
}

export const api = {
  experimentSummaries: (viewType: ViewType, signal?: AbortSignal) =>
    get<{ experiments?: ExperimentSummary[] }>(`${CAIRN}/experiments/summaries`, { view_type: viewType }, signal).then(
      (r) => r.experiments ?? [],
    ),

  createExperiment: (name: string) => post<{ experiment_id: string }>(`${MLFLOW}/experiments/create`, { name }),
  renameExperiment: (experimentId: string, newName: string) =>
    post<object>(`${MLFLOW}/experiments/update`, {
      experiment_id: experimentId,
      new_name: newName,
    }),
  deleteExperiment: (experimentId: string) =>
    post<object>(`${MLFLOW}/experiments/delete`, { experiment_id: experimentId }),
  restoreExperiment: (experimentId: string) =>
    post<object>(`${MLFLOW}/experiments/restore`, { experiment_id: experimentId }),

  runTable: (q: RunTableQuery, signal?: AbortSignal) =>
    post<RunTablePage>(
      `${CAIRN}/runs/table`,
      {
        experiment_ids: q.experiment_ids,
        filter: q.filter || undefined,
        order_by: q.order_by ?? [],
        run_view_type: q.run_view_type ?? "ACTIVE_ONLY",
        max_results: q.max_results ?? 100,
        page_token: pageToken(q.offset ?? 0),
        columns: q.columns ?? [],
      },
      signal,
    ),
  runKeys: (experimentIds: string[], signal?: AbortSignal) =>
    get<RunKeys>(`${CAIRN}/runs/keys`, { experiment_ids: experimentIds }, signal),
  runGroups: (
    body: {
      experiment_ids: string[];
      group_by: string;
      metric_keys: string[];
      filter?: string;
      run_view_type?: ViewType;
    },
    signal?: AbortSignal,
  ) => post<{ groups?: RunGroup[] }>(`${CAIRN}/runs/groups`, body, signal).then((r) => r.groups ?? []),
  runStates: (runIds: string[], signal?: AbortSignal) =>
    post<{ runs?: RunState[] }>(`${CAIRN}/runs/states`, { run_ids: runIds }, signal).then((r) => r.runs ?? []),
  runMetrics: (runId: string, filter: string, offset: number, limit: number, signal?: AbortSignal) =>
    get<RunMetricsPage>(`${CAIRN}/runs/metrics`, { run_id: runId, filter, offset, limit }, signal),
  metricSeries: (
    body: {
      run_ids: string[];
      key: string;
      x_axis: XAxis;
      buckets: number;
      x_min?: number;
      x_max?: number;
    },
    signal?: AbortSignal,
  ) => post<{ series?: Series[] }>(`${CAIRN}/metrics/series`, body, signal).then((r) => r.series ?? []),

  getRun: (runId: string, signal?: AbortSignal) =>
    get<{ run: Run }>(`${MLFLOW}/runs/get`, { run_id: runId }, signal).then((r) => r.run),
  deleteRun: (runId: string) => post<object>(`${MLFLOW}/runs/delete`, { run_id: runId }),
  restoreRun: (runId: string) => post<object>(`${MLFLOW}/runs/restore`, { run_id: runId }),
  setRunTag: (runId: string, key: string, value: string) =>
    post<object>(`${MLFLOW}/runs/set-tag`, { run_id: runId, key, value }),
  deleteRunTag: (runId: string, key: string) => post<object>(`${MLFLOW}/runs/delete-tag`, { run_id: runId, key }),
  renameRun: (runId: string, runName: string) =>
    post<object>(`${MLFLOW}/runs/update`, { run_id: runId, run_name: runName }),

  getLoggedModel: (modelId: string, signal?: AbortSignal) =>
    get<{ model: LoggedModel }>(`${MLFLOW}/logged-models/${encodeURIComponent(modelId)}`, {}, signal).then(
      (r) => r.model,
    ),

  listArtifacts: (runId: string, path: string, signal?: AbortSignal) =>
    get<{ root_uri?: string; files?: FileInfo[] }>(`${MLFLOW}/artifacts/list`, { run_id: runId, path }, signal).then(
      (r) => r.files ?? [],
    ),
};

/** URL of one artifact file (streamed by the server; `download` makes it an attachment). */
export function artifactUrl(runId: string, path: string): string {
  return `/get-artifact${queryString({ run_id: runId, path })}`;
}

/** URL of a folder of artifacts as one zip file. */
export function artifactZipUrl(runId: string, path: string): string {
  return `${CAIRN}/artifacts/zip${queryString({ run_id: runId, path })}`;
}

/** Fetch an artifact's bytes for a preview; with `head`, only its first `head` bytes (an HTTP
 * Range request, answered 206 by the server). */
export async function fetchArtifact(
  runId: string,
  path: string,
  signal?: AbortSignal,
  head?: number,
): Promise<ArrayBuffer> {
  let response: Response;
  const headers: Record<string, string> = head ? { Range: `bytes=0-${head - 1}` } : {};
  try {
    response = await fetch(artifactUrl(runId, path), { signal, headers });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError("Cannot reach the cairn server to read this file.", 0, "NETWORK");
  }
  if (!response.ok) {
    const text = await response.text();
    let message = text.slice(0, 300);
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      /* plain text error */
    }
    throw new ApiError(message || `HTTP ${response.status}`, response.status, "ARTIFACT");
  }
  if (!head || response.status === 206 || !response.body) return response.arrayBuffer();
  return readHead(response.body, head);
}

/** The first `head` bytes of a body sent whole (a server that ignored the Range header). */
async function readHead(body: ReadableStream<Uint8Array>, head: number): Promise<ArrayBuffer> {
  const reader = body.getReader();
  const out = new Uint8Array(head);
  let filled = 0;
  while (filled < head) {
    const { done, value } = await reader.read();
    if (done) break;
    const piece = value.subarray(0, head - filled);
    out.set(piece, filled);
    filled += piece.length;
  }
  await reader.cancel();
  return out.buffer.slice(0, filled);
}

/** Run `work` over `items` with at most `limit` in flight; returns the failures. */
export async function forEachLimited<T>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<unknown>,
): Promise<{ item: T; error: unknown }[]> {
  const failures: { item: T; error: unknown }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failures.push({ item, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return failures;
}
