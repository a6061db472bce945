"""ProxyArtifactRepository: artifacts moved through a tracking server's artifact proxy.

Transfers run against the real app served by uvicorn on a loopback port (one server for the
module; each test gets a fresh destination). Retry and error handling use httpx's
MockTransport to play a misbehaving server.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cairn import _http
from cairn.artifacts import get_artifact_repository, proxy
from cairn.artifacts.base import CHUNK_SIZE
from cairn.artifacts.proxy import ProxyArtifactRepository, ProxyLocation, resolve_proxy_uri
from cairn.entities import FileInfo
from cairn.errors import (
    ArtifactNotFound,
    EndpointNotFound,
    InvalidArtifactPath,
    InvalidParameter,
    PermissionDenied,
    TrackingServerUnavailable,
    Unauthenticated,
)
from cairn.server import ServerSettings, create_app
from cairn.server.routes.artifacts import STAGING
from tests._stores import close_stores_opened_since
from tests.server.test_artifact_proxy import RecordingRepository, running_uvicorn

ROOT = "mlflow-artifacts:/1/run/artifacts"

# -- URIs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "tracking", "api", "root"),
    [
        (ROOT, "http://h:5000", "http://h:5000/api/2.0/mlflow-artifacts", "1/run/artifacts"),
        (ROOT, "https://h/prefix/", "https://h/prefix/api/2.0/mlflow-artifacts", "1/run/artifacts"),
        ("mlflow-artifacts:/", "http://h", "http://h/api/2.0/mlflow-artifacts", ""),
        (
            "mlflow-artifacts://other:9000/1/r",
            "https://h/p",
            "https://other:9000/p/api/2.0/mlflow-artifacts",
            "1/r",
        ),
        (
            "http://s/api/2.0/mlflow-artifacts/artifacts/1/my%20run/artifacts",
            None,
            "http://s/api/2.0/mlflow-artifacts",
            "1/my run/artifacts",
        ),
        (
            "https://s/x/ajax-api/2.0/mlflow-artifacts/artifacts",
            None,
            "https://s/x/ajax-api/2.0/mlflow-artifacts",
            "",
        ),
    ],
)
def test_proxy_uris_resolve_as_mlflow_resolves_them(
    uri: str, tracking: str | None, api: str, root: str
) -> None:
    assert resolve_proxy_uri(uri, tracking) == ProxyLocation(api, root)


def test_file_urls_are_percent_encoded() -> None:
    repo = ProxyArtifactRepository(ROOT, "http://h")

    assert repo.file_url("a b/c#d.txt") == (
        "http://h/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/a%20b/c%23d.txt"
    )


def test_mlflow_artifacts_uris_need_an_http_tracking_uri(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match="served by a tracking server"):
        resolve_proxy_uri(ROOT, tmp_path.as_uri())


def test_the_configured_tracking_uri_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("CAIRN_TRACKING_URI", "http://configured:5000")

    assert resolve_proxy_uri(ROOT).api == "http://configured:5000/api/2.0/mlflow-artifacts"


def test_http_uris_must_be_artifact_proxy_urls() -> None:
    with pytest.raises(InvalidParameter, match="artifact proxy"):
        resolve_proxy_uri("http://h/some/where")
    with pytest.raises(InvalidParameter, match="artifact proxy"):
        resolve_proxy_uri("http://h/api/2.0/mlflow-artifacts/artifactsX/1")


@pytest.mark.parametrize(
    "uri", ["mlflow-artifacts:/1/../../etc", "http://h/api/2.0/mlflow-artifacts/artifacts/%2e%2e/x"]
)
def test_a_root_that_escapes_is_refused(uri: str) -> None:
    with pytest.raises(InvalidArtifactPath):
        resolve_proxy_uri(uri, "http://h")


def test_get_artifact_repository_builds_a_proxy_repository_with_the_tracking_uri() -> None:
    repo = get_artifact_repository(ROOT, "http://h:1234")

    assert isinstance(repo, ProxyArtifactRepository)
    assert repo.location.api == "http://h:1234/api/2.0/mlflow-artifacts"
    assert isinstance(
        get_artifact_repository("https://h/api/2.0" + proxy.ARTIFACTS_SEGMENT),
        ProxyArtifactRepository,
    )


# -- credentials --------------------------------------------------------------------------------


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for prefix in ("CAIRN", "MLFLOW"):
        for name in ("TOKEN", "USERNAME", "PASSWORD"):
            monkeypatch.delenv(f"{prefix}_TRACKING_{name}", raising=False)
    return monkeypatch


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"MLFLOW_TRACKING_TOKEN": "t1"}, "Bearer t1"),
        ({"CAIRN_TRACKING_TOKEN": "t2", "MLFLOW_TRACKING_TOKEN": "t1"}, "Bearer t2"),
        ({"MLFLOW_TRACKING_USERNAME": "u", "MLFLOW_TRACKING_PASSWORD": "p"}, basic("u", "p")),
        (
            {
                "CAIRN_TRACKING_USERNAME": "u",
                "CAIRN_TRACKING_PASSWORD": "p",
                "CAIRN_TRACKING_TOKEN": "t",
            },
            basic("u", "p"),
        ),
        ({"CAIRN_TRACKING_USERNAME": "u"}, None),  # a user without a password sends nothing
    ],
)
def test_auth_headers_follow_the_environment(
    no_credentials: pytest.MonkeyPatch, env: dict[str, str], expected: str | None
) -> None:
    for name, value in env.items():
        no_credentials.setenv(name, value)

    assert _http.auth_headers().get("Authorization") == expected
    assert _http.default_headers()["User-Agent"].startswith("cairn/")


def test_auth_headers_are_read_at_call_time(no_credentials: pytest.MonkeyPatch) -> None:
    no_credentials.setenv("CAIRN_TRACKING_TOKEN", "old")
    assert _http.auth_headers() == {"Authorization": "Bearer old"}
    no_credentials.setenv("CAIRN_TRACKING_TOKEN", "new")
    assert _http.auth_headers() == {"Authorization": "Bearer new"}


# -- a real server ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ServerSettings]]:
    folder = tmp_path_factory.mktemp("proxy-server")
    settings = ServerSettings.for_uri(str(folder / "mlruns"))
    with running_uvicorn(create_app(settings)) as url:
        yield url, settings
    settings.tracking_store.close()


@pytest.fixture
def dest(server: tuple[str, ServerSettings], tmp_path: Path) -> Iterator[Path]:
    """A fresh destination for this test, multipart allowed, no cached server-info."""
    _, settings = server
    settings.artifacts = RecordingRepository((tmp_path / "dest").as_uri())
    settings.allow_multipart = True
    proxy._server_info.clear()
    yield tmp_path / "dest"
    proxy._server_info.clear()


class Recorder:
    """An httpx client whose requests (method, path, headers) are recorded."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.client = httpx.Client(event_hooks={"request": [self.requests.append]})

    def paths(self, method: str | None = None) -> list[str]:
        return [r.url.path for r in self.requests if method in (None, r.method)]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recorder = Recorder()
    yield recorder
    recorder.client.close()


