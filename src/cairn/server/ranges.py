"""HTTP byte ranges for artifact downloads: resuming a large download, or reading the start of
a huge log, without sending the whole file.

One range per request is served (``bytes=first-last``, ``bytes=first-``, ``bytes=-suffix``),
as a ``206 Partial Content``. As RFC 9110 allows, a header that asks for several ranges, or
that cannot be parsed, is ignored and the whole file is sent; a range that starts past the end
is ``416 Range Not Satisfiable``.
"""

from __future__ import annotations

import re

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeNotSatisfiable(Exception):
    """The range starts at or after the end of the file, whose ``size`` it carries."""

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The byte range ``header`` asks of a file of ``size`` bytes, as (first, last), both
    included; None for the whole file.

    >>> byte_range("bytes=0-99", 1000)
    (0, 99)
    >>> byte_range("bytes=900-", 1000)
    (900, 999)
    >>> byte_range("bytes=-100", 1000)
    (900, 999)
    >>> byte_range("bytes=0-5000", 1000)
    (0, 999)
    >>> byte_range("bytes=0-1,5-6", 1000) is None  # several ranges: the whole file
    True
    >>> byte_range("bytes=1000-", 1000)
    Traceback (most recent call last):
    ...
    cairn.server.ranges.RangeNotSatisfiable: bytes=1000- starts at or after the end (1000 bytes)
    """
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text:
        if not last_text:
            return None
        suffix = int(last_text)
        if suffix == 0:
            raise RangeNotSatisfiable(f"{header} asks for no bytes", size)
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:  # not a valid range at all: ignored
        return None
    if first >= size:
        raise RangeNotSatisfiable(f"{header} starts at or after the end ({size} bytes)", size)
    return first, min(last, size - 1)
