"""Runs through the fluent API: start_run (context manager, names, tags, nesting, resuming),
active_run, last_active_run, end_run, get_run, delete_run and the system tags."""

from __future__ import annotations

import getpass
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import cairn
from cairn.entities import Run, ViewType
from cairn.errors import CairnError, InvalidParameter, InvalidState, RunNotFound

MISSING_RUN_ID = "0123456789abcdef0123456789abcdef"


def test_start_run_returns_the_active_running_run() -> None:
    run = cairn.start_run()
    assert isinstance(run, Run)
    assert run.info.status == "RUNNING"
    assert run.info.lifecycle_stage == "active"
    assert cairn.active_run() is run
    assert cairn.get_run(run.info.run_id).info.status == "RUNNING"


def test_start_run_records_start_time_and_leaves_end_time_empty() -> None:
    before = int(time.time() * 1000)
    with cairn.start_run() as run:
        stored = cairn.get_run(run.info.run_id)
        assert stored.info.end_time is None
    after = int(time.time() * 1000)
    assert before <= run.info.start_time <= after
    ended = cairn.get_run(run.info.run_id)
    assert run.info.start_time <= ended.info.end_time <= after + 1000


def test_context_manager_yields_the_active_run() -> None:
    with cairn.start_run() as run:
        assert cairn.active_run() is run
    assert cairn.active_run() is None


def test_context_manager_finishes_the_run_on_normal_exit() -> None:
    with cairn.start_run() as run:
        pass
    info = cairn.get_run(run.info.run_id).info
    assert info.status == "FINISHED"
    assert info.end_time is not None


def test_context_manager_fails_the_run_and_reraises_the_exception() -> None:
    with pytest.raises(ZeroDivisionError), cairn.start_run() as run:
        1 / 0  # noqa: B018
    assert cairn.get_run(run.info.run_id).info.status == "FAILED"
    assert cairn.active_run() is None


def test_context_manager_kills_the_run_on_keyboard_interrupt() -> None:
    with pytest.raises(KeyboardInterrupt), cairn.start_run() as run:
        raise KeyboardInterrupt
    assert cairn.get_run(run.info.run_id).info.status == "KILLED"
    assert cairn.active_run() is None


def test_run_name_is_the_run_name_and_the_run_name_tag() -> None:
    with cairn.start_run(run_name="baseline") as run:
        pass
    stored = cairn.get_run(run.info.run_id)
    assert run.info.run_name == "baseline"
    assert stored.info.run_name == "baseline"
    assert stored.data.tags["mlflow.runName"] == "baseline"


def test_run_without_name_gets_a_generated_one() -> None:
    with cairn.start_run() as first, cairn.start_run(nested=True) as second:
        pass
    for run in (first, second):
        stored = cairn.get_run(run.info.run_id)
        assert stored.info.run_name
        assert stored.data.tags["mlflow.runName"] == stored.info.run_name


def test_start_run_sets_tags_as_strings() -> None:
    with cairn.start_run(tags={"team": "vision", "attempt": 3}) as run:
        pass
    tags = cairn.get_run(run.info.run_id).data.tags
    assert tags["team"] == "vision"
    assert tags["attempt"] == "3"


def test_description_is_stored_as_note_tag() -> None:
    with cairn.start_run(description="first try with **markdown**") as run:
        pass
    tags = cairn.get_run(run.info.run_id).data.tags
    assert tags["mlflow.note.content"] == "first try with **markdown**"


def test_nested_run_is_tagged_with_its_parent() -> None:
    with cairn.start_run() as parent:
        with cairn.start_run(nested=True) as child:
            assert cairn.active_run() is child
        assert cairn.active_run() is parent
    child_tags = cairn.get_run(child.info.run_id).data.tags
    assert child_tags["mlflow.parentRunId"] == parent.info.run_id
    assert "mlflow.parentRunId" not in cairn.get_run(parent.info.run_id).data.tags
    assert cairn.get_run(child.info.run_id).info.status == "FINISHED"


def test_nested_runs_can_be_nested_several_levels() -> None:
    with (
        cairn.start_run() as a,
        cairn.start_run(nested=True) as b,
        cairn.start_run(nested=True) as c,
    ):
        assert cairn.active_run() is c
    assert cairn.get_run(b.info.run_id).data.tags["mlflow.parentRunId"] == a.info.run_id
    assert cairn.get_run(c.info.run_id).data.tags["mlflow.parentRunId"] == b.info.run_id


