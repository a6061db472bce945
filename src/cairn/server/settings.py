"""What a server instance serves: its stores and options, injected by whoever builds the app.

No handler reads environment variables or module globals; everything comes from here.

    >>> settings = ServerSettings.for_uri("./mlruns")          # doctest: +SKIP
    >>> app = create_app(settings)                              # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cairn.artifacts.base import ArtifactRepository
    from cairn.store.base import TrackingStore

#: Experiment locations as the server hands them out: clients upload through the server.
PROXY_ROOT = "mlflow-artifacts:/"


@dataclass
class ServerSettings:
    """Configuration of one server process.

    Attributes:
        tracking_store: where experiments and runs live.
        artifacts: the repository behind ``mlflow-artifacts:/`` URIs (``--artifacts-destination``),
            or None to refuse proxied artifact requests (503, as MLflow does).
        backend_uri: shown in ``server-info`` and logs.
        allow_multipart: offer multipart uploads in ``server-info``.
    """

    tracking_store: TrackingStore
    artifacts: ArtifactRepository | None
    backend_uri: str = ""
    allow_multipart: bool = True
    static_dir: Path | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def for_uri(
        cls, backend_uri: str | None = None, artifacts_destination: str | None = None
    ) -> ServerSettings:
        """Settings for a backend store URI (a folder, ``sqlite:///...``, ``postgresql://...``).

        Experiments without an explicit location get ``mlflow-artifacts:/<id>`` locations,
        served from ``artifacts_destination``; by default that is where the embedded store
        keeps artifacts (the folder itself, or ``mlartifacts/`` beside a SQLite file).
        """
        from cairn.artifacts import get_artifact_repository
        from cairn.store.registry import (
            EMBEDDED_DB_NAME,
            _scheme,
            local_path,
            resolve_tracking_uri,
        )
        from cairn.store.sql.store import SqlTrackingStore

        uri = resolve_tracking_uri(backend_uri)
        scheme = _scheme(uri)
        if scheme in ("http", "https"):
            from cairn.errors import InvalidTrackingUri

            raise InvalidTrackingUri(
                f"--backend-store-uri {uri!r} is a tracking server; a server needs a database: "
                "a folder, sqlite:///file.db or postgresql://..."
            )
        if scheme == "file":
            folder = Path(local_path(uri))
            folder.mkdir(parents=True, exist_ok=True)
            db_uri = "sqlite:///" + str(folder / EMBEDDED_DB_NAME)
            default_destination = folder.as_uri()
            relative = True
        elif scheme == "sqlite":
            db_uri = uri
            db_path = Path(uri[len("sqlite:///") :])
            db_path.parent.mkdir(parents=True, exist_ok=True)
            default_destination = (db_path.parent / "mlartifacts").as_uri()
            relative = True
        else:
            db_uri = uri
            default_destination = (Path.cwd() / "mlartifacts").as_uri()
            relative = False
        store = SqlTrackingStore(
            db_uri, artifact_root=PROXY_ROOT, relative_locations=relative, display_uri=uri
        )
        destination = artifacts_destination or default_destination
        return cls(
            tracking_store=store,
            artifacts=get_artifact_repository(destination),
            backend_uri=uri,
        )


@dataclass
class Context:
    """What handlers get next to the request message."""

    settings: ServerSettings

    @property
    def store(self) -> TrackingStore:
        return self.settings.tracking_store
