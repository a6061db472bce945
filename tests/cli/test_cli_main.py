"""The ``cairn`` group itself: version, help on every command, the tracking URI option and its
environment variables, error reporting, and the installed console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

import cairn
from cairn.cli import main
from cairn.cli._common import AgeType, format_duration, jsonable, split_csv
from tests.cli._cli_support import Cli

VENV_CAIRN = Path(sys.executable).parent / "cairn"


def _all_command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            paths += _all_command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


def test_version_prints_cairn_and_the_package_version(cli: Cli) -> None:
    result = cli("--version", tracking_uri=None)
    assert result.exit_code == 0
    assert result.output.strip() == f"cairn {cairn.__version__}"


@pytest.mark.parametrize("path", _all_command_paths(main), ids=" ".join)
def test_every_command_and_group_has_help(cli: Cli, path: tuple[str, ...]) -> None:
    result = cli(*path, "--help", tracking_uri=None)
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output
    assert " ".join(("cairn", *path)) in result.output


def test_every_command_has_a_docstring() -> None:
    for path in _all_command_paths(main)[1:]:
        command: click.Command = main
        for name in path:
            assert isinstance(command, click.Group)
            command = command.commands[name]
        assert command.help, f"cairn {' '.join(path)} has no help text"


def test_the_tracking_uri_option_reaches_the_commands(cli: Cli, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    assert cli("experiments", "create", "here-only", tracking_uri=str(elsewhere)).exit_code == 0
    assert "here-only" in cli("experiments", "list", tracking_uri=str(elsewhere)).output
    assert "here-only" not in cli("experiments", "list").output


def test_cairn_tracking_uri_env_var_wins_over_mlflows(cli: Cli, tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    env = {"CAIRN_TRACKING_URI": str(ours), "MLFLOW_TRACKING_URI": str(theirs)}
    assert cli("experiments", "create", "from-env", tracking_uri=None, env=env).exit_code == 0
    assert (ours / "cairn.db").is_file()
    assert not theirs.exists()


def test_mlflow_tracking_uri_env_var_is_the_fallback(cli: Cli, tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    env = {"MLFLOW_TRACKING_URI": str(theirs)}
    assert cli("experiments", "create", "from-env", tracking_uri=None, env=env).exit_code == 0
    assert (theirs / "cairn.db").is_file()


def test_the_default_tracking_uri_is_mlruns_in_the_working_directory(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli("experiments", "create", "here", tracking_uri=None).exit_code == 0
    assert (tmp_path / "mlruns" / "cairn.db").is_file()


def test_a_cairn_error_is_one_line_on_stderr_with_exit_code_1(cli: Cli) -> None:
    result = cli("runs", "describe", "0123456789abcdef")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert "0123456789abcdef" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_an_unknown_tracking_uri_scheme_is_a_clean_error(cli: Cli) -> None:
    result = cli("experiments", "list", tracking_uri="ftp://example.com/x")
    assert result.exit_code == 1
    assert "Error: Unsupported tracking URI" in result.stderr


def test_usage_errors_exit_with_code_2(cli: Cli) -> None:
    assert cli("runs", "list", "--max-results", "0").exit_code == 2
    assert cli("experiments", "list", "--view", "sideways").exit_code == 2
    assert cli("no-such-command").exit_code == 2


def test_installed_console_script_prints_version_and_help() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAIRN_", "MLFLOW_"))}
    version = subprocess.run(
        [str(VENV_CAIRN), "--version"], capture_output=True, text=True, env=env, check=False
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"cairn {cairn.__version__}"
    helped = subprocess.run(
        [str(VENV_CAIRN), "--help"], capture_output=True, text=True, env=env, check=False
    )
    assert helped.returncode == 0, helped.stderr
    for noun in ("experiments", "runs", "artifacts", "db", "gc"):
        assert noun in helped.stdout


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from cairn.cli import main\n"
        "heavy = {'pandas', 'sqlalchemy', 'rich', 'numpy', 'alembic', 'fsspec', 'cairn.client'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# -- helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ms"),
    [("30d", 30 * 86_400_000), ("12h", 43_200_000), ("90m", 5_400_000), ("45s", 45_000),
     ("0", 0), ("7", 7_000), ("2D", 2 * 86_400_000)],
)  # fmt: skip
def test_ages_convert_to_milliseconds(text: str, ms: int) -> None:
    assert AgeType().convert(text, None, None) == ms


@pytest.mark.parametrize("text", ["", "abc", "-1d", "1.5h", "3w", "d"])
def test_bad_ages_are_usage_errors(text: str) -> None:
    with pytest.raises(click.BadParameter, match="is not an age"):
        AgeType().convert(text, None, None)


def test_split_csv_flattens_repeats_and_drops_blanks() -> None:
    assert split_csv(("a,b", " c ,", "a")) == ["a", "b", "c"]
    assert split_csv(None) == []


def test_durations_read_naturally() -> None:
    assert format_duration(850) == "850ms"
    assert format_duration(12_300) == "12.3s"
    assert format_duration(245_000) == "4m 05s"
    assert format_duration(7_380_000) == "2h 03m"
    assert format_duration(3 * 86_400_000 + 4 * 3_600_000) == "3d 04h"
    assert format_duration(None) == ""


def test_non_finite_floats_become_strict_json_strings() -> None:
    value = {"a": [float("nan"), float("inf"), -float("inf"), 1.5]}
    assert jsonable(value) == {"a": ["NaN", "Infinity", "-Infinity", 1.5]}