def test_nested_without_an_active_run_starts_a_top_level_run() -> None:
    with cairn.start_run(nested=True) as run:
        pass
    assert "mlflow.parentRunId" not in cairn.get_run(run.info.run_id).data.tags


def test_starting_a_second_run_without_nested_is_rejected() -> None:
    with cairn.start_run() as first:
        with pytest.raises(InvalidState, match=first.info.run_id):
            cairn.start_run()
        assert cairn.active_run() is first
    assert len(cairn.search_runs(output_format="list")) == 1


def test_leaving_the_outer_block_ends_runs_still_open_inside_it() -> None:
    with cairn.start_run() as parent:
        child = cairn.start_run(nested=True)
    assert cairn.active_run() is None
    assert cairn.get_run(parent.info.run_id).info.status == "FINISHED"
    assert cairn.get_run(child.info.run_id).info.status == "FINISHED"


def test_parent_run_id_makes_the_run_a_child() -> None:
    with cairn.start_run() as parent:
        pass
    with cairn.start_run(parent_run_id=parent.info.run_id) as child:
        pass
    tags = cairn.get_run(child.info.run_id).data.tags
    assert tags["mlflow.parentRunId"] == parent.info.run_id


def test_parent_run_id_of_missing_run_raises_run_not_found() -> None:
    with pytest.raises(RunNotFound):
        cairn.start_run(parent_run_id=MISSING_RUN_ID)
    assert cairn.active_run() is None


