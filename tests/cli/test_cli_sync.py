"""``cairn sync``: sending the offline spool, and saying what is still waiting.

Sending to a live server is covered in ``tests/store/test_rest_server.py``; here the servers
are unreachable (a loopback port nobody listens on) or absent.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from cairn.store._rest_spool import Spool
from tests.cli._cli_support import Cli

BODY = {"run_id": "r" * 32, "metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}]}


@pytest.fixture
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CAIRN_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("CAIRN_HTTP_MAX_RETRIES", "0")
    return tmp_path / "spool"


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_sync_without_any_spool_says_so(cli: Cli, spool_dir: Path) -> None:
    result = cli("sync")
    assert result.exit_code == 0, result.output
    assert f"Nothing to sync: no spool under {spool_dir}" in result.output


def test_sync_of_a_server_with_nothing_waiting(cli: Cli, spool_dir: Path) -> None:
    url = _closed_port_url()
    result = cli("sync", "--tracking-uri", url)
    assert result.exit_code == 0, result.output
    assert f"{url}: nothing waiting" in result.output


def test_sync_to_an_unreachable_server_keeps_the_data_and_fails(cli: Cli, spool_dir: Path) -> None:
    url = _closed_port_url()
    spool = Spool(url)
    spool.append([BODY, BODY])
    result = cli("sync")  # the tracking URI is a folder: every spool is sent
    assert result.exit_code == 1
    assert f"{url}: 2 requests still waiting in {spool.path}" in result.output
    assert "did not answer" in result.output and "Connection refused" in result.output
    assert len(spool.path.read_text().splitlines()) == 2
