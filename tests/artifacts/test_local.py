"""LocalArtifactRepository specifics: roots, atomic writes, symlinks inside the root."""

from __future__ import annotations

import logging
import os
import shutil
import stat
from pathlib import Path

import pytest

from cairn.artifacts import LocalArtifactRepository, base
from cairn.artifacts.base import TEMP_PREFIX
from cairn.entities import FileInfo
from cairn.errors import InvalidArtifactPath, InvalidParameter


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "artifacts"


@pytest.fixture
def repo(root: Path) -> LocalArtifactRepository:
    return LocalArtifactRepository(root.as_uri())


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the root holding a file nobody should read or overwrite."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "secret.txt").write_text("secret")
    return d


def temp_files(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.name.startswith(TEMP_PREFIX)]


# -- roots -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_uri",
    [
        pytest.param(lambda p: str(p), id="plain-absolute-path"),
        pytest.param(lambda p: p.as_uri(), id="file-triple-slash"),
        pytest.param(lambda p: "file:" + str(p), id="file-single-slash"),
        pytest.param(lambda p: "file://localhost" + str(p), id="file-localhost"),
    ],
)
def test_root_may_be_a_plain_path_or_a_file_uri(tmp_path: Path, make_uri: object) -> None:
    root = tmp_path / "with space%"
    repo = LocalArtifactRepository(make_uri(root))  # type: ignore[operator]

    repo.log_bytes(b"x", "a.txt")

    assert (root / "a.txt").read_bytes() == b"x"


def test_a_relative_root_is_relative_to_the_working_directory_at_creation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    repo = LocalArtifactRepository("mlruns/1/r/artifacts")
    monkeypatch.chdir("/")

    repo.log_bytes(b"x", "a.txt")

    assert repo.root == str(tmp_path / "mlruns" / "1" / "r" / "artifacts")
    assert (tmp_path / "mlruns/1/r/artifacts/a.txt").exists()


def test_a_file_uri_naming_another_host_is_refused_on_posix() -> None:
    if os.name == "nt":
        pytest.skip("on Windows file://host/share is a UNC path")
    with pytest.raises(InvalidParameter, match="not a local path"):
        LocalArtifactRepository("file://mlruns/1/artifacts")


# -- atomic writes ---------------------------------------------------------------------------


