"""The artifact-repository contract: where a run's files live and how they move.

An :class:`ArtifactRepository` is bound to one artifact root URI (a run's
``.../<run_id>/artifacts``). Its public methods check every caller-supplied path with
:func:`~cairn.validation.validate_artifact_path` and then call a small set of storage
primitives (``_write_file``, ``_stat``, ``_list_dir``...) that each backend implements with
paths that are already normalized and relative to the root. Downloads are written here, once
for every backend: streamed in :data:`CHUNK_SIZE` pieces and renamed into place atomically.

Example::

    >>> import tempfile
    >>> from cairn.artifacts import get_artifact_repository
    >>> repo = get_artifact_repository(tempfile.mkdtemp())
    >>> repo.log_bytes(b"0.25", "metrics/loss.txt")
    >>> [(f.path, f.is_dir, f.file_size) for f in repo.list_artifacts("metrics")]
    [('metrics/loss.txt', False, 4)]
"""

from __future__ import annotations

import abc
import contextlib
import logging
import os
import posixpath
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import BinaryIO

from cairn.entities import FileInfo
from cairn.errors import ArtifactNotFound, InvalidArtifactPath, InvalidParameter
from cairn.validation import validate_artifact_path

__all__ = [
    "CHUNK_SIZE",
    "TEMP_PREFIX",
    "ArtifactRepository",
    "ArtifactWriter",
    "AtomicFileWriter",
    "is_within",
    "write_atomically",
]

logger = logging.getLogger("cairn.artifacts")

#: Bytes moved per read/write when streaming; bounds memory use whatever the file size.
CHUNK_SIZE = 1 << 20

#: Name prefix of the temporary files that atomic writes rename into place. Local listings
#: hide such names so a reader never sees a file that is still being written.
TEMP_PREFIX = ".cairn-tmp-"