@pytest.fixture
def repo(
    server: tuple[str, ServerSettings], dest: Path, recorder: Recorder
) -> ProxyArtifactRepository:
    url, _ = server
    return ProxyArtifactRepository(ROOT, url, client=recorder.client, max_retries=0)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_files_and_trees_round_trip(
    repo: ProxyArtifactRepository, dest: Path, src_tree: Path, tmp_path: Path
) -> None:
    repo.log_artifact(src_tree / "README.md")
    repo.log_artifacts(src_tree, "tree")

    assert [(f.path, f.is_dir) for f in repo.list_artifacts()] == [
        ("README.md", False),
        ("tree", True),
    ]
    assert repo.list_artifacts("tree/plots") == [
        FileInfo("tree/plots/epoch1", True, None),
        FileInfo("tree/plots/loss.png", False, 9),
    ]
    assert repo.file_info("tree/plots/loss.png") == FileInfo("tree/plots/loss.png", False, 9)
    assert repo.file_info("tree/plots") == FileInfo("tree/plots", True, None)
    assert tree(dest / "1/run/artifacts/tree") == {
        k: v for k, v in tree(src_tree).items() if not k.startswith("empty")
    }

    out = Path(repo.download_artifacts("tree", tmp_path / "out"))
    assert out == tmp_path / "out" / "tree"
    assert tree(out) == tree(dest / "1/run/artifacts/tree")
    single = repo.download_artifacts("tree/plots/epoch1/acc.csv", tmp_path / "one")
    assert Path(single).read_text() == "step,acc\n0,0.5\n"
    with repo.open("README.md") as stream:
        assert stream.read() == b"hello\n"

    repo.delete_artifacts("tree/plots")
    assert [f.path for f in repo.list_artifacts("tree")] == ["tree/README.md"]
    repo.delete_artifacts()
    assert repo.list_artifacts() == []
    assert repo.file_info("") is None


