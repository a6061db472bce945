"""From a tracking URI to a store, one per URI per process.

Tracking URIs, in the order they are looked up: the one passed in (or set with
``cairn.set_tracking_uri``), ``CAIRN_TRACKING_URI``, ``MLFLOW_TRACKING_URI``, then ``./mlruns``.

=================================  ==========================================================
URI                                store
=================================  ==========================================================
``./mlruns``, ``/abs/dir``,        embedded: SQLite file ``<dir>/cairn.db``, artifacts in
``file:///abs/dir``                ``<dir>/<experiment_id>/<run_id>/artifacts``
``sqlite:///path/to/file.db``      SQLite; artifacts in ``mlartifacts/`` beside the file
``postgresql://user@host/db``      PostgreSQL; artifacts in ``$CAIRN_ARTIFACT_ROOT`` or
                                   ``./mlartifacts``
``http://host:port``               a tracking server (``cairn server`` or MLflow's)
=================================  ==========================================================

>>> resolve_tracking_uri("sqlite:////tmp/x.db")   # four slashes: an absolute path
'sqlite:////tmp/x.db'
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from cairn.errors import InvalidTrackingUri

if TYPE_CHECKING:
    from cairn.store.base import TrackingStore
    from cairn.store.writer import AsyncWriter

DEFAULT_TRACKING_URI = "./mlruns"
EMBEDDED_DB_NAME = "cairn.db"
_DB_SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg")
_REMOTE_SCHEMES = ("http", "https")

_stores: dict[str, TrackingStore] = {}
_writers: dict[int, AsyncWriter] = {}
_lock = threading.Lock()


def resolve_tracking_uri(uri: str | None = None) -> str:
    """The canonical form of ``uri`` (or of the configured default).

    Local paths become absolute ``file://`` URIs and SQLite paths absolute, so the same store
    opened from two spellings is one store. Raises InvalidTrackingUri for unknown schemes.
    """
    if not uri:
        uri = (
            os.environ.get("CAIRN_TRACKING_URI")
            or os.environ.get("MLFLOW_TRACKING_URI")
            or DEFAULT_TRACKING_URI
        )
    uri = str(uri).strip()
    scheme = _scheme(uri)
    if scheme in ("", "file"):
        return Path(local_path(uri)).absolute().as_uri()
    if scheme == "sqlite":
        path = uri[len("sqlite:///") :] if uri.startswith("sqlite:///") else None
        if not path or path == ":memory:":
            raise InvalidTrackingUri(
                f"Invalid SQLite tracking URI {uri!r}: use sqlite:///relative/path.db or "
                "sqlite:////absolute/path.db (an in-memory database cannot be shared)"
            )
        return "sqlite:///" + str(Path(path).absolute())
    if scheme in _DB_SCHEMES or scheme in _REMOTE_SCHEMES:
        return uri.rstrip("/")
    raise InvalidTrackingUri(
        f"Unsupported tracking URI {uri!r} (scheme {scheme!r}). cairn understands a local "
        "folder (./mlruns, file:///path), sqlite:///path.db, postgresql://user@host/db and "
        "http(s)://host:port for a tracking server."
    )


def _scheme(uri: str) -> str:
    if len(uri) >= 2 and uri[1] == ":" and uri[0].isalpha():  # a Windows drive letter
        return ""
    head, sep, _ = uri.partition(":")
    if not sep or not head.replace("+", "").replace("-", "").replace(".", "").isalnum():
        return ""
    return head.lower()


def local_path(uri: str) -> str:
    """The filesystem path of a ``file:`` URI or plain path."""
    if uri.startswith("file:"):
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            raise InvalidTrackingUri(f"File URI {uri!r} names a remote host; use a local path")
        return unquote(parsed.path)
    return uri


def get_store(uri: str | None = None) -> TrackingStore:
    """The store for ``uri``, created on first use and shared within the process."""
    resolved = resolve_tracking_uri(uri)
    store = _stores.get(resolved)
    if store is not None:
        return store
    with _lock:
        store = _stores.get(resolved)
        if store is None:
            store = _open_store(resolved)
            _stores[resolved] = store
    return store


def get_writer(store: TrackingStore) -> AsyncWriter:
    """The background writer of ``store`` (one per store per process)."""
    writer = _writers.get(id(store))
    if writer is None:
        from cairn.store.writer import AsyncWriter

        with _lock:
            writer = _writers.get(id(store))
            if writer is None:
                writer = _writers[id(store)] = AsyncWriter(store)
    return writer


def _open_store(uri: str) -> TrackingStore:
    scheme = _scheme(uri)
    if scheme in _REMOTE_SCHEMES:
        from cairn.store.rest import RestTrackingStore

        store: TrackingStore = RestTrackingStore(uri)
        return store
    from cairn.store.sql.store import SqlTrackingStore

    root_override = os.environ.get("CAIRN_ARTIFACT_ROOT")
    if scheme == "file":
        folder = Path(local_path(uri))
        folder.mkdir(parents=True, exist_ok=True)
        return SqlTrackingStore(
            "sqlite:///" + str(folder / EMBEDDED_DB_NAME),
            artifact_root=root_override or folder.as_uri(),
            display_uri=str(folder),
        )
    if scheme == "sqlite":
        db_path = Path(uri[len("sqlite:///") :])
        db_path.parent.mkdir(parents=True, exist_ok=True)
        return SqlTrackingStore(
            uri, artifact_root=root_override or (db_path.parent / "mlartifacts").as_uri()
        )
    return SqlTrackingStore(
        uri,
        artifact_root=root_override or (Path.cwd() / "mlartifacts").as_uri(),
        relative_locations=False,
    )


def _forget_after_fork() -> None:
    # Connections must not cross a fork; the child opens its own stores.
    for store in _stores.values():
        engine = getattr(store, "engine", None)
        if engine is not None:
            engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_after_fork)
