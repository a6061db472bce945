"""``create_app(settings)``: the ASGI application of ``cairn server`` and ``cairn ui``.

    >>> from cairn.server import ServerSettings, create_app
    >>> app = create_app(ServerSettings.for_uri("./mlruns"))   # doctest: +SKIP
    >>> # uvicorn.run(app, port=5000)

Every error leaves as the protocol's JSON shape (``{"error_code": ..., "message": ...}``) with
the status from :data:`cairn.errors.HTTP_STATUS`: client mistakes are 4xx, never 500 (MLflow's
client retries 5xx answers for minutes). An unexpected failure is logged with its traceback and
answered with a 500 whose body holds no internals.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from cairn._version import __version__
from cairn.errors import CairnError, EndpointNotFound
from cairn.server import openapi, rpc
from cairn.server.routes import load_all
from cairn.server.settings import Context, ServerSettings

log = logging.getLogger("cairn.server")


def create_app(settings: ServerSettings) -> Starlette:
    """The server for ``settings``: protocol routes, artifact proxy, health and OpenAPI."""
    load_all()
    context = Context(settings)
    routes: list[BaseRoute] = [
        Route("/health", _health, methods=["GET"]),
        Route("/version", _version, methods=["GET"]),
        *_server_info_routes(context),
        *rpc.routes(context),
        *_extra_routes(context),
        Route("/api/2.0/cairn/openapi.json", _openapi, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            HTTPException: _http_error,
            CairnError: _cairn_error,
            Exception: _unexpected_error,
        },
    )
    app.state.context = context
    return app


def _extra_routes(context: Context) -> list[BaseRoute]:
    from cairn.server.routes import extra_routes

    return extra_routes(context)


async def _health(request: Request) -> Response:
    return PlainTextResponse("OK")


async def _version(request: Request) -> Response:
    return PlainTextResponse(__version__)


def _server_info_routes(context: Context) -> list[BaseRoute]:
    async def server_info(request: Request) -> Response:
        settings = context.settings
        return rpc.JSONBody(
            {
                "store_type": "SqlStore",
                "workspaces_enabled": False,
                "trace_archival_enabled": False,
                "multipart_uploads_enabled": settings.allow_multipart
                and settings.artifacts is not None,
                "multipart_downloads_enabled": False,
                "artifact_serving_enabled": settings.artifacts is not None,
                "presigned_upload_run_id_supported": False,
                "presigned_upload_model_id_supported": False,
                "model_artifact_presigned_downloads_supported": False,
                "features_enabled": {"gateway": False, "scheduled_issue_detection": False},
                "tracking_auth": False,
                "artifacts_presigned_only": False,
                # cairn's own clients look for these to use its bulk endpoints.
                "cairn_version": __version__,
                "cairn_metric_series": True,
            }
        )

    return [
        Route(f"{prefix}/3.0/mlflow/server-info", server_info, methods=["GET"])
        for prefix in ("/api", "/ajax-api")
    ]


async def _openapi(request: Request) -> Response:
    return rpc.JSONBody(openapi.document())


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/ajax-api/"))


async def _http_error(request: Request, exc: Any) -> Response:
    if exc.status_code == 404 and _is_api(request):
        return rpc.error_response(
            EndpointNotFound(f"No API endpoint {request.method} {request.url.path}")
        )
    if exc.status_code == 405 and _is_api(request):
        error = EndpointNotFound(
            f"The endpoint {request.url.path} does not accept {request.method}"
        )
        return rpc.JSONBody(error.to_json(), status_code=405, headers=exc.headers)
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)


async def _cairn_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CairnError)
    return rpc.error_response(exc)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("Unexpected error serving %s %s", request.method, request.url.path)
    return rpc.JSONBody(
        {"error_code": "INTERNAL_ERROR", "message": "Internal server error; see the server log"},
        status_code=500,
    )
