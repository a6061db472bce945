"""The tracking server: MLflow's REST protocol over cairn's stores.

>>> from cairn.server import ServerSettings, create_app
"""

from cairn.server.app import create_app
from cairn.server.settings import Context, ServerSettings

__all__ = ["Context", "ServerSettings", "create_app"]
