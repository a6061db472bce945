"""``cairn gc``: what it removes (rows and artifact files), what it must leave alone, dry runs,
confirmation, selection by run / experiment / age, and its errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

import cairn
from cairn.cli.gc import removable_folder
from cairn.entities import Run
from cairn.errors import ExperimentNotFound, RunNotFound
from tests.cli._cli_support import Cli, artifact_dir


def _exists(client: cairn.Client, run_id: str) -> bool:
    try:
        client.get_run(run_id)
    except RunNotFound:
        return False
    return True


def _experiment_exists(client: cairn.Client, experiment_id: str) -> bool:
    try:
        client.get_experiment(experiment_id)
    except ExperimentNotFound:
        return False
    return True


def _age_everything(client: cairn.Client, days: int = 60) -> None:
    """Pretend every deletion happened ``days`` ago."""
    past = 1_000 * (60 * 60 * 24) * days
    engine = client.store.engine  # type: ignore[attr-defined]
    with engine.connect().execution_options(cairn_write=True) as conn, conn.begin():
        for table in ("runs", "experiments"):
            shift = f"UPDATE {table} SET deleted_time = deleted_time - :past"
            conn.execute(text(shift + " WHERE deleted_time IS NOT NULL"), {"past": past})


@pytest.fixture
def scene(client: cairn.Client, make_run: Callable[..., Run]) -> dict[str, Run | str]:
    """An active run and a deleted run in Default; a deleted experiment with one run."""
    kept = make_run("0", name="kept")
    gone = make_run("0", name="gone")
    client.delete_run(gone.info.run_id)
    exp_id = client.create_experiment("old-exp")
    in_exp = make_run(exp_id, name="in-exp")
    client.delete_experiment(exp_id)
    return {"kept": kept, "gone": gone, "in_exp": in_exp, "exp_id": exp_id}


def test_gc_removes_deleted_runs_their_artifacts_and_emptied_experiments(
    cli: Cli, client: cairn.Client, scene: dict[str, Run | str], mlruns: Path
) -> None:
    kept, gone, in_exp, exp_id = scene["kept"], scene["gone"], scene["in_exp"], scene["exp_id"]
    assert isinstance(kept, Run)
    assert isinstance(gone, Run)
    assert isinstance(in_exp, Run)
    assert isinstance(exp_id, str)
    assert artifact_dir(gone).is_dir()

    result = cli("gc", "--yes")
    assert result.exit_code == 0, result.output
    assert "Removed 2 runs and 1 experiment." in result.stdout

    assert not _exists(client, gone.info.run_id)
    assert not _exists(client, in_exp.info.run_id)
    assert not _experiment_exists(client, exp_id)
    # Artifacts went with the runs, including each run's now-empty folder...
    assert not artifact_dir(gone).exists()
    assert not artifact_dir(gone).parent.exists()
    assert not (mlruns / exp_id).exists()
    # ...while the active run and its files are untouched.
    assert client.get_run(kept.info.run_id).info.lifecycle_stage == "active"
    readme = artifact_dir(kept) / "notes" / "readme.txt"
    assert readme.read_text() == f"artifact of {kept.info.run_id}"
    assert (mlruns / "cairn.db").is_file()
    assert _experiment_exists(client, "0")


def test_dry_run_lists_everything_and_changes_nothing(
    cli: Cli, client: cairn.Client, scene: dict[str, Run | str], mlruns: Path
) -> None:
    gone, in_exp, exp_id = scene["gone"], scene["in_exp"], scene["exp_id"]
    assert isinstance(gone, Run)
    assert isinstance(in_exp, Run)
    files_before = sorted(p for p in mlruns.rglob("*") if p.name != "cairn.db-wal")

    result = cli("gc", "--dry-run")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert gone.info.run_id in out
    assert in_exp.info.run_id in out
    assert "old-exp" in out
    assert "would permanently remove 2 runs and 1 experiment" in out
    assert "nothing was changed" in out

    assert _exists(client, gone.info.run_id)
    assert _exists(client, in_exp.info.run_id)
    assert client.get_experiment(str(exp_id)).lifecycle_stage == "deleted"
    assert artifact_dir(gone).is_dir()
    assert sorted(p for p in mlruns.rglob("*") if p.name != "cairn.db-wal") == files_before


def test_without_yes_it_asks_and_a_no_changes_nothing(
    cli: Cli, client: cairn.Client, scene: dict[str, Run | str]
) -> None:
    gone = scene["gone"]
    assert isinstance(gone, Run)
    result = cli("gc", input="n\n")
    assert result.exit_code == 1
    assert "Permanently remove 2 runs and 1 experiment" in result.stderr
    assert "Aborted" in result.stderr
    assert _exists(client, gone.info.run_id)
    assert artifact_dir(gone).is_dir()


def test_without_yes_a_yes_answer_proceeds(
    cli: Cli, client: cairn.Client, scene: dict[str, Run | str]
) -> None:
    gone = scene["gone"]
    assert isinstance(gone, Run)
    result = cli("gc", input="y\n")
    assert result.exit_code == 0, result.output
    assert not _exists(client, gone.info.run_id)


def test_nothing_to_remove(cli: Cli, make_run: Callable[..., Run]) -> None:
    make_run()
    result = cli("gc", "--yes")
    assert result.exit_code == 0, result.output
    assert "Nothing to remove." in result.stdout


def test_run_ids_remove_only_those_runs(
    cli: Cli, client: cairn.Client, make_run: Callable[..., Run]
) -> None:
    a, b, c = (make_run() for _ in range(3))
    for run in (a, b, c):
        client.delete_run(run.info.run_id)
    result = cli("gc", "--yes", "--run-ids", f"{a.info.run_id},{b.info.run_id}")
    assert result.exit_code == 0, result.output
    assert "Removed 2 runs and 0 experiments." in result.stdout
    assert not _exists(client, a.info.run_id)
    assert not _exists(client, b.info.run_id)
    assert _exists(client, c.info.run_id)
    assert artifact_dir(c).is_dir()


def test_naming_a_run_that_is_not_deleted_is_an_error_naming_it(
    cli: Cli, client: cairn.Client, make_run: Callable[..., Run]
) -> None:
    deleted, active = make_run(), make_run()
    client.delete_run(deleted.info.run_id)
    result = cli("gc", "--yes", "--run-ids", f"{deleted.info.run_id},{active.info.run_id}")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert f"Run {active.info.run_id} is not deleted" in result.stderr
    # Checked before anything is removed.
    assert _exists(client, deleted.info.run_id)
    assert artifact_dir(active).is_dir()


def test_naming_an_unknown_run_is_an_error(cli: Cli) -> None:
    result = cli("gc", "--yes", "--run-ids", "feedface")
    assert result.exit_code == 1
    assert "feedface" in result.stderr


def test_experiment_ids_remove_those_experiments_with_their_runs(
    cli: Cli, client: cairn.Client, make_run: Callable[..., Run]
) -> None:
    target, other = client.create_experiment("target"), client.create_experiment("other")
    runs = [make_run(target), make_run(target)]
    other_run = make_run(other)
    client.delete_experiment(target)
    client.delete_experiment(other)
    result = cli("gc", "--yes", "--experiment-ids", target)
    assert result.exit_code == 0, result.output
    assert "Removed 2 runs and 1 experiment." in result.stdout
    assert not _experiment_exists(client, target)
    assert all(not _exists(client, r.info.run_id) for r in runs)
    assert client.get_experiment(other).lifecycle_stage == "deleted"
    assert artifact_dir(other_run).is_dir()


def test_naming_an_experiment_that_is_not_deleted_is_an_error(
    cli: Cli, client: cairn.Client
) -> None:
    exp_id = client.create_experiment("alive")
    result = cli("gc", "--yes", "--experiment-ids", exp_id)
    assert result.exit_code == 1
    assert f"Experiment {exp_id} is not deleted" in result.stderr


def test_older_than_keeps_recent_deletions(
    cli: Cli, client: cairn.Client, scene: dict[str, Run | str]
) -> None:
    gone = scene["gone"]
    assert isinstance(gone, Run)
    result = cli("gc", "--yes", "--older-than", "30d")
    assert result.exit_code == 0, result.output
    assert "Nothing to remove." in result.stdout
    assert _exists(client, gone.info.run_id)

    _age_everything(client, days=31)
    result = cli("gc", "--yes", "--older-than", "30d")
    assert result.exit_code == 0, result.output
    assert "Removed 2 runs and 1 experiment." in result.stdout
    assert not _exists(client, gone.info.run_id)


def test_older_than_zero_takes_everything_deleted(
    cli: Cli, client: cairn.Client, scene: dict[str, Run | str]
) -> None:
    result = cli("gc", "--yes", "--older-than", "0")
    assert result.exit_code == 0, result.output
    assert "Removed 2 runs and 1 experiment." in result.stdout


def test_a_named_run_deleted_too_recently_is_an_error(
    cli: Cli, client: cairn.Client, scene: dict[str, Run | str]
) -> None:
    gone = scene["gone"]
    assert isinstance(gone, Run)
    result = cli("gc", "--yes", "--older-than", "12h", "--run-ids", gone.info.run_id)
    assert result.exit_code == 1
    assert f"Run {gone.info.run_id} was deleted less than 12h 00m ago" in result.stderr


def test_a_bad_age_is_a_usage_error(cli: Cli) -> None:
    result = cli("gc", "--older-than", "soon")
    assert result.exit_code == 2
    assert "is not an age" in result.stderr


def test_an_experiment_still_holding_an_active_run_is_kept(
    cli: Cli, client: cairn.Client, make_run: Callable[..., Run]
) -> None:
    exp_id = client.create_experiment("half")
    revived, dropped = make_run(exp_id), make_run(exp_id)
    client.delete_experiment(exp_id)
    # The API refuses to restore a run inside a deleted experiment, but a database written by
    # an older tool (or edited by hand) may hold one; gc must keep such an experiment.
    from sqlalchemy import update

    from cairn.store.sql.schema import runs

    with client.store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(
            update(runs)
            .where(runs.c.run_uuid == revived.info.run_id)
            .values(lifecycle_stage="active", deleted_time=None)
        )
    result = cli("gc", "--yes")
    assert result.exit_code == 0, result.output
    assert "Removed 1 run and 0 experiments." in result.stdout
    assert f"Keeping deleted experiment {exp_id}: it still holds 1 run" in result.stderr
    assert _experiment_exists(client, exp_id)
    assert not _exists(client, dropped.info.run_id)
    assert artifact_dir(revived).is_dir()


def test_an_experiment_folder_outside_the_artifact_root_is_left_in_place(
    cli: Cli, client: cairn.Client, make_run: Callable[..., Run], tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("not cairn's")
    exp_id = client.create_experiment("ext", artifact_location=outside.as_uri())
    run = make_run(exp_id)
    assert artifact_dir(run).is_relative_to(outside)
    client.delete_experiment(exp_id)

    dry = cli("gc", "--dry-run")
    assert "(folder left in place)" in dry.stdout
    result = cli("gc", "--yes")
    assert result.exit_code == 0, result.output
    assert not _experiment_exists(client, exp_id)
    assert not artifact_dir(run).exists()  # the run's own artifacts do go
    assert (outside / "precious.txt").read_text() == "not cairn's"


def test_an_experiment_folder_holding_another_experiments_folder_is_kept(
    cli: Cli, client: cairn.Client, make_run: Callable[..., Run], mlruns: Path
) -> None:
    doomed = client.create_experiment("doomed")
    nested = mlruns / doomed / "nested"
    survivor = client.create_experiment("survivor", artifact_location=nested.as_uri())
    survivor_run = make_run(survivor)
    client.delete_experiment(doomed)
    result = cli("gc", "--yes")
    assert result.exit_code == 0, result.output
    assert not _experiment_exists(client, doomed)
    readme = artifact_dir(survivor_run) / "notes" / "readme.txt"
    assert readme.is_file()


def test_many_runs_are_removed_with_a_progress_bar(
    cli: Cli, client: cairn.Client, make_run: Callable[..., Run]
) -> None:
    runs = [make_run() for _ in range(25)]
    for run in runs:
        client.delete_run(run.info.run_id)
    result = cli("gc", "--yes")
    assert result.exit_code == 0, result.output
    assert "Removed 25 runs and 0 experiments." in result.stdout
    assert all(not artifact_dir(run).exists() for run in runs)
    assert client.search_runs("0", run_view_type=3) == []


# -- the folder-safety rule -------------------------------------------------------------------


def test_removable_folder_must_be_strictly_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    inside = (root / "4").as_uri()
    assert removable_folder(inside, root.as_uri(), [])
    assert not removable_folder(root.as_uri(), root.as_uri(), [])
    assert not removable_folder((tmp_path / "rootless").as_uri(), root.as_uri(), [])
    assert not removable_folder((tmp_path / "elsewhere").as_uri(), root.as_uri(), [])


def test_removable_folder_must_not_overlap_others_or_hold_the_database(tmp_path: Path) -> None:
    root = tmp_path / "root"
    folder = root / "4"
    assert not removable_folder(folder.as_uri(), root.as_uri(), [(folder / "x").as_uri()])
    assert not removable_folder(folder.as_uri(), root.as_uri(), [root.as_uri()])
    assert not removable_folder(folder.as_uri(), root.as_uri(), [], str(folder / "cairn.db"))
    assert removable_folder(folder.as_uri(), root.as_uri(), [(root / "44").as_uri()])


def test_removable_folder_does_not_follow_a_symlink_out_of_the_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "4").symlink_to(outside)
    assert not removable_folder((root / "4").as_uri(), root.as_uri(), [])


@pytest.mark.parametrize(
    ("location", "ok"),
    [
        ("s3://bucket/mlruns/4", True),
        ("s3://bucket/mlruns", False),
        ("s3://bucket/mlruns2/4", False),
        ("s3://bucket/mlruns/../4", False),
        ("s3://bucket/mlruns/0/x", False),  # overlaps experiment 0's folder
        ("gs://bucket/mlruns/4", False),
    ],
)
def test_removable_folder_for_object_stores(location: str, ok: bool) -> None:
    assert removable_folder(location, "s3://bucket/mlruns", ["s3://bucket/mlruns/0"]) is ok


def test_a_run_restored_after_planning_keeps_its_files(
    client: cairn.Client, make_run: Callable[..., Run]
) -> None:
    import io

    from rich.console import Console

    from cairn.cli.gc import execute, make_plan

    exp_id = client.create_experiment("racy")
    restored, dropped = make_run(exp_id), make_run(exp_id)
    client.delete_run(restored.info.run_id)
    client.delete_run(dropped.info.run_id)
    plan = make_plan(client, older_than_ms=None, run_ids=[], experiment_ids=[])
    assert len(plan.runs) == 2

    client.restore_run(restored.info.run_id)  # by someone else, before gc gets to it
    notes = io.StringIO()
    removed = execute(client.store, plan, Console(file=notes, width=200))

    assert removed == (1, 0, 0)
    assert f"Skipping run {restored.info.run_id}: it was restored meanwhile." in notes.getvalue()
    assert artifact_dir(restored).is_dir()
    assert _exists(client, restored.info.run_id)
    assert not _exists(client, dropped.info.run_id)
    assert _experiment_exists(client, exp_id)


def test_a_symlinked_run_artifact_folder_loses_the_link_not_its_target(
    cli: Cli, client: cairn.Client, make_run: Callable[..., Run], tmp_path: Path
) -> None:
    target = tmp_path / "precious"
    target.mkdir()
    (target / "data.csv").write_text("1,2\n")
    run = make_run(artifact=None)
    link = artifact_dir(run)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    client.delete_run(run.info.run_id)

    result = cli("gc", "--yes")
    assert result.exit_code == 0, result.output
    assert not link.is_symlink()
    assert (target / "data.csv").read_text() == "1,2\n"


def test_gc_removes_deleted_logged_models_with_their_files_and_keeps_the_others(
    cli: Cli, client: cairn.Client, mlruns: Path
) -> None:
    from cairn.artifacts import local_path_from_uri
    from cairn.errors import ResourceNotFound

    store = client.store
    run = store.create_run("0", "u", 1).info.run_id
    models = {name: store.create_logged_model("0", name=name, source_run_id=run) for name in "ab"}
    folders = {}
    for name, model in models.items():
        local = local_path_from_uri(model.artifact_uri)
        assert local is not None
        folders[name] = Path(local)
        folders[name].mkdir(parents=True)
        (folders[name] / "MLmodel").write_text(f"model {name}")
    store.delete_logged_model(models["b"].model_id)

    dry = cli("gc", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert models["b"].model_id in dry.stdout and models["a"].model_id not in dry.stdout
    assert "would permanently remove 0 runs, 1 logged model and 0 experiments" in dry.stdout
    assert (folders["b"] / "MLmodel").is_file()

    result = cli("gc", "--yes")
    assert result.exit_code == 0, result.output
    assert "Removed 0 runs, 1 logged model and 0 experiments." in result.stdout
    with pytest.raises(ResourceNotFound):
        store.get_logged_model(models["b"].model_id, allow_deleted=True)
    assert not folders["b"].parent.exists()  # <experiment>/models/<model_id>/ is gone
    assert store.get_logged_model(models["a"].model_id).name == "a"
    assert (folders["a"] / "MLmodel").read_text() == "model a"
    assert store.get_run(run).info.lifecycle_stage == "active"


def test_gc_keeps_recently_deleted_logged_models_under_older_than(
    cli: Cli, client: cairn.Client
) -> None:
    model = client.store.create_logged_model("0", name="recent")
    client.store.delete_logged_model(model.model_id)
    result = cli("gc", "--older-than", "1d", "--yes")
    assert result.exit_code == 0, result.output
    assert "Nothing to remove." in result.stdout
    assert client.store.deleted_logged_model_ids() == [model.model_id]
