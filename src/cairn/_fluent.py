"""The fluent API: ``cairn.start_run()``, ``cairn.log_metric(...)`` and friends.

MLflow's names, signatures and behaviour, so ``import cairn as mlflow`` runs MLflow code
unchanged. State:

* the tracking URI and the current experiment are process-wide, as in MLflow (a thread started
  after ``set_experiment`` logs to that experiment);
* the stack of active runs lives in a ``ContextVar``: every thread and every asyncio task sees
  its own active run, so concurrent trials never log into each other's runs.

Every function delegates to one lazily created :class:`~cairn.client.Client`.

    >>> import cairn
    >>> cairn.set_experiment("iris")                        # doctest: +SKIP
    >>> with cairn.start_run(run_name="baseline"):          # doctest: +SKIP
    ...     cairn.log_param("max_depth", 4)
    ...     cairn.log_metric("accuracy", 0.95)
"""

from __future__ import annotations

import contextvars
import functools
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from cairn import _model_links
from cairn.entities import (
    Experiment,
    Metric,
    Param,
    Run,
    RunStatus,
    RunTag,
    ViewType,
)
from cairn.errors import CairnError, InvalidParameter, InvalidState

if TYPE_CHECKING:
    import pandas as pd

    from cairn.client import Client

__all__ = [
    "ActiveRun",
    "active_run",
    "create_experiment",
    "delete_experiment",
    "delete_experiment_tag",
    "delete_run",
    "delete_tag",
    "end_run",
    "flush",
    "flush_artifact_async_logging",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_parent_run",
    "get_run",
    "get_tracking_uri",
    "is_tracking_uri_set",
    "last_active_run",
    "load_table",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "restore_experiment",
    "restore_run",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]

PARENT_RUN_TAG = "mlflow.parentRunId"
RUN_NAME_TAG = "mlflow.runName"
NOTE_TAG = "mlflow.note.content"

_tracking_uri: str | None = None
_experiment_id: str | None = None
_client_instance: Client | None = None
_client_lock = threading.Lock()
_last_active_run_id: str | None = None
_run_stack: contextvars.ContextVar[tuple[ActiveRun, ...]] = contextvars.ContextVar(
    "cairn_active_runs", default=()
)
# Every run started through the fluent API in this process and not yet ended, whichever
# thread or task started it, so that exit and SIGTERM can end them all.
_open_runs: dict[str, Client] = {}


# -- where to track -------------------------------------------------------------------------


def set_tracking_uri(uri: str | Path) -> None:
    """Track to ``uri`` from now on (a folder, ``sqlite:///file.db``, ``postgresql://...`` or
    ``http://server:port``). Raises InvalidTrackingUri for schemes cairn does not know."""
    from cairn.store.registry import resolve_tracking_uri

    global _tracking_uri, _client_instance, _experiment_id
    resolved = resolve_tracking_uri(str(uri))
    with _client_lock:
        if resolved != _tracking_uri:
            _tracking_uri, _client_instance, _experiment_id = resolved, None, None


def get_tracking_uri() -> str:
    """The tracking URI in use (see :func:`set_tracking_uri`)."""
    from cairn.store.registry import resolve_tracking_uri

    return _tracking_uri or resolve_tracking_uri(None)


def is_tracking_uri_set() -> bool:
    """True once :func:`set_tracking_uri` was called or ``CAIRN_TRACKING_URI`` /
    ``MLFLOW_TRACKING_URI`` is set; False while cairn would fall back to ``./mlruns``."""
    if _tracking_uri is not None:
        return True
    return bool(os.environ.get("CAIRN_TRACKING_URI") or os.environ.get("MLFLOW_TRACKING_URI"))


def _client() -> Client:
    global _client_instance
    client = _client_instance
    if client is None:
        from cairn.client import Client

        with _client_lock:
            if _client_instance is None:
                _client_instance = Client(get_tracking_uri())
            client = _client_instance
    return client


