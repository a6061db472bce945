"""The REST tracking store: log to a tracking server (``cairn server``, or MLflow's).

``cairn.set_tracking_uri("http://host:port")`` opens this store. It speaks MLflow's REST
protocol (``/api/2.0/mlflow/...``, see ``shared/reference/mlflow-rest-api.md``) over one
keep-alive connection pool, and keeps every promise of :class:`~cairn.store.base.TrackingStore`
that a client can keep:

* **Errors** come back as cairn's classes with the server's message: an unknown run is
  :class:`~cairn.errors.RunNotFound`, a changed param
  :class:`~cairn.errors.ParamValueChanged` (:mod:`._rest_errors`).
* **Timeouts and retries** (:mod:`._rest_http`): 10 s to connect, ``CAIRN_HTTP_TIMEOUT``
  (120 s) to answer; connection errors, 429, 502, 503 and 504 are retried with exponential
  backoff, ``CAIRN_HTTP_MAX_RETRIES`` times (4: about 30 s), then the call raises
  :class:`~cairn.errors.TrackingServerUnavailable` naming the server and what to check.
* **Credentials** as MLflow's client sends them (``CAIRN_TRACKING_TOKEN`` or
  ``MLFLOW_TRACKING_TOKEN`` as a bearer token; ``..._USERNAME``/``..._PASSWORD`` as basic
  auth), read at every request (:mod:`cairn._http`).
* **Logged models** (MLflow 3.x: ``/mlflow/logged-models``) are in :mod:`._rest_models`.
* **Batches** respect the protocol's limits (1000 metrics, 100 params, 100 tags, 1000 items
  per request; :mod:`._rest_batch`). A ``log_batch`` that fits one request is atomic. A bigger
  one cannot be over this protocol; it sends its params first (checked against the run's
  first when there are more than 100), so a changed param fails it before anything is written.
* **Nothing logged is lost when the server is down.** A ``log_batch`` or
  ``log_metric_points`` that still fails after the retries keeps its data on local disk, in
  the spool, and raises TrackingServerUnavailable saying how much was kept and where (the
  background writer reports it at the next call and does not retry it from memory). The
  spool is sent, oldest first, before the next write to the server (and before reads of
  runs), or on demand with ``cairn sync``. It lives in
  ``~/.cache/cairn/spool/<host>_<port>/pending.jsonl`` (``$CAIRN_SPOOL_DIR`` overrides the
  root; see :mod:`._rest_spool` for the format and its crash safety). Delivery is exactly
  once except in two windows no client can close: a process killed between the server's
  acknowledgement of a spooled request and its being marked done, and a request whose answer
  was lost (read timeout, dropped connection) after the server stored it; their points are
  then stored twice.

Garbage collection (``purge_run``, ``purge_experiment``, ``deleted_run_ids``) is not part of
the protocol: run ``cairn gc`` on the server's host, against its backend store.

Example::

    >>> store = RestTrackingStore("http://127.0.0.1:5000")           # doctest: +SKIP
    >>> run = store.create_run("0", "ada", 1_700_000_000_000)        # doctest: +SKIP
    >>> store.log_metric_points([(run.info.run_id, "loss", 0.5, 1_700_000_000_000, 0)])
    ... # doctest: +SKIP
    >>> store.sync()      # send what the spool holds (cairn sync)   # doctest: +SKIP
    ReplayReport(sent=Counts(entries=0, ...), ...)
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from cairn import validation as v
from cairn.entities import (
    DatasetInput,
    Experiment,
    Metric,
    ModelInput,
    ModelOutput,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from cairn.errors import (
    CairnError,
    InvalidParameter,
    ParamValueChanged,
    ResourceNotFound,
    StoreError,
    TrackingServerUnavailable,
)
from cairn.store._rest_batch import Delivered, RunItems, requests_for
from cairn.store._rest_codec import (
    dataset_input_json,
    double,
    experiment_from_json,
    key_values,
    metric_from_json,
    metric_json,
    run_from_json,
    run_info_from_json,
)
from cairn.store._rest_errors import refine
from cairn.store._rest_http import HttpSession, RetryPolicy, Safety
from cairn.store._rest_models import LoggedModelCalls
from cairn.store._rest_spool import Counts, ReplayReport, Spool
from cairn.store.base import MetricPoint, TrackingStore

if TYPE_CHECKING:
    import httpx

__all__ = ["RestTrackingStore"]

API = "/api/2.0/mlflow"
#: cairn's columnar bulk endpoint, and the most points one request of it may carry.
SERIES_PATH = "/api/2.0/cairn/runs/log-metric-series"
MAX_SERIES_POINTS = 500_000
#: Datasets per log-inputs request (the server's limit).
MAX_DATASETS_PER_REQUEST = 1000


class RestTrackingStore(LoggedModelCalls, TrackingStore):
    """A tracking store behind a tracking server's REST API.

    Args:
        uri: the server, ``http(s)://host:port[/prefix]``.
        http_client: the ``httpx.Client`` to send with (tests pass one over an in-process
            transport); it stays the caller's to close. Default: one of the store's own, with
            keep-alive connections and the timeouts above.
        retry_policy: retries, backoff and read timeout; default from the environment.
        spool_dir: the spool root; default ``$CAIRN_SPOOL_DIR`` or ``~/.cache/cairn/spool``.
        sleep: how to wait between retries (tests pass a recorder).
        metric_series: send metric points as columnar series (cairn servers), or as MLflow
            log-batch requests; default: ask the server once.
    """

    def __init__(
        self,
        uri: str,
        *,
        http_client: httpx.Client | None = None,
        retry_policy: RetryPolicy | None = None,
        spool_dir: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
        metric_series: bool | None = None,
    ) -> None:
        self.uri = uri.rstrip("/")
        self._metric_series = metric_series
        self._http = HttpSession(self.uri, http_client, retry_policy, sleep)
        self.spool = Spool(self.uri, spool_dir)
        # Per thread: what this thread's last failed write delivered (see _rest_batch).
        self._local = threading.local()

    def close(self) -> None:
        self._http.close()

    def _call(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None = None,
        *,
        safety: Safety = Safety.READ,
        run_id: str | None = None,
        experiment_id: str | None = None,
        search: bool = False,
    ) -> dict[str, Any]:
        try:
            return self._http.call(method, API + path, payload, safety=safety)
        except CairnError as err:
            refined = refine(err, run_id=run_id, experiment_id=experiment_id, search=search)
            if refined is err:
                raise
            raise refined from None

    # -- experiments ------------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
    ) -> str:
        body: dict[str, Any] = {"name": name, "tags": key_values(tags)}
        if artifact_location:
            body["artifact_location"] = artifact_location
        answer = self._call("POST", "/experiments/create", body, safety=Safety.CREATE)
        return str(answer["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        answer = self._call(
            "GET",
            "/experiments/get",
            {"experiment_id": experiment_id},
            experiment_id=experiment_id,
        )
        return experiment_from_json(answer["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            answer = self._call("GET", "/experiments/get-by-name", {"experiment_name": name})
        except ResourceNotFound:
            return None
        return experiment_from_json(answer["experiment"])

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        body: dict[str, Any] = {
            "view_type": ViewType.from_string(view_type).name,
            "max_results": max_results,
        }
        _put_search_options(body, filter_string, order_by, page_token)
        answer = self._call("POST", "/experiments/search", body, search=True)
        return PagedList(
            [experiment_from_json(e) for e in answer.get("experiments") or ()],
            answer.get("next_page_token") or None,
        )

    def _experiment_write(self, path: str, experiment_id: str, **fields: str) -> None:
        body = {"experiment_id": experiment_id, **fields}
        self._call("POST", path, body, experiment_id=experiment_id)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._experiment_write("/experiments/update", experiment_id, new_name=new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self._experiment_write("/experiments/delete", experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self._experiment_write("/experiments/restore", experiment_id)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self._experiment_write(
            "/experiments/set-experiment-tag", experiment_id, key=key, value=value
        )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._experiment_write("/experiments/delete-experiment-tag", experiment_id, key=key)

    # -- runs -------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        body: dict[str, Any] = {
            "experiment_id": experiment_id,
            "user_id": user_id,
            "start_time": start_time,
            "tags": key_values((t.key, t.value) for t in tags),
        }
        if run_name is not None:
            body["run_name"] = run_name
        answer = self._call(
            "POST", "/runs/create", body, safety=Safety.CREATE, experiment_id=experiment_id
        )
        return run_from_json(answer["run"])

    def get_run(self, run_id: str) -> Run:
        self._replay_spool(strict=False)
        answer = self._call(
            "GET", "/runs/get", {"run_id": run_id, "run_uuid": run_id}, run_id=run_id
        )
        return run_from_json(answer["run"])

    def update_run_info(
        self,
        run_id: str,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        self._replay_spool(strict=True)
        body: dict[str, Any] = {"run_id": run_id, "run_uuid": run_id}
        if status is not None:
            body["status"] = status if isinstance(status, str) else RunStatus(status).name
        if end_time is not None:
            body["end_time"] = end_time
        if run_name is not None:
            body["run_name"] = run_name
        answer = self._call("POST", "/runs/update", body, run_id=run_id)
        return run_info_from_json(answer["run_info"], run_name)

    def delete_run(self, run_id: str) -> None:
        self._call("POST", "/runs/delete", {"run_id": run_id}, run_id=run_id)

    def restore_run(self, run_id: str) -> None:
        self._call("POST", "/runs/restore", {"run_id": run_id}, run_id=run_id)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        self._replay_spool(strict=False)
        body: dict[str, Any] = {
            "experiment_ids": [str(e) for e in experiment_ids],
            "run_view_type": ViewType.from_string(run_view_type).name,
            "max_results": max_results,
        }
        _put_search_options(body, filter_string, order_by, page_token)
        answer = self._call("POST", "/runs/search", body, search=True)
        return PagedList(
            [run_from_json(r) for r in answer.get("runs") or ()],
            answer.get("next_page_token") or None,
        )

    # -- logging ----------------------------------------------------------------------------

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        items = _validated_items(run_id, metrics, params, tags)
        if len(items.params) > v.MAX_BATCH_PARAMS:
            self._check_params_unchanged(items)
        self._deliver([items])

    def log_metric_points(self, points: Sequence[MetricPoint]) -> None:
        if (
            points
            and len(points) <= MAX_SERIES_POINTS
            and self._speaks_metric_series()
            and getattr(self._local, "delivered", None) is None
            and not self.spool.has_pending()
        ):
            self._send_series(points)
            return
        by_run: dict[str, RunItems] = {}
        for run_id, key, value, timestamp, step in points:
            items = by_run.get(run_id)
            if items is None:
                items = by_run[run_id] = RunItems(run_id)
            items.metrics.append(metric_json(key, float(value), int(timestamp), int(step)))
        if by_run:
            self._deliver(list(by_run.values()))

    def delete_tag(self, run_id: str, key: str) -> None:
        self._replay_spool(strict=True)
        self._call("POST", "/runs/delete-tag", {"run_id": run_id, "key": key}, run_id=run_id)

    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        self._replay_spool(strict=True)
        body = {
            "run_id": run_id,
            "models": [{"model_id": m.model_id, "step": m.step} for m in models],
        }
        self._call("POST", "/runs/outputs", body, run_id=run_id)

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[ModelInput] = (),
    ) -> None:
        self._replay_spool(strict=True)
        encoded = [dataset_input_json(d) for d in datasets]
        for start in range(0, max(len(encoded), 1), MAX_DATASETS_PER_REQUEST):
            body: dict[str, Any] = {
                "run_id": run_id,
                "datasets": encoded[start : start + MAX_DATASETS_PER_REQUEST],
            }
            if start == 0 and models:  # the models ride with the first chunk of datasets
                body["models"] = [{"model_id": m.model_id} for m in models]
            self._call("POST", "/runs/log-inputs", body, run_id=run_id)

    def get_metric_history(
        self,
        run_id: str,
        key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        """One page when ``max_results`` is given; else every point, following the pages."""
        self._replay_spool(strict=False)
        query: dict[str, Any] = {"run_id": run_id, "run_uuid": run_id, "metric_key": key}
        if max_results is not None:
            query["max_results"] = max_results
        points: list[Metric] = []
        while True:
            if page_token:
                query["page_token"] = page_token
            answer = self._call("GET", "/metrics/get-history", query, run_id=run_id)
            points.extend(metric_from_json(m, run_id) for m in answer.get("metrics") or ())
            page_token = answer.get("next_page_token") or None
            if max_results is not None or not page_token:
                return PagedList(points, page_token)

    # -- delivering writes, and the spool ---------------------------------------------------

    def _speaks_metric_series(self) -> bool:
        """Whether the server is a cairn server with the columnar bulk endpoint (asked once)."""
        known = self._metric_series
        if known is None:
            try:
                info = self._http.call("GET", "/api/3.0/mlflow/server-info", None)
                known = bool(info.get("cairn_metric_series"))
            except CairnError:
                known = False  # an MLflow server, or one that does not say: use log-batch
            self._metric_series = known
        return known

    def _send_series(self, points: Sequence[MetricPoint]) -> None:
        """Send points as whole series in one request (cairn servers): JSON arrays of numbers
        instead of one object per point. If the server is unreachable, the points go to the
        spool as log-batch requests, exactly as :meth:`_deliver` would keep them."""
        series: dict[tuple[str, str], tuple[list[int], list[int], list[float | str]]] = {}
        for run_id, key, value, timestamp, step in points:
            columns = series.get((run_id, key))
            if columns is None:
                columns = series[(run_id, key)] = ([], [], [])
            columns[0].append(step)
            columns[1].append(timestamp)
            columns[2].append(value if math.isfinite(value) else double(value))
        payload = {
            "series": [
                {"run_id": run_id, "key": key, "steps": s, "timestamps": t, "values": v}
                for (run_id, key), (s, t, v) in series.items()
            ]
        }
        first_run = points[0][0]
        try:
            self._http.call("POST", SERIES_PATH, payload, safety=Safety.APPEND)
        except TrackingServerUnavailable as err:
            by_run: dict[str, RunItems] = {}
            for run_id, key, value, timestamp, step in points:
                items = by_run.setdefault(run_id, RunItems(run_id))
                items.metrics.append(metric_json(key, float(value), int(timestamp), int(step)))
            items_list = list(by_run.values())
            bodies = [body for it in items_list for body in requests_for(it)]
            delivered: list[dict[str, Any]] = []
            try:
                self._keep(err, bodies, delivered)
            finally:
                self._local.delivered = Delivered(items_list, delivered)
        except CairnError as err:
            refined = refine(err, run_id=first_run)
            if refined is err:
                raise
            raise refined from None

    def sync(self) -> ReplayReport:
        """Send what the spool holds for this server now (what ``cairn sync`` does)."""
        return self.spool.replay(self._send_batch)

    def _send_batch(self, body: dict[str, Any]) -> None:
        safety = Safety.APPEND if body["metrics"] else Safety.READ
        self._call("POST", "/runs/log-batch", body, safety=safety, run_id=body["run_id"])

    def _deliver(self, items: list[RunItems]) -> None:
        """Send ``items`` (after what the spool holds), keeping them in the spool if the server
        stays unreachable. Parts of this thread's last failed call are not sent twice."""
        previous: Delivered | None = getattr(self._local, "delivered", None)
        continuing = previous is not None and previous.overlaps(items)
        if previous is not None and continuing:
            todo = previous.remainder(items)
        else:
            self._local.delivered = None
            todo = items
        bodies = [body for it in todo for body in requests_for(it)]
        if not continuing and not bodies:  # an empty call still checks that its runs exist
            bodies = [
                {"run_id": it.run_id, "metrics": [], "params": [], "tags": []} for it in items
            ]
        delivered: list[dict[str, Any]] = []
        try:
            self._send_or_keep(bodies, delivered)
        except Exception:
            if previous is not None and continuing:
                previous.add(delivered)
            else:
                self._local.delivered = Delivered(items, delivered)
            raise

    def _send_or_keep(self, bodies: list[dict[str, Any]], delivered: list[dict[str, Any]]) -> None:
        if self.spool.has_pending():
            report = self.spool.replay(self._send_batch)
            if report.stopped is not None:
                self._keep(report.stopped, bodies, delivered)
        for index, body in enumerate(bodies):
            try:
                self._send_batch(body)
            except TrackingServerUnavailable as err:
                self._keep(err, bodies[index:], delivered)
            delivered.append(body)

    def _keep(
        self, err: Exception, bodies: list[dict[str, Any]], delivered: list[dict[str, Any]]
    ) -> NoReturn:
        """Spool ``bodies`` if ``err`` says the server is unreachable; raise either way."""
        if not isinstance(err, TrackingServerUnavailable):
            raise err
        try:
            kept = self.spool.append(bodies)
        except OSError as disk:
            # Not kept anywhere: a StoreError makes the background writer keep them queued.
            raise StoreError(
                f"{err.message} The data could not be kept on local disk either ({disk}); "
                "set CAIRN_SPOOL_DIR to a writable folder.",
                url=self.uri,
            ) from err
        delivered.extend(bodies)
        raise TrackingServerUnavailable(
            self._spool_message(err.message, kept),
            url=self.uri,
            spool=str(self.spool.path),
        ) from err

    def _spool_message(self, problem: str, kept: Counts) -> str:
        size = _size(self.spool.size())
        where = f"{self.spool.path} ({size} waiting)"
        if kept.entries:
            verb = "was" if kept.metrics + kept.params + kept.tags == 1 else "were"
            done = f"{kept.describe()} {verb} kept on local disk in {where}"
        else:
            done = f"Nothing new was kept; data logged earlier waits on local disk in {where}"
        return (
            f"{problem} {done}; it is sent before the next write to this server, or by "
            f"`cairn sync --tracking-uri {self.uri}` once the server is back."
        )

    def _replay_spool(self, *, strict: bool) -> None:
        """Send what the spool holds before a call that reads or changes runs. ``strict``:
        raise if that fails (the call is a write, which must come after the spool)."""
        if not self.spool.has_pending():
            return
        report = self.spool.replay(self._send_batch)
        stopped = report.stopped
        if not strict or stopped is None:
            return
        if isinstance(stopped, TrackingServerUnavailable):
            raise TrackingServerUnavailable(
                self._spool_message(stopped.message, Counts()), url=self.uri
            ) from stopped
        raise stopped

    def _check_params_unchanged(self, items: RunItems) -> None:
        """More params than one request holds: check them all first, so a changed one fails
        the call before any request of it is written."""
        stored = self.get_run(items.run_id).data.params
        for key, value in items.params:
            old = stored.get(key)
            if old is not None and old != value:
                raise ParamValueChanged(
                    f"Changing param values is not allowed. Param {key!r} of run "
                    f"{items.run_id!r} was already logged with value {old!r}; the new value is "
                    f"{value!r}.",
                    run_id=items.run_id,
                    key=key,
                )

    # -- housekeeping -----------------------------------------------------------------------

    def deleted_run_ids(self, older_than_ms: int | None = None) -> list[str]:
        _server_side("listing deleted runs for garbage collection")

    def purge_run(self, run_id: str) -> None:
        _server_side(f"purging run {run_id}")

    def purge_experiment(self, experiment_id: str) -> None:
        _server_side(f"purging experiment {experiment_id}")

    def deleted_logged_model_ids(self, older_than_ms: int | None = None) -> list[str]:
        _server_side("listing deleted logged models for garbage collection")

    def purge_logged_model(self, model_id: str) -> None:
        _server_side(f"purging logged model {model_id}")


