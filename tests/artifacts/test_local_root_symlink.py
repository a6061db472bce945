"""Deleting a repository whose root is a symlink removes the link, never its target."""

from __future__ import annotations

from pathlib import Path

from cairn.artifacts import get_artifact_repository


def test_deleting_a_symlinked_root_keeps_the_target(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("mine")
    root = tmp_path / "store" / "run" / "artifacts"
    root.parent.mkdir(parents=True)
    root.symlink_to(precious, target_is_directory=True)
    get_artifact_repository(str(root)).delete_artifacts()
    assert (precious / "keep.txt").read_text() == "mine"
    assert not root.exists()
    assert not root.is_symlink()
