"""Compile a logged-model search (MLflow 3.x's SearchLoggedModels) to one SQL statement.

The filter uses the ``logged_models`` target of :mod:`cairn.search.parser`. As in MLflow:

* a metric comparison applies to the model's *latest* value of that metric (largest step,
  then timestamp, then value), counting only points on the ``datasets`` given, if any;
* with ``datasets`` and no metric comparison, a model must have a metric on one of them;
* ``order_by`` is structured: ``{"field_name", "ascending", "dataset_name",
  "dataset_digest"}`` (a plain ``"<identifier> [ASC|DESC]"`` string works too). Metric keys
  order by the same latest value, optionally scoped to one dataset; missing values come last.
  Ties break by ``creation_timestamp DESC``, then ``model_id``.

Status values may be written ``'READY'`` or ``'LOGGED_MODEL_READY'``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    Subquery,
    and_,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.sql.expression import UnaryExpression

from cairn.entities import LifecycleStage, LoggedModelStatus
from cairn.errors import InvalidFilter, InvalidParameter
from cairn.search.ast import Comparison, OrderKey
from cairn.search.parser import parse_filter, parse_order_by
from cairn.store.sql.schema import (
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
)
from cairn.store.sql.search import _compare

_lm = logged_models
_ATTRIBUTE_COLUMN: dict[str, Any] = {
    "name": _lm.c.name,
    "model_id": _lm.c.model_id,
    "model_type": _lm.c.model_type,
    "source_run_id": _lm.c.source_run_id,
    "status": _lm.c.status,
    "creation_timestamp": _lm.c.creation_timestamp_ms,
    "last_updated_timestamp": _lm.c.last_updated_timestamp_ms,
}


def statement(
    dialect: str,
    experiment_pks: Sequence[int],
    filter_string: str | None,
    datasets: Sequence[Mapping[str, Any]] | None,
    order_by: Sequence[str | Mapping[str, Any]] | None,
) -> Select[Any]:
    """The ordered ``SELECT`` of matching, active models of these experiments (unpaged).

    Raises InvalidFilter for a filter or ordering that does not parse, InvalidParameter for a
    malformed ``datasets`` or ``order_by`` item.
    """
    comparisons = parse_filter(filter_string, "logged_models")
    orderings = [_order_item(item) for item in order_by or ()]
    on_datasets = _datasets_condition(datasets)
    conditions: list[ColumnElement[bool]] = [
        _lm.c.experiment_id.in_(list(experiment_pks)),
        _lm.c.lifecycle_stage == LifecycleStage.ACTIVE,
    ]
    scope = list(experiment_pks)
    for comparison in comparisons:
        conditions.append(_condition(comparison, dialect, on_datasets, scope))
    if on_datasets is not None and not any(c.identifier.entity == "metric" for c in comparisons):
        m = logged_model_metrics
        conditions.append(exists().where(m.c.model_id == _lm.c.model_id, on_datasets))
    source, clauses = _ordering(orderings, on_datasets, scope)
    return select(_lm).select_from(source).where(*conditions).order_by(*clauses)


def _datasets_condition(
    datasets: Sequence[Mapping[str, Any]] | None,
) -> ColumnElement[bool] | None:
    if not datasets:
        return None
    m = logged_model_metrics
    alternatives = []
    for item in datasets:
        name = item.get("dataset_name") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name:
            raise InvalidParameter(
                f"Invalid dataset {item!r} in datasets: each needs a dataset_name "
                "(and may give a dataset_digest)"
            )
        digest = item.get("dataset_digest")
        match = m.c.dataset_name == name
        alternatives.append(and_(match, m.c.dataset_digest == digest) if digest else match)
    return or_(*alternatives)


def _latest_metric(key: str, filters: Sequence[ColumnElement[bool]], scope: list[int]) -> Subquery:
    """``(model_id, value)`` of each model's latest point of metric ``key``."""
    m = logged_model_metrics
    in_scope = logged_models.alias()
    rank = func.row_number().over(
        partition_by=m.c.model_id,
        order_by=(m.c.step.desc(), m.c.timestamp.desc(), m.c.value.desc().nulls_last()),
    )
    ranked = (
        select(m.c.model_id, m.c.value, rank.label("rank"))
        .where(
            m.c.key == key,
            m.c.model_id.in_(
                select(in_scope.c.model_id).where(in_scope.c.experiment_id.in_(scope))
            ),
            *filters,
        )
        .subquery()
    )
    return select(ranked.c.model_id, ranked.c.value).where(ranked.c.rank == 1).subquery()


