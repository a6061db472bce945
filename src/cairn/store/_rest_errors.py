"""Error answers of a tracking server, rebuilt as cairn's error classes.

A JSON error body (``{"error_code": ..., "message": ...}``) becomes the class of its code
(:func:`cairn.errors.error_from_code`), keeping the server's message. A body that is not JSON
(a proxy's HTML page, an empty 404) gets its code from the HTTP status, as MLflow's client
does: 404 is ``ENDPOINT_NOT_FOUND``, 401 ``UNAUTHENTICATED`` and so on.

The protocol has one code for every missing thing and one for every bad value, so
:func:`refine` narrows them using what the request was about: ``RESOURCE_DOES_NOT_EXIST`` on a
run's request is :class:`~cairn.errors.RunNotFound`, ``INVALID_PARAMETER_VALUE`` on a search
that is not about paging is :class:`~cairn.errors.InvalidFilter`, and so on. The narrowed classes
are subclasses of the broad ones, so ``except ResourceNotFound`` still catches them.

    >>> err = refine(error_from_code("RESOURCE_DOES_NOT_EXIST", "Run 'ab' not found"), run_id="ab")
    >>> type(err).__name__, err.run_id
    ('RunNotFound', 'ab')
"""

from __future__ import annotations

import json
import re

import httpx

from cairn.errors import (
    CairnError,
    ExperimentNotFound,
    InvalidFilter,
    InvalidParameter,
    InvalidTrackingUri,
    ParamValueChanged,
    RunNotFound,
    StoreError,
    error_from_code,
)

__all__ = ["error_from_response", "from_code", "refine"]

#: Error codes for bodies that carry none, by HTTP status (MLflow's client's table).
STATUS_CODES: dict[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "ENDPOINT_NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_SERVER_FAULTS = frozenset({"INTERNAL_ERROR", "DATA_LOSS"})
_BAD_REQUESTS = frozenset({"BAD_REQUEST", "MALFORMED_REQUEST"})
_POSITION = re.compile(r"at position (\d+)")
_PARAM_KEY = re.compile(r"Param (?:with key=)?'([^']*)'")
#: What a search's INVALID_PARAMETER_VALUE is about when it is not the filter or ordering.
_NOT_THE_FILTER = re.compile(r"max_results|page.?token|view.?type", re.IGNORECASE)


def from_code(code: str, message: str) -> CairnError:
    """The error for a protocol code. A server fault (``INTERNAL_ERROR``) is a
    :class:`~cairn.errors.StoreError`, since it may pass when retried later."""
    if code in _SERVER_FAULTS:
        err: CairnError = StoreError(message)
    elif code in _BAD_REQUESTS:
        err = InvalidParameter(message)
    else:
        return error_from_code(code, message)
    err.error_code = code
    return err


def error_from_response(response: httpx.Response, url: str) -> CairnError:
    """The error an unsuccessful answer stands for."""
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("error_code"):
        code = str(body["error_code"])
        if code.isdigit():  # some servers send the HTTP status as the code
            code = STATUS_CODES.get(int(code), "INTERNAL_ERROR")
        return from_code(code, str(body.get("message") or code))
    status = response.status_code
    if 300 <= status < 400:
        return InvalidTrackingUri(_describe(response, url))
    return from_code(STATUS_CODES.get(status, "INTERNAL_ERROR"), _describe(response, url))


def _describe(response: httpx.Response, url: str) -> str:
    status = response.status_code
    message = f"API request to {url} failed with HTTP status {status} != 200"
    if 300 <= status < 400:
        location = response.headers.get("location", "?")
        return f"{message}: the server redirects to {location}; use that address as the URI"
    if status == 404:
        return f"{message}: no such endpoint. Is this a cairn or MLflow tracking server?"
    text = response.text.strip().replace("\n", " ")
    return f"{message}: {text[:200]}" if text else message


def refine(
    err: CairnError,
    *,
    run_id: str | None = None,
    experiment_id: str | None = None,
    search: bool = False,
) -> CairnError:
    """``err`` as the narrowest class the request's subject allows (else ``err`` itself).

    Args:
        run_id: the run the request was about, if any.
        experiment_id: the experiment the request was about, if any.
        search: whether the request was a search (filters and ``order_by`` clauses).
    """
    code, message = err.error_code, err.message
    lower = message.lower()
    if code == "RESOURCE_DOES_NOT_EXIST" and "tag" not in lower:
        if run_id is not None and "run" in lower and "experiment" not in lower:
            return RunNotFound(run_id, message)
        if "experiment" in lower:
            return ExperimentNotFound(message, experiment_id=experiment_id)
    if code == "INVALID_PARAMETER_VALUE" and type(err) is InvalidParameter:
        if "changing param values is not allowed" in lower:
            key = _PARAM_KEY.search(message)
            return ParamValueChanged(message, run_id=run_id, key=key.group(1) if key else None)
        if search and not _NOT_THE_FILTER.search(message):
            position = _POSITION.search(message)
            return InvalidFilter(message, position=int(position.group(1)) if position else None)
    return err
