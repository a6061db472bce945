"""One keep-alive HTTP session to a tracking server: timeouts, bounded retries, errors.

Every request carries ``User-Agent: cairn/<version>`` and the credentials of
:func:`cairn._http.auth_headers` (read at each request). Timeouts: 10 s to connect,
``CAIRN_HTTP_TIMEOUT`` seconds (default 120) to read an answer.

What is retried depends on whether repeating the request is harmless (:class:`Safety`):

==========================================  ======  ==============  =======
failure                                     READ    APPEND          CREATE
==========================================  ======  ==============  =======
cannot connect; 429; 503                    retry   retry           retry
502, 504 (a proxy; outcome unknown)         retry   retry           give up
500; answer lost (read timeout, dropped)    retry   give up         give up
==========================================  ======  ==============  =======

Retries wait ``CAIRN_HTTP_BACKOFF_FACTOR`` seconds (default 2) doubled each time, +-10 %
jitter, or what a ``Retry-After`` header asks (at most a minute); ``CAIRN_HTTP_MAX_RETRIES``
(default 4: five attempts over about 30 s) bounds them. Then the request fails with
:class:`~cairn.errors.TrackingServerUnavailable`, naming the server, the operation and what to
check. After such a failure, requests in the following ``budget`` seconds make one attempt
only, so that a server that is down costs each call one refused connection, not 30 s.

    >>> session = HttpSession("http://127.0.0.1:5000")             # doctest: +SKIP
    >>> session.call("GET", "/api/2.0/mlflow/experiments/get", {"experiment_id": "0"})
    ... # doctest: +SKIP
    {'experiment': {'experiment_id': '0', 'name': 'Default', ...}}
"""

from __future__ import annotations

import enum
import json
import logging
import os
import random
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from cairn._http import USER_AGENT, default_headers
from cairn.errors import CairnError, InvalidTrackingUri, TrackingServerUnavailable
from cairn.store._rest_errors import error_from_response

__all__ = ["HttpSession", "RetryPolicy", "Safety"]

log = logging.getLogger("cairn.store.rest")

CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 120.0
_UNAVAILABLE_STATUSES = frozenset({429, 502, 503, 504})


class Safety(enum.Enum):
    """How safe it is to send a request again when its first attempt's outcome is unknown."""

    #: Reads, searches and writes that land the same however often they are repeated.
    READ = "read"
    #: Appending metric points: a repeat after a lost answer may store them twice.
    APPEND = "append"
    #: Creating an experiment or run: a repeat after a lost answer may create two.
    CREATE = "create"


def _env_number(names: tuple[str, ...], default: float) -> float:
    for name in names:
        raw = os.environ.get(name)
        if raw:
            try:
                return float(raw)
            except ValueError:
                raise InvalidTrackingUri(f"{name}={raw!r} is not a number") from None
    return default


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff.

    >>> RetryPolicy(max_retries=3, backoff_factor=1.0, jitter=0.0).budget
    7.0
    """

    max_retries: int = 4
    backoff_factor: float = 2.0
    backoff_max: float = 60.0
    jitter: float = 0.1
    read_timeout: float = DEFAULT_READ_TIMEOUT

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """From ``CAIRN_HTTP_MAX_RETRIES``, ``CAIRN_HTTP_BACKOFF_FACTOR`` and
        ``CAIRN_HTTP_TIMEOUT`` (the artifact client's ``CAIRN_HTTP_REQUEST_*`` spellings are
        read too)."""
        retries = _env_number(("CAIRN_HTTP_MAX_RETRIES", "CAIRN_HTTP_REQUEST_MAX_RETRIES"), 4)
        factor = _env_number(
            ("CAIRN_HTTP_BACKOFF_FACTOR", "CAIRN_HTTP_REQUEST_BACKOFF_FACTOR"), 2.0
        )
        timeout = _env_number(
            ("CAIRN_HTTP_TIMEOUT", "CAIRN_HTTP_REQUEST_TIMEOUT"), DEFAULT_READ_TIMEOUT
        )
        return cls(max_retries=max(0, int(retries)), backoff_factor=factor, read_timeout=timeout)

    def base_delay(self, retry: int) -> float:
        """The wait before retry number ``retry`` (0-based), without jitter."""
        return float(min(self.backoff_max, self.backoff_factor * 2**retry))

    def delay(
        self,
        retry: int,
        retry_after: float | None = None,
        rand: Callable[[], float] = random.random,
    ) -> float:
        """The wait before retry ``retry``; a server's ``Retry-After`` lengthens it (capped)."""
        base = self.base_delay(retry)
        if retry_after is not None:
            base = min(self.backoff_max, max(base, retry_after))
        return base * (1.0 + self.jitter * (2.0 * rand() - 1.0))

    @property
    def budget(self) -> float:
        """Seconds spent waiting when every retry is used (without jitter)."""
        return sum(self.base_delay(i) for i in range(self.max_retries))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.strip().isdigit() else None


