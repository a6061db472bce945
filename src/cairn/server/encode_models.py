"""Logged models (MLflow 3.x) to the protocol's JSON shapes (``LoggedModel``, §1.2).

As :mod:`.encode` writes everything: int64 as JSON numbers, NaN and infinities as strings,
the status enum by name, unset optional fields left out.

    >>> model_metric_json(Metric("acc", 0.5, 5, 1, "r1", "val", None, "m-1"))
    {'key': 'acc', 'value': 0.5, 'timestamp': 5, 'step': 1, 'run_id': 'r1', \
'dataset_name': 'val', 'model_id': 'm-1'}
"""

from __future__ import annotations

from typing import Any

from cairn.entities import LoggedModel, Metric
from cairn.server.encode import key_values, metric_json


def model_metric_json(metric: Metric) -> dict[str, Any]:
    """A metric with its 3.x fields (``dataset_name``, ``dataset_digest``, ``model_id``)."""
    body = metric_json(metric)
    for name in ("dataset_name", "dataset_digest", "model_id"):
        value = getattr(metric, name)
        if value is not None:
            body[name] = value
    return body


def logged_model_json(model: LoggedModel) -> dict[str, Any]:
    """``{"info": LoggedModelInfo, "data": LoggedModelData}``."""
    info: dict[str, Any] = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "creation_timestamp_ms": model.creation_timestamp_ms,
        "last_updated_timestamp_ms": model.last_updated_timestamp_ms,
        "artifact_uri": model.artifact_uri,
        "status": model.status,
        "tags": key_values(model.tags),
        "registrations": [{"name": r.name, "version": r.version} for r in model.registrations],
    }
    optional = {
        "creator_id": model.creator_id,
        "model_type": model.model_type,
        "source_run_id": model.source_run_id,
        "status_message": model.status_message,
    }
    info.update({k: val for k, val in optional.items() if val is not None})
    return {
        "info": info,
        "data": {
            "params": key_values(model.params),
            "metrics": [model_metric_json(m) for m in model.metrics],
        },
    }
