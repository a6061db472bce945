"""Reading metric history out of column blocks, in step order.

>>> series = read_series(conn, run_pk, key_id)       # doctest: +SKIP
>>> series.steps[:3], series.values[:3]              # doctest: +SKIP
"""

from __future__ import annotations

import operator
from array import array
from dataclasses import dataclass
from itertools import islice

from sqlalchemy import Connection, select

from cairn.store.sql import blocks
from cairn.store.sql.schema import metric_blocks


@dataclass(frozen=True, slots=True)
class Series:
    """One metric series as parallel arrays, ordered by step, then timestamp, then write
    order."""

    steps: array[int]
    timestamps: array[int]
    values: array[float]

    def __len__(self) -> int:
        return len(self.steps)


def read_series(
    conn: Connection,
    run_pk: int,
    key_id: int,
    min_step: int | None = None,
    max_step: int | None = None,
) -> Series:
    """Every point of a series (or those with ``min_step <= step <= max_step``)."""
    mb = metric_blocks
    stmt = (
        select(mb.c.steps, mb.c.timestamps, mb.c["values"])
        .where(mb.c.run_pk == run_pk, mb.c.key_id == key_id)
        .order_by(mb.c.first_index)
    )
    if min_step is not None:
        stmt = stmt.where(mb.c.max_step >= min_step)
    if max_step is not None:
        stmt = stmt.where(mb.c.min_step <= max_step)
    steps: array[int] = array("q")
    timestamps: array[int] = array("q")
    values: array[float] = array("d")
    for step_blob, time_blob, value_blob in conn.execute(stmt):
        s, t, v = blocks.unpack(step_blob, time_blob, value_blob)
        steps.extend(s)
        timestamps.extend(t)
        values.extend(v)
    if min_step is not None or max_step is not None:
        low = min_step if min_step is not None else -(2**63)
        high = max_step if max_step is not None else 2**63 - 1
        keep = [i for i, s in enumerate(steps) if low <= s <= high]
        if len(keep) != len(steps):
            steps, timestamps, values = _take(steps, timestamps, values, keep)
    if not _in_order(steps, timestamps):
        order = sorted(range(len(steps)), key=lambda i: (steps[i], timestamps[i]))
        steps, timestamps, values = _take(steps, timestamps, values, order)
    return Series(steps, timestamps, values)


def _in_order(steps: array[int], timestamps: array[int]) -> bool:
    # The common case, steps logged in increasing order, is checked at C speed.
    if all(map(operator.lt, steps, islice(steps, 1, None))):
        return True
    pairs = list(zip(steps, timestamps, strict=True))
    return all(map(operator.le, pairs, islice(pairs, 1, None)))


def _take(
    steps: array[int], timestamps: array[int], values: array[float], order: list[int]
) -> tuple[array[int], array[int], array[float]]:
    return (
        array("q", [steps[i] for i in order]),
        array("q", [timestamps[i] for i in order]),
        array("d", [values[i] for i in order]),
    )
