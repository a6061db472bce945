"""The artifact proxy: clients move run artifacts through the server, with no cloud credentials.

Served under ``/api/2.0/mlflow-artifacts`` and ``/ajax-api/2.0/mlflow-artifacts`` (``A`` below)
over :attr:`ServerSettings.artifacts <cairn.server.settings.ServerSettings.artifacts>`, the
repository behind ``mlflow-artifacts:/`` URIs (``--artifacts-destination``):

=======================================  =================================================
``PUT A/artifacts/<path>``               store the request body (streamed) -> ``{}``
``GET A/artifacts/<path>``               the file, streamed, as an attachment
``GET A/artifacts?path=<dir>``           ``{"files": [{path (base name), is_dir, file_size}]}``
``DELETE A/artifacts/<path>``            delete a file or tree -> ``{}``
``POST A/mpu/create/<dir>``              ``{path, num_parts}`` -> ``{upload_id, credentials}``
                                         (``path``: the client's local file; its base name)
``PUT A/mpu/part/<upload_id>/<n>``       one part (the credential URLs point here) -> ETag
``POST A/mpu/complete/<dir>``            ``{path, upload_id, parts}``: join the parts -> ``{}``
``POST A/mpu/abort/<dir>``               ``{path, upload_id}``: drop the parts -> ``{}``
=======================================  =================================================

and, for the web UI, ``GET /get-artifact?run_id=&path=`` and the RPC
``GET /(ajax-)api/2.0/mlflow/artifacts/list?run_id=&path=``.

Safety: every path goes through :func:`~cairn.validation.validate_artifact_path` with URL
decoding (``..``, absolute paths, ``%2e%2e``, double encoding, backslashes and ``#`` are
``400 INVALID_PARAMETER_VALUE "Invalid path"``), so nothing is read or written outside the
destination. The destination's top level is reserved too: the staging folder of multipart
uploads (``.cairn-multipart``) and plain files there are never served, because for
``cairn server --backend-store-uri ./mlruns`` the destination is the store's own folder and
its top-level files are the SQLite database. Artifacts always live below an experiment folder
(``<experiment_id>/<run_id>/artifacts/...``), so no client needs either. Multipart uploads
left neither completed nor aborted for a week (a client that died) are removed from the
staging folder when a later upload starts.

Bodies are never held whole in memory: uploads are written in
:data:`~cairn.artifacts.base.CHUNK_SIZE` pieces through an
:class:`~cairn.artifacts.base.ArtifactWriter` (published only once complete), downloads are
streamed from the repository. With ``artifacts`` None every route answers 503 with a text body,
as MLflow does without ``--serve-artifacts``.

Example::

    >>> client.put("/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/a.txt", content=b"hi")
    ... # doctest: +SKIP
    <Response [200 OK]>
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import posixpath
import re
import time
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, BinaryIO

from pydantic import Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from cairn.artifacts.base import CHUNK_SIZE, ArtifactRepository, ArtifactWriter
from cairn.artifacts.uri import uri_scheme
from cairn.entities import FileInfo
from cairn.errors import (
    ArtifactNotFound,
    CairnError,
    InvalidArtifactPath,
    InvalidParameter,
    TrackingServerUnavailable,
    error_from_code,
)
from cairn.server import rpc
from cairn.server.messages import Message, RunRef
from cairn.server.ranges import RangeNotSatisfiable, byte_range
from cairn.server.schemas import BOOL, INT64, STRING, array, obj
from cairn.server.settings import Context
from cairn.validation import validate_artifact_path

PREFIXES = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")
#: Top-level folder of the destination where multipart parts wait for ``complete``.
STAGING = ".cairn-multipart"
#: Most parts one multipart upload may have (S3's limit too).
MAX_PARTS = 10_000
#: A multipart upload neither completed nor aborted for this long is abandoned (its client
#: died): its parts are removed, or they would stay in the staging folder for ever.
ABANDONED_UPLOAD_SECONDS = 7 * 24 * 3600
#: Abandoned uploads are looked for on ``mpu/create``, at most this often per server process.
SWEEP_INTERVAL_SECONDS = 3600
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
_PART_NUMBER = re.compile(r"[0-9]{1,5}")  # not str.isdigit: it takes "²", which int() refuses
MULTIPART_UNSUPPORTED = (
    "Multipart upload is not supported for the current artifact repository "
    "(this server runs with multipart uploads disabled)"
)
#: Content types a browser would run; served as text so an artifact cannot script the UI.
_ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/javascript",
        "application/javascript",
        "text/xml",
        "application/xml",
    }
)
_DISABLED = (
    "Endpoint {path} is disabled: this server runs without artifact serving "
    "(--no-serve-artifacts). Start it with --serve-artifacts to proxy artifacts."
)

Handler = Callable[[Request, ArtifactRepository], Awaitable[Response]]


def routes(context: Context) -> list[BaseRoute]:
    """The proxy routes under both prefixes, and the UI's ``/get-artifact``."""
    proxy = _Proxy(context)
    mounted: list[BaseRoute] = []
    for prefix in PREFIXES:
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/artifacts", proxy.list),
            ("GET", "/artifacts/{path:path}", proxy.download),
            ("PUT", "/artifacts/{path:path}", proxy.upload),
            ("DELETE", "/artifacts/{path:path}", proxy.delete),
            ("POST", "/mpu/create/{directory:path}", proxy.mpu_create),
            ("PUT", "/mpu/part/{upload_id}/{part_number}", proxy.mpu_part),
            ("POST", "/mpu/complete/{directory:path}", proxy.mpu_complete),
            ("POST", "/mpu/abort/{directory:path}", proxy.mpu_abort),
        ]
        for method, path, handler in table:
            mounted.append(Route(prefix + path, _guarded(context, handler), methods=[method]))
    mounted.append(Route("/get-artifact", proxy.ui_get_artifact, methods=["GET"]))
    return mounted


