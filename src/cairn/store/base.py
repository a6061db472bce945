"""The tracking-store contract: what every store (SQL, REST) promises its callers.

A store records experiments, runs and what runs log. Every implementation passes the one
conformance suite in ``tests/conformance``; this docstring is the specification it checks.

Promises every implementation keeps:

* **Thread safety.** Any method may be called from any thread at any time. Many processes may
  open the same database; none of them ever sees "database is locked".
* **Immutable results.** Entities returned are frozen (:mod:`cairn.entities`); callers may cache
  and share them.
* **Atomic writes.** A method that raises has changed nothing. ``log_batch`` stores all of its
  metrics, params and tags or none of them.
* **Validated input.** Stores check their input themselves (the server trusts nothing), raising
  the :mod:`cairn.errors` class named in each method's docstring. Ids that do not exist raise
  :class:`~cairn.errors.ExperimentNotFound` / :class:`~cairn.errors.RunNotFound`.
* **Writes to deleted things.** Logging to a deleted run, or creating a run in a deleted
  experiment, raises :class:`~cairn.errors.InvalidParameter`.
* **Metric semantics.** Points are appended, never overwritten. ``run.data.metrics`` holds each
  key's latest point: the largest step, then the largest timestamp. NaN and +-inf are stored and
  returned as such. A per-key summary (latest, min, max, count) is kept up to date on write.
* **Params are immutable.** Logging a param again with the same value is a no-op; another
  value raises :class:`~cairn.errors.ParamValueChanged`.
* **Search** accepts the filter grammar of :mod:`cairn.search` and raises
  :class:`~cairn.errors.InvalidFilter` for anything it cannot parse. Results are paged;
  ``PagedList.token`` is an opaque string fetching the next page, None on the last.
* **Logged models** (MLflow 3.x) have ids ``m-<32 hex>`` and live in an experiment. Unknown
  (or, unless ``allow_deleted``, soft-deleted) ids raise
  :class:`~cairn.errors.ResourceNotFound`; changing a deleted model raises
  :class:`~cairn.errors.InvalidParameter`. Their params follow the runs' immutability rule;
  tags are upserts. A metric logged through :meth:`TrackingStore.log_batch` with a
  ``model_id`` is recorded in the run's history *and* as a metric of that model.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cairn.entities import (
        DatasetInput,
        Experiment,
        LoggedModel,
        Metric,
        ModelInput,
        ModelOutput,
        PagedList,
        Param,
        Run,
        RunInfo,
        RunTag,
    )

#: A metric point on the fast logging path: (run_id, key, value, timestamp_ms, step).
MetricPoint = tuple[str, str, float, int, int]
#: Tags or params given as a mapping or as (key, value) pairs.
KeyValues = Mapping[str, str] | Sequence[tuple[str, str]]

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"


class TrackingStore(abc.ABC):
    """Storage of experiments, runs, params, metrics, tags and run inputs."""

    #: The URI this store was opened with.
    uri: str

    # -- experiments ------------------------------------------------------------------------

    @abc.abstractmethod
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
    ) -> str:
        """Create an experiment and return its id.

        Raises ResourceAlreadyExists if the name is taken (by an active or deleted experiment).
        """

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """Raises ExperimentNotFound."""

    @abc.abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment named ``name`` (active or deleted), or None."""

    @abc.abstractmethod
    def search_experiments(
        self,
        view_type: int = 1,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """Experiments matching the filter; default order ``creation_time DESC, id ASC``."""

    @abc.abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Raises ResourceAlreadyExists if taken, InvalidState if the experiment is deleted."""

    @abc.abstractmethod
    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete the experiment and its runs. The Default experiment cannot be deleted."""

    @abc.abstractmethod
    def restore_experiment(self, experiment_id: str) -> None:
        """Undo :meth:`delete_experiment`, restoring the runs it deleted."""

    @abc.abstractmethod
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None: ...

    @abc.abstractmethod
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None: ...

    # -- runs -------------------------------------------------------------------------------

    @abc.abstractmethod
    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        """Create a RUNNING run. A missing name gets a generated one, stored as tag
        ``mlflow.runName`` too. Raises ExperimentNotFound, or InvalidParameter for a deleted
        experiment."""

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run:
        """The run with its data, inputs and outputs (``outputs.model_outputs``).

        Raises RunNotFound."""

    @abc.abstractmethod
    def update_run_info(
        self,
        run_id: str,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        """Change status, end time or name (a new name also updates tag ``mlflow.runName``)."""

    @abc.abstractmethod
    def delete_run(self, run_id: str) -> None:
        """Soft-delete: the run leaves default searches but keeps its data until ``gc``."""

    @abc.abstractmethod
    def restore_run(self, run_id: str) -> None: ...

    @abc.abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int = 1,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """Runs of these experiments matching the filter.

        Default order ``start_time DESC, run_id ASC``; ties after ``order_by`` break the same
        way. Runs whose order key is missing or NaN come last.
        """

    # -- logging ----------------------------------------------------------------------------

    @abc.abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Log all of these atomically. Tags are upserts; params follow the immutability rule.

        A metric with a ``model_id`` is also recorded as a metric of that logged model (with
        its ``dataset_name``/``dataset_digest``); an unknown model raises ResourceNotFound.
        """

    def log_metric_points(self, points: Sequence[MetricPoint]) -> None:
        """Append many validated metric points, possibly for several runs, atomically.

        The background writer calls this with tens of thousands of points at a time; SQL stores
        override it with a bulk insert. The default goes through :meth:`log_batch`.
        """
        from cairn.entities import Metric

        by_run: dict[str, list[Metric]] = {}
        for run_id, key, value, timestamp, step in points:
            by_run.setdefault(run_id, []).append(Metric(key, value, timestamp, step))
        for run_id, metrics in by_run.items():
            self.log_batch(run_id, metrics=metrics)

    @abc.abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None:
        """Raises ResourceNotFound if the run has no such tag."""

    @abc.abstractmethod
    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        """Record logged models the run produced (``run.outputs.model_outputs``), each at a
        step; recording the same model again changes nothing.

        Raises RunNotFound, InvalidParameter for a deleted run, ResourceNotFound for an
        unknown model.
        """

    @abc.abstractmethod
    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[ModelInput] = (),
    ) -> None:
        """Record datasets and logged models the run used (``run.inputs``); logging the same
        dataset or model twice records it once.

        Raises RunNotFound, InvalidParameter for a deleted run or a malformed model id,
        ResourceNotFound for an unknown model.
        """

    @abc.abstractmethod
    def get_metric_history(
        self,
        run_id: str,
        key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        """Every point of one metric, ordered by step then timestamp; empty if never logged."""

    # -- logged models (MLflow 3.x) ---------------------------------------------------------

    @abc.abstractmethod
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: KeyValues = (),
        params: KeyValues = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a model with status ``LOGGED_MODEL_PENDING`` and artifact URI
        ``<experiment artifact location>/models/<model_id>/artifacts``.

        A missing name is generated. Names may not contain ``/ : . % " '``. The source run is
        not required to exist here (MLflow does not check it either).

        Raises ExperimentNotFound; InvalidParameter for a deleted experiment, a bad name,
        model type, tag or param.
        """

    @abc.abstractmethod
    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """Raises ResourceNotFound for an unknown model, or a deleted one unless
        ``allow_deleted``."""

    @abc.abstractmethod
    def finalize_logged_model(self, model_id: str, status: str | int) -> LoggedModel:
        """Set the status (``LOGGED_MODEL_READY``, ``LOGGED_MODEL_UPLOAD_FAILED``, ...; the
        short names ``READY``/``FAILED`` and numbers work too) and return the model.

        Raises ResourceNotFound; InvalidParameter for an unknown status or a deleted model.
        """

    @abc.abstractmethod
    def delete_logged_model(self, model_id: str) -> None:
        """Soft-delete: the model leaves searches and :meth:`get_logged_model` (unless
        ``allow_deleted``). Deleting it again is a no-op. Raises ResourceNotFound."""

    @abc.abstractmethod
    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[str | Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """Active models of these experiments matching the filter (the ``logged_models``
        grammar of :mod:`cairn.search.parser`).

        ``datasets`` (``[{"dataset_name", "dataset_digest"?}]``) scopes metric comparisons to
        metrics logged on those datasets. ``order_by`` items are
        ``{"field_name", "ascending", "dataset_name", "dataset_digest"}`` (or strings like
        ``"metrics.acc DESC"``); the default order is ``creation_timestamp DESC, model_id``.
        ``max_results`` defaults to 100.

        Raises InvalidFilter; InvalidParameter for a bad page token, ``max_results``,
        ``datasets`` or ``order_by`` item.
        """

    @abc.abstractmethod
    def set_logged_model_tags(self, model_id: str, tags: KeyValues) -> None:
        """Upsert tags. Raises ResourceNotFound; InvalidParameter for a deleted model or a
        bad tag."""

    @abc.abstractmethod
    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Raises ResourceNotFound if the model, or its tag, does not exist."""

    @abc.abstractmethod
    def log_logged_model_params(self, model_id: str, params: KeyValues) -> None:
        """Add params; the same value again is a no-op, another value raises
        ParamValueChanged. Raises ResourceNotFound; InvalidParameter for a deleted model."""

    # -- housekeeping -----------------------------------------------------------------------

    @abc.abstractmethod
    def deleted_run_ids(self, older_than_ms: int | None = None) -> list[str]:
        """Ids of soft-deleted runs (deleted at least ``older_than_ms`` ago, if given)."""

    @abc.abstractmethod
    def purge_run(self, run_id: str) -> None:
        """Remove a soft-deleted run and everything it logged, for good (``cairn gc``).

        Raises InvalidState if the run is not deleted. Artifacts are the caller's to remove.
        """

    @abc.abstractmethod
    def purge_experiment(self, experiment_id: str) -> None:
        """Remove a soft-deleted experiment, which must hold no runs any more."""

    @abc.abstractmethod
    def deleted_logged_model_ids(self, older_than_ms: int | None = None) -> list[str]:
        """Ids of soft-deleted logged models (deleted at least ``older_than_ms`` ago, if given)."""

    @abc.abstractmethod
    def purge_logged_model(self, model_id: str) -> None:
        """Remove a soft-deleted logged model with its tags, params, metrics and run links.

        Raises ResourceNotFound, or InvalidState if it is not deleted. Artifacts are the
        caller's to remove.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Release connections. The store must not be used afterwards."""
