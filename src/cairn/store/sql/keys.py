"""Interning of metric, param and tag keys to integer ids.

Ids are cached per store for the life of the process: a key's id never changes and keys are
never deleted, so the cache cannot go stale. Only ids from *committed* transactions enter the
cache (:meth:`KeyCache.commit`), because SQLite may hand a rolled-back id to another key.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from sqlalchemy import Connection, bindparam, select, text

from cairn.store.sql.schema import keys

_CHUNK = 900  # stays below SQLite's historic limit of 999 bound variables
_INSERT = text("INSERT INTO keys (name) VALUES (:name) ON CONFLICT (name) DO NOTHING")
_SELECT_BY_NAME = select(keys.c.name, keys.c.id).where(
    keys.c.name.in_(bindparam("names", expanding=True))
)
_SELECT_BY_ID = select(keys.c.id, keys.c.name).where(
    keys.c.id.in_(bindparam("ids", expanding=True))
)


class KeyCache:
    """Maps key names to ids and back, creating ids on demand inside a write transaction."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self._lock = threading.Lock()

    def ids_for_write(
        self, conn: Connection, names: Iterable[str], fresh: dict[str, int]
    ) -> dict[str, int]:
        """Ids for ``names``, inserting unknown keys. New ids are added to ``fresh``; pass it
        to :meth:`commit` once the transaction has committed."""
        cached = self._ids
        result: dict[str, int] = {}
        missing: list[str] = []
        for name in names:
            key_id = cached.get(name)
            if key_id is None:
                missing.append(name)
            else:
                result[name] = key_id
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            conn.execute(_INSERT, [{"name": n} for n in chunk])
            for name, key_id in conn.execute(_SELECT_BY_NAME, {"names": chunk}):
                result[name] = key_id
                fresh[name] = key_id
        return result

    def ids_for_read(self, conn: Connection, names: Iterable[str]) -> dict[str, int]:
        """Ids of the ``names`` that exist; unknown names are left out."""
        result: dict[str, int] = {}
        missing: list[str] = []
        for name in names:
            key_id = self._ids.get(name)
            if key_id is None:
                missing.append(name)
            else:
                result[name] = key_id
        found: dict[str, int] = {}
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            found.update(
                (name, key_id) for name, key_id in conn.execute(_SELECT_BY_NAME, {"names": chunk})
            )
        self.commit(found)
        result.update(found)
        return result

    def names(self, conn: Connection, ids: Iterable[int]) -> dict[int, str]:
        """Names for key ids (all of which exist)."""
        result: dict[int, str] = {}
        missing: list[int] = []
        for key_id in ids:
            name = self._names.get(key_id)
            if name is None:
                missing.append(key_id)
            else:
                result[key_id] = name
        found: dict[str, int] = {}
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            for key_id, name in conn.execute(_SELECT_BY_ID, {"ids": chunk}):
                result[key_id] = name
                found[name] = key_id
        self.commit(found)
        return result

    def commit(self, fresh: dict[str, int]) -> None:
        """Remember ids that are now committed."""
        if not fresh:
            return
        with self._lock:
            self._ids.update(fresh)
            self._names.update((key_id, name) for name, key_id in fresh.items())

    def clear(self) -> None:
        with self._lock:
            self._ids.clear()
            self._names.clear()
