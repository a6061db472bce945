"""The examples in cairn's docstrings are run, so that they stay true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import cairn

#: Modules that cannot be imported on their own: the CLI entry point runs the CLI, and
#: Alembic's env script needs Alembic's migration context.
NOT_IMPORTABLE = {"cairn.__main__", "cairn.cli.__main__", "cairn.store.sql.migrations.env"}
MODULES = sorted(
    m.name for m in pkgutil.walk_packages(cairn.__path__, "cairn.") if m.name not in NOT_IMPORTABLE
)


def test_the_walk_finds_the_modules_with_examples() -> None:
    assert {"cairn.server.ranges", "cairn.cli.gc", "cairn.store.registry"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    results = doctest.testmod(module, optionflags=flags, report=False)
    assert results.failed == 0, f"{results.failed} docstring example(s) of {name} failed"
