"""Serving the web UI: the index, cached assets, a missing build, and folder zips (no browser)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cairn.server import ServerSettings, create_app
from cairn.server.routes import webui
from cairn.server.testing import InProcessTransport


@pytest.fixture
def build(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>cairn</title>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    return tmp_path


def serve(tmp_path: Path, static_dir: Path) -> Iterator[httpx.Client]:
    settings = ServerSettings.for_uri(str(tmp_path / "mlruns"))
    settings.static_dir = static_dir
    transport = InProcessTransport(create_app(settings))
    with httpx.Client(transport=transport, base_url="http://cairn") as client:
        yield client
    settings.tracking_store.close()


@pytest.fixture
def client(tmp_path: Path, build: Path) -> Iterator[httpx.Client]:
    yield from serve(tmp_path, build)


def test_the_index_is_served_uncached_with_a_content_security_policy(
    client: httpx.Client,
) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_hashed_assets_are_cached_for_a_year_and_others_revalidated(
    client: httpx.Client,
) -> None:
    asset = client.get("/static-files/assets/index-abc123.js")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == webui.IMMUTABLE
    assert "javascript" in asset.headers["content-type"]
    assert client.get("/static-files/favicon.svg").headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path", ["/static-files/../index.html", "/static-files/%2e%2e/%2e%2e/pyproject.toml"]
)
def test_nothing_outside_the_build_is_served(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_a_missing_build_tells_the_developer_to_run_make_ui(tmp_path: Path) -> None:
    for client in serve(tmp_path, tmp_path / "not-built"):
        response = client.get("/")
        assert response.status_code == 503
        assert "make ui" in response.text
        assert client.get("/health").status_code == 200


def test_a_folder_of_artifacts_downloads_as_a_zip(tmp_path: Path, build: Path) -> None:
    import io
    import zipfile

    import cairn

    store = str(tmp_path / "mlruns")
    logger = cairn.Client(tracking_uri=store)
    run = logger.create_run("0")
    logger.log_text(run.info.run_id, "a", "dir/a.txt")
    logger.log_text(run.info.run_id, "b", "dir/sub/b.txt")
    logger.log_text(run.info.run_id, "c", "top.txt")
    for client in serve(tmp_path, build):
        response = client.get(
            "/ajax-api/2.0/cairn/artifacts/zip", params={"run_id": run.info.run_id, "path": "dir"}
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/zip"
        assert "dir.zip" in response.headers["content-disposition"]
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            assert sorted(archive.namelist()) == ["a.txt", "sub/b.txt"]
            assert archive.read("sub/b.txt") == b"b"
        escape = client.get(
            "/ajax-api/2.0/cairn/artifacts/zip",
            params={"run_id": run.info.run_id, "path": "../.."},
        )
        assert escape.status_code == 400
        unknown = client.get("/ajax-api/2.0/cairn/artifacts/zip", params={"run_id": "nope"})
        assert unknown.status_code in (400, 404)
        assert unknown.json()["error_code"]
