"""Datasets: ``cairn.data`` objects, ``log_input``/``log_inputs``, and the inputs that
``log_metric(dataset=...)`` records."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import cairn
import cairn.data
from cairn.entities import Dataset, DatasetInput, ModelInput
from cairn.errors import InvalidParameter


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "label": ["a", "b", "a", "b"]})


def _inputs(run_id: str) -> list[DatasetInput]:
    return list(cairn.get_run(run_id).inputs.dataset_inputs)


def _context(item: DatasetInput) -> str | None:
    return next((t.value for t in item.tags if t.key == "mlflow.data.context"), None)


# -- cairn.data ------------------------------------------------------------------------------


def test_from_pandas_describes_the_frame(frame: pd.DataFrame) -> None:
    ds = cairn.data.from_pandas(frame, source="data/train.csv", name="train", targets="label")
    assert (ds.name, ds.source_type, ds.targets, ds.predictions) == (
        "train",
        "local",
        "label",
        None,
    )
    assert ds.df is frame
    assert ds.source.uri == "data/train.csv"
    assert json.loads(ds.profile or "") == {"num_rows": 4, "num_elements": 8}
    columns = json.loads(ds.schema or "")["mlflow_colspec"]
    assert [(c["name"], c["type"]) for c in columns] == [("x", "double"), ("label", "string")]
    assert ds.to_dict() == {
        "name": "train",
        "digest": ds.digest,
        "source": '{"uri": "data/train.csv"}',
        "source_type": "local",
        "schema": ds.schema,
        "profile": ds.profile,
    }
    entity = ds.to_entity()
    assert isinstance(entity, Dataset)
    assert (entity.name, entity.digest, entity.source) == (
        "train",
        ds.digest,
        ds.to_dict()["source"],
    )


def test_digest_is_stable_and_follows_the_content(frame: pd.DataFrame) -> None:
    digest = cairn.data.from_pandas(frame).digest
    assert len(digest) == 8
    assert cairn.data.from_pandas(frame.copy()).digest == digest
    changed = frame.assign(x=[1.0, 2.0, 3.0, 5.0])
    assert cairn.data.from_pandas(changed).digest != digest
    assert cairn.data.from_pandas(frame.rename(columns={"x": "y"})).digest != digest
    assert cairn.data.from_pandas(frame, digest="custom").digest == "custom"


def test_digest_of_a_large_frame_hashes_a_bounded_sample() -> None:
    big = pd.DataFrame({"a": np.arange(2_000_000), "b": np.ones(2_000_000)})
    tail_changed = big.copy()
    tail_changed.iloc[-1, 0] = -1
    first = cairn.data.from_pandas(big).digest
    assert cairn.data.from_pandas(tail_changed).digest == first  # past the sample
    assert cairn.data.from_pandas(big.head(1_999_999)).digest != first  # the shape counts


def test_digest_handles_unhashable_cells() -> None:
    ds = cairn.data.from_pandas(pd.DataFrame({"tokens": [["a", "b"], ["c"]]}))
    assert len(ds.digest) == 8


def test_from_pandas_rejects_missing_columns_and_non_frames(frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidParameter, match="targets column 'y'"):
        cairn.data.from_pandas(frame, targets="y")
    with pytest.raises(InvalidParameter, match="predictions column"):
        cairn.data.from_pandas(frame, predictions="pred")
    with pytest.raises(InvalidParameter, match="DataFrame"):
        cairn.data.from_pandas({"x": [1]})  # type: ignore[arg-type]


def test_from_numpy_describes_features_and_targets() -> None:
    features = np.arange(12, dtype=np.int64).reshape(4, 3)
    ds = cairn.data.from_numpy(features, source="x.npy", targets=np.array([0, 1, 0, 1]))
    assert ds.features is features and ds.targets is not None
    profile = json.loads(ds.profile or "")
    assert profile["num_rows"] == 4 and profile["num_elements"] == 12
    assert profile["features_shape"] == [4, 3] and profile["targets_shape"] == [4]
    spec = json.loads(ds.schema or "")["mlflow_tensorspec"]
    assert json.loads(spec["features"])[0]["tensor-spec"] == {"dtype": "int64", "shape": [-1, 3]}
    assert (
        cairn.data.from_numpy(
            features.copy(), source="x.npy", targets=np.array([0, 1, 0, 1])
        ).digest
        == ds.digest
    )
    assert cairn.data.from_numpy(features, source="x.npy").digest != ds.digest
    named = cairn.data.from_numpy({"a": features, "b": np.ones(4)}, name="named")
    assert json.loads(named.profile or "")["features_shape"] == {"a": [4, 3], "b": [4]}
    assert (
        json.loads(json.loads(named.schema or "")["mlflow_tensorspec"]["features"])[1]["name"]
        == "b"
    )
    with pytest.raises(InvalidParameter, match="numpy array"):
        cairn.data.from_numpy([[1, 2]])


@pytest.mark.parametrize(
    ("source", "source_type", "spec"),
    [
        ("data/train.csv", "local", {"uri": "data/train.csv"}),
        ("file:///tmp/x.csv", "local", {"uri": "file:///tmp/x.csv"}),
        ("https://example.com/x.csv", "http", {"url": "https://example.com/x.csv"}),
        ("s3://bucket/x.parquet", "s3", {"uri": "s3://bucket/x.parquet"}),
    ],
)
def test_sources_are_recorded_as_mlflow_records_them(
    frame: pd.DataFrame, source: str, source_type: str, spec: dict[str, str]
) -> None:
    ds = cairn.data.from_pandas(frame, source=source)
    assert ds.source_type == source_type
    assert json.loads(ds.to_entity().source) == spec


def test_without_a_source_the_running_code_is_the_source(frame: pd.DataFrame) -> None:
    ds = cairn.data.from_pandas(frame)
    assert ds.source_type == "code"
    tags = json.loads(ds.to_entity().source)["tags"]
    assert set(tags) == {"mlflow.user", "mlflow.source.name", "mlflow.source.type"}


def test_get_source_reads_datasets_entities_and_inputs(frame: pd.DataFrame) -> None:
    ds = cairn.data.from_pandas(frame, source="https://example.com/x.csv")
    with cairn.start_run() as run:
        cairn.log_input(ds, context="training")
    (logged,) = _inputs(run.info.run_id)
    for thing in (ds, ds.to_entity(), logged):
        source = cairn.data.get_source(thing)
        assert (source.source_type, source.url) == ("http", "https://example.com/x.csv")
    with pytest.raises(InvalidParameter, match="get_source"):
        cairn.data.get_source("x.csv")


def test_importing_cairn_data_loads_neither_pandas_nor_numpy() -> None:
    code = "import sys, cairn.data; print([m for m in ('pandas', 'numpy') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- log_input / log_inputs ------------------------------------------------------------------


def test_log_input_records_the_dataset_with_its_context_and_tags(frame: pd.DataFrame) -> None:
    ds = cairn.data.from_pandas(frame, source="train.csv", name="train")
    with cairn.start_run() as run:
        assert cairn.log_input(ds, context="training", tags={"split": "a"}) is None
    (item,) = _inputs(run.info.run_id)
    assert item.dataset == ds.to_entity()
    assert _context(item) == "training"
    assert {t.key: t.value for t in item.tags}["split"] == "a"


def test_log_input_starts_a_run_when_none_is_active(frame: pd.DataFrame) -> None:
    cairn.log_input(cairn.data.from_pandas(frame, name="auto"))
    run = cairn.active_run()
    assert run is not None
    assert [i.dataset.name for i in _inputs(run.info.run_id)] == ["auto"]


def test_logging_the_same_dataset_twice_records_it_once(frame: pd.DataFrame) -> None:
    ds = cairn.data.from_pandas(frame, name="train")
    with cairn.start_run() as run:
        cairn.log_input(ds, context="training")
        cairn.log_input(ds, context="training")
    assert len(_inputs(run.info.run_id)) == 1


def test_log_input_rejects_a_context_without_dataset_and_unknown_objects() -> None:
    with pytest.raises(InvalidParameter, match="pass dataset"):
        cairn.log_input(context="training")
    with pytest.raises(InvalidParameter, match=r"cairn\.data dataset"):
        cairn.log_input({"name": "x"})
    assert cairn.active_run() is None  # nothing was started for a bad call


def test_log_input_records_a_model_input() -> None:
    with cairn.start_run() as producer:
        model = cairn.initialize_logged_model(name="m")
    with cairn.start_run() as consumer:
        cairn.log_input(model=ModelInput(model.model_id))
    inputs = cairn.get_run(consumer.info.run_id).inputs
    assert [m.model_id for m in inputs.model_inputs] == [model.model_id]
    assert cairn.get_run(producer.info.run_id).inputs.model_inputs == ()


def test_log_inputs_records_each_dataset_with_its_own_context(frame: pd.DataFrame) -> None:
    train = cairn.data.from_pandas(frame, name="train")
    test = cairn.data.from_numpy(np.eye(3), name="test")
    with cairn.start_run() as run:
        cairn.log_inputs(
            [train, None, test],
            contexts=["training", "ignored", "evaluation"],
            tags_list=[None, None, {"k": "v"}],
        )
    by_name = {i.dataset.name: i for i in _inputs(run.info.run_id)}
    assert set(by_name) == {"train", "test"}
    assert _context(by_name["train"]) == "training"
    assert _context(by_name["test"]) == "evaluation"
    assert ("k", "v") in {(t.key, t.value) for t in by_name["test"].tags}


def test_log_inputs_without_contexts_and_with_bad_lengths(frame: pd.DataFrame) -> None:
    ds = cairn.data.from_pandas(frame, name="plain")
    with cairn.start_run() as run:
        cairn.log_inputs([ds])
        with pytest.raises(InvalidParameter, match="same length"):
            cairn.log_inputs([ds], contexts=["a", "b"])
    (item,) = _inputs(run.info.run_id)
    assert _context(item) is None


def test_searches_filter_runs_on_their_datasets(frame: pd.DataFrame) -> None:
    cairn.set_experiment("datasets")
    train = cairn.data.from_pandas(frame, name="train")
    with cairn.start_run() as trained:
        cairn.log_input(train, context="training")
    with cairn.start_run() as evaluated:
        cairn.log_input(train, context="evaluation")
    with cairn.start_run():
        pass

    def found(filter_string: str) -> set[str]:
        runs = cairn.search_runs(filter_string=filter_string, output_format="list")
        return {r.info.run_id for r in runs}  # type: ignore[union-attr]

    assert found("datasets.name = 'train'") == {trained.info.run_id, evaluated.info.run_id}
    assert found("datasets.context = 'training'") == {trained.info.run_id}
    assert found(f"datasets.digest = '{train.digest}'") == {
        trained.info.run_id,
        evaluated.info.run_id,
    }


# -- metrics measured on a dataset -----------------------------------------------------------


def test_log_metric_with_a_dataset_makes_it_a_run_input(frame: pd.DataFrame) -> None:
    ds = cairn.data.from_pandas(frame, name="holdout")
    with cairn.start_run() as run:
        cairn.log_metric("acc", 0.9, dataset=ds)
        cairn.log_metric("acc", 0.91, step=1, dataset=ds)
        cairn.log_metrics({"f1": 0.8, "auc": 0.85}, dataset=ds)
    (item,) = _inputs(run.info.run_id)
    assert (item.dataset.name, item.dataset.digest) == ("holdout", ds.digest)
    assert _context(item) is None
    assert [p.value for p in cairn.Client().get_metric_history(run.info.run_id, "acc")] == [
        0.9,
        0.91,
    ]


def test_metrics_of_a_model_keep_the_dataset_they_were_measured_on(frame: pd.DataFrame) -> None:
    ds = cairn.data.from_pandas(frame, name="holdout")
    with cairn.start_run() as run:
        model = cairn.initialize_logged_model(name="m")
        cairn.log_metric("acc", 0.9, model_id=model.model_id, dataset=ds)
    (point,) = cairn.get_logged_model(model.model_id).metrics
    assert (point.key, point.run_id) == ("acc", run.info.run_id)
    assert (point.dataset_name, point.dataset_digest) == ("holdout", ds.digest)


def test_log_metric_does_not_duplicate_a_dataset_logged_with_a_context(
    frame: pd.DataFrame,
) -> None:
    ds = cairn.data.from_pandas(frame, name="val")
    with cairn.start_run() as run:
        cairn.log_input(ds, context="validation")
        cairn.log_metric("loss", 0.3, dataset=ds)
    (item,) = _inputs(run.info.run_id)
    assert _context(item) == "validation"


def test_log_metric_with_a_name_and_digest_only_dataset_records_no_input() -> None:
    class Named:
        name, digest = "external", "abcd1234"

    with cairn.start_run() as run:
        cairn.log_metric("loss", 0.3, dataset=Named())
    assert _inputs(run.info.run_id) == []
    assert cairn.get_run(run.info.run_id).data.metrics == {"loss": 0.3}
