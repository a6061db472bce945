"""Compile parsed search filters and orderings to SQL.

Filters become ``EXISTS`` subqueries against the narrow tables, so the database does the
filtering and nothing is loaded into Python to be discarded. Metric comparisons read the
per-(run, key) summary, never the history. Orderings become outer joins, with missing (and NaN)
values last in either direction.

Patterns: ``%`` matches any run of characters, ``_`` one character, and a backslash makes the
next character literal (``'100\\%'``), on every backend. SQLite's ``LIKE`` ignores case, so
a case-sensitive ``LIKE`` is compiled to ``GLOB`` there.
"""

from __future__ import annotations

import base64
import binascii
import json
import operator
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    and_,
    exists,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.sql.expression import UnaryExpression

from cairn.errors import InvalidParameter
from cairn.search.ast import Comparison, Identifier, OrderKey
from cairn.store.sql.schema import (
    datasets,
    experiment_tags,
    experiments,
    keys,
    metric_summaries,
    params,
    run_inputs,
    runs,
    tags,
)
from cairn.validation import int64_or_none

_SUMMARY_COLUMN = {
    "latest": "latest_value",
    "min": "min_value",
    "max": "max_value",
    "count": "count",
}
_RUN_ATTRIBUTE_COLUMN = {
    "run_id": runs.c.run_uuid,
    "run_name": runs.c.name,
    "user_id": runs.c.user_id,
    "status": runs.c.status,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
    "duration": (runs.c.end_time - runs.c.start_time).label("duration"),
    "lifecycle_stage": runs.c.lifecycle_stage,
}
_EXPERIMENT_ATTRIBUTE_COLUMN = {
    "name": experiments.c.name,
    "experiment_id": experiments.c.id,
    "creation_time": experiments.c.creation_time,
    "last_update_time": experiments.c.last_update_time,
}


def like_to_glob(pattern: str) -> str:
    r"""Translate a LIKE pattern (``\`` escapes ``%``, ``_`` and itself) to an equivalent,
    case-sensitive GLOB pattern.

    >>> like_to_glob(r"run_%[1]*\%")
    'run?*[[]1][*]%'
    """
    out = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "\\":
            ch = next(chars, "\\")
            out.append(f"[{ch}]" if ch in "*?[" else ch)
        elif ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    return "".join(out)


def _key_id(name: str) -> Any:
    return select(keys.c.id).where(keys.c.name == name).scalar_subquery()


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _compare(column: Any, op: str, value: Any, dialect: str) -> ColumnElement[bool]:
    binary = _BINARY.get(op)
    if binary is not None:
        result = binary(column, value)
    elif op == "LIKE":
        # SQLite's LIKE ignores case; GLOB is its case-sensitive twin.
        result = (
            column.op("GLOB")(like_to_glob(value)) if dialect == "sqlite" else column.like(value)
        )
    elif op == "ILIKE":
        result = column.ilike(value)
    elif op == "IN":
        result = column.in_(list(value))
    elif op == "NOT IN":
        result = column.not_in(list(value))
    else:
        raise InvalidParameter(f"Unsupported comparison operator {op!r}")
    return cast("ColumnElement[bool]", result)


