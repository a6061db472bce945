"""The background writer: logging calls enqueue, one thread per store writes in batches.

DESIGN decision 4. A ``log_*`` call validates its input, appends a tuple to a deque and returns;
that costs about a microsecond, so logging never slows training down. A daemon thread wakes at
least every ``CAIRN_FLUSH_INTERVAL`` seconds (default 1), or as soon as the queue passes a high
water mark, drains the queue and writes everything in a handful of transactions.

Guarantees:

* **Order.** Items are written in the order they were queued. A marker queued by
  :meth:`AsyncWriter.flush` is released only once everything before it is committed.
* **Errors are never silent.** A failed write is recorded and raised, as
  :class:`~cairn.errors.AsyncLoggingError` chained to the cause, at the next logging call, at
  :meth:`flush` or at ``end_run``. Items rejected by the store (a deleted run, a changed param)
  are dropped after being reported; items that failed for a reason that may pass (the database
  unreachable) stay queued and are retried.
* **Exit.** Queues are flushed at interpreter exit (``atexit``) and on SIGTERM, before the
  signal's previous disposition applies. A hard kill (SIGKILL, power loss) loses at most what
  was queued since the last flush: about one second of logging.
* **Fork.** A forked child starts with an empty queue (the parent writes its own items) and
  its own thread and connections.

    >>> writer = AsyncWriter(store)  # doctest: +SKIP
    >>> writer.put_metric(run_id, "loss", 0.5, 1_700_000_000_000, 0)  # doctest: +SKIP
    >>> writer.flush()  # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import collections
import functools
import logging
import os
import signal
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from cairn.entities import Metric, Param, RunTag
from cairn.errors import AsyncLoggingError, CairnError, ParamValueChanged, StoreError
from cairn.store.base import MetricPoint, TrackingStore

log = logging.getLogger("cairn.writer")

FLUSH_INTERVAL = float(os.environ.get("CAIRN_FLUSH_INTERVAL", "1.0"))
#: Wake the writer early once this many items wait.
HIGH_WATER = 50_000
#: Block logging callers (by flushing) once this many items wait, so memory stays bounded.
MAX_QUEUED = 2_000_000
#: Failures kept for reporting; later ones are only counted.
MAX_KEPT_ERRORS = 100
#: How long the SIGTERM handler waits for queued data to be written.
SIGNAL_FLUSH_TIMEOUT = 20.0


@dataclass(slots=True)
class _RunItems:
    """What one call logged to one run besides lone metrics: written all or nothing."""

    run_id: str
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    points: list[MetricPoint] = field(default_factory=list)


@dataclass(slots=True)
class _Call:
    """Any other store call that must happen in queue order (used at SIGTERM)."""

    fn: Callable[[], Any]


_OK, _REJECTED, _TRANSIENT = "ok", "rejected", "transient"


class _Marker:
    """Released by the writer once everything queued before it is written."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class AsyncWriter:
    """Queues log items for one store and writes them from a background thread."""

    def __init__(self, store: TrackingStore, flush_interval: float = FLUSH_INTERVAL) -> None:
        self.store = store
        self.flush_interval = flush_interval
        self._queue: collections.deque[Any] = collections.deque()
        self._wake = threading.Event()
        self._start_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._errors: list[BaseException] = []
        self._dropped_errors = 0
        self._closed = False
        # Params logged from this process, so a changed value fails at the call, not later.
        self._params: dict[str, dict[str, str]] = {}
        _live_writers.add(self)

    # -- the hot path -----------------------------------------------------------------------

    def put_metric(self, run_id: str, key: str, value: float, timestamp: int, step: int) -> None:
        """Queue one validated metric point."""
        if self._errors:
            self._raise_errors()
        if self._thread is None:
            self._ensure_thread()
        queue = self._queue
        queue.append((run_id, key, value, timestamp, step))
        if len(queue) > HIGH_WATER:
            self._on_high_water()

    def put_metrics(self, points: list[MetricPoint]) -> None:
        if self._errors:
            self._raise_errors()
        if self._thread is None:
            self._ensure_thread()
        self._queue.extend(points)
        if len(self._queue) > HIGH_WATER:
            self._on_high_water()

    def put_batch(
        self,
        run_id: str,
        params: dict[str, str],
        tags: dict[str, str],
        points: list[MetricPoint],
    ) -> None:
        """Queue params, tags and points of one run, to be written in one transaction. A
        param already logged from this process with another value raises ParamValueChanged
        here and now."""
        if self._errors:
            self._raise_errors()
        if params:
            self.check_params(run_id, params)
        self._queue.append(_RunItems(run_id, params, tags, points))
        self._ensure_thread()

    def seed_params(self, run_id: str, params: dict[str, str]) -> None:
        """Remember params already stored for a run, so changes fail at the call."""
        self._params.setdefault(run_id, {}).update(params)

    def check_params(self, run_id: str, params: dict[str, str]) -> None:
        """Raise ParamValueChanged if a param was logged with another value; else remember
        them."""
        known = self._params.setdefault(run_id, {})
        for key, value in params.items():
            old = known.get(key)
            if old is not None and old != value:
                raise ParamValueChanged(
                    f"Changing param values is not allowed. Param {key!r} of run {run_id!r} "
                    f"was already logged with value {old!r}; the new value is {value!r}.",
                    run_id=run_id,
                    key=key,
                )
        known.update(params)

    def forget_run(self, run_id: str) -> None:
        """Drop the param cache of a run that ended."""
        self._params.pop(run_id, None)

    def _on_high_water(self) -> None:
        self._ensure_thread()
        self._wake.set()
        if len(self._queue) > MAX_QUEUED:
            self.flush()

    # -- flushing ---------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> None:
        """Return once everything queued so far is written; raise what failed meanwhile.

        Raises AsyncLoggingError, or TimeoutError if ``timeout`` passes first.
        """
        if self._queue:
            marker = _Marker()
            self._queue.append(marker)
            self._ensure_thread()
            self._wake.set()
            if not marker.done.wait(timeout):
                raise TimeoutError(f"queued logging was not written within {timeout} s")
        else:
            # The queue may be empty because the writer has taken a batch and is writing it.
            if not self._write_lock.acquire(timeout=-1 if timeout is None else timeout):
                raise TimeoutError(f"queued logging was not written within {timeout} s")
            self._write_lock.release()
        if self._errors:
            self._raise_errors()
        # A store that keeps data aside while its server is away sends it now.
        sync = getattr(self.store, "sync", None)
        if callable(sync):
            sync()

    def request_flush(self) -> threading.Event:
        """Start a flush without waiting; the event is set once it is done."""
        marker = _Marker()
        self._queue.append(marker)
        self._ensure_thread()
        self._wake.set()
        return marker.done

    def call_in_order(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the writer thread after everything queued before it."""
        self._queue.append(_Call(fn))
        self._ensure_thread()

    def pending(self) -> int:
        return len(self._queue)

    def _raise_errors(self) -> None:
        errors, self._errors = self._errors, []
        dropped, self._dropped_errors = self._dropped_errors, 0
        first = errors[0]
        extra = len(errors) - 1 + dropped
        more = f" (and {extra} more failures)" if extra else ""
        raise AsyncLoggingError(f"A background logging write failed{more}: {first}") from first

    # -- the writer thread ------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="cairn-writer", daemon=True)
                self._thread.start()
                _install_signal_handler()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.write_pending()
            except BaseException as err:  # never let the thread die silently
                log.exception("cairn writer failed")
                self._errors.append(err)
            if self._closed and not self._queue:
                return

    def write_pending(self) -> None:
        """Drain the queue and write it (the writer thread calls this; so may exit hooks)."""
        with self._write_lock:
            queue = self._queue
            while queue:
                items = [queue.popleft() for _ in range(len(queue))]
                if not self._write_items(items):
                    # Something failed in a way that may pass (the database unreachable):
                    # leave the rest queued until the next round instead of spinning.
                    return

    def _write_items(self, items: list[Any]) -> bool:
        """Write ``items`` in order. Returns False if some failed transiently: those, and
        everything after them, go back to the front of the queue, in order; flush markers
        among them are released, so a waiting ``flush()`` raises the failure instead of
        hanging."""
        points: list[MetricPoint] = []
        run_items: list[_RunItems] = []
        for index, item in enumerate(items):
            kind = type(item)
            if kind is tuple:
                points.append(item)
            elif kind is _RunItems:
                run_items.append(item)
            else:
                retry = self._write_batches(points, run_items)
                points, run_items = [], []
                if retry:
                    self._requeue(retry + items[index:])
                    return False
                if kind is _Call:
                    self._attempt(item.fn)
                elif kind is _Marker:
                    item.done.set()
        retry = self._write_batches(points, run_items)
        if retry:
            self._requeue(retry)
            return False
        return True

    def _write_batches(self, points: list[MetricPoint], run_items: list[_RunItems]) -> list[Any]:
        """Write; return the items to retry later (those that failed transiently)."""
        retry: list[Any] = self._write_run_items(run_items)
        if not points:
            return retry
        outcome = self._attempt(functools.partial(self.store.log_metric_points, points))
        if outcome is _TRANSIENT:
            retry.extend(points)
        elif outcome is _REJECTED:
            by_run: dict[str, list[MetricPoint]] = {}
            for p in points:
                by_run.setdefault(p[0], []).append(p)
            if len(by_run) > 1:
                # One bad run (deleted meanwhile, say) must not sink the others' points:
                # write run by run, and report only what fails on its own.
                self._errors.pop()
                for run_points in by_run.values():
                    write = functools.partial(self.store.log_metric_points, run_points)
                    if self._attempt(write) is _TRANSIENT:
                        retry.extend(run_points)
        return retry

    def _write_run_items(self, calls: list[_RunItems]) -> list[_RunItems]:
        """Write each run's queued calls in one transaction; if the store rejects that, replay
        them one by one, so one bad call (a param changed by another process, say) costs only
        its own items. Returns the calls to retry later."""
        by_run: dict[str, list[_RunItems]] = {}
        for call in calls:
            by_run.setdefault(call.run_id, []).append(call)
        retry: list[_RunItems] = []
        for group in by_run.values():
            if len(group) > 1:
                merged = _merge(group)
                if merged is not None:
                    outcome = self._attempt(functools.partial(self._log_run_items, merged))
                    if outcome is _OK:
                        continue
                    if outcome is _TRANSIENT:
                        retry.extend(group)
                        continue
                    self._errors.pop()  # replayed below; report only what fails alone
            for call in group:
                if self._attempt(functools.partial(self._log_run_items, call)) is _TRANSIENT:
                    retry.append(call)
        return retry

    def _log_run_items(self, items: _RunItems) -> None:
        self.store.log_batch(
            items.run_id,
            metrics=[Metric(p[1], p[2], p[3], p[4]) for p in items.points],
            params=[Param(k, val) for k, val in items.params.items()],
            tags=[RunTag(k, val) for k, val in items.tags.items()],
        )

    def _attempt(self, fn: Callable[[], Any]) -> str:
        """Run ``fn``; record any failure. Returns _OK, _REJECTED (the store refused the
        data: reported and dropped) or _TRANSIENT (may pass: reported, to be retried)."""
        try:
            fn()
        except CairnError as err:
            self._record(err)
            return _TRANSIENT if isinstance(err, StoreError) else _REJECTED
        except Exception as err:
            self._record(err)
            return _TRANSIENT
        return _OK

    def _record(self, err: BaseException) -> None:
        # Keep the first failures with their details; a long outage must not grow memory.
        if len(self._errors) < MAX_KEPT_ERRORS:
            self._errors.append(err)
        else:
            self._dropped_errors += 1

    def _requeue(self, items: list[Any]) -> None:
        """Put items back in front of anything queued since, keeping their order; release
        the flush markers among them (their waiters see the recorded failure)."""
        kept = []
        for item in items:
            if type(item) is _Marker:
                item.done.set()
            else:
                kept.append(item)
        self._queue.extendleft(reversed(kept))

    def close(self, timeout: float | None = 30.0) -> None:
        """Flush and stop the thread."""
        try:
            self.flush(timeout)
        finally:
            self._closed = True
            self._wake.set()

    def _after_fork_in_child(self) -> None:
        self._queue = collections.deque()
        self._wake = threading.Event()
        self._start_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._thread = None
        self._errors = []
        self._dropped_errors = 0


def _merge(calls: list[_RunItems]) -> _RunItems | None:
    """One run's calls as one batch, or None if two of them log a param differently."""
    merged = _RunItems(calls[0].run_id)
    for call in calls:
        for key, value in call.params.items():
            if merged.params.setdefault(key, value) != value:
                return None
        merged.tags.update(call.tags)
        merged.points.extend(call.points)
    return merged


_live_writers: weakref.WeakSet[AsyncWriter] = weakref.WeakSet()
_exit_hooks: list[Callable[[str], None]] = []
_signal_lock = threading.Lock()
_signal_installed = False


def on_exit(hook: Callable[[str], None]) -> None:
    """Register ``hook(status)`` to run (before the final flush) at exit or on SIGTERM;
    the fluent API uses it to end active runs."""
    _exit_hooks.append(hook)


def flush_all(timeout: float | None = None) -> None:
    for writer in list(_live_writers):
        writer.flush(timeout)


def _at_exit() -> None:
    # Hooks queue their store calls on the writers (call_in_order); closing flushes them.
    for hook in _exit_hooks:
        try:
            hook("FINISHED")
        except Exception:
            log.exception("cairn: ending active runs at exit failed")
    for writer in list(_live_writers):
        try:
            writer.close(timeout=60)
        except Exception:
            log.exception("cairn: flushing logged data at exit failed")


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Runs on the main thread between two bytecodes, possibly while that thread holds a lock,
    # so the work happens on the writer threads and we only wait for them, with a bound.
    for hook in _exit_hooks:
        try:
            hook("KILLED")
        except Exception:
            log.exception("cairn: ending active runs on SIGTERM failed")
    events = [w.request_flush() for w in list(_live_writers)]
    for event in events:
        event.wait(SIGNAL_FLUSH_TIMEOUT)
    previous = _previous_handler
    signal.signal(signal.SIGTERM, previous)
    if callable(previous):
        previous(signum, frame)
    else:
        os.kill(os.getpid(), signal.SIGTERM)


_previous_handler: Any = signal.SIG_DFL


def _install_signal_handler() -> None:
    """Flush on SIGTERM, if we are on the main thread and nobody else handles SIGTERM."""
    global _signal_installed, _previous_handler
    with _signal_lock:
        if _signal_installed or threading.current_thread() is not threading.main_thread():
            return
        _signal_installed = True
        if os.environ.get("CAIRN_NO_SIGNAL_HANDLER"):
            return
        current = signal.getsignal(signal.SIGTERM)
        if current in (signal.SIG_DFL, None):
            _previous_handler = signal.SIG_DFL
            signal.signal(signal.SIGTERM, _on_sigterm)


def _after_fork() -> None:
    global _signal_installed
    _signal_installed = False
    for writer in list(_live_writers):
        writer._after_fork_in_child()


atexit.register(_at_exit)
os.register_at_fork(after_in_child=_after_fork)
