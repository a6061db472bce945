"""Every error cairn raises, in one tree.

::

    CairnError                      error_code            HTTP
    ├── InvalidParameter            INVALID_PARAMETER_VALUE 400
    │   ├── InvalidFilter           (a search filter or order_by that does not parse)
    │   ├── InvalidArtifactPath     (a path that could leave the run's artifact root)
    │   ├── InvalidTrackingUri      (an unknown or malformed tracking URI)
    │   └── ParamValueChanged       (a param logged again with another value)
    ├── ResourceAlreadyExists       RESOURCE_ALREADY_EXISTS 400
    ├── ResourceNotFound            RESOURCE_DOES_NOT_EXIST 404
    │   ├── ExperimentNotFound
    │   ├── RunNotFound
    │   └── ArtifactNotFound
    ├── InvalidState                INVALID_STATE           400
    ├── EndpointNotFound            ENDPOINT_NOT_FOUND      404
    ├── Unauthenticated             UNAUTHENTICATED         401
    ├── PermissionDenied            PERMISSION_DENIED       403
    ├── StoreError                  INTERNAL_ERROR          500
    │   ├── SchemaOutdated          (database needs ``cairn db upgrade``)
    │   └── SchemaTooNew            (database written by a newer cairn)
    ├── TrackingServerUnavailable   TEMPORARILY_UNAVAILABLE 503
    └── AsyncLoggingError           (a background write failed; raised at the next call)

``error_code`` values are MLflow's, so a REST client can rebuild the same class from a
response body and MLflow code that inspects ``error_code`` keeps working.
:data:`HTTP_STATUS` is the one table from codes to HTTP statuses.

Example::

    >>> try:
    ...     raise RunNotFound("abc")
    ... except CairnError as err:
    ...     (err.error_code, err.run_id)
    ('RESOURCE_DOES_NOT_EXIST', 'abc')
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "HTTP_STATUS",
    "ArtifactNotFound",
    "AsyncLoggingError",
    "CairnError",
    "EndpointNotFound",
    "ExperimentNotFound",
    "InvalidArtifactPath",
    "InvalidFilter",
    "InvalidParameter",
    "InvalidState",
    "InvalidTrackingUri",
    "ParamValueChanged",
    "PermissionDenied",
    "ResourceAlreadyExists",
    "ResourceNotFound",
    "RunNotFound",
    "SchemaOutdated",
    "SchemaTooNew",
    "StoreError",
    "TrackingServerUnavailable",
    "Unauthenticated",
    "error_from_code",
]

#: HTTP status for each error code; any code not listed maps to 500.
HTTP_STATUS: dict[str, int] = {
    "INVALID_PARAMETER_VALUE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "BAD_REQUEST": 400,
    "INVALID_STATE": 400,
    "MALFORMED_REQUEST": 400,
    "UNAUTHENTICATED": 401,
    "CUSTOMER_UNAUTHORIZED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "RESOURCE_CONFLICT": 409,
    "ABORTED": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL_ERROR": 500,
    "DATA_LOSS": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


class CairnError(Exception):
    """Root of every cairn error.

    Attributes:
        message: what went wrong and, where possible, how to fix it.
        error_code: MLflow's error code for this kind of failure.
    """

    error_code: str = "INTERNAL_ERROR"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        for name, value in details.items():
            setattr(self, name, value)

    @property
    def http_status(self) -> int:
        """The HTTP status a server answers with for this error."""
        return HTTP_STATUS.get(self.error_code, 500)

    def to_json(self) -> dict[str, str]:
        """The protocol's error body: ``{"error_code": ..., "message": ...}``."""
        return {"error_code": self.error_code, "message": self.message}


class InvalidParameter(CairnError):
    """An argument or request field has a value cairn cannot accept."""

    error_code = "INVALID_PARAMETER_VALUE"


