"""The web UI: the single-page app built from ``ui/`` (``make ui``) and its zip downloads.

==============================================  ==============================================
``GET /``                                       the app's ``index.html`` (never cached)
``GET /static-files/<path>``                    the app's files; hashed ``assets/`` are cached
                                                for a year, the rest revalidated
``GET /(ajax-)api/2.0/cairn/artifacts/zip``     ``?run_id=&path=``: a folder of a run's
                                                artifacts as one zip file
==============================================  ==============================================

The app lives in the package (``cairn/server/webui/``, or :attr:`ServerSettings.static_dir
<cairn.server.settings.ServerSettings.static_dir>`), so ``cairn ui`` works offline. It is looked
up on each request: a missing build answers ``/`` with a text page saying how to build it, and a
build made while the server runs is picked up without a restart.

The app is served with a Content-Security-Policy that allows scripts from this origin only, so
nothing that reaches the page (a run name, a Markdown note, an HTML artifact previewed in its
sandboxed frame) can run code.

    >>> client.get("/").headers["content-type"]               # doctest: +SKIP
    'text/html; charset=utf-8'
"""

from __future__ import annotations

import posixpath
import shutil
import tempfile
import urllib.parse
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from cairn.artifacts.base import CHUNK_SIZE
from cairn.errors import CairnError, InvalidParameter
from cairn.server import rpc
from cairn.server.routes.artifacts import run_artifacts
from cairn.server.settings import Context
from cairn.validation import validate_artifact_path

#: Where ``make ui`` (Vite) writes the app.
BUILD_DIR = Path(__file__).resolve().parent.parent / "webui"
#: Hashed file names never change content: cache them for a year.
IMMUTABLE = "public, max-age=31536000, immutable"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; frame-src 'self' blob: data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
#: A zip download stops past these: far more than a browser download should carry.
ZIP_MAX_BYTES = 4 * 1024**3
ZIP_MAX_FILES = 100_000
#: Zips are assembled in memory up to this size, then on disk.
_SPOOL_BYTES = 32 * 1024**2

NOT_BUILT = """\
cairn's web UI is not built: {index} is missing.

Build it from the cairn source tree (needs Node.js 20+ and npm):

    make ui

then reload this page. The REST API (/api/2.0/...) works without it.
"""


def routes(context: Context) -> list[BaseRoute]:
    """The app's index and files, and the artifact zip download."""
    app = _App(context)
    return [
        Route("/", app.index, methods=["GET", "HEAD"]),
        Route("/static-files/{path:path}", app.static, methods=["GET", "HEAD"]),
        *(
            Route(f"{prefix}/2.0/cairn/artifacts/zip", app.zip, methods=["GET"])
            for prefix in ("/api", "/ajax-api")
        ),
    ]


class _App:
    def __init__(self, context: Context) -> None:
        self.context = context

    @property
    def root(self) -> Path:
        return (self.context.settings.static_dir or BUILD_DIR).resolve()

    async def index(self, request: Request) -> Response:
        index = self.root / "index.html"
        if not index.is_file():
            return PlainTextResponse(NOT_BUILT.format(index=index), status_code=503)
        return FileResponse(
            index,
            media_type="text/html; charset=utf-8",
            headers={
                "Cache-Control": "no-cache",
                "Content-Security-Policy": CSP,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
            },
        )

    async def static(self, request: Request) -> Response:
        root = self.root
        target = (root / request.path_params["path"]).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return PlainTextResponse("Not found", status_code=404)
        hashed = target.parent == root / "assets"
        return FileResponse(
            target,
            headers={
                "Cache-Control": IMMUTABLE if hashed else "no-cache",
                "X-Content-Type-Options": "nosniff",
            },
        )

    async def zip(self, request: Request) -> Response:
        try:
            run_id = request.query_params.get("run_id") or request.query_params.get("run_uuid")
            if not run_id:
                raise InvalidParameter("Missing value for required parameter 'run_id'")
            rel = validate_artifact_path(request.query_params.get("path", ""), decode=True)
            spool = await run_in_threadpool(zip_run_folder, self.context, run_id, rel)
        except CairnError as err:
            return rpc.error_response(err)
        name = f"{posixpath.basename(rel) or run_id}.zip"
        return StreamingResponse(
            _stream(spool),
            media_type="application/zip",
            headers={
                "Content-Disposition": "attachment; filename*=UTF-8''" + urllib.parse.quote(name),
                "X-Content-Type-Options": "nosniff",
            },
        )


def zip_run_folder(context: Context, run_id: str, rel: str) -> IO[bytes]:
    """Zip the run's artifact folder ``rel`` (``""``: all of them) into a temporary file,
    paths inside relative to that folder; returns the file positioned at its start.

    Raises:
        RunNotFound: no such run.
        InvalidParameter: the folder holds more than :data:`ZIP_MAX_FILES` files or
            :data:`ZIP_MAX_BYTES` bytes.
    """
    repo, root, _ = run_artifacts(context, run_id)
    base = f"{root.rstrip('/')}/{rel}" if root and rel else root or rel
    prefix = f"{base}/" if base else ""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
    files = total = 0
    try:
        with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            pending = [base]
            while pending:
                for info in repo.list_artifacts(pending.pop()):
                    if info.is_dir:
                        pending.append(info.path)
                        continue
                    files += 1
                    total += info.file_size or 0
                    if files > ZIP_MAX_FILES or total > ZIP_MAX_BYTES:
                        raise InvalidParameter(
                            f"The folder {rel or '/'!r} of run {run_id} is too large to zip "
                            f"(over {ZIP_MAX_FILES:,} files or {ZIP_MAX_BYTES // 1024**3} GiB): "
                            "download its files one by one or with `cairn artifacts download`"
                        )
                    name = info.path[len(prefix) :] if info.path.startswith(prefix) else info.path
                    with repo.open(info.path) as source, archive.open(name, "w") as target:
                        shutil.copyfileobj(source, target, CHUNK_SIZE)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _stream(spool: IO[bytes]) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(CHUNK_SIZE):
            yield chunk
