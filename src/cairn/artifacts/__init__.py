"""Artifact storage: the files a run saves, under the run's artifact root URI.

:func:`get_artifact_repository` picks the implementation from the URI's scheme:

* no scheme (a plain path) or ``file`` -> :class:`LocalArtifactRepository` (no fsspec);
* a scheme registered with :func:`register_artifact_repository` -> that factory;
* ``mlflow-artifacts``, ``http``, ``https`` -> :class:`.proxy.ProxyArtifactRepository`, through
  a tracking server's artifact proxy (``mlflow-artifacts:`` needs the tracking URI);
* any other scheme fsspec knows (``s3``, ``gs``, ``abfs``, ``memory``...) ->
  :class:`FsspecArtifactRepository`.

Importing this package does not import fsspec or httpx.

Example::

    >>> import tempfile
    >>> root = join_uri(tempfile.mkdtemp(), "1", "run-id", "artifacts")
    >>> repo = get_artifact_repository(root)
    >>> repo.log_bytes(b"a,b\\n1,2\\n", "data/table.csv")
    >>> [f.path for f in repo.list_artifacts("data")]
    ['data/table.csv']
"""

from __future__ import annotations

from collections.abc import Callable

from cairn.artifacts.base import ArtifactRepository
from cairn.artifacts.fsspec_repo import FsspecArtifactRepository
from cairn.artifacts.local import LocalArtifactRepository
from cairn.artifacts.uri import join_uri, local_path_from_uri, uri_scheme
from cairn.errors import InvalidParameter

__all__ = [
    "ArtifactRepository",
    "FsspecArtifactRepository",
    "LocalArtifactRepository",
    "get_artifact_repository",
    "join_uri",
    "local_path_from_uri",
    "register_artifact_repository",
]

ArtifactRepositoryFactory = Callable[[str], ArtifactRepository]


#: Scheme -> factory. ``""`` is a plain path. Other modules extend it through
#: :func:`register_artifact_repository`; schemes missing here fall back to fsspec.
_SCHEMES: dict[str, ArtifactRepositoryFactory] = {
    "": LocalArtifactRepository,
    "file": LocalArtifactRepository,
    # fsspec's alias of "file": kept local so that the symlink checks always apply on disk.
    "local": LocalArtifactRepository,
}

#: Served by a tracking server; built here (not in _SCHEMES) because they need its URI.
_PROXIED_SCHEMES = ("http", "https", "mlflow-artifacts")


def register_artifact_repository(scheme: str, factory: ArtifactRepositoryFactory) -> None:
    """Make :func:`get_artifact_repository` use ``factory(uri)`` for URIs with ``scheme``.

    Replaces any factory registered earlier for the scheme (case-insensitive).

    Raises:
        InvalidParameter: ``scheme`` is empty or not a string.
    """
    if not isinstance(scheme, str) or not scheme:
        raise InvalidParameter(f"Invalid artifact URI scheme {scheme!r}: a non-empty string")
    _SCHEMES[scheme.lower()] = factory


def get_artifact_repository(uri: str, tracking_uri: str | None = None) -> ArtifactRepository:
    """The artifact repository for root ``uri``, chosen by its scheme.

    Args:
        uri: the artifact root (a run's ``artifact_uri``).
        tracking_uri: the tracking server that serves ``mlflow-artifacts:`` URIs; the
            configured tracking URI when None. Ignored for other schemes.

    >>> get_artifact_repository("mlflow-artifacts:/1/r/artifacts", "http://localhost:5000")
    ProxyArtifactRepository('mlflow-artifacts:/1/r/artifacts')

    Raises:
        InvalidParameter: the scheme is unknown (the message lists the supported ones), its
            fsspec implementation is not installed, or an ``mlflow-artifacts:`` URI comes
            without an http(s) tracking URI.
    """
    scheme = uri_scheme(uri)
    factory = _SCHEMES.get(scheme)
    if factory is not None:
        return factory(uri)
    if scheme in _PROXIED_SCHEMES:
        from cairn.artifacts.proxy import ProxyArtifactRepository

        return ProxyArtifactRepository(uri, tracking_uri)

    import fsspec

    try:
        fsspec.get_filesystem_class(scheme)
    except ImportError as err:
        # fsspec knows the scheme but its package is missing; its message says which one.
        raise InvalidParameter(
            f"Cannot open artifact root {uri!r}: the {scheme}:// file system is not "
            f"installed ({err})"
        ) from None
    except ValueError:
        cairn_schemes = sorted({s for s in _SCHEMES if s} | set(_PROXIED_SCHEMES))
        fsspec_schemes = sorted(set(fsspec.available_protocols()) - set(cairn_schemes))
        raise InvalidParameter(
            f"Unsupported artifact URI scheme {scheme!r} in {uri!r}. Supported: plain paths, "
            f"{', '.join(cairn_schemes)}, and fsspec protocols ({', '.join(fsspec_schemes)})."
        ) from None
    return FsspecArtifactRepository(uri)
