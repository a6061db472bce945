"""Rules for keys, values, names, ids and paths, shared by client, stores and server.

The limits are MLflow's server limits, so anything cairn accepts an MLflow server accepts too.
One difference: over-long param and tag values are an error here, never silently truncated.

Every function raises :class:`~cairn.errors.InvalidParameter` (or a subclass) with a message that
names the offending value and the rule it broke.

    >>> validate_metric_key("val/loss")
    'val/loss'
    >>> validate_metric_key("a//b")
    Traceback (most recent call last):
    ...
    cairn.errors.InvalidParameter: Invalid metric key 'a//b': ...
"""

from __future__ import annotations

import math
import posixpath
import re
import sys
import urllib.parse
from typing import Any

from cairn.errors import InvalidArtifactPath, InvalidParameter

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_RUN_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_TAG_VALUE_LENGTH = 20000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_RUN_NAME_LENGTH = 250
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
MAX_BATCH_ITEMS = 1000
MAX_SEARCH_RESULTS = 50000

_KEY_RE = re.compile(r"[/\w.\- :]*")
_RUN_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
_EXPERIMENT_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,63}$")
_WINDOWS_DRIVE_RE = re.compile(r"^[a-zA-Z]:")

# Keys already checked in this process. Logging calls repeat the same few keys millions of
# times, so checking each distinct key once keeps validation off the hot path.
_valid_keys: set[str] = set()

_KEY_RULES = (
    "keys may contain letters, digits, '_', '-', '.', ' ', '/' and ':', must be at most "
    f"{MAX_KEY_LENGTH} characters, and must be a normalized relative path "
    "(no empty, '.' or '..' segments, no leading or trailing '/')"
)


def _check_key(key: object, kind: str) -> str:
    if type(key) is not str:
        raise InvalidParameter(f"Invalid {kind} key {key!r}: keys must be strings")
    if (
        len(key) > MAX_KEY_LENGTH
        or not _KEY_RE.fullmatch(key)
        or posixpath.normpath(key) != key
        or key == "."
        or key.startswith(("..", "/"))
    ):
        raise InvalidParameter(f"Invalid {kind} key {key!r}: {_KEY_RULES}")
    _valid_keys.add(key)
    return key


def validate_metric_key(key: str) -> str:
    """Return ``key`` if it is a valid metric key, else raise InvalidParameter."""
    if key in _valid_keys:
        return key
    return _check_key(key, "metric")


def validate_param_key(key: str) -> str:
    if key in _valid_keys:
        return key
    return _check_key(key, "param")


def validate_tag_key(key: str) -> str:
    if key in _valid_keys:
        return key
    return _check_key(key, "tag")


#: The largest int float() converts without OverflowError (below it, it may round).
_FLOAT_MAX_INT = int(sys.float_info.max)


def validate_metric_value(key: str, value: Any) -> float:
    """Return ``value`` as a float. NaN and +-inf are valid; bools and strings are not.

    Accepts Python and NumPy numbers and 0-d arrays or tensors that have ``.item()``.
    """
    kind = type(value)
    if kind is float:
        return value  # type: ignore[no-any-return]
    if kind is int and -_FLOAT_MAX_INT <= value <= _FLOAT_MAX_INT:
        return float(value)
    if kind is not bool and hasattr(value, "item") and getattr(value, "size", 1) == 1:
        value = value.item()
        kind = type(value)
    if kind is bool or not isinstance(value, (int, float)):
        import numbers

        if kind is bool or not isinstance(value, numbers.Real):
            raise InvalidParameter(
                f"Invalid value {value!r} for metric {key!r}: metric values must be numbers "
                f"(got {kind.__name__})"
            )
    try:
        return float(value)
    except OverflowError:
        raise InvalidParameter(
            f"Invalid value {value!r} for metric {key!r}: it is too large for a 64-bit float"
        ) from None