def test_writes_leave_no_temporary_files(
    repo: LocalArtifactRepository, root: Path, tmp_path: Path, src_tree: Path
) -> None:
    repo.log_bytes(b"x", "a/b.txt")
    repo.log_artifacts(src_tree, "tree")
    repo.log_artifact(src_tree / "README.md")
    repo.download_artifacts("", tmp_path / "dl")

    assert temp_files(root) == []
    assert temp_files(tmp_path / "dl") == []


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary_file(
    repo: LocalArtifactRepository, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.log_bytes(b"old content", "model.bin")
    new = tmp_path / "model.bin"
    new.write_bytes(b"new content that will not fully arrive")

    def copy_half_then_fail(src: object, dst: object, length: int = 0) -> None:
        dst.write(src.read(5))  # type: ignore[attr-defined]
        raise OSError("disk unplugged")

    monkeypatch.setattr(shutil, "copyfileobj", copy_half_then_fail)
    with pytest.raises(OSError, match="disk unplugged"):
        repo.log_artifact(new)

    assert (root / "model.bin").read_bytes() == b"old content"
    assert temp_files(root) == []


def test_a_failed_download_leaves_no_partial_file(
    repo: LocalArtifactRepository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.log_bytes(b"0123456789", "f.bin")

    def copy_half_then_fail(src: object, dst: object, length: int = 0) -> None:
        dst.write(src.read(5))  # type: ignore[attr-defined]
        raise OSError("network gone")

    monkeypatch.setattr(shutil, "copyfileobj", copy_half_then_fail)
    with pytest.raises(OSError, match="network gone"):
        repo.download_artifacts("f.bin", tmp_path / "dl")

    assert [p.name for p in (tmp_path / "dl").rglob("*") if p.is_file()] == []


def test_files_being_written_are_not_listed(repo: LocalArtifactRepository, root: Path) -> None:
    repo.log_bytes(b"x", "done.txt")
    (root / f"{TEMP_PREFIX}0123abcd").write_bytes(b"half")

    assert repo.list_artifacts() == [FileInfo("done.txt", False, 1)]


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_written_files_get_the_usual_umask_permissions(
    repo: LocalArtifactRepository, root: Path
) -> None:
    umask = os.umask(0o022)
    try:
        repo.log_bytes(b"x", "a.txt")
    finally:
        os.umask(umask)

    assert stat.S_IMODE((root / "a.txt").stat().st_mode) == 0o644


def test_writing_a_file_over_a_directory_is_invalid(repo: LocalArtifactRepository) -> None:
    repo.log_bytes(b"x", "d/inner.txt")

    with pytest.raises(InvalidParameter, match="directory"):
        repo.log_bytes(b"x", "d")


def test_writing_below_a_file_is_invalid(repo: LocalArtifactRepository) -> None:
    repo.log_bytes(b"x", "f")

    with pytest.raises(InvalidParameter, match="not a directory"):
        repo.log_bytes(b"x", "f/inner.txt")


def test_special_files_in_a_logged_tree_are_skipped_with_a_warning(
    repo: LocalArtifactRepository, src_tree: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    os.mkfifo(src_tree / "pipe")

    with caplog.at_level(logging.WARNING, logger="cairn.artifacts"):
        repo.log_artifacts(src_tree)

    assert repo.file_info("pipe") is None
    assert "not a regular file" in caplog.text


# -- symlinks inside the root ----------------------------------------------------------------


def test_writing_through_a_symlinked_directory_that_leaves_the_root_is_refused(
    repo: LocalArtifactRepository, root: Path, outside: Path
) -> None:
    root.mkdir()
    os.symlink(outside, root / "link")

    with pytest.raises(InvalidArtifactPath, match="symlink"):
        repo.log_bytes(b"pwned", "link/secret.txt")
    with pytest.raises(InvalidArtifactPath, match="symlink"):
        repo.log_bytes(b"pwned", "link/new/dir/file.txt")

    assert (outside / "secret.txt").read_text() == "secret"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_reading_a_symlink_that_leaves_the_root_is_refused(
    repo: LocalArtifactRepository, root: Path, outside: Path, tmp_path: Path
) -> None:
    root.mkdir()
    os.symlink(outside / "secret.txt", root / "secret_link")
    os.symlink(outside, root / "dir_link")

    for path in ["secret_link", "dir_link/secret.txt"]:
        with pytest.raises(InvalidArtifactPath):
            repo.open(path)
        with pytest.raises(InvalidArtifactPath):
            repo.file_info(path)
        with pytest.raises(InvalidArtifactPath):
            repo.download_artifacts(path, tmp_path / "dl")
    with pytest.raises(InvalidArtifactPath):
        repo.list_artifacts("dir_link")


def test_symlinks_that_leave_the_root_are_not_listed_nor_downloaded(
    repo: LocalArtifactRepository, root: Path, outside: Path, tmp_path: Path
) -> None:
    repo.log_bytes(b"ok", "real.txt")
    os.symlink(outside / "secret.txt", root / "secret_link")
    os.symlink(outside, root / "dir_link")

    assert repo.list_artifacts() == [FileInfo("real.txt", False, 2)]
    local = Path(repo.download_artifacts("", tmp_path / "dl"))
    assert sorted(p.name for p in local.rglob("*")) == ["real.txt"]


def test_symlinks_that_stay_inside_the_root_are_followed(
    repo: LocalArtifactRepository, root: Path
) -> None:
    repo.log_bytes(b"data", "real/file.txt")
    os.symlink(root / "real", root / "alias")

    assert repo.list_artifacts("alias") == [FileInfo("alias/file.txt", False, 4)]
    with repo.open("alias/file.txt") as f:
        assert f.read() == b"data"


def test_deleting_a_symlink_removes_the_link_not_its_target(
    repo: LocalArtifactRepository, root: Path, outside: Path
) -> None:
    root.mkdir()
    os.symlink(outside, root / "dir_link")

    repo.delete_artifacts("dir_link")

    assert not (root / "dir_link").is_symlink()
    assert (outside / "secret.txt").read_text() == "secret"


def test_deleting_the_root_does_not_follow_symlinks_inside_it(
    repo: LocalArtifactRepository, root: Path, outside: Path
) -> None:
    repo.log_bytes(b"x", "a.txt")
    os.symlink(outside, root / "dir_link")

    repo.delete_artifacts()

    assert not root.exists()
    assert (outside / "secret.txt").read_text() == "secret"


def test_download_refuses_a_destination_symlink_that_leaves_the_destination(
    repo: LocalArtifactRepository, tmp_path: Path, outside: Path
) -> None:
    repo.log_bytes(b"pwned", "out/secret.txt")
    dst = tmp_path / "dl"
    dst.mkdir()
    os.symlink(outside, dst / "out")

    with pytest.raises(InvalidArtifactPath, match="outside"):
        repo.download_artifacts("out/secret.txt", dst)

    assert (outside / "secret.txt").read_text() == "secret"


def test_write_atomically_creates_parents_and_replaces_the_file(tmp_path: Path) -> None:
    dest = tmp_path / "x" / "f.bin"
    base.write_atomically(str(dest), lambda f: f.write(b"1") and None)
    base.write_atomically(str(dest), lambda f: f.write(b"22") and None)

    assert dest.read_bytes() == b"22"
    assert temp_files(tmp_path) == []
