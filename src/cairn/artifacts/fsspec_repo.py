"""Artifacts on any file system fsspec understands: ``s3://``, ``gs://``, ``abfs://``...

fsspec is imported when a repository is created, never when this module is imported, so
``import cairn.artifacts`` stays cheap. Credentials and options come from fsspec's usual
sources (environment, config files, ``fsspec.config.conf``).

Atomicity follows the backend: small files (up to :data:`~cairn.artifacts.base.CHUNK_SIZE`)
are written with one ``pipe_file`` call; larger ones are streamed with ``autocommit=False``
and committed only once complete, which object stores (S3, GCS) honour, so an interrupted
upload leaves no object behind. Directories are created only on stores that have them, and a
missing bucket is never created.

Example::

    >>> repo = FsspecArtifactRepository("memory://cairn-doc/1/run/artifacts")
    >>> repo.log_bytes(b"{}", "model/params.json")
    >>> [f.path for f in repo.list_artifacts()]
    ['model']
    >>> repo.delete_artifacts()
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
from collections.abc import Callable
from typing import Any, BinaryIO, cast

from cairn.artifacts.base import CHUNK_SIZE, ArtifactRepository, ArtifactWriter, logger
from cairn.entities import FileInfo
from cairn.errors import InvalidArtifactPath, InvalidParameter
from cairn.validation import validate_artifact_path

__all__ = ["FsspecArtifactRepository"]

# What file systems raise when a file and a directory collide; the caller's mistake.
_COLLISIONS = (FileExistsError, IsADirectoryError, NotADirectoryError)


class FsspecArtifactRepository(ArtifactRepository):
    """Artifacts under any fsspec URL.

    Args:
        root_uri: the artifact root, e.g. ``s3://bucket/mlruns/1/<run_id>/artifacts``.
        **storage_options: passed to the fsspec file system (credentials, endpoint...).

    Raises (constructor):
        ImportError: the file system's package (``s3fs``, ``gcsfs``...) is not installed.
    """

    def __init__(self, root_uri: str, **storage_options: Any) -> None:
        from fsspec.core import url_to_fs

        super().__init__(root_uri)
        fs, path = url_to_fs(root_uri, **storage_options)
        self._fs: Any = fs
        # Keep "/" for a root at the top of a file system whose paths start with "/".
        self._root: str = path.rstrip("/") or path

    def _full(self, rel: str) -> str:
        return f"{self._root.rstrip('/')}/{rel}" if rel else self._root

    # -- primitives -------------------------------------------------------------------------

    def _write_file(self, local_file: str, rel: str) -> None:
        with open(local_file, "rb") as src:
            if os.fstat(src.fileno()).st_size <= CHUNK_SIZE:
                data = src.read()
                self._write(rel, lambda full: self._fs.pipe_file(full, data))
                return
            with self._open_writer(rel) as dst:
                shutil.copyfileobj(src, dst, CHUNK_SIZE)

    def _write_bytes(self, rel: str, data: bytes) -> None:
        self._write(rel, lambda full: self._fs.pipe_file(full, data))

    def _open_writer(self, rel: str) -> ArtifactWriter:
        return _FsspecWriter(self, rel)

    def _make_dirs(self, rel: str) -> None:
        try:
            self._create_dirs(self._full(rel))
        except _COLLISIONS as err:
            raise self._collision(rel, err) from None

    def _stat(self, rel: str) -> FileInfo | None:
        full = self._full(rel)
        # A long-lived process (the server) must see what other processes wrote since.
        self._fs.invalidate_cache(full)
        try:
            info = self._fs.info(full)
        except FileNotFoundError:
            return None
        return _file_info(rel, info)

    def _list_dir(self, rel: str) -> list[FileInfo]:
        info = self._stat(rel)
        if info is None or not info.is_dir:
            return []
        full = self._full(rel)
        try:
            entries = self._fs.ls(full, detail=True)
        except FileNotFoundError:
            return []
        own_name = self._fs._strip_protocol(full).rstrip("/")
        children: dict[str, FileInfo] = {}
        for entry in entries:
            name = self._fs._strip_protocol(entry["name"]).rstrip("/")
            if name == own_name:
                continue  # some stores list a "dir/" marker object as a child of itself
            child = (
                posixpath.join(rel, posixpath.basename(name)) if rel else posixpath.basename(name)
            )
            try:
                valid = validate_artifact_path(child) == child
            except InvalidArtifactPath:
                valid = False
            if not valid:
                # Object keys may hold "..", "//" or "\\"; such keys are never artifacts.
                logger.warning("Not listing %s: its name is not a valid artifact path", name)
                continue
            # A store may report a key both as a file and as a prefix; the directory wins.
            found = _file_info(child, entry)
            if child not in children or found.is_dir:
                children[child] = found
        return list(children.values())

    def _open_file(self, rel: str) -> BinaryIO:
        return cast(BinaryIO, self._fs.open(self._full(rel), "rb"))

    def _delete(self, rel: str) -> None:
        full = self._full(rel)
        if self._stat(rel) is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self._fs.rm(full, recursive=True)

    # -- helpers ----------------------------------------------------------------------------

    def _write(self, rel: str, put: Callable[[str], None]) -> None:
        """Run ``put(full_path)``, creating parent directories only if the store needs them.

        Parents are never created up front: object stores have no directories, and there
        makedirs costs a request per write (s3fs even creates a missing bucket). File systems
        with real directories (sftp, hdfs, fsspec's local) say FileNotFoundError instead, and
        only then are the parents made and the write retried once.
        """
        full = self._full(rel)
        try:
            try:
                put(full)
            except FileNotFoundError:
                if not self._create_dirs(posixpath.dirname(full)):
                    raise
                put(full)
        except _COLLISIONS as err:
            raise self._collision(rel, err) from None

    def _create_dirs(self, directory: str) -> bool:
        """``makedirs(directory)`` unless its top-level component is missing; True if done.

        The top level is a bucket, container or drive: creating one because of a typo in an
        artifact URI would be a surprise, so a missing one stays an error.
        """
        below_marker = directory.lstrip("/")
        top = directory[: len(directory) - len(below_marker)] + below_marker.split("/", 1)[0]
        if not below_marker or not self._fs.exists(top):
            return False
        self._fs.makedirs(directory, exist_ok=True)
        return True

    def _collision(self, rel: str, err: OSError) -> InvalidParameter:
        return InvalidParameter(
            f"Cannot write artifact {rel!r} under {self.root_uri}: a file and a directory "
            f"would share a name ({err})"
        )


class _FsspecWriter(ArtifactWriter):
    """Small files are kept in memory and written with one ``pipe_file`` at commit (one
    request on object stores); past CHUNK_SIZE the data streams into a file opened with
    ``autocommit=False``, committed whole at the end or discarded."""

    def __init__(self, repo: FsspecArtifactRepository, rel: str) -> None:
        self._repo = repo
        self._rel = rel
        self._buffer: bytearray | None = bytearray()
        self._file: Any = None
        self._done = False

    def write(self, data: bytes) -> int:
        if self._buffer is not None:
            self._buffer += data
            if len(self._buffer) <= CHUNK_SIZE:
                return len(data)
            self._file = self._open()
            data, self._buffer = bytes(self._buffer), None
        self._file.write(data)
        return len(data)

    def _open(self) -> Any:
        opened: list[Any] = []
        # autocommit=False: the object appears only at commit(), so an interrupted upload
        # is discarded rather than left half-written under its final name.
        self._repo._write(
            self._rel, lambda full: opened.append(self._repo._fs.open(full, "wb", autocommit=False))
        )
        return opened[0]

    def commit(self) -> None:
        if self._buffer is not None:
            data, self._buffer, self._done = bytes(self._buffer), None, True
            self._repo._write_bytes(self._rel, data)
            return
        try:
            self._file.close()
            try:
                self._file.commit()
            except FileNotFoundError:
                # Stores with real directories (fsspec's local, sftp) may only find out at
                # commit that the parents are missing; make them and move the data again.
                full = self._repo._full(self._rel)
                if not self._repo._create_dirs(posixpath.dirname(full)):
                    raise
                self._file.commit()
        except _COLLISIONS as err:
            self.abort()
            raise self._repo._collision(self._rel, err) from None
        except BaseException:
            self.abort()
            raise
        self._forget()

    def abort(self) -> None:
        self._buffer = None
        if self._done:
            return
        if self._file is not None:
            _abandon(self._file)
        self._forget()

    def _forget(self) -> None:
        self._done = True
        if self._file is None:
            return
        # fsspec queues uncommitted files on the (shared, cached) file system's transaction
        # even outside one; drop ours so they are not kept forever.
        with contextlib.suppress(Exception):
            self._repo._fs.transaction.files.remove(self._file)


def _file_info(rel: str, info: dict[str, Any]) -> FileInfo:
    if info.get("type") == "directory":
        return FileInfo(rel, True, None)
    size = info.get("size")
    return FileInfo(rel, False, int(size) if size is not None else None)


def _abandon(dst: Any) -> None:
    """Close an uncommitted upload and throw it away; errors here would hide the real one."""
    with contextlib.suppress(Exception):
        dst.close()
    with contextlib.suppress(Exception):
        dst.discard()
