"""``import cairn`` stays light: nothing heavy loads until it is used."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pandas", "numpy", "sqlalchemy", "httpx", "alembic", "yaml", "rich", "fsspec", "click")


def test_import_cairn_loads_no_heavy_dependency() -> None:
    code = f"import sys, cairn; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_public_name_resolves() -> None:
    import cairn

    for name in cairn.__all__:
        assert getattr(cairn, name) is not None, name
    assert cairn.MlflowClient is cairn.Client
    assert issubclass(cairn.exceptions.MlflowException, cairn.CairnError)