def _retryable_status(status: int, safety: Safety) -> bool:
    if status in (429, 503):
        return True
    if status in (502, 504):
        return safety is not Safety.CREATE
    return status == 500 and safety is Safety.READ


def _retryable_transport(err: httpx.TransportError, safety: Safety) -> bool:
    # Nothing reached the server when the connection could not be made (or no pooled
    # connection was free); otherwise the server may have acted on the request.
    unsent = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
    return isinstance(err, unsent) or safety is Safety.READ


def _describe_transport(err: httpx.TransportError) -> str:
    if isinstance(err, httpx.ConnectTimeout):
        return f"no connection within {CONNECT_TIMEOUT:.0f} s"
    if isinstance(err, httpx.ReadTimeout):
        return "no answer within the read timeout (CAIRN_HTTP_TIMEOUT)"
    if isinstance(err, httpx.ConnectError):
        return f"cannot connect: {err}" if str(err) else "cannot connect"
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


@dataclass
class _Outcome:
    """What one attempt came to: an ``answer``, or the ``error`` the server answered, or the
    ``problem`` that makes it count as unavailable; and whether to ``retry``."""

    answer: dict[str, Any] | None = None
    error: CairnError | None = None
    problem: str = ""
    retry: bool = False
    retry_after: float | None = None


