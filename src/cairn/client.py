"""``Client``: every tracking operation, by explicit id (MLflow's ``MlflowClient`` role).

    >>> from cairn import Client
    >>> client = Client()                                   # ./mlruns, or the configured URI
    >>> run = client.create_run("0")                        # doctest: +SKIP
    >>> client.log_metric(run.info.run_id, "loss", 0.25, step=1)  # doctest: +SKIP
    >>> client.set_terminated(run.info.run_id)              # doctest: +SKIP

Logging calls (``log_metric``, ``log_param``, ``set_tag``, ``log_batch`` and their plural forms)
validate their input at once and, by default, hand the write to the store's background writer;
pass ``synchronous=True`` (or set ``CAIRN_ASYNC_LOGGING=false``) to commit before returning.
Every read first waits for queued writes, so a client always reads what it logged.
"""

from __future__ import annotations

import getpass
import os
import posixpath
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn import validation as v
from cairn.entities import (
    DatasetInput,
    Experiment,
    FileInfo,
    Metric,
    ModelInput,
    PagedList,
    Param,
    Run,
    RunStatus,
    RunTag,
    ViewType,
)
from cairn.errors import InvalidParameter
from cairn.store.registry import get_store, get_writer, resolve_tracking_uri

if TYPE_CHECKING:
    import pandas as pd

    from cairn.artifacts.base import ArtifactRepository
    from cairn.store.base import MetricPoint, TrackingStore
    from cairn.store.writer import AsyncWriter

__all__ = ["Client", "MlflowClient"]

LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"


def _async_default() -> bool:
    value = os.environ.get("CAIRN_ASYNC_LOGGING", "true").strip().lower()
    return value not in ("0", "false", "no", "off")


def _now_ms() -> int:
    return int(time.time() * 1000)


