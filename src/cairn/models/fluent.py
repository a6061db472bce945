"""Fluent logged-model functions: ``cairn.search_logged_models``, ``cairn.get_logged_model``,
``cairn.last_logged_model`` (MLflow 3.x names and arguments).

    >>> import cairn
    >>> with cairn.start_run():                                        # doctest: +SKIP
    ...     cairn.sklearn.log_model(clf, name="model")
    >>> cairn.search_logged_models(                                   # doctest: +SKIP
    ...     filter_string="name = 'model'", output_format="list"
    ... )
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from cairn.entities import LoggedModel
from cairn.errors import InvalidParameter

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["get_logged_model", "last_logged_model", "search_logged_models"]


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
