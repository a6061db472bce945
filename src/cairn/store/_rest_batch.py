"""Log-batch requests within the protocol's limits, and what a failed call already delivered.

**Splitting.** One log-batch request carries at most 1000 metrics, 100 params, 100 tags and
1000 items in all (§6 of the protocol reference). :func:`requests_for` puts a call's params
and tags first, all params in the first request when there are at most 100 (so a changed
param fails that request, before anything else of the call is written), then fills requests
with metrics. A call that fits one request is one request, so it stays atomic.

**Delivered.** When a write call fails halfway (some requests sent, or kept in the spool),
the background writer does not give up on the whole call: it writes the call again in parts,
one per run or one per original logging call (``AsyncWriter._write_batches`` and
``_write_run_items``). :class:`Delivered` remembers what the failed call already delivered,
so those parts (and whole calls the writer repeats after a transient failure) send only what
is still missing, and no metric point arrives twice.

    >>> items = RunItems("r1", metrics=[{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}])
    >>> [len(body["metrics"]) for body in requests_for(items)]
    [1]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cairn.validation import MAX_BATCH_ITEMS, MAX_BATCH_METRICS, MAX_BATCH_PARAMS, MAX_BATCH_TAGS

__all__ = ["Delivered", "RunItems", "requests_for"]

#: One metric point, param or tag of one run, as a hashable value.
Atom = tuple[Any, ...]


@dataclass
class RunItems:
    """What one call logs to one run: protocol metric objects, param and tag pairs."""

    run_id: str
    metrics: list[dict[str, Any]] = field(default_factory=list)
    params: list[tuple[str, str]] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.metrics or self.params or self.tags)


def _body(run_id: str, metrics: Any, params: Any, tags: Any) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "metrics": list(metrics),
        "params": [{"key": k, "value": v} for k, v in params],
        "tags": [{"key": k, "value": v} for k, v in tags],
    }


def requests_for(items: RunItems) -> list[dict[str, Any]]:
    """The log-batch request bodies for ``items``; none if it holds nothing."""
    bodies = []
    m = p = t = 0
    metrics, params, tags = items.metrics, items.params, items.tags
    while m < len(metrics) or p < len(params) or t < len(tags):
        chunk_p = params[p : p + MAX_BATCH_PARAMS]
        chunk_t = tags[t : t + MAX_BATCH_TAGS]
        room = min(MAX_BATCH_METRICS, MAX_BATCH_ITEMS - len(chunk_p) - len(chunk_t))
        chunk_m = metrics[m : m + room]
        bodies.append(_body(items.run_id, chunk_m, chunk_p, chunk_t))
        m, p, t = m + len(chunk_m), p + len(chunk_p), t + len(chunk_t)
    return bodies


def _metric_atom(run_id: str, metric: dict[str, Any]) -> Atom:
    return ("m", run_id, *sorted(metric.items()))


def _atoms(items: RunItems) -> Iterable[Atom]:
    for metric in items.metrics:
        yield _metric_atom(items.run_id, metric)
    for key, value in items.params:
        yield ("p", items.run_id, key, value)
    for key, value in items.tags:
        yield ("t", items.run_id, key, value)


class Delivered:
    """What a failed write call delivered (sent, or kept in the spool) before it failed.

    Args:
        items: everything the call was asked to write.
        bodies: the log-batch requests of it that were delivered.
    """

    def __init__(self, items: Sequence[RunItems], bodies: Sequence[dict[str, Any]]) -> None:
        self._members = {atom for it in items for atom in _atoms(it)}
        self._metrics: Counter[Atom] = Counter()
        self._params: set[Atom] = set()
        self._tags: dict[tuple[str, str], str] = {}
        self.add(bodies)

    def add(self, bodies: Sequence[dict[str, Any]]) -> None:
        """Record more delivered requests (of a part that failed again after sending some)."""
        for body in bodies:
            run_id = body["run_id"]
            self._metrics.update(_metric_atom(run_id, m) for m in body["metrics"])
            self._params.update(("p", run_id, p["key"], p["value"]) for p in body["params"])
            self._tags.update(((run_id, t["key"]), t["value"]) for t in body["tags"])

    def overlaps(self, items: Sequence[RunItems]) -> bool:
        """Whether ``items`` is (part of) the failed call, written again."""
        return any(atom in self._members for it in items for atom in _atoms(it))

    def remainder(self, items: Sequence[RunItems]) -> list[RunItems]:
        """``items`` without what was delivered.

        A point logged n times in ``items`` is dropped as often as it was delivered, at most
        n times (the record is not used up: the writer may repeat a whole call more than once).
        A tag is dropped only if the same value was delivered last for its key; otherwise it
        is sent and becomes the last one. The writer repeats calls in their original order,
        so the last value logged for a tag is also the last one delivered.
        """
        budget = Counter(self._metrics)
        rest = []
        for it in items:
            left = RunItems(it.run_id)
            for metric in it.metrics:
                atom = _metric_atom(it.run_id, metric)
                if budget[atom] > 0:
                    budget[atom] -= 1
                else:
                    left.metrics.append(metric)
            left.params = [
                (k, v) for k, v in it.params if ("p", it.run_id, k, v) not in self._params
            ]
            for key, value in it.tags:
                if self._tags.get((it.run_id, key)) != value:
                    self._tags[(it.run_id, key)] = value
                    left.tags.append((key, value))
            if left:
                rest.append(left)
        return rest
