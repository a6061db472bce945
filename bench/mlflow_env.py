"""The MLflow virtualenv the benchmark compares against: ``bench/.venv-mlflow``.

MLflow is never a dependency of cairn. The benchmark keeps it in a virtualenv of its own,
created with ``python3 -m venv`` and pip on first use, and reused afterwards. A marker file
written after a successful install records the pinned version, so an interrupted install or
a change of pin is redone on the next run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
VENV_DIR = BENCH_DIR / ".venv-mlflow"
MLFLOW_VERSION = "3.17.2"
#: What the MLflow side installs. MLflow brings SQLAlchemy, alembic and pandas itself.
REQUIREMENTS = (f"mlflow=={MLFLOW_VERSION}",)
_MARKER = ".cairn-bench-installed"


def venv_python(venv_dir: Path = VENV_DIR) -> Path:
    """The interpreter inside ``venv_dir``."""
    if os.name == "nt":
        return venv_dir / "Scripts" / "python.exe"
    return venv_dir / "bin" / "python"


def _wanted_marker() -> str:
    return "\n".join(REQUIREMENTS) + "\n"


def is_ready(venv_dir: Path = VENV_DIR) -> bool:
    """Whether ``venv_dir`` holds a finished install of :data:`REQUIREMENTS`."""
    marker = venv_dir / _MARKER
    return (
        venv_python(venv_dir).exists()
        and marker.exists()
        and marker.read_text(encoding="utf-8") == _wanted_marker()
    )


def _base_python() -> str:
    """A ``python3`` to create the venv with: the one on PATH, else this interpreter."""
    return shutil.which("python3") or sys.executable


def ensure_mlflow_venv(venv_dir: Path = VENV_DIR, *, quiet: bool = False) -> Path:
    """Create ``venv_dir`` with MLflow installed unless it is already there; return its python.

    Raises ``subprocess.CalledProcessError`` if venv creation or pip fails.
    """
    python = venv_python(venv_dir)
    if is_ready(venv_dir):
        return python
    if not python.exists():
        print(f"[bench] creating {venv_dir} ...", file=sys.stderr, flush=True)
        subprocess.run([_base_python(), "-m", "venv", str(venv_dir)], check=True)
    print(
        f"[bench] installing {' '.join(REQUIREMENTS)} into {venv_dir} (first run only) ...",
        file=sys.stderr,
        flush=True,
    )
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    if quiet:
        pip.append("--quiet")
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, *REQUIREMENTS], check=True)
    (venv_dir / _MARKER).write_text(_wanted_marker(), encoding="utf-8")
    return python


def installed_version(python: Path | str, distribution: str) -> str:
    """The version of ``distribution`` installed for ``python`` (without importing it)."""
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    out = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True)
    return out.stdout.strip()


if __name__ == "__main__":
    print(ensure_mlflow_venv())
