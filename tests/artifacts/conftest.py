"""Fixtures shared by the artifact tests: a local root, a clean memory:// file system, and
``repo``, one fixture that runs a test against every repository implementation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cairn.artifacts import ArtifactRepository, FsspecArtifactRepository, LocalArtifactRepository


@pytest.fixture
def memory_fs() -> Iterator[None]:
    """fsspec's memory file system is process-global: start and finish every test empty."""
    from fsspec.implementations.memory import MemoryFileSystem

    def clear() -> None:
        MemoryFileSystem.store.clear()
        MemoryFileSystem.pseudo_dirs[:] = [""]

    clear()
    yield
    clear()


@pytest.fixture(params=["local", "fsspec-memory"])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactRepository:
    """An empty repository of each implementation; its root does not exist yet."""
    if request.param == "local":
        return LocalArtifactRepository((tmp_path / "mlruns" / "1" / "run" / "artifacts").as_uri())
    request.getfixturevalue("memory_fs")
    return FsspecArtifactRepository(f"memory://cairn-test-{uuid.uuid4().hex}/1/run/artifacts")


@pytest.fixture
def src_tree(tmp_path: Path) -> Path:
    """A local tree to upload: top-level files, nested dirs and an empty dir."""
    root = tmp_path / "src"
    (root / "plots" / "epoch1").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "README.md").write_text("hello\n")
    (root / "plots" / "loss.png").write_bytes(b"\x89PNG fake")
    (root / "plots" / "epoch1" / "acc.csv").write_text("step,acc\n0,0.5\n")
    return root
