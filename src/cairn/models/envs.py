"""``--env-manager virtualenv``: run a model in a virtual environment built from its
requirements, cached and reused.

An environment is keyed by the model's requirements, the Python version and the cairn being
installed; it lives in ``$CAIRN_ENV_ROOT`` (default ``~/.cache/cairn/envs``) under
``<sha256 prefix>/``. Building it: ``python -m venv``, ``pip install -r requirements.txt``
(without ``cairn``/``mlflow`` lines: the tool installs itself), then cairn itself, from the
folder it was installed from in editable/local installs, else ``cairn==<version>``. A marker
file written last says the build finished; a half-built environment is rebuilt. A file lock
keeps two processes from building the same one at once.

    >>> key = env_key(["numpy==2.0.0"], "3.11.7", "cairn==0.1.0")
    >>> key == env_key(["numpy==2.0.0"], "3.11.7", "cairn==0.1.0"), len(key)
    (True, 64)
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from cairn._version import __version__
from cairn.errors import CairnError
from cairn.models.env import TOOL_PACKAGES, read_python_version, read_requirements, requirement_name

__all__ = ["EnvBuildError", "cairn_install_spec", "ensure_env", "env_key", "env_root"]

log = logging.getLogger("cairn.models")

_READY = ".cairn-env-ready"


class EnvBuildError(CairnError):
    """Building the model's virtual environment failed; the message holds pip's output."""

    error_code = "INVALID_STATE"


def env_root() -> Path:
    """Where environments are cached: ``$CAIRN_ENV_ROOT`` or ``~/.cache/cairn/envs``."""
    configured = os.environ.get("CAIRN_ENV_ROOT")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "cairn" / "envs"


def env_key(requirements: Sequence[str], python: str, cairn_spec: str) -> str:
    """A stable hash of what goes into an environment."""
    text = json.dumps([sorted(requirements), python, cairn_spec])
    return hashlib.sha256(text.encode()).hexdigest()


def cairn_install_spec() -> str:
    """What ``pip install`` gets cairn from: its source folder for local installs."""
    try:
        dist = importlib.metadata.distribution("cairn")
        direct = dist.read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        direct = None
    if direct:
        info = json.loads(direct)
        url = str(info.get("url", ""))
        if url.startswith("file://"):
            from cairn.artifacts.uri import local_path_from_uri

            local = local_path_from_uri(url)
            if local:
                return local
    return f"cairn=={__version__}"


def _python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_env(model_dir: Path) -> Path:
    """The Python interpreter of the environment for the model in ``model_dir``, built if
    needed.

    Raises EnvBuildError when ``venv`` or ``pip`` fails (the message ends with pip's output).
    """
    wanted = read_python_version(model_dir)
    current = platform.python_version()
    if wanted and wanted.split(".")[:2] != current.split(".")[:2]:
        log.warning(
            "The model was saved with Python %s; building its environment with Python %s, the "
            "only one cairn can use here",
            wanted,
            current,
        )
    requirements = [
        r for r in read_requirements(model_dir) if requirement_name(r) not in TOOL_PACKAGES
    ]
    spec = cairn_install_spec()
    venv = env_root() / env_key(requirements, current, spec)[:24]
    python = _python_of(venv)
    if (venv / _READY).is_file() and python.exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with _lock(venv.with_suffix(".lock")):
        if (venv / _READY).is_file() and python.exists():
            return python  # built by another process while we waited
        shutil.rmtree(venv, ignore_errors=True)
        log.info("Building the model environment in %s", venv)
        _run([sys.executable, "-m", "venv", str(venv)], "create the virtual environment")
        if requirements:
            req_file = venv / "model-requirements.txt"
            req_file.write_text("\n".join(requirements) + "\n", encoding="utf-8")
            _run(
                [str(python), "-m", "pip", "install", "--quiet", "-r", str(req_file)],
                "install the model's requirements",
            )
        _run([str(python), "-m", "pip", "install", "--quiet", spec], f"install cairn ({spec})")
        (venv / _READY).write_text(json.dumps({"requirements": requirements, "cairn": spec}))
    return python


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise EnvBuildError(f"Could not {what} (exit code {done.returncode}):\n{tail}")


class _lock:
    """An exclusive advisory lock on ``path`` (a no-op where fcntl is missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: int | None = None

    def __enter__(self) -> _lock:
        try:
            import fcntl
        except ImportError:  # Windows: builds of the same env may race; rare and harmless
            return self
        self.handle = os.open(self.path, os.O_CREAT | os.O_RDWR)
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            os.close(self.handle)  # closing releases the flock
