"""Test support: forget the stores (and their writers) a test opened through the registry."""

from __future__ import annotations

import contextlib
from collections.abc import Set


def close_stores_opened_since(before: Set[str]) -> None:
    """Close and unregister every registry store whose URI is not in ``before``."""
    from cairn.store import registry

    for uri in set(registry._stores) - before:
        store = registry._stores.pop(uri)
        writer = registry._writers.pop(id(store), None)
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close(timeout=10)
        store.close()
