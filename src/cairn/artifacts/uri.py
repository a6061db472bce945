"""Artifact URI helpers: the scheme of a URI, joining paths onto it, local paths from it.

``file`` URIs are percent-encoded (as :meth:`pathlib.Path.as_uri` writes them), so
:func:`join_uri` encodes the parts it appends to one and :func:`local_path_from_uri` decodes.
Other schemes (``s3://``, ``gs://``, ``memory://``...) take paths verbatim, as fsspec does.

Example::

    >>> join_uri("s3://bucket/prefix/", "1", "abc/artifacts")
    's3://bucket/prefix/1/abc/artifacts'
    >>> join_uri("file:///tmp/mlruns", "my run")
    'file:///tmp/mlruns/my%20run'
    >>> local_path_from_uri("file:///tmp/mlruns/my%20run")
    '/tmp/mlruns/my run'
"""

from __future__ import annotations

import os
import urllib.parse

__all__ = ["join_uri", "local_path_from_uri", "uri_scheme"]

#: Schemes naming the local file system ("local" is fsspec's alias of "file").
LOCAL_SCHEMES = frozenset({"", "file", "local"})


def uri_scheme(uri: str) -> str:
    """The lower-cased scheme of ``uri``; ``""`` for a plain path (a drive letter included).

    >>> uri_scheme("S3://b/k"), uri_scheme("/abs/path"), uri_scheme("C:/Users/me")
    ('s3', '', '')
    """
    scheme = urllib.parse.urlsplit(uri).scheme.lower()
    # "C:\\runs" parses with scheme "c": one letter is a Windows drive, not a URI scheme.
    return "" if len(scheme) == 1 else scheme


def join_uri(root: str, *parts: str) -> str:
    """Append path ``parts`` to ``root`` with exactly one ``/`` between pieces.

    Works for plain paths and for URIs with or without a host (``file:///x``, ``s3://b/p``).
    Empty parts and leading/trailing slashes on parts are ignored; parts are otherwise not
    normalized (validate artifact paths before joining them).

    >>> join_uri("file:///", "a", "/b/")
    'file:///a/b'
    """
    pieces = [p.strip("/") for p in parts]
    pieces = [p for p in pieces if p]
    if not pieces:
        return root
    if uri_scheme(root) in ("file", "local"):
        pieces = [urllib.parse.quote(p, safe="/") for p in pieces]
    tail = "/".join(pieces)
    base = root.rstrip("/")
    if not base or base.endswith(":"):
        # The root is only a scheme and slashes ("file:///", "memory://", "/"): keep them all.
        return root + tail if root.endswith("/") else f"{root}/{tail}"
    return f"{base}/{tail}"


def local_path_from_uri(uri: str) -> str | None:
    """The local path a ``file`` URI or plain path names; None for any other scheme.

    Handles ``file:///abs``, ``file:/abs``, ``file://localhost/abs`` and percent-encoding.
    Plain paths (absolute or relative) are returned unchanged. A ``file`` URI naming another
    host gives a UNC path on Windows and None elsewhere.

    >>> local_path_from_uri("file:/abs/a%23b"), local_path_from_uri("runs/1")
    ('/abs/a#b', 'runs/1')
    >>> local_path_from_uri("s3://bucket/key") is None
    True
    """
    scheme = uri_scheme(uri)
    if not scheme:
        return uri
    if scheme not in LOCAL_SCHEMES:
        return None
    parts = urllib.parse.urlsplit(uri)
    # urlsplit, not urlparse: ';' is a legal file-name character, not a parameter marker.
    # '?' and '#' must be percent-encoded in a file URI; a raw one starts query / fragment.
    path = urllib.parse.unquote(parts.path)
    if parts.netloc not in ("", "localhost"):
        if os.name == "nt":
            return f"//{parts.netloc}{path}"
        return None
    if os.name == "nt" and len(path) > 2 and path[0] == "/" and path[2] == ":":
        path = path[1:]  # file:///C:/x -> C:/x
    return path
