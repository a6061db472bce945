"""Logged-model operations on a :class:`~cairn.client.Client` (MLflow 3.x ``LoggedModel``).

Functions rather than ``Client`` methods, so that the model package owns them; each takes the
client first and goes through its store (after the queued writes, so reads see them)::

    >>> from cairn import Client
    >>> client = Client()                                                 # doctest: +SKIP
    >>> model = create_logged_model(client, "0", name="model")            # doctest: +SKIP
    >>> finalize_logged_model(client, model.model_id, "READY").status     # doctest: +SKIP
    'LOGGED_MODEL_READY'
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cairn.entities import LoggedModel, Metric, ModelOutput, PagedList

if TYPE_CHECKING:
    from cairn.client import Client

__all__ = [
    "create_logged_model",
    "delete_logged_model_tag",
    "finalize_logged_model",
    "get_logged_model",
    "link_run_metrics",
    "log_model_artifacts",
    "log_model_params",
    "log_outputs",
    "search_logged_models",
    "set_logged_model_tags",
]


def _pairs(values: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    return [(str(k), str(v)) for k, v in (values or {}).items()]


def create_logged_model(
    client: Client,
    experiment_id: str,
    name: str | None = None,
    source_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    model_type: str | None = None,
) -> LoggedModel:
    """A new model in status ``LOGGED_MODEL_PENDING``; its files go to ``artifact_uri``."""
    return client._sync().create_logged_model(
        str(experiment_id),
        name=name,
        source_run_id=source_run_id,
        tags=_pairs(tags),
        params=_pairs(params),
        model_type=model_type,
    )


def get_logged_model(client: Client, model_id: str, allow_deleted: bool = False) -> LoggedModel:
    """Raises ResourceNotFound for an unknown (or deleted) model."""
    return client._sync().get_logged_model(model_id, allow_deleted=allow_deleted)


def finalize_logged_model(client: Client, model_id: str, status: str | int) -> LoggedModel:
    """Set the status: ``LOGGED_MODEL_READY`` once uploaded, ``..._UPLOAD_FAILED`` if not."""
    return client._sync().finalize_logged_model(model_id, status)


def search_logged_models(
    client: Client,
    experiment_ids: Sequence[str],
    filter_string: str | None = None,
    datasets: Sequence[Mapping[str, Any]] | None = None,
    max_results: int | None = None,
    order_by: Sequence[str | Mapping[str, Any]] | None = None,
    page_token: str | None = None,
) -> PagedList[LoggedModel]:
    """One page of the experiments' active models matching ``filter_string``."""
    return client._sync().search_logged_models(
        [str(e) for e in experiment_ids],
        filter_string,
        datasets,
        max_results,
        order_by,
        page_token,
    )


def set_logged_model_tags(client: Client, model_id: str, tags: Mapping[str, Any]) -> None:
    client._sync().set_logged_model_tags(model_id, _pairs(tags))


def delete_logged_model_tag(client: Client, model_id: str, key: str) -> None:
    client._sync().delete_logged_model_tag(model_id, key)


def log_model_params(client: Client, model_id: str, params: Mapping[str, Any]) -> None:
    client._sync().log_logged_model_params(model_id, _pairs(params))


def log_outputs(client: Client, run_id: str, models: Sequence[ModelOutput]) -> None:
    """Record that the run produced these models (``run.outputs.model_outputs``).

    The fluent API remembers them, so that metrics the run logs later at the same step are
    linked to the models as well (see :mod:`cairn._model_links`)."""
    from cairn import _model_links

    client._sync().log_outputs(run_id, models)
    _model_links.note_outputs(run_id, [(m.model_id, m.step) for m in models])


def link_run_metrics(client: Client, run_id: str, model_id: str, step: int) -> None:
    """Record the run's metrics at ``step`` as metrics of the model too, as MLflow's
    ``log_model`` does, so the model's page and searches show them."""
    store = client._sync()
    run = store.get_run(run_id)
    linked = []
    for key in run.data.metrics:
        for point in client.get_metric_history(run_id, key):
            if point.step == step and point.model_id is None:
                linked.append(
                    Metric(
                        point.key,
                        point.value,
                        point.timestamp,
                        point.step,
                        run_id=run_id,
                        dataset_name=point.dataset_name,
                        dataset_digest=point.dataset_digest,
                        model_id=model_id,
                    )
                )
    if linked:
        store.log_batch(run_id, metrics=linked)


def log_model_artifacts(
    client: Client, model: LoggedModel, local_dir: str | os.PathLike[str]
) -> None:
    """Upload a saved model directory to the model's artifact location."""
    from cairn.artifacts import get_artifact_repository

    repo = get_artifact_repository(model.artifact_uri, client.tracking_uri)
    repo.log_artifacts(local_dir)
