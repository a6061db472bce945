"""Property-based fuzzing of ``cairn server`` from its published OpenAPI document.

schemathesis reads ``/api/2.0/cairn/openapi.json`` from a running server (the document is
built from the RPC declarations in ``cairn.server.rpc``, ``openapi`` and ``schemas``),
generates requests for every operation, valid ones and invalid ones, and checks each answer:
never a 5xx, only the documented status codes, and a body that matches the documented schema
(the success shape or the protocol's error shape).

The server is a process of its own: fuzzed requests rename, delete and tag whatever ids they
guess, which must not disturb the other tests. Generation is derandomized, so every run sends
the same requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from cairn.server import openapi
from tests.server.conftest import Server, running_server

pytestmark = pytest.mark.slow

OPENAPI_PATH = "/api/2.0/cairn/openapi.json"
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
MAX_EXAMPLES = 25

# The operations, for the test ids; each test fetches its operation from the live server's
# document. (schemathesis' own lazy pytest loader does not work with this pytest.)
OPERATIONS = sorted(
    (path, method.upper()) for path, item in openapi.document()["paths"].items() for method in item
)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir: Path = tmp_path_factory.mktemp("cairn-fuzz")
    with running_server(workdir, str(workdir / "mlruns")) as running:
        yield running


@pytest.fixture(scope="module")
def api_schema(fuzz_server: Server) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{fuzz_server.url}{OPENAPI_PATH}")
    schema.config.update(base_url=fuzz_server.url, request_timeout=30)
    return schema


def test_the_published_document_lists_every_declared_operation(
    api_schema: schemathesis.BaseSchema,
) -> None:
    published = sorted(
        (path, method.upper())
        for path, item in api_schema.raw_schema["paths"].items()
        for method in item
    )
    assert published == OPERATIONS
    assert published, "no operations published"


@pytest.mark.parametrize(
    "mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_an_operation_answers_within_its_documented_contract(
    api_schema: schemathesis.BaseSchema,
    fuzz_server: Server,
    path: str,
    method: str,
    mode: schemathesis.GenerationMode,
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=fuzz_server.url, checks=CHECKS, timeout=30)

    fuzz()
