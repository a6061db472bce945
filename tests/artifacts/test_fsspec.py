"""FsspecArtifactRepository specifics and choosing a repository from a URI's scheme."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import fsspec
import pytest
from fsspec.registry import known_implementations

import cairn.artifacts
from cairn.artifacts import (
    ArtifactRepository,
    FsspecArtifactRepository,
    LocalArtifactRepository,
    get_artifact_repository,
    register_artifact_repository,
)
from cairn.artifacts.base import CHUNK_SIZE
from cairn.entities import FileInfo
from cairn.errors import InvalidParameter

ROOT = "memory://bucket/mlruns/1/run/artifacts"


@pytest.fixture
def repo(memory_fs: None) -> FsspecArtifactRepository:
    return FsspecArtifactRepository(ROOT)


@pytest.fixture
def schemes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a test register schemes without leaking them into other tests."""
    monkeypatch.setattr(cairn.artifacts, "_SCHEMES", dict(cairn.artifacts._SCHEMES))


def test_importing_cairn_artifacts_does_not_import_fsspec() -> None:
    code = "import sys, cairn.artifacts; sys.exit('fsspec' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}

    result = subprocess.run([sys.executable, "-c", code], env=env, check=False)

    assert result.returncode == 0


def test_files_land_under_the_root_of_the_fsspec_url(repo: FsspecArtifactRepository) -> None:
    repo.log_bytes(b"abc", "a/b.txt")

    fs = fsspec.filesystem("memory")
    assert fs.cat_file("/bucket/mlruns/1/run/artifacts/a/b.txt") == b"abc"


def test_a_streamed_upload_is_committed_and_not_kept_by_the_file_system(
    repo: FsspecArtifactRepository, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * CHUNK_SIZE))

    repo.log_artifact(big)

    assert repo.file_info("big.bin") == FileInfo("big.bin", False, 3 * CHUNK_SIZE)
    # Uncommitted files are queued on the shared file system object; ours must not stay.
    assert list(fsspec.filesystem("memory").transaction.files) == []


def test_a_failed_streamed_upload_leaves_nothing_on_a_committing_file_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # fsspec's local file system honours autocommit=False like object stores do.
    root = tmp_path / "store"
    repo = FsspecArtifactRepository(root.as_uri())
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (2 * CHUNK_SIZE))

    def copy_half_then_fail(src: object, dst: object, length: int = 0) -> None:
        dst.write(src.read(CHUNK_SIZE))  # type: ignore[attr-defined]
        raise OSError("connection reset")

    monkeypatch.setattr(shutil, "copyfileobj", copy_half_then_fail)
    with pytest.raises(OSError, match="connection reset"):
        repo.log_artifact(big, "models")

    assert repo.file_info("models/big.bin") is None
    assert [p for p in root.rglob("*") if p.is_file()] == []


def test_parent_directories_are_created_on_stores_that_have_real_ones(tmp_path: Path) -> None:
    # fsspec's local file system refuses to write into a missing directory, as sftp does.
    repo = FsspecArtifactRepository((tmp_path / "store").as_uri())
    small, big = tmp_path / "small.txt", tmp_path / "big.bin"
    small.write_bytes(b"s")
    big.write_bytes(b"\1" * (CHUNK_SIZE + 1))

    repo.log_artifact(small, "a/b")
    repo.log_artifact(big, "c/d")
    repo.log_bytes(b"x", "e/f/g.txt")

    assert (tmp_path / "store/a/b/small.txt").read_bytes() == b"s"
    assert (tmp_path / "store/c/d/big.bin").stat().st_size == CHUNK_SIZE + 1
    assert (tmp_path / "store/e/f/g.txt").read_bytes() == b"x"


class BucketlessStore:
    """An object store whose bucket does not exist: every write says FileNotFoundError."""

    def __init__(self) -> None:
        self.makedirs_calls: list[str] = []

    def pipe_file(self, path: str, data: bytes) -> None:
        raise FileNotFoundError(f"NoSuchBucket: {path}")

    def exists(self, path: str) -> bool:
        return False

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        self.makedirs_calls.append(path)


