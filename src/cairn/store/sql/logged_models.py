"""Logged models (MLflow 3.x) in the SQL store.

A logged model is what MLflow 3.x's ``log_model`` creates: an id of its own (``m-<32 hex>``),
an artifact location under its experiment (``<experiment location>/models/<id>/artifacts``),
a status that goes from PENDING to READY (or UPLOAD_FAILED) once its files are uploaded, tags,
params, and the metrics that runs log against it. :class:`SqlTrackingStore` delegates its
logged-model methods to the functions here; their contract is documented on
:class:`~cairn.store.base.TrackingStore`. Searching is compiled by :mod:`.model_search`.

    >>> model = create_logged_model(store, "0", name="model")      # doctest: +SKIP
    >>> model.status, model.artifact_uri                           # doctest: +SKIP
    ('LOGGED_MODEL_PENDING', 'file:///.../0/models/m-.../artifacts')
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select, text, update

from cairn import validation as v
from cairn._names import generate_run_name
from cairn.entities import (
    FrozenDict,
    LifecycleStage,
    LoggedModel,
    LoggedModelRegistration,
    LoggedModelStatus,
    Metric,
    ModelInput,
    ModelOutput,
    PagedList,
)
from cairn.errors import (
    ExperimentNotFound,
    InvalidParameter,
    InvalidState,
    ParamValueChanged,
    ResourceNotFound,
)
from cairn.store.sql import model_search, search
from cairn.store.sql.schema import (
    experiments,
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
    run_model_inputs,
    run_outputs,
)
from cairn.store.sql.writes import nan_safe

if TYPE_CHECKING:
    from cairn.store.base import KeyValues
    from cairn.store.sql.store import SqlTrackingStore

#: Characters a logged model's name may not contain (they would break ``models:/`` URIs).
BAD_NAME_CHARACTERS = ("/", ":", ".", "%", '"', "'")
MAX_NAME_LENGTH = 500
MAX_MODEL_TYPE_LENGTH = 500
#: Model tags hold things like the JSON list of registered versions, so they may be long.
MAX_TAG_VALUE_LENGTH = 100_000
#: Search page size when none is given (MLflow's store default).
DEFAULT_MAX_RESULTS = 100
#: The tag in which MLflow's client lists the registered versions made from a model.
MODEL_VERSIONS_TAG = "mlflow.modelVersions"

_CHUNK = 900
_INSERT_METRIC = text(
    "INSERT INTO logged_model_metrics (model_id, key, value, timestamp, step, run_id, "
    "dataset_name, dataset_digest) VALUES (:model_id, :key, :value, :timestamp, :step, "
    ":run_id, :dataset_name, :dataset_digest) "
    "ON CONFLICT (model_id, key, timestamp, step, run_id) DO NOTHING"
)
_INSERT_OUTPUT = text(
    "INSERT INTO run_outputs (run_pk, model_id, step) VALUES (:run_pk, :model_id, :step) "
    "ON CONFLICT (run_pk, model_id) DO NOTHING"
)
_INSERT_MODEL_INPUT = text(
    "INSERT INTO run_model_inputs (run_pk, model_id) VALUES (:run_pk, :model_id) "
    "ON CONFLICT (run_pk, model_id) DO NOTHING"
)
_UPSERT_TAG = text(
    "INSERT INTO logged_model_tags (model_id, key, value) VALUES (:model_id, :key, :value) "
    "ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value"
)


def now_ms() -> int:
    return int(time.time() * 1000)


# -- validation -----------------------------------------------------------------------------


def validate_model_name(name: Any) -> str:
    """Return ``name`` if it can name a logged model, else raise InvalidParameter.

    >>> validate_model_name("model")
    'model'
    """
    if (
        not isinstance(name, str)
        or not name
        or len(name) > MAX_NAME_LENGTH
        or any(c in name for c in BAD_NAME_CHARACTERS)
    ):
        bad = " ".join(BAD_NAME_CHARACTERS)
        raise InvalidParameter(
            f"Invalid model name {name!r}: a logged model's name is a non-empty string of at "
            f"most {MAX_NAME_LENGTH} characters, without any of {bad}"
        )
    return name


def validate_status(status: Any) -> str:
    """The name of a status a model can be finalized with; raises InvalidParameter."""
    try:
        parsed = LoggedModelStatus.from_string(status)
    except ValueError as err:
        raise InvalidParameter(f"Invalid logged model status: {err}") from None
    if parsed == LoggedModelStatus.LOGGED_MODEL_STATUS_UNSPECIFIED:
        raise InvalidParameter(
            "Invalid logged model status LOGGED_MODEL_STATUS_UNSPECIFIED: use "
            "LOGGED_MODEL_PENDING, LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED"
        )
    return parsed.name


def _pairs(items: KeyValues | None) -> list[tuple[str, str]]:
    if items is None:
        return []
    if isinstance(items, Mapping):
        return list(items.items())
    return [(k, val) for k, val in items]


def _tag_items(tags: KeyValues | None) -> dict[str, str]:
    return {
        v.validate_tag_key(k): v.tag_value_to_str(k, val, MAX_TAG_VALUE_LENGTH)
        for k, val in _pairs(tags)
    }


def _param_items(params: KeyValues | None) -> dict[str, str]:
    items: dict[str, str] = {}
    for key, raw in _pairs(params):
        value = v.param_value_to_str(v.validate_param_key(key), raw)
        if items.setdefault(key, value) != value:
            raise InvalidParameter(
                f"Param {key!r} appears twice with different values ({items[key]!r} and {value!r})"
            )
    return items


def _check_model_id(model_id: Any) -> str:
    if not isinstance(model_id, str):
        raise InvalidParameter(f"Invalid logged model id {model_id!r}: it must be a string")
    return model_id


def not_found(model_id: str) -> ResourceNotFound:
    return ResourceNotFound(f"Logged model with ID {model_id!r} not found", model_id=model_id)


def _model_row(conn: Connection, model_id: str, *, writable: bool = False) -> Any:
    row = conn.execute(
        select(logged_models.c.model_id, logged_models.c.lifecycle_stage).where(
            logged_models.c.model_id == model_id
        )
    ).first()
    if row is None:
        raise not_found(model_id)
    if writable and row.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidParameter(f"Logged model {model_id!r} is deleted", model_id=model_id)
    return row


def _touch(conn: Connection, model_id: str, **values: Any) -> None:
    conn.execute(
        update(logged_models)
        .where(logged_models.c.model_id == model_id)
        .values(last_updated_timestamp_ms=now_ms(), **values)
    )


# -- create, read, change -------------------------------------------------------------------


def create_logged_model(
    store: SqlTrackingStore,
    experiment_id: str,
    name: str | None = None,
    source_run_id: str | None = None,
    tags: KeyValues = (),
    params: KeyValues = (),
    model_type: str | None = None,
) -> LoggedModel:
    """See :meth:`TrackingStore.create_logged_model`."""
    exp_pk = store._experiment_pk(experiment_id)
    name = validate_model_name(generate_run_name() if name is None else name)
    if source_run_id is not None:
        v.validate_run_id(source_run_id)
    if model_type is not None and (
        not isinstance(model_type, str) or len(model_type) > MAX_MODEL_TYPE_LENGTH
    ):
        raise InvalidParameter(
            f"Invalid model type {model_type!r}: a string of at most {MAX_MODEL_TYPE_LENGTH} "
            "characters"
        )
    tag_items = _tag_items(tags)
    param_items = _param_items(params)
    model_id = f"m-{uuid.uuid4().hex}"

    def work(conn: Connection, _fresh: dict[str, int]) -> None:
        stage = conn.execute(
            select(experiments.c.lifecycle_stage).where(experiments.c.id == exp_pk)
        ).scalar()
        if stage is None:
            raise ExperimentNotFound(
                f"No experiment with id {experiment_id!r}", experiment_id=str(experiment_id)
            )
        if stage != LifecycleStage.ACTIVE:
            raise InvalidParameter(
                f"Experiment {experiment_id!r} is deleted; restore it before logging models in it"
            )
        location = store._experiment_locations(conn, {exp_pk})[exp_pk]
        uri = f"{location.rstrip('/')}/models/{model_id}/artifacts"
        now = now_ms()
        conn.execute(
            insert(logged_models).values(
                model_id=model_id,
                experiment_id=exp_pk,
                name=name,
                model_type=model_type,
                source_run_id=source_run_id,
                status=LoggedModelStatus.LOGGED_MODEL_PENDING.name,
                artifact_location=store._relative_artifact_uri(uri)
                if store._relative_locations
                else uri,
                creation_timestamp_ms=now,
                last_updated_timestamp_ms=now,
                lifecycle_stage=LifecycleStage.ACTIVE,
            )
        )
        _write_tags(conn, model_id, tag_items)
        _write_params(conn, model_id, param_items)

    store._write(work)
    return get_logged_model(store, model_id)


def get_logged_model(
    store: SqlTrackingStore, model_id: str, allow_deleted: bool = False
) -> LoggedModel:
    """See :meth:`TrackingStore.get_logged_model`."""
    _check_model_id(model_id)

    def work(conn: Connection) -> LoggedModel:
        row = conn.execute(
            select(logged_models).where(logged_models.c.model_id == model_id)
        ).first()
        if row is None or (not allow_deleted and row.lifecycle_stage != LifecycleStage.ACTIVE):
            raise not_found(model_id)
        return load_models(conn, [row], store._resolve_location)[0]

    result: LoggedModel = store._read(work)
    return result


def finalize_logged_model(store: SqlTrackingStore, model_id: str, status: str | int) -> LoggedModel:
    """See :meth:`TrackingStore.finalize_logged_model`."""
    _check_model_id(model_id)
    name = validate_status(status)

    def work(conn: Connection, _fresh: dict[str, int]) -> None:
        _model_row(conn, model_id, writable=True)
        _touch(conn, model_id, status=name)

    store._write(work)
    return get_logged_model(store, model_id)


def delete_logged_model(store: SqlTrackingStore, model_id: str) -> None:
    """See :meth:`TrackingStore.delete_logged_model`."""
    _check_model_id(model_id)

    def work(conn: Connection, _fresh: dict[str, int]) -> None:
        row = _model_row(conn, model_id)
        if row.lifecycle_stage != LifecycleStage.DELETED:
            now = now_ms()
            _touch(conn, model_id, lifecycle_stage=LifecycleStage.DELETED, deleted_time=now)

    store._write(work)


def set_logged_model_tags(store: SqlTrackingStore, model_id: str, tags: KeyValues) -> None:
    """See :meth:`TrackingStore.set_logged_model_tags`."""
    _check_model_id(model_id)
    items = _tag_items(tags)

    def work(conn: Connection, _fresh: dict[str, int]) -> None:
        _model_row(conn, model_id, writable=True)
        if items:
            _write_tags(conn, model_id, items)
            _touch(conn, model_id)

    store._write(work)


def delete_logged_model_tag(store: SqlTrackingStore, model_id: str, key: str) -> None:
    """See :meth:`TrackingStore.delete_logged_model_tag`."""
    _check_model_id(model_id)

    def work(conn: Connection, _fresh: dict[str, int]) -> None:
        _model_row(conn, model_id, writable=True)
        t = logged_model_tags
        deleted = conn.execute(delete(t).where(t.c.model_id == model_id, t.c.key == key))
        if deleted.rowcount == 0:
            raise ResourceNotFound(
                f"Logged model {model_id!r} has no tag {key!r}", model_id=model_id, key=key
            )
        _touch(conn, model_id)

    store._write(work)


def log_logged_model_params(store: SqlTrackingStore, model_id: str, params: KeyValues) -> None:
    """See :meth:`TrackingStore.log_logged_model_params`."""
    _check_model_id(model_id)
    items = _param_items(params)

    def work(conn: Connection, _fresh: dict[str, int]) -> None:
        _model_row(conn, model_id, writable=True)
        if items:
            _write_params(conn, model_id, items)
            _touch(conn, model_id)

    store._write(work)


def _write_tags(conn: Connection, model_id: str, items: dict[str, str]) -> None:
    if items:
        conn.execute(
            _UPSERT_TAG,
            [{"model_id": model_id, "key": k, "value": val} for k, val in items.items()],
        )


def _write_params(conn: Connection, model_id: str, items: dict[str, str]) -> None:
    """Insert params: the same value again is a no-op, another value raises
    ParamValueChanged (and the caller's transaction rolls back)."""
    if not items:
        return
    p = logged_model_params
    rows = conn.execute(select(p.c.key, p.c.value).where(p.c.model_id == model_id))
    existing: dict[str, str] = {row[0]: row[1] for row in rows}
    for key, value in items.items():
        old = existing.get(key)
        if old is not None and old != value:
            raise ParamValueChanged(
                f"Changing param values is not allowed. Param {key!r} of logged model "
                f"{model_id!r} was already logged with value {old!r}; the new value is "
                f"{value!r}.",
                model_id=model_id,
                key=key,
            )
    fresh = [{"model_id": model_id, "key": k, "value": val} for k, val in items.items()]
    fresh = [row for row in fresh if row["key"] not in existing]
    if fresh:
        conn.execute(insert(p), fresh)


# -- runs: outputs and metrics logged against models ----------------------------------------


def log_outputs(store: SqlTrackingStore, run_id: str, models: Sequence[ModelOutput]) -> None:
    """See :meth:`TrackingStore.log_outputs`."""
    outputs = [(_check_model_id(m.model_id), v.validate_step("step", m.step)) for m in models]

    def work(conn: Connection, _fresh: dict[str, int]) -> None:
        run_pk = store._run_pk(conn, run_id, writable=True)
        for model_id, _step in outputs:
            _model_row(conn, model_id)
        if outputs:
            conn.execute(
                _INSERT_OUTPUT,
                [{"run_pk": run_pk, "model_id": i, "step": step} for i, step in outputs],
            )

    store._write(work)


def log_model_inputs(store: SqlTrackingStore, run_id: str, models: Sequence[ModelInput]) -> None:
    """See :meth:`TrackingStore.log_inputs` (its ``models``)."""
    model_ids = sorted({_check_model_id(m.model_id) for m in models})

    def work(conn: Connection, _fresh: dict[str, int]) -> None:
        run_pk = store._run_pk(conn, run_id, writable=True)
        for model_id in model_ids:
            _model_row(conn, model_id)
        conn.execute(_INSERT_MODEL_INPUT, [{"run_pk": run_pk, "model_id": i} for i in model_ids])

    if model_ids:
        store._write(work)


#: A validated metric point for a model: (model_id, key, value, timestamp, step, dataset_name,
#: dataset_digest).
ModelPoint = tuple[str, str, float, int, int, str | None, str | None]


def model_points(metrics: Iterable[Metric]) -> list[ModelPoint]:
    """The points of ``metrics`` that carry a ``model_id``, validated (InvalidParameter)."""
    points: list[ModelPoint] = []
    for m in metrics:
        if m.model_id is None:
            continue
        _check_model_id(m.model_id)
        for what, value, limit in (
            ("dataset_name", m.dataset_name, 500),
            ("dataset_digest", m.dataset_digest, 36),
        ):
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                raise InvalidParameter(
                    f"Invalid {what} {value!r} for metric {m.key!r}: a string of at most "
                    f"{limit} characters"
                )
        points.append(
            (
                m.model_id,
                v.validate_metric_key(m.key),
                v.validate_metric_value(m.key, m.value),
                v.validate_timestamp(m.key, m.timestamp),
                v.validate_step(m.key, m.step),
                m.dataset_name,
                m.dataset_digest,
            )
        )
    return points


def insert_model_points(conn: Connection, run_id: str, points: Sequence[ModelPoint]) -> None:
    """Record points against their models, inside the caller's write transaction.

    Raises ResourceNotFound for an unknown model, InvalidParameter for a deleted one.
    """
    for model_id in dict.fromkeys(p[0] for p in points):
        _model_row(conn, model_id, writable=True)
    conn.execute(
        _INSERT_METRIC,
        [
            {
                "model_id": model_id,
                "key": key,
                "value": None if math.isnan(value) else value,
                "timestamp": timestamp,
                "step": step,
                "run_id": run_id,
                "dataset_name": dataset_name,
                "dataset_digest": dataset_digest,
            }
            for model_id, key, value, timestamp, step, dataset_name, dataset_digest in points
        ],
    )


def deleted_logged_model_ids(store: SqlTrackingStore, older_than_ms: int | None) -> list[str]:
    """See :meth:`TrackingStore.deleted_logged_model_ids`."""
    m = logged_models.c
    stmt = select(m.model_id).where(m.lifecycle_stage == LifecycleStage.DELETED)
    if older_than_ms is not None:
        stmt = stmt.where(m.deleted_time <= now_ms() - older_than_ms)
    ids: list[str] = store._read(
        lambda conn: list(conn.execute(stmt.order_by(m.model_id)).scalars())
    )
    return ids


#: Every table holding rows of a logged model, emptied before the model's own row goes.
_MODEL_TABLES = (
    run_outputs,
    run_model_inputs,
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
)


def purge_logged_model(store: SqlTrackingStore, model_id: str) -> None:
    """See :meth:`TrackingStore.purge_logged_model`."""
    _check_model_id(model_id)

    def work(conn: Connection, _fresh: dict[str, int]) -> None:
        if _model_row(conn, model_id).lifecycle_stage != LifecycleStage.DELETED:
            raise InvalidState(
                f"Logged model {model_id!r} is not deleted; gc only removes deleted models"
            )
        for table in _MODEL_TABLES:
            conn.execute(delete(table).where(table.c.model_id == model_id))
        conn.execute(delete(logged_models).where(logged_models.c.model_id == model_id))

    store._write(work)


def purge_experiment_models(conn: Connection, experiment_pk: int) -> None:
    """Remove every logged model of an experiment being purged, with all they hold."""
    ids = select(logged_models.c.model_id).where(logged_models.c.experiment_id == experiment_pk)
    for table in _MODEL_TABLES:
        conn.execute(delete(table).where(table.c.model_id.in_(ids)))
    conn.execute(delete(logged_models).where(logged_models.c.experiment_id == experiment_pk))


# -- search ---------------------------------------------------------------------------------


def search_logged_models(
    store: SqlTrackingStore,
    experiment_ids: Sequence[str],
    filter_string: str | None = None,
    datasets: Sequence[Mapping[str, Any]] | None = None,
    max_results: int | None = None,
    order_by: Sequence[str | Mapping[str, Any]] | None = None,
    page_token: str | None = None,
) -> PagedList[LoggedModel]:
    """See :meth:`TrackingStore.search_logged_models`."""
    limit = v.validate_max_results(DEFAULT_MAX_RESULTS if max_results is None else max_results)
    offset = search.decode_page_token(page_token)
    # No model belongs to an experiment id that cannot exist: such ids are left out.
    exp_pks = [pk for pk in map(v.int64_or_none, experiment_ids) if pk is not None]
    stmt = model_search.statement(store.dialect, exp_pks, filter_string, datasets, order_by)
    stmt = search.paginate(stmt, offset, limit)

    def work(conn: Connection) -> PagedList[LoggedModel]:
        rows = conn.execute(stmt).all()
        page = load_models(conn, rows[:limit], store._resolve_location)
        token = search.encode_page_token(offset + limit) if len(rows) > limit else None
        return PagedList(page, token)

    result: PagedList[LoggedModel] = store._read(work)
    return result


# -- loading --------------------------------------------------------------------------------


def load_models(
    conn: Connection, rows: Sequence[Any], resolve: Callable[[str], str]
) -> list[LoggedModel]:
    """Models with their tags, params and metrics, from rows of ``logged_models``.

    ``resolve`` turns a stored artifact location into the URI handed out.
    """
    ids = [r.model_id for r in rows]
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    metrics: dict[str, list[Metric]] = {i: [] for i in ids}
    t, p, m = logged_model_tags, logged_model_params, logged_model_metrics
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for model_id, key, value in conn.execute(
            select(t.c.model_id, t.c.key, t.c.value).where(t.c.model_id.in_(chunk))
        ):
            tags[model_id][key] = value
        for model_id, key, value in conn.execute(
            select(p.c.model_id, p.c.key, p.c.value).where(p.c.model_id.in_(chunk))
        ):
            params[model_id][key] = value
        for row in conn.execute(
            select(m)
            .where(m.c.model_id.in_(chunk))
            .order_by(m.c.model_id, m.c.key, m.c.step, m.c.timestamp, m.c.run_id)
        ):
            metrics[row.model_id].append(
                Metric(
                    row.key,
                    nan_safe(row.value),
                    row.timestamp,
                    row.step,
                    row.run_id,
                    row.dataset_name,
                    row.dataset_digest,
                    row.model_id,
                )
            )
    return [
        LoggedModel(
            model_id=r.model_id,
            experiment_id=str(r.experiment_id),
            name=r.name,
            artifact_uri=resolve(r.artifact_location),
            creation_timestamp_ms=r.creation_timestamp_ms,
            last_updated_timestamp_ms=r.last_updated_timestamp_ms,
            status=r.status,
            creator_id=r.creator_id,
            model_type=r.model_type,
            source_run_id=r.source_run_id,
            status_message=r.status_message,
            tags=FrozenDict(tags[r.model_id]),
            params=FrozenDict(params[r.model_id]),
            metrics=tuple(metrics[r.model_id]),
            registrations=_registrations(tags[r.model_id].get(MODEL_VERSIONS_TAG)),
            lifecycle_stage=r.lifecycle_stage,
        )
        for r in rows
    ]


def _registrations(tag: str | None) -> tuple[LoggedModelRegistration, ...]:
    """The versions listed in MLflow's ``mlflow.modelVersions`` tag; nothing if malformed."""
    if not tag:
        return ()
    try:
        items = json.loads(tag)
        return tuple(
            LoggedModelRegistration(str(item["name"]), str(item["version"])) for item in items
        )
    except (ValueError, TypeError, KeyError):
        return ()
