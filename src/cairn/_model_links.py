"""Which logged model a new metric point belongs to, decided without a store round trip.

Two sources, as in MLflow 3:

* the **active model** (:func:`cairn.set_active_model`), kept per thread and asyncio task in a
  ``ContextVar`` like the active run. Before anything sets it, it comes from the environment
  (``CAIRN_ACTIVE_MODEL_ID``, ``MLFLOW_ACTIVE_MODEL_ID``, then MLflow's legacy
  ``_MLFLOW_ACTIVE_MODEL_ID``), read once per process;
* the models a run **produced at a step** (``run.outputs``): a point logged at that step
  without a model is linked to them. This process remembers the outputs it recorded itself
  or read when resuming a run; outputs another process records meanwhile are not seen.

This module is imported by ``cairn.log_metric``'s hot path, so it uses the standard library
only and its lookups are a ``ContextVar.get`` and a dict access.

    >>> _reset()
    >>> get_active_model_id() is None
    True
    >>> previous = set_active_model_id("m-0123")
    >>> get_active_model_id()
    'm-0123'
    >>> restore_active_model_id(previous)
    >>> note_outputs("run-1", [("m-0123", 2)])
    >>> models_at_step("run-1", 2), models_at_step("run-1", 3)
    (('m-0123',), ())
    >>> _reset()
"""

from __future__ import annotations

import contextvars
import enum
import os
from collections.abc import Iterable

__all__ = [
    "ENV_NAMES",
    "clear_active_model_id",
    "get_active_model_id",
    "models_at_step",
    "note_outputs",
    "restore_active_model_id",
    "set_active_model_id",
]

#: Environment variables naming the active model, first match wins.
ENV_NAMES = ("CAIRN_ACTIVE_MODEL_ID", "MLFLOW_ACTIVE_MODEL_ID", "_MLFLOW_ACTIVE_MODEL_ID")


class _Unset(enum.Enum):
    """Marks "nothing chosen here yet" (distinct from None, "no active model")."""

    UNSET = 0


UNSET = _Unset.UNSET
#: What a caller may restore with :func:`restore_active_model_id`.
Saved = str | None | _Unset

_active: contextvars.ContextVar[Saved] = contextvars.ContextVar("cairn_active_model", default=UNSET)
# The environment's choice, read on first need: reading os.environ on every log_metric call
# would double its cost.
_from_env: Saved = UNSET
#: run id -> step -> ids of the models the run produced at that step.
outputs_by_run: dict[str, dict[int, tuple[str, ...]]] = {}


def get_active_model_id() -> str | None:
    """The active model's id in this thread or task, else the environment's, else None."""
    global _from_env
    value = _active.get()
    if value is not UNSET:
        return value
    if _from_env is UNSET:
        _from_env = next((os.environ[n] for n in ENV_NAMES if os.environ.get(n)), None)
    return _from_env


def set_active_model_id(model_id: str | None) -> Saved:
    """Make ``model_id`` active in this thread or task; return what to restore later."""
    previous = _active.get()
    _active.set(model_id)
    return previous


def restore_active_model_id(previous: Saved) -> None:
    _active.set(previous)


def clear_active_model_id() -> None:
    """No active model here, and none inherited from the environment by later threads or
    child processes (MLflow unsets the variables too)."""
    global _from_env
    for name in ENV_NAMES:
        os.environ.pop(name, None)
    _from_env = None
    _active.set(None)


def note_outputs(run_id: str, outputs: Iterable[tuple[str, int]]) -> None:
    """Remember that ``run_id`` produced these ``(model_id, step)`` outputs."""
    steps = outputs_by_run.setdefault(run_id, {})
    for model_id, step in outputs:
        known = steps.get(step, ())
        if model_id not in known:
            steps[step] = (*known, model_id)


def models_at_step(run_id: str, step: int) -> tuple[str, ...]:
    """Ids of the models ``run_id`` produced at ``step`` (as far as this process knows)."""
    steps = outputs_by_run.get(run_id)
    return () if steps is None else steps.get(step, ())


def _reset() -> None:
    """Forget everything (tests)."""
    global _from_env
    _from_env = UNSET
    _active.set(UNSET)
    outputs_by_run.clear()