def validate_timestamp(key: str, timestamp: Any, *, metric: bool = True) -> int:
    """Return ``timestamp`` (epoch milliseconds) as an int; it must be a non-negative 64-bit
    integer. ``key`` names the metric, or with ``metric=False`` the field (``end_time``).

    >>> validate_timestamp("loss", 2**63)
    Traceback (most recent call last):
    ...
    cairn.errors.InvalidParameter: Invalid timestamp 9223372036854775808 for metric 'loss': ...
    """
    if type(timestamp) is int and 0 <= timestamp <= INT64_MAX:
        return timestamp
    if (
        isinstance(timestamp, bool)
        or not _is_integral(timestamp)
        or not 0 <= int(timestamp) <= INT64_MAX
    ):
        subject = f"{key} {timestamp!r}"
        if metric:
            subject = f"timestamp {timestamp!r} for metric {key!r}"
        raise InvalidParameter(
            f"Invalid {subject}: timestamps must be non-negative 64-bit integers (milliseconds "
            "since the epoch)"
        )
    return int(timestamp)


def validate_step(key: str, step: Any) -> int:
    """Return ``step`` as an int; it must be a 64-bit integer (what databases store)."""
    if type(step) is int and INT64_MIN <= step <= INT64_MAX:
        return step
    if isinstance(step, bool) or not _is_integral(step) or not INT64_MIN <= int(step) <= INT64_MAX:
        raise InvalidParameter(
            f"Invalid step {step!r} for metric {key!r}: steps must be 64-bit integers"
        )
    return int(step)


def _is_integral(value: Any) -> bool:
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return math.isfinite(value) and value.is_integer()
    import numbers

    return isinstance(value, numbers.Integral)


def param_value_to_str(key: str, value: Any) -> str:
    """Params are stored as text, as MLflow does: ``str(value)``, checked for length."""
    text = value if type(value) is str else str(value)
    _no_nul(text, f"param {key!r}")
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise InvalidParameter(
            f"Param {key!r} has a value of {len(text)} characters; the limit is "
            f"{MAX_PARAM_VALUE_LENGTH}. Log long values as an artifact (cairn.log_text)."
        )
    return text


def tag_value_to_str(key: str, value: Any, limit: int = MAX_RUN_TAG_VALUE_LENGTH) -> str:
    text = value if type(value) is str else str(value)
    _no_nul(text, f"tag {key!r}")
    if len(text) > limit:
        raise InvalidParameter(
            f"Tag {key!r} has a value of {len(text)} characters; the limit is {limit}. "
            "Log long values as an artifact (cairn.log_text)."
        )
    return text


def _no_nul(text: str, what: str) -> None:
    # PostgreSQL cannot store NUL in text; refusing it everywhere keeps the backends alike.
    if "\x00" in text:
        raise InvalidParameter(f"The value of {what} contains a NUL character; it cannot be stored")


def validate_experiment_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameter(f"Invalid experiment name {name!r}: it must be a non-empty string")
    _no_nul(name, "the experiment name")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidParameter(
            f"Experiment name of {len(name)} characters is too long; the limit is "
            f"{MAX_EXPERIMENT_NAME_LENGTH}"
        )
    return name


def validate_run_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InvalidParameter(f"Invalid run name {name!r}: it must be a string")
    _no_nul(name, "the run name")
    if len(name) > MAX_RUN_NAME_LENGTH:
        raise InvalidParameter(
            f"Run name of {len(name)} characters is too long; the limit is {MAX_RUN_NAME_LENGTH}"
        )
    return name


def validate_run_id(run_id: Any) -> str:
    if not isinstance(run_id, str) or not _RUN_ID_RE.match(run_id):
        raise InvalidParameter(
            f"Invalid run id {run_id!r}: run ids are 1-256 letters, digits, '_' or '-', "
            "starting with a letter or digit"
        )
    return run_id


