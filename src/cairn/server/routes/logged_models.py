"""Logged models (MLflow 3.x): create, get, finalize, delete, search, tags, params, and the
run outputs that link runs to the models they logged.

These are what the real client's ``log_model`` and ``load_model("models:/<id>")`` call (see
the protocol reference §8.2/8.3): create (PENDING), ``runs/outputs``, get (for the artifact
URI), upload, then finalize (READY). ``runs:/<run>/<name>`` is resolved by the client through
search.
"""

from __future__ import annotations

from typing import Any

from cairn.entities import ModelOutput
from cairn.server import messages as m
from cairn.server import model_messages as mm
from cairn.server.encode_models import logged_model_json
from cairn.server.rpc import rpc
from cairn.server.schemas import EMPTY, STRING, array, obj, ref
from cairn.server.settings import Context

_MODEL = obj(model=ref("LoggedModel"))
_BY_ID = "/mlflow/logged-models/{model_id}"


@rpc("POST", "/mlflow/logged-models", mm.CreateLoggedModel, response=_MODEL)
def create_logged_model(msg: mm.CreateLoggedModel, ctx: Context) -> dict[str, Any]:
    """Create a logged model (status LOGGED_MODEL_PENDING)."""
    model = ctx.store.create_logged_model(
        msg.experiment_id,
        name=msg.name or None,
        source_run_id=msg.source_run_id or None,
        tags=[(t.key, t.value) for t in msg.tags],
        params=[(p.key, p.value) for p in msg.params],
        model_type=msg.model_type or None,
    )
    return {"model": logged_model_json(model)}


@rpc("GET", _BY_ID, mm.GetLoggedModel, response=_MODEL)
def get_logged_model(msg: mm.GetLoggedModel, ctx: Context) -> dict[str, Any]:
    """Get a logged model (``?allow_deleted=true`` to see a deleted one)."""
    model = ctx.store.get_logged_model(msg.model_id, allow_deleted=msg.allow_deleted)
    return {"model": logged_model_json(model)}


@rpc("PATCH", _BY_ID, mm.FinalizeLoggedModel, response=_MODEL)
def finalize_logged_model(msg: mm.FinalizeLoggedModel, ctx: Context) -> dict[str, Any]:
    """Set a logged model's status (LOGGED_MODEL_READY once its files are uploaded)."""
    return {"model": logged_model_json(ctx.store.finalize_logged_model(msg.model_id, msg.status))}


@rpc("DELETE", _BY_ID, mm.LoggedModelRef, response=EMPTY)
def delete_logged_model(msg: mm.LoggedModelRef, ctx: Context) -> dict[str, Any]:
    """Soft-delete a logged model."""
    ctx.store.delete_logged_model(msg.model_id)
    return {}


@rpc(
    "POST",
    "/mlflow/logged-models/search",
    mm.SearchLoggedModels,
    response=obj(models=array(ref("LoggedModel")), next_page_token=STRING),
)
def search_logged_models(msg: mm.SearchLoggedModels, ctx: Context) -> dict[str, Any]:
    """Search logged models with a filter, dataset scoping, structured ordering and paging."""
    page = ctx.store.search_logged_models(
        msg.experiment_ids,
        msg.filter or None,
        datasets=[
            {"dataset_name": d.dataset_name, "dataset_digest": d.dataset_digest or None}
            for d in msg.datasets
        ],
        max_results=msg.max_results,
        order_by=[
            {
                "field_name": o.field_name,
                "ascending": o.ascending,
                "dataset_name": o.dataset_name or None,
                "dataset_digest": o.dataset_digest or None,
            }
            for o in msg.order_by
        ],
        page_token=msg.page_token or None,
    )
    body: dict[str, Any] = {"models": [logged_model_json(model) for model in page]}
    if page.token:
        body["next_page_token"] = page.token
    return body


@rpc("PATCH", f"{_BY_ID}/tags", mm.SetLoggedModelTags, response=_MODEL)
def set_logged_model_tags(msg: mm.SetLoggedModelTags, ctx: Context) -> dict[str, Any]:
    """Set (upsert) tags of a logged model."""
    ctx.store.set_logged_model_tags(msg.model_id, [(t.key, t.value) for t in msg.tags])
    return {"model": logged_model_json(ctx.store.get_logged_model(msg.model_id))}


# Tag keys may contain dots and slashes; the client sends them unencoded in the path.
@rpc("DELETE", f"{_BY_ID}/tags/{{tag_key:path}}", mm.DeleteLoggedModelTag, response=EMPTY)
def delete_logged_model_tag(msg: mm.DeleteLoggedModelTag, ctx: Context) -> dict[str, Any]:
    """Delete a tag of a logged model."""
    ctx.store.delete_logged_model_tag(msg.model_id, msg.tag_key)
    return {}


@rpc("POST", f"{_BY_ID}/params", mm.LogLoggedModelParams, response=EMPTY)
def log_logged_model_params(msg: mm.LogLoggedModelParams, ctx: Context) -> dict[str, Any]:
    """Add params to a logged model (immutable once logged)."""
    ctx.store.log_logged_model_params(msg.model_id, [(p.key, p.value) for p in msg.params])
    return {}


@rpc("POST", "/mlflow/runs/outputs", m.LogOutputs, response=EMPTY)
def log_outputs(msg: m.LogOutputs, ctx: Context) -> dict[str, Any]:
    """Record the logged models a run produced (its ``outputs.model_outputs``)."""
    ctx.store.log_outputs(msg.run_id, [ModelOutput(o.model_id, o.step) for o in msg.models])
    return {}