def _guarded(context: Context, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """503 when artifacts are off; cairn errors as the protocol's JSON error."""

    async def endpoint(request: Request) -> Response:
        repo = context.settings.artifacts
        if repo is None:
            return PlainTextResponse(_DISABLED.format(path=request.url.path), status_code=503)
        try:
            return await handler(request, repo)
        except CairnError as err:
            return rpc.error_response(err)

    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    return endpoint


# -- paths ------------------------------------------------------------------------------------


def artifact_path(raw: str, *, file: bool = False) -> str:
    """The destination-relative path a client named, normalized; raises "Invalid path".

    ``raw`` arrives URL-decoded once (by the server); it is checked decoded as often as it
    decodes, so ``%252e%252e`` is refused, and used as received, so names holding ``%``
    round-trip. ``file=True`` requires a file name (not the root).

    >>> artifact_path("1/run/./artifacts/a.txt")
    '1/run/artifacts/a.txt'
    >>> artifact_path("%2e%2e/etc")
    Traceback (most recent call last):
    ...
    cairn.errors.InvalidArtifactPath: Invalid path '%2e%2e/etc': ...

    Raises:
        InvalidArtifactPath: the path could leave the destination or names a reserved place.
    """
    rel = safe_path(raw)
    if rel.split("/", 1)[0] == STAGING:
        raise InvalidArtifactPath(f"Invalid path {raw!r}: {STAGING} is reserved", path=raw)
    if file and raw.endswith("/"):
        raise InvalidArtifactPath(
            f"Invalid path {raw!r}: it ends with '/', so it names a folder; include the file name",
            path=raw,
        )
    if file and (not rel or "/" not in rel):
        raise InvalidArtifactPath(
            f"Invalid path {raw!r}: artifact files live below a folder of the destination "
            "(<experiment_id>/<run_id>/artifacts/...), not at its top level",
            path=raw,
        )
    return rel


def safe_path(raw: str) -> str:
    """``raw`` (URL-decoded once) normalized, after checking every further decoding of it.

    Raises:
        InvalidArtifactPath: "Invalid path ...", with the reason.
    """
    try:
        validate_artifact_path(raw, decode=True)
        return validate_artifact_path(raw)
    except InvalidArtifactPath as err:
        reason = err.message.split(": ", 1)[-1]
        raise InvalidArtifactPath(f"Invalid path {raw!r}: {reason}", path=raw) from None


def _refuse_top_level_file(repo: ArtifactRepository, rel: str) -> None:
    """Raise "Invalid path" when ``rel`` is a file at the top of the destination (blocking)."""
    if rel and "/" not in rel:
        info = repo.file_info(rel)
        if info is not None and not info.is_dir:
            artifact_path(rel, file=True)  # raises, with the reason


def _visible(info: FileInfo) -> bool:
    """Whether a top-level entry of the destination is listed: experiment folders only."""
    return info.is_dir and info.path != STAGING


# -- the proxy --------------------------------------------------------------------------------


class _Proxy:
    def __init__(self, context: Context) -> None:
        self.context = context
        self._last_sweep = 0.0

    async def upload(self, request: Request, repo: ArtifactRepository) -> Response:
        rel = artifact_path(request.path_params["path"], file=True)
        writer = await run_in_threadpool(repo.open_writer, rel)
        await _receive_into(request, writer)
        return rpc.JSONBody({})

    async def download(self, request: Request, repo: ArtifactRepository) -> Response:
        rel = artifact_path(request.path_params["path"])
        return await _file_response(repo, rel, request.headers.get("range"), proxied=True)

    async def list(self, request: Request, repo: ArtifactRepository) -> Response:
        rel = artifact_path(request.query_params.get("path", ""))
        infos = await run_in_threadpool(repo.list_artifacts, rel)
        shown = [f for f in infos if rel or _visible(f)]
        return rpc.JSONBody({"files": [_file_json(f, posixpath.basename(f.path)) for f in shown]})

    async def delete(self, request: Request, repo: ArtifactRepository) -> Response:
        rel = artifact_path(request.path_params["path"])
        if not rel:
            raise InvalidArtifactPath("Invalid path '': the destination root cannot be deleted")

        def delete() -> None:
            _refuse_top_level_file(repo, rel)
            repo.delete_artifacts(rel)

        await run_in_threadpool(delete)
        return rpc.JSONBody({})

    # -- multipart ------------------------------------------------------------------------

    async def mpu_create(self, request: Request, repo: ArtifactRepository) -> Response:
        if not self.context.settings.allow_multipart:
            # MLflow's client falls back to a plain upload on exactly this message.
            raise error_from_code("NOT_IMPLEMENTED", MULTIPART_UNSUPPORTED)
        msg = await rpc.read_message(request, CreateMultipartUpload)
        rel = _mpu_target(request, msg.path)
        upload_id = uuid.uuid4().hex
        manifest = {"path": rel, "num_parts": msg.num_parts, "created": time.time()}
        await run_in_threadpool(
            repo.log_bytes, json.dumps(manifest).encode(), f"{STAGING}/{upload_id}/manifest.json"
        )
        now = time.time()
        if now - self._last_sweep >= SWEEP_INTERVAL_SECONDS:
            self._last_sweep = now  # set first: concurrent creates do not sweep twice
            await run_in_threadpool(remove_abandoned_uploads, repo, now)
        base = request.url.path[: request.url.path.index("/mpu/create/")]
        credentials = [
            {
                "url": str(request.url.replace(path=f"{base}/mpu/part/{upload_id}/{n}", query="")),
                "part_number": n,
                "headers": {},
            }
            for n in range(1, msg.num_parts + 1)
        ]
        return rpc.JSONBody({"upload_id": upload_id, "credentials": credentials})

    async def mpu_part(self, request: Request, repo: ArtifactRepository) -> Response:
        upload_id = _upload_id(request.path_params["upload_id"])
        manifest = await run_in_threadpool(_manifest, repo, upload_id)
        raw_number = request.path_params["part_number"]
        if (
            not _PART_NUMBER.fullmatch(raw_number)
            or not 1 <= int(raw_number) <= manifest["num_parts"]
        ):
            raise InvalidParameter(
                f"Invalid part number {raw_number!r}: upload {upload_id} has parts "
                f"1 to {manifest['num_parts']}"
            )
        part = _part_path(upload_id, int(raw_number))
        writer = await run_in_threadpool(repo.open_writer, part)
        digest = await _receive_into(request, writer)
        return rpc.JSONBody({}, headers={"ETag": f'"{digest}"'})

    async def mpu_complete(self, request: Request, repo: ArtifactRepository) -> Response:
        msg = await rpc.read_message(request, CompleteMultipartUpload)
        rel = _mpu_target(request, msg.path)
        upload_id = _upload_id(msg.upload_id)
        await run_in_threadpool(_complete, repo, upload_id, rel, msg.parts)
        return rpc.JSONBody({})

    async def mpu_abort(self, request: Request, repo: ArtifactRepository) -> Response:
        msg = await rpc.read_message(request, AbortMultipartUpload)
        rel = _mpu_target(request, msg.path)
        upload_id = _upload_id(msg.upload_id)

        def abort() -> None:
            try:
                manifest = _manifest(repo, upload_id)
            except ArtifactNotFound:
                return  # already gone: aborting is idempotent
            _same_target(manifest, rel, upload_id)
            repo.delete_artifacts(f"{STAGING}/{upload_id}")

        await run_in_threadpool(abort)
        return rpc.JSONBody({})

    # -- UI -------------------------------------------------------------------------------

    async def ui_get_artifact(self, request: Request) -> Response:
        try:
            run_id = request.query_params.get("run_id") or request.query_params.get("run_uuid")
            if not run_id:
                raise InvalidParameter("Missing value for required parameter 'run_id'")
            rel = safe_path(request.query_params.get("path", ""))
            repo, root, proxied = await run_in_threadpool(run_artifacts, self.context, run_id)
            wanted = request.headers.get("range")
            return await _file_response(repo, _join(root, rel), wanted, proxied=proxied)
        except CairnError as err:
            return rpc.error_response(err)


# -- multipart helpers --------------------------------------------------------------------------


class CreateMultipartUpload(Message):
    path: str
    num_parts: int = Field(1, ge=1, le=MAX_PARTS)


class CompletedPart(Message):
    part_number: int = Field(ge=1, le=MAX_PARTS)
    etag: str = ""
    url: str = ""


class CompleteMultipartUpload(Message):
    path: str
    upload_id: str
    parts: list[CompletedPart] = Field(min_length=1)


class AbortMultipartUpload(Message):
    path: str
    upload_id: str


def _mpu_target(request: Request, path: str) -> str:
    """The final file of a multipart upload: ``<dir from the URL>/<base name of body path>``.

    MLflow's client sends the *local* path of the file being uploaded (``/tmp/x/model.bin``,
    or ``C:\\x\\model.bin`` from Windows); only its base name names the artifact, as in
    MLflow's own repositories.
    """
    name = re.split(r"[\\/]", path)[-1]
    if not name:
        raise InvalidArtifactPath(f"Invalid path {path!r}: no file name", path=path)
    return artifact_path(_join(request.path_params["directory"], name), file=True)


def _upload_id(raw: str) -> str:
    if not _UPLOAD_ID.fullmatch(raw):
        raise InvalidParameter(f"Invalid upload_id {raw!r}: expected 32 hexadecimal digits")
    return raw


def _part_path(upload_id: str, number: int) -> str:
    return f"{STAGING}/{upload_id}/part-{number:05d}"


def _manifest(repo: ArtifactRepository, upload_id: str) -> dict[str, Any]:
    try:
        with repo.open(f"{STAGING}/{upload_id}/manifest.json") as stream:
            data = json.loads(stream.read())
    except ArtifactNotFound:
        raise ArtifactNotFound(
            f"No multipart upload {upload_id}: it was completed, aborted or never created"
        ) from None
    return dict(data)


def remove_abandoned_uploads(repo: ArtifactRepository, now: float) -> list[str]:
    """Delete the staged parts of uploads created over :data:`ABANDONED_UPLOAD_SECONDS`
    before ``now``; return their ids. A folder without a readable manifest is left alone:
    it may be an upload being created this instant."""
    removed = []
    for info in repo.list_artifacts(STAGING):
        upload_id = posixpath.basename(info.path)
        if not (info.is_dir and _UPLOAD_ID.fullmatch(upload_id)):
            continue
        try:
            created = float(_manifest(repo, upload_id).get("created", now))
        except (ArtifactNotFound, ValueError, TypeError):
            continue
        if now - created > ABANDONED_UPLOAD_SECONDS:
            repo.delete_artifacts(f"{STAGING}/{upload_id}")
            removed.append(upload_id)
    return removed


def _same_target(manifest: dict[str, Any], rel: str, upload_id: str) -> None:
    if manifest.get("path") != rel:
        raise InvalidParameter(f"Multipart upload {upload_id} is not an upload of {rel!r}")


def _complete(
    repo: ArtifactRepository, upload_id: str, rel: str, parts: list[CompletedPart]
) -> None:
    """Join the parts, in part-number order, into ``rel``; published only if all is well."""
    manifest = _manifest(repo, upload_id)
    _same_target(manifest, rel, upload_id)
    numbers = sorted(p.part_number for p in parts)
    if len(set(numbers)) != len(numbers) or numbers[-1] > manifest["num_parts"]:
        raise InvalidParameter(
            f"Invalid parts for upload {upload_id}: part numbers must be distinct, "
            f"from 1 to {manifest['num_parts']}"
        )
    with repo.open_writer(rel) as writer:
        for part in sorted(parts, key=lambda p: p.part_number):
            digest = hashlib.md5(usedforsecurity=False)
            try:
                with repo.open(_part_path(upload_id, part.part_number)) as stream:
                    for chunk in _chunks(stream):
                        digest.update(chunk)
                        writer.write(chunk)
            except ArtifactNotFound:
                raise InvalidParameter(
                    f"Part {part.part_number} of upload {upload_id} was never uploaded"
                ) from None
            # An ETag the client did not get from us means it sent other bytes (or none).
            if part.etag and part.etag.strip('"') != digest.hexdigest():
                raise InvalidParameter(
                    f"Part {part.part_number} of upload {upload_id} does not match its ETag"
                )
    repo.delete_artifacts(f"{STAGING}/{upload_id}")


# -- streaming --------------------------------------------------------------------------------


async def _receive_into(request: Request, writer: ArtifactWriter) -> str:
    """Stream the request body into ``writer`` and commit it; returns the body's MD5 (hex).

    Writes run in worker threads (storage blocks) in pieces of at most CHUNK_SIZE, so memory
    stays bounded whatever the upload size. Anything going wrong aborts the writer: no
    partial file is ever published.
    """
    digest = hashlib.md5(usedforsecurity=False)

    def write(piece: bytes) -> None:
        digest.update(piece)
        writer.write(piece)

    try:
        pending = bytearray()
        async for chunk in request.stream():
            view, start = memoryview(chunk), 0
            if pending:
                start = min(CHUNK_SIZE - len(pending), len(view))
                pending += view[:start]
                if len(pending) < CHUNK_SIZE:
                    continue
                await run_in_threadpool(write, bytes(pending))
                pending.clear()
            while len(view) - start >= CHUNK_SIZE:
                await run_in_threadpool(write, view[start : start + CHUNK_SIZE].tobytes())
                start += CHUNK_SIZE
            pending += view[start:]
        if pending:
            await run_in_threadpool(write, bytes(pending))
    except ClientDisconnect:
        await run_in_threadpool(writer.abort)
        raise InvalidParameter("The upload was interrupted: the client disconnected") from None
    except BaseException:
        await run_in_threadpool(writer.abort)
        raise
    await run_in_threadpool(writer.commit)
    return digest.hexdigest()


async def _file_response(
    repo: ArtifactRepository, rel: str, range_header: str | None, *, proxied: bool
) -> Response:
    """Stream file ``rel``, or the byte range ``range_header`` asks for (:mod:`..ranges`);
    404 when missing, 400 for a directory. ``proxied``: ``repo`` is the destination, whose
    top-level files are not served."""

    def open_file() -> tuple[BinaryIO, int | None, tuple[int, int] | None]:
        if proxied:
            _refuse_top_level_file(repo, rel)
        stream = repo.open(rel)
        size = _size(stream)
        try:
            wanted = None if size is None else byte_range(range_header, size)
        except RangeNotSatisfiable:
            stream.close()
            raise
        if wanted is not None:
            try:
                stream.seek(wanted[0])
            except (OSError, ValueError):  # a stream that cannot seek: send it whole
                wanted = None
        return stream, size, wanted

    try:
        stream, size, wanted = await run_in_threadpool(open_file)
    except RangeNotSatisfiable as err:
        return PlainTextResponse(
            f"Range not satisfiable: {err}",
            status_code=416,
            headers={"Content-Range": f"bytes */{err.size}"},
        )
    name = posixpath.basename(rel)
    headers = {
        "Content-Disposition": _attachment(name),
        "X-Content-Type-Options": "nosniff",
    }
    status, length = 200, size
    if size is not None:
        headers["Accept-Ranges"] = "bytes"
    if wanted is not None:
        first, last = wanted
        status, length = 206, last - first + 1
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    if length is not None:
        headers["Content-Length"] = str(length)
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media_type in _ACTIVE_TYPES:
        media_type = "text/plain"
    body = _chunks(stream, length if wanted is not None else None)
    return StreamingResponse(body, status_code=status, headers=headers, media_type=media_type)


def _chunks(stream: BinaryIO, limit: int | None = None) -> Iterator[bytes]:
    """CHUNK_SIZE pieces of ``stream``, ``limit`` bytes at most; closes it (StreamingResponse
    runs this in a thread)."""
    with stream:
        left = limit
        while left is None or left > 0:
            chunk = stream.read(CHUNK_SIZE if left is None else min(CHUNK_SIZE, left))
            if not chunk:
                break
            if left is not None:
                left -= len(chunk)
            yield chunk


def _size(stream: BinaryIO) -> int | None:
    """The size of an open file, from the handle itself so that Content-Length matches what
    will be read even if the file is replaced meanwhile; None when unknown."""
    try:
        return os.fstat(stream.fileno()).st_size
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        size = getattr(stream, "size", None)  # fsspec's buffered files know theirs
        return size if isinstance(size, int) else None


def _attachment(name: str) -> str:
    """``Content-Disposition`` that survives any file name (quotes, non-ASCII, newlines)."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(name)}"


def _file_json(info: FileInfo, path: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": path, "is_dir": info.is_dir}
    if info.file_size is not None:  # directories carry no size, as in MLflow
        entry["file_size"] = info.file_size
    return entry


def _join(directory: str, name: str) -> str:
    return f"{directory.rstrip('/')}/{name}" if directory and name else directory or name


# -- run artifacts, for the UI ------------------------------------------------------------------


def run_artifacts(context: Context, run_id: str) -> tuple[ArtifactRepository, str, bool]:
    """The repository holding a run's artifacts, the run root's path inside it, and whether
    that repository is the proxy's destination.

    ``mlflow-artifacts:`` roots are served from this server's destination (whatever host the
    URI names, as MLflow does); other roots open their own repository. Roots on another HTTP
    server are refused: the server never fetches from URLs that clients chose.

    Raises:
        RunNotFound: no such run.
        TrackingServerUnavailable: a proxied root while artifact serving is off.
        InvalidParameter: an http(s) root.
    """
    from cairn.artifacts import get_artifact_repository

    uri = context.store.get_run(run_id).info.artifact_uri
    scheme = uri_scheme(uri)
    if scheme == "mlflow-artifacts":
        repo = context.settings.artifacts
        if repo is None:
            raise TrackingServerUnavailable(
                f"The artifacts of run {run_id} are proxied ({uri}), but this server runs "
                "without artifact serving (--no-serve-artifacts)"
            )
        return repo, validate_artifact_path(urllib.parse.urlsplit(uri).path.strip("/")), True
    if scheme in ("http", "https"):
        raise InvalidParameter(
            f"The artifacts of run {run_id} live on another server ({uri}); fetch them there"
        )
    return get_artifact_repository(uri), "", False


class ListRunArtifacts(RunRef):
    path: str | None = None
    page_token: str | None = None


_FILE = obj(path=STRING, is_dir=BOOL, file_size=INT64)


@rpc.rpc(
    "GET",
    "/mlflow/artifacts/list",
    ListRunArtifacts,
    response=obj(root_uri=STRING, files=array(_FILE)),
)
def list_run_artifacts(msg: ListRunArtifacts, ctx: Context) -> dict[str, Any]:
    """List a run's artifacts under ``path`` (paths relative to the run's root)."""
    rel = safe_path(msg.path or "")
    uri = ctx.store.get_run(msg.id).info.artifact_uri
    repo, root, proxied = run_artifacts(ctx, msg.id)
    directory = _join(root, rel)
    prefix = f"{root}/" if root else ""
    files = [
        _file_json(f, f.path[len(prefix) :])
        for f in repo.list_artifacts(directory)
        if f.path.startswith(prefix) and (directory or not proxied or _visible(f))
    ]
    return {"root_uri": uri, "files": files}