# -- experiments ----------------------------------------------------------------------------


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment current, creating it (by name) when missing, and return it.

    Raises ExperimentNotFound for an unknown id, InvalidParameter for a deleted experiment.
    """
    global _experiment_id
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidParameter("set_experiment takes exactly one of experiment_name, experiment_id")
    client = _client()
    if experiment_id is not None:
        experiment = client.get_experiment(str(experiment_id))
    else:
        assert experiment_name is not None
        found = client.get_experiment_by_name(experiment_name)
        if found is None:
            try:
                client.create_experiment(experiment_name)
            except CairnError as err:
                if err.error_code != "RESOURCE_ALREADY_EXISTS":  # lost a creation race: fine
                    raise
            found = client.get_experiment_by_name(experiment_name)
        assert found is not None
        experiment = found
    if experiment.lifecycle_stage != "active":
        raise InvalidParameter(
            f"Experiment {experiment.name!r} (id {experiment.experiment_id}) is deleted. "
            f"Restore it (cairn experiments restore {experiment.experiment_id}) or choose "
            "another name."
        )
    _experiment_id = experiment.experiment_id
    return experiment


def _current_experiment_id() -> str:
    if _experiment_id is not None:
        return _experiment_id
    env_id = os.environ.get("CAIRN_EXPERIMENT_ID") or os.environ.get("MLFLOW_EXPERIMENT_ID")
    if env_id:
        return env_id
    env_name = os.environ.get("CAIRN_EXPERIMENT_NAME") or os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if env_name:
        return set_experiment(env_name).experiment_id
    return "0"


def create_experiment(
    name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None
) -> str:
    """Create an experiment and return its id. Raises ResourceAlreadyExists."""
    return _client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    return _client().get_experiment_by_name(name)


def search_experiments(
    view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[Experiment]:
    """All experiments matching the filter (every page), e.g. ``filter_string="name LIKE 'x%'"``."""
    client = _client()
    found: list[Experiment] = []
    token = None
    while max_results is None or len(found) < max_results:
        page_size = 1000 if max_results is None else min(1000, max_results - len(found))
        page = client.search_experiments(view_type, page_size, filter_string, order_by, token)
        found.extend(page)
        token = page.token
        if not token:
            break
    return found


def delete_experiment(experiment_id: str) -> None:
    _client().delete_experiment(experiment_id)


def restore_experiment(experiment_id: str) -> None:
    """Undo :func:`delete_experiment`: the experiment and the runs it deleted come back.

    Raises ExperimentNotFound."""
    _client().restore_experiment(experiment_id)


def set_experiment_tag(key: str, value: Any) -> None:
    _client().set_experiment_tag(_current_experiment_id(), key, value)


def delete_experiment_tag(key: str) -> None:
    """Delete a tag of the current experiment (the one :func:`set_experiment_tag` tags)."""
    _client().delete_experiment_tag(_current_experiment_id(), key)


def set_experiment_tags(tags: dict[str, Any]) -> None:
    for key, value in tags.items():
        set_experiment_tag(key, value)


# -- runs -----------------------------------------------------------------------------------


class ActiveRun(Run):
    """The run :func:`start_run` returned: a :class:`~cairn.entities.Run` (as it was at start)
    that ends the run when its ``with`` block exits: FINISHED, FAILED on an exception,
    KILLED on KeyboardInterrupt."""

    __slots__ = ()

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = "FINISHED"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "KILLED"
        else:
            status = "FAILED"
        _end_runs_down_to(self.info.run_id, status)


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a new run (or resume ``run_id``) and make it active; use it in a ``with`` block.

    Args:
        run_id: resume this existing run instead of starting one.
        experiment_id: defaults to the current experiment (:func:`set_experiment`), then
            ``CAIRN_EXPERIMENT_ID``/``MLFLOW_EXPERIMENT_ID``, then ``"0"`` (Default).
        run_name: shown in the UI; generated when omitted.
        nested: start a child of the active run. Without it, starting a run while one is
            active raises InvalidState.
        parent_run_id: make the new run a child of this run.
        tags, description: set on the run (the description as ``mlflow.note.content``).

    Raises:
        InvalidState: a run is already active and ``nested`` is False.
        RunNotFound, ExperimentNotFound, InvalidParameter.
    """
    global _last_active_run_id
    stack = _run_stack.get()
    if stack and not nested and parent_run_id is None:
        raise InvalidState(
            f"Run {stack[-1].info.run_id} is already active. End it with cairn.end_run() "
            "first, or start a child run with start_run(nested=True)."
        )
    client = _client()
    user_tags = {k: str(val) for k, val in (tags or {}).items()}
    if description is not None:
        user_tags[NOTE_TAG] = description
    if run_id is not None:
        run = _resume_run(client, run_id, experiment_id, run_name, user_tags)
        # Points logged at the step of a model the run produced are linked to that model.
        outputs = [(o.model_id, o.step) for o in run.outputs.model_outputs]
        if outputs:
            _model_links.note_outputs(run.info.run_id, outputs)
    else:
        if parent_run_id is None and nested and stack:
            parent_run_id = stack[-1].info.run_id
        if parent_run_id is not None:
            client.get_run(parent_run_id)  # fail now if it does not exist
            user_tags[PARENT_RUN_TAG] = parent_run_id
        exp_id = str(experiment_id) if experiment_id is not None else _current_experiment_id()
        run = client.create_run(exp_id, tags={**_system_tags(), **user_tags}, run_name=run_name)
    active = ActiveRun(run.info, run.data, run.inputs, run.outputs)
    _run_stack.set((*stack, active))
    _open_runs[run.info.run_id] = client
    _last_active_run_id = run.info.run_id
    return active


