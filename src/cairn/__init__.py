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
        data,
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
        delete_experiment_tag,
        delete_run,
        delete_tag,
        end_run,
        flush,
        flush_artifact_async_logging,
        get_artifact_uri,
        get_experiment,
        get_experiment_by_name,
        get_parent_run,
        get_run,
        get_tracking_uri,
        is_tracking_uri_set,
        last_active_run,
        load_table,
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
        restore_experiment,
        restore_run,
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
    from cairn._fluent_inputs import log_input, log_inputs
    from cairn.client import Client, MlflowClient
    from cairn.errors import CairnError
    from cairn.models.active import (
        ActiveModel,
        clear_active_model,
        get_active_model_id,
        set_active_model,
    )
    from cairn.models.fluent import (
        create_external_model,
        delete_logged_model_tag,
        finalize_logged_model,
        get_logged_model,
        initialize_logged_model,
        last_logged_model,
        log_model_params,
        log_outputs,
        search_logged_models,
        set_logged_model_tags,
    )

    flush_async_logging = flush

__all__ = [
    "ActiveModel",
    "ActiveRun",
    "CairnError",
    "Client",
    "MlflowClient",
    "__version__",
    "active_run",
    "clear_active_model",
    "create_experiment",
    "create_external_model",
    "data",
    "delete_experiment",
    "delete_experiment_tag",
    "delete_logged_model_tag",
    "delete_run",
    "delete_tag",
    "end_run",
    "entities",
    "errors",
    "exceptions",
    "finalize_logged_model",
    "flush",
    "flush_artifact_async_logging",
    "flush_async_logging",
    "get_active_model_id",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_logged_model",
    "get_parent_run",
    "get_run",
    "get_tracking_uri",
    "initialize_logged_model",
    "is_tracking_uri_set",
    "last_active_run",
    "last_logged_model",
    "lightgbm",
    "load_table",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_inputs",
    "log_metric",
    "log_metrics",
    "log_model_params",
    "log_outputs",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "models",
    "pyfunc",
    "pytorch",
    "restore_experiment",
    "restore_run",
    "search_experiments",
    "search_logged_models",
    "search_runs",
    "set_active_model",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_logged_model_tags",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "sklearn",
    "start_run",
    "tracking",
    "xgboost",
]

_SUBMODULES = {
    "data",
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
    "log_input": ("cairn._fluent_inputs", "log_input"),
    "log_inputs": ("cairn._fluent_inputs", "log_inputs"),
    "ActiveModel": ("cairn.models.active", "ActiveModel"),
    "clear_active_model": ("cairn.models.active", "clear_active_model"),
    "get_active_model_id": ("cairn._model_links", "get_active_model_id"),
    "set_active_model": ("cairn.models.active", "set_active_model"),
    "get_logged_model": ("cairn.models.fluent", "get_logged_model"),
    "last_logged_model": ("cairn.models.fluent", "last_logged_model"),
    "search_logged_models": ("cairn.models.fluent", "search_logged_models"),
    **{
        name: ("cairn.models.fluent", name)
        for name in (
            "create_external_model",
            "delete_logged_model_tag",
            "finalize_logged_model",
            "initialize_logged_model",
            "log_model_params",
            "log_outputs",
            "set_logged_model_tags",
        )
    },
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
