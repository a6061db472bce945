"""The parsed form of a search filter and an ``order_by`` clause.

One parser (:mod:`cairn.search.parser`) produces these for every store; each store compiles
them to its own query language (``cairn.store.sql.search`` compiles them to SQL).

Example: ``metrics.loss.min < 0.5 AND params.lr = '0.1'`` parses to::

    (Comparison(Identifier("metric", "loss", "min"), "<", 0.5),
     Comparison(Identifier("param", "lr"), "=", "0.1"))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: What an identifier refers to. Aliases in the text (``metric``, ``parameter``, ``attr``,
#: ``run``, ...) are normalized to these names by the parser.
Entity = Literal["metric", "param", "tag", "attribute", "dataset"]

#: For metrics: which value of the series a comparison or ordering uses. ``latest`` is what
#: MLflow compares; ``min``, ``max`` and ``count`` are cairn's extension
#: (``metrics.loss.min``), read from the per-(run, key) summary.
Aggregate = Literal["latest", "min", "max", "count"]

Operator = Literal[
    "=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"
]

#: A comparison's right-hand side: a number (metrics, numeric attributes), a string, a tuple
#: of strings (IN / NOT IN) or None (IS NULL / IS NOT NULL).
Value = float | int | str | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Identifier:
    """``<entity>.<key>``; ``key`` is unquoted and, for attributes, the canonical name
    (``created`` becomes ``start_time``, ``run name`` becomes ``run_name``)."""

    entity: Entity
    key: str
    aggregate: Aggregate = "latest"


@dataclass(frozen=True, slots=True)
class Comparison:
    identifier: Identifier
    op: Operator
    value: Value
    #: 0-based offset of the comparison in the filter text, for error messages.
    position: int = 0


@dataclass(frozen=True, slots=True)
class OrderKey:
    identifier: Identifier
    ascending: bool = True
