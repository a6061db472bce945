"""Model URIs resolve everywhere a model is loaded; each bad URI or folder gets its own error."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import cairn
import cairn.pyfunc
import cairn.sklearn
from cairn.models.errors import (
    ModelFormatError,
    ModelNotFound,
    RegistryNotAvailable,
    UnsupportedFlavor,
)
from cairn.models.uri import resolve_model_uri


def test_local_path_and_file_uri_resolve_in_place(tmp_path: Path, logistic: Any) -> None:
    cairn.sklearn.save_model(logistic, tmp_path / "my model")
    assert resolve_model_uri(tmp_path / "my model").path == tmp_path / "my model"
    file_uri = (tmp_path / "my model").as_uri()
    assert resolve_model_uri(file_uri).path == tmp_path / "my model"
    assert resolve_model_uri(tmp_path / "my model" / "MLmodel").path == tmp_path / "my model"


def test_runs_uri_finds_the_model_the_run_logged(iris: Any, logistic: Any) -> None:
    X, _ = iris
    with cairn.start_run() as run:
        info = cairn.sklearn.log_model(logistic, name="clf")
    resolved = resolve_model_uri(f"runs:/{run.info.run_id}/clf")
    assert resolved.model_id == info.model_id and resolved.expected_digest
    np.testing.assert_array_equal(
        cairn.pyfunc.load_model(f"runs:/{run.info.run_id}/clf").predict(X), logistic.predict(X)
    )


def test_runs_uri_to_a_model_in_the_runs_own_artifacts(
    tmp_path: Path, iris: Any, logistic: Any
) -> None:
    X, _ = iris
    cairn.sklearn.save_model(logistic, tmp_path / "m")
    with cairn.start_run() as run:
        cairn.log_artifacts(tmp_path / "m", artifact_path="legacy/model")
    uri = f"runs:/{run.info.run_id}/legacy/model"
    assert resolve_model_uri(uri).expected_digest is None  # no digest: unknown origin
    np.testing.assert_array_equal(cairn.pyfunc.load_model(uri).predict(X), logistic.predict(X))


def test_models_uri_downloads_into_dst_path(tmp_path: Path, logistic: Any) -> None:
    with cairn.start_run():
        info = cairn.sklearn.log_model(logistic, name="clf")
    resolved = resolve_model_uri(info.model_uri, dst_path=tmp_path / "dl")
    assert resolved.path.parent == tmp_path / "dl" or resolved.path == tmp_path / "dl"
    assert (resolved.path / "MLmodel").is_file()


def test_fsspec_url_resolves_through_its_file_system(iris: Any, logistic: Any) -> None:
    import fsspec

    X, _ = iris
    fs = fsspec.filesystem("memory")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cairn.sklearn.save_model(logistic, Path(tmp) / "m")
        fs.put(str(Path(tmp) / "m"), "/models/clf", recursive=True)
    model = cairn.pyfunc.load_model("memory://models/clf")
    fs.rm("/models/clf", recursive=True)
    np.testing.assert_array_equal(model.predict(X), logistic.predict(X))


def test_an_s3_url_loads_the_model_from_an_s3_compatible_server(
    tmp_path: Path, iris: Any, logistic: Any, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``s3://`` through s3fs, against moto's S3 server (found through ``AWS_ENDPOINT_URL``,
    as a user points boto at MinIO or another S3-compatible store)."""
    import s3fs

    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    cairn.sklearn.save_model(logistic, tmp_path / "m")
    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": s3_endpoint})
    fs.put(str(tmp_path / "m"), "cairn/models/clf", recursive=True)
    X, _ = iris
    model = cairn.pyfunc.load_model("s3://cairn/models/clf")
    np.testing.assert_array_equal(model.predict(X), logistic.predict(X))
    with pytest.raises(ModelNotFound):
        cairn.pyfunc.load_model("s3://cairn/models/no-such-model")


def test_unknown_model_id_and_run_are_model_not_found() -> None:
    with pytest.raises(ModelNotFound, match="No logged model"):
        resolve_model_uri("models:/m-" + "0" * 32)
    with pytest.raises(ModelNotFound, match="no run"):
        resolve_model_uri("runs:/" + "f" * 32 + "/model")


def test_run_without_such_a_model_lists_what_it_logged(logistic: Any) -> None:
    with cairn.start_run() as run:
        info = cairn.sklearn.log_model(logistic, name="clf")
    with pytest.raises(ModelNotFound, match=info.model_id):
        resolve_model_uri(f"runs:/{run.info.run_id}/other")


def test_registry_uris_say_the_registry_is_missing() -> None:
    for uri in ("models:/my-model/1", "models:/my-model/Production", "models:/my-model@champion"):
        with pytest.raises(RegistryNotAvailable, match="model registry"):
            cairn.pyfunc.load_model(uri)


def test_missing_path_is_model_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="does not exist"):
        cairn.pyfunc.load_model(tmp_path / "nope")


