"""The behaviour every ArtifactRepository shares, run against each implementation."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import pytest

from cairn.artifacts import ArtifactRepository
from cairn.artifacts.base import CHUNK_SIZE
from cairn.entities import FileInfo
from cairn.errors import ArtifactNotFound, InvalidArtifactPath, InvalidParameter

ESCAPES = ["../x", "/etc/passwd", "a/../../b", "C:\\x", "a\\b", "..", "C:/x", "a/\x00b"]


def snapshot(repo: ArtifactRepository) -> dict[str, int | None]:
    """Every path under the root with its size (None for dirs)."""
    out: dict[str, int | None] = {}
    stack = [""]
    while stack:
        for info in repo.list_artifacts(stack.pop()):
            out[info.path] = info.file_size
            if info.is_dir:
                stack.append(info.path)
    return out


def local_tree(root: Path) -> dict[str, bytes | None]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


# -- writing ---------------------------------------------------------------------------------


def test_log_artifact_copies_a_file_to_the_root_under_its_basename(
    repo: ArtifactRepository, tmp_path: Path
) -> None:
    f = tmp_path / "model.pkl"
    f.write_bytes(b"weights")

    repo.log_artifact(f)

    assert repo.list_artifacts() == [FileInfo("model.pkl", False, 7)]
    with repo.open("model.pkl") as stream:
        assert stream.read() == b"weights"


def test_log_artifact_into_nested_directories_creates_them(
    repo: ArtifactRepository, tmp_path: Path
) -> None:
    f = tmp_path / "loss.png"
    f.write_bytes(b"png")

    repo.log_artifact(str(f), "plots/train/")

    assert repo.list_artifacts() == [FileInfo("plots", True, None)]
    assert repo.list_artifacts("plots") == [FileInfo("plots/train", True, None)]
    assert repo.list_artifacts("plots/train") == [FileInfo("plots/train/loss.png", False, 3)]


def test_log_artifact_replaces_an_existing_file(repo: ArtifactRepository, tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(b"first version")
    repo.log_artifact(f)
    f.write_bytes(b"v2")

    repo.log_artifact(f)

    assert repo.file_info("a.txt") == FileInfo("a.txt", False, 2)


def test_log_artifact_of_a_directory_or_missing_file_is_invalid(
    repo: ArtifactRepository, tmp_path: Path
) -> None:
    with pytest.raises(InvalidParameter, match="log_artifacts"):
        repo.log_artifact(tmp_path)
    with pytest.raises(InvalidParameter, match="not an existing regular file"):
        repo.log_artifact(tmp_path / "nope.txt")


def test_log_artifacts_copies_the_contents_of_a_tree_not_the_dir_itself(
    repo: ArtifactRepository, src_tree: Path
) -> None:
    repo.log_artifacts(src_tree)

    assert snapshot(repo) == {
        "README.md": 6,
        "empty": None,
        "plots": None,
        "plots/loss.png": 9,
        "plots/epoch1": None,
        "plots/epoch1/acc.csv": 15,
    }


def test_log_artifacts_under_an_artifact_path(repo: ArtifactRepository, src_tree: Path) -> None:
    repo.log_artifacts(src_tree, "run/outputs")

    assert [f.path for f in repo.list_artifacts("run/outputs")][:1] == ["run/outputs/README.md"]
    assert repo.file_info("run/outputs/plots/epoch1/acc.csv") == FileInfo(
        "run/outputs/plots/epoch1/acc.csv", False, 15
    )


def test_log_artifacts_skips_symlinks_with_a_warning(
    repo: ArtifactRepository, src_tree: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key").write_text("do not upload")
    os.symlink(secret, src_tree / "linked_dir")
    os.symlink(secret / "key", src_tree / "linked_file")

    with caplog.at_level(logging.WARNING, logger="cairn.artifacts"):
        repo.log_artifacts(src_tree)

    paths = set(snapshot(repo))
    assert not any(p.startswith(("linked_dir", "linked_file")) for p in paths)
    assert "README.md" in paths
    skipped = [r.getMessage() for r in caplog.records if r.name == "cairn.artifacts"]
    assert len(skipped) == 2
    assert all("symlink" in m for m in skipped)


def test_log_artifacts_of_a_missing_directory_is_invalid(
    repo: ArtifactRepository, tmp_path: Path
) -> None:
    with pytest.raises(InvalidParameter, match="not an existing directory"):
        repo.log_artifacts(tmp_path / "missing")


def test_log_bytes_writes_the_named_file(repo: ArtifactRepository) -> None:
    repo.log_bytes(b'{"a": 1}', "config/params.json")

    assert repo.file_info("config/params.json") == FileInfo("config/params.json", False, 8)
    assert repo.file_info("config") == FileInfo("config", True, None)


def test_log_bytes_to_the_root_itself_is_invalid(repo: ArtifactRepository) -> None:
    with pytest.raises(InvalidArtifactPath):
        repo.log_bytes(b"x", "")


# -- listing and info ------------------------------------------------------------------------


def test_list_artifacts_gives_immediate_children_sorted_with_root_relative_paths(
    repo: ArtifactRepository,
) -> None:
    for name in ["b.txt", "a/z.txt", "a/y/deep.txt", "c.bin"]:
        repo.log_bytes(b"12345", name)

    assert repo.list_artifacts() == [
        FileInfo("a", True, None),
        FileInfo("b.txt", False, 5),
        FileInfo("c.bin", False, 5),
    ]
    assert repo.list_artifacts("a") == [FileInfo("a/y", True, None), FileInfo("a/z.txt", False, 5)]
    assert repo.list_artifacts("a/./y/") == [FileInfo("a/y/deep.txt", False, 5)]


def test_list_artifacts_of_a_missing_dir_or_a_file_is_empty(repo: ArtifactRepository) -> None:
    assert repo.list_artifacts() == []  # the root does not exist yet
    repo.log_bytes(b"x", "f.txt")

    assert repo.list_artifacts("missing") == []
    assert repo.list_artifacts("f.txt") == []


def test_file_info_is_none_when_missing(repo: ArtifactRepository) -> None:
    assert repo.file_info("nope") is None
    assert repo.file_info("a/b/c") is None


# -- reading ---------------------------------------------------------------------------------


def test_open_streams_a_file(repo: ArtifactRepository) -> None:
    repo.log_bytes(b"0123456789", "data.bin")

    with repo.open("data.bin") as stream:
        assert stream.read(4) == b"0123"
        assert stream.read() == b"456789"


def test_open_of_a_missing_file_raises_artifact_not_found(repo: ArtifactRepository) -> None:
    with pytest.raises(ArtifactNotFound, match=r"'nope\.txt'.*artifacts") as err:
        repo.open("nope.txt")
    assert err.value.path == "nope.txt"


def test_open_of_a_directory_is_invalid(repo: ArtifactRepository) -> None:
    repo.log_bytes(b"x", "dir/f")

    with pytest.raises(InvalidParameter, match="directory"):
        repo.open("dir")


def test_download_of_a_file_keeps_its_relative_layout(
    repo: ArtifactRepository, tmp_path: Path
) -> None:
    repo.log_bytes(b"csv", "data/2024/table.csv")
    dst = tmp_path / "download"

    local = repo.download_artifacts("data/2024/table.csv", dst)

    assert local == str(dst / "data" / "2024" / "table.csv")
    assert Path(local).read_bytes() == b"csv"


def test_download_of_a_directory_copies_the_tree(
    repo: ArtifactRepository, src_tree: Path, tmp_path: Path
) -> None:
    repo.log_artifacts(src_tree, "out")
    dst = tmp_path / "download"

    local = repo.download_artifacts("out/plots", dst)

    assert local == str(dst / "out" / "plots")
    assert local_tree(dst) == {
        "out": None,
        "out/plots": None,
        "out/plots/epoch1": None,
        "out/plots/epoch1/acc.csv": b"step,acc\n0,0.5\n",
        "out/plots/loss.png": b"\x89PNG fake",
    }


def test_download_of_the_root_into_a_new_temp_dir_by_default(
    repo: ArtifactRepository, src_tree: Path
) -> None:
    repo.log_artifacts(src_tree)

    local = Path(repo.download_artifacts())

    files = {k: v for k, v in local_tree(local).items() if v is not None}
    assert files == {k: v for k, v in local_tree(src_tree).items() if v is not None}


def test_download_of_a_missing_path_raises_artifact_not_found(
    repo: ArtifactRepository, tmp_path: Path
) -> None:
    with pytest.raises(ArtifactNotFound, match="missing/file"):
        repo.download_artifacts("missing/file", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_download_into_an_existing_file_is_invalid(
    repo: ArtifactRepository, tmp_path: Path
) -> None:
    repo.log_bytes(b"x", "f")
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")

    with pytest.raises(InvalidParameter, match="not a directory"):
        repo.download_artifacts("f", not_a_dir)


def test_large_file_round_trips_in_bounded_chunks(
    repo: ArtifactRepository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.bin"
    payload = os.urandom(8 * CHUNK_SIZE + 123)
    big.write_bytes(payload)
    repo.log_artifact(big, "models")

    reads: list[int] = []
    real_open = type(repo)._open_file

    class Spy:
        def __init__(self, inner: object) -> None:
            self.inner = inner

        def read(self, n: int = -1) -> bytes:
            reads.append(n)
            return self.inner.read(n)  # type: ignore[attr-defined, no-any-return]

        def __enter__(self) -> Spy:
            return self

        def __exit__(self, *exc: object) -> None:
            self.inner.close()  # type: ignore[attr-defined]

    monkeypatch.setattr(type(repo), "_open_file", lambda self, rel: Spy(real_open(self, rel)))

    local = repo.download_artifacts("models/big.bin", tmp_path / "dl")

    assert hashlib.sha256(Path(local).read_bytes()).digest() == hashlib.sha256(payload).digest()
    assert len(reads) > 8
    assert all(0 < n <= CHUNK_SIZE for n in reads)


# -- deleting --------------------------------------------------------------------------------


def test_delete_a_file(repo: ArtifactRepository) -> None:
    repo.log_bytes(b"x", "a/keep.txt")
    repo.log_bytes(b"x", "a/drop.txt")

    repo.delete_artifacts("a/drop.txt")

    assert [f.path for f in repo.list_artifacts("a")] == ["a/keep.txt"]


def test_delete_a_tree(repo: ArtifactRepository, src_tree: Path) -> None:
    repo.log_artifacts(src_tree)

    repo.delete_artifacts("plots")

    assert repo.file_info("plots") is None
    assert repo.file_info("README.md") is not None


def test_delete_the_whole_root(repo: ArtifactRepository, src_tree: Path) -> None:
    repo.log_artifacts(src_tree)

    repo.delete_artifacts()

    assert repo.list_artifacts() == []
    assert repo.file_info("") is None


def test_delete_of_a_missing_path_is_not_an_error(repo: ArtifactRepository) -> None:
    repo.delete_artifacts("missing")
    repo.delete_artifacts()


# -- paths that could leave the root ---------------------------------------------------------


@pytest.mark.parametrize("bad", ESCAPES)
def test_every_escape_attempt_is_refused_and_leaves_the_root_untouched(
    repo: ArtifactRepository, tmp_path: Path, bad: str
) -> None:
    repo.log_bytes(b"keep", "keep.txt")
    f = tmp_path / "f.txt"
    f.write_bytes(b"payload")
    (tmp_path / "dir").mkdir(exist_ok=True)
    before = snapshot(repo)

    calls = [
        lambda: repo.log_artifact(f, bad),
        lambda: repo.log_artifacts(tmp_path / "dir", bad),
        lambda: repo.log_bytes(b"x", bad),
        lambda: repo.list_artifacts(bad),
        lambda: repo.download_artifacts(bad, tmp_path / "dl"),
        lambda: repo.open(bad),
        lambda: repo.file_info(bad),
        lambda: repo.delete_artifacts(bad),
    ]
    for call in calls:
        with pytest.raises(InvalidArtifactPath):
            call()

    assert snapshot(repo) == before
    assert not (tmp_path / "dl").exists()


def test_a_local_file_name_that_is_not_a_valid_artifact_path_is_refused_before_writing(
    repo: ArtifactRepository, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a_ok.txt").write_text("fine")
    (tree / "z\\bad.txt").write_text("a backslash is a separator on Windows")

    with pytest.raises(InvalidArtifactPath):
        repo.log_artifacts(tree)
    with pytest.raises(InvalidArtifactPath):
        repo.log_artifact(tree / "z\\bad.txt")

    assert snapshot(repo) == {}
