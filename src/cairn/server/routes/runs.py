"""Runs: create, get, update, delete, restore, search, and logging to them."""

from __future__ import annotations

import json
import time
from typing import Any

from cairn.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    Metric,
    ModelInput,
    Param,
    RunTag,
    ViewType,
)
from cairn.errors import InvalidParameter
from cairn.server import messages as m
from cairn.server.encode import run_info_json, run_json
from cairn.server.rpc import rpc
from cairn.server.schemas import EMPTY, STRING, array, obj, ref
from cairn.server.settings import Context
from cairn.validation import (
    MAX_BATCH_ITEMS,
    MAX_BATCH_METRICS,
    MAX_BATCH_PARAMS,
    MAX_BATCH_TAGS,
)

_RUN = obj(run=ref("Run"))
LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"


@rpc("POST", "/mlflow/runs/create", m.CreateRun, response=_RUN)
def create_run(msg: m.CreateRun, ctx: Context) -> dict[str, Any]:
    """Create a run."""
    tags = [RunTag(t.key, t.value) for t in msg.tags]
    user = msg.user_id or next((t.value for t in tags if t.key == "mlflow.user"), "")
    run = ctx.store.create_run(
        msg.experiment_id or "0",
        user_id=user,
        start_time=msg.start_time if msg.start_time is not None else int(time.time() * 1000),
        tags=tags,
        run_name=msg.run_name or None,
    )
    return {"run": run_json(run)}


@rpc("GET", "/mlflow/runs/get", m.GetRun, response=_RUN)
def get_run(msg: m.GetRun, ctx: Context) -> dict[str, Any]:
    """Get a run with its latest metrics, params, tags, inputs and outputs."""
    return {"run": run_json(ctx.store.get_run(msg.id))}


@rpc("POST", "/mlflow/runs/update", m.UpdateRun, response=obj(run_info=ref("RunInfo")))
def update_run(msg: m.UpdateRun, ctx: Context) -> dict[str, Any]:
    """Change a run's status, end time or name."""
    info = ctx.store.update_run_info(
        msg.id, status=msg.status, end_time=msg.end_time, run_name=msg.run_name or None
    )
    return {"run_info": run_info_json(info)}


@rpc("POST", "/mlflow/runs/delete", m.DeleteRun, response=EMPTY)
def delete_run(msg: m.DeleteRun, ctx: Context) -> dict[str, Any]:
    """Soft-delete a run."""
    ctx.store.delete_run(msg.run_id)
    return {}


@rpc("POST", "/mlflow/runs/restore", m.DeleteRun, response=EMPTY)
def restore_run(msg: m.DeleteRun, ctx: Context) -> dict[str, Any]:
    """Restore a soft-deleted run."""
    ctx.store.restore_run(msg.run_id)
    return {}


@rpc(
    "POST",
    "/mlflow/runs/search",
    m.SearchRuns,
    response=obj(runs=array(ref("Run")), next_page_token=STRING),
)
def search_runs(msg: m.SearchRuns, ctx: Context) -> dict[str, Any]:
    """Search runs with a filter, ordering and paging."""
    page = ctx.store.search_runs(
        msg.experiment_ids,
        msg.filter or None,
        ViewType[msg.run_view_type],
        msg.max_results,
        msg.order_by or None,
        msg.page_token or None,
    )
    body: dict[str, Any] = {"runs": [run_json(r) for r in page]}
    if page.token:
        body["next_page_token"] = page.token
    return body


@rpc("POST", "/mlflow/runs/log-metric", m.LogMetric, response=EMPTY)
def log_metric(msg: m.LogMetric, ctx: Context) -> dict[str, Any]:
    """Append one metric point."""
    metric = Metric(
        msg.key,
        msg.value,
        msg.timestamp,
        msg.step,
        dataset_name=msg.dataset_name or None,
        dataset_digest=msg.dataset_digest or None,
        model_id=msg.model_id or None,
    )
    ctx.store.log_batch(msg.id, metrics=[metric])
    return {}