def _resume_run(
    client: Client,
    run_id: str,
    experiment_id: str | None,
    run_name: str | None,
    tags: dict[str, str],
) -> Run:
    existing = client.get_run(run_id)
    if existing.info.lifecycle_stage != "active":
        raise InvalidParameter(
            f"Cannot resume run {run_id}: it is deleted. Restore it first "
            f"(cairn runs restore {run_id})."
        )
    if experiment_id is not None and str(experiment_id) != existing.info.experiment_id:
        raise InvalidParameter(
            f"Run {run_id} belongs to experiment {existing.info.experiment_id}, not {experiment_id}"
        )
    client.update_run(run_id, status="RUNNING", name=run_name)
    if tags:
        client.log_batch(run_id, tags=[RunTag(k, val) for k, val in tags.items()], synchronous=True)
    return client.get_run(run_id)


def _system_tags() -> dict[str, str]:
    from cairn import _source

    tags = _source.source_tags()
    git = _source.git_info()
    if git is not None:
        tags["mlflow.source.git.commit"] = git[0]
        if git[1]:
            tags["mlflow.source.git.branch"] = git[1]
    return tags


def active_run() -> ActiveRun | None:
    """The run active in this thread or task, or None."""
    stack = _run_stack.get()
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    """The active run, else the most recently started one (as it is now), else None."""
    run_id = _last_active_run_id
    stack = _run_stack.get()
    if stack:
        run_id = stack[-1].info.run_id
    return None if run_id is None else _client().get_run(run_id)


def end_run(status: str = "FINISHED") -> None:
    """End the active run: write what it queued, then set its status and end time.

    Raises AsyncLoggingError if queued data failed to write (the run is ended anyway).
    """
    stack = _run_stack.get()
    if stack:
        _end_runs_down_to(stack[-1].info.run_id, status)


def _end_runs_down_to(run_id: str, status: str) -> None:
    """End ``run_id`` and any runs started above it in this context's stack."""
    stack = _run_stack.get()
    ids = [r.info.run_id for r in stack]
    if run_id not in ids:
        return
    index = ids.index(run_id)
    _run_stack.set(stack[:index])
    first_error: BaseException | None = None
    for active in reversed(stack[index:]):
        try:
            _terminate(active.info.run_id, status)
        except BaseException as err:
            first_error = first_error or err
    if first_error is not None:
        raise first_error


def _terminate(run_id: str, status: str) -> None:
    """Flush, then end the run even if the flush failed; the flush's error wins, since it
    says what was lost."""
    client = _open_runs.pop(run_id, None) or _client()
    flush_error: CairnError | None = None
    try:
        client.flush()
    except CairnError as err:
        flush_error = err
    try:
        client.set_terminated(run_id, RunStatus.to_string(status))
    except CairnError:
        if flush_error is None:
            raise
    if flush_error is not None:
        raise flush_error


def _end_open_runs_at_exit(status: str) -> None:
    # Queued on each writer, so it also works from a signal handler (see cairn.store.writer).
    end_time = int(time.time() * 1000)
    for run_id, client in list(_open_runs.items()):
        store = client.store
        client.writer.call_in_order(
            functools.partial(store.update_run_info, run_id, status=status, end_time=end_time)
        )
        _open_runs.pop(run_id, None)


def _active_run_id(run_id: str | None = None) -> str:
    if run_id:
        return run_id
    stack = _run_stack.get()
    if stack:
        return stack[-1].info.run_id
    return start_run().info.run_id  # MLflow starts a run when logging without one


def get_run(run_id: str) -> Run:
    return _client().get_run(run_id)