def test_folder_without_mlmodel_says_so(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.pkl").write_bytes(b"x")
    with pytest.raises(ModelFormatError, match=r"No MLmodel file.*model\.pkl"):
        cairn.pyfunc.load_model(tmp_path / "m")


def test_unsupported_scheme_lists_the_supported_ones() -> None:
    with pytest.raises(cairn.CairnError, match="Unsupported artifact URI scheme"):
        cairn.pyfunc.load_model("nosuchscheme://bucket/model")


def _edit_mlmodel(path: Path, change: Any) -> None:
    data = yaml.safe_load((path / "MLmodel").read_text())
    change(data)
    (path / "MLmodel").write_text(yaml.safe_dump(data))


def test_unknown_flavor_is_named_with_the_supported_ones(tmp_path: Path, logistic: Any) -> None:
    cairn.sklearn.save_model(logistic, tmp_path / "m")

    def to_transformers(data: dict[str, Any]) -> None:
        data["flavors"] = {
            "transformers": {"x": 1},
            "python_function": {"loader_module": "mlflow.transformers"},
        }

    _edit_mlmodel(tmp_path / "m", to_transformers)
    with pytest.raises(UnsupportedFlavor, match=r"'mlflow\.transformers'.*mlflow\.sklearn"):
        cairn.pyfunc.load_model(tmp_path / "m")
    with pytest.raises(UnsupportedFlavor, match="no 'sklearn' flavor"):
        cairn.sklearn.load_model(tmp_path / "m")


def test_newer_format_version_asks_for_an_upgrade(tmp_path: Path, logistic: Any) -> None:
    cairn.sklearn.save_model(logistic, tmp_path / "m")
    _edit_mlmodel(tmp_path / "m", lambda d: d.update(cairn_format_version=99))
    with pytest.raises(ModelFormatError, match=r"format version 99.*Upgrade cairn"):
        cairn.pyfunc.load_model(tmp_path / "m")


def test_mlmodel_that_is_not_yaml_is_a_format_error(tmp_path: Path, logistic: Any) -> None:
    cairn.sklearn.save_model(logistic, tmp_path / "m")
    (tmp_path / "m" / "MLmodel").write_text("flavors: [unclosed")
    with pytest.raises(ModelFormatError, match="not valid YAML"):
        cairn.pyfunc.load_model(tmp_path / "m")
    shutil.rmtree(tmp_path / "m")


def test_s3_without_credentials_is_a_clear_store_error(
    logistic: Any, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The storage client's own failure (here: no credentials at all) names the model's
    location instead of escaping as a botocore traceback."""
    import s3fs

    from cairn.errors import StoreError

    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    s3fs.S3FileSystem.clear_instance_cache()  # one made by an earlier test holds credentials
    with pytest.raises(StoreError, match=r"Cannot download the model from 's3://cairn/models/x'"):
        cairn.pyfunc.load_model("s3://cairn/models/x")


def test_format_version_must_be_a_number(tmp_path: Path, logistic: Any) -> None:
    cairn.sklearn.save_model(logistic, tmp_path / "m")
    _edit_mlmodel(tmp_path / "m", lambda d: d.update(cairn_format_version=True))
    with pytest.raises(ModelFormatError, match="format version True"):
        cairn.pyfunc.load_model(tmp_path / "m")


@pytest.mark.parametrize("escape", ["../outside.skops", "/etc/passwd"])
def test_paths_in_mlmodel_that_leave_the_model_folder_are_refused(
    tmp_path: Path, logistic: Any, escape: str
) -> None:
    cairn.sklearn.save_model(logistic, tmp_path / "m")
    shutil.copy(tmp_path / "m" / "model.skops", tmp_path / "outside.skops")
    _edit_mlmodel(tmp_path / "m", lambda d: d["flavors"]["sklearn"].update(pickled_model=escape))
    with pytest.raises(ModelFormatError, match="outside the model directory"):
        cairn.pyfunc.load_model(tmp_path / "m")


def test_predict_fn_is_one_of_the_estimator_methods(tmp_path: Path, logistic: Any) -> None:
    cairn.sklearn.save_model(logistic, tmp_path / "m")
    _edit_mlmodel(
        tmp_path / "m", lambda d: d["flavors"]["python_function"].update(predict_fn="__class__")
    )
    with pytest.raises(ModelFormatError, match="Refusing predict_fn '__class__'"):
        cairn.pyfunc.load_model(tmp_path / "m")
    _edit_mlmodel(
        tmp_path / "m", lambda d: d["flavors"]["python_function"].update(predict_fn="transform")
    )
    with pytest.raises(ModelFormatError, match="has no transform method"):
        cairn.pyfunc.load_model(tmp_path / "m")
    with pytest.raises(cairn.CairnError, match="Unknown pyfunc_predict_fn 'nope'"):
        cairn.sklearn.save_model(logistic, tmp_path / "n", pyfunc_predict_fn="nope")