@pytest.fixture
def rest_client(
    server: tuple[str, ServerSettings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """``cairn.Client`` on the server's URL (the REST store), closed afterwards."""
    import cairn
    from cairn.store import registry

    for name in list(os.environ):
        if name.startswith(("CAIRN_", "MLFLOW_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CAIRN_SPOOL_DIR", str(tmp_path / "spool"))
    before = set(registry._stores)
    yield cairn.Client(tracking_uri=server[0])
    close_stores_opened_since(before)


def test_cairn_client_artifacts_go_through_the_tracking_servers_proxy(
    rest_client: Any, dest: Path, src_tree: Path, tmp_path: Path
) -> None:
    experiment = rest_client.create_experiment(f"proxy-{uuid.uuid4().hex[:8]}")
    run = rest_client.create_run(experiment)
    run_id, uri = run.info.run_id, run.info.artifact_uri
    assert uri == f"mlflow-artifacts:/{experiment}/{run_id}/artifacts"

    rest_client.log_artifact(run_id, src_tree / "README.md")
    rest_client.log_artifacts(run_id, src_tree / "plots", "plots")
    rest_client.log_text(run_id, "hello", "notes/readme.txt")

    assert [(f.path, f.is_dir) for f in rest_client.list_artifacts(run_id)] == [
        ("README.md", False),
        ("notes", True),
        ("plots", True),
    ]
    stored = dest / experiment / run_id / "artifacts"
    assert tree(stored) == {
        "README.md": b"hello\n",
        "notes/readme.txt": b"hello",
        **{f"plots/{k}": v for k, v in tree(src_tree / "plots").items()},
    }
    out = Path(rest_client.download_artifacts(run_id, "plots", tmp_path / "dl"))
    assert tree(out) == tree(src_tree / "plots")
    assert rest_client.get_artifact_uri(run_id, "plots") == f"{uri}/plots"


def test_bytes_and_writers_upload(repo: ProxyArtifactRepository, dest: Path) -> None:
    repo.log_bytes(b'{"a": 1}', "conf/a.json")
    with repo.open_writer("logs/train.log") as out:
        out.write(b"epoch 1\n")
        out.write(b"epoch 2\n")

    assert (dest / "1/run/artifacts/conf/a.json").read_bytes() == b'{"a": 1}'
    assert (dest / "1/run/artifacts/logs/train.log").read_bytes() == b"epoch 1\nepoch 2\n"


def test_missing_artifacts(repo: ProxyArtifactRepository, tmp_path: Path) -> None:
    repo.log_bytes(b"x", "present.txt")

    with pytest.raises(ArtifactNotFound):
        repo.download_artifacts("absent.txt", tmp_path)
    with pytest.raises(ArtifactNotFound):
        repo._open_file("absent.txt")
    assert repo.list_artifacts("no/such/dir") == []
    assert repo.file_info("absent.txt") is None
    repo.delete_artifacts("absent.txt")  # deleting nothing is fine
    assert not list(tmp_path.glob("absent*"))


def test_opening_a_directory_is_an_error(repo: ProxyArtifactRepository) -> None:
    repo.log_bytes(b"x", "d/a.txt")

    with pytest.raises(InvalidParameter, match="directory"):
        repo._open_file("d")


def test_a_50_mb_file_streams_both_ways_in_chunks(
    repo: ProxyArtifactRepository,
    dest: Path,
    tmp_path: Path,
    server: tuple[str, ServerSettings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    size = 50 * 1024 * 1024
    big = tmp_path / "big.bin"
    with big.open("wb") as out:
        for _ in range(50):
            out.write(os.urandom(1024 * 1024))
    sent: list[int] = []
    real_read_chunks = proxy._read_chunks

    def recording(path: str, offset: int, length: int) -> Iterator[bytes]:
        for chunk in real_read_chunks(path, offset, length):
            sent.append(len(chunk))
            yield chunk

    monkeypatch.setattr(proxy, "_read_chunks", recording)

    repo.log_artifact(big, "data")
    got = Path(repo.download_artifacts("data/big.bin", tmp_path / "dl"))

    assert sent == [CHUNK_SIZE] * 50
    written = server[1].artifacts.writes  # type: ignore[union-attr]
    assert sum(written) == size and max(written) <= CHUNK_SIZE
    assert _sha(got) == _sha(big) == _sha(dest / "1/run/artifacts/data/big.bin")


def _sha(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


# -- multipart ------------------------------------------------------------------------------------


@pytest.fixture
def small_multipart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(proxy.MULTIPART_MINIMUM_ENV, "1000")
    monkeypatch.setenv(proxy.MULTIPART_CHUNK_ENV, str(CHUNK_SIZE))


def test_a_large_file_goes_up_in_parts(
    repo: ProxyArtifactRepository,
    dest: Path,
    tmp_path: Path,
    recorder: Recorder,
    small_multipart: None,
) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 123)
    (tmp_path / "big.bin").write_bytes(data)

    repo.log_artifact(tmp_path / "big.bin")

    paths = recorder.paths()
    assert paths[:2] == [
        "/api/3.0/mlflow/server-info",
        "/api/2.0/mlflow-artifacts/mpu/create/1/run/artifacts",
    ]
    assert sorted(p.rsplit("/", 1)[1] for p in paths[2:-1] if "/mpu/part/" in p) == list("1234")
    assert paths[-1] == "/api/2.0/mlflow-artifacts/mpu/complete/1/run/artifacts"
    assert len(paths) == 7
    assert (dest / "1/run/artifacts/big.bin").read_bytes() == data
    assert not [p for p in (dest / STAGING).rglob("*") if p.is_file()]


def test_small_files_never_ask_for_multipart(
    repo: ProxyArtifactRepository, tmp_path: Path, recorder: Recorder, small_multipart: None
) -> None:
    (tmp_path / "small.txt").write_bytes(b"x" * 999)

    repo.log_artifact(tmp_path / "small.txt")

    assert recorder.paths() == ["/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/small.txt"]


def test_a_server_without_multipart_gets_a_plain_put(
    repo: ProxyArtifactRepository,
    dest: Path,
    tmp_path: Path,
    recorder: Recorder,
    server: tuple[str, ServerSettings],
    small_multipart: None,
) -> None:
    server[1].allow_multipart = False
    (tmp_path / "big.bin").write_bytes(b"y" * 5000)

    repo.log_artifact(tmp_path / "big.bin")

    assert recorder.paths("PUT") == ["/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/big.bin"]
    assert not [p for p in recorder.paths() if "/mpu/" in p]
    assert (dest / "1/run/artifacts/big.bin").read_bytes() == b"y" * 5000


def test_a_501_on_create_falls_back_to_a_plain_put(
    repo: ProxyArtifactRepository,
    dest: Path,
    tmp_path: Path,
    recorder: Recorder,
    server: tuple[str, ServerSettings],
    small_multipart: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server[1].allow_multipart = False
    monkeypatch.setattr(ProxyArtifactRepository, "_multipart_enabled", lambda self: True)
    (tmp_path / "big.bin").write_bytes(b"z" * 5000)

    repo.log_artifact(tmp_path / "big.bin")

    assert recorder.paths("POST") == ["/api/2.0/mlflow-artifacts/mpu/create/1/run/artifacts"]
    assert (dest / "1/run/artifacts/big.bin").read_bytes() == b"z" * 5000


def test_a_failed_part_aborts_the_upload(
    repo: ProxyArtifactRepository,
    dest: Path,
    tmp_path: Path,
    recorder: Recorder,
    small_multipart: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "big.bin").write_bytes(os.urandom(2 * CHUNK_SIZE + 1))
    real_put_part = ProxyArtifactRepository._put_part

    def flaky(self: ProxyArtifactRepository, url: str, *args: Any) -> str:
        if url.endswith("/2"):
            raise OSError("disk read error")
        return real_put_part(self, url, *args)

    monkeypatch.setattr(ProxyArtifactRepository, "_put_part", flaky)

    with pytest.raises(OSError, match="disk read error"):
        repo.log_artifact(tmp_path / "big.bin")

    assert recorder.paths()[-1] == "/api/2.0/mlflow-artifacts/mpu/abort/1/run/artifacts"
    assert not (dest / "1/run/artifacts/big.bin").exists()
    assert not [p for p in (dest / STAGING).rglob("*") if p.is_file()]


def test_credentials_reach_the_server_but_not_foreign_part_urls(
    repo: ProxyArtifactRepository,
    recorder: Recorder,
    no_credentials: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    no_credentials.setenv("CAIRN_TRACKING_TOKEN", "secret-token")
    repo.log_bytes(b"x", "a.txt")
    assert recorder.requests[-1].headers["Authorization"] == "Bearer secret-token"

    seen: list[httpx.Request] = []

    def cloud(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"ETag": '"abc"'})

    (tmp_path / "part").write_bytes(b"data")
    with httpx.Client(transport=httpx.MockTransport(cloud)) as foreign:
        repo._client = foreign
        etag = repo._put_part(
            "https://bucket.s3.example/key?sig=1", {"x-amz-a": "b"}, str(tmp_path / "part"), 0, 4
        )

    assert etag == '"abc"'
    assert "Authorization" not in seen[0].headers
    assert seen[0].headers["x-amz-a"] == "b"
    assert seen[0].content == b"data"


# -- errors and retries (a scripted server) -------------------------------------------------------


def scripted(
    *answers: httpx.Response | Exception,
) -> tuple[ProxyArtifactRepository, list[httpx.Request]]:
    """A repository whose server gives ``answers`` in turn (the last one forever)."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = httpx.Client(transport=httpx.MockTransport(handle))
    repo = ProxyArtifactRepository(ROOT, "http://h", client=client, max_retries=3, backoff_factor=0)
    return repo, seen


def test_5xx_answers_are_retried_then_succeed() -> None:
    repo, seen = scripted(httpx.Response(502), httpx.Response(503), httpx.Response(200, json={}))

    repo.log_bytes(b"x", "a.txt")

    assert len(seen) == 3
    assert all(r.content == b"x" for r in seen)


def test_connection_errors_are_retried_a_bounded_number_of_times() -> None:
    repo, seen = scripted(httpx.ConnectError("refused"))

    with pytest.raises(TrackingServerUnavailable, match="4 attempts"):
        repo.list_artifacts()
    assert len(seen) == 4


def test_a_file_upload_is_resent_whole_after_a_dropped_connection(tmp_path: Path) -> None:
    repo, seen = scripted(httpx.WriteError("reset"), httpx.Response(200, json={}))
    (tmp_path / "f.bin").write_bytes(b"0123456789" * 1000)

    repo.log_artifact(tmp_path / "f.bin")

    assert len(seen) == 2
    assert seen[-1].content == b"0123456789" * 1000
    assert seen[-1].headers["Content-Length"] == "10000"


def test_an_unreachable_server_is_a_clear_error() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    repo = ProxyArtifactRepository(
        ROOT, f"http://127.0.0.1:{port}", max_retries=1, backoff_factor=0
    )

    with pytest.raises(TrackingServerUnavailable, match="reachable"):
        repo.log_bytes(b"x", "a.txt")


def test_a_server_without_artifact_serving_fails_at_once() -> None:
    text = "Endpoint /x is disabled (--no-serve-artifacts). Start it with --serve-artifacts"
    repo, seen = scripted(httpx.Response(503, text=text))

    with pytest.raises(TrackingServerUnavailable, match="does not serve artifacts"):
        repo.log_bytes(b"x", "a.txt")
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (
            httpx.Response(
                400, json={"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}
            ),
            InvalidParameter,
        ),
        (
            httpx.Response(404, json={"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "gone"}),
            ArtifactNotFound,
        ),
        (httpx.Response(404, text="<html>not found</html>"), EndpointNotFound),
        (httpx.Response(401, text="login"), Unauthenticated),
        (
            httpx.Response(403, json={"error_code": "PERMISSION_DENIED", "message": "no"}),
            PermissionDenied,
        ),
        (httpx.Response(500, text="boom"), TrackingServerUnavailable),
    ],
)
def test_error_answers_become_cairn_errors(answer: httpx.Response, error: type[Exception]) -> None:
    repo, _ = scripted(answer)

    with pytest.raises(error):
        repo._open_file("a.txt")


def test_unsafe_names_in_a_listing_are_ignored(caplog: pytest.LogCaptureFixture) -> None:
    files = [
        {"path": "ok.txt", "is_dir": False, "file_size": 3},
        {"path": "../../etc/passwd", "is_dir": False, "file_size": 1},
        {"path": "a/b", "is_dir": False, "file_size": 1},
        {"path": "", "is_dir": True},
        "garbage",
    ]
    repo, _ = scripted(httpx.Response(200, json={"files": files}))

    assert repo.list_artifacts() == [FileInfo("ok.txt", False, 3)]
    assert "unsafe artifact name" in caplog.text


def test_a_download_cut_mid_body_starts_over(tmp_path: Path) -> None:
    def cut() -> Iterator[bytes]:
        yield b"partial"
        raise httpx.ReadError("connection reset")

    listing = httpx.Response(
        200, json={"files": [{"path": "f.bin", "is_dir": False, "file_size": 8}]}
    )
    repo, seen = scripted(
        listing,
        httpx.Response(200, content=cut()),
        httpx.Response(200, content=b"complete"),
    )

    target = repo.download_artifacts("f.bin", tmp_path)

    assert Path(target).read_bytes() == b"complete"
    assert [r.method for r in seen] == ["GET", "GET", "GET"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


def test_bad_retry_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAIRN_HTTP_MAX_RETRIES", "many")

    with pytest.raises(InvalidParameter, match="CAIRN_HTTP_MAX_RETRIES"):
        ProxyArtifactRepository(ROOT, "http://h")