class InvalidFilter(InvalidParameter):
    """A search filter or ``order_by`` clause that does not parse.

    Attributes:
        position: 0-based offset of the offending token in the filter string, if known.
        token: the offending token, if known.
    """

    position: int | None
    token: str | None

    def __init__(self, message: str, *, position: int | None = None, token: str | None = None):
        super().__init__(message, position=position, token=token)


class InvalidArtifactPath(InvalidParameter):
    """An artifact path that is absolute, contains ``..`` or could otherwise escape its root."""


class InvalidTrackingUri(InvalidParameter):
    """A tracking URI whose scheme cairn does not know, or that is malformed."""


class ParamValueChanged(InvalidParameter):
    """A param was logged again with a different value; params are immutable."""


class ResourceAlreadyExists(CairnError):
    """Creating something whose name is taken (an experiment, a registered model, ...)."""

    error_code = "RESOURCE_ALREADY_EXISTS"


class ResourceNotFound(CairnError):
    """The named resource does not exist."""

    error_code = "RESOURCE_DOES_NOT_EXIST"


class ExperimentNotFound(ResourceNotFound):
    """No experiment with this id or name. Attribute: ``experiment_id`` or ``name``."""


class RunNotFound(ResourceNotFound):
    """No run with this id. Attribute: ``run_id``."""

    run_id: str

    def __init__(self, run_id: str, message: str | None = None) -> None:
        super().__init__(message or f"Run with id={run_id!r} not found", run_id=run_id)


class ArtifactNotFound(ResourceNotFound):
    """No artifact at this path. Attribute: ``path``."""


class InvalidState(CairnError):
    """The operation does not apply in the resource's current state (e.g. a deleted run)."""

    error_code = "INVALID_STATE"


class EndpointNotFound(CairnError):
    """A REST endpoint that does not exist."""

    error_code = "ENDPOINT_NOT_FOUND"


class Unauthenticated(CairnError):
    """The request carries no valid credentials."""

    error_code = "UNAUTHENTICATED"


class PermissionDenied(CairnError):
    """The credentials are valid but do not allow this operation."""

    error_code = "PERMISSION_DENIED"


class StoreError(CairnError):
    """The backing store failed in a way the caller cannot fix by changing arguments."""


class SchemaOutdated(StoreError):
    """The database was created by an older cairn; run ``cairn db upgrade``."""

    error_code = "INVALID_STATE"


class SchemaTooNew(StoreError):
    """The database was written by a newer cairn than this one; upgrade cairn."""

    error_code = "INVALID_STATE"


class TrackingServerUnavailable(CairnError):
    """The tracking server did not answer after bounded retries."""

    error_code = "TEMPORARILY_UNAVAILABLE"


class AsyncLoggingError(CairnError):
    """A background write failed. ``__cause__`` holds the original error.

    Raised at the next logging call, at :func:`cairn.flush` or at ``end_run``, so that a failure
    in the background writer is never silent.
    """


_BY_CODE: dict[str, type[CairnError]] = {
    "INVALID_PARAMETER_VALUE": InvalidParameter,
    "RESOURCE_ALREADY_EXISTS": ResourceAlreadyExists,
    "RESOURCE_DOES_NOT_EXIST": ResourceNotFound,
    "INVALID_STATE": InvalidState,
    "ENDPOINT_NOT_FOUND": EndpointNotFound,
    "UNAUTHENTICATED": Unauthenticated,
    "PERMISSION_DENIED": PermissionDenied,
    "TEMPORARILY_UNAVAILABLE": TrackingServerUnavailable,
}


def error_from_code(error_code: str, message: str) -> CairnError:
    """Rebuild the error class for a protocol ``error_code`` (used by the REST client).

    >>> type(error_from_code("RESOURCE_DOES_NOT_EXIST", "gone")).__name__
    'ResourceNotFound'
    """
    cls = _BY_CODE.get(error_code)
    if cls is None:
        err = CairnError(message)
        err.error_code = error_code
        return err
    return cls(message)
