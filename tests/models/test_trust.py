"""Who may run code on load (DESIGN decision 9): the loader decides, never the file."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import cairn
import cairn.pyfunc
import cairn.sklearn
from cairn.models import _client
from cairn.models.errors import ModelFormatError, ModelTampered, PickleNotAllowed, UntrustedTypes
from cairn.models.trust import DIGEST_TAG, model_digest

TREE = "sklearn.tree._tree.Tree"


def _artifact_dir(model_uri: str) -> Path:
    model = cairn.get_logged_model(model_uri.split("/")[-1])
    from cairn.artifacts import local_path_from_uri

    local = local_path_from_uri(model.artifact_uri)
    assert local is not None
    return Path(local)


def test_saving_a_model_with_untrusted_types_always_works(tmp_path: Path, forest: Any) -> None:
    cairn.sklearn.save_model(forest, tmp_path / "m")
    conf = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())["flavors"]["sklearn"]
    # Written for MLflow, which reads its trust list from the file; cairn never does.
    assert conf["skops_trusted_types"] == [TREE]


def test_unknown_origin_with_untrusted_types_is_refused_listing_them(
    tmp_path: Path, forest: Any
) -> None:
    cairn.sklearn.save_model(forest, tmp_path / "m")
    with pytest.raises(UntrustedTypes) as caught:
        cairn.sklearn.load_model(tmp_path / "m")
    assert caught.value.types == [TREE]
    assert "trusted_types=['sklearn.tree._tree.Tree']" in caught.value.message


def test_explicit_trusted_types_or_the_pickle_opt_in_load_it(
    tmp_path: Path, iris: Any, forest: Any
) -> None:
    X, _ = iris
    cairn.sklearn.save_model(forest, tmp_path / "m")
    for loaded in (
        cairn.sklearn.load_model(tmp_path / "m", trusted_types=[TREE]),
        cairn.sklearn.load_model(tmp_path / "m", allow_pickle=True),
    ):
        np.testing.assert_array_equal(loaded.predict(X), forest.predict(X))


def test_the_trust_list_inside_mlmodel_is_ignored(tmp_path: Path, forest: Any) -> None:
    cairn.sklearn.save_model(forest, tmp_path / "m")
    path = tmp_path / "m" / "MLmodel"
    data = yaml.safe_load(path.read_text())
    data["flavors"]["sklearn"]["skops_trusted_types"] = [TREE, "builtins.eval"]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(UntrustedTypes):
        cairn.sklearn.load_model(tmp_path / "m")


def test_logged_model_with_matching_digest_loads_without_questions(iris: Any, forest: Any) -> None:
    X, _ = iris
    with cairn.start_run() as run:
        info = cairn.sklearn.log_model(forest, name="forest")
    assert info.tags[DIGEST_TAG].startswith("sha256:")
    assert cairn.get_logged_model(info.model_id).tags[DIGEST_TAG] == model_digest(
        _artifact_dir(info.model_uri)
    )
    for uri in (info.model_uri, f"runs:/{run.info.run_id}/forest"):
        np.testing.assert_array_equal(cairn.sklearn.load_model(uri).predict(X), forest.predict(X))
        np.testing.assert_array_equal(cairn.pyfunc.load_model(uri).predict(X), forest.predict(X))


def test_logged_model_whose_files_changed_is_refused(forest: Any) -> None:
    with cairn.start_run():
        info = cairn.sklearn.log_model(forest, name="forest")
    requirements = _artifact_dir(info.model_uri) / "requirements.txt"
    requirements.write_text(requirements.read_text() + "\nevil-package")
    with pytest.raises(ModelTampered, match="changed after it was logged"):
        cairn.sklearn.load_model(info.model_uri)


def test_logged_model_without_a_recorded_digest_is_of_unknown_origin(forest: Any) -> None:
    with cairn.start_run():
        info = cairn.sklearn.log_model(forest, name="forest")
    client = cairn.Client()
    _client.delete_logged_model_tag(client, info.model_id, DIGEST_TAG)
    with pytest.raises(UntrustedTypes):
        cairn.sklearn.load_model(info.model_uri)


def _skops_with_swapped_class(source: Path, target: Path, type_name: str) -> None:
    """Rewrite a skops archive so that its top object claims to be ``type_name``."""
    module, _, name = type_name.rpartition(".")
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "schema.json":
                schema = json.loads(data)
                schema["__module__"], schema["__class__"] = module, name
                data = json.dumps(schema).encode()
            zout.writestr(item, data)


def test_tampered_skops_file_naming_a_dangerous_type_is_refused(
    tmp_path: Path, logistic: Any
) -> None:
    cairn.sklearn.save_model(logistic, tmp_path / "m")
    skops_file = tmp_path / "m" / "model.skops"
    _skops_with_swapped_class(skops_file, tmp_path / "evil.skops", "subprocess.Popen")
    (tmp_path / "evil.skops").replace(skops_file)
    with pytest.raises(UntrustedTypes, match=r"subprocess.Popen"):
        cairn.sklearn.load_model(tmp_path / "m")


def test_corrupted_skops_file_is_a_clear_error(tmp_path: Path, logistic: Any) -> None:
    cairn.sklearn.save_model(logistic, tmp_path / "m")
    skops_file = tmp_path / "m" / "model.skops"
    skops_file.write_bytes(skops_file.read_bytes()[:200])
    with pytest.raises(ModelFormatError, match="corrupted, incomplete or was tampered with"):
        cairn.sklearn.load_model(tmp_path / "m")


def test_digest_covers_names_and_contents(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("1")
    first = model_digest(tmp_path / "a")
    (tmp_path / "a" / "x.txt").write_text("2")
    second = model_digest(tmp_path / "a")
    (tmp_path / "a" / "x.txt").rename(tmp_path / "a" / "y.txt")
    assert len({first, second, model_digest(tmp_path / "a")}) == 3
    (tmp_path / "a" / "__pycache__").mkdir()
    (tmp_path / "a" / "__pycache__" / "c.pyc").write_bytes(b"cache")
    assert model_digest(tmp_path / "a") != first  # unchanged by caches, but y.txt is new


def test_pickle_error_names_the_risk_and_the_switch(tmp_path: Path, logistic: Any) -> None:
    cairn.sklearn.save_model(logistic, tmp_path / "m", serialization_format="pickle")
    with pytest.raises(PickleNotAllowed) as caught:
        cairn.pyfunc.load_model(tmp_path / "m")
    assert "runs arbitrary code" in caught.value.message
    assert "allow_pickle=True" in caught.value.message
    assert "--allow-pickle" in caught.value.message


def test_digest_is_checked_even_with_the_pickle_opt_in(forest: Any) -> None:
    with cairn.start_run():
        info = cairn.sklearn.log_model(forest, name="forest")
    (_artifact_dir(info.model_uri) / "MLmodel").write_text(
        (_artifact_dir(info.model_uri) / "MLmodel").read_text() + "\n# edited\n"
    )
    with pytest.raises(ModelTampered):
        cairn.pyfunc.load_model(info.model_uri, allow_pickle=True)
