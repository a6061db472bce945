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

__all__ = ["DATASET_CONTEXT_TAG", "log_input", "log_inputs", "record_metric_inputs"]

DATASET_CONTEXT_TAG = "mlflow.data.context"

#: (run, dataset name, digest) already among the run's inputs, as far as this process knows.
_datasets_used: set[tuple[str, str, str]] = set()
#: (run, model id) likewise.
_models_used: set[tuple[str, str]] = set()


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


def record_metric_inputs(client: Client, run_id: str, model_id: str | None, dataset: Any) -> None:
    """Make the model and the dataset a metric was measured on inputs of the run, unless they
    are already (or, for the model, the run produced it), as MLflow records an evaluation.

    What this process recorded before costs nothing; otherwise one ``get_run`` tells what the
    run has, and one ``log_inputs`` adds the rest. A dataset object that cannot be recorded
    is skipped.
    """
    from cairn.data.dataset import as_dataset_entity

    if model_id is not None and (run_id, model_id) in _models_used:
        model_id = None
    name, digest = getattr(dataset, "name", None), getattr(dataset, "digest", None)
    entity = None
    if name is not None and digest is not None and (run_id, name, digest) not in _datasets_used:
        entity = as_dataset_entity(dataset)
    if model_id is None and entity is None:
        return
    run = client.get_run(run_id)
    models: list[ModelInput] = []
    if model_id is not None:
        linked = {i.model_id for i in run.inputs.model_inputs}
        linked.update(o.model_id for o in run.outputs.model_outputs)
        if model_id not in linked:
            models.append(ModelInput(model_id))
    datasets: list[DatasetInput] = []
    if entity is not None:
        known = {(i.dataset.name, i.dataset.digest) for i in run.inputs.dataset_inputs}
        if (entity.name, entity.digest) not in known:
            datasets.append(DatasetInput(entity))
    if models or datasets:
        client.log_inputs(run_id, datasets=datasets, models=models)
    if model_id is not None:
        _models_used.add((run_id, model_id))
    if entity is not None:
        _datasets_used.add((run_id, str(name), str(digest)))


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
    _models_used.update((run_id, m.model_id) for m in models)
