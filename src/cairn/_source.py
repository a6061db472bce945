"""Where a run comes from: the script, its kind, and the git commit it ran at.

The commit is read from ``.git`` directly (HEAD, loose refs, packed-refs, worktree ``gitdir``
files) rather than by running ``git``, so starting a run costs no subprocess.

>>> source_type()
'LOCAL'
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def source_name() -> str:
    """The running script's absolute path (or ``<console>`` / the notebook kernel's name)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path:
        return str(Path(path).absolute())
    if sys.argv and sys.argv[0] and sys.argv[0] not in ("-c", "-"):
        return str(Path(sys.argv[0]).absolute())
    return "<console>"


def source_type() -> str:
    """``NOTEBOOK`` inside a Jupyter/IPython kernel, ``LOCAL`` otherwise."""
    return "NOTEBOOK" if "ipykernel" in sys.modules else "LOCAL"


def source_tags() -> dict[str, str]:
    """Who runs what: the ``mlflow.user``, ``mlflow.source.name`` and ``mlflow.source.type``
    tags a run (and a dataset built in code) records."""
    from cairn.client import _current_user

    return {
        "mlflow.user": _current_user(),
        "mlflow.source.name": source_name(),
        "mlflow.source.type": source_type(),
    }


def _git_dir(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / ".git"
        if candidate.is_dir():
            return candidate
        if candidate.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = candidate.read_text(errors="replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text[len("gitdir:") :].strip())
                return target if target.is_absolute() else (folder / target).resolve()
    return None


def _read_ref(git_dir: Path, ref: str) -> str | None:
    # A worktree keeps HEAD locally but refs in the common dir.
    common = git_dir
    commondir = git_dir / "commondir"
    if commondir.is_file():
        common = (git_dir / commondir.read_text().strip()).resolve()
    for base in (git_dir, common):
        loose = base / ref
        if loose.is_file():
            return loose.read_text().strip() or None
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(errors="replace").splitlines():
            if line and not line.startswith(("#", "^")):
                sha, _, name = line.partition(" ")
                if name == ref:
                    return sha
    return None


def git_info(start: str | os.PathLike[str] | None = None) -> tuple[str, str | None] | None:
    """(commit sha, branch or None) of the git work tree holding ``start`` (default: the
    script's folder, else the current directory); None outside a work tree."""
    try:
        if start is None:
            name = source_name()
            start = Path(name).parent if name != "<console>" else Path.cwd()
        git_dir = _git_dir(Path(start).absolute())
        if git_dir is None:
            return None
        head = (git_dir / "HEAD").read_text().strip()
        if head.startswith("ref:"):
            ref = head[len("ref:") :].strip()
            sha = _read_ref(git_dir, ref)
            branch = ref.removeprefix("refs/heads/")
            return (sha, branch) if sha else None
        return (head, None) if len(head) >= 40 else None
    except OSError:
        return None
