"""``cairn.log_input`` and ``cairn.log_inputs``: record the datasets and logged models a run
used (``run.inputs``), as MLflow's functions of the same names do::

    train = cairn.data.from_pandas(pd.read_csv("train.csv"), source="train.csv")
    with cairn.start_run():
        cairn.log_input(train, context="training")

A dataset's context (``training``, ``evaluation``...) is stored as the input tag
``mlflow.data.context``; searches filter on it with ``datasets.context = 'training'``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cairn import _fluent
from cairn.entities import DatasetInput, InputTag, ModelInput
from cairn.errors import InvalidParameter

if TYPE_CHECKING:
    from cairn.client import Client

__all__ = ["DATASET_CONTEXT_TAG", "log_input", "log_inputs", "record_dataset_input"]

DATASET_CONTEXT_TAG = "mlflow.data.context"

#: (run, dataset name, digest) already among the run's inputs, as far as this process knows.
_datasets_used: set[tuple[str, str, str]] = set()


def log_input(
    dataset: Any = None,
    context: str | None = None,
    tags: dict[str, str] | None = None,
    model: Any = None,
) -> None:
    """Record that the active run (started if there is none) used ``dataset`` and/or the
    logged ``model``.

    Args:
        dataset: a :mod:`cairn.data` dataset (or a :class:`cairn.entities.Dataset`).
        context: how the run used it: ``"training"``, ``"evaluation"``...
        tags: tags of this use of the dataset.
        model: a :class:`cairn.entities.ModelInput` (or a model id).

    Raises InvalidParameter for ``context`` or ``tags`` without a dataset.
    """
    if dataset is None and (context or tags):
        raise InvalidParameter("log_input: context and tags describe a dataset; pass dataset")
    datasets = [] if dataset is None else [_dataset_input(dataset, context, tags)]
    models = [] if model is None else [_model_input(model)]
    _record(_fluent._active_run_id(), datasets, models)


def log_inputs(
    datasets: list[Any] | None = None,
    contexts: list[str | None] | None = None,
    tags_list: list[dict[str, str] | None] | None = None,
    models: list[Any] | None = None,
) -> None:
    """Record several inputs of the active run at once: ``datasets[i]`` is used in
    ``contexts[i]`` with ``tags_list[i]``; None entries are skipped.

    ``contexts`` and ``tags_list`` may be left out; given, they must be as long as
    ``datasets`` (MLflow requires all three). Unlike MLflow outside Databricks, ``models``
    (ModelInputs or model ids) are recorded too.

    Raises InvalidParameter for lists of different lengths.
    """
    datasets = list(datasets or [])
    contexts = [None] * len(datasets) if contexts is None else list(contexts)
    tags_list = [None] * len(datasets) if tags_list is None else list(tags_list)
    if not len(datasets) == len(contexts) == len(tags_list):
        raise InvalidParameter(
            f"log_inputs: datasets, contexts and tags_list must have the same length "
            f"({len(datasets)}, {len(contexts)}, {len(tags_list)})"
        )
    inputs = [
        _dataset_input(ds, context, tags)
        for ds, context, tags in zip(datasets, contexts, tags_list, strict=True)
        if ds is not None
    ]
    model_inputs = [_model_input(m) for m in models or [] if m is not None]
    _record(_fluent._active_run_id(), inputs, model_inputs)


def record_dataset_input(client: Client, run_id: str, dataset: Any) -> None:
    """Make ``dataset`` one of the run's inputs unless it is one already (what MLflow does
    for a metric logged with ``dataset=``). Objects that cannot be recorded are skipped."""
    from cairn.data.dataset import as_dataset_entity

    name, digest = getattr(dataset, "name", None), getattr(dataset, "digest", None)
    if name is None or digest is None or (run_id, name, digest) in _datasets_used:
        return
    entity = as_dataset_entity(dataset)
    if entity is None:
        return
    run = client.get_run(run_id)
    known = {(i.dataset.name, i.dataset.digest) for i in run.inputs.dataset_inputs}
    if (entity.name, entity.digest) not in known:
        client.log_inputs(run_id, datasets=[DatasetInput(entity)])
    _datasets_used.add((run_id, name, digest))


def _dataset_input(
    dataset: Any, context: str | None, tags: Mapping[str, Any] | None
) -> DatasetInput:
    from cairn.data.dataset import as_dataset_entity

    entity = as_dataset_entity(dataset)
    if entity is None:
        raise InvalidParameter(
            "log_input takes a cairn.data dataset (from_pandas, from_numpy) or a "
            f"cairn.entities.Dataset, not {type(dataset).__name__}"
        )
    input_tags = [InputTag(str(k), str(v)) for k, v in (tags or {}).items()]
    if context:
        input_tags.append(InputTag(DATASET_CONTEXT_TAG, str(context)))
    return DatasetInput(entity, tuple(input_tags))


def _model_input(model: Any) -> ModelInput:
    if isinstance(model, ModelInput):
        return model
    model_id = model if isinstance(model, str) else getattr(model, "model_id", None)
    if not isinstance(model_id, str):
        raise InvalidParameter(
            f"A model input is a ModelInput or a model id, not {type(model).__name__}"
        )
    return ModelInput(model_id)


def _record(run_id: str, datasets: Sequence[DatasetInput], models: Sequence[ModelInput]) -> None:
    if not (datasets or models):
        return
    _fluent._client().log_inputs(run_id, datasets=datasets, models=models)
    _datasets_used.update((run_id, d.dataset.name, d.dataset.digest) for d in datasets)
    _fluent._models_used.update((run_id, m.model_id) for m in models)
