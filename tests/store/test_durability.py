"""What the background writer promises about exits, signals, hard kills, forks and many
processes sharing one ./mlruns. Each case runs a real child process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cairn.client import Client

CHILD_PRELUDE = """
import os, sys, time
import cairn
cairn.set_tracking_uri(sys.argv[1])
"""


def _spawn(script: str, folder: Path, **env: str) -> subprocess.Popen[str]:
    code = CHILD_PRELUDE + textwrap.dedent(script)
    environment = {**os.environ, **env}
    environment.pop("CAIRN_TRACKING_URI", None)
    environment.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.Popen(
        [sys.executable, "-c", code, str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def _finish(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str]:
    """Wait for the child, close its pipes, return (exit code, stderr). A child that does not
    end in time is killed and reaped, so that it cannot leak into the next test."""
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return proc.returncode, err


def _wait_for_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line:
        raise AssertionError(f"child printed nothing; stderr:\n{proc.communicate()[1]}")
    return line


def _history_len(folder: Path, run_id: str, key: str = "m") -> int:
    return len(Client(str(folder)).get_metric_history(run_id, key))


# A minute-long flush interval: only the flush under test can have written the points.
SLOW = {"CAIRN_FLUSH_INTERVAL": "60"}


def test_sigterm_flushes_queued_points_and_marks_the_run_killed(tmp_path: Path) -> None:
    proc = _spawn(
        """
        run = cairn.start_run()
        for i in range(40_000):
            cairn.log_metric("m", i, step=i)
        print(run.info.run_id, flush=True)
        time.sleep(120)
        """,
        tmp_path / "mlruns",
        **SLOW,
    )
    run_id = _wait_for_line(proc)
    proc.send_signal(signal.SIGTERM)
    code, err = _finish(proc)
    assert code == -signal.SIGTERM, err  # the default disposition still applies
    assert _history_len(tmp_path / "mlruns", run_id) == 40_000
    assert Client(str(tmp_path / "mlruns")).get_run(run_id).info.status == "KILLED"


def test_sigint_ends_the_run_as_killed_with_every_point(tmp_path: Path) -> None:
    proc = _spawn(
        # A test run started in the background of a shell inherits SIGINT ignored, and Python
        # then never raises KeyboardInterrupt: give the child Python's own Ctrl-C handler.
        """
        import signal
        signal.signal(signal.SIGINT, signal.default_int_handler)
        with cairn.start_run() as run:
            for i in range(30_000):
                cairn.log_metric("m", i, step=i)
            print(run.info.run_id, flush=True)
            time.sleep(120)
        """,
        tmp_path / "mlruns",
        **SLOW,
    )
    run_id = _wait_for_line(proc)
    proc.send_signal(signal.SIGINT)
    _, err = _finish(proc)
    assert "KeyboardInterrupt" in err
    assert _history_len(tmp_path / "mlruns", run_id) == 30_000
    assert Client(str(tmp_path / "mlruns")).get_run(run_id).info.status == "KILLED"


def test_normal_exit_flushes_and_finishes_an_open_run(tmp_path: Path) -> None:
    proc = _spawn(
        """
        run = cairn.start_run()
        cairn.log_param("p", 1)
        for i in range(25_000):
            cairn.log_metric("m", i, step=i)
        print(run.info.run_id, flush=True)
        """,
        tmp_path / "mlruns",
        **SLOW,
    )
    run_id = _wait_for_line(proc)
    code, err = _finish(proc)
    assert code == 0, err
    run = Client(str(tmp_path / "mlruns")).get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"p": "1"}
    assert _history_len(tmp_path / "mlruns", run_id) == 25_000


def test_a_hard_kill_loses_only_what_was_not_flushed_and_corrupts_nothing(
    tmp_path: Path,
) -> None:
    proc = _spawn(
        """
        run = cairn.start_run()
        for i in range(10_000):
            cairn.log_metric("m", i, step=i)
        cairn.flush()
        for i in range(10_000, 20_000):
            cairn.log_metric("m", i, step=i)
        print(run.info.run_id, flush=True)
        time.sleep(120)
        """,
        tmp_path / "mlruns",
        **SLOW,
    )
    run_id = _wait_for_line(proc)
    proc.kill()
    _finish(proc)
    client = Client(str(tmp_path / "mlruns"))
    history = client.get_metric_history(run_id, "m")
    assert [m.step for m in history] == list(range(10_000))
    assert client.get_run(run_id).info.status == "RUNNING"  # nobody could end it


def test_a_forked_child_writes_its_own_points_only(tmp_path: Path) -> None:
    proc = _spawn(
        """
        run = cairn.start_run()
        cairn.log_metric("parent", 1.0)   # queued in the parent when it forks
        pid = os.fork()
        if pid == 0:
            cairn.log_metric("child", 2.0, run_id=run.info.run_id)
            cairn.flush()
            os._exit(0)
        os.waitpid(pid, 0)
        cairn.end_run()
        print(run.info.run_id, flush=True)
        """,
        tmp_path / "mlruns",
        **SLOW,
    )
    run_id = _wait_for_line(proc)
    code, err = _finish(proc)
    assert code == 0, err
    client = Client(str(tmp_path / "mlruns"))
    assert len(client.get_metric_history(run_id, "parent")) == 1  # not written twice
    assert len(client.get_metric_history(run_id, "child")) == 1


@pytest.mark.slow
def test_eight_processes_logging_into_one_folder_store_every_point(tmp_path: Path) -> None:
    """Eight processes start on a folder that does not exist yet (racing to create the
    database and the experiment) and log 20,000 points each."""
    folder = tmp_path / "mlruns"
    script = """
        cairn.set_experiment("shared")
        with cairn.start_run() as run:
            for i in range(20_000):
                cairn.log_metric("m", i * 0.5, step=i)
            cairn.log_params({"pid": os.getpid()})
        print(run.info.run_id, flush=True)
    """
    procs = [_spawn(script, folder) for _ in range(8)]
    run_ids = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "locked" not in err
        run_ids.append(out.strip())
    client = Client(str(folder))
    experiment = client.get_experiment_by_name("shared")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], max_results=100)
    assert sorted(r.info.run_id for r in runs) == sorted(run_ids)
    for run_id in run_ids:
        history = client.get_metric_history(run_id, "m")
        assert [m.step for m in history] == list(range(20_000))


@pytest.mark.slow
def test_many_processes_with_synchronous_writes_never_see_a_locked_database(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "mlruns"
    Client(str(folder)).search_experiments()  # create the database first
    script = """
        with cairn.start_run() as run:
            for i in range(300):
                cairn.log_metric("m", i, step=i, synchronous=True)
                cairn.set_tag(f"t{i % 7}", i, synchronous=True)
        print(run.info.run_id, flush=True)
    """
    start = time.monotonic()
    procs = [_spawn(script, folder) for _ in range(6)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert _history_len(folder, out.strip()) == 300
    assert time.monotonic() - start >= 0  # ran to completion; timing is not asserted