def validate_experiment_id(experiment_id: Any) -> str:
    """Experiment ids are strings of digits here (``"0"`` is Default); ints are accepted."""
    if isinstance(experiment_id, int) and not isinstance(experiment_id, bool):
        experiment_id = str(experiment_id)
    if not isinstance(experiment_id, str) or not _EXPERIMENT_ID_RE.match(experiment_id):
        raise InvalidParameter(
            f"Invalid experiment id {experiment_id!r}: experiment ids are strings such as '0'"
        )
    return experiment_id


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def int64_or_none(value: Any) -> int | None:
    """``value`` as an int if it is an integer (or its decimal text) within the int64 range
    that databases store; None otherwise.

    >>> int64_or_none("42"), int64_or_none("9" * 30), int64_or_none("x")
    (42, None, None)
    """
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if INT64_MIN <= number <= INT64_MAX else None


def validate_max_results(max_results: Any, limit: int = MAX_SEARCH_RESULTS) -> int:
    if isinstance(max_results, bool) or not isinstance(max_results, int):
        raise InvalidParameter(f"Invalid max_results {max_results!r}: it must be an integer")
    if not 1 <= max_results <= limit:
        raise InvalidParameter(
            f"Invalid max_results {max_results}: it must be between 1 and {limit}"
        )
    return max_results


MAX_ARTIFACT_LOCATION_LENGTH = 2048


def validate_artifact_location(location: str) -> str:
    """Check an experiment's artifact location as the protocol limits it: a URI or path of at
    most 2048 characters, not a ``runs:`` URI, without a fragment (``#``) or URL params.

    >>> validate_artifact_location("s3://bucket/experiments")
    's3://bucket/experiments'
    >>> validate_artifact_location("s3://bucket/x#part")
    Traceback (most recent call last):
    ...
    cairn.errors.InvalidParameter: Invalid artifact location 's3://bucket/x#part': ...
    """
    problem = None
    if len(location) > MAX_ARTIFACT_LOCATION_LENGTH:
        problem = f"it is longer than {MAX_ARTIFACT_LOCATION_LENGTH} characters"
    elif location.startswith("runs:"):
        problem = "runs:/ URIs are not allowed"
    else:
        parsed = urllib.parse.urlparse(location)
        if parsed.fragment or parsed.params:
            problem = "a URL cannot hold a fragment ('#...') or params (';...')"
    if problem:
        raise InvalidParameter(f"Invalid artifact location {location!r}: {problem}")
    return location


def validate_artifact_path(path: str | None, *, decode: bool = False) -> str:
    """Normalize an artifact path relative to a run's root, or raise InvalidArtifactPath.

    Returns ``""`` for the root. With ``decode=True`` (paths from URLs) percent-encoding is
    undone repeatedly first, so ``%2e%2e`` cannot smuggle in a ``..`` segment.

    >>> validate_artifact_path("plots/./loss.png")
    'plots/loss.png'
    >>> validate_artifact_path("../secret")
    Traceback (most recent call last):
    ...
    cairn.errors.InvalidArtifactPath: Invalid artifact path '../secret': ...
    """
    if path is None:
        return ""
    if not isinstance(path, str):
        raise InvalidArtifactPath(f"Invalid artifact path {path!r}: it must be a string")
    original = path
    if decode:
        for _ in range(10):
            decoded = urllib.parse.unquote(path)
            if decoded == path:
                break
            path = decoded
        else:
            raise InvalidArtifactPath(f"Invalid artifact path {original!r}: encoded too deeply")
    problem = None
    if "\x00" in path:
        problem = "it contains a NUL character"
    elif "\\" in path:
        problem = "use '/' as the separator, not '\\'"
    elif path.startswith("/") or _WINDOWS_DRIVE_RE.match(path):
        problem = "it must be relative, not absolute"
    elif ".." in path.split("/"):
        problem = "it must not contain '..' segments"
    elif decode and "#" in path:
        problem = "it must not contain '#'"
    if problem:
        raise InvalidArtifactPath(
            f"Invalid artifact path {original!r}: {problem}; paths are relative to the "
            "run's artifact root and cannot leave it",
            path=original,
        )
    normalized = posixpath.normpath(path) if path else ""
    return "" if normalized == "." else normalized