class Client:
    """Tracking operations against one store.

    Args:
        tracking_uri: where to track; see :mod:`cairn.store.registry`. Defaults to the URI set
            with :func:`cairn.set_tracking_uri`, ``CAIRN_TRACKING_URI``, ``MLFLOW_TRACKING_URI``,
            then ``./mlruns``.
    """

    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        if tracking_uri is None:
            from cairn import _fluent

            tracking_uri = _fluent.get_tracking_uri()
        self.tracking_uri = resolve_tracking_uri(tracking_uri)
        self._store: TrackingStore | None = None
        self._writer: AsyncWriter | None = None
        self._artifact_uris: dict[str, str] = {}
        self._known_runs: set[str] = set()
        self.asynchronous = _async_default()

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def store(self) -> TrackingStore:
        """The store behind this client (opened on first use)."""
        store = self._store
        if store is None:
            store = self._store = get_store(self.tracking_uri)
        return store

    @property
    def writer(self) -> AsyncWriter:
        writer = self._writer
        if writer is None:
            writer = self._writer = get_writer(self.store)
        return writer

    def flush(self) -> None:
        """Wait until everything logged so far is written; raise what failed meanwhile."""
        self.writer.flush()

    def _sync(self) -> TrackingStore:
        """The store, once queued writes are written (so reads see them, in order)."""
        writer = self._writer
        if writer is not None:
            writer.flush()
        return self.store

    def _is_sync(self, synchronous: bool | None) -> bool:
        return (not self.asynchronous) if synchronous is None else synchronous

    def _check_run(self, run_id: str) -> None:
        # Asynchronous writes fail late; an unknown run id is worth catching at the call.
        if run_id not in self._known_runs:
            v.validate_run_id(run_id)
            run = self._sync().get_run(run_id)
            self.writer.seed_params(run_id, dict(run.data.params))
            self._known_runs.add(run_id)

    # -- experiments ------------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: dict[str, Any] | None = None,
    ) -> str:
        """Create an experiment; return its id. Raises ResourceAlreadyExists if the name is
        taken."""
        return self.store.create_experiment(
            name, artifact_location, [(k, str(val)) for k, val in (tags or {}).items()]
        )

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Raises ExperimentNotFound."""
        return self.store.get_experiment(v.validate_experiment_id(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self.store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int | None = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        """One page of experiments; ``PagedList.token`` fetches the next."""
        return self.store.search_experiments(
            ViewType.from_string(view_type),
            max_results or v.MAX_SEARCH_RESULTS,
            filter_string,
            order_by,
            page_token,
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.store.rename_experiment(experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete an experiment and its runs (``cairn gc`` removes them for good)."""
        self._sync().delete_experiment(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self.store.restore_experiment(experiment_id)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self.store.set_experiment_tag(experiment_id, key, str(value))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self.store.delete_experiment_tag(experiment_id, key)

    # -- runs -------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: dict[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Create a RUNNING run. ``tags`` may include ``mlflow.user`` (else the OS user)."""
        tags = dict(tags or {})
        user = str(tags.get("mlflow.user") or _current_user())
        run = self.store.create_run(
            v.validate_experiment_id(experiment_id),
            user_id=user,
            start_time=_now_ms() if start_time is None else start_time,
            tags=[RunTag(k, str(val)) for k, val in tags.items()],
            run_name=run_name,
        )
        self._known_runs.add(run.info.run_id)
        self._artifact_uris[run.info.run_id] = run.info.artifact_uri
        return run

    def get_run(self, run_id: str) -> Run:
        """The run with its latest metrics, params, tags and inputs. Raises RunNotFound."""
        return self._sync().get_run(v.validate_run_id(run_id))

    def get_parent_run(self, run_id: str) -> Run | None:
        parent = self.get_run(run_id).data.tags.get("mlflow.parentRunId")
        return self.get_run(parent) if parent else None

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        self._sync().update_run_info(run_id, status=status, run_name=name)

    def set_terminated(
        self, run_id: str, status: str | None = None, end_time: int | None = None
    ) -> None:
        """End a run: write what is queued for it, then set its status (default FINISHED)."""
        status = RunStatus.to_string(status or "FINISHED")
        self._sync().update_run_info(
            run_id, status=status, end_time=_now_ms() if end_time is None else end_time
        )
        # A resumed run is checked (and its params re-read) again on its next logging call.
        self._known_runs.discard(run_id)
        if self._writer is not None:
            self._writer.forget_run(run_id)

    def delete_run(self, run_id: str) -> None:
        self._sync().delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self.store.restore_run(run_id)

    def search_runs(
        self,
        experiment_ids: str | Sequence[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """One page of runs matching ``filter_string`` (see :mod:`cairn.search`)."""
        if isinstance(experiment_ids, str):
            experiment_ids = [experiment_ids]
        return self._sync().search_runs(
            [str(e) for e in experiment_ids],
            filter_string,
            ViewType.from_string(run_view_type),
            max_results,
            order_by,
            page_token,
        )

    # -- logging ----------------------------------------------------------------------------

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        """Log one metric point (``timestamp`` in epoch ms, default now; ``step`` default 0)."""
        key = v.validate_metric_key(key)
        value = v.validate_metric_value(key, value)
        timestamp = (
            int(time.time() * 1000) if timestamp is None else v.validate_timestamp(key, timestamp)
        )
        step = 0 if step is None else v.validate_step(key, step)
        if run_id not in self._known_runs:
            self._check_run(run_id)
        if (not self.asynchronous) if synchronous is None else synchronous:
            self._sync().log_metric_points([(run_id, key, value, timestamp, step)])
        else:
            self.writer.put_metric(run_id, key, value, timestamp, step)

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        """Log a param (stored as ``str(value)``) and return ``value``. Params are immutable:
        the same value again is fine, another value raises ParamValueChanged."""
        self.log_batch(run_id, params=[Param(key, value)], synchronous=synchronous)
        return value

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> None:
        self.log_batch(run_id, tags=[RunTag(key, value)], synchronous=synchronous)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Raises ResourceNotFound if the run has no such tag."""
        self._sync().delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool | None = None,
    ) -> None:
        """Log metrics, params and tags together. Everything is validated before anything is
        queued, so a bad item leaves nothing half-logged. Metrics that name a logged model or
        a dataset (``Metric(model_id=...)``) are written at once, with their links."""
        now = _now_ms()
        points: list[MetricPoint] = []
        linked: list[Metric] = []
        for m in metrics:
            if m.model_id or m.dataset_name or m.dataset_digest:
                key = v.validate_metric_key(m.key)
                linked.append(
                    Metric(
                        key,
                        v.validate_metric_value(key, m.value),
                        now if m.timestamp is None else v.validate_timestamp(key, m.timestamp),
                        0 if m.step is None else v.validate_step(key, m.step),
                        dataset_name=m.dataset_name,
                        dataset_digest=m.dataset_digest,
                        model_id=m.model_id,
                    )
                )
                continue
            key = v.validate_metric_key(m.key)
            points.append(
                (
                    run_id,
                    key,
                    v.validate_metric_value(key, m.value),
                    now if m.timestamp is None else v.validate_timestamp(key, m.timestamp),
                    0 if m.step is None else v.validate_step(key, m.step),
                )
            )
        param_items: dict[str, str] = {}
        for p in params:
            key = v.validate_param_key(p.key)
            value = v.param_value_to_str(key, p.value)
            if param_items.setdefault(key, value) != value:
                raise InvalidParameter(
                    f"Param {key!r} appears twice with different values ({param_items[key]!r} "
                    f"and {value!r})"
                )
        tag_items = {v.validate_tag_key(t.key): v.tag_value_to_str(t.key, t.value) for t in tags}
        self._check_run(run_id)
        writer = self.writer
        if linked:
            self._sync().log_batch(run_id, metrics=linked)
        if not (param_items or tag_items):
            if not points:
                return
            if self._is_sync(synchronous):
                self._sync().log_metric_points(points)
            else:
                writer.put_metrics(points)
            return
        if self._is_sync(synchronous):
            writer.check_params(run_id, param_items)
            self._sync().log_batch(
                run_id,
                metrics=[Metric(p[1], p[2], p[3], p[4]) for p in points],
                params=[Param(k, val) for k, val in param_items.items()],
                tags=[RunTag(k, val) for k, val in tag_items.items()],
            )
        else:
            writer.put_batch(run_id, param_items, tag_items, points)

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[ModelInput] | None = None,
    ) -> None:
        """Record the datasets and logged models a run used (``run.inputs``)."""
        self._sync().log_inputs(run_id, datasets or (), models or ())

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of one metric, ordered by step then timestamp."""
        store = self._sync()
        points: list[Metric] = []
        token = None
        while True:
            page = store.get_metric_history(run_id, key, max_results=25000, page_token=token)
            points.extend(page)
            token = page.token
            if not token:
                return points

    # -- artifacts --------------------------------------------------------------------------

    def _artifact_repo(self, run_id: str) -> ArtifactRepository:
        from cairn.artifacts import get_artifact_repository

        uri = self._artifact_uris.get(run_id)
        if uri is None:
            uri = self._artifact_uris[run_id] = self.get_run(run_id).info.artifact_uri
        return get_artifact_repository(uri, self.tracking_uri)

    def get_artifact_uri(self, run_id: str, artifact_path: str | None = None) -> str:
        from cairn.artifacts import join_uri

        self._artifact_repo(run_id)
        root = self._artifact_uris[run_id]
        path = v.validate_artifact_path(artifact_path)
        return join_uri(root, path) if path else root

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy a local file (or a directory, as a folder) into the run's artifacts."""
        path = Path(local_path)
        if not path.exists():
            raise InvalidParameter(f"log_artifact: no such file or directory: {str(path)!r}")
        repo = self._artifact_repo(run_id)
        if path.is_dir():
            repo.log_artifacts(path, posixpath.join(artifact_path or "", path.name))
        else:
            repo.log_artifact(path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy the contents of a local directory into the run's artifacts."""
        if not Path(local_dir).is_dir():
            raise InvalidParameter(f"log_artifacts: not a directory: {str(local_dir)!r}")
        self._artifact_repo(run_id).log_artifacts(local_dir, artifact_path)

    def _log_bytes(self, run_id: str, data: bytes, artifact_file: str) -> None:
        path = v.validate_artifact_path(artifact_file)
        if not path or artifact_file.endswith("/"):
            raise InvalidParameter(
                f"artifact_file must name a file, e.g. 'notes/summary.txt', not {artifact_file!r}"
            )
        self._artifact_repo(run_id).log_bytes(data, path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Save ``text`` as a UTF-8 file in the run's artifacts."""
        self._log_bytes(run_id, text.encode("utf-8"), artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """Save a dict as JSON, or YAML when ``artifact_file`` ends in .yaml/.yml."""
        from cairn._artifact_formats import dict_to_bytes

        self._log_bytes(run_id, dict_to_bytes(dictionary, artifact_file), artifact_file)

    def log_figure(
        self,
        run_id: str,
        figure: Any,
        artifact_file: str,
        *,
        save_kwargs: dict[str, Any] | None = None,
    ) -> None:
        """Save a matplotlib or plotly figure; the extension picks the format (.png, .html...)."""
        from cairn._artifact_formats import figure_to_bytes

        self._log_bytes(run_id, figure_to_bytes(figure, artifact_file, save_kwargs), artifact_file)

    def log_image(
        self,
        run_id: str,
        image: Any,
        artifact_file: str | None = None,
        key: str | None = None,
        step: int | None = None,
        timestamp: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        """Save a PIL image or numpy array as PNG: at ``artifact_file``, or as step ``step`` of
        the image series ``key`` (``images/<key>/step_<step>.png``)."""
        from cairn._artifact_formats import image_to_png

        if (artifact_file is None) == (key is None):
            raise InvalidParameter("log_image takes either artifact_file or key (with step)")
        if key is not None:
            key = v.validate_metric_key(key)
            step = 0 if step is None else v.validate_step(key, step)
            artifact_file = f"images/{key}/step_{step}.png"
        assert artifact_file is not None
        self._log_bytes(run_id, image_to_png(image), artifact_file)

    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        """Save a dict of columns or a DataFrame as a JSON table (pandas "split" layout), and
        list it in the run's ``mlflow.loggedArtifacts`` tag so the UI shows it as a table.
        Logging to an existing table appends the rows, as MLflow does."""
        import json

        from cairn._artifact_formats import table_to_bytes

        if not artifact_file.endswith(".json"):
            raise InvalidParameter(
                f"log_table writes JSON; name the file *.json, not {artifact_file!r}"
            )
        repo = self._artifact_repo(run_id)
        path = v.validate_artifact_path(artifact_file)
        existing = None
        info = repo.file_info(path)
        if info is not None and not info.is_dir:
            with repo.open(path) as stream:
                existing = stream.read()
        self._log_bytes(run_id, table_to_bytes(data, existing), artifact_file)
        logged = json.loads(self.get_run(run_id).data.tags.get(LOGGED_ARTIFACTS_TAG, "[]"))
        entry = {"path": v.validate_artifact_path(artifact_file), "type": "table"}
        if entry not in logged:
            logged.append(entry)
            self.set_tag(run_id, LOGGED_ARTIFACTS_TAG, json.dumps(logged), synchronous=True)

    def load_table(
        self,
        experiment_id: str,
        artifact_file: str,
        run_ids: list[str] | None = None,
        extra_columns: list[str] | None = None,
    ) -> pd.DataFrame:
        """The tables :meth:`log_table` wrote as ``artifact_file`` in ``run_ids`` (or in every
        run of the experiment that has one), concatenated; see :func:`cairn.load_table`."""
        from cairn._tables import load_table

        return load_table(self, experiment_id, artifact_file, run_ids, extra_columns)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """The files and folders directly under ``path`` in the run's artifacts."""
        return self._artifact_repo(run_id).list_artifacts(path)

    def download_artifacts(
        self, run_id: str, path: str = "", dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Copy an artifact file or folder to ``dst_path`` (default: a new temporary folder);
        return the local path."""
        if dst_path is not None:
            Path(dst_path).mkdir(parents=True, exist_ok=True)
        else:
            dst_path = tempfile.mkdtemp(prefix="cairn-artifacts-")
        return self._artifact_repo(run_id).download_artifacts(path, dst_path)

    # -- tables -----------------------------------------------------------------------------

    def search_runs_frame(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int | None = None,
        order_by: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """All matching runs (up to ``max_results``) as a DataFrame, one column per attribute,
        metric (``metrics.<key>``), param and tag, as ``mlflow.search_runs`` returns."""
        from cairn._frames import runs_to_frame

        runs: list[Run] = []
        token = None
        while max_results is None or len(runs) < max_results:
            page_size = v.MAX_SEARCH_RESULTS
            if max_results is not None:
                page_size = min(page_size, max_results - len(runs))
            page = self.search_runs(
                experiment_ids, filter_string, run_view_type, page_size, order_by, token
            )
            runs.extend(page)
            token = page.token
            if not token:
                break
        return runs_to_frame(runs)


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"


#: MLflow's name for the same class, so ``from cairn import MlflowClient`` works.
MlflowClient = Client