class RunSearchCompiler:
    """Builds the SQL of a run search for one dialect.

    ``relative_artifact_uri`` turns an artifact URI from a filter into the stored form (the
    store keeps locations relative to its artifact root); ``artifact_uri_sql`` is the SQL
    expression of a run's stored artifact URI.
    """

    def __init__(
        self,
        dialect: str,
        relative_artifact_uri: Callable[[str], str],
    ) -> None:
        self.dialect = dialect
        self._relative_artifact_uri = relative_artifact_uri

    def artifact_uri_sql(self) -> Any:
        location = (
            select(experiments.c.artifact_location)
            .where(experiments.c.id == runs.c.experiment_id)
            .scalar_subquery()
        )
        return location + literal("/") + runs.c.run_uuid + literal("/artifacts")

    def condition(self, comparison: Comparison) -> ColumnElement[bool]:
        ident, op, value = comparison.identifier, comparison.op, comparison.value
        if ident.entity == "metric":
            s = metric_summaries.alias()
            column = s.c[_SUMMARY_COLUMN[ident.aggregate]]
            compared = _compare(column, op, value, self.dialect)
            if op == "!=":  # NaN is stored as NULL, and NaN differs from every number
                compared = or_(compared, column.is_(None))
            return exists().where(
                s.c.run_pk == runs.c.pk,
                s.c.key_id == _key_id(ident.key),
                compared,
            )
        if ident.entity in ("param", "tag"):
            table = (params if ident.entity == "param" else tags).alias()
            has_key = and_(table.c.run_pk == runs.c.pk, table.c.key_id == _key_id(ident.key))
            if op == "IS NULL":
                return not_(exists().where(has_key))
            if op == "IS NOT NULL":
                return exists().where(has_key)
            return exists().where(has_key, _compare(table.c.value, op, value, self.dialect))
        if ident.entity == "dataset":
            ri, ds = run_inputs.alias(), datasets.alias()
            column = ri.c.context if ident.key == "context" else ds.c[ident.key]
            return exists().where(
                ri.c.run_pk == runs.c.pk,
                ds.c.id == ri.c.dataset_id,
                _compare(column, op, value, self.dialect),
            )
        return self._attribute_condition(ident, op, value)

    def _attribute_condition(self, ident: Identifier, op: str, value: Any) -> ColumnElement[bool]:
        if ident.key == "artifact_uri":
            if isinstance(value, tuple):
                value = tuple(self._relative_artifact_uri(v) for v in value)
            else:
                value = self._relative_artifact_uri(value)
            return _compare(self.artifact_uri_sql(), op, value, self.dialect)
        column = _RUN_ATTRIBUTE_COLUMN[ident.key]
        if op == "IS NULL":
            return column.is_(None)
        if op == "IS NOT NULL":
            return column.is_not(None)
        return _compare(column, op, value, self.dialect)

    def ordering(
        self, order_keys: Sequence[OrderKey], source: FromClause
    ) -> tuple[FromClause, list[UnaryExpression[Any]]]:
        """Outer-join what the ordering needs onto ``source``; return it and the ORDER BY."""
        clauses: list[UnaryExpression[Any]] = []
        ordered_by_start = False
        for key in order_keys:
            ident = key.identifier
            column: Any
            if ident.entity == "metric":
                s = metric_summaries.alias()
                source = source.outerjoin(
                    s, and_(s.c.run_pk == runs.c.pk, s.c.key_id == _key_id(ident.key))
                )
                column = s.c[_SUMMARY_COLUMN[ident.aggregate]]
            elif ident.entity in ("param", "tag"):
                table = (params if ident.entity == "param" else tags).alias()
                source = source.outerjoin(
                    table,
                    and_(table.c.run_pk == runs.c.pk, table.c.key_id == _key_id(ident.key)),
                )
                column = table.c.value
            elif ident.key == "artifact_uri":
                column = self.artifact_uri_sql()
            else:
                column = _RUN_ATTRIBUTE_COLUMN[ident.key]
                ordered_by_start = ordered_by_start or ident.key == "start_time"
            direction = column.asc() if key.ascending else column.desc()
            clauses.append(direction.nulls_last())
        if not ordered_by_start:
            clauses.append(runs.c.start_time.desc())
        clauses.append(runs.c.run_uuid.asc())
        return source, clauses


def experiment_condition(comparison: Comparison, dialect: str) -> ColumnElement[bool]:
    """SQL for one experiment filter comparison."""
    ident, op = comparison.identifier, comparison.op
    value: Any = comparison.value
    if ident.entity == "tag":
        t = experiment_tags.alias()
        has_key = and_(t.c.experiment_id == experiments.c.id, t.c.key == ident.key)
        if op == "IS NULL":
            return not_(exists().where(has_key))
        if op == "IS NOT NULL":
            return exists().where(has_key)
        return exists().where(has_key, _compare(t.c.value, op, value, dialect))
    column = _EXPERIMENT_ATTRIBUTE_COLUMN[ident.key]
    if ident.key == "experiment_id":
        # Ids that cannot exist (not integers, or beyond int64) match nothing.
        if isinstance(value, tuple):
            value = tuple(pk for pk in map(int64_or_none, value) if pk is not None)
        else:
            value = int64_or_none(value)
            if value is None:
                return true() if op in ("!=", "NOT IN") else not_(true())
    return _compare(column, op, value, dialect)


def experiment_ordering(order_keys: Sequence[OrderKey]) -> list[UnaryExpression[Any]]:
    clauses: list[UnaryExpression[Any]] = []
    for key in order_keys:
        column: Any = _EXPERIMENT_ATTRIBUTE_COLUMN[key.identifier.key]
        clauses.append((column.asc() if key.ascending else column.desc()).nulls_last())
    if not order_keys:
        clauses.append(experiments.c.creation_time.desc())
    clauses.append(experiments.c.id.asc())
    return clauses


def encode_page_token(offset: int) -> str:
    """An opaque token for the page starting at ``offset`` (base64 of ``{"offset": N}``)."""
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    """The offset in a page token; raises InvalidParameter for a malformed one."""
    if not token:
        return 0
    try:
        offset = json.loads(base64.b64decode(token, validate=True))["offset"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InvalidParameter(
            f"Invalid page token {token!r}: pass back the next_page_token of a previous search"
        ) from None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise InvalidParameter(f"Invalid page token {token!r}: bad offset")
    return offset


def paginate(stmt: Select[Any], offset: int, max_results: int) -> Select[Any]:
    """Fetch one row more than the page, to know whether another page follows."""
    return stmt.limit(max_results + 1).offset(offset)
