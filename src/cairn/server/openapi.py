"""The OpenAPI document of the protocol, built from the RPC declarations.

Served at ``/api/2.0/cairn/openapi.json``. Request schemas come from the pydantic messages,
response schemas from :mod:`.schemas`; every operation also documents the protocol's error
shape for 4xx answers.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from cairn._version import __version__
from cairn.server import rpc
from cairn.server.messages import Message
from cairn.server.schemas import COMPONENTS, EMPTY, ref


def _request_schema(spec: type[Message], defs: dict[str, Any]) -> dict[str, Any]:
    schema = spec.model_json_schema(by_alias=False, ref_template="#/components/schemas/{model}")
    defs.update(schema.pop("$defs", {}))
    return schema


def _query_parameters(schema: dict[str, Any], path_params: set[str]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        parameters.append(
            {
                "name": name,
                "in": "path" if name in path_params else "query",
                "required": name in required or name in path_params,
                "schema": prop,
                "style": "simple" if name in path_params else "form",
                "explode": name not in path_params,
            }
        )
    return parameters


@functools.cache
def document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document (built once per process)."""
    from cairn.server.routes import load_all

    load_all()
    defs: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    errors = {
        status: {
            "description": description,
            "content": {"application/json": {"schema": ref("Error")}},
        }
        for status, description in (
            ("400", "Invalid request"),
            ("404", "Not found"),
        )
    }
    for spec in rpc.RPCS:
        prefix = "/ajax-api" if spec.ajax_only else "/api"
        # Starlette's converters ("{tag_key:path}") are not OpenAPI syntax.
        route_path = re.sub(r"\{(\w+):\w+\}", r"{\1}", spec.path)
        path = f"{prefix}/{spec.version}{route_path}"
        path_params = {part[1:-1] for part in route_path.split("/") if part.startswith("{")}
        schema = _request_schema(spec.request, defs)
        operation: dict[str, Any] = {
            "operationId": f"{spec.handler.__name__}_{spec.method.lower()}",
            "summary": spec.summary,
            "responses": {
                "200": {
                    "description": "Success",
                    "content": {"application/json": {"schema": spec.response or EMPTY}},
                },
                **errors,
            },
        }
        if spec.method == "GET" or path_params:
            operation["parameters"] = _query_parameters(
                schema
                if spec.method == "GET"
                else {"properties": {p: {"type": "string"} for p in path_params}},
                path_params,
            )
        if spec.method != "GET":
            body = dict(schema)
            for p in path_params:
                body.get("properties", {}).pop(p, None)
                if p in body.get("required", []):
                    body["required"] = [r for r in body["required"] if r != p]
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": body}},
            }
        paths.setdefault(path, {})[spec.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "cairn tracking server",
            "version": __version__,
            "description": "MLflow's REST protocol for tracking, as served by cairn.",
        },
        "paths": paths,
        "components": {"schemas": {**COMPONENTS, **defs}},
    }
