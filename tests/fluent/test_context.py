"""The active run is per thread and per asyncio task; the experiment is per process."""

from __future__ import annotations

import asyncio
import threading

import cairn


def test_threads_see_and_log_into_their_own_runs() -> None:
    barrier = threading.Barrier(2, timeout=10)
    seen: dict[str, str] = {}
    errors: list[BaseException] = []

    def trial(name: str) -> None:
        try:
            with cairn.start_run(run_name=name) as run:
                barrier.wait()  # both runs are active at once from here on
                for step in range(20):
                    active = cairn.active_run()
                    assert active is not None
                    assert active.info.run_id == run.info.run_id
                    cairn.log_metric("step_of_" + name, step, step=step)
                cairn.log_param("who", name)
                cairn.set_tag("thread", name)
                barrier.wait()
                seen[name] = run.info.run_id
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=trial, args=(n,)) for n in ("left", "right")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert seen["left"] != seen["right"]
    for name, run_id in seen.items():
        run = cairn.get_run(run_id)
        assert run.info.run_name == name
        assert run.info.status == "FINISHED"
        assert run.data.params == {"who": name}
        assert run.data.tags["thread"] == name
        assert run.data.metrics == {"step_of_" + name: 19.0}
    assert cairn.active_run() is None


def test_a_thread_does_not_see_the_main_threads_active_run() -> None:
    seen: list[object] = []
    with cairn.start_run() as run:
        thread = threading.Thread(target=lambda: seen.append(cairn.active_run()))
        thread.start()
        thread.join(10)
        assert cairn.active_run() is run
    assert seen == [None]


def test_a_thread_can_start_a_run_while_the_main_thread_has_one() -> None:
    child_ids: list[str] = []

    def worker() -> None:
        with cairn.start_run() as run:  # no InvalidState: this thread has no active run
            cairn.log_metric("in_thread", 1.0)
            child_ids.append(run.info.run_id)

    with cairn.start_run() as main_run:
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(10)
        cairn.log_metric("in_main", 2.0)
    assert len(child_ids) == 1
    assert cairn.get_run(child_ids[0]).data.metrics == {"in_thread": 1.0}
    assert cairn.get_run(main_run.info.run_id).data.metrics == {"in_main": 2.0}


def test_asyncio_tasks_see_and_log_into_their_own_runs() -> None:
    async def trial(name: str) -> str:
        with cairn.start_run(run_name=name) as run:
            for step in range(10):
                await asyncio.sleep(0)
                active = cairn.active_run()
                assert active is not None
                assert active.info.run_id == run.info.run_id
                cairn.log_metric("steps", step, step=step)
                await asyncio.sleep(0)
                cairn.log_param(f"param_{name}", name)
                cairn.set_tag("task", name)
            return run.info.run_id

    async def main() -> list[str]:
        tasks = [asyncio.create_task(trial(n)) for n in ("first", "second", "third")]
        return list(await asyncio.gather(*tasks))

    run_ids = asyncio.run(main())
    assert len(set(run_ids)) == 3
    for name, run_id in zip(("first", "second", "third"), run_ids, strict=True):
        run = cairn.get_run(run_id)
        assert run.info.run_name == name
        assert run.info.status == "FINISHED"
        assert run.data.params == {f"param_{name}": name}
        assert run.data.tags["task"] == name
        history = cairn.Client().get_metric_history(run_id, "steps")
        assert [m.step for m in history] == list(range(10))
    assert cairn.active_run() is None


def test_a_thread_started_after_set_experiment_logs_into_that_experiment() -> None:
    experiment = cairn.set_experiment("shared")
    result: dict[str, str] = {}

    def worker() -> None:
        with cairn.start_run() as run:
            cairn.log_metric("m", 1.0)
        result["experiment_id"] = run.info.experiment_id
        result["run_id"] = run.info.run_id

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(10)
    assert result["experiment_id"] == experiment.experiment_id
    stored = cairn.get_run(result["run_id"])
    assert stored.info.experiment_id == experiment.experiment_id
    runs = cairn.search_runs(output_format="list")
    assert [r.info.run_id for r in runs] == [result["run_id"]]


def test_last_active_run_in_a_thread_is_not_none_after_its_run() -> None:
    found: list[object] = []

    def worker() -> None:
        with cairn.start_run() as run:
            pass
        last = cairn.last_active_run()
        found.append(last.info.run_id if last else None)
        found.append(run.info.run_id)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(10)
    assert found[0] == found[1]
