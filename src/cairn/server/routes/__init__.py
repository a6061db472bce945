"""Protocol endpoints, one module per resource. Importing a module declares its RPCs."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from cairn.server.settings import Context

MODULES = (
    "experiments",
    "runs",
    "metrics",
    "logged_models",
    "artifacts",
    "bulk",
    "ui_api",
    "webui",
)


def load_all() -> None:
    """Import every route module, so that their RPCs are declared."""
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")


def extra_routes(context: Context) -> list[BaseRoute]:
    """Routes that are not JSON RPCs (the artifact proxy, the UI), from modules that have
    them: each may define ``routes(context) -> list[BaseRoute]``."""
    found: list[BaseRoute] = []
    for name in MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        make = getattr(module, "routes", None)
        if make is not None:
            found.extend(make(context))
    return found
