"""cairn's entities to and from the JSON of MLflow's REST protocol, on the client side.

Reading is lenient, as MLflow's client is: int64 fields may be numbers or numeric strings,
doubles may be numbers or ``"NaN"``/``"Infinity"``/``"-Infinity"``, missing fields take the
protocol's defaults and unknown fields are ignored. Writing follows what MLflow's client sends:
int64 as JSON numbers, non-finite doubles as those strings, enums by name.

    >>> metric_json("loss", float("nan"), 5, 1)
    {'key': 'loss', 'value': 'NaN', 'timestamp': 5, 'step': 1}
    >>> experiment_from_json({"experiment_id": "1", "name": "iris", "creation_time": "17"})
    Experiment(experiment_id='1', name='iris', artifact_location='', lifecycle_stage='active', \
tags={}, creation_time=17, last_update_time=None)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cairn._protocol import double
from cairn.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    FrozenDict,
    InputTag,
    LifecycleStage,
    LoggedModel,
    LoggedModelRegistration,
    Metric,
    ModelInput,
    ModelOutput,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
)

__all__ = [
    "dataset_input_json",
    "double",
    "experiment_from_json",
    "key_values",
    "logged_model_from_json",
    "metric_from_json",
    "metric_json",
    "parse_double",
    "parse_int",
    "run_from_json",
    "run_info_from_json",
]

JsonObject = dict[str, Any]
_METRIC_EXTRAS = ("dataset_name", "dataset_digest", "model_id")

# -- scalars ---------------------------------------------------------------------------------


def parse_double(value: Any) -> float:
    """A protocol double: a number, a numeric string or ``"NaN"``/``"Infinity"``.

    >>> parse_double("-Infinity"), parse_double(2)
    (-inf, 2.0)
    """
    return float(value)


def parse_int(value: Any, default: int = 0) -> int:
    """A protocol int64, sent as a number or a numeric string; ``default`` when missing."""
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return int(value) if value.lstrip("-").isdigit() else int(float(value))
    return int(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None or value == "" else parse_int(value)


def key_values(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """``[("k", "v")]`` as ``[{"key": "k", "value": "v"}]``."""
    return [{"key": key, "value": value} for key, value in pairs]


def _pairs(items: Any) -> FrozenDict[str, str]:
    return FrozenDict((str(i.get("key", "")), str(i.get("value", ""))) for i in items or ())


# -- requests --------------------------------------------------------------------------------


def metric_json(
    key: str, value: float, timestamp: int, step: int, metric: Metric | None = None
) -> JsonObject:
    """One metric of a log-batch request, with the 3.x fields of ``metric`` that are set
    (``model_id``, ``dataset_name``, ``dataset_digest``)."""
    body: JsonObject = {"key": key, "value": double(value), "timestamp": timestamp, "step": step}
    if metric is not None:
        for name in _METRIC_EXTRAS:
            extra = getattr(metric, name)
            if extra is not None:
                body[name] = extra
    return body


def dataset_input_json(item: DatasetInput) -> JsonObject:
    """One entry of a log-inputs request."""
    ds = item.dataset
    dataset: JsonObject = {
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


# -- responses -------------------------------------------------------------------------------


def experiment_from_json(body: Mapping[str, Any]) -> Experiment:
    """An ``Experiment`` message as an :class:`~cairn.entities.Experiment`."""
    return Experiment(
        experiment_id=str(body.get("experiment_id", "")),
        name=str(body.get("name", "")),
        artifact_location=str(body.get("artifact_location", "")),
        lifecycle_stage=str(body.get("lifecycle_stage") or LifecycleStage.ACTIVE),
        tags=_pairs(body.get("tags")),
        creation_time=_optional_int(body.get("creation_time")),
        last_update_time=_optional_int(body.get("last_update_time")),
    )


def run_info_from_json(body: Mapping[str, Any], run_name: str | None = None) -> RunInfo:
    """A ``RunInfo`` message; a missing status reads as RUNNING, an end time of 0 as none."""
    end_time = _optional_int(body.get("end_time"))
    return RunInfo(
        run_id=str(body.get("run_id") or body.get("run_uuid") or ""),
        experiment_id=str(body.get("experiment_id", "")),
        run_name=str(body.get("run_name") or run_name or ""),
        user_id=str(body.get("user_id", "")),
        status=str(body.get("status") or "RUNNING"),
        start_time=parse_int(body.get("start_time")),
        end_time=end_time or None,
        artifact_uri=str(body.get("artifact_uri", "")),
        lifecycle_stage=str(body.get("lifecycle_stage") or LifecycleStage.ACTIVE),
    )


def metric_from_json(body: Mapping[str, Any], run_id: str | None = None) -> Metric:
    """A ``Metric`` message; ``run_id`` fills in the run a history request named."""
    return Metric(
        key=str(body.get("key", "")),
        value=parse_double(body.get("value", 0.0)),
        timestamp=parse_int(body.get("timestamp")),
        step=parse_int(body.get("step")),
        run_id=str(body["run_id"]) if body.get("run_id") else run_id,
        dataset_name=_optional_str(body.get("dataset_name")),
        dataset_digest=_optional_str(body.get("dataset_digest")),
        model_id=_optional_str(body.get("model_id")),
    )


def _optional_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _run_data(body: Mapping[str, Any]) -> RunData:
    """Latest metrics (with their steps and timestamps), params and tags of a run.

    The protocol sends one metric per key; should a server send several, the latest wins
    (largest step, then timestamp), as :mod:`cairn.store.base` defines it.
    """
    latest: dict[str, Metric] = {}
    for item in body.get("metrics") or ():
        metric = metric_from_json(item)
        held = latest.get(metric.key)
        if held is None or (metric.step, metric.timestamp) >= (held.step, held.timestamp):
            latest[metric.key] = metric
    return RunData(
        metrics={k: m.value for k, m in latest.items()},
        params=_pairs(body.get("params")),
        tags=_pairs(body.get("tags")),
        metric_steps={k: (m.step, m.timestamp) for k, m in latest.items()},
    )


def _dataset_input(body: Mapping[str, Any]) -> DatasetInput:
    ds = body.get("dataset") or {}
    dataset = Dataset(
        name=str(ds.get("name", "")),
        digest=str(ds.get("digest", "")),
        source_type=str(ds.get("source_type", "")),
        source=str(ds.get("source", "")),
        schema=ds.get("schema"),
        profile=ds.get("profile"),
    )
    tags = tuple(
        InputTag(str(t.get("key", "")), str(t.get("value", ""))) for t in body.get("tags") or ()
    )
    return DatasetInput(dataset, tags)


def run_from_json(body: Mapping[str, Any]) -> Run:
    """A ``Run`` message (info, data, inputs, outputs) as a :class:`~cairn.entities.Run`."""
    data = _run_data(body.get("data") or {})
    inputs = body.get("inputs") or {}
    outputs = body.get("outputs") or {}
    return Run(
        info=run_info_from_json(body.get("info") or {}, data.tags.get("mlflow.runName")),
        data=data,
        inputs=RunInputs(
            dataset_inputs=tuple(_dataset_input(d) for d in inputs.get("dataset_inputs") or ()),
            model_inputs=tuple(
                ModelInput(str(m.get("model_id", ""))) for m in inputs.get("model_inputs") or ()
            ),
        ),
        outputs=RunOutputs(
            model_outputs=tuple(
                ModelOutput(str(m.get("model_id", "")), parse_int(m.get("step")))
                for m in outputs.get("model_outputs") or ()
            )
        ),
    )


def logged_model_from_json(
    body: Mapping[str, Any], lifecycle_stage: str | None = None
) -> LoggedModel:
    """A ``LoggedModel`` message (``{"info": ..., "data": ...}``).

    The protocol's ``LoggedModelInfo`` has no lifecycle stage; a ``lifecycle_stage`` field is
    read if the server adds one, else ``lifecycle_stage`` (default active) is used.
    """
    info = body.get("info") or {}
    data = body.get("data") or {}
    return LoggedModel(
        model_id=str(info.get("model_id", "")),
        experiment_id=str(info.get("experiment_id", "")),
        name=str(info.get("name", "")),
        artifact_uri=str(info.get("artifact_uri", "")),
        creation_timestamp_ms=parse_int(info.get("creation_timestamp_ms")),
        last_updated_timestamp_ms=parse_int(info.get("last_updated_timestamp_ms")),
        status=str(info.get("status") or "LOGGED_MODEL_STATUS_UNSPECIFIED"),
        creator_id=_optional_int(info.get("creator_id")),
        model_type=_optional_str(info.get("model_type")),
        source_run_id=_optional_str(info.get("source_run_id")),
        status_message=_optional_str(info.get("status_message")),
        tags=_pairs(info.get("tags")),
        params=_pairs(data.get("params")),
        metrics=tuple(metric_from_json(m) for m in data.get("metrics") or ()),
        registrations=tuple(
            LoggedModelRegistration(str(r.get("name", "")), str(r.get("version", "")))
            for r in info.get("registrations") or ()
        ),
        lifecycle_stage=str(
            info.get("lifecycle_stage") or lifecycle_stage or LifecycleStage.ACTIVE
        ),
    )
