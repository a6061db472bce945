"""cairn: track, compare, package and promote machine-learning experiments.

MLflow's API, so ``import cairn as mlflow`` runs MLflow code unchanged::

    import cairn

    cairn.set_experiment("iris")
    with cairn.start_run():
        cairn.log_param("max_depth", 4)
        cairn.log_metric("accuracy", 0.95)

Importing cairn is cheap: names resolve to their modules on first use, so nothing heavy
(SQLAlchemy, pandas, numpy, httpx) loads until it is needed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cairn._version import __version__

if TYPE_CHECKING:
    from cairn import (
        entities,
        errors,
        exceptions,
        lightgbm,
        models,
        pyfunc,
        pytorch,
        sklearn,
        tracking,
        xgboost,
    )
    from cairn._fluent import (
        ActiveRun,
        active_run,
        create_experiment,
        delete_experiment,
        delete_run,
        delete_tag,
        end_run,
        flush,
        get_artifact_uri,
        get_experiment,
        get_experiment_by_name,
        get_run,
        get_tracking_uri,
        last_active_run,
        log_artifact,
        log_artifacts,
        log_dict,
        log_figure,
        log_image,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        log_table,
        log_text,
        search_experiments,
        search_runs,
        set_experiment,
        set_experiment_tag,
        set_experiment_tags,
        set_tag,
        set_tags,
        set_tracking_uri,
        start_run,
    )
    from cairn.client import Client, MlflowClient
    from cairn.errors import CairnError
    from cairn.models.fluent import get_logged_model, last_logged_model, search_logged_models

    flush_async_logging = flush

__all__ = [
    "ActiveRun",
    "CairnError",
    "Client",
    "MlflowClient",
    "__version__",
    "active_run",
    "create_experiment",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "end_run",
    "entities",
    "errors",
    "exceptions",
    "flush",
    "flush_async_logging",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_logged_model",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "last_logged_model",
    "lightgbm",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "models",
    "pyfunc",
    "pytorch",
    "search_experiments",
    "search_logged_models",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "sklearn",
    "start_run",
    "tracking",
    "xgboost",
]

_SUBMODULES = {
    "entities",
    "errors",
    "exceptions",
    "lightgbm",
    "models",
    "pyfunc",
    "pytorch",
    "sklearn",
    "tracking",
    "xgboost",
}
_ELSEWHERE = {
    "Client": ("cairn.client", "Client"),
    "MlflowClient": ("cairn.client", "Client"),
    "CairnError": ("cairn.errors", "CairnError"),
    "flush_async_logging": ("cairn._fluent", "flush"),
    "get_logged_model": ("cairn.models.fluent", "get_logged_model"),
    "last_logged_model": ("cairn.models.fluent", "last_logged_model"),
    "search_logged_models": ("cairn.models.fluent", "search_logged_models"),
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"cairn.{name}")
    module_name, attribute = _ELSEWHERE.get(name, ("cairn._fluent", name))
    if name not in __all__:
        raise AttributeError(f"module 'cairn' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
