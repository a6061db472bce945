"""The scoring server: MLflow's scoring protocol over one loaded model.

Routes (the ones ``mlflow models serve`` has):

* ``POST /invocations``: JSON (``dataframe_split``, ``dataframe_records``, ``instances`` or
  ``inputs``, plus optional ``params``), CSV or Parquet in; ``{"predictions": ...}`` out;
* ``GET /ping`` and ``GET /health``: 200 once the model is loaded;
* ``GET /version``: the cairn version.

Every client mistake is a 4xx with MLflow's error body ``{"error_code", "message"}``: a body
that is not JSON or does not fit the signature (400, naming the column, type or shape), an
unsupported content type, charset or compression (415), a body over the size limit (413), an
unknown path (404) or method (405). Predictions that JSON cannot hold are a 500 in the same
shape. The server keeps serving after each of them.

    >>> import cairn.pyfunc, httpx
    >>> app = create_scoring_app(cairn.pyfunc.load_model("model"))              # doctest: +SKIP
    >>> transport = InProcessTransport(app)                                    # doctest: +SKIP
    >>> with httpx.Client(transport=transport, base_url="http://m") as client:  # doctest: +SKIP
    ...     client.post("/invocations", json={"inputs": [[1.0, 2.0]]}).json()
    {'predictions': [1]}

Small requests are scored on the event loop (a thread hop costs more than the prediction of a
few rows); bodies over ``inline_bytes`` are scored in a worker thread so that health checks
answer during long predictions. Requests to row-wise models (scikit-learn, XGBoost, LightGBM)
that arrive together are scored in one model call (:class:`_Batcher`): most of a small
prediction's cost is the framework's fixed per-call overhead, so under concurrent load this
multiplies throughput, and it adds no wait when the server is idle.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cairn._version import __version__
from cairn.errors import CairnError
from cairn.models.errors import InvalidModelInput

if TYPE_CHECKING:
    from cairn.models.pyfunc import PyFuncModel

__all__ = ["DEFAULT_MAX_BODY_BYTES", "ScoringConfig", "app_from_env", "create_scoring_app"]

log = logging.getLogger("cairn.models.serving")

DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024
DEFAULT_INLINE_BYTES = 1024 * 1024
JSON = "application/json"
CSV = "text/csv"
PARQUET = "application/vnd.apache.parquet"
CONTENT_TYPES = (JSON, CSV, PARQUET)

#: Environment of ``cairn models serve`` workers (set by the CLI, read by :func:`app_from_env`).
ENV_MODEL_PATH = "CAIRN_SERVE_MODEL_PATH"
ENV_OPTIONS = "CAIRN_SERVE_OPTIONS"


class ScoringConfig:
    """Limits of one scoring app.

    Attributes:
        max_body_bytes: larger request bodies are refused with 413.
        inline_bytes: bodies up to this size are scored on the event loop.
        batching: score concurrent requests to a row-wise model together (see
            :class:`_Batcher`).
    """

    def __init__(
        self,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        inline_bytes: int = DEFAULT_INLINE_BYTES,
        batching: bool = True,
    ) -> None:
        self.max_body_bytes = max_body_bytes
        self.inline_bytes = inline_bytes
        self.batching = batching


class _TooLarge(Exception):
    pass


def _error(status: int, code: str, message: str) -> Response:
    import json

    body = json.dumps({"error_code": code, "message": message})
    return Response(body, status_code=status, media_type=JSON)


def create_scoring_app(model: PyFuncModel, config: ScoringConfig | None = None) -> Starlette:
    """The ASGI app scoring ``model``."""
    from cairn.models import payloads

    config = config or ScoringConfig()
    schema = model.metadata.get_input_schema()

    batcher = _Batcher(model) if config.batching and model.row_wise else None

    def parse(body: bytes, mime: str) -> tuple[Any, dict[str, Any]]:
        try:
            if mime == JSON:
                data, params = payloads.parse_json(body, schema)
            elif mime == CSV:
                data, params = payloads.parse_csv(body, schema), None
            else:
                data, params = payloads.parse_parquet(body, schema), None
            return model.prepare(data, params)
        except CairnError:
            raise
        except Exception as err:  # pandas/numpy surprises on odd input are still bad input
            raise InvalidModelInput(
                f"Cannot read the request as model input: {type(err).__name__}: {err}"
            ) from err

    def score(body: bytes, mime: str) -> bytes:
        data, params = parse(body, mime)
        return _encode(_call_model(model, data, params))

    async def invocations(request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        mime, _, rest = content_type.partition(";")
        mime = mime.strip().lower()
        options = {
            k.strip().lower(): v.strip().strip('"').lower()
            for k, _, v in (part.partition("=") for part in rest.split(";") if part.strip())
        }
        if mime not in CONTENT_TYPES:
            return _error(
                415,
                "BAD_REQUEST",
                f"Unsupported content type {content_type!r}; send one of {list(CONTENT_TYPES)}.",
            )
        if options.get("charset", "utf-8") != "utf-8" or set(options) - {"charset"}:
            return _error(
                415,
                "BAD_REQUEST",
                f"Unsupported content type parameters in {content_type!r}; only charset=utf-8 "
                "is accepted.",
            )
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            return _error(
                415,
                "BAD_REQUEST",
                f"Unsupported Content-Encoding {encoding!r}; send the body uncompressed.",
            )
        try:
            body = await _read_body(request, config.max_body_bytes)
        except _TooLarge:
            return _error(
                413,
                "REQUEST_LIMIT_EXCEEDED",
                f"The request body is larger than {config.max_body_bytes} bytes, the limit of "
                "this server (cairn models serve --max-body-size). Split the batch.",
            )
        try:
            if len(body) > config.inline_bytes:
                result = await anyio.to_thread.run_sync(score, body, mime)
            elif batcher is not None:
                data, params = parse(body, mime)
                if params or not batcher.accepts(data):
                    result = _encode(_call_model(model, data, params))
                else:
                    result = _encode(await batcher.submit(data))
            else:
                result = score(body, mime)
        except _ModelFailure as err:
            return _error(
                400,
                "BAD_REQUEST",
                "The model failed on this input; check that it matches what the model expects. "
                f"{err}",
            )
        except CairnError as err:
            code = "BAD_REQUEST" if isinstance(err, InvalidModelInput) else err.error_code
            return _error(err.http_status, code, err.message)
        except _Unencodable as err:
            return _error(500, "INTERNAL_ERROR", str(err))
        return Response(result, media_type=JSON)

    async def ping(request: Request) -> Response:
        return Response("\n", media_type=JSON)

    async def version(request: Request) -> Response:
        return Response(__version__, media_type=JSON)

    async def http_error(request: Request, exc: Exception) -> Response:
        # Unknown paths and wrong methods answer in the same JSON shape as every other error.
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 404:
            return _error(404, "ENDPOINT_NOT_FOUND", f"No endpoint {request.url.path}; {_ROUTES}")
        if status == 405:
            return _error(
                405,
                "BAD_REQUEST",
                f"{request.method} is not allowed on {request.url.path}; {_ROUTES}",
            )
        return _error(status, "BAD_REQUEST", str(getattr(exc, "detail", exc)))

    routes = [
        Route("/invocations", invocations, methods=["POST"]),
        Route("/ping", ping, methods=["GET"]),
        Route("/health", ping, methods=["GET"]),
        Route("/version", version, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.model = model
    return app


class _ModelFailure(Exception):
    pass


class _Unencodable(Exception):
    pass


_ROUTES = "this server answers POST /invocations and GET /ping, /health, /version"


def _encode(predictions: Any) -> bytes:
    """The JSON answer; predictions JSON cannot hold (a set, an object array) are the
    model's fault, told as such rather than as a bare 500."""
    from cairn.models.payloads import predictions_json

    try:
        return predictions_json(predictions)
    except (TypeError, ValueError, OverflowError) as err:
        log.exception("The model's predictions cannot be written as JSON")
        raise _Unencodable(
            f"The model's predictions cannot be written as JSON ({type(err).__name__}: {err}); "
            "the model should return numbers, text, lists, arrays or DataFrames."
        ) from err