@rpc("POST", "/mlflow/runs/log-parameter", m.LogParam, response=EMPTY)
def log_param(msg: m.LogParam, ctx: Context) -> dict[str, Any]:
    """Log a param (immutable once logged)."""
    ctx.store.log_batch(msg.id, params=[Param(msg.key, msg.value)])
    return {}


@rpc("POST", "/mlflow/runs/set-tag", m.SetTag, response=EMPTY)
def set_tag(msg: m.SetTag, ctx: Context) -> dict[str, Any]:
    """Set a run tag."""
    ctx.store.log_batch(msg.id, tags=[RunTag(msg.key, msg.value)])
    return {}


@rpc("POST", "/mlflow/runs/delete-tag", m.DeleteTag, response=EMPTY)
def delete_tag(msg: m.DeleteTag, ctx: Context) -> dict[str, Any]:
    """Delete a run tag."""
    ctx.store.delete_tag(msg.run_id, msg.key)
    return {}


@rpc("POST", "/mlflow/runs/log-batch", m.LogBatch, response=EMPTY)
def log_batch(msg: m.LogBatch, ctx: Context) -> dict[str, Any]:
    """Log metrics, params and tags in one atomic write, within the protocol's limits."""
    counts = (len(msg.metrics), len(msg.params), len(msg.tags))
    limits = (MAX_BATCH_METRICS, MAX_BATCH_PARAMS, MAX_BATCH_TAGS)
    for what, count, limit in zip(("metrics", "params", "tags"), counts, limits, strict=True):
        if count > limit:
            raise InvalidParameter(
                f"A batch logging request can contain at most {limit} {what}. Got {count} "
                f"{what}. Please split up {what} across multiple requests and try again."
            )
    if sum(counts) > MAX_BATCH_ITEMS:
        raise InvalidParameter(
            f"A batch logging request can contain at most {MAX_BATCH_ITEMS} metrics, params "
            f"and tags together. Got {sum(counts)}."
        )
    ctx.store.log_batch(
        msg.run_id,
        metrics=[
            Metric(
                x.key,
                x.value,
                x.timestamp,
                x.step,
                dataset_name=x.dataset_name or None,
                dataset_digest=x.dataset_digest or None,
                model_id=x.model_id or None,
            )
            for x in msg.metrics
        ],
        params=[Param(p.key, p.value) for p in msg.params],
        tags=[RunTag(t.key, t.value) for t in msg.tags],
    )
    return {}


@rpc("POST", "/mlflow/runs/log-inputs", m.LogInputs, response=EMPTY)
def log_inputs(msg: m.LogInputs, ctx: Context) -> dict[str, Any]:
    """Record the datasets and logged models a run used."""
    if len(msg.datasets) > 1000:
        raise InvalidParameter(f"At most 1000 datasets per request; got {len(msg.datasets)}")
    datasets = [
        DatasetInput(
            Dataset(
                d.dataset.name,
                d.dataset.digest,
                d.dataset.source_type,
                d.dataset.source,
                d.dataset.schema_,
                d.dataset.profile,
            ),
            tuple(InputTag(t.key, t.value) for t in d.tags),
        )
        for d in msg.datasets
    ]
    models = [ModelInput(m.model_id) for m in msg.models]
    ctx.store.log_inputs(msg.run_id, datasets, models)
    return {}


@rpc("POST", "/mlflow/runs/log-model", m.LogModel, response=EMPTY)
def log_model(msg: m.LogModel, ctx: Context) -> dict[str, Any]:
    """Legacy: append a model description to the run's ``mlflow.log-model.history`` tag."""
    try:
        model = json.loads(msg.model_json)
    except ValueError as err:
        raise InvalidParameter(f"model_json is not valid JSON: {err}") from None
    required = ("artifact_path", "flavors", "utc_time_created", "run_id")
    missing = [k for k in required if not isinstance(model, dict) or k not in model]
    if missing:
        raise InvalidParameter(f"model_json is missing {', '.join(missing) or 'an object'}")
    history = json.loads(ctx.store.get_run(msg.run_id).data.tags.get(LOG_MODEL_HISTORY_TAG, "[]"))
    history.append(model)
    ctx.store.log_batch(msg.run_id, tags=[RunTag(LOG_MODEL_HISTORY_TAG, json.dumps(history))])
    return {}