class ArtifactRepository(abc.ABC):
    """A run's artifact store, rooted at ``root_uri``.

    Every ``artifact_path`` argument is relative to the root, uses ``/`` as separator and may
    not leave the root: absolute paths, ``..`` segments and backslashes raise
    :class:`~cairn.errors.InvalidArtifactPath` before anything is read or written.
    """

    def __init__(self, root_uri: str) -> None:
        self.root_uri = root_uri

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.root_uri!r})"

    # -- public API -------------------------------------------------------------------------

    def log_artifact(
        self, local_file: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy one local file to ``<root>/<artifact_path>/<basename of local_file>``.

        Args:
            local_file: the file to upload.
            artifact_path: directory under the root; None or ``""`` for the root itself.

        Raises:
            InvalidArtifactPath: ``artifact_path`` (or the file's name) could leave the root.
            InvalidParameter: ``local_file`` is not a regular file, or the destination is a
                directory.
        """
        local = os.fspath(local_file)
        if not os.path.isfile(local):
            raise InvalidParameter(
                f"Cannot log artifact {local!r}: it is not an existing regular file"
                + ("; use log_artifacts for a directory" if os.path.isdir(local) else "")
            )
        directory = validate_artifact_path(artifact_path)
        dest = validate_artifact_path(_join(directory, os.path.basename(local)))
        self._write_file(local, dest)

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy the contents of a local directory tree (not the directory itself).

        Regular files and directories are copied; symlinks and special files are skipped with
        a warning on the ``cairn.artifacts`` logger, so a link can never pull in files from
        outside ``local_dir``.

        Args:
            local_dir: the directory whose contents are uploaded.
            artifact_path: directory under the root to copy into; None for the root.

        Raises:
            InvalidArtifactPath: ``artifact_path`` or a file name in the tree is not a valid
                artifact path (checked for the whole tree before anything is written).
            InvalidParameter: ``local_dir`` is not an existing directory.
        """
        local = os.fspath(local_dir)
        if not os.path.isdir(local):
            raise InvalidParameter(
                f"Cannot log artifacts from {local!r}: it is not an existing directory"
            )
        directory = validate_artifact_path(artifact_path)
        dirs: list[str] = [directory]
        files: list[tuple[str, str]] = []
        # Plan first, write second: a bad name deep in the tree must not leave half a tree.
        for entry_path, rel, is_dir in _scan_tree(local):
            dest = validate_artifact_path(_join(directory, rel))
            if is_dir:
                dirs.append(dest)
            else:
                files.append((entry_path, dest))
        for entry_path, dest in files:
            self._write_file(entry_path, dest)
        # Writing a file creates its parents; only directories left empty need creating
        # (on object stores, which have no empty directories, this is a no-op).
        parents = {posixpath.dirname(path) for path in dirs[1:] + [d for _, d in files]}
        for dest in dirs:
            if dest not in parents:
                self._make_dirs(dest)

    def log_bytes(self, data: bytes, artifact_file: str) -> None:
        """Write ``data`` to ``<root>/<artifact_file>``, replacing any file already there.

        Raises:
            InvalidArtifactPath: ``artifact_file`` could leave the root or names the root.
            InvalidParameter: ``artifact_file`` is an existing directory.
        """
        dest = validate_artifact_path(artifact_file)
        if not dest:
            raise InvalidArtifactPath(
                f"Invalid artifact file {artifact_file!r}: it must name a file under the root",
                path=artifact_file,
            )
        self._write_bytes(dest, bytes(data))

    def open_writer(self, artifact_file: str) -> ArtifactWriter:
        """Start writing ``<root>/<artifact_file>`` piece by piece; see :class:`ArtifactWriter`.

        Nothing is visible under the final name until :meth:`ArtifactWriter.commit`, so a
        stream that fails half-way (a dropped upload) leaves the old file, or nothing.
        Memory use stays bounded whatever the size: pieces go to the backend as they come.

        Example::

            >>> import tempfile
            >>> from cairn.artifacts import get_artifact_repository
            >>> repo = get_artifact_repository(tempfile.mkdtemp())
            >>> with repo.open_writer("logs/train.log") as out:
            ...     _ = out.write(b"epoch 1\\n")
            ...     _ = out.write(b"epoch 2\\n")
            >>> repo.file_info("logs/train.log").file_size
            16

        Raises:
            InvalidArtifactPath: ``artifact_file`` could leave the root or names the root.
            InvalidParameter: ``artifact_file`` is an existing directory (at open or commit).
        """
        dest = validate_artifact_path(artifact_file)
        if not dest:
            raise InvalidArtifactPath(
                f"Invalid artifact file {artifact_file!r}: it must name a file under the root",
                path=artifact_file,
            )
        return self._open_writer(dest)

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """The immediate children of directory ``path``, sorted by path.

        ``FileInfo.path`` is relative to the root (``plots/loss.png``); ``file_size`` is set
        for files and None for directories. A missing directory, or a path naming a file,
        gives ``[]``.

        Raises:
            InvalidArtifactPath: ``path`` could leave the root.
        """
        rel = validate_artifact_path(path)
        return sorted(self._list_dir(rel), key=lambda info: info.path)

    def download_artifacts(
        self, artifact_path: str = "", dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Copy a file or directory tree to ``<dst_path>/<artifact_path>``.

        Files are streamed in :data:`CHUNK_SIZE` chunks and renamed into place, so a failed
        download never leaves a partial file under its final name.

        Args:
            artifact_path: file or directory under the root; ``""`` downloads everything.
            dst_path: local directory to download into (created if missing); a new temporary
                directory when None.

        Returns:
            The local path of the downloaded file or directory.

        Raises:
            ArtifactNotFound: nothing exists at ``artifact_path``.
            InvalidArtifactPath: ``artifact_path`` could leave the root, or a local
                destination would resolve outside ``dst_path`` (through a symlink).
            InvalidParameter: ``dst_path`` exists and is not a directory.
        """
        rel = validate_artifact_path(artifact_path)
        info = self._stat(rel)
        if info is None:
            raise self._not_found(rel)
        if dst_path is None:
            dst = tempfile.mkdtemp(prefix="cairn-artifacts-")
        else:
            dst = os.path.abspath(os.fspath(dst_path))
            if os.path.exists(dst) and not os.path.isdir(dst):
                raise InvalidParameter(f"Download destination {dst!r} is not a directory")
            os.makedirs(dst, exist_ok=True)
        target = _local_target(dst, rel)
        if not info.is_dir:
            self._download_file(rel, target)
            return target
        os.makedirs(target, exist_ok=True)
        for child in self._walk(rel):
            child_target = _local_target(dst, child.path)
            if child.is_dir:
                os.makedirs(child_target, exist_ok=True)
            else:
                self._download_file(child.path, child_target)
        return target

    def open(self, artifact_path: str) -> BinaryIO:
        """A readable binary stream over one artifact file; the caller closes it.

        Raises:
            ArtifactNotFound: nothing exists at ``artifact_path``.
            InvalidParameter: ``artifact_path`` is a directory.
            InvalidArtifactPath: ``artifact_path`` could leave the root.
        """
        rel = validate_artifact_path(artifact_path)
        info = self._stat(rel)
        if info is None:
            raise self._not_found(rel)
        if info.is_dir:
            raise InvalidParameter(
                f"Cannot open artifact {rel!r} under {self.root_uri}: it is a directory"
            )
        return self._open_file(rel)

    def file_info(self, artifact_path: str) -> FileInfo | None:
        """The :class:`FileInfo` of a file or directory, or None when it does not exist.

        Raises:
            InvalidArtifactPath: ``artifact_path`` could leave the root.
        """
        return self._stat(validate_artifact_path(artifact_path))

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or a directory tree; the whole root when ``artifact_path`` is None.

        Deleting something that does not exist is not an error.

        Raises:
            InvalidArtifactPath: ``artifact_path`` could leave the root.
        """
        self._delete(validate_artifact_path(artifact_path))

    # -- storage primitives: paths are normalized, relative to the root, "" is the root ------

    @abc.abstractmethod
    def _write_file(self, local_file: str, rel: str) -> None:
        """Copy a local regular file to ``rel``, creating parent directories."""

    @abc.abstractmethod
    def _write_bytes(self, rel: str, data: bytes) -> None:
        """Write ``data`` to ``rel``, creating parent directories."""

    @abc.abstractmethod
    def _make_dirs(self, rel: str) -> None:
        """Create directory ``rel`` and its parents (a no-op where directories are implicit)."""

    @abc.abstractmethod
    def _stat(self, rel: str) -> FileInfo | None:
        """FileInfo for ``rel`` (path ``rel``), or None when missing."""

    @abc.abstractmethod
    def _list_dir(self, rel: str) -> list[FileInfo]:
        """Children of directory ``rel`` in any order; ``[]`` if missing or a file."""

    @abc.abstractmethod
    def _open_file(self, rel: str) -> BinaryIO:
        """Open existing file ``rel`` for binary reading."""

    @abc.abstractmethod
    def _delete(self, rel: str) -> None:
        """Delete file or tree ``rel`` (the root when ``""``); missing is a no-op."""

    def _open_writer(self, rel: str) -> ArtifactWriter:
        """A writer for ``rel``. This default spools to a local temporary file and hands it
        to :meth:`_write_file` at commit; backends that can stream natively override it."""
        return _SpoolingWriter(self, rel)

    def _walk(self, rel: str) -> Iterator[FileInfo]:
        """Every descendant of directory ``rel``, parents before children.

        Backends with a cheaper recursive listing may override this.
        """
        for child in self._list_dir(rel):
            yield child
            if child.is_dir:
                yield from self._walk(child.path)

    def _download_file(self, rel: str, local_target: str) -> None:
        with self._open_file(rel) as src:
            write_atomically(local_target, lambda dst: shutil.copyfileobj(src, dst, CHUNK_SIZE))

    def _not_found(self, rel: str) -> ArtifactNotFound:
        return ArtifactNotFound(
            f"No artifact at {rel!r} under artifact root {self.root_uri}", path=rel
        )


class ArtifactWriter(abc.ABC):
    """One artifact file written in pieces and published all at once.

    :meth:`write` the content, then :meth:`commit` to publish it under its final name, or
    :meth:`abort` to throw it away. Until the commit, readers see the previous file (or
    nothing). Used as a context manager it commits on a normal exit and aborts when the block
    raises. Get one from :meth:`ArtifactRepository.open_writer`.
    """

    @abc.abstractmethod
    def write(self, data: bytes) -> int:
        """Append ``data``; returns the number of bytes taken (all of them)."""

    @abc.abstractmethod
    def commit(self) -> None:
        """Publish the file under its final name; on failure nothing is published."""

    @abc.abstractmethod
    def abort(self) -> None:
        """Throw the written data away. Safe to call twice or after a failed commit."""

    def __enter__(self) -> ArtifactWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


class AtomicFileWriter(ArtifactWriter):
    """Create or replace local file ``dest`` atomically.

    The data goes to a temporary file in the same directory (so the rename cannot cross file
    systems), is flushed to disk at commit, then renamed over ``dest``: a crash leaves either
    the old file or the new one, never a partial file under the final name.

    Raises (constructor):
        InvalidParameter: ``dest`` is a directory, or a parent of it is a file.
    """

    def __init__(self, dest: str) -> None:
        if os.path.isdir(dest):
            raise InvalidParameter(f"Cannot write file {dest!r}: a directory of that name exists")
        parent = os.path.dirname(dest)
        try:
            os.makedirs(parent, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidParameter(
                f"Cannot write file {dest!r}: a parent of it exists and is not a directory"
            ) from None
        self.dest = dest
        self._tmp = os.path.join(parent, f"{TEMP_PREFIX}{uuid.uuid4().hex}")
        # os.open with 0o666 (not tempfile.mkstemp's 0o600) so the result gets the umask's
        # usual permissions, as a plain open() would give; O_EXCL refuses a planted symlink.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        #: The open temporary file, for callers that want a real file object.
        self.file: BinaryIO = os.fdopen(os.open(self._tmp, flags, 0o666), "wb")
        self._done = False

    def write(self, data: bytes) -> int:
        return self.file.write(data)

    def commit(self) -> None:
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            try:
                os.replace(self._tmp, self.dest)
            except IsADirectoryError:
                raise InvalidParameter(
                    f"Cannot write file {self.dest!r}: a directory of that name exists"
                ) from None
        except BaseException:
            self.abort()
            raise
        self._done = True

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(OSError):
            os.unlink(self._tmp)


def write_atomically(dest: str, write: Callable[[BinaryIO], None]) -> None:
    """Create or replace local file ``dest`` with what ``write`` writes, all or nothing.

    See :class:`AtomicFileWriter`, which does the work.

    Raises:
        InvalidParameter: ``dest`` is a directory, or a parent of it is a file.
    """
    out = AtomicFileWriter(dest)
    try:
        write(out.file)
    except BaseException:
        out.abort()
        raise
    out.commit()


class _SpoolingWriter(ArtifactWriter):
    """Collects the pieces in a local temporary file, then uploads it with ``_write_file``."""

    def __init__(self, repo: ArtifactRepository, rel: str) -> None:
        self._repo = repo
        self._rel = rel
        fd, self._tmp = tempfile.mkstemp(prefix="cairn-upload-")
        self._file = os.fdopen(fd, "wb")
        self._done = False

    def write(self, data: bytes) -> int:
        return self._file.write(data)

    def commit(self) -> None:
        try:
            self._file.close()
            self._repo._write_file(self._tmp, self._rel)
        finally:
            self.abort()

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        with contextlib.suppress(OSError):
            self._file.close()
        with contextlib.suppress(OSError):
            os.unlink(self._tmp)


def is_within(path: str, root: str) -> bool:
    """True when ``path`` is ``root`` or below it (both already resolved with realpath)."""
    path, root = os.path.normcase(path), os.path.normcase(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _join(directory: str, name: str) -> str:
    return posixpath.join(directory, name) if directory else name


def _local_target(dst: str, rel: str) -> str:
    """``dst/rel`` as a local path, refusing one that a symlink would carry outside ``dst``."""
    target = os.path.join(dst, *rel.split("/")) if rel else dst
    if not is_within(os.path.realpath(target), os.path.realpath(dst)):
        raise InvalidArtifactPath(
            f"Refusing to download {rel!r}: {target!r} resolves outside {dst!r} (symlink)",
            path=rel,
        )
    return target


def _scan_tree(local_dir: str, prefix: str = "") -> Iterator[tuple[str, str, bool]]:
    """(local path, relative path with '/', is_dir) for regular files and dirs, sorted."""
    with os.scandir(local_dir) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        rel = f"{prefix}{entry.name}"
        if entry.is_symlink():
            logger.warning("Skipping symlink %s: symlinks are not logged as artifacts", entry.path)
        elif entry.is_dir(follow_symlinks=False):
            yield entry.path, rel, True
            yield from _scan_tree(entry.path, rel + "/")
        elif entry.is_file(follow_symlinks=False):
            yield entry.path, rel, False
        else:
            logger.warning("Skipping %s: not a regular file or directory", entry.path)