def _server_side(what: str) -> NoReturn:
    err = CairnError(
        f"{what.capitalize()} is not possible through a tracking server: garbage collection "
        "runs on the server's side. On the server's host, run `cairn gc --tracking-uri "
        "<backend store URI>` against the database the server was started with "
        "(its --backend-store-uri)."
    )
    err.error_code = "NOT_IMPLEMENTED"
    raise err


def _put_search_options(
    body: dict[str, Any],
    filter_string: str | None,
    order_by: Sequence[str] | None,
    page_token: str | None,
) -> None:
    if filter_string:
        body["filter"] = filter_string
    if order_by:
        body["order_by"] = list(order_by)
    if page_token:
        body["page_token"] = page_token


def _validated_items(
    run_id: str, metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> RunItems:
    """Check a batch as the SQL store does, so that only valid data is sent or spooled."""
    items = RunItems(run_id)
    for m in metrics:
        key = v.validate_metric_key(m.key)
        items.metrics.append(
            metric_json(
                key,
                v.validate_metric_value(key, m.value),
                v.validate_timestamp(key, m.timestamp),
                v.validate_step(key, m.step),
                m,
            )
        )
    seen: dict[str, str] = {}
    for p in params:
        value = v.param_value_to_str(v.validate_param_key(p.key), p.value)
        if seen.setdefault(p.key, value) != value:
            raise InvalidParameter(
                f"Param {p.key!r} appears twice in one batch with different values "
                f"({seen[p.key]!r} and {value!r})"
            )
    items.params = list(seen.items())
    items.tags = list(
        {v.validate_tag_key(t.key): v.tag_value_to_str(t.key, t.value) for t in tags}.items()
    )
    return items


def _size(n: float) -> str:
    """``"12.3 kB"``-style size."""
    if n < 1000:
        return f"{n:.0f} bytes"
    for unit in ("kB", "MB"):
        n /= 1000
        if n < 1000:
            return f"{n:.1f} {unit}"
    return f"{n / 1000:.1f} GB"
