"""The REST store's HTTP session: which failures are retried, with what backoff, and which
errors come out.

An ``httpx.MockTransport`` stands in for the server here: it produces on demand what a live
server cannot (a 503 then a 200, a read timeout, a 502 from a proxy, a refused connection at
a chosen attempt). The waits are recorded instead of slept, so nothing depends on timing; the
real server is exercised in ``test_rest_server.py``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from cairn._http import USER_AGENT
from cairn.errors import (
    CairnError,
    EndpointNotFound,
    ExperimentNotFound,
    InvalidFilter,
    InvalidParameter,
    InvalidTrackingUri,
    ParamValueChanged,
    ResourceNotFound,
    RunNotFound,
    StoreError,
    TrackingServerUnavailable,
    Unauthenticated,
)
from cairn.store._rest_http import HttpSession, RetryPolicy, Safety
from cairn.store.rest import RestTrackingStore

URL = "http://tracking.test:5000"
POLICY = RetryPolicy(max_retries=4, backoff_factor=2.0, jitter=0.0)

Handler = Callable[[httpx.Request], httpx.Response]


class Server:
    """A scripted server: answers requests from a list of handlers, one per request (the last
    one repeats), and records requests and the waits between them."""

    def __init__(self, *handlers: Handler) -> None:
        self.handlers = list(handlers)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.handlers[min(len(self.requests), len(self.handlers)) - 1]
        return handler(request)

    def session(self, policy: RetryPolicy = POLICY) -> HttpSession:
        client = httpx.Client(transport=httpx.MockTransport(self))
        return HttpSession(URL, client, policy, sleep=self.sleeps.append)

    def store(self, spool: Path, policy: RetryPolicy = POLICY) -> RestTrackingStore:
        client = httpx.Client(transport=httpx.MockTransport(self))
        return RestTrackingStore(
            URL, http_client=client, retry_policy=policy, spool_dir=spool, sleep=self.sleeps.append
        )


def ok(body: object = None) -> Handler:
    return lambda request: httpx.Response(200, json=body if body is not None else {})


def status(code: int, body: object = None, **headers: str) -> Handler:
    if body is None:
        return lambda request: httpx.Response(code, text="<html>oops</html>", headers=headers)
    return lambda request: httpx.Response(code, json=body, headers=headers)


def refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def time_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def error(code: str, message: str, http: int = 400) -> Handler:
    return status(http, {"error_code": code, "message": message})


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOKEN", "USERNAME", "PASSWORD"):
        for prefix in ("CAIRN", "MLFLOW"):
            monkeypatch.delenv(f"{prefix}_TRACKING_{name}", raising=False)


# -- retries and backoff ----------------------------------------------------------------------


def test_refused_connections_are_retried_with_exponential_backoff_then_reported() -> None:
    server = Server(refuse)
    with pytest.raises(TrackingServerUnavailable) as info:
        server.session().call("GET", "/api/2.0/mlflow/experiments/get", {"experiment_id": "0"})
    assert len(server.requests) == 5
    assert server.sleeps == [2.0, 4.0, 8.0, 16.0]
    message = str(info.value)
    assert URL in message and "GET /api/2.0/mlflow/experiments/get" in message
    assert "5 attempts" in message and "Connection refused" in message
    assert f"{URL}/health" in message and "CAIRN_HTTP_MAX_RETRIES" in message
    assert info.value.url == URL  # type: ignore[attr-defined]


def test_a_server_that_comes_back_within_the_retries_is_not_an_error() -> None:
    server = Server(refuse, status(503, {"error_code": "TEMPORARILY_UNAVAILABLE"}), ok({"a": 1}))
    assert server.session().call("GET", "/x") == {"a": 1}
    assert server.sleeps == [2.0, 4.0]


def test_retry_after_lengthens_the_wait_up_to_a_minute() -> None:
    server = Server(
        status(429, None, **{"Retry-After": "7"}), status(429, None, **{"Retry-After": "900"}), ok()
    )
    server.session().call("POST", "/x", {}, safety=Safety.APPEND)
    assert server.sleeps == [7.0, 60.0]


def test_backoff_is_capped_and_jittered() -> None:
    policy = RetryPolicy(max_retries=10, backoff_factor=2.0, backoff_max=60.0, jitter=0.1)
    assert policy.base_delay(9) == 60.0
    assert policy.delay(0, rand=lambda: 0.0) == pytest.approx(1.8)
    assert policy.delay(0, rand=lambda: 1.0) == pytest.approx(2.2)
    assert RetryPolicy().budget == 30.0  # the default: five attempts over about 30 s


def test_policy_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAIRN_HTTP_MAX_RETRIES", "1")
    monkeypatch.setenv("CAIRN_HTTP_TIMEOUT", "5")
    monkeypatch.setenv("CAIRN_HTTP_BACKOFF_FACTOR", "0.5")
    policy = RetryPolicy.from_env()
    assert (policy.max_retries, policy.read_timeout, policy.backoff_factor) == (1, 5.0, 0.5)
    session = HttpSession(URL)
    try:
        timeout = session.client.timeout
        assert (timeout.connect, timeout.read) == (10.0, 5.0)
    finally:
        session.close()
    monkeypatch.setenv("CAIRN_HTTP_MAX_RETRIES", "many")
    with pytest.raises(InvalidTrackingUri, match="CAIRN_HTTP_MAX_RETRIES"):
        RetryPolicy.from_env()


@pytest.mark.parametrize(
    ("handler", "safety", "requests", "raised"),
    [
        # A 500 is retried only for requests that may be repeated safely.
        (error("INTERNAL_ERROR", "db down", 500), Safety.READ, 5, StoreError),
        (error("INTERNAL_ERROR", "db down", 500), Safety.APPEND, 1, StoreError),
        # A proxy's 502/504: the outcome is unknown, so creations are not repeated.
        (status(502), Safety.APPEND, 5, TrackingServerUnavailable),
        (status(504), Safety.CREATE, 1, TrackingServerUnavailable),
        (status(503), Safety.CREATE, 5, TrackingServerUnavailable),
        # A lost answer: only reads are repeated.
        (time_out, Safety.READ, 5, TrackingServerUnavailable),
        (time_out, Safety.APPEND, 1, TrackingServerUnavailable),
        (refuse, Safety.CREATE, 5, TrackingServerUnavailable),
        # Client errors are never retried.
        (error("INVALID_PARAMETER_VALUE", "bad"), Safety.READ, 1, InvalidParameter),
    ],
)
def test_what_is_retried_depends_on_whether_repeating_is_safe(
    handler: Handler, safety: Safety, requests: int, raised: type[Exception]
) -> None:
    server = Server(handler)
    with pytest.raises(raised):
        server.session().call("POST", "/x", {}, safety=safety)
    assert len(server.requests) == requests


def test_after_an_outage_calls_make_one_attempt_until_the_server_answers() -> None:
    server = Server(refuse)
    session = server.session()
    with pytest.raises(TrackingServerUnavailable):
        session.call("GET", "/x")
    with pytest.raises(TrackingServerUnavailable, match="moments ago"):
        session.call("GET", "/x")
    assert len(server.requests) == 6
    server.handlers = [ok()]
    session.call("GET", "/x")
    server.handlers = [refuse]
    with pytest.raises(TrackingServerUnavailable, match="5 attempts"):
        session.call("GET", "/x")


# -- answers and errors ---------------------------------------------------------------------


def test_json_error_bodies_become_cairn_errors_with_the_servers_message() -> None:
    server = Server(error("RESOURCE_ALREADY_EXISTS", "Experiment 'x' already exists"))
    with pytest.raises(CairnError, match="Experiment 'x' already exists") as info:
        server.session().call("POST", "/x", {})
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"


@pytest.mark.parametrize(
    ("code", "raised"),
    [(404, EndpointNotFound), (401, Unauthenticated), (500, StoreError), (301, InvalidTrackingUri)],
)
def test_non_json_errors_get_their_class_from_the_http_status(
    code: int, raised: type[CairnError]
) -> None:
    server = Server(status(code, None, Location="https://elsewhere/"))
    with pytest.raises(raised, match=f"HTTP status {code}"):
        server.session().call("POST", "/x", {}, safety=Safety.APPEND)


def test_a_numeric_error_code_is_read_as_an_http_status() -> None:
    server = Server(status(400, {"error_code": "404", "message": "nope"}))
    with pytest.raises(EndpointNotFound, match="nope"):
        server.session().call("GET", "/x")


def test_empty_success_is_an_empty_object_and_non_json_success_is_an_error() -> None:
    assert Server(lambda r: httpx.Response(200, text="")).session().call("GET", "/x") == {}
    with pytest.raises(CairnError, match="JSON object"):
        Server(lambda r: httpx.Response(200, text="<html/>")).session().call("GET", "/x")


def test_errors_are_narrowed_by_what_the_request_was_about(tmp_path: Path) -> None:
    run_id = "a" * 32
    server = Server(error("RESOURCE_DOES_NOT_EXIST", f"Run with id={run_id} not found", 404))
    store = server.store(tmp_path)
    with pytest.raises(RunNotFound) as info:
        store.get_run(run_id)
    assert info.value.run_id == run_id
    server.handlers = [error("RESOURCE_DOES_NOT_EXIST", "No tag 'k' on run", 404)]
    with pytest.raises(ResourceNotFound) as missing_tag:
        store.delete_tag(run_id, "k")
    assert type(missing_tag.value) is ResourceNotFound
    server.handlers = [error("RESOURCE_DOES_NOT_EXIST", "No Experiment with id=9 exists", 404)]
    with pytest.raises(ExperimentNotFound):
        store.create_run("9", "u", 1)
    server.handlers = [error("INVALID_PARAMETER_VALUE", "Invalid filter 'x' at position 3")]
    with pytest.raises(InvalidFilter) as bad_filter:
        store.search_runs(["0"], "x")
    assert bad_filter.value.position == 3
    server.handlers = [
        error(
            "INVALID_PARAMETER_VALUE",
            "Changing param values is not allowed. Param with key='lr' was already logged",
        )
    ]
    with pytest.raises(ParamValueChanged) as changed:
        store.log_batch(run_id, params=[])
    assert changed.value.key == "lr"  # type: ignore[attr-defined]
    server.handlers = [error("RESOURCE_DOES_NOT_EXIST", "Could not find experiment 'x'", 404)]
    assert store.get_experiment_by_name("x") is None
    store.close()


# -- what every request carries -------------------------------------------------------------


def test_requests_carry_the_user_agent_and_json(tmp_path: Path) -> None:
    server = Server(ok({"experiment_id": "3"}))
    store = server.store(tmp_path)
    assert store.create_experiment("iris", tags=[("k", "v")]) == "3"
    request = server.requests[0]
    assert request.headers["user-agent"] == USER_AGENT
    assert request.headers["content-type"] == "application/json"
    assert request.url == f"{URL}/api/2.0/mlflow/experiments/create"
    assert "authorization" not in request.headers
    store.close()


def test_credentials_are_read_from_the_environment_at_each_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = Server(ok({"experiment": {"experiment_id": "0", "name": "Default"}}))
    store = server.store(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "from-mlflow")
    store.get_experiment("0")
    monkeypatch.setenv("CAIRN_TRACKING_TOKEN", "from-cairn")
    store.get_experiment("0")
    monkeypatch.setenv("CAIRN_TRACKING_USERNAME", "ada")
    monkeypatch.setenv("CAIRN_TRACKING_PASSWORD", "pw")
    store.get_experiment("0")
    basic = base64.b64encode(b"ada:pw").decode()
    assert [r.headers["authorization"] for r in server.requests] == [
        "Bearer from-mlflow",
        "Bearer from-cairn",
        f"Basic {basic}",
    ]
    store.close()


def test_metric_history_follows_the_pages_when_no_page_size_is_given(tmp_path: Path) -> None:
    def page(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("page_token")
        start = int(token) if token else 0
        body: dict[str, object] = {
            "metrics": [
                {"key": "m", "value": "NaN", "timestamp": str(s), "step": s}
                for s in range(start, start + 2)
            ]
        }
        if start < 4:
            body["next_page_token"] = str(start + 2)
        return httpx.Response(200, json=body)

    server = Server(page)
    store = server.store(tmp_path)
    history = store.get_metric_history("r1", "m")
    assert [m.step for m in history] == [0, 1, 2, 3, 4, 5] and history.token is None
    assert all(m.run_id == "r1" and m.timestamp == m.step for m in history)
    one = store.get_metric_history("r1", "m", max_results=2)
    assert [m.step for m in one] == [0, 1] and one.token == "2"
    assert server.requests[-1].url.params["max_results"] == "2"
    store.close()
