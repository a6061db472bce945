"""A model's environment: the pip requirements it needs, with the versions installed now.

Each flavor names the packages its model needs (``scikit-learn``, ``skops``, ``numpy``...);
:func:`pinned_requirements` pins them to the installed versions. The model directory then
gets the three files MLflow writes, in MLflow's layout:

* ``requirements.txt``: one requirement per line;
* ``python_env.yaml``: the Python version, build tools and ``-r requirements.txt``;
* ``conda.yaml``: the same for conda users.

cairn itself is never listed: it may not be installable from the package index where the model
is served, and ``cairn models serve --env-manager virtualenv`` installs it into the
environment it builds anyway. ``mlflow`` lines in MLflow's models are skipped for the same
reason.

    >>> reqs = process_requirements(["numpy==2.0.0"], None, ["requests"])
    >>> reqs
    ['numpy==2.0.0', 'requests']
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cairn.errors import InvalidParameter

__all__ = [
    "CONDA_FILE",
    "PYTHON_ENV_FILE",
    "REQUIREMENTS_FILE",
    "package_version",
    "pinned_requirements",
    "process_requirements",
    "read_python_version",
    "read_requirements",
    "write_env_files",
]

REQUIREMENTS_FILE = "requirements.txt"
PYTHON_ENV_FILE = "python_env.yaml"
CONDA_FILE = "conda.yaml"
#: Requirements the environment manager provides itself, never installed from the model's list.
TOOL_PACKAGES = frozenset({"cairn", "mlflow", "mlflow-skinny"})
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def package_version(distribution: str) -> str | None:
    """The installed version of ``distribution`` without a local label (``2.13.0+cpu`` ->
    ``2.13.0``, so the pin installs from the index), or None when not installed."""
    try:
        version = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    return version.split("+", 1)[0]


def pinned_requirements(distributions: Iterable[str]) -> list[str]:
    """``name==version`` for each installed distribution; missing ones are left out."""
    pins = []
    for name in distributions:
        version = package_version(name)
        if version is not None:
            pins.append(f"{name}=={version}")
    return pins


def process_requirements(
    defaults: Sequence[str],
    pip_requirements: Sequence[str] | str | os.PathLike[str] | None,
    extra_pip_requirements: Sequence[str] | str | os.PathLike[str] | None,
) -> list[str]:
    """The model's requirements: ``pip_requirements`` replaces the defaults,
    ``extra_pip_requirements`` adds to them; each may be a list or a requirements file path.

    Raises InvalidParameter when both are given (as MLflow does).
    """
    if pip_requirements is not None and extra_pip_requirements is not None:
        raise InvalidParameter(
            "Pass either pip_requirements (replacing the inferred requirements) or "
            "extra_pip_requirements (adding to them), not both"
        )
    if pip_requirements is not None:
        return _dedupe(_as_list(pip_requirements))
    return _dedupe([*defaults, *_as_list(extra_pip_requirements)])


def _as_list(value: Sequence[str] | str | os.PathLike[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str | os.PathLike):
        path = Path(value)
        if not path.is_file():
            raise InvalidParameter(f"Requirements file {str(path)!r} does not exist")
        return _parse_lines(path.read_text(encoding="utf-8"))
    if not all(isinstance(item, str) for item in value):
        raise InvalidParameter("Requirements must be strings such as 'numpy>=1.26'")
    return [item.strip() for item in value if item.strip()]


def _parse_lines(text: str) -> list[str]:
    lines = (line.split(" #", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def requirement_name(requirement: str) -> str | None:
    """The distribution a requirement line names, normalized (``Scikit_Learn>=1`` ->
    ``scikit-learn``); None for options such as ``-r file``."""
    match = _NAME.match(requirement)
    if not match or requirement.lstrip().startswith("-"):
        return None
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def write_env_files(model_dir: Path, requirements: Sequence[str]) -> None:
    """Write ``requirements.txt``, ``python_env.yaml`` and ``conda.yaml`` into ``model_dir``."""
    import yaml

    (model_dir / REQUIREMENTS_FILE).write_text("\n".join(requirements), encoding="utf-8")
    python = platform.python_version()
    build = [*pinned_requirements(["pip", "setuptools"]), "wheel"]
    python_env = {
        "python": python,
        "build_dependencies": build,
        "dependencies": [f"-r {REQUIREMENTS_FILE}"],
    }
    (model_dir / PYTHON_ENV_FILE).write_text(
        yaml.safe_dump(python_env, default_flow_style=False, sort_keys=False), encoding="utf-8"
    )
    pip_version = package_version("pip")
    conda: dict[str, Any] = {
        "channels": ["conda-forge"],
        "dependencies": [
            f"python={python}",
            f"pip<={pip_version}" if pip_version else "pip",
            {"pip": list(requirements)},
        ],
        "name": "mlflow-env",
    }
    (model_dir / CONDA_FILE).write_text(
        yaml.safe_dump(conda, default_flow_style=False), encoding="utf-8"
    )


def read_requirements(model_dir: Path) -> list[str]:
    """The requirement lines of ``requirements.txt`` (empty if the file is missing)."""
    path = model_dir / REQUIREMENTS_FILE
    if not path.is_file():
        return []
    return _parse_lines(path.read_text(encoding="utf-8"))


def read_python_version(model_dir: Path) -> str | None:
    """The Python version ``python_env.yaml`` records, or None."""
    import yaml

    path = model_dir / PYTHON_ENV_FILE
    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    version = data.get("python") if isinstance(data, dict) else None
    return str(version) if version else None
