"""Fluent logged-model functions (MLflow 3.x names and arguments): find models
(``search_logged_models``, ``get_logged_model``, ``last_logged_model``), and build one by hand
when no flavor's ``log_model`` fits (``initialize_logged_model``, ``log_model_params``,
``set_logged_model_tags``, ``finalize_logged_model``, ``create_external_model``), or record a
run's models (``log_outputs``).

    >>> import cairn
    >>> with cairn.start_run():                                        # doctest: +SKIP
    ...     cairn.sklearn.log_model(clf, name="model")
    >>> cairn.search_logged_models(                                   # doctest: +SKIP
    ...     filter_string="name = 'model'", output_format="list"
    ... )

By hand::

    model = cairn.initialize_logged_model(name="ranker", model_type="agent")
    upload_files_to(model.artifact_location)
    cairn.finalize_logged_model(model.model_id, "READY")
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from cairn.entities import LoggedModel, LoggedModelStatus, ModelOutput
from cairn.errors import InvalidParameter

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EXTERNAL_MODEL_TAG",
    "create_external_model",
    "delete_logged_model_tag",
    "finalize_logged_model",
    "get_logged_model",
    "initialize_logged_model",
    "last_logged_model",
    "log_model_params",
    "log_outputs",
    "search_logged_models",
    "set_logged_model_tags",
]

#: Tag (and MLmodel metadata key) of a model whose files live outside cairn.
EXTERNAL_MODEL_TAG = "mlflow.model.isExternal"


def get_logged_model(model_id: str) -> LoggedModel:
    """The logged model ``model_id``. Raises ResourceNotFound."""
    from cairn import _fluent
    from cairn.models import _client

    return _client.get_logged_model(_fluent._client(), model_id)


def last_logged_model() -> LoggedModel | None:
    """The model most recently logged by this process, as it is now; None if none was."""
    from cairn.models import _log

    return None if _log.last_model_id is None else get_logged_model(_log.last_model_id)


def search_logged_models(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    datasets: Sequence[Mapping[str, Any]] | None = None,
    max_results: int | None = None,
    order_by: Sequence[str | Mapping[str, Any]] | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
) -> pd.DataFrame | list[LoggedModel]:
    """Logged models of ``experiment_ids`` (default: the current experiment) matching
    ``filter_string`` (e.g. ``"name = 'model' AND metrics.acc > 0.9"``), every page.

    Returns a DataFrame (one row per model) or, with ``output_format="list"``, LoggedModels.

    Raises InvalidFilter for a filter that does not parse, InvalidParameter otherwise.
    """
    from cairn import _fluent
    from cairn.models import _client

    if output_format not in ("pandas", "list"):
        raise InvalidParameter(
            f"Unsupported output_format {output_format!r}; use 'pandas' or 'list'"
        )
    client = _fluent._client()
    ids = [str(e) for e in experiment_ids] if experiment_ids else [_fluent._current_experiment_id()]
    models: list[LoggedModel] = []
    token = None
    while max_results is None or len(models) < max_results:
        page = _client.search_logged_models(
            client, ids, filter_string, datasets, max_results, order_by, token
        )
        models.extend(page)
        token = page.token
        if not token:
            break
    if max_results is not None:
        models = models[:max_results]
    if output_format == "list":
        return models
    return _to_frame(models)


def _to_frame(models: list[LoggedModel]) -> pd.DataFrame:
    import pandas as pd

    rows = [
        {
            "model_id": m.model_id,
            "experiment_id": m.experiment_id,
            "name": m.name,
            "artifact_location": m.artifact_uri,
            "creation_timestamp": m.creation_timestamp_ms,
            "last_updated_timestamp": m.last_updated_timestamp_ms,
            "status": m.status,
            "model_type": m.model_type,
            "source_run_id": m.source_run_id,
            "status_message": m.status_message,
            "tags": dict(m.tags),
            "params": dict(m.params),
            "metrics": list(m.metrics),
        }
        for m in models
    ]
    columns = [
        "model_id",
        "experiment_id",
        "name",
        "artifact_location",
        "creation_timestamp",
        "last_updated_timestamp",
        "status",
        "model_type",
        "source_run_id",
        "status_message",
        "tags",
        "params",
        "metrics",
    ]
    frame: pd.DataFrame = pd.DataFrame(rows, columns=columns)
    return frame


# -- building a model by hand ----------------------------------------------------------------


def initialize_logged_model(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """Create a logged model in status ``LOGGED_MODEL_PENDING``, to fill in yourself: put
    its files under ``artifact_location``, then call :func:`finalize_logged_model`.

    ``source_run_id`` defaults to the active run; ``experiment_id`` to the active run's
    experiment, else the current one. System tags (user, source) are added to ``tags``.

    Raises ExperimentNotFound; InvalidParameter for a bad name, tag or param.
    """
    from cairn.models import _log as log_module

    model = _create(name, source_run_id, tags, params, model_type, experiment_id)
    log_module.last_model_id = model.model_id
    return model


def _create(
    name: str | None,
    source_run_id: str | None,
    tags: Mapping[str, Any] | None,
    params: Mapping[str, Any] | None,
    model_type: str | None,
    experiment_id: str | None,
) -> LoggedModel:
    from cairn import _fluent
    from cairn.models import _client

    active = _fluent.active_run()
    if source_run_id is None and active is not None:
        source_run_id = active.info.run_id
    if experiment_id is None:
        experiment_id = (
            active.info.experiment_id if active is not None else _fluent._current_experiment_id()
        )
    all_tags = {**_fluent._system_tags(), **{k: str(v) for k, v in (tags or {}).items()}}
    return _client.create_logged_model(
        _fluent._client(), str(experiment_id), name, source_run_id, all_tags, params, model_type
    )


def finalize_logged_model(
    model_id: str, status: Literal["READY", "FAILED"] | LoggedModelStatus | str
) -> LoggedModel:
    """Set the model's final status and return it: ``"READY"`` once its files are in place,
    ``"FAILED"`` if they could not be (full names such as ``LOGGED_MODEL_READY`` work too).

    Raises ResourceNotFound; InvalidParameter for an unknown status.
    """
    from cairn import _fluent
    from cairn.models import _client

    return _client.finalize_logged_model(_fluent._client(), model_id, status)


def create_external_model(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """Record a model whose code and weights live elsewhere (an agent behind an API, a model
    in another system), so that runs, metrics and traces can refer to it.

    The model is READY at once, tagged ``mlflow.model.isExternal=true``, and its artifacts
    hold only an ``MLmodel`` file saying so (it cannot be loaded). Arguments as for
    :func:`initialize_logged_model`.
    """
    from cairn import _fluent
    from cairn.models import _client
    from cairn.models import _log as log_module
    from cairn.models.mlmodel import MLMODEL_FILE_NAME, Model

    model = _create(
        name,
        source_run_id,
        {**(tags or {}), EXTERNAL_MODEL_TAG: "true"},
        params,
        model_type,
        experiment_id,
    )
    client = _fluent._client()
    spec = Model(
        artifact_path=model.artifact_uri,
        run_id=model.source_run_id,
        model_id=model.model_id,
        model_uuid=model.model_id,
        metadata={EXTERNAL_MODEL_TAG: True},
    )
    try:
        with tempfile.TemporaryDirectory(prefix="cairn-external-model-") as tmp:
            spec.save(Path(tmp) / MLMODEL_FILE_NAME)
            _client.log_model_artifacts(client, model, tmp)
    except BaseException:
        # A model left PENDING would look like an upload still in progress.
        _client.finalize_logged_model(client, model.model_id, "LOGGED_MODEL_UPLOAD_FAILED")
        raise
    final = _client.finalize_logged_model(client, model.model_id, "LOGGED_MODEL_READY")
    log_module.last_model_id = final.model_id
    return final


def log_model_params(params: dict[str, str], model_id: str | None = None) -> None:
    """Add params to a logged model (default: the active model, see
    :func:`cairn.set_active_model`). Params are immutable, as a run's are.

    Raises InvalidParameter without a model, ParamValueChanged for a changed value,
    ResourceNotFound for an unknown model.
    """
    from cairn import _fluent, _model_links
    from cairn.models import _client

    model_id = model_id or _model_links.get_active_model_id()
    if model_id is None:
        raise InvalidParameter("log_model_params: pass model_id, or set an active model first")
    _client.log_model_params(_fluent._client(), model_id, params)


def set_logged_model_tags(model_id: str, tags: dict[str, Any]) -> None:
    """Set tags of a logged model (values are stored as text; existing keys are replaced).

    Raises ResourceNotFound."""
    from cairn import _fluent
    from cairn.models import _client

    _client.set_logged_model_tags(_fluent._client(), model_id, tags)


def delete_logged_model_tag(model_id: str, key: str) -> None:
    """Raises ResourceNotFound if the model, or its tag ``key``, does not exist."""
    from cairn import _fluent
    from cairn.models import _client

    _client.delete_logged_model_tag(_fluent._client(), model_id, key)


def log_outputs(models: list[Any] | None = None) -> None:
    """Record that the active run (started if there is none) produced these models
    (:class:`cairn.entities.ModelOutput`, i.e. a model id and a step). Metrics the run logs
    at that step from now on are linked to the model, as after ``log_model``.

    Raises ResourceNotFound for an unknown model.
    """
    from cairn import _fluent
    from cairn.models import _client

    run_id = _fluent._active_run_id()
    outputs = [_model_output(m) for m in models or [] if m is not None]
    if outputs:
        _client.log_outputs(_fluent._client(), run_id, outputs)


def _model_output(model: Any) -> ModelOutput:
    if isinstance(model, ModelOutput):
        return model
    model_id = getattr(model, "model_id", None)
    if not isinstance(model_id, str):
        raise InvalidParameter(
            f"log_outputs takes ModelOutput(model_id, step) items, not {type(model).__name__}"
        )
    return ModelOutput(model_id, int(getattr(model, "step", 0) or 0))
