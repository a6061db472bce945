"""The entry point uvicorn workers import (``cairn server --workers N``).

Each worker process builds its app from ``CAIRN_SERVER_*`` environment variables, which
``cairn server`` sets before starting uvicorn; this is the one place that reads them.
"""

from __future__ import annotations

import os

from starlette.applications import Starlette

from cairn.server.app import create_app
from cairn.server.settings import ServerSettings

BACKEND_ENV = "CAIRN_SERVER_BACKEND_STORE_URI"
ARTIFACTS_ENV = "CAIRN_SERVER_ARTIFACTS_DESTINATION"
NO_ARTIFACTS_ENV = "CAIRN_SERVER_NO_SERVE_ARTIFACTS"


def app() -> Starlette:
    """Build the server app from the environment (a uvicorn ``factory``)."""
    settings = ServerSettings.for_uri(
        os.environ.get(BACKEND_ENV), os.environ.get(ARTIFACTS_ENV) or None
    )
    if os.environ.get(NO_ARTIFACTS_ENV):
        settings.artifacts = None
    return create_app(settings)
