"""``cairn artifacts``: list (table and JSON) and download."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

import cairn
from cairn.entities import Run
from tests.cli._cli_support import Cli


@pytest.fixture
def run_with_files(client: cairn.Client, make_run: Callable[..., Run]) -> Run:
    run = make_run(artifact="notes/readme.txt")
    client.log_text(run.info.run_id, "x" * 1500, "model/weights.bin")
    client.log_text(run.info.run_id, "top", "summary.txt")
    return run


def test_list_top_level_shows_path_size_and_dir(cli: Cli, run_with_files: Run) -> None:
    result = cli("artifacts", "list", "--run-id", run_with_files.info.run_id)
    assert result.exit_code == 0, result.output
    rows = {
        cells[0]: cells[1:]
        for line in result.output.splitlines()
        if (cells := [c.strip() for c in line.split("│")][1:-1])
    }
    assert rows["model/"] == ["", "yes"]
    assert rows["notes/"] == ["", "yes"]
    assert rows["summary.txt"] == ["3 bytes", ""]


def test_list_a_folder_with_sizes(cli: Cli, run_with_files: Run) -> None:
    result = cli("artifacts", "list", "--run-id", run_with_files.info.run_id, "--path", "model")
    assert result.exit_code == 0, result.output
    assert "model/weights.bin" in result.output
    assert "1.5 kB" in result.output


def test_list_json(cli: Cli, run_with_files: Run) -> None:
    result = cli("artifacts", "list", "--run-id", run_with_files.info.run_id, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"path": "model", "is_dir": True, "file_size": None},
        {"path": "notes", "is_dir": True, "file_size": None},
        {"path": "summary.txt", "is_dir": False, "file_size": 3},
    ]


def test_list_an_empty_folder_says_so(cli: Cli, run_with_files: Run) -> None:
    result = cli("artifacts", "list", "--run-id", run_with_files.info.run_id, "--path", "none")
    assert result.exit_code == 0
    assert "No artifacts under 'none'." in result.output


def test_list_an_escaping_path_fails_cleanly(cli: Cli, run_with_files: Run) -> None:
    result = cli("artifacts", "list", "--run-id", run_with_files.info.run_id, "--path", "../x")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")


def test_list_of_an_unknown_run_fails_cleanly(cli: Cli) -> None:
    result = cli("artifacts", "list", "--run-id", "0123456789abcdef")
    assert result.exit_code == 1
    assert "Error: Run with id='0123456789abcdef' not found" in result.stderr


def test_list_needs_a_run_id(cli: Cli) -> None:
    result = cli("artifacts", "list")
    assert result.exit_code == 2
    assert "--run-id" in result.stderr


def test_download_a_file_to_a_folder_prints_its_path(
    cli: Cli, run_with_files: Run, tmp_path: Path
) -> None:
    dst = tmp_path / "out"
    result = cli(
        "artifacts", "download", "--run-id", run_with_files.info.run_id,
        "--path", "notes/readme.txt", "--dst", str(dst),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    local = Path(result.stdout.strip())
    assert local == dst / "notes" / "readme.txt"
    assert local.read_text() == f"artifact of {run_with_files.info.run_id}"


def test_download_everything_to_a_temporary_folder(
    cli: Cli, run_with_files: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = cli("artifacts", "download", "--run-id", run_with_files.info.run_id)
    assert result.exit_code == 0, result.output
    local = Path(result.stdout.strip())
    assert local.parent == tmp_path
    assert sorted(p.name for p in local.iterdir()) == ["model", "notes", "summary.txt"]
    assert (local / "model" / "weights.bin").read_text() == "x" * 1500


def test_download_a_missing_path_fails_cleanly(
    cli: Cli, run_with_files: Run, tmp_path: Path
) -> None:
    result = cli(
        "artifacts", "download", "--run-id", run_with_files.info.run_id,
        "--path", "nothing/here", "--dst", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Error: No artifact at 'nothing/here'" in result.stderr
