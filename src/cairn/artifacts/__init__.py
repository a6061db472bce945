"""Artifact storage: the files a run saves, under the run's artifact root URI.

:func:`get_artifact_repository` picks the implementation from the URI's scheme:

* no scheme (a plain path) or ``file`` -> :class:`LocalArtifactRepository` (no fsspec);
* a scheme registered with :func:`register_artifact_repository` -> that factory;
* ``mlflow-artifacts``, ``http``, ``https`` -> not yet available (the proxied artifact client
  comes with the tracking server);
* any other scheme fsspec knows (``s3``, ``gs``, ``abfs``, ``memory``...) ->
  :class:`FsspecArtifactRepository`.

Importing this package does not import fsspec.

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


def _proxied_not_available(uri: str) -> ArtifactRepository:
    raise InvalidParameter(
        f"Cannot open artifact root {uri!r}: {uri_scheme(uri)}:// artifact URIs are served "
        "through a tracking server, and the proxied artifact client comes with the tracking "
        "server for now. Use a local path, file:// URI or fsspec URL (s3://, gs://...) as the "
        "artifact location meanwhile."
    )


#: Scheme -> factory. ``""`` is a plain path. Other modules extend it through
#: :func:`register_artifact_repository`; schemes missing here fall back to fsspec.
_SCHEMES: dict[str, ArtifactRepositoryFactory] = {
    "": LocalArtifactRepository,
    "file": LocalArtifactRepository,
    # fsspec's alias of "file": kept local so that the symlink checks always apply on disk.
    "local": LocalArtifactRepository,
    "mlflow-artifacts": _proxied_not_available,
    "http": _proxied_not_available,
    "https": _proxied_not_available,
}


def register_artifact_repository(scheme: str, factory: ArtifactRepositoryFactory) -> None:
    """Make :func:`get_artifact_repository` use ``factory(uri)`` for URIs with ``scheme``.

    Replaces any factory registered earlier for the scheme (case-insensitive).

    Raises:
        InvalidParameter: ``scheme`` is empty or not a string.
    """
    if not isinstance(scheme, str) or not scheme:
        raise InvalidParameter(f"Invalid artifact URI scheme {scheme!r}: a non-empty string")
    _SCHEMES[scheme.lower()] = factory


def get_artifact_repository(uri: str) -> ArtifactRepository:
    """The artifact repository for root ``uri``, chosen by its scheme.

    Raises:
        InvalidParameter: the scheme is unknown (the message lists the supported ones), its
            fsspec implementation is not installed, or it is a proxied scheme not yet
            supported.
    """
    scheme = uri_scheme(uri)
    factory = _SCHEMES.get(scheme)
    if factory is not None:
        return factory(uri)

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
        cairn_schemes = sorted(
            s for s, f in _SCHEMES.items() if s and f is not _proxied_not_available
        )
        fsspec_schemes = sorted(set(fsspec.available_protocols()) - set(cairn_schemes))
        raise InvalidParameter(
            f"Unsupported artifact URI scheme {scheme!r} in {uri!r}. Supported: plain paths, "
            f"{', '.join(cairn_schemes)}, and fsspec protocols ({', '.join(fsspec_schemes)})."
        ) from None
    return FsspecArtifactRepository(uri)
