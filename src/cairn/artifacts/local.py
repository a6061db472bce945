"""Artifacts on a local (or mounted) file system: ``file://`` URIs and plain paths.

Uses :mod:`os` and :mod:`shutil` directly, without fsspec, because this is the common case.
Writes are atomic (temporary file + :func:`os.replace`) and every resolved path is checked
to stay inside the root, so a symlink planted inside the root cannot redirect a read or a
write elsewhere.

Example::

    >>> import tempfile
    >>> repo = LocalArtifactRepository(tempfile.mkdtemp())
    >>> repo.log_bytes(b"hello", "notes/a.txt")
    >>> repo.file_info("notes/a.txt")
    FileInfo(path='notes/a.txt', is_dir=False, file_size=5)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from typing import BinaryIO

from cairn.artifacts.base import (
    CHUNK_SIZE,
    TEMP_PREFIX,
    ArtifactRepository,
    ArtifactWriter,
    AtomicFileWriter,
    is_within,
    logger,
    write_atomically,
)
from cairn.artifacts.uri import local_path_from_uri
from cairn.entities import FileInfo
from cairn.errors import InvalidArtifactPath, InvalidParameter
from cairn.validation import validate_artifact_path

__all__ = ["LocalArtifactRepository"]


class LocalArtifactRepository(ArtifactRepository):
    """Artifacts under a local directory named by a ``file://`` URI or a plain path.

    Raises (constructor):
        InvalidParameter: ``root_uri`` is not a local path (e.g. ``file://host/share``).
    """

    def __init__(self, root_uri: str) -> None:
        super().__init__(root_uri)
        path = local_path_from_uri(root_uri)
        if path is None:
            raise InvalidParameter(
                f"Artifact root {root_uri!r} is not a local path; use a plain path or a "
                "file:///absolute/path URI"
            )
        #: Absolute local path of the root (it need not exist yet).
        self.root = os.path.abspath(path)

    # -- path resolution --------------------------------------------------------------------

    def _path(self, rel: str) -> str:
        """Local path of ``rel``, resolved; refuses one that a symlink carries outside root.

        The resolved path is the one used afterwards, so a symlink can neither create
        directories nor write files outside the root.
        """
        real_root = os.path.realpath(self.root)
        if not rel:
            return real_root
        real = os.path.realpath(os.path.join(real_root, *rel.split("/")))
        if not is_within(real, real_root):
            raise InvalidArtifactPath(
                f"Refusing artifact path {rel!r}: it resolves outside the artifact root "
                f"{self.root_uri} through a symlink",
                path=rel,
            )
        return real

    # -- primitives -------------------------------------------------------------------------

    def _write_file(self, local_file: str, rel: str) -> None:
        with open(local_file, "rb") as src:
            write_atomically(self._path(rel), lambda dst: shutil.copyfileobj(src, dst, CHUNK_SIZE))

    def _write_bytes(self, rel: str, data: bytes) -> None:
        def write(dst: BinaryIO) -> None:
            dst.write(data)

        write_atomically(self._path(rel), write)

    def _open_writer(self, rel: str) -> ArtifactWriter:
        # Straight into a temporary file beside the target: no second copy at commit.
        return AtomicFileWriter(self._path(rel))

    def _make_dirs(self, rel: str) -> None:
        try:
            os.makedirs(self._path(rel), exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidParameter(
                f"Cannot create artifact directory {rel!r} under {self.root_uri}: a file is "
                "in the way"
            ) from None

    def _stat(self, rel: str) -> FileInfo | None:
        try:
            st = os.stat(self._path(rel))
        except (FileNotFoundError, NotADirectoryError):
            return None
        return _file_info(rel, st)

    def _list_dir(self, rel: str) -> list[FileInfo]:
        directory = self._path(rel)
        real_root = os.path.realpath(self.root)
        try:
            with os.scandir(directory) as it:
                entries = list(it)
        except (FileNotFoundError, NotADirectoryError):
            return []
        infos: list[FileInfo] = []
        for entry in entries:
            if entry.name.startswith(TEMP_PREFIX):
                continue  # an atomic write in progress, not an artifact yet
            child = f"{rel}/{entry.name}" if rel else entry.name
            try:
                validate_artifact_path(child)
            except InvalidArtifactPath:
                logger.warning("Not listing %s: its name is not a valid artifact path", entry.path)
                continue
            if entry.is_symlink() and not is_within(os.path.realpath(entry.path), real_root):
                logger.warning("Not listing %s: a symlink pointing outside the root", entry.path)
                continue
            try:
                info = _file_info(child, entry.stat())
            except OSError:
                continue  # removed meanwhile, or a dangling symlink
            if info is not None:
                infos.append(info)
        return infos

    def _open_file(self, rel: str) -> BinaryIO:
        return open(self._path(rel), "rb")

    def _delete(self, rel: str) -> None:
        if not rel:
            # The root itself may be a symlink (a run folder linked elsewhere): remove the link,
            # never the tree it points to.
            with contextlib.suppress(FileNotFoundError):
                if os.path.islink(self.root):
                    os.unlink(self.root)
                else:
                    shutil.rmtree(self.root)
            return
        # Resolve the parent only: a symlink named by ``rel`` is removed itself, never
        # followed, so deleting a link that points outside the root is safe.
        parent, _, name = rel.rpartition("/")
        path = os.path.join(self._path(parent), name)
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(path)
        else:
            os.unlink(path)


def _file_info(rel: str, st: os.stat_result) -> FileInfo | None:
    if stat.S_ISDIR(st.st_mode):
        return FileInfo(rel, True, None)
    if stat.S_ISREG(st.st_mode):
        return FileInfo(rel, False, st.st_size)
    return None  # fifos, sockets, devices are not artifacts