class HttpSession:
    """Requests to one server, over one keep-alive connection pool.

    Args:
        base_url: the tracking URI (``http(s)://host:port[/prefix]``).
        client: an ``httpx.Client`` to send with (an in-process transport in tests); the
            session then leaves closing it to the caller.
        policy: retries and timeouts; default :meth:`RetryPolicy.from_env`.
        sleep: how to wait between attempts (tests pass a recorder).
    """

    def __init__(
        self,
        base_url: str,
        client: httpx.Client | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy.from_env()
        self._owns_client = client is None
        self.client = client or _new_client(self.policy)
        self._sleep = sleep
        self._fast_fail_until = 0.0
        _sessions.add(self)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def _after_fork_in_child(self) -> None:
        # The parent's keep-alive sockets must not carry the child's requests too; the old
        # client is dropped, not closed, so nothing is sent on the parent's connections.
        if self._owns_client:
            self.client = _new_client(self.policy)

    def call(
        self,
        method: str,
        endpoint: str,
        payload: Mapping[str, Any] | None = None,
        *,
        safety: Safety = Safety.READ,
    ) -> dict[str, Any]:
        """Send one request (GET: ``payload`` as query parameters; else as a JSON body) and
        return the answer's JSON object.

        Raises:
            TrackingServerUnavailable: no answer after the retries.
            CairnError: the server's error answer, rebuilt (see :mod:`._rest_errors`).
        """
        url = self.base_url + endpoint
        operation = f"{method} {endpoint}"
        fast = time.monotonic() < self._fast_fail_until
        attempts = 1 if fast else self.policy.max_retries + 1
        started = time.monotonic()
        outcome = _Outcome()
        made = 0
        while made < attempts:
            if made:
                self._sleep(self.policy.delay(made - 1, outcome.retry_after))
            made += 1
            outcome = self._attempt(method, url, payload, safety)
            if outcome.answer is not None:
                return outcome.answer
            if not outcome.retry:
                break
            log.info("cairn: %s failed (%s)", operation, outcome.problem or outcome.error)
        if outcome.error is not None:
            raise outcome.error
        raise self._unavailable(operation, outcome.problem, made, time.monotonic() - started, fast)

    def _attempt(
        self, method: str, url: str, payload: Mapping[str, Any] | None, safety: Safety
    ) -> _Outcome:
        """One attempt; raises the server's error answers that are not worth repeating."""
        try:
            response = self._send(method, url, payload)
        except httpx.UnsupportedProtocol as err:
            raise InvalidTrackingUri(f"Cannot reach {url}: {err}") from None
        except httpx.TransportError as err:
            problem = _describe_transport(err)
            if _retryable_transport(err, safety):
                return _Outcome(problem=problem, retry=True)
            return _Outcome(problem=f"{problem} (not repeated: the server may have acted on it)")
        status = response.status_code
        if status < 300:
            self._fast_fail_until = 0.0
            return _Outcome(answer=_json_object(response, url))
        retry = _retryable_status(status, safety)
        if status in _UNAVAILABLE_STATUSES:
            problem = _status_problem(response, url)
            return _Outcome(problem=problem, retry=retry, retry_after=_retry_after(response))
        self._fast_fail_until = 0.0  # the server answered: it is up
        error = error_from_response(response, url)
        if not retry:
            raise error
        return _Outcome(error=error, retry=True)

    def _send(self, method: str, url: str, payload: Mapping[str, Any] | None) -> httpx.Response:
        headers = default_headers()
        if method == "GET":
            return self.client.request(method, url, params=dict(payload or {}), headers=headers)
        headers["Content-Type"] = "application/json"
        content = json.dumps(payload or {}, separators=(",", ":"), allow_nan=False)
        return self.client.request(method, url, content=content, headers=headers)

    def _unavailable(
        self, operation: str, problem: str, attempts: int, elapsed: float, fast: bool
    ) -> TrackingServerUnavailable:
        self._fast_fail_until = time.monotonic() + self.policy.budget
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts over {elapsed:.1f} s"
        if fast:
            tries += " (it did not answer moments ago either)"
        return TrackingServerUnavailable(
            f"The tracking server at {self.base_url} did not answer {operation} after {tries}: "
            f"{problem}. Check that it is running and reachable from here (GET "
            f"{self.base_url}/health answers OK), and the tracking URI; CAIRN_HTTP_MAX_RETRIES "
            "and CAIRN_HTTP_TIMEOUT set how long cairn waits.",
            url=self.base_url,
            operation=operation,
        )


def _new_client(policy: RetryPolicy) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(policy.read_timeout, connect=CONNECT_TIMEOUT),
        headers={"User-Agent": USER_AGENT},
    )


_sessions: weakref.WeakSet[HttpSession] = weakref.WeakSet()


def _after_fork() -> None:
    for session in list(_sessions):
        session._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork)


def _status_problem(response: httpx.Response, url: str) -> str:
    err = error_from_response(response, url)
    return f"HTTP {response.status_code} ({err.message})"


def _json_object(response: httpx.Response, url: str) -> dict[str, Any]:
    """A success's JSON object; an empty body counts as ``{}``, as in MLflow's client."""
    if not response.content.strip():
        return {}
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise CairnError(
            f"The server at {url} answered HTTP {response.status_code} with something other "
            "than a JSON object; is the tracking URI a cairn or MLflow tracking server?"
        )
    return body