def get_parent_run(run_id: str) -> Run | None:
    """The run that ``run_id`` is nested in (tag ``mlflow.parentRunId``), or None.

    Raises RunNotFound."""
    return _client().get_parent_run(run_id)


def delete_run(run_id: str) -> None:
    _client().delete_run(run_id)


def restore_run(run_id: str) -> None:
    """Undo :func:`delete_run`. Raises RunNotFound."""
    _client().restore_run(run_id)


def flush(timeout: float | None = None) -> None:
    """Wait until everything logged so far is written. Raises AsyncLoggingError if a
    background write failed."""
    from cairn.store.writer import flush_all

    flush_all(timeout)


def flush_artifact_async_logging() -> None:
    """Wait for artifact uploads in flight: a no-op, since cairn uploads artifacts before
    ``log_artifact`` and friends return. Kept so MLflow code calling it runs unchanged."""


# -- logging --------------------------------------------------------------------------------


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    """Log a param of the active run; returns ``value``."""
    return _client().log_param(_active_run_id(), key, value, synchronous=synchronous)


def log_params(
    params: dict[str, Any], synchronous: bool | None = None, run_id: str | None = None
) -> None:
    _client().log_batch(
        _active_run_id(run_id),
        params=[Param(k, val) for k, val in params.items()],
        synchronous=synchronous,
    )


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    """Log a metric point to the active run (``step`` defaults to 0, ``timestamp`` to now).

    As in MLflow 3, the point is linked to a logged model: ``model_id``, else the active model
    (:func:`cairn.set_active_model`), else the models the run produced at this ``step``.
    ``dataset`` (a :mod:`cairn.data` dataset, or any object with ``name`` and ``digest``)
    names the data it was measured on, and becomes one of the run's inputs. Linked points
    are written at once; plain ones go through the background writer.

        >>> cairn.log_metric("accuracy", 0.9, step=3)                  # doctest: +SKIP
    """
    stack = _run_stack.get()
    if run_id is None:
        run_id = stack[-1].info.run_id if stack else _active_run_id()
    client = _client_instance or _client()
    if model_id is None:
        model_id = _model_links.get_active_model_id()
    # Cheap tests first: the common call (no model, no dataset) stays one queue put.
    if model_id is not None or dataset is not None or run_id in _model_links.outputs_by_run:
        _log_linked(client, run_id, {key: value}, step, timestamp, model_id, dataset, synchronous)
        return
    client.log_metric(run_id, key, value, timestamp, step, synchronous)


