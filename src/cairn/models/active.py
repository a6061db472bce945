"""The active model (MLflow 3's ``set_active_model``): the logged model that metric points
logged without a ``model_id`` belong to, in this thread or asyncio task.

    >>> import cairn
    >>> cairn.set_active_model(name="support-agent")                # doctest: +SKIP
    >>> with cairn.start_run():                                      # doctest: +SKIP
    ...     cairn.log_metric("helpfulness", 0.8)   # linked to support-agent

As a context manager, the model is active inside the ``with`` block only::

    with cairn.set_active_model(model_id=model.model_id):
        cairn.log_metric("latency_ms", 41.0)
"""

from __future__ import annotations

import dataclasses
import logging
from types import TracebackType

from cairn import _model_links
from cairn.entities import LoggedModel
from cairn.errors import InvalidParameter

__all__ = ["ActiveModel", "clear_active_model", "get_active_model_id", "set_active_model"]

_log = logging.getLogger("cairn")

get_active_model_id = _model_links.get_active_model_id


class ActiveModel(LoggedModel):
    """The :class:`~cairn.entities.LoggedModel` :func:`set_active_model` made active; leaving
    its ``with`` block makes the previously active model (or none) active again."""

    __slots__ = ("_previous",)

    _previous: _model_links.Saved

    def __enter__(self) -> ActiveModel:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _model_links.restore_active_model_id(self._previous)


def set_active_model(*, name: str | None = None, model_id: str | None = None) -> ActiveModel:
    """Make a logged model active in this thread or task and return it.

    ``model_id`` picks an existing model (``name``, if also given, must be its name). ``name``
    alone picks the newest model of that name in the current experiment, and creates an
    external model (:func:`cairn.create_external_model`) when there is none.

    Raises InvalidParameter without either argument or for a name that does not match;
    ResourceNotFound for an unknown ``model_id``.
    """
    model = _find_or_create(name, model_id)
    previous = _model_links.set_active_model_id(model.model_id)
    fields = {f.name: getattr(model, f.name) for f in dataclasses.fields(LoggedModel)}
    active = ActiveModel(**fields)
    object.__setattr__(active, "_previous", previous)
    _log.info("Active model: %s (%s)", model.name, model.model_id)
    return active


def _find_or_create(name: str | None, model_id: str | None) -> LoggedModel:
    from cairn.models import fluent

    if model_id is not None:
        model = fluent.get_logged_model(model_id)
        if name is not None and model.name != name:
            raise InvalidParameter(f"Logged model {model_id} is named {model.name!r}, not {name!r}")
        return model
    if name is None:
        raise InvalidParameter("set_active_model takes name or model_id")
    found = fluent.search_logged_models(
        filter_string=f"name = '{name}'", max_results=2, output_format="list"
    )
    assert isinstance(found, list)
    if len(found) > 1:
        _log.warning("Several logged models are named %r; the newest is now active", name)
    if found:
        return found[0]
    _log.info("No logged model is named %r; creating an external one", name)
    return fluent.create_external_model(name=name)


def clear_active_model() -> None:
    """No model is active any more in this thread or task, nor (through the environment
    variables, which are removed) in threads and child processes started from now on."""
    _model_links.clear_active_model_id()