def _condition(
    comparison: Comparison,
    dialect: str,
    on_datasets: ColumnElement[bool] | None,
    scope: list[int],
) -> ColumnElement[bool]:
    ident, op, value = comparison.identifier, comparison.op, comparison.value
    if ident.entity == "metric":
        latest = _latest_metric(ident.key, [] if on_datasets is None else [on_datasets], scope)
        matching = select(latest.c.model_id).where(_compare(latest.c.value, op, value, dialect))
        return _lm.c.model_id.in_(matching)
    if ident.entity in ("param", "tag"):
        table = (logged_model_params if ident.entity == "param" else logged_model_tags).alias()
        return exists().where(
            table.c.model_id == _lm.c.model_id,
            table.c.key == ident.key,
            _compare(table.c.value, op, value, dialect),
        )
    if ident.key == "status":
        value = _status_value(value, comparison)
    return _compare(_ATTRIBUTE_COLUMN[ident.key], op, value, dialect)


def _status_value(value: Any, comparison: Comparison) -> Any:
    try:
        if isinstance(value, tuple):
            return tuple(LoggedModelStatus.from_string(s).name for s in value)
        return LoggedModelStatus.from_string(value).name
    except ValueError as err:
        raise InvalidFilter(
            f"Invalid filter: {err}", position=comparison.position, token=str(value)
        ) from None


def _order_item(item: str | Mapping[str, Any]) -> tuple[OrderKey, str | None, str | None]:
    """An ordering and the dataset (name, digest) its metric is scoped to."""
    if isinstance(item, str):
        return parse_order_by([item], "logged_models")[0], None, None
    field_name = item.get("field_name") if isinstance(item, Mapping) else None
    if not isinstance(field_name, str) or not field_name:
        raise InvalidParameter(
            f"Invalid order_by item {item!r}: it needs a field_name, such as "
            "'creation_timestamp' or 'metrics.accuracy'"
        )
    ascending = item.get("ascending")
    if ascending is not None and not isinstance(ascending, bool):
        raise InvalidParameter(f"Invalid order_by item {item!r}: ascending must be a boolean")
    key = parse_order_by([field_name], "logged_models")[0]
    key = OrderKey(key.identifier, key.ascending and ascending is not False)
    return key, item.get("dataset_name") or None, item.get("dataset_digest") or None


def _ordering(
    orderings: Sequence[tuple[OrderKey, str | None, str | None]],
    on_datasets: ColumnElement[bool] | None,
    scope: list[int],
) -> tuple[FromClause, list[UnaryExpression[Any]]]:
    source: FromClause = _lm
    clauses: list[UnaryExpression[Any]] = []
    seen: set[str] = set()
    m = logged_model_metrics
    for key, dataset_name, dataset_digest in orderings:
        ident = key.identifier
        column: Any
        if ident.entity == "metric":
            filters = [] if on_datasets is None else [on_datasets]
            if dataset_name:
                filters.append(m.c.dataset_name == dataset_name)
            if dataset_digest:
                filters.append(m.c.dataset_digest == dataset_digest)
            latest = _latest_metric(ident.key, filters, scope)
            source = source.outerjoin(latest, latest.c.model_id == _lm.c.model_id)
            column = latest.c.value
        elif ident.entity in ("param", "tag"):
            table = (logged_model_params if ident.entity == "param" else logged_model_tags).alias()
            source = source.outerjoin(
                table, and_(table.c.model_id == _lm.c.model_id, table.c.key == ident.key)
            )
            column = table.c.value
        else:
            column = _ATTRIBUTE_COLUMN[ident.key]
            seen.add(ident.key)
        clauses.append((column.asc() if key.ascending else column.desc()).nulls_last())
    if "creation_timestamp" not in seen:
        clauses.append(_lm.c.creation_timestamp_ms.desc())
    if "model_id" not in seen:
        clauses.append(_lm.c.model_id.asc())
    return source, clauses