def log_metrics(
    metrics: dict[str, float],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    """Log several metrics at one step and time, linked like :func:`log_metric`'s."""
    client, run_id = _client(), _active_run_id(run_id)
    if model_id is None:
        model_id = _model_links.get_active_model_id()
    _log_linked(client, run_id, metrics, step, timestamp, model_id, dataset, synchronous)


def _log_linked(
    client: Client,
    run_id: str,
    metrics: dict[str, float],
    step: int | None,
    timestamp: int | None,
    model_id: str | None,
    dataset: Any,
    synchronous: bool | None,
) -> None:
    """Log ``metrics`` with their model and dataset links, one point per linked model, and
    record the model and dataset as run inputs where MLflow does."""
    step = step or 0
    ts = int(time.time() * 1000) if timestamp is None else timestamp
    model_ids = (model_id,) if model_id is not None else _model_links.models_at_step(run_id, step)
    links = _dataset_links(dataset)
    client.log_batch(
        run_id,
        metrics=[
            Metric(k, val, ts, step, model_id=m, **links)
            for k, val in metrics.items()
            for m in (model_ids or (None,))
        ],
        synchronous=synchronous,
    )
    if model_id is not None or dataset is not None:
        from cairn import _fluent_inputs

        _fluent_inputs.record_metric_inputs(client, run_id, model_id, dataset)


def _dataset_links(dataset: Any) -> dict[str, Any]:
    """The dataset fields of a Metric, from log_metric's ``dataset``."""
    return {
        "dataset_name": getattr(dataset, "name", None),
        "dataset_digest": getattr(dataset, "digest", None),
    }


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    _client().set_tag(_active_run_id(), key, value, synchronous=synchronous)


def set_tags(tags: dict[str, Any], synchronous: bool | None = None) -> None:
    _client().log_batch(
        _active_run_id(), tags=[RunTag(k, val) for k, val in tags.items()], synchronous=synchronous
    )


def delete_tag(key: str) -> None:
    """Delete a tag of the active run. Raises ResourceNotFound if it has no such tag."""
    _client().delete_tag(_active_run_id(), key)


# -- artifacts ------------------------------------------------------------------------------


def log_artifact(
    local_path: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Copy a local file into the active run's artifacts (under ``artifact_path``)."""
    _client().log_artifact(_active_run_id(run_id), local_path, artifact_path)


def log_artifacts(
    local_dir: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Copy a local directory's contents into the active run's artifacts."""
    _client().log_artifacts(_active_run_id(run_id), local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    _client().log_text(_active_run_id(run_id), text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Save a dict as JSON, or YAML when ``artifact_file`` ends in .yaml/.yml."""
    _client().log_dict(_active_run_id(run_id), dictionary, artifact_file)


def log_figure(
    figure: Any,
    artifact_file: str,
    *,
    save_kwargs: dict[str, Any] | None = None,
    run_id: str | None = None,
) -> None:
    """Save a matplotlib or plotly figure (format from the extension: .png, .svg, .html...)."""
    _client().log_figure(_active_run_id(run_id), figure, artifact_file, save_kwargs=save_kwargs)


def log_image(
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
) -> None:
    """Save a numpy array or PIL image as PNG (at ``artifact_file``, or as ``key`` at ``step``)."""
    _client().log_image(_active_run_id(run_id), image, artifact_file, key, step, timestamp)


def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Save a dict of columns or a DataFrame as a JSON table artifact."""
    _client().log_table(_active_run_id(run_id), data, artifact_file)


def load_table(
    artifact_file: str,
    run_ids: list[str] | None = None,
    extra_columns: list[str] | None = None,
) -> pd.DataFrame:
    """The tables logged with :func:`log_table` as ``artifact_file``, concatenated into one
    DataFrame: from ``run_ids``, or from every run of the current experiment that has it.

    ``extra_columns`` adds columns of :func:`search_runs`'s frame (``run_id``,
    ``params.lr``...) to each row; a name the table already has gets a ``_`` appended.

        >>> cairn.load_table("eval.json", extra_columns=["run_id"])   # doctest: +SKIP

    Raises ResourceNotFound when no run has the table, InvalidParameter for an unknown
    extra column.
    """
    return _client().load_table(_current_experiment_id(), artifact_file, run_ids, extra_columns)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The URI of the active run's artifacts (or of ``artifact_path`` in them)."""
    return _client().get_artifact_uri(_active_run_id(), artifact_path)


# -- search ---------------------------------------------------------------------------------


def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int = 100_000,
    order_by: Sequence[str] | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> pd.DataFrame | list[Run]:
    """Runs matching ``filter_string``, as a DataFrame (default) or a list of Runs.

    Searches ``experiment_ids`` and ``experiment_names`` when given, every experiment with
    ``search_all_experiments=True``, else the current experiment.

    Example: ``search_runs(filter_string="metrics.accuracy > 0.9 AND params.model = 'rf'",
    order_by=["metrics.accuracy DESC"])``.
    """
    client = _client()
    ids = [str(e) for e in (experiment_ids or [])]
    for name in experiment_names or []:
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            # As MLflow does: say so and search the experiments that do exist.
            logging.getLogger("cairn").warning("search_runs: no experiment named %r", name)
            continue
        ids.append(experiment.experiment_id)
    if not ids and experiment_names:
        return _empty_result(output_format)
    if not ids:
        if search_all_experiments:
            ids = [e.experiment_id for e in search_experiments(view_type=ViewType.ACTIVE_ONLY)]
        else:
            ids = [_current_experiment_id()]
    if output_format == "pandas":
        return client.search_runs_frame(ids, filter_string, run_view_type, max_results, order_by)
    if output_format != "list":
        raise InvalidParameter(
            f"Unsupported output_format {output_format!r}; use 'pandas' or 'list'"
        )
    runs: list[Run] = []
    token = None
    while len(runs) < max_results:
        page = client.search_runs(
            ids,
            filter_string,
            run_view_type,
            min(50_000, max_results - len(runs)),
            order_by,
            token,
        )
        runs.extend(page)
        token = page.token
        if not token:
            break
    return runs


def _empty_result(output_format: str) -> pd.DataFrame | list[Run]:
    if output_format == "pandas":
        from cairn._frames import runs_to_frame

        return runs_to_frame([])
    return []


def _register_exit_hook() -> None:
    from cairn.store import writer

    writer.on_exit(_end_open_runs_at_exit)


_register_exit_hook()
