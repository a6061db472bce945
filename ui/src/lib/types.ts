// Shapes of the server's JSON, as the UI reads them.

export type ViewType = "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL";
export type XAxis = "step" | "time" | "relative";
export type RunStatus = "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED";
/** A double as the protocol writes it: NaN and infinities are strings, absent is null. */
export type Num = number | "NaN" | "Infinity" | "-Infinity" | null;

export interface KeyValue {
  key: string;
  value: string;
}

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location?: string;
  lifecycle_stage: string;
  creation_time?: number;
  last_update_time?: number;
  tags?: KeyValue[];
}

export interface ExperimentSummary extends Experiment {
  run_count: number;
  last_activity: number | null;
}

export interface RunRow {
  run_id: string;
  run_name: string;
  experiment_id: string;
  user_id: string | null;
  status: RunStatus;
  start_time: number | null;
  end_time: number | null;
  lifecycle_stage: string;
  parent_run_id: string | null;
  source: string | null;
  child_count: number;
  values: Record<string, string | number | null>;
}

export interface RunTablePage {
  runs: RunRow[];
  total: number;
  next_page_token?: string;
}

export interface RunKeys {
  metrics: string[];
  params: string[];
  tags: string[];
}

export interface RunGroup {
  value: string | null;
  count: number;
  means: Record<string, Num>;
}

export interface RunState {
  run_id: string;
  status: RunStatus;
  end_time: number | null;
  lifecycle_stage: string;
  /** key -> [count, latest step] */
  metrics: Record<string, [number, number]>;
}

export interface MetricSummary {
  key: string;
  latest: Num;
  step: number;
  timestamp: number;
  min: Num;
  max: Num;
  count: number;
}

export interface RunMetricsPage {
  total: number;
  metrics: MetricSummary[];
}

export interface Series {
  run_id: string;
  key: string;
  raw: boolean;
  count?: number;
  x: number[];
  y: (number | null)[];
  y_min?: (number | null)[];
  y_max?: (number | null)[];
}

export interface Metric {
  key: string;
  value: Num;
  timestamp: number;
  step: number;
}

export interface Dataset {
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema?: string;
  profile?: string;
}

export interface RunInfo {
  run_id: string;
  run_name: string;
  experiment_id: string;
  user_id?: string;
  status?: RunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri?: string;
  lifecycle_stage: string;
}

export interface Run {
  info: RunInfo;
  data: { metrics?: Metric[]; params?: KeyValue[]; tags?: KeyValue[] };
  inputs?: {
    dataset_inputs?: { tags?: KeyValue[]; dataset: Dataset }[];
    /** Logged models the run used (evaluated, fine-tuned from...). */
    model_inputs?: { model_id: string }[];
  };
  /** Logged models the run produced, at the step it logged them. */
  outputs?: { model_outputs?: { model_id: string; step?: number }[] };
}

/** An MLflow 3 logged model (`GET logged-models/{id}`); its files live at `artifact_uri`. */
export interface LoggedModel {
  info: {
    model_id: string;
    experiment_id: string;
    name: string;
    status?: string;
    model_type?: string;
    artifact_uri?: string;
    creation_timestamp_ms?: number;
    source_run_id?: string;
    status_message?: string;
  };
  data?: { params?: KeyValue[]; metrics?: Metric[] };
}

export interface FileInfo {
  path: string;
  is_dir: boolean;
  file_size?: number;
}
