"""Packing metric history into column blocks, and reading it back.

A block holds one batch of one series as three packed little-endian arrays: steps (int64),
timestamps (int64, epoch ms) and values (float64, NaN and +-inf kept as themselves). Packing
and unpacking go through :mod:`array`, so they run at memory speed without numpy.

>>> steps, stamps, values = unpack(*pack([0, 1], [10, 20], [0.5, float("nan")]))
>>> list(steps), list(stamps), values[0]
([0, 1], [10, 20], 0.5)
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence

_SWAP = sys.byteorder != "little"  # blocks are little-endian on every machine


def _to_bytes(packed: array[int] | array[float]) -> bytes:
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


def _from_bytes(typecode: str, blob: bytes) -> array:  # type: ignore[type-arg]
    packed = array(typecode)
    packed.frombytes(blob)
    if _SWAP:
        packed.byteswap()
    return packed


def pack(
    steps: Sequence[int], timestamps: Sequence[int], values: Sequence[float]
) -> tuple[bytes, bytes, bytes]:
    """The three column blobs of one block."""
    return (
        _to_bytes(array("q", steps)),
        _to_bytes(array("q", timestamps)),
        _to_bytes(array("d", values)),
    )


def unpack(
    steps: bytes, timestamps: bytes, values: bytes
) -> tuple[array[int], array[int], array[float]]:
    """The columns of one block, as arrays (indexable like lists, a fraction of the memory)."""
    return _from_bytes("q", steps), _from_bytes("q", timestamps), _from_bytes("d", values)
