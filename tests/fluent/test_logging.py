"""Params, metrics and tags through the fluent API, with MLflow's validation rules."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import cairn
from cairn.errors import InvalidParameter, ParamValueChanged, ResourceNotFound


def _run(run_id: str) -> cairn.entities.Run:
    return cairn.get_run(run_id)


# -- params ---------------------------------------------------------------------------------


def test_log_param_returns_the_value_and_stores_it_as_text() -> None:
    with cairn.start_run() as run:
        assert cairn.log_param("lr", 0.1) == 0.1
        assert cairn.log_param("layers", [64, 32]) == [64, 32]
        assert cairn.log_param("name", "adam") == "adam"
    assert _run(run.info.run_id).data.params == {
        "lr": "0.1",
        "layers": "[64, 32]",
        "name": "adam",
    }


def test_log_param_with_same_value_again_is_accepted() -> None:
    with cairn.start_run() as run:
        cairn.log_param("depth", 4)
        cairn.log_param("depth", 4)
        cairn.log_param("depth", "4")  # the same text
    assert _run(run.info.run_id).data.params == {"depth": "4"}


def test_log_param_with_changed_value_is_rejected() -> None:
    with cairn.start_run() as run:
        cairn.log_param("depth", 4)
        with pytest.raises(ParamValueChanged, match="depth") as caught:
            cairn.log_param("depth", 5)
        assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
        assert isinstance(caught.value, InvalidParameter)
    assert _run(run.info.run_id).data.params == {"depth": "4"}


def test_log_param_with_changed_value_after_a_synchronous_log_is_rejected_at_the_call() -> None:
    with cairn.start_run() as run:
        cairn.log_param("depth", 4, synchronous=True)
        with pytest.raises(ParamValueChanged, match="depth"):
            cairn.log_param("depth", 5)
    assert _run(run.info.run_id).data.params == {"depth": "4"}


def test_log_param_with_changed_value_in_a_resumed_run_is_rejected_at_the_call() -> None:
    with cairn.start_run() as run:
        cairn.log_param("depth", 4)
    with (
        cairn.start_run(run_id=run.info.run_id),
        pytest.raises(ParamValueChanged, match="depth"),
    ):
        cairn.log_param("depth", 5)
    assert _run(run.info.run_id).data.params == {"depth": "4"}


def test_log_params_logs_every_param() -> None:
    with cairn.start_run() as run:
        assert cairn.log_params({"a": 1, "b": "two", "c": None}) is None
    assert _run(run.info.run_id).data.params == {"a": "1", "b": "two", "c": "None"}


def test_log_params_with_a_changed_value_logs_none_of_them() -> None:
    with cairn.start_run() as run:
        cairn.log_param("a", 1)
        with pytest.raises(ParamValueChanged):
            cairn.log_params({"new": "x", "a": 2})
    assert _run(run.info.run_id).data.params == {"a": "1"}


def test_param_value_of_6000_characters_is_accepted() -> None:
    with cairn.start_run() as run:
        cairn.log_param("long", "x" * 6000)
    assert _run(run.info.run_id).data.params["long"] == "x" * 6000


def test_param_value_over_6000_characters_is_rejected_and_nothing_stored() -> None:
    with cairn.start_run() as run:
        with pytest.raises(InvalidParameter, match="long"):
            cairn.log_param("long", "x" * 6001)
        with pytest.raises(InvalidParameter):
            cairn.log_params({"ok": 1, "long": "x" * 6001})
    assert _run(run.info.run_id).data.params == {}


# -- metrics --------------------------------------------------------------------------------


def test_log_metric_stores_value_step_and_timestamp() -> None:
    with cairn.start_run() as run:
        assert cairn.log_metric("loss", 0.5, step=3, timestamp=1_700_000_000_123) is None
    history = cairn.Client().get_metric_history(run.info.run_id, "loss")
    assert [(m.key, m.value, m.step, m.timestamp) for m in history] == [
        ("loss", 0.5, 3, 1_700_000_000_123)
    ]
    assert _run(run.info.run_id).data.metrics == {"loss": 0.5}


def test_log_metric_defaults_to_step_zero_and_the_current_time() -> None:
    import time

    before = int(time.time() * 1000)
    with cairn.start_run() as run:
        cairn.log_metric("loss", 1)
    after = int(time.time() * 1000)
    (point,) = cairn.Client().get_metric_history(run.info.run_id, "loss")
    assert point.step == 0
    assert before <= point.timestamp <= after
    assert point.value == 1.0
    assert isinstance(point.value, float)


def test_metric_history_is_returned_in_step_order() -> None:
    with cairn.start_run() as run:
        for step, value in [(3, 0.3), (1, 0.1), (2, 0.2), (0, 0.0)]:
            cairn.log_metric("acc", value, step=step)
    history = cairn.Client().get_metric_history(run.info.run_id, "acc")
    assert [(m.step, m.value) for m in history] == [(0, 0.0), (1, 0.1), (2, 0.2), (3, 0.3)]


def test_metric_history_keeps_every_point_of_the_same_step() -> None:
    with cairn.start_run() as run:
        cairn.log_metric("m", 1.0, step=0, timestamp=1000)
        cairn.log_metric("m", 2.0, step=0, timestamp=2000)
        cairn.log_metric("m", 3.0, step=0, timestamp=1500)
    history = cairn.Client().get_metric_history(run.info.run_id, "m")
    assert [(m.timestamp, m.value) for m in history] == [(1000, 1.0), (1500, 3.0), (2000, 2.0)]


def test_metric_history_of_unknown_key_is_empty() -> None:
    with cairn.start_run() as run:
        cairn.log_metric("m", 1.0)
    assert cairn.Client().get_metric_history(run.info.run_id, "other") == []


def test_latest_value_is_the_one_with_the_largest_step_even_if_logged_earlier() -> None:
    with cairn.start_run() as run:
        cairn.log_metric("loss", 10.0, step=5)
        cairn.log_metric("loss", 99.0, step=1)
    assert _run(run.info.run_id).data.metrics == {"loss": 10.0}


def test_latest_value_at_equal_step_is_the_one_with_the_largest_timestamp() -> None:
    with cairn.start_run() as run:
        cairn.log_metric("loss", 1.0, step=2, timestamp=5000)
        cairn.log_metric("loss", 2.0, step=2, timestamp=4000)
    assert _run(run.info.run_id).data.metrics == {"loss": 1.0}


def test_latest_value_rule_holds_across_separate_writes() -> None:
    with cairn.start_run() as run:
        cairn.log_metric("loss", 10.0, step=5, synchronous=True)
        cairn.log_metric("loss", 99.0, step=1, synchronous=True)
        cairn.log_metric("loss", 7.0, step=5, timestamp=1, synchronous=True)
    assert _run(run.info.run_id).data.metrics == {"loss": 10.0}


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinite_values_round_trip(value: float) -> None:
    with cairn.start_run() as run:
        cairn.log_metric("special", value, step=0)
    stored = _run(run.info.run_id).data.metrics["special"]
    (point,) = cairn.Client().get_metric_history(run.info.run_id, "special")
    for got in (stored, point.value):
        if math.isnan(value):
            assert math.isnan(got)
        else:
            assert got == value


def test_nan_points_keep_their_place_in_the_history() -> None:
    with cairn.start_run() as run:
        cairn.log_metrics({"m": 1.0}, step=0)
        cairn.log_metrics({"m": math.nan}, step=1)
        cairn.log_metrics({"m": -math.inf}, step=2)
    values = [p.value for p in cairn.Client().get_metric_history(run.info.run_id, "m")]
    assert values[0] == 1.0
    assert math.isnan(values[1])
    assert values[2] == -math.inf
    assert _run(run.info.run_id).data.metrics["m"] == -math.inf


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (np.float32(0.5), 0.5),
        (np.float64(0.25), 0.25),
        (np.int64(3), 3.0),
        (np.int8(-2), -2.0),
        (np.array(1.5), 1.5),
    ],
)
def test_numpy_scalars_are_accepted(value: Any, expected: float) -> None:
    with cairn.start_run() as run:
        cairn.log_metric("np", value)
    stored = _run(run.info.run_id).data.metrics["np"]
    assert stored == expected
    assert type(stored) is float


@pytest.mark.parametrize("value", [True, False, np.bool_(True), "0.5", None, [1.0], 1 + 2j])
def test_non_numeric_metric_values_are_rejected_naming_the_key(value: Any) -> None:
    with cairn.start_run() as run, pytest.raises(InvalidParameter, match="my_metric"):
        cairn.log_metric("my_metric", value)
    assert _run(run.info.run_id).data.metrics == {}


@pytest.mark.parametrize("step", [1.5, "1", True])
def test_non_integer_steps_are_rejected(step: Any) -> None:
    with cairn.start_run(), pytest.raises(InvalidParameter, match="m"):
        cairn.log_metric("m", 1.0, step=step)


@pytest.mark.parametrize("timestamp", [-1, 1.5, "now"])
def test_invalid_timestamps_are_rejected(timestamp: Any) -> None:
    with cairn.start_run(), pytest.raises(InvalidParameter):
        cairn.log_metric("m", 1.0, timestamp=timestamp)


def test_log_metrics_logs_every_metric_at_one_step_and_time() -> None:
    with cairn.start_run() as run:
        assert cairn.log_metrics({"a": 1.0, "b": 2}, step=7, timestamp=1234) is None
    client = cairn.Client()
    points = [
        (m.key, m.value, m.step, m.timestamp)
        for key in ("a", "b")
        for m in client.get_metric_history(run.info.run_id, key)
    ]
    assert points == [("a", 1.0, 7, 1234), ("b", 2.0, 7, 1234)]


def test_log_metrics_with_one_invalid_value_logs_none_of_them() -> None:
    with cairn.start_run() as run, pytest.raises(InvalidParameter, match="bad"):
        cairn.log_metrics({"good": 1.0, "bad": "x"})
    assert _run(run.info.run_id).data.metrics == {}


def test_log_metric_to_an_explicit_run_id() -> None:
    with cairn.start_run() as first:
        pass
    with cairn.start_run() as second:
        cairn.log_metric("m", 1.0, run_id=first.info.run_id)
        cairn.log_metrics({"n": 2.0}, run_id=first.info.run_id)
    assert _run(first.info.run_id).data.metrics == {"m": 1.0, "n": 2.0}
    assert _run(second.info.run_id).data.metrics == {}


# -- tags -----------------------------------------------------------------------------------


def test_set_tag_sets_and_overwrites_a_tag() -> None:
    with cairn.start_run() as run:
        assert cairn.set_tag("stage", "dev") is None
        cairn.set_tag("stage", "prod")
        cairn.set_tag("count", 3)
    tags = _run(run.info.run_id).data.tags
    assert tags["stage"] == "prod"
    assert tags["count"] == "3"


def test_set_tags_sets_every_tag() -> None:
    with cairn.start_run() as run:
        cairn.set_tags({"a": "1", "b": 2})
    tags = _run(run.info.run_id).data.tags
    assert (tags["a"], tags["b"]) == ("1", "2")


def test_set_tag_run_name_renames_the_run() -> None:
    with cairn.start_run(run_name="before") as run:
        cairn.set_tag("mlflow.runName", "after")
    assert _run(run.info.run_id).info.run_name == "after"


def test_delete_tag_removes_the_tag() -> None:
    with cairn.start_run() as run:
        cairn.set_tag("temp", "x")
        cairn.delete_tag("temp")
    assert "temp" not in _run(run.info.run_id).data.tags


def test_delete_tag_of_missing_tag_raises_resource_not_found() -> None:
    with cairn.start_run(), pytest.raises(ResourceNotFound, match="nope") as caught:
        cairn.delete_tag("nope")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_tag_value_of_8000_characters_is_accepted() -> None:
    with cairn.start_run() as run:
        cairn.set_tag("long", "y" * 8000)
    assert _run(run.info.run_id).data.tags["long"] == "y" * 8000


def test_tag_value_over_8000_characters_is_rejected_and_nothing_stored() -> None:
    with cairn.start_run() as run:
        with pytest.raises(InvalidParameter, match="long"):
            cairn.set_tag("long", "y" * 8001)
        with pytest.raises(InvalidParameter):
            cairn.set_tags({"short": "ok", "long": "y" * 8001})
    tags = _run(run.info.run_id).data.tags
    assert "long" not in tags
    assert "short" not in tags


# -- keys -----------------------------------------------------------------------------------

_LOGGERS: dict[str, Callable[[str], Any]] = {
    "log_metric": lambda key: cairn.log_metric(key, 1.0),
    "log_metrics": lambda key: cairn.log_metrics({key: 1.0}),
    "log_param": lambda key: cairn.log_param(key, "v"),
    "log_params": lambda key: cairn.log_params({key: "v"}),
    "set_tag": lambda key: cairn.set_tag(key, "v"),
    "set_tags": lambda key: cairn.set_tags({key: "v"}),
}

_BAD_KEYS = [
    "a!b",
    "semi;colon",
    "quote'd",
    "star*",
    "new\nline",
    "tab\tkey",
    "back\\slash",
    "k" * 251,
    "a//b",
    "a/./b",
    "a/",
    "/abs",
    "../x",
    "..",
    ".",
    "",
]


@pytest.mark.parametrize("log", list(_LOGGERS))
@pytest.mark.parametrize("key", _BAD_KEYS, ids=repr)
def test_invalid_keys_are_rejected_and_nothing_is_stored(log: str, key: str) -> None:
    with cairn.start_run() as run, pytest.raises(InvalidParameter):
        _LOGGERS[log](key)
    data = _run(run.info.run_id).data
    assert data.metrics == {}
    assert data.params == {}
    assert key not in data.tags


def test_key_with_a_trailing_newline_is_rejected() -> None:
    # A newline is none of the allowed characters, wherever it stands in the key.
    with cairn.start_run() as run:
        for log in ("log_metric", "log_param", "set_tag"):
            with pytest.raises(InvalidParameter):
                _LOGGERS[log]("loss\n")
    data = _run(run.info.run_id).data
    assert "loss\n" not in {**data.metrics, **data.params, **data.tags}


@pytest.mark.parametrize("log", list(_LOGGERS))
def test_error_for_an_invalid_key_names_the_key(log: str) -> None:
    with cairn.start_run(), pytest.raises(InvalidParameter, match="bad!key"):
        _LOGGERS[log]("bad!key")


@pytest.mark.parametrize(
    "key", ["k" * 250, "val/loss", "a.b-c_d", "with space", "ns:key", "épsilon", "x/y/z"]
)
def test_valid_keys_are_accepted(key: str) -> None:
    with cairn.start_run() as run:
        cairn.log_metric(key, 1.0)
        cairn.log_param(key, "v")
        cairn.set_tag(key, "t")
    data = _run(run.info.run_id).data
    assert data.metrics[key] == 1.0
    assert data.params[key] == "v"
    assert data.tags[key] == "t"


# -- without an active run ------------------------------------------------------------------


@pytest.mark.parametrize("log", list(_LOGGERS))
def test_logging_without_an_active_run_starts_one(log: str) -> None:
    assert cairn.active_run() is None
    _LOGGERS[log]("auto")
    active = cairn.active_run()
    assert active is not None
    assert active.info.status == "RUNNING"
    data = _run(active.info.run_id).data
    assert "auto" in data.metrics or "auto" in data.params or "auto" in data.tags
    cairn.end_run()
    assert _run(active.info.run_id).info.status == "FINISHED"


def test_logged_data_is_visible_in_get_run_while_the_run_is_active() -> None:
    with cairn.start_run() as run:
        cairn.log_param("p", 1)
        cairn.log_metric("m", 2.0)
        cairn.set_tag("t", "3")
        data = _run(run.info.run_id).data
        assert data.params == {"p": "1"}
        assert data.metrics == {"m": 2.0}
        assert data.tags["t"] == "3"


def test_metrics_linked_to_a_logged_model_reach_the_model_and_the_run() -> None:
    with cairn.start_run() as run:
        model = cairn.Client().store.create_logged_model(run.info.experiment_id)
        cairn.log_metric("acc", 0.75, step=2, model_id=model.model_id)
        cairn.log_metrics({"f1": 0.5}, model_id=model.model_id)
    stored = cairn.Client().store.get_logged_model(model.model_id)
    assert sorted(m.key for m in stored.metrics) == ["acc", "f1"]
    assert cairn.get_run(run.info.run_id).data.metrics == {"acc": 0.75, "f1": 0.5}
