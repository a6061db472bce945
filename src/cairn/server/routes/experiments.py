"""Experiments: create, get, get-by-name, search, update, delete, restore, tags."""

from __future__ import annotations

from typing import Any

from cairn.entities import ViewType
from cairn.errors import ExperimentNotFound
from cairn.server import messages as m
from cairn.server.encode import experiment_json
from cairn.server.rpc import rpc
from cairn.server.schemas import EMPTY, obj, ref
from cairn.server.settings import Context

_EXPERIMENT = obj(experiment=ref("Experiment"))


@rpc(
    "POST",
    "/mlflow/experiments/create",
    m.CreateExperiment,
    response=obj(experiment_id={"type": "string"}),
)
def create_experiment(msg: m.CreateExperiment, ctx: Context) -> dict[str, Any]:
    """Create an experiment."""
    exp_id = ctx.store.create_experiment(
        msg.name, msg.artifact_location or None, [(t.key, t.value) for t in msg.tags]
    )
    return {"experiment_id": exp_id}


@rpc("GET", "/mlflow/experiments/get", m.GetExperiment, response=_EXPERIMENT)
def get_experiment(msg: m.GetExperiment, ctx: Context) -> dict[str, Any]:
    """Get an experiment by id."""
    return {"experiment": experiment_json(ctx.store.get_experiment(msg.experiment_id))}


@rpc("GET", "/mlflow/experiments/get-by-name", m.GetExperimentByName, response=_EXPERIMENT)
def get_experiment_by_name(msg: m.GetExperimentByName, ctx: Context) -> dict[str, Any]:
    """Get an experiment by name."""
    experiment = ctx.store.get_experiment_by_name(msg.experiment_name)
    if experiment is None:
        raise ExperimentNotFound(
            f"Could not find experiment with name '{msg.experiment_name}'",
            name=msg.experiment_name,
        )
    return {"experiment": experiment_json(experiment)}


_SEARCH = obj(
    experiments={"type": "array", "items": ref("Experiment")},
    next_page_token={"type": "string"},
)


def search_experiments(msg: m.SearchExperiments, ctx: Context) -> dict[str, Any]:
    """Search experiments."""
    page = ctx.store.search_experiments(
        ViewType[msg.view_type],
        msg.max_results,
        msg.filter or None,
        msg.order_by or None,
        msg.page_token or None,
    )
    body: dict[str, Any] = {"experiments": [experiment_json(e) for e in page]}
    if page.token:
        body["next_page_token"] = page.token
    return body


rpc("POST", "/mlflow/experiments/search", m.SearchExperiments, response=_SEARCH)(search_experiments)
rpc("GET", "/mlflow/experiments/search", m.SearchExperiments, response=_SEARCH)(search_experiments)


@rpc("POST", "/mlflow/experiments/update", m.UpdateExperiment, response=EMPTY)
def update_experiment(msg: m.UpdateExperiment, ctx: Context) -> dict[str, Any]:
    """Rename an experiment."""
    ctx.store.rename_experiment(msg.experiment_id, msg.new_name)
    return {}


@rpc("POST", "/mlflow/experiments/delete", m.ExperimentRef, response=EMPTY)
def delete_experiment(msg: m.ExperimentRef, ctx: Context) -> dict[str, Any]:
    """Soft-delete an experiment and its runs."""
    ctx.store.delete_experiment(msg.experiment_id)
    return {}


@rpc("POST", "/mlflow/experiments/restore", m.ExperimentRef, response=EMPTY)
def restore_experiment(msg: m.ExperimentRef, ctx: Context) -> dict[str, Any]:
    """Restore a deleted experiment and the runs deleted with it."""
    ctx.store.restore_experiment(msg.experiment_id)
    return {}


@rpc("POST", "/mlflow/experiments/set-experiment-tag", m.SetExperimentTag, response=EMPTY)
def set_experiment_tag(msg: m.SetExperimentTag, ctx: Context) -> dict[str, Any]:
    """Set a tag on an experiment."""
    ctx.store.set_experiment_tag(msg.experiment_id, msg.key, msg.value)
    return {}


@rpc("POST", "/mlflow/experiments/delete-experiment-tag", m.DeleteExperimentTag, response=EMPTY)
def delete_experiment_tag(msg: m.DeleteExperimentTag, ctx: Context) -> dict[str, Any]:
    """Delete a tag of an experiment."""
    ctx.store.delete_experiment_tag(msg.experiment_id, msg.key)
    return {}
