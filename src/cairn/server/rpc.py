"""Declaring protocol endpoints once, and serving them the way MLflow clients call them.

A route module declares each RPC with :func:`rpc`::

    @rpc("POST", "/mlflow/runs/log-metric", LogMetric)
    def log_metric(msg: LogMetric, ctx: Context) -> dict[str, Any]:
        ...
        return {}

and :func:`routes` mounts every RPC at ``/api/<version>/...`` and ``/ajax-api/<version>/...``.
The same declarations produce the OpenAPI document (:mod:`.openapi`).

Requests are parsed as MLflow sends them: GET parameters from the query string (repeated keys
for lists), everything else from a JSON object body (a body that is a JSON *string* holding an
object is decoded once more, as MLflow's server does). A malformed request is answered with the
protocol's ``INVALID_PARAMETER_VALUE`` error naming the field, never a 500. Handlers are plain
functions run in a worker thread, since stores block.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import ValidationError
from pydantic.alias_generators import to_camel
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cairn.errors import CairnError, InvalidParameter
from cairn.server.messages import Message

if TYPE_CHECKING:
    from cairn.server.settings import Context

log = logging.getLogger("cairn.server")

M = TypeVar("M", bound=Message)
Handler = Callable[[Any, "Context"], dict[str, Any]]

#: Largest JSON request body accepted (log-batch of 1,000 metrics is ~100 KB).
MAX_JSON_BODY = 16 * 1024 * 1024
# JSON escapes that decode to text no store can keep (NUL, UTF-16 surrogates): only bodies
# holding one are walked by _check_text, so ordinary requests pay one regex scan.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


@dataclass(frozen=True)
class Rpc:
    """One protocol endpoint."""

    method: str
    path: str
    request: type[Message]
    handler: Handler
    version: str = "2.0"
    summary: str = ""
    response: dict[str, Any] = field(default_factory=dict)
    #: Served only under /ajax-api (routes the MLflow UI uses).
    ajax_only: bool = False


RPCS: list[Rpc] = []


def rpc(
    method: str,
    path: str,
    request: type[M],
    *,
    version: str = "2.0",
    response: dict[str, Any] | None = None,
    ajax_only: bool = False,
) -> Callable[[Callable[[M, Context], dict[str, Any]]], Callable[[M, Context], dict[str, Any]]]:
    """Declare a protocol endpoint. ``response`` is the JSON schema of a successful answer
    (for the OpenAPI document); the handler's docstring's first line is its summary."""

    def register(
        handler: Callable[[M, Context], dict[str, Any]],
    ) -> Callable[[M, Context], dict[str, Any]]:
        summary = (handler.__doc__ or "").strip().splitlines()[0] if handler.__doc__ else ""
        RPCS.append(
            Rpc(method, path, request, handler, version, summary, response or {}, ajax_only)
        )
        return handler

    return register


class JSONBody(Response):
    """Compact JSON; NaN was already turned into strings by the encoders."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":"), allow_nan=False).encode()


def error_response(err: CairnError) -> JSONBody:
    return JSONBody(err.to_json(), status_code=err.http_status)


async def read_message(request: Request, spec: type[M]) -> M:
    """Parse and validate a request; raises InvalidParameter naming what is wrong."""
    if request.method == "GET":
        data: Any = _query_dict(request, spec)
        _check_text(data, "request")
    else:
        data = await _json_body(request)
    if request.path_params:
        _check_text(request.path_params, "request")
        for name in request.path_params:
            data.pop(to_camel(name), None)  # the path names the resource, not the body
        data.update(request.path_params)
    try:
        return spec.model_validate(data)
    except ValidationError as err:
        raise InvalidParameter(_describe(err)) from None


def _query_dict(request: Request, spec: type[Message]) -> dict[str, Any]:
    lists = _list_fields(spec)
    params = request.query_params
    return {name: params.getlist(name) if name in lists else params[name] for name in params}


@functools.cache
def _list_fields(spec: type[Message]) -> frozenset[str]:
    """Names (and aliases) of the fields that take several values: repeated query keys."""
    names: set[str] = set()
    for name, info in spec.model_fields.items():
        annotation = info.annotation
        while get_origin(annotation) is Annotated or get_origin(annotation) in (Union, UnionType):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        if get_origin(annotation) is list:
            names.update({name, info.alias or name})
    return frozenset(names)


async def _json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "")
    body = await _limited_body(request)
    if not body.strip():
        return {}
    if "json" not in content_type.lower():
        raise InvalidParameter(
            f"Bad request: the body must be JSON, sent with Content-Type: application/json "
            f"(got {content_type or 'no content type'!r})"
        )
    try:
        data = json.loads(body)
        if isinstance(data, str):  # some older clients send the JSON object as a string
            data = json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidParameter(f"Malformed JSON body: {err}") from None
    if _SUSPECT_ESCAPE.search(body):
        _check_text(data, "request")
    if not isinstance(data, dict):
        raise InvalidParameter(f"The JSON body must be an object, not {type(data).__name__}")
    return data


def _check_text(value: Any, where: str) -> None:
    """Refuse text no store can keep: NUL characters and lone UTF-16 surrogates (JSON can
    spell both, as ``\\u0000`` and ``\\ud800``)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidParameter(f"Invalid text in {where}: it contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidParameter(
                f"Invalid text in {where}: it contains a lone surrogate (not valid Unicode)"
            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, where)
            _check_text(item, f"'{key}'" if where == "request" else f"{where}.{key}")
    elif isinstance(value, list):
        for item in value:
            _check_text(item, where)


async def _limited_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_JSON_BODY:
        raise InvalidParameter(
            f"Request body of {int(declared):,} bytes is over the limit of {MAX_JSON_BODY:,}"
        )
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_JSON_BODY:
            raise InvalidParameter(f"Request body is over the limit of {MAX_JSON_BODY:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _describe(err: ValidationError) -> str:
    problems = []
    for item in err.errors(include_url=False)[:5]:
        where = ".".join(str(part) for part in item["loc"]) or "request"
        if item["type"] == "missing":
            problems.append(f"Missing value for required parameter '{where}'")
        elif item["type"] == "value_error":
            reason = str(item["ctx"]["error"]) if "ctx" in item else item["msg"]
            problems.append(reason if not item["loc"] else f"Invalid '{where}': {reason}")
        else:
            shown = repr(item.get("input"))
            if len(shown) > 80:
                shown = shown[:77] + "..."
            problems.append(f"Invalid value {shown} for parameter '{where}': {item['msg']}")
    return "; ".join(problems)


def _endpoint(spec: Rpc, context: Context) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        try:
            message = await read_message(request, spec.request)
            result = await run_in_threadpool(spec.handler, message, context)
        except CairnError as err:
            return error_response(err)
        return JSONBody(result)

    endpoint.__name__ = spec.handler.__name__
    return endpoint


def routes(context: Context) -> list[Route]:
    """Every declared RPC under ``/api/<version>`` and ``/ajax-api/<version>``."""
    mounted = []
    for spec in RPCS:
        endpoint = _endpoint(spec, context)
        prefixes = ("/ajax-api",) if spec.ajax_only else ("/api", "/ajax-api")
        for prefix in prefixes:
            path = f"{prefix}/{spec.version}{spec.path}"
            mounted.append(Route(path, endpoint, methods=[spec.method]))
    return mounted
