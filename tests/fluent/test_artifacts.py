"""Artifacts through the fluent API and the client: files, trees, text, dicts, figures, images,
tables, listing, downloading and path safety."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import cairn
from cairn.errors import InvalidArtifactPath, InvalidParameter

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _artifacts_dir(mlruns: Path, run: cairn.entities.Run) -> Path:
    return mlruns / run.info.experiment_id / run.info.run_id / "artifacts"


def _files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def src(tmp_path: Path) -> Path:
    """A local tree: a top-level file, a nested folder and an empty folder."""
    root = tmp_path / "src"
    (root / "plots" / "epoch1").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "README.md").write_text("hello\n")
    (root / "plots" / "loss.csv").write_text("step,loss\n0,1.0\n")
    (root / "plots" / "epoch1" / "acc.csv").write_text("step,acc\n0,0.5\n")
    return root


def test_artifacts_land_under_experiment_and_run_folder(mlruns: Path) -> None:
    experiment = cairn.set_experiment("arts")
    with cairn.start_run() as run:
        cairn.log_text("hello", "hello.txt")
    folder = mlruns / experiment.experiment_id / run.info.run_id / "artifacts"
    assert (folder / "hello.txt").read_text() == "hello"


def test_get_artifact_uri_is_the_run_artifact_root(mlruns: Path) -> None:
    with cairn.start_run() as run:
        uri = cairn.get_artifact_uri()
        assert uri == run.info.artifact_uri
        assert uri == (_artifacts_dir(mlruns, run)).as_uri()
        assert cairn.get_artifact_uri("plots/loss.png") == f"{uri}/plots/loss.png"


def test_get_artifact_uri_rejects_escaping_paths() -> None:
    with cairn.start_run(), pytest.raises(InvalidArtifactPath):
        cairn.get_artifact_uri("../other-run")


def test_log_artifact_copies_a_file(mlruns: Path, src: Path) -> None:
    with cairn.start_run() as run:
        cairn.log_artifact(src / "README.md")
    assert (_artifacts_dir(mlruns, run) / "README.md").read_text() == "hello\n"


def test_log_artifact_into_artifact_path(mlruns: Path, src: Path) -> None:
    with cairn.start_run() as run:
        cairn.log_artifact(src / "README.md", artifact_path="docs/v1")
        cairn.log_artifact(str(src / "plots" / "loss.csv"), "data")
    assert _files_under(_artifacts_dir(mlruns, run)) == {"docs/v1/README.md", "data/loss.csv"}


def test_log_artifact_of_missing_file_is_rejected(tmp_path: Path) -> None:
    with cairn.start_run(), pytest.raises(InvalidParameter):
        cairn.log_artifact(tmp_path / "no-such-file.txt")


def test_log_artifacts_copies_a_tree(mlruns: Path, src: Path) -> None:
    with cairn.start_run() as run:
        cairn.log_artifacts(src)
    folder = _artifacts_dir(mlruns, run)
    assert _files_under(folder) == {"README.md", "plots/loss.csv", "plots/epoch1/acc.csv"}
    assert (folder / "plots" / "epoch1" / "acc.csv").read_text() == "step,acc\n0,0.5\n"


def test_log_artifacts_into_artifact_path(mlruns: Path, src: Path) -> None:
    with cairn.start_run() as run:
        cairn.log_artifacts(src / "plots", artifact_path="charts")
    assert _files_under(_artifacts_dir(mlruns, run)) == {
        "charts/loss.csv",
        "charts/epoch1/acc.csv",
    }


def test_log_artifacts_of_a_file_is_rejected(src: Path) -> None:
    with cairn.start_run(), pytest.raises(InvalidParameter):
        cairn.log_artifacts(src / "README.md")


def test_log_text_writes_utf8(mlruns: Path) -> None:
    with cairn.start_run() as run:
        cairn.log_text("naïve ☃\nline 2", "notes/summary.txt")
    data = (_artifacts_dir(mlruns, run) / "notes" / "summary.txt").read_bytes()
    assert data == "naïve ☃\nline 2".encode()


def test_log_text_overwrites_the_same_file(mlruns: Path) -> None:
    with cairn.start_run() as run:
        cairn.log_text("one", "a.txt")
        cairn.log_text("two", "a.txt")
    assert (_artifacts_dir(mlruns, run) / "a.txt").read_text() == "two"


@pytest.mark.parametrize("name", ["notes/", "", "."])
def test_log_text_to_a_folder_name_is_rejected(mlruns: Path, name: str) -> None:
    with (
        cairn.start_run() as run,
        pytest.raises(InvalidParameter, match="artifact_file must name a file"),
    ):
        cairn.log_text("x", name)
    assert not (_artifacts_dir(mlruns, run) / "notes").exists()


def test_log_dict_as_json(mlruns: Path) -> None:
    config = {"lr": 0.1, "layers": [64, 32], "name": "mlp", "nested": {"a": None}}
    with cairn.start_run() as run:
        cairn.log_dict(config, "config.json")
    assert json.loads((_artifacts_dir(mlruns, run) / "config.json").read_text()) == config


@pytest.mark.parametrize("name", ["config.yaml", "config.yml"])
def test_log_dict_as_yaml(mlruns: Path, name: str) -> None:
    config = {"lr": 0.1, "layers": [64, 32], "name": "mlp"}
    with cairn.start_run() as run:
        cairn.log_dict(config, name)
    text = (_artifacts_dir(mlruns, run) / name).read_text()
    assert yaml.safe_load(text) == config
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)  # YAML block style, not JSON


def test_log_dict_with_other_extension_writes_json(mlruns: Path) -> None:
    with cairn.start_run() as run:
        cairn.log_dict({"a": 1}, "data.txt")
    assert json.loads((_artifacts_dir(mlruns, run) / "data.txt").read_text()) == {"a": 1}


def test_log_figure_matplotlib_png(mlruns: Path) -> None:
    from matplotlib.figure import Figure

    figure = Figure()
    figure.add_subplot().plot([0, 1, 2], [2, 1, 3])
    with cairn.start_run() as run:
        cairn.log_figure(figure, "plots/curve.png")
    data = (_artifacts_dir(mlruns, run) / "plots" / "curve.png").read_bytes()
    assert data.startswith(PNG_SIGNATURE)


def test_log_figure_matplotlib_svg(mlruns: Path) -> None:
    from matplotlib.figure import Figure

    figure = Figure()
    figure.add_subplot().plot([0, 1], [1, 0])
    with cairn.start_run() as run:
        cairn.log_figure(figure, "curve.svg")
    assert b"<svg" in (_artifacts_dir(mlruns, run) / "curve.svg").read_bytes()


def test_log_figure_plotly_html(mlruns: Path) -> None:
    import plotly.graph_objects as go

    figure = go.Figure(data=go.Scatter(x=[1, 2, 3], y=[4, 1, 2]))
    with cairn.start_run() as run:
        cairn.log_figure(figure, "plots/interactive.html")
    text = (_artifacts_dir(mlruns, run) / "plots" / "interactive.html").read_text()
    assert "<html" in text.lower()
    assert text.rstrip().lower().endswith("</html>")
    assert "Plotly.newPlot" in text


def test_log_figure_of_other_objects_is_rejected() -> None:
    with cairn.start_run(), pytest.raises(InvalidParameter):
        cairn.log_figure(object(), "x.png")


def _png_pixels(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image)


def test_log_image_numpy_uint8(mlruns: Path) -> None:
    pixels = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    with cairn.start_run() as run:
        cairn.log_image(pixels, "images/rgb.png")
    path = _artifacts_dir(mlruns, run) / "images" / "rgb.png"
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    assert np.array_equal(_png_pixels(path), pixels)


def test_log_image_numpy_float_in_unit_range_is_scaled(mlruns: Path) -> None:
    pixels = np.array([[0.0, 0.5], [1.0, 0.25]])
    with cairn.start_run() as run:
        cairn.log_image(pixels, "gray.png")
    stored = _png_pixels(_artifacts_dir(mlruns, run) / "gray.png")
    assert stored.shape == (2, 2)
    assert stored.tolist() == [[0, 128], [255, 64]]


def test_log_image_pil_image(mlruns: Path) -> None:
    from PIL import Image

    image = Image.new("RGB", (3, 2), color=(10, 20, 30))
    with cairn.start_run() as run:
        cairn.log_image(image, "pil.png")
    stored = _png_pixels(_artifacts_dir(mlruns, run) / "pil.png")
    assert stored.shape == (2, 3, 3)
    assert stored[0, 0].tolist() == [10, 20, 30]


@pytest.mark.parametrize("shape", [(4,), (2, 2, 2), (2, 2, 5), (1, 2, 2, 3)])
def test_log_image_with_bad_shape_is_rejected(mlruns: Path, shape: tuple[int, ...]) -> None:
    with cairn.start_run() as run, pytest.raises(InvalidParameter, match="shape"):
        cairn.log_image(np.zeros(shape, dtype=np.uint8), "bad.png")
    assert not (_artifacts_dir(mlruns, run) / "bad.png").exists()


def test_log_image_with_key_and_step_stores_a_png_under_images(mlruns: Path) -> None:
    pixels = np.zeros((2, 2, 3), dtype=np.uint8)
    with cairn.start_run() as run:
        cairn.log_image(pixels, key="samples", step=0)
        cairn.log_image(pixels, key="samples", step=1)
    stored = sorted((_artifacts_dir(mlruns, run) / "images").rglob("*.png"))
    assert len(stored) == 2
    assert all(p.read_bytes().startswith(PNG_SIGNATURE) for p in stored)


def test_log_image_needs_either_artifact_file_or_key() -> None:
    pixels = np.zeros((2, 2), dtype=np.uint8)
    with cairn.start_run():
        with pytest.raises(InvalidParameter):
            cairn.log_image(pixels)
        with pytest.raises(InvalidParameter):
            cairn.log_image(pixels, "a.png", key="a")


def test_log_image_with_float_out_of_range_is_rejected() -> None:
    with cairn.start_run(), pytest.raises(InvalidParameter):
        cairn.log_image(np.array([[0.0, 2.0]]), "bad.png")


def test_log_table_from_dict_uses_split_layout(mlruns: Path) -> None:
    table = {"inputs": ["a", "b"], "score": [0.5, 1.0]}
    with cairn.start_run() as run:
        cairn.log_table(table, "eval/results.json")
    stored = json.loads((_artifacts_dir(mlruns, run) / "eval" / "results.json").read_text())
    assert stored == {"columns": ["inputs", "score"], "data": [["a", 0.5], ["b", 1.0]]}


def test_log_table_from_dataframe_uses_split_layout(mlruns: Path) -> None:
    frame = pd.DataFrame({"x": [1, 2, 3], "y": ["u", "v", "w"]}, index=[10, 20, 30])
    with cairn.start_run() as run:
        cairn.log_table(frame, "table.json")
    stored = json.loads((_artifacts_dir(mlruns, run) / "table.json").read_text())
    assert stored == {"columns": ["x", "y"], "data": [[1, "u"], [2, "v"], [3, "w"]]}


def test_log_table_is_listed_in_the_logged_artifacts_tag() -> None:
    with cairn.start_run() as run:
        cairn.log_table({"a": [1]}, "t1.json")
        cairn.log_table({"b": [2]}, "sub/t2.json")
        cairn.log_table({"a": [3]}, "t1.json")
    logged = json.loads(cairn.get_run(run.info.run_id).data.tags["mlflow.loggedArtifacts"])
    assert logged == [
        {"path": "t1.json", "type": "table"},
        {"path": "sub/t2.json", "type": "table"},
    ]


def test_log_table_to_an_existing_file_appends_rows(mlruns: Path) -> None:
    # MLflow reads the table already logged under that name and appends the new rows.
    with cairn.start_run() as run:
        cairn.log_table({"q": ["a"], "score": [1]}, "evals.json")
        cairn.log_table({"q": ["b"], "score": [2]}, "evals.json")
    stored = json.loads((_artifacts_dir(mlruns, run) / "evals.json").read_text())
    assert stored == {"columns": ["q", "score"], "data": [["a", 1], ["b", 2]]}


def test_log_table_requires_a_json_file() -> None:
    with cairn.start_run(), pytest.raises(InvalidParameter):
        cairn.log_table({"a": [1]}, "table.csv")


def test_client_list_artifacts(src: Path) -> None:
    with cairn.start_run() as run:
        cairn.log_artifacts(src)
    client = cairn.Client()
    top = {(f.path, f.is_dir) for f in client.list_artifacts(run.info.run_id)}
    assert top == {("README.md", False), ("plots", True), ("empty", True)}
    plots = client.list_artifacts(run.info.run_id, "plots")
    assert {(f.path, f.is_dir) for f in plots} == {
        ("plots/loss.csv", False),
        ("plots/epoch1", True),
    }
    sizes = {f.path: f.file_size for f in plots}
    assert sizes["plots/loss.csv"] == len("step,loss\n0,1.0\n")
    assert sizes["plots/epoch1"] is None


def test_client_list_artifacts_of_run_without_artifacts_is_empty() -> None:
    with cairn.start_run() as run:
        pass
    assert cairn.Client().list_artifacts(run.info.run_id) == []


def test_client_download_artifacts_of_a_file(tmp_path: Path) -> None:
    with cairn.start_run() as run:
        cairn.log_text("payload", "deep/file.txt")
    local = cairn.Client().download_artifacts(run.info.run_id, "deep/file.txt", tmp_path / "dl")
    assert Path(local).read_text() == "payload"
    assert Path(local).is_relative_to(tmp_path / "dl")


def test_client_download_artifacts_of_a_folder(tmp_path: Path, src: Path) -> None:
    with cairn.start_run() as run:
        cairn.log_artifacts(src, "tree")
    local = Path(cairn.Client().download_artifacts(run.info.run_id, "tree", tmp_path / "dl"))
    assert _files_under(local) == {"README.md", "plots/loss.csv", "plots/epoch1/acc.csv"}


def test_client_download_artifacts_defaults_to_a_new_temporary_folder() -> None:
    with cairn.start_run() as run:
        cairn.log_text("x", "x.txt")
    local = Path(cairn.Client().download_artifacts(run.info.run_id, "x.txt"))
    assert local.read_text() == "x"


_ESCAPING_PATHS = ["../escape.json", "a/../../escape.json", "/tmp/escape.json", "..", "a\\..\\b"]


@pytest.mark.parametrize("path", _ESCAPING_PATHS)
def test_artifact_files_that_would_leave_the_run_are_rejected(
    tmp_path: Path, mlruns: Path, path: str
) -> None:
    before = _files_under(tmp_path)
    with cairn.start_run() as run:
        loggers = [
            lambda: cairn.log_text("x", path),
            lambda: cairn.log_dict({"a": 1}, path),
            lambda: cairn.log_image(np.zeros((2, 2), dtype=np.uint8), path),
        ]
        if path.endswith(".json"):
            loggers.append(lambda: cairn.log_table({"a": [1]}, path))
        for log in loggers:
            with pytest.raises(InvalidArtifactPath):
                log()
    after = _files_under(tmp_path)
    assert {p for p in after - before if not p.startswith("mlruns/cairn.db")} == set()
    assert not _artifacts_dir(mlruns, run).exists()
    if path.startswith("/"):
        assert not Path(path).exists()


@pytest.mark.parametrize("path", ["..", "../up", "a/../../up", "/abs/dir"])
def test_artifact_paths_that_would_leave_the_run_are_rejected(
    tmp_path: Path, mlruns: Path, src: Path, path: str
) -> None:
    before = _files_under(tmp_path)
    with cairn.start_run() as run:
        with pytest.raises(InvalidArtifactPath):
            cairn.log_artifact(src / "README.md", artifact_path=path)
        with pytest.raises(InvalidArtifactPath):
            cairn.log_artifacts(src, artifact_path=path)
    after = _files_under(tmp_path)
    assert {p for p in after - before if not p.startswith("mlruns/cairn.db")} == set()
    assert not _artifacts_dir(mlruns, run).exists()


def test_client_artifact_reads_reject_escaping_paths(tmp_path: Path) -> None:
    with cairn.start_run() as run:
        cairn.log_text("x", "x.txt")
    client = cairn.Client()
    with pytest.raises(InvalidArtifactPath):
        client.list_artifacts(run.info.run_id, "../..")
    with pytest.raises(InvalidArtifactPath):
        client.download_artifacts(run.info.run_id, "../../cairn.db", tmp_path / "dl")
    assert not (tmp_path / "dl" / "cairn.db").exists()
