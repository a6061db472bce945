"""Entities to the protocol's JSON shapes.

As MLflow writes them: int64 fields as JSON numbers, doubles that are NaN or infinite as the
strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``, enums by name, unset optional fields
left out.

    >>> metric_json(Metric("loss", float("nan"), 5, 1))
    {'key': 'loss', 'value': 'NaN', 'timestamp': 5, 'step': 1}
"""

from __future__ import annotations

from typing import Any

from cairn._protocol import double
from cairn.entities import (
    DatasetInput,
    Experiment,
    FileInfo,
    Metric,
    Run,
    RunInfo,
)


def key_values(mapping: Any) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


def experiment_json(experiment: Experiment) -> dict[str, Any]:
    body: dict[str, Any] = {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "artifact_location": experiment.artifact_location,
        "lifecycle_stage": experiment.lifecycle_stage,
        "tags": key_values(experiment.tags),
    }
    if experiment.creation_time is not None:
        body["creation_time"] = experiment.creation_time
    if experiment.last_update_time is not None:
        body["last_update_time"] = experiment.last_update_time
    return body


def run_info_json(info: RunInfo) -> dict[str, Any]:
    body: dict[str, Any] = {
        "run_id": info.run_id,
        "run_uuid": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": info.status,
        "start_time": info.start_time,
        "artifact_uri": info.artifact_uri,
        "lifecycle_stage": info.lifecycle_stage,
    }
    if info.end_time is not None:
        body["end_time"] = info.end_time
    return body


def metric_json(metric: Metric) -> dict[str, Any]:
    body: dict[str, Any] = {
        "key": metric.key,
        "value": double(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }
    if metric.run_id is not None:
        body["run_id"] = metric.run_id
    return body


def _dataset_input_json(item: DatasetInput) -> dict[str, Any]:
    ds = item.dataset
    dataset: dict[str, Any] = {
        "name": ds.name,
        "digest": ds.digest,
        "source_type": ds.source_type,
        "source": ds.source,
    }
    if ds.schema is not None:
        dataset["schema"] = ds.schema
    if ds.profile is not None:
        dataset["profile"] = ds.profile
    return {"tags": [{"key": t.key, "value": t.value} for t in item.tags], "dataset": dataset}


def run_json(run: Run) -> dict[str, Any]:
    """A run with ``data.metrics`` holding each key's latest point, as the protocol expects."""
    info = run.info
    steps = run.data.metric_steps
    default = (0, info.start_time)
    return {
        "info": run_info_json(info),
        "data": {
            "metrics": [
                {
                    "key": k,
                    "value": double(v),
                    "timestamp": steps.get(k, default)[1],
                    "step": steps.get(k, default)[0],
                }
                for k, v in run.data.metrics.items()
            ],
            "params": key_values(run.data.params),
            "tags": key_values(run.data.tags),
        },
        "inputs": {
            "dataset_inputs": [_dataset_input_json(d) for d in run.inputs.dataset_inputs],
            "model_inputs": [{"model_id": m.model_id} for m in run.inputs.model_inputs],
        },
        "outputs": {
            "model_outputs": [
                {"model_id": m.model_id, "step": m.step} for m in run.outputs.model_outputs
            ]
        },
    }


def file_info_json(info: FileInfo) -> dict[str, Any]:
    body: dict[str, Any] = {"path": info.path, "is_dir": info.is_dir}
    if info.file_size is not None:
        body["file_size"] = info.file_size
    return body
