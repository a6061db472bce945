"""The artifact proxy routes (``/api/2.0/mlflow-artifacts/...``) and the UI's artifact routes.

Most tests run the app in-process (``InProcessTransport``); raw ``..`` paths (which httpx
would normalize away) and the large streamed upload go through a real uvicorn server in a
thread. The S3 tests put the destination on moto's S3-compatible server.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from cairn.artifacts import FsspecArtifactRepository, LocalArtifactRepository
from cairn.artifacts.base import CHUNK_SIZE, ArtifactRepository, ArtifactWriter
from cairn.server import ServerSettings, create_app
from cairn.server.routes.artifacts import STAGING
from cairn.server.testing import InProcessTransport
from cairn.store.base import TrackingStore

A = "/api/2.0/mlflow-artifacts"
ART = f"{A}/artifacts"
RUN = "1/run/artifacts"


# -- fixtures -----------------------------------------------------------------------------------


class RecordingRepository(LocalArtifactRepository):
    """A local destination that records the size of every piece written through a writer."""

    def __init__(self, root_uri: str) -> None:
        super().__init__(root_uri)
        self.writes: list[int] = []

    def _open_writer(self, rel: str) -> ArtifactWriter:
        return _RecordingWriter(super()._open_writer(rel), self.writes)


class _RecordingWriter(ArtifactWriter):
    def __init__(self, inner: ArtifactWriter, writes: list[int]) -> None:
        self.inner, self.writes = inner, writes

    def write(self, data: bytes) -> int:
        self.writes.append(len(data))
        return self.inner.write(data)

    def commit(self) -> None:
        self.inner.commit()

    def abort(self) -> None:
        self.inner.abort()


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "dest"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrackingStore]:
    """One tracking store for the module (creating a database is the slow part of a test);
    tests make experiments of their own, so they never see each other's runs."""
    folder = tmp_path_factory.mktemp("store") / "mlruns"
    store = ServerSettings.for_uri(str(folder)).tracking_store
    yield store
    store.close()


@pytest.fixture
def settings(store: TrackingStore, dest: Path) -> ServerSettings:
    return ServerSettings(tracking_store=store, artifacts=RecordingRepository(dest.as_uri()))


