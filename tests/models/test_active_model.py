"""``set_active_model``, ``get_active_model_id``, ``clear_active_model``, and metric points
linked to the active model."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator

import pytest

import cairn
from cairn import _fluent, _model_links
from cairn.client import Client
from cairn.errors import InvalidParameter, ResourceNotFound


@pytest.fixture(autouse=True)
def no_active_model() -> Iterator[None]:
    _model_links._reset()
    yield
    _model_links._reset()


def test_set_active_model_by_id_returns_it_and_makes_it_active() -> None:
    model = cairn.initialize_logged_model(name="m")
    assert cairn.get_active_model_id() is None
    active = cairn.set_active_model(model_id=model.model_id)
    assert isinstance(active, cairn.ActiveModel)
    assert isinstance(active, cairn.entities.LoggedModel)
    assert (active.model_id, active.name, active.status) == (model.model_id, "m", model.status)
    assert cairn.get_active_model_id() == model.model_id


def test_set_active_model_by_name_picks_the_newest_or_creates_an_external_one() -> None:
    cairn.set_experiment("active")
    cairn.initialize_logged_model(name="agent")
    newest = cairn.initialize_logged_model(name="agent")
    assert cairn.set_active_model(name="agent").model_id == newest.model_id
    created = cairn.set_active_model(name="brand-new")
    assert created.tags["mlflow.model.isExternal"] == "true"
    assert created.status == "LOGGED_MODEL_READY"
    assert cairn.get_active_model_id() == created.model_id
    assert cairn.set_active_model(name="brand-new").model_id == created.model_id  # found now


def test_set_active_model_errors() -> None:
    model = cairn.initialize_logged_model(name="m")
    with pytest.raises(InvalidParameter, match="name or model_id"):
        cairn.set_active_model()
    with pytest.raises(InvalidParameter, match="not 'other'"):
        cairn.set_active_model(name="other", model_id=model.model_id)
    with pytest.raises(ResourceNotFound):
        cairn.set_active_model(model_id="m-" + "0" * 32)
    with pytest.raises(TypeError):
        cairn.set_active_model(model.model_id)  # type: ignore[misc]  # keyword-only, as MLflow
    assert cairn.get_active_model_id() is None


def test_as_a_context_manager_the_previous_model_comes_back() -> None:
    outer = cairn.initialize_logged_model(name="outer")
    inner = cairn.initialize_logged_model(name="inner")
    cairn.set_active_model(model_id=outer.model_id)
    with cairn.set_active_model(model_id=inner.model_id) as active:
        assert active.model_id == cairn.get_active_model_id() == inner.model_id
    assert cairn.get_active_model_id() == outer.model_id
    with cairn.set_active_model(model_id=inner.model_id):
        cairn.clear_active_model()
        assert cairn.get_active_model_id() is None
    assert cairn.get_active_model_id() == outer.model_id


def test_clear_active_model() -> None:
    cairn.set_active_model(model_id=cairn.initialize_logged_model(name="m").model_id)
    assert cairn.clear_active_model() is None
    assert cairn.get_active_model_id() is None


def test_the_active_model_is_per_thread_and_per_task() -> None:
    model = cairn.initialize_logged_model(name="m")
    cairn.set_active_model(model_id=model.model_id)
    seen: list[str | None] = []
    thread = threading.Thread(target=lambda: seen.append(cairn.get_active_model_id()))
    thread.start()
    thread.join()
    assert seen == [None]

    async def in_task() -> str | None:
        cairn.clear_active_model()
        return cairn.get_active_model_id()

    assert asyncio.run(in_task()) is None
    assert cairn.get_active_model_id() == model.model_id


def test_the_environment_names_the_default_active_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_ACTIVE_MODEL_ID", "m-from-env")
    _model_links._reset()
    assert cairn.get_active_model_id() == "m-from-env"
    cairn.clear_active_model()
    assert cairn.get_active_model_id() is None
    assert "MLFLOW_ACTIVE_MODEL_ID" not in os.environ  # child processes do not inherit it


# -- metrics linked to the active model ------------------------------------------------------


def test_metrics_without_a_model_id_are_linked_to_the_active_model() -> None:
    with cairn.start_run() as producer:
        model = cairn.initialize_logged_model(name="agent")
    cairn.set_active_model(model_id=model.model_id)
    with cairn.start_run() as evaluation:
        cairn.log_metric("helpfulness", 0.8)
        cairn.log_metrics({"latency": 40.0, "cost": 0.1}, step=1)
        cairn.log_metric("explicit", 1.0, model_id=cairn.initialize_logged_model().model_id)
    linked = {(m.key, m.step, m.run_id) for m in cairn.get_logged_model(model.model_id).metrics}
    run_id = evaluation.info.run_id
    assert linked == {("helpfulness", 0, run_id), ("latency", 1, run_id), ("cost", 1, run_id)}
    inputs = cairn.get_run(run_id).inputs.model_inputs
    assert model.model_id in {i.model_id for i in inputs}
    assert cairn.get_run(producer.info.run_id).inputs.model_inputs == ()
    assert dict(cairn.get_run(run_id).data.metrics) == {
        "helpfulness": 0.8,
        "latency": 40.0,
        "cost": 0.1,
        "explicit": 1.0,
    }


def test_after_clear_active_model_metrics_are_plain_again() -> None:
    model = cairn.initialize_logged_model(name="agent")
    cairn.set_active_model(model_id=model.model_id)
    cairn.clear_active_model()
    with cairn.start_run():
        cairn.log_metric("plain", 1.0)
    assert cairn.get_logged_model(model.model_id).metrics == ()


def test_plain_log_metric_makes_no_store_call_per_point(monkeypatch: pytest.MonkeyPatch) -> None:
    with cairn.start_run() as run:
        cairn.log_metric("warmup", 0.0)  # checks the run once
        calls: list[str] = []
        store = _fluent._client().store
        for name in ("get_run", "log_batch", "log_inputs", "get_logged_model"):
            original = getattr(store, name)

            def spy(*args: object, _name: str = name, _original: object = original) -> object:
                calls.append(_name)
                return _original(*args)  # type: ignore[operator]

            monkeypatch.setattr(store, name, spy)
        monkeypatch.setattr(Client, "get_run", lambda *a: pytest.fail("get_run per point"))
        for step in range(100):
            cairn.log_metric("loss", 1.0 / (step + 1), step=step)
        assert calls == []
    monkeypatch.undo()
    assert len(cairn.Client().get_metric_history(run.info.run_id, "loss")) == 100