def _call_model(model: PyFuncModel, data: Any, params: dict[str, Any] | None) -> Any:
    try:
        return model.predict_prepared(data, params)
    except CairnError:
        raise
    except Exception as err:  # the model's own failure on this input: MLflow answers 400
        log.exception("The model failed on a request")
        raise _ModelFailure(f"{type(err).__name__}: {err}") from err


class _Batcher:
    """Scores the requests that are ready at the same moment in one model call.

    A request that finds the server idle is scored at once, in the next turn of the event
    loop; requests that arrive while a prediction runs wait for it and are then scored
    together. Every request is parsed and checked against the signature alone, so errors stay
    with the request that caused them; if the joint call fails, each request is scored alone.
    Only row-wise models are batched (:attr:`PyFuncModel.row_wise`), and only input without
    params, of up to :attr:`small_rows` rows: tables with the same columns and dtypes, or arrays
    with the same trailing shape.
    """

    #: Requests up to this many rows are batched; bigger ones already amortize the per-call
    #: cost, and joining them would only add copies and latency.
    small_rows = 256
    #: Rows per joint call at most.
    max_rows = 4096

    def __init__(self, model: PyFuncModel) -> None:
        self.model = model
        self.pending: list[tuple[Any, asyncio.Future[Any]]] = []
        self.scheduled = False

    def accepts(self, data: Any) -> bool:
        import numpy as np
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            return 0 < len(data) <= self.small_rows
        return isinstance(data, np.ndarray) and data.ndim >= 1 and 0 < len(data) <= self.small_rows

    def submit(self, data: Any) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self.pending.append((data, future))
        if not self.scheduled:
            self.scheduled = True
            loop.call_soon(self._drain)
        return future

    def _drain(self) -> None:
        self.scheduled = False
        pending, self.pending = self.pending, []
        try:
            group: list[tuple[Any, asyncio.Future[Any]]] = []
            rows = 0
            for item in pending:
                full = rows + len(item[0]) > self.max_rows
                if group and (full or not _compatible(group[0][0], item[0])):
                    self._run(group)
                    group, rows = [], 0
                group.append(item)
                rows += len(item[0])
            if group:
                self._run(group)
        except BaseException as err:
            # Never leave a request waiting forever: whatever went wrong reaches every caller.
            for _, future in pending:
                if not future.done():
                    future.set_exception(err)
            if not isinstance(err, Exception):
                raise

    def _run(self, group: list[tuple[Any, asyncio.Future[Any]]]) -> None:
        if len(group) > 1:
            try:
                output = _call_model(self.model, _concat([d for d, _ in group]), None)
                if _length(output) == sum(len(d) for d, _ in group):
                    start = 0
                    for data, future in group:
                        stop = start + len(data)
                        if not future.done():
                            future.set_result(_slice(output, start, stop))
                        start = stop
                    return
            except (_ModelFailure, CairnError):
                pass  # scored one by one below, so the error reaches the right request
        for data, future in group:
            if future.done():
                continue
            try:
                future.set_result(_call_model(self.model, data, None))
            except (_ModelFailure, CairnError) as err:
                future.set_exception(err)


