"""What every request to a tracking server carries: credentials and a user agent.

Shared by the clients that talk to a server over HTTP (the artifact proxy repository, the
REST tracking store). Credentials come from the environment *at call time*, as MLflow's
client reads them, so a token rotated by the surrounding process takes effect at once:

================================================  =========================================
Variables (``CAIRN_*`` first, then ``MLFLOW_*``)  Header
================================================  =========================================
``..._TRACKING_USERNAME`` + ``..._PASSWORD``      ``Authorization: Basic <base64(user:pw)>``
``..._TRACKING_TOKEN``                            ``Authorization: Bearer <token>``
================================================  =========================================

Basic wins when both are set, as in MLflow. Importing this module imports nothing heavy.

Example::

    >>> import os
    >>> os.environ["CAIRN_TRACKING_TOKEN"] = "s3cret"
    >>> auth_headers()
    {'Authorization': 'Bearer s3cret'}
    >>> del os.environ["CAIRN_TRACKING_TOKEN"]
"""

from __future__ import annotations

import base64
import os

from cairn._version import __version__

__all__ = ["USER_AGENT", "auth_headers", "default_headers"]

#: Sent with every request, so server logs tell cairn clients apart.
USER_AGENT = f"cairn/{__version__}"


def _env(name: str) -> str | None:
    """``CAIRN_<name>`` or else ``MLFLOW_<name>``; empty values count as unset."""
    return os.environ.get(f"CAIRN_{name}") or os.environ.get(f"MLFLOW_{name}") or None


def auth_headers() -> dict[str, str]:
    """The ``Authorization`` header the environment asks for, or ``{}``.

    Read on every call (never cached), so credentials changed at run time are used by the
    next request.

    >>> import os
    >>> os.environ.update(CAIRN_TRACKING_USERNAME="ada", CAIRN_TRACKING_PASSWORD="pw")
    >>> auth_headers()
    {'Authorization': 'Basic YWRhOnB3'}
    >>> for name in ("CAIRN_TRACKING_USERNAME", "CAIRN_TRACKING_PASSWORD"):
    ...     del os.environ[name]
    """
    username, password = _env("TRACKING_USERNAME"), _env("TRACKING_PASSWORD")
    if username and password:
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}
    bearer = _env("TRACKING_TOKEN")
    if bearer:
        return {"Authorization": f"Bearer {bearer}"}
    return {}


def default_headers() -> dict[str, str]:
    """``User-Agent`` plus :func:`auth_headers`: what to send to the tracking server.

    >>> default_headers()["User-Agent"].startswith("cairn/")
    True
    """
    return {"User-Agent": USER_AGENT, **auth_headers()}
