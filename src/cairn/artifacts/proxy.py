"""Artifacts through a tracking server's proxy: ``mlflow-artifacts:`` and ``http(s)://`` URIs.

The server (``cairn server`` or MLflow's) stores the files; the client needs no cloud
credentials, only the tracking server's. URIs resolve as MLflow's client resolves them:

=============================================  =============================================
artifact URI                                   files under
=============================================  =============================================
``mlflow-artifacts:/1/<run>/artifacts``        ``<tracking uri>/api/2.0/mlflow-artifacts/``
                                               ``artifacts/1/<run>/artifacts``
``mlflow-artifacts://host:port/1/...``         the same on ``host:port`` (tracking scheme)
``http(s)://h/api/2.0/mlflow-artifacts/``      that URL exactly
``artifacts/1/...``
=============================================  =============================================

Transfers stream in :data:`~cairn.artifacts.base.CHUNK_SIZE` pieces both ways over one
keep-alive connection pool per process. Connection errors and 408/429/5xx answers are retried
a bounded number of times with exponential backoff, then raise
:class:`~cairn.errors.TrackingServerUnavailable`; the settings are the REST store's:
``CAIRN_HTTP_MAX_RETRIES`` (default 4), ``CAIRN_HTTP_BACKOFF_FACTOR`` (default 2 s, doubled
each retry) and ``CAIRN_HTTP_TIMEOUT`` (seconds to wait for an answer, default 120); the
``CAIRN_HTTP_REQUEST_*`` spellings are read too. Credentials come from
:func:`cairn._http.auth_headers`. Files of at least ``CAIRN_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE``
bytes (default 500 MB) go up in ``CAIRN_MULTIPART_UPLOAD_CHUNK_SIZE`` parts (default 10 MB)
when the server's ``server-info`` offers multipart uploads.

Example::

    >>> repo = ProxyArtifactRepository(
    ...     "mlflow-artifacts:/1/abc/artifacts", tracking_uri="http://localhost:5000"
    ... )
    >>> repo.file_url("model/MLmodel")
    'http://localhost:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model/MLmodel'
    >>> repo.log_bytes(b"hello", "notes.txt")      # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import contextlib
import io
import logging
import mimetypes
import os
import posixpath
import random
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

import httpx

from cairn._http import default_headers
from cairn.artifacts.base import CHUNK_SIZE, ArtifactRepository, write_atomically
from cairn.artifacts.uri import uri_scheme
from cairn.entities import FileInfo
from cairn.errors import (
    ArtifactNotFound,
    CairnError,
    EndpointNotFound,
    InvalidArtifactPath,
    InvalidParameter,
    ResourceNotFound,
    TrackingServerUnavailable,
    error_from_code,
)
from cairn.validation import validate_artifact_path

__all__ = ["ProxyArtifactRepository", "resolve_proxy_uri"]

logger = logging.getLogger("cairn.artifacts")

#: The path segment that separates the API base from the artifact path in proxy URLs.
ARTIFACTS_SEGMENT = "/mlflow-artifacts/artifacts"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MULTIPART_MINIMUM_ENV = "CAIRN_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE"
MULTIPART_CHUNK_ENV = "CAIRN_MULTIPART_UPLOAD_CHUNK_SIZE"
DEFAULT_MULTIPART_MINIMUM = 500 * 1024 * 1024
DEFAULT_MULTIPART_CHUNK = 10 * 1024 * 1024
#: Parts uploaded at once in a multipart upload.
MULTIPART_WORKERS = 4
#: How MLflow's server starts the message refusing multipart uploads.
_MULTIPART_UNSUPPORTED = "Multipart upload is not supported"
#: How long a server's ``server-info`` answer is trusted (MLflow's client uses 60 s too).
SERVER_INFO_TTL = 60.0


@dataclass(frozen=True)
class ProxyLocation:
    """Where a proxied artifact root lives.

    Attributes:
        api: the artifact API base, e.g. ``http://h:5000/api/2.0/mlflow-artifacts``.
        root: the root's path below the server's artifact destination, e.g.
            ``1/<run_id>/artifacts`` (``""`` for the destination itself).
    """

    api: str
    root: str


def resolve_proxy_uri(artifact_uri: str, tracking_uri: str | None = None) -> ProxyLocation:
    """Where ``artifact_uri`` (``mlflow-artifacts:`` or ``http(s)://``) is served.

    ``mlflow-artifacts:`` URIs need an http(s) ``tracking_uri``: by default the configured one
    (``cairn.set_tracking_uri``, ``CAIRN_TRACKING_URI``, ``MLFLOW_TRACKING_URI``).

    >>> resolve_proxy_uri("mlflow-artifacts://other:9000/1/r", "https://track/prefix")
    ProxyLocation(api='https://other:9000/prefix/api/2.0/mlflow-artifacts', root='1/r')

    Raises:
        InvalidParameter: no http(s) tracking URI for an ``mlflow-artifacts:`` URI, or an
            http(s) URI that is not an artifact proxy URL.
        InvalidArtifactPath: the root path contains ``..`` or similar.
    """
    scheme = uri_scheme(artifact_uri)
    parts = urllib.parse.urlsplit(artifact_uri)
    if scheme == "mlflow-artifacts":
        tracking = _tracking_uri(artifact_uri, tracking_uri)
        track = urllib.parse.urlsplit(tracking)
        netloc = parts.netloc or track.netloc
        api = f"{track.scheme}://{netloc}{track.path.rstrip('/')}/api/2.0/mlflow-artifacts"
        root = parts.path
    elif scheme in ("http", "https"):
        prefix, found, tail = artifact_uri.partition(ARTIFACTS_SEGMENT)
        if not found or (tail and not tail.startswith("/")):
            raise InvalidParameter(
                f"Cannot use {artifact_uri!r} as an artifact root: an http(s) artifact URI must "
                f"point at a tracking server's artifact proxy (.../api/2.0{ARTIFACTS_SEGMENT}/...)"
            )
        api = prefix + "/mlflow-artifacts"
        root = urllib.parse.unquote(urllib.parse.urlsplit(tail).path)
    else:
        raise InvalidParameter(f"{artifact_uri!r} is not a proxied artifact URI")
    return ProxyLocation(api, validate_artifact_path(root.strip("/")))


def _tracking_uri(artifact_uri: str, tracking_uri: str | None) -> str:
    if tracking_uri is None:
        # The one cairn.set_tracking_uri chose, else the environment's, else ./mlruns.
        from cairn._fluent import get_tracking_uri

        tracking_uri = get_tracking_uri()
    if uri_scheme(tracking_uri) not in ("http", "https"):
        raise InvalidParameter(
            f"Cannot open artifact root {artifact_uri!r}: mlflow-artifacts URIs are served by "
            f"a tracking server, but the tracking URI is {tracking_uri!r}. Use the server's "
            "http(s):// URL as tracking URI (cairn.set_tracking_uri or CAIRN_TRACKING_URI)."
        )
    return tracking_uri


class ProxyArtifactRepository(ArtifactRepository):
    """Artifacts stored by a tracking server, moved over its artifact proxy API.

    Args:
        root_uri: ``mlflow-artifacts:/...`` or ``http(s)://.../mlflow-artifacts/artifacts/...``.
        tracking_uri: the server's URL, needed for ``mlflow-artifacts:`` URIs; defaults to the
            configured tracking URI.
        client: the httpx client to use (tests); by default one shared pool per process.
        max_retries: retries after the first attempt; ``CAIRN_HTTP_MAX_RETRIES``.
        backoff_factor: first retry delay in seconds, doubled each time;
            ``CAIRN_HTTP_BACKOFF_FACTOR``.

    Raises (constructor):
        InvalidParameter: see :func:`resolve_proxy_uri`.

    Errors of the transfers: :class:`~cairn.errors.ArtifactNotFound` (404),
    :class:`~cairn.errors.InvalidParameter` (400), the class matching the server's
    ``error_code`` otherwise, and :class:`~cairn.errors.TrackingServerUnavailable` when the
    server cannot be reached or keeps failing after the retries.
    """

    def __init__(
        self,
        root_uri: str,
        tracking_uri: str | None = None,
        *,
        client: httpx.Client | None = None,
        max_retries: int | None = None,
        backoff_factor: float | None = None,
    ) -> None:
        super().__init__(root_uri)
        self.location = resolve_proxy_uri(root_uri, tracking_uri)
        self._client = client
        self.max_retries = max(
            0, max_retries if max_retries is not None else int(_env_setting("MAX_RETRIES", 4))
        )
        self.backoff_factor = (
            backoff_factor if backoff_factor is not None else _env_setting("BACKOFF_FACTOR", 2.0)
        )
        self._timeout = httpx.Timeout(_env_setting("TIMEOUT", 120.0), connect=10.0)

    # -- URLs -------------------------------------------------------------------------------

    def _full(self, rel: str) -> str:
        root = self.location.root
        return f"{root}/{rel}" if root and rel else root or rel

    def file_url(self, rel: str) -> str:
        """The URL of artifact ``rel`` (relative to this root), percent-encoded."""
        return f"{self.location.api}/artifacts/{_quote(self._full(rel))}"

    def _mpu_url(self, action: str, directory: str) -> str:
        return f"{self.location.api}/mpu/{action}/{_quote(directory)}"

    def _server_info_url(self) -> str | None:
        api = self.location.api.removesuffix("/mlflow-artifacts")
        if not api.endswith("/2.0"):
            return None
        return api.removesuffix("/2.0") + "/3.0/mlflow/server-info"

    # -- primitives -------------------------------------------------------------------------

    def _write_file(self, local_file: str, rel: str) -> None:
        size = os.path.getsize(local_file)
        large = size >= _env_int(MULTIPART_MINIMUM_ENV, DEFAULT_MULTIPART_MINIMUM)
        if large and self._multipart_enabled() and self._multipart_upload(local_file, rel, size):
            return
        headers = {"Content-Type": _guess_type(rel), "Content-Length": str(size)}
        response = self._request(
            "PUT",
            self.file_url(rel),
            body=lambda: _read_chunks(local_file, 0, size),
            headers=headers,
        )
        self._check(response, f"upload {rel!r}", rel)

    def _write_bytes(self, rel: str, data: bytes) -> None:
        headers = {"Content-Type": _guess_type(rel)}
        response = self._request("PUT", self.file_url(rel), body=lambda: data, headers=headers)
        self._check(response, f"upload {rel!r}", rel)

    def _make_dirs(self, rel: str) -> None:
        # The proxy protocol has no "create directory": like object stores, a directory exists
        # when a file is under it, and empty directories are not kept.
        return None

    def _stat(self, rel: str) -> FileInfo | None:
        if not rel:
            # The root "exists" once something is in it; an empty root reads as missing, as
            # a run folder never written to does locally.
            return FileInfo("", True, None) if self._list_dir("") else None
        parent, name = posixpath.split(rel)
        return next((f for f in self._list_dir(parent) if posixpath.basename(f.path) == name), None)

    def _list_dir(self, rel: str) -> list[FileInfo]:
        url = f"{self.location.api}/artifacts"
        response = self._request("GET", url, params={"path": self._full(rel)})
        self._check(response, f"list {rel or 'the artifact root'!r}", rel)
        files = _json(response).get("files") or []
        infos: list[FileInfo] = []
        for entry in files:
            name = entry.get("path", "") if isinstance(entry, dict) else ""
            try:
                # Base names only: a server must not steer where downloads land.
                safe = bool(name) and "/" not in name and validate_artifact_path(name) == name
            except InvalidArtifactPath:
                safe = False
            if not safe:
                logger.warning("Ignoring unsafe artifact name %r listed by %s", name, url)
                continue
            child = f"{rel}/{name}" if rel else name
            is_dir = bool(entry.get("is_dir", False))
            size = None if is_dir else _as_int(entry.get("file_size"))
            infos.append(FileInfo(child, is_dir, size))
        return infos

    def _open_file(self, rel: str) -> BinaryIO:
        response = self._request("GET", self.file_url(rel), stream=True)
        if response.status_code != 200:
            response.read()
            response.close()
            self._check(response, f"download {rel!r}", rel)
        return cast(BinaryIO, io.BufferedReader(_ResponseReader(response), CHUNK_SIZE))

    def _download_file(self, rel: str, local_target: str) -> None:
        # The retries in _request end once the answer starts; a connection dropped mid-body
        # restarts the whole file (the target is only replaced once it is complete).
        for attempt in range(self.max_retries + 1):
            try:
                with contextlib.closing(self._open_file(rel)) as src:
                    write_atomically(local_target, lambda dst: _copy(src, dst))
                return
            except _StreamCut:
                if attempt == self.max_retries:
                    raise
                self._sleep(attempt)

    def _delete(self, rel: str) -> None:
        response = self._request("DELETE", self.file_url(rel))
        if response.status_code == 404 and _error_code(response) == "RESOURCE_DOES_NOT_EXIST":
            return
        self._check(response, f"delete {rel or 'the artifact root'!r}", rel)

    # -- multipart --------------------------------------------------------------------------

    def _multipart_enabled(self) -> bool:
        url = self._server_info_url()
        if url is None:
            return False
        now = time.monotonic()
        with _server_info_lock:
            cached = _server_info.get(url)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            response = self._http().get(url, headers=default_headers(), timeout=self._timeout)
        except httpx.TransportError:
            return False  # not cached: the next upload asks again
        enabled = False
        if response.status_code == 200:
            with contextlib.suppress(ValueError, AttributeError):
                enabled = bool(response.json().get("multipart_uploads_enabled"))
        with _server_info_lock:
            _server_info[url] = (now + SERVER_INFO_TTL, enabled)
        return enabled

    def _multipart_upload(self, local_file: str, rel: str, size: int) -> bool:
        """Upload in parts; False when the server turns multipart down (use a plain PUT)."""
        part_size = max(1, _env_int(MULTIPART_CHUNK_ENV, DEFAULT_MULTIPART_CHUNK))
        num_parts = max(1, -(-size // part_size))
        directory, name = posixpath.split(self._full(rel))
        response = self._request(
            "POST",
            self._mpu_url("create", directory),
            json={"path": name, "num_parts": num_parts},
            retry_statuses=frozenset({408, 429}),  # a retried create would orphan an upload
        )
        message = str(_json(response).get("message", ""))
        # 501, or MLflow's server saying its destination cannot do multipart: a plain PUT.
        if response.status_code == 501 or message.startswith(_MULTIPART_UNSUPPORTED):
            return False
        self._check(response, f"start a multipart upload of {rel!r}", rel)
        created = _json(response)
        upload_id = str(created.get("upload_id", ""))
        credentials = sorted(created.get("credentials") or [], key=lambda c: c["part_number"])
        if not upload_id or len(credentials) != num_parts:
            raise CairnError(f"Malformed multipart upload answer from the server: {created!r}")
        body = {"path": name, "upload_id": upload_id}
        try:

            def put(credential: dict[str, Any]) -> dict[str, Any]:
                number = int(credential["part_number"])
                offset = (number - 1) * part_size
                etag = self._put_part(
                    str(credential["url"]),
                    dict(credential.get("headers") or {}),
                    local_file,
                    offset,
                    min(part_size, size - offset),
                )
                return {"part_number": number, "etag": etag, "url": credential["url"]}

            with ThreadPoolExecutor(min(MULTIPART_WORKERS, num_parts)) as pool:
                parts = list(pool.map(put, credentials))
            response = self._request(
                "POST", self._mpu_url("complete", directory), json={**body, "parts": parts}
            )
            self._check(response, f"complete the multipart upload of {rel!r}", rel)
        except BaseException:
            with contextlib.suppress(Exception):
                self._request("POST", self._mpu_url("abort", directory), json=body)
            raise
        return True

    def _put_part(
        self, url: str, headers: dict[str, str], local_file: str, offset: int, length: int
    ) -> str:
        headers = {**headers, "Content-Length": str(length)}
        # The part URL may be a presigned cloud URL: only our own server gets our credentials.
        own = _origin(url) == _origin(self.location.api)
        response = self._request(
            "PUT",
            url,
            body=lambda: _read_chunks(local_file, offset, length),
            headers=headers,
            authenticate=own,
        )
        self._check(response, f"upload part at offset {offset} of {local_file!r}", "")
        etag = str(response.headers.get("ETag", ""))
        if not etag:
            raise CairnError(f"The server accepted a multipart part but sent no ETag ({url})")
        return etag

    # -- HTTP -------------------------------------------------------------------------------

    def _http(self) -> httpx.Client:
        return self._client if self._client is not None else _shared_client()

    def _request(
        self,
        method: str,
        url: str,
        *,
        body: Callable[[], bytes | Iterator[bytes]] | None = None,
        params: dict[str, str] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        retry_statuses: frozenset[int] = RETRY_STATUSES,
        authenticate: bool = True,
    ) -> httpx.Response:
        """Send a request, retrying connection errors and ``retry_statuses`` with backoff.

        ``body`` makes the content afresh for every attempt (a file is re-read from its start).
        Returns the last answer, whatever its status; raises TrackingServerUnavailable when
        the server could not be reached at all.
        """
        client = self._http()
        for attempt in range(self.max_retries + 1):
            sent = {**(default_headers() if authenticate else {}), **(headers or {})}
            try:
                request = client.build_request(
                    method,
                    url,
                    content=body() if body is not None else None,
                    params=params,
                    json=json,
                    headers=sent,
                    timeout=self._timeout,
                )
                response = client.send(request, stream=stream)
            except httpx.TransportError as err:
                if attempt == self.max_retries:
                    raise self._unavailable(method, url, err) from err
                logger.info("Retrying %s %s after %s", method, url, err)
                self._sleep(attempt)
                continue
            if (
                response.status_code in retry_statuses
                and attempt < self.max_retries
                and not _artifacts_disabled(response)
            ):
                response.close()
                logger.info("Retrying %s %s after HTTP %d", method, url, response.status_code)
                self._sleep(attempt)
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _sleep(self, attempt: int) -> None:
        # Full jitter, so many clients failing together do not come back in lockstep.
        delay = min(self.backoff_factor * (2**attempt), 30.0)
        time.sleep(delay * (0.5 + random.random() / 2))

    def _unavailable(self, method: str, url: str, err: Exception) -> TrackingServerUnavailable:
        return TrackingServerUnavailable(
            f"{method} {url} failed after {self.max_retries + 1} attempts: "
            f"{type(err).__name__}: {err}. Is the tracking server running and reachable?"
        )

    def _check(self, response: httpx.Response, what: str, rel: str) -> None:
        """Raise the error an unsuccessful answer stands for."""
        if response.is_success:
            return
        status = response.status_code
        code = _error_code(response)
        where = f"{response.request.method} {response.request.url}"
        if code is not None:
            message = str(_json(response).get("message", ""))
            error = error_from_code(code, f"Cannot {what}: {message} ({where})")
            if isinstance(error, ResourceNotFound) and not isinstance(error, ArtifactNotFound):
                error = ArtifactNotFound(error.message, path=rel)
            raise error
        text = response.text.strip()[:300]
        if _artifacts_disabled(response):
            raise TrackingServerUnavailable(
                f"Cannot {what}: the tracking server does not serve artifacts ({text})"
            )
        if status == 404:
            raise EndpointNotFound(
                f"Cannot {what}: {where} answered 404 without an error body; is this a "
                "tracking server with artifact proxying (--serve-artifacts)?"
            )
        if status == 400:
            raise InvalidParameter(f"Cannot {what}: {where} answered 400: {text}")
        if status in RETRY_STATUSES:
            raise TrackingServerUnavailable(f"Cannot {what}: {where} answered {status}: {text}")
        code = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}.get(status, "INTERNAL_ERROR")
        hint = " (check CAIRN_TRACKING_TOKEN or _USERNAME/_PASSWORD)" if status == 401 else ""
        raise error_from_code(code, f"Cannot {what}: {where} answered {status}{hint}: {text}")


class _StreamCut(TrackingServerUnavailable):
    """The connection dropped in the middle of a download."""


class _ResponseReader(io.RawIOBase):
    """A streamed response body as a raw binary file; closing it closes the response.

    A connection lost mid-body raises :class:`_StreamCut` (a TrackingServerUnavailable), so
    readers see cairn's error rather than httpx's.
    """

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._chunks = response.iter_bytes(CHUNK_SIZE)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._pending:
            try:
                self._pending = next(self._chunks, b"")
            except httpx.TransportError as err:
                raise _StreamCut(
                    f"Lost the connection while downloading {self._response.url}: {err}"
                ) from err
        view = memoryview(buffer).cast("B")
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def close(self) -> None:
        self._response.close()
        super().close()


# -- module helpers ---------------------------------------------------------------------------

_client_lock = threading.Lock()
_client_state: dict[str, Any] = {}
_server_info_lock = threading.Lock()
_server_info: dict[str, tuple[float, bool]] = {}


def _shared_client() -> httpx.Client:
    """One keep-alive pool per process; rebuilt in a forked child, whose inherited sockets
    belong to the parent."""
    with _client_lock:
        client = _client_state.get("client")
        if client is None or _client_state.get("pid") != os.getpid():
            client = httpx.Client(
                timeout=httpx.Timeout(120.0, connect=10.0),
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            )
            _client_state.update(client=client, pid=os.getpid())
            atexit.register(client.close)
        return cast(httpx.Client, client)


def _read_chunks(path: str, offset: int, length: int) -> Iterator[bytes]:
    """``length`` bytes of ``path`` from ``offset``, in CHUNK_SIZE pieces."""
    with open(path, "rb") as src:
        src.seek(offset)
        left = length
        while left > 0:
            chunk = src.read(min(CHUNK_SIZE, left))
            if not chunk:
                raise OSError(f"{path!r} shrank while it was being uploaded")
            left -= len(chunk)
            yield chunk


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _copy(src: BinaryIO, dst: BinaryIO) -> None:
    while chunk := src.read(CHUNK_SIZE):
        dst.write(chunk)


def _quote(path: str) -> str:
    return urllib.parse.quote(path, safe="/")


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _guess_type(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error_code(response: httpx.Response) -> str | None:
    code = _json(response).get("error_code")
    return str(code) if code else None


def _artifacts_disabled(response: httpx.Response) -> bool:
    """A 503 from a server started without artifact serving (MLflow's and cairn's text):
    permanent, so retrying it for a minute would only delay the error."""
    if response.status_code != 503:
        return False
    response.read()  # a streamed answer has not been read yet; an error body is small
    return "serve-artifacts" in response.text


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        return int(raw) if raw else default
    except ValueError:
        raise InvalidParameter(f"{name}={raw!r} is not a whole number") from None


def _env_setting(name: str, default: float) -> float:
    """``CAIRN_HTTP_<name>``, else ``CAIRN_HTTP_REQUEST_<name>`` (the REST store reads both)."""
    for variable in (f"CAIRN_HTTP_{name}", f"CAIRN_HTTP_REQUEST_{name}"):
        raw = os.environ.get(variable, "").strip()
        if raw:
            try:
                return float(raw)
            except ValueError:
                raise InvalidParameter(f"{variable}={raw!r} is not a number") from None
    return default