@contextlib.contextmanager
def in_process(settings: ServerSettings) -> Iterator[httpx.Client]:
    transport = InProcessTransport(create_app(settings))
    with httpx.Client(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def client(settings: ServerSettings) -> Iterator[httpx.Client]:
    with in_process(settings) as client:
        yield client


@contextlib.contextmanager
def running_uvicorn(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a free loopback port; yields its URL."""
    # Port 0 lets the OS pick (no race with other tests); the bound port is read back below.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def raw(url: str, method: str, path: str, body: bytes | None = None) -> httpx.Response:
    """A request whose path reaches the server byte for byte (httpx normalizes ``..``)."""
    parts = httpx.URL(url)
    conn = http.client.HTTPConnection(parts.host, parts.port, timeout=30)
    try:
        conn.request(method, path, body=body)
        reply = conn.getresponse()
        return httpx.Response(reply.status, headers=dict(reply.getheaders()), content=reply.read())
    finally:
        conn.close()


def files_under(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "mlruns" not in p.parts
    }


def assert_error(response: httpx.Response, status: int, code: str, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert body["error_code"] == code, body
    for word in words:
        assert word in body["message"], body


# -- upload, download, list, delete --------------------------------------------------------------


def test_an_uploaded_file_downloads_as_an_attachment(client: httpx.Client, dest: Path) -> None:
    assert client.put(f"{ART}/{RUN}/notes/a.txt", content=b"hello").json() == {}

    response = client.get(f"{ART}/{RUN}/notes/a.txt")

    assert response.status_code == 200
    assert response.content == b"hello"
    assert response.headers["content-disposition"].startswith('attachment; filename="a.txt"')
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-length"] == "5"
    assert (dest / RUN / "notes" / "a.txt").read_bytes() == b"hello"


@pytest.mark.parametrize(
    ("wanted", "content_range", "body"),
    [
        ("bytes=0-3", "bytes 0-3/26", b"abcd"),
        ("bytes=20-", "bytes 20-25/26", b"uvwxyz"),
        ("bytes=-3", "bytes 23-25/26", b"xyz"),
        ("bytes=24-1000", "bytes 24-25/26", b"yz"),
    ],
)
def test_a_byte_range_is_a_206_with_only_those_bytes(
    client: httpx.Client, wanted: str, content_range: str, body: bytes
) -> None:
    client.put(f"{ART}/{RUN}/letters.txt", content=b"abcdefghijklmnopqrstuvwxyz")

    response = client.get(f"{ART}/{RUN}/letters.txt", headers={"Range": wanted})

    assert response.status_code == 206
    assert response.content == body
    assert response.headers["content-range"] == content_range
    assert response.headers["content-length"] == str(len(body))


@pytest.mark.parametrize("wanted", ["bytes=0-1,4-5", "lines=1-2", "bytes=5-2", "bytes=x-"])
def test_several_or_unreadable_ranges_get_the_whole_file(client: httpx.Client, wanted: str) -> None:
    client.put(f"{ART}/{RUN}/whole.txt", content=b"0123456789")

    response = client.get(f"{ART}/{RUN}/whole.txt", headers={"Range": wanted})

    assert response.status_code == 200
    assert response.content == b"0123456789"
    assert response.headers["accept-ranges"] == "bytes"


def test_a_range_past_the_end_is_416_with_the_size(client: httpx.Client) -> None:
    client.put(f"{ART}/{RUN}/short.txt", content=b"0123456789")

    response = client.get(f"{ART}/{RUN}/short.txt", headers={"Range": "bytes=10-"})

    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */10"
    assert "Range not satisfiable" in response.text


def test_an_upload_replaces_the_file(client: httpx.Client) -> None:
    client.put(f"{ART}/{RUN}/a.bin", content=b"old old old")
    client.put(f"{ART}/{RUN}/a.bin", content=b"new")

    assert client.get(f"{ART}/{RUN}/a.bin").content == b"new"


def test_a_tree_lists_level_by_level_with_base_names(client: httpx.Client) -> None:
    for path, data in [("a.txt", b"1"), ("d/b.txt", b"22"), ("d/e/c.txt", b"333")]:
        assert client.put(f"{ART}/{RUN}/{path}", content=data).status_code == 200

    top = client.get(ART, params={"path": RUN}).json()
    nested = client.get(ART, params={"path": f"{RUN}/d"}).json()

    assert sorted(top["files"], key=lambda f: f["path"]) == [
        {"path": "a.txt", "is_dir": False, "file_size": 1},
        {"path": "d", "is_dir": True},
    ]
    assert sorted(nested["files"], key=lambda f: f["path"]) == [
        {"path": "b.txt", "is_dir": False, "file_size": 2},
        {"path": "e", "is_dir": True},
    ]


def test_listing_a_missing_directory_or_a_file_is_empty(client: httpx.Client) -> None:
    client.put(f"{ART}/{RUN}/a.txt", content=b"1")

    assert client.get(ART, params={"path": "9/none"}).json() == {"files": []}
    assert client.get(ART, params={"path": f"{RUN}/a.txt"}).json() == {"files": []}


def test_the_destination_top_shows_only_experiment_folders(
    client: httpx.Client, dest: Path
) -> None:
    client.put(f"{ART}/{RUN}/a.txt", content=b"1")
    (dest / "cairn.db").write_bytes(b"SQLite format 3\0")

    assert client.get(ART).json() == {"files": [{"path": "1", "is_dir": True}]}
    for method in ("GET", "PUT", "DELETE"):
        response = client.request(method, f"{ART}/cairn.db", content=b"x")
        assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Invalid path")
    assert (dest / "cairn.db").read_bytes() == b"SQLite format 3\0"


def test_a_missing_file_is_404(client: httpx.Client) -> None:
    assert_error(client.get(f"{ART}/{RUN}/nope.txt"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_downloading_a_directory_is_400(client: httpx.Client) -> None:
    client.put(f"{ART}/{RUN}/d/a.txt", content=b"1")

    assert_error(client.get(f"{ART}/{RUN}/d"), 400, "INVALID_PARAMETER_VALUE", "directory")


def test_uploading_over_a_directory_is_400(client: httpx.Client) -> None:
    client.put(f"{ART}/{RUN}/d/a.txt", content=b"1")

    assert_error(client.put(f"{ART}/{RUN}/d", content=b"x"), 400, "INVALID_PARAMETER_VALUE")


def test_uploading_to_a_path_ending_in_a_slash_is_400_and_writes_nothing(
    client: httpx.Client, dest: Path
) -> None:
    answer = client.put(f"{ART}/{RUN}/dir/", content=b"x")
    assert_error(answer, 400, "INVALID_PARAMETER_VALUE", "include the file name")
    assert not (dest / RUN / "dir").exists()
    assert client.put(f"{ART}/{RUN}/dir/a.txt", content=b"1").status_code == 200


def test_delete_removes_a_file_or_a_tree_and_ignores_missing_ones(
    client: httpx.Client, dest: Path
) -> None:
    for path in ("a.txt", "d/b.txt", "d/e/c.txt"):
        client.put(f"{ART}/{RUN}/{path}", content=b"x")

    assert client.delete(f"{ART}/{RUN}/a.txt").json() == {}
    assert client.delete(f"{ART}/{RUN}/d").json() == {}
    assert client.delete(f"{ART}/{RUN}/never").json() == {}

    assert client.get(ART, params={"path": RUN}).json() == {"files": []}
    assert files_under(dest) == {}


def test_the_destination_root_cannot_be_deleted(client: httpx.Client, dest: Path) -> None:
    client.put(f"{ART}/{RUN}/a.txt", content=b"x")

    assert_error(client.delete(f"{ART}/"), 400, "INVALID_PARAMETER_VALUE", "Invalid path")
    assert (dest / RUN / "a.txt").exists()


def test_the_ajax_prefix_serves_the_same_files(client: httpx.Client) -> None:
    client.put(f"/ajax-api/2.0/mlflow-artifacts/artifacts/{RUN}/a.txt", content=b"ajax")

    assert client.get(f"{ART}/{RUN}/a.txt").content == b"ajax"


def test_active_content_is_served_as_plain_text(client: httpx.Client) -> None:
    client.put(f"{ART}/{RUN}/plot.html", content=b"<script>alert(1)</script>")

    response = client.get(f"{ART}/{RUN}/plot.html")

    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_an_awkward_file_name_round_trips(client: httpx.Client) -> None:
    name = 'my "notes" é 100%.txt'
    quoted = httpx.URL(f"http://x/{RUN}/").join(name.replace("%", "%25")).raw_path.decode()

    assert client.put(f"{ART}{quoted}", content=b"ok").status_code == 200

    assert [f["path"] for f in client.get(ART, params={"path": RUN}).json()["files"]] == [name]
    response = client.get(f"{ART}{quoted}")
    assert response.content == b"ok"
    assert (
        "filename*=UTF-8''my%20%22notes%22%20%C3%A9%20100%25.txt"
        in (response.headers["content-disposition"])
    )


# -- path safety ----------------------------------------------------------------------------------


ENCODED_ESCAPES = [
    "%2e%2e/{name}",
    "%2E%2E/%2e%2e/{name}",
    "1/run/%2e%2e/%2e%2e/%2e%2e/{name}",
    "%252e%252e/{name}",
    "%25252e%25252e/{name}",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "a%5Cb",
    "..%5c{name}",
    "a%23b",
    "1/r/a%23b/c.txt",
    "C:/{name}",
]


@pytest.mark.parametrize("method", ["PUT", "GET", "DELETE"])
@pytest.mark.parametrize("template", ENCODED_ESCAPES)
def test_an_escaping_path_is_400_and_touches_nothing(
    client: httpx.Client, tmp_path: Path, method: str, template: str
) -> None:
    bait = tmp_path / "bait.txt"
    bait.write_text("secret")
    before = files_under(tmp_path)

    response = client.request(
        method, f"{ART}/{template.format(name='bait.txt')}", content=b"overwritten"
    )

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Invalid path")
    assert "secret" not in response.text
    assert files_under(tmp_path) == before


@pytest.mark.parametrize(
    "path", ["..", "../x", "/etc", "%2e%2e/x", "%252e%252e", "a\\b", "a#b", STAGING]
)
def test_listing_an_escaping_path_is_400(client: httpx.Client, path: str) -> None:
    assert_error(
        client.get(ART, params={"path": path}), 400, "INVALID_PARAMETER_VALUE", "Invalid path"
    )


def test_literal_dot_dot_segments_are_400_on_a_real_server(
    settings: ServerSettings, tmp_path: Path
) -> None:
    bait = tmp_path / "bait.txt"
    bait.write_text("secret")
    before = files_under(tmp_path)
    with running_uvicorn(create_app(settings)) as url:
        escapes = ["../bait.txt", "1/../../bait.txt", f"{RUN}/../../../../bait.txt", "..%2fx"]
        for path in [*escapes, f"{RUN}/a%23b/../../../../../bait.txt"]:
            for method in ("PUT", "GET", "DELETE"):
                response = raw(url, method, f"{ART}/{path}", b"x" if method == "PUT" else None)
                assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Invalid path")
            listing = raw(url, "GET", f"{ART}?path={path}")
            assert_error(listing, 400, "INVALID_PARAMETER_VALUE", "Invalid path")
    assert files_under(tmp_path) == before


def test_the_multipart_staging_folder_is_not_reachable(client: httpx.Client) -> None:
    for method in ("PUT", "GET", "DELETE"):
        response = client.request(method, f"{ART}/{STAGING}/x/manifest.json", content=b"{}")
        assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Invalid path")


# -- serving off ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{ART}/{RUN}/a.txt"),
        ("PUT", f"{ART}/{RUN}/a.txt"),
        ("DELETE", f"{ART}/{RUN}/a.txt"),
        ("GET", ART),
        ("POST", f"{A}/mpu/create/{RUN}"),
        ("PUT", f"{A}/mpu/part/{'0' * 32}/1"),
        ("POST", f"{A}/mpu/complete/{RUN}"),
        ("POST", f"{A}/mpu/abort/{RUN}"),
    ],
)
def test_every_proxy_route_is_503_with_a_text_body_when_artifacts_are_off(
    settings: ServerSettings, method: str, path: str
) -> None:
    settings.artifacts = None
    with in_process(settings) as client:
        response = client.request(method, path, content=b"x")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/plain")
    assert "serve-artifacts" in response.text


# -- streaming ------------------------------------------------------------------------------------


def test_a_50_mb_upload_streams_through_in_bounded_pieces(settings: ServerSettings) -> None:
    size, piece = 50 * 1024 * 1024, os.urandom(64 * 1024)
    expected = hashlib.sha256()

    def body() -> Iterator[bytes]:
        for _ in range(size // len(piece)):
            expected.update(piece)
            yield piece

    assert isinstance(settings.artifacts, RecordingRepository)
    with running_uvicorn(create_app(settings)) as url, httpx.Client(base_url=url) as http:
        headers = {"Content-Length": str(size)}
        assert http.put(f"{ART}/{RUN}/big.bin", content=body(), headers=headers).json() == {}
        got = hashlib.sha256()
        largest = 0
        with http.stream("GET", f"{ART}/{RUN}/big.bin") as response:
            assert response.headers["content-length"] == str(size)
            for chunk in response.iter_raw():
                largest = max(largest, len(chunk))
                got.update(chunk)

    writes = settings.artifacts.writes
    assert sum(writes) == size
    assert max(writes) <= CHUNK_SIZE  # never more than a chunk held for one write
    assert len(writes) >= size // CHUNK_SIZE
    assert got.hexdigest() == expected.hexdigest()
    assert largest <= CHUNK_SIZE


def test_an_interrupted_upload_publishes_nothing(settings: ServerSettings, dest: Path) -> None:
    assert isinstance(settings.artifacts, RecordingRepository)
    writes = settings.artifacts.writes
    with running_uvicorn(create_app(settings)) as url:
        conn = http.client.HTTPConnection(httpx.URL(url).host, httpx.URL(url).port, timeout=10)
        conn.putrequest("PUT", f"{ART}/{RUN}/cut.bin")
        conn.putheader("Content-Length", str(10 * CHUNK_SIZE))
        conn.endheaders()
        conn.send(b"x" * (3 * CHUNK_SIZE))
        conn.close()
        deadline = time.monotonic() + 10
        # The server received data, then noticed the disconnect and dropped its temp file.
        while sum(writes) < 3 * CHUNK_SIZE or [p for p in dest.rglob("*") if p.is_file()]:
            assert time.monotonic() < deadline, list(dest.rglob("*"))
            time.sleep(0.02)

    assert not (dest / RUN / "cut.bin").exists()


# -- multipart --------------------------------------------------------------------------------------


def start_upload(client: httpx.Client, name: str, num_parts: int) -> dict[str, Any]:
    response = client.post(f"{A}/mpu/create/{RUN}", json={"path": name, "num_parts": num_parts})
    assert response.status_code == 200, response.text
    return dict(response.json())


def put_parts(client: httpx.Client, created: dict[str, Any], data: list[bytes]) -> list[Any]:
    parts = []
    for credential, chunk in zip(created["credentials"], data, strict=False):
        response = client.put(credential["url"], content=chunk, headers=credential["headers"])
        assert response.status_code == 200, response.text
        parts.append(
            {
                "part_number": credential["part_number"],
                "etag": response.headers["ETag"],
                "url": credential["url"],
            }
        )
    return parts


def test_a_multipart_upload_joins_its_parts_in_order(client: httpx.Client, dest: Path) -> None:
    data = [os.urandom(1000), os.urandom(2000), b"tail"]
    created = start_upload(client, "big.bin", 3)
    assert [c["part_number"] for c in created["credentials"]] == [1, 2, 3]
    assert all(
        c["url"].startswith(f"http://testserver{A}/mpu/part/{created['upload_id']}/")
        for c in created["credentials"]
    )
    parts = put_parts(client, created, data)

    body = {"path": "big.bin", "upload_id": created["upload_id"], "parts": parts[::-1]}
    assert client.post(f"{A}/mpu/complete/{RUN}", json=body).json() == {}

    assert client.get(f"{ART}/{RUN}/big.bin").content == b"".join(data)
    assert not list((dest / STAGING).rglob("*"))
    assert client.get(ART).json() == {"files": [{"path": "1", "is_dir": True}]}


def test_uploads_abandoned_for_a_week_are_removed_when_another_starts(
    client: httpx.Client, settings: ServerSettings, dest: Path
) -> None:
    """A client that dies mid-upload neither completes nor aborts: its parts must not stay."""
    ages = {"abandoned": 8 * 24 * 3600, "recent": 24 * 3600}
    uploads = {}
    for name, age in ages.items():
        created = start_upload(client, f"{name}.bin", 1)
        put_parts(client, created, [b"part"])
        manifest = dest / STAGING / created["upload_id"] / "manifest.json"
        data = json.loads(manifest.read_text())
        manifest.write_text(json.dumps({**data, "created": data["created"] - age}))
        uploads[name] = created["upload_id"]

    with in_process(settings) as restarted:  # a server started later: it sweeps at once
        newest = start_upload(restarted, "new.bin", 1)["upload_id"]
    staged = {p.name for p in (dest / STAGING).iterdir()}
    assert staged == {uploads["recent"], newest}
    part = {"part_number": 1, "etag": ""}
    body = {"path": "abandoned.bin", "upload_id": uploads["abandoned"], "parts": [part]}
    assert_error(client.post(f"{A}/mpu/complete/{RUN}", json=body), 404, "RESOURCE_DOES_NOT_EXIST")


def test_an_aborted_multipart_upload_leaves_nothing(client: httpx.Client, dest: Path) -> None:
    created = start_upload(client, "big.bin", 2)
    put_parts(client, created, [b"a", b"b"])
    body = {"path": "big.bin", "upload_id": created["upload_id"]}

    assert client.post(f"{A}/mpu/abort/{RUN}", json=body).json() == {}
    assert client.post(f"{A}/mpu/abort/{RUN}", json=body).json() == {}  # idempotent

    assert not list((dest / STAGING).rglob("*"))
    assert not (dest / RUN / "big.bin").exists()
    completed = client.post(f"{A}/mpu/complete/{RUN}", json={**body, "parts": []})
    assert completed.status_code == 400


def test_a_part_that_does_not_match_its_etag_fails_the_upload(
    client: httpx.Client, dest: Path
) -> None:
    created = start_upload(client, "big.bin", 2)
    parts = put_parts(client, created, [b"a", b"b"])
    parts[1]["etag"] = '"' + "0" * 32 + '"'
    body = {"path": "big.bin", "upload_id": created["upload_id"], "parts": parts}

    assert_error(client.post(f"{A}/mpu/complete/{RUN}", json=body), 400, "INVALID_PARAMETER_VALUE")
    assert not (dest / RUN / "big.bin").exists()


def test_completing_with_a_part_never_uploaded_fails(client: httpx.Client, dest: Path) -> None:
    created = start_upload(client, "big.bin", 2)
    parts = [*put_parts(client, created, [b"a"]), {"part_number": 2, "etag": "", "url": ""}]
    body = {"path": "big.bin", "upload_id": created["upload_id"], "parts": parts}

    assert_error(
        client.post(f"{A}/mpu/complete/{RUN}", json=body),
        400,
        "INVALID_PARAMETER_VALUE",
        "never uploaded",
    )
    assert not (dest / RUN / "big.bin").exists()


def test_an_upload_id_completes_only_its_own_file(client: httpx.Client) -> None:
    created = start_upload(client, "big.bin", 1)
    parts = put_parts(client, created, [b"a"])
    body = {"path": "other.bin", "upload_id": created["upload_id"], "parts": parts}

    assert_error(client.post(f"{A}/mpu/complete/{RUN}", json=body), 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize(
    ("upload_id", "number", "status"),
    [
        ("not-hex", "1", 400),
        ("../../../etc", "1", 404),  # never reaches the route: two extra segments
        ("0" * 32, "1", 404),
        ("VALID", "0", 400),
        ("VALID", "3", 400),
        ("VALID", "x", 400),
        ("VALID", "²", 400),
    ],
)
def test_a_bad_part_upload_is_a_client_error(
    client: httpx.Client, upload_id: str, number: str, status: int
) -> None:
    created = start_upload(client, "big.bin", 2)
    upload_id = created["upload_id"] if upload_id == "VALID" else upload_id

    response = client.put(f"{A}/mpu/part/{upload_id}/{number}", content=b"x")

    assert response.status_code == status, response.text
    assert "error_code" in response.json()


@pytest.mark.parametrize(
    "body",
    [
        {"path": "..", "num_parts": 1},
        {"path": "/tmp/..", "num_parts": 1},
        {"path": "%2e%2e", "num_parts": 1},
        {"path": "a#b", "num_parts": 1},
        {"path": "", "num_parts": 1},
        {"path": "dir/", "num_parts": 1},
        {"path": "x.bin", "num_parts": 0},
        {"path": "x.bin", "num_parts": 10_001},
        {"num_parts": 1},
    ],
)
def test_a_bad_multipart_create_is_400(client: httpx.Client, body: dict[str, Any]) -> None:
    response = client.post(f"{A}/mpu/create/{RUN}", json=body)

    assert_error(response, 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize("local", ["/home/me/big.bin", "C:\\Users\\me\\big.bin", "big.bin"])
def test_a_multipart_upload_is_named_by_the_base_name_of_the_clients_file(
    client: httpx.Client, dest: Path, local: str
) -> None:
    # MLflow's client sends the local path of the file it uploads.
    created = start_upload(client, local, 1)
    parts = put_parts(client, created, [b"data"])
    body = {"path": local, "upload_id": created["upload_id"], "parts": parts}

    assert client.post(f"{A}/mpu/complete/{RUN}", json=body).json() == {}
    assert (dest / RUN / "big.bin").read_bytes() == b"data"


def test_multipart_create_escaping_through_the_url_is_400(client: httpx.Client) -> None:
    response = client.post(f"{A}/mpu/create/%2e%2e/x", json={"path": "a.bin", "num_parts": 1})

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Invalid path")


def test_multipart_create_is_501_when_the_server_disallows_it(settings: ServerSettings) -> None:
    settings.allow_multipart = False
    with in_process(settings) as client:
        response = client.post(f"{A}/mpu/create/{RUN}", json={"path": "a.bin", "num_parts": 1})
        info = client.get("/api/3.0/mlflow/server-info").json()

    assert_error(response, 501, "NOT_IMPLEMENTED", "Multipart upload is not supported")
    assert info["multipart_uploads_enabled"] is False


def test_the_real_mlflow_client_uploads_in_parts(
    settings: ServerSettings,
    dest: Path,
    tmp_path: Path,
    mlflow_state: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mlflow

    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", "1000")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(CHUNK_SIZE))
    seen: list[str] = []
    app = create_app(settings)

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope.get("path", ""))
        await app(scope, receive, send)

    data = os.urandom(3 * CHUNK_SIZE + 17)
    (tmp_path / "weights.bin").write_bytes(data)
    with running_uvicorn(recording) as url:
        mlflow.set_tracking_uri(url)
        with mlflow.start_run() as run:
            mlflow.log_artifact(str(tmp_path / "weights.bin"))
        experiment = run.info.experiment_id

    assert sum("/mpu/part/" in path for path in seen) == 4
    assert any(path.startswith(f"{A}/mpu/complete/") for path in seen)
    stored = dest / experiment / run.info.run_id / "artifacts" / "weights.bin"
    assert stored.read_bytes() == data


# -- UI routes ------------------------------------------------------------------------------------


def new_run(settings: ServerSettings, artifact_location: str | None = None) -> tuple[str, str]:
    store = settings.tracking_store
    experiment = store.create_experiment(f"e-{uuid.uuid4().hex[:8]}", artifact_location)
    run = store.create_run(experiment, user_id="u", start_time=0)
    return run.info.run_id, run.info.artifact_uri


def test_get_artifact_streams_a_proxied_run_artifact(
    client: httpx.Client, settings: ServerSettings
) -> None:
    run_id, uri = new_run(settings)
    assert uri.startswith("mlflow-artifacts:/")
    root = uri.removeprefix("mlflow-artifacts:/")
    client.put(f"{ART}/{root}/plots/loss.csv", content=b"step,loss\n")

    response = client.get("/get-artifact", params={"run_id": run_id, "path": "plots/loss.csv"})

    assert response.status_code == 200
    assert response.content == b"step,loss\n"
    assert response.headers["content-disposition"].startswith("attachment")
    head = client.get(
        "/get-artifact",
        params={"run_id": run_id, "path": "plots/loss.csv"},
        headers={"Range": "bytes=0-3"},
    )
    assert (head.status_code, head.content) == (206, b"step")


def test_get_artifact_reads_a_run_with_its_own_location(
    client: httpx.Client, settings: ServerSettings, tmp_path: Path
) -> None:
    run_id, uri = new_run(settings, (tmp_path / "elsewhere").as_uri())
    LocalArtifactRepository(uri).log_bytes(b"local", "a.txt")

    response = client.get("/get-artifact", params={"run_id": run_id, "path": "a.txt"})

    assert response.content == b"local"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"path": "a.txt"}, 400),  # no run id
        ({"run_id": "0" * 32, "path": "a.txt"}, 404),
        ({"run_id": "RUN", "path": "../../x"}, 400),
        ({"run_id": "RUN", "path": "%2e%2e/x"}, 400),
        ({"run_id": "RUN", "path": "missing.txt"}, 404),
        ({"run_id": "RUN", "path": ""}, 400),  # the root is a directory
    ],
)
def test_get_artifact_errors_are_protocol_errors(
    client: httpx.Client, settings: ServerSettings, params: dict[str, str], status: int
) -> None:
    run_id, uri = new_run(settings)
    client.put(f"{ART}/{uri.removeprefix('mlflow-artifacts:/')}/a.txt", content=b"x")
    params = {k: run_id if v == "RUN" else v for k, v in params.items()}

    response = client.get("/get-artifact", params=params)

    assert response.status_code == status, response.text
    assert "error_code" in response.json()


def test_get_artifact_never_fetches_from_another_server(
    client: httpx.Client, settings: ServerSettings
) -> None:
    run_id, _ = new_run(settings, "http://169.254.169.254/api/2.0/mlflow-artifacts/artifacts/x")

    response = client.get("/get-artifact", params={"run_id": run_id, "path": "a.txt"})

    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "another server")


@pytest.mark.parametrize("prefix", ["/ajax-api", "/api"])
def test_the_list_rpc_gives_paths_relative_to_the_run_root(
    client: httpx.Client, settings: ServerSettings, prefix: str
) -> None:
    run_id, uri = new_run(settings)
    root = uri.removeprefix("mlflow-artifacts:/")
    for path in ("a.txt", "model/MLmodel", "model/data/w.bin"):
        client.put(f"{ART}/{root}/{path}", content=b"12")
    url = f"{prefix}/2.0/mlflow/artifacts/list"

    top = client.get(url, params={"run_id": run_id}).json()
    model = client.get(url, params={"run_id": run_id, "path": "model"}).json()

    assert top["root_uri"] == uri
    assert sorted(top["files"], key=lambda f: f["path"]) == [
        {"path": "a.txt", "is_dir": False, "file_size": 2},
        {"path": "model", "is_dir": True},
    ]
    assert sorted(f["path"] for f in model["files"]) == ["model/MLmodel", "model/data"]
    escape = client.get(url, params={"run_id": run_id, "path": "../.."})
    assert_error(escape, 400, "INVALID_PARAMETER_VALUE")


# -- S3 ---------------------------------------------------------------------------------------------


@pytest.fixture
def s3_client(settings: ServerSettings, s3_endpoint: str) -> Iterator[httpx.Client]:
    prefix = f"s3://cairn/{uuid.uuid4().hex[:8]}"
    settings.artifacts = FsspecArtifactRepository(
        prefix, client_kwargs={"endpoint_url": s3_endpoint}
    )
    with in_process(settings) as client:
        yield client


def s3_keys(repo: ArtifactRepository | None) -> list[str]:
    assert isinstance(repo, FsspecArtifactRepository)
    fs = repo._fs
    fs.invalidate_cache()
    return sorted(k.split("/", 2)[2] for k in fs.find(repo._root))


def test_upload_list_download_and_delete_on_s3(
    s3_client: httpx.Client, settings: ServerSettings
) -> None:
    big = os.urandom(3 * CHUNK_SIZE + 5)
    for path, data in [("a.txt", b"small"), ("d/big.bin", big), ("d/e/c.txt", b"c")]:
        assert s3_client.put(f"{ART}/{RUN}/{path}", content=data).status_code == 200

    listing = s3_client.get(ART, params={"path": RUN}).json()
    assert sorted(listing["files"], key=lambda f: f["path"]) == [
        {"path": "a.txt", "is_dir": False, "file_size": 5},
        {"path": "d", "is_dir": True},
    ]
    assert s3_client.get(f"{ART}/{RUN}/d/big.bin").content == big
    assert_error(s3_client.get(f"{ART}/{RUN}/missing"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(s3_client.get(f"{ART}/{RUN}/d"), 400, "INVALID_PARAMETER_VALUE")

    assert s3_client.delete(f"{ART}/{RUN}/d").json() == {}
    assert s3_keys(settings.artifacts) == [f"{RUN}/a.txt"]


def test_a_multipart_upload_on_s3(s3_client: httpx.Client, settings: ServerSettings) -> None:
    data = [os.urandom(CHUNK_SIZE + 1), b"second", b"third"]
    created = start_upload(s3_client, "joined.bin", 3)
    parts = put_parts(s3_client, created, data)
    body = {"path": "joined.bin", "upload_id": created["upload_id"], "parts": parts}

    assert s3_client.post(f"{A}/mpu/complete/{RUN}", json=body).json() == {}

    assert s3_client.get(f"{ART}/{RUN}/joined.bin").content == b"".join(data)
    assert s3_keys(settings.artifacts) == [f"{RUN}/joined.bin"]
    middle = s3_client.get(f"{ART}/{RUN}/joined.bin", headers={"Range": f"bytes={CHUNK_SIZE}-"})
    assert (middle.status_code, middle.content) == (206, b"".join(data)[CHUNK_SIZE:])


def test_escapes_are_refused_with_an_s3_destination(
    s3_client: httpx.Client, settings: ServerSettings
) -> None:
    for path in ["%2e%2e/x", "%252e%252e/x", "a%5Cb", "a%23b"]:
        response = s3_client.put(f"{ART}/{path}", content=b"x")
        assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Invalid path")
    assert s3_keys(settings.artifacts) == []