def test_run_id_resumes_an_existing_run_with_its_data() -> None:
    with cairn.start_run(run_name="resumable") as first:
        cairn.log_param("p", "1")
        cairn.log_metric("m", 1.0, step=0)
    assert cairn.get_run(first.info.run_id).info.status == "FINISHED"
    with cairn.start_run(run_id=first.info.run_id) as resumed:
        assert resumed.info.run_id == first.info.run_id
        assert resumed.info.status == "RUNNING"
        assert cairn.get_run(first.info.run_id).info.status == "RUNNING"
        assert resumed.data.params == {"p": "1"}
        cairn.log_metric("m", 2.0, step=1)
    stored = cairn.get_run(first.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.info.run_name == "resumable"
    assert stored.data.params == {"p": "1"}
    assert stored.data.metrics == {"m": 2.0}
    history = cairn.Client().get_metric_history(first.info.run_id, "m")
    assert [p.value for p in history] == [1.0, 2.0]
    assert len(cairn.search_runs(output_format="list")) == 1


def test_resuming_a_nonexistent_run_raises_run_not_found() -> None:
    with pytest.raises(RunNotFound) as caught:
        cairn.start_run(run_id=MISSING_RUN_ID)
    assert caught.value.run_id == MISSING_RUN_ID
    assert cairn.active_run() is None


def test_resuming_a_deleted_run_is_rejected() -> None:
    with cairn.start_run() as run:
        pass
    cairn.delete_run(run.info.run_id)
    with pytest.raises(InvalidParameter):
        cairn.start_run(run_id=run.info.run_id)
    assert cairn.active_run() is None


def test_resuming_into_another_experiment_is_rejected() -> None:
    with cairn.start_run() as run:
        pass
    other = cairn.create_experiment("other")
    with pytest.raises(InvalidParameter):
        cairn.start_run(run_id=run.info.run_id, experiment_id=other)


def test_active_run_is_none_without_a_run() -> None:
    assert cairn.active_run() is None


def test_last_active_run_is_none_before_any_run() -> None:
    assert cairn.last_active_run() is None


def test_last_active_run_is_the_active_run_while_one_is_active() -> None:
    with cairn.start_run() as run:
        last = cairn.last_active_run()
        assert last is not None
        assert last.info.run_id == run.info.run_id


def test_last_active_run_returns_the_ended_run_as_it_is_now() -> None:
    with cairn.start_run() as run:
        cairn.log_metric("m", 3.0)
    last = cairn.last_active_run()
    assert last is not None
    assert last.info.run_id == run.info.run_id
    assert last.info.status == "FINISHED"
    assert last.data.metrics == {"m": 3.0}


def test_end_run_finishes_the_active_run() -> None:
    run = cairn.start_run()
    cairn.end_run()
    assert cairn.active_run() is None
    assert cairn.get_run(run.info.run_id).info.status == "FINISHED"


def test_end_run_with_status_killed() -> None:
    run = cairn.start_run()
    cairn.end_run(status="KILLED")
    assert cairn.get_run(run.info.run_id).info.status == "KILLED"


def test_end_run_with_status_failed() -> None:
    run = cairn.start_run()
    cairn.end_run("FAILED")
    assert cairn.get_run(run.info.run_id).info.status == "FAILED"


def test_end_run_without_an_active_run_does_nothing() -> None:
    cairn.end_run()
    assert cairn.active_run() is None
    assert cairn.search_runs(output_format="list") == []


def test_end_run_ends_the_innermost_run_first() -> None:
    parent = cairn.start_run()
    child = cairn.start_run(nested=True)
    cairn.end_run()
    assert cairn.active_run() is parent
    assert cairn.get_run(child.info.run_id).info.status == "FINISHED"
    assert cairn.get_run(parent.info.run_id).info.status == "RUNNING"
    cairn.end_run()
    assert cairn.active_run() is None


def test_end_run_inside_the_block_is_allowed() -> None:
    with cairn.start_run() as run:
        cairn.end_run("KILLED")
        assert cairn.active_run() is None
    assert cairn.get_run(run.info.run_id).info.status == "KILLED"


def test_get_run_returns_the_stored_run() -> None:
    with cairn.start_run(run_name="stored") as run:
        cairn.log_param("a", 1)
    stored = cairn.get_run(run.info.run_id)
    assert stored.info.run_id == run.info.run_id
    assert stored.info.run_uuid == run.info.run_id
    assert stored.info.run_name == "stored"
    assert stored.data.params == {"a": "1"}
    assert stored.info.artifact_uri.endswith(f"/0/{run.info.run_id}/artifacts")


def test_get_run_of_missing_run_raises_run_not_found() -> None:
    with pytest.raises(RunNotFound) as caught:
        cairn.get_run(MISSING_RUN_ID)
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_get_run_with_malformed_id_raises_invalid_parameter() -> None:
    with pytest.raises(InvalidParameter):
        cairn.get_run("../../etc/passwd")


def test_delete_run_soft_deletes_it() -> None:
    with cairn.start_run() as run:
        pass
    cairn.delete_run(run.info.run_id)
    assert cairn.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    assert cairn.search_runs(output_format="list") == []
    deleted = cairn.search_runs(run_view_type=ViewType.DELETED_ONLY, output_format="list")
    assert [r.info.run_id for r in deleted] == [run.info.run_id]


def test_delete_run_of_missing_run_raises_run_not_found() -> None:
    with pytest.raises(RunNotFound):
        cairn.delete_run(MISSING_RUN_ID)


def test_logging_to_a_deleted_run_is_rejected() -> None:
    with cairn.start_run() as run:
        pass
    cairn.delete_run(run.info.run_id)
    client = cairn.Client()
    with pytest.raises(CairnError):
        client.log_metric(run.info.run_id, "m", 1.0, synchronous=True)


# -- system tags ----------------------------------------------------------------------------


def test_system_tags_name_user_and_source_type() -> None:
    with cairn.start_run() as run:
        pass
    tags = cairn.get_run(run.info.run_id).data.tags
    assert tags["mlflow.user"] == getpass.getuser()
    assert cairn.get_run(run.info.run_id).info.user_id == getpass.getuser()
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.source.name"]
    assert tags["mlflow.runName"] == run.info.run_name


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        [
            "git",
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


_SCRIPT = """\
import json

import cairn

with cairn.start_run() as run:
    pass
print(json.dumps(cairn.get_run(run.info.run_id).data.tags))
"""


def test_source_tags_of_a_script_in_a_git_work_tree(
    tmp_path: Path, mlruns: Path, run_python: Callable[..., Any]
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "README.md").write_text("hello\n")
    _git(repo, "add", "README.md")
    _git(repo, "commit", "-q", "-m", "first")
    (repo / "README.md").write_text("hello again\n")
    _git(repo, "commit", "-q", "-am", "second")
    head = _git(repo, "rev-parse", "HEAD")
    tags = run_python(_SCRIPT, cwd=repo, env={"CAIRN_TRACKING_URI": str(mlruns)})
    assert tags["mlflow.source.git.commit"] == head
    assert tags["mlflow.source.name"] == str(repo / "_snippet.py")
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.user"] == getpass.getuser()


def test_no_git_commit_tag_outside_a_work_tree(
    tmp_path: Path, mlruns: Path, run_python: Callable[..., Any]
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    not_a_repo = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"], cwd=plain, capture_output=True, check=False
    )
    assert not_a_repo.returncode != 0  # the premise: tmp_path is not inside a git work tree
    tags = run_python(_SCRIPT, cwd=plain, env={"CAIRN_TRACKING_URI": str(mlruns)})
    assert "mlflow.source.git.commit" not in tags
    assert tags["mlflow.source.name"] == str(plain / "_snippet.py")
