"""``cairn server`` and ``cairn ui`` as a user starts them."""

from __future__ import annotations

import socket
from pathlib import Path

from click.testing import CliRunner

from cairn.cli import main


def test_a_taken_port_is_named_with_the_flag_to_change_it(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            main, ["--tracking-uri", str(tmp_path / "mlruns"), "ui", "--port", str(port)]
        )
    assert result.exit_code == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in result.output
    assert "--port" in result.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_server_needs_a_database_not_another_server() -> None:
    result = CliRunner().invoke(
        main,
        ["server", "--backend-store-uri", "http://elsewhere:5000", "--port", str(_free_port())],
    )
    assert result.exit_code == 1
    assert "needs a database" in result.output


def test_server_help_lists_its_options() -> None:
    result = CliRunner().invoke(main, ["server", "--help"])
    assert result.exit_code == 0
    for option in (
        "--backend-store-uri",
        "--artifacts-destination",
        "--host",
        "--port",
        "--workers",
    ):
        assert option in result.output