def test_a_missing_bucket_is_never_created(repo: FsspecArtifactRepository) -> None:
    store = BucketlessStore()
    repo._fs = store

    with pytest.raises(FileNotFoundError, match="NoSuchBucket"):
        repo.log_bytes(b"x", "a/b.txt")
    repo._make_dirs("empty")  # what log_artifacts does for an empty directory

    assert store.makedirs_calls == []


def test_keys_that_are_not_valid_artifact_paths_are_not_listed(
    repo: FsspecArtifactRepository,
) -> None:
    repo.log_bytes(b"ok", "dir/good.txt")
    fsspec.filesystem("memory").pipe_file(
        "/bucket/mlruns/1/run/artifacts/dir/bad\\name.txt", b"evil"
    )

    assert repo.list_artifacts("dir") == [FileInfo("dir/good.txt", False, 2)]


def test_a_root_at_the_top_of_a_file_system(memory_fs: None) -> None:
    repo = FsspecArtifactRepository("memory://")

    repo.log_bytes(b"x", "top/a.txt")

    assert repo.list_artifacts("top") == [FileInfo("top/a.txt", False, 1)]


def test_writing_a_file_below_a_file_is_invalid(repo: FsspecArtifactRepository) -> None:
    repo.log_bytes(b"x", "f")

    with pytest.raises(InvalidParameter, match="share a name"):
        repo.log_bytes(b"x", "f/inner.txt")


# -- choosing by scheme ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    ["/abs/mlruns/1/r/artifacts", "mlruns/1/r/artifacts", "file:///abs/x", "file:/abs/x",
     "FILE:///abs/x", "local:///abs/x", "C:\\mlruns\\1", "C:/mlruns/1"],
)  # fmt: skip
def test_plain_paths_and_file_uris_use_the_local_repository(uri: str) -> None:
    assert type(get_artifact_repository(uri)) is LocalArtifactRepository


def test_other_schemes_fsspec_knows_use_the_fsspec_repository(memory_fs: None) -> None:
    repo = get_artifact_repository("memory://bucket/1/r/artifacts")

    assert type(repo) is FsspecArtifactRepository
    assert repo.root_uri == "memory://bucket/1/r/artifacts"


@pytest.mark.parametrize("uri", ["http://h/x", "https://h/x"])
def test_http_roots_that_are_not_artifact_proxy_urls_are_refused(uri: str) -> None:
    with pytest.raises(InvalidParameter, match="artifact proxy"):
        get_artifact_repository(uri)


def test_mlflow_artifacts_roots_without_a_tracking_server_say_what_is_needed() -> None:
    with pytest.raises(InvalidParameter, match="served by a tracking server"):
        get_artifact_repository("mlflow-artifacts:/1/r/artifacts", "file:///tmp/mlruns")


def test_an_unknown_scheme_is_named_and_the_supported_ones_listed() -> None:
    with pytest.raises(InvalidParameter) as err:
        get_artifact_repository("nosuchscheme://bucket/x")

    message = str(err.value)
    assert "'nosuchscheme'" in message
    for supported in ["file", "s3", "gs", "abfs", "memory"]:
        assert supported in message
    assert "mlflow-artifacts" in message


def test_a_known_scheme_whose_package_is_missing_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(
        known_implementations,
        "cairnfake",
        {"class": "cairn_no_such_module.FakeFS", "err": "Install cairn-fake-fs to use cairnfake"},
    )

    with pytest.raises(InvalidParameter, match="Install cairn-fake-fs"):
        get_artifact_repository("cairnfake://bucket/x")


def test_registered_schemes_take_precedence(schemes: None, memory_fs: None) -> None:
    made: list[str] = []

    def factory(uri: str) -> ArtifactRepository:
        made.append(uri)
        return FsspecArtifactRepository("memory://proxied")

    register_artifact_repository("HTTPS", factory)

    get_artifact_repository("https://server/api/artifacts")
    assert made == ["https://server/api/artifacts"]


def test_registering_an_empty_scheme_is_invalid(schemes: None) -> None:
    with pytest.raises(InvalidParameter):
        register_artifact_repository("", LocalArtifactRepository)