def _compatible(first: Any, other: Any) -> bool:
    import numpy as np

    if isinstance(first, np.ndarray):
        return (
            isinstance(other, np.ndarray)
            and first.dtype == other.dtype
            and first.shape[1:] == other.shape[1:]
        )
    return (
        type(other) is type(first)
        and list(other.columns) == list(first.columns)
        and other.dtypes.equals(first.dtypes)
    )


def _concat(items: list[Any]) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(items[0], np.ndarray):
        return np.concatenate(items)
    return pd.concat(items, ignore_index=True)


def _length(output: Any) -> int | None:
    try:
        return len(output)
    except TypeError:
        return None


def _slice(output: Any, start: int, stop: int) -> Any:
    if hasattr(output, "iloc"):
        return output.iloc[start:stop]
    return output[start:stop]


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def freeze_heap() -> None:
    """Exempt everything loaded so far (the model, the frameworks) from garbage collection.

    Scoring allocates many short-lived lists; each collection of the oldest generation would
    otherwise walk the whole model and every imported module, which shows as latency spikes.
    Call once, after the model is loaded, in a process that serves.
    """
    import gc

    gc.collect()
    gc.freeze()


def app_from_env() -> Starlette:
    """The app of a ``cairn models serve`` worker: the model folder and load options come
    from the environment the CLI prepared (an import-string factory for uvicorn workers)."""
    import json

    from cairn.models.pyfunc import load_model

    path = os.environ[ENV_MODEL_PATH]
    options: dict[str, Any] = json.loads(os.environ.get(ENV_OPTIONS, "{}"))
    model = load_model(
        path,
        allow_pickle=options.get("allow_pickle"),
        allow_code=options.get("allow_code"),
        trusted_types=options.get("trusted_types"),
        expected_digest=options.get("expected_digest"),
    )
    freeze_heap()
    return create_scoring_app(
        model,
        ScoringConfig(
            max_body_bytes=int(options.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES)),
            batching=bool(options.get("batching", True)),
        ),
    )
