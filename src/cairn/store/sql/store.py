"""The SQL tracking store: SQLite (the embedded default) and PostgreSQL, one implementation.

    >>> store = SqlTrackingStore("sqlite:///" + tmp + "/t.db", artifact_root="file://" + tmp)
    ... # doctest: +SKIP
    >>> run = store.create_run("0", user_id="ada", start_time=0)  # doctest: +SKIP

Reads use SQLAlchemy Core; the hot write path (``writes.py``) goes to the driver directly.
Experiment artifact locations are stored relative to ``artifact_root`` unless given explicitly,
which keeps an ``./mlruns`` folder relocatable (move it, rsync it, and it still works).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from cairn import validation as v
from cairn._names import generate_run_name
from cairn.artifacts import join_uri
from cairn.entities import (
    DatasetInput,
    Experiment,
    FrozenDict,
    LifecycleStage,
    LoggedModel,
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
    ExperimentNotFound,
    InvalidParameter,
    InvalidState,
    ResourceAlreadyExists,
    ResourceNotFound,
    RunNotFound,
)
from cairn.search.parser import parse_filter, parse_order_by
from cairn.store.base import DEFAULT_EXPERIMENT_ID, KeyValues, MetricPoint, TrackingStore
from cairn.store.sql import history, migrate, reads, search, writes
from cairn.store.sql import logged_models as lm
from cairn.store.sql.engine import make_engine, run_read, run_write
from cairn.store.sql.keys import KeyCache
from cairn.store.sql.schema import datasets as dataset_table
from cairn.store.sql.schema import (
    experiment_tags,
    experiments,
    keys,
    metric_blocks,
    metric_summaries,
    params,
    run_inputs,
    run_model_inputs,
    run_outputs,
    runs,
    tags,
)

_CHUNK = 900


def now_ms() -> int:
    return int(time.time() * 1000)


def _has_scheme(location: str) -> bool:
    head, sep, _ = location.partition(":")
    return bool(sep) and len(head) > 1 and head.replace("-", "").replace("+", "").isalnum()


class SqlTrackingStore(TrackingStore):
    """A :class:`TrackingStore` over SQLite or PostgreSQL.

    Args:
        db_uri: ``sqlite:///path.db`` or ``postgresql://...``.
        artifact_root: URI under which experiments without an explicit location keep their
            artifacts (``<root>/<experiment_id>/<run_id>/artifacts``).
        relative_locations: store default locations relative to ``artifact_root`` (True for
            self-contained stores such as ``./mlruns``), or resolved and absolute (a shared
            PostgreSQL, where every client must agree on where artifacts live).
        display_uri: the URI to show in messages (defaults to ``db_uri``).

    Raises:
        SchemaOutdated, SchemaTooNew, StoreError: see :mod:`cairn.store.sql.migrate`.
    """

    def __init__(
        self,
        db_uri: str,
        artifact_root: str,
        *,
        relative_locations: bool = True,
        display_uri: str | None = None,
    ) -> None:
        self.uri = display_uri or db_uri
        self.artifact_root = artifact_root.rstrip("/")
        self.engine = make_engine(db_uri)
        self.dialect = self.engine.dialect.name
        migrate.ensure_schema(self.engine, self.uri)
        self._relative_locations = relative_locations
        self._keys = KeyCache()
        self._locations: dict[int, str] = {}
        self._locations_lock = threading.Lock()
        # SQLite takes one writer at a time; queueing this process's writers on a lock keeps
        # them in order, where SQLite's busy handler would let newcomers overtake sleepers
        # (20 concurrent writers: p99 latency seconds instead of tenths). PostgreSQL locks rows.
        self._write_turn: AbstractContextManager[Any] = (
            threading.Lock() if self.dialect == "sqlite" else contextlib.nullcontext()
        )
        self._run_search = search.RunSearchCompiler(self.dialect, self._relative_artifact_uri)
        if not relative_locations:
            self._resolve_default_location()

    # -- helpers ----------------------------------------------------------------------------

    def _write(self, work: Any) -> Any:
        fresh: dict[str, int] = {}

        def attempt(conn: Connection) -> Any:
            fresh.clear()
            return work(conn, fresh)

        with self._write_turn:
            result = run_write(self.engine, attempt)
        self._keys.commit(fresh)
        return result

    def _read(self, work: Any) -> Any:
        return run_read(self.engine, work)

    def _resolve_location(self, stored: str) -> str:
        if _has_scheme(stored) or stored.startswith("/"):
            return stored
        return join_uri(self.artifact_root, stored)

    def _relative_artifact_uri(self, uri: str) -> str:
        prefix = self.artifact_root + "/"
        return uri[len(prefix) :] if uri.startswith(prefix) else uri

    def _resolve_default_location(self) -> None:
        def work(conn: Connection, _fresh: dict[str, int]) -> None:
            stored = conn.execute(
                select(experiments.c.artifact_location).where(experiments.c.id == 0)
            ).scalar()
            if stored is not None and not _has_scheme(stored) and not stored.startswith("/"):
                conn.execute(
                    update(experiments)
                    .where(experiments.c.id == 0)
                    .values(artifact_location=self._resolve_location(stored))
                )

        self._write(work)

    def _experiment_locations(self, conn: Connection, ids: set[int]) -> dict[int, str]:
        missing = ids.difference(self._locations)
        if missing:
            rows = conn.execute(
                select(experiments.c.id, experiments.c.artifact_location).where(
                    experiments.c.id.in_(missing)
                )
            )
            with self._locations_lock:
                for exp_id, stored in rows:
                    self._locations[exp_id] = self._resolve_location(stored)
        return {i: self._locations[i] for i in ids if i in self._locations}

    @staticmethod
    def _experiment_pk(experiment_id: str | int) -> int:
        pk = v.int64_or_none(experiment_id)
        if pk is None:
            raise ExperimentNotFound(
                f"No experiment with id {experiment_id!r} (experiment ids are integers)",
                experiment_id=experiment_id,
            )
        return pk

    @staticmethod
    def _run_pk(conn: Connection, run_id: str, *, writable: bool = False) -> int:
        row = conn.execute(
            select(runs.c.pk, runs.c.lifecycle_stage).where(runs.c.run_uuid == run_id)
        ).first()
        if row is None:
            raise RunNotFound(run_id)
        if writable and row.lifecycle_stage != LifecycleStage.ACTIVE:
            raise InvalidParameter(
                f"Run {run_id!r} is deleted; restore it before changing it", run_id=run_id
            )
        return int(row.pk)

    # -- experiments ------------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
    ) -> str:
        v.validate_experiment_name(name)
        if artifact_location is not None:
            v.validate_artifact_location(artifact_location)
        tag_items = [
            (v.validate_tag_key(k), v.tag_value_to_str(k, val, v.MAX_EXPERIMENT_TAG_VALUE_LENGTH))
            for k, val in tags
        ]

        def work(conn: Connection, _fresh: dict[str, int]) -> str:
            if conn.execute(select(experiments.c.id).where(experiments.c.name == name)).first():
                raise ResourceAlreadyExists(
                    f"Experiment {name!r} already exists (it may be deleted: restore it, or "
                    "purge it with cairn gc)",
                    name=name,
                )
            now = now_ms()
            exp_id = conn.execute(
                insert(experiments)
                .values(
                    name=name,
                    artifact_location=artifact_location or "",
                    lifecycle_stage=LifecycleStage.ACTIVE,
                    creation_time=now,
                    last_update_time=now,
                )
                .returning(experiments.c.id)
            ).scalar_one()
            if artifact_location is None:
                location = str(exp_id)
                if not self._relative_locations:
                    location = self._resolve_location(location)
                conn.execute(
                    update(experiments)
                    .where(experiments.c.id == exp_id)
                    .values(artifact_location=location)
                )
            if tag_items:
                conn.execute(
                    insert(experiment_tags),
                    [{"experiment_id": exp_id, "key": k, "value": val} for k, val in tag_items],
                )
            return str(exp_id)

        try:
            result: str = self._write(work)
        except IntegrityError:
            # Another process created the same name between our check and insert.
            raise ResourceAlreadyExists(f"Experiment {name!r} already exists", name=name) from None
        return result

    def _load_experiments(self, conn: Connection, rows: Sequence[Any]) -> list[Experiment]:
        ids = [r.id for r in rows]
        tags_by_exp: dict[int, dict[str, str]] = {i: {} for i in ids}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            for exp_id, key, value in conn.execute(
                select(
                    experiment_tags.c.experiment_id, experiment_tags.c.key, experiment_tags.c.value
                ).where(experiment_tags.c.experiment_id.in_(chunk))
            ):
                tags_by_exp[exp_id][key] = value
        return [
            Experiment(
                experiment_id=str(r.id),
                name=r.name,
                artifact_location=self._resolve_location(r.artifact_location),
                lifecycle_stage=r.lifecycle_stage,
                tags=FrozenDict(tags_by_exp[r.id]),
                creation_time=r.creation_time,
                last_update_time=r.last_update_time,
            )
            for r in rows
        ]

    def get_experiment(self, experiment_id: str) -> Experiment:
        pk = self._experiment_pk(experiment_id)

        def work(conn: Connection) -> Experiment:
            row = conn.execute(select(experiments).where(experiments.c.id == pk)).first()
            if row is None:
                raise ExperimentNotFound(
                    f"No experiment with id {experiment_id!r}", experiment_id=str(experiment_id)
                )
            return self._load_experiments(conn, [row])[0]

        result: Experiment = self._read(work)
        return result

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        def work(conn: Connection) -> Experiment | None:
            row = conn.execute(select(experiments).where(experiments.c.name == name)).first()
            return None if row is None else self._load_experiments(conn, [row])[0]

        result: Experiment | None = self._read(work)
        return result

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        v.validate_max_results(max_results)
        comparisons = parse_filter(filter_string, "experiments")
        order_keys = parse_order_by(order_by, "experiments")
        offset = search.decode_page_token(page_token)
        stages = LifecycleStage.view_type_to_stages(ViewType.from_string(view_type))
        stmt = (
            select(experiments)
            .where(
                experiments.c.lifecycle_stage.in_(stages),
                *(search.experiment_condition(c, self.dialect) for c in comparisons),
            )
            .order_by(*search.experiment_ordering(order_keys))
        )
        stmt = search.paginate(stmt, offset, max_results)

        def work(conn: Connection) -> PagedList[Experiment]:
            rows = conn.execute(stmt).all()
            more = len(rows) > max_results
            page = self._load_experiments(conn, rows[:max_results])
            token = search.encode_page_token(offset + max_results) if more else None
            return PagedList(page, token)

        result: PagedList[Experiment] = self._read(work)
        return result

    def _change_experiment(
        self, experiment_id: str, change: Any, *, allow_deleted: bool = False
    ) -> None:
        pk = self._experiment_pk(experiment_id)

        def work(conn: Connection, _fresh: dict[str, int]) -> None:
            row = conn.execute(select(experiments).where(experiments.c.id == pk)).first()
            if row is None:
                raise ExperimentNotFound(
                    f"No experiment with id {experiment_id!r}", experiment_id=str(experiment_id)
                )
            if not allow_deleted and row.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidState(
                    f"Experiment {experiment_id!r} is deleted; restore it first "
                    f"(cairn experiments restore {experiment_id})"
                )
            change(conn, row)
            conn.execute(
                update(experiments).where(experiments.c.id == pk).values(last_update_time=now_ms())
            )

        self._write(work)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        v.validate_experiment_name(new_name)

        def change(conn: Connection, row: Row[Any]) -> None:
            clash = conn.execute(
                select(experiments.c.id).where(
                    experiments.c.name == new_name, experiments.c.id != row.id
                )
            ).first()
            if clash:
                raise ResourceAlreadyExists(f"Experiment {new_name!r} already exists")
            conn.execute(
                update(experiments).where(experiments.c.id == row.id).values(name=new_name)
            )

        self._change_experiment(experiment_id, change)

    def delete_experiment(self, experiment_id: str) -> None:
        if str(experiment_id) == DEFAULT_EXPERIMENT_ID:
            raise InvalidParameter("The Default experiment (id 0) cannot be deleted")

        def change(conn: Connection, row: Row[Any]) -> None:
            # Runs deleted together with their experiment carry its deletion time, so that
            # restoring the experiment restores exactly these runs. That time must differ from
            # the deletion time of every run deleted before (one deleted in the same
            # millisecond, or before the clock stepped back, would come back too).
            latest_deleted_run = conn.execute(
                select(func.max(runs.c.deleted_time)).where(
                    runs.c.experiment_id == row.id,
                    runs.c.lifecycle_stage == LifecycleStage.DELETED,
                )
            ).scalar()
            now = max(now_ms(), (latest_deleted_run or 0) + 1)
            conn.execute(
                update(experiments)
                .where(experiments.c.id == row.id)
                .values(lifecycle_stage=LifecycleStage.DELETED, deleted_time=now)
            )
            conn.execute(
                update(runs)
                .where(
                    runs.c.experiment_id == row.id,
                    runs.c.lifecycle_stage == LifecycleStage.ACTIVE,
                )
                .values(lifecycle_stage=LifecycleStage.DELETED, deleted_time=now)
            )

        self._change_experiment(experiment_id, change)

    def restore_experiment(self, experiment_id: str) -> None:
        def change(conn: Connection, row: Row[Any]) -> None:
            if row.lifecycle_stage == LifecycleStage.ACTIVE:
                return
            conn.execute(
                update(experiments)
                .where(experiments.c.id == row.id)
                .values(lifecycle_stage=LifecycleStage.ACTIVE, deleted_time=None)
            )
            conn.execute(
                update(runs)
                .where(
                    runs.c.experiment_id == row.id,
                    runs.c.lifecycle_stage == LifecycleStage.DELETED,
                    runs.c.deleted_time == row.deleted_time,
                )
                .values(lifecycle_stage=LifecycleStage.ACTIVE, deleted_time=None)
            )

        self._change_experiment(experiment_id, change, allow_deleted=True)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        v.validate_tag_key(key)
        value = v.tag_value_to_str(key, value, v.MAX_EXPERIMENT_TAG_VALUE_LENGTH)

        def change(conn: Connection, row: Row[Any]) -> None:
            conn.execute(
                delete(experiment_tags).where(
                    experiment_tags.c.experiment_id == row.id, experiment_tags.c.key == key
                )
            )
            conn.execute(insert(experiment_tags).values(experiment_id=row.id, key=key, value=value))

        self._change_experiment(experiment_id, change)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        def change(conn: Connection, row: Row[Any]) -> None:
            deleted = conn.execute(
                delete(experiment_tags).where(
                    experiment_tags.c.experiment_id == row.id, experiment_tags.c.key == key
                )
            )
            if deleted.rowcount == 0:
                raise ResourceNotFound(f"Experiment {experiment_id!r} has no tag {key!r}", key=key)

        self._change_experiment(experiment_id, change)

    # -- runs -------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        exp_pk = self._experiment_pk(experiment_id)
        tag_items = {v.validate_tag_key(t.key): v.tag_value_to_str(t.key, t.value) for t in tags}
        name_tag = tag_items.get(writes.RUN_NAME_TAG)
        if run_name and name_tag and run_name != name_tag:
            raise InvalidParameter(
                f"Both run_name {run_name!r} and a different tag "
                f"{writes.RUN_NAME_TAG}={name_tag!r} were given; pass one of them"
            )
        name = v.validate_run_name(run_name or name_tag or generate_run_name())
        tag_items[writes.RUN_NAME_TAG] = name
        run_id = uuid.uuid4().hex
        start_time = v.validate_timestamp("start_time", start_time, metric=False)

        def work(conn: Connection, fresh: dict[str, int]) -> int:
            exp = conn.execute(
                select(experiments.c.lifecycle_stage).where(experiments.c.id == exp_pk)
            ).first()
            if exp is None:
                raise ExperimentNotFound(
                    f"No experiment with id {experiment_id!r}", experiment_id=str(experiment_id)
                )
            if exp.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidParameter(
                    f"Experiment {experiment_id!r} is deleted; restore it before starting runs "
                    "in it"
                )
            pk: int = conn.execute(
                insert(runs)
                .values(
                    run_uuid=run_id,
                    experiment_id=exp_pk,
                    name=name,
                    user_id=user_id or "",
                    status=RunStatus.RUNNING.name,
                    start_time=start_time,
                    lifecycle_stage=LifecycleStage.ACTIVE,
                )
                .returning(runs.c.pk)
            ).scalar_one()
            key_ids = self._keys.ids_for_write(conn, tag_items, fresh)
            writes.upsert_tags(conn, pk, tag_items, key_ids)
            return pk

        self._write(work)
        return self.get_run(run_id)

    def get_run(self, run_id: str) -> Run:
        def work(conn: Connection) -> Run:
            row = conn.execute(select(*reads.RUN_COLUMNS).where(runs.c.run_uuid == run_id)).first()
            if row is None:
                raise RunNotFound(run_id)
            return self._load_runs(conn, [row])[0]

        result: Run = self._read(work)
        return result

    def _load_runs(self, conn: Connection, rows: Sequence[Any]) -> list[Run]:
        return reads.load_runs(conn, rows, self._keys, self._experiment_locations)

    def update_run_info(
        self,
        run_id: str,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        values: dict[str, Any] = {}
        if status is not None:
            try:
                values["status"] = RunStatus.to_string(status)
            except ValueError as err:
                raise InvalidParameter(f"Invalid run status: {err}") from None
        if end_time is not None:
            values["end_time"] = v.validate_timestamp("end_time", end_time, metric=False)
        if run_name:
            values["name"] = v.validate_run_name(run_name)

        def work(conn: Connection, fresh: dict[str, int]) -> None:
            pk = self._run_pk(conn, run_id, writable=True)
            if values:
                conn.execute(update(runs).where(runs.c.pk == pk).values(**values))
            if run_name:
                key_ids = self._keys.ids_for_write(conn, [writes.RUN_NAME_TAG], fresh)
                writes.upsert_tags(conn, pk, {writes.RUN_NAME_TAG: run_name}, key_ids)

        self._write(work)
        return self.get_run(run_id).info

    def _set_run_lifecycle(self, run_id: str, stage: str) -> None:
        def work(conn: Connection, _fresh: dict[str, int]) -> None:
            pk = self._run_pk(conn, run_id)
            if stage == LifecycleStage.ACTIVE:
                exp_stage = conn.execute(
                    select(experiments.c.id, experiments.c.lifecycle_stage)
                    .join(runs, runs.c.experiment_id == experiments.c.id)
                    .where(runs.c.pk == pk)
                ).one()
                if exp_stage.lifecycle_stage != LifecycleStage.ACTIVE:
                    raise InvalidState(
                        f"Run {run_id!r} belongs to deleted experiment {exp_stage.id}; restore "
                        f"the experiment first (cairn experiments restore {exp_stage.id})"
                    )
            conn.execute(
                update(runs)
                .where(runs.c.pk == pk)
                .values(
                    lifecycle_stage=stage,
                    deleted_time=now_ms() if stage == LifecycleStage.DELETED else None,
                )
            )

        self._write(work)

    def delete_run(self, run_id: str) -> None:
        self._set_run_lifecycle(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        self._set_run_lifecycle(run_id, LifecycleStage.ACTIVE)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        stmt, offset = self._run_search_statement(
            experiment_ids, filter_string, run_view_type, max_results, order_by, page_token
        )

        def work(conn: Connection) -> PagedList[Run]:
            rows = conn.execute(stmt).all()
            more = len(rows) > max_results
            page = self._load_runs(conn, rows[:max_results])
            token = search.encode_page_token(offset + max_results) if more else None
            return PagedList(page, token)

        result: PagedList[Run] = self._read(work)
        return result

    def _run_search_statement(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None,
        run_view_type: int,
        max_results: int,
        order_by: Sequence[str] | None,
        page_token: str | None,
    ) -> tuple[Any, int]:
        v.validate_max_results(max_results)
        offset = search.decode_page_token(page_token)
        stmt = self.run_query(experiment_ids, filter_string, run_view_type, order_by)
        return search.paginate(stmt, offset, max_results), offset

    def run_query(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int = ViewType.ACTIVE_ONLY,
        order_by: Sequence[str] | None = None,
    ) -> Any:
        """The SELECT of a run search (``reads.RUN_COLUMNS``, ordered, not paged), for
        callers that page or count it themselves (the UI's table). Raises InvalidFilter."""
        comparisons = parse_filter(filter_string, "runs")
        order_keys = parse_order_by(order_by, "runs")
        stages = LifecycleStage.view_type_to_stages(ViewType.from_string(run_view_type))
        # No run belongs to an experiment id that cannot exist: such ids are left out.
        exp_pks = [pk for pk in map(v.int64_or_none, experiment_ids) if pk is not None]
        source, ordering = self._run_search.ordering(order_keys, runs)
        return (
            select(*reads.RUN_COLUMNS)
            .select_from(source)
            .where(
                runs.c.experiment_id.in_(exp_pks),
                runs.c.lifecycle_stage.in_(stages),
                *(self._run_search.condition(c) for c in comparisons),
            )
            .order_by(*ordering)
        )

    # -- logging ----------------------------------------------------------------------------

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        points: list[MetricPoint] = [
            (
                run_id,
                v.validate_metric_key(m.key),
                v.validate_metric_value(m.key, m.value),
                v.validate_timestamp(m.key, m.timestamp),
                v.validate_step(m.key, m.step),
            )
            for m in metrics
        ]
        param_items: dict[str, str] = {}
        for p in params:
            value = v.param_value_to_str(v.validate_param_key(p.key), p.value)
            if param_items.setdefault(p.key, value) != value:
                raise InvalidParameter(
                    f"Param {p.key!r} appears twice in one batch with different values "
                    f"({param_items[p.key]!r} and {value!r})"
                )
        tag_items = {v.validate_tag_key(t.key): v.tag_value_to_str(t.key, t.value) for t in tags}
        model_points = lm.model_points(metrics)
        if not (points or param_items or tag_items):
            self._read(lambda conn: self._run_pk(conn, run_id))
            return

        def work(conn: Connection, fresh: dict[str, int]) -> None:
            pk = self._run_pk(conn, run_id, writable=True)
            key_ids = self._keys.ids_for_write(conn, [*param_items, *tag_items], fresh)
            writes.insert_params(conn, pk, run_id, param_items, key_ids)
            writes.upsert_tags(conn, pk, tag_items, key_ids)
            run_points = points
            if model_points:
                # MLflow's log_model logs a run's metrics again, tagged with the model: they
                # belong to the model, but the run's history already holds them.
                run_points = self._without_points_already_stored(conn, pk, points, metrics)
                lm.insert_model_points(conn, run_id, model_points)
            if run_points:
                writes.insert_metric_points(conn, self._keys, fresh, run_points, {run_id: pk})

        self._write(work)

    def _without_points_already_stored(
        self,
        conn: Connection,
        run_pk: int,
        points: list[MetricPoint],
        metrics: Sequence[Metric],
    ) -> list[MetricPoint]:
        """``points`` minus model-tagged ones identical to a point of the run's history."""
        tagged = {(m.key, m.step, m.timestamp, float(m.value)) for m in metrics if m.model_id}
        key_ids = self._keys.ids_for_read(conn, {key for key, _, _, _ in tagged})
        stored: set[tuple[str, int, int, float]] = set()
        for key, key_id in key_ids.items():
            series = history.read_series(conn, run_pk, key_id)
            stored.update(
                (key, step, ts, value)
                for step, ts, value in zip(
                    series.steps, series.timestamps, series.values, strict=True
                )
            )
        known = tagged & stored
        return [p for p in points if (p[1], p[4], p[3], p[2]) not in known]

    def log_metric_points(self, points: Sequence[MetricPoint]) -> None:
        if not points:
            return
        self._write(
            lambda conn, fresh: writes.insert_metric_points(conn, self._keys, fresh, points)
        )

    def delete_tag(self, run_id: str, key: str) -> None:
        def work(conn: Connection, _fresh: dict[str, int]) -> None:
            pk = self._run_pk(conn, run_id, writable=True)
            key_id = self._keys.ids_for_read(conn, [key]).get(key)
            deleted = (
                conn.execute(delete(tags).where(tags.c.run_pk == pk, tags.c.key_id == key_id))
                if key_id is not None
                else None
            )
            if deleted is None or deleted.rowcount == 0:
                raise ResourceNotFound(f"Run {run_id!r} has no tag {key!r}", key=key)

        self._write(work)

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[ModelInput] = (),
    ) -> None:
        if models:
            lm.log_model_inputs(self, run_id, models)
        for item in datasets:
            ds = item.dataset
            if not ds.name or len(ds.name) > 500 or len(ds.digest) > 36:
                raise InvalidParameter(
                    f"Invalid dataset {ds.name!r}: names are 1-500 characters and digests at "
                    "most 36"
                )
        if not datasets:
            return

        def work(conn: Connection, _fresh: dict[str, int]) -> None:
            pk = self._run_pk(conn, run_id, writable=True)
            exp_pk = conn.execute(select(runs.c.experiment_id).where(runs.c.pk == pk)).scalar_one()
            for item in datasets:
                ds = item.dataset
                identity = and_(
                    dataset_table.c.experiment_id == exp_pk,
                    dataset_table.c.name == ds.name,
                    dataset_table.c.digest == ds.digest,
                )
                ds_id = conn.execute(select(dataset_table.c.id).where(identity)).scalar()
                if ds_id is None:
                    ds_id = conn.execute(
                        insert(dataset_table)
                        .values(
                            experiment_id=exp_pk,
                            name=ds.name,
                            digest=ds.digest,
                            source_type=ds.source_type,
                            source=ds.source,
                            schema=ds.schema,
                            profile=ds.profile,
                        )
                        .returning(dataset_table.c.id)
                    ).scalar_one()
                seen = conn.execute(
                    select(run_inputs.c.run_pk).where(
                        run_inputs.c.run_pk == pk, run_inputs.c.dataset_id == ds_id
                    )
                ).first()
                if seen is None:
                    tag_map = {t.key: t.value for t in item.tags}
                    conn.execute(
                        insert(run_inputs).values(
                            run_pk=pk,
                            dataset_id=ds_id,
                            tags=json.dumps(tag_map),
                            context=tag_map.get("mlflow.data.context"),
                        )
                    )

        self._write(work)

    def get_metric_history(
        self,
        run_id: str,
        key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> PagedList[Metric]:
        if max_results is not None:
            v.validate_max_results(max_results, limit=10**9)
        offset = search.decode_page_token(page_token)

        def work(conn: Connection) -> PagedList[Metric]:
            pk = self._run_pk(conn, run_id)
            key_id = self._keys.ids_for_read(conn, [key]).get(key)
            if key_id is None:
                return PagedList([], None)
            series = history.read_series(conn, pk, key_id)
            end = len(series) if max_results is None else min(len(series), offset + max_results)
            steps, stamps, values = series.steps, series.timestamps, series.values
            page = [Metric(key, values[i], stamps[i], steps[i], run_id) for i in range(offset, end)]
            token = search.encode_page_token(end) if end < len(series) else None
            return PagedList(page, token)

        result: PagedList[Metric] = self._read(work)
        return result

    # -- logged models: implemented in logged_models.py -------------------------------------

    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        lm.log_outputs(self, run_id, models)

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: KeyValues = (),
        params: KeyValues = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        return lm.create_logged_model(
            self, experiment_id, name, source_run_id, tags, params, model_type
        )

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        return lm.get_logged_model(self, model_id, allow_deleted)

    def finalize_logged_model(self, model_id: str, status: str | int) -> LoggedModel:
        return lm.finalize_logged_model(self, model_id, status)

    def delete_logged_model(self, model_id: str) -> None:
        lm.delete_logged_model(self, model_id)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[str | Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        return lm.search_logged_models(
            self, experiment_ids, filter_string, datasets, max_results, order_by, page_token
        )

    def set_logged_model_tags(self, model_id: str, tags: KeyValues) -> None:
        lm.set_logged_model_tags(self, model_id, tags)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        lm.delete_logged_model_tag(self, model_id, key)

    def log_logged_model_params(self, model_id: str, params: KeyValues) -> None:
        lm.log_logged_model_params(self, model_id, params)

    # -- housekeeping -----------------------------------------------------------------------

    def deleted_run_ids(self, older_than_ms: int | None = None) -> list[str]:
        stmt = select(runs.c.run_uuid).where(runs.c.lifecycle_stage == LifecycleStage.DELETED)
        if older_than_ms is not None:
            stmt = stmt.where(runs.c.deleted_time <= now_ms() - older_than_ms)
        result: list[str] = self._read(lambda conn: list(conn.execute(stmt).scalars()))
        return result

    def deleted_experiment_ids(self, older_than_ms: int | None = None) -> list[str]:
        stmt = select(experiments.c.id).where(
            experiments.c.lifecycle_stage == LifecycleStage.DELETED
        )
        if older_than_ms is not None:
            stmt = stmt.where(experiments.c.deleted_time <= now_ms() - older_than_ms)
        return [str(i) for i in self._read(lambda conn: list(conn.execute(stmt).scalars()))]

    def purge_run(self, run_id: str) -> None:
        def work(conn: Connection, _fresh: dict[str, int]) -> None:
            row = conn.execute(
                select(runs.c.pk, runs.c.lifecycle_stage).where(runs.c.run_uuid == run_id)
            ).first()
            if row is None:
                raise RunNotFound(run_id)
            if row.lifecycle_stage != LifecycleStage.DELETED:
                raise InvalidState(
                    f"Run {run_id!r} is not deleted; delete it first (cairn runs delete)"
                )
            for table in (
                metric_blocks,
                metric_summaries,
                params,
                tags,
                run_inputs,
                run_outputs,
                run_model_inputs,
            ):
                conn.execute(delete(table).where(table.c.run_pk == row.pk))
            conn.execute(delete(runs).where(runs.c.pk == row.pk))

        self._write(work)

    def purge_experiment(self, experiment_id: str) -> None:
        pk = self._experiment_pk(experiment_id)

        def work(conn: Connection, _fresh: dict[str, int]) -> None:
            row = conn.execute(
                select(experiments.c.lifecycle_stage).where(experiments.c.id == pk)
            ).first()
            if row is None:
                raise ExperimentNotFound(
                    f"No experiment with id {experiment_id!r}", experiment_id=experiment_id
                )
            if row.lifecycle_stage != LifecycleStage.DELETED:
                raise InvalidState(f"Experiment {experiment_id!r} is not deleted")
            remaining = conn.execute(
                select(func.count()).select_from(runs).where(runs.c.experiment_id == pk)
            ).scalar_one()
            if remaining:
                raise InvalidState(
                    f"Experiment {experiment_id!r} still holds {remaining} runs; purge them first"
                )
            lm.purge_experiment_models(conn, pk)
            conn.execute(delete(dataset_table).where(dataset_table.c.experiment_id == pk))
            conn.execute(delete(experiment_tags).where(experiment_tags.c.experiment_id == pk))
            conn.execute(delete(experiments).where(experiments.c.id == pk))

        self._write(work)
        with self._locations_lock:
            self._locations.pop(pk, None)

    def deleted_logged_model_ids(self, older_than_ms: int | None = None) -> list[str]:
        return lm.deleted_logged_model_ids(self, older_than_ms)

    def purge_logged_model(self, model_id: str) -> None:
        lm.purge_logged_model(self, model_id)

    def count_runs(self, experiment_ids: Sequence[str]) -> dict[str, int]:
        """Active runs per experiment, for listings."""
        pks = [self._experiment_pk(e) for e in experiment_ids]
        stmt = (
            select(runs.c.experiment_id, func.count())
            .where(runs.c.experiment_id.in_(pks), runs.c.lifecycle_stage == LifecycleStage.ACTIVE)
            .group_by(runs.c.experiment_id)
        )
        counts = {r[0]: r[1] for r in self._read(lambda conn: conn.execute(stmt).all())}
        return {e: int(counts.get(int(e), 0)) for e in experiment_ids}

    def close(self) -> None:
        self.engine.dispose()

    # For the key-name lookup in tests and tools.
    def key_names(self) -> list[str]:
        result: list[str] = self._read(
            lambda conn: list(conn.execute(select(keys.c.name).order_by(keys.c.name)).scalars())
        )
        return result
